/**
 * A component built alone, without the composition root or a real control plane: the narrow interfaces of
 * components/contracts.ts implemented by hand.
 */
import * as pulumi from "@pulumi/pulumi";
import { LinkerdViz } from "../components/viz";
import { LinkerdMeshing } from "../components/meshing";
import type { ExtensionSource } from "../components/contracts";
import { renderFunction } from "../lib/render";
import { resolveRelease } from "../lib/release";

class FakeControlPlane extends pulumi.ComponentResource implements ExtensionSource {
    readonly release = resolveRelease("edge", "edge-26.8.3");
    readonly chartSource = { kind: "directory", path: "/charts" } as const;
    readonly helmTimeoutSeconds = 123;
    readonly clusterDomain = "example.internal";
    readonly controlPlaneRelease: pulumi.Resource = this;
    constructor() {
        super("test:fake:ControlPlane", "fake-control-plane");
    }
}

test("LinkerdViz alone: installs from the source it is given, after the control plane it is given", async () => {
    const { resources } = await renderFunction(() => {
        const controlPlane = new FakeControlPlane();
        new LinkerdViz("viz", {
            controlPlane,
            prometheusUrl: "http://prometheus.example:9090",
            grafanaUrl: "grafana.example",
            dashboard: {
                exposure: "traefik",
                host: "viz.example.internal",
                clusterIssuer: "ca",
                tlsSecretName: "viz-tls",
                username: "me",
                allowAnyHost: false,
            },
            traefikApiGroup: "traefik.io",
        });
        return {};
    });
    const release = resources.find((r) => r.type === "kubernetes:helm.sh/v3:Release");
    expect(release).toMatchObject({
        name: "viz",
        parent: "viz",
        dependsOn: ["viz-namespace", "fake-control-plane"],
        inputs: { chart: "/charts/linkerd-viz", timeout: 123, values: { prometheusUrl: "http://prometheus.example:9090" } },
    });
    const l5d = resources.find((r) => r.name === "viz-l5d-header-middleware");
    expect(JSON.stringify(l5d?.inputs)).toContain("web.linkerd-viz.svc.example.internal:8084");
});

test("LinkerdMeshing alone: patches after whatever it is told the control plane is", async () => {
    const { resources } = await renderFunction(() => {
        const controlPlane = new FakeControlPlane();
        new LinkerdMeshing("mesh", { controlPlane, namespaces: ["apps"], workloads: [] });
        return {};
    });
    expect(resources.find((r) => r.type === "kubernetes:core/v1:NamespacePatch")).toMatchObject({
        name: "mesh-namespace-apps",
        dependsOn: ["fake-control-plane"],
    });
});
