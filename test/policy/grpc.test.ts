/**
 * The policy pack run the way the Pulumi engine runs it: the Node language host starts
 * `node <@pulumi/pulumi/cmd/run-policy-pack> <engine-address> <pack dir>` with the pack directory as working
 * directory (ts-node registered with type checking, as the engine does), reads the gRPC port from the first line
 * of stdout, and talks to the Analyzer service (GetAnalyzerInfo, Configure, Analyze per resource, AnalyzeStack).
 */
import {
    E,
    Empty,
    PACK,
    PackServer,
    Res,
    analyzeRequest,
    analyzerPb,
    configure as configurePack,
    diags,
    stackRequest,
    startPack,
    START_TIMEOUT_MS,
    urn,
    UNKNOWN,
} from "./packServer";

let pack: PackServer;
beforeAll(async () => {
    pack = await startPack();
}, START_TIMEOUT_MS + 10_000);
afterAll(() => pack?.stop());

const call = (method: string, request: unknown): Promise<any> => pack.call(method, request);
const configure = (config: Parameters<typeof configurePack>[1]) => configurePack(pack, config);

// --- realistic resources as the Kubernetes provider's inputs -----------------------------------------------------

const container = (name: string, command?: string[]) => ({ name, image: `example/${name}:1`, ...(command ? { command } : {}) });

const R = {
    nsMonitoring: {
        type: "kubernetes:core/v1:Namespace",
        name: "monitoring",
        props: { apiVersion: "v1", kind: "Namespace", metadata: { name: "monitoring", annotations: { "linkerd.io/inject": "enabled" } } },
    },
    nsLogging: {
        type: "kubernetes:core/v1:Namespace",
        name: "logging",
        props: { apiVersion: "v1", kind: "Namespace", metadata: { name: "logging" } },
    },
    patchLogging: {
        type: "kubernetes:core/v1:NamespacePatch",
        name: "logging-mesh",
        props: { apiVersion: "v1", kind: "Namespace", metadata: { name: "logging", annotations: { "linkerd.io/inject": "enabled" } } },
    },
    admissionJob: {
        type: "kubernetes:batch/v1:Job",
        name: "admission-create",
        props: {
            apiVersion: "batch/v1",
            kind: "Job",
            metadata: { name: "kube-prometheus-stack-admission-create", namespace: "monitoring" },
            spec: { template: { spec: { containers: [container("create")], restartPolicy: "OnFailure" } } },
        },
    },
    optedOutJob: {
        type: "kubernetes:batch/v1:Job",
        name: "curator",
        props: {
            apiVersion: "batch/v1",
            kind: "Job",
            metadata: { name: "curator", namespace: "logging" },
            spec: {
                template: {
                    metadata: { annotations: { "linkerd.io/inject": "disabled" } },
                    spec: { containers: [container("c", ["curator"])], restartPolicy: "Never" },
                },
            },
        },
    },
    loggingCron: {
        type: "kubernetes:batch/v1:CronJob",
        name: "es-snapshot",
        props: {
            apiVersion: "batch/v1",
            kind: "CronJob",
            metadata: { name: "es-snapshot", namespace: "logging" },
            spec: {
                schedule: "0 1 * * *",
                jobTemplate: { spec: { template: { spec: { containers: [container("snap", ["snapshot"])], restartPolicy: "OnFailure" } } } },
            },
        },
    },
    awaitJob: {
        type: "kubernetes:batch/v1:Job",
        name: "awaited",
        props: {
            apiVersion: "batch/v1",
            kind: "Job",
            metadata: { name: "awaited", namespace: "monitoring" },
            spec: { template: { spec: { containers: [container("m", ["linkerd-await", "--shutdown", "--", "run"])], restartPolicy: "Never" } } },
        },
    },
    unknownNsJob: {
        type: "kubernetes:batch/v1:Job",
        name: "unknown-ns",
        props: {
            apiVersion: "batch/v1",
            kind: "Job",
            metadata: { name: "later", namespace: UNKNOWN },
            spec: { template: { spec: { containers: [container("x", ["x"])] } } },
        },
    },
    nodeExporter: {
        type: "kubernetes:apps/v1:DaemonSet",
        name: "node-exporter",
        props: {
            apiVersion: "apps/v1",
            kind: "DaemonSet",
            metadata: { name: "node-exporter", namespace: "monitoring" },
            spec: {
                selector: { matchLabels: { app: "ne" } },
                template: {
                    metadata: { labels: { app: "ne" }, annotations: { "linkerd.io/inject": "enabled" } },
                    spec: { hostNetwork: true, containers: [container("ne")] },
                },
            },
        },
    },
    kps: {
        type: "kubernetes:helm.sh/v3:Release",
        name: "kube-prometheus-stack",
        props: { chart: "kube-prometheus-stack", version: "45.7.1", namespace: "monitoring", values: { grafana: { enabled: true } } },
    },
    controlPlane: {
        type: "kubernetes:helm.sh/v3:Release",
        name: "linkerd-control-plane",
        props: { chart: "linkerd-control-plane", version: "2024.8.2", namespace: "linkerd", values: { identity: { externalCA: true } } },
    },
    viz: {
        type: "kubernetes:helm.sh/v3:Release",
        name: "linkerd-viz",
        props: { chart: "linkerd-viz", namespace: "linkerd-viz", values: { dashboard: { enforcedHostRegexp: ".*" } } },
    },
    route: {
        type: "kubernetes:traefik.io/v1alpha1:IngressRoute",
        name: "grafana",
        props: {
            apiVersion: "traefik.io/v1alpha1",
            kind: "IngressRoute",
            metadata: { name: "grafana", namespace: "monitoring" },
            spec: { routes: [{ kind: "Rule", match: "Host(`grafana.example`)", services: [{ name: "grafana", port: 80 }] }] },
        },
    },
    es: {
        type: "kubernetes:elasticsearch.k8s.elastic.co/v1:Elasticsearch",
        name: "efk",
        props: {
            apiVersion: "elasticsearch.k8s.elastic.co/v1",
            kind: "Elasticsearch",
            metadata: { name: "efk", namespace: "logging" },
            spec: { version: "8.1.2", nodeSets: [{ name: "default", count: 1 }] },
        },
    },
    nginxIngress: {
        type: "kubernetes:networking.k8s.io/v1:Ingress",
        name: "kibana-nginx",
        props: {
            apiVersion: "networking.k8s.io/v1",
            kind: "Ingress",
            metadata: { name: "kibana", namespace: "logging" },
            spec: {
                ingressClassName: "nginx",
                rules: [{ http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: { name: "kibana", port: { number: 5601 } } } }] } }],
            },
        },
    },
} satisfies Record<string, Res>;

