import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse as parseYaml } from "yaml";
import { proxyVersionOf, targetRelease, writeRelease } from "../cli/upgrade";
import { resolveRelease } from "../lib/release";
import { awaitsShutdown, jobsUsingShutdown } from "../lib/upgrade/jobs";
import { HOP_RELEASES, directUpgradeProblems, formatPlan, hopReleases, minorOfVersion, planUpgrade, releaseOfVersion } from "../lib/upgrade/plan";
import { oldestProxyMinor, runningLinkerd } from "../lib/upgrade/running";

const STABLE = resolveRelease("stable", "2.14.10");
const EDGE = resolveRelease("edge", "edge-26.8.3");
const ctx = { shutdownJobs: [], tracing: true };

describe("the plan: one major at a time", () => {
    test("2.14.10 -> edge-26.8.3 goes through 2.15 ... 2.19 and ends at the target", () => {
        expect(hopReleases(STABLE, EDGE).map((r) => r.version)).toEqual([
            "edge-24.7.5",
            "edge-24.8.2",
            "edge-24.11.8",
            "edge-25.4.4",
            "edge-25.10.7",
            "edge-26.8.3",
        ]);
        // Each hop release is the major it stands for.
        for (const [minor, version] of Object.entries(HOP_RELEASES)) expect(releaseOfVersion(version)?.minor).toBe(Number(minor));
    });

    test("a guide install of 2.12 or 2.13 goes through the last 2.13 and 2.14 stable releases first", () => {
        const from = resolveRelease("stable", "2.12.3");
        expect(hopReleases(from, EDGE).map((r) => r.version)).toEqual([
            "2.13.7",
            "2.14.10",
            "edge-24.7.5",
            "edge-24.8.2",
            "edge-24.11.8",
            "edge-25.4.4",
            "edge-25.10.7",
            "edge-26.8.3",
        ]);
        expect(hopReleases(resolveRelease("stable", "2.14.3"), STABLE).map((r) => r.version)).toEqual(["2.14.10"]);
    });

    test("within a major, one hop; at the target, none", () => {
        expect(hopReleases(resolveRelease("edge", "edge-26.6.3"), EDGE).map((r) => r.version)).toEqual(["edge-26.8.3"]);
        expect(hopReleases(EDGE, EDGE)).toEqual([]);
        expect(formatPlan(planUpgrade({ controlPlane: EDGE }, EDGE, ctx))).toMatch(/^nothing to do/);
    });

    test("each hop names its hazards; the one that needs the user stops the upgrade before it", () => {
        const plan = planUpgrade({ controlPlane: STABLE, oldestProxyMinor: 14 }, EDGE, { ...ctx, shutdownJobs: ["Job/monitoring/backup"] });
        const ids = plan.hops.map((h) => h.hazards.map((z) => `${z.id}:${z.handling}`));
        expect(ids[0]).toContain("policy-crds-first:handled");
        expect(ids[1]).toContain("shutdown-endpoint-off:action");
        expect(ids.flat()).toEqual(expect.arrayContaining(["jaeger-removed:handled", "iptables-nft:handled", "native-sidecar-default:handled"]));
        expect(formatPlan(plan)).toMatch(
            /hop 2\/6: edge-24.7.5 -> edge-24.8.2[\s\S]*\[ACTION\] shutdown-endpoint-off: .*Job\/monitoring\/backup .*controlPlane.enableShutdownEndpoint/,
        );
        const kept = planUpgrade({ controlPlane: STABLE }, EDGE, { ...ctx, shutdownJobs: ["Job/monitoring/backup"], enableShutdownEndpoint: true });
        expect(kept.hops[1].hazards.find((z) => z.id === "shutdown-endpoint-off")?.handling).toBe("handled");
        const oldKube = planUpgrade({ controlPlane: STABLE }, EDGE, { ...ctx, kubernetesMinor: 29 });
        expect(oldKube.hops[5].hazards.find((z) => z.id === "kubernetes-version")).toMatchObject({ handling: "action" });
    });

    test("no downgrade, and no plan while proxies are two majors behind", () => {
        expect(planUpgrade({ controlPlane: EDGE }, STABLE, ctx).problems[0]).toMatch(/older than the running control plane/);
        expect(planUpgrade({ controlPlane: STABLE }, resolveRelease("stable", "2.14.3"), ctx).problems[0]).toMatch(
            /older than the running control plane/,
        );
        expect(
            planUpgrade({ controlPlane: resolveRelease("edge", "edge-26.8.3") }, resolveRelease("edge", "edge-26.6.3"), ctx).problems,
        ).toHaveLength(1);
        expect(planUpgrade({ controlPlane: resolveRelease("edge", "edge-24.8.2"), oldestProxyMinor: 14 }, EDGE, ctx).problems[0]).toMatch(
            /2.14 proxies, more than one major behind/,
        );
    });
});

