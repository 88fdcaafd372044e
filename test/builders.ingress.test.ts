import { stringify as stringifyYaml } from "yaml";
import {
    l5dDstOverrideMiddleware,
    nginxControllerMeshValues,
    traefikNamespace,
    traefikValues,
    traefikMiddlewaresAnnotationValue,
    withNginxServiceUpstream,
} from "../lib/builders/ingress";
import { validateObject } from "./support/k8sSchemas";

describe("l5dDstOverrideMiddleware (guide: Meshing Traefik, steps 1-2)", () => {
    test("the guide's example: Middleware, Ingress annotation and IngressRoute entry", () => {
        const m = l5dDstOverrideMiddleware({
            name: "my-service",
            namespace: "my-namespace",
            port: 80,
            apiGroup: "traefik.containo.us",
            middlewareName: "l5d-header-middleware",
        });
        expect(m.middleware).toEqual({
            apiVersion: "traefik.containo.us/v1alpha1",
            kind: "Middleware",
            metadata: { name: "l5d-header-middleware", namespace: "my-namespace" },
            spec: { headers: { customRequestHeaders: { "l5d-dst-override": "my-service.my-namespace.svc.cluster.local:80" } } },
        });
        expect(m.middlewareRef).toBe("my-namespace-l5d-header-middleware@kubernetescrd");
        expect(m.ingressAnnotations).toEqual({
            "traefik.ingress.kubernetes.io/router.middlewares": "my-namespace-l5d-header-middleware@kubernetescrd",
        });
        expect(m.ingressRouteMiddleware).toEqual({ name: "l5d-header-middleware", namespace: "my-namespace" });
        expect(m.destination).toBe("my-service.my-namespace.svc.cluster.local:80");
    });

    test("defaults: traefik.io, cluster.local, one Middleware name per Service", () => {
        const m = l5dDstOverrideMiddleware({ name: "web", namespace: "linkerd-viz", port: 8084 });
        expect(m.middleware.apiVersion).toBe("traefik.io/v1alpha1");
        expect(m.middleware.metadata.name).toBe("l5d-header-web");
        expect(m.destination).toBe("web.linkerd-viz.svc.cluster.local:8084");
        expect(m.middlewareRef).toBe("linkerd-viz-l5d-header-web@kubernetescrd");
    });

    test("a custom cluster domain is used in the header", () => {
        expect(l5dDstOverrideMiddleware({ name: "a", namespace: "b", port: 1, clusterDomain: "pi.lan" }).destination).toBe("a.b.svc.pi.lan:1");
    });

    test.each(["traefik.io", "traefik.containo.us"] as const)("the %s Middleware passes the CRD schema", (apiGroup) => {
        const m = l5dDstOverrideMiddleware({ name: "grafana", namespace: "monitoring", port: 80, apiGroup });
        expect(validateObject(m.middleware)).toEqual([]);
    });

    test("Ingress and IngressRoute using it pass their schemas", () => {
        const m = l5dDstOverrideMiddleware({ name: "web", namespace: "linkerd-viz", port: 8084 });
        const ingress = {
            apiVersion: "networking.k8s.io/v1",
            kind: "Ingress",
            metadata: { name: "web", namespace: "linkerd-viz", annotations: { ...m.ingressAnnotations } },
            spec: {
                rules: [
                    {
                        host: "x.example.com",
                        http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: { name: "web", port: { number: 8084 } } } }] },
                    },
                ],
            },
        };
        expect(validateObject(ingress)).toEqual([]);
        const route = {
            apiVersion: "traefik.io/v1alpha1",
            kind: "IngressRoute",
            metadata: { name: "web", namespace: "linkerd-viz" },
            spec: {
                routes: [
                    {
                        kind: "Rule",
                        match: "Host(`x.example.com`)",
                        services: [{ name: "web", port: 8084, namespace: "linkerd-viz" }],
                        middlewares: [m.ingressRouteMiddleware],
                    },
                ],
            },
        };
        expect(validateObject(route)).toEqual([]);
    });

    test("several middlewares in one annotation, in order", () => {
        expect(traefikMiddlewaresAnnotationValue(["ns-auth@kubernetescrd", "ns-l5d-header-web@kubernetescrd"])).toBe(
            "ns-auth@kubernetescrd,ns-l5d-header-web@kubernetescrd",
        );
    });

    test.each([
        [{ name: "Web", namespace: "ns", port: 80 }, "Service name"],
        [{ name: "web", namespace: "ns_1", port: 80 }, "Service namespace"],
        [{ name: "web", namespace: "ns", port: 0 }, "port"],
        [{ name: "web", namespace: "ns", port: 80, middlewareName: "x".repeat(64) }, "Middleware name"],
        [{ name: "a".repeat(60), namespace: "ns", port: 80 }, "Middleware name"],
    ])("rejects %j", (service, message) => {
        expect(() => l5dDstOverrideMiddleware(service)).toThrow(message);
    });
});

describe("traefikValues (guide: Traefik meshed in ingress mode through its Helm values)", () => {
    test("ingress-mode annotations and port 443 skipped on Traefik's pods", () => {
        const values = traefikValues();
        expect(values).toEqual({
            deployment: { podAnnotations: { "linkerd.io/inject": "ingress", "config.linkerd.io/skip-outbound-ports": "443" } },
        });
        // The port is a string: pod annotations are strings.
        expect(stringifyYaml(values)).toContain(`config.linkerd.io/skip-outbound-ports: "443"`);
    });

    test("extra values are kept and the mesh annotations win on conflict", () => {
        const values = traefikValues({
            ports: { websecure: { tls: { enabled: true } } },
            deployment: { replicas: 2, podAnnotations: { "linkerd.io/inject": "enabled", "x/y": "z" } },
        });
        expect(values).toEqual({
            ports: { websecure: { tls: { enabled: true } } },
            deployment: {
                replicas: 2,
                podAnnotations: { "linkerd.io/inject": "ingress", "config.linkerd.io/skip-outbound-ports": "443", "x/y": "z" },
            },
        });
    });

    test("Traefik's namespace is not annotated for injection (only its pods are meshed, in ingress mode)", () => {
        const ns = traefikNamespace("traefik");
        expect(ns).toEqual({ apiVersion: "v1", kind: "Namespace", metadata: { name: "traefik" } });
        expect(validateObject(ns)).toEqual([]);
    });
});

describe("NGINX (guide: Meshing Ingress NGINX)", () => {
    test("service-upstream is added, existing annotations kept, input untouched", () => {
        const ingress = {
            apiVersion: "networking.k8s.io/v1",
            kind: "Ingress",
            metadata: { name: "my-ingress", namespace: "my-namespace", annotations: { a: "b" } },
        };
        const out = withNginxServiceUpstream(ingress);
        expect(out.metadata.annotations).toEqual({ a: "b", "nginx.ingress.kubernetes.io/service-upstream": "true" });
        expect(ingress.metadata.annotations).toEqual({ a: "b" });
        expect(withNginxServiceUpstream({ metadata: {} }).metadata.annotations).toEqual({ "nginx.ingress.kubernetes.io/service-upstream": "true" });
    });

    test("controller values mesh the controller, not in ingress mode", () => {
        expect(nginxControllerMeshValues()).toEqual({ controller: { podAnnotations: { "linkerd.io/inject": "enabled" } } });
    });
});
