/**
 * The real Linkerd and Traefik charts, installed the way users install them: from a Helm repository,
 * by pinned chart version (the program's `linkerd.chartRepository` and `ingress.traefik.chartRepository`).
 * The repository is a directory (`index.yaml` + packaged charts) served on loopback by a small HTTP
 * server process of the harness:
 *
 * - PICLUSTER_E2E_CHART_REPO_DIR=<dir>, else ../shared/reference/charts beside the repository when it
 *   exists (the real charts of every Linkerd release the program supports, and Traefik's);
 * - neither: the e2e stops before starting anything and says what to set. Against an external cluster
 *   with network access (PICLUSTER_E2E_EXTERNAL_CLUSTER=1 without a chart directory) the public
 *   repositories are used instead (https://helm.linkerd.io/stable|edge, https://traefik.github.io/charts).
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { parse as parseYaml } from "yaml";
import type { LinkerdRelease } from "../../../lib/release";
import { repoRoot } from "../toolchain/paths";

const DEFAULT_DIR = path.resolve(repoRoot, "..", "shared", "reference", "charts");

/** The Traefik chart the program installs by default (ingress.traefik.chartVersion). */
export const TRAEFIK_CHART = { name: "traefik", version: "40.2.0" };

/** Where the charts come from, checked before any process starts. */
export function chartRepoDir(): string {
    const own = process.env.PICLUSTER_E2E_CHART_REPO_DIR;
    const dir = own ? path.resolve(own) : DEFAULT_DIR;
    if (!fs.existsSync(path.join(dir, "index.yaml"))) {
        throw new Error(
            (own ? `PICLUSTER_E2E_CHART_REPO_DIR=${own}: no index.yaml there.\n` : `No Helm repository at ${DEFAULT_DIR}.\n`) +
                "The e2e installs the real Linkerd and Traefik charts from a Helm repository directory (index.yaml and the packaged charts): " +
                "set PICLUSTER_E2E_CHART_REPO_DIR to one, e.g. made with `helm pull <chart> --version <v>` for each chart of the releases under test and " +
                "`helm repo index .`; or, with network access, run against an external cluster (PICLUSTER_E2E_EXTERNAL_CLUSTER=1), which uses the public repositories.",
        );
    }
    return dir;
}

/** Chart versions the repository's index.yaml lists, by chart name. */
function indexedVersions(dir: string): Map<string, Set<string>> {
    const index = parseYaml(fs.readFileSync(path.join(dir, "index.yaml"), "utf8")) as { entries?: Record<string, { version: string }[]> };
    return new Map(Object.entries(index.entries ?? {}).map(([name, list]) => [name, new Set(list.map((e) => e.version))]));
}

/** Throws naming every chart of the releases (and Traefik) the repository does not have. */
export function checkChartsPresent(dir: string, releases: readonly LinkerdRelease[]): void {
    const versions = indexedVersions(dir);
    const wanted = [...releases.flatMap((r) => Object.values(r.charts).filter((c): c is NonNullable<typeof c> => !!c)), TRAEFIK_CHART];
    const missing = wanted.filter((c) => !versions.get(c.name)?.has(c.version)).map((c) => `${c.name} ${c.version}`);
    if (missing.length > 0) throw new Error(`the Helm repository ${dir} lacks ${[...new Set(missing)].join(", ")} (its index.yaml)`);
}

export interface ChartRepo {
    /** http://127.0.0.1:<port>: the value of linkerd.chartRepository and ingress.traefik.chartRepository. */
    readonly url: string;
    stop(): void;
}

/**
 * Serves `dir` on 127.0.0.1 from a process of its own (the test process runs kubectl and helm
 * synchronously at times, which must not block the server they download from).
 */
export async function startChartRepo(dir: string): Promise<ChartRepo> {
    const server = `
        const http = require("http"), fs = require("fs"), path = require("path");
        const root = ${JSON.stringify(dir)};
        const srv = http.createServer((req, res) => {
            const file = path.join(root, path.normalize(decodeURIComponent(new URL(req.url, "http://x").pathname)).replace(/^(\\.\\.[/\\\\])+/, ""));
            if (!file.startsWith(root) || !fs.existsSync(file) || !fs.statSync(file).isFile()) { res.writeHead(404); return res.end("not found"); }
            res.writeHead(200, { "content-type": file.endsWith(".yaml") ? "text/yaml" : "application/gzip" });
            fs.createReadStream(file).pipe(res);
        });
        srv.listen(0, "127.0.0.1", () => process.stdout.write(srv.address().port + "\\n"));
        process.stdin.on("end", () => process.exit(0)); process.stdin.resume();
    `;
    // stdin stays open while the test runs: when the test process exits in any way, the server follows.
    const child = spawn(process.execPath, ["-e", server], { stdio: ["pipe", "pipe", "inherit"] });
    const port = await new Promise<number>((resolve, reject) => {
        let out = "";
        child.stdout.on("data", (d) => {
            out += d;
            if (out.includes("\n")) resolve(Number(out.trim()));
        });
        child.on("exit", (code) => reject(new Error(`chart repository server exited (${code})`)));
    });
    return {
        url: `http://127.0.0.1:${port}`,
        stop: () => {
            child.stdin.end();
            child.kill();
        },
    };
}
