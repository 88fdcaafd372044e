/**
 * npm run bench - measures, in one run, each figure against a baseline measured the same way in the
 * same run (interleaved), prints a table with pass/fail, writes bench/results.json (every figure's
 * samples, baseline samples, load and machine) and the table in docs/development.md ("Benchmarks",
 * generated from results.json; test/bench.test.ts keeps them in step). Figures only: nothing here
 * fails the build; targets are reported as pass/fail.
 *
 * - program: offline render of the picluster stack vs a one-Namespace program, same harness (fresh
 *   process each; wall time and peak RSS).
 * - policy: the rules over synthetic clusters of 1k/10k/50k workloads vs a plain pass over the same
 *   objects; `policy:check` on one file of 20,000 Jobs vs the same documents in 20 files.
 * - preview, up, check, upgrade: on the e2e toolchain's engine and local cluster (bench/cluster.ts);
 *   skipped with a message when the toolchain is absent.
 * - tests: `npm test` wall time vs jest running one trivial test, alone and with one CPU-bound process beside it
 *   (load ~4, the load its target is for).
 */
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { commandLine, CommandSpec } from "../cli/args";
import { ALL_RULES, checkObject, contextFromObjects, emptyContext } from "../policy/rules";
import { main as policyCheck } from "../cli/policy-check";
import { syntheticCluster, syntheticJobsYaml } from "./syntheticCluster";
import { CLUSTER_BENCHES, ClusterBench, clusterFigures } from "./cluster";
import { Figure, Results, docsBlock, figure, loadNow, median, replaceDocsBlock, table } from "./figures";

const REPO = path.resolve(__dirname, "..");
const BIN = path.join(REPO, "node_modules", ".bin");
const ENV = { ...process.env, PATH: `${BIN}${path.delimiter}${process.env.PATH}` };
export const RESULTS_FILE = path.join(REPO, "bench", "results.json");
export const DOCS_FILE = path.join(REPO, "docs", "development.md");

