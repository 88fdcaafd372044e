/**
 * Resolution: from the validated keys to the one configuration model the program runs on. The
 * release and the chart source are resolved, every rule that spans keys is checked, defaults that
 * depend on other keys are decided, and what is worth a warning is collected. The result has no raw
 * twins: a key whose default depends on the release holds the decided value.
 */
import { X509Certificate } from "crypto";
import * as pulumi from "@pulumi/pulumi";
import { ChartSource } from "../charts";
import { ControlPlaneSettings, ProxyTracingSettings } from "../builders/controlPlane";
import { ClusterAccess, ClusterFacts, OFFLINE } from "../cluster";
import { GatewayApiCrdsOwner, decideGatewayApiCrdsOwner, policyControllerGatewayApiNeeds } from "../gatewayApi";
import { IdentityIssuer, TrustAnchor, keyProblem } from "../builders/identity";
import { INGRESS_DEFAULTS, IngressController, TRAEFIK_RELEASE_NAME } from "../builders/ingress";
import { JAEGER_DEFAULTS, JaegerSettings, collectorNamespace, unmeshedCollectorWarning } from "../builders/jaeger";
import { LONGHORN_DEFAULTS, missingContextMessage } from "../builders/longhorn";
import { WorkloadRef, workloadKey } from "../builders/meshing";
import { GRAFANA_COM_API, GRAFANA_COM_SOURCE_PROBLEM, MonitoringSettings } from "../builders/monitoring";
import { ALLOW_ANY_HOST_WARNING, VizDashboard } from "../builders/viz";
import { KubeTarget, resolveKubeTarget } from "../kubeconfig";
import { injectorBlindSpot } from "../injector";
import { CONTROL_PLANE_RELEASE_NAME, CRDS_RELEASE_NAME, LINKERD_NAMESPACE, VIZ_NAMESPACE } from "../k8s";
import { LinkerdRelease, ReleaseError, resolveRelease } from "../release";
import { configKey } from "./keys";
import { ConfigError, ConfigProblem, RawConfig, isInvalid, parseConfig } from "./parse";
import { ParsedConfig, SecretKey } from "./schema";

/** The validated configuration the composition root maps onto the components. */
export interface PiclusterConfig {
    /** The cluster: kubeconfig path and context, pinned for the provider and every kubectl step. */
    readonly kubernetes: KubeTarget & { readonly version?: string };
    readonly linkerd: {
        readonly release: LinkerdRelease;
        readonly chartSource: ChartSource;
        readonly clusterDomain: string;
        readonly helmTimeoutSeconds: number;
        /** Decided: who provides the Gateway API CRDs (only read by releases whose linkerd-crds no longer installs them). */
        readonly gatewayApiCrds: GatewayApiCrdsOwner;
    };
    readonly identity: {
        readonly issuer: IdentityIssuer;
        readonly trustAnchor: TrustAnchor;
        readonly bundleReadyTimeoutSeconds: number;
    };
    readonly controlPlane: Pick<
        ControlPlaneSettings,
        "proxyResources" | "nativeSidecar" | "enableShutdownEndpoint" | "chartPodMonitors" | "proxyTracing"
    >;
    readonly viz: {
        readonly enabled: boolean;
        readonly prometheusUrl: string;
        readonly grafanaUrl: string;
        /** `password`: the secret key vizDashboardPassword, as a Pulumi secret; generated when unset. */
        readonly dashboard: VizDashboard & { readonly password?: pulumi.Output<string> };
    };
    readonly monitoring: MonitoringSettings & { readonly enabled: boolean };
    /**
     * The linkerd-jaeger extension; `enabled` is decided: spans go through it only on releases that still
     * ship it (up to edge-25.9.4), else through the control plane's proxy.tracing (controlPlane.proxyTracing).
     */
    readonly jaeger: JaegerSettings & { readonly enabled: boolean };
    readonly meshing: { readonly namespaces: readonly string[]; readonly workloads: readonly WorkloadRef[] };
    readonly ingress: IngressController;
    readonly longhorn: ParsedConfig["longhorn"];
    /** Adoption of a guide-made install: `helmReleases` are the `<namespace>/<release>` to import (empty when not adopting). */
    readonly adopt: { readonly enabled: boolean; readonly helmReleases: readonly string[] };
    /** Combinations that work but deserve attention, each naming its key; the program logs them. */
    readonly warnings: readonly ConfigProblem[];
}

