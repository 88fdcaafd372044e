/**
 * The Linkerd release model: from a channel and a version, the charts and everything that depends
 * on the version (the thresholds themselves live in lib/linkerdVersions.ts, shared with the policy pack).
 *
 * - Open-source stable releases end at 2.14.10; its charts are linkerd-crds 1.8.0,
 *   linkerd-control-plane 1.16.11, linkerd-viz 30.12.11 and linkerd-jaeger 30.12.11.
 * - Since 2.15 only edge releases are open source; tag edge-YY.M.X is chart version 20YY.M.X for
 *   every chart. Edge releases map onto stable minors by marker releases.
 * - `installNamespace` is gone from every chart since 2.12 and must not be passed.
 */

import { LinkerdCrdsGatewayApi, linkerdCrdsGatewayApi } from "./gatewayApi";
import { EDGE_THRESHOLDS, EdgeVersion, LinkerdFeatures, compareVersions, edgeMinor, linkerdFeatures, parseEdgeVersion } from "./linkerdVersions";

export type Channel = "stable" | "edge";

export interface ChartRef {
    /** Chart name in the repository. */
    readonly name: string;
    /** Chart version (Helm's --version). */
    readonly version: string;
}

export interface LinkerdRelease extends LinkerdFeatures {
    readonly channel: Channel;
    /** "2.14.10" or "edge-26.8.3". */
    readonly version: string;
    /** The release's tag in the linkerd2 repository: "stable-2.14.10", "edge-26.8.3". */
    readonly tag: string;
    /** The tag whose Grafana dashboards the program provisions: the release's own, from 2.14 on (FIRST_PROVISIONABLE_DASHBOARDS_TAG before). */
    readonly dashboardsTag: string;
    /** The stable minor this release corresponds to (14 for 2.14.x, 20 for edge-26.6.3 and later, ...). */
    readonly minor: number;
    readonly charts: {
        readonly crds: ChartRef;
        readonly controlPlane: ChartRef;
        readonly viz: ChartRef;
        /** Undefined where the release no longer has the extension. */
        readonly jaeger?: ChartRef;
    };
    readonly defaultRepository: string;
    /** The edge release as numbers; undefined on the stable channel. */
    readonly edge?: EdgeVersion;
    /** What this release's linkerd-crds chart does with the Gateway API CRDs (lib/gatewayApi.ts). */
    readonly gatewayApi: LinkerdCrdsGatewayApi;
}

export const STABLE_REPOSITORY = "https://helm.linkerd.io/stable";
export const EDGE_REPOSITORY = "https://helm.linkerd.io/edge";

/** Stable releases whose chart versions are known. Only the last open-source stable is offered. */
const STABLE_CHARTS: Record<string, { crds: string; controlPlane: string; viz: string; jaeger: string }> = {
    // Every stable release since the charts lost installNamespace (2.12), so guide installs of any of them can be
    // adopted and upgraded: charts/*/Chart.yaml, viz/ and jaeger/ charts at each tag stable-2.x.y of linkerd/linkerd2.
    "2.12.0": { crds: "1.4.0", controlPlane: "1.9.0", viz: "30.3.0", jaeger: "30.4.0" },
    "2.12.1": { crds: "1.4.0", controlPlane: "1.9.3", viz: "30.3.3", jaeger: "30.4.3" },
    "2.12.2": { crds: "1.4.0", controlPlane: "1.9.4", viz: "30.3.4", jaeger: "30.4.4" },
    "2.12.3": { crds: "1.4.0", controlPlane: "1.9.5", viz: "30.3.5", jaeger: "30.4.5" },
    "2.12.4": { crds: "1.4.0", controlPlane: "1.9.6", viz: "30.3.6", jaeger: "30.4.6" },
    "2.12.5": { crds: "1.4.0", controlPlane: "1.9.7", viz: "30.3.7", jaeger: "30.4.7" },
    "2.12.6": { crds: "1.4.0", controlPlane: "1.9.8", viz: "30.3.8", jaeger: "30.4.8" },
    "2.13.0": { crds: "1.6.0", controlPlane: "1.12.0", viz: "30.8.0", jaeger: "30.8.0" },
    "2.13.1": { crds: "1.6.0", controlPlane: "1.12.1", viz: "30.8.1", jaeger: "30.8.1" },
    "2.13.2": { crds: "1.6.1", controlPlane: "1.12.2", viz: "30.8.2", jaeger: "30.8.2" },
    "2.13.3": { crds: "1.6.1", controlPlane: "1.12.3", viz: "30.8.3", jaeger: "30.8.3" },
    "2.13.4": { crds: "1.6.1", controlPlane: "1.12.4", viz: "30.8.4", jaeger: "30.8.4" },
    "2.13.5": { crds: "1.6.1", controlPlane: "1.12.5", viz: "30.8.5", jaeger: "30.8.5" },
    "2.13.6": { crds: "1.6.1", controlPlane: "1.12.6", viz: "30.8.6", jaeger: "30.8.6" },
    "2.13.7": { crds: "1.6.1", controlPlane: "1.12.7", viz: "30.8.7", jaeger: "30.8.7" },
    "2.14.0": { crds: "1.8.0", controlPlane: "1.15.0", viz: "30.11.0", jaeger: "30.11.0" },
    "2.14.1": { crds: "1.8.0", controlPlane: "1.16.2", viz: "30.12.2", jaeger: "30.12.2" },
    "2.14.2": { crds: "1.8.0", controlPlane: "1.16.3", viz: "30.12.3", jaeger: "30.12.3" },
    "2.14.3": { crds: "1.8.0", controlPlane: "1.16.4", viz: "30.12.4", jaeger: "30.12.4" },
    "2.14.4": { crds: "1.8.0", controlPlane: "1.16.5", viz: "30.12.5", jaeger: "30.12.5" },
    "2.14.5": { crds: "1.8.0", controlPlane: "1.16.6", viz: "30.12.6", jaeger: "30.12.6" },
    "2.14.6": { crds: "1.8.0", controlPlane: "1.16.7", viz: "30.12.7", jaeger: "30.12.7" },
    "2.14.7": { crds: "1.8.0", controlPlane: "1.16.8", viz: "30.12.8", jaeger: "30.12.8" },
    "2.14.8": { crds: "1.8.0", controlPlane: "1.16.9", viz: "30.12.9", jaeger: "30.12.9" },
    "2.14.9": { crds: "1.8.0", controlPlane: "1.16.10", viz: "30.12.10", jaeger: "30.12.10" },
    "2.14.10": { crds: "1.8.0", controlPlane: "1.16.11", viz: "30.12.11", jaeger: "30.12.11" },
};
/** The stable release the program installs by default (the guide's, the last open-source stable). */
export const DEFAULT_STABLE_VERSION = "2.14.10";
/**
 * The first release whose Grafana dashboards work as provisioned files (a datasource template variable
 * instead of the grafana.com import input ${DS_PROMETHEUS}, linkerd2 #10873): older releases show these.
 */
