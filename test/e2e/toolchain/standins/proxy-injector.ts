/**
 * STAND-IN for Linkerd's proxy injector: the server of the webhook `linkerd-proxy-injector` that the
 * REAL linkerd-control-plane chart registers, hosted by the cluster-network stand-in
 * (cluster-network.ts). The real injector cannot be built here (the Go module proxy refuses
 * linkerd2), and its pod would not run on a kwok node anyway.
 *
 * Driven by the real chart's objects, not by a configuration of ours: the API server applies the
 * chart's MutatingWebhookConfiguration `linkerd-proxy-injector-webhook-config` (namespaceSelector,
 * objectSelector, rules CREATE pods/services, failurePolicy, timeout) and calls its Service; the
 * cluster-network stand-in hands that connection here. TLS uses the chart's own certificate, Secret
 * `<ns>/linkerd-proxy-injector-k8s-tls` (tls.crt/tls.key; the API server checks it against the
 * webhook's caBundle), read again whenever its resourceVersion changes (the chart makes a new one on
 * every upgrade). As the real injector, every request reads the chart's ConfigMaps
 * `<ns>/linkerd-config` (key `values`) and `<ns>/linkerd-identity-trust-roots` (`ca-bundle.crt`) and
 * the pod's Namespace.
 *
 * What it does (after linkerd2's controller/proxy-injector/webhook.go and pkg/inject, read at
 * stable-2.14.10 and edge-26.8.3; see injectDecision, podPatch, opaquePortsPatch):
 *  - a Pod it would inject (linkerd.io/inject `enabled`/`ingress` on the pod, or on the namespace
 *    unless the pod says `disabled`; not hostNetwork; no linkerd-proxy/linkerd-init (or Istio) sidecar
 *    yet): allowed with the JSON patch of the real one, in its order: annotations (sorted)
 *    linkerd.io/created-by `linkerd/proxy-injector <version>`, linkerd.io/proxy-version,
 *    linkerd.io/trust-root-sha256, config.linkerd.io/opaque-ports (defaults the pod exposes), the
 *    namespace's config annotations the pod lacks; labels linkerd.io/control-plane-ns,
 *    linkerd.io/workload-ns, linkerd.io/proxy-<deployment|daemonset|statefulset|job|replicaset|...>;
 *    volumes; the linkerd-init init container (proxyInit.image and proxyInit.resources on 2.14, the
 *    proxy image and proxy resources on later releases; nft flags when iptablesMode is nft); the
 *    linkerd-proxy container: image `proxy.image.name:<proxy.image.version or linkerdVersion>`,
 *    ports, probes, resources from proxy.resources, securityContext, await hook, env. It is the first
 *    container, or a native sidecar (initContainers right after linkerd-init, restartPolicy Always,
 *    startupProbe, no postStart) when linkerd-config's proxy.nativeSidecar is true or the annotation
 *    config.{linkerd,beta,alpha}.linkerd.io/proxy-enable-native-sidecar (the keys each release reads)
 *    says so on a release that has native sidecars. Per-pod overrides from the pod's annotations, else
 *    the namespace's: config.linkerd.io/proxy-image, proxy-version, image-pull-policy, proxy-{cpu,
 *    memory,ephemeral-storage}-{request,limit}, proxy-await, proxy-log-level, proxy-log-format,
 *    proxy-uid, skip-inbound-ports, skip-outbound-ports, skip-subnets, opaque-ports;
 *  - a Pod it would not inject, and a Service: allowed, with only the config.linkerd.io/opaque-ports
 *    annotation patch the real one adds when the object lacks it (inherited from the namespace, else
 *    the default opaque ports the object exposes), else no patch;
 *  - the namespace not found: denied with the error, as the real one.
 *
 * One addition the real injector does not make (serviceAccountCompensation): an injected pod without
 * spec.serviceAccountName gets `default`, because this cluster lacks the ServiceAccount admission
 * plugin that sets it on k3s before the webhook is called.
 *
 * What it does not do: no Kubernetes Events (Injected/Skipped), no metrics, no debug sidecar, no CNI
 * mode (network-validator), no tracing/podinfo volume, no preStop (waitBeforeExitSeconds), no
 * proxy.securityContext/capabilities/additionalEnv; the proxy env is 2.14's list (later releases add
 * variables such as _pod_uid and the LINKERD2_PROXY_CORES_MIN/CONTROL_STREAM family, and change
 * LINKERD2_PROXY_POLICY_WORKLOAD to JSON); config annotations beyond those listed above are
 * inherited but not applied. Without linkerd-config (never seen) it allows with no patch, as an
 * injector that is not running would through failurePolicy Ignore; once seen, the last copy is used
 * if the ConfigMap goes away (the real pod keeps its mounted copy).
 */
import { createHash } from "crypto";
import * as http from "http";
import * as yaml from "js-yaml";
import * as net from "net";
import * as tls from "tls";

import { Kube, logger } from "./kube";

const log = logger("proxy-injector STAND-IN");

export const INJECTOR_SERVICE = "linkerd-proxy-injector";
export const INJECTOR_WEBHOOK_CONFIG = "linkerd-proxy-injector-webhook-config";
export const INJECTOR_TLS_SECRET = "linkerd-proxy-injector-k8s-tls";
export const PROXY_CONTAINER = "linkerd-proxy";
export const INIT_CONTAINER = "linkerd-init";
const INJECT_ANNOTATION = "linkerd.io/inject";
const OPAQUE_PORTS = "config.linkerd.io/opaque-ports";

type Obj = Record<string, any>;

