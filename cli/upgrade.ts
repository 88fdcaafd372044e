/**
 * npm run upgrade -- --stack <s> --to <version> [--stack-file <file>] [--dry-run]
 *
 * Upgrades the Linkerd of a stack one major at a time (lib/upgrade/plan.ts), with the stack's own
 * program and backend (Pulumi Automation API): reads what runs now (linkerd-config, each meshed pod's
 * proxy version), prints the plan of hops with each hop's hazards, then per hop writes the hop's
 * release into the stack file, runs `pulumi up`, restarts the meshed workloads whose proxies are
 * older (one at a time, waiting for each rollout and for any PodDisruptionBudget to allow it), checks
 * that every meshed pod runs the hop's proxy, and runs `npm run check`'s checks. It stops at the first
 * failure with the cluster at a consistent hop and prints the command that resumes; run again, it
 * starts from what runs then (a second run after success says there is nothing to do).
 * `--dry-run` previews every hop (`pulumi preview` of each hop's release) and changes nothing.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Stack } from "@pulumi/pulumi/automation";
import { isNode } from "yaml";
import { CommandSpec, commandLine } from "./args";
import {
    Io,
    editStackFile,
    ownersOfPods,
    restartOwners,
    selectStack,
    runAsCommand,
    upFailure,
    upWithStackFile,
    wasInterrupted,
    failedByInterrupt,
} from "./dayTwo";
import { CannotRun, Kubectl, loadCheckConfig, readSnapshotWithProxy } from "./check";
import { exitCodeOf, formatTable, runChecks } from "../check";
import { ClusterAccess, ClusterReader, kubectlClusterReader, liveCrd } from "../lib/cluster";
import { GATEWAY_API_CRDS } from "../lib/gatewayApi";
import { PROJECT, PiclusterConfig } from "../lib/config";
import { get, isObj, listAt, str } from "../lib/k8s";
import { LinkerdRelease, resolveRelease } from "../lib/release";
import { hopDiff } from "../lib/upgrade/hopDiff";
import { Hop, UpgradePlan, formatPlan, planUpgrade } from "../lib/upgrade/plan";
import { readStackConfigFiles, renderProgram } from "../lib/render";
import { RunningLinkerd, oldestProxyMinor, podsBehind } from "../lib/upgrade/running";
import { jobsUsingShutdown } from "../lib/upgrade/jobs";
import { meshedNamespaces } from "../check";

export const UPGRADE_COMMAND: CommandSpec = {
    usage: "npm run upgrade --",
    summary:
        "Upgrades the stack's Linkerd to --to one major at a time: per hop `pulumi up` with that release (CRDs, control plane, " +
        "extensions), then the meshed workloads restarted so their proxies follow, then the check. Stops at the first failure with " +
        "the cluster at a consistent hop and the command to resume. --dry-run previews every hop and changes nothing.",
    options: {
        stack: { type: "string", value: "<name>", default: "picluster", help: "Stack to upgrade (default picluster)." },
        "stack-file": { type: "string", value: "<file>", help: "Its stack file, when kept elsewhere (default Pulumi.<stack>.yaml of this project)." },
        to: { type: "string", value: "<version>", help: 'Target release: "edge-YY.M.X" (e.g. edge-26.8.3) or "2.14.10".' },
        "dry-run": { type: "boolean", default: false, help: "Print the plan and preview every hop; change nothing." },
        "rollout-timeout": { type: "string", value: "<seconds>", default: "300", help: "How long each workload's restart may take (default 300)." },
    },
    exitCodes: {
        0: "upgraded (or nothing to do; with --dry-run: every hop previewed)",
        1: "a hop failed or needs an action first: the cluster is at a consistent hop, the message says what to do and how to resume",
        2: "cannot run: bad usage, invalid stack configuration, no control plane on the cluster, cluster unreachable; nothing was changed",
    },
};

/** A release from --to. */
export function targetRelease(to: string): LinkerdRelease {
    if (/^edge-/.test(to)) return resolveRelease("edge", to);
    return resolveRelease("stable", to.replace(/^stable-/, ""));
}

/** Writes the release into the stack file's `picluster-linkerd:linkerd` (channel, version), keeping everything else. */
export function writeRelease(stackFile: string, release: LinkerdRelease): void {
    editStackFile(stackFile, (doc, sectionKey) => {
        const node = doc.getIn(["config", sectionKey("linkerd")], true);
        const current: unknown = isNode(node) ? node.toJSON() : undefined;
        doc.setIn(["config", sectionKey("linkerd")], { ...(isObj(current) ? current : {}), channel: release.channel, version: release.version });
    });
}

