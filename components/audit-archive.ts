/**
 * Continuous archive of the server's audit log into the `audit/` prefix of the audit archive's own bucket
 * (`oauth2-audit-<stack>`, stacks/compose-storage.ts), where the lifecycle keeps it for the table's year and
 * the Object Lock's default retention locks it for that year too: Firehose cannot set a per-object
 * retain-until, so each object gets exactly the bucket's default (bucket replication carries it, with its
 * lock, to the DR region and the vault account).
 * CloudWatch Logs streams every event to Kinesis Data Firehose through a subscription filter; Firehose
 * writes compressed batches every 5 minutes, encrypted with the bucket's key.
 */
import * as pulumi from "@pulumi/pulumi";
import * as cloudwatch from "@pulumi/aws/cloudwatch";
import * as iam from "@pulumi/aws/iam";
import * as kinesis from "@pulumi/aws/kinesis";

export interface AuditArchiveArgs {
    logGroupName: pulumi.Input<string>;
    logGroup: pulumi.Resource;
    region: string;
    bucketArn: pulumi.Input<string>;
    bucketKmsKeyArn: pulumi.Input<string>;
    /** The retention table's prefix for audit logs. */
    prefix: string;
    tags: Record<string, string>;
}

export class AuditArchive extends pulumi.ComponentResource {
    readonly deliveryStreamArn: pulumi.Output<string>;

    constructor(name: string, args: AuditArchiveArgs, opts?: pulumi.ComponentResourceOptions) {
        super("oauth2-dr:logging:AuditArchive", name, {}, opts);

        const firehoseRole = new iam.Role(`${name}-firehose`, {
            description: "Firehose delivery of the audit log into the backup bucket",
            assumeRolePolicy: JSON.stringify({
                Version: "2012-10-17",
                Statement: [{ Effect: "Allow", Principal: { Service: "firehose.amazonaws.com" }, Action: "sts:AssumeRole" }],
            }),
            tags: args.tags,
        }, { parent: this });
        // Only the audit prefix, only the bucket's key: this role cannot touch database dumps or secrets.
        const firehosePolicy = new iam.RolePolicy(`${name}-firehose`, {
            role: firehoseRole.name,
            policy: pulumi.jsonStringify({
                Version: "2012-10-17",
                Statement: [
                    { Effect: "Allow", Action: ["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"], Resource: args.bucketArn },
                    {
                        Effect: "Allow",
                        Action: ["s3:PutObject", "s3:AbortMultipartUpload"],
                        Resource: pulumi.interpolate`${args.bucketArn}/${args.prefix}*`,
                    },
                    {
                        Effect: "Allow",
                        Action: ["kms:GenerateDataKey", "kms:Encrypt"],
                        Resource: args.bucketKmsKeyArn,
                        Condition: { StringEquals: { "kms:ViaService": `s3.${args.region}.amazonaws.com` } },
                    },
                ],
            }),
        }, { parent: this });

        const stream = new kinesis.FirehoseDeliveryStream(`${name}-stream`, {
            name: "oauth2-audit-archive",
            destination: "extended_s3",
            serverSideEncryption: { enabled: true, keyType: "AWS_OWNED_CMK" },
            extendedS3Configuration: {
                roleArn: firehoseRole.arn,
                bucketArn: args.bucketArn,
                prefix: `${args.prefix}!{timestamp:yyyy/MM/dd}/`,
                errorOutputPrefix: `${args.prefix}errors/!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd}/`,
                bufferingInterval: 300,
                bufferingSize: 5,
                compressionFormat: "GZIP",
                kmsKeyArn: args.bucketKmsKeyArn,
            },
            tags: args.tags,
        }, { parent: this, dependsOn: [firehosePolicy] });

        const logsRole = new iam.Role(`${name}-logs`, {
            description: "CloudWatch Logs subscription of the audit log to Firehose",
            assumeRolePolicy: JSON.stringify({
                Version: "2012-10-17",
                Statement: [{ Effect: "Allow", Principal: { Service: `logs.${args.region}.amazonaws.com` }, Action: "sts:AssumeRole" }],
            }),
            tags: args.tags,
        }, { parent: this });
        const logsPolicy = new iam.RolePolicy(`${name}-logs`, {
            role: logsRole.name,
            policy: pulumi.jsonStringify({
                Version: "2012-10-17",
                Statement: [{ Effect: "Allow", Action: ["firehose:PutRecord", "firehose:PutRecordBatch"], Resource: stream.arn }],
            }),
        }, { parent: this });

        new cloudwatch.LogSubscriptionFilter(`${name}-subscription`, {
            name: "oauth2-audit-to-s3",
            logGroup: args.logGroupName,
            // An empty pattern forwards every event: an audit trail is not sampled.
            filterPattern: "",
            destinationArn: stream.arn,
            roleArn: logsRole.arn,
        }, { parent: this, dependsOn: [logsPolicy, args.logGroup] });

        this.deliveryStreamArn = stream.arn;
        this.registerOutputs({ deliveryStreamArn: this.deliveryStreamArn });
    }
}
