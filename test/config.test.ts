import * as fs from "fs";
import * as path from "path";
import { ConfigError, PROJECT, RawStackConfig, loadConfig } from "../lib/config";

const PEM = fs.readFileSync(path.join(__dirname, "fixtures", "certs", "root-ca.crt"), "utf8");

function problemsOf(raw: RawStackConfig): { key: string; message: string }[] {
    try {
        loadConfig(raw);
    } catch (e) {
        if (e instanceof ConfigError) return [...e.problems];
        throw e;
    }
    throw new Error("expected the configuration to be refused");
}

describe("defaults", () => {
    const cfg = loadConfig({ values: {} });

    test("an empty stack reproduces the guide's installation", () => {
        expect(cfg.linkerd.release.version).toBe("2.14.10");
        expect(cfg.linkerd.release.charts.controlPlane).toEqual({ name: "linkerd-control-plane", version: "1.16.11" });
        expect(cfg.linkerd.chartSource).toEqual({ kind: "repository", url: "https://helm.linkerd.io/stable" });
        expect(cfg.identity.issuer).toMatchObject({
            duration: "48h",
            renewBefore: "25h",
            issuerRef: { name: "ca-issuer", kind: "ClusterIssuer", group: "cert-manager.io" },
        });
        expect(cfg.identity.trustAnchor).toEqual({ mode: "pem", source: "issuerSecret" });
        expect(cfg.controlPlane.proxyResources).toEqual({ cpu: { request: "20m" }, memory: { request: "20Mi", limit: "250Mi" } });
        expect(cfg.jaeger.enabled).toBe(true);
        expect(cfg.meshing.namespaces).toEqual(["monitoring", "logging", "tracing"]);
    });

    test("a partly given section keeps the defaults of the keys it omits", () => {
        const c = loadConfig({ values: { identity: { issuer: { duration: "72h" } }, controlPlane: { proxyResources: { cpu: { limit: "1" } } } } });
        expect(c.identity.issuer).toMatchObject({ duration: "72h", renewBefore: "25h", issuerRef: { name: "ca-issuer" } });
        expect(c.controlPlane.proxyResources.cpu).toEqual({ limit: "1" });
        expect(c.controlPlane.proxyResources.memory).toEqual({ request: "20Mi", limit: "250Mi" });
    });

    test("edge releases come from the edge repository, jaeger off once the extension is gone", () => {
        const c = loadConfig({ values: { linkerd: { channel: "edge", version: "edge-26.8.3" } } });
        expect(c.linkerd.chartSource).toEqual({ kind: "repository", url: "https://helm.linkerd.io/edge" });
        expect(c.linkerd.release.charts.viz.version).toBe("2026.8.3");
        expect(c.jaeger.enabled).toBe(false);
        expect(c.controlPlane.proxyTracing?.collectorEndpoint).toBe("tempo-distributor.tracing:4317");
    });

    test("a local chart directory replaces the repository", () => {
        const c = loadConfig({ values: { linkerd: { chartDirectory: "/srv/charts" } } });
        expect(c.linkerd.chartSource).toEqual({ kind: "directory", path: "/srv/charts" });
    });

    test("the dashboard password becomes a Pulumi secret", async () => {
        const c = loadConfig({ values: {}, secrets: { vizDashboardPassword: "correct horse battery" } });
        expect(await (c.viz.dashboard.password as any).isSecret).toBe(true);
    });
});

