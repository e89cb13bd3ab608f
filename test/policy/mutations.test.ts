/**
 * The mutation suite: the compliant prod and dr plans (planned once), changed one way at a time in
 * memory, each change caught by the policy that owns it; the unchanged stacks have zero violations.
 */
import { strict as assert } from "assert";
import { checkPlan, StackCheck } from "../../tools/check/core";
import { PlannedResource, PlanResult, UNKNOWN } from "offline-plan/model";
import { find, plannedResource, planRepo, remove } from "../support/plans";

type Mutate = (plan: PlanResult) => void;

interface Mutation {
    name: string;
    stack: "prod" | "dr";
    policy: string;
    mutate: Mutate;
}

const T = {
    instance: "aws:rds/instance:Instance",
    versioning: "aws:s3/bucketVersioning:BucketVersioning",
    sse: "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    pab: "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    policy: "aws:s3/bucketPolicy:BucketPolicy",
    lifecycle: "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
    replication: "aws:s3/bucketReplicationConfig:BucketReplicationConfig",
    secret: "aws:secretsmanager/secret:Secret",
    logGroup: "aws:cloudwatch/logGroup:LogGroup",
    record: "aws:route53/record:Record",
    cronJob: "kubernetes:batch/v1:CronJob",
};

/** The backup bucket's lifecycle (the audit archive's bucket has its own, with the audit/ rule only). */
const backupsLifecycle = (r: PlannedResource) => String(r.inputs.bucket).startsWith("oauth2-backups-");

type Rule = { id: string; filter?: { prefix?: string }; expiration?: { days?: number }; noncurrentVersionExpiration?: Record<string, number>; status?: string };

function rule(plan: PlanResult, prefix: string): Rule {
    const rules = find(plan, T.lifecycle, backupsLifecycle).inputs.rules as Rule[];
    const found = rules.find((r) => r.filter?.prefix === prefix);
    assert.ok(found, `${plan.stack}: no lifecycle rule for ${prefix}`);
    return found;
}

/** Leaves the RDS instance the only proof of the database row (no AWS Backup plan, no database/ dumps rule). */
function dropOtherDatabaseEvidence(plan: PlanResult): void {
    remove(plan, "aws:backup/plan:Plan");
    const lifecycle = find(plan, T.lifecycle, backupsLifecycle);
    lifecycle.inputs.rules = (lifecycle.inputs.rules as Rule[]).filter((r) => r.filter?.prefix !== "database/");
}

const auditGroup = (r: PlannedResource) => String(r.inputs.name).includes("audit");
/** dr's replication of prod's bucket (dr also replicates its own bucket into the vault account). */
const fromProd = (r: PlannedResource) => r.inputs.bucket === "oauth2-backups-prod";
/** Removing the AWS Backup plan also removes the copy outside the account (issue 23's policy, not these tests' subject). */
const notIsolation = (v: { policy: string }) => v.policy !== "backup-copy-outside-account";

/**
 * The plan's own backup CronJob of a data class (components/backup-jobs.ts); a plan without one (a stack
 * with backupJobs disabled) gets a compliant one, so the CronJob policies are always exercised.
 */
function backupCronJob(plan: PlanResult, dataClass = "clients"): PlannedResource {
    const existing = plan.resources.find((r) => r.type === T.cronJob && (r.inputs.metadata as { labels?: Record<string, string> })?.labels?.["oauth2-dr/data-class"] === dataClass);
    if (existing) {
        return existing;
    }
    for (const [cls, schedule] of [["clients", "*/15 * * * *"], ["config", "*/30 * * * *"]]) {
        const name = `${cls}-export`;
        plan.resources.push(
            plannedResource(`urn:pulumi:${plan.stack}::${plan.project}::kubernetes:batch/v1:CronJob::${name}`, T.cronJob, name, {
                apiVersion: "batch/v1",
                kind: "CronJob",
                metadata: { name, namespace: "oauth2-system", labels: { "oauth2-dr/backup": "true", "oauth2-dr/data-class": cls } },
                spec: {
                    schedule,
                    concurrencyPolicy: "Forbid",
                    jobTemplate: {
                        spec: {
                            activeDeadlineSeconds: 900,
                            template: {
                                spec: {
                                    restartPolicy: "Never",
                                    securityContext: { runAsNonRoot: true, runAsUser: 10001 },
                                    containers: [{ name: "export", image: "ghcr.io/oauth2-dr/backup:1.0.0", resources: { limits: { cpu: "500m", memory: "256Mi" } } }],
                                },
                            },
                        },
                    },
                },
            }),
        );
    }
    return backupCronJob(plan, dataClass);
}

