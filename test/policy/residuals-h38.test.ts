/**
 * The pack's residuals after h37 (h38): `backup-job-role-no-destruction` judges a job role's destructive grants
 * through the one reader of a role's permissions (role-permissions.ts roleAllowsOn: an explicit Deny wins, a
 * permissions boundary must allow the action too, the grant's Resource must cover the backup bucket or vault), and
 * `aws-backup-plan-retention` judges the selection role on the snapshot AWS Backup creates
 * (`snapshot:awsbackup:job-<id>`, `cluster-snapshot:awsbackup:job-<id>`) as well as on the database. Hand-built
 * resources in several styles: inline policies, RolePolicy, a customer managed Policy attached by
 * RolePolicyAttachment, NotAction/NotResource, wildcards, a boundary given as an Output.
 */
import { strict as assert } from "assert";
import type { StackValidationPolicy } from "@pulumi/policy";
import { ALL_POLICIES } from "../../policy/all";
import { arnPatternMatches, GENERATED_ID } from "../../policy/role-permissions";
import { HandBuilt, runStackPolicyWithReasons, UNKNOWN } from "./helpers";

const policyNamed = (name: string) => ALL_POLICIES.find((p) => p.name === name) as StackValidationPolicy;
const ROLE = "aws:iam/role:Role";
const POLICY = "aws:iam/policy:Policy";
const urnOf = (type: string, name: string) => `urn:pulumi:test::proj::${type}::${name}`;

