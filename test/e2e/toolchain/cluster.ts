/**
 * `npm run cluster -- up|status|down|stop|start` - a local Kubernetes cluster on 127.0.0.1 for the
 * real-engine (e2e) tests: etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok
 * (fake nodes: scheduled pods become Ready, Job pods complete), cert-manager and trust-manager, and
 * two STAND-INS for what a k3s node has and this cluster lacks (./standins, Node 22):
 *   cluster-network  the API server's "cluster" egress (HTTP CONNECT over a unix socket): serves the
 *                    Service linkerd-proxy-injector with a stand-in of Linkerd's proxy injector, so
 *                    the REAL chart's webhook configuration drives injection; refuses every other
 *                    Service at once (webhooks with failurePolicy Ignore are skipped without delay)
 *   servicelb        k3s' ServiceLB: LoadBalancer Services get the node address (127.0.0.1) as ingress
 *
 *   up [--crds <dir>] [--no-crds] [--gateway-api-crds]
 *                                   start it, apply the CRDs, print the kubeconfig path
 *   status                          print the state and whether the API server is ready
 *   down [--keep]                   stop every process and remove the cluster dir (--keep keeps it)
 *   stop <process> / start <process>  stop one process / start it again with the same flags
 *                                   (also cluster-network and servicelb)
 *
 * Binaries come from the toolchain (npm run toolchain): <toolchain>/bin first, then PATH.
 * CRDs: every *.yaml under --crds <dir> (or $PICLUSTER_CRDS_DIR, default ../shared/reference/crds
 * relative to the repository), our own test/e2e/crds (k3s' HelmChartConfig), then the CRDs the
 * toolchain ships with the controllers (<toolchain>/data/<component>/crds: cert-manager,
 * trust-manager, kwok's Stage), which win over older copies. The Gateway API CRDs (HTTPRoute,
 * GRPCRoute) only with --gateway-api-crds: k3s releases differ in whether the cluster has them.
 * State: $PICLUSTER_CLUSTER_STATE (default <tmpdir>/picluster-linkerd-cluster.json); set it to a
 * different file to run several clusters side by side (ports are picked free each time).
 */
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as https from "https";
import * as net from "net";
import * as os from "os";
import * as path from "path";

import { commandLine, CommandSpec, helpText } from "../../../cli/args";
import { repoRoot, toolchainDataDir, toolchainDir } from "./paths";
export const stateFile = process.env.PICLUSTER_CLUSTER_STATE || path.join(os.tmpdir(), "picluster-linkerd-cluster.json");
const defaultCrdsDir = path.resolve(repoRoot, "..", "shared", "reference", "crds");
const ownCrdsDir = path.join(repoRoot, "test", "e2e", "crds");
const SERVICE_CIDR = "10.0.0.0/24";
/** Pod IPs kwok hands out (must not overlap the service range). */
const POD_CIDR = "10.244.0.0/16";
/** kwok manages only the nodes carrying this annotation (the fake nodes `up` creates). */
export const KWOK_NODE_ANNOTATION = "kwok.x-k8s.io/node";
/** Fake nodes: a Pi cluster's server and two agents. */
export const FAKE_NODES = ["pi-server", "pi-agent-1", "pi-agent-2"];
/** Processes `stop`/`start` accept (etcd is not restartable: its data dir is the cluster). */
const RESTARTABLE = [
    "cluster-network",
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "kwok",
    "cert-manager",
    "trust-manager",
    "servicelb",
];
/** Our Node stand-ins for what a k3s node has and this cluster lacks (see ./standins). */
const STANDINS_DIR = path.join(__dirname, "standins");

export interface ClusterState {
    dir: string;
    kubeconfig: string;
    server: string;
    etcdUrl: string;
    pids: Record<string, number>;
    /** how each process was started, so `start <process>` runs it again the same way */
    commands: Record<string, { cmd: string; args: string[] }>;
    /** readiness URL per process where it has one */
    readyz: Record<string, string>;
    /** whether `up --gateway-api-crds` installed the toolchain's Gateway API CRDs */
    gatewayApiCrds: boolean;
    startedAt: string;
}

