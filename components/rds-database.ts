/**
 * The primary PostgreSQL database on AWS RDS: the "Database (PostgreSQL)" row of the retention table
 * (continuous WAL archiving for point-in-time restore + daily automated snapshots, kept 30 days) and the
 * runbook's "Automated Backups (Cloud Managed)" commands turned into declared, protected settings.
 */
import * as pulumi from "@pulumi/pulumi";
import * as rds from "@pulumi/aws/rds";
import { customerManagedKey } from "./kms";
import { rdsBaseline, rdsSubnetGroup } from "./rds-baseline";
import { connectionUrl, DATABASE_NAME, DatabaseOutputs } from "./database-interface";
import { writeDbCredentials } from "./db-credentials";

export const MASTER_USERNAME = "oauth2admin";
export { RDS_LOG_EXPORTS } from "./rds-baseline";

export interface RdsDatabaseArgs {
    identifier: string;
    instanceClass: pulumi.Input<string>;
    engineVersion: string;
    allocatedStorageGb: pulumi.Input<number>;
    maxAllocatedStorageGb: pulumi.Input<number>;
    /** Days of automated backups (and of the continuous WAL archive, i.e. the point-in-time window). */
    backupRetentionDays: pulumi.Input<number>;
    backupWindow: pulumi.Input<string>;
    maintenanceWindow: pulumi.Input<string>;
    multiAz: pulumi.Input<boolean>;
    subnetIds: pulumi.Input<pulumi.Input<string>[]>;
    securityGroupIds: pulumi.Input<pulumi.Input<string>[]>;
    /** Secret output from @pulumi/random; never a literal. */
    masterPassword: pulumi.Input<string>;
    /** The `oauth2/db-credentials` secret; this component writes the connection details into it. */
    credentialsSecretId: pulumi.Input<string>;
    accountId: pulumi.Input<string>;
    /** The key's deletion guard (components/kms.ts): only this role may schedule its deletion or disable it. */
    breakGlassRoleArn?: string;
    /** More key policy statements (the vault account's use of the key for AWS Backup's cross-account copies). */
    keyStatements?: unknown[];
    /** Log groups that must exist (with their retention) before RDS starts exporting to them. */
    logGroups?: pulumi.Resource[];
    tags: Record<string, string>;
}

/** The primary on RDS; its type token keeps the name it was first deployed under (PostgresDatabase). */
export class RdsDatabase extends pulumi.ComponentResource implements DatabaseOutputs {
    readonly cloud = "aws" as const;
    readonly arn: pulumi.Output<string>;
    /** The ARN, as DatabaseOutputs names the cloud's id of the instance. */
    readonly resourceId: pulumi.Output<string>;
    readonly identifier: pulumi.Output<string>;
    readonly address: pulumi.Output<string>;
    readonly port: pulumi.Output<number>;
    readonly databaseName: string = DATABASE_NAME;
    readonly kmsKeyArn: pulumi.Output<string>;
    /** postgresql://user:password@host:port/db, secret. */
    readonly connectionUrl: pulumi.Output<string>;
    /** The subnet and parameter groups, for a restored copy beside this instance (components/restore.ts). */
    readonly subnetGroupName: pulumi.Output<string>;
    readonly parameterGroupName: pulumi.Output<string>;

    constructor(name: string, args: RdsDatabaseArgs, opts?: pulumi.ComponentResourceOptions) {
        super("oauth2-dr:database:PostgresDatabase", name, {}, opts);
        const tags = { ...args.tags, "oauth2-dr/data-class": "database" };

        const key = customerManagedKey(`${args.identifier}-storage`, {
            description: `Storage, snapshots and automated backups of ${args.identifier}`,
            accountId: args.accountId,
            breakGlassRoleArn: args.breakGlassRoleArn,
            statements: args.keyStatements,
            tags,
        }, this);

        const subnetGroup = rdsSubnetGroup(args.identifier, args.subnetIds, tags, this);

        const major = args.engineVersion.split(".")[0];
        const parameters = new rds.ParameterGroup(`${args.identifier}-params`, {
            name: `${args.identifier}-pg${major}`,
            family: `postgres${major}`,
            description: "TLS only; log connections for the audit trail",
            parameters: [
                { name: "rds.force_ssl", value: "1" },
                { name: "log_connections", value: "1" },
                { name: "log_disconnections", value: "1" },
            ],
            tags,
        }, { parent: this });

        const instance = new rds.Instance(args.identifier, {
            identifier: args.identifier,
            engine: "postgres",
            engineVersion: args.engineVersion,
            instanceClass: args.instanceClass,
            dbName: DATABASE_NAME,
            username: MASTER_USERNAME,
            password: args.masterPassword,
            allocatedStorage: args.allocatedStorageGb,
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
                finalSnapshot: true,
            }),
            parameterGroupName: parameters.name,
            performanceInsightsEnabled: true,
            performanceInsightsKmsKeyId: key.arn,
            autoMinorVersionUpgrade: true,
            applyImmediately: false,
            tags,
        }, { parent: this, protect: true, dependsOn: args.logGroups, ignoreChanges: ["password"] });

        writeDbCredentials(`${args.identifier}-credentials`, {
            secretId: args.credentialsSecretId,
            username: MASTER_USERNAME,
            password: args.masterPassword,
            host: instance.address,
            port: instance.port,
            identifier: args.identifier,
        }, { parent: this });

        this.arn = instance.arn;
        this.resourceId = instance.arn;
        this.identifier = instance.identifier;
        this.address = instance.address;
        this.port = instance.port;
        this.kmsKeyArn = key.arn;
        this.connectionUrl = connectionUrl(MASTER_USERNAME, args.masterPassword, instance.address, instance.port);
        this.subnetGroupName = subnetGroup.name;
        this.parameterGroupName = parameters.name;
        this.registerOutputs({ arn: this.arn, identifier: this.identifier, address: this.address, kmsKeyArn: this.kmsKeyArn });
    }
}
