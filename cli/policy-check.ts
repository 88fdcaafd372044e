/**
 * The policy pack's rules on plain Kubernetes manifests (e.g. `helm template` output), for what CrossGuard cannot
 * see: the objects inside a Helm release, or manifests applied by other tools.
 *
 *   npm run policy:check -- <file or dir>... [--meshed-namespace NS]... [--linkerd-version V]
 *       [--shutdown-endpoint-enabled] [--native-sidecar] [--default-namespace NS] [--config policy-config.json]
 *
 * Prints one line per violation: `<file>: <Kind>/<namespace>/<name>: <rule>: <message>`.
 * Exit status: 1 if a mandatory rule is violated, 0 otherwise (advisory findings are still printed),
 * 2 on bad usage, unreadable files or invalid YAML.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { CommandSpec, parseCommand, UsageError } from "./args";
import { parseAllDocuments } from "yaml";
import { readPolicyConfig, traefikSettings, PolicyConfig } from "../policy/config";
import {
    ALL_RULES,
    EnforcementLevel,
    Finding,
    addConfiguredMeshedNamespaces,
    checkObject,
    contextFromObjects,
    emptyContext,
    flattenLists,
    parseLinkerdVersion,
    releaseFacts,
} from "../policy/rules";
import { Obj } from "../policy/rules/k8s";

export const POLICY_CHECK_COMMAND: CommandSpec = {
    usage: "npm run policy:check --",
    summary:
        "Runs the policy pack's rules on plain Kubernetes manifests (e.g. `helm template` output). Prints one line per " +
        "violation: `<file>: <Kind>/<namespace>/<name>: <rule>: <message>`, then a summary.",
    positionals: { name: "file or dir", help: "YAML files, or directories searched for *.yaml/*.yml.", min: 1 },
    options: {
        "meshed-namespace": { type: "string", value: "<ns>", multiple: true, default: [], help: "A namespace the program meshes (repeatable)." },
        "linkerd-version": { type: "string", value: "<v>", help: "Linkerd release the rules assume, e.g. 2.14, stable-2.14.10, edge-26.8.3." },
        "shutdown-endpoint-enabled": { type: "boolean", help: "The proxy's /shutdown endpoint is enabled (2.15+)." },
        "native-sidecar": { type: "boolean", help: "The proxy runs as a native sidecar (2.15+)." },
        "default-namespace": { type: "string", value: "<ns>", help: "Namespace of objects that have none (default default)." },
        config: { type: "string", value: "<file>", help: "The policy pack's config file (JSON), as `pulumi policy enable --config`." },
    },
    exitCodes: {
        1: "a mandatory rule is violated (advisory findings alone exit 0)",
        2: "bad usage, an unreadable file or invalid YAML: nothing was checked",
    },
};

/** All *.yaml / *.yml files under the given paths, in a stable order. */
export function collectFiles(paths: string[]): string[] {
    const out: string[] = [];
    const walk = (p: string) => {
        let st: fs.Stats;
        try {
            st = fs.statSync(p);
        } catch (e) {
            throw new UsageError(`${p}: cannot read: ${(e as Error).message}`);
        }
        if (st.isDirectory()) {
            for (const entry of fs.readdirSync(p).sort()) {
                const child = path.join(p, entry);
                if (fs.statSync(child).isDirectory() || /\.ya?ml$/i.test(entry)) walk(child);
            }
        } else {
            out.push(p);
        }
    };
    for (const p of paths) walk(p);
    return out;
}

/** Parse one file into objects; throws UsageError naming the file and document index on invalid YAML. */
export function readManifests(file: string): Obj[] {
    let text: string;
    try {
        text = fs.readFileSync(file, "utf8");
    } catch (e) {
        throw new UsageError(`${file}: cannot read: ${(e as Error).message}`);
    }
    const docs = parseAllDocuments(text, { prettyErrors: true });
    if (!Array.isArray(docs)) {
        // parseAllDocuments returns an EmptyStream for empty input
        return [];
    }
    const objects: unknown[] = [];
    const lineOf = (offset: number) => text.slice(0, offset).split("\n").length;
    docs.forEach((doc, i) => {
        // Documents are numbered from 1 in messages, with the line they start on.
        const where = `document ${i + 1} (from line ${lineOf(doc.range[0])})`;
        if (doc.errors.length > 0) {
            throw new UsageError(`${file}: ${where}: invalid YAML: ${doc.errors[0].message.split("\n")[0]}`);
        }
        const v = doc.toJS({ maxAliasCount: 1000 });
        if (v === null || v === undefined) return;
        if (typeof v !== "object" || Array.isArray(v)) {
            throw new UsageError(`${file}: ${where}: not a Kubernetes object (expected a mapping)`);
        }
        objects.push(v);
    });
    return flattenLists(objects);
}

