/**
 * Resolution: from the validated keys to the one configuration model the program runs on. The
 * release and the chart source are resolved, every rule that spans keys is checked, defaults that
 * depend on other keys are decided, and what is worth a warning is collected. The result has no raw
 * twins: a key whose default depends on the release holds the decided value.
 */
import type * as pulumi from "@pulumi/pulumi";
import { ChartSource } from "../charts";
import { ControlPlaneSettings } from "../builders/controlPlane";
import { ClusterAccess, ClusterFacts, OFFLINE } from "../cluster";
import { GatewayApiCrdsOwner } from "../gatewayApi";
import { IdentityIssuer, TrustAnchor } from "../builders/identity";
import { IngressController } from "../builders/ingress";
import { JaegerSettings } from "../builders/jaeger";
import { missingContextMessage } from "../builders/longhorn";
import { WorkloadRef } from "../builders/meshing";
import { MonitoringSettings } from "../builders/monitoring";
import { VizDashboard } from "../builders/viz";
import { KubeTarget, resolveKubeTarget } from "../kubeconfig";
import { LinkerdRelease } from "../release";
import { configKey } from "./keys";
import { ConfigError, ConfigProblem, RawConfig, isInvalid, parseConfig } from "./parse";
import { ParsedConfig, SecretKey } from "./schema";
import {
    Resolution,
    resolveAdoption,
    resolveCollector,
    resolveGatewayApiCrds,
    resolveIdentitySection,
    resolveIngressSection,
    resolveMeshingSection,
    resolveMonitoringSection,
    resolveReleaseSection,
    resolveTracing,
    resolveVizDashboard,
} from "./sections";

/**
 * A secret Output. @pulumi/pulumi is loaded only here, when a password is set: `npm run check` and
 * `npm run upgrade` resolve the configuration without the engine, and loading it costs ~0.3 s.
 */
function secret(value: string): pulumi.Output<string> {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on first use only (see above)
    return (require("@pulumi/pulumi") as typeof pulumi).secret(value);
}

export { caCertificateProblem, durationSeconds } from "./sections";

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

/**
 * How the program reaches the cluster the configuration targets (kubeconfig, context, kubectl), to read
 * what it must know before deciding (lib/cluster.ts); undefined when those keys are invalid (loadConfig
 * then reports them). `parsed`: parseConfig(raw), when the caller has it already.
 */
export function clusterAccess(raw: RawStackConfig, env: NodeJS.ProcessEnv = process.env, parsed = parseConfig(raw)): ClusterAccess | undefined {
    if (isInvalid(parsed.invalid, "kubernetes") || isInvalid(parsed.invalid, "longhorn.kubectl")) return undefined;
    const target = resolveKubernetes(parsed.config.kubernetes, raw.provider ?? {}, env, []);
    return target && { kubeconfigPath: target.kubeconfigPath, context: target.context, kubectl: parsed.config.longhorn.kubectl };
}

/**
 * Validates, resolves and checks every rule that spans keys, against what was read from the cluster
 * (`cluster`; offline: decided from the configuration alone), one section at a time (lib/config/sections.ts).
 * Throws one ConfigError listing every problem.
 */
export function loadConfig(raw: RawStackConfig, env: NodeJS.ProcessEnv = process.env, cluster: ClusterFacts = OFFLINE): PiclusterConfig {
    const parsed = parseConfig(raw);
    const cfg = parsed.config;
    const problems: ConfigProblem[] = [...(raw.fileProblems ?? []), ...parsed.problems];
    const warnings: ConfigProblem[] = [];
    const r: Resolution = {
        cfg,
        at: (path, message) => problems.push({ key: configKey(path), message }),
        warn: (path, message) => warnings.push({ key: configKey(path), message }),
        valid: (...paths) => paths.every((p) => !isInvalid(parsed.invalid, p)),
    };

    const release = resolveReleaseSection(r);
    const tracing = release ? resolveTracing(r, release) : { jaegerEnabled: false };
    const gatewayApiCrds = release ? resolveGatewayApiCrds(r, release, cluster) : "linkerd-crds";
    if (cfg.linkerd.chartRepository && cfg.linkerd.chartDirectory) {
        r.at("linkerd.chartDirectory", "set either linkerd.chartRepository or linkerd.chartDirectory, not both");
    }
    const trustAnchor = resolveIdentitySection(r);
    const password = raw.secrets?.vizDashboardPassword;
    if (password !== undefined && password.length < 12) r.at("vizDashboardPassword", "expected at least 12 characters (the value is not shown)");
    plainTextSecretWarnings(raw.plainTextSecrets ?? [], r.warn);
    const ingress = resolveIngressSection(r);
    const dashboard = resolveVizDashboard(r, ingress);
    resolveMonitoringSection(r);
    resolveMeshingSection(r);
    const collectorSvcAddr = resolveCollector(r, tracing);
    const kubernetes = resolveKubernetes(cfg.kubernetes, raw.provider ?? {}, env, problems);
    if (cfg.longhorn.enabled && kubernetes && !kubernetes.context) r.warn("kubernetes.context", missingContextMessage(kubernetes));
    const adopt = resolveAdoption(r, tracing.jaegerEnabled, ingress);

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
        controlPlane: { ...cfg.controlPlane, proxyTracing: tracing.proxyTracing },
        viz: {
            enabled: cfg.viz.enabled,
            prometheusUrl: cfg.viz.prometheusUrl,
            grafanaUrl: cfg.viz.grafanaUrl,
            dashboard: { ...dashboard, password: password === undefined ? undefined : secret(password) },
        },
        monitoring: { ...cfg.monitoring, dashboards: { ...cfg.monitoring.dashboards, linkerdTag: release.dashboardsTag } },
        jaeger: {
            enabled: tracing.jaegerEnabled,
            namespace: cfg.jaeger.namespace,
            collectorSvcAddr,
            collectorSvcAccount: cfg.jaeger.collectorSvcAccount,
        },
        meshing: cfg.meshing,
        ingress,
        longhorn: cfg.longhorn,
        adopt,
        warnings,
    };
}

/** Secret keys the stack holds in plain text: readable by anyone who reads the stack file or the repository. */
function plainTextSecretWarnings(keys: readonly SecretKey[], warn: (path: string, message: string) => void): void {
    for (const key of keys) {
        warn(
            key,
            `stored in plain text in the stack file (set without --secret): anyone who can read the file or the repository can read it. ` +
                `Encrypt it: \`pulumi config set --secret ${key} <value>\``,
        );
    }
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
