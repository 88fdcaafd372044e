/**
 * The policy pack's rules on plain Kubernetes manifests (e.g. `helm template` output), for what CrossGuard cannot
 * see: the objects inside a Helm release, or manifests applied by other tools.
 *
 *   npm run policy:check -- <file | dir | ->... [--meshed-namespace NS]... [--linkerd-version V]
 *       [--shutdown-endpoint-enabled] [--native-sidecar] [--default-namespace NS] [--config policy-config.json]
 *       [--format text|line]
 *
 * YAML is read as kubectl reads it (YAML 1.1, merge keys: cli/manifests.ts). Every finding starts with a line
 * `<file>: <Kind>/<namespace>/<name>: <rule> (<level>)` and its message follows, wrapped and indented (`--format
 * line`: `<file>: <Kind>/<namespace>/<name>: <rule>: <message>` on one line). Notes about the input (namespaces that
 * match nothing, objects without a namespace) and the summary follow, all on stdout; errors go to stderr.
 * Exit status: 1 if a mandatory rule is violated, 0 otherwise (advisory findings are still printed),
 * 2 on bad usage, unreadable files, invalid YAML, a directory without YAML or an invalid --config file.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import Ajv from "ajv";
import { CommandSpec, parseCommand, UsageError } from "./args";
import { parseManifests } from "./manifests";
import { ENFORCEMENT_LEVELS, POLICY_CONFIG_SCHEMAS, readPolicyConfig, traefikSettings, PolicyConfig } from "../policy/config";
import {
    ALL_RULES,
    EnforcementLevel,
    Finding,
    addConfiguredMeshedNamespaces,
    checkObject,
    contextFromObjects,
    emptyContext,
    injectorBlindSpot,
    parseLinkerdVersion,
    releaseFacts,
    traefikIngressModeFromInput,
} from "../policy/rules";
import { INJECT_ANNOTATION } from "../lib/k8s";
import { Obj, get, isObj, nameOf as objName, str } from "../lib/k8s";

const FORMATS = ["text", "line"] as const;
/** Width of wrapped output (`--format text`). */
export const WRAP_WIDTH = 100;
const STDIN = "-";
const STDIN_LABEL = "<stdin>";

export const POLICY_CHECK_COMMAND: CommandSpec = {
    usage: "npm run policy:check --",
    summary:
        "Runs the policy pack's rules on plain Kubernetes manifests (e.g. `helm template` output), read as kubectl reads " +
        "them (YAML 1.1: `<<` merge keys, yes/no/on/off booleans). Each finding starts with a line " +
        "`<file>: <Kind>/<namespace>/<name>: <rule> (<level>)`, its message indented below; then notes about the input " +
        "and a summary, all on stdout (errors on stderr).",
    positionals: {
        name: "file|dir|-",
        help: "YAML files, directories (searched recursively for *.yaml/*.yml), or - for standard input.",
        min: 1,
    },
    options: {
        "meshed-namespace": {
            type: "string",
            value: "<ns>",
            multiple: true,
            default: [],
            help: "A namespace meshed outside the input (repeatable); one that matches no object is pointed out.",
        },
        "linkerd-version": { type: "string", value: "<v>", help: "Linkerd release the rules assume, e.g. 2.14, stable-2.14.10, edge-26.8.3." },
        "shutdown-endpoint-enabled": { type: "boolean", help: "The proxy's /shutdown endpoint is enabled (2.15+)." },
        "native-sidecar": { type: "boolean", help: "The proxy runs as a native sidecar (2.15+)." },
        "no-service-account-token-projection": {
            type: "boolean",
            help: "The control plane runs with identity.serviceAccountTokenProjection false: pods with automountServiceAccountToken: false are not injected.",
        },
        "default-namespace": {
            type: "string",
            value: "<ns>",
            help: "Namespace of objects that set none, as kubectl -n would give them (default default).",
        },
        config: {
            type: "string",
            value: "<file>",
            help: "The policy pack's config file (JSON, as `--policy-pack-config`), validated against the pack's schemas.",
        },
        format: {
            type: "string",
            value: "<format>",
            default: "text",
            choices: FORMATS,
            help: "text: a head line per finding and its message wrapped below; line: one line per finding (default text).",
        },
    },
    exitCodes: {
        1: "a mandatory rule is violated (advisory findings alone exit 0)",
        2:
            "bad usage, an unreadable file, invalid YAML, a directory without YAML, an input without any Kubernetes object (e.g. an " +
            "empty standard input after a failed `helm template`) or an invalid --config file: nothing was checked",
    },
};

