/** Stack policies on hand-built stacks, and the harness's engine-faithful behaviour. */
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as path from "path";
import { TS_REGISTER } from "offline-plan/runner";
import { s3BackupBucketBaseline, s3BackupReplication } from "../../policy/s3-stack";
import { s3BackupVersioning } from "../../policy/s3";
import { drFailoverTopology, retentionTableCoverage } from "../../policy/stack";
import { rdsBackupRetention } from "../../policy/rds";
import { evaluateResourcePolicies, policyResources, prepare } from "offline-plan/policy-harness";
import { indexStack } from "../../policy/resources";
import { DEFAULT_SETTINGS } from "../../policy/settings";
import { validatePackConfig } from "../../tools/check/pack-config";
import { ALL_POLICIES } from "../../policy/all";
import { HandBuilt, runStackPolicy, toAnalyzerResources, UNKNOWN } from "./helpers";

const bucket = (name: string, tags: Record<string, string> = {}, region = "us-west-2"): HandBuilt => ({ type: "aws:s3/bucket:Bucket", name, providerRegion: region, props: { bucket: name, tags } });
const record = (type: string): HandBuilt => ({ type: "aws:route53/record:Record", name: `dns-${type}`, props: { failoverRoutingPolicies: [{ type }], healthCheckId: "hc", tags: {} } });
const replica = (source: string): HandBuilt => ({ type: "aws:rds/instance:Instance", name: "replica", providerRegion: "us-west-2", props: { replicateSourceDb: source, backupRetentionPeriod: 30, tags: { role: "standby" } } });
const replication = (source: string, destination: string, region = "us-east-1", status = "Enabled"): HandBuilt => ({
    type: "aws:s3/bucketReplicationConfig:BucketReplicationConfig",
    name: "replication",
    providerRegion: "us-west-2",
    props: { bucket: source, region, rules: [{ status, destination: { bucket: `arn:aws:s3:::${destination}` } }] },
});

