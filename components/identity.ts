import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { PiclusterConfig } from "../lib/config";
import { identityIssuerCertificate, linkerdNamespace, trustRootsBundle } from "../lib/builders/identity";

export interface LinkerdIdentityArgs {
    /** The validated configuration (identity and linkerd sections are used). */
    readonly config: Pick<PiclusterConfig, "identity" | "linkerd">;
}

/**
 * Linkerd identity: the `linkerd` namespace, the cert-manager issuer Certificate and the trust
 * anchor, either read as a PEM (guide steps 3-6) or distributed by a trust-manager Bundle (guide,
 * GitOps installation).
 */
export class LinkerdIdentity extends pulumi.ComponentResource {
    readonly namespace: k8s.core.v1.Namespace;
    readonly identityIssuerCertificate: k8s.apiextensions.CustomResource;
    /** Mode "bundle" only. */
    readonly trustRootsBundle?: k8s.apiextensions.CustomResource;
    /** Mode "pem" only: the root CA certificate handed to the control plane. */
    readonly trustAnchorPEM?: pulumi.Output<string>;
    /** What the control plane must be installed after. */
    readonly dependencies: pulumi.Resource[];

    constructor(name: string, args: LinkerdIdentityArgs, opts?: pulumi.ComponentResourceOptions) {
        super("picluster:linkerd:Identity", name, {}, opts);
        const cfg = args.config;
        const anchor = cfg.identity.trustAnchor;

        this.namespace = new k8s.core.v1.Namespace("linkerd-namespace", { metadata: linkerdNamespace().metadata }, { parent: this });

        const timeoutSeconds = cfg.identity.issuer.readyTimeoutSeconds;
        this.identityIssuerCertificate = new k8s.apiextensions.CustomResource(
            "linkerd-identity-issuer",
            identityIssuerCertificate(cfg),
            { parent: this, dependsOn: [this.namespace], customTimeouts: { create: `${timeoutSeconds}s`, update: `${timeoutSeconds}s` } },
        );
        this.dependencies = [this.namespace, this.identityIssuerCertificate];

        if (anchor.mode === "bundle") {
            const bundleTimeout = `${anchor.bundleReadyTimeoutSeconds}s`;
            this.trustRootsBundle = new k8s.apiextensions.CustomResource("linkerd-identity-trust-roots", trustRootsBundle(cfg), {
                parent: this,
                // The Bundle selects the namespace by label: it must exist first.
                dependsOn: [this.namespace],
                customTimeouts: { create: bundleTimeout, update: bundleTimeout },
            });
            this.dependencies.push(this.trustRootsBundle);
        } else {
            this.trustAnchorPEM = this.readTrustAnchor(cfg);
        }

        this.registerOutputs({ trustAnchorPEM: this.trustAnchorPEM });
    }

    /**
     * Guide step 6. The issuer Secret is read only once cert-manager reports the Certificate Ready
     * (the Certificate carries pulumi.com/waitFor, and the read's ID comes from its outputs, so a
     * first preview shows the PEM as unknown instead of failing on a Secret that does not exist yet).
     */
    private readTrustAnchor(cfg: Pick<PiclusterConfig, "identity">): pulumi.Output<string> {
        const anchor = cfg.identity.trustAnchor;
        if (anchor.source === "inline") return pulumi.output(anchor.pem!);

        const ref =
            anchor.source === "issuerSecret"
                ? { id: this.identityIssuerCertificate.metadata.apply((m) => `${m.namespace}/${m.name}`), key: "ca.crt", deps: [this.identityIssuerCertificate] }
                : { id: pulumi.output(`${anchor.secret.namespace}/${anchor.secret.name}`), key: anchor.secret.key, deps: [] };
        const secret = k8s.core.v1.Secret.get("linkerd-trust-anchor-source", ref.id, {
            parent: this,
            dependsOn: ref.deps,
            // The Secret also holds the issuer's private key: keep all of its data secret in state.
            additionalSecretOutputs: ["data", "stringData"],
        });
        const pem = pulumi.all([secret.data, ref.id]).apply(([data, id]) => {
            const encoded = data?.[ref.key];
            if (!encoded) throw new Error(`Secret ${id} has no key "${ref.key}": cannot read the Linkerd trust anchor (identity.trustAnchor)`);
            return Buffer.from(encoded, "base64").toString("utf8");
        });
        // A CA certificate is public; only the Secret's other keys are sensitive.
        return pulumi.unsecret(pem);
    }
}
