/**
 * The backup bucket: where the CronJobs put pg_dumps, client and app config exports and encrypted secret
 * exports, and where audit logs are archived. One lifecycle rule per data class keeps each prefix exactly
 * as long as the retention table asks (or longer, if the stack raises it), and never shorter.
 */
import * as pulumi from "@pulumi/pulumi";
import type * as kms from "@pulumi/aws/kms";
import * as s3 from "@pulumi/aws/s3";
import { objectRetainDays } from "../lib/object-lock";
import { DataClass, Retention, RETENTION_TABLE } from "../lib/retention";
import { customerManagedKey } from "./kms";

export interface BackupBucketArgs {
    bucketName: string;
    retention: Retention;
    /** S3 Object Lock: every new object version is kept at least `days` in `mode` (the table's database row). */
    objectLock: ObjectLock;
    accountId: pulumi.Input<string>;
    region: string;
    /** The deletion guard of the bucket's key: only this role may schedule its deletion or disable it. */
    breakGlassRoleArn?: string;
    /** More bucket policy statements (the vault's: only the replication roles may write). */
    policyStatements?: (bucketArn: pulumi.Output<string>) => unknown[];
    /** More key policy statements (the vault's: the replication roles may encrypt with it). */
    keyStatements?: unknown[];
    /** The provider of another account (the vault stack's). */
    provider?: pulumi.ProviderResource;
    /**
     * The data classes the bucket holds (default: every row of the table). The audit archive's bucket holds
     * `audit` only: its default retention is that row's, and it has no lifecycle rule for the other rows.
     */
    dataClasses?: DataClass[];
    tags: Record<string, string>;
}

export interface ObjectLock {
    mode: "COMPLIANCE" | "GOVERNANCE";
    days: number;
    /** Days between rotations of a secret (secrets/ keeps N versions: N x this; lib/object-lock.ts). */
    secretRotationDays: number;
}

/** One prefix's floor: an upload asking for a per-object lock shorter than `days` is refused. */
export interface LockFloor {
    dataClass: DataClass;
    prefix: string;
    days: number;
}

/**
 * The per-object Object Lock floor of each data class the bucket holds: exactly what our writers ask for
 * (lib/object-lock.ts objectRetainDays: database max(lock, row), clients/config/audit their rows, secrets N
 * versions x the rotation). A per-object lock in an upload overrides the bucket's default retention, so
 * without a floor a compromised writer uploads its future backups locked one day.
 */
export function lockFloors(retention: Retention, objectLock: ObjectLock, dataClasses?: DataClass[]): LockFloor[] {
    const days = objectRetainDays(retention, objectLock.days, objectLock.secretRotationDays);
    return rowsOf(dataClasses).map((row) => ({ dataClass: row.dataClass as DataClass, prefix: row.bucketPrefix, days: days[row.dataClass as DataClass] }));
}

/**
 * The bucket policy statements that make the floors hold (S3 condition keys, Service Authorization Reference,
 * "Actions, resources, and condition keys for Amazon S3": s3:PutObject and s3:PutObjectRetention take
 * s3:object-lock-mode (String) and s3:object-lock-remaining-retention-days (Numeric), present only when the
 * request sets a per-object lock):
 *  - in COMPLIANCE: a per-object lock in any other mode (GOVERNANCE, which s3:BypassGovernanceRetention lifts);
 *  - per prefix: a per-object lock whose remaining retention is below the prefix's floor.
 * An upload without a per-object lock takes the bucket's default retention (the database row) and passes.
 * S3 replication writes with s3:ReplicateObject, which neither statement names, so replicas arrive.
 */
export function lockFloorStatements(bucketArn: pulumi.Input<string>, mode: ObjectLock["mode"], floors: LockFloor[]): unknown[] {
    const actions = ["s3:PutObject", "s3:PutObjectRetention"];
    // A plain ARN stays a plain string (the compromise drill evaluates these statements as data).
    const objects = (suffix: string) => (typeof bucketArn === "string" ? `${bucketArn}/${suffix}` : pulumi.interpolate`${bucketArn}/${suffix}`);
    return [
        ...(mode === "COMPLIANCE" ? [{
            Sid: "DenyObjectLockModeOtherThanCompliance",
            Effect: "Deny",
            Principal: "*",
            Action: actions,
            Resource: objects("*"),
            // Null false: only a request that sets a mode (a negated operator is true when the key is absent).
            Condition: { StringNotEquals: { "s3:object-lock-mode": "COMPLIANCE" }, Null: { "s3:object-lock-mode": "false" } },
        }] : []),
        ...floors.map((floor) => ({
            Sid: `DenyObjectLockShorterThan${floor.dataClass[0].toUpperCase()}${floor.dataClass.slice(1)}Row`,
            Effect: "Deny",
            Principal: "*",
            Action: actions,
            Resource: objects(`${floor.prefix}*`),
            Condition: { NumericLessThan: { "s3:object-lock-remaining-retention-days": String(floor.days) } },
        })),
    ];
}

/** Days a noncurrent secrets/ version stays once it is no longer among the newest N. */
export const SECRETS_NONCURRENT_DAYS = 30;

