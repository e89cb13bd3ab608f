/**
 * `npm run plan` and `npm run check` run inside the test's own process: each CLI's `main(argv, io, plan)` with
 * its output collected and its exit code returned, planning in this process's shared planning child
 * (support/plans.ts) instead of a process and a child of its own per run. A program planned with the same
 * stacks and inputs is planned once per test process (each caller gets its own copy of the results).
 *
 * For what a test proves of the process itself (its exit status, the bin wiring, what the program prints
 * while planned in the CLI's own process, the planner's warnings), spawn the CLI (support/plans.ts PLAN_CLI,
 * tools/check/check.ts) instead.
 */
import * as path from "path";
import { main as checkMain } from "../../tools/check/check";
import { planInputsOf, PlanningOptions, REPO_ROOT } from "../../tools/check/planning";
import { main as planMain, PlanExtra } from "offline-plan/plan";
import type { PlanResult } from "offline-plan/model";
import { planProgram, planRepo, REPO } from "./plans";

export interface CliRun {
    status: number;
    stdout: string;
    stderr: string;
}

const planned = new Map<string, Promise<PlanResult[]>>();

/**
 * The program's stacks as the CLIs plan them, memoised per program, stacks and inputs. This repository's stacks
 * with no inputs of the command line are support/plans.ts planRepo's: a CLI run over the stacks a test file
 * planned already (report.test.ts's prod and dr) plans nothing again.
 */
export async function plannedOnce(programDir: string, stacks: string[], extra: PlanExtra): Promise<PlanResult[]> {
    if (path.resolve(programDir) === REPO && !extra.preview && !extra.configSet?.length && Object.keys(extra.stackReferences ?? {}).length === 0) {
        return structuredClone(await planRepo(stacks));
    }
    const key = JSON.stringify([programDir, stacks, extra.preview ?? false, extra.configSet ?? [], extra.stackReferences ?? {}]);
    if (!planned.has(key)) {
        const results = planProgram(programDir, stacks, extra);
        results.catch(() => undefined);
        planned.set(key, results);
    }
    return structuredClone(await planned.get(key)!);
}

/** Runs `npm run plan -- ARGS` or `npm run check -- ARGS` in this process. */
export async function runCli(tool: "plan" | "check", args: string[]): Promise<CliRun> {
    let stdout = "";
    let stderr = "";
    const io = { stdout: { write: (text: string) => (stdout += text) }, stderr: { write: (text: string) => (stderr += text) } };
    const status =
        tool === "plan"
            ? await planMain(args, io, plannedOnce)
            : await checkMain(args, io, (options: PlanningOptions) => plannedOnce(path.resolve(options.programDir ?? REPO_ROOT), options.stacks ?? [], planInputsOf(options)));
    return { status, stdout, stderr };
}
