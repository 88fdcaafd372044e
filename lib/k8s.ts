/**
 * The one Kubernetes-object vocabulary of the program, the policy pack, policy:check and the check: the shape of
 * the objects the builders produce (`KubeObject`), the reading of objects from anywhere else (`Obj`: parsed YAML,
 * `kubectl get -o json`, Pulumi resource props) one field at a time, and the namespace, label and annotation
 * names Linkerd and the guide use. Dependency-free, so the policy pack can import it on its own.
 *
 * Readers touch only the fields they need: under CrossGuard the props are a proxy that throws when an unknown
 * (preview-time) value is read, so touching less means running more often.
 */

/** A Kubernetes object as the builders produce it (plain data, ready to apply). */
export interface KubeObject {
    readonly apiVersion: string;
    readonly kind: string;
    readonly metadata: {
        readonly name: string;
        readonly namespace?: string;
        readonly labels?: Readonly<Record<string, string>>;
        readonly annotations?: Readonly<Record<string, string>>;
    };
    readonly [field: string]: unknown;
}

/** Namespaces the program creates or must know about. */
export const LINKERD_NAMESPACE = "linkerd";
export const VIZ_NAMESPACE = "linkerd-viz";
export const KUBE_SYSTEM_NAMESPACE = "kube-system";
export const CERT_MANAGER_NAMESPACE = "cert-manager";

/** Helm release names of the guide's `helm install` (steps 7-8), in LINKERD_NAMESPACE. */
export const CRDS_RELEASE_NAME = "linkerd-crds";
export const CONTROL_PLANE_RELEASE_NAME = "linkerd-control-plane";

/** `enabled` | `disabled` | `ingress`, on a namespace or a pod template (guide: "Meshing a service with linkerd"). */
export const INJECT_ANNOTATION = "linkerd.io/inject";
/** Values of the inject annotation that give a pod the proxy. */
export const MESHING_INJECT_VALUES: readonly string[] = ["enabled", "ingress"];
/** Namespace annotation the viz chart sets: pods wait for their proxy before starting. */
export const PROXY_AWAIT_ANNOTATION = "config.linkerd.io/proxy-await";
export const SKIP_OUTBOUND_PORTS_ANNOTATION = "config.linkerd.io/skip-outbound-ports";
/** The proxy's /shutdown endpoint per pod (linkerd-await --shutdown), 2.16+. */
export const PROXY_ADMIN_SHUTDOWN_ANNOTATION = "config.linkerd.io/proxy-admin-shutdown";

/** Namespaces labelled `disabled` are never seen by Linkerd's admission webhooks (the proxy injector among them). */
export const ADMISSION_WEBHOOKS_LABEL = "config.linkerd.io/admission-webhooks";
/** Set by the API server on every namespace: what webhook namespaceSelectors match names by. */
export const NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name";
export const EXTENSION_LABEL = "linkerd.io/extension";
export const POD_SECURITY_ENFORCE_LABEL = "pod-security.kubernetes.io/enforce";

/** pulumi-kubernetes waits for this condition before the resource counts as created. */
export const WAIT_FOR_ANNOTATION = "pulumi.com/waitFor";
/**
 * Server-side-apply conflicts are forced: a namespace or template annotated by hand
 * (`kubectl annotate ns monitoring linkerd.io/inject=disabled`) is taken over instead of failing the update.
 */
export const PATCH_FORCE_ANNOTATION = "pulumi.com/patchForce";

/** Whether an inject annotation value gives pods the proxy. */
export function injectValueMeshes(value: string | undefined): boolean {
    return value !== undefined && MESHING_INJECT_VALUES.includes(value);
}

/** A Kubernetes LabelSelector (metav1.LabelSelector). */
export interface LabelSelector {
    readonly matchLabels?: Readonly<Record<string, string>>;
    readonly matchExpressions?: readonly {
        readonly key: string;
        readonly operator: "In" | "NotIn" | "Exists" | "DoesNotExist";
        readonly values?: readonly string[];
    }[];
}

/** Label selector semantics as the API server applies them (k8s.io/apimachinery labels.Selector). */
export function selectorMatches(selector: LabelSelector, labels: Readonly<Record<string, string>>): boolean {
    for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
    for (const e of selector.matchExpressions ?? []) {
        const has = Object.prototype.hasOwnProperty.call(labels, e.key);
        const values = e.values ?? [];
        switch (e.operator) {
            case "In":
                if (!has || !values.includes(labels[e.key])) return false;
                break;
            case "NotIn":
                // A missing label satisfies NotIn.
                if (has && values.includes(labels[e.key])) return false;
                break;
            case "Exists":
                if (!has) return false;
                break;
            case "DoesNotExist":
                if (has) return false;
                break;
            default:
                throw new Error(`unknown label selector operator "${(e as { operator: string }).operator}"`);
        }
    }
    return true;
}

/** An object read from elsewhere (YAML, a cluster, Pulumi props): nothing about its shape is known. */
export type Obj = Record<string, unknown>;

/** Helm hook annotation (`test`, `pre-install`, … comma-separated): Helm waits for hook Pods and Jobs to complete. */
export const HELM_HOOK_ANNOTATION = "helm.sh/hook";

