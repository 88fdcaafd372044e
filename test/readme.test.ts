import * as fs from "fs";
import * as path from "path";
import { parse as parseYaml } from "yaml";
import { COMMAND_INTERPRETER } from "../lib/builders/longhorn";
import { CONFIG_DEFAULTS } from "../lib/config/schema";
import { STRUCTURED_KEYS, configKeyPaths } from "../lib/config";

const ROOT = path.join(__dirname, "..");
const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
const development = fs.readFileSync(path.join(ROOT, "docs", "development.md"), "utf8");

/** The text of a `## ` section, up to the next one. */
function section(doc: string, heading: string): string {
    const start = doc.indexOf(`\n## ${heading}\n`);
    if (start < 0) throw new Error(`no section "## ${heading}"`);
    const end = doc.indexOf("\n## ", start + 1);
    return doc.slice(start, end < 0 ? undefined : end);
}

test.each(configKeyPaths())("README documents the config key %s", (key) => {
    expect(readme).toContain(`| \`${key}\``);
});

test("README gives the two set-up commands", () => {
    expect(readme).toMatch(/npm ci\s/);
    expect(readme).toMatch(/npm test\s/);
});

test("README documents npm run check beside pulumi up: --json, --restart and the exit codes", () => {
    const deploy = readme.slice(readme.indexOf("## Preview and deploy"), readme.indexOf("## Configuration"));
    expect(deploy).toMatch(/pulumi up --policy-pack policy[\s\S]*npm run check -- --stack picluster/);
    expect(deploy).toContain("--json");
    expect(deploy).toContain("--restart");
    expect(deploy).toMatch(/`0` every check passed.*`1` a check failed.*`2` it cannot run/s);
});

describe("the README's set-up claims", () => {
    const prerequisites = readme.slice(readme.indexOf("## Prerequisites"), readme.indexOf("## Set up"));

    test("lists every tool the program and its commands run: Node, the Pulumi CLI, kubectl, bash", () => {
        expect(prerequisites).toMatch(/Node\.js 20 or later/);
        expect(prerequisites).toMatch(/`kubectl` \(on PATH, or `longhorn.kubectl`\): the program runs it at preview/);
        expect(prerequisites).toMatch(/`bash`: the Longhorn steps/);
        // The Longhorn steps are run by bash, and the cluster is read by kubectl, as the README says.
        expect(COMMAND_INTERPRETER[0]).toBe("bash");
        expect(CONFIG_DEFAULTS.longhorn.kubectl).toBe("kubectl");
    });

    test("its Node claim is the engines field: Node 22 runs the project, older Node only installs it (with EBADENGINE)", () => {
        const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "package.json"), "utf8"));
        expect(pkg.engines.node).toBe(">=22");
        expect(pkg.devDependencies.node).toMatch(/^22\./);
        expect(prerequisites).toContain("EBADENGINE");
    });

    test("runs the installed Pulumi CLI, never `npx pulumi` (which fetches an npm package)", () => {
        for (const doc of [readme, fs.readFileSync(path.join(__dirname, "..", "docs", "policies.md"), "utf8")]) {
            const commands = doc.split("\n").filter((l) => /^\s*npx pulumi/.test(l));
            expect(commands).toEqual([]);
        }
    });

    test("no caveat for what now works by default: the dashboards' ${DS_PROMETHEUS}, the NGINX snippet", () => {
        const caveats = section(readme, "Known caveats");
        expect(caveats).not.toMatch(/DS_PROMETHEUS|configuration-snippet/);
        expect(readme).toMatch(/ingress-nginx is retired upstream/);
        expect(readme).toMatch(/`traefik` \(recommended\)/);
    });

    test("no caveat says the program owns k3s' HelmChartConfig", () => {
        const caveats = section(readme, "Known caveats");
        expect(caveats).not.toMatch(/HelmChartConfig `kube-system\/traefik` is owned/);
        expect(caveats).toMatch(/never touches k3s' HelmChartConfig/);
    });
});

