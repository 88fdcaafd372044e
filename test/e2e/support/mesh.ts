/**
 * Reading what the proxy injector did to the pods of the local cluster: whether a pod carries the
 * proxy (a container, or a native sidecar: an init container with restartPolicy Always) and which
 * release's proxy (`linkerd.io/proxy-version`).
 */
import type { LinkerdRelease } from "../../../lib/release";
import { Cluster, kubectlJson } from "./env";

export interface PodProxy {
    readonly pod: string;
    /** `linkerd.io/proxy-version`, undefined when the pod has no proxy. */
    readonly version?: string;
    readonly nativeSidecar: boolean;
}

/** The proxy version a release's injector writes (linkerd-config's proxy.image.version, else linkerdVersion). */
export function proxyVersionOf(release: LinkerdRelease): string {
    return release.channel === "stable" ? `stable-${release.version}` : release.version;
}

export function podProxy(pod: any): PodProxy {
    const sidecar = (pod.spec.initContainers ?? []).find((c: any) => c.name === "linkerd-proxy" && c.restartPolicy === "Always");
    const container = (pod.spec.containers ?? []).find((c: any) => c.name === "linkerd-proxy");
    const has = !!sidecar || !!container;
    return {
        pod: `${pod.metadata.namespace}/${pod.metadata.name}`,
        version: has ? pod.metadata.annotations?.["linkerd.io/proxy-version"] : undefined,
        nativeSidecar: !!sidecar,
    };
}

/** The proxies of the running pods of a namespace (optionally a label selector). */
export function podProxies(cluster: Cluster, namespace: string, selector?: string): PodProxy[] {
    const pods = kubectlJson(cluster, ["-n", namespace, "get", "pods", ...(selector ? ["-l", selector] : [])]).items;
    return pods.filter((p: any) => p.status?.phase === "Running" && !p.metadata.deletionTimestamp).map(podProxy);
}
