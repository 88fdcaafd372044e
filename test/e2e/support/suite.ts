/**
 * The setup every e2e file shares: a local cluster with what the guide's cluster has before Linkerd
 * (env.ts), the real charts served from a Helm repository on loopback (chartRepo.ts), a `pulumi`
 * runner on a file backend, and stacks whose configuration points at all of it. One call per file:
 *
 *     const e2e = e2eSuite("check", { releases: [STABLE, EDGE] });
 *     test("...", async () => { const stack = await e2e().stack("s", STABLE, { viz: { enabled: false } }); ... });
 *
 * Each stack's configuration is written once as one stack file (no `pulumi config set` per key), with
 * the secret dashboard password set through the CLI so it is encrypted as a user's would be.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { PROJECT } from "../../../lib/config";
import { LinkerdRelease, resolveRelease } from "../../../lib/release";
import { ChartRepo, chartRepoDir, checkChartsPresent, startChartRepo } from "./chartRepo";
import {
    checkToolchain,
    Cluster,
    externalCluster,
    kubectlPath,
    makeRootCA,
    prepareCluster,
    Pulumi,
    randomPassword,
    repoRoot,
    RunResult,
    startCluster,
} from "./env";

/** The guide's release, the last open-source stable. */
export const STABLE = resolveRelease("stable", "2.14.10");
/** The newest edge release at hand (Linkerd 2.20 line). */
export const EDGE = resolveRelease("edge", "edge-26.8.3");

/** Only the identity and the control plane: for tests about one part of the program. */
export const CONTROL_PLANE_ONLY = {
    viz: { enabled: false },
    monitoring: { enabled: false },
    jaeger: { enabled: false },
    meshing: { namespaces: [] },
    ingress: { controller: "none" },
    longhorn: { enabled: false },
} as const;

export interface E2e {
    readonly work: string;
    readonly cluster: Cluster;
    readonly pulumi: Pulumi;
    readonly rootCA: { dir: string; crt: string; key: string };
    /** Undefined against an external cluster without a repository directory: the public repositories. */
    readonly chartRepo?: ChartRepo;
    /** A new stack of the program for `release`, configured for this cluster (deep-merged with `config`). */
    stack(name: string, release: LinkerdRelease, config?: Record<string, unknown>): Promise<TestStack>;
    /** Config keys pointing the program at this cluster and repository for `release`. */
    baseConfig(release: LinkerdRelease): Record<string, unknown>;
}

export interface SuiteOptions {
    /** Releases whose charts the file installs (checked in the repository before anything starts). */
    readonly releases: readonly LinkerdRelease[];
    /** The cluster has the Gateway API CRDs (as k3s 1.37+, or after Traefik's or a user's install). @default false */
    readonly gatewayApiCrds?: boolean;
    /** Skip prepareCluster (the guide's pre-Linkerd objects). @default false */
    readonly bare?: boolean;
}

function deepMerge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
    const out: Record<string, unknown> = { ...a };
    for (const [k, v] of Object.entries(b)) {
        const prev = out[k];
        out[k] =
            v && typeof v === "object" && !Array.isArray(v) && prev && typeof prev === "object" && !Array.isArray(prev)
                ? deepMerge(prev as Record<string, unknown>, v as Record<string, unknown>)
                : v;
    }
    return out;
}

/** One stack of the program (repository root) with its own stack file. */
export class TestStack {
    readonly file: string;
    constructor(
        readonly e2e: E2e,
        readonly name: string,
    ) {
        this.file = path.join(e2e.work, `Pulumi.${name}.yaml`);
    }

    get args(): string[] {
        return ["--config-file", this.file, "-s", this.name];
    }

    run(args: string[], opts: { timeoutMs?: number; onSpawn?: (pid: number) => void } = {}): Promise<RunResult> {
        return this.e2e.pulumi.run(repoRoot, [...args, ...this.args], opts);
    }

    ok(args: string[], opts: { timeoutMs?: number } = {}): Promise<RunResult> {
        return this.e2e.pulumi.ok(repoRoot, [...args, ...this.args], opts);
    }

    /** `pulumi config set --path <PROJECT>:<key>`. */
    set(key: string, value: string, secret = false): Promise<RunResult> {
        return this.ok(["config", "set", "--path", `${PROJECT}:${key}`, value, ...(secret ? ["--secret"] : [])]);
    }

