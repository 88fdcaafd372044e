/**
 * The config schemas the pack declares are what the engine validates `--policy-pack-config` against
 * (it wraps each policy's properties in an object schema next to enforcementLevel). Checked here with ajv.
 */
import Ajv from "ajv";
import { policies } from "../../policy/policies";
import { POLICY_CONFIG_SCHEMAS, readPolicyConfig } from "../../policy/config";
import { ALL_RULES, parseLinkerdVersion } from "../../policy/rules";
import exampleConfig from "../../policy/config.example.json";

const ajv = new Ajv({ strict: false });

function validatorFor(name: string) {
    const p = policies.find((x) => x.name === name)!;
    return ajv.compile({
        type: "object",
        properties: { enforcementLevel: { type: "string", enum: ["advisory", "mandatory", "remediate", "disabled"] }, ...p.configSchema!.properties },
    });
}

test("every policy has a config schema and a unique name", () => {
    expect(new Set(policies.map((p) => p.name)).size).toBe(policies.length);
    for (const p of policies) expect(p.configSchema?.properties).toBeDefined();
});

test("one schema per rule: the pack declares the schemas policy:check --config validates against", () => {
    expect(Object.keys(POLICY_CONFIG_SCHEMAS).sort()).toEqual(ALL_RULES.map((r) => r.name).sort());
    expect(policies.map((p) => p.name).sort()).toEqual(ALL_RULES.map((r) => r.name).sort());
    for (const p of policies) expect(p.configSchema).toBe(POLICY_CONFIG_SCHEMAS[p.name]);
});

test.each([
    [
        "linkerd-job-must-complete",
        {
            enforcementLevel: "advisory",
            meshedNamespaces: ["monitoring", "logging"],
            linkerdVersion: "edge-24.8.2",
            shutdownEndpointEnabled: true,
            nativeSidecar: false,
        },
    ],
    ["linkerd-job-must-complete", { linkerdVersion: "stable-2.14.10" }],
    ["linkerd-job-must-complete", { linkerdVersion: "2024.8.2" }],
    ["linkerd-traefik-dst-override", { traefikIngressMode: false, traefikIngressClasses: ["traefik"], dstOverrideMiddlewares: ["apps/l5d"] }],
    ["linkerd-automount-token-disabled", { meshedNamespaces: ["logging"], defaultNamespace: "apps" }],
    ["linkerd-inject-ignored-namespace", { enforcementLevel: "advisory", defaultNamespace: "apps" }],
])("valid config for %s: %j", (name, config) => {
    const v = validatorFor(name);
    expect(v(config)).toBe(true);
});

test.each([
    ["linkerd-job-must-complete", { linkerdVersion: "latest" }],
    ["linkerd-job-must-complete", { meshedNamespaces: "monitoring" }],
    ["linkerd-job-must-complete", { meshedNamespaces: ["Not_A_Namespace"] }],
    ["linkerd-job-must-complete", { shutdownEndpointEnabled: "yes" }],
    ["linkerd-traefik-dst-override", { traefikIngressMode: "true" }],
])("invalid config for %s: %j", (name, config) => {
    expect(validatorFor(name)(config)).toBe(false);
});

test("the schema's version pattern accepts exactly what the rules parse", () => {
    const v = validatorFor("linkerd-job-must-complete");
    for (const s of ["2.14", "v2.16.1", "stable-2.14.10", "edge-24.8.2", "2026.8.3", "1.16.11", "enterprise-2.16.0", "edge-2.14", "2.x", "latest"]) {
        expect(v({ linkerdVersion: s })).toBe(parseLinkerdVersion(s) !== undefined);
    }
});

test("readPolicyConfig ignores wrong types defensively", () => {
    expect(readPolicyConfig({ meshedNamespaces: "x", linkerdVersion: 2, nativeSidecar: true })).toMatchObject({
        meshedNamespaces: undefined,
        linkerdVersion: undefined,
        nativeSidecar: true,
    });
});

test("policy/config.example.json is valid for every policy it configures", () => {
    const example = exampleConfig as Record<string, unknown>;
    for (const [name, value] of Object.entries(example)) {
        expect(policies.map((p) => p.name)).toContain(name);
        const config = typeof value === "string" ? { enforcementLevel: value } : value;
        const v = validatorFor(name);
        expect(v(config)).toBe(true);
    }
});
