/**
 * One API client for the reads of `npm run check`: `kubectl proxy` (the stack's kubectl, kubeconfig and
 * context, so every way kubectl authenticates works: client certificates, tokens, exec plugins) on a
 * unix socket in a private temporary directory (mode 0700: no other local user reaches the cluster
 * through it, as a loopback port would allow), and plain HTTP GETs to it from this process, as many
 * at once as the check needs. One process for the whole check instead of one per read: a kubectl
 * process costs ~0.1 s to start, and the check makes about twenty reads.
 */
import { ChildProcessWithoutNullStreams, spawn } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";

/** An answer of the API server (or of the proxy, when it cannot reach it: 502). */
export interface ApiResponse {
    readonly status: number;
    readonly body: string;
}

/** The message of an API error body (a Status object), else the body itself. */
export function apiMessage(r: ApiResponse): string {
    try {
        const status = JSON.parse(r.body) as { message?: unknown };
        if (typeof status.message === "string") return status.message;
    } catch {
        /* not a Status */
    }
    return r.body.trim() || `HTTP ${r.status}`;
}

export class KubeProxy {
    private constructor(
        private readonly child: ChildProcessWithoutNullStreams,
        private readonly dir: string,
        private readonly socketPath: string,
    ) {}

    /**
     * Starts `kubectl proxy` and waits until it serves. Rejects with `spawnError` (kubectl missing) or
     * with kubectl's own message when it exits first (e.g. a broken kubeconfig).
     */
    static start(binary: string, kubeconfig: string, context: string, timeoutMs = 30_000): Promise<KubeProxy> {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "picluster-check-"));
        const socketPath = path.join(dir, "proxy.sock");
        const child = spawn(binary, ["--kubeconfig", kubeconfig, "--context", context, "proxy", `--unix-socket=${socketPath}`], {
            stdio: ["pipe", "pipe", "pipe"],
        });
        return new Promise<KubeProxy>((resolve, reject) => {
            let out = "";
            let err = "";
            const fail = (e: Error) => {
                clearTimeout(timer);
                child.kill();
                fs.rmSync(dir, { recursive: true, force: true });
                reject(e);
            };
            const timer = setTimeout(() => fail(new Error(`kubectl proxy did not start within ${timeoutMs} ms: ${err.trim()}`)), timeoutMs);
            child.on("error", (e) => fail(e));
            child.stderr.on("data", (d: Buffer) => (err += d.toString()));
            child.on("exit", (code) => fail(new Error(err.trim() || `kubectl proxy exited (${code}) before serving`)));
            child.stdout.on("data", (d: Buffer) => {
                out += d.toString();
                if (/Starting to serve/.test(out)) {
                    clearTimeout(timer);
                    child.removeAllListeners("exit");
                    child.removeAllListeners("error");
                    child.on("error", () => undefined);
                    resolve(new KubeProxy(child, dir, socketPath));
                }
            });
        });
    }

    /** GET `apiPath` (e.g. `/api/v1/namespaces`) through the proxy. */
    get(apiPath: string): Promise<ApiResponse> {
        return new Promise((resolve, reject) => {
            const req = http.request(
                { socketPath: this.socketPath, path: apiPath, method: "GET", headers: { accept: "application/json" } },
                (res) => {
                    const chunks: Buffer[] = [];
                    res.on("data", (c: Buffer) => chunks.push(c));
                    res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
                    res.on("error", reject);
                },
            );
            req.on("error", reject);
            req.end();
        });
    }

    stop(): void {
        this.child.kill();
        fs.rmSync(this.dir, { recursive: true, force: true });
    }
}
