/**
 * The stack file's own shape and the name of every configuration key in it. Pulumi reads configuration
 * only from its top-level `config:` map and hands each key to whoever owns its namespace, so a key that
 * nobody reads is dropped without a word: a file that forgot `config:`, a key written without `--path`
 * (`picluster-linkerd:linkerd.channel`), a misspelt project prefix (`picluster-linkred:viz`), a key of
 * a namespace this program does not read. This catches each before anything is deployed, naming the
 * key and the `pulumi config set` command that writes what was meant.
 */
import * as fs from "fs";
import * as path from "path";
import { distance } from "fastest-levenshtein";
import { parse as parseYaml } from "yaml";

/** Top-level keys of a stack file that Pulumi itself understands (https://www.pulumi.com/docs/iac/concepts/projects/stack-settings-file/). */
const STACK_FILE_KEYS = new Set(["config", "secretsprovider", "encryptedkey", "encryptionsalt", "environment"]);

/** Pulumi's own namespace (`pulumi:tags`, `pulumi:disable-default-providers`, ...): read by the engine. */
const PULUMI_NAMESPACE = "pulumi";

/**
 * Keys of other namespaces the program reads: the kubernetes provider's own kubeconfig and context, which
 * users of the provider set out of habit (lib/config/stack.ts). Its other keys configure the *default*
 * kubernetes provider, which the program never uses (components/picluster.ts creates its own).
 */
export const FOREIGN_KEYS_READ = ["kubernetes:kubeconfig", "kubernetes:context"] as const;

/** A namespace this close to the project's (edit distance), or naming it in part, is taken for a misspelling. */
const MISSPELLING_DISTANCE = 3;

