import { ConfigError, PROJECT, loadConfig } from "../lib/config";
import { ClusterFacts, LiveCrd, liveCrds } from "../lib/cluster";
import { GATEWAY_API_CRDS, decideGatewayApiCrdsOwner as decideWith, linkerdCrdsGatewayApi, policyControllerGatewayApiNeeds } from "../lib/gatewayApi";
import { resolveRelease } from "../lib/release";

const crd = (name: string, extra: Partial<LiveCrd> = {}): LiveCrd => ({
    name,
    servedVersions: ["v1", "v1beta1"],
    storedVersions: ["v1"],
    keep: false,
    ...extra,
});
const byName = (...crds: LiveCrd[]) => Object.fromEntries(crds.map((c) => [c.name, c]));
const OURS = { name: "linkerd-crds", namespace: "linkerd" };
const stable = resolveRelease("stable", "2.14.10").gatewayApi;
const edge = resolveRelease("edge", "edge-26.8.3").gatewayApi;
/** The decision for a release's chart, with that release's policy-controller needs. */
const decideGatewayApiCrdsOwner = (input: Omit<Parameters<typeof decideWith>[0], "needs" | "linkerdVersion">) => {
    const release = input.chart === stable ? resolveRelease("stable", "2.14.10") : resolveRelease("edge", "edge-26.8.3");
    return decideWith({ ...input, needs: policyControllerGatewayApiNeeds(release.edge), linkerdVersion: release.version });
};

