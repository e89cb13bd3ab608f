/**
 * h35 unknowns: a backup bucket's versioning, default encryption (SSE algorithm, KMS key) and public access
 * block whose value is unknown in the plan (a StackReference output not supplied, a preview) is listed as not
 * judged, naming the bucket and the input, never passed and never a violation, in every family the pack reads
 * (the inline arguments of Bucket and BucketV2, BucketVersioning/V2, BucketServerSideEncryptionConfiguration/V2,
 * BucketPublicAccessBlock). A known value is judged as before. Was: each passed silently (exit 0, nothing listed).
 */
import { strict as assert } from "assert";
import type { StackValidationPolicy } from "@pulumi/policy";
import { s3BackupEncryption, s3BackupPublicAccessBlock, s3BackupVersioning } from "../../policy/s3";
import { HandBuilt, runStackPolicyWithReasons, UNKNOWN } from "./helpers";

/** A staging backup bucket (tag backup=true) of the given family, with the given arguments. */
const bucket = (name: string, extra: Record<string, unknown> = {}, type = "aws:s3/bucket:Bucket"): HandBuilt => ({ type, name, props: { bucket: name, tags: { backup: "true" }, ...extra } });
const bucketV2 = (name: string, extra: Record<string, unknown> = {}) => bucket(name, extra, "aws:s3/bucketV2:BucketV2");
const config = (type: string, name: string, props: Record<string, unknown>, propertyDependencies?: Record<string, string[]>): HandBuilt => ({ type, name, props, propertyDependencies });

const VERSIONING = "aws:s3/bucketVersioning:BucketVersioning";
const VERSIONING_V2 = "aws:s3/bucketVersioningV2:BucketVersioningV2";
const SSE = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration";
const SSE_V2 = "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2";
const PAB = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock";

async function run(policy: StackValidationPolicy, resources: HandBuilt[]): Promise<{ violations: string[]; notApplicable: string[] }> {
    const { violations, notApplicable } = await runStackPolicyWithReasons(policy, resources);
    return { violations: violations.map((v) => v.message), notApplicable };
}

/** Not a violation, and one not-judged reason that names each of `entries` (bucket, input, declaring resource). */
async function assertNotJudged(policy: StackValidationPolicy, resources: HandBuilt[], entries: string[], why: RegExp): Promise<void> {
    const { violations, notApplicable } = await run(policy, resources);
    assert.deepEqual(violations, []);
    assert.equal(notApplicable.length, 1, "one not-judged reason");
    assert.ok(notApplicable[0].startsWith("not judged in this preview: "), notApplicable[0]);
    for (const entry of entries) {
        assert.ok(notApplicable[0].includes(entry), `${notApplicable[0]}\n  does not name: ${entry}`);
    }
    assert.match(notApplicable[0], why);
}

async function assertJudged(policy: StackValidationPolicy, resources: HandBuilt[], violations: RegExp[]): Promise<void> {
    const result = await run(policy, resources);
    assert.deepEqual(result.notApplicable, []);
    assert.equal(result.violations.length, violations.length, result.violations.join("\n"));
    violations.forEach((pattern, i) => assert.match(result.violations[i], pattern));
}

