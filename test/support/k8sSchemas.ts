/**
 * Strict schema validation of Kubernetes objects for tests: `validateObject(obj)` returns a list of
 * problems ("<path>: <message>", paths like `spec.podMetricsEndpoints[0].relabelings[2]`); an empty
 * list means valid. Unknown fields are problems (the API server would prune or reject them), and so
 * is an apiVersion/kind this module has no schema for.
 *
 * Two sources of schemas (see docs/testing-fixtures.md):
 *
 * 1. Kinds covered by the installed @kubernetes-models packages (CommonJS 4.x lines). These packages
 *    ship no JSON schemas: their `_schemas/*.js` files are ajv-compiled validator functions, and
 *    those functions accept unknown fields. We run the package's own `validate()` (the model class)
 *    for type/required/enum/format errors, then run the same compiled function once more over a
 *    read-tracking Proxy of the object. A compiled validator reads `data.<prop>` for every property
 *    its schema declares (present or not) and reads every key of an additionalProperties map, so for
 *    any object the validator inspected, a key it never read is a field the schema does not have.
 *    Objects the validator never inspects (free-form / `{}` schemas) are accepted as a whole.
 *
 * 2. Kinds whose package schema is missing or older than what we deploy (trust-manager Bundle,
 *    traefik.io Middleware/IngressRoute) or absent (k3s HelmChartConfig): JSON schemas in
 *    test/fixtures/crd-schemas (derived from reference CRDs by test/fixtures/derive-crd-schemas.ts;
 *    HelmChartConfig hand-written). Validated with ajv plus a structural walk that reports unknown
 *    fields, honouring additionalProperties, x-kubernetes-preserve-unknown-fields,
 *    x-kubernetes-int-or-string, x-kubernetes-embedded-resource, allOf/anyOf/oneOf and local $refs.
 *    `metadata` is checked against the kubernetes-models ObjectMeta schema (CRDs leave it open).
 */
import * as fs from "fs";
import * as path from "path";
import Ajv, { ErrorObject, ValidateFunction } from "ajv";

type CompiledFn = ((data: unknown, ctx?: { instancePath?: string }) => boolean) & { errors?: ErrorObject[] | null };
type ModelCtor = new (data: unknown) => { validate(): void };

interface PackageEntry {
    type: "package";
    /** module path of the model class and its export name */
    model: [string, string];
    /** module path of the ajv-compiled validator the model uses */
    schema: string;
}
interface FixtureEntry {
    type: "fixture";
    file: string;
}
type Entry = PackageEntry | FixtureEntry;

const KM = "kubernetes-models";
const CM = "@kubernetes-models/cert-manager";
const PO = "@kubernetes-models/prometheus-operator";
const TR = "@kubernetes-models/traefik";

function pkg(modelModule: string, exportName: string, schemaModule: string): PackageEntry {
    return { type: "package", model: [modelModule, exportName], schema: schemaModule };
}

