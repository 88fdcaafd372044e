/**
 * The figures that need the real engine and the local cluster (the e2e toolchain), measured on one
 * cluster brought up once, one after the other:
 *
 * - real preview: `pulumi preview` of the picluster stack against `bench/floor` (one Namespace) on the
 *   same engine, backend and API server, interleaved;
 * - up: `pulumi up` of the full stack against its critical path, the longest chain of steps along the
 *   dependencies in the same run's engine event log (bench/eventLog.ts): the Helm releases' waits,
 *   mostly; each sample a fresh install (destroyed between samples, not timed);
 * - check: `npm run check` on that stack, against one kubectl read of the same cluster;
 * - upgrade: `npm run upgrade` of a control-plane stack from stable-2.14.10 to edge-26.8.3 (every
 *   major), the `pulumi` it runs wrapped so each hop's `up` writes an event log: each hop's time
 *   against the critical path of its `up`, and the whole upgrade against their sum.
 *
 * Skipped, with the reason, when the toolchain or the charts are absent.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { PROJECT } from "../lib/config";
import { HOP_RELEASES } from "../lib/upgrade/plan";
import { releaseOfVersion } from "../lib/release";
import {
    CONTROL_PLANE_ONLY,
    EDGE,
    Pulumi,
    STABLE,
    apply,
    binDir,
    chartRepoDir,
    checkChartsPresent,
    kubectl,
    kubectlPath,
    makeRootCA,
    prepareCluster,
    repoRoot,
    run,
    simulatedDeployment,
    startChartRepo,
    startCluster,
    toolchainDir,
} from "../test/e2e/harness";
import type { Cluster } from "../test/e2e/harness";
import { EventLogTail, Step, chainText, criticalPath, dependenciesOf } from "./eventLog";
import { Figure, figure, loadNow } from "./figures";

const FLOOR = path.join(repoRoot, "bench", "floor");
const NEEDED = [
    "pulumi",
    "language-nodejs",
    "provider-kubernetes",
    "provider-random",
    "provider-command",
    "kubernetes",
    "etcd",
    "kwok",
    "cert-manager",
];
export const CLUSTER_BENCHES = ["preview", "up", "check", "upgrade"] as const;
export type ClusterBench = (typeof CLUSTER_BENCHES)[number];

/** Why the cluster figures cannot be measured here, or undefined. */
export function toolchainProblem(): string | undefined {
    const manifest = path.join(toolchainDir, "manifest.json");
    if (!fs.existsSync(manifest)) return `no e2e toolchain at ${toolchainDir}: run \`npm run toolchain\` (needs Go; docs/toolchain.md)`;
    type Component = { name: string; source: string };
    const parsed = JSON.parse(fs.readFileSync(manifest, "utf8")) as Component[] | { components: Component[] };
    const components = Array.isArray(parsed) ? parsed : parsed.components;
    const missing = NEEDED.filter((n) => !components.some((c) => c.name === n && c.source !== "unavailable"));
    if (missing.length) return `the e2e toolchain lacks ${missing.join(", ")}: run \`npm run toolchain\``;
    try {
        checkChartsPresent(chartRepoDir(), upgradeReleases());
    } catch (e) {
        return (e as Error).message.split("\n")[0];
    }
    return undefined;
}

function upgradeReleases() {
    const hops = Object.values(HOP_RELEASES)
        .map((v) => releaseOfVersion(v)!)
        .filter((r) => r.minor > STABLE.minor);
    return [STABLE, ...hops, EDGE];
}

interface Env {
    readonly work: string;
    readonly cluster: Cluster;
    readonly pulumi: Pulumi;
    readonly chartUrl: string;
}

interface BenchStack {
    readonly dir: string;
    readonly name: string;
    readonly file: string;
    readonly args: string[];
}

/** A stack of `dir` (the repository or bench/floor) whose stack file holds `config` (project keys) and `raw` keys. */
async function newStack(env: Env, dir: string, name: string, config: Record<string, unknown>, raw: Record<string, string> = {}): Promise<BenchStack> {
    const file = path.join(env.work, `Pulumi.${name}.yaml`);
    await env.pulumi.initStack(dir, name, file);
    const lines = [
        ...Object.entries(config).map(([k, v]) => `  ${PROJECT}:${k}: ${JSON.stringify(v)}`),
        ...Object.entries(raw).map(([k, v]) => `  ${k}: ${JSON.stringify(v)}`),
    ];
    if (lines.length) fs.appendFileSync(file, `config:\n${lines.join("\n")}\n`);
    return { dir, name, file, args: ["--config-file", file, "-s", name] };
}

