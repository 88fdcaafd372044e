/**
 * What to deploy for the linkerd-jaeger extension (guide: "Linkerd jaeger extension installation"):
 * only the jaeger-injector, sending the proxies' spans to Tempo's distributor. Pure builders.
 */
import { EXTENSION_LABEL, INJECT_ANNOTATION, KubeObject, POD_SECURITY_ENFORCE_LABEL } from "../k8s";

export const JAEGER_RELEASE_NAME = "linkerd-jaeger";

/** Where the proxies send spans: Tempo's distributor (guide, jaeger step 1). */
export interface JaegerSettings {
    /** Namespace of the extension. */
    readonly namespace: string;
    /** The collector's receiver as service.namespace:port (the chart reads the namespace from it). */
    readonly collectorSvcAddr: string;
    /** Service account of the collector (Tempo), which the proxies authorize. */
    readonly collectorSvcAccount: string;
}

/**
 * The extension namespace as `linkerd jaeger install` makes it (Helm never creates it): label
 * linkerd.io/extension: jaeger (what `linkerd jaeger check` and the CLI look the extension up by;
 * the chart's namespace-metadata hook adds it too), the privileged Pod Security level the CLI sets
 * on extension namespaces (injected pods run proxy-init with NET_ADMIN), and linkerd.io/inject:
 * enabled so the injector is meshed.
 */
export function jaegerNamespace(namespace: string): KubeObject {
    return {
        apiVersion: "v1",
        kind: "Namespace",
        metadata: {
            name: namespace,
            labels: { [EXTENSION_LABEL]: "jaeger", [POD_SECURITY_ENFORCE_LABEL]: "privileged" },
            annotations: { [INJECT_ANNOTATION]: "enabled" },
        },
    };
}

/** The collector's namespace: the chart reads it from the second DNS label of collectorSvcAddr (`svc.namespace:port`). */
export function collectorNamespace(collectorSvcAddr: string): string {
    const host = collectorSvcAddr.replace(/:[0-9]+$/, "");
    const labels = host.split(".");
    if (labels.length < 2 || !labels[1]) throw new Error(`collectorSvcAddr "${collectorSvcAddr}" is not service.namespace:port`);
    return labels[1];
}

/**
 * Guide step 1: no Jaeger, no collector; the injector points the proxies at Tempo's receiver
 * (OpenCensus 55678 on 2.14; OTLP 4317 from later releases) and trusts Tempo's service account.
 */
export function jaegerValues(s: Pick<JaegerSettings, "collectorSvcAddr" | "collectorSvcAccount">): Record<string, unknown> {
    return {
        collector: { enabled: false },
        jaeger: { enabled: false },
        webhook: { collectorSvcAddr: s.collectorSvcAddr, collectorSvcAccount: s.collectorSvcAccount },
    };
}

/** A warning when the collector's namespace is not meshed (the guide: Tempo must be meshed before the extension is installed). */
export function unmeshedCollectorWarning(
    s: Pick<JaegerSettings, "collectorSvcAddr" | "collectorSvcAccount">,
    meshedNamespaces: readonly string[],
): string | undefined {
    const ns = collectorNamespace(s.collectorSvcAddr);
    if (meshedNamespaces.includes(ns)) return undefined;
    return (
        `jaeger.collectorSvcAddr points at namespace "${ns}", which is not in meshing.namespaces: the guide requires Tempo ` +
        `to be meshed before linkerd-jaeger is installed (the proxies send spans to it over mTLS and authorize its service ` +
        `account "${s.collectorSvcAccount}"). Add "${ns}" to meshing.namespaces, or mesh Tempo yourself.`
    );
}
