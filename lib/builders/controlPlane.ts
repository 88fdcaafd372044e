/**
 * What to deploy for the Linkerd control plane: chart references and Helm values.
 * Values carry only keys the chosen chart version has (no chart ships a values schema, so Helm
 * would silently ignore a wrong key); tests check them against each chart's real key set.
 */
import * as path from "path";
import type * as pulumi from "@pulumi/pulumi";
import type { PiclusterConfig } from "../config";
import type { ChartRef } from "../release";

/** The chart part of a helm.v3.Release: from the repository at a pinned version, or from a local directory. */
export interface ChartLocation {
    readonly chart: string;
    readonly version?: string;
    readonly repositoryOpts?: { readonly repo: string };
}

export function chartLocation(cfg: Pick<PiclusterConfig, "chartSource">, chart: ChartRef): ChartLocation {
    if (cfg.chartSource.kind === "directory") {
        return { chart: path.join(cfg.chartSource.path, chart.name) };
    }
    return { chart: chart.name, version: chart.version, repositoryOpts: { repo: cfg.chartSource.url } };
}

/** linkerd-crds needs no values: the defaults install every CRD the control plane uses. */
export function crdsValues(): Record<string, unknown> {
    return {};
}

type ProxyResources = PiclusterConfig["controlPlane"]["proxyResources"];

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

/**
 * linkerd-control-plane values (guide step 8). `trustAnchorPEM` is the root CA in mode "pem"
 * (identityTrustAnchorsPEM); mode "bundle" sets identity.externalCA instead. The guide's
 * installNamespace=false is not passed: the key is gone since 2.12.
 */
export function controlPlaneValues(
    cfg: Pick<PiclusterConfig, "identity" | "controlPlane" | "linkerd" | "release">,
    /**
     * The root CA in mode "pem". An Output is placed as is, so only this leaf is unknown during a
     * first preview and everything else (which the policy pack reads) stays known.
     */
    trustAnchorPEM?: pulumi.Input<string>,
): Record<string, unknown> {
    const { release } = cfg;
    const proxy: Record<string, unknown> = { resources: resourceValues(cfg.controlPlane.proxyResources) };
    if (release.nativeSidecar.supported && cfg.controlPlane.nativeSidecar !== undefined) {
        proxy.nativeSidecar = cfg.controlPlane.nativeSidecar;
    }
    if (release.shutdownEndpoint.configurable && cfg.controlPlane.enableShutdownEndpoint !== undefined) {
        proxy.enableShutdownEndpoint = cfg.controlPlane.enableShutdownEndpoint;
    }
    const bundle = cfg.identity.trustAnchor.mode === "bundle";
    const values: Record<string, unknown> = {
        clusterDomain: cfg.linkerd.clusterDomain,
        identityTrustDomain: cfg.linkerd.clusterDomain,
        identity: {
            ...(bundle ? { externalCA: true } : {}),
            // Use the Secret cert-manager maintains instead of a PEM in the values.
            issuer: { scheme: "kubernetes.io/tls" },
        },
        proxy,
    };
    if (!bundle) {
        if (trustAnchorPEM === undefined) throw new Error("controlPlaneValues: mode \"pem\" needs the trust anchor PEM");
        values.identityTrustAnchorsPEM = trustAnchorPEM;
    }
    if (cfg.controlPlane.chartPodMonitors) {
        values.podMonitor = { enabled: true };
    }
    return values;
}
