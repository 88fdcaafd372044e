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
import { StackConfigFile, readStackConfigFiles } from "../lib/render";
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

/** Reads what the checks need, as the plan derived from the configuration says. */
export function readSnapshot(k: Kubectl, cfg: PiclusterConfig): ClusterSnapshot {
    const plan = checkPlan(cfg);
    const objects: Obj[] = [];
    const unservedTypes: string[] = [];
    const items = (text: string): Obj[] => (text.trim() ? listAt(JSON.parse(text), "items").filter(isObj) : []);

    objects.push(...items(k.read(["get", "namespaces", "-o", "json"])));
    // One line per CRD: name, then version=served pairs.
    const crds: CrdInfo[] = k
        .read(["get", "crd", "-o", `jsonpath={range .items[*]}{.metadata.name}{"\\t"}{range .spec.versions[*]}{.name}={.served},{end}{"\\n"}{end}`])
        .split("\n")
        .filter((l) => l.trim())
        .map((l) => {
            const [name, versions = ""] = l.split("\t");
            const served = versions
                .split(",")
                .filter((v) => v.endsWith("=true"))
                .map((v) => v.slice(0, -"=true".length));
            return { name, servedVersions: served };
        });
    const release = k.read([
        "-n",
        LINKERD_NAMESPACE,
        "get",
        "secret",
        "-l",
        "owner=helm,name=linkerd-crds,status=deployed",
        "-o",
        `jsonpath={range .items[*]}{.data.release}{"\\n"}{end}`,
    ]);
    const records = release.split("\n").filter((l) => l.trim());
    const releaseCrds = records.length > 0 ? crdsInHelmRelease(records[records.length - 1]) : undefined;

    const workloads = "deployments.apps,daemonsets.apps,statefulsets.apps,replicasets.apps,pods,jobs.batch,cronjobs.batch";
    const listed = new Set<string>();
    const listNamespace = (ns: string) => {
        if (listed.has(ns)) return;
        listed.add(ns);
        objects.push(...items(k.read(["-n", ns, "get", workloads, "-o", "json"])));
    };
    plan.workloadNamespaces.forEach(listNamespace);
    for (const selector of plan.podSelectorsAllNamespaces) {
        const labels = Object.entries(selector)
            .map(([a, b]) => `${a}=${b}`)
            .join(",");
        const pods = items(k.read(["get", "pods", "-A", "-l", labels, "-o", "json"]));
        // Their namespaces whole, for the owners `--restart` rolls.
        for (const ns of new Set(pods.map((p) => namespaceOf(p)))) listNamespace(ns);
    }
    for (const cm of plan.configMaps) {
        objects.push(...items(`{"items":[${k.read(["-n", cm.namespace, "get", "configmap", cm.name, "--ignore-not-found", "-o", "json"]).trim()}]}`));
    }
    const secrets: Record<string, Record<string, string>> = {};
    for (const s of plan.secrets) {
        const data: Record<string, string> = {};
        for (const key of s.keys) {
            // Only the named key leaves the cluster: never the Secret's private key.
            const r = k.run(["-n", s.namespace, "get", "secret", s.name, "-o", `go-template={{index .data "${key}"}}`]);
            if (r.code !== 0) {
                if (NOT_FOUND.test(r.stderr)) break;
                throw new CannotRun(`cannot read Secret ${s.namespace}/${s.name}: ${r.stderr}`);
            }
            const value = r.stdout.trim();
            if (value && value !== "<no value>") data[key] = Buffer.from(value, "base64").toString("utf8");
        }
        secrets[`${s.namespace}/${s.name}`] = data;
    }
    for (const cr of plan.customResources) {
        const r = k.run(["-n", cr.namespace, "get", cr.type, "-o", "json"]);
        if (r.code === 0) objects.push(...items(r.stdout));
        else if (UNSERVED.test(r.stderr)) unservedTypes.push(cr.type);
        else throw new CannotRun(`kubectl -n ${cr.namespace} get ${cr.type} failed: ${r.stderr}`);
    }
    return { objects, crds, releaseCrds, secrets, unservedTypes };
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

export function main(argv: string[], out: (s: string) => void, err: (s: string) => void, now: () => Date = () => new Date()): number {
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
        const ready = k.run(["get", "--raw", "/readyz"]);
        if (ready.code !== 0) {
            throw new CannotRun(
                `cannot reach the cluster (context ${target.context} of kubeconfig ${target.kubeconfigPath}; ${PROJECT}:kubernetes.*, --kubeconfig, --context): ${ready.stderr}`,
            );
        }
        const snapshot = readSnapshot(k, cfg);
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
    process.exitCode = main(
        process.argv.slice(2),
        (s) => process.stdout.write(s + "\n"),
        (s) => process.stderr.write(s + "\n"),
    );
}