/** apiVersion + " " + kind -> schema source. */
const REGISTRY: Record<string, Entry> = {
    "v1 Namespace": pkg(`${KM}/v1/Namespace`, "Namespace", `${KM}/_schemas/IoK8sApiCoreV1Namespace`),
    "v1 ConfigMap": pkg(`${KM}/v1/ConfigMap`, "ConfigMap", `${KM}/_schemas/IoK8sApiCoreV1ConfigMap`),
    "v1 Secret": pkg(`${KM}/v1/Secret`, "Secret", `${KM}/_schemas/IoK8sApiCoreV1Secret`),
    "v1 Service": pkg(`${KM}/v1/Service`, "Service", `${KM}/_schemas/IoK8sApiCoreV1Service`),
    "v1 ServiceAccount": pkg(`${KM}/v1/ServiceAccount`, "ServiceAccount", `${KM}/_schemas/IoK8sApiCoreV1ServiceAccount`),
    "apps/v1 Deployment": pkg(`${KM}/apps/v1/Deployment`, "Deployment", `${KM}/_schemas/IoK8sApiAppsV1Deployment`),
    "apps/v1 DaemonSet": pkg(`${KM}/apps/v1/DaemonSet`, "DaemonSet", `${KM}/_schemas/IoK8sApiAppsV1DaemonSet`),
    "batch/v1 Job": pkg(`${KM}/batch/v1/Job`, "Job", `${KM}/_schemas/IoK8sApiBatchV1Job`),
    "batch/v1 CronJob": pkg(`${KM}/batch/v1/CronJob`, "CronJob", `${KM}/_schemas/IoK8sApiBatchV1CronJob`),
    "networking.k8s.io/v1 Ingress": pkg(`${KM}/networking.k8s.io/v1/Ingress`, "Ingress", `${KM}/_schemas/IoK8sApiNetworkingV1Ingress`),
    "cert-manager.io/v1 Certificate": pkg(`${CM}/cert-manager.io/v1/Certificate`, "Certificate", `${CM}/_schemas/CertManagerIoV1Certificate`),
    "cert-manager.io/v1 Issuer": pkg(`${CM}/cert-manager.io/v1/Issuer`, "Issuer", `${CM}/_schemas/CertManagerIoV1Issuer`),
    "cert-manager.io/v1 ClusterIssuer": pkg(`${CM}/cert-manager.io/v1/ClusterIssuer`, "ClusterIssuer", `${CM}/_schemas/CertManagerIoV1ClusterIssuer`),
    "monitoring.coreos.com/v1 PodMonitor": pkg(
        `${PO}/monitoring.coreos.com/v1/PodMonitor`,
        "PodMonitor",
        `${PO}/_schemas/MonitoringCoreosComV1PodMonitor`,
    ),
    "monitoring.coreos.com/v1 ServiceMonitor": pkg(
        `${PO}/monitoring.coreos.com/v1/ServiceMonitor`,
        "ServiceMonitor",
        `${PO}/_schemas/MonitoringCoreosComV1ServiceMonitor`,
    ),
    "traefik.containo.us/v1alpha1 Middleware": pkg(
        `${TR}/traefik.containo.us/v1alpha1/Middleware`,
        "Middleware",
        `${TR}/_schemas/TraefikContainoUsV1alpha1Middleware`,
    ),
    "traefik.containo.us/v1alpha1 IngressRoute": pkg(
        `${TR}/traefik.containo.us/v1alpha1/IngressRoute`,
        "IngressRoute",
        `${TR}/_schemas/TraefikContainoUsV1alpha1IngressRoute`,
    ),
    "trust.cert-manager.io/v1alpha1 Bundle": { type: "fixture", file: "trust.cert-manager.io_Bundle_v1alpha1.json" },
    "traefik.io/v1alpha1 Middleware": { type: "fixture", file: "traefik.io_Middleware_v1alpha1.json" },
    "traefik.io/v1alpha1 IngressRoute": { type: "fixture", file: "traefik.io_IngressRoute_v1alpha1.json" },
    "helm.cattle.io/v1 HelmChartConfig": { type: "fixture", file: "helm.cattle.io_HelmChartConfig_v1.json" },
};

const OBJECT_META_SCHEMA = "@kubernetes-models/apimachinery/_schemas/IoK8sApimachineryPkgApisMetaV1ObjectMeta";
const CRD_DIR = path.resolve(__dirname, "../fixtures/crd-schemas");

/** The apiVersion/kind pairs validateObject knows. */
export function supportedKinds(): string[] {
    return Object.keys(REGISTRY).sort();
}

type Seg = string | number;

