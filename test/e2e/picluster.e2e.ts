/**
 * End-to-end: the real Pulumi engine (CLI, kubernetes provider; language host and random/command
 * stand-ins where the Go modules are refused) against a local cluster (npm run cluster: real API
 * server, kwok nodes, real cert-manager and trust-manager, the k3s node stand-ins), installing the
 * REAL Linkerd and Traefik charts from a Helm repository (support/chartRepo.ts), for the guide's
 * stable-2.14.10 and for edge-26.8.3. The cluster already has the Gateway API CRDs, as k3s 1.37+ and
 * clusters where Traefik or the user installed them do: the default install must leave them alone.
 * `npm run toolchain` first; run with `npm run test:e2e`.
 */
import * as fs from "fs";
import * as path from "path";
import { GATEWAY_API_CRDS } from "../../lib/gatewayApi";
import type { LinkerdRelease } from "../../lib/release";
import { externalCluster, kubectl, kubectlJson, PREEXISTING_NAMESPACES, repoRoot, sh } from "./support/env";
import { podProxies, proxyVersionOf } from "./support/mesh";
import { CONTROL_PLANE_ONLY, e2eSuite, EDGE, output, randomPassword, STABLE, TestStack } from "./support/suite";

const POLICY_PACK = path.join(repoRoot, "policy");
const FIXTURE = path.join(__dirname, "fixtures", "violating-job");
const e2e = e2eSuite("picluster", { releases: [STABLE, EDGE], gatewayApiCrds: true });
const timings: Record<string, number> = {};

afterAll(() => process.stderr.write(`[e2e picluster] timings (s): ${JSON.stringify(timings)}\n`));

function jsonpath(args: string[], expr: string): string {
    return kubectl(e2e().cluster, [...args, "-o", `jsonpath=${expr}`]);
}

/** Creation order from the engine's event log: when each resource started and finished being created. */
function creationOrder(eventLog: string): { started: Map<string, number>; done: Map<string, number> } {
    const started = new Map<string, number>();
    const done = new Map<string, number>();
    // type/name: components share names with the resources they hold (linkerd-control-plane, ...).
    const name = (urn: string) => {
        const parts = urn.split("::");
        return `${parts[2].split("$").pop()}/${parts[3]}`;
    };
    fs.readFileSync(eventLog, "utf8")
        .split("\n")
        .filter((l) => l.trim())
        .map((l) => JSON.parse(l))
        .forEach((e, i) => {
            const pre = e.resourcePreEvent?.metadata;
            const out = e.resOutputsEvent?.metadata;
            if (pre && pre.op === "create" && !started.has(name(pre.urn))) started.set(name(pre.urn), i);
            if (out && out.op === "create") done.set(name(out.urn), i);
        });
    return { started, done };
}

