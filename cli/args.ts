/**
 * One command-line contract for every `npm run` command of the project (render, policy:check, bench,
 * toolchain, cluster, fixtures): `--help`/`-h` prints the usage, every option and the exit codes and
 * exits 0 without doing any work; an unknown flag, a missing value or a stray argument is refused
 * with exit 2 before anything is read, built or written.
 */
import { parseArgs } from "node:util";

export interface OptionSpec {
    readonly type: "string" | "boolean";
    readonly short?: string;
    readonly multiple?: boolean;
    /** Placeholder shown in the help, e.g. `<dir>`. */
    readonly value?: string;
    /** One line: what the option does and its default. */
    readonly help: string;
    readonly default?: string | boolean | string[];
    /** Allowed values (comma-separated lists are checked item by item). */
    readonly choices?: readonly string[];
}

export interface CommandSpec {
    /** As the user types it, e.g. `npm run render --`. */
    readonly usage: string;
    readonly summary: string;
    readonly options: Readonly<Record<string, OptionSpec>>;
    /** Positional arguments, for the help text; none are accepted when absent. */
    readonly positionals?: { readonly name: string; readonly help: string; readonly min?: number };
    /** Exit codes and their meaning (0 and 2 are added when missing). */
    readonly exitCodes: Readonly<Record<number, string>>;
}

/** Thrown for bad usage; `runCommand`/`parseCommand` callers map it to exit 2. */
export class UsageError extends Error {}

export function helpText(spec: CommandSpec): string {
    const optionLines = Object.entries(spec.options).map(([name, o]) => {
        const flag = `${o.short ? `-${o.short}, ` : ""}--${name}${o.type === "string" ? ` ${o.value ?? "<value>"}` : ""}${o.multiple ? " (repeatable)" : ""}`;
        const choices = o.choices ? ` One of: ${o.choices.join(", ")}.` : "";
        return `  ${flag.padEnd(34)} ${o.help}${choices}`;
    });
    optionLines.push(`  ${"-h, --help".padEnd(34)} Print this help and exit 0 without doing anything.`);
    const codes: Record<number, string> = { 0: "success", 2: "bad usage (unknown option, missing value): nothing was done", ...spec.exitCodes };
    return [
        `usage: ${spec.usage}${spec.positionals ? ` <${spec.positionals.name}>...` : ""} [options]`,
        "",
        spec.summary,
        "",
        ...(spec.positionals ? [`Arguments:`, `  ${spec.positionals.name.padEnd(34)} ${spec.positionals.help}`, ""] : []),
        "Options:",
        ...optionLines,
        "",
        "Exit codes:",
        ...Object.entries(codes)
            .sort(([a], [b]) => Number(a) - Number(b))
            .map(([code, what]) => `  ${code.padEnd(4)} ${what}`),
    ].join("\n");
}

export type ParsedValues = Record<string, string | boolean | string[] | undefined>;

export type ParseResult = { kind: "help"; text: string } | { kind: "run"; values: ParsedValues; positionals: string[] };

/** Parses argv strictly against the spec. Throws UsageError for anything it does not know. */
export function parseCommand(spec: CommandSpec, argv: string[]): ParseResult {
    let parsed: { values: ParsedValues; positionals: string[] };
    try {
        const options: Record<string, { type: "string" | "boolean"; short?: string; multiple?: boolean; default?: string | boolean | string[] }> = {
            help: { type: "boolean", short: "h" },
        };
        for (const [name, o] of Object.entries(spec.options)) {
            options[name] = { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.multiple ? { multiple: true } : {}) };
            if (o.default !== undefined) options[name].default = o.default;
        }
        parsed = parseArgs({ args: argv, options, strict: true, allowPositionals: spec.positionals !== undefined }) as typeof parsed;
    } catch (e) {
        // node's messages name the flag: "Unknown option '--nosuch'", "Option '--out <value>' argument missing".
        throw new UsageError(`${(e as Error).message.split(". ")[0]} (see --help)`);
    }
    if (parsed.values.help) return { kind: "help", text: helpText(spec) };
    for (const [name, o] of Object.entries(spec.options)) {
        const v = parsed.values[name];
        if (!o.choices || v === undefined) continue;
        const items = (Array.isArray(v) ? v : String(v).split(",")).map((s) => s.trim());
        const bad = items.filter((i) => !o.choices!.includes(i));
        if (bad.length)
            throw new UsageError(`--${name}: unknown value(s) ${bad.map((b) => `"${b}"`).join(", ")}; expected one of ${o.choices.join(", ")}`);
    }
    const min = spec.positionals?.min ?? 0;
    if (parsed.positionals.length < min) throw new UsageError(`expected at least ${min} ${spec.positionals!.name} argument(s) (see --help)`);
    return { kind: "run", values: parsed.values, positionals: parsed.positionals };
}

/**
 * Parses process argv for a command's entry point: prints the help (exit 0) or the usage error
 * (exit 2) and exits; otherwise returns the values.
 */
export function commandLine<T = ParsedValues>(
    name: string,
    spec: CommandSpec,
    argv: string[] = process.argv.slice(2),
): { values: T; positionals: string[] } {
    try {
        const r = parseCommand(spec, argv);
        if (r.kind === "help") {
            process.stdout.write(r.text + "\n");
            process.exit(0);
        }
        return r as unknown as { values: T; positionals: string[] };
    } catch (e) {
        if (e instanceof UsageError) {
            process.stderr.write(`${name}: ${e.message}\n`);
            process.exit(2);
        }
        throw e;
    }
}
