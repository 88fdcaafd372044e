/**
 * npm run check -- [--stack picluster] [--stack-file <file>] [--kubeconfig <file>] [--context <name>] [--json] [--restart]
 *
 * Proves the mesh works after `pulumi up`, on the cluster the stack targets: reads the stack's
 * configuration offline (Pulumi.<stack>.yaml, validated as the program validates it), reads the live
 * objects with kubectl pinned to the same kubeconfig and context as the program, and runs the checks
 * of check/. A table for people, `--json` for machines. `--restart` rolls the owners of running
 * pods that lack the proxy (never done without it).
 */
import { spawnSync } from "child_process";
import * as path from "path";
import { gunzipSync } from "zlib";
import { parseAllDocuments } from "yaml";
import { CommandSpec, commandLine } from "./args";
import { ConfigError, PROJECT, PiclusterConfig, STRUCTURED_KEYS, loadConfig } from "../lib/config";
import type { RawStackConfig } from "../lib/config";
import { resolveKubeTarget } from "../lib/kubeconfig";
import { LINKERD_NAMESPACE, get, isObj, listAt, namespaceOf } from "../lib/k8s";
import { StackConfigFile, readStackConfigFiles } from "../lib/config/stackFile";
import { KubeProxy, apiMessage } from "./kubeProxy";
import { CheckResult, ClusterSnapshot, CrdInfo, Obj, checkPlan, exitCodeOf, formatJson, formatTable, restartTargets, runChecks } from "../check";

export const CHECK_COMMAND: CommandSpec = {
    usage: "npm run check --",
    summary:
        "Checks the live cluster the stack targets after `pulumi up`: CRDs, linkerd-config and control-plane Deployments; the trust " +
        "anchor and issuer certificates (ECDSA P-256, validity, issuer signed by the anchor, the anchor the program used, time left); " +
        "running pods without the proxy in meshed namespaces and workloads, the ingress controller's proxy mode, Jobs/CronJobs against " +
        "the policy rules; viz/jaeger, PodMonitors and dashboards; Longhorn's POD_IP and inject annotations. Prints each check, and the " +
        "fix for each warning and failure. Reads the cluster only, except with --restart.",
    options: {
        stack: { type: "string", value: "<name>", default: "picluster", help: "Stack whose Pulumi.<name>.yaml is read (default picluster)." },
        "stack-file": { type: "string", value: "<file>", help: "A stack file elsewhere (default Pulumi.<stack>.yaml of this project)." },
        kubeconfig: { type: "string", value: "<file>", help: "Use this kubeconfig instead of the stack's kubernetes.kubeconfig." },
        context: { type: "string", value: "<name>", help: "Use this context instead of the stack's kubernetes.context." },
        json: { type: "boolean", default: false, help: "Print the results as JSON (status ok|warn|fail, message, fix per check)." },
        restart: {
            type: "boolean",
            default: false,
            help: "Roll (kubectl rollout restart) the Deployments/StatefulSets/DaemonSets owning running pods without the proxy.",
        },
    },
    exitCodes: {
        0: "every check passed (warnings allowed)",
        1: "at least one check failed",
        2: "cannot run: bad usage, invalid stack configuration, kubectl missing, or the cluster unreachable; nothing was checked",
    },
};

/** Cannot check at all (exit 2). */
export class CannotRun extends Error {}

/** The raw configuration from the stack file, as the engine would hand it to the program (secrets are not needed). */
export function rawConfigFromStackFile(file: StackConfigFile): RawStackConfig {
    const values: Record<string, unknown> = {};
    const presentKeys: string[] = [];
    for (const [key, text] of Object.entries(file.config)) {
        if (!key.startsWith(`${PROJECT}:`)) continue;
        const name = key.slice(PROJECT.length + 1);
        presentKeys.push(name);
        if (!(STRUCTURED_KEYS as readonly string[]).includes(name)) continue;
        try {
            values[name] = JSON.parse(text);
        } catch {
            values[name] = text; // the schema reports it, naming the key
        }
    }
    return {
        values,
        presentKeys,
        provider: { kubeconfig: file.config["kubernetes:kubeconfig"], context: file.config["kubernetes:context"] },
    };
}

