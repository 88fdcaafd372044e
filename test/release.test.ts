import { resolveRelease } from "../lib/release";

describe("release model", () => {
    test("stable 2.14.10 is the guide's release with its chart versions", () => {
        const r = resolveRelease("stable", "2.14.10");
        expect(r.charts).toEqual({
            crds: { name: "linkerd-crds", version: "1.8.0" },
            controlPlane: { name: "linkerd-control-plane", version: "1.16.11" },
            viz: { name: "linkerd-viz", version: "30.12.11" },
            jaeger: { name: "linkerd-jaeger", version: "30.12.11" },
        });
        expect(r).toMatchObject({
            minor: 14,
            defaultRepository: "https://helm.linkerd.io/stable",
            nativeSidecar: { supported: false, defaultEnabled: false, annotation: undefined },
            shutdownEndpoint: { configurable: false, defaultEnabled: true },
            proxyTracing: false,
            minKubernetesMinor: 21,
        });
    });

    test.each([
        ["edge-24.2.4", 15, "2024.2.4", "config.alpha.linkerd.io/proxy-enable-native-sidecar", false, true],
        ["edge-24.8.1", 15, "2024.8.1", "config.alpha.linkerd.io/proxy-enable-native-sidecar", false, true],
        ["edge-24.8.2", 16, "2024.8.2", "config.alpha.linkerd.io/proxy-enable-native-sidecar", true, true],
        ["edge-24.11.8", 17, "2024.11.8", "config.alpha.linkerd.io/proxy-enable-native-sidecar", true, true],
        ["edge-25.4.4", 18, "2025.4.4", "config.alpha.linkerd.io/proxy-enable-native-sidecar", true, true],
        ["edge-25.9.4", 18, "2025.9.4", "config.alpha.linkerd.io/proxy-enable-native-sidecar", true, true],
        ["edge-25.10.1", 18, "2025.10.1", "config.alpha.linkerd.io/proxy-enable-native-sidecar", true, false],
        ["edge-25.10.7", 19, "2025.10.7", "config.beta.linkerd.io/proxy-enable-native-sidecar", true, false],
        ["edge-26.6.3", 20, "2026.6.3", "config.linkerd.io/proxy-enable-native-sidecar", true, false],
        ["edge-26.8.3", 20, "2026.8.3", "config.linkerd.io/proxy-enable-native-sidecar", true, false],
    ])("%s maps to 2.%i, charts %s", (version, minor, chartVersion, annotation, shutdownConfigurable, hasJaeger) => {
        const r = resolveRelease("edge", version);
        expect(r.minor).toBe(minor);
        expect(r.charts.controlPlane.version).toBe(chartVersion);
        expect(r.charts.crds.version).toBe(chartVersion);
        expect(r.nativeSidecar.annotation).toBe(annotation);
        expect(r.shutdownEndpoint.configurable).toBe(shutdownConfigurable);
        expect(r.shutdownEndpoint.defaultEnabled).toBe(!shutdownConfigurable);
        expect(r.charts.jaeger !== undefined).toBe(hasJaeger);
    });

    test("native sidecars are on by default from 2.20, which needs Kubernetes 1.31", () => {
        expect(resolveRelease("edge", "edge-26.8.3")).toMatchObject({
            nativeSidecar: { defaultEnabled: true },
            minKubernetesMinor: 31,
            proxyTracing: true,
        });
        expect(resolveRelease("edge", "edge-26.5.1")).toMatchObject({ nativeSidecar: { defaultEnabled: false }, minKubernetesMinor: 22 });
    });
});
