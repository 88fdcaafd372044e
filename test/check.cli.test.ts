/**
 * What cli/check.ts reads, with kubectl answering as a real one does (the replies are made in the
 * test): the plan's calls, only certificate keys of Secrets, CRD versions, the Helm release record,
 * objects that are missing and resource types the cluster does not serve.
 */
import { gzipSync } from "zlib";
import { stringify as stringifyYaml } from "yaml";
import { CannotRun, Kubectl, preferredVersion, readSnapshot, readSnapshotThroughApi } from "../cli/check";
import { runChecks } from "../check";
import { testConfig, context } from "./support/checkFixtures";
import { nameOf } from "../lib/k8s";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { spawnSync } from "child_process";

type Reply = { code: number; stdout: string; stderr: string };

class FakeKubectl extends Kubectl {
    readonly calls: string[][] = [];
    constructor(private readonly answer: (args: string[]) => Reply | undefined) {
        super("kubectl", "/k", "pi");
    }
    run(args: string[]): Reply {
        this.calls.push(args);
        const r = this.answer(args);
        if (!r) throw new Error(`unexpected kubectl call: ${args.join(" ")}`);
        return r;
    }
}

const okReply = (stdout: string): Reply => ({ code: 0, stdout, stderr: "" });
const list = (items: object[]) => okReply(JSON.stringify({ apiVersion: "v1", kind: "List", items }));
const b64 = (s: string | Buffer) => Buffer.from(s).toString("base64");

function helmRecord(manifest: object[]): string {
    const release = { name: "linkerd-crds", manifest: manifest.map((o) => stringifyYaml(o)).join("---\n") };
    return b64(b64(gzipSync(Buffer.from(JSON.stringify(release)))));
}

function answers(args: string[]): Reply | undefined {
    const a = args.join(" ");
    if (a === "get namespaces -o json")
        return list([{ kind: "Namespace", metadata: { name: "monitoring", annotations: { "linkerd.io/inject": "enabled" } } }]);
    if (a.startsWith("get crd -o jsonpath="))
        return okReply("serviceprofiles.linkerd.io\tv1alpha1=false,v1alpha2=true,\nservers.policy.linkerd.io\tv1beta1=true,\n");
    if (a.startsWith("-n linkerd get secret -l owner=helm,name=linkerd-crds,status=deployed"))
        return okReply(
            `${helmRecord([
                { kind: "CustomResourceDefinition", metadata: { name: "serviceprofiles.linkerd.io" } },
                { kind: "CustomResourceDefinition", metadata: { name: "httproutes.policy.linkerd.io" } },
            ])}\n`,
        );
    const workloads =
        /^-n (\S+) get deployments.apps,daemonsets.apps,statefulsets.apps,replicasets.apps,pods,jobs.batch,cronjobs.batch -o json$/.exec(a);
    if (workloads)
        return list(
            workloads[1] === "monitoring"
                ? [
                      {
                          kind: "Pod",
                          metadata: { name: "grafana-0", namespace: "monitoring" },
                          spec: { containers: [{ name: "grafana" }] },
                          status: { phase: "Running" },
                      },
                  ]
                : [],
        );
    if (a === "-n linkerd get configmap linkerd-config --ignore-not-found -o json")
        return okReply(
            JSON.stringify({
                kind: "ConfigMap",
                metadata: { name: "linkerd-config", namespace: "linkerd" },
                data: { values: "identityTrustAnchorsPEM: x\n" },
            }),
        );
    if (a.startsWith("-n monitoring get configmap linkerd-grafana-dashboards --ignore-not-found")) return okReply("");
    if (a === '-n linkerd get secret linkerd-identity-issuer -o go-template={{index .data "tls.crt"}}') return okReply(b64("TLS-CRT"));
    if (a === '-n linkerd get secret linkerd-identity-issuer -o go-template={{index .data "ca.crt"}}') return okReply("<no value>");
    if (a === "-n linkerd get certificates.cert-manager.io -o json") return list([]);
    if (a === "-n monitoring get podmonitors.monitoring.coreos.com -o json")
        return list([{ kind: "PodMonitor", metadata: { name: "linkerd-proxy", namespace: "monitoring" } }]);
    if (a === "-n monitoring get prometheuses.monitoring.coreos.com -o json")
        return { code: 1, stdout: "", stderr: 'error: the server doesn\'t have a resource type "prometheuses"' };
    return undefined;
}

