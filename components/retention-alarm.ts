/**
 * The alarm on what no policy refuses (docs/runbook.md, "What no guard refuses"): `rds:ModifyDBInstance` (or
 * ModifyDBCluster) with a BackupRetentionPeriod below the database row deletes or shortens RDS's automated
 * backups, and IAM has no condition key for the retention. So the stack watches the call instead: EventBridge
 * rules on CloudTrail's "AWS API Call via CloudTrail" events, notifying the stack's alarm SNS topic with who
 * made the call, on which instance, and the value asked for:
 *  - `oauth2-dr-<stack>-backup-retention-lowered`: ModifyDBInstance / ModifyDBCluster whose
 *    requestParameters.backupRetentionPeriod is below the stack's database retention (`retention.database`,
 *    never below the table's 30 days: lib/config);
 *  - `oauth2-dr-<stack>-automated-backups-deleted`: the calls that end automated backups another way. The
 *    organization SCP refuses DeleteDBInstanceAutomatedBackup and StopDBInstanceAutomatedBackupsReplication to
 *    all but the break-glass role (lib/organization-scp.ts): the rule still alarms on them (the break-glass role,
 *    or an SCP not applied yet) and on DeleteDBClusterAutomatedBackup, which the SCP does not name;
 *  - `oauth2-dr-<stack>-database-deleted`: DeleteDBInstance, which removes the instance's automated backups
 *    unless asked not to, of every instance but the restore verification's scratch ones (`oauth2-backup-test-*`,
 *    deleted by the monthly job).
 *  - `oauth2-dr-<stack>-backup-key-disabled`: ScheduleKeyDeletion or DisableKey of any KMS key of the account in
 *    the region (a key's id is not known before it is made, and a caller names it by id, ARN or alias): the
 *    deletion guards let the break-glass role alone do it (components/kms.ts), and what the key encrypts is
 *    unreadable from that moment; the alarm lets a second person cancel it within the key's waiting period;
 *  - `oauth2-dr-<stack>-server-secret-deleted`: SECRET_CALLS on the server's secrets (components/secrets.ts
 *    SECRET_NAMES, by name or ARN), the backups' passphrase among them: deleted, their DR replica removed or
 *    detached, their guard removed; the same guard, the same second person, within the recovery window.
 * The RDS rules are account-wide (not only our instance): a rename first (ModifyDBInstance newDBInstanceIdentifier)
 * would slip past a rule that named the instance.
 *
 * EventBridge receives these events only while a CloudTrail trail logs the account's management events in the
 * region (EventBridge User Guide, "AWS service events delivered via AWS CloudTrail"): the component declares one,
 * `oauth2-dr-<stack>-management-events` (single-region, management write events), delivering into the audit
 * archive's bucket under `audit/cloudtrail/`, locked and kept for the audit row; `cloudTrailStatements` gives that
 * bucket and its key what CloudTrail needs, scoped to the trail's ARN.
 *
 * The topic is not declared here (alarmTopicArn): the component declares its access policy (aws.sns.TopicPolicy
 * replaces the topic's whole policy), keeping the account's own use and CloudWatch alarms' publishing, and letting
 * events.amazonaws.com publish only from these rules (aws:SourceArn).
 */
import * as pulumi from "@pulumi/pulumi";
import * as cloudtrail from "@pulumi/aws/cloudtrail";
import * as cloudwatch from "@pulumi/aws/cloudwatch";
import * as sns from "@pulumi/aws/sns";
import { VERIFICATION_INSTANCE_PREFIX } from "./backup-jobs";
import { SECRET_NAMES } from "./secrets";

/** CloudTrail's detail-type on EventBridge for an API call. */
export const API_CALL_DETAIL_TYPE = "AWS API Call via CloudTrail";

/** The calls that lower the backup retention of an instance or a cluster (requestParameters.backupRetentionPeriod). */
export const RETENTION_CALLS = ["ModifyDBInstance", "ModifyDBCluster"];

