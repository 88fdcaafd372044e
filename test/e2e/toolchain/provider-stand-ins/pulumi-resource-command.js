#!/usr/bin/env node
// STAND-IN for the Pulumi command provider (pulumi-resource-command), for the e2e tests only.
//
// Why it exists: the real provider is the Go module github.com/pulumi/pulumi-command/provider, and
// the Go module proxy reachable from our machines refuses every version of it (403). The engine
// only needs a gRPC pulumirpc.ResourceProvider, so this file implements, on @pulumi/pulumi's own
// provider server, `command:local:Command` with the input/output names of @pulumi/command 1.2.1:
//   inputs  create, update, delete, interpreter (default ["/bin/sh", "-c"]), environment, dir,
//           stdin, triggers, addPreviousOutputInEnv (default true), logging
//   outputs the inputs + stdout, stderr
// Behaviour, as the real provider's:
//   - create runs `create`; an update runs `update` if set, else `create`; delete runs `delete`
//     (nothing when unset) with the same environment/dir/interpreter/stdin;
//   - update and delete get PULUMI_COMMAND_STDOUT / PULUMI_COMMAND_STDERR (the previous outputs)
//     unless addPreviousOutputInEnv is false;
//   - a change of `triggers` replaces the resource (deleteBeforeReplace is the engine's business);
//     any other input change is an in-place update;
//   - scripts really run (child_process) with the provider's environment plus `environment`;
//     a failing script fails the operation with its exit status and stderr (stdout if no stderr);
//   - stdout/stderr are trimmed of one trailing newline and are secret when any input is secret.
// Not implemented (unused here): assetPaths/archivePaths, command:remote:*, the `run` invoke.
//
// test/e2e/toolchain/toolchain.ts installs it as `pulumi-resource-command` in the toolchain bin dir when the
// real provider cannot be built. Runs under Node >= 22 from this repository's node_modules.
"use strict";

// Node's compile cache, as the program has it (lib/compileCache.js): a stand-in written in JavaScript
// starts in less time, nearer the Go binary it stands in for.
require("../../../../lib/compileCache.js");

const { spawn } = require("child_process");
const provider = require("@pulumi/pulumi/provider");
const { unwrap, secret, containsSecret, changedKeys, typeOf, wantedVersion, exitWithParent } = require("./common");

const COMMAND = "command:local:Command";
const INPUTS = [
    "create",
    "update",
    "delete",
    "interpreter",
    "environment",
    "dir",
    "stdin",
    "triggers",
    "addPreviousOutputInEnv",
    "logging",
    "assetPaths",
    "archivePaths",
];

function runScript(kind, script, inputs, previous) {
    const p = unwrap(inputs);
    const interpreter = Array.isArray(p.interpreter) && p.interpreter.length > 0 ? p.interpreter : ["/bin/sh", "-c"];
    const env = { ...process.env, ...(p.environment || {}) };
    if (previous && p.addPreviousOutputInEnv !== false) {
        env.PULUMI_COMMAND_STDOUT = unwrap(previous.stdout) ?? "";
        env.PULUMI_COMMAND_STDERR = unwrap(previous.stderr) ?? "";
    }
    return new Promise((resolve, reject) => {
        const child = spawn(interpreter[0], [...interpreter.slice(1), script], {
            cwd: p.dir || process.cwd(),
            env,
            stdio: ["pipe", "pipe", "pipe"],
        });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d) => (stdout += d));
        child.stderr.on("data", (d) => (stderr += d));
        child.on("error", (err) => reject(new Error(`${kind}: cannot start ${interpreter[0]}: ${err.message}`)));
        child.on("close", (code, signal) => {
            const trim = (s) => s.replace(/\r?\n$/, "");
            if (code === 0) {
                resolve({ stdout: trim(stdout), stderr: trim(stderr) });
                return;
            }
            const status = signal ? `signal ${signal}` : `exit status ${code}`;
            const output = trim(stderr) || trim(stdout);
            reject(
                new Error(
                    `${kind} command failed (${status}): running ${JSON.stringify(script.length > 200 ? script.slice(0, 200) + "…" : script)}${output ? `:\n${output}` : ""}`,
                ),
            );
        });
        child.stdin.on("error", () => undefined);
        child.stdin.end(typeof p.stdin === "string" ? p.stdin : "");
    });
}

function outputs(inputs, result) {
    const wrap = containsSecret(inputs) ? secret : (v) => v;
    return { ...inputs, stdout: wrap(result.stdout), stderr: wrap(result.stderr) };
}

function ensureType(urn) {
    if (typeOf(urn) !== COMMAND) throw new Error(`unknown resource type ${typeOf(urn)} (command stand-in implements ${COMMAND} only)`);
}

const commandProvider = {
    version: wantedVersion("@pulumi/command", "1.2.1"),
    async check(urn, _olds, news) {
        if (typeOf(urn) !== COMMAND) {
            return { inputs: news, failures: [{ property: "", reason: `unknown resource type ${typeOf(urn)} (command stand-in)` }] };
        }
        const failures = [];
        const p = unwrap(news);
        if (p.interpreter !== undefined && !Array.isArray(p.interpreter))
            failures.push({ property: "interpreter", reason: "interpreter must be a list of strings" });
        if (p.assetPaths !== undefined || p.archivePaths !== undefined) {
            failures.push({ property: "assetPaths", reason: "assetPaths/archivePaths are not supported by the command stand-in" });
        }
        return { inputs: news, failures };
    },
    async diff(_id, urn, olds, news) {
        ensureType(urn);
        const changed = changedKeys(olds, news, INPUTS);
        return { changes: changed.length > 0, replaces: changed.includes("triggers") ? ["triggers"] : [], deleteBeforeReplace: false };
    },
    async create(urn, inputs) {
        ensureType(urn);
        const p = unwrap(inputs);
        const result = typeof p.create === "string" && p.create !== "" ? await runScript("create", p.create, inputs) : { stdout: "", stderr: "" };
        // The real provider's ids are random; any unique string will do.
        return { id: `${urn.split("::").pop()}${require("crypto").randomBytes(4).toString("hex")}`, outs: outputs(inputs, result) };
    },
    async read(id, _urn, props) {
        return { id, props };
    },
    async update(_id, urn, olds, news) {
        ensureType(urn);
        const p = unwrap(news);
        const script = typeof p.update === "string" && p.update !== "" ? p.update : p.create;
        const result = typeof script === "string" && script !== "" ? await runScript("update", script, news, olds) : { stdout: "", stderr: "" };
        return { outs: outputs(news, result) };
    },
    async delete(_id, urn, props) {
        ensureType(urn);
        const p = unwrap(props);
        if (typeof p.delete === "string" && p.delete !== "") await runScript("delete", p.delete, props, props);
    },
};

exitWithParent();
provider.main(commandProvider, process.argv.slice(2));
