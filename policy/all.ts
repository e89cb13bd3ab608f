/**
 * Every policy of the pack, in one list shared by the pack (index.ts), the offline checker and the tests.
 * `oauth2-dr-settings` comes first: it hands the shared settings to the policies after it (settings.ts).
 */
import { Policies } from "@pulumi/policy";
import { azurePolicies } from "./azure";
import { awsBackupPlanRetention } from "./backup-plans";
import { immutabilityPolicies } from "./immutability";
import { cloudSqlPolicies } from "./cloudsql";
import { dnsPolicies } from "./dns";
import { kubernetesPolicies } from "./kubernetes";
import { logPolicies } from "./logs";
import { rdsPolicies } from "./rds";
import { s3Policies } from "./s3";
import { s3StackPolicies } from "./s3-stack";
import { secretsPolicies } from "./secrets";
import { settingsPolicy } from "./settings";
import { stackPolicies } from "./stack";

export const PACK_NAME = "oauth2-dr";
export const PACK_ENFORCEMENT_LEVEL = "mandatory" as const;

export const ALL_POLICIES: Policies = [
    settingsPolicy as Policies[number],
    ...rdsPolicies,
    awsBackupPlanRetention,
    ...azurePolicies,
    ...cloudSqlPolicies,
    ...s3Policies,
    ...s3StackPolicies,
    ...secretsPolicies,
    ...logPolicies,
    ...dnsPolicies,
    ...kubernetesPolicies,
    ...stackPolicies,
    ...immutabilityPolicies,
];

/**
 * The policies as the pack runs them: `oauth2-dr-settings` first. The other policies read the settings it last
 * recorded in this process (settings.ts), so a subset run without it would judge by whatever settings an earlier
 * evaluation in the same process left behind (a waiver lowering a row, say), not by this evaluation's config.
 */
export function settingsFirst(policies: Policies): Policies {
    const settings = settingsPolicy as Policies[number];
    return policies[0] === settings ? policies : [settings, ...policies.filter((p) => p !== settings)];
}
