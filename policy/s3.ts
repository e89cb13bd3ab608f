/**
 * S3 backup storage. Whether a bucket is backup storage depends on the whole stack (its tags, and the
 * lifecycle, replication and inventory rules that other resources declare for it: resources.ts), so these
 * are stack policies: each judges one aspect of every backup bucket, through the family views of
 * s3-families.ts, so a v7 `BucketVersioning`, a `BucketVersioningV2` and an inline `versioning` argument are
 * judged the same way. A bucket that lacks an aspect altogether is `s3-backup-bucket-baseline`'s (s3-stack.ts).
 */
import { StackValidationArgs, StackValidationPolicy } from "@pulumi/policy";
import { lifecycleProblems } from "./lifecycle";
import { lockFloorOf } from "./object-lock";
import { BucketGroup, indexStack, StackIndex, StackResource } from "./resources";
import { formatRetention, RETENTION_TABLE } from "./retention";
import { EncryptionDefault, encryptionDefaultsOf, lifecycleRulesOf, policyDocumentOf, versioningOf } from "./s3-families";
import { minimaOf, Settings, sharedSettings } from "./settings";
import { T } from "./types";
import { notJudgedInPreview, read, show, UNKNOWN } from "./unknowns";

// ---- Checks shared with the baseline policy. Each returns messages without the resource's name.

export function versioningProblems(type: string, props: unknown): string[] {
    const view = versioningOf(type, props);
    if (view === undefined || view.status === UNKNOWN || view.status === "Enabled") {
        return [];
    }
    return [`${view.field} is ${show(view.declared)}; the runbook requires versioning "Enabled" (secrets/ keeps 7 versions, deleted backups stay recoverable)`];
}

/** The versioning input that is unknown in the plan (an outside stack's output, a preview), for the not-judged list. */
export function versioningUnknowns(type: string, props: unknown): string[] {
    const view = versioningOf(type, props);
    return view !== undefined && view.status === UNKNOWN ? [view.field] : [];
}

const isKms = (algorithm: unknown): boolean => algorithm === "aws:kms" || algorithm === "aws:kms:dsse";
const meetsKms = ({ algorithm, key }: EncryptionDefault): boolean => isKms(algorithm) && typeof key === "string" && key !== "";
/** A rule an unknown part could still make SSE-KMS with a key: its algorithm unknown, or KMS with its key unknown. */
const mayMeetKms = ({ algorithm, key }: EncryptionDefault): boolean => algorithm === UNKNOWN || (isKms(algorithm) && key === UNKNOWN);

export function encryptionProblems(type: string, props: unknown): string[] {
    const declared = encryptionDefaultsOf(type, props);
    if (declared === undefined || declared.defaults === UNKNOWN) {
        return [];
    }
    const defaults = declared.defaults;
    // A rule whose unknown part could still meet it is judged at the update (encryptionUnknowns lists it); a rule
    // that fails whatever its unknown part holds (SSE-S3 with an unknown key) is judged now.
    if (defaults.some((d) => meetsKms(d) || mayMeetKms(d))) {
        return [];
    }
    const found = defaults.length === 0 ? "no default encryption rule" : `sseAlgorithm ${defaults.map((d) => show(d.algorithm)).join(", ")} with kmsMasterKeyId ${defaults.map((d) => show(d.key)).join(", ")}`;
    return [`default encryption has ${found}; the runbook requires SSE-KMS with a customer-managed key (sseAlgorithm "aws:kms" and a kmsMasterKeyId)`];
}

/** KMS resources whose ARN (or key id) names a customer-managed key: an aws:kms Key's own, or an alias of one. */
const KMS_KEY_TYPES: readonly string[] = ["aws:kms/key:Key", "aws:kms/replicaKey:ReplicaKey", "aws:kms/externalKey:ExternalKey", "aws:kms/replicaExternalKey:ReplicaExternalKey", "aws:kms/alias:Alias"];

/** The argument that holds a declaration's default encryption rules (its property dependencies are recorded per argument). */
function encryptionArgument(type: string): string {
    return type === T.bucket ? "serverSideEncryptionConfiguration" : type === T.bucketV2 ? "serverSideEncryptionConfigurations" : "rules";
}

/**
 * The encryption inputs that are unknown in the plan and could still make the rule SSE-KMS with a key, for the
 * not-judged list. A kmsMasterKeyId unknown only because it is the ARN of a KMS key the stack itself declares
 * (every dependency of the rules is such a key: `kmsMasterKeyId: key.arn` in a preview, before the key exists) is
 * that customer-managed key, so SSE-KMS with it is judged met; a key from anywhere else (an outside stack's output)
 * is listed.
 */
