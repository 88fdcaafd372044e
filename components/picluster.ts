import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { TRUST_ROOTS_KEY, TRUST_ROOTS_NAME } from "../lib/builders/identity";
import type { MeshingValuesSnippets } from "../lib/builders/meshing";
import { CHART_POD_MONITORS_NOTE } from "../lib/builders/monitoring";
import type { PiclusterConfig } from "../lib/config";
import { LINKERD_NAMESPACE } from "../lib/k8s";
import { kubectlCommand } from "../lib/kubeconfig";
import { LinkerdControlPlane } from "./controlPlane";
import { LinkerdIdentity } from "./identity";
import { IngressMeshing, IngressMeshingSummary } from "./ingress";
import { LinkerdJaeger } from "./jaeger";
import { LonghornMeshing } from "./longhorn";
import { LinkerdMeshing } from "./meshing";
import { LinkerdMonitoring } from "./monitoring";
import { LinkerdViz } from "./viz";
import { COMPONENT_TYPES, LONGHORN_PART } from "../lib/names";

export interface PiclusterLinkerdArgs {
    /** The validated configuration (lib/config): every component's Args are mapped from it here. */
    readonly config: PiclusterConfig;
    /** The kubernetes provider every Kubernetes object uses (lib/earlyProviders.ts: registered before the components load). */
    readonly kubernetesProvider: k8s.Provider;
}

/** The stack outputs. */
export interface PiclusterOutputs {
    readonly linkerd: { channel: string; version: string; charts: Record<string, string> };
    readonly trustAnchorMode: string;
    readonly trustAnchorPEM?: pulumi.Output<string>;
    readonly linkerdConfigTrustAnchorPEM?: pulumi.Output<string | undefined>;
    readonly trustAnchorInLinkerdConfig?: pulumi.Output<boolean>;
    /** `npm run check` for this stack first, then the guide's own kubectl checks (steps 9-10). */
    readonly verifyCommands: string[];
    /** Guide "Meshing cluster services": values to give charts installed elsewhere, as objects and YAML. */
    readonly meshingValuesSnippets: MeshingValuesSnippets;
    /** Namespaces annotated linkerd.io/inject: enabled, and workloads (`Kind/namespace/name`) whose pod template is. */
    readonly meshed: { namespaces: string[]; workloads: string[] };
    /** Guide "Configure Ingress Controller": what was done for the ingress controller. */
    readonly ingressMeshing: IngressMeshingSummary;
    /** Guide "Meshing cluster services / Longhorn": the post-deploy steps, in order, and where kubectl is pinned. */
    readonly longhornMeshing?: { namespace: string; steps: string[]; kubeconfig: string; context?: string };
    /** Viz: the dashboard's public URL (exposure nginx or traefik). */
    readonly vizDashboardUrl?: string;
    /** Viz: the dashboard's basic-auth password (secret; generated unless vizDashboardPassword is set). */
    readonly vizDashboardPassword?: pulumi.Output<string>;
    /** Viz: the basic-auth user name. */
    readonly vizDashboardUsername?: string;
}

/**
 * The whole installation, as the guide makes it by hand: the composition root. It owns the
 * kubernetes provider (pinned to the configured kubeconfig and context) and parents every component,
 * each named `<name>-<part>` and wired in the guide's order: identity -> control plane -> meshing,
 * ingress, Longhorn, viz, monitoring, jaeger.
 */
export class PiclusterLinkerd extends pulumi.ComponentResource {
    readonly provider: k8s.Provider;
    readonly identity: LinkerdIdentity;
    readonly controlPlane: LinkerdControlPlane;
    readonly meshing: LinkerdMeshing;
    readonly ingress: IngressMeshing;
    readonly longhorn?: LonghornMeshing;
    readonly viz?: LinkerdViz;
    readonly monitoring?: LinkerdMonitoring;
    readonly jaeger?: LinkerdJaeger;
    readonly outputs: PiclusterOutputs;

