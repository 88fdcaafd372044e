/** Reads the stack's configuration once, as raw values for `loadConfig`. */
import * as pulumi from "@pulumi/pulumi";
import { PROJECT, RawStackConfig, SECRET_KEYS, STRUCTURED_KEYS, SecretKey } from "./config";

export function readStackConfig(): RawStackConfig {
    const config = new pulumi.Config(PROJECT);
    const values: Record<string, unknown> = {};
    for (const key of STRUCTURED_KEYS) {
        const value = config.getObject<unknown>(key);
        if (value !== undefined) values[key] = value;
    }
    const secrets: Partial<Record<SecretKey, string>> = {};
    for (const key of SECRET_KEYS) {
        // Read the plain value for validation only; loadConfig wraps it as a secret right away.
        const value = pulumi.runtime.getConfig(`${PROJECT}:${key}`);
        if (value !== undefined) secrets[key] = value;
    }
    const presentKeys = Object.keys(pulumi.runtime.allConfig())
        .filter((k) => k.startsWith(`${PROJECT}:`))
        .map((k) => k.slice(PROJECT.length + 1));
    return { values, secrets, presentKeys };
}
