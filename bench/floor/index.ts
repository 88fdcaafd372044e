/**
 * The floor for the program-evaluation benchmark: a program that imports @pulumi/pulumi and
 * @pulumi/kubernetes and registers one Namespace, run through the same render harness.
 */
import * as k8s from "@pulumi/kubernetes";

export = async () => {
    new k8s.core.v1.Namespace("floor", { metadata: { name: "floor" } });
    return {};
};
