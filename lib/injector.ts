/**
 * Which namespaces Linkerd's proxy injector never sees. Every linkerd-control-plane chart since 2.12 sets
 * `proxyInjector.namespaceSelector` (values.yaml) to `kubernetes.io/metadata.name NotIn [kube-system, cert-manager]`
 * and `config.linkerd.io/admission-webhooks NotIn [disabled]`: the API server never sends pods of those namespaces
 * to the injector, whatever their annotations (linkerd2 #11104, closed as intended).
 *
 * Dependency-free, so the policy pack can import it on its own.
 */
import { CERT_MANAGER_NAMESPACE, KUBE_SYSTEM_NAMESPACE } from "./k8s";

/** Namespaces the chart's proxyInjector.namespaceSelector excludes by name. */
export const INJECTOR_EXCLUDED_NAMESPACES: readonly string[] = [KUBE_SYSTEM_NAMESPACE, CERT_MANAGER_NAMESPACE];
