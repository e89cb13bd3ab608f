/**
 * Replication of a backup bucket, declared by the dr stack (the destinations must exist before the source can
 * replicate into them):
 *  - prod's bucket into the DR region's bucket: every object, delete marker included, arrives re-encrypted
 *    with the DR key within 15 minutes (S3 Replication Time Control), which bounds the RPO of the exports in
 *    a regional failover;
 *  - prod's bucket, and the dr bucket itself, into the vault account's bucket (`vault`): every object, with
 *    its Object Lock retention, re-encrypted with the vault's key and owned by the vault account
 *    (accessControlTranslation Destination), so no production credential can delete or shorten the copy.
 *    Delete markers are not replicated there: a deletion in production never hides a vault copy.
 * One BucketReplicationConfig per source bucket (S3 keeps one replication configuration per bucket), one
 * rule per destination.
 */
import * as pulumi from "@pulumi/pulumi";
import * as iam from "@pulumi/aws/iam";
import * as s3 from "@pulumi/aws/s3";

/** The vault account's bucket, as the vault stack exports it. */
export interface VaultDestination {
    bucketArn: pulumi.Input<string>;
    kmsKeyArn: pulumi.Input<string>;
    region: pulumi.Input<string>;
    accountId: pulumi.Input<string>;
}

export interface BucketReplicationArgs {
    /**
     * The stack declaring the replication: its role's IAM name carries it (replicationRoleName), so that dr,
     * dr-azure and dr-gcp, which share prod's account, do not declare the same role.
     */
    stack?: string;
    sourceBucketName: pulumi.Input<string>;
    sourceBucketArn: pulumi.Input<string>;
    sourceKmsKeyArn: pulumi.Input<string>;
    /** Region of the source bucket: the replication configuration is a sub-resource of it. */
    sourceRegion: string;
    /** The DR region's bucket (omitted when the source is the DR bucket itself). */
    destination?: { bucketArn: pulumi.Input<string>; kmsKeyArn: pulumi.Input<string>; region: string };
    /** The vault account's bucket. */
    vault?: VaultDestination;
    /** Resources the destination needs first (its versioning). */
    dependsOn?: pulumi.Resource[];
    tags: Record<string, string>;
}

/** Read a source version with its Object Lock retention and legal hold (replicas keep the lock). */
const SOURCE_OBJECT_ACTIONS = [
    "s3:GetObjectVersionForReplication",
    "s3:GetObjectVersionAcl",
    "s3:GetObjectVersionTagging",
    "s3:GetObjectRetention",
    "s3:GetObjectLegalHold",
];

/**
 * Roles that were deployed before role names carried the stack: dr's two replication roles. IAM's role name
 * cannot change in place (a new name replaces the role, and the vault bucket's policy names it by ARN), so
 * they keep their names; every other stack's roles, and dr's newer ones, carry the stack name.
 */
export const ROLE_NAMES_BEFORE_STACK_SUFFIX: ReadonlySet<string> = new Set(["dr/backup-replication", "dr/vault-replication"]);

/** The IAM role name of the replication `name` declared by `stack` (unique per account across our stacks). */
export function replicationRoleName(name: string, stack?: string): string {
    const roleName = stack === undefined || ROLE_NAMES_BEFORE_STACK_SUFFIX.has(`${stack}/${name}`) ? `${name}-s3-replication` : `${name}-${stack}-s3-replication`;
    if (roleName.length > 64) {
        throw new Error(`BucketReplication ${name} (stack ${stack}): IAM role name ${roleName} is longer than IAM's 64 characters; use a shorter stack name`);
    }
    return roleName;
}

export class BucketReplication extends pulumi.ComponentResource {
    readonly roleArn: pulumi.Output<string>;
    readonly roleName: pulumi.Output<string>;

