/**
 * The planning child: `node --require <loader> child.ts <stack-file>`, started by runner.ts with an IPC
 * channel. It plans the batches it is sent (protocol.ts ChildRequest), one at a time, each in its program's
 * directory, and answers each with its stacks' results one by one, then the batch's end (ChildMessage). It
 * notes the stack being planned in `stack-file`, for the parent to name should the process end early (a
 * program calling process.exit). It exits when the parent disconnects.
 */
import * as fs from "fs";
import * as path from "path";
import { runBatch } from "./mock-runtime";
import type { PlanResult } from "./model";
import type { BatchOutcome, ChildMessage, ChildRequest, PlanBatch } from "./protocol";

/** Sends over IPC and resolves once the message has left. */
function sendToParent(message: ChildMessage): Promise<void> {
    return new Promise((resolve, reject) => process.send!(message, (err: Error | null) => (err ? reject(err) : resolve())));
}

let written = 0;

/**
 * A result's JSON in a file beside the stack file (protocol.ts ChildMessage says why); its path. `json` is the
 * result's text when runBatch has it (the text it parsed the result from): written as it is, not made again.
 */
function writeResult(stackFile: string, id: number, result: PlanResult, json?: string): string {
    const file = path.join(path.dirname(stackFile), `result-${id}-${written++}.json`);
    fs.writeFileSync(file, json ?? JSON.stringify(result));
    return file;
}

/** Plans one batch, sending each result as it comes; resolves once the end has been sent. */
async function plan(request: ChildRequest, stackFile: string): Promise<void> {
    const { id, batch } = request;
    // While a batch runs, the IPC channel does not keep the process alive: a program that stalls (waits on a
    // value that never resolves) empties the event loop, and exit-hooks.ts runCapturingFailures reports it.
    const channel = process.channel as { unref?(): void; ref?(): void } | undefined;
    channel?.unref?.();
    const sent: Promise<void>[] = [];
    let outcome: BatchOutcome;
    try {
        process.chdir(path.resolve(batch.programDir));
        outcome = await runBatch(batch as PlanBatch, {
            onStart: (stack) => fs.writeFileSync(stackFile, stack),
            onResult: (result, json) => void sent.push(sendToParent({ id, kind: "result", resultFile: writeResult(stackFile, id, result, json) })),
        });
    } catch (err) {
        // Not one stack's failure (a program directory that does not exist): the batch's, never a hang.
        outcome = { ok: false, error: err instanceof Error ? err.message : String(err) };
    } finally {
        channel?.ref?.();
    }
    await Promise.all(sent);
    await sendToParent({ id, kind: "end", outcome: outcome.ok ? { ok: true, results: [] } : outcome });
}

function main(): void {
    const stackFile = process.argv[2];
    if (!process.send || !stackFile) {
        process.stderr.write("child.ts is the planning child: runner.ts starts it, with an IPC channel and a stack file\n");
        process.exit(2);
    }
    // What the program prints reaches the parent whole, also when it calls process.exit: writes to a pipe are
    // asynchronous in Node, and an exit dropped what the pipe had not taken yet (of 5,000 lines, the first 547
    // reached the check's message, and nothing said that the rest was cut). Blocking writes: the parent always reads.
    for (const stream of [process.stdout, process.stderr]) {
        (stream as unknown as { _handle?: { setBlocking?(blocking: boolean): void } })._handle?.setBlocking?.(true);
    }
    // A rejection that arrives after its stack is done must not end the batch: each run reports its own.
    process.on("unhandledRejection", () => undefined);
    let queue = Promise.resolve();
    process.on("message", (request: ChildRequest) => {
        queue = queue.then(() => plan(request, stackFile)).catch(() => undefined);
    });
    process.on("disconnect", () => process.exit(0));
}

if (require.main === module) {
    main();
}
