/**
 * Day two: the trust anchor rotated without an outage (`npm run rotate-anchor`, docs/rotate-anchor.md), on the
 * real charts of edge-26.8.3 from the harness's Helm repository, the local cluster's real cert-manager and
 * trust-manager, and the proxy injector stand-in (which writes the trust roots into each proxy as the real
 * injector does). The anchor is the one the docs recommend: a cert-manager CA Certificate (ECDSA P-256, ten
 * years, privateKey.rotationPolicy Never) from a self-signed ClusterIssuer, whose Secret a CA ClusterIssuer
 * uses to issue linkerd-identity-issuer; the stack is in trust-anchor mode `bundle` with one meshed namespace
 * running a Deployment of two pods behind a PodDisruptionBudget.
 *
 * Asserted: `--dry-run` changes nothing; the rotation, interrupted once with Ctrl-C while it restarts the
 * control plane and run again, resumes and ends with the new anchor alone in the bundle (a new key), the old
 * one gone from it and its Secret deleted, the issuer signed by the new anchor, the stack file and the anchor's
 * rotationPolicy as they were, `npm run check` passing and `pulumi up --expect-no-changes`. A sampler reads the
 * cluster every second all along: every issued certificate that can be observed (the identity issuer) chains
 * to an anchor in the distributed bundle of every namespace the Bundle targets; the identity pods and every
 * meshed proxy trust the anchor of the issuer in use; and every meshed proxy trusts the anchor that signed the
 * issuer when each other running proxy started. What kwok cannot show: the proxies' own certificates (no proxy
 * runs, so none asks identity for one): a proxy's certificate is taken to chain to the issuer's anchor at the
 * time its pod started, and the identity pods' trust roots to be the bundle when they started (kubelet resolves
 * their environment from the ConfigMap; kwok does not).
 */
import * as fs from "fs";
import * as path from "path";
import { X509Certificate } from "crypto";
import { apply, kubectl, kubectlJson, repoRoot, run, RunResult } from "./support/env";
import { simulatedDeployment } from "./support/workloads";
import { CONTROL_PLANE_ONLY, e2eSuite, EDGE, output, sleep, TestStack, until } from "./support/suite";
import { parseCertificates, sameKey, signedByOneOf } from "../../lib/certificates";
import { makeRoot } from "../support/certs";
import { RESTART_MARKER_ANNOTATION, ROTATION_POLICY_ANNOTATION } from "../../lib/rotate/plan";

const e2e = e2eSuite("rotate-anchor", { releases: [EDGE] });
const timings: Record<string, number> = {};
afterAll(() => process.stderr.write(`[e2e rotate-anchor] timings (s): ${JSON.stringify(timings)}\n`));

const ANCHOR = { namespace: "cert-manager", name: "linkerd-trust-anchor", key: "ca.crt" };
const APPS = "apps";
/** kwok pod-ready delay while the first run restarts (so Ctrl-C lands during a rollout). */
const SLOW_PODS = { durationMilliseconds: 6000, jitterDurationMilliseconds: 9000 };
let stack: TestStack;

const cluster = () => e2e().cluster;
const fp = (c: X509Certificate) => c.fingerprint256.slice(0, 11);

function secretKey(namespace: string, name: string, key: string): string | undefined {
    try {
        const v = kubectl(cluster(), ["-n", namespace, "get", "secret", name, "-o", `go-template={{index .data "${key}"}}`]).trim();
        return v && v !== "<no value>" ? Buffer.from(v, "base64").toString("utf8") : undefined;
    } catch {
        return undefined;
    }
}

const anchorNow = () => new X509Certificate(secretKey(ANCHOR.namespace, ANCHOR.name, ANCHOR.key)!);
const issuerNow = () => new X509Certificate(secretKey("linkerd", "linkerd-identity-issuer", "tls.crt")!);

