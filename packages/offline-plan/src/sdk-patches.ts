/**
 * What the planner changes in the program's copy of the SDK, each for a reason given where it is done:
 * the monitor's registrations recorded, promise stamps and source positions taken without stack traces,
 * `.apply` callbacks tracked behind a preview, and the properties a registration leaves undefined noted
 * for the mocks. Each patch is installed once per copy of the SDK and marks what it installed.
 */
import * as path from "path";
import type * as PulumiSdk from "@pulumi/pulumi";
import { PlannedResource, UNKNOWN, UnknownApply } from "./model";
import { programLocation } from "./program-errors";
import { modelledComponentOutputs } from "./resource-mocks";
import { DYNAMIC_RESOURCE, LookupLog } from "./data-sources";
import { RegisterRequest, recordOf } from "./records";

export const STACK_REFERENCE = "pulumi:pulumi:StackReference";

interface Monitor {
    registerResource(req: RegisterRequest, callback: (err: unknown, resp?: { getUrn(): string; getId(): string; setUnknown?(value: boolean): void }) => void): void;
    readResource(req: { getType(): string; getId(): string }, callback: (err: unknown, resp?: { setUnknown(value: boolean): void }) => void): void;
}

/**
 * Helm v3: a Release, whose chart the kubernetes provider installs, and a Chart, whose objects the SDK registers from
 * what the provider renders (its `kubernetes:helm:template` invoke, which a real preview runs and no stand-in
 * answers offline): either way the chart's objects (CronJobs, StatefulSets…) reach no offline plan.
 */
const HELM_V3_CHARTS = new Set(["kubernetes:helm.sh/v3:Release", "kubernetes:helm.sh/v3:Chart"]);

/** Records every registration; marks unsupplied StackReferences' outputs unknown, as a first preview has them. */
export function watchMonitor(pulumi: typeof PulumiSdk, resources: PlannedResource[], unsupplied: Set<string>, lookups: LookupLog): void {
    const monitor = pulumi.runtime.getMonitor() as unknown as Monitor;
    const register = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req, callback) => {
        register(req, (err, resp) => {
            if (!err && resp) {
                resources.push(recordOf(req, resp.getUrn(), resp.getId()));
                if (req.getRemote?.() || HELM_V3_CHARTS.has(req.getType())) {
                    // Under `pulumi up` the plugin registers the component's children; offline, nothing does.
                    // A Helm Release is one resource whose chart the provider installs: its objects are never planned;
                    // a Chart's are registered from the provider's rendering, unknown offline (h40 trial).
                    lookups.recordRemoteComponent(req.getType(), req.getName());
                } else if (req.getType() === DYNAMIC_RESOURCE) {
                    // Offline, as in a preview, its provider's create never runs: say so, never a silent resource.
                    lookups.recordDynamicResource(req.getName());
                }
                // The SDK keeps the unknowns of a response flagged unknown (an update that could not compute
                // everything); unflagged, it turns them into known undefineds. The mocks mark unknown only what
                // they cannot compute (unmodelledOutputs).
                resp.setUnknown?.(true);
            }
            callback(err, resp);
        });
    };
    const read = monitor.readResource.bind(monitor);
    monitor.readResource = (req, callback) => {
        read(req, (err, resp) => {
            if (!err && resp && req.getType() === STACK_REFERENCE && unsupplied.has(req.getId())) {
                resp.setUnknown(true);
            }
            callback(err, resp);
        });
    };
}

interface DebuggableModule {
    debugPromiseLeaks?: boolean;
    debuggablePromise?: ((p: Promise<unknown>, ctx: unknown) => Promise<unknown>) & { withoutStack?: boolean };
    leakedPromises?: () => [Set<unknown>, string];
}

/** The directory of the @pulumi/pulumi the program loads (its own, else ours). */
export function sdkDirOf(programDir: string): string {
    return path.dirname(require.resolve("@pulumi/pulumi/package.json", { paths: [programDir, __dirname] }));
}

/** The program's copy of the SDK's runtime/debuggable.js (which tracks registrations still pending). */
function debuggableModule(programDir: string): DebuggableModule {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(path.join(sdkDirOf(programDir), "runtime", "debuggable.js")) as DebuggableModule;
}

