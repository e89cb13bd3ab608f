/**
 * Test helpers over planned stacks: find resources, read their inputs as a policy would (secrets
 * unwrapped), and plan the repository's stacks once per test process (each plan is a child process).
 */
import * as path from "path";
import { PlannedResource, PlanResult, unwrapSecrets } from "../../tools/plan/model";
import { planInOrder } from "../../tools/plan/order";
import type { RunOptions } from "../../tools/plan/mock-runtime";

export const REPO = path.resolve(__dirname, "..", "..");

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

const cache = new Map<string, PlanResult[]>();

/** Plans `stacks` of this repository (with overrides), memoised per process. */
export function planRepo(stacks: string[], extra: Omit<RunOptions, "programDir" | "stack" | "stackReferences"> = {}): PlanResult[] {
    const key = JSON.stringify([stacks, extra]);
    if (!cache.has(key)) {
        cache.set(key, planInOrder(REPO, stacks, extra));
    }
    return cache.get(key)!;
}
