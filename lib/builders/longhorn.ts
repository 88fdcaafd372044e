/**
 * Meshing Longhorn after it is deployed (guide: "Meshing cluster services / Longhorn").
 *
 * Longhorn cannot be meshed through its chart or its namespace (picluster issue #47): wait until it
 * is completely deployed (longhorn-manager rolled out and the CSI driver registered), make
 * longhorn-manager listen on 0.0.0.0 (the proxy forwards inbound traffic from 127.0.0.1), then add
 * `linkerd.io/inject: enabled` to the longhorn-manager DaemonSet and longhorn-ui Deployment pod templates.
 *
 * Pure builders: each step is a pair of bash scripts (create, delete) run by `local.Command` with
 * `COMMAND_INTERPRETER`, and by the tests against a stand-in kubectl. Every script:
 * - checks that the kubectl binary exists (`command -v`) and that the cluster answers (`get --raw /readyz`),
 *   failing with a message that names the config key to fix;
 * - runs kubectl with `--kubeconfig <path> --context <ctx>` pinned (the provider's KubeTarget), never
 *   the shell's current context;
 * - is idempotent: it reads the current value first and changes nothing when it is already right;
 * - delete reverts the step (and succeeds when the object is already gone).
 */
import { PROJECT } from "../config/keys";
import type { KubeTarget } from "../kubeconfig";

/** `bash -euo pipefail -c <script>`: the interpreter local.Command runs every script with. */
export const COMMAND_INTERPRETER: readonly string[] = ["bash", "-euo", "pipefail", "-c"];

export const LONGHORN_MANAGER = "longhorn-manager";
export const LONGHORN_UI = "longhorn-ui";
export const LONGHORN_CSI_DRIVER = "driver.longhorn.io";
export const POD_IP_ENV = "POD_IP";
export const POD_IP_ANY = "0.0.0.0";

/** kubectl, pinned to one kubeconfig and context. */
export interface KubectlTarget {
    /** kubectl binary (config: picluster-linkerd:longhorn.kubectl). */
    readonly kubectl: string;
    readonly kubeconfigPath: string;
    readonly context: string;
}

/** Why the Longhorn steps cannot run when the KubeTarget has no context (names the config key to set). */
export function missingContextMessage(target: KubeTarget): string {
    return (
        `cannot resolve the Kubernetes context for the Longhorn steps: kubeconfig ${target.kubeconfigPath} is missing or has no current-context. ` +
        `Set ${PROJECT}:kubernetes.context (and ${PROJECT}:kubernetes.kubeconfig), or set ${PROJECT}:longhorn.enabled to false.`
    );
}

/** The KubeTarget with a context, or a clear error naming the config key. */
export function kubectlTarget(target: KubeTarget, kubectl: string): KubectlTarget {
    if (!target.context) throw new Error(missingContextMessage(target));
    return { kubectl, kubeconfigPath: target.kubeconfigPath, context: target.context };
}

/**
 * Scripts that only fail with `message`: what a step runs when it cannot be pinned to a context.
 * The program still renders and previews offline; `pulumi up` stops at the first step with the message.
 */
export function failingScripts(message: string): StepScripts {
    const line = `echo ${shq(`${PROJECT}: ${message}`)} >&2\nexit 1\n`;
    return { create: line, delete: line };
}

