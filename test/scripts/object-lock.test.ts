/**
 * Each object a backup job writes carries its own S3 Object Lock retention (scripts/aws-helper.py, from
 * OBJECT_LOCK_MODE and OBJECT_LOCK_RETAIN_DAYS, which components/backup-jobs.ts sets per data class), on the
 * multipart dump upload and on the small puts (manifests) alike; moto enforces COMPLIANCE: deleting the
 * version is refused. Real PostgreSQL 15 and moto on 127.0.0.1, stopped afterwards.
 */
import { strict as assert } from "assert";
import { seedSql } from "../../tools/sandbox/oauth2-schema";
import { awsCall, explain, listVersions, runScript, scriptEnv, useScriptServers } from "../../tools/sandbox/scripts";

const DAY = 86_400_000;
/** scripts/aws-helper.py asks for the class's days plus an hour (OBJECT_LOCK_MARGIN_SECONDS: the buckets' lock floor). */
const HOUR = 3_600_000;

describe("Object Lock retention set by the backup scripts (real PostgreSQL 15 and S3 API)", function () {
    this.timeout(120_000);
    const servers = useScriptServers("oauth2-dr-lock-test-", "correct horse battery staple");
    let buckets = 0;

    before(function () {
        servers.pg.createDatabase("oauth2db");
        servers.pg.psql(seedSql({ clients: 3, authorizations: 20, consents: 5 }));
    });

    function lockedBucket(): string {
        const bucket = `oauth2-backups-lock-${++buckets}`;
        awsCall(servers.moto, "s3", "create_bucket", { Bucket: bucket, ObjectLockEnabledForBucket: true });
        awsCall(servers.moto, "s3", "put_bucket_versioning", { Bucket: bucket, VersioningConfiguration: { Status: "Enabled" } });
        return bucket;
    }

    const env = (bucket: string, extra: Record<string, string>) => ({ ...scriptEnv(servers.pg, servers.moto, bucket, servers.passphrase), ...extra });

    it("db-backup: the dump (multipart) and its manifests are locked COMPLIANCE for the class's days; deleting a version is refused", async () => {
        const bucket = lockedBucket();
        const before = Date.now();
        const result = await runScript("db-backup.sh", env(bucket, { OBJECT_LOCK_MODE: "COMPLIANCE", OBJECT_LOCK_RETAIN_DAYS: "30", S3_PART_SIZE_MB: "5" }));
        assert.equal(result.code, 0, explain(result));
        const versions = listVersions(servers.moto, bucket, "database/");
        assert.ok(versions.some((v) => v.key.endsWith(".dump.gpg")), JSON.stringify(versions));
        assert.ok(versions.length >= 3, "dump, manifest, latest pointer");
        for (const version of versions) {
            const head = awsCall(servers.moto, "s3", "head_object", { Bucket: bucket, Key: version.key, VersionId: version.versionId });
            assert.equal(head.ObjectLockMode, "COMPLIANCE", version.key);
            const until = Date.parse(head.ObjectLockRetainUntilDate);
            assert.ok(until >= before + 30 * DAY + HOUR - 60_000 && until <= Date.now() + 30 * DAY + HOUR + 60_000, `${version.key}: ${head.ObjectLockRetainUntilDate}`);
        }
        const dump = versions.find((v) => v.key.endsWith(".dump.gpg"))!;
        assert.throws(() => awsCall(servers.moto, "s3", "delete_object", { Bucket: bucket, Key: dump.key, VersionId: dump.versionId }), /AccessDenied/);
    });

    it("without the variables the bucket's default applies alone; a bad value stops the job naming it", async () => {
        const bucket = lockedBucket();
        const plain = await runScript("db-backup.sh", env(bucket, {}));
        assert.equal(plain.code, 0, explain(plain));
        const version = listVersions(servers.moto, bucket, "database/")[0];
        assert.equal(awsCall(servers.moto, "s3", "head_object", { Bucket: bucket, Key: version.key }).ObjectLockMode, undefined);
        const bad = await runScript("db-backup.sh", env(lockedBucket(), { OBJECT_LOCK_MODE: "LEGAL", OBJECT_LOCK_RETAIN_DAYS: "30" }));
        assert.notEqual(bad.code, 0);
        assert.match(bad.stderr, /OBJECT_LOCK_MODE must be COMPLIANCE or GOVERNANCE/);
    });
});
