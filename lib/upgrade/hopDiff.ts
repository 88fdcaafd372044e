/**
 * What one hop changes in what the program deploys, from two offline renders (lib/render.ts) of the
 * stack at consecutive releases: Helm releases added or removed, chart versions, and the value paths
 * that appear, disappear or change. Pure over the rendered resources.
 */
import { objAt, str } from "../k8s";
import type { RenderedResource } from "../render";

const RELEASE = "kubernetes:helm.sh/v3:Release";

interface ReleaseView {
    readonly chart: string;
    readonly version?: string;
    readonly values: Record<string, unknown>;
}

function releases(resources: readonly RenderedResource[]): Map<string, ReleaseView> {
    const out = new Map<string, ReleaseView>();
    for (const r of resources) {
        if (r.type !== RELEASE) continue;
        out.set(str(r.inputs.name) ?? r.name, {
            chart: str(r.inputs.chart) ?? "",
            version: str(r.inputs.version),
            values: objAt(r.inputs, "values") ?? {},
        });
    }
    return out;
}

/** Leaf values by dotted path (arrays as leaves). */
function leaves(value: unknown, prefix = "", out: Record<string, string> = {}): Record<string, string> {
    if (value && typeof value === "object" && !Array.isArray(value)) {
        for (const [k, v] of Object.entries(value as Record<string, unknown>)) leaves(v, prefix ? `${prefix}.${k}` : k, out);
    } else if (prefix) out[prefix] = JSON.stringify(value);
    return out;
}

/** One line per change, e.g. `linkerd-control-plane: chart 1.16.11 -> 2024.7.5` or `... values: + proxy.nativeSidecar`. */
export function hopDiff(before: readonly RenderedResource[], after: readonly RenderedResource[]): string[] {
    const a = releases(before);
    const b = releases(after);
    const lines: string[] = [];
    for (const [name, rel] of b) {
        const old = a.get(name);
        if (!old) {
            lines.push(`${name}: installed (chart ${rel.chart} ${rel.version ?? ""})`.trimEnd());
            continue;
        }
        if (old.version !== rel.version) lines.push(`${name}: chart ${old.version ?? "local"} -> ${rel.version ?? "local"}`);
        const x = leaves(old.values);
        const y = leaves(rel.values);
        const added = Object.keys(y).filter((k) => !(k in x));
        const removed = Object.keys(x).filter((k) => !(k in y));
        const changed = Object.keys(y).filter((k) => k in x && x[k] !== y[k]);
        const parts = [...added.map((k) => `+ ${k}`), ...removed.map((k) => `- ${k}`), ...changed.map((k) => `~ ${k}`)];
        if (parts.length > 0) lines.push(`${name}: values ${parts.join(", ")}`);
    }
    for (const name of a.keys()) if (!b.has(name)) lines.push(`${name}: uninstalled`);
    return lines;
}
