/**
 * Every Linkerd version threshold the project relies on, in one place: the program's release model
 * (lib/release.ts) and the policy pack (policy/rules/release.ts) both derive their facts from here.
 * Dependency-free, so the pack can import it on its own.
 *
 * Sources: the charts and release notes of each release (https://linkerd.io/releases/), checked
 * against the real values files of stable-2.14.10 and edge-26.8.3.
 */

/** An edge release `edge-YY.M.X` as numbers. */
export type EdgeVersion = readonly [number, number, number];

/** First edge release of each stable minor (https://linkerd.io/releases/), newest first: [minor, edge]. */
export const EDGE_MINOR_MARKERS: readonly (readonly [number, EdgeVersion])[] = [
    [20, [26, 6, 3]],
    [19, [25, 10, 7]],
    [18, [25, 4, 4]],
    [17, [24, 11, 8]],
    [16, [24, 8, 2]],
    [15, [24, 2, 4]],
];

/** Edge releases where something the program relies on changed. */
export const EDGE_THRESHOLDS = {
    /** The oldest edge release offered: 2.15 (only edge releases are open source since). */
    oldest: [24, 2, 4],
    /** The last release that ships linkerd-jaeger (removed in edge-25.10.1). */
    lastWithJaeger: [25, 9, 4],
    /** linkerd-crds ships GRPCRoute (v1alpha2) beside HTTPRoute, both switched by enableHttpRoutes (lib/gatewayApi.ts). */
    grpcRoutesShipped: [24, 5, 2],
    /** linkerd-crds ships TLSRoute and TCPRoute too (enableTlsRoutes, enableTcpRoutes). */
    tlsTcpRoutesShipped: [24, 10, 4],
    /** linkerd-crds ships Gateway API bundle v1.1.1: HTTPRoute v1 (and v1beta1), GRPCRoute v1 (and v1alpha2). */
    gatewayApiV1Shipped: [25, 2, 3],
    /** linkerd-crds switches every Gateway API CRD with installGatewayAPI and marks them helm.sh/resource-policy: keep. */
    installGatewayApiValue: [25, 3, 1],
    /** The policy controller watches GRPCRoute v1alpha2 (policy-controller/src/main.rs). */
    grpcRouteWatched: [24, 6, 4],
    /**
     * The policy controller asks discovery for each Gateway API group-version it watches and panics when one
     * is not served (`.expect("Failed to list API group resources")`), until edge-25.3.1 made it tolerant.
     */
    gatewayApiDiscoveryPanics: [24, 8, 1],
    gatewayApiDiscoveryTolerant: [25, 3, 1],
    /**
     * From this release linkerd-crds no longer installs the Gateway API CRDs by default (values
     * `installGatewayAPI: false`), while the control plane still needs HTTPRoute and GRPCRoute v1.
     */
    gatewayApiCrdsNotInstalled: [25, 9, 4],
    /** `linkerd check` fails unless HTTPRoute and GRPCRoute serve v1. */
    gatewayApiV1Required: [26, 7, 1],
} as const satisfies Record<string, EdgeVersion>;

/** Minors (of the stable line, or the line an edge release belongs to) where behaviour changed. */
export const FEATURE_MINORS = {
    /** Native sidecars (proxy.nativeSidecar, per-pod annotation): 2.15+. */
    nativeSidecar: 15,
    /** proxy.enableShutdownEndpoint exists and defaults to false: 2.16+ (before, /shutdown is always on). */
    shutdownEndpointConfigurable: 16,
    /** The beta native-sidecar annotation: 2.19+. */
    nativeSidecarBetaAnnotation: 19,
    /** Native proxy tracing (control-plane values proxy.tracing.*): 2.19+. */
    proxyTracing: 19,
    /** proxy.nativeSidecar defaults to true, and the GA annotation: 2.20+. */
    nativeSidecarByDefault: 20,
    /**
     * identity.serviceAccountTokenProjection (default true): the proxy gets its own projected token, so pods with
     * automountServiceAccountToken: false are injected too: 2.12+ (pkg/inject/report.go skips them only when it is false).
     */
    serviceAccountTokenProjection: 12,
} as const;

/** Stable linkerd-control-plane chart minors, newest first: [from chart 1.<minor>, Linkerd minor] (1.16 = 2.14, 1.12 = 2.13, 1.9 = 2.12). */
const STABLE_CONTROL_PLANE_CHARTS: readonly (readonly [number, number])[] = [
    [16, 14],
    [12, 13],
    [0, 12],
];

/** The Linkerd minor of a stable linkerd-control-plane chart version 1.<chartMinor>.x. */
export function stableMinorOfControlPlaneChart(chartMinor: number): number {
    return STABLE_CONTROL_PLANE_CHARTS.find(([from]) => chartMinor >= from)![1];
}

/** Oldest Kubernetes minor each Linkerd line supports, newest first: [from Linkerd minor, Kubernetes minor]. */
const MIN_KUBERNETES: readonly (readonly [number, number])[] = [
    [20, 31],
    [15, 22],
    [0, 21],
];

/** Per-pod annotations that run the proxy as a native sidecar, by the minor they appeared in. */
export const NATIVE_SIDECAR_ANNOTATIONS = {
    /** 2.15+ */
    alpha: "config.alpha.linkerd.io/proxy-enable-native-sidecar",
    /** 2.19+ */
    beta: "config.beta.linkerd.io/proxy-enable-native-sidecar",
    /** 2.20+ */
    ga: "config.linkerd.io/proxy-enable-native-sidecar",
} as const;