/** Policy-pack config file (`--policy-pack-config` format): enforcement levels and rule properties. */
function readConfigFile(file: string): { levels: Record<string, EnforcementLevel>; config: PolicyConfig } {
    let raw: unknown;
    try {
        raw = JSON.parse(fs.readFileSync(file, "utf8"));
    } catch (e) {
        throw new UsageError(`${file}: cannot read config: ${(e as Error).message}`);
    }
    if (!raw || typeof raw !== "object" || Array.isArray(raw)) throw new UsageError(`${file}: config must be a JSON object`);
    const levels: Record<string, EnforcementLevel> = {};
    const merged: PolicyConfig = {};
    const toLevel = (v: unknown): EnforcementLevel | undefined =>
        v === "advisory" || v === "mandatory" || v === "disabled" ? v : v === "remediate" ? "mandatory" : undefined;
    for (const [key, value] of Object.entries(raw as Record<string, unknown>)) {
        const names = key === "all" ? ALL_RULES.map((r) => r.name) : [key];
        const level = typeof value === "string" ? toLevel(value) : toLevel((value as Record<string, unknown>)?.enforcementLevel);
        for (const n of names) if (level && (key !== "all" || levels[n] === undefined)) levels[n] = level;
        if (value && typeof value === "object") {
            const c = readPolicyConfig(value);
            for (const [k, v] of Object.entries(c)) {
                if (v === undefined) continue;
                const prev = (merged as Record<string, unknown>)[k];
                (merged as Record<string, unknown>)[k] = Array.isArray(prev) && Array.isArray(v) ? [...new Set([...prev, ...v])] : v;
            }
        }
    }
    return { levels, config: merged };
}

export interface CheckResult {
    exitCode: number;
    findings: (Finding & { file: string })[];
}

export function main(
    argv: string[],
    out: (s: string) => void = (s) => process.stdout.write(s + "\n"),
    err: (s: string) => void = (s) => process.stderr.write(s + "\n"),
): CheckResult {
    try {
        const parsed = parseCommand(POLICY_CHECK_COMMAND, argv);
        if (parsed.kind === "help") {
            out(parsed.text);
            return { exitCode: 0, findings: [] };
        }
        const values = parsed.values as {
            "meshed-namespace": string[];
            "linkerd-version"?: string;
            "shutdown-endpoint-enabled"?: boolean;
            "native-sidecar"?: boolean;
            "default-namespace"?: string;
            config?: string;
        };
        const positionals = parsed.positionals;

        const fileConfig = values.config ? readConfigFile(values.config) : { levels: {}, config: {} as PolicyConfig };
        const config: PolicyConfig = { ...fileConfig.config };
        if (values["linkerd-version"] !== undefined) config.linkerdVersion = values["linkerd-version"];
        if (values["shutdown-endpoint-enabled"] !== undefined) config.shutdownEndpointEnabled = values["shutdown-endpoint-enabled"];
        if (values["native-sidecar"] !== undefined) config.nativeSidecar = values["native-sidecar"];
        if (values["default-namespace"] !== undefined) config.defaultNamespace = values["default-namespace"];
        if (config.linkerdVersion !== undefined && !parseLinkerdVersion(config.linkerdVersion)) {
            throw new UsageError(`unrecognised Linkerd version "${config.linkerdVersion}" (e.g. 2.14, stable-2.14.10, edge-24.8.2)`);
        }

        const files = collectFiles(positionals);
        const perFile = files.map((file) => ({ file, objects: readManifests(file) }));

        const base = emptyContext({
            defaultNamespace: config.defaultNamespace ?? "default",
            release: releaseFacts(
                {
                    linkerdVersion: config.linkerdVersion,
                    shutdownEndpointEnabled: config.shutdownEndpointEnabled,
                    nativeSidecar: config.nativeSidecar,
                },
                "--linkerd-version",
            ),
            traefik: traefikSettings(config),
        });
        // Namespaces in the input (carrying the inject annotation) count, over all files; then the options.
        const ctx = contextFromObjects(
            perFile.flatMap((f) => f.objects),
            base,
        );
        addConfiguredMeshedNamespaces(ctx, [...(config.meshedNamespaces ?? []), ...(values["meshed-namespace"] as string[])], "--meshed-namespace");

        const findings: (Finding & { file: string })[] = [];
        for (const { file, objects } of perFile) {
            for (const o of objects) {
                for (const f of checkObject(o, ctx, fileConfig.levels)) {
                    findings.push({ ...f, file });
                    out(`${file}: ${f.kind}/${f.namespace}/${f.name}: ${f.rule}: ${f.message}`);
                }
            }
        }
        const mandatory = findings.filter((f) => f.enforcement === "mandatory").length;
        err(`policy:check: ${files.length} file(s), ${mandatory} mandatory and ${findings.length - mandatory} advisory violation(s)`);
        return { exitCode: mandatory > 0 ? 1 : 0, findings };
    } catch (e) {
        if (e instanceof UsageError) {
            err(`policy:check: ${e.message}`);
            return { exitCode: 2, findings: [] };
        }
        throw e;
    }
}

if (require.main === module) {
    process.exitCode = main(process.argv.slice(2)).exitCode;
}
