import { strict as assert } from "assert";
import { azurePostgresBackupRetention, azurePostgresGeoRedundantBackup } from "../../policy/azure";
import { cloudSqlBackupConfiguration, cloudSqlDeletionProtection } from "../../policy/cloudsql";
import { runResourcePolicy, runResourcePolicyWithReasons, UNKNOWN } from "./helpers";
import { notJudgedDatabases } from "../../policy/engines";

const AZURE = "azure-native:dbforpostgresql:Server";
const GCP = "gcp:sql/databaseInstance:DatabaseInstance";

const azure = (backup: Record<string, unknown> | undefined, extra: Record<string, unknown> = {}) => ({
    type: AZURE,
    name: "oauth2-postgres",
    props: { version: "15", backup, ...extra },
});

const cloudSql = (backupConfiguration: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
    type: GCP,
    name: "oauth2-postgres",
    props: { databaseVersion: "POSTGRES_15", deletionProtection: true, settings: { tier: "db-perf-optimized-N-2", edition: "ENTERPRISE_PLUS", backupConfiguration }, ...extra },
});

const GOOD_GCP = {
    enabled: true,
    pointInTimeRecoveryEnabled: true,
    transactionLogRetentionDays: 30,
    backupRetentionSettings: { retainedBackups: 30, retentionUnit: "COUNT" },
};

describe("policy: Azure PostgreSQL Flexible Server", () => {
    it("a compliant server passes", async () => {
        const server = azure({ backupRetentionDays: 30, geoRedundantBackup: "Enabled" });
        assert.deepEqual(await runResourcePolicy(azurePostgresBackupRetention, server), []);
        assert.deepEqual(await runResourcePolicy(azurePostgresGeoRedundantBackup, server), []);
    });

    it("azure-postgres-backup-retention: 29 days and unset (Azure default 7)", async () => {
        assert.deepEqual(await runResourcePolicy(azurePostgresBackupRetention, azure({ backupRetentionDays: 29, geoRedundantBackup: "Enabled" })), [
            "oauth2-postgres: backup.backupRetentionDays is 29 days; the retention table's database row requires at least 30 days of backups (Azure PostgreSQL Flexible Server)",
        ]);
        const [unset] = await runResourcePolicy(azurePostgresBackupRetention, azure(undefined));
        assert.match(unset, /backupRetentionDays is not set \(Azure keeps 7 days\)/);
    });

    it("azure-postgres-geo-redundant-backup: Disabled and unset", async () => {
        const [message] = await runResourcePolicy(azurePostgresGeoRedundantBackup, azure({ backupRetentionDays: 35, geoRedundantBackup: "Disabled" }));
        assert.match(message, /backup\.geoRedundantBackup is "Disabled"; the runbook requires "Enabled"/);
        assert.equal((await runResourcePolicy(azurePostgresGeoRedundantBackup, azure({ backupRetentionDays: 35 }))).length, 1);
    });

    it("azure-postgres-backup-retention: above Azure's 35 days (7-35) is refused by Azure, so no backup is kept: a violation, not a pass", async () => {
        assert.deepEqual(await runResourcePolicy(azurePostgresBackupRetention, azure({ backupRetentionDays: 35, geoRedundantBackup: "Enabled" })), []);
        assert.deepEqual(await runResourcePolicy(azurePostgresBackupRetention, azure({ backupRetentionDays: 40, geoRedundantBackup: "Enabled" })), [
            "oauth2-postgres: backup.backupRetentionDays is 40 days, above the 35 days Azure accepts (7-35): Azure refuses the server, so no backup is kept; the retention table's database row requires at least 30 days of backups (Azure PostgreSQL Flexible Server), at most 35",
        ]);
    });

    it("judges the Flexible Server of an azure-native API-version module (the v1/v2 idiom dbforpostgresql.v20221201.Server) like the default module's", async () => {
        for (const type of ["azure-native:dbforpostgresql/v20221201:Server", "azure-native:dbforpostgresql/v20230601preview:Server", "azure-native:dbforpostgresql/v20210601:Server"]) {
            const server = { ...azure({ backupRetentionDays: 7, geoRedundantBackup: "Disabled" }), type };
            assert.equal((await runResourcePolicy(azurePostgresBackupRetention, server)).length, 1, type);
            assert.equal((await runResourcePolicy(azurePostgresGeoRedundantBackup, server)).length, 1, type);
            assert.deepEqual(await runResourcePolicy(azurePostgresBackupRetention, { ...azure({ backupRetentionDays: 35, geoRedundantBackup: "Enabled" }), type }), [], type);
        }
        // The 2017 single server (retention under properties.storageProfile) is another shape: not judged here.
        assert.deepEqual(await runResourcePolicy(azurePostgresBackupRetention, { ...azure(undefined), type: "azure-native:dbforpostgresql/v20171201:Server" }), []);
    });

    it("a createMode or geoRedundantBackup unknown in preview is named as not judged, not passed silently", async () => {
        const unknownMode = await runResourcePolicyWithReasons(azurePostgresBackupRetention, azure({ backupRetentionDays: 7 }, { createMode: UNKNOWN }));
        assert.deepEqual(unknownMode.violations, []);
        assert.equal(unknownMode.notApplicable.length, 1);
        assert.match(unknownMode.notApplicable[0], /createMode/);
        const unknownGeo = await runResourcePolicyWithReasons(azurePostgresGeoRedundantBackup, azure({ backupRetentionDays: 35, geoRedundantBackup: UNKNOWN }));
        assert.deepEqual(unknownGeo.violations, []);
        assert.match(unknownGeo.notApplicable[0] ?? "", /backup\.geoRedundantBackup/);
    });

    it("a replica (createMode Replica) is judged on its source, not here; unknowns never report", async () => {
        const replica = azure(undefined, { createMode: "Replica", sourceServerResourceId: "/subscriptions/x/servers/primary" });
        assert.deepEqual(await runResourcePolicy(azurePostgresBackupRetention, replica), []);
        assert.deepEqual(await runResourcePolicy(azurePostgresGeoRedundantBackup, replica), []);
        assert.deepEqual(await runResourcePolicy(azurePostgresBackupRetention, azure({ backupRetentionDays: UNKNOWN, geoRedundantBackup: UNKNOWN })), []);
        assert.deepEqual(await runResourcePolicy(azurePostgresGeoRedundantBackup, azure(UNKNOWN as never)), []);
    });
});

