/**
 * Jobs that stop their proxy through its /shutdown endpoint (`linkerd-await --shutdown -- <cmd>`, the
 * guide's fix for Jobs in meshed namespaces): from Linkerd 2.16 that endpoint is off by default, and
 * such a Job never finishes unless controlPlane.enableShutdownEndpoint is true. Pure.
 */
import { get, listAt, objAt, str } from "../k8s";

/** The pod spec of a Job or CronJob. */
function podSpecOf(w: unknown): unknown {
    const kind = get(w, "kind");
    if (kind === "Job") return objAt(w, "spec", "template", "spec");
    if (kind === "CronJob") return objAt(w, "spec", "jobTemplate", "spec", "template", "spec");
    return undefined;
}

/** Whether a container runs linkerd-await with --shutdown. */
export function awaitsShutdown(container: unknown): boolean {
    const text = [...listAt(container, "command"), ...listAt(container, "args")].map((w) => String(w as string)).join(" ");
    return /(^|[\s/])linkerd-await(\s|$)/.test(text) && /(^|\s)(-S|--shutdown)(\s|$)/.test(text);
}

/** `Kind/namespace/name` of the Jobs and CronJobs among `workloads` whose containers stop the proxy through /shutdown. */
export function jobsUsingShutdown(workloads: readonly unknown[]): string[] {
    return workloads
        .filter((w) => listAt(podSpecOf(w), "containers").some(awaitsShutdown))
        .map((w) => `${str(get(w, "kind"))}/${str(get(w, "metadata", "namespace"))}/${str(get(w, "metadata", "name"))}`);
}
