import { loadConfig } from "../lib/config";
import { IDENTITY_DEFAULTS, identityIssuerCertificate, linkerdNamespace, trustRootsBundle } from "../lib/builders/identity";
import { validateObject } from "./support/k8sSchemas";

const guide = loadConfig({ values: {} });

describe("identity builders", () => {
    test("the issuer Certificate is guide step 4, plus the wait-for-Ready annotation and rotation policy", () => {
        expect(identityIssuerCertificate(guide.identity.issuer, guide.linkerd.clusterDomain)).toEqual({
            apiVersion: "cert-manager.io/v1",
            kind: "Certificate",
            metadata: { name: "linkerd-identity-issuer", namespace: "linkerd", annotations: { "pulumi.com/waitFor": "condition=Ready" } },
            spec: {
                secretName: "linkerd-identity-issuer",
                duration: "48h",
                renewBefore: "25h",
                issuerRef: { name: "ca-issuer", kind: "ClusterIssuer", group: "cert-manager.io" },
                commonName: "identity.linkerd.cluster.local",
                dnsNames: ["identity.linkerd.cluster.local"],
                isCA: true,
                privateKey: { algorithm: "ECDSA", rotationPolicy: "Always" },
                usages: ["cert sign", "crl sign", "server auth", "client auth"],
            },
        });
    });

    test("issuer settings and cluster domain come from the configuration", () => {
        const cfg = loadConfig({
            values: {
                linkerd: { clusterDomain: "pi.lan" },
                identity: { issuer: { duration: "720h", renewBefore: "168h", issuerRef: { name: "lab-ca", kind: "Issuer" } } },
            },
        });
        const cert = identityIssuerCertificate(cfg.identity.issuer, cfg.linkerd.clusterDomain) as any;
        expect(cert.spec).toMatchObject({
            duration: "720h",
            renewBefore: "168h",
            issuerRef: { name: "lab-ca", kind: "Issuer", group: "cert-manager.io" },
            commonName: "identity.linkerd.pi.lan",
            dnsNames: ["identity.linkerd.pi.lan"],
        });
    });

    test("the namespace carries the labels and annotation of guide step 3 and the CLI", () => {
        expect(linkerdNamespace()).toEqual({
            apiVersion: "v1",
            kind: "Namespace",
            metadata: {
                name: "linkerd",
                annotations: { "linkerd.io/inject": "disabled" },
                labels: {
                    "linkerd.io/is-control-plane": "true",
                    "config.linkerd.io/admission-webhooks": "disabled",
                    "linkerd.io/control-plane-ns": "linkerd",
                    "pod-security.kubernetes.io/enforce": "privileged",
                },
            },
        });
    });

    test("the Bundle is the guide's GitOps step 6", () => {
        const bundle = trustRootsBundle(IDENTITY_DEFAULTS.trustAnchorSecret) as any;
        expect(bundle.metadata.name).toBe("linkerd-identity-trust-roots");
        expect(bundle.metadata.namespace).toBeUndefined();
        expect(bundle.spec).toEqual({
            sources: [{ secret: { name: "root-secret", key: "ca.crt" } }],
            target: { configMap: { key: "ca-bundle.crt" }, namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "linkerd" } } },
        });
    });

    test.each([
        ["Namespace", linkerdNamespace()],
        ["Certificate", identityIssuerCertificate(guide.identity.issuer, guide.linkerd.clusterDomain)],
        ["Bundle", trustRootsBundle(IDENTITY_DEFAULTS.trustAnchorSecret)],
    ])("the %s passes its schema", (_kind, object) => {
        expect(validateObject(object)).toEqual([]);
    });
});
