/**
 * What the program reads from the live cluster before it decides anything: the CRDs a chart could
 * collide with (today the Gateway API CRDs: who owns them, which versions they serve and store).
 * Read once per `pulumi preview` / `pulumi up` with kubectl pinned to the stack's kubeconfig and
 * context, before any resource is registered, so a collision is refused at preview instead of failing
 * halfway through `up`. The offline render reads nothing.
 */
import { execFile } from "child_process";
import type { KubeTarget } from "./kubeconfig";

/** A CustomResourceDefinition as the cluster has it. */
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

/**
 * The cluster as read before deciding: the CRDs asked for that exist, by name; or why nothing could be
 * read; or "offline" (the render, and callers that decide from the configuration alone).
 */
export type ClusterFacts =
    | { readonly status: "read"; readonly crds: Readonly<Record<string, LiveCrd>> }
    | { readonly status: "unread"; readonly reason: string }
    | { readonly status: "offline" };

export const OFFLINE: ClusterFacts = { status: "offline" };

/** Reads the facts the program needs (lib/config/resolve.ts); the render passes one that reads nothing. */
export type ClusterReader = (crdNames: readonly string[]) => Promise<ClusterFacts>;

/** How the cluster is reached: the stack's pinned kubeconfig and context, and the kubectl to run. */
export interface ClusterAccess extends KubeTarget {
    readonly kubectl: string;
}

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (v && typeof v === "object" && !Array.isArray(v) ? (v as Json) : {});
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : []);

/** One CRD object (`kubectl get crd -o json`) as a LiveCrd. */
export function liveCrd(crd: unknown): LiveCrd {
    const metadata = obj(obj(crd).metadata);
    const annotations = obj(metadata.annotations);
    const versions = Array.isArray(obj(obj(crd).spec).versions) ? (obj(obj(crd).spec).versions as unknown[]) : [];
    const releaseName = annotations["meta.helm.sh/release-name"];
    const releaseNamespace = annotations["meta.helm.sh/release-namespace"];
    return {
        name: typeof metadata.name === "string" ? metadata.name : "",
        servedVersions: versions.filter((v) => obj(v).served === true).map((v) => String(obj(v).name)),
        storedVersions: strings(obj(obj(crd).status).storedVersions),
        helmRelease:
            typeof releaseName === "string" && typeof releaseNamespace === "string" ? { name: releaseName, namespace: releaseNamespace } : undefined,
        keep: annotations["helm.sh/resource-policy"] === "keep",
    };
}

/** The CRDs in kubectl's JSON output (a List, one object, or nothing when none exists). */
export function liveCrds(kubectlJson: string): Record<string, LiveCrd> {
    if (kubectlJson.trim() === "") return {};
    const parsed = JSON.parse(kubectlJson) as unknown;
    const items = Array.isArray(obj(parsed).items) ? (obj(parsed).items as unknown[]) : [parsed];
    return Object.fromEntries(items.map(liveCrd).map((c) => [c.name, c]));
}

/** Reads the named CRDs with kubectl; any failure (no kubectl, cluster unreachable) says why instead of throwing. */
export function kubectlClusterReader(access: ClusterAccess, timeoutSeconds = 15): ClusterReader {
    return (crdNames) =>
        new Promise((resolve) => {
            if (crdNames.length === 0) return resolve({ status: "read", crds: {} });
            const args = ["--kubeconfig", access.kubeconfigPath, ...(access.context ? ["--context", access.context] : [])];
            args.push("get", "crd", ...crdNames, "--ignore-not-found", "-o", "json", `--request-timeout=${timeoutSeconds}s`);
            execFile(access.kubectl, args, { maxBuffer: 64 * 1024 * 1024, timeout: (timeoutSeconds + 5) * 1000 }, (error, stdout, stderr) => {
                if (error) {
                    const reason =
                        (error as NodeJS.ErrnoException).code === "ENOENT"
                            ? `kubectl not found ("${access.kubectl}")`
                            : `kubectl get crd failed: ${String(stderr).trim() || error.message}`;
                    return resolve({ status: "unread", reason });
                }
                try {
                    resolve({ status: "read", crds: liveCrds(String(stdout)) });
                } catch (e) {
                    resolve({ status: "unread", reason: `kubectl get crd printed no JSON: ${(e as Error).message}` });
                }
            });
        });
}

/** For the offline render: nothing is read, decisions come from the configuration alone. */
export const offlineClusterReader: ClusterReader = () => Promise.resolve(OFFLINE);
