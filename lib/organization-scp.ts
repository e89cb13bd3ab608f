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

export interface ScpInputs {
    /** The break-glass roles of every account (each stack's breakGlassRoleArn). */
    breakGlassRoleArns: string[];
    /** Principals that may change a break-glass role (the organization's security team). */
    securityPrincipalArns: string[];
}

const ROLE_ARN = /^arn:aws[a-z-]*:iam::(\d{12}|\*):role\/[\w+=,.@/*-]+$/;

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
    // The project's tagged resources, changed only by the break-glass and security roles (`more` narrows the request).
    const projectOnlyByBreakGlass = (sid: string, actions: readonly string[], more: Record<string, unknown> = {}) => ({
        Sid: sid,
        Effect: "Deny",
        Action: actions,
        Resource: "*",
        Condition: {
            StringEquals: { [`aws:ResourceTag/${PROJECT_TAG.key}`]: PROJECT_TAG.value },
            ...more,
            ArnNotLike: { "aws:PrincipalArn": [...breakGlass, ...security] },
        },
    });
    const document = {
        Version: "2012-10-17",
        Statement: [
            projectOnlyByBreakGlass("Oauth2DrKeyGuardsOnlyByBreakGlass", KEY_GUARD_CHANGES),
            projectOnlyByBreakGlass("Oauth2DrRdsAutomatedBackupsOnlyByBreakGlass", RDS_BACKUP_GUARD_CHANGES),
            projectOnlyByBreakGlass("Oauth2DrRdsProjectTagOnlyByBreakGlass", RDS_TAG_CHANGES, { "ForAnyValue:StringEquals": { "aws:TagKeys": [PROJECT_TAG.key] } }),
            {
                Sid: "Oauth2DrBreakGlassRoleOnlyBySecurity",
                Effect: "Deny",
                Action: BREAK_GLASS_ROLE_CHANGES,
                Resource: breakGlass,
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
