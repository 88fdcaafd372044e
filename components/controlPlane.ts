import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { parse as parseYaml } from "yaml";
import type { PiclusterConfig } from "../lib/config";
import { LINKERD_NAMESPACE } from "../lib/builders/identity";
import { chartLocation, controlPlaneValues, crdsValues } from "../lib/builders/controlPlane";
import type { LinkerdIdentity } from "./identity";

export interface LinkerdControlPlaneArgs {
    readonly config: Pick<PiclusterConfig, "identity" | "controlPlane" | "linkerd" | "release" | "chartSource">;
    /** The identity component: its namespace, Certificate (and Bundle) come first. */
    readonly identity: LinkerdIdentity;
}

/**
 * The linkerd-crds and linkerd-control-plane Helm releases (guide steps 7-8), as helm.v3.Release so
 * `helm ls -n linkerd` shows them, ordered after the identity resources by explicit dependsOn.
 */
export class LinkerdControlPlane extends pulumi.ComponentResource {
    readonly crdsRelease: k8s.helm.v3.Release;
    readonly controlPlaneRelease: k8s.helm.v3.Release;
    /** Mode "pem": the trust anchor as found in linkerd-config after the install (guide step 10). */
    readonly linkerdConfigTrustAnchorPEM?: pulumi.Output<string | undefined>;

    constructor(name: string, args: LinkerdControlPlaneArgs, opts?: pulumi.ComponentResourceOptions) {
        super("picluster:linkerd:ControlPlane", name, {}, opts);
        const cfg = args.config;
        const timeout = cfg.linkerd.helmTimeoutSeconds;

        this.crdsRelease = new k8s.helm.v3.Release(
            "linkerd-crds",
            {
                name: "linkerd-crds",
                namespace: LINKERD_NAMESPACE,
                ...chartLocation(cfg, cfg.release.charts.crds),
                values: crdsValues(),
                timeout,
            },
            { parent: this, dependsOn: [args.identity.namespace] },
        );

        // The PEM goes in as an Output leaf: the rest of the values stay known in a first preview.
        const values = controlPlaneValues(cfg, cfg.identity.trustAnchor.mode === "pem" ? args.identity.trustAnchorPEM : undefined);
        this.controlPlaneRelease = new k8s.helm.v3.Release(
            "linkerd-control-plane",
            {
                name: "linkerd-control-plane",
                namespace: LINKERD_NAMESPACE,
                ...chartLocation(cfg, cfg.release.charts.controlPlane),
                values,
                timeout,
            },
            { parent: this, dependsOn: [this.crdsRelease, ...args.identity.dependencies] },
        );

        if (cfg.identity.trustAnchor.mode === "pem") {
            // The ID comes from the release's outputs: unknown (and not read) until it is installed.
            const linkerdConfig = k8s.core.v1.ConfigMap.get(
                "linkerd-config",
                this.controlPlaneRelease.status.apply((s) => `${s.namespace}/linkerd-config`),
                { parent: this, dependsOn: [this.controlPlaneRelease] },
            );
            this.linkerdConfigTrustAnchorPEM = linkerdConfig.data.apply((data) => trustAnchorFromLinkerdConfig(data));
        }

        this.registerOutputs({ linkerdConfigTrustAnchorPEM: this.linkerdConfigTrustAnchorPEM });
    }
}

/** linkerd-config keeps the chart values as YAML under `values`; older layouts are searched too. */
export function trustAnchorFromLinkerdConfig(data: Record<string, string> | undefined): string | undefined {
    for (const text of Object.values(data ?? {})) {
        try {
            const parsed = parseYaml(text) as { identityTrustAnchorsPEM?: unknown } | null;
            if (parsed && typeof parsed === "object" && typeof parsed.identityTrustAnchorsPEM === "string") {
                return parsed.identityTrustAnchorsPEM;
            }
        } catch {
            // Not YAML: keep looking.
        }
    }
    return undefined;
}
