/**
 * The viz, monitoring and jaeger components as the program registers them, under Pulumi's mocks:
 * switches, ordering (explicit dependsOn), schemas, chart value keys, and that no plain-text
 * password reaches the render output.
 */
import * as pulumi from "@pulumi/pulumi";
import { RenderResult, kubernetesObjects, releaseValues } from "../lib/render";
import { ALLOW_ANY_HOST_WARNING } from "../lib/builders/viz";
import { byName, renderWith } from "./support/render";
import { loadChartKeys, unknownValueKeys } from "./support/chartKeys";
import { validateObject } from "./support/k8sSchemas";

const RELEASE = "kubernetes:helm.sh/v3:Release";
const NS = "kubernetes:core/v1:Namespace";
const SECRET = "kubernetes:core/v1:Secret";
const MINE = new Set(["linkerd-viz", "linkerd-monitoring", "linkerd-jaeger"]);
const PASSWORD = "correct-horse-battery-staple-42";

const base = (extra: Record<string, unknown> = {}) => ({
    kubernetes: { kubeconfig: "/tmp/picluster-test-kubeconfig", context: "picluster" },
    ...extra,
});

function objectsOf(result: RenderResult, parents = MINE) {
    return kubernetesObjects(result.resources).filter(({ resource }) => resource.parent !== null && parents.has(resource.parent));
}

function expectValid(result: RenderResult) {
    const objects = objectsOf(result);
    expect(objects.length).toBeGreaterThan(0);
    for (const { resource, object } of objects)
        expect({ name: resource.name, problems: validateObject(object) }).toEqual({ name: resource.name, problems: [] });
}

describe("defaults: stable 2.14.10, Traefik, generated password", () => {
    let result: RenderResult;
    beforeAll(async () => {
        result = await renderWith(base());
    });

    test("viz: namespace, then the release after the control plane", () => {
        const r = result.resources;
        expect(byName(r, NS, "linkerd-viz-namespace").parent).toBe("linkerd-viz");
        const viz = byName(r, RELEASE, "linkerd-viz");
        expect(viz.parent).toBe("linkerd-viz");
        expect(viz.dependsOn).toEqual(["linkerd-viz-namespace", "linkerd-control-plane"]);
        expect(viz.inputs).toMatchObject({
            name: "linkerd-viz",
            namespace: "linkerd-viz",
            chart: "linkerd-viz",
            version: "30.12.11",
            repositoryOpts: { repo: "https://helm.linkerd.io/stable" },
        });
        expect(viz.inputs.values).not.toHaveProperty("installNamespace");
        expect((viz.inputs.values as any).dashboard).toEqual({ enforcedHostRegexp: "^linkerd\\.picluster\\.ricsanfre\\.com$" });
    });

    test("Traefik exposure: Secret, Middlewares, Certificate, then the IngressRoute", () => {
        const r = result.resources;
        expect(byName(r, "kubernetes:traefik.io/v1alpha1:IngressRoute", "linkerd-viz-ingressroute").dependsOn).toEqual([
            "linkerd-viz-basic-auth-middleware",
            "linkerd-viz-l5d-header-middleware",
            "linkerd-viz-dashboard-certificate",
            "linkerd-viz",
        ]);
        expect(byName(r, "kubernetes:traefik.io/v1alpha1:Middleware", "linkerd-viz-basic-auth-middleware").dependsOn).toEqual([
            "linkerd-viz-basic-auth",
        ]);
        const secret = byName(r, SECRET, "linkerd-viz-basic-auth");
        expect(secret.inputs.stringData).toEqual({ users: "[secret]" });
        expect(r.some((x) => x.type === "kubernetes:networking.k8s.io/v1:Ingress")).toBe(false);
        // Generated: RandomPassword (whose bcryptHash the provider computes), no salt resource.
        expect(byName(r, "random:index/randomPassword:RandomPassword", "linkerd-viz-dashboard-password").parent).toBe("linkerd-viz");
        expect(r.some((x) => x.type === "random:index/randomBytes:RandomBytes")).toBe(false);
    });

    test("outputs: URL, user, and the password as a secret", () => {
        expect(result.outputs.vizDashboardUrl).toBe("https://linkerd.picluster.ricsanfre.com/");
        expect(result.outputs.vizDashboardUsername).toBe("admin");
        expect(result.outputs.vizDashboardPassword).toBe("[secret]");
    });

    test("monitoring: three PodMonitors and the dashboards ConfigMap with 16 dashboards of the release's tag", () => {
        const mine = result.resources.filter((x) => x.parent === "linkerd-monitoring");
        expect(
            mine
                .filter((x) => x.type === "kubernetes:monitoring.coreos.com/v1:PodMonitor")
                .map((x) => (x.inputs.metadata as any).name)
                .sort(),
        ).toEqual(["linkerd-controller", "linkerd-proxy", "linkerd-service-mirror"]);
        const configMaps = mine.filter((x) => x.type === "kubernetes:core/v1:ConfigMap");
        expect(configMaps.map((x) => x.name)).toEqual(["linkerd-monitoring-dashboards"]);
        const data = configMaps[0].inputs.data as Record<string, string>;
        expect(Object.keys(data)).toHaveLength(16);
        expect(data["top-line.json.url"]).toBe("https://raw.githubusercontent.com/linkerd/linkerd2/stable-2.14.10/grafana/dashboards/top-line.json");
    });

    test("jaeger: after the control plane and the tracing namespace's mesh patch", () => {
        const r = result.resources;
        const jaeger = byName(r, RELEASE, "linkerd-jaeger");
        expect(jaeger.parent).toBe("linkerd-jaeger");
        expect(jaeger.dependsOn).toEqual(["linkerd-jaeger-namespace", "linkerd-control-plane", "linkerd-meshing-namespace-tracing"]);
        expect(byName(r, "kubernetes:core/v1:NamespacePatch", "linkerd-meshing-namespace-tracing").inputs).toMatchObject({
            metadata: { name: "tracing" },
        });
        expect(jaeger.inputs).toMatchObject({ name: "linkerd-jaeger", namespace: "linkerd-jaeger", chart: "linkerd-jaeger", version: "30.12.11" });
        expect(jaeger.inputs.values).toEqual({
            collector: { enabled: false },
            jaeger: { enabled: false },
            webhook: { collectorSvcAddr: "tempo-distributor.tracing:55678", collectorSvcAccount: "tempo" },
        });
    });

    test("every object passes its schema", () => expectValid(result));

    test("values keys exist in the stable charts", () => {
        const values = releaseValues(result.resources);
        expect(unknownValueKeys(values.get("linkerd-viz") as object, loadChartKeys("linkerd-viz", "30.12.11"))).toEqual([]);
        expect(unknownValueKeys(values.get("linkerd-jaeger") as object, loadChartKeys("linkerd-jaeger", "30.12.11"))).toEqual([]);
    });
});

