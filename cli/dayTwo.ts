/**
 * What the day-two commands (`npm run upgrade`, `npm run rotate-anchor`) share: the stack with its own
 * program and backend (Pulumi Automation API), edits of the stack file that keep everything else in it
 * (comments included), and restarting workloads the way a mesh needs it: one owner at a time, each
 * only once no PodDisruptionBudget covering it forbids a disruption, waiting for its rollout to finish.
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { LocalWorkspace, Stack } from "@pulumi/pulumi/automation";
import { Document, parseDocument } from "yaml";
import { Kubectl } from "./check";
import { PROJECT } from "../lib/config";
import { get, listAt, numAt, str, stringMapAt } from "../lib/k8s";

export interface Io {
    out(s: string): void;
    err(s: string): void;
}

/** Thrown by `sleep` once the user has interrupted the command (see `letPulumiFinishOnInterrupt`). */
export class Interrupted extends Error {}

let interrupted = false;

/** Whether the user has interrupted the command (Ctrl-C): it stops at the end of the step in progress. */
export const wasInterrupted = (): boolean => interrupted;

/**
 * Whether a step that just failed was interrupted: Ctrl-C also ends the kubectl the step was waiting on,
 * and its failure can surface before the signal handler has run, so the event loop gets a moment first.
 */
export async function failedByInterrupt(): Promise<boolean> {
    await new Promise((r) => setTimeout(r, 200));
    return interrupted;
}

/** Waits `ms`; once the command has been interrupted (Ctrl-C), throws `Interrupted` instead of waiting on. */
export async function sleep(ms: number): Promise<void> {
    if (interrupted) throw new Interrupted("interrupted (Ctrl-C)");
    await new Promise((r) => setTimeout(r, ms));
    if (interrupted) throw new Interrupted("interrupted (Ctrl-C)");
}

/**
 * Ctrl-C reaches the whole process group: the `pulumi up` this command runs cancels gracefully,
 * finishing the steps in flight (a Helm release waiting for its pods) and only then releasing the
 * stack's lock. A day-two command that died at once would leave that pulumi running on without it,
 * and the run the user starts next would find the stack locked. So the first Ctrl-C lets the step in
 * progress end (the command then stops with the command that resumes); a second one leaves at once.
 */
function letPulumiFinishOnInterrupt(io: Io): void {
    process.on("SIGINT", () => {
        if (interrupted) process.exit(130);
        interrupted = true;
        io.err("interrupted: letting pulumi finish the step in progress, then stopping (Ctrl-C again to leave at once)");
    });
}

/** Runs a day-two command as the process: stdout/stderr, Ctrl-C handled as above, its exit code. */
export function runAsCommand(name: string, main: (argv: string[], io: Io) => Promise<number>): void {
    const io: Io = { out: (s) => process.stdout.write(s + "\n"), err: (s) => process.stderr.write(s + "\n") };
    letPulumiFinishOnInterrupt(io);
    main(process.argv.slice(2), io).then(
        (code) => (process.exitCode = code),
        (e) => {
            process.stderr.write(`${name}: ${(e as Error).stack ?? e}\n`);
            process.exitCode = 1;
        },
    );
}

/** How long `upWithStackFile` waits for another pulumi (an interrupted run finishing its steps) to unlock the stack. */
const LOCK_WAIT_MS = 180_000;
const isLocked = (e: unknown): boolean => /stack is currently locked/.test((e as Error).message);

/** The stack with its own program (this project) and backend, as `pulumi` would run it here. */
export async function selectStack(name: string): Promise<Stack> {
    return LocalWorkspace.selectStack({ stackName: name, workDir: path.resolve(__dirname, "..") });
}

/**
 * `pulumi up --yes --skip-preview` of the stack with its stack file (`--config-file`), run as the CLI itself in
 * the stack's workspace (its program, backend and environment): the Automation API's `up` also reads the
 * outputs (`pulumi stack output`, twice) and the update's summary (`pulumi stack history`) afterwards, about
 * 1 s per up that nothing here uses (npm run bench, "upgrade, one hop"). Its output goes to `onOutput`; a
 * failure rejects with pulumi's stdout and stderr. Ctrl-C reaches this pulumi as any other (same process group).
 */
