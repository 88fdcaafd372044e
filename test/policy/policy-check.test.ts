import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { main, POLICY_CHECK_COMMAND, WRAP_WIDTH } from "../../cli/policy-check";
import { parseManifests, resolveGoyamlScalar } from "../../cli/manifests";

const ROOT = path.resolve(__dirname, "../..");
const FIX = path.join(__dirname, "fixtures", "manifests");
const rel = (p: string) => path.join(FIX, p);

function run(args: string[], stdin?: string) {
    const out: string[] = [];
    const err: string[] = [];
    const r = main(
        args,
        (s) => out.push(...s.split("\n")),
        (s) => err.push(s),
        () => {
            if (stdin === undefined) throw new Error("no stdin in this test");
            return stdin;
        },
    );
    // Each finding starts with an unindented head line; its message follows, indented.
    const heads = out.filter((l) => !l.startsWith(" ") && !l.startsWith("note: ") && !l.startsWith("policy:check: "));
    return { ...r, out, err, heads, summary: out[out.length - 1] };
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

    test("each finding starts with a head line <file>: <Kind>/<namespace>/<name>: <rule> (<level>)", () => {
        expect(r().heads).toEqual([
            `${rel("kube-prometheus-stack.yaml")}: Job/monitoring/kube-prometheus-stack-admission-create: linkerd-job-must-complete (mandatory)`,
            `${rel("list.yaml")}: CronJob/apps/backup: linkerd-job-must-complete (mandatory)`,
            `${rel("nested/deeper/hostnet.yml")}: Pod/apps/debug: linkerd-hostnetwork-not-meshed (mandatory)`,
            `${rel("traefik.yaml")}: Ingress/logging/kibana: linkerd-traefik-dst-override (advisory)`,
        ]);
    });

    test("messages are wrapped under their head line, indented, with the fix on lines of its own", () => {
        const { out } = r();
        const body = out.filter((l) => l.startsWith("    "));
        expect(body.length).toBeGreaterThan(10);
        for (const l of body) expect(l.length).toBeLessThanOrEqual(WRAP_WIDTH);
        expect(body.filter((l) => l.startsWith("    Fix: "))).toHaveLength(4);
        // The message of the first finding, joined back, is the rule's message.
        const res = r();
        const firstBody = out.slice(1, out.indexOf(res.heads[1])).map((l) => l.trim());
        expect(firstBody.join(" ")).toBe(res.findings[0].message);
    });

    test("--format line: exactly one line per finding, <file>: <Kind>/<namespace>/<name>: <rule> (<level>): <message>", () => {
        const res = run([FIX, "--format", "line"]);
        const lines = res.out.slice(0, -1);
        expect(lines).toHaveLength(4);
        expect(
            lines.map(
                (l, i) =>
                    l ===
                    `${res.findings[i].file}: ${res.findings[i].kind}/${res.findings[i].namespace}/${res.findings[i].name}: ${res.findings[i].rule} (${res.findings[i].enforcement}): ${res.findings[i].message}`,
            ),
        ).toEqual([true, true, true, true]);
    });

    test("namespaces in the input that carry the inject annotation count as meshed", () => {
        const job = r().findings.find((f) => f.name.includes("admission-create"))!.message;
        expect(job).toContain('namespace "monitoring" is meshed');
        expect(job).toContain("from Namespace monitoring");
        expect(job).toContain("`linkerd.io/inject: disabled` at spec.template.metadata.annotations");
    });

    test("a container without a command (kube-webhook-certgen runs its entrypoint) is not told to wrap its command", () => {
        const job = r().findings.find((f) => f.name.includes("admission-create"))!.message;
        expect(job).not.toContain("wrap the command of container(s) create");
        expect(job).toContain("set the command of container(s) create explicitly");
    });

    test("good objects in the same files are not reported", () => {
        const all = r().heads.join("\n");
        for (const good of ["admission-patch", "node-exporter", "Kibana/", "IngressRoute/monitoring/grafana", "backup-awaited", "operator"]) {
            expect(all).not.toContain(good);
        }
    });

    test("the summary is the last line on stdout, after the findings; stderr stays empty", () => {
        const res = r();
        expect(res.summary).toMatch(/^policy:check: 6 file\(s\), \d+ object\(s\), 3 mandatory and 1 advisory violation\(s\)$/);
        expect(res.err).toEqual([]);
    });
});

