/**
 * Start the policy pack the way the Pulumi engine does and talk to it over the Analyzer gRPC interface:
 * the Node language host runs `node <@pulumi/pulumi/cmd/run-policy-pack> <engine-address> <pack dir>` with the pack
 * directory as working directory (ts-node registered with type checking), reads the port from the first line of
 * stdout, then calls GetAnalyzerInfo, Configure, Analyze (per resource) and AnalyzeStack.
 */
import { ChildProcess, spawn } from "node:child_process";
import * as path from "node:path";

const ROOT = path.resolve(__dirname, "../..");
const PACK_DIR = path.join(ROOT, "policy");
const PULUMI_DIR = path.dirname(require.resolve("@pulumi/pulumi/package.json", { paths: [PACK_DIR] }));
// Load the proto modules (and grpc/google-protobuf) from the same place the pack does.
// eslint-disable-next-line @typescript-eslint/no-require-imports -- the modules the pack itself loads, resolved from its own @pulumi/pulumi
const req = (m: string) => require(require.resolve(m, { paths: [PULUMI_DIR] }));
const grpc = req("@grpc/grpc-js");
export const analyzerPb = req("@pulumi/pulumi/proto/analyzer_pb");
const analyzerGrpc = req("@pulumi/pulumi/proto/analyzer_grpc_pb");
const { Struct } = req("google-protobuf/google/protobuf/struct_pb");
export const { Empty } = req("google-protobuf/google/protobuf/empty_pb");

export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"; // how the engine encodes unknown (preview) values
export const E = analyzerPb.EnforcementLevel;
export const PACK = "picluster-linkerd";

export interface PackServer {
    call<T = any>(method: string, request: unknown): Promise<T>;
    stop(): void;
}

/** How long the pack may take to print its port: ts-node compiles it first, which a loaded 2-core machine makes slow. */
export const START_TIMEOUT_MS = Number(process.env.PICLUSTER_PACK_START_TIMEOUT_MS ?? 180_000);

/** Every pack process started by this test file, stopped when the file's process exits. */
const started = new Set<ChildProcess>();
process.once("exit", () => {
    for (const child of started) kill(child);
});

/**
 * The pack runs under a small guard process that owns it: the guard kills the pack when its stdin
 * (a pipe from this process) closes or when it gets SIGTERM/SIGINT, and exits with it. A pipe closes
 * however this process ends - a jest timeout, a crash, SIGKILL of the worker - so no
 * `run-policy-pack` outlives the test that started it.
 */
const GUARD = [
    'const { spawn } = require("node:child_process");',
    'const pack = spawn(process.execPath, process.argv.slice(1), { stdio: ["ignore", "inherit", "inherit"] });',
    "const stop = () => { try { pack.kill('SIGKILL'); } catch {} process.exit(1); };",
    'process.stdin.on("end", stop); process.stdin.on("error", stop); process.stdin.resume();',
    'process.on("SIGTERM", stop); process.on("SIGINT", stop);',
    'pack.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));',
].join("\n");

function kill(child: ChildProcess): void {
    started.delete(child);
    if (child.exitCode !== null || child.signalCode !== null) return;
    // SIGTERM, not SIGKILL: the guard must live long enough to kill the pack.
    child.stdin?.destroy();
    child.kill("SIGTERM");
}

