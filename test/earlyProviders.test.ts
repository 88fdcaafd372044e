/**
 * The providers are registered first (lib/earlyProviders.ts), with aliases to the URNs stacks were made
 * with (the kubernetes provider under the composition root; random and command as the engine's default
 * providers of the pinned SDK versions), so nothing that used them is replaced: the previous-release e2e
 * updates a 0.1.0 stack with the real engine and finds nothing replaced or deleted.
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

test("with the defaults, the three providers sit at the stack root, not under the composition root", async () => {
    const { resources } = await renderWith({ kubernetes: KUBE });
    const providers = resources.filter((r) => r.type.startsWith("pulumi:providers:"));
    expect(providers.map((r) => [r.type, r.name, r.parent]).sort()).toEqual([
        ["pulumi:providers:command", "linkerd-command", null],
        ["pulumi:providers:kubernetes", "linkerd-kubernetes", null],
        ["pulumi:providers:random", "linkerd-random", null],
    ]);
});

test("a provider whose package the configuration does not use is not registered", async () => {
    const { resources } = await renderWith({ kubernetes: KUBE, longhorn: { enabled: false }, viz: { enabled: false } });
    expect(resources.filter((r) => r.type.startsWith("pulumi:providers:")).map((r) => r.name)).toEqual(["linkerd-kubernetes"]);
    expect(resources.some((r) => r.type.startsWith("random:") || r.type.startsWith("command:"))).toBe(false);
});
