/**
 * The whole program: one validated configuration in, the components wired in the guide's order,
 * stack outputs out. `index.ts` calls it with the stack's configuration; tests and the offline
 * render call it under Pulumi's mocks.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { PiclusterConfig } from "./config";
import { KubeTarget } from "./kubeconfig";
import { LinkerdControlPlane } from "../components/controlPlane";
import { LinkerdIdentity } from "../components/identity";
import { IngressMeshing, IngressMeshingSummary } from "../components/ingress";
import { LonghornMeshing } from "../components/longhorn";
import { LinkerdMeshing } from "../components/meshing";
import { LinkerdViz } from "../components/viz";
import { LinkerdMonitoring } from "../components/monitoring";
import { LinkerdJaeger } from "../components/jaeger";
import { collectorNamespace } from "./builders/jaeger";
import type { MeshingValuesSnippets } from "./builders/meshing";
import { LINKERD_NAMESPACE, TRUST_ROOTS_KEY, TRUST_ROOTS_NAME } from "./builders/identity";

export interface ProgramOutputs {
    readonly linkerd: { channel: string; version: string; charts: Record<string, string> };
    readonly trustAnchorMode: string;
    readonly trustAnchorPEM?: pulumi.Output<string>;
    readonly linkerdConfigTrustAnchorPEM?: pulumi.Output<string | undefined>;
    readonly trustAnchorInLinkerdConfig?: pulumi.Output<boolean>;
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

/** kubectl pinned to the program's kubeconfig and context. */
export function kubectlCommand(target: KubeTarget, args: string): string {
    const context = target.context ? ` --context ${target.context}` : "";
    return `kubectl --kubeconfig ${target.kubeconfigPath}${context} ${args}`;
}

export function deployPicluster(cfg: PiclusterConfig, target: KubeTarget): ProgramOutputs {
    const provider = new k8s.Provider("picluster-kubernetes", { kubeconfig: target.kubeconfigPath, context: target.context });
    const opts: pulumi.ComponentResourceOptions = { providers: [provider] };

    const identity = new LinkerdIdentity("linkerd-identity", { config: cfg }, opts);
    const controlPlane = new LinkerdControlPlane("linkerd-control-plane", { config: cfg, identity }, opts);

    // Meshing, ingress and Longhorn: all after the control plane (the proxy injector must be up).
    const afterControlPlane = [controlPlane.controlPlaneRelease];
    const meshing = new LinkerdMeshing("linkerd-meshing", { config: cfg, after: afterControlPlane }, opts);
    const ingress = new IngressMeshing("linkerd-ingress", { config: cfg, after: afterControlPlane }, opts);
    const longhorn = cfg.longhorn.enabled
        ? new LonghornMeshing("longhorn-meshing", { config: cfg, kubeTarget: target, after: afterControlPlane }, opts)
        : undefined;

    // Viz after the control plane; the PodMonitors and dashboards need only the prometheus-operator
    // CRDs and the monitoring namespace; jaeger after the control plane and the collector's namespace is meshed.
    const viz = cfg.viz.enabled ? new LinkerdViz("linkerd-viz", { config: cfg, controlPlane }, opts) : undefined;
    if (cfg.monitoring.enabled) new LinkerdMonitoring("linkerd-monitoring", { config: cfg }, opts);
    if (cfg.jaegerEnabled) {
        const tracingPatch = meshing.meshedNamespaces[collectorNamespace(cfg.jaeger.collectorSvcAddr)];
        new LinkerdJaeger("linkerd-jaeger", { config: cfg, controlPlane, after: tracingPatch ? [tracingPatch] : [] }, opts);
    }

    const charts: Record<string, string> = {};
    for (const chart of Object.values(cfg.release.charts)) if (chart) charts[chart.name] = chart.version;

    const verifyCommands = [
        // Guide step 9: the control plane pods run.
        kubectlCommand(target, `-n ${LINKERD_NAMESPACE} get pod`),
        // Guide step 10: linkerd-config carries the trust anchor.
        kubectlCommand(target, `-n ${LINKERD_NAMESPACE} get configmap linkerd-config -o yaml`),
    ];
    if (cfg.identity.trustAnchor.mode === "bundle") {
        verifyCommands.push(kubectlCommand(target, `-n ${LINKERD_NAMESPACE} get configmap ${TRUST_ROOTS_NAME} -o jsonpath="{.data.${TRUST_ROOTS_KEY.replace(".", "\\.")}}"`));
    }

    return {
        linkerd: { channel: cfg.release.channel, version: cfg.release.version, charts },
        trustAnchorMode: cfg.identity.trustAnchor.mode,
        trustAnchorPEM: identity.trustAnchorPEM,
        linkerdConfigTrustAnchorPEM: controlPlane.linkerdConfigTrustAnchorPEM,
        trustAnchorInLinkerdConfig:
            identity.trustAnchorPEM && controlPlane.linkerdConfigTrustAnchorPEM
                ? pulumi.all([identity.trustAnchorPEM, controlPlane.linkerdConfigTrustAnchorPEM]).apply(([a, b]) => b !== undefined && a.trim() === b.trim())
                : undefined,
        verifyCommands,
        meshingValuesSnippets: meshing.valuesSnippets,
        meshed: { namespaces: Object.keys(meshing.meshedNamespaces), workloads: Object.keys(meshing.meshedWorkloads) },
        ingressMeshing: ingress.summary,
        longhornMeshing: longhorn && {
            namespace: cfg.longhorn.namespace,
            steps: [...LonghornMeshing.STEP_NAMES],
            kubeconfig: target.kubeconfigPath,
            context: target.context,
        },
        vizDashboardUrl: viz?.dashboardUrl,
        vizDashboardPassword: viz?.dashboardPassword,
        vizDashboardUsername: viz?.dashboardUrl ? cfg.viz.dashboard.username : undefined,
    };
}
