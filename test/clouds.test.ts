/**
 * The database on all three clouds behind one interface: each cloud's database declares the retention
 * table's database row (30 days), the standby stacks declare a cross-region replica of the primary, the
 * stack outputs are the same everywhere, and the policy pack's Azure and Cloud SQL policies pass.
 */
import { strict as assert } from "assert";
import { ConfigError, parseStackConfig } from "../lib/config";
import { TABLE_RETENTION } from "../lib/retention";
import { PlanResult, isSecret } from "offline-plan/model";
import { loadStackSettings } from "offline-plan/stack-settings";
import { checkPlan } from "../tools/check/core";
import { azurePolicies } from "../policy/azure";
import { cloudSqlPolicies } from "../policy/cloudsql";
import { props, REPO, resource, resourcesOfType } from "./support/plans";
import { assertNotInPlainText, planPair } from "./support/dr-plans";

const SERVER = "azure-native:dbforpostgresql:Server";
const CLOUDSQL = "gcp:sql/databaseInstance:DatabaseInstance";
const INTERFACE_OUTPUTS = ["cloud", "role", "region", "retention", "dbAddress", "dbPort", "dbName", "jdbcUrl", "databaseUrl"];

function problemsOf(stack: string, overrides: Record<string, string | undefined>): string[] {
    const config: Record<string, string | undefined> = { ...loadStackSettings(REPO, stack).config, ...overrides };
    try {
        parseStackConfig((key) => config[key], stack);
    } catch (err) {
        assert.ok(err instanceof ConfigError);
        return err.problems;
    }
    return [];
}

function rejects(stack: string, overrides: Record<string, string | undefined>, key: string, fragment: string): void {
    const lines = problemsOf(stack, overrides);
    const line = lines.find((l) => l.startsWith(`${key}: `));
    assert.ok(line, `no problem for ${key}; got ${JSON.stringify(lines)}`);
    assert.ok(line.includes(fragment), `"${line}" should mention "${fragment}"`);
}

describe("three clouds: Azure PostgreSQL Flexible Server", () => {
    let prod: PlanResult;
    let dr: PlanResult;
    before(async () => {
        [prod, dr] = await planPair("prod-azure", "dr-azure");
    });

    it("declares oauth2-postgres in oauth2-prod-rg with 30-day geo-redundant backups, zone-redundant HA and auto-grow", () => {
        const server = resource(prod, SERVER, "oauth2-postgres");
        const p = props(server);
        assert.equal(p.serverName, "oauth2-postgres");
        assert.equal(p.resourceGroupName, "oauth2-prod-rg");
        assert.equal(p.location, "eastus2");
        assert.equal(p.createMode, "Default");
        assert.equal(p.backup.backupRetentionDays, TABLE_RETENTION.database);
        assert.equal(p.backup.geoRedundantBackup, "Enabled");
        assert.equal(p.highAvailability.mode, "ZoneRedundant");
        assert.equal(p.storage.autoGrow, "Enabled");
        assert.equal(p.network.publicNetworkAccess, "Disabled");
        assert.equal(server.protect, true);
        assert.equal(resource(prod, "azure-native:resources:ResourceGroup", "oauth2-prod-rg").protect, true);
        assert.equal(props(resource(prod, "azure-native:dbforpostgresql:Database", "oauth2-postgres-oauth2db")).databaseName, "oauth2db");
    });

    it("takes the admin password from @pulumi/random, secret on the wire and in outputs", () => {
        const server = resource(prod, SERVER, "oauth2-postgres");
        assert.ok(isSecret(server.inputs.administratorLoginPassword));
        resource(prod, "random:index/randomPassword:RandomPassword", "oauth2-postgres-admin-password");
        assert.ok(isSecret(prod.outputs.dbAdminPassword));
        assert.ok(isSecret(prod.outputs.databaseUrl));
        assertNotInPlainText(prod, "mock-oauth2-postgres-admin-password");
        assertNotInPlainText(dr, "mock-oauth2-postgres-admin-password");
    });

    it("standby: a cross-region replica whose source is the prod server's resource id", () => {
        const replica = props(resource(dr, SERVER, "oauth2-postgres-replica"));
        assert.equal(replica.createMode, "Replica");
        assert.equal(replica.sourceServerResourceId, prod.outputs.dbServerId);
        assert.match(String(replica.sourceServerResourceId), /\/providers\/Microsoft\.DBforPostgreSQL\/flexibleServers\/oauth2-postgres$/);
        assert.equal(replica.location, "centralus");
        assert.equal(replica.resourceGroupName, "oauth2-dr-rg");
        assert.equal(replica.replica, undefined, "not promoted");
        assert.equal(resource(dr, SERVER, "oauth2-postgres-replica").protect, true);
    });

    it("the Azure policies of the pack pass on both stacks", async () => {
        for (const plan of [prod, dr]) {
            const check = await checkPlan(plan, { policies: azurePolicies });
            assert.deepEqual(check.violations, [], `${plan.stack}: ${JSON.stringify(check.violations)}`);
        }
    });

    it("(the Azure policies do catch a short retention on this plan: the check above is not vacuous)", async () => {
        const mutated: PlanResult = JSON.parse(JSON.stringify(prod));
        const server = mutated.resources.find((r) => r.type === SERVER && r.name === "oauth2-postgres")!;
        (server.inputs.backup as Record<string, unknown>).backupRetentionDays = 7;
        const check = await checkPlan(mutated, { policies: azurePolicies });
        assert.equal(check.violations.length, 1);
    });

    it("judges a subset of the pack by this check's settings, not by those an earlier check in the process left (a waiver lowering the database row to 7 days)", async () => {
        const mutated: PlanResult = JSON.parse(JSON.stringify(prod));
        const server = mutated.resources.find((r) => r.type === SERVER && r.name === "oauth2-postgres")!;
        (server.inputs.backup as Record<string, unknown>).backupRetentionDays = 7;
        const waived = { "oauth2-dr-settings": { waivers: [{ row: "database", value: 7, reason: "trial", approvedBy: "sec" }] } };
        assert.deepEqual((await checkPlan(mutated, { config: waived })).violations.filter((v) => v.policy === "azure-postgres-backup-retention"), [], "the waiver lowers the row");
        const check = await checkPlan(mutated, { policies: azurePolicies });
        assert.deepEqual(check.violations.map((v) => v.policy), ["azure-postgres-backup-retention"]);
    });

    it("the same interface outputs as aws", () => {
        for (const key of INTERFACE_OUTPUTS) {
            assert.ok(key in prod.outputs, `prod-azure output ${key}`);
        }
        assert.equal(prod.outputs.jdbcUrl, "jdbc:postgresql://oauth2-postgres.postgres.database.azure.com:5432/oauth2db");
    });
});

