import { parse as parseYaml } from "yaml";
import { meshingValuesSnippets, namespaceMeshPatch, workloadKey, workloadMeshPatch } from "../lib/builders/meshing";
import { validateObject } from "./support/k8sSchemas";

describe("implicit meshing (namespace annotation)", () => {
    test("the guide's annotation, forced over a hand-set value", () => {
        expect(namespaceMeshPatch("monitoring")).toEqual({
            metadata: { name: "monitoring", annotations: { "linkerd.io/inject": "enabled", "pulumi.com/patchForce": "true" } },
        });
        expect(validateObject({ apiVersion: "v1", kind: "Namespace", ...namespaceMeshPatch("monitoring") })).toEqual([]);
    });
});

describe("explicit meshing (pod template annotation)", () => {
    test.each(["Deployment", "DaemonSet", "StatefulSet"] as const)("%s: the guide's kubectl patch body", (kind) => {
        const patch = workloadMeshPatch({ kind, namespace: "velero", name: "velero" });
        expect(patch.spec).toEqual({ template: { metadata: { annotations: { "linkerd.io/inject": "enabled" } } } });
        expect(patch.metadata).toMatchObject({ name: "velero", namespace: "velero" });
        expect(workloadKey({ kind, namespace: "velero", name: "velero" })).toBe(`${kind}/velero/velero`);
    });
});

describe("values snippets for charts installed elsewhere", () => {
    const s = meshingValuesSnippets();

    test("kube-prometheus-stack: admission webhook patch Jobs unmeshed", () => {
        expect(s.kubePrometheusStack.values).toEqual({
            prometheusOperator: { admissionWebhooks: { patch: { podAnnotations: { "linkerd.io/inject": "disabled" } } } },
        });
    });
    test("ECK: automountServiceAccountToken for Elasticsearch and Kibana", () => {
        expect(s.eckElasticsearch.values).toEqual({ podTemplate: { spec: { automountServiceAccountToken: true } } });
        expect(s.eckKibana.values).toEqual({ podTemplate: { spec: { automountServiceAccountToken: true } } });
    });
    test("Velero: podAnnotations", () => {
        expect(s.velero.values).toEqual({ podAnnotations: { "linkerd.io/inject": "enabled" } });
    });
    test("ingress-nginx: controller.podAnnotations", () => {
        expect(s.ingressNginx.values).toEqual({ controller: { podAnnotations: { "linkerd.io/inject": "enabled" } } });
    });
    test("every YAML string is the same values", () => {
        for (const snippet of Object.values(s)) {
            expect(parseYaml(snippet.yaml)).toEqual(snippet.values);
            expect(snippet.guide.length).toBeGreaterThan(0);
        }
    });
    test("the ECK snippet is valid in a Kibana-like pod template", () => {
        const deployment = {
            apiVersion: "apps/v1",
            kind: "Deployment",
            metadata: { name: "kibana", namespace: "logging" },
            spec: {
                selector: { matchLabels: { a: "b" } },
                template: {
                    metadata: { labels: { a: "b" } },
                    spec: { ...(s.eckKibana.values as { podTemplate: { spec: object } }).podTemplate.spec, containers: [{ name: "k", image: "k" }] },
                },
            },
        };
        expect(validateObject(deployment)).toEqual([]);
    });
});
