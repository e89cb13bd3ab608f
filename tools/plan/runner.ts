/**
 * Plans stacks in one child process: the SDK and the providers load once, the runtime is reset and the
 * program's modules are reloaded between stacks (as the Automation API runs inline programs), and each
 * stack's outputs feed the StackReferences of the stacks after it. order.ts decides the order.
 */
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { PlanResult } from "./model";
import type { BatchMessage, BatchOutcome, PlanBatch, RunOptions } from "./mock-runtime";

export class PlanError extends Error {
    constructor(readonly stack: string, message: string) {
        super(message);
        this.name = "PlanError";
    }
}

const RUNNER = path.join(__dirname, "mock-runtime.ts");
/**
 * The TypeScript loader every process of ours runs under (`node --require TS_REGISTER file.ts`), by absolute
 * path: the planning child runs in the program's directory, which may have no loader of its own.
 */
export const TS_REGISTER = path.resolve(__dirname, "..", "register.cjs");

/** How to start the planning child (mock-runtime.ts) with `args`. */
export function plannerCommand(args: string[]): { args: string[]; env: NodeJS.ProcessEnv } {
    return {
        args: ["--require", TS_REGISTER, RUNNER, ...args],
        // A program without its own node_modules (another team's, checked with --program) resolves
        // @pulumi/* from ours; its own node_modules, when present, still come first.
        env: { ...process.env, NODE_PATH: [process.env.NODE_PATH, path.resolve(__dirname, "..", "..", "node_modules")].filter(Boolean).join(path.delimiter) },
    };
}

/** The child's files, in a fresh temp dir: its options, its outcome and the stack it is planning. */
interface BatchFiles {
    dir: string;
    args: string[];
    resultFile: string;
    stackFile: string;
    cwd: string;
    env: NodeJS.ProcessEnv;
}

function batchFiles(batch: PlanBatch): BatchFiles {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "oauth2-dr-plan-"));
    const optionsFile = path.join(dir, "options.json");
    const resultFile = path.join(dir, "result.json");
    const stackFile = path.join(dir, "current-stack");
    fs.writeFileSync(optionsFile, JSON.stringify(batch));
    return { dir, resultFile, stackFile, cwd: path.resolve(batch.programDir), ...plannerCommand([optionsFile, resultFile, stackFile]) };
}

/** How the child process ended. */
export interface Ended {
    code: number | null;
    signal: NodeJS.Signals | null;
}

/**
 * A child that ended before reporting (the program called process.exit, or was killed): the stack it was
 * planning, how it ended and what it printed.
 */
export function unfinished(batch: PlanBatch, files: { stackFile: string }, ended: Ended, output: string): PlanError {
    const stack = fs.existsSync(files.stackFile) ? fs.readFileSync(files.stackFile, "utf8") : (batch.stacks[0] ?? "(none started)");
    const how = ended.signal ? `was killed by ${ended.signal}` : `exited with code ${ended.code}`;
    const said = output.trim() ? `; it printed:\n${output.trimEnd()}` : ", printing nothing (a program calling process.exit?)";
    return new PlanError(stack, `the planning process ${how} before the plan was complete${said}`);
}

/** The child's outcome: its results, or a PlanError naming the stack that failed (or how the child ended). */
function outcomeOf(batch: PlanBatch, files: BatchFiles, ended: Ended, output: string): PlanResult[] {
    if (!fs.existsSync(files.resultFile)) {
        throw unfinished(batch, files, ended, output);
    }
    return resultsOf(JSON.parse(fs.readFileSync(files.resultFile, "utf8")) as BatchOutcome);
}

/** A batch's results, or its failure: a PlanError naming the stack, a plain Error when it is no stack's. */
export function resultsOf(outcome: BatchOutcome): PlanResult[] {
    if (!outcome.ok) {
        throw outcome.stack === undefined ? new Error(outcome.error) : new PlanError(outcome.stack, outcome.error);
    }
    return outcome.results;
}

/** Plans `batch.stacks` in that order; the first stack that fails stops the batch with a PlanError naming it. */
export function planBatch(batch: PlanBatch): PlanResult[] {
    const files = batchFiles(batch);
    try {
        const child = spawnSync(process.execPath, files.args, { cwd: files.cwd, encoding: "utf8", maxBuffer: 64 * 1024 * 1024, env: files.env });
        return outcomeOf(batch, files, { code: child.status, signal: child.signal }, child.stderr || child.stdout);
    } finally {
        fs.rmSync(files.dir, { recursive: true, force: true });
    }
}

/** A batch planning in the background (planBatch without waiting), and how to stop it. */
export interface StartedBatch {
    /** Every requested stack's result, once the batch is done; rejects as planBatch throws. */
    results: Promise<PlanResult[]>;
    /** The same results one by one, each as soon as the child has planned it; throws as `results` rejects. */
    each(): AsyncIterable<PlanResult>;
    cancel(): void;
}

/**
 * planBatch in the background: the caller loads what it needs meanwhile (the check CLI loads the policy
 * pack while the child plans, each on its own core), then checks each stack while the next is planned.
 * The child sends its results over IPC (mock-runtime.ts main), one stack at a time.
 */
export function startBatch(batch: PlanBatch): StartedBatch {
    const files = batchFiles(batch);
    const child = spawn(process.execPath, files.args, { cwd: files.cwd, env: files.env, stdio: ["ignore", "pipe", "pipe", "ipc"] });
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (chunk: Buffer) => void (stdout += chunk.toString("utf8")));
    child.stderr!.on("data", (chunk: Buffer) => void (stderr += chunk.toString("utf8")));
    const received: PlanResult[] = [];
    let outcome: BatchOutcome | undefined;
    let done = false;
    let wake: () => void = () => undefined;
    let changed = new Promise<void>((resolve) => (wake = resolve));
    const notify = () => {
        wake();
        changed = new Promise<void>((resolve) => (wake = resolve));
    };
    child.on("message", (message: BatchMessage) => {
        if (message.kind === "result") {
            received.push(message.result);
        } else {
            outcome = message.outcome;
        }
        notify();
    });
    const results = new Promise<PlanResult[]>((resolve, reject) => {
        child.once("error", reject);
        child.once("close", (code: number | null, signal: NodeJS.Signals | null) => {
            try {
                if (!outcome) {
                    throw unfinished(batch, files, { code, signal }, stderr || stdout);
                }
                resultsOf(outcome);
                resolve(received);
            } catch (err) {
                reject(err);
            } finally {
                fs.rmSync(files.dir, { recursive: true, force: true });
                done = true;
                notify();
            }
        });
    });
    // A caller that gives up (bad policy config) must not leave an unhandled rejection behind.
    results.catch(() => undefined);
    async function* each(): AsyncGenerator<PlanResult> {
        for (let next = 0; ; ) {
            if (next < received.length) {
                yield received[next++];
            } else if (done) {
                await results;
                return;
            } else {
                await changed;
            }
        }
    }
    return { results, each, cancel: () => void child.kill("SIGTERM") };
}

/** One stack, with its StackReferences' outputs given (tests plan variants of a stack this way). */
export function planStack(options: RunOptions): PlanResult {
    const { stack, ...rest } = options;
    return planBatch({ ...rest, stacks: [stack] })[0];
}
