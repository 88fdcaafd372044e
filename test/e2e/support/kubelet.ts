/**
 * STAND-IN for what the local control plane lacks before `npm run check` can pass on it: it has no
 * kubelet (pods are created but never run) and the stand-in charts render no workloads (Helm would
 * wait for pods that never become ready). So, clearly simulated:
 *
 * - `chartWorkloads()`: the Deployments the real linkerd-control-plane, linkerd-viz and linkerd-jaeger
 *   charts run with the program's values (names from lib/check), with the linkerd-proxy container the
 *   charts or the injector would add; pause images, labelled `picluster-e2e/simulated`;
 * - `reportPodsRunning()`: reports pending pods as a kubelet would once their containers run
 *   (status subresource: phase Running, Ready, container statuses). The ReplicaSet and Deployment
 *   controllers (kube-controller-manager) then count them ready and available. No container runs.
 */
import { CONTROL_PLANE_DEPLOYMENTS, JAEGER_DEPLOYMENTS, VIZ_DEPLOYMENTS } from "../../../lib/check";
import { Cluster, kubectl, kubectlJson } from "./env";

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

export function chartWorkloads(jaegerNamespace: string): object[] {
    return [
        ...CONTROL_PLANE_DEPLOYMENTS.map((n) => simulatedDeployment("linkerd", n)),
        ...VIZ_DEPLOYMENTS.map((n) => simulatedDeployment("linkerd-viz", n)),
        ...JAEGER_DEPLOYMENTS.map((n) => simulatedDeployment(jaegerNamespace, n)),
    ];
}

/** Reports every pending pod in the namespaces running and ready; returns how many. */
export function reportPodsRunning(cluster: Cluster, namespaces: readonly string[]): number {
    let n = 0;
    const now = new Date().toISOString().replace(/\.[0-9]+Z$/, "Z");
    for (const ns of namespaces) {
        for (const pod of kubectlJson(cluster, ["-n", ns, "get", "pods"]).items as any[]) {
            if (pod.status?.phase === "Running" || pod.metadata.deletionTimestamp) continue;
            const condition = (type: string) => ({ type, status: "True", lastTransitionTime: now });
            const status = {
                phase: "Running",
                startTime: now,
                conditions: ["PodScheduled", "Initialized", "ContainersReady", "Ready"].map(condition),
                containerStatuses: pod.spec.containers.map((c: any) => ({
                    name: c.name,
                    image: c.image,
                    imageID: "",
                    ready: true,
                    started: true,
                    restartCount: 0,
                    state: { running: { startedAt: now } },
                })),
            };
            kubectl(cluster, ["-n", ns, "patch", "pod", pod.metadata.name, "--subresource=status", "--type=merge", "-p", JSON.stringify({ status })]);
            n++;
        }
    }
    return n;
}

/** Plays the kubelet until every named Deployment is Available (the controllers need a moment to notice). */
export async function untilAvailable(
    cluster: Cluster,
    deployments: readonly { namespace: string; name: string }[],
    timeoutMs = 90_000,
): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        reportPodsRunning(cluster, [...new Set(deployments.map((d) => d.namespace))]);
        const pending = deployments.filter((d) => {
            const obj = kubectlJson(cluster, ["-n", d.namespace, "get", "deployment", d.name]);
            return (
                !(obj.status?.conditions ?? []).some((c: any) => c.type === "Available" && c.status === "True") ||
                (obj.status?.availableReplicas ?? 0) < obj.spec.replicas
            );
        });
        if (pending.length === 0) return;
        if (Date.now() > deadline)
            throw new Error(`not available after ${timeoutMs} ms: ${pending.map((d) => `${d.namespace}/${d.name}`).join(", ")}`);
        await new Promise((r) => setTimeout(r, 1000));
    }
}