// Each bad configuration names the exact key path; `expected` is a fragment of the message.
const BAD: [string, RawStackConfig, string, string][] = [
    ["unknown channel", { values: { linkerd: { channel: "nightly" } } }, "linkerd.channel", 'expected one of "stable", "edge"'],
    ["unsupported stable version", { values: { linkerd: { version: "2.11.5" } } }, "linkerd.version", "from 2.12.0 to 2.14.10"],
    ["edge without a version", { values: { linkerd: { channel: "edge" } } }, "linkerd.version", 'required with channel "edge"'],
    ["edge version without prefix", { values: { linkerd: { channel: "edge", version: "26.8.3" } } }, "linkerd.version", "edge-YY.M.X"],
    ["edge version with month 13", { values: { linkerd: { channel: "edge", version: "edge-26.13.1" } } }, "linkerd.version", "M from 1 to 12"],
    [
        "edge version older than 2.15",
        { values: { linkerd: { channel: "edge", version: "edge-23.11.1" } } },
        "linkerd.version",
        "older than edge-24.2.4",
    ],
    [
        "stable version on the edge channel",
        { values: { linkerd: { channel: "edge", version: "2.14.10" } } },
        "linkerd.version",
        "not an edge release",
    ],
    [
        "repository that is not http(s)",
        { values: { linkerd: { chartRepository: "ftp://charts.example" } } },
        "linkerd.chartRepository",
        "http(s) URL",
    ],
    ["misspelt linkerd key", { values: { linkerd: { chanel: "stable" } } }, "linkerd.chanel", "unknown key"],
    ["cluster domain with underscores", { values: { linkerd: { clusterDomain: "cluster_local" } } }, "linkerd.clusterDomain", "DNS name"],
    ["helm timeout as a string", { values: { linkerd: { helmTimeoutSeconds: "600" } } }, "linkerd.helmTimeoutSeconds", "expected number"],
    [
        "both repository and directory",
        { values: { linkerd: { chartRepository: "https://charts.example", chartDirectory: "/srv" } } },
        "linkerd.chartDirectory",
        "not both",
    ],
    ["issuer duration in words", { values: { identity: { issuer: { duration: "2 days" } } } }, "identity.issuer.duration", "Go duration"],
    [
        "renewBefore longer than duration",
        { values: { identity: { issuer: { duration: "48h", renewBefore: "49h" } } } },
        "identity.issuer.renewBefore",
        "less than identity.issuer.duration",
    ],
    [
        "unknown issuer kind",
        { values: { identity: { issuer: { issuerRef: { kind: "CertIssuer" } } } } },
        "identity.issuer.issuerRef.kind",
        '"ClusterIssuer", "Issuer"',
    ],
    [
        "misspelt issuerRef key",
        { values: { identity: { issuer: { issuerRef: { nmae: "ca-issuer" } } } } },
        "identity.issuer.issuerRef.nmae",
        "unknown key",
    ],
    ["unknown trust anchor mode", { values: { identity: { trustAnchor: { mode: "file" } } } }, "identity.trustAnchor.mode", '"pem", "bundle"'],
    ["inline source without pem", { values: { identity: { trustAnchor: { source: "inline" } } } }, "identity.trustAnchor.pem", "required when"],
    [
        "pem that is not a certificate",
        { values: { identity: { trustAnchor: { source: "inline", pem: "hello" } } } },
        "identity.trustAnchor.pem",
        "PEM certificate",
    ],
    ["pem given with another source", { values: { identity: { trustAnchor: { pem: PEM } } } }, "identity.trustAnchor.pem", "only used with"],
    [
        "pem given in bundle mode",
        { values: { identity: { trustAnchor: { mode: "bundle", source: "inline", pem: PEM } } } },
        "identity.trustAnchor.pem",
        "only used with",
    ],
    [
        "previous anchor in pem mode",
        { values: { identity: { trustAnchor: { previousSecret: { name: "linkerd-previous-anchor" } } } } },
        "identity.trustAnchor.previousSecret",
        'only used with mode "bundle"',
    ],
    [
        "previous anchor in the anchor's own Secret",
        { values: { identity: { trustAnchor: { mode: "bundle", previousSecret: { name: "root-secret" } } } } },
        "identity.trustAnchor.previousSecret.name",
        "a Secret of its own",
    ],
    [
        "previous anchor without a name",
        { values: { identity: { trustAnchor: { mode: "bundle", previousSecret: { key: "ca.crt" } } } } },
        "identity.trustAnchor.previousSecret.name",
        "expected string",
    ],
    [
        "bad source secret namespace",
        { values: { identity: { trustAnchor: { secret: { namespace: "Cert_Manager" } } } } },
        "identity.trustAnchor.secret.namespace",
        "DNS-1123 label",
    ],
    ["identity as a string", { values: { identity: "pem" } }, "identity", "expected object"],
    [
        "cpu request that is not a quantity",
        { values: { controlPlane: { proxyResources: { cpu: { request: "lots" } } } } },
        "controlPlane.proxyResources.cpu.request",
        "Kubernetes quantity",
    ],
    [
        "memory limit as a number",
        { values: { controlPlane: { proxyResources: { memory: { limit: 256 } } } } },
        "controlPlane.proxyResources.memory.limit",
        "expected string",
    ],
    ["native sidecar on 2.14", { values: { controlPlane: { nativeSidecar: true } } }, "controlPlane.nativeSidecar", "2.15 or later"],
    [
        "native sidecar on Kubernetes 1.28",
        { values: { kubernetes: { version: "1.28" }, linkerd: { channel: "edge", version: "edge-25.4.4" }, controlPlane: { nativeSidecar: true } } },
        "controlPlane.nativeSidecar",
        "Kubernetes >= 1.29",
    ],
    [
        "shutdown endpoint off on 2.14",
        { values: { controlPlane: { enableShutdownEndpoint: false } } },
        "controlPlane.enableShutdownEndpoint",
        "always on",
    ],
    [
        "2.20 charts on Kubernetes 1.30",
        { values: { kubernetes: { version: "1.30" }, linkerd: { channel: "edge", version: "edge-26.8.3" } } },
        "linkerd.version",
        "Kubernetes >= 1.31",
    ],
    ["kubernetes version with a v", { values: { kubernetes: { version: "v1.29" } } }, "kubernetes.version", "minor version"],
    [
        "jaeger on a release with neither linkerd-jaeger nor proxy tracing",
        { values: { linkerd: { channel: "edge", version: "edge-25.10.1" }, jaeger: { enabled: true } } },
        "jaeger.enabled",
        "neither linkerd-jaeger",
    ],
    [
        "collector address without namespace",
        { values: { jaeger: { collectorSvcAddr: "tempo:55678" } } },
        "jaeger.collectorSvcAddr",
        "service.namespace:port",
    ],
    ["unknown dashboard exposure", { values: { viz: { dashboard: { exposure: "istio" } } } }, "viz.dashboard.exposure", '"none", "nginx", "traefik"'],
    ["prometheus URL without scheme", { values: { viz: { prometheusUrl: "prometheus:9090" } } }, "viz.prometheusUrl", "http(s) URL"],
    ["grafana URL with a scheme", { values: { viz: { grafanaUrl: "http://grafana.monitoring" } } }, "viz.grafanaUrl", "without a scheme"],
    ["upper-case namespace to mesh", { values: { meshing: { namespaces: ["monitoring", "Logging"] } } }, "meshing.namespaces[1]", "DNS-1123 label"],
    [
        "namespace listed twice",
        { values: { meshing: { namespaces: ["monitoring", "tracing", "monitoring"] } } },
        "meshing.namespaces[2]",
        "listed twice",
    ],
    ["meshing the control plane", { values: { meshing: { namespaces: ["linkerd"] } } }, "meshing.namespaces[0]", "must never be meshed"],
    [
        "workload of an unmeshable kind",
        { values: { meshing: { workloads: [{ kind: "Job", namespace: "default", name: "x" }] } } },
        "meshing.workloads[0].kind",
        '"Deployment", "DaemonSet", "StatefulSet"',
    ],
    [
        "unknown Traefik API group",
        { values: { ingress: { traefik: { apiGroup: "traefik.io/v1" } } } },
        "ingress.traefik.apiGroup",
        '"traefik.io", "traefik.containo.us"',
    ],
    ["negative Longhorn timeout", { values: { longhorn: { waitTimeoutSeconds: -5 } } }, "longhorn.waitTimeoutSeconds", ">=10"],
    [
        "PodMonitor label value as a number",
        { values: { monitoring: { podMonitorLabels: { release: 5 } } } },
        "monitoring.podMonitorLabels.release",
        "expected string",
    ],
    ["misspelt top-level key", { values: {}, presentKeys: ["linkred"] }, "linkred", "unknown configuration key"],
    ["short dashboard password", { values: {}, secrets: { vizDashboardPassword: "short" } }, "vizDashboardPassword", "at least 12 characters"],
];

