/**
 * The one module that uses @pulumi/pulumi's private runtime: what the offline render (lib/render.ts) needs and the
 * SDK does not offer. None of it is the SDK's API, so any release may change it; test/pulumiInternals.test.ts
 * checks each piece against the installed SDK and fails naming its version.
 *
 * - the resource monitor's requests (`getMonitor()`): the parent, read id and import id of every registration,
 *   and the stack outputs, as the engine would receive them (the mocks' `newResource` sees none of them);
 * - a resource's logical name (`__name`), to name the explicit dependsOn the program wrote: the engine only ever
 *   receives the union of explicit and implicit dependencies, as URNs;
 * - `waitForRPCs()`: every registration has reached the monitor before the render reads what it recorded.
 *
 * Explicit dependsOn is read with a stack transformation (`registerStackTransformation`, public but legacy): the
 * only hook that sees a resource's options as the program wrote them. Transforms (the current API) run in the
 * engine, not under mocks.
 */
import * as pulumi from "@pulumi/pulumi";
import { version as sdkVersion } from "@pulumi/pulumi/package.json";

/** The installed SDK, named by every failure of this module. */
export const PULUMI_SDK_VERSION: string = sdkVersion;

/** One request the program sent to the resource monitor, deserialized. */
export interface MonitorRequest {
    readonly type: string;
    readonly name: string;
    /** The parent's URN ("" for none). */
    readonly parentUrn: string;
    /** Component resources are not custom. */
    readonly custom: boolean;
    /** Inputs (registrations) or properties (reads), with Pulumi's secret and unknown sentinels as the SDK serialized them. */
    readonly inputs: Record<string, unknown>;
    /** Reads (`Resource.get`): the id read. */
    readonly readId?: string;
    /** Registrations with the `import` option. */
    readonly importId?: string;
    readonly ignoreChanges: readonly string[];
}

export interface MonitorHooks {
    /** Each registration before the monitor handles it; the returned function receives the URN it was given. */
    registered(request: MonitorRequest): ((urn: string) => void) | void;
    /** Each read before the monitor handles it. */
    read(request: MonitorRequest): void;
    /** The root stack's outputs, as registered. */
    stackOutputs(outputs: Record<string, unknown>): void;
}

class PulumiInternalsError extends Error {
    constructor(what: string) {
        super(`@pulumi/pulumi ${PULUMI_SDK_VERSION}: ${what} (lib/pulumiInternals.ts relies on it; adapt it to this SDK version)`);
    }
}

/* eslint-disable @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-return, @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-explicit-any --
 * this module's purpose is reading the SDK's untyped internals; each is checked by test/pulumiInternals.test.ts. */
const runtime = pulumi.runtime as any;

type Callback = (err: unknown, response: any) => void;

function request(req: any, read: boolean): MonitorRequest {
    const props = read ? req.getProperties() : req.getObject();
    return {
        type: req.getType(),
        name: req.getName(),
        parentUrn: req.getParent() ?? "",
        custom: read ? true : req.getCustom(),
        inputs: pulumi.runtime.deserializeProperties(props),
        ...(read ? { readId: req.getId() } : {}),
        ...(!read && req.getImportid() ? { importId: req.getImportid() } : {}),
        ignoreChanges: read ? [] : req.getIgnorechangesList(),
    };
}

/** The mock monitor, once `pulumi.runtime.setMocks` has installed it. */
function mockMonitor(): any {
    if (typeof runtime.getMonitor !== "function") throw new PulumiInternalsError("pulumi.runtime.getMonitor() is gone");
    const monitor = runtime.getMonitor();
    for (const method of ["registerResource", "readResource", "registerResourceOutputs"]) {
        if (typeof monitor?.[method] !== "function") throw new PulumiInternalsError(`the resource monitor has no ${method}()`);
    }
    return monitor;
}

/** Sees every request the program sends to the (mock) monitor; call after `setMocks`, before the program runs. */
export function hookMonitor(hooks: MonitorHooks): void {
    const monitor = mockMonitor();
    const registerResource = monitor.registerResource.bind(monitor);
    const readResource = monitor.readResource.bind(monitor);
    const registerResourceOutputs = monitor.registerResourceOutputs.bind(monitor);
    monitor.registerResource = (req: any, callback: Callback) => {
        // The root Stack resource is the engine's, not the program's.
        if (req.getType() === "pulumi:pulumi:Stack") return registerResource(req, callback);
        const done = hooks.registered(request(req, false));
        return registerResource(req, (err: unknown, response: any) => {
            if (!err && done) done(response.getUrn());
            callback(err, response);
        });
    };
    monitor.readResource = (req: any, callback: Callback) => {
        hooks.read(request(req, true));
        return readResource(req, callback);
    };
    monitor.registerResourceOutputs = (req: any, callback: Callback) => {
        if (req.getUrn().includes("::pulumi:pulumi:Stack::")) {
            hooks.stackOutputs(pulumi.runtime.deserializeProperties(req.getOutputs()));
        }
        return registerResourceOutputs(req, callback);
    };
}

/** A resource's logical name as the program gave it (undefined for a value that is not a resource). */
export function resourceName(resource: unknown): string | undefined {
    const name = (resource as any)?.__name;
    return typeof name === "string" ? name : undefined;
}

/**
 * Calls `record` with each resource's type, name and explicit dependsOn (named by `resourceName`, "[computed]"
 * for a dependency only known later), as the program wrote them. Call inside `runInPulumiStack`.
 */
export function recordExplicitDependsOn(record: (type: string, name: string, dependsOn: string[]) => void): void {
    pulumi.runtime.registerStackTransformation((args) => {
        const deps = args.opts.dependsOn;
        const list = deps === undefined ? [] : Array.isArray(deps) ? deps : [deps];
        record(
            args.type,
            args.name,
            list.map((d) => resourceName(d) ?? "[computed]"),
        );
        return undefined;
    });
}

/** Resolves once every outstanding resource RPC has completed. */
export async function waitForRPCs(): Promise<void> {
    if (typeof runtime.waitForRPCs !== "function") throw new PulumiInternalsError("pulumi.runtime.waitForRPCs() is gone");
    await runtime.waitForRPCs();
}
/* eslint-enable @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-return, @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-explicit-any */
