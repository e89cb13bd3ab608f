/**
 * The offline policy check as a library: plan a program's stacks under mocks (packages/offline-plan/src/order.ts, as
 * `npm run plan` does), hand every resource to the policy pack with the engine's argument shapes
 * (packages/offline-plan/src/policy-harness.ts) and compute the retention matrix. `npm run check` prints it; the report
 * generator and the tests import `checkStacks` / `checkPlan`.
 */
import * as fs from "fs";
import * as path from "path";
import { EnforcementLevel, Policies } from "@pulumi/policy";
import { ALL_POLICIES, PACK_ENFORCEMENT_LEVEL, settingsFirst } from "../../policy/all";
import { configOf } from "../../policy/config";
import { MatrixConfig, matrixSchema, RetentionResult, stackMatrix } from "../../policy/retention-matrix";
import { isVaultStack, Role } from "../../policy/roles";
import { NotJudged, notJudgedDatabases } from "../../policy/engines";
import { unknownInputsOf } from "../../policy/unknowns";
import { describeWaiver, SETTINGS_POLICY_NAME, settingsFromConfig } from "../../policy/settings";
import { ALARM_SUBSCRIPTION_CHANGES } from "../../lib/organization-scp";
import { ExposedSecret, LookupRecord, PlanResult, SdkVersionNotice, UnknownApply, WaitingRegistration } from "offline-plan/model";
import { planInOrder } from "offline-plan";
import type { StartedBatch } from "offline-plan/runner";
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
} from "offline-plan/policy-harness";
import { validatePackConfig } from "./pack-config";
import { RETENTION_ROW } from "./format";
import { planInputsOf, PlanningOptions, REPO_ROOT } from "./planning";

export type { Violation, RetentionResult, PackConfig };

export interface StackCheck {
    stack: string;
    project: string;
    /** The stack's DR role as the policies derive it; "vault" for the isolated account's stack (policy/roles.ts isVaultStack). */
    role: Role | "vault";
    resourceCount: number;
    violations: Violation[];
    retention: RetentionResult[];
    /** Waivers in force (oauth2-dr-settings), as every report prints them. */
    waivers: string[];
    notApplicable: NotApplicable[];
    /**
     * The organization SCP that lets only the break-glass role change a key's guard and only the security
     * principal change a break-glass role (lib/organization-scp.ts): declared by this program, or where to
     * apply it. Undefined for a stack without KMS keys.
     */
    organizationGuard?: string;
    /** The data sources and outside stacks the plan answered offline (computed, assumed, supplied, unknown). */
    lookups: LookupRecord[];
    /** Secret config values the program passed on as plain text (packages/offline-plan/src/secret-exposure.ts). */
    exposedSecrets: ExposedSecret[];
    /** Database-like resources the retention table does not judge (DynamoDB, ElastiCache, ...), listed in every report. */
    notJudged: NotJudged[];
    /** Preview only: registrations made inside `.apply` over unknown values, which the preview and the policies did not see. */
    waitingOnUnknowns: WaitingRegistration[];
    /**
     * Resources a policy would judge but could not, an input it decides on being unknown until the update
     * (policy/unknowns.ts notJudgedInPreview), and retention table rows the coverage policy could not decide
     * (status unknown: a retention value of a resource implementing the row is unknown).
     */
    notJudgedInPreview: UnjudgedInPreview[];
    /**
     * The program's `.apply` callbacks that did not run even in a full plan, their value unknown offline:
     * whatever they create is in no plan and no policy judged it (the plan's unknownApplies), each with its
     * source line (`code`: a program's own check there, e.g. stacks/compose-storage.ts vaultAcceptsWriters, gave
     * no verdict) and the outside stacks whose unknown outputs it waits on (`stackReferences`).
     */
    unknownApplies: UnjudgedApply[];
    /**
     * When any: @pulumi/* packages the program was planned with (this tool's) at a version its package.json or
     * package-lock.json does not declare (offline-plan sdk-versions.ts): the first lines of the report.
     */
    sdkVersions?: SdkVersionNotice[];
}

/** An `.apply` that did not run for an unknown value: where, its source line, and the outside stacks it waits on. */
export interface UnjudgedApply extends UnknownApply {
    code?: string;
    stackReferences?: string[];
}

/** The source line of a program location ("file:line:column", relative to the program), trimmed; undefined when unreadable. */
export function sourceLineAt(programDir: string, where: string): string | undefined {
    const m = /^(.*):(\d+):\d+$/.exec(where);
    if (!m) {
        return undefined;
    }
    try {
        const line = fs.readFileSync(path.resolve(programDir, m[1]), "utf8").split("\n")[Number(m[2]) - 1]?.trim();
        return line ? (line.length > 140 ? `${line.slice(0, 139)}…` : line) : undefined;
    } catch {
        return undefined;
    }
}

