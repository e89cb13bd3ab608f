/**
 * Alarms that protect the RTO/RPO table, all notifying the SNS topic from config, and a dashboard:
 *  - replica lag above the region RPO (1 hour; dr stack, while the replica replicates): the "Region failure,
 *    RPO 1 hour" row stops being true the moment it fires; missing data counts as breaching (replication
 *    stopped reporting);
 *  - the Route 53 health check failing (HealthCheckStatus lives in us-east-1 only, so that alarm is declared
 *    there): the failover is happening or the standby could not take over;
 *  - AWS Backup job and copy-job failures (primary);
 *  - the backup CronJob's output missing: a dead man's switch on the bucket's `database/` prefix (S3 request
 *    metrics) that fires when no dump arrived within 26 hours. CloudWatch cannot see a Kubernetes Job's
 *    status without an in-cluster exporter, but it can see that the job's product did not arrive, which is
 *    what the RPO depends on.
 */
import * as pulumi from "@pulumi/pulumi";
import * as cloudwatch from "@pulumi/aws/cloudwatch";
import * as s3 from "@pulumi/aws/s3";

/** The region row of the RTO/RPO table: RPO 1 hour. */
export const REGION_RPO_SECONDS = 3600;
/** Daily dump + 2 hours of slack for a slow run. */
export const DUMP_FRESHNESS_SECONDS = 26 * 3600;

export interface AlarmsArgs {
    stack: string;
    region: string;
    topicArn: string;
    /** us-east-1 topic for the health check alarm. */
    healthCheckTopicArn: string;
    healthCheckId: pulumi.Input<string>;
    failover: "PRIMARY" | "SECONDARY";
    /** The instance serving (or ready to serve) this region. */
    dbInstanceIdentifier: pulumi.Input<string>;
    /** Set while the dr replica replicates: declares the replica-lag alarm. */
    replicating: boolean;
    /** Primary with AWS Backup: the vault whose job failures alarm. */
    backupVaultName?: pulumi.Input<string>;
    /** The bucket the db-backup CronJob writes database/ dumps to (dead man's switch). */
    dumpBucket?: { name: pulumi.Input<string>; prefix: string };
    tags: Record<string, string>;
}

export class Alarms extends pulumi.ComponentResource {
    readonly alarmNames: pulumi.Output<string>[] = [];
    readonly dashboardName: pulumi.Output<string>;

    constructor(name: string, args: AlarmsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("oauth2-dr:monitoring:Alarms", name, {}, opts);
        const prefix = `oauth2-dr-${args.stack}`;
        const alarm = (id: string, props: cloudwatch.MetricAlarmArgs, topic = args.topicArn) => {
            const a = new cloudwatch.MetricAlarm(`${prefix}-${id}`, {
                name: `${prefix}-${id}`,
                alarmActions: [topic],
                okActions: [topic],
                tags: args.tags,
                ...props,
            }, { parent: this });
            this.alarmNames.push(a.name);
            return a;
        };
        const widgets: unknown[] = [];

        if (args.replicating) {
            alarm("replica-lag", {
                alarmDescription: `Cross-region replica lag above the region RPO (${REGION_RPO_SECONDS} s): a regional failover now would lose more than the table allows`,
                namespace: "AWS/RDS",
                metricName: "ReplicaLag",
                dimensions: { DBInstanceIdentifier: args.dbInstanceIdentifier },
                statistic: "Maximum",
                period: 60,
                evaluationPeriods: 5,
                threshold: REGION_RPO_SECONDS,
                comparisonOperator: "GreaterThanThreshold",
                treatMissingData: "breaching",
            });
            widgets.push(metricWidget("Replica lag (s), RPO 3600", args.region, [["AWS/RDS", "ReplicaLag", "DBInstanceIdentifier", args.dbInstanceIdentifier]]));
        }

        alarm("health-check", {
            alarmDescription: `Route 53 health check of the ${args.failover.toLowerCase()} endpoint is failing`,
            region: "us-east-1",
            namespace: "AWS/Route53",
            metricName: "HealthCheckStatus",
            dimensions: { HealthCheckId: args.healthCheckId },
            statistic: "Minimum",
            period: 60,
            evaluationPeriods: 2,
            threshold: 1,
            comparisonOperator: "LessThanThreshold",
            treatMissingData: "breaching",
        }, args.healthCheckTopicArn);
        widgets.push(metricWidget("Health check (1 = healthy)", "us-east-1", [["AWS/Route53", "HealthCheckStatus", "HealthCheckId", args.healthCheckId]]));

        if (args.backupVaultName) {
            for (const [id, metric] of [["backup-jobs-failed", "NumberOfBackupJobsFailed"], ["copy-jobs-failed", "NumberOfCopyJobsFailed"]] as const) {
                alarm(id, {
                    alarmDescription: `AWS Backup: ${metric} in the vault`,
                    namespace: "AWS/Backup",
                    metricName: metric,
                    dimensions: { BackupVaultName: args.backupVaultName },
                    statistic: "Sum",
                    period: 3600,
                    evaluationPeriods: 1,
                    threshold: 0,
                    comparisonOperator: "GreaterThanThreshold",
                    treatMissingData: "notBreaching",
                });
            }
            widgets.push(metricWidget("AWS Backup failures", args.region, [
                ["AWS/Backup", "NumberOfBackupJobsFailed", "BackupVaultName", args.backupVaultName],
                ["AWS/Backup", "NumberOfCopyJobsFailed", "BackupVaultName", args.backupVaultName],
            ]));
        }

        if (args.dumpBucket) {
            const filterId = "database-dumps";
            new s3.BucketMetric(`${prefix}-${filterId}`, {
                bucket: args.dumpBucket.name,
                name: filterId,
                filter: { prefix: args.dumpBucket.prefix },
            }, { parent: this });
            alarm("db-dump-missing", {
                alarmDescription: `No object written under ${args.dumpBucket.prefix} for ${DUMP_FRESHNESS_SECONDS / 3600} h: the db-backup CronJob is failing`,
                namespace: "AWS/S3",
                metricName: "PutRequests",
                dimensions: { BucketName: args.dumpBucket.name, FilterId: filterId },
                statistic: "Sum",
                period: 3600,
                evaluationPeriods: DUMP_FRESHNESS_SECONDS / 3600,
                threshold: 1,
                comparisonOperator: "LessThanThreshold",
                treatMissingData: "breaching",
            });
        }

        widgets.push(metricWidget("Database storage free (bytes)", args.region, [["AWS/RDS", "FreeStorageSpace", "DBInstanceIdentifier", args.dbInstanceIdentifier]]));
        const dashboard = new cloudwatch.Dashboard(`${prefix}-dashboard`, {
            dashboardName: prefix,
            dashboardBody: pulumi.jsonStringify({ widgets }),
        }, { parent: this });
        this.dashboardName = dashboard.dashboardName;
        this.registerOutputs({ alarmNames: this.alarmNames, dashboardName: this.dashboardName });
    }
}

function metricWidget(title: string, region: string, metrics: pulumi.Input<string>[][]): unknown {
    return { type: "metric", width: 12, height: 6, properties: { title, region, stat: "Maximum", period: 300, metrics } };
}
