import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import {
    COMMAND_INTERPRETER,
    StepScripts,
    failingScripts,
    kubectlTarget,
    longhornAnnotateScripts,
    longhornPodIpScripts,
    longhornWaitScripts,
    missingContextMessage,
} from "../lib/builders/longhorn";
import { renamedFrom } from "../lib/resources";
import type { InstalledControlPlane } from "./contracts";
import { COMPONENT_TYPES, LONGHORN_STEPS } from "../lib/names";

export interface LonghornMeshingArgs {
    /** The control plane: every step runs after it (the injector must exist before Longhorn's pods restart). */
    readonly controlPlane: InstalledControlPlane;
    /** The kubeconfig file the kubernetes provider uses: every kubectl call is pinned to it. */
    readonly kubeconfigPath: string;
    /**
     * The context the provider uses. Without one the steps never fall back to the shell's current
     * context: `pulumi up` fails at the first step with a message naming picluster-linkerd:kubernetes.context.
     * @default none
     */
    readonly context?: string;
    /** Longhorn's namespace. */
    readonly namespace: string;
    /** Seconds to wait for Longhorn to be fully deployed. */
    readonly waitTimeoutSeconds: number;
    /** kubectl binary. */
    readonly kubectl: string;
}

/**
 * Guide, "Meshing cluster services / Longhorn": three `local.Command` steps, chained in the guide's
 * order: wait until Longhorn is completely deployed -> POD_IP=0.0.0.0 on longhorn-manager -> inject
 * annotation on longhorn-manager and longhorn-ui. Each depends on the previous one and on the control
 * plane; `pulumi destroy` runs the delete scripts in reverse (annotation removed, POD_IP restored).
 *
 * Commands run on `pulumi up` only (preview shows them). `pulumi refresh` does not run them either:
 * a Command's state is what its last run recorded, so drift — e.g. a Longhorn Helm upgrade that
 * resets the DaemonSet template — is not detected. Re-apply with
 * `pulumi up --replace <urn of ...-mesh-pod-ip> --replace <urn of ...-mesh-annotate>`.
 * Triggers are the namespace, kubeconfig path and context: changing one replaces the steps, and
 * `deleteBeforeReplace` makes the old delete (revert, in the old place) run before the new create, so
 * a revert never undoes the new run on the same objects. Other changes (timeout, kubectl binary)
 * update the scripts in place: the create script runs again, changing nothing that is already right.
 */
export class LonghornMeshing extends pulumi.ComponentResource {
    readonly waitDeployed: command.local.Command;
    readonly podIp: command.local.Command;
    readonly annotate: command.local.Command;
    /** The steps in order. */
    readonly steps: readonly command.local.Command[];
    /** Logical names of the steps, in order. */
    readonly stepNames: readonly string[];

    constructor(name: string, args: LonghornMeshingArgs, opts?: pulumi.ComponentResourceOptions) {
        super(COMPONENT_TYPES.longhorn, name, {}, opts);
        const namespace = args.namespace;
        const target = { kubeconfigPath: args.kubeconfigPath, context: args.context };
        let scripts: [StepScripts, StepScripts, StepScripts];
        if (target.context) {
            const kubectl = kubectlTarget(target, args.kubectl);
            scripts = [
                longhornWaitScripts(kubectl, { namespace, timeoutSeconds: args.waitTimeoutSeconds }),
                longhornPodIpScripts(kubectl, namespace),
                longhornAnnotateScripts(kubectl, namespace),
            ];
        } else {
            // Preview and the offline render still work; `pulumi up` fails at the first step.
            const message = missingContextMessage(target);
            scripts = [failingScripts(message), failingScripts(message), failingScripts(message)];
        }
        const triggers = [namespace, target.kubeconfigPath, target.context ?? ""];
        this.stepNames = LONGHORN_STEPS.map((step) => `${name}-${step}`);

        const step = (index: 0 | 1 | 2, previous: pulumi.Resource[]) =>
            new command.local.Command(
                this.stepNames[index],
                { create: scripts[index].create, delete: scripts[index].delete, interpreter: [...COMMAND_INTERPRETER], triggers },
                {
                    parent: this,
                    dependsOn: [args.controlPlane.controlPlaneRelease, ...previous],
                    deleteBeforeReplace: true,
                    ...renamedFrom(`longhorn-${LONGHORN_STEPS[index]}`),
                },
            );

        this.waitDeployed = step(0, []);
        this.podIp = step(1, [this.waitDeployed]);
        this.annotate = step(2, [this.podIp]);
        this.steps = [this.waitDeployed, this.podIp, this.annotate];

        this.registerOutputs({});
    }
}