/** How the stack's cluster is read: its kubeconfig, context and kubectl. */
function clusterAccessOf(cfg: PiclusterConfig): ClusterAccess {
    return { ...cfg.kubernetes, kubectl: cfg.longhorn.kubectl };
}

/** What runs now, read with the stack's own kubeconfig and context. */
async function readRunning(cfg: PiclusterConfig): Promise<RunningLinkerd> {
    const facts = await kubectlClusterReader(clusterAccessOf(cfg))([]);
    if (facts.status !== "read" || !facts.linkerd)
        throw new CannotRun(`cannot read the cluster: ${facts.status === "unread" ? facts.reason : "offline"}`);
    return facts.linkerd;
}

/** Live Jobs and CronJobs in the meshed namespaces that stop their proxy through /shutdown. */
function shutdownJobs(k: Kubectl, cfg: PiclusterConfig): string[] {
    const found: string[] = [];
    for (const ns of meshedNamespaces(cfg)) {
        const r = k.run(["-n", ns, "get", "jobs.batch,cronjobs.batch", "-o", "json"]);
        if (r.code === 0) found.push(...jobsUsingShutdown(listAt(JSON.parse(r.stdout) as unknown, "items")));
    }
    return found;
}

/** Rolls, one at a time, the owners of meshed pods whose proxy is not `proxyVersion`. Returns the owners rolled. */
async function restartBehind(k: Kubectl, running: RunningLinkerd, proxyVersion: string, timeoutSeconds: number, io: Io): Promise<string[]> {
    const behind = podsBehind(running, proxyVersion);
    const version = new Map(behind.map((p) => [p.pod, p.version]));
    const owners = ownersOfPods(
        k,
        behind.map((p) => p.pod),
        (pod) => `runs ${version.get(pod)}`,
        io,
    );
    await restartOwners(k, owners, { timeoutSeconds, io });
    return owners;
}

/**
 * Storage-version migration of the Gateway API CRDs: once their objects may be stored at the CRD's
 * storage version only (linkerd-crds from edge-25.2.3 stores HTTPRoute and GRPCRoute at v1), every
 * object is written back (read, replaced: stored at the storage version) and status.storedVersions
 * set to it, as Kubernetes documents the migration. Without it, GRPCRoute's v1alpha2 (linkerd-crds
 * 2.15-2.17) keeps Gateway API CRDs of v1.2 or later from ever replacing these (they no longer list it).
 */
function migrateGatewayApiStorage(k: Kubectl, io: Io): void {
    for (const name of [GATEWAY_API_CRDS.httpRoutes, GATEWAY_API_CRDS.grpcRoutes]) {
        const r = k.run(["get", "crd", name, "-o", "json"]);
        if (r.code !== 0) continue;
        const crd = liveCrd(JSON.parse(r.stdout) as unknown);
        const storage = listAt(JSON.parse(r.stdout) as unknown, "spec", "versions").find((v) => get(v, "storage") === true);
        const storageVersion = str(get(storage, "name"));
        if (!storageVersion || crd.storedVersions.every((v) => v === storageVersion)) continue;
        const objects = k.read(["get", name, "-A", "-o", "json"]);
        if (listAt(JSON.parse(objects) as unknown, "items").length > 0) {
            const replaced = k.run(["replace", "-f", "-"], objects);
            if (replaced.code !== 0) throw new CannotRun(`writing the ${name} objects back at ${storageVersion} failed: ${replaced.stderr}`);
        }
        k.read([
            "patch",
            "crd",
            name,
            "--subresource=status",
            "--type=merge",
            "-p",
            JSON.stringify({ status: { storedVersions: [storageVersion] } }),
        ]);
        io.out(`  ${name}: objects stored at ${storageVersion} only (was ${crd.storedVersions.join(", ")})`);
    }
}

/**
 * --dry-run: the first hop previewed for real against the cluster (`pulumi preview`); every hop shown as
 * what it changes against the hop before it, from offline renders of the stack at both releases (a
 * preview of a later hop against today's cluster would compare with the wrong release, and the
 * program refuses to skip majors).
 */