/** kubectl pinned to the stack's kubeconfig and context. */
export class Kubectl {
    constructor(
        readonly binary: string,
        readonly kubeconfig: string,
        readonly context: string,
    ) {}

    run(args: string[], input?: string): { code: number; stdout: string; stderr: string } {
        const res = spawnSync(this.binary, ["--kubeconfig", this.kubeconfig, "--context", this.context, ...args], {
            encoding: "utf8",
            input,
            maxBuffer: 512 * 1024 * 1024,
        });
        if (res.error) {
            const code = (res.error as NodeJS.ErrnoException).code;
            throw new CannotRun(
                code === "ENOENT"
                    ? `kubectl not found: "${this.binary}" is not an executable file or on PATH (set ${PROJECT}:longhorn.kubectl)`
                    : `kubectl failed to start: ${res.error.message}`,
            );
        }
        return { code: res.status ?? 1, stdout: res.stdout, stderr: res.stderr.trim() };
    }

    /** Output of a read that must succeed. */
    read(args: string[]): string {
        const r = this.run(args);
        if (r.code !== 0) throw new CannotRun(`kubectl ${args.join(" ")} failed: ${r.stderr}`);
        return r.stdout;
    }
}

const NOT_FOUND = /NotFound|not found/;
const UNSERVED = /doesn't have a resource type|the server could not find the requested resource/;

/** CRD names in a Helm release record (Secret data `release`: base64 of gzip'd JSON, as Helm 3 stores it). */
export function crdsInHelmRelease(releaseData: string): string[] {
    let raw = Buffer.from(releaseData, "base64");
    if (raw[0] !== 0x1f) raw = Buffer.from(raw.toString("utf8"), "base64"); // kubectl's base64 around Helm's base64
    const release = JSON.parse((raw[0] === 0x1f ? gunzipSync(raw) : raw).toString("utf8")) as { manifest?: string };
    const names: string[] = [];
    for (const doc of parseAllDocuments(release.manifest ?? "")) {
        const o = doc.toJS() as Obj | null;
        const name = get(o, "metadata", "name");
        if (o?.kind === "CustomResourceDefinition" && typeof name === "string") names.push(name);
    }
    return names;
}

/**
 * The reads the check makes, by what they read (not how): the same snapshot logic runs on kubectl
 * processes (`readSnapshot`, one process per read) and on one API client (`readSnapshotThroughApi`).
 */
export interface SnapshotReads {
    namespaces(): Obj[];
    crds(): CrdInfo[];
    /** `data.release` of the deployed linkerd-crds Helm release records, oldest first. */
    linkerdCrdsReleaseRecords(): string[];
    /** Deployments, DaemonSets, StatefulSets, ReplicaSets, Pods, Jobs and CronJobs of a namespace. */
    workloads(namespace: string): Obj[];
    /** Pods of every namespace with these labels. */
    pods(selector: Readonly<Record<string, string>>): Obj[];
    configMap(namespace: string, name: string): Obj | undefined;
    /** The named keys of a Secret (decoded), or undefined when the Secret does not exist. Never any other key. */
    secretKeys(namespace: string, name: string, keys: readonly string[]): Record<string, string> | undefined;
    /** The custom resources of a type (`<plural>.<group>`) in a namespace, or "unserved" when the API server does not serve the type. */
    customResources(namespace: string, type: string): Obj[] | "unserved";
}

const WORKLOADS = "deployments.apps,daemonsets.apps,statefulsets.apps,replicasets.apps,pods,jobs.batch,cronjobs.batch";

