/**
 * Stack policies for backup buckets: what one resource cannot show.
 * - `s3-backup-bucket-baseline`: every backup bucket declared in the stack has versioning, SSE-KMS, a full
 *   public access block and a TLS-only policy at all (aws v7 configures them in separate resources; the
 *   bucket's deprecated inline arguments count too). Buckets recognised only by tag (not by name prefix)
 *   have their configuration judged here as well, since the resource policies cannot link them.
 * - `s3-backup-replication`: backup buckets are replicated to another region. The replication from the
 *   primary's bucket into the DR bucket must be declared by the standby stack (the destination must exist
 *   first), with `region` = the primary region on the BucketReplicationConfig. So by default
 *   (`replicationDeclaredBy: standby`) a standby stack must show, for each of its backup buckets, an Enabled
 *   cross-region replication rule into it, and a primary stack is not judged; with `self`, and in a stack
 *   of unknown role, each backup bucket must be the source (or destination) of cross-region replication
 *   declared in the same stack.
 */
import { StackValidationArgs, StackValidationPolicy } from "@pulumi/policy";
import { BACKUP_BUCKET_SCHEMA, BackupBucketConfig, configOf } from "./config";
import { BucketGroup, bucketNameFromArn, indexStack, regionOf, StackIndex, StackResource, T } from "./resources";
import { deniesInsecureTransport, encryptionProblems, publicAccessProblems, tlsPolicyProblems, versioningProblems } from "./s3";
import { ROLE_SCHEMA, RoleConfig, stackRole } from "./roles";
import { read, readArray, UNKNOWN } from "./unknowns";

const baselineSchema = { properties: { ...BACKUP_BUCKET_SCHEMA } };

interface Aspect {
    label: string;
    type: typeof T.versioning | typeof T.sse | typeof T.publicAccess | typeof T.policy;
    missing: string;
    check: (props: unknown) => string[];
    /** The bucket's deprecated inline argument that provides the same, if any. */
    inline?: (bucket: StackResource) => boolean;
}

const ASPECTS: Aspect[] = [
    {
        label: "versioning",
        type: T.versioning,
        missing: 'has no BucketVersioning (versioning is off); the runbook requires versioning "Enabled"',
        check: versioningProblems,
        inline: (b) => read(b.props, "versioning", "enabled") === true,
    },
    {
        label: "encryption",
        type: T.sse,
        missing: "has no BucketServerSideEncryptionConfiguration; the runbook requires SSE-KMS with a customer-managed key",
        check: encryptionProblems,
        inline: (b) => read(b.props, "serverSideEncryptionConfiguration", "rule", "applyServerSideEncryptionByDefault", "sseAlgorithm") === "aws:kms",
    },
    {
        label: "public access block",
        type: T.publicAccess,
        missing: "has no BucketPublicAccessBlock; the runbook requires public access fully blocked",
        check: publicAccessProblems,
    },
    {
        label: "TLS-only policy",
        type: T.policy,
        missing: "has no BucketPolicy denying insecure transport; the runbook requires TLS-only access",
        check: tlsPolicyProblems,
        inline: (b) => deniesInsecureTransport(read(b.props, "policy")),
    },
];

export function baselineProblems(group: BucketGroup): Array<{ urn?: string; message: string }> {
    const bucket = group.bucket!;
    const name = group.name === UNKNOWN ? bucket.name : group.name;
    const out: Array<{ urn?: string; message: string }> = [];
    for (const aspect of ASPECTS) {
        const configs = group.config[aspect.type];
        if (configs.length === 0) {
            if (!aspect.inline?.(bucket)) {
                out.push({ urn: bucket.urn, message: `${name}: backup bucket ${aspect.missing}` });
            }
            continue;
        }
        // Name-matched buckets: the resource policies already judged these resources.
        if (!group.backupByName) {
            for (const config of configs) {
                for (const problem of aspect.check(config.props)) {
                    out.push({ urn: config.urn, message: `${config.name} (backup bucket ${name}, tagged): ${problem}` });
                }
            }
        }
    }
    return out;
}

export const s3BackupBucketBaseline: StackValidationPolicy = {
    name: "s3-backup-bucket-baseline",
    description: "Every backup bucket in the stack has versioning, SSE-KMS, a full public access block and a TLS-only bucket policy.",
    enforcementLevel: "mandatory",
    severity: "high",
    configSchema: baselineSchema,
    validateStack: (args, reportViolation) => {
        const config = configOf<BackupBucketConfig>(baselineSchema, args);
        const index = indexStack(args.resources, config);
        for (const group of index.buckets.values()) {
            if (group.bucket && group.backup) {
                for (const { urn, message } of baselineProblems(group)) {
                    reportViolation(message, urn);
                }
            }
        }
    },
};

