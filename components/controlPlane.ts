import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import {
    GatewayApiCrdsOwner,
    ProxyResources,
    ProxyTracingSettings,
    controlPlaneValues,
    crdsValues,
    trustAnchorFromLinkerdConfig,
} from "../lib/builders/controlPlane";
import { ChartSource } from "../lib/charts";
import { CONTROL_PLANE_RELEASE_NAME, CRDS_RELEASE_NAME, LINKERD_NAMESPACE } from "../lib/k8s";
import type { LinkerdRelease } from "../lib/release";
import { linkerdHelmRelease, renamedFrom } from "../lib/resources";
import type { ControlPlaneIdentity, ExtensionSource } from "./contracts";
import { COMPONENT_TYPES } from "../lib/names";

export interface LinkerdControlPlaneArgs {
    /** The identity component: its namespace, Certificate (and Bundle) come first; its trust anchor and cluster domain are used. */
    readonly identity: ControlPlaneIdentity;
    /** The Linkerd release: chart versions and what the values may contain. */
    readonly release: LinkerdRelease;
    /** Where the charts come from; the extensions use the same. */
    readonly chartSource: ChartSource;
    /** Seconds Helm waits for each release (the extensions' too). */
    readonly helmTimeoutSeconds: number;
    /** Proxy sidecar requests and limits. */
    readonly proxyResources: ProxyResources;
    /** Run the proxy as a native sidecar (2.15+). @default the release's default */
    readonly nativeSidecar?: boolean;
    /** The proxy's /shutdown endpoint for `linkerd-await --shutdown` (configurable from 2.16). @default the release's default */
    readonly enableShutdownEndpoint?: boolean;
    /** Let the chart render its own PodMonitors (podMonitor.enabled). */
    readonly chartPodMonitors: boolean;
    /**
     * Who provides the Gateway API CRDs on releases whose linkerd-crds no longer installs them by default
     * (edge-25.9.4+): "linkerd-crds" sets installGatewayAPI, "cluster" leaves them to their owner.
     */
    readonly gatewayApiCrds: GatewayApiCrdsOwner;
    /** Native proxy tracing (2.19+): where the proxies send spans. @default off */
    readonly proxyTracing?: ProxyTracingSettings;
}

/**
 * The linkerd-crds and linkerd-control-plane Helm releases (guide steps 7-8), as helm.v3.Release so
 * `helm ls -n linkerd` shows them, ordered after the identity resources by explicit dependsOn.
 * It is the extensions' ExtensionSource (components/contracts.ts): they install from the same release and chart source, after it.
 */
export class LinkerdControlPlane extends pulumi.ComponentResource implements ExtensionSource {
    readonly release: LinkerdRelease;
    readonly chartSource: ChartSource;
    readonly helmTimeoutSeconds: number;
    readonly clusterDomain: string;
    readonly crdsRelease: k8s.helm.v3.Release;
    readonly controlPlaneRelease: k8s.helm.v3.Release;
    /** Mode "pem": the trust anchor as found in linkerd-config after the install (guide step 10). */
    readonly linkerdConfigTrustAnchorPEM?: pulumi.Output<string | undefined>;

    constructor(name: string, args: LinkerdControlPlaneArgs, opts?: pulumi.ComponentResourceOptions) {
        super(COMPONENT_TYPES.controlPlane, name, {}, opts);
        const { identity } = args;
        this.release = args.release;
        this.chartSource = args.chartSource;
        this.helmTimeoutSeconds = args.helmTimeoutSeconds;
        this.clusterDomain = identity.clusterDomain;
        const chart = { namespace: LINKERD_NAMESPACE, chartSource: this.chartSource, timeoutSeconds: this.helmTimeoutSeconds };

        this.crdsRelease = linkerdHelmRelease(
            `${name}-crds`,
            { ...chart, releaseName: CRDS_RELEASE_NAME, chart: this.release.charts.crds, values: crdsValues(this.release, args.gatewayApiCrds) },
            { parent: this, dependsOn: [identity.namespace], ...renamedFrom("linkerd-crds") },
        );

        const values = controlPlaneValues({
            release: this.release,
            clusterDomain: this.clusterDomain,
            // The PEM goes in as an Output leaf: the rest of the values stay known in a first preview.
            trustAnchor: identity.trustAnchorPEM ? { mode: "pem", pem: identity.trustAnchorPEM } : { mode: "bundle" },
            proxyResources: args.proxyResources,
            nativeSidecar: args.nativeSidecar,
            enableShutdownEndpoint: args.enableShutdownEndpoint,
            chartPodMonitors: args.chartPodMonitors,
            proxyTracing: args.proxyTracing,
        });
        this.controlPlaneRelease = linkerdHelmRelease(
            name,
            { ...chart, releaseName: CONTROL_PLANE_RELEASE_NAME, chart: this.release.charts.controlPlane, values },
            { parent: this, dependsOn: [this.crdsRelease, ...identity.dependencies] },
        );

        if (identity.trustAnchorPEM) {
            // The ID comes from the release's outputs: unknown (and not read) until it is installed.
            const linkerdConfig = k8s.core.v1.ConfigMap.get(
                `${name}-linkerd-config`,
                this.controlPlaneRelease.status.apply((s) => `${s.namespace}/linkerd-config`),
                { parent: this, dependsOn: [this.controlPlaneRelease] },
            );
            this.linkerdConfigTrustAnchorPEM = linkerdConfig.data.apply((data) => trustAnchorFromLinkerdConfig(data));
        }

        this.registerOutputs({ linkerdConfigTrustAnchorPEM: this.linkerdConfigTrustAnchorPEM });
    }
}
