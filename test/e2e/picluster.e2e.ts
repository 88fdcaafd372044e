/**
 * End-to-end: the real Pulumi engine (CLI, kubernetes provider; language host and random/command
 * stand-ins where the Go modules are refused) against a local cluster (npm run cluster: real API
 * server, kwok nodes, real cert-manager and trust-manager), with stand-in Linkerd charts
 * (linkerd.chartDirectory). `npm run toolchain` first; run with `npm run test:e2e`.
 *
 * PICLUSTER_E2E_EXTERNAL_CLUSTER=1: use $KUBECONFIG instead of the local control plane and the
 * real Linkerd charts from the repository (linkerd.chartDirectory unset); see README "End-to-end tests".
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
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
    PREEXISTING_NAMESPACES,
    Pulumi,
    randomPassword,
    repoRoot,
    sh,
    startCluster,
} from "./support/env";
import { linkerdChartDirectory, traefikChartDirectory } from "./support/standInCharts";
import { resolveRelease } from "../../lib/release";

const PROJECT = "picluster-linkerd";
const POLICY_PACK = path.join(repoRoot, "policy");
const FIXTURE = path.join(__dirname, "fixtures", "violating-job");

// Fail fast, before any hook starts processes.
checkToolchain();

let work: string;
let cluster: Cluster;
let pulumi: Pulumi;
let rootCA: { dir: string; crt: string; key: string };
const password = randomPassword(20);
const stack = `e2e-${process.pid}`;
let configFile: string;
/** linkerd.chartDirectory for every stack of this run; undefined: the chart repository. */
let chartDir: string | undefined;
const timings: Record<string, number> = {};

function stackArgs(name: string, file: string): string[] {
    return ["--config-file", file, "-s", name];
}

function jsonpath(args: string[], expr: string): string {
    return kubectl(cluster, [...args, "-o", `jsonpath=${expr}`]);
}

beforeAll(
    async () => {
        const t0 = Date.now();
        work = fs.mkdtempSync(path.join(os.tmpdir(), "picluster-e2e-"));
        // First: a bad PICLUSTER_E2E_CHART_DIR fails before any process starts.
        chartDir = linkerdChartDirectory(work, resolveRelease("stable", "2.14.10"));
        cluster = await startCluster(work);
        rootCA = makeRootCA(path.join(work, "root-ca"));
        prepareCluster(cluster, rootCA);
        pulumi = new Pulumi(work);
        configFile = path.join(work, `Pulumi.${stack}.yaml`);
        await pulumi.initStack(repoRoot, stack, configFile);
        await pulumi.setConfig(repoRoot, stack, configFile, `${PROJECT}:kubernetes.kubeconfig`, cluster.kubeconfig);
        await pulumi.setConfig(repoRoot, stack, configFile, `${PROJECT}:kubernetes.context`, cluster.context);
        if (chartDir) await pulumi.setConfig(repoRoot, stack, configFile, `${PROJECT}:linkerd.chartDirectory`, chartDir);
        const traefikCharts = traefikChartDirectory(work);
        if (traefikCharts) await pulumi.setConfig(repoRoot, stack, configFile, `${PROJECT}:ingress.traefik.chartDirectory`, traefikCharts);
        await pulumi.setConfig(repoRoot, stack, configFile, `${PROJECT}:longhorn.kubectl`, kubectlPath());
        await pulumi.setConfig(repoRoot, stack, configFile, `${PROJECT}:vizDashboardPassword`, password, true);
        timings.setup = (Date.now() - t0) / 1000;
    },
    5 * 60 * 1000,
);

afterAll(
    async () => {
        await cluster?.stop();
        if (work && !process.env.PICLUSTER_E2E_KEEP) fs.rmSync(work, { recursive: true, force: true });
        process.stderr.write(`[e2e] timings (s): ${JSON.stringify(timings)}\n`);
    },
    3 * 60 * 1000,
);

