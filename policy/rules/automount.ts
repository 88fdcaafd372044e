/**
 * Rule — pods in a meshed namespace with `automountServiceAccountToken: false`.
 *
 * Guide, "EFK": Elasticsearch and Kibana pods created by the ECK operator are not injected unless their
 * podTemplate sets `automountServiceAccountToken: true` (ECK turns the token off by default). The same holds for
 * any pod template that disables the token: the pod silently stays out of the mesh. That holds only while the control
 * plane runs without service-account token projection (identity.serviceAccountTokenProjection false): with it (the
 * chart's default since 2.12) the injector mounts a token of the proxy's own and injects such pods (linkerd2
 * pkg/inject/report.go), so the rule has nothing to say. The Job rule sees the same injection (policy/rules/injection.ts),
 * so the two never contradict each other on one pod.
 */
import { RuleContext } from "./context";
import { injectionFor } from "./injection";
import { Obj, apiGroup, get, isObj, isWorkloadKind, namespaceOf, objAt, podTemplate, PodTemplate, kindOf } from "../../lib/k8s";
import { releaseNote } from "./release";
import { Rule } from "./types";

export const AUTOMOUNT_RULE = "linkerd-automount-token-disabled";

/** Pod templates inside ECK custom resources (Elasticsearch, Kibana, ApmServer, Beat, Agent, Logstash, …). */
export function eckPodTemplates(o: Obj): { t: PodTemplate; where: string }[] {
    if (!apiGroup(o.apiVersion).endsWith("k8s.elastic.co")) return [];
    const out: { t: PodTemplate; where: string }[] = [];
    const add = (pt: unknown, where: string) => {
        if (pt === undefined || isObj(pt)) out.push({ t: { metadata: objAt(pt, "metadata"), spec: objAt(pt, "spec"), path: where }, where });
    };
    const nodeSets = get(o, "spec", "nodeSets");
    if (Array.isArray(nodeSets)) {
        nodeSets.forEach((ns: unknown, i: number) => add(get(ns, "podTemplate"), `spec.nodeSets[${i}].podTemplate`));
    } else if (get(o, "spec", "deployment") !== undefined) {
        add(get(o, "spec", "deployment", "podTemplate"), "spec.deployment.podTemplate");
    } else if (get(o, "spec", "daemonSet") !== undefined) {
        add(get(o, "spec", "daemonSet", "podTemplate"), "spec.daemonSet.podTemplate");
    } else {
        add(get(o, "spec", "podTemplate"), "spec.podTemplate");
    }
    return out;
}

export const automountRule: Rule = {
    name: AUTOMOUNT_RULE,
    description:
        "Pods that should be meshed but disable automountServiceAccountToken are never injected, when the control plane runs without service-account token projection (ECK pods).",
    defaultEnforcement: "advisory",
    check(o: Obj, ctx: RuleContext): string[] {
        // With token projection (the default since 2.12) the injector gives the proxy a token of its own: such pods are meshed.
        if (ctx.release.serviceAccountTokenProjection) return [];
        const ns = namespaceOf(o, ctx.defaultNamespace);
        const why = `the control plane runs without service-account token projection (identity.serviceAccountTokenProjection false, ${releaseNote(ctx.release)})`;
        if (isWorkloadKind(o.kind)) {
            const t = podTemplate(o);
            if (!t) return [];
            const inj = injectionFor(t, ns, ctx);
            if (!inj.blockedByToken) return [];
            return [
                `${kindOf(o)} should get the Linkerd proxy because ${inj.blockedByToken.wouldReason}, but it sets automountServiceAccountToken: false ` +
                    `and ${why}, so the proxy is not injected (guide: "EFK"). Fix: set automountServiceAccountToken: true at ${inj.blockedByToken.at}, ` +
                    `or identity.serviceAccountTokenProjection true (the chart's default), or opt the pod out explicitly with linkerd.io/inject: disabled.`,
            ];
        }
        const out: string[] = [];
        for (const { t, where } of eckPodTemplates(o)) {
            if (get(t.spec, "automountServiceAccountToken") === true) continue;
            const inj = injectionFor(t, ns, ctx);
            if (!inj.injected && !inj.blockedByToken) continue;
            out.push(
                `ECK ${kindOf(o)} pods should get the Linkerd proxy because ${inj.blockedByToken?.wouldReason ?? inj.reason}, but ECK disables the service-account token ` +
                    `unless ${where}.spec.automountServiceAccountToken is true, and ${why}, so the proxy is not injected (guide: "EFK"). ` +
                    `Fix: set ${where}.spec.automountServiceAccountToken: true, or identity.serviceAccountTokenProjection true (the chart's default).`,
            );
        }
        return out;
    },
};
