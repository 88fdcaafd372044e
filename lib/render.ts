/**
 * Offline render: evaluates the program under Pulumi's mocks, without a cluster or the Pulumi CLI,
 * and records every resource registration as the engine would receive it (type, logical name,
 * parent, explicit dependsOn, inputs). Secrets are replaced by "[secret]"; values only a cluster
 * can give are shown as "[unknown: ...]" placeholders.
 *
 * Used by `npm run render`, by the tests and by the benchmark.
 */
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import type { StackConfigFile } from "./config/stackFile";
import { stringify as stringifyYaml } from "yaml";
import { ClusterReader, offlineClusterReader } from "./cluster";
import { Obj, get, str } from "./k8s";
import { PROJECT } from "./config";
import { MonitorRequest, hookMonitor, recordExplicitDependsOn, waitForRPCs } from "./pulumiInternals";

export const SECRET_PLACEHOLDER = "[secret]";
export const UNKNOWN_PLACEHOLDER = "[unknown]";

export interface RenderedResource {
    readonly type: string;
    readonly name: string;
    readonly parent: string | null;
    readonly dependsOn: string[];
    readonly inputs: Record<string, unknown>;
    /** Set for resources the program reads (`.get`) instead of managing. */
    readonly readId?: string;
    /** Set for resources taken over (Pulumi `import`) instead of created, with the inputs ignored while doing so. */
    readonly importId?: string;
    readonly ignoreChanges?: string[];
}

export type { StackConfigFile } from "./config/stackFile";
export { readStackConfigFiles } from "./config/stackFile";

/** A placeholder for a value that only exists once the cluster has run something. */
export function unknownFromCluster(what: string): string {
    return `[unknown: ${what}]`;
}

/**
 * A secret's shape without its values: a map keeps its keys (a Secret's `stringData: {users: ...}`
 * stays an object, as schemas expect), every leaf becomes "[secret]".
 */
function secretShape(value: unknown): unknown {
    if (pulumi.runtime.isRpcSecret(value)) return secretShape((value as { value?: unknown }).value);
    if (Array.isArray(value)) return value.map(secretShape);
    if (value && typeof value === "object" && !(pulumi.runtime.specialSigKey in value)) {
        const out: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[k] = secretShape(v);
        return out;
    }
    return SECRET_PLACEHOLDER;
}

/** Replaces Pulumi's secret wrappers and unknown sentinels in deserialized inputs. */
export function scrub(value: unknown): unknown {
    if (pulumi.runtime.isRpcSecret(value)) return secretShape(value);
    if (value === pulumi.runtime.unknownValue) return UNKNOWN_PLACEHOLDER;
    if (Array.isArray(value)) return value.map(scrub);
    if (value && typeof value === "object") {
        if (pulumi.runtime.specialSigKey in value) {
            const sig = (value as Record<string, unknown>)[pulumi.runtime.specialSigKey];
            if (sig === pulumi.runtime.specialResourceSig) return `[resource ${(value as { urn?: string }).urn ?? ""}]`;
            if (sig === pulumi.runtime.specialOutputValueSig) {
                const v = value as { value?: unknown; secret?: boolean };
                return v.secret ? secretShape(v.value) : scrub(v.value);
            }
        }
        const out: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[k] = scrub(v);
        return out;
    }
    return value;
}

function nameOfUrn(urn: string): string {
    return urn.slice(urn.lastIndexOf("::") + 2);
}

