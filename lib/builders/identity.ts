/**
 * What to deploy for Linkerd identity: the control-plane namespace, the identity issuer Certificate
 * and the trust-manager Bundle. Pure functions from settings to Kubernetes objects.
 */
import { X509Certificate } from "crypto";
import {
    ADMISSION_WEBHOOKS_LABEL,
    INJECT_ANNOTATION,
    KubeObject,
    LINKERD_NAMESPACE,
    NAMESPACE_NAME_LABEL,
    POD_SECURITY_ENFORCE_LABEL,
    WAIT_FOR_ANNOTATION,
} from "../k8s";

/** The chart reads the issuer from this Secret (identity.issuer.scheme kubernetes.io/tls). */
export const IDENTITY_ISSUER_NAME = "linkerd-identity-issuer";
/** The chart reads the trust roots from this ConfigMap when identity.externalCA is true. */
export const TRUST_ROOTS_NAME = "linkerd-identity-trust-roots";
export const TRUST_ROOTS_KEY = "ca-bundle.crt";

/** The cert-manager issuer that signs the Linkerd identity issuer. */
export interface IssuerRef {
    readonly name: string;
    readonly kind: "ClusterIssuer" | "Issuer";
    readonly group: string;
}

/** The Secret the rotation keeps the previous anchor in (as Linkerd's docs name it), in trust-manager's trust namespace. */
export const PREVIOUS_ANCHOR_SECRET = "linkerd-previous-anchor";

/** A key of a Secret in trust-manager's trust namespace (a Bundle source names no namespace). */
export interface TrustNamespaceKeyRef {
    readonly name: string;
    readonly key: string;
}

/** A key of a Secret. */
export interface SecretKeyRef {
    readonly namespace: string;
    readonly name: string;
    readonly key: string;
}

/**
 * How the control plane gets the trust anchor (the root CA):
 * - mode "pem", the chart value identityTrustAnchorsPEM (guide steps 6 and 8), read from `ca.crt` of
 *   the issued linkerd-identity-issuer Secret ("issuerSecret"), from a key of another Secret
 *   ("secret"), or given inline;
 * - mode "bundle": trust-manager publishes the Secret's key as the ConfigMap
 *   linkerd-identity-trust-roots and the chart runs with identity.externalCA (guide, GitOps installation);
 *   during a trust-anchor rotation `previous` is a second source, the anchor being rotated out
 *   (`npm run rotate-anchor`, docs/rotate-anchor.md).
 */
export type TrustAnchor =
    | { readonly mode: "pem"; readonly source: "issuerSecret" }
    | { readonly mode: "pem"; readonly source: "secret"; readonly secret: SecretKeyRef }
    | { readonly mode: "pem"; readonly source: "inline"; readonly pem: string }
    | { readonly mode: "bundle"; readonly secret: SecretKeyRef; readonly previous?: TrustNamespaceKeyRef };

/** The identity issuer certificate cert-manager maintains (guide step 4). */
export interface IdentityIssuer {
    /** Validity of the issuer certificate. */
    readonly duration: string;
    /** Renewal margin; less than `duration`. */
    readonly renewBefore: string;
    readonly issuerRef: IssuerRef;
    /** cert-manager private key rotation. */
    readonly rotationPolicy: "Always" | "Never";
    /** Seconds `pulumi up` waits for cert-manager to issue it. */
    readonly readyTimeoutSeconds: number;
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
            annotations: { [INJECT_ANNOTATION]: "disabled" },
            labels: {
                "linkerd.io/is-control-plane": "true",
                [ADMISSION_WEBHOOKS_LABEL]: "disabled",
                "linkerd.io/control-plane-ns": LINKERD_NAMESPACE,
                [POD_SECURITY_ENFORCE_LABEL]: "privileged",
            },
        },
    };
}

/** identity.linkerd.<cluster domain>: the name the issuer certificate must carry. */
export function identityName(clusterDomain: string): string {
    return `identity.${LINKERD_NAMESPACE}.${clusterDomain}`;
}

/**
 * The identity issuer: an intermediate CA signed by the cluster's CA issuer, re-issued by
 * cert-manager (guide step 4). Linkerd requires an ECDSA issuer key.
 */
export function identityIssuerCertificate(issuer: IdentityIssuer, clusterDomain: string): KubeObject {
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
            commonName: identityName(clusterDomain),
            dnsNames: [identityName(clusterDomain)],
            isCA: true,
            privateKey: { algorithm: "ECDSA", rotationPolicy: issuer.rotationPolicy },
            usages: ["cert sign", "crl sign", "server auth", "client auth"],
        },
    };
}

/**
 * trust-manager Bundle that publishes the root CA as the ConfigMap linkerd-identity-trust-roots in
 * the linkerd namespace (guide, GitOps installation step 6; linkerd2 #7345). Cluster-scoped: its
 * source Secrets are read from trust-manager's trust namespace. With `previous` (a rotation in
 * progress) the bundle holds both anchors, so proxies restarted meanwhile trust either.
 */
export function trustRootsBundle(source: TrustNamespaceKeyRef, previous?: TrustNamespaceKeyRef): KubeObject {
    return {
        apiVersion: "trust.cert-manager.io/v1alpha1",
        kind: "Bundle",
        metadata: {
            name: TRUST_ROOTS_NAME,
            annotations: { [WAIT_FOR_ANNOTATION]: "condition=Synced" },
        },
        spec: {
            sources: [source, ...(previous ? [previous] : [])].map((s) => ({ secret: { name: s.name, key: s.key } })),
            target: {
                configMap: { key: TRUST_ROOTS_KEY },
                namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: LINKERD_NAMESPACE } },
            },
        },
    };
}

/**
 * Why a certificate's key is not what Linkerd requires of its trust anchor and issuer (ECDSA on P-256:
 * linkerd2 pkg/healthcheck, "trust anchors are using supported crypto algorithm"), or undefined.
 */
export function keyProblem(cert: X509Certificate): string | undefined {
    const key = cert.publicKey;
    if (key.asymmetricKeyType !== "ec") return `its key is ${String(key.asymmetricKeyType).toUpperCase()}, but Linkerd requires ECDSA P-256`;
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve !== "prime256v1") return `its key is ECDSA on ${curve}, but Linkerd requires the P-256 curve (prime256v1)`;
    return undefined;
}

/**
 * Why a trust anchor read from the cluster (a Secret's ca.crt) cannot be Linkerd's, or undefined: a key that is not
 * ECDSA P-256 (`linkerd check` fails it after the install). Text that is not a PEM certificate (e.g. the offline
 * render's placeholder) is left to the chart.
 */
export function trustAnchorKeyProblem(pem: string): string | undefined {
    if (!pem.includes("-----BEGIN CERTIFICATE-----")) return undefined;
    let cert: X509Certificate;
    try {
        cert = new X509Certificate(pem);
    } catch {
        return undefined;
    }
    const problem = keyProblem(cert);
    return (
        problem &&
        `"${cert.subject.replace(/\n/g, ", ")}": ${problem}; use an ECDSA P-256 root CA (cert-manager: privateKey.algorithm ECDSA, size 256)`
    );
}
