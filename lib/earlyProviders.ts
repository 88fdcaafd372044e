/**
 * The providers, registered first: the engine starts a provider's plugin when the provider is registered
 * and handles no other registration meanwhile. Registered before the components load and the cluster is
 * read, the plugins start while the program still works; registered on first use, each start held up the
 * chain of Helm releases behind it in every preview and up (npm run bench, "real pulumi preview").
 *
 * Only once the schema accepts the configuration: a configuration it refuses registers nothing.
 * Each sits at the stack root; its aliases keep the providers stacks were made with: the kubernetes
 * provider was the composition root's child (and, before that, `picluster-kubernetes` at the stack root),
 * random and command were the engine's default providers (`default_<version>`), so nothing that used them
 * is replaced (the previous-release e2e updates a 0.1.0 stack).
 */
import * as command from "@pulumi/command";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { ParsedConfig } from "./config";
import type { KubeTarget } from "./kubeconfig";
import { COMPONENT_TYPES, ROOT_NAME } from "./names";

/** The providers by package, for the composition root (a package not used is absent). */
export interface EarlyProviders {
    readonly kubernetes?: k8s.Provider;
    readonly random?: random.Provider;
    readonly command?: command.Provider;
}

/** The name the engine gives the default provider of an SDK package at `version` (its DefaultName). */
export function defaultProviderName(version: string): string {
    return `default_${version.replace(/[.+-]/g, "_")}`;
}

function packageVersion(pkg: "@pulumi/random" | "@pulumi/command"): string {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return (require(`${pkg}/package.json`) as { version: string }).version;
}

/**
 * The kubernetes provider every Kubernetes object of the program uses, pinned to the stack's kubeconfig and
 * context. `adopt`: objects a guide install already made are updated in place instead of failing as existing.
 */
export function kubernetesProvider(target: KubeTarget, adopt: boolean): k8s.Provider {
    const project = pulumi.getProject();
    const stack = pulumi.getStack();
    return new k8s.Provider(
        `${ROOT_NAME}-kubernetes`,
        {
            kubeconfig: target.kubeconfigPath,
            context: target.context,
            // A ConfigMap whose data changes (the Grafana dashboards' addresses carry the Linkerd release tag) is
            // updated in place: by default the provider replaces it, and with its fixed name that is delete, then create.
            enableConfigMapMutable: true,
            ...(adopt ? { upsertExistingObjects: true } : {}),
        },
        {
            aliases: [
                `urn:pulumi:${stack}::${project}::${COMPONENT_TYPES.root}$pulumi:providers:kubernetes::${ROOT_NAME}-kubernetes`,
                `urn:pulumi:${stack}::${project}::pulumi:providers:kubernetes::picluster-kubernetes`,
            ],
        },
    );
}

/** Registers the providers `config` needs: kubernetes (when `target` is known), random for viz's credentials, command for Longhorn. */
export function registerEarlyProviders(config: ParsedConfig, target: KubeTarget | undefined): EarlyProviders {
    const defaultAlias = (pkg: "@pulumi/random" | "@pulumi/command") => ({ aliases: [{ name: defaultProviderName(packageVersion(pkg)) }] });
    return {
        ...(target ? { kubernetes: kubernetesProvider(target, config.adopt.enabled) } : {}),
        ...(config.viz.enabled ? { random: new random.Provider(`${ROOT_NAME}-random`, {}, defaultAlias("@pulumi/random")) } : {}),
        ...(config.longhorn.enabled ? { command: new command.Provider(`${ROOT_NAME}-command`, {}, defaultAlias("@pulumi/command")) } : {}),
    };
}
