/**
 * AWS Backup and the alarms that protect the RTO/RPO table: vaults with their own keys and locks, the
 * daily + continuous plan with a copy into the DR region, selection by tag, and the CloudWatch alarms on the
 * configured SNS topics (Route 53's in us-east-1).
 */
import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { ConfigError, parseStackConfig } from "../lib/config";
import { PlanResult } from "offline-plan/model";
import { loadStackSettings } from "offline-plan/stack-settings";
import { checkPlan } from "../tools/check/core";
import { inRegion } from "../stacks/aws";
import { props, REPO, resource, resourcesOfType } from "./support/plans";
import { planWith } from "./support/dr-plans";

const ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm";
const PROD_TOPIC = "arn:aws:sns:us-east-1:123456789012:oauth2-dr-alarms";
const DR_TOPIC = "arn:aws:sns:us-west-2:123456789012:oauth2-dr-alarms";

function problem(stack: string, overrides: Record<string, string | undefined>, key: string): string {
    const config: Record<string, string | undefined> = { ...loadStackSettings(REPO, stack).config, ...overrides };
    try {
        parseStackConfig((k) => config[k], stack);
    } catch (err) {
        assert.ok(err instanceof ConfigError);
        const line = err.problems.find((l) => l.startsWith(`${key}: `));
        assert.ok(line, err.problems.join(" | "));
        return line;
    }
    assert.fail("expected a configuration error");
}

describe("AWS Backup (prod)", () => {
    let prod: PlanResult;
    before(async () => {
        prod = await planWith("prod");
    });

    it("two vaults, each with its own customer-managed key, the DR one in the DR region, protected", () => {
        const vault = resource(prod, "aws:backup/vault:Vault", "oauth2-dr-vault");
        const drVault = resource(prod, "aws:backup/vault:Vault", "oauth2-dr-vault-dr");
        assert.match(props(vault).kmsKeyArn, /^arn:aws:kms:us-east-1:/);
        assert.match(props(drVault).kmsKeyArn, /^arn:aws:kms:us-west-2:/);
        assert.notEqual(props(vault).kmsKeyArn, props(drVault).kmsKeyArn);
        assert.equal(props(drVault).region, "us-west-2");
        assert.equal(props(vault).forceDestroy, false);
        assert.ok(vault.protect && drVault.protect);
    });

    it("vault locks keep recovery points at least the table's 30 days, in both regions", () => {
        const locks = resourcesOfType(prod, "aws:backup/vaultLockConfiguration:VaultLockConfiguration");
        assert.equal(locks.length, 2);
        for (const lock of locks) {
            assert.equal(props(lock).minRetentionDays, 30);
            assert.equal(props(lock).changeableForDays, 3);
            assert.equal(lock.protect, true);
        }
        assert.deepEqual(locks.map((l) => props(l).region ?? "us-east-1").sort(), ["us-east-1", "us-west-2"]);
    });

    it("a daily rule kept 30 days and copied to the DR vault, and a continuous (PITR) rule within 35 days", () => {
        const plan = props(resource(prod, "aws:backup/plan:Plan", "aws-backup-plan"));
        const daily = plan.rules.find((r: any) => r.ruleName === "daily");
        const continuous = plan.rules.find((r: any) => r.ruleName === "continuous");
        assert.equal(daily.lifecycle.deleteAfter, 30);
        assert.equal(daily.schedule, "cron(0 4 * * ? *)", "after the 03:00-04:00 RDS backup window");
        assert.equal(daily.targetVaultName, "oauth2-dr-vault");
        // The DR region's vault; then the vault account's (vaultStack, unknown here: test/vault.test.ts plans it).
        assert.deepEqual(daily.copyActions[0], { destinationVaultArn: "arn:aws:backup:us-west-2:123456789012:backup-vault:oauth2-dr-vault-dr", lifecycle: { deleteAfter: 30 } });
        assert.equal(daily.copyActions.length, 2);
        assert.deepEqual(daily.copyActions[1].lifecycle, { deleteAfter: 30 });
        assert.equal(continuous.enableContinuousBackup, true);
        assert.ok(continuous.lifecycle.deleteAfter >= 30 && continuous.lifecycle.deleteAfter <= 35);
    });

    it("selects by tag, with a role holding the AWS managed backup and restore policies; the RDS instance carries the tag", () => {
        const selection = props(resource(prod, "aws:backup/selection:Selection", "aws-backup-selection"));
        assert.deepEqual(selection.selectionTags, [{ type: "STRINGEQUALS", key: "backup-plan", value: "oauth2-dr" }]);
        const role = props(resource(prod, "aws:iam/role:Role", "aws-backup-role"));
        assert.equal(JSON.parse(role.assumeRolePolicy).Statement[0].Principal.Service, "backup.amazonaws.com");
        assert.equal(selection.iamRoleArn, "arn:aws:iam::123456789012:role/oauth2-dr-aws-backup");
        const attached = resourcesOfType(prod, "aws:iam/rolePolicyAttachment:RolePolicyAttachment").map((a) => props(a).policyArn).sort();
        assert.deepEqual(attached.filter((a) => a.includes("AWSBackup")), [
            "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup",
            "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForRestores",
        ]);
        assert.equal(props(resource(prod, "aws:rds/instance:Instance", "oauth2-postgres")).tags["backup-plan"], "oauth2-dr");
    });

    it("the whole prod stack still passes the policy pack", async () => {
        const check = await checkPlan(prod);
        assert.deepEqual(check.violations.filter((v) => v.enforcementLevel === "mandatory"), []);
    });
});

