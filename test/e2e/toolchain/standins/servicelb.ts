/**
 * STAND-IN for k3s' ServiceLB (klipper-lb), run by `npm run cluster -- up` as the process `servicelb`.
 *
 * What it does: every second it lists the nodes and the Services through the API server and gives
 * every Service of type LoadBalancer (without spec.loadBalancerClass) the node addresses as
 * status.loadBalancer.ingress (ExternalIP, else InternalIP, of each node: the kwok nodes' 127.0.0.1;
 * 127.0.0.1 when no node has one), patching the status subresource only when it differs. That is what
 * k3s shows once its svclb pods run, and what Helm's --wait (and `kubectl rollout`-style checks of
 * LoadBalancer Services) waits for.
 *
 * What it does not do: no svclb-* DaemonSet or pods in kube-system, no host ports, no traffic is
 * forwarded anywhere (nothing listens on the address), no port-conflict handling between Services
 * (k3s leaves a Service pending when no node has its ports free; here every one gets an address),
 * no per-node pools (svccontroller.k3s.cattle.io/* labels), no clearing of a Service that stops being
 * a LoadBalancer (the API server drops its status itself).
 *
 * Robustness: a failed poll (the fault tests stop and start kube-apiserver) is logged once and retried
 * every second. `--readyz-address host:port` answers 200 once a poll has succeeded since the last
 * failure, 503 otherwise.
 *
 *   node -r ts-node/register/transpile-only servicelb.ts --kubeconfig <file> --readyz-address 127.0.0.1:<port>
 */
import * as http from "http";

import { flags, Kube, logger } from "./kube";

const log = logger("servicelb STAND-IN");
const INTERVAL_MS = 1000;

export interface LbService {
    metadata: { namespace: string; name: string };
    spec?: { type?: string; loadBalancerClass?: string };
    status?: { loadBalancer?: { ingress?: { ip?: string; hostname?: string }[] } };
}

/** The addresses ServiceLB would publish: each node's ExternalIP, else its InternalIP; sorted, unique. */
export function nodeAddresses(nodes: { status?: { addresses?: { type: string; address: string }[] } }[]): string[] {
    const ips = new Set<string>();
    for (const n of nodes) {
        const addrs = n.status?.addresses ?? [];
        const ip = addrs.find((a) => a.type === "ExternalIP")?.address ?? addrs.find((a) => a.type === "InternalIP")?.address;
        if (ip) ips.add(ip);
    }
    return ips.size > 0 ? [...ips].sort() : ["127.0.0.1"];
}

/** The status patch a Service needs, or null when it is not ours or already has exactly these addresses. */
export function lbStatusPatch(svc: LbService, ips: string[]): object | null {
    if (svc.spec?.type !== "LoadBalancer" || svc.spec.loadBalancerClass) return null;
    const current = (svc.status?.loadBalancer?.ingress ?? []).map((i) => i.ip ?? i.hostname ?? "").sort();
    if (current.length === ips.length && current.every((ip, i) => ip === ips[i])) return null;
    return { status: { loadBalancer: { ingress: ips.map((ip) => ({ ip, ipMode: "VIP" })) } } };
}

async function main(): Promise<void> {
    const opts = flags(process.argv.slice(2), ["kubeconfig"]);
    const kube = new Kube(opts.kubeconfig);
    let healthy = false;
    let failing: string | null = null;

    if (opts["readyz-address"]) {
        const [host, port] = opts["readyz-address"].split(":");
        http.createServer((_req, res) => {
            res.writeHead(healthy ? 200 : 503, { "Content-Type": "text/plain" });
            res.end(healthy ? "ok\n" : `not ready: ${failing ?? "no successful poll yet"}\n`);
        }).listen(Number(port), host);
    }

    const poll = async (): Promise<void> => {
        const nodes = await kube.get<{ items: any[] }>("/api/v1/nodes");
        const services = await kube.get<{ items: LbService[] }>("/api/v1/services");
        const ips = nodeAddresses(nodes?.items ?? []);
        for (const svc of services?.items ?? []) {
            const patch = lbStatusPatch(svc, ips);
            if (!patch) continue;
            const { namespace, name } = svc.metadata;
            const res = await kube.request("PATCH", `/api/v1/namespaces/${namespace}/services/${name}/status`, patch, "application/merge-patch+json");
            if (res.status === 404) continue; // deleted in between
            if (res.status >= 300) throw new Error(`patching ${namespace}/${name} status: HTTP ${res.status} ${JSON.stringify(res.body)}`);
            log(`Service ${namespace}/${name} (LoadBalancer): status.loadBalancer.ingress = ${ips.join(", ")}`);
        }
    };

    const loop = async (): Promise<void> => {
        try {
            await poll();
            if (failing) log(`API server answers again (was: ${failing})`);
            failing = null;
            healthy = true;
        } catch (err) {
            const msg = (err as Error).message;
            if (failing === null) log(`poll failed: ${msg} (retrying every ${INTERVAL_MS} ms, logged once until it recovers)`);
            failing = msg;
            healthy = false;
        }
        setTimeout(() => void loop(), INTERVAL_MS);
    };
    log(`started: gives LoadBalancer Services the node addresses (polls ${kube.server} every ${INTERVAL_MS} ms)`);
    process.on("SIGTERM", () => {
        log("SIGTERM: exiting");
        process.exit(0);
    });
    await loop();
}

if (require.main === module) {
    main().catch((err) => {
        log(`fatal: ${(err as Error).stack ?? err}`);
        process.exit(1);
    });
}