// --- tests ---------------------------------------------------------------------------------------------------------

test("GetAnalyzerInfo: pack name, policies, default enforcement levels and config schemas", async () => {
    const info = await call("getAnalyzerInfo", new Empty());
    expect(info.getName()).toBe(PACK);
    expect(info.getSupportsconfig()).toBe(true);
    const policies = Object.fromEntries(
        info
            .getPoliciesList()
            .map((p: any) => [
                p.getName(),
                { level: p.getEnforcementlevel(), type: p.getPolicyType(), schema: p.getConfigschema()?.getProperties()?.toJavaScript() },
            ]),
    );
    expect(Object.keys(policies).sort()).toEqual([
        "linkerd-automount-token-disabled",
        "linkerd-hostnetwork-not-meshed",
        "linkerd-inject-ignored-namespace",
        "linkerd-job-must-complete",
        "linkerd-nginx-service-upstream",
        "linkerd-traefik-dst-override",
        "linkerd-viz-dns-rebinding",
    ]);
    expect(policies["linkerd-job-must-complete"].level).toBe(E.MANDATORY);
    expect(policies["linkerd-hostnetwork-not-meshed"].level).toBe(E.MANDATORY);
    expect(policies["linkerd-inject-ignored-namespace"].level).toBe(E.MANDATORY);
    expect(policies["linkerd-inject-ignored-namespace"].type).toBe(analyzerPb.PolicyType.POLICY_TYPE_STACK);
    expect(policies["linkerd-traefik-dst-override"].level).toBe(E.ADVISORY);
    expect(policies["linkerd-viz-dns-rebinding"].level).toBe(E.ADVISORY);
    expect(policies["linkerd-job-must-complete"].type).toBe(analyzerPb.PolicyType.POLICY_TYPE_STACK);
    expect(policies["linkerd-hostnetwork-not-meshed"].type).toBe(analyzerPb.PolicyType.POLICY_TYPE_RESOURCE);
    expect(Object.keys(policies["linkerd-job-must-complete"].schema)).toEqual(
        expect.arrayContaining(["meshedNamespaces", "linkerdVersion", "shutdownEndpointEnabled", "nativeSidecar"]),
    );
    expect(Object.keys(policies["linkerd-traefik-dst-override"].schema)).toEqual(expect.arrayContaining(["meshedNamespaces", "traefikIngressMode"]));
});