/**
 * edge-YY.M.P as YY*100+M (edge-26.8.3 -> 2608); stable-2.14 -> 2308 (its edge era); other stable
 * releases (2.15+) -> 2402 (they come from 2024's edges). Used only where releases differ.
 */
export function releaseOrdinal(linkerdVersion: string): number {
    const edge = /^edge-(\d+)\.(\d+)\./.exec(linkerdVersion);
    if (edge) return Number(edge[1]) * 100 + Number(edge[2]);
    const stable = /^stable-2\.(\d+)\./.exec(linkerdVersion);
    if (stable && Number(stable[1]) <= 14) return 2308;
    return 2402;
}

/** The native-sidecar annotation keys a release reads, in precedence order (none: no native sidecars). */
export function nativeSidecarKeys(values: Obj): string[] {
    if (values.proxy?.nativeSidecar === undefined) return [];
    const ord = releaseOrdinal(String(values.linkerdVersion ?? ""));
    const key = (p: string): string => `${p}/proxy-enable-native-sidecar`;
    if (ord >= 2606) return [key("config.linkerd.io"), key("config.beta.linkerd.io"), key("config.alpha.linkerd.io")];
    if (ord >= 2510) return [key("config.beta.linkerd.io"), key("config.alpha.linkerd.io")];
    return [key("config.alpha.linkerd.io")];
}

/** Namespace annotations a release copies to the pods it injects (keys the pod lacks). */
export function inheritedAnnotations(pod: Obj, nsAnnotations: Record<string, string>, values: Obj): Record<string, string> {
    const ord = releaseOrdinal(String(values.linkerdVersion ?? ""));
    const podAnn = pod.metadata?.annotations ?? {};
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(nsAnnotations)) {
        const inherited =
            k === INJECT_ANNOTATION ||
            k.startsWith("config.linkerd.io/") ||
            k.startsWith("config.alpha.linkerd.io/") ||
            (k.startsWith("config.beta.linkerd.io/") && ord >= 2510 && ord < 2606);
        if (inherited && !(k in podAnn)) out[k] = v;
    }
    return out;
}

export interface Decision {
    inject: boolean;
    /** `enabled` or `ingress` when injected */
    mode?: string;
    /** the real injector's skip reasons (pkg/inject/report.go), or what enabled injection */
    reason: string;
}

const PROXY_NAMES = ["linkerd-proxy", "istio-proxy"];
const PROXY_IMAGES = ["cr.l5d.io/linkerd/proxy:", "gcr.io/istio-release/proxyv2:"];
const INIT_NAMES = ["linkerd-init", "istio-init"];
const INIT_IMAGES = ["cr.l5d.io/linkerd/proxy-init:", "gcr.io/istio-release/proxy_init:"];

/** healthcheck.HasExistingSidecars (edge-26.8's, which also looks for the proxy among the init containers). */
export function hasExistingSidecar(spec: Obj): boolean {
    const containers: Obj[] = [...(spec.initContainers ?? []), ...(spec.containers ?? [])];
    if (containers.some((c) => PROXY_NAMES.includes(c.name) || PROXY_IMAGES.some((p) => String(c.image ?? "").startsWith(p)))) return true;
    return (spec.initContainers ?? []).some((c: Obj) => INIT_NAMES.includes(c.name) || INIT_IMAGES.some((p) => String(c.image ?? "").startsWith(p)));
}

/** report.Injectable(): every failing reason, in the real code's order. */
export function injectDecision(pod: Obj, nsAnnotations: Record<string, string>, values: Obj = {}): Decision {
    const spec = pod.spec ?? {};
    const reasons: string[] = [];
    if (spec.hostNetwork === true) reasons.push("host_network_enabled");
    if (hasExistingSidecar(spec)) reasons.push("sidecar_already_exists");
    const podValue: string | undefined = pod.metadata?.annotations?.[INJECT_ANNOTATION] || undefined;
    const nsValue: string | undefined = nsAnnotations[INJECT_ANNOTATION] || undefined;
    const valid = (v: string): boolean => ["enabled", "ingress", "disabled"].includes(v);
    const on = (v: string | undefined): boolean => v === "enabled" || v === "ingress";
    if (nsValue && !valid(nsValue)) reasons.push("invalid_inject_annotation_at_ns");
    else if (podValue && !valid(podValue)) reasons.push("invalid_inject_annotation_at_workload");
    else if (on(nsValue)) {
        if (podValue === "disabled") reasons.push("injection_disable_annotation_present");
    } else if (!on(podValue)) reasons.push("injection_enable_annotation_absent");
    if (values.identity?.serviceAccountTokenProjection === false) {
        // Only without token projection does the proxy need the automounted service account token.
        const first: Obj = (spec.containers ?? [])[0] ?? {};
        const mounted = (first.volumeMounts ?? []).some((m: Obj) => m.mountPath === "/var/run/secrets/kubernetes.io/serviceaccount");
        if (spec.automountServiceAccountToken === false || !mounted) reasons.push("disabled_automount_service_account_token_account");
    }
    if (reasons.length > 0) return { inject: false, reason: reasons.join(", ") };
    const effective = podValue ?? nsValue;
    return { inject: true, mode: effective, reason: `${INJECT_ANNOTATION}=${effective} on the ${podValue ? "pod" : "namespace"}` };
}

/** Default opaque ports (proxy.opaquePorts) the pod exposes, init containers first, as FilterPodOpaquePorts. */
export function podOpaquePorts(spec: Obj, values: Obj): string[] {
    const defaults = String(values.proxy?.opaquePorts ?? "").split(",");
    const out: string[] = [];
    for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) {
        for (const p of c.ports ?? []) if (defaults.includes(String(p.containerPort))) out.push(String(p.containerPort));
    }
    return out;
}

