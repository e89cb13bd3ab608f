/**
 * The one way to talk to a planning child (child.ts): a `PlanningChild` sends it batches over IPC and hears
 * each stack's result as soon as it is planned, then the batch's end. The SDK and the providers load once per
 * child; the runtime is reset and the program's modules are reloaded between stacks (as the Automation API
 * runs inline programs), and each stack's outputs feed the StackReferences of the stacks after it.
 *
 * startBatch runs one batch in a child of its own (the check CLI, planInOrder); PlanningServer (server.ts)
 * keeps one child for many batches (the tests). A child that ends before a batch's end (a program calling
 * process.exit, a kill) fails that batch with a PlanError naming the stack it was planning.
 */
import type { ChildProcess } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { PlanResult } from "./model";
import { ChildMessage, ChildRequest, PlanBatch, PlanError, readResultFile, resultsOf } from "./protocol";

export { PlanError, resultsOf } from "./protocol";

/** How a planning child is started (a .cjs file, which a CLI loads first to start one early). */
interface PlanningProcess {
    TS_REGISTER: string;
    OUR_NODE_MODULES: string;
    childDirectory(): { dir: string; stackFile: string };
    spawnPlanningChild(stackFile: string): ChildProcess;
    takeEarlyPlanningChild(): { child: ChildProcess; dir: string; stackFile: string; output: string } | undefined;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const planningProcess = require("./planning-process.cjs") as PlanningProcess;

/**
 * The TypeScript loader every process of ours runs under (`node --require TS_REGISTER file.ts`), by absolute
 * path: the planning child runs in the program's directory, which may have no loader of its own.
 */
export const TS_REGISTER = planningProcess.TS_REGISTER;

/**
 * The node_modules our own @pulumi/pulumi is installed in (the workspace's, or the package's own when it is
 * installed alone): where a program without node_modules finds the SDK and its providers.
 */
export const OUR_NODE_MODULES = planningProcess.OUR_NODE_MODULES;

/** How the child process ended. */
export interface Ended {
    code: number | null;
    signal: NodeJS.Signals | null;
}

/**
 * A child that ended before reporting (the program called process.exit, or was killed): the stack it was
 * planning, how it ended and what it printed.
 */
export function unfinished(batch: PlanBatch, files: { stackFile: string }, ended: Ended, output: string, shown: { echoed?: boolean; held?: boolean } = {}): PlanError {
    const stack = fs.existsSync(files.stackFile) ? fs.readFileSync(files.stackFile, "utf8") : (batch.stacks[0] ?? "(none started)");
    const how = ended.signal ? `was killed by ${ended.signal}` : `exited with code ${ended.code}`;
    // All of it, never a part: with `echoed` it was passed through as it came (above this message).
    const said = !output.trim()
        ? ", printing nothing (a program calling process.exit?)"
        : shown.echoed
          ? `; what it printed (${Buffer.byteLength(output)} bytes) is above`
          : `; it printed:\n${output.trimEnd()}`;
    // Its output pipes still open after it ended: a process it started holds them, and what they carry later is not here.
    const held = shown.held ? `\n(its output pipes were still open ${CLOSE_WAIT_MS / 1000} s after it ended: a process the program started holds them; what they carry after this is not shown)` : "";
    return new PlanError(stack, `the planning process ${how} before the plan was complete${said}${held}`);
}

/** How long a child that ended is given to close its output pipes (the tail of what it printed) before its batch fails. */
const CLOSE_WAIT_MS = 2000;

/** Where a planning child's output (what the program prints) is passed through as it comes; none: kept for a failure's message only. */
export interface OutputOptions {
    echo?: (text: string) => void;
}

interface Pending {
    batch: PlanBatch;
    onResult(result: PlanResult): void;
    resolve(results: PlanResult[]): void;
    reject(err: Error): void;
    received: PlanResult[];
}

/**
 * A planning child and the batches sent to it, planned one after another. Started on the first batch, and
 * again after a child that died. An idle child does not keep its parent alive.
 */
export class PlanningChild {
    private child?: ChildProcess;
    private output = "";
    /** OutputOptions.echo (the check CLI: its stderr). */
    private readonly echo: OutputOptions["echo"];
    private nextId = 0;
    private readonly pending = new Map<number, Pending>();
    private readonly dir: string;
    private readonly stackFile: string;
    private readonly onExit = () => this.close();

    /**
     * Adopts the child a CLI started early (planning-process.cjs), if one is waiting; else starts one on the first
     * batch. `echo`: passes everything the child prints through as it comes (what it printed before, too).
     */
    constructor(options: OutputOptions = {}) {
        this.echo = options.echo;
        const early = planningProcess.takeEarlyPlanningChild();
        ({ dir: this.dir, stackFile: this.stackFile } = early ?? planningProcess.childDirectory());
        process.once("exit", this.onExit);
        if (early) {
            this.output = early.output;
            if (early.output) {
                this.echo?.(early.output);
            }
            this.listen(early.child);
        }
    }

