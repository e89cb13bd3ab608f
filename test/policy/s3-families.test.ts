/**
 * Backup storage recognised by what it holds, judged the same in every S3 family (aws v7 configuration
 * resources, the *V2 resources, the legacy inline arguments of Bucket and BucketV2), with props shaped as
 * the engine sends them; the look-alike note; false positives that must stay away.
 */
import { strict as assert } from "assert";
import { ALL_POLICIES } from "../../policy/all";
import { s3BackupBucketLookalike } from "../../policy/s3-stack";
import { awsBackupPlanRetention } from "../../policy/backup-plans";
import { rdsFinalSnapshot } from "../../policy/rds";
import { lifecycleRulesOf } from "../../policy/s3-families";
import { HandBuilt, runAll, runResourcePolicy, runStackPolicy, UNKNOWN } from "./helpers";

const urn = (type: string, name: string) => `urn:pulumi:test::proj::${type}::${name}`;
const BUCKET = "aws:s3/bucket:Bucket";
const BUCKET_V2 = "aws:s3/bucketV2:BucketV2";
const NAME = "acme-db-dumps";

/** acme-db-dumps: versioning Suspended, database/ dumps deleted after 14 days, in each family's own shape. */
const FAMILIES: Record<string, HandBuilt[]> = {
    "aws v7 Bucket + configuration resources": [
        { type: BUCKET, name: "dumps", props: { bucket: NAME } },
        { type: "aws:s3/bucketVersioning:BucketVersioning", name: "dumps-versioning", props: { bucket: NAME, versioningConfiguration: { status: "Suspended" } } },
        {
            type: "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
            name: "dumps-lifecycle",
            props: { bucket: NAME, rules: [{ id: "two-weeks", status: "Enabled", filter: { prefix: "database/" }, expiration: { days: 14 } }] },
        },
    ],
    "v6 idiom: BucketV2 + *V2 resources, linked through the dependency (bucket.id under preview)": [
        { type: BUCKET_V2, name: "dumps", props: { bucket: NAME } },
        { type: "aws:s3/bucketVersioningV2:BucketVersioningV2", name: "dumps-versioning", props: { bucket: UNKNOWN, versioningConfiguration: { status: "Suspended" } }, propertyDependencies: { bucket: [urn(BUCKET_V2, "dumps")] } },
        {
            type: "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2",
            name: "dumps-lifecycle",
            props: { bucket: UNKNOWN, rules: [{ id: "two-weeks", status: "Enabled", filter: { prefix: "database/" }, expiration: { days: 14 } }] },
            propertyDependencies: { bucket: [urn(BUCKET_V2, "dumps")] },
        },
    ],
    "legacy inline arguments of Bucket": [
        { type: BUCKET, name: "dumps", props: { bucket: NAME, versioning: { enabled: false }, lifecycleRules: [{ id: "two-weeks", enabled: true, prefix: "database/", expiration: { days: 14 } }] } },
    ],
    "legacy inline arguments of BucketV2": [
        { type: BUCKET_V2, name: "dumps", props: { bucket: NAME, versionings: [{ enabled: false }], lifecycleRules: [{ id: "two-weeks", enabled: true, prefix: "database/", expirations: [{ days: 14 }] }] } },
    ],
};