/** The calls that delete automated backups or stop their replication, whoever makes them (the SCP refuses two to all but the break-glass role). */
export const AUTOMATED_BACKUP_CALLS = ["DeleteDBInstanceAutomatedBackup", "DeleteDBClusterAutomatedBackup", "StopDBInstanceAutomatedBackupsReplication"];

/** The calls that make a KMS key unusable (every backup and secret it encrypts unreadable while it is) or start its deletion. */
export const KEY_CALLS = ["ScheduleKeyDeletion", "DisableKey"];

/**
 * The calls that delete one of the server's secrets (the backups' passphrase among them), its replica in the DR region
 * (removed from the primary, or detached on the replica), or its resource policy (the deletion guard itself). Not
 * PutResourcePolicy: every `pulumi up` that changes the guard makes it.
 */
export const SECRET_CALLS = ["DeleteSecret", "RemoveRegionsFromReplication", "StopReplicationToReplica", "DeleteResourcePolicy"];

/** The prefix, under the audit archive's audit/ row, where the trail delivers (CloudTrail adds /AWSLogs/<account>/...). */
export const TRAIL_KEY_PREFIX = "audit/cloudtrail";

/** One EventBridge rule of the component: its name, what it says, its pattern and the message it sends. */
export interface RetentionRule {
    id: string;
    name: string;
    description: string;
    pattern: Record<string, unknown>;
    /** The SNS message: EventBridge's input transformer (paths into the event, a quoted-string template). */
    inputPaths: Record<string, string>;
    inputTemplate: string;
}

/** The paths every message names: who, where, when. */
const WHO_WHERE_WHEN: Record<string, string> = {
    who: "$.detail.userIdentity.arn",
    call: "$.detail.eventName",
    account: "$.account",
    region: "$.region",
    time: "$.time",
};

/**
 * The rules of stack `stack` whose database retention is `retentionDays` (config.retention.database): pure, so the
 * tests and the compromise drill (tools/drill/compromise.ts) read the same patterns the stack declares.
 */
