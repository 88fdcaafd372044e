import { hasValueKey, loadChartKeys, unknownValueKeys } from "./support/chartKeys";

const cp14 = loadChartKeys("linkerd-control-plane", "1.16.11");
const cpEdge = loadChartKeys("linkerd-control-plane", "2026.8.3");
const viz14 = loadChartKeys("linkerd-viz", "30.12.11");
const vizEdge = loadChartKeys("linkerd-viz", "2026.8.3");
const jaeger14 = loadChartKeys("linkerd-jaeger", "30.12.11");
const jaegerEdge = loadChartKeys("linkerd-jaeger", "2025.9.4");

describe("chart key fixtures", () => {
    it("records version metadata and provenance", () => {
        expect(cp14).toMatchObject({ chart: "linkerd-control-plane", chartVersion: "1.16.11", linkerdVersion: "stable-2.14.10" });
        expect(cp14.source).toMatch(/^linkerd\/linkerd2 charts\/linkerd-control-plane\/values\.yaml@stable-2\.14\.10/);
        expect(cpEdge.chartVersion).toBe("2026.8.3");
        expect(cpEdge.chartYamlVersion).toBe("0.0.0-undefined");
        expect(cpEdge.note).toMatch(/2026\.8\.3/);
        expect(jaegerEdge.chartVersion).toBe("2025.9.4");
        expect(loadChartKeys("linkerd-crds", "1.8.0").keys).toEqual(["enableHttpRoutes"]);
    });

    it("fails clearly for a version without a fixture", () => {
        expect(() => loadChartKeys("linkerd-control-plane", "9.9.9")).toThrow(/no chart key fixture/);
    });

    it("keeps keys, openMaps and lists sorted and consistent", () => {
        for (const fx of [cp14, cpEdge, viz14, vizEdge, jaeger14, jaegerEdge]) {
            expect([...fx.keys].sort()).toEqual(fx.keys);
            for (const p of [...fx.openMaps, ...fx.lists]) expect(fx.keys).toContain(p);
        }
    });
});

describe("unknownValueKeys", () => {
    it("reports installNamespace for both control-plane versions", () => {
        for (const fx of [cp14, cpEdge]) {
            expect(unknownValueKeys({ installNamespace: false, identityTrustAnchorsPEM: "x" }, fx)).toEqual(["installNamespace"]);
        }
    });

    it("knows proxy.nativeSidecar and proxy.enableShutdownEndpoint only in edge", () => {
        const v = { proxy: { nativeSidecar: true, enableShutdownEndpoint: true } };
        expect(unknownValueKeys(v, cpEdge)).toEqual([]);
        expect(unknownValueKeys(v, cp14)).toEqual(["proxy.nativeSidecar", "proxy.enableShutdownEndpoint"]);
    });

    it("knows identity.externalCA and identity.issuer.scheme in both", () => {
        const v = { identity: { externalCA: true, issuer: { scheme: "kubernetes.io/tls" } }, identityTrustAnchorsPEM: "pem" };
        expect(unknownValueKeys(v, cp14)).toEqual([]);
        expect(unknownValueKeys(v, cpEdge)).toEqual([]);
    });

    it("knows the proxy resource keys", () => {
        const v = { proxy: { resources: { cpu: { request: "10m", limit: "1" }, memory: { request: "20Mi", limit: "250Mi" } } } };
        expect(unknownValueKeys(v, cp14)).toEqual([]);
        expect(unknownValueKeys(v, cpEdge)).toEqual([]);
        expect(unknownValueKeys({ proxy: { resources: { cpu: { requests: "10m" } } } }, cp14)).toEqual(["proxy.resources.cpu.requests"]);
    });

    it("knows the viz values the program uses", () => {
        const v = {
            prometheusUrl: "http://p:9090",
            prometheus: { enabled: false },
            grafana: { url: "grafana.monitoring:80" },
            dashboard: { enforcedHostRegexp: ".*" },
        };
        expect(unknownValueKeys(v, viz14)).toEqual([]);
        expect(unknownValueKeys(v, vizEdge)).toEqual([]);
    });

    it("knows the jaeger webhook values", () => {
        const v = { collector: { enabled: false }, jaeger: { enabled: false }, webhook: { collectorSvcAddr: "c.ns:4317", collectorSvcAccount: "c" } };
        expect(unknownValueKeys(v, jaeger14)).toEqual([]);
        expect(unknownValueKeys(v, jaegerEdge)).toEqual([]);
    });

    it("reports an invented key with its full path and does not descend into it", () => {
        expect(unknownValueKeys({ proxy: { tracing: { enabled: true } } }, cp14)).toEqual(["proxy.tracing"]);
        expect(unknownValueKeys({ identity: { issuer: { tls: { crtPEMX: "x" } } } }, cpEdge)).toEqual(["identity.issuer.tls.crtPEMX"]);
        expect(unknownValueKeys({ grafana: { uri: "x" } }, viz14)).toEqual(["grafana.uri"]);
    });

    it("accepts anything under an open map", () => {
        const v = {
            podAnnotations: { "config.linkerd.io/proxy-cpu-request": "10m", any: { nested: 1 } },
            nodeSelector: { "kubernetes.io/arch": "arm64" },
            nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: {} },
        };
        expect(unknownValueKeys(v, cp14)).toEqual([]);
        expect(unknownValueKeys({ prometheus: { args: { "storage.tsdb.retention.time": "1d" } } }, viz14)).toEqual([]);
    });

    it("checks list elements against element keys when known, else accepts them", () => {
        expect(unknownValueKeys({ imagePullSecrets: [{ name: "a" }, { nmae: "b" }] }, cp14)).toEqual(["imagePullSecrets[1].nmae"]);
        expect(unknownValueKeys({ tolerations: [{ key: "k", operator: "Exists" }] }, cp14)).toEqual([]);
        expect(unknownValueKeys({ configReaders: [{ name: "a", namespace: "b", x: 1 }] }, cpEdge)).toEqual(["configReaders[0].x"]);
    });

    it("knows commented-out options", () => {
        expect(hasValueKey(cp14, "heartbeatSchedule")).toBe(true);
        expect(hasValueKey(cpEdge, "destinationResources.cpu.limit")).toBe(true);
        expect(hasValueKey(viz14, "dashboard.proxy.resources.memory.limit")).toBe(true);
        expect(hasValueKey(vizEdge, "prometheus.persistence.size")).toBe(true);
        expect(hasValueKey(loadChartKeys("linkerd-crds", "2026.8.3"), "enableTlsRoutes")).toBe(true);
    });

    it("reports a literal dotted key, which Helm would not expand", () => {
        expect(unknownValueKeys({ "proxy.nativeSidecar": true }, cpEdge)).toEqual(["proxy.nativeSidecar"]);
    });
});
