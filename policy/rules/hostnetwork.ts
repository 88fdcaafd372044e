/**
 * Rule 2 — hostNetwork pods are never meshed.
 *
 * The proxy injector skips pods with `hostNetwork: true` by design, silently (`linkerd inject` reports
 * "hostNetwork is enabled"; guide, "Prometheus Stack": node-exporter is never injected). A pod template that
 * asks for injection explicitly while using the host network is a configuration that does not do what it says:
 * its traffic is neither mTLS'd nor visible to Linkerd.
 */
import { INJECT_ANNOTATION, Obj, annotation, get, isWorkloadKind, podTemplate, templateAnnotationPath, kindOf } from "../../lib/k8s";
import { injectValueMeshes } from "./context";
import { Rule } from "./types";

export const HOSTNETWORK_RULE = "linkerd-hostnetwork-not-meshed";

export const hostNetworkRule: Rule = {
    name: HOSTNETWORK_RULE,
    description: "Pods with hostNetwork: true that ask for Linkerd injection: the injector skips them silently.",
    defaultEnforcement: "mandatory",
    check(o: Obj): string[] {
        if (!isWorkloadKind(o.kind)) return [];
        const t = podTemplate(o);
        if (!t || get(t.spec, "hostNetwork") !== true) return [];
        const v = annotation(t.metadata, INJECT_ANNOTATION);
        if (!injectValueMeshes(v)) return [];
        return [
            `${kindOf(o)} uses hostNetwork: true and asks for the Linkerd proxy (${INJECT_ANNOTATION}: ${v} at ${templateAnnotationPath(t)}), ` +
                `but the proxy injector never injects hostNetwork pods (it skips them silently; guide: "Prometheus Stack", node-exporter). ` +
                `Its traffic is not meshed. Fix: remove the annotation or set \`${INJECT_ANNOTATION}: disabled\` at ${templateAnnotationPath(t)}, ` +
                `or drop hostNetwork if the workload must be meshed.`,
        ];
    },
};
