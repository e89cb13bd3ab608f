/**
 * Restore as configuration: the runbook's "Database Restore" commands (restore-db-instance-from-db-snapshot,
 * az postgres flexible-server restore, gcloud sql backups restore) become a reviewed change. Setting
 * `restore.fromSnapshot` or `restore.pointInTime` declares `oauth2-postgres-restored` BESIDE the running
 * instance; the running instance's inputs are not touched, so `pulumi preview` shows exactly one new
 * database (plus nothing else). Cutting the application over is a second, separate change (docs/runbook.md).
 *
 *  - AWS: snapshotIdentifier, or restoreToPointInTime from the source instance (prod) or from the automated
 *    backups replicated into the DR region (dr stack: usable when the primary region is gone).
 *  - Azure: createMode PointInTimeRestore + sourceServerResourceId + pointInTimeUTC.
 *  - Cloud SQL: restoreBackupContext (a backup id) or clone { sourceInstanceName, pointInTime }.
 */
import * as pulumi from "@pulumi/pulumi";
import * as rds from "@pulumi/aws/rds";
import * as dbforpostgresql from "@pulumi/azure-native/dbforpostgresql";
import * as sql from "@pulumi/gcp/sql";
import { rdsBaseline } from "./rds-baseline";
import { azureServerSettings, AzureServerCommon } from "./azure-database";
import { gcpSettings, GcpInstanceCommon } from "./gcp-database";
import { DATABASE_NAME, POSTGRES_PORT, RESTORED_IDENTIFIER } from "./database-interface";

/** Tags that must not follow data onto the restored copy (it is not yet the backed-up primary). */
export const BACKUP_SELECTION_TAG = { key: "backup-plan", value: "oauth2-dr" } as const;

/** What to restore: a snapshot (RDS snapshot id or ARN, Cloud SQL backup id) or a point in time (UTC, RFC 3339). */
export type RestoreSource =
    | { mode: "snapshot"; fromSnapshot: string }
    | { mode: "pointInTime"; pointInTime: string };

export interface AwsRestoreArgs {
    cloud: "aws";
    restore: RestoreSource;
    /** Point-in-time source on the primary stack: the running instance's identifier. */
    sourceDbInstanceIdentifier?: pulumi.Input<string>;
    /** Point-in-time source on the dr stack: the ARN of prod's automated backups replicated into the DR region. */
    sourceAutomatedBackupsArn?: pulumi.Input<string>;
    instanceClass: pulumi.Input<string>;
    maxAllocatedStorageGb: pulumi.Input<number>;
    subnetGroupName: pulumi.Input<string>;
    parameterGroupName?: pulumi.Input<string>;
    securityGroupIds: pulumi.Input<pulumi.Input<string>[]>;
    kmsKeyArn: pulumi.Input<string>;
    backupRetentionDays: pulumi.Input<number>;
    backupWindow: pulumi.Input<string>;
    maintenanceWindow: pulumi.Input<string>;
    multiAz: pulumi.Input<boolean>;
    tags: Record<string, string>;
}

/** The server's settings as the running one's; the restored copy gets its own name (RESTORED_IDENTIFIER). */
export interface AzureRestoreArgs extends Omit<AzureServerCommon, "serverName"> {
    cloud: "azure";
    pointInTime: string;
    sourceServerResourceId: pulumi.Input<string>;
}

export interface GcpRestoreArgs extends Omit<GcpInstanceCommon, "instanceName"> {
    cloud: "gcp";
    restore: RestoreSource;
    sourceInstanceName: pulumi.Input<string>;
}

export type RestoredDatabaseArgs = AwsRestoreArgs | AzureRestoreArgs | GcpRestoreArgs;

/** Where the restored copy answers: what the component exposes, whichever cloud declared it. */
interface RestoredEndpoint {
    identifier: pulumi.Output<string>;
    address: pulumi.Output<string>;
    port: pulumi.Output<number>;
}

export class RestoredDatabase extends pulumi.ComponentResource {
    readonly identifier: pulumi.Output<string>;
    readonly address: pulumi.Output<string>;
    readonly port: pulumi.Output<number>;
    readonly databaseName = DATABASE_NAME;

    constructor(name: string, args: RestoredDatabaseArgs, opts?: pulumi.ComponentResourceOptions) {
        super("oauth2-dr:database:RestoredDatabase", name, {}, opts);
        const restored = this.restoredInstance(args);
        this.identifier = restored.identifier;
        this.address = restored.address;
        this.port = restored.port;
        this.registerOutputs({ identifier: this.identifier, address: this.address });
    }

    private restoredInstance(args: RestoredDatabaseArgs): RestoredEndpoint {
        switch (args.cloud) {
            case "aws":
                return this.rdsInstance(args);
            case "azure":
                return this.azureServer(args);
            case "gcp":
                return this.cloudSqlInstance(args);
        }
    }