describe("stack policies", () => {
    it("s3-backup-bucket-baseline: a tagged bucket without configuration is named for each missing piece", async () => {
        const violations = await runStackPolicy(s3BackupBucketBaseline, [bucket("team-backups", { backup: "true" }), bucket("web-assets")]);
        assert.deepEqual(violations.map((v) => v.message.split(";")[0]), [
            "team-backups: backup bucket has no BucketVersioning (versioning is off)",
            "team-backups: backup bucket has no BucketServerSideEncryptionConfiguration",
            "team-backups: backup bucket has no BucketPublicAccessBlock",
            "team-backups: backup bucket has no BucketPolicy denying insecure transport",
        ]);
        assert.ok(violations.every((v) => v.urn?.endsWith("::team-backups")));
    });

    it("a tag-only bucket's configuration is judged by the aspect policies; configuration linked through propertyDependencies when the name is unknown", async () => {
        const tagged = bucket("team-backups", { backup: "true" });
        const bucketUrn = toAnalyzerResources([tagged])[1].urn;
        const config = (type: string, props: Record<string, unknown>): HandBuilt => ({ type, name: `${type.split(":").pop()}`, props: { bucket: UNKNOWN, ...props }, propertyDependencies: { bucket: [bucketUrn] } });
        const violations = await runStackPolicy(s3BackupVersioning, [
            tagged,
            config("aws:s3/bucketVersioning:BucketVersioning", { versioningConfiguration: { status: "Suspended" } }),
            config("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", { rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: "k" } }] }),
            config("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", { blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true }),
            config("aws:s3/bucketPolicy:BucketPolicy", { policy: UNKNOWN }),
        ]);
        assert.deepEqual(violations.map((v) => v.message.split(";")[0]), ['BucketVersioning (bucket team-backups, backup storage: tag backup=true): versioningConfiguration.status is "Suspended"']);
    });

    it("s3-backup-replication: a standby's bucket must receive cross-region replication; a primary is not judged by default", async () => {
        const standby = [bucket("oauth2-backups-dr", { role: "standby" }), record("SECONDARY")];
        assert.equal((await runStackPolicy(s3BackupReplication, standby)).length, 1);
        assert.deepEqual(await runStackPolicy(s3BackupReplication, [...standby, replication("oauth2-backups-prod", "oauth2-backups-dr")]), []);
        assert.equal((await runStackPolicy(s3BackupReplication, [...standby, replication("oauth2-backups-prod", "oauth2-backups-dr", "us-west-2")])).length, 1);
        assert.equal((await runStackPolicy(s3BackupReplication, [...standby, replication("oauth2-backups-prod", "oauth2-backups-dr", "us-east-1", "Disabled")])).length, 1);
        const primary = [bucket("oauth2-backups-prod", { role: "primary" }, "us-east-1"), record("PRIMARY")];
        assert.deepEqual(await runStackPolicy(s3BackupReplication, primary), []);
        const self = await runStackPolicy(s3BackupReplication, primary, { config: { "s3-backup-replication": { replicationDeclaredBy: "self" } } });
        assert.match(self[0].message, /oauth2-backups-prod: backup bucket is not the source of an Enabled cross-region BucketReplicationConfig rule/);
    });

    it("buckets named with bucketPrefix: each is its own bucket (the prefix is shared), and replication is matched through the resource graph", async () => {
        const urn = (type: string, name: string) => `urn:pulumi:test::proj::${type}::${name}`;
        const BUCKET = "aws:s3/bucketV2:BucketV2";
        const prefixed = (name: string, region: string): HandBuilt => ({ type: BUCKET, name, providerRegion: region, props: { bucketPrefix: "dumps-" } });
        const config = (type: string, of: string, props: Record<string, unknown>): HandBuilt => ({ type, name: `${of}-${type.split(":").pop()}`, props: { bucket: `dumps-2026${of.length}`, ...props }, propertyDependencies: { bucket: [urn(BUCKET, of)] } });
        const complete = (of: string) => [
            config("aws:s3/bucketVersioningV2:BucketVersioningV2", of, { versioningConfiguration: { status: "Enabled" } }),
            config("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", of, { blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true }),
            config("aws:s3/bucketPolicy:BucketPolicy", of, { policy: UNKNOWN }),
            config("aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2", of, { rules: [{ id: "d", status: "Enabled", filter: { prefix: "database/" }, expiration: { days: 40 } }] }),
        ];
        const stack = [
            prefixed("dumps", "us-east-1"),
            prefixed("dumps-copy", "us-west-2"),
            ...complete("dumps"),
            ...complete("dumps-copy"),
            config("aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2", "dumps", { rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: "k" } }] }),
        ];
        // Only the copy lacks encryption: with the two under one name, the original's would have hidden it.
        const baseline = await runStackPolicy(s3BackupBucketBaseline, stack);
        assert.deepEqual(baseline.map((v) => v.urn), [urn(BUCKET, "dumps-copy")]);
        const link: HandBuilt = {
            type: "aws:s3/bucketReplicationConfig:BucketReplicationConfig",
            name: "dumps",
            providerRegion: "us-east-1",
            props: { bucket: "dumps-20260101000000123", rules: [{ status: "Enabled", destination: { bucket: "arn:aws:s3:::dumps-20260101000000456" } }] },
            propertyDependencies: { bucket: [urn(BUCKET, "dumps")], rules: [urn(BUCKET, "dumps-copy")] },
        };
        assert.equal((await runStackPolicy(s3BackupReplication, stack)).length, 2, "neither is replicated");
        assert.deepEqual(await runStackPolicy(s3BackupReplication, [...stack, link]), [], "the source and the destination, found through the graph");
    });

    it("dr-failover-topology: roles from tags, stack tags and records; not applicable when unknown", async () => {
        assert.deepEqual(await runStackPolicy(drFailoverTopology, [record("PRIMARY")]), []);
        const [noPrimary] = await runStackPolicy(drFailoverTopology, [bucket("b", { role: "primary" })]);
        assert.match(noPrimary.message, /primary stack has no Route 53 record with failoverRoutingPolicies type "PRIMARY"/);
        assert.deepEqual(await runStackPolicy(drFailoverTopology, [record("SECONDARY"), replica("arn:aws:rds:us-east-1:1:db:p")]), []);
        const sameRegion = await runStackPolicy(drFailoverTopology, [record("SECONDARY"), replica("arn:aws:rds:us-west-2:1:db:p")]);
        assert.match(sameRegion[0].message, /standby stack has no cross-region database replica/);
        const byStackTag = await runStackPolicy(drFailoverTopology, [bucket("b")], { stackTags: { role: "standby" } });
        assert.equal(byStackTag.length, 2);
        assert.deepEqual(await runStackPolicy(drFailoverTopology, [bucket("b")]), []);
        assert.deepEqual(await runStackPolicy(drFailoverTopology, [record("SECONDARY"), replica(UNKNOWN)]), []);
    });

    it("dr-failover-topology: a replica of a database the stack itself declares (a read replica beside its primary) does not make it a standby", async () => {
        const urn = (type: string, name: string) => `urn:pulumi:test::proj::${type}::${name}`;
        const CLOUDSQL = "gcp:sql/databaseInstance:DatabaseInstance";
        const primary: HandBuilt = { type: CLOUDSQL, name: "idp-pg", props: { name: "idp-pg-euw3", region: "europe-west3", databaseVersion: "POSTGRES_15" } };
        const byName: HandBuilt = { type: CLOUDSQL, name: "idp-pg-replica", props: { name: "idp-pg-euw1", region: "europe-west1", masterInstanceName: "idp-pg-euw3" } };
        const byOutput: HandBuilt = { ...byName, props: { region: "europe-west1", masterInstanceName: "idp-pg-4f1c" }, propertyDependencies: { masterInstanceName: [urn(CLOUDSQL, "idp-pg")] } };
        // Role unknown: nothing to require (before: "standby stack has no Route 53 record ... SECONDARY").
        assert.deepEqual(await runStackPolicy(drFailoverTopology, [primary, byName]), []);
        assert.deepEqual(await runStackPolicy(drFailoverTopology, [primary, byOutput]), []);
        const AZURE = "azure-native:dbforpostgresql:Server";
        const server: HandBuilt = { type: AZURE, name: "idp-pg-weu", props: { backup: { backupRetentionDays: 35, geoRedundantBackup: "Enabled" } } };
        const readReplica: HandBuilt = { type: AZURE, name: "idp-pg-weu-ro", props: { createMode: "Replica", sourceServerResourceId: "/subscriptions/s/x" }, propertyDependencies: { sourceServerResourceId: [urn(AZURE, "idp-pg-weu")] } };
        assert.deepEqual(await runStackPolicy(drFailoverTopology, [server, readReplica]), []);
        // A Flexible Server whose createMode is unknown (from another stack) is no replica evidence alone; with a source it is.
        const unknownMode: HandBuilt = { type: AZURE, name: "idp-pg", props: { createMode: UNKNOWN } };
        assert.deepEqual(await runStackPolicy(drFailoverTopology, [unknownMode]), []);
        assert.equal((await runStackPolicy(drFailoverTopology, [{ ...unknownMode, props: { createMode: UNKNOWN, sourceServerResourceId: UNKNOWN } }])).length, 1);
        // A replica of an instance the stack does not declare (another stack's primary) still makes it a standby.
        const [standby] = await runStackPolicy(drFailoverTopology, [primary, { ...byName, props: { ...byName.props, masterInstanceName: "orders-pg-euw3" } }]);
        assert.match(standby.message, /standby stack has no Route 53 record with failoverRoutingPolicies type "SECONDARY"/);
    });

    it("retention-table-coverage: an Azure server above the 35 days Azure accepts does not meet the database row", async () => {
        const server = (days: number): HandBuilt => ({ type: "azure-native:dbforpostgresql:Server", name: "idp-pg-reporting", props: { backup: { backupRetentionDays: days, geoRedundantBackup: "Enabled" } } });
        assert.deepEqual(await runStackPolicy(retentionTableCoverage, [server(35)]), []);
        const [row] = await runStackPolicy(retentionTableCoverage, [server(40)]);
        assert.match(row.message, /"Database \(PostgreSQL\)".*not met/);
        assert.match(row.message, /idp-pg-reporting: backup\.backupRetentionDays 40 days, above the 35 Azure accepts/);
        // The same server under an API-version module is judged too (it was listed as not judged: the row N/A).
        const [versioned] = await runStackPolicy(retentionTableCoverage, [{ ...server(7), type: "azure-native:dbforpostgresql/v20221201:Server" }]);
        assert.match(versioned.message, /backup\.backupRetentionDays 7 days < 30/);
    });

    it("retention-table-coverage: a program with only a database is judged on the database row, named after its engine", async () => {
        const violations = await runStackPolicy(retentionTableCoverage, [{ type: "aws:rds/instance:Instance", name: "db", props: { engine: "mysql", backupRetentionPeriod: 14 } }]);
        assert.deepEqual(violations.map((v) => v.message), [
            'retention table row "Database (MySQL)" (database, 30 days, Critical) is not met; it applies because the stack declares a database (db); found 14 days: db: backupRetentionPeriod 14 days < 30',
        ]);
    });

    it("retention-table-coverage: every row for a stack that declares the server's role, its rows, or their data", async () => {
        const db: HandBuilt = { type: "aws:rds/instance:Instance", name: "db", props: { backupRetentionPeriod: 30, tags: { role: "primary" } } };
        assert.deepEqual((await runStackPolicy(retentionTableCoverage, [db])).map((v) => /"([^"]+)"/.exec(v.message)?.[1]), ["Client configurations", "Secrets/Keys", "Audit logs", "Application configs"]);
        const untagged: HandBuilt = { ...db, props: { backupRetentionPeriod: 30 } };
        assert.deepEqual(await runStackPolicy(retentionTableCoverage, [untagged]), []);
        assert.equal((await runStackPolicy(retentionTableCoverage, [untagged], { stackTags: { "oauth2-dr:data-classes": "database,audit" } })).length, 1);
        assert.equal((await runStackPolicy(retentionTableCoverage, [untagged], { config: { "oauth2-dr-settings": { dataClasses: ["clients"] } } })).length, 1);
        // A bucket whose lifecycle filters clients/ holds that row's data: it becomes backup storage and the row applies.
        const dumps: HandBuilt = { type: "aws:s3/bucket:Bucket", name: "acme-dumps", props: { bucket: "acme-dumps" } };
        const rules: HandBuilt = { type: "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", name: "lc", props: { bucket: "acme-dumps", rules: [{ id: "c", status: "Enabled", filter: { prefix: "clients/" }, expiration: { days: 30 } }] } };
        const [clients] = await runStackPolicy(retentionTableCoverage, [untagged, dumps, rules]);
        assert.match(clients.message, /"Client configurations" \(clients, 90 days, High\) is not met; it applies because backup bucket acme-dumps holds clients\//);
    });

    it("retention-table-coverage: a stateless program (a static site) has no row to prove", async () => {
        const site: HandBuilt[] = [
            { type: "aws:s3/bucketV2:BucketV2", name: "site", props: { bucket: "www.acme.example", websites: [{ indexDocument: "index.html" }] } },
            { type: "aws:cloudfront/distribution:Distribution", name: "cdn", props: { enabled: true } },
        ];
        assert.deepEqual(await runStackPolicy(retentionTableCoverage, site), []);
    });

    it("retention-table-coverage: Azure and Cloud SQL primaries prove the database row; their replicas only in a standby stack", async () => {
        const azure: HandBuilt = { type: "azure-native:dbforpostgresql:Server", name: "az", props: { backup: { backupRetentionDays: 35, geoRedundantBackup: "Enabled" } } };
        const gcp: HandBuilt = { type: "gcp:sql/databaseInstance:DatabaseInstance", name: "gcp", props: { settings: { edition: "ENTERPRISE_PLUS", backupConfiguration: { enabled: true, transactionLogRetentionDays: 30, backupRetentionSettings: { retainedBackups: 30 } } } } };
        const dbRow = async (resources: HandBuilt[], stackTags: Record<string, string> = {}) =>
            (await runStackPolicy(retentionTableCoverage, resources, { stackTags })).some((v) => v.message.includes('"Database (PostgreSQL)"'));
        assert.equal(await dbRow([azure]), false);
        assert.equal(await dbRow([gcp]), false);
        // The row is "continuous + daily": 30 daily backups with 7 days of transaction log (Enterprise's most) do not meet it.
        const sevenDayLog: HandBuilt = { ...gcp, props: { settings: { edition: "ENTERPRISE", backupConfiguration: { enabled: true, transactionLogRetentionDays: 7, backupRetentionSettings: { retainedBackups: 30 } } } } };
        const [short] = await runStackPolicy(retentionTableCoverage, [sevenDayLog]);
        assert.match(short?.message ?? "", /gcp: transactionLogRetentionDays 7 days < 30: the row's continuous part \(point-in-time recovery\)/);
        const gcpReplica: HandBuilt = { type: "gcp:sql/databaseInstance:DatabaseInstance", name: "r", props: { masterInstanceName: "gcp" } };
        assert.equal(await dbRow([gcpReplica], { role: "primary" }), true);
        assert.equal(await dbRow([gcpReplica], { role: "standby" }), false);
        // Without a role tag, the replica itself marks the stack as a standby.
        assert.equal(await dbRow([gcpReplica]), false);
    });
});

