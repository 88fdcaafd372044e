/**
 * What to deploy for the linkerd-jaeger extension (guide: "Linkerd jaeger extension installation"):
 * only the jaeger-injector, sending the proxies' spans to Tempo's distributor. Pure builders.
 */
import type { PiclusterConfig } from "../config";
import type { KubeObject } from "./identity";
import { INJECT_ANNOTATION } from "./ingress";

export const JAEGER_RELEASE_NAME = "linkerd-jaeger";

type JaegerConfig = Pick<PiclusterConfig, "jaeger">;

/**
 * The extension namespace as `linkerd jaeger install` makes it (Helm never creates it): label
 * linkerd.io/extension: jaeger (what `linkerd jaeger check` and the CLI look the extension up by;
 * the chart's namespace-metadata hook adds it too), the privileged Pod Security level the CLI sets
 * on extension namespaces (injected pods run proxy-init with NET_ADMIN), and linkerd.io/inject:
 * enabled so the injector is meshed.
 */
export function jaegerNamespace(cfg: JaegerConfig): KubeObject {
    return {
        apiVersion: "v1",
        kind: "Namespace",
        metadata: {
            name: cfg.jaeger.namespace,
            labels: { "linkerd.io/extension": "jaeger", "pod-security.kubernetes.io/enforce": "privileged" },
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
export function jaegerValues(cfg: JaegerConfig): Record<string, unknown> {
    return {
        collector: { enabled: false },
        jaeger: { enabled: false },
        webhook: { collectorSvcAddr: cfg.jaeger.collectorSvcAddr, collectorSvcAccount: cfg.jaeger.collectorSvcAccount },
    };
}

/** A warning when the collector's namespace is not meshed (the guide: Tempo must be meshed before the extension is installed). */
export function unmeshedCollectorWarning(cfg: Pick<PiclusterConfig, "jaeger" | "meshing">): string | undefined {
    const ns = collectorNamespace(cfg.jaeger.collectorSvcAddr);
    if (cfg.meshing.namespaces.includes(ns)) return undefined;
    return (
        `jaeger.collectorSvcAddr points at namespace "${ns}", which is not in meshing.namespaces: the guide requires Tempo ` +
        `to be meshed before linkerd-jaeger is installed (the proxies send spans to it over mTLS and authorize its service ` +
        `account "${cfg.jaeger.collectorSvcAccount}"). Add "${ns}" to meshing.namespaces, or mesh Tempo yourself.`
    );
}