describe("a configured password", () => {
    let result: RenderResult;
    beforeAll(async () => {
        result = await renderWith(base(), { vizDashboardPassword: PASSWORD });
    });

    test("is hashed with a salt kept in state, not regenerated", () => {
        expect(result.resources.some((x) => x.type === "random:index/randomPassword:RandomPassword")).toBe(false);
        const salt = result.resources.find((x) => x.type === "random:index/randomBytes:RandomBytes")!;
        expect(salt).toMatchObject({ name: "linkerd-viz-dashboard-salt", parent: "linkerd-viz", inputs: { length: 16 } });
    });

    test("appears nowhere in the render output, in any encoding", () => {
        const text = JSON.stringify(result);
        for (const form of [PASSWORD, Buffer.from(PASSWORD).toString("base64"), Buffer.from(PASSWORD).toString("hex")])
            expect(text).not.toContain(form);
        expect(text).not.toMatch(/\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}/); // no hash either
        expect(result.outputs.vizDashboardPassword).toBe("[secret]");
    });
});

describe("nginx exposure", () => {
    let result: RenderResult;
    beforeAll(async () => {
        result = await renderWith(
            base({ viz: { dashboard: { exposure: "nginx" } }, ingress: { controller: "nginx", nginx: { ingressClassName: "public" } } }),
        );
    });

    test("the guide's Ingress after the Secret and the release; no Traefik objects", () => {
        const ingress = byName(result.resources, "kubernetes:networking.k8s.io/v1:Ingress", "linkerd-viz-ingress");
        expect(ingress.dependsOn).toEqual(["linkerd-viz-basic-auth", "linkerd-viz"]);
        expect(ingress.inputs).toMatchObject({
            metadata: {
                annotations: {
                    "nginx.ingress.kubernetes.io/auth-secret": "linkerd-viz/linkerd-viz-basic-auth",
                    "nginx.ingress.kubernetes.io/auth-type": "basic",
                },
            },
            spec: { ingressClassName: "public" },
        });
        expect(byName(result.resources, SECRET, "linkerd-viz-basic-auth").inputs.stringData).toEqual({ auth: "[secret]" });
        expect(result.resources.filter((x) => x.parent === "linkerd-viz" && /traefik|cert-manager/.test(x.type))).toEqual([]);
        expect(releaseValues(result.resources).get("linkerd-viz")).toMatchObject({
            dashboard: { enforcedHostRegexp: "^linkerd\\.picluster\\.ricsanfre\\.com$" },
        });
    });

    test("every object passes its schema", () => expectValid(result));
});

