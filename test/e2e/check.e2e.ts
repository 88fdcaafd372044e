/**
 * End-to-end for `npm run check`: after a real `pulumi up` on the local control plane, the check
 * passes; then five things are broken one at a time — the trust anchor in linkerd-config, an expired
 * issuer, a running pod without the proxy in a meshed namespace, a Longhorn template reset by an
 * upgrade, a missing Linkerd CRD — and each time the check names it with its fix and exits 1.
 *
 * kwok's nodes run the stand-in charts' pods (their linkerd-proxy containers stand in for what the
 * chart and the proxy injector add on a cluster).
 * `npm run toolchain` first; run with `npm run test:e2e -- check`.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { gunzipSync } from "zlib";
import { parse as parseYaml, stringify as stringifyYaml } from "yaml";
import {
    apply,
    checkToolchain,
    Cluster,
    externalCluster,
    kubectl,
    kubectlJson,
    kubectlPath,
    makeRootCA,
    prepareCluster,
    Pulumi,
    randomPassword,
    repoRoot,
    run,
    sh,
    startCluster,
} from "./support/env";
import { simulatedDeployment } from "./support/workloads";
import { writeStandInCharts } from "./support/standInCharts";
import { resolveRelease } from "../../lib/release";
import { CONTROL_PLANE_DEPLOYMENTS, CheckResult, JAEGER_DEPLOYMENTS, VIZ_DEPLOYMENTS } from "../../lib/check";
import { crdsInHelmRelease } from "../../cli/check";

const PROJECT = "picluster-linkerd";

checkToolchain();

let work: string;
let cluster: Cluster;
let pulumi: Pulumi;
let rootCA: { dir: string; crt: string; key: string };
const stack = `e2e-check-${process.pid}`;
let configFile: string;
const timings: Record<string, number> = {};

interface CheckRun {
    code: number;
    stdout: string;
    stderr: string;
    results: CheckResult[];
}

/** `npm run check` as a user runs it, with --json. */
async function check(extra: string[] = []): Promise<CheckRun> {
    const res = await run("npm", ["run", "--silent", "check", "--", "--stack", stack, "--stack-file", configFile, "--json", ...extra], {
        cwd: repoRoot,
        timeoutMs: 120_000,
    });
    let results: CheckResult[] = [];
    try {
        results = JSON.parse(res.stdout).results;
    } catch {
        throw new Error(`npm run check printed no JSON (exit ${res.code}):\n${res.stdout}\n${res.stderr}`);
    }
    return { code: res.code, stdout: res.stdout, stderr: res.stderr, results };
}

const failed = (r: CheckRun) => r.results.filter((x) => x.status === "fail");
const failedNames = (r: CheckRun) => failed(r).map((x) => x.name);