    /** A restored copy holds production data: protected like the original. */
    private protectedChild(): pulumi.CustomResourceOptions {
        return { parent: this, protect: true };
    }

    /** RDS: restore-db-instance-from-db-snapshot or restore-db-instance-to-point-in-time, with the running instance's baseline. */
    private rdsInstance(args: AwsRestoreArgs): RestoredEndpoint {
        const instance = new rds.Instance(RESTORED_IDENTIFIER, {
            identifier: RESTORED_IDENTIFIER,
            ...rdsRestoreSource(args),
            instanceClass: args.instanceClass,
            ...rdsBaseline({
                identifier: RESTORED_IDENTIFIER,
                kmsKeyArn: args.kmsKeyArn,
                backupRetentionDays: args.backupRetentionDays,
                backupWindow: args.backupWindow,
                maintenanceWindow: args.maintenanceWindow,
                multiAz: args.multiAz,
                maxAllocatedStorageGb: args.maxAllocatedStorageGb,
                subnetGroupName: args.subnetGroupName,
                securityGroupIds: args.securityGroupIds,
                finalSnapshot: true,
            }),
            parameterGroupName: args.parameterGroupName,
            tags: {
                ...withoutBackupSelectionTag(args.tags),
                "oauth2-dr/data-class": "database",
                "oauth2-dr/restored-from": restoredFromTag(args.restore),
            },
        }, this.protectedChild());
        return { identifier: instance.identifier, address: instance.address, port: instance.port };
    }

    /** Azure Flexible Server: az postgres flexible-server restore (a point in time of the source's backups). */
    private azureServer(args: AzureRestoreArgs): RestoredEndpoint {
        const server = new dbforpostgresql.Server(RESTORED_IDENTIFIER, {
            ...azureServerSettings({ ...args, serverName: RESTORED_IDENTIFIER }, true),
            createMode: "PointInTimeRestore",
            sourceServerResourceId: args.sourceServerResourceId,
            pointInTimeUTC: args.pointInTime,
        }, this.protectedChild());
        return { identifier: server.name, address: server.fullyQualifiedDomainName, port: pulumi.output(POSTGRES_PORT) };
    }

    /** Cloud SQL: gcloud sql backups restore (a backup run) or a clone at a point in time. */
    private cloudSqlInstance(args: GcpRestoreArgs): RestoredEndpoint {
        const common = { ...args, instanceName: RESTORED_IDENTIFIER };
        const instance = new sql.DatabaseInstance(RESTORED_IDENTIFIER, {
            name: RESTORED_IDENTIFIER,
            project: args.project,
            region: args.region,
            databaseVersion: `POSTGRES_${args.version.split(".")[0]}`,
            deletionProtection: true,
            ...cloudSqlRestoreSource(args),
            settings: gcpSettings(common, true),
        }, { ...this.protectedChild(), ignoreChanges: ["settings.diskSize"] });
        return { identifier: instance.name, address: instance.privateIpAddress, port: pulumi.output(POSTGRES_PORT) };
    }
}

/** The copy is not yet the backed-up primary: AWS Backup's selection tag must not follow the data onto it. */
function withoutBackupSelectionTag(tags: Record<string, string>): Record<string, string> {
    return Object.fromEntries(Object.entries(tags).filter(([k]) => k !== BACKUP_SELECTION_TAG.key));
}

/**
 * A snapshot, or a point in time of the source instance (prod) or of prod's automated backups replicated into
 * the DR region (dr stack: usable when the primary region is gone).
 */
function rdsRestoreSource(args: AwsRestoreArgs): Pick<rds.InstanceArgs, "snapshotIdentifier" | "restoreToPointInTime"> {
    if (args.restore.mode === "snapshot") {
        return { snapshotIdentifier: args.restore.fromSnapshot };
    }
    return {
        restoreToPointInTime: {
            restoreTime: args.restore.pointInTime,
            ...(args.sourceAutomatedBackupsArn
                ? { sourceDbInstanceAutomatedBackupsArn: args.sourceAutomatedBackupsArn }
                : { sourceDbInstanceIdentifier: args.sourceDbInstanceIdentifier }),
        },
    };
}

/** What the copy was restored from, as a tag value: characters outside `\w.:/=+@-` in a snapshot id become `_`. */
function restoredFromTag(restore: RestoreSource): string {
    return restore.mode === "snapshot" ? restore.fromSnapshot.replace(/[^\w.:/=+@-]/g, "_") : `pitr ${restore.pointInTime}`;
}

function cloudSqlRestoreSource(args: GcpRestoreArgs): Pick<sql.DatabaseInstanceArgs, "restoreBackupContext" | "clone"> {
    return args.restore.mode === "snapshot"
        ? { restoreBackupContext: { backupRunId: Number(args.restore.fromSnapshot), instanceId: args.sourceInstanceName, project: args.project } }
        : { clone: { sourceInstanceName: args.sourceInstanceName, pointInTime: args.restore.pointInTime } };
}
