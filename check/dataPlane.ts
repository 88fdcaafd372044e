/**
 * Data plane: in every meshed namespace and workload, running pods carry the proxy. A pod that
 * started before its namespace or template was annotated keeps running without one until it is
 * restarted (guide: "Meshing a service with linkerd"); the check lists them and the owners
 * `--restart` would roll. The ingress controller's pods carry the proxy in the mode the guide
 * wants, and Jobs/CronJobs in meshed namespaces pass the policy pack's rules on the live objects.
 */
import { ADMISSION_WEBHOOKS_LABEL, INJECT_ANNOTATION, KUBE_SYSTEM_NAMESPACE, injectValueMeshes } from "../lib/k8s";
import { injectorSkips } from "../lib/injector";
import { kubectlCommand } from "../lib/kubeconfig";
import { addConfiguredMeshedNamespaces, checkObject, contextFromObjects, emptyContext, releaseFacts } from "../policy/rules";
import { annotation, get, labelsOf, nameOf, namespaceOf } from "../lib/k8s";
import { ClusterSnapshot, NGINX_POD_SELECTOR, Obj, TRAEFIK_POD_SELECTOR, findObject, listObjects, matchesLabels, meshedNamespaces } from "./snapshot";
import { CheckContext, CheckId, CheckResult, fail, ok, warn } from "./types";

export const PROXY_CONTAINER = "linkerd-proxy";
/** The injector sets this on the proxy of pods annotated `linkerd.io/inject: ingress`. */
export const PROXY_INGRESS_MODE_ENV = "LINKERD2_PROXY_INGRESS_MODE";
/** Kinds `kubectl rollout restart` can roll. */
const RESTARTABLE = new Set(["Deployment", "StatefulSet", "DaemonSet"]);
/** How many pods a message names before "and N more". */
const LISTED = 8;

/** The proxy container: a regular container, or a native sidecar (init container with restartPolicy Always). */
export function proxyContainer(pod: Obj): Obj | undefined {
    const containers = (get(pod, "spec", "containers") ?? []) as Obj[];
    const inits = (get(pod, "spec", "initContainers") ?? []) as Obj[];
    return containers.find((c) => c.name === PROXY_CONTAINER) ?? inits.find((c) => c.name === PROXY_CONTAINER && c.restartPolicy === "Always");
}

export function isRunning(pod: Obj): boolean {
    return get(pod, "status", "phase") === "Running" && !get(pod, "metadata", "deletionTimestamp");
}

/** The controller owner of an object, looked up in the snapshot (undefined when not read or none). */
function controllerOf(s: ClusterSnapshot, o: Obj): { kind: string; name: string; object?: Obj } | undefined {
    const owners = (get(o, "metadata", "ownerReferences") ?? []) as { kind?: string; name?: string; controller?: boolean }[];
    const owner = owners.find((r) => r.controller) ?? owners[0];
    if (!owner?.kind || !owner.name) return undefined;
    return { kind: owner.kind, name: owner.name, object: findObject(s, owner.kind, namespaceOf(o), owner.name) };
}

/** The top workload that owns a pod: ReplicaSet -> Deployment, Job -> CronJob, StatefulSet, DaemonSet; `Kind/namespace/name`. */
export function topOwner(s: ClusterSnapshot, pod: Obj): { kind: string; namespace: string; name: string } | undefined {
    const ns = namespaceOf(pod);
    let owner = controllerOf(s, pod);
    if (!owner) return undefined;
    for (let depth = 0; depth < 3 && owner.object; depth++) {
        const next = controllerOf(s, owner.object);
        if (!next) break;
        owner = next;
    }
    return { kind: owner.kind, namespace: ns, name: owner.name };
}

export function ownerKey(o: { kind: string; namespace: string; name: string }): string {
    return `${o.kind}/${o.namespace}/${o.name}`;
}

/** Running pods that should carry the proxy and do not. */
export function unmeshedPods(pods: readonly Obj[]): Obj[] {
    return pods.filter(
        (p) =>
            isRunning(p) &&
            get(p, "spec", "hostNetwork") !== true &&
            // An explicit opt-out on the pod is respected (kube-prometheus-stack's admission Jobs, ...).
            annotation(get(p, "metadata"), INJECT_ANNOTATION) !== "disabled" &&
            !proxyContainer(p),
    );
}

function listNames(pods: readonly Obj[]): string {
    const names = pods.slice(0, LISTED).map(nameOf);
    return names.join(", ") + (pods.length > LISTED ? ` and ${pods.length - LISTED} more` : "");
}

