/**
 * The organization service control policy (SCP) that closes the two gaps no guard inside an account can
 * (docs/runbook.md, "The break-glass role"):
 *  - a key's deployer (an administrator whose account root has `kms:*` in the key policy) can
 *    `kms:PutKeyPolicy` the key's guard away; a key policy cannot deny that to its own administrators without
 *    locking the key;
 *  - a production administrator with `iam:UpdateAssumeRolePolicy` (or a policy attach/put on the role) can make
 *    itself the break-glass role, which every guard exempts.
 *  - RDS's automated backups of our instances: DeleteDBInstanceAutomatedBackup and
 *    StopDBInstanceAutomatedBackupsReplication (no resource policy exists for an RDS instance).
 * An SCP is evaluated before any identity or resource policy of the member accounts and binds their
 * administrators and roots. It is created in the organization's management account (or an account delegated
 * for Organizations policies), which none of this program's stacks deploys into: so it is generated here
 * (`npm run --silent scp > docs/organization-scp.json`), tested, and applied with the commands of
 * docs/runbook.md. `npm run check` says whether a checked program declares it.
 */

import { BACKUP_BUCKET_PREFIX } from "./names";

/** Our KMS keys carry the stack tag project=oauth2-dr (stacks/compose-common.ts stackTags). */
export const PROJECT_TAG = { key: "project", value: "oauth2-dr" };

/** The organization's security principal: the only one that may change a break-glass role (any member account). */
export const DEFAULT_SECURITY_PRINCIPAL = "arn:aws:iam::*:role/oauth2-dr-organization-security";

/** What changes a role's trust or permissions: each lets its caller become the role or change what it may do. */
export const BREAK_GLASS_ROLE_CHANGES = [
    "iam:UpdateAssumeRolePolicy",
    "iam:PutRolePolicy",
    "iam:AttachRolePolicy",
    "iam:DeleteRolePolicy",
    "iam:DetachRolePolicy",
    "iam:PutRolePermissionsBoundary",
    "iam:DeleteRolePermissionsBoundary",
    "iam:DeleteRole",
    "iam:TagRole",
    "iam:UntagRole",
];

/**
 * The restore verification's roles (prod's and dr's oauth2-dr-verification-<stack>, stacks/aws.ts
 * verificationRoleName; the vault's key reader oauth2-dr-verification-keys): the vault's key reader trusts the first
 * by aws:PrincipalArn, so an administrator who re-trusts one of them (iam:UpdateAssumeRolePolicy) and assumes it
 * reads the private keys of every backup. Only a break-glass role or security may create or change them.
 */
export const VERIFICATION_ROLE_ARNS = ["arn:aws:iam::*:role/oauth2-dr-verification-*"];

/** What removes or weakens a key's guard, or the key. */
/** (Tag changes too: the SCP finds our keys by their project tag, which must not be removed or changed first.) */
export const KEY_GUARD_CHANGES = ["kms:PutKeyPolicy", "kms:ScheduleKeyDeletion", "kms:DisableKey", "kms:UntagResource", "kms:TagResource"];

/**
 * What deletes or stops RDS's own automated backups of our tagged instances (the database row's point-in-time
 * window) that an IAM policy can name: DeleteDBInstanceAutomatedBackup (resource auto-backup, which carries its
 * instance's tags) and StopDBInstanceAutomatedBackupsReplication (resource db). ModifyDBInstance with
 * BackupRetentionPeriod 0 deletes them too, and cannot be told apart: the Service Authorization Reference lists
 * no condition key of ModifyDBInstance for the retention (only rds:ManageMasterUserPassword and the resource's
 * tags), and denying ModifyDBInstance would stop every change to the instance; the locked AWS Backup vaults
 * hold the row against it (docs/runbook.md, "What no guard refuses").
 */
export const RDS_BACKUP_GUARD_CHANGES = ["rds:DeleteDBInstanceAutomatedBackup", "rds:StopDBInstanceAutomatedBackupsReplication"];

/** Adding or removing the project tag of an RDS resource (the statement above finds them by it). */
export const RDS_TAG_CHANGES = ["rds:AddTagsToResource", "rds:RemoveTagsFromResource"];

