import { strict as assert } from "assert";
import { rdsBackupRetention, rdsDeletionProtection, rdsFinalSnapshot, rdsMultiAz, rdsStorageEncrypted, redshiftEncrypted, redshiftFinalSnapshot, redshiftSnapshotRetention } from "../../policy/rds";
import { runResourcePolicy, UNKNOWN } from "./helpers";

const INSTANCE = "aws:rds/instance:Instance";
const CLUSTER = "aws:rds/cluster:Cluster";

const primary = (overrides: Record<string, unknown> = {}) => ({
    type: INSTANCE,
    name: "oauth2-postgres",
    props: {
        identifier: "oauth2-postgres",
        engine: "postgres",
        backupRetentionPeriod: 30,
        deletionProtection: true,
        storageEncrypted: true,
        kmsKeyId: "arn:aws:kms:us-east-1:123456789012:key/k",
        skipFinalSnapshot: false,
        finalSnapshotIdentifier: "oauth2-postgres-final",
        multiAz: true,
        tags: { environment: "production" },
        ...overrides,
    },
});

const replica = (overrides: Record<string, unknown> = {}) =>
    primary({ replicateSourceDb: "arn:aws:rds:us-east-1:123456789012:db:oauth2-postgres", storageEncrypted: undefined, ...overrides });

