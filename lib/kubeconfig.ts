/**
 * Which cluster the program talks to. The kubeconfig path and context are resolved once and pinned
 * for the Kubernetes provider and for every kubectl step, so nothing depends on whatever context is
 * current in the user's shell when `pulumi up` runs.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse as parseYaml } from "yaml";

export interface KubeTarget {
    readonly kubeconfigPath: string;
    /** Undefined only when neither the config nor a readable kubeconfig names one. */
    readonly context?: string;
}

function expandHome(p: string): string {
    return p === "~" || p.startsWith("~/") ? path.join(os.homedir(), p.slice(1)) : p;
}

/** The kubeconfig file (given, else $KUBECONFIG's first entry, else ~/.kube/config) and the context (given, else its current-context). */
export function resolveKubeTarget(
    given: { readonly kubeconfig?: string; readonly context?: string },
    env: NodeJS.ProcessEnv = process.env,
): KubeTarget {
    const fromEnv = env.KUBECONFIG?.split(path.delimiter).find((p) => p.length > 0);
    const kubeconfigPath = path.resolve(expandHome(given.kubeconfig ?? fromEnv ?? "~/.kube/config"));
    if (given.context) return { kubeconfigPath, context: given.context };
    try {
        const doc = parseYaml(fs.readFileSync(kubeconfigPath, "utf8")) as { "current-context"?: unknown } | null;
        const current = doc?.["current-context"];
        return { kubeconfigPath, context: typeof current === "string" && current.length > 0 ? current : undefined };
    } catch {
        return { kubeconfigPath };
    }
}

/** kubectl pinned to the program's kubeconfig and context, as shown to users. */
export function kubectlCommand(target: KubeTarget, args: string): string {
    const context = target.context ? ` --context ${target.context}` : "";
    return `kubectl --kubeconfig ${target.kubeconfigPath}${context} ${args}`;
}
