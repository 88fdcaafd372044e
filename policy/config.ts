/**
 * Policy configuration: JSON schemas (the engine validates `--policy-pack-config` against them) and defaults.
 *
 * CrossGuard config is per policy: `{ "<policy-name>": { "enforcementLevel": "...", <properties> } }`. The
 * properties a rule needs are declared on that policy; the shared ones (meshedNamespaces, the Linkerd release facts)
 * are accepted by every policy that uses them. See docs/policies.md for an example file.
 */
import type { PolicyConfigSchema } from "@pulumi/policy";
import { AUTOMOUNT_RULE, HOSTNETWORK_RULE, IGNORED_NAMESPACE_RULE, JOB_RULE, NGINX_RULE, TRAEFIK_RULE, VIZ_RULE } from "./rules";
import { DEFAULT_TRAEFIK, TraefikSettings } from "./rules/context";
import { ReleaseOverrides } from "./rules/release";
import { LINKERD_VERSION_PATTERN } from "../lib/linkerdVersions";

type JsonSchema = Record<string, unknown>;

export { LINKERD_VERSION_PATTERN };

const K8S_NAME = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$";

export const MESH_PROPERTIES: Record<string, JsonSchema> = {
    meshedNamespaces: {
        type: "array",
        items: { type: "string", pattern: K8S_NAME },
        uniqueItems: true,
        description:
            "Namespaces annotated linkerd.io/inject: enabled outside this stack. Namespace/NamespacePatch resources in the stack are found automatically.",
    },
    defaultNamespace: {
        type: "string",
        pattern: K8S_NAME,
        description: 'Namespace of objects that do not set metadata.namespace (default: the provider\'s namespace, else "default").',
    },
};

export const RELEASE_PROPERTIES: Record<string, JsonSchema> = {
    linkerdVersion: {
        type: "string",
        pattern: LINKERD_VERSION_PATTERN,
        description:
            'Linkerd release in use: "2.14", "stable-2.14.10", "edge-24.8.2" or a linkerd-control-plane chart version. Default: the version of a linkerd-control-plane Helm release in the stack, else stable-2.14.10 (the guide\'s).',
    },
    shutdownEndpointEnabled: {
        type: "boolean",
        description: "Control-plane value proxy.enableShutdownEndpoint (2.16+; off by default). Always on before 2.16.",
    },
    nativeSidecar: {
        type: "boolean",
        description: "Control-plane value proxy.nativeSidecar (2.15+; default false before 2.20, true from 2.20).",
    },
    serviceAccountTokenProjection: {
        type: "boolean",
        description:
            "Control-plane value identity.serviceAccountTokenProjection (2.12+, default true). While true, pods with automountServiceAccountToken: false are injected all the same.",
    },
};

export const TRAEFIK_PROPERTIES: Record<string, JsonSchema> = {
    traefikIngressMode: {
        type: "boolean",
        description: "Traefik is meshed in ingress mode (linkerd.io/inject: ingress), as the guide does. Default true.",
    },
    traefikIngressClasses: {
        type: "array",
        items: { type: "string" },
        description: 'Ingress classes served by Traefik. Default ["traefik"].',
    },
    traefikIsDefaultIngressClass: {
        type: "boolean",
        description: "Ingresses without a class go to Traefik (k3s default). Default true.",
    },
    dstOverrideMiddlewares: {
        type: "array",
        items: { type: "string" },
        description: 'Middlewares defined outside the stack/input that set l5d-dst-override, as "namespace/name" or "namespace-name@kubernetescrd".',
    },
};

export function schema(...parts: Record<string, JsonSchema>[]): PolicyConfigSchema {
    return { properties: Object.assign({}, ...parts) as PolicyConfigSchema["properties"] };
}

/**
 * Each policy's config schema, by policy name: the pack declares these (policies.ts) and `policy:check --config`
 * validates a config file against them.
 */