/** All *.yaml / *.yml files under the given paths, in a stable order; a directory without any is an error. */
export function collectFiles(paths: string[]): string[] {
    const out: string[] = [];
    const walk = (p: string): number => {
        let st: fs.Stats;
        try {
            st = fs.statSync(p);
        } catch (e) {
            throw new UsageError(`${p}: cannot read: ${(e as Error).message}`);
        }
        if (!st.isDirectory()) {
            out.push(p);
            return 1;
        }
        let found = 0;
        for (const entry of fs.readdirSync(p).sort()) {
            const child = path.join(p, entry);
            if (fs.statSync(child).isDirectory()) found += walk(child);
            else if (/\.ya?ml$/i.test(entry)) found += walk(child);
        }
        return found;
    };
    for (const p of paths) {
        if (walk(p) === 0) throw new UsageError(`${p}: no *.yaml or *.yml file in this directory (nothing to check)`);
    }
    return out;
}

/** Parse one file into objects; throws UsageError naming the file and document on invalid YAML. */
export function readManifests(file: string): Obj[] {
    let text: string;
    try {
        text = fs.readFileSync(file, "utf8");
    } catch (e) {
        throw new UsageError(`${file}: cannot read: ${(e as Error).message}`);
    }
    return parseManifests(text, file);
}

const ajv = new Ajv({ allErrors: true, strict: false });

/** "/meshedNamespaces/0" → ".meshedNamespaces[0]" */
function jsonPath(pointer: string): string {
    return pointer
        .split("/")
        .slice(1)
        .map((p) => (/^\d+$/.test(p) ? `[${p}]` : `.${p.replace(/~1/g, "/").replace(/~0/g, "~")}`))
        .join("");
}

export interface ConfigFile {
    levels: Record<string, EnforcementLevel>;
    config: PolicyConfig;
}

/**
 * The policy pack's config file (`--policy-pack-config` format), validated with the pack's own schemas. Stricter than
 * the engine, which ignores keys and policy names it does not know: here an unknown policy, an unknown key or a bad
 * enforcement level is an error naming the key, because a typo there silently changes nothing.
 */
