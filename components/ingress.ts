import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { stringify as stringifyYaml } from "yaml";
import {
    INGRESS_DEFAULTS,
    IngressController,
    L5dDstOverride,
    NGINX_SERVICE_UPSTREAM_ANNOTATION,
    ServiceTarget,
    l5dDstOverrideMiddleware,
    nginxControllerMeshValues,
    traefikHelmChartConfig,
} from "../lib/builders/ingress";
import { renamedFrom } from "../lib/resources";
import type { LinkerdControlPlane } from "./controlPlane";

export interface IngressMeshingArgs {
    /** The control plane: the controller is meshed after it (the injector must be up when Traefik restarts); its cluster domain is used. */
    readonly controlPlane: LinkerdControlPlane;
    /** Which ingress controller to mesh, and how. @default k3s' bundled Traefik (traefik.io, HelmChartConfig in kube-system) */
    readonly controller?: IngressController;
}

/** What the ingress integration did, as a plain stack output. */
export interface IngressMeshingSummary {
    readonly controller: IngressController["controller"];
    readonly traefik?: {
        readonly apiGroup: string;
        /** `<namespace>/traefik` when the HelmChartConfig is managed, else undefined (mesh Traefik yourself with `valuesContent`). */
        readonly helmChartConfig?: string;
        /** The Traefik chart values that mesh it in ingress mode. */
        readonly valuesContent: string;
    };
    readonly nginx?: {
        /** ingress-nginx chart values that mesh the controller (the chart is installed elsewhere). */
        readonly controllerValuesYaml: string;
        /** Annotation every Ingress routed to a meshed Service needs. */
        readonly ingressAnnotations: Record<string, string>;
    };
}

/**
 * Guide, "Configure Ingress Controller".
 *
 * Traefik (k3s' bundled chart): a HelmChartConfig kube-system/traefik whose valuesContent meshes the
 * Deployment in ingress mode and skips outbound 443 (Traefik talks to the API server). k3s keeps one
 * HelmChartConfig per chart and valuesContent is one string, so a patch could not merge with a user's
 * own valuesContent either: this component owns the whole object. With server-side apply (the
 * provider's default) an existing HelmChartConfig named traefik is adopted and its valuesContent
 * replaced — move any values kept there into `extraValues` first. `pulumi destroy` deletes it and
 * k3s redeploys Traefik with its defaults (unmeshed).
 *
 * NGINX: the controller's chart is installed elsewhere; the values that mesh it (never its namespace)
 * and the per-Ingress annotation are outputs.
 */
export class IngressMeshing extends pulumi.ComponentResource {
    readonly controller: IngressController;
    /** Set when the controller is Traefik and its k3s HelmChartConfig is managed. */
    readonly traefikHelmChartConfig?: k8s.apiextensions.CustomResource;
    readonly summary: IngressMeshingSummary;
    private readonly clusterDomain: string;

    constructor(name: string, args: IngressMeshingArgs, opts?: pulumi.ComponentResourceOptions) {
        super("picluster:linkerd:IngressMeshing", name, {}, opts);
        this.clusterDomain = args.controlPlane.clusterDomain;
        const controller = args.controller ?? { controller: "traefik", ...INGRESS_DEFAULTS.traefik };
        this.controller = controller;

        if (controller.controller === "traefik") {
            const hcc = traefikHelmChartConfig(controller.namespace, controller.extraValues);
            if (controller.manageK3sHelmChartConfig) {
                this.traefikHelmChartConfig = new k8s.apiextensions.CustomResource(`${name}-traefik-helmchartconfig`, hcc, {
                    parent: this,
                    dependsOn: [args.controlPlane.controlPlaneRelease],
                    ...renamedFrom("traefik-helmchartconfig"),
                });
            }
            this.summary = {
                controller: "traefik",
                traefik: {
                    apiGroup: controller.apiGroup,
                    helmChartConfig: controller.manageK3sHelmChartConfig ? `${hcc.metadata.namespace}/${hcc.metadata.name}` : undefined,
                    valuesContent: hcc.spec.valuesContent,
                },
            };
        } else if (controller.controller === "nginx") {
            this.summary = {
                controller: "nginx",
                nginx: {
                    controllerValuesYaml: stringifyYaml(nginxControllerMeshValues()),
                    ingressAnnotations: { [NGINX_SERVICE_UPSTREAM_ANNOTATION]: "true" },
                },
            };
        } else {
            this.summary = { controller: "none" };
        }

        this.registerOutputs({ summary: this.summary });
    }

    /** The l5d-dst-override Middleware for a Service, with this stack's cluster domain and Traefik API group. */
    dstOverride(service: Omit<ServiceTarget, "clusterDomain" | "apiGroup">): L5dDstOverride {
        return l5dDstOverrideMiddleware({
            ...service,
            clusterDomain: this.clusterDomain,
            apiGroup: this.controller.controller === "traefik" ? this.controller.apiGroup : INGRESS_DEFAULTS.traefik.apiGroup,
        });
    }
}
