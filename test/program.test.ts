import * as fs from "fs";
import * as path from "path";
import { ConfigError } from "../lib/config";
import { byName, renderWith } from "./support/render";
import { validateObject } from "./support/k8sSchemas";
import { RenderedResource, kubernetesObjects } from "../lib/render";

const RELEASE = "kubernetes:helm.sh/v3:Release";
const CERT = "kubernetes:cert-manager.io/v1:Certificate";
const BUNDLE = "kubernetes:trust.cert-manager.io/v1alpha1:Bundle";

const identityOnly = (identity: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
    kubernetes: { kubeconfig: "/tmp/picluster-test-kubeconfig", context: "picluster" },
    identity,
    ...extra,
});

describe("mode pem (guide steps 3-8)", () => {
    let result: Awaited<ReturnType<typeof renderWith>>;
    beforeAll(async () => {
        result = await renderWith(identityOnly({ trustAnchor: { mode: "pem", source: "issuerSecret" } }));
    });

    test("the components own their children", () => {
        const r = result.resources;
        expect(byName(r, "kubernetes:core/v1:Namespace", "linkerd-identity-namespace").parent).toBe("linkerd-identity");
        expect(byName(r, CERT, "linkerd-identity-issuer").parent).toBe("linkerd-identity");
        expect(byName(r, RELEASE, "linkerd-control-plane-crds").parent).toBe("linkerd-control-plane");
        expect(byName(r, RELEASE, "linkerd-control-plane").parent).toBe("linkerd-control-plane");
    });

    test("order: namespace -> Certificate -> CRDs -> control plane, by explicit dependsOn", () => {
        const r = result.resources;
        expect(byName(r, CERT, "linkerd-identity-issuer").dependsOn).toEqual(["linkerd-identity-namespace"]);
        expect(byName(r, RELEASE, "linkerd-control-plane-crds").dependsOn).toEqual(["linkerd-identity-namespace"]);
        expect(byName(r, RELEASE, "linkerd-control-plane").dependsOn).toEqual([
            "linkerd-control-plane-crds",
            "linkerd-identity-namespace",
            "linkerd-identity-issuer",
        ]);
        const names = r.map((x) => x.name);
        expect(names.indexOf("linkerd-identity-namespace")).toBeLessThan(names.indexOf("linkerd-identity-issuer"));
    });

    test("the trust anchor is read from the issued Secret, after the Certificate", () => {
        const read = byName(result.resources, "kubernetes:core/v1:Secret", "linkerd-identity-trust-anchor-source");
        expect(read.readId).toBe("linkerd/linkerd-identity-issuer");
        expect(read.dependsOn).toEqual(["linkerd-identity-issuer"]);
        const values = byName(result.resources, RELEASE, "linkerd-control-plane").inputs.values as any;
        expect(values.identityTrustAnchorsPEM).toMatch(/^\[unknown: ca\.crt of Secret linkerd\/linkerd-identity-issuer/);
        expect(values.identity).toEqual({ issuer: { scheme: "kubernetes.io/tls" } });
        expect(values).not.toHaveProperty("installNamespace");
    });

    test("releases are named, namespaced and pinned to the stable charts", () => {
        expect(byName(result.resources, RELEASE, "linkerd-control-plane-crds").inputs).toMatchObject({
            name: "linkerd-crds",
            namespace: "linkerd",
            chart: "linkerd-crds",
            version: "1.8.0",
            repositoryOpts: { repo: "https://helm.linkerd.io/stable" },
        });
        expect(byName(result.resources, RELEASE, "linkerd-control-plane").inputs).toMatchObject({
            name: "linkerd-control-plane",
            version: "1.16.11",
        });
    });

    test("the provider is pinned to the configured kubeconfig and context", () => {
        expect(byName(result.resources, "pulumi:providers:kubernetes", "linkerd-kubernetes").inputs).toMatchObject({
            kubeconfig: "/tmp/picluster-test-kubeconfig",
            context: "picluster",
        });
    });

    test("the provider updates ConfigMaps in place (a changed dashboards ConfigMap is not deleted and created again)", () => {
        expect(byName(result.resources, "pulumi:providers:kubernetes", "linkerd-kubernetes").inputs).toMatchObject({
            enableConfigMapMutable: "true",
        });
    });

    test("guide step 10 is checkable: linkerd-config is read back after the install", () => {
        const read = byName(result.resources, "kubernetes:core/v1:ConfigMap", "linkerd-control-plane-linkerd-config");
        expect(read.readId).toBe("linkerd/linkerd-config");
        expect(read.dependsOn).toEqual(["linkerd-control-plane"]);
        expect(result.outputs.verifyCommands).toContain(
            "kubectl --kubeconfig /tmp/picluster-test-kubeconfig --context picluster -n linkerd get configmap linkerd-config -o yaml",
        );
        expect((result.outputs.verifyCommands as string[])[0]).toBe("npm run check -- --stack picluster");
    });

    test("every Kubernetes object passes its schema", () => {
        const objects = kubernetesObjects(result.resources);
        expect(objects.length).toBeGreaterThan(0);
        for (const { resource, object } of objects)
            expect({ name: resource.name, problems: validateObject(object) }).toEqual({ name: resource.name, problems: [] });
    });
});

describe("mode bundle (guide GitOps installation)", () => {
    let result: Awaited<ReturnType<typeof renderWith>>;
    beforeAll(async () => {
        result = await renderWith(identityOnly({ trustAnchor: { mode: "bundle" } }));
    });

    test("a Bundle distributes the root CA and the control plane waits for it", () => {
        const bundle = byName(result.resources, BUNDLE, "linkerd-identity-trust-roots");
        expect(bundle.dependsOn).toEqual(["linkerd-identity-namespace"]);
        expect(byName(result.resources, RELEASE, "linkerd-control-plane").dependsOn).toEqual([
            "linkerd-control-plane-crds",
            "linkerd-identity-namespace",
            "linkerd-identity-issuer",
            "linkerd-identity-trust-roots",
        ]);
    });

    test("identity.externalCA replaces the PEM, and no Secret is read", () => {
        const values = byName(result.resources, RELEASE, "linkerd-control-plane").inputs.values as any;
        expect(values.identity).toEqual({ externalCA: true, issuer: { scheme: "kubernetes.io/tls" } });
        expect(values).not.toHaveProperty("identityTrustAnchorsPEM");
        expect(result.resources.filter((r) => r.readId && r.type === "kubernetes:core/v1:Secret")).toEqual([]);
    });
});

test("mode bundle with identity.trustAnchor.previousSecret (a rotation in progress): the Bundle has both sources", async () => {
    const result = await renderWith(identityOnly({ trustAnchor: { mode: "bundle", previousSecret: { name: "linkerd-previous-anchor" } } }));
    expect((byName(result.resources, BUNDLE, "linkerd-identity-trust-roots").inputs as any).spec.sources).toEqual([
        { secret: { name: "root-secret", key: "ca.crt" } },
        { secret: { name: "linkerd-previous-anchor", key: "ca.crt" } },
    ]);
});

describe("other trust-anchor sources", () => {
    test("inline PEM is passed as given, with no read", async () => {
        const pem = fs.readFileSync(path.join(__dirname, "fixtures", "certs", "root-ca.crt"), "utf8");
        const result = await renderWith(identityOnly({ trustAnchor: { source: "inline", pem } }));
        expect((byName(result.resources, RELEASE, "linkerd-control-plane").inputs.values as any).identityTrustAnchorsPEM).toBe(pem);
        expect(result.resources.some((r) => r.type === "kubernetes:core/v1:Secret" && r.readId)).toBe(false);
    });

    test("an existing Secret is read by its configured name, with no dependency on the Certificate", async () => {
        const result = await renderWith(
            identityOnly({ trustAnchor: { source: "secret", secret: { namespace: "cert-manager", name: "root-secret", key: "ca.crt" } } }),
        );
        const read = byName(result.resources, "kubernetes:core/v1:Secret", "linkerd-identity-trust-anchor-source");
        expect(read.readId).toBe("cert-manager/root-secret");
        expect(read.dependsOn).toEqual([]);
    });

    test("a local chart directory is used for both releases", async () => {
        const result = await renderWith(identityOnly({}, { linkerd: { chartDirectory: "/srv/charts" } }));
        expect(byName(result.resources, RELEASE, "linkerd-control-plane").inputs).toMatchObject({ chart: "/srv/charts/linkerd-control-plane" });
        expect(byName(result.resources, RELEASE, "linkerd-control-plane").inputs).not.toHaveProperty("repositoryOpts");
    });
});

test("a bad configuration fails before any resource is registered", async () => {
    let error: unknown;
    let result: unknown;
    const registered: RenderedResource[] = [];
    try {
        result = await renderWith({ linkerd: { channel: "nightly" } }, {}, registered);
    } catch (e) {
        error = e;
    }
    expect(result).toBeUndefined();
    expect(registered).toEqual([]);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain('picluster-linkerd:linkerd.channel: expected one of "stable", "edge"');
});

describe("the release in use decides the Gateway API CRDs and the tracing path", () => {
    const KUBE = { kubeconfig: "/tmp/picluster-test-kubeconfig", context: "picluster" };
    const releaseNames = (r: Awaited<ReturnType<typeof renderWith>>) => r.resources.filter((x) => x.type === RELEASE).map((x) => x.name);

    test("edge-26.8.3: linkerd-crds installs the Gateway API CRDs, spans go to Tempo through proxy.tracing, no linkerd-jaeger", async () => {
        const result = await renderWith({ kubernetes: { ...KUBE, version: "1.33" }, linkerd: { channel: "edge", version: "edge-26.8.3" } });
        expect(byName(result.resources, RELEASE, "linkerd-control-plane-crds").inputs.values).toEqual({ installGatewayAPI: true });
        expect(byName(result.resources, RELEASE, "linkerd-control-plane").inputs.values).toMatchObject({
            proxy: {
                tracing: {
                    enabled: true,
                    collector: { endpoint: "tempo-distributor.tracing:4317", meshIdentity: { serviceAccountName: "tempo", namespace: "tracing" } },
                },
            },
        });
        expect(releaseNames(result)).not.toContain("linkerd-jaeger");
    });

    test("edge-26.8.3 on k3s 1.37+: the cluster's own Gateway API CRDs are used, never installed over", async () => {
        const result = await renderWith({ kubernetes: { ...KUBE, version: "1.37" }, linkerd: { channel: "edge", version: "edge-26.8.3" } });
        expect(byName(result.resources, RELEASE, "linkerd-control-plane-crds").inputs.values).toEqual({ installGatewayAPI: false });
        const explicit = await renderWith({ kubernetes: KUBE, linkerd: { channel: "edge", version: "edge-26.8.3", gatewayApiCrds: "cluster" } });
        expect(byName(explicit.resources, RELEASE, "linkerd-control-plane-crds").inputs.values).toEqual({ installGatewayAPI: false });
        await expect(
            renderWith({
                kubernetes: { ...KUBE, version: "1.37" },
                linkerd: { channel: "edge", version: "edge-26.8.3", gatewayApiCrds: "linkerd-crds" },
            }),
        ).rejects.toThrow(/picluster-linkerd:linkerd\.gatewayApiCrds: "linkerd-crds" would fight k3s 1\.37/);
    });

    test("stable-2.14.10 is as before: linkerd-crds with its defaults, linkerd-jaeger to Tempo, no proxy.tracing", async () => {
        const result = await renderWith({ kubernetes: KUBE });
        expect(byName(result.resources, RELEASE, "linkerd-control-plane-crds").inputs.values).toEqual({});
        expect(byName(result.resources, RELEASE, "linkerd-control-plane").inputs.values).not.toHaveProperty("proxy.tracing");
        expect(byName(result.resources, RELEASE, "linkerd-jaeger").inputs.values).toMatchObject({
            webhook: { collectorSvcAddr: "tempo-distributor.tracing:55678", collectorSvcAccount: "tempo" },
        });
    });
});

describe("adopting a guide-made install (adopt.enabled)", () => {
    const KUBE = { kubeconfig: "/tmp/picluster-test-kubeconfig", context: "picluster" };

    test("every Helm release the program installs is imported as it is; other objects are upserted by the provider", async () => {
        const result = await renderWith({ kubernetes: KUBE, adopt: { enabled: true } });
        const imported = result.resources.filter((r) => r.importId).map((r) => [r.name, r.importId]);
        expect(imported).toEqual(
            expect.arrayContaining([
                ["linkerd-control-plane-crds", "linkerd/linkerd-crds"],
                ["linkerd-control-plane", "linkerd/linkerd-control-plane"],
                ["linkerd-viz", "linkerd-viz/linkerd-viz"],
                ["linkerd-jaeger", "linkerd-jaeger/linkerd-jaeger"],
                ["linkerd-ingress-traefik", "traefik/traefik"],
            ]),
        );
        expect(imported).toHaveLength(5);
        for (const r of result.resources.filter((x) => x.importId)) {
            expect(r.ignoreChanges).toEqual(["values", "timeout"]);
        }
        expect(byName(result.resources, "pulumi:providers:kubernetes", "linkerd-kubernetes").inputs).toMatchObject({ upsertExistingObjects: "true" });
    });

    test("only the listed releases are imported; the others are installed", async () => {
        const result = await renderWith({ kubernetes: KUBE, adopt: { enabled: true, helmReleases: ["linkerd-crds", "linkerd-control-plane"] } });
        expect(result.resources.filter((r) => r.importId).map((r) => r.importId)).toEqual(["linkerd/linkerd-crds", "linkerd/linkerd-control-plane"]);
    });

    test("without adopt nothing is imported and the provider keeps refusing existing objects", async () => {
        const result = await renderWith({ kubernetes: KUBE });
        expect(result.resources.filter((r) => r.importId)).toEqual([]);
        expect(byName(result.resources, "pulumi:providers:kubernetes", "linkerd-kubernetes").inputs).not.toHaveProperty("upsertExistingObjects");
    });

    test("a release the configuration does not install is refused at its key", async () => {
        await expect(
            renderWith({ kubernetes: KUBE, viz: { enabled: false }, adopt: { enabled: true, helmReleases: ["linkerd-viz"] } }),
        ).rejects.toThrow(/picluster-linkerd:adopt\.helmReleases\[0\]: "linkerd-viz" is not a Helm release this configuration installs/);
    });
});
