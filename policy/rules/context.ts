import { ADMISSION_WEBHOOKS_LABEL, INJECT_ANNOTATION, Obj, annotation, get, label, str } from "../../lib/k8s";
import { INJECTOR_EXCLUDED_NAMESPACES, injectorSkips } from "../../lib/injector";
import { injectValueMeshes } from "../../lib/k8s";
import { ReleaseFacts, releaseFacts } from "./release";

/** Why a namespace is meshed (or explicitly not), for messages. */
export interface NamespaceMeshInfo {
    meshed: boolean;
    /** The inject annotation value, e.g. "enabled". */
    value?: string;
    /** Where we learned it: "Namespace monitoring", "NamespacePatch logging-mesh", "pack config". */
    source: string;
    /** Labelled config.linkerd.io/admission-webhooks: disabled: the injector never sees the namespace's pods. */
    webhooksDisabled?: boolean;
}

export interface TraefikSettings {
    /** Traefik is meshed in ingress mode (`linkerd.io/inject: ingress`), as the guide does. */
    ingressMode: boolean;
    /** Ingress classes served by Traefik. */
    ingressClasses: string[];
    /** Ingresses without a class are served by Traefik (k3s makes Traefik the default class). */
    defaultClassIsTraefik: boolean;
    /** Middlewares ("namespace/name") defined outside what the rules can see that set l5d-dst-override. */
    externalDstOverrideMiddlewares: string[];
}

export interface RuleContext {
    /** Namespaces with a known injection setting, keyed by name. */
    namespaces: Map<string, NamespaceMeshInfo>;
    release: ReleaseFacts;
    /** Namespace of objects that do not say (kubectl/Pulumi provider default). */
    defaultNamespace: string;
    /** Traefik Middlewares visible to the rules, keyed "namespace/name". */
    middlewares: Map<string, Obj>;
    traefik: TraefikSettings;
}

export const DEFAULT_TRAEFIK: TraefikSettings = {
    ingressMode: true,
    ingressClasses: ["traefik"],
    defaultClassIsTraefik: true,
    externalDstOverrideMiddlewares: [],
};

export function emptyContext(partial: Partial<RuleContext> = {}): RuleContext {
    return {
        namespaces: partial.namespaces ?? new Map<string, NamespaceMeshInfo>(),
        release: partial.release ?? releaseFacts(),
        defaultNamespace: partial.defaultNamespace ?? "default",
        middlewares: partial.middlewares ?? new Map<string, Obj>(),
        traefik: partial.traefik ?? { ...DEFAULT_TRAEFIK },
    };
}

export { injectValueMeshes };

/**
 * What a Namespace (or NamespacePatch) object says about injection, or undefined if it says nothing.
 * The proxy injector's webhook ignores namespaces labelled `config.linkerd.io/admission-webhooks: disabled`.
 */
export function namespaceMeshInfo(o: Obj, source: string): { name: string; info: NamespaceMeshInfo } | undefined {
    const meta = get(o, "metadata");
    const name = str(get(meta, "name"));
    if (!name) return undefined;
    const value = annotation(meta, INJECT_ANNOTATION);
    const webhooksOff = label(meta, ADMISSION_WEBHOOKS_LABEL) === "disabled";
    if (value === undefined && !webhooksOff) return undefined;
    if (webhooksOff)
        return { name, info: { meshed: false, value, webhooksDisabled: true, source: `${source} (label ${ADMISSION_WEBHOOKS_LABEL}: disabled)` } };
    return { name, info: { meshed: injectValueMeshes(value), value, source } };
}

/** Record a namespace setting; later records (patches) win over earlier ones, as server-side apply would. */
export function addNamespace(ctx: RuleContext, name: string, info: NamespaceMeshInfo): void {
    ctx.namespaces.set(name, info);
}

/**
 * Why Linkerd's proxy injector never sees pods of this namespace, or undefined when it does. The chart's
 * proxyInjector.namespaceSelector excludes kube-system and cert-manager by name and any namespace labelled
 * config.linkerd.io/admission-webhooks: disabled (lib/injector.ts).
 */
export function injectorBlindSpot(ctx: RuleContext, namespace: string): string | undefined {
    const info = ctx.namespaces.get(namespace);
    const skip = injectorSkips(namespace, info?.webhooksDisabled ? { [ADMISSION_WEBHOOKS_LABEL]: "disabled" } : {});
    if (skip === "name") {
        return (
            `Linkerd's proxy injector never sees namespace "${namespace}" (every control-plane chart since 2.12 excludes ` +
            `${INJECTOR_EXCLUDED_NAMESPACES.join(" and ")} in proxyInjector.namespaceSelector; linkerd2 #11104)`
        );
    }
    if (skip === "labels") return `Linkerd's admission webhooks, the proxy injector among them, skip namespace "${namespace}" (${info?.source})`;
    return undefined;
}

/** The namespace's mesh info when its pods get the proxy by default (meshed and seen by the injector). */
export function meshedNamespace(ctx: RuleContext, namespace: string): NamespaceMeshInfo | undefined {
    const info = ctx.namespaces.get(namespace);
    return info?.meshed && injectorBlindSpot(ctx, namespace) === undefined ? info : undefined;
}

export function addConfiguredMeshedNamespaces(ctx: RuleContext, names: readonly string[], source = "pack config (meshedNamespaces)"): void {
    for (const n of names) if (!ctx.namespaces.has(n)) ctx.namespaces.set(n, { meshed: true, value: "enabled", source });
}

export function middlewareKey(namespace: string, name: string): string {
    return `${namespace}/${name}`;
}

export function isTraefikMiddleware(o: Obj): boolean {
    const av = str(o.apiVersion) ?? "";
    return o.kind === "Middleware" && (av.startsWith("traefik.io/") || av.startsWith("traefik.containo.us/"));
}

/**
 * Build a context from a set of plain objects: Namespaces carrying the inject annotation count as meshed,
 * Traefik Middlewares are indexed. Used by the manifest checker; the policy pack builds its context from
 * stack resources the same way.
 */
export function contextFromObjects(objects: Obj[], base: RuleContext): RuleContext {
    const ctx: RuleContext = { ...base, namespaces: new Map(base.namespaces), middlewares: new Map(base.middlewares) };
    // Objects in the input override configured namespaces: the input is what will be applied.
    for (const o of objects) {
        if (o.kind === "Namespace" && (o.apiVersion === "v1" || o.apiVersion === undefined)) {
            const r = namespaceMeshInfo(o, `Namespace ${str(get(o, "metadata", "name"))}`);
            if (r) addNamespace(ctx, r.name, r.info);
        }
        if (isTraefikMiddleware(o)) {
            const n = str(get(o, "metadata", "name"));
            if (n) ctx.middlewares.set(middlewareKey(str(get(o, "metadata", "namespace")) ?? ctx.defaultNamespace, n), o);
        }
    }
    return ctx;
}
