/**
 * Pulumi's runtime records `new Error().stack` on every promise it creates (`debuggablePromise`: the
 * stack is printed only when the promise leaks), thousands per preview of this stack: one per input
 * property of every resource. With source maps installed (ts-node and Pulumi's runner both install
 * source-map-support), each of those stacks was source-mapped frame by frame: about a fifth of the
 * program's CPU time in a `pulumi preview` (profiled). Those stacks are now formatted without mapping
 * (JavaScript positions; printed only for a leaked promise); every other stack trace (errors, the
 * source position Pulumi records per resource) is mapped as before.
 */
const MARK = Symbol.for("picluster-linkerd.unmappedPromiseStacks");

type Prepare = (error: Error, frames: NodeJS.CallSite[]) => unknown;

/** Installs the shortcut in front of whatever `Error.prepareStackTrace` is installed now (idempotent). */
export function unmapPromiseStacks(): void {
    const holder = Error as { prepareStackTrace?: Prepare & { [MARK]?: true } };
    const mapped = holder.prepareStackTrace;
    if (!mapped || mapped[MARK]) return;
    const prepare: Prepare & { [MARK]?: true } = (error, frames) =>
        frames[0]?.getFunctionName() === "debuggablePromise"
            ? [
                  String(error),
                  ...frames.map(
                      (f) => `    at ${f.getFunctionName() ?? "<anonymous>"} (${f.getFileName() ?? "?"}:${f.getLineNumber()}:${f.getColumnNumber()})`,
                  ),
              ].join("\n")
            : mapped(error, frames);
    prepare[MARK] = true;
    holder.prepareStackTrace = prepare;
}
