import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { PiclusterConfig } from "../lib/config";
import { chartLocation } from "../lib/builders/controlPlane";
import { JAEGER_RELEASE_NAME, jaegerNamespace, jaegerValues, unmeshedCollectorWarning } from "../lib/builders/jaeger";
import type { LinkerdControlPlane } from "./controlPlane";

export interface LinkerdJaegerArgs {
    readonly config: Pick<PiclusterConfig, "jaeger" | "meshing" | "linkerd" | "release" | "chartSource">;
    /** The control plane: the extension is installed after its release. */
    readonly controlPlane: Pick<LinkerdControlPlane, "controlPlaneRelease">;
    /**
     * What must exist first besides the control plane: the meshing component's NamespacePatch of the
     * collector's namespace (the guide: Tempo is meshed before the extension is installed).
     */
    readonly after?: readonly pulumi.Resource[];
}

/**
 * The linkerd-jaeger extension (guide "Linkerd jaeger extension installation"): only the
 * jaeger-injector, configuring the proxies to send spans to Tempo's distributor. Only for releases
 * that still ship the extension (up to edge-25.9.4); config validation refuses it on later ones.
 */
export class LinkerdJaeger extends pulumi.ComponentResource {
    readonly namespace: k8s.core.v1.Namespace;
    readonly release: k8s.helm.v3.Release;

    constructor(name: string, args: LinkerdJaegerArgs, opts?: pulumi.ComponentResourceOptions) {
        super("picluster:linkerd:Jaeger", name, {}, opts);
        const cfg = args.config;
        const chart = cfg.release.charts.jaeger;
        if (!chart) throw new Error(`Linkerd ${cfg.release.version} has no linkerd-jaeger extension (set jaeger.enabled to false)`);

        const warning = unmeshedCollectorWarning(cfg);
        if (warning) pulumi.log.warn(warning, this);

        this.namespace = new k8s.core.v1.Namespace("linkerd-jaeger-namespace", { metadata: jaegerNamespace(cfg).metadata }, { parent: this });
        this.release = new k8s.helm.v3.Release(
            JAEGER_RELEASE_NAME,
            {
                name: JAEGER_RELEASE_NAME,
                namespace: cfg.jaeger.namespace,
                ...chartLocation(cfg, chart),
                values: jaegerValues(cfg),
                timeout: cfg.linkerd.helmTimeoutSeconds,
            },
            { parent: this, dependsOn: [this.namespace, args.controlPlane.controlPlaneRelease, ...(args.after ?? [])] },
        );

        this.registerOutputs({});
    }
}
