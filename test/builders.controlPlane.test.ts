import { resolveRelease } from "../lib/release";
import { PiclusterConfig, loadConfig } from "../lib/config";
import { controlPlaneValues as buildValues, crdsValues } from "../lib/builders/controlPlane";
import { chartLocation } from "../lib/charts";
import { loadChartKeys, unknownValueKeys } from "./support/chartKeys";

const PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
const stable = loadConfig({ values: {} });
const edge = loadConfig({
    values: { linkerd: { channel: "edge", version: "edge-26.8.3" }, controlPlane: { nativeSidecar: true, enableShutdownEndpoint: true } },
});
const bundleEdge = loadConfig({ values: { linkerd: { channel: "edge", version: "edge-26.8.3" }, identity: { trustAnchor: { mode: "bundle" } } } });

/** The values the control-plane component builds from a configuration (mode "pem" needs the PEM). */
function controlPlaneValues(cfg: PiclusterConfig, pem?: string): Record<string, unknown> {
    const bundle = cfg.identity.trustAnchor.mode === "bundle";
    if (!bundle && pem === undefined) throw new Error("mode pem needs the trust anchor PEM");
    return buildValues({
        release: cfg.linkerd.release,
        clusterDomain: cfg.linkerd.clusterDomain,
        trustAnchor: bundle ? { mode: "bundle" } : { mode: "pem", pem: pem! },
        ...cfg.controlPlane,
    });
}

describe("control-plane values", () => {
    test("mode pem: guide step 8 without installNamespace, plus Pi-sized proxy resources", () => {
        expect(controlPlaneValues(stable, PEM)).toEqual({
            clusterDomain: "cluster.local",
            identityTrustDomain: "cluster.local",
            identityTrustAnchorsPEM: PEM,
            identity: { issuer: { scheme: "kubernetes.io/tls" } },
            proxy: { resources: { cpu: { request: "20m" }, memory: { request: "20Mi", limit: "250Mi" } } },
        });
    });

    test("mode bundle: identity.externalCA and no PEM", () => {
        const values = controlPlaneValues(bundleEdge) as any;
        expect(values.identity).toEqual({ externalCA: true, issuer: { scheme: "kubernetes.io/tls" } });
        expect(values).not.toHaveProperty("identityTrustAnchorsPEM");
    });

    test("version-dependent keys are set only where the chart has them", () => {
        expect((controlPlaneValues(edge, PEM) as any).proxy).toMatchObject({ nativeSidecar: true, enableShutdownEndpoint: true });
        const onStable = loadConfig({ values: { controlPlane: { enableShutdownEndpoint: true } } });
        expect((controlPlaneValues(onStable, PEM) as any).proxy).not.toHaveProperty("enableShutdownEndpoint");
    });

    test.each([
        ["stable 2.14.10, pem", stable, "1.16.11"],
        ["edge-26.8.3, pem, native sidecar", edge, "2026.8.3"],
        ["edge-26.8.3, bundle", bundleEdge, "2026.8.3"],
        [
            "stable, chart PodMonitors",
            loadConfig({ values: { controlPlane: { chartPodMonitors: true, proxyResources: { cpu: { limit: "1" } } } } }),
            "1.16.11",
        ],
    ])("%s: every key exists in linkerd-control-plane %s", (_title, cfg, version) => {
        expect(cfg.linkerd.release.charts.controlPlane.version).toBe(version);
        const values = controlPlaneValues(cfg, PEM);
        expect(unknownValueKeys(values, loadChartKeys("linkerd-control-plane", version))).toEqual([]);
    });

    test("the guide's installNamespace would be caught by the key check", () => {
        const withGuideKey = { ...controlPlaneValues(stable, PEM), installNamespace: false };
        expect(unknownValueKeys(withGuideKey, loadChartKeys("linkerd-control-plane", "1.16.11"))).toEqual(["installNamespace"]);
    });

    test("linkerd-crds values on 2.14: the chart's defaults install HTTPRoute; enableHttpRoutes false when the cluster has it", () => {
        expect(crdsValues(stable.linkerd.release)).toEqual({});
        expect(crdsValues(stable.linkerd.release, "cluster")).toEqual({ enableHttpRoutes: false });
        for (const owner of ["linkerd-crds", "cluster"] as const) {
            expect(unknownValueKeys(crdsValues(stable.linkerd.release, owner), loadChartKeys("linkerd-crds", "1.8.0"))).toEqual([]);
        }
    });

    test("linkerd-crds values on edge-26.8.3: installGatewayAPI when they are ours to install, off when the cluster has them", () => {
        const edgeRelease = resolveRelease("edge", "edge-26.8.3");
        expect(edgeRelease.gatewayApi.installedByDefault).toBe(false);
        expect(crdsValues(edgeRelease, "linkerd-crds")).toEqual({ installGatewayAPI: true });
        expect(crdsValues(edgeRelease, "cluster")).toEqual({ installGatewayAPI: false });
        for (const owner of ["linkerd-crds", "cluster"] as const) {
            expect(unknownValueKeys(crdsValues(edgeRelease, owner), loadChartKeys("linkerd-crds", "2026.8.3"))).toEqual([]);
        }
        // edge-25.9.3 still installed them by default; edge-25.9.4 is the first that does not.
        expect(resolveRelease("edge", "edge-25.9.3").gatewayApi.installedByDefault).toBe(true);
        expect(resolveRelease("edge", "edge-25.9.4").gatewayApi.installedByDefault).toBe(false);
    });
});

describe("chart location", () => {
    test("repository charts are pinned to the release's chart version", () => {
        expect(chartLocation(stable.linkerd.chartSource, stable.linkerd.release.charts.controlPlane)).toEqual({
            chart: "linkerd-control-plane",
            version: "1.16.11",
            repositoryOpts: { repo: "https://helm.linkerd.io/stable" },
        });
    });

    test("a local directory is used as <dir>/<chart>", () => {
        const cfg = loadConfig({ values: { linkerd: { chartDirectory: "/srv/charts" } } });
        expect(chartLocation(cfg.linkerd.chartSource, cfg.linkerd.release.charts.crds)).toEqual({ chart: "/srv/charts/linkerd-crds" });
    });
});
