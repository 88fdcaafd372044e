/**
 * Faults the program must survive, each against the local cluster (npm run cluster: real API server,
 * kwok nodes, real cert-manager and trust-manager) with the real engine:
 * - the API server restarts in the middle of `pulumi up`: the next `up` converges, `destroy` leaves
 *   nothing behind;
 * - cert-manager is down, so the identity issuer never becomes Ready: `up` fails within
 *   identity.issuer.readyTimeoutSeconds naming cert-manager, and converges once it is back;
 * - `pulumi up` is interrupted (Ctrl-C: SIGINT to its process group) and run again;
 * - Longhorn is absent: the wait step fails with its message and `destroy` still completes.
 * Needs the local cluster (it stops and starts cluster processes): skipped with
 * PICLUSTER_E2E_EXTERNAL_CLUSTER.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
    checkToolchain,
    Cluster,
    externalCluster,
    kubectl,
    kubectlJson,
    kubectlPath,
    makeRootCA,
    prepareCluster,
    Pulumi,
    repoRoot,
    RunResult,
    startCluster,
} from "./support/env";
import { linkerdChartDirectory } from "./support/standInCharts";
import { resolveRelease } from "../../lib/release";

const PROJECT = "picluster-linkerd";

checkToolchain();
const describeLocal = externalCluster ? describe.skip : describe;

let work: string;
let cluster: Cluster;
let pulumi: Pulumi;
let chartDir: string | undefined;

/** A stack with only the identity and the control plane (plus `extra` config), created for one test. */
async function newStack(name: string, extra: Record<string, unknown> = {}): Promise<{ name: string; args: string[] }> {
    const file = path.join(work, `Pulumi.${name}.yaml`);
    await pulumi.initStack(repoRoot, name, file);
    const config: Record<string, unknown> = {
        kubernetes: { kubeconfig: cluster.kubeconfig, context: cluster.context },
        linkerd: chartDir ? { chartDirectory: chartDir } : {},
        viz: { enabled: false },
        monitoring: { enabled: false },
        jaeger: { enabled: false },
        meshing: { namespaces: [] },
        ingress: { controller: "none" },
        longhorn: { enabled: false },
        ...extra,
    };
    const yaml = Object.entries(config)
        .map(([k, v]) => `  ${PROJECT}:${k}: ${JSON.stringify(v)}`)
        .join("\n");
    fs.appendFileSync(file, `config:\n${yaml}\n`);
    return { name, args: ["--config-file", file, "-s", name] };
}

