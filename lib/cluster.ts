/**
 * What the program reads from the live cluster before it decides anything: the CRDs a chart could
 * collide with (today the Gateway API CRDs: who owns them, which versions they serve and store), and
 * the Linkerd running there (the control plane's release, each meshed pod's proxy version), so a jump
 * of more than one major is refused (lib/upgrade).
 * Read once per `pulumi preview` / `pulumi up` with kubectl pinned to the stack's kubeconfig and
 * context, before any resource is registered, so a collision is refused at preview instead of failing
 * halfway through `up`. The offline render reads nothing.
 */
import { execFile } from "child_process";
import type { KubeTarget } from "./kubeconfig";
import { LINKERD_NAMESPACE } from "./k8s";
import { RunningLinkerd, runningLinkerd } from "./upgrade/running";

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
    | { readonly status: "read"; readonly crds: Readonly<Record<string, LiveCrd>>; readonly linkerd?: RunningLinkerd }
    | { readonly status: "unread"; readonly reason: string }
    | { readonly status: "offline" };

export const OFFLINE: ClusterFacts = { status: "offline" };

/** Reads the facts the program needs (lib/config/resolve.ts, lib/upgrade); the render passes one that reads nothing. */
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
        name: String(metadata.name ?? ""),
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

/** Runs kubectl pinned to the access; resolves with stdout, or rejects with why it failed. */
function kubectlRead(access: ClusterAccess, args: readonly string[], timeoutSeconds: number): Promise<string> {
    const pinned = ["--kubeconfig", access.kubeconfigPath, ...(access.context ? ["--context", access.context] : [])];
    return new Promise((resolve, reject) => {
        execFile(
            access.kubectl,
            [...pinned, ...args, `--request-timeout=${timeoutSeconds}s`],
            { maxBuffer: 256 * 1024 * 1024, timeout: (timeoutSeconds + 5) * 1000 },
            (error, stdout, stderr) => {
                if (!error) return resolve(String(stdout));
                reject(
                    new Error(
                        (error as NodeJS.ErrnoException).code === "ENOENT"
                            ? `kubectl not found ("${access.kubectl}")`
                            : `kubectl ${args.slice(0, 2).join(" ")} failed: ${String(stderr).trim() || error.message}`,
                    ),
                );
            },
        );
    });
}

/**
 * Reads the named CRDs, linkerd-config and the meshed pods with kubectl (two calls, at once); any
 * failure (no kubectl, cluster unreachable) says why instead of throwing.
 */
export function kubectlClusterReader(access: ClusterAccess, timeoutSeconds = 15): ClusterReader {
    return async (crdNames) => {
        try {
            const named = [...crdNames.map((n) => `crd/${n}`), "configmap/linkerd-config"];
            // Pods the injector meshed carry linkerd.io/control-plane-ns; only what the upgrade rules read is printed.
            const podFields = `{range .items[*]}{.metadata.namespace}{"\\t"}{.metadata.name}{"\\t"}{.status.phase}{"\\t"}{.metadata.annotations.linkerd\\.io/proxy-version}{"\\n"}{end}`;
            const [objects, pods] = await Promise.all([
                kubectlRead(access, ["-n", LINKERD_NAMESPACE, "get", ...named, "--ignore-not-found", "-o", "json"], timeoutSeconds),
                kubectlRead(access, ["get", "pods", "-A", "-l", "linkerd.io/control-plane-ns", "-o", `jsonpath=${podFields}`], timeoutSeconds),
            ]);
            return { status: "read", ...factsOf(objects, pods) };
        } catch (e) {
            return { status: "unread", reason: (e as Error).message };
        }
    };
}

/** The facts from kubectl's output: the CRDs and linkerd-config as JSON, the pods as tab-separated lines. */
export function factsOf(objectsJson: string, podLines: string): { crds: Record<string, LiveCrd>; linkerd: RunningLinkerd } {
    const items: unknown[] =
        objectsJson.trim() === "" ? [] : ((o) => (Array.isArray(obj(o).items) ? (obj(o).items as unknown[]) : [o]))(JSON.parse(objectsJson));
    const crds = Object.fromEntries(
        items
            .filter((i) => obj(i).kind === "CustomResourceDefinition")
            .map(liveCrd)
            .map((c) => [c.name, c]),
    );
    const config = items.find((i) => obj(i).kind === "ConfigMap");
    const pods = podLines
        .split("\n")
        .filter((l) => l.trim())
        .map((l) => {
            const [namespace, name, phase, version] = l.split("\t");
            const annotations: Record<string, string> = version ? { "linkerd.io/proxy-version": version } : {};
            return { metadata: { namespace, name, annotations }, status: { phase } };
        });
    return { crds, linkerd: runningLinkerd(config ? (obj(obj(config).data) as Record<string, string>) : undefined, pods) };
}

/** For the offline render: nothing is read, decisions come from the configuration alone. */
export const offlineClusterReader: ClusterReader = async () => OFFLINE;
