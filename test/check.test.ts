/**
 * The check functions of `npm run check` on live-cluster objects made in the test: a healthy cluster
 * passes, and each break is named with its fix.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { gzipSync } from "zlib";
import { stringify as stringifyYaml } from "yaml";
import {
    CHECKS,
    CHECKS_DOC,
    CheckResult,
    ClusterSnapshot,
    checkPlan,
    exitCodeOf,
    formatJson,
    formatTable,
    restartTargets,
    runChecks,
} from "../check";
import { checkCrds, deploymentProblem } from "../check/controlPlane";
import { gatewayApiRequirement } from "../lib/gatewayApi";
import { checkIngress, checkJobs, checkMeshedNamespaces, checkMeshedWorkloads, topOwner, unmeshedPods } from "../check/dataPlane";
import { checkPodMonitors, operatorSelectorMatches as selectorMatches } from "../check/extensions";
import { checkLonghorn, longhornStepUrn } from "../check/longhorn";
import { crdsInHelmRelease, rawConfigFromStackFile } from "../cli/check";
import { resolveRelease } from "../lib/release";
import { MadeCert, makeIssuer, makeRoot } from "./support/certs";
import { context, deployment, healthySnapshot, pod, replicaSet, testConfig, withObjects } from "./support/checkFixtures";
import { Loose } from "./support/loose";
import { nameOf } from "../lib/k8s";

let dir: string;
let root: MadeCert;
let issuer: MadeCert;
beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "picluster-check-"));
    root = makeRoot(dir);
    issuer = makeIssuer(dir, root);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const failures = (results: CheckResult[]) => results.filter((r) => r.status === "fail");
const healthy = (config = testConfig()) => healthySnapshot(config, { root: root.crt, issuer: issuer.crt });

describe("runChecks", () => {
    test("a healthy cluster passes every check, exit 0, and the table says so", () => {
        const results = runChecks(healthy(), context());
        expect(results.filter((r) => r.status !== "ok")).toEqual([]);
        // Checks that pass say so under their ID; some only ever speak up about a problem.
        expect([...new Set(results.map((r) => r.id))].sort()).toEqual([
            "pl-cp-crds",
            "pl-cp-deployments",
            "pl-cp-linkerd-config",
            "pl-dp-meshed-namespace",
            "pl-dp-traefik",
            "pl-ext-dashboards",
            "pl-ext-jaeger",
            "pl-ext-podmonitors",
            "pl-ext-viz",
            "pl-identity-issuer-key",
            "pl-identity-issuer-signed",
            "pl-identity-issuer-validity",
            "pl-identity-trust-anchor-expiry",
            "pl-identity-trust-anchor-matches",
            "pl-identity-trust-anchor-valid",
            "pl-longhorn-pod-ip",
            "pl-longhorn-workload",
        ]);
        expect(new Set(results.map((r) => r.group))).toEqual(new Set(["control plane", "identity", "data plane", "extensions", "longhorn"]));
        expect(exitCodeOf(results)).toBe(0);
        expect(formatTable(results)).toMatch(/\n0 warning\(s\), 0 failure\(s\)$|ok, 0 warning\(s\), 0 failure\(s\)$/);
        const json = JSON.parse(formatJson(results, { stack: "picluster" }));
        expect(json).toMatchObject({ stack: "picluster", exitCode: 0, summary: { warn: 0, fail: 0 } });
        expect(json.results[0]).toEqual(
            expect.objectContaining({ group: "control plane", name: expect.any(String), status: "ok", message: expect.any(String) }),
        );
        expect(json.results[0]).toMatchObject({ id: "pl-cp-crds", doc: "docs/checks.md#pl-cp-crds" });
    });

    test("every check ID is documented under its own heading in docs/checks.md, in its group, and nothing else is", () => {
        const doc = fs.readFileSync(path.join(__dirname, "..", CHECKS_DOC), "utf8");
        const documented: [string, string][] = [];
        let group = "";
        for (const line of doc.split("\n")) {
            if (line.startsWith("## ")) group = line.slice(3);
            if (line.startsWith("### ")) documented.push([line.slice(4), group]);
        }
        expect(documented).toEqual(Object.entries(CHECKS));
    });

    test("one failure makes exit 1; a warning alone does not; the table shows the fix under it", () => {
        const s = withObjects(healthy(), { add: [deployment("linkerd", "linkerd-destination", { available: false })] });
        const results = runChecks(s, context());
        expect(exitCodeOf(results)).toBe(1);
        expect(failures(results).map((r) => r.id)).toEqual(["pl-cp-deployments"]);
        const table = formatTable(results);
        expect(table).toMatch(/\n\s+see: docs\/checks\.md#pl-cp-deployments/);
        expect(table).toMatch(/\[FAIL\] deployment linkerd\/linkerd-destination: .*0\/1 replicas available/);
        expect(table).toMatch(
            /\n\s+fix: see why its pods do not start: `kubectl --kubeconfig \/nonexistent\/kubeconfig --context pi -n linkerd describe deployment linkerd-destination`/,
        );
        expect(
            exitCodeOf([{ id: "pl-identity-issuer-validity", doc: "", group: "identity", name: "x", status: "warn", message: "m", fix: "f" }]),
        ).toBe(0);
    });

    test("disabled parts are not checked (viz, jaeger, monitoring, Longhorn off)", () => {
        const config = testConfig({
            viz: { enabled: false },
            jaeger: { enabled: false },
            monitoring: { enabled: false },
            longhorn: { enabled: false },
            ingress: { controller: "none" },
        });
        const s = withObjects(healthy(config), {
            remove: [
                ["DaemonSet", "longhorn-system", "longhorn-manager"],
                ["Deployment", "linkerd-viz", "web"],
            ],
        });
        const results = runChecks(s, context(config));
        expect(failures(results)).toEqual([]);
        expect(results.some((r) => r.group === "longhorn" || r.group === "extensions")).toBe(false);
    });
});

describe("control plane", () => {
    test("a CRD of the linkerd-crds release missing from the cluster fails, naming it and how to re-apply", () => {
        const s = healthy();
        const r = checkCrds({ ...s, crds: s.crds.filter((c) => c.name !== "serviceprofiles.linkerd.io") }, context());
        expect(failures(r)).toEqual([
            expect.objectContaining({
                name: "Linkerd CRDs",
                message: expect.stringMatching(/missing: serviceprofiles.linkerd.io/),
                fix: expect.stringMatching(
                    /helm --kubeconfig \/nonexistent\/kubeconfig --kube-context pi -n linkerd get manifest linkerd-crds \| kubectl .* apply --server-side -f -/,
                ),
            }),
        ]);
        expect(failures(checkCrds({ ...s, releaseCrds: undefined }, context()))[0].message).toMatch(/no deployed Helm release linkerd-crds/);
    });

    test("Gateway API CRDs: not needed on stable, warned from edge-25.9.4, required (v1) from edge-26.7.1", () => {
        expect(gatewayApiRequirement(resolveRelease("stable", "2.14.10"))).toBeUndefined();
        expect(gatewayApiRequirement(resolveRelease("edge", "edge-25.9.3"))).toBeUndefined();
        expect(gatewayApiRequirement(resolveRelease("edge", "edge-25.9.4"))).toMatchObject({ required: false });
        expect(gatewayApiRequirement(resolveRelease("edge", "edge-26.8.3"))).toMatchObject({ required: true, version: "v1" });
        const config = testConfig({ linkerd: { channel: "edge", version: "edge-26.8.3" }, jaeger: { enabled: false } });
        const s = healthy(config);
        const missing = checkCrds(s, context(config));
        expect(failures(missing)[0]).toMatchObject({
            name: "Gateway API CRDs",
            message: expect.stringMatching(/httproutes.gateway.networking.k8s.io, grpcroutes.gateway.networking.k8s.io not served at v1/),
        });
        const served = {
            ...s,
            crds: [
                ...s.crds,
                { name: "httproutes.gateway.networking.k8s.io", servedVersions: ["v1", "v1beta1"] },
                { name: "grpcroutes.gateway.networking.k8s.io", servedVersions: ["v1"] },
            ],
        };
        expect(failures(checkCrds(served, context(config)))).toEqual([]);
    });

    test("deploymentProblem: scaled to zero, not available, not rolled out", () => {
        expect(deploymentProblem(deployment("linkerd", "x"))).toBeUndefined();
        expect(deploymentProblem(deployment("linkerd", "x", { replicas: 0 }))).toMatch(/scaled to 0/);
        expect(deploymentProblem(deployment("linkerd", "x", { available: false }))).toMatch(
            /0\/1 replicas available, 0 ready \(does not have minimum availability\)/,
        );
        const d = deployment("linkerd", "x");
        expect(deploymentProblem({ ...d, metadata: { ...d.metadata, generation: 2 } })).toMatch(/not rolled out/);
    });

    test("linkerd-config missing fails", () => {
        const results = runChecks(withObjects(healthy(), { remove: [["ConfigMap", "linkerd", "linkerd-config"]] }), context());
        expect(failures(results).map((r) => r.name)).toEqual(expect.arrayContaining(["linkerd-config", "trust anchors"]));
    });
});

describe("data plane", () => {
    test("a running pod without the proxy in a meshed namespace fails, naming it and the owner --restart rolls", () => {
        const s = withObjects(healthy(), {
            add: [
                pod("monitoring", "grafana-7c9-abc", { owner: { kind: "ReplicaSet", name: "grafana-7c9" } }),
                replicaSet("monitoring", "grafana-7c9", "grafana"),
                pod("monitoring", "loose-pod"),
                pod("monitoring", "pending-pod", { running: false }),
                pod("monitoring", "native-sidecar-pod", { proxy: "native" }),
                pod("monitoring", "host-network", {}),
            ],
        });
        // hostNetwork pods are skipped by the injector by design.
        (s.objects as Loose[]).find((o) => o.metadata.name === "host-network")!.spec.hostNetwork = true;
        const [r] = failures(checkMeshedNamespaces(s, context()));
        expect(r.name).toBe("namespace monitoring");
        expect(r.message).toMatch(
            /2 running pod\(s\) in meshed namespace monitoring without the linkerd-proxy container .*: grafana-7c9-abc, loose-pod/,
        );
        expect(r.restart).toEqual(["Deployment/monitoring/grafana"]);
        expect(r.fix).toMatch(/npm run check -- --stack picluster --restart` rolls Deployment\/monitoring\/grafana/);
        expect(r.fix).toMatch(/delete loose-pod so they are recreated/);
        expect(restartTargets(runChecks(s, context()))).toEqual(["Deployment/monitoring/grafana"]);
    });

    test("owners are followed ReplicaSet -> Deployment and Job -> CronJob", () => {
        const s = withObjects(healthy(), {
            add: [
                replicaSet("monitoring", "rs", "dep"),
                {
                    apiVersion: "batch/v1",
                    kind: "Job",
                    metadata: { name: "job-1", namespace: "monitoring", ownerReferences: [{ kind: "CronJob", name: "cron", controller: true }] },
                },
            ],
        });
        expect(topOwner(s, pod("monitoring", "p", { owner: { kind: "ReplicaSet", name: "rs" } }))).toEqual({
            kind: "Deployment",
            namespace: "monitoring",
            name: "dep",
        });
        expect(topOwner(s, pod("monitoring", "p", { owner: { kind: "Job", name: "job-1" } }))).toEqual({
            kind: "CronJob",
            namespace: "monitoring",
            name: "cron",
        });
        expect(unmeshedPods([pod("x", "a", { annotations: { "linkerd.io/inject": "disabled" } })])).toEqual([]);
    });

    test("a meshed namespace the injector never sees (admission webhooks disabled, cert-manager) says restarting will not help", () => {
        // The configuration refuses cert-manager today; a stack set up before that rule still reaches the check.
        const valid = testConfig({ meshing: { namespaces: ["apps"] } });
        const config = { ...valid, meshing: { ...valid.meshing, namespaces: ["apps", "cert-manager"] } };
        const s = withObjects(healthy(config), {
            add: [
                {
                    apiVersion: "v1",
                    kind: "Namespace",
                    metadata: {
                        name: "apps",
                        annotations: { "linkerd.io/inject": "enabled" },
                        labels: { "config.linkerd.io/admission-webhooks": "disabled" },
                    },
                },
                { apiVersion: "v1", kind: "Namespace", metadata: { name: "cert-manager", annotations: { "linkerd.io/inject": "enabled" } } },
                pod("apps", "api-0", { owner: { kind: "StatefulSet", name: "api" } }),
                pod("cert-manager", "cert-manager-abc"),
            ],
        });
        const r = failures(checkMeshedNamespaces(s, context(config)));
        expect(r.map((x) => [x.name, x.restart])).toEqual([
            ["namespace apps", undefined],
            ["namespace cert-manager", undefined],
        ]);
        expect(r.map((x) => x.id)).toEqual(["pl-dp-meshed-namespace", "pl-dp-meshed-namespace"]);
        expect(r[0].message).toMatch(/restarting them will not help: namespace apps is labelled config.linkerd.io\/admission-webhooks: disabled/);
        expect(r[1].message).toMatch(/never sees cert-manager .*linkerd2 #11104/);
    });

    test("meshing.workloads: the template annotation still there, and its running pods carry the proxy", () => {
        const config = testConfig({ meshing: { namespaces: [], workloads: [{ kind: "Deployment", namespace: "apps", name: "site" }] } });
        const annotated = deployment("apps", "site", { annotations: { "linkerd.io/inject": "enabled" } });
        const base = withObjects(healthy(config), { add: [annotated, replicaSet("apps", "site-1", "site")] });
        expect(
            checkMeshedWorkloads(
                withObjects(base, { add: [pod("apps", "site-1-a", { proxy: true, owner: { kind: "ReplicaSet", name: "site-1" } })] }),
                context(config),
            ),
        ).toEqual([expect.objectContaining({ status: "ok", name: "deployment apps/site" })]);
        const stale = checkMeshedWorkloads(
            withObjects(base, { add: [pod("apps", "site-1-a", { owner: { kind: "ReplicaSet", name: "site-1" } })] }),
            context(config),
        );
        expect(stale).toEqual([
            expect.objectContaining({ status: "fail", restart: ["Deployment/apps/site"], message: expect.stringMatching(/site-1-a/) }),
        ]);
        const reset = checkMeshedWorkloads(withObjects(base, { add: [deployment("apps", "site")] }), context(config));
        expect(reset).toEqual([
            expect.objectContaining({ status: "fail", message: expect.stringMatching(/not annotated linkerd.io\/inject: enabled \(it has none\)/) }),
        ]);
        expect(checkMeshedWorkloads(withObjects(base, { remove: [["Deployment", "apps", "site"]] }), context(config))[0].message).toMatch(
            /does not exist/,
        );
    });

    test("a meshed namespace whose annotation was removed fails", () => {
        const s = withObjects(healthy(), { add: [{ apiVersion: "v1", kind: "Namespace", metadata: { name: "logging", annotations: {} } }] });
        expect(failures(checkMeshedNamespaces(s, context()))[0]).toMatchObject({
            name: "namespace logging",
            message: expect.stringMatching(/not annotated linkerd.io\/inject: enabled/),
        });
    });

    test("Traefik: in kube-system the injector never sees it (linkerd2 #11104); elsewhere without ingress mode it fails", () => {
        // The configuration refuses kube-system today; a Traefik left there (e.g. by an older stack) still reaches the check.
        const valid = testConfig({ ingress: { traefik: { install: false } } });
        const config = { ...valid, ingress: { ...valid.ingress, namespace: "kube-system" } } as typeof valid;
        const s = withObjects(healthy(config), { add: [pod("kube-system", "traefik-abc", { labels: { "app.kubernetes.io/name": "traefik" } })] });
        expect(failures(checkIngress(s, context(config)))[0]).toMatchObject({
            name: "Traefik",
            message: expect.stringMatching(/linkerd2 #11104/),
            fix: expect.stringMatching(/--disable traefik/),
        });
        const wrongMode = withObjects(healthy(), {
            add: [
                pod("traefik", "traefik-5d-xyz", {
                    proxy: true,
                    labels: { "app.kubernetes.io/name": "traefik" },
                    annotations: { "linkerd.io/inject": "enabled" },
                }),
            ],
        });
        expect(failures(checkIngress(wrongMode, context()))[0]).toMatchObject({
            name: "Traefik ingress mode",
            fix: expect.stringMatching(/the program's Traefik release sets deployment.podAnnotations linkerd.io\/inject: ingress/),
        });
        expect(failures(checkIngress(wrongMode, context()))[0].fix).not.toMatch(/HelmChartConfig/);
        const own = testConfig({ ingress: { traefik: { install: false } } });
        const ownWrongMode = withObjects(healthy(own), {
            add: [
                pod("traefik", "traefik-5d-xyz", {
                    proxy: true,
                    labels: { "app.kubernetes.io/name": "traefik" },
                    annotations: { "linkerd.io/inject": "enabled" },
                }),
            ],
        });
        expect(failures(checkIngress(ownWrongMode, context(own)))[0].fix).toMatch(/pulumi stack output ingressMeshing/);
        const none = withObjects(healthy(), { remove: [["Pod", "traefik", "traefik-5d-xyz"]] });
        expect(checkIngress(none, context())[0]).toMatchObject({ status: "warn", message: expect.stringMatching(/found no running Traefik pods/) });
    });

    test("Jobs and CronJobs in meshed namespaces go through the policy rules on the live objects", () => {
        const job = (name: string, extra: Record<string, unknown> = {}) => ({
            apiVersion: "batch/v1",
            kind: "Job",
            metadata: { name, namespace: "monitoring" },
            spec: { template: { metadata: {}, spec: { containers: [{ name: "migrate", image: "x", command: ["/migrate"] }] } } },
            ...extra,
        });
        const s = withObjects(healthy(), {
            add: [
                job("db-migration"),
                job("finished", { status: { conditions: [{ type: "Complete", status: "True" }] } }),
                {
                    ...job("opted-out"),
                    spec: { template: { metadata: { annotations: { "linkerd.io/inject": "disabled" } }, spec: { containers: [{ name: "c" }] } } },
                },
            ],
        });
        const results = checkJobs(s, context());
        expect(failures(results)).toEqual([
            expect.objectContaining({
                name: "job monitoring/db-migration",
                message: expect.stringMatching(
                    /^linkerd-job-must-complete: Job pods get the Linkerd proxy because its namespace "monitoring" is meshed/,
                ),
                fix: expect.stringMatching(/linkerd.io\/inject: disabled/),
            }),
        ]);
        expect(results.find((r) => r.name === "jobs in monitoring")).toBeUndefined();
        // A CronJob that opts out passes, and the namespace says how many were checked.
        const cron = {
            apiVersion: "batch/v1",
            kind: "CronJob",
            metadata: { name: "backup", namespace: "logging" },
            spec: {
                jobTemplate: {
                    spec: { template: { metadata: { annotations: { "linkerd.io/inject": "disabled" } }, spec: { containers: [{ name: "b" }] } } },
                },
            },
        };
        expect(checkJobs(withObjects(healthy(), { add: [cron] }), context())).toEqual([
            expect.objectContaining({ status: "ok", name: "jobs in logging", message: "1 Job/CronJob(s) pass the policy rules" }),
        ]);
    });
});

describe("extensions", () => {
    test("selectorMatches: matchLabels, expressions, empty selects all, missing selects none", () => {
        expect(selectorMatches({}, { a: "b" })).toBe(true);
        expect(selectorMatches(undefined, { a: "b" })).toBe(false);
        expect(selectorMatches({ matchLabels: { release: "kps" } }, { release: "kps", app: "x" })).toBe(true);
        expect(selectorMatches({ matchExpressions: [{ key: "release", operator: "In", values: ["a", "b"] }] }, { release: "b" })).toBe(true);
        expect(selectorMatches({ matchExpressions: [{ key: "release", operator: "DoesNotExist" }] }, { release: "b" })).toBe(false);
    });

    test("PodMonitors not selected by Prometheus fail; without a Prometheus object they warn", () => {
        const s = healthy();
        const other = s.objects.map((o) =>
            o.kind === "Prometheus" ? { ...o, spec: { podMonitorSelector: { matchLabels: { release: "prom" } } } } : o,
        );
        const r = failures(checkPodMonitors({ ...s, objects: other }, context()));
        expect(r.map((x) => x.name)).toEqual([
            "podmonitor monitoring/linkerd-controller",
            "podmonitor monitoring/linkerd-service-mirror",
            "podmonitor monitoring/linkerd-proxy",
        ]);
        expect(r[0].message).toMatch(/no Prometheus in monitoring selects it .*"release":"prom"/);
        const noProm = checkPodMonitors({ ...s, objects: s.objects.filter((o) => o.kind !== "Prometheus") }, context());
        expect(noProm.map((x) => x.status)).toEqual(["warn", "warn", "warn"]);
        expect(failures(checkPodMonitors({ ...s, unservedTypes: ["podmonitors.monitoring.coreos.com"] }, context()))[0].message).toMatch(
            /kube-prometheus-stack .* not installed/,
        );
    });

    test("viz and jaeger Deployments must be available; the dashboards ConfigMap present", () => {
        const s = withObjects(healthy(), {
            remove: [
                ["Deployment", "linkerd-jaeger", "jaeger-injector"],
                ["ConfigMap", "monitoring", "linkerd-grafana-dashboards"],
            ],
        });
        const names = failures(runChecks(s, context())).map((r) => r.name);
        expect(names).toEqual(["deployment linkerd-jaeger/jaeger-injector", "configmap monitoring/linkerd-grafana-dashboards"]);
    });

    test("releases without linkerd-jaeger: proxy tracing off warns", () => {
        const config = testConfig({ linkerd: { channel: "edge", version: "edge-26.8.3" } });
        const results = runChecks(healthy(config), context(config));
        expect(results.find((r) => r.name === "proxy tracing")).toMatchObject({
            status: "warn",
            message: expect.stringMatching(/no linkerd-jaeger extension/),
        });
        const on = healthy(config).objects.map((o) =>
            o.kind === "ConfigMap" && nameOf(o) === "linkerd-config"
                ? {
                      ...o,
                      data: {
                          values: stringifyYaml({
                              identityTrustAnchorsPEM: root.crt,
                              proxy: { tracing: { enabled: true, collector: { endpoint: "tempo.tracing:4317" } } },
                          }),
                      },
                  }
                : o,
        );
        expect(runChecks({ ...healthy(config), objects: on }, context(config)).find((r) => r.name === "proxy tracing")).toMatchObject({
            status: "ok",
            message: "the proxies send spans to tempo.tracing:4317",
        });
    });
});

describe("longhorn", () => {
    const resetManager = (s: ClusterSnapshot) => ({
        ...s,
        objects: s.objects.map((o) =>
            o.kind === "DaemonSet" && nameOf(o) === "longhorn-manager"
                ? {
                      ...o,
                      spec: {
                          template: {
                              metadata: { annotations: {} },
                              spec: {
                                  containers: [
                                      { name: "longhorn-manager", env: [{ name: "POD_IP", valueFrom: { fieldRef: { fieldPath: "status.podIP" } } }] },
                                  ],
                              },
                          },
                      },
                  }
                : o,
        ),
    });

    test("a Longhorn upgrade that reset the templates fails POD_IP and the annotation, with the steps to re-run", () => {
        const results = failures(checkLonghorn(resetManager(healthy()), context()));
        expect(results.map((r) => r.name)).toEqual(["longhorn-manager POD_IP", "daemonset longhorn-system/longhorn-manager"]);
        expect(results[0].message).toMatch(/POD_IP of container longhorn-manager is taken from .*status.podIP.*not 0.0.0.0/);
        expect(results[0].fix).toBe(
            "re-run the program's Longhorn steps: `pulumi up -s picluster --replace 'urn:pulumi:picluster::picluster-linkerd::picluster:linkerd:PiclusterLinkerd$picluster:linkerd:LonghornMeshing$command:local:Command::linkerd-longhorn-mesh-pod-ip' --replace 'urn:pulumi:picluster::picluster-linkerd::picluster:linkerd:PiclusterLinkerd$picluster:linkerd:LonghornMeshing$command:local:Command::linkerd-longhorn-mesh-annotate'`",
        );
        expect(longhornStepUrn("s", "mesh-annotate")).toMatch(/::linkerd-longhorn-mesh-annotate$/);
    });

    test("longhorn-manager pods started before the annotation fail and are restartable; a missing DaemonSet fails", () => {
        const s = withObjects(healthy(), {
            add: [pod("longhorn-system", "longhorn-manager-abc", { owner: { kind: "DaemonSet", name: "longhorn-manager" } })],
        });
        expect(failures(checkLonghorn(s, context()))[0]).toMatchObject({ restart: ["DaemonSet/longhorn-system/longhorn-manager"] });
        const gone = withObjects(healthy(), { remove: [["DaemonSet", "longhorn-system", "longhorn-manager"]] });
        expect(failures(checkLonghorn(gone, context()))[0].message).toMatch(/is Longhorn installed in longhorn-system/);
    });
});

describe("what the command reads", () => {
    test("checkPlan follows the configuration: namespaces, Secrets (certificate keys only), custom resources", () => {
        const plan = checkPlan(
            testConfig({
                meshing: { namespaces: ["apps"], workloads: [{ kind: "Deployment", namespace: "web", name: "site" }] },
                identity: { trustAnchor: { mode: "bundle" } },
            }),
        );
        expect(plan.workloadNamespaces).toEqual(["apps", "linkerd", "linkerd-jaeger", "linkerd-viz", "longhorn-system", "traefik", "web"]);
        expect(plan.secrets).toEqual([
            { namespace: "linkerd", name: "linkerd-identity-issuer", keys: ["tls.crt", "ca.crt"] },
            { namespace: "cert-manager", name: "root-secret", keys: ["ca.crt"] },
        ]);
        expect(plan.configMaps.map((c) => c.name)).toEqual(["linkerd-config", "linkerd-identity-trust-roots", "linkerd-grafana-dashboards"]);
    });

    test("during a rotation the plan also reads the previous anchor's certificate key", () => {
        const plan = checkPlan(testConfig({ identity: { trustAnchor: { mode: "bundle", previousSecret: { name: "linkerd-previous-anchor" } } } }));
        expect(plan.secrets).toContainEqual({ namespace: "cert-manager", name: "linkerd-previous-anchor", keys: ["ca.crt"] });
    });

    test("crdsInHelmRelease reads the CRD names from a Helm 3 release record as kubectl returns it", () => {
        const manifest = [
            { apiVersion: "apiextensions.k8s.io/v1", kind: "CustomResourceDefinition", metadata: { name: "servers.policy.linkerd.io" } },
            { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "x" } },
        ]
            .map((o) => stringifyYaml(o))
            .join("---\n");
        const helm = gzipSync(Buffer.from(JSON.stringify({ name: "linkerd-crds", manifest }))).toString("base64");
        expect(crdsInHelmRelease(Buffer.from(helm).toString("base64"))).toEqual(["servers.policy.linkerd.io"]);
    });

    test("rawConfigFromStackFile parses the structured keys and keeps the provider's own keys", () => {
        const raw = rawConfigFromStackFile({
            config: {
                "picluster-linkerd:linkerd": '{"channel":"stable"}',
                "picluster-linkerd:typo": "1",
                "kubernetes:context": "pi",
                "picluster-linkerd:vizDashboardPassword": "[secret]",
            },
            secretKeys: [],
        });
        expect(raw.values).toEqual({ linkerd: { channel: "stable" } });
        expect(raw.presentKeys).toEqual(["linkerd", "typo", "vizDashboardPassword"]);
        expect(raw.provider).toEqual({ kubeconfig: undefined, context: "pi" });
    });
});