async function previewHops(
    stackName: string,
    stackFile: string,
    access: ClusterAccess,
    current: LinkerdRelease,
    plan: UpgradePlan,
    io: Io,
): Promise<number> {
    const projectDir = path.resolve(__dirname, "..");
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "picluster-upgrade-"));
    const fileAt = (release: LinkerdRelease, i: number) => {
        const file = path.join(scratch, `${i}-${path.basename(stackFile)}`);
        fs.copyFileSync(stackFile, file);
        writeRelease(file, release);
        return file;
    };
    try {
        if (plan.hops.length > 0) {
            const stack = await selectStack(stackName);
            const res = await stack.preview({ configFile: fileAt(plan.hops[0].to, 0) });
            const changes = Object.entries(res.changeSummary ?? {})
                .filter(([op, n]) => op !== "same" && n > 0)
                .map(([op, n]) => `${n} to ${op}`);
            io.out(`\npulumi preview of hop 1 (${plan.hops[0].to.version}) against the cluster: ${changes.join(", ") || "no changes"}`);
        }
        // Rendered against the Gateway API CRDs the cluster has now (who owns them decides the values), without
        // the running versions: each hop is judged from the one before it, not from today's control plane.
        const facts = await kubectlClusterReader(access)(Object.values(GATEWAY_API_CRDS));
        const known: ClusterReader = () => Promise.resolve(facts.status === "read" ? { status: "read", crds: facts.crds } : facts);
        const render = async (release: LinkerdRelease, i: number) => {
            const config = readStackConfigFiles(projectDir, stackName, fileAt(release, i));
            return (await renderProgram(path.join(projectDir, "index.ts"), config, stackName, [], known)).resources;
        };
        let before = await render(current, 100);
        for (const [i, hop] of plan.hops.entries()) {
            const after = await render(hop.to, i + 1);
            io.out(`\nhop ${i + 1}/${plan.hops.length} (${hop.to.version}) changes:`);
            for (const line of hopDiff(before, after)) io.out(`  ${line}`);
            before = after;
        }
    } finally {
        fs.rmSync(scratch, { recursive: true, force: true });
    }
    return 0;
}

/** Why a hop did not complete: what failed (a check's ID where it is one), what was found, what to do. */
interface HopFailure {
    readonly what: string;
    readonly message: string;
    readonly fix?: string;
}

/** One hop: up, restarts, proxies verified, the check. Returns what failed, or [] when the hop is done. */
async function runHop(stack: Stack, stackName: string, stackFile: string, hop: Hop, timeoutSeconds: number, io: Io): Promise<HopFailure[]> {
    writeRelease(stackFile, hop.to);
    io.out(`\nhop: ${hop.from.version} -> ${hop.to.version}: pulumi up`);
    try {
        await upWithStackFile(stack, stackFile, (s) => io.out(s.trimEnd()));
    } catch (e) {
        return [
            {
                what: `pulumi up of ${hop.to.version}`,
                message: `the update failed (the stack file already names ${hop.to.version}): ${upFailure(e)}`,
                fix: "see the output above; the next run starts again from what the cluster runs",
            },
        ];
    }
    const cfg = loadCheckConfig({ stack: stackName, "stack-file": stackFile });
    const k = new Kubectl(cfg.longhorn.kubectl, cfg.kubernetes.kubeconfigPath, cfg.kubernetes.context!);
    migrateGatewayApiStorage(k, io);
    const proxy = proxyVersionOf(hop.to);
    await restartBehind(k, await readRunning(cfg), proxy, timeoutSeconds, io);
    const behind = podsBehind(await readRunning(cfg), proxy);
    if (behind.length > 0) {
        return [
            {
                what: "proxies follow the control plane",
                message: `${behind.length} meshed pod(s) still run an older proxy after the restarts: ${behind.map((p) => `${p.pod} (${p.version})`).join(", ")}`,
                fix: "delete those pods (kubectl delete pod) so they are re-created with the new proxy, then run the upgrade again",
            },
        ];
    }
    const results = runChecks(await readSnapshotWithProxy(k, cfg), { config: cfg, stack: stackName, now: new Date() });
    io.out(`check after the hop to ${hop.to.version}:\n${formatTable(results)}`);
    return exitCodeOf(results) === 0
        ? []
        : results.filter((r) => r.status === "fail").map((r) => ({ what: `${r.id} (${r.name})`, message: r.message, fix: r.fix }));
}

/** The proxy version a release's injector writes (linkerd-config's linkerdVersion). */
export function proxyVersionOf(release: LinkerdRelease): string {
    return release.channel === "stable" ? `stable-${release.version}` : release.version;
}