describe("h38: backup-job-role-no-destruction reads a job role's grants as IAM decides (Deny, boundary, Resource)", () => {
    const noDestruction = policyNamed("backup-job-role-no-destruction");
    const irsa = JSON.stringify({ Statement: [{ Effect: "Allow", Principal: { Federated: "arn:aws:iam::111111111111:oidc-provider/x" }, Action: "sts:AssumeRoleWithWebIdentity" }] });
    const dumps: HandBuilt = { type: "aws:s3/bucketV2:BucketV2", name: "acme-db-dumps", props: { bucket: "acme-db-dumps", tags: { backup: "true", environment: "staging" } } };
    const scratch: HandBuilt = { type: "aws:s3/bucketV2:BucketV2", name: "acme-scratch", props: { bucket: "acme-scratch" } };
    const role = (props: Record<string, unknown> = {}, propertyDependencies?: Record<string, string[]>): HandBuilt => ({
        type: ROLE,
        name: "dump-writer",
        props: { name: "dump-writer", assumeRolePolicy: irsa, tags: { "oauth2-dr/component": "backup-jobs" }, ...props },
        ...(propertyDependencies ? { propertyDependencies } : {}),
    });
    const doc = (...statements: Array<Record<string, unknown>>) => JSON.stringify({ Version: "2012-10-17", Statement: statements });
    const upload = { Sid: "Upload", Effect: "Allow", Action: "s3:PutObject", Resource: "arn:aws:s3:::acme-db-dumps/*" };
    const prune = (fields: Record<string, unknown> = {}) => ({ Sid: "Prune", Effect: "Allow", Action: ["s3:ListBucketVersions", "s3:DeleteObjectVersion"], Resource: "arn:aws:s3:::acme-db-dumps/*", ...fields });
    const rolePolicy = (...statements: Array<Record<string, unknown>>): HandBuilt => ({ type: "aws:iam/rolePolicy:RolePolicy", name: "dump-writer-own", props: { role: "dump-writer", policy: doc(...statements) } });
    const managed = (name: string, ...statements: Array<Record<string, unknown>>): HandBuilt[] => [
        { type: POLICY, name, props: { name, arn: `arn:aws:iam::111111111111:policy/${name}`, policy: doc(...statements) } },
        { type: "aws:iam/rolePolicyAttachment:RolePolicyAttachment", name: `${name}-attach`, props: { role: "dump-writer", policyArn: UNKNOWN }, propertyDependencies: { policyArn: [urnOf(POLICY, name)], role: [urnOf(ROLE, "dump-writer")] } },
    ];
    const run = (resources: HandBuilt[]) => runStackPolicyWithReasons(noDestruction, [dumps, scratch, ...resources]);
    const messages = async (resources: HandBuilt[]) => (await run(resources)).violations.map((v) => v.message);

    it("an explicit Deny (inline, RolePolicy, an attached customer managed policy; Action globs, NotAction) removes the grant (was: a violation)", async () => {
        // The grant alone stands (a neighbour: the rule still finds it).
        const [alone] = await messages([role(), rolePolicy(upload, prune())]);
        assert.match(alone ?? "", /^dump-writer: backup job role \(tagged oauth2-dr\/component=backup-jobs\) may s3:DeleteObjectVersion \(RolePolicy dump-writer-own, statement Prune\); a backup job must not delete object versions/);
        const denials: Array<[string, HandBuilt[]]> = [
            ["Deny in the same RolePolicy", [role(), rolePolicy(upload, prune(), { Sid: "Never", Effect: "Deny", Action: "s3:DeleteObjectVersion", Resource: "*" })]],
            ["Deny s3:Delete* in an inline policy", [role({ inlinePolicies: [{ name: "guard", policy: doc({ Effect: "Deny", Action: "s3:Delete*", Resource: "arn:aws:s3:::acme-db-*/*" }) }] }), rolePolicy(upload, prune())]],
            ["Deny with NotAction in an attached customer managed policy", [role(), rolePolicy(upload, prune()), ...managed("guard", { Effect: "Deny", NotAction: ["s3:Get*", "s3:List*", "s3:PutObject"], Resource: "*" })]],
        ];
        for (const [what, resources] of denials) {
            assert.deepEqual(await run(resources), { violations: [], notApplicable: [] }, what);
        }
        // A Deny of another bucket's objects, or of another action, leaves the grant standing.
        for (const deny of [{ Effect: "Deny", Action: "s3:DeleteObjectVersion", Resource: "arn:aws:s3:::acme-scratch/*" }, { Effect: "Deny", Action: "s3:DeleteObject", Resource: "*" }]) {
            assert.equal((await messages([role(), rolePolicy(upload, prune(), deny)])).length, 1, JSON.stringify(deny));
        }
        // s3:Delete* granted on the bucket and its objects, s3:DeleteObjectVersion denied: what the glob still grants is named, not the denied action.
        const [glob] = await messages([role(), rolePolicy(upload, { Sid: "Tidy", Effect: "Allow", Action: "s3:Delete*", Resource: ["arn:aws:s3:::acme-db-dumps", "arn:aws:s3:::acme-db-dumps/*"] }, { Effect: "Deny", Action: "s3:DeleteObjectVersion", Resource: "*" })]);
        assert.match(glob ?? "", /may s3:DeleteBucket \(RolePolicy dump-writer-own, statement Tidy\); s3:DeleteBucketPolicy \(RolePolicy dump-writer-own, statement Tidy\); a backup job/);
        assert.doesNotMatch(glob ?? "", /DeleteObjectVersion/);
    });

    it("a permissions boundary (a Policy given as an Output, or by ARN) that does not allow the action removes the grant (was: a violation)", async () => {
        const boundary = (...statements: Array<Record<string, unknown>>): HandBuilt => ({ type: POLICY, name: "jobs-boundary", props: { name: "jobs-boundary", arn: UNKNOWN, policy: doc(...statements) } });
        const byOutput = role({ permissionsBoundary: UNKNOWN }, { permissionsBoundary: [urnOf(POLICY, "jobs-boundary")] });
        const writesOnly = boundary({ Effect: "Allow", Action: ["s3:PutObject", "s3:GetObject", "s3:List*"], Resource: "*" });
        assert.deepEqual(await run([byOutput, rolePolicy(upload, prune()), writesOnly]), { violations: [], notApplicable: [] });
        const denying = boundary({ Effect: "Allow", Action: "s3:*", Resource: "*" }, { Effect: "Deny", Action: "s3:DeleteObjectVersion", Resource: "*" });
        assert.deepEqual(await run([byOutput, rolePolicy(upload, prune()), denying]), { violations: [], notApplicable: [] });
        // A boundary that allows it: the grant stands.
        assert.equal((await messages([byOutput, rolePolicy(upload, prune()), boundary({ Effect: "Allow", Action: "s3:*", Resource: "*" })])).length, 1);
        // A boundary the plan does not show (a managed policy of another stack): not judged, named; no verdict.
        const { violations, notApplicable } = await run([role({ permissionsBoundary: "arn:aws:iam::111111111111:policy/platform-boundary" }), rolePolicy(upload, prune())]);
        assert.deepEqual(violations, []);
        assert.match(notApplicable[0] ?? "", /^not judged in this preview: dump-writer: s3:DeleteObjectVersion \(RolePolicy dump-writer-own, statement Prune\): on arn:aws:s3:::acme-db-dumps\/x: permissions boundary arn:aws:iam::111111111111:policy\/platform-boundary \(not declared in the stack\)/);
    });

    it("a grant whose Resource covers no backup bucket is none; wildcards, a prefix and NotResource that cover one are (was: any Resource a violation)", async () => {
        assert.deepEqual(await run([role(), rolePolicy(upload, prune({ Resource: "arn:aws:s3:::acme-scratch/*" }))]), { violations: [], notApplicable: [] });
        assert.deepEqual(await run([role(), rolePolicy(upload, prune({ Resource: undefined, NotResource: "arn:aws:s3:::acme-db-dumps/*" }))]), { violations: [], notApplicable: [] });
        // s3:PutLifecycleConfiguration is checked on the bucket's ARN: a grant on its objects only is none.
        assert.deepEqual(await run([role(), rolePolicy(upload, { Effect: "Allow", Action: "s3:PutLifecycleConfiguration", Resource: "arn:aws:s3:::acme-db-dumps/*" })]), { violations: [], notApplicable: [] });
        for (const fields of [
            { Resource: "arn:aws:s3:::acme-db-*/*" },
            { Resource: "arn:aws:s3:::acme-db-dumps/database/*" },
            { Resource: "*" },
            { Resource: undefined, NotResource: "arn:aws:s3:::acme-scratch/*" },
        ]) {
            const [message, ...rest] = await messages([role(), rolePolicy(upload, prune(fields))]);
            assert.deepEqual(rest, [], JSON.stringify(fields));
            assert.match(message ?? "", /may s3:DeleteObjectVersion \(RolePolicy dump-writer-own, statement Prune\)/, JSON.stringify(fields));
        }
        // A Deny of database/ only leaves the rest of the bucket's objects to the grant on all of them; a Deny of the whole bucket does not.
        assert.equal((await messages([role(), rolePolicy(upload, prune(), { Effect: "Deny", Action: "s3:DeleteObjectVersion", Resource: "arn:aws:s3:::acme-db-dumps/database/*" })])).length, 1);
        assert.equal((await messages([role(), rolePolicy(upload, prune({ Resource: "arn:aws:s3:::acme-db-dumps/database/*" }), { Effect: "Deny", Action: "s3:DeleteObjectVersion", Resource: "arn:aws:s3:::acme-db-dumps/*" })])).length, 0);
    });

    it("vault actions are judged on the stack's vaults: a grant on other vaults is none, one on every vault stands", async () => {
        const vault: HandBuilt = { type: "aws:backup/vault:Vault", name: "ledger", props: { name: "ledger-vault" } };
        const vaults = (resource: string) => [vault, role(), rolePolicy(upload, { Sid: "Vaults", Effect: "Allow", Action: "backup:DeleteBackupVault*", Resource: resource })];
        assert.deepEqual(await run(vaults("arn:aws:backup:*:*:backup-vault:scratch-*")), { violations: [], notApplicable: [] });
        const [all] = await messages(vaults("arn:aws:backup:*:*:backup-vault:*"));
        assert.match(all ?? "", /may backup:DeleteBackupVault \(RolePolicy dump-writer-own, statement Vaults\); backup:DeleteBackupVaultLockConfiguration \(RolePolicy dump-writer-own, statement Vaults\); backup:DeleteBackupVaultAccessPolicy/);
    });

    it("a Resource, an Action or a Condition the plan does not show: not judged, named, never a verdict (was: a violation, or nothing)", async () => {
        const cases: Array<[HandBuilt[], RegExp]> = [
            [[role(), rolePolicy(upload, prune({ Resource: `arn:aws:s3:::${UNKNOWN}/*` }))], /dump-writer: s3:DeleteObjectVersion \(RolePolicy dump-writer-own, statement Prune\): its Resource cannot be matched to arn:aws:s3:::acme-db-dumps\/x/],
            [[role(), rolePolicy(upload, { Sid: "Computed", Effect: "Allow", Action: ["s3:GetObject", `s3:${UNKNOWN}`], Resource: "arn:aws:s3:::acme-db-dumps/*" })], /dump-writer: RolePolicy dump-writer-own, statement Computed \(its Action is not known: it may grant a destructive action\)/],
            [[role(), rolePolicy(upload, prune({ Condition: { StringEquals: { "aws:PrincipalTag/team": "dba" } } }))], /dump-writer: s3:DeleteObjectVersion \(RolePolicy dump-writer-own, statement Prune\): on arn:aws:s3:::acme-db-dumps\/x: an Allow that may apply: RolePolicy dump-writer-own, statement Prune \(its Condition is not evaluated\)/],
            [[role(), rolePolicy(upload, prune(), { Sid: "MaybeNot", Effect: "Deny", Action: "s3:DeleteObjectVersion", Resource: "*", Condition: { Bool: { "aws:MultiFactorAuthPresent": "false" } } })], /a Deny that may apply: RolePolicy dump-writer-own, statement MaybeNot \(its Condition is not evaluated\)/],
        ];
        for (const [resources, what] of cases) {
            const { violations, notApplicable } = await run(resources);
            assert.deepEqual(violations, [], String(what));
            assert.equal(notApplicable.length, 1, String(what));
            assert.match(notApplicable[0], /^not judged in this preview: dump-writer: /);
            assert.match(notApplicable[0], what);
            assert.match(notApplicable[0], /whether these grants let a backup job destroy or shorten backups/);
        }
    });

    it("rds:DeleteDBInstance beyond the scratch instances: NotResource counts, a Deny of the rest removes it, a Resource not known is named", async () => {
        const verification = (...statements: Array<Record<string, unknown>>) => [role(), rolePolicy(upload, ...statements)];
        const [notResource] = await messages(verification({ Sid: "Scratch", Effect: "Allow", Action: "rds:DeleteDBInstance", NotResource: "arn:aws:rds:*:*:db:oauth2-backup-test-*" }));
        assert.match(notResource ?? "", /may rds:DeleteDBInstance on every resource but arn:aws:rds:\*:\*:db:oauth2-backup-test-\*, not only the verification's scratch instances \(RolePolicy dump-writer-own, statement Scratch\)/);
        const denied = verification({ Effect: "Allow", Action: "rds:DeleteDBInstance", Resource: "*" }, { Effect: "Deny", Action: "rds:DeleteDBInstance", NotResource: "arn:aws:rds:*:*:db:oauth2-backup-test-*" });
        assert.deepEqual(await run(denied), { violations: [], notApplicable: [] });
        const { violations, notApplicable } = await run(verification({ Sid: "Scratch", Effect: "Allow", Action: "rds:DeleteDBInstance", Resource: `arn:aws:rds:eu-west-1:111111111111:db:${UNKNOWN}` }));
        assert.deepEqual(violations, []);
        assert.match(notApplicable[0] ?? "", /dump-writer: rds:DeleteDBInstance \(RolePolicy dump-writer-own, statement Scratch\): its Resource is not known/);
        assert.ok(!notApplicable[0]?.includes(UNKNOWN), "the placeholder of an unknown value is never shown");
        // A grant of every action on the dumps bucket's objects is no grant of kms or rds actions (their resources are not S3 objects).
        const [s3Only] = await messages(verification({ Sid: "All", Effect: "Allow", Action: "*", Resource: "arn:aws:s3:::acme-db-dumps/*" }));
        assert.match(s3Only ?? "", /may s3:DeleteObjectVersion \(RolePolicy dump-writer-own, statement All\); s3:BypassGovernanceRetention \(RolePolicy dump-writer-own, statement All\); s3:PutObjectRetention with s3:PutObject/);
        assert.doesNotMatch(s3Only ?? "", /kms:|rds:|secretsmanager:|backup:/);
    });

    it("a backup writer user's own Deny removes its grant too (one reader for roles and users)", async () => {
        const user: HandBuilt = { type: "aws:iam/user:User", name: "pg-backup-cron", props: { name: "pg-backup-cron" } };
        const userPolicy = (...statements: Array<Record<string, unknown>>): HandBuilt => ({ type: "aws:iam/userPolicy:UserPolicy", name: "pg-backup-cron", props: { user: "pg-backup-cron", policy: doc(...statements) } });
        assert.equal((await messages([user, userPolicy(upload, prune())])).length, 1);
        assert.deepEqual(await run([user, userPolicy(upload, prune(), { Effect: "Deny", Action: "s3:DeleteObjectVersion", Resource: "*" })]), { violations: [], notApplicable: [] });
    });
});

describe("h38: the AWS Backup selection role must be allowed the snapshot action on the snapshot AWS Backup creates, not only on the database", () => {
    const planPolicy = policyNamed("aws-backup-plan-retention");
    const DB_ARN = "arn:aws:rds:eu-west-1:123456789012:db:orders";
    const CLUSTER_ARN = "arn:aws:rds:eu-west-1:123456789012:cluster:ledger";
    const instance = (arn: unknown = DB_ARN): HandBuilt => ({ type: "aws:rds/instance:Instance", name: "orders", props: { identifier: "orders", engine: "postgres", backupRetentionPeriod: 35, ...(arn === undefined ? {} : { arn }) } });
    const cluster: HandBuilt = { type: "aws:rds/cluster:Cluster", name: "ledger", props: { clusterIdentifier: "ledger", engine: "aurora-postgresql", backupRetentionPeriod: 35, arn: CLUSTER_ARN } };
    const plan: HandBuilt = { type: "aws:backup/plan:Plan", name: "db-plan", props: { rules: [{ ruleName: "daily", targetVaultName: "Default", lifecycle: { deleteAfter: 35 } }] } };
    const selection = (arn: string): HandBuilt => ({ type: "aws:backup/selection:Selection", name: "dbs", props: { planId: "p", resources: [arn], iamRoleArn: UNKNOWN }, propertyDependencies: { iamRoleArn: [urnOf(ROLE, "db-backup")] } });
    const role = (props: Record<string, unknown> = {}): HandBuilt => ({ type: ROLE, name: "db-backup", props: { name: "db-backup", assumeRolePolicy: "{}", ...props } });
    const doc = (...statements: Array<Record<string, unknown>>) => JSON.stringify({ Statement: statements });
    const grant = (action: string, resource: unknown, fields: Record<string, unknown> = {}) => ({ Sid: "Snapshots", Effect: "Allow", Action: [action, "rds:AddTagsToResource"], Resource: resource, ...fields });
    const rolePolicy = (...statements: Array<Record<string, unknown>>): HandBuilt => ({ type: "aws:iam/rolePolicy:RolePolicy", name: "db-backup-own", props: { role: "db-backup", policy: doc(...statements) } });
    const runOn = (db: HandBuilt, resources: HandBuilt[]) => runStackPolicyWithReasons(planPolicy, [db, plan, selection(db === cluster ? CLUSTER_ARN : DB_ARN), ...resources]);
    const passes = { violations: [], notApplicable: [] };

    it("a grant on the database's ARN only: AWS Backup cannot create its snapshot, named with the role, the action and the snapshot's ARN (was: compliant)", async () => {
        const [onDb] = (await runOn(instance(), [role(), rolePolicy(grant("rds:CreateDBSnapshot", DB_ARN))])).violations;
        assert.match(onDb?.message ?? "", /^db-plan: rule "daily" runs as db-backup \(iamRoleArn of Selection dbs\), whose policies \(RolePolicy db-backup-own\) do not allow rds:CreateDBSnapshot on the snapshot AWS Backup creates \(arn:aws:rds:eu-west-1:123456789012:snapshot:awsbackup:job-\*\): they allow it only on other resources \(RolePolicy db-backup-own, statement Snapshots: arn:aws:rds:eu-west-1:123456789012:db:orders\), which AWS Backup calls as that role to back up orders: AWS Backup fails every job of the rule/);
        // Aurora: the cluster snapshot, through a customer managed policy attached by RolePolicyAttachment.
        const attached: HandBuilt[] = [
            { type: POLICY, name: "aurora-backup", props: { name: "aurora-backup", policy: doc(grant("rds:CreateDBClusterSnapshot", "arn:aws:rds:*:*:cluster:*")) } },
            { type: "aws:iam/rolePolicyAttachment:RolePolicyAttachment", name: "aurora-backup", props: { role: "db-backup", policyArn: UNKNOWN }, propertyDependencies: { policyArn: [urnOf(POLICY, "aurora-backup")] } },
        ];
        const [onCluster] = (await runOn(cluster, [role(), ...attached])).violations;
        assert.match(onCluster?.message ?? "", /runs as db-backup \(iamRoleArn of Selection dbs\), whose policies \(Policy aurora-backup \(attached by aurora-backup\)\) do not allow rds:CreateDBClusterSnapshot on the snapshot AWS Backup creates \(arn:aws:rds:eu-west-1:123456789012:cluster-snapshot:awsbackup:job-\*\)/);
    });

    it("grants that cover the job's snapshot pass: its ARN with the job id as `*`, `snapshot:*`, every RDS resource, NotResource; a Deny of it fails, naming it", async () => {
        for (const resource of [
            [DB_ARN, "arn:aws:rds:eu-west-1:123456789012:snapshot:awsbackup:job-*"],
            [DB_ARN, "arn:aws:rds:*:*:snapshot:*"],
            ["arn:aws:rds:eu-west-1:123456789012:*"],
            "*",
        ]) {
            assert.deepEqual(await runOn(instance(), [role(), rolePolicy(grant("rds:CreateDBSnapshot", resource))]), passes, JSON.stringify(resource));
        }
        assert.deepEqual(await runOn(instance(), [role(), rolePolicy(grant("rds:CreateDBSnapshot", undefined, { Resource: undefined, NotResource: "arn:aws:rds:*:*:snapshot:manual-*" }))]), passes);
        const [denied] = (await runOn(instance(), [role(), rolePolicy(grant("rds:CreateDBSnapshot", "*"), { Sid: "NoBackupSnapshots", Effect: "Deny", Action: "rds:Create*", Resource: "arn:aws:rds:*:*:snapshot:awsbackup:*" })])).violations;
        assert.match(denied?.message ?? "", /whose policies deny rds:CreateDBSnapshot \(RolePolicy db-backup-own, statement NoBackupSnapshots\) on the snapshot AWS Backup creates \(arn:aws:rds:eu-west-1:123456789012:snapshot:awsbackup:job-\*\), which AWS Backup calls/);
        // AWSBackupServiceRolePolicyForBackup grants it on every resource.
        assert.deepEqual(await runOn(instance(), [role({ managedPolicyArns: ["arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup"] })]), passes);
    });

    it("a grant naming some job ids only, or a database ARN not known with a grant by region: not judged, named", async () => {
        const some = await runOn(instance(), [role(), rolePolicy(grant("rds:CreateDBSnapshot", [DB_ARN, "arn:aws:rds:eu-west-1:123456789012:snapshot:awsbackup:job-0*"]))]);
        assert.deepEqual(some.violations, []);
        assert.match(some.notApplicable[0] ?? "", /db-plan db-backup \(iamRoleArn of Selection dbs\): on the snapshot AWS Backup creates \(arn:aws:rds:eu-west-1:123456789012:snapshot:awsbackup:job-\*\): an Allow that may apply: RolePolicy db-backup-own, statement Snapshots \(its Resource cannot be matched to the resource's ARN here\)/);
        // The database's ARN unknown (a first preview): a grant on every RDS instance covers the database; whether a pattern
        // read as one text reaches the snapshot of an ARN not known is left open, as the reader leaves any such pattern.
        const preview = await runOn(instance(UNKNOWN), [role(), rolePolicy(grant("rds:CreateDBSnapshot", "arn:*:rds:*:*:db:*"))]);
        assert.deepEqual(preview.violations, []);
        assert.match(preview.notApplicable[0] ?? "", /db-plan db-backup \(iamRoleArn of Selection dbs\): on the snapshot AWS Backup creates \(arn:…:rds:…:…:snapshot:awsbackup:job-\*\): an Allow that may apply: RolePolicy db-backup-own, statement Snapshots \(its Resource cannot be matched/);
        assert.deepEqual(await runOn(instance(UNKNOWN), [role(), rolePolicy(grant("rds:CreateDBSnapshot", ["arn:*:rds:*:*:db:*", "arn:*:rds:*:*:snapshot:awsbackup:job-*"]))]), passes);
    });

    it("arnPatternMatches: a generated id is covered only when every id is", () => {
        const target = { arn: `arn:aws:rds:eu-west-1:123456789012:snapshot:awsbackup:job-${GENERATED_ID}`, service: "rds" };
        assert.equal(arnPatternMatches("arn:aws:rds:eu-west-1:123456789012:snapshot:awsbackup:job-*", target), true);
        assert.equal(arnPatternMatches("arn:aws:rds:*:*:snapshot:awsbackup:job-????????-????-????-????-????????????", target), true);
        assert.equal(arnPatternMatches("arn:aws:rds:*:*:snapshot:awsbackup:job-0*", target), "unknown");
        assert.equal(arnPatternMatches("arn:aws:rds:*:*:snapshot:manual-*", target), false);
        assert.equal(arnPatternMatches("arn:aws:rds:*:*:db:*", target), false);
    });
});