describe("decideGatewayApiCrdsOwner", () => {
    test("auto on a cluster that has them (k3s, Traefik's or a user's install): the cluster's, on 2.14 and on edge", () => {
        for (const chart of [stable, edge]) {
            const d = decideGatewayApiCrdsOwner({ choice: "auto", chart, release: OURS, live: byName(crd(GATEWAY_API_CRDS.httpRoutes)) });
            expect(d).toEqual({ owner: "cluster", problems: [], warnings: [] });
        }
    });

    test("auto where the linkerd-crds release already owns them: it keeps them (nothing is dropped)", () => {
        // As 2.14's linkerd-crds left it: stored at v1beta1, no keep annotation.
        const live = byName(crd(GATEWAY_API_CRDS.httpRoutes, { helmRelease: OURS, storedVersions: ["v1beta1"] }));
        expect(decideGatewayApiCrdsOwner({ choice: "auto", chart: stable, release: OURS, live })).toEqual({
            owner: "linkerd-crds",
            problems: [],
            warnings: [],
        });
        expect(decideGatewayApiCrdsOwner({ choice: "auto", chart: edge, release: OURS, live, kubernetesMinor: 37 }).owner).toBe("linkerd-crds");
    });

    test("CRDs a newer linkerd-crds left behind (stored at v1, kept): auto leaves them to the cluster; linkerd-crds is refused (a downgrade)", () => {
        // What edge-26.8.3's linkerd-crds leaves after `helm uninstall` (keep), found by the e2e when 2.14.10 was installed next.
        const live = byName(crd(GATEWAY_API_CRDS.httpRoutes, { helmRelease: OURS, keep: true, storedVersions: ["v1"] }));
        expect(decideGatewayApiCrdsOwner({ choice: "auto", chart: stable, release: OURS, live })).toEqual({
            owner: "cluster",
            problems: [],
            warnings: [],
        });
        const d = decideGatewayApiCrdsOwner({ choice: "linkerd-crds", chart: stable, release: OURS, live });
        expect(d.problems[0]).toMatch(
            /"linkerd-crds" would install httproutes.gateway.networking.k8s.io at v1alpha2, v1beta1, but the cluster stores its objects at v1 \(status.storedVersions.*refuses that CRD. Set linkerd.gatewayApiCrds to "cluster"/,
        );
    });

    test("auto on a cluster without them: linkerd-crds, except on k3s 1.37+", () => {
        expect(decideGatewayApiCrdsOwner({ choice: "auto", chart: edge, release: OURS, live: {} }).owner).toBe("linkerd-crds");
        expect(decideGatewayApiCrdsOwner({ choice: "auto", chart: edge, release: OURS, live: {}, kubernetesMinor: 37 }).owner).toBe("cluster");
    });

    test('"linkerd-crds" onto a cluster that has them is refused, naming the owner and the value to set', () => {
        const live = byName(
            crd(GATEWAY_API_CRDS.httpRoutes, { helmRelease: { name: "gateway-api-crd", namespace: "kube-system" } }),
            crd(GATEWAY_API_CRDS.grpcRoutes),
        );
        const d = decideGatewayApiCrdsOwner({ choice: "linkerd-crds", chart: edge, release: OURS, live });
        expect(d.owner).toBe("linkerd-crds");
        expect(d.problems).toHaveLength(1);
        expect(d.problems[0]).toMatch(
            /^"linkerd-crds" would install httproutes.gateway.networking.k8s.io, grpcroutes.gateway.networking.k8s.io, which the cluster already has \(owned by Helm release kube-system\/gateway-api-crd\).*invalid ownership metadata.*Set linkerd.gatewayApiCrds to "cluster"/,
        );
        // 2.14 ships only HTTPRoute: a GRPCRoute alone is no collision.
        expect(
            decideGatewayApiCrdsOwner({ choice: "linkerd-crds", chart: stable, release: OURS, live: byName(crd(GATEWAY_API_CRDS.grpcRoutes)) })
                .problems,
        ).toEqual([]);
    });

    test('"cluster" where the linkerd-crds release owns them without keep is refused: Helm would delete them and their routes', () => {
        const live = byName(crd(GATEWAY_API_CRDS.httpRoutes, { helmRelease: OURS }));
        const d = decideGatewayApiCrdsOwner({ choice: "cluster", chart: stable, release: OURS, live });
        expect(d.problems[0]).toMatch(
            /linkerd\/linkerd-crds release owns httproutes.gateway.networking.k8s.io without helm.sh\/resource-policy: keep.*delete them/,
        );
        const kept = byName(crd(GATEWAY_API_CRDS.httpRoutes, { helmRelease: OURS, keep: true }));
        expect(decideGatewayApiCrdsOwner({ choice: "cluster", chart: edge, release: OURS, live: kept }).problems).toEqual([]);
    });

    test('"cluster" on a cluster without HTTPRoute warns on releases that tolerate it, and is refused on 2.14, whose policy controller waits for it', () => {
        const d = decideGatewayApiCrdsOwner({ choice: "cluster", chart: edge, release: OURS, live: {} });
        expect(d.problems).toEqual([]);
        expect(d.warnings[0]).toMatch(/the cluster has no httproutes.gateway.networking.k8s.io: Linkerd's policy controller needs it/);
        const old = decideGatewayApiCrdsOwner({ choice: "cluster", chart: stable, release: OURS, live: {} });
        expect(old.problems[0]).toMatch(
            /Linkerd 2.14.10's policy controller needs httproutes.gateway.networking.k8s.io served at v1beta1, .*\(httproutes.gateway.networking.k8s.io is absent\): its destination pods would never become ready/,
        );
    });

    test("the policy controller's needs per release (GRPCRoute v1alpha2 on 2.15-2.17; nothing from edge-25.3.1)", () => {
        const v1alpha2 = (e: [number, number, number]) => policyControllerGatewayApiNeeds(e).find((n) => n.version === "v1alpha2");
        expect(policyControllerGatewayApiNeeds(undefined)).toEqual([{ crds: [GATEWAY_API_CRDS.httpRoutes], version: "v1beta1" }]);
        expect(v1alpha2([24, 6, 3])).toBeUndefined();
        expect(v1alpha2([24, 7, 5])?.crds).toEqual([GATEWAY_API_CRDS.grpcRoutes]);
        expect(v1alpha2([24, 11, 8])?.crds).toEqual(Object.values(GATEWAY_API_CRDS));
        expect(policyControllerGatewayApiNeeds([25, 3, 1])).toEqual([]);
        // Gateway API v1.4 (standard) CRDs the cluster owns serve no v1alpha2: 2.15-2.17 would never become ready on them.
        const standard = byName(crd(GATEWAY_API_CRDS.httpRoutes, { servedVersions: ["v1", "v1beta1"] }), crd(GATEWAY_API_CRDS.grpcRoutes));
        const d = decideWith({
            choice: "auto",
            chart: resolveRelease("edge", "edge-24.11.8").gatewayApi,
            needs: policyControllerGatewayApiNeeds([24, 11, 8]),
            linkerdVersion: "edge-24.11.8",
            release: OURS,
            live: standard,
        });
        expect(d.owner).toBe("cluster");
        expect(d.problems[0]).toMatch(/needs one of .* served at v1alpha2.*Use a Linkerd release that tolerates them \(edge-25.3.1 or later\)/);
    });

    test("a cluster that could not be read: decided from kubernetes.version, with a warning saying why", () => {
        const d = decideGatewayApiCrdsOwner({ choice: "auto", chart: stable, release: OURS, unreadReason: "kubectl not found" });
        expect(d.owner).toBe("linkerd-crds");
        expect(d.warnings[0]).toMatch(
            /could not be read \(kubectl not found\): linkerd-crds installs them, from the default.*set linkerd.gatewayApiCrds to "cluster"/,
        );
    });
});

describe("loadConfig against the cluster's CRDs", () => {
    const facts = (...crds: LiveCrd[]): ClusterFacts => ({ status: "read", crds: byName(...crds) });

    test("the measured collision (2.14.10 onto Gateway API CRDs the cluster has) is no longer one: HTTPRoute left out", () => {
        const cfg = loadConfig(
            { values: {} },
            {},
            facts(crd(GATEWAY_API_CRDS.httpRoutes, { servedVersions: ["v1", "v1beta1"] }), crd(GATEWAY_API_CRDS.grpcRoutes)),
        );
        expect(cfg.linkerd.gatewayApiCrds).toBe("cluster");
    });

    test("an explicit linkerd-crds that would collide is a ConfigError naming the key, before anything is registered", () => {
        try {
            loadConfig({ values: { linkerd: { gatewayApiCrds: "linkerd-crds" } } }, {}, facts(crd(GATEWAY_API_CRDS.httpRoutes)));
            throw new Error("accepted");
        } catch (e) {
            expect(e).toBeInstanceOf(ConfigError);
            const problem = (e as ConfigError).problems.find((p) => p.key === `${PROJECT}:linkerd.gatewayApiCrds`);
            expect(problem?.message).toMatch(/which the cluster already has.*Set linkerd.gatewayApiCrds to "cluster"/);
        }
    });
});

describe("liveCrds (kubectl get crd -o json)", () => {
    test("a List, one object, or nothing; owner, keep, served and stored versions", () => {
        const item = {
            metadata: {
                name: GATEWAY_API_CRDS.httpRoutes,
                annotations: {
                    "meta.helm.sh/release-name": "linkerd-crds",
                    "meta.helm.sh/release-namespace": "linkerd",
                    "helm.sh/resource-policy": "keep",
                },
            },
            spec: {
                versions: [
                    { name: "v1", served: true },
                    { name: "v1beta1", served: true },
                    { name: "v1alpha2", served: false },
                ],
            },
            status: { storedVersions: ["v1beta1", "v1"] },
        };
        const expected = {
            name: GATEWAY_API_CRDS.httpRoutes,
            servedVersions: ["v1", "v1beta1"],
            storedVersions: ["v1beta1", "v1"],
            helmRelease: OURS,
            keep: true,
        };
        expect(liveCrds(JSON.stringify({ kind: "List", items: [item] }))).toEqual({ [GATEWAY_API_CRDS.httpRoutes]: expected });
        expect(liveCrds(JSON.stringify(item))).toEqual({ [GATEWAY_API_CRDS.httpRoutes]: expected });
        expect(liveCrds("")).toEqual({});
    });
});

describe("linkerdCrdsGatewayApi thresholds", () => {
    test("GRPCRoute from edge-24.5.2, TLS/TCP routes from edge-24.10.4, installGatewayAPI and keep from edge-25.3.1", () => {
        expect(linkerdCrdsGatewayApi([24, 5, 1]).crds).toEqual([GATEWAY_API_CRDS.httpRoutes]);
        expect(linkerdCrdsGatewayApi([24, 5, 2]).crds).toEqual([GATEWAY_API_CRDS.httpRoutes, GATEWAY_API_CRDS.grpcRoutes]);
        expect(linkerdCrdsGatewayApi([24, 10, 4]).omitValues).toEqual({ enableHttpRoutes: false, enableTlsRoutes: false, enableTcpRoutes: false });
        expect(linkerdCrdsGatewayApi([25, 3, 1])).toMatchObject({ keep: true, installedByDefault: true, omitValues: { installGatewayAPI: false } });
    });
});