describe.each([
    ["stable-2.14.10", STABLE],
    ["edge-26.8.3", EDGE],
] as const)("picluster stack on %s (real charts, trust anchor pem, everything enabled)", (label, release: LinkerdRelease) => {
    const password = randomPassword(20);
    const withJaeger = !!release.charts.jaeger;
    let stack: TestStack;
    const t = (k: string, s: number) => (timings[`${label} ${k}`] = s);

    beforeAll(async () => {
        stack = await e2e().stack(`e2e-${release.minor}-${process.pid}`, release);
        await stack.set("vizDashboardPassword", password, true);
    });

    test("pulumi preview --policy-pack policy succeeds, runs the pack, and leaves the cluster's Gateway API CRDs to it", async () => {
        const res = await stack.ok(["preview", "--policy-pack", POLICY_PACK]);
        t("preview", res.seconds);
        expect(res.stdout).toMatch(/Policies:/);
        expect(res.stdout).toMatch(/picluster-linkerd@v[0-9.]+ \(local: /);
        // Every policy really ran: none reported that a value it reads is unknown during preview.
        expect(output(res)).not.toMatch(/can't run|can't be known/);
        // The cluster was read: no warning that it could not be.
        expect(output(res)).not.toMatch(/could not be read/);
    });

    test("pulumi up installs the real charts in dependency order", async () => {
        const eventLog = path.join(e2e().work, `up-events-${release.minor}.jsonl`);
        const res = await stack.ok(["up", "--yes", "--skip-preview", "--event-log", eventLog]);
        t("up", res.seconds);
        const { started, done } = creationOrder(eventLog);
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
        const after = [
            rel("linkerd-viz"),
            cmd("linkerd-longhorn-wait-deployed"),
            "kubernetes:core/v1:NamespacePatch/linkerd-meshing-namespace-monitoring",
            rel("linkerd-ingress-traefik"),
        ];
        if (withJaeger) after.push(rel("linkerd-jaeger"));
        for (const b of after) before(rel("linkerd-control-plane"), b);
        if (withJaeger) before("kubernetes:core/v1:NamespacePatch/linkerd-meshing-namespace-tracing", rel("linkerd-jaeger"));
        before(cmd("linkerd-longhorn-wait-deployed"), cmd("linkerd-longhorn-mesh-pod-ip"));
        before(cmd("linkerd-longhorn-mesh-pod-ip"), cmd("linkerd-longhorn-mesh-annotate"));
    });

    test("the Helm releases are the real charts at the release's versions; the Gateway API CRDs stay the cluster's", () => {
        const cluster = e2e().cluster;
        const releases = new Map<string, string>(
            kubectlJson(cluster, ["get", "secrets", "-A", "-l", "owner=helm,status=deployed"]).items.map((s: any) => [
                s.metadata.labels.name,
                s.metadata.namespace,
            ]),
        );
        const expected = ["linkerd-crds", "linkerd-control-plane", "linkerd-viz", "traefik", ...(withJaeger ? ["linkerd-jaeger"] : [])];
        expect([...releases.keys()].sort()).toEqual(expected.sort());
        // linkerd-crds installed none of them, so Helm owns none: they are exactly as the cluster installed them.
        for (const name of [GATEWAY_API_CRDS.httpRoutes, GATEWAY_API_CRDS.grpcRoutes]) {
            const crd = kubectlJson(cluster, ["get", "crd", name]);
            expect([name, crd.metadata.annotations?.["meta.helm.sh/release-name"]]).toEqual([name, undefined]);
        }
        // The real control plane: its Deployments by name, and linkerd-config carrying root-secret's CA.
        for (const d of ["linkerd-identity", "linkerd-destination", "linkerd-proxy-injector"]) {
            expect(kubectlJson(cluster, ["-n", "linkerd", "get", "deployment", d]).status.readyReplicas).toBe(1);
        }
        const values = kubectl(cluster, ["-n", "linkerd", "get", "configmap", "linkerd-config", "-o", 'go-template={{index .data "values"}}']);
        expect(values).toContain(e2e().rootCA.crt.trim().split("\n")[1]);
    });

    test("the API server accepted the custom resources; Traefik runs meshed in its own namespace", async () => {
        const cluster = e2e().cluster;
        expect(kubectl(cluster, ["-n", "linkerd", "get", "certificates.cert-manager.io", "linkerd-identity-issuer", "-o", "name"]).trim()).toBe(
            "certificate.cert-manager.io/linkerd-identity-issuer",
        );
        expect(kubectlJson(cluster, ["get", "podmonitors.monitoring.coreos.com", "-A"]).items.length).toBeGreaterThanOrEqual(2);
        expect(kubectlJson(cluster, ["get", "middlewares.traefik.io", "-A"]).items.length).toBeGreaterThanOrEqual(2);
        expect(kubectlJson(cluster, ["get", "ingressroutes.traefik.io", "-A"]).items.length).toBe(1);
        // What the program set on the real chart's pod template (the chart adds its own annotations beside them).
        expect(kubectlJson(cluster, ["-n", "traefik", "get", "deployment", "traefik"]).spec.template.metadata.annotations).toMatchObject({
            "linkerd.io/inject": "ingress",
            "config.linkerd.io/skip-outbound-ports": "443",
        });
        // The LoadBalancer Service got an address (k3s' ServiceLB; here its stand-in): Helm's wait finished.
        expect(kubectlJson(cluster, ["-n", "traefik", "get", "service", "traefik"]).status.loadBalancer.ingress?.length).toBeGreaterThan(0);
        const out = await stack.outputs();
        expect(out.trustAnchorInLinkerdConfig).toBe(true);
    });

    test("the proxy injector meshed what the program meshes, with this release's proxy", () => {
        const cluster = e2e().cluster;
        const expected = proxyVersionOf(release);
        const meshed = [...podProxies(cluster, "linkerd-viz"), ...podProxies(cluster, "traefik")];
        if (withJaeger) meshed.push(...podProxies(cluster, "linkerd-jaeger"));
        // viz's namespace-metadata hook Job opts out (linkerd.io/inject: disabled); its pod is gone by now.
        expect(meshed.length).toBeGreaterThanOrEqual(5);
        for (const p of meshed) expect([p.pod, p.version]).toEqual([p.pod, expected]);
        // 2.20 runs the proxy as a native sidecar by default (proxy.nativeSidecar).
        for (const p of meshed) expect([p.pod, p.nativeSidecar]).toEqual([p.pod, release.nativeSidecar.defaultEnabled]);
    });

    test("cert-manager issued the identity issuer: 48h, ECDSA P-256, a CA signed by root-secret", () => {
        const cluster = e2e().cluster;
        const rootCA = e2e().rootCA;
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
        const dir = fs.mkdtempSync(path.join(e2e().work, "issuer-"));
        fs.writeFileSync(path.join(dir, "issuer.crt"), Buffer.from(secret.data["tls.crt"], "base64").toString());
        const text = sh("openssl", ["x509", "-in", path.join(dir, "issuer.crt"), "-noout", "-text"]);
        expect(text).toMatch(/Public Key Algorithm: id-ecPublicKey/);
        expect(text).toMatch(/NIST CURVE: P-256|ASN1 OID: prime256v1/);
        expect(text).toMatch(/CA:TRUE/);
        expect(text).toMatch(/Subject: CN ?= ?identity\.linkerd\.cluster\.local/);
        const dates = sh("openssl", ["x509", "-in", path.join(dir, "issuer.crt"), "-noout", "-startdate", "-enddate"]);
        const [, start] = /notBefore=(.*)/.exec(dates)!;
        const [, end] = /notAfter=(.*)/.exec(dates)!;
        expect((Date.parse(end) - Date.parse(start)) / 3600_000).toBe(48);
        expect(sh("openssl", ["verify", "-CAfile", path.join(rootCA.dir, "ca.crt"), path.join(dir, "issuer.crt")])).toMatch(/: OK/);
        expect(Buffer.from(secret.data["ca.crt"], "base64").toString().trim()).toBe(rootCA.crt.trim());
    });

    test("the Longhorn steps changed the stand-in Longhorn objects, and their restarted pods got the proxy", () => {
        const env = jsonpath(
            ["-n", "longhorn-system", "get", "daemonset", "longhorn-manager"],
            '{.spec.template.spec.containers[?(@.name=="longhorn-manager")].env[?(@.name=="POD_IP")].value}',
        );
        expect(env).toBe("0.0.0.0");
        for (const kind of ["daemonset/longhorn-manager", "deployment/longhorn-ui"]) {
            expect(jsonpath(["-n", "longhorn-system", "get", kind], "{.spec.template.metadata.annotations.linkerd\\.io/inject}")).toBe("enabled");
            kubectl(e2e().cluster, ["-n", "longhorn-system", "rollout", "status", kind, "--timeout=120s"]);
        }
        const proxies = podProxies(e2e().cluster, "longhorn-system");
        expect(proxies.length).toBeGreaterThanOrEqual(4);
        for (const p of proxies) expect([p.pod, p.version]).toEqual([p.pod, proxyVersionOf(release)]);
    });

    test("a second pulumi up changes nothing", async () => {
        t("upAgain", (await stack.ok(["up", "--yes", "--expect-no-changes"])).seconds);
    });

    test("the password and the Longhorn steps use the random and command providers registered first", async () => {
        const exported = JSON.parse((await e2e().pulumi.ok(repoRoot, ["stack", "export", "-s", stack.name])).stdout);
        const used = exported.deployment.resources
            .filter((r: any) => /^(random|command):/.test(r.type))
            .map((r: any) => [r.type.split(":")[0], String(r.provider).split("::").slice(-2)[0]]);
        expect(used.length).toBeGreaterThanOrEqual(4);
        for (const [pkg, provider] of used) expect([pkg, provider]).toEqual([pkg, `linkerd-${pkg}`]);
    });

    test("the exported state holds no plain-text secret", async () => {
        const cluster = e2e().cluster;
        const state = (await e2e().pulumi.ok(repoRoot, ["stack", "export", "--show-secrets=false", "-s", stack.name])).stdout;
        expect(state).not.toContain(password);
        const issuerKey = Buffer.from(
            kubectlJson(cluster, ["-n", "linkerd", "get", "secret", "linkerd-identity-issuer"]).data["tls.key"],
            "base64",
        ).toString();
        for (const key of [issuerKey, e2e().rootCA.key]) {
            for (const line of key.split("\n").filter((l) => l && !l.startsWith("-----"))) expect(state).not.toContain(line);
        }
        expect(state).not.toMatch(/PRIVATE KEY/);
    });

    test("pulumi destroy removes what the program created, reverts the patches and leaves the Gateway API CRDs", async () => {
        const cluster = e2e().cluster;
        const res = await stack.ok(["destroy", "--yes"]);
        t("destroy", res.seconds);
        const nsNames = kubectlJson(cluster, ["get", "namespaces"]).items.map((n: any) => n.metadata.name);
        for (const gone of ["linkerd", "linkerd-viz", "linkerd-jaeger", "traefik"]) expect(nsNames).not.toContain(gone);
        expect(nsNames).toEqual(expect.arrayContaining(PREEXISTING_NAMESPACES));
        for (const ns of PREEXISTING_NAMESPACES) {
            expect([ns, jsonpath(["get", "namespace", ns], "{.metadata.annotations.linkerd\\.io/inject}")]).toEqual([ns, ""]);
        }
        for (const type of ["podmonitors.monitoring.coreos.com", "middlewares.traefik.io", "ingressroutes.traefik.io"]) {
            expect([type, kubectlJson(cluster, ["get", type, "-A"]).items]).toEqual([type, []]);
        }
        expect(kubectlJson(cluster, ["get", "secrets", "-A", "-l", "owner=helm"]).items).toEqual([]);
        const env = kubectlJson(cluster, ["-n", "longhorn-system", "get", "daemonset", "longhorn-manager"]).spec.template.spec.containers[0].env;
        expect(env).toEqual([{ name: "POD_IP", valueFrom: { fieldRef: { apiVersion: "v1", fieldPath: "status.podIP" } } }]);
        for (const kind of ["daemonset/longhorn-manager", "deployment/longhorn-ui"]) {
            expect(jsonpath(["-n", "longhorn-system", "get", kind], "{.spec.template.metadata.annotations.linkerd\\.io/inject}")).toBe("");
        }
        for (const name of [GATEWAY_API_CRDS.httpRoutes, GATEWAY_API_CRDS.grpcRoutes]) kubectl(cluster, ["get", "crd", name]);
        // Longhorn's pods lose the proxy again when they restart: roll them now so the next stack starts clean.
        for (const kind of ["daemonset/longhorn-manager", "deployment/longhorn-ui"]) {
            kubectl(cluster, ["-n", "longhorn-system", "rollout", "status", kind, "--timeout=120s"]);
        }
        await stack.remove();
    });

    test('"linkerd-crds" as owner of the cluster\'s Gateway API CRDs is refused at preview, naming the key', async () => {
        const colliding = await e2e().stack(`collide-${release.minor}-${process.pid}`, release, {
            ...CONTROL_PLANE_ONLY,
            linkerd: { gatewayApiCrds: "linkerd-crds" },
        });
        const res = await colliding.run(["preview"]);
        expect(res.code).not.toBe(0);
        expect(output(res)).toMatch(
            /picluster-linkerd:linkerd\.gatewayApiCrds: "linkerd-crds" would install httproutes\.gateway\.networking\.k8s\.io/,
        );
        expect(output(res)).toMatch(/Set linkerd\.gatewayApiCrds to "cluster"/);
        await colliding.discard();
    });
});

describe("the policy pack on another program", () => {
    test("a stack with a Job in a meshed namespace fails the preview (linkerd-job-must-complete)", async () => {
        const { pulumi, cluster, work } = e2e();
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
            "--config-file",
            file,
            "-s",
            name,
        ]);
        expect(res.code).not.toBe(0);
        expect(output(res)).toMatch(/mandatory\]\s+linkerd-job-must-complete/);
        expect(output(res)).toMatch(/db-migration/);
        await pulumi.ok(FIXTURE, ["stack", "rm", "--yes", "-s", name]);
    });
});

