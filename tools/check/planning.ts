/**
 * What the check needs of the planner, without the policy pack: the CLI starts planning with this (a child
 * process) and loads the pack (tools/check/core.ts, @pulumi/policy) while the child plans.
 */
import * as path from "path";
import { startPlanInOrder } from "offline-plan";
import type { StartedBatch } from "offline-plan/runner";

export const REPO_ROOT = path.resolve(__dirname, "..", "..");

/** The planning half of the check options. */
export interface PlanningOptions {
    /** The Pulumi program (directory with Pulumi.yaml); default: this repository. */
    programDir?: string;
    /** Stacks to check; default: every Pulumi.<stack>.yaml, referenced stacks first. */
    stacks?: string[];
    /** Leave computed values unknown, as in a first `pulumi preview`. */
    preview?: boolean;
    /** `--config KEY=VALUE` values for the checked program. */
    configSet?: string[];
    /** Outputs of stacks outside the run, by org/project/stack, for StackReferences (`--stack-outputs`). */
    stackOutputs?: Record<string, Record<string, unknown>>;
}

/** What the planner needs of the check options: preview, config values, outside stacks' outputs. */
export function planInputsOf(options: PlanningOptions): { preview: boolean; configSet?: string[]; stackReferences?: Record<string, Record<string, unknown>> } {
    return { preview: options.preview ?? false, configSet: options.configSet, stackReferences: options.stackOutputs };
}

/**
 * Starts planning the stacks a check of `options` needs (dependency order), in the background. What the program
 * prints (console.log, its warnings) goes to `echo` as it comes: the CLI's stderr, as `plan --json` shows it apart
 * from the report on stdout (until h35 the check dropped it, and a program that ended the process early was
 * reported with a part of it only).
 */
export function startPlanning(options: PlanningOptions, echo: (text: string) => void = (text) => void process.stderr.write(text)): StartedBatch {
    const programDir = path.resolve(options.programDir ?? REPO_ROOT);
    return startPlanInOrder(programDir, options.stacks ?? [], planInputsOf(options), { echo });
}
