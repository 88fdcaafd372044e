/**
 * A Deployment of pause containers for the e2e (kwok's nodes run its pods): a workload in a meshed
 * namespace, which the proxy injector (the cluster's stand-in, driven by the real chart's webhook)
 * meshes when its pods are created, or leaves without the proxy when it cannot be reached. Labelled
 * `picluster-e2e/simulated`.
 */
export const SIMULATED_LABEL = "picluster-e2e/simulated";
const PAUSE = "registry.k8s.io/pause:3.10";

/** A Deployment of `replicas` pods of one pause container. */
export function simulatedDeployment(namespace: string, name: string, opts: { replicas?: number } = {}): object {
    const labels = { app: name, [SIMULATED_LABEL]: "true" };
    return {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name, namespace, labels },
        spec: {
            replicas: opts.replicas ?? 1,
            selector: { matchLabels: { app: name } },
            template: { metadata: { labels }, spec: { containers: [{ name, image: PAUSE }] } },
        },
    };
}