/** State the mocks return: inputs, plus what a cluster would add for the few outputs the program reads. */
function mockState(args: pulumi.runtime.MockResourceArgs, secretKeys: readonly string[]): { id: string; state: Record<string, unknown> } {
    const inputs = args.inputs as Obj;
    const name = str(get(inputs, "metadata", "name")) ?? args.name;
    // An id means a read (`.get`) or an import; an imported Helm release gets the same state as an installed one.
    if (args.id !== undefined && args.id !== "" && args.type !== "kubernetes:helm.sh/v3:Release") {
        if (args.type === "kubernetes:core/v1:Secret") {
            const data: Record<string, string> = {};
            for (const key of secretKeys) {
                data[key] = Buffer.from(unknownFromCluster(`${key} of Secret ${args.id}, read from the cluster once it exists`)).toString("base64");
            }
            return { id: args.id, state: { ...inputs, data } };
        }
        if (args.type === "kubernetes:core/v1:ConfigMap") {
            const text = unknownFromCluster(`ConfigMap ${args.id}, read from the cluster after the install`);
            return { id: args.id, state: { ...inputs, data: { values: `identityTrustAnchorsPEM: "${text}"\n` } } };
        }
        return { id: args.id, state: inputs };
    }
    const state: Record<string, unknown> = { ...inputs };
    if (args.type === "kubernetes:helm.sh/v3:Release") {
        state.status = { name: inputs.name, namespace: inputs.namespace, status: "deployed", version: inputs.version ?? "local" };
    }
    // random provider outputs the program computes with: fixed stand-ins (the real values exist only in state, as secrets).
    if (args.type === "random:index/randomPassword:RandomPassword") {
        state.result = unknownFromCluster("password generated by random.RandomPassword on pulumi up");
        state.bcryptHash = `$2a$10$${".".repeat(53)}`;
    }
    if (args.type === "random:index/randomBytes:RandomBytes") {
        const bytes = Buffer.alloc(Number(inputs.length ?? 0));
        state.base64 = bytes.toString("base64");
        state.hex = bytes.toString("hex");
    }
    const ns = str(get(inputs, "metadata", "namespace"));
    return { id: ns ? `${ns}/${name}` : name, state };
}

export interface RenderResult {
    readonly resources: RenderedResource[];
    readonly outputs: Record<string, unknown>;
}

/**
 * Runs the program exported by `programPath` (index.ts) under mocks
 * with the given configuration. Throws the program's error (e.g. a ConfigError) unchanged.
 * Only one render may run in a process at a time (Pulumi's runtime state is global).
 */
export async function renderProgram(
    programPath: string,
    stackConfig: StackConfigFile,
    stack = "picluster",
    /** Receives every registration as it happens, also when the program then fails. */
    resources: RenderedResource[] = [],
    /** What the program is told of the cluster: nothing (offline), unless a caller read it already (npm run upgrade --dry-run). */
    clusterReader: ClusterReader = offlineClusterReader,
): Promise<RenderResult> {
    // The program module exports its body as a function (Pulumi's `export = async () => {...}`
    // form), so every render runs it afresh whatever the module cache holds.
    const program = (await import(path.resolve(programPath))) as unknown;
    const run = typeof program === "function" ? program : (program as { default?: unknown }).default;
    if (typeof run !== "function") throw new Error(`${programPath} must export the program as a function`);
    const main = run as (options: { clusterReader: ClusterReader }) => Promise<Record<string, unknown>>;
    // Offline: the program reads nothing from a cluster (index.ts: clusterReader).
    return renderFunction(() => main({ clusterReader }), stackConfig, stack, resources);
}

/** Keys a read Secret answers with: the usual certificate keys and the configured trust-anchor key. */
function secretKeysRead(stackConfig: StackConfigFile): string[] {
    const keys = new Set(["ca.crt", "tls.crt", "tls.key"]);
    try {
        const identity = JSON.parse(stackConfig.config[`${PROJECT}:identity`] ?? "{}") as { trustAnchor?: { secret?: { key?: unknown } } };
        if (typeof identity?.trustAnchor?.secret?.key === "string") keys.add(identity.trustAnchor.secret.key);
    } catch {
        // Invalid JSON is reported by the program's own validation.
    }
    return [...keys];
}

/**
 * Runs `program` (anything that registers resources: the whole program, or one component built alone) under mocks
 * with the given configuration, recording every registration; the function's result is the stack outputs.
 * Throws the program's error unchanged. Only one render may run in a process at a time.
 */