/**
 * The SDK stamps every promise it tracks with `new Error().stack`, which it prints only when
 * PULUMI_DEBUG_PROMISE_LEAKS is set. With source maps on (the program's file:line needs them), each such
 * stack costs a source-map lookup per frame: a sixth of a plan's CPU. Unless that variable is set, the
 * stamp is taken with an empty stack; the promise is tracked exactly as before (pendingRegistrations).
 * The SDK calls it through its module's exports, so replacing the export reaches every caller.
 */
export function withoutPromiseStacks(programDir: string): void {
    const debuggable = debuggableModule(programDir);
    const original = debuggable.debuggablePromise;
    if (!original || original.withoutStack || debuggable.debugPromiseLeaks !== false) {
        return;
    }
    const stackless = (p: Promise<unknown>, ctx: unknown): Promise<unknown> => {
        const limit = Error.stackTraceLimit;
        Error.stackTraceLimit = 0;
        try {
            return original(p, ctx);
        } finally {
            Error.stackTraceLimit = limit;
        }
    };
    debuggable.debuggablePromise = Object.assign(stackless, { withoutStack: true });
}

interface PromptStackReference {
    readOutputValue?: ((this: PulumiSdk.StackReference, caller: string, output: string, required: boolean) => Promise<[unknown, boolean]>) & { offline?: boolean };
}

/**
 * `await ref.getOutputValue(name)` (and requireOutputValue, getOutputDetails) on a StackReference whose outputs
 * are unknown offline (no --stack-outputs, not planned in the run) would give the program `undefined` as if it
 * were the value, and the plan would go on with it ("undefined" in a tag, a name): a silent misread. It fails
 * instead, naming the stack, the output and what to supply; getOutput/requireOutput stay unknown, as in a
 * first preview.
 */
export function refuseUnknownStackOutputValues(pulumi: typeof PulumiSdk): void {
    const prototype = pulumi.StackReference.prototype as unknown as PromptStackReference;
    const original = prototype.readOutputValue;
    if (typeof original !== "function" || original.offline) {
        return;
    }
    const checked = async function (this: PulumiSdk.StackReference, caller: string, output: string, required: boolean): Promise<[unknown, boolean]> {
        // isKnown and promise() are the Output's internals (the SDK's own readOutputValue reads the value this way).
        const value = (required ? this.requireOutput(output) : this.getOutput(output)) as unknown as { isKnown: Promise<boolean> };
        if (!(await value.isKnown)) {
            const stack = await (this.name as unknown as { promise(): Promise<string> }).promise();
            throw new Error(
                `StackReference ${stack}: the program awaits ${caller === "requireOutputSync" ? "requireOutputValue" : caller === "getOutputValueDetails" ? "getOutputDetails" : caller}("${output}"), ` +
                    `whose value is not known offline (that stack is not in this run and its outputs were not supplied): ` +
                    `supply them with --stack-outputs ${stack}=FILE.json (what \`pulumi stack output --json --show-secrets -s ${stack}\` prints), or use getOutput("${output}"), which stays unknown as in a first preview`,
            );
        }
        return original.call(this, caller, output, required);
    };
    prototype.readOutputValue = Object.assign(checked, { offline: true });
}

interface PositionedResource {
    stackTrace?: ((skip: number) => unknown[]) & { offline?: boolean };
}

/**
 * Every Resource constructor takes `new Error().stack` with no frame limit, source-mapped, to send the
 * engine the program's file:line (sourcePosition, stackTrace in RegisterResourceRequest), which the engine
 * shows in the Pulumi Cloud console. No plan record or policy reads them offline, and they cost about a
 * twentieth of a six-stack plan's CPU; offline, the registrations carry none.
 */
export function withoutSourcePositions(pulumi: typeof PulumiSdk): void {
    const resource = pulumi.Resource as unknown as PositionedResource;
    if (typeof resource.stackTrace === "function" && !resource.stackTrace.offline) {
        resource.stackTrace = Object.assign((): unknown[] => [], { offline: true });
    }
}