/**
 * Leaving the organization takes the account out of every statement here at once (the SCP binds member accounts
 * only): a production root or administrator with organizations:LeaveOrganization would leave, then re-policy the
 * keys. Only the security principal may (AWS Organizations API Reference, LeaveOrganization: "The management
 * account ... can set service control policies (SCPs) that can restrict what administrators of member accounts
 * can do. This includes preventing them from successfully calling LeaveOrganization").
 */
export const ORGANIZATION_EXIT = ["organizations:LeaveOrganization"];

/**
 * What changes a backup bucket's guards and retention without touching a locked version: its policy (the lock
 * floor and the encryption key pin: the bucket owner's root may always PutBucketPolicy/DeleteBucketPolicy, even
 * against a Deny in the policy itself, and only VPC endpoint policies and Organizations policies can stop it: S3
 * API Reference, DeleteBucketPolicy), its default retention (new versions), its lifecycle, its replication (cut,
 * re-pointed, delete markers), its default encryption (to a key of the attacker's) and its versioning.
 * Nothing here touches a version COMPLIANCE already holds; each lets the next backups be shorter-lived or miss
 * the vault. s3:PutReplicationConfiguration also covers DeleteBucketReplication, s3:PutLifecycleConfiguration
 * DeleteBucketLifecycle, s3:PutEncryptionConfiguration DeleteBucketEncryption.
 */
export const BUCKET_GUARD_CHANGES = [
    "s3:PutBucketPolicy",
    "s3:DeleteBucketPolicy",
    "s3:PutBucketObjectLockConfiguration",
    "s3:PutLifecycleConfiguration",
    "s3:PutReplicationConfiguration",
    "s3:PutEncryptionConfiguration",
    "s3:PutBucketVersioning",
];

/** The backup buckets of every stack by name (S3 has no tag condition for bucket configuration calls): oauth2-backups-<stack>, oauth2-audit-<stack>, and the vault's. */
export const BACKUP_BUCKET_ARNS = [`arn:aws:s3:::${BACKUP_BUCKET_PREFIX}-*`, "arn:aws:s3:::oauth2-audit-*"];

/**
 * The calls that leave an alarm topic standing but delivering to nobody: its endpoints unsubscribed, or given a
 * filter policy no message matches (h32). They name a subscription's ARN, `<topic ARN>:<id>`.
 */
export const ALARM_SUBSCRIPTION_CHANGES = ["sns:Unsubscribe", "sns:SetSubscriptionAttributes"];

/**
 * What silences the retention alarm (components/retention-alarm.ts) before the call it watches: the trail
 * EventBridge needs for CloudTrail's events (stopped, deleted, or its selectors narrowed), the rules (disabled,
 * deleted, re-patterned, their target removed) and the alarm topic (deleted, its policy rewritten so that
 * EventBridge may not publish, or its endpoints unsubscribed or given a filter policy no message matches: the topic
 * stands and delivers to nobody, h32; denied on the topic and on its subscriptions' ARNs, `<topic ARN>:<id>`, the
 * ARN Unsubscribe and SetSubscriptionAttributes name). The alarm on ModifyDBInstance retention 0 is only an alarm
 * while these stand.
 */
export const ALARM_CHAIN_CHANGES = [
    "cloudtrail:StopLogging",
    "cloudtrail:DeleteTrail",
    "cloudtrail:UpdateTrail",
    "cloudtrail:PutEventSelectors",
    "events:DisableRule",
    "events:DeleteRule",
    "events:PutRule",
    "events:RemoveTargets",
    "events:PutTargets",
    "sns:DeleteTopic",
    "sns:SetTopicAttributes",
    "sns:RemovePermission",
    ...ALARM_SUBSCRIPTION_CHANGES,
];

/**
 * What removes the audit row's first copy or stops its archive (components/audit-logs.ts, audit-archive.ts): the
 * log groups deleted or their retention lowered, the subscription filter to Firehose removed or replaced, the
 * delivery stream deleted or re-pointed. The archive already delivered stays locked (oauth2-audit-<stack>, 365
 * days); these end the copies after it.
 */
export const AUDIT_LOG_CHANGES = [
    "logs:DeleteLogGroup",
    "logs:PutRetentionPolicy",
    "logs:DeleteSubscriptionFilter",
    "logs:PutSubscriptionFilter",
    "logs:DisassociateKmsKey",
    "firehose:DeleteDeliveryStream",
    "firehose:UpdateDestination",
];