describe("h35 unknowns: s3-backup-versioning lists an unknown versioning status as not judged", () => {
    const why = /unknown until the update: whether the backup bucket keeps object versions \(versioning "Enabled"\)$/;

    it("BucketVersioning (v7): versioningConfiguration.status unknown", async () => {
        await assertNotJudged(s3BackupVersioning, [bucket("acme-dumps"), config(VERSIONING, "dumps-versioning", { bucket: "acme-dumps", versioningConfiguration: { status: UNKNOWN } })], ["acme-dumps versioning versioningConfiguration.status (dumps-versioning (BucketVersioning))"], why);
    });

    it("BucketVersioningV2 (v6): versioningConfiguration.status unknown, and the whole configuration unknown", async () => {
        await assertNotJudged(s3BackupVersioning, [bucket("acme-dumps"), config(VERSIONING_V2, "dumps-versioning", { bucket: "acme-dumps", versioningConfiguration: { status: UNKNOWN } })], ["acme-dumps versioning versioningConfiguration.status (dumps-versioning (BucketVersioningV2))"], why);
        await assertNotJudged(s3BackupVersioning, [bucket("acme-dumps"), config(VERSIONING_V2, "dumps-versioning", { bucket: "acme-dumps", versioningConfiguration: UNKNOWN })], ["acme-dumps versioning versioningConfiguration.status"], why);
    });

    it("Bucket's inline versioning.enabled unknown", async () => {
        await assertNotJudged(s3BackupVersioning, [bucket("acme-dumps", { versioning: { enabled: UNKNOWN } })], ["acme-dumps versioning versioning.enabled (acme-dumps (Bucket))"], why);
    });

    it("BucketV2's inline versionings[0].enabled unknown, and the list unknown", async () => {
        await assertNotJudged(s3BackupVersioning, [bucketV2("acme-dumps", { versionings: [{ enabled: UNKNOWN }] })], ["acme-dumps versioning versionings[0].enabled (acme-dumps (BucketV2))"], why);
        await assertNotJudged(s3BackupVersioning, [bucketV2("acme-dumps", { versionings: UNKNOWN })], ["acme-dumps versioning versionings[0].enabled (acme-dumps (BucketV2))"], why);
    });

    it("known values are judged as before, and other buckets beside an unknown one still are", async () => {
        await assertJudged(s3BackupVersioning, [bucket("acme-dumps"), config(VERSIONING, "v", { bucket: "acme-dumps", versioningConfiguration: { status: "Enabled" } })], []);
        await assertJudged(s3BackupVersioning, [bucket("acme-dumps", { versioning: { enabled: false } })], [/^acme-dumps \(bucket acme-dumps, backup storage: .*\): versioning\.enabled is false; the runbook requires versioning "Enabled"/]);
        const { violations, notApplicable } = await run(s3BackupVersioning, [
            bucket("acme-dumps"),
            config(VERSIONING, "dumps-versioning", { bucket: "acme-dumps", versioningConfiguration: { status: UNKNOWN } }),
            bucket("acme-exports"),
            config(VERSIONING, "exports-versioning", { bucket: "acme-exports", versioningConfiguration: { status: "Suspended" } }),
        ]);
        assert.deepEqual(violations.map((v) => v.split(" ")[0]), ["exports-versioning"]);
        assert.equal(notApplicable.length, 1);
        assert.match(notApplicable[0], /acme-dumps versioning versioningConfiguration\.status/);
        assert.doesNotMatch(notApplicable[0], /acme-exports/);
    });
});