export function isObj(v: unknown): v is Obj {
    return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function str(v: unknown): string | undefined {
    return typeof v === "string" ? v : undefined;
}

/** Read a nested field; returns undefined as soon as a level is missing or not an object. */
export function get(o: unknown, ...path: (string | number)[]): unknown {
    let cur: unknown = o;
    for (const p of path) {
        if (cur === null || cur === undefined || typeof cur !== "object") return undefined;
        cur = (cur as Record<string | number, unknown>)[p];
    }
    return cur;
}

/** The object at a path, or undefined when it is missing or not an object. */
export function objAt(o: unknown, ...path: (string | number)[]): Obj | undefined {
    const v = get(o, ...path);
    return isObj(v) ? v : undefined;
}

/** The list at a path ([] when missing or not a list). */
export function listAt(o: unknown, ...path: (string | number)[]): unknown[] {
    const v = get(o, ...path);
    return Array.isArray(v) ? (v as unknown[]) : [];
}

/** The number at a path, or undefined. */
export function numAt(o: unknown, ...path: (string | number)[]): number | undefined {
    const v = get(o, ...path);
    return typeof v === "number" ? v : undefined;
}

/** The string values of the map at a path (a ConfigMap's `data`, a labels map), or undefined when there is no map. */
export function stringMapAt(o: unknown, ...path: (string | number)[]): Record<string, string> | undefined {
    const v = objAt(o, ...path);
    if (!v) return undefined;
    return Object.fromEntries(Object.entries(v).filter((e): e is [string, string] => typeof e[1] === "string"));
}

export function annotation(meta: unknown, key: string): string | undefined {
    const v = get(meta, "annotations", key);
    // Annotations are strings in Kubernetes; YAML may have parsed `true` etc. Normalise scalars.
    if (typeof v === "string") return v;
    if (typeof v === "boolean" || typeof v === "number") return String(v);
    return undefined;
}

export function label(meta: unknown, key: string): string | undefined {
    const v = get(meta, "labels", key);
    if (typeof v === "string") return v;
    if (typeof v === "boolean" || typeof v === "number") return String(v);
    return undefined;
}

/** The object's kind, or "?" when it has none (for messages). */
export function kindOf(o: Obj): string {
    return str(o.kind) ?? "?";
}

/** A scalar as text (a port number, a YAML 1.1 boolean), or undefined for anything else. */
export function scalarText(v: unknown): string | undefined {
    return typeof v === "string" || typeof v === "number" || typeof v === "boolean" ? String(v) : undefined;
}

/** apiVersion group ("" for core). */
export function apiGroup(apiVersion: unknown): string {
    const s = str(apiVersion) ?? "";
    const i = s.indexOf("/");
    return i < 0 ? "" : s.slice(0, i);
}

/** Kinds whose pods the rules look at, with where their pod template lives. */
export const WORKLOAD_KINDS = ["Pod", "Deployment", "DaemonSet", "StatefulSet", "ReplicaSet", "Job", "CronJob"] as const;
export type WorkloadKind = (typeof WORKLOAD_KINDS)[number];

export function isWorkloadKind(kind: unknown): kind is WorkloadKind {
    return typeof kind === "string" && (WORKLOAD_KINDS as readonly string[]).includes(kind);
}

/** The pod template (metadata + spec) of a workload object, or undefined for other kinds. */
export interface PodTemplate {
    metadata: Obj | undefined;
    spec: Obj | undefined;
    /** Human-readable path of the template inside the object, for messages. */
    path: string;
}

export function podTemplate(o: Obj): PodTemplate | undefined {
    const kind = o.kind;
    if (kind === "Pod") return { metadata: objAt(o, "metadata"), spec: objAt(o, "spec"), path: "" };
    if (kind === "CronJob") {
        const t = get(o, "spec", "jobTemplate", "spec", "template");
        return { metadata: objAt(t, "metadata"), spec: objAt(t, "spec"), path: "spec.jobTemplate.spec.template" };
    }
    if (isWorkloadKind(kind)) {
        const t = get(o, "spec", "template");
        return { metadata: objAt(t, "metadata"), spec: objAt(t, "spec"), path: "spec.template" };
    }
    return undefined;
}

/** The object's name (its generateName when it has none yet, as in a manifest), or "<unnamed>". */
export function nameOf(o: Obj): string {
    return str(get(o, "metadata", "name")) ?? str(get(o, "metadata", "generateName")) ?? "<unnamed>";
}

/** The object's namespace, or `defaultNamespace` when it sets none ("" for cluster-scoped objects read from a cluster). */
export function namespaceOf(o: Obj, defaultNamespace = ""): string {
    return str(get(o, "metadata", "namespace")) ?? defaultNamespace;
}

/** The object's labels (only string values). */
export function labelsOf(o: unknown): Record<string, string> {
    const labels = get(o, "metadata", "labels");
    if (!isObj(labels)) return {};
    return Object.fromEntries(Object.entries(labels).filter((e): e is [string, string] => typeof e[1] === "string"));
}

/** Containers of a pod spec (containers and initContainers), with their field path. */
export function containers(spec: Obj | undefined): { c: Obj; field: string }[] {
    const out: { c: Obj; field: string }[] = [];
    for (const field of ["initContainers", "containers"]) {
        const list = get(spec, field);
        if (Array.isArray(list)) for (const c of list) if (isObj(c)) out.push({ c, field });
    }
    return out;
}

/** `a.b.c` style path for an annotation on a pod template, for fix messages. */
export function templateAnnotationPath(t: PodTemplate): string {
    return t.path ? `${t.path}.metadata.annotations` : "metadata.annotations";
}
