/**
 * Failover as configuration: `promote: true` on a standby stack promotes its replica (no replication source)
 * and, on every cloud, points the application's DATABASE_URL secret in oauth2-system at it; nothing else in
 * the stack changes except what the promotion implies (the replica-lag alarm goes, the dump watch comes).
 */
import { strict as assert } from "assert";
import { isSecret, PlanResult } from "offline-plan/model";
import { checkPlan } from "../tools/check/core";
import { cloudSqlPolicies } from "../policy/cloudsql";
import { props, resource, resourcesOfType } from "./support/plans";
import { assertNotInPlainText, diff, planFailover } from "./support/dr-plans";

const RDS = "aws:rds/instance:Instance";
const SECRET = "kubernetes:core/v1:Secret";

function names(resources: { type: string; name: string }[]): string[] {
    return resources.map((r) => `${r.type} ${r.name}`).sort();
}

describe("promote: aws dr stack", () => {
    let prod: PlanResult;
    let dr: PlanResult;
    let promoted: PlanResult;
    before(async () => {
        ({ primary: prod, standby: dr, promoted } = await planFailover("prod", "dr"));
    });

    it("the replica loses its replication source and applies immediately; nothing else of it changes", () => {
        const before = props(resource(dr, RDS, "oauth2-postgres-replica"));
        const after = props(resource(promoted, RDS, "oauth2-postgres-replica"));
        assert.equal(before.replicateSourceDb, prod.outputs.dbInstanceArn);
        assert.equal(after.replicateSourceDb, undefined);
        assert.equal(after.applyImmediately, true);
        // A replica cannot have a final snapshot; the promoted primary takes one on delete.
        assert.deepEqual([before.skipFinalSnapshot, before.finalSnapshotIdentifier], [true, undefined]);
        assert.deepEqual([after.skipFinalSnapshot, after.finalSnapshotIdentifier], [false, "oauth2-postgres-replica-final"]);
        const strip = (p: Record<string, any>) => ({
            ...p,
            replicateSourceDb: undefined,
            applyImmediately: undefined,
            skipFinalSnapshot: undefined,
            finalSnapshotIdentifier: undefined,
            tags: { ...p.tags, "oauth2-dr/promoted": undefined },
        });
        assert.deepEqual(strip(after), strip(before));
        assert.equal(resource(promoted, RDS, "oauth2-postgres-replica").protect, true);
    });

    it("declares the DATABASE_URL secret pointing at the promoted replica, the rollout onto it and the validation after it, and nothing more", () => {
        const d = diff(dr, promoted);
        assert.deepEqual(names(d.added), [
            "aws:cloudwatch/metricAlarm:MetricAlarm oauth2-dr-dr-db-dump-missing",
            "aws:s3/bucketMetric:BucketMetric oauth2-dr-dr-database-dumps",
            "kubernetes:apps/v1:DeploymentPatch app-database-rollout",
            "kubernetes:batch/v1:Job service-validation-after-rollout",
            `${SECRET} app-database`,
            "oauth2-dr:app:AppDatabaseSecret app-database",
        ]);
        assert.deepEqual(names(d.removed), ["aws:cloudwatch/metricAlarm:MetricAlarm oauth2-dr-dr-replica-lag"], "no replica lag once promoted");
        const changed = names(d.changed);
        // Promotion also resumes this region's backups: the four suspended CronJobs start running.
        const resumed = ["db-backup", "client-config-export", "secrets-export", "app-config-export"].map((j) => `kubernetes:batch/v1:CronJob backup-jobs-${j}`);
        // The monthly check switches from snapshot mode (a replica is read-only) to restoring the dumps.
        const verification = "kubernetes:batch/v1:CronJob backup-jobs-restore-verification";
        assert.deepEqual(changed.filter((n) => n.startsWith("kubernetes:batch/v1:CronJob")).sort(), [...resumed, verification].sort());
        for (const job of resumed) {
            assert.equal(props(resource(dr, "kubernetes:batch/v1:CronJob", job.split(" ")[1])).spec.suspend, true);
            assert.equal(props(resource(promoted, "kubernetes:batch/v1:CronJob", job.split(" ")[1])).spec.suspend, false);
        }
        const expected = [`${RDS} oauth2-postgres-replica`, "aws:cloudwatch/dashboard:Dashboard oauth2-dr-dr-dashboard", ...resumed, verification];
        assert.ok(changed.every((n) => expected.includes(n)), changed.join(", "));
    });

    it("the secret is a JDBC URL to the replica with the replicated oauth2/db-credentials, all secret", () => {
        const secret = resource(promoted, SECRET, "app-database");
        assert.ok(isSecret(secret.inputs.stringData), "the whole payload is a secret");
        const p = props(secret);
        assert.equal(p.metadata.namespace, "oauth2-system");
        assert.equal(p.metadata.name, "oauth2-database");
        assert.equal(p.stringData.DATABASE_URL, `jdbc:postgresql://${promoted.outputs.replicaAddress}:5432/oauth2db`);
        assert.match(p.stringData.DATABASE_URL, /^jdbc:postgresql:\/\/oauth2-postgres-replica\.[a-z0-9]+\.us-west-2\.rds\.amazonaws\.com:5432\/oauth2db$/);
        // Read from the secret's replica: offline, its content is the planner's generic stand-in (user postgres).
        assert.equal(p.stringData.DATABASE_USER, "postgres");
        assert.equal(p.stringData.DATABASE_PASSWORD, "mock-secret-password", "read from the secret's replica");
        assertNotInPlainText(promoted, "mock-secret-password");
        assert.equal(promoted.outputs.promoted, true);
    });

    it("not promoted: no application secret in the DR cluster (a replica takes no writes)", () => {
        assert.equal(resourcesOfType(dr, SECRET).length, 0);
    });

    it("prod always declares the application secret pointing at the primary", () => {
        const p = props(resource(prod, SECRET, "app-database"));
        assert.equal(p.stringData.DATABASE_URL, `jdbc:postgresql://${prod.outputs.dbAddress}:5432/oauth2db`);
        assertNotInPlainText(prod, "mock-oauth2-db-master-password");
    });
});

