/**
 * The organization SCP (lib/organization-scp.ts): generated from the stack files' break-glass roles, committed
 * as docs/organization-scp.json (kept in sync here), refusing malformed ARNs and targets by name; `npm run
 * check` says whether a program declares it.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { PlanResult } from "offline-plan/model";
import { checkScpTarget, organizationScp, PROJECT_TAG } from "../lib/organization-scp";
import { alarmTopicsOfStacks, applyCommands, breakGlassRolesOfStacks, REPO, scpText } from "../tools/scp";
import { organizationGuardOf } from "../tools/check/core";
import { plannedResource } from "./support/plans";
import { evaluate } from "../tools/drill/policy-eval";

type Statement = { Sid: string; Effect: string; Action: string[]; Resource: string | string[]; Condition: Record<string, Record<string, string | string[]>> };

describe("organization SCP", () => {
    const committed = fs.readFileSync(path.join(REPO, "docs", "organization-scp.json"), "utf8");
    const statements = (JSON.parse(committed) as { Statement: Statement[] }).Statement;
    const sid = (id: string) => statements.find((s) => s.Sid === id)!;

    it("docs/organization-scp.json is what `npm run --silent scp` generates from the stack files", () => {
        assert.equal(committed, scpText(), "regenerate: npm run --silent scp > docs/organization-scp.json");
        assert.deepEqual(breakGlassRolesOfStacks(), ["arn:aws:iam::123456789012:role/oauth2-dr-break-glass", "arn:aws:iam::210987654321:role/oauth2-dr-break-glass"]);
    });

    it("only a break-glass role (or security) may PutKeyPolicy, schedule deletion, disable or retag our keys", () => {
        const keys = sid("Oauth2DrKeyGuardsOnlyByBreakGlass");
        assert.equal(keys.Effect, "Deny");
        for (const action of ["kms:PutKeyPolicy", "kms:ScheduleKeyDeletion", "kms:DisableKey", "kms:UntagResource"]) {
            assert.ok(keys.Action.includes(action), action);
        }
        assert.deepEqual(keys.Condition.StringEquals, { [`aws:ResourceTag/${PROJECT_TAG.key}`]: PROJECT_TAG.value });
        for (const role of breakGlassRolesOfStacks()) {
            assert.ok(keys.Condition.ArnNotLike["aws:PrincipalArn"].includes(role), role);
        }
    });

    it("only a break-glass role (or security) may delete or stop RDS's automated backups of our tagged instances, or change their project tag", () => {
        const backups = sid("Oauth2DrRdsAutomatedBackupsOnlyByBreakGlass");
        assert.equal(backups.Effect, "Deny");
        assert.deepEqual(backups.Action, ["rds:DeleteDBInstanceAutomatedBackup", "rds:StopDBInstanceAutomatedBackupsReplication"]);
        assert.deepEqual(backups.Condition.StringEquals, { [`aws:ResourceTag/${PROJECT_TAG.key}`]: PROJECT_TAG.value });
        const tags = sid("Oauth2DrRdsProjectTagOnlyByBreakGlass");
        assert.deepEqual(tags.Action, ["rds:AddTagsToResource", "rds:RemoveTagsFromResource"]);
        assert.deepEqual(tags.Condition["ForAnyValue:StringEquals"], { "aws:TagKeys": [PROJECT_TAG.key] }, "other tags stay the operators'");
        for (const statement of [backups, tags]) {
            for (const role of breakGlassRolesOfStacks()) {
                assert.ok(statement.Condition.ArnNotLike["aws:PrincipalArn"].includes(role), role);
            }
        }
        // ModifyDBInstance (BackupRetentionPeriod 0) has no condition key for the retention: not denied (the residual).
        assert.ok(!statements.some((s) => s.Action.includes("rds:ModifyDBInstance")));
    });

    it("nobody but the security principal may change a break-glass role's trust or permissions", () => {
        const roles = sid("Oauth2DrBreakGlassRoleOnlyBySecurity");
        assert.equal(roles.Effect, "Deny");
        for (const action of ["iam:UpdateAssumeRolePolicy", "iam:PutRolePolicy", "iam:AttachRolePolicy"]) {
            assert.ok(roles.Action.includes(action), action);
        }
        assert.deepEqual(roles.Resource, breakGlassRolesOfStacks());
        assert.deepEqual(roles.Condition.ArnNotLike["aws:PrincipalArn"], ["arn:aws:iam::*:role/oauth2-dr-organization-security"]);
        assert.ok(!(roles.Condition.ArnNotLike["aws:PrincipalArn"] as string[]).some((a) => a.endsWith("break-glass")), "a break-glass role cannot rewrite itself");
    });

    it("nobody but the security principal may take an account out of the organization: every statement here binds member accounts only", () => {
        const stay = sid("Oauth2DrStayInOrganization");
        assert.equal(stay.Effect, "Deny");
        assert.deepEqual(stay.Action, ["organizations:LeaveOrganization"]);
        assert.equal(stay.Resource, "*");
        assert.deepEqual(stay.Condition, { ArnNotLike: { "aws:PrincipalArn": ["arn:aws:iam::*:role/oauth2-dr-organization-security"] } }, "not even a break-glass role");
    });

    it("only a break-glass role (or security) may change a backup bucket's policy, default retention, lifecycle, replication, encryption or versioning: a bucket policy cannot refuse its account's root", () => {
        const buckets = sid("Oauth2DrBackupConfigurationOnlyByBreakGlass");
        assert.equal(buckets.Effect, "Deny");
        for (const action of ["s3:PutBucketPolicy", "s3:DeleteBucketPolicy", "s3:PutBucketObjectLockConfiguration", "s3:PutLifecycleConfiguration", "s3:PutReplicationConfiguration", "s3:PutEncryptionConfiguration", "s3:PutBucketVersioning"]) {
            assert.ok(buckets.Action.includes(action), action);
        }
        assert.deepEqual((buckets.Resource as string[]).filter((r) => r.startsWith("arn:aws:s3:")), ["arn:aws:s3:::oauth2-backups-*", "arn:aws:s3:::oauth2-audit-*"]);
        assert.deepEqual(buckets.Condition.ArnNotLike["aws:PrincipalArn"], [...breakGlassRolesOfStacks(), "arn:aws:iam::*:role/oauth2-dr-organization-security"]);
    });

    it("only a break-glass role (or security) may stop the trail, disable or change the retention alarm's rules, or delete, re-policy or unsubscribe the stacks' alarm topics", () => {
        const alarm = sid("Oauth2DrBackupConfigurationOnlyByBreakGlass");
        for (const action of ["cloudtrail:StopLogging", "cloudtrail:DeleteTrail", "cloudtrail:PutEventSelectors", "events:DisableRule", "events:DeleteRule", "events:RemoveTargets", "sns:DeleteTopic", "sns:SetTopicAttributes", "sns:Unsubscribe", "sns:SetSubscriptionAttributes"]) {
            assert.ok(alarm.Action.includes(action), action);
        }
        // Each topic and its subscriptions (the ARN sns:Unsubscribe names: the topic's and ":<id>").
        assert.deepEqual((alarm.Resource as string[]).filter((r) => /^arn:aws:(cloudtrail|events|sns):/.test(r)), [
            "arn:aws:cloudtrail:*:*:trail/oauth2-dr-*",
            "arn:aws:events:*:*:rule/oauth2-dr-*",
            ...alarmTopicsOfStacks().flatMap((topic) => [topic, `${topic}:*`]),
        ]);
        // The red team's residual (h32): a production administrator unsubscribing the on-call's endpoint (the topic
        // stands and publishes to nobody) is refused, on the subscription's ARN and on the topic's; the break-glass
        // role may; another team's topic is not touched.
        const topic = "arn:aws:sns:us-east-1:123456789012:oauth2-dr-alarms";
        const admin = "arn:aws:iam::123456789012:role/admin";
        // The SCP over an account whose IAM allows everything (the production administrator's).
        const withAdmin = [...statements, { Effect: "Allow", Action: "*", Resource: "*" }] as Parameters<typeof evaluate>[0];
        // Nor silence it by a subscription filter policy no message matches (SetSubscriptionAttributes).
        for (const action of ["sns:Unsubscribe", "sns:SetSubscriptionAttributes"]) {
            for (const resource of [`${topic}:3f2b8c1e-0d4a-4e6b-9a7c-5b1d2e3f4a5b`, topic]) {
                assert.equal(evaluate(withAdmin, admin, action, {}, resource), "deny", `${action} ${resource}`);
                assert.equal(evaluate(withAdmin, "arn:aws:iam::123456789012:role/oauth2-dr-break-glass", action, {}, resource), "allow", `${action} ${resource}`);
            }
        }
        assert.equal(evaluate(withAdmin, admin, "sns:Unsubscribe", {}, "arn:aws:sns:us-east-1:123456789012:other-team:3f2b8c1e-0d4a-4e6b-9a7c-5b1d2e3f4a5b"), "allow");
        assert.deepEqual(alarmTopicsOfStacks(), ["arn:aws:sns:us-east-1:123456789012:oauth2-dr-alarms", "arn:aws:sns:us-west-2:123456789012:oauth2-dr-alarms"]);
        assert.throws(() => organizationScp({ breakGlassRoleArns: ["arn:aws:iam::123456789012:role/b"], securityPrincipalArns: ["arn:aws:iam::*:role/s"], alarmTopicArns: ["oauth2-dr-alarms"] }), /alarmTopicArns: "oauth2-dr-alarms" is not an SNS topic ARN/);
    });

    it("only a break-glass role (or security) may delete the audit log groups, lower their retention, or stop or re-point their archive", () => {
        const audit = sid("Oauth2DrBackupConfigurationOnlyByBreakGlass");
        for (const action of ["logs:DeleteLogGroup", "logs:PutRetentionPolicy", "logs:DeleteSubscriptionFilter", "firehose:DeleteDeliveryStream", "firehose:UpdateDestination"]) {
            assert.ok(audit.Action.includes(action), action);
        }
        assert.deepEqual((audit.Resource as string[]).filter((r) => /^arn:aws:(logs|firehose):/.test(r)), ["arn:aws:logs:*:*:log-group:/oauth2/*", "arn:aws:logs:*:*:log-group:/aws/rds/instance/oauth2-postgres*", "arn:aws:firehose:*:*:deliverystream/oauth2-audit-*"]);
        assert.deepEqual(audit.Condition.ArnNotLike["aws:PrincipalArn"], [...breakGlassRolesOfStacks(), "arn:aws:iam::*:role/oauth2-dr-organization-security"]);
    });

    it("only a break-glass role (or security) may remove or change an AWS Backup vault's lock during its grace time, its access policy, or the vault", () => {
        const vaults = sid("Oauth2DrBackupConfigurationOnlyByBreakGlass");
        for (const action of ["backup:DeleteBackupVaultLockConfiguration", "backup:PutBackupVaultLockConfiguration", "backup:PutBackupVaultAccessPolicy", "backup:DeleteBackupVaultAccessPolicy", "backup:DeleteBackupVault"]) {
            assert.ok(vaults.Action.includes(action), action);
        }
        assert.deepEqual((vaults.Resource as string[]).filter((r) => r.startsWith("arn:aws:backup:")), ["arn:aws:backup:*:*:backup-vault:oauth2-dr-*"]);
    });

    it("only a break-glass role (or security) may create or change the restore verification's roles, which the vault's key reader trusts by ARN (re-trusted, they would read every backup's private keys)", () => {
        const verification = sid("Oauth2DrBackupConfigurationOnlyByBreakGlass");
        for (const action of ["iam:CreateRole", "iam:UpdateAssumeRolePolicy", "iam:PutRolePolicy", "iam:AttachRolePolicy"]) {
            assert.ok(verification.Action.includes(action), action);
        }
        assert.deepEqual((verification.Resource as string[]).filter((r) => r.startsWith("arn:aws:iam:")), ["arn:aws:iam::*:role/oauth2-dr-verification-*"]);
        // Every action of the merged statement names resources of its own service only: no resource of another service is listed for it.
        const services = new Set(verification.Action.map((a) => a.split(":")[0]));
        const resourceServices = new Set((verification.Resource as string[]).map((r) => r.split(":")[2]));
        assert.deepEqual([...resourceServices].sort(), [...services].sort());
    });

    it("nobody but the security principal may create or change a role of the security principal's name, which every statement exempts (a member account's admin could otherwise create one)", () => {
        const security = sid("Oauth2DrSecurityRoleOnlyBySecurity");
        assert.equal(security.Effect, "Deny");
        assert.ok(security.Action.includes("iam:CreateRole") && security.Action.includes("iam:UpdateAssumeRolePolicy"));
        assert.deepEqual(security.Resource, ["arn:aws:iam::*:role/oauth2-dr-organization-security"]);
        assert.deepEqual(security.Condition.ArnNotLike["aws:PrincipalArn"], ["arn:aws:iam::*:role/oauth2-dr-organization-security"]);
    });

    it("fits the SCP quota of 5,120 characters as the runbook's command saves it (compacted with jq -c: the CLI keeps whitespace)", () => {
        const compact = JSON.stringify(JSON.parse(committed));
        assert.ok(Buffer.byteLength(compact) <= 5120, `${Buffer.byteLength(compact)} bytes`);
        assert.ok(Buffer.byteLength(committed) > Buffer.byteLength(compact), "the committed file is indented: applied with file:// it would count its whitespace");
    });

    it("refuses malformed ARNs and targets, naming them; prints the commands for a valid target", () => {
        assert.throws(() => organizationScp({ breakGlassRoleArns: ["oauth2-dr-break-glass"], securityPrincipalArns: ["arn:aws:iam::*:role/s"] }), /breakGlassRoleArns: "oauth2-dr-break-glass" is not an IAM role ARN/);
        assert.throws(() => organizationScp({ breakGlassRoleArns: ["arn:aws:iam::123456789012:role/b"], securityPrincipalArns: [] }), /securityPrincipalArns: no security principal/);
        assert.throws(() => checkScpTarget("ou-bad"), /"ou-bad" is not an organization root \(r-xxxx\), an OU/);
        assert.equal(checkScpTarget("ou-ab12-34cd56ef"), "ou-ab12-34cd56ef");
        assert.match(applyCommands("r-ab12"), /aws organizations create-policy --type SERVICE_CONTROL_POLICY --name oauth2-dr-guards[\s\S]*--content "\$\(jq -c \. docs\/organization-scp.json\)"[\s\S]*attach-policy --policy-id "\$POLICY_ID" --target-id r-ab12/);
    });

    it("check reports it as not declared (where to apply it), or declared when a program declares it", () => {
        const plan = (resources: PlanResult["resources"]) => ({ stack: "s", project: "p", resources } as unknown as PlanResult);
        const key = plannedResource("urn:pulumi:s::p::aws:kms/key:Key::k", "aws:kms/key:Key", "k", {});
        assert.match(organizationGuardOf(plan([key]))!, /^not declared: apply docs\/organization-scp.json in the organization's management account/);
        const scp = plannedResource("urn:pulumi:s::p::aws:organizations/policy:Policy::guards", "aws:organizations/policy:Policy", "guards", { type: "SERVICE_CONTROL_POLICY", content: committed });
        assert.equal(organizationGuardOf(plan([key, scp])), "declared (guards)");
        assert.equal(organizationGuardOf(plan([])), undefined, "no key: nothing to say");
        // With an RDS instance, an SCP without the automated-backup statements (generated before them) says so.
        const db = plannedResource("urn:pulumi:s::p::aws:rds/instance:Instance::db", "aws:rds/instance:Instance", "db", {});
        assert.equal(organizationGuardOf(plan([key, db, scp])), "declared (guards)");
        const older = JSON.stringify({ Statement: (JSON.parse(committed) as { Statement: Statement[] }).Statement.filter((s) => !s.Sid.startsWith("Oauth2DrRds")) });
        const old = plannedResource("urn:pulumi:s::p::aws:organizations/policy:Policy::guards", "aws:organizations/policy:Policy", "guards", { type: "SERVICE_CONTROL_POLICY", content: older });
        assert.equal(organizationGuardOf(plan([key, db, old])), "declared (guards), but it does not deny rds:DeleteDBInstanceAutomatedBackup, rds:StopDBInstanceAutomatedBackupsReplication: update it from docs/organization-scp.json");
        assert.equal(organizationGuardOf(plan([key, old])), "declared (guards)", "no RDS instance: the key statements are what matters");
        // An SCP of before h29: the account may leave the organization (voiding every statement), and with a bucket
        // or a retention alarm in the plan, re-policy the bucket or silence the alarm.
        const h27 = JSON.stringify({ Statement: (JSON.parse(committed) as { Statement: Statement[] }).Statement.filter((s) => !/StayInOrganization|BackupConfiguration/.test(s.Sid)) });
        const before = plannedResource("urn:pulumi:s::p::aws:organizations/policy:Policy::guards", "aws:organizations/policy:Policy", "guards", { type: "SERVICE_CONTROL_POLICY", content: h27 });
        assert.equal(organizationGuardOf(plan([key, before])), "declared (guards), but it does not deny organizations:LeaveOrganization: update it from docs/organization-scp.json");
        const bucket = plannedResource("urn:pulumi:s::p::aws:s3/bucket:Bucket::b", "aws:s3/bucket:Bucket", "b", {});
        const rule = plannedResource("urn:pulumi:s::p::aws:cloudwatch/eventRule:EventRule::r", "aws:cloudwatch/eventRule:EventRule", "r", {});
        assert.equal(organizationGuardOf(plan([key, bucket, rule, before])), "declared (guards), but it does not deny organizations:LeaveOrganization, s3:DeleteBucketPolicy, s3:PutBucketObjectLockConfiguration, s3:PutReplicationConfiguration, events:DisableRule, cloudtrail:StopLogging, sns:Unsubscribe, sns:SetSubscriptionAttributes: update it from docs/organization-scp.json");
        // One of before h32: the alarm topic's endpoints may be unsubscribed.
        const h29 = JSON.stringify({ Statement: (JSON.parse(committed) as { Statement: Statement[] }).Statement.map((st) => ({ ...st, Action: [st.Action].flat().filter((a) => a !== "sns:Unsubscribe" && a !== "sns:SetSubscriptionAttributes") })) });
        const beforeUnsubscribe = plannedResource("urn:pulumi:s::p::aws:organizations/policy:Policy::guards", "aws:organizations/policy:Policy", "guards", { type: "SERVICE_CONTROL_POLICY", content: h29 });
        assert.equal(organizationGuardOf(plan([key, bucket, rule, beforeUnsubscribe])), "declared (guards), but it does not deny sns:Unsubscribe, sns:SetSubscriptionAttributes: update it from docs/organization-scp.json");
        assert.equal(organizationGuardOf(plan([key, bucket, rule, scp])), "declared (guards)");
    });
});
