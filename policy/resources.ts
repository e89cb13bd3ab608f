/**
 * A stack's resources indexed for the stack policies: by type, and the S3 configuration resources grouped
 * under the bucket they configure. Built in one pass so stack policies stay linear in the stack's size.
 */
import { PolicyResource } from "@pulumi/policy";
import { BackupBucketConfig, bucketNameOf, isBackupBucket, isBackupBucketName } from "./config";
import { read, UNKNOWN } from "./unknowns";

/** What the stack policies and the retention matrix need of a resource (PolicyResource has all of it). */
export type StackResource = Pick<PolicyResource, "type" | "name" | "urn" | "props"> & Partial<Pick<PolicyResource, "provider" | "propertyDependencies">>;

export const T = {
    bucket: "aws:s3/bucket:Bucket",
    versioning: "aws:s3/bucketVersioning:BucketVersioning",
    sse: "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    publicAccess: "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    policy: "aws:s3/bucketPolicy:BucketPolicy",
    lifecycle: "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
    replication: "aws:s3/bucketReplicationConfig:BucketReplicationConfig",
    rdsInstance: "aws:rds/instance:Instance",
    rdsCluster: "aws:rds/cluster:Cluster",
    rdsBackupsReplication: "aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication",
    azurePostgres: "azure-native:dbforpostgresql:Server",
    cloudSql: "gcp:sql/databaseInstance:DatabaseInstance",
    secret: "aws:secretsmanager/secret:Secret",
    logGroup: "aws:cloudwatch/logGroup:LogGroup",
    record: "aws:route53/record:Record",
    cronJob: "kubernetes:batch/v1:CronJob",
} as const;

const BUCKET_CONFIG_TYPES = [T.versioning, T.sse, T.publicAccess, T.policy, T.lifecycle] as const;
export type BucketConfigType = (typeof BUCKET_CONFIG_TYPES)[number];

export interface BucketGroup {
    /** The bucket's name, UNKNOWN during preview when computed. */
    name: string | typeof UNKNOWN;
    /** The Bucket resource, when the stack declares it. */
    bucket?: StackResource;
    /** Backup bucket by name prefix (the resource policies see its configuration) or by tag only. */
    backupByName: boolean;
    backup: boolean;
    config: Record<BucketConfigType, StackResource[]>;
}

export interface StackIndex {
    byType: Map<string, StackResource[]>;
    /** Buckets (declared or only configured here), keyed by name or, when the name is unknown, by URN. */
    buckets: Map<string, BucketGroup>;
    ofType(type: string): StackResource[];
}

/** The region a resource lives in: its own `region` input (aws v7) or its provider's region. */
export function regionOf(resource: Pick<StackResource, "props" | "provider">): unknown {
    const region = read(resource.props, "region");
    return region !== undefined ? region : read(resource.provider?.props, "region");
}

export function indexStack(resources: readonly StackResource[], config: BackupBucketConfig): StackIndex {
    const byType = new Map<string, StackResource[]>();
    for (const resource of resources) {
        const list = byType.get(resource.type);
        if (list) {
            list.push(resource);
        } else {
            byType.set(resource.type, [resource]);
        }
    }
    const ofType = (type: string) => byType.get(type) ?? [];
    const buckets = new Map<string, BucketGroup>();
    const keyByUrn = new Map<string, string>();
    const emptyConfig = () => Object.fromEntries(BUCKET_CONFIG_TYPES.map((t) => [t, []])) as unknown as Record<BucketConfigType, StackResource[]>;
    for (const bucket of ofType(T.bucket)) {
        const name = bucketNameOf(bucket.props, bucket.name);
        const key = typeof name === "string" ? name : bucket.urn;
        keyByUrn.set(bucket.urn, key);
        buckets.set(key, {
            name: typeof name === "string" ? name : UNKNOWN,
            bucket,
            backupByName: isBackupBucketName(name, config),
            backup: isBackupBucket(bucket.props, bucket.name, config),
            config: emptyConfig(),
        });
    }
    for (const type of BUCKET_CONFIG_TYPES) {
        for (const resource of ofType(type)) {
            // Link by the `bucket` input; during preview that name is unknown, so follow the dependency.
            const name = read(resource.props, "bucket");
            const viaDependency = resource.propertyDependencies?.bucket?.map((d) => keyByUrn.get(d.urn)).find((k) => k !== undefined);
            const key = typeof name === "string" ? name : viaDependency;
            if (key === undefined) {
                continue;
            }
            let group = buckets.get(key);
            if (!group) {
                group = { name: key, backupByName: isBackupBucketName(key, config), backup: isBackupBucketName(key, config), config: emptyConfig() };
                buckets.set(key, group);
            }
            group.config[type].push(resource);
        }
    }
    return { byType, buckets, ofType };
}

/** "arn:aws:s3:::name" or "name" -> name. */
export function bucketNameFromArn(value: unknown): unknown {
    return typeof value === "string" && value.startsWith("arn:") ? value.slice(value.lastIndexOf(":") + 1) : value;
}

/** The region field of an ARN (empty for S3 and other global ARNs). */
export function arnRegion(value: unknown): string | undefined {
    if (typeof value !== "string" || !value.startsWith("arn:")) {
        return undefined;
    }
    const region = value.split(":")[3];
    return region === "" ? undefined : region;
}

export function tagsOf(resource: StackResource): Record<string, string> {
    const tags = read(resource.props, "tags");
    if (!tags || tags === UNKNOWN || typeof tags !== "object") {
        return {};
    }
    const out: Record<string, string> = {};
    for (const key of Object.keys(tags)) {
        const value = read(tags, key);
        if (typeof value === "string") {
            out[key] = value;
        }
    }
    return out;
}
