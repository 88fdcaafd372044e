import {
    ALL_RULES,
    AUTOMOUNT_RULE,
    HOSTNETWORK_RULE,
    IGNORED_NAMESPACE_RULE,
    JOB_RULE,
    NGINX_RULE,
    RuleContext,
    TRAEFIK_RULE,
    VIZ_RULE,
    awaitsWithShutdown,
    checkHelmRelease,
    checkObject,
    contextFromObjects,
    emptyContext,
    hostRegexpAcceptsAnyHost,
    parseLinkerdVersion,
    releaseFacts,
    releaseOverridesFromControlPlane,
} from "../../policy/rules";
import { Loose as Obj } from "../support/loose";
import {
    container,
    cronJob,
    ctx,
    daemonSet,
    deployment,
    elasticsearch,
    ingress,
    ingressRoute,
    job,
    kibana,
    middleware,
    namespace,
    pod,
    replicaSet,
    statefulSet,
} from "./builders";

const DISABLED = { "linkerd.io/inject": "disabled" };
const ENABLED = { "linkerd.io/inject": "enabled" };
const AWAIT = (cmd: string[]) => ["linkerd-await", "--shutdown", "--", ...cmd];
const L5D = (svc: string, ns: string, port = 8080) => ({ "l5d-dst-override": `${svc}.${ns}.svc.cluster.local:${port}` });

/** The guide's kube-prometheus-stack admission Job, as `helm template` renders it (abridged). */
const admissionCreate = (annotations?: Record<string, string>) =>
    job({
        name: "kube-prometheus-stack-admission-create",
        namespace: "monitoring",
        annotations,
        containers: [
            container("create", undefined, [
                "create",
                "--host=kube-prometheus-stack-operator,kube-prometheus-stack-operator.monitoring.svc",
                "--namespace=monitoring",
                "--secret-name=kube-prometheus-stack-admission",
            ]),
        ],
    });

const vizWeb = (enforcedHost: string) =>
    deployment({
        name: "web",
        namespace: "linkerd-viz",
        containers: [
            container("web", undefined, [
                "-linkerd-metrics-api-addr=metrics-api.linkerd-viz.svc.cluster.local:8085",
                `-enforced-host=${enforcedHost}`,
            ]),
        ],
    });

interface Case {
    title: string;
    obj: Obj;
    ctx?: RuleContext;
    /** Expected text fragments in the message. */
    says?: string[];
}

/** A Pod that Helm runs as a hook (`helm test` for test hooks) and waits for. */
const hookPod = (o: { namespace?: string; hook?: string; restartPolicy?: string; annotations?: Record<string, string>; containers?: Obj[] } = {}) => {
    const p = pod({ name: "chart-test-connection", namespace: o.namespace ?? "apps", containers: o.containers });
    return {
        ...p,
        metadata: { ...p.metadata, annotations: { "helm.sh/hook": o.hook ?? "test", ...(o.annotations ?? {}) } },
        spec: { ...p.spec, ...(o.restartPolicy === "" ? {} : { restartPolicy: o.restartPolicy ?? "Never" }) },
    };
};

/** k3s' bundled Traefik as the guide meshes it: in kube-system, ingress mode. */
const k3sTraefik = (annotations: Record<string, string> = { "linkerd.io/inject": "ingress", "config.linkerd.io/skip-outbound-ports": "443" }) =>
    deployment({
        name: "traefik",
        namespace: "kube-system",
        annotations,
        containers: [container("traefik", undefined, ["--entryPoints.web.address=:8000"])],
    });

const M = ["monitoring", "logging", "apps", "default"];
const v216 = { linkerdVersion: "2.16" };

// ---------------------------------------------------------------------------------------------------------------
// Bad inputs: rule → cases that must produce at least one finding of that rule.
// ---------------------------------------------------------------------------------------------------------------
/** A control plane without service-account token projection (identity.serviceAccountTokenProjection false). */
const NO_PROJECTION = { serviceAccountTokenProjection: false };