export function readConfigFile(file: string): ConfigFile {
    let raw: unknown;
    try {
        raw = JSON.parse(fs.readFileSync(file, "utf8"));
    } catch (e) {
        throw new UsageError(`${file}: cannot read config: ${(e as Error).message}`);
    }
    if (!isObj(raw)) throw new UsageError(`${file}: config must be a JSON object keyed by policy name`);
    const errors: string[] = [];
    const levelError = (key: string, v: unknown) =>
        `"${key}": ${JSON.stringify(v)} is not an enforcement level (one of ${ENFORCEMENT_LEVELS.join(", ")})`;
    const isLevel = (v: unknown): v is (typeof ENFORCEMENT_LEVELS)[number] => (ENFORCEMENT_LEVELS as readonly unknown[]).includes(v);
    const levels: Record<string, EnforcementLevel> = {};
    const allLevels: Record<string, EnforcementLevel> = {};
    const merged: PolicyConfig = {};
    const toLevel = (v: (typeof ENFORCEMENT_LEVELS)[number]): EnforcementLevel => (v === "remediate" ? "mandatory" : v);

    for (const [key, value] of Object.entries(raw)) {
        if (key === "all") {
            // The engine reads only an enforcement level for "all".
            const level = isObj(value) ? value.enforcementLevel : value;
            if (isObj(value))
                for (const k of Object.keys(value))
                    if (k !== "enforcementLevel") errors.push(`"all.${k}": only enforcementLevel applies to all policies`);
            if (!isLevel(level)) errors.push(levelError(isObj(value) ? "all.enforcementLevel" : "all", level));
            else for (const r of ALL_RULES) allLevels[r.name] = toLevel(level);
            continue;
        }
        const schema = POLICY_CONFIG_SCHEMAS[key];
        if (!schema) {
            errors.push(`"${key}": no such policy in the pack (policies: ${Object.keys(POLICY_CONFIG_SCHEMAS).join(", ")}, or all)`);
            continue;
        }
        if (typeof value === "string") {
            if (isLevel(value)) levels[key] = toLevel(value);
            else errors.push(levelError(key, value));
            continue;
        }
        if (!isObj(value)) {
            errors.push(`"${key}": must be an enforcement level or an object`);
            continue;
        }
        const validate = ajv.compile({
            type: "object",
            additionalProperties: false,
            properties: { enforcementLevel: { type: "string", enum: [...ENFORCEMENT_LEVELS] }, ...schema.properties },
        });
        if (!validate(value)) {
            const accepted = ["enforcementLevel", ...Object.keys(schema.properties ?? {})].join(", ");
            for (const e of validate.errors ?? []) {
                if (e.keyword === "additionalProperties") {
                    const extra = (e.params as { additionalProperty: string }).additionalProperty;
                    errors.push(`"${key}.${extra}": unknown key for this policy (accepted: ${accepted})`);
                } else if (e.instancePath === "/enforcementLevel") {
                    errors.push(levelError(`${key}.enforcementLevel`, (value as Obj).enforcementLevel));
                } else {
                    errors.push(`"${key}${jsonPath(e.instancePath)}": ${e.message}`);
                }
            }
            continue;
        }
        if (isLevel(value.enforcementLevel)) levels[key] = toLevel(value.enforcementLevel);
        for (const [k, v] of Object.entries(readPolicyConfig(value))) {
            if (v === undefined) continue;
            const prev = (merged as Record<string, unknown>)[k];
            (merged as Record<string, unknown>)[k] =
                Array.isArray(prev) && Array.isArray(v) ? [...new Set([...(prev as unknown[]), ...(v as unknown[])])] : v;
        }
    }
    if (errors.length) throw new UsageError(`${file}: invalid policy config:\n  ${errors.join("\n  ")}`);
    return { levels: { ...allLevels, ...levels }, config: merged };
}

/** Wrap text to `width` columns (indent included); words longer than a line stay whole. */
export function wrap(text: string, width: number, indent: string): string[] {
    const lines: string[] = [];
    let line = "";
    for (const word of text.split(/\s+/).filter(Boolean)) {
        if (line && indent.length + line.length + 1 + word.length > width) {
            lines.push(indent + line);
            line = word;
        } else {
            line = line ? `${line} ${word}` : word;
        }
    }
    if (line) lines.push(indent + line);
    return lines;
}

/** A finding as printed: the head line, then (text format) the message wrapped, the fix on lines of its own. */
export function formatFinding(f: Finding & { file: string }, format: (typeof FORMATS)[number]): string[] {
    const head = `${f.file}: ${f.kind}/${f.namespace}/${f.name}: ${f.rule}`;
    if (format === "line") return [`${head} (${f.enforcement}): ${f.message}`];
    const at = f.message.indexOf(" Fix: ");
    const paragraphs = at < 0 ? [f.message] : [f.message.slice(0, at), f.message.slice(at + 1)];
    return [`${head} (${f.enforcement})`, ...paragraphs.flatMap((p) => wrap(p, WRAP_WIDTH, "    "))];
}

/** Kinds that have no namespace: an object of these kinds without metadata.namespace is normal. */
const CLUSTER_SCOPED = new Set([
    "Namespace",
    "Node",
    "PersistentVolume",
    "StorageClass",
    "CustomResourceDefinition",
    "APIService",
    "PriorityClass",
    "RuntimeClass",
    "IngressClass",
    "CSIDriver",
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
    "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding",
    "GatewayClass",
]);

function isNamespaced(o: Obj): boolean {
    const kind = str(o.kind) ?? "";
    return !CLUSTER_SCOPED.has(kind) && !kind.startsWith("Cluster");
}

/** One run of policy:check: its exit code, findings and notes. */
export interface PolicyCheckRun {
    exitCode: number;
    findings: (Finding & { file: string })[];
    /** Remarks about the input that do not fail the check (printed as `note: …`). */
    notes: string[];
}

