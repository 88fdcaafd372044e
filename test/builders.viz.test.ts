import * as bcrypt from "bcryptjs";
import { loadConfig } from "../lib/config";
import {
    ALLOW_ANY_HOST_WARNING,
    bcryptWithSalt,
    enforcedHostRegexp,
    escapeRegexp,
    hostRegexp,
    htpasswdLine,
    vizBasicAuthMiddleware,
    vizCertificate,
    vizDashboardUrl,
    vizIngressRoute,
    vizL5dDstOverride,
    vizNamespace,
    vizNginxIngress,
    vizValues,
} from "../lib/builders/viz";
import { loadChartKeys, unknownValueKeys } from "./support/chartKeys";
import { validateObject } from "./support/k8sSchemas";

/** A configuration; an NGINX dashboard comes with the NGINX ingress controller, as the configuration requires. */
const cfgWith = (viz: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) => {
    const nginx = (viz.dashboard as { exposure?: string } | undefined)?.exposure === "nginx";
    const ingress = nginx ? { controller: "nginx", ...(extra.ingress as object) } : extra.ingress;
    return loadConfig({ values: { viz, ...extra, ...(ingress ? { ingress } : {}) } });
};
type Cfg = ReturnType<typeof cfgWith>;
const apiGroupOf = (cfg: Cfg) => (cfg.ingress.controller === "traefik" ? cfg.ingress.apiGroup : "traefik.io");
const ingressClassOf = (cfg: Cfg) => (cfg.ingress.controller === "nginx" ? cfg.ingress.ingressClassName : "nginx");

describe("namespace and values (guide viz steps 1-2)", () => {
    test("the namespace carries what the chart would have set", () => {
        expect(vizNamespace()).toEqual({
            apiVersion: "v1",
            kind: "Namespace",
            metadata: {
                name: "linkerd-viz",
                annotations: { "linkerd.io/inject": "enabled", "config.linkerd.io/proxy-await": "enabled" },
                labels: { "linkerd.io/extension": "viz" },
            },
        });
        expect(validateObject(vizNamespace())).toEqual([]);
    });

    test("external Prometheus and Grafana, no installNamespace; Traefik gets the anchored host", () => {
        expect(vizValues(cfgWith().viz)).toEqual({
            prometheus: { enabled: false },
            prometheusUrl: "http://kube-prometheus-stack-prometheus.monitoring.svc.cluster.local:9090",
            grafana: { url: "kube-prometheus-stack-grafana.monitoring.svc.cluster.local" },
            dashboard: { enforcedHostRegexp: "^linkerd\\.picluster\\.ricsanfre\\.com$" },
        });
    });

    test("nginx passes the public Host through too, so it gets the anchored host; none keeps the chart's default host check", () => {
        expect(vizValues(cfgWith({ dashboard: { exposure: "nginx" } }).viz)).toMatchObject({
            dashboard: { enforcedHostRegexp: "^linkerd\\.picluster\\.ricsanfre\\.com$" },
        });
        expect(vizValues(cfgWith({ dashboard: { exposure: "none" } }).viz)).not.toHaveProperty("dashboard");
    });

    test.each([
        ["stable", "30.12.11", {}],
        ["edge", "2026.8.3", { linkerd: { channel: "edge", version: "edge-26.8.3" } }],
    ])("every value key exists in the %s chart (linkerd-viz %s)", (_channel, version, extra) => {
        const fixture = loadChartKeys("linkerd-viz", version);
        for (const exposure of ["traefik", "nginx", "none"]) {
            for (const allowAnyHost of [false, true]) {
                expect(unknownValueKeys(vizValues(cfgWith({ dashboard: { exposure, allowAnyHost } }, extra).viz), fixture)).toEqual([]);
            }
        }
    });
});

