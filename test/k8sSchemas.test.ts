import { GUIDE_ISSUER_CERTIFICATE } from "./support/guideObjects";
import { supportedKinds, validateObject } from "./support/k8sSchemas";

// Objects as written in the guide (/work/shared/guide/linkerd-service-mesh.txt), re-indented.

const guideCertificate = GUIDE_ISSUER_CERTIFICATE;

/** Trust-manager alternative, step 6. */
const guideBundle = {
    apiVersion: "trust.cert-manager.io/v1alpha1",
    kind: "Bundle",
    metadata: { name: "linkerd-identity-trust-roots" },
    spec: {
        sources: [{ secret: { name: "root-secret", key: "ca.crt" } }],
        target: {
            configMap: { key: "ca-bundle.crt" },
            namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "linkerd" } },
        },
    },
};

/** Traefik ingress, step 1 (Traefik v2 API group as in the guide). */
const guideMiddleware = {
    apiVersion: "traefik.containo.us/v1alpha1",
    kind: "Middleware",
    metadata: { name: "l5d-header-middleware", namespace: "my-namespace" },
    spec: { headers: { customRequestHeaders: { "l5d-dst-override": "my-service.my-namespace.svc.cluster.local:80" } } },
};

/** Traefik ingress, step 2. */
const guideIngressRoute = {
    apiVersion: "traefik.containo.us/v1alpha1",
    kind: "IngressRoute",
    metadata: { name: "my-ingress-route", namespace: "my-namespace" },
    spec: {
        routes: [
            {
                kind: "Rule",
                match: "Host(`mydomain`)",
                services: [{ name: "my-service", port: 8080, namespace: "my-namespace" }],
                middlewares: [{ name: "l5d-header-middleware", namespace: "my-namespace" }],
            },
        ],
    },
};

/** Viz, step 5: the service-mirror PodMonitor with the `source_labels` typo. */
const guideServiceMirrorPodMonitor = {
    apiVersion: "monitoring.coreos.com/v1",
    kind: "PodMonitor",
    metadata: { labels: { app: "linkerd", release: "kube-prometheus-stack" }, name: "linkerd-service-mirror", namespace: "monitoring" },
    spec: {
        namespaceSelector: { any: true },
        selector: { matchLabels: {} },
        podMetricsEndpoints: [
            {
                relabelings: [
                    {
                        sourceLabels: ["__meta_kubernetes_pod_label_linkerd_io_control_plane_component", "__meta_kubernetes_pod_container_port_name"],
                        action: "keep",
                        regex: "linkerd-service-mirror;admin-http$",
                    },
                    { sourceLabels: ["__meta_kubernetes_pod_container_name"], action: "replace", targetLabel: "component" },
                    // Replace job value
                    { source_labels: ["__address__"], action: "replace", targetLabel: "job", replacement: "linkerd-service-mirror" },
                ],
            },
        ],
    },
};

const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;

