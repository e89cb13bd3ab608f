/**
 * Alarms that protect the RTO/RPO table, all notifying the SNS topic from config, and a dashboard:
 *  - replica lag above the region RPO (1 hour; dr stack, while the replica replicates): the "Region failure,
 *    RPO 1 hour" row stops being true the moment it fires; missing data counts as breaching (replication
 *    stopped reporting);
 *  - the Route 53 health check failing (HealthCheckStatus lives in us-east-1 only, so that alarm is declared
 *    there): the failover is happening or the standby could not take over;
 *  - AWS Backup job and copy-job failures (primary), and no backup job completed in a day (the plan or its
 *    selection changed or deleted: backup:UpdateBackupPlan / DeleteBackupPlan / DeleteBackupSelection, which the
 *    organization SCP does not refuse; docs/runbook.md "Routes still open (h29 red team)");
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
/** A day: the AWS Backup plan's daily rule completes one job a day (components/aws-backup.ts dailyRule). */
export const BACKUP_JOB_FRESHNESS_SECONDS = 86400;
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
    /**
     * The vaults its daily rule copies into (the DR region's; the vault account's when there is one): AWS Backup
     * publishes a copy job's metrics under its destination vault's name, so the copy failure alarms watch these (h32).
     */
    copyDestinationVaultNames?: CopyDestinations;
    /** The bucket the db-backup CronJob writes database/ dumps to (dead man's switch). */
    dumpBucket?: { name: pulumi.Input<string>; prefix: string };
    tags: Record<string, string>;
}

/** The vaults the daily rule copies into: the DR region's, and the isolated vault account's when there is one. */
export interface CopyDestinations {
    dr: pulumi.Input<string>;
    isolated?: pulumi.Input<string>;
}

export class Alarms extends pulumi.ComponentResource {
    readonly alarmNames: pulumi.Output<string>[] = [];
    readonly dashboardName: pulumi.Output<string>;

    constructor(name: string, args: AlarmsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("oauth2-dr:monitoring:Alarms", name, {}, opts);
        // Declared in this order, each alarm with its dashboard widget (the plan's order and the dashboard's).
        const widgets: unknown[] = [];
        if (args.replicating) {
            widgets.push(this.replicaLagAlarm(args));
        }
        widgets.push(this.healthCheckAlarm(args));
        if (args.backupVaultName) {
            widgets.push(this.awsBackupFailureAlarms(args, args.backupVaultName, args.copyDestinationVaultNames));
        }
        if (args.dumpBucket) {
            this.dumpFreshnessAlarm(args, args.dumpBucket);
        }
        widgets.push(storageFreeWidget(args));
        this.dashboardName = this.dashboard(args, widgets).dashboardName;
        this.registerOutputs({ alarmNames: this.alarmNames, dashboardName: this.dashboardName });
    }

    /** One alarm named `oauth2-dr-<stack>-<id>`, notifying `topic` on alarm and on recovery; its name joins alarmNames. */
    private metricAlarm(args: AlarmsArgs, id: string, props: cloudwatch.MetricAlarmArgs, topic = args.topicArn): cloudwatch.MetricAlarm {
        const alarmName = `${namePrefix(args)}-${id}`;
        const alarm = new cloudwatch.MetricAlarm(alarmName, {
            name: alarmName,
            alarmActions: [topic],
            okActions: [topic],
            tags: args.tags,
            ...props,
        }, { parent: this });
        this.alarmNames.push(alarm.name);
        return alarm;
    }