export interface RawStackConfig extends RawConfig {
    /** Secret keys as plain strings (already decrypted by the engine); never logged. */
    readonly secrets?: Readonly<Partial<Record<SecretKey, string>>>;
    /** Secret keys whose value the stack holds in plain text (set without --secret). */
    readonly plainTextSecrets?: readonly SecretKey[];
    /** The kubernetes provider's own keys (`kubernetes:kubeconfig`, `kubernetes:context`), when set. */
    readonly provider?: { readonly kubeconfig?: string; readonly context?: string };
    /** Problems with the stack file's own shape (e.g. keys outside `config:`), each naming the file. */
    readonly fileProblems?: readonly ConfigProblem[];
}

/** Seconds in a Go duration ("48h", "1h30m"). */
export function durationSeconds(duration: string): number {
    const units: Record<string, number> = { h: 3600, m: 60, s: 1, ms: 0.001 };
    let total = 0;
    for (const [, amount, unit] of duration.matchAll(/([0-9.]+)(ms|h|m|s)/g)) total += Number(amount) * units[unit];
    return total;
}

/**
 * Charts that run Jobs (or hooks) in the namespace they are installed in: meshing that namespace
 * implicitly makes those Jobs hang (guide: "Problems with Kubernetes Jobs and implicit annotation").
 */
const NAMESPACES_WITH_JOBS: Readonly<Record<string, string>> = {
    velero: "the velero chart runs its upgrade-CRDs and cleanup Jobs there; mesh its Deployment and node agent with the `velero` values snippet instead",
    "ingress-nginx":
        "the ingress-nginx chart runs its admission-webhook Jobs there (the guide: never annotate its namespace); mesh the controller with the `ingressNginx` values snippet instead",
};

/** Namespaces that must stay out of the mesh (beyond those the proxy injector never sees, lib/injector.ts). */
const NEVER_MESHED: Readonly<Record<string, string>> = {
    [LINKERD_NAMESPACE]: "the control plane stays out of the mesh",
};

/** OTLP gRPC port of Tempo's distributor: the default receiver of the control plane's native tracing. */
const TEMPO_OTLP_COLLECTOR = "tempo-distributor.tracing:4317";

/**
 * How the program reaches the cluster the configuration targets (kubeconfig, context, kubectl), to read
 * what it must know before deciding (lib/cluster.ts); undefined when those keys are invalid (loadConfig
 * then reports them).
 */
export function clusterAccess(raw: RawStackConfig, env: NodeJS.ProcessEnv = process.env): ClusterAccess | undefined {
    const parsed = parseConfig(raw);
    if (isInvalid(parsed.invalid, "kubernetes") || isInvalid(parsed.invalid, "longhorn.kubectl")) return undefined;
    const target = resolveKubernetes(parsed.config.kubernetes, raw.provider ?? {}, env, []);
    return target && { kubeconfigPath: target.kubeconfigPath, context: target.context, kubectl: parsed.config.longhorn.kubectl };
}

/**
 * Validates, resolves and checks every rule that spans keys, against what was read from the cluster
 * (`cluster`; offline: decided from the configuration alone). Throws one ConfigError listing every problem.
 */
