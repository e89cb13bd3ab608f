/**
 * oauth2-dr: backup, restore and disaster recovery of the OAuth2 authorization server.
 *
 * Reads and validates the stack's configuration, then composes the components for the stack's role:
 *  - primary (prod): database, secrets, backup bucket, audit logs, PRIMARY failover record, backup CronJobs;
 *  - standby (dr): cross-region replica + backup replication, DR bucket replicated from prod, audit logs,
 *    SECONDARY failover record, backup CronJobs (suspended until promotion).
 */
import * as pulumi from "@pulumi/pulumi";
import { getCallerIdentityOutput } from "@pulumi/aws/getCallerIdentity";
import { loadStackConfig } from "./lib/load-config";
import { retentionRow } from "./lib/retention";
import { AuditLogs } from "./components/audit-logs";
import { BackupBucket } from "./components/backup-bucket";
import { BucketReplication } from "./components/bucket-replication";
import { PostgresDatabase, RDS_LOG_EXPORTS } from "./components/database";
import { DnsFailover } from "./components/dns-failover";
import { CrossRegionReplica } from "./components/replica";
import { ServerSecrets } from "./components/secrets";

const config = loadStackConfig();
const accountId = getCallerIdentityOutput().accountId;
const tags: Record<string, string> = {
    ...config.tags,
    project: config.project,
    stack: config.stack,
    environment: config.environment,
    role: config.role,
    "managed-by": "pulumi",
};
const DB_IDENTIFIER = "oauth2-postgres";
const REPLICA_IDENTIFIER = "oauth2-postgres-replica";

function declarePrimary() {
    const secrets = new ServerSecrets("secrets", {
        drRegion: config.drRegion,
        recoveryWindowDays: config.secretRecoveryWindowDays,
        accountId,
        tags,
    });
    const bucket = new BackupBucket("backups", {
        bucketName: `oauth2-backups-${config.stack}`,
        retention: config.retention,
        accountId,
        region: config.region,
        tags,
    });
    const auditLogs = new AuditLogs("audit-logs", {
        region: config.region,
        retentionDays: config.retention.audit,
        databaseIdentifiers: [DB_IDENTIFIER],
        logExports: RDS_LOG_EXPORTS,
        accountId,
        archive: { bucketArn: bucket.arn, bucketKmsKeyArn: bucket.kmsKeyArn, prefix: retentionRow("audit").bucketPrefix },
        tags,
    });
    const database = new PostgresDatabase("database", {
        identifier: DB_IDENTIFIER,
        instanceClass: config.instanceClass,
        engineVersion: config.engineVersion,
        allocatedStorageGb: config.allocatedStorageGb,
        maxAllocatedStorageGb: config.maxAllocatedStorageGb,
        backupRetentionDays: config.retention.database,
        backupWindow: config.backupWindow,
        maintenanceWindow: config.maintenanceWindow,
        multiAz: config.environment === "production",
        subnetIds: config.subnetIds,
        securityGroupIds: config.securityGroupIds,
        masterPassword: secrets.dbMasterPassword,
        credentialsSecretId: secrets.arns.dbCredentials,
        accountId,
        logGroups: auditLogs.logGroups,
        tags,
    });
    const dns = new DnsFailover("dns", {
        hostedZoneId: config.hostedZoneId,
        domain: config.domain,
        regionalEndpoint: config.regionalEndpoint,
        failover: "PRIMARY",
        setIdentifier: `${config.stack}-${config.region}`,
        tags,
    });
    return {
        role: config.role,
        region: config.region,
        drRegion: config.drRegion,
        retention: config.retention,
        dbInstanceArn: database.arn,
        dbInstanceIdentifier: database.identifier,
        dbAddress: database.address,
        dbKmsKeyArn: database.kmsKeyArn,
        databaseUrl: database.connectionUrl,
        backupBucketName: bucket.bucketName,
        backupBucketArn: bucket.arn,
        backupBucketKmsKeyArn: bucket.kmsKeyArn,
        secretArns: secrets.arns,
        secretsKmsKeyArn: secrets.kmsKeyArn,
        secretsDrKmsKeyArn: secrets.drKmsKeyArn,
        auditLogGroup: auditLogs.auditLogGroupName,
        healthCheckId: dns.healthCheckId,
    };
}

function declareStandby() {
    const prod = new pulumi.StackReference(config.primaryStack!);
    const bucket = new BackupBucket("backups", {
        bucketName: `oauth2-backups-${config.stack}`,
        retention: config.retention,
        accountId,
        region: config.region,
        tags,
    });
    const auditLogs = new AuditLogs("audit-logs", {
        region: config.region,
        retentionDays: config.retention.audit,
        databaseIdentifiers: [REPLICA_IDENTIFIER],
        logExports: RDS_LOG_EXPORTS,
        accountId,
        archive: { bucketArn: bucket.arn, bucketKmsKeyArn: bucket.kmsKeyArn, prefix: retentionRow("audit").bucketPrefix },
        tags,
    });
    const replica = new CrossRegionReplica("replica", {
        identifier: REPLICA_IDENTIFIER,
        sourceDbInstanceArn: prod.requireOutput("dbInstanceArn") as pulumi.Output<string>,
        instanceClass: config.instanceClass,
        backupRetentionDays: config.retention.database,
        backupWindow: config.backupWindow,
        maintenanceWindow: config.maintenanceWindow,
        multiAz: config.environment === "production",
        maxAllocatedStorageGb: config.maxAllocatedStorageGb,
        subnetIds: config.subnetIds,
        securityGroupIds: config.securityGroupIds,
        promote: config.promote,
        accountId,
        logGroups: auditLogs.logGroups,
        tags,
    });
    new BucketReplication("backup-replication", {
        sourceBucketName: prod.requireOutput("backupBucketName") as pulumi.Output<string>,
        sourceBucketArn: prod.requireOutput("backupBucketArn") as pulumi.Output<string>,
        sourceKmsKeyArn: prod.requireOutput("backupBucketKmsKeyArn") as pulumi.Output<string>,
        sourceRegion: config.primaryRegion,
        destinationBucketArn: bucket.arn,
        destinationKmsKeyArn: bucket.kmsKeyArn,
        destinationRegion: config.region,
        dependsOn: [bucket.versioning],
        tags,
    });
    const dns = new DnsFailover("dns", {
        hostedZoneId: config.hostedZoneId,
        domain: config.domain,
        regionalEndpoint: config.regionalEndpoint,
        failover: "SECONDARY",
        setIdentifier: `${config.stack}-${config.region}`,
        tags,
    });
    return {
        role: config.role,
        region: config.region,
        primaryRegion: config.primaryRegion,
        retention: config.retention,
        promoted: config.promote,
        replicaArn: replica.arn,
        replicaIdentifier: replica.identifier,
        replicaAddress: replica.address,
        replicaKmsKeyArn: replica.kmsKeyArn,
        backupBucketName: bucket.bucketName,
        backupBucketArn: bucket.arn,
        backupBucketKmsKeyArn: bucket.kmsKeyArn,
        auditLogGroup: auditLogs.auditLogGroupName,
        healthCheckId: dns.healthCheckId,
    };
}

// The stack outputs: prod's are read by the dr stack's StackReference.
export = config.role === "primary" ? declarePrimary() : declareStandby();
