/**
 * End-to-end for the local cluster's stand-ins (test/e2e/toolchain/standins): the REAL charts from
 * the Helm repository (../shared/reference/charts) installed with the toolchain's helm and --wait.
 *
 *  - Linkerd stable-2.14.10 (linkerd-crds 1.8.0, linkerd-control-plane 1.16.11): the chart's own
 *    webhook configuration sends pod creations to the proxy-injector stand-in (through the
 *    cluster-network stand-in): a Deployment in a namespace annotated linkerd.io/inject=enabled gets
 *    the linkerd-proxy container of 2.14.10; a pod that says disabled, a hostNetwork pod, a namespace
 *    without the annotation and kube-system (the chart's namespaceSelector: the API server does not
 *    even call the webhook) are not injected;
 *  - the same after switching to edge-26.8.3 (linkerd-crds and linkerd-control-plane 2026.8.3):
 *    proxy.nativeSidecar defaults to true there, so the proxy is a native sidecar;
 *  - Traefik 40.2.0: helm --wait finishes because the servicelb stand-in gives its LoadBalancer
 *    Service an address.
 *
 * One cluster for all, started without Gateway API CRDs (linkerd-crds 1.8.0 installs its own
 * HTTPRoute; against the cluster-owned ones of `up --gateway-api-crds` its install fails on
 * ownership). Each step's duration is printed on stderr ([e2e standins] timings); measured on the
 * 2-core machine (load average ~2.5): cluster up 9.4 s, linkerd-crds 1.8.0 2.7 s,
 * linkerd-control-plane 1.16.11 --wait 2.9 s, 2.14 workloads created and checked 1.7 s, both
 * uninstalls 3.1 s, linkerd-crds 2026.8.3 2.8 s, linkerd-control-plane 2026.8.3 --wait 1.4 s, 26.8
 * workloads 1.4 s, traefik 40.2.0 --wait 3.5 s; the whole file 50 s, ~17 s of it `cluster down`
 * (kube-apiserver does not exit within 15 s of SIGTERM and is killed).
 *
 * `npm run toolchain` first (helm included); run with `npm run test:e2e -- test/e2e/standins.e2e.ts`.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

import { apply, binDir, checkToolchain, Cluster, externalCluster, kubectl, kubectlJson, repoRoot, run, sh, startCluster } from "./support/env";

checkToolchain();

const CHARTS = process.env.PICLUSTER_E2E_REFERENCE_CHARTS || path.resolve(repoRoot, "..", "shared", "reference", "charts");
const chart = (name: string, version: string): string => path.join(CHARTS, `${name}-${version}.tgz`);

let work: string;
let cluster: Cluster;
let identity: { ca: string; crt: string; key: string };
const timings: Record<string, number> = {};

/** Runs fn and records its duration (s) under `name`. */
async function timed<T>(name: string, fn: () => Promise<T> | T): Promise<T> {
    const t0 = Date.now();
    try {
        return await fn();
    } finally {
        timings[name] = Math.round((Date.now() - t0) / 100) / 10;
    }
}

async function helm(args: string[], timeoutMs = 300_000): Promise<string> {
    const env = {
        ...process.env,
        KUBECONFIG: cluster.kubeconfig,
        HELM_KUBECONTEXT: cluster.context,
        HELM_CACHE_HOME: path.join(work, "helm", "cache"),
        HELM_CONFIG_HOME: path.join(work, "helm", "config"),
        HELM_DATA_HOME: path.join(work, "helm", "data"),
    };
    const res = await run(path.join(binDir, "helm"), args, { env, timeoutMs });
    if (res.code !== 0) throw new Error(`helm ${args.join(" ")} failed (exit ${res.code}):\n${res.stdout}\n${res.stderr}`);
    return res.stdout;
}

/** The ECDSA P-256 trust anchor and issuer (CN identity.linkerd.cluster.local) the control-plane chart needs. */
function makeIdentity(dir: string): { ca: string; crt: string; key: string } {
    fs.mkdirSync(dir, { recursive: true });
    const ossl = (...args: string[]): string => sh("openssl", args, { cwd: dir });
    const ext = (name: string): string => {
        fs.writeFileSync(path.join(dir, name), "basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n");
        return name;
    };
    ossl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "ca.sec1");
    ossl("pkcs8", "-topk8", "-nocrypt", "-in", "ca.sec1", "-out", "ca.key");
    ossl(
        "req",
        "-x509",
        "-new",
        "-key",
        "ca.key",
        "-subj",
        "/CN=root.linkerd.cluster.local",
        "-days",
        "3",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
        "-out",
        "ca.crt",
    );
    ossl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "issuer.sec1");
    ossl("pkcs8", "-topk8", "-nocrypt", "-in", "issuer.sec1", "-out", "issuer.key");
    ossl("req", "-new", "-key", "issuer.key", "-subj", "/CN=identity.linkerd.cluster.local", "-out", "issuer.csr");
    ossl(
        "x509",
        "-req",
        "-in",
        "issuer.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "3",
        "-extfile",
        ext("issuer.ext"),
        "-out",
        "issuer.crt",
    );
    return { ca: path.join(dir, "ca.crt"), crt: path.join(dir, "issuer.crt"), key: path.join(dir, "issuer.key") };
}

