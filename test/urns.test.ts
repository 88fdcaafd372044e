/**
 * Every resource's URN, as the engine computes it (stack, project, the types of its parents and its own, its
 * name), for the configurations users run: a renamed resource or component type would make Pulumi replace
 * the resource (a Helm release reinstalled, a namespace deleted) unless an alias carries the old URN. The
 * inventory is test/fixtures/urns/<case>.json; regenerate one only together with an alias for every URN it
 * loses (`PICLUSTER_WRITE_URNS=1 npx jest test/urns.test.ts`).
 */
import * as fs from "fs";
import * as path from "path";
import { PROJECT } from "../lib/config";
import { longhornStepUrn } from "../check/longhorn";
import { RenderedResource } from "../lib/render";
import { renderWith } from "./support/render";

const STACK = "picluster";
const KUBE = { kubeconfig: "/tmp/picluster-test-kubeconfig", context: "picluster" };

/** The engine's URN of each rendered resource: parents are named by name in the render, so their types come from the render too. */
export function engineUrns(resources: readonly RenderedResource[]): string[] {
    // Parents are components (a component and a release may share a name, e.g. linkerd-control-plane).
    const byName = new Map(resources.filter((r) => r.type.startsWith("picluster:")).map((r) => [r.name, r]));
    const typeChain = (r: RenderedResource): string[] => {
        const parent = r.parent === null ? undefined : byName.get(r.parent);
        return [...(parent ? typeChain(parent) : []), r.type];
    };
    return resources
        .map((r) => `urn:pulumi:${STACK}::${PROJECT}::${typeChain(r).join("$")}::${r.name}${r.readId ? ` (read ${r.readId})` : ""}`)
        .sort();
}

const CASES: Record<string, Record<string, unknown>> = {
    defaults: { kubernetes: KUBE },
    "bundle-nginx-workloads": {
        kubernetes: KUBE,
        identity: { trustAnchor: { mode: "bundle" } },
        ingress: { controller: "nginx" },
        meshing: { workloads: [{ kind: "Deployment", namespace: "apps", name: "web" }] },
    },
    "edge-proxy-tracing": { kubernetes: KUBE, linkerd: { channel: "edge", version: "edge-26.8.3" }, viz: { dashboard: { exposure: "none" } } },
    "viz-password-no-longhorn": { kubernetes: KUBE, longhorn: { enabled: false }, monitoring: { dashboards: { enabled: false } } },
};

describe.each(Object.keys(CASES))("URNs stay stable: %s", (name) => {
    test("every resource keeps its URN", async () => {
        const secrets: Record<string, string> = name === "viz-password-no-longhorn" ? { vizDashboardPassword: "correct-horse-battery-staple" } : {};
        const urns = engineUrns((await renderWith(CASES[name], secrets)).resources);
        const file = path.join(__dirname, "fixtures", "urns", `${name}.json`);
        if (process.env.PICLUSTER_WRITE_URNS === "1") fs.writeFileSync(file, JSON.stringify(urns, null, 2) + "\n");
        expect(urns).toEqual(JSON.parse(fs.readFileSync(file, "utf8")));
    });
});

test("the check's `pulumi up --replace` URNs are the Longhorn steps' URNs", async () => {
    const urns = engineUrns((await renderWith(CASES.defaults)).resources);
    expect(urns).toContain(longhornStepUrn(STACK, "mesh-pod-ip"));
    expect(urns).toContain(longhornStepUrn(STACK, "mesh-annotate"));
});