describe("three clouds: Google Cloud SQL", () => {
    let prod: PlanResult;
    let dr: PlanResult;
    before(async () => {
        [prod, dr] = await planPair("prod-gcp", "dr-gcp");
    });

    it("declares oauth2-postgres with backups at the window's start, PITR, 30 retained backups, log retention, REGIONAL, deletion protection", () => {
        const instance = resource(prod, CLOUDSQL, "oauth2-postgres");
        const p = props(instance);
        assert.equal(p.name, "oauth2-postgres");
        assert.equal(p.databaseVersion, "POSTGRES_15");
        assert.equal(p.deletionProtection, true);
        const b = p.settings.backupConfiguration;
        assert.equal(b.enabled, true);
        assert.equal(b.startTime, "03:00", "the start of backupWindow 03:00-04:00");
        assert.equal(b.pointInTimeRecoveryEnabled, true);
        assert.deepEqual(b.backupRetentionSettings, { retainedBackups: TABLE_RETENTION.database, retentionUnit: "COUNT" });
        // The row's continuous part: 30 days of transaction log, which only Enterprise Plus keeps (1-35; Enterprise 1-7).
        assert.equal(b.transactionLogRetentionDays, TABLE_RETENTION.database);
        assert.equal(p.settings.edition, "ENTERPRISE_PLUS");
        assert.equal(p.settings.tier, "db-perf-optimized-N-4");
        assert.equal(p.settings.availabilityType, "REGIONAL");
        assert.equal(p.settings.deletionProtectionEnabled, true);
        assert.equal(p.settings.ipConfiguration.ipv4Enabled, false);
        assert.equal(p.settings.maintenanceWindow.day, 7, "Sunday is 7 in Cloud SQL");
        assert.equal(instance.protect, true);
    });

    it("the admin user's password comes from @pulumi/random and is secret", () => {
        const user = resource(prod, "gcp:sql/user:User", "oauth2-postgres-oauth2admin");
        assert.ok(isSecret(user.inputs.password));
        assertNotInPlainText(prod, "mock-oauth2-postgres-admin-password");
    });

    it("standby: a cross-region read replica of the prod instance, without backups of its own", () => {
        const replica = props(resource(dr, CLOUDSQL, "oauth2-postgres-replica"));
        assert.equal(replica.masterInstanceName, prod.outputs.dbInstanceName);
        assert.equal(replica.region, "us-east4");
        assert.equal(replica.instanceType, "READ_REPLICA_INSTANCE");
        assert.equal(replica.settings.backupConfiguration, undefined, "Cloud SQL rejects backups on replicas");
        assert.equal(replica.deletionProtection, true);
    });

    it("the Cloud SQL policies of the pack pass on both stacks", async () => {
        for (const plan of [prod, dr]) {
            const check = await checkPlan(plan, { policies: cloudSqlPolicies });
            assert.deepEqual(check.violations, [], `${plan.stack}: ${JSON.stringify(check.violations)}`);
        }
    });

    it("the same interface outputs as aws", () => {
        for (const key of INTERFACE_OUTPUTS) {
            assert.ok(key in prod.outputs, `prod-gcp output ${key}`);
        }
        assert.match(String(prod.outputs.jdbcUrl), /^jdbc:postgresql:\/\/10\.\d+\.0\.3:5432\/oauth2db$/);
    });

    it("keeps the runbook's backup storage in AWS: bucket, secrets with DR replicas, audit logs; no RDS", () => {
        assert.equal(resourcesOfType(prod, "aws:s3/bucket:Bucket")[0]?.name, "oauth2-backups-prod-gcp");
        const secrets = resourcesOfType(prod, "aws:secretsmanager/secret:Secret");
        assert.equal(secrets.length, 3);
        for (const secret of secrets) {
            assert.equal(props(secret).replicas[0].region, "us-west-2");
        }
        const credentials = resource(prod, "aws:secretsmanager/secretVersion:SecretVersion", "oauth2-db-credentials");
        assert.ok(isSecret(credentials.inputs.secretString), "the Cloud SQL credentials are written as a secret");
        assert.equal(props(resource(prod, "aws:cloudwatch/logGroup:LogGroup", "/oauth2/authorization-server/audit")).retentionInDays, 365);
        const replication = props(resource(dr, "aws:s3/bucketReplicationConfig:BucketReplicationConfig", "backup-replication-config"));
        assert.equal(replication.bucket, "oauth2-backups-prod-gcp");
        assert.equal(replication.region, "us-east-1");
        for (const plan of [prod, dr]) {
            assert.equal(resourcesOfType(plan, "aws:rds/instance:Instance").length, 0);
        }
    });
});

