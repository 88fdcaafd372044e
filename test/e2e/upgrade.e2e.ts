/**
 * Day two, end to end, on the real charts of every Linkerd major from 2.14 to 2.20: a guide-made
 * stable-2.14.10 install with an HTTPRoute, a Server, a meshed Deployment and a meshed Job that stops
 * its proxy with `linkerd-await --shutdown`, taken over (adopt.enabled), then `npm run upgrade -- --to
 * edge-26.8.3`, with kubernetes.version "1.37" (k3s then ships the Gateway API CRDs itself: the case where a
 * straight jump used to delete the HTTPRoute CRD and every route). Asserted: a plain `pulumi up` jumping majors is refused at preview; `--dry-run` prints
 * every hop with its hazards and changes nothing; the upgrade stops before 2.16 because the Job needs
 * the /shutdown endpoint, with the cluster at a consistent hop and the command to resume; resumed, it
 * goes through every major with the check passing after each hop; while it runs, no meshed proxy is
 * ever more than one major behind the control plane (sampled from the pods' proxy-version
 * annotations); no HTTPRoute, Server or namespace is lost or replaced; a second run has nothing to do.
 */
import { GATEWAY_API_CRDS } from "../../lib/gatewayApi";
import { HOP_RELEASES, minorOfVersion } from "../../lib/upgrade/plan";
import { releaseOfVersion } from "../../lib/release";
import { apply, kubectl, kubectlJson, repoRoot, run, RunResult } from "./support/env";
import { guideInstall } from "./support/guide";
import { proxyVersionOf } from "./support/mesh";
import { simulatedDeployment } from "./support/workloads";
import { CONTROL_PLANE_ONLY, e2eSuite, EDGE, output, STABLE, TestStack } from "./support/suite";

/** The hop releases past the guide's 2.14.10 (the charts of every one of them are in the repository). */
const HOPS = Object.values(HOP_RELEASES)
    .map((v) => releaseOfVersion(v)!)
    .filter((r) => r.minor > STABLE.minor);
const e2e = e2eSuite("upgrade", { releases: [STABLE, ...HOPS, EDGE] });
const timings: Record<string, number> = {};
afterAll(() => process.stderr.write(`[e2e upgrade] timings (s): ${JSON.stringify(timings)}\n`));

let stack: TestStack;

/** `npm run upgrade` as a user runs it, with the stack's backend and the toolchain's pulumi on PATH. */
function upgrade(args: string[]): Promise<RunResult> {
    return run("npm", ["run", "--silent", "upgrade", "--", "--stack", stack.name, "--stack-file", stack.file, ...args], {
        cwd: repoRoot,
        env: e2e().pulumi.env,
        timeoutMs: 40 * 60_000,
    });
}

/** What must survive the upgrade untouched: the user's objects and namespaces, by uid. */
function userObjects(): Record<string, string> {
    const { cluster } = e2e();
    const uid = (args: string[]) => kubectlJson(cluster, ["get", ...args]).metadata.uid as string;
    return {
        httproute: uid(["-n", "monitoring", "httproutes.gateway.networking.k8s.io", "e2e-route"]),
        server: uid(["-n", "monitoring", "servers.policy.linkerd.io", "e2e-server"]),
        namespaceLinkerd: uid(["namespace", "linkerd"]),
        namespaceMonitoring: uid(["namespace", "monitoring"]),
        crd: uid(["crd", GATEWAY_API_CRDS.httpRoutes]),
    };
}

/**
 * Samples, every second while the upgrade runs, the control plane's version and the meshed pods' proxy
 * versions, and records the largest gap in majors seen between them.
 */
function skewSampler(): { stop(): { samples: number; maxSkew: number; worst: string } } {
    const { cluster } = e2e();
    let samples = 0;
    let maxSkew = 0;
    let worst = "";
    const timer = setInterval(() => {
        try {
            const values = kubectl(cluster, ["-n", "linkerd", "get", "configmap", "linkerd-config", "-o", 'go-template={{index .data "values"}}']);
            const cp = /^linkerdVersion: (\S+)/m.exec(values)?.[1];
            const cpMinor = cp ? minorOfVersion(cp) : undefined;
            const pods = kubectlJson(cluster, ["get", "pods", "-A", "-l", "linkerd.io/control-plane-ns"]).items.filter(
                (p: any) => p.metadata.namespace !== "linkerd" && p.status.phase === "Running",
            );
            for (const p of pods) {
                const v = p.metadata.annotations?.["linkerd.io/proxy-version"];
                const m = v ? minorOfVersion(v) : undefined;
                if (cpMinor !== undefined && m !== undefined && cpMinor - m > maxSkew) {
                    maxSkew = cpMinor - m;
                    worst = `${p.metadata.namespace}/${p.metadata.name} ran ${v} under ${cp}`;
                }
            }
            samples++;
        } catch {
            /* the API server restarting, or linkerd-config being replaced: next sample */
        }
    }, 1000);
    return {
        stop: () => {
            clearInterval(timer);
            return { samples, maxSkew, worst };
        },
    };
}

