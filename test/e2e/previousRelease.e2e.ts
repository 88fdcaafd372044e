/**
 * End-to-end: upgrading from the previous release. The program as of the previous release (the commit
 * releases.json names for it, checked out with `git worktree add`, its own `npm ci`) deploys a stack
 * on the guide's stable-2.14.10 with everything enabled; then the SAME stack (same backend, same stack
 * file) is previewed and updated with HEAD's program. Nothing may be replaced or deleted: a renamed
 * resource whose alias is missing or wrong shows up here as a delete + create, or a replace, of the
 * `linkerd` namespace or a Helm release (a reinstall of the control plane on the user's next `up`).
 * Updates are allowed and listed in the output. Then `up --expect-no-changes` and `destroy` with HEAD.
 *
 * Needs the repository's history (a `git clone`, not a shallow one or a tarball) and the npm registry
 * (the previous release's `npm ci`). `npm run toolchain` first; run with `npm run test:e2e`.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { previousRelease } from "../support/releases";
import { kubectlJson, repoRoot, run, RunResult, sh } from "./support/env";
import { e2eSuite, randomPassword, STABLE, TestStack } from "./support/suite";

const previous = previousRelease();
const timings: Record<string, number> = {};

/** Engine operations that lose what the cluster runs: the resource (or a copy of it) is deleted. */
const FORBIDDEN_OPS = ["replace", "create-replacement", "delete-replaced", "delete", "read-replacement", "import-replacement", "discard"];

/** The previous release checked out at `dir` (a worktree of this repository), its dependencies installed; throws naming what is missing. */
async function checkOutPrevious(dir: string): Promise<void> {
    const t0 = Date.now();
    const git = (args: string[]) => sh("git", ["-C", repoRoot, ...args]);
    try {
        git(["cat-file", "-e", `${previous.commit}^{commit}`]);
    } catch {
        throw new Error(
            `release ${previous.version}'s commit ${previous.commit} (releases.json) is not in the history of ${repoRoot}: ` +
                "this e2e needs the repository's history (a full `git clone`; in a shallow one run `git fetch --unshallow`).",
        );
    }
    git(["worktree", "add", "--detach", dir, previous.commit]);
    const npm = await run("npm", ["ci", "--prefer-offline", "--no-audit", "--no-fund"], { cwd: dir, timeoutMs: 600_000 });
    if (npm.code !== 0) throw new Error(`npm ci of release ${previous.version} in ${dir} failed:\n${npm.stdout}\n${npm.stderr}`);
    timings.checkout = (Date.now() - t0) / 1000;
}

function removeWorktree(dir: string | undefined): void {
    if (!dir) return;
    try {
        sh("git", ["-C", repoRoot, "worktree", "remove", "--force", dir]);
    } catch {
        /* never added (the commit was missing) or already gone */
    }
    fs.rmSync(path.dirname(dir), { recursive: true, force: true });
    sh("git", ["-C", repoRoot, "worktree", "prune"]);
}

// Started before the cluster (below) and awaited after it: `npm ci` and `cluster up` overlap.
let worktree: string | undefined;
let checkout: Promise<void> | undefined;
beforeAll(() => {
    worktree = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "picluster-previous-release-")), `picluster-linkerd-${previous.version}`);
    checkout = checkOutPrevious(worktree);
    checkout.catch(() => undefined); // reported by the beforeAll that awaits it
});
const e2e = e2eSuite("previous-release", { releases: [STABLE] });

interface Step {
    readonly urn: string;
    readonly op: string;
    readonly diffs: string[];
    /** Properties that force a replacement. */
    readonly replaceKeys: string[];
}

/** Every resource step the engine reported (its pre-event), from the `--event-log` file. */
function steps(eventLog: string): Step[] {
    return fs
        .readFileSync(eventLog, "utf8")
        .split("\n")
        .filter((l) => l.trim())
        .map((l) => JSON.parse(l))
        .map((e) => e.resourcePreEvent?.metadata)
        .filter((m) => m)
        .map((m) => ({ urn: m.urn, op: m.op, diffs: m.diffs ?? [], replaceKeys: m.keys ?? [] }));
}

const short = (urn: string) => urn.split("::").slice(2).join("::");
const describeStep = (s: Step) =>
    `${s.op} ${short(s.urn)}${s.diffs.length ? ` (${s.diffs.join(", ")})` : ""}${s.replaceKeys.length ? ` [replace: ${s.replaceKeys.join(", ")}]` : ""}`;

/** The steps that replace or delete something, described. */
function lostSteps(all: Step[]): string[] {
    expect(all.length).toBeGreaterThan(0);
    return all.filter((s) => FORBIDDEN_OPS.includes(s.op)).map(describeStep);
}

/** The steps that change something (updates, creates, and any loss), for the output. */
const changed = (all: Step[]) => all.filter((s) => s.op !== "same" && s.op !== "read");