export function loadConfig(raw: RawStackConfig, env: NodeJS.ProcessEnv = process.env, cluster: ClusterFacts = OFFLINE): PiclusterConfig {
    const parsed = parseConfig(raw);
    const cfg = parsed.config;
    const problems: ConfigProblem[] = [...(raw.fileProblems ?? []), ...parsed.problems];
    const warnings: ConfigProblem[] = [];
    const at = (path: string, message: string) => problems.push({ key: configKey(path), message });
    const warn = (path: string, message: string) => warnings.push({ key: configKey(path), message });
    /** A rule runs only when every key it reads is valid: no rule reasons from a default that replaced a bad value. */
    const valid = (...paths: string[]) => paths.every((p) => !isInvalid(parsed.invalid, p));

    let release: LinkerdRelease | undefined;
    if (valid("linkerd.channel", "linkerd.version")) {
        try {
            release = resolveRelease(cfg.linkerd.channel, cfg.linkerd.version);
        } catch (e) {
            if (!(e instanceof ReleaseError)) throw e;
            at(`linkerd.${e.key}`, e.message);
        }
    }

    const kube = cfg.kubernetes.version ? Number(cfg.kubernetes.version.split(".")[1]) : undefined;
    if (release && kube !== undefined && kube < release.minKubernetesMinor) {
        at(
            "linkerd.version",
            `Linkerd ${release.version} needs Kubernetes >= 1.${release.minKubernetesMinor}, but kubernetes.version is ${cfg.kubernetes.version}`,
        );
    }
    if (release && cfg.controlPlane.nativeSidecar === true) {
        if (!release.nativeSidecar.supported) {
            at("controlPlane.nativeSidecar", `native sidecars need Linkerd 2.15 or later (edge-24.2.4+); ${release.version} does not have them`);
        } else if (kube !== undefined && kube < 29) {
            at("controlPlane.nativeSidecar", `native sidecars need Kubernetes >= 1.29, but kubernetes.version is ${cfg.kubernetes.version}`);
        }
    }
    if (release && cfg.controlPlane.enableShutdownEndpoint === false && !release.shutdownEndpoint.configurable) {
        at(
            "controlPlane.enableShutdownEndpoint",
            `the proxy shutdown endpoint is always on in Linkerd ${release.version}; it can be disabled from 2.16 (edge-24.8.2) on`,
        );
    }
    // Tracing: linkerd-jaeger where the release ships it (the guide), else the control plane's proxy.tracing.
    const tracingWanted = cfg.jaeger.enabled ?? true;
    let jaegerEnabled = false;
    let proxyTracing: ProxyTracingSettings | undefined;
    if (release && tracingWanted) {
        if (release.charts.jaeger) {
            jaegerEnabled = true;
        } else if (release.proxyTracing) {
            const collectorSvcAddr = cfg.jaeger.collectorSvcAddr ?? TEMPO_OTLP_COLLECTOR;
            if (valid("jaeger.collectorSvcAddr")) {
                proxyTracing = {
                    collectorEndpoint: collectorSvcAddr,
                    serviceAccountName: cfg.jaeger.collectorSvcAccount,
                    namespace: collectorNamespace(collectorSvcAddr),
                };
            }
            warn(
                "jaeger.enabled",
                `Linkerd ${release.version} has no linkerd-jaeger extension (last in edge-25.9.4): the proxies send spans to ${collectorSvcAddr} ` +
                    `through the control plane's proxy.tracing instead. A linkerd-jaeger release this stack installed before is uninstalled by the next \`pulumi up\`; ` +
                    `set jaeger.enabled to false to silence this and send no spans.`,
            );
        } else {
            // Refused whether asked for or left at its default (on): the release cannot send spans at all.
            at(
                "jaeger.enabled",
                `Linkerd ${release.version} has neither linkerd-jaeger (removed in edge-25.10.1) nor native proxy tracing (2.19, edge-25.10.7+)` +
                    `${cfg.jaeger.enabled === true ? "" : ", and jaeger.enabled is on by default"}: choose another release (up to edge-25.9.4, or edge-25.10.7 and later), ` +
                    `or set jaeger.enabled to false (no spans are sent; a linkerd-jaeger release this stack installed before is uninstalled by the next \`pulumi up\`)`,
            );
        }
    }

    // Gateway API CRDs: decided against what the cluster already has; never fight another owner, never drop ours.
    let gatewayApiCrds: GatewayApiCrdsOwner = "linkerd-crds";
    if (release && valid("linkerd.gatewayApiCrds", "kubernetes.version")) {
        const decision = decideGatewayApiCrdsOwner({
            choice: cfg.linkerd.gatewayApiCrds,
            chart: release.gatewayApi,
            needs: policyControllerGatewayApiNeeds(release.edge),
            linkerdVersion: release.version,
            release: { name: CRDS_RELEASE_NAME, namespace: LINKERD_NAMESPACE },
            kubernetesMinor: kube,
            live: cluster.status === "read" ? cluster.crds : undefined,
            unreadReason: cluster.status === "unread" ? cluster.reason : undefined,
        });
        gatewayApiCrds = decision.owner;
        decision.problems.forEach((m) => at("linkerd.gatewayApiCrds", m));
        decision.warnings.forEach((m) => warn("linkerd.gatewayApiCrds", m));
    }
    if (cfg.linkerd.chartRepository && cfg.linkerd.chartDirectory) {
        at("linkerd.chartDirectory", "set either linkerd.chartRepository or linkerd.chartDirectory, not both");
    }

    const issuer = cfg.identity.issuer;
    if (valid("identity.issuer.duration", "identity.issuer.renewBefore") && durationSeconds(issuer.renewBefore) >= durationSeconds(issuer.duration)) {
        at("identity.issuer.renewBefore", `expected less than identity.issuer.duration (${issuer.duration}), got ${issuer.renewBefore}`);
    }
    const trustAnchor = resolveTrustAnchor(cfg.identity.trustAnchor, valid("identity.trustAnchor.pem"), at);

    const password = raw.secrets?.vizDashboardPassword;
    if (password !== undefined && password.length < 12) at("vizDashboardPassword", "expected at least 12 characters (the value is not shown)");
    plainTextSecretWarnings(raw.plainTextSecrets ?? [], warn);

    const ingress = resolveIngress(cfg.ingress);
    if (ingress.controller === "traefik") {
        if (cfg.ingress.traefik.manageK3sHelmChartConfig) {
            at(
                "ingress.traefik.manageK3sHelmChartConfig",
                `k3s' bundled Traefik runs in kube-system, and ${injectorBlindSpot("kube-system")}: a HelmChartConfig annotation would be silently ignored. ` +
                    `Disable k3s' Traefik (\`disable: [traefik]\` in /etc/rancher/k3s/config.yaml) and let the program install it in its own namespace ` +
                    `(ingress.traefik.install, the default), then remove this key`,
            );
        }
        const blind = injectorBlindSpot(ingress.namespace);
        if (blind && valid("ingress.traefik.namespace"))
            at("ingress.traefik.namespace", `Traefik in "${ingress.namespace}" can never be meshed: ${blind}`);
        if (cfg.ingress.traefik.chartDirectory && cfg.ingress.traefik.chartRepository !== INGRESS_DEFAULTS.traefik.chartRepository) {
            at("ingress.traefik.chartDirectory", "set either ingress.traefik.chartRepository or ingress.traefik.chartDirectory, not both");
        }
    }
    // The dashboard is exposed through the ingress controller in use unless said otherwise.
    const dashboard: VizDashboard = { ...cfg.viz.dashboard, exposure: cfg.viz.dashboard.exposure ?? ingress.controller };
    if (
        cfg.viz.enabled &&
        valid("viz.dashboard.exposure", "ingress.controller") &&
        dashboard.exposure !== "none" &&
        dashboard.exposure !== ingress.controller
    ) {
        at(
            "viz.dashboard.exposure",
            `"${dashboard.exposure}" needs the ${dashboard.exposure === "traefik" ? "Traefik" : "NGINX"} ingress controller, but ingress.controller is "${ingress.controller}": ` +
                (ingress.controller === "none"
                    ? `set viz.dashboard.exposure to "none" (reach the dashboard with port-forward), or set ingress.controller`
                    : `set viz.dashboard.exposure to "${ingress.controller}" (or "none")`),
        );
    }
    if (cfg.viz.enabled && dashboard.allowAnyHost) warn("viz.dashboard.allowAnyHost", ALLOW_ANY_HOST_WARNING);

    if (cfg.monitoring.enabled && cfg.monitoring.dashboards.enabled && GRAFANA_COM_API.test(cfg.monitoring.dashboards.sourceBaseUrl)) {
        at("monitoring.dashboards.sourceBaseUrl", GRAFANA_COM_SOURCE_PROBLEM);
    }
    if (valid("meshing.namespaces", "longhorn.namespace")) longhornMeshingProblems(cfg.meshing.namespaces, cfg.longhorn.namespace, at);
    if (valid("meshing.namespaces")) {
        const seen = new Set<string>();
        cfg.meshing.namespaces.forEach((ns, i) => {
            if (seen.has(ns)) at(`meshing.namespaces[${i}]`, `"${ns}" is listed twice`);
            seen.add(ns);
            if (NEVER_MESHED[ns]) at(`meshing.namespaces[${i}]`, `"${ns}" must never be meshed (${NEVER_MESHED[ns]})`);
            else {
                const blind = injectorBlindSpot(ns);
                if (blind) at(`meshing.namespaces[${i}]`, `"${ns}" can never be meshed: ${blind}`);
            }
            if (NAMESPACES_WITH_JOBS[ns])
                warn(`meshing.namespaces[${i}]`, `meshing namespace "${ns}" implicitly makes its Jobs hang: ${NAMESPACES_WITH_JOBS[ns]}`);
        });
    }
    if (valid("meshing.workloads")) {
        const seen = new Set<string>();
        cfg.meshing.workloads.forEach((w, i) => {
            if (seen.has(workloadKey(w))) at(`meshing.workloads[${i}]`, `${workloadKey(w)} is listed twice`);
            seen.add(workloadKey(w));
            const blind = NEVER_MESHED[w.namespace]
                ? `"${w.namespace}" must never be meshed (${NEVER_MESHED[w.namespace]})`
                : injectorBlindSpot(w.namespace);
            if (blind) at(`meshing.workloads[${i}].namespace`, `${workloadKey(w)} can never be meshed: ${blind}`);
        });
    }

    const collectorSvcAddr = proxyTracing?.collectorEndpoint ?? cfg.jaeger.collectorSvcAddr ?? JAEGER_DEFAULTS.collectorSvcAddr;
    if ((jaegerEnabled || proxyTracing) && valid("jaeger.collectorSvcAddr", "meshing.namespaces")) {
        const warning = unmeshedCollectorWarning({ collectorSvcAddr, collectorSvcAccount: cfg.jaeger.collectorSvcAccount }, cfg.meshing.namespaces);
        if (warning) warn("jaeger.collectorSvcAddr", warning);
    }

    const kubernetes = resolveKubernetes(cfg.kubernetes, raw.provider ?? {}, env, problems);
    if (cfg.longhorn.enabled && kubernetes && !kubernetes.context) warn("kubernetes.context", missingContextMessage(kubernetes));

    // Adoption: the Helm releases this configuration installs, by name, with their namespaces.
    const installed: Record<string, string> = { [CRDS_RELEASE_NAME]: LINKERD_NAMESPACE, [CONTROL_PLANE_RELEASE_NAME]: LINKERD_NAMESPACE };
    if (cfg.viz.enabled) installed["linkerd-viz"] = VIZ_NAMESPACE;
    if (jaegerEnabled) installed["linkerd-jaeger"] = cfg.jaeger.namespace;
    if (ingress.controller === "traefik" && ingress.install) installed[TRAEFIK_RELEASE_NAME] = ingress.namespace;
    const adoptNames = cfg.adopt.helmReleases ?? Object.keys(installed);
    if (valid("adopt.helmReleases")) {
        adoptNames.forEach((n, i) => {
            if (!installed[n]) {
                at(`adopt.helmReleases[${i}]`, `"${n}" is not a Helm release this configuration installs (${Object.keys(installed).join(", ")})`);
            }
        });
    }
    if (cfg.adopt.helmReleases && !cfg.adopt.enabled) warn("adopt.helmReleases", "ignored: adopt.enabled is false");

    if (problems.length > 0 || !release || !trustAnchor || !kubernetes) throw new ConfigError(problems);

    return {
        kubernetes,
        linkerd: {
            release,
            chartSource: cfg.linkerd.chartDirectory
                ? { kind: "directory", path: cfg.linkerd.chartDirectory }
                : { kind: "repository", url: cfg.linkerd.chartRepository ?? release.defaultRepository },
            clusterDomain: cfg.linkerd.clusterDomain,
            helmTimeoutSeconds: cfg.linkerd.helmTimeoutSeconds,
            gatewayApiCrds,
        },
        identity: { issuer: cfg.identity.issuer, trustAnchor, bundleReadyTimeoutSeconds: cfg.identity.trustAnchor.bundleReadyTimeoutSeconds },
        controlPlane: { ...cfg.controlPlane, proxyTracing },
        viz: {
            enabled: cfg.viz.enabled,
            prometheusUrl: cfg.viz.prometheusUrl,
            grafanaUrl: cfg.viz.grafanaUrl,
            dashboard: { ...dashboard, password: password === undefined ? undefined : pulumi.secret(password) },
        },
        monitoring: { ...cfg.monitoring, dashboards: { ...cfg.monitoring.dashboards, linkerdTag: release.tag } },
        jaeger: {
            enabled: jaegerEnabled,
            namespace: cfg.jaeger.namespace,
            collectorSvcAddr,
            collectorSvcAccount: cfg.jaeger.collectorSvcAccount,
        },
        meshing: cfg.meshing,
        ingress,
        longhorn: cfg.longhorn,
        adopt: {
            enabled: cfg.adopt.enabled,
            helmReleases: cfg.adopt.enabled ? adoptNames.filter((n) => installed[n]).map((n) => `${installed[n]}/${n}`) : [],
        },
        warnings,
    };
}