describe("S3 families: backup storage recognised by what it holds", () => {
    for (const [family, resources] of Object.entries(FAMILIES)) {
        it(`${family}: acme-db-dumps (no name prefix, no tag) fails on versioning and the 14-day database/ rule`, async () => {
            const violations = (await runAll(ALL_POLICIES, resources)).filter((v) => v.enforcementLevel === "mandatory");
            const by = (policy: string) => violations.filter((v) => v.policy === policy).map((v) => v.message);
            assert.equal(by("s3-backup-versioning").length, 1, JSON.stringify(violations, null, 1));
            assert.match(by("s3-backup-versioning")[0], /backup storage: lifecycle rule "two-weeks" of dumps(-lifecycle)? filters database\/\): versioning(Configuration\.status|\.enabled|s\[0\]\.enabled) is ("Suspended"|false)/);
            assert.equal(by("s3-backup-lifecycle-retention").length, 1);
            assert.match(by("s3-backup-lifecycle-retention")[0], /rule "two-weeks" \(prefix "database\/"\) on database\/ .* expires objects after 14 days \(expiration\.days\); the retention table requires at least 30 days/);
            assert.ok(by("s3-backup-bucket-baseline").some((m) => /no BucketServerSideEncryptionConfiguration/.test(m)));
            assert.match(by("retention-table-coverage")[0], /"Database \(PostgreSQL\)" .* it applies because backup bucket acme-db-dumps holds database\/; found 14 days/);
        });
    }

    it("a configuration resource wins over the bucket's inline argument (the engine's outputs mirror one in the other): reported once", async () => {
        const [bucket, versioning, lifecycle] = FAMILIES["aws v7 Bucket + configuration resources"];
        const mirrored: HandBuilt = { ...bucket, props: { bucket: NAME, versioning: { enabled: false }, lifecycleRules: [{ id: "two-weeks", enabled: true, prefix: "database/", expiration: { days: 14 } }] } };
        const violations = await runAll(ALL_POLICIES, [mirrored, versioning, lifecycle]);
        assert.deepEqual(violations.filter((v) => v.policy === "s3-backup-versioning").map((v) => v.urn), [urn(versioning.type, "dumps-versioning")]);
        assert.deepEqual(violations.filter((v) => v.policy === "s3-backup-lifecycle-retention").map((v) => v.urn), [urn(lifecycle.type, "dumps-lifecycle")]);
    });

    it("a replication rule or an inventory that filters a table prefix makes a bucket backup storage too", async () => {
        const replicated: HandBuilt[] = [
            { type: BUCKET, name: "logs", props: { bucket: "acme-logs" } },
            { type: "aws:s3/bucketReplicationConfig:BucketReplicationConfig", name: "r", props: { bucket: "acme-logs", rules: [{ status: "Enabled", filter: { prefix: "audit/2026/" }, destination: { bucket: "arn:aws:s3:::acme-logs-dr" } }] } },
        ];
        const inventoried: HandBuilt[] = [
            { type: BUCKET, name: "registry", props: { bucket: "acme-registry" } },
            { type: "aws:s3/inventory:Inventory", name: "i", props: { bucket: "acme-registry", filter: { prefix: "clients" }, includedObjectVersions: "All" } },
        ];
        for (const resources of [replicated, inventoried]) {
            const baseline = (await runAll(ALL_POLICIES, resources)).filter((v) => v.policy === "s3-backup-bucket-baseline");
            assert.equal(baseline.length, 4, JSON.stringify(baseline));
        }
        // A rule on another prefix, or on every object (""), says nothing about what the bucket holds.
        const other: HandBuilt[] = [
            { type: BUCKET, name: "assets", props: { bucket: "acme-assets" } },
            { type: "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", name: "l", props: { bucket: "acme-assets", rules: [{ id: "tmp", status: "Enabled", filter: { prefix: "" }, expiration: { days: 1 } }, { id: "db", status: "Enabled", filter: { prefix: "dbx/" }, expiration: { days: 1 } }] } },
        ];
        assert.deepEqual((await runAll(ALL_POLICIES, other)).filter((v) => v.enforcementLevel === "mandatory"), []);
    });

    it("prefixes and tags are set once in oauth2-dr-settings and every policy reads them", async () => {
        const resources: HandBuilt[] = [
            { type: BUCKET, name: "team", props: { bucket: "team-archive", tags: { "data-class": "backup" } } },
            { type: "aws:s3/bucketVersioning:BucketVersioning", name: "team-v", props: { bucket: "team-archive", versioningConfiguration: { status: "Suspended" } } },
        ];
        const policies = async (config: Record<string, unknown>) => {
            const { evaluateResourcePolicies, evaluateStackPolicies, policyResources, prepare } = await import("offline-plan/policy-harness");
            const { toAnalyzerResources } = await import("./helpers");
            const prepared = prepare(toAnalyzerResources(resources));
            const options = { config: { "oauth2-dr-settings": config }, packEnforcementLevel: "mandatory" as const };
            await evaluateResourcePolicies(ALL_POLICIES, prepared, options);
            return new Set((await evaluateStackPolicies(ALL_POLICIES, policyResources(prepared), options)).violations.filter((v) => v.enforcementLevel === "mandatory").map((v) => v.policy));
        };
        assert.deepEqual(await policies({}), new Set());
        const byTag = await policies({ backupBucketTags: [{ key: "data-class", value: "backup" }] });
        assert.deepEqual(byTag, new Set(["s3-backup-versioning", "s3-backup-bucket-baseline", "s3-backup-replication", "s3-backup-object-lock"]));
        assert.deepEqual(await policies({ backupBucketPrefixes: ["team-"] }), byTag);
    });
});