beforeAll(
    async () => {
        const t0 = Date.now();
        work = fs.mkdtempSync(path.join(os.tmpdir(), "picluster-e2e-check-"));
        cluster = await startCluster(work);
        rootCA = makeRootCA(path.join(work, "root-ca"));
        prepareCluster(cluster, rootCA);
        pulumi = new Pulumi(work);
        configFile = path.join(work, `Pulumi.${stack}.yaml`);
        await pulumi.initStack(repoRoot, stack, configFile);
        await pulumi.setConfig(repoRoot, stack, configFile, `${PROJECT}:kubernetes.kubeconfig`, cluster.kubeconfig);
        await pulumi.setConfig(repoRoot, stack, configFile, `${PROJECT}:kubernetes.context`, cluster.context);
        if (!externalCluster) {
            const charts = path.join(work, "charts");
            writeStandInCharts(charts, resolveRelease("stable", "2.14.10"));
            await pulumi.setConfig(repoRoot, stack, configFile, `${PROJECT}:linkerd.chartDirectory`, charts);
            await pulumi.setConfig(repoRoot, stack, configFile, `${PROJECT}:ingress.traefik.chartDirectory`, charts);
        }
        await pulumi.setConfig(repoRoot, stack, configFile, `${PROJECT}:longhorn.kubectl`, kubectlPath());
        await pulumi.setConfig(repoRoot, stack, configFile, `${PROJECT}:vizDashboardPassword`, randomPassword(20), true);
        const up = await pulumi.ok(repoRoot, ["up", "--yes", "--skip-preview", "--config-file", configFile, "-s", stack]);
        timings.up = up.seconds;
        // STAND-IN for the proxy injector (no admission webhook here): after the Longhorn steps annotated
        // longhorn-manager and longhorn-ui, their restarted pods get the proxy on a cluster.
        for (const workload of ["daemonset/longhorn-manager", "deployment/longhorn-ui"]) {
            const proxy = { name: "linkerd-proxy", image: "registry.k8s.io/pause:3.10" };
            kubectl(cluster, [
                "-n",
                "longhorn-system",
                "patch",
                workload,
                "--type=json",
                "-p",
                JSON.stringify([{ op: "add", path: "/spec/template/spec/containers/-", value: proxy }]),
            ]);
            kubectl(cluster, ["-n", "longhorn-system", "rollout", "status", workload, "--timeout=180s"]);
        }
        // kwok's nodes run the charts' pods; Helm already waited for them, this only says so.
        for (const [namespace, names] of [
            ["linkerd", CONTROL_PLANE_DEPLOYMENTS],
            ["linkerd-viz", VIZ_DEPLOYMENTS],
            ["linkerd-jaeger", JAEGER_DEPLOYMENTS],
        ] as const) {
            for (const name of names) kubectl(cluster, ["-n", namespace, "rollout", "status", `deployment/${name}`, "--timeout=180s"]);
        }
        timings.setup = (Date.now() - t0) / 1000;
    },
    10 * 60 * 1000,
);

afterAll(
    async () => {
        await cluster?.stop();
        if (work && !process.env.PICLUSTER_E2E_KEEP) fs.rmSync(work, { recursive: true, force: true });
        process.stderr.write(`[e2e check] timings (s): ${JSON.stringify(timings)}\n`);
    },
    3 * 60 * 1000,
);

describe("npm run check after pulumi up", () => {
    test("passes: exit 0, no failure; the only warnings are what this cluster cannot show", async () => {
        const t0 = Date.now();
        const r = await check();
        timings.check = (Date.now() - t0) / 1000;
        expect({ code: r.code, failed: failed(r) }).toEqual({ code: 0, failed: [] });
        for (const group of ["control plane", "identity", "data plane", "extensions", "longhorn"]) {
            expect([group, r.results.some((x) => x.group === group && x.status === "ok")]).toEqual([group, true]);
        }
        // No Traefik runs here, and no Prometheus object exists to compare the PodMonitors with.
        const warned = r.results.filter((x) => x.status === "warn").map((x) => x.name);
        for (const name of warned) expect(name).toMatch(/^(Traefik|podmonitor monitoring\/linkerd-.*)$/);
        expect(r.results.find((x) => x.name === "trust anchor matches the program's")?.status).toBe("ok");
        expect(r.results.find((x) => x.name === "Linkerd CRDs")?.message).toMatch(/all 1 CRDs of the linkerd-crds release are present/);
        // The table for people, same result.
        const table = await run("npm", ["run", "--silent", "check", "--", "--stack", stack, "--stack-file", configFile], { cwd: repoRoot });
        expect(table.code).toBe(0);
        expect(table.stdout).toMatch(/^npm run check: stack e2e-check-\d+, context /);
        expect(table.stdout).toMatch(/\d+ ok, \d+ warning\(s\), 0 failure\(s\)/);
    });

    test("the verifyCommands output points to npm run check for this stack", async () => {
        const out = await pulumi.ok(repoRoot, ["stack", "output", "verifyCommands", "--json", "-s", stack]);
        expect(JSON.parse(out.stdout)[0]).toBe(`npm run check -- --stack ${stack}`);
    });
});

