import * as fs from "fs";
import * as path from "path";
import { ConfigError, loadConfig } from "../lib/config";
import { resolveRelease } from "../lib/release";
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
    const fixture = JSON.parse(fs.readFileSync(path.join(__dirname, "fixtures", "grafana-dashboards", "linkerd2-dashboards.json"), "utf8")) as {
        groups: { tags: string[]; files: Record<string, { datasourceVariables: string[]; datasourceRefs: string[]; dsInputPlaceholder: boolean }> }[];
    };
    const tags = fixture.groups.flatMap((g) => g.tags.map((tag) => ({ tag, files: g.files })));

    test("the fixture covers every supported release: stable-2.14.10, the oldest edge and the newest tag derived", () => {
        const names = tags.map((t) => t.tag);
        expect(names).toEqual(expect.arrayContaining(["stable-2.14.10", "edge-24.2.4", "edge-25.9.4", "edge-25.10.7", "edge-26.8.3"]));
        for (const tag of names)
            expect(() => resolveRelease(tag.startsWith("stable-") ? "stable" : "edge", tag.replace(/^stable-/, ""))).not.toThrow();
        expect(resolveRelease("stable", undefined).tag).toBe("stable-2.14.10");
        expect(resolveRelease("edge", "edge-26.8.3").tag).toBe("edge-26.8.3");
    });

    test.each(LINKERD_DASHBOARDS.map((d) => [d.name, d.file]))(
        "%s (%s) works as a provisioned file at every supported tag: a datasource template variable, no ${DS_ input",
        (_, file) => {
            for (const { tag, files } of tags) {
                const facts = files[file];
                expect({ tag, present: facts !== undefined }).toEqual({ tag, present: true });
                expect({ tag, dsInput: facts.dsInputPlaceholder }).toEqual({ tag, dsInput: false });
                expect(facts.datasourceVariables.length).toBeGreaterThan(0);
                for (const ref of facts.datasourceRefs)
                    expect({ tag, ref, declared: facts.datasourceVariables.includes(ref) }).toEqual({ tag, ref, declared: true });
            }
        },
    );

    test("every Linkerd dashboard of the repository is provisioned, but the two that are not Linkerd's and do not work as files", () => {
        const left = Object.keys(tags[tags.length - 1].files).filter((f) => !LINKERD_DASHBOARDS.some((d) => d.file === f));
        expect(left.sort()).toEqual(["prometheus-2-stats.json", "prometheus-benchmark.json"]);
        expect(tags[tags.length - 1].files["prometheus-2-stats.json"]).toMatchObject({ datasourceVariables: [], datasourceRefs: ["datasource"] });
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
        expect(Object.keys(data)).toHaveLength(LINKERD_DASHBOARDS.length);
        expect(data["top-line.json.url"]).toBe("https://raw.githubusercontent.com/linkerd/linkerd2/stable-2.14.10/grafana/dashboards/top-line.json");
        for (const dash of LINKERD_DASHBOARDS) {
            expect(data[`${dash.name}.json.url`]).toBe(
                `https://raw.githubusercontent.com/linkerd/linkerd2/stable-2.14.10/grafana/dashboards/${dash.file}`,
            );
        }
        expect(validateObject(cm)).toEqual([]);
    });

    test("labels, folder, namespace, source and the release's tag follow the configuration (a mirror keeps the repository's layout)", () => {
        const c = loadConfig({
            values: {
                linkerd: { channel: "edge", version: "edge-26.8.3" },
                monitoring: {
                    namespace: "observability",
                    dashboards: { labels: { dash: "yes" }, folder: "Mesh", sourceBaseUrl: "https://mirror.lan/linkerd2/" },
                },
            },
        });
        const cm = dashboardConfigMap(c.monitoring);
        expect(cm.metadata).toMatchObject({ namespace: "observability", labels: { dash: "yes" }, annotations: { grafana_folder: "Mesh" } });
        expect((cm.data as Record<string, string>)["deployment.json.url"]).toBe(
            "https://mirror.lan/linkerd2/edge-26.8.3/grafana/dashboards/deployment.json",
        );
        expect(dashboardUrl("https://raw.githubusercontent.com/linkerd/linkerd2", "edge-25.9.4", "pod.json")).toBe(
            "https://raw.githubusercontent.com/linkerd/linkerd2/edge-25.9.4/grafana/dashboards/pod.json",
        );
    });

    test("a sourceBaseUrl left on grafana.com's API (the old layout, ${DS_PROMETHEUS} revisions) is refused, naming the key", () => {
        let problems: { key: string; message: string }[] = [];
        try {
            loadConfig({ values: { monitoring: { dashboards: { sourceBaseUrl: "https://grafana.com/api/dashboards" } } } });
        } catch (e) {
            problems = [...(e as ConfigError).problems];
        }
        expect(problems.find((p) => p.key === "picluster-linkerd:monitoring.dashboards.sourceBaseUrl")?.message).toMatch(
            /grafana.com's dashboard API.*DS_PROMETHEUS.*<base>\/<tag>\/grafana\/dashboards\/<file>.json/,
        );
    });
});
