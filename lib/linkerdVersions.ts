/**
 * Linkerd version facts shared by the program's release model (lib/release.ts) and the policy
 * pack (policy/rules/release.ts). Dependency-free so the pack can import it on its own.
 */

/** First edge release of each stable minor (https://linkerd.io/releases/), newest first: [minor, [yy, month, x]]. */
export const EDGE_MINOR_MARKERS: readonly (readonly [number, readonly [number, number, number]])[] = [
    [20, [26, 6, 3]],
    [19, [25, 10, 7]],
    [18, [25, 4, 4]],
    [17, [24, 11, 8]],
    [16, [24, 8, 2]],
    [15, [24, 2, 4]],
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

/** The stable minor an edge release edge-YY.M.X belongs to; 14 for edge releases before 2.15. */
export function edgeMinor(edge: readonly [number, number, number]): number {
    for (const [minor, marker] of EDGE_MINOR_MARKERS) if (compareVersions(edge, marker) >= 0) return minor;
    return 14;
}

/** The newest native-sidecar annotation a release understands, if any. */
export function nativeSidecarAnnotation(minor: number): string | undefined {
    if (minor >= 20) return NATIVE_SIDECAR_ANNOTATIONS.ga;
    if (minor >= 19) return NATIVE_SIDECAR_ANNOTATIONS.beta;
    if (minor >= 15) return NATIVE_SIDECAR_ANNOTATIONS.alpha;
    return undefined;
}
