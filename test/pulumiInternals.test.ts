/**
 * The private parts of @pulumi/pulumi the offline render relies on (lib/pulumiInternals.ts), checked against the
 * installed SDK: when an upgrade changes one, this fails naming the SDK version and what changed.
 */
import * as pulumi from "@pulumi/pulumi";
import { PULUMI_SDK_VERSION, resourceName } from "../lib/pulumiInternals";
import { renderFunction } from "../lib/render";

const sdk = `@pulumi/pulumi ${PULUMI_SDK_VERSION}`;

class Parent extends pulumi.ComponentResource {
    constructor(name: string, opts?: pulumi.ComponentResourceOptions) {
        super("test:index:Parent", name, {}, opts);
    }
}

class Thing extends pulumi.CustomResource {
    constructor(name: string, props: pulumi.Inputs, opts?: pulumi.CustomResourceOptions) {
        super("test:index:Thing", name, props, opts);
    }
}

test(`${sdk}: the monitor's requests, resource names, explicit dependsOn and parents' transforms reach the render`, async () => {
    let named: string | undefined;
    const result = await renderFunction(() => {
        const transform: pulumi.ResourceTransform = (args) =>
            args.type === "test:index:Thing" && args.name === "second"
                ? { props: args.props, opts: { ...args.opts, import: "imported-id", ignoreChanges: ["a"] } }
                : undefined;
        const parent = new Parent("parent", { transforms: [transform] });
        const first = new Thing("first", { a: "1", secret: pulumi.secret("s") }, { parent });
        named = resourceName(first);
        new Thing("second", { a: "2" }, { parent, dependsOn: [first] });
        return { out: "value" };
    });
    expect({ sdk, resourceName: named }).toEqual({ sdk, resourceName: "first" });
    expect({ sdk, resources: result.resources }).toEqual({
        sdk,
        resources: [
            { type: "test:index:Parent", name: "parent", parent: null, dependsOn: [], inputs: {} },
            { type: "test:index:Thing", name: "first", parent: "parent", dependsOn: [], inputs: { a: "1", secret: "[secret]" } },
            {
                type: "test:index:Thing",
                name: "second",
                parent: "parent",
                dependsOn: ["first"],
                inputs: { a: "2" },
                importId: "imported-id",
                ignoreChanges: ["a"],
            },
        ],
    });
    expect({ sdk, outputs: result.outputs }).toEqual({ sdk, outputs: { out: "value" } });
});
