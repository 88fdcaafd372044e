/**
 * The trust-anchor rotation's steps (lib/rotate/plan.ts), decided from what the cluster shows, on
 * certificates made in the test: every state a run can stop in leads to the step that continues it,
 * and the end of one rotation is told apart from the start of the next.
 */
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { X509Certificate } from "crypto";
import {
    ISSUER_RENEWAL_GUARD_SECONDS,
    ROTATION_STEPS,
    RotationFacts,
    bundleIs,
    decideRotation,
    formatRotationPlan,
    issuerRenewsTooSoon,
    restartMarker,
} from "../lib/rotate/plan";
import { MadeCert, makeIssuer, makeRoot } from "./support/certs";
import { REPO } from "./support/render";

let dir: string;
let oldAnchor: MadeCert;
let newAnchor: MadeCert;
let oldRenewed: string; // the old anchor renewed with the same key
let stranger: MadeCert;
let issuerOld: MadeCert;
let issuerNew: MadeCert;
let issuerStranger: MadeCert;

beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "picluster-rotate-"));
    oldAnchor = makeRoot(dir, { cn: "root.linkerd.cluster.local" });
    newAnchor = makeRoot(dir, { cn: "root.linkerd.cluster.local" });
    stranger = makeRoot(dir, { cn: "stranger.test" });
    execFileSync(
        "openssl",
        ["req", "-x509", "-new", "-key", oldAnchor.keyFile, "-subj", "/CN=root.linkerd.cluster.local", "-days", "20", "-out", "renewed.crt"],
        {
            cwd: dir,
            stdio: ["ignore", "ignore", "pipe"],
        },
    );
    oldRenewed = fs.readFileSync(path.join(dir, "renewed.crt"), "utf8");
    issuerOld = makeIssuer(dir, oldAnchor);
    issuerNew = makeIssuer(dir, newAnchor);
    issuerStranger = makeIssuer(dir, stranger);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const x = (pem: string) => new X509Certificate(pem);
const WORKLOADS = ["linkerd/deployment/linkerd-identity", "linkerd/deployment/linkerd-destination", "apps/deployment/web"];
const markers = (m: string | undefined, except: Record<string, string | undefined> = {}) =>
    Object.fromEntries(WORKLOADS.map((w) => [w, w in except ? except[w] : m]));

/** A cluster before any rotation. */
function fresh(over: Partial<RotationFacts> = {}): RotationFacts {
    return {
        current: oldAnchor.crt,
        previousConfigured: false,
        bundleHasPreviousSource: false,
        distributed: { linkerd: oldAnchor.crt },
        issuer: issuerOld.crt,
        markers: markers(undefined),
        ...over,
    };
}

/** The overlap: the anchor re-issued with a new key, the previous one in the Bundle. */
function overlap(over: Partial<RotationFacts> = {}): RotationFacts {
    return fresh({
        current: newAnchor.crt,
        previous: oldAnchor.crt,
        previousConfigured: true,
        bundleHasPreviousSource: true,
        distributed: { linkerd: newAnchor.crt + oldAnchor.crt },
        ...over,
    });
}

function stepOf(facts: RotationFacts) {
    const d = decideRotation(facts);
    if (d.kind !== "step") throw new Error(`expected a step, got: ${d.message}`);
    return d;
}