/** The snapshot from the reads, as the plan derived from the configuration says. */
export function snapshotFrom(reads: SnapshotReads, cfg: PiclusterConfig): ClusterSnapshot {
    const plan = checkPlan(cfg);
    const objects: Obj[] = [...reads.namespaces()];
    const unservedTypes: string[] = [];
    const crds = reads.crds();
    const records = reads.linkerdCrdsReleaseRecords();
    const releaseCrds = records.length > 0 ? crdsInHelmRelease(records[records.length - 1]) : undefined;
    const listed = new Set<string>();
    const listNamespace = (ns: string) => {
        if (listed.has(ns)) return;
        listed.add(ns);
        objects.push(...reads.workloads(ns));
    };
    plan.workloadNamespaces.forEach(listNamespace);
    for (const selector of plan.podSelectorsAllNamespaces) {
        // Their namespaces whole, for the owners `--restart` rolls.
        for (const ns of new Set(reads.pods(selector).map((p) => namespaceOf(p)))) listNamespace(ns);
    }
    for (const cm of plan.configMaps) {
        const found = reads.configMap(cm.namespace, cm.name);
        if (found) objects.push(found);
    }
    const secrets: Record<string, Record<string, string>> = {};
    for (const s of plan.secrets) secrets[`${s.namespace}/${s.name}`] = reads.secretKeys(s.namespace, s.name, s.keys) ?? {};
    for (const cr of plan.customResources) {
        const r = reads.customResources(cr.namespace, cr.type);
        if (r === "unserved") unservedTypes.push(cr.type);
        else objects.push(...r);
    }
    return { objects, crds, releaseCrds, secrets, unservedTypes };
}

const itemsOf = (text: string): Obj[] => (text.trim() ? listAt(JSON.parse(text), "items").filter(isObj) : []);

/** The reads as kubectl processes, one per read. */
export function kubectlReads(k: Kubectl): SnapshotReads {
    return {
        namespaces: () => itemsOf(k.read(["get", "namespaces", "-o", "json"])),
        // One line per CRD: name, then version=served pairs.
        crds: () =>
            k
                .read([
                    "get",
                    "crd",
                    "-o",
                    `jsonpath={range .items[*]}{.metadata.name}{"\\t"}{range .spec.versions[*]}{.name}={.served},{end}{"\\n"}{end}`,
                ])
                .split("\n")
                .filter((l) => l.trim())
                .map((l) => {
                    const [name, versions = ""] = l.split("\t");
                    const served = versions
                        .split(",")
                        .filter((v) => v.endsWith("=true"))
                        .map((v) => v.slice(0, -"=true".length));
                    return { name, servedVersions: served };
                }),
        linkerdCrdsReleaseRecords: () =>
            k
                .read([
                    "-n",
                    LINKERD_NAMESPACE,
                    "get",
                    "secret",
                    "-l",
                    "owner=helm,name=linkerd-crds,status=deployed",
                    "-o",
                    `jsonpath={range .items[*]}{.data.release}{"\\n"}{end}`,
                ])
                .split("\n")
                .filter((l) => l.trim()),
        workloads: (ns) => itemsOf(k.read(["-n", ns, "get", WORKLOADS, "-o", "json"])),
        pods: (selector) => itemsOf(k.read(["get", "pods", "-A", "-l", labelSelector(selector), "-o", "json"])),
        configMap: (ns, name) => itemsOf(`{"items":[${k.read(["-n", ns, "get", "configmap", name, "--ignore-not-found", "-o", "json"]).trim()}]}`)[0],
        secretKeys: (ns, name, keys) => {
            const data: Record<string, string> = {};
            for (const key of keys) {
                // Only the named key leaves kubectl: never the Secret's private key.
                const r = k.run(["-n", ns, "get", "secret", name, "-o", `go-template={{index .data "${key}"}}`]);
                if (r.code !== 0) {
                    if (NOT_FOUND.test(r.stderr)) return data;
                    throw new CannotRun(`cannot read Secret ${ns}/${name}: ${r.stderr}`);
                }
                const value = r.stdout.trim();
                if (value && value !== "<no value>") data[key] = Buffer.from(value, "base64").toString("utf8");
            }
            return data;
        },
        customResources: (ns, type) => {
            const r = k.run(["-n", ns, "get", type, "-o", "json"]);
            if (r.code === 0) return itemsOf(r.stdout);
            if (UNSERVED.test(r.stderr)) return "unserved";
            throw new CannotRun(`kubectl -n ${ns} get ${type} failed: ${r.stderr}`);
        },
    };
}

const labelSelector = (selector: Readonly<Record<string, string>>): string =>
    Object.entries(selector)
        .map(([a, b]) => `${a}=${b}`)
        .join(",");

/** Reads what the checks need with kubectl, one process per read (see `readSnapshotThroughApi` for one client). */
export function readSnapshot(k: Kubectl, cfg: PiclusterConfig): ClusterSnapshot {
    return snapshotFrom(kubectlReads(k), cfg);
}

