/**
 * Control plane (linkerd check's "linkerd-existence" and "linkerd-config" groups): the CRDs the
 * linkerd-crds release installed are all there, the Gateway API CRDs the release needs, linkerd-config,
 * and the control plane's Deployments available.
 */
import { linkerdConfigValues } from "../lib/builders/controlPlane";
import { LINKERD_NAMESPACE } from "../lib/k8s";
import { kubectlCommand } from "../lib/kubeconfig";
import { gatewayApiRequirement, policyControllerGatewayApiNeeds } from "../lib/gatewayApi";
import { get, listAt, numAt, str, stringMapAt } from "../lib/k8s";
import { CONTROL_PLANE_DEPLOYMENTS, ClusterSnapshot, LINKERD_CONFIG, Obj, findObject } from "./snapshot";
import { CheckContext, CheckId, CheckResult, fail, ok, warn } from "./types";

const GATEWAY_API_INSTALL = "https://github.com/kubernetes-sigs/gateway-api/releases (standard-install.yaml; k3s 1.37+ installs them itself)";

export function checkCrds(s: ClusterSnapshot, ctx: CheckContext): CheckResult[] {
    const present = new Map(s.crds.map((c) => [c.name, c]));
    const k = ctx.config.kubernetes;
    const helm = `helm --kubeconfig ${k.kubeconfigPath}${k.context ? ` --kube-context ${k.context}` : ""} -n ${LINKERD_NAMESPACE}`;
    const results: CheckResult[] = [];
    if (s.releaseCrds === undefined) {
        results.push(
            fail(
                "pl-cp-crds-release",
                "linkerd-crds release",
                `no deployed Helm release linkerd-crds in namespace ${LINKERD_NAMESPACE}`,
                `run \`pulumi up -s ${ctx.stack}\``,
            ),
        );
    } else {
        const missing = s.releaseCrds.filter((n) => !present.has(n));
        if (missing.length > 0) {
            results.push(
                fail(
                    "pl-cp-crds",
                    "Linkerd CRDs",
                    `${missing.length} CRD(s) the linkerd-crds release installed are missing: ${missing.join(", ")} (the control plane's controllers fail without them)`,
                    `re-apply the release's manifest: \`${helm} get manifest linkerd-crds | ${kubectlCommand(k, "apply --server-side -f -")}\` (\`pulumi up\` alone does not: the release itself did not change)`,
                ),
            );
        } else {
            results.push(ok("pl-cp-crds", "Linkerd CRDs", `all ${s.releaseCrds.length} CRDs of the linkerd-crds release are present`));
        }
    }
    results.push(...policyControllerNeedsResults(present, ctx));
    const gateway = gatewayApiRequirement(ctx.config.linkerd.release);
    if (gateway) {
        const lacking = gateway.crds.filter((n) => !present.get(n)?.servedVersions.includes(gateway.version));
        const message = `Linkerd ${ctx.config.linkerd.release.version} does not install the Gateway API CRDs (since ${gateway.since}); ${lacking.join(", ")} not served at ${gateway.version}`;
        const fix = `install the Gateway API CRDs (${GATEWAY_API_INSTALL})`;
        if (lacking.length === 0)
            results.push(ok("pl-cp-gateway-api-crds", "Gateway API CRDs", `${gateway.crds.join(", ")} serve ${gateway.version}`));
        else if (gateway.required)
            results.push(
                fail("pl-cp-gateway-api-crds", "Gateway API CRDs", `${message}: the policy controller and \`linkerd check\` need them`, fix),
            );
        else results.push(warn("pl-cp-gateway-api-crds", "Gateway API CRDs", `${message}: HTTPRoute/GRPCRoute policies cannot be used`, fix));
    }
    return results;
}

export function checkLinkerdConfig(s: ClusterSnapshot, ctx: CheckContext): CheckResult[] {
    const cm = findObject(s, "ConfigMap", LINKERD_NAMESPACE, LINKERD_CONFIG);
    if (!cm) {
        return [
            fail(
                "pl-cp-linkerd-config",
                LINKERD_CONFIG,
                `ConfigMap ${LINKERD_NAMESPACE}/${LINKERD_CONFIG} is missing`,
                `run \`pulumi up -s ${ctx.stack}\` (linkerd-control-plane renders it)`,
            ),
        ];
    }
    if (!linkerdConfigValues(stringMapAt(cm, "data"))) {
        return [
            fail(
                "pl-cp-linkerd-config",
                LINKERD_CONFIG,
                `ConfigMap ${LINKERD_NAMESPACE}/${LINKERD_CONFIG} holds no control-plane values (no identityTrustAnchorsPEM under data.values)`,
                `run \`pulumi up -s ${ctx.stack}\``,
            ),
        ];
    }
    return [ok("pl-cp-linkerd-config", LINKERD_CONFIG, `ConfigMap ${LINKERD_NAMESPACE}/${LINKERD_CONFIG} present`)];
}

