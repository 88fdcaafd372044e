/**
 * The configuration resolver, one section at a time: each function reads its keys of the validated
 * configuration, reports what spans keys (naming the key), and returns the values it decides. loadConfig
 * (lib/config/resolve.ts) runs them in order. Defaults live in the schema; what is decided here depends on
 * other keys or on the release (tracing's collector port, the dashboard's exposure, ...).
 */
import { X509Certificate } from "crypto";
import { ClusterFacts } from "../cluster";
import { ProxyTracingSettings } from "../builders/controlPlane";
import { TrustAnchor, keyProblem } from "../builders/identity";
import { IngressController, TRAEFIK_RELEASE_NAME } from "../builders/ingress";
import { collectorNamespace, unmeshedCollectorWarning } from "../builders/jaeger";
import { workloadKey } from "../builders/meshing";
import { GRAFANA_COM_API, GRAFANA_COM_SOURCE_PROBLEM } from "../builders/monitoring";
import { ALLOW_ANY_HOST_WARNING, VizDashboard } from "../builders/viz";
import { GatewayApiCrdsOwner, decideGatewayApiCrdsOwner, policyControllerGatewayApiNeeds } from "../gatewayApi";
import { injectorBlindSpot } from "../injector";
import { CONTROL_PLANE_RELEASE_NAME, CRDS_RELEASE_NAME, LINKERD_NAMESPACE, VIZ_NAMESPACE } from "../k8s";
import { LinkerdRelease, ReleaseError, resolveRelease } from "../release";
import { CONFIG_DEFAULTS, ParsedConfig } from "./schema";

/** What every section works with: the validated keys, and where its problems and warnings go. */
export interface Resolution {
    readonly cfg: ParsedConfig;
    /** A problem with the key at `path` (dotted, e.g. `meshing.namespaces[0]`): the configuration is refused. */
    readonly at: (path: string, message: string) => void;
    /** A warning about the key at `path`: logged, not refused. */
    readonly warn: (path: string, message: string) => void;
    /** A rule runs only when every key it reads is valid: no rule reasons from a default that replaced a bad value. */
    readonly valid: (...paths: string[]) => boolean;
}

/** Seconds in a Go duration ("48h", "1h30m"). */
export function durationSeconds(duration: string): number {
    const units: Record<string, number> = { h: 3600, m: 60, s: 1, ms: 0.001 };
    let total = 0;
    for (const [, amount, unit] of duration.matchAll(/([0-9.]+)(ms|h|m|s)/g)) total += Number(amount) * units[unit];
    return total;
}

/** The Kubernetes minor of `kubernetes.version`, when set. */
function kubernetesMinor(cfg: ParsedConfig): number | undefined {
    return cfg.kubernetes.version ? Number(cfg.kubernetes.version.split(".")[1]) : undefined;
}

/** `linkerd.channel` and `linkerd.version`, and what the release cannot do with the cluster and the control plane's keys. */
export function resolveReleaseSection({ cfg, at, valid }: Resolution): LinkerdRelease | undefined {
    if (!valid("linkerd.channel", "linkerd.version")) return undefined;
    let release: LinkerdRelease;
    try {
        release = resolveRelease(cfg.linkerd.channel, cfg.linkerd.version);
    } catch (e) {
        if (!(e instanceof ReleaseError)) throw e;
        at(`linkerd.${e.key}`, e.message);
        return undefined;
    }
    const kube = kubernetesMinor(cfg);
    if (kube !== undefined && kube < release.minKubernetesMinor) {
        at(
            "linkerd.version",
            `Linkerd ${release.version} needs Kubernetes >= 1.${release.minKubernetesMinor}, but kubernetes.version is ${cfg.kubernetes.version}`,
        );
    }
    if (cfg.controlPlane.nativeSidecar === true) {
        if (!release.nativeSidecar.supported) {
            at("controlPlane.nativeSidecar", `native sidecars need Linkerd 2.15 or later (edge-24.2.4+); ${release.version} does not have them`);
        } else if (kube !== undefined && kube < 29) {
            at("controlPlane.nativeSidecar", `native sidecars need Kubernetes >= 1.29, but kubernetes.version is ${cfg.kubernetes.version}`);
        }
    }
    if (cfg.controlPlane.enableShutdownEndpoint === false && !release.shutdownEndpoint.configurable) {
        at(
            "controlPlane.enableShutdownEndpoint",
            `the proxy shutdown endpoint is always on in Linkerd ${release.version}; it can be disabled from 2.16 (edge-24.8.2) on`,
        );
    }
    return release;
}

/** OTLP gRPC port of Tempo's distributor: the default receiver of the control plane's native tracing. */
const TEMPO_OTLP_COLLECTOR = "tempo-distributor.tracing:4317";
/** Tempo's OpenCensus receiver: the default of linkerd-jaeger (guide, jaeger step 1). */
const TEMPO_OPENCENSUS_COLLECTOR = "tempo-distributor.tracing:55678";

