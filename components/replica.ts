/**
 * The DR region's copy of the database: a cross-region read replica streaming from the prod instance
 * (RPO of seconds, promoted in a regional failover) and a replication of prod's automated backups into
 * the DR region, so point-in-time restore still works when the primary region is gone.
 */
import * as pulumi from "@pulumi/pulumi";
import * as rds from "@pulumi/aws/rds";
import { customerManagedKey } from "./kms";
import { rdsBaseline, rdsSubnetGroup } from "./rds-baseline";

export interface CrossRegionReplicaArgs {
    identifier: string;
    /** ARN of the prod instance, read from the prod stack (a cross-region source must be an ARN). */
    sourceDbInstanceArn: pulumi.Input<string>;
    instanceClass: pulumi.Input<string>;
    /** Kept on the replica so it already has automated backups the moment it is promoted. */
    backupRetentionDays: pulumi.Input<number>;
    backupWindow: pulumi.Input<string>;
    maintenanceWindow: pulumi.Input<string>;
    multiAz: pulumi.Input<boolean>;
    maxAllocatedStorageGb: pulumi.Input<number>;
    subnetIds: pulumi.Input<pulumi.Input<string>[]>;
    securityGroupIds: pulumi.Input<pulumi.Input<string>[]>;
    /** Promote the replica to a standalone primary (regional failover): removes the replication source. */
    promote: boolean;
    accountId: pulumi.Input<string>;
    /** The key's deletion guard (components/kms.ts): only this role may schedule its deletion or disable it. */
    breakGlassRoleArn?: string;
    logGroups?: pulumi.Resource[];
    tags: Record<string, string>;
}

export class CrossRegionReplica extends pulumi.ComponentResource {
    readonly arn: pulumi.Output<string>;
    readonly identifier: pulumi.Output<string>;
    readonly address: pulumi.Output<string>;
    readonly port: pulumi.Output<number>;
    readonly kmsKeyArn: pulumi.Output<string>;
    readonly automatedBackupsReplicationId: pulumi.Output<string>;
    /** For a restored copy in the DR region (components/restore.ts). */
    readonly subnetGroupName: pulumi.Output<string>;

    constructor(name: string, args: CrossRegionReplicaArgs, opts?: pulumi.ComponentResourceOptions) {
        super("oauth2-dr:database:CrossRegionReplica", name, {}, opts);
        const tags = { ...args.tags, "oauth2-dr/data-class": "database" };

        const key = customerManagedKey(`${args.identifier}-storage`, {
            description: `Storage and backups of ${args.identifier} in the DR region`,
            accountId: args.accountId,
            breakGlassRoleArn: args.breakGlassRoleArn,
            tags,
        }, this);

        const subnetGroup = rdsSubnetGroup(args.identifier, args.subnetIds, tags, this);

        const replica = new rds.Instance(args.identifier, {
            identifier: args.identifier,
            // Engine, version, database and credentials come from the source; an empty source promotes.
            replicateSourceDb: args.promote ? undefined : args.sourceDbInstanceArn,
            instanceClass: args.instanceClass,
            ...rdsBaseline({
                identifier: args.identifier,
                kmsKeyArn: key.arn,
                backupRetentionDays: args.backupRetentionDays,
                backupWindow: args.backupWindow,
                maintenanceWindow: args.maintenanceWindow,
                multiAz: args.multiAz,
                maxAllocatedStorageGb: args.maxAllocatedStorageGb,
                subnetGroupName: subnetGroup.name,
                securityGroupIds: args.securityGroupIds,
                // Once promoted it is a primary and, like the primary, is snapshotted on delete.
                finalSnapshot: args.promote,
            }),
            performanceInsightsEnabled: true,
            performanceInsightsKmsKeyId: key.arn,
            applyImmediately: args.promote,
            tags: { ...tags, "oauth2-dr/replica-of": "oauth2-postgres", "oauth2-dr/promoted": String(args.promote) },
        }, { parent: this, protect: true, dependsOn: args.logGroups });

        // Point-in-time restore in the DR region, independent of the replica: prod's automated backups and
        // transaction logs copied here, kept as long as the table asks, encrypted with the DR key.
        const backupsReplication = new rds.InstanceAutomatedBackupsReplication(`${args.identifier}-pitr`, {
            sourceDbInstanceArn: args.sourceDbInstanceArn,
            retentionPeriod: args.backupRetentionDays,
            kmsKeyId: key.arn,
        }, { parent: this, protect: true });

        this.arn = replica.arn;
        this.identifier = replica.identifier;
        this.address = replica.address;
        this.port = replica.port;
        this.kmsKeyArn = key.arn;
        this.automatedBackupsReplicationId = backupsReplication.id;
        this.subnetGroupName = subnetGroup.name;
        this.registerOutputs({ arn: this.arn, identifier: this.identifier, address: this.address });
    }
}
