/**
 * S3 backup buckets (aws v7: the bucket and its configuration are separate resources that name the bucket
 * in their `bucket` input). A resource policy sees one resource only, so these policies judge the
 * configuration resources of buckets recognised by name prefix; buckets recognised only by their tag
 * (backup=true), and buckets that lack a configuration resource altogether, are judged by the stack
 * policy `s3-backup-bucket-baseline` (s3-stack.ts) with the same checks.
 */
import * as s3 from "@pulumi/aws/s3";
import { ResourceValidationArgs, ResourceValidationPolicy, validateResourceOfType } from "@pulumi/policy";
import { RETENTION_TABLE } from "../lib/retention";
import { BACKUP_BUCKET_SCHEMA, BackupBucketConfig, configOf, isBackupBucketName, TABLE_DAYS, TABLE_SECRET_VERSIONS } from "./config";
import { lifecycleProblems, Minima, viewRules } from "./lifecycle";
import { read, readArray, show, UNKNOWN } from "./unknowns";

const bucketSchema = { properties: { ...BACKUP_BUCKET_SCHEMA } };

/** The backup bucket a configuration resource belongs to, or undefined when it is not one (or unknown). */
function backupBucketOf(props: unknown, args: ResourceValidationArgs, schema = bucketSchema): string | undefined {
    const config = configOf<BackupBucketConfig>(schema, args);
    const bucket = read(props, "bucket");
    return isBackupBucketName(bucket, config) ? (bucket as string) : undefined;
}

// ---- Checks shared with the stack policy. Each returns messages without the resource's name.

export function versioningProblems(props: unknown): string[] {
    const status = read(props, "versioningConfiguration", "status");
    return status === UNKNOWN || status === "Enabled" ? [] : [`versioningConfiguration.status is ${show(status)}; the runbook requires "Enabled" (secrets/ keeps 7 versions, deleted backups stay recoverable)`];
}

export function encryptionProblems(props: unknown): string[] {
    const rules = readArray(props, "rules");
    if (rules === UNKNOWN) {
        return [];
    }
    const defaults = (rules ?? []).map((rule) => read(rule, "applyServerSideEncryptionByDefault"));
    if (defaults.some((d) => d === UNKNOWN)) {
        return [];
    }
    const algorithms = defaults.map((d) => read(d, "sseAlgorithm"));
    const keys = defaults.map((d) => read(d, "kmsMasterKeyId"));
    if (algorithms.some((a) => a === UNKNOWN) || keys.some((k) => k === UNKNOWN)) {
        return [];
    }
    const ok = algorithms.some((a, i) => (a === "aws:kms" || a === "aws:kms:dsse") && typeof keys[i] === "string" && keys[i] !== "");
    if (ok) {
        return [];
    }
    const found = algorithms.length === 0 ? "no default encryption rule" : `sseAlgorithm ${algorithms.map(show).join(", ")} with kmsMasterKeyId ${keys.map(show).join(", ")}`;
    return [`rules[].applyServerSideEncryptionByDefault has ${found}; the runbook requires SSE-KMS with a customer-managed key (sseAlgorithm "aws:kms" and a kmsMasterKeyId)`];
}

const PUBLIC_ACCESS_FLAGS = ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"];

export function publicAccessProblems(props: unknown): string[] {
    return PUBLIC_ACCESS_FLAGS.flatMap((flag) => {
        const value = read(props, flag);
        return value === UNKNOWN || value === true ? [] : [`${flag} is ${show(value)}; the runbook requires public access fully blocked (true)`];
    });
}

function asList(value: unknown): unknown[] {
    return Array.isArray(value) ? value : value === undefined ? [] : [value];
}

/** Does a policy document deny every S3 action on the bucket's objects when aws:SecureTransport is false? */
export function deniesInsecureTransport(document: unknown): boolean {
    let doc = document;
    if (typeof doc === "string") {
        try {
            doc = JSON.parse(doc);
        } catch {
            return false;
        }
    }
    return asList(read(doc, "Statement")).some((statement) => {
        const principal = read(statement, "Principal");
        const principalAll = principal === "*" || asList(read(principal, "AWS")).includes("*");
        const actions = asList(read(statement, "Action"));
        const resources = asList(read(statement, "Resource"));
        const secure = asList(read(statement, "Condition", "Bool", "aws:SecureTransport")).map(String);
        return (
            read(statement, "Effect") === "Deny" &&
            principalAll &&
            actions.some((a) => a === "s3:*" || a === "*") &&
            resources.some((r) => typeof r === "string" && r.endsWith("*")) &&
            secure.includes("false")
        );
    });
}

