import { stringify as stringifyYaml } from "yaml";
import { ClusterSnapshot, restartTargets } from "../check";
import { checkProxyVersions } from "../check/proxyVersions";
import { context, pod, replicaSet } from "./support/checkFixtures";
import { Loose as Obj } from "./support/loose";

/** linkerd-config of a control plane at `version`, and the given pods. */
function snapshot(version: string, pods: Obj[]): ClusterSnapshot {
    const config = {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: "linkerd-config", namespace: "linkerd" },
        data: { values: stringifyYaml({ identityTrustAnchorsPEM: "x", linkerdVersion: version }) },
    };
    return { objects: [config, ...pods], crds: [], releaseCrds: [], secrets: {}, unservedTypes: [] };
}

const meshedPod = (ns: string, name: string, version: string, rs?: string) =>
    pod(ns, name, { proxy: true, annotations: { "linkerd.io/proxy-version": version }, ...(rs ? { owner: { kind: "ReplicaSet", name: rs } } : {}) });

describe("pl-dp-proxy-version: meshed proxies against the control plane", () => {
    test("all on the control plane's release: ok (the control plane's own pods are not counted)", () => {
        const r = checkProxyVersions(
            snapshot("edge-24.8.2", [meshedPod("monitoring", "a", "edge-24.8.2"), meshedPod("linkerd", "linkerd-identity-x", "edge-24.8.2")]),
            context(),
        );
        expect(r).toEqual([
            expect.objectContaining({
                id: "pl-dp-proxy-version",
                status: "ok",
                message: "1 meshed pod(s) run the control plane's proxy edge-24.8.2",
            }),
        ]);
    });

    test("one major behind: a warning whose --restart rolls the owners", () => {
        const s = snapshot("edge-24.8.2", [meshedPod("monitoring", "web-1-a", "edge-24.7.5", "web-1"), replicaSet("monitoring", "web-1", "web")]);
        const [r] = checkProxyVersions(s, context());
        expect(r).toMatchObject({ id: "pl-dp-proxy-version", status: "warn", restart: ["Deployment/monitoring/web"] });
        expect(r.message).toMatch(
            /1 meshed pod\(s\) run an older proxy than the control plane \(edge-24\.8\.2\): monitoring\/web-1-a \(edge-24\.7\.5\)/,
        );
        expect(r.fix).toMatch(/npm run check -- --stack picluster --restart` rolls Deployment\/monitoring\/web/);
        expect(restartTargets([r])).toEqual(["Deployment/monitoring/web"]);
    });

    test("more than one major behind: a failure, naming the pods", () => {
        const [r] = checkProxyVersions(snapshot("edge-24.11.8", [meshedPod("monitoring", "a", "stable-2.14.10")]), context());
        expect(r).toMatchObject({ status: "fail" });
        expect(r.message).toMatch(
            /more than one major behind the control plane \(edge-24\.11\.8, Linkerd 2\.17\).*monitoring\/a \(stable-2\.14\.10\)/,
        );
        expect(r.fix).toMatch(/delete monitoring\/a \(nothing restartable owns them\)/);
    });

    test("newer than the control plane (a downgrade): a failure naming npm run upgrade", () => {
        const [r] = checkProxyVersions(snapshot("2.14.10", [meshedPod("monitoring", "a", "edge-26.8.3")]), context());
        expect(r).toMatchObject({ status: "fail" });
        expect(r.fix).toMatch(/npm run upgrade -- --stack picluster --to <release>/);
    });

    test("no linkerd-config: nothing to compare (the control-plane checks say so)", () => {
        expect(checkProxyVersions({ objects: [], crds: [], releaseCrds: [], secrets: {}, unservedTypes: [] }, context())).toEqual([]);
    });
});
