/**
 * Objects as the guide writes them (linkerd-service-mesh.txt), shared by the schema tests and the e2e's
 * guide-made install.
 */

/** "Linkerd Installation", step 4: the identity issuer Certificate, from the `ca-issuer` ClusterIssuer. */
export const GUIDE_ISSUER_CERTIFICATE = {
    apiVersion: "cert-manager.io/v1",
    kind: "Certificate",
    metadata: { name: "linkerd-identity-issuer", namespace: "linkerd" },
    spec: {
        secretName: "linkerd-identity-issuer",
        duration: "48h",
        renewBefore: "25h",
        issuerRef: { name: "ca-issuer", kind: "ClusterIssuer", group: "cert-manager.io" },
        commonName: "identity.linkerd.cluster.local",
        dnsNames: ["identity.linkerd.cluster.local"],
        isCA: true,
        privateKey: { algorithm: "ECDSA" },
        usages: ["cert sign", "crl sign", "server auth", "client auth"],
    },
};
