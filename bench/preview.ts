/**
 * Figure 3: `pulumi preview` of the picluster stack against a one-resource program (bench/floor),
 * on the same engine (the toolchain's CLI and providers), the same local file backend and the same
 * local API server. Skipped, with the reason, when the toolchain is absent.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { PROJECT } from "../lib/config";
import { Pulumi, chartRepoDir, kubectlPath, makeRootCA, prepareCluster, startChartRepo, startCluster, toolchainDir } from "../test/e2e/harness";
import type { Figure } from "./run";

const REPO = path.resolve(__dirname, "..");
const FLOOR = path.join(REPO, "bench", "floor");
const NEEDED = ["pulumi", "language-nodejs", "provider-kubernetes", "provider-random", "provider-command", "kubernetes", "etcd"];

function toolchainProblem(): string | undefined {
    const manifest = path.join(toolchainDir, "manifest.json");
    if (!fs.existsSync(manifest)) return `no toolchain at ${toolchainDir}: run \`npm run toolchain\` (needs Go)`;
    type Component = { name: string; source: string };
    const parsed = JSON.parse(fs.readFileSync(manifest, "utf8")) as Component[] | { components: Component[] };
    const components = Array.isArray(parsed) ? parsed : parsed.components;
    const missing = NEEDED.filter((n) => !components.some((c) => c.name === n && c.source !== "unavailable"));
    return missing.length ? `toolchain lacks ${missing.join(", ")}: run \`npm run toolchain\`` : undefined;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function realPreviewFigures(runs: number): Promise<{ figures: Figure[] } | { skipped: string }> {
    const problem = toolchainProblem();
    if (problem) return { skipped: problem };
    let repoDir: string;
    try {
        repoDir = chartRepoDir();
    } catch (e) {
        return { skipped: (e as Error).message.split("\n")[0] };
    }
    const work = fs.mkdtempSync(path.join(os.tmpdir(), "picluster-bench-"));
    const charts = await startChartRepo(repoDir);
    const cluster = await startCluster(work);
    try {
        prepareCluster(cluster, makeRootCA(path.join(work, "root-ca")));
        const pulumi = new Pulumi(work);
        const stacks: { dir: string; name: string; file: string }[] = [];
        for (const [dir, name] of [
            [REPO, `bench-${process.pid}`],
            [FLOOR, `floor-${process.pid}`],
        ] as const) {
            const file = path.join(work, `Pulumi.${name}.yaml`);
            await pulumi.initStack(dir, name, file);
            stacks.push({ dir, name, file });
        }
        const [picluster, floor] = stacks;
        const set = (s: typeof picluster, key: string, value: string) => pulumi.setConfig(s.dir, s.name, s.file, key, value);
        await set(picluster, `${PROJECT}:kubernetes.kubeconfig`, cluster.kubeconfig);
        await set(picluster, `${PROJECT}:kubernetes.context`, cluster.context);
        await set(picluster, `${PROJECT}:linkerd.chartRepository`, charts.url);
        await set(picluster, `${PROJECT}:ingress.traefik.chartRepository`, charts.url);
        await set(picluster, `${PROJECT}:longhorn.kubectl`, kubectlPath());
        await set(floor, "kubernetes:kubeconfig", cluster.kubeconfig);
        await set(floor, "kubernetes:context", cluster.context);

        const preview = async (s: typeof picluster) => (await pulumi.ok(s.dir, ["preview", "--config-file", s.file, "-s", s.name])).seconds;
        await preview(floor); // warm plugin and compile caches once
        const times = { picluster: [] as number[], floor: [] as number[] };
        for (let i = 0; i < runs; i++) {
            times.floor.push(await preview(floor));
            times.picluster.push(await preview(picluster));
        }
        for (const s of stacks) await pulumi.ok(s.dir, ["stack", "rm", "--yes", "--force", "-s", s.name]);
        const value = median(times.picluster);
        const baseline = median(times.floor);
        return {
            figures: [
                {
                    name: "real pulumi preview (picluster stack)",
                    value: Number(value.toFixed(1)),
                    unit: "s",
                    baseline: Number(baseline.toFixed(1)),
                    ratio: Number((value / baseline).toFixed(3)),
                    target: "ratio <= 1.5",
                    pass: value / baseline <= 1.5,
                },
            ],
        };
    } finally {
        await cluster.stop();
        charts.stop();
        fs.rmSync(work, { recursive: true, force: true });
    }
}
