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
export { liveCrd, liveCrds } from "./liveCrd";
export type { LiveCrd } from "./liveCrd";
import { LINKERD_NAMESPACE, get, listAt, stringMapAt } from "./k8s";
import { LiveCrd, liveCrd } from "./liveCrd";
import { RunningLinkerd, runningLinkerd } from "./upgrade/running";

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
    const parsed: unknown = objectsJson.trim() === "" ? undefined : JSON.parse(objectsJson);
    const items = parsed === undefined ? [] : Array.isArray(get(parsed, "items")) ? listAt(parsed, "items") : [parsed];
    const crds = Object.fromEntries(
        items
            .filter((i) => get(i, "kind") === "CustomResourceDefinition")
            .map(liveCrd)
            .map((c) => [c.name, c]),
    );
    const config = items.find((i) => get(i, "kind") === "ConfigMap");
    const pods = podLines
        .split("\n")
        .filter((l) => l.trim())
        .map((l) => {
            const [namespace, name, phase, version] = l.split("\t");
            const annotations: Record<string, string> = version ? { "linkerd.io/proxy-version": version } : {};
            return { metadata: { namespace, name, annotations }, status: { phase } };
        });
    return { crds, linkerd: runningLinkerd(stringMapAt(config, "data"), pods) };
}

/** For the offline render: nothing is read, decisions come from the configuration alone. */
export const offlineClusterReader: ClusterReader = () => Promise.resolve(OFFLINE);