export function formatPath(segs: Seg[]): string {
    let out = "";
    for (const s of segs) out += typeof s === "number" ? `[${s}]` : out === "" ? s : `.${s}`;
    return out === "" ? "(root)" : out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
    return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** ajv instancePath ("/spec/items/0/name") -> segments, using the data to tell indexes from keys. */
function pointerToSegs(pointer: string, data: unknown): Seg[] {
    if (!pointer) return [];
    const segs: Seg[] = [];
    let cur: unknown = data;
    for (const raw of pointer.slice(1).split("/")) {
        const key = raw.replace(/~1/g, "/").replace(/~0/g, "~");
        if (Array.isArray(cur) && /^\d+$/.test(key)) {
            segs.push(Number(key));
            cur = cur[Number(key)];
        } else {
            segs.push(key);
            cur = isPlainObject(cur) ? cur[key] : undefined;
        }
    }
    return segs;
}

function ajvProblems(errors: ErrorObject[] | null | undefined, data: unknown, base: Seg[] = []): string[] {
    return (errors ?? []).map((e) => {
        const p = formatPath([...base, ...pointerToSegs(e.instancePath, data)]);
        let msg = e.message ?? e.keyword;
        if (e.keyword === "enum") msg += `: ${JSON.stringify((e.params as { allowedValues: unknown[] }).allowedValues)}`;
        if (e.keyword === "required") msg = `must have required property '${(e.params as { missingProperty: string }).missingProperty}'`;
        return `${p}: ${msg}`;
    });
}

// ---------------------------------------------------------------- package kinds (compiled validators)

interface Tracked {
    segs: Seg[];
    target: Record<string, unknown>;
    read: Set<string>;
}

/**
 * Runs a compiled validator over a read-tracking view of `data` and returns the fields it never
 * read in objects it did inspect.
 */
function unknownFieldsByReads(fn: CompiledFn, data: unknown, base: Seg[] = []): string[] {
    const tracked: Tracked[] = [];
    const proxies = new WeakMap<object, unknown>();
    const wrap = (value: unknown, segs: Seg[]): unknown => {
        if (typeof value !== "object" || value === null) return value;
        const existing = proxies.get(value);
        if (existing) return existing;
        const isArr = Array.isArray(value);
        const rec: Tracked | undefined = isArr ? undefined : { segs, target: value as Record<string, unknown>, read: new Set() };
        if (rec) tracked.push(rec);
        const proxy = new Proxy(value, {
            get(target, prop, receiver) {
                const v = Reflect.get(target, prop, receiver);
                if (typeof prop !== "string") return v;
                if (isArr) {
                    return /^\d+$/.test(prop) ? wrap(v, [...segs, Number(prop)]) : v;
                }
                rec!.read.add(prop);
                return Object.prototype.hasOwnProperty.call(target, prop) ? wrap(v, [...segs, prop]) : v;
            },
        });
        proxies.set(value, proxy);
        return proxy;
    };
    fn(wrap(data, base));
    const out: string[] = [];
    for (const t of tracked) {
        if (t.read.size === 0) continue; // never inspected: free-form value
        for (const k of Object.keys(t.target)) {
            if (!t.read.has(k)) out.push(`${formatPath([...t.segs, k])}: unknown field`);
        }
    }
    return out;
}

/**
 * "<package>/_schemas/<Name>" -> absolute file. The packages' `exports` maps do not list `_schemas`
 * (except apimachinery), so resolve the package root through its main entry and join the path.
 */
function resolveSchemaModule(moduleName: string): string {
    const i = moduleName.indexOf("/_schemas/");
    const pkgName = moduleName.slice(0, i);
    const root = path.dirname(require.resolve(pkgName));
    return path.join(root, `${moduleName.slice(i + 1)}.js`);
}

const compiledCache = new Map<string, CompiledFn>();
function compiled(moduleName: string): CompiledFn {
    let fn = compiledCache.get(moduleName);
    if (!fn) {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        fn = require(resolveSchemaModule(moduleName)).validate as CompiledFn;
        if (typeof fn !== "function") throw new Error(`${moduleName} exports no validate function`);
        compiledCache.set(moduleName, fn);
    }
    return fn;
}

function validatePackageKind(entry: PackageEntry, obj: Record<string, unknown>): string[] {
    const problems: string[] = [];
    // 1. the package's own validate() (the model class)
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const Model = require(entry.model[0])[entry.model[1]] as ModelCtor;
    try {
        new Model(obj).validate();
    } catch (e) {
        const errors = (e as { errors?: ErrorObject[] }).errors;
        if (!errors) throw e;
        problems.push(...ajvProblems(errors, obj));
    }
    // 2. unknown fields, by the reads of the same compiled validator
    problems.push(...unknownFieldsByReads(compiled(entry.schema), obj));
    return problems;
}

// ---------------------------------------------------------------- fixture kinds (JSON schemas)

type Schema = Record<string, unknown>;
interface LoadedFixture {
    schema: Schema;
    validate: ValidateFunction;
    source: string;
}

let ajv: Ajv | undefined;
const fixtureCache = new Map<string, LoadedFixture>();

function loadFixture(file: string): LoadedFixture {
    let fx = fixtureCache.get(file);
    if (!fx) {
        const json = JSON.parse(fs.readFileSync(path.join(CRD_DIR, file), "utf8")) as { openAPIV3Schema: Schema; source: string };
        ajv ??= new Ajv({ strict: false, allErrors: true, validateFormats: false });
        fx = { schema: json.openAPIV3Schema, validate: ajv.compile(json.openAPIV3Schema), source: json.source };
        fixtureCache.set(file, fx);
    }
    return fx;
}

function resolveRef(schema: Schema, root: Schema): Schema {
    let s = schema;
    for (let i = 0; i < 20 && typeof s.$ref === "string"; i++) {
        const ref = s.$ref;
        if (!ref.startsWith("#/")) throw new Error(`unsupported $ref ${ref}`);
        let cur: unknown = root;
        for (const part of ref.slice(2).split("/")) cur = (cur as Schema)?.[part.replace(/~1/g, "/").replace(/~0/g, "~")];
        if (!isPlainObject(cur)) throw new Error(`unresolvable $ref ${ref}`);
        s = cur;
    }
    return s;
}

/** Properties declared by a schema and its allOf/anyOf/oneOf branches (union: lenient on branches). */
function collect(schema: Schema, root: Schema): { props: Record<string, Schema[]>; additional: Schema[]; open: boolean } {
    const s = resolveRef(schema, root);
    const out = { props: {} as Record<string, Schema[]>, additional: [] as Schema[], open: false };
    if (s["x-kubernetes-preserve-unknown-fields"] === true || s["x-kubernetes-embedded-resource"] === true) out.open = true;
    if (s.additionalProperties === true) out.open = true;
    else if (isPlainObject(s.additionalProperties)) out.additional.push(s.additionalProperties);
    if (isPlainObject(s.properties)) {
        for (const [k, v] of Object.entries(s.properties as Record<string, Schema>)) (out.props[k] ??= []).push(v);
    }
    for (const key of ["allOf", "anyOf", "oneOf"]) {
        for (const branch of (s[key] as Schema[] | undefined) ?? []) {
            const b = collect(branch, root);
            out.open ||= b.open;
            out.additional.push(...b.additional);
            for (const [k, v] of Object.entries(b.props)) (out.props[k] ??= []).push(...v);
        }
    }
    return out;
}

function structuralUnknowns(value: unknown, schemas: Schema[], root: Schema, segs: Seg[], out: string[]): void {
    if (schemas.length === 0) return;
    const resolved = schemas.map((s) => resolveRef(s, root));
    if (resolved.some((s) => s["x-kubernetes-int-or-string"] === true)) return;
    if (Array.isArray(value)) {
        const items = resolved.flatMap((s) => (isPlainObject(s.items) ? [s.items as Schema] : []));
        value.forEach((el, i) => structuralUnknowns(el, items, root, [...segs, i], out));
        return;
    }
    if (!isPlainObject(value)) return;
    const parts = resolved.map((s) => collect(s, root));
    const hasStructure = parts.some((p) => p.open || p.additional.length > 0 || Object.keys(p.props).length > 0);
    if (!hasStructure) {
        // `type: object` with nothing declared: the API server prunes every field. Report them.
        if (resolved.some((s) => s.type === "object")) {
            for (const k of Object.keys(value)) out.push(`${formatPath([...segs, k])}: unknown field`);
        }
        return;
    }
    const open = parts.some((p) => p.open);
    for (const [k, v] of Object.entries(value)) {
        const known = parts.flatMap((p) => p.props[k] ?? []);
        if (known.length > 0) {
            structuralUnknowns(v, known, root, [...segs, k], out);
            continue;
        }
        const additional = parts.flatMap((p) => p.additional);
        if (additional.length > 0) {
            structuralUnknowns(v, additional, root, [...segs, k], out);
            continue;
        }
        if (!open) out.push(`${formatPath([...segs, k])}: unknown field`);
    }
}

function validateFixtureKind(entry: FixtureEntry, obj: Record<string, unknown>): string[] {
    const fx = loadFixture(entry.file);
    const problems: string[] = [];
    if (!fx.validate(obj)) problems.push(...ajvProblems(fx.validate.errors, obj));
    const { metadata, ...rest } = obj;
    structuralUnknowns(rest, [fx.schema], fx.schema, [], problems);
    if (metadata !== undefined) {
        const meta = compiled(OBJECT_META_SCHEMA);
        if (!meta(metadata)) problems.push(...ajvProblems(meta.errors, metadata, ["metadata"]));
        problems.push(...unknownFieldsByReads(meta, metadata, ["metadata"]));
    }
    return problems;
}

// ---------------------------------------------------------------- entry point

/**
 * Validates one Kubernetes object (plain JSON, e.g. a rendered manifest or Pulumi resource inputs).
 * Returns problems as "<path>: <message>", sorted and de-duplicated; empty = valid.
 */
export function validateObject(obj: unknown): string[] {
    if (!isPlainObject(obj)) return ["(root): must be an object"];
    const { apiVersion, kind } = obj;
    if (typeof apiVersion !== "string" || typeof kind !== "string") {
        return ["(root): apiVersion and kind must be strings"];
    }
    const entry = REGISTRY[`${apiVersion} ${kind}`];
    if (!entry) {
        return [`(root): no schema for apiVersion "${apiVersion}" kind "${kind}" (known: ${supportedKinds().join(", ")})`];
    }
    const problems = entry.type === "package" ? validatePackageKind(entry, obj) : validateFixtureKind(entry, obj);
    return [...new Set(problems)].sort();
}
