/**
 * Linkerd metrics in kube-prometheus-stack (guide: "Linkerd Viz extension installation", steps 5-6):
 * the three PodMonitors translating Linkerd's Prometheus scrape configuration, and one Grafana
 * dashboard ConfigMap per Linkerd dashboard for the Grafana sidecar. Pure builders.
 *
 * Two fixes to the guide's manifests: the service-mirror PodMonitor's `source_labels` (not a field of
 * the CRD: the API server would drop it and the job relabeling would silently not run) is
 * `sourceLabels`, and the linkerd-proxy PodMonitor's `podMetricsEndpoints` is a list, as the CRD
 * requires.
 */
import { KubeObject, LINKERD_NAMESPACE, VIZ_NAMESPACE } from "../k8s";

/** Where kube-prometheus-stack runs and what it selects. */
export interface MonitoringSettings {
    /** Namespace of kube-prometheus-stack, where the PodMonitors and dashboards go. */
    readonly namespace: string;
    /** Labels kube-prometheus-stack selects PodMonitors by. */
    readonly podMonitorLabels: Readonly<Record<string, string>>;
    readonly dashboards: DashboardSettings;
}

/** The Grafana dashboards ConfigMap (guide viz step 6). */
export interface DashboardSettings {
    readonly enabled: boolean;
    /** Labels the Grafana sidecar loads ConfigMaps by. */
    readonly labels: Readonly<Record<string, string>>;
    /** Where the dashboards are downloaded from (mirror it for air-gapped clusters). */
    readonly sourceBaseUrl: string;
    /** Grafana folder. */
    readonly folder: string;
}

/** The guide's kube-prometheus-stack (viz step 5: release label; step 6: the sidecar's label). */
export const MONITORING_DEFAULTS = {
    namespace: "monitoring",
    podMonitorLabels: { app: "linkerd", release: "kube-prometheus-stack" },
    dashboards: { enabled: true, labels: { grafana_dashboard: "1" }, sourceBaseUrl: "https://grafana.com/api/dashboards", folder: "Linkerd" },
} as const satisfies MonitoringSettings;

export interface Relabeling {
    readonly sourceLabels?: readonly string[];
    readonly action: "keep" | "replace" | "labeldrop" | "labelmap";
    readonly regex?: string;
    readonly targetLabel?: string;
    readonly replacement?: string;
}

/** The guide's extra rule: the job label without the `<namespace>/` prefix the operator adds, as the dashboards filter on it. */
function jobRelabeling(job: string): Relabeling {
    return { sourceLabels: ["__address__"], action: "replace", targetLabel: "job", replacement: job };
}

/** linkerd-controller: the admin-http port of every pod in linkerd and linkerd-viz. */
export function controllerRelabelings(): Relabeling[] {
    return [
        { sourceLabels: ["__meta_kubernetes_pod_container_port_name"], action: "keep", regex: "admin-http" },
        { sourceLabels: ["__meta_kubernetes_pod_container_name"], action: "replace", targetLabel: "component" },
        jobRelabeling("linkerd-controller"),
    ];
}

/** linkerd-service-mirror (multicluster): the admin-http port of the service-mirror pods, in any namespace. */
export function serviceMirrorRelabelings(): Relabeling[] {
    return [
        {
            sourceLabels: ["__meta_kubernetes_pod_label_linkerd_io_control_plane_component", "__meta_kubernetes_pod_container_port_name"],
            action: "keep",
            regex: "linkerd-service-mirror;admin-http$",
        },
        { sourceLabels: ["__meta_kubernetes_pod_container_name"], action: "replace", targetLabel: "component" },
        // The guide writes `source_labels` here.
        jobRelabeling("linkerd-service-mirror"),
    ];
}

/** linkerd-proxy: every meshed pod's linkerd-admin port, with Linkerd's pod labels mapped as Linkerd's own scrape config does. */
export function proxyRelabelings(): Relabeling[] {
    return [
        {
            sourceLabels: [
                "__meta_kubernetes_pod_container_name",
                "__meta_kubernetes_pod_container_port_name",
                "__meta_kubernetes_pod_label_linkerd_io_control_plane_ns",
            ],
            action: "keep",
            regex: "^linkerd-proxy;linkerd-admin;linkerd$",
        },
        { sourceLabels: ["__meta_kubernetes_namespace"], action: "replace", targetLabel: "namespace" },
        { sourceLabels: ["__meta_kubernetes_pod_name"], action: "replace", targetLabel: "pod" },
        { sourceLabels: ["__meta_kubernetes_pod_label_linkerd_io_proxy_job"], action: "replace", targetLabel: "k8s_job" },
        { action: "labeldrop", regex: "__meta_kubernetes_pod_label_linkerd_io_proxy_job" },
        { action: "labelmap", regex: "__meta_kubernetes_pod_label_linkerd_io_proxy_(.+)" },
        { action: "labeldrop", regex: "__meta_kubernetes_pod_label_linkerd_io_proxy_(.+)" },
        { action: "labelmap", regex: "__meta_kubernetes_pod_label_linkerd_io_(.+)" },
        { action: "labelmap", regex: "__meta_kubernetes_pod_label_(.+)", replacement: "__tmp_pod_label_$1" },
        { action: "labelmap", regex: "__tmp_pod_label_linkerd_io_(.+)", replacement: "__tmp_pod_label_$1" },
        { action: "labeldrop", regex: "__tmp_pod_label_linkerd_io_(.+)" },
        { action: "labelmap", regex: "__tmp_pod_label_(.+)" },
        jobRelabeling("linkerd-proxy"),
    ];
}

