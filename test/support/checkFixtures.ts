/**
 * Live-cluster objects for the check's unit tests, made in the test: a healthy cluster as `pulumi up`
 * leaves it (with running pods, as a kubelet would report them), which each test then breaks.
 */
import { stringify as stringifyYaml } from "yaml";
import { PiclusterConfig, loadConfig } from "../../lib/config";
import { dashboardConfigMap, linkerdPodMonitors } from "../../lib/builders/monitoring";
import { CONFIG_DEFAULTS } from "../../lib/config/schema";
import { CONTROL_PLANE_DEPLOYMENTS, ClusterSnapshot, JAEGER_DEPLOYMENTS, VIZ_DEPLOYMENTS } from "../../check";
import { Loose as Obj } from "./loose";
import { CheckContext } from "../../check/types";

export function testConfig(values: Record<string, unknown> = {}): PiclusterConfig {
    return loadConfig({
        values: { kubernetes: { kubeconfig: "/nonexistent/kubeconfig", context: "pi" }, ingress: { traefik: { namespace: "traefik" } }, ...values },
    });
}

export function context(config: PiclusterConfig = testConfig(), now = new Date()): CheckContext {
    return { config, stack: "picluster", now };
}

export function namespace(name: string, annotations: Record<string, string> = {}): Obj {
    return { apiVersion: "v1", kind: "Namespace", metadata: { name, annotations, labels: { "kubernetes.io/metadata.name": name } } };
}

export function deployment(
    ns: string,
    name: string,
    opts: { available?: boolean; replicas?: number; annotations?: Record<string, string> } = {},
): Obj {
    const replicas = opts.replicas ?? 1;
    const available = opts.available ?? true;
    return {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name, namespace: ns, generation: 1 },
        spec: { replicas, template: { metadata: { annotations: opts.annotations ?? {} }, spec: { containers: [{ name }] } } },
        status: {
            observedGeneration: 1,
            replicas,
            readyReplicas: available ? replicas : 0,
            availableReplicas: available ? replicas : 0,
            conditions: [
                {
                    type: "Available",
                    status: available ? "True" : "False",
                    message: available ? "has minimum availability" : "does not have minimum availability",
                },
            ],
        },
    };
}

function owner(kind: string, name: string) {
    return [{ apiVersion: kind === "ReplicaSet" ? "apps/v1" : "apps/v1", kind, name, controller: true }];
}

export function replicaSet(ns: string, name: string, deploymentName: string): Obj {
    return { apiVersion: "apps/v1", kind: "ReplicaSet", metadata: { name, namespace: ns, ownerReferences: owner("Deployment", deploymentName) } };
}

/** A pod as the API server has it once a kubelet runs it. */
export function pod(
    ns: string,
    name: string,
    opts: {
        proxy?: boolean | "native";
        owner?: { kind: string; name: string };
        running?: boolean;
        annotations?: Record<string, string>;
        labels?: Record<string, string>;
        ingressMode?: boolean;
    } = {},
): Obj {
    const proxy = { name: "linkerd-proxy", env: opts.ingressMode ? [{ name: "LINKERD2_PROXY_INGRESS_MODE", value: "true" }] : [] };
    const app = { name: "app" };
    return {
        apiVersion: "v1",
        kind: "Pod",
        metadata: {
            name,
            namespace: ns,
            annotations: opts.annotations ?? {},
            labels: opts.labels ?? {},
            ...(opts.owner ? { ownerReferences: owner(opts.owner.kind, opts.owner.name) } : {}),
        },
        spec: {
            containers: opts.proxy === true ? [app, proxy] : [app],
            ...(opts.proxy === "native" ? { initContainers: [{ ...proxy, restartPolicy: "Always" }] } : {}),
        },
        status: { phase: opts.running === false ? "Pending" : "Running" },
    };
}

export interface Certs {
    readonly root: string;
    readonly issuer: string;
}

