/**
 * The configuration schema: every key under the project namespace (`picluster-linkerd:<key>`), its
 * type and its default (the guide's values). Every default is written here once: the builders and
 * components take resolved values and apply none of their own; code that needs a default value reads it from
 * CONFIG_DEFAULTS. Validation: lib/config/parse.ts; cross-key rules: lib/config/sections.ts.
 */
import { z } from "zod";

// The configuration is parsed once per run: zod's JIT (a parser compiled per object schema on first
// use) cost more than it saved (~0.1 s of every preview, profiled).
z.config({ jitless: true });

const kubernetesQuantity = z
    .string()
    .regex(/^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$/, 'expected a Kubernetes quantity such as "100m", "1" or "64Mi"');
/** A DNS-1123 label: namespace and object names. */
const dns1123Label = z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, "expected a DNS-1123 label (lower-case letters, digits and '-', at most 63 characters)");
const dns1123Subdomain = z
    .string()
    .max(253)
    .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/, 'expected a DNS name such as "linkerd.example.com"');
/** cert-manager durations use Go's time.ParseDuration syntax. */
const goDuration = z.string().regex(/^([0-9]+(\.[0-9]+)?(h|m|s|ms))+$/, 'expected a Go duration such as "48h", "25h" or "90m"');
const httpUrl = z.string().regex(/^https?:\/\/[^\s/]+(\/\S*)?$/, 'expected an http(s) URL such as "https://helm.linkerd.io/stable"');
export const labelMap = z.record(z.string().min(1), z.string());
const pemCertificate = z
    .string()
    .regex(
        /-----BEGIN CERTIFICATE-----[\s\S]+-----END CERTIFICATE-----/,
        "expected a PEM certificate (-----BEGIN CERTIFICATE----- ... -----END CERTIFICATE-----)",
    );

/** `picluster-linkerd:kubernetes` — which cluster to talk to. */
const kubernetesSchema = z.strictObject({
    /** Path of the kubeconfig file. @default $KUBECONFIG, else ~/.kube/config */
    kubeconfig: z.string().min(1).optional(),
    /** Context in that kubeconfig. Pinned for the provider and every kubectl step. @default the file's current-context */
    context: z.string().min(1).optional(),
    /** Kubernetes version of the cluster (major.minor), used to refuse releases the cluster cannot run. @default not checked */
    version: z
        .string()
        .regex(/^1\.[0-9]+$/, 'expected a Kubernetes minor version such as "1.29"')
        .optional(),
});

/** `picluster-linkerd:linkerd` — which Linkerd release, and where its charts come from. */
const linkerdSchema = z.strictObject({
    /** Release channel. @default "stable" */
    channel: z.enum(["stable", "edge"]).default("stable"),
    /** Linkerd version: "2.14.10" on stable (or any stable from 2.12.0, to adopt and upgrade an older guide install), "edge-YY.M.X" on edge. @default "2.14.10" on stable; required on edge */
    version: z.string().min(1).optional(),
    /** Helm repository URL. @default https://helm.linkerd.io/<channel> */
    chartRepository: httpUrl.optional(),
    /** A local directory holding the charts as <dir>/<chart name> (air-gapped clusters). @default unset (use the repository) */
    chartDirectory: z.string().min(1).optional(),
    /** Cluster DNS domain. @default "cluster.local" */
    clusterDomain: dns1123Subdomain.default("cluster.local"),
    /** Seconds Helm waits for each release. @default 600 */
    helmTimeoutSeconds: z.number().int().min(30).max(3600).default(600),
    /**
     * Who provides the Gateway API CRDs (HTTPRoute, GRPCRoute, ...) Linkerd's policy controller uses:
     * "linkerd-crds" (the linkerd-crds chart installs them: enableHttpRoutes on 2.14, installGatewayAPI on
     * recent edges), "cluster" (already there: k3s 1.37+ ships them, Traefik or you installed them; the chart
     * leaves them out and they are never touched), or "auto": read from the cluster at preview — "cluster"
     * when another owner has them, "linkerd-crds" when the linkerd-crds release already does, else from
     * kubernetes.version ("cluster" on 1.37+). A choice that would collide with the cluster's CRDs, or make
     * Helm delete CRDs the linkerd-crds release owns, is refused at preview.
     * @default "auto"
     */
    gatewayApiCrds: z.enum(["auto", "linkerd-crds", "cluster"]).default("auto"),
});

