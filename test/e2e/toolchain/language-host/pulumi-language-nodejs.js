#!/usr/bin/env node
// Minimal stand-in for Pulumi's Node.js language host (pulumi-language-nodejs).
//
// Why it exists: the real host is the Go module
// github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3, which is untagged and which the
// Go module proxy reachable from our machines refuses to serve ("module path not permitted"). The
// Pulumi CLI only needs a gRPC server implementing pulumirpc.LanguageRuntime that runs the program
// with @pulumi/pulumi's own `cmd/run` entry point, so this file implements the parts `pulumi
// preview/up/destroy` use, on top of the gRPC stubs that @pulumi/pulumi already ships.
//
// test/e2e/toolchain/toolchain.ts installs it as `pulumi-language-nodejs` in the toolchain bin dir when the
// real host cannot be built. It is resolved from this repository's node_modules and must run under
// Node >= 22 (the toolchain wrapper uses node_modules/.bin/node).
"use strict";

// Node's compile cache, as the program has it (lib/compileCache.js): a stand-in written in JavaScript
// starts in less time, nearer the Go binary it stands in for.
require("../../../../lib/compileCache.js");

const { spawn } = require("child_process");
const net = require("net");

const grpc = require("@grpc/grpc-js");
const langproto = require("@pulumi/pulumi/proto/language_pb.js");
const langrpc = require("@pulumi/pulumi/proto/language_grpc_pb.js");
const pluginproto = require("@pulumi/pulumi/proto/plugin_pb.js");
const emptyproto = require("google-protobuf/google/protobuf/empty_pb.js");

const HOST_VERSION = (() => {
    try {
        return require("@pulumi/pulumi/package.json").version;
    } catch {
        return "3.0.0";
    }
})();

// The CLI starts us as: pulumi-language-nodejs [-flags...] <engine address>
const argv = process.argv.slice(2);
const positional = argv.filter((a) => !a.startsWith("-"));
const engineAddress = positional[positional.length - 1] || "";
const tracingFlag = argv.find((a) => a.startsWith("-tracing=") || a.startsWith("--tracing="));
const tracing = tracingFlag ? tracingFlag.split("=").slice(1).join("=") : "";

let programDirectory = process.cwd();
let rootDirectory = process.cwd();
const running = new Set();

function unimplemented(name) {
    return (_call, callback) => callback({ code: grpc.status.UNIMPLEMENTED, details: `${name} is not implemented by this host` });
}

function runScriptFor(dir) {
    // Prefer the program's own @pulumi/pulumi (as the real host does), fall back to ours.
    for (const base of [dir, rootDirectory, __dirname]) {
        try {
            return require.resolve("@pulumi/pulumi/cmd/run", { paths: [base] });
        } catch {
            /* try the next one */
        }
    }
    throw new Error(`cannot find @pulumi/pulumi/cmd/run from ${dir}: run npm install in the project`);
}

