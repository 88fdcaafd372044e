/**
 * Ingress controller integration with Linkerd (guide: "Configure Ingress Controller").
 *
 * Pure builders: plain Kubernetes objects and annotation maps, no Pulumi resources, so the viz
 * dashboard, the tests and any other component can reuse them.
 *
 * - Traefik (k3s' bundled controller): meshed in *ingress* mode with outbound port 443 skipped
 *   (`traefikHelmChartConfig`), and every route to a meshed Service goes through a Middleware that
 *   sets `l5d-dst-override` to the Service's cluster DNS name and port (`l5dDstOverrideMiddleware`).
 * - ingress-nginx: the controller is meshed normally through the chart's `controller.podAnnotations`
 *   (see lib/builders/meshing.ts), and each Ingress carries
 *   `nginx.ingress.kubernetes.io/service-upstream: "true"` (`withNginxServiceUpstream`).
 */
import { stringify as stringifyYaml } from "yaml";
import { INJECT_ANNOTATION, KUBE_SYSTEM_NAMESPACE, SKIP_OUTBOUND_PORTS_ANNOTATION } from "../k8s";

/** Traefik's CRD group: "traefik.io" (Traefik v3) or "traefik.containo.us" (v2, chart <= 27). */
export type TraefikApiGroup = "traefik.io" | "traefik.containo.us";

/** The ingress controller the program meshes (guide "Configure Ingress Controller"). */
export type IngressController =
    | { readonly controller: "none" }
    | {
          readonly controller: "traefik";
          readonly apiGroup: TraefikApiGroup;
          /** Configure k3s' bundled Traefik through a HelmChartConfig. */
          readonly manageK3sHelmChartConfig: boolean;
          /** Namespace of the k3s Traefik HelmChart. */
          readonly namespace: string;
          /** More Traefik chart values for the managed HelmChartConfig. */
          readonly extraValues: Readonly<Record<string, unknown>>;
      }
    | {
          readonly controller: "nginx";
          /** IngressClass of ingress-nginx. */
          readonly ingressClassName: string;
      };

export const INGRESS_DEFAULTS = {
    traefik: { apiGroup: "traefik.io", manageK3sHelmChartConfig: true, namespace: KUBE_SYSTEM_NAMESPACE, extraValues: {} },
    nginx: { ingressClassName: "nginx" },
} as const;
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
        out[k] = isPlainObject(out[k]) && isPlainObject(v) ? deepMerge(out[k] as Record<string, unknown>, v) : v;
    }
    return out;
}

export interface HelmChartConfig {
    readonly apiVersion: "helm.cattle.io/v1";
    readonly kind: "HelmChartConfig";
    readonly metadata: { readonly name: "traefik"; readonly namespace: string };
    readonly spec: { readonly valuesContent: string };
}

/**
 * k3s' HelmChartConfig for its bundled Traefik (guide: "Traefik is a K3S embedded component ... auto-deployed
 * using Helm"). k3s merges `valuesContent` over its own chart values. There is only one HelmChartConfig per
 * chart and `valuesContent` is a single string, so this object owns all of it: values a user kept in an
 * existing kube-system/traefik HelmChartConfig go into `extraValues` (our mesh annotations win on conflict).
 */
export function traefikHelmChartConfig(namespace: string, extraValues: Readonly<Record<string, unknown>> = {}): HelmChartConfig {
    const values = deepMerge(extraValues, traefikMeshValues());
    return {
        apiVersion: "helm.cattle.io/v1",
        kind: "HelmChartConfig",
        metadata: { name: "traefik", namespace },
        spec: { valuesContent: stringifyYaml(values) },
    };
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