describe("validateObject", () => {
    it("passes the guide's Certificate, Bundle, Middleware and IngressRoute", () => {
        expect(validateObject(guideCertificate)).toEqual([]);
        expect(validateObject(guideBundle)).toEqual([]);
        expect(validateObject(guideMiddleware)).toEqual([]);
        expect(validateObject(guideIngressRoute)).toEqual([]);
    });

    it("passes the guide's Middleware and IngressRoute converted to traefik.io (Traefik v3)", () => {
        expect(validateObject({ ...guideMiddleware, apiVersion: "traefik.io/v1alpha1" })).toEqual([]);
        expect(validateObject({ ...guideIngressRoute, apiVersion: "traefik.io/v1alpha1" })).toEqual([]);
    });

    it("catches the guide's PodMonitor source_labels typo", () => {
        expect(validateObject(guideServiceMirrorPodMonitor)).toEqual(["spec.podMetricsEndpoints[0].relabelings[2].source_labels: unknown field"]);
        const fixed = clone(guideServiceMirrorPodMonitor);
        const r = fixed.spec.podMetricsEndpoints[0].relabelings[2] as Record<string, unknown>;
        r.sourceLabels = r.source_labels;
        delete r.source_labels;
        expect(validateObject(fixed)).toEqual([]);
    });

    it("catches a misspelt Certificate field", () => {
        const c = clone(guideCertificate) as unknown as { spec: Record<string, unknown> };
        c.spec.renewBfore = c.spec.renewBefore;
        delete c.spec.renewBefore;
        (c.spec.privateKey as Record<string, unknown>).rotationPolcy = "Always";
        expect(validateObject(c)).toEqual(["spec.privateKey.rotationPolcy: unknown field", "spec.renewBfore: unknown field"]);
    });

    it("catches a missing required field", () => {
        const c = clone(guideCertificate) as { spec: Record<string, unknown> };
        delete c.spec.secretName;
        expect(validateObject(c)).toEqual(["spec: must have required property 'secretName'"]);
        const b = clone(guideBundle) as { spec: Record<string, unknown> };
        delete b.spec.sources; // trust-manager v0.24.0 requires spec.sources (spec.target is optional there)
        expect(validateObject(b)).toEqual(["spec: must have required property 'sources'"]);
    });

    it("catches a wrong type and a bad enum value", () => {
        const c = clone(guideCertificate) as { spec: Record<string, unknown> };
        c.spec.isCA = "true";
        c.spec.dnsNames = "identity.linkerd.cluster.local";
        expect(validateObject(c)).toEqual(["spec.dnsNames: must be array", "spec.isCA: must be boolean"]);
        const k = clone(guideCertificate) as { spec: { privateKey: Record<string, unknown> } };
        k.spec.privateKey.algorithm = "DSA";
        expect(validateObject(k)).toEqual([expect.stringMatching(/^spec\.privateKey\.algorithm: must be equal to one of the allowed values/)]);
    });

    it("catches unknown fields in CRD-derived kinds and their metadata", () => {
        const m = { ...clone(guideMiddleware), apiVersion: "traefik.io/v1alpha1" } as Record<string, any>;
        m.spec.headers.customRequestHeader = { a: "b" };
        m.metadata.label = { a: "b" };
        expect(validateObject(m)).toEqual(["metadata.label: unknown field", "spec.headers.customRequestHeader: unknown field"]);
        const b = clone(guideBundle) as Record<string, any>;
        b.spec.sources[0].secret.keys = "x";
        expect(validateObject(b)).toEqual(["spec.sources[0].secret.keys: unknown field"]);
    });

    it("validates a hand-written HelmChartConfig", () => {
        const hcc = {
            apiVersion: "helm.cattle.io/v1",
            kind: "HelmChartConfig",
            metadata: { name: "traefik", namespace: "kube-system" },
            spec: { valuesContent: "additionalArguments: []\n" },
        };
        expect(validateObject(hcc)).toEqual([]);
        expect(validateObject({ ...hcc, spec: { values: {} } })).toEqual(["spec.values: unknown field"]);
        expect(validateObject({ ...hcc, spec: { valuesContent: { a: 1 } } })).toEqual(["spec.valuesContent: must be string"]);
    });

    it("validates core kinds strictly, accepting maps and int-or-string", () => {
        const deployment = {
            apiVersion: "apps/v1",
            kind: "Deployment",
            metadata: { name: "web", namespace: "demo", labels: { app: "web" }, annotations: { "linkerd.io/inject": "enabled" } },
            spec: {
                replicas: 1,
                selector: { matchLabels: { app: "web" } },
                strategy: { rollingUpdate: { maxUnavailable: "25%", maxSurge: 1 } },
                template: {
                    metadata: { labels: { app: "web" }, annotations: { "config.linkerd.io/proxy-cpu-request": "10m" } },
                    spec: {
                        containers: [
                            {
                                name: "web",
                                image: "nginx:1.27",
                                ports: [{ containerPort: 80, name: "http" }],
                                resources: { requests: { cpu: "10m", memory: "16Mi" }, limits: { memory: "64Mi" } },
                                readinessProbe: { httpGet: { path: "/", port: "http" } },
                            },
                        ],
                    },
                },
            },
        };
        expect(validateObject(deployment)).toEqual([]);
        const bad = clone(deployment) as Record<string, any>;
        bad.spec.template.spec.containers[0].resource = {};
        bad.spec.template.spec.containers[0].ports[0].containerport = 80;
        expect(validateObject(bad)).toEqual([
            "spec.template.spec.containers[0].ports[0].containerport: unknown field",
            "spec.template.spec.containers[0].resource: unknown field",
        ]);
        expect(
            validateObject({ apiVersion: "v1", kind: "Namespace", metadata: { name: "linkerd", labels: { "linkerd.io/is-control-plane": "true" } } }),
        ).toEqual([]);
        expect(validateObject({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "x" }, data: { "ca-bundle.crt": "pem" } })).toEqual([]);
        expect(
            validateObject({ apiVersion: "v1", kind: "Service", metadata: { name: "s" }, spec: { ports: [{ port: 80, targetPort: "http" }] } }),
        ).toEqual([]);
    });

    it("validates Jobs, CronJobs, DaemonSets, Secrets and Ingresses", () => {
        const pod = { spec: { restartPolicy: "Never", containers: [{ name: "c", image: "busybox", args: ["true"] }] } };
        expect(validateObject({ apiVersion: "batch/v1", kind: "Job", metadata: { name: "j" }, spec: { backoffLimit: 1, template: pod } })).toEqual(
            [],
        );
        expect(
            validateObject({
                apiVersion: "batch/v1",
                kind: "CronJob",
                metadata: { name: "c" },
                spec: { schedule: "0 0 * * *", jobTemplate: { spec: { template: pod } } },
            }),
        ).toEqual([]);
        expect(
            validateObject({
                apiVersion: "batch/v1",
                kind: "CronJob",
                metadata: { name: "c" },
                spec: { schedule: "0 0 * * *", jobTemplate: { template: pod } },
            }),
        ).toEqual(["spec.jobTemplate.template: unknown field"]);
        expect(
            validateObject({
                apiVersion: "apps/v1",
                kind: "DaemonSet",
                metadata: { name: "d" },
                spec: {
                    selector: { matchLabels: { a: "b" } },
                    template: { metadata: { labels: { a: "b" } }, spec: { hostNetwork: true, containers: [{ name: "c", image: "i" }] } },
                },
            }),
        ).toEqual([]);
        expect(
            validateObject({ apiVersion: "v1", kind: "Secret", metadata: { name: "s" }, type: "kubernetes.io/tls", stringData: { "tls.crt": "x" } }),
        ).toEqual([]);
        expect(
            validateObject({
                apiVersion: "networking.k8s.io/v1",
                kind: "Ingress",
                metadata: { name: "i" },
                spec: {
                    rules: [
                        {
                            host: "h",
                            http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: { name: "web", port: { number: 8084 } } } }] },
                        },
                    ],
                },
            }),
        ).toEqual([]);
    });

    it("reports an unknown apiVersion/kind instead of passing it", () => {
        expect(validateObject({ apiVersion: "v1", kind: "Pod2", metadata: { name: "x" } })).toEqual([
            expect.stringMatching(/^\(root\): no schema for apiVersion "v1" kind "Pod2"/),
        ]);
        expect(validateObject({ apiVersion: "cert-manager.io/v2", kind: "Certificate" })).toHaveLength(1);
        expect(validateObject({ kind: "Namespace" })).toEqual(["(root): apiVersion and kind must be strings"]);
        expect(supportedKinds()).toContain("helm.cattle.io/v1 HelmChartConfig");
    });
});
