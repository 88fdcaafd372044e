/**
 * Facts about the Linkerd release in use that change what the Job rule accepts, derived from the
 * thresholds shared with the program (lib/linkerdVersions.ts):
 *
 * - The proxy's /shutdown admin endpoint (used by `linkerd-await --shutdown`) is always on up to 2.15 and
 *   off by default from 2.16 (`proxy.enableShutdownEndpoint`, or the pod annotation
 *   `config.linkerd.io/proxy-admin-shutdown: enabled`).
 * - Native sidecars exist from 2.15 (`proxy.nativeSidecar`, default false until 2.19, true from 2.20). The
 *   per-pod annotation is `config.alpha.linkerd.io/proxy-enable-native-sidecar` (2.15+),
 *   `config.beta.linkerd.io/…` (2.19+) and `config.linkerd.io/…` (2.20+).
 */

import { PROXY_ADMIN_SHUTDOWN_ANNOTATION } from "../../lib/k8s";
import {
    FEATURE_MINORS,
    NATIVE_SIDECAR_ANNOTATIONS,
    LinkerdVersion,
    linkerdFeatures,
    nativeSidecarAnnotations as annotationsOfMinor,
    parseLinkerdVersion,
} from "../../lib/linkerdVersions";

export { NATIVE_SIDECAR_ANNOTATIONS, parseLinkerdVersion };
export type { LinkerdVersion };

export interface ReleaseFacts {
    version: LinkerdVersion;
    /** The proxy's /shutdown endpoint is enabled for every pod (release default). */
    shutdownEndpointEnabled: boolean;
    /** Native sidecars are supported at all (2.15+). */
    nativeSidecarSupported: boolean;
    /** The release runs every proxy as a native sidecar (proxy.nativeSidecar). */
    nativeSidecarDefault: boolean;
    /**
     * identity.serviceAccountTokenProjection is on (default from 2.12): pods with automountServiceAccountToken: false
     * are injected all the same. Off (or before 2.12), the injector skips them.
     */
    serviceAccountTokenProjection: boolean;
    /** Settings given that this release cannot honour (e.g. native sidecars on 2.14), for notes. */
    ignored: string[];
    /** Where these facts came from, for messages. */
    source: string;
}

export const SHUTDOWN_ANNOTATION = PROXY_ADMIN_SHUTDOWN_ANNOTATION;
export interface ReleaseOverrides {
    linkerdVersion?: string;
    shutdownEndpointEnabled?: boolean;
    nativeSidecar?: boolean;
    /** Control-plane value identity.serviceAccountTokenProjection. */
    serviceAccountTokenProjection?: boolean;
}

/** What the guide installs: the last open-source stable release. */
export const DEFAULT_LINKERD_VERSION = "stable-2.14.10";

export function releaseFacts(o: ReleaseOverrides = {}, source = "pack config"): ReleaseFacts {
    const raw = o.linkerdVersion ?? DEFAULT_LINKERD_VERSION;
    const version = parseLinkerdVersion(raw);
    if (!version) throw new Error(`unrecognised Linkerd version "${raw}" (use e.g. "2.14", "stable-2.14.10", "edge-24.8.2")`);
    const features = linkerdFeatures(version.minor);
    const nativeSidecarSupported = features.nativeSidecar.supported;
    const ignored: string[] = [];
    if (o.nativeSidecar === true && !nativeSidecarSupported) {
        ignored.push(`nativeSidecar is ignored: Linkerd ${version.label} has no native sidecars (2.15+), so Jobs are checked without them`);
    }
    if (o.shutdownEndpointEnabled === false && !features.shutdownEndpoint.configurable) {
        ignored.push(`shutdownEndpointEnabled false is ignored: Linkerd ${version.label} always serves /shutdown (configurable from 2.16)`);
    }
    const projectionSupported = version.minor >= FEATURE_MINORS.serviceAccountTokenProjection;
    return {
        serviceAccountTokenProjection: projectionSupported && (o.serviceAccountTokenProjection ?? true),
        ignored,
        version,
        shutdownEndpointEnabled: features.shutdownEndpoint.configurable
            ? (o.shutdownEndpointEnabled ?? features.shutdownEndpoint.defaultEnabled)
            : true,
        nativeSidecarSupported,
        nativeSidecarDefault: nativeSidecarSupported && (o.nativeSidecar ?? features.nativeSidecar.defaultEnabled),
        source: o.linkerdVersion === undefined ? `the guide's release, assumed because ${source} gives no version` : `from ${source}`,
    };
}

/** The native-sidecar pod annotations this release understands, newest first. */
export function nativeSidecarAnnotations(v: LinkerdVersion): string[] {
    return annotationsOfMinor(v.minor);
}

export function describeRelease(r: ReleaseFacts): string {
    return `Linkerd ${r.version.label}`;
}

/** "Linkerd 2.16 (from pack config)", for the end of messages. */
export function releaseNote(r: ReleaseFacts): string {
    return `Linkerd ${r.version.label}: ${r.source}`;
}
