/**
 * Jobs that stop their proxy through its /shutdown endpoint (`linkerd-await --shutdown -- <cmd>`, the
 * guide's fix for Jobs in meshed namespaces): from Linkerd 2.16 that endpoint is off by default, and
 * such a Job never finishes unless controlPlane.enableShutdownEndpoint is true. Pure.
 */

type Container = { command?: unknown; args?: unknown };
type PodSpec = { containers?: Container[]; initContainers?: Container[] };
type Workload = { kind?: string; metadata?: { name?: string; namespace?: string }; spec?: any };

/** The pod spec of a Job or CronJob. */
function podSpecOf(w: Workload): PodSpec | undefined {
    if (w.kind === "Job") return w.spec?.template?.spec;
    if (w.kind === "CronJob") return w.spec?.jobTemplate?.spec?.template?.spec;
    return undefined;
}

/** Whether a container runs linkerd-await with --shutdown. */
export function awaitsShutdown(c: Container): boolean {
    const words = [...(Array.isArray(c.command) ? c.command : []), ...(Array.isArray(c.args) ? c.args : [])].map(String);
    const text = words.join(" ");
    return /(^|[\s/])linkerd-await(\s|$)/.test(text) && /(^|\s)(-S|--shutdown)(\s|$)/.test(text);
}

/** `Kind/namespace/name` of the Jobs and CronJobs among `workloads` whose containers stop the proxy through /shutdown. */
export function jobsUsingShutdown(workloads: readonly Workload[]): string[] {
    return workloads
        .filter((w) => (podSpecOf(w)?.containers ?? []).some(awaitsShutdown))
        .map((w) => `${w.kind}/${w.metadata?.namespace}/${w.metadata?.name}`);
}
