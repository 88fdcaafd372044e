/**
 * examples/: one stack file per variant the README offers. Each is read as `npm run render --stack-file`
 * and `npm run check --stack-file` read a stack file (readStackConfigFiles: Pulumi.yaml's defaults, the
 * file's keys, every key of every namespace checked) and validated by the program's own configuration
 * validation (loadConfig, offline), so an example that a change of the configuration model breaks fails here.
 */
import * as fs from "fs";
import * as path from "path";
import { rawConfigFromStackFile } from "../cli/check";
import { loadConfig, PiclusterConfig } from "../lib/config";
import { readStackConfigFiles } from "../lib/render";

const ROOT = path.join(__dirname, "..");
const EXAMPLES = path.join(ROOT, "examples");
/** A clean environment: the examples name their kubeconfig and context, nothing comes from the shell. */
const ENV = {};

function load(variant: string): PiclusterConfig {
    const file = readStackConfigFiles(ROOT, "picluster", path.join(EXAMPLES, `Pulumi.${variant}.yaml`));
    return loadConfig(rawConfigFromStackFile(file), ENV);
}

/** The keys a variant is warned about at preview, on purpose (every other variant: none). */
const EXPECTED_WARNINGS: Record<string, string[]> = {
    // The notice that spans go through proxy.tracing: what the example is for on 2.20.
    edge: ["picluster-linkerd:jaeger.enabled"],
};

/** What each variant is for, as the README's table says. */
const VARIANTS: Record<string, (c: PiclusterConfig) => void> = {
    guide: (c) => {
        expect(c.linkerd.release.version).toBe("2.14.10");
        expect(c.identity.trustAnchor.mode).toBe("pem");
        expect([c.viz.enabled, c.monitoring.enabled, c.jaeger.enabled, c.longhorn.enabled]).toEqual([true, true, true, true]);
        expect(c.ingress.controller).toBe("traefik");
        expect(c.viz.dashboard.exposure).toBe("traefik");
        expect(c.meshing.namespaces).toEqual(["monitoring", "logging", "tracing"]);
        expect(c.adopt.enabled).toBe(false);
    },
    edge: (c) => {
        expect([c.linkerd.release.channel, c.linkerd.release.version]).toEqual(["edge", "edge-26.8.3"]);
        // No linkerd-jaeger on 2.20: the spans go through the control plane's proxy.tracing.
        expect(c.jaeger.enabled).toBe(false);
        expect(c.controlPlane.proxyTracing).toBeDefined();
    },
    bundle: (c) => {
        expect(c.identity.trustAnchor.mode).toBe("bundle");
    },
    nginx: (c) => {
        expect(c.ingress.controller).toBe("nginx");
        expect(c.viz.dashboard.exposure).toBe("nginx");
    },
    minimal: (c) => {
        expect([c.viz.enabled, c.monitoring.enabled, c.jaeger.enabled, c.longhorn.enabled]).toEqual([false, false, false, false]);
        expect(c.controlPlane.proxyTracing).toBeUndefined();
        expect(c.ingress.controller).toBe("none");
        expect(c.meshing.namespaces).toEqual([]);
    },
    adopt: (c) => {
        expect(c.adopt.enabled).toBe(true);
        expect(c.adopt.helmReleases).toEqual([
            "linkerd/linkerd-crds",
            "linkerd/linkerd-control-plane",
            "linkerd-viz/linkerd-viz",
            "linkerd-jaeger/linkerd-jaeger",
        ]);
    },
};

test("examples/ holds exactly the variants below, one stack file each", () => {
    expect(fs.readdirSync(EXAMPLES).sort()).toEqual(
        Object.keys(VARIANTS)
            .map((v) => `Pulumi.${v}.yaml`)
            .sort(),
    );
});

describe.each(Object.keys(VARIANTS))("examples/Pulumi.%s.yaml", (variant) => {
    test("is valid for the program, warned only where expected, and is the variant it says", () => {
        const config = load(variant);
        expect(config.warnings.map((w) => w.key)).toEqual(EXPECTED_WARNINGS[variant] ?? []);
        expect(config.kubernetes).toMatchObject({ context: "default" });
        VARIANTS[variant](config);
    });

    test("says how to use it", () => {
        const text = fs.readFileSync(path.join(EXAMPLES, `Pulumi.${variant}.yaml`), "utf8");
        expect(text).toContain(`--stack-file examples/Pulumi.${variant}.yaml`);
        expect(text).toContain(`cp examples/Pulumi.${variant}.yaml Pulumi.picluster.yaml`);
    });
});

test("a broken example would fail: an unknown key is refused by the same reading", () => {
    const file = readStackConfigFiles(ROOT, "picluster", path.join(EXAMPLES, "Pulumi.minimal.yaml"));
    const broken = { ...file, config: { ...file.config, "picluster-linkerd:viz": JSON.stringify({ enabeld: false }) } };
    expect(() => loadConfig(rawConfigFromStackFile(broken), ENV)).toThrow(/viz\.enabeld/);
});
