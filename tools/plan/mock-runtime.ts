/**
 * Runs a Pulumi TypeScript program under Pulumi's mock runtime and records every resource registration
 * exactly as the engine would receive it (tools/plan/records.ts), with the program's real configuration,
 * data sources answered as the engine would (tools/plan/data-sources.ts) and the outputs of other stacks
 * behind its StackReferences (unknown, as in a first preview, unless supplied).
 *
 * Nothing is dropped without a word: a program that throws, a rejected promise or a registration that
 * never completes fails the run with the program's own error and its file:line (tools/plan/program-errors.ts).
 *
 * Several stacks per process (`planBatch`, runner.ts): Pulumi's runtime state is global, so `setMocks`
 * resets it before each stack, and the program's own modules are dropped from the require cache so that
 * each stack runs the program afresh; the SDK and the providers stay loaded.
 */
import "./no-dependency-source-maps";
import "./lazy-closure-modules";
import * as fs from "fs";
import * as path from "path";
import type * as PulumiSdk from "@pulumi/pulumi";
import { loadStackSettings, parseConfigAssignment } from "./stack-settings";
import { isSecret, PlannedResource, PlanResult, SECRET_SIG, SECRET_TEXT, UNKNOWN, WaitingRegistration } from "./model";
import { computedState, modelledComponentOutputs, physicalId, providerAccount } from "./resource-mocks";
import { callDataSource, installUnknownInvokes, LookupLog } from "./data-sources";
import { describeFailures, ProgramError, programLocation } from "./program-errors";
import { scrubExposedSecrets } from "./secret-exposure";
import { RegisterRequest, recordOf, resolveExports } from "./records";
import { PlanOrder, planOrderFor, requestedResults } from "./dependencies";
import { PlanError } from "./runner";

export interface RunOptions {
    /** Directory holding Pulumi.yaml and the program. */
    programDir: string;
    stack: string;
    /** Outputs of other stacks, by fully qualified name (org/project/stack), for StackReferences. */
    stackReferences?: Record<string, Record<string, unknown>>;
    /** Preview mode: computed values (ids, ARNs, endpoints) stay unknown, as in `pulumi preview`. */
    preview?: boolean;
    /** Extra or replacement config values, by fully qualified key; `null` removes a key. */
    configOverrides?: Record<string, string | null>;
    /** `--config KEY=VALUE` assignments; a KEY without a namespace is the project's. */
    configSet?: string[];
    organization?: string;
}

const STACK_REFERENCE = "pulumi:pulumi:StackReference";

/** Stacks of one program, planned in order in one process (runner.ts starts it). */
export interface PlanBatch extends Omit<RunOptions, "stack"> {
    /** Planned in this order; with inDependencyOrder, the stacks wanted (none: every stack file). */
    stacks: string[];
    /** Plan the stacks that `stacks` reference first, and return only the stacks asked (dependencies.ts). */
    inDependencyOrder?: boolean;
}

/** A batch's outcome; a failure names its stack, unless it is not one stack's (a missing stack file). */
export type BatchOutcome = { ok: true; results: PlanResult[] } | { ok: false; stack?: string; error: string };

/**
 * The program's own copy of the Pulumi SDK (its node_modules), or ours when it has none: mocks only work
 * when they are installed in the very copy that the program's resources register through.
 */
function sdkFor(programDir: string): typeof PulumiSdk {
    const resolved = require.resolve("@pulumi/pulumi", { paths: [programDir, __dirname] });
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(resolved) as typeof PulumiSdk;
}

/** package.json's entry point, as the Pulumi language host reads it: `exports` ("." or a string), then `main`. */
interface PackageJson {
    main?: string;
    exports?: unknown;
    type?: string;
}

/** The program's package.json, if it has one. */
function packageJsonOf(programDir: string): PackageJson | undefined {
    const file = path.join(programDir, "package.json");
    return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, "utf8")) as PackageJson) : undefined;
}

