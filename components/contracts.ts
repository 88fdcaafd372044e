/**
 * What the components need from each other, as narrow interfaces: each component takes only what it uses, so it
 * can be built (and tested) alone with a hand-made implementation (test/components.alone.test.ts). The composition
 * root (picluster.ts) hands them the real components, which implement these.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { ChartSource } from "../lib/charts";
import type { LinkerdRelease } from "../lib/release";

/** A control plane to come after: its linkerd-control-plane release (the proxy injector must be up first). */
export interface InstalledControlPlane {
    readonly controlPlaneRelease: pulumi.Resource;
}

/** Where the control plane was installed from: an extension comes from the same release and charts, after it. */
export interface ExtensionSource extends InstalledControlPlane {
    readonly release: Pick<LinkerdRelease, "version" | "charts">;
    readonly chartSource: ChartSource;
    /** Seconds Helm waits for each release. */
    readonly helmTimeoutSeconds: number;
    /** Cluster DNS domain (identity names, l5d-dst-override destinations). */
    readonly clusterDomain: string;
}

/** The identity the control plane is installed with. */
export interface ControlPlaneIdentity {
    readonly clusterDomain: string;
    /** The `linkerd` namespace. */
    readonly namespace: pulumi.Resource;
    /** What the control plane must be installed after. */
    readonly dependencies: readonly pulumi.Resource[];
    /** Mode "pem": the root CA handed to the control plane; undefined in mode "bundle". */
    readonly trustAnchorPEM?: pulumi.Output<string>;
}

/** Namespaces meshed by a patch each, by name: what waits for a namespace to be meshed. */
export interface MeshedNamespaces {
    readonly meshedNamespaces: Readonly<Record<string, pulumi.Resource>>;
}
