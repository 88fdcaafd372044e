/**
 * A minimal Kubernetes API client for the local cluster's stand-ins (servicelb.ts,
 * cluster-network.ts): reads the kubeconfig `npm run cluster -- up` writes (one cluster, client
 * certificate), sends JSON requests over one keep-alive HTTPS agent. No watch, no retries: the
 * stand-ins poll, and an error (API server stopped by a fault test) is the caller's to log and
 * retry on its next turn.
 */
import * as fs from "fs";
import * as https from "https";
import * as yaml from "js-yaml";

export interface KubeResponse<T = any> {
    status: number;
    body: T;
}

export class Kube {
    private readonly agent: https.Agent;
    readonly server: string;

    constructor(kubeconfigPath: string) {
        const cfg = yaml.load(fs.readFileSync(kubeconfigPath, "utf8")) as any;
        const ctxName = cfg["current-context"];
        const ctx = (cfg.contexts ?? []).find((c: any) => c.name === ctxName)?.context ?? cfg.contexts?.[0]?.context;
        const cluster = (cfg.clusters ?? []).find((c: any) => c.name === ctx?.cluster)?.cluster;
        const user = (cfg.users ?? []).find((u: any) => u.name === ctx?.user)?.user;
        if (!cluster || !user) throw new Error(`${kubeconfigPath}: no cluster/user for context ${ctxName}`);
        const b64 = (s: string | undefined): Buffer | undefined => (s ? Buffer.from(s, "base64") : undefined);
        this.server = String(cluster.server).replace(/\/$/, "");
        this.agent = new https.Agent({
            keepAlive: true,
            maxSockets: 4,
            ca: b64(cluster["certificate-authority-data"]),
            cert: b64(user["client-certificate-data"]),
            key: b64(user["client-key-data"]),
        });
    }

    /** One request; resolves with any HTTP status (the caller decides), rejects on network errors and timeouts. */
    request<T = any>(method: string, path: string, body?: unknown, contentType = "application/json", timeoutMs = 5000): Promise<KubeResponse<T>> {
        const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
        return new Promise((resolve, reject) => {
            const req = https.request(
                `${this.server}${path}`,
                {
                    method,
                    agent: this.agent,
                    timeout: timeoutMs,
                    headers: {
                        Accept: "application/json",
                        "User-Agent": "picluster-e2e-standin",
                        ...(payload ? { "Content-Type": contentType, "Content-Length": payload.length } : {}),
                    },
                },
                (res) => {
                    const chunks: Buffer[] = [];
                    res.on("data", (d: Buffer) => chunks.push(d));
                    res.on("end", () => {
                        const text = Buffer.concat(chunks).toString("utf8");
                        let parsed: any = text;
                        try {
                            parsed = text ? JSON.parse(text) : undefined;
                        } catch {
                            /* not JSON: keep the text */
                        }
                        resolve({ status: res.statusCode ?? 0, body: parsed as T });
                    });
                    res.on("error", reject);
                },
            );
            req.on("error", reject);
            req.on("timeout", () => req.destroy(new Error(`${method} ${path}: timeout after ${timeoutMs} ms`)));
            req.end(payload);
        });
    }

    /** GET that returns the object, null on 404, and throws on any other non-2xx status. */
    async get<T = any>(path: string): Promise<T | null> {
        const res = await this.request<T>("GET", path);
        if (res.status === 404) return null;
        if (res.status < 200 || res.status >= 300) throw new Error(`GET ${path}: HTTP ${res.status} ${describe(res.body)}`);
        return res.body;
    }
}

function describe(body: any): string {
    return typeof body === "object" && body?.message ? body.message : String(body ?? "").slice(0, 200);
}

/** `[prefix] message` on stderr with a timestamp: the stand-ins' logs are the cluster dir's <process>.log. */
export function logger(prefix: string): (msg: string) => void {
    return (msg) => process.stderr.write(`${new Date().toISOString()} [${prefix}] ${msg}\n`);
}

/** Flag parsing for the stand-ins' tiny command lines: `--name value` pairs. */
export function flags(argv: string[], required: string[]): Record<string, string> {
    const out: Record<string, string> = {};
    for (let i = 0; i < argv.length; i++) {
        const m = /^--([a-z-]+)(?:=(.*))?$/.exec(argv[i]);
        if (!m) throw new Error(`unexpected argument ${argv[i]}`);
        out[m[1]] = m[2] ?? argv[++i];
    }
    for (const r of required) if (!out[r]) throw new Error(`--${r} is required`);
    return out;
}
