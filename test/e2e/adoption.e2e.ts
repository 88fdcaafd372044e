/**
 * End-to-end: a cluster where Linkerd was installed the guide's way first (kubectl + helm, no Pulumi),
 * then taken over with `adopt.enabled`: the first `up` imports the Helm releases and replaces,
 * reinstalls or restarts nothing; the second `up` shows no changes. README "Coming from the guide".
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
    binDir,
    checkToolchain,
    Cluster,
    kubectl,
    kubectlJson,
    kubectlPath,
    makeRootCA,
    prepareCluster,
    Pulumi,
    repoRoot,
    sh,
    startCluster,
} from "./support/env";
import { writeStandInCharts } from "./support/standInCharts";
import { resolveRelease } from "../../lib/release";

const PROJECT = "picluster-linkerd";
const HELM = path.join(binDir, "helm");

checkToolchain();
if (!fs.existsSync(HELM)) throw new Error(`helm is not in the toolchain (${HELM}): run \`npm run toolchain\``);

let work: string;
let cluster: Cluster;
let pulumi: Pulumi;
let charts: string;
let rootCA: { dir: string; crt: string; key: string };
const stack = `adopt-${process.pid}`;
let configFile: string;
const args = () => ["--config-file", configFile, "-s", stack];

function helm(helmArgs: string[]): string {
    return sh(HELM, [...helmArgs, "--kubeconfig", cluster.kubeconfig, "--kube-context", cluster.context]);
}

/** Helm's release records (one Secret per revision). */
function helmRevisions(namespace: string, release: string): number[] {
    return kubectlJson(cluster, ["-n", namespace, "get", "secrets", "-l", `owner=helm,name=${release}`])
        .items.map((s: { metadata: { labels: { version: string } } }) => Number(s.metadata.labels.version))
        .sort();
}

beforeAll(
    async () => {
        work = fs.mkdtempSync(path.join(os.tmpdir(), "picluster-adopt-"));
        cluster = await startCluster(work);
        rootCA = makeRootCA(path.join(work, "root-ca"));
        prepareCluster(cluster, rootCA);
        charts = path.join(work, "charts");
        writeStandInCharts(charts, resolveRelease("stable", "2.14.10"));

        // The guide's installation, steps 3-8, by hand.
        kubectl(cluster, ["create", "namespace", "linkerd"]);
        kubectl(
            cluster,
            ["apply", "-f", "-"],
            JSON.stringify({
                apiVersion: "cert-manager.io/v1",
                kind: "Certificate",
                metadata: { name: "linkerd-identity-issuer", namespace: "linkerd" },
                spec: {
                    secretName: "linkerd-identity-issuer",
                    duration: "48h",
                    renewBefore: "25h",
                    issuerRef: { name: "ca-issuer", kind: "ClusterIssuer", group: "cert-manager.io" },
                    commonName: "identity.linkerd.cluster.local",
                    dnsNames: ["identity.linkerd.cluster.local"],
                    isCA: true,
                    privateKey: { algorithm: "ECDSA" },
                    usages: ["cert sign", "crl sign", "server auth", "client auth"],
                },
            }),
        );
        kubectl(cluster, ["-n", "linkerd", "wait", "certificate/linkerd-identity-issuer", "--for=condition=Ready", "--timeout=180s"]);
        const caCrt = path.join(work, "ca.crt");
        fs.writeFileSync(
            caCrt,
            Buffer.from(kubectlJson(cluster, ["-n", "linkerd", "get", "secret", "linkerd-identity-issuer"]).data["ca.crt"], "base64").toString(),
        );
        helm(["install", "linkerd-crds", path.join(charts, "linkerd-crds"), "-n", "linkerd"]);
        helm([
            "install",
            "linkerd-control-plane",
            path.join(charts, "linkerd-control-plane"),
            "-n",
            "linkerd",
            "--set-file",
            `identityTrustAnchorsPEM=${caCrt}`,
            "--set",
            "identity.issuer.scheme=kubernetes.io/tls",
        ]);
        // Guide, "Meshing a service": implicit annotation by hand.
        kubectl(cluster, ["annotate", "namespace", "monitoring", "linkerd.io/inject=enabled"]);

        pulumi = new Pulumi(work);
        configFile = path.join(work, `Pulumi.${stack}.yaml`);
        await pulumi.initStack(repoRoot, stack, configFile);
        const set = (key: string, value: string) => pulumi.setConfig(repoRoot, stack, configFile, `${PROJECT}:${key}`, value);
        await set("kubernetes.kubeconfig", cluster.kubeconfig);
        await set("kubernetes.context", cluster.context);
        await set("linkerd.chartDirectory", charts);
        await set("longhorn.kubectl", kubectlPath());
        // What this cluster has: Linkerd's two releases; viz, jaeger and an ingress controller are not part of this case.
        await set("viz.enabled", "false");
        await set("jaeger.enabled", "false");
        await set("ingress.controller", "none");
        await set("adopt.enabled", "true");
        await set("adopt.helmReleases[0]", "linkerd-crds");
        await set("adopt.helmReleases[1]", "linkerd-control-plane");
    },
    10 * 60 * 1000,
);

