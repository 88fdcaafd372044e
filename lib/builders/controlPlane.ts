/**
 * What to deploy for the Linkerd control plane: Helm values of linkerd-crds and
 * linkerd-control-plane. Values carry only keys the chosen chart version has (no chart ships a
 * values schema, so Helm would silently ignore a wrong key); tests check them against each chart's
 * real key set.
 */
import type * as pulumi from "@pulumi/pulumi";
import { parse as parseYaml } from "yaml";
import { GatewayApiCrdsOwner, gatewayApiCrdsValues } from "../gatewayApi";
import type { LinkerdRelease } from "../release";

export type { GatewayApiCrdsOwner };

export interface ResourcePair {
    readonly request?: string;
    readonly limit?: string;
}

/** Proxy sidecar requests and limits (chart value proxy.resources). */
export interface ProxyResources {
    readonly cpu: ResourcePair;
    readonly memory: ResourcePair;
}

/**
 * linkerd-crds values: every Linkerd CRD with the chart's defaults; the Gateway API CRDs switched on
 * when they are the release's to install, off when the cluster provides them (lib/gatewayApi.ts).
 */
export function crdsValues(
    release: Pick<LinkerdRelease, "gatewayApi">,
    gatewayApiCrds: GatewayApiCrdsOwner = "linkerd-crds",
): Record<string, unknown> {
    return gatewayApiCrdsValues(release.gatewayApi, gatewayApiCrds);
}

/** Where the proxies send spans with the control plane's native tracing (2.19+). */
export interface ProxyTracingSettings {
    /** OTLP receiver, as host:port (e.g. Tempo's distributor, tempo-distributor.tracing:4317). */
    readonly collectorEndpoint: string;
    /** Service account and namespace of the collector: its mesh identity, which the proxies verify. */
    readonly serviceAccountName: string;
    readonly namespace: string;
}

function resourceValues(resources: ProxyResources): Record<string, Record<string, string>> {
    const out: Record<string, Record<string, string>> = {};
    for (const kind of ["cpu", "memory"] as const) {
        const pair: Record<string, string> = {};
        if (resources[kind].request !== undefined) pair.request = resources[kind].request!;
        if (resources[kind].limit !== undefined) pair.limit = resources[kind].limit!;
        if (Object.keys(pair).length > 0) out[kind] = pair;
    }
    return out;
}

export interface ControlPlaneSettings {
    readonly release: LinkerdRelease;
    readonly clusterDomain: string;
    /**
     * Mode "pem": the root CA as identityTrustAnchorsPEM. An Output is placed as is, so only this
     * leaf is unknown during a first preview and everything else (which the policy pack reads)
     * stays known. Mode "bundle": identity.externalCA instead.
     */
    readonly trustAnchor: { readonly mode: "pem"; readonly pem: pulumi.Input<string> } | { readonly mode: "bundle" };
    readonly proxyResources: ProxyResources;
    /** Unset: the release's default. */
    readonly nativeSidecar?: boolean;
    /** Unset: the release's default. */
    readonly enableShutdownEndpoint?: boolean;
    /** The chart renders its own PodMonitors (podMonitor.enabled). */
    readonly chartPodMonitors: boolean;
    /** Native proxy tracing (releases with proxy.tracing, 2.19+); unset: off. */
    readonly proxyTracing?: ProxyTracingSettings;
}

/**
 * linkerd-control-plane values (guide step 8). The guide's installNamespace=false is not passed:
 * the key is gone since 2.12.
 */
export function controlPlaneValues(s: ControlPlaneSettings): Record<string, unknown> {
    const { release } = s;
    const proxy: Record<string, unknown> = { resources: resourceValues(s.proxyResources) };
    if (release.nativeSidecar.supported && s.nativeSidecar !== undefined) proxy.nativeSidecar = s.nativeSidecar;
    if (release.shutdownEndpoint.configurable && s.enableShutdownEndpoint !== undefined) proxy.enableShutdownEndpoint = s.enableShutdownEndpoint;
    if (s.proxyTracing) {
        if (!release.proxyTracing) throw new Error(`Linkerd ${release.version} has no native proxy tracing (proxy.tracing, 2.19+)`);
        // Chart values proxy.tracing.* (linkerd-control-plane values.yaml, 2.19+): the guide's goal, spans to Tempo, without linkerd-jaeger.
        proxy.tracing = {
            enabled: true,
            collector: {
                endpoint: s.proxyTracing.collectorEndpoint,
                meshIdentity: { serviceAccountName: s.proxyTracing.serviceAccountName, namespace: s.proxyTracing.namespace },
            },
        };
    }
    const bundle = s.trustAnchor.mode === "bundle";
    const values: Record<string, unknown> = {
        clusterDomain: s.clusterDomain,
        identityTrustDomain: s.clusterDomain,
        identity: {
            ...(bundle ? { externalCA: true } : {}),
            // Use the Secret cert-manager maintains instead of a PEM in the values.
            issuer: { scheme: "kubernetes.io/tls" },
        },
        proxy,
    };
    if (s.trustAnchor.mode === "pem") values.identityTrustAnchorsPEM = s.trustAnchor.pem;
    if (s.chartPodMonitors) values.podMonitor = { enabled: true };
    return values;
}

/** The chart values linkerd-config keeps as YAML under `values` (older layouts: any key holding the values), or undefined. */
export function linkerdConfigValues(data: Readonly<Record<string, string>> | undefined): Record<string, unknown> | undefined {
    for (const text of Object.values(data ?? {})) {
        try {
            const parsed = parseYaml(text) as unknown;
            if (parsed && typeof parsed === "object" && !Array.isArray(parsed) && "identityTrustAnchorsPEM" in parsed) return parsed;
        } catch {
            // Not YAML: keep looking.
        }
    }
    return undefined;
}

/** identityTrustAnchorsPEM of linkerd-config (guide step 10), or undefined. */
export function trustAnchorFromLinkerdConfig(data: Readonly<Record<string, string>> | undefined): string | undefined {
    const pem = linkerdConfigValues(data)?.identityTrustAnchorsPEM;
    return typeof pem === "string" ? pem : undefined;
}
