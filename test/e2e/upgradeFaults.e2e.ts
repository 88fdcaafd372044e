/**
 * Day two under faults: `npm run upgrade` from stable-2.14.10 to edge-26.8.3 interrupted twice in the
 * middle of a hop — Ctrl-C (SIGINT to its process group) during the second hop's `pulumi up`, then the
 * API server restarted during the fourth — and run again after each: it resumes from what the cluster
 * runs and reaches the end, with the control plane and every meshed proxy on edge-26.8.3.
 */
import * as fs from "fs";
import { HOP_RELEASES } from "../../lib/upgrade/plan";
import { releaseOfVersion } from "../../lib/release";
import { apply, externalCluster, kubectl, kubectlJson, repoRoot, run, RunResult } from "./support/env";
import { proxyVersionOf } from "./support/mesh";
import { simulatedDeployment } from "./support/workloads";
import { CONTROL_PLANE_ONLY, e2eSuite, EDGE, output, sleep, STABLE, TestStack, until } from "./support/suite";

/** The hop releases past the guide's 2.14.10 (the charts of every one of them are in the repository). */
const HOPS = Object.values(HOP_RELEASES)
    .map((v) => releaseOfVersion(v)!)
    .filter((r) => r.minor > STABLE.minor);
const e2e = e2eSuite("upgrade-faults", { releases: [STABLE, ...HOPS, EDGE] });
const describeLocal = externalCluster ? describe.skip : describe;
const timings: Record<string, number> = {};
afterAll(() => process.stderr.write(`[e2e upgrade-faults] timings (s): ${JSON.stringify(timings)}\n`));

let stack: TestStack;

/**
 * Waits for `check` while `running` runs: an upgrade run that ends before the moment the fault is meant for
 * fails the test with its output at once, instead of a wait that can no longer end.
 */
async function whileRunning(what: string, running: Promise<RunResult>, check: () => boolean): Promise<void> {
    let ended: RunResult | undefined;
    void running.then((r) => (ended = r));
    await until(`${what} (or the upgrade run ending)`, 20 * 60_000, () => ended !== undefined || check());
    if (ended && !check()) throw new Error(`the upgrade run ended (exit ${ended.code}) before ${what}:\n${output(ended)}`);
    process.stderr.write(`[e2e upgrade-faults] ${what} after ${(Date.now() - started) / 1000} s\n`);
}
let started = Date.now();

function upgrade(onSpawn?: (pid: number) => void): Promise<RunResult> {
    return run("npm", ["run", "--silent", "upgrade", "--", "--stack", stack.name, "--stack-file", stack.file, "--to", EDGE.version], {
        cwd: repoRoot,
        env: e2e().pulumi.env,
        timeoutMs: 40 * 60_000,
        onSpawn,
    });
}

/** The control plane's linkerdVersion, or undefined while it cannot be read. */
function controlPlaneVersion(): string | undefined {
    const values = kubectl(e2e().cluster, ["-n", "linkerd", "get", "configmap", "linkerd-config", "-o", 'go-template={{index .data "values"}}']);
    return /^linkerdVersion: (\S+)/m.exec(values)?.[1];
}

afterAll(async () => {
    if (stack) await stack.remove(true);
}, 5 * 60_000);

describeLocal("npm run upgrade interrupted mid-hop resumes to the end", () => {
    test(
        "Ctrl-C during hop 2, the API server restarted during hop 4: each next run resumes; the end is edge-26.8.3 everywhere",
        async () => {
            const { cluster } = e2e();
            stack = await e2e().stack(`upgrade-faults-${process.pid}`, STABLE, { ...CONTROL_PLANE_ONLY, meshing: { namespaces: ["monitoring"] } });
            await stack.ok(["up", "--yes", "--skip-preview"]);
            apply(cluster, [simulatedDeployment("monitoring", "e2e-web")]);
            kubectl(cluster, ["-n", "monitoring", "rollout", "status", "deployment/e2e-web", "--timeout=180s"]);

            // Ctrl-C once the control plane runs hop 1 and hop 2's `pulumi up` has started.
            let pid = 0;
            const t0 = (started = Date.now());
            const interrupted = upgrade((p) => (pid = p));
            // Hop 2 has begun when the stack file names its release (written just before its `pulumi up`).
            await whileRunning("hop 2's pulumi up", interrupted, () => /version: edge-24\.8\.2/.test(fs.readFileSync(stack.file, "utf8")));
            await sleep(3000);
            process.kill(-pid, "SIGINT");
            const first = await interrupted;
            timings.interrupted = (Date.now() - t0) / 1000;
            expect(first.code).not.toBe(0);

            // Run again; restart the API server once hop 4 is under way.
            const t1 = Date.now();
            const resumed = upgrade();
            await whileRunning("hop 4", resumed, () => controlPlaneVersion() === "edge-24.11.8");
            await sleep(2000);
            await cluster.stopProcess("kube-apiserver");
            await sleep(3000);
            await cluster.startProcess("kube-apiserver");
            const second = await resumed;
            timings.resumedOnce = (Date.now() - t1) / 1000;

            // Whatever the restart did to that run, the next ones end it.
            let last = second;
            for (let attempt = 0; attempt < 2 && last.code !== 0; attempt++) last = await upgrade();
            timings.total = (Date.now() - t0) / 1000;
            expect([last.code, last.code === 0 ? "" : output(last)]).toEqual([0, ""]);
            expect(controlPlaneVersion()).toBe(EDGE.version);
            const web = kubectlJson(cluster, ["-n", "monitoring", "get", "pods", "-l", "app=e2e-web"]).items;
            expect(web.map((p: any) => p.metadata.annotations["linkerd.io/proxy-version"])).toEqual([proxyVersionOf(EDGE)]);
            await stack.ok(["up", "--yes", "--expect-no-changes"]);
        },
        40 * 60_000,
    );
});