describe("bundle stack on edge-26.8.3 (trust-manager Bundle, identity.externalCA, extensions off)", () => {
    test("pulumi up creates the Bundle path and linkerd-config uses the external CA; destroy removes it", async () => {
        const cluster = e2e().cluster;
        const stack = await e2e().stack(`bundle-${process.pid}`, EDGE, { ...CONTROL_PLANE_ONLY, identity: { trustAnchor: { mode: "bundle" } } });
        timings.bundleUp = (await stack.ok(["up", "--yes"])).seconds;
        const bundles = kubectlJson(cluster, ["get", "bundles.trust.cert-manager.io"]).items;
        expect(bundles.length).toBe(1);
        const roots = kubectlJson(cluster, ["-n", "linkerd", "get", "configmap", bundles[0].metadata.name]).data;
        expect(Object.values(roots).join("")).toContain(e2e().rootCA.crt.trim().split("\n")[1]);
        const values = kubectl(cluster, ["-n", "linkerd", "get", "configmap", "linkerd-config", "-o", 'go-template={{index .data "values"}}']);
        expect(values).toMatch(/externalCA:\s*true/);
        expect(
            kubectlJson(cluster, ["get", "secrets", "-A", "-l", "owner=helm,status=deployed"])
                .items.map((s: any) => s.metadata.labels.name)
                .sort(),
        ).toEqual(["linkerd-control-plane", "linkerd-crds"]);
        timings.bundleDestroy = (await stack.ok(["destroy", "--yes"])).seconds;
        expect(kubectlJson(cluster, ["get", "bundles.trust.cert-manager.io"]).items).toEqual([]);
        expect(kubectlJson(cluster, ["get", "secrets", "-A", "-l", "owner=helm"]).items).toEqual([]);
        await stack.remove();
    });
});

