/**
 * The compromise drill's parts that do not need the whole drill: the replication stand-in (the lock travels,
 * a cut configuration copies nothing) and the declared deletion guards evaluated as data.
 */
import * as assert from "assert/strict";
import * as fs from "fs";
import * as path from "path";
import { CreateBucketCommand, DeleteBucketReplicationCommand, HeadObjectCommand, PutBucketReplicationCommand, PutBucketVersioningCommand, PutObjectCommand, PutObjectLockConfigurationCommand, S3Client } from "@aws-sdk/client-s3";
import { ATTACKER, BREAK_GLASS_ROLE, declaredGuards, replicate } from "../../tools/drill/compromise";
import { evaluate, statementsOf, type PolicyStatement } from "../../tools/drill/policy-eval";
import { MotoServer } from "../../tools/sandbox/servers";
import { useEnv } from "../support/process-state";

/** The guards' shape as h23's components declare them: an explicit Deny to everyone but the break-glass role. */
const guard = (actions: string[]) => (breakGlass: string) => ({
    Version: "2012-10-17",
    Statement: [{ Sid: "DenyDeletionExceptBreakGlass", Effect: "Deny", Principal: { AWS: "*" }, Action: actions, Resource: "*", Condition: { ArnNotEquals: { "aws:PrincipalArn": breakGlass } } }],
});
const ADMIN: PolicyStatement = { Effect: "Allow", Action: "*", Resource: "*" };