describe("readSnapshot", () => {
    test("reads what the plan names, parses CRD versions and the Helm release record, keeps only certificate keys", () => {
        const config = testConfig({ ingress: { controller: "none" }, viz: { dashboard: { exposure: "none" } }, longhorn: { enabled: false } });
        const k = new FakeKubectl(answers);
        const s = readSnapshot(k, config);
        expect(s.crds).toEqual([
            { name: "serviceprofiles.linkerd.io", servedVersions: ["v1alpha2"] },
            { name: "servers.policy.linkerd.io", servedVersions: ["v1beta1"] },
        ]);
        expect(s.releaseCrds).toEqual(["serviceprofiles.linkerd.io", "httproutes.policy.linkerd.io"]);
        expect(s.secrets).toEqual({ "linkerd/linkerd-identity-issuer": { "tls.crt": "TLS-CRT" } });
        expect(s.unservedTypes).toEqual(["prometheuses.monitoring.coreos.com"]);
        expect(s.objects.map((o) => `${String(o.kind)}/${nameOf(o)}`)).toEqual(
            expect.arrayContaining(["Namespace/monitoring", "Pod/grafana-0", "ConfigMap/linkerd-config", "PodMonitor/linkerd-proxy"]),
        );
        // Never a whole Secret: only go-template reads of the certificate keys.
        for (const call of k.calls.filter((c) => c.includes("secret") && !c.includes("-l")))
            expect(call.join(" ")).toMatch(/go-template=\{\{index \.data "(tls|ca)\.crt"\}\}$/);
        // The checks run on it: the missing CRD of the release and the unmeshed pod are named.
        const failed = runChecks(s, context(config)).filter((r) => r.status === "fail");
        expect(failed.find((r) => r.name === "Linkerd CRDs")?.message).toMatch(/missing: httproutes.policy.linkerd.io/);
        expect(failed.find((r) => r.name === "namespace monitoring")?.message).toMatch(/grafana-0/);
    });

    test("any other kubectl error means the check cannot run (exit 2), naming the call", () => {
        const k = new FakeKubectl((args) =>
            args.join(" ") === "get namespaces -o json"
                ? {
                      code: 1,
                      stdout: "",
                      stderr: 'Error from server (Forbidden): namespaces is forbidden: User "pi" cannot list resource "namespaces"',
                  }
                : undefined,
        );
        expect(() => readSnapshot(k, testConfig())).toThrow(CannotRun);
        expect(() => readSnapshot(k, testConfig())).toThrow(/kubectl get namespaces -o json failed: Error from server \(Forbidden\)/);
    });
});

