/**
 * The end of a program's run, as the language host has it: the `beforeExit` work of the SDK, the providers
 * and the program run before the plan is taken (runExitHooks), the program's own listeners removed before the
 * next stack (withProgramExitListeners), and a run that stalls, throws or leaves registrations pending failed
 * with the program's own error and file:line (runCapturingFailures).
 */
import * as path from "path";
import { fileURLToPath } from "url";
import type * as PulumiSdk from "@pulumi/pulumi";
import { PlannedResource } from "./model";
import { describeFailures, ProgramError } from "./program-errors";
import { pendingRegistrations } from "./sdk-patches";

/** The `beforeExit` listeners of the planner's own process (and of a test runner around it), never emitted to. */
const PLANNER_EXIT_LISTENERS = new Set<unknown>(process.rawListeners("beforeExit"));
/** More rounds than any library needs; a program whose exit hooks keep registering would never exit either. */
const MAX_EXIT_ROUNDS = 10;

/**
 * Node emits `beforeExit` when the program's event loop is empty, and the Pulumi language host lets the work
 * its listeners schedule run before it shuts down (cmd/run registers its own listener to run last for this
 * reason). @pulumi/aws creates a bucket's one BucketNotification there, for every `bucket.onObjectCreated`.
 * The planner's process does not exit between stacks, so it emits the event itself to the listeners the SDK,
 * the providers and the program added, until a round registers nothing more: without this, those resources
 * would be missing from the plan.
 */
export async function runExitHooks(pulumi: typeof PulumiSdk, resources: PlannedResource[]): Promise<void> {
    const waitForRPCs = (pulumi.runtime as unknown as { waitForRPCs?: () => Promise<void> }).waitForRPCs ?? (async () => undefined);
    for (let round = 0; round < MAX_EXIT_ROUNDS; round++) {
        // rawListeners: a listener added with once() is called through its wrapper, which removes it, as emit does.
        const hooks = process.rawListeners("beforeExit").filter((listener) => !PLANNER_EXIT_LISTENERS.has(listener));
        if (hooks.length === 0) {
            return;
        }
        await waitForRPCs();
        const registered = resources.length;
        for (const hook of hooks) {
            hook.call(process, 0);
        }
        await new Promise((resolve) => setImmediate(resolve));
        await waitForRPCs();
        if (resources.length === registered) {
            return;
        }
    }
    throw new ProgramError(`the program's beforeExit listeners were still registering resources after ${MAX_EXIT_ROUNDS} rounds`);
}

/**
 * The file of the first stack frame outside Node's own modules and this one: who is adding a listener. Read from
 * the frames as V8 holds them (their scripts' file names), not from a formatted stack: a program's own
 * `Error.prepareStackTrace` (one that hides frames, or source-map-support's) is not asked, and Node parses no
 * source map to name the files (the first such stack of a plan parsed the maps of every module on it).
 */
function registeringFile(): string | undefined {
    const limit = Error.stackTraceLimit;
    const prepare = Error.prepareStackTrace;
    Error.stackTraceLimit = 30;
    Error.prepareStackTrace = (_error, callSites) => callSites;
    try {
        const holder: { stack?: NodeJS.CallSite[] } = {};
        Error.captureStackTrace(holder, registeringFile);
        for (const site of holder.stack ?? []) {
            const name = site.getFileName();
            // An ES module's frame names a URL (a program's carries its run's query, esm-program.ts): its path.
            const file = name?.startsWith("file://") ? fileURLToPath(name.replace(/\?offline-plan-run=\d+$/, "")) : name;
            if (file && !file.startsWith("node:") && path.isAbsolute(file) && file !== __filename) {
                return file;
            }
        }
        return undefined;
    } finally {
        Error.prepareStackTrace = prepare;
        Error.stackTraceLimit = limit;
    }
}

/**
 * Runs `body` noting the `beforeExit` listeners the program's own modules add, and removes them afterwards:
 * the next stack reloads those modules, which add them again; left in place, a listener of this stack would
 * run in the next one's exit hooks. Listeners added from node_modules (the SDK's, @pulumi/aws's) stay: their
 * modules are not reloaded, so they are added once per process.
 */
export async function withProgramExitListeners<T>(programFiles: { has(file: string): boolean }, body: () => Promise<T>): Promise<T> {
    const added: Array<(...args: unknown[]) => void> = [];
    const onNewListener = (event: string | symbol, listener: (...args: unknown[]) => void) => {
        const file = event === "beforeExit" ? registeringFile() : undefined;
        // The program's own files and its shared modules outside its directory (program-entry.ts programFilesOf).
        if (file && programFiles.has(file)) {
            added.push(listener);
        }
    };
    process.on("newListener", onNewListener);
    try {
        return await body();
    } finally {
        process.off("newListener", onNewListener);
        for (const listener of added) {
            process.off("beforeExit", listener);
        }
    }
}

/**
 * Runs the program and waits for its registrations; any thrown error, rejected promise or registration
 * left pending fails the run with the program's own message and location.
 */