/**
 * What removes or weakens an AWS Backup vault's lock before it is immutable (components/aws-backup.ts,
 * changeableForDays: during those days DeleteBackupVaultLockConfiguration / PutBackupVaultLockConfiguration are
 * accepted, AWS Backup Developer Guide "Vault Lock"), and the vault's access policy. A lock in its grace time still
 * refuses DeleteRecoveryPoint; removed, it refuses nothing.
 */
export const BACKUP_VAULT_CHANGES = [
    "backup:DeleteBackupVaultLockConfiguration",
    "backup:PutBackupVaultLockConfiguration",
    "backup:DeleteBackupVaultAccessPolicy",
    "backup:PutBackupVaultAccessPolicy",
    "backup:DeleteBackupVault",
];

/** Every stack's AWS Backup vaults by name (oauth2-dr-vault, oauth2-dr-vault-dr, the vault account's oauth2-dr-isolated). */
export const BACKUP_VAULT_ARNS = ["arn:aws:backup:*:*:backup-vault:oauth2-dr-*"];

/** The audit log groups (/oauth2/…, the RDS exports of oauth2-postgres*) and the archive's delivery stream by name. */
export const AUDIT_LOG_ARNS = ["arn:aws:logs:*:*:log-group:/oauth2/*", "arn:aws:logs:*:*:log-group:/aws/rds/instance/oauth2-postgres*", "arn:aws:firehose:*:*:deliverystream/oauth2-audit-*"];

/** The trails and rules of components/retention-alarm.ts by name (namePrefix: oauth2-dr-<stack>-…), in any region and account of the organization. */
export const ALARM_CHAIN_ARNS = ["arn:aws:cloudtrail:*:*:trail/oauth2-dr-*", "arn:aws:events:*:*:rule/oauth2-dr-*"];

export interface ScpInputs {
    /** The break-glass roles of every account (each stack's breakGlassRoleArn). */
    breakGlassRoleArns: string[];
    /** Principals that may change a break-glass role (the organization's security team). */
    securityPrincipalArns: string[];
    /** The alarm topics the retention alarm notifies (each stack's alarmTopicArn); none: the topic is not guarded. */
    alarmTopicArns?: string[];
}