/** The failure for running pods without the proxy, naming them and what `--restart` rolls. */
/** The owners `--restart` rolls for these pods (`Kind/namespace/name`, sorted), and the pods nothing restartable owns. */
export function ownersToRestart(s: ClusterSnapshot, pods: readonly Obj[]): { restart: string[]; orphans: Obj[] } {
    const owners = new Set<string>();
    const orphans: Obj[] = [];
    for (const p of pods) {
        const o = topOwner(s, p);
        if (o && RESTARTABLE.has(o.kind)) owners.add(ownerKey(o));
        else orphans.push(p);
    }
    return { restart: [...owners].sort(), orphans };
}

export function unmeshedResult(s: ClusterSnapshot, ctx: CheckContext, id: CheckId, name: string, where: string, pods: readonly Obj[]): CheckResult {
    const { restart, orphans } = ownersToRestart(s, pods);
    const k = (args: string) => kubectlCommand(ctx.config.kubernetes, args);
    const fixes: string[] = [];
    if (restart.length > 0) {
        fixes.push(
            `restart their owners so the injector adds the proxy: \`npm run check -- --stack ${ctx.stack} --restart\` rolls ${restart.join(", ")} ` +
                `(or \`${k(`-n <namespace> rollout restart <kind>/<name>`)}\`)`,
        );
    }
    if (orphans.length > 0)
        fixes.push(`delete ${listNames(orphans)} so they are recreated with the proxy (no Deployment, StatefulSet or DaemonSet owns them)`);
    return fail(
        id,
        name,
        `${pods.length} running pod(s) in ${where} without the linkerd-proxy container (started before the inject annotation, or the injector was down): ${listNames(pods)}`,
        fixes.join("; "),
        restart,
    );
}

/** Why the proxy injector never sees pods of this namespace (lib/injector.ts), or undefined. */
export function injectorNeverSees(ns: Obj): string | undefined {
    const name = nameOf(ns);
    const skip = injectorSkips(name, labelsOf(ns));
    if (skip === "name")
        return `the proxy injector never sees ${name} (linkerd-control-plane's proxyInjector.namespaceSelector excludes it; linkerd2 #11104)`;
    if (skip === "labels") return `namespace ${name} is labelled ${ADMISSION_WEBHOOKS_LABEL}: disabled, so the proxy injector never sees its pods`;
    return undefined;
}

/** Namespaces the program meshes: annotated, and their running pods carry the proxy. */
export function checkMeshedNamespaces(s: ClusterSnapshot, ctx: CheckContext): CheckResult[] {
    const results: CheckResult[] = [];
    for (const ns of meshedNamespaces(ctx.config)) {
        const name = `namespace ${ns}`;
        const nsObj = findObject(s, "Namespace", "", ns);
        if (!nsObj) {
            const extension = !ctx.config.meshing.namespaces.includes(ns);
            results.push(
                fail(
                    "pl-dp-meshed-namespace",
                    name,
                    `namespace ${ns} does not exist`,
                    extension
                        ? `run \`pulumi up -s ${ctx.stack}\` (the program creates it with its extension)`
                        : `create it (\`${kubectlCommand(ctx.config.kubernetes, `create namespace ${ns}`)}\`) and run \`pulumi up -s ${ctx.stack}\`, or remove it from meshing.namespaces`,
                ),
            );
            continue;
        }
        const value = annotation(get(nsObj, "metadata"), INJECT_ANNOTATION);
        if (!injectValueMeshes(value)) {
            results.push(
                fail(
                    "pl-dp-meshed-namespace",
                    name,
                    `namespace ${ns} is not annotated ${INJECT_ANNOTATION}: enabled (it has ${value === undefined ? "no such annotation" : `"${value}"`}): new pods there get no proxy`,
                    `run \`pulumi up -s ${ctx.stack}\` to re-apply the annotation, then restart its workloads`,
                ),
            );
            continue;
        }
        const pods = listObjects(s, "Pod", ns);
        const bad = unmeshedPods(pods);
        const unseen = injectorNeverSees(nsObj);
        if (bad.length > 0 && unseen) {
            results.push(
                fail(
                    "pl-dp-meshed-namespace",
                    name,
                    `${bad.length} running pod(s) in ${ns} without the proxy (${listNames(bad)}), and restarting them will not help: ${unseen}`,
                    `mesh these workloads in a namespace the injector sees, or inject them by hand (\`linkerd inject\`); then remove ${ns} from meshing.namespaces`,
                ),
            );
        } else if (bad.length > 0) results.push(unmeshedResult(s, ctx, "pl-dp-meshed-namespace", name, `meshed namespace ${ns}`, bad));
        else results.push(ok("pl-dp-meshed-namespace", name, `meshed; ${pods.filter(isRunning).length} running pod(s), none without the proxy`));
    }
    return results;
}

/** The pods a workload owns (through its ReplicaSets for a Deployment). */
export function podsOf(s: ClusterSnapshot, kind: string, namespace: string, name: string): Obj[] {
    return listObjects(s, "Pod", namespace).filter((p) => {
        const o = topOwner(s, p);
        return o?.kind === kind && o.name === name;
    });
}

