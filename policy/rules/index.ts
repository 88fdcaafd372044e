/**
 * The rules as plain functions over plain Kubernetes objects, shared by the CrossGuard pack (policy/index.ts)
 * and the manifest checker (cli/policy-check.ts).
 */
import { RuleContext } from "./context";
import { Obj, get, nameOf, namespaceOf, str } from "../../lib/k8s";
import { automountRule } from "./automount";
import { hostNetworkRule } from "./hostnetwork";
import { ignoredNamespaceRule } from "./ignoredNamespace";
import { jobRule } from "./jobs";
import { nginxRule, traefikRule } from "./traefik";
import { EnforcementLevel, Finding, Rule } from "./types";
import { vizRule } from "./viz";

export * from "./context";
export * from "./types";
export * from "./release";
export { awaitsWithShutdown, JOB_RULE } from "./jobs";
export { HOSTNETWORK_RULE } from "./hostnetwork";
export { IGNORED_NAMESPACE_RULE } from "./ignoredNamespace";
export { AUTOMOUNT_RULE } from "./automount";
export { TRAEFIK_RULE, NGINX_RULE, traefikIngressModeFromInput } from "./traefik";
export { VIZ_RULE, hostRegexpAcceptsAnyHost } from "./viz";
export { checkHelmRelease, releaseOverridesFromControlPlane } from "./helm";

export const ALL_RULES: Rule[] = [jobRule, hostNetworkRule, ignoredNamespaceRule, traefikRule, automountRule, vizRule, nginxRule];

/** Run the rules over one object. */
export function checkObject(o: Obj, ctx: RuleContext, levels: Record<string, EnforcementLevel> = {}, rules: Rule[] = ALL_RULES): Finding[] {
    const out: Finding[] = [];
    for (const r of rules) {
        const level = levels[r.name] ?? r.defaultEnforcement;
        if (level === "disabled") continue;
        for (const message of r.check(o, ctx)) {
            out.push({
                rule: r.name,
                enforcement: level,
                kind: str(o.kind) ?? "?",
                namespace: namespaceOf(o, ctx.defaultNamespace),
                name: nameOf(o),
                message,
            });
        }
    }
    return out;
}

/** Expand `kind: List` (and *List) objects into their items. */
export function flattenLists(objects: unknown[]): Obj[] {
    const out: Obj[] = [];
    for (const o of objects) {
        if (o === null || typeof o !== "object" || Array.isArray(o)) continue;
        const kind = str((o as Obj).kind);
        const items = get(o, "items");
        if (kind !== undefined && kind.endsWith("List") && Array.isArray(items)) out.push(...flattenLists(items));
        else out.push(o as Obj);
    }
    return out;
}