describe("picluster stack (trust anchor pem, everything enabled)", () => {
    test("pulumi preview --policy-pack policy succeeds and runs the pack", async () => {
        const res = await pulumi.ok(repoRoot, ["preview", "--policy-pack", POLICY_PACK, ...stackArgs(stack, configFile)]);
        timings.preview = res.seconds;
        expect(res.stdout).toMatch(/Policies:/);
        expect(res.stdout).toMatch(/picluster-linkerd@v[0-9.]+ \(local: /);
        // Every policy really ran: none reported that a value it reads is unknown during preview.
        expect(res.stdout + res.stderr).not.toMatch(/can't run|can't be known/);
    });

    test("a stack with a Job in a meshed namespace fails the preview (linkerd-job-must-complete)", async () => {
        const name = `violating-${process.pid}`;
        const file = path.join(work, `Pulumi.${name}.yaml`);
        await pulumi.initStack(FIXTURE, name, file);
        await pulumi.setConfig(FIXTURE, name, file, "kubernetes:kubeconfig", cluster.kubeconfig);
        await pulumi.setConfig(FIXTURE, name, file, "kubernetes:context", cluster.context);
        const res = await pulumi.run(FIXTURE, [
            "preview",
            "--policy-pack",
            POLICY_PACK,
            "--policy-pack-config",
            path.join(POLICY_PACK, "config.example.json"),
            ...stackArgs(name, file),
        ]);
        const out = res.stdout + res.stderr;
        expect(res.code).not.toBe(0);
        expect(out).toMatch(/mandatory\]\s+linkerd-job-must-complete/);
        expect(out).toMatch(/db-migration/);
        await pulumi.ok(FIXTURE, ["stack", "rm", "--yes", "-s", name]);
    });

    test("pulumi up creates everything in dependency order", async () => {
        const eventLog = path.join(work, "up-events.jsonl");
        const res = await pulumi.ok(repoRoot, ["up", "--yes", "--skip-preview", "--event-log", eventLog, ...stackArgs(stack, configFile)]);
        timings.up = res.seconds;
        const events = fs
            .readFileSync(eventLog, "utf8")
            .split("\n")
            .filter((l) => l.trim())
            .map((l) => JSON.parse(l));
        const started = new Map<string, number>();
        const done = new Map<string, number>();
        events.forEach((e, i) => {
            const pre = e.resourcePreEvent?.metadata;
            const out = e.resOutputsEvent?.metadata;
            // type/name: components share names with the resources they hold (linkerd-control-plane, ...).
            const name = (urn: string) => {
                const parts = urn.split("::");
                return `${parts[2].split("$").pop()}/${parts[3]}`;
            };
            if (pre && pre.op === "create" && !started.has(name(pre.urn))) started.set(name(pre.urn), i);
            if (out && out.op === "create") done.set(name(out.urn), i);
        });
        const before = (a: string, b: string) => {
            expect([a, done.get(a)]).toEqual([a, expect.any(Number)]);
            expect([b, started.get(b)]).toEqual([b, expect.any(Number)]);
            expect(`${a} done at ${done.get(a)} < ${b} started at ${started.get(b)}: ${done.get(a)! < started.get(b)!}`).toMatch(/true$/);
        };
        const rel = (n: string) => `kubernetes:helm.sh/v3:Release/${n}`;
        const cmd = (n: string) => `command:local:Command/${n}`;
        const issuer = "kubernetes:cert-manager.io/v1:Certificate/linkerd-identity-issuer";
        before("kubernetes:core/v1:Namespace/linkerd-identity-namespace", issuer);
        before(issuer, rel("linkerd-control-plane"));
        before(rel("linkerd-control-plane-crds"), rel("linkerd-control-plane"));
        for (const after of [
            rel("linkerd-viz"),
            rel("linkerd-jaeger"),
            cmd("linkerd-longhorn-wait-deployed"),
            "kubernetes:core/v1:NamespacePatch/linkerd-meshing-namespace-monitoring",
            rel("linkerd-ingress-traefik"),
        ]) {
            before(rel("linkerd-control-plane"), after);
        }
        before("kubernetes:core/v1:NamespacePatch/linkerd-meshing-namespace-tracing", rel("linkerd-jaeger"));
        before(cmd("linkerd-longhorn-wait-deployed"), cmd("linkerd-longhorn-mesh-pod-ip"));
        before(cmd("linkerd-longhorn-mesh-pod-ip"), cmd("linkerd-longhorn-mesh-annotate"));
    });

    test("the API server accepted the custom resources; the helm releases exist; linkerd-config carries root-secret's CA", async () => {
        expect(kubectl(cluster, ["-n", "linkerd", "get", "certificates.cert-manager.io", "linkerd-identity-issuer", "-o", "name"]).trim()).toBe(
            "certificate.cert-manager.io/linkerd-identity-issuer",
        );
        expect(kubectlJson(cluster, ["get", "podmonitors.monitoring.coreos.com", "-A"]).items.length).toBeGreaterThanOrEqual(2);
        expect(kubectlJson(cluster, ["get", "middlewares.traefik.io", "-A"]).items.length).toBeGreaterThanOrEqual(2);
        expect(kubectlJson(cluster, ["get", "ingressroutes.traefik.io", "-A"]).items.length).toBe(1);
        // Traefik in its own namespace (the proxy injector never sees kube-system), meshed in ingress mode.
        expect(kubectlJson(cluster, ["-n", "traefik", "get", "deployment", "traefik"]).spec.template.metadata.annotations).toEqual({
            "linkerd.io/inject": "ingress",
            "config.linkerd.io/skip-outbound-ports": "443",
        });

        const releases = kubectlJson(cluster, ["get", "secrets", "-A", "-l", "owner=helm"])
            .items.map((s: any) => s.metadata.labels.name)
            .sort();
        expect(releases).toEqual(expect.arrayContaining(["linkerd-control-plane", "linkerd-crds", "linkerd-jaeger", "linkerd-viz", "traefik"]));

        const anchors = kubectl(cluster, ["-n", "linkerd", "get", "configmap", "linkerd-config", "-o", 'go-template={{index .data "values"}}']);
        expect(anchors).toContain(rootCA.crt.trim().split("\n")[1]);
        const out = await pulumi.ok(repoRoot, ["stack", "output", "--json", "-s", stack]);
        expect(JSON.parse(out.stdout).trustAnchorInLinkerdConfig).toBe(true);
    });

    test("cert-manager issued the identity issuer: 48h, ECDSA P-256, a CA signed by root-secret", () => {
        const cert = kubectlJson(cluster, ["-n", "linkerd", "get", "certificates.cert-manager.io", "linkerd-identity-issuer"]);
        const ready = cert.status.conditions.find((c: any) => c.type === "Ready");
        expect([ready.status, ready.reason]).toEqual(["True", "Ready"]);
        // Issued through a CertificateRequest that cert-manager approved and the CA issuer signed.
        const requests = kubectlJson(cluster, ["-n", "linkerd", "get", "certificaterequests.cert-manager.io"]).items;
        expect(requests.length).toBeGreaterThanOrEqual(1);
        const conds = (r: any) => Object.fromEntries(r.status.conditions.map((c: any) => [c.type, c.status]));
        expect(conds(requests[0])).toEqual(expect.objectContaining({ Approved: "True", Ready: "True" }));

        const secret = kubectlJson(cluster, ["-n", "linkerd", "get", "secret", "linkerd-identity-issuer"]);
        expect(secret.metadata.annotations["cert-manager.io/certificate-name"]).toBe("linkerd-identity-issuer");
        const issuerPem = Buffer.from(secret.data["tls.crt"], "base64").toString();
        const dir = fs.mkdtempSync(path.join(work, "issuer-"));
        fs.writeFileSync(path.join(dir, "issuer.crt"), issuerPem);
        const text = sh("openssl", ["x509", "-in", path.join(dir, "issuer.crt"), "-noout", "-text"]);
        expect(text).toMatch(/Public Key Algorithm: id-ecPublicKey/);
        expect(text).toMatch(/NIST CURVE: P-256|ASN1 OID: prime256v1/);
        expect(text).toMatch(/CA:TRUE/);
        expect(text).toMatch(/Subject: CN ?= ?identity\.linkerd\.cluster\.local/);
        const dates = sh("openssl", ["x509", "-in", path.join(dir, "issuer.crt"), "-noout", "-startdate", "-enddate"]);
        const [, start] = /notBefore=(.*)/.exec(dates)!;
        const [, end] = /notAfter=(.*)/.exec(dates)!;
        expect((Date.parse(end) - Date.parse(start)) / 3600_000).toBe(48);
        // Signed by the guide's root CA (root-secret), which is also the ca.crt the trust anchor comes from.
        expect(sh("openssl", ["verify", "-CAfile", path.join(rootCA.dir, "ca.crt"), path.join(dir, "issuer.crt")])).toMatch(/: OK/);
        expect(Buffer.from(secret.data["ca.crt"], "base64").toString().trim()).toBe(rootCA.crt.trim());
    });

    test("the Longhorn steps changed the stand-in Longhorn objects", () => {
        const env = jsonpath(
            ["-n", "longhorn-system", "get", "daemonset", "longhorn-manager"],
            '{.spec.template.spec.containers[?(@.name=="longhorn-manager")].env[?(@.name=="POD_IP")].value}',
        );
        expect(env).toBe("0.0.0.0");
        for (const kind of ["daemonset/longhorn-manager", "deployment/longhorn-ui"]) {
            expect(jsonpath(["-n", "longhorn-system", "get", kind], "{.spec.template.metadata.annotations.linkerd\\.io/inject}")).toBe("enabled");
        }
    });

    test("a second pulumi up changes nothing", async () => {
        const res = await pulumi.ok(repoRoot, ["up", "--yes", "--expect-no-changes", ...stackArgs(stack, configFile)]);
        timings.upAgain = res.seconds;
    });

    test("the exported state holds no plain-text secret", async () => {
        const res = await pulumi.ok(repoRoot, ["stack", "export", "--show-secrets=false", "-s", stack]);
        const state = res.stdout;
        expect(state).not.toContain(password);
        const issuerKey = Buffer.from(
            kubectlJson(cluster, ["-n", "linkerd", "get", "secret", "linkerd-identity-issuer"]).data["tls.key"],
            "base64",
        ).toString();
        for (const key of [issuerKey, rootCA.key]) {
            const body = key.split("\n").filter((l) => l && !l.startsWith("-----"));
            for (const line of body) expect(state).not.toContain(line);
        }
        expect(state).not.toMatch(/PRIVATE KEY/);
    });

    test("pulumi destroy removes what the program created and reverts the Longhorn patches", async () => {
        const res = await pulumi.ok(repoRoot, ["destroy", "--yes", ...stackArgs(stack, configFile)]);
        timings.destroy = res.seconds;
        const nsNames = kubectlJson(cluster, ["get", "namespaces"]).items.map((n: any) => n.metadata.name);
        for (const gone of ["linkerd", "linkerd-viz", "linkerd-jaeger", "traefik"]) expect(nsNames).not.toContain(gone);
        expect(nsNames).toEqual(expect.arrayContaining(PREEXISTING_NAMESPACES));
        for (const ns of PREEXISTING_NAMESPACES) {
            expect([ns, jsonpath(["get", "namespace", ns], "{.metadata.annotations.linkerd\\.io/inject}")]).toEqual([ns, ""]);
        }
        expect(kubectlJson(cluster, ["get", "podmonitors.monitoring.coreos.com", "-A"]).items).toEqual([]);
        expect(kubectlJson(cluster, ["get", "middlewares.traefik.io", "-A"]).items).toEqual([]);
        expect(kubectlJson(cluster, ["get", "ingressroutes.traefik.io", "-A"]).items).toEqual([]);
        expect(kubectlJson(cluster, ["get", "helmchartconfigs.helm.cattle.io", "-A"]).items).toEqual([]);
        expect(kubectlJson(cluster, ["get", "secrets", "-A", "-l", "owner=helm"]).items).toEqual([]);
        const env = kubectlJson(cluster, ["-n", "longhorn-system", "get", "daemonset", "longhorn-manager"]).spec.template.spec.containers[0].env;
        expect(env).toEqual([{ name: "POD_IP", valueFrom: { fieldRef: { apiVersion: "v1", fieldPath: "status.podIP" } } }]);
        for (const kind of ["daemonset/longhorn-manager", "deployment/longhorn-ui"]) {
            expect(jsonpath(["-n", "longhorn-system", "get", kind], "{.spec.template.metadata.annotations.linkerd\\.io/inject}")).toBe("");
        }
        await pulumi.ok(repoRoot, ["stack", "rm", "--yes", "-s", stack]);
    });
});