describe("npm run check names each break with its fix (exit 1)", () => {
    test("a wrong trust anchor in linkerd-config", async () => {
        const cm = kubectlJson(cluster, ["-n", "linkerd", "get", "configmap", "linkerd-config"]);
        const original = cm.data.values as string;
        const other = makeRootCA(path.join(work, "other-ca"));
        const values = parseYaml(original);
        values.identityTrustAnchorsPEM = other.crt;
        const patch = (v: string) =>
            kubectl(cluster, [
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
            const [match] = failed(r);
            expect(match.message).toMatch(
                /ConfigMap linkerd\/linkerd-config .* does not carry the anchor the program uses \("CN=picluster-e2e-root-ca".*from Secret linkerd\/linkerd-identity-issuer \(ca.crt\)\)/,
            );
            expect(match.fix).toMatch(
                /pulumi up -s e2e-check-\d+.*get manifest linkerd-control-plane \| .*kubectl --kubeconfig .* --context .* apply -f -/,
            );
        } finally {
            patch(original);
        }
        expect((await check()).code).toBe(0);
    });

    test("an issuer that expired while cert-manager was not running (cluster powered off)", async () => {
        // cert-manager does not run while the cluster is off.
        await cluster.stopProcess("cert-manager");
        const secret = kubectlJson(cluster, ["-n", "linkerd", "get", "secret", "linkerd-identity-issuer"]);
        const original = { "tls.crt": secret.data["tls.crt"], "tls.key": secret.data["tls.key"] };
        const dir = path.join(work, "expired-issuer");
        fs.mkdirSync(dir);
        fs.writeFileSync(
            path.join(dir, "ext.cnf"),
            "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectAltName=DNS:identity.linkerd.cluster.local\n",
        );
        sh("openssl", ["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "key.sec1"], { cwd: dir });
        sh("openssl", ["pkcs8", "-topk8", "-nocrypt", "-in", "key.sec1", "-out", "tls.key"], { cwd: dir });
        sh("openssl", ["req", "-new", "-key", "tls.key", "-subj", "/CN=identity.linkerd.cluster.local", "-out", "tls.csr"], { cwd: dir });
        // -days -1: signed by the real root CA, valid until a day ago.
        const ca = ["-CA", path.join(rootCA.dir, "ca.crt"), "-CAkey", path.join(rootCA.dir, "ca.key"), "-CAcreateserial"];
        sh("openssl", ["x509", "-req", "-in", "tls.csr", ...ca, "-days", "-1", "-extfile", "ext.cnf", "-out", "tls.crt"], { cwd: dir });
        const b64 = (f: string) => fs.readFileSync(path.join(dir, f)).toString("base64");
        const patch = (data: Record<string, string>) =>
            kubectl(cluster, ["-n", "linkerd", "patch", "secret", "linkerd-identity-issuer", "--type=merge", "-p", JSON.stringify({ data })]);
        patch({ "tls.crt": b64("tls.crt"), "tls.key": b64("tls.key") });
        try {
            const r = await check();
            expect(r.code).toBe(1);
            expect(failedNames(r)).toEqual(["issuer validity"]);
            const [expired] = failed(r);
            expect(expired.message).toMatch(
                /"CN=identity.linkerd.cluster.local" in Secret linkerd\/linkerd-identity-issuer \(tls.crt\) expired on .*ago.*powered off past the expiry/,
            );
            expect(expired.fix).toMatch(/let cert-manager run: it re-issues the Secret/);
            expect(expired.fix).toMatch(/kubectl --kubeconfig .* -n linkerd rollout restart deployment\/linkerd-identity/);
        } finally {
            patch(original);
            await cluster.startProcess("cert-manager");
        }
        expect((await check()).code).toBe(0);
    });

    test("a running pod without the proxy in a meshed namespace; --restart rolls its Deployment", async () => {
        // Started as if before the namespace was annotated: no proxy container. SIMULATED kubelet runs it.
        apply(cluster, [simulatedDeployment("monitoring", "e2e-unmeshed", { proxy: false })]);
        kubectl(cluster, ["-n", "monitoring", "rollout", "status", "deployment/e2e-unmeshed", "--timeout=180s"]);
        const pod = kubectlJson(cluster, ["-n", "monitoring", "get", "pods", "-l", "app=e2e-unmeshed"]).items[0].metadata.name;
        try {
            const r = await check();
            expect(r.code).toBe(1);
            expect(failedNames(r)).toEqual(["namespace monitoring"]);
            const [unmeshed] = failed(r);
            expect(unmeshed.message).toMatch(
                new RegExp(`1 running pod\\(s\\) in meshed namespace monitoring without the linkerd-proxy container .*: ${pod}`),
            );
            expect(unmeshed.restart).toEqual(["Deployment/monitoring/e2e-unmeshed"]);
            expect(unmeshed.fix).toContain(`npm run check -- --stack ${stack} --restart`);
            // Never restarted by default.
            expect(kubectlJson(cluster, ["-n", "monitoring", "get", "deployment", "e2e-unmeshed"]).spec.template.metadata.annotations ?? {}).toEqual(
                {},
            );

            const restarted = await run("npm", ["run", "--silent", "check", "--", "--stack", stack, "--stack-file", configFile, "--restart"], {
                cwd: repoRoot,
            });
            expect(restarted.code).toBe(1); // the pod was unmeshed when checked
            expect(restarted.stdout).toContain("restarted: Deployment/monitoring/e2e-unmeshed");
            const annotations = kubectlJson(cluster, ["-n", "monitoring", "get", "deployment", "e2e-unmeshed"]).spec.template.metadata.annotations;
            expect(Object.keys(annotations)).toContain("kubectl.kubernetes.io/restartedAt");
        } finally {
            kubectl(cluster, ["-n", "monitoring", "delete", "deployment", "e2e-unmeshed", "--wait=true"]);
            // The garbage collector removes its ReplicaSets and pods (unscheduled pods go at once).
            for (let i = 0; i < 60 && kubectl(cluster, ["-n", "monitoring", "get", "pods", "-l", "app=e2e-unmeshed", "-o", "name"]).trim(); i++) {
                await new Promise((r) => setTimeout(r, 1000));
            }
        }
        expect((await check()).code).toBe(0);
    });

    test("a Longhorn upgrade reset longhorn-manager's template; the printed pulumi up --replace fixes it", async () => {
        // What the Longhorn chart's upgrade does: POD_IP from status.podIP again, no inject annotation.
        kubectl(cluster, [
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
        kubectl(cluster, [
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
        const fix = failed(r)[0].fix!;
        expect(fix).toMatch(
            /pulumi up -s e2e-check-\d+ --replace 'urn:pulumi:.*::linkerd-longhorn-mesh-pod-ip' --replace 'urn:pulumi:.*::linkerd-longhorn-mesh-annotate'/,
        );
        // Apply the fix as printed (the URNs must name the program's resources).
        const urns = [...fix.matchAll(/--replace '([^']+)'/g)].map((m) => m[1]);
        const up = await pulumi.ok(repoRoot, [
            "up",
            "--yes",
            "--skip-preview",
            ...urns.flatMap((u) => ["--replace", u]),
            "--config-file",
            configFile,
            "-s",
            stack,
        ]);
        expect(up.stdout).toMatch(/2 replaced/);
        expect((await check()).code).toBe(0);
    });

    test("a missing Linkerd CRD", async () => {
        kubectl(cluster, ["delete", "crd", "serviceprofiles.linkerd.io", "--wait=true"]);
        const r = await check();
        expect(r.code).toBe(1);
        expect(failedNames(r)).toEqual(["Linkerd CRDs"]);
        expect(failed(r)[0].message).toMatch(/1 CRD\(s\) the linkerd-crds release installed are missing: serviceprofiles.linkerd.io/);
        expect(failed(r)[0].fix).toMatch(
            /helm --kubeconfig .* --kube-context .* -n linkerd get manifest linkerd-crds \| kubectl .* apply --server-side -f -/,
        );
        // The fix, as `helm get manifest` would print it (no helm binary here): the release record's manifest.
        const record = kubectl(cluster, [
            "-n",
            "linkerd",
            "get",
            "secret",
            "-l",
            "owner=helm,name=linkerd-crds,status=deployed",
            "-o",
            "jsonpath={.items[0].data.release}",
        ]);
        expect(crdsInHelmRelease(record)).toEqual(["serviceprofiles.linkerd.io"]);
        const raw = Buffer.from(Buffer.from(record, "base64").toString("utf8"), "base64");
        const manifest = JSON.parse(gunzipSync(raw).toString("utf8")).manifest as string;
        kubectl(cluster, ["apply", "--server-side", "-f", "-"], manifest);
        kubectl(cluster, ["wait", "--for=condition=Established", "crd/serviceprofiles.linkerd.io", "--timeout=60s"]);
        expect((await check()).code).toBe(0);
    });
});