describe("YAML is read as kubectl reads it (goyaml: YAML 1.1, merge keys)", () => {
    const TEXT = `# anchors and merge keys, as charts and kustomize output use them
apiVersion: batch/v1
kind: Job
metadata:
  name: migrate
  namespace: apps
  labels: &labels
    app: shop
    tier: db
spec:
  template:
    metadata:
      labels:
        <<: *labels
        tier: migrate
      annotations:
        <<: &optout
          linkerd.io/inject: disabled
    spec:
      automountServiceAccountToken: yes
      containers:
        - name: migrate
          image: shop/migrate:1.0
          command: [/migrate]
          stdin: on
          tty: off
          securityContext: {readOnlyRootFilesystem: Yes, runAsNonRoot: NO, runAsUser: 0755}
      restartPolicy: Never
---
apiVersion: v1
kind: Pod
metadata:
  name: debug
  namespace: apps
  annotations: {linkerd.io/inject: enabled, created: 2024-01-02, window: 1:30}
spec:
  hostNetwork: y
  containers: [{name: shell, image: "busybox:1.36", stdin: "yes"}]
`;

    test("merge keys are applied, yes/no/on/off/y are booleans, 0755 is octal; timestamps and 1:30 stay strings", () => {
        // What `kubectl apply -f` sends to the API server for this text (sigs.k8s.io/yaml → goyaml v2;
        // the same as sigs.k8s.io/yaml v1.4.0 YAMLToJSON prints for it).
        expect(parseManifests(TEXT, "t.yaml")).toEqual([
            {
                apiVersion: "batch/v1",
                kind: "Job",
                metadata: { name: "migrate", namespace: "apps", labels: { app: "shop", tier: "db" } },
                spec: {
                    template: {
                        metadata: { labels: { app: "shop", tier: "migrate" }, annotations: { "linkerd.io/inject": "disabled" } },
                        spec: {
                            automountServiceAccountToken: true,
                            containers: [
                                {
                                    name: "migrate",
                                    image: "shop/migrate:1.0",
                                    command: ["/migrate"],
                                    stdin: true,
                                    tty: false,
                                    securityContext: { readOnlyRootFilesystem: true, runAsNonRoot: false, runAsUser: 493 },
                                },
                            ],
                            restartPolicy: "Never",
                        },
                    },
                },
            },
            {
                apiVersion: "v1",
                kind: "Pod",
                metadata: {
                    name: "debug",
                    namespace: "apps",
                    annotations: { "linkerd.io/inject": "enabled", created: "2024-01-02", window: "1:30" },
                },
                spec: { hostNetwork: true, containers: [{ name: "shell", image: "busybox:1.36", stdin: "yes" }] },
            },
        ]);
    });

    // As sigs.k8s.io/yaml v1.4.0 YAMLToJSON resolves each (undefined: a string); -.inf from goyaml's resolve table.
    test.each([
        ["yes", true],
        ["Off", false],
        ["N", false],
        ["~", null],
        ["", null],
        ["0755", 493],
        ["0o17", 15],
        ["0x1F", 31],
        ["-0b11", -3],
        ["+12", 12],
        ["1_000", 1000],
        ["08", 8],
        ["1e3", 1000],
        [".5", 0.5],
        ["-.inf", -Infinity],
        ["1:30", undefined],
        ["2001-12-14", undefined],
        ["1.2.3", undefined],
        ["0x", undefined],
        ["yess", undefined],
    ])("plain scalar %j resolves as goyaml v2 does: %p", (text, value) => {
        expect(resolveGoyamlScalar(text)).toEqual(value);
    });

    test("quoted scalars stay strings; !!binary and local tags as goyaml keeps them; of duplicate keys the last wins", () => {
        expect(parseManifests(`a: "yes"\nb: '0755'\nc: !!binary aGVsbG8=\nd: !custom {x: on}\ne: !!str 12\n`, "t")).toEqual([
            { a: "yes", b: "0755", c: "hello", d: { x: true }, e: "12" },
        ]);
        // sigs.k8s.io/yaml v1.4.0 YAMLToJSON gives {"a":2,"b":{"true":3}}: y and on are both the key true.
        expect(parseManifests("a: 1\na: 2\nb: {y: 1, on: 3}\n", "dup.yaml")).toEqual([{ a: 2, b: { true: 3 } }]);
    });

    test("the rules see what the cluster will get: the merged opt-out holds, hostNetwork: y is true", () => {
        const p = write("yaml11.yaml", TEXT);
        const res = run([p, "--meshed-namespace", "apps"]);
        // A YAML 1.2 reader would report the Job (no opt-out seen) and miss the hostNetwork Pod ("y" a string).
        expect(res.findings.map((f) => `${f.rule} ${f.kind}/${f.name}`)).toEqual(["linkerd-hostnetwork-not-meshed Pod/debug"]);
    });
});