describe("the step, from what the cluster shows", () => {
    test("a cluster never rotated starts at step 1, keeping the current anchor as the previous one", () => {
        expect(stepOf(fresh())).toMatchObject({ step: "save-previous", resuming: false, previousPem: oldAnchor.crt, bundle: [oldAnchor.crt] });
    });

    test("step 1 interrupted: the previous-anchor Secret written, the stack file or the up not yet", () => {
        expect(stepOf(fresh({ previous: oldAnchor.crt }))).toMatchObject({ step: "save-previous", resuming: true, previousPem: oldAnchor.crt });
        expect(stepOf(fresh({ previous: oldAnchor.crt, previousConfigured: true }))).toMatchObject({ step: "save-previous", resuming: true });
    });

    test("the previous anchor in the Bundle and the anchor still on its old key: step 2, a new anchor", () => {
        const saved = fresh({ previous: oldAnchor.crt, previousConfigured: true, bundleHasPreviousSource: true });
        expect(stepOf(saved)).toMatchObject({ step: "new-anchor", resuming: true });
        expect(stepOf(saved).bundle).toBeUndefined();
        // Renewed meanwhile with the same key (rotationPolicy Never): not a new anchor yet.
        expect(stepOf({ ...saved, current: oldRenewed })).toMatchObject({ step: "new-anchor" });
    });

    test("a new key: the control plane and the workloads restart for both anchors, then the issuer is re-issued", () => {
        const m1 = restartMarker([x(newAnchor.crt), x(oldAnchor.crt)], x(oldAnchor.crt));
        expect(stepOf(overlap())).toMatchObject({ step: "restart-both", marker: m1, bundle: [newAnchor.crt, oldAnchor.crt] });
        // Interrupted halfway through the restarts: the rest still to do.
        const half = stepOf(overlap({ markers: markers(m1, { "apps/deployment/web": undefined }) }));
        expect(half).toMatchObject({ step: "restart-both", reason: expect.stringMatching(/^1 workload/) });
        expect(stepOf(overlap({ markers: markers(m1) }))).toMatchObject({ step: "reissue-issuer" });
    });

    test("the issuer from the new anchor: restarts again, then the previous anchor goes", () => {
        const m1 = restartMarker([x(newAnchor.crt), x(oldAnchor.crt)], x(oldAnchor.crt));
        const m2 = restartMarker([x(oldAnchor.crt), x(newAnchor.crt)], x(newAnchor.crt));
        expect(m2).not.toBe(m1);
        expect(stepOf(overlap({ issuer: issuerNew.crt, markers: markers(m1) }))).toMatchObject({ step: "restart-issuer", marker: m2 });
        expect(stepOf(overlap({ issuer: issuerNew.crt, markers: markers(m2) }))).toMatchObject({ step: "drop-previous", bundle: [newAnchor.crt] });
        // Step 6 interrupted after the stack file edit, after the up, or before the Secret was deleted.
        const done = { issuer: issuerNew.crt, markers: markers(m2) };
        expect(stepOf(overlap({ ...done, previousConfigured: false }))).toMatchObject({ step: "drop-previous" });
        expect(stepOf(overlap({ ...done, previousConfigured: false, bundleHasPreviousSource: false }))).toMatchObject({ step: "drop-previous" });
    });

    test("the previous anchor gone: the last restarts, then the rotation is over (a new run starts the next one)", () => {
        const m2 = restartMarker([x(oldAnchor.crt), x(newAnchor.crt)], x(newAnchor.crt));
        const m3 = restartMarker([x(newAnchor.crt)], x(newAnchor.crt));
        const after = { current: newAnchor.crt, issuer: issuerNew.crt, distributed: { linkerd: newAnchor.crt } };
        expect(stepOf(fresh({ ...after, markers: markers(m2) }))).toMatchObject({ step: "restart-new", marker: m3, resuming: true });
        expect(stepOf(fresh({ ...after, markers: markers(m3, { "apps/deployment/web": m2 }) }))).toMatchObject({ step: "restart-new" });
        // A workload created since, without a marker, is no reason to restart.
        expect(stepOf(fresh({ ...after, markers: markers(m3, { "apps/deployment/new": undefined }) }))).toMatchObject({
            step: "save-previous",
            resuming: false,
        });
    });

    test("the previous-anchor Secret lost mid-rotation is re-created from the distributed bundle", () => {
        const d = stepOf(overlap({ previous: undefined }));
        expect(d).toMatchObject({
            step: "save-previous",
            resuming: true,
            previousPem: x(oldAnchor.crt).toString(),
            bundle: [newAnchor.crt, expect.any(String)],
        });
        expect(x(d.previousPem!).fingerprint256).toBe(x(oldAnchor.crt).fingerprint256);
        expect(
            decideRotation(overlap({ previous: undefined, distributed: { linkerd: newAnchor.crt + oldAnchor.crt + stranger.crt } })),
        ).toMatchObject({
            kind: "problem",
            message: expect.stringMatching(/cannot be told/),
        });
    });

    test("refused: previousSecret removed from the stack file while the issuer still needs the previous anchor; an issuer of neither anchor; no anchor", () => {
        expect(decideRotation(overlap({ previousConfigured: false }))).toMatchObject({
            kind: "problem",
            message: expect.stringMatching(/put it back/),
        });
        expect(decideRotation(overlap({ issuer: issuerStranger.crt }))).toMatchObject({
            kind: "problem",
            message: expect.stringMatching(/signed by neither/),
        });
        expect(decideRotation(fresh({ current: undefined }))).toMatchObject({ kind: "problem", message: expect.stringMatching(/anchor Secret/) });
    });
});

