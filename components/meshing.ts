import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import {
    MeshingValuesSnippets,
    WorkloadRef,
    meshingValuesSnippets,
    namespaceMeshPatch,
    workloadKey,
    workloadMeshPatch,
} from "../lib/builders/meshing";
import { renamedFrom } from "../lib/resources";
import type { InstalledControlPlane, MeshedNamespaces } from "./contracts";
import { COMPONENT_TYPES } from "../lib/names";

export interface LinkerdMeshingArgs {
    /**
     * The control plane: every patch is ordered after it. The proxy injector must exist before the
     * patched pods restart, or they come back without a proxy.
     */
    readonly controlPlane: InstalledControlPlane;
    /** Namespaces meshed implicitly (annotation linkerd.io/inject: enabled). */
    readonly namespaces: readonly string[];
    /** Workloads meshed explicitly (pod template annotation). */
    readonly workloads: readonly WorkloadRef[];
}

type WorkloadPatch = k8s.apps.v1.DeploymentPatch | k8s.apps.v1.DaemonSetPatch | k8s.apps.v1.StatefulSetPatch;

/**
 * Guide, "Meshing a service with linkerd": implicit meshing of namespaces and explicit meshing of
 * workloads, both as server-side-apply patches of objects that exist already (the charts that own
 * them are installed elsewhere).
 *
 * - Namespaces are patched, never created: Pulumi owning a Namespace would delete it, and every
 *   workload in it, on `pulumi destroy`. A patch of a namespace that does not exist fails the update
 *   (create it first: `kubectl create namespace <ns>`, as the guide annotates namespaces before
 *   installing the charts into them).
 * - On `pulumi destroy` a patch removes only the fields its own field manager owns: the annotation
 *   goes (also when it was forced over a hand-set value), everything else stays. A value someone
 *   else also applied with the same value stays. Running pods keep their proxy until restarted.
 * - Workload patches change the pod template, so the workload rolls out with (or, on destroy, without) the proxy.
 */
export class LinkerdMeshing extends pulumi.ComponentResource implements MeshedNamespaces {
    /** NamespacePatch per meshed namespace, keyed by namespace name. */
    readonly meshedNamespaces: Readonly<Record<string, k8s.core.v1.NamespacePatch>>;
    /** Workload patch per `<Kind>/<namespace>/<name>`. */
    readonly meshedWorkloads: Readonly<Record<string, WorkloadPatch>>;
    /** Values for charts installed elsewhere (stack output `meshingValuesSnippets`). */
    readonly valuesSnippets: MeshingValuesSnippets;

    constructor(name: string, args: LinkerdMeshingArgs, opts?: pulumi.ComponentResourceOptions) {
        super(COMPONENT_TYPES.meshing, name, {}, opts);
        const childOpts: pulumi.CustomResourceOptions = { parent: this, dependsOn: [args.controlPlane.controlPlaneRelease] };

        const namespaces: Record<string, k8s.core.v1.NamespacePatch> = {};
        for (const ns of args.namespaces) {
            namespaces[ns] = new k8s.core.v1.NamespacePatch(`${name}-namespace-${ns}`, namespaceMeshPatch(ns), {
                ...childOpts,
                ...renamedFrom(`mesh-namespace-${ns}`),
            });
        }
        this.meshedNamespaces = namespaces;

        const workloads: Record<string, WorkloadPatch> = {};
        for (const w of args.workloads) {
            const suffix = `${w.kind.toLowerCase()}-${w.namespace}-${w.name}`;
            workloads[workloadKey(w)] = workloadPatch(w, `${name}-${suffix}`, { ...childOpts, ...renamedFrom(`mesh-${suffix}`) });
        }
        this.meshedWorkloads = workloads;

        this.valuesSnippets = meshingValuesSnippets();
        this.registerOutputs({ meshedNamespaces: Object.keys(namespaces), meshedWorkloads: Object.keys(workloads) });
    }
}

function workloadPatch(w: WorkloadRef, name: string, opts: pulumi.CustomResourceOptions): WorkloadPatch {
    const body = workloadMeshPatch(w);
    switch (w.kind) {
        case "Deployment":
            return new k8s.apps.v1.DeploymentPatch(name, body, opts);
        case "DaemonSet":
            return new k8s.apps.v1.DaemonSetPatch(name, body, opts);
        case "StatefulSet":
            return new k8s.apps.v1.StatefulSetPatch(name, body, opts);
    }
}