const issuerRefSchema = z.strictObject({
    /** @default "ca-issuer" (the guide's cert-manager CA ClusterIssuer) */
    name: dns1123Subdomain.default("ca-issuer"),
    /** @default "ClusterIssuer" */
    kind: z.enum(["ClusterIssuer", "Issuer"]).default("ClusterIssuer"),
    /** @default "cert-manager.io" */
    group: dns1123Subdomain.default("cert-manager.io"),
});

const secretKeyRefSchema = z.strictObject({
    /** @default "cert-manager" */
    namespace: dns1123Label.default("cert-manager"),
    /** @default "root-secret" */
    name: dns1123Subdomain.default("root-secret"),
    /** @default "ca.crt" */
    key: z.string().min(1).default("ca.crt"),
});

/**
 * Mode "bundle", during a trust-anchor rotation only: the previous anchor, a second source of the Bundle beside
 * `secret`, so the distributed bundle holds the old and the new anchor while everything restarts. Written and
 * removed by `npm run rotate-anchor` (docs/rotate-anchor.md); the Secret is read from trust-manager's trust
 * namespace (`secret.namespace`).
 */
const previousAnchorSchema = z.strictObject({
    /** Name of the Secret holding the previous anchor's certificate (public part only). */
    name: dns1123Subdomain,
    /** @default "ca.crt" */
    key: z.string().min(1).default("ca.crt"),
});

/** `picluster-linkerd:identity` — the identity issuer certificate and the trust anchor. */
const identitySchema = z.strictObject({
    issuer: z
        .strictObject({
            /** Validity of the issuer certificate. @default "48h" (guide step 4) */
            duration: goDuration.default("48h"),
            /** Renewal margin. @default "25h" (guide step 4) */
            renewBefore: goDuration.default("25h"),
            issuerRef: issuerRefSchema.prefault({}),
            /** cert-manager private key rotation. @default "Always" */
            rotationPolicy: z.enum(["Always", "Never"]).default("Always"),
            /** Seconds `pulumi up` waits for cert-manager to issue the certificate. @default 300 */
            readyTimeoutSeconds: z.number().int().min(10).max(3600).default(300),
        })
        .prefault({}),
    trustAnchor: z
        .strictObject({
            /**
             * "pem": the root CA is passed to the chart as identityTrustAnchorsPEM (guide step 6/8);
             * "bundle": trust-manager distributes it as the ConfigMap linkerd-identity-trust-roots
             * and the chart runs with identity.externalCA=true (guide, GitOps installation).
             * @default "pem"
             */
            mode: z.enum(["pem", "bundle"]).default("pem"),
            /**
             * Mode "pem": where the PEM comes from. "issuerSecret": ca.crt of the issued
             * linkerd-identity-issuer Secret, read after cert-manager reports the Certificate Ready
             * (guide step 6); "secret": a key of an existing Secret (`secret`); "inline": `pem`.
             * @default "issuerSecret"
             */
            source: z.enum(["issuerSecret", "secret", "inline"]).default("issuerSecret"),
            /** Source "inline": the root CA certificate. @default unset */
            pem: pemCertificate.optional(),
            /** Source "secret" in mode "pem", and the Bundle's source in mode "bundle". @default cert-manager/root-secret, key ca.crt */
            secret: secretKeyRefSchema.prefault({}),
            /**
             * Mode "bundle": the previous anchor's Secret, a second source of the Bundle while a rotation
             * overlaps both anchors (set and removed by `npm run rotate-anchor`). @default unset
             */
            previousSecret: previousAnchorSchema.optional(),
            /** Seconds `pulumi up` waits for trust-manager to sync the Bundle. @default 300 */
            bundleReadyTimeoutSeconds: z.number().int().min(10).max(3600).default(300),
        })
        .prefault({}),
});

const resourcePairSchema = z.strictObject({ request: kubernetesQuantity.optional(), limit: kubernetesQuantity.optional() });

