import { RuleContext, injectValueMeshes, injectorBlindSpot } from "./context";
import { INJECT_ANNOTATION, PodTemplate, annotation, get, templateAnnotationPath } from "./k8s";

export interface Injection {
    /** The pod will get a linkerd-proxy container. */
    injected: boolean;
    /** The pod template asks for injection itself (annotation enabled/ingress). */
    explicit: boolean;
    /** Sentence explaining why, for messages. */
    reason: string;
}

/**
 * Decide whether the proxy injector will inject pods made from this template, the way the injector does:
 * - pods with `hostNetwork: true` are always skipped;
 * - pods in namespaces the injector's namespaceSelector excludes (kube-system, cert-manager, namespaces labelled
 *   config.linkerd.io/admission-webhooks: disabled) never reach it, whatever their annotations;
 * - the pod annotation `linkerd.io/inject` (enabled | ingress | disabled) overrides the namespace's;
 * - otherwise the namespace annotation decides (namespaces with the webhook disabled are never injected).
 */
export function injectionFor(t: PodTemplate, namespace: string, ctx: RuleContext): Injection {
    const podValue = annotation(t.metadata, INJECT_ANNOTATION);
    const where = templateAnnotationPath(t);
    if (get(t.spec, "hostNetwork") === true) {
        return { injected: false, explicit: injectValueMeshes(podValue), reason: "the pod uses hostNetwork, which the injector skips" };
    }
    const blind = injectorBlindSpot(ctx, namespace);
    if (blind) return { injected: false, explicit: injectValueMeshes(podValue), reason: blind };
    if (podValue !== undefined) {
        const on = injectValueMeshes(podValue);
        return {
            injected: on,
            explicit: on,
            reason: `the pod template sets ${INJECT_ANNOTATION}: ${podValue} (${where})`,
        };
    }
    const ns = ctx.namespaces.get(namespace);
    if (ns?.meshed) {
        return {
            injected: true,
            explicit: false,
            reason: `its namespace "${namespace}" is meshed (${INJECT_ANNOTATION}: ${ns.value ?? "enabled"}, from ${ns.source}) and the pod template does not opt out`,
        };
    }
    return {
        injected: false,
        explicit: false,
        reason: ns ? `namespace "${namespace}" is not meshed (${ns.source})` : `namespace "${namespace}" is not known to be meshed`,
    };
}
