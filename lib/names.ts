/**
 * The names a stack's URNs are built from: component type tokens, the composition root's name, the Longhorn
 * steps' names. The components register under them and the check builds `pulumi up --replace` URNs from them,
 * so the two cannot drift apart. Renaming one changes URNs: Pulumi would replace the resources unless an alias
 * carries the old name (test/urns.test.ts fails first). Dependency-free.
 */
import { PROJECT } from "./config/keys";

/** Component resource type tokens. */
export const COMPONENT_TYPES = {
    root: "picluster:linkerd:PiclusterLinkerd",
    identity: "picluster:linkerd:Identity",
    controlPlane: "picluster:linkerd:ControlPlane",
    meshing: "picluster:linkerd:Meshing",
    ingress: "picluster:linkerd:IngressMeshing",
    longhorn: "picluster:linkerd:LonghornMeshing",
    viz: "picluster:linkerd:Viz",
    monitoring: "picluster:linkerd:Monitoring",
    jaeger: "picluster:linkerd:Jaeger",
} as const;

/** The composition root's name (index.ts): every component is `<root>-<part>`. */
export const ROOT_NAME = "linkerd";

/** The Longhorn component is `<root>-longhorn`. */
export const LONGHORN_PART = "longhorn";
const LONGHORN_COMPONENT_NAME = `${ROOT_NAME}-${LONGHORN_PART}`;

/** The Longhorn steps, in the guide's order; each is the command `<component name>-<step>`. */
export const LONGHORN_STEPS = ["wait-deployed", "mesh-pod-ip", "mesh-annotate"] as const;
export type LonghornStep = (typeof LONGHORN_STEPS)[number];

/** `local.Command`'s type token. */
const COMMAND_TYPE = "command:local:Command";

/** URN of a Longhorn step in a stack: what `pulumi up --replace` takes. */
export function longhornStepUrn(stack: string, step: LonghornStep): string {
    return `urn:pulumi:${stack}::${PROJECT}::${COMPONENT_TYPES.root}$${COMPONENT_TYPES.longhorn}$${COMMAND_TYPE}::${LONGHORN_COMPONENT_NAME}-${step}`;
}