export async function main(argv: string[], io: Io): Promise<number> {
    const { values } = commandLine<{ stack: string; "stack-file"?: string; to?: string; "dry-run": boolean; "rollout-timeout": string }>(
        "upgrade",
        UPGRADE_COMMAND,
        argv,
    );
    try {
        if (!values.to) throw new CannotRun("--to <version> is required (e.g. --to edge-26.8.3)");
        const timeoutSeconds = Number(values["rollout-timeout"]);
        if (!Number.isInteger(timeoutSeconds) || timeoutSeconds < 10)
            throw new CannotRun(`--rollout-timeout: expected whole seconds >= 10, got "${values["rollout-timeout"]}"`);
        let target: LinkerdRelease;
        try {
            target = targetRelease(values.to);
        } catch (e) {
            throw new CannotRun(`--to: ${(e as Error).message}`);
        }
        const projectDir = path.resolve(__dirname, "..");
        const stackFile = path.resolve(values["stack-file"] ?? path.join(projectDir, `Pulumi.${values.stack}.yaml`));
        const cfg = loadCheckConfig({ stack: values.stack, "stack-file": stackFile });
        if (!cfg.kubernetes.context) throw new CannotRun(`no Kubernetes context: set ${PROJECT}:kubernetes.context`);
        const running = await readRunning(cfg);
        if (!running.controlPlane) {
            throw new CannotRun(
                running.controlPlaneVersion
                    ? `the control plane runs ${running.controlPlaneVersion}, which the program does not know`
                    : "no Linkerd control plane on the cluster (no linkerd-config): install it with `pulumi up` first",
            );
        }
        const k = new Kubectl(cfg.longhorn.kubectl, cfg.kubernetes.kubeconfigPath, cfg.kubernetes.context);
        const plan = planUpgrade({ controlPlane: running.controlPlane, oldestProxyMinor: oldestProxyMinor(running) }, target, {
            kubernetesMinor: cfg.kubernetes.version ? Number(cfg.kubernetes.version.split(".")[1]) : undefined,
            shutdownJobs: shutdownJobs(k, cfg),
            enableShutdownEndpoint: cfg.controlPlane.enableShutdownEndpoint,
            tracing: cfg.jaeger.enabled || cfg.controlPlane.proxyTracing !== undefined,
        });
        io.out(
            `npm run upgrade: stack ${values.stack}, control plane ${running.controlPlane.version}, ${running.meshedPods.length} meshed pod(s); target ${target.version}`,
        );
        io.out(formatPlan(plan));
        if (plan.problems.length > 0) return 1;
        const resume = `npm run upgrade -- --stack ${values.stack}${values["stack-file"] ? ` --stack-file ${values["stack-file"]}` : ""} --to ${target.version}`;
        if (values["dry-run"]) return previewHops(values.stack, stackFile, clusterAccessOf(cfg), running.controlPlane, plan, io);
        const action = plan.hops.find((h) => h.hazards.some((z) => z.handling === "action"));
        const stack = await selectStack(values.stack);
        // Proxies left behind the running control plane (an earlier run stopped during its restarts) follow it first.
        await restartBehind(k, running, proxyVersionOf(running.controlPlane), timeoutSeconds, io);
        for (const hop of plan.hops) {
            if (hop === action) {
                io.err(
                    `\nstopped before ${hop.to.version}: ${hop.hazards
                        .filter((z) => z.handling === "action")
                        .map((z) => z.message)
                        .join("; ")}`,
                );
                io.err(`the cluster runs ${hop.from.version}; then resume: ${resume}`);
                return 1;
            }
            let failures: HopFailure[];
            try {
                failures = await runHop(stack, values.stack, stackFile, hop, timeoutSeconds, io);
            } catch (e) {
                if (!(await failedByInterrupt())) throw e;
                failures = [];
            }
            if (wasInterrupted()) {
                io.err(`\ninterrupted during the hop to ${hop.to.version}; resume: ${resume}`);
                return 1;
            }
            if (failures.length > 0) {
                io.err(`\nthe check failed after the hop to ${hop.to.version}: the cluster runs ${hop.to.version} (control plane and data plane).`);
                for (const f of failures) io.err(`  ${f.what}: ${f.message}${f.fix ? `\n    fix: ${f.fix}` : ""}`);
                io.err(`fix it, then resume: ${resume}`);
                return 1;
            }
        }
        io.out(plan.hops.length > 0 ? `\nupgraded to ${target.version}` : "");
        return 0;
    } catch (e) {
        if (e instanceof CannotRun) {
            io.err(`upgrade: ${e.message}`);
            return 2;
        }
        throw e;
    }
}

if (require.main === module) runAsCommand("upgrade", main);