/** The distributed bundle of every namespace the Bundle targets (its namespaceSelector). */
function distributed(): Record<string, X509Certificate[]> {
    const bundle = kubectlJson(cluster(), ["get", "bundles.trust.cert-manager.io", "linkerd-identity-trust-roots"]);
    const labels = Object.entries(bundle.spec.target.namespaceSelector?.matchLabels ?? {}).map(([k, v]) => `${k}=${String(v)}`);
    const namespaces = kubectlJson(cluster(), ["get", "namespaces", ...(labels.length ? ["-l", labels.join(",")] : [])]).items.map(
        (n: any) => n.metadata.name as string,
    );
    const out: Record<string, X509Certificate[]> = {};
    for (const ns of namespaces) {
        const cm = kubectlJson(cluster(), ["-n", ns, "get", "configmap", "linkerd-identity-trust-roots"]);
        out[ns] = parseCertificates(cm.data["ca-bundle.crt"], `${ns} bundle`);
    }
    return out;
}

/** The trust roots the injector wrote into a meshed pod's proxy (container or native sidecar). */
function proxyRoots(pod: any): X509Certificate[] {
    const proxy = [...(pod.spec.initContainers ?? []), ...(pod.spec.containers ?? [])].find((c: any) => c.name === "linkerd-proxy");
    const env = (proxy?.env ?? []).find((e: any) => e.name === "LINKERD2_PROXY_IDENTITY_TRUST_ANCHORS");
    return env?.value ? parseCertificates(env.value, `${pod.metadata.name} trust roots`) : [];
}

const running = (pods: any[]) => pods.filter((p) => p.status?.phase === "Running" && !p.metadata.deletionTimestamp);
const has = (roots: X509Certificate[], anchor: X509Certificate) => roots.some((r) => r.fingerprint256 === anchor.fingerprint256);

interface Sampler {
    stop(): { samples: number; violations: string[]; states: string[] };
}

/**
 * Every second: the issuer chains to an anchor of every distributed bundle; the identity pods (their roots: the
 * bundle when each was first seen) and every meshed proxy trust the issuer's anchor; every meshed proxy trusts
 * the issuer's anchor at the time each other meshed pod was first seen (its certificate's chain). Records the
 * sequence of (bundle, issuer's anchor) states.
 */
function sampler(names: Record<string, string>): Sampler {
    const name = (c: X509Certificate) => names[c.fingerprint256] ?? fp(c);
    const startedWith = new Map<string, X509Certificate>(); // meshed pod -> issuer's anchor when first seen
    const identityRoots = new Map<string, X509Certificate[]>(); // identity pod -> bundle when first seen
    const violations = new Set<string>();
    const states: string[] = [];
    let samples = 0;
    const timer = setInterval(() => {
        try {
            const bundles = distributed();
            const issuer = issuerNow();
            const all = Object.values(bundles);
            const signer = signedByOneOf(issuer, all.flat());
            const state = `bundle {${[...new Set(all.flat().map(name))].sort().join(",")}}, issuer by ${signer ? name(signer) : "?"}`;
            if (states[states.length - 1] !== state) states.push(state);
            for (const [ns, roots] of Object.entries(bundles)) {
                if (!signedByOneOf(issuer, roots)) violations.add(`the issuer does not chain to the bundle in ${ns} (${state})`);
            }
            if (!signer) return;
            for (const p of running(
                kubectlJson(cluster(), ["-n", "linkerd", "get", "pods", "-l", "linkerd.io/control-plane-component=identity"]).items,
            )) {
                if (!identityRoots.has(p.metadata.name)) identityRoots.set(p.metadata.name, bundles.linkerd ?? all[0]);
                if (!has(identityRoots.get(p.metadata.name)!, signer))
                    violations.add(`identity pod ${p.metadata.name} does not trust the issuer's anchor ${name(signer)}`);
            }
            const meshed = running(kubectlJson(cluster(), ["-n", APPS, "get", "pods"]).items);
            for (const p of meshed) if (!startedWith.has(p.metadata.name)) startedWith.set(p.metadata.name, signer);
            for (const p of meshed) {
                const roots = proxyRoots(p);
                if (!has(roots, signer)) violations.add(`${p.metadata.name} does not trust the issuer's anchor ${name(signer)} (${state})`);
                for (const q of meshed) {
                    const chain = startedWith.get(q.metadata.name)!;
                    if (!has(roots, chain))
                        violations.add(`${p.metadata.name} does not trust ${q.metadata.name}'s certificate (anchor ${name(chain)})`);
                }
            }
            samples++;
        } catch {
            /* an object being replaced between two reads: next sample */
        }
    }, 1000);
    return {
        stop: () => {
            clearInterval(timer);
            return { samples, violations: [...violations], states };
        },
    };
}

