/**
 * What the planner's parts say to each other: the options of a run and of a batch of stacks, a batch's
 * outcome, and the messages between a parent and its planning child (child.ts, runner.ts). Types and one
 * error class only, so that every part imports it and none imports another to reach these.
 */
import * as fs from "fs";
import type { PlanResult } from "./model";

/** A stack that could not be planned (its program failed, or its stack file is missing), named. */
export class PlanError extends Error {
    constructor(readonly stack: string, message: string) {
        super(message);
        this.name = "PlanError";
    }
}

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

/** Stacks of one program, planned in order in one process (mock-runtime.ts runBatch). */
export interface PlanBatch extends Omit<RunOptions, "stack"> {
    /** Planned in this order; with inDependencyOrder, the stacks wanted (none: every stack file). */
    stacks: string[];
    /** Plan the stacks that `stacks` reference first, and return only the stacks asked (dependencies.ts). */
    inDependencyOrder?: boolean;
}

/** A batch's outcome; a failure names its stack, unless it is not one stack's (a missing stack file). */
export type BatchOutcome = { ok: true; results: PlanResult[] } | { ok: false; stack?: string; error: string };

/** A batch's results, or its failure: a PlanError naming the stack, a plain Error when it is no stack's. */
export function resultsOf(outcome: BatchOutcome): PlanResult[] {
    if (!outcome.ok) {
        throw outcome.stack === undefined ? new Error(outcome.error) : new PlanError(outcome.stack, outcome.error);
    }
    return outcome.results;
}

/** Parent to child (child.ts): plan this batch. Batches are planned one at a time, in the order they arrive. */
export interface ChildRequest {
    id: number;
    batch: PlanBatch;
}

/**
 * Child to parent, for request `id`: each requested stack's result as soon as it is planned, then how the
 * batch ended (a successful outcome's `results` are empty: they were sent one by one).
 *
 * A result travels as a file (`resultFile`: the result's JSON, in the directory of the child's stack file),
 * named by a small message. A plan is hundreds of kB (prod's 390 kB), more than the IPC socket holds, and a
 * child writes the rest of a message only when its event loop turns, which planning the next stack's program
 * hardly lets it do: the parent heard each stack only when the whole batch was done, and checked none of
 * them while the next was planned. A file is written at once, whatever the parent is doing.
 */
export type ChildMessage = { id: number; kind: "result"; resultFile: string } | { id: number; kind: "end"; outcome: BatchOutcome };

/** The result a "result" message names, read and removed (the reader is the only one to read it). */
export function readResultFile(file: string): PlanResult {
    const result = JSON.parse(fs.readFileSync(file, "utf8")) as PlanResult;
    fs.rmSync(file, { force: true });
    return result;
}