/** Days to keep an incomplete multipart upload (a failed pg_dump stream) before S3 aborts it. */
export const ABORT_INCOMPLETE_UPLOAD_DAYS = 2;

/**
 * Lifecycle rules per data class. Day-based classes expire current objects after their retention and
 * noncurrent versions (overwritten or deleted objects) after the same number of days. The version-based
 * class (secrets/) never expires its current object and keeps the newest N-1 noncurrent versions, so N
 * versions in all; older versions go 30 days after they stop being among the newest. No rule expires a
 * version before the Object Lock's default retention (`lockDays`): expiry is the longest time, the lock the
 * shortest, and a rule shorter than the lock would be refused by S3 object by object.
 */

/** The rules of `lifecycleRules` that would expire a version while the lock still holds it (none, by construction). */
export function rulesShorterThanLock(retention: Retention, lockDays: number, dataClasses?: DataClass[]): string[] {
    return rowsOf(dataClasses).filter((row) => row.unit === "days" && retention[row.dataClass as DataClass] < lockDays)
        .map((row) => `${row.dataClass}-retention (${retention[row.dataClass as DataClass]} days < lock ${lockDays} days)`);
}
/** The table's rows a bucket holds: all of them, or those of `dataClasses`. */
function rowsOf(dataClasses?: DataClass[]) {
    return dataClasses ? RETENTION_TABLE.filter((row) => dataClasses.includes(row.dataClass as DataClass)) : RETENTION_TABLE;
}

export function lifecycleRules(retention: Retention, lockDays = 0, dataClasses?: DataClass[]): s3.BucketLifecycleConfigurationArgs["rules"] {
    return rowsOf(dataClasses).map((row) => {
        const value = retention[row.dataClass as DataClass];
        const base = {
            id: `${row.dataClass}-retention`,
            status: "Enabled",
            filter: { prefix: row.bucketPrefix },
            abortIncompleteMultipartUpload: { daysAfterInitiation: ABORT_INCOMPLETE_UPLOAD_DAYS },
        };
        if (row.unit === "versions") {
            // Never before the lock's default retention: the rule would only fight the lock.
            return { ...base, noncurrentVersionExpiration: { noncurrentDays: Math.max(SECRETS_NONCURRENT_DAYS, lockDays), newerNoncurrentVersions: value - 1 } };
        }
        return { ...base, expiration: { days: value }, noncurrentVersionExpiration: { noncurrentDays: value } };
    });
}

export class BackupBucket extends pulumi.ComponentResource {
    readonly bucketName: pulumi.Output<string>;
    readonly arn: pulumi.Output<string>;
    readonly kmsKeyArn: pulumi.Output<string>;
    /** The bucket's configuration resources, for resources that must wait for them (replication). */
    readonly versioning: s3.BucketVersioning;
    readonly objectLockConfiguration: s3.BucketObjectLockConfiguration;

    constructor(name: string, args: BackupBucketArgs, opts?: pulumi.ComponentResourceOptions) {
        const shorter = rulesShorterThanLock(args.retention, args.objectLock.days, args.dataClasses);
        if (shorter.length > 0) {
            throw new Error(`BackupBucket ${args.bucketName}: lifecycle rules would expire versions the Object Lock still holds: ${shorter.join(", ")}`);
        }
        super("oauth2-dr:storage:BackupBucket", name, {}, { ...opts, ...(args.provider ? { provider: args.provider } : {}) });
        const tags = { ...args.tags, backup: "true" };
        const key = customerManagedKey(args.bucketName, {
            description: `Server-side encryption of s3://${args.bucketName}`,
            accountId: args.accountId,
            breakGlassRoleArn: args.breakGlassRoleArn,
            statements: args.keyStatements,
            tags,
        }, this);
        const bucket = new s3.Bucket(args.bucketName, {
            bucket: args.bucketName,
            forceDestroy: false,
            tags,
        }, { parent: this, protect: true });

        this.versioning = this.versioningEnabled(args.bucketName, bucket);
        this.objectLockConfiguration = this.lockedByDefault(args, bucket, this.versioning);
        this.encryptedByDefault(args.bucketName, bucket, key);
        const publicAccess = this.publicAccessBlocked(args.bucketName, bucket);
        this.bucketOwnerEnforced(args.bucketName, bucket);
        const floors = lockFloorStatements(bucket.arn, args.objectLock.mode, lockFloors(args.retention, args.objectLock, args.dataClasses));
        this.policyDenyingWeakerAccess(args.bucketName, bucket, key, publicAccess, [...floors, ...(args.policyStatements?.(bucket.arn) ?? [])]);
        this.expiredByRetention(args, bucket, this.versioning);

        this.bucketName = bucket.bucket;
        this.arn = bucket.arn;
        this.kmsKeyArn = key.arn;
        this.registerOutputs({ bucketName: this.bucketName, arn: this.arn, kmsKeyArn: this.kmsKeyArn });
    }