type At = (path: string, message: string) => void;

/** Secret keys the stack holds in plain text: readable by anyone who reads the stack file or the repository. */
function plainTextSecretWarnings(keys: readonly SecretKey[], warn: At): void {
    for (const key of keys) {
        warn(
            key,
            `stored in plain text in the stack file (set without --secret): anyone who can read the file or the repository can read it. ` +
                `Encrypt it: \`pulumi config set --secret ${key} <value>\``,
        );
    }
}

/**
 * Longhorn is never meshed by namespace (guide, "Meshing cluster services / Longhorn"): only longhorn-manager
 * (after POD_IP=0.0.0.0) and longhorn-ui get the proxy; its instance-manager, engine and CSI pods must not.
 */
function longhornMeshingProblems(namespaces: readonly string[], longhornNamespace: string, at: At): void {
    namespaces.forEach((ns, i) => {
        if (ns !== longhornNamespace && ns !== LONGHORN_DEFAULTS.namespace) return;
        at(
            `meshing.namespaces[${i}]`,
            `"${ns}" is Longhorn's namespace, which must never be meshed implicitly (guide: Longhorn): its instance-manager, engine and CSI pods ` +
                `must stay without the proxy. Remove it: longhorn.enabled (the default) meshes only longhorn-manager and longhorn-ui, with the guide's POD_IP step`,
        );
    });
}

