/**
 * What to deploy for the linkerd-viz extension (guide: "Linkerd Viz extension installation"): its
 * namespace, the Helm values, and the dashboard's exposure through ingress-nginx (an Ingress, guide
 * step 4) or Traefik (an IngressRoute with basic-auth and l5d-dst-override Middlewares and a
 * cert-manager Certificate). Pure functions from configuration to objects; the basic-auth Secret's
 * content is built by the component, from secret Outputs only.
 */
import * as bcrypt from "bcryptjs";
import { EXTENSION_LABEL, INJECT_ANNOTATION, KubeObject, PROXY_AWAIT_ANNOTATION, VIZ_NAMESPACE } from "../k8s";
import { NGINX_SERVICE_UPSTREAM_ANNOTATION, TraefikApiGroup, l5dDstOverrideMiddleware } from "./ingress";

export { VIZ_NAMESPACE };
export const VIZ_RELEASE_NAME = "linkerd-viz";
/** The dashboard (chart component "web") and the port its Service listens on. */
export const VIZ_WEB_SERVICE = "web";
export const VIZ_WEB_PORT = 8084;
/** The basic-auth Secret we create in linkerd-viz (the guide pointed at nginx/basic-auth-secret, made elsewhere). */
export const VIZ_BASIC_AUTH_SECRET = "linkerd-viz-basic-auth";
/** ingress-nginx reads the htpasswd file from this key of the Secret. */
export const NGINX_AUTH_KEY = "auth";
/** Traefik's basicAuth Middleware reads htpasswd lines from this key of the Secret. */
export const TRAEFIK_USERS_KEY = "users";
export const VIZ_INGRESS_NAME = "linkerd-viz-ingress";
export const VIZ_INGRESS_ROUTE_NAME = "linkerd-viz";
export const VIZ_BASIC_AUTH_MIDDLEWARE = "linkerd-viz-basic-auth";
export const VIZ_CERTIFICATE_NAME = "linkerd-viz-dashboard";
/** Traefik's default TLS entry point (also k3s'). */
export const TRAEFIK_TLS_ENTRYPOINT = "websecure";

/** How the dashboard is exposed (guide viz step 4), and its Host check. */
export interface VizDashboard {
    /** "traefik" (IngressRoute), "nginx" (Ingress) or "none" (port-forward only). */
    readonly exposure: "none" | "nginx" | "traefik";
    /** Public host name. */
    readonly host: string;
    /** cert-manager ClusterIssuer of the dashboard's TLS certificate. */
    readonly clusterIssuer: string;
    /** Secret holding that certificate. */
    readonly tlsSecretName: string;
    /** Basic-auth user name. */
    readonly username: string;
    /** Accept any Host header (enforcedHostRegexp ".*"), disabling DNS-rebinding protection. */
    readonly allowAnyHost: boolean;
}

/**
 * Guide step 1: the namespace as the chart would have made it (annotations inject and proxy-await,
 * label linkerd.io/extension: viz). Helm never creates it.
 */
export function vizNamespace(): KubeObject {
    return {
        apiVersion: "v1",
        kind: "Namespace",
        metadata: {
            name: VIZ_NAMESPACE,
            annotations: { [INJECT_ANNOTATION]: "enabled", [PROXY_AWAIT_ANNOTATION]: "enabled" },
            labels: { [EXTENSION_LABEL]: "viz" },
        },
    };
}

