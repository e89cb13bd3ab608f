/**
 * A planning child that stays up: batches are planned one after another in one process, so the SDK and
 * the providers load once for all of them (runner.ts starts a child per batch). The runtime is reset and the
 * program's modules reloaded for every stack, as for the stacks of one batch; each batch runs in its
 * program's directory. For callers that plan many variants or programs (the tests).
 *
 * A child that dies (a program calling process.exit) fails the batch it was planning, naming the stack, and
 * the next batch starts a new child. An idle server does not keep its parent alive.
 */
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { PlanResult } from "./model";
import type { PlanBatch, ServeReply, ServeRequest } from "./mock-runtime";
import { Ended, plannerCommand, resultsOf, unfinished } from "./runner";

interface Pending {
    batch: PlanBatch;
    resolve(results: PlanResult[]): void;
    reject(err: Error): void;
}

export class PlanningServer {
    private child?: ChildProcess;
    private output = "";
    private nextId = 0;
    private readonly pending = new Map<number, Pending>();
    private readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), "oauth2-dr-planner-"));
    private readonly stackFile = path.join(this.dir, "current-stack");

    constructor() {
        process.once("exit", () => this.close());
    }

    /** Plans a batch (as runner.ts planBatch does, without a process of its own); rejects as it throws. */
    plan(batch: PlanBatch): Promise<PlanResult[]> {
        const child = this.child ?? this.start();
        const id = this.nextId++;
        // Resolved here: the child changes its directory for every batch.
        const request: ServeRequest = { id, batch: { ...batch, programDir: path.resolve(batch.programDir) } };
        const result = new Promise<PlanResult[]>((resolve, reject) => this.pending.set(id, { batch, resolve, reject }));
        child.channel?.ref();
        child.send(request);
        return result;
    }

    /** Stops the child; batches still waiting fail. */
    close(): void {
        this.child?.kill("SIGTERM");
        this.child = undefined;
        fs.rmSync(this.dir, { recursive: true, force: true });
    }

    private start(): ChildProcess {
        const command = plannerCommand(["--serve", this.stackFile]);
        const child = spawn(process.execPath, command.args, { env: command.env, stdio: ["ignore", "pipe", "pipe", "ipc"] });
        this.output = "";
        child.stdout!.on("data", (chunk: Buffer) => void (this.output += chunk.toString("utf8")));
        child.stderr!.on("data", (chunk: Buffer) => void (this.output += chunk.toString("utf8")));
        child.on("message", (reply: ServeReply) => this.settle(reply));
        // A request sent as the child dies fails on its channel; the exit below fails what was pending.
        child.on("error", () => undefined);
        child.once("exit", (code, signal) => this.ended(child, { code, signal }));
        // Idle, the server must not keep its parent alive: the process, its pipes and (between batches) its channel.
        child.unref();
        for (const stream of [child.stdout, child.stderr] as unknown as Array<{ unref?(): void }>) {
            stream.unref?.();
        }
        this.child = child;
        return child;
    }

    private settle(reply: ServeReply): void {
        const pending = this.pending.get(reply.id);
        this.pending.delete(reply.id);
        if (this.pending.size === 0) {
            this.child?.channel?.unref();
        }
        if (pending) {
            try {
                pending.resolve(resultsOf(reply.outcome));
            } catch (err) {
                pending.reject(err as Error);
            }
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
