import * as fs from "fs";
import * as path from "path";
import { parse as parseYaml } from "yaml";
import { COMMAND_INTERPRETER } from "../lib/builders/longhorn";
import { CONFIG_DEFAULTS } from "../lib/config/schema";
import { STRUCTURED_KEYS, configKeyPaths } from "../lib/config";

const readme = fs.readFileSync(path.join(__dirname, "..", "README.md"), "utf8");

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
        const caveats = readme.slice(readme.indexOf("## Known caveats"), readme.indexOf("## End-to-end tests"));
        expect(caveats).not.toMatch(/DS_PROMETHEUS|configuration-snippet/);
        expect(readme).toMatch(/ingress-nginx is retired upstream/);
        expect(readme).toMatch(/`traefik` \(recommended\)/);
    });

    test("no caveat says the program owns k3s' HelmChartConfig", () => {
        const caveats = readme.slice(readme.indexOf("## Known caveats"), readme.indexOf("## End-to-end tests"));
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
