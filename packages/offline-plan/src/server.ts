/**
 * A planning child that stays up: batches are planned one after another in one process, so the SDK and the
 * providers load once for all of them. The runtime is reset and the program's modules reloaded for every
 * stack, as for the stacks of one batch; each batch runs in its program's directory. For callers that plan
 * many variants or programs (the tests). It is runner.ts's PlanningChild, kept for all batches.
 *
 * A child that dies (a program calling process.exit) fails the batch it was planning, naming the stack, and
 * the next batch starts a new child. An idle server does not keep its parent alive.
 */
import { PlanResult } from "./model";
import type { PlanBatch } from "./protocol";
import { PlanningChild } from "./runner";

export class PlanningServer {
    private readonly child = new PlanningChild();

    /** Plans a batch (as startBatch does, without a process of its own); rejects as its results do. */
    plan(batch: PlanBatch): Promise<PlanResult[]> {
        return this.child.plan(batch);
    }

    /** Stops the child; batches still waiting fail. */
    close(): void {
        this.child.close();
    }
}