function pulumiUp(stack: Stack, stackFile: string, onOutput: (s: string) => void): Promise<void> {
    const workspace = stack.workspace as LocalWorkspace;
    const args = ["up", "--yes", "--skip-preview", "--non-interactive", "--stack", stack.name, "--config-file", path.resolve(stackFile)];
    return new Promise((resolve, reject) => {
        const child = spawn(workspace.pulumiCommand.command, args, { cwd: workspace.workDir, env: { ...process.env, ...workspace.envVars } });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d: Buffer) => {
            stdout += d.toString();
            onOutput(d.toString());
        });
        child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
        child.on("error", reject);
        child.on("close", (code, signal) => {
            if (code === 0) resolve();
            else reject(new Error(`pulumi ${args.join(" ")} failed (${signal ?? `exit ${code}`})\nstdout:\n${stdout}\nstderr:\n${stderr}`));
        });
    });
}

/**
 * `pulumi up` of the stack with its stack file, waiting for a lock another pulumi holds. With the passphrase
 * secrets provider, a pulumi command given no config file writes Pulumi.<stack>.yaml (just an encryption salt)
 * next to Pulumi.yaml: when the stack file is elsewhere and no such file was there before, a stray one is removed.
 */
export async function upWithStackFile(stack: Stack, stackFile: string, onOutput: (s: string) => void): Promise<void> {
    const beside = path.resolve(__dirname, "..", `Pulumi.${stack.name}.yaml`);
    const stray = path.resolve(stackFile) !== beside && !fs.existsSync(beside);
    try {
        const deadline = Date.now() + LOCK_WAIT_MS;
        for (;;) {
            try {
                await pulumiUp(stack, stackFile, onOutput);
                return;
            } catch (e) {
                if (!isLocked(e)) throw e;
                if (Date.now() > deadline)
                    throw new Error(
                        `error: the stack ${stack.name} is still locked after ${LOCK_WAIT_MS / 1000} s: if no other pulumi runs for it, ` +
                            `remove the lock with \`pulumi cancel --stack ${stack.name}\`, then run this command again`,
                        { cause: e },
                    );
                onOutput("waiting: the stack is locked by another pulumi (an interrupted run finishing its steps?)");
                await sleep(5000);
            }
        }
    } finally {
        if (stray) fs.rmSync(beside, { force: true });
    }
}

/**
 * Edits the stack file in place: `edit` gets the parsed document and the full key of a section
 * (`picluster-linkerd:<section>`); everything it does not touch stays as it was, comments included.
 */
export function editStackFile(stackFile: string, edit: (doc: Document, sectionKey: (section: string) => string) => void): void {
    const doc = parseDocument(fs.readFileSync(stackFile, "utf8"));
    edit(doc, (section) => `${PROJECT}:${section}`);
    fs.writeFileSync(stackFile, doc.toString());
}

/** The lines of a failed `pulumi up` worth showing (errors), else its whole message. */
export function upFailure(e: unknown): string {
    const message = (e as Error).message;
    const lines = message
        .split("\n")
        .filter((l) => /error|failed/i.test(l))
        .slice(0, 8)
        .join("\n    ");
    return lines || message;
}

/** A workload to restart: `namespace/kind/name`, kind lower case as kubectl takes it (`deployment/web`). */
export type OwnerRef = string;

/** The owner to roll for a pod: its Deployment (through its ReplicaSet), DaemonSet or StatefulSet, as `kind/name`. */
export function ownerOf(pod: unknown, replicaSets: ReadonlyMap<string, unknown>): string | undefined {
    const controller = (o: unknown) => listAt(o, "metadata", "ownerReferences").find((r) => get(r, "controller") === true);
    const ref = controller(pod);
    const [kind, name] = [str(get(ref, "kind")), str(get(ref, "name"))];
    if (!kind || !name) return undefined;
    if (kind === "ReplicaSet") {
        const rs = controller(replicaSets.get(name));
        return get(rs, "kind") === "Deployment" ? `deployment/${str(get(rs, "name"))}` : undefined;
    }
    return kind === "DaemonSet" || kind === "StatefulSet" ? `${kind.toLowerCase()}/${name}` : undefined;
}

/**
 * The owners of pods (`namespace/name`), each once and sorted; a pod without a Deployment, DaemonSet or
 * StatefulSet (a bare pod, a Job's) is reported through `io.err` with `why` and left alone. One read of the
 * pods and ReplicaSets per namespace (a kubectl process costs ~0.1 s; a namespace may hold many meshed pods).
 */