describe("compromise drill: the deletion guards as data (moto does not evaluate resource policies)", function () {
    // The SDK's notice about its 2027 releases and Node 22 (the CLIs turn it off the same way); for this file only.
    useEnv({ AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" });
    it("an explicit Deny except the break-glass role denies the production administrator and allows the break-glass role; other actions stay allowed", function () {
        const statements = [...statementsOf(guard(["secretsmanager:DeleteSecret", "secretsmanager:PutResourcePolicy"])(BREAK_GLASS_ROLE)), ADMIN];
        assert.equal(evaluate(statements, ATTACKER, "secretsmanager:DeleteSecret"), "deny");
        assert.equal(evaluate(statements, ATTACKER, "SecretsManager:deletesecret"), "deny", "actions are case-insensitive");
        assert.equal(evaluate(statements, BREAK_GLASS_ROLE, "secretsmanager:DeleteSecret"), "allow");
        assert.equal(evaluate(statements, ATTACKER, "secretsmanager:GetSecretValue"), "allow");
        assert.equal(evaluate(statementsOf(JSON.stringify({ Statement: { Effect: "Deny", Principal: "*", Action: "kms:*", Resource: "*" } })), BREAK_GLASS_ROLE, "kms:ScheduleKeyDeletion"), "deny");
        assert.equal(evaluate([], ATTACKER, "kms:DisableKey"), "no decision");
        assert.throws(() => evaluate([{ Effect: "Deny", Action: "*", Condition: { DateLessThan: { "aws:CurrentTime": "2030-01-01" } } }], ATTACKER, "kms:DisableKey"), /condition key aws:CurrentTime/);
        assert.throws(() => evaluate([{ Effect: "Deny", Action: "*", Condition: { IpAddress: { "aws:PrincipalArn": "x" } } }], ATTACKER, "kms:DisableKey"), /operator IpAddress is not evaluated/);
    });

    it("the drill reports the guards the tree declares, evaluated for the attacker and the break-glass role on each way to the deletion (the guard removed or replaced first, the replica dropped, the key disabled or re-policied: the SCP decides that one); without them, that AWS would let the deletion through", function () {
        const declared = declaredGuards(guard(["secretsmanager:DeleteSecret"]), (arn) => guard(["kms:ScheduleKeyDeletion", "kms:DisableKey"])(arn).Statement[0], [], null, null);
        assert.deepEqual(declared.slice(0, 2).map((g) => [g.declared, g.attacker, g.breakGlass]), [[true, "DeleteSecret deny", "DeleteSecret allow, not alarmed"], [true, "ScheduleKeyDeletion deny", "ScheduleKeyDeletion allow, not alarmed"]]);
        // Each other way to the same end is tried too: a guard of DeleteSecret alone lets the attacker remove or
        // replace it first, or re-key the secret to a key of theirs; the key's policy cannot refuse PutKeyPolicy
        // to its administrators; RDS's automated backups have no resource policy at all.
        const attacker = (list: typeof declared) => Object.fromEntries(list.map((g) => [g.resource.replace(/^.*?: |^(.*)$/, "$1"), g.attacker]));
        assert.deepEqual(declared.slice(2).map((g) => g.attacker), [
            "DeleteResourcePolicy allow",
            "PutResourcePolicy allow",
            "RemoveRegionsFromReplication allow",
            "StopReplicationToReplica allow",
            "ReplicateSecretToRegions allow",
            "UpdateSecret(KmsKeyId) allow",
            "DisableKey deny",
            "PutKeyPolicy allow (neither the key policy nor the organization SCP denies it)",
            "no lock floor declared in this tree: AWS would store the upload with the attacker's lock",
            "no lock floor declared in this tree: AWS would store the upload with the attacker's lock",
            // A bucket's configuration: no bucket policy binds its own account's root, only an SCP can.
            "DeleteBucketPolicy allow (the organization SCP does not deny it)",
            "PutObjectLockConfiguration allow (the organization SCP does not deny it)",
            "PutBucketLifecycleConfiguration allow (the organization SCP does not deny it)",
            "PutBucketReplication / DeleteBucketReplication allow (the organization SCP does not deny it)",
            "PutBucketEncryption allow (the organization SCP does not deny it)",
            "DeleteDBInstanceAutomatedBackup allow (the organization SCP does not deny it)",
            "StopDBInstanceAutomatedBackupsReplication allow (the organization SCP does not deny it)",
            "RemoveTagsFromResource(project) allow (the organization SCP does not deny it)",
            "DeleteLogGroup allow (the organization SCP does not deny it)",
            "PutRetentionPolicy allow (the organization SCP does not deny it)",
            "DeleteSubscriptionFilter allow (the organization SCP does not deny it)",
            "DeleteDeliveryStream allow (the organization SCP does not deny it)",
            "DeleteBackupVaultLockConfiguration allow (the organization SCP does not deny it)",
            // Future backups stopped: no SCP statement names the plan; this tree's alarm (components/alarms.ts) fires a
            // day later, but only while it stands, and this SCP does not refuse deleting it first.
            "UpdateBackupPlan / DeleteBackupSelection / DeleteBackupPlan allow (the organization SCP does not deny it); alarmed a day later: CloudWatch alarm oauth2-dr-prod-backup-jobs-missing (no backup job completed in the vault for a day, missing data breaching) notifies the alarm topic, only while it stands, and DeleteAlarms on it first is not refused (the organization SCP does not deny it): open",
            "UpdateAssumeRolePolicy allow (the organization SCP does not deny it); open all the same through the cluster: a pod run as the restore-verification service account gets that role (IRSA), the stated trade-off of docs/runbook.md \"Key custody and the verification job\", closed only by running the verification outside the production account (in the vault account)",
            "ModifyDBInstance allow (no condition key of ModifyDBInstance reads the retention: the locked AWS Backup vaults hold the database row; no alarm on it declared in this tree)",
            "LeaveOrganization allow (the organization SCP does not deny it: every line above that it decides is open)",
        ], JSON.stringify(attacker(declared)));
        // An SCP that denies PutKeyPolicy but lets the account leave the organization refuses nothing: the attacker
        // leaves first. With LeaveOrganization denied (to all but security), it decides.
        const putKeyPolicyOnly = { Effect: "Deny", Action: ["kms:PutKeyPolicy"], Resource: "*", Condition: { StringEquals: { "aws:ResourceTag/project": "oauth2-dr" }, ArnNotLike: { "aws:PrincipalArn": [BREAK_GLASS_ROLE] } } };
        const stay = { Effect: "Deny", Action: ["organizations:LeaveOrganization"], Resource: "*", Condition: { ArnNotLike: { "aws:PrincipalArn": ["arn:aws:iam::*:role/security"] } } };
        const keyGuard = (arn: string) => guard(["kms:ScheduleKeyDeletion", "kms:DisableKey"])(arn).Statement[0];
        const leavable = declaredGuards(guard(["secretsmanager:DeleteSecret"]), keyGuard, [putKeyPolicyOnly], null, null);
        assert.equal(leavable.find((g) => g.attacker.startsWith("PutKeyPolicy"))!.attacker, "PutKeyPolicy allow (the key policy does not deny it; the organization SCP denies it, but not organizations:LeaveOrganization: the account leaves the organization first)");
        assert.deepEqual(leavable.at(-1), { resource: "the organization SCP itself (docs/organization-scp.json): leave the organization first, after which no statement of it binds the account", attacker: "LeaveOrganization allow (the organization SCP does not deny it: every line above that it decides is open)", breakGlass: "LeaveOrganization allow", declared: false });
        const withScp = declaredGuards(guard(["secretsmanager:DeleteSecret"]), keyGuard, [putKeyPolicyOnly, stay], null, null);
        const putKeyPolicy = withScp.find((g) => g.attacker.startsWith("PutKeyPolicy"))!;
        assert.equal(putKeyPolicy.attacker, "PutKeyPolicy allow by the key policy, deny by the organization SCP (docs/organization-scp.json, once applied)");
        assert.equal(putKeyPolicy.breakGlass, "PutKeyPolicy allow, not alarmed");
        assert.deepEqual([withScp.at(-1)!.attacker, withScp.at(-1)!.breakGlass, withScp.at(-1)!.declared], ["LeaveOrganization deny by the organization SCP (once applied)", "LeaveOrganization deny by the organization SCP (only the security principal may)", true]);
        const none = declaredGuards(null, null, undefined, null, null);
        // (undefined takes the committed SCP: the lines it decides are not the guards'.)
        assert.ok(none.filter((g) => !/^(RDS|s3:\/\/|audit log group|AWS Backup vault|the AWS Backup plan|the organization SCP itself|the vault's private keys)/.test(g.resource)).every((g) => !g.declared && /no (deletion guard|lock floor) declared in this tree/.test(g.attacker)));
        // With no argument, the guards of this tree's components (components/secrets.ts, components/kms.ts,
        // components/backup-bucket.ts) and the committed SCP (docs/organization-scp.json), if it declares them.
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const inTree = typeof (require("../../components/secrets") as Record<string, unknown>).secretDeletionGuard === "function";
        const fromTree = declaredGuards();
        assert.equal(fromTree[0].declared, inTree);
        if (inTree) {
            assert.deepEqual([fromTree[0].attacker, fromTree[0].breakGlass], ["DeleteSecret deny", "DeleteSecret allow, alarmed (EventBridge rule oauth2-dr-prod-server-secret-deleted)"]);
            // This tree's guards deny every way but PutKeyPolicy (the committed SCP denies it) and RDS's routes
            // (the SCP denies the two it can name); ModifyDBInstance's retention 0 is the residual no policy refuses.
            const bySCP = (g: { resource: string }) => /^(RDS|s3:\/\/|audit log group|AWS Backup vault|the AWS Backup plan|the organization SCP itself|the vault's private keys)/.test(g.resource);
            const byGuards = fromTree.filter((g) => !g.attacker.startsWith("PutKeyPolicy") && !bySCP(g));
            assert.ok(byGuards.every((g) => / deny$/.test(g.attacker) && g.declared), JSON.stringify(fromTree.map((g) => g.attacker)));
            // The bucket's configuration (the floor's own removal first) and leaving the organization: the committed SCP.
            const config = fromTree.filter((g) => /^(s3:\/\/|audit log group|AWS Backup vault)/.test(g.resource));
            assert.equal(config.length, 10);
            assert.ok(config.every((g) => g.declared && / deny by the organization SCP \(docs\/organization-scp.json, once applied\)$/.test(g.attacker) && / allow$/.test(g.breakGlass)), JSON.stringify(config));
            assert.equal(fromTree.at(-1)!.attacker, "LeaveOrganization deny by the organization SCP (once applied)");
            // Future backups stopped (h29-routes): alarmed by this tree's backup-jobs-missing; the committed SCP does not
            // refuse deleting the alarm first (nor names the plan), so the line says open and is not counted as closed.
            const plan = fromTree.find((g) => g.resource.startsWith("the AWS Backup plan"))!;
            assert.equal(plan.declared, false);
            assert.match(plan.attacker, /^UpdateBackupPlan \/ DeleteBackupSelection \/ DeleteBackupPlan allow \(the organization SCP does not deny it\); alarmed a day later: CloudWatch alarm oauth2-dr-prod-backup-jobs-missing .*DeleteAlarms on it first is not refused \(the organization SCP does not deny it\): open$/);
            // Without the alarm: no alarm, said so; with an SCP that refuses silencing it: alarmed, and counted.
            assert.equal(declaredGuards(undefined, undefined, undefined, undefined, undefined, false).find((g) => g.resource.startsWith("the AWS Backup plan"))!.attacker, "UpdateBackupPlan / DeleteBackupSelection / DeleteBackupPlan allow (the organization SCP does not deny it; no alarm on backup jobs that never start declared in this tree)");
            const committed = statementsOf(fs.readFileSync(path.join(__dirname, "..", "..", "docs", "organization-scp.json"), "utf8"));
            const silencers: PolicyStatement = { Effect: "Deny", Action: ["cloudwatch:DeleteAlarms", "cloudwatch:DisableAlarmActions"], Resource: "arn:aws:cloudwatch:*:*:alarm:oauth2-dr-*", Condition: { ArnNotLike: { "aws:PrincipalArn": [BREAK_GLASS_ROLE] } } };
            const guarded = declaredGuards(undefined, undefined, [...committed, silencers]).find((g) => g.resource.startsWith("the AWS Backup plan"))!;
            assert.equal(guarded.declared, true);
            assert.match(guarded.attacker, /; not refused, alarmed a day later: .*; silencing it first \(DeleteAlarms, DisableAlarmActions, Unsubscribe, SetSubscriptionAttributes\) deny by the organization SCP$/);
            // An SCP of before h32 (no sns:Unsubscribe): the alarm topic's endpoints go first, the line says open.
            const noUnsubscribe = committed.map((st) => ({ ...st, Action: ([] as string[]).concat(st.Action ?? []).filter((a) => a !== "sns:Unsubscribe") }));
            const unsubscribed = declaredGuards(undefined, undefined, [...noUnsubscribe, silencers]).find((g) => g.resource.startsWith("the AWS Backup plan"))!;
            assert.equal(unsubscribed.declared, false);
            assert.match(unsubscribed.attacker, /only while it stands, and Unsubscribe on its topic's subscription arn:aws:sns:us-east-1:123456789012:oauth2-dr-alarms:[0-9a-f-]+ first is not refused \(the organization SCP does not deny it\): open$/);
            // Reading every backup through the verification role: the SCP refuses re-trusting it, the cluster route stays open.
            const reader = fromTree.find((g) => g.resource.startsWith("the vault's private keys"))!;
            assert.equal(reader.declared, false);
            assert.match(reader.attacker, /^UpdateAssumeRolePolicy deny by the organization SCP \(docs\/organization-scp.json, once applied\); open all the same through the cluster/);
            assert.equal(fromTree.find((g) => g.attacker.startsWith("UpdateSecret"))!.breakGlass, "UpdateSecret(KmsKeyId) allow, not alarmed");
            // A replica under the attacker's key: denied to the attacker (no KMS key condition key exists, so the
            // guard denies the action whole); the break-glass role may: the residual route (h29-residuals).
            const replica = fromTree.find((g) => g.attacker.startsWith("ReplicateSecretToRegions"))!;
            assert.deepEqual([replica.attacker, replica.breakGlass], ["ReplicateSecretToRegions deny", "ReplicateSecretToRegions allow, not alarmed"]);
            // Detaching the DR replica (h29-routes): the guard denies it, and the replica carries the guard.
            const detach = fromTree.find((g) => g.attacker.startsWith("StopReplicationToReplica"))!;
            assert.deepEqual([detach.attacker, detach.breakGlass, detach.declared], ["StopReplicationToReplica deny", "StopReplicationToReplica allow, alarmed (EventBridge rule oauth2-dr-prod-server-secret-deleted)", true]);
            assert.match(fromTree.find((g) => g.attacker.startsWith("PutKeyPolicy"))!.attacker, /^PutKeyPolicy allow by the key policy, deny by the organization SCP/);
            const floors = fromTree.filter((g) => g.resource.startsWith("new backups"));
            assert.equal(floors.length, 2);
            for (const floor of floors) {
                assert.equal(floor.attacker, "PutObject deny");
                assert.match(floor.breakGlass, /a writer's own upload \(COMPLIANCE, 30 days\) allow$/);
            }
            const rds = fromTree.filter((g) => g.resource.startsWith("RDS"));
            assert.deepEqual(rds.map((g) => g.attacker.replace(/ \(.*$/, "")), [
                "DeleteDBInstanceAutomatedBackup deny by the organization SCP",
                "StopDBInstanceAutomatedBackupsReplication deny by the organization SCP",
                "RemoveTagsFromResource(project) deny by the organization SCP",
                "ModifyDBInstance allow",
            ]);
            assert.ok(rds.slice(0, 3).every((g) => g.breakGlass.endsWith(" allow")), JSON.stringify(rds));
            // Not refused, but alarmed: this tree's rule (components/retention-alarm.ts) matches the call.
            const residual = rds[3];
            assert.equal(residual.declared, true);
            assert.match(residual.attacker, /; not refused, alarmed: EventBridge rule oauth2-dr-prod-backup-retention-lowered matches it and notifies the alarm topic; silencing it first \(DisableRule, RemoveTargets, StopLogging, DeleteTopic, Unsubscribe, SetSubscriptionAttributes\) deny by the organization SCP$/);
            // The break-glass role, which the SCP exempts, can silence it first: the line says so.
            assert.match(residual.breakGlass, /^ModifyDBInstance allow; alarmed only while the alarm stands, and disabling the rule first is not refused \(events:DisableRule on arn:aws:events:us-east-1:123456789012:rule\/oauth2-dr-prod-backup-retention-lowered: the SCP exempts the break-glass role\): open$/);
        }
    });

    it("a bucket policy's lock floor, or an alarm, is reported open when the SCP lets the attacker remove the policy or silence the alarm first (a bucket policy cannot refuse its account's root)", function () {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const { lockFloorStatements } = require("../../components/backup-bucket") as { lockFloorStatements: (arn: string, mode: string, floors: { dataClass: string; prefix: string; days: number }[]) => PolicyStatement[] };
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const { retentionRules } = require("../../components/retention-alarm") as { retentionRules: (stack: string, days: number) => { name: string; pattern: Record<string, unknown> }[] };
        const committed = statementsOf(fs.readFileSync(path.join(__dirname, "..", "..", "docs", "organization-scp.json"), "utf8")) as (PolicyStatement & { Sid: string })[];
        // The committed SCP without a statement, or without the actions of one service in its statements.
        const without = (sidOrService: string) => committed.filter((st) => st.Sid !== sidOrService)
            .map((st) => ({ ...st, Action: ([] as string[]).concat(st.Action ?? []).filter((a) => !a.startsWith(`${sidOrService}:`)) }));
        const floorsAndAlarm = (scp: PolicyStatement[]) => {
            const all = declaredGuards(null, null, scp, lockFloorStatements as never, retentionRules("prod", 30));
            return { floors: all.filter((g) => g.resource.startsWith("new backups")), residual: all.find((g) => g.resource.endsWith("BackupRetentionPeriod 0"))!, config: all.filter((g) => g.resource.startsWith("s3://")) };
        };
        const full = floorsAndAlarm(committed);
        assert.ok(full.floors.every((g) => g.attacker === "PutObject deny" && g.declared), JSON.stringify(full.floors));
        assert.equal(full.residual.declared, true);
        // Without the SCP's bucket statement: the administrator deletes the policy, then uploads locked 1 day.
        const noBuckets = floorsAndAlarm(without("s3"));
        for (const floor of noBuckets.floors) {
            assert.equal(floor.attacker, "PutObject deny while the bucket policy stands; DeleteBucketPolicy allow (the organization SCP does not deny it) first, then allow: open");
            assert.equal(floor.declared, false);
        }
        assert.ok(noBuckets.config.every((g) => !g.declared && / allow \(the organization SCP does not deny it\)$/.test(g.attacker)), JSON.stringify(noBuckets.config));
        // Without the SCP's alarm statement: the administrator disables the rule, then sets retention 0 unseen.
        const noAlarm = floorsAndAlarm(without("events"));
        assert.equal(noAlarm.residual.declared, false);
        assert.match(noAlarm.residual.attacker, /; alarmed only while the alarm stands, and disabling the rule first is not refused \(events:DisableRule on arn:aws:events:us-east-1:123456789012:rule\/oauth2-dr-prod-backup-retention-lowered: the organization SCP does not deny it\): open$/);
        // Without sns:Unsubscribe denied (an SCP of before h32): the administrator unsubscribes the alarm topic's
        // endpoints, then sets retention 0: the alarm fires to nobody.
        const noUnsubscribe = floorsAndAlarm(committed.map((st) => ({ ...st, Action: ([] as string[]).concat(st.Action ?? []).filter((a) => a !== "sns:Unsubscribe") })));
        assert.equal(noUnsubscribe.residual.declared, false);
        assert.match(noUnsubscribe.residual.attacker, /; alarmed only while the alarm stands, and unsubscribing the alarm topic's endpoints first is not refused \(sns:Unsubscribe on arn:aws:sns:us-east-1:123456789012:oauth2-dr-alarms:[0-9a-f-]+: the organization SCP does not deny it\): open$/);
        // Nor a filter policy on its subscriptions that no alarm's message matches (SetSubscriptionAttributes).
        const noFilterGuard = floorsAndAlarm(committed.map((st) => ({ ...st, Action: ([] as string[]).concat(st.Action ?? []).filter((a) => a !== "sns:SetSubscriptionAttributes") })));
        assert.equal(noFilterGuard.residual.declared, false);
        assert.match(noFilterGuard.residual.attacker, /and giving the alarm topic's subscriptions a filter policy no message matches first is not refused \(sns:SetSubscriptionAttributes on arn:aws:sns:us-east-1:123456789012:oauth2-dr-alarms:[0-9a-f-]+: the organization SCP does not deny it\): open$/);
        // Without LeaveOrganization denied, nothing the SCP decides holds.
        const leavable = floorsAndAlarm(without("Oauth2DrStayInOrganization"));
        assert.ok(leavable.floors.every((g) => !g.declared) && !leavable.residual.declared && leavable.config.every((g) => / allow \(the organization SCP denies it, but not organizations:LeaveOrganization: the account leaves the organization first\)$/.test(g.attacker)), JSON.stringify(leavable));
    });

    it("the lock floor evaluates the request's own keys: a per-object lock below the prefix's floor or in GOVERNANCE is denied; no per-object lock, or the writer's own, passes", function () {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const { lockFloorStatements } = require("../../components/backup-bucket") as { lockFloorStatements: (arn: string, mode: string, floors: { dataClass: string; prefix: string; days: number }[]) => PolicyStatement[] };
        const statements = [...lockFloorStatements("arn:aws:s3:::b", "COMPLIANCE", [{ dataClass: "database", prefix: "database/", days: 30 }, { dataClass: "clients", prefix: "clients/", days: 90 }]), ADMIN];
        const put = (key: string, context: Record<string, string>) => evaluate(statements, ATTACKER, "s3:PutObject", context, `arn:aws:s3:::b/${key}`);
        assert.equal(put("database/d", {}), "allow", "no per-object lock: the bucket's default applies");
        assert.equal(put("database/d", { "s3:object-lock-mode": "COMPLIANCE", "s3:object-lock-remaining-retention-days": "30" }), "allow");
        assert.equal(put("database/d", { "s3:object-lock-mode": "COMPLIANCE", "s3:object-lock-remaining-retention-days": "29" }), "deny");
        assert.equal(put("database/d", { "s3:object-lock-mode": "GOVERNANCE", "s3:object-lock-remaining-retention-days": "400" }), "deny");
        assert.equal(put("clients/c", { "s3:object-lock-mode": "COMPLIANCE", "s3:object-lock-remaining-retention-days": "30" }), "deny", "clients/ keeps 90 days");
        assert.equal(put("clients/c", { "s3:object-lock-mode": "COMPLIANCE", "s3:object-lock-remaining-retention-days": "90" }), "allow");
        assert.equal(evaluate(statements, ATTACKER, "s3:ReplicateObject", {}, "arn:aws:s3:::b/database/d"), "allow", "replication is not PutObject");
    });
});

describe("compromise drill: the stand-in for S3 replication (moto does not replicate)", function () {
    // The SDK's notice about its 2027 releases and Node 22 (the CLIs turn it off the same way); for this file only.
    useEnv({ AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" });
    this.timeout(60_000);
    let moto: MotoServer;
    before(async () => {
        moto = await MotoServer.start();
    });
    after(async () => {
        await moto?.stop();
    });

    it("copies each version with its Object Lock mode and retain-until date only while an enabled rule names the destination; a cut configuration copies nothing", async function () {
        const s3 = new S3Client({ endpoint: moto.endpoint, region: "us-east-1", forcePathStyle: true, maxAttempts: 1, credentials: { accessKeyId: "replication-role", secretAccessKey: "test" } });
        for (const bucket of ["repl-src", "repl-dst"]) {
            await s3.send(new CreateBucketCommand({ Bucket: bucket }));
            await s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: "Enabled" } }));
            await s3.send(new PutObjectLockConfigurationCommand({ Bucket: bucket, ObjectLockConfiguration: { ObjectLockEnabled: "Enabled", Rule: { DefaultRetention: { Mode: "COMPLIANCE", Days: 1 } } } }));
        }
        const until = new Date(Date.UTC(2031, 0, 2, 3, 4, 5));
        await s3.send(new PutObjectCommand({ Bucket: "repl-src", Key: "audit/a.log", Body: "a", ObjectLockMode: "COMPLIANCE", ObjectLockRetainUntilDate: until }));
        assert.deepEqual(await replicate(s3, "repl-src", s3, "repl-dst"), { copied: 0, reason: "s3://repl-src has no enabled replication rule to repl-dst" });
        await s3.send(new PutBucketReplicationCommand({ Bucket: "repl-src", ReplicationConfiguration: { Role: "arn:aws:iam::1:role/r", Rules: [{ ID: "v", Status: "Enabled", Priority: 1, Filter: { Prefix: "" }, DeleteMarkerReplication: { Status: "Disabled" }, Destination: { Bucket: "arn:aws:s3:::repl-dst" } }] } }));
        assert.equal((await replicate(s3, "repl-src", s3, "repl-dst")).copied, 1);
        const head = await s3.send(new HeadObjectCommand({ Bucket: "repl-dst", Key: "audit/a.log" }));
        assert.equal(head.ObjectLockMode, "COMPLIANCE");
        assert.equal(head.ObjectLockRetainUntilDate?.toISOString(), until.toISOString());
        assert.equal((await replicate(s3, "repl-src", s3, "repl-dst")).copied, 0, "a version is copied once");
        await s3.send(new DeleteBucketReplicationCommand({ Bucket: "repl-src" }));
        await s3.send(new PutObjectCommand({ Bucket: "repl-src", Key: "audit/b.log", Body: "b" }));
        assert.equal((await replicate(s3, "repl-src", s3, "repl-dst")).copied, 0);
    });
});
