/**
 * Checks on Helm releases deployed as one Pulumi resource (kubernetes:helm.sh/v3:Release). CrossGuard cannot
 * see the objects Helm applies, so these look at the chart name and values for the known traps; for everything
 * else, render the chart (`helm template`) and run `npm run policy:check` on the output.
 */
import { RuleContext, meshedNamespace } from "./context";
import { INJECT_ANNOTATION, get, isObj, str } from "../../lib/k8s";
import { JOB_RULE } from "./jobs";
import { ReleaseOverrides } from "./release";
import { VIZ_RULE, checkVizValues, isVizChart } from "./viz";

export interface HelmReleaseProps {
    chart?: unknown;
    namespace?: unknown;
    values?: unknown;
    name?: unknown;
    version?: unknown;
}

export interface ReleaseFinding {
    rule: string;
    namespace: string;
    message: string;
}

function chartIs(chart: unknown, name: string): boolean {
    const c = str(chart);
    return c !== undefined && new RegExp(`(^|/)${name}(-[\\d.]+\\.tgz)?/?$`).test(c.trim());
}

/** kube-prometheus-stack deploys admission-create/-patch Jobs unless told otherwise (guide: "Prometheus Stack"). */
function kubePrometheusStackJobs(values: unknown): boolean {
    const op = get(values, "prometheusOperator");
    if (get(op, "enabled") === false) return false;
    const aw = get(op, "admissionWebhooks");
    if (get(aw, "enabled") === false || get(aw, "patch", "enabled") === false || get(aw, "certManager", "enabled") === true) return false;
    return get(aw, "patch", "podAnnotations", INJECT_ANNOTATION) !== "disabled";
}

/**
 * kube-prometheus-stack's CRD upgrade Job (values crds.upgradeJob.enabled, off by default) is a pre-install/pre-upgrade
 * hook Job in the release's namespace: Helm waits for it to complete before it installs anything else.
 */
function kubePrometheusStackCrdUpgradeJob(values: unknown): boolean {
    const crds = get(values, "crds");
    if (get(crds, "enabled") === false || get(crds, "upgradeJob", "enabled") !== true) return false;
    return get(crds, "upgradeJob", "podAnnotations", INJECT_ANNOTATION) !== "disabled";
}

export function checkHelmRelease(p: HelmReleaseProps, ctx: RuleContext, label: string): ReleaseFinding[] {
    const ns = str(p.namespace) ?? ctx.defaultNamespace;
    const out: ReleaseFinding[] = [];
    if (chartIs(p.chart, "kube-prometheus-stack")) {
        const nsInfo = meshedNamespace(ctx, ns);
        if (nsInfo && kubePrometheusStackJobs(p.values)) {
            out.push({
                rule: JOB_RULE,
                namespace: ns,
                message:
                    `Helm release ${label} (kube-prometheus-stack) deploys the admission-create/-patch Jobs into namespace "${ns}", which is ` +
                    `meshed (${nsInfo.source}); their pods get the Linkerd proxy and never complete, which hangs the install ` +
                    `(guide: "Prometheus Stack"). Fix: add the values prometheusOperator.admissionWebhooks.patch.podAnnotations: ` +
                    `{"${INJECT_ANNOTATION}": "disabled"}.`,
            });
        }
        if (nsInfo && kubePrometheusStackCrdUpgradeJob(p.values)) {
            out.push({
                rule: JOB_RULE,
                namespace: ns,
                message:
                    `Helm release ${label} (kube-prometheus-stack) runs its CRD upgrade Job (crds.upgradeJob.enabled: true), a ` +
                    `pre-install/pre-upgrade hook, in namespace "${ns}", which is meshed (${nsInfo.source}); its pod gets the Linkerd ` +
                    `proxy and never completes, and Helm waits for it, so every install and upgrade hangs. Fix: add the values ` +
                    `crds.upgradeJob.podAnnotations: {"${INJECT_ANNOTATION}": "disabled"}.`,
            });
        }
    }
    if (isVizChart(p.chart)) {
        for (const m of checkVizValues(p.values, `Helm release ${label} (linkerd-viz)`)) out.push({ rule: VIZ_RULE, namespace: ns, message: m });
    }
    return out;
}

/** Release facts from a linkerd-control-plane release in the same stack (chart version and proxy values). */
export function releaseOverridesFromControlPlane(p: HelmReleaseProps): ReleaseOverrides | undefined {
    if (!chartIs(p.chart, "linkerd-control-plane")) return undefined;
    const o: ReleaseOverrides = {};
    const v = str(p.version);
    if (v) o.linkerdVersion = v;
    const proxy = get(p.values, "proxy");
    if (isObj(proxy)) {
        if (typeof proxy.enableShutdownEndpoint === "boolean") o.shutdownEndpointEnabled = proxy.enableShutdownEndpoint;
        if (typeof proxy.nativeSidecar === "boolean") o.nativeSidecar = proxy.nativeSidecar;
    }
    const projection = get(p.values, "identity", "serviceAccountTokenProjection");
    if (typeof projection === "boolean") o.serviceAccountTokenProjection = projection;
    return o;
}
