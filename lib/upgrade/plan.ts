/**
 * Day two: the plan of an upgrade from the Linkerd running on the cluster to a newer release, one
 * major at a time, and what each hop changes. Pure: cli/upgrade.ts reads the running versions and
 * carries the plan out.
 *
 * Linkerd's rules (linkerd.io 2-edge/tasks/upgrade.md): majors may not be skipped, and the control
 * plane may be at most one major ahead of the data plane; per hop the CRDs, then the control plane,
 * then the extensions (one `pulumi up` does them in that order), then a restart of the meshed
 * workloads, whose proxies only change version when their pods are re-injected.
 */
import { compareVersions, parseLinkerdVersion } from "../linkerdVersions";
import { LinkerdRelease, releaseOfVersion } from "../release";

export { releaseOfVersion };

/**
 * The release each hop goes through for a Linkerd major the upgrade passes without stopping: the
 * release whose charts the hop installs (every one of them is in Linkerd's Helm repositories).
 * 2.13 and 2.14: their last stable release; 2.15: the last edge of its line (its first, edge-24.2.4,
 * predates the chart version scheme).
 */
export const HOP_RELEASES: Readonly<Record<number, string>> = {
    13: "stable-2.13.7",
    14: "stable-2.14.10",
    15: "edge-24.7.5",
    16: "edge-24.8.2",
    17: "edge-24.11.8",
    18: "edge-25.4.4",
    19: "edge-25.10.7",
    20: "edge-26.6.3",
};

/** The Linkerd major (2.<minor>) of a proxy or control-plane version string; undefined when unknown. */
export function minorOfVersion(version: string): number | undefined {
    return parseLinkerdVersion(version)?.minor;
}

/** Something a hop changes that can break a running mesh, and how it is handled. */
export interface Hazard {
    /** Stable identifier, e.g. "shutdown-endpoint-off". */
    readonly id: string;
    readonly message: string;
    /** "handled": the program or the upgrade does it; "action": the user must (the upgrade stops before the hop). */
    readonly handling: "handled" | "action";
}

export interface Hop {
    readonly from: LinkerdRelease;
    readonly to: LinkerdRelease;
    readonly hazards: readonly Hazard[];
}

/** What the cluster runs now. */
export interface Running {
    /** The control plane's release (linkerd-config's linkerdVersion). */
    readonly controlPlane: LinkerdRelease;
    /** The oldest major among the meshed pods' proxies; undefined when no meshed pod runs. */
    readonly oldestProxyMinor?: number;
}

/** What the plan needs to know of the cluster and the stack besides the versions. */
export interface PlanContext {
    readonly kubernetesMinor?: number;
    /** Live Jobs/CronJobs in meshed namespaces that stop their proxy through /shutdown (`linkerd-await --shutdown`), as Kind/namespace/name. */
    readonly shutdownJobs: readonly string[];
    /** controlPlane.enableShutdownEndpoint as configured (undefined: the release's default). */
    readonly enableShutdownEndpoint?: boolean;
    /** Tracing wanted (jaeger.enabled). */
    readonly tracing: boolean;
}

export interface UpgradePlan {
    readonly hops: readonly Hop[];
    /** Why the upgrade cannot be made at all (each names what to change). */
    readonly problems: readonly string[];
}

/** Whether `target` is an older release than `current` (a downgrade). */
export function isOlder(target: LinkerdRelease, current: LinkerdRelease): boolean {
    if (target.minor !== current.minor) return target.minor < current.minor;
    if (current.edge && target.edge) return compareVersions(target.edge, current.edge) < 0;
    if (!current.edge && !target.edge) return compareVersions(target.version.split(".").map(Number), current.version.split(".").map(Number)) < 0;
    // Within one major, the stable release comes before the edge releases of its line.
    return !target.edge && !!current.edge;
}

/** The releases to pass through, in order, ending with `target`. */
export function hopReleases(current: LinkerdRelease, target: LinkerdRelease): LinkerdRelease[] {
    const out: LinkerdRelease[] = [];
    for (let minor = current.minor + 1; minor < target.minor; minor++) {
        const release = HOP_RELEASES[minor] ? releaseOfVersion(HOP_RELEASES[minor]) : undefined;
        if (!release) throw new Error(`no hop release for Linkerd 2.${minor}`);
        out.push(release);
    }
    if (target.version !== current.version) out.push(target);
    return out;
}

