/**
 * Rule — Traefik routes to meshed services need an l5d-dst-override Middleware.
 *
 * Guide, "Configure Ingress Controller / Meshing Traefik": Traefik is meshed in ingress mode
 * (`linkerd.io/inject: ingress`); the proxy then routes each request by the `l5d-dst-override` header, falling back
 * to `:authority`/`Host`. A route without a Middleware that sets the header (which overwrites any client-supplied
 * one) lets a client pick any in-cluster destination by sending its own header: an open relay (linkerd2 #13014).
 *
 * Also the guide's NGINX variant: NGINX Ingresses to meshed services need
 * `nginx.ingress.kubernetes.io/service-upstream: "true"` so Linkerd sees the Service, not pod IPs.
 */
import { RuleContext, meshedNamespace, middlewareKey } from "./context";
import { injectionFor } from "./injection";
import {
    INJECT_ANNOTATION,
    Obj,
    annotation,
    apiGroup,
    containers,
    get,
    isObj,
    label,
    namespaceOf,
    podTemplate,
    str,
    kindOf,
    scalarText,
} from "../../lib/k8s";
import { Rule } from "./types";

export const TRAEFIK_RULE = "linkerd-traefik-dst-override";
export const NGINX_RULE = "linkerd-nginx-service-upstream";

export const ROUTER_MIDDLEWARES = "traefik.ingress.kubernetes.io/router.middlewares";
const INGRESS_CLASS_ANNOTATION = "kubernetes.io/ingress.class";
const DST_HEADER = "l5d-dst-override";

interface Backend {
    service: string;
    namespace: string;
    port?: string;
}

function meshedNs(ctx: RuleContext, ns: string): string | undefined {
    return meshedNamespace(ctx, ns)?.source;
}

/** The l5d-dst-override value a Middleware object sets, if any. */
function dstOverrideOf(mw: Obj): string | undefined {
    const h = get(mw, "spec", "headers", "customRequestHeaders");
    if (!isObj(h)) return undefined;
    for (const k of Object.keys(h)) if (k.toLowerCase() === DST_HEADER) return str(h[k]) || undefined;
    return undefined;
}

/** Does the header value point at this backend (service.namespace.svc[.cluster.local][:port])? */
function pointsAt(value: string, b: Backend): boolean {
    const host = value.trim().replace(/:\d+$/, "").toLowerCase();
    const svc = `${b.service}.${b.namespace}`.toLowerCase();
    return host === svc || host === `${svc}.svc` || host.startsWith(`${svc}.svc.`);
}

type MwRef = { key?: string; label: string; mw?: Obj };

function checkBackends(kind: string, backends: Backend[], refs: MwRef[], ctx: RuleContext, howToAttach: string): string[] {
    const out: string[] = [];
    for (const b of backends) {
        const src = meshedNs(ctx, b.namespace);
        if (!src) continue;
        const target = `${b.service}.${b.namespace}.svc.cluster.local${b.port ? `:${b.port}` : ""}`;
        const known = refs.filter((r) => r.mw !== undefined);
        const setting = known.map((r) => ({ r, v: dstOverrideOf(r.mw!) })).filter((x) => x.v !== undefined);
        const trusted = refs.filter((r) => r.mw === undefined && isTrustedExternal(r, ctx));
        if (setting.length === 0 && trusted.length === 0) {
            out.push(
                `${kind} routes to service ${b.service} in meshed namespace "${b.namespace}" (${src}) through Traefik in ingress mode ` +
                    `without a Middleware setting ${DST_HEADER}: a client can send its own ${DST_HEADER} header and reach any in-cluster ` +
                    `service (open relay, linkerd2 #13014). Fix: create a Traefik Middleware with ` +
                    `spec.headers.customRequestHeaders.${DST_HEADER}: "${target}" and ${howToAttach}.`,
            );
            continue;
        }
        for (const { r, v } of setting) {
            if (!pointsAt(v!, b)) {
                out.push(
                    `${kind} routes to service ${b.service}.${b.namespace} but its Middleware ${r.label} sets ${DST_HEADER}: "${v}", ` +
                        `so Linkerd sends the traffic elsewhere. Fix: point it at "${target}" (one Middleware per backend service).`,
                );
            }
        }
    }
    return out;
}

