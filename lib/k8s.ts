/**
 * The shared vocabulary of the program and the policy pack: the shape of a Kubernetes object and
 * the namespace, label and annotation names Linkerd and the guide use. Dependency-free, so the
 * policy pack can import it on its own.
 */

/** A Kubernetes object as the builders produce it (plain data, ready to apply). */
export interface KubeObject {
    readonly apiVersion: string;
    readonly kind: string;
    readonly metadata: {
        readonly name: string;
        readonly namespace?: string;
        readonly labels?: Readonly<Record<string, string>>;
        readonly annotations?: Readonly<Record<string, string>>;
    };
    readonly [field: string]: unknown;
}

/** Namespaces the program creates or must know about. */
export const LINKERD_NAMESPACE = "linkerd";
export const VIZ_NAMESPACE = "linkerd-viz";
export const KUBE_SYSTEM_NAMESPACE = "kube-system";
export const CERT_MANAGER_NAMESPACE = "cert-manager";

/** Helm release names of the guide's `helm install` (steps 7-8), in LINKERD_NAMESPACE. */
export const CRDS_RELEASE_NAME = "linkerd-crds";
export const CONTROL_PLANE_RELEASE_NAME = "linkerd-control-plane";

/** `enabled` | `disabled` | `ingress`, on a namespace or a pod template (guide: "Meshing a service with linkerd"). */
export const INJECT_ANNOTATION = "linkerd.io/inject";
/** Values of the inject annotation that give a pod the proxy. */
export const MESHING_INJECT_VALUES: readonly string[] = ["enabled", "ingress"];
/** Namespace annotation the viz chart sets: pods wait for their proxy before starting. */
export const PROXY_AWAIT_ANNOTATION = "config.linkerd.io/proxy-await";
export const SKIP_OUTBOUND_PORTS_ANNOTATION = "config.linkerd.io/skip-outbound-ports";
/** The proxy's /shutdown endpoint per pod (linkerd-await --shutdown), 2.16+. */
export const PROXY_ADMIN_SHUTDOWN_ANNOTATION = "config.linkerd.io/proxy-admin-shutdown";

/** Namespaces labelled `disabled` are never seen by Linkerd's admission webhooks (the proxy injector among them). */
export const ADMISSION_WEBHOOKS_LABEL = "config.linkerd.io/admission-webhooks";
/** Set by the API server on every namespace: what webhook namespaceSelectors match names by. */
export const NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name";
export const EXTENSION_LABEL = "linkerd.io/extension";
export const POD_SECURITY_ENFORCE_LABEL = "pod-security.kubernetes.io/enforce";

/** pulumi-kubernetes waits for this condition before the resource counts as created. */
export const WAIT_FOR_ANNOTATION = "pulumi.com/waitFor";
/**
 * Server-side-apply conflicts are forced: a namespace or template annotated by hand
 * (`kubectl annotate ns monitoring linkerd.io/inject=disabled`) is taken over instead of failing the update.
 */
export const PATCH_FORCE_ANNOTATION = "pulumi.com/patchForce";

/** Whether an inject annotation value gives pods the proxy. */
export function injectValueMeshes(value: string | undefined): boolean {
    return value !== undefined && MESHING_INJECT_VALUES.includes(value);
}