/** A cluster as `pulumi up` leaves it for `config`, with the given certificates. */
export function healthySnapshot(config: PiclusterConfig, certs: Certs): ClusterSnapshot {
    const meshed = { "linkerd.io/inject": "enabled" };
    const crds = ["serviceprofiles.linkerd.io", "servers.policy.linkerd.io", "authorizationpolicies.policy.linkerd.io"];
    const longhorn = config.longhorn.namespace;
    const objects: Obj[] = [
        namespace("linkerd", { "linkerd.io/inject": "disabled" }),
        namespace("linkerd-viz", meshed),
        namespace("linkerd-jaeger", meshed),
        ...config.meshing.namespaces.map((n) => namespace(n, meshed)),
        namespace("kube-system"),
        namespace("traefik"),
        namespace(longhorn),
        {
            apiVersion: "v1",
            kind: "ConfigMap",
            metadata: { name: "linkerd-config", namespace: "linkerd" },
            data: { values: stringifyYaml({ identityTrustAnchorsPEM: certs.root, identity: { issuer: { scheme: "kubernetes.io/tls" } } }) },
        },
        {
            apiVersion: "cert-manager.io/v1",
            kind: "Certificate",
            metadata: { name: "linkerd-identity-issuer", namespace: "linkerd" },
            status: { conditions: [{ type: "Ready", status: "True" }] },
        },
        ...CONTROL_PLANE_DEPLOYMENTS.map((n) => deployment("linkerd", n)),
        ...VIZ_DEPLOYMENTS.map((n) => deployment("linkerd-viz", n)),
        ...JAEGER_DEPLOYMENTS.map((n) => deployment("linkerd-jaeger", n)),
        pod("linkerd-viz", "web-6f7d-abcde", { proxy: true, owner: { kind: "ReplicaSet", name: "web-6f7d" } }),
        replicaSet("linkerd-viz", "web-6f7d", "web"),
        { apiVersion: "apps/v1", kind: "StatefulSet", metadata: { name: "prometheus", namespace: "monitoring" } },
        pod("monitoring", "prometheus-0", { proxy: true, owner: { kind: "StatefulSet", name: "prometheus" } }),
        pod("monitoring", "admission-patch-x", { annotations: { "linkerd.io/inject": "disabled" } }),
        pod("traefik", "traefik-5d-xyz", {
            proxy: true,
            ingressMode: true,
            annotations: { "linkerd.io/inject": "ingress" },
            labels: { "app.kubernetes.io/name": "traefik" },
            owner: { kind: "ReplicaSet", name: "traefik-5d" },
        }),
        replicaSet("traefik", "traefik-5d", "traefik"),
        deployment("traefik", "traefik"),
        {
            apiVersion: "apps/v1",
            kind: "DaemonSet",
            metadata: { name: "longhorn-manager", namespace: longhorn },
            spec: {
                template: {
                    metadata: { annotations: meshed },
                    spec: { containers: [{ name: "longhorn-manager", env: [{ name: "POD_IP", value: "0.0.0.0" }] }] },
                },
            },
        },
        pod(longhorn, "longhorn-manager-abc", { proxy: true, owner: { kind: "DaemonSet", name: "longhorn-manager" } }),
        deployment(longhorn, "longhorn-ui", { annotations: meshed }),
        ...linkerdPodMonitors({ namespace: config.monitoring.namespace, podMonitorLabels: config.monitoring.podMonitorLabels }),
        dashboardConfigMap({ namespace: config.monitoring.namespace, dashboards: config.monitoring.dashboards }),
        {
            apiVersion: "monitoring.coreos.com/v1",
            kind: "Prometheus",
            metadata: { name: "kube-prometheus-stack-prometheus", namespace: config.monitoring.namespace },
            spec: { podMonitorSelector: { matchLabels: { release: CONFIG_DEFAULTS.monitoring.podMonitorLabels.release } } },
        },
    ];
    // As 2.14's linkerd-crds installs it: HTTPRoute served at v1beta1 (what its policy controller watches).
    const httpRoutes = { name: "httproutes.gateway.networking.k8s.io", servedVersions: ["v1beta1"] };
    return {
        objects,
        crds: [...crds.map((name) => ({ name, servedVersions: ["v1"] })), httpRoutes],
        releaseCrds: [...crds, httpRoutes.name],
        secrets: { "linkerd/linkerd-identity-issuer": { "tls.crt": certs.issuer, "ca.crt": certs.root } },
        unservedTypes: [],
    };
}

/** The snapshot with objects replaced or removed (by kind/namespace/name), and others added. */
export function withObjects(s: ClusterSnapshot, change: { remove?: [string, string, string][]; add?: Obj[] }): ClusterSnapshot {
    const gone = (o: Obj) =>
        (change.remove ?? []).some(([k, ns, n]) => o.kind === k && (o.metadata?.namespace ?? "") === ns && o.metadata?.name === n);
    const added = change.add ?? [];
    const replaced = (o: Obj) =>
        added.some((a) => a.kind === o.kind && a.metadata?.namespace === o.metadata?.namespace && a.metadata?.name === o.metadata?.name);
    return { ...s, objects: [...s.objects.filter((o) => !gone(o) && !replaced(o)), ...added] };
}
