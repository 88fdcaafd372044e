/**
 * Rule — pods that ask for the proxy in a namespace the proxy injector never sees.
 *
 * Every linkerd-control-plane chart since 2.12 sets proxyInjector.namespaceSelector to leave out kube-system and
 * cert-manager (and namespaces labelled config.linkerd.io/admission-webhooks: disabled): the API server never sends
 * their pods to the injector, so `linkerd.io/inject: enabled | ingress` on such a pod does nothing, silently
 * (linkerd2 #11104). The guide's Traefik case is one: k3s runs its bundled Traefik in kube-system, and the guide
 * meshes it in ingress mode through its Helm values; Traefik then runs without a proxy, its traffic to meshed
 * services is plain TCP from outside the mesh.
 */
import { RuleContext, injectorBlindSpot } from "./context";
import { INJECT_ANNOTATION, Obj, annotation, isWorkloadKind, namespaceOf, podTemplate, templateAnnotationPath, kindOf } from "../../lib/k8s";
import { injectValueMeshes } from "../../lib/k8s";
import { Rule } from "./types";

export const IGNORED_NAMESPACE_RULE = "linkerd-inject-ignored-namespace";

export const ignoredNamespaceRule: Rule = {
    name: IGNORED_NAMESPACE_RULE,
    description:
        "Pods that ask for Linkerd injection in a namespace the proxy injector never sees (kube-system, cert-manager, admission webhooks disabled): they silently get no proxy.",
    defaultEnforcement: "mandatory",
    check(o: Obj, ctx: RuleContext): string[] {
        if (!isWorkloadKind(o.kind)) return [];
        const t = podTemplate(o);
        if (!t) return [];
        const v = annotation(t.metadata, INJECT_ANNOTATION);
        if (!injectValueMeshes(v)) return [];
        const ns = namespaceOf(o, ctx.defaultNamespace);
        const blind = injectorBlindSpot(ctx, ns);
        if (!blind) return [];
        const where = templateAnnotationPath(t);
        return [
            `${kindOf(o)} asks for the Linkerd proxy (${INJECT_ANNOTATION}: ${v} at ${where}), but ${blind}: its pods get no proxy ` +
                `and their traffic is not meshed (for k3s' bundled Traefik in kube-system, the guide's "Meshing Traefik" does not ` +
                `take effect). Fix: run the workload in a namespace of its own (e.g. install Traefik with its own Helm release ` +
                `outside kube-system), or remove the annotation so the manifest says what happens.`,
        ];
    },
};
