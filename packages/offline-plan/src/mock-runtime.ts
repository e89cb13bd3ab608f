/**
 * Runs a Pulumi TypeScript program under Pulumi's mock runtime and records every resource registration
 * exactly as the engine would receive it (records.ts), with the program's real configuration, data sources
 * answered as the engine would (data-sources.ts) and the outputs of other stacks behind its StackReferences
 * (unknown, as in a first preview, unless supplied).
 *
 * Nothing is dropped without a word: a program that throws, a rejected promise or a registration that
 * never completes fails the run with the program's own error and its file:line (exit-hooks.ts, program-errors.ts).
 *
 * Several stacks per process (`runBatch`): Pulumi's runtime state is global, so `setMocks` resets it before
 * each stack, and the program's own modules are dropped from the require cache so that each stack runs the
 * program afresh; the SDK and the providers stay loaded. Where the program starts is program-entry.ts's,
 * what is changed in the SDK sdk-patches.ts's, the end of a run exit-hooks.ts's, the child process child.ts's.
 */
import "./compiled-modules";
import "./no-dependency-source-maps";
import "./lazy-closure-modules";
import * as path from "path";
import type * as PulumiSdk from "@pulumi/pulumi";
import { loadStackSettings, parseConfigAssignment } from "./stack-settings";
import { isSecret, PlanResult, PlannedResource, SECRET_SIG, SECRET_TEXT, UNKNOWN, WaitingRegistration } from "./model";
import { computedState, physicalId, providerAccount } from "./resource-mocks";
import { callDataSource, installUnknownInvokes, LookupLog } from "./data-sources";
import { programLocation } from "./program-errors";
import { scrubExposedSecrets } from "./secret-exposure";
import { resolveExports } from "./records";
import { PlanOrder, planOrderFor, requestedResults } from "./dependencies";
import { BatchOutcome, PlanBatch, PlanError, RunOptions } from "./protocol";
import { esModuleProgram, forgetProgramModules, programEntry, programFilesOf, sdkFor } from "./program-entry";
import {
    ApplyFrame,
    applyTracking,
    recordUndefinedProperties,
    sdkDirOf,
    STACK_REFERENCE,
    trackApplies,
    undefinedProperties,
    unmodelledOutputs,
    unrunApplies,
    unrunAppliesIn,
    watchMonitor,
    withoutPromiseStacks,
    withoutSourcePositions,
    refuseUnknownStackOutputValues,
} from "./sdk-patches";
import { checkSdkContract } from "./sdk-contract";
import { endProgramFiles, sdkVersionNotices, watchSdkVersions, withSdkVersionNotices } from "./sdk-versions";
import { installLightStructs, structModuleOf } from "./light-structs";
import { runCapturingFailures, runExitHooks, withProgramExitListeners } from "./exit-hooks";

export type { BatchOutcome, PlanBatch, RunOptions } from "./protocol";

