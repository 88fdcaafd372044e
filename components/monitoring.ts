import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { PiclusterConfig } from "../lib/config";
import { CHART_POD_MONITORS_NOTE, dashboardConfigMap, linkerdPodMonitors, wantPodMonitors } from "../lib/builders/monitoring";

export interface LinkerdMonitoringArgs {
    readonly config: Pick<PiclusterConfig, "monitoring" | "controlPlane">;
    /** Resources to create the PodMonitors and dashboards after. @default none: they need only the prometheus-operator CRDs and the monitoring namespace, which the cluster provides */
    readonly after?: readonly pulumi.Resource[];
}

/**
 * Linkerd metrics in kube-prometheus-stack (guide, viz steps 5-6): the three PodMonitors (unless the
 * control-plane chart renders its own) and the Grafana dashboards ConfigMap.
 */
export class LinkerdMonitoring extends pulumi.ComponentResource {
    readonly podMonitors: k8s.apiextensions.CustomResource[] = [];
    /** Unless monitoring.dashboards.enabled is false. */
    readonly dashboards?: k8s.core.v1.ConfigMap;

    constructor(name: string, args: LinkerdMonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
        super("picluster:linkerd:Monitoring", name, {}, opts);
        const cfg = args.config;
        const dependsOn = [...(args.after ?? [])];

        if (wantPodMonitors(cfg)) {
            for (const monitor of linkerdPodMonitors(cfg)) {
                this.podMonitors.push(new k8s.apiextensions.CustomResource(`podmonitor-${monitor.metadata.name}`, monitor, { parent: this, dependsOn }));
            }
        } else {
            pulumi.log.info(CHART_POD_MONITORS_NOTE, this);
        }

        if (cfg.monitoring.dashboards.enabled) {
            const cm = dashboardConfigMap(cfg);
            this.dashboards = new k8s.core.v1.ConfigMap(cm.metadata.name, { metadata: cm.metadata, data: cm.data as Record<string, string> }, { parent: this, dependsOn });
        }

        this.registerOutputs({});
    }
}