const BAD: Record<string, Case[]> = {
    [JOB_RULE]: [
        {
            title: "guide: kube-prometheus-stack admission-create Job in the meshed monitoring namespace",
            obj: admissionCreate(),
            ctx: ctx(M),
            says: ['namespace "monitoring" is meshed', "`linkerd.io/inject: disabled`", "spec.template.metadata.annotations"],
        },
        {
            title: "guide: kube-prometheus-stack admission-patch Job",
            obj: job({
                name: "kube-prometheus-stack-admission-patch",
                namespace: "monitoring",
                containers: [container("patch", undefined, ["patch"])],
            }),
            ctx: ctx(M),
        },
        {
            title: "CronJob in a meshed namespace (implicit)",
            obj: cronJob({ namespace: "apps" }),
            ctx: ctx(M),
            says: ['namespace "apps"', "spec.jobTemplate.spec.template.metadata.annotations", "CronJob never completes"],
        },
        {
            title: "Job asks for injection explicitly in an unmeshed namespace",
            obj: job({ namespace: "tools", annotations: ENABLED }),
            ctx: ctx(M),
            says: ["the pod template sets linkerd.io/inject: enabled", "instead of asking for injection"],
        },
        { title: "CronJob asks for injection explicitly", obj: cronJob({ namespace: "tools", annotations: ENABLED }), ctx: ctx() },
        { title: "Job with inject: ingress", obj: job({ namespace: "tools", annotations: { "linkerd.io/inject": "ingress" } }), ctx: ctx() },
        {
            title: "linkerd-await without --shutdown",
            obj: job({ namespace: "apps", containers: [container("m", ["linkerd-await", "--", "/bin/backup"])] }),
            ctx: ctx(M),
        },
        {
            title: "linkerd-await --shutdown on 2.16 with the shutdown endpoint off",
            obj: job({ namespace: "apps", containers: [container("m", AWAIT(["/bin/backup"]))] }),
            ctx: ctx(M, v216),
            says: ["config.linkerd.io/proxy-admin-shutdown: enabled", "off by default since Linkerd 2.16"],
        },
        {
            title: "CronJob with linkerd-await --shutdown on edge-24.8.2 (2.16) with the endpoint off",
            obj: cronJob({ namespace: "apps", containers: [container("m", AWAIT(["/bin/backup"]))] }),
            ctx: ctx(M, { linkerdVersion: "edge-24.8.2" }),
            says: ["spec.jobTemplate.spec.template.metadata.annotations"],
        },
        {
            title: "--shutdown after `--` belongs to the wrapped command",
            obj: job({ namespace: "apps", containers: [container("m", ["linkerd-await", "--", "app", "--shutdown"])] }),
            ctx: ctx(M),
        },
        {
            title: "only one of two containers wrapped",
            obj: job({ namespace: "apps", containers: [container("a", AWAIT(["a"])), container("b", ["b"])] }),
            ctx: ctx(M),
            says: ["container(s) b"],
        },
        {
            title: "container with no command (image entrypoint cannot be wrapped)",
            obj: job({ namespace: "apps", containers: [container("m")] }),
            ctx: ctx(M),
        },
        {
            title: "GA native-sidecar annotation on 2.16 is not read",
            obj: job({ namespace: "apps", annotations: { "config.linkerd.io/proxy-enable-native-sidecar": "enabled" } }),
            ctx: ctx(M, v216),
            says: ["does not read config.linkerd.io/proxy-enable-native-sidecar", "config.alpha.linkerd.io/proxy-enable-native-sidecar"],
        },
        {
            title: "native-sidecar annotation on 2.14 (needs 2.15+)",
            obj: job({ namespace: "apps", annotations: { "config.alpha.linkerd.io/proxy-enable-native-sidecar": "enabled" } }),
            ctx: ctx(M, { linkerdVersion: "stable-2.14.10" }),
            says: ["native sidecars need Linkerd 2.15+"],
        },
        {
            title: "native sidecar turned off per pod on 2.20 (release default on)",
            obj: job({ namespace: "apps", annotations: { "config.linkerd.io/proxy-enable-native-sidecar": "disabled" } }),
            ctx: ctx(M, { linkerdVersion: "edge-26.6.3" }),
            says: ["turns native sidecars off"],
        },
        {
            title: "2.19 release: native sidecar off by default",
            obj: job({ namespace: "apps" }),
            ctx: ctx(M, { linkerdVersion: "2.19" }),
            says: ["config.beta.linkerd.io/proxy-enable-native-sidecar: enabled"],
        },
        { title: "Job without namespace lands in a meshed default namespace", obj: job({}), ctx: ctx(M), says: ['namespace "default"'] },
        {
            title: "sh -c script without --shutdown",
            obj: job({ namespace: "apps", containers: [container("m", ["/bin/sh", "-c", "linkerd-await -- ./backup.sh"])] }),
            ctx: ctx(M),
        },
        {
            title: "shutdown annotation set to disabled on 2.17",
            obj: job({
                namespace: "apps",
                annotations: { "config.linkerd.io/proxy-admin-shutdown": "disabled" },
                containers: [container("m", AWAIT(["x"]))],
            }),
            ctx: ctx(M, { linkerdVersion: "2.17" }),
        },
        {
            title: "namespace meshed by a Namespace object in the same input",
            obj: job({ namespace: "batch" }),
            ctx: contextFromObjects([namespace("batch", ENABLED)], emptyContext()),
            says: ["from Namespace batch"],
        },
        {
            title: "helm test hook Pod (restartPolicy Never) in a meshed namespace",
            obj: hookPod(),
            ctx: ctx(M),
            says: ["Helm hook Pod (helm.sh/hook: test)", "`helm test` waits for it", "`linkerd.io/inject: disabled` at metadata.annotations"],
        },
        {
            title: "Helm 2 style test-success hook Pod",
            obj: hookPod({ hook: "test-success" }),
            ctx: ctx(M),
            says: ["`helm test` waits"],
        },
        {
            title: "pre-install hook Pod with restartPolicy OnFailure",
            obj: hookPod({ hook: "pre-install,pre-upgrade", restartPolicy: "OnFailure" }),
            ctx: ctx(M),
            says: ["install or upgrade hangs"],
        },
        {
            title: "Job whose containers run the image entrypoint (no command to wrap)",
            obj: job({ namespace: "apps", containers: [container("create", undefined, ["create", "--host=x"])] }),
            ctx: ctx(M),
            says: [
                "set the command of container(s) create explicitly",
                "run their image's entrypoint",
                "[linkerd-await, --shutdown, --, <entrypoint>…]",
            ],
        },
    ],
    [IGNORED_NAMESPACE_RULE]: [
        {
            title: "guide: k3s' Traefik in kube-system meshed in ingress mode",
            obj: k3sTraefik(),
            ctx: ctx(M),
            says: [
                'never sees namespace "kube-system"',
                "proxyInjector.namespaceSelector",
                "linkerd.io/inject: ingress at spec.template.metadata.annotations",
            ],
        },
        { title: "Pod in cert-manager asks for injection", obj: pod({ namespace: "cert-manager", annotations: ENABLED }), ctx: ctx() },
        {
            title: "CronJob in kube-system asks for injection",
            obj: cronJob({ namespace: "kube-system", annotations: ENABLED }),
            ctx: ctx(["kube-system"]),
            says: ["spec.jobTemplate.spec.template.metadata.annotations"],
        },
        {
            title: "StatefulSet in a namespace labelled admission-webhooks: disabled",
            obj: statefulSet({ namespace: "infra", annotations: ENABLED }),
            ctx: contextFromObjects([namespace("infra", undefined, { "config.linkerd.io/admission-webhooks": "disabled" })], emptyContext()),
            says: ["admission webhooks", "config.linkerd.io/admission-webhooks: disabled"],
        },
    ],
    [HOSTNETWORK_RULE]: [
        {
            title: "Pod with hostNetwork asks for injection",
            obj: pod({ hostNetwork: true, annotations: ENABLED }),
            says: ["hostNetwork: true", "metadata.annotations"],
        },
        { title: "Deployment with hostNetwork asks for injection", obj: deployment({ hostNetwork: true, annotations: ENABLED }) },
        {
            title: "guide: node-exporter DaemonSet annotated for injection in monitoring",
            obj: daemonSet({
                name: "kube-prometheus-stack-prometheus-node-exporter",
                namespace: "monitoring",
                hostNetwork: true,
                annotations: ENABLED,
            }),
            ctx: ctx(M),
            says: ["spec.template.metadata.annotations"],
        },
        {
            title: "StatefulSet with hostNetwork and inject: ingress",
            obj: statefulSet({ hostNetwork: true, annotations: { "linkerd.io/inject": "ingress" } }),
        },
        { title: "ReplicaSet with hostNetwork asks for injection", obj: replicaSet({ hostNetwork: true, annotations: ENABLED }) },
        { title: "Job with hostNetwork asks for injection", obj: job({ hostNetwork: true, annotations: ENABLED }) },
        {
            title: "CronJob with hostNetwork asks for injection",
            obj: cronJob({ hostNetwork: true, annotations: ENABLED }),
            says: ["spec.jobTemplate.spec.template.metadata.annotations"],
        },
    ],
    [AUTOMOUNT_RULE]: [
        {
            title: "Deployment in meshed namespace disables the token",
            obj: deployment({ namespace: "logging", automount: false }),
            ctx: ctx(M, NO_PROJECTION),
            says: ['namespace "logging"', "automountServiceAccountToken: true at spec.template.spec", "identity.serviceAccountTokenProjection false"],
        },
        {
            title: "StatefulSet asks for injection but disables the token",
            obj: statefulSet({ namespace: "tools", automount: false, annotations: ENABLED }),
            ctx: ctx([], NO_PROJECTION),
        },
        { title: "Pod in meshed namespace disables the token", obj: pod({ namespace: "apps", automount: false }), ctx: ctx(M, NO_PROJECTION) },
        {
            title: "guide: ECK Elasticsearch in meshed logging without automountServiceAccountToken",
            obj: elasticsearch("logging"),
            ctx: ctx(M, NO_PROJECTION),
            says: ["spec.nodeSets[0].podTemplate.spec.automountServiceAccountToken"],
        },
        {
            title: "guide: ECK Kibana in meshed logging without automountServiceAccountToken",
            obj: kibana("logging"),
            ctx: ctx(M, NO_PROJECTION),
            says: ["spec.podTemplate.spec.automountServiceAccountToken"],
        },
        { title: "ECK Elasticsearch with automountServiceAccountToken: false", obj: elasticsearch("logging", false), ctx: ctx(M, NO_PROJECTION) },
        {
            title: "DaemonSet (fluent-bit) in meshed logging disables the token",
            obj: daemonSet({ name: "fluent-bit", namespace: "logging", automount: false }),
            ctx: ctx(M, NO_PROJECTION),
        },
    ],
    [TRAEFIK_RULE]: [
        {
            title: "IngressRoute (traefik.io) to a meshed service without middleware",
            obj: ingressRoute("apps", "grafana"),
            ctx: ctx(M),
            says: ["open relay", "linkerd2 #13014", "grafana.apps.svc.cluster.local:8080", "spec.routes[0].middlewares"],
        },
        {
            title: "IngressRoute (traefik.containo.us) without middleware",
            obj: ingressRoute("apps", "grafana", [], "traefik.containo.us"),
            ctx: ctx(M),
        },
        {
            title: "Ingress with class traefik without router.middlewares",
            obj: ingress("apps", "grafana", { className: "traefik" }),
            ctx: ctx(M),
            says: ["traefik.ingress.kubernetes.io/router.middlewares"],
        },
        { title: "Ingress without class (k3s default Traefik) without middleware", obj: ingress("apps", "grafana"), ctx: ctx(M) },
        {
            title: "IngressRoute with a middleware that does not set l5d-dst-override",
            obj: ingressRoute("apps", "grafana", [{ name: "basic-auth" }]),
            ctx: ctx(M, {}, {}, [middleware("apps", "basic-auth")]),
        },
        {
            title: "IngressRoute whose middleware points at another service",
            obj: ingressRoute("apps", "grafana", [{ name: "l5d-header" }]),
            ctx: ctx(M, {}, {}, [middleware("apps", "l5d-header", L5D("prometheus", "monitoring", 9090))]),
            says: ["prometheus.monitoring.svc.cluster.local:9090"],
        },
        {
            title: "Ingress whose router.middlewares names a middleware without the header",
            obj: ingress("apps", "grafana", { annotations: { "traefik.ingress.kubernetes.io/router.middlewares": "apps-basic-auth@kubernetescrd" } }),
            ctx: ctx(M, {}, {}, [middleware("apps", "basic-auth")]),
        },
        {
            title: "IngressRoute to a service in another (meshed) namespace",
            obj: ingressRoute("kube-system", "kibana", [], "traefik.io", "logging"),
            ctx: ctx(M),
            says: ["kibana.logging.svc.cluster.local"],
        },
    ],
    [VIZ_RULE]: [
        { title: "rendered viz web Deployment with -enforced-host=.*", obj: vizWeb(".*"), says: ["DNS-rebinding"] },
        { title: "rendered viz web Deployment with -enforced-host=^.*$", obj: vizWeb("^.*$") },
        { title: "viz web Deployment with an empty -enforced-host= (check switched off)", obj: vizWeb("") },
    ],
    [NGINX_RULE]: [
        {
            title: "NGINX Ingress to a meshed service without service-upstream",
            obj: ingress("apps", "grafana", { className: "nginx" }),
            ctx: ctx(M),
            says: ["service-upstream"],
        },
    ],
};