/** An `.apply` callback running now: where the program called it, and the resources its Output comes from. */
export interface ApplyFrame {
    /** Taken when `.apply` is called; its stack is formatted (source-mapped) only for a registration made inside. */
    site: Error;
    waitsOn: string[];
}

/** The `.apply` callbacks of the full run behind a preview (mock-runtime.ts fullPlanBehindPreview), and what they register. */
export const applyTracking = {
    /** Set during that run only: every other plan's `.apply` only forwards. */
    on: false,
    /** The callbacks running now, innermost last. */
    stack: [] as ApplyFrame[],
    /** "type::name" of each registration made inside an `.apply` callback of the tracked run, with that callback. */
    registered: new Map<string, ApplyFrame>(),
};

/**
 * The `.apply` callbacks of a full plan (not a preview) that never ran: their Output's value was unknown even
 * offline (a RandomString's `result`, an output the mocks cannot compute, an unsupplied StackReference's
 * outputs). `pulumi up` would run them; whatever they register is missing from the plan and from every policy.
 */
export const unrunApplies = {
    /** Set by runProgram for a full plan; off in a preview (which says what waits instead: waitingOnUnknowns). */
    on: false,
    /** Each such callback's call site (one frame, not yet formatted) and its Output's resources. */
    found: [] as Array<{ site: Error; waitsOn: string[] }>,
};

/**
 * The full plan's `.apply` callbacks that did not run (sdk-patches.ts unrunApplies), those called from the
 * program's own files only (not the SDK's or a provider's), one entry per call site, in file and line order.
 */
export function unrunAppliesIn(programDir: string): UnknownApply[] {
    const found = unrunApplies.found.splice(0);
    unrunApplies.on = false;
    const bySite = new Map<string, UnknownApply>();
    for (const { site, waitsOn } of found) {
        const where = programLocation(site, programDir);
        if (where === undefined) {
            continue;
        }
        const entry = bySite.get(where) ?? { where, waitsOn: [], count: 0 };
        entry.count += 1;
        entry.waitsOn = [...new Set([...entry.waitsOn, ...waitsOn])];
        bySite.set(where, entry);
    }
    const position = (where: string) => {
        const [, file, line, column] = /^(.*):(\d+):(\d+)$/.exec(where) ?? [where, where, "0", "0"];
        return { file, line: Number(line), column: Number(column) };
    };
    return [...bySite.values()].sort((a, b) => {
        const [x, y] = [position(a.where), position(b.where)];
        return x.file.localeCompare(y.file) || x.line - y.line || x.column - y.column;
    });
}

interface TrackedApply {
    (this: { resources?(): Set<unknown>; isKnown?: Promise<boolean> }, func: unknown, runWithUnknowns?: boolean): unknown;
    tracked?: boolean;
}

function resourceNames(resources: Set<unknown> | undefined): string[] {
    const names = [...(resources ?? [])].map((r) => (r as { __name?: unknown }).__name).filter((n): n is string => typeof n === "string");
    return [...new Set(names)];
}

/**
 * Wraps Output.prototype.apply. While applyTracking is on, the registrations a callback makes are noted with
 * the callback's call site. In a full plan (unrunApplies.on), a callback the SDK does not run because its
 * value is unknown is noted with its caller's frame (captured, not formatted: formatting and source-mapping
 * happen only for the few that turn out unknown; the SDK's own runWithUnknowns applies always run).
 * Otherwise it only forwards.
 */
