/**
 * npm run bench — measures, in one run, each figure against a baseline measured the same way in
 * the same run, prints a table and writes bench/results.json. Figures only: nothing here fails the
 * build; targets are reported as pass/fail.
 *
 * 1. program-eval: offline render of the picluster stack vs a one-Namespace program, same harness
 *    (fresh process each, median wall time and peak RSS).
 * 2. policy: the rules over synthetic clusters of 1k/10k/50k workloads vs a plain pass over the
 *    same objects; 10k in under 1 s, time(50k)/time(1k) <= 60. And `policy:check` (reading YAML included) on one
 *    file of 20,000 Jobs vs the same documents split into 20 files; the one file in under 5 s.
 * 3. real-preview: `pulumi preview` of the picluster stack vs a one-resource program on the same
 *    engine and backend (skipped with a message when the toolchain is absent).
 * 4. test-suite: `npm test` wall time vs jest running one trivial test.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { commandLine, CommandSpec } from "../cli/args";
import { ALL_RULES, checkObject, contextFromObjects, emptyContext } from "../policy/rules";
import { main as policyCheck } from "../cli/policy-check";
import { syntheticCluster, syntheticJobsYaml } from "./syntheticCluster";
import { realPreviewFigures } from "./preview";

const REPO = path.resolve(__dirname, "..");
const BIN = path.join(REPO, "node_modules", ".bin");
const ENV = { ...process.env, PATH: `${BIN}${path.delimiter}${process.env.PATH}` };

export interface Figure {
    name: string;
    value: number;
    unit: string;
    baseline: number | null;
    ratio: number | null;
    target: string;
    pass: boolean | null;
}

function median(values: number[]): number {
    const sorted = [...values].sort((a, b) => a - b);
    const mid = Math.floor(sorted.length / 2);
    return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const round = (x: number, digits = 3) => Number(x.toFixed(digits));

function timed(command: string, args: string[], cwd = REPO): { ms: number; stdout: string } {
    const start = process.hrtime.bigint();
    const run = spawnSync(command, args, { cwd, env: ENV, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    if (run.status !== 0) throw new Error(`${command} ${args.join(" ")} failed (${run.status}):\n${run.stderr}`);
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
    for (let i = 0; i < runs; i++) {
        // Alternate, so drift in machine load hits both sides alike.
        baseline.push(renderOnce(floor));
        picluster.push(renderOnce(program, stackFile));
    }
    const ms = median(picluster.map((r) => r.ms));
    const baseMs = median(baseline.map((r) => r.ms));
    const rss = median(picluster.map((r) => r.maxRssKb)) / 1024;
    const baseRss = median(baseline.map((r) => r.maxRssKb)) / 1024;
    return [
        {
            name: `program-eval wall (${picluster[0].resources} resources)`,
            value: round(ms, 0),
            unit: "ms",
            baseline: round(baseMs, 0),
            ratio: round(ms / baseMs),
            target: "ratio <= 1.5",
            pass: ms / baseMs <= 1.5,
        },
        {
            name: "program-eval peak RSS",
            value: round(rss, 1),
            unit: "MiB",
            baseline: round(baseRss, 1),
            ratio: round(rss / baseRss),
            target: "ratio <= 1.5",
            pass: rss / baseRss <= 1.5,
        },
    ];
}

function bestOf(runs: number, fn: () => void): number {
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
        const start = process.hrtime.bigint();
        fn();
        times.push(Number(process.hrtime.bigint() - start) / 1e6);
    }
    return median(times);
}

function policyThroughput(): Figure[] {
    const sizes = [1000, 10000, 50000];
    const times = new Map<number, { rules: number; baseline: number; findings: number }>();
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
        times.set(size, { rules: bestOf(3, check), baseline: bestOf(3, touch), findings });
        void bytes;
    }
    const figures: Figure[] = sizes.map((size) => {
        const t = times.get(size)!;
        return {
            name: `policy rules, ${size} workloads (${t.findings} findings)`,
            value: round(t.rules, 1),
            unit: "ms",
            baseline: round(t.baseline, 1),
            ratio: round(t.rules / t.baseline),
            target: size === 10000 ? "< 1000 ms" : "-",
            pass: size === 10000 ? t.rules < 1000 : null,
        };
    });
    const growth = times.get(50000)!.rules / times.get(1000)!.rules;
    const baseGrowth = times.get(50000)!.baseline / times.get(1000)!.baseline;
    figures.push({
        name: "policy growth time(50k)/time(1k)",
        value: round(growth, 1),
        unit: "x",
        baseline: round(baseGrowth, 1),
        ratio: round(growth / baseGrowth),
        target: "<= 60",
        pass: growth <= 60,
    });
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
        const oneFile = bestOf(n, check(single)) / 1000;
        const files = bestOf(n, check(split)) / 1000;
        return [
            {
                name: `policy:check, ${JOBS} Jobs in one file (${findings} findings; baseline: the same in ${FILES} files)`,
                value: round(oneFile, 2),
                unit: "s",
                baseline: round(files, 2),
                ratio: round(oneFile / files, 2),
                target: "< 5 s",
                pass: oneFile < 5,
            },
        ];
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

function testSuite(): Figure[] {
    const floor = timed(path.join(BIN, "jest"), ["test/smoke.test.ts"]).ms;
    const suite = timed("npm", ["test", "--silent"]).ms;
    return [
        {
            name: "npm test wall",
            value: round(suite / 1000, 1),
            unit: "s",
            baseline: round(floor / 1000, 1),
            ratio: round(suite / floor, 1),
            target: "< 60 s",
            pass: suite < 60000,
        },
    ];
}

function table(figures: Figure[]): string {
    const header = ["figure", "value", "baseline", "ratio", "target", "pass"];
    const rows = figures.map((f) => [
        f.name,
        `${f.value} ${f.unit}`,
        f.baseline === null ? "-" : `${f.baseline} ${f.unit}`,
        f.ratio === null ? "-" : String(f.ratio),
        f.target,
        f.pass === null ? "-" : f.pass ? "yes" : "NO",
    ]);
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(" | ")} |`;
    return [line(header), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...rows.map(line)].join("\n");
}

const BENCHES = ["program", "policy", "preview", "tests"] as const;

export const BENCH_COMMAND: CommandSpec = {
    usage: "npm run bench --",
    summary:
        "Measures each figure against a baseline measured the same way in the same run, prints a table and " +
        "writes bench/results.json; with --only, the figures measured replace those of the same name and the others are kept.",
    options: {
        only: { type: "string", value: "<name,...>", choices: BENCHES, help: "Run only these benchmarks (default all)." },
        runs: { type: "string", value: "<n>", default: "5", help: "Runs per measured figure; the median is reported (default 5)." },
    },
    exitCodes: { 1: "a benchmark could not run (e.g. npm test failed); bench/results.json is left as it was" },
};

async function main() {
    const { values } = commandLine<{ only?: string; runs: string }>("bench", BENCH_COMMAND);
    if (!/^[1-9][0-9]*$/.test(values.runs)) {
        console.error(`bench: --runs must be a positive whole number, got "${values.runs}"`);
        process.exit(2);
    }
    const only = values.only?.split(",");
    const want = (name: string) => !only || only.includes(name);
    const figures: Figure[] = [];
    const skipped: string[] = [];
    if (want("program")) figures.push(...programEvaluation(Number(values.runs)));
    if (want("policy")) figures.push(...policyThroughput(), ...policyCheckLargeFile(Number(values.runs)));
    if (want("preview")) {
        const preview = await realPreviewFigures(Number(values.runs));
        if ("skipped" in preview) skipped.push(`real-preview: skipped: ${preview.skipped}`);
        else figures.push(...preview.figures);
    }
    if (want("tests")) figures.push(...testSuite());

    const machine = `${os.cpus().length} cores, node ${process.version}, load ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(" ")}`;
    console.log(table(figures));
    for (const s of skipped) console.log(s);
    console.log(machine);
    const out = path.join(REPO, "bench", "results.json");
    let kept: Figure[] = [];
    if (only) {
        try {
            const previous = JSON.parse(fs.readFileSync(out, "utf8")) as { figures?: Figure[] };
            kept = (previous.figures ?? []).filter((p) => !figures.some((f) => f.name === p.name));
        } catch {
            /* no previous results */
        }
    }
    fs.writeFileSync(out, JSON.stringify({ measuredAt: new Date().toISOString(), machine, skipped, figures: [...kept, ...figures] }, null, 2) + "\n");
    console.log(`wrote ${path.relative(REPO, out)}`);
}

main().catch((e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
});
