import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { main } from "../../cli/policy-check";

const ROOT = path.resolve(__dirname, "../..");
const FIX = path.join(__dirname, "fixtures", "manifests");
const rel = (p: string) => path.join(FIX, p);

function run(args: string[]) {
    const out: string[] = [];
    const err: string[] = [];
    const r = main(
        args,
        (s) => out.push(s),
        (s) => err.push(s),
    );
    return { ...r, out, err };
}

let tmp: string;
beforeAll(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "policy-check-"));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function write(name: string, text: string): string {
    const p = path.join(tmp, name);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, text);
    return p;
}

describe("policy:check on a directory of mixed good and bad manifests", () => {
    const r = () => run([FIX]);

    test("exits 1 because mandatory rules are violated", () => {
        expect(r().exitCode).toBe(1);
    });

    test("prints one line per violation as <file>: <Kind>/<namespace>/<name>: <rule>: <message>", () => {
        const lines = r().out;
        const heads = lines.map((l) => l.split(": ").slice(0, 3).join(": "));
        expect(heads).toEqual([
            `${rel("eck.yaml")}: Elasticsearch/logging/efk: linkerd-automount-token-disabled`,
            `${rel("kube-prometheus-stack.yaml")}: Job/monitoring/kube-prometheus-stack-admission-create: linkerd-job-must-complete`,
            `${rel("list.yaml")}: CronJob/apps/backup: linkerd-job-must-complete`,
            `${rel("nested/deeper/hostnet.yml")}: Pod/apps/debug: linkerd-hostnetwork-not-meshed`,
            `${rel("traefik.yaml")}: Ingress/logging/kibana: linkerd-traefik-dst-override`,
        ]);
        for (const l of lines) expect(l).not.toContain("\n");
    });

    test("namespaces in the input that carry the inject annotation count as meshed", () => {
        const job = r().out.find((l) => l.includes("admission-create"))!;
        expect(job).toContain('namespace "monitoring" is meshed');
        expect(job).toContain("from Namespace monitoring");
        expect(job).toContain("`linkerd.io/inject: disabled` at spec.template.metadata.annotations");
    });

    test("good objects in the same files are not reported", () => {
        const all = r()
            .out.map((l) => l.split(": ")[1])
            .join("\n");
        for (const good of ["admission-patch", "node-exporter", "Kibana/", "IngressRoute/monitoring/grafana", "backup-awaited", "operator"]) {
            expect(all).not.toContain(good);
        }
    });

    test("summary goes to stderr", () => {
        expect(r().err.join("\n")).toMatch(/6 file\(s\), 3 mandatory and 2 advisory violation\(s\)/);
    });
});

describe("exit codes", () => {
    test("0 when only advisory rules are violated (findings still printed)", () => {
        const res = run([rel("eck.yaml"), rel("traefik.yaml"), rel("namespaces.yaml")]);
        expect(res.exitCode).toBe(0);
        expect(res.out).toHaveLength(2);
    });

    test("0 and no output on good manifests", () => {
        const res = run([rel("namespaces.yaml")]);
        expect(res).toMatchObject({ exitCode: 0, out: [] });
    });

    test("without the Namespace objects the monitoring Job is fine, unless --meshed-namespace says so", () => {
        expect(run([rel("kube-prometheus-stack.yaml")]).exitCode).toBe(0);
        const res = run([rel("kube-prometheus-stack.yaml"), "--meshed-namespace", "monitoring"]);
        expect(res.exitCode).toBe(1);
        expect(res.out[0]).toContain("from --meshed-namespace");
    });

    test("--meshed-namespace may repeat", () => {
        const p = write(
            "jobs.yaml",
            ["a", "b"]
                .map(
                    (ns) =>
                        `apiVersion: batch/v1\nkind: Job\nmetadata: {name: j, namespace: ${ns}}\nspec: {template: {spec: {containers: [{name: c, image: x, command: [x]}]}}}\n`,
                )
                .join("---\n"),
        );
        expect(run([p, "--meshed-namespace", "a", "--meshed-namespace", "b"]).out).toHaveLength(2);
    });

    test("--linkerd-version changes what linkerd-await needs", () => {
        const p = write(
            "await.yaml",
            `apiVersion: batch/v1
kind: Job
metadata: {name: j, namespace: apps}
spec:
  template:
    spec:
      containers: [{name: c, image: x, command: [linkerd-await, --shutdown, --, run]}]
`,
        );
        expect(run([p, "--meshed-namespace", "apps"]).exitCode).toBe(0);
        const res = run([p, "--meshed-namespace", "apps", "--linkerd-version", "edge-24.8.2"]);
        expect(res.exitCode).toBe(1);
        expect(res.out[0]).toContain("config.linkerd.io/proxy-admin-shutdown: enabled");
        expect(run([p, "--meshed-namespace", "apps", "--linkerd-version", "edge-24.8.2", "--shutdown-endpoint-enabled"]).exitCode).toBe(0);
    });

    test("--config takes the policy pack's config file (levels and properties)", () => {
        const cfg = write(
            "cfg.json",
            JSON.stringify({ "linkerd-job-must-complete": { enforcementLevel: "advisory", meshedNamespaces: ["monitoring"] } }),
        );
        const res = run([rel("kube-prometheus-stack.yaml"), "--config", cfg]);
        expect(res.exitCode).toBe(0);
        expect(res.out).toHaveLength(1);
    });

    test("2 on invalid YAML, naming the file and the document", () => {
        const p = write("broken.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\nkind: [\n");
        const res = run([p]);
        expect(res.exitCode).toBe(2);
        expect(res.err.join("\n")).toContain(`${p}: document 2 (from line 4): invalid YAML`);
    });

    test("2 on a document that is not a mapping", () => {
        const p = write("scalar.yaml", "just a string\n");
        const res = run([p]);
        expect(res.exitCode).toBe(2);
        expect(res.err.join("\n")).toContain(`${p}: document 1`);
    });

    test("2 on a missing file, 2 without arguments", () => {
        const missing = path.join(tmp, "nope.yaml");
        const res = run([missing]);
        expect(res.exitCode).toBe(2);
        expect(res.err.join("\n")).toContain(`${missing}: cannot read`);
        expect(run([]).exitCode).toBe(2);
        expect(run(["--bogus", rel("eck.yaml")]).exitCode).toBe(2);
    });

    test("empty files and comment-only documents are fine", () => {
        expect(run([write("empty.yaml", ""), write("comments.yaml", "# nothing\n---\n# still nothing\n")]).exitCode).toBe(0);
    });
});

test("npm run policy:check, as a user runs it", () => {
    const r = spawnSync("npm", ["run", "-s", "policy:check", "--", FIX], { cwd: ROOT, encoding: "utf8" });
    expect(r.status).toBe(1);
    const lines = r.stdout.trim().split("\n");
    expect(lines).toHaveLength(5);
    expect(lines[1]).toMatch(/kube-prometheus-stack\.yaml: Job\/monitoring\/kube-prometheus-stack-admission-create: linkerd-job-must-complete: /);
    const bad = write("bad-cli.yaml", "a: [\n");
    const r2 = spawnSync("npm", ["run", "-s", "policy:check", "--", bad], { cwd: ROOT, encoding: "utf8" });
    expect(r2.status).toBe(2);
    expect(r2.stderr).toContain(`${bad}: document 1`);
});