/** Escapes a literal for a (Go RE2) regular expression. */
export function escapeRegexp(literal: string): string {
    return literal.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** `^<host, escaped>$`: the dashboard accepts exactly the public host name. */
export function hostRegexp(host: string): string {
    return `^${escapeRegexp(host)}$`;
}

export const ANY_HOST_REGEXP = ".*";

export const ALLOW_ANY_HOST_WARNING =
    'the linkerd-viz dashboard accepts any Host header (enforcedHostRegexp ".*"), ' +
    "which disables its DNS-rebinding protection: a malicious web page can then reach the dashboard (and its tap API) " +
    "through a victim's browser. Prefer allowAnyHost false: the dashboard then accepts only viz.dashboard.host.";

/**
 * The dashboard's Host check (chart value dashboard.enforcedHostRegexp), or undefined to keep the
 * chart's default (localhost and web.linkerd-viz.svc[.cluster.local] only).
 * - allowAnyHost: ".*" (the guide's commented-out Traefik setting; the configuration warns, ALLOW_ANY_HOST_WARNING);
 * - Traefik and NGINX: both pass the public Host header through, so the public host name, anchored and
 *   escaped (the dashboard's websockets then see an Origin of that same host, which they require);
 * - none: reached by port-forward on localhost.
 */
export function enforcedHostRegexp(dashboard: VizDashboard): string | undefined {
    if (dashboard.allowAnyHost) return ANY_HOST_REGEXP;
    if (dashboard.exposure !== "none") return hostRegexp(dashboard.host);
    return undefined;
}

/**
 * linkerd-viz values (guide step 2): no Prometheus of its own, the external Prometheus and the
 * in-cluster Grafana. The guide's installNamespace is not passed: the key is gone since 2.12.
 */
export function vizValues(s: {
    readonly prometheusUrl: string;
    readonly grafanaUrl: string;
    readonly dashboard: VizDashboard;
}): Record<string, unknown> {
    const values: Record<string, unknown> = {
        prometheus: { enabled: false },
        prometheusUrl: s.prometheusUrl,
        grafana: { url: s.grafanaUrl },
    };
    const regexp = enforcedHostRegexp(s.dashboard);
    if (regexp !== undefined) values.dashboard = { enforcedHostRegexp: regexp };
    return values;
}

/** https://<host>/ when the dashboard is exposed, else undefined. */
export function vizDashboardUrl(dashboard: VizDashboard): string | undefined {
    return dashboard.exposure === "none" ? undefined : `https://${dashboard.host}/`;
}

/** The htpasswd line `user:<bcrypt hash>` both controllers accept. */
export function htpasswdLine(username: string, bcryptHash: string): string {
    if (!/^\$2[aby]\$[0-9]{2}\$[./A-Za-z0-9]{53}$/.test(bcryptHash)) throw new Error("htpasswdLine: expected a bcrypt hash ($2a$NN$...)");
    return `${username}:${bcryptHash}`;
}

/** The Secret key holding the htpasswd line for the chosen controller. */
export function basicAuthSecretKey(dashboard: VizDashboard): string {
    return dashboard.exposure === "nginx" ? NGINX_AUTH_KEY : TRAEFIK_USERS_KEY;
}

/**
 * Guide step 4: the ingress-nginx Ingress, with basic auth from our Secret in linkerd-viz, without the guide's
 * `configuration-snippet` and `upstream-vhost` (**changed from the guide**). Snippet annotations are off by
 * default since ingress-nginx 1.9 and rated Critical from 1.12, so the admission webhook rejects the Ingress
 * on any current ingress-nginx; every annotation left is rated Low or Medium (accepted by the default
 * `annotations-risk-level`). The snippet dropped the Origin header because upstream-vhost rewrote Host to
 * web.linkerd-viz.svc and the dashboard's websockets require Origin to match Host: with Host passed through
 * and enforcedHostRegexp set to the public host instead, they match without either. (Its other two lines hid
 * Linkerd's l5d-remote-ip/l5d-server-id response headers: ingress-nginx's `hide-headers` ConfigMap option does
 * that cluster-wide.) service-upstream keeps NGINX sending to the Service, which Linkerd balances.
 */
export function vizNginxIngress(dashboard: VizDashboard, ingressClassName: string): KubeObject {
    const { host, clusterIssuer, tlsSecretName } = dashboard;
    return {
        apiVersion: "networking.k8s.io/v1",
        kind: "Ingress",
        metadata: {
            name: VIZ_INGRESS_NAME,
            namespace: VIZ_NAMESPACE,
            annotations: {
                "nginx.ingress.kubernetes.io/auth-type": "basic",
                "nginx.ingress.kubernetes.io/auth-secret": `${VIZ_NAMESPACE}/${VIZ_BASIC_AUTH_SECRET}`,
                [NGINX_SERVICE_UPSTREAM_ANNOTATION]: "true",
                "cert-manager.io/cluster-issuer": clusterIssuer,
                "cert-manager.io/common-name": host,
            },
        },
        spec: {
            ingressClassName,
            tls: [{ hosts: [host], secretName: tlsSecretName }],
            rules: [
                {
                    host,
                    http: {
                        paths: [{ path: "/", pathType: "Prefix", backend: { service: { name: VIZ_WEB_SERVICE, port: { number: VIZ_WEB_PORT } } } }],
                    },
                },
            ],
        },
    };
}

/** The dashboard's TLS certificate for Traefik (with nginx, cert-manager's ingress-shim makes it from the annotations). */
export function vizCertificate(dashboard: VizDashboard): KubeObject {
    const { host, clusterIssuer, tlsSecretName } = dashboard;
    return {
        apiVersion: "cert-manager.io/v1",
        kind: "Certificate",
        metadata: { name: VIZ_CERTIFICATE_NAME, namespace: VIZ_NAMESPACE },
        spec: {
            secretName: tlsSecretName,
            commonName: host,
            dnsNames: [host],
            issuerRef: { name: clusterIssuer, kind: "ClusterIssuer", group: "cert-manager.io" },
        },
    };
}

/** Traefik's basicAuth Middleware reading the htpasswd lines of our Secret. */
export function vizBasicAuthMiddleware(apiGroup: TraefikApiGroup): KubeObject {
    return {
        apiVersion: `${apiGroup}/v1alpha1`,
        kind: "Middleware",
        metadata: { name: VIZ_BASIC_AUTH_MIDDLEWARE, namespace: VIZ_NAMESPACE },
        spec: { basicAuth: { secret: VIZ_BASIC_AUTH_SECRET } },
    };
}

/** The l5d-dst-override Middleware for web:8084 (Traefik in ingress mode routes by this header). */
export function vizL5dDstOverride(apiGroup: TraefikApiGroup, clusterDomain: string) {
    return l5dDstOverrideMiddleware({ name: VIZ_WEB_SERVICE, namespace: VIZ_NAMESPACE, port: VIZ_WEB_PORT, clusterDomain, apiGroup });
}

/** The Traefik IngressRoute: Host(`<host>`) -> web:8084 through basic auth, then l5d-dst-override; TLS from the Certificate's Secret. */
export function vizIngressRoute(dashboard: VizDashboard, apiGroup: TraefikApiGroup, clusterDomain: string): KubeObject {
    const { host, tlsSecretName } = dashboard;
    return {
        apiVersion: `${apiGroup}/v1alpha1`,
        kind: "IngressRoute",
        metadata: { name: VIZ_INGRESS_ROUTE_NAME, namespace: VIZ_NAMESPACE },
        spec: {
            entryPoints: [TRAEFIK_TLS_ENTRYPOINT],
            routes: [
                {
                    kind: "Rule",
                    match: `Host(\`${host}\`)`,
                    middlewares: [
                        { name: VIZ_BASIC_AUTH_MIDDLEWARE, namespace: VIZ_NAMESPACE },
                        vizL5dDstOverride(apiGroup, clusterDomain).ingressRouteMiddleware,
                    ],
                    services: [{ kind: "Service", name: VIZ_WEB_SERVICE, namespace: VIZ_NAMESPACE, port: VIZ_WEB_PORT }],
                },
            ],
            tls: { secretName: tlsSecretName },
        },
    };
}

/** Metadata of the basic-auth Secret; its content (one secret key) is added by the component. */
export function vizBasicAuthSecretMetadata(): { name: string; namespace: string } {
    return { name: VIZ_BASIC_AUTH_SECRET, namespace: VIZ_NAMESPACE };
}

/** bcrypt cost of the hash of a configured password (Go's bcrypt.DefaultCost, as random.RandomPassword uses). */
export const BCRYPT_COST = 10;
/** Bytes of salt bcrypt takes. */
export const BCRYPT_SALT_BYTES = 16;

/**
 * bcrypt of `password` with a fixed salt (16 bytes, given base64-encoded): the same inputs always give
 * the same hash, so a configured password does not change the Secret on every `pulumi up`. The salt
 * comes from a random.RandomBytes resource (kept in state), never from the password.
 */
export function bcryptWithSalt(password: string, saltBase64: string, cost: number = BCRYPT_COST): string {
    const salt = Buffer.from(saltBase64, "base64");
    if (salt.length !== BCRYPT_SALT_BYTES) throw new Error(`bcryptWithSalt: expected a ${BCRYPT_SALT_BYTES}-byte salt, got ${salt.length} bytes`);
    const rounds = String(cost).padStart(2, "0");
    return bcrypt.hashSync(password, `$2a$${rounds}$${bcrypt.encodeBase64(salt, BCRYPT_SALT_BYTES)}`);
}
