/**
 * The random and command providers, registered first: the engine starts a provider's plugin when the
 * provider is registered and handles no other registration meanwhile, so each plugin started on first
 * use (the dashboard password, the Longhorn steps) held up the chain of Helm releases behind it in every
 * preview and up. Registered before the components load and the cluster is read, the plugins start while
 * the program still works (npm run bench, "real pulumi preview").
 *
 * Only once the schema accepts the configuration: a configuration it refuses registers nothing.
 * Stacks made before these providers were explicit used the engine's default providers (named
 * `default_<version>`, at the stack root): the alias keeps them, so nothing that used them is replaced.
 */
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { ParsedConfig } from "./config";
import { ROOT_NAME } from "./names";

/** The explicit providers by package, for the composition root's `providers` option (a package not used is absent). */
export type EarlyProviders = Readonly<Record<string, pulumi.ProviderResource>>;

/** The name the engine gives the default provider of an SDK package at `version`. */
export function defaultProviderName(version: string): string {
    return `default_${version.replace(/[.+-]/g, "_")}`;
}

function packageVersion(pkg: "@pulumi/random" | "@pulumi/command"): string {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return (require(`${pkg}/package.json`) as { version: string }).version;
}

/** Registers the providers of the packages `config` uses: random for viz's dashboard credentials, command for Longhorn. */
export function registerEarlyProviders(config: ParsedConfig): EarlyProviders {
    const providers: Record<string, pulumi.ProviderResource> = {};
    if (config.viz.enabled) {
        const aliases = [{ name: defaultProviderName(packageVersion("@pulumi/random")) }];
        providers.random = new random.Provider(`${ROOT_NAME}-random`, {}, { aliases });
    }
    if (config.longhorn.enabled) {
        const aliases = [{ name: defaultProviderName(packageVersion("@pulumi/command")) }];
        providers.command = new command.Provider(`${ROOT_NAME}-command`, {}, { aliases });
    }
    return providers;
}