// ---------------------------------------------------------------------------------------------------------------
// Good inputs: no finding from any rule.
// ---------------------------------------------------------------------------------------------------------------
const GOOD: Case[] = [
    {
        title: "Job in kube-system, even if configured as meshed: the injector never sees it",
        obj: job({ namespace: "kube-system" }),
        ctx: ctx(["kube-system"]),
    },
    { title: "CronJob in cert-manager configured as meshed", obj: cronJob({ namespace: "cert-manager" }), ctx: ctx(["cert-manager"]) },
    { title: "k3s' Traefik in kube-system without the inject annotation", obj: k3sTraefik({}), ctx: ctx() },
    { title: "Deployment in kube-system opting out explicitly", obj: k3sTraefik(DISABLED), ctx: ctx() },
    { title: "helm test hook Pod that opts out", obj: hookPod({ annotations: DISABLED }), ctx: ctx(M) },
    { title: "helm test hook Pod in an unmeshed namespace", obj: hookPod({ namespace: "tools" }), ctx: ctx(M) },
    { title: "Helm hook Pod with restartPolicy Always (never meant to complete)", obj: hookPod({ restartPolicy: "" }), ctx: ctx(M) },
    {
        title: "a plain Pod with restartPolicy Never is not a Helm hook",
        obj: { ...pod({ namespace: "apps" }), spec: { ...pod().spec, restartPolicy: "Never" } },
        ctx: ctx(M),
    },
    { title: "helm test hook Pod with native sidecars (2.20 default)", obj: hookPod(), ctx: ctx(M, { linkerdVersion: "2.20" }) },
    {
        title: "helm test hook Pod wrapped with linkerd-await --shutdown on 2.14",
        obj: hookPod({ containers: [container("wget", AWAIT(["wget", "svc:80"]))] }),
        ctx: ctx(M),
    },
    { title: "guide fix: admission Job opts out with linkerd.io/inject: disabled", obj: admissionCreate(DISABLED), ctx: ctx(M) },
    { title: "CronJob opts out in its jobTemplate", obj: cronJob({ namespace: "apps", annotations: DISABLED }), ctx: ctx(M) },
    { title: "Job in an unmeshed namespace", obj: job({ namespace: "tools" }), ctx: ctx(M) },
    {
        title: "Job wrapped with linkerd-await --shutdown on 2.14",
        obj: job({ namespace: "apps", containers: [container("m", AWAIT(["/bin/backup"]))] }),
        ctx: ctx(M),
    },
    {
        title: "Job with /usr/local/bin/linkerd-await -S and the shutdown annotation on 2.16",
        obj: job({
            namespace: "apps",
            annotations: { "config.linkerd.io/proxy-admin-shutdown": "enabled" },
            containers: [container("m", ["/usr/local/bin/linkerd-await", "-S", "--", "x"])],
        }),
        ctx: ctx(M, v216),
    },
    {
        title: "Job wrapped on 2.16 with proxy.enableShutdownEndpoint",
        obj: job({ namespace: "apps", containers: [container("m", AWAIT(["x"]))] }),
        ctx: ctx(M, { ...v216, shutdownEndpointEnabled: true }),
    },
    {
        title: "Job with alpha native-sidecar annotation on 2.16",
        obj: job({ namespace: "apps", annotations: { "config.alpha.linkerd.io/proxy-enable-native-sidecar": "enabled" } }),
        ctx: ctx(M, v216),
    },
    { title: "Job on 2.20 (native sidecar by default)", obj: job({ namespace: "apps" }), ctx: ctx(M, { linkerdVersion: "edge-26.8.3" }) },
    {
        title: "Job on 2.16 with release-wide proxy.nativeSidecar",
        obj: cronJob({ namespace: "apps" }),
        ctx: ctx(M, { ...v216, nativeSidecar: true }),
    },
    {
        title: "Job with GA native-sidecar annotation on 2.20",
        obj: job({ namespace: "apps", annotations: { "config.linkerd.io/proxy-enable-native-sidecar": "enabled" } }),
        ctx: ctx(M, { linkerdVersion: "2.20" }),
    },
    {
        title: 'sh -c "exec linkerd-await --shutdown -- ./run.sh"',
        obj: job({ namespace: "apps", containers: [container("m", ["/bin/sh", "-c"], ["exec linkerd-await --shutdown -- ./run.sh"])] }),
        ctx: ctx(M),
    },
    {
        title: "linkerd-await --port 4191 --shutdown -- cmd",
        obj: job({ namespace: "apps", containers: [container("m", ["linkerd-await", "--port", "4191", "--shutdown", "--", "cmd"])] }),
        ctx: ctx(M),
    },
    { title: "hostNetwork Job in a meshed namespace (never injected)", obj: job({ namespace: "monitoring", hostNetwork: true }), ctx: ctx(M) },
    {
        title: "guide: node-exporter DaemonSet with hostNetwork in meshed monitoring, no explicit annotation",
        obj: daemonSet({ name: "kube-prometheus-stack-prometheus-node-exporter", namespace: "monitoring", hostNetwork: true }),
        ctx: ctx(M),
    },
    { title: "hostNetwork Deployment that opts out", obj: deployment({ hostNetwork: true, annotations: DISABLED }) },
    { title: "hostNetwork Pod without annotation", obj: pod({ hostNetwork: true }) },
    { title: "StatefulSet in a meshed namespace (not a Job)", obj: statefulSet({ namespace: "apps" }), ctx: ctx(M) },
    { title: "guide fix: ECK Elasticsearch with automountServiceAccountToken: true", obj: elasticsearch("logging", true), ctx: ctx(M) },
    { title: "guide fix: ECK Kibana with automountServiceAccountToken: true", obj: kibana("logging", true), ctx: ctx(M) },
    { title: "ECK Elasticsearch in an unmeshed namespace", obj: elasticsearch("elastic"), ctx: ctx(M) },
    { title: "Deployment disabling the token in an unmeshed namespace", obj: deployment({ namespace: "tools", automount: false }), ctx: ctx(M) },
    {
        title: "Deployment in a meshed namespace that opts out and disables the token",
        obj: deployment({ namespace: "apps", automount: false, annotations: DISABLED }),
        ctx: ctx(M),
    },
    {
        title: "guide: IngressRoute with the l5d-header-middleware",
        obj: ingressRoute("apps", "grafana", [{ name: "l5d-header-middleware", namespace: "apps" }], "traefik.containo.us"),
        ctx: ctx(M, {}, {}, [middleware("apps", "l5d-header-middleware", L5D("grafana", "apps"), "traefik.containo.us")]),
    },
    {
        title: "guide: Ingress with router.middlewares naming the l5d middleware",
        obj: ingress("apps", "grafana", {
            className: "traefik",
            annotations: { "traefik.ingress.kubernetes.io/router.middlewares": "apps-l5d-header-middleware@kubernetescrd" },
        }),
        ctx: ctx(M, {}, {}, [middleware("apps", "l5d-header-middleware", L5D("grafana", "apps", 80))]),
    },
    {
        title: "IngressRoute with an external middleware listed in config",
        obj: ingressRoute("apps", "grafana", [{ name: "dst" }]),
        ctx: ctx(M, {}, { externalDstOverrideMiddlewares: ["apps/dst"] }),
    },
    { title: "IngressRoute to an unmeshed service", obj: ingressRoute("tools", "whoami"), ctx: ctx(M) },
    { title: "Traefik not in ingress mode (config)", obj: ingressRoute("apps", "grafana"), ctx: ctx(M, {}, { ingressMode: false }) },
    {
        title: "guide: the viz NGINX Ingress with service-upstream",
        obj: ingress("linkerd-viz", "web", { className: "nginx", annotations: { "nginx.ingress.kubernetes.io/service-upstream": "true" } }),
        ctx: ctx(["linkerd-viz"]),
    },
    { title: "viz web with -enforced-host restricted to one host", obj: vizWeb("^linkerd\\.picluster\\.example(:\\d+)?$") },
    {
        title: "viz web with the chart's default -enforced-host",
        obj: vizWeb("^(localhost|127\\.0\\.0\\.1|web\\.linkerd-viz\\.svc\\.cluster\\.local|web\\.linkerd-viz\\.svc|\\[::1\\])(:\\d+)?$"),
    },
];

