/**
 * CrossGuard wrappers around the plain rules in ./rules. Importable on its own (no PolicyPack is constructed
 * here; policy/index.ts does that), so tests can call the policies directly.
 *
 * - Rules that need to know which namespaces are meshed are StackValidationPolicies: a stack policy sees every
 *   resource, so Namespace / NamespacePatch resources (and the linkerd-control-plane release) in the same stack
 *   inform the decision. They run at the end of `pulumi preview`, so a mandatory violation stops `pulumi up`
 *   before anything is deployed (unless --skip-preview is used).
 * - Rules that need no context are ResourceValidationPolicies and run per resource.
 *
 * The rules read only the fields they need from the props. Under preview, props are a proxy that throws on
 * unknown values; a stack policy checks every resource it can and reports the first unknown at the end, so the
 * engine says which policy could not fully run.
 */
import { PolicyResource, ReportViolation, ResourceValidationPolicy, StackValidationPolicy, UnknownValueError } from "@pulumi/policy";
import { POLICY_CONFIG_SCHEMAS, PolicyConfig, mergeReleaseOverrides, readPolicyConfig, traefikSettings } from "./config";
import {
    ALL_RULES,
    AUTOMOUNT_RULE,
    HOSTNETWORK_RULE,
    IGNORED_NAMESPACE_RULE,
    JOB_RULE,
    NGINX_RULE,
    ReleaseOverrides,
    Rule,
    RuleContext,
    TRAEFIK_RULE,
    VIZ_RULE,
    addConfiguredMeshedNamespaces,
    addNamespace,
    checkHelmRelease,
    emptyContext,
    isTraefikMiddleware,
    middlewareKey,
    namespaceMeshInfo,
    releaseFacts,
    releaseOverridesFromControlPlane,
} from "./rules";
import { Obj, get, nameOf as objName, namespaceOf, str } from "../lib/k8s";

export const HELM_RELEASE_TYPE = "kubernetes:helm.sh/v3:Release";

/** `kubernetes:batch/v1:Job` → { apiVersion: "batch/v1", kind: "Job" }; core → "v1". */
export function k8sTypeInfo(type: string): { apiVersion: string; kind: string } | undefined {
    const m = /^kubernetes:([^:]+):([^:]+)$/.exec(type);
    if (!m) return undefined;
    const mod = m[1];
    const apiVersion = mod.startsWith("core/") ? mod.slice("core/".length) : mod;
    return { apiVersion, kind: m[2] };
}

/** A Kubernetes resource's props as a plain-shaped object the rules understand (fields read lazily). */
export function asObject(type: string, props: Record<string, unknown>): Obj | undefined {
    const ti = k8sTypeInfo(type);
    if (!ti || ti.apiVersion.startsWith("helm.sh/") || ti.apiVersion.startsWith("yaml/") || ti.apiVersion.startsWith("kustomize/")) return undefined;
    if (ti.kind.endsWith("Patch") || ti.kind.endsWith("List")) return undefined;
    return {
        apiVersion: ti.apiVersion,
        kind: ti.kind,
        get metadata(): unknown {
            return props.metadata;
        },
        get spec(): unknown {
            return props.spec;
        },
    };
}

function isNamespaceType(type: string): boolean {
    return type === "kubernetes:core/v1:Namespace" || type === "kubernetes:core/v1:NamespacePatch";
}

function providerNamespace(r: { provider?: { props: Record<string, unknown> } }): string | undefined {
    try {
        return str(r.provider?.props?.namespace);
    } catch (e) {
        if (e instanceof UnknownValueError) return undefined;
        throw e;
    }
}

/** Build the rule context from the whole stack plus the policy's config. */
export function stackContext(resources: PolicyResource[], config: PolicyConfig): RuleContext {
    const ctx = emptyContext({ defaultNamespace: config.defaultNamespace ?? "default", traefik: traefikSettings(config) });
    let fromStack: ReleaseOverrides | undefined;
    let releaseSource = "the pack config (linkerdVersion)";
    for (const r of resources) {
        try {
            if (isNamespaceType(r.type)) {
                const kind = r.type.endsWith("Patch") ? "NamespacePatch" : "Namespace";
                const info = namespaceMeshInfo({ metadata: r.props.metadata }, `${kind} resource "${r.name}"`);
                if (info) addNamespace(ctx, info.name, info.info);
            } else if (r.type === HELM_RELEASE_TYPE) {
                const o = releaseOverridesFromControlPlane({ chart: r.props.chart, version: r.props.version, values: r.props.values });
                if (o) {
                    fromStack = o;
                    releaseSource = `linkerd-control-plane release "${r.name}" in this stack`;
                }
            } else {
                const o = asObject(r.type, r.props);
                if (o && isTraefikMiddleware(o)) {
                    const n = str(get(o, "metadata", "name"));
                    if (n) ctx.middlewares.set(middlewareKey(namespaceOf(o, providerNamespace(r) ?? ctx.defaultNamespace), n), o);
                }
            }
        } catch (e) {
            if (!(e instanceof UnknownValueError)) throw e; // a name not known yet cannot be referenced by a plain name
        }
    }
    addConfiguredMeshedNamespaces(ctx, config.meshedNamespaces ?? []);
    const overrides = mergeReleaseOverrides(config, fromStack);
    const src =
        config.linkerdVersion !== undefined
            ? "the pack config (linkerdVersion)"
            : fromStack?.linkerdVersion !== undefined
              ? releaseSource
              : "the pack config (linkerdVersion)";
    ctx.release = releaseFacts(overrides, src);
    return ctx;
}

