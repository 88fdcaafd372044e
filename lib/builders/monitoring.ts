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
    /**
     * Base of the linkerd2 repository's raw files: each dashboard is `<sourceBaseUrl>/<linkerdTag>/grafana/dashboards/<file>`
     * (a mirror for air-gapped clusters keeps that layout).
     */
    readonly sourceBaseUrl: string;
    /** The linkerd2 git tag of the release in use (`stable-2.14.10`, `edge-26.8.3`): the dashboards that match its metrics. */
    readonly linkerdTag: string;
    /** Grafana folder. */
    readonly folder: string;
}

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
 * Linkerd's Grafana dashboards: the JSON files of the linkerd2 repository (grafana/dashboards/) at the
 * release's own tag, which select their Prometheus through a `datasource` template variable and so work
 * as provisioned files. (The grafana.com revisions older viz charts pinned use the `${DS_PROMETHEUS}`
 * import input instead, which the Grafana sidecar never substitutes: every panel stays empty, linkerd2
 * #10873.) `name` is the ConfigMap key (`<name>.json.url`, the file the sidecar writes); every file is
 * present at every supported tag (test/fixtures/grafana-dashboards). Left out: prometheus-benchmark (it
 * benchmarks the Prometheus linkerd-viz installs, and we use kube-prometheus-stack's) and prometheus-2-stats
 * (Prometheus' own statistics, which kube-prometheus-stack's dashboards show; its panels name `${datasource}`
 * but the file declares no such variable at any tag, so provisioned it shows nothing).
 */
export const LINKERD_DASHBOARDS: readonly { readonly name: string; readonly file: string }[] = [
    { name: "top-line", file: "top-line.json" },
    { name: "deployment", file: "deployment.json" },
    { name: "pod", file: "pod.json" },
    { name: "namespace", file: "namespace.json" },
    { name: "kubernetes", file: "kubernetes.json" },
    { name: "service", file: "service.json" },
    { name: "route", file: "route.json" },
    { name: "authority", file: "authority.json" },
    { name: "cronjob", file: "cronjob.json" },
    { name: "daemonset", file: "daemonset.json" },
    { name: "health", file: "health.json" },
    { name: "job", file: "job.json" },
    { name: "multicluster", file: "multicluster.json" },
    { name: "replicaset", file: "replicaset.json" },
    { name: "replicationcontroller", file: "replicationcontroller.json" },
    { name: "statefulset", file: "statefulset.json" },
];

/** Annotation the Grafana sidecar (folderAnnotation in kube-prometheus-stack) reads the folder from. */
export const GRAFANA_FOLDER_ANNOTATION = "grafana_folder";

/** `<sourceBaseUrl>/<linkerdTag>/grafana/dashboards/<file>`: the raw file of the linkerd2 repository at that tag (a mirror keeps the layout). */
export function dashboardUrl(sourceBaseUrl: string, linkerdTag: string, file: string): string {
    return `${sourceBaseUrl.replace(/\/+$/, "")}/${linkerdTag}/grafana/dashboards/${file}`;
}

/** grafana.com's dashboard API (`…/api/dashboards/<id>/revisions/<rev>/download`), the layout of older versions of this program. */
export const GRAFANA_COM_API = /\/api\/dashboards\/?$/;

export const GRAFANA_COM_SOURCE_PROBLEM =
    "points at grafana.com's dashboard API (the layout of older versions of this program), whose Linkerd revisions use the " +
    "${DS_PROMETHEUS} input that the Grafana sidecar never substitutes (empty panels, linkerd2 #10873). The dashboards now come " +
    "from the linkerd2 repository at the release's tag: remove the key (default https://raw.githubusercontent.com/linkerd/linkerd2), " +
    "or mirror <base>/<tag>/grafana/dashboards/<file>.json and set the mirror's base";

/** Name of the ConfigMap that carries the Linkerd dashboards. */
export const DASHBOARDS_CONFIGMAP = "linkerd-grafana-dashboards";

/**
 * Guide step 6: one ConfigMap labelled for the Grafana sidecar, with a `<name>.json.url` key per
 * Linkerd dashboard (the release's own, from the linkerd2 repository): the sidecar writes one file per key
 * and downloads `.url` keys, so each becomes `<name>.json` in the folder the annotation names. No dashboard
 * JSON is copied into the project,
 * and one object (rather than one per dashboard) keeps the stack small.
 */
export function dashboardConfigMap(s: Pick<MonitoringSettings, "namespace" | "dashboards">): KubeObject {
    const d = s.dashboards;
    const data: Record<string, string> = {};
    for (const dash of LINKERD_DASHBOARDS) data[`${dash.name}.json.url`] = dashboardUrl(d.sourceBaseUrl, d.linkerdTag, dash.file);
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