describe("bundle stack (trust-manager Bundle, identity.externalCA, extensions off)", () => {
    const name = `e2e-bundle-${process.pid}`;
    let file: string;

    test("pulumi up creates the Bundle path and linkerd-config uses the external CA; destroy removes it", async () => {
        file = path.join(work, `Pulumi.${name}.yaml`);
        await pulumi.initStack(repoRoot, name, file);
        const config: Record<string, unknown> = {
            kubernetes: { kubeconfig: cluster.kubeconfig, context: cluster.context },
            linkerd: chartDir ? { chartDirectory: chartDir } : {},
            identity: { trustAnchor: { mode: "bundle" } },
            viz: { enabled: false },
            monitoring: { enabled: false },
            jaeger: { enabled: false },
            meshing: { namespaces: [] },
            ingress: { controller: "none" },
            longhorn: { enabled: false },
        };
        const yaml = Object.entries(config)
            .map(([k, v]) => `  ${PROJECT}:${k}: ${JSON.stringify(v)}`)
            .join("\n");
        fs.appendFileSync(file, `config:\n${yaml}\n`);

        const up = await pulumi.ok(repoRoot, ["up", "--yes", ...stackArgs(name, file)]);
        timings.bundleUp = up.seconds;
        const bundles = kubectlJson(cluster, ["get", "bundles.trust.cert-manager.io"]).items;
        expect(bundles.length).toBe(1);
        const roots = kubectlJson(cluster, ["-n", "linkerd", "get", "configmap", bundles[0].metadata.name]).data;
        expect(Object.values(roots).join("")).toContain(rootCA.crt.trim().split("\n")[1]);
        const values = kubectl(cluster, ["-n", "linkerd", "get", "configmap", "linkerd-config", "-o", 'go-template={{index .data "values"}}']);
        expect(values).toMatch(/externalCA:\s*true/);
        expect(
            kubectlJson(cluster, ["get", "secrets", "-A", "-l", "owner=helm"])
                .items.map((s: any) => s.metadata.labels.name)
                .sort(),
        ).toEqual(["linkerd-control-plane", "linkerd-crds"]);

        const down = await pulumi.ok(repoRoot, ["destroy", "--yes", ...stackArgs(name, file)]);
        timings.bundleDestroy = down.seconds;
        expect(kubectlJson(cluster, ["get", "bundles.trust.cert-manager.io"]).items).toEqual([]);
        expect(kubectlJson(cluster, ["get", "secrets", "-A", "-l", "owner=helm"]).items).toEqual([]);
        await pulumi.ok(repoRoot, ["stack", "rm", "--yes", "-s", name]);
    });
});