type CronSpec = { schedule: string; concurrencyPolicy?: string; jobTemplate: { spec: { activeDeadlineSeconds?: number; template: { spec: { securityContext?: Record<string, unknown>; containers: Array<Record<string, unknown>> } } } } };
const cronSpec = (plan: PlanResult) => backupCronJob(plan).inputs.spec as CronSpec;

const MUTATIONS: Mutation[] = [
    { name: "database retention 29 days", stack: "prod", policy: "rds-backup-retention", mutate: (p) => void (find(p, T.instance).inputs.backupRetentionPeriod = 29) },
    { name: "database retention unset (provider default)", stack: "prod", policy: "rds-backup-retention", mutate: (p) => void delete find(p, T.instance).inputs.backupRetentionPeriod },
    { name: "replica retention 29 days", stack: "dr", policy: "rds-backup-retention", mutate: (p) => void (find(p, T.instance).inputs.backupRetentionPeriod = 29) },
    { name: "AWS Backup rule deleting after 7 days", stack: "prod", policy: "aws-backup-plan-retention", mutate: (p) => void ((find(p, "aws:backup/plan:Plan").inputs.rules as Array<{ lifecycle: { deleteAfter?: number } }>)[0].lifecycle.deleteAfter = 7) },
    { name: "database encryption off", stack: "prod", policy: "rds-storage-encrypted", mutate: (p) => void (find(p, T.instance).inputs.storageEncrypted = false) },
    { name: "replica encryption off, no key", stack: "dr", policy: "rds-storage-encrypted", mutate: (p) => { const r = find(p, T.instance); r.inputs.storageEncrypted = false; delete r.inputs.kmsKeyId; } },
    { name: "no deletion protection", stack: "prod", policy: "rds-deletion-protection", mutate: (p) => void (find(p, T.instance).inputs.deletionProtection = false) },
    { name: "skipFinalSnapshot", stack: "prod", policy: "rds-final-snapshot", mutate: (p) => void (find(p, T.instance).inputs.skipFinalSnapshot = true) },
    { name: "multiAz false in production", stack: "prod", policy: "rds-multi-az", mutate: (p) => void (find(p, T.instance).inputs.multiAz = false) },
    { name: "versioning off (Suspended)", stack: "prod", policy: "s3-backup-versioning", mutate: (p) => void (find(p, T.versioning).inputs.versioningConfiguration = { status: "Suspended" }) },
    { name: "versioning resource removed", stack: "dr", policy: "s3-backup-bucket-baseline", mutate: (p) => remove(p, T.versioning) },
    { name: "removed KMS key on SSE", stack: "prod", policy: "s3-backup-encryption", mutate: (p) => void delete (find(p, T.sse).inputs.rules as Array<{ applyServerSideEncryptionByDefault: Record<string, unknown> }>)[0].applyServerSideEncryptionByDefault.kmsMasterKeyId },
    { name: "public access block off", stack: "prod", policy: "s3-backup-public-access-block", mutate: (p) => void (find(p, T.pab).inputs.blockPublicPolicy = false) },
    { name: "no TLS policy (BucketPolicy removed)", stack: "prod", policy: "s3-backup-bucket-baseline", mutate: (p) => remove(p, T.policy) },
    { name: "TLS deny statement dropped from the policy", stack: "dr", policy: "s3-backup-tls-only", mutate: (p) => { const r = find(p, T.policy); const doc = JSON.parse(String(r.inputs.policy)); doc.Statement = doc.Statement.filter((s: { Sid?: string }) => s.Sid !== "DenyInsecureTransport"); r.inputs.policy = JSON.stringify(doc); } },
    { name: "clients/ expiring at 89 days", stack: "prod", policy: "s3-backup-lifecycle-retention", mutate: (p) => void (rule(p, "clients/").expiration = { days: 89 }) },
    { name: "6 secret versions", stack: "prod", policy: "s3-backup-lifecycle-retention", mutate: (p) => void (rule(p, "secrets/").noncurrentVersionExpiration!.newerNoncurrentVersions = 5) },
    { name: "audit prefix rule 300 days", stack: "dr", policy: "s3-backup-lifecycle-retention", mutate: (p) => void (rule(p, "audit/").expiration = { days: 300 }) },
    // Not database/ (h39): the bucket's 30-day COMPLIANCE Object Lock keeps each version 30 days whatever the rule says, so a
    // 10-day noncurrent expiry there breaks no row (s3-backup-object-lock reports the rule fighting the lock); config/ it does.
    { name: "config/ noncurrent 10 days (the COMPLIANCE lock defers it to 30, below 90)", stack: "prod", policy: "s3-backup-lifecycle-retention", mutate: (p) => void (rule(p, "config/").noncurrentVersionExpiration = { noncurrentDays: 10 }) },
    { name: "an extra rule deleting config/ after 30 days", stack: "prod", policy: "s3-backup-lifecycle-retention", mutate: (p) => void (find(p, T.lifecycle, backupsLifecycle).inputs.rules as Rule[]).push({ id: "tmp", status: "Enabled", filter: { prefix: "config/tmp/" }, expiration: { days: 30 } }) },
    { name: "lifecycle configuration removed (no retention declared)", stack: "prod", policy: "retention-table-coverage", mutate: (p) => remove(p, T.lifecycle) },
    { name: "no replicas on a secret", stack: "prod", policy: "secretsmanager-critical-replica", mutate: (p) => void delete find(p, T.secret).inputs.replicas },
    { name: "secret recovery window 0", stack: "prod", policy: "secretsmanager-recovery-window", mutate: (p) => void (find(p, T.secret).inputs.recoveryWindowInDays = 0) },
    { name: "secret without customer-managed key", stack: "prod", policy: "secretsmanager-customer-managed-key", mutate: (p) => void delete find(p, T.secret).inputs.kmsKeyId },
    { name: "audit log retention 364", stack: "prod", policy: "cloudwatch-audit-log-retention", mutate: (p) => void (find(p, T.logGroup, auditGroup).inputs.retentionInDays = 364) },
    { name: "audit log group without KMS key", stack: "dr", policy: "cloudwatch-audit-log-kms", mutate: (p) => void delete find(p, T.logGroup, auditGroup).inputs.kmsKeyId },
    { name: "no audit evidence at all (log groups and audit/ rules removed)", stack: "prod", policy: "retention-table-coverage", mutate: (p) => {
        remove(p, T.logGroup);
        for (const lifecycle of p.resources.filter((r) => r.type === T.lifecycle)) {
            lifecycle.inputs.rules = (lifecycle.inputs.rules as Rule[]).filter((r) => r.filter?.prefix !== "audit/");
        }
    } },
    { name: "no health check on the PRIMARY record", stack: "prod", policy: "route53-failover-health-check", mutate: (p) => void delete find(p, T.record).inputs.healthCheckId },
    { name: "no PRIMARY record", stack: "prod", policy: "dr-failover-topology", mutate: (p) => remove(p, T.record) },
    { name: "no SECONDARY record", stack: "dr", policy: "dr-failover-topology", mutate: (p) => remove(p, T.record) },
    { name: "no replica (replicateSourceDb removed)", stack: "dr", policy: "dr-failover-topology", mutate: (p) => void delete find(p, T.instance).inputs.replicateSourceDb },
    { name: "replica source in the same region", stack: "dr", policy: "dr-failover-topology", mutate: (p) => void (find(p, T.instance).inputs.replicateSourceDb = "arn:aws:rds:us-west-2:123456789012:db:oauth2-postgres") },
    { name: "no replication config", stack: "dr", policy: "s3-backup-replication", mutate: (p) => remove(p, T.replication) },
    { name: "replication rule disabled", stack: "dr", policy: "s3-backup-replication", mutate: (p) => void ((find(p, T.replication, fromProd).inputs.rules as Rule[])[0].status = "Disabled") },
    { name: "replication within one region", stack: "dr", policy: "s3-backup-replication", mutate: (p) => void (find(p, T.replication, fromProd).inputs.region = "us-west-2") },
    { name: "CronJob without Forbid", stack: "prod", policy: "k8s-backup-cronjob-concurrency", mutate: (p) => void (cronSpec(p).concurrencyPolicy = "Allow") },
    { name: "CronJob without limits", stack: "prod", policy: "k8s-backup-cronjob-resource-limits", mutate: (p) => void delete cronSpec(p).jobTemplate.spec.template.spec.containers[0].resources },
    { name: "CronJob running as root", stack: "prod", policy: "k8s-backup-cronjob-non-root", mutate: (p) => void (cronSpec(p).jobTemplate.spec.template.spec.securityContext = { runAsUser: 0 }) },
    { name: "CronJob schedule too rare", stack: "prod", policy: "k8s-backup-cronjob-schedule", mutate: (p) => void (cronSpec(p).schedule = "0 */6 * * *") },
    { name: "CronJob without deadline", stack: "dr", policy: "k8s-backup-cronjob-deadline", mutate: (p) => void delete cronSpec(p).jobTemplate.spec.activeDeadlineSeconds },
    { name: "no clients/ backup CronJob in a stack with CronJobs", stack: "prod", policy: "retention-table-coverage", mutate: (p) => { backupCronJob(p); p.resources = p.resources.filter((r) => r.name !== "clients-export" && !(r.type === T.cronJob && JSON.stringify(r.inputs.metadata).includes('"oauth2-dr/data-class":"clients"'))); } },
];