function run(call, callback) {
    const req = call.request;
    const info = req.getInfo && req.getInfo();
    const pwd = req.getPwd() || (info && info.getProgramDirectory && info.getProgramDirectory()) || programDirectory;
    const root = (info && info.getRootDirectory && info.getRootDirectory()) || rootDirectory;
    const program = (info && info.getEntryPoint && info.getEntryPoint()) || req.getProgram() || ".";

    const config = {};
    req.getConfigMap().forEach((v, k) => {
        config[k] = v;
    });
    const env = {
        ...process.env,
        PULUMI_CONFIG: JSON.stringify(config),
        PULUMI_CONFIG_SECRET_KEYS: JSON.stringify(req.getConfigsecretkeysList()),
    };
    // Pulumi.yaml's runtime options, as the real host reads them: `typescript` (default true: run.js
    // registers ts-node; false: the program loads as JavaScript), `tsconfig` (PULUMI_NODEJS_TSCONFIG_PATH)
    // and `nodeargs` (node's own flags, before run.js; split on whitespace, no quoting).
    const options = (info && info.getOptions && info.getOptions() && info.getOptions().toJavaScript()) || {};
    if (options.typescript !== false && env.PULUMI_NODEJS_TYPESCRIPT === undefined) env.PULUMI_NODEJS_TYPESCRIPT = "true";
    if (typeof options.tsconfig === "string" && options.tsconfig) env.PULUMI_NODEJS_TSCONFIG_PATH = options.tsconfig;
    const nodeargs = typeof options.nodeargs === "string" ? options.nodeargs.split(/\s+/).filter(Boolean) : [];

    let runScript;
    try {
        runScript = runScriptFor(pwd);
    } catch (err) {
        callback(null, new langproto.RunResponse().setError(String(err.message || err)));
        return;
    }
    const args = [...nodeargs, runScript, `--monitor=${req.getMonitorAddress()}`];
    if (engineAddress) args.push(`--engine=${engineAddress}`);
    if (req.getProject()) args.push(`--project=${req.getProject()}`);
    if (req.getStack()) args.push(`--stack=${req.getStack()}`);
    if (req.getOrganization()) args.push(`--organization=${req.getOrganization()}`);
    args.push(`--pwd=${pwd}`);
    args.push(`--root-directory=${root}`);
    if (req.getDryrun()) args.push("--dry-run");
    if (req.getParallel() > 0) args.push(`--parallel=${req.getParallel()}`);
    if (tracing) args.push(`--tracing=${tracing}`);
    args.push(program, ...req.getArgsList());

    const child = spawn(process.execPath, args, { cwd: pwd, env, stdio: ["ignore", "inherit", "inherit"] });
    running.add(child);
    child.on("error", (err) => {
        running.delete(child);
        callback(null, new langproto.RunResponse().setError(`failed to start node: ${err.message}`));
    });
    child.on("exit", (code, signal) => {
        running.delete(child);
        const res = new langproto.RunResponse();
        if (code === 32) {
            // The program already reported its error through the engine.
            res.setBail(true);
        } else if (code !== 0) {
            res.setError(signal ? `Program exited with signal ${signal}` : `Program exited with non-zero exit code: ${code}`);
        }
        callback(null, res);
    });
}

/**
 * RunPlugin: the CLI (>= 3.221) asks the language host to run plugins written in Node - policy packs
 * (`--policy-pack <dir>` with PulumiPolicy.yaml `runtime: nodejs`, kind "analyzer") and providers
 * with a PulumiPlugin.yaml (kind "resource"). As the Go host does, we resolve
 * @pulumi/pulumi/cmd/run-policy-pack (or cmd/run-plugin) from the plugin's directory and run
 * `node <entry> <args...> <plugin dir>` there with the environment the CLI sends, streaming the
 * child's stdout/stderr back (the CLI reads the plugin's gRPC port from that stdout) and finally
 * its exit code.
 */
function runPlugin(call) {
    const req = call.request;
    const info = req.getInfo();
    const pluginDir = (info && info.getProgramDirectory()) || req.getPwd() || process.cwd();
    const kind = req.getKind();
    const entry = kind === "analyzer" ? "@pulumi/pulumi/cmd/run-policy-pack" : "@pulumi/pulumi/cmd/run-plugin";
    const send = (setter, value) => {
        try {
            const res = new langproto.RunPluginResponse();
            res[setter](value);
            call.write(res);
        } catch {
            /* the CLI went away */
        }
    };
    let entryPath;
    for (const base of [pluginDir, rootDirectory, __dirname]) {
        try {
            entryPath = require.resolve(entry, { paths: [base] });
            break;
        } catch {
            /* try the next one */
        }
    }
    if (!entryPath) {
        send(
            "setStderr",
            Buffer.from(`pulumi-language-nodejs: cannot find ${entry} from ${pluginDir}: install @pulumi/pulumi there or in a parent directory\n`),
        );
        send("setExitcode", 1);
        call.end();
        return;
    }
    const env = {};
    const envList = req.getEnvList();
    if (envList.length > 0) {
        for (const kv of envList) {
            const i = kv.indexOf("=");
            if (i > 0) env[kv.slice(0, i)] = kv.slice(i + 1);
        }
    } else {
        Object.assign(env, process.env);
    }
    // As for programs: PulumiPolicy.yaml's `typescript` option (default true) and `tsconfig`.
    const options = (info && info.getOptions && info.getOptions() && info.getOptions().toJavaScript()) || {};
    if (options.typescript !== false && env.PULUMI_NODEJS_TYPESCRIPT === undefined) env.PULUMI_NODEJS_TYPESCRIPT = "true";
    if (typeof options.tsconfig === "string" && options.tsconfig) env.PULUMI_NODEJS_TSCONFIG_PATH = options.tsconfig;
    const args = [entryPath, ...req.getArgsList(), pluginDir];
    const child = spawn(process.execPath, args, { cwd: pluginDir, env, stdio: ["ignore", "pipe", "pipe"] });
    running.add(child);
    child.stdout.on("data", (d) => send("setStdout", d));
    child.stderr.on("data", (d) => send("setStderr", d));
    let finished = false;
    const finish = (code) => {
        if (finished) return;
        finished = true;
        running.delete(child);
        send("setExitcode", code);
        call.end();
    };
    child.on("error", (err) => {
        send("setStderr", Buffer.from(`pulumi-language-nodejs: failed to start node: ${err.message}\n`));
        finish(1);
    });
    child.on("close", (code, signal) => finish(code === null ? (signal ? 128 : 1) : code));
    // The CLI cancels the stream to stop the plugin.
    call.on("cancelled", () => child.kill("SIGTERM"));
}