export function compareVersions(a: readonly number[], b: readonly number[]): number {
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
        const d = (a[i] ?? 0) - (b[i] ?? 0);
        if (d !== 0) return d;
    }
    return 0;
}

/**
 * How Linkerd versions are written, once: an edge release's tag `edge-YY.M.X` and its charts' version `20YY.M.X`,
 * a stable release `2.N[.P]` (also `stable-`/`enterprise-`), a stable linkerd-control-plane chart `1.N.P`.
 */
const VERSION_SYNTAX = {
    edgeTag: "edge-(\\d{2})\\.(\\d{1,2})\\.(\\d+)",
    edgeChart: "20(\\d{2})\\.(\\d{1,2})\\.(\\d+)",
    stable: "(?:stable-|enterprise-)?2\\.(\\d+)(?:\\.\\d+)?",
    stableChart: "1\\.(\\d+)\\.(\\d+)",
} as const;

/** Every way `parseLinkerdVersion` accepts, as a JSON-schema pattern (the policy pack's `linkerdVersion`). */
export const LINKERD_VERSION_PATTERN = `^v?(?:${Object.values(VERSION_SYNTAX).join("|")})$`;

const EDGE_TAG = new RegExp(`^${VERSION_SYNTAX.edgeTag}$`);

/** `edge-YY.M.X` as numbers, or undefined when the text is not an edge release tag. */
export function parseEdgeVersion(text: string): EdgeVersion | undefined {
    const m = EDGE_TAG.exec(text);
    return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
}

/** A Linkerd version as users write it, reduced to what the facts depend on. */
export interface LinkerdVersion {
    major: number;
    minor: number;
    /** How it was written, for messages (e.g. "stable-2.14.10", "edge-24.8.2"). */
    label: string;
}

/**
 * Parse a Linkerd version as users write it: "2.14", "2.16.1", "stable-2.14.10", "edge-24.8.2",
 * a linkerd-control-plane chart version ("1.16.11" = stable 2.14, "2024.8.2" = edge-24.8.2), or
 * "enterprise-2.16.0". Returns undefined if it cannot be understood.
 */
export function parseLinkerdVersion(input: string): LinkerdVersion | undefined {
    const label = input.trim();
    const s = label.replace(/^v/, "");
    const edge = parseEdgeVersion(s);
    if (edge) return { major: 2, minor: edgeMinor(edge), label };
    let m = new RegExp(`^${VERSION_SYNTAX.stable}$`).exec(s);
    if (m) return { major: 2, minor: Number(m[1]), label };
    m = new RegExp(`^${VERSION_SYNTAX.edgeChart}$`).exec(s);
    if (m) {
        const yy = Number(m[1]);
        return { major: 2, minor: edgeMinor([yy, Number(m[2]), Number(m[3])]), label: `edge-${yy}.${m[2]}.${m[3]} (chart ${s})` };
    }
    m = new RegExp(`^${VERSION_SYNTAX.stableChart}$`).exec(s);
    if (m) {
        const minor = stableMinorOfControlPlaneChart(Number(m[1]));
        return { major: 2, minor, label: `2.${minor} (chart ${s})` };
    }
    return undefined;
}

/** The stable minor an edge release edge-YY.M.X belongs to; 14 for edge releases before 2.15. */
export function edgeMinor(edge: EdgeVersion): number {
    for (const [minor, marker] of EDGE_MINOR_MARKERS) if (compareVersions(edge, marker) >= 0) return minor;
    return 14;
}

/** The native-sidecar pod annotations a release understands, newest first. */
export function nativeSidecarAnnotations(minor: number): string[] {
    const out: string[] = [];
    if (minor >= FEATURE_MINORS.nativeSidecarByDefault) out.push(NATIVE_SIDECAR_ANNOTATIONS.ga);
    if (minor >= FEATURE_MINORS.nativeSidecarBetaAnnotation) out.push(NATIVE_SIDECAR_ANNOTATIONS.beta);
    if (minor >= FEATURE_MINORS.nativeSidecar) out.push(NATIVE_SIDECAR_ANNOTATIONS.alpha);
    return out;
}

/** What a Linkerd minor can do, as the program and the policy pack need it. */
export interface LinkerdFeatures {
    /** Oldest Kubernetes minor the charts support. */
    readonly minKubernetesMinor: number;
    readonly nativeSidecar: {
        readonly supported: boolean;
        /** proxy.nativeSidecar's default. */
        readonly defaultEnabled: boolean;
        /** The newest pod annotation enabling it, where supported. */
        readonly annotation?: string;
    };
    readonly shutdownEndpoint: {
        /** Whether proxy.enableShutdownEndpoint exists (2.16+). */
        readonly configurable: boolean;
        readonly defaultEnabled: boolean;
    };
    /** Whether the control plane has native proxy tracing values (proxy.tracing.*, 2.19+). */
    readonly proxyTracing: boolean;
}

export function linkerdFeatures(minor: number): LinkerdFeatures {
    const configurable = minor >= FEATURE_MINORS.shutdownEndpointConfigurable;
    return {
        minKubernetesMinor: MIN_KUBERNETES.find(([from]) => minor >= from)![1],
        nativeSidecar: {
            supported: minor >= FEATURE_MINORS.nativeSidecar,
            defaultEnabled: minor >= FEATURE_MINORS.nativeSidecarByDefault,
            annotation: nativeSidecarAnnotations(minor)[0],
        },
        shutdownEndpoint: { configurable, defaultEnabled: !configurable },
        proxyTracing: minor >= FEATURE_MINORS.proxyTracing,
    };
}
