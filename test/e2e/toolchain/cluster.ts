/**
 * `npm run cluster -- up|down|status` - a local Kubernetes control plane on 127.0.0.1 for the
 * real-engine (e2e) tests: etcd + kube-apiserver + kube-controller-manager (namespace deletion and
 * garbage collection), no kubelet, so workloads never run.
 *
 *   up [--crds <dir>] [--no-crds]   start it, apply the CRDs, print the kubeconfig path
 *   status                          print the state and whether the API server is ready
 *   down [--keep]                   stop every process and remove the cluster dir (--keep keeps it)
 *
 * Binaries come from the toolchain (npm run toolchain): <toolchain>/bin first, then PATH.
 * CRDs: every *.yaml under --crds <dir> (or $PICLUSTER_CRDS_DIR, default ../shared/reference/crds
 * relative to the repository) plus our own test/e2e/crds (k3s' HelmChartConfig).
 * State: $PICLUSTER_CLUSTER_STATE (default <tmpdir>/picluster-linkerd-cluster.json); set it to a
 * different file to run several clusters side by side (ports are picked free each time).
 */
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as https from "https";
import * as net from "net";
import * as os from "os";
import * as path from "path";

import { commandLine, CommandSpec, helpText } from "../../../cli/args";
import { repoRoot, toolchainDir } from "./paths";
export const stateFile = process.env.PICLUSTER_CLUSTER_STATE || path.join(os.tmpdir(), "picluster-linkerd-cluster.json");
const defaultCrdsDir = path.resolve(repoRoot, "..", "shared", "reference", "crds");
const ownCrdsDir = path.join(repoRoot, "test", "e2e", "crds");
const SERVICE_CIDR = "10.0.0.0/24";

export interface ClusterState {
    dir: string;
    kubeconfig: string;
    server: string;
    etcdUrl: string;
    pids: Record<string, number>;
    startedAt: string;
}

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

async function up(opts: { crds?: string; "no-crds"?: boolean }): Promise<void> {
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
    const kubectl = bin("kubectl");

    const started = Date.now();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "picluster-cluster-"));
    makeCerts(dir);
    const [etcdPort, peerPort, apiPort] = [await freePort(), await freePort(), await freePort()];
    const etcdUrl = `http://127.0.0.1:${etcdPort}`;
    const server = `https://127.0.0.1:${apiPort}`;
    const kubeconfig = path.join(dir, "kubeconfig");
    fs.writeFileSync(kubeconfig, kubeconfigYaml(dir, server), { mode: 0o600 });

    const state: ClusterState = { dir, kubeconfig, server, etcdUrl, pids: {}, startedAt: new Date().toISOString() };
    const save = (): void => fs.writeFileSync(stateFile, JSON.stringify(state, null, 2) + "\n");
    try {
        state.pids.etcd = startProcess(dir, "etcd", etcd, [
            "--name=default",
            `--data-dir=${path.join(dir, "etcd-data")}`,
            `--listen-client-urls=${etcdUrl}`,
            `--advertise-client-urls=${etcdUrl}`,
            `--listen-peer-urls=http://127.0.0.1:${peerPort}`,
            `--initial-advertise-peer-urls=http://127.0.0.1:${peerPort}`,
            `--initial-cluster=default=http://127.0.0.1:${peerPort}`,
            "--unsafe-no-fsync=true",
        ]);
        save();
        state.pids["kube-apiserver"] = startProcess(dir, "kube-apiserver", apiserver, [
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
            "--disable-admission-plugins=ServiceAccount",
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
            `--service-account-key-file=${path.join(dir, "sa.pub")}`,
            `--service-account-signing-key-file=${path.join(dir, "sa.key")}`,
        ]);
        save();
        await waitFor("the API server's /readyz", 90_000, async () => (await get(`${server}/readyz`, dir)).status === 200, state.pids);
        log(`API server ready at ${server} after ${Math.round((Date.now() - started) / 1000)}s`);

        state.pids["kube-controller-manager"] = startProcess(dir, "kube-controller-manager", kcm, [
            `--kubeconfig=${kubeconfig}`,
            "--leader-elect=false",
            "--secure-port=0",
            "--use-service-account-credentials=false",
            `--service-account-private-key-file=${path.join(dir, "sa.key")}`,
            `--root-ca-file=${path.join(dir, "ca.crt")}`,
            `--service-cluster-ip-range=${SERVICE_CIDR}`,
            "--controllers=*,-nodeipam,-nodelifecycle,-persistentvolume-binder,-attachdetach,-persistentvolume-expander,-cloud-node-lifecycle,-ttl",
        ]);
        save();

        if (withCrds) {
            const files = [...crdFiles(crdsDir), ...crdFiles(ownCrdsDir)];
            log(`applying ${files.length} CRD files from ${crdsDir} and ${ownCrdsDir}`);
            // Server-side apply: several CRDs are too large for client-side apply's annotation.
            const fileArgs = files.flatMap((f) => ["-f", f]);
            sh(kubectl, ["--kubeconfig", kubeconfig, "apply", "--server-side", "--force-conflicts", ...fileArgs]);
            sh(kubectl, ["--kubeconfig", kubeconfig, "wait", "--for=condition=Established", "--timeout=120s", "crd", "--all"]);
            const names = sh(kubectl, ["--kubeconfig", kubeconfig, "get", "crd", "-o", "name"]).trim().split("\n");
            log(`${names.length} CRDs established`);
        }
        // Wait until the namespace controller is up: `default` has its ServiceAccount once KCM runs.
        await waitFor(
            "kube-controller-manager (default ServiceAccount)",
            60_000,
            async () => (await get(`${server}/api/v1/namespaces/default/serviceaccounts/default`, dir)).status === 200,
            state.pids,
        );
    } catch (err) {
        log(`up failed: ${(err as Error).message}; stopping what was started (logs kept in ${dir})`);
        await stop(state, true);
        fs.rmSync(stateFile, { force: true });
        throw err;
    }
    log(`cluster up in ${Math.round((Date.now() - started) / 1000)}s; state ${stateFile}`);
    log(`kubeconfig: ${kubeconfig}`);
    process.stdout.write(`${kubeconfig}\n`);
}

async function stop(state: ClusterState, keep: boolean): Promise<void> {
    // Reverse start order: controller-manager, API server, then etcd.
    const order = Object.entries(state.pids).reverse();
    for (const [name, pid] of order) {
        if (!alive(pid)) continue;
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
        }
        log(`stopped ${name} (pid ${pid})`);
    }
    if (!keep) fs.rmSync(state.dir, { recursive: true, force: true });
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
    let ready = "unreachable";
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
        summary: "Starts the local control plane, applies the CRDs and prints the kubeconfig path.",
        options: {
            crds: {
                type: "string",
                value: "<dir>",
                help: "Apply every *.yaml under this directory (default $PICLUSTER_CRDS_DIR or ../shared/reference/crds).",
            },
            "no-crds": { type: "boolean", help: "Apply only the project's own test/e2e/crds." },
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
};
const CLUSTER_USAGE = "usage: npm run cluster -- up|status|down [options]   (npm run cluster -- <command> --help for each)";

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
    const { values } = commandLine(`cluster ${cmd}`, spec, rest);
    if (cmd === "up") await up(values as { crds?: string; "no-crds"?: boolean });
    else if (cmd === "down") await down(values as { keep?: boolean });
    else await status();
}

if (require.main === module) {
    main().catch((err) => {
        process.stderr.write(`[cluster] ${(err as Error).message}\n`);
        process.exit(1);
    });
}