export function ownersOfPods(k: Kubectl, pods: readonly string[], why: (pod: string) => string, io: Io): OwnerRef[] {
    const owners = new Set<string>();
    const byNamespace = new Map<string, string[]>();
    for (const p of pods) {
        const [namespace, name] = p.split("/");
        byNamespace.set(namespace, [...(byNamespace.get(namespace) ?? []), name]);
    }
    for (const [namespace, names] of byNamespace) {
        const items = listAt(JSON.parse(k.read(["-n", namespace, "get", "pods,replicasets.apps", "-o", "json"])) as unknown, "items");
        const named = (kind: string) => new Map(items.filter((o) => get(o, "kind") === kind).map((o) => [str(get(o, "metadata", "name")) ?? "", o]));
        const [livePods, replicaSets] = [named("Pod"), named("ReplicaSet")];
        for (const name of names) {
            if (!livePods.has(name)) continue; // gone since it was listed: whatever replaced it is checked afterwards
            const owner = ownerOf(livePods.get(name), replicaSets);
            if (owner) owners.add(`${namespace}/${owner}`);
            else
                io.err(
                    `  ${namespace}/${name} ${why(`${namespace}/${name}`)} and has no Deployment, DaemonSet or StatefulSet to roll: delete it to re-create it`,
                );
        }
    }
    return [...owners].sort();
}

/** Waits until no PodDisruptionBudget covering the owner's pods forbids a disruption (disruptionsAllowed 0). */
export async function waitForBudget(k: Kubectl, namespace: string, owner: string, timeoutMs: number, io: Io): Promise<void> {
    const workload: unknown = JSON.parse(k.read(["-n", namespace, "get", owner, "-o", "json"]));
    const labels = stringMapAt(workload, "spec", "template", "metadata", "labels") ?? {};
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        const budgets = listAt(JSON.parse(k.read(["-n", namespace, "get", "poddisruptionbudgets.policy", "-o", "json"])) as unknown, "items");
        const blocking = budgets.filter((b) => {
            const selected = Object.entries(stringMapAt(b, "spec", "selector", "matchLabels") ?? {}).every(([key, v]) => labels[key] === v);
            return selected && (numAt(b, "status", "disruptionsAllowed") ?? 1) < 1;
        });
        const names = blocking.map((b) => str(get(b, "metadata", "name")) ?? "?");
        if (blocking.length === 0) return;
        if (Date.now() > deadline) {
            throw new Error(`PodDisruptionBudget ${names.map((n) => `${namespace}/${n}`).join(", ")} allows no disruption of ${namespace}/${owner}`);
        }
        io.out(`  waiting: PodDisruptionBudget ${names.join(", ")} allows no disruption of ${namespace}/${owner} yet`);
        await sleep(5000);
    }
}

export interface RestartOptions {
    readonly timeoutSeconds: number;
    readonly io: Io;
    /**
     * Set these pod-template annotations instead of `kubectl rollout restart`'s restartedAt (a rollout all the
     * same): the pods then say what they were restarted for, so a later run can tell which are done.
     */
    readonly templateAnnotations?: Readonly<Record<string, string>>;
    /** Why, for the log line (`restarting <owner> (<why>)`). */
    readonly why?: string;
    /** Field manager of the annotation patch. */
    readonly fieldManager?: string;
}

/** Rolls one owner once its PodDisruptionBudgets allow it, and waits until its rollout has finished. */
export async function restartOwner(k: Kubectl, ref: OwnerRef, opts: RestartOptions): Promise<void> {
    const namespace = ref.slice(0, ref.indexOf("/"));
    const owner = ref.slice(ref.indexOf("/") + 1);
    await waitForBudget(k, namespace, owner, opts.timeoutSeconds * 1000, opts.io);
    opts.io.out(`  restarting ${namespace}/${owner}${opts.why ? ` (${opts.why})` : ""}`);
    if (opts.templateAnnotations) {
        const patch = JSON.stringify({ spec: { template: { metadata: { annotations: opts.templateAnnotations } } } });
        const manager = opts.fieldManager ? [`--field-manager=${opts.fieldManager}`] : [];
        k.read(["-n", namespace, "patch", owner, "--type=merge", ...manager, "-p", patch]);
    } else {
        k.read(["-n", namespace, "rollout", "restart", owner]);
    }
    k.read(["-n", namespace, "rollout", "status", owner, `--timeout=${opts.timeoutSeconds}s`]);
}

/** Rolls the owners one at a time, in the order given. */
export async function restartOwners(k: Kubectl, owners: readonly OwnerRef[], opts: RestartOptions): Promise<void> {
    for (const ref of owners) await restartOwner(k, ref, opts);
}
