/**
 * The resource types the pack judges, by their engine type tokens. The pack matches tokens, not provider
 * SDK classes: it judges programs written against any @pulumi/aws major (v6 and v7 share these tokens;
 * the deprecated `*V2` S3 resources keep their own) without installing the provider SDKs, so it stays
 * small enough to publish (`pulumi policy publish` packs and installs policy/ on its own).
 */
import type { Resource } from "@pulumi/pulumi";

export const T = {
    bucket: "aws:s3/bucket:Bucket",
    bucketV2: "aws:s3/bucketV2:BucketV2",
    versioning: "aws:s3/bucketVersioning:BucketVersioning",
    versioningV2: "aws:s3/bucketVersioningV2:BucketVersioningV2",
    sse: "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    sseV2: "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
    publicAccess: "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    policy: "aws:s3/bucketPolicy:BucketPolicy",
    lifecycle: "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
    lifecycleV2: "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2",
    replication: "aws:s3/bucketReplicationConfig:BucketReplicationConfig",
    inventory: "aws:s3/inventory:Inventory",
    rdsInstance: "aws:rds/instance:Instance",
    rdsCluster: "aws:rds/cluster:Cluster",
    rdsBackupsReplication: "aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication",
    backupPlan: "aws:backup/plan:Plan",
    backupSelection: "aws:backup/selection:Selection",
    azurePostgres: "azure-native:dbforpostgresql:Server",
    cloudSql: "gcp:sql/databaseInstance:DatabaseInstance",
    secret: "aws:secretsmanager/secret:Secret",
    logGroup: "aws:cloudwatch/logGroup:LogGroup",
    record: "aws:route53/record:Record",
    cronJob: "kubernetes:batch/v1:CronJob",
    /** The same object under the API version Kubernetes served until 1.25 (older programs still declare it). */
    cronJobV1beta1: "kubernetes:batch/v1beta1:CronJob",
    docdbCluster: "aws:docdb/cluster:Cluster",
    neptuneCluster: "aws:neptune/cluster:Cluster",
    redshiftCluster: "aws:redshift/cluster:Cluster",
} as const;

/**
 * The Flexible Server under azure-native's API-version modules (`dbforpostgresql/v20221201:Server`, the
 * azure-native v1/v2 idiom of pinning an API version): every Flexible Server API version from 2021-06-01 on
 * declares `backup.backupRetentionDays`, `backup.geoRedundantBackup` and `createMode` as the default module does,
 * so they are judged alike. The 2017 single-server versions (`v20171201`, retired) and the 2020 preview (its
 * retention under `storageProfile`) have another shape: engines.ts lists them as not judged.
 */
const VERSIONED_FLEXIBLE_SERVER = /^azure-native:dbforpostgresql\/v20(2[1-9]|[3-9]\d)\d{4}\w*:Server$/;

/** An Azure PostgreSQL Flexible Server: the default module's token or an API-version module's from 2021-06-01 on. */
export function isAzureFlexibleServer(type: string): boolean {
    return type === T.azurePostgres || VERSIONED_FLEXIBLE_SERVER.test(type);
}

type ResourceClass = new (name: string, args: Record<string, unknown>, ...rest: unknown[]) => Resource;

/**
 * A stand-in for a provider SDK class in `validateResourceOfType`: @pulumi/policy matches a class by its
 * `__pulumiType` (server.js isTypeOf, and the fast path that skips other types), which is all this carries.
 */
export function resourceType(token: string): ResourceClass {
    return { __pulumiType: token } as unknown as ResourceClass;
}
