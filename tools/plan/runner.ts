/**
 * Plans stacks in one child process: the SDK and the providers load once, the runtime is reset and the
 * program's modules are reloaded between stacks (as the Automation API runs inline programs), and each
 * stack's outputs feed the StackReferences of the stacks after it. order.ts decides the order.
 */
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { pathToFileURL } from "url";
import { PlanResult } from "./model";
import type { PlanBatch, RunOptions } from "./mock-runtime";

export class PlanError extends Error {
    constructor(readonly stack: string, message: string) {
        super(message);
        this.name = "PlanError";
    }
}

const RUNNER = path.join(__dirname, "mock-runtime.ts");
/** tsx's loader by absolute URL: the child runs in the program's directory, which may not have tsx. */
const TSX_LOADER = pathToFileURL(path.resolve(__dirname, "..", "..", "node_modules", "tsx", "dist", "loader.mjs")).href;

/** The child's files: its options and where it writes its outcome, in a fresh temp dir. */
function batchFiles(batch: PlanBatch): { dir: string; args: string[]; resultFile: string; cwd: string; env: NodeJS.ProcessEnv } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "oauth2-dr-plan-"));
    const optionsFile = path.join(dir, "options.json");
    const resultFile = path.join(dir, "result.json");
    fs.writeFileSync(optionsFile, JSON.stringify(batch));
    return {
        dir,
        resultFile,
        args: ["--import", TSX_LOADER, RUNNER, optionsFile, resultFile],
        cwd: path.resolve(batch.programDir),
        // A program without its own node_modules (another team's, checked with --program) resolves
        // @pulumi/* from ours; its own node_modules, when present, still come first.
        env: { ...process.env, NODE_PATH: [process.env.NODE_PATH, path.resolve(__dirname, "..", "..", "node_modules")].filter(Boolean).join(path.delimiter) },
    };
}

/** The child's outcome: its results, or a PlanError naming the stack that failed (or the child's output). */
function outcomeOf(batch: PlanBatch, resultFile: string, output: string): PlanResult[] {
    if (!fs.existsSync(resultFile)) {
        throw new PlanError(batch.stacks[0] ?? "", `the program did not finish under mocks:\n${output}`);
    }
    const outcome = JSON.parse(fs.readFileSync(resultFile, "utf8")) as { ok: true; results: PlanResult[] } | { ok: false; stack: string; error: string };
    if (!outcome.ok) {
        throw new PlanError(outcome.stack, outcome.error);
    }
    return outcome.results;
}

/** Plans `batch.stacks` in that order; the first stack that fails stops the batch with a PlanError naming it. */
export function planBatch(batch: PlanBatch): PlanResult[] {
    const files = batchFiles(batch);
    try {
        const child = spawnSync(process.execPath, files.args, { cwd: files.cwd, encoding: "utf8", maxBuffer: 64 * 1024 * 1024, env: files.env });
        return outcomeOf(batch, files.resultFile, child.stderr || child.stdout);
    } finally {
        fs.rmSync(files.dir, { recursive: true, force: true });
    }
}

/** A batch planning in the background (planBatch without waiting), and how to stop it. */
export interface StartedBatch {
    results: Promise<PlanResult[]>;
    cancel(): void;
}

/**
 * planBatch in the background: the caller loads what it needs meanwhile (the check CLI loads the policy
 * pack while the child plans, each on its own core).
 */
export function startBatch(batch: PlanBatch): StartedBatch {
    const files = batchFiles(batch);
    const child = spawn(process.execPath, files.args, { cwd: files.cwd, env: files.env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => void (stdout += chunk.toString("utf8")));
    child.stderr.on("data", (chunk: Buffer) => void (stderr += chunk.toString("utf8")));
    const results = new Promise<PlanResult[]>((resolve, reject) => {
        child.once("error", reject);
        child.once("close", () => {
            try {
                resolve(outcomeOf(batch, files.resultFile, stderr || stdout));
            } catch (err) {
                reject(err);
            } finally {
                fs.rmSync(files.dir, { recursive: true, force: true });
            }
        });
    });
    // A caller that gives up (bad policy config) must not leave an unhandled rejection behind.
    results.catch(() => undefined);
    return { results, cancel: () => void child.kill("SIGTERM") };
}

/** One stack, with its StackReferences' outputs given (tests plan variants of a stack this way). */
export function planStack(options: RunOptions): PlanResult {
    const { stack, ...rest } = options;
    return planBatch({ ...rest, stacks: [stack] })[0];
}
