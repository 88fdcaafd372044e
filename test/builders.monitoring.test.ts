import { loadConfig } from "../lib/config";
import { LINKERD_DASHBOARDS, dashboardConfigMap, dashboardUrl, linkerdPodMonitors } from "../lib/builders/monitoring";
import { validateObject } from "./support/k8sSchemas";

const cfg = loadConfig({ values: {} });
const labels = { app: "linkerd", release: "kube-prometheus-stack" };

/** The guide's viz step 5 manifests, with `source_labels` -> `sourceLabels` and linkerd-proxy's podMetricsEndpoints as a list. */
const GUIDE_POD_MONITORS = [
    {
        apiVersion: "monitoring.coreos.com/v1",
        kind: "PodMonitor",
        metadata: { labels, name: "linkerd-controller", namespace: "monitoring" },
        spec: {
            namespaceSelector: { matchNames: ["linkerd-viz", "linkerd"] },
            selector: { matchLabels: {} },
            podMetricsEndpoints: [
                {
                    relabelings: [
                        { sourceLabels: ["__meta_kubernetes_pod_container_port_name"], action: "keep", regex: "admin-http" },
                        { sourceLabels: ["__meta_kubernetes_pod_container_name"], action: "replace", targetLabel: "component" },
                        { sourceLabels: ["__address__"], action: "replace", targetLabel: "job", replacement: "linkerd-controller" },
                    ],
                },
            ],
        },
    },
    {
        apiVersion: "monitoring.coreos.com/v1",
        kind: "PodMonitor",
        metadata: { labels, name: "linkerd-service-mirror", namespace: "monitoring" },
        spec: {
            namespaceSelector: { any: true },
            selector: { matchLabels: {} },
            podMetricsEndpoints: [
                {
                    relabelings: [
                        {
                            sourceLabels: [
                                "__meta_kubernetes_pod_label_linkerd_io_control_plane_component",
                                "__meta_kubernetes_pod_container_port_name",
                            ],
                            action: "keep",
                            regex: "linkerd-service-mirror;admin-http$",
                        },
                        { sourceLabels: ["__meta_kubernetes_pod_container_name"], action: "replace", targetLabel: "component" },
                        { sourceLabels: ["__address__"], action: "replace", targetLabel: "job", replacement: "linkerd-service-mirror" },
                    ],
                },
            ],
        },
    },
    {
        apiVersion: "monitoring.coreos.com/v1",
        kind: "PodMonitor",
        metadata: { labels, name: "linkerd-proxy", namespace: "monitoring" },
        spec: {
            namespaceSelector: { any: true },
            selector: { matchLabels: {} },
            podMetricsEndpoints: [
                {
                    relabelings: [
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
                        { sourceLabels: ["__address__"], action: "replace", targetLabel: "job", replacement: "linkerd-proxy" },
                    ],
                },
            ],
        },
    },
];

describe("PodMonitors (guide viz step 5)", () => {
    test("exactly the guide's three PodMonitors, every relabeling, with its two errors fixed", () => {
        expect(linkerdPodMonitors(cfg.monitoring)).toEqual(GUIDE_POD_MONITORS);
    });

    test("they pass the CRD schema, which rejects the guide's source_labels and a non-list podMetricsEndpoints", () => {
        for (const pm of linkerdPodMonitors(cfg.monitoring))
            expect({ name: pm.metadata.name, problems: validateObject(pm) }).toEqual({ name: pm.metadata.name, problems: [] });
        const typo = JSON.parse(JSON.stringify(GUIDE_POD_MONITORS[1]));
        typo.spec.podMetricsEndpoints[0].relabelings[2] = {
            source_labels: ["__address__"],
            action: "replace",
            targetLabel: "job",
            replacement: "linkerd-service-mirror",
        };
        expect(validateObject(typo)).not.toEqual([]);
        const notAList = JSON.parse(JSON.stringify(GUIDE_POD_MONITORS[2]));
        notAList.spec.podMetricsEndpoints = notAList.spec.podMetricsEndpoints[0];
        expect(validateObject(notAList)).not.toEqual([]);
    });

    test("namespace and labels come from the configuration", () => {
        const c = loadConfig({ values: { monitoring: { namespace: "observability", podMonitorLabels: { release: "prom" } } } });
        for (const pm of linkerdPodMonitors(c.monitoring)) {
            expect(pm.metadata.namespace).toBe("observability");
            expect(pm.metadata.labels).toEqual({ release: "prom" });
        }
    });
});

describe("Grafana dashboards (guide viz step 6)", () => {
    test("the grafana.com ids Linkerd publishes, at the revisions Linkerd pins", () => {
        expect(Object.fromEntries(LINKERD_DASHBOARDS.map((d) => [d.name, [d.id, d.revision]]))).toEqual({
            "top-line": [15474, 4],
            deployment: [15475, 6],
            pod: [15477, 3],
            namespace: [15478, 3],
            kubernetes: [15479, 2],
            service: [15480, 3],
            route: [15481, 3],
            authority: [15482, 3],
            cronjob: [15483, 3],
            daemonset: [15484, 3],
            health: [15486, 3],
            job: [15487, 3],
            multicluster: [15488, 3],
            prometheus: [15489, 2],
            replicaset: [15491, 3],
            replicationcontroller: [15492, 4],
            statefulset: [15493, 3],
        });
    });

    test("one ConfigMap with a .url key per dashboard, which the sidecar downloads", () => {
        const cm = dashboardConfigMap(cfg.monitoring);
        expect(cm.metadata).toEqual({
            name: "linkerd-grafana-dashboards",
            namespace: "monitoring",
            labels: { grafana_dashboard: "1" },
            annotations: { grafana_folder: "Linkerd" },
        });
        const data = cm.data as Record<string, string>;
        expect(Object.keys(data)).toHaveLength(17);
        expect(data["top-line.json.url"]).toBe("https://grafana.com/api/dashboards/15474/revisions/4/download");
        for (const dash of LINKERD_DASHBOARDS) {
            expect(data[`${dash.name}.json.url`]).toBe(`https://grafana.com/api/dashboards/${dash.id}/revisions/${dash.revision}/download`);
        }
        expect(validateObject(cm)).toEqual([]);
    });

    test("labels, folder, namespace and source follow the configuration (a mirror keeps the API's path form)", () => {
        const c = loadConfig({
            values: {
                monitoring: {
                    namespace: "observability",
                    dashboards: { labels: { dash: "yes" }, folder: "Mesh", sourceBaseUrl: "https://mirror.lan/dashboards/" },
                },
            },
        });
        const cm = dashboardConfigMap(c.monitoring);
        expect(cm.metadata).toMatchObject({ namespace: "observability", labels: { dash: "yes" }, annotations: { grafana_folder: "Mesh" } });
        expect((cm.data as Record<string, string>)["deployment.json.url"]).toBe("https://mirror.lan/dashboards/15475/revisions/6/download");
        expect(dashboardUrl("https://grafana.com/api/dashboards", 15474, 4)).toBe("https://grafana.com/api/dashboards/15474/revisions/4/download");
    });
});
