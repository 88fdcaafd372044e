import { checkCrds } from "../check/controlPlane";
import { context, testConfig } from "./support/checkFixtures";
import { ClusterSnapshot } from "../check";

const snapshot = (crds: { name: string; servedVersions: string[] }[]): ClusterSnapshot => ({
    objects: [],
    crds,
    releaseCrds: [],
    secrets: {},
    unservedTypes: [],
});
const ids = (version: string, crds: { name: string; servedVersions: string[] }[]) => {
    const config = testConfig(version.startsWith("edge-") ? { linkerd: { channel: "edge", version } } : {});
    return checkCrds(snapshot(crds), context(config)).filter((r) => r.id === "pl-cp-gateway-api-versions");
};
// Gateway API v1.4 (standard channel), as a cluster of today ships them: nothing at v1alpha2.
const standard = [
    { name: "httproutes.gateway.networking.k8s.io", servedVersions: ["v1", "v1beta1"] },
    { name: "grpcroutes.gateway.networking.k8s.io", servedVersions: ["v1"] },
];

describe("pl-cp-gateway-api-versions: what the release's policy controller watches is served", () => {
    test("2.14 needs HTTPRoute v1beta1: served by the standard CRDs, missing without them", () => {
        expect(ids("2.14.10", standard)).toEqual([]);
        const [r] = ids("2.14.10", []);
        expect(r).toMatchObject({ status: "fail" });
        expect(r.message).toMatch(
            /Linkerd 2\.14\.10's policy controller watches httproutes.gateway.networking.k8s.io at v1beta1.*never become ready/,
        );
    });

    test("2.17 on the standard CRDs: nothing serves v1alpha2, a failure; 2.18 skips what is missing", () => {
        expect(ids("edge-24.11.8", standard)[0]?.message).toMatch(/one of .*grpcroutes.* at v1alpha2/);
        expect(ids("edge-25.4.4", standard)).toEqual([]);
        expect(ids("edge-26.8.3", [])).toEqual([]);
    });
});