describe("s3-backup-bucket-lookalike (advisory)", () => {
    const snapshots: HandBuilt = { type: BUCKET_V2, name: "snapshots", props: { bucket: "acme-nightly-snapshots" } };

    it("a bucket named like backups but not recognised gets a note saying how to include or exclude it", async () => {
        const [note] = await runStackPolicy(s3BackupBucketLookalike, [snapshots]);
        assert.equal(note.enforcementLevel, "advisory");
        assert.match(note.message, /^acme-nightly-snapshots: its name suggests backups \("snapshot"\) but it is not judged as backup storage/);
        assert.match(note.message, /add a name prefix to oauth2-dr-settings\.backupBucketPrefixes or tag it backup=true; to silence this note, add it to oauth2-dr-settings\.notBackupBuckets/);
    });

    it("silent once excluded, or once recognised", async () => {
        assert.deepEqual(await runStackPolicy(s3BackupBucketLookalike, [snapshots], { config: { "oauth2-dr-settings": { notBackupBuckets: ["acme-nightly-"] } } }), []);
        assert.deepEqual(await runStackPolicy(s3BackupBucketLookalike, [{ ...snapshots, props: { bucket: "acme-nightly-snapshots", tags: { backup: "true" } } }]), []);
        assert.deepEqual(await runStackPolicy(s3BackupBucketLookalike, [{ type: BUCKET, name: "site", props: { bucket: "www.acme.example" } }]), []);
    });
});

describe("false positives that must stay away", () => {
    const bucket: HandBuilt = { type: BUCKET, name: "b", props: { bucket: "oauth2-backups-team", tags: {} } };
    const policyOf = (policy: unknown): HandBuilt => ({ type: "aws:s3/bucketPolicy:BucketPolicy", name: "tls", props: { bucket: "oauth2-backups-team", policy } });
    const tls = (violations: Array<{ policy: string }>) => violations.filter((v) => v.policy === "s3-backup-tls-only" || (v.policy === "s3-backup-bucket-baseline" && /BucketPolicy/.test(JSON.stringify(v))));

    it("a TLS-only policy rendered by aws.iam.getPolicyDocument (Principal {AWS: *}, condition values as a list)", async () => {
        // The JSON getPolicyDocument renders: principals as {"AWS": "*"}, condition values as arrays, both resources.
        const rendered = JSON.stringify({
            Version: "2012-10-17",
            Statement: [
                {
                    Sid: "DenyInsecureTransport",
                    Effect: "Deny",
                    Action: "s3:*",
                    Resource: ["arn:aws:s3:::oauth2-backups-team/*", "arn:aws:s3:::oauth2-backups-team"],
                    Principal: { AWS: "*" },
                    Condition: { Bool: { "aws:SecureTransport": ["false"] } },
                },
            ],
        });
        assert.deepEqual(tls(await runAll(ALL_POLICIES, [bucket, policyOf(rendered)])), []);
    });

    it("a policy document unknown in preview (an output) is not a violation, and not 'missing'", async () => {
        assert.deepEqual(tls(await runAll(ALL_POLICIES, [bucket, policyOf(UNKNOWN)])), []);
        assert.deepEqual(tls(await runAll(ALL_POLICIES, [{ ...bucket, props: { bucket: "oauth2-backups-team", policy: UNKNOWN } }])), []);
    });

    it("finalSnapshotIdentifier computed from a random.RandomString (unknown in preview, a string after)", async () => {
        const db = (finalSnapshotIdentifier: unknown): HandBuilt => ({ type: "aws:rds/instance:Instance", name: "billing", props: { engine: "postgres", skipFinalSnapshot: false, finalSnapshotIdentifier } });
        assert.deepEqual(await runResourcePolicy(rdsFinalSnapshot, db(UNKNOWN)), []);
        assert.deepEqual(await runResourcePolicy(rdsFinalSnapshot, db("billing-final-x7k2q9")), []);
        assert.equal((await runResourcePolicy(rdsFinalSnapshot, db(undefined))).length, 1);
    });
});

