/**
 * `npm run toolchain` - provides the binaries the real-engine tests need, from PATH, from a cache
 * outside the repository, or built from Go modules served by the Go module proxy:
 *
 *   etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubectl, pulumi,
 *   pulumi-language-nodejs, pulumi-resource-kubernetes, pulumi-resource-command,
 *   pulumi-resource-random, cert-manager-controller, trust-manager, kwok, helm, and the Gateway API
 *   CRDs (data only).
 *
 * Versions are derived from the installed npm packages (node_modules/@pulumi/*) where one exists,
 * and can be overridden with environment variables (see docs/toolchain.md). When the exact module
 * version is not served by the proxy, the documented fallbacks below are tried in order and the
 * manifest records what was actually built.
 *
 * Output: <dir>/bin (symlinks, put it first on PATH), <dir>/data/<component> (CRDs and kwok stages the
 * local cluster applies), <dir>/env.sh and <dir>/manifest.json, where
 * <dir> is $PICLUSTER_TOOLCHAIN_DIR or ~/.cache/picluster-linkerd/toolchain. Builds are cached in
 * <dir>/<name>-<version>/ so a second run only checks and relinks.
 *
 * Usage: npm run toolchain -- [--only name,name] [--rebuild] [--strict]
 *   --only     only these components (etcd, kubernetes, pulumi, language-nodejs,
 *              provider-kubernetes, provider-command, provider-random, cert-manager,
 *              trust-manager, kwok, helm, gateway-api)
 *   --rebuild  ignore the cache for the selected components
 *   --strict   exit non-zero if any component could not be provided
 */
import { spawnSync, SpawnSyncOptions } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

import { commandLine, CommandSpec } from "../../../cli/args";
import { repoRoot, toolchainBinDir, toolchainDataDir, toolchainDir } from "./paths";
export { toolchainDir };
const binDir = toolchainBinDir;
const workRoot = path.join(toolchainDir, "work");

/** Versions the proxy is known to serve, tried after the exact version derived from npm. */
const FALLBACKS: Record<string, string[]> = {
    // pkg/v3 v3.270.0 has an .info but no .zip on the proxy; the closest newer release is used.
    pulumi: ["v3.274.1", "v3.260.0"],
    // provider/ is not tagged per release; only this pseudo-version (Jan 2026, ~v4.24) is served.
    "provider-kubernetes": ["v4.0.0-20260115033456-f47bc2d6f199"],
    "provider-command": [],
    "provider-random": [],
};

type Source = "PATH" | "cache" | "built" | "stand-in" | "unavailable";

interface Result {
    name: string;
    wanted: string;
    version?: string;
    source: Source;
    bins: Record<string, string>;
    seconds?: number;
    note?: string;
}

interface Component {
    name: string;
    /** version derived from npm or the pinned default */
    wanted: string;
    /** binaries it provides */
    bins: string[];
    /** substring the binary's version output must contain to accept one found on PATH */
    pathCheck?: { args: string[]; expect: string };
    /** Go module versions to try, best first */
    candidates: string[];
    /** builds into outDir; returns the version actually built */
    build(version: string, outDir: string, workDir: string): void;
    /** module asked on the proxy for each candidate (the first one served is built); none: the first candidate */
    probeModule?: string;
    /** hash of the project files the build reads (our own Go module): a cached build with another hash is rebuilt */
    sourceHash?: string;
}

function log(msg: string): void {
    process.stderr.write(`[toolchain] ${msg}\n`);
}

function npmVersion(pkg: string): string {
    const file = path.join(repoRoot, "node_modules", pkg, "package.json");
    return JSON.parse(fs.readFileSync(file, "utf8")).version as string;
}

const goEnv: NodeJS.ProcessEnv = {
    ...process.env,
    GOFLAGS: process.env.GOFLAGS ? `${process.env.GOFLAGS} -mod=mod` : "-mod=mod",
    GOTOOLCHAIN: process.env.GOTOOLCHAIN || "local",
};

function run(cmd: string, args: string[], opts: SpawnSyncOptions & { quiet?: boolean } = {}): string {
    const res = spawnSync(cmd, args, {
        env: goEnv,
        encoding: "utf8",
        maxBuffer: 256 * 1024 * 1024,
        stdio: ["ignore", "pipe", "pipe"],
        ...opts,
    });
    if (res.error) throw res.error;
    if (res.status !== 0) {
        const out = `${String(res.stdout ?? "")}${String(res.stderr ?? "")}`.trim().split("\n").slice(-25).join("\n");
        throw new Error(`${cmd} ${args.join(" ")} failed (exit ${res.status}):\n${out}`);
    }
    return String(res.stdout ?? "");
}

/** Streams go's output to our stderr (long builds should show progress). */
function runLoud(cmd: string, args: string[], cwd: string, extraEnv: NodeJS.ProcessEnv = {}): void {
    log(`  $ (cd ${cwd} && ${cmd} ${args.join(" ")})`);
    const res = spawnSync(cmd, args, { cwd, env: { ...goEnv, ...extraEnv }, stdio: ["ignore", "inherit", "inherit"] });
    if (res.error) throw res.error;
    if (res.status !== 0) throw new Error(`${cmd} ${args[0]} failed (exit ${res.status}) in ${cwd}`);
}