/** CreateOpaquePortsPatch: for an object that is not injected (a Pod or a Service), or null. */
export function opaquePortsPatch(kind: string, obj: Obj, nsAnnotations: Record<string, string>, values: Obj): JsonPatchOp[] | null {
    const annotations = obj.metadata?.annotations ?? {};
    if (OPAQUE_PORTS in annotations) return null;
    let ports: string | undefined = nsAnnotations[OPAQUE_PORTS];
    if (ports === undefined) {
        const defaults = String(values.proxy?.opaquePorts ?? "").split(",");
        let filtered: string[] = [];
        if (kind === "Pod") filtered = podOpaquePorts(obj.spec ?? {}, values);
        else if (kind === "Service") {
            for (const p of obj.spec?.ports ?? []) {
                const target = p.targetPort;
                const unset = target === undefined || target === 0;
                if (unset ? defaults.includes(String(p.port)) : typeof target === "number" && defaults.includes(String(target))) {
                    filtered.push(String(p.port));
                }
            }
        }
        if (filtered.length === 0) return null;
        ports = filtered.join(",");
    }
    const ops: JsonPatchOp[] = [];
    if (Object.keys(annotations).length === 0) ops.push({ op: "add", path: "/metadata/annotations", value: {} });
    ops.push({ op: "add", path: `/metadata/annotations/${escapePointer(OPAQUE_PORTS)}`, value: ports });
    return ops;
}

export interface JsonPatchOp {
    op: "add";
    path: string;
    value: unknown;
}

