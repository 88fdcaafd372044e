/**
 * Small helpers over plain Kubernetes objects (as parsed from YAML, or as Pulumi resource props).
 *
 * Everything here reads only the fields it needs, one at a time: under CrossGuard the props are a proxy
 * that throws when an unknown (preview-time) value is read, so touching less means running more often.
 */

export type Obj = Record<string, any>;

export { ADMISSION_WEBHOOKS_LABEL, INJECT_ANNOTATION } from "../../lib/k8s";
export { INJECTOR_EXCLUDED_NAMESPACES } from "../../lib/injector";

/** Helm hook annotation (`test`, `pre-install`, … comma-separated): Helm waits for hook Pods and Jobs to complete. */
export const HELM_HOOK_ANNOTATION = "helm.sh/hook";

export function isObj(v: unknown): v is Obj {
    return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function str(v: unknown): string | undefined {
    return typeof v === "string" ? v : undefined;
}

/** Read a nested field; returns undefined as soon as a level is missing or not an object. */
export function get(o: unknown, ...path: (string | number)[]): any {
    let cur: any = o;
    for (const p of path) {
        if (cur === null || cur === undefined || typeof cur !== "object") return undefined;
        cur = cur[p];
    }
    return cur;
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
    if (kind === "Pod") return { metadata: o.metadata, spec: o.spec, path: "" };
    if (kind === "CronJob") {
        const t = get(o, "spec", "jobTemplate", "spec", "template");
        return { metadata: get(t, "metadata"), spec: get(t, "spec"), path: "spec.jobTemplate.spec.template" };
    }
    if (isWorkloadKind(kind)) {
        const t = get(o, "spec", "template");
        return { metadata: get(t, "metadata"), spec: get(t, "spec"), path: "spec.template" };
    }
    return undefined;
}

export function name(o: Obj): string {
    return str(get(o, "metadata", "name")) ?? str(get(o, "metadata", "generateName")) ?? "<unnamed>";
}

export function namespaceOf(o: Obj, defaultNamespace: string): string {
    return str(get(o, "metadata", "namespace")) ?? defaultNamespace;
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
