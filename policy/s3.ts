/**
 * S3 backup storage. Whether a bucket is backup storage depends on the whole stack (its tags, and the
 * lifecycle, replication and inventory rules that other resources declare for it: resources.ts), so these
 * are stack policies: each judges one aspect of every backup bucket, through the family views of
 * s3-families.ts, so a v7 `BucketVersioning`, a `BucketVersioningV2` and an inline `versioning` argument are
 * judged the same way. A bucket that lacks an aspect altogether is `s3-backup-bucket-baseline`'s (s3-stack.ts).
 */
import { StackValidationArgs, StackValidationPolicy } from "@pulumi/policy";
import { lifecycleProblems } from "./lifecycle";
import { BucketGroup, indexStack, StackResource } from "./resources";
import { formatRetention, RETENTION_TABLE } from "./retention";
import { encryptionOf, lifecycleRulesOf, policyDocumentOf, versioningOf } from "./s3-families";
import { minimaOf, Settings, sharedSettings } from "./settings";
import { read, show, UNKNOWN } from "./unknowns";

// ---- Checks shared with the baseline policy. Each returns messages without the resource's name.

export function versioningProblems(type: string, props: unknown): string[] {
    const view = versioningOf(type, props);
    if (view === undefined || view.status === UNKNOWN || view.status === "Enabled") {
        return [];
    }
    return [`${view.field} is ${show(view.declared)}; the runbook requires versioning "Enabled" (secrets/ keeps 7 versions, deleted backups stay recoverable)`];
}

export function encryptionProblems(type: string, props: unknown): string[] {
    const defaults = encryptionOf(type, props);
    if (defaults === UNKNOWN || defaults === undefined) {
        return [];
    }
    const ok = defaults.some(({ algorithm, key }) => (algorithm === "aws:kms" || algorithm === "aws:kms:dsse") && typeof key === "string" && key !== "");
    if (ok) {
        return [];
    }
    const found = defaults.length === 0 ? "no default encryption rule" : `sseAlgorithm ${defaults.map((d) => show(d.algorithm)).join(", ")} with kmsMasterKeyId ${defaults.map((d) => show(d.key)).join(", ")}`;
    return [`default encryption has ${found}; the runbook requires SSE-KMS with a customer-managed key (sseAlgorithm "aws:kms" and a kmsMasterKeyId)`];
}

const PUBLIC_ACCESS_FLAGS = ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"];

export function publicAccessProblems(_type: string, props: unknown): string[] {
    return PUBLIC_ACCESS_FLAGS.flatMap((flag) => {
        const value = read(props, flag);
        return value === UNKNOWN || value === true ? [] : [`${flag} is ${show(value)}; the runbook requires public access fully blocked (true)`];
    });
}

function asList(value: unknown): unknown[] {
    return Array.isArray(value) ? value : value === undefined ? [] : [value];
}

/** A Condition's `Bool` value for aws:SecureTransport, whatever the key's case (IAM condition keys are case-insensitive). */
function secureTransportValues(statement: unknown): string[] {
    const bool = read(statement, "Condition", "Bool");
    if (bool === null || typeof bool !== "object") {
        return [];
    }
    const key = Object.keys(bool).find((k) => k.toLowerCase() === "aws:securetransport");
    return key === undefined ? [] : asList(read(bool, key)).map(String);
}

/**
 * Does a policy document deny every S3 action on the bucket's objects when aws:SecureTransport is false?
 * UNKNOWN when the document is not known yet (a `getPolicyDocument` output during preview): not a violation.
 */
export function deniesInsecureTransport(document: unknown): boolean | typeof UNKNOWN {
    let doc = document;
    if (doc === UNKNOWN) {
        return UNKNOWN;
    }
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
        return (
            read(statement, "Effect") === "Deny" &&
            principalAll &&
            actions.some((a) => a === "s3:*" || a === "*") &&
            resources.some((r) => typeof r === "string" && r.endsWith("*")) &&
            secureTransportValues(statement).includes("false")
        );
    });
}