function prefix(o: Obj, ns: string): string {
    return `${str(o.kind) ?? "?"} ${ns}/${objName(o)}: `;
}

/** Check one resource with one rule (plain objects and Helm releases). */
function checkResource(rule: Rule, type: string, props: Record<string, unknown>, resName: string, ctx: RuleContext): string[] {
    // helm.sh/v3:Release applies its objects itself: look at chart and values. (A helm.sh/v4:Chart registers each
    // object as its own resource, so those are checked one by one like any other.)
    if (type === HELM_RELEASE_TYPE) {
        const releaseProps = { chart: props.chart, namespace: props.namespace, values: props.values, name: props.name };
        return checkHelmRelease(releaseProps, ctx, `"${str(releaseProps.name) ?? resName}"`)
            .filter((f) => f.rule === rule.name)
            .map((f) => f.message);
    }
    const o = asObject(type, props);
    if (!o) return [];
    const msgs = rule.check(o, ctx);
    if (msgs.length === 0) return [];
    const p = prefix(o, namespaceOf(o, ctx.defaultNamespace));
    return msgs.map((m) => p + m);
}

function stackPolicy(rule: Rule): StackValidationPolicy {
    return {
        name: rule.name,
        description: rule.description,
        enforcementLevel: rule.defaultEnforcement,
        configSchema: POLICY_CONFIG_SCHEMAS[rule.name],
        validateStack: (args, reportViolation: ReportViolation) => {
            const config = readPolicyConfig(args.getConfig());
            const ctx = stackContext(args.resources, config);
            let unknown: Error | undefined;
            for (const r of args.resources) {
                try {
                    const rctx = { ...ctx, defaultNamespace: providerNamespace(r) ?? ctx.defaultNamespace };
                    for (const m of checkResource(rule, r.type, r.props, r.name, rctx)) reportViolation(m, r.urn);
                } catch (e) {
                    if (!(e instanceof UnknownValueError)) throw e;
                    unknown = unknown ?? (e as Error); // keep checking the rest; report that this resource could not be checked
                }
            }
            if (unknown) throw unknown;
        },
    };
}

function resourcePolicy(rule: Rule, types?: (type: string) => boolean): ResourceValidationPolicy {
    return {
        name: rule.name,
        description: rule.description,
        enforcementLevel: rule.defaultEnforcement,
        configSchema: POLICY_CONFIG_SCHEMAS[rule.name],
        validateResource: (args, reportViolation) => {
            if (types && !types(args.type)) return;
            const config = readPolicyConfig(args.getConfig());
            const ctx = emptyContext({ defaultNamespace: providerNamespace(args) ?? config.defaultNamespace ?? "default" });
            for (const m of checkResource(rule, args.type, args.props, args.name, ctx)) reportViolation(m);
        },
    };
}

function rule(n: string): Rule {
    const r = ALL_RULES.find((x) => x.name === n);
    if (!r) throw new Error(`no rule ${n}`);
    return r;
}

export const policies: (ResourceValidationPolicy | StackValidationPolicy)[] = [
    stackPolicy(rule(JOB_RULE)),
    resourcePolicy(rule(HOSTNETWORK_RULE), (t) => t.startsWith("kubernetes:")),
    // A stack policy: Namespace objects in the stack may carry the admission-webhooks label.
    stackPolicy(rule(IGNORED_NAMESPACE_RULE)),
    stackPolicy(rule(TRAEFIK_RULE)),
    stackPolicy(rule(AUTOMOUNT_RULE)),
    resourcePolicy(rule(VIZ_RULE), (t) => t.startsWith("kubernetes:")),
    stackPolicy(rule(NGINX_RULE)),
];

export const PACK_NAME = "picluster-linkerd";