    constructor(name: string, args: PiclusterLinkerdArgs, opts?: pulumi.ComponentResourceOptions) {
        super(COMPONENT_TYPES.root, name, {}, opts);
        const cfg = args.config;
        // Components created before the composition root existed sat at the stack's root: keep their state.
        const fromStackRoot = { aliases: [{ parent: pulumi.rootStackResource }] };

        this.provider = args.kubernetesProvider;
        const adoption = cfg.adopt.enabled ? [adoptHelmReleases(cfg.adopt.helmReleases)] : [];
        const child = (extra: pulumi.ComponentResourceOptions = fromStackRoot): pulumi.ComponentResourceOptions => ({
            parent: this,
            providers: { kubernetes: this.provider },
            transforms: adoption,
            ...extra,
        });

        for (const warning of cfg.warnings) void pulumi.log.warn(`${warning.key}: ${warning.message}`, this);

        this.identity = new LinkerdIdentity(`${name}-identity`, { clusterDomain: cfg.linkerd.clusterDomain, ...cfg.identity }, child());
        this.controlPlane = new LinkerdControlPlane(
            `${name}-control-plane`,
            {
                identity: this.identity,
                release: cfg.linkerd.release,
                chartSource: cfg.linkerd.chartSource,
                helmTimeoutSeconds: cfg.linkerd.helmTimeoutSeconds,
                gatewayApiCrds: cfg.linkerd.gatewayApiCrds,
                ...cfg.controlPlane,
            },
            child(),
        );

        // Meshing, ingress and Longhorn: after the control plane (the proxy injector must be up).
        this.meshing = new LinkerdMeshing(`${name}-meshing`, { controlPlane: this.controlPlane, ...cfg.meshing }, child());
        this.ingress = new IngressMeshing(
            `${name}-ingress`,
            { controlPlane: this.controlPlane, controller: cfg.ingress, helmTimeoutSeconds: cfg.linkerd.helmTimeoutSeconds },
            child(),
        );
        if (cfg.longhorn.enabled) {
            const { enabled: _, ...longhorn } = cfg.longhorn;
            this.longhorn = new LonghornMeshing(
                `${name}-${LONGHORN_PART}`,
                { controlPlane: this.controlPlane, kubeconfigPath: cfg.kubernetes.kubeconfigPath, context: cfg.kubernetes.context, ...longhorn },
                child({ aliases: [{ name: "longhorn-meshing", parent: pulumi.rootStackResource }] }),
            );
        }

        ({ viz: this.viz, monitoring: this.monitoring, jaeger: this.jaeger } = this.extensions(name, cfg, child));

        this.outputs = this.stackOutputs(cfg);
        this.registerOutputs({});
    }

    /**
     * Viz after the control plane; the PodMonitors and dashboards need only the prometheus-operator CRDs and the
     * monitoring namespace; jaeger after the control plane and the collector's namespace is meshed.
     */
    private extensions(
        name: string,
        cfg: PiclusterConfig,
        child: () => pulumi.ComponentResourceOptions,
    ): { viz?: LinkerdViz; monitoring?: LinkerdMonitoring; jaeger?: LinkerdJaeger } {
        const out: { viz?: LinkerdViz; monitoring?: LinkerdMonitoring; jaeger?: LinkerdJaeger } = {};
        if (cfg.viz.enabled) {
            const { password, ...dashboard } = cfg.viz.dashboard;
            out.viz = new LinkerdViz(
                `${name}-viz`,
                {
                    controlPlane: this.controlPlane,
                    prometheusUrl: cfg.viz.prometheusUrl,
                    grafanaUrl: cfg.viz.grafanaUrl,
                    dashboard,
                    dashboardPassword: password,
                    traefikApiGroup: cfg.ingress.controller === "traefik" ? cfg.ingress.apiGroup : undefined,
                    nginxIngressClassName: cfg.ingress.controller === "nginx" ? cfg.ingress.ingressClassName : undefined,
                },
                child(),
            );
        }
        if (cfg.monitoring.enabled) {
            if (cfg.controlPlane.chartPodMonitors) void pulumi.log.info(CHART_POD_MONITORS_NOTE, this);
            const { enabled: _, ...monitoring } = cfg.monitoring;
            out.monitoring = new LinkerdMonitoring(`${name}-monitoring`, { ...monitoring, podMonitors: !cfg.controlPlane.chartPodMonitors }, child());
        }
        if (cfg.jaeger.enabled) {
            const { enabled: _, ...jaeger } = cfg.jaeger;
            out.jaeger = new LinkerdJaeger(`${name}-jaeger`, { controlPlane: this.controlPlane, meshing: this.meshing, ...jaeger }, child());
        }
        return out;
    }

