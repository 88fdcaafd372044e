/**
 * What Linkerd's proxy injector can see, read from each release's chart (test/fixtures/injector-selectors,
 * derived from proxyInjector.namespaceSelector/objectSelector), and the program's meshing targets under it.
 */
import * as fs from "fs";
import * as path from "path";
import { PiclusterConfig, loadConfig } from "../lib/config";
import {
    LabelSelector,
    PROXY_INJECTOR_NAMESPACE_SELECTOR,
    PROXY_INJECTOR_OBJECT_SELECTOR,
    injectorBlindSpot,
    namespaceLabelsAsServed,
} from "../lib/injector";
import { selectorMatches } from "../lib/k8s";
import { collectorNamespace } from "../lib/builders/jaeger";

interface InjectorFixture {
    chartVersion: string;
    linkerdVersion: string;
    namespaceSelector: LabelSelector;
    objectSelector: LabelSelector;
}

const FIXTURES_DIR = path.join(__dirname, "fixtures", "injector-selectors");
function fixture(chartVersion: string): InjectorFixture {
    return JSON.parse(fs.readFileSync(path.join(FIXTURES_DIR, `linkerd-control-plane-${chartVersion}.json`), "utf8"));
}

const RELEASES: [string, Record<string, unknown>, string][] = [
    ["the defaults (stable-2.14.10)", {}, "1.16.11"],
    ["edge-26.8.3", { linkerd: { channel: "edge", version: "edge-26.8.3" }, kubernetes: { version: "1.33" } }, "2026.8.3"],
];

/** Every namespace whose pods the program expects the injector to mesh. */
function meshingTargets(cfg: PiclusterConfig): string[] {
    const out = new Set<string>(cfg.meshing.namespaces);
    for (const w of cfg.meshing.workloads) out.add(w.namespace);
    if (cfg.ingress.controller === "traefik") out.add(cfg.ingress.namespace);
    if (cfg.jaeger.enabled) out.add(cfg.jaeger.namespace);
    if (cfg.controlPlane.proxyTracing) out.add(cfg.controlPlane.proxyTracing.namespace);
    if (cfg.longhorn.enabled) out.add(cfg.longhorn.namespace);
    return [...out];
}

describe("the proxy injector's selectors, per release", () => {
    test("a fixture exists for every control-plane chart the tests cover", () => {
        expect(fs.readdirSync(FIXTURES_DIR).sort()).toEqual(["linkerd-control-plane-1.16.11.json", "linkerd-control-plane-2026.8.3.json"]);
    });

    test.each(RELEASES)("%s: the program's model equals the chart's selectors", (_title, _values, chartVersion) => {
        const f = fixture(chartVersion);
        expect(PROXY_INJECTOR_NAMESPACE_SELECTOR).toEqual(f.namespaceSelector);
        // 2.14's chart has no linkerd.io/cni-resource term; the model's extra term only narrows what it excludes.
        for (const e of f.objectSelector.matchExpressions ?? []) expect(PROXY_INJECTOR_OBJECT_SELECTOR.matchExpressions).toContainEqual(e);
    });

    test.each(RELEASES)("%s: the ingress controller's namespace and every meshed namespace are selected", (_title, values, chartVersion) => {
        const cfg = loadConfig({
            values: {
                ...values,
                meshing: {
                    namespaces: ["monitoring", "logging", "tracing", "apps"],
                    workloads: [{ kind: "Deployment", namespace: "media", name: "jellyfin" }],
                },
            },
        });
        const { namespaceSelector } = fixture(chartVersion);
        const targets = meshingTargets(cfg);
        expect(targets).toEqual(expect.arrayContaining(["traefik", "monitoring", "logging", "tracing", "apps", "media", "longhorn-system"]));
        for (const ns of targets) expect([ns, selectorMatches(namespaceSelector, namespaceLabelsAsServed(ns))]).toEqual([ns, true]);
        if (cfg.controlPlane.proxyTracing) expect(collectorNamespace(cfg.controlPlane.proxyTracing.collectorEndpoint)).toBe("tracing");
    });

    test.each(RELEASES)(
        "%s: kube-system, cert-manager and namespaces labelled admission-webhooks=disabled are never selected",
        (_title, _values, chartVersion) => {
            const { namespaceSelector } = fixture(chartVersion);
            expect(selectorMatches(namespaceSelector, namespaceLabelsAsServed("kube-system"))).toBe(false);
            expect(selectorMatches(namespaceSelector, namespaceLabelsAsServed("cert-manager"))).toBe(false);
            expect(selectorMatches(namespaceSelector, namespaceLabelsAsServed("apps", { "config.linkerd.io/admission-webhooks": "disabled" }))).toBe(
                false,
            );
            expect(selectorMatches(namespaceSelector, namespaceLabelsAsServed("apps", { "config.linkerd.io/admission-webhooks": "enabled" }))).toBe(
                true,
            );
        },
    );

    test("k3s' bundled Traefik (kube-system) would not be meshed: the reason the program installs its own", () => {
        expect(injectorBlindSpot("kube-system")).toMatch(/never sees namespace "kube-system".*linkerd2 #11104/);
        expect(injectorBlindSpot("apps", { "config.linkerd.io/admission-webhooks": "disabled" })).toMatch(
            /labelled config\.linkerd\.io\/admission-webhooks: disabled/,
        );
        expect(injectorBlindSpot("traefik")).toBeUndefined();
    });
});

describe("selectorMatches (label selector semantics)", () => {
    test.each<[LabelSelector, Record<string, string>, boolean]>([
        [{}, {}, true],
        [{ matchLabels: { a: "1" } }, { a: "1", b: "2" }, true],
        [{ matchLabels: { a: "1" } }, { a: "2" }, false],
        [{ matchExpressions: [{ key: "a", operator: "In", values: ["1", "2"] }] }, { a: "2" }, true],
        [{ matchExpressions: [{ key: "a", operator: "In", values: ["1"] }] }, {}, false],
        [{ matchExpressions: [{ key: "a", operator: "NotIn", values: ["1"] }] }, {}, true],
        [{ matchExpressions: [{ key: "a", operator: "NotIn", values: ["1"] }] }, { a: "1" }, false],
        [{ matchExpressions: [{ key: "a", operator: "Exists" }] }, { a: "" }, true],
        [{ matchExpressions: [{ key: "a", operator: "DoesNotExist" }] }, { a: "" }, false],
    ])("%j on %j: %s", (selector, labels, expected) => {
        expect(selectorMatches(selector, labels)).toBe(expected);
    });
});

describe("meshing targets the injector can never see are refused in config, naming the key", () => {
    const problemsOf = (values: Record<string, unknown>) => {
        try {
            loadConfig({ values });
            return [];
        } catch (e) {
            return (e as { problems: { key: string; message: string }[] }).problems;
        }
    };
    test.each([
        [
            { meshing: { namespaces: ["monitoring", "cert-manager"] } },
            "picluster-linkerd:meshing.namespaces[1]",
            /"cert-manager" can never be meshed/,
        ],
        [{ meshing: { namespaces: ["kube-system"] } }, "picluster-linkerd:meshing.namespaces[0]", /"kube-system" can never be meshed/],
        [
            { meshing: { workloads: [{ kind: "Deployment", namespace: "kube-system", name: "coredns" }] } },
            "picluster-linkerd:meshing.workloads[0].namespace",
            /Deployment\/kube-system\/coredns can never be meshed/,
        ],
    ])("%j", (values, key, message) => {
        const problem = problemsOf(values).find((p) => p.key === key);
        expect(problem?.message).toMatch(message);
    });
});