describe("no silent passes", () => {
    test("a directory with no YAML is an error (exit 2), naming it", () => {
        const dir = path.join(tmp, "no-yaml");
        fs.mkdirSync(path.join(dir, "sub"), { recursive: true });
        fs.writeFileSync(path.join(dir, "README.md"), "# not yaml\n");
        const res = run([dir]);
        expect(res.exitCode).toBe(2);
        expect(res.err.join("\n")).toContain(`${dir}: no *.yaml or *.yml file`);
        expect(res.out).toEqual([]);
    });

    test("a --meshed-namespace that matches no object is pointed out", () => {
        const res = run([rel("kube-prometheus-stack.yaml"), "--meshed-namespace", "monitorng", "--meshed-namespace", "monitoring"]);
        expect(res.notes).toEqual([expect.stringContaining("--meshed-namespace monitorng matches no object in the input")]);
        expect(res.out).toContain("note: --meshed-namespace monitorng matches no object in the input (a typo, or the wrong namespace?)");
        expect(res.exitCode).toBe(1);
    });

    test("a --meshed-namespace the injector never sees is pointed out, and does not mesh anything", () => {
        const p = write(
            "ks.yaml",
            "apiVersion: batch/v1\nkind: Job\nmetadata: {name: j, namespace: kube-system}\nspec: {template: {spec: {containers: [{name: c, image: x, command: [x]}]}}}\n",
        );
        const res = run([p, "--meshed-namespace", "kube-system"]);
        expect(res.findings).toEqual([]);
        expect(res.exitCode).toBe(0);
        expect(res.out.join(" ")).toContain('note: --meshed-namespace kube-system: Linkerd\'s proxy injector never sees namespace "kube-system"');
    });

    test("objects without a namespace: a note says they were checked as default, and how to change it", () => {
        const p = write(
            "nons.yaml",
            "apiVersion: batch/v1\nkind: Job\nmetadata: {name: j}\nspec: {template: {spec: {containers: [{name: c, image: x, command: [x]}]}}}\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: r}\n",
        );
        const res = run([p]);
        const note = res.out.slice(res.out.findIndex((l) => l.startsWith("note: "))).join(" ");
        expect(note).toContain('1 object(s) set no metadata.namespace (Job/j) and were checked as namespace "default"');
        expect(note).toContain("--default-namespace");
        const explicit = run([p, "--default-namespace", "apps", "--meshed-namespace", "apps"]);
        expect(explicit.notes).toEqual([]);
        expect(explicit.findings.map((f) => `${f.namespace}/${f.name}`)).toEqual(["apps/j"]);
    });

    test("meshed namespaces from --config are labelled with the config file, not --meshed-namespace", () => {
        const cfg = write("cfg-ns.json", JSON.stringify({ "linkerd-job-must-complete": { meshedNamespaces: ["monitoring"] } }));
        const res = run([rel("kube-prometheus-stack.yaml"), "--config", cfg]);
        expect(res.findings[0].message).toContain(`from --config ${cfg} (meshedNamespaces)`);
        expect(res.findings[0].message).not.toContain("--meshed-namespace");
    });

    test("- reads standard input", () => {
        const text = fs.readFileSync(rel("list.yaml"), "utf8");
        const res = run(["-"], text);
        expect(res.heads).toEqual(["<stdin>: CronJob/apps/backup: linkerd-job-must-complete (mandatory)"]);
        expect(res.exitCode).toBe(1);
        expect(run(["-", "-"], text).exitCode).toBe(2);
    });
});

