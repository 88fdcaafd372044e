/**
 * The e2e harness: toolchain check, local cluster (test/e2e/toolchain/cluster.ts CLI: control plane,
 * kwok nodes, the real cert-manager and trust-manager controllers), the cluster the guide has before
 * Linkerd (namespaces, cert-manager root CA, stand-in Longhorn) and a `pulumi` runner on a local
 * file backend.
 *
 * PICLUSTER_E2E_EXTERNAL_CLUSTER=1 uses $KUBECONFIG (its current context, or
 * PICLUSTER_E2E_CONTEXT) instead of starting the local control plane; the tests then leave
 * linkerd.chartDirectory unset, so the real charts from the Linkerd repository are installed.
 */
import { spawn, spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

import { clusterScript, repoRoot, toolchainBinDir, toolchainDir } from "../toolchain/paths";
export { repoRoot, toolchainDir };
export const binDir = toolchainBinDir;
export const externalCluster = !!process.env.PICLUSTER_E2E_EXTERNAL_CLUSTER;

const REQUIRED = ["pulumi", "pulumi-language-nodejs", "pulumi-resource-kubernetes", "pulumi-resource-command", "pulumi-resource-random", "kubectl"];
const LOCAL_CLUSTER = ["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok", "cert-manager-controller", "trust-manager"];

/** Throws a clear message when the toolchain is missing (before starting anything). */
export function checkToolchain(): void {
    const needed = externalCluster ? REQUIRED : [...REQUIRED, ...LOCAL_CLUSTER];
    const missing = needed.filter((b) => !fs.existsSync(path.join(binDir, b)));
    if (missing.length > 0) {
        throw new Error(
            `The real-engine toolchain is missing (${missing.join(", ")} not in ${binDir}).\n` +
                `Run \`npm run toolchain\` first (builds/installs it; see docs/toolchain.md), then \`npm run test:e2e\`.`,
        );
    }
}

export function kubectlPath(): string {
    return path.join(binDir, "kubectl");
}

export interface RunResult {
    code: number;
    stdout: string;
    stderr: string;
    seconds: number;
}

/** Async spawn (the event loop stays free), output collected. */
export function run(
    cmd: string,
    args: string[],
    opts: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number; onSpawn?: (pid: number) => void } = {},
): Promise<RunResult> {
    const started = Date.now();
    return new Promise((resolve, reject) => {
        // detached: its own process group (a timeout, or a test's Ctrl-C, reaches all of its children).
        const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ["pipe", "pipe", "pipe"], detached: true });
        if (child.pid) opts.onSpawn?.(child.pid);
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d) => (stdout += d));
        child.stderr.on("data", (d) => (stderr += d));
        const timer = opts.timeoutMs
            ? setTimeout(() => {
                  stderr += `\n[e2e] ${cmd} timed out after ${opts.timeoutMs} ms: killed\n`;
                  try {
                      process.kill(-child.pid!, "SIGKILL");
                  } catch {
                      /* gone */
                  }
              }, opts.timeoutMs)
            : undefined;
        child.on("error", reject);
        child.on("close", (code) => {
            if (timer) clearTimeout(timer);
            resolve({ code: code ?? 1, stdout, stderr, seconds: (Date.now() - started) / 1000 });
        });
        child.stdin.end(opts.input ?? "");
    });
}

