/**
 * The cluster as the check sees it: plain objects as `kubectl get -o json` returns them, read once by
 * cli/check.ts, and what to read, derived from the program's configuration (`checkPlan`), so the
 * check looks at the cluster and namespaces the stack targets.
 */
import type { PiclusterConfig } from "../lib/config";
import { IDENTITY_ISSUER_NAME, TRUST_ROOTS_NAME } from "../lib/builders/identity";
import { DASHBOARDS_CONFIGMAP } from "../lib/builders/monitoring";
import { LINKERD_NAMESPACE, VIZ_NAMESPACE } from "../lib/k8s";
import { Obj, labelsOf, nameOf, namespaceOf, str } from "../lib/k8s";

export type { Obj };

/** A CustomResourceDefinition by name, with the versions it serves. */
export interface CrdInfo {
    readonly name: string;
    readonly servedVersions: readonly string[];
}

export interface ClusterSnapshot {
    /** Every object read: workloads, pods, ConfigMaps, Namespaces, PodMonitors, Prometheuses, Certificates. */
    readonly objects: readonly Obj[];
    readonly crds: readonly CrdInfo[];
    /** CRD names in the manifest of the deployed linkerd-crds Helm release; undefined when no deployed release was found. */
    readonly releaseCrds?: readonly string[];
    /** Certificate keys of the Secrets read (PEM text), by `namespace/name`: never private keys. */
    readonly secrets: Readonly<Record<string, Readonly<Record<string, string>>>>;
    /** Resource types the API server does not serve (e.g. `podmonitors.monitoring.coreos.com`). */
    readonly unservedTypes: readonly string[];
}

/** The control plane's Deployments (linkerd-control-plane chart, stable-2.14 and edge alike). */
export const CONTROL_PLANE_DEPLOYMENTS: readonly string[] = ["linkerd-identity", "linkerd-destination", "linkerd-proxy-injector"];
/** linkerd-viz's Deployments with the program's values (prometheus.enabled false: no Prometheus of its own). */
export const VIZ_DEPLOYMENTS: readonly string[] = ["metrics-api", "tap", "tap-injector", "web"];
/** linkerd-jaeger's Deployments with the program's values (collector and jaeger disabled). */
export const JAEGER_DEPLOYMENTS: readonly string[] = ["jaeger-injector"];
export const LINKERD_CONFIG = "linkerd-config";
/** Labels of the pods of k3s' bundled Traefik and of the ingress-nginx controller. */
export const TRAEFIK_POD_SELECTOR: Readonly<Record<string, string>> = { "app.kubernetes.io/name": "traefik" };
export const NGINX_POD_SELECTOR: Readonly<Record<string, string>> = {
    "app.kubernetes.io/name": "ingress-nginx",
    "app.kubernetes.io/component": "controller",
};

/** What cli/check.ts reads. */
export interface CheckPlan {
    /** Namespaces whose Deployments, DaemonSets, StatefulSets, ReplicaSets, Pods, Jobs and CronJobs are listed. */
    readonly workloadNamespaces: readonly string[];
    /** Pods found by label in every namespace (ingress-nginx lives wherever its chart was installed). */
    readonly podSelectorsAllNamespaces: readonly Readonly<Record<string, string>>[];
    readonly configMaps: readonly { readonly namespace: string; readonly name: string }[];
    /** Only these keys are read: certificates, never tls.key. */
    readonly secrets: readonly { readonly namespace: string; readonly name: string; readonly keys: readonly string[] }[];
    /** Custom resources listed per namespace: `<plural>.<group>` and the namespace. */
    readonly customResources: readonly { readonly type: string; readonly namespace: string }[];
}

/** The namespaces the program meshes itself: configured ones, plus the extension namespaces it creates annotated. */
export function meshedNamespaces(cfg: PiclusterConfig): string[] {
    const out = [...cfg.meshing.namespaces];
    if (cfg.viz.enabled) out.push(VIZ_NAMESPACE);
    if (cfg.jaeger.enabled) out.push(cfg.jaeger.namespace);
    return [...new Set(out)];
}

export function checkPlan(cfg: PiclusterConfig): CheckPlan {
    const namespaces = new Set<string>([LINKERD_NAMESPACE, ...meshedNamespaces(cfg), ...cfg.meshing.workloads.map((w) => w.namespace)]);
    if (cfg.ingress.controller === "traefik") namespaces.add(cfg.ingress.namespace);
    if (cfg.longhorn.enabled) namespaces.add(cfg.longhorn.namespace);
    const configMaps = [{ namespace: LINKERD_NAMESPACE, name: LINKERD_CONFIG }];
    const secrets: { namespace: string; name: string; keys: string[] }[] = [
        { namespace: LINKERD_NAMESPACE, name: IDENTITY_ISSUER_NAME, keys: ["tls.crt", "ca.crt"] },
    ];
    const anchor = cfg.identity.trustAnchor;
    if (anchor.mode === "bundle") configMaps.push({ namespace: LINKERD_NAMESPACE, name: TRUST_ROOTS_NAME });
    if (anchor.mode === "bundle" || anchor.source === "secret") {
        secrets.push({ namespace: anchor.secret.namespace, name: anchor.secret.name, keys: [anchor.secret.key] });
    }
    if (anchor.mode === "bundle" && anchor.previous) {
        secrets.push({ namespace: anchor.secret.namespace, name: anchor.previous.name, keys: [anchor.previous.key] });
    }
    const customResources = [{ type: "certificates.cert-manager.io", namespace: LINKERD_NAMESPACE }];
    if (cfg.monitoring.enabled) {
        if (cfg.monitoring.dashboards.enabled) configMaps.push({ namespace: cfg.monitoring.namespace, name: DASHBOARDS_CONFIGMAP });
        if (!cfg.controlPlane.chartPodMonitors) {
            customResources.push({ type: "podmonitors.monitoring.coreos.com", namespace: cfg.monitoring.namespace });
            customResources.push({ type: "prometheuses.monitoring.coreos.com", namespace: cfg.monitoring.namespace });
        }
    }
    return {
        workloadNamespaces: [...namespaces].sort(),
        podSelectorsAllNamespaces: cfg.ingress.controller === "nginx" ? [NGINX_POD_SELECTOR] : [],
        configMaps,
        secrets,
        customResources,
    };
}

/** One object by kind, namespace ("" for cluster-scoped) and name. */
export function findObject(s: ClusterSnapshot, kind: string, namespace: string, name: string): Obj | undefined {
    return s.objects.find((o) => o.kind === kind && namespaceOf(o) === namespace && nameOf(o) === name);
}

/** Objects of a kind, in one namespace or all. */
export function listObjects(s: ClusterSnapshot, kind: string, namespace?: string): Obj[] {
    return s.objects.filter((o) => o.kind === kind && (namespace === undefined || namespaceOf(o) === namespace));
}

/** `{a: "b"}` selects objects whose labels include a=b. */
export function matchesLabels(o: Obj, selector: Readonly<Record<string, string>>): boolean {
    const labels = labelsOf(o);
    return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

/** `Kind/namespace/name`, as the check names objects. */
export function ref(o: Obj): string {
    const ns = namespaceOf(o);
    const kind = str(o.kind) ?? "?";
    return ns ? `${kind}/${ns}/${nameOf(o)}` : `${kind}/${nameOf(o)}`;
}