function rotateAnchor(args: string[] = [], onSpawn?: (pid: number) => void): Promise<RunResult> {
    return run("npm", ["run", "--silent", "rotate-anchor", "--", "--stack", stack.name, "--stack-file", stack.file, ...args], {
        cwd: repoRoot,
        env: e2e().pulumi.env,
        timeoutMs: 30 * 60_000,
        onSpawn,
    });
}

/**
 * What the check says besides ok: nothing but the expected warning of this stack (edge without tracing:
 * pl-ext-proxy-tracing), as `id: status`.
 */
const notOk = (results: any[]) => results.filter((r) => r.status !== "ok").map((r) => `${r.id}: ${r.status}`);
const EXPECTED_WARNINGS = ["pl-ext-proxy-tracing: warn"];

function check(): Promise<RunResult> {
    return run("npm", ["run", "--silent", "check", "--", "--stack", stack.name, "--stack-file", stack.file, "--json"], {
        cwd: repoRoot,
        timeoutMs: 120_000,
    });
}

const kwokDelay = (on: boolean) =>
    kubectl(
        cluster(),
        on
            ? ["patch", "stages.kwok.x-k8s.io", "pod-ready", "--type=merge", "-p", JSON.stringify({ spec: { delay: SLOW_PODS } })]
            : ["patch", "stages.kwok.x-k8s.io", "pod-ready", "--type=json", "-p", JSON.stringify([{ op: "remove", path: "/spec/delay" }])],
    );

beforeAll(async () => {
    const t0 = Date.now();
    apply(cluster(), [
        { apiVersion: "v1", kind: "Namespace", metadata: { name: APPS } },
        { apiVersion: "cert-manager.io/v1", kind: "ClusterIssuer", metadata: { name: "e2e-self-signed" }, spec: { selfSigned: {} } },
        {
            apiVersion: "cert-manager.io/v1",
            kind: "Certificate",
            metadata: { name: ANCHOR.name, namespace: ANCHOR.namespace },
            spec: {
                secretName: ANCHOR.name,
                isCA: true,
                commonName: "root.linkerd.cluster.local",
                duration: "87600h",
                privateKey: { algorithm: "ECDSA", size: 256, rotationPolicy: "Never" },
                issuerRef: { name: "e2e-self-signed", kind: "ClusterIssuer", group: "cert-manager.io" },
            },
        },
        { apiVersion: "cert-manager.io/v1", kind: "ClusterIssuer", metadata: { name: ANCHOR.name }, spec: { ca: { secretName: ANCHOR.name } } },
    ]);
    kubectl(cluster(), ["-n", ANCHOR.namespace, "wait", "--for=condition=Ready", `certificates.cert-manager.io/${ANCHOR.name}`, "--timeout=120s"]);
    stack = await e2e().stack(`rotate-${process.pid}`, EDGE, {
        ...CONTROL_PLANE_ONLY,
        meshing: { namespaces: [APPS] },
        identity: {
            issuer: { issuerRef: { name: ANCHOR.name, kind: "ClusterIssuer" } },
            trustAnchor: { mode: "bundle", secret: ANCHOR },
        },
    });
    timings.up = (await stack.ok(["up", "--yes", "--skip-preview"])).seconds;
    apply(cluster(), [
        simulatedDeployment(APPS, "web", { replicas: 2 }),
        {
            apiVersion: "policy/v1",
            kind: "PodDisruptionBudget",
            metadata: { name: "web", namespace: APPS },
            spec: { minAvailable: 1, selector: { matchLabels: { app: "web" } } },
        },
    ]);
    kubectl(cluster(), ["-n", APPS, "rollout", "status", "deployment/web", "--timeout=180s"]);
    timings.setup = (Date.now() - t0) / 1000;
}, 15 * 60_000);