    constructor(name: string, args: BucketReplicationArgs, opts?: pulumi.ComponentResourceOptions) {
        super("oauth2-dr:storage:BucketReplication", name, {}, opts);
        if (!args.destination && !args.vault) {
            throw new Error(`BucketReplication ${name}: no destination (a DR bucket or the vault account's bucket)`);
        }

        const role = new iam.Role(`${name}-role`, {
            name: replicationRoleName(name, args.stack),
            description: "S3 replication of the OAuth2 backup bucket into the DR region and the vault account",
            assumeRolePolicy: JSON.stringify({
                Version: "2012-10-17",
                Statement: [{ Effect: "Allow", Principal: { Service: "s3.amazonaws.com" }, Action: "sts:AssumeRole" }],
            }),
            tags: args.tags,
        }, { parent: this });

        // Least privilege: read versions (and their locks) from the source, write replicas to the destinations
        // (no delete into the vault), and use each bucket's key only through S3 in that bucket's region.
        const statements: unknown[] = [
            { Effect: "Allow", Action: ["s3:GetReplicationConfiguration", "s3:ListBucket"], Resource: args.sourceBucketArn },
            { Effect: "Allow", Action: SOURCE_OBJECT_ACTIONS, Resource: pulumi.interpolate`${args.sourceBucketArn}/*` },
            {
                Effect: "Allow",
                Action: ["kms:Decrypt"],
                Resource: args.sourceKmsKeyArn,
                Condition: { StringLike: { "kms:ViaService": `s3.${args.sourceRegion}.amazonaws.com` } },
            },
        ];
        const rules: s3.BucketReplicationConfigArgs["rules"] = [];
        if (args.destination) {
            statements.push(
                { Effect: "Allow", Action: ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"], Resource: pulumi.interpolate`${args.destination.bucketArn}/*` },
                {
                    Effect: "Allow",
                    Action: ["kms:Encrypt", "kms:GenerateDataKey"],
                    Resource: args.destination.kmsKeyArn,
                    Condition: { StringLike: { "kms:ViaService": `s3.${args.destination.region}.amazonaws.com` } },
                },
            );
            rules.push({
                id: "backups-to-dr-region",
                status: "Enabled",
                priority: 1,
                filter: { prefix: "" },
                deleteMarkerReplication: { status: "Enabled" },
                sourceSelectionCriteria: { sseKmsEncryptedObjects: { status: "Enabled" } },
                destination: {
                    bucket: args.destination.bucketArn,
                    storageClass: "STANDARD",
                    encryptionConfiguration: { replicaKmsKeyId: args.destination.kmsKeyArn },
                    replicationTime: { status: "Enabled", time: { minutes: 15 } },
                    metrics: { status: "Enabled", eventThreshold: { minutes: 15 } },
                },
            });
        }
        if (args.vault) {
            const vault = args.vault;
            statements.push(
                {
                    Effect: "Allow",
                    Action: ["s3:ReplicateObject", "s3:ReplicateTags", "s3:ObjectOwnerOverrideToBucketOwner"],
                    Resource: pulumi.interpolate`${vault.bucketArn}/*`,
                },
                {
                    Effect: "Allow",
                    Action: ["kms:Encrypt", "kms:GenerateDataKey"],
                    Resource: vault.kmsKeyArn,
                    Condition: { StringLike: { "kms:ViaService": pulumi.interpolate`s3.${vault.region}.amazonaws.com` } },
                },
            );
            rules.push({
                id: "backups-to-vault-account",
                status: "Enabled",
                priority: 2,
                filter: { prefix: "" },
                // A delete marker written in production never hides the vault's copy.
                deleteMarkerReplication: { status: "Disabled" },
                sourceSelectionCriteria: { sseKmsEncryptedObjects: { status: "Enabled" } },
                destination: {
                    bucket: vault.bucketArn,
                    account: vault.accountId,
                    accessControlTranslation: { owner: "Destination" },
                    storageClass: "STANDARD",
                    encryptionConfiguration: { replicaKmsKeyId: vault.kmsKeyArn },
                    replicationTime: { status: "Enabled", time: { minutes: 15 } },
                    metrics: { status: "Enabled", eventThreshold: { minutes: 15 } },
                },
            });
        }

        const policy = new iam.RolePolicy(`${name}-policy`, {
            role: role.name,
            policy: pulumi.jsonStringify({ Version: "2012-10-17", Statement: statements }),
        }, { parent: this });

        new s3.BucketReplicationConfig(`${name}-config`, {
            region: args.sourceRegion,
            bucket: args.sourceBucketName,
            role: role.arn,
            rules,
        }, { parent: this, dependsOn: [policy, ...(args.dependsOn ?? [])] });

        this.roleArn = role.arn;
        this.roleName = role.name;
        this.registerOutputs({ roleArn: this.roleArn });
    }
}