const output = (r: RunResult): string => `${r.stdout}\n${r.stderr}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until `check` holds (kubectl errors count as not yet). */
async function until(what: string, timeoutMs: number, check: () => boolean): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
        try {
            if (check()) return;
        } catch {
            /* not yet */
        }
        await sleep(250);
    }
    throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

const exists = (args: string[]): boolean => {
    try {
        kubectlJson(cluster, ["get", ...args]);
        return true;
    } catch {
        return false;
    }
};

/** Nothing the program creates is left in the cluster (the guide's own objects are). */
function expectNothingLeft(): void {
    const namespaces = kubectlJson(cluster, ["get", "namespaces"]).items.map((n: any) => n.metadata.name);
    expect(namespaces).not.toContain("linkerd");
    expect(kubectlJson(cluster, ["get", "secrets", "-A", "-l", "owner=helm"]).items).toEqual([]);
    expect(kubectlJson(cluster, ["get", "certificates.cert-manager.io", "-A"]).items).toEqual([]);
    expect(exists(["crd", "serviceprofiles.linkerd.io"])).toBe(false);
    expect(exists(["clusterissuer", "ca-issuer"])).toBe(true);
}

/**
 * Runs a test's stack and always removes it, so one failing test does not leave releases that make
 * the next one fail ("cannot re-use a name"): `destroy`, else the objects by hand, then the stack.
 */
async function withStack(
    name: string,
    extra: Record<string, unknown>,
    body: (stack: { name: string; args: string[] }) => Promise<void>,
): Promise<void> {
    const stack = await newStack(name, extra);
    try {
        await body(stack);
    } finally {
        const destroyed = await pulumi.run(repoRoot, ["destroy", "--yes", ...stack.args]);
        if (destroyed.code !== 0) {
            for (const args of [
                ["delete", "namespace", "linkerd", "--ignore-not-found", "--wait=true", "--timeout=120s"],
                ["delete", "crd", "serviceprofiles.linkerd.io", "--ignore-not-found"],
                ["delete", "secrets", "-A", "-l", "owner=helm"],
            ]) {
                try {
                    kubectl(cluster, args);
                } catch {
                    /* best effort */
                }
            }
        }
        await pulumi.run(repoRoot, ["stack", "rm", "--yes", "--force", "-s", stack.name]);
    }
}

/** `up` until it converges, then `up --expect-no-changes`, `destroy` and nothing left. */
async function convergesAndCleansUp(stack: { name: string; args: string[] }): Promise<void> {
    let again = await pulumi.run(repoRoot, ["up", "--yes", ...stack.args]);
    if (again.code !== 0 && /cannot re-use a name that is still in use/.test(output(again))) {
        // The interruption hit Helm's install after Helm recorded the release but before Pulumi did: the
        // documented recovery (README "Known caveats") is to adopt the releases Helm has, then switch adopt off.
        const releases = kubectlJson(cluster, ["-n", "linkerd", "get", "secrets", "-l", "owner=helm"]).items.map((s: any) => s.metadata.labels.name);
        const set = (key: string, value: string) => pulumi.ok(repoRoot, ["config", "set", "--path", `${PROJECT}:${key}`, value, ...stack.args]);
        await set("adopt.enabled", "true");
        for (const [i, name] of [...new Set<string>(releases)].entries()) await set(`adopt.helmReleases[${i}]`, name);
        again = await pulumi.run(repoRoot, ["up", "--yes", ...stack.args]);
        await pulumi.ok(repoRoot, ["config", "rm", "--path", `${PROJECT}:adopt`, ...stack.args]);
        expect([again.code, again.code === 0 ? "" : output(again)]).toEqual([0, ""]);
        // Adoption off again: the provider loses upsertExistingObjects (an update, nothing else changes).
        again = await pulumi.run(repoRoot, ["up", "--yes", ...stack.args]);
    }
    expect([again.code, again.code === 0 ? "" : output(again)]).toEqual([0, ""]);
    await pulumi.ok(repoRoot, ["up", "--yes", "--expect-no-changes", ...stack.args]);
    expect(kubectlJson(cluster, ["-n", "linkerd", "get", "deployment", "linkerd-identity"]).status.readyReplicas).toBe(1);
    await pulumi.ok(repoRoot, ["destroy", "--yes", ...stack.args]);
    expectNothingLeft();
}

/** kwok pod-ready delay: random between the two (ms). */
const SLOW_PODS = { durationMilliseconds: 8000, jitterDurationMilliseconds: 12000 };
const CONTROL_PLANE_RELEASE = ["-n", "linkerd", "secret", "sh.helm.release.v1.linkerd-control-plane.v1"];

beforeAll(
    async () => {
        work = fs.mkdtempSync(path.join(os.tmpdir(), "picluster-faults-"));
        if (externalCluster) return;
        chartDir = linkerdChartDirectory(work, resolveRelease("stable", "2.14.10"));
        cluster = await startCluster(work);
        const rootCA = makeRootCA(path.join(work, "root-ca"));
        prepareCluster(cluster, rootCA);
        pulumi = new Pulumi(work);
    },
    5 * 60 * 1000,
);

afterAll(
    async () => {
        await cluster?.stop();
        if (work && !process.env.PICLUSTER_E2E_KEEP) fs.rmSync(work, { recursive: true, force: true });
    },
    3 * 60 * 1000,
);

describeLocal("faults", () => {
    test("the API server restarts during `pulumi up`: the next `up` converges and `destroy` leaves nothing", async () => {
        await withStack(`apiserver-${process.pid}`, {}, async (stack) => {
            const first = pulumi.run(repoRoot, ["up", "--yes", ...stack.args]);
            // Mid-run: the issuer Certificate exists (cert-manager is working on it).
            await until("the identity issuer Certificate", 180_000, () =>
                exists(["-n", "linkerd", "certificates.cert-manager.io", "linkerd-identity-issuer"]),
            );
            await cluster.stopProcess("kube-apiserver");
            await sleep(3000);
            await cluster.startProcess("kube-apiserver");
            await first; // either outcome: what matters is what the next run does
            await convergesAndCleansUp(stack);
        });
    });

    test("cert-manager is down: `up` fails within identity.issuer.readyTimeoutSeconds naming cert-manager, then converges once it is back", async () => {
        const timeout = 20;
        await withStack(`no-cert-manager-${process.pid}`, { identity: { issuer: { readyTimeoutSeconds: timeout } } }, async (stack) => {
            await cluster.stopProcess("cert-manager");
            try {
                const failed = await pulumi.run(repoRoot, ["up", "--yes", ...stack.args]);
                expect(failed.code).not.toBe(0);
                // The engine names the cert-manager Certificate that never became Ready.
                expect(output(failed)).toMatch(
                    /kubernetes:cert-manager\.io\/v1:Certificate \(linkerd-identity-issuer\):\s*error:[\s\S]*failed to fully initialize or become live: timed out waiting/,
                );
                // The control plane never started: it waits for the issuer.
                expect(exists(CONTROL_PLANE_RELEASE)).toBe(false);
                // Bounded by the timeout (plus the engine's own start-up), not by Helm's.
                expect(failed.seconds).toBeLessThan(timeout + 90);
            } finally {
                await cluster.startProcess("cert-manager");
            }
            await convergesAndCleansUp(stack);
        });
    });

    test("`pulumi up` interrupted with Ctrl-C (SIGINT to its process group) is resumed by the next `up`", async () => {
        await withStack(`sigint-${process.pid}`, {}, async (stack) => {
            let pid = 0;
            // Pods take 8-12 s to become Ready (kwok's pod-ready stage), so Helm is still waiting when Ctrl-C comes.
            kubectl(cluster, ["patch", "stages.kwok.x-k8s.io", "pod-ready", "--type=merge", "-p", JSON.stringify({ spec: { delay: SLOW_PODS } })]);
            try {
                const first = pulumi.run(repoRoot, ["up", "--yes", ...stack.args], { onSpawn: (p) => (pid = p) });
                // Mid-run: Helm is installing the control plane (waiting for its pods).
                await until("the control plane's Helm release", 180_000, () => exists(CONTROL_PLANE_RELEASE));
                process.kill(-pid, "SIGINT");
                const interrupted = await first;
                expect(interrupted.code).not.toBe(0);
            } finally {
                kubectl(cluster, [
                    "patch",
                    "stages.kwok.x-k8s.io",
                    "pod-ready",
                    "--type=json",
                    "-p",
                    JSON.stringify([{ op: "remove", path: "/spec/delay" }]),
                ]);
            }
            await convergesAndCleansUp(stack);
        });
    });

    test("Longhorn absent: the wait step fails with its message and `destroy` still completes", async () => {
        const longhorn = { enabled: true, namespace: "no-longhorn-here", waitTimeoutSeconds: 10, kubectl: kubectlPath() };
        await withStack(`no-longhorn-${process.pid}`, { longhorn }, async (stack) => {
            const failed = await pulumi.run(repoRoot, ["up", "--yes", ...stack.args]);
            expect(failed.code).not.toBe(0);
            expect(output(failed)).toMatch(
                /daemonset\/longhorn-manager not found in namespace no-longhorn-here after 10s: is Longhorn installed there\?/,
            );
            const destroyed = await pulumi.run(repoRoot, ["destroy", "--yes", ...stack.args]);
            expect([destroyed.code, destroyed.code === 0 ? "" : output(destroyed)]).toEqual([0, ""]);
            expectNothingLeft();
        });
    });
});
