/**
 * Issue 22 (second trial): numeric inputs read the provider's way (policy/numbers.ts), a retention row met
 * only when every resource implementing it meets it, and checks whose deciding input is unknown listed as
 * "not judged in this preview" (policy/unknowns.ts notJudgedInPreview).
 */
import { strict as assert } from "assert";
import { configOf } from "../../policy/config";
import { asNumber, NotANumber } from "../../policy/numbers";
import { rdsBackupRetention } from "../../policy/rds";
import { MatrixConfig, matrixSchema, stackMatrix } from "../../policy/retention-matrix";
import { secretsRecoveryWindow } from "../../policy/secrets";
import { settingsFromConfig, settingsPolicy } from "../../policy/settings";
import { T } from "../../policy/types";
import { unknownInputsOf } from "../../policy/unknowns";
import { evaluateResourcePolicies, policyResources, prepare } from "offline-plan/policy-harness";
import { unjudgedInPreview } from "../../tools/check/core";
import { HandBuilt, runResourcePolicy, toAnalyzerResources, UNKNOWN } from "./helpers";

const rds = (name: string, props: Record<string, unknown>): HandBuilt => ({
    type: T.rdsInstance,
    name,
    props: { engine: "postgres", storageEncrypted: true, deletionProtection: true, finalSnapshotIdentifier: `${name}-final`, ...props },
});

function databaseRow(resources: HandBuilt[]) {
    const settings = settingsFromConfig({});
    const config = configOf<MatrixConfig>(matrixSchema, { getConfig: <C extends object>() => ({}) as C });
    const { rows } = stackMatrix(policyResources(prepare(toAnalyzerResources(resources))), new Map(), settings, config);
    return rows.find((r) => r.dataClass === "database")!;
}

