import { ConfigError, loadConfig } from "../lib/config";
import { collectorNamespace, jaegerNamespace, jaegerValues, unmeshedCollectorWarning } from "../lib/builders/jaeger";
import { loadChartKeys, unknownValueKeys } from "./support/chartKeys";
import { validateObject } from "./support/k8sSchemas";

const cfg = loadConfig({ values: {} });

test("values of the guide's jaeger step 1", () => {
    expect(jaegerValues(cfg.jaeger)).toEqual({
        collector: { enabled: false },
        jaeger: { enabled: false },
        webhook: { collectorSvcAddr: "tempo-distributor.tracing:55678", collectorSvcAccount: "tempo" },
    });
});

test.each(["30.12.11", "2025.9.4"])("every value key exists in linkerd-jaeger %s", (version) => {
    expect(unknownValueKeys(jaegerValues(cfg.jaeger), loadChartKeys("linkerd-jaeger", version))).toEqual([]);
});

test("the namespace as the CLI makes it", () => {
    const ns = jaegerNamespace(loadConfig({ values: { jaeger: { namespace: "tracing-ext" } } }).jaeger.namespace);
    expect(ns).toEqual({
        apiVersion: "v1",
        kind: "Namespace",
        metadata: {
            name: "tracing-ext",
            labels: { "linkerd.io/extension": "jaeger", "pod-security.kubernetes.io/enforce": "privileged" },
            annotations: { "linkerd.io/inject": "enabled" },
        },
    });
    expect(validateObject(ns)).toEqual([]);
});

test("the collector's namespace is the second DNS label of collectorSvcAddr", () => {
    expect(collectorNamespace("tempo-distributor.tracing:55678")).toBe("tracing");
    expect(collectorNamespace("collector.linkerd-jaeger:4317")).toBe("linkerd-jaeger");
    expect(collectorNamespace("tempo.observability.svc.cluster.local:4317")).toBe("observability");
    expect(() => collectorNamespace("tempo:4317")).toThrow(/service\.namespace:port/);
});

test("a warning when the collector's namespace is not meshed", () => {
    expect(unmeshedCollectorWarning(cfg.jaeger, cfg.meshing.namespaces)).toBeUndefined();
    const w = unmeshedCollectorWarning(cfg.jaeger, ["monitoring"]);
    expect(w).toMatch(/namespace "tracing", which is not in meshing\.namespaces/);
});

describe("config validation of jaeger.enabled against the release", () => {
    const problems = (values: Record<string, unknown>) => {
        try {
            loadConfig({ values });
        } catch (e) {
            if (e instanceof ConfigError) return e.problems.map((p) => p.key);
            throw e;
        }
        return [];
    };

    const warningsOf = (values: Record<string, unknown>) => loadConfig({ values }).warnings;

    test.each(["edge-25.10.7", "edge-26.8.3"])("%s (no extension, 2.19+): spans go to Tempo through proxy.tracing, with a notice", (version) => {
        const c = loadConfig({ values: { linkerd: { channel: "edge", version }, meshing: { namespaces: ["tracing"] } } });
        expect(c.jaeger.enabled).toBe(false);
        expect(c.controlPlane.proxyTracing).toEqual({
            collectorEndpoint: "tempo-distributor.tracing:4317",
            serviceAccountName: "tempo",
            namespace: "tracing",
        });
        const notice = c.warnings.find((w) => w.key === "picluster-linkerd:jaeger.enabled");
        expect(notice?.message).toMatch(
            /has no linkerd-jaeger extension \(last in edge-25\.9\.4\).*proxy\.tracing.*uninstalled by the next `pulumi up`/,
        );
        // An explicit jaeger.enabled: true means the same (spans to Tempo); false sends none, silently.
        expect(problems({ linkerd: { channel: "edge", version }, jaeger: { enabled: true } })).toEqual([]);
        const off = loadConfig({ values: { linkerd: { channel: "edge", version }, jaeger: { enabled: false } } });
        expect(off.controlPlane.proxyTracing).toBeUndefined();
        expect(warningsOf({ linkerd: { channel: "edge", version }, jaeger: { enabled: false } }).map((w) => w.key)).not.toContain(
            "picluster-linkerd:jaeger.enabled",
        );
    });

    test("a collector of your own: its address and mesh identity", () => {
        const c = loadConfig({
            values: {
                linkerd: { channel: "edge", version: "edge-26.8.3" },
                jaeger: { collectorSvcAddr: "otel-collector.observability:4317", collectorSvcAccount: "otel" },
                meshing: { namespaces: ["observability"] },
            },
        });
        expect(c.controlPlane.proxyTracing).toEqual({
            collectorEndpoint: "otel-collector.observability:4317",
            serviceAccountName: "otel",
            namespace: "observability",
        });
    });

    test.each(["edge-25.10.1", "edge-25.10.3", "edge-25.10.6"])(
        "%s has neither the extension nor proxy.tracing: refused when asked for and at the default (as the README says), accepted when off",
        (version) => {
            expect(problems({ linkerd: { channel: "edge", version }, jaeger: { enabled: true } })).toEqual(["picluster-linkerd:jaeger.enabled"]);
            expect(problems({ linkerd: { channel: "edge", version } })).toEqual(["picluster-linkerd:jaeger.enabled"]);
            const c = loadConfig({ values: { linkerd: { channel: "edge", version }, jaeger: { enabled: false } } });
            expect(c.jaeger.enabled).toBe(false);
            expect(c.controlPlane.proxyTracing).toBeUndefined();
        },
    );

    test.each(["edge-25.9.4", "edge-24.11.8"])("accepted and on by default on %s", (version) => {
        expect(problems({ linkerd: { channel: "edge", version }, jaeger: { enabled: true } })).toEqual([]);
        expect(loadConfig({ values: { linkerd: { channel: "edge", version } } }).jaeger.enabled).toBe(true);
    });

    test("stable: on by default, can be switched off", () => {
        expect(cfg.jaeger.enabled).toBe(true);
        expect(loadConfig({ values: { jaeger: { enabled: false } } }).jaeger.enabled).toBe(false);
    });
});