    async outputs(): Promise<Record<string, any>> {
        return JSON.parse((await this.e2e.pulumi.ok(repoRoot, ["stack", "output", "--json", "--show-secrets", "-s", this.name])).stdout);
    }

    /** `stack rm` of a stack that never deployed anything (a preview-only test). */
    async discard(): Promise<void> {
        await this.e2e.pulumi.ok(repoRoot, ["stack", "rm", "--yes", "--force", "-s", this.name]);
    }

    /** `destroy` then `stack rm`; with `force`, whatever state is left (a failed test) is dropped too. */
    async remove(force = false): Promise<void> {
        const destroyed = await this.run(["destroy", "--yes"]);
        if (destroyed.code !== 0 && !force) throw new Error(`pulumi destroy failed:\n${destroyed.stdout}\n${destroyed.stderr}`);
        await this.e2e.pulumi.run(repoRoot, ["stack", "rm", "--yes", ...(force ? ["--force"] : []), "-s", this.name]);
    }
}

/**
 * Registers the file's beforeAll/afterAll and returns the environment (available inside tests).
 * Problems a run can see before starting anything (toolchain, chart repository) throw at once.
 */
export function e2eSuite(label: string, opts: SuiteOptions): () => E2e {
    checkToolchain();
    const repoDir = externalCluster && !process.env.PICLUSTER_E2E_CHART_REPO_DIR ? undefined : chartRepoDir();
    if (repoDir) checkChartsPresent(repoDir, opts.releases);
    let env: E2e | undefined;
    const timings: Record<string, number> = {};

    beforeAll(async () => {
        const t0 = Date.now();
        const work = fs.mkdtempSync(path.join(os.tmpdir(), `picluster-e2e-${label}-`));
        const chartRepo = repoDir ? await startChartRepo(repoDir) : undefined;
        const cluster = await startCluster(work, { gatewayApiCrds: opts.gatewayApiCrds ?? false });
        const rootCA = makeRootCA(path.join(work, "root-ca"));
        if (!opts.bare) prepareCluster(cluster, rootCA);
        const pulumi = new Pulumi(work);
        const baseConfig = (release: LinkerdRelease): Record<string, unknown> => ({
            kubernetes: { kubeconfig: cluster.kubeconfig, context: cluster.context },
            linkerd: {
                channel: release.channel,
                version: release.version,
                ...(chartRepo ? { chartRepository: chartRepo.url } : {}),
            },
            ...(chartRepo ? { ingress: { traefik: { chartRepository: chartRepo.url } } } : {}),
            longhorn: { kubectl: kubectlPath() },
        });
        const e2e: E2e = {
            work,
            cluster,
            pulumi,
            rootCA,
            chartRepo,
            baseConfig,
            stack: async (name, release, config = {}) => {
                const stack = new TestStack(e2e, name);
                await pulumi.initStack(repoRoot, name, stack.file);
                const merged = deepMerge(baseConfig(release), config);
                const lines = Object.entries(merged).map(([k, v]) => `  ${PROJECT}:${k}: ${JSON.stringify(v)}`);
                fs.appendFileSync(stack.file, `config:\n${lines.join("\n")}\n`);
                return stack;
            },
        };
        env = e2e;
        timings.setup = (Date.now() - t0) / 1000;
    }, 5 * 60_000);

    afterAll(async () => {
        await env?.cluster.stop();
        env?.chartRepo?.stop();
        if (env && !process.env.PICLUSTER_E2E_KEEP) fs.rmSync(env.work, { recursive: true, force: true });
        process.stderr.write(`[e2e ${label}] setup ${timings.setup ?? "-"} s\n`);
    }, 3 * 60_000);

    return () => {
        if (!env) throw new Error(`the ${label} e2e environment is not set up (its beforeAll failed)`);
        return env;
    };
}

/** The whole output of a run, for messages and matching. */
export const output = (r: RunResult): string => `${r.stdout}\n${r.stderr}`;

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls until `check` holds (thrown errors count as not yet). */
export async function until(what: string, timeoutMs: number, check: () => boolean): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
        try {
            if (check()) return;
        } catch {
            /* not yet */
        }
        await sleep(250);
    }
    throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

export { randomPassword };