describe("--config is validated with the pack's schemas", () => {
    test.each([
        [
            { "linkerd-job-must-complete": { meshedNamespace: ["monitoring"] } },
            '"linkerd-job-must-complete.meshedNamespace": unknown key for this policy',
        ],
        [{ "linkerd-job-must-compete": "mandatory" }, '"linkerd-job-must-compete": no such policy in the pack'],
        [{ "linkerd-job-must-complete": "mandatroy" }, '"linkerd-job-must-complete": "mandatroy" is not an enforcement level'],
        [
            { "linkerd-job-must-complete": { enforcementLevel: "warn" } },
            '"linkerd-job-must-complete.enforcementLevel": "warn" is not an enforcement level',
        ],
        [{ "linkerd-job-must-complete": { meshedNamespaces: "monitoring" } }, '"linkerd-job-must-complete.meshedNamespaces": must be array'],
        [
            { "linkerd-job-must-complete": { meshedNamespaces: ["Monitoring"] } },
            '"linkerd-job-must-complete.meshedNamespaces[0]": must match pattern',
        ],
        [{ "linkerd-viz-dns-rebinding": { meshedNamespaces: ["a"] } }, '"linkerd-viz-dns-rebinding.meshedNamespaces": unknown key'],
        [{ all: { enforcementLevel: "advisory", meshedNamespaces: ["a"] } }, '"all.meshedNamespaces": only enforcementLevel applies to all policies'],
        [{ all: "strict" }, '"all": "strict" is not an enforcement level'],
    ])("%j is refused (exit 2), naming the key", (config, says) => {
        const cfg = write("bad-cfg.json", JSON.stringify(config));
        const res = run([rel("namespaces.yaml"), "--config", cfg]);
        expect(res.exitCode).toBe(2);
        expect(res.err.join("\n")).toContain(`${cfg}: invalid policy config`);
        expect(res.err.join("\n")).toContain(says);
        expect(res.out).toEqual([]);
    });

    test("the example config file is valid; all and remediate work as the engine reads them", () => {
        expect(run([rel("namespaces.yaml"), "--config", path.join(ROOT, "policy", "config.example.json")]).exitCode).toBe(0);
        const cfg = write("all.json", JSON.stringify({ all: "advisory", "linkerd-hostnetwork-not-meshed": "remediate" }));
        const res = run([FIX, "--config", cfg]);
        expect(res.findings.map((f) => `${f.rule}=${f.enforcement}`)).toContain("linkerd-hostnetwork-not-meshed=mandatory");
        expect(res.findings.filter((f) => f.rule === "linkerd-job-must-complete").map((f) => f.enforcement)).toEqual(["advisory", "advisory"]);
    });
});

