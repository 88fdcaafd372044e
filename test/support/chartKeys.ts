/**
 * Helm value key checks against the key sets derived from each chart version's values.yaml
 * (test/fixtures/chart-keys, made by test/fixtures/derive-chart-keys.ts; see docs/testing-fixtures.md).
 * Linkerd charts ship no values.schema.json, so Helm silently ignores unknown keys: these checks
 * are the only thing that catches a misspelt or removed value.
 */
import * as fs from "fs";
import * as path from "path";

export interface ChartKeys {
    chart: string;
    chartVersion: string;
    chartYamlVersion?: string;
    linkerdVersion: string;
    source: string;
    note?: string;
    /** Dotted paths of every leaf and object; list element children as `path[].child`. */
    keys: string[];
    /** Paths whose value accepts arbitrary keys. */
    openMaps: string[];
    /** Paths whose value is a list. */
    lists: string[];
    commentedKeys?: { path: string; line: number; why: string }[];
}

const FIXTURE_DIR = path.resolve(__dirname, "../fixtures/chart-keys");
const cache = new Map<string, ChartKeys>();

/** Loads test/fixtures/chart-keys/<chart>-<version>.json (e.g. "linkerd-control-plane", "1.16.11"). */
export function loadChartKeys(chart: string, version: string): ChartKeys {
    const file = path.join(FIXTURE_DIR, `${chart}-${version}.json`);
    let fx = cache.get(file);
    if (!fx) {
        if (!fs.existsSync(file)) {
            const known = fs.readdirSync(FIXTURE_DIR).map((f) => f.replace(/\.json$/, ""));
            throw new Error(`no chart key fixture for ${chart} ${version}; known: ${known.join(", ")}`);
        }
        fx = JSON.parse(fs.readFileSync(file, "utf8")) as ChartKeys;
        cache.set(file, fx);
    }
    return fx;
}

function isMap(v: unknown): v is Record<string, unknown> {
    return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** True if `p` (a dotted key path, e.g. "proxy.resources.cpu.limit") exists in the chart. */
export function hasValueKey(fixture: ChartKeys, p: string): boolean {
    return fixture.keys.includes(p);
}

/**
 * Returns the dotted paths in `values` that the chart does not have (empty = all known).
 * Anything below an open map is accepted; list elements are checked against `path[].child` keys
 * when the fixture has them, otherwise accepted. A key that itself contains a dot is always
 * reported (`{"proxy.nativeSidecar": true}` is a literal key Helm would ignore).
 */
export function unknownValueKeys(values: object, fixture: ChartKeys): string[] {
    const keys = new Set(fixture.keys);
    const open = new Set(fixture.openMaps);
    const lists = new Set(fixture.lists);
    const hasElementKeys = (p: string) => fixture.keys.some((k) => k.startsWith(`${p}[].`));
    const out: string[] = [];

    const walk = (obj: Record<string, unknown>, norm: string, real: string): void => {
        for (const [k, v] of Object.entries(obj)) {
            const np = norm ? `${norm}.${k}` : k;
            const rp = real ? `${real}.${k}` : k;
            if (k.includes(".") || !keys.has(np)) {
                out.push(rp);
                continue;
            }
            if (open.has(np)) continue;
            if (Array.isArray(v)) {
                if (lists.has(np) && hasElementKeys(np)) {
                    v.forEach((el, i) => {
                        if (isMap(el)) walk(el, `${np}[]`, `${rp}[${i}]`);
                    });
                }
                continue;
            }
            if (isMap(v)) walk(v, np, rp);
        }
    };
    if (isMap(values)) walk(values, "", "");
    return out;
}