/** The plan's unknown applies with their source lines and the StackReferences (unknown in this plan) they wait on. */
export function unjudgedApplies(plan: PlanResult, programDir: string): UnjudgedApply[] {
    const unknownStacks = new Set((plan.lookups ?? []).filter((l) => l.function === "pulumi.StackReference" && l.result === "unknown").map((l) => l.detail ?? ""));
    return (plan.unknownApplies ?? []).map((a) => {
        const stackReferences = a.waitsOn.filter((name) => unknownStacks.has(name));
        if (stackReferences.length === 0) {
            return a;
        }
        const code = sourceLineAt(programDir, a.where);
        return { ...a, ...(code ? { code } : {}), stackReferences };
    });
}

/** One resource (or retention table row) left unjudged by some policies, because of the same unknown inputs. */
export interface UnjudgedInPreview {
    name: string;
    /** The resource's type, or "retention table row" for a row of the stack's matrix. */
    type: string;
    /** The resource's URN (none for a retention table row). */
    urn?: string;
    /** The unknown inputs, as the policies name them: "spec.schedule". */
    inputs: string;
    /** What they would decide, when the policy says ("whether it runs a backup tool"). */
    why?: string;
    policies: string[];
}

/** Where a stack policy's not-judged record points: the stack itself, not one resource. */
const STACK = { urn: "", name: "(the stack)", type: "stack policy" };

/** The "not judged in this preview" reasons among the not-applicable records, one entry per resource and inputs. */
export function unjudgedInPreview(records: NotApplicable[], resources: ReadonlyArray<{ urn: string; name: string; type: string }>): UnjudgedInPreview[] {
    const out = new Map<string, UnjudgedInPreview>();
    // By URN, the first resource of each (as a search from the start finds it): one lookup per record.
    let byUrn: Map<string, { urn: string; name: string; type: string }> | undefined;
    for (const { policy, urn, reason } of records) {
        const unknown = unknownInputsOf(reason);
        // A stack policy's record has no resource: its reason names what it could not judge (the plan and rule).
        if (unknown === undefined) {
            continue;
        }
        if (urn !== undefined && byUrn === undefined) {
            byUrn = new Map();
            for (const r of resources) {
                if (!byUrn.has(r.urn)) {
                    byUrn.set(r.urn, r);
                }
            }
        }
        const resource = urn === undefined ? STACK : byUrn!.get(urn);
        if (!resource) {
            continue;
        }
        const key = `${resource.urn}\n${unknown.inputs}\n${unknown.why ?? ""}`;
        const entry = out.get(key) ?? { name: resource.name, type: resource.type, ...(resource.urn ? { urn: resource.urn } : {}), ...unknown, policies: [] };
        if (!entry.policies.includes(policy)) {
            entry.policies.push(policy);
        }
        out.set(key, entry);
    }
    return [...out.values()];
}

export { RETENTION_ROW };

/**
 * The retention matrix's rows the coverage policy (a stack policy) could not decide, a retention value of a
 * resource that implements them being unknown until the update: listed as not judged, as resources are.
 */
export function unjudgedRows(rows: RetentionResult[]): UnjudgedInPreview[] {
    return rows
        .filter((row) => row.status === "unknown")
        .map((row) => ({
            name: `${row.dataType} [${row.dataClass}]`,
            type: RETENTION_ROW,
            inputs: "a retention value of a resource that implements it",
            why: `whether the stack keeps it ${row.required}`,
            policies: ["retention-table-coverage"],
        }));
}

/**
 * What the check could not see for unknown values: `.apply` callbacks that did not run, registrations a
 * preview lacks, resources and rows not judged. Advisory, except under --strict-unknowns (exit 1).
 */
export function unseenCount(checks: StackCheck[]): number {
    return checks.reduce((n, c) => n + c.unknownApplies.length + c.waitingOnUnknowns.length + c.notJudgedInPreview.length, 0);
}

export interface CheckOptions extends PlanningOptions {
    /** Policy config, as `--policy-pack-config`. */
    config?: PackConfig;
    /** Stack tags (the service's), e.g. { environment: "production" }. */
    stackTags?: Record<string, string>;
    policies?: Policies;
}

export { planInputsOf, REPO_ROOT };

export function mandatoryCount(checks: StackCheck[]): number {
    return checks.reduce((n, c) => n + c.violations.filter((v) => v.enforcementLevel === "mandatory").length, 0);
}