/** `picluster-linkerd:controlPlane` — the linkerd-control-plane release. */
const controlPlaneSchema = z.strictObject({
    /**
     * Proxy sidecar requests and limits, sized for Raspberry Pi nodes (4 cores, 4-8 GiB).
     * No CPU limit by default: the proxy sizes its worker pool from it, and throttling hurts latency.
     * @default cpu.request "20m", memory.request "20Mi", memory.limit "250Mi"
     */
    proxyResources: z
        .strictObject({
            cpu: resourcePairSchema.prefault({ request: "20m" }),
            memory: resourcePairSchema.prefault({ request: "20Mi", limit: "250Mi" }),
        })
        .prefault({}),
    /** Run the proxy as a native sidecar (Linkerd 2.15+, Kubernetes 1.29+). @default the release's default */
    nativeSidecar: z.boolean().optional(),
    /** Enable the proxy's /shutdown endpoint used by `linkerd-await --shutdown` (configurable from 2.16). @default the release's default */
    enableShutdownEndpoint: z.boolean().optional(),
    /** Render the control plane's own PodMonitors (chart value podMonitor.enabled) instead of ours. @default false */
    chartPodMonitors: z.boolean().default(false),
});

/** `picluster-linkerd:viz` — the linkerd-viz extension and its dashboard. */
const vizSchema = z.strictObject({
    /** @default true */
    enabled: z.boolean().default(true),
    /** The external Prometheus (guide: "Bringing your own Prometheus"). @default the kube-prometheus-stack Service in monitoring */
    prometheusUrl: httpUrl.default("http://kube-prometheus-stack-prometheus.monitoring.svc.cluster.local:9090"),
    /** In-cluster Grafana, host[:port] without scheme (chart value grafana.url). @default the kube-prometheus-stack Grafana */
    grafanaUrl: z
        .string()
        .regex(/^[^\s:/]+(:[0-9]+)?$/, 'expected host[:port] without a scheme, such as "grafana.monitoring.svc.cluster.local"')
        .default("kube-prometheus-stack-grafana.monitoring.svc.cluster.local"),
    dashboard: z
        .strictObject({
            /** How the dashboard is exposed: "traefik" (IngressRoute), "nginx" (Ingress) or "none" (port-forward). @default ingress.controller */
            exposure: z.enum(["none", "nginx", "traefik"]).optional(),
            /** Public host name. @default "linkerd.picluster.ricsanfre.com" */
            host: dns1123Subdomain.default("linkerd.picluster.ricsanfre.com"),
            /** cert-manager ClusterIssuer for the dashboard's TLS certificate. @default "ca-issuer" */
            clusterIssuer: dns1123Subdomain.default("ca-issuer"),
            /** Secret holding the dashboard's TLS certificate. @default "linkerd-viz-tls" */
            tlsSecretName: dns1123Subdomain.default("linkerd-viz-tls"),
            /** Basic-auth user name (the password is the secret key `vizDashboardPassword`, generated if unset). @default "admin" */
            username: z
                .string()
                .regex(/^[^:\s]+$/, "expected a user name without ':' or spaces")
                .default("admin"),
            /**
             * Traefik only: accept any Host header (enforcedHostRegexp ".*"), disabling DNS-rebinding
             * protection. @default false (only the public host name is accepted)
             */
            allowAnyHost: z.boolean().default(false),
        })
        .prefault({}),
});