describe("aws-backup-plan-retention", () => {
    const PLAN = "aws:backup/plan:Plan";
    const SELECTION = "aws:backup/selection:Selection";
    const db: HandBuilt = { type: "aws:rds/instance:Instance", name: "orders", props: { engine: "postgres", backupRetentionPeriod: 35, tags: { backup: "daily" } } };
    const plan = (deleteAfter?: number): HandBuilt => ({ type: PLAN, name: "daily", props: { name: "daily", rules: [{ ruleName: "daily", targetVaultName: "vault", schedule: "cron(0 5 * * ? *)", lifecycle: deleteAfter === undefined ? undefined : { deleteAfter } }] } });
    const selection = (props: Record<string, unknown>, resources?: string[]): HandBuilt => ({
        type: SELECTION,
        name: "sel",
        props: { planId: UNKNOWN, iamRoleArn: "arn:aws:iam::1:role/backup", ...props },
        propertyDependencies: { planId: [urn(PLAN, "daily")], ...(resources ? { resources } : {}) },
    });

    it("a rule deleting a selected database's recovery points after 7 days; 1 day is singular", async () => {
        const [violation] = await runStackPolicy(awsBackupPlanRetention, [db, plan(7), selection({ resources: [UNKNOWN] }, [urn(db.type, "orders")])]);
        assert.equal(violation.message, 'daily: rule "daily" deletes recovery points after 7 days (lifecycle.deleteAfter) for orders (PostgreSQL instance); the retention table\'s database row requires at least 30 days');
        const [one] = await runStackPolicy(awsBackupPlanRetention, [db, plan(1), selection({ selectionTags: [{ type: "STRINGEQUALS", key: "backup", value: "daily" }] })]);
        assert.match(one.message, /after 1 day \(lifecycle\.deleteAfter\)/);
        assert.equal((await runStackPolicy(awsBackupPlanRetention, [plan(7), selection({ resources: ["arn:aws:rds:us-east-1:1:db:orders"] })])).length, 1);
    });

    it("30 days or more, unset (kept until deleted), or a plan selecting no database: no violation", async () => {
        assert.deepEqual(await runStackPolicy(awsBackupPlanRetention, [db, plan(35), selection({ resources: ["*"] })]), []);
        assert.deepEqual(await runStackPolicy(awsBackupPlanRetention, [db, plan(), selection({ resources: ["*"] })]), []);
        assert.deepEqual(await runStackPolicy(awsBackupPlanRetention, [db, plan(7), selection({ resources: ["arn:aws:dynamodb:us-east-1:1:table/x"] })]), []);
        assert.deepEqual(await runStackPolicy(awsBackupPlanRetention, [db, plan(7)]), []);
    });
});

describe("lifecycle views (policy/s3-families.ts)", () => {
    it("views a resource's rules once: the policies, the stack index and the matrix share the view of the same props", () => {
        const props = { bucket: NAME, rules: [{ id: "db", status: "Enabled", filter: { prefix: "database/" }, expiration: { days: 30 } }] };
        const view = lifecycleRulesOf("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", props);
        assert.deepEqual(view, [{ id: "db", prefix: "database/", enabled: true, expirationDays: 30, expirationDate: undefined, noncurrentDays: undefined, newerNoncurrentVersions: undefined, unknown: false }]);
        assert.strictEqual(lifecycleRulesOf("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", props), view);
        assert.notStrictEqual(lifecycleRulesOf("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", { ...props }), view);
    });
});