export async function renderFunction(
    program: () => Record<string, unknown> | Promise<Record<string, unknown>>,
    stackConfig: StackConfigFile = { config: {}, secretKeys: [] },
    stack = "picluster",
    resources: RenderedResource[] = [],
): Promise<RenderResult> {
    pulumi.runtime.setAllConfig(stackConfig.config, stackConfig.secretKeys);
    const engine = new TransformsStandIn();
    const secretKeys = secretKeysRead(stackConfig);
    await pulumi.runtime.setMocks(
        {
            newResource: async (args) => {
                const adopted = await engine.apply(args);
                return mockState({ ...args, id: adopted?.importId ?? args.id }, secretKeys);
            },
            call: (args) => args.inputs as Record<string, unknown>,
        },
        PROJECT,
        stack,
        false,
    );
    // Explicit dependsOn as the program wrote it (the engine only receives the union of explicit and implicit dependencies).
    const explicitDependsOn = new Map<string, string[]>();
    let stackOutputs: Record<string, unknown> = {};
    const record = (req: MonitorRequest): RenderedResource => {
        const parent = req.parentUrn ? nameOfUrn(req.parentUrn) : null;
        const rendered: RenderedResource = {
            type: req.type,
            name: req.name,
            parent: parent && req.parentUrn.includes("::pulumi:pulumi:Stack::") ? null : parent,
            dependsOn: explicitDependsOn.get(`${req.type}::${req.name}`) ?? [],
            inputs: scrub(req.inputs) as Record<string, unknown>,
            ...(req.readId !== undefined ? { readId: req.readId } : {}),
            ...(req.importId ? { importId: req.importId, ignoreChanges: [...req.ignoreChanges] } : {}),
        };
        resources.push(rendered);
        return rendered;
    };
    hookMonitor({
        registered: (req) => engine.registered(req, record(req)),
        read: (req) => void record(req),
        // Stack outputs as the engine receives them: secret outputs still wrapped, so they scrub to "[secret]".
        stackOutputs: (outputs) => (stackOutputs = scrub(outputs) as Record<string, unknown>),
    });

    let programError: unknown;
    await pulumi.runtime.runInPulumiStack(async () => {
        recordExplicitDependsOn((type, name, dependsOn) => explicitDependsOn.set(`${type}::${name}`, dependsOn));
        try {
            return await program();
        } catch (e) {
            programError = e;
            return {};
        }
    });
    await waitForRPCs();
    // eslint-disable-next-line @typescript-eslint/only-throw-error -- the program's own error, unchanged (a ConfigError, or whatever it threw)
    if (programError !== undefined) throw programError;
    return { resources, outputs: withUnknownDerivations(stackOutputs) };
}

/**
 * What the engine does with `transforms` and the mocks do not: each resource's own transforms run, then its
 * parents', up to the stack, and the options they return apply. The render shows the two options the program's
 * transforms set (`import`, `ignoreChanges`: adoption, components/picluster.ts) and refuses any other change, so
 * it never shows something the engine would not do.
 */
class TransformsStandIn {
    /** Transforms that apply to a component's children (its own and its parents'), by the component's URN. */
    private readonly byUrn = new Map<string, pulumi.ResourceTransform[]>();
    /** Registrations the mocks have not answered yet, by type and name. */
    private readonly pending = new Map<string, { parentUrn: string; rendered: RenderedResource; chain?: pulumi.ResourceTransform[] }>();

    registered(req: MonitorRequest, rendered: RenderedResource): (urn: string) => void {
        const key = `${req.type}::${req.name}`;
        this.pending.set(key, { parentUrn: req.parentUrn, rendered });
        return (urn) => {
            const chain = this.pending.get(key)?.chain;
            if (chain && chain.length > 0) this.byUrn.set(urn, chain);
            this.pending.delete(key);
        };
    }

    /** Runs the transforms of a registration the mocks answer; returns the import they ask for. */
    async apply(args: pulumi.runtime.MockResourceArgs): Promise<{ importId: string } | undefined> {
        const entry = this.pending.get(`${args.type}::${args.name}`);
        if (!entry || args.id) return undefined; // a read, or an import the program asked for itself
        const chain = [...(args.transforms ?? []), ...(this.byUrn.get(entry.parentUrn) ?? [])];
        entry.chain = chain;
        if (!args.custom || chain.length === 0) return undefined;
        let opts: pulumi.CustomResourceOptions = {};
        for (const transform of chain) {
            const result = await transform({ custom: true, type: args.type, name: args.name, props: args.inputs as pulumi.Inputs, opts });
            if (!result) continue;
            if (result.props !== args.inputs)
                throw new Error(`the render shows only the options transforms set; ${args.type} ${args.name}'s props were changed`);
            opts = result.opts;
        }
        if (typeof opts.import !== "string") return undefined;
        const rendered = entry.rendered as { importId?: string; ignoreChanges?: string[] };
        rendered.importId = opts.import;
        rendered.ignoreChanges = [...(opts.ignoreChanges ?? [])];
        return { importId: opts.import };
    }
}

/**
 * Stack outputs computed from values only the cluster can give: offline, their inputs are placeholders, so the
 * computation (e.g. a comparison of two placeholders) says nothing: they are shown as unknown too.
 */
