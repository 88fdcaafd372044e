/**
 * STAND-IN for the cluster network, as the API server sees it, run by `npm run cluster -- up` as the
 * process `cluster-network`. It hosts the proxy-injector stand-in (proxy-injector.ts).
 *
 * Why: on k3s the API server reaches a webhook Service (Linkerd's proxy injector) through the
 * Service's ClusterIP; here no pod runs and no ClusterIP is routed. kube-apiserver is started with
 * `--egress-selector-config-file` whose `cluster` egress is HTTPConnect over a unix socket to this
 * process: every connection the API server makes "into the cluster" (service-backed webhooks and
 * APIServices, kubelet connections for logs/exec, pod and service proxying) arrives here as
 * `CONNECT <host>:<port>`. (A unix socket, not TCP: k8s.io/apiserver v0.34's HTTPConnect-over-TCP
 * dialer always speaks TLS to the proxy and needs a client certificate; with an http:// URL and no
 * tlsConfig, which validation demands, it dereferences the missing tlsConfig. The UDS transport is
 * plain.)
 *
 * What it does with a CONNECT:
 *  - a loopback target (127.0.0.0/8, ::1, localhost: the kwok nodes' address) is piped over TCP as is;
 *  - a Service ClusterIP (looked up through the API: spec.clusterIPs and spec.ports[].port) whose
 *    Service has a stand-in here is answered `200 Connection established` and the connection is
 *    handed to that stand-in in this process. Today one: the Service `linkerd-proxy-injector` named
 *    by a MutatingWebhookConfiguration's clientConfig.service (the real Linkerd chart's), served by
 *    proxy-injector.ts with the chart's own certificate;
 *  - anything else (another Service: linkerd-sp-validator, linkerd-policy-validator, viz's
 *    tap-injector and tap APIService, jaeger-injector, ...; pod IPs; other addresses) is refused at
 *    once with `503 Service Unavailable` and the connection closed: the API server fails the call
 *    immediately, so a webhook with failurePolicy Ignore is skipped without waiting for its timeout,
 *    and an APIService shows Available=False (FailedDiscoveryCheck). Nothing is ever dialled except
 *    loopback: no traffic leaves the machine.
 *
 * What it does not do: no kube-proxy, no DNS, no pod-to-pod traffic; pods (kwok) never run.
 *
 *   ts-node --transpile-only cluster-network.ts --kubeconfig <file> --socket <dir>/cluster-network.sock
 *
 * `GET /readyz` on the same socket answers 200 (the process is up and listening).
 */
import * as fs from "fs";
import * as http from "http";
import * as net from "net";

import { flags, Kube, logger } from "./kube";
import { ProxyInjectorStandIn } from "./proxy-injector";

const log = logger("cluster-network STAND-IN");

/** A Service this process plays the server of. */
export interface ServiceStandIn {
    readonly description: string;
    /** Whether this Service (found by its ClusterIP) is one this stand-in serves. */
    serves(svc: { metadata: { namespace: string; name: string } }, port: number): Promise<boolean>;
    /** Takes over the client connection (already answered `200 Connection established`). */
    accept(socket: net.Socket, svc: { metadata: { namespace: string; name: string } }): void;
}

export function isLoopback(host: string): boolean {
    return host === "localhost" || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** `host:port` or `[v6]:port` of a CONNECT request line. */
export function parseTarget(target: string): { host: string; port: number } | null {
    const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(target);
    return m ? { host: m[1], port: Number(m[2]) } : null;
}

function refuse(socket: net.Socket, status: string, why: string): void {
    const body = `${why}\n`;
    socket.end(`HTTP/1.1 ${status}\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

function main(): void {
    const opts = flags(process.argv.slice(2), ["kubeconfig", "socket"]);
    const kube = new Kube(opts.kubeconfig);
    const standIns: ServiceStandIn[] = [new ProxyInjectorStandIn(kube)];
    // One line per refused target a minute at most (the aggregator re-checks an unavailable APIService often).
    const lastRefusal = new Map<string, number>();

    const server = http.createServer((req, res) => {
        if (req.url === "/readyz" || req.url === "/healthz") {
            res.writeHead(200, { "Content-Type": "text/plain" });
            res.end("ok\n");
            return;
        }
        res.writeHead(404).end();
    });

    server.on("connect", (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
        socket.on("error", () => undefined);
        const target = parseTarget(req.url ?? "");
        if (!target) {
            refuse(socket, "400 Bad Request", `cannot parse CONNECT target ${req.url}`);
            return;
        }
        void handle(target, socket, head).catch((err) => {
            log(`CONNECT ${req.url}: ${(err as Error).message}`);
            if (!socket.destroyed) refuse(socket, "503 Service Unavailable", `STAND-IN cluster network: ${(err as Error).message}`);
        });
    });

    const handle = async (target: { host: string; port: number }, socket: net.Socket, head: Buffer): Promise<void> => {
        const where = `${target.host}:${target.port}`;
        if (isLoopback(target.host)) {
            const upstream = net.connect(target.port, target.host);
            upstream.on("connect", () => {
                socket.write("HTTP/1.1 200 Connection established\r\n\r\n");
                if (head.length) upstream.write(head);
                upstream.pipe(socket);
                socket.pipe(upstream);
            });
            upstream.on("error", (err) => {
                if (!socket.destroyed && upstream.connecting) refuse(socket, "502 Bad Gateway", `${where}: ${err.message}`);
                else socket.destroy();
            });
            socket.on("close", () => upstream.destroy());
            return;
        }
        const services = await kube.get<{ items: any[] }>("/api/v1/services");
        const svc = (services?.items ?? []).find(
            (s) =>
                (s.spec?.clusterIPs ?? [s.spec?.clusterIP]).includes(target.host) &&
                (s.spec?.ports ?? []).some((p: { port: number }) => p.port === target.port),
        );
        let standIn: ServiceStandIn | undefined;
        if (svc) {
            for (const s of standIns) if (await s.serves(svc, target.port)) standIn = s;
        }
        if (!svc || !standIn) {
            const why = svc
                ? `no stand-in serves Service ${svc.metadata.namespace}/${svc.metadata.name} (${where}): refused at once`
                : `${where} is no Service port and not loopback: refused at once`;
            const now = Date.now();
            if ((lastRefusal.get(where) ?? 0) < now - 60_000) {
                log(`${why} (the API server's call fails now; a webhook with failurePolicy Ignore is skipped)`);
                lastRefusal.set(where, now);
            }
            refuse(socket, "503 Service Unavailable", `STAND-IN cluster network: ${why}`);
            return;
        }
        socket.write("HTTP/1.1 200 Connection established\r\n\r\n");
        if (head.length) socket.unshift(head);
        standIn.accept(socket, svc);
    };

    // A socket file left by a killed earlier run would make listen fail (EADDRINUSE).
    fs.rmSync(opts.socket, { force: true });
    server.listen(opts.socket, () =>
        log(
            `listening on ${opts.socket} (the API server's "cluster" egress, HTTP CONNECT); stand-ins: ${standIns.map((s) => s.description).join("; ")}`,
        ),
    );
    process.on("SIGTERM", () => {
        log("SIGTERM: exiting");
        process.exit(0);
    });
}

if (require.main === module) {
    try {
        main();
    } catch (err) {
        log(`fatal: ${(err as Error).stack ?? String(err)}`);
        process.exit(1);
    }
}
