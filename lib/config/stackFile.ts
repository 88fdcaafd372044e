/**
 * The stack file's own shape. Pulumi reads configuration only from its top-level `config:` map and
 * ignores configuration keys written beside it, so a file that forgot `config:` would deploy the
 * defaults without a word. This catches that before anything is deployed.
 */
import * as fs from "fs";
import { parse as parseYaml } from "yaml";

/** Top-level keys of a stack file that Pulumi itself understands (https://www.pulumi.com/docs/iac/concepts/projects/stack-settings-file/). */
const STACK_FILE_KEYS = new Set(["config", "secretsprovider", "encryptedkey", "encryptionsalt", "environment"]);

/** Problems with a stack file's top level, each naming the file and the key; empty when it is fine. */
export function stackFileProblems(doc: unknown, file: string, project: string): string[] {
    if (doc === null || doc === undefined) return [];
    if (typeof doc !== "object" || Array.isArray(doc)) return [`${file}: expected a mapping with a top-level "config:" key`];
    const problems: string[] = [];
    for (const key of Object.keys(doc)) {
        if (STACK_FILE_KEYS.has(key)) continue;
        const looksLikeConfig = key.startsWith(`${project}:`) || key.startsWith("kubernetes:") || key.includes(":");
        problems.push(
            looksLikeConfig
                ? `${file}: "${key}" is at the top level, not under "config:": Pulumi ignores it and the defaults would be deployed; indent it under "config:"`
                : `${file}: unknown top-level key "${key}" (a stack file holds ${[...STACK_FILE_KEYS].map((k) => `"${k}"`).join(", ")})`,
        );
    }
    return problems;
}

/** Reads and checks a stack file; a missing file is fine (Pulumi creates it on the first `config set`). */
export function checkStackFile(file: string, project: string): string[] {
    if (!fs.existsSync(file)) return [];
    let doc: unknown;
    try {
        doc = parseYaml(fs.readFileSync(file, "utf8"));
    } catch (e) {
        return [`${file}: not valid YAML: ${(e as Error).message.split("\n")[0]}`];
    }
    return stackFileProblems(doc, file, project);
}