const replicationSchema = {
    properties: {
        ...BACKUP_BUCKET_SCHEMA,
        ...ROLE_SCHEMA,
        replicationDeclaredBy: {
            type: "string" as const,
            enum: ["standby", "self"],
            default: "standby",
            description: "standby: the standby stack declares the replication from the primary's bucket into its own (the primary stack is not judged); self: each stack replicates its own backup buckets.",
        },
    },
};

interface ReplicationConfig extends BackupBucketConfig, RoleConfig {
    replicationDeclaredBy: "standby" | "self";
}

export interface ReplicationLink {
    resource: StackResource;
    source: string;
    destination: string;
    sourceRegion: string;
    destinationRegion: string;
}

/** Enabled cross-region replication rules in the stack, as (source bucket -> destination bucket) links. */
export function replicationLinks(index: StackIndex): { links: ReplicationLink[]; unknown: boolean; sameRegion: string[] } {
    const links: ReplicationLink[] = [];
    const sameRegion: string[] = [];
    let unknown = false;
    for (const resource of index.ofType(T.replication)) {
        const source = read(resource.props, "bucket");
        const sourceRegion = regionOf(resource);
        const rules = readArray(resource.props, "rules");
        if (source === UNKNOWN || rules === UNKNOWN) {
            unknown = true;
            continue;
        }
        for (const rule of rules ?? []) {
            const status = read(rule, "status");
            const destination = bucketNameFromArn(read(rule, "destination", "bucket"));
            if (status === UNKNOWN || destination === UNKNOWN) {
                unknown = true;
                continue;
            }
            if (status !== "Enabled" || typeof destination !== "string") {
                continue;
            }
            const declared = index.buckets.get(destination)?.bucket;
            const destinationRegion = declared ? regionOf(declared) : undefined;
            if (sourceRegion === UNKNOWN || destinationRegion === UNKNOWN) {
                unknown = true;
                continue;
            }
            // A destination declared elsewhere has no region we can see: accept it when the source differs.
            if (typeof sourceRegion === "string" && typeof destinationRegion === "string" && sourceRegion === destinationRegion) {
                sameRegion.push(`${resource.name}: ${String(source)} -> ${destination} stays in ${sourceRegion}`);
                continue;
            }
            links.push({
                resource,
                source: String(source),
                destination,
                sourceRegion: typeof sourceRegion === "string" ? sourceRegion : "the provider's region",
                destinationRegion: typeof destinationRegion === "string" ? destinationRegion : "another stack's region",
            });
        }
    }
    return { links, unknown, sameRegion };
}

export const s3BackupReplication: StackValidationPolicy = {
    name: "s3-backup-replication",
    description: "Backup buckets are replicated to another region (an Enabled BucketReplicationConfig rule whose destination is in a different region).",
    enforcementLevel: "mandatory",
    severity: "critical",
    configSchema: replicationSchema,
    validateStack: (args: StackValidationArgs, reportViolation) => {
        const config = configOf<ReplicationConfig>(replicationSchema, args);
        const index = indexStack(args.resources, config);
        const role = stackRole(index, args.resources, args.stackTags, config);
        if (role === "primary" && config.replicationDeclaredBy === "standby") {
            return;
        }
        const { links, unknown, sameRegion } = replicationLinks(index);
        if (unknown) {
            return;
        }
        const backupBuckets = [...index.buckets.values()].filter((g) => g.bucket && g.backup);
        const why = sameRegion.length > 0 ? ` (${sameRegion.join("; ")})` : "";
        if (role === "standby") {
            if (backupBuckets.length === 0 && links.length === 0) {
                reportViolation(`this standby stack declares no backup bucket and no cross-region replication of the primary's backups${why}; the runbook requires the backups to be replicated into the DR region`);
            }
            for (const group of backupBuckets) {
                if (!links.some((l) => l.destination === group.name)) {
                    reportViolation(`${String(group.name)}: no Enabled cross-region BucketReplicationConfig rule in this standby stack replicates the primary's backups into this bucket${why}; the runbook requires backups replicated to the DR region (declare it here with region = the primary region)`, group.bucket!.urn);
                }
            }
            return;
        }
        for (const group of backupBuckets) {
            if (!links.some((l) => l.source === group.name || l.destination === group.name)) {
                reportViolation(`${String(group.name)}: backup bucket is not the source of an Enabled cross-region BucketReplicationConfig rule in this stack${why}; the runbook requires backups replicated to another region`, group.bucket!.urn);
            }
        }
    },
};

export const s3StackPolicies = [s3BackupBucketBaseline, s3BackupReplication];