/** What a hop changes about the Gateway API CRDs, all handled by the program and the upgrade. */
function gatewayApiHazards(from: LinkerdRelease, to: LinkerdRelease): Hazard[] {
    const hazards: Hazard[] = [];
    if (from.gatewayApi.crds.length < to.gatewayApi.crds.length || from.gatewayApi.installedByDefault !== to.gatewayApi.installedByDefault) {
        hazards.push({
            id: "gateway-api-crds",
            message:
                `linkerd-crds ${to.charts.crds.version} ships ${to.gatewayApi.crds.length} Gateway API CRD(s)${to.gatewayApi.installedByDefault ? "" : " only when asked (installGatewayAPI)"}: ` +
                "the program keeps them with their current owner (linkerd.gatewayApiCrds, read from the cluster), so no HTTPRoute or GRPCRoute is dropped",
            handling: "handled",
        });
    }
    const v1 = (r: LinkerdRelease) => r.gatewayApi.specVersions["httproutes.gateway.networking.k8s.io"]?.includes("v1") ?? false;
    if (!v1(from) && v1(to)) {
        hazards.push({
            id: "gateway-api-storage",
            message:
                `linkerd-crds ${to.charts.crds.version} stores HTTPRoute and GRPCRoute at v1: after the hop every route is written back at v1 and the CRDs' ` +
                "storedVersions reduced to it (GRPCRoute v1alpha2 would otherwise keep Gateway API CRDs of v1.2 or later from ever replacing them)",
            handling: "handled",
        });
    }
    return hazards;
}

/** The hazards of going from `from` to `to` (adjacent majors, or within one), as the program handles them. */
export function hopHazards(from: LinkerdRelease, to: LinkerdRelease, ctx: PlanContext): Hazard[] {
    const hazards: Hazard[] = [];
    const crosses = (minor: number) => from.minor < minor && to.minor >= minor;
    if (crosses(15)) {
        hazards.push({
            id: "policy-crds-first",
            message:
                "viz 2.15 uses Server policy.linkerd.io/v1beta2: the linkerd-crds release is upgraded first (the program orders CRDs, control plane, extensions)",
            handling: "handled",
        });
    }
    if (from.shutdownEndpoint.defaultEnabled && !to.shutdownEndpoint.defaultEnabled) {
        const jobs = ctx.shutdownJobs;
        if (jobs.length > 0 && ctx.enableShutdownEndpoint !== true) {
            hazards.push({
                id: "shutdown-endpoint-off",
                message:
                    `from 2.16 the proxy's /shutdown endpoint is off by default, and ${jobs.join(", ")} stop their proxy through it ` +
                    `(linkerd-await --shutdown): they would never finish. Set controlPlane.enableShutdownEndpoint to true (or give them a native sidecar) before this hop`,
                handling: "action",
            });
        } else {
            hazards.push({
                id: "shutdown-endpoint-off",
                message: `from 2.16 the proxy's /shutdown endpoint is off by default${ctx.enableShutdownEndpoint ? " (kept on: controlPlane.enableShutdownEndpoint)" : "; no live Job in a meshed namespace relies on it"}`,
                handling: "handled",
            });
        }
    }
    hazards.push(...gatewayApiHazards(from, to));
    if (crosses(18)) {
        hazards.push({
            id: "inbound-port-4143",
            message:
                "2.18 moves meshed traffic to the proxy's port 4143 and adds helm.sh/resource-policy: keep to the Gateway API CRDs; the workloads are restarted after the hop",
            handling: "handled",
        });
    }
    if (from.charts.jaeger && !to.charts.jaeger && ctx.tracing) {
        hazards.push({
            id: "jaeger-removed",
            message: `linkerd-jaeger is gone from ${to.version}: its release is uninstalled and the proxies send spans through the control plane's proxy.tracing`,
            handling: "handled",
        });
    }
    if (crosses(19)) {
        hazards.push({
            id: "iptables-nft",
            message:
                "2.19 switches proxy-init to iptables-nft and refuses connections to ports a Service does not list: the workloads are restarted after the hop",
            handling: "handled",
        });
    }
    if (to.minKubernetesMinor > from.minKubernetesMinor) {
        const tooOld = ctx.kubernetesMinor !== undefined && ctx.kubernetesMinor < to.minKubernetesMinor;
        hazards.push({
            id: "kubernetes-version",
            message: `Linkerd ${to.version} needs Kubernetes >= 1.${to.minKubernetesMinor}${tooOld ? `, the cluster is 1.${ctx.kubernetesMinor}: upgrade k3s first` : ""}`,
            handling: tooOld ? "action" : "handled",
        });
    }
    if (!from.nativeSidecar.defaultEnabled && to.nativeSidecar.defaultEnabled) {
        hazards.push({
            id: "native-sidecar-default",
            message: `the proxy runs as a native sidecar by default from 2.20 (Kubernetes >= 1.29): re-injected pods get it at the restart after this hop`,
            handling: "handled",
        });
    }
    return hazards;
}

