/**
 * Where the Linkerd charts come from: a Helm repository at the release's pinned chart versions, or a
 * local directory holding `<dir>/<chart name>` (air-gapped clusters, or charts a user unpacked).
 */
import * as path from "path";
import type { ChartRef } from "./release";

export type ChartSource = { readonly kind: "repository"; readonly url: string } | { readonly kind: "directory"; readonly path: string };

/** The chart part of a helm.v3.Release: from the repository at a pinned version, or from a local directory. */
export interface ChartLocation {
    readonly chart: string;
    readonly version?: string;
    readonly repositoryOpts?: { readonly repo: string };
}

export function chartLocation(source: ChartSource, chart: ChartRef): ChartLocation {
    if (source.kind === "directory") return { chart: path.join(source.path, chart.name) };
    return { chart: chart.name, version: chart.version, repositoryOpts: { repo: source.url } };
}
