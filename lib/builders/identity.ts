/**
 * What to deploy for Linkerd identity: the control-plane namespace, the identity issuer Certificate
 * and the trust-manager Bundle. Pure functions from configuration to Kubernetes objects.
 */
import type { PiclusterConfig } from "../config";

export const LINKERD_NAMESPACE = "linkerd";
/** The chart reads the issuer from this Secret (identity.issuer.scheme kubernetes.io/tls). */
export const IDENTITY_ISSUER_NAME = "linkerd-identity-issuer";
/** The chart reads the trust roots from this ConfigMap when identity.externalCA is true. */
export const TRUST_ROOTS_NAME = "linkerd-identity-trust-roots";
export const TRUST_ROOTS_KEY = "ca-bundle.crt";
/** pulumi-kubernetes waits for this condition before the resource counts as created. */
export const WAIT_FOR_ANNOTATION = "pulumi.com/waitFor";

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

/**
 * The `linkerd` namespace as the CLI creates it (guide "Linkerd Installation", step 3): Helm never
 * creates it, and the control plane needs the admission-webhooks label to keep its own pods out of
 * the injector.
 */
export function linkerdNamespace(): KubeObject {
    return {
        apiVersion: "v1",
        kind: "Namespace",
        metadata: {
            name: LINKERD_NAMESPACE,
            annotations: { "linkerd.io/inject": "disabled" },
            labels: {
                "linkerd.io/is-control-plane": "true",
                "config.linkerd.io/admission-webhooks": "disabled",
                "linkerd.io/control-plane-ns": LINKERD_NAMESPACE,
                "pod-security.kubernetes.io/enforce": "privileged",
            },
        },
    };
}

/** identity.linkerd.<cluster domain>: the name the issuer certificate must carry. */
export function identityName(cfg: Pick<PiclusterConfig, "linkerd">): string {
    return `identity.${LINKERD_NAMESPACE}.${cfg.linkerd.clusterDomain}`;
}

/**
 * The identity issuer: an intermediate CA signed by the cluster's CA issuer, re-issued by
 * cert-manager (guide step 4). Linkerd requires an ECDSA issuer key.
 */
export function identityIssuerCertificate(cfg: Pick<PiclusterConfig, "identity" | "linkerd">): KubeObject {
    const issuer = cfg.identity.issuer;
    return {
        apiVersion: "cert-manager.io/v1",
        kind: "Certificate",
        metadata: {
            name: IDENTITY_ISSUER_NAME,
            namespace: LINKERD_NAMESPACE,
            // `pulumi up` waits until cert-manager has issued the Secret, so reading ca.crt from
            // it (guide step 6) never races the issuance.
            annotations: { [WAIT_FOR_ANNOTATION]: "condition=Ready" },
        },
        spec: {
            secretName: IDENTITY_ISSUER_NAME,
            duration: issuer.duration,
            renewBefore: issuer.renewBefore,
            issuerRef: { name: issuer.issuerRef.name, kind: issuer.issuerRef.kind, group: issuer.issuerRef.group },
            commonName: identityName(cfg),
            dnsNames: [identityName(cfg)],
            isCA: true,
            privateKey: { algorithm: "ECDSA", rotationPolicy: issuer.rotationPolicy },
            usages: ["cert sign", "crl sign", "server auth", "client auth"],
        },
    };
}

/**
 * trust-manager Bundle that publishes the root CA as the ConfigMap linkerd-identity-trust-roots in
 * the linkerd namespace (guide, GitOps installation step 6; linkerd2 #7345). Cluster-scoped: its
 * source Secret is read from trust-manager's trust namespace.
 */
export function trustRootsBundle(cfg: Pick<PiclusterConfig, "identity">): KubeObject {
    const source = cfg.identity.trustAnchor.secret;
    return {
        apiVersion: "trust.cert-manager.io/v1alpha1",
        kind: "Bundle",
        metadata: {
            name: TRUST_ROOTS_NAME,
            annotations: { [WAIT_FOR_ANNOTATION]: "condition=Synced" },
        },
        spec: {
            sources: [{ secret: { name: source.name, key: source.key } }],
            target: {
                configMap: { key: TRUST_ROOTS_KEY },
                namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": LINKERD_NAMESPACE } },
            },
        },
    };
}
