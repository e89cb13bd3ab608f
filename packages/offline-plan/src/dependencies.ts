/**
 * Which stacks a plan needs, in which order: a stack whose configuration names another stack of the project
 * (`primaryStack: acme/shop/prod`) is planned after it, with its outputs behind the
 * StackReference. Read from the stack files alone, so the planning child can work it out itself
 * (child.ts) and its parent need not load a YAML parser before starting it.
 */
import { loadStackSettings, listStacks, stacksToPlan } from "./stack-settings";
import { PlanError } from "./protocol";

/** The other stacks of the project (`known`: its stack files) that a stack's configuration refers to. */
function referencedStacks(programDir: string, stack: string, known: ReadonlySet<string>): string[] {
    const settings = loadStackSettings(programDir, stack);
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
    const known = new Set(listStacks(programDir));
    const visit = (stack: string): void => {
        if (order.includes(stack)) {
            return;
        }
        if (visiting.has(stack)) {
            throw new PlanError(stack, `stack references form a cycle through ${[...visiting, stack].join(" -> ")}`);
        }
        visiting.add(stack);
        for (const dependency of referencedStacks(programDir, stack, known)) {
            visit(dependency);
        }
        visiting.delete(stack);
        order.push(stack);
    };
    stacks.forEach(visit);
    return order;
}

/** What to plan for a request: the stacks asked (every stack file when none), in dependency order. */
export interface PlanOrder {
    /** Every stack to plan, referenced stacks first. */
    order: string[];
    /** The stacks whose results the caller wants, in the order it asked (or file order). */
    requested: string[];
}

export function planOrderFor(programDir: string, stacks: readonly string[] | undefined): PlanOrder {
    const requested = stacksToPlan(programDir, stacks);
    return { order: dependencyOrder(programDir, requested), requested };
}

/** The requested stacks' results, in the order `order` planned them, without the stacks only referenced. */
export function requestedResults<T extends { stack: string }>(order: PlanOrder, results: T[]): T[] {
    const planned = new Map(results.map((result) => [result.stack, result]));
    return order.order.filter((s) => order.requested.includes(s)).map((s) => planned.get(s)!);
}
