/**
 * Restore as configuration: restore.fromSnapshot / restore.pointInTime declare oauth2-postgres-restored
 * beside the running instance and nothing else; the running instance's inputs are byte-identical with and
 * without a restore; manual snapshots are protected resources; a bad restore time is a one-line error that
 * names the key, raised before any resource is declared.
 */
import { strict as assert } from "assert";
import { ConfigError, parseRfc3339, parseStackConfig, StackConfig } from "../lib/config";
import { PlanResult } from "offline-plan/model";
import { loadStackSettings } from "offline-plan/stack-settings";
import { checkPlan } from "../tools/check/core";
import { rdsPolicies } from "../policy/rds";
import { azurePolicies } from "../policy/azure";
import { cloudSqlPolicies } from "../policy/cloudsql";
import { props, REPO, resource } from "./support/plans";
import { daysAgo, diff, planWith } from "./support/dr-plans";

const RDS = "aws:rds/instance:Instance";
const SERVER = "azure-native:dbforpostgresql:Server";
const CLOUDSQL = "gcp:sql/databaseInstance:DatabaseInstance";
const NOW = new Date("2024-01-20T12:00:00Z");

function parse(stack: string, overrides: Record<string, string | undefined>, now = NOW): StackConfig {
    const config: Record<string, string | undefined> = { ...loadStackSettings(REPO, stack).config, ...overrides };
    return parseStackConfig((key) => config[key], stack, "oauth2-dr", { now });
}

function problem(stack: string, overrides: Record<string, string | undefined>, key: string): string {
    try {
        parse(stack, overrides);
    } catch (err) {
        assert.ok(err instanceof ConfigError);
        const line = err.problems.find((l) => l.startsWith(`${key}: `));
        assert.ok(line, `no problem for ${key}: ${err.problems.join(" | ")}`);
        assert.ok(!line.includes("\n"));
        return line;
    }
    assert.fail(`expected ${JSON.stringify(overrides)} to be rejected`);
}

const restore = (value: Record<string, string>) => ({ "oauth2-dr:restore": JSON.stringify(value) });

/** The resources of `after` missing from `before`, as "type name". */
function added(before: PlanResult, after: PlanResult): string[] {
    return diff(before, after).added.map((r) => `${r.type} ${r.name}`).sort();
}

function assertUntouched(before: PlanResult, after: PlanResult): void {
    const d = diff(before, after);
    assert.deepEqual(d.removed.map((r) => r.urn), [], "nothing removed");
    assert.deepEqual(d.changed.map((r) => r.urn), [], "no existing resource changes (running instance byte-identical)");
}