async function installLinkerd(crdsVersion: string, controlPlaneVersion: string, label: string): Promise<void> {
    await timed(`${label}: linkerd-crds ${crdsVersion}`, () =>
        helm(["install", "linkerd-crds", chart("linkerd-crds", crdsVersion), "-n", "linkerd", "--create-namespace", "--wait", "--timeout", "3m"]),
    );
    await timed(`${label}: linkerd-control-plane ${controlPlaneVersion} --wait`, () =>
        helm([
            "install",
            "linkerd-control-plane",
            chart("linkerd-control-plane", controlPlaneVersion),
            "-n",
            "linkerd",
            "--set-file",
            `identityTrustAnchorsPEM=${identity.ca}`,
            "--set-file",
            `identity.issuer.tls.crtPEM=${identity.crt}`,
            "--set-file",
            `identity.issuer.tls.keyPEM=${identity.key}`,
            "--wait",
            "--timeout",
            "4m",
        ]),
    );
}

const PAUSE = "registry.k8s.io/pause:3.10";

/** A namespace (annotated or not), a one-replica Deployment `web`, a pod that opts out and a hostNetwork pod. */
function workloads(namespace: string, inject: boolean): void {
    apply(cluster, [
        {
            apiVersion: "v1",
            kind: "Namespace",
            metadata: { name: namespace, ...(inject ? { annotations: { "linkerd.io/inject": "enabled" } } : {}) },
        },
    ]);
    apply(cluster, [
        {
            apiVersion: "apps/v1",
            kind: "Deployment",
            metadata: { name: "web", namespace },
            spec: {
                replicas: 1,
                selector: { matchLabels: { app: "web" } },
                template: {
                    metadata: { labels: { app: "web" } },
                    spec: { containers: [{ name: "web", image: PAUSE, ports: [{ containerPort: 8080 }] }] },
                },
            },
        },
        {
            apiVersion: "v1",
            kind: "Pod",
            metadata: { name: "opted-out", namespace, annotations: { "linkerd.io/inject": "disabled" } },
            spec: { containers: [{ name: "app", image: PAUSE }] },
        },
        {
            apiVersion: "v1",
            kind: "Pod",
            metadata: { name: "host-network", namespace },
            spec: { hostNetwork: true, containers: [{ name: "app", image: PAUSE }] },
        },
    ]);
    kubectl(cluster, ["-n", namespace, "rollout", "status", "deployment/web", "--timeout=90s"]);
}

interface PodView {
    containers: string[];
    initContainers: string[];
    proxyImage?: string;
    proxyRestartPolicy?: string;
    proxyVersion?: string;
}

function podView(namespace: string, selector: string[]): PodView {
    const list = kubectlJson(cluster, ["-n", namespace, "get", "pods", ...selector]);
    const pods: any[] = list.items ?? [list];
    expect(pods.length).toBe(1);
    const p = pods[0];
    const all = [...(p.spec.initContainers ?? []), ...p.spec.containers];
    const proxy = all.find((c: any) => c.name === "linkerd-proxy");
    return {
        containers: p.spec.containers.map((c: any) => c.name),
        initContainers: (p.spec.initContainers ?? []).map((c: any) => c.name),
        proxyImage: proxy?.image,
        proxyRestartPolicy: proxy?.restartPolicy,
        proxyVersion: p.metadata.annotations?.["linkerd.io/proxy-version"],
    };
}

/** The stand-ins' log (local cluster only): what reached the proxy-injector stand-in. */
function injectorLog(): string {
    const file = path.join(path.dirname(cluster.kubeconfig), "cluster-network.log");
    return fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "";
}

/** Not injected, and (on a namespace the webhook sees) what the real injector adds then: nothing but annotations. */
function expectNotInjected(v: PodView, containers: string[]): void {
    expect(v).toMatchObject({ containers, initContainers: [], proxyImage: undefined, proxyVersion: undefined });
}

beforeAll(
    async () => {
        const t0 = Date.now();
        work = fs.mkdtempSync(path.join(os.tmpdir(), "picluster-e2e-standins-"));
        if (!fs.existsSync(path.join(binDir, "helm"))) throw new Error(`${binDir}/helm is missing: run \`npm run toolchain\` first`);
        cluster = await timed("cluster up", () => startCluster(work, { gatewayApiCrds: false }));
        identity = makeIdentity(path.join(work, "identity"));
        timings.setup = Math.round((Date.now() - t0) / 100) / 10;
    },
    5 * 60 * 1000,
);

