/** Reads the stack's configuration once, as raw values for `loadConfig` (called by index.ts only). */
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { checkStackFile } from "./stackFile";
import { PROJECT } from "./keys";
import type { RawStackConfig } from "./resolve";
import { SECRET_KEYS, STRUCTURED_KEYS, SecretKey } from "./schema";

export function readStackConfig(): RawStackConfig {
    const config = new pulumi.Config(PROJECT);
    const values: Record<string, unknown> = {};
    for (const key of STRUCTURED_KEYS) {
        const value = config.getObject<unknown>(key);
        if (value !== undefined) values[key] = value;
    }
    const secrets: Partial<Record<SecretKey, string>> = {};
    const plainTextSecrets: SecretKey[] = [];
    // Whether the engine received a key as a secret (set with --secret, encrypted in the stack file).
    const isSecret = (pulumi.runtime as { isConfigSecret?: (key: string) => boolean }).isConfigSecret;
    for (const key of SECRET_KEYS) {
        // Read the plain value for validation only; loadConfig wraps it as a secret right away.
        const value = pulumi.runtime.getConfig(`${PROJECT}:${key}`);
        if (value !== undefined) secrets[key] = value;
        if (value !== undefined && isSecret && !isSecret(`${PROJECT}:${key}`)) plainTextSecrets.push(key);
    }
    const all = pulumi.runtime.allConfig();
    const presentKeys = Object.keys(all)
        .filter((k) => k.startsWith(`${PROJECT}:`))
        .map((k) => k.slice(PROJECT.length + 1));
    // The kubernetes provider's own keys, which users of the provider set out of habit.
    const provider = { kubeconfig: all["kubernetes:kubeconfig"], context: all["kubernetes:context"] };
    // Pulumi runs the program in the project directory, beside the stack file.
    const stackFile = `Pulumi.${pulumi.getStack()}.yaml`;
    const fileProblems = checkStackFile(path.join(process.cwd(), stackFile), PROJECT).map((message) => ({ key: stackFile, message }));
    return { values, secrets, plainTextSecrets, presentKeys, provider, fileProblems };
}
