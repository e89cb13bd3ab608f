/**
 * The alarm on what no policy refuses (components/retention-alarm.ts): the EventBridge pattern matcher
 * (tools/drill/event-pattern.ts) against EventBridge's documented semantics, then the rules as prod and dr plan
 * them, matched against CloudTrail events shaped as EventBridge delivers them ("AWS API Call via CloudTrail":
 * the envelope's source aws.rds, the CloudTrail record in `detail` with eventSource, eventName, userIdentity and
 * requestParameters, numbers as JSON numbers), the topic's policy, and the trail they need.
 */
import { strict as assert } from "assert";
import type { PlanResult } from "offline-plan/model";
import { matchesPattern } from "../tools/drill/event-pattern";
import { retentionRules, TRAIL_KEY_PREFIX, trailName } from "../components/retention-alarm";
import { VERIFICATION_INSTANCE_PREFIX } from "../components/backup-jobs";
import { declaredGuards, retentionCallEvent } from "../tools/drill/compromise";
import { planRepo, props, resource, resourcesOfType } from "./support/plans";

const RULE = "aws:cloudwatch/eventRule:EventRule";
const TARGET = "aws:cloudwatch/eventTarget:EventTarget";
const TOPIC_POLICY = "aws:sns/topicPolicy:TopicPolicy";
const TRAIL = "aws:cloudtrail/trail:Trail";
const ACCOUNT = "123456789012";

/** An RDS API call as EventBridge delivers it from CloudTrail. */
function rdsCall(eventName: string, requestParameters: Record<string, unknown>, region = "us-east-1"): Record<string, unknown> {
    return apiCall("rds", eventName, requestParameters, region);
}

/** An API call of `service` (rds, kms, secretsmanager) as EventBridge delivers it from CloudTrail. */
function apiCall(service: string, eventName: string, requestParameters: Record<string, unknown>, region = "us-east-1"): Record<string, unknown> {
    return {
        version: "0",
        id: "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
        "detail-type": "AWS API Call via CloudTrail",
        source: `aws.${service}`,
        account: ACCOUNT,
        time: "2026-12-05T00:00:00Z",
        region,
        resources: [],
        detail: {
            eventVersion: "1.08",
            userIdentity: { type: "AssumedRole", arn: `arn:aws:sts::${ACCOUNT}:assumed-role/AWSReservedSSO_AdministratorAccess_compromised/mallory`, accountId: ACCOUNT },
            eventTime: "2026-12-05T00:00:00Z",
            eventSource: `${service}.amazonaws.com`,
            eventName,
            awsRegion: region,
            sourceIPAddress: "192.0.2.0",
            userAgent: "aws-cli/2.15.0",
            requestParameters,
            responseElements: null,
            eventType: "AwsApiCall",
            managementEvent: true,
            recipientAccountId: ACCOUNT,
        },
    };
}

const modify = (backupRetentionPeriod?: unknown, region?: string) =>
    rdsCall("ModifyDBInstance", { dBInstanceIdentifier: "oauth2-postgres", applyImmediately: true, ...(backupRetentionPeriod === undefined ? {} : { backupRetentionPeriod }) }, region);

