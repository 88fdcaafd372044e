/**
 * Completes the stand-in charts (test/e2e/charts) for a Linkerd release: copies them (and the Traefik stand-in) to `outDir`,
 * writes Chart.yaml with the release's chart version and a values.schema.json generated from the
 * chart-key fixture of that version, so Helm rejects any value key the real chart does not have.
 */
import * as fs from "fs";
import * as path from "path";
import { stringify as stringifyYaml } from "yaml";
import type { LinkerdRelease } from "../../../lib/release";
import { ChartKeys, loadChartKeys } from "../../support/chartKeys";

const CHARTS_DIR = path.resolve(__dirname, "..", "charts");

type Schema = { type?: string; properties?: Record<string, Schema>; additionalProperties?: boolean; items?: Schema };

/** A JSON schema whose objects are closed except where the chart takes free-form maps. */
export function valuesSchema(keys: ChartKeys): Schema {
    const root: Schema = { type: "object", properties: {}, additionalProperties: false };
    const open = new Set(keys.openMaps);
    const lists = new Set(keys.lists);
    const paths = keys.keys.filter((k) => !k.includes("[]")).sort();
    const objects = new Set(paths.map((p) => p.split(".").slice(0, -1).join(".")).filter((p) => p.length > 0));
    for (const p of paths) {
        let node = root;
        const parts = p.split(".");
        parts.forEach((part, i) => {
            const here = parts.slice(0, i + 1).join(".");
            node.properties ??= {};
            if (!node.properties[part]) {
                if (lists.has(here)) node.properties[part] = { type: "array" };
                else if (open.has(here)) node.properties[part] = { type: "object" };
                else if (objects.has(here)) node.properties[part] = { type: "object", properties: {}, additionalProperties: false };
                else node.properties[part] = {};
            }
            node = node.properties[part];
        });
    }
    return root;
}

export interface StandInChart {
    readonly name: string;
    readonly version: string;
}

export function writeStandInCharts(outDir: string, release: LinkerdRelease): StandInChart[] {
    const written: StandInChart[] = [];
    for (const chart of Object.values(release.charts)) {
        if (!chart) continue;
        const target = path.join(outDir, chart.name);
        fs.rmSync(target, { recursive: true, force: true });
        fs.cpSync(path.join(CHARTS_DIR, chart.name), target, { recursive: true });
        fs.writeFileSync(
            path.join(target, "Chart.yaml"),
            stringifyYaml({
                apiVersion: "v2",
                name: chart.name,
                version: chart.version,
                appVersion: release.version,
                description: `picluster-linkerd e2e stand-in for ${chart.name} ${chart.version} (Linkerd ${release.version})`,
                type: "application",
            }),
        );
        const schema = { $schema: "http://json-schema.org/draft-07/schema#", ...valuesSchema(loadChartKeys(chart.name, chart.version)) };
        fs.writeFileSync(path.join(target, "values.schema.json"), JSON.stringify(schema, null, 2));
        written.push({ name: chart.name, version: chart.version });
    }
    // The other chart the program installs by default: Traefik (ingress.traefik.chartDirectory), as is.
    fs.rmSync(path.join(outDir, "traefik"), { recursive: true, force: true });
    fs.cpSync(path.join(CHARTS_DIR, "traefik"), path.join(outDir, "traefik"), { recursive: true });
    written.push({ name: "traefik", version: "40.2.0" });
    return written;
}

/**
 * The Linkerd chart directory the e2e stacks install from (linkerd.chartDirectory):
 * - PICLUSTER_E2E_CHART_DIR=<dir>: charts of your own, `<dir>/<chart name>` for every chart of the
 *   release (e.g. the real charts unpacked with `helm pull --untar`), checked before any stack runs;
 * - else, on the local cluster, our stand-in charts written under `workDir`/charts;
 * - else (PICLUSTER_E2E_EXTERNAL_CLUSTER without a chart dir): undefined, the chart repository.
 */
export function linkerdChartDirectory(workDir: string, release: LinkerdRelease): string | undefined {
    const own = process.env.PICLUSTER_E2E_CHART_DIR;
    if (own) {
        const dir = path.resolve(own);
        const missing = Object.values(release.charts)
            .filter((c): c is NonNullable<typeof c> => !!c)
            .map((c) => path.join(dir, c.name, "Chart.yaml"))
            .filter((f) => !fs.existsSync(f));
        if (missing.length > 0) {
            throw new Error(
                `PICLUSTER_E2E_CHART_DIR=${own}: ${missing.join(", ")} not found (expected <dir>/<chart name>/Chart.yaml for each Linkerd chart)`,
            );
        }
        return dir;
    }
    if (process.env.PICLUSTER_E2E_EXTERNAL_CLUSTER) return undefined;
    const dir = path.join(workDir, "charts");
    writeStandInCharts(dir, release);
    return dir;
}

/**
 * ingress.traefik.chartDirectory for a run: PICLUSTER_E2E_CHART_DIR when it holds `traefik/`, else a
 * copy of the Traefik stand-in; undefined against an external cluster (Traefik's own repository).
 */
export function traefikChartDirectory(workDir: string): string | undefined {
    const own = process.env.PICLUSTER_E2E_CHART_DIR;
    if (own && fs.existsSync(path.join(own, "traefik", "Chart.yaml"))) return path.resolve(own);
    if (process.env.PICLUSTER_E2E_EXTERNAL_CLUSTER) return undefined;
    const dir = path.join(workDir, "traefik-chart");
    fs.rmSync(dir, { recursive: true, force: true });
    fs.cpSync(path.join(CHARTS_DIR, "traefik"), path.join(dir, "traefik"), { recursive: true });
    return dir;
}