/** Single-quoted for bash. */
export function shq(value: string): string {
    return `'${value.replace(/'/g, `'\\''`)}'`;
}

export interface StepScripts {
    readonly create: string;
    readonly delete: string;
}

/** The lines every script starts with: strict mode, the kubectl check, the pinned `k` function, the reachability check. */
export function preamble(t: KubectlTarget): string {
    return [
        "set -euo pipefail",
        `KUBECTL=${shq(t.kubectl)}`,
        `KUBE_CONFIG=${shq(t.kubeconfigPath)}`,
        `KUBE_CONTEXT=${shq(t.context)}`,
        `if ! command -v "$KUBECTL" >/dev/null 2>&1; then`,
        `  echo "${PROJECT}: kubectl not found: '$KUBECTL' is not an executable file or on PATH (set ${PROJECT}:longhorn.kubectl)" >&2`,
        "  exit 127",
        "fi",
        `k() { "$KUBECTL" --kubeconfig "$KUBE_CONFIG" --context "$KUBE_CONTEXT" "$@"; }`,
        `if ! readyz_out=$(k get --raw /readyz 2>&1); then`,
        `  echo "${PROJECT}: cannot reach the Kubernetes cluster (context '$KUBE_CONTEXT' of kubeconfig '$KUBE_CONFIG'; check ${PROJECT}:kubernetes.kubeconfig and ${PROJECT}:kubernetes.context): $readyz_out" >&2`,
        "  exit 1",
        "fi",
    ].join("\n");
}

function script(t: KubectlTarget, body: string[]): string {
    return [preamble(t), ...body].join("\n") + "\n";
}

/** Step (a): wait until Longhorn is completely deployed. Read-only, so its delete does nothing. */
export function longhornWaitScripts(t: KubectlTarget, opts: { namespace: string; timeoutSeconds: number; pollSeconds?: number }): StepScripts {
    const ns = shq(opts.namespace);
    const poll = opts.pollSeconds ?? 5;
    const body = [
        `deadline=$((SECONDS + ${opts.timeoutSeconds}))`,
        `echo "waiting up to ${opts.timeoutSeconds}s for Longhorn in namespace ${opts.namespace}"`,
        `until k -n ${ns} get daemonset ${LONGHORN_MANAGER} -o name >/dev/null 2>&1; do`,
        `  if (( SECONDS >= deadline )); then echo "${PROJECT}: daemonset/${LONGHORN_MANAGER} not found in namespace ${opts.namespace} after ${opts.timeoutSeconds}s: is Longhorn installed there? (${PROJECT}:longhorn.namespace)" >&2; exit 1; fi`,
        `  sleep ${poll}`,
        "done",
        `remaining=$((deadline - SECONDS)); if (( remaining < 1 )); then remaining=1; fi`,
        `if ! k -n ${ns} rollout status daemonset/${LONGHORN_MANAGER} --timeout="\${remaining}s"; then`,
        `  echo "${PROJECT}: daemonset/${LONGHORN_MANAGER} in ${opts.namespace} did not finish rolling out within ${opts.timeoutSeconds}s (${PROJECT}:longhorn.waitTimeoutSeconds)" >&2`,
        "  exit 1",
        "fi",
        `until k get csidriver ${LONGHORN_CSI_DRIVER} -o name >/dev/null 2>&1; do`,
        `  if (( SECONDS >= deadline )); then echo "${PROJECT}: CSI driver ${LONGHORN_CSI_DRIVER} not registered within ${opts.timeoutSeconds}s (${PROJECT}:longhorn.waitTimeoutSeconds)" >&2; exit 1; fi`,
        `  sleep ${poll}`,
        "done",
        `echo "Longhorn is deployed: daemonset/${LONGHORN_MANAGER} rolled out, CSI driver ${LONGHORN_CSI_DRIVER} registered"`,
    ];
    return {
        create: script(t, body),
        delete: `echo "nothing to revert: waiting for Longhorn changed nothing"\n`,
    };
}

const POD_IP_JSONPATH = `jsonpath={.spec.template.spec.containers[?(@.name=="${LONGHORN_MANAGER}")].env[?(@.name=="${POD_IP_ENV}")].value}`;

/** The strategic merge patch restoring POD_IP as the Longhorn chart defines it (fieldRef status.podIP). */
export const RESTORE_POD_IP_PATCH = JSON.stringify({
    spec: {
        template: {
            spec: {
                containers: [
                    {
                        name: LONGHORN_MANAGER,
                        env: [{ name: POD_IP_ENV, value: null, valueFrom: { fieldRef: { apiVersion: "v1", fieldPath: "status.podIP" } } }],
                    },
                ],
            },
        },
    },
});

/** Step (b): longhorn-manager listens on 0.0.0.0 (guide: `kubectl set env daemonset/longhorn-manager -n longhorn-system POD_IP=0.0.0.0`). */
export function longhornPodIpScripts(t: KubectlTarget, namespace: string): StepScripts {
    const ns = shq(namespace);
    const read = `current=$(k -n ${ns} get daemonset ${LONGHORN_MANAGER} -o ${shq(POD_IP_JSONPATH)})`;
    const create = [
        read,
        `if [ "$current" = "${POD_IP_ANY}" ]; then`,
        `  echo "daemonset/${LONGHORN_MANAGER}: ${POD_IP_ENV} is already ${POD_IP_ANY}"`,
        "else",
        // -c: only the manager container (newer charts add others to the DaemonSet).
        `  k -n ${ns} set env daemonset/${LONGHORN_MANAGER} -c ${LONGHORN_MANAGER} ${POD_IP_ENV}=${POD_IP_ANY}`,
        "fi",
    ];
    const del = [
        `if [ -z "$(k -n ${ns} get daemonset ${LONGHORN_MANAGER} --ignore-not-found -o name)" ]; then`,
        `  echo "daemonset/${LONGHORN_MANAGER} is gone from ${namespace}: nothing to revert"; exit 0`,
        "fi",
        read,
        `if [ "$current" = "${POD_IP_ANY}" ]; then`,
        `  k -n ${ns} patch daemonset ${LONGHORN_MANAGER} --type strategic -p ${shq(RESTORE_POD_IP_PATCH)}`,
        "else",
        `  echo "daemonset/${LONGHORN_MANAGER}: ${POD_IP_ENV} is not overridden: nothing to revert"`,
        "fi",
    ];
    return { create: script(t, create), delete: script(t, del) };
}

/** The workloads step (c) meshes, in the guide's order. */
export const LONGHORN_MESHED_WORKLOADS: readonly { readonly kind: "daemonset" | "deployment"; readonly name: string }[] = [
    { kind: "daemonset", name: LONGHORN_MANAGER },
    { kind: "deployment", name: LONGHORN_UI },
];

export const INJECT_ENABLED_MERGE_PATCH = JSON.stringify({ spec: { template: { metadata: { annotations: { "linkerd.io/inject": "enabled" } } } } });
export const INJECT_REMOVE_JSON_PATCH = JSON.stringify([{ op: "remove", path: "/spec/template/metadata/annotations/linkerd.io~1inject" }]);
const INJECT_JSONPATH = "jsonpath={.spec.template.metadata.annotations.linkerd\\.io/inject}";

/** Step (c): the inject annotation on the longhorn-manager and longhorn-ui pod templates (guide: `kubectl patch ... linkerd.io/inject: enabled`). */
export function longhornAnnotateScripts(t: KubectlTarget, namespace: string): StepScripts {
    const ns = shq(namespace);
    const create: string[] = [];
    for (const w of LONGHORN_MESHED_WORKLOADS) {
        create.push(
            `current=$(k -n ${ns} get ${w.kind} ${w.name} -o ${shq(INJECT_JSONPATH)})`,
            `if [ "$current" = "enabled" ]; then`,
            `  echo "${w.kind}/${w.name}: already annotated linkerd.io/inject=enabled"`,
            "else",
            `  k -n ${ns} patch ${w.kind} ${w.name} --type merge -p ${shq(INJECT_ENABLED_MERGE_PATCH)}`,
            "fi",
        );
    }
    const del: string[] = [];
    for (const w of [...LONGHORN_MESHED_WORKLOADS].reverse()) {
        del.push(
            `if [ -z "$(k -n ${ns} get ${w.kind} ${w.name} --ignore-not-found -o name)" ]; then`,
            `  echo "${w.kind}/${w.name} is gone from ${namespace}: nothing to revert"`,
            "else",
            `  current=$(k -n ${ns} get ${w.kind} ${w.name} -o ${shq(INJECT_JSONPATH)})`,
            `  if [ "$current" = "enabled" ]; then`,
            `    k -n ${ns} patch ${w.kind} ${w.name} --type json -p ${shq(INJECT_REMOVE_JSON_PATCH)}`,
            "  else",
            `    echo "${w.kind}/${w.name}: linkerd.io/inject is not "enabled": nothing to revert"`,
            "  fi",
            "fi",
        );
    }
    return { create: script(t, create), delete: script(t, del) };
}