beforeAll(async () => {
    const t0 = Date.now();
    const { cluster } = e2e();
    guideInstall(e2e(), STABLE);
    // The user's own objects: a route and a Server (Linkerd 2.14's API versions), a meshed Deployment and a meshed Job.
    apply(cluster, [
        {
            apiVersion: "gateway.networking.k8s.io/v1beta1",
            kind: "HTTPRoute",
            metadata: { name: "e2e-route", namespace: "monitoring" },
            spec: {
                parentRefs: [{ name: "e2e-server", kind: "Server", group: "policy.linkerd.io" }],
                rules: [{ matches: [{ path: { value: "/" } }] }],
            },
        },
        {
            apiVersion: "policy.linkerd.io/v1beta1",
            kind: "Server",
            metadata: { name: "e2e-server", namespace: "monitoring" },
            spec: { podSelector: { matchLabels: { app: "e2e-web" } }, port: 8080 },
        },
        simulatedDeployment("monitoring", "e2e-web"),
        {
            apiVersion: "batch/v1",
            kind: "Job",
            metadata: { name: "e2e-backup", namespace: "monitoring" },
            spec: {
                template: {
                    metadata: { annotations: { "linkerd.io/inject": "enabled" } },
                    spec: {
                        restartPolicy: "Never",
                        containers: [
                            { name: "backup", image: "registry.k8s.io/pause:3.10", command: ["linkerd-await", "--shutdown", "--", "/backup"] },
                        ],
                    },
                },
            },
        },
    ]);
    kubectl(cluster, ["-n", "monitoring", "rollout", "status", "deployment/e2e-web", "--timeout=180s"]);
    // Taken over as README "Coming from the guide" says, then on the program's values.
    stack = await e2e().stack(`upgrade-${process.pid}`, STABLE, {
        // The measured data-loss case: a k3s that ships the Gateway API CRDs itself (1.37+) while 2.14's linkerd-crds owns HTTPRoute.
        kubernetes: { version: "1.37" },
        ...CONTROL_PLANE_ONLY,
        meshing: { namespaces: ["monitoring"] },
        adopt: { enabled: true, helmReleases: ["linkerd-crds", "linkerd-control-plane"] },
    });
    await stack.ok(["up", "--yes", "--skip-preview"]);
    await stack.ok(["config", "rm", "--path", "picluster-linkerd:adopt"]);
    await stack.ok(["up", "--yes", "--skip-preview"]);
    kubectl(cluster, ["-n", "monitoring", "rollout", "restart", "deployment/e2e-web"]);
    kubectl(cluster, ["-n", "monitoring", "rollout", "status", "deployment/e2e-web", "--timeout=180s"]);
    timings.setup = (Date.now() - t0) / 1000;
}, 10 * 60_000);

afterAll(async () => {
    if (stack) await stack.remove(true);
}, 5 * 60_000);

