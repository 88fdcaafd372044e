/**
 * Runs the Longhorn create/delete scripts for real (bash -euo pipefail, as local.Command does)
 * against a stand-in kubectl that logs its argv and answers from a state directory.
 */
import { spawnSync } from "child_process";
import {
    COMMAND_INTERPRETER,
    failingScripts,
    INJECT_ENABLED_MERGE_PATCH,
    INJECT_REMOVE_JSON_PATCH,
    KubectlTarget,
    kubectlTarget,
    longhornAnnotateScripts,
    longhornPodIpScripts,
    longhornWaitScripts,
    missingContextMessage,
    RESTORE_POD_IP_PATCH,
} from "../lib/builders/longhorn";
import { FakeKubectl, fakeKubectl } from "./support/fakeKubectl";

const KUBECONFIG = "/home/pi/.kube/pi cluster.yaml"; // a space, to check quoting
const CONTEXT = "picluster-admin@picluster";
const NS = "longhorn-system";
const PINNED = ["--kubeconfig", KUBECONFIG, "--context", CONTEXT];

function run(script: string, env: NodeJS.ProcessEnv) {
    const [bin, ...flags] = COMMAND_INTERPRETER;
    const r = spawnSync(bin, [...flags, script], { env, encoding: "utf8", timeout: 30000 });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

let fake: FakeKubectl;
let target: KubectlTarget;
beforeEach(() => {
    fake = fakeKubectl();
    target = { kubectl: fake.path, kubeconfigPath: KUBECONFIG, context: CONTEXT };
});

/** Calls without the pinned flags, after checking every call carries them first. */
function unpinnedCalls(): string[][] {
    const calls = fake.calls();
    for (const c of calls) expect(c.slice(0, 4)).toEqual(PINNED);
    return calls.map((c) => c.slice(4));
}

const READYZ = ["get", "--raw", "/readyz"];

describe("step (a): wait until Longhorn is completely deployed", () => {
    test("rollout status, then the CSI driver polled until present", () => {
        fake.setState("csi-after", "2");
        const r = run(longhornWaitScripts(target, { namespace: NS, timeoutSeconds: 60, pollSeconds: 0 }).create, fake.env);
        expect(r.stderr).toBe("");
        expect(r.status).toBe(0);
        const calls = unpinnedCalls();
        expect(calls.slice(0, 2)).toEqual([READYZ, ["-n", NS, "get", "daemonset", "longhorn-manager", "-o", "name"]]);
        expect(calls[2].slice(0, 5)).toEqual(["-n", NS, "rollout", "status", "daemonset/longhorn-manager"]);
        expect(calls[2][5]).toMatch(/^--timeout=(59|60)s$/);
        expect(calls.slice(3)).toEqual(Array(3).fill(["get", "csidriver", "driver.longhorn.io", "-o", "name"]));
        expect(r.stdout).toContain("Longhorn is deployed");
    });

    test("a CSI driver that never registers fails after the timeout, naming the key", () => {
        fake.setState("csi-after", "never");
        const r = run(longhornWaitScripts(target, { namespace: NS, timeoutSeconds: 1, pollSeconds: 1 }).create, fake.env);
        expect(r.status).toBe(1);
        expect(r.stderr).toContain("CSI driver driver.longhorn.io not registered within 1s (picluster-linkerd:longhorn.waitTimeoutSeconds)");
    });

    test("Longhorn not installed: fails after the timeout, naming longhorn.namespace", () => {
        fake.setState("no-manager");
        const r = run(longhornWaitScripts(target, { namespace: NS, timeoutSeconds: 1, pollSeconds: 1 }).create, fake.env);
        expect(r.status).toBe(1);
        expect(r.stderr).toContain("daemonset/longhorn-manager not found in namespace longhorn-system");
        expect(r.stderr).toContain("picluster-linkerd:longhorn.namespace");
    });

    test("delete changes nothing and calls no kubectl", () => {
        const r = run(longhornWaitScripts(target, { namespace: NS, timeoutSeconds: 60 }).delete, fake.env);
        expect(r.status).toBe(0);
        expect(fake.calls()).toEqual([]);
    });
});

describe("step (b): POD_IP=0.0.0.0 on longhorn-manager", () => {
    const getPodIp = [
        "-n",
        NS,
        "get",
        "daemonset",
        "longhorn-manager",
        "-o",
        'jsonpath={.spec.template.spec.containers[?(@.name=="longhorn-manager")].env[?(@.name=="POD_IP")].value}',
    ];

    test("create sets it once (the guide's kubectl set env); a second run changes nothing", () => {
        const { create } = longhornPodIpScripts(target, NS);
        expect(run(create, fake.env).status).toBe(0);
        expect(unpinnedCalls()).toEqual([
            READYZ,
            getPodIp,
            ["-n", NS, "set", "env", "daemonset/longhorn-manager", "-c", "longhorn-manager", "POD_IP=0.0.0.0"],
        ]);
        expect(fake.state("pod-ip")).toBe("0.0.0.0");

        fake.clearLog();
        const again = run(create, fake.env);
        expect(again.status).toBe(0);
        expect(again.stdout).toContain("already 0.0.0.0");
        expect(unpinnedCalls()).toEqual([READYZ, getPodIp]);
    });

    test("delete restores POD_IP from fieldRef status.podIP; a second run changes nothing", () => {
        fake.setState("pod-ip", "0.0.0.0");
        const del = longhornPodIpScripts(target, NS).delete;
        expect(run(del, fake.env).status).toBe(0);
        expect(unpinnedCalls()).toEqual([
            READYZ,
            ["-n", NS, "get", "daemonset", "longhorn-manager", "--ignore-not-found", "-o", "name"],
            getPodIp,
            ["-n", NS, "patch", "daemonset", "longhorn-manager", "--type", "strategic", "-p", RESTORE_POD_IP_PATCH],
        ]);
        expect(JSON.parse(RESTORE_POD_IP_PATCH).spec.template.spec.containers[0]).toEqual({
            name: "longhorn-manager",
            env: [{ name: "POD_IP", value: null, valueFrom: { fieldRef: { apiVersion: "v1", fieldPath: "status.podIP" } } }],
        });
        expect(fake.state("pod-ip")).toBeUndefined();

        fake.clearLog();
        expect(run(del, fake.env).status).toBe(0);
        expect(unpinnedCalls().some((c) => c.includes("patch"))).toBe(false);
    });

    test("delete succeeds when Longhorn is already gone", () => {
        fake.setState("no-manager");
        const r = run(longhornPodIpScripts(target, NS).delete, fake.env);
        expect(r.status).toBe(0);
        expect(r.stdout).toContain("nothing to revert");
    });
});

describe("step (c): linkerd.io/inject on longhorn-manager and longhorn-ui", () => {
    const getInject = (kind: string, name: string) => [
        "-n",
        NS,
        "get",
        kind,
        name,
        "-o",
        "jsonpath={.spec.template.metadata.annotations.linkerd\\.io/inject}",
    ];

    test("create: the guide's merge patches, manager then UI; a second run changes nothing", () => {
        const { create } = longhornAnnotateScripts(target, NS);
        expect(run(create, fake.env).status).toBe(0);
        expect(unpinnedCalls()).toEqual([
            READYZ,
            getInject("daemonset", "longhorn-manager"),
            ["-n", NS, "patch", "daemonset", "longhorn-manager", "--type", "merge", "-p", INJECT_ENABLED_MERGE_PATCH],
            getInject("deployment", "longhorn-ui"),
            ["-n", NS, "patch", "deployment", "longhorn-ui", "--type", "merge", "-p", INJECT_ENABLED_MERGE_PATCH],
        ]);
        expect(JSON.parse(INJECT_ENABLED_MERGE_PATCH)).toEqual({
            spec: { template: { metadata: { annotations: { "linkerd.io/inject": "enabled" } } } },
        });

        fake.clearLog();
        expect(run(create, fake.env).status).toBe(0);
        expect(unpinnedCalls()).toEqual([READYZ, getInject("daemonset", "longhorn-manager"), getInject("deployment", "longhorn-ui")]);
    });

    test("delete removes the annotation with a JSON patch, UI then manager; a second run changes nothing", () => {
        fake.setState("manager-inject", "enabled");
        fake.setState("ui-inject", "enabled");
        const del = longhornAnnotateScripts(target, NS).delete;
        expect(run(del, fake.env).status).toBe(0);
        expect(unpinnedCalls()).toEqual([
            READYZ,
            ["-n", NS, "get", "deployment", "longhorn-ui", "--ignore-not-found", "-o", "name"],
            getInject("deployment", "longhorn-ui"),
            ["-n", NS, "patch", "deployment", "longhorn-ui", "--type", "json", "-p", INJECT_REMOVE_JSON_PATCH],
            ["-n", NS, "get", "daemonset", "longhorn-manager", "--ignore-not-found", "-o", "name"],
            getInject("daemonset", "longhorn-manager"),
            ["-n", NS, "patch", "daemonset", "longhorn-manager", "--type", "json", "-p", INJECT_REMOVE_JSON_PATCH],
        ]);
        expect(JSON.parse(INJECT_REMOVE_JSON_PATCH)).toEqual([{ op: "remove", path: "/spec/template/metadata/annotations/linkerd.io~1inject" }]);

        fake.clearLog();
        expect(run(del, fake.env).status).toBe(0);
        expect(unpinnedCalls().some((c) => c.includes("patch"))).toBe(false);
    });

    test("delete leaves a value other than enabled alone", () => {
        fake.setState("manager-inject", "disabled");
        expect(run(longhornAnnotateScripts(target, NS).delete, fake.env).status).toBe(0);
        expect(fake.state("manager-inject")).toBe("disabled");
    });
});

describe("failures with clear messages", () => {
    test("kubectl missing (explicit path)", () => {
        const missing = { ...target, kubectl: "/nonexistent/bin/kubectl" };
        for (const s of [
            longhornWaitScripts(missing, { namespace: NS, timeoutSeconds: 10 }).create,
            longhornPodIpScripts(missing, NS).create,
            longhornAnnotateScripts(missing, NS).delete,
        ]) {
            const r = run(s, fake.env);
            expect(r.status).toBe(127);
            expect(r.stderr).toContain("kubectl not found: '/nonexistent/bin/kubectl'");
            expect(r.stderr).toContain("picluster-linkerd:longhorn.kubectl");
        }
        expect(fake.calls()).toEqual([]);
    });

    test("kubectl missing from PATH", () => {
        const r = run(longhornPodIpScripts({ ...target, kubectl: "kubectl-not-installed-here" }, NS).create, fake.env);
        expect(r.status).toBe(127);
        expect(r.stderr).toContain("'kubectl-not-installed-here' is not an executable file or on PATH");
    });

    test("the fake found on PATH as plain `kubectl` (the default longhorn.kubectl)", () => {
        const r = run(longhornAnnotateScripts({ ...target, kubectl: "kubectl" }, NS).create, fake.env);
        expect(r.status).toBe(0);
        expect(unpinnedCalls()[0]).toEqual(READYZ);
    });

    test("cluster unreachable: stops after the readyz check, naming the context and keys", () => {
        fake.setState("unreachable");
        for (const s of [
            longhornWaitScripts(target, { namespace: NS, timeoutSeconds: 10 }).create,
            longhornPodIpScripts(target, NS).delete,
            longhornAnnotateScripts(target, NS).create,
        ]) {
            fake.clearLog();
            const r = run(s, fake.env);
            expect(r.status).toBe(1);
            expect(r.stderr).toContain(`cannot reach the Kubernetes cluster (context '${CONTEXT}' of kubeconfig '${KUBECONFIG}'`);
            expect(r.stderr).toContain("picluster-linkerd:kubernetes.context");
            expect(r.stderr).toContain("connection to the server 10.0.0.1:6443 was refused");
            expect(unpinnedCalls()).toEqual([READYZ]);
        }
    });

    test("no context: kubectlTarget throws and failingScripts fail, naming picluster-linkerd:kubernetes.context", () => {
        expect(() => kubectlTarget({ kubeconfigPath: "/nowhere/config" }, "kubectl")).toThrow("picluster-linkerd:kubernetes.context");
        const message = missingContextMessage({ kubeconfigPath: "/nowhere/config" });
        for (const s of Object.values(failingScripts(message))) {
            const r = run(s, fake.env);
            expect(r.status).toBe(1);
            expect(r.stderr).toContain("Set picluster-linkerd:kubernetes.context");
            expect(r.stderr).toContain("/nowhere/config");
        }
        expect(fake.calls()).toEqual([]);
    });

    test("a failing kubectl call mid-step fails the step (bash -euo pipefail)", () => {
        fake.setState("no-manager");
        const r = run(longhornPodIpScripts(target, NS).create, fake.env);
        expect(r.status).not.toBe(0);
        expect(r.stderr).toContain("not found");
        expect(unpinnedCalls().some((c) => c.includes("set"))).toBe(false);
    });
});

test("a context or path with quotes stays one argument", () => {
    const odd = { ...target, context: "it's-mine", kubeconfigPath: "/tmp/a b/'c'" };
    expect(run(longhornAnnotateScripts(odd, NS).create, fake.env).status).toBe(0);
    for (const c of fake.calls()) expect(c.slice(0, 4)).toEqual(["--kubeconfig", "/tmp/a b/'c'", "--context", "it's-mine"]);
});