describe("with the default configuration", () => {
    beforeAll(() => configure({}));

    test("AnalyzeStack: k3s' Traefik in kube-system asking for ingress injection is a mandatory violation", async () => {
        const traefik: Res = {
            type: "kubernetes:apps/v1:Deployment",
            name: "traefik",
            props: {
                apiVersion: "apps/v1",
                kind: "Deployment",
                metadata: { name: "traefik", namespace: "kube-system" },
                spec: {
                    selector: { matchLabels: { app: "traefik" } },
                    template: { metadata: { annotations: { "linkerd.io/inject": "ingress" } }, spec: { containers: [container("traefik")] } },
                },
            },
        };
        const d = diags(await call("analyzeStack", stackRequest([traefik])));
        expect(d.map((x) => [x.policy, x.level])).toEqual([["linkerd-inject-ignored-namespace", E.MANDATORY]]);
        expect(d[0].message).toContain('never sees namespace "kube-system"');
    });

    test("Analyze: hostNetwork DaemonSet asking for injection is a mandatory violation", async () => {
        const d = diags(await call("analyze", analyzeRequest(R.nodeExporter)));
        expect(d).toEqual([expect.objectContaining({ policy: "linkerd-hostnetwork-not-meshed", pack: PACK, level: E.MANDATORY })]);
        expect(d[0].message).toContain("DaemonSet monitoring/node-exporter: ");
    });

    test('Analyze: viz release with enforcedHostRegexp ".*" is advisory', async () => {
        const d = diags(await call("analyze", analyzeRequest(R.viz)));
        expect(d).toEqual([expect.objectContaining({ policy: "linkerd-viz-dns-rebinding", level: E.ADVISORY })]);
    });

    test("Analyze: a Job alone is left to the stack policy; others report not-applicable or nothing", async () => {
        const res = await call("analyze", analyzeRequest(R.admissionJob));
        expect(diags(res)).toEqual([]);
    });

    test("AnalyzeStack: Job rule uses Namespace/NamespacePatch resources and the control-plane release", async () => {
        const resources = [
            R.nsMonitoring,
            R.nsLogging,
            R.patchLogging,
            R.controlPlane,
            R.admissionJob,
            R.optedOutJob,
            R.loggingCron,
            R.awaitJob,
            R.kps,
            R.route,
            R.es,
            R.nodeExporter,
            R.viz,
        ];
        const d = diags(await call("analyzeStack", stackRequest(resources)));
        const jobs = d.filter((x) => x.policy === "linkerd-job-must-complete");
        expect(jobs.map((x) => x.urn).sort()).toEqual([urn(R.admissionJob), urn(R.awaitJob), urn(R.kps), urn(R.loggingCron)].sort());
        for (const j of jobs) expect(j.level).toBe(E.MANDATORY);
        const byUrn = Object.fromEntries(jobs.map((j) => [j.urn, j.message]));
        expect(byUrn[urn(R.admissionJob)]).toContain('namespace "monitoring" is meshed');
        expect(byUrn[urn(R.admissionJob)]).toContain('Namespace resource "monitoring"');
        expect(byUrn[urn(R.loggingCron)]).toContain('NamespacePatch resource "logging-mesh"');
        expect(byUrn[urn(R.loggingCron)]).toContain("`linkerd.io/inject: disabled` at spec.jobTemplate.spec.template.metadata.annotations");
        // Release 2024.8.2 = edge-24.8.2 = 2.16: the shutdown endpoint is off, so linkerd-await --shutdown is not enough.
        expect(byUrn[urn(R.awaitJob)]).toContain("config.linkerd.io/proxy-admin-shutdown: enabled");
        expect(byUrn[urn(R.awaitJob)]).toContain('linkerd-control-plane release "linkerd-control-plane"');
        expect(byUrn[urn(R.kps)]).toContain("prometheusOperator.admissionWebhooks.patch.podAnnotations");

        const advisory = d.filter((x) => x.policy !== "linkerd-job-must-complete");
        // The ECK Elasticsearch without a token is injected all the same: the release has service-account token projection (2.12+).
        expect(advisory.map((x) => [x.policy, x.urn, x.level]).sort()).toEqual([["linkerd-traefik-dst-override", urn(R.route), E.ADVISORY]]);
    });

    test("AnalyzeStack: an unknown namespace during preview is reported as not run, the rest still checked", async () => {
        const d = diags(await call("analyzeStack", stackRequest([R.nsMonitoring, R.unknownNsJob, R.admissionJob])));
        const jobs = d.filter((x) => x.policy === "linkerd-job-must-complete");
        expect(jobs).toEqual(
            expect.arrayContaining([
                expect.objectContaining({ urn: urn(R.admissionJob), level: E.MANDATORY }),
                expect.objectContaining({ level: E.ADVISORY, message: expect.stringContaining("can't run policy 'linkerd-job-must-complete'") }),
            ]),
        );
    });
});

