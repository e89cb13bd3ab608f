/**
 * The database on Google Cloud: Cloud SQL for PostgreSQL `oauth2-postgres` (the runbook's "Google Cloud SQL"
 * commands as declared settings). The "Database (PostgreSQL)" row of the retention table: daily backups that
 * start at the backup window, point-in-time recovery from 30 days of transaction log (Enterprise Plus), 30
 * retained backups (Cloud SQL counts backups, not days), regional availability (a standby in a second zone), deletion protection at both
 * the Pulumi and the GCP level. The standby stack declares a cross-region read replica (masterInstanceName);
 * `promote: true` turns it into a standalone instance with its own backups.
 */
import * as pulumi from "@pulumi/pulumi";
import * as sql from "@pulumi/gcp/sql";
import * as random from "@pulumi/random";
import { connectionUrl, DATABASE_NAME, DatabaseOutputs, gcpLabels, POSTGRES_PORT } from "./database-interface";

export const GCP_ADMIN_USER = "oauth2admin";

export interface GcpInstanceCommon {
    instanceName: string;
    project: string;
    region: string;
    /** PostgreSQL major version, e.g. "15" (POSTGRES_15). */
    version: string;
    tier: string;
    edition: string;
    diskSizeGb: number;
    maxDiskSizeGb: number;
    privateNetwork: string;
    /** Backups start at the beginning of the backup window (hh24:mi UTC). */
    backupStartTime: string;
    backupLocation?: string;
    /** Retained daily backups (COUNT): the table's 30 days of daily backups. */
    retainedBackups: number;
    /**
     * Days of transaction log, the point-in-time window: the row's 30 ("continuous + daily, 30 days"). Cloud SQL
     * keeps 1-35 on Enterprise Plus and 1-7 on Enterprise (https://cloud.google.com/sql/docs/mysql/backup-recovery/configure-pitr;
     * the provider's transactionLogRetentionDays: "For PostgreSQL Enterprise Plus ... from 1 to 35"), so our
     * stacks run Enterprise Plus (`edition`, a db-perf-optimized-N-* `tier`).
     */
    transactionLogRetentionDays: number;
    maintenanceStart: { dayOfWeek: number; hour: number };
    tags: Record<string, string>;
}

export interface GcpDatabaseArgs extends GcpInstanceCommon {
    role: "primary";
}

export interface GcpReplicaArgs extends GcpInstanceCommon {
    role: "replica";
    /** Name of the primary instance (same project), from the prod stack. */
    masterInstanceName: pulumi.Input<string>;
    administratorPassword: pulumi.Input<string>;
    promote: boolean;
}

/** Backup settings of a serving (non-replica) instance: the table's retention. */
export function gcpBackupConfiguration(args: GcpInstanceCommon) {
    return {
        enabled: true,
        startTime: args.backupStartTime,
        location: args.backupLocation,
        pointInTimeRecoveryEnabled: true,
        transactionLogRetentionDays: args.transactionLogRetentionDays,
        backupRetentionSettings: { retainedBackups: args.retainedBackups, retentionUnit: "COUNT" },
    };
}

/** The settings block every instance of ours declares; replicas have no backups of their own until promoted. */
export function gcpSettings(args: GcpInstanceCommon, serving: boolean) {
    // Cloud SQL numbers days 1 (Monday) to 7 (Sunday); ours are 0 (Sunday) to 6.
    const day = args.maintenanceStart.dayOfWeek === 0 ? 7 : args.maintenanceStart.dayOfWeek;
    return {
        tier: args.tier,
        edition: args.edition,
        availabilityType: "REGIONAL",
        diskType: "PD_SSD",
        diskSize: args.diskSizeGb,
        diskAutoresize: true,
        diskAutoresizeLimit: args.maxDiskSizeGb,
        deletionProtectionEnabled: true,
        retainBackupsOnDelete: true,
        backupConfiguration: serving ? gcpBackupConfiguration(args) : undefined,
        ipConfiguration: { ipv4Enabled: false, privateNetwork: args.privateNetwork, sslMode: "ENCRYPTED_ONLY" },
        maintenanceWindow: { day, hour: args.maintenanceStart.hour, updateTrack: "stable" },
        databaseFlags: [
            { name: "log_connections", value: "on" },
            { name: "log_disconnections", value: "on" },
        ],
        userLabels: gcpLabels({ ...args.tags, "data-class": "database" }),
    };
}

