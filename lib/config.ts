/**
 * The one configuration model of picluster-linkerd.
 *
 * Every key lives under the project namespace (`picluster-linkerd:<key>`) in the stack file.
 * `index.ts` reads the raw values once, `parseConfig` validates them here, and the typed result is
 * passed down to the components: no component reads `pulumi.Config` itself.
 *
 * Validation collects every problem at once and throws a single `ConfigError` that names each
 * offending key by its full path (`picluster-linkerd:linkerd.channel`) and says what is expected,
 * before any resource is registered.
 */
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { LinkerdRelease, ReleaseError, resolveRelease } from "./release";

export const PROJECT = "picluster-linkerd";

const kubernetesQuantity = z
    .string()
    .regex(/^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$/, "expected a Kubernetes quantity such as \"100m\", \"1\" or \"64Mi\"");
/** A DNS-1123 label: namespace and object names. */
const dns1123Label = z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, "expected a DNS-1123 label (lower-case letters, digits and '-', at most 63 characters)");
const dns1123Subdomain = z
    .string()
    .max(253)
    .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/, "expected a DNS name such as \"linkerd.example.com\"");
/** cert-manager durations use Go's time.ParseDuration syntax. */
const goDuration = z
    .string()
    .regex(/^([0-9]+(\.[0-9]+)?(h|m|s|ms))+$/, "expected a Go duration such as \"48h\", \"25h\" or \"90m\"");
const httpUrl = z.string().regex(/^https?:\/\/[^\s/]+(\/\S*)?$/, "expected an http(s) URL such as \"https://helm.linkerd.io/stable\"");
const labelMap = z.record(z.string().min(1), z.string());
const pemCertificate = z
    .string()
    .regex(/-----BEGIN CERTIFICATE-----[\s\S]+-----END CERTIFICATE-----/, "expected a PEM certificate (-----BEGIN CERTIFICATE----- ... -----END CERTIFICATE-----)");

/** `picluster-linkerd:kubernetes` — which cluster to talk to. */
const kubernetesSchema = z.strictObject({
    /** Path of the kubeconfig file. @default $KUBECONFIG, else ~/.kube/config */
    kubeconfig: z.string().min(1).optional(),
    /** Context in that kubeconfig. Pinned for the provider and every kubectl step. @default the file's current-context */
    context: z.string().min(1).optional(),
    /** Kubernetes version of the cluster (major.minor), used to refuse releases the cluster cannot run. @default not checked */
    version: z.string().regex(/^1\.[0-9]+$/, "expected a Kubernetes minor version such as \"1.29\"").optional(),
});

/** `picluster-linkerd:linkerd` — which Linkerd release, and where its charts come from. */
const linkerdSchema = z.strictObject({
    /** Release channel. @default "stable" */
    channel: z.enum(["stable", "edge"]).default("stable"),
    /** Linkerd version: "2.14.10" on stable, "edge-YY.M.X" on edge. @default "2.14.10" on stable; required on edge */
    version: z.string().min(1).optional(),
    /** Helm repository URL. @default https://helm.linkerd.io/<channel> */
    chartRepository: httpUrl.optional(),
    /** A local directory holding the charts as <dir>/<chart name> (air-gapped clusters). @default unset (use the repository) */
    chartDirectory: z.string().min(1).optional(),
    /** Cluster DNS domain. @default "cluster.local" */
    clusterDomain: dns1123Subdomain.default("cluster.local"),
    /** Seconds Helm waits for each release. @default 600 */
    helmTimeoutSeconds: z.number().int().min(30).max(3600).default(600),
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
        .regex(/^[^\s:/]+(:[0-9]+)?$/, "expected host[:port] without a scheme, such as \"grafana.monitoring.svc.cluster.local\"")
        .default("kube-prometheus-stack-grafana.monitoring.svc.cluster.local"),
    dashboard: z
        .strictObject({
            /** How the dashboard is exposed. @default "traefik" (k3s' bundled ingress controller) */
            exposure: z.enum(["none", "nginx", "traefik"]).default("traefik"),
            /** Public host name. @default "linkerd.picluster.ricsanfre.com" */
            host: dns1123Subdomain.default("linkerd.picluster.ricsanfre.com"),
            /** cert-manager ClusterIssuer for the dashboard's TLS certificate. @default "ca-issuer" */
            clusterIssuer: dns1123Subdomain.default("ca-issuer"),
            /** Secret holding the dashboard's TLS certificate. @default "linkerd-viz-tls" */
            tlsSecretName: dns1123Subdomain.default("linkerd-viz-tls"),
            /** Basic-auth user name (the password is the secret key `vizDashboardPassword`, generated if unset). @default "admin" */
            username: z.string().regex(/^[^:\s]+$/, "expected a user name without ':' or spaces").default("admin"),
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
            /** Where the dashboards are downloaded from (mirror it for air-gapped clusters). @default "https://grafana.com/api/dashboards" */
            sourceBaseUrl: httpUrl.default("https://grafana.com/api/dashboards"),
            /** Grafana folder annotation for the sidecar. @default "Linkerd" */
            folder: z.string().min(1).default("Linkerd"),
        })
        .prefault({}),
});