function podMonitor(
    s: Pick<MonitoringSettings, "namespace" | "podMonitorLabels">,
    name: string,
    namespaceSelector: Record<string, unknown>,
    relabelings: Relabeling[],
): KubeObject {
    return {
        apiVersion: "monitoring.coreos.com/v1",
        kind: "PodMonitor",
        metadata: { name, namespace: s.namespace, labels: { ...s.podMonitorLabels } },
        spec: {
            namespaceSelector,
            selector: { matchLabels: {} },
            podMetricsEndpoints: [{ relabelings }],
        },
    };
}

/** Guide step 5: the three PodMonitors, in the order the guide lists them. */
export function linkerdPodMonitors(s: Pick<MonitoringSettings, "namespace" | "podMonitorLabels">): KubeObject[] {
    return [
        podMonitor(s, "linkerd-controller", { matchNames: [VIZ_NAMESPACE, LINKERD_NAMESPACE] }, controllerRelabelings()),
        podMonitor(s, "linkerd-service-mirror", { any: true }, serviceMirrorRelabelings()),
        podMonitor(s, "linkerd-proxy", { any: true }, proxyRelabelings()),
    ];
}

/**
 * Linkerd's Grafana dashboards on grafana.com and the revisions Linkerd pins (the linkerd-viz
 * Grafana values, `dashboards.default`, upstream main 2026-08). prometheus-benchmark (15490) is left
 * out: it benchmarks the Prometheus linkerd-viz installs, and we use kube-prometheus-stack's.
 */
export const LINKERD_DASHBOARDS: readonly { readonly name: string; readonly id: number; readonly revision: number }[] = [
    { name: "top-line", id: 15474, revision: 4 },
    { name: "deployment", id: 15475, revision: 6 },
    { name: "pod", id: 15477, revision: 3 },
    { name: "namespace", id: 15478, revision: 3 },
    { name: "kubernetes", id: 15479, revision: 2 },
    { name: "service", id: 15480, revision: 3 },
    { name: "route", id: 15481, revision: 3 },
    { name: "authority", id: 15482, revision: 3 },
    { name: "cronjob", id: 15483, revision: 3 },
    { name: "daemonset", id: 15484, revision: 3 },
    { name: "health", id: 15486, revision: 3 },
    { name: "job", id: 15487, revision: 3 },
    { name: "multicluster", id: 15488, revision: 3 },
    { name: "prometheus", id: 15489, revision: 2 },
    { name: "replicaset", id: 15491, revision: 3 },
    { name: "replicationcontroller", id: 15492, revision: 4 },
    { name: "statefulset", id: 15493, revision: 3 },
];

/** Annotation the Grafana sidecar (folderAnnotation in kube-prometheus-stack) reads the folder from. */
export const GRAFANA_FOLDER_ANNOTATION = "grafana_folder";

/** `<sourceBaseUrl>/<id>/revisions/<revision>/download` (grafana.com's API form; a mirror must keep it). */
export function dashboardUrl(sourceBaseUrl: string, id: number, revision: number): string {
    return `${sourceBaseUrl.replace(/\/+$/, "")}/${id}/revisions/${revision}/download`;
}

/** Name of the ConfigMap that carries the Linkerd dashboards. */
export const DASHBOARDS_CONFIGMAP = "linkerd-grafana-dashboards";

/**
 * Guide step 6: one ConfigMap labelled for the Grafana sidecar, with a `<name>.json.url` key per
 * Linkerd dashboard: the sidecar writes one file per key and downloads `.url` keys, so each becomes
 * `<name>.json` in the folder the annotation names. No dashboard JSON is copied into the project,
 * and one object (rather than one per dashboard) keeps the stack small.
 */
export function dashboardConfigMap(s: Pick<MonitoringSettings, "namespace" | "dashboards">): KubeObject {
    const d = s.dashboards;
    const data: Record<string, string> = {};
    for (const dash of LINKERD_DASHBOARDS) data[`${dash.name}.json.url`] = dashboardUrl(d.sourceBaseUrl, dash.id, dash.revision);
    return {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: {
            name: DASHBOARDS_CONFIGMAP,
            namespace: s.namespace,
            labels: { ...d.labels },
            annotations: { [GRAFANA_FOLDER_ANNOTATION]: d.folder },
        },
        data,
    };
}

export const CHART_POD_MONITORS_NOTE =
    "controlPlane.chartPodMonitors is true: the linkerd-control-plane chart renders its own PodMonitors, so the guide's " +
    "PodMonitors are not created (both would scrape every proxy twice).";