/** What a reinstall or a replacement would change: Helm's records of each release, the UIDs of the objects the program owns. */
function clusterRecord(): { helm: Map<string, { revision: number; firstUid?: string }>; uids: Record<string, string> } {
    const { cluster } = e2e();
    const helm = new Map<string, { revision: number; firstUid?: string }>();
    for (const s of kubectlJson(cluster, ["get", "secrets", "-A", "-l", "owner=helm"]).items) {
        const { name, version } = s.metadata.labels;
        const entry = helm.get(name) ?? { revision: 0 };
        entry.revision = Math.max(entry.revision, Number(version));
        if (Number(version) === 1) entry.firstUid = s.metadata.uid;
        helm.set(name, entry);
    }
    const uid = (args: string[]): string => kubectlJson(cluster, ["get", ...args]).metadata.uid;
    const uids: Record<string, string> = {};
    for (const ns of ["linkerd", "linkerd-viz", "linkerd-jaeger", "traefik"]) uids[`namespace/${ns}`] = uid(["namespace", ns]);
    uids["certificate/linkerd-identity-issuer"] = uid(["-n", "linkerd", "certificates.cert-manager.io", "linkerd-identity-issuer"]);
    for (const d of ["linkerd-identity", "linkerd-destination", "linkerd-proxy-injector"])
        uids[`deployment/${d}`] = uid(["-n", "linkerd", "deployment", d]);
    return { helm, uids };
}

describe(`upgrade from release ${previous.version} (${previous.commit.slice(0, 7)}) to HEAD, on stable-2.14.10 with everything enabled`, () => {
    let stack: TestStack;
    let before: ReturnType<typeof clusterRecord>;
    /** Set once a step has shown a replacement or deletion: the next steps would only carry it out (deleting `linkerd` hangs). */
    let lost: string | undefined;
    const stopIfLost = () => {
        if (lost) throw new Error(`not run: ${lost}`);
    };
    const eventLog = (name: string) => path.join(e2e().work, `${name}-events.jsonl`);

    beforeAll(async () => {
        await checkout;
        stack = await e2e().stack(`previous-${process.pid}`, STABLE);
        await stack.set("vizDashboardPassword", randomPassword(20), true);
    }, 15 * 60_000);

    afterAll(async () => {
        await checkout?.catch(() => undefined);
        removeWorktree(worktree);
        process.stderr.write(`[e2e previous-release] ${previous.version} -> HEAD timings (s): ${JSON.stringify(timings)}\n`);
    });

    /** `pulumi` on the stack with the previous release's program (its checkout is the project directory). */
    const previousProgram = (args: string[]): Promise<RunResult> => e2e().pulumi.ok(worktree!, [...args, ...stack.args]);

    test(`release ${previous.version}'s program deploys the stack`, async () => {
        const res = await previousProgram(["up", "--yes", "--skip-preview"]);
        timings.previousUp = res.seconds;
        before = clusterRecord();
        expect([...before.helm.keys()].sort()).toEqual(["linkerd-control-plane", "linkerd-crds", "linkerd-jaeger", "linkerd-viz", "traefik"]);
    });

    test("HEAD's preview replaces and deletes nothing", async () => {
        const log = eventLog("preview");
        const res = await stack.ok(["preview", "--diff", "--event-log", log]);
        timings.preview = res.seconds;
        const all = steps(log);
        const losses = lostSteps(all);
        if (losses.length > 0) lost = `HEAD's preview replaces or deletes ${losses.length} resource(s)`;
        expect(`preview: ${losses.length} step(s) replace or delete:\n${losses.join("\n")}`).toBe("preview: 0 step(s) replace or delete:\n");
        const changes = changed(all);
        process.stderr.write(
            `[e2e previous-release] preview of HEAD over ${previous.version}:\n${changes.map((s) => `  ${describeStep(s)}`).join("\n") || "  no changes"}\n`,
        );
    });

    test("HEAD's up replaces and deletes nothing and reinstalls no Helm release", async () => {
        stopIfLost();
        const log = eventLog("up");
        const res = await stack.ok(["up", "--yes", "--skip-preview", "--event-log", log]);
        timings.up = res.seconds;
        const all = steps(log);
        const losses = lostSteps(all);
        if (losses.length > 0) lost = `HEAD's up replaced or deleted ${losses.length} resource(s)`;
        expect(`up: ${losses.length} step(s) replace or delete:\n${losses.join("\n")}`).toBe("up: 0 step(s) replace or delete:\n");
        const changes = changed(all);
        process.stderr.write(
            `[e2e previous-release] up of HEAD over ${previous.version}:\n${changes.map((s) => `  ${describeStep(s)}`).join("\n") || "  no changes"}\n`,
        );

        const after = clusterRecord();
        // The same objects, not new ones of the same name.
        expect(after.uids).toEqual(before.uids);
        for (const [name, was] of before.helm) {
            const now = after.helm.get(name);
            // Upgraded (a new revision) or untouched; never uninstalled and installed again (a new revision 1).
            expect([name, now?.firstUid, (now?.revision ?? 0) >= was.revision]).toEqual([name, was.firstUid, true]);
        }
        expect([...after.helm.keys()].sort()).toEqual([...before.helm.keys()].sort());
        process.stderr.write(
            `[e2e previous-release] Helm revisions: ${[...after.helm].map(([n, r]) => `${n} ${before.helm.get(n)?.revision}->${r.revision}`).join(", ")}\n`,
        );
    });

    test("a second up with HEAD changes nothing; destroy removes the stack", async () => {
        stopIfLost();
        timings.upAgain = (await stack.ok(["up", "--yes", "--expect-no-changes"])).seconds;
        timings.destroy = (await stack.ok(["destroy", "--yes"])).seconds;
        expect(kubectlJson(e2e().cluster, ["get", "secrets", "-A", "-l", "owner=helm"]).items).toEqual([]);
        await stack.discard();
    });
});