describe("policy: RDS", () => {
    it("a compliant primary, replica and cluster pass every RDS policy", async () => {
        for (const policy of [rdsBackupRetention, rdsDeletionProtection, rdsStorageEncrypted, rdsFinalSnapshot, rdsMultiAz]) {
            assert.deepEqual(await runResourcePolicy(policy, primary()), [], policy.name);
            assert.deepEqual(await runResourcePolicy(policy, replica()), [], policy.name);
            assert.deepEqual(
                await runResourcePolicy(policy, { type: CLUSTER, name: "aurora", props: { backupRetentionPeriod: 35, deletionProtection: true, storageEncrypted: true, finalSnapshotIdentifier: "f" } }),
                [],
                policy.name,
            );
        }
    });

    it("rds-backup-retention: 29 days, unset, replicas and clusters, with the value found and required", async () => {
        assert.deepEqual(await runResourcePolicy(rdsBackupRetention, primary({ backupRetentionPeriod: 29 })), [
            "oauth2-postgres: backupRetentionPeriod is 29 days; the retention table's database row requires at least 30 days of backups (PostgreSQL instance)",
        ]);
        const unset = await runResourcePolicy(rdsBackupRetention, primary({ backupRetentionPeriod: undefined }));
        assert.equal(unset.length, 1);
        assert.match(unset[0], /backupRetentionPeriod is not set \(the RDS default keeps 1 day/);
        const replicaUnset = await runResourcePolicy(rdsBackupRetention, replica({ backupRetentionPeriod: undefined }));
        assert.match(replicaUnset[0], /keeps 0 days for a read replica\); the retention table's database row requires at least 30 days of backups \(read replica\)/);
        assert.equal((await runResourcePolicy(rdsBackupRetention, { type: CLUSTER, name: "c", props: { backupRetentionPeriod: 7 } })).length, 1);
    });

    it("rds-backup-retention: the minimum is raised in the pack's settings, lowered only by a waiver", async () => {
        assert.equal((await runResourcePolicy(rdsBackupRetention, primary(), { config: { "oauth2-dr-settings": { minimumDays: { database: 35 } } } })).length, 1);
        const waiver = { row: "database", value: 7, reason: "dev database, rebuilt nightly", approvedBy: "jane@acme.example" };
        assert.deepEqual(await runResourcePolicy(rdsBackupRetention, primary({ backupRetentionPeriod: 7 }), { config: { "oauth2-dr-settings": { waivers: [waiver] } } }), []);
    });

    it("rds-backup-retention: names the engine it judges (MySQL, Aurora) and says 1 day, not 1 days", async () => {
        const [mysql] = await runResourcePolicy(rdsBackupRetention, primary({ engine: "mysql", backupRetentionPeriod: 1 }));
        assert.equal(mysql, "oauth2-postgres: backupRetentionPeriod is 1 day; the retention table's database row requires at least 30 days of backups (MySQL instance)");
        const [aurora] = await runResourcePolicy(rdsBackupRetention, { type: CLUSTER, name: "orders", props: { engine: "aurora-postgresql", backupRetentionPeriod: 7 } });
        assert.equal(aurora, "orders: backupRetentionPeriod is 7 days; the retention table's database row requires at least 30 days of backups (Aurora PostgreSQL cluster)");
    });

    it("rds-deletion-protection: false and unset", async () => {
        assert.deepEqual(await runResourcePolicy(rdsDeletionProtection, primary({ deletionProtection: false })), [
            "oauth2-postgres: deletionProtection is false; the runbook requires true (deleting the database also deletes its automated backups)",
        ]);
        assert.equal((await runResourcePolicy(rdsDeletionProtection, primary({ deletionProtection: undefined }))).length, 1);
    });

    it("rds-storage-encrypted: a primary needs storageEncrypted; a replica with a kmsKeyId counts as encrypted", async () => {
        const [message] = await runResourcePolicy(rdsStorageEncrypted, primary({ storageEncrypted: false }));
        assert.match(message, /^oauth2-postgres: storageEncrypted is false; the runbook requires true/);
        assert.deepEqual(await runResourcePolicy(rdsStorageEncrypted, primary({ storageEncrypted: undefined, kmsKeyId: "k" })).then((v) => v.length), 1);
        assert.deepEqual(await runResourcePolicy(rdsStorageEncrypted, replica({ storageEncrypted: undefined })), []);
        assert.equal((await runResourcePolicy(rdsStorageEncrypted, replica({ storageEncrypted: false, kmsKeyId: undefined }))).length, 1);
    });

    it("rds-final-snapshot: skipFinalSnapshot true or no identifier on a primary; replicas are not judged", async () => {
        assert.deepEqual(await runResourcePolicy(rdsFinalSnapshot, primary({ skipFinalSnapshot: true })), [
            "oauth2-postgres: skipFinalSnapshot is true; the runbook requires a final snapshot on delete (skipFinalSnapshot: false with a finalSnapshotIdentifier)",
        ]);
        const [noId] = await runResourcePolicy(rdsFinalSnapshot, primary({ finalSnapshotIdentifier: undefined }));
        assert.match(noId, /finalSnapshotIdentifier is not set/);
        assert.deepEqual(await runResourcePolicy(rdsFinalSnapshot, replica({ skipFinalSnapshot: true, finalSnapshotIdentifier: undefined })), []);
    });

    it("rds-multi-az: a production primary (resource tag, stack tag or config); never a replica", async () => {
        assert.deepEqual(await runResourcePolicy(rdsMultiAz, primary({ multiAz: false })), [
            "oauth2-postgres: multiAz is false on a production primary; the runbook requires true (AZ failure: RTO 10 minutes, RPO 0)",
        ]);
        const staging = primary({ multiAz: false, tags: { environment: "staging" } });
        assert.deepEqual(await runResourcePolicy(rdsMultiAz, staging), []);
        assert.equal((await runResourcePolicy(rdsMultiAz, staging, { stackTags: { environment: "production" } })).length, 1);
        assert.equal((await runResourcePolicy(rdsMultiAz, staging, { config: { "oauth2-dr-settings": { production: "always" } } })).length, 1);
        assert.deepEqual(await runResourcePolicy(rdsMultiAz, replica({ multiAz: false })), []);
    });

    it("unknown values during preview never crash and never report", async () => {
        const unknown = primary({ backupRetentionPeriod: UNKNOWN, deletionProtection: UNKNOWN, storageEncrypted: UNKNOWN, skipFinalSnapshot: UNKNOWN, finalSnapshotIdentifier: UNKNOWN, multiAz: UNKNOWN, replicateSourceDb: UNKNOWN, tags: UNKNOWN });
        for (const policy of [rdsBackupRetention, rdsDeletionProtection, rdsStorageEncrypted, rdsFinalSnapshot, rdsMultiAz]) {
            assert.deepEqual(await runResourcePolicy(policy, unknown), [], policy.name);
        }
    });

    it("enforcement level comes from policy config", async () => {
        const { evaluateResourcePolicies, prepare } = await import("offline-plan/policy-harness");
        const { toAnalyzerResources } = await import("./helpers");
        const result = await evaluateResourcePolicies([rdsBackupRetention], prepare(toAnalyzerResources([primary({ backupRetentionPeriod: 1 })])), {
            config: { "rds-backup-retention": "advisory" },
            packEnforcementLevel: "mandatory",
        });
        assert.deepEqual(result.violations.map((v) => v.enforcementLevel), ["advisory"]);
    });
});

describe("policy: database-like engines outside RDS proper (DocumentDB, Neptune, Redshift)", () => {
    const cluster = (type: string, props: Record<string, unknown>) => ({ type, name: "catalog", props });
    const compliant = { backupRetentionPeriod: 35, deletionProtection: true, storageEncrypted: true, skipFinalSnapshot: false, finalSnapshotIdentifier: "catalog-final" };

    it("DocumentDB and Neptune clusters are judged by the RDS policies, with their engine named", async () => {
        for (const type of ["aws:docdb/cluster:Cluster", "aws:neptune/cluster:Cluster"]) {
            for (const policy of [rdsBackupRetention, rdsDeletionProtection, rdsStorageEncrypted, rdsFinalSnapshot]) {
                assert.deepEqual(await runResourcePolicy(policy, cluster(type, compliant)), [], `${type} ${policy.name}`);
            }
            const [retention] = await runResourcePolicy(rdsBackupRetention, cluster(type, { ...compliant, backupRetentionPeriod: undefined }));
            assert.match(retention, new RegExp(`backupRetentionPeriod is not set \\(the RDS default keeps 1 day for a cluster\\); .*\\((DocumentDB|Neptune) cluster\\)`));
            assert.equal((await runResourcePolicy(rdsStorageEncrypted, cluster(type, { ...compliant, storageEncrypted: undefined }))).length, 1);
            assert.equal((await runResourcePolicy(rdsFinalSnapshot, cluster(type, { ...compliant, skipFinalSnapshot: true }))).length, 1);
        }
    });

    it("Redshift: automated snapshot retention against the database row, a final snapshot, encryption (v6 boolean or v7 string)", async () => {
        const redshift = (props: Record<string, unknown>) => cluster("aws:redshift/cluster:Cluster", { automatedSnapshotRetentionPeriod: 35, encrypted: "true", skipFinalSnapshot: false, finalSnapshotIdentifier: "catalog-final", ...props });
        for (const policy of [redshiftSnapshotRetention, redshiftFinalSnapshot, redshiftEncrypted]) {
            assert.deepEqual(await runResourcePolicy(policy, redshift({})), [], policy.name);
            assert.deepEqual(await runResourcePolicy(policy, redshift({ encrypted: true })), [], policy.name);
        }
        assert.deepEqual(await runResourcePolicy(redshiftSnapshotRetention, redshift({ automatedSnapshotRetentionPeriod: undefined })), [
            "catalog: automatedSnapshotRetentionPeriod is not set (the Redshift default keeps 1 day for a cluster); the retention table's database row requires at least 30 days of backups (Redshift cluster)",
        ]);
        assert.equal((await runResourcePolicy(redshiftEncrypted, redshift({ encrypted: "false" }))).length, 1);
        assert.equal((await runResourcePolicy(redshiftEncrypted, redshift({ encrypted: undefined }))).length, 1);
        assert.deepEqual(await runResourcePolicy(redshiftEncrypted, redshift({ encrypted: UNKNOWN })), []);
        assert.match((await runResourcePolicy(redshiftFinalSnapshot, redshift({ finalSnapshotIdentifier: undefined })))[0], /finalSnapshotIdentifier is not set/);
    });
});