describe("numbers, retention rows and unknown inputs (issue 22, second trial)", () => {
    it("asNumber reads a number input as the provider does: decimal strings convert, nothing else does", () => {
        assert.equal(asNumber("35"), 35);
        assert.equal(asNumber("1e2"), 100);
        assert.equal(asNumber(7), 7);
        assert.equal(asNumber(undefined), undefined);
        assert.equal(asNumber(null), undefined);
        for (const refused of ["abc", " 35", "35 days", "", true]) {
            assert.ok(asNumber(refused) instanceof NotANumber, JSON.stringify(refused));
        }
    });

    it('rds-backup-retention and secretsmanager-recovery-window: "35" counts as 35, "abc" is not a number, named', async () => {
        assert.deepEqual(await runResourcePolicy(rdsBackupRetention, rds("ledger", { backupRetentionPeriod: "35" })), []);
        assert.deepEqual(await runResourcePolicy(rdsBackupRetention, rds("ledger", { backupRetentionPeriod: "7" })), [
            "ledger: backupRetentionPeriod is 7 days; the retention table's database row requires at least 30 days of backups (PostgreSQL instance)",
        ]);
        const [abc] = await runResourcePolicy(rdsBackupRetention, rds("ledger", { backupRetentionPeriod: "abc" }));
        assert.match(abc, /^ledger: backupRetentionPeriod is "abc" \(not a number\); /);
        assert.deepEqual(await runResourcePolicy(secretsRecoveryWindow, { type: T.secret, name: "token", props: { recoveryWindowInDays: "14" } }), []);
        const [zero] = await runResourcePolicy(secretsRecoveryWindow, { type: T.secret, name: "token", props: { recoveryWindowInDays: "0" } });
        assert.match(zero, /recoveryWindowInDays is 0; .*\(0 deletes it immediately\)/);
    });

    it("the database row: met only when every database meets it, found the shortest, each shortfall listed", () => {
        const two = databaseRow([rds("a", { backupRetentionPeriod: 35 }), rds("b", { backupRetentionPeriod: 0 })]);
        assert.equal(two.status, "missing");
        assert.equal(two.found, "0 days");
        assert.deepEqual(two.shortfalls, ["b: backupRetentionPeriod 0 days < 30"]);
        const mixed = databaseRow([rds("orders", { backupRetentionPeriod: 7 }), { type: T.docdbCluster, name: "profiles", props: { backupRetentionPeriod: 1 } }]);
        assert.equal(mixed.found, "1 day");
        assert.deepEqual(mixed.shortfalls.sort(), ["orders: backupRetentionPeriod 7 days < 30", "profiles: backupRetentionPeriod 1 day < 30"]);
        const strings = databaseRow([rds("a", { backupRetentionPeriod: "35" })]);
        assert.equal(strings.status, "met");
        assert.equal(strings.found, "35 days");
        assert.deepEqual(databaseRow([rds("a", { backupRetentionPeriod: "abc" })]).shortfalls, ['a: backupRetentionPeriod "abc" (not a number)']);
    });

    it("the database row: not met while one of its databases is unknown (a StackReference's retention), whatever the others", () => {
        const oneUnknown = databaseRow([rds("a", { backupRetentionPeriod: 35 }), rds("b", { backupRetentionPeriod: UNKNOWN })]);
        assert.equal(oneUnknown.status, "unknown");
        // A Flexible Server whose createMode is unknown may be a replica (no backups) or a server that counts: unknown too.
        const azure = (name: string, props: Record<string, unknown>): HandBuilt => ({ type: "azure-native:dbforpostgresql:Server", name, props });
        const flexible = databaseRow([azure("a", { backup: { backupRetentionDays: 35 } }), azure("b", { createMode: UNKNOWN, backup: { backupRetentionDays: 7 } })]);
        assert.equal(flexible.status, "unknown");
        assert.equal(databaseRow([azure("a", { backup: { backupRetentionDays: 35 } })]).status, "met");
        // Cloud SQL whose backups' `enabled` is unknown: its 30 retained backups prove nothing yet.
        const cloudSql = (enabled: unknown): HandBuilt => ({ type: T.cloudSql, name: "sql", props: { databaseVersion: "POSTGRES_15", settings: { backupConfiguration: { enabled, transactionLogRetentionDays: 30, backupRetentionSettings: { retainedBackups: 30 } } } } });
        assert.equal(databaseRow([cloudSql(true)]).status, "met");
        assert.equal(databaseRow([cloudSql(UNKNOWN)]).status, "unknown");
        const tooMany: HandBuilt = { type: T.cloudSql, name: "sql", props: { databaseVersion: "POSTGRES_15", settings: { backupConfiguration: { enabled: true, backupRetentionSettings: { retainedBackups: 400 } } } } };
        assert.equal(databaseRow([tooMany]).status, "missing");
        assert.deepEqual(databaseRow([tooMany]).shortfalls, ["sql: retainedBackups 400, above the 365 Cloud SQL accepts"]);
        // "Found" names the refused value (the resource that fails the row), not a compliant neighbour's.
        const good: HandBuilt = { type: T.cloudSql, name: "sql-ok", props: { databaseVersion: "POSTGRES_15", settings: { backupConfiguration: { enabled: true, transactionLogRetentionDays: 30, backupRetentionSettings: { retainedBackups: 30 } } } } };
        assert.equal(databaseRow([good, tooMany]).found, "400 daily backups (sql: refused, above the 365 Cloud SQL accepts)");
        const reporting = databaseRow([azure("weu", { backup: { backupRetentionDays: 35 } }), azure("reporting", { backup: { backupRetentionDays: 40 } })]);
        assert.deepEqual([reporting.status, reporting.found], ["missing", "40 days (reporting: refused, above the 35 Azure accepts)"]);
    });

    it("a check whose deciding input is unknown ends as not judged in this preview, naming the input", async () => {
        const prepared = prepare(toAnalyzerResources([rds("orders", { backupRetentionPeriod: UNKNOWN })]));
        const result = await evaluateResourcePolicies([settingsPolicy, rdsBackupRetention], prepared, { packEnforcementLevel: "mandatory" });
        assert.deepEqual(result.violations, []);
        const reasons = result.notApplicable.filter((n) => n.policy === rdsBackupRetention.name).map((n) => unknownInputsOf(n.reason)).filter((r) => r !== undefined);
        assert.deepEqual(reasons, [{ inputs: "backupRetentionPeriod" }]);
        assert.deepEqual(
            unjudgedInPreview(result.notApplicable, prepared.resources).map(({ name, inputs, policies }) => ({ name, inputs, policies })),
            [{ name: "orders", inputs: "backupRetentionPeriod", policies: ["rds-backup-retention"] }],
        );
    });

    it("a stack policy's not-judged record (no resource) is listed against the stack, not dropped; another stack-level reason is not", () => {
        const records = [
            { policy: "aws-backup-plan-retention", reason: 'not judged in this preview: plan rule "daily" targetVaultName unknown until the update: whether it is locked' },
            { policy: "aws-backup-plan-retention", reason: "Policy only applies to resources of type 'aws:backup/plan:Plan'" },
        ];
        assert.deepEqual(unjudgedInPreview(records, []), [
            { name: "(the stack)", type: "stack policy", inputs: 'plan rule "daily" targetVaultName', why: "whether it is locked", policies: ["aws-backup-plan-retention"] },
        ]);
    });
});