export function retentionRules(stack: string, retentionDays: number, scratchInstancePrefix = VERIFICATION_INSTANCE_PREFIX): RetentionRule[] {
    if (!Number.isInteger(retentionDays) || retentionDays < 1) {
        throw new Error(`retention alarm: retentionDays must be a positive whole number of days, got ${JSON.stringify(retentionDays)}`);
    }
    const rds = { source: ["aws.rds"], "detail-type": [API_CALL_DETAIL_TYPE] };
    const name = (id: string) => `${namePrefix(stack)}-${id}`;
    return [
        {
            id: "backup-retention-lowered",
            name: name("backup-retention-lowered"),
            description: `RDS backup retention set below the database row's ${retentionDays} days (${RETENTION_CALLS.join(", ")}): automated backups older than the new value are deleted; no IAM condition key can refuse it`,
            pattern: {
                ...rds,
                detail: {
                    eventSource: ["rds.amazonaws.com"],
                    eventName: RETENTION_CALLS,
                    requestParameters: { backupRetentionPeriod: [{ numeric: ["<", retentionDays] }] },
                },
            },
            inputPaths: {
                ...WHO_WHERE_WHEN,
                instance: "$.detail.requestParameters.dBInstanceIdentifier",
                cluster: "$.detail.requestParameters.dBClusterIdentifier",
                value: "$.detail.requestParameters.backupRetentionPeriod",
            },
            inputTemplate: `"oauth2-dr ${stack}: <call> by <who> set backupRetentionPeriod <value> on <instance><cluster> (account <account>, <region>, <time>); the database row keeps ${retentionDays} days: restore the retention now, the automated backups older than the new value are gone"`,
        },
        {
            id: "automated-backups-deleted",
            name: name("automated-backups-deleted"),
            description: `RDS automated backups deleted or their replication stopped (${AUTOMATED_BACKUP_CALLS.join(", ")})`,
            pattern: { ...rds, detail: { eventSource: ["rds.amazonaws.com"], eventName: AUTOMATED_BACKUP_CALLS } },
            inputPaths: {
                ...WHO_WHERE_WHEN,
                instanceArn: "$.detail.requestParameters.sourceDBInstanceArn",
                resourceId: "$.detail.requestParameters.dbiResourceId",
                backupsArn: "$.detail.requestParameters.dBInstanceAutomatedBackupsArn",
                cluster: "$.detail.requestParameters.dbClusterResourceId",
            },
            inputTemplate: `"oauth2-dr ${stack}: <call> by <who> on <instanceArn><resourceId><backupsArn><cluster> (account <account>, <region>, <time>): automated backups of the database row deleted or no longer replicated"`,
        },
        {
            id: "database-deleted",
            name: name("database-deleted"),
            description: `RDS instance deleted (DeleteDBInstance removes its automated backups unless asked not to); the restore verification's ${scratchInstancePrefix}* instances excepted`,
            pattern: {
                ...rds,
                detail: {
                    eventSource: ["rds.amazonaws.com"],
                    eventName: ["DeleteDBInstance"],
                    requestParameters: { dBInstanceIdentifier: [{ "anything-but": { prefix: scratchInstancePrefix } }] },
                },
            },
            inputPaths: {
                ...WHO_WHERE_WHEN,
                instance: "$.detail.requestParameters.dBInstanceIdentifier",
                keepBackups: "$.detail.requestParameters.deleteAutomatedBackups",
            },
            inputTemplate: `"oauth2-dr ${stack}: <call> by <who> deleted <instance> (deleteAutomatedBackups <keepBackups>; unset deletes them) (account <account>, <region>, <time>)"`,
        },
        {
            // The deletion guards let the break-glass role alone do these (components/kms.ts, secrets.ts; the
            // organization SCP): a guard that lets one role through is watched, so a second person hears of it while
            // the key's waiting period or the secret's recovery window still allows the undo.
            id: "backup-key-disabled",
            name: name("backup-key-disabled"),
            description: `KMS key disabled or scheduled for deletion (${KEY_CALLS.join(", ")}), any key of the account in this region: the backups, snapshots and secrets a key encrypts cannot be read while it is disabled or pending deletion`,
            pattern: { source: ["aws.kms"], "detail-type": [API_CALL_DETAIL_TYPE], detail: { eventSource: ["kms.amazonaws.com"], eventName: KEY_CALLS } },
            inputPaths: { ...WHO_WHERE_WHEN, key: "$.detail.requestParameters.keyId", days: "$.detail.requestParameters.pendingWindowInDays" },
            inputTemplate: `"oauth2-dr ${stack}: <call> by <who> on key <key> (pending window <days> days) (account <account>, <region>, <time>): what it encrypts cannot be decrypted now; if it is a backup key, undo it: aws kms cancel-key-deletion --key-id <key>, then aws kms enable-key --key-id <key>"`,
        },
        {
            id: "server-secret-deleted",
            name: name("server-secret-deleted"),
            description: `The server's secrets (${Object.values(SECRET_NAMES).join(", ")}) deleted, their DR replica removed or detached, or their deletion guard removed (${SECRET_CALLS.join(", ")}): the backups' passphrase among them, without which no symmetric backup decrypts`,
            pattern: {
                source: ["aws.secretsmanager"],
                "detail-type": [API_CALL_DETAIL_TYPE],
                detail: {
                    eventSource: ["secretsmanager.amazonaws.com"],
                    eventName: SECRET_CALLS,
                    // The caller names a secret by its name or its ARN (the name, a dash and six random characters).
                    requestParameters: { secretId: Object.values(SECRET_NAMES).flatMap((secret) => [secret, { wildcard: `arn:*:secretsmanager:*:secret:${secret}-*` }]) },
                },
            },
            inputPaths: {
                ...WHO_WHERE_WHEN,
                secret: "$.detail.requestParameters.secretId",
                window: "$.detail.requestParameters.recoveryWindowInDays",
                force: "$.detail.requestParameters.forceDeleteWithoutRecovery",
            },
            inputTemplate: `"oauth2-dr ${stack}: <call> by <who> on secret <secret> (recovery window <window> days, forceDeleteWithoutRecovery <force>) (account <account>, <region>, <time>): within the recovery window, aws secretsmanager restore-secret --secret-id <secret>"`,
        },
    ];
}