function packageEntry(programDir: string): string | undefined {
    const pkg = packageJsonOf(programDir);
    if (!pkg) {
        return undefined;
    }
    const exported = typeof pkg.exports === "object" && pkg.exports !== null ? (pkg.exports as Record<string, unknown>)["."] : pkg.exports;
    if (typeof exported === "string") {
        return exported;
    }
    if (exported && typeof exported === "object") {
        const conditions = exported as Record<string, unknown>;
        const entry = conditions.default ?? conditions.require ?? conditions.import;
        if (typeof entry === "string") {
            return entry;
        }
    }
    return pkg.main;
}

/** The file to load: Pulumi.yaml's `main`, then package.json's, then the directory's index. */
function programEntry(programDir: string, main: string | undefined): string {
    const fromPackage = main === undefined ? packageEntry(programDir) : undefined;
    let target = path.resolve(programDir, main ?? fromPackage ?? ".");
    if (fromPackage !== undefined && !fs.existsSync(target)) {
        // The language host's own fall-back (cmd/run/run.js resolveEntrypoint), with its warning: a TypeScript
        // program whose package.json says "main": "index.js" runs index.ts.
        process.stderr.write(`warning: Could not find entry point '${fromPackage}' specified in package.json; using '${programDir}' instead\n`);
        target = programDir;
    }
    const request = fs.existsSync(target) && fs.statSync(target).isDirectory() ? target + path.sep : target;
    try {
        return require.resolve(request);
    } catch {
        const from = main ? "Pulumi.yaml main" : packageEntry(programDir) ? "package.json main" : "the project directory";
        throw new ProgramError(`no program to run: ${path.relative(process.cwd(), request) || request} (from ${from}) does not exist`);
    }
}

/**
 * As the language host loads an ES-module program (package.json "type": "module", through import()): a default
 * export is the program, and a module with both a default export and named ones is an error. A CommonJS
 * program's exports are its outputs as they are.
 */
function esModuleProgram(programDir: string, loaded: unknown): unknown {
    if (packageJsonOf(programDir)?.type !== "module" || !loaded || typeof loaded !== "object" || Object.getOwnPropertyDescriptor(loaded, "default") === undefined) {
        return loaded;
    }
    if (Object.keys(loaded).filter((key) => key !== "default").length > 0) {
        throw new ProgramError("expected entrypoint module to have either a default export or named exports but not both");
    }
    return (loaded as { default: unknown }).default;
}

/** Outputs supplied for a StackReference: by its exact name, or by a name that differs only by the organization. */
function suppliedOutputs(name: string, references: Record<string, Record<string, unknown>>): Record<string, unknown> | undefined {
    if (references[name]) {
        return references[name];
    }
    const tail = name.split("/").slice(-2).join("/");
    const match = Object.keys(references).find((key) => key.split("/").slice(-2).join("/") === tail && key.includes("/"));
    return match ? references[match] : undefined;
}

interface Monitor {
    registerResource(req: RegisterRequest, callback: (err: unknown, resp?: { getUrn(): string; getId(): string; setUnknown?(value: boolean): void }) => void): void;
    readResource(req: { getType(): string; getId(): string }, callback: (err: unknown, resp?: { setUnknown(value: boolean): void }) => void): void;
}

/** A Helm release: the kubernetes provider installs its chart; the chart's objects (CronJobs…) reach no plan. */
const HELM_RELEASE = "kubernetes:helm.sh/v3:Release";

