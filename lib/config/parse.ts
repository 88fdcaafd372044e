/**
 * Validation of the raw stack configuration against the schema. Every problem is collected (none
 * stops the others), each named by its full key path; a key that fails is replaced by its default
 * so the cross-key rules (lib/config/resolve.ts) can still run on the rest, and its path is
 * remembered so no rule reasons from a value the user did not give.
 */
import { z } from "zod";
import { PROJECT, configKeyPath, didYouMean } from "./keys";
import { ParsedConfig, SECRET_KEYS, STRUCTURED_KEYS, configKeyPaths, configSchema } from "./schema";

/** One problem (or warning), tied to the configuration key that causes it. */
export interface ConfigProblem {
    /** Full key path, e.g. `picluster-linkerd:linkerd.channel`. */
    readonly key: string;
    readonly message: string;
}

export class ConfigError extends Error {
    constructor(readonly problems: readonly ConfigProblem[]) {
        super(
            `Invalid configuration (${problems.length} problem${problems.length === 1 ? "" : "s"}); nothing was deployed:\n` +
                problems.map((p) => `  - ${p.key}: ${p.message}`).join("\n"),
        );
        this.name = "ConfigError";
    }
}

/** The raw input: structured keys by name, plus the top-level key names present in the stack (to catch typos there). */
export interface RawConfig {
    readonly values: Readonly<Record<string, unknown>>;
    readonly presentKeys?: readonly string[];
}

export interface ParseResult {
    /** Defaults filled in; keys that failed hold their defaults. */
    readonly config: ParsedConfig;
    readonly problems: readonly ConfigProblem[];
    /** Dotted paths (`identity.issuer.duration`, `meshing.namespaces`) that failed validation. */
    readonly invalid: ReadonlySet<string>;
}

function describeIssue(issue: z.core.$ZodIssue): string {
    if (issue.code === "invalid_value" && "values" in issue) return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
    if (issue.code === "invalid_type") return `expected ${issue.expected}`;
    return issue.message;
}

/** `["meshing", "namespaces", 2]` -> `meshing.namespaces` (an array fails as a whole). */
function fieldPath(path: readonly PropertyKey[]): string {
    const cut = path.findIndex((p) => typeof p === "number");
    return (cut < 0 ? path : path.slice(0, cut)).map(String).join(".");
}

function isRecord(v: unknown): v is Record<string, unknown> {
    return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** A copy of `value` without the key at `path` (the schema's default takes its place). */
function without(value: unknown, path: readonly string[]): unknown {
    if (path.length === 0 || !isRecord(value)) return undefined;
    const [head, ...rest] = path;
    const out = { ...value };
    if (rest.length === 0) delete out[head];
    else out[head] = without(out[head], rest);
    return out;
}

/** Whether `path` (dotted) is, or is inside, a path that failed. */
export function isInvalid(invalid: ReadonlySet<string>, path: string): boolean {
    for (const bad of invalid) if (bad === "" || path === bad || path.startsWith(`${bad}.`) || bad.startsWith(`${path}.`)) return true;
    return false;
}

/** The keys an object of the schema accepts at `parent` (dotted), from every leaf path. */
function siblingKeys(parent: string): string[] {
    const prefix = parent ? `${parent}.` : "";
    const names = new Set<string>();
    for (const leaf of configKeyPaths()) if (leaf.startsWith(prefix)) names.add(leaf.slice(prefix.length).split(".")[0]);
    return [...names];
}

function unknownKeyMessage(path: readonly PropertyKey[]): string {
    const key = String(path[path.length - 1]);
    const known = siblingKeys(fieldPath(path.slice(0, -1)));
    const guess = didYouMean(key, known);
    return `unknown key (${guess ? `did you mean "${guess}"? ` : ""}${known.length ? `expected one of ${known.join(", ")}` : "README lists every key"})`;
}

/** Validates the structured keys and the keys present. Never throws: problems are returned. */
export function parseConfig(raw: RawConfig): ParseResult {
    const problems: ConfigProblem[] = [];
    const invalid = new Set<string>();
    const known = new Set<string>([...STRUCTURED_KEYS, ...SECRET_KEYS]);
    for (const key of raw.presentKeys ?? []) {
        // Dotted keys (`linkerd.channel` set without --path) are named by the stack file's check (lib/config/stackFile.ts).
        if (!known.has(key) && !key.includes(".") && !key.includes("[")) {
            const guess = didYouMean(key, [...known]);
            problems.push({
                key: `${PROJECT}:${key}`,
                message: `unknown configuration key (${guess ? `did you mean "${guess}"? ` : ""}expected one of ${[...known].join(", ")})`,
            });
        }
    }
    let values: unknown = raw.values;
    // Each round drops the keys that failed; a bounded number of rounds always ends (a section
    // that still fails after its bad keys are gone is dropped whole and takes its defaults).
    for (let round = 0; round < 8; round++) {
        const result = configSchema.safeParse(values);
        if (result.success) return { config: result.data, problems, invalid };
        for (const issue of result.error.issues) {
            const paths = issue.code === "unrecognized_keys" ? issue.keys.map((key) => [...issue.path, key]) : [issue.path];
            for (const path of paths) {
                const field = fieldPath(path);
                const reported = issue.code === "unrecognized_keys" ? unknownKeyMessage(path) : describeIssue(issue);
                const key = configKeyPath(path);
                if (!problems.some((p) => p.key === key && p.message === reported)) problems.push({ key, message: reported });
                invalid.add(field);
                const dropped = without(values, field.split(".").filter(Boolean));
                // A whole top-level value of the wrong type (`identity: "pem"`) cannot be reduced further.
                values = dropped === undefined || round === 7 ? {} : dropped;
            }
        }
    }
    return { config: configSchema.parse({}), problems, invalid: new Set([...invalid, ""]) };
}
