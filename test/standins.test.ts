/**
 * The local cluster's stand-ins (test/e2e/toolchain/standins), their pure parts: the proxy injector's
 * decision and patch (against values shaped like linkerd-config of stable-2.14.10 and edge-26.8.3),
 * ServiceLB's status patch and the cluster-network proxy's target parsing. The e2e test
 * (test/e2e/standins.e2e.ts) runs them against the API server with the real charts.
 */
import { isLoopback, parseTarget } from "./e2e/toolchain/standins/cluster-network";
import {
    JsonPatchOp,
    PatchContext,
    injectDecision,
    nativeSidecarKeys,
    opaquePortsPatch,
    podPatch,
    proxySettings,
    releaseOrdinal,
} from "./e2e/toolchain/standins/proxy-injector";
import { lbStatusPatch, nodeAddresses } from "./e2e/toolchain/standins/servicelb";

/** The keys of linkerd-config's `values` the injector reads, as the 1.16.11 chart sets them. */
const VALUES_2_14 = {
    linkerdVersion: "stable-2.14.10",
    clusterDomain: "cluster.local",
    identityTrustDomain: "cluster.local",
    clusterNetworks: "10.0.0.0/8,100.64.0.0/10,172.16.0.0/12,192.168.0.0/16",
    imagePullPolicy: "IfNotPresent",
    cniEnabled: false,
    identity: { serviceAccountTokenProjection: true },
    proxy: {
        image: { name: "cr.l5d.io/linkerd/proxy", pullPolicy: "", version: "" },
        ports: { admin: 4191, control: 4190, inbound: 4143, outbound: 4140 },
        resources: { cpu: { limit: "", request: "" }, memory: { limit: "", request: "" }, "ephemeral-storage": { limit: "", request: "" } },
        uid: 2102,
        await: true,
        logLevel: "warn,linkerd=info,trust_dns=error",
        logFormat: "plain",
        opaquePorts: "25,587,3306,4444,5432,6379,9300,11211",
        defaultInboundPolicy: "all-unauthenticated",
    },
    proxyInit: {
        iptablesMode: "legacy",
        ignoreInboundPorts: "4567,4568",
        ignoreOutboundPorts: "4567,4568",
        image: { name: "cr.l5d.io/linkerd/proxy-init", pullPolicy: "", version: "v2.2.3" },
        resources: { cpu: { limit: "100m", request: "100m" }, memory: { limit: "20Mi", request: "20Mi" } },
        runAsUser: 65534,
        xtMountPath: { mountPath: "/run", name: "linkerd-proxy-init-xtables-lock" },
    },
};

/** The same for 2026.8.3: native sidecars by default, no proxy-init image, nft, disableIPv6. */
const VALUES_26_8 = {
    ...VALUES_2_14,
    linkerdVersion: "edge-26.8.3",
    disableIPv6: true,
    proxy: {
        ...VALUES_2_14.proxy,
        gid: -1,
        nativeSidecar: true,
        livenessProbe: { initialDelaySeconds: 10, timeoutSeconds: 1 },
        readinessProbe: { initialDelaySeconds: 2, timeoutSeconds: 1 },
        startupProbe: { initialDelaySeconds: 0, periodSeconds: 1, failureThreshold: 120 },
    },
    proxyInit: {
        iptablesMode: "nft",
        ignoreInboundPorts: "4567,4568",
        ignoreOutboundPorts: "4567,4568",
        runAsUser: 65534,
        runAsGroup: 65534,
        xtMountPath: { mountPath: "/run", name: "linkerd-proxy-init-xtables-lock" },
    },
};

function pod(annotations?: Record<string, string>, spec: Record<string, unknown> = {}): any {
    return {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { generateName: "web-", namespace: "apps", ...(annotations ? { annotations } : {}), labels: { app: "web" } },
        spec: { containers: [{ name: "web", image: "nginx", ports: [{ containerPort: 80 }] }], ...spec },
    };
}

function ctx(values: any, extra: Partial<PatchContext> = {}): PatchContext {
    return {
        linkerdNamespace: "linkerd",
        namespace: "apps",
        nsAnnotations: {},
        values,
        trustAnchors: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----",
        owner: { kind: "deployment", name: "web" },
        mode: "enabled",
        ...extra,
    };
}

/** RFC 6902 add, enough for the injector's patches. */
function applyPatch(doc: any, ops: JsonPatchOp[]): any {
    const out = JSON.parse(JSON.stringify(doc));
    for (const op of ops) {
        const parts = op.path
            .split("/")
            .slice(1)
            .map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"));
        const last = parts.pop()!;
        let target = out;
        for (const p of parts) target = target[p];
        if (Array.isArray(target)) {
            if (last === "-") target.push(op.value);
            else target.splice(Number(last), 0, op.value);
        } else target[last] = op.value;
    }
    return out;
}