/** Field manager of the Gateway API CRDs `up --gateway-api-crds` installs (owned by the cluster, not by Helm). */
export const GATEWAY_API_FIELD_MANAGER = "picluster-cluster-gateway-api";

function log(msg: string): void {
    process.stderr.write(`[cluster] ${msg}\n`);
}

function bin(name: string): string {
    const own = path.join(toolchainDir, "bin", name);
    if (fs.existsSync(own)) return own;
    for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
        const p = path.join(dir, name);
        if (dir && fs.existsSync(p)) return p;
    }
    throw new Error(`${name} not found: run \`npm run toolchain\` first (or put ${name} on PATH)`);
}

function sh(cmd: string, args: string[], opts: { cwd?: string; input?: string } = {}): string {
    const res = spawnSync(cmd, args, { encoding: "utf8", cwd: opts.cwd, input: opts.input, maxBuffer: 64 * 1024 * 1024 });
    if (res.error) throw res.error;
    if (res.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (exit ${res.status}): ${res.stderr || res.stdout}`);
    return res.stdout;
}

async function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const srv = net.createServer();
        srv.unref();
        srv.on("error", reject);
        srv.listen(0, "127.0.0.1", () => {
            const addr = srv.address() as net.AddressInfo;
            srv.close(() => resolve(addr.port));
        });
    });
}

/** CA, API server serving cert, admin client cert (O=system:masters) and service-account key pair. */
function makeCerts(dir: string): void {
    const ossl = (...args: string[]): string => sh("openssl", args, { cwd: dir });
    const ecKey = (name: string): void => {
        ossl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", `${name}.key`);
    };
    ecKey("ca");
    ossl("req", "-x509", "-new", "-key", "ca.key", "-subj", "/CN=picluster-e2e-ca", "-days", "30", "-out", "ca.crt");
    const sign = (name: string, subj: string, ext: string): void => {
        ecKey(name);
        ossl("req", "-new", "-key", `${name}.key`, "-subj", subj, "-out", `${name}.csr`);
        fs.writeFileSync(path.join(dir, `${name}.ext`), ext);
        ossl(
            "x509",
            "-req",
            "-in",
            `${name}.csr`,
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "30",
            "-extfile",
            `${name}.ext`,
            "-out",
            `${name}.crt`,
        );
    };
    sign(
        "apiserver",
        "/CN=kube-apiserver",
        "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n" +
            "subjectAltName=IP:127.0.0.1,IP:10.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local\n",
    );
    sign(
        "admin",
        "/O=system:masters/CN=picluster-admin",
        "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n",
    );
    ossl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", "sa.key");
    ossl("pkey", "-in", "sa.key", "-pubout", "-out", "sa.pub");
}

function kubeconfigYaml(dir: string, server: string): string {
    const b64 = (f: string): string => fs.readFileSync(path.join(dir, f)).toString("base64");
    return [
        "apiVersion: v1",
        "kind: Config",
        "clusters:",
        "- name: picluster-e2e",
        "  cluster:",
        `    server: ${server}`,
        `    certificate-authority-data: ${b64("ca.crt")}`,
        "users:",
        "- name: picluster-admin",
        "  user:",
        `    client-certificate-data: ${b64("admin.crt")}`,
        `    client-key-data: ${b64("admin.key")}`,
        "contexts:",
        "- name: picluster-e2e",
        "  context:",
        "    cluster: picluster-e2e",
        "    user: picluster-admin",
        "current-context: picluster-e2e",
        "",
    ].join("\n");
}

/**
 * How a stand-in (TypeScript under ./standins) is run: Node 22 from node_modules/.bin (the npm scripts'
 * Node; the PATH's may be older) with ts-node's CLI, transpile-only (swc, as tsconfig.json says).
 */
function standInCommand(script: string, args: string[]): { cmd: string; args: string[] } {
    const node22 = path.join(repoRoot, "node_modules", ".bin", "node");
    const cmd = fs.existsSync(node22) ? node22 : process.execPath;
    return { cmd, args: [require.resolve("ts-node/dist/bin.js"), "--transpile-only", path.join(STANDINS_DIR, script), ...args] };
}

/**
 * kube-apiserver's egress selection: the "cluster" egress (service-backed webhooks and APIServices,
 * kubelet and pod/service proxy connections) is HTTP CONNECT over a unix socket to the cluster-network
 * stand-in. Schema: k8s.io/apiserver pkg/apis/apiserver/v1beta1 EgressSelectorConfiguration. Over TCP
 * the API server would always speak TLS to the proxy (and crash on an http:// URL without tlsConfig).
 */
function egressSelectorConfig(socket: string): string {
    return [
        "apiVersion: apiserver.k8s.io/v1beta1",
        "kind: EgressSelectorConfiguration",
        "egressSelections:",
        "- name: cluster",
        "  connection:",
        "    proxyProtocol: HTTPConnect",
        "    transport:",
        "      uds:",
        `        udsName: ${socket}`,
        "",
    ].join("\n");
}

function startProcess(dir: string, name: string, cmd: string, args: string[]): number {
    const out = fs.openSync(path.join(dir, `${name}.log`), "a");
    // detached: own process group, so `down` can signal the whole group and nothing is left behind.
    const child = spawn(cmd, args, { cwd: dir, detached: true, stdio: ["ignore", out, out] });
    child.unref();
    fs.closeSync(out);
    if (!child.pid) throw new Error(`failed to start ${name}`);
    log(`started ${name} (pid ${child.pid}), log ${path.join(dir, `${name}.log`)}`);
    return child.pid;
}

function alive(pid: number): boolean {
    try {
        process.kill(pid, 0);
        return true;
    } catch {
        return false;
    }
}

function get(url: string, dir: string): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
        const req = https.get(
            url,
            {
                ca: fs.readFileSync(path.join(dir, "ca.crt")),
                cert: fs.readFileSync(path.join(dir, "admin.crt")),
                key: fs.readFileSync(path.join(dir, "admin.key")),
                timeout: 5000,
            },
            (res) => {
                let body = "";
                res.on("data", (d) => (body += d));
                res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
            },
        );
        req.on("error", reject);
        req.on("timeout", () => req.destroy(new Error("timeout")));
    });
}

async function waitFor(what: string, timeoutMs: number, check: () => Promise<boolean>, pids: Record<string, number>): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
        for (const [name, pid] of Object.entries(pids)) {
            if (!alive(pid)) throw new Error(`${name} exited while waiting for ${what} (see its log)`);
        }
        try {
            if (await check()) return;
        } catch {
            /* not yet */
        }
        await new Promise((r) => setTimeout(r, 500));
    }
    throw new Error(`timed out waiting for ${what}`);
}

/** <toolchain>/data/<component>/<sub>, or null when the toolchain does not ship it. */
function toolchainData(component: string, sub: string): string | null {
    const dir = path.join(toolchainDataDir, component, sub);
    return fs.existsSync(dir) ? dir : null;
}

function requireToolchainData(component: string, sub: string): string {
    const dir = toolchainData(component, sub);
    if (!dir) throw new Error(`${path.join(toolchainDataDir, component, sub)} is missing: run \`npm run toolchain\` first`);
    return dir;
}