describe("policy mutation suite (compliant prod and dr plans, one change at a time)", () => {
    const plans: Record<string, PlanResult> = {};

    before(async function () {
        this.timeout(180000);
        // Each mutation changes its own copy (structuredClone below); these are shared with other files.
        for (const plan of await planRepo(["prod", "dr"])) {
            plans[plan.stack] = plan;
        }
    });

    const mandatory = (check: StackCheck) => check.violations.filter((v) => v.enforcementLevel === "mandatory");

    for (const stack of ["prod", "dr"]) {
        it(`the compliant ${stack} stack has zero violations and every retention row met`, async () => {
            const check = await checkPlan(plans[stack]);
            assert.deepEqual(check.violations, []);
            assert.deepEqual(check.retention.map((r) => [r.dataClass, r.status]), check.retention.map((r) => [r.dataClass, "met"]));
            for (const row of check.retention) {
                assert.ok(row.evidence.length > 0, `${stack}: ${row.dataClass} has no evidence`);
            }
        });

        it(`the compliant ${stack} stack with backup CronJobs has zero violations`, async () => {
            const plan = structuredClone(plans[stack]);
            backupCronJob(plan);
            assert.deepEqual((await checkPlan(plan)).violations, []);
        });
    }

    it("has at least 25 mutations", () => {
        assert.ok(MUTATIONS.length >= 25, String(MUTATIONS.length));
    });

    for (const mutation of MUTATIONS) {
        it(`${mutation.stack}: ${mutation.name} -> ${mutation.policy}`, async () => {
            const plan = structuredClone(plans[mutation.stack]);
            mutation.mutate(plan);
            const violations = mandatory(await checkPlan(plan));
            const caught = violations.filter((v) => v.policy === mutation.policy);
            assert.ok(caught.length > 0, `not caught by ${mutation.policy}; violations: ${JSON.stringify(violations.map((v) => `${v.policy}: ${v.message}`), null, 1)}`);
            for (const v of caught) {
                assert.ok(v.message.length > 20 && /requires|not met/.test(v.message), v.message);
            }
        });
    }

    it("a waiver in policy config turns a missing row into a printed, waived row", async () => {
        const plan = structuredClone(plans.prod);
        remove(plan, T.lifecycle);
        const reason = "client configurations are exported by the platform team's pipeline";
        const waiver = (row: string) => ({ row, reason, approvedBy: "head-of-platform@acme.example" });
        const config = { "oauth2-dr-settings": { waivers: [waiver("clients"), waiver("config")] } };
        const check = await checkPlan(plan, { config });
        const clients = check.retention.find((r) => r.dataClass === "clients")!;
        assert.equal(clients.status, "waived");
        assert.equal(clients.waiver, `retention row "Client configurations" (clients) need not be proven: ${reason} (approved by head-of-platform@acme.example)`);
        assert.equal(check.waivers.length, 2);
        assert.deepEqual(check.violations.filter((v) => v.policy === "retention-table-coverage"), []);
        // The engine shows each waiver as an advisory note of oauth2-dr-settings.
        assert.deepEqual(check.violations.filter((v) => v.policy === "oauth2-dr-settings").map((v) => v.enforcementLevel), ["advisory", "advisory"]);
    });

    it("a waiver with a value lowers a row for every policy that judges it, and says so", async () => {
        const plan = structuredClone(plans.prod);
        find(plan, T.instance).inputs.backupRetentionPeriod = 14;
        dropOtherDatabaseEvidence(plan);
        assert.deepEqual([...new Set(mandatory(await checkPlan(plan)).filter(notIsolation).map((v) => v.policy))].sort(), ["retention-table-coverage", "rds-backup-retention"].sort());
        const config = { "oauth2-dr-settings": { waivers: [{ row: "database", value: 14, reason: "migration window, until 2027-01-31", approvedBy: "cto@acme.example" }] } };
        const check = await checkPlan(plan, { config });
        assert.deepEqual(mandatory(check).filter(notIsolation), []);
        const database = check.retention.find((r) => r.dataClass === "database")!;
        assert.equal(database.status, "met");
        assert.equal(database.required, "14 days");
        assert.match(database.waiver ?? "", /lowered from 30 days to 14 days: migration window, until 2027-01-31 \(approved by cto@acme.example\)/);
    });

    it("advisory in policy config keeps the violation but not as mandatory", async () => {
        const plan = structuredClone(plans.prod);
        find(plan, T.instance).inputs.backupRetentionPeriod = 7;
        dropOtherDatabaseEvidence(plan);
        const check = await checkPlan(plan, { config: { "rds-backup-retention": "advisory", "retention-table-coverage": { enforcementLevel: "advisory" } } });
        assert.deepEqual(mandatory(check).filter(notIsolation), []);
        assert.deepEqual([...new Set(check.violations.filter(notIsolation).map((v) => v.policy))].sort(), ["rds-backup-retention", "retention-table-coverage"]);
    });

    it("unknown values never crash a policy: every top-level input, then every leaf, unknown", async () => {
        const everyTopLevel = (plan: PlanResult) => plan.resources.forEach((r) => Object.keys(r.inputs).forEach((k) => (r.inputs[k] = UNKNOWN)));
        const leaves = (value: unknown): unknown =>
            Array.isArray(value) ? value.map(leaves) : value && typeof value === "object" ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, leaves(v)])) : UNKNOWN;
        const everyLeaf = (plan: PlanResult) => plan.resources.forEach((r) => (r.inputs = leaves(r.inputs) as Record<string, unknown>));
        for (const stack of ["prod", "dr"]) {
            for (const make of [everyTopLevel, everyLeaf]) {
                const plan = structuredClone(plans[stack]);
                backupCronJob(plan);
                make(plan);
                const check = await checkPlan(plan);
                assert.deepEqual(mandatory(check).filter((v) => v.policy !== "retention-table-coverage" && v.policy !== "dr-failover-topology"), [], stack);
            }
        }
    });

    it("a preview plan (computed values unknown) checks without crashing and without false mandatory violations", async function () {
        this.timeout(180000);
        for (const plan of await planRepo(["prod", "dr"], { preview: true })) {
            const check = await checkPlan(plan);
            assert.deepEqual(mandatory(check), [], plan.stack);
        }
    });
});