/** Records every registration; marks unsupplied StackReferences' outputs unknown, as a first preview has them. */
function watchMonitor(pulumi: typeof PulumiSdk, resources: PlannedResource[], unsupplied: Set<string>, lookups: LookupLog): void {
    const monitor = pulumi.runtime.getMonitor() as unknown as Monitor;
    const register = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req, callback) => {
        register(req, (err, resp) => {
            if (!err && resp) {
                resources.push(recordOf(req, resp.getUrn(), resp.getId()));
                if (req.getRemote?.() || req.getType() === HELM_RELEASE) {
                    // Under `pulumi up` the plugin registers the component's children; offline, nothing does.
                    // A Helm Release is one resource whose chart the provider installs: its objects are never planned.
                    lookups.recordRemoteComponent(req.getType(), req.getName());
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

/** The program's copy of the SDK's runtime/debuggable.js (which tracks registrations still pending). */
/** The directory of the @pulumi/pulumi the program loads (its own, else ours). */
function sdkDirOf(programDir: string): string {
    return path.dirname(require.resolve("@pulumi/pulumi/package.json", { paths: [programDir, __dirname] }));
}

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
function withoutPromiseStacks(programDir: string): void {
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

interface PositionedResource {
    stackTrace?: ((skip: number) => unknown[]) & { offline?: boolean };
}

/**
 * Every Resource constructor takes `new Error().stack` with no frame limit, source-mapped, to send the
 * engine the program's file:line (sourcePosition, stackTrace in RegisterResourceRequest), which the engine
 * shows in the Pulumi Cloud console. No plan record or policy reads them offline, and they cost about a
 * twentieth of a six-stack plan's CPU; offline, the registrations carry none.
 */
function withoutSourcePositions(pulumi: typeof PulumiSdk): void {
    const resource = pulumi.Resource as unknown as PositionedResource;
    if (typeof resource.stackTrace === "function" && !resource.stackTrace.offline) {
        resource.stackTrace = Object.assign((): unknown[] => [], { offline: true });
    }
}

/** An `.apply` callback running now: where the program called it, and the resources its Output comes from. */
interface ApplyFrame {
    /** Taken when `.apply` is called; its stack is formatted (source-mapped) only for a registration made inside. */
    site: Error;
    waitsOn: string[];
}

/** Set during the full run behind a preview (runBatch): `.apply` callbacks are tracked, and what they register. */
let applyTracking = false;
const applyStack: ApplyFrame[] = [];
/** "type::name" of each registration made inside an `.apply` callback of the tracked run, with that callback. */
const registeredInApply = new Map<string, ApplyFrame>();

interface TrackedApply {
    (this: { resources?(): Set<unknown> }, func: unknown, runWithUnknowns?: boolean): unknown;
    tracked?: boolean;
}

/**
 * Wraps Output.prototype.apply so that, while applyTracking is on, the registrations a callback makes are
 * noted with the callback's call site. Off (every plan but the one behind a preview), it only forwards.
 */
function trackApplies(pulumi: typeof PulumiSdk): void {
    const proto = (pulumi.Output as unknown as { prototype: { apply: TrackedApply } }).prototype;
    if (proto.apply.tracked) {
        return;
    }
    const original = proto.apply;
    const tracked: TrackedApply = function (func, runWithUnknowns) {
        if (!applyTracking || typeof func !== "function") {
            return original.call(this, func, runWithUnknowns);
        }
        const limit = Error.stackTraceLimit;
        Error.stackTraceLimit = 30;
        const site = new Error("apply");
        Error.stackTraceLimit = limit;
        const waitsOn = [...(this.resources?.() ?? [])].map((r) => (r as { __name?: unknown }).__name).filter((n): n is string => typeof n === "string");
        const frame: ApplyFrame = { site, waitsOn: [...new Set(waitsOn)] };
        const callback = func as (value: unknown) => unknown;
        return original.call(
            this,
            (value: unknown) => {
                applyStack.push(frame);
                try {
                    return callback(value);
                } finally {
                    applyStack.pop();
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

/** Per "type::name", in registration order: the properties each registration left undefined. */
const undefinedProperties = new Map<string, string[][]>();

/**
 * A resource class registers every property it has, its outputs among them, with undefined for what the
 * program did not set (`resourceInputs["arn"] = undefined`). Recorded here, so that the mocks can tell the
 * SDK which of them the provider would compute (see unmodelledOutputs).
 */
function recordUndefinedProperties(programDir: string): void {
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
        if (applyTracking && applyStack.length > 0) {
            registeredInApply.set(`${type}::${name}`, applyStack[applyStack.length - 1]);
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
function unmodelledOutputs(type: string, name: string, state: Record<string, unknown>): Record<string, unknown> {
    const key = `${type}::${name}`;
    const queue = undefinedProperties.get(key);
    const missing = queue?.shift() ?? [];
    if (queue && queue.length === 0) {
        undefinedProperties.delete(key);
    }
    return Object.fromEntries(missing.filter((k) => !(k in state)).map((k) => [k, UNKNOWN]));
}

/**
 * The SDK's mock monitor reads a registration's inputs without keeping unknowns (outside a preview it turns
 * each into undefined), so a secret around an unknown value (`pulumi.secret(password.result)`, a SecretVersion's
 * `secretString` built with interpolate over an endpoint) arrives as a secret holding undefined. Echoed back as
 * the resource's state, it would serialize to a secret with no value at all, which the SDK's deserializer
 * rejects inside the registration's callback: the program never finishes. Such a secret is a secret unknown,
 * and is echoed as one (the SDK reads it back as an unknown secret output).
 */
export function secretUnknownsKept(value: unknown): Record<string, unknown> {
    const keep = (v: unknown): unknown => {
        if (isSecret(v)) {
            return { [SECRET_SIG.key]: SECRET_SIG.value, value: v.value === undefined ? UNKNOWN : keep(v.value) };
        }
        if (Array.isArray(v)) {
            return v.map(keep);
        }
        if (v && typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype) {
            return Object.fromEntries(Object.entries(v).map(([k, e]) => [k, keep(e)]));
        }
        return v;
    };
    return keep(value) as Record<string, unknown>;
}

/** Registrations still waiting when the program is done: a resource that would silently be missing. */
function pendingRegistrations(programDir: string): string | undefined {
    try {
        const [leaked, message] = debuggableModule(programDir).leakedPromises?.() ?? [new Set(), ""];
        return leaked.size > 0 && message.includes("registrations could complete") ? message : undefined;
    } catch {
        return undefined;
    }
}

/** The `beforeExit` listeners of the planner's own process (and of a test runner around it), never emitted to. */
const PLANNER_EXIT_LISTENERS = new Set<unknown>(process.rawListeners("beforeExit"));
/** More rounds than any library needs; a program whose exit hooks keep registering would never exit either. */
const MAX_EXIT_ROUNDS = 10;

/**
 * Node emits `beforeExit` when the program's event loop is empty, and the Pulumi language host lets the work
 * its listeners schedule run before it shuts down (cmd/run registers its own listener to run last for this
 * reason). @pulumi/aws creates a bucket's one BucketNotification there, for every `bucket.onObjectCreated`.
 * The planner's process does not exit between stacks, so it emits the event itself to the listeners the SDK,
 * the providers and the program added, until a round registers nothing more: without this, those resources
 * would be missing from the plan.
 */
async function runExitHooks(pulumi: typeof PulumiSdk, resources: PlannedResource[]): Promise<void> {
    const waitForRPCs = (pulumi.runtime as unknown as { waitForRPCs?: () => Promise<void> }).waitForRPCs ?? (async () => undefined);
    for (let round = 0; round < MAX_EXIT_ROUNDS; round++) {
        // rawListeners: a listener added with once() is called through its wrapper, which removes it, as emit does.
        const hooks = process.rawListeners("beforeExit").filter((listener) => !PLANNER_EXIT_LISTENERS.has(listener));
        if (hooks.length === 0) {
            return;
        }
        await waitForRPCs();
        const registered = resources.length;
        for (const hook of hooks) {
            hook.call(process, 0);
        }
        await new Promise((resolve) => setImmediate(resolve));
        await waitForRPCs();
        if (resources.length === registered) {
            return;
        }
    }
    throw new ProgramError(`the program's beforeExit listeners were still registering resources after ${MAX_EXIT_ROUNDS} rounds`);
}

/** The file of the first stack frame outside Node's own modules and this one: who is adding a listener. */
function registeringFile(): string | undefined {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 30;
    try {
        for (const line of (new Error().stack ?? "").split("\n").slice(1)) {
            const file = /\(?((?:[A-Za-z]:)?[^():]+):\d+:\d+\)?$/.exec(line.trim())?.[1];
            if (file && !file.startsWith("node:") && path.isAbsolute(file) && file !== __filename) {
                return file;
            }
        }
        return undefined;
    } finally {
        Error.stackTraceLimit = limit;
    }
}

/**
 * Runs `body` noting the `beforeExit` listeners the program's own modules add, and removes them afterwards:
 * the next stack reloads those modules, which add them again; left in place, a listener of this stack would
 * run in the next one's exit hooks. Listeners added from node_modules (the SDK's, @pulumi/aws's) stay: their
 * modules are not reloaded, so they are added once per process.
 */
async function withProgramExitListeners<T>(programDir: string, body: () => Promise<T>): Promise<T> {
    const added: Array<(...args: unknown[]) => void> = [];
    const onNewListener = (event: string | symbol, listener: (...args: unknown[]) => void) => {
        const file = event === "beforeExit" ? registeringFile() : undefined;
        if (file && file.startsWith(programDir + path.sep) && !file.includes(`${path.sep}node_modules${path.sep}`)) {
            added.push(listener);
        }
    };
    process.on("newListener", onNewListener);
    try {
        return await body();
    } finally {
        process.off("newListener", onNewListener);
        for (const listener of added) {
            process.off("beforeExit", listener);
        }
    }
}

export async function runProgram(options: RunOptions): Promise<PlanResult> {
    const programDir = path.resolve(options.programDir);
    const pulumi = sdkFor(programDir);
    withoutPromiseStacks(programDir);
    withoutSourcePositions(pulumi);
    recordUndefinedProperties(programDir);
    trackApplies(pulumi);
    undefinedProperties.clear();
    const settings = loadStackSettings(programDir, options.stack);
    const config: Record<string, string> = { ...settings.config };
    for (const [key, value] of Object.entries(options.configOverrides ?? {})) {
        if (value === null) {
            delete config[key];
        } else {
            config[key] = value;
        }
    }
    for (const assignment of options.configSet ?? []) {
        const [key, value] = parseConfigAssignment(assignment, settings.project);
        config[key] = value;
    }
    const defaultRegion = config["aws:region"] ?? "us-east-1";
    const preview = options.preview ?? false;
    const organization = options.organization ?? "organization";
    const lookups = new LookupLog();
    const unsupplied = new Set<string>();
    const dataSourceContext = { region: defaultRegion, secret: (value: unknown) => pulumi.secret(value) };
    // AWS providers pinned to an account (allowedAccountIds), by name: their resources' ARNs name that account.
    const providerAccounts = new Map<string, string>();

    await pulumi.runtime.setMocks(
        {
            newResource(args: PulumiSdk.runtime.MockResourceArgs): PulumiSdk.runtime.MockResourceResult {
                if (args.type === STACK_REFERENCE) {
                    const refName = String(args.inputs.name);
                    const outputs = suppliedOutputs(refName, options.stackReferences ?? {});
                    lookups.record(STACK_REFERENCE, outputs ? "supplied" : "unknown", refName);
                    if (!outputs) {
                        unsupplied.add(refName);
                    }
                    return { id: refName, state: { name: refName, outputs: outputs ?? UNKNOWN, secretOutputNames: [] } };
                }
                if (preview) {
                    // During a preview, providers have not created anything yet: only the inputs are known.
                    return { id: undefined as unknown as string, state: {} };
                }
                if (args.type === "pulumi:providers:aws" && providerAccount(args.inputs)) {
                    providerAccounts.set(args.name, providerAccount(args.inputs)!);
                }
                const providerName = args.provider?.split("::").at(-2);
                const account = providerName === undefined ? undefined : providerAccounts.get(providerName);
                const state = computedState(args.type, args.name, secretUnknownsKept(args.inputs), defaultRegion, account);
                return { id: physicalId(args.type, args.name, state), state: { ...unmodelledOutputs(args.type, args.name, state), ...state } };
            },
            call(args: PulumiSdk.runtime.MockCallArgs): Record<string, unknown> {
                return callDataSource(args.token, args.inputs, dataSourceContext, lookups);
            },
        },
        settings.project,
        options.stack,
        preview,
        organization,
    );
    installUnknownInvokes(pulumi, lookups);
    const secretKeys = Object.keys(config).filter((key) => settings.secretKeys.includes(key));
    pulumi.runtime.setAllConfig(config, secretKeys);

    const resources: PlannedResource[] = [];
    watchMonitor(pulumi, resources, unsupplied, lookups);
    const outputs = await withProgramExitListeners(programDir, () => runCapturingFailures(programDir, async () => {
        const entry = programEntry(programDir, settings.main);
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const loaded = esModuleProgram(programDir, require(entry) as unknown);
        // As the language host does: an exported function is the program (`export = async () => {...}`).
        const program = typeof loaded === "function" ? await (loaded as () => unknown)() : await loaded;
        const exported = await resolveExports(pulumi, (program ?? {}) as Record<string, unknown>);
        await runExitHooks(pulumi, resources);
        await pulumi.runtime.disconnect();
        return exported;
    }));
    // The values reached the program; the result, which is printed, sent and stored, holds none of the secret ones.
    const shownConfig = Object.fromEntries(Object.entries(config).map(([key, value]) => [key, secretKeys.includes(key) ? SECRET_TEXT : value]));
    const secretValues = Object.fromEntries(secretKeys.map((key) => [key, config[key]]));
    const scrubbed = scrubExposedSecrets(secretValues, resources, outputs);
    for (const { key, where } of scrubbed.exposed) {
        process.stderr.write(`warning: stack ${options.stack}: the secret config value ${key} reaches ${where} as plain text (read it with requireSecret or getSecret): pulumi up would store it unencrypted\n`);
    }
    return {
        project: settings.project,
        stack: options.stack,
        organization,
        preview,
        config: shownConfig,
        resources,
        outputs: scrubbed.outputs,
        lookups: lookups.list(),
        ...(scrubbed.exposed.length > 0 ? { exposedSecrets: scrubbed.exposed } : {}),
    };
}

/**
 * Runs the program and waits for its registrations; any thrown error, rejected promise or registration
 * left pending fails the run with the program's own message and location.
 */
async function runCapturingFailures<T>(programDir: string, body: () => Promise<T>): Promise<T> {
    const failures: unknown[] = [];
    const onFailure = (reason: unknown) => failures.push(reason);
    process.on("unhandledRejection", onFailure);
    process.on("uncaughtException", onFailure);
    // Node emits beforeExit when nothing is left to run: a program still waiting then waits on a promise that
    // can never settle (a registration whose callback failed). Without this, the process would exit with the
    // SDK's "N promises were still active" and code 1; it fails here with what went wrong, as any failure does.
    let onStall = (): void => undefined;
    const stalled = new Promise<never>((_, reject) => {
        onStall = () => {
            const pending = pendingRegistrations(programDir);
            const found = [...failures, ...(pending ? [new ProgramError(pending)] : [])];
            const error = new ProgramError(found.length > 0 ? describeFailures(found, programDir) : "the program stopped while waiting on a value that never resolves (nothing was left to run)");
            // Rejected from a macrotask: the loop stays alive for what follows (a next stack, a second plan behind
            // a preview), so a later stall emits beforeExit again instead of ending the process silently.
            setImmediate(() => reject(error));
        };
    });
    PLANNER_EXIT_LISTENERS.add(onStall);
    process.on("beforeExit", onStall);
    try {
        const result = await Promise.race([body(), stalled]);
        // Rejections of promises nobody awaited are reported on a later turn: let them arrive.
        await new Promise((resolve) => setImmediate(resolve));
        if (failures.length === 0) {
            const pending = pendingRegistrations(programDir);
            if (pending) {
                failures.push(new ProgramError(pending));
            }
        }
        if (failures.length > 0) {
            throw new ProgramError(describeFailures(failures, programDir));
        }
        return result;
    } catch (err) {
        if (err instanceof ProgramError) {
            throw err;
        }
        throw new ProgramError(describeFailures([err, ...failures], programDir));
    } finally {
        process.off("unhandledRejection", onFailure);
        process.off("uncaughtException", onFailure);
        process.off("beforeExit", onStall);
        PLANNER_EXIT_LISTENERS.delete(onStall);
    }
}

/** The names a StackReference may use for a stack planned in the same run. */
function referenceNames(result: PlanResult): string[] {
    return [`${result.organization}/${result.project}/${result.stack}`, `${result.project}/${result.stack}`, result.stack];
}

/**
 * Drops the program's modules (its directory, not node_modules, not this planner) from the require cache,
 * so that the next stack runs the program from the start, as a new `pulumi preview` would.
 */
function forgetProgramModules(programDir: string): void {
    const planner = path.resolve(__dirname, "..");
    for (const file of Object.keys(require.cache)) {
        if (file.startsWith(programDir + path.sep) && !file.includes(`${path.sep}node_modules${path.sep}`) && !file.startsWith(planner + path.sep)) {
            delete require.cache[file];
        }
    }
}

/**
 * The plan a preview stands for, made in full (values computed), silently, with the `.apply` callbacks
 * tracked: what it holds and the preview lacks waits on unknowns. undefined when the full plan fails (the
 * preview then reports its own failure, or stands without the count).
 */
async function fullPlanBehindPreview(options: RunOptions): Promise<{ result: PlanResult; sites: Map<string, ApplyFrame> } | undefined> {
    forgetProgramModules(options.programDir);
    const writes = { out: process.stdout.write, err: process.stderr.write };
    const silent = ((_chunk: unknown, encoding?: unknown, callback?: unknown) => {
        const done = typeof encoding === "function" ? encoding : callback;
        if (typeof done === "function") {
            (done as () => void)();
        }
        return true;
    }) as typeof process.stdout.write;
    process.stdout.write = silent;
    process.stderr.write = silent;
    applyTracking = true;
    registeredInApply.clear();
    try {
        const result = JSON.parse(JSON.stringify(await runProgram({ ...options, preview: false }))) as PlanResult;
        return { result, sites: new Map(registeredInApply) };
    } catch {
        return undefined;
    } finally {
        applyTracking = false;
        applyStack.length = 0;
        registeredInApply.clear();
        process.stdout.write = writes.out;
        process.stderr.write = writes.err;
    }
}

/** The full plan's registrations the preview does not hold, each with the `.apply` it is made in. */
function waitingRegistrations(full: PlanResult, preview: PlanResult, sites: Map<string, ApplyFrame>, programDir: string): WaitingRegistration[] {
    const previewed = new Set(preview.resources.map((r) => `${r.type}::${r.name}`));
    return full.resources
        .filter((r) => !previewed.has(`${r.type}::${r.name}`) && !(r.type.startsWith("pulumi:providers:") && r.name.startsWith("default")))
        .map((r) => {
            const frame = sites.get(`${r.type}::${r.name}`);
            const where = frame ? programLocation(frame.site, programDir) : undefined;
            return { type: r.type, name: r.name, ...(where ? { where } : {}), waitsOn: frame?.waitsOn ?? [] };
        });
}

/** What the batch plans, in which order; for a failure to work it out, the outcome that reports it. */
function orderOf(programDir: string, batch: PlanBatch): PlanOrder | BatchOutcome {
    if (!batch.inDependencyOrder) {
        return { order: batch.stacks, requested: batch.stacks };
    }
    try {
        return planOrderFor(programDir, batch.stacks);
    } catch (err) {
        const error = err instanceof Error ? err.message : String(err);
        return err instanceof PlanError ? { ok: false, stack: err.stack, error } : { ok: false, error };
    }
}

/** What a batch's caller hears while it runs. */
export interface BatchHooks {
    /** A stack's plan starts (the child records it, so that a process ended by the program names it). */
    onStart?(stack: string): void;
    /** A requested stack's result, as soon as it is planned, in the order of the final results. */
    onResult?(result: PlanResult): void;
}

/** Plans the batch's stacks in order, so that a caller can check one stack while the next is planned. */
export async function runBatch(batch: PlanBatch, hooks: BatchHooks = {}): Promise<BatchOutcome> {
    const programDir = path.resolve(batch.programDir);
    const order = orderOf(programDir, batch);
    if ("ok" in order) {
        return order;
    }
    const references: Record<string, Record<string, unknown>> = { ...(batch.stackReferences ?? {}) };
    // Behind a preview, each stack is also planned in full (its outputs feed the full plans of the stacks after it).
    const fullReferences: Record<string, Record<string, unknown>> = { ...(batch.stackReferences ?? {}) };
    const results: PlanResult[] = [];
    for (const stack of order.order) {
        hooks.onStart?.(stack);
        const full = batch.preview ? await fullPlanBehindPreview({ ...batch, programDir, stack, stackReferences: { ...fullReferences } }) : undefined;
        forgetProgramModules(programDir);
        try {
            // As JSON, whichever process reads it: undefined outputs and inputs dropped, as across a process boundary.
            const result = JSON.parse(JSON.stringify(await runProgram({ ...batch, programDir, stack, stackReferences: { ...references } }))) as PlanResult;
            for (const name of referenceNames(result)) {
                references[name] = result.outputs;
            }
            if (full) {
                for (const name of referenceNames(result)) {
                    fullReferences[name] = full.result.outputs;
                }
                const waiting = waitingRegistrations(full.result, result, full.sites, programDir);
                if (waiting.length > 0) {
                    result.waitingOnUnknowns = waiting;
                }
            }
            results.push(result);
            if (order.requested.includes(stack)) {
                hooks.onResult?.(result);
            }
        } catch (err) {
            // Program failures arrive described (ProgramError); others are the tool's own (a missing stack file).
            return { ok: false, stack, error: err instanceof Error ? err.message : String(err) };
        }
    }
    return { ok: true, results: requestedResults(order, results) };
}

/** What the child sends its parent over IPC (runner.ts startBatch): each result, then how the batch ended. */
export type BatchMessage = { kind: "result"; result: PlanResult } | { kind: "end"; outcome: BatchOutcome };

/** A request to a planning child that stays up (server.ts), and its reply. */
export interface ServeRequest {
    id: number;
    batch: PlanBatch;
}
export interface ServeReply {
    id: number;
    outcome: BatchOutcome;
}

/** Sends over IPC and resolves once the message has left (the child exits right after the last one). */
function sendToParent(message: BatchMessage | ServeReply): Promise<void> {
    return new Promise((resolve, reject) => process.send!(message, (err: Error | null) => (err ? reject(err) : resolve())));
}

/** Notes the stack being planned in `stackFile`, for the parent to name should the process end early. */
function noteStackIn(stackFile: string): (stack: string) => void {
    return (stack) => fs.writeFileSync(stackFile, stack);
}

/**
 * `--serve <stack-file>`: plans batch after batch, one at a time, each in its program's directory, as they
 * arrive over IPC (server.ts); ends when the parent disconnects.
 */
function serve(stackFile: string): void {
    let queue = Promise.resolve();
    const onStart = noteStackIn(stackFile);
    const plan = async (batch: PlanBatch): Promise<BatchOutcome> => {
        // While a batch runs, the IPC channel does not keep the process alive: a program that stalls (waits on
        // a value that never resolves) empties the event loop, and runCapturingFailures reports it.
        const channel = process.channel as { unref?(): void; ref?(): void } | undefined;
        channel?.unref?.();
        try {
            process.chdir(path.resolve(batch.programDir));
            return await runBatch(batch, { onStart });
        } catch (err) {
            // Not one stack's failure (a program directory that does not exist): the batch's, never a hang.
            return { ok: false, error: err instanceof Error ? err.message : String(err) };
        } finally {
            channel?.ref?.();
        }
    };
    process.on("message", (request: ServeRequest) => {
        queue = queue.then(async () => sendToParent({ id: request.id, outcome: await plan(request.batch) }));
    });
    process.on("disconnect", () => process.exit(0));
}

/**
 * Child-process entry: `node --require tools/register.cjs tools/plan/mock-runtime.ts <batch-json-file> <result-json-file> <stack-file>`,
 * the last noting the stack being planned (runner.ts names it if the process ends early). With an IPC
 * channel (startBatch), results go to the parent one stack at a time and the file is not written; the final
 * message carries the outcome without the results already sent.
 */
async function main(): Promise<void> {
    // A rejection that arrives after its stack is done must not end the batch: each run reports its own.
    process.on("unhandledRejection", () => undefined);
    if (process.argv[2] === "--serve") {
        return serve(process.argv[3]);
    }
    const [batchFile, resultFile, stackFile] = process.argv.slice(2);
    const batch = JSON.parse(fs.readFileSync(batchFile, "utf8")) as PlanBatch;
    const onStart = noteStackIn(stackFile);
    if (process.send) {
        const sent: Promise<void>[] = [];
        const outcome = await runBatch(batch, { onStart, onResult: (result) => void sent.push(sendToParent({ kind: "result", result })) });
        await Promise.all(sent);
        await sendToParent({ kind: "end", outcome: outcome.ok ? { ok: true, results: [] } : outcome });
    } else {
        fs.writeFileSync(resultFile, JSON.stringify(await runBatch(batch, { onStart })));
    }
    process.exit(0);
}

if (require.main === module) {
    void main();
}