describe("Pulumi.yaml", () => {
    const project = parseYaml(fs.readFileSync(path.join(__dirname, "..", "Pulumi.yaml"), "utf8")) as {
        config: Record<string, { description?: string; type?: string; default?: unknown }>;
    };

    test.each([...STRUCTURED_KEYS])("declares %s as an object with a description naming its keys", (key) => {
        const decl = project.config[`picluster-linkerd:${key}`];
        expect(decl).toMatchObject({ type: "object", default: {} });
        expect(decl.description?.length).toBeGreaterThan(20);
    });

    test("declares nothing else, and its comments name files that exist", () => {
        expect(Object.keys(project.config).sort()).toEqual(STRUCTURED_KEYS.map((k) => `picluster-linkerd:${k}`).sort());
        const text = fs.readFileSync(path.join(__dirname, "..", "Pulumi.yaml"), "utf8");
        for (const [, file] of text.matchAll(/\b((?:lib|components|cli)\/[\w/.-]+\.ts)\b/g)) {
            expect(fs.existsSync(path.join(__dirname, "..", file))).toBe(true);
        }
    });
});

test("tsconfig.json includes only folders that exist", () => {
    const tsconfig = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "tsconfig.json"), "utf8")) as { include: string[] };
    for (const pattern of tsconfig.include) {
        const first = pattern.split("/")[0];
        expect(fs.existsSync(path.join(__dirname, "..", first))).toBe(true);
    }
});

describe("the README is the user's first hour; developer material is in docs/development.md", () => {
    const headings = (doc: string) => [...doc.matchAll(/^## (.+)$/gm)].map((m) => m[1]);

    test("the first hour comes first: set-up, a stack file, render, preview and up with the check, upgrade, then the reference", () => {
        const h = headings(readme);
        const order = [
            "Prerequisites",
            "Set up",
            "Pick a stack file",
            "Review a change without a cluster: the offline render",
            "Preview and deploy",
            "Upgrade",
            "Configuration",
        ];
        expect(h.slice(0, order.length)).toEqual(order);
    });

    test("tests, e2e, PR checks, releases, benchmarks and the layout are in docs/development.md, not in the README", () => {
        for (const dev of ["End-to-end tests", "PR checks", "Releases", "Benchmarks", "Project layout"]) {
            expect(headings(development)).toContain(dev);
            expect(headings(readme)).not.toContain(dev);
        }
        expect(readme).toContain("[docs/development.md](docs/development.md)");
    });

    test("docs/development.md names every e2e file and says what it proves", () => {
        const files = fs.readdirSync(path.join(ROOT, "test", "e2e")).filter((f) => f.endsWith(".e2e.ts"));
        const table = section(development, "End-to-end tests");
        for (const file of files) expect([file, table.includes(`| \`${file}\` |`)]).toEqual([file, true]);
    });

    test("the README names every example stack file, and the upgrade section the changelog and the anchor rotation", () => {
        for (const file of fs.readdirSync(path.join(ROOT, "examples"))) {
            expect(section(readme, "Pick a stack file")).toContain(`[\`examples/${file}\`](examples/${file})`);
        }
        expect(section(readme, "Upgrade")).toContain("[CHANGELOG.md](CHANGELOG.md)");
        expect(section(readme, "Upgrade")).toContain("[docs/rotate-anchor.md](docs/rotate-anchor.md)");
        expect(readme).toContain("[LICENSE](LICENSE)");
    });
});

describe("links between the documents resolve", () => {
    /** GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens; repeats get -1, -2, ... */
    function anchors(markdown: string): Set<string> {
        const seen = new Map<string, number>();
        const out = new Set<string>();
        for (const [, text] of markdown.replace(/^```[\s\S]*?^```/gm, "").matchAll(/^#{1,6} (.+)$/gm)) {
            const base = text
                .trim()
                .toLowerCase()
                .replace(/[^\p{L}\p{N} _-]/gu, "")
                .replace(/ /g, "-");
            const n = seen.get(base) ?? 0;
            seen.set(base, n + 1);
            out.add(n === 0 ? base : `${base}-${n}`);
        }
        return out;
    }
    const docs = ["README.md", "CHANGELOG.md", ...fs.readdirSync(path.join(ROOT, "docs")).map((f) => `docs/${f}`)];

    test.each(docs)("every relative link of %s points at a file (and heading) that exists", (doc) => {
        const text = fs.readFileSync(path.join(ROOT, doc), "utf8").replace(/^```[\s\S]*?^```/gm, "");
        const broken: string[] = [];
        for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
            if (/^[a-z]+:/.test(target)) continue;
            const [file, anchor] = target.split("#");
            const resolved = file ? path.resolve(path.dirname(path.join(ROOT, doc)), file) : path.join(ROOT, doc);
            if (!fs.existsSync(resolved)) broken.push(`${target}: no such file`);
            else if (anchor && resolved.endsWith(".md") && !anchors(fs.readFileSync(resolved, "utf8")).has(anchor))
                broken.push(`${target}: no such heading`);
        }
        expect(broken).toEqual([]);
    });
});
