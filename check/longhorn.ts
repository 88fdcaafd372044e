/**
 * Longhorn (guide: "Meshing cluster services / Longhorn"): longhorn-manager still listens on
 * 0.0.0.0 (POD_IP) and longhorn-manager and longhorn-ui still carry the inject annotation. The
 * program sets both with kubectl after Longhorn is deployed; a Longhorn upgrade resets the
 * templates, and `pulumi refresh` cannot notice (components/longhorn.ts), so this is where it shows.
 */
import { LONGHORN_MANAGER, LONGHORN_UI, POD_IP_ANY, POD_IP_ENV } from "../lib/builders/longhorn";
import { longhornStepUrn } from "../lib/names";
import { get } from "../lib/k8s";
import { checkWorkloadMeshed } from "./dataPlane";
import { ClusterSnapshot, Obj, findObject } from "./snapshot";
import { CheckContext, CheckResult, fail, ok } from "./types";

export { longhornStepUrn };

/** The fix for a reset template: re-run the two steps (they are idempotent). */
export function longhornReapply(stack: string): string {
    return `re-run the program's Longhorn steps: \`pulumi up -s ${stack} --replace '${longhornStepUrn(stack, "mesh-pod-ip")}' --replace '${longhornStepUrn(stack, "mesh-annotate")}'\``;
}

function podIp(ds: Obj): { value?: string; valueFrom?: unknown } | undefined {
    const containers = (get(ds, "spec", "template", "spec", "containers") ?? []) as Obj[];
    const manager = containers.find((c) => c.name === LONGHORN_MANAGER);
    return ((manager?.env ?? []) as { name?: string; value?: string; valueFrom?: unknown }[]).find((e) => e.name === POD_IP_ENV);
}

export function checkLonghorn(s: ClusterSnapshot, ctx: CheckContext): CheckResult[] {
    const ns = ctx.config.longhorn.namespace;
    const fix = longhornReapply(ctx.stack);
    const ds = findObject(s, "DaemonSet", ns, LONGHORN_MANAGER);
    if (!ds) {
        return [
            fail(
                "pl-longhorn-installed",
                `daemonset ${ns}/${LONGHORN_MANAGER}`,
                `DaemonSet ${ns}/${LONGHORN_MANAGER} does not exist: is Longhorn installed in ${ns} (longhorn.namespace)?`,
                `install Longhorn, or set longhorn.enabled to false`,
            ),
        ];
    }
    const results: CheckResult[] = [];
    const env = podIp(ds);
    const name = `${LONGHORN_MANAGER} ${POD_IP_ENV}`;
    if (env?.value !== POD_IP_ANY) {
        const now = env === undefined ? "unset" : env.value !== undefined ? `"${env.value}"` : `taken from ${JSON.stringify(env.valueFrom)}`;
        results.push(
            fail(
                "pl-longhorn-pod-ip",
                name,
                `${POD_IP_ENV} of container ${LONGHORN_MANAGER} is ${now}, not ${POD_IP_ANY}: longhorn-manager listens on the pod IP only, and the proxy (which forwards from 127.0.0.1) cannot reach it; a Longhorn upgrade resets it`,
                fix,
            ),
        );
    } else {
        results.push(ok("pl-longhorn-pod-ip", name, `${POD_IP_ENV}=${POD_IP_ANY}`));
    }
    results.push(...checkWorkloadMeshed(s, ctx, "pl-longhorn-workload", { kind: "DaemonSet", namespace: ns, name: LONGHORN_MANAGER }, fix));
    results.push(...checkWorkloadMeshed(s, ctx, "pl-longhorn-workload", { kind: "Deployment", namespace: ns, name: LONGHORN_UI }, fix));
    return results;
}