describe("switches", () => {
    test("exposure none: no ingress objects, no credentials", async () => {
        const result = await renderWith(base({ viz: { dashboard: { exposure: "none" } } }));
        const viz = result.resources.filter((x) => x.parent === "linkerd-viz").map((x) => x.name);
        expect(viz).toEqual(["linkerd-viz-namespace", "linkerd-viz"]);
        expect(result.outputs).not.toHaveProperty("vizDashboardUrl");
        expect(result.outputs).not.toHaveProperty("vizDashboardPassword");
    });

    test("viz, monitoring and jaeger off: none of their resources", async () => {
        const result = await renderWith(base({ viz: { enabled: false }, monitoring: { enabled: false }, jaeger: { enabled: false } }));
        expect(result.resources.filter((x) => MINE.has(x.name) || (x.parent !== null && MINE.has(x.parent)))).toEqual([]);
    });

    test("dashboards off keeps the PodMonitors; chartPodMonitors drops ours", async () => {
        const a = await renderWith(base({ monitoring: { dashboards: { enabled: false } } }));
        expect(a.resources.filter((x) => x.parent === "linkerd-monitoring").map((x) => x.type)).toEqual(
            Array(3).fill("kubernetes:monitoring.coreos.com/v1:PodMonitor"),
        );
        const b = await renderWith(base({ controlPlane: { chartPodMonitors: true } }));
        expect(b.resources.filter((x) => x.parent === "linkerd-monitoring" && x.type.endsWith(":PodMonitor"))).toEqual([]);
        expect(b.resources.filter((x) => x.parent === "linkerd-monitoring").map((x) => x.name)).toEqual(["linkerd-monitoring-dashboards"]);
    });

    test("allowAnyHost: .* with a DNS-rebinding warning", async () => {
        const warn = jest.spyOn(pulumi.log, "warn").mockImplementation(() => Promise.resolve());
        try {
            const result = await renderWith(base({ viz: { dashboard: { allowAnyHost: true } } }));
            expect((releaseValues(result.resources).get("linkerd-viz") as any).dashboard).toEqual({ enforcedHostRegexp: ".*" });
            expect(warn.mock.calls.map((c) => c[0])).toContain(`picluster-linkerd:viz.dashboard.allowAnyHost: ${ALLOW_ANY_HOST_WARNING}`);
        } finally {
            warn.mockRestore();
        }
    });

    test("an unmeshed collector namespace: warning, and only the control plane to wait for", async () => {
        const warn = jest.spyOn(pulumi.log, "warn").mockImplementation(() => Promise.resolve());
        try {
            const result = await renderWith(base({ meshing: { namespaces: ["monitoring"] } }));
            expect(byName(result.resources, RELEASE, "linkerd-jaeger").dependsOn).toEqual(["linkerd-jaeger-namespace", "linkerd-control-plane"]);
            expect(warn.mock.calls.some((c) => /not in meshing\.namespaces/.test(String(c[0])))).toBe(true);
        } finally {
            warn.mockRestore();
        }
    });
});

describe("edge releases", () => {
    test("edge-26.8.3: viz from the edge repository, no jaeger", async () => {
        const result = await renderWith(base({ linkerd: { channel: "edge", version: "edge-26.8.3" } }));
        const viz = byName(result.resources, RELEASE, "linkerd-viz");
        expect(viz.inputs).toMatchObject({ version: "2026.8.3", repositoryOpts: { repo: "https://helm.linkerd.io/edge" } });
        expect(unknownValueKeys(viz.inputs.values as object, loadChartKeys("linkerd-viz", "2026.8.3"))).toEqual([]);
        expect(result.resources.filter((x) => x.name === "linkerd-jaeger")).toEqual([]);
    });

    test("edge-25.9.4: the last jaeger, keys checked against its chart", async () => {
        const result = await renderWith(
            base({ linkerd: { channel: "edge", version: "edge-25.9.4" }, jaeger: { collectorSvcAddr: "tempo-distributor.tracing:4317" } }),
        );
        const jaeger = byName(result.resources, RELEASE, "linkerd-jaeger");
        expect(jaeger.inputs).toMatchObject({ version: "2025.9.4" });
        expect(unknownValueKeys(jaeger.inputs.values as object, loadChartKeys("linkerd-jaeger", "2025.9.4"))).toEqual([]);
    });
});