describe("helpers", () => {
    test("the marker depends on the set of anchors, not their order, and on the issuer's anchor", () => {
        const [o, n] = [x(oldAnchor.crt), x(newAnchor.crt)];
        expect(restartMarker([o, n], o)).toBe(restartMarker([n, o, n], o));
        expect(restartMarker([o, n], o)).not.toBe(restartMarker([o, n], n));
        expect(restartMarker([o, n], o)).toMatch(/^[0-9a-f]{16}$/);
    });

    test("bundleIs: every targeted namespace holds exactly the anchors, duplicates aside", () => {
        expect(bundleIs({ linkerd: oldAnchor.crt + oldAnchor.crt }, [oldAnchor.crt])).toBe(true);
        expect(bundleIs({ linkerd: oldAnchor.crt, other: oldAnchor.crt + newAnchor.crt }, [oldAnchor.crt])).toBe(false);
        expect(bundleIs({ linkerd: undefined }, [oldAnchor.crt])).toBe(false);
        expect(bundleIs({}, [oldAnchor.crt])).toBe(false);
    });

    test("the issuer is renewed ahead of the rotation when its own renewal is due within the guard", () => {
        const now = new Date("2026-12-01T00:00:00Z");
        const at = (s: number) => new Date(now.getTime() + s * 1000).toISOString();
        expect(issuerRenewsTooSoon(at(ISSUER_RENEWAL_GUARD_SECONDS - 60), now)).toBe(true);
        expect(issuerRenewsTooSoon(at(ISSUER_RENEWAL_GUARD_SECONDS + 60), now)).toBe(false);
        expect(issuerRenewsTooSoon(undefined, now)).toBe(false);
    });

    test("the plan marks the steps done, next and to do", () => {
        const texts = Object.fromEntries(ROTATION_STEPS.map((s) => [s, `does ${s}`])) as Record<(typeof ROTATION_STEPS)[number], string>;
        const plan = formatRotationPlan("reissue-issuer", texts).split("\n");
        expect(plan).toHaveLength(7);
        expect(plan[2]).toBe("  [done] 3. restart-both: does restart-both");
        expect(plan[3]).toBe("  [next] 4. reissue-issuer: does reissue-issuer");
        expect(plan[6]).toBe("  [    ] 7. restart-new: does restart-new");
    });
});

describe("npm run rotate-anchor refuses what it cannot rotate, before reading the cluster", () => {
    test("trust-anchor mode pem: exit 2, saying how to switch and what the switch restarts", () => {
        const file = path.join(dir, "Pulumi.pem.yaml");
        fs.writeFileSync(file, `config:\n  picluster-linkerd:kubernetes: {kubeconfig: /nonexistent/kubeconfig, context: pi}\n`);
        const res = spawnSync(
            path.join(REPO, "node_modules/.bin/ts-node"),
            ["--transpile-only", path.join(REPO, "cli/rotate-anchor.ts"), "--stack", "pem", "--stack-file", file],
            {
                cwd: REPO,
                encoding: "utf8",
                timeout: 60_000,
            },
        );
        expect(res.status).toBe(2);
        expect(res.stderr).toMatch(
            /mode "pem".*needs mode "bundle".*identity.trustAnchor.mode.*identity.externalCA, which rolls the control plane's Deployments/s,
        );
    });
});