/** Workload lists of a namespace: API path prefix, plural, the kind of its items. */
const WORKLOAD_LISTS: readonly [string, string, string][] = [
    ["/apis/apps/v1", "deployments", "Deployment"],
    ["/apis/apps/v1", "daemonsets", "DaemonSet"],
    ["/apis/apps/v1", "statefulsets", "StatefulSet"],
    ["/apis/apps/v1", "replicasets", "ReplicaSet"],
    ["/api/v1", "pods", "Pod"],
    ["/apis/batch/v1", "jobs", "Job"],
    ["/apis/batch/v1", "cronjobs", "CronJob"],
];

/** Kubernetes' version priority (v1 > v1beta2 > v1beta1 > v1alpha1), the version kubectl reads a type at. */
export function preferredVersion(versions: readonly string[]): string | undefined {
    const rank = (v: string): [number, number, number] => {
        const m = /^v(\d+)(?:(beta|alpha)(\d+))?$/.exec(v);
        if (!m) return [0, 0, 0];
        return [m[2] === undefined ? 3 : m[2] === "beta" ? 2 : 1, Number(m[1]), Number(m[3] ?? 0)];
    };
    return [...versions].sort((a, b) => {
        const [x, y] = [rank(a), rank(b)];
        return y[0] - x[0] || y[1] - x[1] || y[2] - x[2];
    })[0];
}

/**
 * Reads what the checks need through one API client (`kubectl proxy`, cli/kubeProxy.ts), every read
 * of a round at once: the snapshot logic runs on what has been read, each read it asks for and is not
 * there yet is fetched (all together), and it runs again, until it asks for nothing new (two or three
 * rounds: the pods found by label name the namespaces listed next). Secrets are read whole by the API
 * and only the named keys kept: the private key is dropped on arrival, never stored or printed.
 */