describe("rules: bad inputs", () => {
    for (const [ruleName, cases] of Object.entries(BAD)) {
        describe(ruleName, () => {
            test.each(cases.map((c) => [c.title, c] as const))("%s", (_t, c) => {
                const findings = checkObject(c.obj, c.ctx ?? ctx());
                const mine = findings.filter((f) => f.rule === ruleName);
                expect(mine.length).toBeGreaterThan(0);
                const rule = ALL_RULES.find((r) => r.name === ruleName)!;
                for (const f of mine) expect(f.enforcement).toBe(rule.defaultEnforcement);
                for (const s of c.says ?? []) expect(mine.map((f) => f.message).join("\n")).toContain(s);
            });
        });
    }
});

describe("rules: good inputs", () => {
    test.each(GOOD.map((c) => [c.title, c] as const))("%s", (_t, c) => {
        expect(checkObject(c.obj, c.ctx ?? ctx())).toEqual([]);
    });
});

test("enough cases across kinds", () => {
    const bad = Object.values(BAD).flat();
    expect(bad.length).toBeGreaterThanOrEqual(40);
    expect(GOOD.length).toBeGreaterThanOrEqual(20);
    const kinds = new Set([...bad, ...GOOD].map((c) => c.obj.kind));
    for (const k of ["Job", "CronJob", "Pod", "Deployment", "DaemonSet", "StatefulSet"]) expect(kinds).toContain(k);
});

