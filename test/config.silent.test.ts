/**
 * No silent configuration: every combination that used to be accepted without a word is an error or a
 * warning naming its key path (and, for the stack file itself, the file).
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ConfigError, ConfigProblem, loadConfig, RawStackConfig } from "../lib/config";
import { stackFileProblems } from "../lib/config/stackFile";
import { makeRoot } from "./support/certs";
import { REPO } from "./support/render";
import * as pulumi from "@pulumi/pulumi";
import { readStackConfig } from "../lib/config/stack";

const PROJECT = "picluster-linkerd";

function problemsOf(raw: RawStackConfig): ConfigProblem[] {
    try {
        loadConfig(raw);
        return [];
    } catch (e) {
        if (e instanceof ConfigError) return [...e.problems];
        throw e;
    }
}
const problemAt = (raw: RawStackConfig, key: string) => problemsOf(raw).find((p) => p.key === key);
const warningAt = (raw: RawStackConfig, key: string) => loadConfig(raw).warnings.find((w) => w.key === key);

describe("a stack file without the top-level config: key", () => {
    test("keys beside config: are named with the file, as Pulumi would ignore them", () => {
        const problems = stackFileProblems({ "picluster-linkerd:linkerd": { channel: "edge" }, config: {} }, "Pulumi.dev.yaml", PROJECT);
        expect(problems).toEqual([
            `Pulumi.dev.yaml: "picluster-linkerd:linkerd" is at the top level, not under "config:": Pulumi ignores it and the defaults would be deployed; indent it under "config:"`,
        ]);
        expect(stackFileProblems({ config: {}, secretsprovider: "passphrase", encryptionsalt: "x" }, "f", PROJECT)).toEqual([]);
        expect(stackFileProblems({ confg: {} }, "Pulumi.dev.yaml", PROJECT)[0]).toMatch(/unknown top-level key "confg"/);
    });

    test("the program refuses it before anything is registered", () => {
        const problem = problemAt({ values: {}, fileProblems: [{ key: "Pulumi.dev.yaml", message: "m" }] }, "Pulumi.dev.yaml");
        expect(problem?.message).toBe("m");
    });

    test("npm run render refuses it, naming the file and the key, and writes nothing", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "picluster-stackfile-"));
        try {
            const file = path.join(dir, "Pulumi.dev.yaml");
            fs.writeFileSync(file, "picluster-linkerd:linkerd:\n  channel: edge\n  version: edge-26.8.3\n");
            const out = path.join(dir, "out");
            const res = spawnSync(
                path.join(REPO, "node_modules/.bin/ts-node"),
                ["--transpile-only", path.join(REPO, "cli/render.ts"), "--stack", "dev", "--stack-file", file, "--out", out],
                {
                    cwd: REPO,
                    encoding: "utf8",
                    env: { ...process.env, PATH: `${path.join(REPO, "node_modules/.bin")}${path.delimiter}${process.env.PATH}` },
                },
            );
            expect(res.status).toBe(1);
            expect(res.stderr).toContain(`${file}: "picluster-linkerd:linkerd" is at the top level, not under "config:"`);
            expect(fs.existsSync(out)).toBe(false);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});

describe("each silent case is an error or a warning at its key", () => {
    test("kubernetes:context (the provider's own key) is used, and a conflicting ours is refused", () => {
        const kubeconfig = path.join(os.tmpdir(), "picluster-silent-kubeconfig");
        const c = loadConfig({ values: { kubernetes: { kubeconfig } }, provider: { context: "pi" } });
        expect(c.kubernetes.context).toBe("pi");
        expect(
            problemAt({ values: { kubernetes: { kubeconfig, context: "a" } }, provider: { context: "b" } }, `${PROJECT}:kubernetes.context`)?.message,
        ).toMatch(/"a" differs from kubernetes:context "b"/);
    });

    test("an inline PEM that is not a certificate", () => {
        const raw = {
            values: {
                identity: {
                    trustAnchor: { mode: "pem", source: "inline", pem: "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n" },
                },
            },
        };
        expect(problemAt(raw, `${PROJECT}:identity.trustAnchor.pem`)?.message).toMatch(/not a readable X\.509 certificate/);
    });

    test("cross-key errors are reported together with schema errors", () => {
        const problems = problemsOf({
            values: { identity: { issuer: { duration: "soon" } }, ingress: { controller: "traefik" }, viz: { dashboard: { exposure: "nginx" } } },
        });
        expect(problems.map((p) => p.key)).toEqual(
            expect.arrayContaining([`${PROJECT}:identity.issuer.duration`, `${PROJECT}:viz.dashboard.exposure`]),
        );
    });

    test("viz.dashboard.exposure nginx with ingress.controller traefik", () => {
        expect(problemAt({ values: { viz: { dashboard: { exposure: "nginx" } } } }, `${PROJECT}:viz.dashboard.exposure`)?.message).toMatch(
            /"nginx" needs the NGINX ingress controller, but ingress.controller is "traefik"/,
        );
    });

    test("ingress.controller none with the Traefik IngressRoute of the dashboard set explicitly", () => {
        expect(
            problemAt(
                { values: { ingress: { controller: "none" }, viz: { dashboard: { exposure: "traefik" } } } },
                `${PROJECT}:viz.dashboard.exposure`,
            )?.message,
        ).toMatch(/"traefik" needs the Traefik ingress controller, but ingress.controller is "none".*port-forward/);
    });

    test.each(["nginx", "none", "traefik"])("viz.dashboard.exposure follows ingress.controller %s unless set", (controller) => {
        const c = loadConfig({ values: { ingress: { controller } } });
        expect(c.viz.dashboard.exposure).toBe(controller);
        expect(loadConfig({ values: { ingress: { controller }, viz: { dashboard: { exposure: "none" } } } }).viz.dashboard.exposure).toBe("none");
    });

    test.each([
        ["velero", /velero chart runs its upgrade-CRDs and cleanup Jobs/],
        ["ingress-nginx", /admission-webhook Jobs/],
    ])("%s in meshing.namespaces warns that its chart's Jobs would hang", (ns, message) => {
        const w = warningAt({ values: { meshing: { namespaces: ["monitoring", ns] } } }, `${PROJECT}:meshing.namespaces[1]`);
        expect(w?.message).toMatch(message);
    });

    test("edge releases without kubernetes.version warn who installs the Gateway API CRDs", () => {
        const w = warningAt({ values: { linkerd: { channel: "edge", version: "edge-26.8.3" } } }, `${PROJECT}:linkerd.gatewayApiCrds`);
        expect(w?.message).toMatch(/linkerd-crds installs them \(installGatewayAPI\).*set kubernetes.version or linkerd.gatewayApiCrds to "cluster"/);
    });
});

describe("every key of every namespace in a stack file is checked", () => {
    const file = "Pulumi.dev.yaml";
    const problems = (config: Record<string, unknown>) => stackFileProblems({ config }, file, PROJECT);

    test("a dotted key (pulumi config set without --path) is an error naming the key and the --path command", () => {
        expect(problems({ "picluster-linkerd:linkerd.channel": "edge" })).toEqual([
            `${file}: "picluster-linkerd:linkerd.channel": a key named "linkerd.channel", not the path linkerd -> …: this is what ` +
                "`pulumi config set` writes without --path, and the program never reads it. Remove it (`pulumi config rm linkerd.channel`) " +
                "and run `pulumi config set --path linkerd.channel edge`",
        ]);
        expect(problems({ "picluster-linkerd:meshing.namespaces[0]": "apps" })[0]).toContain(
            "`pulumi config set --path 'meshing.namespaces[0]' apps`",
        );
    });

    test("a misspelt project prefix is an error naming the key, the right name and the --path commands", () => {
        const [p] = problems({ "picluster-linkred:viz": { enabled: false } });
        expect(p).toBe(
            `${file}: "picluster-linkred:viz": namespace "picluster-linkred" is not this project's ("picluster-linkerd"), so Pulumi hands the key ` +
                `to no one and the program would deploy without it. Rename it to "picluster-linkerd:viz", or remove it and run ` +
                "`pulumi config set --path viz.enabled false`",
        );
        expect(problems({ "Picluster-Linkerd:linkerd": { channel: "edge", version: "edge-26.8.3" } })[0]).toContain(
            "`pulumi config set --path linkerd.channel edge`, `pulumi config set --path linkerd.version edge-26.8.3`",
        );
        expect(problems({ "linkerd:vizDashboardPassword": { secure: "v1:abc" } })[0]).toContain(
            "`pulumi config set --secret vizDashboardPassword <value>`",
        );
    });

    test("the kubernetes provider's kubeconfig and context, and Pulumi's own keys, are accepted", () => {
        expect(
            problems({
                "kubernetes:kubeconfig": "~/.kube/config",
                "kubernetes:context": "pi",
                "pulumi:tags": { team: "home" },
                "picluster-linkerd:viz": { enabled: false },
                vizDashboardPassword: { secure: "v1:abc" },
            }),
        ).toEqual([]);
    });

    test("other kubernetes provider keys are ignored by the program's own provider: an error", () => {
        expect(problems({ "kubernetes:namespace": "apps" })[0]).toMatch(
            /"kubernetes:namespace": configures Pulumi's default kubernetes provider, which this program never uses/,
        );
    });

    test("a key of a namespace nothing here reads is an error", () => {
        expect(problems({ "aws:region": "eu-west-1" })[0]).toMatch(/"aws:region": namespace "aws" is read by nothing in this program/);
    });

    test("an unknown key of the project suggests the closest one", () => {
        expect(problemAt({ values: {}, presentKeys: ["vizz"] }, `${PROJECT}:vizz`)?.message).toMatch(/did you mean "viz"\?/);
        expect(problemAt({ values: { linkerd: { chanel: "edge" } } }, `${PROJECT}:linkerd.chanel`)?.message).toMatch(
            /unknown key \(did you mean "channel"\? expected one of channel, version,/,
        );
    });

    test.each([
        ["render", ["cli/render.ts"]],
        ["check", ["cli/check.ts"]],
    ])("npm run %s refuses a stack file with such keys, naming the file and the key", (_, args) => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "picluster-keys-"));
        try {
            const stackFile = path.join(dir, "Pulumi.dev.yaml");
            fs.writeFileSync(stackFile, "config:\n  picluster-linkerd:linkerd.channel: edge\n  picluster-linkred:viz:\n    enabled: false\n");
            const outArgs = args[0] === "cli/render.ts" ? ["--out", path.join(dir, "out")] : [];
            const res = spawnSync(
                path.join(REPO, "node_modules/.bin/ts-node"),
                ["--transpile-only", path.join(REPO, args[0]), ...outArgs, "--stack", "dev", "--stack-file", stackFile],
                {
                    cwd: REPO,
                    encoding: "utf8",
                    env: { ...process.env, PATH: `${path.join(REPO, "node_modules/.bin")}${path.delimiter}${process.env.PATH}` },
                },
            );
            expect(res.status).toBe(args[0] === "cli/render.ts" ? 1 : 2);
            expect(res.stderr).toContain(`${stackFile}: "picluster-linkerd:linkerd.channel": a key named "linkerd.channel"`);
            expect(res.stderr).toContain(`${stackFile}: "picluster-linkred:viz": namespace "picluster-linkred" is not this project's`);
            expect(fs.existsSync(path.join(dir, "out"))).toBe(false);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});

describe("refused at preview, naming the key", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "picluster-anchors-"));
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
    const inline = (pem: string) => ({ values: { identity: { trustAnchor: { mode: "pem", source: "inline", pem } } } });

    test.each([
        ["rsa", /its key is RSA, but Linkerd requires ECDSA P-256.*`linkerd check` fails it after the install/],
        ["p384", /its key is ECDSA on secp384r1, but Linkerd requires the P-256 curve/],
    ] as const)("a trust anchor with a %s key", (key, message) => {
        const root = makeRoot(dir, { key });
        expect(problemAt(inline(root.crt), `${PROJECT}:identity.trustAnchor.pem`)?.message).toMatch(message);
    });

    test("an ECDSA P-256 CA is accepted", () => {
        expect(problemsOf(inline(makeRoot(dir, { key: "p256" }).crt))).toEqual([]);
    });

    test.each([["longhorn-system"], ["storage"]])("Longhorn's namespace (%s) in meshing.namespaces", (ns) => {
        const raw = { values: { meshing: { namespaces: ["monitoring", ns] }, longhorn: { namespace: ns } } };
        expect(problemAt(raw, `${PROJECT}:meshing.namespaces[1]`)?.message).toMatch(
            new RegExp(`"${ns}" is Longhorn's namespace, which must never be meshed implicitly.*longhorn-manager and longhorn-ui`),
        );
    });

    test("longhorn-system is refused even when Longhorn is configured elsewhere", () => {
        const raw = { values: { meshing: { namespaces: ["longhorn-system"] }, longhorn: { namespace: "storage" } } };
        expect(problemAt(raw, `${PROJECT}:meshing.namespaces[0]`)?.message).toMatch(/Longhorn's namespace/);
    });
});

describe("warned", () => {
    test("a plain-text vizDashboardPassword, with the command that encrypts it", () => {
        const raw: RawStackConfig = {
            values: {},
            secrets: { vizDashboardPassword: "correct horse battery" },
            plainTextSecrets: ["vizDashboardPassword"],
        };
        expect(warningAt(raw, `${PROJECT}:vizDashboardPassword`)?.message).toMatch(
            /stored in plain text in the stack file.*`pulumi config set --secret vizDashboardPassword <value>`/,
        );
        expect(
            warningAt({ values: {}, secrets: { vizDashboardPassword: "correct horse battery" } }, `${PROJECT}:vizDashboardPassword`),
        ).toBeUndefined();
    });

    test("the program reads which secret keys the engine got in plain text", () => {
        pulumi.runtime.setAllConfig({ [`${PROJECT}:vizDashboardPassword`]: "correct horse battery" }, []);
        expect(readStackConfig().plainTextSecrets).toEqual(["vizDashboardPassword"]);
        pulumi.runtime.setAllConfig({ [`${PROJECT}:vizDashboardPassword`]: "correct horse battery" }, [`${PROJECT}:vizDashboardPassword`]);
        expect(readStackConfig().plainTextSecrets).toEqual([]);
    });
});

describe("every combination the README calls refused is refused, naming its key", () => {
    const readme = fs.readFileSync(path.join(REPO, "README.md"), "utf8").replace(/\s+/g, " ");
    const edge = (version: string) => ({ channel: "edge", version });
    const cases: [string, Record<string, unknown>, string][] = [
        ["native sidecars before 2.15", { controlPlane: { nativeSidecar: true } }, "controlPlane.nativeSidecar"],
        ["disabling the shutdown endpoint before 2.16", { controlPlane: { enableShutdownEndpoint: false } }, "controlPlane.enableShutdownEndpoint"],
        ["tracing on releases with neither linkerd-jaeger nor `proxy.tracing`", { linkerd: edge("edge-25.10.3") }, "jaeger.enabled"],
        ["a 2.20 release on Kubernetes below 1.31", { linkerd: edge("edge-26.8.3"), kubernetes: { version: "1.30" } }, "linkerd.version"],
        ["`renewBefore` not below `duration`", { identity: { issuer: { duration: "24h", renewBefore: "24h" } } }, "identity.issuer.renewBefore"],
        ["meshing a namespace the proxy injector never sees", { meshing: { namespaces: ["kube-system"] } }, "meshing.namespaces[0]"],
        ["Longhorn's namespace", { meshing: { namespaces: ["longhorn-system"] } }, "meshing.namespaces[0]"],
        ["a trust anchor that is not ECDSA P-256", {}, "identity.trustAnchor.pem"],
        [
            "`manageK3sHelmChartConfig: true`",
            { ingress: { traefik: { manageK3sHelmChartConfig: true } } },
            "ingress.traefik.manageK3sHelmChartConfig",
        ],
    ];
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "picluster-refused-"));
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

    test.each(cases)("%s", (claim, values, key) => {
        expect(readme).toContain(claim);
        const raw =
            key === "identity.trustAnchor.pem"
                ? { values: { identity: { trustAnchor: { mode: "pem", source: "inline", pem: makeRoot(dir, { key: "rsa" }).crt } } } }
                : { values };
        expect(problemAt(raw, `${PROJECT}:${key}`)).toBeDefined();
    });
});