export async function readSnapshotThroughApi(proxy: Pick<KubeProxy, "get">, cfg: PiclusterConfig): Promise<ClusterSnapshot> {
    const fetchJson = async (apiPath: string, what: string, missing?: number[]): Promise<unknown> => {
        const r = await proxy.get(apiPath);
        if (r.status >= 200 && r.status < 300) return JSON.parse(r.body) as unknown;
        if (missing?.includes(r.status)) return undefined;
        throw new CannotRun(`cannot read ${what} (GET ${apiPath}: ${r.status}): ${apiMessage(r)}`);
    };
    const list = async (apiPath: string, what: string, kind: string, apiVersion: string): Promise<Obj[]> =>
        listAt(await fetchJson(apiPath, what), "items")
            .filter(isObj)
            .map((o) => ({ apiVersion, kind, ...o }));
    let crdList: Promise<Obj[]> | undefined;
    const crdObjects = () =>
        (crdList ??= list("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", "CRDs", "CustomResourceDefinition", "apiextensions.k8s.io/v1"));
    const servedOf = (crd: Obj): string[] =>
        listAt(get(crd, "spec"), "versions")
            .filter((v) => isObj(v) && v.served === true)
            .map((v) => String((v as Obj).name));
    const q = encodeURIComponent;
    const fetchers: { [K in keyof SnapshotReads]: (...args: Parameters<SnapshotReads[K]>) => Promise<ReturnType<SnapshotReads[K]>> } = {
        namespaces: () => list("/api/v1/namespaces", "namespaces", "Namespace", "v1"),
        crds: async () => (await crdObjects()).map((c) => ({ name: String(get(c, "metadata", "name")), servedVersions: servedOf(c) })),
        linkerdCrdsReleaseRecords: async () =>
            (
                await list(
                    `/api/v1/namespaces/${LINKERD_NAMESPACE}/secrets?labelSelector=${q("owner=helm,name=linkerd-crds,status=deployed")}`,
                    "the linkerd-crds Helm release",
                    "Secret",
                    "v1",
                )
            )
                .map((o) => get(o, "data", "release"))
                .filter((r): r is string => typeof r === "string"),
        workloads: async (ns) =>
            (
                await Promise.all(
                    WORKLOAD_LISTS.map(([prefix, plural, kind]) =>
                        list(`${prefix}/namespaces/${q(ns)}/${plural}`, `${plural} in ${ns}`, kind, prefix.replace(/^\/apis?\//, "")),
                    ),
                )
            ).flat(),
        pods: (selector) => list(`/api/v1/pods?labelSelector=${q(labelSelector(selector))}`, "pods", "Pod", "v1"),
        configMap: async (ns, name) => {
            const o = await fetchJson(`/api/v1/namespaces/${q(ns)}/configmaps/${q(name)}`, `ConfigMap ${ns}/${name}`, [404]);
            return isObj(o) ? { apiVersion: "v1", kind: "ConfigMap", ...o } : undefined;
        },
        secretKeys: async (ns, name, keys) => {
            const secret = await fetchJson(`/api/v1/namespaces/${q(ns)}/secrets/${q(name)}`, `Secret ${ns}/${name}`, [404]);
            if (secret === undefined) return undefined;
            const data: Record<string, string> = {};
            for (const key of keys) {
                const value = get(secret, "data", key);
                if (typeof value === "string" && value) data[key] = Buffer.from(value, "base64").toString("utf8");
            }
            return data;
        },
        customResources: async (ns, type) => {
            const crd = (await crdObjects()).find((c) => get(c, "metadata", "name") === type);
            const version = crd && preferredVersion(servedOf(crd));
            if (!crd || !version) return "unserved";
            const [plural, ...group] = type.split(".");
            const kind = String(get(crd, "spec", "names", "kind"));
            return list(
                `/apis/${group.join(".")}/${version}/namespaces/${q(ns)}/${plural}`,
                `${type} in ${ns}`,
                kind,
                `${group.join(".")}/${version}`,
            );
        },
    };
    const done = new Map<string, unknown>();
    for (let round = 0; round < 10; round++) {
        const wanted = new Map<string, () => Promise<unknown>>();
        const reads = Object.fromEntries(
            (Object.keys(fetchers) as (keyof SnapshotReads)[]).map((name) => [
                name,
                (...args: unknown[]) => {
                    const key = JSON.stringify([name, ...args]);
                    if (done.has(key)) return done.get(key);
                    wanted.set(key, () => (fetchers[name] as (...a: unknown[]) => Promise<unknown>)(...args));
                    // A stand-in answer while it is fetched: this round's result is thrown away.
                    return name === "configMap" || name === "secretKeys" ? undefined : [];
                },
            ]),
        ) as unknown as SnapshotReads;
        const snapshot = snapshotFrom(reads, cfg);
        if (wanted.size === 0) return snapshot;
        const keys = [...wanted.keys()];
        const values = await Promise.all(keys.map((k) => wanted.get(k)!()));
        keys.forEach((k, i) => done.set(k, values[i]));
    }
    throw new Error("the check's reads did not settle");
}

/** Loads and validates the stack configuration; the command line's cluster overrides win. */
export function loadCheckConfig(values: { stack: string; "stack-file"?: string; kubeconfig?: string; context?: string }): PiclusterConfig {
    const projectDir = path.resolve(__dirname, "..");
    let file: StackConfigFile;
    try {
        file = readStackConfigFiles(projectDir, values.stack, values["stack-file"] && path.resolve(values["stack-file"]));
    } catch (e) {
        throw new CannotRun((e as Error).message);
    }
    let cfg: PiclusterConfig;
    try {
        cfg = loadConfig(rawConfigFromStackFile(file));
    } catch (e) {
        if (e instanceof ConfigError) throw new CannotRun(e.message);
        throw e;
    }
    if (values.kubeconfig !== undefined || values.context !== undefined) {
        const target = resolveKubeTarget({
            kubeconfig: values.kubeconfig ?? cfg.kubernetes.kubeconfigPath,
            // A new kubeconfig without --context uses its own current-context.
            context: values.context ?? (values.kubeconfig === undefined ? cfg.kubernetes.context : undefined),
        });
        cfg = { ...cfg, kubernetes: { ...cfg.kubernetes, ...target } };
    }
    return cfg;
}

/**
 * What the checks need, read through one API client (`kubectl proxy` with `k`'s kubectl, kubeconfig and
 * context) started for the purpose and stopped after: what `npm run check` and each upgrade hop read.
 * The kubectl-per-read `readSnapshot` gives the same snapshot, slower.
 */
export async function readSnapshotWithProxy(k: Kubectl, cfg: PiclusterConfig): Promise<ClusterSnapshot> {
    const proxy = await startProxy(k);
    try {
        return await readSnapshotThroughApi(proxy, cfg);
    } finally {
        proxy.stop();
    }
}

/** The one API client of the check: `kubectl proxy` with the stack's kubectl, kubeconfig and context. */
async function startProxy(k: Kubectl): Promise<KubeProxy> {
    try {
        return await KubeProxy.start(k.binary, k.kubeconfig, k.context);
    } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === "ENOENT" || code === "EACCES")
            throw new CannotRun(`kubectl not found: "${k.binary}" is not an executable file or on PATH (set ${PROJECT}:longhorn.kubectl)`);
        throw e;
    }
}