function checkGo(): string {
    const res = spawnSync("go", ["version"], { env: goEnv, encoding: "utf8" });
    if (res.error || res.status !== 0) {
        process.stderr.write(
            "[toolchain] Go is not installed (no `go` on PATH).\n" +
                "  The real-engine toolchain is built from Go modules. Install Go >= 1.26 (for example the\n" +
                "  official tarball under /usr/local/go, then add /usr/local/go/bin to PATH) and rerun\n" +
                "  `npm run toolchain`. Debian's golang-go package is too old for these modules.\n",
        );
        process.exit(2);
    }
    return res.stdout.trim();
}

interface Download {
    Dir: string;
    GoMod: string;
    Version: string;
}

/** `go mod download -json mod@version` from an empty dir; null when the proxy does not serve it. */
function goDownload(mod: string, version: string): Download | null {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "picluster-godl-"));
    try {
        const res = spawnSync("go", ["mod", "download", "-json", `${mod}@${version}`], {
            cwd: tmp,
            env: { ...goEnv, GOFLAGS: "-mod=mod" },
            encoding: "utf8",
        });
        let parsed: Partial<Download> & { Error?: string } = {};
        try {
            parsed = JSON.parse(res.stdout);
        } catch {
            /* ignore */
        }
        if (res.status !== 0 || parsed.Error || !parsed.Dir) {
            const why = (parsed.Error || res.stderr || "").split("\n")[0];
            log(`  ${mod}@${version}: not available (${why.replace(/^.*: /, "")})`);
            return null;
        }
        return parsed as Download;
    } finally {
        fs.rmSync(tmp, { recursive: true, force: true });
    }
}

interface WrapperSpec {
    dir: string;
    module: string;
    goVersion?: string;
    requires: Record<string, string>;
    replaces?: Record<string, string>;
    /** packages to build (main packages) */
    packages: string[];
    /** own main.go instead of building imported main packages */
    mainGo?: string;
    ldflags: string;
    outDir: string;
}

/** Generates a wrapper module that requires the given modules and builds their main packages. */
function buildWrapper(spec: WrapperSpec): void {
    fs.rmSync(spec.dir, { recursive: true, force: true });
    fs.mkdirSync(spec.dir, { recursive: true });
    const lines = [`module ${spec.module}`, "", `go ${spec.goVersion ?? "1.24.0"}`, "", "require ("];
    for (const [m, v] of Object.entries(spec.requires)) lines.push(`\t${m} ${v}`);
    lines.push(")", "");
    if (spec.replaces && Object.keys(spec.replaces).length > 0) {
        lines.push("replace (");
        for (const [m, to] of Object.entries(spec.replaces)) lines.push(`\t${m} => ${to}`);
        lines.push(")", "");
    }
    fs.writeFileSync(path.join(spec.dir, "go.mod"), lines.join("\n"));
    if (spec.mainGo) {
        fs.writeFileSync(path.join(spec.dir, "main.go"), spec.mainGo);
    } else {
        const imports = spec.packages.map((p) => `\t_ "${p}"`).join("\n");
        fs.writeFileSync(path.join(spec.dir, "tools.go"), `//go:build tools\n\npackage tools\n\nimport (\n${imports}\n)\n`);
    }
    runLoud("go", ["mod", "tidy"], spec.dir);
    fs.mkdirSync(spec.outDir, { recursive: true });
    runLoud(
        "go",
        ["build", "-p", "2", "-trimpath", "-ldflags", spec.ldflags, "-o", spec.outDir + path.sep, ...(spec.mainGo ? ["."] : spec.packages)],
        spec.dir,
    );
}

function copyTreeWritable(src: string, dst: string): void {
    fs.rmSync(dst, { recursive: true, force: true });
    fs.cpSync(src, dst, { recursive: true });
    const chmod = (p: string): void => {
        const st = fs.statSync(p);
        fs.chmodSync(p, st.mode | 0o200);
        if (st.isDirectory()) for (const e of fs.readdirSync(p)) chmod(path.join(p, e));
    };
    chmod(dst);
}

const semverOf = (v: string): string => v.replace(/^v/, "");

/** Compares the numeric major.minor.patch of two versions. */
function compareVersions(a: string, b: string): number {
    const nums = (v: string): number[] =>
        semverOf(v)
            .split(/[.-]/)
            .slice(0, 3)
            .map((x) => parseInt(x, 10) || 0);
    const [x, y] = [nums(a), nums(b)];
    for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i] - y[i];
    return 0;
}

// ---------------------------------------------------------------------------------------------
// Components

