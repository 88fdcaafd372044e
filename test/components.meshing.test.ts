/** Meshing, ingress and Longhorn components under Pulumi mocks (the whole program rendered). */
import { parse as parseYaml } from "yaml";
import { ConfigError } from "../lib/config";
import { RenderResult, RenderedResource } from "../lib/render";
import { COMMAND_INTERPRETER } from "../lib/builders/longhorn";
import { validateObject } from "./support/k8sSchemas";
import { byName, renderWith } from "./support/render";

const KUBE = { kubeconfig: "/tmp/picluster-test-kubeconfig", context: "picluster" };
const NS_PATCH = "kubernetes:core/v1:NamespacePatch";
const HCC = "kubernetes:helm.cattle.io/v1:HelmChartConfig";
const COMMAND = "command:local:Command";
const RELEASE = "kubernetes:helm.sh/v3:Release";
const STEPS = ["linkerd-longhorn-wait-deployed", "linkerd-longhorn-mesh-pod-ip", "linkerd-longhorn-mesh-annotate"];

const ofType = (r: RenderResult, type: string): RenderedResource[] => r.resources.filter((x) => x.type === type);

describe("defaults (the guide's cluster)", () => {
    let result: RenderResult;
    beforeAll(async () => {
        result = await renderWith({ kubernetes: KUBE });
    });

    test("monitoring, logging and tracing are patched with linkerd.io/inject: enabled, after the control plane release", () => {
        byName(result.resources, RELEASE, "linkerd-control-plane");
        const patches = ofType(result, NS_PATCH);
        expect(patches.map((p) => p.name)).toEqual([
            "linkerd-meshing-namespace-monitoring",
            "linkerd-meshing-namespace-logging",
            "linkerd-meshing-namespace-tracing",
        ]);
        for (const p of patches) {
            expect(p.parent).toBe("linkerd-meshing");
            expect(p.dependsOn).toEqual(["linkerd-control-plane"]);
            expect(p.inputs).toMatchObject({ apiVersion: "v1", kind: "Namespace", metadata: { annotations: { "linkerd.io/inject": "enabled" } } });
            expect(validateObject(p.inputs)).toEqual([]);
        }
        expect(result.outputs.meshed).toEqual({ namespaces: ["monitoring", "logging", "tracing"], workloads: [] });
    });

    test("Traefik installed in its own namespace, meshed in ingress mode, after the control plane; no k3s HelmChartConfig", () => {
        expect(ofType(result, HCC)).toEqual([]);
        const ns = byName(result.resources, "kubernetes:core/v1:Namespace", "linkerd-ingress-traefik-namespace");
        expect(ns.inputs).toMatchObject({ metadata: { name: "traefik" } });
        const traefik = byName(result.resources, RELEASE, "linkerd-ingress-traefik");
        expect(traefik.parent).toBe("linkerd-ingress");
        expect(traefik.dependsOn).toEqual(["linkerd-control-plane", "linkerd-ingress-traefik-namespace"]);
        expect(traefik.inputs).toMatchObject({
            name: "traefik",
            namespace: "traefik",
            chart: "traefik",
            version: "40.2.0",
            repositoryOpts: { repo: "https://traefik.github.io/charts" },
            values: { deployment: { podAnnotations: { "linkerd.io/inject": "ingress", "config.linkerd.io/skip-outbound-ports": "443" } } },
        });
        expect(result.outputs.ingressMeshing).toMatchObject({
            controller: "traefik",
            traefik: { apiGroup: "traefik.io", namespace: "traefik", helmRelease: "traefik/traefik" },
        });
    });

    test("Longhorn steps chained wait -> POD_IP -> annotate, all after the control plane release", () => {
        const steps = ofType(result, COMMAND).filter((c) => c.parent === "linkerd-longhorn");
        expect(steps.map((s) => s.name)).toEqual(STEPS);
        expect(steps[0].dependsOn).toEqual(["linkerd-control-plane"]);
        expect(steps[1].dependsOn).toEqual(["linkerd-control-plane", STEPS[0]]);
        expect(steps[2].dependsOn).toEqual(["linkerd-control-plane", STEPS[1]]);
        const release = byName(result.resources, RELEASE, "linkerd-control-plane");
        expect(result.resources.indexOf(release)).toBeLessThan(result.resources.indexOf(steps[0]));
        for (const s of steps) {
            expect(s.inputs.interpreter).toEqual([...COMMAND_INTERPRETER]);
            expect(s.inputs.triggers).toEqual(["longhorn-system", KUBE.kubeconfig, KUBE.context]);
            expect(typeof s.inputs.delete).toBe("string");
        }
        // kubectl pinned to the provider's kubeconfig and context.
        const provider = byName(result.resources, "pulumi:providers:kubernetes", "linkerd-kubernetes");
        expect(provider.inputs).toMatchObject({ kubeconfig: KUBE.kubeconfig, context: KUBE.context });
        for (const s of steps) {
            expect(s.inputs.create).toContain(`KUBE_CONFIG='${KUBE.kubeconfig}'`);
            expect(s.inputs.create).toContain(`KUBE_CONTEXT='${KUBE.context}'`);
            expect(s.inputs.create).toContain(`k() { "$KUBECTL" --kubeconfig "$KUBE_CONFIG" --context "$KUBE_CONTEXT" "$@"; }`);
        }
        expect(steps[0].inputs.create).toContain("rollout status daemonset/longhorn-manager");
        expect(steps[0].inputs.create).toContain("--timeout=");
        expect(steps[0].inputs.create).toContain("deadline=$((SECONDS + 600))");
        expect(steps[1].inputs.create).toContain("set env daemonset/longhorn-manager -c longhorn-manager POD_IP=0.0.0.0");
        expect(steps[2].inputs.create).toContain("patch daemonset longhorn-manager --type merge");
        expect(steps[2].inputs.create).toContain("patch deployment longhorn-ui --type merge");
        expect(result.outputs.longhornMeshing).toEqual({
            namespace: "longhorn-system",
            steps: STEPS,
            kubeconfig: KUBE.kubeconfig,
            context: KUBE.context,
        });
    });

    test("values snippets are stack outputs, as objects and YAML", () => {
        const snippets = result.outputs.meshingValuesSnippets as Record<string, { values: unknown; yaml: string }>;
        expect(Object.keys(snippets).sort()).toEqual(["eckElasticsearch", "eckKibana", "ingressNginx", "kubePrometheusStack", "velero"]);
        for (const s of Object.values(snippets)) expect(parseYaml(s.yaml)).toEqual(s.values);
        expect(snippets.kubePrometheusStack.values).toEqual({
            prometheusOperator: { admissionWebhooks: { patch: { podAnnotations: { "linkerd.io/inject": "disabled" } } } },
        });
    });
});

