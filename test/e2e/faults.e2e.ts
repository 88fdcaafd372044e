/**
 * Faults the program must survive, each against the local cluster (npm run cluster: real API server,
 * kwok nodes, real cert-manager and trust-manager) with the real engine:
 * - the API server restarts in the middle of `pulumi up`: the next `up` converges, `destroy` leaves
 *   nothing behind;
 * - cert-manager is down, so the identity issuer never becomes Ready: `up` fails within
 *   identity.issuer.readyTimeoutSeconds naming cert-manager, and converges once it is back;
 * - `pulumi up` is interrupted (Ctrl-C: SIGINT to its process group) and run again;
 * - Longhorn is absent: the wait step fails with its message and `destroy` still completes.
 * On the real charts; the faults are shared between stable-2.14.10 and edge-26.8.3 (each names its release).
 * Needs the local cluster (it stops and starts cluster processes): skipped with
 * PICLUSTER_E2E_EXTERNAL_CLUSTER.
 */
import { externalCluster, kubectl, kubectlJson, kubectlPath } from "./support/env";
import { CONTROL_PLANE_ONLY, e2eSuite, EDGE, output, sleep, STABLE, TestStack, until } from "./support/suite";
import type { LinkerdRelease } from "../../lib/release";

const e2e = e2eSuite("faults", { releases: [STABLE, EDGE] });
const describeLocal = externalCluster ? describe.skip : describe;
const cluster = () => e2e().cluster;

const exists = (args: string[]): boolean => {
    try {
        kubectlJson(cluster(), ["get", ...args]);
        return true;
    } catch {
        return false;
    }
};

/** Nothing the program creates is left in the cluster (the guide's own objects are). */
function expectNothingLeft(): void {
    const namespaces = kubectlJson(cluster(), ["get", "namespaces"]).items.map((n: any) => n.metadata.name);
    expect(namespaces).not.toContain("linkerd");
    expect(kubectlJson(cluster(), ["get", "secrets", "-A", "-l", "owner=helm"]).items).toEqual([]);
    expect(kubectlJson(cluster(), ["get", "certificates.cert-manager.io", "-A"]).items).toEqual([]);
    expect(exists(["crd", "serviceprofiles.linkerd.io"])).toBe(false);
    expect(exists(["clusterissuer", "ca-issuer"])).toBe(true);
}

/**
 * Runs a test's stack (identity and control plane of `release`, plus `extra`) and always removes it, so
 * one failing test does not leave releases that make the next one fail ("cannot re-use a name"):
 * `destroy`, else the objects by hand, then the stack.
 */
async function withStack(
    name: string,
    release: LinkerdRelease,
    extra: Record<string, unknown>,
    body: (stack: TestStack) => Promise<void>,
): Promise<void> {
    const stack = await e2e().stack(name, release, { ...CONTROL_PLANE_ONLY, ...extra });
    try {
        await body(stack);
    } finally {
        const destroyed = await stack.run(["destroy", "--yes"]);
        if (destroyed.code !== 0) {
            for (const args of [
                ["delete", "namespace", "linkerd", "--ignore-not-found", "--wait=true", "--timeout=120s"],
                ["delete", "crd", "serviceprofiles.linkerd.io", "--ignore-not-found"],
                ["delete", "secrets", "-A", "-l", "owner=helm"],
            ]) {
                try {
                    kubectl(cluster(), args);
                } catch {
                    /* best effort */
                }
            }
        }
        await stack.remove(true);
    }
}

/** `up` until it converges, then `up --expect-no-changes`, `destroy` and nothing left. */
async function convergesAndCleansUp(stack: TestStack): Promise<void> {
    let again = await stack.run(["up", "--yes"]);
    if (again.code !== 0 && /cannot re-use a name that is still in use/.test(output(again))) {
        // The interruption hit Helm's install after Helm recorded the release but before Pulumi did: the
        // documented recovery (README "Known caveats") is to adopt the releases Helm has, then switch adopt off.
        const releases = kubectlJson(cluster(), ["-n", "linkerd", "get", "secrets", "-l", "owner=helm"]).items.map(
            (s: any) => s.metadata.labels.name,
        );
        const set = (key: string, value: string) => stack.set(key, value);
        await set("adopt.enabled", "true");
        for (const [i, name] of [...new Set<string>(releases)].entries()) await set(`adopt.helmReleases[${i}]`, name);
        again = await stack.run(["up", "--yes"]);
        await stack.ok(["config", "rm", "--path", "picluster-linkerd:adopt"]);
        expect([again.code, again.code === 0 ? "" : output(again)]).toEqual([0, ""]);
        // Adoption off again: the provider loses upsertExistingObjects (an update, nothing else changes).
        again = await stack.run(["up", "--yes"]);
    }
    expect([again.code, again.code === 0 ? "" : output(again)]).toEqual([0, ""]);
    await stack.ok(["up", "--yes", "--expect-no-changes"]);
    expect(kubectlJson(cluster(), ["-n", "linkerd", "get", "deployment", "linkerd-identity"]).status.readyReplicas).toBe(1);
    await stack.ok(["destroy", "--yes"]);
    expectNothingLeft();
}