/** The trust anchor as one of its valid shapes, or undefined after reporting why not. */
function resolveTrustAnchor(anchor: ParsedConfig["identity"]["trustAnchor"], pemValid: boolean, at: At): TrustAnchor | undefined {
    if (anchor.mode === "bundle" || anchor.source !== "inline") {
        if (anchor.pem !== undefined) {
            at(
                "identity.trustAnchor.pem",
                `only used with mode "pem" and source "inline" (mode is "${anchor.mode}", source "${anchor.source}"): remove it or set source to "inline"`,
            );
            return undefined;
        }
        if (anchor.mode === "bundle") return { mode: "bundle", secret: anchor.secret };
        return anchor.source === "secret" ? { mode: "pem", source: "secret", secret: anchor.secret } : { mode: "pem", source: "issuerSecret" };
    }
    if (!pemValid) return undefined;
    if (anchor.pem === undefined) {
        at("identity.trustAnchor.pem", `required when identity.trustAnchor.source is "inline": expected a PEM certificate`);
        return undefined;
    }
    const problem = caCertificateProblem(anchor.pem);
    if (problem) {
        at("identity.trustAnchor.pem", problem);
        return undefined;
    }
    return { mode: "pem", source: "inline", pem: anchor.pem };
}

/** Why a PEM cannot be Linkerd's trust anchor, or undefined when it can. */
export function caCertificateProblem(pem: string): string | undefined {
    let cert: X509Certificate;
    try {
        cert = new X509Certificate(pem);
    } catch (e) {
        return `not a readable X.509 certificate (${(e as Error).message}): expected the root CA's PEM, as in ca.crt of cert-manager/root-secret`;
    }
    if (!cert.ca)
        return `the certificate "${cert.subject.replace(/\n/g, ", ")}" is not a CA (basicConstraints CA:TRUE): Linkerd's trust anchor must be the root CA`;
    if (Date.parse(cert.validTo) < Date.now()) return `the certificate "${cert.subject.replace(/\n/g, ", ")}" expired on ${cert.validTo}`;
    const key = keyProblem(cert);
    if (key) {
        return (
            `the certificate "${cert.subject.replace(/\n/g, ", ")}": ${key} for its trust anchor (\`linkerd check\` fails it after the install): ` +
            `use an ECDSA P-256 root CA (cert-manager: privateKey.algorithm ECDSA, size 256)`
        );
    }
    return undefined;
}