function isRecord(v: unknown): v is Record<string, unknown> {
    return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** A value as `pulumi config set` takes it on a shell command line. */
function shellWord(value: unknown): string {
    const text = typeof value === "string" ? value : JSON.stringify(value);
    return /^[A-Za-z0-9_./:@%+=,-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

/** `pulumi config set` commands that write `value` at `path` (a leaf per command), at most `max` of them. */
export function configSetCommands(path: string, value: unknown, max = 3): string[] {
    if (isRecord(value) && Object.keys(value).length === 1 && "secure" in value) {
        return [`pulumi config set --secret ${shellWord(path)} <value>`];
    }
    const leaves: [string, unknown][] = [];
    const walk = (p: string, v: unknown) => {
        if (isRecord(v) && Object.keys(v).length > 0) for (const [k, child] of Object.entries(v)) walk(`${p}.${k}`, child);
        else if (Array.isArray(v) && v.length > 0) v.forEach((child, i) => walk(`${p}[${i}]`, child));
        else leaves.push([p, v]);
    };
    walk(path, value);
    const commands = leaves.slice(0, max).map(([p, v]) => `pulumi config set --path ${shellWord(p)} ${shellWord(v)}`);
    if (leaves.length > max) commands.push(`… (${leaves.length - max} more)`);
    return commands;
}

const quoteCommands = (commands: string[]) => commands.map((c) => (c.startsWith("…") ? c : `\`${c}\``)).join(", ");

/**
 * Problems with the keys of the `config:` map, each naming the key: dotted keys of the project (one key
 * named `linkerd.channel`, not the path linkerd -> channel), misspelt project prefixes, and keys of
 * namespaces nobody here reads. Unknown keys of the project are left to the schema (lib/config/parse.ts).
 */
export function configKeyProblems(config: Readonly<Record<string, unknown>>, project: string): string[] {
    const problems: string[] = [];
    for (const [key, value] of Object.entries(config)) {
        const colon = key.indexOf(":");
        // A key without a namespace is the project's (Pulumi qualifies it so).
        const namespace = colon < 0 ? project : key.slice(0, colon);
        const name = colon < 0 ? key : key.slice(colon + 1);
        if (namespace === project) {
            if (name.includes(".") || name.includes("[")) {
                problems.push(
                    `"${key}": a key named "${name}", not the path ${name.split(/[.[]/)[0]} -> …: this is what \`pulumi config set\` writes without --path, ` +
                        `and the program never reads it. Remove it (\`pulumi config rm ${shellWord(name)}\`) and run ${quoteCommands(configSetCommands(name, value))}`,
                );
            }
            continue;
        }
        if (namespace === PULUMI_NAMESPACE || (FOREIGN_KEYS_READ as readonly string[]).includes(key)) continue;
        const lower = namespace.toLowerCase();
        if (distance(lower, project) <= MISSPELLING_DISTANCE || lower.includes("linkerd") || lower.includes("picluster")) {
            problems.push(
                `"${key}": namespace "${namespace}" is not this project's ("${project}"), so Pulumi hands the key to no one and the ` +
                    `program would deploy without it. Rename it to "${project}:${name}", or remove it and run ${quoteCommands(configSetCommands(name, value))}`,
            );
            continue;
        }
        if (namespace === "kubernetes") {
            problems.push(
                `"${key}": configures Pulumi's default kubernetes provider, which this program never uses (it creates its own, ` +
                    `from ${project}:kubernetes): the key would be ignored. Of the provider's keys only ${FOREIGN_KEYS_READ.join(" and ")} are read; remove it`,
            );
            continue;
        }
        problems.push(
            `"${key}": namespace "${namespace}" is read by nothing in this program (it reads ${project}:*, ${FOREIGN_KEYS_READ.join(", ")} ` +
                `and Pulumi's own ${PULUMI_NAMESPACE}:*): the key would be ignored; remove it`,
        );
    }
    return problems;
}

/** Problems with a stack file's top level and its config keys, each naming the file and the key; empty when it is fine. */
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
    const config = (doc as Record<string, unknown>).config;
    if (config !== undefined && config !== null && !isRecord(config)) problems.push(`${file}: "config:" must be a mapping of configuration keys`);
    else if (isRecord(config)) problems.push(...configKeyProblems(config, project).map((p) => `${file}: ${p}`));
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

export interface StackConfigFile {
    /** Full keys (`picluster-linkerd:linkerd`) to JSON-or-string values, as the engine passes them. */
    readonly config: Record<string, string>;
    readonly secretKeys: string[];
}

/** A YAML file's document; a syntax error names the file and the line (the parser's message alone names neither file). */
function readYamlFile(file: string): unknown {
    try {
        return parseYaml(fs.readFileSync(file, "utf8"));
    } catch (e) {
        throw new Error(`${file}: not valid YAML: ${(e as Error).message.split("\n")[0]}`, { cause: e });
    }
}

/**
 * Reads Pulumi.yaml declared defaults and Pulumi.<stack>.yaml as the engine would hand them to the
 * program. Encrypted values cannot be read offline: they are passed as a secret placeholder.
 */
export function readStackConfigFiles(projectDir: string, stack: string, stackFile = path.join(projectDir, `Pulumi.${stack}.yaml`)): StackConfigFile {
    const project = readYamlFile(path.join(projectDir, "Pulumi.yaml")) as {
        name: string;
        config?: Record<string, unknown>;
    };
    if (!fs.existsSync(stackFile)) {
        throw new Error(`stack file ${stackFile} not found (stack "${stack}"): create it or pass another --stack`);
    }
    const stackDoc = (readYamlFile(stackFile) ?? {}) as { config?: Record<string, unknown> };
    const shapeProblems = stackFileProblems(stackDoc, stackFile, project.name);
    if (shapeProblems.length > 0) throw new Error(`invalid stack file, nothing was rendered:\n  - ${shapeProblems.join("\n  - ")}`);
    const qualify = (key: string) => (key.includes(":") ? key : `${project.name}:${key}`);
    const config: Record<string, string> = {};
    const secretKeys: string[] = [];
    const put = (key: string, value: unknown) => {
        if (value && typeof value === "object" && !Array.isArray(value) && "secure" in value) {
            config[key] = "[secret: encrypted in the stack file]";
            secretKeys.push(key);
            return;
        }
        config[key] = typeof value === "string" ? value : JSON.stringify(value);
    };
    for (const [key, decl] of Object.entries(project.config ?? {})) {
        if (decl && typeof decl === "object" && "default" in decl) put(qualify(key), decl.default);
    }
    for (const [key, value] of Object.entries(stackDoc.config ?? {})) put(qualify(key), value);
    return { config, secretKeys };
}