describe("proxy-injector stand-in: the decision", () => {
    test("inject when the pod or (pod silent) the namespace says enabled or ingress", () => {
        expect(injectDecision(pod({ "linkerd.io/inject": "enabled" }), {})).toMatchObject({ inject: true, mode: "enabled" });
        expect(injectDecision(pod({ "linkerd.io/inject": "ingress" }), {})).toMatchObject({ inject: true, mode: "ingress" });
        expect(injectDecision(pod(), { "linkerd.io/inject": "enabled" })).toMatchObject({ inject: true, mode: "enabled" });
        // A namespace that says disabled does not stop a pod that says enabled (the real order).
        expect(injectDecision(pod({ "linkerd.io/inject": "enabled" }), { "linkerd.io/inject": "disabled" })).toMatchObject({ inject: true });
    });

    test("never when the pod says disabled, without any annotation, with hostNetwork or an existing proxy", () => {
        expect(injectDecision(pod({ "linkerd.io/inject": "disabled" }), { "linkerd.io/inject": "enabled" })).toEqual({
            inject: false,
            reason: "injection_disable_annotation_present",
        });
        expect(injectDecision(pod(), {})).toMatchObject({ inject: false, reason: "injection_enable_annotation_absent" });
        expect(injectDecision(pod(undefined, { hostNetwork: true }), { "linkerd.io/inject": "enabled" })).toMatchObject({
            inject: false,
            reason: "host_network_enabled",
        });
        const injected = pod(undefined, { containers: [{ name: "linkerd-proxy", image: "x" }] });
        expect(injectDecision(injected, { "linkerd.io/inject": "enabled" })).toMatchObject({ inject: false, reason: "sidecar_already_exists" });
        const native = pod(undefined, { initContainers: [{ name: "linkerd-proxy", image: "x", restartPolicy: "Always" }] });
        expect(injectDecision(native, { "linkerd.io/inject": "enabled" })).toMatchObject({ inject: false });
        expect(injectDecision(pod({ "linkerd.io/inject": "yes" }), {})).toMatchObject({ reason: "invalid_inject_annotation_at_workload" });
        expect(injectDecision(pod(), { "linkerd.io/inject": "yes" })).toMatchObject({ reason: "invalid_inject_annotation_at_ns" });
    });

    test("every failing reason is reported, in the real order", () => {
        expect(injectDecision(pod({ "linkerd.io/inject": "disabled" }, { hostNetwork: true }), {}).reason).toBe(
            "host_network_enabled, injection_enable_annotation_absent",
        );
    });
});