/** GET of a readiness URL: http://host:port/path, or unix:<socket path>:<path> for a unix socket. */
function plainGet(url: string): Promise<number> {
    const unix = /^unix:(.+):(\/.*)$/.exec(url);
    return new Promise((resolve, reject) => {
        const onResponse = (res: http.IncomingMessage): void => {
            res.resume();
            resolve(res.statusCode ?? 0);
        };
        const req = unix ? http.get({ socketPath: unix[1], path: unix[2], timeout: 5000 }, onResponse) : http.get(url, { timeout: 5000 }, onResponse);
        req.on("error", reject);
        req.on("timeout", () => req.destroy(new Error("timeout")));
    });
}

/** A self-signed serving certificate for trust-manager's webhook server (nothing calls it here). */
function makeWebhookCert(dir: string): string {
    const certDir = path.join(dir, "trust-manager-tls");
    fs.mkdirSync(certDir, { recursive: true });
    sh(
        "openssl",
        ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", "tls.key", "-out", "tls.crt"].concat([
            "-subj",
            "/CN=trust-manager",
            "-days",
            "30",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ]),
        { cwd: certDir },
    );
    return certDir;
}

function fakeNode(name: string): object {
    return {
        apiVersion: "v1",
        kind: "Node",
        metadata: {
            name,
            annotations: { [KWOK_NODE_ANNOTATION]: "fake", "node.alpha.kubernetes.io/ttl": "0" },
            labels: { "kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "arm64", type: "kwok" },
        },
        // Pi 4 sized, so requests and limits are checked the way a Pi would.
        status: { allocatable: { cpu: "4", memory: "8Gi", pods: "110" }, capacity: { cpu: "4", memory: "8Gi", pods: "110" } },
    };
}

function readState(): ClusterState | null {
    try {
        return JSON.parse(fs.readFileSync(stateFile, "utf8")) as ClusterState;
    } catch {
        return null;
    }
}

function crdFiles(dir: string): string[] {
    if (!fs.existsSync(dir)) throw new Error(`CRD directory ${dir} does not exist (use --crds <dir> or PICLUSTER_CRDS_DIR)`);
    const out: string[] = [];
    const walk = (d: string): void => {
        for (const e of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
            const p = path.join(d, e.name);
            if (e.isDirectory()) walk(p);
            else if (/\.ya?ml$/.test(e.name)) out.push(p);
        }
    };
    walk(dir);
    return out;
}

interface UpOptions {
    crds?: string;
    "no-crds"?: boolean;
    "gateway-api-crds"?: boolean;
}

async function up(opts: UpOptions): Promise<void> {
    const existing = readState();
    if (existing && Object.values(existing.pids).some(alive)) {
        throw new Error(
            `a cluster is already running (state ${stateFile}, kubeconfig ${existing.kubeconfig}); run \`npm run cluster -- down\` first`,
        );
    }
    const crdsDir = opts.crds ? path.resolve(opts.crds) : process.env.PICLUSTER_CRDS_DIR || defaultCrdsDir;
    const withCrds = !opts["no-crds"];
    const etcd = bin("etcd");
    const apiserver = bin("kube-apiserver");
    const kcm = bin("kube-controller-manager");
    const scheduler = bin("kube-scheduler");
    const kwok = bin("kwok");
    const certManager = bin("cert-manager-controller");
    const trustManager = bin("trust-manager");
    const kubectl = bin("kubectl");
    const stagesDir = requireToolchainData("kwok", "stages");

    const started = Date.now();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "picluster-cluster-"));
    makeCerts(dir);
    const [etcdPort, peerPort, apiPort] = [await freePort(), await freePort(), await freePort()];
    const etcdUrl = `http://127.0.0.1:${etcdPort}`;
    const server = `https://127.0.0.1:${apiPort}`;
    const kubeconfig = path.join(dir, "kubeconfig");
    fs.writeFileSync(kubeconfig, kubeconfigYaml(dir, server), { mode: 0o600 });

    const gatewayApiCrds = !!opts["gateway-api-crds"];
    const state: ClusterState = {
        dir,
        kubeconfig,
        server,
        etcdUrl,
        pids: {},
        commands: {},
        readyz: {},
        gatewayApiCrds,
        startedAt: new Date().toISOString(),
    };
    const save = (): void => fs.writeFileSync(stateFile, JSON.stringify(state, null, 2) + "\n");
    const launch = (name: string, cmd: string, args: string[]): void => {
        state.commands[name] = { cmd, args };
        state.pids[name] = startProcess(dir, name, cmd, args);
        save();
    };
    const k = (...args: string[]): string => sh(kubectl, ["--kubeconfig", kubeconfig, ...args]);
    const launchStandIn = (name: string, script: string, args: string[]): void => {
        const { cmd, args: full } = standInCommand(script, args);
        launch(name, cmd, full);
    };
    // The API server's "cluster" egress (see egressSelectorConfig); a unix socket path has ~104 bytes at most.
    const networkSocket = path.join(dir, "cluster-network.sock");
    if (Buffer.byteLength(networkSocket) > 100) throw new Error(`${networkSocket} is too long for a unix socket: set TMPDIR to a shorter dir`);
    const egressConfig = path.join(dir, "egress-selector.yaml");
    fs.writeFileSync(egressConfig, egressSelectorConfig(networkSocket));
    try {
        launch("etcd", etcd, [
            "--name=default",
            `--data-dir=${path.join(dir, "etcd-data")}`,
            `--listen-client-urls=${etcdUrl}`,
            `--advertise-client-urls=${etcdUrl}`,
            `--listen-peer-urls=http://127.0.0.1:${peerPort}`,
            `--initial-advertise-peer-urls=http://127.0.0.1:${peerPort}`,
            `--initial-cluster=default=http://127.0.0.1:${peerPort}`,
            "--unsafe-no-fsync=true",
        ]);
        // STAND-IN for the cluster network as the API server reaches it (webhook Services: Linkerd's
        // proxy injector, served by our stand-in; every other Service refused at once). Started first:
        // the API server dials its socket on every "cluster" connection.
        launchStandIn("cluster-network", "cluster-network.ts", ["--kubeconfig", kubeconfig, "--socket", networkSocket]);
        state.readyz["cluster-network"] = `unix:${networkSocket}:/readyz`;
        launch("kube-apiserver", apiserver, [
            `--etcd-servers=${etcdUrl}`,
            `--cert-dir=${path.join(dir, "apiserver-certs")}`,
            `--tls-cert-file=${path.join(dir, "apiserver.crt")}`,
            `--tls-private-key-file=${path.join(dir, "apiserver.key")}`,
            `--client-ca-file=${path.join(dir, "ca.crt")}`,
            `--secure-port=${apiPort}`,
            "--bind-address=127.0.0.1",
            "--advertise-address=127.0.0.1",
            `--service-cluster-ip-range=${SERVICE_CIDR}`,
            "--authorization-mode=RBAC",
            "--allow-privileged=true",
            // TaintNodesByCondition taints every new node not-ready until the node lifecycle controller
            // lifts it; that controller stays off (kwok keeps the fake nodes' status), so no taint.
            "--disable-admission-plugins=ServiceAccount,TaintNodesByCondition",
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
            `--service-account-key-file=${path.join(dir, "sa.pub")}`,
            `--service-account-signing-key-file=${path.join(dir, "sa.key")}`,
            `--egress-selector-config-file=${egressConfig}`,
        ]);
        state.readyz["kube-apiserver"] = `${server}/readyz`;
        save();
        await waitFor("the API server's /readyz", 90_000, async () => (await get(`${server}/readyz`, dir)).status === 200, state.pids);
        log(`API server ready at ${server} after ${Math.round((Date.now() - started) / 1000)}s`);

        // Deployments, ReplicaSets, DaemonSets, Jobs, namespace deletion, garbage collection. The node
        // lifecycle and IPAM controllers stay off: kwok keeps the fake nodes Ready and hands out pod IPs.
        launch("kube-controller-manager", kcm, [
            `--kubeconfig=${kubeconfig}`,
            "--leader-elect=false",
            "--secure-port=0",
            "--use-service-account-credentials=false",
            `--service-account-private-key-file=${path.join(dir, "sa.key")}`,
            `--root-ca-file=${path.join(dir, "ca.crt")}`,
            `--service-cluster-ip-range=${SERVICE_CIDR}`,
            "--controllers=*,-nodeipam,-nodelifecycle,-persistentvolume-binder,-attachdetach,-persistentvolume-expander,-cloud-node-lifecycle,-ttl",
        ]);

        const toolchainCrds = ["cert-manager", "trust-manager", "kwok"].map((c) => toolchainData(c, "crds")).filter((d): d is string => d !== null);
        const files = [...(withCrds ? crdFiles(crdsDir) : []), ...crdFiles(ownCrdsDir), ...toolchainCrds.flatMap(crdFiles)];
        log(`applying ${files.length} CRD files (${withCrds ? `${crdsDir}, ` : ""}${ownCrdsDir}, ${toolchainCrds.join(", ")})`);
        // Server-side apply: several CRDs are too large for client-side apply's annotation.
        k("apply", "--server-side", "--force-conflicts", ...files.flatMap((f) => ["-f", f]));
        if (gatewayApiCrds) {
            // As a cluster that ships them (not a Helm release): a field manager of their own, no Helm
            // ownership metadata, so a chart that wants to install them sees objects it does not own.
            const gatewayApi = requireToolchainData("gateway-api", "crds");
            log(`applying the Gateway API CRDs (${gatewayApi}, field manager ${GATEWAY_API_FIELD_MANAGER})`);
            k("apply", "--server-side", `--field-manager=${GATEWAY_API_FIELD_MANAGER}`, ...crdFiles(gatewayApi).flatMap((f) => ["-f", f]));
        } else log("no Gateway API CRDs (up --gateway-api-crds installs them)");
        k("wait", "--for=condition=Established", "--timeout=120s", "crd", "--all");
        log(`${k("get", "crd", "-o", "name").trim().split("\n").length} CRDs established`);

        launch("kube-scheduler", scheduler, [`--kubeconfig=${kubeconfig}`, "--leader-elect=false", "--secure-port=0"]);
        // kwok plays the kubelet of the fake nodes only; its stages are Stage objects it watches, so a
        // test can change them (e.g. slower pod start-up) while the cluster runs.
        k("apply", "--server-side", "--force-conflicts", ...crdFiles(stagesDir).flatMap((f) => ["-f", f]));
        launch("kwok", kwok, [
            `--kubeconfig=${kubeconfig}`,
            "--manage-all-nodes=false",
            `--manage-nodes-with-annotation-selector=${KWOK_NODE_ANNOTATION}=fake`,
            "--enable-crds=Stage",
            `--cidr=${POD_CIDR}`,
            "--node-ip=127.0.0.1",
            `--server-address=127.0.0.1:${await freePort()}`,
        ]);
        sh(kubectl, ["--kubeconfig", kubeconfig, "apply", "--server-side", "--field-manager=cluster-up", "-f", "-"], {
            input: JSON.stringify({ apiVersion: "v1", kind: "List", items: FAKE_NODES.map(fakeNode) }),
        });

        // STAND-IN for k3s' ServiceLB: LoadBalancer Services get the node addresses as their ingress.
        const lbReady = await freePort();
        launchStandIn("servicelb", "servicelb.ts", ["--kubeconfig", kubeconfig, "--readyz-address", `127.0.0.1:${lbReady}`]);
        state.readyz["servicelb"] = `http://127.0.0.1:${lbReady}/readyz`;

        // cert-manager's controllers (our main over its pkg/controller) and trust-manager, as
        // installed in the cert-manager namespace by the guide: ClusterIssuer secrets and trust
        // sources live there.
        const cmHealth = await freePort();
        launch("cert-manager", certManager, [
            `--kubeconfig=${kubeconfig}`,
            "--cluster-resource-namespace=cert-manager",
            `--readyz-address=127.0.0.1:${cmHealth}`,
        ]);
        state.readyz["cert-manager"] = `http://127.0.0.1:${cmHealth}/readyz`;
        const tmReady = await freePort();
        launch("trust-manager", trustManager, [
            `--kubeconfig=${kubeconfig}`,
            "--trust-namespace=cert-manager",
            "--leader-elect=false",
            `--readiness-probe-port=${tmReady}`,
            `--metrics-port=${await freePort()}`,
            "--webhook-host=127.0.0.1",
            `--webhook-port=${await freePort()}`,
            `--webhook-certificate-dir=${makeWebhookCert(dir)}`,
        ]);
        state.readyz["trust-manager"] = `http://127.0.0.1:${tmReady}/readyz`;
        save();

        // Wait until the namespace controller is up: `default` has its ServiceAccount once KCM runs.
        await waitFor(
            "kube-controller-manager (default ServiceAccount)",
            60_000,
            async () => (await get(`${server}/api/v1/namespaces/default/serviceaccounts/default`, dir)).status === 200,
            state.pids,
        );
        k("wait", "--for=condition=Ready", "--timeout=60s", "node", "--all");
        for (const name of ["cert-manager", "trust-manager", "cluster-network", "servicelb"]) {
            await waitFor(`${name} (${state.readyz[name]})`, 60_000, async () => (await plainGet(state.readyz[name])) === 200, state.pids);
        }
    } catch (err) {
        log(`up failed: ${(err as Error).message}; stopping what was started (logs kept in ${dir})`);
        await stop(state, true);
        fs.rmSync(stateFile, { force: true });
        throw err;
    }
    log(`cluster up in ${Math.round((Date.now() - started) / 1000)}s (${FAKE_NODES.length} kwok nodes Ready); state ${stateFile}`);
    log(`kubeconfig: ${kubeconfig}`);
    process.stdout.write(`${kubeconfig}\n`);
}