afterAll(
    async () => {
        await cluster?.stop();
        if (work && !process.env.PICLUSTER_E2E_KEEP) fs.rmSync(work, { recursive: true, force: true });
        process.stderr.write(`[e2e standins] timings (s): ${JSON.stringify(timings)}\n`);
    },
    3 * 60 * 1000,
);

describe("stand-ins with the real charts", () => {
    test("no Gateway API CRDs unless the cluster is started with them", () => {
        const crds = kubectl(cluster, ["get", "crd", "-o", "name"]);
        if (!externalCluster) expect(crds).not.toMatch(/gateway\.networking\.k8s\.io/);
    });

    test("stable-2.14.10: the chart's webhook drives the proxy-injector stand-in", async () => {
        await installLinkerd("1.8.0", "1.16.11", "2.14");
        await timed("2.14: workloads", () => {
            workloads("mesh-stable", true);
            workloads("plain-stable", false);
            apply(cluster, [
                {
                    apiVersion: "v1",
                    kind: "Pod",
                    metadata: { name: "asks-for-proxy", namespace: "kube-system", annotations: { "linkerd.io/inject": "enabled" } },
                    spec: { containers: [{ name: "app", image: PAUSE }] },
                },
            ]);
        });
        const web = podView("mesh-stable", ["-l", "app=web"]);
        expect(web).toMatchObject({
            containers: ["linkerd-proxy", "web"],
            initContainers: ["linkerd-init"],
            proxyImage: "cr.l5d.io/linkerd/proxy:stable-2.14.10",
            proxyVersion: "stable-2.14.10",
        });
        expectNotInjected(podView("mesh-stable", ["opted-out"]), ["app"]);
        expectNotInjected(podView("mesh-stable", ["host-network"]), ["app"]);
        expectNotInjected(podView("plain-stable", ["-l", "app=web"]), ["web"]);
        expectNotInjected(podView("kube-system", ["asks-for-proxy"]), ["app"]);
        if (!externalCluster) {
            const log = injectorLog();
            expect(log).toMatch(
                /Pod mesh-stable\/web-[^:]*: injected \(linkerd\.io\/inject=enabled on the namespace; proxy cr\.l5d\.io\/linkerd\/proxy:stable-2\.14\.10\)/,
            );
            expect(log).toMatch(/Pod mesh-stable\/opted-out: no patch \(injection_disable_annotation_present\)/);
            expect(log).toMatch(/Pod mesh-stable\/host-network: no patch \(host_network_enabled\)/);
            // The chart's namespaceSelector keeps kube-system away from the webhook: the API server never calls it.
            expect(log).not.toMatch(/kube-system\/asks-for-proxy/);
        }
    });

    test("edge-26.8.3 after an uninstall: the proxy as a native sidecar", async () => {
        await timed("uninstall 2.14", async () => {
            await helm(["uninstall", "linkerd-control-plane", "-n", "linkerd", "--wait", "--timeout", "2m"]);
            // CRD deletion took over 2 min once with two clusters on a loaded 2-core machine: give it room.
            await helm(["uninstall", "linkerd-crds", "-n", "linkerd", "--wait", "--timeout", "5m"]);
        });
        await installLinkerd("2026.8.3", "2026.8.3", "26.8");
        await timed("26.8: workloads", () => workloads("mesh-edge", true));
        const web = podView("mesh-edge", ["-l", "app=web"]);
        expect(web).toMatchObject({
            containers: ["web"],
            initContainers: ["linkerd-init", "linkerd-proxy"],
            proxyImage: "cr.l5d.io/linkerd/proxy:edge-26.8.3",
            proxyRestartPolicy: "Always",
            proxyVersion: "edge-26.8.3",
        });
        expectNotInjected(podView("mesh-edge", ["opted-out"]), ["app"]);
        expectNotInjected(podView("mesh-edge", ["host-network"]), ["app"]);
        // The pods injected by 2.14 keep their proxy (the injector only acts on creation).
        expect(podView("mesh-stable", ["-l", "app=web"]).proxyVersion).toBe("stable-2.14.10");
    });

    test("traefik 40.2.0 with helm --wait: its LoadBalancer Service gets an address from the servicelb stand-in", async () => {
        await timed("traefik 40.2.0 --wait", () =>
            helm(["install", "traefik", chart("traefik", "40.2.0"), "-n", "traefik", "--create-namespace", "--wait", "--timeout", "3m"]),
        );
        const svc = kubectlJson(cluster, ["-n", "traefik", "get", "service", "traefik"]);
        expect(svc.spec.type).toBe("LoadBalancer");
        expect(svc.status.loadBalancer.ingress?.length).toBeGreaterThan(0);
        if (!externalCluster) expect(svc.status.loadBalancer.ingress).toEqual([{ ip: "127.0.0.1", ipMode: "VIP" }]);
    });
});
