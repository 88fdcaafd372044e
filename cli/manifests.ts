/**
 * Kubernetes manifests read as kubectl and Helm read them. Both turn YAML into JSON with sigs.k8s.io/yaml, which
 * decodes with goyaml v2: YAML 1.1 scalars (`yes`/`no`/`on`/`off`/`y`/`n` are booleans, `0755` is octal) and `<<`
 * merge keys. A YAML 1.2 reader sees strings and a literal `<<` key there, so a manifest would mean one thing to the
 * cluster and another to the rules.
 *
 * The schema below resolves plain scalars the way goyaml v2's resolve() does (gopkg.in/yaml.v2 resolve.go):
 * timestamps stay strings (decode.go keeps them as strings in untyped values), there are no sexagesimal numbers,
 * `!!binary` decodes to a string, local tags (`!foo`) keep the value as it is, and of duplicate keys the last wins. Parsed with js-yaml: the `yaml`
 * package reads the same text about ten times slower (20,000 documents took 15 s of CPU against 1.3 s; see
 * `npm run bench -- --only policy`).
 */
import * as jsyaml from "js-yaml";
import { UsageError } from "./args";
import { flattenLists } from "../policy/rules";
import { Obj } from "../lib/k8s";

const BOOL: Record<string, boolean> = {};
for (const s of ["y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"]) BOOL[s] = true;
for (const s of ["n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"]) BOOL[s] = false;

const SPECIAL_FLOATS: Record<string, number> = {};
for (const s of [".nan", ".NaN", ".NAN"]) SPECIAL_FLOATS[s] = NaN;
for (const s of [".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"]) SPECIAL_FLOATS[s] = Infinity;
for (const s of ["-.inf", "-.Inf", "-.INF"]) SPECIAL_FLOATS[s] = -Infinity;

/** strconv.ParseInt(s, 0, 64) syntax (after goyaml removed underscores): sign, then 0x / 0o / 0b / leading-0 octal / decimal. */
const GO_INT = /^[-+]?(?:0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)$/;
/** goyaml's yamlStyleFloat. */
const GO_FLOAT = /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$/;

function goInt(plain: string): number {
    const neg = plain.startsWith("-");
    const body = plain.replace(/^[-+]/, "");
    let v: bigint;
    if (/^0[oO]/.test(body)) v = BigInt(`0o${body.slice(2)}`);
    else if (/^0[0-7]+$/.test(body)) v = BigInt(`0o${body.slice(1)}`);
    else v = BigInt(body); // decimal, 0x…, 0b…
    return Number(neg ? -v : v);
}

/** What goyaml v2 resolves a plain scalar to, or undefined for a string. */
export function resolveGoyamlScalar(s: string): null | boolean | number | undefined {
    if (s === "" || s === "~" || s === "null" || s === "Null" || s === "NULL") return null;
    if (s in BOOL) return BOOL[s];
    if (s in SPECIAL_FLOATS) return SPECIAL_FLOATS[s];
    const c = s.charCodeAt(0);
    if (c === 0x2e /* . */) return /^\.[0-9]+(?:[eE][-+]?[0-9]+)?$/.test(s) ? Number(s) : undefined;
    if (!((c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2d)) return undefined; // digit, + or -
    const plain = s.replace(/_/g, "");
    if (GO_INT.test(plain)) return goInt(plain);
    if (GO_FLOAT.test(plain)) return Number(plain);
    return undefined;
}

// One implicit type per result kind, in goyaml's order; each recognises exactly what resolveGoyamlScalar maps to it.
const scalarType = (tag: string, test: (v: unknown) => boolean) =>
    new jsyaml.Type(tag, {
        kind: "scalar",
        resolve: (data: string | null) => test(resolveGoyamlScalar(data ?? "")),
        construct: (data: string | null) => resolveGoyamlScalar(data ?? ""),
    });

const NULL = scalarType("tag:yaml.org,2002:null", (v) => v === null);
const BOOLEAN = scalarType("tag:yaml.org,2002:bool", (v) => typeof v === "boolean");
const INT = scalarType("tag:yaml.org,2002:int", (v) => typeof v === "number" && Number.isInteger(v));
const FLOAT = scalarType("tag:yaml.org,2002:float", (v) => typeof v === "number");
/** Explicit `!!timestamp`: goyaml keeps the text. */
const TIMESTAMP = new jsyaml.Type("tag:yaml.org,2002:timestamp", { kind: "scalar", construct: (data: string) => data });
/** Explicit `!!binary`: goyaml decodes it into a (byte) string. */
const BINARY = new jsyaml.Type("tag:yaml.org,2002:binary", {
    kind: "scalar",
    resolve: (data: string | null) => data !== null && /^[A-Za-z0-9+/=\s]*$/.test(data),
    construct: (data: string) => Buffer.from(data.replace(/\s/g, ""), "base64").toString("latin1"),
});
/** Local tags (`!foo`): goyaml keeps the value as it is. */
const localTags = (["scalar", "sequence", "mapping"] as const).map(
    (kind) => new jsyaml.Type("!", { kind, multi: true, construct: (data: unknown) => data }),
);

/** js-yaml's `<<` merge type (exported at runtime as `types.merge`; @types/js-yaml does not declare `types`). */
const MERGE = (jsyaml as unknown as { types: { merge: jsyaml.Type } }).types.merge;

export const GOYAML_V2_SCHEMA = jsyaml.FAILSAFE_SCHEMA.extend({
    implicit: [NULL, BOOLEAN, INT, FLOAT, MERGE],
    explicit: [TIMESTAMP, BINARY, ...localTags],
});

interface LoaderState {
    line: number;
    documents: unknown[];
}

/**
 * Parse a multi-document YAML text into Kubernetes objects (`kind: List` expanded). Throws a UsageError naming the
 * source, the document (numbered from 1) with the line its content starts on, and for invalid YAML the error's line,
 * or a document that is not a mapping. Linear in the size of the text.
 */
export function parseManifests(text: string, source: string): Obj[] {
    // The line each document's content starts on, seen as the loader opens each document's root node.
    const starts: number[] = [];
    const listener = (event: string, state: LoaderState) => {
        if (event === "open" && starts.length === state.documents.length) starts.push(state.line + 1);
    };
    const where = (i: number) => `document ${i + 1}${starts[i] !== undefined ? ` (from line ${starts[i]})` : ""}`;
    let docs: unknown[];
    try {
        docs = jsyaml.loadAll(text, null, {
            schema: GOYAML_V2_SCHEMA,
            // Duplicate keys: the last one wins, as in goyaml v2 (Helm charts do render them; kubectl accepts them).
            json: true,
            listener,
            // Bounded work for merge keys (js-yaml's guard against merge bombs), proportional to the input.
            maxTotalMergeKeys: Math.max(10_000, text.length),
        } as unknown as jsyaml.LoadOptions);
    } catch (e) {
        if (!(e instanceof jsyaml.YAMLException)) throw e;
        const at = e.mark ? `line ${e.mark.line + 1}, column ${e.mark.column + 1}` : "";
        const doc = Math.max(0, starts.length - 1);
        throw new UsageError(`${source}: ${where(doc)}: invalid YAML${at ? ` at ${at}` : ""}: ${e.reason}`);
    }
    const objects: unknown[] = [];
    docs.forEach((v, i) => {
        if (v === null || v === undefined) return;
        if (typeof v !== "object" || Array.isArray(v)) {
            throw new UsageError(`${source}: ${where(i)}: not a Kubernetes object (expected a mapping)`);
        }
        objects.push(v);
    });
    return flattenLists(objects);
}
