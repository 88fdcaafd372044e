/**
 * `npm run check`: proves the mesh works after `pulumi up` — `linkerd check`'s core checks and the
 * guide's traps, on the live objects. Pure: `runChecks` takes what cli/check.ts read from the
 * cluster (ClusterSnapshot), the configuration and the time.
 */
import { IDENTITY_ISSUER_NAME, TRUST_ROOTS_KEY, TRUST_ROOTS_NAME } from "../lib/builders/identity";
import { trustAnchorFromLinkerdConfig } from "../lib/builders/controlPlane";
import { LINKERD_NAMESPACE, stringMapAt } from "../lib/k8s";
import { IdentityInputs, checkIdentity } from "./certificates";
import { checkControlPlane } from "./controlPlane";
import { checkDataPlane } from "./dataPlane";
import { checkProxyVersions } from "./proxyVersions";
import { checkExtensions } from "./extensions";
import { checkLonghorn } from "./longhorn";
import { ClusterSnapshot, LINKERD_CONFIG, findObject } from "./snapshot";
import { CheckContext, CheckResult, CheckStatus, exitCodeOf } from "./types";

export * from "./types";
export * from "./snapshot";

/** Where the anchor Linkerd uses and the anchor the program used are read, for the configured trust-anchor mode. */
export function identityInputs(s: ClusterSnapshot, ctx: CheckContext): IdentityInputs {
    const anchor = ctx.config.identity.trustAnchor;
    const issuerSecret = s.secrets[`${LINKERD_NAMESPACE}/${IDENTITY_ISSUER_NAME}`] ?? {};
    const certificate = findObject(s, "Certificate", LINKERD_NAMESPACE, IDENTITY_ISSUER_NAME);
    const secretKey = (ref: { namespace: string; name: string; key: string }) => ({
        pem: s.secrets[`${ref.namespace}/${ref.name}`]?.[ref.key],
        where: `Secret ${ref.namespace}/${ref.name} (${ref.key})`,
    });
    let anchors: IdentityInputs["anchors"];
    let expected: IdentityInputs["expected"];
    let previous: IdentityInputs["previous"];
    if (anchor.mode === "bundle") {
        const roots = findObject(s, "ConfigMap", LINKERD_NAMESPACE, TRUST_ROOTS_NAME);
        anchors = {
            pem: stringMapAt(roots, "data")?.[TRUST_ROOTS_KEY],
            where: `ConfigMap ${LINKERD_NAMESPACE}/${TRUST_ROOTS_NAME} (${TRUST_ROOTS_KEY})`,
        };
        expected = secretKey(anchor.secret);
        if (anchor.previous) previous = secretKey({ namespace: anchor.secret.namespace, ...anchor.previous });
    } else {
        const config = findObject(s, "ConfigMap", LINKERD_NAMESPACE, LINKERD_CONFIG);
        anchors = {
            pem: trustAnchorFromLinkerdConfig(stringMapAt(config, "data")) || undefined,
            where: `ConfigMap ${LINKERD_NAMESPACE}/${LINKERD_CONFIG} (identityTrustAnchorsPEM)`,
        };
        expected =
            anchor.source === "inline"
                ? { pem: anchor.pem, where: "identity.trustAnchor.pem of the stack configuration" }
                : anchor.source === "secret"
                  ? secretKey(anchor.secret)
                  : secretKey({ namespace: LINKERD_NAMESPACE, name: IDENTITY_ISSUER_NAME, key: "ca.crt" });
    }
    return { anchors, expected, ...(previous ? { previous } : {}), issuerPem: issuerSecret["tls.crt"], certificate };
}

/** Every check, in `linkerd check`'s order: control plane, identity, data plane, extensions, then Longhorn. */
export function runChecks(s: ClusterSnapshot, ctx: CheckContext): CheckResult[] {
    return [
        ...checkControlPlane(s, ctx),
        ...checkIdentity(identityInputs(s, ctx), ctx),
        ...checkDataPlane(s, ctx),
        ...checkProxyVersions(s, ctx),
        ...checkExtensions(s, ctx),
        ...(ctx.config.longhorn.enabled ? checkLonghorn(s, ctx) : []),
    ];
}

export function summary(results: readonly CheckResult[]): Record<CheckStatus, number> {
    const out: Record<CheckStatus, number> = { ok: 0, warn: 0, fail: 0 };
    for (const r of results) out[r.status]++;
    return out;
}

const MARK: Record<CheckStatus, string> = { ok: "ok  ", warn: "WARN", fail: "FAIL" };

/** For people: one line per check under its group, the fix and the check's documentation indented under each warning and failure. */
export function formatTable(results: readonly CheckResult[]): string {
    const lines: string[] = [];
    let group = "";
    for (const r of results) {
        if (r.group !== group) {
            group = r.group;
            lines.push("", group, "-".repeat(group.length));
        }
        lines.push(`[${MARK[r.status]}] ${r.name}: ${r.message}`);
        if (r.fix && r.status !== "ok") lines.push(`       fix: ${r.fix}`);
        if (r.status !== "ok") lines.push(`       see: ${r.doc}`);
    }
    const n = summary(results);
    lines.push("", `${n.ok} ok, ${n.warn} warning(s), ${n.fail} failure(s)`);
    return lines.join("\n").replace(/^\n/, "");
}

/** For machines (`--json`). */
export function formatJson(results: readonly CheckResult[], meta: Record<string, unknown>): string {
    return JSON.stringify({ ...meta, summary: summary(results), exitCode: exitCodeOf(results), results }, null, 2);
}

/** Owners the failures name for `--restart`, once each, `Kind/namespace/name`. */
export function restartTargets(results: readonly CheckResult[]): string[] {
    return [...new Set(results.flatMap((r) => (r.status !== "ok" ? (r.restart ?? []) : [])))].sort();
}
