/**
 * Extensions: linkerd-viz and linkerd-jaeger available (or, on releases without linkerd-jaeger,
 * whether the control plane's proxy tracing is on), the guide's PodMonitors selected by the
 * Prometheus that should scrape them, and the Grafana dashboards ConfigMap where the sidecar looks.
 */
import { linkerdConfigValues } from "../lib/builders/controlPlane";
import { DASHBOARDS_CONFIGMAP, LINKERD_DASHBOARDS, linkerdPodMonitors } from "../lib/builders/monitoring";
import { LINKERD_NAMESPACE, VIZ_NAMESPACE } from "../lib/k8s";
import { LabelSelector, get, labelsOf, nameOf, namespaceOf, objAt, selectorMatches, str, stringMapAt } from "../lib/k8s";
import { checkDeployments } from "./controlPlane";
import { ClusterSnapshot, JAEGER_DEPLOYMENTS, LINKERD_CONFIG, Obj, VIZ_DEPLOYMENTS, findObject, listObjects, matchesLabels } from "./snapshot";
import { CheckContext, CheckResult, fail, ok, warn } from "./types";

/**
 * prometheus-operator's reading of a label selector: a missing one selects nothing (its rule for
 * podMonitorSelector), an empty one everything; otherwise Kubernetes' semantics (lib/k8s.ts).
 */
export function operatorSelectorMatches(selector: LabelSelector | null | undefined, labels: Readonly<Record<string, string>>): boolean {
    return selector !== null && selector !== undefined && selectorMatches(selector, labels);
}

/** Whether a Prometheus (prometheus-operator) selects a PodMonitor: its podMonitorSelector, and podMonitorNamespaceSelector (missing: its own namespace only). */
export function prometheusSelects(s: ClusterSnapshot, prometheus: Obj, podMonitor: Obj): boolean {
    if (!operatorSelectorMatches(objAt(prometheus, "spec", "podMonitorSelector"), labelsOf(podMonitor))) return false;
    const nsSelector = objAt(prometheus, "spec", "podMonitorNamespaceSelector");
    if (nsSelector === undefined) return namespaceOf(prometheus) === namespaceOf(podMonitor);
    return selectorMatches(nsSelector, labelsOf(findObject(s, "Namespace", "", namespaceOf(podMonitor))));
}

export function checkPodMonitors(s: ClusterSnapshot, ctx: CheckContext): CheckResult[] {
    const m = ctx.config.monitoring;
    const expected = linkerdPodMonitors({ namespace: m.namespace, podMonitorLabels: m.podMonitorLabels });
    const labelText = Object.entries(m.podMonitorLabels)
        .map(([k, v]) => `${k}=${v}`)
        .join(", ");
    if (s.unservedTypes.includes("podmonitors.monitoring.coreos.com")) {
        return [
            fail(
                "pl-ext-podmonitors",
                "PodMonitors",
                `the cluster does not serve podmonitors.monitoring.coreos.com: kube-prometheus-stack (prometheus-operator) is not installed`,
                `install kube-prometheus-stack (guide: "Prometheus Stack"), then run \`pulumi up -s ${ctx.stack}\``,
            ),
        ];
    }
    const prometheuses = s.unservedTypes.includes("prometheuses.monitoring.coreos.com") ? [] : listObjects(s, "Prometheus", m.namespace);
    const results: CheckResult[] = [];
    for (const want of expected) {
        const name = `podmonitor ${m.namespace}/${want.metadata.name}`;
        const pm = findObject(s, "PodMonitor", m.namespace, want.metadata.name);
        if (!pm) {
            results.push(
                fail(
                    "pl-ext-podmonitors",
                    name,
                    `PodMonitor ${m.namespace}/${want.metadata.name} is missing: Prometheus does not scrape ${want.metadata.name.replace("linkerd-", "")} metrics`,
                    `run \`pulumi up -s ${ctx.stack}\``,
                ),
            );
            continue;
        }
        if (!matchesLabels(pm, m.podMonitorLabels)) {
            results.push(
                fail(
                    "pl-ext-podmonitors",
                    name,
                    `PodMonitor ${m.namespace}/${nameOf(pm)} lacks the labels ${labelText} (monitoring.podMonitorLabels)`,
                    `run \`pulumi up -s ${ctx.stack}\``,
                ),
            );
            continue;
        }
        if (prometheuses.length === 0) {
            results.push(
                warn(
                    "pl-ext-podmonitors",
                    name,
                    `labelled ${labelText}, but there is no Prometheus object in ${m.namespace} to compare with: cannot tell whether it is scraped`,
                    `check that kube-prometheus-stack runs in ${m.namespace} (monitoring.namespace) and selects PodMonitors labelled ${labelText}`,
                ),
            );
            continue;
        }
        const selecting = prometheuses.filter((p) => prometheusSelects(s, p, pm));
        if (selecting.length === 0) {
            const selectors = prometheuses
                .map((p) => `${nameOf(p)}: podMonitorSelector ${JSON.stringify(get(p, "spec", "podMonitorSelector") ?? null)}`)
                .join("; ");
            results.push(
                fail(
                    "pl-ext-podmonitors",
                    name,
                    `no Prometheus in ${m.namespace} selects it (${selectors}): its metrics are not scraped`,
                    `set monitoring.podMonitorLabels to the labels Prometheus selects (kube-prometheus-stack: release=<its release name>) and run \`pulumi up -s ${ctx.stack}\`, or set prometheus.prometheusSpec.podMonitorSelectorNilUsesHelmValues: false in kube-prometheus-stack`,
                ),
            );
        } else {
            results.push(ok("pl-ext-podmonitors", name, `selected by Prometheus ${selecting.map(nameOf).join(", ")}`));
        }
    }
    return results;
}

