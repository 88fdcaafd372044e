import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { JAEGER_RELEASE_NAME, collectorNamespace, jaegerNamespace, jaegerValues } from "../lib/builders/jaeger";
import { linkerdHelmRelease } from "../lib/resources";
import type { ExtensionSource, MeshedNamespaces } from "./contracts";
import { COMPONENT_TYPES } from "../lib/names";

export interface LinkerdJaegerArgs {
    /** The control plane: the extension is installed after it, from the same release and chart source (which must ship linkerd-jaeger). */
    readonly controlPlane: ExtensionSource;
    /**
     * The meshing component: when it meshes the collector's namespace, the extension is installed
     * after that patch (guide: Tempo is meshed before the extension). @default none (mesh Tempo yourself)
     */
    readonly meshing?: MeshedNamespaces;
    /** Namespace of the extension. */
    readonly namespace: string;
    /** Tempo's receiver as service.namespace:port. */
    readonly collectorSvcAddr: string;
    /** Tempo's service account. */
    readonly collectorSvcAccount: string;
}

/**
 * The linkerd-jaeger extension (guide "Linkerd jaeger extension installation"): only the
 * jaeger-injector, configuring the proxies to send spans to Tempo's distributor. Only for releases
 * that still ship the extension (up to edge-25.9.4).
 */
export class LinkerdJaeger extends pulumi.ComponentResource {
    readonly namespace: k8s.core.v1.Namespace;
    readonly release: k8s.helm.v3.Release;

    constructor(name: string, args: LinkerdJaegerArgs, opts?: pulumi.ComponentResourceOptions) {
        super(COMPONENT_TYPES.jaeger, name, {}, opts);
        const { controlPlane } = args;
        const chart = controlPlane.release.charts.jaeger;
        if (!chart) throw new Error(`Linkerd ${controlPlane.release.version} has no linkerd-jaeger extension (removed in edge-25.10.1)`);
        const settings = { namespace: args.namespace, collectorSvcAddr: args.collectorSvcAddr, collectorSvcAccount: args.collectorSvcAccount };
        const collectorPatch = args.meshing?.meshedNamespaces[collectorNamespace(settings.collectorSvcAddr)];

        this.namespace = new k8s.core.v1.Namespace(`${name}-namespace`, { metadata: jaegerNamespace(settings.namespace).metadata }, { parent: this });
        this.release = linkerdHelmRelease(
            name,
            {
                releaseName: JAEGER_RELEASE_NAME,
                namespace: settings.namespace,
                chart,
                chartSource: controlPlane.chartSource,
                values: jaegerValues(settings),
                timeoutSeconds: controlPlane.helmTimeoutSeconds,
            },
            { parent: this, dependsOn: [this.namespace, controlPlane.controlPlaneRelease, ...(collectorPatch ? [collectorPatch] : [])] },
        );

        this.registerOutputs({});
    }
}