const impl = {
    handshake: (call, callback) => {
        const req = call.request;
        if (req.getProgramDirectory && req.getProgramDirectory()) programDirectory = req.getProgramDirectory();
        if (req.getRootDirectory && req.getRootDirectory()) rootDirectory = req.getRootDirectory();
        callback(null, new langproto.LanguageHandshakeResponse());
    },
    getPluginInfo: (_call, callback) => callback(null, new pluginproto.PluginInfo().setVersion(HOST_VERSION)),
    getRequiredPlugins: (_call, callback) => callback(null, new langproto.GetRequiredPluginsResponse()),
    getRequiredPackages: (_call, callback) => callback(null, new langproto.GetRequiredPackagesResponse()),
    getProgramDependencies: (_call, callback) => callback(null, new langproto.GetProgramDependenciesResponse()),
    about: (_call, callback) => callback(null, new langproto.AboutResponse().setExecutable(process.execPath).setVersion(process.version)),
    run,
    installDependencies: (call) => call.end(),
    runtimeOptionsPrompts: (_call, callback) => callback(null, new langproto.RuntimeOptionsResponse()),
    cancel: (_call, callback) => {
        for (const child of running) child.kill("SIGINT");
        callback(null, new emptyproto.Empty());
    },
    generateProgram: unimplemented("GenerateProgram"),
    generateProject: unimplemented("GenerateProject"),
    generatePackage: unimplemented("GeneratePackage"),
    pack: unimplemented("Pack"),
    link: unimplemented("Link"),
    template: unimplemented("Template"),
    runPlugin,
};

const server = new grpc.Server({ "grpc.max_receive_message_length": 400 * 1024 * 1024 });
server.addService(langrpc.LanguageRuntimeService, impl);
server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, port) => {
    if (err) {
        console.error(`pulumi-language-nodejs: ${err.message}`);
        process.exit(1);
    }
    // The CLI reads the port from the first line of stdout.
    process.stdout.write(`${port}\n`);
});

// Like the Go plugins' health check: exit when the engine that started us is gone (the CLI does
// not always close its language host, e.g. when it stops early on a config validation error).
const parentPid = process.ppid;
const [engineHost, enginePort] = engineAddress.split(":");
let engineFailures = 0;
setInterval(() => {
    if (process.ppid !== parentPid) shutdown("parent exited");
    if (!enginePort) return;
    const sock = net.connect({ host: engineHost || "127.0.0.1", port: Number(enginePort) });
    sock.setTimeout(2000);
    sock.on("connect", () => {
        engineFailures = 0;
        sock.destroy();
    });
    const fail = () => {
        sock.destroy();
        if (++engineFailures >= 3) shutdown("engine unreachable");
    };
    sock.on("error", fail);
    sock.on("timeout", fail);
}, 2000).unref();

function shutdown(why) {
    for (const child of running) child.kill("SIGTERM");
    server.forceShutdown();
    if (why && process.env.PULUMI_LANGUAGE_HOST_DEBUG) console.error(`pulumi-language-nodejs: exiting (${why})`);
    process.exit(0);
}

for (const sig of ["SIGINT", "SIGTERM"]) {
    process.on(sig, () => {
        for (const child of running) child.kill(sig);
        server.forceShutdown();
        process.exit(0);
    });
}