describe("mandatory rules by default", () => {
    test("Job and hostNetwork rules are mandatory, the others advisory", () => {
        const levels = Object.fromEntries(ALL_RULES.map((r) => [r.name, r.defaultEnforcement]));
        expect(levels).toEqual({
            [JOB_RULE]: "mandatory",
            [HOSTNETWORK_RULE]: "mandatory",
            [IGNORED_NAMESPACE_RULE]: "mandatory",
            [TRAEFIK_RULE]: "advisory",
            [AUTOMOUNT_RULE]: "advisory",
            [VIZ_RULE]: "advisory",
            [NGINX_RULE]: "advisory",
        });
    });
    test("enforcement levels can be overridden or disabled", () => {
        const o = admissionCreate();
        expect(checkObject(o, ctx(M), { [JOB_RULE]: "advisory" })[0].enforcement).toBe("advisory");
        expect(checkObject(o, ctx(M), { [JOB_RULE]: "disabled" })).toEqual([]);
    });
});

describe("injection semantics", () => {
    test("pod annotation overrides the namespace's", () => {
        const c = contextFromObjects([namespace("apps", DISABLED)], emptyContext());
        expect(checkObject(job({ namespace: "apps" }), c)).toEqual([]);
        expect(checkObject(job({ namespace: "apps", annotations: ENABLED }), c)).toHaveLength(1);
    });
    test("namespace with inject: ingress meshes it", () => {
        const c = contextFromObjects([namespace("edge", { "linkerd.io/inject": "ingress" })], emptyContext());
        expect(checkObject(job({ namespace: "edge" }), c)).toHaveLength(1);
    });
    test("namespace with admission webhooks disabled is never injected", () => {
        const c = contextFromObjects([namespace("linkerd", ENABLED, { "config.linkerd.io/admission-webhooks": "disabled" })], emptyContext());
        expect(checkObject(job({ namespace: "linkerd" }), c)).toEqual([]);
    });
    test.each(["kube-system", "cert-manager"])("%s: a Job asking for injection gets no proxy, so only the ignored-namespace rule speaks", (ns) => {
        const rules = checkObject(job({ namespace: ns, annotations: ENABLED }), ctx([ns])).map((f) => f.rule);
        expect(rules).toEqual([IGNORED_NAMESPACE_RULE]);
    });
    test("a Job whose containers all have a command is told to wrap them, never to set one", () => {
        const msg = checkObject(job({ namespace: "apps" }), ctx(M))[0].message;
        expect(msg).toContain("wrap the command of container(s) main in `linkerd-await --shutdown -- <command>`");
        expect(msg).not.toContain("set the command");
    });
    test("a Job with both kinds of container gets both instructions, each naming its containers", () => {
        const o = job({ namespace: "apps", containers: [container("a", ["/bin/a"]), container("b")] });
        const msg = checkObject(o, ctx(M))[0].message;
        expect(msg).toContain("wrap the command of container(s) a in");
        expect(msg).toContain("set the command of container(s) b explicitly");
        expect(msg).not.toMatch(/wrap the command of container\(s\) [^i]*\bb\b/);
    });
});

