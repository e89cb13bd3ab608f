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
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { PlanResult } from "./model";
import { ChildMessage, ChildRequest, PlanBatch, PlanError, readResultFile, resultsOf } from "./protocol";

export { PlanError, resultsOf } from "./protocol";

const CHILD = path.join(__dirname, "child.ts");
/**
 * The TypeScript loader every process of ours runs under (`node --require TS_REGISTER file.ts`), by absolute
 * path: the planning child runs in the program's directory, which may have no loader of its own.
 */
export const TS_REGISTER = path.resolve(__dirname, "..", "register.cjs");

/**
 * The node_modules our own @pulumi/pulumi is installed in (the workspace's, or the package's own when it is
 * installed alone): where a program without node_modules finds the SDK and its providers.
 */
export const OUR_NODE_MODULES = path.resolve(path.dirname(require.resolve("@pulumi/pulumi/package.json")), "..", "..");

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
    private nextId = 0;
    private readonly pending = new Map<number, Pending>();
    private readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), "offline-plan-"));
    private readonly stackFile = path.join(this.dir, "current-stack");
    private readonly onExit = () => this.close();

    constructor() {
        process.once("exit", this.onExit);
    }

    /** Plans a batch; `onResult` hears each requested stack's result as it arrives. Rejects as resultsOf throws. */
    plan(batch: PlanBatch, onResult: (result: PlanResult) => void = () => undefined): Promise<PlanResult[]> {
        const child = this.child ?? this.start();
        const id = this.nextId++;
        // Resolved here: the child changes its directory for every batch.
        const request: ChildRequest = { id, batch: { ...batch, programDir: path.resolve(batch.programDir) } };
        const result = new Promise<PlanResult[]>((resolve, reject) => this.pending.set(id, { batch, onResult, resolve, reject, received: [] }));
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
        const child = spawn(process.execPath, ["--require", TS_REGISTER, CHILD, this.stackFile], {
            // A program without its own node_modules (another team's, checked with --program) resolves
            // @pulumi/* from ours; its own node_modules, when present, still come first.
            env: { ...process.env, NODE_PATH: [process.env.NODE_PATH, OUR_NODE_MODULES].filter(Boolean).join(path.delimiter) },
            stdio: ["ignore", "pipe", "pipe", "ipc"],
        });
        this.output = "";
        child.stdout!.on("data", (chunk: Buffer) => void (this.output += chunk.toString("utf8")));
        child.stderr!.on("data", (chunk: Buffer) => void (this.output += chunk.toString("utf8")));
        child.on("message", (message: ChildMessage) => this.receive(message));
        // A request sent as the child dies fails on its channel; the exit below fails what was pending.
        child.on("error", () => undefined);
        child.once("exit", (code, signal) => this.ended(child, { code, signal }));
        // Idle, the child must not keep its parent alive: the process, its pipes and (between batches) its channel.
        child.unref();
        for (const stream of [child.stdout, child.stderr] as unknown as Array<{ unref?(): void }>) {
            stream.unref?.();
        }
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
        }
        try {
            resultsOf(message.outcome);
            pending.resolve(pending.received);
        } catch (err) {
            pending.reject(err as Error);
        }
    }

    /** The child is gone: what it was planning fails, naming the stack; the next batch starts another. */
    private ended(child: ChildProcess, how: Ended): void {
        if (this.child === child) {
            this.child = undefined;
        }
        for (const [id, pending] of this.pending) {
            this.pending.delete(id);
            pending.reject(unfinished(pending.batch, { stackFile: this.stackFile }, how, this.output));
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
export function startBatch(batch: PlanBatch): StartedBatch {
    const child = new PlanningChild();
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
