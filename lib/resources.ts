/**
 * Resource wiring shared by the components: the one way a Linkerd chart becomes a Helm release,
 * and the alias that keeps a renamed resource's state (its URN) when a name changes.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ChartSource, chartLocation } from "./charts";
import type { ChartRef } from "./release";

export interface LinkerdHelmReleaseArgs {
    /** Helm release name (`helm ls`). */
    readonly releaseName: string;
    readonly namespace: string;
    readonly chart: ChartRef;
    readonly chartSource: ChartSource;
    readonly values: pulumi.Inputs;
    readonly timeoutSeconds: number;
}

/**
 * A Linkerd chart as a helm.v3.Release (so `helm ls -n <namespace>` shows it, as after the guide's
 * `helm install`), pinned to the release's chart version or taken from a local directory.
 */
export function linkerdHelmRelease(name: string, args: LinkerdHelmReleaseArgs, opts: pulumi.CustomResourceOptions): k8s.helm.v3.Release {
    return new k8s.helm.v3.Release(
        name,
        {
            name: args.releaseName,
            namespace: args.namespace,
            ...chartLocation(args.chartSource, args.chart),
            values: args.values,
            timeout: args.timeoutSeconds,
        },
        opts,
    );
}

/**
 * Options that keep the state of a resource whose logical name changed: Pulumi matches it under the
 * old name (same parent) instead of replacing it.
 */
export function renamedFrom(oldName: string): Pick<pulumi.ResourceOptions, "aliases"> {
    return { aliases: [{ name: oldName }] };
}