const ROLE_ARN = /^arn:aws[a-z-]*:iam::(\d{12}|\*):role\/[\w+=,.@/*-]+$/;
const TOPIC_ARN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[\w-]{1,256}$/;

export function scpProblems(inputs: ScpInputs): string[] {
    const problems: string[] = [];
    if (inputs.breakGlassRoleArns.length === 0) {
        problems.push("breakGlassRoleArns: no break-glass role (set oauth2-dr:breakGlassRoleArn in the stack files)");
    }
    for (const [key, arns] of [["breakGlassRoleArns", inputs.breakGlassRoleArns], ["securityPrincipalArns", inputs.securityPrincipalArns]] as const) {
        for (const arn of arns.filter((a) => !ROLE_ARN.test(a))) {
            problems.push(`${key}: ${JSON.stringify(arn)} is not an IAM role ARN (arn:aws:iam::<12-digit account>:role/<name>)`);
        }
    }
    for (const arn of (inputs.alarmTopicArns ?? []).filter((a) => !TOPIC_ARN.test(a))) {
        problems.push(`alarmTopicArns: ${JSON.stringify(arn)} is not an SNS topic ARN (arn:aws:sns:<region>:<12-digit account>:<name>)`);
    }
    if (inputs.securityPrincipalArns.length === 0) {
        problems.push("securityPrincipalArns: no security principal: nobody could ever change a break-glass role");
    }
    return problems;
}

/** The SCP document (at most 5,120 characters, the SCP size limit). */
export function organizationScp(inputs: ScpInputs): { Version: string; Statement: Record<string, unknown>[] } {
    const problems = scpProblems(inputs);
    if (problems.length > 0) {
        throw new Error(`organization SCP: ${problems.join("; ")}`);
    }
    const breakGlass = [...new Set(inputs.breakGlassRoleArns)].sort();
    const security = [...new Set(inputs.securityPrincipalArns)].sort();
    const topics = [...new Set(inputs.alarmTopicArns ?? [])].sort();
    // Each topic and its subscriptions (Unsubscribe and SetSubscriptionAttributes name a subscription's ARN: the topic's and ":<id>").
    const topicsAndSubscriptions = topics.flatMap((topic) => [topic, `${topic}:*`]);
    const exceptBreakGlass = { ArnNotLike: { "aws:PrincipalArn": [...breakGlass, ...security] } };
    // The project's tagged resources, changed only by the break-glass and security roles (`more` narrows the request).
    const projectOnlyByBreakGlass = (sid: string, actions: readonly string[], more: Record<string, unknown> = {}) => ({
        Sid: sid,
        Effect: "Deny",
        Action: actions,
        Resource: "*",
        Condition: {
            StringEquals: { [`aws:ResourceTag/${PROJECT_TAG.key}`]: PROJECT_TAG.value },
            ...more,
            ...exceptBreakGlass,
        },
    });
    const document = {
        Version: "2012-10-17",
        Statement: [
            projectOnlyByBreakGlass("Oauth2DrKeyGuardsOnlyByBreakGlass", KEY_GUARD_CHANGES),
            projectOnlyByBreakGlass("Oauth2DrRdsAutomatedBackupsOnlyByBreakGlass", RDS_BACKUP_GUARD_CHANGES),
            projectOnlyByBreakGlass("Oauth2DrRdsProjectTagOnlyByBreakGlass", RDS_TAG_CHANGES, { "ForAnyValue:StringEquals": { "aws:TagKeys": [PROJECT_TAG.key] } }),
            // One statement for the resources guarded by name (the 5,120 characters do not fit one per group, each
            // repeating the principals): every action names resources of its own service only, so the product of
            // the lists denies nothing more than the groups would one by one.
            {
                Sid: "Oauth2DrBackupConfigurationOnlyByBreakGlass",
                Effect: "Deny",
                Action: [...BUCKET_GUARD_CHANGES, ...ALARM_CHAIN_CHANGES, ...AUDIT_LOG_CHANGES, ...BACKUP_VAULT_CHANGES, "iam:CreateRole", ...BREAK_GLASS_ROLE_CHANGES],
                Resource: [...BACKUP_BUCKET_ARNS, ...ALARM_CHAIN_ARNS, ...topicsAndSubscriptions, ...AUDIT_LOG_ARNS, ...BACKUP_VAULT_ARNS, ...VERIFICATION_ROLE_ARNS],
                Condition: exceptBreakGlass,
            },
            { Sid: "Oauth2DrStayInOrganization", Effect: "Deny", Action: ORGANIZATION_EXIT, Resource: "*", Condition: { ArnNotLike: { "aws:PrincipalArn": security } } },
            {
                Sid: "Oauth2DrBreakGlassRoleOnlyBySecurity",
                Effect: "Deny",
                Action: BREAK_GLASS_ROLE_CHANGES,
                Resource: breakGlass,
                Condition: { ArnNotLike: { "aws:PrincipalArn": security } },
            },
            // Every statement exempts the security principal by ARN, a name any member account could give a role of
            // its own (iam:CreateRole): only the security principal creates or changes a role of that name.
            {
                Sid: "Oauth2DrSecurityRoleOnlyBySecurity",
                Effect: "Deny",
                Action: ["iam:CreateRole", ...BREAK_GLASS_ROLE_CHANGES],
                Resource: security,
                Condition: { ArnNotLike: { "aws:PrincipalArn": security } },
            },
        ],
    };
    const size = JSON.stringify(document).length;
    if (size > 5120) {
        throw new Error(`organization SCP: ${size} characters, above the SCP limit of 5,120`);
    }
    return document;
}

const TARGET = /^(r-[0-9a-z]{4,32}|ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}|\d{12})$/;

/** The organization root, OU or account the SCP is attached to: `r-…`, `ou-…-…` or a 12-digit account id. */
export function checkScpTarget(target: string): string {
    if (!TARGET.test(target)) {
        throw new Error(`organization SCP target ${JSON.stringify(target)} is not an organization root (r-xxxx), an OU (ou-xxxx-xxxxxxxx) or a 12-digit account id`);
    }
    return target;
}