describe("with a policy pack config (as --policy-pack-config sends it)", () => {
    beforeAll(() =>
        configure({
            "linkerd-job-must-complete": {
                level: E.MANDATORY,
                props: { meshedNamespaces: ["apps"], linkerdVersion: "edge-24.8.2", shutdownEndpointEnabled: true },
            },
            "linkerd-traefik-dst-override": { level: E.MANDATORY, props: { meshedNamespaces: ["monitoring"] } },
            "linkerd-nginx-service-upstream": { level: E.DISABLED },
            "linkerd-hostnetwork-not-meshed": { level: E.ADVISORY },
        }),
    );
    afterAll(() => configure({}));

    test("enforcement levels follow the config", async () => {
        expect(diags(await call("analyze", analyzeRequest(R.nodeExporter)))[0].level).toBe(E.ADVISORY);
        const d = diags(await call("analyzeStack", stackRequest([R.route, R.nsLogging, R.patchLogging, R.nginxIngress])));
        expect(d.map((x) => [x.policy, x.level])).toEqual([["linkerd-traefik-dst-override", E.MANDATORY]]);
    });

    test("meshedNamespaces from config mesh namespaces defined elsewhere; release facts from config", async () => {
        const appsJob = { ...R.admissionJob, name: "apps-job", props: { ...R.admissionJob.props, metadata: { name: "j", namespace: "apps" } } };
        const d = diags(await call("analyzeStack", stackRequest([appsJob, R.awaitJob, R.nsMonitoring])));
        // awaitJob is fine: 2.16 with proxy.enableShutdownEndpoint=true from config
        expect(d.map((x) => x.urn)).toEqual([urn(appsJob)]);
        expect(d[0].message).toContain("pack config (meshedNamespaces)");
    });

    test("the provider's namespace is the default namespace", async () => {
        const job = {
            ...R.admissionJob,
            name: "no-ns",
            props: { ...R.admissionJob.props, metadata: { name: "no-ns" } },
            provider: { namespace: "apps" },
        };
        const d = diags(await call("analyzeStack", stackRequest([job])));
        expect(d).toHaveLength(1);
        expect(d[0].message).toContain("Job apps/no-ns: ");
    });
});
