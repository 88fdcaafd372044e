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
    "2.14.10": { crds: "1.8.0", controlPlane: "1.16.11", viz: "30.12.11", jaeger: "30.12.11" },
};
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
        const v = version ?? "2.14.10";
        const charts = STABLE_CHARTS[v];
        if (!charts) {
            throw new ReleaseError(
                "version",
                `stable release "${v}" is not supported: expected one of ${STABLE_VERSIONS.map((s) => `"${s}"`).join(", ")} ` +
                    `(the last open-source stable release); for newer Linkerd use channel "edge" with a version like "edge-26.8.3"`,
            );
        }
        return {
            channel,
            version: v,
            tag: `stable-${v}`,
            minor: Number(v.split(".")[1]),
            charts: {
                crds: { name: "linkerd-crds", version: charts.crds },
                controlPlane: { name: "linkerd-control-plane", version: charts.controlPlane },
                viz: { name: "linkerd-viz", version: charts.viz },
                jaeger: { name: "linkerd-jaeger", version: charts.jaeger },
            },
            defaultRepository: STABLE_REPOSITORY,
            gatewayApi: linkerdCrdsGatewayApi(undefined),
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
