/**
 * Which pods Linkerd's proxy injector can see. The injector is a mutating admission webhook: the API
 * server calls it only for pods whose namespace matches the webhook's `namespaceSelector` and whose
 * own labels match its `objectSelector`. Every control-plane chart the program offers (2.14 and every
 * edge release since; the selectors date from 2.12) renders `proxyInjector.namespaceSelector` from
 * values.yaml as below: pods in kube-system and cert-manager, or in a namespace labelled
 * `config.linkerd.io/admission-webhooks: disabled`, never get a proxy, whatever their annotations
 * (linkerd2 #11104, closed as intended). test/injector.test.ts checks this model against the selectors
 * derived from each release's chart (test/fixtures/injector-selectors).
 *
 * Imports only lib/k8s.ts, so the policy pack can import it on its own.
 */
import { ADMISSION_WEBHOOKS_LABEL, CERT_MANAGER_NAMESPACE, KUBE_SYSTEM_NAMESPACE, LabelSelector, NAMESPACE_NAME_LABEL, selectorMatches } from "./k8s";

export type { LabelSelector };

/** Namespaces the chart's namespaceSelector excludes by name. */
export const INJECTOR_EXCLUDED_NAMESPACES: readonly string[] = [KUBE_SYSTEM_NAMESPACE, CERT_MANAGER_NAMESPACE];

/** The chart's `proxyInjector.namespaceSelector` (not overridden by the program). */
export const PROXY_INJECTOR_NAMESPACE_SELECTOR: LabelSelector = {
    matchExpressions: [
        { key: ADMISSION_WEBHOOKS_LABEL, operator: "NotIn", values: ["disabled"] },
        { key: NAMESPACE_NAME_LABEL, operator: "NotIn", values: [...INJECTOR_EXCLUDED_NAMESPACES] },
    ],
};

/** The chart's `proxyInjector.objectSelector`: the control plane's own pods and the CNI plugin are never injected. */
export const PROXY_INJECTOR_OBJECT_SELECTOR: LabelSelector = {
    matchExpressions: [
        { key: "linkerd.io/control-plane-component", operator: "DoesNotExist" },
        { key: "linkerd.io/cni-resource", operator: "DoesNotExist" },
    ],
};

/** A namespace's labels as webhooks see them: the API server sets kubernetes.io/metadata.name on every namespace. */
export function namespaceLabelsAsServed(name: string, labels: Readonly<Record<string, string>> = {}): Record<string, string> {
    return { ...labels, [NAMESPACE_NAME_LABEL]: name };
}

/**
 * Why the proxy injector never sees pods of a namespace, or undefined when it does: the chart's namespaceSelector
 * leaves the namespace out by its name (kube-system, cert-manager), or by its labels (config.linkerd.io/admission-webhooks:
 * disabled). The one decision behind the program's refusals, the policy pack's rule and notes, and the check.
 * `labels`: the namespace's own labels, when known.
 */
export function injectorSkips(
    namespace: string,
    labels: Readonly<Record<string, string>> = {},
    selector: LabelSelector = PROXY_INJECTOR_NAMESPACE_SELECTOR,
): "name" | "labels" | undefined {
    if (!selectorMatches(selector, namespaceLabelsAsServed(namespace))) return "name";
    if (!selectorMatches(selector, namespaceLabelsAsServed(namespace, labels))) return "labels";
    return undefined;
}

/**
 * Why the injector will never see pods of this namespace, or undefined when it does.
 * `labels`: the namespace's own labels, when known.
 */
export function injectorBlindSpot(
    namespace: string,
    labels: Readonly<Record<string, string>> = {},
    selector: LabelSelector = PROXY_INJECTOR_NAMESPACE_SELECTOR,
): string | undefined {
    const skip = injectorSkips(namespace, labels, selector);
    if (skip === "labels") {
        return `namespace "${namespace}" is labelled ${ADMISSION_WEBHOOKS_LABEL}: disabled, so Linkerd's admission webhooks (the proxy injector among them) skip it`;
    }
    if (skip === "name") {
        return (
            `Linkerd's proxy injector never sees namespace "${namespace}": every control-plane chart excludes ` +
            `${INJECTOR_EXCLUDED_NAMESPACES.join(" and ")} in proxyInjector.namespaceSelector (linkerd2 #11104), so its pods get no proxy whatever their annotations`
        );
    }
    return undefined;
}