describe("restore as configuration: validation (pure, injectable now)", () => {
    it("accepts a time inside the window and normalises it to UTC", () => {
        const c = parse("prod", restore({ pointInTime: "2024-01-15T11:00:00+01:00" }));
        assert.deepEqual(c.restore, { mode: "pointInTime", pointInTime: "2024-01-15T10:00:00Z" });
        const s = parse("prod", restore({ fromSnapshot: "rds:oauth2-postgres-2024-01-15-05-00" }));
        assert.deepEqual(s.restore, { mode: "snapshot", fromSnapshot: "rds:oauth2-postgres-2024-01-15-05-00" });
        assert.equal(parse("prod", {}).restore, undefined);
    });

    it("rejects a time in the future, naming the key", () => {
        const line = problem("prod", restore({ pointInTime: "2024-01-20T12:00:01Z" }), "oauth2-dr:restore.pointInTime");
        assert.match(line, /is in the future \(now is 2024-01-20T12:00:00Z\)/);
    });

    it("rejects a time outside the 30-day window on aws and azure, the log window on gcp (30 days on Enterprise Plus, 7 on an Enterprise stack)", () => {
        assert.match(problem("prod", restore({ pointInTime: "2023-12-21T11:59:59Z" }), "oauth2-dr:restore.pointInTime"), /outside the 30-day point-in-time window .*earliest restorable time is 2023-12-21T12:00:00Z/);
        parse("prod", restore({ pointInTime: "2023-12-21T12:00:00Z" }));
        assert.match(problem("prod-azure", restore({ pointInTime: "2023-12-01T00:00:00Z" }), "oauth2-dr:restore.pointInTime"), /30-day/);
        assert.match(problem("prod-gcp", restore({ pointInTime: "2023-12-21T11:59:59Z" }), "oauth2-dr:restore.pointInTime"), /30-day point-in-time window \(transaction log retention\)/);
        parse("prod-gcp", restore({ pointInTime: "2024-01-10T00:00:00Z" }));
        const enterprise = { "oauth2-dr:gcp": JSON.stringify({ privateNetwork: "projects/oauth2-dr-prod/global/networks/oauth2-vpc", edition: "ENTERPRISE" }) };
        assert.match(problem("prod-gcp", { ...enterprise, ...restore({ pointInTime: "2024-01-10T00:00:00Z" }) }, "oauth2-dr:restore.pointInTime"), /7-day point-in-time window \(transaction log retention\)/);
    });

    it("rejects times that are not RFC 3339 or not real dates", () => {
        for (const bad of ["2024-01-15 10:00:00", "2024-01-15T10:00:00", "yesterday", "2024-02-30T10:00:00Z", "2024-01-15T25:00:00Z"]) {
            assert.match(problem("prod", restore({ pointInTime: bad }), "oauth2-dr:restore.pointInTime"), /is not an RFC 3339 time/, bad);
        }
        assert.equal(parseRfc3339("2024-02-29T10:00:00.123456789Z"), Date.parse("2024-02-29T10:00:00.123Z"));
    });

    it("rejects both modes at once, unknown keys, and snapshots the cloud cannot restore", () => {
        assert.match(problem("prod", restore({ pointInTime: "2024-01-15T10:00:00Z", fromSnapshot: "x" }), "oauth2-dr:restore"), /not both/);
        assert.match(problem("prod", restore({ pointInTme: "2024-01-15T10:00:00Z" }), "oauth2-dr:restore.pointInTme"), /unknown key/);
        assert.match(problem("prod", restore({ fromSnapshot: "bad snapshot!" }), "oauth2-dr:restore.fromSnapshot"), /not an RDS snapshot identifier/);
        assert.match(problem("prod-azure", restore({ fromSnapshot: "x" }), "oauth2-dr:restore.fromSnapshot"), /use restore.pointInTime/);
        assert.match(problem("prod-gcp", restore({ fromSnapshot: "oauth2-backup" }), "oauth2-dr:restore.fromSnapshot"), /not a Cloud SQL backup id/);
        assert.match(problem("dr-azure", restore({ pointInTime: "2024-01-15T10:00:00Z" }), "oauth2-dr:restore"), /primary stack/);
        parse("dr", restore({ pointInTime: "2024-01-15T10:00:00Z" }));
    });

    it("validates manual snapshots per cloud", () => {
        assert.deepEqual(parse("prod", { "oauth2-dr:manualSnapshots": '["oauth2-manual-20240115"]' }).manualSnapshots, ["oauth2-manual-20240115"]);
        assert.match(problem("prod", { "oauth2-dr:manualSnapshots": '["a","a"]' }, "oauth2-dr:manualSnapshots"), /listed twice/);
        assert.match(problem("prod", { "oauth2-dr:manualSnapshots": '["1-bad"]' }, "oauth2-dr:manualSnapshots"), /not a valid snapshot identifier/);
        assert.match(problem("prod-gcp", { "oauth2-dr:manualSnapshots": '["b1"]' }, "oauth2-dr:manualSnapshots"), /gcloud sql backups create/);
    });

    it("stops the program before any resource is declared", async () => {
        await assert.rejects(planWith("prod", restore({ pointInTime: "2099-01-01T00:00:00Z" })), /oauth2-dr:restore.pointInTime: "2099-01-01T00:00:00Z" is in the future/);
    });
});