describe("policy harness (engine argument shapes)", () => {
    it("proxies props like the engine: an unknown read that escapes a policy becomes an advisory preview note", async () => {
        const naive = { ...rdsBackupRetention, name: "naive", validateResource: (args: { props: Record<string, unknown> }) => void String(args.props.backupRetentionPeriod) };
        const result = await evaluateResourcePolicies([naive], prepare(toAnalyzerResources([{ type: "aws:rds/instance:Instance", props: { backupRetentionPeriod: UNKNOWN } }])), { packEnforcementLevel: "mandatory" });
        assert.equal(result.violations.length, 1);
        assert.equal(result.violations[0].enforcementLevel, "advisory");
        assert.match(result.violations[0].message, /can't run policy 'naive' during preview: string value at \.backupRetentionPeriod can't be known during preview/);
    });

    it("validateResourceOfType's notApplicable is recorded, not reported, for other types in an array of validations", async () => {
        const result = await evaluateResourcePolicies([rdsBackupRetention], prepare(toAnalyzerResources([{ type: "aws:rds/instance:Instance", props: { backupRetentionPeriod: 30 } }])), {});
        assert.deepEqual(result.violations, []);
        // The other validations of the array: RDS, DocumentDB and Neptune clusters.
        assert.deepEqual(result.notApplicable.map((n) => /aws:(rds|docdb|neptune)\/cluster:Cluster/.exec(n.reason ?? "")?.[1]), ["rds", "docdb", "neptune"]);
    });

    it("a typed validation of another type in an array is recorded not applicable without running, with policy.js's reason", async () => {
        const runs: string[] = [];
        const typed = (type: string) => Object.assign(() => void runs.push(type), { __pulumiType: type });
        const policy = { name: "two-types", description: "", validateResource: [typed("aws:rds/instance:Instance"), typed("aws:rds/cluster:Cluster")] };
        const result = await evaluateResourcePolicies([policy], prepare(toAnalyzerResources([{ type: "aws:rds/instance:Instance", props: {} }])), {});
        assert.deepEqual(runs, ["aws:rds/instance:Instance"]);
        assert.deepEqual(result.notApplicable.map((n) => n.reason), ["Policy only applies to resources of type 'aws:rds/cluster:Cluster'"]);
    });

    it("the stack index is built once per resource list and settings, shared by the stack policies", () => {
        const resources = policyResources(prepare(toAnalyzerResources([bucket("oauth2-backups-x"), bucket("web-assets")])));
        const index = indexStack(resources, DEFAULT_SETTINGS);
        assert.equal(indexStack(resources, { ...DEFAULT_SETTINGS }), index);
        const other = indexStack(resources, { ...DEFAULT_SETTINGS, backupBucketPrefixes: ["web-"] });
        assert.notEqual(other, index);
        assert.deepEqual([...other.buckets.values()].map((g) => g.backup), [false, true]);
        assert.deepEqual([...index.buckets.values()].map((g) => g.backup), [true, false]);
        assert.notEqual(indexStack([...resources], DEFAULT_SETTINGS), index);
    });

    it("a policy that throws anything else is a crash, naming the policy and the resource", async () => {
        const broken = { name: "broken", description: "", validateResource: () => { throw new TypeError("boom"); } };
        await assert.rejects(evaluateResourcePolicies([broken], prepare(toAnalyzerResources([{ type: "x:y:Z", name: "r", props: {} }])), {}), /policy broken crashed on urn:pulumi:test::proj::x:y:Z::r/);
    });

    it("policy config is validated with JSON Schema (ajv): names, keys, types, enums, required, minimum", () => {
        assert.deepEqual(validatePackConfig({ all: "advisory", "oauth2-dr-settings": { minimumDays: { database: 35 } } }, ALL_POLICIES), []);
        assert.deepEqual(validatePackConfig({ "oauth2-dr-settings": { production: "sometimes", roleTag: 3, extra: 1 }, "rds-backup-retentoin": "advisory" }, ALL_POLICIES), [
            'oauth2-dr-settings: "extra" is not a setting here (settings: backupBucketPrefixes, backupBucketTags, notBackupBuckets, production, productionTag, role, roleTag, dataClasses, dataClassesTag, minimumDays, minimumSecretVersions, waivers)',
            "oauth2-dr-settings.production: \"sometimes\" is not one of \"auto\", \"always\", \"never\"",
            "oauth2-dr-settings.roleTag: must be string, got number",
            '"rds-backup-retentoin" is not a policy of the pack',
        ]);
    });

    it("the checker loads ajv only for a policy config to validate (a check without --policy-config does not pay for it)", () => {
        const packConfig = path.join(__dirname, "..", "..", "tools", "check", "pack-config.ts");
        const script = [
            `const { validatePackConfig } = require(${JSON.stringify(packConfig)});`,
            `const { ALL_POLICIES } = require(${JSON.stringify(path.join(__dirname, "..", "..", "policy", "all.ts"))});`,
            "const ajvLoaded = () => Object.keys(require.cache).some((f) => f.includes('/node_modules/ajv/'));",
            "const atLoad = ajvLoaded();",
            "const empty = validatePackConfig({}, ALL_POLICIES);",
            "const afterEmpty = ajvLoaded();",
            "const problems = validatePackConfig({ 'oauth2-dr-settings': { roleTag: 3 } }, ALL_POLICIES);",
            "console.log(JSON.stringify({ atLoad, empty, afterEmpty, problems, afterBlock: ajvLoaded() }));",
        ].join("\n");
        const child = spawnSync(process.execPath, ["--require", TS_REGISTER, "-e", script], { encoding: "utf8" });
        assert.equal(child.status, 0, child.stderr);
        assert.deepEqual(JSON.parse(child.stdout), { atLoad: false, empty: [], afterEmpty: false, problems: ["oauth2-dr-settings.roleTag: must be string, got number"], afterBlock: true });
    });

    it("policy config cannot weaken the table: minima below it, a tag match without value, a waiver without its approver", () => {
        const settings = (block: Record<string, unknown>) => validatePackConfig({ "oauth2-dr-settings": block }, ALL_POLICIES);
        assert.deepEqual(settings({ minimumDays: { database: 0 } }), [
            "oauth2-dr-settings.minimumDays.database: 0 is below the minimum 30 (the retention table; lower a row only with a waiver: waivers: [{ row, value, reason, approvedBy }])",
        ]);
        assert.match(settings({ minimumSecretVersions: 3 })[0], /minimumSecretVersions: 3 is below the minimum 7/);
        assert.deepEqual(settings({ backupBucketTags: [{ key: "backup" }] }), ["oauth2-dr-settings.backupBucketTags.0: must have required property 'value'"]);
        assert.deepEqual(settings({ productionTag: { key: "env" } }), ["oauth2-dr-settings.productionTag: must have required property 'value'"]);
        assert.deepEqual(settings({ waivers: [{ row: "database", value: 7, reason: "dev" }] }), ["oauth2-dr-settings.waivers.0: must have required property 'approvedBy'"]);
        assert.deepEqual(settings({ waivers: [{ row: "database", value: 7, reason: "dev", approvedBy: "cto@acme.example" }] }), []);
        assert.deepEqual(validatePackConfig({ "oauth2-dr-settings": "disabled" }, ALL_POLICIES), ["oauth2-dr-settings: cannot be disabled; it carries the settings every other policy reads"]);
        assert.deepEqual(validatePackConfig({ all: { backupBucketPrefixes: ["x"] } }, ALL_POLICIES), ['all: only "enforcementLevel" applies to every policy; put shared settings under "oauth2-dr-settings"']);
        // Per-policy knobs that bound the runbook can only be tightened too.
        assert.deepEqual(validatePackConfig({ "k8s-backup-cronjob-schedule": { maxIntervalMinutes: { clients: 600 } } }, ALL_POLICIES), ["k8s-backup-cronjob-schedule.maxIntervalMinutes.clients: must be <= 60"]);
        assert.deepEqual(validatePackConfig({ "k8s-backup-cronjob-schedule": { backupLabels: [{ key: "backup" }] } }, ALL_POLICIES), ["k8s-backup-cronjob-schedule.backupLabels.0: must have required property 'value'"]);
        assert.match(validatePackConfig({ "cloudsql-backup-configuration": { minimumTransactionLogRetentionDays: 1 } }, ALL_POLICIES)[0], /1 is below the minimum 7/);
    });

    it("every policy has a unique kebab-case name, a description and a mandatory default (notes advisory)", () => {
        const names = ALL_POLICIES.map((p) => p.name);
        assert.equal(new Set(names).size, names.length);
        assert.equal(names[0], "oauth2-dr-settings", "the settings carrier runs first");
        const advisory = ["oauth2-dr-settings", "s3-backup-bucket-lookalike", "k8s-backup-cronjob-lookalike", "s3-backup-replication-outside-stack"];
        for (const policy of ALL_POLICIES) {
            assert.match(policy.name, /^[a-z0-9]+(-[a-z0-9]+)*$/);
            assert.ok(policy.description.length > 20, policy.name);
            assert.equal(policy.enforcementLevel, advisory.includes(policy.name) ? "advisory" : "mandatory", policy.name);
        }
    });
});