    private stackOutputs(cfg: PiclusterConfig): PiclusterOutputs {
        const target = cfg.kubernetes;
        const { release } = cfg.linkerd;
        const charts: Record<string, string> = {};
        for (const chart of Object.values(release.charts)) if (chart) charts[chart.name] = chart.version;

        const verifyCommands = [
            // Everything below and more (certificates, unmeshed pods, extensions, Longhorn), with the fix for each problem (cli/check.ts).
            `npm run check -- --stack ${pulumi.getStack()}`,
            // Guide step 9: the control plane pods run.
            kubectlCommand(target, `-n ${LINKERD_NAMESPACE} get pod`),
            // Guide step 10: linkerd-config carries the trust anchor.
            kubectlCommand(target, `-n ${LINKERD_NAMESPACE} get configmap linkerd-config -o yaml`),
        ];
        if (cfg.identity.trustAnchor.mode === "bundle") {
            verifyCommands.push(
                kubectlCommand(
                    target,
                    `-n ${LINKERD_NAMESPACE} get configmap ${TRUST_ROOTS_NAME} -o jsonpath="{.data.${TRUST_ROOTS_KEY.replace(".", "\\.")}}"`,
                ),
            );
        }
        const anchor = this.identity.trustAnchorPEM;
        const inConfig = this.controlPlane.linkerdConfigTrustAnchorPEM;

        return {
            linkerd: { channel: release.channel, version: release.version, charts },
            trustAnchorMode: cfg.identity.trustAnchor.mode,
            trustAnchorPEM: anchor,
            linkerdConfigTrustAnchorPEM: inConfig,
            trustAnchorInLinkerdConfig:
                anchor && inConfig ? pulumi.all([anchor, inConfig]).apply(([a, b]) => b !== undefined && a.trim() === b.trim()) : undefined,
            verifyCommands,
            meshingValuesSnippets: this.meshing.valuesSnippets,
            meshed: { namespaces: Object.keys(this.meshing.meshedNamespaces), workloads: Object.keys(this.meshing.meshedWorkloads) },
            ingressMeshing: this.ingress.summary,
            longhornMeshing: this.longhorn && {
                namespace: cfg.longhorn.namespace,
                steps: [...this.longhorn.stepNames],
                kubeconfig: target.kubeconfigPath,
                context: target.context,
            },
            vizDashboardUrl: this.viz?.dashboardUrl,
            vizDashboardPassword: this.viz?.dashboardPassword,
            vizDashboardUsername: this.viz?.dashboardUrl ? this.viz.dashboard.username : undefined,
        };
    }
}

/**
 * Release inputs ignored while adopting: the values stay the guide's own, so taking a release over
 * never changes what it runs. The chart location cannot be ignored (the provider must be able to
 * find the chart); the import may record one Helm upgrade that only moves the release to it.
 */
export const ADOPTED_RELEASE_IGNORED_INPUTS = ["values", "timeout"];

/**
 * Adoption of a guide-made install: each listed Helm release (`<namespace>/<release>`) is imported
 * (Pulumi `import`, id `<namespace>/<release>`) instead of installed, with its values kept as they
 * are, so the first `up` neither reinstalls it nor changes what it runs (no control-plane restart).
 * Once adopt.enabled is false again, `pulumi preview` shows the upgrade to the program's values.
 */
export function adoptHelmReleases(releases: readonly string[]): pulumi.ResourceTransform {
    return (args) => {
        if (args.type !== "kubernetes:helm.sh/v3:Release") return undefined;
        const props = args.props as { name?: unknown; namespace?: unknown };
        const id = `${String(props.namespace)}/${String(props.name)}`;
        if (!releases.includes(id)) return undefined;
        return { props: args.props, opts: { ...args.opts, import: id, ignoreChanges: [...ADOPTED_RELEASE_IGNORED_INPUTS] } };
    };
}