/** The trail's name and ARN in `region` of `accountId`: its bucket and key statements name it before it exists. */
export function trailName(stack: string): string {
    return `${namePrefix(stack)}-management-events`;
}

export function trailArn(stack: string, region: string, accountId: pulumi.Input<string>): pulumi.Output<string> {
    return pulumi.interpolate`arn:aws:cloudtrail:${region}:${accountId}:trail/${trailName(stack)}`;
}

/**
 * What the audit archive's bucket and key must allow CloudTrail (the trail only, by aws:SourceArn): read the
 * bucket's ACL, write under TRAIL_KEY_PREFIX/AWSLogs/<account>/ with the owner's full control, and encrypt with
 * the bucket's key (the bucket policy refuses any other key, so the trail names it).
 */
export function cloudTrailStatements(stack: string, region: string, accountId: pulumi.Input<string>) {
    const arn = trailArn(stack, region, accountId);
    const cloudTrail = { Service: "cloudtrail.amazonaws.com" };
    return {
        bucket: (bucketArn: pulumi.Output<string>): unknown[] => [
            { Sid: "CloudTrailAclCheck", Effect: "Allow", Principal: cloudTrail, Action: "s3:GetBucketAcl", Resource: bucketArn, Condition: { StringEquals: { "aws:SourceArn": arn } } },
            {
                Sid: "CloudTrailWrite",
                Effect: "Allow",
                Principal: cloudTrail,
                Action: "s3:PutObject",
                Resource: pulumi.interpolate`${bucketArn}/${TRAIL_KEY_PREFIX}/AWSLogs/${accountId}/*`,
                Condition: { StringEquals: { "s3:x-amz-acl": "bucket-owner-full-control", "aws:SourceArn": arn } },
            },
        ],
        key: [
            {
                Sid: "CloudTrailEncryptsLogs",
                Effect: "Allow",
                Principal: cloudTrail,
                Action: "kms:GenerateDataKey*",
                Resource: "*",
                Condition: { StringEquals: { "aws:SourceArn": arn }, StringLike: { "kms:EncryptionContext:aws:cloudtrail:arn": arn } },
            },
            { Sid: "CloudTrailDescribesKey", Effect: "Allow", Principal: cloudTrail, Action: "kms:DescribeKey", Resource: "*", Condition: { StringEquals: { "aws:SourceArn": arn } } },
        ] as unknown[],
    };
}

export interface RetentionAlarmArgs {
    stack: string;
    region: string;
    accountId: pulumi.Input<string>;
    /** The stack's alarm topic (alarmTopicArn), in this region. */
    topicArn: string;
    /** config.retention.database: a retention set below it alarms. */
    retentionDays: number;
    /** The restore verification's scratch instances, whose deletion is routine (default: backup-jobs.ts VERIFICATION_INSTANCE_PREFIX). */
    scratchInstancePrefix?: string;
    /** The audit archive's bucket (its policy and key carry cloudTrailStatements) and key. */
    trailBucketName: pulumi.Input<string>;
    trailKmsKeyArn: pulumi.Input<string>;
    /** Resources the trail waits for (the bucket policy and key that let CloudTrail write). */
    trailDependsOn?: pulumi.Resource[];
    tags: Record<string, string>;
}