describe("promote: azure and gcp standby stacks", () => {
    let azure: PlanResult;
    let azurePromoted: PlanResult;
    let gcp: PlanResult;
    let gcpPromoted: PlanResult;
    before(async () => {
        ({ standby: azure, promoted: azurePromoted } = await planFailover("prod-azure", "dr-azure"));
        ({ standby: gcp, promoted: gcpPromoted } = await planFailover("prod-gcp", "dr-gcp"));
    });

    it("azure: the replica is promoted to a standalone server with zone-redundant HA, and the secret points at it", () => {
        const p = props(resource(azurePromoted, "azure-native:dbforpostgresql:Server", "oauth2-postgres-replica"));
        assert.deepEqual(p.replica, { promoteMode: "Standalone", promoteOption: "Forced" });
        assert.equal(p.highAvailability.mode, "ZoneRedundant");
        assert.equal(p.backup.geoRedundantBackup, "Enabled");
        const s = props(resource(azurePromoted, SECRET, "app-database"));
        assert.equal(s.stringData.DATABASE_URL, "jdbc:postgresql://oauth2-postgres-replica.postgres.database.azure.com:5432/oauth2db");
        assert.equal(resourcesOfType(azure, SECRET).length, 0);
        assertNotInPlainText(azurePromoted, "mock-oauth2-postgres-admin-password");
        assert.deepEqual(names(diff(azure, azurePromoted).added), ["kubernetes:apps/v1:DeploymentPatch app-database-rollout", `${SECRET} app-database`, "oauth2-dr:app:AppDatabaseSecret app-database", "pulumi:providers:kubernetes region-cluster"]);
    });

    it("gcp: the replica loses its master, becomes a Cloud SQL instance with the table's backups, and the secret points at it", async () => {
        const p = props(resource(gcpPromoted, "gcp:sql/databaseInstance:DatabaseInstance", "oauth2-postgres-replica"));
        assert.equal(p.masterInstanceName, undefined);
        assert.equal(p.instanceType, "CLOUD_SQL_INSTANCE");
        assert.equal(p.settings.backupConfiguration.enabled, true);
        assert.equal(p.settings.backupConfiguration.pointInTimeRecoveryEnabled, true);
        assert.equal(p.settings.backupConfiguration.backupRetentionSettings.retainedBackups, 30);
        assert.deepEqual((await checkPlan(gcpPromoted, { policies: cloudSqlPolicies })).violations, [], "a promoted instance is judged as a primary, and passes");
        const s = props(resource(gcpPromoted, SECRET, "app-database"));
        assert.match(s.stringData.DATABASE_URL, /^jdbc:postgresql:\/\/10\.\d+\.0\.3:5432\/oauth2db$/);
        assert.equal(resourcesOfType(gcp, SECRET).length, 0);
    });
});
