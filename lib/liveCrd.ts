/**
 * A CustomResourceDefinition as the cluster has it (`kubectl get crd -o json`): the versions it
 * serves and has stored, the Helm release owning it, and whether Helm keeps it. Read by lib/cluster.ts,
 * judged by lib/gatewayApi.ts.
 */
import { annotation, get, listAt, objAt, str } from "./k8s";

export interface LiveCrd {
    readonly name: string;
    readonly servedVersions: readonly string[];
    /** status.storedVersions: every version objects may still be stored at. */
    readonly storedVersions: readonly string[];
    /** The Helm release owning it (meta.helm.sh/release-name and -namespace annotations), if any. */
    readonly helmRelease?: { readonly name: string; readonly namespace: string };
    /** `helm.sh/resource-policy: keep`: Helm never deletes it. */
    readonly keep: boolean;
}

/** One CRD object as a LiveCrd. */
export function liveCrd(crd: unknown): LiveCrd {
    const metadata = objAt(crd, "metadata");
    const releaseName = annotation(metadata, "meta.helm.sh/release-name");
    const releaseNamespace = annotation(metadata, "meta.helm.sh/release-namespace");
    return {
        name: str(get(metadata, "name")) ?? "",
        servedVersions: listAt(crd, "spec", "versions")
            .filter((v) => get(v, "served") === true)
            .map((v) => str(get(v, "name")) ?? ""),
        storedVersions: listAt(crd, "status", "storedVersions").filter((v): v is string => typeof v === "string"),
        helmRelease: releaseName !== undefined && releaseNamespace !== undefined ? { name: releaseName, namespace: releaseNamespace } : undefined,
        keep: annotation(metadata, "helm.sh/resource-policy") === "keep",
    };
}

/** The CRDs in kubectl's JSON output (a List, one object, or nothing when none exists). */
export function liveCrds(kubectlJson: string): Record<string, LiveCrd> {
    if (kubectlJson.trim() === "") return {};
    const parsed = JSON.parse(kubectlJson) as unknown;
    const items = Array.isArray(get(parsed, "items")) ? listAt(parsed, "items") : [parsed];
    return Object.fromEntries(items.map(liveCrd).map((c) => [c.name, c]));
}
