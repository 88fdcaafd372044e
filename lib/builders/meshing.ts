/**
 * Meshing services with Linkerd (guide: "Meshing a service with linkerd", "Meshing cluster services").
 *
 * Pure builders for:
 * - implicit meshing: the namespace annotation `linkerd.io/inject: enabled`, as the body of a
 *   server-side-apply patch of an existing Namespace;
 * - explicit meshing: the pod template annotation of a Deployment/DaemonSet/StatefulSet, as the body
 *   of a server-side-apply patch (the guide's `kubectl patch ... {"spec":{"template":{"metadata":
 *   {"annotations":{"linkerd.io/inject":"enabled"}}}}}`);
 * - the values snippets the guide tells users to put into other charts (installed elsewhere).
 */
import { stringify as stringifyYaml } from "yaml";
import { INJECT_ANNOTATION, PATCH_FORCE_ANNOTATION } from "../k8s";
import { nginxControllerMeshValues } from "./ingress";

export type WorkloadKind = "Deployment" | "DaemonSet" | "StatefulSet";

/** A workload meshed explicitly (pod template annotation). */
export interface WorkloadRef {
    readonly kind: WorkloadKind;
    readonly namespace: string;
    readonly name: string;
}

/** Metadata of a NamespacePatch that meshes the namespace implicitly (guide: "Implicit"). */
export function namespaceMeshPatch(namespace: string): { metadata: { name: string; annotations: Record<string, string> } } {
    return {
        metadata: {
            name: namespace,
            annotations: { [INJECT_ANNOTATION]: "enabled", [PATCH_FORCE_ANNOTATION]: "true" },
        },
    };
}

/** Args of a Deployment/DaemonSet/StatefulSet patch that meshes the workload explicitly (guide: "Explicit"). */
export function workloadMeshPatch(workload: WorkloadRef): {
    metadata: { name: string; namespace: string; annotations: Record<string, string> };
    spec: { template: { metadata: { annotations: Record<string, string> } } };
} {
    return {
        metadata: { name: workload.name, namespace: workload.namespace, annotations: { [PATCH_FORCE_ANNOTATION]: "true" } },
        spec: { template: { metadata: { annotations: { [INJECT_ANNOTATION]: "enabled" } } } },
    };
}

/** `<Kind>/<namespace>/<name>`: how a workload is named in outputs and messages. */
export function workloadKey(workload: WorkloadRef): string {
    return `${workload.kind}/${workload.namespace}/${workload.name}`;
}

export interface ValuesSnippet {
    /** Which chart and which objects the snippet is for. */
    readonly description: string;
    /** Guide section it comes from. */
    readonly guide: string;
    /** The values, as a plain object. */
    readonly values: Record<string, unknown>;
    /** The same values as YAML, ready to paste into a values.yml. */
    readonly yaml: string;
}

function snippet(description: string, guide: string, values: Record<string, unknown>): ValuesSnippet {
    return { description, guide, values, yaml: stringifyYaml(values) };
}

export interface MeshingValuesSnippets {
    /** kube-prometheus-stack: the admission-webhook patch Jobs must not be meshed or they never finish. */
    readonly kubePrometheusStack: ValuesSnippet;
    /** ECK Elasticsearch resource: the proxy is only injected when the token is mounted. */
    readonly eckElasticsearch: ValuesSnippet;
    /** ECK Kibana resource: same as Elasticsearch. */
    readonly eckKibana: ValuesSnippet;
    /** Velero chart: the velero Deployment and the restic/node-agent DaemonSet meshed explicitly. */
    readonly velero: ValuesSnippet;
    /** ingress-nginx chart: the controller meshed explicitly (never its namespace). */
    readonly ingressNginx: ValuesSnippet;
}

/** The values the guide tells users to give other charts so they run meshed ("Meshing cluster services", "Meshing Ingress NGINX"). */
export function meshingValuesSnippets(): MeshingValuesSnippets {
    const eck = { podTemplate: { spec: { automountServiceAccountToken: true } } };
    return {
        kubePrometheusStack: snippet(
            "kube-prometheus-stack values.yml: keep the admission-webhook patch Jobs out of the mesh (the namespace is meshed implicitly)",
            "Meshing cluster services / Prometheus Stack",
            { prometheusOperator: { admissionWebhooks: { patch: { podAnnotations: { [INJECT_ANNOTATION]: "disabled" } } } } },
        ),
        eckElasticsearch: snippet(
            "ECK Elasticsearch resource, under spec.nodeSets[*]: mount the service account token so the proxy is injected",
            "Meshing cluster services / EFK",
            eck,
        ),
        eckKibana: snippet(
            "ECK Kibana resource, under spec: mount the service account token so the proxy is injected",
            "Meshing cluster services / EFK",
            eck,
        ),
        velero: snippet("velero chart values.yml: mesh the velero Deployment and the node agent DaemonSet", "Meshing cluster services / Velero", {
            podAnnotations: { [INJECT_ANNOTATION]: "enabled" },
        }),
        ingressNginx: snippet(
            "ingress-nginx chart values.yml: mesh the controller only (never annotate its namespace: the chart's admission Jobs cannot be meshed)",
            "Configure Ingress Controller / Meshing Ingress NGINX",
            nginxControllerMeshValues(),
        ),
    };
}
