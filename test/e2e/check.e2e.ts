/**
 * End-to-end for `npm run check`: after a real `pulumi up` of the real charts on the local cluster,
 * the check passes, on edge-26.8.3 and on stable-2.14.10; then, on stable-2.14.10, five things are
 * broken one at a time — the trust anchor in linkerd-config, an expired issuer, a running pod without
 * the proxy in a meshed namespace, a Longhorn template reset by an upgrade, a missing Linkerd CRD —
 * and each time the check names it with its fix and exits 1.
 *
 * The pods' proxies are what the proxy injector adds: the real chart's webhook configuration, served by
 * the injector stand-in of the local cluster (docs/toolchain.md). The cluster has no Gateway API CRDs
 * of its own, so linkerd-crds installs them. `npm run toolchain` first; run with `npm run test:e2e -- check`.
 */
import * as fs from "fs";
import * as path from "path";
import { parse as parseYaml, stringify as stringifyYaml } from "yaml";
import { apply, binDir, kubectl, kubectlJson, makeRootCA, repoRoot, run, sh } from "./support/env";
import { simulatedDeployment } from "./support/workloads";
import { CheckResult } from "../../check";
import { crdsInHelmRelease } from "../../cli/check";
import { e2eSuite, EDGE, randomPassword, STABLE, TestStack } from "./support/suite";
import type { LinkerdRelease } from "../../lib/release";

const e2e = e2eSuite("check", { releases: [STABLE, EDGE] });
const timings: Record<string, number> = {};
let stack: TestStack;

interface CheckRun {
    code: number;
    stdout: string;
    stderr: string;
    results: CheckResult[];
}

/** `npm run check` as a user runs it, with --json. */
async function check(extra: string[] = []): Promise<CheckRun> {
    const res = await run("npm", ["run", "--silent", "check", "--", "--stack", stack.name, "--stack-file", stack.file, "--json", ...extra], {
        cwd: repoRoot,
        timeoutMs: 120_000,
    });
    let results: CheckResult[];
    try {
        results = JSON.parse(res.stdout).results;
    } catch {
        throw new Error(`npm run check printed no JSON (exit ${res.code}):\n${res.stdout}\n${res.stderr}`);
    }
    return { code: res.code, stdout: res.stdout, stderr: res.stderr, results };
}

const failed = (r: CheckRun) => r.results.filter((x) => x.status === "fail");
const failedNames = (r: CheckRun) => failed(r).map((x) => x.name);
const failedIds = (r: CheckRun) => failed(r).map((x) => x.id);

afterAll(() => process.stderr.write(`[e2e check] timings (s): ${JSON.stringify(timings)}\n`));

/** `pulumi up` of the whole program for `release`, then `npm run check` passes. */
async function upAndCheckPasses(release: LinkerdRelease): Promise<void> {
    stack = await e2e().stack(`check-${release.minor}-${process.pid}`, release);
    await stack.set("vizDashboardPassword", randomPassword(20), true);
    timings[`${release.version} up`] = (await stack.ok(["up", "--yes", "--skip-preview"])).seconds;
    // The Longhorn steps annotated longhorn-manager and longhorn-ui: their restarted pods get the proxy.
    for (const workload of ["daemonset/longhorn-manager", "deployment/longhorn-ui"]) {
        kubectl(e2e().cluster, ["-n", "longhorn-system", "rollout", "status", workload, "--timeout=180s"]);
    }
    const t0 = Date.now();
    const r = await check();
    timings[`${release.version} check`] = (Date.now() - t0) / 1000;
    expect({ code: r.code, failed: failed(r) }).toEqual({ code: 0, failed: [] });
    for (const group of ["control plane", "identity", "data plane", "extensions", "longhorn"]) {
        expect([group, r.results.some((x) => x.group === group && x.status === "ok")]).toEqual([group, true]);
    }
    // No Prometheus object exists here to compare the PodMonitors with: the only warnings allowed.
    const warned = r.results.filter((x) => x.status === "warn").map((x) => x.name);
    for (const name of warned) expect(name).toMatch(/^podmonitor monitoring\/linkerd-.*$/);
    expect(r.results.find((x) => x.name === "trust anchor matches the program's")?.status).toBe("ok");
    expect(r.results.find((x) => x.id === "pl-identity-trust-anchor-matches")?.status).toBe("ok");
    expect(r.results.find((x) => x.name === "Linkerd CRDs")?.message).toMatch(/all \d+ CRDs of the linkerd-crds release are present/);
    // The table for people, same result.
    const table = await run("npm", ["run", "--silent", "check", "--", "--stack", stack.name, "--stack-file", stack.file], { cwd: repoRoot });
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^npm run check: stack check-\d+-\d+, context /);
    expect(table.stdout).toMatch(/\d+ ok, \d+ warning\(s\), 0 failure\(s\)/);
}

