/**
 * Plans stacks in one child process: the SDK and the providers load once, the runtime is reset and the
 * program's modules are reloaded between stacks (as the Automation API runs inline programs), and each
 * stack's outputs feed the StackReferences of the stacks after it. order.ts decides the order.
 */
import { spawnSync } from "child_process";
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

/** Plans `batch.stacks` in that order; the first stack that fails stops the batch with a PlanError naming it. */
export function planBatch(batch: PlanBatch): PlanResult[] {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "oauth2-dr-plan-"));
    const options = { stack: batch.stacks[0] ?? "", programDir: batch.programDir };
    try {
        const optionsFile = path.join(dir, "options.json");
        const resultFile = path.join(dir, "result.json");
        fs.writeFileSync(optionsFile, JSON.stringify(batch));
        const child = spawnSync(process.execPath, ["--import", TSX_LOADER, RUNNER, optionsFile, resultFile], {
            cwd: path.resolve(options.programDir),
            encoding: "utf8",
            maxBuffer: 64 * 1024 * 1024,
            // A program without its own node_modules (another team's, checked with --program) resolves
            // @pulumi/* from ours; its own node_modules, when present, still come first.
            env: { ...process.env, NODE_PATH: [process.env.NODE_PATH, path.resolve(__dirname, "..", "..", "node_modules")].filter(Boolean).join(path.delimiter) },
        });
        if (!fs.existsSync(resultFile)) {
            throw new PlanError(options.stack, `the program did not finish under mocks:\n${child.stderr || child.stdout}`);
        }
        const outcome = JSON.parse(fs.readFileSync(resultFile, "utf8")) as { ok: true; results: PlanResult[] } | { ok: false; stack: string; error: string };
        if (!outcome.ok) {
            throw new PlanError(outcome.stack, outcome.error);
        }
        return outcome.results;
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

/** One stack, with its StackReferences' outputs given (tests plan variants of a stack this way). */
export function planStack(options: RunOptions): PlanResult {
    const { stack, ...rest } = options;
    return planBatch({ ...rest, stacks: [stack] })[0];
}
