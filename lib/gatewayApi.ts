/**
 * The Gateway API CRDs and Linkerd, in one place: which of them each release's linkerd-crds chart
 * ships, which values switch them on and off, whether the chart marks them `helm.sh/resource-policy:
 * keep`, and what the control plane needs from them. Read from the linkerd-crds chart of every
 * release (charts/linkerd-crds/values.yaml and templates/gateway.networking.k8s.io_*.yaml at each tag):
 *
 * | linkerd-crds                 | Gateway API CRDs shipped            | switch                          | keep |
 * |------------------------------|-------------------------------------|---------------------------------|------|
 * | 1.4.0, 1.6.x (2.12, 2.13)    | none (no values)                    | -                               | -    |
 * | 1.8.0 (stable-2.14.10)       | httproutes (v1beta1)                | enableHttpRoutes (default true) | no   |
 * | edge-24.2.4 .. edge-24.5.1   | httproutes                          | enableHttpRoutes                | no   |
 * | edge-24.5.2 .. edge-24.10.3  | + grpcroutes (v1alpha2)             | enableHttpRoutes (both)         | no   |
 * | edge-24.10.4 .. edge-25.2.x  | + tlsroutes, tcproutes              | + enableTlsRoutes, enableTcpRoutes | no |
 * | edge-25.3.1 .. edge-25.9.3   | the four (HTTPRoute, GRPCRoute v1)  | installGatewayAPI (default true)  | yes |
 * | edge-25.9.4 and later        | the four                            | installGatewayAPI (default false) | yes |
 *
 * Helm refuses to install a CRD that exists without its own release's ownership metadata ("invalid
 * ownership metadata"), and deletes a CRD it owned once the chart stops shipping it unless the live
 * object carries the keep annotation: the program decides who owns them (lib/config/resolve.ts) from
 * what the cluster already has (lib/cluster.ts).
 */
import type { LiveCrd } from "./liveCrd";
import { EDGE_THRESHOLDS, EdgeVersion, compareVersions } from "./linkerdVersions";

export const GATEWAY_API_GROUP = "gateway.networking.k8s.io";

export const GATEWAY_API_CRDS = {
    httpRoutes: `httproutes.${GATEWAY_API_GROUP}`,
    grpcRoutes: `grpcroutes.${GATEWAY_API_GROUP}`,
    tlsRoutes: `tlsroutes.${GATEWAY_API_GROUP}`,
    tcpRoutes: `tcproutes.${GATEWAY_API_GROUP}`,
} as const;

/** Who provides the Gateway API CRDs: the linkerd-crds release, or the cluster (k3s 1.37+, or whoever installed them). */
export type GatewayApiCrdsOwner = "linkerd-crds" | "cluster";

/** What one release's linkerd-crds chart does with the Gateway API CRDs. */
export interface LinkerdCrdsGatewayApi {
    /** The Gateway API CRDs the chart can ship, by name. */
    readonly crds: readonly string[];
    /** Whether the chart ships them with its default values. */
    readonly installedByDefault: boolean;
    /** Whether the shipped CRDs carry `helm.sh/resource-policy: keep` (Helm then never deletes them). */
    readonly keep: boolean;
    /**
     * Every version in each shipped CRD's spec (served or not): objects stored at a version not listed
     * here (status.storedVersions) make the API server refuse the chart's CRD.
     */
    readonly specVersions: Readonly<Record<string, readonly string[]>>;
    /** Values that make the chart ship every one of them. */
    readonly installValues: Readonly<Record<string, boolean>>;
    /** Values that make the chart ship none of them. */
    readonly omitValues: Readonly<Record<string, boolean>>;
}

