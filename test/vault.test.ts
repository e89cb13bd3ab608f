/**
 * Issue 23, items 1, 2 and 4 (the infrastructure): Object Lock on every backup bucket, the vault stack (a
 * third account), the replication and AWS Backup copies into it, and the deletion guards of secrets and keys.
 * The configuration refuses a lock below the table before any resource is declared, naming the key.
 */
import { strict as assert } from "assert";
import { ConfigError, parseStackConfig, StackConfig } from "../lib/config";
import { PlannedResource, PlanResult } from "offline-plan/model";
import { loadStackSettings } from "offline-plan/stack-settings";
import { lifecycleRules, rulesShorterThanLock } from "../components/backup-bucket";
import { TABLE_RETENTION } from "../lib/retention";
import { objectRetainDays } from "../lib/object-lock";
import { planBatchShared, props, REPO, resource, resourcesOfType } from "./support/plans";
import { planWith } from "./support/dr-plans";
import { buildTopology, pairStacks } from "../tools/report/topology";
import { vaultAcceptsWriters } from "../stacks/compose-storage";

const BREAK_GLASS = "arn:aws:iam::123456789012:role/oauth2-dr-break-glass";

function parse(stack: string, overrides: Record<string, string | null> = {}): StackConfig {
    const config: Record<string, string | undefined> = { ...loadStackSettings(REPO, stack).config };
    for (const [key, value] of Object.entries(overrides)) {
        config[key] = value ?? undefined;
    }
    return parseStackConfig((key) => config[key], stack);
}

function problem(stack: string, overrides: Record<string, string | null>, key: string): string {
    try {
        parse(stack, overrides);
    } catch (err) {
        assert.ok(err instanceof ConfigError, String(err));
        const line = err.problems.find((l) => l.startsWith(`${key}: `));
        assert.ok(line, `no problem for ${key}: ${err.problems.join("; ")}`);
        return line;
    }
    assert.fail(`${JSON.stringify(overrides)} was accepted`);
}

const lock = (value: object) => ({ "oauth2-dr:objectLock": JSON.stringify(value) });
const statementsOf = (policy: unknown): any[] => (typeof policy === "string" ? JSON.parse(policy) : policy as any).Statement;