describe("restore as configuration: aws plans", () => {
    let prod: PlanResult;
    let pitr: PlanResult;
    let snapshot: PlanResult;
    let dr: PlanResult;
    let drPitr: PlanResult;
    const time = daysAgo(2);
    before(async () => {
        prod = await planWith("prod");
        pitr = await planWith("prod", restore({ pointInTime: time }));
        snapshot = await planWith("prod", {
            ...restore({ fromSnapshot: "rds:oauth2-postgres-2024-01-15-05-00" }),
            "oauth2-dr:manualSnapshots": JSON.stringify(["oauth2-manual-20240115", "oauth2-pre-upgrade"]),
        });
        dr = await planWith("dr", {}, { prod });
        drPitr = await planWith("dr", restore({ pointInTime: time }), { prod });
    });

    it("pointInTime declares oauth2-postgres-restored and nothing else", () => {
        assert.deepEqual(added(prod, pitr), ["aws:rds/instance:Instance oauth2-postgres-restored", "oauth2-dr:database:RestoredDatabase restore"]);
        assertUntouched(prod, pitr);
    });

    it("the running instance's inputs are byte-identical with and without a restore", () => {
        const running = JSON.stringify(resource(prod, RDS, "oauth2-postgres"));
        assert.equal(JSON.stringify(resource(pitr, RDS, "oauth2-postgres")), running);
        assert.equal(JSON.stringify(resource(snapshot, RDS, "oauth2-postgres")), running);
    });

    it("the restored instance restores the running one at the time, in its subnets, with its key, protected and compliant", async () => {
        const restored = resource(pitr, RDS, "oauth2-postgres-restored");
        const p = props(restored);
        const running = props(resource(prod, RDS, "oauth2-postgres"));
        assert.deepEqual(p.restoreToPointInTime, { restoreTime: time, sourceDbInstanceIdentifier: "oauth2-postgres" });
        assert.equal(p.identifier, "oauth2-postgres-restored");
        assert.equal(p.dbSubnetGroupName, running.dbSubnetGroupName);
        assert.equal(p.parameterGroupName, running.parameterGroupName);
        assert.equal(p.kmsKeyId, running.kmsKeyId);
        assert.equal(p.backupRetentionPeriod, 30);
        assert.equal(p.deletionProtection, true);
        assert.equal(p.password, undefined, "credentials come from the source");
        assert.equal(p.tags["backup-plan"], undefined, "not picked up by the AWS Backup selection until it is the primary");
        assert.equal(restored.protect, true);
        const check = await checkPlan(pitr, { policies: rdsPolicies });
        assert.deepEqual(check.violations, []);
    });

    it("fromSnapshot restores the snapshot; manual snapshots are protected rds.Snapshot resources of the running instance", () => {
        assert.deepEqual(added(prod, snapshot), [
            "aws:rds/instance:Instance oauth2-postgres-restored",
            "aws:rds/snapshot:Snapshot oauth2-manual-20240115",
            "aws:rds/snapshot:Snapshot oauth2-pre-upgrade",
            "oauth2-dr:database:ManualSnapshots manual-snapshots",
            "oauth2-dr:database:RestoredDatabase restore",
        ]);
        assertUntouched(prod, snapshot);
        const p = props(resource(snapshot, RDS, "oauth2-postgres-restored"));
        assert.equal(p.snapshotIdentifier, "rds:oauth2-postgres-2024-01-15-05-00");
        assert.equal(p.restoreToPointInTime, undefined);
        const manual = resource(snapshot, "aws:rds/snapshot:Snapshot", "oauth2-manual-20240115");
        assert.equal(props(manual).dbInstanceIdentifier, "oauth2-postgres");
        assert.equal(props(manual).dbSnapshotIdentifier, "oauth2-manual-20240115");
        assert.equal(manual.protect, true);
        assert.deepEqual(snapshot.outputs.manualSnapshotArns, {
            "oauth2-manual-20240115": "arn:aws:rds:us-east-1:123456789012:snapshot:oauth2-manual-20240115",
            "oauth2-pre-upgrade": "arn:aws:rds:us-east-1:123456789012:snapshot:oauth2-pre-upgrade",
        });
    });

    it("dr: restores from prod's automated backups replicated into the DR region, beside the replica", () => {
        assert.deepEqual(added(dr, drPitr), ["aws:rds/instance:Instance oauth2-postgres-restored", "oauth2-dr:database:RestoredDatabase restore"]);
        assertUntouched(dr, drPitr);
        const p = props(resource(drPitr, RDS, "oauth2-postgres-restored"));
        const replication = resource(dr, "aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication", "oauth2-postgres-replica-pitr");
        assert.equal(p.restoreToPointInTime.sourceDbInstanceAutomatedBackupsArn, replication.id);
        assert.match(String(p.restoreToPointInTime.sourceDbInstanceAutomatedBackupsArn), /^arn:aws:rds:us-west-2:\d{12}:auto-backup:/);
        assert.match(String(p.kmsKeyId), /^arn:aws:kms:us-west-2:/);
    });
});

