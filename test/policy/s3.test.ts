import { strict as assert } from "assert";
import { s3BackupEncryption, s3BackupLifecycleRetention, s3BackupPublicAccessBlock, s3BackupTlsOnly, s3BackupVersioning } from "../../policy/s3";
import { RunOptions, runStackPolicy, UNKNOWN } from "./helpers";
import { StackValidationPolicy } from "@pulumi/policy";

/** The stack policy's messages on a stack holding only this configuration resource (its bucket recognised by name). */
async function runResourcePolicy(policy: StackValidationPolicy, resource: { type: string; name: string; props: Record<string, unknown> }, options: RunOptions = {}): Promise<string[]> {
    return (await runStackPolicy(policy, [resource], options)).map((v) => v.message);
}

const BY_NAME = 'backup storage: name starts with "oauth2-backups"';

const BUCKET = "oauth2-backups-prod";
const T = {
    versioning: "aws:s3/bucketVersioning:BucketVersioning",
    sse: "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    pab: "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    policy: "aws:s3/bucketPolicy:BucketPolicy",
    lifecycle: "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
};

export const TLS_POLICY = JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Effect: "Deny", Principal: "*", Action: "s3:*", Resource: [`arn:aws:s3:::${BUCKET}`, `arn:aws:s3:::${BUCKET}/*`], Condition: { Bool: { "aws:SecureTransport": "false" } } }],
});

/** The lifecycle rules our BackupBucket declares: the table's retention per prefix. */
export function tableRules(): Array<Record<string, unknown>> {
    const day = (id: string, prefix: string, days: number) => ({ id, status: "Enabled", filter: { prefix }, expiration: { days }, noncurrentVersionExpiration: { noncurrentDays: days } });
    return [
        day("database", "database/", 30),
        day("clients", "clients/", 90),
        { id: "secrets", status: "Enabled", filter: { prefix: "secrets/" }, noncurrentVersionExpiration: { noncurrentDays: 30, newerNoncurrentVersions: 6 } },
        day("audit", "audit/", 365),
        day("config", "config/", 90),
    ];
}

const lifecycle = (rules: unknown, bucket: unknown = BUCKET) => ({ type: T.lifecycle, name: "backups-lifecycle", props: { bucket, rules } });