function etcdComponent(): Component {
    const version = process.env.PICLUSTER_ETCD_VERSION || "v3.6.8";
    return {
        name: "etcd",
        wanted: version,
        bins: ["etcd"],
        pathCheck: { args: ["--version"], expect: `etcd Version: ${semverOf(version)}` },
        candidates: [version],
        build(v, outDir, workDir) {
            buildWrapper({
                dir: workDir,
                module: "picluster.local/toolchain/etcd",
                requires: { "go.etcd.io/etcd/server/v3": v },
                packages: [],
                mainGo: 'package main\n\nimport (\n\t"os"\n\n\t"go.etcd.io/etcd/server/v3/etcdmain"\n)\n\nfunc main() { etcdmain.Main(os.Args) }\n',
                ldflags: "-s -w",
                outDir,
            });
        },
    };
}

function kubernetesComponent(): Component {
    const version = process.env.PICLUSTER_KUBERNETES_VERSION || "v1.34.4";
    return {
        name: "kubernetes",
        wanted: version,
        bins: ["kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubectl"],
        pathCheck: { args: ["--version"], expect: `Kubernetes ${version}` },
        candidates: [version],
        build(v, outDir, workDir) {
            const dl = goDownload("k8s.io/kubernetes", v);
            if (!dl) throw new Error(`k8s.io/kubernetes@${v} is not available`);
            // Every staging module is replaced by `./staging/src/k8s.io/x` in kubernetes' go.mod;
            // outside the repository each must be pinned to its published v0.<minor>.<patch>.
            const gomod = fs.readFileSync(dl.GoMod, "utf8");
            const staging = [...gomod.matchAll(/^\s*(k8s\.io\/[A-Za-z0-9._-]+)\s+=>\s+\.\/staging\//gm)].map((m) => m[1]);
            const [, minor, patch] = /^v1\.(\d+)\.(\d+)/.exec(v) ?? [];
            if (!minor) throw new Error(`cannot parse Kubernetes version ${v}`);
            const stagingVersion = `v0.${minor}.${patch}`;
            const replaces: Record<string, string> = {};
            for (const m of staging) replaces[m] = `${m} ${stagingVersion}`;
            const x = (pkg: string, kv: Record<string, string>): string[] => Object.entries(kv).map(([k, val]) => `-X ${pkg}.${k}=${val}`);
            const stamp = { gitVersion: v, gitMajor: "1", gitMinor: minor, gitTreeState: "clean" };
            buildWrapper({
                dir: workDir,
                module: "picluster.local/toolchain/kubernetes",
                goVersion: /^go (\S+)/m.exec(gomod)?.[1],
                requires: { "k8s.io/kubernetes": v },
                replaces,
                packages: [
                    "k8s.io/kubernetes/cmd/kube-apiserver",
                    "k8s.io/kubernetes/cmd/kube-controller-manager",
                    // Schedules the pods kwok's fake nodes run (same packages as the others: links only).
                    "k8s.io/kubernetes/cmd/kube-scheduler",
                    "k8s.io/kubernetes/cmd/kubectl",
                ],
                ldflags: ["-s", "-w", ...x("k8s.io/component-base/version", stamp), ...x("k8s.io/client-go/pkg/version", stamp)].join(" "),
                outDir,
            });
        },
    };
}

function pulumiComponent(): Component {
    const wanted = `v${npmVersion("@pulumi/pulumi")}`;
    const override = process.env.PICLUSTER_PULUMI_VERSION;
    return {
        name: "pulumi",
        wanted,
        bins: ["pulumi"],
        pathCheck: { args: ["version"], expect: override || wanted },
        candidates: override ? [override] : [wanted, ...FALLBACKS.pulumi],
        probeModule: "github.com/pulumi/pulumi/pkg/v3",
        build(v, outDir, workDir) {
            // pkg/v3's go.mod replaces sdk/v3 with ../sdk, so `go install` refuses it: a wrapper
            // module requires pkg and sdk at the same tag.
            buildWrapper({
                dir: workDir,
                module: "picluster.local/toolchain/pulumi",
                requires: { "github.com/pulumi/pulumi/pkg/v3": v, "github.com/pulumi/pulumi/sdk/v3": v },
                packages: ["github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"],
                ldflags: `-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=${v}`,
                outDir,
            });
        },
    };
}

function languageHostComponent(): Component {
    const wanted = `v${npmVersion("@pulumi/pulumi")}`;
    const mod = "github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3";
    // Untagged module: only a pseudo-version of the release commit can name it. Give it with
    // PICLUSTER_PULUMI_LANGUAGE_NODEJS_VERSION (e.g. v3.0.0-20261016182630-abcdef123456).
    const override = process.env.PICLUSTER_PULUMI_LANGUAGE_NODEJS_VERSION;
    return {
        name: "language-nodejs",
        wanted,
        bins: ["pulumi-language-nodejs"],
        candidates: override ? [override] : [wanted],
        probeModule: mod,
        build(v, outDir, workDir) {
            buildWrapper({
                dir: workDir,
                module: "picluster.local/toolchain/language-nodejs",
                requires: { [mod]: v, "github.com/pulumi/pulumi/pkg/v3": wanted, "github.com/pulumi/pulumi/sdk/v3": wanted },
                packages: [mod],
                ldflags: `-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=${wanted}`,
                outDir,
            });
        },
    };
}

function providerComponent(opts: {
    name: string;
    npm: string;
    plugin: string;
    module: string;
    versionPkg: string;
    /** replace target for a sibling module the provider's go.mod points at with ../ */
    siblingSdk?: { module: string; candidates: (v: string) => string[] };
}): Component {
    const wanted = `v${npmVersion(opts.npm)}`;
    const envName = `PICLUSTER_${opts.name.toUpperCase().replace(/-/g, "_")}_VERSION`;
    const override = process.env[envName];
    const bin = `pulumi-resource-${opts.plugin}`;
    return {
        name: opts.name,
        wanted,
        bins: [bin],
        candidates: override ? [override] : [wanted, ...(FALLBACKS[opts.name] ?? [])],
        probeModule: opts.module,
        build(v, outDir, workDir) {
            const dl = goDownload(opts.module, v);
            if (!dl) throw new Error(`${opts.module}@${v} is not available`);
            // The module's source is read-only in GOMODCACHE and lacks the generated
            // schema-embed.json: build from a writable copy.
            fs.rmSync(workDir, { recursive: true, force: true });
            const src = path.join(workDir, "provider");
            copyTreeWritable(dl.Dir, src);
            const gomod = fs.readFileSync(path.join(src, "go.mod"), "utf8");
            // Replace directives pointing at sibling directories of the repository (../sdk) do not
            // exist outside it: swap them for the published module, or drop them.
            const relReplaces = gomod
                .split("\n")
                .map((l) =>
                    l
                        .replace(/^\s*replace\s+/, "")
                        .trim()
                        .split("=>")
                        .map((x) => x.trim()),
                )
                .filter((parts) => parts.length === 2 && /^\.\.?\//.test(parts[1]))
                .map((parts) => parts[0].split(/\s+/)[0]);
            for (const m of relReplaces) {
                if (opts.siblingSdk && m === opts.siblingSdk.module) {
                    // The replacement must not raise github.com/pulumi/pulumi/sdk/v3 above what the
                    // provider's pkg/v3 was built for (pkg and sdk must stay in step).
                    const sdkReq = (text: string): string | undefined => /github\.com\/pulumi\/pulumi\/sdk\/v3 (v\S+)/.exec(text)?.[1];
                    const limit = sdkReq(gomod);
                    let sdk: Download | null = null;
                    for (const cand of opts.siblingSdk.candidates(v)) {
                        const d = goDownload(m, cand);
                        if (!d) continue;
                        const need = sdkReq(fs.readFileSync(d.GoMod, "utf8"));
                        if (limit && need && compareVersions(need, limit) > 0) {
                            log(`  ${m}@${cand} needs pulumi sdk ${need} > ${limit}, skipping it`);
                            continue;
                        }
                        sdk = d;
                        break;
                    }
                    if (!sdk) throw new Error(`no version of ${m} is available to replace the local ../ path`);
                    log(`  replacing ${m} (local path in go.mod) with ${m}@${sdk.Version}`);
                    run("go", ["mod", "edit", `-replace=${m}=${m}@${sdk.Version}`], { cwd: src });
                } else {
                    run("go", ["mod", "edit", `-dropreplace=${m}`], { cwd: src });
                }
            }
            const cmdDir = path.join(src, "cmd", bin);
            const semver = semverOf(v);
            if (fs.existsSync(path.join(cmdDir, "generate.go"))) {
                // Same as the provider's `go generate`: schema.json -> schema-embed.json (with the version).
                runLoud("go", ["run", "generate.go"], cmdDir, { VERSION: semver });
            }
            fs.mkdirSync(outDir, { recursive: true });
            runLoud(
                "go",
                [
                    "build",
                    "-p",
                    "2",
                    "-trimpath",
                    "-ldflags",
                    `-s -w -X ${opts.versionPkg}.Version=${semver}`,
                    "-o",
                    outDir + path.sep,
                    `./cmd/${bin}`,
                ],
                src,
            );
        },
    };
}

// The in-cluster controllers and helm: one Go module of ours (test/e2e/toolchain/controllers, go.mod
// and go.sum committed) requires cert-manager, trust-manager, kwok and helm, so the Kubernetes
// libraries they share resolve to one version and compile once (GOCACHE) for all four binaries.
const controllersModuleDir = path.join(repoRoot, "test", "e2e", "toolchain", "controllers");

/** The version our controllers module requires of `mod` (its go.mod is the one place it is pinned). */
function controllersRequire(mod: string): string {
    const gomod = fs.readFileSync(path.join(controllersModuleDir, "go.mod"), "utf8");
    const m = new RegExp(`^\\s*${mod.replace(/[.]/g, "\\.")}\\s+(v\\S+)`, "m").exec(gomod);
    if (!m) throw new Error(`${mod} is not required by ${path.join(controllersModuleDir, "go.mod")}`);
    return m[1];
}

function hashFiles(files: string[]): string {
    const h = crypto.createHash("sha256");
    for (const f of files) h.update(path.relative(repoRoot, f)).update("\0").update(fs.readFileSync(f)).update("\0");
    return h.digest("hex").slice(0, 16);
}

/** Copies `<module dir>/<from>` files matching `pick` into `<outDir>/<to>`. */
function copyModuleFiles(mod: string, version: string, from: string, pick: (file: string) => boolean, outDir: string, to: string): string[] {
    const dl = goDownload(mod, version);
    if (!dl) throw new Error(`${mod}@${version} is not available`);
    const src = path.join(dl.Dir, from);
    const files = fs.readdirSync(src).filter(pick).sort();
    if (files.length === 0) throw new Error(`no files picked from ${mod}@${version}/${from}`);
    fs.mkdirSync(path.join(outDir, to), { recursive: true });
    for (const f of files) {
        fs.copyFileSync(path.join(src, f), path.join(outDir, to, f));
        fs.chmodSync(path.join(outDir, to, f), 0o644);
    }
    return files;
}

function controllersModuleComponent(opts: {
    name: string;
    module: string;
    bin: string;
    /** package to build, relative to the controllers module (./cmd/x) or a module path */
    pkg: string;
    pathCheck?: (v: string) => Component["pathCheck"];
    extraLdflags?: (v: string) => string[];
    /** ships data files (CRDs, stages) from the module into <outDir>/crds, <outDir>/stages */
    data?: (v: string, outDir: string) => void;
    ownSources?: string[];
}): Component {
    const version = controllersRequire(opts.module);
    const sources = [path.join(controllersModuleDir, "go.mod"), path.join(controllersModuleDir, "go.sum"), ...(opts.ownSources ?? [])];
    return {
        name: opts.name,
        wanted: version,
        bins: [opts.bin],
        pathCheck: opts.pathCheck?.(version),
        candidates: [version],
        sourceHash: hashFiles(sources),
        build(v, outDir) {
            fs.mkdirSync(outDir, { recursive: true });
            // -mod=readonly: the committed go.sum is the dependency set; the checkout stays untouched.
            runLoud(
                "go",
                [
                    "build",
                    "-mod=readonly",
                    "-p",
                    "2",
                    "-trimpath",
                    "-ldflags",
                    ["-s", "-w", ...(opts.extraLdflags?.(v) ?? [])].join(" "),
                    "-o",
                    path.join(outDir, opts.bin),
                    opts.pkg,
                ],
                controllersModuleDir,
            );
            opts.data?.(v, outDir);
        },
    };
}

function certManagerComponent(): Component {
    const cmdDir = path.join(controllersModuleDir, "cmd", "cert-manager-controller");
    return controllersModuleComponent({
        name: "cert-manager",
        module: "github.com/cert-manager/cert-manager",
        bin: "cert-manager-controller",
        pkg: "./cmd/cert-manager-controller",
        ownSources: fs
            .readdirSync(cmdDir)
            .filter((f) => f.endsWith(".go"))
            .sort()
            .map((f) => path.join(cmdDir, f)),
        data: (v, outDir) => copyModuleFiles("github.com/cert-manager/cert-manager", v, "deploy/crds", (f) => f.endsWith(".yaml"), outDir, "crds"),
    });
}

function trustManagerComponent(): Component {
    return controllersModuleComponent({
        name: "trust-manager",
        module: "github.com/cert-manager/trust-manager",
        bin: "trust-manager",
        pkg: "github.com/cert-manager/trust-manager/cmd/trust-manager",
        data: (v, outDir) => copyModuleFiles("github.com/cert-manager/trust-manager", v, "deploy/crds", (f) => f.endsWith(".yaml"), outDir, "crds"),
    });
}

/** Stages kwok plays on its fake nodes and pods (kwok's kustomize/stage, "fast" set): nodes become Ready and keep a heartbeat, pods Ready, Job pods complete, deleted pods go away. */
const KWOK_STAGES: Record<string, string[]> = {
    "kustomize/stage/node/fast": ["node-initialize.yaml"],
    "kustomize/stage/node/heartbeat": ["node-heartbeat.yaml"],
    "kustomize/stage/pod/fast": ["pod-ready.yaml", "pod-complete.yaml", "pod-delete.yaml"],
};

function kwokComponent(): Component {
    const mod = "sigs.k8s.io/kwok";
    return controllersModuleComponent({
        name: "kwok",
        module: mod,
        bin: "kwok",
        pkg: "sigs.k8s.io/kwok/cmd/kwok",
        // No PATH lookup: the stages and the Stage CRD ship with the build.
        extraLdflags: (v) => [`-X sigs.k8s.io/kwok/pkg/consts.Version=${semverOf(v)}`],
        data: (v, outDir) => {
            copyModuleFiles(mod, v, "kustomize/crd/bases", (f) => f === "kwok.x-k8s.io_stages.yaml", outDir, "crds");
            for (const [dir, files] of Object.entries(KWOK_STAGES)) copyModuleFiles(mod, v, dir, (f) => files.includes(f), outDir, "stages");
        },
    });
}

function helmComponent(): Component {
    const k8sMinor = /^v0\.(\d+)\./.exec(controllersRequire("k8s.io/client-go"))?.[1] ?? "";
    return controllersModuleComponent({
        name: "helm",
        module: "helm.sh/helm/v3",
        bin: "helm",
        pkg: "helm.sh/helm/v3/cmd/helm",
        pathCheck: (v) => ({ args: ["version", "--short"], expect: v }),
        // As helm's Makefile stamps a release build.
        extraLdflags: (v) => [
            `-X helm.sh/helm/v3/internal/version.version=${v}`,
            "-X helm.sh/helm/v3/internal/version.gitTreeState=clean",
            ...["helm.sh/helm/v3/pkg/lint/rules", "helm.sh/helm/v3/pkg/chartutil"].flatMap((p) => [
                `-X ${p}.k8sVersionMajor=1`,
                `-X ${p}.k8sVersionMinor=${k8sMinor}`,
            ]),
        ],
    });
}

/**
 * Gateway API CRDs (HTTPRoute and GRPCRoute, standard channel, v1): what Linkerd's policy
 * controller and `linkerd check` need and linkerd-crds no longer installs. Data only: the YAML ships
 * in the sigs.k8s.io/gateway-api module.
 */
const GATEWAY_API_CRDS = ["gateway.networking.k8s.io_httproutes.yaml", "gateway.networking.k8s.io_grpcroutes.yaml"];
function gatewayApiComponent(): Component {
    const version = process.env.PICLUSTER_GATEWAY_API_VERSION || "v1.4.1";
    const mod = "sigs.k8s.io/gateway-api";
    return {
        name: "gateway-api",
        wanted: version,
        bins: [],
        candidates: [version],
        probeModule: mod,
        build(v, outDir) {
            copyModuleFiles(mod, v, "config/crd/standard", (f) => GATEWAY_API_CRDS.includes(f), outDir, "crds");
        },
    };
}

function components(): Component[] {
    return [
        etcdComponent(),
        kubernetesComponent(),
        pulumiComponent(),
        languageHostComponent(),
        providerComponent({
            name: "provider-kubernetes",
            npm: "@pulumi/kubernetes",
            plugin: "kubernetes",
            module: "github.com/pulumi/pulumi-kubernetes/provider/v4",
            versionPkg: "github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version",
            siblingSdk: {
                module: "github.com/pulumi/pulumi-kubernetes/sdk/v4",
                candidates: (v) => [v, `v${npmVersion("@pulumi/kubernetes")}`, "v4.32.0", "v4.31.1", "v4.29.0", "v4.22.2"],
            },
        }),
        providerComponent({
            name: "provider-command",
            npm: "@pulumi/command",
            plugin: "command",
            module: "github.com/pulumi/pulumi-command/provider",
            versionPkg: "github.com/pulumi/pulumi-command/provider/pkg/version",
        }),
        providerComponent({
            name: "provider-random",
            npm: "@pulumi/random",
            plugin: "random",
            module: "github.com/pulumi/pulumi-random/provider/v4",
            versionPkg: "github.com/pulumi/pulumi-random/provider/v4/pkg/version",
            siblingSdk: { module: "github.com/pulumi/pulumi-random/sdk/v4", candidates: (v) => [v] },
        }),
        certManagerComponent(),
        trustManagerComponent(),
        kwokComponent(),
        helmComponent(),
        gatewayApiComponent(),
    ];
}

// ---------------------------------------------------------------------------------------------

function findOnPath(bin: string): string | null {
    for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
        if (!dir || path.resolve(dir) === path.resolve(binDir)) continue;
        const p = path.join(dir, bin);
        try {
            fs.accessSync(p, fs.constants.X_OK);
            if (fs.statSync(p).isFile()) return p;
        } catch {
            /* not here */
        }
    }
    return null;
}

function fromPath(c: Component): Result | null {
    if (!c.pathCheck) return null;
    const found: Record<string, string> = {};
    for (const b of c.bins) {
        const p = findOnPath(b);
        if (!p) return null;
        found[b] = p;
    }
    const first = found[c.bins[0]];
    const res = spawnSync(first, c.pathCheck.args, { encoding: "utf8", timeout: 30000 });
    const out = `${String(res.stdout ?? "")}${String(res.stderr ?? "")}`;
    if (!out.includes(c.pathCheck.expect)) {
        log(`${c.name}: ${first} on PATH is not ${c.wanted} (${out.trim().split("\n")[0]}), ignoring it`);
        return null;
    }
    return { name: c.name, wanted: c.wanted, version: c.wanted, source: "PATH", bins: found };
}

function cached(c: Component, version: string): Result | null {
    const dir = path.join(toolchainDir, `${c.name}-${version}`);
    const marker = path.join(dir, ".complete.json");
    if (!fs.existsSync(marker)) return null;
    const bins: Record<string, string> = {};
    for (const b of c.bins) {
        const p = path.join(dir, b);
        if (!fs.existsSync(p)) return null;
        bins[b] = p;
    }
    const info = JSON.parse(fs.readFileSync(marker, "utf8"));
    if (c.sourceHash && info.sourceHash !== c.sourceHash) return null;
    return { name: c.name, wanted: c.wanted, version, source: "cache", bins, seconds: info.seconds };
}

function lastCachedVersion(c: Component): string | null {
    // Which candidate did we build last time? Avoids asking the proxy on warm runs.
    for (const v of c.candidates) if (cached(c, v)) return v;
    return null;
}

function provide(c: Component, rebuild: boolean): Result {
    if (!rebuild) {
        const p = fromPath(c);
        if (p) return p;
        const v = lastCachedVersion(c);
        if (v) return cached(c, v)!;
    }
    let version: string | null = null;
    for (const cand of [...new Set(c.candidates.filter(Boolean))]) {
        if (!c.probeModule || goDownload(c.probeModule, cand)) {
            version = cand; // without a probe module the build resolves it (several modules, or our go.sum)
            break;
        }
    }
    if (!version)
        return { name: c.name, wanted: c.wanted, source: "unavailable", bins: {}, note: "no candidate version is served by the Go module proxy" };
    if (version !== c.wanted) log(`${c.name}: ${c.wanted} is not available, building ${version} instead`);
    const finalDir = path.join(toolchainDir, `${c.name}-${version}`);
    const tmpOut = `${finalDir}.tmp-${process.pid}`;
    const workDir = path.join(workRoot, `${c.name}-${version}`);
    log(`${c.name}: building ${version} (work dir ${workDir})`);
    const start = Date.now();
    try {
        c.build(version, tmpOut, workDir);
    } catch (err) {
        fs.rmSync(tmpOut, { recursive: true, force: true });
        return { name: c.name, wanted: c.wanted, source: "unavailable", bins: {}, note: String((err as Error).message).split("\n")[0] };
    }
    const seconds = Math.round((Date.now() - start) / 1000);
    fs.writeFileSync(
        path.join(tmpOut, ".complete.json"),
        JSON.stringify({ version, wanted: c.wanted, seconds, builtAt: new Date().toISOString(), sourceHash: c.sourceHash }, null, 2),
    );
    fs.rmSync(finalDir, { recursive: true, force: true });
    fs.renameSync(tmpOut, finalDir);
    fs.rmSync(workDir, { recursive: true, force: true });
    const res = cached(c, version)!;
    return { ...res, source: "built", seconds };
}

/**
 * When a real plugin cannot be built, install our Node stand-in for it: a `#!/bin/sh` wrapper
 * running the script with Node 22 from node_modules/.bin (test/e2e/toolchain/language-host,
 * test/e2e/toolchain/provider-stand-ins), reported as source "stand-in".
 */
const STAND_INS: Record<string, { bin: string; script: string[]; npm: string }> = {
    "language-nodejs": { bin: "pulumi-language-nodejs", script: ["language-host", "pulumi-language-nodejs.js"], npm: "@pulumi/pulumi" },
    "provider-command": { bin: "pulumi-resource-command", script: ["provider-stand-ins", "pulumi-resource-command.js"], npm: "@pulumi/command" },
    "provider-random": { bin: "pulumi-resource-random", script: ["provider-stand-ins", "pulumi-resource-random.js"], npm: "@pulumi/random" },
};

function standIn(name: string, wanted: string): Result {
    const spec = STAND_INS[name];
    const dir = path.join(toolchainDir, `${name}-stand-in`);
    fs.mkdirSync(dir, { recursive: true });
    const wrapper = path.join(dir, spec.bin);
    // The cache is shared by every checkout: the wrapper runs the checkout named by
    // PICLUSTER_REPO_ROOT (set by the e2e and bench harness), else the one that installed it.
    const relScript = path.join("test", "e2e", "toolchain", ...spec.script);
    fs.writeFileSync(
        wrapper,
        [
            "#!/bin/sh",
            `# STAND-IN (not the real ${spec.bin}): ${relScript}`,
            `repo="\${PICLUSTER_REPO_ROOT:-${repoRoot}}"`,
            `node="$repo/node_modules/.bin/node"; [ -x "$node" ] || node=node`,
            `exec "$node" "$repo/${relScript}" "$@"`,
            "",
        ].join("\n"),
        { mode: 0o755 },
    );
    return {
        name,
        wanted,
        version: `stand-in (${spec.npm} ${semverOf(wanted)})`,
        source: "stand-in",
        bins: { [spec.bin]: wrapper },
        note: relScript,
    };
}

const COMPONENT_NAMES = [
    "etcd",
    "kubernetes",
    "pulumi",
    "language-nodejs",
    "provider-kubernetes",
    "provider-command",
    "provider-random",
    "cert-manager",
    "trust-manager",
    "kwok",
    "helm",
    "gateway-api",
];

export const TOOLCHAIN_COMMAND: CommandSpec = {
    usage: "npm run toolchain --",
    summary:
        "Provides the binaries the real-engine tests need (from PATH, the cache or built from Go modules) into " +
        `${toolchainDir} ($PICLUSTER_TOOLCHAIN_DIR). A cold build takes tens of minutes; cached runs take seconds.`,
    options: {
        only: { type: "string", value: "<name,...>", choices: COMPONENT_NAMES, help: "Only these components (default all)." },
        rebuild: { type: "boolean", help: "Ignore the cache for the selected components." },
        strict: { type: "boolean", help: "Exit 1 if any component could be neither built nor replaced by a stand-in." },
    },
    exitCodes: {
        1: "(--strict) a component is unavailable",
        2: "bad usage, or Go is not installed: nothing was built",
        3: "another toolchain run holds the lock on the toolchain directory",
    },
};

function main(): void {
    const { values } = commandLine<{ only?: string; rebuild?: boolean; strict?: boolean }>("toolchain", TOOLCHAIN_COMMAND);
    const only = values.only ? new Set(values.only.split(",").map((s) => s.trim())) : null;
    const rebuild = !!values.rebuild;
    const strict = !!values.strict;
    const started = Date.now();

    log(`${checkGo()}; toolchain dir ${toolchainDir}`);
    fs.mkdirSync(binDir, { recursive: true });
    // One run at a time per toolchain dir (they share work dirs and the manifest).
    const lock = path.join(toolchainDir, ".lock");
    try {
        const holder = parseInt(fs.readFileSync(lock, "utf8"), 10);
        if (holder && holder !== process.pid) {
            try {
                process.kill(holder, 0);
                log(`another toolchain run (pid ${holder}) holds ${lock}; wait for it or remove the file`);
                process.exit(3);
            } catch {
                /* stale lock */
            }
        }
    } catch {
        /* no lock */
    }
    fs.writeFileSync(lock, String(process.pid));
    process.on("exit", () => fs.rmSync(lock, { force: true }));

    const results: Result[] = [];
    for (const c of components()) {
        if (only && !only.has(c.name)) continue;
        let r = provide(c, rebuild);
        if (r.source === "unavailable" && STAND_INS[c.name]) {
            log(`${c.name}: the Go module is not served by the proxy (${r.note}); using the stand-in ${STAND_INS[c.name].bin}`);
            r = standIn(c.name, c.wanted);
        }
        results.push(r);
        for (const [b, p] of Object.entries(r.bins)) {
            const link = path.join(binDir, b);
            fs.rmSync(link, { force: true });
            fs.symlinkSync(p, link);
        }
        const dataLink = path.join(toolchainDataDir, c.name);
        fs.rmSync(dataLink, { force: true });
        if (r.version && (r.source === "cache" || r.source === "built")) {
            const compDir = path.join(toolchainDir, `${c.name}-${r.version}`);
            if (["crds", "stages"].some((d) => fs.existsSync(path.join(compDir, d)))) {
                fs.mkdirSync(toolchainDataDir, { recursive: true });
                fs.symlinkSync(compDir, dataLink);
            }
        }
        const where =
            r.source === "unavailable"
                ? `UNAVAILABLE: ${r.note}`
                : `${r.source}${r.seconds !== undefined && r.source === "built" ? ` in ${r.seconds}s` : ""}`;
        log(`${c.name} ${r.version ?? c.wanted}${r.version && r.version !== c.wanted ? ` (wanted ${c.wanted})` : ""}: ${where}`);
    }

    // Merge with an existing manifest so `--only` keeps the other entries.
    const manifestPath = path.join(toolchainDir, "manifest.json");
    let previous: Result[] = [];
    try {
        previous = JSON.parse(fs.readFileSync(manifestPath, "utf8")).components ?? [];
    } catch {
        /* first run */
    }
    const merged = [...previous.filter((p) => !results.some((r) => r.name === p.name)), ...results];
    fs.writeFileSync(manifestPath, JSON.stringify({ binDir, generatedAt: new Date().toISOString(), components: merged }, null, 2) + "\n");
    fs.writeFileSync(
        path.join(toolchainDir, "env.sh"),
        [
            "# generated by npm run toolchain: source it to use the real-engine toolchain",
            `export PATH="${binDir}:$PATH"`,
            "export PULUMI_SKIP_UPDATE_CHECK=true",
            "export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true",
            "",
        ].join("\n"),
    );
    log(`done in ${Math.round((Date.now() - started) / 1000)}s`);
    log(`bin dir: ${binDir}`);
    log(`env file: ${path.join(toolchainDir, "env.sh")} (manifest: ${manifestPath})`);
    process.stdout.write(`${binDir}\n`);
    const missing = results.filter((r) => r.source === "unavailable");
    if (missing.length > 0) {
        log(`not available: ${missing.map((m) => m.name).join(", ")}`);
        if (strict) process.exit(1);
    }
}

if (require.main === module) main();