export class RetentionAlarm extends pulumi.ComponentResource {
    readonly ruleNames: pulumi.Output<string>[];
    readonly trailArn: pulumi.Output<string>;

    constructor(name: string, args: RetentionAlarmArgs, opts?: pulumi.ComponentResourceOptions) {
        super("oauth2-dr:monitoring:RetentionAlarm", name, {}, opts);
        const trail = new cloudtrail.Trail(trailName(args.stack), {
            name: trailName(args.stack),
            s3BucketName: args.trailBucketName,
            s3KeyPrefix: TRAIL_KEY_PREFIX,
            kmsKeyId: args.trailKmsKeyArn,
            // The region's management write events: what EventBridge needs for these rules, and an audit record.
            isMultiRegionTrail: false,
            includeGlobalServiceEvents: false,
            enableLogging: true,
            enableLogFileValidation: true,
            eventSelectors: [{ readWriteType: "WriteOnly", includeManagementEvents: true }],
            tags: args.tags,
        }, { parent: this, ...(args.trailDependsOn ? { dependsOn: args.trailDependsOn } : {}) });
        this.trailArn = trail.arn;
        const rules = retentionRules(args.stack, args.retentionDays, args.scratchInstancePrefix).map((rule) => {
            const declared = new cloudwatch.EventRule(rule.name, {
                name: rule.name,
                description: rule.description,
                eventPattern: JSON.stringify(rule.pattern),
                tags: args.tags,
            }, { parent: this });
            new cloudwatch.EventTarget(rule.name, {
                rule: declared.name,
                targetId: "alarm-topic",
                arn: args.topicArn,
                inputTransformer: { inputPaths: rule.inputPaths, inputTemplate: rule.inputTemplate },
            }, { parent: this });
            return declared;
        });
        new sns.TopicPolicy(`${namePrefix(args.stack)}-alarm-topic-policy`, {
            arn: args.topicArn,
            policy: pulumi.jsonStringify(alarmTopicPolicy(args.topicArn, args.accountId, rules.map((r) => r.arn))),
        }, { parent: this });
        this.ruleNames = rules.map((r) => r.name);
        this.registerOutputs({ ruleNames: this.ruleNames, trailArn: this.trailArn });
    }
}

/** What every name of the component starts with: the rules', the trail's and the topic policy's. */
function namePrefix(stack: string): string {
    return `oauth2-dr-${stack}`;
}

/**
 * The alarm topic's access policy: the account's principals as SNS's default policy has them, CloudWatch alarms
 * of this account, and EventBridge from these rules only.
 */
export function alarmTopicPolicy(topicArn: string, accountId: pulumi.Input<string>, ruleArns: pulumi.Input<string>[]) {
    return {
        Version: "2012-10-17",
        Statement: [
            {
                Sid: "AccountOwnerAccess",
                Effect: "Allow",
                Principal: { AWS: "*" },
                Action: ["SNS:GetTopicAttributes", "SNS:SetTopicAttributes", "SNS:AddPermission", "SNS:RemovePermission", "SNS:DeleteTopic", "SNS:Subscribe", "SNS:ListSubscriptionsByTopic", "SNS:Publish"],
                Resource: topicArn,
                Condition: { StringEquals: { "AWS:SourceOwner": accountId } },
            },
            {
                Sid: "CloudWatchAlarmsPublish",
                Effect: "Allow",
                Principal: { Service: "cloudwatch.amazonaws.com" },
                Action: "sns:Publish",
                Resource: topicArn,
                Condition: { StringEquals: { "aws:SourceAccount": accountId } },
            },
            {
                Sid: "RetentionAlarmRulesPublish",
                Effect: "Allow",
                Principal: { Service: "events.amazonaws.com" },
                Action: "sns:Publish",
                Resource: topicArn,
                Condition: { ArnEquals: { "aws:SourceArn": ruleArns } },
            },
        ],
    };
}
