/**
 * Every value the program gives a Linkerd chart exists in that chart, for the guide's release, every
 * release `npm run upgrade` passes through and the newest edge: the values removed or renamed from one
 * release to the next (proxyInit.resources at 2.16, the jaeger extension at 2.19, ...) would otherwise be
 * ignored by Helm without a word (no Linkerd chart has a values schema). Keys from
 * test/fixtures/chart-keys (the packaged charts' values.yaml).
 */
import { loadChartKeys, unknownValueKeys } from "./support/chartKeys";
import { renderWith } from "./support/render";
import { releaseOfVersion } from "../lib/release";
import { HOP_RELEASES } from "../lib/upgrade/plan";
import type { RenderedResource } from "../lib/render";

const KUBE = { kubeconfig: "/tmp/picluster-test-kubeconfig", context: "picluster", version: "1.33" };
const versions = ["stable-2.14.10", ...Object.values(HOP_RELEASES).filter((v) => v.startsWith("edge-")), "edge-26.8.3"];

/** The Helm releases of a render: chart name, chart version, values. */
function charts(resources: readonly RenderedResource[]): { chart: string; version: string; values: object }[] {
    return resources
        .filter((r) => r.type === "kubernetes:helm.sh/v3:Release" && String(r.inputs.chart).startsWith("linkerd-"))
        .map((r) => ({ chart: String(r.inputs.chart), version: String(r.inputs.version), values: r.inputs.values ?? {} }));
}

describe.each(versions)("%s: the program's values exist in its charts", (version) => {
    const release = releaseOfVersion(version)!;
    test.each([
        ["everything enabled, trust anchor pem", {}],
        ["mode bundle, native sidecars and the shutdown endpoint where the release has them", { identity: { trustAnchor: { mode: "bundle" } } }],
    ])("%s", async (_, extra) => {
        const controlPlane = {
            ...(release.nativeSidecar.supported ? { nativeSidecar: true } : {}),
            ...(release.shutdownEndpoint.configurable ? { enableShutdownEndpoint: true } : {}),
        };
        const result = await renderWith({
            kubernetes: KUBE,
            linkerd: { channel: release.channel, version: release.version, gatewayApiCrds: "linkerd-crds" },
            controlPlane: Object.keys(extra).length > 0 ? controlPlane : {},
            ...extra,
        });
        const rendered = charts(result.resources);
        expect(rendered.map((c) => c.chart).sort()).toEqual(
            ["linkerd-control-plane", "linkerd-crds", "linkerd-viz", ...(release.charts.jaeger ? ["linkerd-jaeger"] : [])].sort(),
        );
        for (const c of rendered) {
            expect([`${c.chart} ${c.version}`, unknownValueKeys(c.values, loadChartKeys(c.chart, c.version))]).toEqual([
                `${c.chart} ${c.version}`,
                [],
            ]);
        }
    });
});
