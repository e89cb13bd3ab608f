/**
 * The settings every RDS instance of this program shares, whatever its role (primary, DR replica, restored
 * copy): private, encrypted with a customer-managed key, backed up in the window for the table's retention,
 * its automated backups kept after deletion, deletion refused, and a final snapshot when RDS allows one.
 * One place, so a restored or promoted instance can never be declared with weaker backups than the primary.
 */
import * as pulumi from "@pulumi/pulumi";
import * as rds from "@pulumi/aws/rds";

/** Exported to CloudWatch Logs; the log groups are pre-created by AuditLogs with the audit retention. */
export const RDS_LOG_EXPORTS = ["postgresql", "upgrade"];

export interface RdsBaselineArgs {
    identifier: string;
    kmsKeyArn: pulumi.Input<string>;
    backupRetentionDays: pulumi.Input<number>;
    backupWindow: pulumi.Input<string>;
    maintenanceWindow: pulumi.Input<string>;
    multiAz: pulumi.Input<boolean>;
    maxAllocatedStorageGb: pulumi.Input<number>;
    subnetGroupName: pulumi.Input<string>;
    securityGroupIds: pulumi.Input<pulumi.Input<string>[]>;
    /** False for a read replica: RDS refuses a final snapshot of one (its data is the source's). */
    finalSnapshot: boolean;
}

export function rdsBaseline(args: RdsBaselineArgs): Partial<rds.InstanceArgs> {
    return {
        storageType: "gp3",
        storageEncrypted: true,
        kmsKeyId: args.kmsKeyArn,
        maxAllocatedStorage: args.maxAllocatedStorageGb,
        multiAz: args.multiAz,
        dbSubnetGroupName: args.subnetGroupName,
        vpcSecurityGroupIds: args.securityGroupIds,
        publiclyAccessible: false,
        // Backups: daily snapshots in the window plus continuous WAL archiving (point-in-time restore).
        backupRetentionPeriod: args.backupRetentionDays,
        backupWindow: args.backupWindow,
        maintenanceWindow: args.maintenanceWindow,
        copyTagsToSnapshot: true,
        deleteAutomatedBackups: false,
        // Nothing is lost: deletion is refused, and if forced, a final snapshot is taken first.
        deletionProtection: true,
        skipFinalSnapshot: !args.finalSnapshot,
        finalSnapshotIdentifier: args.finalSnapshot ? `${args.identifier}-final` : undefined,
        enabledCloudwatchLogsExports: RDS_LOG_EXPORTS,
    };
}

/** The instance's subnet group over existing private subnets. */
export function rdsSubnetGroup(identifier: string, subnetIds: pulumi.Input<pulumi.Input<string>[]>, tags: Record<string, string>, parent: pulumi.Resource): rds.SubnetGroup {
    return new rds.SubnetGroup(`${identifier}-subnets`, {
        name: `${identifier}-subnets`,
        subnetIds,
        description: `Private subnets of ${identifier}`,
        tags,
    }, { parent });
}