function timed(command: string, args: string[], cwd = REPO): { ms: number; stdout: string } {
    const start = process.hrtime.bigint();
    const run = spawnSync(command, args, { cwd, env: ENV, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    if (run.status !== 0) throw new Error(`${command} ${args.join(" ")} failed (${run.status}):\n${run.stdout}\n${run.stderr}`);
    return { ms, stdout: run.stdout };
}

function renderOnce(program: string, stackFile?: string): { ms: number; maxRssKb: number; resources: number } {
    const args = [path.join(REPO, "bench", "render-once.ts"), program, ...(stackFile ? [stackFile] : [])];
    const { ms, stdout } = timed(path.join(BIN, "ts-node"), args);
    const last = stdout.trim().split("\n").pop()!;
    const parsed = JSON.parse(last) as { maxRssKb: number; resources: number };
    return { ms, ...parsed };
}

function programEvaluation(runs: number): Figure[] {
    const program = path.join(REPO, "index.ts");
    const floor = path.join(REPO, "bench", "floor", "index.ts");
    const stackFile = path.join(REPO, "Pulumi.picluster.yaml");
    renderOnce(floor); // warm the file system cache and ts-node's compiler once
    const picluster: ReturnType<typeof renderOnce>[] = [];
    const baseline: ReturnType<typeof renderOnce>[] = [];
    const loads: number[] = [];
    for (let i = 0; i < runs; i++) {
        // Alternate, so drift in machine load hits both sides alike.
        loads.push(loadNow());
        baseline.push(renderOnce(floor));
        picluster.push(renderOnce(program, stackFile));
    }
    const note = "baseline: the same harness on bench/floor (imports @pulumi/pulumi and @pulumi/kubernetes, registers one Namespace)";
    return [
        figure({
            name: `program-eval wall (${picluster[0].resources} resources)`,
            unit: "ms",
            digits: 0,
            samples: picluster.map((r) => r.ms),
            baselineSamples: baseline.map((r) => r.ms),
            loads,
            target: { on: "ratio", op: "<=", limit: 1.5 },
            note,
        }),
        figure({
            name: "program-eval peak RSS",
            unit: "MiB",
            digits: 1,
            samples: picluster.map((r) => r.maxRssKb / 1024),
            baselineSamples: baseline.map((r) => r.maxRssKb / 1024),
            loads,
            target: { on: "ratio", op: "<=", limit: 1.5 },
        }),
    ];
}

function samplesOf(runs: number, fn: () => void): number[] {
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
        const start = process.hrtime.bigint();
        fn();
        times.push(Number(process.hrtime.bigint() - start) / 1e6);
    }
    return times;
}

function policyThroughput(runs: number): Figure[] {
    const sizes = [1000, 10000, 50000];
    const times = new Map<number, { rules: number[]; baseline: number[]; findings: number; loads: number[] }>();
    for (const size of sizes) {
        const objects = syntheticCluster(size);
        let findings = 0;
        const check = () => {
            const ctx = contextFromObjects(objects, emptyContext());
            findings = 0;
            for (const o of objects) findings += checkObject(o, ctx, {}, ALL_RULES).length;
        };
        // Baseline: one plain pass over the same objects (serialising each), the cost of touching the data.
        let bytes = 0;
        const touch = () => {
            bytes = 0;
            for (const o of objects) bytes += JSON.stringify(o).length;
        };
        check(); // warm-up (JIT)
        touch();
        const t = { rules: [] as number[], baseline: [] as number[], findings, loads: [] as number[] };
        for (let i = 0; i < runs; i++) {
            t.loads.push(loadNow());
            t.baseline.push(...samplesOf(1, touch));
            t.rules.push(...samplesOf(1, check));
        }
        t.findings = findings;
        times.set(size, t);
        void bytes;
    }
    const note = "baseline: one JSON.stringify pass over the same objects";
    const figures: Figure[] = sizes.map((size) => {
        const t = times.get(size)!;
        return figure({
            name: `policy rules, ${size} workloads (${t.findings} findings)`,
            unit: "ms",
            digits: 1,
            samples: t.rules,
            baselineSamples: t.baseline,
            loads: t.loads,
            target: size === 10000 ? { on: "value", op: "<", limit: 1000 } : undefined,
            note: size === 1000 ? note : undefined,
        });
    });
    const small = times.get(1000)!;
    const big = times.get(50000)!;
    figures.push(
        figure({
            name: "policy growth time(50k)/time(1k)",
            unit: "x",
            digits: 1,
            samples: big.rules.map((r, i) => r / small.rules[i]),
            baselineSamples: big.baseline.map((b, i) => b / small.baseline[i]),
            loads: big.loads,
            target: { on: "value", op: "<=", limit: 60 },
            note: "baseline: the same growth of the plain pass",
        }),
    );
    return figures;
}

/**
 * policy:check as a user runs it on a big rendered file: 20,000 Jobs (and 200 Namespaces) in one file, against the
 * same documents in 20 files of 1,000 Jobs. Reading must stay linear in the number of documents per file, so the
 * ratio stays near 1; the one file must be checked in under 5 s.
 */
function policyCheckLargeFile(runs: number): Figure[] {
    const JOBS = 20000;
    const FILES = 20;
    const docs = syntheticJobsYaml(JOBS);
    const namespaces = docs.length - JOBS;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "policy-check-bench-"));
    try {
        const single = path.join(dir, "one", "jobs.yaml");
        fs.mkdirSync(path.dirname(single));
        fs.writeFileSync(single, docs.join("---\n"));
        const split = path.join(dir, "split");
        fs.mkdirSync(split);
        const per = JOBS / FILES;
        for (let f = 0; f < FILES; f++) {
            const part = [...(f === 0 ? docs.slice(0, namespaces) : []), ...docs.slice(namespaces + f * per, namespaces + (f + 1) * per)];
            fs.writeFileSync(path.join(split, `jobs-${String(f).padStart(2, "0")}.yaml`), part.join("---\n"));
        }
        let findings = 0;
        const check = (target: string) => () => {
            const r = policyCheck(
                [target],
                () => undefined,
                () => undefined,
            );
            if (r.exitCode === 2) throw new Error(`policy:check ${target} failed`);
            findings = r.findings.length;
        };
        check(single)(); // warm-up (JIT)
        const n = Math.min(runs, 3);
        const one: number[] = [];
        const files: number[] = [];
        const loads: number[] = [];
        for (let i = 0; i < n; i++) {
            loads.push(loadNow());
            files.push(...samplesOf(1, check(split)).map((ms) => ms / 1000));
            one.push(...samplesOf(1, check(single)).map((ms) => ms / 1000));
        }
        return [
            figure({
                name: `policy:check, ${JOBS} Jobs in one file (${findings} findings)`,
                unit: "s",
                samples: one,
                baselineSamples: files,
                loads,
                target: { on: "value", op: "<", limit: 5 },
                note: `baseline: the same documents in ${FILES} files; ${n} runs each`,
            }),
        ];
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

/** Runs `fn` while `busy` CPU-bound processes run beside it (each a Node busy loop), then stops them. */
function withBusyProcesses<T>(busy: number, fn: () => T): T {
    const loops = Array.from({ length: busy }, () => spawn(process.execPath, ["-e", "for (;;) {}"], { stdio: "ignore" }));
    try {
        return fn();
    } finally {
        for (const loop of loops) loop.kill("SIGKILL");
    }
}

/**
 * `npm test` as it runs alone, and with one CPU-bound process beside it: the suite itself keeps about three
 * processes runnable (its jest workers, the processes its CLI tests start), so one more brings the load
 * average to about 4 on this machine, the load the target is set for; the load recorded for those samples
 * is the one at their end (the 1-minute average has then caught up with the run).
 */
function testSuite(runs: number): Figure[] {
    const suite: number[] = [];
    const floor: number[] = [];
    const loads: number[] = [];
    for (let i = 0; i < runs; i++) {
        loads.push(loadNow());
        floor.push(timed(path.join(BIN, "jest"), ["test/smoke.test.ts"]).ms / 1000);
        suite.push(timed("npm", ["test", "--silent"]).ms / 1000);
        process.stderr.write(`[bench] npm test ${i + 1}/${runs}: ${suite[i].toFixed(1)} s (load ${loads[i]})\n`);
    }
    const loaded: number[] = [];
    const loadedFloor: number[] = [];
    const loadedLoads: number[] = [];
    for (let i = 0; i < Math.min(runs, 3); i++) {
        withBusyProcesses(1, () => {
            loadedFloor.push(timed(path.join(BIN, "jest"), ["test/smoke.test.ts"]).ms / 1000);
            loaded.push(timed("npm", ["test", "--silent"]).ms / 1000);
            loadedLoads.push(loadNow());
        });
        process.stderr.write(`[bench] npm test beside a busy process ${i + 1}: ${loaded[i].toFixed(1)} s (load at its end ${loadedLoads[i]})\n`);
    }
    const what = "tsc, eslint, prettier and dependency-cruiser side by side, then jest";
    return [
        figure({
            name: "npm test wall",
            unit: "s",
            digits: 1,
            samples: suite,
            baselineSamples: floor,
            loads,
            note: `${what}; baseline: jest running one trivial test. At the machine's load; the target is for load 4 (next figure)`,
        }),
        figure({
            name: "npm test wall, one busy process beside it (load ~4)",
            unit: "s",
            digits: 1,
            samples: loaded,
            baselineSamples: loadedFloor,
            loads: loadedLoads,
            target: { on: "value", op: "<", limit: 60 },
            note: `one CPU-bound process (a Node busy loop) runs beside the suite and its baseline; the load is the 1-minute average at the end of each sample`,
        }),
    ];
}

const BENCHES = ["program", "policy", ...CLUSTER_BENCHES, "tests"] as const;

export const BENCH_COMMAND: CommandSpec = {
    usage: "npm run bench --",
    summary:
        "Measures each figure against a baseline measured the same way in the same run, prints a table with pass/fail and " +
        "writes bench/results.json and the table in docs/development.md; with --only, the figures measured replace those of the " +
        "same name and the others are kept. The cluster figures (preview, up, check, upgrade) need the e2e toolchain " +
        "(`npm run toolchain`) and are skipped, saying so, without it.",
    options: {
        only: { type: "string", value: "<name,...>", choices: BENCHES, help: "Run only these benchmarks (default all)." },
        runs: { type: "string", value: "<n>", default: "5", help: "Runs per measured figure; the median is reported (default 5)." },
    },
    exitCodes: { 1: "a benchmark could not run (e.g. npm test failed); bench/results.json is left as it was" },
};

/** The previous results, or none. */
export function readResults(file = RESULTS_FILE): Results | undefined {
    try {
        const parsed = JSON.parse(fs.readFileSync(file, "utf8")) as Partial<Results>;
        return Array.isArray(parsed.figures) && parsed.figures.every((f: Partial<Figure>) => Array.isArray(f.samples))
            ? (parsed as Results)
            : undefined;
    } catch {
        return undefined;
    }
}

async function main() {
    const { values } = commandLine<{ only?: string; runs: string }>("bench", BENCH_COMMAND);
    if (!/^[1-9][0-9]*$/.test(values.runs)) {
        console.error(`bench: --runs must be a positive whole number, got "${values.runs}"`);
        process.exit(2);
    }
    const runs = Number(values.runs);
    const only = values.only?.split(",");
    const want = (name: string) => !only || only.includes(name);
    const figures: Figure[] = [];
    const skipped: string[] = [];
    if (want("program")) figures.push(...programEvaluation(runs));
    if (want("policy")) figures.push(...policyThroughput(runs), ...policyCheckLargeFile(runs));
    if (CLUSTER_BENCHES.some(want)) {
        const cluster = await clusterFigures(runs, (b: ClusterBench) => want(b));
        if ("skipped" in cluster) {
            const which = CLUSTER_BENCHES.filter(want).join(", ");
            skipped.push(`${which}: ${cluster.skipped}`);
            console.error(`bench: skipping the cluster figures (${which}): ${cluster.skipped}`);
        } else figures.push(...cluster.figures);
    }
    if (want("tests")) figures.push(...testSuite(runs));

    const previous = only ? readResults() : undefined;
    const kept = (previous?.figures ?? []).filter((p) => !figures.some((f) => f.name === p.name));
    const results: Results = { measuredAt: new Date().toISOString(), skipped, figures: [...kept, ...figures] };
    console.log(figures.length > 0 ? table(figures) : "no figures measured");
    for (const f of figures) if (f.note) console.log(`- ${f.name}: ${f.note}`);
    for (const s of skipped) console.log(`skipped: ${s}`);
    console.log(
        `machine: ${os.cpus().length} cores, node ${process.version}, load now ${loadNow()}; median load of the samples ${figures.length > 0 ? median(figures.flatMap((f) => f.loads)) : "-"}`,
    );
    fs.writeFileSync(RESULTS_FILE, JSON.stringify(results, null, 2) + "\n");
    fs.writeFileSync(DOCS_FILE, replaceDocsBlock(fs.readFileSync(DOCS_FILE, "utf8"), docsBlock(results)));
    console.log(`wrote ${path.relative(REPO, RESULTS_FILE)} and the table in ${path.relative(REPO, DOCS_FILE)}`);
}

if (require.main === module) {
    main().catch((e) => {
        console.error(e instanceof Error ? e.message : e);
        process.exit(1);
    });
}
