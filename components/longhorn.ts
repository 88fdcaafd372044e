import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import type { PiclusterConfig } from "../lib/config";
import type { KubeTarget } from "../lib/kubeconfig";
import {
    COMMAND_INTERPRETER,
    failingScripts,
    kubectlTarget,
    longhornAnnotateScripts,
    longhornPodIpScripts,
    longhornWaitScripts,
    missingContextMessage,
    StepScripts,
} from "../lib/builders/longhorn";

export interface LonghornMeshingArgs {
    /** The validated configuration (the longhorn section is used). */
    readonly config: Pick<PiclusterConfig, "longhorn">;
    /** The kubeconfig path and context the Kubernetes provider uses: every kubectl call is pinned to them. */
    readonly kubeTarget: KubeTarget;
    /** What every step is ordered after: the control plane release (the injector must exist before Longhorn's pods restart). */
    readonly after: pulumi.Resource[];
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
 * `pulumi up --replace <urn of longhorn-mesh-pod-ip> --replace <urn of longhorn-mesh-annotate>`.
 * Triggers are the namespace, kubeconfig path and context: changing one replaces the steps, and
 * `deleteBeforeReplace` makes the old delete (revert, in the old place) run before the new create, so
 * a revert never undoes the new run on the same objects. Other changes (timeout, kubectl binary)
 * update the scripts in place: the create script runs again, changing nothing that is already right.
 *
 * kubectl is pinned to `kubeTarget` (the provider's kubeconfig and context). When no context can be
 * resolved the steps never fall back to the shell's current context: preview warns and `pulumi up`
 * fails at the first step with a message naming picluster-linkerd:kubernetes.context.
 */
export class LonghornMeshing extends pulumi.ComponentResource {
    /** Logical names of the steps, in the guide's order. */
    static readonly STEP_NAMES = ["longhorn-wait-deployed", "longhorn-mesh-pod-ip", "longhorn-mesh-annotate"] as const;
    readonly waitDeployed: command.local.Command;
    readonly podIp: command.local.Command;
    readonly annotate: command.local.Command;
    /** The steps in order. */
    readonly steps: readonly command.local.Command[];

    constructor(name: string, args: LonghornMeshingArgs, opts?: pulumi.ComponentResourceOptions) {
        super("picluster:linkerd:LonghornMeshing", name, {}, opts);
        const lh = args.config.longhorn;
        let scripts: [StepScripts, StepScripts, StepScripts];
        if (args.kubeTarget.context) {
            const target = kubectlTarget(args.kubeTarget, lh.kubectl);
            scripts = [
                longhornWaitScripts(target, { namespace: lh.namespace, timeoutSeconds: lh.waitTimeoutSeconds }),
                longhornPodIpScripts(target, lh.namespace),
                longhornAnnotateScripts(target, lh.namespace),
            ];
        } else {
            // No context to pin kubectl to: never fall back to the shell's current context. Preview and
            // the offline render still work; `pulumi up` fails at the first step with this message.
            const message = missingContextMessage(args.kubeTarget);
            pulumi.log.warn(message, this);
            scripts = [failingScripts(message), failingScripts(message), failingScripts(message)];
        }
        const triggers = [lh.namespace, args.kubeTarget.kubeconfigPath, args.kubeTarget.context ?? ""];

        const step = (index: 0 | 1 | 2, previous: pulumi.Resource[]) =>
            new command.local.Command(
                LonghornMeshing.STEP_NAMES[index],
                {
                    create: scripts[index].create,
                    delete: scripts[index].delete,
                    interpreter: [...COMMAND_INTERPRETER],
                    triggers,
                },
                { parent: this, dependsOn: [...args.after, ...previous], deleteBeforeReplace: true },
            );

        this.waitDeployed = step(0, []);
        this.podIp = step(1, [this.waitDeployed]);
        this.annotate = step(2, [this.podIp]);
        this.steps = [this.waitDeployed, this.podIp, this.annotate];

        this.registerOutputs({});
    }
}