const DERIVED_OUTPUTS: Readonly<Record<string, { readonly from: readonly string[]; readonly what: string }>> = {
    trustAnchorInLinkerdConfig: {
        from: ["trustAnchorPEM", "linkerdConfigTrustAnchorPEM"],
        what: "whether linkerd-config carries the trust anchor, known after pulumi up",
    },
};

function holdsPlaceholder(value: unknown): boolean {
    return typeof value === "string" && (value === UNKNOWN_PLACEHOLDER || value.includes("[unknown: "));
}

export function withUnknownDerivations(outputs: Record<string, unknown>): Record<string, unknown> {
    const out = { ...outputs };
    for (const [key, { from, what }] of Object.entries(DERIVED_OUTPUTS)) {
        if (key in out && from.some((f) => holdsPlaceholder(out[f]))) out[key] = unknownFromCluster(what);
    }
    return out;
}

/** `local.Command` scripts by resource: what `pulumi up` and `pulumi destroy` run on this machine. */
export function commandScripts(resources: readonly RenderedResource[]): { file: string; text: string }[] {
    const out: { file: string; text: string }[] = [];
    for (const r of resources) {
        if (r.type !== "command:local:Command") continue;
        const interpreter = Array.isArray(r.inputs.interpreter) ? (r.inputs.interpreter as string[]).join(" ") : "/bin/sh -c";
        for (const phase of ["create", "update", "delete"] as const) {
            const script = r.inputs[phase];
            if (typeof script !== "string") continue;
            out.push({
                file: `${r.name}.${phase}.sh`,
                text: `# ${r.name}: the ${phase} script of this local.Command, run by ${interpreter} <script> (as \`pulumi ${phase === "delete" ? "destroy" : "up"}\` runs it)\n${script.endsWith("\n") ? script : `${script}\n`}`,
            });
        }
    }
    return out;
}

const MANIFEST_EXCLUDED = new Set(["kubernetes:helm.sh/v3:Release", "kubernetes:helm.sh/v4:Chart"]);

/** Kubernetes objects the program creates or patches, as they would be applied. */
export function kubernetesObjects(resources: readonly RenderedResource[]): { resource: RenderedResource; object: Record<string, unknown> }[] {
    return resources
        .filter((r) => r.type.startsWith("kubernetes:") && !r.readId && !MANIFEST_EXCLUDED.has(r.type) && typeof r.inputs.kind === "string")
        .map((resource) => ({ resource, object: resource.inputs }));
}

/** Helm releases' values by release name. */
export function releaseValues(resources: readonly RenderedResource[]): Map<string, unknown> {
    const out = new Map<string, unknown>();
    for (const r of resources) {
        if (r.type === "kubernetes:helm.sh/v3:Release") out.set(str(r.inputs.name) ?? r.name, r.inputs.values ?? {});
    }
    return out;
}

/** Writes resources.json, outputs.json, manifests/<logical name>.yaml, values/<release>.yaml and scripts/<command>.<phase>.sh. */
export function writeRender(outDir: string, result: RenderResult): void {
    for (const dir of ["manifests", "values", "scripts"]) {
        fs.rmSync(path.join(outDir, dir), { recursive: true, force: true });
        fs.mkdirSync(path.join(outDir, dir), { recursive: true });
    }
    for (const { file, text } of commandScripts(result.resources)) fs.writeFileSync(path.join(outDir, "scripts", file), text);
    fs.writeFileSync(path.join(outDir, "resources.json"), JSON.stringify(result.resources, null, 2) + "\n");
    fs.writeFileSync(path.join(outDir, "outputs.json"), JSON.stringify(result.outputs, null, 2) + "\n");
    for (const { resource, object } of kubernetesObjects(result.resources)) {
        fs.writeFileSync(path.join(outDir, "manifests", `${resource.name}.yaml`), stringifyYaml(object));
    }
    for (const [name, values] of releaseValues(result.resources)) {
        fs.writeFileSync(path.join(outDir, "values", `${name}.yaml`), stringifyYaml(values));
    }
}

/** A short table: one row per resource. */
export function summaryTable(resources: readonly RenderedResource[]): string {
    const rows = resources.map((r) => [
        r.name,
        r.type,
        r.parent ?? "-",
        r.readId ? "(read)" : r.importId ? `(import ${r.importId})` : r.dependsOn.join(", ") || "-",
    ]);
    const header = ["NAME", "TYPE", "PARENT", "DEPENDS ON"];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
    const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join("  ");
    return [line(header), ...rows.map(line), `${resources.length} resources`].join("\n");
}