const escapePointer = (s: string): string => s.replace(/~/g, "~0").replace(/\//g, "~1");

export interface PatchContext {
    /** the namespace of the control plane (the webhook's Service namespace) */
    linkerdNamespace: string;
    /** the pod's namespace (request.namespace) */
    namespace: string;
    nsAnnotations: Record<string, string>;
    /** linkerd-config's `values`, parsed */
    values: Obj;
    /** ca-bundle.crt of linkerd-identity-trust-roots, exact bytes (else identityTrustAnchorsPEM, trimmed) */
    trustAnchors: string;
    /** the pod's workload as the owner label names it, e.g. { kind: "deployment", name: "web" } */
    owner?: { kind: string; name: string };
    /** `enabled` or `ingress` */
    mode: string;
}

export interface ProxySettings {
    image: string;
    version: string;
    pullPolicy: string;
    resources: Record<string, { request?: string; limit?: string }>;
    native: boolean;
    await: boolean;
    logLevel: string;
    logFormat: string;
    uid: number;
    gid: number;
    ports: { admin: number; control: number; inbound: number; outbound: number };
    opaquePorts: string;
    skipInbound: string;
    skipOutbound: string;
    skipSubnets: string;
    controllerVersion: string;
    /** the annotations overrides are read from: the namespace's inherited ones, then the pod's */
    annotations: Record<string, string>;
}

/** The proxy settings for one pod: linkerd-config values, overridden by the namespace's, then the pod's annotations. */
export function proxySettings(pod: Obj, ctx: PatchContext): ProxySettings {
    const v = ctx.values;
    const proxy = v.proxy ?? {};
    const annotations: Record<string, string> = { ...inheritedAnnotations(pod, ctx.nsAnnotations, v), ...(pod.metadata?.annotations ?? {}) };
    const ann = (key: string): string | undefined => annotations[key];
    const linkerdVersion = String(v.linkerdVersion ?? "");
    const version = ann("config.linkerd.io/proxy-version") || proxy.image?.version || linkerdVersion;
    const resources: ProxySettings["resources"] = {};
    for (const res of ["cpu", "memory", "ephemeral-storage"]) {
        for (const kind of ["request", "limit"] as const) {
            const value = ann(`config.linkerd.io/proxy-${res}-${kind}`) ?? proxy.resources?.[res]?.[kind];
            if (value !== undefined && value !== null && value !== "") (resources[res] ??= {})[kind] = String(value);
        }
    }
    const nativeAnn = nativeSidecarKeys(v)
        .map(ann)
        .find((a) => a !== undefined);
    const native = nativeSidecarKeys(v).length > 0 && (nativeAnn !== undefined ? /^(1|t|true)$/i.test(nativeAnn) : proxy.nativeSidecar === true);
    const awaitAnn = ann("config.linkerd.io/proxy-await");
    return {
        image: `${ann("config.linkerd.io/proxy-image") || proxy.image?.name || "cr.l5d.io/linkerd/proxy"}:${version}`,
        version,
        pullPolicy: ann("config.linkerd.io/image-pull-policy") || proxy.image?.pullPolicy || v.imagePullPolicy || "IfNotPresent",
        resources,
        native,
        await: awaitAnn !== undefined ? awaitAnn === "enabled" : proxy.await !== false,
        logLevel: ann("config.linkerd.io/proxy-log-level") ?? proxy.logLevel ?? "warn,linkerd=info",
        logFormat: ann("config.linkerd.io/proxy-log-format") ?? proxy.logFormat ?? "plain",
        uid: Number(ann("config.linkerd.io/proxy-uid") ?? proxy.uid ?? 2102),
        gid: proxy.gid !== undefined && proxy.gid !== null ? Number(proxy.gid) : -1,
        ports: { admin: 4191, control: 4190, inbound: 4143, outbound: 4140, ...(proxy.ports ?? {}) },
        opaquePorts: ann(OPAQUE_PORTS) ?? proxy.opaquePorts ?? "",
        skipInbound: ann("config.linkerd.io/skip-inbound-ports") ?? "",
        skipOutbound: ann("config.linkerd.io/skip-outbound-ports") ?? "",
        skipSubnets: ann("config.linkerd.io/skip-subnets") ?? "",
        controllerVersion: String(v.controllerImageVersion || linkerdVersion),
        annotations,
    };
}

/** partials.resources: limits/requests from {cpu,memory,ephemeral-storage}.{limit,request}; undefined when empty. */
function resourcesOf(r: Obj): Obj | undefined {
    const limits: Obj = {};
    const requests: Obj = {};
    for (const [res, kinds] of Object.entries(r ?? {})) {
        if ((kinds as Obj)?.limit) limits[res] = String((kinds as Obj).limit);
        if ((kinds as Obj)?.request) requests[res] = String((kinds as Obj).request);
    }
    const out: Obj = {};
    if (Object.keys(limits).length) out.limits = limits;
    if (Object.keys(requests).length) out.requests = requests;
    return Object.keys(out).length ? out : undefined;
}

/** Every containerPort and probe port of the pod, sorted as strings (LINKERD2_PROXY_INBOUND_PORTS). */
function inboundPorts(spec: Obj): string {
    const ports = new Set<string>();
    for (const c of spec.containers ?? []) {
        for (const p of c.ports ?? []) ports.add(String(p.containerPort));
        for (const probe of [c.livenessProbe, c.readinessProbe]) {
            const port = probe?.httpGet?.port ?? probe?.tcpSocket?.port;
            if (typeof port === "number") ports.add(String(port));
        }
    }
    return [...ports].sort().join(",");
}

/** The linkerd-proxy container as the chart's partials.proxy renders it (env: 2.14's list). */
export function proxyContainer(pod: Obj, s: ProxySettings, ctx: PatchContext): Obj {
    const v = ctx.values;
    const proxy = v.proxy ?? {};
    const ns = ctx.linkerdNamespace;
    const clusterDomain = v.clusterDomain || "cluster.local";
    const trustDomain = v.identityTrustDomain || clusterDomain;
    const projection = v.identity?.serviceAccountTokenProjection !== false;
    const id = (sa: string): string => `${sa}.${ns}.serviceaccount.identity.${ns}.${trustDomain}`;
    const opt = (name: string, value: unknown): Obj[] => (value ? [{ name, value: typeof value === "string" ? value : JSON.stringify(value) }] : []);
    const cores = proxy.cores || (s.resources.cpu?.limit ? Math.ceil(cpuCores(s.resources.cpu.limit)) : 0);
    const env: Obj[] = [
        { name: "_pod_name", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
        { name: "_pod_ns", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } },
        { name: "_pod_nodeName", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } },
        ...opt("LINKERD2_PROXY_CORES", cores),
        ...opt("LINKERD2_PROXY_INBOUND_PORTS_REQUIRE_IDENTITY", proxy.requireIdentityOnInboundPorts),
        { name: "LINKERD2_PROXY_LOG", value: s.logLevel },
        { name: "LINKERD2_PROXY_LOG_FORMAT", value: s.logFormat },
        { name: "LINKERD2_PROXY_DESTINATION_SVC_ADDR", value: `linkerd-dst-headless.${ns}.svc.${clusterDomain}.:8086` },
        { name: "LINKERD2_PROXY_DESTINATION_PROFILE_NETWORKS", value: String(v.clusterNetworks ?? "") },
        { name: "LINKERD2_PROXY_POLICY_SVC_ADDR", value: `linkerd-policy.${ns}.svc.${clusterDomain}.:8090` },
        { name: "LINKERD2_PROXY_POLICY_WORKLOAD", value: "$(_pod_ns):$(_pod_name)" },
        { name: "LINKERD2_PROXY_INBOUND_DEFAULT_POLICY", value: String(proxy.defaultInboundPolicy ?? "all-unauthenticated") },
        { name: "LINKERD2_PROXY_POLICY_CLUSTER_NETWORKS", value: String(v.clusterNetworks ?? "") },
        ...opt("LINKERD2_PROXY_INBOUND_CONNECT_TIMEOUT", proxy.inboundConnectTimeout),
        ...opt("LINKERD2_PROXY_OUTBOUND_CONNECT_TIMEOUT", proxy.outboundConnectTimeout),
        ...opt("LINKERD2_PROXY_OUTBOUND_DISCOVERY_IDLE_TIMEOUT", proxy.outboundDiscoveryCacheUnusedTimeout),
        ...opt("LINKERD2_PROXY_INBOUND_DISCOVERY_IDLE_TIMEOUT", proxy.inboundDiscoveryCacheUnusedTimeout),
        { name: "LINKERD2_PROXY_CONTROL_LISTEN_ADDR", value: `0.0.0.0:${s.ports.control}` },
        { name: "LINKERD2_PROXY_ADMIN_LISTEN_ADDR", value: `0.0.0.0:${s.ports.admin}` },
        { name: "LINKERD2_PROXY_OUTBOUND_LISTEN_ADDR", value: `127.0.0.1:${s.ports.outbound}` },
        { name: "LINKERD2_PROXY_INBOUND_LISTEN_ADDR", value: `0.0.0.0:${s.ports.inbound}` },
        { name: "LINKERD2_PROXY_INBOUND_IPS", valueFrom: { fieldRef: { fieldPath: "status.podIPs" } } },
        { name: "LINKERD2_PROXY_INBOUND_PORTS", value: inboundPorts(pod.spec ?? {}) },
        ...opt("LINKERD2_PROXY_INGRESS_MODE", ctx.mode === "ingress" ? "true" : ""),
        { name: "LINKERD2_PROXY_DESTINATION_PROFILE_SUFFIXES", value: proxy.enableExternalProfiles ? "." : `svc.${clusterDomain}.` },
        { name: "LINKERD2_PROXY_INBOUND_ACCEPT_KEEPALIVE", value: "10000ms" },
        { name: "LINKERD2_PROXY_OUTBOUND_CONNECT_KEEPALIVE", value: "10000ms" },
        ...opt("LINKERD2_PROXY_INBOUND_PORTS_DISABLE_PROTOCOL_DETECTION", s.opaquePorts),
        { name: "LINKERD2_PROXY_DESTINATION_CONTEXT", value: '{"ns":"$(_pod_ns)", "nodeName":"$(_pod_nodeName)", "pod":"$(_pod_name)"}\n' },
        { name: "_pod_sa", valueFrom: { fieldRef: { fieldPath: "spec.serviceAccountName" } } },
        { name: "_l5d_ns", value: ns },
        { name: "_l5d_trustdomain", value: trustDomain },
        { name: "LINKERD2_PROXY_IDENTITY_DIR", value: "/var/run/linkerd/identity/end-entity" },
        { name: "LINKERD2_PROXY_IDENTITY_TRUST_ANCHORS", value: ctx.trustAnchors },
        {
            name: "LINKERD2_PROXY_IDENTITY_TOKEN_FILE",
            value: projection ? "/var/run/secrets/tokens/linkerd-identity-token" : "/var/run/secrets/kubernetes.io/serviceaccount/token",
        },
        { name: "LINKERD2_PROXY_IDENTITY_SVC_ADDR", value: `linkerd-identity-headless.${ns}.svc.${clusterDomain}.:8080` },
        { name: "LINKERD2_PROXY_IDENTITY_LOCAL_NAME", value: `$(_pod_sa).$(_pod_ns).serviceaccount.identity.${ns}.${trustDomain}` },
        { name: "LINKERD2_PROXY_IDENTITY_SVC_NAME", value: id("linkerd-identity") },
        { name: "LINKERD2_PROXY_DESTINATION_SVC_NAME", value: id("linkerd-destination") },
        { name: "LINKERD2_PROXY_POLICY_SVC_NAME", value: id("linkerd-destination") },
        ...opt("LINKERD2_PROXY_ACCESS_LOG", proxy.accessLog),
        ...opt("LINKERD2_PROXY_SHUTDOWN_GRACE_PERIOD", proxy.shutdownGracePeriod),
    ];
    const probe = (p: string, key: string): Obj => ({
        httpGet: { path: p, port: s.ports.admin },
        initialDelaySeconds: proxy[key]?.initialDelaySeconds ?? (key === "livenessProbe" ? 10 : 2),
        ...(proxy[key]?.timeoutSeconds !== undefined ? { timeoutSeconds: proxy[key].timeoutSeconds } : {}),
    });
    const container: Obj = {
        env,
        image: s.image,
        imagePullPolicy: s.pullPolicy,
        livenessProbe: probe("/live", "livenessProbe"),
        name: PROXY_CONTAINER,
        ports: [
            { containerPort: s.ports.inbound, name: "linkerd-proxy" },
            { containerPort: s.ports.admin, name: "linkerd-admin" },
        ],
        readinessProbe: probe("/ready", "readinessProbe"),
    };
    if (s.native && s.await) {
        const sp = proxy.startupProbe ?? {};
        container.startupProbe = {
            httpGet: { path: "/ready", port: s.ports.admin },
            initialDelaySeconds: sp.initialDelaySeconds ?? 0,
            periodSeconds: sp.periodSeconds ?? 1,
            failureThreshold: sp.failureThreshold ?? 120,
        };
    }
    const resources = resourcesOf(s.resources);
    if (resources) container.resources = resources;
    container.securityContext = {
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        runAsNonRoot: true,
        runAsUser: s.uid,
        ...(s.gid >= 0 ? { runAsGroup: s.gid } : {}),
        seccompProfile: { type: "RuntimeDefault" },
    };
    container.terminationMessagePolicy = "FallbackToLogsOnError";
    if (!s.native && s.await) {
        container.lifecycle = { postStart: { exec: { command: ["/usr/lib/linkerd/linkerd-await", "--timeout=2m", `--port=${s.ports.admin}`] } } };
    }
    container.volumeMounts = [
        { mountPath: "/var/run/linkerd/identity/end-entity", name: "linkerd-identity-end-entity" },
        ...(projection ? [{ mountPath: "/var/run/secrets/tokens", name: "linkerd-identity-token" }] : []),
    ];
    if (s.native) container.restartPolicy = "Always";
    return container;
}