describe("exit codes", () => {
    test("0 when only advisory rules are violated (findings still printed)", () => {
        const res = run([rel("eck.yaml"), rel("traefik.yaml"), rel("namespaces.yaml")]);
        expect(res.exitCode).toBe(0);
        expect(res.heads).toHaveLength(1);
        // ECK's token-less pods are injected with token projection (the default); without it they are not.
        const noProjection = run([rel("eck.yaml"), rel("namespaces.yaml"), "--no-service-account-token-projection"]);
        expect(noProjection.heads).toEqual([`${rel("eck.yaml")}: Elasticsearch/logging/efk: linkerd-automount-token-disabled (advisory)`]);
    });

    test("0 and only the summary on good manifests", () => {
        const res = run([rel("namespaces.yaml")]);
        expect(res.exitCode).toBe(0);
        expect(res.out).toEqual(["policy:check: 1 file(s), 3 object(s), 0 mandatory and 0 advisory violation(s)"]);
    });

    test("without the Namespace objects the monitoring Job is fine, unless --meshed-namespace says so", () => {
        expect(run([rel("kube-prometheus-stack.yaml")]).exitCode).toBe(0);
        const res = run([rel("kube-prometheus-stack.yaml"), "--meshed-namespace", "monitoring"]);
        expect(res.exitCode).toBe(1);
        expect(res.findings[0].message).toContain("from --meshed-namespace");
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
        expect(run([p, "--meshed-namespace", "a", "--meshed-namespace", "b"]).findings).toHaveLength(2);
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
        expect(res.findings[0].message).toContain("config.linkerd.io/proxy-admin-shutdown: enabled");
        expect(run([p, "--meshed-namespace", "apps", "--linkerd-version", "edge-24.8.2", "--shutdown-endpoint-enabled"]).exitCode).toBe(0);
    });

    test("--config takes the policy pack's config file (levels and properties)", () => {
        const cfg = write(
            "cfg.json",
            JSON.stringify({ "linkerd-job-must-complete": { enforcementLevel: "advisory", meshedNamespaces: ["monitoring"] } }),
        );
        const res = run([rel("kube-prometheus-stack.yaml"), "--config", cfg]);
        expect(res.exitCode).toBe(0);
        expect(res.findings.map((f) => f.enforcement)).toEqual(["advisory"]);
    });

    test("2 on invalid YAML, naming the file and the document", () => {
        const p = write("broken.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\nkind: [\n");
        const res = run([p]);
        expect(res.exitCode).toBe(2);
        expect(res.err.join("\n")).toContain(`${p}: document 2 (from line 5): invalid YAML at line 6, column 1: `);
    });

    test("line numbers of late documents in a large file", () => {
        const docs = Array.from({ length: 3000 }, (_, i) => `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c${i}, namespace: a}\n`);
        const p = write("late.yaml", docs.join("---\n") + "---\nkind: [\n");
        // 3000 documents of 3 lines, each followed by a --- line: document 3001's content starts on line 3000 * 4 + 1.
        expect(run([p]).err.join("\n")).toContain(`${p}: document 3001 (from line 12001): invalid YAML at line 12002`);
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
        expect(run([rel("eck.yaml"), "--format", "json"]).exitCode).toBe(2);
    });

    test("an input without any object (empty files, comment-only documents) exits 2: nothing was checked", () => {
        const res = run([write("empty.yaml", ""), write("comments.yaml", "# nothing\n---\n# still nothing\n")]);
        expect(res.exitCode).toBe(2);
        expect(res.err).toEqual(["policy:check: the input holds no Kubernetes objects: nothing was checked"]);
        // An empty file beside objects is fine.
        expect(run([write("empty2.yaml", ""), rel("namespaces.yaml")]).exitCode).toBe(0);
    });

    test("empty standard input (a failed `helm template x /nonexistent | policy:check -`) exits 2", () => {
        const res = run(["-"], "");
        expect(res.exitCode).toBe(2);
        expect(res.err[0]).toMatch(/no Kubernetes objects: nothing was checked \(standard input was empty: did the command before the pipe/);
        expect(res.out).toEqual([]);
    });
});

test("--help lists every option and the exit codes 0, 1 and 2", () => {
    const res = run(["--help"]);
    expect(res.exitCode).toBe(0);
    const help = res.out.join("\n");
    for (const name of Object.keys(POLICY_CHECK_COMMAND.options)) expect(help).toContain(`--${name}`);
    expect(help).toMatch(/Exit codes:\n\s+0\s+success\n\s+1\s+a mandatory rule is violated[^\n]*\n\s+2\s+bad usage/);
    expect(help).toContain("- for standard input");
});

test("npm run policy:check, as a user runs it (stdin, stdout order, exit codes)", () => {
    const r = spawnSync("npm", ["run", "-s", "policy:check", "--", FIX, "--format", "line"], { cwd: ROOT, encoding: "utf8" });
    expect(r.status).toBe(1);
    const lines = r.stdout.trim().split("\n");
    expect(lines).toHaveLength(5);
    expect(lines[0]).toMatch(
        /kube-prometheus-stack\.yaml: Job\/monitoring\/kube-prometheus-stack-admission-create: linkerd-job-must-complete \(mandatory\): /,
    );
    expect(lines[4]).toMatch(/^policy:check: 6 file\(s\)/);
    expect(r.stderr).toBe("");
    const piped = spawnSync("npm", ["run", "-s", "policy:check", "--", "-"], {
        cwd: ROOT,
        encoding: "utf8",
        input: fs.readFileSync(rel("list.yaml"), "utf8"),
    });
    expect(piped.status).toBe(1);
    expect(piped.stdout).toContain("<stdin>: CronJob/apps/backup: linkerd-job-must-complete (mandatory)");
    const bad = write("bad-cli.yaml", "a: [\n");
    const r2 = spawnSync("npm", ["run", "-s", "policy:check", "--", bad], { cwd: ROOT, encoding: "utf8" });
    expect(r2.status).toBe(2);
    expect(r2.stderr).toContain(`${bad}: document 1`);
});

describe("as a user pipes it", () => {
    const npmRun = (shell: string) => spawnSync("bash", ["-c", shell], { cwd: ROOT, encoding: "utf8" });

    test("a failed command before the pipe (`helm template x /nonexistent | policy:check -`) exits 2, not 0", () => {
        const r = npmRun(`(echo 'Error: path "/nonexistent" not found' >&2; exit 1) | npm run -s policy:check -- -; echo "exit=\${PIPESTATUS[1]}"`);
        expect(r.stdout.trim().split("\n").pop()).toBe("exit=2");
        expect(r.stderr).toContain("policy:check: the input holds no Kubernetes objects: nothing was checked (standard input was empty");
    });

    test("`| head -1` ends it quietly with the exit code of its findings (1 here), never a stack trace", () => {
        const jobs = Array.from(
            { length: 1500 },
            (_, i) =>
                `apiVersion: batch/v1\nkind: Job\nmetadata: {name: job-${i}, namespace: apps}\nspec:\n  template:\n    spec:\n      restartPolicy: Never\n      containers: [{name: c, image: "busybox:1.36", command: [sh, -c, "true"]}]\n`,
        );
        const file = write(
            "many-jobs.yaml",
            [`apiVersion: v1\nkind: Namespace\nmetadata: {name: apps, annotations: {linkerd.io/inject: enabled}}\n`, ...jobs].join("---\n"),
        );
        const r = npmRun(`npm run -s policy:check -- ${file} | head -1; echo "exit=\${PIPESTATUS[0]}"`);
        const lines = r.stdout.trim().split("\n");
        expect(lines[0]).toBe(`${file}: Job/apps/job-0: linkerd-job-must-complete (mandatory)`);
        expect(lines[1]).toBe("exit=1");
        expect(r.stderr).toBe("");
        const clean = npmRun(`npm run -s policy:check -- ${rel("namespaces.yaml")} | head -0; echo "exit=\${PIPESTATUS[0]}"`);
        expect(clean.stdout.trim()).toBe("exit=0");
        expect(clean.stderr).toBe("");
    });
});

describe("notes for contradictions", () => {
    test("a Namespace object in the input that disables injection wins over --meshed-namespace, and a note says so", () => {
        const ns = write(
            "ns-disabled.yaml",
            "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: apps\n  annotations:\n    linkerd.io/inject: disabled\n",
        );
        const res = run([ns, rel("list.yaml"), "--meshed-namespace", "apps"]);
        expect(res.notes).toContainEqual(
            expect.stringMatching(/^--meshed-namespace apps is contradicted by the input: Namespace apps sets linkerd.io\/inject: disabled/),
        );
    });

    test("--native-sidecar with --linkerd-version 2.14 is noted as ignored", () => {
        const res = run([rel("list.yaml"), "--native-sidecar", "--linkerd-version", "2.14"]);
        expect(res.notes).toContainEqual(expect.stringMatching(/^nativeSidecar is ignored: Linkerd 2\.14 has no native sidecars \(2\.15\+\)/));
        expect(res.exitCode).toBe(1);
    });

    test("Traefik in the input without the proxy: its routes are not reported as an open relay, and a note says why", () => {
        const traefik = write(
            "traefik-unmeshed.yaml",
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: traefik, namespace: traefik}\nspec:\n  template:\n    metadata:\n      labels: {app.kubernetes.io/name: traefik}\n    spec:\n      containers: [{name: traefik, image: 'docker.io/traefik:v3.7.1'}]\n",
        );
        const res = run([rel("traefik.yaml"), rel("namespaces.yaml"), traefik]);
        expect(res.findings.filter((f) => f.rule === "linkerd-traefik-dst-override")).toEqual([]);
        expect(res.notes).toContainEqual(
            expect.stringMatching(/^Traefik in the input \(Deployment\/traefik\/traefik: .*\) does not carry the Linkerd proxy in ingress mode/),
        );
        // Meshed in ingress mode, the same routes are checked.
        const meshed = write(
            "traefik-meshed.yaml",
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: traefik, namespace: traefik}\nspec:\n  template:\n    metadata:\n      labels: {app.kubernetes.io/name: traefik}\n      annotations: {linkerd.io/inject: ingress}\n    spec:\n      containers: [{name: traefik, image: 'docker.io/traefik:v3.7.1'}]\n",
        );
        expect(run([rel("traefik.yaml"), rel("namespaces.yaml"), meshed]).findings.map((f) => f.rule)).toEqual(["linkerd-traefik-dst-override"]);
    });
});