export function tlsPolicyProblems(type: string, props: unknown): string[] {
    const document = policyDocumentOf(type, props);
    if (document === undefined || deniesInsecureTransport(document) !== false) {
        return [];
    }
    return [`policy has no statement that denies s3:* on the bucket's objects when aws:SecureTransport is "false"; the runbook requires TLS-only access`];
}

export function lifecycleRetentionProblems(type: string, props: unknown, settings: Settings): string[] {
    const rules = lifecycleRulesOf(type, props);
    return rules === UNKNOWN || rules === undefined ? [] : lifecycleProblems(rules, minimaOf(settings));
}

// ---- Stack policies, one per aspect.

type Check = (type: string, props: unknown, settings: Settings) => string[];

export function bucketLabel(group: BucketGroup): string {
    const name = group.name === UNKNOWN ? group.bucket?.name ?? "(bucket name unknown)" : group.name;
    return `${name}, backup storage: ${group.recognisedBy}`;
}

/**
 * A backup bucket's declarations of one aspect: its configuration resources, else the bucket's own inline
 * argument. Never both: AWS treats them as conflicting, and in the engine's stack analysis (which sees
 * outputs) the bucket's computed inline outputs mirror what the configuration resource set.
 */
function declarations(group: BucketGroup, aspect: keyof BucketGroup["config"], inline: boolean): StackResource[] {
    return group.config[aspect].length > 0 ? group.config[aspect] : inline && group.bucket ? [group.bucket] : [];
}

function aspectPolicy(name: string, description: string, aspect: keyof BucketGroup["config"], inline: boolean, check: Check, severity: "high" | "critical" = "high"): StackValidationPolicy {
    return {
        name,
        description,
        enforcementLevel: "mandatory",
        severity,
        validateStack: (args: StackValidationArgs, reportViolation) => {
            const settings = sharedSettings();
            for (const group of indexStack(args.resources, settings).buckets.values()) {
                if (!group.backup) {
                    continue;
                }
                for (const resource of declarations(group, aspect, inline)) {
                    for (const problem of check(resource.type, resource.props, settings)) {
                        reportViolation(`${resource.name} (bucket ${bucketLabel(group)}): ${problem}`, resource.urn);
                    }
                }
            }
        },
    };
}

export const s3BackupVersioning = aspectPolicy(
    "s3-backup-versioning",
    "Backup buckets keep object versions (versioning Enabled: BucketVersioning, BucketVersioningV2 or the bucket's inline versioning).",
    "versioning",
    true,
    versioningProblems,
);
export const s3BackupEncryption = aspectPolicy(
    "s3-backup-encryption",
    "Backup buckets encrypt objects with SSE-KMS and a customer-managed key (any encryption configuration resource, or the bucket's inline one).",
    "encryption",
    true,
    encryptionProblems,
);
export const s3BackupPublicAccessBlock = aspectPolicy(
    "s3-backup-public-access-block",
    "Backup buckets block public access entirely (all four BucketPublicAccessBlock flags true).",
    "publicAccess",
    false,
    publicAccessProblems,
);
export const s3BackupTlsOnly = aspectPolicy(
    "s3-backup-tls-only",
    "Backup bucket policies deny any request not made over TLS (Deny s3:* when aws:SecureTransport is false), in a BucketPolicy or the bucket's inline policy.",
    "policy",
    true,
    tlsPolicyProblems,
);
export const s3BackupLifecycleRetention = aspectPolicy(
    "s3-backup-lifecycle-retention",
    `No lifecycle rule of a backup bucket (configuration resource or inline lifecycleRules) deletes a data class earlier than the retention table (${RETENTION_TABLE.map((r) => `${r.bucketPrefix} ${formatRetention(r.minimum, r.unit)}`).join(", ")}).`,
    "lifecycle",
    true,
    lifecycleRetentionProblems,
    "critical",
);

export const s3Policies = [s3BackupVersioning, s3BackupEncryption, s3BackupPublicAccessBlock, s3BackupTlsOnly, s3BackupLifecycleRetention];