/** A Kubernetes CPU quantity in cores ("500m" -> 0.5, "2" -> 2). */
function cpuCores(q: string): number {
    return q.endsWith("m") ? Number(q.slice(0, -1)) / 1000 : Number(q);
}

/** The linkerd-init container as the chart's partials.proxy-init renders it. */
export function initContainer(s: ProxySettings, ctx: PatchContext): Obj {
    const v = ctx.values;
    const pi = v.proxyInit ?? {};
    const args: string[] = [];
    if ((pi.iptablesMode || "legacy") === "nft") args.push("--firewall-bin-path", "iptables-nft", "--firewall-save-bin-path", "iptables-nft-save");
    // --ipv6=false exists where the chart has disableIPv6 (2.15+).
    if (v.disableIPv6) args.push("--ipv6=false");
    const ignoreIn = [`${s.ports.control},${s.ports.admin}`, pi.ignoreInboundPorts, s.skipInbound].filter((p) => p).join(",");
    const ignoreOut = [pi.ignoreOutboundPorts, s.skipOutbound].filter((p) => p).join(",");
    args.push("--incoming-proxy-port", String(s.ports.inbound), "--outgoing-proxy-port", String(s.ports.outbound), "--proxy-uid", String(s.uid));
    if (s.gid >= 0) args.push("--proxy-gid", String(s.gid));
    args.push("--inbound-ports-to-ignore", ignoreIn);
    if (ignoreOut) args.push("--outbound-ports-to-ignore", ignoreOut);
    if (pi.logFormat) args.push("--log-format", String(pi.logFormat));
    if (pi.logLevel) args.push("--log-level", String(pi.logLevel));
    const subnets = [pi.skipSubnets, s.skipSubnets].filter((p) => p).join(",");
    if (subnets) args.push("--subnets-to-ignore", subnets);
    // 2.14: its own proxy-init image and resources; later releases: the proxy image and resources.
    const own = pi.image?.name !== undefined;
    const c: Obj = { args };
    if (own) {
        c.image = `${pi.image.name}:${pi.image.version ?? ""}`;
        c.imagePullPolicy = pi.image.pullPolicy || v.imagePullPolicy || "IfNotPresent";
    } else {
        c.image = s.image;
        c.command = ["/usr/lib/linkerd/linkerd2-proxy-init"];
        c.imagePullPolicy = s.pullPolicy;
    }
    c.name = INIT_CONTAINER;
    const resources = resourcesOf(pi.resources !== undefined ? pi.resources : s.resources);
    if (resources) c.resources = resources;
    c.securityContext = {
        allowPrivilegeEscalation: !!(pi.closeWaitTimeoutSecs || pi.privileged),
        capabilities: { add: ["NET_ADMIN", "NET_RAW"] },
        privileged: !!(pi.closeWaitTimeoutSecs || pi.privileged),
        ...(pi.runAsRoot
            ? { runAsNonRoot: false, runAsUser: 0, ...(pi.runAsGroup !== undefined ? { runAsGroup: 0 } : {}) }
            : {
                  runAsNonRoot: true,
                  runAsUser: Number(pi.runAsUser) || 65534,
                  ...(pi.runAsGroup !== undefined ? { runAsGroup: Number(pi.runAsGroup) || 65534 } : {}),
              }),
        readOnlyRootFilesystem: true,
        seccompProfile: { type: "RuntimeDefault" },
    };
    c.terminationMessagePolicy = "FallbackToLogsOnError";
    c.volumeMounts = [{ mountPath: pi.xtMountPath?.mountPath ?? "/run", name: pi.xtMountPath?.name ?? "linkerd-proxy-init-xtables-lock" }];
    return c;
}

