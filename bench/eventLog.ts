/**
 * What `pulumi up` must wait for, from the engine's own record. The event log (`--event-log`, one JSON
 * engine event a line) stamps events in whole seconds, so the bench reads the file while the engine
 * writes it and stamps each line when it arrives (`EventLogTail`, every 20 ms). A resource's step runs
 * from its `resourcePreEvent` to its `resOutputsEvent`; the dependencies come from the state
 * (`pulumi stack export`: `dependencies`, `propertyDependencies`, the provider). The critical path is
 * the longest chain of steps along the dependencies: the time `up` cannot go below however fast the
 * engine and the program are, and on this stack mostly Helm's waits (each Release waits for its
 * workloads to be ready).
 */
import * as fs from "fs";
import * as path from "path";

export interface Step {
    readonly urn: string;
    readonly type: string;
    readonly op: string;
    /** ms since the tail started. */
    readonly start: number;
    readonly end: number;
}

interface Line {
    readonly at: number;
    readonly event: Record<string, unknown>;
}

/** Reads every event log that appears in `dir` (or the one file `file`) while it is written, stamping each line on arrival. */
export class EventLogTail {
    private readonly t0 = performance.now();
    private readonly offsets = new Map<string, number>();
    private readonly partial = new Map<string, string>();
    private readonly lines = new Map<string, Line[]>();
    private readonly timer: NodeJS.Timeout;

    constructor(
        private readonly dir: string,
        private readonly pattern = /\.jsonl$/,
    ) {
        this.timer = setInterval(() => this.poll(), 20);
    }

    private poll(): void {
        let names: string[];
        try {
            names = fs.readdirSync(this.dir).filter((n) => this.pattern.test(n));
        } catch {
            return;
        }
        for (const name of names) {
            const file = path.join(this.dir, name);
            const offset = this.offsets.get(name) ?? 0;
            let size: number;
            try {
                size = fs.statSync(file).size;
            } catch {
                continue;
            }
            if (size <= offset) continue;
            const fd = fs.openSync(file, "r");
            const buf = Buffer.alloc(size - offset);
            fs.readSync(fd, buf, 0, buf.length, offset);
            fs.closeSync(fd);
            this.offsets.set(name, size);
            const at = performance.now() - this.t0;
            const text = (this.partial.get(name) ?? "") + buf.toString("utf8");
            const parts = text.split("\n");
            this.partial.set(name, parts.pop() ?? "");
            const list = this.lines.get(name) ?? [];
            for (const p of parts) if (p.trim()) list.push({ at, event: JSON.parse(p) as Record<string, unknown> });
            this.lines.set(name, list);
        }
    }

    /** Stops reading (after a last read) and returns the steps of each file, by file name, in order of appearance. */
    stop(): Map<string, Step[]> {
        this.poll();
        clearInterval(this.timer);
        const out = new Map<string, Step[]>();
        for (const name of [...this.lines.keys()].sort()) out.set(name, stepsOf(this.lines.get(name)!));
        return out;
    }
}

type Meta = { urn?: string; type?: string; op?: string; new?: { custom?: boolean }; old?: { custom?: boolean } };
const metaOf = (e: Record<string, unknown>, key: string): Meta | undefined => (e[key] as { metadata?: Meta } | undefined)?.metadata;

/**
 * The steps of custom resources: a component's (and the stack's) pre and outputs events bracket its
 * children, so they weigh nothing of their own.
 */
function stepsOf(lines: readonly Line[]): Step[] {
    const open = new Map<string, { start: number; type: string; op: string }>();
    const steps: Step[] = [];
    for (const { at, event } of lines) {
        const pre = metaOf(event, "resourcePreEvent");
        const custom = pre?.new?.custom ?? pre?.old?.custom ?? false;
        if (pre?.urn && custom && !open.has(pre.urn)) open.set(pre.urn, { start: at, type: pre.type ?? "?", op: pre.op ?? "?" });
        const out = metaOf(event, "resOutputsEvent");
        if (out?.urn && open.has(out.urn)) {
            const o = open.get(out.urn)!;
            open.delete(out.urn);
            steps.push({ urn: out.urn, type: o.type, op: o.op, start: o.start, end: at });
        }
    }
    return steps;
}

/** Each resource's dependencies in a `pulumi stack export`: what its step had to wait for. */
export function dependenciesOf(stackExport: unknown): Map<string, string[]> {
    const resources = ((stackExport as { deployment?: { resources?: unknown[] } }).deployment?.resources ?? []) as {
        urn: string;
        dependencies?: string[];
        propertyDependencies?: Record<string, string[]>;
        provider?: string;
    }[];
    const deps = new Map<string, string[]>();
    for (const r of resources) {
        const all = new Set<string>([...(r.dependencies ?? []), ...Object.values(r.propertyDependencies ?? {}).flat()]);
        // The provider reference is `<urn>::<id>`.
        if (r.provider) all.add(r.provider.slice(0, r.provider.lastIndexOf("::")));
        deps.set(r.urn, [...all]);
    }
    return deps;
}

export interface CriticalPath {
    /** ms: the sum of the steps' durations along the chain. */
    readonly ms: number;
    /** The chain, first step first. */
    readonly chain: readonly Step[];
    /** ms of Helm releases on the chain. */
    readonly helmMs: number;
}

/** The longest chain of step durations along the dependencies (a step without a recorded duration weighs 0). */
export function criticalPath(steps: readonly Step[], deps: ReadonlyMap<string, readonly string[]>): CriticalPath {
    const byUrn = new Map(steps.map((s) => [s.urn, s]));
    const memo = new Map<string, { ms: number; chain: Step[] }>();
    const visiting = new Set<string>();
    const longest = (urn: string): { ms: number; chain: Step[] } => {
        const known = memo.get(urn);
        if (known) return known;
        if (visiting.has(urn)) return { ms: 0, chain: [] };
        visiting.add(urn);
        let best = { ms: 0, chain: [] as Step[] };
        for (const d of deps.get(urn) ?? []) {
            const c = longest(d);
            if (c.ms > best.ms) best = c;
        }
        const own = byUrn.get(urn);
        const result = own ? { ms: best.ms + (own.end - own.start), chain: [...best.chain, own] } : best;
        visiting.delete(urn);
        memo.set(urn, result);
        return result;
    };
    let best = { ms: 0, chain: [] as Step[] };
    for (const urn of new Set([...byUrn.keys(), ...deps.keys()])) {
        const c = longest(urn);
        if (c.ms > best.ms) best = c;
    }
    const helmMs = best.chain.filter((s) => s.type === "kubernetes:helm.sh/v3:Release").reduce((a, s) => a + (s.end - s.start), 0);
    return { ...best, helmMs };
}

/** `type/name` of a URN, as people read a chain. */
export function shortName(urn: string): string {
    const parts = urn.split("::");
    return `${(parts[2] ?? "").split("$").pop()}/${parts[3] ?? ""}`;
}

/** A chain for the note: each step and its seconds. */
export function chainText(p: CriticalPath): string {
    return p.chain.map((s) => `${shortName(s.urn).replace(/^kubernetes:/, "")} ${((s.end - s.start) / 1000).toFixed(1)} s`).join(" -> ");
}