describe("a plain pulumi up is refused at preview when it would skip a major", () => {
    test("2.14.10 running, edge-26.8.3 asked: refused naming npm run upgrade", () => {
        const [p] = directUpgradeProblems(EDGE, { controlPlane: STABLE, oldestProxyMinor: 14 }, "picluster");
        expect(p).toMatch(
            /6 majors ahead of the control plane running on the cluster \(2.14.10\).*npm run upgrade -- --stack picluster --to edge-26.8.3/,
        );
    });

    test("one major ahead is fine; proxies two behind are not; a downgrade is not", () => {
        const next = resolveRelease("edge", "edge-24.7.5");
        expect(directUpgradeProblems(next, { controlPlane: STABLE, oldestProxyMinor: 14 }, "s")).toEqual([]);
        expect(directUpgradeProblems(resolveRelease("edge", "edge-24.8.2"), { controlPlane: next, oldestProxyMinor: 14 }, "s")[0]).toMatch(
            /proxies run 2.14 more than one major behind/,
        );
        expect(directUpgradeProblems(STABLE, { controlPlane: EDGE }, "s")[0]).toMatch(/does not support downgrades/);
        expect(directUpgradeProblems(EDGE, {}, "s")).toEqual([]);
    });
});

describe("what runs now", () => {
    test("linkerd-config's linkerdVersion and the meshed pods' proxy versions", () => {
        const running = runningLinkerd({ values: "identityTrustAnchorsPEM: x\nlinkerdVersion: stable-2.14.10\n" }, [
            {
                metadata: { namespace: "monitoring", name: "a", annotations: { "linkerd.io/proxy-version": "stable-2.14.10" } },
                status: { phase: "Running" },
            },
            {
                metadata: { namespace: "linkerd", name: "cp", annotations: { "linkerd.io/proxy-version": "stable-2.14.10" } },
                status: { phase: "Running" },
            },
            {
                metadata: { namespace: "monitoring", name: "done", annotations: { "linkerd.io/proxy-version": "stable-2.13.4" } },
                status: { phase: "Succeeded" },
            },
            { metadata: { namespace: "viz", name: "b", annotations: { "linkerd.io/proxy-version": "edge-24.7.5" } }, status: { phase: "Running" } },
        ]);
        expect(running.controlPlane?.version).toBe("2.14.10");
        expect(running.meshedPods.map((p) => p.pod)).toEqual(["monitoring/a", "viz/b"]);
        expect(oldestProxyMinor(running)).toBe(14);
        expect(minorOfVersion("stable-2.13.4")).toBe(13);
        expect(releaseOfVersion("edge-25.4.4")?.minor).toBe(18);
        expect(proxyVersionOf(STABLE)).toBe("stable-2.14.10");
    });
});

describe("Jobs that stop their proxy through /shutdown", () => {
    test("linkerd-await --shutdown in command or args", () => {
        expect(awaitsShutdown({ command: ["linkerd-await", "--shutdown", "--", "backup"] })).toBe(true);
        expect(awaitsShutdown({ command: ["/bin/sh", "-c"], args: ["/usr/bin/linkerd-await -S -- ./run.sh"] })).toBe(true);
        expect(awaitsShutdown({ command: ["linkerd-await", "--", "serve"] })).toBe(false);
        const job = (kind: string, spec: object) => ({ kind, metadata: { namespace: "ns", name: "j" }, spec });
        expect(
            jobsUsingShutdown([
                job("Job", { template: { spec: { containers: [{ command: ["linkerd-await", "--shutdown", "--", "x"] }] } } }),
                job("CronJob", { jobTemplate: { spec: { template: { spec: { containers: [{ args: ["linkerd-await --shutdown -- y"] }] } } } } }),
                job("Job", { template: { spec: { containers: [{ command: ["x"] }] } } }),
            ]),
        ).toEqual(["Job/ns/j", "CronJob/ns/j"]);
    });
});

describe("the stack file carries each hop's release", () => {
    test("writeRelease sets channel and version and keeps everything else, comments included", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "upgrade-test-"));
        const file = path.join(dir, "Pulumi.s.yaml");
        fs.writeFileSync(
            file,
            "encryptionsalt: abc\nconfig:\n  # the guide's cluster\n  picluster-linkerd:linkerd:\n    chartRepository: http://x\n  picluster-linkerd:viz:\n    enabled: false\n",
        );
        writeRelease(file, resolveRelease("edge", "edge-24.7.5"));
        const text = fs.readFileSync(file, "utf8");
        expect(text).toContain("# the guide's cluster");
        expect(parseYaml(text)).toEqual({
            encryptionsalt: "abc",
            config: {
                "picluster-linkerd:linkerd": { chartRepository: "http://x", channel: "edge", version: "edge-24.7.5" },
                "picluster-linkerd:viz": { enabled: false },
            },
        });
        expect(targetRelease("2.14.10").version).toBe("2.14.10");
        expect(() => targetRelease("edge-20.1.1")).toThrow(/older than edge-24.2.4/);
        fs.rmSync(dir, { recursive: true, force: true });
    });
});