describe("linkerd-await parsing", () => {
    test.each([
        [["linkerd-await", "--shutdown", "--", "x"], true],
        [["linkerd-await", "-S", "x"], true],
        [["/linkerd-await", "-vS", "--", "x"], true],
        [["linkerd-await", "--timeout", "2m", "--shutdown", "--", "x"], true],
        [["bash", "-c", "linkerd-await --shutdown -- ./x"], true],
        [["linkerd-await", "--", "x", "--shutdown"], false],
        [["linkerd-await", "x", "--shutdown"], false],
        [["my-linkerd-await", "--shutdown"], false],
        [["/bin/sh", "-c", "./x && linkerd-await --shutdown"], false],
        [[], false],
    ])("%j -> %s", (argv, expected) => expect(awaitsWithShutdown(argv)).toBe(expected));
});

describe("release facts", () => {
    test.each([
        ["2.14", 14],
        ["stable-2.14.10", 14],
        ["1.16.11", 14],
        ["edge-24.2.4", 15],
        ["edge-24.8.1", 15],
        ["edge-24.8.2", 16],
        ["2024.8.2", 16],
        ["edge-25.10.7", 19],
        ["2026.8.3", 20],
        ["enterprise-2.16.0", 16],
    ])("%s is 2.%s", (v, minor) => expect(parseLinkerdVersion(v)?.minor).toBe(minor));
    test("defaults per version", () => {
        expect(releaseFacts({ linkerdVersion: "2.14" })).toMatchObject({ shutdownEndpointEnabled: true, nativeSidecarSupported: false });
        expect(releaseFacts({ linkerdVersion: "2.16" })).toMatchObject({ shutdownEndpointEnabled: false, nativeSidecarDefault: false });
        expect(releaseFacts({ linkerdVersion: "2.20" })).toMatchObject({ nativeSidecarDefault: true });
        expect(() => releaseFacts({ linkerdVersion: "latest" })).toThrow(/unrecognised/);
    });
    test("from a linkerd-control-plane release", () => {
        expect(
            releaseOverridesFromControlPlane({
                chart: "linkerd-control-plane",
                version: "2024.8.2",
                values: { proxy: { enableShutdownEndpoint: true } },
            }),
        ).toEqual({ linkerdVersion: "2024.8.2", shutdownEndpointEnabled: true });
        expect(releaseOverridesFromControlPlane({ chart: "linkerd-viz" })).toBeUndefined();
    });
});

