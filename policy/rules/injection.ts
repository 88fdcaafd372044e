import { RuleContext, injectValueMeshes, injectorBlindSpot } from "./context";
import { INJECT_ANNOTATION, PodTemplate, annotation, get, templateAnnotationPath } from "../../lib/k8s";

export interface Injection {
    /** The pod will get a linkerd-proxy container. */
    injected: boolean;
    /** The pod template asks for injection itself (annotation enabled/ingress). */
    explicit: boolean;
    /** Sentence explaining why, for messages. */
    reason: string;
    /**
     * The pod would get the proxy (its reason is in `wouldReason`), but sets automountServiceAccountToken: false while the
     * control plane runs without service-account token projection, so the injector skips it.
     */
    blockedByToken?: { wouldReason: string; at: string };
}

/**
 * The injector skips a pod with automountServiceAccountToken: false only while the control plane runs without
 * service-account token projection (identity.serviceAccountTokenProjection false; linkerd2 pkg/inject/report.go).
 */
function tokenCheck(t: PodTemplate, inj: Injection, ctx: RuleContext): Injection {
    if (get(t.spec, "automountServiceAccountToken") !== false || ctx.release.serviceAccountTokenProjection) return inj;
    const at = t.path ? `${t.path}.spec` : "spec";
    return {
        injected: false,
        explicit: inj.explicit,
        reason:
            `it sets automountServiceAccountToken: false (${at}) and the control plane runs without service-account token projection ` +
            `(identity.serviceAccountTokenProjection false), so the injector skips it`,
        blockedByToken: { wouldReason: inj.reason, at },
    };
}

/**
 * Decide whether the proxy injector will inject pods made from this template, the way the injector does:
 * - pods with `hostNetwork: true` are always skipped;
 * - pods in namespaces the injector's namespaceSelector excludes (kube-system, cert-manager, namespaces labelled
 *   config.linkerd.io/admission-webhooks: disabled) never reach it, whatever their annotations;
 * - the pod annotation `linkerd.io/inject` (enabled | ingress | disabled) overrides the namespace's;
 * - a pod with automountServiceAccountToken: false is skipped only without token projection (off: 2.12+ default on);
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
        const inj = { injected: on, explicit: on, reason: `the pod template sets ${INJECT_ANNOTATION}: ${podValue} (${where})` };
        return on ? tokenCheck(t, inj, ctx) : inj;
    }
    const ns = ctx.namespaces.get(namespace);
    if (ns?.meshed) {
        return tokenCheck(
            t,
            {
                injected: true,
                explicit: false,
                reason: `its namespace "${namespace}" is meshed (${INJECT_ANNOTATION}: ${ns.value ?? "enabled"}, from ${ns.source}) and the pod template does not opt out`,
            },
            ctx,
        );
    }
    return {
        injected: false,
        explicit: false,
        reason: ns ? `namespace "${namespace}" is not meshed (${ns.source})` : `namespace "${namespace}" is not known to be meshed`,
    };
}