describe("EventBridge pattern matcher (tools/drill/event-pattern.ts)", () => {
    it("matches exact values of a list (OR) in every field (AND), nested; a missing field matches nothing", () => {
        const pattern = { source: ["aws.rds", "aws.ec2"], detail: { eventName: ["ModifyDBInstance"] } };
        assert.equal(matchesPattern(pattern, { source: "aws.rds", detail: { eventName: "ModifyDBInstance" } }), true);
        assert.equal(matchesPattern(pattern, { source: "aws.s3", detail: { eventName: "ModifyDBInstance" } }), false);
        assert.equal(matchesPattern(pattern, { source: "aws.rds", detail: { eventName: "modifydbinstance" } }), false, "case-sensitive");
        assert.equal(matchesPattern(pattern, { source: "aws.rds" }), false, "no detail");
        assert.equal(matchesPattern(pattern, { source: "aws.rds", detail: "ModifyDBInstance" }), false, "detail not an object");
        assert.equal(matchesPattern({ a: ["x"] }, { a: ["y", "x"] }), true, "an array value matches when one element does");
        assert.equal(matchesPattern({ a: [5] }, { a: 5 }), true);
        assert.equal(matchesPattern({ a: ["5"] }, { a: 5 }), false, "a string does not match a number");
        assert.equal(matchesPattern({}, { anything: 1 }), true);
    });

    it("numeric compares numbers only, every comparison of a range; a string of digits or a missing field does not match", () => {
        const below = { n: [{ numeric: ["<", 30] }] };
        assert.deepEqual([0, 7, 29, 29.5, -1].map((n) => matchesPattern(below, { n })), [true, true, true, true, true]);
        assert.deepEqual([30, 35, 365].map((n) => matchesPattern(below, { n })), [false, false, false]);
        assert.equal(matchesPattern(below, { n: "0" }), false);
        assert.equal(matchesPattern(below, { n: null }), false);
        assert.equal(matchesPattern(below, {}), false);
        const range = { n: [{ numeric: [">=", 1, "<", 30] }] };
        assert.deepEqual([0, 1, 29, 30].map((n) => matchesPattern(range, { n })), [false, true, true, false]);
        assert.equal(matchesPattern({ n: [{ numeric: ["=", 30] }] }, { n: 30 }), true);
        assert.throws(() => matchesPattern({ n: [{ numeric: ["<"] }] }, { n: 1 }), /numeric takes/);
        assert.throws(() => matchesPattern({ n: [{ numeric: ["!=", 1] }] }, { n: 1 }), /numeric comparison/);
    });

    it("prefix, anything-but (values or a prefix) and exists", () => {
        const notScratch = { id: [{ "anything-but": { prefix: "oauth2-backup-test-" } }] };
        assert.equal(matchesPattern(notScratch, { id: "oauth2-postgres" }), true);
        assert.equal(matchesPattern(notScratch, { id: "oauth2-backup-test-20261205" }), false);
        assert.equal(matchesPattern(notScratch, {}), false, "anything-but needs the field");
        assert.equal(matchesPattern({ id: [{ prefix: "oauth2-" }] }, { id: "oauth2-postgres" }), true);
        assert.equal(matchesPattern({ id: [{ prefix: "oauth2-" }] }, { id: "crm" }), false);
        assert.equal(matchesPattern({ id: [{ "anything-but": ["a", "b"] }] }, { id: "c" }), true);
        assert.equal(matchesPattern({ id: [{ "anything-but": ["a", "b"] }] }, { id: "b" }), false);
        assert.equal(matchesPattern({ id: [{ exists: false }] }, {}), true);
        assert.equal(matchesPattern({ id: [{ exists: false }] }, { id: null }), false, "null is present");
        assert.equal(matchesPattern({ id: [{ exists: true }] }, { id: 0 }), true);
    });

    it("wildcard: `*` any characters (none too), `\\*` a star, nothing else special", () => {
        const p = { arn: [{ wildcard: "arn:*:secret:oauth2/x-*" }] };
        assert.equal(matchesPattern(p, { arn: "arn:aws:secretsmanager:us-east-1:1:secret:oauth2/x-AbCdEf" }), true);
        assert.equal(matchesPattern(p, { arn: "arn::secret:oauth2/x-" }), true);
        assert.equal(matchesPattern(p, { arn: "arn:aws:secretsmanager:us-east-1:1:secret:oauth2/y-AbCdEf" }), false);
        assert.equal(matchesPattern({ a: [{ wildcard: "a\\*b.c" }] }, { a: "a*b.c" }), true);
        assert.equal(matchesPattern({ a: [{ wildcard: "a\\*b.c" }] }, { a: "axb.c" }), false);
        assert.equal(matchesPattern({ a: [{ wildcard: "a.c" }] }, { a: "abc" }), false);
        assert.equal(matchesPattern(p, { arn: 1 }), false);
    });

    it("refuses what it does not evaluate rather than guess", () => {
        assert.throws(() => matchesPattern({ id: [{ suffix: ".x" }] }, { id: "a.x" }), /operator suffix is not evaluated/);
        assert.throws(() => matchesPattern({ $or: [{ a: ["x"] }] }, { a: "x" }), /\$or is not evaluated/);
        assert.throws(() => matchesPattern({ a: "x" }, { a: "x" }), /must be an array/);
        assert.throws(() => matchesPattern([], {}), /expected an object/);
    });
});