export function checkDashboards(s: ClusterSnapshot, ctx: CheckContext): CheckResult[] {
    const m = ctx.config.monitoring;
    const name = `configmap ${m.namespace}/${DASHBOARDS_CONFIGMAP}`;
    const cm = findObject(s, "ConfigMap", m.namespace, DASHBOARDS_CONFIGMAP);
    if (!cm)
        return [
            fail(
                "pl-ext-dashboards",
                name,
                `the Grafana dashboards ConfigMap ${m.namespace}/${DASHBOARDS_CONFIGMAP} is missing`,
                `run \`pulumi up -s ${ctx.stack}\``,
            ),
        ];
    const labels = Object.entries(m.dashboards.labels)
        .map(([k, v]) => `${k}=${v}`)
        .join(", ");
    if (!matchesLabels(cm, m.dashboards.labels)) {
        return [
            fail(
                "pl-ext-dashboards",
                name,
                `it lacks the labels ${labels} the Grafana sidecar loads ConfigMaps by`,
                `run \`pulumi up -s ${ctx.stack}\``,
            ),
        ];
    }
    const keys = Object.keys(cm.data ?? {});
    const missing = LINKERD_DASHBOARDS.filter((d) => !keys.includes(`${d.name}.json.url`)).map((d) => d.name);
    if (missing.length > 0)
        return [fail("pl-ext-dashboards", name, `it lacks the dashboards ${missing.join(", ")}`, `run \`pulumi up -s ${ctx.stack}\``)];
    return [ok("pl-ext-dashboards", name, `${LINKERD_DASHBOARDS.length} dashboards, labelled ${labels}`)];
}

/** Releases without linkerd-jaeger (2.19+): the proxies trace only when the control plane's proxy.tracing is on. */
export function checkProxyTracing(s: ClusterSnapshot, ctx: CheckContext): CheckResult[] {
    const cm = findObject(s, "ConfigMap", LINKERD_NAMESPACE, LINKERD_CONFIG);
    const values = linkerdConfigValues(stringMapAt(cm, "data"));
    if (!values) return [];
    const tracing = get(values, "proxy", "tracing");
    if (get(tracing, "enabled") === true) {
        return [
            ok(
                "pl-ext-proxy-tracing",
                "proxy tracing",
                `the proxies send spans to ${str(get(tracing, "collector", "endpoint")) ?? "the configured collector"}`,
            ),
        ];
    }
    return [
        warn(
            "pl-ext-proxy-tracing",
            "proxy tracing",
            `Linkerd ${ctx.config.linkerd.release.version} has no linkerd-jaeger extension and proxy.tracing is not enabled in linkerd-config: the proxies send no spans`,
            `enable the control plane's proxy.tracing (collector endpoint of Tempo, OTLP 4317), or ignore this if tracing is not wanted`,
        ),
    ];
}

export function checkExtensions(s: ClusterSnapshot, ctx: CheckContext): CheckResult[] {
    const cfg = ctx.config;
    const results: CheckResult[] = [];
    if (cfg.viz.enabled) results.push(...checkDeployments(s, ctx, "pl-ext-viz", VIZ_NAMESPACE, VIZ_DEPLOYMENTS, "linkerd-viz"));
    if (cfg.jaeger.enabled) results.push(...checkDeployments(s, ctx, "pl-ext-jaeger", cfg.jaeger.namespace, JAEGER_DEPLOYMENTS, "linkerd-jaeger"));
    else if (cfg.linkerd.release.proxyTracing) results.push(...checkProxyTracing(s, ctx));
    if (cfg.monitoring.enabled) {
        if (!cfg.controlPlane.chartPodMonitors) results.push(...checkPodMonitors(s, ctx));
        if (cfg.monitoring.dashboards.enabled) results.push(...checkDashboards(s, ctx));
    }
    return results;
}
