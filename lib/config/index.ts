/**
 * The one configuration model of picluster-linkerd.
 *
 * - schema.ts: every key, its type and default (zod);
 * - parse.ts: validation, every problem named by its full key path, none stopping the others;
 * - resolve.ts: `loadConfig`, from the validated keys to `PiclusterConfig`;
 * - sections.ts: each section's rules that span keys and the values they decide (release, tracing, identity, ...);
 * - stack.ts: reads the stack's values (index.ts calls it once; no component reads pulumi.Config).
 */
export { PROJECT, configKey, configKeyPath } from "./keys";
export { ConfigError, parseConfig } from "./parse";
export type { ConfigProblem, RawConfig } from "./parse";
export { caCertificateProblem, clusterAccess, durationSeconds, loadConfig } from "./resolve";
export type { PiclusterConfig, RawStackConfig } from "./resolve";
export { SECRET_KEYS, STRUCTURED_KEYS, configKeyPaths, configSchema } from "./schema";
export type { ParsedConfig, SecretKey } from "./schema";
