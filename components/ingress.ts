import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { stringify as stringifyYaml } from "yaml";
import type { PiclusterConfig } from "../lib/config";
import {
    L5dDstOverride,
    l5dDstOverrideMiddleware,
    NGINX_SERVICE_UPSTREAM_ANNOTATION,
    nginxControllerMeshValues,
    ServiceTarget,
    traefikHelmChartConfig,
} from "../lib/builders/ingress";

export interface IngressMeshingArgs {
    /** The validated configuration (ingress and linkerd.clusterDomain are used). */
    readonly config: Pick<PiclusterConfig, "ingress" | "linkerd">;
    /** What the controller is meshed after: the control plane release (the injector must be up when Traefik restarts). */
    readonly after: pulumi.Resource[];
}

/** What the ingress integration did, as a plain stack output. */
export interface IngressMeshingSummary {
    readonly controller: "none" | "traefik" | "nginx";
    readonly traefik?: {
        readonly apiGroup: string;
        /** `<namespace>/traefik` when the HelmChartConfig is managed, else undefined (mesh Traefik yourself with `values`). */
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
 * replaced — move any values kept there into `ingress.traefik.extraValues` first. `pulumi destroy`
 * deletes it and k3s redeploys Traefik with its defaults (unmeshed).
 *
 * NGINX: the controller's chart is installed elsewhere; the values that mesh it (never its namespace)
 * and the per-Ingress annotation are outputs.
 */
export class IngressMeshing extends pulumi.ComponentResource {
    /** Set when ingress.controller is "traefik" and ingress.traefik.manageK3sHelmChartConfig is true. */
    readonly traefikHelmChartConfig?: k8s.apiextensions.CustomResource;
    readonly summary: IngressMeshingSummary;
    private readonly cfg: Pick<PiclusterConfig, "ingress" | "linkerd">;

    constructor(name: string, args: IngressMeshingArgs, opts?: pulumi.ComponentResourceOptions) {
        super("picluster:linkerd:IngressMeshing", name, {}, opts);
        this.cfg = args.config;
        const { ingress } = args.config;

        if (ingress.controller === "traefik") {
            const hcc = traefikHelmChartConfig(ingress.traefik, ingress.traefik.extraValues);
            if (ingress.traefik.manageK3sHelmChartConfig) {
                this.traefikHelmChartConfig = new k8s.apiextensions.CustomResource("traefik-helmchartconfig", hcc, {
                    parent: this,
                    dependsOn: [...args.after],
                });
            }
            this.summary = {
                controller: "traefik",
                traefik: {
                    apiGroup: ingress.traefik.apiGroup,
                    helmChartConfig: ingress.traefik.manageK3sHelmChartConfig ? `${hcc.metadata.namespace}/${hcc.metadata.name}` : undefined,
                    valuesContent: hcc.spec.valuesContent,
                },
            };
        } else if (ingress.controller === "nginx") {
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
            clusterDomain: this.cfg.linkerd.clusterDomain,
            apiGroup: this.cfg.ingress.traefik.apiGroup,
        });
    }
}