describe("Pi-like start-up on stable-2.14.10 (kwok's pod-ready stage delayed 8-12 s)", () => {
    // kwok: the delay is random between durationMilliseconds and jitterDurationMilliseconds (the upper bound).
    const delay = { durationMilliseconds: 8000, jitterDurationMilliseconds: 12000 };

    (externalCluster ? test.skip : test)("the Helm releases wait for slow pods and `up` still converges; destroy removes it", async () => {
        const cluster = e2e().cluster;
        // A container on a Pi takes seconds to start (image pull and start on an ARM board): every pod becomes
        // Ready 8-12 s after it is scheduled, and Helm's wait must sit that out instead of failing or racing.
        kubectl(cluster, ["patch", "stages.kwok.x-k8s.io", "pod-ready", "--type=merge", "-p", JSON.stringify({ spec: { delay } })]);
        try {
            const stack = await e2e().stack(`slow-${process.pid}`, STABLE, CONTROL_PLANE_ONLY);
            const up = await stack.ok(["up", "--yes"]);
            timings.slowUp = up.seconds;
            const pods = kubectlJson(cluster, ["-n", "linkerd", "get", "pods", "-l", "linkerd.io/control-plane-component=identity"]).items;
            expect(pods.length).toBe(1);
            const ready = pods[0].status.conditions.find((c: any) => c.type === "Ready");
            expect(ready.status).toBe("True");
            const startedAfter = (Date.parse(ready.lastTransitionTime) - Date.parse(pods[0].metadata.creationTimestamp)) / 1000;
            expect(startedAfter).toBeGreaterThanOrEqual(delay.durationMilliseconds / 1000 - 1);
            // The control plane release only finished once its pods were Ready.
            expect(up.seconds).toBeGreaterThan(delay.durationMilliseconds / 1000);
            await stack.remove();
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