describe("Helm releases (what CrossGuard sees instead of the chart's objects)", () => {
    test("guide: kube-prometheus-stack into meshed monitoring without the podAnnotations value", () => {
        const f = checkHelmRelease({ chart: "kube-prometheus-stack", namespace: "monitoring", values: {} }, ctx(M), '"kps"');
        expect(f).toHaveLength(1);
        expect(f[0].rule).toBe(JOB_RULE);
        expect(f[0].message).toContain("prometheusOperator.admissionWebhooks.patch.podAnnotations");
    });
    test("guide fix: kube-prometheus-stack with the podAnnotations value", () => {
        const values = { prometheusOperator: { admissionWebhooks: { patch: { podAnnotations: DISABLED } } } };
        expect(checkHelmRelease({ chart: "prometheus-community/kube-prometheus-stack", namespace: "monitoring", values }, ctx(M), "kps")).toEqual([]);
    });
    test("kube-prometheus-stack with crds.upgradeJob enabled into a meshed namespace", () => {
        const values = {
            prometheusOperator: { admissionWebhooks: { patch: { podAnnotations: DISABLED } } },
            crds: { upgradeJob: { enabled: true } },
        };
        const f = checkHelmRelease({ chart: "kube-prometheus-stack", namespace: "monitoring", values }, ctx(M), '"kps"');
        expect(f).toHaveLength(1);
        expect(f[0].rule).toBe(JOB_RULE);
        expect(f[0].message).toContain("crds.upgradeJob.podAnnotations");
    });
    test.each([
        ["upgrade Job off (chart default)", { crds: { upgradeJob: { enabled: false } } }],
        ["CRDs off", { crds: { enabled: false, upgradeJob: { enabled: true } } }],
        ["upgrade Job opted out", { crds: { upgradeJob: { enabled: true, podAnnotations: DISABLED } } }],
    ])("kube-prometheus-stack crds.upgradeJob: %s", (_t, crds) => {
        const values = { prometheusOperator: { admissionWebhooks: { patch: { podAnnotations: DISABLED } } }, ...crds };
        expect(checkHelmRelease({ chart: "kube-prometheus-stack", namespace: "monitoring", values }, ctx(M), "kps")).toEqual([]);
    });
    test("kube-prometheus-stack into kube-system, even if configured as meshed: its Jobs get no proxy", () => {
        expect(checkHelmRelease({ chart: "kube-prometheus-stack", namespace: "kube-system", values: {} }, ctx(["kube-system"]), "kps")).toEqual([]);
    });
    test("kube-prometheus-stack into an unmeshed namespace", () => {
        expect(checkHelmRelease({ chart: "kube-prometheus-stack", namespace: "tools", values: {} }, ctx(M), "kps")).toEqual([]);
    });
    test.each([".*", "^.*$", ".+"])("viz values enforcedHostRegexp %j", (re) => {
        const f = checkHelmRelease(
            { chart: "linkerd/linkerd-viz", namespace: "linkerd-viz", values: { dashboard: { enforcedHostRegexp: re } } },
            ctx(),
            "viz",
        );
        expect(f.map((x) => x.rule)).toEqual([VIZ_RULE]);
    });
    test.each(["", "^linkerd\\.example\\.com$"])("viz values enforcedHostRegexp %j is fine", (re) => {
        expect(checkHelmRelease({ chart: "linkerd-viz", values: { dashboard: { enforcedHostRegexp: re } } }, ctx(), "viz")).toEqual([]);
        expect(hostRegexpAcceptsAnyHost(re)).toBe(false);
    });
});