/** How spans reach Tempo: linkerd-jaeger where the release ships it (the guide), else the control plane's proxy.tracing. */
export interface Tracing {
    readonly jaegerEnabled: boolean;
    readonly proxyTracing?: ProxyTracingSettings;
}

/** `jaeger.*` against the release: linkerd-jaeger, the control plane's proxy.tracing, or refused. */
export function resolveTracing({ cfg, at, warn, valid }: Resolution, release: LinkerdRelease): Tracing {
    if (!(cfg.jaeger.enabled ?? true)) return { jaegerEnabled: false };
    if (release.charts.jaeger) return { jaegerEnabled: true };
    if (release.proxyTracing) {
        const collectorSvcAddr = cfg.jaeger.collectorSvcAddr ?? TEMPO_OTLP_COLLECTOR;
        warn(
            "jaeger.enabled",
            `Linkerd ${release.version} has no linkerd-jaeger extension (last in edge-25.9.4): the proxies send spans to ${collectorSvcAddr} ` +
                `through the control plane's proxy.tracing instead. A linkerd-jaeger release this stack installed before is uninstalled by the next \`pulumi up\`; ` +
                `set jaeger.enabled to false to silence this and send no spans.`,
        );
        if (!valid("jaeger.collectorSvcAddr")) return { jaegerEnabled: false };
        const proxyTracing = {
            collectorEndpoint: collectorSvcAddr,
            serviceAccountName: cfg.jaeger.collectorSvcAccount,
            namespace: collectorNamespace(collectorSvcAddr),
        };
        return { jaegerEnabled: false, proxyTracing };
    }
    // Refused whether asked for or left at its default (on): the release cannot send spans at all.
    at(
        "jaeger.enabled",
        `Linkerd ${release.version} has neither linkerd-jaeger (removed in edge-25.10.1) nor native proxy tracing (2.19, edge-25.10.7+)` +
            `${cfg.jaeger.enabled === true ? "" : ", and jaeger.enabled is on by default"}: choose another release (up to edge-25.9.4, or edge-25.10.7 and later), ` +
            `or set jaeger.enabled to false (no spans are sent; a linkerd-jaeger release this stack installed before is uninstalled by the next \`pulumi up\`)`,
    );
    return { jaegerEnabled: false };
}

/** Tempo's receiver: the proxy.tracing endpoint, else the configured one, else linkerd-jaeger's default; warns when its namespace is not meshed. */
export function resolveCollector({ cfg, warn, valid }: Resolution, tracing: Tracing): string {
    const collectorSvcAddr = tracing.proxyTracing?.collectorEndpoint ?? cfg.jaeger.collectorSvcAddr ?? TEMPO_OPENCENSUS_COLLECTOR;
    if ((tracing.jaegerEnabled || tracing.proxyTracing) && valid("jaeger.collectorSvcAddr", "meshing.namespaces")) {
        const warning = unmeshedCollectorWarning({ collectorSvcAddr, collectorSvcAccount: cfg.jaeger.collectorSvcAccount }, cfg.meshing.namespaces);
        if (warning) warn("jaeger.collectorSvcAddr", warning);
    }
    return collectorSvcAddr;
}

/** `linkerd.gatewayApiCrds`, decided against what the cluster already has: never fight another owner, never drop ours. */
export function resolveGatewayApiCrds({ cfg, at, warn, valid }: Resolution, release: LinkerdRelease, cluster: ClusterFacts): GatewayApiCrdsOwner {
    if (!valid("linkerd.gatewayApiCrds", "kubernetes.version")) return "linkerd-crds";
    const decision = decideGatewayApiCrdsOwner({
        choice: cfg.linkerd.gatewayApiCrds,
        chart: release.gatewayApi,
        needs: policyControllerGatewayApiNeeds(release.edge, release.minor),
        linkerdVersion: release.version,
        release: { name: CRDS_RELEASE_NAME, namespace: LINKERD_NAMESPACE },
        kubernetesMinor: kubernetesMinor(cfg),
        live: cluster.status === "read" ? cluster.crds : undefined,
        unreadReason: cluster.status === "unread" ? cluster.reason : undefined,
    });
    decision.problems.forEach((m) => at("linkerd.gatewayApiCrds", m));
    decision.warnings.forEach((m) => warn("linkerd.gatewayApiCrds", m));
    return decision.owner;
}