export function trackApplies(pulumi: typeof PulumiSdk): void {
    const proto = (pulumi.Output as unknown as { prototype: { apply: TrackedApply } }).prototype;
    if (proto.apply.tracked) {
        return;
    }
    const original = proto.apply;
    const tracked: TrackedApply = function (func, runWithUnknowns) {
        if (typeof func !== "function" || (!applyTracking.on && !unrunApplies.on)) {
            return original.call(this, func, runWithUnknowns);
        }
        if (unrunApplies.on && !runWithUnknowns && this.isKnown) {
            const limit = Error.stackTraceLimit;
            Error.stackTraceLimit = 1;
            const caller = {} as Error;
            Error.captureStackTrace(caller, tracked);
            Error.stackTraceLimit = limit;
            // The SDK runs the callback when (and only when) this is true or runWithUnknowns is set (output.js applyHelperAsync).
            this.isKnown.then(
                (known) => {
                    if (!known) {
                        unrunApplies.found.push({ site: caller, waitsOn: resourceNames(this.resources?.()) });
                    }
                },
                () => undefined,
            );
        }
        if (!applyTracking.on) {
            return original.call(this, func, runWithUnknowns);
        }
        const limit = Error.stackTraceLimit;
        Error.stackTraceLimit = 30;
        const site = new Error("apply");
        Error.stackTraceLimit = limit;
        const frame: ApplyFrame = { site, waitsOn: resourceNames(this.resources?.()) };
        const callback = func as (value: unknown) => unknown;
        return original.call(
            this,
            (value: unknown) => {
                applyTracking.stack.push(frame);
                try {
                    return callback(value);
                } finally {
                    applyTracking.stack.pop();
                }
            },
            runWithUnknowns,
        );
    };
    proto.apply = Object.assign(tracked, { tracked: true });
}

interface ResourceRuntime {
    registerResource: ((...args: unknown[]) => unknown) & { recordsOutputs?: boolean };
}

/** Per "type::name", in registration order: the properties each registration left undefined (cleared per stack). */
export const undefinedProperties = new Map<string, string[][]>();

/**
 * A resource class registers every property it has, its outputs among them, with undefined for what the
 * program did not set (`resourceInputs["arn"] = undefined`). Recorded here, so that the mocks can tell the
 * SDK which of them the provider would compute (see unmodelledOutputs).
 */
export function recordUndefinedProperties(programDir: string): void {
    const sdkDir = sdkDirOf(programDir);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const runtime = require(path.join(sdkDir, "runtime", "resource.js")) as ResourceRuntime;
    const register = runtime.registerResource;
    if (register.recordsOutputs) {
        return;
    }
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const sdk = require(sdkDir) as typeof PulumiSdk;
    const recording = (...args: unknown[]): unknown => {
        const [res, , type, name, custom, remote, , props] = args as [Record<string, unknown>, unknown, string, string, boolean, boolean, unknown, Record<string, unknown> | undefined];
        const missing = Object.keys(props ?? {}).filter((k) => (props ?? {})[k] === undefined);
        if (applyTracking.on && applyTracking.stack.length > 0) {
            applyTracking.registered.set(`${type}::${name}`, applyTracking.stack[applyTracking.stack.length - 1]);
        }
        if (custom) {
            const key = `${type}::${name}`;
            undefinedProperties.set(key, [...(undefinedProperties.get(key) ?? []), missing]);
        }
        const result = register(...args);
        if (remote && !custom && !sdk.runtime.isDryRun()) {
            // A plugin-built component's outputs: the SDK keeps no unknown in a component's response, so those
            // the mocks do not stand in for are made unknown here, before the program reads them.
            const modelled = new Set(modelledComponentOutputs(type));
            for (const key of missing.filter((k) => !modelled.has(k))) {
                res[key] = sdk.output(sdk.unknown);
            }
        }
        return result;
    };
    runtime.registerResource = Object.assign(recording, { recordsOutputs: true });
}

/**
 * What a provider computes and the mocks do not model, as unknown rather than a known undefined: a real
 * `pulumi up` gives such an output a value, and a resource that reads it must not lose the property.
 */
export function unmodelledOutputs(type: string, name: string, state: Record<string, unknown>): Record<string, unknown> {
    const key = `${type}::${name}`;
    const queue = undefinedProperties.get(key);
    const missing = queue?.shift() ?? [];
    if (queue && queue.length === 0) {
        undefinedProperties.delete(key);
    }
    return Object.fromEntries(missing.filter((k) => !(k in state)).map((k) => [k, UNKNOWN]));
}

/** Registrations still waiting when the program is done: a resource that would silently be missing. */
export function pendingRegistrations(programDir: string): string | undefined {
    try {
        const [leaked, message] = debuggableModule(programDir).leakedPromises?.() ?? [new Set(), ""];
        return leaked.size > 0 && message.includes("registrations could complete") ? message : undefined;
    } catch {
        return undefined;
    }
}