describe("alarms that protect the RTO/RPO table", () => {
    let prod: PlanResult;
    let dr: PlanResult;
    before(async () => {
        prod = await planWith("prod");
        dr = await planWith("dr", {}, { prod });
    });

    it("prod: health check (us-east-1), AWS Backup failures, missing dumps and a dashboard, all to the topic", () => {
        const health = props(resource(prod, ALARM, "oauth2-dr-prod-health-check"));
        assert.equal(health.region, "us-east-1");
        assert.equal(health.namespace, "AWS/Route53");
        assert.equal(health.metricName, "HealthCheckStatus");
        assert.equal(health.dimensions.HealthCheckId, prod.outputs.healthCheckId);
        assert.deepEqual(health.alarmActions, [PROD_TOPIC]);
        const failed = props(resource(prod, ALARM, "oauth2-dr-prod-backup-jobs-failed"));
        assert.equal(failed.namespace, "AWS/Backup");
        assert.equal(failed.metricName, "NumberOfBackupJobsFailed");
        assert.equal(failed.dimensions.BackupVaultName, "oauth2-dr-vault");
        assert.deepEqual(failed.alarmActions, [PROD_TOPIC]);
        // A copy job's metrics carry its destination vault's name (AWS Backup Developer Guide, cloudwatch.html): one
        // alarm per copy destination of the daily rule, never the source vault's name, under which no copy job is
        // published (h32: the one alarm watched oauth2-dr-vault and could not fire).
        const destinations = (props(resource(prod, "aws:backup/plan:Plan", "aws-backup-plan")).rules.find((r: any) => r.ruleName === "daily").copyActions as { destinationVaultArn: string }[])
            .map((c) => c.destinationVaultArn.split(":").pop());
        // (The vault account's name as this plan's stand-in for the vault stack's outputs gives it: its backupVaultName.)
        assert.equal(destinations.length, 2);
        assert.equal(destinations[0], "oauth2-dr-vault-dr");
        const copies = resourcesOfType(prod, ALARM).map(props).filter((a) => a.metricName === "NumberOfCopyJobsFailed");
        assert.deepEqual(copies.map((a) => [a.name, a.dimensions]).sort(), [
            ["oauth2-dr-prod-copy-jobs-failed", { BackupVaultName: destinations[0] }],
            ["oauth2-dr-prod-copy-jobs-failed-isolated", { BackupVaultName: destinations[1] }],
        ]);
        for (const copy of copies) {
            assert.deepEqual([copy.namespace, copy.statistic, copy.threshold, copy.comparisonOperator, copy.alarmActions], ["AWS/Backup", "Sum", 0, "GreaterThanThreshold", [PROD_TOPIC]]);
        }
        const dumps = props(resource(prod, ALARM, "oauth2-dr-prod-db-dump-missing"));
        assert.equal(dumps.dimensions.BucketName, "oauth2-backups-prod");
        assert.equal(dumps.treatMissingData, "breaching");
        assert.equal(props(resource(prod, "aws:s3/bucketMetric:BucketMetric", "oauth2-dr-prod-database-dumps")).filter.prefix, "database/");
        resource(prod, "aws:cloudwatch/dashboard:Dashboard", "oauth2-dr-prod-dashboard");
        assert.equal(resourcesOfType(prod, ALARM).filter((a) => props(a).metricName === "ReplicaLag").length, 0);
    });

    it("prod: future backups stopped (the plan's rule or selection changed or deleted: nothing fails, no job starts) alarm: no backup job completed in the vault for a day, missing data breaching, to the topic; dr declares none (its vault only receives copies)", () => {
        const missing = props(resource(prod, ALARM, "oauth2-dr-prod-backup-jobs-missing"));
        assert.equal(missing.namespace, "AWS/Backup");
        assert.equal(missing.metricName, "NumberOfBackupJobsCompleted");
        assert.deepEqual(missing.dimensions, { BackupVaultName: "oauth2-dr-vault" });
        assert.deepEqual([missing.statistic, missing.period, missing.evaluationPeriods, missing.threshold, missing.comparisonOperator, missing.treatMissingData], ["Sum", 86400, 1, 1, "LessThanThreshold", "breaching"]);
        assert.deepEqual([missing.alarmActions, missing.okActions], [[PROD_TOPIC], [PROD_TOPIC]]);
        assert.equal(resourcesOfType(dr, ALARM).filter((a) => props(a).metricName === "NumberOfBackupJobsCompleted").length, 0);
    });

    it("dr: replica lag above the 1-hour region RPO, on the replica, to the DR topic; the health check to the us-east-1 topic", () => {
        const lag = props(resource(dr, ALARM, "oauth2-dr-dr-replica-lag"));
        assert.equal(lag.namespace, "AWS/RDS");
        assert.equal(lag.metricName, "ReplicaLag");
        assert.equal(lag.threshold, 3600);
        assert.equal(lag.comparisonOperator, "GreaterThanThreshold");
        assert.equal(lag.dimensions.DBInstanceIdentifier, "oauth2-postgres-replica");
        assert.equal(lag.treatMissingData, "breaching");
        assert.deepEqual(lag.alarmActions, [DR_TOPIC]);
        const health = props(resource(dr, ALARM, "oauth2-dr-dr-health-check"));
        assert.equal(health.region, "us-east-1");
        assert.deepEqual(health.alarmActions, [PROD_TOPIC]);
    });

    it("validates the topics: required for production, an SNS ARN, in the alarm's region", () => {
        assert.match(problem("prod", { "oauth2-dr:alarmTopicArn": undefined }, "oauth2-dr:alarmTopicArn"), /is required for production/);
        assert.match(problem("prod", { "oauth2-dr:alarmTopicArn": "oauth2-alarms" }, "oauth2-dr:alarmTopicArn"), /not an SNS topic ARN/);
        assert.match(problem("prod", { "oauth2-dr:alarmTopicArn": DR_TOPIC }, "oauth2-dr:alarmTopicArn"), /notify topics in their own region \(us-east-1\)/);
        assert.match(problem("dr", { "oauth2-dr:healthCheckAlarmTopicArn": undefined }, "oauth2-dr:healthCheckAlarmTopicArn"), /is required when the stack's region \(us-west-2\) is not us-east-1/);
        assert.match(problem("dr", { "oauth2-dr:healthCheckAlarmTopicArn": DR_TOPIC }, "oauth2-dr:healthCheckAlarmTopicArn"), /must be in us-east-1/);
        assert.match(problem("dr", { "oauth2-dr:awsBackup": '{"enabled":true}' }, "oauth2-dr:awsBackup.enabled"), /aws primary stack/);
    });

    it("the dr stack reads the replicated credentials at the same ARN in its own region", async () => {
        const arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:oauth2/db-credentials-AbCdEf";
        const swapped = await new Promise<string>((resolve) => inRegion(arn, "us-west-2").apply(resolve));
        assert.equal(swapped, "arn:aws:secretsmanager:us-west-2:123456789012:secret:oauth2/db-credentials-AbCdEf");
        assert.ok(pulumi.Output.isInstance(inRegion(arn, "us-west-2")));
    });
});
