/**
 * The pack's residuals left by the h35 trial (h36): a role's permissions read by one reader for every policy, an
 * AWS Backup selection role judged by what AWS Backup needs, and production tags spelled other ways (the fourth,
 * CronJob schedules Kubernetes refuses, is in schedule.test.ts and kubernetes.test.ts). Each as hand-built
 * resources: the case that was wrong, and its neighbours.
 */
import { strict as assert } from "assert";
import type { StackValidationPolicy } from "@pulumi/policy";
import { ALL_POLICIES } from "../../policy/all";
import { rdsMultiAz } from "../../policy/rds";
import { settingsPolicy } from "../../policy/settings";
import { retentionTableCoverage } from "../../policy/stack";
import { runResourcePolicy, runStackPolicy, runStackPolicyWithReasons, UNKNOWN } from "./helpers";

const policy = (name: string) => ALL_POLICIES.find((p) => p.name === name) as StackValidationPolicy;
const ROLE = "aws:iam/role:Role";
const doc = (actions: string[]) => JSON.stringify({ Statement: [{ Sid: "Backup", Effect: "Allow", Action: actions, Resource: "*" }] });

describe("h36: an AWS Backup selection role is judged by what AWS Backup needs to snapshot the database", () => {
    const planPolicy = policy("aws-backup-plan-retention");
    const instance = { type: "aws:rds/instance:Instance", name: "orders", props: { identifier: "orders", engine: "postgres", backupRetentionPeriod: 35 } };
    const cluster = { type: "aws:rds/cluster:Cluster", name: "ledger", props: { clusterIdentifier: "ledger", engine: "aurora-postgresql", backupRetentionPeriod: 35 } };
    const plan = { type: "aws:backup/plan:Plan", name: "orders-plan", props: { rules: [{ ruleName: "daily", targetVaultName: "Default", lifecycle: { deleteAfter: 35 } }] } };
    const role = (props: Record<string, unknown> = {}) => ({ type: ROLE, name: "orders-backup", props: { name: "orders-backup", assumeRolePolicy: "{}", ...props } });
    const selection = (resources = ["arn:aws:rds:eu-west-1:1:db:orders"]) => ({
        type: "aws:backup/selection:Selection",
        name: "orders",
        props: { planId: "p", resources, iamRoleArn: UNKNOWN },
        propertyDependencies: { iamRoleArn: [`urn:pulumi:test::proj::${ROLE}::orders-backup`] },
    });
    const rolePolicy = (policyDocument: unknown, roleInput: unknown = "orders-backup") => ({ type: "aws:iam/rolePolicy:RolePolicy", name: "orders-backup-own", props: { role: roleInput, policy: policyDocument } });
    const attach = (policyArn: unknown) => ({ type: "aws:iam/rolePolicyAttachment:RolePolicyAttachment", name: "orders-backup-attach", props: { role: "orders-backup", policyArn } });
    const managed = (name: string) => `arn:aws:iam::aws:policy/service-role/${name}`;
    const run = (resources: Parameters<typeof runStackPolicy>[1]) => runStackPolicyWithReasons(planPolicy, [instance, plan, selection(), ...resources]);
    const messages = async (resources: Parameters<typeof runStackPolicy>[1]) => (await run(resources)).violations.map((v) => v.message);

    it("a role whose policies lack rds:CreateDBSnapshot is named with them (was: evidence for the row)", async () => {
        const [getOnly] = await messages([role(), rolePolicy(doc(["s3:GetObject"]))]);
        assert.match(getOnly ?? "", /^orders-plan: rule "daily" runs as orders-backup \(iamRoleArn of Selection orders\), whose policies \(RolePolicy orders-backup-own\) do not allow rds:CreateDBSnapshot, which AWS Backup calls as that role to back up orders: AWS Backup fails every job of the rule, so it makes no recovery point for /);
        const [restores] = await messages([role(), attach(managed("AWSBackupServiceRolePolicyForRestores"))]);
        assert.match(restores ?? "", /whose policies \(AWS managed policy AWSBackupServiceRolePolicyForRestores\) do not allow rds:CreateDBSnapshot/);
        const [readOnly] = await messages([role({ managedPolicyArns: ["arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"] })]);
        assert.match(readOnly ?? "", /whose policies \(AWS managed policy AmazonS3ReadOnlyAccess\) do not allow rds:CreateDBSnapshot/);
        // `inlinePolicies: [{}]` is the provider's idiom for "no inline policy": nothing granted (was: taken as a permission).
        assert.equal((await messages([role({ inlinePolicies: [{}] })])).length, 1);
        const [row] = await runStackPolicy(retentionTableCoverage, [instance, plan, selection(), role(), rolePolicy(doc(["s3:GetObject"]))]);
        assert.match(row?.message ?? "", /found none \(orders-plan rule "daily": its jobs fail\)/);
    });

    it("the action, an AWS managed policy that grants it, or a custom Policy of the stack attached: no such verdict", async () => {
        for (const granted of [
            [role(), rolePolicy(doc(["rds:CreateDBSnapshot"]))],
            [role(), rolePolicy(doc(["rds:*"]))],
            [role(), rolePolicy(JSON.stringify({ Statement: [{ Effect: "Allow", NotAction: ["iam:*"], Resource: "*" }] }))],
            [role(), attach(managed("AWSBackupServiceRolePolicyForBackup"))],
            [role({ managedPolicyArns: ["arn:aws:iam::aws:policy/job-function/DatabaseAdministrator"] })],
            [role(), { type: "aws:iam/policy:Policy", name: "snapshots", props: { name: "snapshots", arn: "arn:aws:iam::123456789012:policy/snapshots", policy: doc(["rds:CreateDBSnapshot"]) } }, attach("arn:aws:iam::123456789012:policy/snapshots")],
        ]) {
            assert.deepEqual(await run(granted), { violations: [], notApplicable: [] }, JSON.stringify(granted.map((r) => r.props)));
        }
    });

    it("a cluster needs rds:CreateDBClusterSnapshot: a role with only the instance action is named for it", async () => {
        const resources = [cluster, plan, selection(["arn:aws:rds:eu-west-1:1:cluster:ledger"]), role(), rolePolicy(doc(["rds:CreateDBSnapshot"]))];
        const [message] = (await runStackPolicy(planPolicy, resources)).map((v) => v.message);
        assert.match(message ?? "", /do not allow rds:CreateDBClusterSnapshot, which AWS Backup calls as that role to back up ledger: AWS Backup fails every job of the rule/);
    });

    it("a plan backing up an instance and a cluster whose role allows only the instance's action names the cluster; the rule stays evidence", async () => {
        const resources = [instance, cluster, plan, selection(["arn:aws:rds:eu-west-1:1:db:orders", "arn:aws:rds:eu-west-1:1:cluster:ledger"]), role(), rolePolicy(doc(["rds:CreateDBSnapshot"]))];
        const violations = (await runStackPolicy(planPolicy, resources)).map((v) => v.message);
        assert.equal(violations.length, 1);
        assert.match(violations[0], /^orders-plan: selects ledger \(Aurora PostgreSQL cluster\) but runs as orders-backup \(iamRoleArn of Selection orders\), whose policies \(RolePolicy orders-backup-own\) do not allow rds:CreateDBClusterSnapshot, which AWS Backup calls as that role to back up ledger: AWS Backup fails every job for it/);
        assert.doesNotMatch(violations[0], /every job of the rule/);
    });

    it("a permission the plan does not show (a document or a policy ARN not known, a customer managed policy of another stack) is listed as not judged, never a verdict", async () => {
        for (const [resources, what] of [
            [[role(), rolePolicy(UNKNOWN)], /orders-backup \(iamRoleArn of Selection orders\): RolePolicy orders-backup-own \(its document\)/],
            [[role(), attach(UNKNOWN)], /policyArn of orders-backup-attach/],
            [[role({ managedPolicyArns: ["arn:aws:iam::123456789012:policy/platform-backup"] })], /managed policy arn:aws:iam::123456789012:policy\/platform-backup \(not declared in the stack\)/],
            [[role({ managedPolicyArns: UNKNOWN })], /managedPolicyArns of orders-backup/],
            [[role(), rolePolicy(doc(["rds:CreateDBSnapshot"]), UNKNOWN)], /orders-backup-own \(RolePolicy: its role is not known\)/],
            [[role(), { type: "aws:iam/rolePoliciesExclusive:RolePoliciesExclusive", name: "only", props: { roleName: "orders-backup", policyNames: ["console-made"] } }], /inline policy console-made kept by RolePoliciesExclusive only/],
        ] as const) {
            const result = await run([...resources]);
            assert.deepEqual(result.violations, [], String(what));
            assert.equal(result.notApplicable.length, 1, String(what));
            assert.match(result.notApplicable[0], /^not judged in this preview: orders-plan orders-backup/);
            assert.match(result.notApplicable[0], what);
            assert.match(result.notApplicable[0], /whether the selection's role lets AWS Backup snapshot the database/);
        }
        // A known grant decides, whatever else is unknown.
        assert.deepEqual(await run([role({ managedPolicyArns: UNKNOWN }), attach(managed("AWSBackupServiceRolePolicyForBackup"))]), { violations: [], notApplicable: [] });
    });
});

describe("h36: one reader of a role's permissions (role-permissions.ts) for the job-role policies and the AWS Backup role", () => {
    const irsa = JSON.stringify({ Statement: [{ Effect: "Allow", Principal: { Federated: "arn:aws:iam::1:oidc-provider/x" }, Action: "sts:AssumeRoleWithWebIdentity" }] });
    const bucket = { type: "aws:s3/bucket:Bucket", name: "acme-db-dumps", props: { bucket: "acme-db-dumps", tags: { backup: "true" } } };
    const destructive = { type: "aws:iam/policy:Policy", name: "dumps", props: { name: "dumps", arn: "arn:aws:iam::123456789012:policy/dumps", policy: JSON.stringify({ Statement: [{ Sid: "Dumps", Effect: "Allow", Action: ["s3:PutObject", "s3:DeleteObjectVersion"], Resource: "arn:aws:s3:::acme-db-dumps/*" }] }) } };

    it("a job role's managedPolicyArns naming a Policy of the stack is read as that policy's document (was: an ARN, its s3:DeleteObjectVersion unseen)", async () => {
        const writer = { type: ROLE, name: "dump-writer", props: { name: "dump-writer", assumeRolePolicy: irsa, managedPolicyArns: ["arn:aws:iam::123456789012:policy/dumps"] } };
        const [message, ...rest] = (await runStackPolicy(policy("backup-job-role-no-destruction"), [bucket, destructive, writer])).map((v) => v.message);
        assert.deepEqual(rest, []);
        assert.match(message ?? "", /^dump-writer: backup job role \(its policies reach a backup bucket\) may s3:DeleteObjectVersion \(Policy dumps \(attached by dump-writer\), statement Dumps\)/);
    });
});

describe("h36: production tags in the spellings teams use", () => {
    const instance = (tags: Record<string, string>, name = "orders") => ({ type: "aws:rds/instance:Instance", name, props: { identifier: name, engine: "postgres", multiAz: false, tags } });
    const notes = async (resources: Parameters<typeof runStackPolicy>[1], config?: Record<string, unknown>, stackTags?: Record<string, string>) =>
        (await runStackPolicy(settingsPolicy as unknown as StackValidationPolicy, resources, { config: config ? { "oauth2-dr-settings": config } : undefined, stackTags })).map((v) => v.message);

    it("the configured tag matches without case: Environment: Production is production (was: judged as not production)", async () => {
        for (const tags of [{ Environment: "Production" }, { ENVIRONMENT: "production" }, { environment: "PRODUCTION" }] as Array<Record<string, string>>) {
            const [multiAz] = await runResourcePolicy(rdsMultiAz, instance(tags));
            assert.match(multiAz ?? "", /orders/, JSON.stringify(tags));
            assert.deepEqual(await notes([instance(tags)]), [], "the configured tag: no look-alike note");
        }
        assert.deepEqual(await runResourcePolicy(rdsMultiAz, instance({ environment: "staging" })), []);
    });

    it("a production-looking tag that is not the configured one (env: prod, stage: live) is named with its resources in an advisory note, never silently", async () => {
        assert.deepEqual(await runResourcePolicy(rdsMultiAz, instance({ env: "prod" })), [], "not the configured tag: not production");
        const [note, ...rest] = await notes([instance({ env: "prod" }), instance({ env: "prod" }, "billing"), instance({ stage: "Live" }, "ledger")]);
        assert.equal(note, 'tag env=prod looks like a production tag but is not productionTag (environment=production): orders (aws:rds/instance:Instance), billing (aws:rds/instance:Instance) are judged as not production; if env=prod marks production, set "productionTag": {"key":"env","value":"prod"} in oauth2-dr-settings, or tag environment=production');
        assert.deepEqual(rest.map((m) => m.slice(0, 40)), ["tag stage=Live looks like a production t"]);
        const [stack] = await notes([], undefined, { Env: "PRD" });
        assert.match(stack ?? "", /^tag Env=PRD looks like a production tag .*: the stack \(stack tag\) is judged as not production/);
    });

    it("the team's own productionTag, production: never, or the configured tag beside a look-alike: judged as set, no note", async () => {
        const own = { productionTag: { key: "env", value: "prod" } };
        assert.deepEqual(await notes([instance({ env: "prod" })], own), []);
        assert.equal((await runResourcePolicy(rdsMultiAz, instance({ env: "prod" }), { config: { "oauth2-dr-settings": own } })).length, 1);
        assert.deepEqual(await notes([instance({ env: "prod" })], { production: "never" }), []);
        assert.deepEqual(await notes([instance({ env: "prod", environment: "production" })]), []);
        assert.deepEqual(await notes([instance({ env: "staging", tier: "GeneralPurpose" })]), []);
    });
});