describe("proxy-injector stand-in: the patch", () => {
    test("stable-2.14.10: the proxy first in containers, linkerd-init with its own image, the version annotations and labels", () => {
        const p = pod({ "linkerd.io/inject": "enabled" });
        const ops = podPatch(p, ctx(VALUES_2_14));
        const out = applyPatch(p, ops);
        expect(out.spec.containers.map((c: any) => c.name)).toEqual(["linkerd-proxy", "web"]);
        expect(out.spec.initContainers.map((c: any) => c.name)).toEqual(["linkerd-init"]);
        const proxy = out.spec.containers[0];
        expect(proxy.image).toBe("cr.l5d.io/linkerd/proxy:stable-2.14.10");
        expect(proxy.resources).toBeUndefined();
        expect(proxy.lifecycle.postStart.exec.command[0]).toBe("/usr/lib/linkerd/linkerd-await");
        expect(proxy.env.find((e: any) => e.name === "LINKERD2_PROXY_INBOUND_PORTS").value).toBe("80");
        expect(out.spec.initContainers[0].image).toBe("cr.l5d.io/linkerd/proxy-init:v2.2.3");
        expect(out.spec.initContainers[0].resources).toEqual({ limits: { cpu: "100m", memory: "20Mi" }, requests: { cpu: "100m", memory: "20Mi" } });
        expect(out.metadata.annotations).toMatchObject({
            "linkerd.io/created-by": "linkerd/proxy-injector stable-2.14.10",
            "linkerd.io/proxy-version": "stable-2.14.10",
            "linkerd.io/trust-root-sha256": expect.stringMatching(/^[0-9a-f]{64}$/),
        });
        expect(out.metadata.annotations["linkerd.io/identity-mode"]).toBeUndefined();
        expect(out.metadata.labels).toEqual({
            app: "web",
            "linkerd.io/control-plane-ns": "linkerd",
            "linkerd.io/workload-ns": "apps",
            "linkerd.io/proxy-deployment": "web",
        });
        expect(out.spec.volumes.map((v: any) => v.name)).toEqual([
            "linkerd-proxy-init-xtables-lock",
            "linkerd-identity-end-entity",
            "linkerd-identity-token",
        ]);
        // annotations sorted, added one by one after the empty map the pod lacked
        const annPaths = ops.filter((o) => o.path.startsWith("/metadata/annotations/")).map((o) => o.path);
        expect(annPaths).toEqual([...annPaths].sort());
    });

    test("stable-2.14.10 has no native sidecars: the annotation is ignored", () => {
        expect(nativeSidecarKeys(VALUES_2_14)).toEqual([]);
        const p = pod({ "linkerd.io/inject": "enabled", "config.alpha.linkerd.io/proxy-enable-native-sidecar": "true" });
        expect(proxySettings(p, ctx(VALUES_2_14)).native).toBe(false);
    });

    test("edge-26.8.3: a native sidecar after linkerd-init (the proxy image), startupProbe, no postStart", () => {
        const p = pod(undefined, { initContainers: [{ name: "migrate", image: "busybox" }] });
        const out = applyPatch(p, podPatch(p, ctx(VALUES_26_8, { nsAnnotations: { "linkerd.io/inject": "enabled" } })));
        expect(out.spec.initContainers.map((c: any) => c.name)).toEqual(["linkerd-init", "linkerd-proxy", "migrate"]);
        expect(out.spec.containers.map((c: any) => c.name)).toEqual(["web"]);
        const proxy = out.spec.initContainers[1];
        expect(proxy).toMatchObject({ restartPolicy: "Always", image: "cr.l5d.io/linkerd/proxy:edge-26.8.3" });
        expect(proxy.startupProbe).toMatchObject({ httpGet: { path: "/ready", port: 4191 }, failureThreshold: 120 });
        expect(proxy.lifecycle).toBeUndefined();
        expect(proxy.livenessProbe.timeoutSeconds).toBe(1);
        const init = out.spec.initContainers[0];
        expect(init).toMatchObject({ image: "cr.l5d.io/linkerd/proxy:edge-26.8.3", command: ["/usr/lib/linkerd/linkerd2-proxy-init"] });
        expect(init.args.slice(0, 5)).toEqual([
            "--firewall-bin-path",
            "iptables-nft",
            "--firewall-save-bin-path",
            "iptables-nft-save",
            "--ipv6=false",
        ]);
        // the namespace's inject annotation is copied to the pod
        expect(out.metadata.annotations["linkerd.io/inject"]).toBe("enabled");
        expect(out.metadata.annotations["linkerd.io/proxy-version"]).toBe("edge-26.8.3");
    });

    test("edge-26.8.3: the pod can opt out of native sidecars; keys by release", () => {
        expect(nativeSidecarKeys(VALUES_26_8)[0]).toBe("config.linkerd.io/proxy-enable-native-sidecar");
        expect(nativeSidecarKeys({ ...VALUES_26_8, linkerdVersion: "edge-25.10.7" })[0]).toBe("config.beta.linkerd.io/proxy-enable-native-sidecar");
        expect(nativeSidecarKeys({ ...VALUES_26_8, linkerdVersion: "edge-24.8.2" })).toEqual(["config.alpha.linkerd.io/proxy-enable-native-sidecar"]);
        const p = pod({ "linkerd.io/inject": "enabled", "config.alpha.linkerd.io/proxy-enable-native-sidecar": "false" });
        const out = applyPatch(p, podPatch(p, ctx(VALUES_26_8)));
        expect(out.spec.containers.map((c: any) => c.name)).toEqual(["linkerd-proxy", "web"]);
        expect(releaseOrdinal("edge-26.8.3")).toBe(2608);
        expect(releaseOrdinal("stable-2.14.10")).toBeLessThan(2400);
    });

    test("resources from linkerd-config, overridden per pod, then per namespace; version and image overrides", () => {
        const values = {
            ...VALUES_2_14,
            proxy: { ...VALUES_2_14.proxy, resources: { cpu: { request: "100m", limit: "" }, memory: { request: "20Mi", limit: "250Mi" } } },
        };
        const p = pod({
            "linkerd.io/inject": "enabled",
            "config.linkerd.io/proxy-memory-limit": "64Mi",
            "config.linkerd.io/proxy-version": "stable-2.14.9",
        });
        const c = ctx(values, { nsAnnotations: { "config.linkerd.io/proxy-cpu-limit": "1500m", "config.linkerd.io/proxy-memory-limit": "1Gi" } });
        const proxy = applyPatch(p, podPatch(p, c)).spec.containers[0];
        expect(proxy.resources).toEqual({ limits: { cpu: "1500m", memory: "64Mi" }, requests: { cpu: "100m", memory: "20Mi" } });
        expect(proxy.image).toBe("cr.l5d.io/linkerd/proxy:stable-2.14.9");
        expect(proxy.env.find((e: any) => e.name === "LINKERD2_PROXY_CORES").value).toBe("2");
    });

    test("a pod without annotations or labels gets the maps first; await disabled puts the proxy last; ingress mode", () => {
        const bare = { metadata: { name: "x" }, spec: { containers: [{ name: "app", image: "a" }] } };
        const ops = podPatch(
            bare,
            ctx(VALUES_2_14, { owner: undefined, mode: "ingress", nsAnnotations: { "config.linkerd.io/proxy-await": "disabled" } }),
        );
        expect(ops[0]).toEqual({ op: "add", path: "/metadata/annotations", value: {} });
        const out = applyPatch(bare, ops);
        expect(out.spec.containers.map((c: any) => c.name)).toEqual(["app", "linkerd-proxy"]);
        expect(out.spec.containers[1].env).toContainEqual({ name: "LINKERD2_PROXY_INGRESS_MODE", value: "true" });
        expect(Object.keys(out.metadata.labels)).toEqual(["linkerd.io/control-plane-ns", "linkerd.io/workload-ns"]);
    });
});