function resolveIngress(ingress: ParsedConfig["ingress"]): IngressController {
    if (ingress.controller === "traefik") {
        const t = ingress.traefik;
        return {
            controller: "traefik",
            apiGroup: t.apiGroup,
            install: t.install,
            namespace: t.namespace,
            chartSource: t.chartDirectory ? { kind: "directory", path: t.chartDirectory } : { kind: "repository", url: t.chartRepository },
            chart: { name: TRAEFIK_RELEASE_NAME, version: t.chartVersion },
            extraValues: t.extraValues,
        };
    }
    if (ingress.controller === "nginx") return { controller: "nginx", ...ingress.nginx };
    return { controller: "none" };
}

/**
 * The kubeconfig path and context, from our keys or the kubernetes provider's own
 * (`kubernetes:kubeconfig`, `kubernetes:context`); both set to different values is an error.
 */
function resolveKubernetes(
    ours: ParsedConfig["kubernetes"],
    provider: { readonly kubeconfig?: string; readonly context?: string },
    env: NodeJS.ProcessEnv,
    problems: ConfigProblem[],
): (KubeTarget & { version?: string }) | undefined {
    let ok = true;
    for (const key of ["kubeconfig", "context"] as const) {
        if (ours[key] !== undefined && provider[key] !== undefined && ours[key] !== provider[key]) {
            problems.push({
                key: configKey(`kubernetes.${key}`),
                message: `"${ours[key]}" differs from kubernetes:${key} "${provider[key]}" (the provider's own key): set one of them`,
            });
            ok = false;
        }
    }
    const kubeconfig = ours.kubeconfig ?? provider.kubeconfig;
    if (kubeconfig !== undefined && /\n/.test(kubeconfig)) {
        problems.push({
            key: ours.kubeconfig !== undefined ? configKey("kubernetes.kubeconfig") : "kubernetes:kubeconfig",
            message: "expected the path of a kubeconfig file, not its content (the Longhorn kubectl steps need a file)",
        });
        ok = false;
    }
    if (!ok) return undefined;
    const target = resolveKubeTarget({ kubeconfig, context: ours.context ?? provider.context }, env);
    return { ...target, version: ours.version };
}