export function encryptionUnknowns(resource: StackResource): string[] {
    const declared = encryptionDefaultsOf(resource.type, resource.props);
    if (declared === undefined) {
        return [];
    }
    if (declared.defaults === UNKNOWN) {
        return [declared.field];
    }
    const dependencies = resource.propertyDependencies?.[encryptionArgument(resource.type)] ?? [];
    const keyOfTheStack = dependencies.length > 0 && dependencies.every((d) => KMS_KEY_TYPES.includes(d.type));
    if (declared.defaults.some((d) => meetsKms(d) || (keyOfTheStack && isKms(d.algorithm) && d.key === UNKNOWN))) {
        return [];
    }
    return declared.defaults.filter(mayMeetKms).flatMap(({ algorithm, key, field }) => [...(algorithm === UNKNOWN ? [`${field}.sseAlgorithm`] : []), ...(key === UNKNOWN ? [`${field}.kmsMasterKeyId`] : [])]);
}

const PUBLIC_ACCESS_FLAGS = ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"];

export function publicAccessProblems(_type: string, props: unknown): string[] {
    return PUBLIC_ACCESS_FLAGS.flatMap((flag) => {
        const value = read(props, flag);
        return value === UNKNOWN || value === true ? [] : [`${flag} is ${show(value)}; the runbook requires public access fully blocked (true)`];
    });
}

/** The public access block's flags that are unknown in the plan, for the not-judged list. */
export function publicAccessUnknowns(_type: string, props: unknown): string[] {
    return PUBLIC_ACCESS_FLAGS.filter((flag) => read(props, flag) === UNKNOWN);
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

/** `stack`: the bucket's group and the stack, for the COMPLIANCE Object Lock floor the retention matrix counts too (lockFloorOf). */
export function lifecycleRetentionProblems(type: string, props: unknown, settings: Settings, stack?: BucketContext): string[] {
    const rules = lifecycleRulesOf(type, props);
    return rules === UNKNOWN || rules === undefined ? [] : lifecycleProblems(rules, minimaOf(settings), stack ? lockFloorOf(stack.group, stack.index) : undefined);
}

// ---- Stack policies, one per aspect.

/** The bucket a declaration belongs to, and the stack's index, for checks that read the bucket's other declarations. */
interface BucketContext {
    group: BucketGroup;
    index: StackIndex;
}

type Check = (type: string, props: unknown, settings: Settings, stack: BucketContext) => string[];

/**
 * For an aspect whose unknown inputs are listed rather than passed (h35 unknowns): the inputs of a declaration
 * that are unknown in the plan and decide its verdict, what the aspect is called in the entry, and what the
 * update will judge.
 */
interface UnknownInputs {
    inputs: (resource: StackResource) => string[];
    aspect: string;
    why: string;
}

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

function aspectPolicy(
    name: string,
    description: string,
    aspect: keyof BucketGroup["config"],
    inline: boolean,
    check: Check,
    severity: "high" | "critical" = "high",
    unknowns?: UnknownInputs,
): StackValidationPolicy {
    return {
        name,
        description,
        enforcementLevel: "mandatory",
        severity,
        validateStack: (args: StackValidationArgs, reportViolation) => {
            const settings = sharedSettings();
            const unresolved: string[] = [];
            const index = indexStack(args.resources, settings);
            for (const group of index.buckets.values()) {
                if (!group.backup) {
                    continue;
                }
                for (const resource of declarations(group, aspect, inline)) {
                    const problems = check(resource.type, resource.props, settings, { group, index });
                    for (const problem of problems) {
                        reportViolation(`${resource.name} (bucket ${bucketLabel(group)}): ${problem}`, resource.urn);
                    }
                    // An input unknown in the plan (an outside stack's output, a preview) is judged at the update:
                    // said so, naming the bucket and the input, never passed silently. Other buckets are judged first.
                    const inputs = problems.length === 0 && unknowns ? unknowns.inputs(resource) : [];
                    if (inputs.length > 0) {
                        const bucketName = group.name === UNKNOWN ? group.bucket?.name ?? resource.name : group.name;
                        unresolved.push(`${bucketName} ${unknowns!.aspect} ${inputs.join(", ")} (${resource.name} (${resource.type.split(":").pop()}))`);
                    }
                }
            }
            if (unknowns && unresolved.length > 0) {
                notJudgedInPreview(args, unresolved, unknowns.why);
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
    "high",
    { inputs: (r) => versioningUnknowns(r.type, r.props), aspect: "versioning", why: 'whether the backup bucket keeps object versions (versioning "Enabled")' },
);
export const s3BackupEncryption = aspectPolicy(
    "s3-backup-encryption",
    "Backup buckets encrypt objects with SSE-KMS and a customer-managed key (any encryption configuration resource, or the bucket's inline one).",
    "encryption",
    true,
    encryptionProblems,
    "high",
    { inputs: encryptionUnknowns, aspect: "default encryption", why: 'whether the backup bucket encrypts objects with SSE-KMS and a customer-managed key (sseAlgorithm "aws:kms" and a kmsMasterKeyId)' },
);
export const s3BackupPublicAccessBlock = aspectPolicy(
    "s3-backup-public-access-block",
    "Backup buckets block public access entirely (all four BucketPublicAccessBlock flags true).",
    "publicAccess",
    false,
    publicAccessProblems,
    "high",
    { inputs: (r) => publicAccessUnknowns(r.type, r.props), aspect: "public access block", why: "whether the backup bucket blocks public access entirely (all four flags true)" },
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