/** The JSON patch the real injector returns for a pod it injects, in the real order of operations. */
export function podPatch(pod: Obj, ctx: PatchContext): JsonPatchOp[] {
    const s = proxySettings(pod, ctx);
    const ops: JsonPatchOp[] = [];
    const meta = pod.metadata ?? {};
    const spec = pod.spec ?? {};
    const podAnn: Record<string, string> = meta.annotations ?? {};
    const annotations: Record<string, string> = {
        ...inheritedAnnotations(pod, ctx.nsAnnotations, ctx.values),
        "linkerd.io/created-by": `linkerd/proxy-injector ${s.controllerVersion}`,
        "linkerd.io/proxy-version": s.version,
        "linkerd.io/trust-root-sha256": createHash("sha256").update(ctx.trustAnchors).digest("hex"),
    };
    if (!(OPAQUE_PORTS in podAnn) && !(OPAQUE_PORTS in annotations)) {
        const ports = podOpaquePorts(spec, ctx.values);
        if (ports.length) annotations[OPAQUE_PORTS] = ports.join(",");
    }
    if (Object.keys(podAnn).length === 0) ops.push({ op: "add", path: "/metadata/annotations", value: {} });
    for (const k of Object.keys(annotations).sort())
        ops.push({ op: "add", path: `/metadata/annotations/${escapePointer(k)}`, value: annotations[k] });
    const labels: Record<string, string> = { "linkerd.io/control-plane-ns": ctx.linkerdNamespace, "linkerd.io/workload-ns": ctx.namespace };
    if (ctx.owner) labels[`linkerd.io/proxy-${ctx.owner.kind}`] = ctx.owner.name;
    if (Object.keys(meta.labels ?? {}).length === 0) ops.push({ op: "add", path: "/metadata/labels", value: {} });
    for (const k of Object.keys(labels).sort()) ops.push({ op: "add", path: `/metadata/labels/${escapePointer(k)}`, value: labels[k] });
    if (!spec.volumes?.length) ops.push({ op: "add", path: "/spec/volumes", value: [] });
    if (!spec.initContainers?.length) ops.push({ op: "add", path: "/spec/initContainers", value: [] });
    if (!ctx.values.cniEnabled) {
        ops.push({ op: "add", path: "/spec/volumes/-", value: { emptyDir: {}, name: "linkerd-proxy-init-xtables-lock" } });
        ops.push({ op: "add", path: s.native ? "/spec/initContainers/0" : "/spec/initContainers/-", value: initContainer(s, ctx) });
    }
    ops.push({ op: "add", path: "/spec/volumes/-", value: { name: "linkerd-identity-end-entity", emptyDir: { medium: "Memory" } } });
    if (ctx.values.identity?.serviceAccountTokenProjection !== false) {
        ops.push({
            op: "add",
            path: "/spec/volumes/-",
            value: {
                name: "linkerd-identity-token",
                projected: {
                    sources: [{ serviceAccountToken: { audience: "identity.l5d.io", expirationSeconds: 86400, path: "linkerd-identity-token" } }],
                },
            },
        });
    }
    const proxy = proxyContainer(pod, s, ctx);
    if (s.native) ops.push({ op: "add", path: ctx.values.cniEnabled ? "/spec/initContainers/0" : "/spec/initContainers/1", value: proxy });
    else ops.push({ op: "add", path: s.await ? "/spec/containers/0" : "/spec/containers/-", value: proxy });
    return ops;
}

