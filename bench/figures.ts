/**
 * The figures `npm run bench` measures, how they are summarised and kept (bench/results.json), and the
 * table generated from them into docs/development.md ("Benchmarks"; test/bench.test.ts keeps the two in
 * step). Every figure is a median over its samples, each sample taken beside a sample of its baseline
 * (interleaved, so drift in machine load hits both sides alike), with the 1-minute load average and the
 * machine it was measured on: the machines are shared, and a loaded figure is not an idle one.
 */
import * as os from "os";

export interface Machine {
    readonly cpus: number;
    readonly cpuModel: string;
    readonly node: string;
    readonly os: string;
}

export interface Figure {
    readonly name: string;
    /** Median of `samples`. */
    readonly value: number;
    readonly unit: string;
    /** Median of `baselineSamples`; null for a figure without a baseline. */
    readonly baseline: number | null;
    /** value / baseline. */
    readonly ratio: number | null;
    /** What passes, as people read it, e.g. "ratio <= 1.3" or "< 60 s". */
    readonly target: string;
    /** null for a figure without a target. */
    readonly pass: boolean | null;
    readonly samples: readonly number[];
    readonly baselineSamples: readonly number[];
    /** The 1-minute load average when each sample started. */
    readonly loads: readonly number[];
    readonly machine: Machine;
    readonly measuredAt: string;
    /** What the baseline is, and anything a reader of the number needs (e.g. "one sample"). */
    readonly note?: string;
}

export interface Results {
    readonly measuredAt: string;
    readonly skipped: readonly string[];
    readonly figures: readonly Figure[];
}

export function machine(): Machine {
    return { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model.trim() ?? "?", node: process.version, os: `${os.type()} ${os.release()}` };
}

export const loadNow = (): number => Number(os.loadavg()[0].toFixed(2));

export function median(values: readonly number[]): number {
    if (values.length === 0) return NaN;
    const sorted = [...values].sort((a, b) => a - b);
    const mid = Math.floor(sorted.length / 2);
    return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export const round = (x: number, digits = 3): number => Number(x.toFixed(digits));

/** A target on the value (`value` < or <= limit) or on the ratio (`ratio` <= limit). */
export type Target = { readonly on: "value" | "ratio"; readonly op: "<" | "<="; readonly limit: number; readonly unit?: string };

function targetText(t: Target | undefined, unit: string): string {
    if (!t) return "-";
    return t.on === "ratio" ? `ratio ${t.op} ${t.limit}` : `${t.op} ${t.limit} ${t.unit ?? unit}`;
}

function passes(t: Target | undefined, value: number, ratio: number | null): boolean | null {
    if (!t) return null;
    const x = t.on === "ratio" ? ratio : value;
    if (x === null) return null;
    return t.op === "<" ? x < t.limit : x <= t.limit;
}

/** A figure from its samples (and its baseline's), rounded for people; the samples are kept as measured. */
export function figure(spec: {
    name: string;
    unit: string;
    samples: readonly number[];
    baselineSamples?: readonly number[];
    loads: readonly number[];
    target?: Target;
    digits?: number;
    note?: string;
}): Figure {
    const digits = spec.digits ?? 2;
    const value = median(spec.samples);
    const base = spec.baselineSamples && spec.baselineSamples.length > 0 ? median(spec.baselineSamples) : null;
    const ratio = base === null || base === 0 ? null : value / base;
    return {
        name: spec.name,
        value: round(value, digits),
        unit: spec.unit,
        baseline: base === null ? null : round(base, digits),
        ratio: ratio === null ? null : round(ratio, 3),
        target: targetText(spec.target, spec.unit),
        pass: passes(spec.target, value, ratio),
        samples: spec.samples.map((s) => round(s, 4)),
        baselineSamples: (spec.baselineSamples ?? []).map((s) => round(s, 4)),
        loads: [...spec.loads],
        machine: machine(),
        measuredAt: new Date().toISOString(),
        ...(spec.note ? { note: spec.note } : {}),
    };
}

/** Load averages as one short text: the median, and the range when it varied. */
export function loadText(loads: readonly number[]): string {
    if (loads.length === 0) return "-";
    const lo = Math.min(...loads);
    const hi = Math.max(...loads);
    const m = median(loads).toFixed(1);
    return hi - lo >= 0.5 ? `${m} (${lo.toFixed(1)}-${hi.toFixed(1)})` : m;
}

const cell = (n: number | null, unit: string) => (n === null ? "-" : `${n} ${unit}`);

/** The table for people: one row per figure. `markdown` escapes nothing the names do not need. */
export function table(figures: readonly Figure[]): string {
    const header = ["figure", "value", "baseline", "ratio", "target", "pass", "load", "n"];
    const rows = figures.map((f) => [
        f.name,
        cell(f.value, f.unit),
        cell(f.baseline, f.unit),
        f.ratio === null ? "-" : String(f.ratio),
        f.target,
        f.pass === null ? "-" : f.pass ? "yes" : "NO",
        loadText(f.loads),
        String(f.samples.length),
    ]);
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(" | ")} |`;
    return [line(header), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...rows.map(line)].join("\n");
}

/** The machines the figures were measured on, one line each. */
export function machinesText(figures: readonly Figure[]): string {
    const seen = new Map<string, string[]>();
    for (const f of figures) {
        const m = `${f.machine.cpus} cores (${f.machine.cpuModel}), Node ${f.machine.node.replace(/^v/, "")}, ${f.machine.os}`;
        seen.set(m, [...(seen.get(m) ?? []), f.measuredAt.slice(0, 10)]);
    }
    return [...seen].map(([m, dates]) => `${m}; measured ${[...new Set(dates)].join(", ")}`).join("\n");
}

export const DOCS_BEGIN = "<!-- bench:table (generated by npm run bench from bench/results.json; do not edit) -->";
export const DOCS_END = "<!-- bench:end -->";

/** What docs/development.md shows between the markers: the table, the notes and the machine. */
export function docsBlock(results: Results): string {
    const notes = results.figures.filter((f) => f.note).map((f) => `- ${f.name}: ${f.note}`);
    return [
        DOCS_BEGIN,
        "",
        table(results.figures),
        "",
        ...(notes.length > 0 ? [...notes, ""] : []),
        ...(results.skipped.length > 0 ? [...results.skipped.map((s) => `- skipped: ${s}`), ""] : []),
        `Machine: ${machinesText(results.figures)}. Load: the 1-minute load average at each sample (median, and the range).`,
        "",
        DOCS_END,
    ].join("\n");
}

/** `doc` with the block between the markers replaced by `block`; throws when the markers are missing. */
export function replaceDocsBlock(doc: string, block: string): string {
    const start = doc.indexOf(DOCS_BEGIN);
    const end = doc.indexOf(DOCS_END);
    if (start < 0 || end < start) throw new Error(`docs/development.md lacks the markers ${DOCS_BEGIN} ... ${DOCS_END}`);
    return doc.slice(0, start) + block + doc.slice(end + DOCS_END.length);
}
