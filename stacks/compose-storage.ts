/**
 * The runbook's backup storage, the same for every database cloud: the runbook uploads pg_dumps and
 * encrypted secret exports with `aws s3 cp` and keeps the server's keys in AWS Secrets Manager, whichever
 * cloud runs PostgreSQL. So every primary stack declares the secrets (with DR replicas), the backup bucket
 * and the audit logs in AWS (`storage.region`), and every standby stack the DR bucket, the replication of
 * the primary's bucket into it and its audit logs. This is what implements the clients, secrets, audit and
 * config rows of the retention table on azure and gcp too.
 */
import * as pulumi from "@pulumi/pulumi";
import { getCallerIdentityOutput } from "@pulumi/aws/getCallerIdentity";
import type { StackConfig } from "../lib/config";
import { retentionRow } from "../lib/retention";
import { AuditLogs } from "../components/audit-logs";
import { BackupBucket } from "../components/backup-bucket";
import { BucketReplication } from "../components/bucket-replication";
import { ServerSecrets } from "../components/secrets";

export interface StorageArgs {
    tags: Record<string, string>;
    /** RDS instances whose log exports get audit-retention log groups (none off AWS). */
    rdsIdentifiers: string[];
    rdsLogExports: string[];
    /** Generate the database master password in ServerSecrets (RDS); other clouds generate their own. */
    generateDbPassword: boolean;
}

export function accountId(): pulumi.Output<string> {
    return getCallerIdentityOutput().accountId;
}

function bucketAndLogs(config: StackConfig, args: StorageArgs) {
    const bucket = new BackupBucket("backups", {
        bucketName: `oauth2-backups-${config.stack}`,
        retention: config.retention,
        accountId: accountId(),
        region: config.storage.region,
        tags: args.tags,
    });
    const auditLogs = new AuditLogs("audit-logs", {
        region: config.storage.region,
        retentionDays: config.retention.audit,
        databaseIdentifiers: args.rdsIdentifiers,
        logExports: args.rdsLogExports,
        accountId: accountId(),
        archive: { bucketArn: bucket.arn, bucketKmsKeyArn: bucket.kmsKeyArn, prefix: retentionRow("audit").bucketPrefix },
        tags: args.tags,
    });
    return { bucket, auditLogs };
}

export function declarePrimaryStorage(config: StackConfig, args: StorageArgs) {
    const secrets = new ServerSecrets("secrets", {
        drRegion: config.storage.drRegion,
        recoveryWindowDays: config.secretRecoveryWindowDays,
        generateDbPassword: args.generateDbPassword,
        accountId: accountId(),
        tags: args.tags,
    });
    return { secrets, ...bucketAndLogs(config, args) };
}

export function declareStandbyStorage(config: StackConfig, prod: pulumi.StackReference, args: StorageArgs) {
    const { bucket, auditLogs } = bucketAndLogs(config, args);
    const replication = new BucketReplication("backup-replication", {
        sourceBucketName: prod.requireOutput("backupBucketName") as pulumi.Output<string>,
        sourceBucketArn: prod.requireOutput("backupBucketArn") as pulumi.Output<string>,
        sourceKmsKeyArn: prod.requireOutput("backupBucketKmsKeyArn") as pulumi.Output<string>,
        sourceRegion: config.storage.primaryRegion,
        destinationBucketArn: bucket.arn,
        destinationKmsKeyArn: bucket.kmsKeyArn,
        destinationRegion: config.storage.region,
        dependsOn: [bucket.versioning],
        tags: args.tags,
    });
    return { bucket, auditLogs, replication };
}

/**
 * The outputs every stack exports whatever its cloud: what it is (cloud, role, regions, retention, and for a
 * standby whether it is promoted) and its backup storage, which the standby reads through the StackReference.
 */
export function stackOutputs(config: StackConfig, storage: { bucket: BackupBucket; auditLogs: AuditLogs; secrets?: ServerSecrets }) {
    return {
        cloud: config.cloud,
        role: config.role,
        region: config.region,
        ...(config.role === "primary" ? { drRegion: config.drRegion } : { primaryRegion: config.primaryRegion, promoted: config.promote }),
        retention: config.retention,
        backupBucketName: storage.bucket.bucketName,
        backupBucketArn: storage.bucket.arn,
        backupBucketKmsKeyArn: storage.bucket.kmsKeyArn,
        auditLogGroup: storage.auditLogs.auditLogGroupName,
        secretArns: storage.secrets?.arns,
        secretsKmsKeyArn: storage.secrets?.kmsKeyArn,
        secretsDrKmsKeyArn: storage.secrets?.drKmsKeyArn,
    };
}