export function main(
    argv: string[],
    out: (s: string) => void = (s) => process.stdout.write(s + "\n"),
    err: (s: string) => void = (s) => process.stderr.write(s + "\n"),
    readStdin: () => string = () => fs.readFileSync(0, "utf8"),
): PolicyCheckRun {
    try {
        const parsed = parseCommand(POLICY_CHECK_COMMAND, argv);
        if (parsed.kind === "help") {
            out(parsed.text);
            return { exitCode: 0, findings: [], notes: [] };
        }
        const values = parsed.values as {
            "meshed-namespace": string[];
            "linkerd-version"?: string;
            "shutdown-endpoint-enabled"?: boolean;
            "native-sidecar"?: boolean;
            "no-service-account-token-projection"?: boolean;
            "default-namespace"?: string;
            config?: string;
            format: (typeof FORMATS)[number];
        };
        const positionals = parsed.positionals;

        const fileConfig: ConfigFile = values.config ? readConfigFile(values.config) : { levels: {}, config: {} };
        const config: PolicyConfig = { ...fileConfig.config };
        if (values["linkerd-version"] !== undefined) config.linkerdVersion = values["linkerd-version"];
        if (values["shutdown-endpoint-enabled"] !== undefined) config.shutdownEndpointEnabled = values["shutdown-endpoint-enabled"];
        if (values["native-sidecar"] !== undefined) config.nativeSidecar = values["native-sidecar"];
        if (values["no-service-account-token-projection"]) config.serviceAccountTokenProjection = false;
        if (values["default-namespace"] !== undefined) config.defaultNamespace = values["default-namespace"];
        if (config.linkerdVersion !== undefined && !parseLinkerdVersion(config.linkerdVersion)) {
            throw new UsageError(`unrecognised Linkerd version "${config.linkerdVersion}" (e.g. 2.14, stable-2.14.10, edge-24.8.2)`);
        }
        if (positionals.filter((p) => p === STDIN).length > 1) throw new UsageError(`"${STDIN}" (standard input) may be given once`);

        // Read everything first: any unreadable or invalid input stops the run before a finding is printed.
        const inputs: { file: string; objects: Obj[] }[] = [];
        for (const p of positionals) {
            if (p === STDIN) {
                let text: string;
                try {
                    text = readStdin();
                } catch (e) {
                    throw new UsageError(`${STDIN_LABEL}: cannot read: ${(e as Error).message}`);
                }
                inputs.push({ file: STDIN_LABEL, objects: parseManifests(text, STDIN_LABEL) });
            } else {
                for (const file of collectFiles([p])) inputs.push({ file, objects: readManifests(file) });
            }
        }
        const allObjects = inputs.flatMap((f) => f.objects);
        if (allObjects.length === 0) {
            const stdin = positionals.includes(STDIN);
            throw new UsageError(
                `the input holds no Kubernetes objects: nothing was checked` +
                    (stdin ? ` (standard input was empty: did the command before the pipe, e.g. \`helm template\`, fail?)` : ""),
            );
        }

        const defaultNamespace = config.defaultNamespace ?? "default";
        const base = emptyContext({
            defaultNamespace,
            release: releaseFacts(
                {
                    linkerdVersion: config.linkerdVersion,
                    shutdownEndpointEnabled: config.shutdownEndpointEnabled,
                    nativeSidecar: config.nativeSidecar,
                    serviceAccountTokenProjection: config.serviceAccountTokenProjection,
                },
                "--linkerd-version",
            ),
            traefik: traefikSettings(config),
        });
        // Namespaces in the input (carrying the inject annotation) count, over all files; then the command line, then
        // the config file, each labelled with where it came from.
        const ctx = contextFromObjects(allObjects, base);
        const flagNamespaces = values["meshed-namespace"];
        addConfiguredMeshedNamespaces(ctx, flagNamespaces, "--meshed-namespace");
        addConfiguredMeshedNamespaces(ctx, config.meshedNamespaces ?? [], `--config ${values.config} (meshedNamespaces)`);
        // A Traefik in the input tells whether its routes are proxied in ingress mode (the l5d-dst-override rule).
        const traefik = traefikIngressModeFromInput(allObjects, ctx);
        if (traefik) ctx.traefik = { ...ctx.traefik, ingressMode: traefik.ingressMode };

        const findings: (Finding & { file: string })[] = [];
        for (const { file, objects } of inputs) {
            for (const o of objects) {
                for (const f of checkObject(o, ctx, fileConfig.levels)) {
                    findings.push({ ...f, file });
                    for (const line of formatFinding({ ...f, file }, values.format)) out(line);
                }
            }
        }

        const notes = [
            ...ctx.release.ignored,
            ...(traefik && !traefik.ingressMode ? [traefik.note] : []),
            ...inputNotes(allObjects, flagNamespaces, ctx, config.defaultNamespace === undefined ? defaultNamespace : undefined),
        ];
        for (const n of notes) for (const [i, line] of wrap(n, WRAP_WIDTH, "      ").entries()) out(i === 0 ? `note: ${line.trimStart()}` : line);
        const mandatory = findings.filter((f) => f.enforcement === "mandatory").length;
        out(
            `policy:check: ${inputs.length} file(s), ${allObjects.length} object(s), ${mandatory} mandatory and ` +
                `${findings.length - mandatory} advisory violation(s)`,
        );
        return { exitCode: mandatory > 0 ? 1 : 0, findings, notes };
    } catch (e) {
        if (e instanceof UsageError) {
            err(`policy:check: ${e.message}`);
            return { exitCode: 2, findings: [], notes: [] };
        }
        throw e;
    }
}