describe("policy: Cloud SQL PostgreSQL", () => {
    it("a compliant instance passes", async () => {
        assert.deepEqual(await runResourcePolicy(cloudSqlBackupConfiguration, cloudSql(GOOD_GCP)), []);
        assert.deepEqual(await runResourcePolicy(cloudSqlDeletionProtection, cloudSql(GOOD_GCP)), []);
    });

    it("cloudsql-backup-configuration: each kind of shortfall is reported once", async () => {
        const cases: Array<[Record<string, unknown>, RegExp]> = [
            [{ enabled: false }, /backupConfiguration\.enabled is false/],
            [{ pointInTimeRecoveryEnabled: false }, /pointInTimeRecoveryEnabled is false/],
            [{ backupRetentionSettings: { retainedBackups: 29, retentionUnit: "COUNT" } }, /retainedBackups is 29; the retention table's database row requires at least 30 daily backups \(Cloud SQL PostgreSQL\)/],
            [{ backupRetentionSettings: undefined }, /retainedBackups is not set \(Cloud SQL keeps 7\)/],
            [{ transactionLogRetentionDays: 29 }, /transactionLogRetentionDays is 29; the retention table's database row \(continuous \+ daily\) requires 30 days of transaction log/],
        ];
        for (const [change, expected] of cases) {
            const messages = await runResourcePolicy(cloudSqlBackupConfiguration, cloudSql({ ...GOOD_GCP, ...change }));
            assert.equal(messages.length, 1, JSON.stringify(change));
            assert.match(messages[0], expected);
        }
    });

    it("cloudsql-backup-configuration: the continuous part of the database row is 30 days of transaction log: 7 on Enterprise (prod-gcp before) is a violation naming Enterprise Plus and a waiver; 30 on Enterprise Plus passes", async () => {
        const enterprise = (days: number | undefined) => cloudSql({ ...GOOD_GCP, transactionLogRetentionDays: days }, { settings: { tier: "db-custom-4-16384", edition: "ENTERPRISE", backupConfiguration: { ...GOOD_GCP, transactionLogRetentionDays: days } } });
        const [seven] = await runResourcePolicy(cloudSqlBackupConfiguration, enterprise(7));
        assert.match(seven, /oauth2-postgres: settings.backupConfiguration.transactionLogRetentionDays is 7; the retention table's database row \(continuous \+ daily\) requires 30 days of transaction log for point-in-time recovery \(Cloud SQL PostgreSQL\): Enterprise Plus \(settings.edition ENTERPRISE_PLUS, a db-perf-optimized-N-\* tier\) with transactionLogRetentionDays >= 30 \(at most 35\), or a named waiver of the database row in oauth2-dr-settings/);
        assert.deepEqual(await runResourcePolicy(cloudSqlBackupConfiguration, cloudSql(GOOD_GCP)), []);
        // Not set: Cloud SQL's default, 7 days (14 on Enterprise Plus): short of 30 either way.
        const [unsetEnterprise] = await runResourcePolicy(cloudSqlBackupConfiguration, enterprise(undefined));
        assert.match(unsetEnterprise, /transactionLogRetentionDays is not set \(Cloud SQL keeps 7 days\); the retention table's database row \(continuous \+ daily\) requires 30 days .*Enterprise Plus .*or a named waiver/);
        const [unsetPlus] = await runResourcePolicy(cloudSqlBackupConfiguration, cloudSql({ ...GOOD_GCP, transactionLogRetentionDays: undefined }));
        assert.match(unsetPlus, /transactionLogRetentionDays is not set \(Cloud SQL keeps 14 days\); .*requires 30 days/);
        // A named waiver lowering the row to 7 days lets the Enterprise edition's 7 days pass (the daily backups then too).
        const waiver = { row: "database", value: 7, reason: "staging, rebuilt weekly", approvedBy: "cto@acme.example" };
        assert.deepEqual(await runResourcePolicy(cloudSqlBackupConfiguration, enterprise(7), { config: { "oauth2-dr-settings": { waivers: [waiver] } } }), []);
        // A row raised above the 35 days Cloud SQL keeps can only be waived.
        const [raised] = await runResourcePolicy(cloudSqlBackupConfiguration, cloudSql({ ...GOOD_GCP, transactionLogRetentionDays: 35, backupRetentionSettings: { retainedBackups: 40, retentionUnit: "COUNT" } }), { config: { "oauth2-dr-settings": { minimumDays: { database: 40 } } } });
        assert.match(raised, /transactionLogRetentionDays is 35; .*requires 40 days .*Cloud SQL keeps at most 35 days of transaction log \(Enterprise Plus\), so only a named waiver of the database row/);
    });

    it("cloudsql-backup-configuration: transactionLogRetentionDays above what the edition accepts (1-7 Enterprise, 1-35 Enterprise Plus) is refused by Cloud SQL: a violation", async () => {
        const at = (days: number, settings: Record<string, unknown>) => cloudSql({ ...GOOD_GCP, transactionLogRetentionDays: days }, { settings: { ...settings, backupConfiguration: { ...GOOD_GCP, transactionLogRetentionDays: days } } });
        const [enterprise] = await runResourcePolicy(cloudSqlBackupConfiguration, at(30, { tier: "db-custom-2-7680", edition: "ENTERPRISE" }));
        assert.match(enterprise, /transactionLogRetentionDays is 30 days, above the 7 days Cloud SQL accepts on ENTERPRISE: Cloud SQL refuses the setting, so the instance keeps no such log; the database row requires 30 days: Enterprise Plus .*or a named waiver/);
        const [byTier] = await runResourcePolicy(cloudSqlBackupConfiguration, at(30, { tier: "db-custom-2-7680" }));
        assert.match(byTier, /above the 7 days Cloud SQL accepts on ENTERPRISE \(settings.edition not set; tier db-custom-2-7680 is not an Enterprise Plus machine\)/);
        assert.deepEqual(await runResourcePolicy(cloudSqlBackupConfiguration, at(30, { tier: "db-perf-optimized-N-2", edition: "ENTERPRISE_PLUS" })), []);
        assert.deepEqual(await runResourcePolicy(cloudSqlBackupConfiguration, at(35, { tier: "db-perf-optimized-N-4" })), []);
        const [plus] = await runResourcePolicy(cloudSqlBackupConfiguration, at(36, { tier: "db-perf-optimized-N-2", edition: "ENTERPRISE_PLUS" }));
        assert.match(plus, /36 days, above the 35 days Cloud SQL accepts on ENTERPRISE_PLUS: .*; set 30-35/);
        const unknownEdition = await runResourcePolicyWithReasons(cloudSqlBackupConfiguration, at(30, { tier: "db-custom-2-7680", edition: UNKNOWN }));
        assert.deepEqual(unknownEdition.violations, []);
        assert.match(unknownEdition.notApplicable[0] ?? "", /settings\.edition/);
    });

    it("cloudsql-backup-configuration: retainedBackups above the 365 Cloud SQL accepts is refused by Cloud SQL: a violation, not a pass", async () => {
        const retained = (n: number) => cloudSql({ ...GOOD_GCP, backupRetentionSettings: { retainedBackups: n, retentionUnit: "COUNT" } });
        assert.deepEqual(await runResourcePolicy(cloudSqlBackupConfiguration, retained(365)), []);
        const [message] = await runResourcePolicy(cloudSqlBackupConfiguration, retained(400));
        assert.match(message, /retainedBackups is 400, above the 365 Cloud SQL accepts \(1-365\): Cloud SQL refuses the setting/);
    });

    it("cloudsql-deletion-protection: explicit false (the provider defaults to true)", async () => {
        assert.deepEqual(await runResourcePolicy(cloudSqlDeletionProtection, cloudSql(GOOD_GCP, { deletionProtection: false })), [
            "oauth2-postgres: deletionProtection is false; the runbook requires true (deleting the instance deletes its automated backups)",
        ]);
        assert.deepEqual(await runResourcePolicy(cloudSqlDeletionProtection, cloudSql(GOOD_GCP, { deletionProtection: undefined })), []);
    });

    it("replicas (masterInstanceName) cannot configure backups and are not judged for them; MySQL is not judged", async () => {
        assert.deepEqual(await runResourcePolicy(cloudSqlBackupConfiguration, cloudSql({ enabled: false }, { masterInstanceName: "oauth2-postgres" })), []);
        assert.deepEqual(await runResourcePolicy(cloudSqlBackupConfiguration, cloudSql({ enabled: false }, { databaseVersion: "MYSQL_8_0" })), []);
        assert.deepEqual(await runResourcePolicy(cloudSqlBackupConfiguration, cloudSql(UNKNOWN as never)), []);
    });
});

describe("engines of other providers (h28 trial): listed as not judged, never read as no database", () => {
    const resource = (type: string, props: Record<string, unknown>, name = "records") => ({ type, name, urn: `urn:pulumi:prod::p::${type}::${name}`, props });

    it("lists the classic azure provider's servers, DigitalOcean, MongoDB Atlas, Aiven and azure-native's API-version modules with what they declare", () => {
        const listed = notJudgedDatabases([
            resource("azure:postgresql/flexibleServer:FlexibleServer", { backupRetentionDays: 14, geoRedundantBackupEnabled: true }),
            resource("azure:postgresql/flexibleServer:FlexibleServer", {}, "ledger"),
            resource("digitalocean:index/databaseCluster:DatabaseCluster", { engine: "pg" }),
            resource("mongodbatlas:index/advancedCluster:AdvancedCluster", { backupEnabled: false }),
            resource("aiven:index/pg:Pg", {}),
            resource("azure-native:dbforpostgresql/v20221201:Server", { backup: { backupRetentionDays: 7 } }, "judged-versioned"),
            resource("azure-native:dbforpostgresql/v20171201:Server", { properties: { storageProfile: { backupRetentionDays: 7 } } }),
            resource("azure-native:dbforpostgresql:SingleServer", { properties: { storageProfile: { backupRetentionDays: 35, geoRedundantBackup: "Enabled" } } }, "legacy"),
            resource("azure-native:dbforpostgresql:Server", {}, "judged"),
            resource("gcp:sql/database:Database", {}, "a database inside an instance"),
        ]).map((n) => `${n.name} (${n.kind}): ${n.backups}`);
        assert.deepEqual(listed, [
            "records (Azure PostgreSQL Flexible Server (classic azure provider)): backups kept 14 days, geo-redundant",
            "ledger (Azure PostgreSQL Flexible Server (classic azure provider)): backups kept 7 days (backupRetentionDays not set), not geo-redundant",
            "records (DigitalOcean managed database cluster): backups not declared by the program (the service's own defaults)",
            "records (MongoDB Atlas cluster): cloud backups off",
            "records (Aiven for PostgreSQL service): backups not declared by the program (the service's own defaults)",
            "records (Azure PostgreSQL server (dbforpostgresql/v20171201, an azure-native API-version module)): backups kept 7 days, not geo-redundant",
            "legacy (Azure PostgreSQL single server (retired service)): backups kept 35 days, geo-redundant",
        ]);
    });
});
