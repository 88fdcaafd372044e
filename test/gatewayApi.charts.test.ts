/**
 * lib/gatewayApi.ts against what every real linkerd-crds chart renders (`helm template`, derived into
 * test/fixtures/gateway-api by `npm run fixtures`).
 */
import * as fs from "fs";
import * as path from "path";
import { gatewayApiCrdsValues } from "../lib/gatewayApi";
import { resolveRelease } from "../lib/release";
import { GatewayApiFixture, linkerdVersionOfCrdsChart } from "./fixtures/derive-gateway-api";

const FIXTURES = path.join(__dirname, "fixtures", "gateway-api");
const fixtures: GatewayApiFixture[] = fs
    .readdirSync(FIXTURES)
    .filter((f) => f.endsWith(".json"))
    .map((f) => JSON.parse(fs.readFileSync(path.join(FIXTURES, f), "utf8")));

const releaseOf = (fx: GatewayApiFixture) => {
    const v = linkerdVersionOfCrdsChart(fx.chartVersion)!;
    return v.startsWith("edge-") ? resolveRelease("edge", v) : resolveRelease("stable", v);
};

describe("what each real linkerd-crds chart renders (helm template, test/fixtures/gateway-api)", () => {
    test("a fixture for the guide's chart and every edge line at hand", () => {
        expect(fixtures.map((f) => f.chartVersion).sort()).toEqual(
            expect.arrayContaining(["1.8.0", "2024.7.5", "2024.8.2", "2024.11.8", "2025.4.4", "2025.10.7", "2026.6.3", "2026.8.3"]),
        );
    });

    test.each(fixtures.map((f) => [f.chartVersion, f] as const))("linkerd-crds %s: the model says what the chart renders", (_, fx) => {
        const model = releaseOf(fx).gatewayApi;
        const names = (set: keyof GatewayApiFixture["renders"]) => fx.renders[set].crds.map((c) => c.name).sort();
        // The fixture was rendered with the values the program sets today.
        expect(fx.renders["linkerd-crds"].values).toEqual(gatewayApiCrdsValues(model, "linkerd-crds"));
        expect(fx.renders.cluster.values).toEqual(gatewayApiCrdsValues(model, "cluster"));
        // linkerd-crds as owner: every Gateway API CRD the model knows of, and nothing else; cluster as owner: none.
        expect(names("linkerd-crds")).toEqual([...model.crds].sort());
        expect(names("cluster")).toEqual([]);
        expect(names("defaults")).toEqual(model.installedByDefault ? [...model.crds].sort() : []);
        for (const crd of fx.renders["linkerd-crds"].crds) {
            expect([crd.name, crd.keep]).toEqual([crd.name, model.keep]);
            expect([crd.name, [...crd.versions].sort()]).toEqual([crd.name, [...model.specVersions[crd.name]].sort()]);
        }
    });
});
