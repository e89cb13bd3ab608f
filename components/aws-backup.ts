/**
 * AWS Backup, beyond the runbook: a second, immutable copy of the database that the database's own
 * credentials cannot delete. A vault with its own customer-managed key and a vault lock (recovery points
 * cannot be deleted or shortened below the table's 30 days, not even by the account root once the grace
 * period has passed), a plan with a daily rule kept 30 days (copied to a vault in the DR region with its own
 * key) and a continuous rule (point-in-time restore, at most 35 days), and a selection by tag: every
 * resource tagged `backup-plan: oauth2-dr` (the RDS instance) is backed up.
 */
import * as pulumi from "@pulumi/pulumi";
import * as backup from "@pulumi/aws/backup";
import * as iam from "@pulumi/aws/iam";
import type * as awsInput from "@pulumi/aws/types/input";
import { customerManagedKey } from "./kms";
import { BACKUP_SELECTION_TAG } from "./restore";

export { BACKUP_SELECTION_TAG };

/** AWS Backup keeps continuous (point-in-time) backups at most 35 days. */
export const MAX_CONTINUOUS_RETENTION_DAYS = 35;

export interface AwsBackupArgs {
    region: string;
    drRegion: string;
    /** Days the daily recovery points (and their DR copies) are kept: the table's database retention. */
    retentionDays: number;
    /** Vault lock grace period before it becomes immutable. */
    changeableForDays: number;
    /** The RDS backup window (hh24:mi-hh24:mi): the daily job starts when it ends, not during it. */
    backupWindow: string;
    accountId: pulumi.Input<string>;
    /** The vault keys' deletion guard (components/kms.ts). */
    breakGlassRoleArn?: string;
    /**
     * The vault account's vault (logically air-gapped, or locked): the daily recovery point is also copied
     * there, into an account production credentials cannot reach (same region: RDS copies cross-account or
     * cross-region in one action, not both).
     */
    isolatedVaultArn?: pulumi.Input<string>;
    tags: Record<string, string>;
}

export class AwsBackup extends pulumi.ComponentResource {
    readonly vaultName: pulumi.Output<string>;
    readonly vaultArn: pulumi.Output<string>;
    readonly drVaultName: pulumi.Output<string>;
    readonly drVaultArn: pulumi.Output<string>;
    readonly planId: pulumi.Output<string>;
    readonly roleArn: pulumi.Output<string>;

    constructor(name: string, args: AwsBackupArgs, opts?: pulumi.ComponentResourceOptions) {
        super("oauth2-dr:backup:AwsBackup", name, {}, opts);
        const tags = { ...args.tags, "oauth2-dr/data-class": "database" };
        const primary = this.lockedVault("oauth2-dr-vault", undefined, "AWS Backup vault of the OAuth2 database", args, tags);
        const dr = this.lockedVault("oauth2-dr-vault-dr", args.drRegion, "AWS Backup vault of the OAuth2 database, DR region copies", args, tags);
        const role = this.serviceRole(name, tags);
        const plan = new backup.Plan(`${name}-plan`, {
            name: "oauth2-dr",
            rules: [dailyRule(args, tags, primary.name, dr.arn), continuousRule(args, tags, primary.name)],
            tags,
        }, { parent: this });
        this.taggedResourcesSelection(name, role, plan);

        this.vaultName = primary.name;
        this.vaultArn = primary.arn;
        this.drVaultName = dr.name;
        this.drVaultArn = dr.arn;
        this.planId = plan.id;
        this.roleArn = role.arn;
        this.registerOutputs({ vaultArn: this.vaultArn, drVaultArn: this.drVaultArn, planId: this.planId });
    }

    /**
     * A vault with its own customer-managed key and a vault lock: once the grace period has passed, recovery
     * points cannot be deleted or kept shorter than the retention, not even by the account root.
     */
    private lockedVault(vaultName: string, region: string | undefined, description: string, args: AwsBackupArgs, tags: Record<string, string>): backup.Vault {
        const key = customerManagedKey(vaultName, { description, region, accountId: args.accountId, breakGlassRoleArn: args.breakGlassRoleArn, tags }, this);
        const vault = new backup.Vault(vaultName, {
            name: vaultName,
            kmsKeyArn: key.arn,
            forceDestroy: false,
            region,
            tags,
        }, { parent: this, protect: true });
        new backup.VaultLockConfiguration(vaultName, {
            backupVaultName: vault.name,
            minRetentionDays: args.retentionDays,
            maxRetentionDays: 365,
            changeableForDays: args.changeableForDays,
            region,
        }, { parent: this, protect: true });
        return vault;
    }