/** Evaluates the pack on one planned stack (no planning: tests mutate plans in memory and call this). */
export async function checkPlan(plan: PlanResult, options: Omit<CheckOptions, "stacks" | "preview"> = {}): Promise<StackCheck> {
    const policies = settingsFirst(options.policies ?? ALL_POLICIES);
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
    const notApplicable = [...resourceResult.notApplicable, ...stackResult.notApplicable];

    // The matrix with the settings and the coverage policy's own configuration, as the policy sees them.
    const settings = settingsFromConfig(blockOf(config, SETTINGS_POLICY_NAME));
    const matrixConfig = configOf<MatrixConfig>(matrixSchema, { getConfig: <T extends object>() => blockOf(config, "retention-table-coverage") as T });
    const { role, rows } = stackMatrix(resources, stackTags, settings, matrixConfig);
    return {
        stack: plan.stack,
        project: plan.project,
        role: role === "unknown" && isVaultStack(resources, stackTags, settings) ? "vault" : role,
        resourceCount: plan.resources.length,
        violations: [...resourceResult.violations, ...stackResult.violations],
        retention: rows,
        waivers: settings.waivers.map(describeWaiver),
        notApplicable,
        lookups: plan.lookups ?? [],
        exposedSecrets: plan.exposedSecrets ?? [],
        notJudged: notJudgedDatabases(resources),
        waitingOnUnknowns: plan.waitingOnUnknowns ?? [],
        notJudgedInPreview: [...unjudgedInPreview(notApplicable, prepared.resources), ...unjudgedRows(rows)],
        unknownApplies: unjudgedApplies(plan, path.resolve(options.programDir ?? REPO_ROOT)),
        organizationGuard: organizationGuardOf(plan),
        ...(plan.sdkVersions?.length ? { sdkVersions: plan.sdkVersions } : {}),
    };
}

export const ORGANIZATION_SCP_DOC = "docs/organization-scp.json";

/**
 * Whether the plan declares the organization SCP (an aws.organizations.Policy of type SERVICE_CONTROL_POLICY
 * denying kms:PutKeyPolicy and iam:UpdateAssumeRolePolicy, and with an RDS instance the deletion and stop of its
 * automated backups); undefined when the stack has no KMS key or RDS instance to guard.
 */
export function organizationGuardOf(plan: PlanResult): string | undefined {
    const contentOf = (r: PlanResult["resources"][number]) => (typeof r.inputs.content === "string" ? r.inputs.content : JSON.stringify(r.inputs.content ?? ""));
    const scp = plan.resources.find((r) => {
        if (r.type !== "aws:organizations/policy:Policy" || (r.inputs.type ?? "SERVICE_CONTROL_POLICY") !== "SERVICE_CONTROL_POLICY") {
            return false;
        }
        const content = contentOf(r);
        return content.includes("kms:PutKeyPolicy") && content.includes("iam:UpdateAssumeRolePolicy");
    });
    const rds = plan.resources.some((r) => r.type === "aws:rds/instance:Instance");
    const has = (type: string) => plan.resources.some((r) => r.type === type);
    if (scp) {
        // An SCP generated before h27's guards does not refuse deleting RDS's automated backups; one before h29's
        // lets the account leave the organization (which voids every statement), re-policy or re-configure the
        // backup buckets (a bucket policy cannot refuse its account's root) and silence the retention alarm.
        const expected: [boolean, string[]][] = [
            [true, ["organizations:LeaveOrganization"]],
            [rds, ["rds:DeleteDBInstanceAutomatedBackup", "rds:StopDBInstanceAutomatedBackupsReplication"]],
            [has("aws:s3/bucket:Bucket") || has("aws:s3/bucketV2:BucketV2"), ["s3:DeleteBucketPolicy", "s3:PutBucketObjectLockConfiguration", "s3:PutReplicationConfiguration"]],
            // One before h32 lets the alarm topic's endpoints be unsubscribed or filtered out (the topic delivering to nobody).
            [has("aws:cloudwatch/eventRule:EventRule"), ["events:DisableRule", "cloudtrail:StopLogging", ...ALARM_SUBSCRIPTION_CHANGES]],
        ];
        const missing = expected.flatMap(([applies, actions]) => (applies ? actions : [])).filter((a) => !contentOf(scp).includes(a));
        return missing.length > 0 ? `declared (${scp.name}), but it does not deny ${missing.join(", ")}: update it from ${ORGANIZATION_SCP_DOC}` : `declared (${scp.name})`;
    }
    if (!plan.resources.some((r) => r.type === "aws:kms/key:Key") && !rds) {
        return undefined;
    }
    return `not declared: apply ${ORGANIZATION_SCP_DOC} in the organization's management account (docs/runbook.md, "Organization SCP")`;
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

/**
 * Plans the program's stacks (dependency order) and checks each. `started` is that planning already under
 * way (the CLI starts it before it loads this module); it is cancelled when the policy config is refused.
 */
export async function checkStacks(options: CheckOptions = {}, started?: StartedBatch): Promise<StackCheck[]> {
    const problems = validatePackConfig(options.config ?? {}, options.policies ?? ALL_POLICIES);
    if (problems.length > 0) {
        started?.cancel();
        throw new Error(`policy config: ${problems.join("; ")}`);
    }
    const programDir = path.resolve(options.programDir ?? REPO_ROOT);
    if (!started) {
        return checkPlans(await planInOrder(programDir, options.stacks ?? [], planInputsOf(options)), { ...options, programDir });
    }
    // Each stack is checked as soon as it is planned, while the child plans the next.
    const checks: StackCheck[] = [];
    for await (const plan of started.each()) {
        checks.push(await checkPlan(plan, { ...options, programDir }));
    }
    return checks;
}