afterAll(async () => {
    if (stack) await stack.remove(true);
}, 5 * 60_000);

describe("npm run rotate-anchor on edge-26.8.3 (trust-anchor mode bundle, cert-manager anchor)", () => {
    let old: X509Certificate;

    test("the check passes first; --dry-run shows step 1 next, previews its up and changes nothing", async () => {
        const before = await check();
        expect([before.code, notOk(JSON.parse(before.stdout).results)]).toEqual([0, EXPECTED_WARNINGS]);
        old = anchorNow();
        const file = fs.readFileSync(stack.file, "utf8");
        const dry = await rotateAnchor(["--dry-run"]);
        expect([dry.code, dry.code === 0 ? "" : output(dry)]).toEqual([0, ""]);
        expect(dry.stdout).toMatch(/starting a rotation[\s\S]*\[next\] 1\. save-previous[\s\S]*\[ {4}\] 7\. restart-new/);
        expect(dry.stdout).toMatch(/pulumi preview of the next step's up against the cluster: 1 to update/);
        expect(fs.readFileSync(stack.file, "utf8")).toBe(file);
        expect(secretKey(ANCHOR.namespace, "linkerd-previous-anchor", "ca.crt")).toBeUndefined();
        expect(anchorNow().fingerprint256).toBe(old.fingerprint256);
    });

    test(
        "interrupted with Ctrl-C while it restarts the control plane, run again: the new anchor alone, no outage on the way",
        async () => {
            const t0 = Date.now();
            const sampling = sampler({ [old.fingerprint256]: "old" });
            let pid = 0;
            kwokDelay(true);
            let first: RunResult;
            try {
                const interrupted = rotateAnchor([], (p) => (pid = p));
                // Step 3 has begun once linkerd-identity's template carries the rotation's restart marker.
                await until("the first control-plane restart", 15 * 60_000, () => {
                    const d = kubectlJson(cluster(), ["-n", "linkerd", "get", "deployment", "linkerd-identity"]);
                    return !!d.spec.template.metadata.annotations?.[RESTART_MARKER_ANNOTATION];
                });
                await sleep(2000);
                process.kill(-pid, "SIGINT");
                first = await interrupted;
            } finally {
                kwokDelay(false);
            }
            timings.interrupted = (Date.now() - t0) / 1000;
            expect(first.code).not.toBe(0);
            expect(first.stdout).toMatch(/step 3\/7 \(restart-both\)/);
            expect(first.stdout).not.toMatch(/step 4\/7/);

            const t1 = Date.now();
            const resumed = await rotateAnchor();
            timings.resumed = (Date.now() - t1) / 1000;
            timings.rotation = (Date.now() - t0) / 1000;
            // The command's own per-step times (a step interrupted in the first run is counted in the run that finished it).
            for (const m of `${first.stdout}\n${resumed.stdout}`.matchAll(/^step (\d)\/7 \((\S+)\) done in ([\d.]+)s$/gm)) {
                timings[`${m[1]}-${m[2]}`] = (timings[`${m[1]}-${m[2]}`] ?? 0) + Number(m[3]);
            }
            if (process.env.PICLUSTER_E2E_ROTATE_LOG) {
                fs.writeFileSync(process.env.PICLUSTER_E2E_ROTATE_LOG, `${output(first)}\n---- resumed ----\n${output(resumed)}`);
            }
            const sampled = sampling.stop();
            expect([resumed.code, resumed.code === 0 ? "" : output(resumed)]).toEqual([0, ""]);
            expect(resumed.stdout).toMatch(/resuming at step 3\/7/);
            for (const [n, s] of [
                [3, "restart-both"],
                [4, "reissue-issuer"],
                [5, "restart-issuer"],
                [6, "drop-previous"],
                [7, "restart-new"],
            ]) {
                expect(resumed.stdout).toMatch(
                    new RegExp(`check after step ${n} \\(${s}\\):[\\s\\S]*?\\d+ ok, \\d+ warning\\(s\\), 0 failure\\(s\\)`),
                );
            }
            expect(first.stdout).toMatch(
                /check after step 1 \(save-previous\):[\s\S]*?0 failure\(s\)[\s\S]*check after step 2 \(new-anchor\):[\s\S]*?0 failure\(s\)/,
            );

            // The new anchor: a new key, alone in every distributed bundle; the old one gone, its Secret deleted.
            const fresh = anchorNow();
            expect(sameKey(fresh, old)).toBe(false);
            for (const [ns, roots] of Object.entries(distributed())) expect([ns, roots.map(fp)]).toEqual([ns, [fp(fresh)]]);
            expect(signedByOneOf(issuerNow(), [fresh])).toBeDefined();
            expect(secretKey(ANCHOR.namespace, "linkerd-previous-anchor", "ca.crt")).toBeUndefined();
            expect(fs.readFileSync(stack.file, "utf8")).not.toMatch(/previousSecret/);
            // Nothing written beside Pulumi.yaml (the Automation API's outputs read after each up would leave a salt file).
            expect(fs.existsSync(path.join(repoRoot, `Pulumi.${stack.name}.yaml`))).toBe(false);
            const certificate = kubectlJson(cluster(), ["-n", ANCHOR.namespace, "get", "certificates.cert-manager.io", ANCHOR.name]);
            expect(certificate.spec.privateKey.rotationPolicy).toBe("Never");
            expect(certificate.metadata.annotations?.[ROTATION_POLICY_ANNOTATION]).toBeUndefined();
            // Every meshed proxy now trusts the new anchor only.
            for (const p of running(kubectlJson(cluster(), ["-n", APPS, "get", "pods"]).items)) expect(proxyRoots(p).map(fp)).toEqual([fp(fresh)]);

            // At every sample: the issuer chained to the distributed bundle, and every proxy trusted every certificate in use.
            sampled.states = sampled.states.map((s) => s.replaceAll(fp(fresh), "new"));
            process.stderr.write(`[e2e rotate-anchor] ${sampled.samples} samples; states: ${JSON.stringify(sampled.states)}\n`);
            expect(sampled.violations).toEqual([]);
            // The sampler ran all along (about one sample a second when idle; fewer on a loaded machine); the states asserted next prove it saw every step.
            expect(sampled.samples).toBeGreaterThan(10);
            expect(sampled.states).toEqual([
                "bundle {old}, issuer by old",
                "bundle {new,old}, issuer by old",
                "bundle {new,old}, issuer by new",
                "bundle {new}, issuer by new",
            ]);

            const after = await check();
            const results = JSON.parse(after.stdout).results;
            expect([after.code, notOk(results)]).toEqual([0, EXPECTED_WARNINGS]);
            expect(results.find((r: any) => r.id === "pl-identity-trust-anchor-expiry")).toMatchObject({ status: "ok" });
            await stack.ok(["up", "--yes", "--expect-no-changes"]);
        },
        30 * 60_000,
    );

    test("after the rotation: --new-anchor is refused where cert-manager issues the anchor (exit 2, nothing changed); --dry-run says a run would start a new rotation", async () => {
        const anchor = anchorNow().fingerprint256;
        const file = fs.readFileSync(stack.file, "utf8");
        const dir = path.join(e2e().work, "new-anchor");
        const made = makeRoot(dir, { cn: "root.linkerd.cluster.local" });
        fs.copyFileSync(made.crtFile, path.join(dir, "tls.crt"));
        fs.copyFileSync(made.keyFile, path.join(dir, "tls.key"));
        const refused = await rotateAnchor(["--new-anchor", dir]);
        expect([refused.code, refused.stderr]).toEqual([
            2,
            expect.stringMatching(/--new-anchor: .*issued by cert-manager Certificate .*run it without --new-anchor/s),
        ]);
        const dry = await rotateAnchor(["--dry-run"]);
        expect([dry.code, dry.stdout]).toEqual([0, expect.stringMatching(/starting a rotation[\s\S]*\[next\] 1\. save-previous/)]);
        expect([anchorNow().fingerprint256, fs.readFileSync(stack.file, "utf8")]).toEqual([anchor, file]);
        expect(secretKey(ANCHOR.namespace, "linkerd-previous-anchor", "ca.crt")).toBeUndefined();
    });
});