/** Outputs supplied for a StackReference: by its exact name, or by a name that differs only by the organization. */
function suppliedOutputs(name: string, references: Record<string, Record<string, unknown>>): Record<string, unknown> | undefined {
    if (references[name]) {
        return references[name];
    }
    const tail = name.split("/").slice(-2).join("/");
    const match = Object.keys(references).find((key) => key.split("/").slice(-2).join("/") === tail && key.includes("/"));
    return match ? references[match] : undefined;
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


export async function runProgram(options: RunOptions): Promise<PlanResult> {
    const programDir = path.resolve(options.programDir);
    const sdkDir = sdkDirOf(programDir);
    checkSdkContract(sdkDir);
    if (process.env.OFFLINE_PLAN_LIGHT_STRUCTS !== "0") {
        installLightStructs(structModuleOf(sdkDir));
    }
    const pulumi = sdkFor(programDir);
    withoutPromiseStacks(programDir);
    withoutSourcePositions(pulumi);
    refuseUnknownStackOutputValues(pulumi);
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
    unrunApplies.on = !preview;
    unrunApplies.found.length = 0;
    const organization = options.organization ?? "organization";
    const lookups = new LookupLog();
    const unsupplied = new Set<string>();
    const dataSourceContext = { region: defaultRegion, secret: (value: unknown) => pulumi.secret(value) };
    // AWS providers pinned to an account (allowedAccountIds), by name: their resources' ARNs name that account.
    const providerAccounts = new Map<string, string>();
    // AWS providers of another region, by name: their resources' ARNs, endpoints and `region` name that region.
    const providerRegions = new Map<string, string>();

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
                if (args.type === "pulumi:providers:aws" && typeof args.inputs.region === "string" && args.inputs.region !== "") {
                    providerRegions.set(args.name, args.inputs.region);
                }
                const providerName = args.provider?.split("::").at(-2);
                const account = providerName === undefined ? undefined : providerAccounts.get(providerName);
                const region = (providerName === undefined ? undefined : providerRegions.get(providerName)) ?? defaultRegion;
                const state = computedState(args.type, args.name, secretUnknownsKept(args.inputs), region, account);
                // An id made of an unknown value stays unknown, as in a preview.
                return { id: physicalId(args.type, args.name, state) as string, state: { ...unmodelledOutputs(args.type, args.name, state), ...state } };
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
    // What the program loads outside node_modules is its code too (a monorepo's shared modules): their exit
    // listeners are this stack's, and they are forgotten before the next stack.
    const programFiles = programFilesOf(programDir);
    const outputs = await withProgramExitListeners(programFiles, () => runCapturingFailures(programDir, async () => {
        const entry = programEntry(programDir, settings.main);
        watchSdkVersions(programDir, programFiles);
        // An ES-module JavaScript program is imported, as the language host does (src/esm-program.ts, loaded only then).
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const esm = /\.m?js$/.test(entry) ? (require("./esm-program") as typeof import("./esm-program")) : undefined;
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const loaded = esModuleProgram(programDir, esm?.isEsModuleJs(entry) ? await esm.importEsModuleProgram(entry) : (require(entry) as unknown));
        // As the language host does: an exported function is the program (`export = async () => {...}`).
        const program = typeof loaded === "function" ? await (loaded as () => unknown)() : await loaded;
        const exported = await resolveExports(pulumi, (program ?? {}) as Record<string, unknown>);
        await runExitHooks(pulumi, resources);
        await pulumi.runtime.disconnect();
        return exported;
    }))
        .catch((err: unknown) => {
            throw withSdkVersionNotices(err, programDir);
        })
        .finally(() => {
            programFiles.remember();
            endProgramFiles(programFiles);
        });
    const unknownApplies = unrunAppliesIn(programDir);
    const sdkVersions = sdkVersionNotices(programDir);
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
        ...(unknownApplies.length > 0 ? { unknownApplies } : {}),
        ...(sdkVersions.length > 0 ? { sdkVersions } : {}),
    };
}


/** The names a StackReference may use for a stack planned in the same run. */
function referenceNames(result: PlanResult): string[] {
    return [`${result.organization}/${result.project}/${result.stack}`, `${result.project}/${result.stack}`, result.stack];
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
    applyTracking.on = true;
    applyTracking.registered.clear();
    try {
        const result = JSON.parse(JSON.stringify(await runProgram({ ...options, preview: false }))) as PlanResult;
        return { result, sites: new Map(applyTracking.registered) };
    } catch {
        return undefined;
    } finally {
        applyTracking.on = false;
        applyTracking.stack.length = 0;
        applyTracking.registered.clear();
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
    /**
     * A requested stack's result, as soon as it is planned, in the order of the final results; with `json`, its
     * JSON text (the text the result was parsed from, when nothing was added to it since: the child writes it
     * as it is instead of serializing the result again).
     */
    onResult?(result: PlanResult, json?: string): void;
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
            const json = JSON.stringify(await runProgram({ ...batch, programDir, stack, stackReferences: { ...references } }));
            const result = JSON.parse(json) as PlanResult;
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
                // What the full plan could not run either: neither plan holds what those callbacks register.
                if (full.result.unknownApplies) {
                    result.unknownApplies = full.result.unknownApplies;
                }
            }
            results.push(result);
            if (order.requested.includes(stack)) {
                // Behind a preview the result may have gained waitingOnUnknowns and unknownApplies: no text then.
                hooks.onResult?.(result, full ? undefined : json);
            }
        } catch (err) {
            // Program failures arrive described (ProgramError); others are the tool's own (a missing stack file).
            return { ok: false, stack, error: err instanceof Error ? err.message : String(err) };
        }
    }
    return { ok: true, results: requestedResults(order, results) };
}