/** SIGTERM to the process group, SIGKILL after 15 s. */
async function stopProcess(name: string, pid: number): Promise<void> {
    if (!alive(pid)) return;
    try {
        process.kill(-pid, "SIGTERM");
    } catch {
        try {
            process.kill(pid, "SIGTERM");
        } catch {
            /* gone */
        }
    }
    const deadline = Date.now() + 15_000;
    while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    if (alive(pid)) {
        log(`${name} (pid ${pid}) ignored SIGTERM, killing it`);
        try {
            process.kill(-pid, "SIGKILL");
        } catch {
            /* gone */
        }
        // Until it is gone: a `start` right after `stop` would otherwise find it still alive.
        const killed = Date.now() + 5_000;
        while (alive(pid) && Date.now() < killed) await new Promise((r) => setTimeout(r, 100));
    }
    log(`stopped ${name} (pid ${pid})`);
}

async function stop(state: ClusterState, keep: boolean): Promise<void> {
    // Reverse start order: the controllers, the scheduler, the API server, then etcd.
    for (const [name, pid] of Object.entries(state.pids).reverse()) await stopProcess(name, pid);
    if (!keep) fs.rmSync(state.dir, { recursive: true, force: true });
}

function runningState(): ClusterState {
    const state = readState();
    if (!state) throw new Error(`no cluster (state file ${stateFile} absent): run \`npm run cluster -- up\` first`);
    return state;
}

