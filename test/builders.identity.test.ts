import { loadConfig } from "../lib/config";
import { CONFIG_DEFAULTS } from "../lib/config/schema";
import { identityIssuerCertificate, linkerdNamespace, trustAnchorKeyProblem, trustRootsBundle } from "../lib/builders/identity";
import { validateObject } from "./support/k8sSchemas";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { makeRoot } from "./support/certs";
import { GUIDE_ISSUER_CERTIFICATE } from "./support/guideObjects";

const guide = loadConfig({ values: {} });

describe("identity builders", () => {
    test("the issuer Certificate is guide step 4, plus the wait-for-Ready annotation and rotation policy", () => {
        const guideStep4 = GUIDE_ISSUER_CERTIFICATE;
        expect(identityIssuerCertificate(guide.identity.issuer, guide.linkerd.clusterDomain)).toEqual({
            ...guideStep4,
            metadata: { ...guideStep4.metadata, annotations: { "pulumi.com/waitFor": "condition=Ready" } },
            spec: { ...guideStep4.spec, privateKey: { ...guideStep4.spec.privateKey, rotationPolicy: "Always" } },
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
        const bundle = trustRootsBundle(CONFIG_DEFAULTS.identity.trustAnchor.secret) as any;
        expect(bundle.metadata.name).toBe("linkerd-identity-trust-roots");
        expect(bundle.metadata.namespace).toBeUndefined();
        expect(bundle.spec).toEqual({
            sources: [{ secret: { name: "root-secret", key: "ca.crt" } }],
            target: { configMap: { key: "ca-bundle.crt" }, namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "linkerd" } } },
        });
    });

    test("during a rotation the Bundle has the previous anchor as a second source", () => {
        const bundle = trustRootsBundle(CONFIG_DEFAULTS.identity.trustAnchor.secret, { name: "linkerd-previous-anchor", key: "ca.crt" }) as any;
        expect(bundle.spec.sources).toEqual([
            { secret: { name: "root-secret", key: "ca.crt" } },
            { secret: { name: "linkerd-previous-anchor", key: "ca.crt" } },
        ]);
        expect(validateObject(bundle)).toEqual([]);
    });

    test.each([
        ["Namespace", linkerdNamespace()],
        ["Certificate", identityIssuerCertificate(guide.identity.issuer, guide.linkerd.clusterDomain)],
        ["Bundle", trustRootsBundle(CONFIG_DEFAULTS.identity.trustAnchor.secret)],
    ])("the %s passes its schema", (_kind, object) => {
        expect(validateObject(object)).toEqual([]);
    });
});

describe("a trust anchor read from the cluster (source issuerSecret or secret)", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "picluster-anchor-"));
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

    test("an RSA or P-384 anchor is refused at up, before the control plane is installed; P-256 and placeholders pass", () => {
        expect(trustAnchorKeyProblem(makeRoot(dir, { key: "rsa" }).crt)).toMatch(/its key is RSA, but Linkerd requires ECDSA P-256/);
        expect(trustAnchorKeyProblem(makeRoot(dir, { key: "p384" }).crt)).toMatch(/P-256 curve/);
        expect(trustAnchorKeyProblem(makeRoot(dir, { key: "p256" }).crt)).toBeUndefined();
        expect(trustAnchorKeyProblem("[unknown: ca.crt of Secret linkerd/linkerd-identity-issuer]")).toBeUndefined();
    });
});
