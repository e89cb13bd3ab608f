/**
 * Replication of the prod backup bucket into the DR region's bucket, declared by the dr stack (the DR
 * bucket must exist before prod can replicate into it). Every object, delete marker included, arrives
 * re-encrypted with the DR key within 15 minutes (S3 Replication Time Control), which bounds the RPO of
 * the exports in a regional failover.
 */
import * as pulumi from "@pulumi/pulumi";
import * as iam from "@pulumi/aws/iam";
import * as s3 from "@pulumi/aws/s3";

export interface BucketReplicationArgs {
    sourceBucketName: pulumi.Input<string>;
    sourceBucketArn: pulumi.Input<string>;
    sourceKmsKeyArn: pulumi.Input<string>;
    /** Region of the source bucket: the replication configuration is a sub-resource of it. */
    sourceRegion: string;
    destinationBucketArn: pulumi.Input<string>;
    destinationKmsKeyArn: pulumi.Input<string>;
    destinationRegion: string;
    /** Resources the destination needs first (its versioning). */
    dependsOn?: pulumi.Resource[];
    tags: Record<string, string>;
}

export class BucketReplication extends pulumi.ComponentResource {
    readonly roleArn: pulumi.Output<string>;

    constructor(name: string, args: BucketReplicationArgs, opts?: pulumi.ComponentResourceOptions) {
        super("oauth2-dr:storage:BucketReplication", name, {}, opts);

        const role = new iam.Role(`${name}-role`, {
            name: `${name}-s3-replication`,
            description: "S3 replication of the OAuth2 backup bucket into the DR region",
            assumeRolePolicy: JSON.stringify({
                Version: "2012-10-17",
                Statement: [{ Effect: "Allow", Principal: { Service: "s3.amazonaws.com" }, Action: "sts:AssumeRole" }],
            }),
            tags: args.tags,
        }, { parent: this });

        // Least privilege: read versions from the source, write replicas to the destination, and use each
        // bucket's key only through S3 in that bucket's region.
        const policy = new iam.RolePolicy(`${name}-policy`, {
            role: role.name,
            policy: pulumi.jsonStringify({
                Version: "2012-10-17",
                Statement: [
                    { Effect: "Allow", Action: ["s3:GetReplicationConfiguration", "s3:ListBucket"], Resource: args.sourceBucketArn },
                    {
                        Effect: "Allow",
                        Action: ["s3:GetObjectVersionForReplication", "s3:GetObjectVersionAcl", "s3:GetObjectVersionTagging"],
                        Resource: pulumi.interpolate`${args.sourceBucketArn}/*`,
                    },
                    {
                        Effect: "Allow",
                        Action: ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"],
                        Resource: pulumi.interpolate`${args.destinationBucketArn}/*`,
                    },
                    {
                        Effect: "Allow",
                        Action: ["kms:Decrypt"],
                        Resource: args.sourceKmsKeyArn,
                        Condition: { StringLike: { "kms:ViaService": `s3.${args.sourceRegion}.amazonaws.com` } },
                    },
                    {
                        Effect: "Allow",
                        Action: ["kms:Encrypt", "kms:GenerateDataKey"],
                        Resource: args.destinationKmsKeyArn,
                        Condition: { StringLike: { "kms:ViaService": `s3.${args.destinationRegion}.amazonaws.com` } },
                    },
                ],
            }),
        }, { parent: this });

        new s3.BucketReplicationConfig(`${name}-config`, {
            region: args.sourceRegion,
            bucket: args.sourceBucketName,
            role: role.arn,
            rules: [{
                id: "backups-to-dr-region",
                status: "Enabled",
                priority: 1,
                filter: { prefix: "" },
                deleteMarkerReplication: { status: "Enabled" },
                sourceSelectionCriteria: { sseKmsEncryptedObjects: { status: "Enabled" } },
                destination: {
                    bucket: args.destinationBucketArn,
                    storageClass: "STANDARD",
                    encryptionConfiguration: { replicaKmsKeyId: args.destinationKmsKeyArn },
                    replicationTime: { status: "Enabled", time: { minutes: 15 } },
                    metrics: { status: "Enabled", eventThreshold: { minutes: 15 } },
                },
            }],
        }, { parent: this, dependsOn: [policy, ...(args.dependsOn ?? [])] });

        this.roleArn = role.arn;
        this.registerOutputs({ roleArn: this.roleArn });
    }
}