/** Middlewares defined outside the input: trusted if listed in config or named like an l5d header middleware. */
function isTrustedExternal(r: MwRef, ctx: RuleContext): boolean {
    if (r.key && ctx.traefik.externalDstOverrideMiddlewares.includes(r.key)) return true;
    if (ctx.traefik.externalDstOverrideMiddlewares.includes(r.label)) return true;
    return /l5d/i.test(r.label);
}

function checkIngressRoute(o: Obj, ctx: RuleContext): string[] {
    const ns = namespaceOf(o, ctx.defaultNamespace);
    const routes = get(o, "spec", "routes");
    if (!Array.isArray(routes)) return [];
    const out: string[] = [];
    routes.forEach((route: unknown, i: number) => {
        const backends: Backend[] = [];
        const services = get(route, "services");
        if (Array.isArray(services)) {
            for (const s of services) {
                const kind = str(get(s, "kind")) ?? "Service";
                const n = str(get(s, "name"));
                if (kind !== "Service" || !n) continue;
                const port = get(s, "port");
                backends.push({ service: n, namespace: str(get(s, "namespace")) ?? ns, port: scalarText(port) });
            }
        }
        const refs: MwRef[] = [];
        const mws = get(route, "middlewares");
        if (Array.isArray(mws)) {
            for (const m of mws) {
                const n = str(get(m, "name"));
                if (!n) continue;
                if (n.includes("@")) {
                    refs.push(resolveAnnotationRef(n, ctx)); // "ns-name@kubernetescrd" form
                    continue;
                }
                const key = middlewareKey(str(get(m, "namespace")) ?? ns, n);
                refs.push({ key, label: key, mw: ctx.middlewares.get(key) });
            }
        }
        const msgs = checkBackends(
            `IngressRoute route ${i} (${str(get(route, "match")) ?? "?"})`,
            backends,
            refs,
            ctx,
            `list it under spec.routes[${i}].middlewares`,
        );
        out.push(...msgs);
    });
    return out;
}

/** "<namespace>-<name>@kubernetescrd" → a known Middleware, if one matches. */
function resolveAnnotationRef(ref: string, ctx: RuleContext): MwRef {
    const bare = ref.trim().replace(/@kubernetescrd$/, "");
    for (const [key, mw] of ctx.middlewares) {
        const [mns, mname] = key.split("/");
        if (`${mns}-${mname}` === bare) return { key, label: key, mw };
    }
    return { label: ref.trim() };
}

export function isTraefikIngress(o: Obj, ctx: RuleContext): boolean {
    const cls = str(get(o, "spec", "ingressClassName")) ?? annotation(get(o, "metadata"), INGRESS_CLASS_ANNOTATION);
    if (cls !== undefined) return ctx.traefik.ingressClasses.includes(cls);
    const anns = get(o, "metadata", "annotations");
    const hasTraefikAnn = isObj(anns) && Object.keys(anns).some((k) => k.startsWith("traefik.ingress.kubernetes.io/"));
    return hasTraefikAnn || ctx.traefik.defaultClassIsTraefik;
}

function ingressBackends(o: Obj, ns: string): Backend[] {
    const out: Backend[] = [];
    const push = (b: unknown) => {
        const n = str(get(b, "service", "name"));
        if (!n) return;
        const p = get(b, "service", "port", "number") ?? get(b, "service", "port", "name");
        out.push({ service: n, namespace: ns, port: scalarText(p) });
    };
    push(get(o, "spec", "defaultBackend"));
    const rules = get(o, "spec", "rules");
    if (Array.isArray(rules)) {
        for (const r of rules) {
            const paths = get(r, "http", "paths");
            if (Array.isArray(paths)) for (const p of paths) push(get(p, "backend"));
        }
    }
    return out;
}

function checkIngress(o: Obj, ctx: RuleContext): string[] {
    if (!isTraefikIngress(o, ctx)) return [];
    const ns = namespaceOf(o, ctx.defaultNamespace);
    const ann = annotation(get(o, "metadata"), ROUTER_MIDDLEWARES);
    const refs = (ann ?? "")
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean)
        .map((r) => resolveAnnotationRef(r, ctx));
    return checkBackends(
        "Ingress",
        ingressBackends(o, ns),
        refs,
        ctx,
        `reference it in the annotation ${ROUTER_MIDDLEWARES}: "<namespace>-<middleware>@kubernetescrd"`,
    );
}

