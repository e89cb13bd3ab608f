/**
 * Plans stacks in dependency order (dependencies.ts): a stack whose configuration names another stack of
 * the project is planned after it, with its outputs behind the StackReference. Stacks that are only needed
 * as references are planned but not returned. The planning child works the order out from the stack files
 * itself, so a caller starts it without reading them first.
 */
import { PlanResult } from "./model";
import { OutputOptions, startBatch, StartedBatch } from "./runner";
import type { RunOptions } from "./protocol";

/** How to plan: preview, config values, and the outputs of stacks outside the run (`--stack-outputs`). */
type Extra = Omit<RunOptions, "programDir" | "stack">;

/** The stacks asked (every stack file when none), with the stacks they reference planned first, in a child process. */
export function planInOrder(programDir: string, stacks: readonly string[], extra: Extra = {}): Promise<PlanResult[]> {
    return startPlanInOrder(programDir, stacks, extra).results;
}

/**
 * planInOrder in the background (see startBatch); a reference cycle or a missing stack file rejects. `echo`:
 * what the program prints, passed through as it comes (startBatch).
 */
export function startPlanInOrder(programDir: string, stacks: readonly string[], extra: Extra = {}, options: OutputOptions = {}): StartedBatch {
    return startBatch({ ...extra, programDir, stacks: [...stacks], inDependencyOrder: true }, options);
}
