/**
 * What Linkerd runs on the cluster now, from objects read there: the control plane's release
 * (linkerd-config's `linkerdVersion`, the version the control-plane chart was rendered for) and the
 * proxy of every meshed pod (`linkerd.io/proxy-version`, written by the proxy injector when it
 * injected the pod: a proxy only changes version when its pod is re-created). Pure.
 */
import { linkerdConfigValues } from "../builders/controlPlane";
import { LINKERD_NAMESPACE } from "../k8s";
import { parseLinkerdVersion } from "../linkerdVersions";
import { LinkerdRelease, releaseOfVersion } from "../release";

export const PROXY_VERSION_ANNOTATION = "linkerd.io/proxy-version";

/** A meshed pod's proxy. */
export interface MeshedPod {
    /** namespace/name */
    readonly pod: string;
    readonly version: string;
}

export interface RunningLinkerd {
    /** linkerd-config's linkerdVersion, e.g. "stable-2.14.10"; undefined when no control plane is installed. */
    readonly controlPlaneVersion?: string;
    readonly controlPlane?: LinkerdRelease;
    /** Running pods that carry the proxy, outside the control plane's namespace. */
    readonly meshedPods: readonly MeshedPod[];
}

type Obj = {
    metadata?: { name?: string; namespace?: string; annotations?: Record<string, string>; deletionTimestamp?: string };
    status?: { phase?: string };
    data?: Record<string, string>;
};

/** From linkerd-config (data) and the meshed pods (objects as read). */
export function runningLinkerd(linkerdConfigData: Readonly<Record<string, string>> | undefined, pods: readonly Obj[]): RunningLinkerd {
    const values = linkerdConfigValues(linkerdConfigData);
    const version = typeof values?.linkerdVersion === "string" ? values.linkerdVersion : undefined;
    const meshedPods = pods
        .filter((p) => p.metadata?.namespace !== LINKERD_NAMESPACE && !p.metadata?.deletionTimestamp && p.status?.phase === "Running")
        .flatMap((p) => {
            const v = p.metadata?.annotations?.[PROXY_VERSION_ANNOTATION];
            return v ? [{ pod: `${p.metadata?.namespace}/${p.metadata?.name}`, version: v }] : [];
        });
    return { controlPlaneVersion: version, controlPlane: version ? releaseOfVersion(version) : undefined, meshedPods };
}

/** The oldest major among the meshed pods' proxies (undefined: none, or none understood). */
export function oldestProxyMinor(running: RunningLinkerd): number | undefined {
    const minors = running.meshedPods.map((p) => parseLinkerdVersion(p.version)?.minor).filter((m): m is number => m !== undefined);
    return minors.length > 0 ? Math.min(...minors) : undefined;
}

/** Meshed pods whose proxy is not the given release's. */
export function podsBehind(running: RunningLinkerd, proxyVersion: string): MeshedPod[] {
    return running.meshedPods.filter((p) => p.version !== proxyVersion);
}