/** The stable minor 2.14 chart, and edge releases by version (undefined: stable-2.14.10). */
export function linkerdCrdsGatewayApi(edge: EdgeVersion | undefined, stableMinor = 14): LinkerdCrdsGatewayApi {
    // Before 2.14, linkerd-crds shipped no Gateway API CRD and had no values at all.
    if (edge === undefined && stableMinor < 14)
        return { crds: [], installedByDefault: true, keep: false, specVersions: {}, installValues: {}, omitValues: {} };
    const from = (threshold: EdgeVersion) => edge !== undefined && compareVersions(edge, threshold) >= 0;
    const v1 = from(EDGE_THRESHOLDS.gatewayApiV1Shipped);
    const specVersions: Record<string, readonly string[]> = {
        [GATEWAY_API_CRDS.httpRoutes]: v1 ? ["v1", "v1beta1"] : ["v1alpha2", "v1beta1"],
        [GATEWAY_API_CRDS.grpcRoutes]: v1 ? ["v1", "v1alpha2"] : ["v1alpha2"],
        [GATEWAY_API_CRDS.tlsRoutes]: ["v1alpha2"],
        [GATEWAY_API_CRDS.tcpRoutes]: ["v1alpha2"],
    };
    if (from(EDGE_THRESHOLDS.installGatewayApiValue)) {
        return {
            crds: Object.values(GATEWAY_API_CRDS),
            installedByDefault: !from(EDGE_THRESHOLDS.gatewayApiCrdsNotInstalled),
            keep: true,
            specVersions,
            installValues: { installGatewayAPI: true },
            omitValues: { installGatewayAPI: false },
        };
    }
    const switches: Record<string, readonly string[]> = { enableHttpRoutes: [GATEWAY_API_CRDS.httpRoutes] };
    if (from(EDGE_THRESHOLDS.grpcRoutesShipped)) switches.enableHttpRoutes = [GATEWAY_API_CRDS.httpRoutes, GATEWAY_API_CRDS.grpcRoutes];
    if (from(EDGE_THRESHOLDS.tlsTcpRoutesShipped)) {
        switches.enableTlsRoutes = [GATEWAY_API_CRDS.tlsRoutes];
        switches.enableTcpRoutes = [GATEWAY_API_CRDS.tcpRoutes];
    }
    const keys = Object.keys(switches);
    const crds = Object.values(switches).flat();
    return {
        crds,
        installedByDefault: true,
        keep: false,
        specVersions: Object.fromEntries(crds.map((n) => [n, specVersions[n]])),
        installValues: Object.fromEntries(keys.map((k) => [k, true])),
        omitValues: Object.fromEntries(keys.map((k) => [k, false])),
    };
}

/**
 * linkerd-crds values for the chosen owner: none where the chart's defaults already do it, else the
 * switches that make it ship all of its Gateway API CRDs ("linkerd-crds") or none of them ("cluster").
 */
export function gatewayApiCrdsValues(chart: LinkerdCrdsGatewayApi, owner: GatewayApiCrdsOwner): Record<string, boolean> {
    if (owner === "linkerd-crds") return chart.installedByDefault ? {} : { ...chart.installValues };
    return { ...chart.omitValues };
}

/**
 * What the control plane needs from the Gateway API CRDs when its linkerd-crds chart no longer installs them by
 * default (from edge-25.9.4): HTTPRoute and GRPCRoute, and from edge-26.7.1 `linkerd check` fails unless they serve v1.
 * `since`: the first release whose chart leaves them out.
 */
export function gatewayApiRequirement(release: {
    readonly edge?: EdgeVersion;
    readonly gatewayApi: LinkerdCrdsGatewayApi;
}): { readonly crds: readonly string[]; readonly version: string; readonly required: boolean; readonly since: string } | undefined {
    if (!release.edge || release.gatewayApi.installedByDefault) return undefined;
    return {
        crds: [GATEWAY_API_CRDS.httpRoutes, GATEWAY_API_CRDS.grpcRoutes],
        version: "v1",
        required: compareVersions(release.edge, EDGE_THRESHOLDS.gatewayApiV1Required) >= 0,
        since: `edge-${EDGE_THRESHOLDS.gatewayApiCrdsNotInstalled.join(".")}`,
    };
}

/** A version the control plane needs served by one of some Gateway API CRDs, and why. */
export interface ServedVersionNeed {
    /** Any one of these CRDs serving `version` will do. */
    readonly crds: readonly string[];
    readonly version: string;
}

/**
 * What the policy controller needs served by Gateway API CRDs it does not install itself (its
 * `linkerd-destination` pod never becomes ready otherwise), from policy-controller/ at each tag:
 * up to edge-24.8.0 it watches HTTPRoute v1beta1 (and from edge-24.6.4 GRPCRoute v1alpha2)
 * unconditionally; from edge-24.8.1 it asks discovery first but panics when the v1beta1 or v1alpha2
 * group-version is not served at all; from edge-25.3.1 it skips what is missing.
 */
export function policyControllerGatewayApiNeeds(edge: EdgeVersion | undefined, stableMinor = 14): readonly ServedVersionNeed[] {
    // Before 2.14 the policy controller watched only policy.linkerd.io's own HTTPRoute.
    if (edge === undefined && stableMinor < 14) return [];
    const from = (threshold: EdgeVersion) => edge !== undefined && compareVersions(edge, threshold) >= 0;
    if (from(EDGE_THRESHOLDS.gatewayApiDiscoveryTolerant)) return [];
    if (from(EDGE_THRESHOLDS.gatewayApiDiscoveryPanics)) {
        return [
            { crds: [GATEWAY_API_CRDS.httpRoutes], version: "v1beta1" },
            { crds: Object.values(GATEWAY_API_CRDS), version: "v1alpha2" },
        ];
    }
    const needs: ServedVersionNeed[] = [{ crds: [GATEWAY_API_CRDS.httpRoutes], version: "v1beta1" }];
    if (from(EDGE_THRESHOLDS.grpcRouteWatched)) needs.push({ crds: [GATEWAY_API_CRDS.grpcRoutes], version: "v1alpha2" });
    return needs;
}