export const traefikRule: Rule = {
    name: TRAEFIK_RULE,
    description:
        "Traefik (ingress mode) routes to meshed services must use a Middleware setting l5d-dst-override, or clients can reach any service (linkerd2 #13014).",
    defaultEnforcement: "advisory",
    check(o: Obj, ctx: RuleContext): string[] {
        if (!ctx.traefik.ingressMode) return [];
        const group = apiGroup(o.apiVersion);
        if (o.kind === "IngressRoute" && (group === "traefik.io" || group === "traefik.containo.us")) return checkIngressRoute(o, ctx);
        if (o.kind === "Ingress" && group === "networking.k8s.io") return checkIngress(o, ctx);
        return [];
    },
};

export const nginxRule: Rule = {
    name: NGINX_RULE,
    description: 'NGINX Ingresses to meshed services need nginx.ingress.kubernetes.io/service-upstream: "true".',
    defaultEnforcement: "advisory",
    check(o: Obj, ctx: RuleContext): string[] {
        if (o.kind !== "Ingress" || apiGroup(o.apiVersion) !== "networking.k8s.io") return [];
        const cls = str(get(o, "spec", "ingressClassName")) ?? annotation(get(o, "metadata"), INGRESS_CLASS_ANNOTATION);
        if (cls !== "nginx") return [];
        if (annotation(get(o, "metadata"), "nginx.ingress.kubernetes.io/service-upstream") === "true") return [];
        const ns = namespaceOf(o, ctx.defaultNamespace);
        const meshed = ingressBackends(o, ns).filter((b) => meshedNs(ctx, b.namespace));
        if (meshed.length === 0) return [];
        return [
            `NGINX Ingress routes to ${meshed.map((b) => b.service).join(", ")} in meshed namespace "${ns}" without ` +
                `nginx.ingress.kubernetes.io/service-upstream: "true": NGINX balances over pod IPs itself, so Linkerd cannot apply ` +
                `per-request load balancing, retries or route metrics (guide: "Meshing Ingress NGINX"). Fix: add that annotation.`,
        ];
    },
};

const TRAEFIK_IMAGE = /(^|\/)traefik(:|@|$)/;

/** Deployments and DaemonSets that run Traefik (its image, or the chart's app.kubernetes.io/name label). */
function isTraefikWorkload(o: Obj): boolean {
    if (o.kind !== "Deployment" && o.kind !== "DaemonSet") return false;
    const t = podTemplate(o);
    if (label(get(t, "metadata"), "app.kubernetes.io/name") === "traefik") return true;
    return containers(t?.spec).some((x) => TRAEFIK_IMAGE.test(str(x.c.image) ?? ""));
}

/**
 * What Traefik workloads in the same input say about the l5d-dst-override rule: the open relay exists only when
 * Traefik itself carries the proxy in ingress mode. When the input runs Traefik and none of it is injected in ingress
 * mode, the rule does not apply to this input: `ingressMode` false, with the reason for a note. Undefined when the
 * input runs no Traefik (the configured setting stands).
 */
export function traefikIngressModeFromInput(objects: readonly Obj[], ctx: RuleContext): { ingressMode: boolean; note: string } | undefined {
    const traefiks = objects.filter(isTraefikWorkload);
    if (traefiks.length === 0) return undefined;
    const described = traefiks.map((o) => {
        const ns = namespaceOf(o, ctx.defaultNamespace);
        const t = podTemplate(o)!;
        const inj = injectionFor(t, ns, ctx);
        const value = annotation(t.metadata, INJECT_ANNOTATION) ?? ctx.namespaces.get(ns)?.value;
        return {
            id: `${kindOf(o)}/${ns}/${str(get(o, "metadata", "name")) ?? "?"}`,
            ingress: inj.injected && value === "ingress",
            reason: inj.reason,
        };
    });
    const meshed = described.filter((d) => d.ingress);
    if (meshed.length > 0) {
        return {
            ingressMode: true,
            note: `Traefik in the input (${meshed.map((d) => d.id).join(", ")}) carries the proxy in ingress mode: its routes are checked`,
        };
    }
    return {
        ingressMode: false,
        note:
            `Traefik in the input (${described.map((d) => `${d.id}: ${d.reason}`).join("; ")}) does not carry the Linkerd proxy in ingress mode, ` +
            `so nothing routes by l5d-dst-override and ${TRAEFIK_RULE} does not apply to its routes (mesh it with ${INJECT_ANNOTATION}: ingress to be checked)`,
    };
}
