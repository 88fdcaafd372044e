/**
 * What `npm run check` reports: one result per thing checked, grouped as `linkerd check` groups its
 * checks, each failure or warning with the fix. The check functions (check/*.ts) are pure: they
 * take the objects read from the cluster (ClusterSnapshot), the program's configuration and the time,
 * and return results; cli/check.ts reads the cluster and prints them.
 */
export type CheckStatus = "ok" | "warn" | "fail";

export type CheckGroup = "control plane" | "identity" | "data plane" | "extensions" | "longhorn";

export interface CheckResult {
    readonly group: CheckGroup;
    /** What was checked, e.g. "issuer certificate" or "deployment linkerd/linkerd-identity". */
    readonly name: string;
    readonly status: CheckStatus;
    /** What was found. */
    readonly message: string;
    /** What to do (failures and warnings). */
    readonly fix?: string;
    /** Workloads `--restart` would roll (data-plane failures only): `<Kind>/<namespace>/<name>`. */
    readonly restart?: readonly string[];
}

export function ok(group: CheckGroup, name: string, message: string): CheckResult {
    return { group, name, status: "ok", message };
}

export function warn(group: CheckGroup, name: string, message: string, fix: string): CheckResult {
    return { group, name, status: "warn", message, fix };
}

export function fail(group: CheckGroup, name: string, message: string, fix: string, restart?: readonly string[]): CheckResult {
    return { group, name, status: "fail", message, fix, ...(restart && restart.length > 0 ? { restart } : {}) };
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