/** Kubernetes minor from which k3s installs the Gateway API CRDs itself (its HelmChart gateway-api-crd). */
export const K3S_GATEWAY_API_CRDS_FROM_MINOR = 37;

/** Where the linkerd-crds release lives (its Helm ownership annotations on the CRDs it installed). */
export interface CrdsRelease {
    readonly name: string;
    readonly namespace: string;
}

export interface GatewayApiDecision {
    readonly owner: GatewayApiCrdsOwner;
    /** Each refuses the configuration (key linkerd.gatewayApiCrds). */
    readonly problems: readonly string[];
    readonly warnings: readonly string[];
}

function describeOwner(crd: LiveCrd): string {
    return crd.helmRelease
        ? `Helm release ${crd.helmRelease.namespace}/${crd.helmRelease.name}`
        : "no Helm release (installed with kubectl or by the cluster)";
}

/** What the decision works from: the choice, the release's chart and needs, and what the cluster has. */
export interface GatewayApiDecisionInput {
    readonly choice: "auto" | GatewayApiCrdsOwner;
    readonly chart: LinkerdCrdsGatewayApi;
    /** What the release's policy controller needs served when it does not install the CRDs itself. */
    readonly needs: readonly ServedVersionNeed[];
    readonly linkerdVersion: string;
    readonly release: CrdsRelease;
    readonly kubernetesMinor?: number;
    readonly live?: Readonly<Record<string, LiveCrd>>;
    /** Why `live` is undefined when the cluster was asked but could not answer (unset: it was not asked, e.g. offline). */
    readonly unreadReason?: string;
}

/** The chart's Gateway API CRDs the cluster has, by who owns them. */
interface PresentCrds {
    /** Owned by someone else (another Helm release, kubectl, the cluster). */
    readonly foreign: readonly LiveCrd[];
    /** Owned by the linkerd-crds release. */
    readonly owned: readonly LiveCrd[];
    /** Owned, but storing objects at a version the chart's CRD does not list: the API server refuses the chart's CRD (a downgrade). */
    readonly outgrown: readonly LiveCrd[];
    readonly unstorable: (c: LiveCrd) => string[];
}

function presentCrds({ chart, release, live }: GatewayApiDecisionInput): PresentCrds {
    const present = live ? chart.crds.map((n) => live[n]).filter((c): c is LiveCrd => c !== undefined) : [];
    const ours = (c: LiveCrd) => c.helmRelease?.name === release.name && c.helmRelease.namespace === release.namespace;
    const unstorable = (c: LiveCrd) => c.storedVersions.filter((v) => !(chart.specVersions[c.name] ?? []).includes(v));
    const owned = present.filter(ours);
    return { foreign: present.filter((c) => !ours(c)), owned, outgrown: owned.filter((c) => unstorable(c).length > 0), unstorable };
}

function k3sShipsThem(kubernetesMinor: number | undefined): boolean {
    return kubernetesMinor !== undefined && kubernetesMinor >= K3S_GATEWAY_API_CRDS_FROM_MINOR;
}

function chooseOwner(input: GatewayApiDecisionInput, p: PresentCrds): GatewayApiCrdsOwner {
    if (input.choice !== "auto") return input.choice;
    if (p.foreign.length > 0 || p.outgrown.length > 0) return "cluster";
    if (p.owned.length > 0) return "linkerd-crds";
    return k3sShipsThem(input.kubernetesMinor) ? "cluster" : "linkerd-crds";
}

/** `auto` without the cluster's CRDs: offline (the render), or the cluster could not be read. */
function unreadWarnings(input: GatewayApiDecisionInput, owner: GatewayApiCrdsOwner): string[] {
    const { choice, chart, kubernetesMinor, live } = input;
    if (choice !== "auto" || live) return [];
    if (input.unreadReason === undefined) {
        if (chart.installedByDefault || kubernetesMinor !== undefined) return [];
        return [
            `the Gateway API CRDs (HTTPRoute, GRPCRoute v1), which this release's linkerd-crds chart no longer installs by default: ` +
                `linkerd-crds installs them (installGatewayAPI). On k3s 1.${K3S_GATEWAY_API_CRDS_FROM_MINOR}+, which ships them itself, or when they are already installed, ` +
                `set kubernetes.version or linkerd.gatewayApiCrds to "cluster"`,
        ];
    }
    const basis = kubernetesMinor !== undefined ? `kubernetes.version 1.${kubernetesMinor}` : "the default (kubernetes.version is unset)";
    return [
        `the cluster's Gateway API CRDs could not be read (${input.unreadReason}): ${owner === "cluster" ? "the cluster provides them" : "linkerd-crds installs them"}, ` +
            `from ${basis}. If the cluster already has them (k3s 1.${K3S_GATEWAY_API_CRDS_FROM_MINOR}+, Traefik's or your own install), set linkerd.gatewayApiCrds to "cluster"`,
    ];
}