describe("Object Lock and the vault: configuration", () => {
    it("defaults: COMPLIANCE for the database row's 30 days in production, GOVERNANCE elsewhere", () => {
        assert.deepEqual(parse("prod").objectLock, { mode: "COMPLIANCE", days: 30, secretRotationDays: 90 });
        assert.deepEqual(parse("prod", { "oauth2-dr:environment": "staging" }).objectLock, { mode: "GOVERNANCE", days: 30, secretRotationDays: 90 });
        // A raised database row raises the lock with it.
        assert.deepEqual(parse("prod", { "oauth2-dr:retention": JSON.stringify({ database: 35 }) }).objectLock, { mode: "COMPLIANCE", days: 35, secretRotationDays: 90 });
    });

    it("refuses a lock below the table, naming the key, the value and the row", () => {
        assert.match(problem("prod", lock({ days: 7 }), "oauth2-dr:objectLock.days"), /7 days is below the retention table's minimum of 30 days for Database \(PostgreSQL\)/);
        assert.match(problem("dr", lock({ days: 29 }), "oauth2-dr:objectLock.days"), /below the retention table's minimum of 30 days/);
        assert.match(problem("vault", lock({ days: 1 }), "oauth2-dr:objectLock.days"), /below/);
    });

    it("refuses GOVERNANCE in production, and a lock longer than the lifecycle rules keep versions", () => {
        assert.match(problem("prod", lock({ mode: "GOVERNANCE" }), "oauth2-dr:objectLock.mode"), /COMPLIANCE/);
        assert.match(problem("prod", lock({ days: 40 }), "oauth2-dr:objectLock.days"), /exceeds retention.database \(30 days\)/);
        assert.equal(parse("prod", { ...lock({ days: 35 }), "oauth2-dr:retention": JSON.stringify({ database: 35 }) }).objectLock.days, 35);
        assert.match(problem("prod", lock({ mode: "LEGAL" }), "oauth2-dr:objectLock.mode"), /COMPLIANCE, GOVERNANCE/);
        assert.match(problem("prod", lock({ days: 30, extra: 1 }), "oauth2-dr:objectLock.extra"), /unknown key/);
    });

    it("the vault stack: its account, the roles it accepts replicas from, nothing of a database", () => {
        const vault = parse("vault");
        assert.equal(vault.role, "vault");
        assert.equal(vault.vault?.accountId, "210987654321");
        assert.equal(vault.vault?.airGapped, true);
        assert.deepEqual(vault.objectLock, { mode: "COMPLIANCE", days: 30, secretRotationDays: 90 });
        assert.ok(vault.vault!.replicationRoleArns.length >= 2);
        assert.match(problem("vault", { "oauth2-dr:vault": JSON.stringify({ replicationRoleArns: ["arn:aws:iam::123456789012:role/r"] }) }, "oauth2-dr:vault.accountId"), /is required/);
        assert.match(problem("vault", { "oauth2-dr:vault": JSON.stringify({ accountId: "210987654321" }) }, "oauth2-dr:vault.replicationRoleArns"), /is required/);
        assert.match(problem("vault", { "oauth2-dr:vault": JSON.stringify({ accountId: "21098765432" }) }, "oauth2-dr:vault.accountId"), /12-digit/);
        assert.match(problem("prod", { "oauth2-dr:vaultStack": "organization/oauth2-dr/prod" }, "oauth2-dr:vaultStack"), /is this stack/);
        assert.match(problem("prod", { "oauth2-dr:breakGlassRoleArn": "oauth2-dr-break-glass" }, "oauth2-dr:breakGlassRoleArn"), /not an IAM role ARN/);
    });

    it("lifecycle rules never expire a version the lock holds", () => {
        assert.deepEqual(rulesShorterThanLock(TABLE_RETENTION, 30), []);
        assert.deepEqual(rulesShorterThanLock(TABLE_RETENTION, 31), ["database-retention (30 days < lock 31 days)"]);
        const secrets = (lifecycleRules(TABLE_RETENTION, 45) as any[]).find((r) => r.id === "secrets-retention");
        assert.equal(secrets.noncurrentVersionExpiration.noncurrentDays, 45);
    });

    it("each object's retention by data class: the row's days, secrets long enough for 7 rotations", () => {
        assert.deepEqual(objectRetainDays(TABLE_RETENTION, 30, 90), { database: 30, clients: 90, config: 90, audit: 365, secrets: 630 });
        assert.deepEqual(objectRetainDays({ ...TABLE_RETENTION, secrets: 10, clients: 120 }, 35, 30), { database: 35, clients: 120, config: 90, audit: 365, secrets: 300 });
        assert.match(problem("prod", lock({ secretRotationDays: 0 }), "oauth2-dr:objectLock.secretRotationDays"), /./);
    });

    it("stops the program before any resource is declared", async () => {
        await assert.rejects(planWith("prod", lock({ days: 7 })), /oauth2-dr:objectLock.days: 7 days is below the retention table's minimum/);
    });
});

describe("Object Lock and the vault: plans", function () {
    this.timeout(120_000);
    let vault: PlanResult;
    let prod: PlanResult;
    let dr: PlanResult;
    let prodGcp: PlanResult;
    before(async () => {
        vault = await planWith("vault");
        prod = await planWith("prod", {}, { vault });
        dr = await planWith("dr", {}, { prod, vault });
        prodGcp = await planWith("prod-gcp", {}, { vault });
    });

    const lockOf = (plan: PlanResult, bucket: string) => props(resource(plan, "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration", `${bucket}-object-lock`));

    it("prod's writers lock each object for their class's days (secrets: 7 versions x 90-day rotation)", () => {
        const env = (job: string) => Object.fromEntries((props(resource(prod, "kubernetes:batch/v1:CronJob", `backup-jobs-${job}`)).spec.jobTemplate.spec.template.spec.containers[0].env as Array<{ name: string; value: string }>).map((e) => [e.name, e.value]));
        assert.equal(env("db-backup").OBJECT_LOCK_RETAIN_DAYS, "30");
        assert.equal(env("secrets-export").OBJECT_LOCK_RETAIN_DAYS, "630");
        assert.equal(env("app-config-export").OBJECT_LOCK_MODE, "COMPLIANCE");
    });

    it("every backup bucket gets Object Lock through its own resource, after versioning, never through the bucket", () => {
        for (const [plan, bucket] of [[prod, "oauth2-backups-prod"], [dr, "oauth2-backups-dr"], [vault, "oauth2-backups-vault"], [prodGcp, "oauth2-backups-prod-gcp"]] as const) {
            const configuration = lockOf(plan, bucket);
            assert.equal(configuration.bucket, bucket);
            assert.equal(configuration.objectLockEnabled, "Enabled");
            assert.deepEqual(configuration.rule, { defaultRetention: { mode: "COMPLIANCE", days: 30 } }, plan.stack);
            const declared = resource(plan, "aws:s3/bucket:Bucket", bucket);
            // Bucket.objectLockEnabled replaces the bucket: it must stay unset on the protected buckets.
            assert.equal(props(declared).objectLockEnabled, undefined);
            assert.equal(declared.protect, true);
            const versioning = resource(plan, "aws:s3/bucketVersioning:BucketVersioning", `${bucket}-versioning`);
            assert.ok(resource(plan, "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration", `${bucket}-object-lock`).dependencies.includes(versioning.urn));
        }
    });

    it("a staging stack locks in GOVERNANCE", async () => {
        const staging = await planWith("prod", { "oauth2-dr:environment": "staging", "oauth2-dr:alarmTopicArn": null });
        assert.equal(lockOf(staging, "oauth2-backups-prod").rule.defaultRetention.mode, "GOVERNANCE");
    });

    it("the vault's second-region bucket, key and replication name the provider's region (S3 needs the replica key in the destination's region)", () => {
        const sse = props(resource(vault, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "oauth2-backups-vault-us-west-2-sse")) as any;
        assert.match(sse.rules[0].applyServerSideEncryptionByDefault.kmsMasterKeyId, /^arn:aws:kms:us-west-2:210987654321:key\//);
        const replication = props(resource(vault, "aws:s3/bucketReplicationConfig:BucketReplicationConfig", "vault-region-replication-config")) as any;
        assert.match(replication.rules[0].destination.encryptionConfiguration.replicaKmsKeyId, /^arn:aws:kms:us-west-2:210987654321:key\//);
        const deny = statementsOf(props(resource(vault, "aws:s3/bucketPolicy:BucketPolicy", "oauth2-backups-vault-us-west-2-policy")).policy).find((st) => st.Sid === "DenyOtherKmsKeys");
        assert.match(deny.Condition.StringNotEqualsIfExists["s3:x-amz-server-side-encryption-aws-kms-key-id"], /^arn:aws:kms:us-west-2:/);
    });

    it("the vault: its own provider refusing other accounts, a bucket only prod's and dr's replication roles write, an air-gapped vault", () => {
        const provider = resourcesOfType(vault, "pulumi:providers:aws").find((p) => p.name === "vault-account")!;
        assert.deepEqual(JSON.parse(props(provider).allowedAccountIds), ["210987654321"]);
        const lockedResources = vault.resources.filter((r) => r.custom && !r.type.startsWith("pulumi:providers:"));
        assert.ok(lockedResources.every((r) => r.provider?.includes("vault-account")), "every vault resource uses the vault account's provider");
        const statements = statementsOf(props(resource(vault, "aws:s3/bucketPolicy:BucketPolicy", "oauth2-backups-vault-policy")).policy);
        const roles = parse("vault").vault!.replicationRoleArns;
        const allow = statements.find((s) => s.Sid === "ReplicasFromProductionReplicationRoles");
        // The roles in a condition, their account as principal: S3 and KMS refuse a Principal naming a role that
        // does not exist yet, and the standbys create theirs after the vault is deployed.
        assert.deepEqual(allow.Principal.AWS, ["arn:aws:iam::123456789012:root"]);
        assert.deepEqual(allow.Condition.ArnEquals["aws:PrincipalArn"], roles);
        const principals = statements.flatMap((s) => (s.Principal === "*" ? ["*"] : [s.Principal.AWS].flat()));
        assert.deepEqual(principals.filter((p: string) => p !== "*" && !/:root$/.test(p)), [], "no role ARN as a principal");
        assert.ok(allow.Action.includes("s3:ObjectOwnerOverrideToBucketOwner"));
        const deny = statements.find((s) => s.Sid === "DenyWritesFromAnyoneElse");
        assert.deepEqual(deny.Condition.ArnNotEquals["aws:PrincipalArn"], roles);
        assert.ok(statements.find((s) => s.Sid === "DenyVersionDeletion").Action.includes("s3:DeleteObjectVersion"));
        const keyStatements = statementsOf(props(resource(vault, "aws:kms/key:Key", "oauth2-backups-vault")).policy);
        assert.deepEqual(keyStatements.find((s) => s.Sid === "ReplicationRolesEncrypt").Principal.AWS, ["arn:aws:iam::123456789012:root"]);
        assert.deepEqual(keyStatements.find((s) => s.Sid === "ReplicationRolesEncrypt").Condition.ArnEquals["aws:PrincipalArn"], roles);
        const airGapped = props(resource(vault, "aws:backup/logicallyAirGappedVault:LogicallyAirGappedVault", "oauth2-dr-isolated"));
        assert.equal(airGapped.minRetentionDays, 30);
        const vaultPolicy = statementsOf(props(resource(vault, "aws:backup/vaultPolicy:VaultPolicy", "oauth2-dr-isolated-policy")).policy);
        assert.deepEqual(vaultPolicy.find((s) => s.Sid === "CopiesFromProduction").Principal.AWS, ["arn:aws:iam::123456789012:root"]);
        for (const key of ["vaultAccountId", "vaultBucketArn", "vaultBucketKmsKeyArn", "backupVaultArn", "privateKeysSecretArn", "region"]) {
            assert.ok(vault.outputs[key], `output ${key}`);
        }
    });

    it("the vault bucket is replicated into a locked bucket of the vault account's second region", () => {
        const copy = lockOf(vault, "oauth2-backups-vault-us-west-2");
        assert.deepEqual(copy.rule.defaultRetention, { mode: "COMPLIANCE", days: 30 });
        const replication = props(resource(vault, "aws:s3/bucketReplicationConfig:BucketReplicationConfig", "vault-region-replication-config"));
        assert.equal(replication.bucket, "oauth2-backups-vault");
        assert.equal(replication.rules[0].destination.bucket, "arn:aws:s3:::oauth2-backups-vault-us-west-2");
        const writers = statementsOf(props(resource(vault, "aws:s3/bucketPolicy:BucketPolicy", "oauth2-backups-vault-us-west-2-policy")).policy).find((s) => s.Sid === "DenyWritesFromAnyoneElse");
        assert.deepEqual(writers.Condition.ArnNotEquals["aws:PrincipalArn"], ["arn:aws:iam::210987654321:role/vault-region-replication-s3-replication"]);
    });

    it("the report draws the vault in its own column beside prod and dr, receiving the copies", () => {
        const groups = pairStacks([vault, prod, dr]);
        assert.deepEqual(groups.map((g) => g.map((p) => p.stack)), [["prod", "dr", "vault"]]);
        const topology = buildTopology(groups[0]);
        const column = topology.columns.findIndex((c) => c.stack === "vault");
        assert.equal(topology.columns[column].role, "vault");
        const nodeOf = (title: string) => topology.nodes.find((n) => n.title === title)!;
        for (const title of ["AWS Backup vault oauth2-dr-isolated", "S3 oauth2-backups-vault", "S3 oauth2-backups-vault-us-west-2"]) {
            assert.equal(nodeOf(title)?.column, column, title);
        }
        assert.ok(nodeOf("S3 oauth2-backups-prod").lines.includes("Object Lock COMPLIANCE 30 days"));
        const into = (title: string) => topology.edges.filter((e) => e.to === nodeOf(title).id).map((e) => e.label);
        assert.ok(into("AWS Backup vault oauth2-dr-isolated").includes("AWS Backup copy, 30 days"));
        // prod's backups and dr's, prod's audit archive and dr's.
        assert.deepEqual(into("S3 oauth2-backups-vault"), Array(4).fill("cross-account S3 replication"));
        assert.ok(nodeOf("S3 oauth2-audit-prod").lines.includes("Object Lock COMPLIANCE 365 days"));
    });

    it("the vault without air-gapped vaults: a vault with its own key and a compliance vault lock", async () => {
        const locked = await planWith("vault", { "oauth2-dr:vault": JSON.stringify({ ...JSON.parse(loadStackSettings(REPO, "vault").config["oauth2-dr:vault"]), airGapped: false }) });
        assert.equal(resourcesOfType(locked, "aws:backup/logicallyAirGappedVault:LogicallyAirGappedVault").length, 0);
        assert.equal(props(resource(locked, "aws:backup/vaultLockConfiguration:VaultLockConfiguration", "oauth2-dr-isolated")).minRetentionDays, 30);
    });

    it("dr replicates prod's bucket and its own into the vault: with the lock, owned by the vault account, no delete markers", () => {
        const replicationOf = (name: string) => props(resource(dr, "aws:s3/bucketReplicationConfig:BucketReplicationConfig", name));
        const prodBucket = replicationOf("backup-replication-config");
        assert.equal(prodBucket.bucket, "oauth2-backups-prod");
        assert.deepEqual(prodBucket.rules.map((r: any) => r.id), ["backups-to-dr-region", "backups-to-vault-account"]);
        const drBucket = replicationOf("vault-replication-config");
        assert.equal(drBucket.bucket, "oauth2-backups-dr");
        for (const rule of [prodBucket.rules[1], drBucket.rules[0]]) {
            assert.equal(rule.destination.bucket, vault.outputs.vaultBucketArn);
            assert.equal(rule.destination.account, "210987654321");
            assert.deepEqual(rule.destination.accessControlTranslation, { owner: "Destination" });
            assert.equal(rule.destination.encryptionConfiguration.replicaKmsKeyId, vault.outputs.vaultBucketKmsKeyArn);
            assert.equal(rule.deleteMarkerReplication.status, "Disabled");
        }
        // Every replication role dr declares is one the vault accepts (dr-azure's and dr-gcp's: test/vault-accounts.test.ts).
        const accepted = parse("vault").vault!.replicationRoleArns.map((arn) => arn.split("/").pop());
        const roleNames = resourcesOfType(dr, "aws:iam/role:Role").map((r) => props(r).name as string).filter((n) => n?.endsWith("-s3-replication"));
        assert.deepEqual(roleNames.sort(), ["audit-replication-dr-s3-replication", "backup-replication-s3-replication", "vault-audit-replication-dr-s3-replication", "vault-replication-s3-replication"]);
        for (const name of roleNames) {
            assert.ok(accepted.includes(name), `the vault accepts ${name}, which dr declares`);
        }
        const policy = statementsOf(props(resource(dr, "aws:iam/rolePolicy:RolePolicy", "backup-replication-policy")).policy);
        const actions = policy.flatMap((s) => [s.Action].flat());
        for (const action of ["s3:GetObjectRetention", "s3:GetObjectLegalHold", "s3:ObjectOwnerOverrideToBucketOwner"]) {
            assert.ok(actions.includes(action), action);
        }
    });

    it("a standby whose replication roles the vault does not accept stops its plan (full and preview), naming the missing roles; dr, whose roles are listed, plans", async function () {
        this.timeout(300_000);
        // The vault publishes the writers its bucket accepts (vault.replicationRoleArns, comma-separated).
        assert.deepEqual((vault.outputs.replicationRoleArns as string).split(","), parse("vault").vault!.replicationRoleArns);
        assert.ok(resourcesOfType(dr, "aws:s3/bucketReplicationConfig:BucketReplicationConfig").length >= 4, "dr planned with the vault's list");
        // A vault that lists neither of dr's audit-archive roles: every copy of them would be refused.
        const partial = structuredClone(vault);
        (partial.outputs as Record<string, unknown>).replicationRoleArns = (vault.outputs.replicationRoleArns as string).split(",").filter((arn) => !arn.includes("audit-replication-dr-")).join(",");
        const refused = /the vault stack organization\/oauth2-dr\/vault does not accept this stack's replication into its bucket .*add arn:aws:iam::123456789012:role\/audit-replication-dr-s3-replication, arn:aws:iam::123456789012:role\/vault-audit-replication-dr-s3-replication to the vault stack's vault.replicationRoleArns and deploy the vault before this stack \(it lists 6 roles\)/;
        await assert.rejects(planWith("dr", {}, { prod, vault: partial }), refused);
        await assert.rejects(
            planBatchShared({ programDir: REPO, stacks: ["dr"], preview: true, stackReferences: { "organization/oauth2-dr/prod": prod.outputs, "organization/oauth2-dr/vault": partial.outputs } }).then(([r]) => r),
            refused,
        );
        // A vault deployed before it published the list (its outputs known, that one absent) stops the plan too,
        // naming the output and the fix: never a pass without a word (h32). A list output is read as the string.
        const unpublished = structuredClone(vault);
        delete (unpublished.outputs as Record<string, unknown>).replicationRoleArns;
        const notPublished = /the vault stack organization\/oauth2-dr\/vault does not publish its output replicationRoleArns .*arn:aws:iam::123456789012:role\/backup-replication-s3-replication.* run `pulumi up` on the vault stack organization\/oauth2-dr\/vault first .*then this stack/;
        await assert.rejects(planWith("dr", {}, { prod, vault: unpublished }), notPublished);
        const own = ["arn:aws:iam::1:role/a", "arn:aws:iam::1:role/b"];
        assert.throws(() => vaultAcceptsWriters(undefined, own, "o/p/vault"), /does not publish its output replicationRoleArns .*\(arn:aws:iam::1:role\/a, arn:aws:iam::1:role\/b\)/);
        assert.doesNotThrow(() => vaultAcceptsWriters(["arn:aws:iam::1:role/b", "arn:aws:iam::1:role/a"], own, "o/p/vault"));
        assert.throws(() => vaultAcceptsWriters("arn:aws:iam::1:role/a,arn:aws:iam::2:role/b", own, "o/p/vault"), /add arn:aws:iam::1:role\/b to the vault stack's vault.replicationRoleArns .*\(it lists 2 roles\)/);
        assert.throws(() => vaultAcceptsWriters("", own, "o/p/vault"), /add arn:aws:iam::1:role\/a, arn:aws:iam::1:role\/b .*\(it lists 0 roles\)/);
    });

    it("prod copies each daily recovery point into the vault account's vault, whose account may use the RDS key", () => {
        const plan = props(resource(prod, "aws:backup/plan:Plan", "aws-backup-plan"));
        const daily = plan.rules.find((r: any) => r.ruleName === "daily");
        assert.deepEqual(daily.copyActions.map((c: any) => c.destinationVaultArn).slice(1), [vault.outputs.backupVaultArn]);
        assert.equal(daily.copyActions[1].lifecycle.deleteAfter, 30);
        const rdsKey = statementsOf(props(resource(prod, "aws:kms/key:Key", "oauth2-postgres-storage")).policy);
        assert.equal(rdsKey.find((s) => s.Sid === "VaultAccountCopiesRecoveryPoints").Principal.AWS, "arn:aws:iam::210987654321:root");
    });

    it("deletion guards: every oauth2/* secret has a resource policy, every key a Deny, with the break-glass role the only exception", () => {
        for (const plan of [prod, prodGcp]) {
            const secrets = resourcesOfType(plan, "aws:secretsmanager/secret:Secret");
            const guards = resourcesOfType(plan, "aws:secretsmanager/secretPolicy:SecretPolicy");
            assert.equal(guards.length, secrets.length, plan.stack);
            for (const guard of guards) {
                const deny = statementsOf(props(guard).policy).find((s) => s.Effect === "Deny");
                assert.deepEqual(deny.Action.slice(0, 3), ["secretsmanager:DeleteSecret", "secretsmanager:RemoveRegionsFromReplication", "secretsmanager:PutResourcePolicy"]);
                assert.equal(deny.Condition.ArnNotEquals["aws:PrincipalArn"], BREAK_GLASS);
                assert.equal(props(guard).blockPublicPolicy, true);
            }
            for (const key of resourcesOfType(plan, "aws:kms/key:Key")) {
                const deny = statementsOf(props(key).policy).find((s) => s.Sid === "DenyKeyDeletionExceptBreakGlass");
                assert.ok(deny, `${plan.stack} ${key.name}`);
                assert.deepEqual(deny.Action, ["kms:ScheduleKeyDeletion", "kms:DisableKey"]);
                assert.equal(deny.Condition.ArnNotEquals["aws:PrincipalArn"], BREAK_GLASS);
            }
        }
    });

    it("without a break-glass role no guard is declared (the policy pack then refuses a production stack)", async () => {
        const unguarded = await planWith("prod", { "oauth2-dr:breakGlassRoleArn": null }, { vault });
        assert.equal(resourcesOfType(unguarded, "aws:secretsmanager/secretPolicy:SecretPolicy").length, 0);
        const keys: PlannedResource[] = resourcesOfType(unguarded, "aws:kms/key:Key");
        assert.ok(keys.every((k) => !statementsOf(props(k).policy).some((s) => s.Effect === "Deny")));
    });
});
