/** Builders for plain Kubernetes objects used by the policy tests. */
import { Loose as Obj } from "../support/loose";
import { RuleContext, emptyContext, releaseFacts, ReleaseOverrides, DEFAULT_TRAEFIK, TraefikSettings } from "../../policy/rules";

export interface PodOpts {
    name?: string;
    namespace?: string;
    annotations?: Record<string, string>;
    hostNetwork?: boolean;
    automount?: boolean;
    containers?: Obj[];
    initContainers?: Obj[];
}

export const container = (name: string, command?: string[], args?: string[]): Obj => ({
    name,
    image: `example/${name}:1.0`,
    ...(command ? { command } : {}),
    ...(args ? { args } : {}),
});

function podSpec(o: PodOpts): Obj {
    return {
        ...(o.hostNetwork !== undefined ? { hostNetwork: o.hostNetwork } : {}),
        ...(o.automount !== undefined ? { automountServiceAccountToken: o.automount } : {}),
        ...(o.initContainers ? { initContainers: o.initContainers } : {}),
        containers: o.containers ?? [container("main", ["/bin/app"])],
    };
}

function meta(o: PodOpts, fallback: string): Obj {
    return { name: o.name ?? fallback, ...(o.namespace !== undefined ? { namespace: o.namespace } : {}) };
}

function template(o: PodOpts): Obj {
    return { metadata: o.annotations ? { annotations: o.annotations } : {}, spec: podSpec(o) };
}

export const pod = (o: PodOpts = {}): Obj => ({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { ...meta(o, "pod"), ...(o.annotations ? { annotations: o.annotations } : {}) },
    spec: podSpec(o),
});

const workload =
    (apiVersion: string, kind: string) =>
    (o: PodOpts = {}): Obj => ({
        apiVersion,
        kind,
        metadata: meta(o, kind.toLowerCase()),
        spec: { selector: { matchLabels: { app: "x" } }, template: template(o) },
    });

export const deployment = workload("apps/v1", "Deployment");
export const daemonSet = workload("apps/v1", "DaemonSet");
export const statefulSet = workload("apps/v1", "StatefulSet");
export const replicaSet = workload("apps/v1", "ReplicaSet");

export const job = (o: PodOpts = {}): Obj => ({
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: meta(o, "job"),
    spec: { backoffLimit: 1, template: { ...template(o), spec: { ...podSpec(o), restartPolicy: "Never" } } },
});

export const cronJob = (o: PodOpts = {}): Obj => ({
    apiVersion: "batch/v1",
    kind: "CronJob",
    metadata: meta(o, "cronjob"),
    spec: {
        schedule: "0 3 * * *",
        jobTemplate: { spec: { template: { ...template(o), spec: { ...podSpec(o), restartPolicy: "OnFailure" } } } },
    },
});

export const namespace = (name: string, annotations?: Record<string, string>, labels?: Record<string, string>): Obj => ({
    apiVersion: "v1",
    kind: "Namespace",
    metadata: { name, ...(annotations ? { annotations } : {}), ...(labels ? { labels } : {}) },
});

export const middleware = (namespace: string, name: string, headers?: Record<string, string>, group = "traefik.io"): Obj => ({
    apiVersion: `${group}/v1alpha1`,
    kind: "Middleware",
    metadata: { name, namespace },
    spec: headers ? { headers: { customRequestHeaders: headers } } : { basicAuth: { secret: "basic-auth" } },
});

export const ingressRoute = (
    namespace: string,
    service: string,
    middlewares: { name: string; namespace?: string }[] = [],
    group = "traefik.io",
    serviceNamespace?: string,
): Obj => ({
    apiVersion: `${group}/v1alpha1`,
    kind: "IngressRoute",
    metadata: { name: `${service}-route`, namespace },
    spec: {
        entryPoints: ["websecure"],
        routes: [
            {
                kind: "Rule",
                match: `Host(\`${service}.picluster.example\`)`,
                services: [{ name: service, port: 8080, ...(serviceNamespace ? { namespace: serviceNamespace } : {}) }],
                ...(middlewares.length ? { middlewares } : {}),
            },
        ],
    },
});

export const ingress = (namespace: string, service: string, opts: { className?: string; annotations?: Record<string, string> } = {}): Obj => ({
    apiVersion: "networking.k8s.io/v1",
    kind: "Ingress",
    metadata: { name: `${service}-ingress`, namespace, ...(opts.annotations ? { annotations: opts.annotations } : {}) },
    spec: {
        ...(opts.className ? { ingressClassName: opts.className } : {}),
        rules: [
            {
                host: `${service}.picluster.example`,
                http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: { name: service, port: { number: 8080 } } } }] },
            },
        ],
    },
});

export const elasticsearch = (namespace: string, automount?: boolean): Obj => ({
    apiVersion: "elasticsearch.k8s.elastic.co/v1",
    kind: "Elasticsearch",
    metadata: { name: "efk", namespace },
    spec: {
        version: "8.1.2",
        nodeSets: [
            {
                name: "default",
                count: 1,
                ...(automount !== undefined ? { podTemplate: { spec: { automountServiceAccountToken: automount } } } : {}),
            },
        ],
    },
});

export const kibana = (namespace: string, automount?: boolean): Obj => ({
    apiVersion: "kibana.k8s.elastic.co/v1",
    kind: "Kibana",
    metadata: { name: "kibana", namespace },
    spec: {
        version: "8.1.2",
        count: 1,
        elasticsearchRef: { name: "efk" },
        ...(automount !== undefined ? { podTemplate: { spec: { automountServiceAccountToken: automount } } } : {}),
    },
});

/** A context with the given namespaces meshed (as if annotated linkerd.io/inject: enabled). */
export function ctx(
    meshed: string[] = [],
    release: ReleaseOverrides = {},
    traefik: Partial<TraefikSettings> = {},
    middlewares: Obj[] = [],
): RuleContext {
    const c = emptyContext({ release: releaseFacts(release, "test"), traefik: { ...DEFAULT_TRAEFIK, ...traefik } });
    for (const n of meshed) c.namespaces.set(n, { meshed: true, value: "enabled", source: `Namespace ${n}` });
    for (const m of middlewares) c.middlewares.set(`${m.metadata.namespace}/${m.metadata.name}`, m);
    return c;
}