describe("explicit meshing of workloads", () => {
    test.each([
        ["Deployment", "kubernetes:apps/v1:DeploymentPatch"],
        ["DaemonSet", "kubernetes:apps/v1:DaemonSetPatch"],
        ["StatefulSet", "kubernetes:apps/v1:StatefulSetPatch"],
    ])("%s -> %s with the pod template annotation", async (kind, type) => {
        const result = await renderWith({
            kubernetes: KUBE,
            meshing: { namespaces: [], workloads: [{ kind, namespace: "velero", name: "velero" }] },
            longhorn: { enabled: false },
        });
        const patch = byName(result.resources, type, `linkerd-meshing-${kind.toLowerCase()}-velero-velero`);
        expect(patch.parent).toBe("linkerd-meshing");
        expect(patch.dependsOn).toEqual(["linkerd-control-plane"]);
        expect(patch.inputs).toMatchObject({
            kind,
            metadata: { name: "velero", namespace: "velero" },
            spec: { template: { metadata: { annotations: { "linkerd.io/inject": "enabled" } } } },
        });
        expect(ofType(result, NS_PATCH)).toEqual([]);
        expect(result.outputs.meshed).toEqual({ namespaces: [], workloads: [`${kind}/velero/velero`] });
    });

    test("a workload listed twice is a config error at its path", async () => {
        const w = { kind: "Deployment", namespace: "a", name: "b" };
        await expect(renderWith({ kubernetes: KUBE, meshing: { workloads: [w, w] } })).rejects.toThrow(ConfigError);
        await expect(renderWith({ kubernetes: KUBE, meshing: { workloads: [w, w] } })).rejects.toThrow("picluster-linkerd:meshing.workloads[1]");
    });
});

