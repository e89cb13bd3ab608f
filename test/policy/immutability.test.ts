/**
 * The immutability policies (issue 23, item 5) on our stacks and on hand-built foreign resources: the
 * compliant vault, prod and dr plans pass; each mutant (one change at a time, in memory) is caught by the
 * policy that owns it, with a message naming the resource and what is missing; unknowns (a first preview)
 * never produce a verdict.
 */
import { strict as assert } from "assert";
import { checkPlan, StackCheck } from "../../tools/check/core";
import { PlannedResource, PlanResult } from "offline-plan/model";
import { find, plannedResource, planRepo, remove } from "../support/plans";
import { immutabilityPolicies } from "../../policy/immutability";
import { ALL_POLICIES } from "../../policy/all";
import type { StackValidationPolicy } from "@pulumi/policy";
import { runStackPolicy, runStackPolicyWithReasons, UNKNOWN } from "./helpers";

const NAMES = immutabilityPolicies.map((p) => p.name);
const BREAK_GLASS = "arn:aws:iam::123456789012:role/oauth2-dr-break-glass";

type Mutate = (plan: PlanResult) => void;
interface Mutant {
    name: string;
    stack: "vault" | "prod" | "dr";
    policy: string;
    /** Every fragment must appear in one violation of the policy. */
    says: string[];
    mutate: Mutate;
}

const T = {
    lock: "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",
    plan: "aws:backup/plan:Plan",
    replication: "aws:s3/bucketReplicationConfig:BucketReplicationConfig",
    role: "aws:iam/role:Role",
    rolePolicy: "aws:iam/rolePolicy:RolePolicy",
    secretPolicy: "aws:secretsmanager/secretPolicy:SecretPolicy",
    key: "aws:kms/key:Key",
    firehose: "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream",
    vaultLock: "aws:backup/vaultLockConfiguration:VaultLockConfiguration",
};

type Doc = { Statement: any[] };
const edit = (r: PlannedResource, property: string, change: (doc: Doc) => void) => {
    const doc = JSON.parse(String(r.inputs[property])) as Doc;
    change(doc);
    r.inputs[property] = JSON.stringify(doc);
};
const lockRule = (plan: PlanResult, bucket: string) => find(plan, T.lock, (r) => r.inputs.bucket === bucket).inputs.rule as { defaultRetention: Record<string, unknown> };
const dailyRule = (plan: PlanResult) => (find(plan, T.plan).inputs.rules as any[]).find((r) => r.ruleName === "daily");
const prodReplicationRules = (plan: PlanResult) => find(plan, T.replication, (r) => r.inputs.bucket === "oauth2-backups-prod").inputs.rules as any[];
const jobRole = (job: string) => (r: PlannedResource) => r.type === T.role && (r.inputs.tags as Record<string, string>)?.["oauth2-dr/job"] === job;
const jobPolicy = (plan: PlanResult, job: string) => find(plan, T.rolePolicy, (r) => r.name === `${find(plan, T.role, jobRole(job)).name}-policy`);
const bucketPolicy = (plan: PlanResult, bucket: string) => find(plan, "aws:s3/bucketPolicy:BucketPolicy", (r) => r.name === `${bucket}-policy`);
const guardOf = (plan: PlanResult, secret: string) => find(plan, T.secretPolicy, (r) => r.name === `${secret}-guard`);