function baseConfig(env: Env, release = STABLE): Record<string, unknown> {
    return {
        kubernetes: { kubeconfig: env.cluster.kubeconfig, context: env.cluster.context },
        linkerd: { channel: release.channel, version: release.version, chartRepository: env.chartUrl },
        ingress: { traefik: { chartRepository: env.chartUrl } },
        longhorn: { kubectl: kubectlPath() },
    };
}

const log = (s: string) => process.stderr.write(`[bench] ${s}\n`);

async function previewFigure(env: Env, runs: number): Promise<Figure> {
    const picluster = await newStack(env, repoRoot, `bench-preview-${process.pid}`, baseConfig(env));
    const floor = await newStack(
        env,
        FLOOR,
        `floor-${process.pid}`,
        {},
        { "kubernetes:kubeconfig": env.cluster.kubeconfig, "kubernetes:context": env.cluster.context },
    );
    const preview = async (s: BenchStack) => (await env.pulumi.ok(s.dir, ["preview", ...s.args])).seconds;
    await preview(floor); // warm the plugin and compile caches once
    await preview(picluster);
    const samples: number[] = [];
    const base: number[] = [];
    const loads: number[] = [];
    for (let i = 0; i < runs; i++) {
        loads.push(loadNow());
        base.push(await preview(floor));
        samples.push(await preview(picluster));
        log(`preview ${i + 1}/${runs}: ${samples[i]} s, floor ${base[i]} s`);
    }
    for (const s of [picluster, floor]) await env.pulumi.ok(s.dir, ["stack", "rm", "--yes", "--force", "-s", s.name]);
    return figure({
        name: "real pulumi preview (picluster stack)",
        unit: "s",
        samples,
        baselineSamples: base,
        loads,
        target: { on: "ratio", op: "<=", limit: 1.3 },
        note: "baseline: `pulumi preview` of bench/floor (one Namespace) on the same engine, backend and API server, interleaved",
    });
}

/** `pulumi up` with an event log, and the critical path of what it did. */
async function timedUp(env: Env, s: BenchStack): Promise<{ seconds: number; critical: ReturnType<typeof criticalPath> }> {
    const dir = fs.mkdtempSync(path.join(env.work, "events-"));
    const tail = new EventLogTail(dir);
    const res = await env.pulumi.ok(s.dir, ["up", "--yes", "--skip-preview", "--event-log", path.join(dir, "up.jsonl"), ...s.args]);
    const steps = tail.stop().get("up.jsonl") ?? [];
    const exported = JSON.parse((await env.pulumi.ok(s.dir, ["stack", "export", "-s", s.name])).stdout) as unknown;
    return { seconds: res.seconds, critical: criticalPath(steps, dependenciesOf(exported)) };
}

async function upFigure(env: Env, runs: number, stack: BenchStack): Promise<Figure> {
    const samples: number[] = [];
    const base: number[] = [];
    const loads: number[] = [];
    let chain = "";
    for (let i = 0; i < runs; i++) {
        if (i > 0) await env.pulumi.ok(stack.dir, ["destroy", "--yes", ...stack.args]);
        loads.push(loadNow());
        const { seconds, critical } = await timedUp(env, stack);
        samples.push(seconds);
        base.push(critical.ms / 1000);
        chain = chainText(critical);
        log(`up ${i + 1}/${runs}: ${seconds} s, critical path ${(critical.ms / 1000).toFixed(1)} s (Helm ${(critical.helmMs / 1000).toFixed(1)} s)`);
    }
    return figure({
        name: "pulumi up, full stack (fresh install)",
        unit: "s",
        samples,
        baselineSamples: base,
        loads,
        target: { on: "ratio", op: "<=", limit: 1.2 },
        note: `baseline: the critical path of the same up (longest chain of steps along the dependencies, from the engine's event log), last: ${chain}`,
    });
}