describe("ingress variants", () => {
    test("traefik installed by someone else (install: false): no release, values reported", async () => {
        const result = await renderWith({
            kubernetes: KUBE,
            ingress: { traefik: { install: false, apiGroup: "traefik.containo.us", namespace: "ingress" } },
        });
        expect(ofType(result, HCC)).toEqual([]);
        expect(ofType(result, RELEASE).map((r) => r.name)).not.toContain("linkerd-ingress-traefik");
        const summary = result.outputs.ingressMeshing as {
            traefik: { helmRelease?: string; apiGroup: string; namespace: string; valuesYaml: string };
        };
        expect(summary.traefik.helmRelease).toBeUndefined();
        expect(summary.traefik.apiGroup).toBe("traefik.containo.us");
        expect(summary.traefik.namespace).toBe("ingress");
        expect(summary.traefik.valuesYaml).toContain("linkerd.io/inject: ingress");
    });

    test("traefik extraValues, another namespace and a local chart directory", async () => {
        const result = await renderWith({
            kubernetes: KUBE,
            ingress: { traefik: { namespace: "edge-proxy", chartDirectory: "/srv/charts", extraValues: { logs: { access: { enabled: true } } } } },
        });
        const traefik = byName(result.resources, RELEASE, "linkerd-ingress-traefik");
        expect(traefik.inputs).toMatchObject({
            namespace: "edge-proxy",
            chart: "/srv/charts/traefik",
            values: { logs: { access: { enabled: true } } },
        });
        expect(traefik.inputs.version).toBeUndefined();
    });

    test.each([
        [
            { traefik: { namespace: "kube-system" } },
            "picluster-linkerd:ingress.traefik.namespace",
            /Traefik in "kube-system" can never be meshed: .*proxyInjector\.namespaceSelector/,
        ],
        [
            { traefik: { namespace: "cert-manager", install: false } },
            "picluster-linkerd:ingress.traefik.namespace",
            /never sees namespace "cert-manager"/,
        ],
        [
            { traefik: { manageK3sHelmChartConfig: true } },
            "picluster-linkerd:ingress.traefik.manageK3sHelmChartConfig",
            /k3s' bundled Traefik runs in kube-system.*disable: \[traefik\]/,
        ],
    ])("a Traefik the proxy injector can never see is refused (%j)", async (ingress, key, message) => {
        const error = await renderWith({ kubernetes: KUBE, ingress }).then(
            () => undefined,
            (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(ConfigError);
        const problem = (error as ConfigError).problems.find((p) => p.key === key);
        expect(problem?.message).toMatch(message);
    });

    test("nginx: no HelmChartConfig; controller values and the service-upstream annotation are outputs", async () => {
        const result = await renderWith({ kubernetes: KUBE, ingress: { controller: "nginx" }, viz: { dashboard: { exposure: "nginx" } } });
        expect(ofType(result, HCC)).toEqual([]);
        expect(result.outputs.ingressMeshing).toEqual({
            controller: "nginx",
            nginx: {
                controllerValuesYaml: "controller:\n  podAnnotations:\n    linkerd.io/inject: enabled\n",
                ingressAnnotations: { "nginx.ingress.kubernetes.io/service-upstream": "true" },
            },
        });
    });

    test("none: nothing", async () => {
        const result = await renderWith({ kubernetes: KUBE, ingress: { controller: "none" }, viz: { dashboard: { exposure: "none" } } });
        expect(ofType(result, HCC)).toEqual([]);
        expect(result.outputs.ingressMeshing).toEqual({ controller: "none" });
    });
});

describe("Longhorn variants", () => {
    test("disabled: no steps, no output", async () => {
        const result = await renderWith({ kubernetes: KUBE, longhorn: { enabled: false } });
        expect(ofType(result, COMMAND).filter((c) => c.parent === "linkerd-longhorn")).toEqual([]);
        expect(result.outputs.longhornMeshing).toBeUndefined();
    });

    test("namespace, timeout and kubectl binary from the config", async () => {
        const result = await renderWith({
            kubernetes: KUBE,
            longhorn: { namespace: "storage", waitTimeoutSeconds: 120, kubectl: "/opt/bin/kubectl" },
        });
        const wait = byName(result.resources, COMMAND, STEPS[0]);
        expect(wait.inputs.create).toContain("KUBECTL='/opt/bin/kubectl'");
        expect(wait.inputs.create).toContain("-n 'storage' rollout status");
        expect(wait.inputs.create).toContain("deadline=$((SECONDS + 120))");
        expect(wait.inputs.triggers).toEqual(["storage", KUBE.kubeconfig, KUBE.context]);
    });

    test("no resolvable context: the steps only fail, naming picluster-linkerd:kubernetes.context", async () => {
        const result = await renderWith({ kubernetes: { kubeconfig: "/nonexistent/picluster/kubeconfig" } });
        for (const name of STEPS) {
            const step = byName(result.resources, COMMAND, name);
            expect(step.inputs.create).toContain("picluster-linkerd:kubernetes.context");
            expect(step.inputs.create).toContain("exit 1");
            expect(step.inputs.create).not.toContain("kubectl");
        }
    });
});