/** Why a Deployment is not available (all replicas updated, ready and available), or undefined. */
export function deploymentProblem(d: Obj): string | undefined {
    const want = numAt(d, "spec", "replicas") ?? 1;
    if (want === 0) return "it is scaled to 0 replicas";
    const available = listAt(d, "status", "conditions").find((c) => get(c, "type") === "Available");
    const ready = numAt(d, "status", "readyReplicas") ?? 0;
    const avail = numAt(d, "status", "availableReplicas") ?? 0;
    const availableMessage = str(get(available, "message"));
    if (get(available, "status") !== "True" || avail < want) {
        return `${avail}/${want} replicas available, ${ready} ready${availableMessage ? ` (${availableMessage})` : ""}`;
    }
    if ((numAt(d, "status", "observedGeneration") ?? 0) < (numAt(d, "metadata", "generation") ?? 0)) return "its latest change is not rolled out yet";
    return undefined;
}

/** Each named Deployment exists and is available. */
export function checkDeployments(
    s: ClusterSnapshot,
    ctx: CheckContext,
    id: CheckId,
    namespace: string,
    names: readonly string[],
    installedBy: string,
): CheckResult[] {
    const k = (args: string) => kubectlCommand(ctx.config.kubernetes, args);
    return names.map((name) => {
        const what = `deployment ${namespace}/${name}`;
        const d = findObject(s, "Deployment", namespace, name);
        if (!d) return fail(id, what, `${what} is missing`, `run \`pulumi up -s ${ctx.stack}\` (${installedBy} installs it)`);
        const problem = deploymentProblem(d);
        if (problem) {
            return fail(
                id,
                what,
                `${what} is not available: ${problem}`,
                `see why its pods do not start: \`${k(`-n ${namespace} describe deployment ${name}`)}\` and \`${k(`-n ${namespace} get pods`)}\``,
            );
        }
        return ok(id, what, `${numAt(d, "status", "availableReplicas")}/${numAt(d, "spec", "replicas") ?? 1} replica(s) available`);
    });
}

export function checkControlPlane(s: ClusterSnapshot, ctx: CheckContext): CheckResult[] {
    return [
        ...checkCrds(s, ctx),
        ...checkLinkerdConfig(s, ctx),
        ...checkDeployments(s, ctx, "pl-cp-deployments", LINKERD_NAMESPACE, CONTROL_PLANE_DEPLOYMENTS, "linkerd-control-plane"),
    ];
}

/**
 * Releases before edge-25.3.1 watch Gateway API versions the cluster may not serve (GRPCRoute v1alpha2,
 * HTTPRoute v1beta1): their destination pods never become ready without them (lib/gatewayApi.ts).
 */
function policyControllerNeedsResults(
    present: ReadonlyMap<string, { readonly servedVersions: readonly string[] }>,
    ctx: CheckContext,
): CheckResult[] {
    const release = ctx.config.linkerd.release;
    const missing = policyControllerGatewayApiNeeds(release.edge, release.minor).filter(
        (need) => !need.crds.some((n) => present.get(n)?.servedVersions.includes(need.version)),
    );
    if (missing.length === 0) return [];
    const what = missing.map((n) => `${n.crds.length > 1 ? "one of " : ""}${n.crds.join(", ")} at ${n.version}`).join("; ");
    return [
        fail(
            "pl-cp-gateway-api-versions",
            "Gateway API versions the policy controller watches",
            `Linkerd ${release.version}'s policy controller watches ${what}, which the cluster does not serve: its destination pods never become ready`,
            `upgrade Linkerd past edge-25.3.1 (\`npm run upgrade -- --stack ${ctx.stack} --to <release>\`), or serve those versions (linkerd.gatewayApiCrds "linkerd-crds" installs them with the release's chart)`,
        ),
    ];
}