describe("policy: S3 backup bucket configuration resources", () => {
    it("compliant configuration resources pass", async () => {
        assert.deepEqual(await runResourcePolicy(s3BackupVersioning, { type: T.versioning, name: "v", props: { bucket: BUCKET, versioningConfiguration: { status: "Enabled" } } }), []);
        assert.deepEqual(await runResourcePolicy(s3BackupEncryption, { type: T.sse, name: "e", props: { bucket: BUCKET, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: "arn:k" } }] } }), []);
        assert.deepEqual(await runResourcePolicy(s3BackupPublicAccessBlock, { type: T.pab, name: "p", props: { bucket: BUCKET, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true } }), []);
        assert.deepEqual(await runResourcePolicy(s3BackupTlsOnly, { type: T.policy, name: "t", props: { bucket: BUCKET, policy: TLS_POLICY } }), []);
        assert.deepEqual(await runResourcePolicy(s3BackupLifecycleRetention, lifecycle(tableRules())), []);
    });

    it("s3-backup-versioning: Suspended, only on backup buckets", async () => {
        assert.deepEqual(await runResourcePolicy(s3BackupVersioning, { type: T.versioning, name: "v", props: { bucket: BUCKET, versioningConfiguration: { status: "Suspended" } } }), [
            `v (bucket oauth2-backups-prod, ${BY_NAME}): versioningConfiguration.status is "Suspended"; the runbook requires versioning "Enabled" (secrets/ keeps 7 versions, deleted backups stay recoverable)`,
        ]);
        assert.deepEqual(await runResourcePolicy(s3BackupVersioning, { type: T.versioning, name: "v", props: { bucket: "web-assets", versioningConfiguration: { status: "Suspended" } } }), []);
        const config = { "oauth2-dr-settings": { backupBucketPrefixes: ["web-"] } };
        assert.equal((await runResourcePolicy(s3BackupVersioning, { type: T.versioning, name: "v", props: { bucket: "web-assets", versioningConfiguration: { status: "Suspended" } } }, { config })).length, 1);
    });

    it("s3-backup-encryption: SSE-S3, or aws:kms without a key", async () => {
        const [aes] = await runResourcePolicy(s3BackupEncryption, { type: T.sse, name: "e", props: { bucket: BUCKET, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }] } });
        assert.match(aes, /sseAlgorithm "AES256" with kmsMasterKeyId not set; the runbook requires SSE-KMS/);
        assert.equal((await runResourcePolicy(s3BackupEncryption, { type: T.sse, name: "e", props: { bucket: BUCKET, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms" } }] } })).length, 1);
    });

    it("s3-backup-public-access-block: each flag that is not true is named", async () => {
        const messages = await runResourcePolicy(s3BackupPublicAccessBlock, { type: T.pab, name: "p", props: { bucket: BUCKET, blockPublicAcls: true, blockPublicPolicy: false, ignorePublicAcls: true } });
        assert.deepEqual(messages, [
            `p (bucket oauth2-backups-prod, ${BY_NAME}): blockPublicPolicy is false; the runbook requires public access fully blocked (true)`,
            `p (bucket oauth2-backups-prod, ${BY_NAME}): restrictPublicBuckets is not set; the runbook requires public access fully blocked (true)`,
        ]);
    });

    it("s3-backup-tls-only: a policy without the SecureTransport deny", async () => {
        const allowOnly = JSON.stringify({ Statement: [{ Effect: "Allow", Principal: "*", Action: "s3:GetObject", Resource: `arn:aws:s3:::${BUCKET}/*` }] });
        const [message] = await runResourcePolicy(s3BackupTlsOnly, { type: T.policy, name: "t", props: { bucket: BUCKET, policy: allowOnly } });
        assert.match(message, /denies s3:\* on the bucket's objects when aws:SecureTransport is "false"/);
        const secureTrue = TLS_POLICY.replace('"false"', '"true"');
        assert.equal((await runResourcePolicy(s3BackupTlsOnly, { type: T.policy, name: "t", props: { bucket: BUCKET, policy: secureTrue } })).length, 1);
    });

    describe("s3-backup-lifecycle-retention", () => {
        const withRule = (index: number, rule: Record<string, unknown>) => tableRules().map((r, i) => (i === index ? { ...r, ...rule } : r));

        it("clients/ expiring at 89 days", async () => {
            assert.deepEqual(await runResourcePolicy(s3BackupLifecycleRetention, lifecycle(withRule(1, { expiration: { days: 89 } }))), [
                `backups-lifecycle (bucket oauth2-backups-prod, ${BY_NAME}): rule "clients" (prefix "clients/") on clients/ (Client configurations) expires objects after 89 days (expiration.days); the retention table requires at least 90 days`,
            ]);
        });

        it("database/ noncurrent versions after 10 days (without newerNoncurrentVersions)", async () => {
            const [message] = await runResourcePolicy(s3BackupLifecycleRetention, lifecycle(withRule(0, { noncurrentVersionExpiration: { noncurrentDays: 10 } })));
            assert.match(message, /rule "database" .* deletes noncurrent versions after 10 days \(noncurrentVersionExpiration\.noncurrentDays\); the retention table requires at least 30 days/);
        });

        it("secrets/ keeping 6 versions, or expiring its current version", async () => {
            const [six] = await runResourcePolicy(s3BackupLifecycleRetention, lifecycle(withRule(2, { noncurrentVersionExpiration: { noncurrentDays: 30, newerNoncurrentVersions: 5 } })));
            assert.match(six, /keeps 6 versions \(1 current \+ noncurrentVersionExpiration\.newerNoncurrentVersions 5\); the retention table requires at least 7 versions/);
            const [expiring] = await runResourcePolicy(s3BackupLifecycleRetention, lifecycle(withRule(2, { expiration: { days: 400 } })));
            assert.match(expiring, /expires the current version after 400 days/);
            const [byAge] = await runResourcePolicy(s3BackupLifecycleRetention, lifecycle(withRule(2, { noncurrentVersionExpiration: { noncurrentDays: 30 } })));
            assert.match(byAge, /without newerNoncurrentVersions/);
            assert.deepEqual(await runResourcePolicy(s3BackupLifecycleRetention, lifecycle(withRule(2, { expiration: { expiredObjectDeleteMarker: true } }))), []);
        });

        it("a rule that deletes earlier is a violation even when another rule is fine; Disabled rules do not count", async () => {
            const rules = [...tableRules(), { id: "audit-old", status: "Enabled", filter: { and: { prefix: "audit/2020/" } }, expiration: { days: 300 } }];
            const [message] = await runResourcePolicy(s3BackupLifecycleRetention, lifecycle(rules));
            assert.match(message, /rule "audit-old" \(prefix "audit\/2020\/"\) on audit\/ \(Audit logs\) expires objects after 300 days/);
            const disabled = [...tableRules(), { id: "off", status: "Disabled", filter: { prefix: "" }, expiration: { days: 1 } }];
            assert.deepEqual(await runResourcePolicy(s3BackupLifecycleRetention, lifecycle(disabled)), []);
        });

        it("an empty prefix (or the legacy prefix field) covers every class", async () => {
            const messages = await runResourcePolicy(s3BackupLifecycleRetention, lifecycle([{ id: "all", status: "Enabled", prefix: "", expiration: { days: 60 } }]));
            assert.deepEqual(messages.map((m) => /on (\w+)\//.exec(m)?.[1]), ["clients", "secrets", "audit", "config"]);
        });

        it("a rule filtered by a tag or an object size is judged on its whole prefix, and the message names the filter", async () => {
            const scratch = { id: "scratch", status: "Enabled", filter: { tag: { key: "scratch", value: "true" } }, expiration: { days: 1 } };
            const [database] = await runResourcePolicy(s3BackupLifecycleRetention, lifecycle([...tableRules(), scratch]));
            assert.match(database, /rule "scratch" \(prefix "", tag scratch=true, judged for every object under the prefix\) on database\/ \(Database \(PostgreSQL\)\) expires objects after 1 day \(expiration\.days\)/);
            const small = { id: "small", status: "Enabled", filter: { and: { prefix: "database/", objectSizeLessThan: 1024, tags: { kind: "marker" } } }, expiration: { days: 2 } };
            const [sized] = await runResourcePolicy(s3BackupLifecycleRetention, lifecycle([...tableRules(), small]));
            assert.match(sized, /rule "small" \(prefix "database\/", tag kind=marker, objects smaller than 1024 bytes, judged for every object under the prefix\)/);
        });

        it("an expiration date deletes everything on that day", async () => {
            const [message] = await runResourcePolicy(s3BackupLifecycleRetention, lifecycle(withRule(4, { expiration: { date: "2027-01-01T00:00:00Z" } })));
            assert.match(message, /expires every object on 2027-01-01T00:00:00Z \(expiration\.date\)/);
        });

        it("minima come from policy config", async () => {
            const config = { "oauth2-dr-settings": { minimumDays: { clients: 120 } } };
            const raised = await runResourcePolicy(s3BackupLifecycleRetention, lifecycle(tableRules()), { config });
            assert.deepEqual(raised.map((m) => /(expiration\.days|noncurrentDays)/.exec(m)?.[1]), ["expiration.days", "noncurrentDays"]);
        });

        it("unknown rules, rule properties or bucket names never crash or report", async () => {
            assert.deepEqual(await runResourcePolicy(s3BackupLifecycleRetention, lifecycle(UNKNOWN)), []);
            assert.deepEqual(await runResourcePolicy(s3BackupLifecycleRetention, lifecycle(tableRules(), UNKNOWN)), []);
            assert.deepEqual(await runResourcePolicy(s3BackupLifecycleRetention, lifecycle(withRule(1, { expiration: { days: UNKNOWN } }))), []);
            assert.deepEqual(await runResourcePolicy(s3BackupLifecycleRetention, lifecycle(withRule(1, { filter: UNKNOWN }))), []);
        });
    });
});