/** `stop <process>`: stops one process of a running cluster (the others keep running). */
async function stopOne(name: string): Promise<void> {
    const state = runningState();
    await stopProcess(name, state.pids[name]);
}

/** `start <process>`: starts a stopped process again with the flags `up` gave it, then waits until it is ready. */
async function startOne(name: string): Promise<void> {
    const state = runningState();
    if (alive(state.pids[name])) throw new Error(`${name} is already running (pid ${state.pids[name]})`);
    const { cmd, args } = state.commands[name];
    state.pids[name] = startProcess(state.dir, name, cmd, args);
    fs.writeFileSync(stateFile, JSON.stringify(state, null, 2) + "\n");
    const url = state.readyz[name];
    if (url) {
        const check = url.startsWith("https:") ? async () => (await get(url, state.dir)).status === 200 : async () => (await plainGet(url)) === 200;
        await waitFor(`${name} (${url})`, 90_000, check, { [name]: state.pids[name] });
    }
    log(`${name} running again (pid ${state.pids[name]})`);
}

async function down(opts: { keep?: boolean }): Promise<void> {
    const state = readState();
    if (!state) {
        log(`no cluster state at ${stateFile}: nothing to stop`);
        return;
    }
    await stop(state, !!opts.keep);
    fs.rmSync(stateFile, { force: true });
    log(opts.keep ? `stopped; files kept in ${state.dir}` : `stopped and removed ${state.dir}`);
}

