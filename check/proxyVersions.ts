/**
 * Data plane version skew: every meshed pod's proxy (`linkerd.io/proxy-version`, written when the pod
 * was injected) against the control plane's release (linkerd-config's `linkerdVersion`). Linkerd
 * supports proxies at most one major behind the control plane (linkerd.io, "Upgrading Linkerd"); a
 * proxy only changes version when its pod is re-created, so after every upgrade the meshed workloads
 * must be restarted. Older proxies: a warning (`--restart` rolls their owners); more than one major
 * behind, or newer than the control plane: a failure.
 */
import { LINKERD_NAMESPACE, nameOf, namespaceOf, stringMapAt } from "../lib/k8s";
import { parseLinkerdVersion } from "../lib/linkerdVersions";
import { runningLinkerd } from "../lib/upgrade/running";
import { isRunning, ownersToRestart } from "./dataPlane";
import { ClusterSnapshot, LINKERD_CONFIG, Obj, findObject, listObjects } from "./snapshot";
import { CheckContext, CheckResult, fail, ok, warn } from "./types";

const ID = "pl-dp-proxy-version";
const NAME = "proxies match the control plane";
/** How many pods a message names before "and N more". */
const LISTED = 6;

const nameOfPod = (p: Obj) => `${namespaceOf(p)}/${nameOf(p)}`;

function listed(pods: readonly string[]): string {
    return pods.length <= LISTED ? pods.join(", ") : `${pods.slice(0, LISTED).join(", ")} and ${pods.length - LISTED} more`;
}

export function checkProxyVersions(s: ClusterSnapshot, ctx: CheckContext): CheckResult[] {
    const config = findObject(s, "ConfigMap", LINKERD_NAMESPACE, LINKERD_CONFIG);
    const pods = listObjects(s, "Pod").filter(isRunning);
    const running = runningLinkerd(stringMapAt(config, "data"), pods);
    const cp = running.controlPlaneVersion;
    const cpMinor = cp ? parseLinkerdVersion(cp)?.minor : undefined;
    if (!cp || cpMinor === undefined) return []; // pl-cp-linkerd-config says what is wrong with linkerd-config
    const others = running.meshedPods.filter((p) => p.version !== cp);
    if (others.length === 0) return [ok(ID, NAME, `${running.meshedPods.length} meshed pod(s) run the control plane's proxy ${cp}`)];
    const minorOf = (v: string) => parseLinkerdVersion(v)?.minor;
    const tooOld = others.filter((p) => (minorOf(p.version) ?? 0) < cpMinor - 1);
    const newer = others.filter((p) => (minorOf(p.version) ?? 0) > cpMinor);
    const behind = others.map((p) => `${p.pod} (${p.version})`);
    const owned = pods.filter((p) => others.some((o) => o.pod === nameOfPod(p)));
    const { restart, orphans } = ownersToRestart(s, owned);
    const fix =
        `restart them so the injector gives them the control plane's proxy: \`npm run check -- --stack ${ctx.stack} --restart\`` +
        (restart.length > 0 ? ` rolls ${restart.join(", ")}` : "") +
        (orphans.length > 0 ? `; delete ${orphans.map(nameOfPod).join(", ")} (nothing restartable owns them)` : "");
    if (newer.length > 0) {
        return [
            fail(
                ID,
                NAME,
                `${newer.length} meshed pod(s) run a proxy newer than the control plane (${cp}): ${listed(newer.map((p) => `${p.pod} (${p.version})`))}: a downgrade Linkerd does not support`,
                `upgrade the control plane back to the proxies' release (\`npm run upgrade -- --stack ${ctx.stack} --to <release>\`), then ${fix}`,
                restart,
            ),
        ];
    }
    if (tooOld.length > 0) {
        return [
            fail(
                ID,
                NAME,
                `${tooOld.length} meshed pod(s) run a proxy more than one major behind the control plane (${cp}, Linkerd 2.${cpMinor}), which Linkerd does not support: ${listed(tooOld.map((p) => `${p.pod} (${p.version})`))}`,
                fix,
                restart,
            ),
        ];
    }
    return [warn(ID, NAME, `${others.length} meshed pod(s) run an older proxy than the control plane (${cp}): ${listed(behind)}`, fix, restart)];
}