export async function main(argv: string[], out: (s: string) => void, err: (s: string) => void, now: () => Date = () => new Date()): Promise<number> {
    const { values } = commandLine<{
        stack: string;
        "stack-file"?: string;
        kubeconfig?: string;
        context?: string;
        json: boolean;
        restart: boolean;
    }>("check", CHECK_COMMAND, argv);
    try {
        const cfg = loadCheckConfig(values);
        const target = cfg.kubernetes;
        if (!target.context) {
            throw new CannotRun(
                `no Kubernetes context: kubeconfig ${target.kubeconfigPath} is missing or has no current-context (set ${PROJECT}:kubernetes.context, or pass --context)`,
            );
        }
        const k = new Kubectl(cfg.longhorn.kubectl, target.kubeconfigPath, target.context);
        const unreachable = (why: string) =>
            new CannotRun(
                `cannot reach the cluster (context ${target.context} of kubeconfig ${target.kubeconfigPath}; ${PROJECT}:kubernetes.*, --kubeconfig, --context): ${why}`,
            );
        const proxy = await startProxy(k).catch((e: Error) => {
            throw e instanceof CannotRun ? e : unreachable(e.message);
        });
        let snapshot: ClusterSnapshot;
        try {
            const ready = await proxy.get("/readyz");
            if (ready.status !== 200) throw unreachable(apiMessage(ready));
            snapshot = await readSnapshotThroughApi(proxy, cfg);
        } finally {
            proxy.stop();
        }
        const results: CheckResult[] = runChecks(snapshot, { config: cfg, stack: values.stack, now: now() });
        const restarted: string[] = [];
        const restartErrors: string[] = [];
        if (values.restart) {
            for (const t of restartTargets(results)) {
                const [kind, ns, name] = t.split("/");
                const r = k.run(["-n", ns, "rollout", "restart", `${kind.toLowerCase()}/${name}`]);
                if (r.code === 0) restarted.push(t);
                else restartErrors.push(`${t}: ${r.stderr}`);
            }
        }
        const meta = { stack: values.stack, kubeconfig: target.kubeconfigPath, context: target.context, linkerd: cfg.linkerd.release.version };
        if (values.json) {
            out(formatJson(results, { ...meta, ...(values.restart ? { restarted, restartErrors } : {}) }));
        } else {
            out(`npm run check: stack ${values.stack}, context ${target.context} (kubeconfig ${target.kubeconfigPath}), Linkerd ${meta.linkerd}\n`);
            out(formatTable(results));
            if (values.restart) {
                out(
                    restarted.length > 0
                        ? `restarted: ${restarted.join(", ")} (run the check again once they have rolled out)`
                        : "restarted: nothing to restart",
                );
            } else if (restartTargets(results).length > 0) {
                out(`--restart would roll: ${restartTargets(results).join(", ")}`);
            }
        }
        for (const e of restartErrors) err(`check: restart failed: ${e}`);
        return exitCodeOf(results);
    } catch (e) {
        if (e instanceof CannotRun) {
            err(`check: ${e.message}`);
            // Machines read stdout: with --json they get the reason too, in the same shape (exitCode, no results).
            if (values.json) out(JSON.stringify({ stack: values.stack, exitCode: 2, error: e.message, results: [] }, null, 2));
            return 2;
        }
        throw e;
    }
}

if (require.main === module) {
    void main(
        process.argv.slice(2),
        (s) => process.stdout.write(s + "\n"),
        (s) => process.stderr.write(s + "\n"),
    ).then((code) => (process.exitCode = code));
}