/**
 * The hops from what runs to `target`, each with its hazards; problems when the upgrade cannot be
 * made (a downgrade, a data plane already two majors behind the control plane).
 */
export function planUpgrade(running: Running, target: LinkerdRelease, ctx: PlanContext): UpgradePlan {
    const current = running.controlPlane;
    const problems: string[] = [];
    if (isOlder(target, current)) {
        problems.push(`${target.version} is older than the running control plane (${current.version}): the upgrade only goes forward`);
    }
    if (running.oldestProxyMinor !== undefined && current.minor - running.oldestProxyMinor > 1) {
        problems.push(
            `meshed pods still run 2.${running.oldestProxyMinor} proxies, more than one major behind the control plane (${current.version}): ` +
                "restart them first (npm run check -- --restart)",
        );
    }
    if (problems.length > 0) return { hops: [], problems };
    const hops: Hop[] = [];
    let from = current;
    for (const to of hopReleases(current, target)) {
        hops.push({ from, to, hazards: hopHazards(from, to, ctx) });
        from = to;
    }
    return { hops, problems };
}

/** The plan for people: one block per hop, its hazards below it. */
export function formatPlan(plan: UpgradePlan): string {
    if (plan.problems.length > 0) return plan.problems.map((p) => `cannot upgrade: ${p}`).join("\n");
    if (plan.hops.length === 0) return "nothing to do: the control plane and every meshed proxy already run this release";
    const lines: string[] = [];
    plan.hops.forEach((hop, i) => {
        lines.push(
            `hop ${i + 1}/${plan.hops.length}: ${hop.from.version} -> ${hop.to.version} (Linkerd 2.${hop.to.minor}; charts ${hop.to.charts.controlPlane.version})`,
        );
        for (const h of hop.hazards) lines.push(`  [${h.handling === "action" ? "ACTION" : "handled"}] ${h.id}: ${h.message}`);
    });
    return lines.join("\n");
}

/**
 * Why a plain `pulumi up` of `target` must not run against what the cluster runs: a downgrade, or a jump
 * of more than one major ahead of the control plane or of the oldest meshed proxy (Linkerd supports
 * neither). Each names the command that does it right.
 */
export function directUpgradeProblems(
    target: LinkerdRelease,
    running: { controlPlane?: LinkerdRelease; oldestProxyMinor?: number },
    stack: string,
): string[] {
    const problems: string[] = [];
    const current = running.controlPlane;
    const upgrade = `npm run upgrade -- --stack ${stack} --to ${target.version}`;
    if (current && isOlder(target, current)) {
        problems.push(
            `${target.version} is older than the control plane running on the cluster (${current.version}): Linkerd does not support downgrades ` +
                `(CRD storage versions, proxies newer than their control plane). Keep linkerd.version at ${current.version} or later`,
        );
        return problems;
    }
    if (current && target.minor - current.minor > 1) {
        problems.push(
            `${target.version} (Linkerd 2.${target.minor}) is ${target.minor - current.minor} majors ahead of the control plane running on the cluster (${current.version}): ` +
                `majors may not be skipped. Run \`${upgrade}\`, which goes one major at a time and restarts the meshed workloads at every hop`,
        );
    } else if (running.oldestProxyMinor !== undefined && target.minor - running.oldestProxyMinor > 1) {
        problems.push(
            `${target.version} (Linkerd 2.${target.minor}) would leave meshed pods whose proxies run 2.${running.oldestProxyMinor} more than one major behind the control plane: ` +
                `restart them first (\`npm run check -- --stack ${stack} --restart\`), or run \`${upgrade}\``,
        );
    }
    return problems;
}