describe("dashboard host check (DNS rebinding protection)", () => {
    test("a host with dots is escaped and anchored", () => {
        expect(hostRegexp("linkerd.picluster.ricsanfre.com")).toBe("^linkerd\\.picluster\\.ricsanfre\\.com$");
        const re = new RegExp(hostRegexp("linkerd.picluster.ricsanfre.com"));
        expect(re.test("linkerd.picluster.ricsanfre.com")).toBe(true);
        expect(re.test("linkerdXpicluster.ricsanfre.com")).toBe(false);
        expect(re.test("evil.linkerd.picluster.ricsanfre.com")).toBe(false);
        expect(re.test("linkerd.picluster.ricsanfre.com.evil.net")).toBe(false);
    });

    test("regexp metacharacters are escaped", () => {
        expect(escapeRegexp("a.b*c+d?e^f$g{h}i(j)k|l[m]n\\o")).toBe("a\\.b\\*c\\+d\\?e\\^f\\$g\\{h\\}i\\(j\\)k\\|l\\[m\\]n\\\\o");
    });

    test("never .* unless allowAnyHost, which the configuration warns about, naming DNS rebinding", () => {
        for (const exposure of ["traefik", "nginx", "none"]) {
            const safe = cfgWith({ dashboard: { exposure } });
            expect(enforcedHostRegexp(safe.viz.dashboard)).not.toBe(".*");
            const vizWarnings = (c: Cfg) => c.warnings.filter((w) => w.key.includes(":viz."));
            expect(vizWarnings(safe)).toEqual([]);
            const any = cfgWith({ dashboard: { exposure, allowAnyHost: true } });
            expect(enforcedHostRegexp(any.viz.dashboard)).toBe(".*");
            expect(vizWarnings(any)).toEqual([{ key: "picluster-linkerd:viz.dashboard.allowAnyHost", message: ALLOW_ANY_HOST_WARNING }]);
        }
        expect(ALLOW_ANY_HOST_WARNING).toMatch(/DNS-rebinding/);
    });

    test("a custom host is used everywhere", () => {
        const cfg = cfgWith({ dashboard: { host: "mesh.example.org" } });
        expect(vizValues(cfg.viz)).toMatchObject({ dashboard: { enforcedHostRegexp: "^mesh\\.example\\.org$" } });
        expect(vizDashboardUrl(cfg.viz.dashboard)).toBe("https://mesh.example.org/");
        expect((vizIngressRoute(cfg.viz.dashboard, apiGroupOf(cfg), cfg.linkerd.clusterDomain).spec as any).routes[0].match).toBe(
            "Host(`mesh.example.org`)",
        );
    });
});

describe("nginx exposure (guide viz step 4)", () => {
    /**
     * ingress-nginx's annotation risk levels (docs/user-guide/nginx-configuration/annotations-risk.md): from 1.12 the
     * admission webhook rejects annotations above `annotations-risk-level` (default High), and from 1.9 every snippet
     * annotation while `allow-snippet-annotations` is false (the default). The Critical ones, and the levels of the
     * annotations the dashboard's Ingress may use.
     */
    const CRITICAL = ["configuration-snippet", "server-snippet", "auth-snippet", "modsecurity-snippet", "stream-snippet"];
    const RISK: Record<string, "Low" | "Medium" | "High"> = { "auth-type": "Low", "auth-secret": "Medium", "service-upstream": "Low" };

    test("accepted by a current ingress-nginx with its defaults: no snippet, only annotations rated at most High", () => {
        const cfg = cfgWith({ dashboard: { exposure: "nginx" } });
        const annotations = Object.keys(vizNginxIngress(cfg.viz.dashboard, ingressClassOf(cfg)).metadata.annotations ?? {});
        const nginx = annotations.filter((a) => a.startsWith("nginx.ingress.kubernetes.io/")).map((a) => a.split("/")[1]);
        expect(nginx.filter((a) => a.endsWith("-snippet") || CRITICAL.includes(a))).toEqual([]);
        for (const a of nginx)
            expect({ annotation: a, rated: RISK[a] }).toEqual({ annotation: a, rated: expect.stringMatching(/^(Low|Medium|High)$/) });
    });

    test("the guide's Ingress, with basic auth from our Secret in linkerd-viz (no snippet, no upstream-vhost)", () => {
        const cfg = cfgWith({ dashboard: { exposure: "nginx" } });
        const ingress = vizNginxIngress(cfg.viz.dashboard, ingressClassOf(cfg));
        expect(ingress).toEqual({
            apiVersion: "networking.k8s.io/v1",
            kind: "Ingress",
            metadata: {
                name: "linkerd-viz-ingress",
                namespace: "linkerd-viz",
                annotations: {
                    "nginx.ingress.kubernetes.io/auth-type": "basic",
                    "nginx.ingress.kubernetes.io/auth-secret": "linkerd-viz/linkerd-viz-basic-auth",
                    "nginx.ingress.kubernetes.io/service-upstream": "true",
                    "cert-manager.io/cluster-issuer": "ca-issuer",
                    "cert-manager.io/common-name": "linkerd.picluster.ricsanfre.com",
                },
            },
            spec: {
                ingressClassName: "nginx",
                tls: [{ hosts: ["linkerd.picluster.ricsanfre.com"], secretName: "linkerd-viz-tls" }],
                rules: [
                    {
                        host: "linkerd.picluster.ricsanfre.com",
                        http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: { name: "web", port: { number: 8084 } } } }] },
                    },
                ],
            },
        });
        expect(validateObject(ingress)).toEqual([]);
    });

    test("ingress class, issuer and TLS secret come from the configuration", () => {
        const cfg = cfgWith(
            { dashboard: { exposure: "nginx", clusterIssuer: "letsencrypt", tlsSecretName: "viz-cert" } },
            { ingress: { nginx: { ingressClassName: "public" } } },
        );
        const ingress = vizNginxIngress(cfg.viz.dashboard, ingressClassOf(cfg));
        expect(ingress.metadata.annotations!["cert-manager.io/cluster-issuer"]).toBe("letsencrypt");
        expect((ingress.spec as any).ingressClassName).toBe("public");
        expect((ingress.spec as any).tls[0].secretName).toBe("viz-cert");
    });
});