export function tlsPolicyProblems(props: unknown): string[] {
    const policy = read(props, "policy");
    if (policy === UNKNOWN || deniesInsecureTransport(policy)) {
        return [];
    }
    return [`policy has no statement that denies s3:* on the bucket's objects when aws:SecureTransport is "false"; the runbook requires TLS-only access`];
}

// ---- Resource policies.

function bucketPolicy(name: string, description: string, resourceClass: typeof s3.BucketVersioning | typeof s3.BucketServerSideEncryptionConfiguration | typeof s3.BucketPublicAccessBlock | typeof s3.BucketPolicy, check: (props: unknown) => string[]): ResourceValidationPolicy {
    return {
        name,
        description,
        enforcementLevel: "mandatory",
        severity: "high",
        configSchema: bucketSchema,
        validateResource: validateResourceOfType(resourceClass as typeof s3.BucketPolicy, (props, args, reportViolation) => {
            const bucket = backupBucketOf(props, args);
            if (bucket !== undefined) {
                for (const problem of check(props)) {
                    reportViolation(`${args.name} (bucket ${bucket}): ${problem}`);
                }
            }
        }),
    };
}

export const s3BackupVersioning = bucketPolicy(
    "s3-backup-versioning",
    "Backup buckets keep object versions (BucketVersioning status Enabled).",
    s3.BucketVersioning,
    versioningProblems,
);
export const s3BackupEncryption = bucketPolicy(
    "s3-backup-encryption",
    "Backup buckets encrypt objects with SSE-KMS and a customer-managed key.",
    s3.BucketServerSideEncryptionConfiguration,
    encryptionProblems,
);
export const s3BackupPublicAccessBlock = bucketPolicy(
    "s3-backup-public-access-block",
    "Backup buckets block public access entirely (all four BucketPublicAccessBlock flags true).",
    s3.BucketPublicAccessBlock,
    publicAccessProblems,
);
export const s3BackupTlsOnly = bucketPolicy(
    "s3-backup-tls-only",
    "Backup bucket policies deny any request not made over TLS (Deny s3:* when aws:SecureTransport is false).",
    s3.BucketPolicy,
    tlsPolicyProblems,
);

const lifecycleSchema = {
    properties: {
        ...BACKUP_BUCKET_SCHEMA,
        minimumDays: {
            type: "object" as const,
            default: { ...TABLE_DAYS },
            description: "Minimum days per day-based data class (database, clients, audit, config); defaults to the retention table.",
        },
        minimumSecretVersions: {
            type: "integer" as const,
            minimum: 1,
            default: TABLE_SECRET_VERSIONS,
            description: "Minimum versions kept under secrets/ (1 current + newerNoncurrentVersions).",
        },
    },
};

export interface LifecycleConfig extends BackupBucketConfig {
    minimumDays: Partial<Record<string, number>>;
    minimumSecretVersions: number;
}

export function minimaOf(config: LifecycleConfig): Minima {
    return { days: { ...TABLE_DAYS, ...config.minimumDays }, secretVersions: config.minimumSecretVersions };
}

export const s3BackupLifecycleRetention: ResourceValidationPolicy = {
    name: "s3-backup-lifecycle-retention",
    description: `No lifecycle rule of a backup bucket deletes a data class earlier than the retention table (${RETENTION_TABLE.map((r) => `${r.bucketPrefix} ${r.minimum} ${r.unit}`).join(", ")}).`,
    enforcementLevel: "mandatory",
    severity: "critical",
    configSchema: lifecycleSchema,
    validateResource: validateResourceOfType(s3.BucketLifecycleConfiguration, (props, args, reportViolation) => {
        const bucket = backupBucketOf(props, args, lifecycleSchema);
        const rules = viewRules(props);
        if (bucket === undefined || rules === UNKNOWN) {
            return;
        }
        const minima = minimaOf(configOf<LifecycleConfig>(lifecycleSchema, args));
        for (const problem of lifecycleProblems(rules, minima)) {
            reportViolation(`${args.name} (bucket ${bucket}): ${problem}`);
        }
    }),
};

export { lifecycleSchema };
export const s3Policies = [s3BackupVersioning, s3BackupEncryption, s3BackupPublicAccessBlock, s3BackupTlsOnly, s3BackupLifecycleRetention];
