/**
 * Plans stacks in dependency order: a stack whose configuration names another stack of the project
 * (`primaryStack: organization/oauth2-dr/prod`) is planned after it, with its outputs behind the
 * StackReference. Stacks that are only needed as references are planned but not returned.
 */
import { loadStackSettings, listStacks } from "./stack-settings";
import { PlanResult } from "./model";
import { PlanError, planBatch, startBatch, StartedBatch } from "./runner";
import type { RunOptions } from "./mock-runtime";

/** How to plan: preview, config values, and the outputs of stacks outside the run (`--stack-outputs`). */
type Extra = Omit<RunOptions, "programDir" | "stack">;

/** The other stacks of the project that a stack's configuration refers to. */
export function referencedStacks(programDir: string, stack: string): string[] {
    const settings = loadStackSettings(programDir, stack);
    const known = new Set(listStacks(programDir));
    const refs = new Set<string>();
    for (const value of Object.values(settings.config)) {
        const match = /^(?:[A-Za-z0-9_.-]+\/)?([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+)$/.exec(value);
        if (match && match[1] === settings.project && known.has(match[2]) && match[2] !== stack) {
            refs.add(match[2]);
        }
    }
    return [...refs];
}

/** `stacks` with the stacks they reference first, each once, in an order `pulumi up` could deploy them. */
export function dependencyOrder(programDir: string, stacks: string[]): string[] {
    const order: string[] = [];
    const visiting = new Set<string>();
    const visit = (stack: string): void => {
        if (order.includes(stack)) {
            return;
        }
        if (visiting.has(stack)) {
            throw new PlanError(stack, `stack references form a cycle through ${[...visiting].join(" -> ")}`);
        }
        visiting.add(stack);
        for (const dependency of referencedStacks(programDir, stack)) {
            visit(dependency);
        }
        visiting.delete(stack);
        order.push(stack);
    };
    stacks.forEach(visit);
    return order;
}

/** The requested stacks' results, in the order asked, from a batch that also planned their references. */
function requested(order: string[], stacks: string[], results: PlanResult[]): PlanResult[] {
    const planned = new Map(results.map((result) => [result.stack, result]));
    return order.filter((s) => stacks.includes(s)).map((s) => planned.get(s)!);
}

export function planInOrder(programDir: string, stacks: string[], extra: Extra = {}): PlanResult[] {
    const order = dependencyOrder(programDir, stacks);
    return requested(order, stacks, planBatch({ ...extra, programDir, stacks: order }));
}

/** planInOrder in the background (see startBatch); a reference cycle still throws here, at once. */
export function startPlanInOrder(programDir: string, stacks: string[], extra: Extra = {}): StartedBatch {
    const order = dependencyOrder(programDir, stacks);
    const batch = startBatch({ ...extra, programDir, stacks: order });
    const results = batch.results.then((planned) => requested(order, stacks, planned));
    // A cancelled batch (the caller gave up) must not end the process as an unhandled rejection.
    results.catch(() => undefined);
    return { results, cancel: batch.cancel };
}
