/**
 * The offline policy check as a library: plan a program's stacks under mocks (tools/plan/order.ts, as
 * `npm run plan` does), hand every resource to the policy pack with the engine's argument shapes
 * (tools/check/policy-harness.ts) and compute the retention matrix. `npm run check` prints it; the report
 * generator and the tests import `checkStacks` / `checkPlan`.
 */
import * as path from "path";
import { EnforcementLevel, Policies } from "@pulumi/policy";
import { ALL_POLICIES, PACK_ENFORCEMENT_LEVEL } from "../../policy/all";
import { configOf } from "../../policy/config";
import { MatrixConfig, matrixSchema, RetentionResult, stackMatrix } from "../../policy/retention-matrix";
import { Role } from "../../policy/roles";
import { describeWaiver, SETTINGS_POLICY_NAME, settingsFromConfig } from "../../policy/settings";
import { LookupRecord, PlanResult } from "../plan/model";
import { planInOrder } from "../plan/order";
import { stacksToPlan } from "../plan/stack-settings";
import {
    analyzerResources,
    defaultStackTags,
    evaluateResourcePolicies,
    evaluateStackPolicies,
    NotApplicable,
    PackConfig,
    policyResources,
    prepare,
    Violation,
} from "./policy-harness";
import { validatePackConfig } from "./pack-config";

export type { Violation, RetentionResult, PackConfig };

export interface StackCheck {
    stack: string;
    project: string;
    role: Role;
    resourceCount: number;
    violations: Violation[];
    retention: RetentionResult[];
    /** Waivers in force (oauth2-dr-settings), as every report prints them. */
    waivers: string[];
    notApplicable: NotApplicable[];
    /** The data sources and outside stacks the plan answered offline (computed, assumed, supplied, unknown). */
    lookups: LookupRecord[];
}

export interface CheckOptions {
    /** The Pulumi program (directory with Pulumi.yaml); default: this repository. */
    programDir?: string;
    /** Stacks to check; default: every Pulumi.<stack>.yaml, referenced stacks first. */
    stacks?: string[];
    /** Policy config, as `--policy-pack-config`. */
    config?: PackConfig;
    /** Leave computed values unknown, as in a first `pulumi preview`. */
    preview?: boolean;
    /** `--config KEY=VALUE` values for the checked program. */
    configSet?: string[];
    /** Outputs of stacks outside the run, by org/project/stack, for StackReferences (`--stack-outputs`). */
    stackOutputs?: Record<string, Record<string, unknown>>;
    /** Stack tags (the service's), e.g. { environment: "production" }. */
    stackTags?: Record<string, string>;
    policies?: Policies;
}

export const REPO_ROOT = path.resolve(__dirname, "..", "..");

export function mandatoryCount(checks: StackCheck[]): number {
    return checks.reduce((n, c) => n + c.violations.filter((v) => v.enforcementLevel === "mandatory").length, 0);
}

/** Evaluates the pack on one planned stack (no planning: tests mutate plans in memory and call this). */
export async function checkPlan(plan: PlanResult, options: Omit<CheckOptions, "stacks" | "preview"> = {}): Promise<StackCheck> {
    const policies = options.policies ?? ALL_POLICIES;
    const config = options.config ?? {};
    const problems = validatePackConfig(config, policies);
    if (problems.length > 0) {
        throw new Error(`policy config: ${problems.join("; ")}`);
    }
    const stackTags = defaultStackTags(plan, options.stackTags);
    const evaluation = { config, stackTags, packEnforcementLevel: PACK_ENFORCEMENT_LEVEL as EnforcementLevel };
    const prepared = prepare(analyzerResources(plan, options.programDir));
    const resourceResult = await evaluateResourcePolicies(policies, prepared, evaluation);
    const resources = policyResources(prepared);
    const stackResult = await evaluateStackPolicies(policies, resources, evaluation);

    // The matrix with the settings and the coverage policy's own configuration, as the policy sees them.
    const settings = settingsFromConfig(blockOf(config, SETTINGS_POLICY_NAME));
    const matrixConfig = configOf<MatrixConfig>(matrixSchema, { getConfig: <T extends object>() => blockOf(config, "retention-table-coverage") as T });
    const { role, rows } = stackMatrix(resources, stackTags, settings, matrixConfig);
    return {
        stack: plan.stack,
        project: plan.project,
        role,
        resourceCount: plan.resources.length,
        violations: [...resourceResult.violations, ...stackResult.violations],
        retention: rows,
        waivers: settings.waivers.map(describeWaiver),
        notApplicable: [...resourceResult.notApplicable, ...stackResult.notApplicable],
        lookups: plan.lookups ?? [],
    };
}

/** A policy's settings in a policy config file, without its enforcement level. */
function blockOf(config: PackConfig, policy: string): Record<string, unknown> {
    const entry = config[policy];
    if (typeof entry !== "object") {
        return {};
    }
    const { enforcementLevel: _level, ...properties } = entry;
    void _level;
    return properties;
}

export async function checkPlans(plans: PlanResult[], options: Omit<CheckOptions, "stacks" | "preview"> = {}): Promise<StackCheck[]> {
    const out: StackCheck[] = [];
    for (const plan of plans) {
        out.push(await checkPlan(plan, options));
    }
    return out;
}

/** Plans the program's stacks (dependency order) and checks each. */
export async function checkStacks(options: CheckOptions = {}): Promise<StackCheck[]> {
    const problems = validatePackConfig(options.config ?? {}, options.policies ?? ALL_POLICIES);
    if (problems.length > 0) {
        throw new Error(`policy config: ${problems.join("; ")}`);
    }
    const programDir = path.resolve(options.programDir ?? REPO_ROOT);
    const stacks = stacksToPlan(programDir, options.stacks);
    const plans = planInOrder(programDir, stacks, planInputsOf(options));
    return checkPlans(plans, { ...options, programDir });
}

/** What the planner needs of the check options: preview, config values, outside stacks' outputs. */
export function planInputsOf(options: CheckOptions): { preview: boolean; configSet?: string[]; stackReferences?: Record<string, Record<string, unknown>> } {
    return { preview: options.preview ?? false, configSet: options.configSet, stackReferences: options.stackOutputs };
}