async function checkFigure(env: Env, runs: number, stack: BenchStack): Promise<Figure> {
    const check = () =>
        run("npm", ["run", "--silent", "check", "--", "--stack", stack.name, "--stack-file", stack.file], { cwd: repoRoot, env: env.pulumi.env });
    const oneRead = () =>
        run(kubectlPath(), ["--kubeconfig", env.cluster.kubeconfig, "--context", env.cluster.context, "get", "namespaces", "-o", "json"], {
            env: env.pulumi.env,
        });
    const first = await check();
    if (first.code !== 0) throw new Error(`npm run check failed on the bench stack (exit ${first.code}):\n${first.stdout}\n${first.stderr}`);
    const samples: number[] = [];
    const base: number[] = [];
    const loads: number[] = [];
    for (let i = 0; i < runs; i++) {
        loads.push(loadNow());
        base.push((await oneRead()).seconds);
        const r = await check();
        if (r.code !== 0) throw new Error(`npm run check failed (exit ${r.code}):\n${r.stderr}`);
        samples.push(r.seconds);
    }
    return figure({
        name: "npm run check (full stack)",
        unit: "s",
        samples,
        baselineSamples: base,
        loads,
        target: { on: "value", op: "<=", limit: 1 },
        note: "as users run it (`npm run check -- --stack ... --stack-file ...`, npm included); baseline: one `kubectl get namespaces -o json` of the same cluster",
    });
}

/**
 * A `pulumi` first on PATH for `npm run upgrade` (it runs `pulumi` from PATH): every
 * `up` gets `--event-log` into `dir` (`<n>.jsonl`), its start and end times (`<n>.times`, ms since
 * the epoch) and the stack's export after it (`<n>.export.json`).
 */
function pulumiWrapper(dir: string, stackName: string): string {
    const bin = path.join(dir, "bin");
    fs.mkdirSync(bin, { recursive: true });
    const real = path.join(binDir, "pulumi");
    const script = `#!/bin/sh
if [ "$1" = "up" ]; then
  n=$(date +%s%N)
  echo "start $(date +%s%3N)" > "${dir}/$n.times"
  "${real}" "$@" --event-log "${dir}/$n.jsonl"
  rc=$?
  echo "end $(date +%s%3N)" >> "${dir}/$n.times"
  "${real}" stack export --stack "${stackName}" > "${dir}/$n.export.json" 2>/dev/null
  exit $rc
fi
exec "${real}" "$@"
`;
    fs.writeFileSync(path.join(bin, "pulumi"), script, { mode: 0o755 });
    return bin;
}