/**
 * NOT the injector's: this cluster runs kube-apiserver without the ServiceAccount admission plugin
 * (as envtest), which on k3s has set spec.serviceAccountName to `default` before any webhook runs.
 * Without it the injected linkerd-identity-token volume (a projected serviceAccountToken) is refused
 * ("must not be specified when serviceAccountName is not set"), so an injected pod that names no
 * service account gets `default`, as the plugin would have given it.
 */
export function serviceAccountCompensation(pod: Obj): JsonPatchOp[] {
    return pod.spec?.serviceAccountName ? [] : [{ op: "add", path: "/spec/serviceAccountName", value: "default" }];
}

/**
 * The owner label of a pod (MetadataAPI.GetOwnerKindAndName): a ReplicaSet's Deployment (or other
 * controller), a Job's parent unless it is a CronJob; no label for a CronJob's Job or a bare pod.
 */
export function ownerLabelKind(kind: string): string | null {
    const k = kind.toLowerCase();
    return ["deployment", "replicationcontroller", "replicaset", "job", "daemonset", "statefulset"].includes(k) ? k : null;
}

interface Review {
    apiVersion: string;
    kind: string;
    request?: Obj;
}

/** The real injector's server, fed connections by the cluster-network stand-in. */
export class ProxyInjectorStandIn {
    readonly description = `${INJECTOR_SERVICE} (webhook ${INJECTOR_WEBHOOK_CONFIG}, TLS from Secret ${INJECTOR_TLS_SECRET})`;
    private readonly server: http.Server;
    private readonly contexts = new Map<string, { resourceVersion: string; context: tls.SecureContext }>();
    /** last linkerd-config values seen per namespace: the real injector keeps its mounted copy too */
    private readonly lastValues = new Map<string, Obj>();

    constructor(private readonly kube: Kube) {
        this.server = http.createServer((req, res) => void this.handle(req, res));
        this.server.keepAliveTimeout = 60_000;
    }

    /** Only the Service a MutatingWebhookConfiguration names as its proxy injector, on that port. */
    async serves(svc: { metadata: { namespace: string; name: string } }, port: number): Promise<boolean> {
        if (svc.metadata.name !== INJECTOR_SERVICE) return false;
        const list = await this.kube.get<{ items: Obj[] }>("/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations");
        return (list?.items ?? []).some((cfg) =>
            (cfg.webhooks ?? []).some((w: Obj) => {
                const ref = w.clientConfig?.service;
                return ref && ref.name === INJECTOR_SERVICE && ref.namespace === svc.metadata.namespace && (ref.port ?? 443) === port;
            }),
        );
    }

    accept(socket: net.Socket, svc: { metadata: { namespace: string; name: string } }): void {
        const namespace = svc.metadata.namespace;
        this.secureContext(namespace).then(
            (context) => {
                const tlsSocket = new tls.TLSSocket(socket, { isServer: true, secureContext: context, ALPNProtocols: ["http/1.1"] });
                (tlsSocket as any).linkerdNamespace = namespace;
                tlsSocket.on("error", (err) => log(`TLS connection from the API server: ${err.message}`));
                this.server.emit("connection", tlsSocket);
            },
            (err) => {
                // As an injector that cannot serve: the API server's call fails (failurePolicy decides).
                log(`cannot serve TLS for ${namespace}/${INJECTOR_SERVICE}: ${(err as Error).message}; closing the connection`);
                socket.destroy();
            },
        );
    }

    /** The chart's certificate, read again when the Secret's resourceVersion changes (every helm upgrade). */
    private async secureContext(namespace: string): Promise<tls.SecureContext> {
        const secret = await this.kube.get<Obj>(`/api/v1/namespaces/${namespace}/secrets/${INJECTOR_TLS_SECRET}`);
        if (!secret) throw new Error(`Secret ${namespace}/${INJECTOR_TLS_SECRET} not found`);
        const cached = this.contexts.get(namespace);
        if (cached && cached.resourceVersion === secret.metadata.resourceVersion) return cached.context;
        const data = secret.data ?? {};
        if (!data["tls.crt"] || !data["tls.key"]) throw new Error(`Secret ${namespace}/${INJECTOR_TLS_SECRET} has no tls.crt/tls.key`);
        const context = tls.createSecureContext({ cert: Buffer.from(data["tls.crt"], "base64"), key: Buffer.from(data["tls.key"], "base64") });
        this.contexts.set(namespace, { resourceVersion: secret.metadata.resourceVersion, context });
        log(
            `${cached ? "reloaded" : "loaded"} the serving certificate from Secret ${namespace}/${INJECTOR_TLS_SECRET} (resourceVersion ${secret.metadata.resourceVersion})`,
        );
        return context;
    }

