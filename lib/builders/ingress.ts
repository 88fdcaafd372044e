/**
 * Ingress controller integration with Linkerd (guide: "Configure Ingress Controller").
 *
 * Pure builders: plain Kubernetes objects and annotation maps, no Pulumi resources, so the viz
 * dashboard, the tests and any other component can reuse them.
 *
 * - Traefik (installed by the program in its own namespace, not k3s' bundled one in kube-system, which the
 *   proxy injector never sees): meshed in *ingress* mode with outbound port 443 skipped (`traefikValues`), and every route to a meshed Service goes through a Middleware that
 *   sets `l5d-dst-override` to the Service's cluster DNS name and port (`l5dDstOverrideMiddleware`).
 * - ingress-nginx: the controller is meshed normally through the chart's `controller.podAnnotations`
 *   (see lib/builders/meshing.ts), and each Ingress carries
 *   `nginx.ingress.kubernetes.io/service-upstream: "true"` (`withNginxServiceUpstream`).
 */
import type { ChartSource } from "../charts";
import { INJECT_ANNOTATION, KubeObject, SKIP_OUTBOUND_PORTS_ANNOTATION } from "../k8s";
import type { ChartRef } from "../release";

/** Traefik's CRD group: "traefik.io" (Traefik v3) or "traefik.containo.us" (v2, chart <= 27). */
export type TraefikApiGroup = "traefik.io" | "traefik.containo.us";

/** The ingress controller the program meshes (guide "Configure Ingress Controller"). */
export type IngressController =
    | { readonly controller: "none" }
    | {
          readonly controller: "traefik";
          readonly apiGroup: TraefikApiGroup;
          /** Install Traefik's chart (meshed) in `namespace`; false: someone else runs it there. */
          readonly install: boolean;
          /** Namespace Traefik runs in: one the proxy injector sees. */
          readonly namespace: string;
          /** Where the Traefik chart comes from, and its version (used when `install`). */
          readonly chartSource: ChartSource;
          readonly chart: ChartRef;
          /** More Traefik chart values. */
          readonly extraValues: Readonly<Record<string, unknown>>;
      }
    | {
          readonly controller: "nginx";
          /** IngressClass of ingress-nginx. */
          readonly ingressClassName: string;
      };

export const TRAEFIK_NAMESPACE = "traefik";
export const TRAEFIK_RELEASE_NAME = "traefik";

export const TRAEFIK_MIDDLEWARES_ANNOTATION = "traefik.ingress.kubernetes.io/router.middlewares";
export const NGINX_SERVICE_UPSTREAM_ANNOTATION = "nginx.ingress.kubernetes.io/service-upstream";
export const L5D_DST_OVERRIDE_HEADER = "l5d-dst-override";

/** The Service a route sends traffic to. */
export interface ServiceTarget {
    /** Service name. */
    readonly name: string;
    /** Service namespace; the Middleware is created there too (the guide keeps them together). */
    readonly namespace: string;
    /** Service port (number) the route targets. */
    readonly port: number;
    /** Cluster DNS domain. @default "cluster.local" (config: picluster-linkerd:linkerd.clusterDomain) */
    readonly clusterDomain?: string;
    /** Traefik CRD group. @default "traefik.io" (config: picluster-linkerd:ingress.traefik.apiGroup) */
    readonly apiGroup?: TraefikApiGroup;
    /** Middleware name. @default "l5d-header-<service name>" (the guide's single "l5d-header-middleware", made unique per Service) */
    readonly middlewareName?: string;
}

export interface TraefikMiddleware {
    readonly apiVersion: string;
    readonly kind: "Middleware";
    readonly metadata: { readonly name: string; readonly namespace: string };
    readonly spec: { readonly headers: { readonly customRequestHeaders: Readonly<Record<string, string>> } };
}