/** `identity.*`: the issuer's lifetime, and the trust anchor as one of its valid shapes (undefined after reporting why not). */
export function resolveIdentitySection({ cfg, at, valid }: Resolution): TrustAnchor | undefined {
    const issuer = cfg.identity.issuer;
    if (valid("identity.issuer.duration", "identity.issuer.renewBefore") && durationSeconds(issuer.renewBefore) >= durationSeconds(issuer.duration)) {
        at("identity.issuer.renewBefore", `expected less than identity.issuer.duration (${issuer.duration}), got ${issuer.renewBefore}`);
    }
    const anchor = cfg.identity.trustAnchor;
    const previous = anchor.previousSecret;
    if (previous && anchor.mode !== "bundle") {
        at(
            "identity.trustAnchor.previousSecret",
            `only used with mode "bundle" (a second source of trust-manager's Bundle while \`npm run rotate-anchor\` rotates the anchor): remove it`,
        );
        return undefined;
    }
    if (previous && previous.name === anchor.secret.name && valid("identity.trustAnchor.secret.name")) {
        at(
            "identity.trustAnchor.previousSecret.name",
            `"${previous.name}" is the anchor's own Secret (identity.trustAnchor.secret.name): the previous anchor needs a Secret of its own`,
        );
        return undefined;
    }
    if (anchor.mode === "bundle" || anchor.source !== "inline") {
        if (anchor.pem !== undefined) {
            at(
                "identity.trustAnchor.pem",
                `only used with mode "pem" and source "inline" (mode is "${anchor.mode}", source "${anchor.source}"): remove it or set source to "inline"`,
            );
            return undefined;
        }
        if (anchor.mode === "bundle") return { mode: "bundle", secret: anchor.secret, ...(previous ? { previous } : {}) };
        return anchor.source === "secret" ? { mode: "pem", source: "secret", secret: anchor.secret } : { mode: "pem", source: "issuerSecret" };
    }
    if (!valid("identity.trustAnchor.pem")) return undefined;
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

/** `ingress.*`: the controller to mesh; Traefik only where the proxy injector sees it. */
export function resolveIngressSection({ cfg, at, valid }: Resolution): IngressController {
    const ingress = cfg.ingress;
    if (ingress.controller === "nginx") return { controller: "nginx", ...ingress.nginx };
    if (ingress.controller !== "traefik") return { controller: "none" };
    const t = ingress.traefik;
    if (t.manageK3sHelmChartConfig) {
        at(
            "ingress.traefik.manageK3sHelmChartConfig",
            `k3s' bundled Traefik runs in kube-system, and ${injectorBlindSpot("kube-system")}: a HelmChartConfig annotation would be silently ignored. ` +
                `Disable k3s' Traefik (\`disable: [traefik]\` in /etc/rancher/k3s/config.yaml) and let the program install it in its own namespace ` +
                `(ingress.traefik.install, the default), then remove this key`,
        );
    }
    const blind = injectorBlindSpot(t.namespace);
    if (blind && valid("ingress.traefik.namespace")) at("ingress.traefik.namespace", `Traefik in "${t.namespace}" can never be meshed: ${blind}`);
    if (t.chartDirectory && t.chartRepository !== CONFIG_DEFAULTS.ingress.traefik.chartRepository) {
        at("ingress.traefik.chartDirectory", "set either ingress.traefik.chartRepository or ingress.traefik.chartDirectory, not both");
    }
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

/** `viz.dashboard.*`: exposed through the ingress controller in use unless said otherwise. */
export function resolveVizDashboard({ cfg, at, warn, valid }: Resolution, ingress: IngressController): VizDashboard {
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
    return dashboard;
}

/** `monitoring.dashboards.sourceBaseUrl`: not grafana.com's API (its revisions show empty panels when provisioned). */
export function resolveMonitoringSection({ cfg, at }: Resolution): void {
    if (cfg.monitoring.enabled && cfg.monitoring.dashboards.enabled && GRAFANA_COM_API.test(cfg.monitoring.dashboards.sourceBaseUrl)) {
        at("monitoring.dashboards.sourceBaseUrl", GRAFANA_COM_SOURCE_PROBLEM);
    }
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

/** `meshing.*`: each target once, each one the proxy injector sees, never Longhorn's namespace. */
export function resolveMeshingSection(r: Resolution): void {
    const { cfg, at, warn, valid } = r;
    if (valid("meshing.namespaces", "longhorn.namespace")) longhornMeshingProblems(r);
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
}

/**
 * Longhorn is never meshed by namespace (guide, "Meshing cluster services / Longhorn"): only longhorn-manager
 * (after POD_IP=0.0.0.0) and longhorn-ui get the proxy; its instance-manager, engine and CSI pods must not.
 */
function longhornMeshingProblems({ cfg, at }: Resolution): void {
    cfg.meshing.namespaces.forEach((ns, i) => {
        if (ns !== cfg.longhorn.namespace && ns !== CONFIG_DEFAULTS.longhorn.namespace) return;
        at(
            `meshing.namespaces[${i}]`,
            `"${ns}" is Longhorn's namespace, which must never be meshed implicitly (guide: Longhorn): its instance-manager, engine and CSI pods ` +
                `must stay without the proxy. Remove it: longhorn.enabled (the default) meshes only longhorn-manager and longhorn-ui, with the guide's POD_IP step`,
        );
    });
}

/** `adopt.*`: the Helm releases this configuration installs, as `<namespace>/<release>` to import (empty when not adopting). */
export function resolveAdoption(
    { cfg, at, warn, valid }: Resolution,
    jaegerEnabled: boolean,
    ingress: IngressController,
): { readonly enabled: boolean; readonly helmReleases: readonly string[] } {
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
    return {
        enabled: cfg.adopt.enabled,
        helmReleases: cfg.adopt.enabled ? adoptNames.filter((n) => installed[n]).map((n) => `${installed[n]}/${n}`) : [],
    };
}