describe("traefik exposure", () => {
    test.each(["traefik.io", "traefik.containo.us"])("IngressRoute, Middlewares and Certificate (%s)", (apiGroup) => {
        const cfg = cfgWith({}, { ingress: { traefik: { apiGroup } } });
        const route = vizIngressRoute(cfg.viz.dashboard, apiGroupOf(cfg), cfg.linkerd.clusterDomain);
        expect(route).toEqual({
            apiVersion: `${apiGroup}/v1alpha1`,
            kind: "IngressRoute",
            metadata: { name: "linkerd-viz", namespace: "linkerd-viz" },
            spec: {
                entryPoints: ["websecure"],
                routes: [
                    {
                        kind: "Rule",
                        match: "Host(`linkerd.picluster.ricsanfre.com`)",
                        middlewares: [
                            { name: "linkerd-viz-basic-auth", namespace: "linkerd-viz" },
                            { name: "l5d-header-web", namespace: "linkerd-viz" },
                        ],
                        services: [{ kind: "Service", name: "web", namespace: "linkerd-viz", port: 8084 }],
                    },
                ],
                tls: { secretName: "linkerd-viz-tls" },
            },
        });
        const auth = vizBasicAuthMiddleware(apiGroupOf(cfg));
        expect(auth).toEqual({
            apiVersion: `${apiGroup}/v1alpha1`,
            kind: "Middleware",
            metadata: { name: "linkerd-viz-basic-auth", namespace: "linkerd-viz" },
            spec: { basicAuth: { secret: "linkerd-viz-basic-auth" } },
        });
        const l5d = vizL5dDstOverride(apiGroupOf(cfg), cfg.linkerd.clusterDomain).middleware;
        expect(l5d).toEqual({
            apiVersion: `${apiGroup}/v1alpha1`,
            kind: "Middleware",
            metadata: { name: "l5d-header-web", namespace: "linkerd-viz" },
            spec: { headers: { customRequestHeaders: { "l5d-dst-override": "web.linkerd-viz.svc.cluster.local:8084" } } },
        });
        for (const obj of [route, auth, l5d, vizCertificate(cfg.viz.dashboard)]) expect(validateObject(obj)).toEqual([]);
    });

    test("l5d-dst-override follows linkerd.clusterDomain", () => {
        const cfg = cfgWith({}, { linkerd: { clusterDomain: "pi.local" } });
        expect(vizL5dDstOverride(apiGroupOf(cfg), cfg.linkerd.clusterDomain).destination).toBe("web.linkerd-viz.svc.pi.local:8084");
    });

    test("the Certificate is issued for the host by the configured issuer into the IngressRoute's TLS secret", () => {
        const cfg = cfgWith({ dashboard: { clusterIssuer: "letsencrypt", tlsSecretName: "viz-cert" } });
        expect(vizCertificate(cfg.viz.dashboard)).toEqual({
            apiVersion: "cert-manager.io/v1",
            kind: "Certificate",
            metadata: { name: "linkerd-viz-dashboard", namespace: "linkerd-viz" },
            spec: {
                secretName: "viz-cert",
                commonName: "linkerd.picluster.ricsanfre.com",
                dnsNames: ["linkerd.picluster.ricsanfre.com"],
                issuerRef: { name: "letsencrypt", kind: "ClusterIssuer", group: "cert-manager.io" },
            },
        });
        expect((vizIngressRoute(cfg.viz.dashboard, apiGroupOf(cfg), cfg.linkerd.clusterDomain).spec as any).tls.secretName).toBe("viz-cert");
    });

    test("no URL with exposure none", () => {
        expect(vizDashboardUrl(cfgWith({ dashboard: { exposure: "none" } }).viz.dashboard)).toBeUndefined();
    });
});

describe("basic-auth credentials", () => {
    const salt = Buffer.from("0123456789abcdef").toString("base64");

    test("bcrypt with a fixed salt is stable and verifies", () => {
        const a = bcryptWithSalt("correct horse battery staple", salt);
        expect(a).toMatch(/^\$2a\$10\$[./A-Za-z0-9]{53}$/);
        expect(bcryptWithSalt("correct horse battery staple", salt)).toBe(a);
        expect(bcrypt.compareSync("correct horse battery staple", a)).toBe(true);
        expect(bcrypt.compareSync("wrong password", a)).toBe(false);
        expect(bcryptWithSalt("correct horse battery staple", Buffer.from("fedcba9876543210").toString("base64"))).not.toBe(a);
        expect(bcryptWithSalt("another password!", salt)).not.toBe(a);
    });

    test("a salt of the wrong size is refused", () => {
        expect(() => bcryptWithSalt("x", Buffer.from("short").toString("base64"))).toThrow(/16-byte salt/);
    });

    test("htpasswd lines take only bcrypt hashes", () => {
        const hash = bcryptWithSalt("correct horse battery staple", salt);
        expect(htpasswdLine("admin", hash)).toBe(`admin:${hash}`);
        expect(() => htpasswdLine("admin", "plaintext")).toThrow(/bcrypt/);
    });
});