describe("proxy-injector stand-in: the opaque-ports patch for what it does not inject", () => {
    test("a Service exposing a default opaque port (directly or as targetPort) gets the annotation", () => {
        const svc = { metadata: { name: "db" }, spec: { ports: [{ port: 5432 }, { port: 80, targetPort: 3306 }, { port: 6379, targetPort: 8080 }] } };
        expect(opaquePortsPatch("Service", svc, {}, VALUES_2_14)).toEqual([
            { op: "add", path: "/metadata/annotations", value: {} },
            { op: "add", path: "/metadata/annotations/config.linkerd.io~1opaque-ports", value: "5432,80" },
        ]);
        expect(opaquePortsPatch("Service", { spec: { ports: [{ port: 80 }] } }, {}, VALUES_2_14)).toBeNull();
        expect(opaquePortsPatch("Service", svc, { "config.linkerd.io/opaque-ports": "9999" }, VALUES_2_14)?.[1].value).toBe("9999");
    });

    test("a pod it skips: the annotation only when it exposes a default opaque port and lacks it", () => {
        const db = pod({ "linkerd.io/inject": "disabled" }, { containers: [{ name: "pg", image: "postgres", ports: [{ containerPort: 5432 }] }] });
        expect(opaquePortsPatch("Pod", db, {}, VALUES_2_14)).toEqual([
            { op: "add", path: "/metadata/annotations/config.linkerd.io~1opaque-ports", value: "5432" },
        ]);
        expect(opaquePortsPatch("Pod", pod(), {}, VALUES_2_14)).toBeNull();
    });
});

describe("servicelb stand-in", () => {
    test("LoadBalancer Services get the node addresses (ExternalIP, else InternalIP); others, and those already set, nothing", () => {
        const ips = nodeAddresses([
            { status: { addresses: [{ type: "InternalIP", address: "127.0.0.1" }] } },
            { status: { addresses: [{ type: "InternalIP", address: "127.0.0.1" }] } },
        ]);
        expect(ips).toEqual(["127.0.0.1"]);
        expect(
            nodeAddresses([
                {
                    status: {
                        addresses: [
                            { type: "InternalIP", address: "10.1.1.1" },
                            { type: "ExternalIP", address: "1.2.3.4" },
                        ],
                    },
                },
            ]),
        ).toEqual(["1.2.3.4"]);
        expect(nodeAddresses([])).toEqual(["127.0.0.1"]);
        const lb = { metadata: { namespace: "traefik", name: "traefik" }, spec: { type: "LoadBalancer" } };
        expect(lbStatusPatch(lb, ips)).toEqual({ status: { loadBalancer: { ingress: [{ ip: "127.0.0.1", ipMode: "VIP" }] } } });
        expect(lbStatusPatch({ ...lb, status: { loadBalancer: { ingress: [{ ip: "127.0.0.1" }] } } }, ips)).toBeNull();
        expect(lbStatusPatch({ ...lb, spec: { type: "ClusterIP" } }, ips)).toBeNull();
        expect(lbStatusPatch({ ...lb, spec: { type: "LoadBalancer", loadBalancerClass: "metallb" } }, ips)).toBeNull();
    });
});

describe("cluster-network stand-in", () => {
    test("CONNECT targets and loopback", () => {
        expect(parseTarget("10.0.0.12:443")).toEqual({ host: "10.0.0.12", port: 443 });
        expect(parseTarget("[::1]:10250")).toEqual({ host: "::1", port: 10250 });
        expect(parseTarget("nonsense")).toBeNull();
        expect(isLoopback("127.0.0.1")).toBe(true);
        expect(isLoopback("::1")).toBe(true);
        expect(isLoopback("10.0.0.1")).toBe(false);
        expect(isLoopback("10.244.0.5")).toBe(false);
    });
});