describe("npm run check after pulumi up on edge-26.8.3", () => {
    test("passes: exit 0, no failure; the only warnings are what this cluster cannot show", async () => {
        await upAndCheckPasses(EDGE);
        timings["edge destroy"] = (await stack.ok(["destroy", "--yes"])).seconds;
        await stack.remove();
    });
});

describe("npm run check after pulumi up on stable-2.14.10", () => {
    test("passes: exit 0, no failure; the only warnings are what this cluster cannot show", async () => {
        await upAndCheckPasses(STABLE);
    });

    test("the verifyCommands output points to npm run check for this stack", async () => {
        const out = await stack.outputs();
        expect(out.verifyCommands[0]).toBe(`npm run check -- --stack ${stack.name}`);
    });
});

describe("npm run check on stable-2.14.10 names each break with its fix (exit 1)", () => {
    afterAll(async () => {
        if (stack) await stack.remove(true);
    }, 5 * 60_000);

    test("a wrong trust anchor in linkerd-config", async () => {
        const cm = kubectlJson(e2e().cluster, ["-n", "linkerd", "get", "configmap", "linkerd-config"]);
        const original = cm.data.values as string;
        const other = makeRootCA(path.join(e2e().work, "other-ca"));
        const values = parseYaml(original);
        values.identityTrustAnchorsPEM = other.crt;
        const patch = (v: string) =>
            kubectl(e2e().cluster, [
                "-n",
                "linkerd",
                "patch",
                "configmap",
                "linkerd-config",
                "--type=merge",
                "-p",
                JSON.stringify({ data: { values: v } }),
            ]);
        patch(stringifyYaml(values));
        try {
            const r = await check();
            expect(r.code).toBe(1);
            expect(failedNames(r)).toEqual(["trust anchor matches the program's", "issuer signed by the trust anchor"]);
            expect(failedIds(r)).toEqual(["pl-identity-trust-anchor-matches", "pl-identity-issuer-signed"]);
            const [match] = failed(r);
            expect(match.message).toMatch(
                /ConfigMap linkerd\/linkerd-config .* does not carry the anchor the program uses \("CN=picluster-e2e-root-ca".*from Secret linkerd\/linkerd-identity-issuer \(ca.crt\)\)/,
            );
            expect(match.fix).toMatch(
                /pulumi up -s check-\d+-\d+.*get manifest linkerd-control-plane \| .*kubectl --kubeconfig .* --context .* apply -f -/,
            );
        } finally {
            patch(original);
        }
        expect((await check()).code).toBe(0);
    });

    test("an issuer that expired while cert-manager was not running (cluster powered off)", async () => {
        // cert-manager does not run while the cluster is off.
        await e2e().cluster.stopProcess("cert-manager");
        const secret = kubectlJson(e2e().cluster, ["-n", "linkerd", "get", "secret", "linkerd-identity-issuer"]);
        const original = { "tls.crt": secret.data["tls.crt"], "tls.key": secret.data["tls.key"] };
        const dir = path.join(e2e().work, "expired-issuer");
        fs.mkdirSync(dir);
        fs.writeFileSync(
            path.join(dir, "ext.cnf"),
            "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectAltName=DNS:identity.linkerd.cluster.local\n",
        );
        sh("openssl", ["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "key.sec1"], { cwd: dir });
        sh("openssl", ["pkcs8", "-topk8", "-nocrypt", "-in", "key.sec1", "-out", "tls.key"], { cwd: dir });
        sh("openssl", ["req", "-new", "-key", "tls.key", "-subj", "/CN=identity.linkerd.cluster.local", "-out", "tls.csr"], { cwd: dir });
        // -days -1: signed by the real root CA, valid until a day ago.
        const ca = ["-CA", path.join(e2e().rootCA.dir, "ca.crt"), "-CAkey", path.join(e2e().rootCA.dir, "ca.key"), "-CAcreateserial"];
        sh("openssl", ["x509", "-req", "-in", "tls.csr", ...ca, "-days", "-1", "-extfile", "ext.cnf", "-out", "tls.crt"], { cwd: dir });
        const b64 = (f: string) => fs.readFileSync(path.join(dir, f)).toString("base64");
        const patch = (data: Record<string, string>) =>
            kubectl(e2e().cluster, ["-n", "linkerd", "patch", "secret", "linkerd-identity-issuer", "--type=merge", "-p", JSON.stringify({ data })]);
        patch({ "tls.crt": b64("tls.crt"), "tls.key": b64("tls.key") });
        try {
            const r = await check();
            expect(r.code).toBe(1);
            expect(failedNames(r)).toEqual(["issuer validity"]);
            expect(failedIds(r)).toEqual(["pl-identity-issuer-validity"]);
            const [expired] = failed(r);
            expect(expired.message).toMatch(
                /"CN=identity.linkerd.cluster.local" in Secret linkerd\/linkerd-identity-issuer \(tls.crt\) expired on .*ago.*powered off past the expiry/,
            );
            expect(expired.fix).toMatch(/let cert-manager run: it re-issues the Secret/);
            expect(expired.fix).toMatch(/kubectl --kubeconfig .* -n linkerd rollout restart deployment\/linkerd-identity/);
        } finally {
            patch(original);
            await e2e().cluster.startProcess("cert-manager");
        }
        expect((await check()).code).toBe(0);
    });

    test("a running pod without the proxy in a meshed namespace; --restart rolls its Deployment", async () => {
        // Started while the proxy injector could not be reached (its webhook fails open: failurePolicy Ignore),
        // as pods started before their namespace was annotated: no proxy container. kwok's kubelet runs it.
        await e2e().cluster.stopProcess("cluster-network");
        try {
            apply(e2e().cluster, [simulatedDeployment("monitoring", "e2e-unmeshed")]);
            kubectl(e2e().cluster, ["-n", "monitoring", "rollout", "status", "deployment/e2e-unmeshed", "--timeout=180s"]);
        } finally {
            await e2e().cluster.startProcess("cluster-network");
        }
        const pod = kubectlJson(e2e().cluster, ["-n", "monitoring", "get", "pods", "-l", "app=e2e-unmeshed"]).items[0].metadata.name;
        try {
            const r = await check();
            expect(r.code).toBe(1);
            expect(failedNames(r)).toEqual(["namespace monitoring"]);
            expect(failedIds(r)).toEqual(["pl-dp-meshed-namespace"]);
            const [unmeshed] = failed(r);
            expect(unmeshed.message).toMatch(
                new RegExp(`1 running pod\\(s\\) in meshed namespace monitoring without the linkerd-proxy container .*: ${pod}`),
            );
            expect(unmeshed.restart).toEqual(["Deployment/monitoring/e2e-unmeshed"]);
            expect(unmeshed.fix).toContain(`npm run check -- --stack ${stack.name} --restart`);
            // Never restarted by default.
            expect(
                kubectlJson(e2e().cluster, ["-n", "monitoring", "get", "deployment", "e2e-unmeshed"]).spec.template.metadata.annotations ?? {},
            ).toEqual({});

            const restarted = await run("npm", ["run", "--silent", "check", "--", "--stack", stack.name, "--stack-file", stack.file, "--restart"], {
                cwd: repoRoot,
            });
            expect(restarted.code).toBe(1); // the pod was unmeshed when checked
            expect(restarted.stdout).toContain("restarted: Deployment/monitoring/e2e-unmeshed");
            const annotations = kubectlJson(e2e().cluster, ["-n", "monitoring", "get", "deployment", "e2e-unmeshed"]).spec.template.metadata
                .annotations;
            expect(Object.keys(annotations)).toContain("kubectl.kubernetes.io/restartedAt");
        } finally {
            kubectl(e2e().cluster, ["-n", "monitoring", "delete", "deployment", "e2e-unmeshed", "--wait=true"]);
            // The garbage collector removes its ReplicaSets and pods (unscheduled pods go at once).
            for (
                let i = 0;
                i < 60 && kubectl(e2e().cluster, ["-n", "monitoring", "get", "pods", "-l", "app=e2e-unmeshed", "-o", "name"]).trim();
                i++
            ) {
                await new Promise((r) => setTimeout(r, 1000));
            }
        }
        expect((await check()).code).toBe(0);
    });

    test("a Longhorn upgrade reset longhorn-manager's template; the printed pulumi up --replace fixes it", async () => {
        // What the Longhorn chart's upgrade does: POD_IP from status.podIP again, no inject annotation.
        kubectl(e2e().cluster, [
            "-n",
            "longhorn-system",
            "patch",
            "daemonset",
            "longhorn-manager",
            "--type=strategic",
            "-p",
            JSON.stringify({
                spec: {
                    template: {
                        spec: {
                            containers: [
                                {
                                    name: "longhorn-manager",
                                    env: [{ name: "POD_IP", value: null, valueFrom: { fieldRef: { apiVersion: "v1", fieldPath: "status.podIP" } } }],
                                },
                            ],
                        },
                    },
                },
            }),
        ]);
        kubectl(e2e().cluster, [
            "-n",
            "longhorn-system",
            "patch",
            "daemonset",
            "longhorn-manager",
            "--type=json",
            "-p",
            JSON.stringify([{ op: "remove", path: "/spec/template/metadata/annotations/linkerd.io~1inject" }]),
        ]);
        const r = await check();
        expect(r.code).toBe(1);
        expect(failedNames(r)).toEqual(["longhorn-manager POD_IP", "daemonset longhorn-system/longhorn-manager"]);
        expect(failedIds(r)).toEqual(["pl-longhorn-pod-ip", "pl-longhorn-workload"]);
        const fix = failed(r)[0].fix!;
        expect(fix).toMatch(
            /pulumi up -s check-\d+-\d+ --replace 'urn:pulumi:.*::linkerd-longhorn-mesh-pod-ip' --replace 'urn:pulumi:.*::linkerd-longhorn-mesh-annotate'/,
        );
        // Apply the fix as printed (the URNs must name the program's resources).
        const urns = [...fix.matchAll(/--replace '([^']+)'/g)].map((m) => m[1]);
        const up = await stack.ok(["up", "--yes", "--skip-preview", ...urns.flatMap((u) => ["--replace", u])]);
        expect(up.stdout).toMatch(/2 replaced/);
        expect((await check()).code).toBe(0);
    });

    test("a missing Linkerd CRD", async () => {
        kubectl(e2e().cluster, ["delete", "crd", "serviceprofiles.linkerd.io", "--wait=true"]);
        const r = await check();
        expect(r.code).toBe(1);
        expect(failedNames(r)).toEqual(["Linkerd CRDs"]);
        expect(failedIds(r)).toEqual(["pl-cp-crds"]);
        expect(failed(r)[0].message).toMatch(/1 CRD\(s\) the linkerd-crds release installed are missing: serviceprofiles.linkerd.io/);
        expect(failed(r)[0].fix).toMatch(
            /helm --kubeconfig .* --kube-context .* -n linkerd get manifest linkerd-crds \| kubectl .* apply --server-side -f -/,
        );
        const record = kubectl(e2e().cluster, [
            "-n",
            "linkerd",
            "get",
            "secret",
            "-l",
            "owner=helm,name=linkerd-crds,status=deployed",
            "-o",
            "jsonpath={.items[0].data.release}",
        ]);
        expect(crdsInHelmRelease(record)).toContain("serviceprofiles.linkerd.io");
        // The fix as printed, run as a user would (helm and kubectl of the toolchain on PATH).
        const command = /`([^`]*get manifest linkerd-crds[^`]*)`/.exec(failed(r)[0].fix!)![1];
        sh("bash", ["-c", command], { env: { ...process.env, PATH: `${binDir}:${process.env.PATH}` } });
        kubectl(e2e().cluster, ["wait", "--for=condition=Established", "crd/serviceprofiles.linkerd.io", "--timeout=60s"]);
        expect((await check()).code).toBe(0);
    });
});