export async function startPack(): Promise<PackServer> {
    let stderr = "";
    const node = path.join(ROOT, "node_modules", ".bin", "node");
    const runPolicyPack = path.join(PULUMI_DIR, "cmd", "run-policy-pack");
    const child: ChildProcess = spawn(node, ["-e", GUARD, runPolicyPack, "127.0.0.1:1", PACK_DIR], {
        cwd: PACK_DIR,
        env: { ...process.env },
        stdio: ["pipe", "pipe", "pipe"],
    });
    started.add(child);
    child.stderr!.on("data", (d) => (stderr += d.toString()));
    let port: string;
    try {
        port = await new Promise<string>((resolve, reject) => {
            let out = "";
            const timer = setTimeout(
                () => reject(new Error(`policy pack did not print a port in ${START_TIMEOUT_MS / 1000}s; stderr:\n${stderr}`)),
                START_TIMEOUT_MS,
            );
            child.stdout!.on("data", (d) => {
                out += d.toString();
                const nl = out.indexOf("\n");
                if (nl >= 0) {
                    clearTimeout(timer);
                    resolve(out.slice(0, nl).trim());
                }
            });
            child.once("error", (e) => {
                clearTimeout(timer);
                reject(e);
            });
            child.once("exit", (code, signal) => {
                clearTimeout(timer);
                reject(new Error(`policy pack exited (${code ?? signal}) before printing a port:\n${stderr}`));
            });
        });
        if (!/^\d+$/.test(port)) throw new Error(`policy pack printed "${port}" instead of a port`);
    } catch (e) {
        kill(child);
        throw e;
    }
    const client = new analyzerGrpc.AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    return {
        call: (method, request) =>
            new Promise((resolve, reject) => client[method](request, (err: Error | null, res: any) => (err ? reject(err) : resolve(res)))),
        stop: () => {
            client.close();
            kill(child);
        },
    };
}

// --- engine-side request builders ------------------------------------------------------------------------------

export interface Res {
    type: string;
    name: string;
    props: Record<string, unknown>;
    provider?: Record<string, unknown>;
}

export function urn(r: Res): string {
    return `urn:pulumi:picluster::picluster-linkerd::${r.type}::${r.name}`;
}

function options() {
    const o = new analyzerPb.AnalyzerResourceOptions();
    o.setCustomtimeouts(new analyzerPb.AnalyzerResourceOptions.CustomTimeouts());
    return o;
}

function provider(props: Record<string, unknown> = {}) {
    const p = new analyzerPb.AnalyzerProviderResource();
    p.setType("pulumi:providers:kubernetes");
    p.setName("k3s");
    p.setUrn("urn:pulumi:picluster::picluster-linkerd::pulumi:providers:kubernetes::k3s");
    p.setProperties(Struct.fromJavaScript(props));
    return p;
}

export function analyzeRequest(r: Res) {
    const a = new analyzerPb.AnalyzeRequest();
    a.setType(r.type);
    a.setName(r.name);
    a.setUrn(urn(r));
    a.setProperties(Struct.fromJavaScript(r.props));
    a.setOptions(options());
    a.setProvider(provider(r.provider));
    return a;
}

export function stackRequest(resources: Res[]) {
    const s = new analyzerPb.AnalyzeStackRequest();
    s.setResourcesList(
        resources.map((r) => {
            const a = new analyzerPb.AnalyzerResource();
            a.setType(r.type);
            a.setName(r.name);
            a.setUrn(urn(r));
            a.setProperties(Struct.fromJavaScript(r.props));
            a.setOptions(options());
            a.setProvider(provider(r.provider));
            return a;
        }),
    );
    return s;
}

export async function configure(pack: PackServer, config: Record<string, { level: number; props?: Record<string, unknown> }>) {
    const req = new analyzerPb.ConfigureAnalyzerRequest();
    const m = req.getPolicyconfigMap();
    for (const [k, v] of Object.entries(config)) {
        const pc = new analyzerPb.PolicyConfig();
        pc.setEnforcementlevel(v.level);
        pc.setProperties(Struct.fromJavaScript(v.props ?? {}));
        m.set(k, pc);
    }
    await pack.call("configure", req);
}

export interface Diag {
    policy: string;
    pack: string;
    level: number;
    urn: string;
    message: string;
}

export function diags(res: any): Diag[] {
    return res.getDiagnosticsList().map((d: any) => ({
        policy: d.getPolicyname(),
        pack: d.getPolicypackname(),
        level: d.getEnforcementlevel(),
        urn: d.getUrn(),
        message: d.getMessage(),
    }));
}