/** `picluster-linkerd:monitoring` — PodMonitors and Grafana dashboards for kube-prometheus-stack. */
const monitoringSchema = z.strictObject({
    /** @default true */
    enabled: z.boolean().default(true),
    /** Namespace of kube-prometheus-stack, where the PodMonitors and dashboards go. @default "monitoring" */
    namespace: dns1123Label.default("monitoring"),
    /** Labels kube-prometheus-stack selects PodMonitors on. @default {app: "linkerd", release: "kube-prometheus-stack"} */
    podMonitorLabels: labelMap.default({ app: "linkerd", release: "kube-prometheus-stack" }),
    dashboards: z
        .strictObject({
            /** @default true */
            enabled: z.boolean().default(true),
            /** Label the Grafana sidecar loads ConfigMaps by. @default {grafana_dashboard: "1"} */
            labels: labelMap.default({ grafana_dashboard: "1" }),
            /**
             * Base of the linkerd2 repository's raw files: each dashboard is downloaded from
             * <sourceBaseUrl>/<release tag>/grafana/dashboards/<file>.json (mirror that layout for air-gapped clusters).
             * @default "https://raw.githubusercontent.com/linkerd/linkerd2"
             */
            sourceBaseUrl: httpUrl.default("https://raw.githubusercontent.com/linkerd/linkerd2"),
            /** Grafana folder annotation for the sidecar. @default "Linkerd" */
            folder: z.string().min(1).default("Linkerd"),
        })
        .prefault({}),
});

/**
 * `picluster-linkerd:jaeger` — proxy spans to Tempo. Up to edge-25.9.4 through the linkerd-jaeger extension
 * (the guide); on releases without it (2.19+), through the control plane's own proxy.tracing values.
 */
const jaegerSchema = z.strictObject({
    /** Send the proxies' spans to Tempo. @default true */
    enabled: z.boolean().optional(),
    /** Namespace of the extension (releases that have it). @default "linkerd-jaeger" */
    namespace: dns1123Label.default("linkerd-jaeger"),
    /**
     * Tempo distributor's receiver, as service.namespace:port (the chart reads the namespace from it).
     * @default "tempo-distributor.tracing:55678" (OpenCensus) with linkerd-jaeger; "tempo-distributor.tracing:4317" (OTLP) with proxy.tracing
     */
    collectorSvcAddr: z
        .string()
        .regex(/^[a-z0-9-]+\.[a-z0-9-]+(\.[a-z0-9.-]+)?:[0-9]+$/, 'expected service.namespace:port, such as "tempo-distributor.tracing:55678"')
        .optional(),
    /** Service account of the collector (Tempo). @default "tempo" */
    collectorSvcAccount: dns1123Subdomain.default("tempo"),
});

const workloadRefSchema = z.strictObject({
    kind: z.enum(["Deployment", "DaemonSet", "StatefulSet"]),
    namespace: dns1123Label,
    name: dns1123Subdomain,
});

/** `picluster-linkerd:meshing` — which namespaces and workloads get the proxy. */
const meshingSchema = z.strictObject({
    /** Namespaces meshed implicitly (annotation linkerd.io/inject: enabled). @default ["monitoring", "logging", "tracing"] */
    namespaces: z.array(dns1123Label).default(["monitoring", "logging", "tracing"]),
    /** Workloads meshed explicitly (pod template annotation). @default [] */
    workloads: z.array(workloadRefSchema).default([]),
});

/** `picluster-linkerd:ingress` — meshing the ingress controller. */
const ingressSchema = z.strictObject({
    /** @default "traefik" */
    controller: z.enum(["none", "traefik", "nginx"]).default("traefik"),
    traefik: z
        .strictObject({
            /** Traefik CRD group: "traefik.io" (Traefik v3) or "traefik.containo.us" (v2, chart <= 27). @default "traefik.io" */
            apiGroup: z.enum(["traefik.io", "traefik.containo.us"]).default("traefik.io"),
            /**
             * Install Traefik's Helm chart, meshed in ingress mode, in `namespace`. k3s' bundled Traefik runs in
             * kube-system, which Linkerd's proxy injector never sees: disable it first (k3s `disable: [traefik]`).
             * false: Traefik is installed by someone else in `namespace`; the values that mesh it are a stack output.
             * @default true
             */
            install: z.boolean().default(true),
            /** Namespace Traefik runs in. Never kube-system or cert-manager (the injector does not see them). @default "traefik" */
            namespace: dns1123Label.default("traefik"),
            /** Helm repository of the Traefik chart. @default "https://traefik.github.io/charts" */
            chartRepository: httpUrl.default("https://traefik.github.io/charts"),
            /** Traefik chart version. @default "40.2.0" (Traefik v3.7.1) */
            chartVersion: z.string().min(1).default("40.2.0"),
            /** A local directory holding the chart as <dir>/traefik (air-gapped clusters). @default unset (use the repository) */
            chartDirectory: z.string().min(1).optional(),
            /**
             * Configure k3s' bundled Traefik through a HelmChartConfig instead. Refused: that Traefik runs in
             * kube-system, where the proxy injector never injects (the annotation would be silently ignored).
             * @default false
             */
            manageK3sHelmChartConfig: z.boolean().default(false),
            /** More Traefik chart values; the mesh annotations (deployment.podAnnotations) win on conflict. @default {} */
            extraValues: z.record(z.string(), z.unknown()).default({}),
        })
        .prefault({}),
    nginx: z
        .strictObject({
            /** IngressClass of ingress-nginx, used by the viz dashboard Ingress. @default "nginx" */
            ingressClassName: dns1123Subdomain.default("nginx"),
        })
        .prefault({}),
});