describe("npm run upgrade from the guide's stable-2.14.10 to edge-26.8.3", () => {
    let before: Record<string, string>;

    test("a plain `pulumi up` that skips majors is refused at preview, naming npm run upgrade", async () => {
        before = userObjects();
        const preview = await stack.run(["preview"]);
        // The stack file still says 2.14.10: a preview of edge-26.8.3 through a copy of it.
        const jumping = await e2e().stack(`jump-${process.pid}`, EDGE, {
            ...CONTROL_PLANE_ONLY,
            meshing: { namespaces: ["monitoring"] },
        });
        const refused = await jumping.run(["preview"]);
        await jumping.discard();
        expect(preview.code).toBe(0);
        expect(refused.code).not.toBe(0);
        expect(output(refused)).toMatch(
            /picluster-linkerd:linkerd\.version: edge-26\.8\.3 \(Linkerd 2\.20\) is 6 majors ahead of the control plane running on the cluster \(2\.14\.10\).*npm run upgrade -- --stack jump-\d+ --to edge-26\.8\.3/,
        );
    });

    test("--dry-run prints every hop with its hazards, previews each, and changes nothing", async () => {
        const res = await upgrade(["--to", EDGE.version, "--dry-run"]);
        timings.dryRun = res.seconds;
        expect([res.code, res.code === 0 ? "" : output(res)]).toEqual([0, ""]);
        for (const [i, v] of ["edge-24.7.5", "edge-24.8.2", "edge-24.11.8", "edge-25.4.4", "edge-25.10.7", "edge-26.8.3"].entries()) {
            expect(res.stdout).toContain(`hop ${i + 1}/6: `);
            expect(res.stdout).toContain(`hop ${i + 1}/6 (${v}) changes:`);
        }
        expect(res.stdout).toMatch(/pulumi preview of hop 1 \(edge-24\.7\.5\) against the cluster: (\d+ to [a-z]+, )*\d+ to update/);
        expect(res.stdout).toMatch(
            /hop 1\/6 \(edge-24\.7\.5\) changes:\n {2}linkerd-crds: chart 1\.8\.0 -> 2024\.7\.5\n {2}linkerd-control-plane: chart 1\.16\.11 -> 2024\.7\.5/,
        );
        // From edge-25.9.4 linkerd-crds no longer ships the Gateway API CRDs by default: the program keeps them (it owns them).
        expect(res.stdout).toMatch(
            /hop 5\/6 \(edge-25\.10\.7\) changes:\n {2}linkerd-crds: chart 2025\.4\.4 -> 2025\.10\.7\n {2}linkerd-crds: values \+ installGatewayAPI\n/,
        );
        expect(res.stdout).toMatch(/\[ACTION\] shutdown-endpoint-off: .*Job\/monitoring\/e2e-backup/);
        expect(kubectl(e2e().cluster, ["-n", "linkerd", "get", "configmap", "linkerd-config", "-o", "jsonpath={.data.values}"])).toMatch(
            /linkerdVersion: stable-2\.14\.10/,
        );
    });

    test("stops before 2.16 (the Job needs /shutdown) at a consistent hop; resumed with the endpoint on, it goes through every major", async () => {
        const sampler = skewSampler();
        const first = await upgrade(["--to", EDGE.version]);
        timings.firstRun = first.seconds;
        expect(first.code).toBe(1);
        expect(first.stderr).toMatch(/stopped before edge-24\.8\.2: .*e2e-backup.*controlPlane\.enableShutdownEndpoint/);
        expect(first.stderr).toContain(`the cluster runs edge-24.7.5; then resume: npm run upgrade -- --stack ${stack.name}`);
        expect(first.stdout).toMatch(/check after the hop to edge-24\.7\.5:[\s\S]*\d+ ok, \d+ warning\(s\), 0 failure\(s\)/);
        // The proxies followed the control plane.
        const web = kubectlJson(e2e().cluster, ["-n", "monitoring", "get", "pods", "-l", "app=e2e-web"]).items;
        expect(web.map((p: any) => p.metadata.annotations["linkerd.io/proxy-version"])).toEqual(["edge-24.7.5"]);

        await stack.set("controlPlane.enableShutdownEndpoint", "true");
        const resumed = await upgrade(["--to", EDGE.version]);
        timings.resumed = resumed.seconds;
        const skew = sampler.stop();
        expect([resumed.code, resumed.code === 0 ? "" : output(resumed)]).toEqual([0, ""]);
        for (const v of ["edge-24.8.2", "edge-24.11.8", "edge-25.4.4", "edge-25.10.7", "edge-26.8.3"]) {
            expect(resumed.stdout).toMatch(
                new RegExp(`check after the hop to ${v.replace(/\./g, "\\.")}:[\\s\\S]*?\\d+ ok, \\d+ warning\\(s\\), 0 failure\\(s\\)`),
            );
        }
        expect(skew.samples).toBeGreaterThan(30);
        expect([skew.maxSkew, skew.worst]).toEqual([expect.any(Number), expect.any(String)]);
        expect(`max skew ${skew.maxSkew} (${skew.worst})`).toMatch(/^max skew [01] /);
    });

    test("after it: edge-26.8.3 everywhere, nothing of the user's lost or replaced", async () => {
        const { cluster } = e2e();
        expect(kubectl(cluster, ["-n", "linkerd", "get", "configmap", "linkerd-config", "-o", "jsonpath={.data.values}"])).toMatch(
            /linkerdVersion: edge-26\.8\.3/,
        );
        const web = kubectlJson(cluster, ["-n", "monitoring", "get", "pods", "-l", "app=e2e-web"]).items;
        expect(web.map((p: any) => p.metadata.annotations["linkerd.io/proxy-version"])).toEqual([proxyVersionOf(EDGE)]);
        expect(userObjects()).toEqual(before);
        // Stored at v1 only (written back at each hop): Gateway API CRDs of v1.2+ can replace these one day.
        for (const crd of [GATEWAY_API_CRDS.httpRoutes, GATEWAY_API_CRDS.grpcRoutes]) {
            expect([crd, kubectlJson(cluster, ["get", "crd", crd]).status.storedVersions]).toEqual([crd, ["v1"]]);
        }
        expect(kubectlJson(cluster, ["-n", "monitoring", "get", "httproutes.v1.gateway.networking.k8s.io", "e2e-route"]).apiVersion).toBe(
            "gateway.networking.k8s.io/v1",
        );
        // The stack file names the release now running: a plain `up` has nothing to do.
        await stack.ok(["up", "--yes", "--expect-no-changes"]);
    });

    test("a second run has nothing to do", async () => {
        const again = await upgrade(["--to", EDGE.version]);
        expect([again.code, again.stdout]).toEqual([0, expect.stringMatching(/nothing to do/)]);
    });
});
