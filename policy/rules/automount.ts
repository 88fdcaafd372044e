/**
 * Rule — pods in a meshed namespace with `automountServiceAccountToken: false`.
 *
 * Guide, "EFK": Elasticsearch and Kibana pods created by the ECK operator are not injected unless their
 * podTemplate sets `automountServiceAccountToken: true` (ECK turns the token off by default). The same holds for
 * any pod template that disables the token: the pod silently stays out of the mesh.
 */
import { RuleContext } from "./context";
import { injectionFor } from "./injection";
import { Obj, apiGroup, get, isObj, isWorkloadKind, namespaceOf, podTemplate, PodTemplate } from "./k8s";
import { Rule } from "./types";

export const AUTOMOUNT_RULE = "linkerd-automount-token-disabled";

/** Pod templates inside ECK custom resources (Elasticsearch, Kibana, ApmServer, Beat, Agent, Logstash, …). */
export function eckPodTemplates(o: Obj): { t: PodTemplate; where: string }[] {
    if (!apiGroup(o.apiVersion).endsWith("k8s.elastic.co")) return [];
    const out: { t: PodTemplate; where: string }[] = [];
    const add = (pt: unknown, where: string) => {
        if (pt === undefined || isObj(pt)) out.push({ t: { metadata: get(pt, "metadata"), spec: get(pt, "spec"), path: where }, where });
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
    description: "Pods that should be meshed but disable automountServiceAccountToken are never injected (ECK pods).",
    defaultEnforcement: "advisory",
    check(o: Obj, ctx: RuleContext): string[] {
        const ns = namespaceOf(o, ctx.defaultNamespace);
        if (isWorkloadKind(o.kind)) {
            const t = podTemplate(o);
            if (!t || get(t.spec, "automountServiceAccountToken") !== false) return [];
            const inj = injectionFor(t, ns, ctx);
            if (!inj.injected) return [];
            const at = t.path ? `${t.path}.spec` : "spec";
            return [
                `${o.kind} should get the Linkerd proxy because ${inj.reason}, but it sets automountServiceAccountToken: false, ` +
                    `so the proxy is not injected (guide: "EFK"). Fix: set automountServiceAccountToken: true at ${at}, ` +
                    `or opt the pod out explicitly with linkerd.io/inject: disabled.`,
            ];
        }
        const out: string[] = [];
        for (const { t, where } of eckPodTemplates(o)) {
            if (get(t.spec, "automountServiceAccountToken") === true) continue;
            const inj = injectionFor(t, ns, ctx);
            if (!inj.injected) continue;
            out.push(
                `ECK ${o.kind} pods should get the Linkerd proxy because ${inj.reason}, but ECK disables the service-account token ` +
                    `unless ${where}.spec.automountServiceAccountToken is true, so the proxy is not injected (guide: "EFK"). ` +
                    `Fix: set ${where}.spec.automountServiceAccountToken: true.`,
            );
        }
        return out;
    },
};
