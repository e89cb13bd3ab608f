/**
 * Plans stacks in dependency order: a stack whose configuration names another stack of the project
 * (`primaryStack: organization/oauth2-dr/prod`) is planned after it, with its outputs behind the
 * StackReference. Stacks that are only needed as references are planned but not returned.
 */
import { loadStackSettings, listStacks } from "./stack-settings";
import { PlanResult } from "./model";
import { PlanError, planStack } from "./runner";
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

export function planInOrder(programDir: string, stacks: string[], extra: Extra = {}): PlanResult[] {
    const planned = new Map<string, PlanResult>();
    const order: string[] = [];
    const visiting = new Set<string>();
    const references: Record<string, Record<string, unknown>> = { ...(extra.stackReferences ?? {}) };

    const plan = (stack: string): void => {
        if (planned.has(stack)) {
            return;
        }
        if (visiting.has(stack)) {
            throw new PlanError(stack, `stack references form a cycle through ${[...visiting].join(" -> ")}`);
        }
        visiting.add(stack);
        for (const dependency of referencedStacks(programDir, stack)) {
            plan(dependency);
        }
        visiting.delete(stack);
        const result = planStack({ ...extra, programDir, stack, stackReferences: references });
        for (const name of [`${result.organization}/${result.project}/${stack}`, `${result.project}/${stack}`, stack]) {
            references[name] = result.outputs;
        }
        planned.set(stack, result);
        order.push(stack);
    };
    for (const stack of stacks) {
        plan(stack);
    }
    return order.filter((s) => stacks.includes(s)).map((s) => planned.get(s)!);
}