export function sh(cmd: string, args: string[], opts: { cwd?: string; input?: string; env?: NodeJS.ProcessEnv } = {}): string {
    const res = spawnSync(cmd, args, { encoding: "utf8", cwd: opts.cwd, input: opts.input, env: opts.env, maxBuffer: 64 * 1024 * 1024 });
    if (res.error) throw res.error;
    if (res.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (exit ${res.status}):\n${res.stderr || res.stdout}`);
    return res.stdout;
}

export interface Cluster {
    kubeconfig: string;
    context: string;
    stop(): Promise<void>;
    /** Local cluster only: stops one of its processes (`npm run cluster -- stop <name>`). */
    stopProcess(name: string): Promise<void>;
    /** Local cluster only: starts it again and waits until it is ready (`npm run cluster -- start <name>`). */
    startProcess(name: string): Promise<void>;
}

export interface StartClusterOptions {
    /**
     * Install the Gateway API CRDs (HTTPRoute, GRPCRoute) as the cluster's own (`up --gateway-api-crds`).
     * Default true (what every suite had so far); false = a k3s without them. Local cluster only.
     */
    gatewayApiCrds?: boolean;
}

/** Starts the local control plane (npm run cluster -- up) with its own state file. */
export async function startCluster(workDir: string, opts: StartClusterOptions = {}): Promise<Cluster> {
    if (externalCluster) {
        const kubeconfig = process.env.KUBECONFIG || path.join(os.homedir(), ".kube", "config");
        const context = process.env.PICLUSTER_E2E_CONTEXT || sh(kubectlPath(), ["--kubeconfig", kubeconfig, "config", "current-context"]).trim();
        const local = (): Promise<void> =>
            Promise.reject(new Error("stopping a cluster process needs the local cluster (PICLUSTER_E2E_EXTERNAL_CLUSTER is set)"));
        return { kubeconfig, context, stop: () => Promise.resolve(), stopProcess: local, startProcess: local };
    }
    const stateFile = path.join(workDir, "cluster-state.json");
    const env = { ...process.env, PICLUSTER_CLUSTER_STATE: stateFile, PICLUSTER_TOOLCHAIN_DIR: toolchainDir };
    const tsNode = path.join(repoRoot, "node_modules", ".bin", "ts-node");
    // Ports are picked free, then bound by the processes a moment later: another process can take one in
    // between (the process exits with "address already in use" in its log); `up` has already stopped what
    // it started, so it is tried again, up to three times.
    const upArgs = ["--transpile-only", clusterScript, "up", ...((opts.gatewayApiCrds ?? true) ? ["--gateway-api-crds"] : [])];
    let up = await run(tsNode, upArgs, { cwd: repoRoot, env, timeoutMs: 300_000 });
    for (let attempt = 2; up.code !== 0 && /exited while waiting|address already in use/.test(up.stderr) && attempt <= 3; attempt++) {
        up = await run(tsNode, upArgs, { cwd: repoRoot, env, timeoutMs: 300_000 });
    }
    if (up.code !== 0) throw new Error(`cluster up failed:\n${up.stderr}`);
    const kubeconfig = up.stdout.trim().split("\n").pop()!;
    const context = sh(kubectlPath(), ["--kubeconfig", kubeconfig, "config", "current-context"]).trim();
    const cli = async (args: string[], timeoutMs: number): Promise<void> => {
        const res = await run(tsNode, ["--transpile-only", clusterScript, ...args], { cwd: repoRoot, env, timeoutMs });
        if (res.code !== 0) throw new Error(`cluster ${args.join(" ")} failed:\n${res.stderr}`);
    };
    return {
        kubeconfig,
        context,
        stop: () => cli(["down"], 180_000),
        stopProcess: (name) => cli(["stop", name], 60_000),
        startProcess: (name) => cli(["start", name], 120_000),
    };
}

export function kubectl(cluster: Cluster, args: string[], input?: string): string {
    return sh(kubectlPath(), ["--kubeconfig", cluster.kubeconfig, "--context", cluster.context, ...args], { input });
}

export function kubectlJson<T = any>(cluster: Cluster, args: string[]): T {
    return JSON.parse(kubectl(cluster, [...args, "-o", "json"]));
}

export function apply(cluster: Cluster, objects: object[]): void {
    kubectl(
        cluster,
        ["apply", "--server-side", "--field-manager=e2e-setup", "-f", "-"],
        JSON.stringify({ apiVersion: "v1", kind: "List", items: objects }),
    );
}

export const PREEXISTING_NAMESPACES = ["monitoring", "logging", "tracing", "cert-manager", "longhorn-system"];

/** A real CA (openssl) for cert-manager's root-secret; returns the dir holding ca.crt / ca.key. */
export function makeRootCA(dir: string): { dir: string; crt: string; key: string } {
    fs.mkdirSync(dir, { recursive: true });
    sh("openssl", ["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "ca.sec1"], { cwd: dir });
    sh("openssl", ["pkcs8", "-topk8", "-nocrypt", "-in", "ca.sec1", "-out", "ca.key"], { cwd: dir });
    sh(
        "openssl",
        [
            "req",
            "-x509",
            "-new",
            "-key",
            "ca.key",
            "-subj",
            "/CN=picluster-e2e-root-ca",
            "-days",
            // A trust anchor is long-lived: `npm run check` warns within 60 days of its expiry.
            "3650",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
            "-out",
            "ca.crt",
        ],
        { cwd: dir },
    );
    return { dir, crt: fs.readFileSync(path.join(dir, "ca.crt"), "utf8"), key: fs.readFileSync(path.join(dir, "ca.key"), "utf8") };
}

/** What the guide's cluster has before Linkerd: namespaces, root-secret + ca-issuer, Longhorn (stand-in objects). */
export function prepareCluster(cluster: Cluster, ca: { crt: string; key: string }): void {
    const b64 = (s: string) => Buffer.from(s).toString("base64");
    apply(
        cluster,
        PREEXISTING_NAMESPACES.map((name) => ({ apiVersion: "v1", kind: "Namespace", metadata: { name } })),
    );
    const labels = { app: "longhorn-manager" };
    const uiLabels = { app: "longhorn-ui" };
    apply(cluster, [
        {
            apiVersion: "v1",
            kind: "Secret",
            type: "kubernetes.io/tls",
            metadata: { name: "root-secret", namespace: "cert-manager" },
            data: { "tls.crt": b64(ca.crt), "tls.key": b64(ca.key), "ca.crt": b64(ca.crt) },
        },
        { apiVersion: "cert-manager.io/v1", kind: "ClusterIssuer", metadata: { name: "ca-issuer" }, spec: { ca: { secretName: "root-secret" } } },
        {
            apiVersion: "apps/v1",
            kind: "DaemonSet",
            metadata: { name: "longhorn-manager", namespace: "longhorn-system" },
            spec: {
                selector: { matchLabels: labels },
                template: {
                    metadata: { labels },
                    spec: {
                        containers: [
                            {
                                name: "longhorn-manager",
                                // pause: on a real (e.g. kind) cluster the stand-in pods run and become ready.
                                image: "registry.k8s.io/pause:3.10",
                                env: [{ name: "POD_IP", valueFrom: { fieldRef: { apiVersion: "v1", fieldPath: "status.podIP" } } }],
                            },
                        ],
                    },
                },
            },
        },
        {
            apiVersion: "apps/v1",
            kind: "Deployment",
            metadata: { name: "longhorn-ui", namespace: "longhorn-system" },
            spec: {
                replicas: 1,
                selector: { matchLabels: uiLabels },
                template: { metadata: { labels: uiLabels }, spec: { containers: [{ name: "longhorn-ui", image: "registry.k8s.io/pause:3.10" }] } },
            },
        },
        {
            apiVersion: "storage.k8s.io/v1",
            kind: "CSIDriver",
            metadata: { name: "driver.longhorn.io" },
            spec: { attachRequired: true, podInfoOnMount: true },
        },
    ]);
    // Scheduled on the kwok nodes (locally) or real ones: the rollouts finish once the pods are Ready.
    kubectl(cluster, ["-n", "longhorn-system", "rollout", "status", "daemonset/longhorn-manager", "--timeout=120s"]);
    kubectl(cluster, ["-n", "longhorn-system", "rollout", "status", "deployment/longhorn-ui", "--timeout=120s"]);
}

export function randomPassword(n = 20): string {
    const chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    return Array.from({ length: n }, () => chars[crypto.randomInt(chars.length)]).join("");
}

/** `pulumi` with a local file backend, the toolchain first on PATH, Node 22 next. */
export class Pulumi {
    readonly env: NodeJS.ProcessEnv;
    constructor(readonly workDir: string) {
        const backend = path.join(workDir, "backend");
        const home = path.join(workDir, "pulumi-home");
        fs.mkdirSync(backend, { recursive: true });
        fs.mkdirSync(home, { recursive: true });
        this.env = {
            ...process.env,
            PATH: [binDir, path.join(repoRoot, "node_modules", ".bin"), process.env.PATH].join(path.delimiter),
            // The toolchain's stand-in plugins run this checkout's scripts (the cache is shared).
            PICLUSTER_REPO_ROOT: repoRoot,
            PULUMI_BACKEND_URL: `file://${backend}`,
            PULUMI_HOME: home,
            PULUMI_CONFIG_PASSPHRASE: "picluster-e2e-passphrase",
            PULUMI_SKIP_UPDATE_CHECK: "true",
            PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
            PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK: "true",
            PULUMI_SKIP_CONFIRMATIONS: "true",
            NO_COLOR: "1",
            // Enables the hidden `--event-log` flag (the test reads the engine events from it).
            PULUMI_DEBUG_COMMANDS: "true",
        };
        delete this.env.KUBECONFIG;
    }

    async run(cwd: string, args: string[], opts: { input?: string; timeoutMs?: number; onSpawn?: (pid: number) => void } = {}): Promise<RunResult> {
        const res = await run(path.join(binDir, "pulumi"), [...args, "--non-interactive"], {
            cwd,
            env: this.env,
            input: opts.input,
            timeoutMs: opts.timeoutMs ?? 600_000,
            onSpawn: opts.onSpawn,
        });
        if (process.env.PICLUSTER_E2E_VERBOSE)
            process.stderr.write(`[e2e] pulumi ${args.join(" ")} (${res.seconds}s, exit ${res.code})\n${res.stdout}\n${res.stderr}\n`);
        return res;
    }

    /**
     * `pulumi stack init`, keeping the repository clean: the CLI writes Pulumi.<stack>.yaml (the
     * passphrase salt) next to Pulumi.yaml, so it is moved to `file`, the --config-file every later
     * command uses.
     */
    async initStack(projectDir: string, name: string, file: string): Promise<void> {
        await this.ok(projectDir, ["stack", "init", name]);
        const written = path.join(projectDir, `Pulumi.${name}.yaml`);
        if (fs.existsSync(written)) {
            fs.copyFileSync(written, file);
            fs.rmSync(written);
        }
    }

    /** `pulumi config set --path` into the stack's --config-file. */
    async setConfig(projectDir: string, name: string, file: string, key: string, value: string, secret = false): Promise<void> {
        await this.ok(projectDir, ["config", "set", "--path", key, value, ...(secret ? ["--secret"] : []), "--config-file", file, "-s", name]);
    }

    async ok(cwd: string, args: string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<RunResult> {
        const res = await this.run(cwd, args, opts);
        if (res.code !== 0) throw new Error(`pulumi ${args.join(" ")} failed (exit ${res.code}) in ${cwd}:\n${res.stdout}\n${res.stderr}`);
        return res;
    }
}