const MUTANTS: Mutant[] = [
    { name: "Object Lock configuration removed", stack: "prod", policy: "s3-backup-object-lock", says: ["oauth2-backups-prod", "no Object Lock"], mutate: (p) => remove(p, T.lock) },
    { name: "default retention 7 days", stack: "prod", policy: "s3-backup-object-lock", says: ["oauth2-backups-prod", "7 days", "below the retention table's minimum of 30 days"], mutate: (p) => void (lockRule(p, "oauth2-backups-prod").defaultRetention.days = 7) },
    { name: "GOVERNANCE in production", stack: "dr", policy: "s3-backup-object-lock", says: ["oauth2-backups-dr", "GOVERNANCE", "COMPLIANCE"], mutate: (p) => void (lockRule(p, "oauth2-backups-dr").defaultRetention.mode = "GOVERNANCE") },
    { name: "lock without default retention", stack: "vault", policy: "s3-backup-object-lock", says: ["oauth2-backups-vault", "no default retention"], mutate: (p) => void delete find(p, T.lock, (r) => r.inputs.bucket === "oauth2-backups-vault").inputs.rule },
    { name: "a lifecycle rule expiring clients/ noncurrent versions before the lock", stack: "prod", policy: "s3-backup-object-lock", says: ["oauth2-backups-prod", "clients-retention", "after 10 days, before the Object Lock's 30 days"], mutate: (p) => {
        const lifecycle = find(p, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", (r) => r.inputs.bucket === "oauth2-backups-prod");
        (lifecycle.inputs.rules as Array<{ id: string; noncurrentVersionExpiration: Record<string, number> }>).find((r) => r.id === "clients-retention")!.noncurrentVersionExpiration = { noncurrentDays: 10 };
    } },
    { name: "the audit archive back in the backup bucket (Firehose takes its 30-day default)", stack: "prod", policy: "s3-backup-object-lock", says: ["audit-archive-stream", "s3://oauth2-backups-prod/audit/", "default retention of 30 days", "1 year (365 days) for Audit logs"], mutate: (p) => {
        const stream = find(p, T.firehose);
        (stream.inputs.extendedS3Configuration as Record<string, unknown>).bucketArn = "arn:aws:s3:::oauth2-backups-prod";
        stream.propertyDependencies.extendedS3Configuration = [find(p, "aws:s3/bucket:Bucket", (r) => r.inputs.bucket === "oauth2-backups-prod").urn];
    } },
    { name: "the audit archive bucket's default retention lowered to 30 days", stack: "dr", policy: "s3-backup-object-lock", says: ["audit-archive-stream", "s3://oauth2-audit-dr/audit/", "default retention of 30 days"], mutate: (p) => void (lockRule(p, "oauth2-audit-dr").defaultRetention.days = 30) },
    { name: "no copy into the vault account's vault", stack: "prod", policy: "backup-copy-outside-account", says: ["oauth2-postgres", "no copy outside the production account"], mutate: (p) => void (dailyRule(p).copyActions = dailyRule(p).copyActions.slice(0, 1)) },
    { name: "the vault copy in the production account", stack: "prod", policy: "backup-copy-outside-account", says: ["oauth2-postgres", "stays in 123456789012"], mutate: (p) => void (dailyRule(p).copyActions[1].destinationVaultArn = "arn:aws:backup:us-east-1:123456789012:backup-vault:oauth2-dr-isolated") },
    { name: "no replication rule into the vault", stack: "dr", policy: "backup-copy-outside-account", says: ["oauth2-backups-prod", "Database (PostgreSQL) (database/), Secrets/Keys (secrets/)"], mutate: (p) => void prodReplicationRules(p).splice(1, 1) },
    { name: "vault replicas left owned by prod", stack: "dr", policy: "backup-copy-outside-account", says: ["oauth2-backups-prod", "owned by the source account"], mutate: (p) => void delete prodReplicationRules(p)[1].destination.accessControlTranslation },
    { name: "the AWS Backup vault's lock in governance mode", stack: "prod", policy: "aws-backup-plan-retention", says: ["aws-backup-plan", "backup vault oauth2-dr-vault", "governance mode", "no changeableForDays"], mutate: (p) => void delete find(p, T.vaultLock, (r) => r.inputs.backupVaultName === "oauth2-dr-vault").inputs.changeableForDays },
    { name: "the AWS Backup vault's lock keeps 7 days", stack: "prod", policy: "aws-backup-plan-retention", says: ["backup vault oauth2-dr-vault", "minRetentionDays is 7 days"], mutate: (p) => void (find(p, T.vaultLock, (r) => r.inputs.backupVaultName === "oauth2-dr-vault").inputs.minRetentionDays = 7) },
    { name: "the AWS Backup vault without a lock", stack: "prod", policy: "aws-backup-plan-retention", says: ["backup vault oauth2-dr-vault, which has no Vault Lock"], mutate: (p) => remove(p, T.vaultLock, (r) => r.inputs.backupVaultName === "oauth2-dr-vault") },
    { name: "the vault bucket lets the production account replicate deletes", stack: "vault", policy: "backup-copy-outside-account", says: ["oauth2-backups-vault: the bucket policy (BucketPolicy oauth2-backups-vault-policy, statement ReplicasFromProductionReplicationRoles) allows arn:aws:iam::123456789012:root s3:ReplicateDelete"], mutate: (p) => edit(find(p, "aws:s3/bucketPolicy:BucketPolicy", (r) => r.name === "oauth2-backups-vault-policy"), "policy", (d) => void d.Statement.find((st: { Sid: string }) => st.Sid === "ReplicasFromProductionReplicationRoles").Action.push("s3:ReplicateDelete")) },
    { name: "the vault bucket trusts the production account with s3:*", stack: "vault", policy: "backup-copy-outside-account", says: ["allows arn:aws:iam::123456789012:root s3:DeleteObjectVersion, s3:DeleteObject, s3:BypassGovernanceRetention, s3:PutObjectRetention"], mutate: (p) => edit(find(p, "aws:s3/bucketPolicy:BucketPolicy", (r) => r.name === "oauth2-backups-vault-policy"), "policy", (d) => void (d.Statement.find((st: { Sid: string }) => st.Sid === "ReplicasFromProductionReplicationRoles").Action = "s3:*")) },
    { name: "production's delete markers replicated into the vault", stack: "dr", policy: "backup-copy-outside-account", says: ["oauth2-backups-prod", "replicates delete markers (deleteMarkerReplication Enabled) into account 210987654321"], mutate: (p) => void (prodReplicationRules(p)[1].deleteMarkerReplication = { status: "Enabled" }) },
    { name: "the vault rule without a filter (a V1 rule)", stack: "dr", policy: "backup-copy-outside-account", says: ["oauth2-backups-prod", "has no filter, so S3 reads it as a V1 rule"], mutate: (p) => void delete prodReplicationRules(p)[1].filter },
    { name: "only database/ replicated into the vault", stack: "dr", policy: "backup-copy-outside-account", says: ["oauth2-backups-prod", "Secrets/Keys (secrets/)"], mutate: (p) => void (prodReplicationRules(p)[1].filter = { prefix: "database/" }) },
    // h27 trial: a per-object lock in an upload overrides the bucket default; the bucket's policy is the floor.
    { name: "the backups bucket accepts a per-object GOVERNANCE lock", stack: "prod", policy: "s3-backup-object-lock", says: ["oauth2-backups-prod", "does not deny s3:PutObject with a per-object Object Lock mode other than COMPLIANCE"], mutate: (p) => edit(bucketPolicy(p, "oauth2-backups-prod"), "policy", (d) => void (d.Statement = d.Statement.filter((st: { Sid: string }) => st.Sid !== "DenyObjectLockModeOtherThanCompliance"))) },
    { name: "the database/ floor removed", stack: "dr", policy: "s3-backup-object-lock", says: ["oauth2-backups-dr", "has no floor there for prefix database/", "below 30 days"], mutate: (p) => edit(bucketPolicy(p, "oauth2-backups-dr"), "policy", (d) => void (d.Statement = d.Statement.filter((st: { Sid: string }) => st.Sid !== "DenyObjectLockShorterThanDatabaseRow"))) },
    { name: "the clients/ floor lowered to 1 day", stack: "prod", policy: "s3-backup-object-lock", says: ["oauth2-backups-prod", "refuses only locks shorter than 1 day for prefix clients/", "below 90 days"], mutate: (p) => edit(bucketPolicy(p, "oauth2-backups-prod"), "policy", (d) => void (d.Statement.find((st: { Sid: string }) => st.Sid === "DenyObjectLockShorterThanClientsRow").Condition.NumericLessThan["s3:object-lock-remaining-retention-days"] = "1")) },
    { name: "the audit archive's floor narrowed to one principal tag (walked around)", stack: "prod", policy: "s3-backup-object-lock", says: ["oauth2-audit-prod", "has no floor there for prefix audit/", "below 1 year (365 days)"], mutate: (p) => edit(bucketPolicy(p, "oauth2-audit-prod"), "policy", (d) => void (d.Statement.find((st: { Sid: string }) => st.Sid === "DenyObjectLockShorterThanAuditRow").Condition.StringEquals = { "aws:PrincipalTag/team": "backups" })) },
    { name: "the vault bucket's floors and mode removed", stack: "vault", policy: "s3-backup-object-lock", says: ["oauth2-backups-vault", "mode other than COMPLIANCE"], mutate: (p) => edit(bucketPolicy(p, "oauth2-backups-vault"), "policy", (d) => void (d.Statement = d.Statement.filter((st: { Sid: string }) => !/^DenyObjectLock/.test(st.Sid)))) },
    { name: "secret guard without the re-key statement", stack: "prod", policy: "deletion-guards-secrets-and-keys", says: ["oauth2/backup-passphrase", "secretsmanager:UpdateSecret is not denied", "re-keys it to a key they control"], mutate: (p) => edit(guardOf(p, "oauth2/backup-passphrase"), "policy", (d) => void (d.Statement = d.Statement.filter((st: { Sid: string }) => st.Sid !== "DenyRekeyExceptBreakGlass"))) },
    { name: "re-key guard narrowed to MFA sessions (walked around)", stack: "prod", policy: "deletion-guards-secrets-and-keys", says: ["oauth2/db-credentials", "secretsmanager:UpdateSecret is not denied", "aws:MultiFactorAuthPresent"], mutate: (p) => edit(guardOf(p, "oauth2/db-credentials"), "policy", (d) => void (d.Statement.find((st: { Sid: string }) => st.Sid === "DenyRekeyExceptBreakGlass").Condition.Bool = { "aws:MultiFactorAuthPresent": "true" })) },
    { name: "db-backup may delete versions", stack: "prod", policy: "backup-job-role-no-destruction", says: ["db-backup", "s3:DeleteObjectVersion", "HideFailedDumps"], mutate: (p) => edit(jobPolicy(p, "db-backup"), "policy", (d) => d.Statement.find((s) => s.Sid === "HideFailedDumps").Action = ["s3:DeleteObject", "s3:DeleteObjectVersion"]) },
    { name: "a writer with s3:*", stack: "prod", policy: "backup-job-role-no-destruction", says: ["app-config-export", "s3:BypassGovernanceRetention", "s3:DeleteObjectVersion"], mutate: (p) => edit(jobPolicy(p, "app-config-export"), "policy", (d) => void (d.Statement[0].Action = "s3:*")) },
    { name: "verification deletes any instance", stack: "dr", policy: "backup-job-role-no-destruction", says: ["restore-verification", "rds:DeleteDBInstance on *"], mutate: (p) => edit(jobPolicy(p, "restore-verification"), "policy", (d) => void (d.Statement.find((s) => s.Sid === "VerificationInstancesOnly").Resource = "*")) },
    { name: "AdministratorAccess attached to a job role", stack: "prod", policy: "backup-job-role-no-destruction", says: ["secrets-export", "AdministratorAccess"], mutate: (p) => {
        const role = find(p, T.role, jobRole("secrets-export"));
        p.resources.push(plannedResource(`urn:pulumi:prod::oauth2-dr::aws:iam/rolePolicyAttachment:RolePolicyAttachment::admin`, "aws:iam/rolePolicyAttachment:RolePolicyAttachment", "admin", { role: role.name, policyArn: "arn:aws:iam::aws:policy/AdministratorAccess" }));
    } },
    { name: "db-backup reads the passphrase again", stack: "prod", policy: "backup-writer-cannot-decrypt", says: ["db-backup", "secretsmanager:GetSecretValue on arn:aws:secretsmanager:us-east-1:123456789012:secret:oauth2/backup-passphrase", "ReadNamedSecrets"], mutate: (p) => edit(jobPolicy(p, "db-backup"), "policy", (d) => void d.Statement.find((s) => s.Sid === "ReadNamedSecrets").Resource.push("arn:aws:secretsmanager:us-east-1:123456789012:secret:oauth2/backup-passphrase-AbCdEf")) },
    { name: "secrets-export reads every secret", stack: "dr", policy: "backup-writer-cannot-decrypt", says: ["secrets-export", "secretsmanager:GetSecretValue on *"], mutate: (p) => edit(jobPolicy(p, "secrets-export"), "policy", (d) => void (d.Statement.find((s) => s.Sid === "ReadNamedSecrets").Resource = "*")) },
    { name: "client-config-export reads the vault's private keys", stack: "prod", policy: "backup-writer-cannot-decrypt", says: ["client-config-export", "oauth2-dr/backup-private-keys", "Keys"], mutate: (p) => edit(jobPolicy(p, "client-config-export"), "policy", (d) => void d.Statement.push({ Sid: "Keys", Effect: "Allow", Action: "secretsmanager:*", Resource: "arn:aws:secretsmanager:us-east-1:210987654321:secret:oauth2-dr/backup-private-keys-AbCdEf" })) },
    { name: "app-config-export reads the passphrase through a wildcard action", stack: "prod", policy: "backup-writer-cannot-decrypt", says: ["app-config-export", "backup-passphrase"], mutate: (p) => edit(jobPolicy(p, "app-config-export"), "policy", (d) => void d.Statement.push({ Effect: "Allow", Action: "secretsmanager:Get*", Resource: ["arn:aws:secretsmanager:us-west-2:123456789012:secret:oauth2/backup-passphrase-AbCdEf"] })) },
    { name: "secret guard removed", stack: "prod", policy: "deletion-guards-secrets-and-keys", says: ["oauth2/backup-passphrase", "no resource policy"], mutate: (p) => remove(p, T.secretPolicy, (r) => r.name === "oauth2/backup-passphrase-guard") },
    { name: "secret guard without RemoveRegionsFromReplication", stack: "prod", policy: "deletion-guards-secrets-and-keys", says: ["oauth2/jwk-private-key", "secretsmanager:RemoveRegionsFromReplication is not denied"], mutate: (p) => edit(guardOf(p, "oauth2/jwk-private-key"), "policy", (d) => void (d.Statement[0].Action = ["secretsmanager:DeleteSecret", "secretsmanager:PutResourcePolicy", "secretsmanager:DeleteResourcePolicy"])) },
    { name: "secret guard without DeleteResourcePolicy (an administrator removes the guard, then deletes)", stack: "prod", policy: "deletion-guards-secrets-and-keys", says: ["oauth2/jwk-private-key", "secretsmanager:DeleteResourcePolicy is not denied"], mutate: (p) => edit(guardOf(p, "oauth2/jwk-private-key"), "policy", (d) => void (d.Statement[0].Action = ["secretsmanager:DeleteSecret", "secretsmanager:RemoveRegionsFromReplication", "secretsmanager:PutResourcePolicy"])) },
    { name: "secret guard without a break-glass exception", stack: "prod", policy: "deletion-guards-secrets-and-keys", says: ["oauth2/db-credentials", "locks everyone out"], mutate: (p) => edit(guardOf(p, "oauth2/db-credentials"), "policy", (d) => void delete d.Statement[0].Condition) },
    { name: "key policy without the deletion guard", stack: "prod", policy: "deletion-guards-secrets-and-keys", says: ["oauth2-secrets", "kms:ScheduleKeyDeletion, kms:DisableKey are not denied"], mutate: (p) => edit(find(p, T.key, (r) => r.name === "oauth2-secrets"), "policy", (d) => void (d.Statement = d.Statement.filter((s) => s.Effect !== "Deny"))) },
    { name: "vault key guard allowing Allow-only", stack: "vault", policy: "deletion-guards-secrets-and-keys", says: ["oauth2-backups-vault", "production KMS key"], mutate: (p) => edit(find(p, T.key, (r) => r.name === "oauth2-backups-vault"), "policy", (d) => void (d.Statement = d.Statement.filter((s) => s.Effect !== "Deny"))) },
];

describe("immutability policies on our stacks (compliant plans, one mutant at a time)", () => {
    const plans: Record<string, PlanResult> = {};
    const mandatory = (check: StackCheck) => check.violations.filter((v) => v.enforcementLevel === "mandatory");

    before(async function () {
        this.timeout(180000);
        for (const plan of await planRepo(["vault", "prod", "dr"])) {
            plans[plan.stack] = plan;
        }
    });

    for (const stack of ["vault", "prod", "dr"]) {
        it(`the compliant ${stack} stack has zero violations`, async () => {
            assert.deepEqual((await checkPlan(plans[stack])).violations, []);
        });
    }

    it("every immutability policy has mutants", () => {
        for (const name of NAMES) {
            assert.ok(MUTANTS.filter((m) => m.policy === name).length >= 3, name);
        }
    });

    for (const mutant of MUTANTS) {
        it(`${mutant.stack}: ${mutant.name} -> ${mutant.policy}`, async () => {
            const plan = structuredClone(plans[mutant.stack]);
            mutant.mutate(plan);
            const violations = mandatory(await checkPlan(plan));
            const caught = violations.filter((v) => v.policy === mutant.policy);
            assert.ok(caught.some((v) => mutant.says.every((f) => v.message.includes(f))), `not caught as ${JSON.stringify(mutant.says)}; violations: ${JSON.stringify(violations.map((v) => `${v.policy}: ${v.message}`), null, 1)}`);
        });
    }

    it("backup-writer-cannot-decrypt: the verification decrypts through the vault's role (no GetSecretValue here); it writes its records, so reading the passphrase would be reported; a staging writer is not judged", async () => {
        const plan = structuredClone(plans.prod);
        assert.deepEqual((await checkPlan(plan)).violations.filter((v) => v.policy === "backup-writer-cannot-decrypt"), []);
        edit(jobPolicy(plan, "restore-verification"), "policy", (d) => void d.Statement.find((s) => s.Sid === "ReadNamedSecrets").Resource.push("arn:aws:secretsmanager:us-east-1:123456789012:secret:oauth2/backup-passphrase-AbCdEf"));
        const [record] = (await checkPlan(plan)).violations.filter((v) => v.policy === "backup-writer-cannot-decrypt").map((v) => v.message);
        assert.match(record, /^oauth2-dr-verification-prod: backup writer .*oauth2\/backup-passphrase/);
        const staging = structuredClone(plans.prod);
        staging.resources.forEach((r) => {
            const tags = r.inputs.tags as Record<string, string> | undefined;
            if (tags && tags.environment) {
                tags.environment = "staging";
            }
        });
        edit(jobPolicy(staging, "db-backup"), "policy", (d) => void (d.Statement.find((s) => s.Sid === "ReadNamedSecrets").Resource = "*"));
        assert.deepEqual((await checkPlan(staging, { stackTags: { environment: "staging" } })).violations.filter((v) => v.policy === "backup-writer-cannot-decrypt"), []);
    });

    it("a staging stack needs no deletion guards and no copy outside the account, and locks in GOVERNANCE", async () => {
        const plan = structuredClone(plans.prod);
        const stagingTags = (r: PlannedResource) => {
            const tags = r.inputs.tags as Record<string, string> | undefined;
            if (tags && tags.environment) {
                tags.environment = "staging";
            }
        };
        plan.resources.forEach(stagingTags);
        remove(plan, T.secretPolicy);
        dailyRule(plan).copyActions = dailyRule(plan).copyActions.slice(0, 1);
        lockRule(plan, "oauth2-backups-prod").defaultRetention.mode = "GOVERNANCE";
        const check = await checkPlan(plan, { stackTags: { environment: "staging" } });
        assert.deepEqual(mandatory(check).filter((v) => NAMES.includes(v.policy)), []);
    });

    it("a first preview (computed values unknown) gives no verdict from these policies", async function () {
        this.timeout(180000);
        for (const plan of await planRepo(["vault", "prod", "dr"], { preview: true })) {
            const check = await checkPlan(plan);
            assert.deepEqual(check.violations.filter((v) => NAMES.includes(v.policy)).map((v) => v.message), [], plan.stack);
        }
    });
});

describe("immutability policies on foreign resources (hand-built)", () => {
    const PROD = { environment: "production" };
    /** The per-object lock floors a production backup bucket's policy must carry (database/ 30 days, the mode). */
    const floorStatements = (name: string, days = 30, prefix = "database/") => [
        { Effect: "Deny", Principal: "*", Action: ["s3:PutObject", "s3:PutObjectRetention"], Resource: `arn:aws:s3:::${name}/*`, Condition: { StringNotEquals: { "s3:object-lock-mode": "COMPLIANCE" }, Null: { "s3:object-lock-mode": "false" } } },
        { Effect: "Deny", Principal: "*", Action: "s3:PutObject", Resource: `arn:aws:s3:::${name}/${prefix}*`, Condition: { NumericLessThan: { "s3:object-lock-remaining-retention-days": String(days) } } },
    ];
    const floors = (name: string) => JSON.stringify({ Statement: floorStatements(name) });
    const bucket = (name: string, extra: Record<string, unknown> = {}) => ({ type: "aws:s3/bucket:Bucket", name, props: { bucket: name, tags: { backup: "true", ...PROD }, policy: floors(name), ...extra }, providerRegion: "eu-west-1" });
    const policyOf = (name: string) => immutabilityPolicies.find((p) => p.name === name)!;
    const messages = async (name: string, resources: Parameters<typeof runStackPolicy>[1], stackTags: Record<string, string> = {}) =>
        (await runStackPolicy(policyOf(name), resources, { stackTags })).map((v) => v.message);

    it("Object Lock: the v6 inline objectLockConfiguration with years counts; objectLockEnabled alone does not", async () => {
        assert.deepEqual(await messages("s3-backup-object-lock", [bucket("acme-backups", { objectLockConfiguration: { objectLockEnabled: "Enabled", rule: { defaultRetention: { mode: "COMPLIANCE", years: 1 } } } })]), []);
        const [flagOnly] = await messages("s3-backup-object-lock", [bucket("acme-backups", { objectLockEnabled: true })]);
        assert.match(flagOnly, /^acme-backups: Object Lock has no default retention \(rule.defaultRetention in acme-backups.objectLockEnabled\)/);
        const [none] = await messages("s3-backup-object-lock", [{ ...bucket("oauth2-backups-x"), props: { bucket: "oauth2-backups-x" } }]);
        assert.match(none, /^oauth2-backups-x: backup bucket has no Object Lock .* at least 30 days \(the retention table's Database \(PostgreSQL\) row\)/);
        assert.ok(!none.includes("COMPLIANCE"), "not production: no mode required");
        const [v2] = await messages("s3-backup-object-lock", [
            bucket("acme-backups"),
            { type: "aws:s3/bucketObjectLockConfigurationV2:BucketObjectLockConfigurationV2", name: "lock", props: { bucket: "acme-backups", rule: { defaultRetention: { mode: "GOVERNANCE", days: 30 } } } },
        ]);
        assert.match(v2, /mode is "GOVERNANCE" \(lock \(BucketObjectLockConfigurationV2\)\); production backups require COMPLIANCE/);
        assert.deepEqual(await messages("s3-backup-object-lock", [bucket("acme-backups"), { type: "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration", name: "lock", props: { bucket: UNKNOWN, rule: UNKNOWN } }]).then((m) => m.length), 1, "an unlinked lock is no lock");
    });

    it("Object Lock per data class: a foreign Firehose writing audit/ into a 30-day bucket is named; a 1-year bucket, another prefix or a non-backup bucket pass", async () => {
        const locked = (name: string, days: number) => [
            bucket(name),
            { type: "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration", name: `${name}-lock`, props: { bucket: name, rule: { defaultRetention: { mode: "COMPLIANCE", days } } } },
        ];
        const stream = (bucketName: string, prefix: string) => ({ type: T.firehose, name: "trail", props: { destination: "extended_s3", extendedS3Configuration: { bucketArn: `arn:aws:s3:::${bucketName}`, prefix } } });
        const [short, ...rest] = await messages("s3-backup-object-lock", [...locked("acme-backups", 30), stream("acme-backups", "audit/!{timestamp:yyyy}/")]);
        assert.deepEqual(rest, []);
        assert.equal(short, "trail: Firehose delivery stream writes Audit logs objects to s3://acme-backups/audit/ without a per-object retain-until, so each gets the bucket's default retention of 30 days, below the retention table's 1 year (365 days) for Audit logs; S3 keeps one default retention per bucket (none per prefix): write them to a bucket whose Object Lock default retention is at least 1 year (365 days)");
        assert.deepEqual(await messages("s3-backup-object-lock", [...locked("acme-audit", 365), stream("acme-audit", "audit/")]), []);
        assert.deepEqual(await messages("s3-backup-object-lock", [...locked("acme-backups", 30), stream("acme-backups", "database/")]), [], "database/ needs 30 days");
        assert.deepEqual(await messages("s3-backup-object-lock", [{ ...bucket("clickstream"), props: { bucket: "clickstream" } }, stream("clickstream", "audit/")]), [], "not backup storage");
        assert.deepEqual(await messages("s3-backup-object-lock", [...locked("acme-backups", 30), stream("acme-backups", UNKNOWN as unknown as string)]), [], "unknown prefix: no verdict");
        // CloudTrail cannot set a retain-until either: its trail archived under audit/ gets the bucket's default.
        const trail = (bucketName: string, s3KeyPrefix?: string) => ({ type: "aws:cloudtrail/trail:Trail", name: "org-trail", props: { s3BucketName: bucketName, ...(s3KeyPrefix === undefined ? {} : { s3KeyPrefix }) } });
        const [cloudtrail] = await messages("s3-backup-object-lock", [...locked("acme-backups", 30), trail("acme-backups", "audit")]);
        assert.match(cloudtrail, /^org-trail: CloudTrail trail writes Audit logs objects to s3:\/\/acme-backups\/audit\/ without a per-object retain-until, so each gets the bucket's default retention of 30 days/);
        assert.deepEqual(await messages("s3-backup-object-lock", [...locked("acme-audit", 365), trail("acme-audit", "audit/")]), []);
        assert.deepEqual(await messages("s3-backup-object-lock", [...locked("acme-backups", 30), trail("acme-backups")]), [], "AWSLogs/ is no table prefix");
    });

    it("deletion guards: a foreign secret and key without guards are named; a Deny sparing the break-glass role passes", async () => {
        const secret = { type: "aws:secretsmanager/secret:Secret", name: "oauth2/signing-key", props: { name: "oauth2/signing-key", tags: PROD } };
        const key = { type: "aws:kms/key:Key", name: "acme-data", props: { tags: PROD } };
        assert.deepEqual(await messages("deletion-guards-secrets-and-keys", [secret, key]), [
            "oauth2/signing-key: production secret has no resource policy (aws.secretsmanager.SecretPolicy); a deletion guard must deny secretsmanager:DeleteSecret, secretsmanager:RemoveRegionsFromReplication, secretsmanager:PutResourcePolicy, secretsmanager:DeleteResourcePolicy to everyone but a named break-glass role, and secretsmanager:ReplicateSecretToRegions (no KMS key condition key: denied whole), secretsmanager:StopReplicationToReplica, secretsmanager:UpdateSecret naming another KMS key",
            "acme-data: production KMS key has the default key policy (no policy); a deletion guard must deny kms:ScheduleKeyDeletion, kms:DisableKey to everyone but a named break-glass role",
        ]);
        const deny = (actions: string) => JSON.stringify({ Statement: [{ Effect: "Deny", Principal: "*", Action: actions, Resource: "*", Condition: { ArnNotLike: { "aws:PrincipalArn": BREAK_GLASS } } }] });
        const guarded = [
            { ...secret, props: { ...secret.props, policy: deny("secretsmanager:*") } },
            { ...key, props: { ...key.props, policy: deny("kms:*") } },
        ];
        assert.deepEqual(await messages("deletion-guards-secrets-and-keys", guarded), []);
        assert.deepEqual(await messages("deletion-guards-secrets-and-keys", [{ ...secret, props: { name: "oauth2/signing-key", tags: { environment: "staging" } } }]), [], "not production");
        assert.deepEqual(await messages("deletion-guards-secrets-and-keys", [{ ...key, props: { ...key.props, policy: UNKNOWN } }]), [], "unknown policy: no verdict");
    });

    it("Object Lock floor: a production backup bucket's policy must refuse per-object locks in GOVERNANCE or below the row of each prefix it holds; staging, unknown policies and a BucketPolicy resource are read as such", async () => {
        const locked = (name: string, policy: unknown, extra: Record<string, unknown> = {}) => [
            bucket(name, { policy, ...extra }),
            { type: "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration", name: `${name}-lock`, props: { bucket: name, rule: { defaultRetention: { mode: "COMPLIANCE", days: 30 } } } },
        ];
        const doc = (statements: unknown[]) => JSON.stringify({ Statement: statements });
        assert.deepEqual(await messages("s3-backup-object-lock", locked("acme-backups", floors("acme-backups"))), []);
        const none = await messages("s3-backup-object-lock", locked("acme-backups", undefined));
        assert.equal(none.length, 2, JSON.stringify(none));
        assert.match(none[0], /^acme-backups: production backup bucket's policy does not deny s3:PutObject with a per-object Object Lock mode other than COMPLIANCE/);
        assert.match(none[1], /^acme-backups: production backup bucket's policy has no floor there for prefix database\/: it must deny s3:PutObject with s3:object-lock-remaining-retention-days below 30 days/);
        const [short] = await messages("s3-backup-object-lock", locked("acme-backups", doc(floorStatements("acme-backups", 1))));
        assert.match(short, /^acme-backups: production backup bucket's policy refuses only locks shorter than 1 day for prefix database\/: it must deny s3:PutObject with s3:object-lock-remaining-retention-days below 30 days/);
        const lessOrEqual = floorStatements("acme-backups");
        lessOrEqual[1].Condition = { NumericLessThanEquals: { "s3:object-lock-remaining-retention-days": "29" } } as never;
        assert.deepEqual(await messages("s3-backup-object-lock", locked("acme-backups", doc(lessOrEqual))), [], "NumericLessThanEquals 29 is a 30-day floor");
        const wrongPrefix = floorStatements("acme-backups", 30, "tmp/");
        assert.match((await messages("s3-backup-object-lock", locked("acme-backups", doc(wrongPrefix))))[0], /has no floor there for prefix database\//);
        // The prefixes its lifecycle rules hold are each judged against their row.
        const lifecycle = { type: "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", name: "acme-lifecycle", props: { bucket: "acme-backups", rules: [{ id: "c", status: "Enabled", filter: { prefix: "clients/" }, expiration: { days: 90 }, noncurrentVersionExpiration: { noncurrentDays: 90 } }] } };
        const [clients] = await messages("s3-backup-object-lock", [...locked("acme-backups", floors("acme-backups")), lifecycle]);
        assert.match(clients, /has no floor there for prefix clients\/: .* below 90 days \(the retention table's Client configurations row/);
        // A separate BucketPolicy counts; a staging bucket and an unknown policy give no verdict.
        const [plain, lock] = locked("acme-backups", undefined);
        assert.deepEqual(await messages("s3-backup-object-lock", [plain, lock, { type: "aws:s3/bucketPolicy:BucketPolicy", name: "acme-policy", props: { bucket: "acme-backups", policy: floors("acme-backups") } }]), []);
        assert.deepEqual(await messages("s3-backup-object-lock", locked("acme-backups", undefined, { tags: { backup: "true", environment: "staging" } })), [], "not production");
        assert.deepEqual(await messages("s3-backup-object-lock", locked("acme-backups", UNKNOWN)), [], "unknown policy: no verdict");
        // A floor written with NotPrincipal spares whom it names: no floor, and the message says whom.
        const [mode, floor] = floorStatements("acme-backups");
        const sparing = doc([mode, { ...floor, Sid: "Floor", Principal: undefined, NotPrincipal: { AWS: ["arn:aws:sts::123456789012:assumed-role/uploader/nightly", "arn:aws:iam::123456789012:role/uploader", "arn:aws:iam::123456789012:root"] } }]);
        const [spares] = await messages("s3-backup-object-lock", locked("acme-backups", sparing));
        assert.match(spares, /has no floor there for prefix database\/: .* \(statement Floor spares arn:aws:iam::123456789012:role\/uploader, arn:aws:iam::123456789012:root \(NotPrincipal\): whom a NotPrincipal Deny spares may still upload shorter locks\) \(backup storage/);
    });

    it("deletion guards: a secret's guard must refuse re-keying to another KMS key (UpdateSecret with secretsmanager:KmsKeyId); narrowed to requests naming another key is sound, narrowed otherwise is not", async () => {
        const secret = (statements: unknown[]) => ({ type: "aws:secretsmanager/secret:Secret", name: "oauth2/signing-key", props: { name: "oauth2/signing-key", tags: PROD, policy: JSON.stringify({ Statement: statements }) } });
        const deletion = { Effect: "Deny", Principal: "*", Action: ["secretsmanager:DeleteSecret", "secretsmanager:RemoveRegionsFromReplication", "secretsmanager:PutResourcePolicy", "secretsmanager:DeleteResourcePolicy", "secretsmanager:ReplicateSecretToRegions", "secretsmanager:StopReplicationToReplica"], Resource: "*", Condition: { ArnNotEquals: { "aws:PrincipalArn": BREAK_GLASS } } };
        const rekey = (condition: Record<string, unknown>) => ({ Sid: "Rekey", Effect: "Deny", Principal: "*", Action: "secretsmanager:UpdateSecret", Resource: "*", Condition: { ArnNotEquals: { "aws:PrincipalArn": BREAK_GLASS }, ...condition } });
        const [missing] = await messages("deletion-guards-secrets-and-keys", [secret([deletion])]);
        assert.match(missing, /^oauth2\/signing-key: production secret has a resource policy where secretsmanager:UpdateSecret is not denied to everyone but a break-glass role when it names another KMS key: an administrator re-keys it/);
        const own = "arn:aws:kms:eu-west-1:123456789012:key/own";
        assert.deepEqual(await messages("deletion-guards-secrets-and-keys", [secret([deletion, rekey({ StringNotEquals: { "secretsmanager:KmsKeyId": own }, Null: { "secretsmanager:KmsKeyId": "false" } })])]), []);
        assert.deepEqual(await messages("deletion-guards-secrets-and-keys", [secret([deletion, rekey({ ArnNotEquals: { "aws:PrincipalArn": BREAK_GLASS, "secretsmanager:KmsKeyArn": own } })])]), []);
        // A list or a pattern of keys spares re-keying to each other key it names or matches (one the administrator created).
        const [two] = await messages("deletion-guards-secrets-and-keys", [secret([deletion, rekey({ StringNotEquals: { "secretsmanager:KmsKeyId": [own, "arn:aws:kms:eu-west-1:123456789012:key/spare"] } })])]);
        assert.match(two, /statement Rekey: the Deny applies only when StringNotEquals secretsmanager:KmsKeyId \["arn:aws:kms:eu-west-1:123456789012:key\/own","arn:aws:kms:eu-west-1:123456789012:key\/spare"\] holds/);
        const [pattern] = await messages("deletion-guards-secrets-and-keys", [secret([deletion, rekey({ ArnNotLike: { "aws:PrincipalArn": BREAK_GLASS, "secretsmanager:KmsKeyArn": "arn:aws:kms:eu-west-1:123456789012:key/*" } })])]);
        assert.match(pattern, /statement Rekey: the Deny applies only when ArnNotLike secretsmanager:KmsKeyArn "arn:aws:kms:eu-west-1:123456789012:key\/\*" holds/);
        const [onlyOne] = await messages("deletion-guards-secrets-and-keys", [secret([deletion, rekey({ StringEquals: { "secretsmanager:KmsKeyId": "arn:aws:kms:eu-west-1:123456789012:key/other" } })])]);
        assert.match(onlyOne, /statement Rekey: the Deny applies only when StringEquals secretsmanager:KmsKeyId/);
    });

    it("deletion guards: a Deny an administrator walks around is no guard (a wildcard exception, a narrowing condition); a sound guard beside a hollow one suffices", async () => {
        const key = (statements: unknown[]) => ({ type: "aws:kms/key:Key", name: "acme-data", props: { tags: PROD, policy: JSON.stringify({ Statement: statements }) } });
        const deny = (condition: unknown, sid = "Guard") => ({ Sid: sid, Effect: "Deny", Principal: { AWS: "*" }, Action: ["kms:ScheduleKeyDeletion", "kms:DisableKey"], Resource: "*", Condition: condition });
        const [anyRole] = await messages("deletion-guards-secrets-and-keys", [key([deny({ ArnNotEquals: { "aws:PrincipalArn": "arn:aws:iam::123456789012:role/*" } })])]);
        assert.match(anyRole, /^acme-data: .*\(statement Guard: the exception aws:PrincipalArn arn:aws:iam::123456789012:role\/\* is a pattern: it spares every principal it matches/);
        const [mfa] = await messages("deletion-guards-secrets-and-keys", [key([deny({ ArnNotEquals: { "aws:PrincipalArn": BREAK_GLASS }, Bool: { "aws:MultiFactorAuthPresent": "false" } })])]);
        assert.match(mfa, /the Deny applies only when Bool aws:MultiFactorAuthPresent "false" holds/);
        const [sourceIp] = await messages("deletion-guards-secrets-and-keys", [key([deny({ StringNotLikeIfExists: { "aws:principalARN": BREAK_GLASS }, NotIpAddress: { "aws:SourceIp": "10.0.0.0/8" } })])]);
        assert.match(sourceIp, /the Deny applies only when NotIpAddress aws:SourceIp "10.0.0.0\/8" holds/);
        assert.deepEqual(await messages("deletion-guards-secrets-and-keys", [key([deny({ StringNotLikeIfExists: { "aws:principalARN": BREAK_GLASS } })])]), [], "IfExists, the key in another case");
        assert.deepEqual(await messages("deletion-guards-secrets-and-keys", [key([deny({ ArnNotEquals: { "aws:PrincipalArn": "arn:aws:iam::123456789012:role/*" } }, "Loose"), deny({ ArnNotEquals: { "aws:PrincipalArn": BREAK_GLASS } })])]), [], "a sound Deny beside a hollow one");
        assert.deepEqual(await messages("deletion-guards-secrets-and-keys", [key([deny({ StringNotEquals: { "aws:PrincipalArn": "arn:aws:iam::123456789012:role/*" } })])]), [], "StringNotEquals compares literally: it spares no pattern");
        const patterns = { config: { "deletion-guards-secrets-and-keys": { breakGlassRoleArns: ["arn:aws:iam::*:role/break-glass/*"] } } };
        const configured = async (pattern: string) => (await runStackPolicy(policyOf("deletion-guards-secrets-and-keys"), [key([deny({ ArnNotLike: { "aws:PrincipalArn": pattern } })])], patterns)).map((v) => v.message);
        assert.deepEqual(await configured("arn:aws:iam::123456789012:role/break-glass/*"), [], "a pattern the settings list as break-glass roles");
        assert.equal((await configured("arn:aws:iam::123456789012:role/*")).length, 1);
    });

    it("deletion guards: a Deny with NotPrincipal is read as AWS reads it: everyone but the role's named session (with the role and its account) is denied; the role alone, or without its account, is locked out too; `*` denies nobody", async () => {
        const key = (notPrincipal: unknown) => ({ type: "aws:kms/key:Key", name: "acme-data", props: { tags: PROD, policy: JSON.stringify({ Statement: [{ Sid: "Guard", Effect: "Deny", NotPrincipal: notPrincipal, Action: ["kms:ScheduleKeyDeletion", "kms:DisableKey"], Resource: "*" }] }) } });
        const session = "arn:aws:sts::123456789012:assumed-role/oauth2-dr-break-glass/incident";
        const account = "arn:aws:iam::123456789012:root";
        assert.deepEqual(await messages("deletion-guards-secrets-and-keys", [key({ AWS: [session, BREAK_GLASS, account] })]), [], "AWS's own example: session, role and account");
        assert.deepEqual(await messages("deletion-guards-secrets-and-keys", [key({ AWS: [session, BREAK_GLASS, "123456789012"] })]), [], "the account as a bare id");
        const [roleOnly] = await messages("deletion-guards-secrets-and-keys", [key({ AWS: BREAK_GLASS })]);
        assert.match(roleOnly, /^acme-data: production KMS key has a key policy where kms:ScheduleKeyDeletion, kms:DisableKey are not denied to everyone but a break-glass role \(statement Guard: NotPrincipal names arn:aws:iam::123456789012:role\/oauth2-dr-break-glass but none of its sessions: AWS compares the caller, an assumed-role session \(arn:aws:sts::123456789012:assumed-role\/oauth2-dr-break-glass\/SESSION\), which NotPrincipal must name exactly \(no wildcard\), so the role is denied too; .*ArnNotEquals aws:PrincipalArn/);
        const [noAccount] = await messages("deletion-guards-secrets-and-keys", [key({ AWS: [session, BREAK_GLASS] })]);
        assert.match(noAccount, /NotPrincipal names arn:aws:iam::123456789012:role\/oauth2-dr-break-glass without its account \(arn:aws:iam::123456789012:root\), which AWS may validate first/);
        const [everyone] = await messages("deletion-guards-secrets-and-keys", [key({ AWS: "*" })]);
        assert.match(everyone, /^acme-data: production KMS key has a key policy where kms:ScheduleKeyDeletion, kms:DisableKey are not denied to everyone but a break-glass role;/, "NotPrincipal * denies nobody: no guard");
        const [service] = await messages("deletion-guards-secrets-and-keys", [key({ Service: "logs.amazonaws.com" })]);
        assert.match(service, /locks everyone out for good/, "a service spared is no break-glass role");
        // The account's ARN the exception needs spares its root user: with breakGlassRoleArns set, that is said.
        const strict = { config: { "deletion-guards-secrets-and-keys": { breakGlassRoleArns: [BREAK_GLASS] } } };
        const [root] = (await runStackPolicy(policyOf("deletion-guards-secrets-and-keys"), [key({ AWS: [session, BREAK_GLASS, account] })], strict)).map((v) => v.message);
        assert.match(root, /statement Guard: the exception names principals \(arn:aws:iam::123456789012:root\) other than the break-glass roles \(arn:aws:iam::123456789012:role\/oauth2-dr-break-glass\) \(arn:aws:iam::123456789012:root: the account's root user, whom NotPrincipal spares/);
        // A secret guarded the same way passes too.
        const secretGuard = JSON.stringify({ Statement: [
            { Effect: "Deny", NotPrincipal: { AWS: [session, BREAK_GLASS, account] }, Action: ["secretsmanager:DeleteSecret", "secretsmanager:RemoveRegionsFromReplication", "secretsmanager:PutResourcePolicy", "secretsmanager:DeleteResourcePolicy", "secretsmanager:ReplicateSecretToRegions", "secretsmanager:StopReplicationToReplica"], Resource: "*" },
            { Effect: "Deny", NotPrincipal: { AWS: [session, BREAK_GLASS, account] }, Action: "secretsmanager:UpdateSecret", Resource: "*", Condition: { StringNotEquals: { "secretsmanager:KmsKeyId": "alias/own" }, Null: { "secretsmanager:KmsKeyId": "false" } } },
        ] });
        assert.deepEqual(await messages("deletion-guards-secrets-and-keys", [{ type: "aws:secretsmanager/secret:Secret", name: "oauth2/signing-key", props: { name: "oauth2/signing-key", tags: PROD, policy: secretGuard } }]), []);
    });

    it("deletion guards: a secret's guard must refuse ReplicateSecretToRegions whole (no KMS key condition key exists for it): a replica under a key the stack does not control; narrowed to regions is no guard", async () => {
        const secret = (statements: unknown[]) => ({ type: "aws:secretsmanager/secret:Secret", name: "oauth2/signing-key", props: { name: "oauth2/signing-key", tags: PROD, policy: JSON.stringify({ Statement: statements }) } });
        const spare = { ArnNotEquals: { "aws:PrincipalArn": BREAK_GLASS } };
        const guard = (actions: string[], condition: Record<string, unknown> = {}) => ({ Sid: "Guard", Effect: "Deny", Principal: "*", Action: actions, Resource: "*", Condition: { ...spare, ...condition } });
        const deletion = ["secretsmanager:DeleteSecret", "secretsmanager:RemoveRegionsFromReplication", "secretsmanager:PutResourcePolicy", "secretsmanager:DeleteResourcePolicy", "secretsmanager:StopReplicationToReplica"];
        const rekey = guard(["secretsmanager:UpdateSecret"], { StringNotEquals: { "secretsmanager:KmsKeyId": "arn:aws:kms:eu-west-1:123456789012:key/own" }, Null: { "secretsmanager:KmsKeyId": "false" } });
        const [missing, ...others] = await messages("deletion-guards-secrets-and-keys", [secret([guard(deletion), rekey])]);
        assert.deepEqual(others, []);
        assert.equal(missing, "oauth2/signing-key: production secret has a resource policy where secretsmanager:ReplicateSecretToRegions is not denied to everyone but a break-glass role: an administrator adds a replica in another region under a KMS key the stack does not control, whose owner then reads the secret or disables the key; ReplicateSecretToRegions has no KMS key condition key (only the regions, secretsmanager:AddReplicaRegions), so the guard must deny it to everyone but a named break-glass role, without another condition (declared replicas are created with the secret; adding one later is a break-glass change)");
        assert.deepEqual(await messages("deletion-guards-secrets-and-keys", [secret([guard([...deletion, "secretsmanager:ReplicateSecretToRegions"]), rekey])]), []);
        assert.deepEqual(await messages("deletion-guards-secrets-and-keys", [secret([guard(deletion), guard(["secretsmanager:Replicate*"]), rekey])]), [], "an Action glob covers it");
        // Narrowed to regions (the one condition key it has): any region left out of the list is open, under any key.
        const [regions] = await messages("deletion-guards-secrets-and-keys", [secret([guard(deletion), guard(["secretsmanager:ReplicateSecretToRegions"], { "ForAnyValue:StringNotEquals": { "secretsmanager:AddReplicaRegions": ["eu-central-1"] } }), rekey])]);
        assert.match(regions, /^oauth2\/signing-key: production secret has a resource policy where secretsmanager:ReplicateSecretToRegions is not denied to everyone but a break-glass role \(statement Guard: the Deny applies only when ForAnyValue:StringNotEquals secretsmanager:AddReplicaRegions/);
        // This tree's guard (components/secrets.ts) denies it.
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const { secretDeletionGuard } = require("../../components/secrets") as { secretDeletionGuard: (role: string, key?: string) => string };
        assert.deepEqual(await messages("deletion-guards-secrets-and-keys", [{ ...secret([]), props: { name: "oauth2/signing-key", tags: PROD, policy: secretDeletionGuard(BREAK_GLASS, "arn:aws:kms:eu-west-1:123456789012:key/own") } }]), []);
    });

    it("deletion guards: a secret's guard must refuse StopReplicationToReplica (h29-routes): called on the DR replica, which carries the primary's policy, it detaches the replica; this tree's guard denies it", async () => {
        const secret = (statements: unknown[]) => ({ type: "aws:secretsmanager/secret:Secret", name: "oauth2/signing-key", props: { name: "oauth2/signing-key", tags: PROD, policy: JSON.stringify({ Statement: statements }) } });
        const guard = (actions: string[], condition: Record<string, unknown> = {}) => ({ Sid: "Guard", Effect: "Deny", Principal: "*", Action: actions, Resource: "*", Condition: { ArnNotEquals: { "aws:PrincipalArn": BREAK_GLASS }, ...condition } });
        const others = ["secretsmanager:DeleteSecret", "secretsmanager:RemoveRegionsFromReplication", "secretsmanager:PutResourcePolicy", "secretsmanager:DeleteResourcePolicy", "secretsmanager:ReplicateSecretToRegions"];
        const rekey = guard(["secretsmanager:UpdateSecret"], { StringNotEquals: { "secretsmanager:KmsKeyId": "arn:aws:kms:eu-west-1:123456789012:key/own" }, Null: { "secretsmanager:KmsKeyId": "false" } });
        assert.deepEqual(await messages("deletion-guards-secrets-and-keys", [secret([guard(others), rekey])]), [
            "oauth2/signing-key: production secret has a resource policy where secretsmanager:StopReplicationToReplica is not denied to everyone but a break-glass role: an administrator detaches the DR region's replica (StopReplicationToReplica, called on the replica, which carries this policy), which then stops receiving the primary's versions; the guard must deny it to everyone but a named break-glass role",
        ]);
        assert.deepEqual(await messages("deletion-guards-secrets-and-keys", [secret([guard([...others, "secretsmanager:StopReplicationToReplica"]), rekey])]), []);
        // Narrowed (to a region, say) is no guard: the replica's own region is the one left out.
        const [narrowed] = await messages("deletion-guards-secrets-and-keys", [secret([guard(others), guard(["secretsmanager:StopReplicationToReplica"], { StringEquals: { "aws:RequestedRegion": "eu-west-1" } }), rekey])]);
        assert.match(narrowed, /^oauth2\/signing-key: production secret has a resource policy where secretsmanager:StopReplicationToReplica is not denied to everyone but a break-glass role \(statement Guard: the Deny applies only when StringEquals aws:RequestedRegion/);
        // This tree's guard (components/secrets.ts) denies it.
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const { secretDeletionGuard } = require("../../components/secrets") as { secretDeletionGuard: (role: string, key?: string) => string };
        assert.deepEqual(await messages("deletion-guards-secrets-and-keys", [{ ...secret([]), props: { name: "oauth2/signing-key", tags: PROD, policy: secretDeletionGuard(BREAK_GLASS, "arn:aws:kms:eu-west-1:123456789012:key/own") } }]), []);
    });

    it("deletion guards: a policy declared twice (inline and a KeyPolicy or SecretPolicy) must guard in each, since either replaces the other", async () => {
        const guard = (actions: string[]) => JSON.stringify({ Statement: [{ Effect: "Deny", Principal: "*", Action: actions, Resource: "*", Condition: { ArnNotEquals: { "aws:PrincipalArn": BREAK_GLASS } } }] });
        const open = JSON.stringify({ Statement: [{ Effect: "Allow", Principal: { AWS: "arn:aws:iam::123456789012:root" }, Action: "kms:*", Resource: "*" }] });
        const key = { type: "aws:kms/key:Key", name: "acme-data", props: { tags: PROD, policy: guard(["kms:ScheduleKeyDeletion", "kms:DisableKey"]) } };
        const keyPolicy = (policy: string) => ({ type: "aws:kms/keyPolicy:KeyPolicy", name: "acme-data-policy", props: { keyId: "acme-data-id", policy }, propertyDependencies: { keyId: ["urn:pulumi:test::proj::aws:kms/key:Key::acme-data"] } });
        const [replaced] = await messages("deletion-guards-secrets-and-keys", [key, keyPolicy(open)]);
        assert.match(replaced, /^acme-data: production KMS key has a key policy where kms:ScheduleKeyDeletion, kms:DisableKey are not denied .*\(acme-data-policy \(KeyPolicy\) replaces acme-data.policy \(each sets the whole policy\): each must guard\)/);
        assert.deepEqual(await messages("deletion-guards-secrets-and-keys", [key, keyPolicy(guard(["kms:*"]))]), [], "both guard");
        assert.deepEqual(await messages("deletion-guards-secrets-and-keys", [{ ...key, props: { tags: PROD } }, keyPolicy(guard(["kms:*"]))]), [], "only the KeyPolicy, guarded");
        const secret = { type: "aws:secretsmanager/secret:Secret", name: "oauth2/signing-key", props: { name: "oauth2/signing-key", tags: PROD, policy: guard(["secretsmanager:*"]) } };
        const [secretReplaced] = await messages("deletion-guards-secrets-and-keys", [secret, { type: "aws:secretsmanager/secretPolicy:SecretPolicy", name: "signing-policy", props: { secretArn: "arn:aws:secretsmanager:eu-west-1:1:secret:oauth2/signing-key-AbCd", policy: JSON.stringify({ Statement: [] }) } }]);
        assert.match(secretReplaced, /^oauth2\/signing-key: .*signing-policy \(SecretPolicy\) replaces oauth2\/signing-key.policy/);
    });

    it("AWS Backup: in production a plan keeping a database's recovery points needs its vault locked in compliance mode for the row; an air-gapped vault counts; staging, an undeclared vault and unknowns give no verdict", async () => {
        const policy = ALL_POLICIES.find((p) => p.name === "aws-backup-plan-retention") as StackValidationPolicy;
        const run = async (resources: Parameters<typeof runStackPolicy>[1]) => (await runStackPolicy(policy, resources)).map((v) => v.message);
        const db = { type: "aws:rds/instance:Instance", name: "orders", props: { identifier: "orders", engine: "postgres", backupRetentionPeriod: 35, tags: PROD } };
        const plan = (vault: string) => ({ type: "aws:backup/plan:Plan", name: "orders-daily", props: { rules: [{ ruleName: "daily", targetVaultName: vault, lifecycle: { deleteAfter: 35 } }] } });
        const selection = { type: "aws:backup/selection:Selection", name: "orders", props: { planId: "p", resources: ["*"] } };
        const vault = (tags: Record<string, string> = PROD) => ({ type: "aws:backup/vault:Vault", name: "orders", props: { name: "orders-vault", tags } });
        const lock = (extra: Record<string, unknown>) => ({ type: "aws:backup/vaultLockConfiguration:VaultLockConfiguration", name: "orders-lock", props: { backupVaultName: "orders-vault", minRetentionDays: 30, ...extra } });
        const [none] = await run([db, plan("orders-vault"), selection, vault()]);
        assert.match(none, /^orders-daily: rule "daily" keeps the recovery points of every resource \(\*\) in backup vault orders-vault, which has no Vault Lock \(aws.backup.VaultLockConfiguration\): any credential with backup:DeleteRecoveryPoint deletes its recovery points early; production requires a compliance-mode Vault Lock/);
        const [governance] = await run([db, plan("orders-vault"), selection, vault(), lock({})]);
        assert.match(governance, /governance mode \(orders-lock: no changeableForDays\)/);
        const [short] = await run([db, plan("orders-vault"), selection, vault(), lock({ changeableForDays: 3, minRetentionDays: 7 })]);
        assert.match(short, /minRetentionDays is 7 days \(orders-lock\)/);
        assert.deepEqual(await run([db, plan("orders-vault"), selection, vault(), lock({ changeableForDays: 3 })]), []);
        assert.deepEqual(await run([db, plan("orders-vault"), selection, { type: "aws:backup/logicallyAirGappedVault:LogicallyAirGappedVault", name: "iso", props: { name: "orders-vault", minRetentionDays: 30, maxRetentionDays: 90, tags: PROD } }]), [], "a logically air-gapped vault");
        const stagingDb = { ...db, props: { ...db.props, tags: { environment: "staging" } } };
        assert.deepEqual(await run([stagingDb, plan("orders-vault"), selection, vault({ environment: "staging" })]), [], "staging");
        // What the vault holds decides too: a vault tagged only for housekeeping (or staging) keeping a production database's points.
        for (const tags of [{ Name: "orders-vault" }, { environment: "staging" }] as Record<string, string>[]) {
            const [held] = await run([db, plan("orders-vault"), selection, vault(tags)]);
            assert.match(held, /^orders-daily: rule "daily" keeps the recovery points of every resource \(\*\) in backup vault orders-vault, which has no Vault Lock .*; production \(the vault is not tagged production, but it holds the recovery points of production database orders\) requires a compliance-mode Vault Lock/, JSON.stringify(tags));
        }
        assert.deepEqual(await run([db, plan("Default"), selection]), [], "a vault the stack does not declare: nothing to read");
        assert.deepEqual(await run([db, plan("orders-vault"), selection, vault(), lock({ changeableForDays: UNKNOWN })]), [], "unknown: no verdict");
    });

    it("AWS Backup in preview: a rule whose vault name is computed is judged through the vault its rules depend on; with several candidates not all locked it is listed as not judged, never passed silently", async () => {
        const policy = ALL_POLICIES.find((p) => p.name === "aws-backup-plan-retention") as StackValidationPolicy;
        const VAULT = "aws:backup/vault:Vault";
        const db = { type: "aws:rds/instance:Instance", name: "ledger", props: { identifier: "ledger", engine: "postgres", backupRetentionPeriod: 35, tags: PROD } };
        const selection = { type: "aws:backup/selection:Selection", name: "ledger", props: { planId: "p", resources: ["*"] } };
        const vault = (name: string) => ({ type: VAULT, name, props: { name: UNKNOWN, tags: PROD } });
        const lockOf = (name: string) => ({ type: "aws:backup/vaultLockConfiguration:VaultLockConfiguration", name: `${name}-lock`, props: { backupVaultName: UNKNOWN, changeableForDays: 3, minRetentionDays: 30 }, propertyDependencies: { backupVaultName: [`urn:pulumi:test::proj::${VAULT}::${name}`] } });
        // targetVaultName: vault.name (auto-named, unknown in preview); a copy action's destination shows in the same property's dependencies.
        const plan = (...dependsOn: string[]) => ({
            type: "aws:backup/plan:Plan",
            name: "ledger-daily",
            props: { rules: [{ ruleName: "daily", targetVaultName: UNKNOWN, lifecycle: { deleteAfter: 35 } }] },
            propertyDependencies: { rules: dependsOn.map((name) => `urn:pulumi:test::proj::${VAULT}::${name}`) },
        });
        const run = (resources: Parameters<typeof runStackPolicy>[1]) => runStackPolicyWithReasons(policy, resources);

        const one = await run([db, selection, vault("primary"), plan("primary")]);
        assert.equal(one.violations.length, 1, "one candidate without a lock: judged, as when its name is known");
        assert.match(one.violations[0].message, /^ledger-daily: rule "daily" keeps the recovery points of every resource \(\*\) in backup vault primary \(its name is computed\), which has no Vault Lock/);

        const locked = await run([db, selection, vault("primary"), lockOf("primary"), vault("copy"), lockOf("copy"), plan("primary", "copy")]);
        assert.deepEqual([locked.violations, locked.notApplicable], [[], []], "every candidate locked for the row: whichever is the target, compliant");

        const mixed = await run([db, selection, vault("primary"), lockOf("primary"), vault("copy"), plan("primary", "copy")]);
        assert.deepEqual(mixed.violations, [], "which of the two is the target is not known: no verdict either way");
        assert.equal(mixed.notApplicable.length, 1);
        assert.match(mixed.notApplicable[0], /^not judged in this preview: ledger-daily rule "daily" targetVaultName \(one of primary, copy\) unknown until the update: whether the vault keeping these recovery points is locked/);

        const elsewhere = await run([db, selection, vault("primary"), plan()]);
        assert.deepEqual([elsewhere.violations, elsewhere.notApplicable], [[], []], "a name that depends on no vault of the stack: a vault it does not declare, as when known");
    });

    it("job roles: an IRSA writer with s3:Delete* on the dumps bucket is named with each action; a replication role is not a job role", async () => {
        const irsa = JSON.stringify({ Statement: [{ Effect: "Allow", Principal: { Federated: "arn:aws:iam::1:oidc-provider/x" }, Action: "sts:AssumeRoleWithWebIdentity" }] });
        const resources = [
            bucket("acme-db-dumps", { lifecycleRules: [{ enabled: true, prefix: "database/", expiration: { days: 30 } }] }),
            { type: "aws:iam/role:Role", name: "dump-writer", props: { name: "dump-writer", assumeRolePolicy: irsa } },
            { type: "aws:iam/rolePolicy:RolePolicy", name: "dump-writer", props: { role: "dump-writer", policy: JSON.stringify({ Statement: [{ Sid: "Dumps", Effect: "Allow", Action: ["s3:PutObject", "s3:Delete*"], Resource: "arn:aws:s3:::acme-db-dumps/*" }] }) } },
            { type: "aws:iam/role:Role", name: "replication", props: { assumeRolePolicy: JSON.stringify({ Statement: [{ Effect: "Allow", Principal: { Service: "s3.amazonaws.com" }, Action: "sts:AssumeRole" }] }), inlinePolicies: [{ name: "r", policy: JSON.stringify({ Statement: [{ Effect: "Allow", Action: "s3:*", Resource: "*" }] }) }] } },
        ];
        const [message, ...rest] = await messages("backup-job-role-no-destruction", resources);
        assert.deepEqual(rest, []);
        assert.match(message, /^dump-writer: backup job role \(its policies reach a backup bucket\) may s3:DeleteObjectVersion \(RolePolicy dump-writer, statement Dumps\); a backup job must not/);
        assert.ok(!message.includes("s3:BypassGovernanceRetention"), "s3:Delete* does not grant the bypass");
        // h38: a grant on the bucket's objects (`acme-db-dumps/*`) is no grant of s3:DeleteBucket, which IAM checks on the bucket's ARN.
        assert.ok(!message.includes("s3:DeleteBucket"), "s3:DeleteBucket on objects only");
    });

    it("job roles: a writer with s3:PutObjectRetention beside s3:PutObject locks its uploads as it likes unless the bucket's policy floors per-object locks at the row; the floor, PutObjectRetention alone and PutObjectLegalHold pass", async () => {
        const irsa = JSON.stringify({ Statement: [{ Effect: "Allow", Principal: { Federated: "arn:aws:iam::1:oidc-provider/x" }, Action: "sts:AssumeRoleWithWebIdentity" }] });
        const writer = (actions: string[], resource = "arn:aws:s3:::acme-db-dumps/*") => [
            { type: "aws:iam/role:Role", name: "dump-writer", props: { name: "dump-writer", assumeRolePolicy: irsa } },
            { type: "aws:iam/rolePolicy:RolePolicy", name: "dump-writer", props: { role: "dump-writer", policy: JSON.stringify({ Statement: [{ Sid: "Dumps", Effect: "Allow", Action: actions, Resource: resource }] }) } },
        ];
        // A staging bucket (no floor required of the bucket itself): its default retention is all the table gets.
        const staging = (policy?: string) => bucket("acme-db-dumps", { tags: { backup: "true", environment: "staging" }, policy, lifecycleRules: [{ enabled: true, prefix: "database/", expiration: { days: 35 } }, { enabled: true, prefix: "clients/", expiration: { days: 90 } }] });
        const [short, ...rest] = await messages("backup-job-role-no-destruction", [staging(), ...writer(["s3:PutObject", "s3:PutObjectRetention"])]);
        assert.deepEqual(rest, []);
        assert.equal(short, "dump-writer: backup job role (its policies reach a backup bucket) may s3:PutObjectRetention with s3:PutObject on s3://acme-db-dumps/database/ (RolePolicy dump-writer, statement Dumps): it can upload backups with a per-object lock shorter than the bucket's default retention, and the bucket's policy refuses none below 30 days there (the retention table's Database (PostgreSQL) row; Deny, Principal *, s3:PutObject with s3:object-lock-remaining-retention-days NumericLessThan 30); s3:PutObjectRetention with s3:PutObject on s3://acme-db-dumps/clients/ (RolePolicy dump-writer, statement Dumps): it can upload backups with a per-object lock shorter than the bucket's default retention, and the bucket's policy refuses none below 90 days there (the retention table's Client configurations row; Deny, Principal *, s3:PutObject with s3:object-lock-remaining-retention-days NumericLessThan 90); a backup job must not delete object versions, bypass governance retention, lock what it writes shorter than the retention table or change bucket configuration (give each job its own role with only what it needs)");
        // Globs count (s3:PutObject* grants both); a grant on database/ only reaches database/.
        const [glob] = await messages("backup-job-role-no-destruction", [staging(), ...writer(["s3:PutObject*"], "arn:aws:s3:::acme-db-dumps/database/*")]);
        assert.match(glob, /may s3:PutObjectRetention with s3:PutObject on s3:\/\/acme-db-dumps\/database\/ .*NumericLessThan 30\); a backup job/);
        // The floor (for both prefixes), PutObjectRetention without PutObject, a legal hold: nothing to report.
        const floored = JSON.stringify({ Statement: [...floorStatements("acme-db-dumps", 30, "database/"), ...floorStatements("acme-db-dumps", 90, "clients/").slice(1)] });
        assert.deepEqual(await messages("backup-job-role-no-destruction", [staging(floored), ...writer(["s3:PutObject", "s3:PutObjectRetention"])]), [], "floored at each row");
        const [partly] = await messages("backup-job-role-no-destruction", [staging(JSON.stringify({ Statement: floorStatements("acme-db-dumps", 7, "clients/") })), ...writer(["s3:PutObject", "s3:PutObjectRetention"])]);
        assert.match(partly, /s3:\/\/acme-db-dumps\/database\/ .*refuses none below 30 days there.*s3:\/\/acme-db-dumps\/clients\/ .*refuses only locks shorter than 7 days below 90 days there/);
        assert.deepEqual(await messages("backup-job-role-no-destruction", [staging(), ...writer(["s3:PutObjectRetention", "s3:GetObject"])]), [], "PutObjectRetention alone extends locks only (shortening needs the bypass)");
        assert.deepEqual(await messages("backup-job-role-no-destruction", [staging(), ...writer(["s3:PutObject", "s3:PutObjectLegalHold"])]), [], "a legal hold adds to the retention; lifting one never shortens it");
        assert.deepEqual(await messages("backup-job-role-no-destruction", [staging(UNKNOWN as unknown as string), ...writer(["s3:PutObject", "s3:PutObjectRetention"])]), [], "unknown bucket policy: no verdict");
        // A floor written with NotPrincipal reaches the writer unless it names the writer (its session, role and account).
        const notPrincipalFloor = (spared: string) => JSON.stringify({ Statement: [database, clients].map((st) => ({ ...st, Principal: undefined, NotPrincipal: { AWS: [`arn:aws:sts::111111111111:assumed-role/${spared}/s`, `arn:aws:iam::111111111111:role/${spared}`, "arn:aws:iam::111111111111:root"] } })) });
        const [database, clients] = [floorStatements("acme-db-dumps", 30, "database/")[1], floorStatements("acme-db-dumps", 90, "clients/")[1]];
        assert.deepEqual(await messages("backup-job-role-no-destruction", [staging(notPrincipalFloor("dba")), ...writer(["s3:PutObject", "s3:PutObjectRetention"])]), [], "the NotPrincipal floor reaches the writer");
        const [spared] = await messages("backup-job-role-no-destruction", [staging(notPrincipalFloor("dump-writer")), ...writer(["s3:PutObject", "s3:PutObjectRetention"])]);
        assert.match(spared, /^dump-writer: .*s3:PutObjectRetention with s3:PutObject on s3:\/\/acme-db-dumps\/database\/ .*refuses none below 30 days there/, "the NotPrincipal floor spares the writer");
    });

    it("job roles: grants the role's own policies do not show count: an old PolicyAttachment, RolePolicyAttachmentsExclusive, a backup bucket's policy naming the role", async () => {
        const irsa = JSON.stringify({ Statement: [{ Effect: "Allow", Principal: { Federated: "arn:aws:iam::1:oidc-provider/x" }, Action: "sts:AssumeRoleWithWebIdentity" }] });
        const dumps = bucket("acme-db-dumps", { lifecycleRules: [{ enabled: true, prefix: "database/", expiration: { days: 30 } }] });
        const writer = [
            { type: "aws:iam/role:Role", name: "dump-writer", props: { name: "dump-writer", assumeRolePolicy: irsa } },
            { type: "aws:iam/rolePolicy:RolePolicy", name: "dump-writer", props: { role: "dump-writer", policy: JSON.stringify({ Statement: [{ Effect: "Allow", Action: "s3:PutObject", Resource: "arn:aws:s3:::acme-db-dumps/*" }] }) } },
        ];
        const housekeeping = { type: "aws:iam/policy:Policy", name: "housekeeping", props: { policy: JSON.stringify({ Statement: [{ Sid: "Tidy", Effect: "Allow", Action: "s3:PutLifecycleConfiguration", Resource: "arn:aws:s3:::acme-db-dumps" }] }) } };
        const deps = { policyArn: ["urn:pulumi:test::proj::aws:iam/policy:Policy::housekeeping"] };
        const [legacy, ...none] = await messages("backup-job-role-no-destruction", [dumps, ...writer, housekeeping, { type: "aws:iam/policyAttachment:PolicyAttachment", name: "attach", props: { policyArn: "arn:aws:iam::1:policy/housekeeping", roles: ["dump-writer"] }, propertyDependencies: deps }]);
        assert.deepEqual(none, []);
        assert.match(legacy, /^dump-writer: .* may s3:PutLifecycleConfiguration \(Policy housekeeping \(attached by attach\), statement Tidy\)/);
        const [exclusive] = await messages("backup-job-role-no-destruction", [dumps, ...writer, { type: "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive", name: "only", props: { roleName: "dump-writer", policyArns: ["arn:aws:iam::aws:policy/AmazonS3FullAccess"] } }]);
        assert.match(exclusive, /everything arn:aws:iam::aws:policy\/AmazonS3FullAccess grants \(attached\)/);
        const bucketPolicy = (principal: unknown, policy?: unknown) => ({
            type: "aws:s3/bucketPolicy:BucketPolicy",
            name: "dumps-policy",
            props: { bucket: "acme-db-dumps", policy: policy ?? JSON.stringify({ Statement: [{ Sid: "Cleanup", Effect: "Allow", Principal: { AWS: principal }, Action: ["s3:BypassGovernanceRetention", "s3:PutObject"], Resource: "arn:aws:s3:::acme-db-dumps/*" }] }) },
        });
        const [resourceBased] = await messages("backup-job-role-no-destruction", [dumps, ...writer, bucketPolicy("arn:aws:iam::111111111111:role/jobs/dump-writer")]);
        assert.match(resourceBased, /^dump-writer: .* may s3:BypassGovernanceRetention \(the bucket policy of acme-db-dumps \(BucketPolicy dumps-policy\), statement Cleanup\)/);
        assert.deepEqual(await messages("backup-job-role-no-destruction", [dumps, ...writer, bucketPolicy(["arn:aws:iam::111111111111:role/dba", "arn:aws:iam::111111111111:root"])]), [], "another role, the account");
        assert.deepEqual(await messages("backup-job-role-no-destruction", [dumps, ...writer, bucketPolicy(undefined, UNKNOWN)]), [], "an unknown bucket policy not built from the role: no verdict on it, the role still judged (nothing to find)");
        // Everyone of the account (aws:PrincipalAccount) or of the organization reaches the job role too; another account's principals do not.
        const toEveryone = (condition: unknown) => bucketPolicy(undefined, JSON.stringify({ Statement: [{ Sid: "AccountCleanup", Effect: "Allow", Principal: "*", Action: "s3:BypassGovernanceRetention", Resource: "arn:aws:s3:::acme-db-dumps/*", Condition: condition }] }));
        const sse = { type: "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", name: "dumps-sse", props: { bucket: "acme-db-dumps", rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: "arn:aws:kms:eu-west-1:111111111111:key/1" } }] } };
        const [account] = await messages("backup-job-role-no-destruction", [dumps, sse, ...writer, toEveryone({ StringEquals: { "aws:PrincipalAccount": "111111111111" } })]);
        assert.match(account, /^dump-writer: .* may s3:BypassGovernanceRetention \(the bucket policy of acme-db-dumps \(BucketPolicy dumps-policy\), statement AccountCleanup\)/);
        assert.equal((await messages("backup-job-role-no-destruction", [dumps, sse, ...writer, toEveryone({ StringEquals: { "aws:PrincipalOrgID": "o-abc123" } })])).length, 1);
        assert.deepEqual(await messages("backup-job-role-no-destruction", [dumps, sse, ...writer, toEveryone({ StringEquals: { "aws:PrincipalAccount": "999999999999" } })]), [], "another account's principals");
        assert.deepEqual(await messages("backup-job-role-no-destruction", [dumps, sse, ...writer, toEveryone({ ArnEquals: { "aws:PrincipalArn": "arn:aws:iam::111111111111:role/dba" } })]), [], "narrowed to another role");
        // EKS Pod Identity: the role trusts the pods.eks.amazonaws.com service (sts:AssumeRole + sts:TagSession), not a web identity.
        const podIdentity = JSON.stringify({ Statement: [{ Effect: "Allow", Principal: { Service: "pods.eks.amazonaws.com" }, Action: ["sts:AssumeRole", "sts:TagSession"] }] });
        const [pods] = await messages("backup-job-role-no-destruction", [dumps, { ...writer[0], props: { ...writer[0].props, assumeRolePolicy: podIdentity } }, writer[1], bucketPolicy("arn:aws:iam::111111111111:role/dump-writer")]);
        assert.match(pods, /^dump-writer: .* may s3:BypassGovernanceRetention/);
    });

    it("writers cannot decrypt: a foreign IRSA dump writer that reads the passphrase is named; a reader, staging and unknown resources are not", async () => {
        const irsa = JSON.stringify({ Statement: [{ Effect: "Allow", Principal: { Federated: "arn:aws:iam::1:oidc-provider/x" }, Action: "sts:AssumeRoleWithWebIdentity" }] });
        const role = (name: string, statements: unknown[], tags: Record<string, string> = PROD) => [
            { type: "aws:iam/role:Role", name, props: { name, assumeRolePolicy: irsa, tags } },
            { type: "aws:iam/rolePolicy:RolePolicy", name, props: { role: name, policy: JSON.stringify({ Statement: statements }) } },
        ];
        const put = { Sid: "Dumps", Effect: "Allow", Action: ["s3:PutObject"], Resource: "arn:aws:s3:::acme-db-dumps/*" };
        const read = (resource: unknown) => ({ Sid: "Secrets", Effect: "Allow", Action: "secretsmanager:GetSecretValue", Resource: resource });
        const dumps = bucket("acme-db-dumps", { lifecycleRules: [{ enabled: true, prefix: "database/", expiration: { days: 30 } }] });
        const passphrase = "arn:aws:secretsmanager:eu-west-1:111111111111:secret:acme/backup-passphrase-Xy12Ab";
        assert.deepEqual(await messages("backup-writer-cannot-decrypt", [dumps, ...role("dump-writer", [put, read([passphrase])])]), [
            `dump-writer: backup writer (s3:PutObject on backup storage) may read backup decryption material: secretsmanager:GetSecretValue on ${passphrase} (RolePolicy dump-writer, statement Secrets); a writer must not be able to decrypt what it wrote (encrypt to public keys, backupEncryption mode public-key, and keep the private keys in the vault account)`,
        ]);
        assert.deepEqual(await messages("backup-writer-cannot-decrypt", [dumps, ...role("dump-reader", [{ ...put, Action: "s3:GetObject" }, read([passphrase])])]), [], "a reader");
        assert.deepEqual(await messages("backup-writer-cannot-decrypt", [dumps, ...role("dump-writer", [put, read("arn:aws:secretsmanager:eu-west-1:111111111111:secret:acme/db-password-Xy12Ab")])]), [], "another secret");
        assert.deepEqual(await messages("backup-writer-cannot-decrypt", [dumps, ...role("dump-writer", [put, read([passphrase])], { environment: "staging" })]), [], "staging");
        assert.deepEqual(await messages("backup-writer-cannot-decrypt", [dumps, ...role("dump-writer", [put, read([UNKNOWN])])]), [], "unknown: no verdict");
        const [wildcard] = await messages("backup-writer-cannot-decrypt", [dumps, ...role("dump-writer", [put, read("*")])]);
        assert.match(wildcard, /^dump-writer: .*GetSecretValue on \*/);
    });

    it("writers cannot decrypt: an IAM user with the writer's permissions (its own policies or its groups') that can decrypt is judged like a role; a person (no backup bucket named), a reader, staging are not", async () => {
        const put = { Sid: "Dumps", Effect: "Allow", Action: ["s3:PutObject"], Resource: "arn:aws:s3:::acme-db-dumps/*" };
        const passphrase = "arn:aws:secretsmanager:eu-west-1:111111111111:secret:acme/backup-passphrase-Xy12Ab";
        const read = { Sid: "Secrets", Effect: "Allow", Action: "secretsmanager:GetSecretValue", Resource: passphrase };
        const dumps = bucket("acme-db-dumps", { lifecycleRules: [{ enabled: true, prefix: "database/", expiration: { days: 30 } }] });
        const user = (name: string, tags: Record<string, string> = {}) => ({ type: "aws:iam/user:User", name, props: { name, tags } });
        const userPolicy = (name: string, statements: unknown[]) => ({ type: "aws:iam/userPolicy:UserPolicy", name: `${name}-policy`, props: { user: name, policy: JSON.stringify({ Statement: statements }) } });
        const advice = "a writer must not be able to decrypt what it wrote (encrypt to public keys, backupEncryption mode public-key, and keep the private keys in the vault account)";
        // Its own policy: write and read (the bucket is production, the user untagged).
        assert.deepEqual(await messages("backup-writer-cannot-decrypt", [dumps, user("cron-dumper"), userPolicy("cron-dumper", [put, read])]), [
            `cron-dumper: backup writer user (its policies write to backup bucket acme-db-dumps) may read backup decryption material: secretsmanager:GetSecretValue on ${passphrase} (UserPolicy cron-dumper-policy, statement Secrets); ${advice}`,
        ]);
        // Through a group: GroupMembership + GroupPolicy (by name), UserGroupMembership + GroupPolicyAttachment of a Policy, PolicyAttachment groups.
        const group = { type: "aws:iam/group:Group", name: "dba", props: { name: "dba" } };
        const groupPolicy = { type: "aws:iam/groupPolicy:GroupPolicy", name: "dba-secrets", props: { group: "dba", policy: JSON.stringify({ Statement: [read] }) } };
        const membership = { type: "aws:iam/groupMembership:GroupMembership", name: "dba-members", props: { group: "dba", users: ["cron-dumper"] } };
        const [viaGroup] = await messages("backup-writer-cannot-decrypt", [dumps, user("cron-dumper"), userPolicy("cron-dumper", [put]), group, groupPolicy, membership]);
        assert.equal(viaGroup, `cron-dumper: backup writer user (its policies write to backup bucket acme-db-dumps) may read backup decryption material: secretsmanager:GetSecretValue on ${passphrase} (GroupPolicy dba-secrets (group dba), statement Secrets); ${advice}`);
        const policy = { type: "aws:iam/policy:Policy", name: "secrets-read", props: { name: "secrets-read", arn: "arn:aws:iam::111111111111:policy/secrets-read", policy: JSON.stringify({ Statement: [read] }) } };
        const userGroups = { type: "aws:iam/userGroupMembership:UserGroupMembership", name: "cron-dumper-groups", props: { user: "cron-dumper", groups: ["dba"] } };
        const groupAttachment = { type: "aws:iam/groupPolicyAttachment:GroupPolicyAttachment", name: "dba-attach", props: { group: "dba", policyArn: "arn:aws:iam::111111111111:policy/secrets-read" } };
        const [attached] = await messages("backup-writer-cannot-decrypt", [dumps, user("cron-dumper"), userPolicy("cron-dumper", [put]), group, policy, userGroups, groupAttachment]);
        assert.match(attached, /^cron-dumper: backup writer user .*GetSecretValue on .*backup-passphrase.* \(Policy secrets-read \(attached by dba-attach\), statement Secrets\)/);
        const legacyAttachment = { type: "aws:iam/policyAttachment:PolicyAttachment", name: "legacy", props: { groups: ["dba"], policyArn: "arn:aws:iam::111111111111:policy/secrets-read" } };
        assert.equal((await messages("backup-writer-cannot-decrypt", [dumps, user("cron-dumper"), userPolicy("cron-dumper", [put]), policy, membership, legacyAttachment])).length, 1, "PolicyAttachment groups");
        // The writer's grant itself through the group: the same.
        const groupWrites = { type: "aws:iam/groupPolicy:GroupPolicy", name: "dba-dumps", props: { group: "dba", policy: JSON.stringify({ Statement: [put, read] }) } };
        assert.equal((await messages("backup-writer-cannot-decrypt", [dumps, user("cron-dumper"), membership, groupWrites])).length, 1, "write and read through the group");
        // Not judged: a person (s3:PutObject only on *), a reader, a staging user and bucket, another group's policy.
        assert.deepEqual(await messages("backup-writer-cannot-decrypt", [dumps, user("alice"), userPolicy("alice", [{ ...put, Resource: "*" }, read])]), [], "a person");
        assert.deepEqual(await messages("backup-writer-cannot-decrypt", [dumps, user("reader"), userPolicy("reader", [{ ...put, Action: "s3:GetObject" }, read])]), [], "a reader");
        const stagingDumps = { ...dumps, props: { ...dumps.props, tags: { backup: "true", environment: "staging" } } };
        assert.deepEqual(await messages("backup-writer-cannot-decrypt", [stagingDumps, user("cron-dumper", { environment: "staging" }), userPolicy("cron-dumper", [put, read])]), [], "staging");
        assert.deepEqual(await messages("backup-writer-cannot-decrypt", [dumps, user("cron-dumper"), userPolicy("cron-dumper", [put]), group, groupPolicy, { ...membership, props: { group: "dba", users: ["someone-else"] } }]), [], "not a member");
        // backup-job-role-no-destruction reads the same groups: a member whose group may delete versions is reported.
        const deleteVersions = { type: "aws:iam/groupPolicy:GroupPolicy", name: "dba-cleanup", props: { group: "dba", policy: JSON.stringify({ Statement: [{ Sid: "Cleanup", Effect: "Allow", Action: "s3:DeleteObjectVersion", Resource: "arn:aws:s3:::acme-db-dumps/*" }] }) } };
        const [destroys] = await messages("backup-job-role-no-destruction", [dumps, user("cron-dumper"), userPolicy("cron-dumper", [put]), group, deleteVersions, membership]);
        assert.match(destroys, /^cron-dumper: backup writer user \(its policies write to backup bucket acme-db-dumps\) may s3:DeleteObjectVersion \(GroupPolicy dba-cleanup \(group dba\), statement Cleanup\)/);
    });

    it("writers cannot decrypt: a wildcard secret ARN that covers the passphrase is named (the program's own secret, or any secret); one that covers other secrets only is not", async () => {
        const irsa = JSON.stringify({ Statement: [{ Effect: "Allow", Principal: { Federated: "arn:aws:iam::1:oidc-provider/x" }, Action: "sts:AssumeRoleWithWebIdentity" }] });
        const writer = (resource: string) => [
            { type: "aws:iam/role:Role", name: "dump-writer", props: { name: "dump-writer", assumeRolePolicy: irsa, tags: PROD } },
            { type: "aws:iam/rolePolicy:RolePolicy", name: "dump-writer", props: { role: "dump-writer", policy: JSON.stringify({ Statement: [
                { Sid: "Dumps", Effect: "Allow", Action: ["s3:PutObject"], Resource: "arn:aws:s3:::acme-db-dumps/*" },
                { Sid: "Secrets", Effect: "Allow", Action: "secretsmanager:GetSecretValue", Resource: resource },
            ] }) } },
        ];
        const dumps = bucket("acme-db-dumps", { lifecycleRules: [{ enabled: true, prefix: "database/", expiration: { days: 30 } }] });
        const passphrase = { type: "aws:secretsmanager/secret:Secret", name: "acme/backup-passphrase", props: { name: "acme/backup-passphrase", arn: "arn:aws:secretsmanager:eu-west-1:111111111111:secret:acme/backup-passphrase-Xy12Ab", tags: PROD } };
        const [team] = await messages("backup-writer-cannot-decrypt", [dumps, passphrase, ...writer("arn:aws:secretsmanager:eu-west-1:111111111111:secret:acme/*")]);
        assert.match(team, /^dump-writer: .*GetSecretValue on arn:aws:secretsmanager:eu-west-1:111111111111:secret:acme\/\* \(covers acme\/backup-passphrase\) \(RolePolicy dump-writer, statement Secrets\)/);
        const [every] = await messages("backup-writer-cannot-decrypt", [dumps, ...writer("arn:aws:secretsmanager:*:*:secret:*")]);
        assert.match(every, /^dump-writer: .*GetSecretValue on arn:aws:secretsmanager:\*:\*:secret:\* \(RolePolicy/);
        assert.deepEqual(await messages("backup-writer-cannot-decrypt", [dumps, passphrase, ...writer("arn:aws:secretsmanager:eu-west-1:111111111111:secret:acme/db-*")]), [], "other secrets only");
    });

    it("copy outside the account (self): a bucket's inline replication into another account counts in both inline families; replicas owned by the source, or reached by production's delete markers, do not", async () => {
        const self = { config: { "backup-copy-outside-account": { replicationDeclaredBy: "self" } } };
        const run = async (resources: Parameters<typeof runStackPolicy>[1]) => (await runStackPolicy(policyOf("backup-copy-outside-account"), resources, self)).map((v) => v.message);
        const tags = { backup: "true", ...PROD, role: "primary" };
        const legacy = (owner: string) =>
            bucket("acme-backups", {
                tags,
                replicationConfiguration: { role: "arn:aws:iam::111111111111:role/r", rules: [{ id: "vault", status: "Enabled", filter: { prefix: "" }, destination: { bucket: "arn:aws:s3:::vault-copy", accountId: "999999999999", accessControlTranslation: { owner } } }] },
            });
        assert.deepEqual(await run([legacy("Destination")]), []);
        const [owned] = await run([legacy("Source")]);
        assert.match(owned, /^acme-backups: backup bucket has no Enabled replication rule into another account .*acme-backups rule vault replicates into account 999999999999 but leaves the replicas owned by the source account/);
        const v2 = {
            type: "aws:s3/bucketV2:BucketV2",
            name: "acme-backups",
            props: {
                bucket: "acme-backups",
                tags,
                replicationConfigurations: [{ role: "arn:aws:iam::111111111111:role/r", rules: [{ id: "vault", status: "Enabled", filters: [{ prefix: "" }], destinations: [{ bucket: "arn:aws:s3:::vault-copy", accountId: "999999999999", accessControlTranslations: [{ owner: "Destination" }] }] }] }],
            },
            providerRegion: "eu-west-1",
        };
        assert.deepEqual(await run([v2]), []);
        // A copy a production deletion reaches is no isolated copy: delete markers replicated (each family's
        // spelling), or a rule without a filter, which S3 reads as V1 and which replicates them.
        const rules = (rule: Record<string, unknown>) => ({ type: "aws:s3/bucketReplicationConfig:BucketReplicationConfig", name: "to-vault", props: { bucket: "acme-backups", role: "arn:aws:iam::111111111111:role/r", rules: [{ id: "vault", status: "Enabled", destination: { bucket: "arn:aws:s3:::vault-copy", account: "999999999999", accessControlTranslation: { owner: "Destination" } }, ...rule }] } });
        const plain = bucket("acme-backups", { tags });
        assert.deepEqual(await run([plain, rules({ filter: { prefix: "" }, deleteMarkerReplication: { status: "Disabled" } })]), []);
        const [markers] = await run([plain, rules({ filter: { prefix: "" }, deleteMarkerReplication: { status: "Enabled" } })]);
        assert.match(markers, /^acme-backups: backup bucket has no Enabled replication rule into another account .*\(to-vault rule vault replicates delete markers \(deleteMarkerReplication Enabled\) into account 999999999999: a deletion in production hides the copy there/);
        const [v1] = await run([plain, rules({ prefix: "" })]);
        assert.match(v1, /to-vault rule vault has no filter, so S3 reads it as a V1 rule, which replicates delete markers into account 999999999999/);
        const [legacyMarkers] = await run([bucket("acme-backups", { tags, replicationConfiguration: { role: "r", rules: [{ id: "vault", status: "Enabled", filter: { prefix: "" }, deleteMarkerReplicationStatus: "Enabled", destination: { bucket: "arn:aws:s3:::vault-copy", accountId: "999999999999", accessControlTranslation: { owner: "Destination" } } }] } })]);
        assert.match(legacyMarkers, /acme-backups rule vault replicates delete markers/);
        const [v2Markers] = await run([{ ...v2, props: { ...v2.props, replicationConfigurations: [{ role: "r", rules: [{ id: "vault", status: "Enabled", filters: [{ prefix: "" }], deleteMarkerReplicationStatus: "Enabled", destinations: [{ bucket: "arn:aws:s3:::vault-copy", accountId: "999999999999", accessControlTranslations: [{ owner: "Destination" }] }] }] }] } }]);
        assert.match(v2Markers, /acme-backups rule vault replicates delete markers/);
        const [v2NoFilter] = await run([{ ...v2, props: { ...v2.props, replicationConfigurations: [{ role: "r", rules: [{ id: "vault", status: "Enabled", destinations: [{ bucket: "arn:aws:s3:::vault-copy", accountId: "999999999999", accessControlTranslations: [{ owner: "Destination" }] }] }] }] } }]);
        assert.match(v2NoFilter, /acme-backups rule vault has no filter, so S3 reads it as a V1 rule/);
        // A copy's bucket open to every principal of the organization (which holds the production accounts) is within their reach.
        const vaultBucket = bucket("vault-copy", { tags: { backup: "true", ...PROD, role: "vault" } });
        const vaultSse = { type: "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", name: "vault-sse", props: { bucket: "vault-copy", rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: "arn:aws:kms:eu-west-1:999999999999:key/1" } }] } };
        const orgPolicy = { type: "aws:s3/bucketPolicy:BucketPolicy", name: "vault-copy-policy", props: { bucket: "vault-copy", policy: JSON.stringify({ Statement: [{ Sid: "OrgReplicates", Effect: "Allow", Principal: { AWS: "*" }, Action: ["s3:ReplicateObject", "s3:ReplicateDelete"], Resource: "arn:aws:s3:::vault-copy/*", Condition: { StringEquals: { "aws:PrincipalOrgID": "o-abc123" } } }] }) } };
        const [org] = await run([vaultBucket, vaultSse, orgPolicy]);
        assert.match(org, /^vault-copy: the bucket policy \(BucketPolicy vault-copy-policy, statement OrgReplicates\) allows every principal of organization o-abc123 \(its production accounts too\) s3:ReplicateDelete/);
        // No KMS key ARN tells the account here (SSE with an alias): the replication role's account is the source's.
        const [sameAccount] = await run([plain, rules({ filter: { prefix: "" }, deleteMarkerReplication: { status: "Disabled" }, destination: { bucket: "arn:aws:s3:::vault-copy", account: "111111111111", accessControlTranslation: { owner: "Destination" } } })]);
        assert.match(sameAccount, /to-vault rule vault replicates into 111111111111, a production account/);
    });

    it("copy outside the account: a production primary's RDS instance needs a cross-account AWS Backup copy of a plan that selects it, kept the database row's days", async () => {
        const db = { type: "aws:rds/instance:Instance", name: "orders-db", props: { identifier: "orders-db", kmsKeyId: "arn:aws:kms:eu-west-1:111111111111:key/1", tags: { ...PROD, role: "primary" } } };
        const plan = (vaultArn: string, deleteAfter?: number) => ({
            type: "aws:backup/plan:Plan",
            name: "orders",
            props: { rules: [{ ruleName: "daily", copyActions: [{ destinationVaultArn: vaultArn, ...(deleteAfter === undefined ? {} : { lifecycle: { deleteAfter } }) }] }] },
        });
        // The plan's one selection picks the database by its ARN.
        const selection = { type: "aws:backup/selection:Selection", name: "orders", props: { resources: ["arn:aws:rds:eu-west-1:111111111111:db:orders-db"] } };
        const [missing] = await messages("backup-copy-outside-account", [db]);
        assert.match(missing, /^orders-db: production database has no copy outside the production account/);
        const [same] = await messages("backup-copy-outside-account", [db, plan("arn:aws:backup:eu-west-1:111111111111:backup-vault:copy"), selection]);
        assert.match(same, /stays in 111111111111/);
        assert.deepEqual(await messages("backup-copy-outside-account", [db, plan("arn:aws:backup:eu-west-1:222222222222:backup-vault:isolated"), selection]), []);
        assert.deepEqual(await messages("backup-copy-outside-account", [db, plan("arn:aws:backup:eu-west-1:222222222222:backup-vault:isolated", 30), selection]), [], "copies kept the database row's 30 days");
        assert.deepEqual(await messages("backup-copy-outside-account", [db, plan(UNKNOWN), selection]), [], "unknown: no verdict");
        // A copy of what the plan backs up: with no selection picking the database, or kept a day, it is not the database's copy.
        const [unselected] = await messages("backup-copy-outside-account", [db, plan("arn:aws:backup:eu-west-1:222222222222:backup-vault:isolated")]);
        assert.match(unselected, /\(orders selects no database of the stack\)/);
        const [brief] = await messages("backup-copy-outside-account", [db, plan("arn:aws:backup:eu-west-1:222222222222:backup-vault:isolated", 1), selection]);
        assert.match(brief, /keeps its copies 1 day \(lifecycle.deleteAfter\), below the database row's 30 days/);
    });
});
