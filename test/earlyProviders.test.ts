/**
 * The random and command providers are registered first (lib/earlyProviders.ts), and carry the engine's
 * default-provider names of the pinned SDK versions as aliases, so a stack made while the program used the
 * default providers keeps its password and Longhorn steps (checked with the real engine: `up` over such a
 * stack reports every resource unchanged).
 */
import * as fs from "fs";
import * as path from "path";
import { defaultProviderName } from "../lib/earlyProviders";
import { REPO, renderWith } from "./support/render";

const KUBE = { kubeconfig: "/tmp/picluster-test-kubeconfig", context: "picluster" };

test("the alias is the engine's default-provider name of each pinned SDK version", () => {
    const pinned = (JSON.parse(fs.readFileSync(path.join(REPO, "package.json"), "utf8")) as { dependencies: Record<string, string> }).dependencies;
    // The engine names a default provider `default_<major>_<minor>_<patch>` (then any pre-release and build parts).
    expect(defaultProviderName(pinned["@pulumi/random"])).toBe(`default_${pinned["@pulumi/random"].split(".").join("_")}`);
    expect(defaultProviderName("4.21.2")).toBe("default_4_21_2");
    expect(defaultProviderName("1.3.0-alpha.1")).toBe("default_1_3_0_alpha_1");
});

test("with the defaults, the two providers are the first registrations, at the stack root", async () => {
    const { resources } = await renderWith({ kubernetes: KUBE });
    expect(resources.slice(0, 2).map((r) => [r.type, r.name, r.parent])).toEqual([
        ["pulumi:providers:random", "linkerd-random", null],
        ["pulumi:providers:command", "linkerd-command", null],
    ]);
});

test("a provider whose package the configuration does not use is not registered", async () => {
    const { resources } = await renderWith({ kubernetes: KUBE, longhorn: { enabled: false }, viz: { enabled: false } });
    expect(resources.filter((r) => r.type.startsWith("pulumi:providers:") && r.type !== "pulumi:providers:kubernetes")).toEqual([]);
    expect(resources.some((r) => r.type.startsWith("random:") || r.type.startsWith("command:"))).toBe(false);
});