async function status(): Promise<void> {
    const state = readState();
    if (!state) {
        log(`no cluster (state file ${stateFile} absent)`);
        process.exitCode = 1;
        return;
    }
    const procs = Object.entries(state.pids).map(([n, p]) => `${n}=${p}${alive(p) ? "" : " (dead)"}`);
    let ready: string;
    try {
        const r = await get(`${state.server}/readyz`, state.dir);
        ready = r.status === 200 ? "ready" : `not ready (${r.status})`;
    } catch (err) {
        ready = `unreachable (${(err as Error).message})`;
    }
    log(`server ${state.server}: ${ready}; processes ${procs.join(", ")}`);
    log(`kubeconfig: ${state.kubeconfig}`);
    process.stdout.write(`${state.kubeconfig}\n`);
    if (ready !== "ready") process.exitCode = 1;
}

const CLUSTER_EXIT_CODES = { 1: "the cluster could not be started or stopped, or (status) the API server is not ready" };
const CLUSTER_COMMANDS: Record<string, CommandSpec> = {
    up: {
        usage: "npm run cluster -- up",
        summary:
            "Starts the local cluster (control plane, kwok nodes, cert-manager, trust-manager, and the stand-ins cluster-network (Linkerd proxy-injector server behind the API server's egress) and servicelb (k3s ServiceLB)), applies the CRDs and prints the kubeconfig path.",
        options: {
            crds: {
                type: "string",
                value: "<dir>",
                help: "Apply every *.yaml under this directory (default $PICLUSTER_CRDS_DIR or ../shared/reference/crds).",
            },
            "no-crds": { type: "boolean", help: "Skip that directory: apply only test/e2e/crds and the toolchain's CRDs." },
            "gateway-api-crds": {
                type: "boolean",
                help: "Also install the Gateway API CRDs (HTTPRoute, GRPCRoute v1.4.1 standard channel) as the cluster's own (field manager picluster-cluster-gateway-api, no Helm metadata); default: none, as on a k3s without them.",
            },
        },
        exitCodes: CLUSTER_EXIT_CODES,
    },
    status: {
        usage: "npm run cluster -- status",
        summary: "Prints the state and whether the API server is ready.",
        options: {},
        exitCodes: CLUSTER_EXIT_CODES,
    },
    down: {
        usage: "npm run cluster -- down",
        summary: "Stops every process of the cluster and removes its directory.",
        options: { keep: { type: "boolean", help: "Keep the cluster directory (logs, etcd data)." } },
        exitCodes: CLUSTER_EXIT_CODES,
    },
    stop: {
        usage: "npm run cluster -- stop",
        summary: "Stops one process of the running cluster (fault tests: the others keep running).",
        options: {},
        positionals: { name: "process", help: `One of ${RESTARTABLE.join(", ")}.`, min: 1 },
        exitCodes: CLUSTER_EXIT_CODES,
    },
    start: {
        usage: "npm run cluster -- start",
        summary: "Starts a stopped process again with the flags `up` gave it and waits until it is ready.",
        options: {},
        positionals: { name: "process", help: `One of ${RESTARTABLE.join(", ")}.`, min: 1 },
        exitCodes: CLUSTER_EXIT_CODES,
    },
};
const CLUSTER_USAGE = "usage: npm run cluster -- up|status|down|stop|start [options]   (npm run cluster -- <command> --help for each)";

