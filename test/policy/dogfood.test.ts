/**
 * Dogfooding: the program's own picluster stack, rendered offline (`npm run render`), passes the policy pack with
 * zero mandatory violations, and `npm run policy:check` on the rendered manifests agrees with the pack.
 *
 * The rendered resources.json holds every resource as the engine would see it (type, name, inputs), with secrets
 * as "[secret]" and values only a cluster can give as "[unknown…]" placeholders; the latter are sent to the pack as
 * the engine's unknown sentinel, as during `pulumi preview`.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { main as policyCheck } from "../../cli/policy-check";
import { Diag, E, PackServer, Res, analyzeRequest, configure, diags, stackRequest, startPack, START_TIMEOUT_MS, urn, UNKNOWN } from "./packServer";

const ROOT = path.resolve(__dirname, "../..");
const HAVE_RENDER = fs.existsSync(path.join(ROOT, "cli", "render.ts"));
const d = HAVE_RENDER ? describe : describe.skip;

interface Rendered {
    type: string;
    name: string;
    parent?: string;
    dependsOn?: string[];
    inputs?: Record<string, unknown>;
}

/** "[unknown: …]" placeholders → the engine's unknown value; everything else as is. */
function toEngineValue(v: unknown): unknown {
    if (typeof v === "string") return v.startsWith("[unknown") ? UNKNOWN : v;
    if (Array.isArray(v)) return v.map(toEngineValue);
    if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, toEngineValue(x)]));
    return v;
}

d("dogfood: the picluster stack", () => {
    let out: string;
    let resources: Res[];
    let pack: PackServer;
    const found: Diag[] = [];

    beforeAll(async () => {
        out = fs.mkdtempSync(path.join(os.tmpdir(), "policy-dogfood-"));
        const r = spawnSync("npm", ["run", "-s", "render", "--", "--stack", "picluster", "--out", out, "--quiet"], { cwd: ROOT, encoding: "utf8" });
        if (r.status !== 0) throw new Error(`npm run render failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
        const rendered: Rendered[] = JSON.parse(fs.readFileSync(path.join(out, "resources.json"), "utf8"));
        resources = rendered.map((x) => ({ type: x.type, name: x.name, props: toEngineValue(x.inputs ?? {}) as Record<string, unknown> }));
        pack = await startPack();
        await configure(pack, {});
        for (const res of resources) found.push(...diags(await pack.call("analyze", analyzeRequest(res))));
        found.push(...diags(await pack.call("analyzeStack", stackRequest(resources))));
    }, START_TIMEOUT_MS + 60_000);

    afterAll(() => {
        pack?.stop();
        if (out) fs.rmSync(out, { recursive: true, force: true });
    });

    test("the render contains Kubernetes resources to check", () => {
        expect(resources.some((r) => r.type.startsWith("kubernetes:"))).toBe(true);
    });

    test("zero mandatory violations from the pack", () => {
        expect(found.filter((x) => x.level === E.MANDATORY)).toEqual([]);
    });

    test('every policy really ran: no "can\'t run during preview" diagnostics', () => {
        expect(found.filter((x) => x.message.includes("can't run"))).toEqual([]);
    });

    test("npm run policy:check on the rendered manifests agrees", () => {
        const manifests = path.join(out, "manifests");
        // The same release facts the pack derives from the stack's linkerd-control-plane release.
        const cp = resources.find(
            (r) => r.type === "kubernetes:helm.sh/v3:Release" && typeof r.props.chart === "string" && r.props.chart.endsWith("linkerd-control-plane"),
        );
        const args = [manifests, ...(typeof cp?.props.version === "string" ? ["--linkerd-version", cp.props.version] : [])];
        const res = policyCheck(
            args,
            () => undefined,
            () => undefined,
        );
        expect(res.exitCode).toBe(0);
        // Same findings for the plain objects (the pack additionally looks at Helm release values).
        const releaseUrns = new Set(resources.filter((r) => r.type.startsWith("kubernetes:helm.sh/")).map(urn));
        const fromPack = found
            .filter((x) => !releaseUrns.has(x.urn) && !x.message.includes("can't run"))
            .map((x) => `${x.policy} ${x.message.split(": ")[0]}`)
            .sort();
        const fromCli = res.findings.map((f) => `${f.rule} ${f.kind} ${f.namespace}/${f.name}`).sort();
        expect(fromCli).toEqual(fromPack);
    });

    test("the real CLI exits 0 on the rendered manifests", () => {
        const r = spawnSync("npm", ["run", "-s", "policy:check", "--", path.join(out, "manifests")], { cwd: ROOT, encoding: "utf8" });
        expect(r.stdout).toMatch(/policy:check: \d+ file\(s\), \d+ object\(s\), 0 mandatory/);
        expect(r.status).toBe(0);
    });
});