export const FIRST_PROVISIONABLE_DASHBOARDS_TAG = "stable-2.14.0";
export const STABLE_VERSIONS = Object.keys(STABLE_CHARTS);

const OLDEST_EDGE = EDGE_THRESHOLDS.oldest;

/** A problem with the release choice, tied to the configuration key that caused it. */
export class ReleaseError extends Error {
    constructor(
        readonly key: "channel" | "version",
        message: string,
    ) {
        super(message);
    }
}

/** Resolves a channel and version into a release, or throws a ReleaseError naming the faulty key. */
export function resolveRelease(channel: Channel, version: string | undefined): LinkerdRelease {
    if (channel === "stable") {
        const v = version ?? DEFAULT_STABLE_VERSION;
        const charts = STABLE_CHARTS[v];
        if (!charts) {
            throw new ReleaseError(
                "version",
                `stable release "${v}" is not supported: expected a stable release from 2.12.0 to ${DEFAULT_STABLE_VERSION} (the last open-source stable; ` +
                    `older ones to adopt a guide install), e.g. "${DEFAULT_STABLE_VERSION}"; for newer Linkerd use channel "edge" with a version like "edge-26.8.3"`,
            );
        }
        return {
            channel,
            version: v,
            tag: `stable-${v}`,
            dashboardsTag: Number(v.split(".")[1]) < 14 ? FIRST_PROVISIONABLE_DASHBOARDS_TAG : `stable-${v}`,
            minor: Number(v.split(".")[1]),
            charts: {
                crds: { name: "linkerd-crds", version: charts.crds },
                controlPlane: { name: "linkerd-control-plane", version: charts.controlPlane },
                viz: { name: "linkerd-viz", version: charts.viz },
                jaeger: { name: "linkerd-jaeger", version: charts.jaeger },
            },
            defaultRepository: STABLE_REPOSITORY,
            gatewayApi: linkerdCrdsGatewayApi(undefined, Number(v.split(".")[1])),
            ...linkerdFeatures(Number(v.split(".")[1])),
        };
    }
    if (version === undefined) {
        throw new ReleaseError("version", `required with channel "edge": expected an edge release such as "edge-26.8.3"`);
    }
    const parts = parseEdgeVersion(version);
    if (!parts) {
        throw new ReleaseError("version", `"${version}" is not an edge release: expected "edge-YY.M.X", such as "edge-26.8.3"`);
    }
    if (parts[1] < 1 || parts[1] > 12) {
        throw new ReleaseError("version", `"${version}" has month ${parts[1]}: expected "edge-YY.M.X" with M from 1 to 12`);
    }
    if (compareVersions(parts, OLDEST_EDGE) < 0) {
        throw new ReleaseError(
            "version",
            `"${version}" is older than edge-${OLDEST_EDGE.join(".")} (Linkerd 2.15); for older Linkerd use channel "stable" with "2.14.10"`,
        );
    }
    const minor = edgeMinor(parts);
    const chartVersion = `20${parts[0]}.${parts[1]}.${parts[2]}`;
    return {
        channel,
        version,
        tag: version,
        dashboardsTag: version,
        minor,
        charts: {
            crds: { name: "linkerd-crds", version: chartVersion },
            controlPlane: { name: "linkerd-control-plane", version: chartVersion },
            viz: { name: "linkerd-viz", version: chartVersion },
            jaeger: compareVersions(parts, EDGE_THRESHOLDS.lastWithJaeger) <= 0 ? { name: "linkerd-jaeger", version: chartVersion } : undefined,
        },
        defaultRepository: EDGE_REPOSITORY,
        edge: parts,
        gatewayApi: linkerdCrdsGatewayApi(parts),
        ...linkerdFeatures(minor),
    };
}

/** The release a `linkerd.io/proxy-version` annotation or linkerd-config's `linkerdVersion` names ("stable-2.14.10", "edge-26.8.3"), when the program knows it. */
export function releaseOfVersion(version: string): LinkerdRelease | undefined {
    try {
        if (version.startsWith("stable-")) return resolveRelease("stable", version.slice("stable-".length));
        if (version.startsWith("edge-")) return resolveRelease("edge", version);
    } catch {
        return undefined;
    }
    return undefined;
}
