/**
 * Every user and developer command: `--help` prints options and exit codes and exits 0 without doing
 * any work; an unknown flag or value is refused with exit 2 before anything is read, built or written.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { helpText, parseCommand, UsageError } from "../cli/args";
import { REPO } from "./support/render";

const TS_NODE = path.join(REPO, "node_modules/.bin/ts-node");

function run(script: string, args: string[], env: Record<string, string> = {}) {
    return spawnSync(TS_NODE, ["--transpile-only", path.join(REPO, script), ...args], {
        cwd: REPO,
        encoding: "utf8",
        env: { ...process.env, PATH: `${path.join(REPO, "node_modules/.bin")}${path.delimiter}${process.env.PATH}`, ...env },
        timeout: 60_000,
    });
}

const COMMANDS: [string, string, string[]][] = [
    ["render", "cli/render.ts", ["--out", "--stack", "--quiet"]],
    ["policy:check", "cli/policy-check.ts", ["--meshed-namespace", "--linkerd-version", "--config"]],
    ["check", "cli/check.ts", ["--stack", "--stack-file", "--kubeconfig", "--context", "--json", "--restart"]],
    ["bench", "bench/run.ts", ["--only", "--runs"]],
    ["toolchain", "test/e2e/toolchain/toolchain.ts", ["--only", "--rebuild", "--strict"]],
    ["cluster", "test/e2e/toolchain/cluster.ts", ["up", "--crds", "--keep", "status"]],
    ["fixtures", "test/fixtures/derive.ts", ["--linkerd-dir", "--crds-dir"]],
];

describe("command lines", () => {
    let sandbox: string;
    beforeAll(() => {
        sandbox = fs.mkdtempSync(path.join(os.tmpdir(), "picluster-cli-"));
    });
    afterAll(() => fs.rmSync(sandbox, { recursive: true, force: true }));

    test.each(COMMANDS)("%s --help lists its options and exit codes, exits 0 and does nothing", (_name, script, options) => {
        // An empty toolchain dir: if --help started a build, the dir would gain a lock or manifest.
        const toolchainDir = path.join(sandbox, `toolchain-${_name.replace(/\W/g, "")}`);
        fs.mkdirSync(toolchainDir);
        const res = run(script, ["--help"], { PICLUSTER_TOOLCHAIN_DIR: toolchainDir });
        expect(res.stderr).toBe("");
        expect(res.status).toBe(0);
        for (const o of options) expect(res.stdout).toContain(o);
        expect(res.stdout).toMatch(/Exit codes:\n\s+0 /);
        expect(fs.readdirSync(toolchainDir)).toEqual([]);
    });

    test.each(COMMANDS)("%s refuses an unknown flag with exit 2, naming it", (_name, script) => {
        const args = script.endsWith("cluster.ts") ? ["status", "--nosuch"] : ["--nosuch"];
        const toolchainDir = path.join(sandbox, `refuse-${_name.replace(/\W/g, "")}`);
        fs.mkdirSync(toolchainDir);
        const res = run(script, args, { PICLUSTER_TOOLCHAIN_DIR: toolchainDir });
        expect(res.status).toBe(2);
        expect(res.stderr).toMatch(/--nosuch/);
        expect(fs.readdirSync(toolchainDir)).toEqual([]);
    });

    test("bench --only with an unknown benchmark leaves bench/results.json untouched", () => {
        const results = path.join(REPO, "bench", "results.json");
        const before = fs.readFileSync(results, "utf8");
        const res = run("bench/run.ts", ["--only", "program,nosuch"]);
        expect(res.status).toBe(2);
        expect(res.stderr).toMatch(/--only: unknown value\(s\) "nosuch"; expected one of program, policy, preview, up, check, upgrade, tests/);
        expect(fs.readFileSync(results, "utf8")).toBe(before);
    });

    test("cluster without a known command exits 2 with the usage", () => {
        const res = run("test/e2e/toolchain/cluster.ts", ["restart"]);
        expect(res.status).toBe(2);
        expect(res.stderr).toMatch(/unknown command "restart"[\s\S]*up\|status\|down\|stop\|start/);
    });

    test("cluster stop/start refuse a missing or unknown process with exit 2, before reading any state", () => {
        const state = path.join(sandbox, "no-such-state.json");
        const none = run("test/e2e/toolchain/cluster.ts", ["stop"], { PICLUSTER_CLUSTER_STATE: state });
        expect(none.status).toBe(2);
        expect(none.stderr).toMatch(/expected at least 1 process argument/);
        const etcd = run("test/e2e/toolchain/cluster.ts", ["start", "etcd"], { PICLUSTER_CLUSTER_STATE: state });
        expect(etcd.status).toBe(2);
        expect(etcd.stderr).toMatch(/name one process of cluster-network, kube-apiserver, .*cert-manager, trust-manager, servicelb \(got etcd\)/);
    });
});

describe("parseCommand", () => {
    const spec = {
        usage: "npm run demo --",
        summary: "demo",
        options: {
            mode: { type: "string" as const, choices: ["a", "b"], help: "mode" },
            flag: { type: "boolean" as const, help: "flag" },
        },
        exitCodes: { 1: "failed" },
    };
    test("accepts known options and values", () => {
        expect(parseCommand(spec, ["--mode", "a", "--flag"])).toEqual({ kind: "run", values: { mode: "a", flag: true }, positionals: [] });
    });
    test("refuses a value outside choices, a missing value and a stray argument", () => {
        expect(() => parseCommand(spec, ["--mode", "c"])).toThrow(new UsageError('--mode: unknown value(s) "c"; expected one of a, b'));
        expect(() => parseCommand(spec, ["--mode"])).toThrow(/--mode/);
        expect(() => parseCommand(spec, ["stray"])).toThrow(/stray/);
    });
    test("help lists 0, 2 and the command's own exit codes", () => {
        expect(helpText(spec)).toMatch(/Exit codes:\n {2}0 {4}success\n {2}1 {4}failed\n {2}2 {4}bad usage/);
    });
});

describe("npm run check: exit 2 when it cannot run, before checking anything", () => {
    let sandbox: string;
    beforeAll(() => {
        sandbox = fs.mkdtempSync(path.join(os.tmpdir(), "picluster-check-cli-"));
        fs.writeFileSync(path.join(sandbox, "kubeconfig"), "apiVersion: v1\nkind: Config\ncurrent-context: pi\n");
        // A kubectl whose cluster does not answer: its `proxy` serves, and answers every request as the real one
        // does when the API server is down (502, the dial error); every other command prints kubectl's message.
        const calls = path.join(sandbox, "calls");
        fs.writeFileSync(
            path.join(sandbox, "kubectl"),
            `#!${process.execPath}
const fs = require("fs");
const args = process.argv.slice(2);
fs.appendFileSync(${JSON.stringify(calls)}, args.join(" ").replace(/--unix-socket=\\S+/, "--unix-socket=<socket>") + "\\n");
const socket = args.find((a) => a.startsWith("--unix-socket="));
if (args.includes("proxy") && socket) {
    require("http").createServer((req, res) => {
        fs.appendFileSync(${JSON.stringify(calls)}, "GET " + req.url + "\\n");
        res.writeHead(502);
        res.end("dial tcp 10.0.0.1:6443: connect: connection refused\\n");
    }).listen(socket.slice("--unix-socket=".length), () => console.log("Starting to serve on " + socket.slice("--unix-socket=".length)));
} else {
    console.error("The connection to the server 10.0.0.1:6443 was refused - did you specify the right host or port?");
    process.exit(1);
}
`,
            { mode: 0o755 },
        );
    });
    afterAll(() => fs.rmSync(sandbox, { recursive: true, force: true }));

    function stackFile(name: string, config: Record<string, unknown>): string {
        const file = path.join(sandbox, `Pulumi.${name}.yaml`);
        const lines = Object.entries(config).map(([k, v]) => `  picluster-linkerd:${k}: ${JSON.stringify(v)}`);
        fs.writeFileSync(file, `config:\n${lines.join("\n")}\n`);
        return file;
    }
    const cluster = () => ({ kubeconfig: path.join(sandbox, "kubeconfig"), context: "pi" });

    test("the cluster does not answer: exit 2 naming the context and kubeconfig; one kubectl (its proxy), only /readyz was asked", () => {
        const file = stackFile("down", { kubernetes: cluster(), longhorn: { kubectl: path.join(sandbox, "kubectl") } });
        const res = run("cli/check.ts", ["--stack", "down", "--stack-file", file]);
        expect(res.status).toBe(2);
        expect(res.stderr).toMatch(
            /check: cannot reach the cluster \(context pi of kubeconfig .*kubeconfig; .*\): dial tcp 10.0.0.1:6443: connect: connection refused/,
        );
        expect(fs.readFileSync(path.join(sandbox, "calls"), "utf8").trim().split("\n")).toEqual([
            `--kubeconfig ${path.join(sandbox, "kubeconfig")} --context pi proxy --unix-socket=<socket>`,
            "GET /readyz",
        ]);
    });

    test("--context overrides the stack's context", () => {
        const file = stackFile("override", { kubernetes: cluster(), longhorn: { kubectl: path.join(sandbox, "kubectl") } });
        const res = run("cli/check.ts", ["--stack-file", file, "--context", "other", "--json"]);
        expect(res.status).toBe(2);
        expect(res.stderr).toMatch(/context other of kubeconfig/);
    });

    test("an invalid stack configuration: exit 2 naming the key", () => {
        const file = stackFile("bad", { kubernetes: cluster(), linkerd: { channel: "nightly" } });
        const res = run("cli/check.ts", ["--stack-file", file]);
        expect(res.status).toBe(2);
        expect(res.stderr).toMatch(/picluster-linkerd:linkerd.channel: expected one of "stable", "edge"/);
    });

    test("kubectl missing: exit 2 naming the key that sets it", () => {
        const file = stackFile("nokubectl", { kubernetes: cluster(), longhorn: { kubectl: path.join(sandbox, "no-such-kubectl") } });
        const res = run("cli/check.ts", ["--stack-file", file]);
        expect(res.status).toBe(2);
        expect(res.stderr).toMatch(/kubectl not found: ".*no-such-kubectl" .*picluster-linkerd:longhorn.kubectl/);
    });
});
