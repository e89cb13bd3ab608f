/** Stack policies on hand-built stacks, and the harness's engine-faithful behaviour. */
import { strict as assert } from "assert";
import { s3BackupBucketBaseline, s3BackupReplication } from "../../policy/s3-stack";
import { drFailoverTopology, retentionTableCoverage } from "../../policy/stack";
import { rdsBackupRetention } from "../../policy/rds";
import { evaluateResourcePolicies, prepare, validatePackConfig } from "../../tools/check/policy-harness";
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

    it("s3-backup-bucket-baseline: a tag-only bucket's configuration is judged here; configuration linked through propertyDependencies when the name is unknown", async () => {
        const tagged = bucket("team-backups", { backup: "true" });
        const bucketUrn = toAnalyzerResources([tagged])[1].urn;
        const config = (type: string, props: Record<string, unknown>): HandBuilt => ({ type, name: `${type.split(":").pop()}`, props: { bucket: UNKNOWN, ...props }, propertyDependencies: { bucket: [bucketUrn] } });
        const violations = await runStackPolicy(s3BackupBucketBaseline, [
            tagged,
            config("aws:s3/bucketVersioning:BucketVersioning", { versioningConfiguration: { status: "Suspended" } }),
            config("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", { rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: "k" } }] }),
            config("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", { blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true }),
            config("aws:s3/bucketPolicy:BucketPolicy", { policy: UNKNOWN }),
        ]);
        assert.deepEqual(violations.map((v) => v.message.split(";")[0]), ['BucketVersioning (backup bucket team-backups, tagged): versioningConfiguration.status is "Suspended"']);
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

    it("retention-table-coverage: names each unmet row with what was found", async () => {
        const violations = await runStackPolicy(retentionTableCoverage, [{ type: "aws:rds/instance:Instance", name: "db", props: { backupRetentionPeriod: 14 } }]);
        assert.equal(violations.length, 5);
        assert.equal(violations[0].message, 'retention table row "Database (PostgreSQL)" (database, 30 days, Critical) is not met; found 14 days: db: backupRetentionPeriod 14 days < 30');
    });

    it("retention-table-coverage: Azure and Cloud SQL primaries prove the database row; their replicas only in a standby stack", async () => {
        const azure: HandBuilt = { type: "azure-native:dbforpostgresql:Server", name: "az", props: { backup: { backupRetentionDays: 35, geoRedundantBackup: "Enabled" } } };
        const gcp: HandBuilt = { type: "gcp:sql/databaseInstance:DatabaseInstance", name: "gcp", props: { settings: { backupConfiguration: { enabled: true, backupRetentionSettings: { retainedBackups: 30 } } } } };
        const dbRow = async (resources: HandBuilt[], stackTags: Record<string, string> = {}) =>
            (await runStackPolicy(retentionTableCoverage, resources, { stackTags })).some((v) => v.message.includes('"Database (PostgreSQL)"'));
        assert.equal(await dbRow([azure]), false);
        assert.equal(await dbRow([gcp]), false);
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
        assert.equal(result.notApplicable.length, 1);
        assert.match(result.notApplicable[0].reason ?? "", /aws:rds\/cluster:Cluster/);
    });

    it("a policy that throws anything else is a crash, naming the policy and the resource", async () => {
        const broken = { name: "broken", description: "", validateResource: () => { throw new TypeError("boom"); } };
        await assert.rejects(evaluateResourcePolicies([broken], prepare(toAnalyzerResources([{ type: "x:y:Z", name: "r", props: {} }])), {}), /policy broken crashed on urn:pulumi:test::proj::x:y:Z::r/);
    });

    it("policy config is validated like the CLI: names, settings, types, enums", () => {
        assert.deepEqual(validatePackConfig({ all: "advisory", "rds-backup-retention": { minimumDays: 35 } }, ALL_POLICIES), []);
        assert.deepEqual(validatePackConfig({ "rds-multi-az": { production: "sometimes" }, "rds-backup-retention": { minimumDays: "30", extra: 1 } }, ALL_POLICIES), [
            'rds-multi-az.production: "sometimes" is not one of "auto", "always", "never"',
            "rds-backup-retention.minimumDays: expected integer, got string",
            'rds-backup-retention: "extra" is not a setting of this policy (settings: minimumDays)',
        ]);
    });

    it("every policy has a unique kebab-case name, a description and a mandatory default", () => {
        const names = ALL_POLICIES.map((p) => p.name);
        assert.equal(new Set(names).size, names.length);
        for (const policy of ALL_POLICIES) {
            assert.match(policy.name, /^[a-z0-9]+(-[a-z0-9]+)*$/);
            assert.ok(policy.description.length > 20, policy.name);
            assert.equal(policy.enforcementLevel, "mandatory", policy.name);
        }
    });
});