    private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
        const chunks: Buffer[] = [];
        for await (const c of req) chunks.push(c as Buffer);
        let review: Review;
        try {
            review = JSON.parse(Buffer.concat(chunks).toString("utf8"));
        } catch (err) {
            res.writeHead(400, { "Content-Type": "text/plain" }).end(`cannot decode AdmissionReview: ${(err as Error).message}\n`);
            return;
        }
        const linkerdNamespace: string = (req.socket as any).linkerdNamespace;
        const started = Date.now();
        const request = review.request ?? {};
        let response: Obj;
        let reason: string;
        let injected = false;
        try {
            ({ response, reason, injected = false } = await this.review(request, linkerdNamespace));
        } catch (err) {
            // As the real injector: a failed handler answers allowed: false with the error (the pod is rejected).
            reason = `error: ${(err as Error).message}`;
            response = { allowed: false, status: { message: `STAND-IN proxy injector: ${(err as Error).message}` } };
        }
        // The real server echoes the review (apiVersion, kind, request) with the response filled in.
        const out = {
            ...review,
            apiVersion: review.apiVersion || "admission.k8s.io/v1",
            kind: "AdmissionReview",
            response: { uid: request.uid, ...response },
        };
        res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify(out));
        const name = request.name || request.object?.metadata?.name || `${request.object?.metadata?.generateName ?? ""}<generated>`;
        const verdict = !response.allowed ? "DENIED" : injected ? "injected" : response.patch ? "annotation patch only" : "no patch";
        log(`${request.kind?.kind ?? "?"} ${request.namespace ?? ""}/${name}: ${verdict} (${reason}) in ${Date.now() - started} ms`);
    }

    private async review(request: Obj, linkerdNamespace: string): Promise<{ response: Obj; reason: string; injected?: boolean }> {
        const kind: string = request.kind?.kind ?? "";
        const obj: Obj = request.object ?? {};
        if ((request.kind?.group ?? "") !== "" || request.operation !== "CREATE" || (kind !== "Pod" && kind !== "Service")) {
            return { response: { allowed: true }, reason: "neither a Pod nor a Service CREATE" };
        }
        const namespace: string = request.namespace || obj.metadata?.namespace;
        const values = await this.values(linkerdNamespace);
        if (!values) {
            return { response: { allowed: true }, reason: `no ConfigMap ${linkerdNamespace}/linkerd-config: as an injector that is not running` };
        }
        const ns = await this.kube.get<Obj>(`/api/v1/namespaces/${namespace}`);
        if (!ns) throw new Error(`namespace "${namespace}" not found`);
        const nsAnnotations: Record<string, string> = ns.metadata?.annotations ?? {};
        const jsonPatch = (ops: JsonPatchOp[]): Obj => ({ patchType: "JSONPatch", patch: Buffer.from(JSON.stringify(ops)).toString("base64") });
        const decision: Decision = kind === "Pod" ? injectDecision(obj, nsAnnotations, values) : { inject: false, reason: "unsupported_resource" };
        if (!decision.inject) {
            const ops = opaquePortsPatch(kind, obj, nsAnnotations, values);
            return { response: { allowed: true, ...(ops ? jsonPatch(ops) : {}) }, reason: decision.reason };
        }
        const roots = await this.kube.get<Obj>(`/api/v1/namespaces/${linkerdNamespace}/configmaps/linkerd-identity-trust-roots`);
        const trustAnchors = String(roots?.data?.["ca-bundle.crt"] ?? String(values.identityTrustAnchorsPEM ?? "").trim());
        const owner = await this.owner(obj, namespace);
        const ctx: PatchContext = { linkerdNamespace, namespace, nsAnnotations, values, trustAnchors, owner, mode: decision.mode! };
        const s = proxySettings(obj, ctx);
        return {
            response: { allowed: true, ...jsonPatch([...serviceAccountCompensation(obj), ...podPatch(obj, ctx)]) },
            injected: true,
            reason: `${decision.reason}; proxy ${s.image}${s.native ? " as a native sidecar" : ""}`,
        };
    }

    private async values(linkerdNamespace: string): Promise<Obj | null> {
        const cm = await this.kube.get<Obj>(`/api/v1/namespaces/${linkerdNamespace}/configmaps/linkerd-config`);
        if (cm?.data?.values) {
            const values = (yaml.load(cm.data.values) as Obj) ?? {};
            this.lastValues.set(linkerdNamespace, values);
            return values;
        }
        return this.lastValues.get(linkerdNamespace) ?? null;
    }

    /** The pod's owner for the linkerd.io/proxy-<kind> label: ReplicaSet -> its controller, Job -> its CronJob (no label). */
    private async owner(pod: Obj, namespace: string): Promise<{ kind: string; name: string } | undefined> {
        const ref = (pod.metadata?.ownerReferences ?? []).find((o: Obj) => o.controller) ?? pod.metadata?.ownerReferences?.[0];
        if (!ref) return undefined;
        const parentOf = async (path: string): Promise<Obj | undefined> => {
            try {
                const obj = await this.kube.get<Obj>(path);
                return (obj?.metadata?.ownerReferences ?? []).find((o: Obj) => o.controller);
            } catch {
                return undefined;
            }
        };
        let kind: string = ref.kind;
        let name: string = ref.name;
        if (ref.kind === "ReplicaSet") {
            const up = await parentOf(`/apis/apps/v1/namespaces/${namespace}/replicasets/${ref.name}`);
            if (up) [kind, name] = [up.kind, up.name];
        } else if (ref.kind === "Job") {
            const up = await parentOf(`/apis/batch/v1/namespaces/${namespace}/jobs/${ref.name}`);
            if (up) [kind, name] = [up.kind, up.name];
        }
        const label = ownerLabelKind(kind);
        return label ? { kind: label, name } : undefined;
    }
}