/** `picluster-linkerd:jaeger` — the linkerd-jaeger extension sending spans to Tempo. */
const jaegerSchema = z.strictObject({
    /** @default true on releases that still have the extension (up to edge-25.9.4), false after */
    enabled: z.boolean().optional(),
    /** Namespace of the extension. @default "linkerd-jaeger" */
    namespace: dns1123Label.default("linkerd-jaeger"),
    /** Tempo distributor's receiver, as service.namespace:port (the chart reads the namespace from it). @default "tempo-distributor.tracing:55678" */
    collectorSvcAddr: z
        .string()
        .regex(/^[a-z0-9-]+\.[a-z0-9-]+(\.[a-z0-9.-]+)?:[0-9]+$/, "expected service.namespace:port, such as \"tempo-distributor.tracing:55678\"")
        .default("tempo-distributor.tracing:55678"),
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
    /** @default "traefik" (k3s' bundled controller) */
    controller: z.enum(["none", "traefik", "nginx"]).default("traefik"),
    traefik: z
        .strictObject({
            /** Traefik CRD group: "traefik.io" (Traefik v3) or "traefik.containo.us" (v2, chart <= 27). @default "traefik.io" */
            apiGroup: z.enum(["traefik.io", "traefik.containo.us"]).default("traefik.io"),
            /** Configure k3s' bundled Traefik through a HelmChartConfig. @default true */
            manageK3sHelmChartConfig: z.boolean().default(true),
            /** Namespace of the k3s Traefik HelmChart. @default "kube-system" */
            namespace: dns1123Label.default("kube-system"),
            /**
             * More Traefik chart values for the managed HelmChartConfig. It owns the whole valuesContent
             * (k3s reads one HelmChartConfig per chart): move the values of an existing kube-system/traefik
             * HelmChartConfig here. The mesh annotations (deployment.podAnnotations) win on conflict.
             * @default {}
             */
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

/** The raw structured keys, each an object in the stack file. */
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
});

/** Keys that hold secrets: plain strings set with `pulumi config set --secret`. */
export const SECRET_KEYS = ["vizDashboardPassword"] as const;
export type SecretKey = (typeof SECRET_KEYS)[number];
export const STRUCTURED_KEYS = Object.keys(configSchema.shape) as (keyof typeof configSchema.shape)[];

export type ParsedConfig = z.infer<typeof configSchema>;

export class ConfigError extends Error {
    constructor(readonly problems: readonly { readonly key: string; readonly message: string }[]) {
        super(
            `Invalid configuration (${problems.length} problem${problems.length === 1 ? "" : "s"}); nothing was deployed:\n` +
                problems.map((p) => `  - ${p.key}: ${p.message}`).join("\n"),
        );
        this.name = "ConfigError";
    }
}

/** `["linkerd", "channel"]` -> `picluster-linkerd:linkerd.channel`; array indices as `[2]`. */
export function configKeyPath(path: readonly PropertyKey[]): string {
    let out = `${PROJECT}:`;
    path.forEach((segment, i) => {
        if (typeof segment === "number") out += `[${segment}]`;
        else out += (i === 0 ? "" : ".") + String(segment);
    });
    return out;
}

function describeIssue(issue: z.core.$ZodIssue): string {
    if (issue.code === "invalid_value" && "values" in issue) {
        return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
    }
    if (issue.code === "invalid_type") {
        return `expected ${issue.expected}`;
    }
    return issue.message;
}

/** The raw input: structured keys by name, plus the top-level key names present in the stack (to catch typos there). */
export interface RawConfig {
    readonly values: Readonly<Record<string, unknown>>;
    readonly presentKeys?: readonly string[];
}

/** Validates the structured keys and the keys present; returns defaults filled in, or throws one ConfigError. */
export function parseConfig(raw: RawConfig): ParsedConfig {
    const problems: { key: string; message: string }[] = [];
    const known = new Set<string>([...STRUCTURED_KEYS, ...SECRET_KEYS]);
    for (const key of raw.presentKeys ?? []) {
        if (!known.has(key)) {
            problems.push({ key: `${PROJECT}:${key}`, message: `unknown configuration key (expected one of ${[...known].join(", ")})` });
        }
    }
    const result = configSchema.safeParse(raw.values);
    if (!result.success) {
        for (const issue of result.error.issues) {
            if (issue.code === "unrecognized_keys") {
                // One problem per misspelt key, at its own full path.
                for (const key of issue.keys) {
                    problems.push({ key: configKeyPath([...issue.path, key]), message: "unknown key (check the spelling; README lists every key)" });
                }
            } else {
                problems.push({ key: configKeyPath(issue.path), message: describeIssue(issue) });
            }
        }
    }
    if (problems.length > 0 || !result.success) throw new ConfigError(problems);
    return result.data;
}

// ---------------------------------------------------------------------------------------------
// Resolution: the release, the chart source and every cross-key rule.
// ---------------------------------------------------------------------------------------------


/** The validated configuration passed down to the components. */
export interface PiclusterConfig extends ParsedConfig {
    readonly release: LinkerdRelease;
    /** Where charts come from: a Helm repository URL, or a local directory. */
    readonly chartSource: { readonly kind: "repository"; readonly url: string } | { readonly kind: "directory"; readonly path: string };
    /** Whether linkerd-jaeger is deployed (the key's default depends on the release). */
    readonly jaegerEnabled: boolean;
    readonly secrets: {
        /** Basic-auth password of the viz dashboard; generated when unset. */
        readonly vizDashboardPassword?: pulumi.Output<string>;
    };
}

/** Seconds in a Go duration ("48h", "1h30m"). */
export function durationSeconds(duration: string): number {
    const units: Record<string, number> = { h: 3600, m: 60, s: 1, ms: 0.001 };
    let total = 0;
    for (const [, amount, unit] of duration.matchAll(/([0-9.]+)(ms|h|m|s)/g)) total += Number(amount) * units[unit];
    return total;
}

export interface RawStackConfig extends RawConfig {
    /** Secret keys as plain strings (already decrypted by the engine); never logged. */
    readonly secrets?: Readonly<Partial<Record<SecretKey, string>>>;
}

/** Parses, resolves the release and checks every rule that spans keys. Throws one ConfigError listing all problems. */
export function loadConfig(raw: RawStackConfig): PiclusterConfig {
    const parsed = parseConfig(raw);
    const problems: { key: string; message: string }[] = [];
    const at = (path: string, message: string) => problems.push({ key: `${PROJECT}:${path}`, message });

    let release: LinkerdRelease | undefined;
    try {
        release = resolveRelease(parsed.linkerd.channel, parsed.linkerd.version);
    } catch (e) {
        if (!(e instanceof ReleaseError)) throw e;
        at(`linkerd.${e.key}`, e.message);
    }

    const kube = parsed.kubernetes.version ? Number(parsed.kubernetes.version.split(".")[1]) : undefined;
    if (release && kube !== undefined && kube < release.minKubernetesMinor) {
        at("linkerd.version", `Linkerd ${release.version} needs Kubernetes >= 1.${release.minKubernetesMinor}, but kubernetes.version is ${parsed.kubernetes.version}`);
    }
    if (release && parsed.controlPlane.nativeSidecar === true) {
        if (!release.nativeSidecar.supported) {
            at("controlPlane.nativeSidecar", `native sidecars need Linkerd 2.15 or later (edge-24.2.4+); ${release.version} does not have them`);
        } else if (kube !== undefined && kube < 29) {
            at("controlPlane.nativeSidecar", `native sidecars need Kubernetes >= 1.29, but kubernetes.version is ${parsed.kubernetes.version}`);
        }
    }
    if (release && parsed.controlPlane.enableShutdownEndpoint === false && !release.shutdownEndpoint.configurable) {
        at("controlPlane.enableShutdownEndpoint", `the proxy shutdown endpoint is always on in Linkerd ${release.version}; it can be disabled from 2.16 (edge-24.8.2) on`);
    }
    if (release && parsed.jaeger.enabled === true && !release.charts.jaeger) {
        at("jaeger.enabled", `Linkerd ${release.version} has no linkerd-jaeger extension (removed in edge-25.10.1; last in edge-25.9.4): use the control plane's proxy.tracing instead, or set jaeger.enabled to false`);
    }

    const issuer = parsed.identity.issuer;
    if (durationSeconds(issuer.renewBefore) >= durationSeconds(issuer.duration)) {
        at("identity.issuer.renewBefore", `expected less than identity.issuer.duration (${issuer.duration}), got ${issuer.renewBefore}`);
    }
    const anchor = parsed.identity.trustAnchor;
    if (anchor.mode === "pem" && anchor.source === "inline" && !anchor.pem) {
        at("identity.trustAnchor.pem", `required when identity.trustAnchor.source is "inline": expected a PEM certificate`);
    }
    if (anchor.pem && !(anchor.mode === "pem" && anchor.source === "inline")) {
        at("identity.trustAnchor.pem", `only used with mode "pem" and source "inline" (mode is "${anchor.mode}", source "${anchor.source}"): remove it or set source to "inline"`);
    }

    if (parsed.linkerd.chartRepository && parsed.linkerd.chartDirectory) {
        at("linkerd.chartDirectory", "set either linkerd.chartRepository or linkerd.chartDirectory, not both");
    }

    const password = raw.secrets?.vizDashboardPassword;
    if (password !== undefined && password.length < 12) {
        at("vizDashboardPassword", "expected at least 12 characters (the value is not shown)");
    }

    const seen = new Set<string>();
    parsed.meshing.namespaces.forEach((ns, i) => {
        if (seen.has(ns)) at(`meshing.namespaces[${i}]`, `"${ns}" is listed twice`);
        seen.add(ns);
        if (ns === "linkerd" || ns === "kube-system") at(`meshing.namespaces[${i}]`, `"${ns}" must never be meshed (the control plane and kube-system stay out of the mesh)`);
    });

    if (problems.length > 0 || !release) throw new ConfigError(problems);

    return {
        ...parsed,
        release,
        chartSource: parsed.linkerd.chartDirectory
            ? { kind: "directory", path: parsed.linkerd.chartDirectory }
            : { kind: "repository", url: parsed.linkerd.chartRepository ?? release.defaultRepository },
        jaegerEnabled: parsed.jaeger.enabled ?? release.charts.jaeger !== undefined,
        secrets: { vizDashboardPassword: password === undefined ? undefined : pulumi.secret(password) },
    };
}

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
