/**
 * End-to-end: a cluster where Linkerd was installed the guide's way first (kubectl + helm from the
 * Helm repository, no Pulumi), then taken over with `adopt.enabled`: the first `up` imports the Helm
 * releases and replaces, reinstalls or restarts nothing; the second `up` shows no changes. README
 * "Coming from the guide". For the guide's stable-2.14.10 and for edge-26.8.3, on the real charts.
 */
import * as fs from "fs";
import * as path from "path";
import { apply, kubectl, kubectlJson } from "./support/env";
import { guideInstall, helm } from "./support/guide";
import { podProxies, proxyVersionOf } from "./support/mesh";
import { simulatedDeployment } from "./support/workloads";
import { e2eSuite, EDGE, STABLE, TestStack } from "./support/suite";
import type { LinkerdRelease } from "../../lib/release";

const e2e = e2eSuite("adoption", { releases: [STABLE, EDGE] });

/** Helm's release records (one Secret per revision). */
function helmRevisions(namespace: string, release: string): number[] {
    return kubectlJson(e2e().cluster, ["-n", namespace, "get", "secrets", "-l", `owner=helm,name=${release}`])
        .items.map((s: { metadata: { labels: { version: string } } }) => Number(s.metadata.labels.version))
        .sort();
}

describe.each([
    ["stable-2.14.10", STABLE],
    ["edge-26.8.3", EDGE],
] as const)("adopting an installation of %s made the guide's way", (_, release: LinkerdRelease) => {
    let stack: TestStack;
    let configMapVersion: string;
    let revisionsAfterAdoption: number[];
    const cluster = () => e2e().cluster;

    beforeAll(async () => {
        guideInstall(e2e(), release);
        // What this cluster has: Linkerd's two releases; viz, jaeger and an ingress controller are not part of this case.
        stack = await e2e().stack(`adopt-${release.minor}-${process.pid}`, release, {
            viz: { enabled: false },
            jaeger: { enabled: false },
            ingress: { controller: "none" },
            adopt: { enabled: true, helmReleases: ["linkerd-crds", "linkerd-control-plane"] },
        });
    }, 10 * 60_000);

    /** Deployment generations and pod uids: what a restart changes. */
    const generations = (namespace: string): Record<string, number> =>
        Object.fromEntries(
            kubectlJson(cluster(), ["-n", namespace, "get", "deployments"]).items.map((d: { metadata: { name: string; generation: number } }) => [
                d.metadata.name,
                d.metadata.generation,
            ]),
        );
    const podUids = (namespace: string, selector: string): string[] =>
        kubectlJson(cluster(), ["-n", namespace, "get", "pods", "-l", selector])
            .items.map((p: { metadata: { uid: string } }) => p.metadata.uid)
            .sort();
    /** What must never restart: identity, and the meshed workloads (their proxies keep running). */
    const untouched = () => ({
        identity: podUids("linkerd", "linkerd.io/control-plane-component=identity"),
        identityGeneration: generations("linkerd")["linkerd-identity"],
        workload: podUids("monitoring", "app=e2e-meshed"),
    });
    let before: ReturnType<typeof untouched>;
    let generationsBefore: Record<string, number>;

    test("the first up imports the Helm releases and replaces, reinstalls or restarts nothing", async () => {
        for (const d of ["linkerd-identity", "linkerd-destination", "linkerd-proxy-injector"]) {
            kubectl(cluster(), ["-n", "linkerd", "rollout", "status", `deployment/${d}`, "--timeout=180s"]);
        }
        // A workload meshed by the guide's namespace annotation, running its proxy.
        apply(cluster(), [simulatedDeployment("monitoring", "e2e-meshed")]);
        kubectl(cluster(), ["-n", "monitoring", "rollout", "status", "deployment/e2e-meshed", "--timeout=180s"]);
        expect(podProxies(cluster(), "monitoring", "app=e2e-meshed").map((p) => p.version)).toEqual([proxyVersionOf(release)]);
        configMapVersion = kubectlJson(cluster(), ["-n", "linkerd", "get", "configmap", "linkerd-config"]).metadata.resourceVersion;
        before = untouched();
        generationsBefore = generations("linkerd");
        const eventLog = path.join(e2e().work, `adopt-events-${release.minor}.jsonl`);
        await stack.ok(["up", "--yes", "--skip-preview", "--event-log", eventLog]);
        const ops = fs
            .readFileSync(eventLog, "utf8")
            .split("\n")
            .filter((l) => l.trim())
            .map((l) => JSON.parse(l).resOutputsEvent?.metadata)
            .filter((m) => m)
            .map((m: { op: string; urn: string }) => `${m.op} ${m.urn.split("::").pop()}`);
        expect(ops).toEqual(expect.arrayContaining(["import linkerd-control-plane-crds", "import linkerd-control-plane"]));
        expect(ops.filter((o) => /^(replace|create-replacement|delete|delete-replaced|discard)/.test(o))).toEqual([]);
        // Helm: never reinstalled (revision 1 is kept). The import may record one upgrade that only moves the
        // release to the program's chart location; it keeps the guide's own values (ignored while adopting).
        revisionsAfterAdoption = helmRevisions("linkerd", "linkerd-control-plane");
        expect(revisionsAfterAdoption[0]).toBe(1);
        expect(revisionsAfterAdoption.length).toBeLessThanOrEqual(2);
        const values = JSON.parse(helm(e2e(), ["get", "values", "linkerd-control-plane", "-n", "linkerd", "-o", "json"]));
        expect(Object.keys(values).sort()).toEqual(["identity", "identityTrustAnchorsPEM"]);
        // identity and the meshed workload untouched; linkerd-config untouched. The one Helm upgrade regenerates the
        // chart's webhook certificates (as any `helm upgrade` of the chart does): destination and proxy-injector roll once.
        expect(untouched()).toEqual(before);
        const after = generations("linkerd");
        for (const d of ["linkerd-destination", "linkerd-proxy-injector"]) {
            expect([d, after[d] - generationsBefore[d]]).toEqual([d, revisionsAfterAdoption.length - 1]);
        }
        expect(kubectlJson(cluster(), ["-n", "linkerd", "get", "configmap", "linkerd-config"]).metadata.resourceVersion).toBe(configMapVersion);
        // The objects the guide made by hand are now the program's, updated in place.
        const ns = kubectlJson(cluster(), ["get", "namespace", "linkerd"]);
        expect(ns.metadata.labels).toMatchObject({ "config.linkerd.io/admission-webhooks": "disabled" });
        expect(kubectl(cluster(), ["-n", "linkerd", "get", "certificate", "linkerd-identity-issuer", "-o", "name"]).trim()).toBe(
            "certificate.cert-manager.io/linkerd-identity-issuer",
        );
    });

    test("the second up shows no changes", async () => {
        await stack.ok(["up", "--yes", "--expect-no-changes"]);
        expect(helmRevisions("linkerd", "linkerd-control-plane")).toEqual(revisionsAfterAdoption);
        expect(untouched()).toEqual(before);
    });

    test("adopt.enabled false: the preview shows the upgrade to the program's values, nothing replaced", async () => {
        await stack.set("adopt.enabled", "false");
        const preview = await stack.ok(["preview", "--diff"]);
        expect(preview.stdout).toMatch(/~ kubernetes:helm.sh\/v3:Release: \(update\)[\s\S]*linkerd-control-plane/);
        expect(preview.stdout).not.toMatch(/\+-|replace/);
        await stack.remove();
        kubectl(cluster(), ["-n", "monitoring", "delete", "deployment", "e2e-meshed", "--wait=true"]);
    });
});