/** What the input leaves open, so that a pass is not silent about it. */
function inputNotes(
    objects: Obj[],
    flagNamespaces: string[],
    ctx: ReturnType<typeof contextFromObjects>,
    implicitDefault: string | undefined,
): string[] {
    const notes: string[] = [];
    const seen = new Set<string>();
    for (const o of objects) {
        if (o.kind === "Namespace") seen.add(str(get(o, "metadata", "name")) ?? "");
        else if (isNamespaced(o)) seen.add(str(get(o, "metadata", "namespace")) ?? ctx.defaultNamespace);
    }
    for (const ns of new Set(flagNamespaces)) {
        const blind = injectorBlindSpot(ctx, ns);
        const info = ctx.namespaces.get(ns);
        if (blind) notes.push(`--meshed-namespace ${ns}: ${blind}; its pods are checked as not meshed`);
        else if (info && !info.meshed && info.source !== "--meshed-namespace") {
            notes.push(
                `--meshed-namespace ${ns} is contradicted by the input: ${info.source} sets ${INJECT_ANNOTATION}: ${info.value}, and the input is what ` +
                    `will be applied, so its pods are checked as not meshed (drop the flag, or the annotation)`,
            );
        } else if (!seen.has(ns)) notes.push(`--meshed-namespace ${ns} matches no object in the input (a typo, or the wrong namespace?)`);
    }
    if (implicitDefault !== undefined) {
        const unset = objects.filter((o) => isNamespaced(o) && str(get(o, "metadata", "namespace")) === undefined);
        if (unset.length) {
            const examples = unset.slice(0, 3).map((o) => `${str(o.kind) ?? "?"}/${objName(o)}`);
            notes.push(
                `${unset.length} object(s) set no metadata.namespace (${examples.join(", ")}${unset.length > 3 ? ", …" : ""}) and were ` +
                    `checked as namespace "${implicitDefault}"; kubectl and Helm put them in the namespace they are applied to ` +
                    `(-n). Pass --default-namespace <ns> (e.g. the helm template -n value) to check them there.`,
            );
        }
    }
    return notes;
}

/**
 * Output piped into a reader that stops early (`| head -1`) makes later writes fail with EPIPE: the reader has what
 * it wanted, so the command ends quietly with the exit code of its findings instead of a stack trace.
 */
export function exitQuietlyOnEpipe(stream: NodeJS.WriteStream = process.stdout): void {
    stream.on("error", (e: NodeJS.ErrnoException) => {
        if (e.code !== "EPIPE") throw e;
        process.exit(process.exitCode ?? 0);
    });
}

if (require.main === module) {
    exitQuietlyOnEpipe();
    process.exitCode = main(process.argv.slice(2)).exitCode;
}