afterAll(
    async () => {
        await cluster?.stop();
        if (work && !process.env.PICLUSTER_E2E_KEEP) fs.rmSync(work, { recursive: true, force: true });
    },
    3 * 60 * 1000,
);

describe("adopting an installation made the guide's way", () => {
    let configMapVersion: string;
    let podsBefore: string[];
    let revisionsAfterAdoption: number[];

    /** The control plane's pods (uid) and Deployments (generation): what a restart would change. */
    const controlPlaneState = (): string[] =>
        [
            ...kubectlJson(cluster, ["-n", "linkerd", "get", "deployments"]).items.map(
                (d: { metadata: { name: string; generation: number } }) => `${d.metadata.name}@${d.metadata.generation}`,
            ),
            ...kubectlJson(cluster, ["-n", "linkerd", "get", "pods"]).items.map((p: { metadata: { uid: string } }) => p.metadata.uid),
        ].sort();

    test("the first up imports the Helm releases and replaces, reinstalls or restarts nothing", async () => {
        for (const d of ["linkerd-identity", "linkerd-destination", "linkerd-proxy-injector"]) {
            kubectl(cluster, ["-n", "linkerd", "rollout", "status", `deployment/${d}`, "--timeout=180s"]);
        }
        configMapVersion = kubectlJson(cluster, ["-n", "linkerd", "get", "configmap", "linkerd-config"]).metadata.resourceVersion;
        podsBefore = controlPlaneState();
        const eventLog = path.join(work, "adopt-events.jsonl");
        await pulumi.ok(repoRoot, ["up", "--yes", "--skip-preview", "--event-log", eventLog, ...args()]);
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
        const values = JSON.parse(helm(["get", "values", "linkerd-control-plane", "-n", "linkerd", "-o", "json"]));
        expect(Object.keys(values).sort()).toEqual(["identity", "identityTrustAnchorsPEM"]);
        // Nothing restarted: same Deployments generations and pods; linkerd-config untouched.
        expect(controlPlaneState()).toEqual(podsBefore);
        expect(kubectlJson(cluster, ["-n", "linkerd", "get", "configmap", "linkerd-config"]).metadata.resourceVersion).toBe(configMapVersion);
        // The objects the guide made by hand are now the program's, updated in place.
        const ns = kubectlJson(cluster, ["get", "namespace", "linkerd"]);
        expect(ns.metadata.labels).toMatchObject({ "config.linkerd.io/admission-webhooks": "disabled" });
        expect(kubectl(cluster, ["-n", "linkerd", "get", "certificate", "linkerd-identity-issuer", "-o", "name"]).trim()).toBe(
            "certificate.cert-manager.io/linkerd-identity-issuer",
        );
    });

    test("the second up shows no changes", async () => {
        await pulumi.ok(repoRoot, ["up", "--yes", "--expect-no-changes", ...args()]);
        expect(helmRevisions("linkerd", "linkerd-control-plane")).toEqual(revisionsAfterAdoption);
        expect(controlPlaneState()).toEqual(podsBefore);
    });

    test("adopt.enabled false: the preview shows the upgrade to the program's values, nothing replaced", async () => {
        await pulumi.setConfig(repoRoot, stack, configFile, `${PROJECT}:adopt.enabled`, "false");
        const preview = await pulumi.ok(repoRoot, ["preview", "--diff", ...args()]);
        expect(preview.stdout).toMatch(/~ kubernetes:helm.sh\/v3:Release: \(update\)[\s\S]*linkerd-control-plane/);
        expect(preview.stdout).not.toMatch(/\+-|replace/);
        await pulumi.ok(repoRoot, ["destroy", "--yes", ...args()]);
        await pulumi.ok(repoRoot, ["stack", "rm", "--yes", "-s", stack]);
    });
});