export async function runCapturingFailures<T>(programDir: string, body: () => Promise<T>): Promise<T> {
    const failures: unknown[] = [];
    const onFailure = (reason: unknown) => failures.push(reason);
    process.on("unhandledRejection", onFailure);
    process.on("uncaughtException", onFailure);
    // Node emits beforeExit when nothing is left to run: a program still waiting then waits on a promise that
    // can never settle (a registration whose callback failed). Without this, the process would exit with the
    // SDK's "N promises were still active" and code 1; it fails here with what went wrong, as any failure does.
    let onStall = (): void => undefined;
    const stalled = new Promise<never>((_, reject) => {
        onStall = () => {
            const pending = pendingRegistrations(programDir);
            const found = [...failures, ...(pending ? [new ProgramError(pending)] : [])];
            const error = new ProgramError(found.length > 0 ? describeFailures(found, programDir) : "the program stopped while waiting on a value that never resolves (nothing was left to run)");
            // Rejected from a macrotask: the loop stays alive for what follows (a next stack, a second plan behind
            // a preview), so a later stall emits beforeExit again instead of ending the process silently.
            setImmediate(() => reject(error));
        };
    });
    PLANNER_EXIT_LISTENERS.add(onStall);
    process.on("beforeExit", onStall);
    // A program that keeps the event loop busy while it waits (a setInterval polling for a condition, a socket
    // nothing answers) never empties it, so beforeExit never comes: it is stopped after a stated time instead.
    const limit = programTimeLimit();
    // The standard streams open their pipe on first use (a warning the program prints): not the program's wait.
    void process.stdout;
    void process.stderr;
    const handlesBefore = activeHandles();
    let timer: NodeJS.Timeout | undefined;
    const overdue = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new ProgramError(overdueMessage(limit, handlesBefore, pendingRegistrations(programDir)))), limit.seconds * 1000);
        // The limit never keeps the process alive itself: a program that finishes, or stalls, ends as before.
        timer.unref();
    });
    try {
        const result = await Promise.race([body(), stalled, overdue]);
        // Rejections of promises nobody awaited are reported on a later turn: let them arrive.
        await new Promise((resolve) => setImmediate(resolve));
        if (failures.length === 0) {
            const pending = pendingRegistrations(programDir);
            if (pending) {
                failures.push(new ProgramError(pending));
            }
        }
        if (failures.length > 0) {
            throw new ProgramError(describeFailures(failures, programDir));
        }
        return result;
    } catch (err) {
        if (err instanceof ProgramError) {
            throw err;
        }
        throw new ProgramError(describeFailures([err, ...failures], programDir));
    } finally {
        clearTimeout(timer);
        process.off("unhandledRejection", onFailure);
        process.off("uncaughtException", onFailure);
        process.off("beforeExit", onStall);
        PLANNER_EXIT_LISTENERS.delete(onStall);
    }
}

/** The environment variable that sets how long one stack's program may run, in seconds. */
export const PROGRAM_TIMEOUT_VARIABLE = "OFFLINE_PLAN_PROGRAM_TIMEOUT";
/** The default: our largest stack's program runs in a few seconds on a loaded machine. */
export const DEFAULT_PROGRAM_TIMEOUT_SECONDS = 300;

/** How long one stack's program may run: OFFLINE_PLAN_PROGRAM_TIMEOUT seconds, else the default; a bad value is refused. */
export function programTimeLimit(env: NodeJS.ProcessEnv = process.env): { seconds: number; from: string } {
    const text = env[PROGRAM_TIMEOUT_VARIABLE];
    if (text === undefined || text === "") {
        return { seconds: DEFAULT_PROGRAM_TIMEOUT_SECONDS, from: `the default; set ${PROGRAM_TIMEOUT_VARIABLE} to change it` };
    }
    const seconds = Number(text);
    if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 86400) {
        throw new ProgramError(`${PROGRAM_TIMEOUT_VARIABLE}=${text}: expected a number of seconds between 0 and 86400`);
    }
    return { seconds, from: PROGRAM_TIMEOUT_VARIABLE };
}

/** The kinds of handles and requests keeping the event loop alive (Node's names: Timeout, TCPSocketWrap, …), counted. */
function activeHandles(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const kind of process.getActiveResourcesInfo()) {
        counts.set(kind, (counts.get(kind) ?? 0) + 1);
    }
    return counts;
}

/** What Node's handle names mean to a program's author. */
const HANDLE_MEANING: Record<string, string> = {
    Timeout: "timer (setTimeout/setInterval)",
    Immediate: "setImmediate",
    TCPSocketWrap: "network socket",
    TCPWRAP: "network socket",
    TLSWrap: "TLS connection",
    GetAddrInfoReqWrap: "DNS lookup",
    QueryReqWrap: "DNS query",
    PipeWrap: "pipe",
    TTYWrap: "terminal",
    ProcessWrap: "child process",
    FSReqCallback: "file read/write",
    FSReqPromise: "file read/write",
    FSEventWrap: "file watcher",
    StatWatcher: "file watcher",
    UDPWrap: "UDP socket",
};

/** The message of a program stopped at the time limit: what it still held open, what it still waited for, what to do. */
export function overdueMessage(limit: { seconds: number; from: string }, before: Map<string, number>, pending: string | undefined): string {
    const held: string[] = [];
    for (const [kind, count] of activeHandles()) {
        const added = count - (before.get(kind) ?? 0);
        if (added > 0) {
            held.push(`${added} ${HANDLE_MEANING[kind] ?? kind}${added > 1 ? "s" : ""}`);
        }
    }
    const waiting = held.length > 0 ? `it still holds ${held.join(", ")} open, waiting on something that never comes offline` : "it is still waiting on a value that never resolves";
    return [
        `the program was stopped after ${limit.seconds} s (${limit.from}): ${waiting}.`,
        `Offline, nothing answers a network call, a poll for an outside condition, or stdin: give the program the value through config (-c KEY=VALUE) or --stack-outputs, or raise ${PROGRAM_TIMEOUT_VARIABLE} if it is only slow.`,
        ...(pending ? [pending] : []),
    ].join("\n");
}