describe("readSnapshotThroughApi (one API client: kubectl proxy)", () => {
    const config = testConfig({ ingress: { controller: "none" }, viz: { dashboard: { exposure: "none" } }, longhorn: { enabled: false } });
    const json = (o: object) => ({ status: 200, body: JSON.stringify(o) });
    const items = (list: object[]) => json({ kind: "List", items: list });
    const crd = (name: string, kind: string, versions: [string, boolean][]) => ({
        metadata: { name },
        spec: { names: { kind }, versions: versions.map(([v, served]) => ({ name: v, served })) },
    });
    function answer(p: string): { status: number; body: string } {
        if (p === "/api/v1/namespaces") return items([{ metadata: { name: "monitoring", annotations: { "linkerd.io/inject": "enabled" } } }]);
        if (p === "/apis/apiextensions.k8s.io/v1/customresourcedefinitions")
            return items([
                crd("serviceprofiles.linkerd.io", "ServiceProfile", [
                    ["v1alpha1", false],
                    ["v1alpha2", true],
                ]),
                crd("servers.policy.linkerd.io", "Server", [["v1beta1", true]]),
                crd("certificates.cert-manager.io", "Certificate", [["v1", true]]),
                crd("podmonitors.monitoring.coreos.com", "PodMonitor", [["v1", true]]),
            ]);
        if (p.startsWith("/api/v1/namespaces/linkerd/secrets?labelSelector="))
            return items([
                {
                    data: {
                        release: helmRecord([
                            { kind: "CustomResourceDefinition", metadata: { name: "serviceprofiles.linkerd.io" } },
                            { kind: "CustomResourceDefinition", metadata: { name: "httproutes.policy.linkerd.io" } },
                        ]),
                    },
                },
            ]);
        if (p === "/api/v1/namespaces/monitoring/pods")
            return items([
                {
                    metadata: { name: "grafana-0", namespace: "monitoring" },
                    spec: { containers: [{ name: "grafana" }] },
                    status: { phase: "Running" },
                },
            ]);
        if (/^\/apis?\/(apps\/v1|v1|batch\/v1)\/namespaces\/[a-z-]+\/(deployments|daemonsets|statefulsets|replicasets|pods|jobs|cronjobs)$/.test(p))
            return items([]);
        if (p === "/api/v1/namespaces/linkerd/configmaps/linkerd-config")
            return json({ metadata: { name: "linkerd-config", namespace: "linkerd" }, data: { values: "identityTrustAnchorsPEM: x\n" } });
        if (p === "/api/v1/namespaces/linkerd/secrets/linkerd-identity-issuer")
            return json({ metadata: { name: "linkerd-identity-issuer" }, data: { "tls.crt": b64("TLS-CRT"), "tls.key": b64("PRIVATE") } });
        if (p === "/apis/cert-manager.io/v1/namespaces/linkerd/certificates") return items([]);
        if (p === "/apis/monitoring.coreos.com/v1/namespaces/monitoring/podmonitors")
            return items([{ metadata: { name: "linkerd-proxy", namespace: "monitoring" } }]);
        return { status: 404, body: JSON.stringify({ kind: "Status", message: `not found: ${p}` }) };
    }

    test("reads what the kubectl reads read, in the same shape (kinds on list items), and keeps only certificate keys", async () => {
        const asked: string[] = [];
        const s = await readSnapshotThroughApi({ get: (p) => (asked.push(p), Promise.resolve(answer(p))) }, config);
        const viaKubectl = readSnapshot(new FakeKubectl(answers), config);
        expect(s.crds.filter((c) => !c.name.includes("coreos") && !c.name.includes("cert-manager"))).toEqual(viaKubectl.crds);
        expect(s.releaseCrds).toEqual(viaKubectl.releaseCrds);
        expect(s.secrets).toEqual({ "linkerd/linkerd-identity-issuer": { "tls.crt": "TLS-CRT" } });
        expect(s.unservedTypes).toEqual(["prometheuses.monitoring.coreos.com"]);
        expect(s.objects.map((o) => `${String(o.kind)}/${nameOf(o)}`)).toEqual(
            expect.arrayContaining(["Namespace/monitoring", "Pod/grafana-0", "ConfigMap/linkerd-config", "PodMonitor/linkerd-proxy"]),
        );
        expect(new Set(asked).size).toBe(asked.length); // each read once
        const now = context(config);
        expect(runChecks(s, now).map((r) => [r.name, r.status])).toEqual(runChecks(viaKubectl, now).map((r) => [r.name, r.status]));
    });

    test("an API error names the read; the version read is Kubernetes' preferred one", async () => {
        const forbidden = {
            status: 403,
            body: JSON.stringify({ kind: "Status", message: 'namespaces is forbidden: User "pi" cannot list resource "namespaces"' }),
        };
        await expect(
            readSnapshotThroughApi({ get: (p) => Promise.resolve(p === "/api/v1/namespaces" ? forbidden : answer(p)) }, config),
        ).rejects.toThrow(
            new CannotRun(
                'cannot read namespaces (GET /api/v1/namespaces: 403): namespaces is forbidden: User "pi" cannot list resource "namespaces"',
            ),
        );
        expect(preferredVersion(["v1alpha1", "v1beta2", "v1beta1"])).toBe("v1beta2");
        expect(preferredVersion(["v1alpha2", "v2", "v1"])).toBe("v2");
    });
});

describe("npm run check --json when it cannot run", () => {
    test("exit 2 prints the reason on stdout as JSON too (and on stderr)", () => {
        const repo = path.resolve(__dirname, "..");
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "picluster-check-json-"));
        try {
            const file = path.join(dir, "Pulumi.dev.yaml");
            fs.writeFileSync(file, "config:\n  picluster-linkerd:linkerd:\n    channel: nightly\n");
            const run = spawnSync(
                path.join(repo, "node_modules/.bin/ts-node"),
                ["--transpile-only", path.join(repo, "cli/check.ts"), "--stack", "dev", "--stack-file", file, "--json"],
                {
                    cwd: repo,
                    encoding: "utf8",
                    env: { ...process.env, PATH: `${path.join(repo, "node_modules/.bin")}${path.delimiter}${process.env.PATH}` },
                },
            );
            expect(run.status).toBe(2);
            const json = JSON.parse(run.stdout);
            expect(json).toMatchObject({ stack: "dev", exitCode: 2, results: [] });
            expect(json.error).toContain('picluster-linkerd:linkerd.channel: expected one of "stable", "edge"');
            expect(run.stderr).toContain("check: Invalid configuration");
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});
