import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { stringify as stringifyYaml } from "yaml";
import {
    IngressController,
    NGINX_SERVICE_UPSTREAM_ANNOTATION,
    TRAEFIK_RELEASE_NAME,
    nginxControllerMeshValues,
    traefikNamespace,
    traefikValues,
} from "../lib/builders/ingress";
import { linkerdHelmRelease } from "../lib/resources";
import type { InstalledControlPlane } from "./contracts";
import { COMPONENT_TYPES } from "../lib/names";

export interface IngressMeshingArgs {
    /** The control plane: the controller is installed after it (the injector must be up to mesh its pods). */
    readonly controlPlane: InstalledControlPlane;
    /** Seconds Helm waits for the Traefik release. */
    readonly helmTimeoutSeconds: number;
    /** Which ingress controller to mesh, and how (lib/config: `ingress`). */
    readonly controller: IngressController;
}

/** What the ingress integration did, as a plain stack output. */
export interface IngressMeshingSummary {
    readonly controller: IngressController["controller"];
    readonly traefik?: {
        readonly apiGroup: string;
        readonly namespace: string;
        /** `<namespace>/traefik` when the program installs Traefik, else undefined (install it yourself with `valuesYaml`). */
        readonly helmRelease?: string;
        /** The Traefik chart values that mesh it in ingress mode (with the extra values). */
        readonly valuesYaml: string;
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
 * Traefik: installed by the program from its Helm chart in its own namespace (default "traefik"), with
 * the guide's mesh annotations on its pods (ingress mode, outbound 443 skipped). Not k3s' bundled
 * Traefik: it runs in kube-system, which every Linkerd control-plane chart excludes from the proxy
 * injector (proxyInjector.namespaceSelector), so the guide's HelmChartConfig annotation is silently
 * ignored there (lib/injector.ts). k3s' own Traefik must be disabled (`disable: [traefik]`).
 *
 * NGINX: the controller's chart is installed elsewhere; the values that mesh it (never its namespace)
 * and the per-Ingress annotation are outputs.
 */
export class IngressMeshing extends pulumi.ComponentResource {
    readonly controller: IngressController;
    /** Set when the program installs Traefik. */
    readonly traefikNamespace?: k8s.core.v1.Namespace;
    readonly traefikRelease?: k8s.helm.v3.Release;
    readonly summary: IngressMeshingSummary;

    constructor(name: string, args: IngressMeshingArgs, opts?: pulumi.ComponentResourceOptions) {
        super(COMPONENT_TYPES.ingress, name, {}, opts);
        const { controlPlane } = args;
        const { controller } = args;
        this.controller = controller;

        if (controller.controller === "traefik") {
            const values = traefikValues(controller.extraValues);
            if (controller.install) {
                this.traefikNamespace = new k8s.core.v1.Namespace(
                    `${name}-traefik-namespace`,
                    { metadata: traefikNamespace(controller.namespace).metadata },
                    {
                        parent: this,
                    },
                );
                // After the control plane: the proxy injector must be up when Traefik's pods are created.
                this.traefikRelease = linkerdHelmRelease(
                    `${name}-traefik`,
                    {
                        releaseName: TRAEFIK_RELEASE_NAME,
                        namespace: controller.namespace,
                        chart: controller.chart,
                        chartSource: controller.chartSource,
                        values,
                        timeoutSeconds: args.helmTimeoutSeconds,
                    },
                    { parent: this, dependsOn: [controlPlane.controlPlaneRelease, this.traefikNamespace] },
                );
            }
            this.summary = {
                controller: "traefik",
                traefik: {
                    apiGroup: controller.apiGroup,
                    namespace: controller.namespace,
                    helmRelease: controller.install ? `${controller.namespace}/${TRAEFIK_RELEASE_NAME}` : undefined,
                    valuesYaml: stringifyYaml(values),
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
}