async function main(): Promise<void> {
    const [cmd, ...rest] = process.argv.slice(2);
    if (cmd === "--help" || cmd === "-h") {
        process.stdout.write(`${CLUSTER_USAGE}\n\n${Object.values(CLUSTER_COMMANDS).map(helpText).join("\n\n")}\n`);
        return;
    }
    const spec = CLUSTER_COMMANDS[cmd ?? ""];
    if (!spec) {
        process.stderr.write(`cluster: ${cmd ? `unknown command "${cmd}"` : "no command given"}\n${CLUSTER_USAGE}\n`);
        process.exit(2);
    }
    const { values, positionals } = commandLine(`cluster ${cmd}`, spec, rest);
    if (cmd === "stop" || cmd === "start") {
        if (positionals.length !== 1 || !RESTARTABLE.includes(positionals[0])) {
            process.stderr.write(`cluster ${cmd}: name one process of ${RESTARTABLE.join(", ")} (got ${positionals.join(" ") || "none"})\n`);
            process.exit(2);
        }
        await (cmd === "stop" ? stopOne(positionals[0]) : startOne(positionals[0]));
    } else if (cmd === "up") await up(values);
    else if (cmd === "down") await down(values);
    else await status();
}

if (require.main === module) {
    main().catch((err) => {
        process.stderr.write(`[cluster] ${(err as Error).message}\n`);
        process.exit(1);
    });
}
