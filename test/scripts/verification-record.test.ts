/**
 * scripts/restore-verification.sh's record of each run (scripts/README.md, "Verification records"), written
 * on pass and on failure beside the manifests, under the job's Object Lock, and read back by
 * `npm run recovery-points` (tools/recovery-points dumpsIn). Real PostgreSQL 15 and moto's S3 on 127.0.0.1,
 * stopped afterwards (the restore-verification tests' own setup: tools/sandbox/scripts useScriptServers).
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { S3Client } from "@aws-sdk/client-s3";
import { seedSql } from "../../tools/sandbox/oauth2-schema";
import { awsCall, explain, getObject, listKeys, putObject, runScript, scriptEnv, startScript, useScriptServers } from "../../tools/sandbox/scripts";
import { PG_BIN } from "../../tools/sandbox/servers";
import { dumpsIn, DumpLocation } from "../../tools/recovery-points/collect";
import { useEnv } from "../support/process-state";

const DAY = 86_400_000;
/** scripts/aws-helper.py asks for the class's days plus an hour (OBJECT_LOCK_MARGIN_SECONDS: the buckets' lock floor). */
const HOUR = 3_600_000;

describe("restore-verification.sh records each run in S3; recovery-points reads the record (real PostgreSQL 15 and S3 API)", function () {
    // The SDK's notice about its 2027 releases and Node 22 (the CLIs turn it off the same way); for this file only.
    useEnv({ AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" });
    this.timeout(180_000);
    const servers = useScriptServers("oauth2-dr-vrec-test-", "correct horse battery staple");
    let buckets = 0;

    before(function () {
        servers.pg.createDatabase("oauth2db");
        servers.pg.psql(seedSql({ clients: 3, authorizations: 20, consents: 5 }));
    });

    function lockedBucket(): string {
        const bucket = `oauth2-backups-vrec-${++buckets}`;
        awsCall(servers.moto, "s3", "create_bucket", { Bucket: bucket, ObjectLockEnabledForBucket: true });
        awsCall(servers.moto, "s3", "put_bucket_versioning", { Bucket: bucket, VersioningConfiguration: { Status: "Enabled" } });
        return bucket;
    }

    const env = (bucket: string, extra: Record<string, string> = {}) => ({ ...scriptEnv(servers.pg, servers.moto, bucket, servers.passphrase), ...extra });
    const lock = { OBJECT_LOCK_MODE: "GOVERNANCE", OBJECT_LOCK_RETAIN_DAYS: "30" };

    async function backup(bucket: string): Promise<string> {
        const result = await runScript("db-backup.sh", env(bucket));
        assert.equal(result.code, 0, explain(result));
        return result.stdout.trim();
    }

    function records(bucket: string, manifestKey: string): string[] {
        const name = manifestKey.replace(/^database\/manifests\//, "").replace(/\.json$/, "");
        return listKeys(servers.moto, bucket, `database/verifications/${name}/`);
    }

    async function listed(bucket: string, manifestKey: string) {
        const s3 = new S3Client({ region: "us-east-1", endpoint: servers.moto.endpoint, forcePathStyle: true, credentials: { accessKeyId: "testing", secretAccessKey: "testing" } });
        try {
            const where: DumpLocation = { bucket, region: "us-east-1", prefix: "database/", source: "dump", label: "dump" };
            const { points } = await dumpsIn(s3, where);
            return points.find((p) => p.id === manifestKey)!;
        } finally {
            s3.destroy();
        }
    }

    it("a passed verification: one record, locked for the database class's days, naming the manifest's version; recovery-points says passed", async () => {
        const bucket = lockedBucket();
        const manifestKey = await backup(bucket);
        const before = Date.now();
        const result = await runScript("restore-verification.sh", env(bucket, { ...lock, VERIFY_DATABASE: "vrec_pass" }));
        assert.equal(result.code, 0, explain(result));
        const keys = records(bucket, manifestKey);
        assert.equal(keys.length, 1, JSON.stringify(keys));
        assert.match(keys[0], /^database\/verifications\/oauth2db-\d{8}T\d{6}Z-[0-9a-f]+\/\d{8}T\d{6}Z-[0-9a-f]{12}\.json$/);
        const record = JSON.parse(getObject(servers.moto, bucket, keys[0]).toString("utf8"));
        const head = awsCall(servers.moto, "s3", "head_object", { Bucket: bucket, Key: manifestKey });
        assert.equal(record.format, "oauth2-dr/restore-verification/v1");
        assert.equal(record.manifest_key, manifestKey);
        assert.equal(record.manifest_version_id, head.VersionId);
        assert.equal(record.result, "passed");
        assert.equal(record.failed_by, null);
        assert.equal(record.exit_code, 0);
        assert.deepEqual(record.checked, { row_counts: "PASS", schema: "PASS", service_lookups: "PASS" });
        assert.equal(record.checks.length, 7);
        assert.match(record.checks[5].detail, /oauth2_authorization=20/);
        assert.ok(Number.isInteger(record.duration_seconds) && record.duration_seconds >= 0);
        assert.ok(Date.parse(record.finished_at) >= Date.parse(record.started_at));
        const retention = awsCall(servers.moto, "s3", "head_object", { Bucket: bucket, Key: keys[0] });
        assert.equal(retention.ObjectLockMode, "GOVERNANCE");
        const until = Date.parse(retention.ObjectLockRetainUntilDate);
        assert.ok(until >= before + 30 * DAY + HOUR - 60_000 && until <= Date.now() + 30 * DAY + HOUR + 60_000, retention.ObjectLockRetainUntilDate);
        assert.doesNotMatch(JSON.stringify(record), /correct horse/);
        const point = await listed(bucket, manifestKey);
        assert.equal(point.verification?.status, "passed");
        assert.match(point.detail, new RegExp(`verified: passed ${record.finished_at.slice(0, 10)}$`));
    });

    it("the record names the manifest version it verified (read before the download), also when the manifest is rewritten during the run", async () => {
        const bucket = lockedBucket();
        const manifestKey = await backup(bucket);
        const verified = awsCall(servers.moto, "s3", "head_object", { Bucket: bucket, Key: manifestKey }).VersionId;
        // pg_restore of the rows (-a) waits for the test's gate (at most 60 s): the manifest is rewritten meanwhile.
        const shims = fs.mkdtempSync(path.join(servers.dir, "pg-restore-"));
        const waiting = path.join(shims, "waiting");
        const gate = path.join(shims, "gate");
        fs.writeFileSync(path.join(shims, "pg_restore"), `#!/usr/bin/env bash\nif [[ " $* " == *" -a "* ]]; then touch ${waiting}; for _ in $(seq 600); do [[ -e ${gate} ]] && break; sleep 0.1; done; fi\nexec ${PG_BIN}/pg_restore "$@"\n`, { mode: 0o755 });
        const run = startScript("restore-verification.sh", env(bucket, { EXTRA_PATH: shims, VERIFY_DATABASE: "vrec_rewritten" }));
        try {
            for (let i = 0; i < 600 && !fs.existsSync(waiting); i++) {
                await new Promise((resolve) => setTimeout(resolve, 100));
            }
            assert.ok(fs.existsSync(waiting), "the verification's load never started");
            putObject(servers.moto, bucket, manifestKey, getObject(servers.moto, bucket, manifestKey));
        } finally {
            fs.writeFileSync(gate, "");
        }
        const result = await run.done;
        assert.equal(result.code, 0, explain(result));
        const rewritten = awsCall(servers.moto, "s3", "head_object", { Bucket: bucket, Key: manifestKey }).VersionId;
        assert.notEqual(rewritten, verified);
        const keys = records(bucket, manifestKey);
        assert.equal(keys.length, 1, JSON.stringify(keys));
        assert.equal(JSON.parse(getObject(servers.moto, bucket, keys[0]).toString("utf8")).manifest_version_id, verified);
    });

    it("a failed verification (row counts) is recorded as failed by the backup, with the reason; recovery-points says FAILED", async () => {
        const bucket = lockedBucket();
        const manifestKey = await backup(bucket);
        const text = getObject(servers.moto, bucket, manifestKey).toString("utf8");
        const edited = text.replace('"oauth2_authorization": 20', '"oauth2_authorization": 21');
        assert.notEqual(edited, text);
        putObject(servers.moto, bucket, manifestKey, edited);
        const result = await runScript("restore-verification.sh", env(bucket, lock));
        assert.equal(result.code, 6, explain(result));
        const keys = records(bucket, manifestKey);
        assert.equal(keys.length, 1);
        const record = JSON.parse(getObject(servers.moto, bucket, keys[0]).toString("utf8"));
        assert.deepEqual([record.result, record.failed_by, record.exit_code], ["failed", "backup", 6]);
        assert.equal(record.reason, "all tables present with expected row counts: oauth2_authorization has 20 rows, manifest says 21");
        assert.equal(record.checked.row_counts, "FAIL");
        const point = await listed(bucket, manifestKey);
        assert.deepEqual([point.verification?.status, point.verification?.failedBy], ["failed", "backup"]);
        assert.match(point.detail, /verified: FAILED \d{4}-\d{2}-\d{2} \(all tables present with expected row counts: oauth2_authorization has…\)$/);
        assert.equal(point.verification?.reason, record.reason, "the full reason in --json");
    });

    it("a verification whose server is unreachable is recorded as failed by its environment, not the dump", async () => {
        const bucket = lockedBucket();
        const manifestKey = await backup(bucket);
        const result = await runScript("restore-verification.sh", env(bucket, { VERIFY_PGHOST: "127.0.0.1", VERIFY_PGPORT: "1" }));
        assert.equal(result.code, 3, explain(result));
        const record = JSON.parse(getObject(servers.moto, bucket, records(bucket, manifestKey)[0]).toString("utf8"));
        assert.deepEqual([record.result, record.failed_by, record.exit_code], ["failed", "environment", 3]);
        const point = await listed(bucket, manifestKey);
        assert.match(point.detail, /verified: FAILED .*\(the verification's environment, not the dump: /);
    });

    it("no manifest, no record (nothing to attach it to); a record S3 refuses turns a pass into exit 4, naming the key", async () => {
        const bucket = lockedBucket();
        const empty = await runScript("restore-verification.sh", env(bucket));
        assert.equal(empty.code, 6, explain(empty));
        assert.deepEqual(listKeys(servers.moto, bucket, "database/verifications/"), [], "no manifest: no record");
        await backup(bucket);
        // The helper refuses the put (a bad OBJECT_LOCK_MODE); the verification itself needs no put.
        const refused = await runScript("restore-verification.sh", env(bucket, { OBJECT_LOCK_MODE: "LEGAL", OBJECT_LOCK_RETAIN_DAYS: "30" }));
        assert.equal(refused.code, 4, explain(refused));
        assert.match(refused.stderr, /cannot write the verification record s3:\/\/oauth2-backups-vrec-\d+\/database\/verifications\/oauth2db-.*OBJECT_LOCK_MODE must be/);
        assert.doesNotMatch(refused.stdout, /^FAIL /m, "every checklist item passed");
        // lib.sh aws_call removed its OUT on a refusal: s3_put_file's /dev/null, when run as root.
        assert.ok(fs.statSync("/dev/null").isCharacterDevice(), "/dev/null is still the device");
    });
});