    /** The region row's RPO: lag above it means a regional failover now would lose more than the table allows. */
    private replicaLagAlarm(args: AlarmsArgs): unknown {
        this.metricAlarm(args, "replica-lag", {
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
        return metricWidget("Replica lag (s), RPO 3600", args.region, [["AWS/RDS", "ReplicaLag", "DBInstanceIdentifier", args.dbInstanceIdentifier]]);
    }

    /** Failover in progress, or a standby that could not take over. Route 53 publishes only in us-east-1. */
    private healthCheckAlarm(args: AlarmsArgs): unknown {
        this.metricAlarm(args, "health-check", {
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
        return metricWidget("Health check (1 = healthy)", "us-east-1", [["AWS/Route53", "HealthCheckStatus", "HealthCheckId", args.healthCheckId]]);
    }

    /**
     * A failed job or copy leaves the immutable copy (or its DR-region copy) behind the daily rule.
     *
     * Metric names and dimensions, checked 2026-12-05 (h32) against AWS's own text: the AWS Backup Developer Guide,
     * "AWS Backup metrics with Amazon CloudWatch" (https://docs.aws.amazon.com/aws-backup/latest/devguide/cloudwatch.html):
     * namespace AWS/Backup, NumberOfBackupJobsFailed, NumberOfCopyJobsFailed, NumberOfBackupJobsCompleted, example
     * dimensions "Resource type, vault name. The vault name of copy jobs is that of their destination vault", and
     * "Reporting criteria: There is a nonzero value" (no datapoint at all when nothing failed or completed); and the
     * CloudWatch User Guide, "Supported metrics for resource tags for telemetry" (AWS/Backup, AWS::Backup::BackupVault),
     * whose dimension column lists each combination "published together": `BackupVaultName` alone, and
     * `BackupVaultName, ResourceType`, for each of these metrics. So the job alarms' dimension, the vault's name alone,
     * is one AWS publishes; the copy alarm watched the source vault's name, under which no copy job is published
     * (a copy failure never fired it): it now watches each destination vault's name, one alarm per destination.
     * Where a copy job's metric is published (the source region and account, where the copy job runs and is listed,
     * is assumed here; the guide does not say) is not confirmed.
     */
    private awsBackupFailureAlarms(args: AlarmsArgs, vaultName: pulumi.Input<string>, copyDestinations: CopyDestinations | undefined): unknown {
        this.metricAlarm(args, "backup-jobs-failed", failureAlarm("NumberOfBackupJobsFailed", "AWS Backup: NumberOfBackupJobsFailed in the vault", vaultName));
        // The DR region's vault keeps the alarm's former name; the vault account's is -isolated.
        const destinations: [string, pulumi.Input<string>][] = copyDestinations
            ? [["copy-jobs-failed", copyDestinations.dr], ...(copyDestinations.isolated !== undefined ? [["copy-jobs-failed-isolated", copyDestinations.isolated] as [string, pulumi.Input<string>]] : [])]
            : [];
        for (const [id, destination] of destinations) {
            this.metricAlarm(args, id, failureAlarm("NumberOfCopyJobsFailed", pulumi.interpolate`AWS Backup: NumberOfCopyJobsFailed of the copies into the vault ${destination}`, destination));
        }
        this.backupJobsMissingAlarm(args, vaultName);
        return metricWidget("AWS Backup failures", args.region, [
            ["AWS/Backup", "NumberOfBackupJobsFailed", "BackupVaultName", vaultName],
            ...destinations.map(([, destination]) => ["AWS/Backup", "NumberOfCopyJobsFailed", "BackupVaultName", destination]),
        ]);
    }

    /**
     * Future backups stopped: a plan whose daily rule was removed or rescheduled (UpdateBackupPlan), or deleted with
     * its selection (DeleteBackupSelection, DeleteBackupPlan), starts no job, so neither failure alarm above fires.
     * This one fires when no backup job completed in the vault for a day: NumberOfBackupJobsCompleted ("the number
     * of completed backup jobs", AWS Backup Developer Guide, "AWS Backup metrics with Amazon CloudWatch") below 1
     * over one day, missing data breaching (a day without a job may have no datapoint at all).
     * The metric and its dimension (the vault's name alone, a combination AWS publishes): see the failure alarms
     * above (h32, the Developer Guide's cloudwatch.html and the CloudWatch User Guide's table, which lists
     * NumberOfBackupJobsCompleted under `BackupVaultName` and `BackupVaultName, ResourceType`). The guide's
     * "Reporting criteria: There is a nonzero value" is why missing data is breaching here: a day without a
     * completed job has no datapoint at all.
     */
    private backupJobsMissingAlarm(args: AlarmsArgs, vaultName: pulumi.Input<string>): void {
        this.metricAlarm(args, "backup-jobs-missing", {
            alarmDescription: `AWS Backup: no backup job completed in the vault for ${BACKUP_JOB_FRESHNESS_SECONDS / 3600} h: the plan's daily rule or its selection was changed or deleted, or AWS Backup stopped`,
            namespace: "AWS/Backup",
            metricName: "NumberOfBackupJobsCompleted",
            dimensions: { BackupVaultName: vaultName },
            statistic: "Sum",
            period: BACKUP_JOB_FRESHNESS_SECONDS,
            evaluationPeriods: 1,
            threshold: 1,
            comparisonOperator: "LessThanThreshold",
            treatMissingData: "breaching",
        });
    }

    /** Dead man's switch: CloudWatch cannot see the CronJob, but S3 request metrics see whether its dumps arrive. */
    private dumpFreshnessAlarm(args: AlarmsArgs, dumpBucket: { name: pulumi.Input<string>; prefix: string }): void {
        const filterId = "database-dumps";
        new s3.BucketMetric(`${namePrefix(args)}-${filterId}`, {
            bucket: dumpBucket.name,
            name: filterId,
            filter: { prefix: dumpBucket.prefix },
        }, { parent: this });
        this.metricAlarm(args, "db-dump-missing", {
            alarmDescription: `No object written under ${dumpBucket.prefix} for ${DUMP_FRESHNESS_SECONDS / 3600} h: the db-backup CronJob is failing`,
            namespace: "AWS/S3",
            metricName: "PutRequests",
            dimensions: { BucketName: dumpBucket.name, FilterId: filterId },
            statistic: "Sum",
            period: 3600,
            evaluationPeriods: DUMP_FRESHNESS_SECONDS / 3600,
            threshold: 1,
            comparisonOperator: "LessThanThreshold",
            treatMissingData: "breaching",
        });
    }

    /** The dashboard `oauth2-dr-<stack>`: the alarms' metrics on one page for the on-call. */
    private dashboard(args: AlarmsArgs, widgets: unknown[]): cloudwatch.Dashboard {
        const prefix = namePrefix(args);
        return new cloudwatch.Dashboard(`${prefix}-dashboard`, {
            dashboardName: prefix,
            dashboardBody: pulumi.jsonStringify({ widgets }),
        }, { parent: this });
    }
}

/** Every alarm, metric filter and the dashboard are named after the stack: `oauth2-dr-<stack>`. */
function namePrefix(args: AlarmsArgs): string {
    return `oauth2-dr-${args.stack}`;
}

/** Free storage has no alarm of its own; the dashboard shows it beside the alarms' metrics. */
function storageFreeWidget(args: AlarmsArgs): unknown {
    return metricWidget("Database storage free (bytes)", args.region, [["AWS/RDS", "FreeStorageSpace", "DBInstanceIdentifier", args.dbInstanceIdentifier]]);
}

function metricWidget(title: string, region: string, metrics: pulumi.Input<string>[][]): unknown {
    return { type: "metric", width: 12, height: 6, properties: { title, region, stat: "Maximum", period: 300, metrics } };
}

/** A job failure alarm of AWS Backup: any failure in an hour, the metric under the vault's name (no datapoint: none failed). */
function failureAlarm(metricName: string, alarmDescription: pulumi.Input<string>, vaultName: pulumi.Input<string>): cloudwatch.MetricAlarmArgs {
    return {
        alarmDescription,
        namespace: "AWS/Backup",
        metricName,
        dimensions: { BackupVaultName: vaultName },
        statistic: "Sum",
        period: 3600,
        evaluationPeriods: 1,
        threshold: 0,
        comparisonOperator: "GreaterThanThreshold",
        treatMissingData: "notBreaching",
    };
}
