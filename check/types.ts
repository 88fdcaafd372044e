/**
 * What `npm run check` reports: one result per thing checked, grouped as `linkerd check` groups its
 * checks, each failure or warning with the fix. The check functions (check/*.ts) are pure: they
 * take the objects read from the cluster (ClusterSnapshot), the program's configuration and the time,
 * and return results; cli/check.ts reads the cluster and prints them.
 */
export type CheckStatus = "ok" | "warn" | "fail";

export type CheckGroup = "control plane" | "identity" | "data plane" | "extensions" | "longhorn";

/**
 * Every check by its stable ID, with its group: what scripts and tests match on (never the message, which may
 * change). Each ID is a heading, and so an anchor, of docs/checks.md (as `linkerd check` points at
 * linkerd.io/checks/#<id>); test/check.test.ts keeps the two in step.
 */
export const CHECKS = {
    "pl-cp-crds-release": "control plane",
    "pl-cp-crds": "control plane",
    "pl-cp-gateway-api-crds": "control plane",
    "pl-cp-gateway-api-versions": "control plane",
    "pl-cp-linkerd-config": "control plane",
    "pl-cp-deployments": "control plane",
    "pl-identity-trust-anchors": "identity",
    "pl-identity-trust-anchor-valid": "identity",
    "pl-identity-trust-anchor-expiry": "identity",
    "pl-identity-trust-anchor-source": "identity",
    "pl-identity-trust-anchor-matches": "identity",
    "pl-identity-issuer-certificate": "identity",
    "pl-identity-issuer-key": "identity",
    "pl-identity-issuer-ca": "identity",
    "pl-identity-issuer-name": "identity",
    "pl-identity-issuer-signed": "identity",
    "pl-identity-issuer-validity": "identity",
    "pl-identity-issuer-ready": "identity",
    "pl-dp-meshed-namespace": "data plane",
    "pl-dp-meshed-workload": "data plane",
    "pl-dp-ingress-nginx": "data plane",
    "pl-dp-traefik": "data plane",
    "pl-dp-traefik-ingress-mode": "data plane",
    "pl-dp-jobs": "data plane",
    "pl-dp-proxy-version": "data plane",
    "pl-ext-viz": "extensions",
    "pl-ext-jaeger": "extensions",
    "pl-ext-proxy-tracing": "extensions",
    "pl-ext-podmonitors": "extensions",
    "pl-ext-dashboards": "extensions",
    "pl-longhorn-installed": "longhorn",
    "pl-longhorn-pod-ip": "longhorn",
    "pl-longhorn-workload": "longhorn",
} as const satisfies Record<string, CheckGroup>;

export type CheckId = keyof typeof CHECKS;

/** Where each check is explained: `docs/checks.md#<id>`. */
export const CHECKS_DOC = "docs/checks.md";

export function checkDoc(id: CheckId): string {
    return `${CHECKS_DOC}#${id}`;
}

export interface CheckResult {
    /** Stable: what to match on. */
    readonly id: CheckId;
    /** `docs/checks.md#<id>`: what the check means and how to fix it. */
    readonly doc: string;
    readonly group: CheckGroup;
    /** What was checked, e.g. "issuer certificate" or "deployment linkerd/linkerd-identity". */
    readonly name: string;
    readonly status: CheckStatus;
    /** What was found. */
    readonly message: string;
    /** What to do (failures and warnings). */
    readonly fix?: string;
    /** Workloads `--restart` would roll (data-plane failures and warnings): `<Kind>/<namespace>/<name>`. */
    readonly restart?: readonly string[];
}

function result(id: CheckId) {
    return { id, doc: checkDoc(id), group: CHECKS[id] };
}

export function ok(id: CheckId, name: string, message: string): CheckResult {
    return { ...result(id), name, status: "ok", message };
}

export function warn(id: CheckId, name: string, message: string, fix: string, restart?: readonly string[]): CheckResult {
    return { ...result(id), name, status: "warn", message, fix, ...(restart && restart.length > 0 ? { restart } : {}) };
}

export function fail(id: CheckId, name: string, message: string, fix: string, restart?: readonly string[]): CheckResult {
    return { ...result(id), name, status: "fail", message, fix, ...(restart && restart.length > 0 ? { restart } : {}) };
}

/** 0 when nothing failed (warnings allowed), 1 otherwise. Exit 2 (cannot run) is the command's. */
export function exitCodeOf(results: readonly CheckResult[]): 0 | 1 {
    return results.some((r) => r.status === "fail") ? 1 : 0;
}

/** What every check function may use besides the snapshot: the configuration, the stack and the time. */
export interface CheckContext {
    readonly config: import("../lib/config").PiclusterConfig;
    /** The stack, for the `pulumi up` commands fixes name. */
    readonly stack: string;
    readonly now: Date;
}