/** `picluster-linkerd:longhorn` — meshing Longhorn after it is deployed. */
const longhornSchema = z.strictObject({
    /** @default true */
    enabled: z.boolean().default(true),
    /** @default "longhorn-system" */
    namespace: dns1123Label.default("longhorn-system"),
    /** Seconds to wait for Longhorn to be fully deployed. @default 600 */
    waitTimeoutSeconds: z.number().int().min(10).max(7200).default(600),
    /** kubectl binary. @default "kubectl" (from PATH) */
    kubectl: z.string().min(1).default("kubectl"),
});

/** `picluster-linkerd:adopt` — taking over an installation made by hand with the guide. */
const adoptSchema = z.strictObject({
    /**
     * The first `up` after a guide install (helm + kubectl): the Helm releases are imported as they are
     * (Pulumi `import`, nothing reinstalled or upgraded) and the other objects already there are updated
     * in place (the provider's upsertExistingObjects) instead of failing as already existing.
     * @default false
     */
    enabled: z.boolean().default(false),
    /** Which of the program's Helm releases exist and are imported. @default every release the program installs */
    helmReleases: z.array(dns1123Label).optional(),
});

/** The structured keys, each an object in the stack file. */
export const configSchema = z.strictObject({
    kubernetes: kubernetesSchema.prefault({}),
    linkerd: linkerdSchema.prefault({}),
    identity: identitySchema.prefault({}),
    controlPlane: controlPlaneSchema.prefault({}),
    viz: vizSchema.prefault({}),
    monitoring: monitoringSchema.prefault({}),
    jaeger: jaegerSchema.prefault({}),
    meshing: meshingSchema.prefault({}),
    ingress: ingressSchema.prefault({}),
    longhorn: longhornSchema.prefault({}),
    adopt: adoptSchema.prefault({}),
});

/** The whole configuration with nothing set: every default, from the schema above. */
export const CONFIG_DEFAULTS: ParsedConfig = configSchema.parse({});

/** Keys that hold secrets: plain strings set with `pulumi config set --secret`. */
export const SECRET_KEYS = ["vizDashboardPassword"] as const;
export type SecretKey = (typeof SECRET_KEYS)[number];
export const STRUCTURED_KEYS = Object.keys(configSchema.shape) as (keyof typeof configSchema.shape)[];

/** The structured keys after validation, defaults filled in. */
export type ParsedConfig = z.infer<typeof configSchema>;

/** Every leaf key path of the structured configuration (`linkerd.channel`, ...), for docs and checks. */
export function configKeyPaths(): string[] {
    const out: string[] = [];
    const walk = (schema: z.core.$ZodType, prefix: string) => {
        let inner = schema;
        for (;;) {
            const def = inner._zod.def as { type: string; innerType?: z.core.$ZodType };
            if ((def.type === "default" || def.type === "prefault" || def.type === "optional") && def.innerType) inner = def.innerType;
            else break;
        }
        const def = inner._zod.def as { type: string; shape?: Record<string, z.core.$ZodType> };
        if (def.type === "object" && def.shape) {
            for (const [key, child] of Object.entries(def.shape)) walk(child, prefix ? `${prefix}.${key}` : key);
        } else {
            out.push(prefix);
        }
    };
    walk(configSchema, "");
    return [...out, ...SECRET_KEYS];
}