export interface L5dDstOverride {
    /** The Middleware object (guide: "Step 1: Create Middleware routing for providing l5d-dst-override HTTP header"). */
    readonly middleware: TraefikMiddleware;
    /** `<namespace>-<name>@kubernetescrd`: the Ingress annotation's value (guide: "Step 2", Ingress form). */
    readonly middlewareRef: string;
    /** `{ "traefik.ingress.kubernetes.io/router.middlewares": middlewareRef }`, ready to spread into an Ingress's annotations. */
    readonly ingressAnnotations: Readonly<Record<string, string>>;
    /** An entry of an IngressRoute route's `middlewares` list (guide: "Step 2", IngressRoute form). */
    readonly ingressRouteMiddleware: { readonly name: string; readonly namespace: string };
    /** The header value: `<service>.<namespace>.svc.<cluster domain>:<port>`. */
    readonly destination: string;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

function requireLabel(what: string, value: string): void {
    if (!DNS_LABEL.test(value))
        throw new Error(`${what} "${value}" is not a DNS-1123 label (lower-case letters, digits and '-', at most 63 characters)`);
}

/** `<ns>-<name>@kubernetescrd`: how a Traefik Ingress annotation names a Middleware CRD object. */
export function traefikMiddlewareRef(namespace: string, name: string): string {
    return `${namespace}-${name}@kubernetescrd`;
}

/** The `router.middlewares` annotation value for several Middlewares, applied in order. */
export function traefikMiddlewaresAnnotationValue(refs: readonly string[]): string {
    return refs.join(",");
}

/**
 * The l5d-dst-override Middleware for one Service (guide: "Meshing Traefik", "Replace Traefik routing
 * and load-balancing mechanism"). Traefik's own header middleware overwrites any client-supplied
 * l5d-dst-override, so a client cannot pick another in-cluster destination (linkerd2 #13014).
 */
export function l5dDstOverrideMiddleware(service: ServiceTarget): L5dDstOverride {
    const clusterDomain = service.clusterDomain ?? "cluster.local";
    const apiGroup = service.apiGroup ?? "traefik.io";
    const name = service.middlewareName ?? `l5d-header-${service.name}`;
    requireLabel("Service name", service.name);
    requireLabel("Service namespace", service.namespace);
    requireLabel("Middleware name", name);
    if (!Number.isInteger(service.port) || service.port < 1 || service.port > 65535) {
        throw new Error(`Service port ${service.port} of ${service.namespace}/${service.name} is not a port number (1-65535)`);
    }
    const destination = `${service.name}.${service.namespace}.svc.${clusterDomain}:${service.port}`;
    const middlewareRef = traefikMiddlewareRef(service.namespace, name);
    return {
        middleware: {
            apiVersion: `${apiGroup}/v1alpha1`,
            kind: "Middleware",
            metadata: { name, namespace: service.namespace },
            spec: { headers: { customRequestHeaders: { [L5D_DST_OVERRIDE_HEADER]: destination } } },
        },
        middlewareRef,
        ingressAnnotations: { [TRAEFIK_MIDDLEWARES_ANNOTATION]: middlewareRef },
        ingressRouteMiddleware: { name, namespace: service.namespace },
        destination,
    };
}

/** Traefik chart values that mesh it in ingress mode and let it reach the API server on 443 (guide: "Meshing Traefik"). */
export function traefikMeshValues(): { deployment: { podAnnotations: Record<string, string> } } {
    return {
        deployment: {
            podAnnotations: {
                [INJECT_ANNOTATION]: "ingress",
                [SKIP_OUTBOUND_PORTS_ANNOTATION]: "443",
            },
        },
    };
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
    return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Deep merge of plain objects; `over` wins on conflicts; arrays and scalars are replaced. */
export function deepMerge(base: Readonly<Record<string, unknown>>, over: Readonly<Record<string, unknown>>): Record<string, unknown> {
    const out: Record<string, unknown> = { ...base };
    for (const [k, v] of Object.entries(over)) {
        out[k] = isPlainObject(out[k]) && isPlainObject(v) ? deepMerge(out[k], v) : v;
    }
    return out;
}

/**
 * Values of the Traefik chart the program installs: the user's `extraValues` with the mesh annotations
 * on top (guide: "Meshing Traefik", the Helm-values alternative to `linkerd inject --ingress`).
 */
export function traefikValues(extraValues: Readonly<Record<string, unknown>> = {}): Record<string, unknown> {
    return deepMerge(extraValues, traefikMeshValues());
}

/**
 * Traefik's namespace. Not annotated for injection: only Traefik's pods are meshed, in ingress mode,
 * by their own annotations; the namespace must merely be one the proxy injector sees.
 */
export function traefikNamespace(namespace: string): KubeObject {
    return { apiVersion: "v1", kind: "Namespace", metadata: { name: namespace } };
}

/** Ingress metadata with `nginx.ingress.kubernetes.io/service-upstream: "true"` added (guide: "Meshing Ingress NGINX"). */
export function withNginxServiceUpstream<T extends { metadata?: { annotations?: Record<string, string> } }>(
    ingress: T,
): T & { metadata: NonNullable<T["metadata"]> & { annotations: Record<string, string> } } {
    return {
        ...ingress,
        metadata: {
            ...(ingress.metadata ?? {}),
            annotations: { ...(ingress.metadata?.annotations ?? {}), [NGINX_SERVICE_UPSTREAM_ANNOTATION]: "true" },
        },
    };
}

/** ingress-nginx chart values that mesh the controller (not its namespace: the chart's admission Jobs must stay unmeshed). */
export function nginxControllerMeshValues(): { controller: { podAnnotations: Record<string, string> } } {
    return { controller: { podAnnotations: { [INJECT_ANNOTATION]: "enabled" } } };
}