export class GcpDatabase extends pulumi.ComponentResource implements DatabaseOutputs {
    readonly cloud = "gcp" as const;
    readonly identifier: pulumi.Output<string>;
    readonly resourceId: pulumi.Output<string>;
    readonly address: pulumi.Output<string>;
    readonly port: pulumi.Output<number>;
    readonly databaseName = DATABASE_NAME;
    readonly connectionUrl: pulumi.Output<string>;
    readonly administratorPassword: pulumi.Output<string>;
    /** project:region:instance, for the Cloud SQL Auth Proxy. */
    readonly connectionName: pulumi.Output<string>;
    readonly instance: sql.DatabaseInstance;

    constructor(name: string, args: GcpDatabaseArgs | GcpReplicaArgs, opts?: pulumi.ComponentResourceOptions) {
        super("oauth2-dr:database:GcpDatabase", name, {}, opts);
        // Disk size grows by itself (diskAutoresize): never shrink it back to the declared size.
        const instanceOpts: pulumi.CustomResourceOptions = { parent: this, protect: true, ignoreChanges: ["settings.diskSize"] };
        let password: pulumi.Output<string>;
        if (args.role === "primary") {
            this.instance = new sql.DatabaseInstance(args.instanceName, {
                name: args.instanceName,
                project: args.project,
                region: args.region,
                databaseVersion: `POSTGRES_${args.version.split(".")[0]}`,
                deletionProtection: true,
                settings: gcpSettings(args, true),
            }, instanceOpts);
            const generated = new random.RandomPassword(`${args.instanceName}-admin-password`, {
                length: 40,
                special: true,
                overrideSpecial: "!#$%^&*()-_=+[]{}<>:?",
            }, { parent: this });
            password = pulumi.secret(generated.result);
            new sql.User(`${args.instanceName}-${GCP_ADMIN_USER}`, {
                project: args.project,
                instance: this.instance.name,
                name: GCP_ADMIN_USER,
                password,
                deletionPolicy: "ABANDON",
            }, { parent: this });
            new sql.Database(`${args.instanceName}-${DATABASE_NAME}`, {
                project: args.project,
                instance: this.instance.name,
                name: DATABASE_NAME,
                charset: "UTF8",
                deletionPolicy: "ABANDON",
            }, { parent: this, protect: true });
        } else {
            password = pulumi.secret(pulumi.output(args.administratorPassword));
            // Promotion: no master, a standalone instance type, and the primary's backup settings.
            this.instance = new sql.DatabaseInstance(args.instanceName, {
                name: args.instanceName,
                project: args.project,
                region: args.region,
                databaseVersion: `POSTGRES_${args.version.split(".")[0]}`,
                masterInstanceName: args.promote ? undefined : args.masterInstanceName,
                instanceType: args.promote ? "CLOUD_SQL_INSTANCE" : "READ_REPLICA_INSTANCE",
                deletionProtection: true,
                settings: gcpSettings(args, args.promote),
            }, instanceOpts);
        }
        this.identifier = this.instance.name;
        this.resourceId = this.instance.selfLink;
        this.address = this.instance.privateIpAddress;
        this.port = pulumi.output(POSTGRES_PORT);
        this.connectionName = this.instance.connectionName;
        this.administratorPassword = password;
        this.connectionUrl = connectionUrl(GCP_ADMIN_USER, password, this.address, POSTGRES_PORT);
        this.registerOutputs({ identifier: this.identifier, resourceId: this.resourceId, address: this.address });
    }
}