describe("the retention alarm as prod and dr plan it", function () {
    let prod: PlanResult;
    let dr: PlanResult;
    before(async () => {
        [prod, dr] = await planRepo(["prod", "dr"]);
    });

    const pattern = (plan: PlanResult, id: string) => JSON.parse(props(resource(plan, RULE, `oauth2-dr-${plan.stack}-${id}`)).eventPattern as string) as Record<string, unknown>;

    it("backup-retention-lowered matches ModifyDBInstance with backupRetentionPeriod 0 and 7 (and ModifyDBCluster 1), not 30, 35 or a call without the field", () => {
        for (const plan of [prod, dr]) {
            const region = plan.stack === "prod" ? "us-east-1" : "us-west-2";
            const lowered = pattern(plan, "backup-retention-lowered");
            assert.equal(matchesPattern(lowered, modify(0, region)), true, `${plan.stack}: retention 0`);
            assert.equal(matchesPattern(lowered, modify(7, region)), true, `${plan.stack}: retention 7`);
            assert.equal(matchesPattern(lowered, modify(29, region)), true, `${plan.stack}: retention 29`);
            assert.equal(matchesPattern(lowered, rdsCall("ModifyDBCluster", { dBClusterIdentifier: "c", backupRetentionPeriod: 1 })), true);
            assert.equal(matchesPattern(lowered, modify(30, region)), false, `${plan.stack}: the row's 30 days`);
            assert.equal(matchesPattern(lowered, modify(35, region)), false, `${plan.stack}: 35 days`);
            assert.equal(matchesPattern(lowered, modify(undefined, region)), false, `${plan.stack}: a change that leaves the retention alone`);
            assert.equal(matchesPattern(lowered, rdsCall("CreateDBInstance", { dBInstanceIdentifier: "x", backupRetentionPeriod: 0 })), false);
        }
    });

    it("takes its threshold from the stack's retention.database (the one source), and is what retentionRules builds", async () => {
        assert.deepEqual(pattern(prod, "backup-retention-lowered"), retentionRules("prod", 30, VERIFICATION_INSTANCE_PREFIX)[0].pattern);
        const [raised] = await planRepo(["prod"], { configOverrides: { "oauth2-dr:retention": JSON.stringify({ database: 35 }) } });
        const lowered = pattern(raised, "backup-retention-lowered");
        assert.equal(props(resource(raised, "aws:rds/instance:Instance", "oauth2-postgres")).backupRetentionPeriod, 35);
        assert.equal(matchesPattern(lowered, modify(34)), true, "34 is below a raised row of 35");
        assert.equal(matchesPattern(lowered, modify(35)), false);
    });

    it("automated-backups-deleted and database-deleted match the other ways to end the automated backups; the scratch instances' deletion does not alarm", () => {
        const deleted = pattern(prod, "automated-backups-deleted");
        for (const call of ["DeleteDBInstanceAutomatedBackup", "StopDBInstanceAutomatedBackupsReplication", "DeleteDBClusterAutomatedBackup"]) {
            assert.equal(matchesPattern(deleted, rdsCall(call, { dbiResourceId: "db-PRODRESOURCEID" })), true, call);
        }
        assert.equal(matchesPattern(deleted, rdsCall("StartDBInstanceAutomatedBackupsReplication", {})), false);
        const dropped = pattern(prod, "database-deleted");
        assert.equal(matchesPattern(dropped, rdsCall("DeleteDBInstance", { dBInstanceIdentifier: "oauth2-postgres", skipFinalSnapshot: true })), true);
        assert.equal(matchesPattern(dropped, rdsCall("DeleteDBInstance", { dBInstanceIdentifier: `${VERIFICATION_INSTANCE_PREFIX}20261205`, skipFinalSnapshot: true })), false);
    });

    it("backup-key-disabled and server-secret-deleted: what the deletion guards let the break-glass role alone do is watched (a key disabled or scheduled for deletion; the server's secrets deleted or their DR replica removed, by name or ARN)", () => {
        for (const plan of [prod, dr]) {
            const keys = pattern(plan, "backup-key-disabled");
            const key = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
            assert.equal(matchesPattern(keys, apiCall("kms", "ScheduleKeyDeletion", { keyId: key, pendingWindowInDays: 7 })), true);
            assert.equal(matchesPattern(keys, apiCall("kms", "DisableKey", { keyId: "alias/oauth2-backups" })), true);
            for (const call of ["EnableKey", "CancelKeyDeletion", "CreateKey"]) {
                assert.equal(matchesPattern(keys, apiCall("kms", call, { keyId: key })), false, call);
            }
            const secrets = pattern(plan, "server-secret-deleted");
            for (const secret of ["oauth2/backup-passphrase", "oauth2/jwk-private-key", "oauth2/db-credentials", "arn:aws:secretsmanager:us-east-1:123456789012:secret:oauth2/backup-passphrase-AbCdEf"]) {
                assert.equal(matchesPattern(secrets, apiCall("secretsmanager", "DeleteSecret", { secretId: secret, recoveryWindowInDays: 7 })), true, secret);
                assert.equal(matchesPattern(secrets, apiCall("secretsmanager", "RemoveRegionsFromReplication", { secretId: secret, removeReplicaRegions: ["us-west-2"] })), true, secret);
                assert.equal(matchesPattern(secrets, apiCall("secretsmanager", "StopReplicationToReplica", { secretId: secret }, "us-west-2")), true, secret);
                assert.equal(matchesPattern(secrets, apiCall("secretsmanager", "DeleteResourcePolicy", { secretId: secret })), true, secret);
                assert.equal(matchesPattern(secrets, apiCall("secretsmanager", "PutResourcePolicy", { secretId: secret })), false, `${secret}: every pulumi up that changes the guard`);
                assert.equal(matchesPattern(secrets, apiCall("secretsmanager", "GetSecretValue", { secretId: secret })), false, secret);
            }
            for (const other of ["app/feature-flags", "arn:aws:secretsmanager:us-east-1:123456789012:secret:app/feature-flags-AbCdEf", "oauth2/backup-passphrase-old"]) {
                assert.equal(matchesPattern(secrets, apiCall("secretsmanager", "DeleteSecret", { secretId: other })), false, other);
            }
            const target = props(resource(plan, TARGET, `oauth2-dr-${plan.stack}-backup-key-disabled`)).inputTransformer;
            assert.match(target.inputTemplate, /aws kms cancel-key-deletion --key-id <key>/);
            assert.match(props(resource(plan, TARGET, `oauth2-dr-${plan.stack}-server-secret-deleted`)).inputTransformer.inputTemplate, /restore-secret --secret-id <secret>/);
        }
    });

    it("the compromise drill says which of the break-glass role's routes past the deletion guards are alarmed, and which are not", () => {
        const byRoute = new Map(declaredGuards().map((g) => [g.breakGlass.split(" ")[0], g.breakGlass]));
        assert.equal(byRoute.get("DeleteSecret"), "DeleteSecret allow, alarmed (EventBridge rule oauth2-dr-prod-server-secret-deleted)");
        assert.equal(byRoute.get("ScheduleKeyDeletion"), "ScheduleKeyDeletion allow, alarmed (EventBridge rule oauth2-dr-prod-backup-key-disabled)");
        assert.equal(byRoute.get("DisableKey"), "DisableKey allow, alarmed (EventBridge rule oauth2-dr-prod-backup-key-disabled)");
        assert.equal(byRoute.get("PutKeyPolicy"), "PutKeyPolicy allow, not alarmed");
        assert.equal(byRoute.get("PutResourcePolicy"), "PutResourcePolicy allow, not alarmed");
        // Without the rules (a tree that declares none), every route past the secret's and the key's guards says so.
        const unwatched = declaredGuards(undefined, undefined, undefined, undefined, null).filter((g) => /^(secret oauth2\/backup-passphrase|its KMS key)/.test(g.resource));
        assert.equal(unwatched.length, 10);
        assert.ok(unwatched.every((g) => g.breakGlass.endsWith("allow, not alarmed")), unwatched.map((g) => g.breakGlass).join("; "));
    });

    it("each rule notifies the stack's alarm topic with who, which instance and what value; the topic's policy lets EventBridge publish from these rules only", () => {
        for (const plan of [prod, dr]) {
            const topic = plan.stack === "prod" ? `arn:aws:sns:us-east-1:${ACCOUNT}:oauth2-dr-alarms` : `arn:aws:sns:us-west-2:${ACCOUNT}:oauth2-dr-alarms`;
            const rules = resourcesOfType(plan, RULE).filter((r) => r.name.startsWith(`oauth2-dr-${plan.stack}-`));
            assert.deepEqual(rules.map((r) => r.name).sort(), ["automated-backups-deleted", "backup-key-disabled", "backup-retention-lowered", "database-deleted", "server-secret-deleted"].map((id) => `oauth2-dr-${plan.stack}-${id}`));
            for (const rule of rules) {
                const target = props(resource(plan, TARGET, rule.name));
                assert.equal(target.arn, topic);
                assert.equal(target.rule, rule.name);
                assert.equal(target.inputTransformer.inputPaths.who, "$.detail.userIdentity.arn");
                assert.match(target.inputTransformer.inputTemplate, /^".*<who>.*"$/);
            }
            const lowered = props(resource(plan, TARGET, `oauth2-dr-${plan.stack}-backup-retention-lowered`)).inputTransformer;
            assert.equal(lowered.inputPaths.instance, "$.detail.requestParameters.dBInstanceIdentifier");
            assert.equal(lowered.inputPaths.value, "$.detail.requestParameters.backupRetentionPeriod");
            assert.match(lowered.inputTemplate, /<instance>/);
            assert.match(lowered.inputTemplate, /<value>/);

            const policy = props(resource(plan, TOPIC_POLICY, `oauth2-dr-${plan.stack}-alarm-topic-policy`));
            assert.equal(policy.arn, topic);
            const statements = JSON.parse(policy.policy).Statement as any[];
            const events = statements.filter((s) => s.Principal?.Service === "events.amazonaws.com");
            assert.equal(events.length, 1);
            assert.equal(events[0].Action, "sns:Publish");
            assert.deepEqual([...events[0].Condition.ArnEquals["aws:SourceArn"]].sort(), rules.map((r) => `arn:aws:events:${plan.stack === "prod" ? "us-east-1" : "us-west-2"}:${ACCOUNT}:rule/${r.name}`).sort());
            // The account's own use and the CloudWatch alarms keep publishing: the policy replaces SNS's default.
            assert.ok(statements.some((s) => s.Principal?.Service === "cloudwatch.amazonaws.com" && s.Condition.StringEquals["aws:SourceAccount"] === ACCOUNT));
            assert.ok(statements.some((s) => s.Principal?.AWS === "*" && s.Condition.StringEquals["AWS:SourceOwner"] === ACCOUNT));
        }
    });

    it("declares the management-events trail EventBridge needs, in the stack's region, into the audit archive, which lets that trail (only) write and encrypt", () => {
        for (const plan of [prod, dr]) {
            const region = plan.stack === "prod" ? "us-east-1" : "us-west-2";
            const name = trailName(plan.stack);
            const trail = props(resource(plan, TRAIL, name));
            assert.equal(trail.s3BucketName, `oauth2-audit-${plan.stack}`);
            assert.equal(trail.s3KeyPrefix, TRAIL_KEY_PREFIX);
            assert.equal(trail.enableLogging, true);
            assert.deepEqual(trail.eventSelectors, [{ includeManagementEvents: true, readWriteType: "WriteOnly" }]);
            const bucketKey = props(resource(plan, "aws:kms/key:Key", `oauth2-audit-${plan.stack}`));
            // Encrypted with the audit bucket's own key (the bucket policy refuses any other).
            assert.deepEqual(resource(plan, TRAIL, name).propertyDependencies.kmsKeyId, [resource(plan, "aws:kms/key:Key", `oauth2-audit-${plan.stack}`).urn]);
            const trailArn = `arn:aws:cloudtrail:${region}:${ACCOUNT}:trail/${name}`;
            const bucketPolicy = JSON.parse(props(resource(plan, "aws:s3/bucketPolicy:BucketPolicy", `oauth2-audit-${plan.stack}-policy`)).policy).Statement as any[];
            const write = bucketPolicy.find((s) => s.Sid === "CloudTrailWrite");
            assert.equal(write.Resource, `arn:aws:s3:::oauth2-audit-${plan.stack}/${TRAIL_KEY_PREFIX}/AWSLogs/${ACCOUNT}/*`);
            assert.equal(write.Condition.StringEquals["aws:SourceArn"], trailArn);
            assert.ok(bucketPolicy.find((s) => s.Sid === "CloudTrailAclCheck").Condition.StringEquals["aws:SourceArn"] === trailArn);
            const keyStatement = (JSON.parse(bucketKey.policy).Statement as any[]).find((s) => s.Sid === "CloudTrailEncryptsLogs");
            assert.equal(keyStatement.Condition.StringEquals["aws:SourceArn"], trailArn);
            // The trail waits for the bucket (its policy and key) that lets it write.
            assert.ok(resource(plan, TRAIL, name).dependencies.some((d) => d.endsWith(`::oauth2-audit-${plan.stack}-policy`)), JSON.stringify(resource(plan, TRAIL, name).dependencies));
        }
    });

    it("the compromise drill reports ModifyDBInstance retention 0 as not refused but alarmed, naming the rule the plan declares; a planned rule that would not match leaves it unalarmed", () => {
        const planned = resourcesOfType(prod, RULE).map((r) => ({ name: r.name, pattern: JSON.parse(props(r).eventPattern as string) as Record<string, unknown> }));
        const residualOf = (rules: typeof planned) => declaredGuards(null, null, undefined, null, rules).find((g) => g.resource.endsWith("ModifyDBInstance with BackupRetentionPeriod 0"))!;
        const alarmed = residualOf(planned);
        assert.equal(alarmed.declared, true);
        assert.match(alarmed.attacker, /^ModifyDBInstance allow \(no condition key .*\); not refused, alarmed: EventBridge rule oauth2-dr-prod-backup-retention-lowered matches it and notifies the alarm topic; silencing it first \(DisableRule, RemoveTargets, StopLogging, DeleteTopic, Unsubscribe, SetSubscriptionAttributes\) deny by the organization SCP$/);
        assert.equal(matchesPattern(planned.find((r) => r.name.endsWith("backup-retention-lowered"))!.pattern, retentionCallEvent(0)), true);
        // The same rule with the threshold at 0 (nothing is below it) alarms on nothing: the line says so.
        const blind = planned.map((r) => (r.name.endsWith("backup-retention-lowered") ? { ...r, pattern: JSON.parse(JSON.stringify(r.pattern).replace('["<",30]', '["<",0]')) as Record<string, unknown> } : r));
        assert.notDeepEqual(blind, planned);
        const unalarmed = residualOf(blind);
        assert.equal(unalarmed.declared, false);
        assert.match(unalarmed.attacker, /no alarm on it declared in this tree\)$/);
    });
});
