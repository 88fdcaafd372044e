import { RuleContext } from "./context";
import { Obj } from "../../lib/k8s";

export type EnforcementLevel = "advisory" | "mandatory" | "disabled";

/** A rule over one plain Kubernetes object. Returns one message per problem found (empty = fine). */
export interface Rule {
    name: string;
    description: string;
    defaultEnforcement: "advisory" | "mandatory";
    check(o: Obj, ctx: RuleContext): string[];
}

export interface Finding {
    rule: string;
    enforcement: EnforcementLevel;
    kind: string;
    namespace: string;
    name: string;
    message: string;
}
