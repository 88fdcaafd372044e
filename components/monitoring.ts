import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { DashboardSettings, dashboardConfigMap, linkerdPodMonitors } from "../lib/builders/monitoring";
import { renamedFrom } from "../lib/resources";
import { COMPONENT_TYPES } from "../lib/names";

export interface LinkerdMonitoringArgs {
    /** Namespace of kube-prometheus-stack, where the PodMonitors and the dashboards go. */
    readonly namespace: string;
    /** Labels kube-prometheus-stack selects PodMonitors by. */
    readonly podMonitorLabels: Readonly<Record<string, string>>;
    /** Create the guide's three PodMonitors (false when the control-plane chart renders its own). */
    readonly podMonitors: boolean;
    /** The Grafana dashboards ConfigMap. */
    readonly dashboards: DashboardSettings;
}

/**
 * Linkerd metrics in kube-prometheus-stack (guide, viz steps 5-6): the three PodMonitors and the
 * Grafana dashboards ConfigMap. They need only the prometheus-operator CRDs and the monitoring
 * namespace, which the cluster provides, so nothing orders them.
 */
export class LinkerdMonitoring extends pulumi.ComponentResource {
    readonly podMonitors: k8s.apiextensions.CustomResource[] = [];
    /** Unless dashboards.enabled is false. */
    readonly dashboards?: k8s.core.v1.ConfigMap;

    constructor(name: string, args: LinkerdMonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
        super(COMPONENT_TYPES.monitoring, name, {}, opts);
        const { namespace, podMonitorLabels, dashboards } = args;

        if (args.podMonitors) {
            for (const monitor of linkerdPodMonitors({ namespace, podMonitorLabels })) {
                const old = `podmonitor-${monitor.metadata.name}`;
                this.podMonitors.push(new k8s.apiextensions.CustomResource(`${name}-${old}`, monitor, { parent: this, ...renamedFrom(old) }));
            }
        }

        if (dashboards.enabled) {
            const cm = dashboardConfigMap({ namespace, dashboards });
            this.dashboards = new k8s.core.v1.ConfigMap(
                `${name}-dashboards`,
                { metadata: cm.metadata, data: cm.data as Record<string, string> },
                { parent: this, ...renamedFrom(cm.metadata.name) },
            );
        }

        this.registerOutputs({});
    }
}