    /** Plans a batch; `onResult` hears each requested stack's result as it arrives. Rejects as resultsOf throws. */
    plan(batch: PlanBatch, onResult: (result: PlanResult) => void = () => undefined): Promise<PlanResult[]> {
        const child = this.child ?? this.start();
        const id = this.nextId++;
        // Resolved here: the child changes its directory for every batch.
        const request: ChildRequest = { id, batch: { ...batch, programDir: path.resolve(batch.programDir) } };
        const result = new Promise<PlanResult[]>((resolve, reject) => this.pending.set(id, { batch, onResult, resolve, reject, received: [] }));
        // While a batch is pending the child keeps this process alive, its process as well as its channel: a child
        // that ends early (a program calling process.exit) is then heard (its exit), and the batch fails. With the
        // channel alone the CLI could end when the channel closed, before the exit was heard: exit 0, nothing said.
        child.ref();
        child.channel?.ref();
        child.send(request);
        return result;
    }

    /** Stops the child; batches still waiting fail. */
    close(): void {
        const child = this.child;
        this.child = undefined;
        child?.kill("SIGTERM");
        process.off("exit", this.onExit);
        fs.rmSync(this.dir, { recursive: true, force: true });
    }

    /** Disconnects from an idle child and resolves once it has exited on its own (nothing left behind). */
    async finish(): Promise<void> {
        const child = this.child;
        if (child && child.connected && child.exitCode === null && child.signalCode === null) {
            const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
            // Waited on: the idle child was unref'd, and the caller's process must not end before it does.
            child.ref();
            child.disconnect();
            await exited;
        }
        this.close();
    }

    private start(): ChildProcess {
        fs.mkdirSync(this.dir, { recursive: true });
        this.output = "";
        // Idle, the child does not keep its parent alive: the process, its pipes and (between batches) its channel.
        return this.listen(planningProcess.spawnPlanningChild(this.stackFile));
    }

    /** Hears the child's output, messages and exit; it is this object's child from now on. */
    private listen(child: ChildProcess): ChildProcess {
        const heard = (chunk: Buffer) => {
            const text = chunk.toString("utf8");
            this.output += text;
            this.echo?.(text);
        };
        child.stdout!.on("data", heard);
        child.stderr!.on("data", heard);
        child.on("message", (message: ChildMessage) => this.receive(message));
        child.once("exit", (code, signal) => {
            if (this.pending.size === 0) {
                this.ended(child, { code, signal }, false);
                return;
            }
            // A batch waits on it: its failure names all it printed, so the output pipes are read to their end
            // ("close") first, for CLOSE_WAIT_MS at most (a process it started may hold them open).
            let done = false;
            const finish = (held: boolean) => {
                if (!done) {
                    done = true;
                    clearTimeout(timer);
                    this.ended(child, { code, signal }, held);
                }
            };
            const timer = setTimeout(() => finish(true), CLOSE_WAIT_MS);
            child.once("close", () => finish(false));
        });
        this.child = child;
        return child;
    }

    private receive(message: ChildMessage): void {
        const pending = this.pending.get(message.id);
        if (!pending) {
            return;
        }
        if (message.kind === "result") {
            let result: PlanResult;
            try {
                result = readResultFile(message.resultFile);
            } catch (err) {
                this.pending.delete(message.id);
                pending.reject(new Error(`the planning child's result ${message.resultFile} cannot be read: ${(err as Error).message}`));
                return;
            }
            pending.received.push(result);
            pending.onResult(result);
            return;
        }
        this.pending.delete(message.id);
        if (this.pending.size === 0) {
            this.child?.channel?.unref();
            this.child?.unref();
        }
        try {
            resultsOf(message.outcome);
            pending.resolve(pending.received);
        } catch (err) {
            pending.reject(err as Error);
        }
    }

    /** The child is gone: what it was planning fails, naming the stack; the next batch starts another. */
    private ended(child: ChildProcess, how: Ended, held: boolean): void {
        if (this.child === child) {
            this.child = undefined;
        }
        for (const [id, pending] of this.pending) {
            this.pending.delete(id);
            pending.reject(unfinished(pending.batch, { stackFile: this.stackFile }, how, this.output, { echoed: this.echo !== undefined, held }));
        }
    }
}

/** A batch planning in the background, and how to stop it. */
export interface StartedBatch {
    /** Every requested stack's result, once the batch is done; rejects with a PlanError naming a failed stack. */
    results: Promise<PlanResult[]>;
    /** The same results one by one, each as soon as the child has planned it; throws as `results` rejects. */
    each(): AsyncIterable<PlanResult>;
    cancel(): void;
}

/**
 * Plans `batch` in a child of its own: the caller loads what it needs meanwhile (the check CLI loads the
 * policy pack while the child plans, each on its own core), then checks each stack while the next is planned.
 */
export function startBatch(batch: PlanBatch, options: OutputOptions = {}): StartedBatch {
    const child = new PlanningChild(options);
    const received: PlanResult[] = [];
    let done = false;
    let wake: () => void = () => undefined;
    let changed = new Promise<void>((resolve) => (wake = resolve));
    const notify = () => {
        wake();
        changed = new Promise<void>((resolve) => (wake = resolve));
    };
    const results = child
        .plan(batch, (result) => {
            received.push(result);
            notify();
        })
        .then(
            async (all) => {
                // As the child's own exit: its process is reaped before the batch is done, never left behind.
                await child.finish();
                return all;
            },
            (err: unknown) => {
                child.close();
                throw err;
            },
        )
        .finally(() => {
            done = true;
            notify();
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
    return { results, each, cancel: () => child.close() };
}