describe("automountServiceAccountToken: false and token projection (default since 2.12)", () => {
    const job = (automount: boolean) => ({
        apiVersion: "batch/v1",
        kind: "Job",
        metadata: { name: "migrate", namespace: "logging" },
        spec: {
            template: {
                spec: { restartPolicy: "Never", automountServiceAccountToken: automount, containers: [{ name: "m", image: "busybox:1.36" }] },
            },
        },
    });

    test("with projection (the default) such pods are injected: no automount finding, and the Job rule sees the proxy", () => {
        const findings = checkObject(job(false), ctx(M));
        expect(findings.map((f) => f.rule)).toEqual([JOB_RULE]);
        expect(checkObject(deployment({ namespace: "logging", automount: false }), ctx(M))).toEqual([]);
        expect(checkObject(elasticsearch("logging"), ctx(M))).toEqual([]);
    });

    test("without projection the injector skips them: the automount rule says so, and the Job rule agrees (no Job finding)", () => {
        const findings = checkObject(job(false), ctx(M, NO_PROJECTION));
        expect(findings.map((f) => f.rule)).toEqual([AUTOMOUNT_RULE]);
        const d = checkObject(deployment({ namespace: "logging", automount: false }), ctx(M, NO_PROJECTION));
        expect(d.map((f) => f.rule)).toEqual([AUTOMOUNT_RULE]);
        expect(d[0].message).toMatch(/identity.serviceAccountTokenProjection false/);
    });

    test("a linkerd-control-plane release's identity.serviceAccountTokenProjection is read", () => {
        expect(
            releaseOverridesFromControlPlane({ chart: "linkerd-control-plane", values: { identity: { serviceAccountTokenProjection: false } } }),
        ).toMatchObject({
            serviceAccountTokenProjection: false,
        });
    });
});

describe("what the Job rule's message promises", () => {
    const hookJob = {
        apiVersion: "batch/v1",
        kind: "Job",
        metadata: { name: "kps-admission-create", namespace: "monitoring", annotations: { "helm.sh/hook": "pre-install,pre-upgrade" } },
        spec: {
            template: {
                spec: {
                    restartPolicy: "OnFailure",
                    containers: [{ name: "create", image: "registry.k8s.io/ingress-nginx/kube-webhook-certgen:v1.5.2" }],
                },
            },
        },
    };

    test("a Helm hook Job says the install or upgrade hangs", () => {
        const [f] = checkObject(hookJob, ctx(M));
        expect(f.message).toContain("It is a Helm hook (helm.sh/hook: pre-install,pre-upgrade): Helm waits for hook Jobs to complete");
        expect(f.message).toContain("`helm install`/`helm upgrade` (and a Pulumi Helm release) hangs until its timeout and fails");
    });

    test("linkerd-await is offered only for images one builds, naming the images, after the fixes that need no image change", () => {
        const [f] = checkObject(hookJob, ctx(M, { linkerdVersion: "edge-24.8.2" }));
        const fix = f.message.slice(f.message.indexOf("Fix: "));
        expect(fix.indexOf("linkerd.io/inject: disabled")).toBeLessThan(fix.indexOf("native sidecar"));
        expect(fix.indexOf("native sidecar")).toBeLessThan(fix.indexOf("linkerd-await"));
        expect(fix).toContain(
            "only if you build the image (registry.k8s.io/ingress-nginx/kube-webhook-certgen:v1.5.2) and add the linkerd-await binary to it (chart images do not ship it)",
        );
    });
});