describe("bad configurations are refused with the key's full path", () => {
    test("there are at least 25 cases", () => expect(BAD.length).toBeGreaterThanOrEqual(25));

    test.each(BAD)("%s", (_title, raw, key, expected) => {
        const problems = problemsOf(raw);
        const problem = problems.find((p) => p.key === `${PROJECT}:${key}`);
        expect({ key: problem?.key, problems }).toMatchObject({ key: `${PROJECT}:${key}` });
        expect(problem!.message).toContain(expected);
    });
});

test("every problem is reported at once, in one error", () => {
    let error: unknown;
    try {
        loadConfig({
            values: { linkerd: { channel: "nightly" }, identity: { issuer: { duration: "soon" } }, meshing: { namespaces: ["A"] } },
            presentKeys: ["linkerd", "identity", "meshing", "vizPassword"],
        });
    } catch (e) {
        error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toMatch(/^Invalid configuration \(4 problems\); nothing was deployed:/);
    for (const key of ["linkerd.channel", "identity.issuer.duration", "meshing.namespaces[0]", "vizPassword"]) {
        expect(message).toContain(`${PROJECT}:${key}: `);
    }
});

test("a secret's value never appears in the error", () => {
    const secret = "tiny-secret";
    const problems = problemsOf({ values: {}, secrets: { vizDashboardPassword: secret } });
    expect(JSON.stringify(problems)).not.toContain(secret);
});