async function upgradeFigures(env: Env): Promise<Figure[]> {
    const stack = await newStack(env, repoRoot, `bench-upgrade-${process.pid}`, {
        ...baseConfig(env, STABLE),
        ...CONTROL_PLANE_ONLY,
        meshing: { namespaces: ["monitoring"] },
    });
    await env.pulumi.ok(repoRoot, ["up", "--yes", "--skip-preview", ...stack.args]);
    apply(env.cluster, [simulatedDeployment("monitoring", "bench-web")]);
    kubectl(env.cluster, ["-n", "monitoring", "rollout", "status", "deployment/bench-web", "--timeout=180s"]);

    const dir = fs.mkdtempSync(path.join(env.work, "upgrade-events-"));
    const bin = pulumiWrapper(dir, stack.name);
    const tail = new EventLogTail(dir);
    const load = loadNow();
    const started = Date.now();
    const res = await run("npm", ["run", "--silent", "upgrade", "--", "--stack", stack.name, "--stack-file", stack.file, "--to", EDGE.version], {
        cwd: repoRoot,
        env: { ...env.pulumi.env, PATH: `${bin}${path.delimiter}${env.pulumi.env.PATH}` },
        timeoutMs: 40 * 60_000,
    });
    const ended = Date.now();
    const logs = tail.stop();
    // A pulumi command given no config file saves the stack's settings (its encryption salt) beside Pulumi.yaml: not the bench's to leave.
    fs.rmSync(path.join(repoRoot, `Pulumi.${stack.name}.yaml`), { force: true });
    if (res.code !== 0) throw new Error(`npm run upgrade failed (exit ${res.code}):\n${res.stdout}\n${res.stderr}`);
    const ups = [...logs.keys()].map((f) => f.replace(/\.jsonl$/, "")).sort();
    const hops: { seconds: number; up: number; critical: number; chain: string }[] = ups.map((n, i) => {
        const times = fs.readFileSync(path.join(dir, `${n}.times`), "utf8");
        const start = Number(/start (\d+)/.exec(times)![1]);
        const end = Number(/end (\d+)/.exec(times)?.[1] ?? start);
        const next = i + 1 < ups.length ? Number(/start (\d+)/.exec(fs.readFileSync(path.join(dir, `${ups[i + 1]}.times`), "utf8"))![1]) : ended;
        // The first hop also holds what the command does before its up (the plan, reading the cluster).
        const from = i === 0 ? started : start;
        const steps: Step[] = logs.get(`${n}.jsonl`) ?? [];
        const exported = JSON.parse(fs.readFileSync(path.join(dir, `${n}.export.json`), "utf8")) as unknown;
        const cp = criticalPath(steps, dependenciesOf(exported));
        return { seconds: (next - from) / 1000, up: (end - start) / 1000, critical: cp.ms / 1000, chain: chainText(cp) };
    });
    await env.pulumi.ok(repoRoot, ["destroy", "--yes", ...stack.args]);
    const hopRatios = hops.map((h) => h.seconds / h.critical);
    log(
        `upgrade: ${hops.map((h) => `${h.seconds.toFixed(1)} s / ${h.critical.toFixed(1)} s`).join(", ")}; whole ${((ended - started) / 1000).toFixed(1)} s`,
    );
    const middle = hops[hopRatios.indexOf([...hopRatios].sort((a, b) => a - b)[Math.floor(hops.length / 2)])];
    return [
        figure({
            name: "upgrade, one hop (each hop of the upgrade below)",
            unit: "s",
            samples: hops.map((h) => h.seconds),
            baselineSamples: hops.map((h) => h.critical),
            loads: hops.map(() => load),
            target: { on: "ratio", op: "<=", limit: 1.3 },
            note:
                `each hop of one \`npm run upgrade\` (its up, the restart of the meshed workloads, the proxies verified, the check) against the critical path of its \`pulumi up\` ` +
                `(event log); the samples are the ${hops.length} hops, not repeated runs; the median hop's \`pulumi up\` took ${middle ? `${middle.up.toFixed(1)} s of its ${middle.seconds.toFixed(1)} s, critical path ${middle.critical.toFixed(1)} s: ${middle.chain}` : "-"}`,
        }),
        figure({
            name: `upgrade ${STABLE.version} -> ${EDGE.version} (control plane, one meshed Deployment)`,
            unit: "s",
            samples: [(ended - started) / 1000],
            baselineSamples: [hops.reduce((a, h) => a + h.critical, 0)],
            loads: [load],
            target: { on: "ratio", op: "<=", limit: 1.3 },
            note: `one sample (one upgrade takes minutes); baseline: the sum of the critical paths of its ${hops.length} hops' \`pulumi up\``,
        }),
    ];
}

export async function clusterFigures(runs: number, want: (b: ClusterBench) => boolean): Promise<{ figures: Figure[] } | { skipped: string }> {
    const problem = toolchainProblem();
    if (problem) return { skipped: problem };
    const work = fs.mkdtempSync(path.join(os.tmpdir(), "picluster-bench-"));
    const charts = await startChartRepo(chartRepoDir());
    let cluster: Cluster | undefined;
    try {
        log("starting the local cluster");
        cluster = await startCluster(work, { gatewayApiCrds: false });
        prepareCluster(cluster, makeRootCA(path.join(work, "root-ca")));
        const env: Env = { work, cluster, pulumi: new Pulumi(work), chartUrl: charts.url };
        const figures: Figure[] = [];
        if (want("preview")) figures.push(await previewFigure(env, runs));
        if (want("up") || want("check")) {
            const stack = await newStack(env, repoRoot, `bench-up-${process.pid}`, baseConfig(env));
            if (want("up")) figures.push(await upFigure(env, runs, stack));
            else await timedUp(env, stack);
            if (want("check")) figures.push(await checkFigure(env, runs, stack));
            await env.pulumi.ok(repoRoot, ["destroy", "--yes", ...stack.args]);
        }
        if (want("upgrade")) figures.push(...(await upgradeFigures(env)));
        return { figures };
    } finally {
        await cluster?.stop();
        charts.stop();
        if (!process.env.PICLUSTER_BENCH_KEEP) fs.rmSync(work, { recursive: true, force: true });
    }
}