describe("h35 unknowns: s3-backup-encryption lists an unknown SSE algorithm or KMS key as not judged", () => {
    const why = /unknown until the update: whether the backup bucket encrypts objects with SSE-KMS and a customer-managed key/;
    const rules = (sseAlgorithm: unknown, kmsMasterKeyId: unknown) => ({ rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm, kmsMasterKeyId } }] });

    it("BucketServerSideEncryptionConfiguration (v7): the key from an outside stack, or the algorithm, unknown", async () => {
        await assertNotJudged(s3BackupEncryption, [bucket("acme-dumps"), config(SSE, "dumps-sse", { bucket: "acme-dumps", ...rules("aws:kms", UNKNOWN) })], ["acme-dumps default encryption rules[0].applyServerSideEncryptionByDefault.kmsMasterKeyId (dumps-sse (BucketServerSideEncryptionConfiguration))"], why);
        await assertNotJudged(s3BackupEncryption, [bucket("acme-dumps"), config(SSE, "dumps-sse", { bucket: "acme-dumps", ...rules(UNKNOWN, UNKNOWN) })], ["acme-dumps default encryption rules[0].applyServerSideEncryptionByDefault.sseAlgorithm, rules[0].applyServerSideEncryptionByDefault.kmsMasterKeyId (dumps-sse"], why);
        await assertNotJudged(s3BackupEncryption, [bucket("acme-dumps"), config(SSE, "dumps-sse", { bucket: "acme-dumps", rules: UNKNOWN })], ["acme-dumps default encryption rules (dumps-sse (BucketServerSideEncryptionConfiguration))"], why);
    });

    it("BucketServerSideEncryptionConfigurationV2 (v6): the key unknown", async () => {
        await assertNotJudged(s3BackupEncryption, [bucket("acme-dumps"), config(SSE_V2, "dumps-sse", { bucket: "acme-dumps", ...rules("aws:kms", UNKNOWN) })], ["acme-dumps default encryption rules[0].applyServerSideEncryptionByDefault.kmsMasterKeyId (dumps-sse (BucketServerSideEncryptionConfigurationV2))"], why);
    });

    it("Bucket's inline serverSideEncryptionConfiguration: the key unknown", async () => {
        const inline = { serverSideEncryptionConfiguration: { rule: { applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: UNKNOWN } } } };
        await assertNotJudged(s3BackupEncryption, [bucket("acme-dumps", inline)], ["acme-dumps default encryption serverSideEncryptionConfiguration.rule.applyServerSideEncryptionByDefault.kmsMasterKeyId (acme-dumps (Bucket))"], why);
    });

    it("BucketV2's inline serverSideEncryptionConfigurations: the algorithm unknown, and the list unknown", async () => {
        const inline = { serverSideEncryptionConfigurations: [{ rules: [{ applyServerSideEncryptionByDefaults: [{ sseAlgorithm: UNKNOWN, kmsMasterKeyId: "arn:aws:kms:eu-west-1:111111111111:key/k" }] }] }] };
        await assertNotJudged(s3BackupEncryption, [bucketV2("acme-dumps", inline)], ["acme-dumps default encryption serverSideEncryptionConfigurations[0].rules[0].applyServerSideEncryptionByDefaults[0].sseAlgorithm (acme-dumps (BucketV2))"], why);
        await assertNotJudged(s3BackupEncryption, [bucketV2("acme-dumps", { serverSideEncryptionConfigurations: UNKNOWN })], ["acme-dumps default encryption serverSideEncryptionConfigurations (acme-dumps (BucketV2))"], why);
    });

    it("SSE-S3 is a violation whatever its unknown key (was: passed)", async () => {
        await assertJudged(s3BackupEncryption, [bucket("acme-dumps"), config(SSE, "dumps-sse", { bucket: "acme-dumps", ...rules("AES256", UNKNOWN) })], [/^dumps-sse \(bucket acme-dumps, .*\): default encryption has sseAlgorithm "AES256" with kmsMasterKeyId \(unknown until the update\); the runbook requires SSE-KMS/]);
    });

    it("a key the stack declares (kmsMasterKeyId: key.arn, unknown in a preview) is that customer-managed key: met, nothing listed", async () => {
        const key: HandBuilt = { type: "aws:kms/key:Key", name: "dumps-key", props: { description: "dumps" } };
        const sse = config(SSE, "dumps-sse", { bucket: "acme-dumps", ...rules("aws:kms", UNKNOWN) }, { rules: ["urn:pulumi:test::proj::aws:kms/key:Key::dumps-key"] });
        await assertJudged(s3BackupEncryption, [key, bucket("acme-dumps"), sse], []);
    });

    it("a key chosen between the stack's key and an outside stack's output (the rules depend on both) is listed", async () => {
        const key: HandBuilt = { type: "aws:kms/key:Key", name: "dumps-key", props: { description: "dumps" } };
        const platform: HandBuilt = { type: "pulumi:pulumi:StackReference", name: "acme/platform/prod", props: { name: "acme/platform/prod" } };
        const sse = config(SSE, "dumps-sse", { bucket: "acme-dumps", ...rules("aws:kms", UNKNOWN) }, {
            rules: ["urn:pulumi:test::proj::aws:kms/key:Key::dumps-key", "urn:pulumi:test::proj::pulumi:pulumi:StackReference::acme/platform/prod"],
        });
        await assertNotJudged(s3BackupEncryption, [key, platform, bucket("acme-dumps"), sse], ["acme-dumps default encryption rules[0].applyServerSideEncryptionByDefault.kmsMasterKeyId (dumps-sse"], why);
    });

    it("known values are judged as before", async () => {
        await assertJudged(s3BackupEncryption, [bucket("acme-dumps"), config(SSE, "s", { bucket: "acme-dumps", ...rules("aws:kms", "arn:aws:kms:eu-west-1:111111111111:key/k") })], []);
        await assertJudged(s3BackupEncryption, [bucket("acme-dumps"), config(SSE, "s", { bucket: "acme-dumps", ...rules("aws:kms", undefined) })], [/default encryption has sseAlgorithm "aws:kms" with kmsMasterKeyId not set/]);
        await assertJudged(s3BackupEncryption, [bucket("acme-dumps", { serverSideEncryptionConfiguration: { rule: { applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } } } })], [/sseAlgorithm "AES256"/]);
    });
});

describe("h35 unknowns: s3-backup-public-access-block lists unknown flags as not judged", () => {
    const why = /unknown until the update: whether the backup bucket blocks public access entirely \(all four flags true\)$/;
    const flags = (overrides: Record<string, unknown>) => ({ blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true, ...overrides });

    it("BucketPublicAccessBlock: flags from an outside stack's output unknown", async () => {
        await assertNotJudged(s3BackupPublicAccessBlock, [bucket("acme-dumps"), config(PAB, "dumps-pab", { bucket: "acme-dumps", ...flags({ blockPublicPolicy: UNKNOWN, restrictPublicBuckets: UNKNOWN }) })], ["acme-dumps public access block blockPublicPolicy, restrictPublicBuckets (dumps-pab (BucketPublicAccessBlock))"], why);
    });

    it("known values are judged as before: a false flag beside an unknown one is a violation, all true passes", async () => {
        await assertJudged(s3BackupPublicAccessBlock, [bucket("acme-dumps"), config(PAB, "dumps-pab", { bucket: "acme-dumps", ...flags({ blockPublicAcls: false, blockPublicPolicy: UNKNOWN }) })], [/^dumps-pab \(bucket acme-dumps, .*\): blockPublicAcls is false; the runbook requires public access fully blocked/]);
        await assertJudged(s3BackupPublicAccessBlock, [bucket("acme-dumps"), config(PAB, "dumps-pab", { bucket: "acme-dumps", ...flags({}) })], []);
    });
});