describe("three clouds: configuration per cloud", () => {
    it("parses the azure and gcp stacks", () => {
        assert.deepEqual(problemsOf("prod-azure", {}), []);
        assert.deepEqual(problemsOf("prod-gcp", {}), []);
        assert.deepEqual(problemsOf("dr-azure", {}), []);
        assert.deepEqual(problemsOf("dr-gcp", {}), []);
    });

    it("does not ask azure/gcp stacks for AWS networking, and DNS is optional there", () => {
        const gcpNoDns = problemsOf("prod-gcp", { "oauth2-dr:hostedZoneId": undefined, "oauth2-dr:regionalEndpoint": undefined });
        assert.deepEqual(gcpNoDns, []);
        // The backup storage is in AWS on every cloud: its regions are required and checked.
        rejects("prod-gcp", { "aws:region": undefined }, "aws:region", "awsPrimaryRegion (us-east-1)");
        rejects("prod-gcp", { "oauth2-dr:awsDrRegion": "us-east-1" }, "oauth2-dr:awsDrRegion", "equals awsPrimaryRegion");
        rejects("dr-azure", { "aws:region": "us-east-1" }, "aws:region", "awsDrRegion (us-west-2)");
        rejects("prod-azure", { "oauth2-dr:awsPrimaryRegion": "eastus2" }, "oauth2-dr:awsPrimaryRegion", "not an AWS region");
    });

    it("names the key of every azure problem", () => {
        rejects("prod-azure", { "oauth2-dr:allocatedStorageGb": "100" }, "oauth2-dr:allocatedStorageGb", "not an Azure Flexible Server storage size");
        // Left out of an azure stack file, the key takes Pulumi.yaml's default (100, an RDS size): the line says so.
        rejects("prod-azure", { "oauth2-dr:allocatedStorageGb": "100" }, "oauth2-dr:allocatedStorageGb", "100 is the default when the key is not set: set it on an azure stack");
        assert.ok(!problemsOf("prod-azure", { "oauth2-dr:allocatedStorageGb": "200" }).some((l) => l.includes("default")));
        rejects("prod-azure", { "oauth2-dr:azure": JSON.stringify({ skuTier: "Burstable" }) }, "oauth2-dr:azure.skuTier", "zone-redundant");
        rejects("prod-azure", { "oauth2-dr:azure": JSON.stringify({ resourceGroupp: "x" }) }, "oauth2-dr:azure.resourceGroupp", "unknown key");
        rejects("prod-azure", { "oauth2-dr:azure": JSON.stringify({ delegatedSubnetId: "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/r/providers/x" }) }, "oauth2-dr:azure.privateDnsZoneId", "both");
        rejects("prod-azure", { "oauth2-dr:primaryRegion": "us-east-1" }, "oauth2-dr:primaryRegion", "not an azure region name");
    });

    it("names the key of every gcp problem", () => {
        rejects("prod-gcp", { "gcp:project": undefined }, "oauth2-dr:gcp.project", "is required");
        rejects("prod-gcp", { "oauth2-dr:gcp": JSON.stringify({ tier: "db-custom-4-16384" }) }, "oauth2-dr:gcp.privateNetwork", "is required");
        rejects("prod-gcp", { "oauth2-dr:gcp": JSON.stringify({ privateNetwork: "projects/p1234/global/networks/n", edition: "ENTERPRISE", transactionLogRetentionDays: 14 }) }, "oauth2-dr:gcp.transactionLogRetentionDays", "between 1 and 7");
        rejects("prod-gcp", { "oauth2-dr:gcp": JSON.stringify({ privateNetwork: "default" }) }, "oauth2-dr:gcp.privateNetwork", "not a VPC network");
        rejects("prod-gcp", { "oauth2-dr:gcp": JSON.stringify({ privateNetwork: "projects/p1234/global/networks/n", tier: "custom-4-16384" }) }, "oauth2-dr:gcp.tier", "not a Cloud SQL machine tier");
    });

    it("refuses a provider default that contradicts the stack: azure-native:location / gcp:region other than this role's region, gcp:project other than gcp.project", () => {
        rejects("prod-azure", { "azure-native:location": "westus2" }, "azure-native:location", '"westus2" must equal oauth2-dr:primaryRegion (eastus2) for a primary stack');
        rejects("dr-azure", { "azure-native:location": "eastus2" }, "azure-native:location", "must equal oauth2-dr:drRegion (centralus) for a standby stack");
        rejects("prod-gcp", { "gcp:region": "europe-west3" }, "gcp:region", "must equal oauth2-dr:primaryRegion (us-central1)");
        const withProject = (project: string) => ({ "oauth2-dr:gcp": JSON.stringify({ project, privateNetwork: "projects/p1234/global/networks/n" }) });
        rejects("prod-gcp", withProject("acme-identity-other"), "oauth2-dr:gcp.project", 'differs from gcp:project "oauth2-dr-prod"');
        assert.deepEqual(problemsOf("prod-gcp", withProject("oauth2-dr-prod")), []);
        assert.deepEqual(problemsOf("prod-azure", { "azure-native:location": undefined }), []);
    });

    it("accepts the Enterprise Plus machine tiers as Cloud SQL names them (db-perf-optimized-N-4: a capital N)", () => {
        const gcp = (edition: string, tier: string) => ({ "oauth2-dr:gcp": JSON.stringify({ privateNetwork: "projects/p1234/global/networks/n", edition, tier, transactionLogRetentionDays: 7 }) });
        assert.deepEqual(problemsOf("prod-gcp", gcp("ENTERPRISE_PLUS", "db-perf-optimized-N-4")), []);
        assert.deepEqual(problemsOf("prod-gcp", gcp("ENTERPRISE", "db-custom-4-16384")), []);
        // The rule between keys that names these tiers is reached (the tier's own pattern refused them before it).
        rejects("prod-gcp", gcp("ENTERPRISE_PLUS", "db-custom-4-16384"), "oauth2-dr:gcp.tier", "not available on ENTERPRISE_PLUS");
    });

    it("defaults by edition: Enterprise Plus with db-perf-optimized-N-4 and 30 days of log (the database row); edition ENTERPRISE alone gets db-custom-4-16384 and 7, never a refused 30", () => {
        const gcpOf = (section: Record<string, unknown>) => {
            const config: Record<string, string | undefined> = { ...loadStackSettings(REPO, "prod-gcp").config, "oauth2-dr:gcp": JSON.stringify({ privateNetwork: "projects/p1234/global/networks/n", ...section }) };
            return parseStackConfig((key) => config[key], "prod-gcp").gcp!;
        };
        assert.deepEqual([gcpOf({}).edition, gcpOf({}).tier, gcpOf({}).transactionLogRetentionDays], ["ENTERPRISE_PLUS", "db-perf-optimized-N-4", 30]);
        const enterprise = gcpOf({ edition: "ENTERPRISE" });
        assert.deepEqual([enterprise.tier, enterprise.transactionLogRetentionDays], ["db-custom-4-16384", 7]);
        assert.equal(gcpOf({ edition: "ENTERPRISE", tier: "db-custom-2-7680", transactionLogRetentionDays: 5 }).tier, "db-custom-2-7680");
    });

    it("rejects CloudWatch alarm topics on azure/gcp stacks", () => {
        rejects("prod-azure", { "oauth2-dr:alarmTopicArn": "arn:aws:sns:us-east-1:123456789012:t" }, "oauth2-dr:alarmTopicArn", "aws stacks only");
    });
});