/**
 * One workload meshed through its pod template: the annotation is still there (`expected`) and its
 * running pods carry the proxy.
 */
export function checkWorkloadMeshed(
    s: ClusterSnapshot,
    ctx: CheckContext,
    id: CheckId,
    w: { kind: string; namespace: string; name: string },
    annotationFix: string,
): CheckResult[] {
    const name = `${w.kind.toLowerCase()} ${w.namespace}/${w.name}`;
    const obj = findObject(s, w.kind, w.namespace, w.name);
    if (!obj) return [fail(id, name, `${w.kind} ${w.namespace}/${w.name} does not exist`, `install it, or remove it from the configuration`)];
    const value = annotation(get(obj, "spec", "template", "metadata"), INJECT_ANNOTATION);
    if (value !== "enabled") {
        return [
            fail(
                id,
                name,
                `the pod template of ${w.kind} ${w.namespace}/${w.name} is not annotated ${INJECT_ANNOTATION}: enabled (it has ${value === undefined ? "none" : `"${value}"`}): an upgrade of its chart reset it`,
                annotationFix,
            ),
        ];
    }
    const pods = podsOf(s, w.kind, w.namespace, w.name);
    const bad = unmeshedPods(pods);
    if (bad.length > 0) return [unmeshedResult(s, ctx, id, name, `${w.kind} ${w.namespace}/${w.name}`, bad)];
    return [
        ok(id, name, `template annotated ${INJECT_ANNOTATION}: enabled; ${pods.filter(isRunning).length} running pod(s), none without the proxy`),
    ];
}

export function checkMeshedWorkloads(s: ClusterSnapshot, ctx: CheckContext): CheckResult[] {
    return ctx.config.meshing.workloads.flatMap((w) =>
        checkWorkloadMeshed(
            s,
            ctx,
            "pl-dp-meshed-workload",
            w,
            `run \`pulumi up -s ${ctx.stack}\` to re-apply the annotation (the workload then rolls out with the proxy)`,
        ),
    );
}

/** The ingress controller's pods carry the proxy, in ingress mode for Traefik (guide: "Configure Ingress Controller"). */
export function checkIngress(s: ClusterSnapshot, ctx: CheckContext): CheckResult[] {
    const ingress = ctx.config.ingress;
    const k = (args: string) => kubectlCommand(ctx.config.kubernetes, args);
    if (ingress.controller === "none") return [];
    if (ingress.controller === "nginx") {
        const pods = listObjects(s, "Pod").filter((p) => matchesLabels(p, NGINX_POD_SELECTOR));
        const name = "ingress-nginx controller";
        if (pods.length === 0)
            return [
                warn(
                    "pl-dp-ingress-nginx",
                    name,
                    `found no ingress-nginx controller pods (labels app.kubernetes.io/name=ingress-nginx, component=controller): nothing to check`,
                    `install ingress-nginx with the values of the \`ingressMeshing\` stack output`,
                ),
            ];
        const bad = unmeshedPods(pods);
        if (bad.length > 0) return [unmeshedResult(s, ctx, "pl-dp-ingress-nginx", name, "the ingress-nginx controller", bad)];
        return [ok("pl-dp-ingress-nginx", name, `${pods.filter(isRunning).length} running controller pod(s) carry the proxy`)];
    }
    const name = "Traefik";
    const pods = listObjects(s, "Pod", ingress.namespace).filter((p) => matchesLabels(p, TRAEFIK_POD_SELECTOR) && isRunning(p));
    if (pods.length === 0) {
        return [
            warn(
                "pl-dp-traefik",
                name,
                `found no running Traefik pods in ${ingress.namespace} (label app.kubernetes.io/name=traefik): cannot check that the ingress controller is meshed`,
                `check that Traefik runs: \`${k(`-n ${ingress.namespace} get pods -l app.kubernetes.io/name=traefik`)}\``,
            ),
        ];
    }
    const results: CheckResult[] = [];
    const noProxy = unmeshedPods(pods);
    if (noProxy.length > 0) {
        if (ingress.namespace === KUBE_SYSTEM_NAMESPACE) {
            results.push(
                fail(
                    "pl-dp-traefik",
                    name,
                    `Traefik pod(s) ${listNames(noProxy)} run without the proxy: they live in ${KUBE_SYSTEM_NAMESPACE}, which every linkerd-control-plane chart since 2.12 excludes from the proxy injector (proxyInjector.namespaceSelector; linkerd2 #11104), whatever their annotations`,
                    `run Traefik in a namespace of its own: disable k3s' Traefik (\`--disable traefik\`, or \`disable: [traefik]\` in /etc/rancher/k3s/config.yaml) and let the program install it (ingress.traefik.install, the default, in namespace traefik), then run \`pulumi up -s ${ctx.stack}\``,
                ),
            );
        } else {
            results.push(unmeshedResult(s, ctx, "pl-dp-traefik", name, `Traefik (${ingress.namespace})`, noProxy));
        }
    }
    const wrongMode = pods.filter((p) => {
        const proxy = proxyContainer(p);
        if (!proxy) return false;
        const env = ((proxy.env ?? []) as { name?: string; value?: string }[]).find((e) => e.name === PROXY_INGRESS_MODE_ENV);
        return annotation(get(p, "metadata"), INJECT_ANNOTATION) !== "ingress" || env?.value !== "true";
    });
    if (wrongMode.length > 0) {
        results.push(
            fail(
                "pl-dp-traefik-ingress-mode",
                `${name} ingress mode`,
                `Traefik pod(s) ${listNames(wrongMode)} carry the proxy, but not in ingress mode (${INJECT_ANNOTATION}: ingress, ${PROXY_INGRESS_MODE_ENV}=true): requests routed by the l5d-dst-override header do not reach meshed Services`,
                ingress.install
                    ? `run \`pulumi up -s ${ctx.stack}\` (the program's Traefik release sets deployment.podAnnotations ${INJECT_ANNOTATION}: ingress), then \`${k(`-n ${ingress.namespace} rollout restart deployment/traefik`)}\``
                    : `give your Traefik release the values of \`pulumi stack output ingressMeshing -s ${ctx.stack}\` (traefik.valuesYaml: deployment.podAnnotations ${INJECT_ANNOTATION}: ingress), then \`${k(`-n ${ingress.namespace} rollout restart deployment/traefik`)}\``,
            ),
        );
    }
    if (results.length === 0) results.push(ok("pl-dp-traefik", name, `${pods.length} running Traefik pod(s) carry the proxy in ingress mode`));
    return results;
}

