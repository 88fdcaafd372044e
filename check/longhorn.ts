/**
 * Longhorn (guide: "Meshing cluster services / Longhorn"): longhorn-manager still listens on
 * 0.0.0.0 (POD_IP) and longhorn-manager and longhorn-ui still carry the inject annotation. The
 * program sets both with kubectl after Longhorn is deployed; a Longhorn upgrade resets the
 * templates, and `pulumi refresh` cannot notice (components/longhorn.ts), so this is where it shows.
 */
import { LONGHORN_MANAGER, LONGHORN_UI, POD_IP_ANY, POD_IP_ENV } from "../lib/builders/longhorn";
import { PROJECT } from "../lib/config/keys";
import { get } from "../lib/k8s";
import { checkWorkloadMeshed } from "./dataPlane";
import { ClusterSnapshot, Obj, findObject } from "./snapshot";
import { CheckContext, CheckResult, fail, ok } from "./types";

const GROUP = "longhorn";
/** The composition root's name in index.ts and the LonghornMeshing component's type: the steps' URNs. */
const ROOT_TYPE = "picluster:linkerd:PiclusterLinkerd";
const LONGHORN_TYPE = "picluster:linkerd:LonghornMeshing";
const ROOT_NAME = "linkerd";

/** URN of a Longhorn step (`mesh-pod-ip`, `mesh-annotate`) in a stack: what `pulumi up --replace` takes. */
export function longhornStepUrn(stack: string, step: "mesh-pod-ip" | "mesh-annotate"): string {
    return `urn:pulumi:${stack}::${PROJECT}::${ROOT_TYPE}$${LONGHORN_TYPE}$command:local:Command::${ROOT_NAME}-longhorn-${step}`;
}

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
                GROUP,
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
                GROUP,
                name,
                `${POD_IP_ENV} of container ${LONGHORN_MANAGER} is ${now}, not ${POD_IP_ANY}: longhorn-manager listens on the pod IP only, and the proxy (which forwards from 127.0.0.1) cannot reach it; a Longhorn upgrade resets it`,
                fix,
            ),
        );
    } else {
        results.push(ok(GROUP, name, `${POD_IP_ENV}=${POD_IP_ANY}`));
    }
    results.push(...checkWorkloadMeshed(s, ctx, GROUP, { kind: "DaemonSet", namespace: ns, name: LONGHORN_MANAGER }, fix));
    results.push(...checkWorkloadMeshed(s, ctx, GROUP, { kind: "Deployment", namespace: ns, name: LONGHORN_UI }, fix));
    return results;
}
