import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import {
    IdentityIssuer,
    TrustAnchor,
    identityIssuerCertificate,
    linkerdNamespace,
    trustRootsBundle,
    trustAnchorKeyProblem,
} from "../lib/builders/identity";
import { renamedFrom } from "../lib/resources";
import type { ControlPlaneIdentity } from "./contracts";
import { COMPONENT_TYPES } from "../lib/names";

export interface LinkerdIdentityArgs {
    /** Cluster DNS domain: the issuer certificate is for identity.linkerd.<domain>. */
    readonly clusterDomain: string;
    /** The identity issuer certificate (guide step 4). */
    readonly issuer: IdentityIssuer;
    /** Where the control plane's trust anchor comes from. */
    readonly trustAnchor: TrustAnchor;
    /** Mode "bundle": seconds `pulumi up` waits for trust-manager to sync the Bundle. */
    readonly bundleReadyTimeoutSeconds: number;
}

/**
 * Linkerd identity: the `linkerd` namespace, the cert-manager issuer Certificate and the trust
 * anchor, either read as a PEM (guide steps 3-6) or distributed by a trust-manager Bundle (guide,
 * GitOps installation).
 */
export class LinkerdIdentity extends pulumi.ComponentResource implements ControlPlaneIdentity {
    readonly clusterDomain: string;
    readonly trustAnchorMode: TrustAnchor["mode"];
    readonly namespace: k8s.core.v1.Namespace;
    readonly identityIssuerCertificate: k8s.apiextensions.CustomResource;
    /** Mode "bundle" only. */
    readonly trustRootsBundle?: k8s.apiextensions.CustomResource;
    /** Mode "pem" only: the root CA certificate handed to the control plane. */
    readonly trustAnchorPEM?: pulumi.Output<string>;
    /** What the control plane must be installed after. */
    readonly dependencies: pulumi.Resource[];

    constructor(name: string, args: LinkerdIdentityArgs, opts?: pulumi.ComponentResourceOptions) {
        super(COMPONENT_TYPES.identity, name, {}, opts);
        this.clusterDomain = args.clusterDomain;
        const issuer: IdentityIssuer = args.issuer;
        const anchor: TrustAnchor = args.trustAnchor;
        this.trustAnchorMode = anchor.mode;

        this.namespace = new k8s.core.v1.Namespace(
            `${name}-namespace`,
            { metadata: linkerdNamespace().metadata },
            { parent: this, ...renamedFrom("linkerd-namespace") },
        );

        const timeout = `${issuer.readyTimeoutSeconds}s`;
        this.identityIssuerCertificate = new k8s.apiextensions.CustomResource(
            `${name}-issuer`,
            identityIssuerCertificate(issuer, this.clusterDomain),
            {
                parent: this,
                dependsOn: [this.namespace],
                customTimeouts: { create: timeout, update: timeout },
            },
        );
        this.dependencies = [this.namespace, this.identityIssuerCertificate];

        if (anchor.mode === "bundle") {
            const bundleTimeout = `${args.bundleReadyTimeoutSeconds}s`;
            this.trustRootsBundle = new k8s.apiextensions.CustomResource(`${name}-trust-roots`, trustRootsBundle(anchor.secret, anchor.previous), {
                parent: this,
                // The Bundle selects the namespace by label: it must exist first.
                dependsOn: [this.namespace],
                customTimeouts: { create: bundleTimeout, update: bundleTimeout },
            });
            this.dependencies.push(this.trustRootsBundle);
        } else {
            this.trustAnchorPEM = this.readTrustAnchor(name, anchor);
        }

        this.registerOutputs({ trustAnchorPEM: this.trustAnchorPEM });
    }

    /**
     * Guide step 6. The issuer Secret is read only once cert-manager reports the Certificate Ready
     * (the Certificate carries pulumi.com/waitFor, and the read's ID comes from its outputs, so a
     * first preview shows the PEM as unknown instead of failing on a Secret that does not exist yet).
     */
    private readTrustAnchor(name: string, anchor: Extract<TrustAnchor, { mode: "pem" }>): pulumi.Output<string> {
        if (anchor.source === "inline") return pulumi.output(anchor.pem);

        const ref =
            anchor.source === "issuerSecret"
                ? {
                      id: this.identityIssuerCertificate.metadata.apply((m) => `${m.namespace}/${m.name}`),
                      key: "ca.crt",
                      deps: [this.identityIssuerCertificate],
                  }
                : { id: pulumi.output(`${anchor.secret.namespace}/${anchor.secret.name}`), key: anchor.secret.key, deps: [] };
        const secret = k8s.core.v1.Secret.get(`${name}-trust-anchor-source`, ref.id, {
            parent: this,
            dependsOn: ref.deps,
            // The Secret also holds the issuer's private key: keep all of its data secret in state.
            additionalSecretOutputs: ["data", "stringData"],
        });
        const pem = pulumi.all([secret.data, ref.id]).apply(([data, id]) => {
            const encoded = data?.[ref.key];
            if (!encoded) throw new Error(`Secret ${id} has no key "${ref.key}": cannot read the Linkerd trust anchor (identity.trustAnchor)`);
            const text = Buffer.from(encoded, "base64").toString("utf8");
            // Known only once the Secret exists (at up): refuse an anchor Linkerd cannot use before the control plane is installed.
            const problem = trustAnchorKeyProblem(text);
            if (problem) throw new Error(`the Linkerd trust anchor in Secret ${id} (key ${ref.key}, identity.trustAnchor): ${problem}`);
            return text;
        });
        // A CA certificate is public; only the Secret's other keys are sensitive.
        return pulumi.unsecret(pem);
    }
}