function isFinished(job: Obj): boolean {
    return ((get(job, "status", "conditions") ?? []) as { type?: string; status?: string }[]).some(
        (c) => (c.type === "Complete" || c.type === "Failed") && c.status === "True",
    );
}

/** Jobs and CronJobs in meshed namespaces, through the policy pack's rules (policy/rules) on the live objects. */
export function checkJobs(s: ClusterSnapshot, ctx: CheckContext): CheckResult[] {
    const cfg = ctx.config;
    const source = `the stack configuration (linkerd.version ${cfg.linkerd.release.version})`;
    const base = emptyContext({
        release: releaseFacts(
            {
                linkerdVersion: cfg.linkerd.release.version,
                shutdownEndpointEnabled: cfg.controlPlane.enableShutdownEndpoint,
                nativeSidecar: cfg.controlPlane.nativeSidecar,
            },
            source,
        ),
    });
    const ruleCtx = contextFromObjects(listObjects(s, "Namespace"), base);
    const meshed = meshedNamespaces(cfg);
    addConfiguredMeshedNamespaces(ruleCtx, meshed, "the stack configuration (meshing.namespaces)");
    const results: CheckResult[] = [];
    for (const ns of meshed) {
        const candidates = [
            ...listObjects(s, "CronJob", ns),
            // Jobs a CronJob made are judged through the CronJob; finished Jobs proved they can finish.
            ...listObjects(s, "Job", ns).filter((j) => controllerOf(s, j)?.kind !== "CronJob" && !isFinished(j)),
        ];
        let findings = 0;
        for (const o of candidates) {
            for (const f of checkObject(o, ruleCtx)) {
                findings++;
                const what = `${f.kind.toLowerCase()} ${f.namespace}/${f.name}`;
                // The rules' messages end with their fix ("... Fix: ..."): keep the two apart.
                const at = f.message.indexOf(" Fix: ");
                const message = `${f.rule}: ${at < 0 ? f.message : f.message.slice(0, at)}`;
                const fix = at < 0 ? `see the rule ${f.rule} in docs/policies.md` : f.message.slice(at + " Fix: ".length);
                results.push(f.enforcement === "mandatory" ? fail("pl-dp-jobs", what, message, fix) : warn("pl-dp-jobs", what, message, fix));
            }
        }
        if (candidates.length > 0 && findings === 0)
            results.push(ok("pl-dp-jobs", `jobs in ${ns}`, `${candidates.length} Job/CronJob(s) pass the policy rules`));
    }
    return results;
}

export function checkDataPlane(s: ClusterSnapshot, ctx: CheckContext): CheckResult[] {
    return [...checkMeshedNamespaces(s, ctx), ...checkMeshedWorkloads(s, ctx), ...checkIngress(s, ctx), ...checkJobs(s, ctx)];
}