// Keep the unused import list honest for tsc (apply is part of the harness API used by other suites).
void apply;

describe("Pi-like start-up (kwok's pod-ready stage delayed 8-12 s)", () => {
    const name = `e2e-slow-${process.pid}`;
    // kwok: the delay is random between durationMilliseconds and jitterDurationMilliseconds (the upper bound).
    const delay = { durationMilliseconds: 8000, jitterDurationMilliseconds: 12000 };

    (externalCluster ? test.skip : test)("the Helm releases wait for slow pods and `up` still converges; destroy removes it", async () => {
        // A container on a Pi takes seconds to start (image pull and start on an ARM board): every pod becomes
        // Ready 8-12 s after it is scheduled, and Helm's wait must sit that out instead of failing or racing.
        kubectl(cluster, ["patch", "stages.kwok.x-k8s.io", "pod-ready", "--type=merge", "-p", JSON.stringify({ spec: { delay } })]);
        try {
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
            };
            fs.appendFileSync(
                file,
                `config:\n${Object.entries(config)
                    .map(([k, v]) => `  ${PROJECT}:${k}: ${JSON.stringify(v)}`)
                    .join("\n")}\n`,
            );
            const up = await pulumi.ok(repoRoot, ["up", "--yes", ...stackArgs(name, file)]);
            timings.slowUp = up.seconds;
            const pods = kubectlJson(cluster, ["-n", "linkerd", "get", "pods", "-l", "linkerd.io/control-plane-component=identity"]).items;
            expect(pods.length).toBe(1);
            const ready = pods[0].status.conditions.find((c: any) => c.type === "Ready");
            expect(ready.status).toBe("True");
            const startedAfter = (Date.parse(ready.lastTransitionTime) - Date.parse(pods[0].metadata.creationTimestamp)) / 1000;
            expect(startedAfter).toBeGreaterThanOrEqual(delay.durationMilliseconds / 1000 - 1);
            // The control plane release only finished once its pods were Ready.
            expect(up.seconds).toBeGreaterThan(delay.durationMilliseconds / 1000);
            await pulumi.ok(repoRoot, ["destroy", "--yes", ...stackArgs(name, file)]);
            await pulumi.ok(repoRoot, ["stack", "rm", "--yes", "-s", name]);
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
    });
});
