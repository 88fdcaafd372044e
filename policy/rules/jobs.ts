/**
 * Rule 1 — Jobs must be able to finish.
 *
 * Guide, "Problems with Kubernetes Jobs and implicit annotation": a Job pod that gets the Linkerd proxy never
 * completes, because the proxy keeps running after the job's own containers exit (kube-prometheus-stack's
 * admission-create Job hangs the chart install). A meshed Job/CronJob must do one of:
 *  - opt out: `linkerd.io/inject: disabled` on the pod template;
 *  - wrap every container's command in `linkerd-await --shutdown -- <cmd>`, with the proxy's /shutdown
 *    endpoint enabled (always on before 2.16; from 2.16 `proxy.enableShutdownEndpoint: true` or the pod
 *    annotation `config.linkerd.io/proxy-admin-shutdown: enabled`);
 *  - run the proxy as a native sidecar (2.15+; release default `proxy.nativeSidecar` or the pod annotation whose
 *    name depends on the release).
 * The same holds for Helm hook Pods that run to completion (restartPolicy Never/OnFailure): Helm waits for hook Pods
 * to finish, so a meshed `helm test` Pod hangs `helm test` until its timeout.
 */
import { RuleContext } from "./context";
import { injectionFor } from "./injection";
import {
    HELM_HOOK_ANNOTATION,
    INJECT_ANNOTATION,
    Obj,
    annotation,
    containers,
    get,
    namespaceOf,
    podTemplate,
    str,
    templateAnnotationPath,
    kindOf,
} from "../../lib/k8s";
import { SHUTDOWN_ANNOTATION, describeRelease, nativeSidecarAnnotations, NATIVE_SIDECAR_ANNOTATIONS, releaseNote } from "./release";
import { Rule } from "./types";

export const JOB_RULE = "linkerd-job-must-complete";

/** linkerd-await options that take a value as the next argument. */
const AWAIT_VALUE_OPTS = new Set(["-p", "--port", "-b", "--backoff", "-t", "--timeout", "-u", "--uri"]);
const SHELLS = /(^|\/)(ba|da|a|z)?sh$/;

function isAwaitBinary(s: string): boolean {
    return s === "linkerd-await" || s.endsWith("/linkerd-await");
}

/**
 * Does this argv start with `linkerd-await` and ask for `--shutdown` (or `-S`) among its own options, i.e. before
 * `--` or the wrapped command? Also understands `sh -c "[exec] linkerd-await --shutdown -- …"`.
 */
export function awaitsWithShutdown(argv: string[]): boolean {
    if (argv.length === 0) return false;
    if (SHELLS.test(argv[0]) && argv.length >= 3 && argv[1] === "-c") {
        const script = argv.slice(2).join(" ").trim().split(/\s+/);
        if (script[0] === "exec") script.shift();
        return awaitsWithShutdown(script);
    }
    if (!isAwaitBinary(argv[0])) return false;
    for (let i = 1; i < argv.length; i++) {
        const a = argv[i];
        if (a === "--") return false;
        if (a === "--shutdown" || a === "-S") return true;
        if (/^-[a-zA-Z]*S[a-zA-Z]*$/.test(a) && !a.startsWith("--")) return true; // combined short flags, e.g. -vS
        if (AWAIT_VALUE_OPTS.has(a)) {
            i++;
            continue;
        }
        if (a.startsWith("-")) continue; // other flags, --opt=value
        return false; // first non-option: the wrapped command starts here
    }
    return false;
}

/** ` (image1, image2)`: the images the linkerd-await fix would have to change. */
function images(cs: { c: Obj }[]): string {
    const list = [...new Set(cs.map((x) => str(x.c.image)).filter((i): i is string => i !== undefined))];
    return list.length ? ` (${list.join(", ")})` : "";
}