/** kwok pod-ready delay: random between the two (ms). */
const SLOW_PODS = { durationMilliseconds: 8000, jitterDurationMilliseconds: 12000 };
const CONTROL_PLANE_RELEASE = ["-n", "linkerd", "secret", "sh.helm.release.v1.linkerd-control-plane.v1"];

describeLocal("faults", () => {
    test("edge-26.8.3: the API server restarts during `pulumi up`: the next `up` converges and `destroy` leaves nothing", async () => {
        await withStack(`apiserver-${process.pid}`, EDGE, {}, async (stack) => {
            const first = stack.run(["up", "--yes"]);
            // Mid-run: the issuer Certificate exists (cert-manager is working on it).
            await until("the identity issuer Certificate", 180_000, () =>
                exists(["-n", "linkerd", "certificates.cert-manager.io", "linkerd-identity-issuer"]),
            );
            await cluster().stopProcess("kube-apiserver");
            await sleep(3000);
            await cluster().startProcess("kube-apiserver");
            await first; // either outcome: what matters is what the next run does
            await convergesAndCleansUp(stack);
        });
    });

    test("stable-2.14.10: cert-manager is down: `up` fails within identity.issuer.readyTimeoutSeconds naming cert-manager, then converges once it is back", async () => {
        const timeout = 20;
        await withStack(`no-cert-manager-${process.pid}`, STABLE, { identity: { issuer: { readyTimeoutSeconds: timeout } } }, async (stack) => {
            await cluster().stopProcess("cert-manager");
            try {
                const failed = await stack.run(["up", "--yes"]);
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
                await cluster().startProcess("cert-manager");
            }
            await convergesAndCleansUp(stack);
        });
    });

    test("edge-26.8.3: `pulumi up` interrupted with Ctrl-C (SIGINT to its process group) is resumed by the next `up`", async () => {
        await withStack(`sigint-${process.pid}`, EDGE, {}, async (stack) => {
            let pid = 0;
            // Pods take 8-12 s to become Ready (kwok's pod-ready stage), so Helm is still waiting when Ctrl-C comes.
            kubectl(cluster(), ["patch", "stages.kwok.x-k8s.io", "pod-ready", "--type=merge", "-p", JSON.stringify({ spec: { delay: SLOW_PODS } })]);
            try {
                const first = stack.run(["up", "--yes"], { onSpawn: (p) => (pid = p) });
                // Mid-run: Helm is installing the control plane (waiting for its pods).
                await until("the control plane's Helm release", 180_000, () => exists(CONTROL_PLANE_RELEASE));
                process.kill(-pid, "SIGINT");
                const interrupted = await first;
                expect(interrupted.code).not.toBe(0);
            } finally {
                kubectl(cluster(), [
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

    test("stable-2.14.10: Longhorn absent: the wait step fails with its message and `destroy` still completes", async () => {
        const longhorn = { enabled: true, namespace: "no-longhorn-here", waitTimeoutSeconds: 10, kubectl: kubectlPath() };
        await withStack(`no-longhorn-${process.pid}`, STABLE, { longhorn }, async (stack) => {
            const failed = await stack.run(["up", "--yes"]);
            expect(failed.code).not.toBe(0);
            expect(output(failed)).toMatch(
                /daemonset\/longhorn-manager not found in namespace no-longhorn-here after 10s: is Longhorn installed there\?/,
            );
            const destroyed = await stack.run(["destroy", "--yes"]);
            expect([destroyed.code, destroyed.code === 0 ? "" : output(destroyed)]).toEqual([0, ""]);
            expectNothingLeft();
        });
    });
});
