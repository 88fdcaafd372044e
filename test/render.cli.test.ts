/** The offline render as a user runs it: `npm run render -- --stack picluster --out <dir>`. */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse as parseYaml } from "yaml";
import { REPO } from "./support/render";

function render(args: string[]) {
    return spawnSync(path.join(REPO, "node_modules/.bin/ts-node"), ["--transpile-only", path.join(REPO, "cli/render.ts"), ...args], {
        cwd: REPO,
        encoding: "utf8",
        env: { ...process.env, PATH: `${path.join(REPO, "node_modules/.bin")}${path.delimiter}${process.env.PATH}` },
    });
}

function stackFile(dir: string, config: Record<string, unknown>): string {
    const file = path.join(dir, "Pulumi.test.yaml");
    const prefixed: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(config)) prefixed[`picluster-linkerd:${k}`] = v;
    fs.writeFileSync(file, JSON.stringify({ config: prefixed }));
    return file;
}

describe("npm run render", () => {
    let tmp: string;
    beforeAll(() => {
        tmp = fs.mkdtempSync(path.join(os.tmpdir(), "picluster-render-"));
    });
    afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

    test("the picluster stack renders resources.json, manifests/ and values/", () => {
        const out = path.join(tmp, "picluster");
        const run = render(["--stack", "picluster", "--out", out]);
        expect(run.stderr).not.toMatch(/render failed/);
        expect(run.status).toBe(0);
        expect(run.stdout).toMatch(/NAME\s+TYPE\s+PARENT\s+DEPENDS ON/);
        const resources = JSON.parse(fs.readFileSync(path.join(out, "resources.json"), "utf8"));
        for (const r of resources)
            expect(
                Object.keys(r)
                    .filter((k) => k !== "readId")
                    .sort(),
            ).toEqual(["dependsOn", "inputs", "name", "parent", "type"]);
        const controlPlane = resources.find((r: any) => r.type === "kubernetes:helm.sh/v3:Release" && r.name === "linkerd-control-plane");
        expect(controlPlane.dependsOn).toEqual(
            expect.arrayContaining(["linkerd-control-plane-crds", "linkerd-identity-namespace", "linkerd-identity-issuer"]),
        );
        const cert = parseYaml(fs.readFileSync(path.join(out, "manifests", "linkerd-identity-issuer.yaml"), "utf8"));
        expect(cert).toMatchObject({ kind: "Certificate", spec: { duration: "48h", renewBefore: "25h", isCA: true } });
        const values = parseYaml(fs.readFileSync(path.join(out, "values", "linkerd-control-plane.yaml"), "utf8"));
        expect(values.identity.issuer.scheme).toBe("kubernetes.io/tls");
        expect(values.identityTrustAnchorsPEM).toMatch(/^\[unknown: /);
        expect(fs.existsSync(path.join(out, "values", "linkerd-crds.yaml"))).toBe(true);
        // What only the cluster can tell is unknown, not false.
        const outputs = JSON.parse(fs.readFileSync(path.join(out, "outputs.json"), "utf8"));
        expect(outputs.trustAnchorInLinkerdConfig).toMatch(/^\[unknown: whether linkerd-config carries the trust anchor/);
        // The Longhorn steps, readable as the scripts bash runs.
        const scripts = fs.readdirSync(path.join(out, "scripts")).sort();
        expect(scripts).toEqual(expect.arrayContaining(["linkerd-longhorn-mesh-annotate.create.sh", "linkerd-longhorn-mesh-annotate.delete.sh"]));
        const create = fs.readFileSync(
            path.join(
                out,
                "scripts",
                scripts.find((f) => f.endsWith("pod-ip.create.sh"))!,
            ),
            "utf8",
        );
        expect(create).toMatch(/^# linkerd-longhorn-mesh-pod-ip: the create script of this local.Command, run by bash -euo pipefail -c <script>/);
        expect(create).toContain("POD_IP=0.0.0.0");
        const command = resources.find((r: any) => r.name === "linkerd-longhorn-mesh-pod-ip");
        expect(create.split("\n").slice(1).join("\n")).toBe(
            command.inputs.create.endsWith("\n") ? command.inputs.create : `${command.inputs.create}\n`,
        );
    });

    test("broken YAML in a stack file is an error naming the file", () => {
        const file = path.join(tmp, "Pulumi.broken.yaml");
        fs.writeFileSync(file, "config:\n  picluster-linkerd:linkerd:\n    channel: [edge\n");
        const run = render(["--stack", "broken", "--stack-file", file, "--out", path.join(tmp, "broken")]);
        expect(run.status).toBe(1);
        expect(run.stderr).toContain(`render failed: ${file}: not valid YAML:`);
    });

    test("mode bundle renders the Bundle and identity.externalCA", () => {
        const out = path.join(tmp, "bundle");
        const file = stackFile(tmp, { identity: { trustAnchor: { mode: "bundle" } } });
        const run = render(["--stack", "test", "--stack-file", file, "--out", out, "--quiet"]);
        expect(run.status).toBe(0);
        const bundle = parseYaml(fs.readFileSync(path.join(out, "manifests", "linkerd-identity-trust-roots.yaml"), "utf8"));
        expect(bundle).toMatchObject({ apiVersion: "trust.cert-manager.io/v1alpha1", kind: "Bundle" });
        const values = parseYaml(fs.readFileSync(path.join(out, "values", "linkerd-control-plane.yaml"), "utf8"));
        expect(values.identity.externalCA).toBe(true);
        expect(values).not.toHaveProperty("identityTrustAnchorsPEM");
    });

    test("a bad configuration fails with the key path and the allowed values, writing nothing", () => {
        const out = path.join(tmp, "bad");
        const file = stackFile(tmp, { linkerd: { channel: "nightly" } });
        const run = render(["--stack", "test", "--stack-file", file, "--out", out]);
        expect(run.status).toBe(1);
        expect(run.stderr).toContain('picluster-linkerd:linkerd.channel: expected one of "stable", "edge"');
        expect(fs.existsSync(out)).toBe(false);
    });
});