function argvOf(c: Obj): string[] | undefined {
    const cmd = get(c, "command");
    if (!Array.isArray(cmd) || cmd.length === 0) return undefined; // image ENTRYPOINT: cannot be wrapped
    const args = get(c, "args");
    return [...(cmd as unknown[]), ...(Array.isArray(args) ? (args as unknown[]) : [])].map((x) => String(x));
}

/**
 * The hooks of a Helm hook Pod that runs to completion (restartPolicy Never or OnFailure), else undefined. Helm waits
 * for hook Pods and Jobs to complete (https://helm.sh/docs/topics/charts_hooks/); `helm test` runs the `test` hooks
 * (`test-success` is the Helm 2 name Helm 3 still accepts).
 */
export function helmHookPod(o: Obj): string[] | undefined {
    if (o.kind !== "Pod") return undefined;
    const hook = annotation(get(o, "metadata"), HELM_HOOK_ANNOTATION);
    if (!hook) return undefined;
    const restart = str(get(o, "spec", "restartPolicy")) ?? "Always";
    if (restart === "Always") return undefined;
    const hooks = hook
        .split(",")
        .map((h) => h.trim())
        .filter(Boolean);
    return hooks.length ? hooks : undefined;
}

/** For messages: who waits for what never completes (Helm, for hook pods and hook Jobs). */
function waiterOf(o: Obj, hooks: string[] | undefined): string {
    const jobHooks = o.kind === "Job" ? annotation(get(o, "metadata"), HELM_HOOK_ANNOTATION) : undefined;
    if (hooks) {
        return hooks.some((h) => h === "test" || h === "test-success")
            ? " `helm test` waits for it until its timeout."
            : " Helm waits for hook pods, so the install or upgrade hangs until its timeout.";
    }
    if (!jobHooks) return "";
    return (
        ` It is a Helm hook (${HELM_HOOK_ANNOTATION}: ${jobHooks}): Helm waits for hook Jobs to complete, so ` +
        (/test/.test(jobHooks) ? "`helm test` hangs" : "`helm install`/`helm upgrade` (and a Pulumi Helm release) hangs") +
        " until its timeout and fails."
    );
}

/** The ways out besides opting out of injection: a native sidecar, or linkerd-await in an image one builds. */
function alternativesFor(
    rel: RuleContext["release"],
    accepted: string[],
    main: { c: Obj }[],
    notWrapped: { c: Obj }[],
    shutdownOn: boolean,
): string[] {
    // A container without `command` runs its image's entrypoint: there is no command to wrap, it must be spelled out.
    const names = (xs: { c: Obj }[]) => xs.map((x) => str(x.c.name) ?? "?").join(", ");
    const withCommand = notWrapped.filter((x) => argvOf(x.c) !== undefined);
    const entrypointOnly = notWrapped.filter((x) => argvOf(x.c) === undefined);
    const awaitSteps: string[] = [];
    if (withCommand.length) awaitSteps.push(`wrap the command of container(s) ${names(withCommand)} in \`linkerd-await --shutdown -- <command>\``);
    if (entrypointOnly.length) {
        awaitSteps.push(
            `set the command of container(s) ${names(entrypointOnly)} explicitly (they set none and run their image's entrypoint) to ` +
                `\`[linkerd-await, --shutdown, --, <entrypoint>…]\``,
        );
    }
    if (awaitSteps.length === 0) awaitSteps.push("run every container's command as `linkerd-await --shutdown -- <command>`");
    const alternatives: string[] = [];
    if (rel.nativeSidecarSupported) {
        alternatives.push(`run the proxy as a native sidecar with \`${accepted[0]}: enabled\` (Kubernetes >= 1.29)`);
    }
    // linkerd-await is a binary of its own that chart images (busybox, kubectl, kube-webhook-certgen, ...) do not ship.
    alternatives.push(
        `only if you build the image${images(main)} and add the linkerd-await binary to it (chart images do not ship it): ` +
            awaitSteps.join(" and ") +
            (shutdownOn ? "" : ` and add \`${SHUTDOWN_ANNOTATION}: enabled\` (the shutdown endpoint is off by default since 2.16)`),
    );
    return alternatives;
}