describe("restore as configuration: azure and gcp plans", () => {
    let azure: PlanResult;
    let azurePitr: PlanResult;
    let gcp: PlanResult;
    let gcpPitr: PlanResult;
    let gcpBackup: PlanResult;
    const time = daysAgo(1);
    before(async () => {
        azure = await planWith("prod-azure");
        azurePitr = await planWith("prod-azure", { ...restore({ pointInTime: time }), "oauth2-dr:manualSnapshots": '["manual-20240115"]' });
        gcp = await planWith("prod-gcp");
        gcpPitr = await planWith("prod-gcp", restore({ pointInTime: time }));
        gcpBackup = await planWith("prod-gcp", restore({ fromSnapshot: "1705290000000" }));
    });

    it("azure: a PointInTimeRestore server from the running server's id, and on-demand backups", async () => {
        assert.deepEqual(added(azure, azurePitr), [
            "azure-native:dbforpostgresql:BackupsAutomaticAndOnDemand manual-20240115",
            `${SERVER} oauth2-postgres-restored`,
            "oauth2-dr:database:ManualSnapshots manual-snapshots",
            "oauth2-dr:database:RestoredDatabase restore",
        ]);
        assertUntouched(azure, azurePitr);
        const p = props(resource(azurePitr, SERVER, "oauth2-postgres-restored"));
        assert.equal(p.createMode, "PointInTimeRestore");
        assert.equal(p.sourceServerResourceId, azure.outputs.dbServerId);
        assert.equal(p.pointInTimeUTC, time);
        assert.equal(p.resourceGroupName, "oauth2-prod-rg");
        assert.equal(p.administratorLoginPassword, undefined);
        assert.equal(resource(azurePitr, SERVER, "oauth2-postgres-restored").protect, true);
        const backup = resource(azurePitr, "azure-native:dbforpostgresql:BackupsAutomaticAndOnDemand", "manual-20240115");
        assert.equal(props(backup).serverName, "oauth2-postgres");
        assert.equal(backup.protect, true);
        assert.deepEqual((await checkPlan(azurePitr, { policies: azurePolicies })).violations, []);
    });

    it("gcp: a clone at the point in time, or a restore of a backup id, beside the running instance", async () => {
        for (const plan of [gcpPitr, gcpBackup]) {
            assert.deepEqual(added(gcp, plan), [`${CLOUDSQL} oauth2-postgres-restored`, "oauth2-dr:database:RestoredDatabase restore"]);
            assertUntouched(gcp, plan);
            assert.deepEqual((await checkPlan(plan, { policies: cloudSqlPolicies })).violations, []);
        }
        const clone = props(resource(gcpPitr, CLOUDSQL, "oauth2-postgres-restored"));
        assert.deepEqual(clone.clone, { sourceInstanceName: "oauth2-postgres", pointInTime: time });
        assert.equal(clone.settings.backupConfiguration.backupRetentionSettings.retainedBackups, 30);
        const fromBackup = props(resource(gcpBackup, CLOUDSQL, "oauth2-postgres-restored"));
        assert.deepEqual(fromBackup.restoreBackupContext, { backupRunId: 1705290000000, instanceId: "oauth2-postgres", project: "oauth2-dr-prod" });
        assert.equal(fromBackup.clone, undefined);
    });
});
