/** The text plan's summary lines (src/format.ts) on resources written by other teams. */
import { strict as assert } from "assert";
import { keyProperties } from "../src/format";
import { PlannedResource, UNKNOWN } from "../src/model";

/** A planned CronJob as a test builds it by hand: no options, no dependencies. */
function cronJob(inputs: Record<string, unknown>): PlannedResource {
    const type = "kubernetes:batch/v1:CronJob";
    return { urn: `urn:pulumi:dev::probe::${type}::probe`, type, name: "probe", custom: true, protect: false, retainOnDelete: false, dependencies: [], propertyDependencies: {}, ignoreChanges: [], additionalSecretOutputs: [], inputs };
}

describe("text plan summaries (src/format.ts keyProperties)", () => {
    it("a CronJob without a namespace, history limits or security context reads (not set), never undefined", () => {
        const lines = keyProperties(cronJob({ spec: { schedule: "*/5 * * * *", jobTemplate: { spec: { template: { spec: { containers: [{ image: "busybox:1.36" }] } } } } } }));
        assert.ok(!lines.some((l) => l.includes("undefined")), lines.join("\n"));
        assert.ok(lines.includes("namespace=(not set)"));
        assert.ok(lines.includes("history=(not set)/(not set)"));
        assert.ok(lines.includes("image=busybox:1.36"));
        assert.ok(lines.includes('schedule="*/5 * * * *"'));
    });

    it("any other namespaced Kubernetes object shows its namespace first; an object without one, and other types, do not", () => {
        const of = (type: string, inputs: Record<string, unknown>): PlannedResource => ({ ...cronJob({}), type, urn: `urn:pulumi:dev::probe::${type}::probe`, inputs });
        const binding = keyProperties(of("kubernetes:rbac.authorization.k8s.io/v1:RoleBinding", { kind: "RoleBinding", metadata: { name: "reader", namespace: "identity" } }));
        assert.deepEqual(binding, ["namespace=identity", 'kind="RoleBinding"']);
        assert.ok(!keyProperties(of("kubernetes:core/v1:Namespace", { kind: "Namespace", metadata: { name: "identity" } })).some((l) => l.startsWith("namespace=")));
        assert.ok(!keyProperties(of("aws:s3/bucket:Bucket", { bucket: "b", metadata: { namespace: "x" } })).some((l) => l.startsWith("namespace=")));
    });

    it("a managed database's backup settings (nested objects) are shown: Azure's backup block, Cloud SQL's settings.backupConfiguration", () => {
        const of = (type: string, inputs: Record<string, unknown>): PlannedResource => ({ ...cronJob({}), type, urn: `urn:pulumi:dev::probe::${type}::probe`, inputs });
        const azure = keyProperties(of("azure-native:dbforpostgresql:Server", {
            serverName: "idp-pg", version: "16", administratorLogin: "admin",
            backup: { backupRetentionDays: 35, geoRedundantBackup: "Enabled" }, highAvailability: { mode: "ZoneRedundant" },
        }));
        assert.deepEqual(azure, ['serverName="idp-pg"', 'version="16"', "backup.backupRetentionDays=35", 'backup.geoRedundantBackup="Enabled"', 'highAvailability.mode="ZoneRedundant"']);
        // The same server through an API-version module (the azure-native v1/v2 idiom).
        assert.ok(keyProperties(of("azure-native:dbforpostgresql/v20221201:Server", { backup: { backupRetentionDays: 7 } })).includes("backup.backupRetentionDays=7"));
        const gcp = keyProperties(of("gcp:sql/databaseInstance:DatabaseInstance", {
            databaseVersion: "POSTGRES_15",
            settings: { tier: "db-custom-2-7680", backupConfiguration: { enabled: true, transactionLogRetentionDays: UNKNOWN, backupRetentionSettings: { retainedBackups: 30 } } },
        }));
        assert.deepEqual(gcp, [
            'databaseVersion="POSTGRES_15"', 'settings.tier="db-custom-2-7680"', "settings.backupConfiguration.enabled=true",
            'settings.backupConfiguration.transactionLogRetentionDays="(computed)"', "settings.backupConfiguration.backupRetentionSettings.retainedBackups=30",
        ]);
        // A settings block unknown as a whole (preview) reads (computed) at each path instead of vanishing.
        assert.ok(keyProperties(of("gcp:sql/databaseInstance:DatabaseInstance", { settings: UNKNOWN })).includes('settings.backupConfiguration.enabled="(computed)"'));
    });
});