function jobCheck(o: Obj, ctx: RuleContext): string[] {
    const hooks = helmHookPod(o);
    if (o.kind !== "Job" && o.kind !== "CronJob" && !hooks) return [];
    // For messages: what never completes, and who waits for it.
    const subject = hooks ? `Helm hook Pod (${HELM_HOOK_ANNOTATION}: ${hooks.join(",")}) gets` : `${kindOf(o)} pods get`;
    const waiter = waiterOf(o, hooks);
    const t = podTemplate(o);
    if (!t) return [];
    const ns = namespaceOf(o, ctx.defaultNamespace);
    const inj = injectionFor(t, ns, ctx);
    if (!inj.injected) return [];

    const rel = ctx.release;
    const where = templateAnnotationPath(t);
    const accepted = nativeSidecarAnnotations(rel.version);

    // Native sidecar: per-pod annotation (a name this release knows), else the release default.
    let nativeNote = "";
    if (rel.nativeSidecarSupported) {
        const explicit = accepted.map((a) => annotation(t.metadata, a)).find((v) => v !== undefined);
        if (explicit === "enabled" || (explicit === undefined && rel.nativeSidecarDefault)) return [];
        if (explicit !== undefined) nativeNote = ` The pod template turns native sidecars off (${explicit}).`;
    }
    const wrong = Object.values(NATIVE_SIDECAR_ANNOTATIONS).filter((a) => !accepted.includes(a) && annotation(t.metadata, a) !== undefined);
    if (wrong.length) {
        nativeNote +=
            ` ${describeRelease(rel)} does not read ${wrong.join(", ")}` +
            (accepted.length ? ` (use ${accepted[0]})` : " (native sidecars need Linkerd 2.15+)") +
            ".";
    }

    // linkerd-await --shutdown around every container.
    const main = containers(t.spec).filter((x) => x.field === "containers");
    const notWrapped = main.filter((x) => !awaitsWithShutdown(argvOf(x.c) ?? []));
    const shutdownOn = rel.shutdownEndpointEnabled || annotation(t.metadata, SHUTDOWN_ANNOTATION) === "enabled";
    if (main.length > 0 && notWrapped.length === 0) {
        if (shutdownOn) return [];
        return [
            `${subject} the Linkerd proxy because ${inj.reason}. Its containers run \`linkerd-await --shutdown\`, but ` +
                `the proxy's /shutdown endpoint is off by default since Linkerd 2.16 (${releaseNote(rel)}), so the proxy ` +
                `never exits and the ${kindOf(o)} never completes.${waiter} Fix: add the annotation \`${SHUTDOWN_ANNOTATION}: enabled\` at ${where}, ` +
                `or set the control-plane value proxy.enableShutdownEndpoint=true.${nativeNote}`,
        ];
    }

    const alternatives = alternativesFor(rel, accepted, main, notWrapped, shutdownOn);
    const fix = inj.explicit
        ? `set \`${INJECT_ANNOTATION}: disabled\` at ${where} instead of asking for injection`
        : `add the annotation \`${INJECT_ANNOTATION}: disabled\` at ${where}`;
    return [
        `${subject} the Linkerd proxy because ${inj.reason}; the proxy keeps running after the ${hooks ? "pod's" : "job's"} containers exit, ` +
            `so the ${kindOf(o)} never completes (guide: "Problems with Kubernetes Jobs and implicit annotation").${waiter} ` +
            `Fix: ${fix}; or ${alternatives.join("; or ")}. (Release assumed: ${releaseNote(rel)}.)${nativeNote}`,
    ];
}

export const jobRule: Rule = {
    name: JOB_RULE,
    description:
        "Jobs, CronJobs and Helm hook Pods (helm test) whose pods get the Linkerd proxy must opt out, call linkerd-await --shutdown, or use a native sidecar; otherwise they never complete.",
    defaultEnforcement: "mandatory",
    check: jobCheck,
};