export const POLICY_CONFIG_SCHEMAS: Readonly<Record<string, PolicyConfigSchema>> = {
    [JOB_RULE]: schema(MESH_PROPERTIES, RELEASE_PROPERTIES),
    [HOSTNETWORK_RULE]: schema({ defaultNamespace: MESH_PROPERTIES.defaultNamespace }),
    [IGNORED_NAMESPACE_RULE]: schema({ defaultNamespace: MESH_PROPERTIES.defaultNamespace }),
    [TRAEFIK_RULE]: schema(MESH_PROPERTIES, TRAEFIK_PROPERTIES),
    [AUTOMOUNT_RULE]: schema(MESH_PROPERTIES, {
        linkerdVersion: RELEASE_PROPERTIES.linkerdVersion,
        serviceAccountTokenProjection: RELEASE_PROPERTIES.serviceAccountTokenProjection,
    }),
    [VIZ_RULE]: schema({ defaultNamespace: MESH_PROPERTIES.defaultNamespace }),
    [NGINX_RULE]: schema(MESH_PROPERTIES),
};

/** Enforcement levels the engine accepts in a config file (`remediate` acts as mandatory for these rules). */
export const ENFORCEMENT_LEVELS = ["advisory", "mandatory", "remediate", "disabled"] as const;

/** Parsed config of one policy (all fields optional; defaults applied by the helpers below). */
export interface PolicyConfig {
    meshedNamespaces?: string[];
    defaultNamespace?: string;
    linkerdVersion?: string;
    shutdownEndpointEnabled?: boolean;
    nativeSidecar?: boolean;
    serviceAccountTokenProjection?: boolean;
    traefikIngressMode?: boolean;
    traefikIngressClasses?: string[];
    traefikIsDefaultIngressClass?: boolean;
    dstOverrideMiddlewares?: string[];
}

function strings(v: unknown): string[] | undefined {
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : undefined;
}
function bool(v: unknown): boolean | undefined {
    return typeof v === "boolean" ? v : undefined;
}
function string(v: unknown): string | undefined {
    return typeof v === "string" && v !== "" ? v : undefined;
}

/** Read the (already schema-validated) config object of a policy defensively. */
export function readPolicyConfig(raw: unknown): PolicyConfig {
    const r = (raw && typeof raw === "object" ? raw : {}) as Record<string, unknown>;
    return {
        meshedNamespaces: strings(r.meshedNamespaces),
        defaultNamespace: string(r.defaultNamespace),
        linkerdVersion: string(r.linkerdVersion),
        shutdownEndpointEnabled: bool(r.shutdownEndpointEnabled),
        nativeSidecar: bool(r.nativeSidecar),
        serviceAccountTokenProjection: bool(r.serviceAccountTokenProjection),
        traefikIngressMode: bool(r.traefikIngressMode),
        traefikIngressClasses: strings(r.traefikIngressClasses),
        traefikIsDefaultIngressClass: bool(r.traefikIsDefaultIngressClass),
        dstOverrideMiddlewares: strings(r.dstOverrideMiddlewares),
    };
}

/** Release overrides: explicit config wins over what the stack shows, which wins over the defaults. */
export function mergeReleaseOverrides(config: PolicyConfig, fromStack: ReleaseOverrides | undefined): ReleaseOverrides {
    return {
        linkerdVersion: config.linkerdVersion ?? fromStack?.linkerdVersion,
        shutdownEndpointEnabled: config.shutdownEndpointEnabled ?? fromStack?.shutdownEndpointEnabled,
        nativeSidecar: config.nativeSidecar ?? fromStack?.nativeSidecar,
        serviceAccountTokenProjection: config.serviceAccountTokenProjection ?? fromStack?.serviceAccountTokenProjection,
    };
}

export function traefikSettings(config: PolicyConfig): TraefikSettings {
    return {
        ingressMode: config.traefikIngressMode ?? DEFAULT_TRAEFIK.ingressMode,
        ingressClasses: config.traefikIngressClasses ?? DEFAULT_TRAEFIK.ingressClasses,
        defaultClassIsTraefik: config.traefikIsDefaultIngressClass ?? DEFAULT_TRAEFIK.defaultClassIsTraefik,
        externalDstOverrideMiddlewares: config.dstOverrideMiddlewares ?? [],
    };
}
