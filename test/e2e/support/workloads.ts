/**
 * A Deployment of pause containers for the e2e (kwok's nodes run its pods): e.g. a workload started in
 * a meshed namespace before the inject annotation, which the check must name. With `proxy`, it carries
 * the linkerd-proxy container the injector would have added. Labelled `picluster-e2e/simulated`.
 */
export const SIMULATED_LABEL = "picluster-e2e/simulated";
const PAUSE = "registry.k8s.io/pause:3.10";

/** A Deployment of `replicas` pods, with the proxy container unless `proxy` is false. */
export function simulatedDeployment(namespace: string, name: string, opts: { proxy?: boolean; replicas?: number } = {}): object {
    const labels = { app: name, [SIMULATED_LABEL]: "true" };
    const containers = [{ name, image: PAUSE }];
    if (opts.proxy ?? true) containers.push({ name: "linkerd-proxy", image: PAUSE });
    return {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name, namespace, labels },
        spec: { replicas: opts.replicas ?? 1, selector: { matchLabels: { app: name } }, template: { metadata: { labels }, spec: { containers } } },
    };
}