/** "linkerd-crds" installs them: never over another owner's, never a downgrade, never against k3s. */
function linkerdCrdsProblems(input: GatewayApiDecisionInput, p: PresentCrds): string[] {
    if (p.foreign.length > 0) {
        return [
            `"linkerd-crds" would install ${p.foreign.map((c) => c.name).join(", ")}, which the cluster already has (owned by ${describeOwner(p.foreign[0])}): ` +
                `Helm refuses to take them over ("invalid ownership metadata") halfway through \`up\`. Set linkerd.gatewayApiCrds to "cluster" (or "auto") to use the cluster's own`,
        ];
    }
    if (p.outgrown.length > 0) {
        return [
            `"linkerd-crds" would install ${p.outgrown.map((c) => `${c.name} at ${(input.chart.specVersions[c.name] ?? []).join(", ")}`).join("; ")}, ` +
                `but the cluster stores its objects at ${[...new Set(p.outgrown.flatMap(p.unstorable))].join(", ")} (status.storedVersions, left by a newer Linkerd): ` +
                `the API server refuses that CRD. Set linkerd.gatewayApiCrds to "cluster" (or "auto") to keep the CRDs the cluster has`,
        ];
    }
    if (input.choice === "linkerd-crds" && k3sShipsThem(input.kubernetesMinor)) {
        return [
            `"linkerd-crds" would fight k3s 1.${input.kubernetesMinor} over the Gateway API CRDs (k3s installs them itself, HelmChart gateway-api-crd): set it to "cluster"`,
        ];
    }
    return [];
}

/** "cluster" provides them: what the policy controller needs must be served, and Helm must not delete what the release owns. */
function clusterOwnerFindings(input: GatewayApiDecisionInput, p: PresentCrds): { problems: string[]; warnings: string[] } {
    const { live, release } = input;
    const problems: string[] = [];
    const warnings: string[] = [];
    if (live && !live[GATEWAY_API_CRDS.httpRoutes] && input.needs.length === 0) {
        warnings.push(
            `"cluster" provides the Gateway API CRDs, but the cluster has no ${GATEWAY_API_CRDS.httpRoutes}: Linkerd's policy controller needs it. ` +
                `Install the Gateway API CRDs (https://github.com/kubernetes-sigs/gateway-api/releases, standard-install.yaml), or set linkerd.gatewayApiCrds to "linkerd-crds"`,
        );
    }
    for (const need of live ? input.needs : []) {
        if (need.crds.some((n) => live?.[n]?.servedVersions.includes(need.version))) continue;
        const have = need.crds.map((n) => `${n} ${live?.[n] ? `serves ${live[n].servedVersions.join(", ") || "nothing"}` : "is absent"}`).join("; ");
        problems.push(
            `Linkerd ${input.linkerdVersion}'s policy controller needs ${need.crds.length > 1 ? "one of " : ""}${need.crds.join(", ")} served at ${need.version}, ` +
                `which the cluster's Gateway API CRDs do not give (${have}): its destination pods would never become ready. ` +
                `Use a Linkerd release that tolerates them (edge-25.3.1 or later), or install Gateway API CRDs that serve ${need.version}`,
        );
    }
    const dropped = p.owned.filter((c) => !c.keep);
    if (dropped.length > 0) {
        problems.push(
            `the ${release.namespace}/${release.name} release owns ${dropped.map((c) => c.name).join(", ")} without helm.sh/resource-policy: keep: ` +
                `handing them to the cluster would make Helm delete them, and every route stored in them. Keep "linkerd-crds" (or "auto"); ` +
                `to hand them over, first upgrade to a release whose linkerd-crds marks them keep (edge-25.3.1+)`,
        );
    }
    return { problems, warnings };
}

/**
 * Who provides the Gateway API CRDs, decided against what the cluster has (`live`: the CRDs read by
 * name, undefined when the cluster could not be read). Never installs over CRDs another owner has
 * (Helm would refuse halfway through `up`), and never lets the linkerd-crds release drop CRDs it owns
 * without the keep annotation (Helm would delete them and every route stored in them).
 */
export function decideGatewayApiCrdsOwner(input: GatewayApiDecisionInput): GatewayApiDecision {
    const present = presentCrds(input);
    const owner = chooseOwner(input, present);
    const warnings = unreadWarnings(input, owner);
    if (owner === "linkerd-crds") return { owner, problems: linkerdCrdsProblems(input, present), warnings };
    const found = clusterOwnerFindings(input, present);
    return { owner, problems: found.problems, warnings: [...warnings, ...found.warnings] };
}
