/**
 * Test helpers over planned stacks: find resources, read their inputs as a policy would (secrets
 * unwrapped), and plan through one planning child per test process (packages/offline-plan/src/server.ts), which every
 * test file of the process shares: the SDK and the providers load once, not once per plan.
 */
import { strict as assert } from "assert";
import * as path from "path";
import { PlannedResource, PlanResult, unwrapSecrets } from "offline-plan/model";
import type { PlanBatch, RunOptions } from "offline-plan/mock-runtime";
import { PlanningServer } from "offline-plan/server";

export const REPO = path.resolve(__dirname, "..", "..");

/** The plan CLI as `npm run plan` runs it: offline-plan's bin (its package.json `bin`, a shim that loads its TypeScript loader first). */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const PLANNER_PACKAGE = require("offline-plan/package.json") as { bin: Record<string, string> };
export const PLAN_CLI = path.join(path.dirname(require.resolve("offline-plan/package.json")), PLANNER_PACKAGE.bin["offline-plan"]);

/** A planned custom resource as a test builds it by hand: no options, no dependencies. */
export function plannedResource(urn: string, type: string, name: string, inputs: Record<string, unknown>): PlannedResource {
    return { urn, type, name, custom: true, protect: false, retainOnDelete: false, dependencies: [], propertyDependencies: {}, ignoreChanges: [], additionalSecretOutputs: [], inputs };
}

/** The first resource of `type` (matching `predicate`) that a mutant changes; fails the test when there is none. */
export function find(plan: PlanResult, type: string, predicate: (r: PlannedResource) => boolean = () => true): PlannedResource {
    const found = plan.resources.find((r) => r.type === type && predicate(r));
    assert.ok(found, `${plan.stack}: no ${type} to mutate`);
    return found;
}

/** Removes every resource of `type` (matching `predicate`) from a plan; fails the test when there is none. */
export function remove(plan: PlanResult, type: string, predicate: (r: PlannedResource) => boolean = () => true): void {
    const before = plan.resources.length;
    plan.resources = plan.resources.filter((r) => !(r.type === type && predicate(r)));
    assert.ok(plan.resources.length < before, `${plan.stack}: no ${type} to remove`);
}

export function resourcesOfType(plan: PlanResult, type: string): PlannedResource[] {
    return plan.resources.filter((r) => r.type === type);
}

export function resource(plan: PlanResult, type: string, name: string): PlannedResource {
    const found = plan.resources.find((r) => r.type === type && r.name === name);
    if (!found) {
        const names = resourcesOfType(plan, type).map((r) => r.name).join(", ") || "none";
        throw new Error(`${plan.stack}: no ${type} named ${name} (have: ${names})`);
    }
    return found;
}

/** Inputs as plain values: secrets unwrapped (the test may look inside; people never see them). */
export function props(r: PlannedResource): Record<string, any> {
    return unwrapSecrets(r.inputs) as Record<string, any>;
}

let planner: PlanningServer | undefined;

/** Plans a batch in this process's planning child (started on first use). */
export function planBatchShared(batch: PlanBatch): Promise<PlanResult[]> {
    planner ??= new PlanningServer();
    return planner.plan(batch);
}

/** A program's stacks (every stack file when none is named) with the stacks they reference planned first. */
export function planProgram(programDir: string, stacks: string[] = [], extra: Omit<RunOptions, "programDir" | "stack"> = {}): Promise<PlanResult[]> {
    return planBatchShared({ ...extra, programDir, stacks, inDependencyOrder: true });
}

const cache = new Map<string, Promise<PlanResult[]>>();

/** Plans `stacks` of this repository (with overrides), memoised per process; callers share the results. */
export function planRepo(stacks: string[], extra: Omit<RunOptions, "programDir" | "stack" | "stackReferences"> = {}): Promise<PlanResult[]> {
    const key = JSON.stringify([stacks, extra]);
    if (!cache.has(key)) {
        cache.set(key, planProgram(REPO, stacks, extra));
    }
    return cache.get(key)!;
}