    /** The role AWS Backup assumes to back up and restore the selected resources (AWS-managed policies). */
    private serviceRole(name: string, tags: Record<string, string>): iam.Role {
        const role = new iam.Role(`${name}-role`, {
            name: "oauth2-dr-aws-backup",
            description: "AWS Backup: back up and restore the resources tagged backup-plan=oauth2-dr",
            assumeRolePolicy: JSON.stringify({
                Version: "2012-10-17",
                Statement: [{ Effect: "Allow", Principal: { Service: "backup.amazonaws.com" }, Action: "sts:AssumeRole" }],
            }),
            tags,
        }, { parent: this });
        for (const policy of ["AWSBackupServiceRolePolicyForBackup", "AWSBackupServiceRolePolicyForRestores"]) {
            new iam.RolePolicyAttachment(`${name}-${policy}`, {
                role: role.name,
                policyArn: `arn:aws:iam::aws:policy/service-role/${policy}`,
            }, { parent: this });
        }
        return role;
    }

    /** Selection by tag, not by ARN: whatever carries `backup-plan: oauth2-dr` (the RDS instance) is backed up. */
    private taggedResourcesSelection(name: string, role: iam.Role, plan: backup.Plan): void {
        new backup.Selection(`${name}-selection`, {
            name: "oauth2-dr-tagged",
            iamRoleArn: role.arn,
            planId: plan.id,
            selectionTags: [{ type: "STRINGEQUALS", key: BACKUP_SELECTION_TAG.key, value: BACKUP_SELECTION_TAG.value }],
        }, { parent: this });
    }
}

/** The daily recovery point, kept the table's retention and copied (kept as long) into the DR region's vault and the vault account's. */
function dailyRule(args: AwsBackupArgs, tags: Record<string, string>, vaultName: pulumi.Input<string>, drVaultArn: pulumi.Input<string>): awsInput.backup.PlanRule {
    return {
        ruleName: "daily",
        targetVaultName: vaultName,
        schedule: afterBackupWindow(args.backupWindow),
        startWindow: 60,
        completionWindow: 360,
        lifecycle: { deleteAfter: args.retentionDays },
        copyActions: [
            { destinationVaultArn: drVaultArn, lifecycle: { deleteAfter: args.retentionDays } },
            ...(args.isolatedVaultArn ? [{ destinationVaultArn: args.isolatedVaultArn, lifecycle: { deleteAfter: args.retentionDays } }] : []),
        ],
        recoveryPointTags: { ...tags, "oauth2-dr/backup-rule": "daily" },
    };
}

/** Continuous backup: point-in-time restore from the vault, at most MAX_CONTINUOUS_RETENTION_DAYS back. */
function continuousRule(args: AwsBackupArgs, tags: Record<string, string>, vaultName: pulumi.Input<string>): awsInput.backup.PlanRule {
    return {
        ruleName: "continuous",
        targetVaultName: vaultName,
        enableContinuousBackup: true,
        schedule: afterBackupWindow(args.backupWindow),
        startWindow: 60,
        completionWindow: 360,
        // Equal to the RDS retention: AWS Backup manages the instance's automated-backup window once continuous
        // backup is on, and a different value would make the two fight (drift on backupRetentionPeriod).
        lifecycle: { deleteAfter: Math.min(args.retentionDays, MAX_CONTINUOUS_RETENTION_DAYS) },
        recoveryPointTags: { ...tags, "oauth2-dr/backup-rule": "continuous" },
    };
}

/** A daily cron at the end of the RDS backup window (hh24:mi-hh24:mi): the job never runs during RDS's own backup. */
function afterBackupWindow(backupWindow: string): string {
    const windowEnd = backupWindow.split("-")[1];
    const [hour, minute] = windowEnd.split(":").map(Number);
    return `cron(${minute} ${hour} * * ? *)`;
}