    /** Versions are what the retention counts for secrets/, and what an overwrite or delete leaves behind. */
    private versioningEnabled(bucketName: string, bucket: s3.Bucket): s3.BucketVersioning {
        return new s3.BucketVersioning(`${bucketName}-versioning`, {
            bucket: bucket.bucket,
            versioningConfiguration: { status: "Enabled" },
        }, { parent: this });
    }

    /**
     * Object Lock on the versioned bucket: a separate BucketObjectLockConfiguration, not the bucket's
     * `objectLockEnabled` (which replaces the bucket when it changes: our buckets are protected and hold the
     * backups). S3 accepts Object Lock on an existing bucket once versioning is on. Every new version is then
     * kept `days` days; in COMPLIANCE mode nobody, the account root included, can shorten or delete it.
     */
    private lockedByDefault(args: BackupBucketArgs, bucket: s3.Bucket, versioning: s3.BucketVersioning): s3.BucketObjectLockConfiguration {
        return new s3.BucketObjectLockConfiguration(`${args.bucketName}-object-lock`, {
            bucket: bucket.bucket,
            objectLockEnabled: "Enabled",
            rule: { defaultRetention: { mode: args.objectLock.mode, days: args.objectLock.days } },
        }, { parent: this, dependsOn: [versioning], protect: args.objectLock.mode === "COMPLIANCE" });
    }

    /** SSE-KMS with the bucket's own key by default (bucket keys keep the KMS request count down). */
    private encryptedByDefault(bucketName: string, bucket: s3.Bucket, key: kms.Key): void {
        new s3.BucketServerSideEncryptionConfiguration(`${bucketName}-sse`, {
            bucket: bucket.bucket,
            rules: [{
                applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: key.arn },
                bucketKeyEnabled: true,
            }],
        }, { parent: this });
    }

    private publicAccessBlocked(bucketName: string, bucket: s3.Bucket): s3.BucketPublicAccessBlock {
        return new s3.BucketPublicAccessBlock(`${bucketName}-public-access`, {
            bucket: bucket.bucket,
            blockPublicAcls: true,
            blockPublicPolicy: true,
            ignorePublicAcls: true,
            restrictPublicBuckets: true,
        }, { parent: this });
    }

    /** ACLs disabled: the account owns every object, whoever wrote it. */
    private bucketOwnerEnforced(bucketName: string, bucket: s3.Bucket): void {
        new s3.BucketOwnershipControls(`${bucketName}-ownership`, {
            bucket: bucket.bucket,
            rule: { objectOwnership: "BucketOwnerEnforced" },
        }, { parent: this });
    }

    /** Applied after the public access block (dependsOn), onto a bucket already closed to the public. */
    private policyDenyingWeakerAccess(bucketName: string, bucket: s3.Bucket, key: kms.Key, publicAccess: s3.BucketPublicAccessBlock, more: unknown[]): void {
        new s3.BucketPolicy(`${bucketName}-policy`, {
            bucket: bucket.bucket,
            policy: denyWeakerAccessPolicy(bucket.arn, key.arn, more),
        }, { parent: this, dependsOn: [publicAccess] });
    }

    /** Lifecycle rules expire noncurrent versions, so they wait for versioning to be on. */
    private expiredByRetention(args: BackupBucketArgs, bucket: s3.Bucket, versioning: s3.BucketVersioning): void {
        new s3.BucketLifecycleConfiguration(`${args.bucketName}-lifecycle`, {
            bucket: bucket.bucket,
            rules: lifecycleRules(args.retention, args.objectLock.days, args.dataClasses),
        }, { parent: this, dependsOn: [versioning] });
    }
}

/**
 * Deny plain HTTP, uploads asking for weaker encryption than SSE-KMS, uploads naming another KMS key, and
 * (`more`, first) per-object locks weaker than the bucket's data classes ask (lockFloorStatements).
 */
function denyWeakerAccessPolicy(bucketArn: pulumi.Output<string>, keyArn: pulumi.Output<string>, more: unknown[]): pulumi.Output<string> {
    return pulumi.jsonStringify({
        Version: "2012-10-17",
        Statement: [
            {
                Sid: "DenyInsecureTransport",
                Effect: "Deny",
                Principal: "*",
                Action: "s3:*",
                Resource: [bucketArn, pulumi.interpolate`${bucketArn}/*`],
                Condition: { Bool: { "aws:SecureTransport": "false" } },
            },
            {
                // Objects may rely on the default encryption, but may not ask for anything weaker.
                Sid: "DenyUnencryptedObjectUploads",
                Effect: "Deny",
                Principal: "*",
                Action: "s3:PutObject",
                Resource: pulumi.interpolate`${bucketArn}/*`,
                Condition: { StringNotEqualsIfExists: { "s3:x-amz-server-side-encryption": "aws:kms" } },
            },
            {
                Sid: "DenyOtherKmsKeys",
                Effect: "Deny",
                Principal: "*",
                Action: "s3:PutObject",
                Resource: pulumi.interpolate`${bucketArn}/*`,
                Condition: { StringNotEqualsIfExists: { "s3:x-amz-server-side-encryption-aws-kms-key-id": keyArn } },
            },
            ...more,
        ],
    });
}
