/**
 * A delete marker on the newest manifest (a DELETE without a version id on the versioned bucket: an operator's
 * mistake or a compromised job; the version stays, locked, but the key no longer lists). restore.sh's default
 * choice (the drill's too: it runs restore.sh without --manifest), restore-verification.sh's choice of dump and
 * `npm run recovery-points` (dumpsIn) must name the hidden newest manifest (key, version, the marker's version
 * and time) and how to bring it back, never take the older one as if it were the newest. Real PostgreSQL 15 and
 * moto_server's versioned S3 on 127.0.0.1 (tools/sandbox/scripts useScriptServers).
 */
import { strict as assert } from "assert";
import { S3Client } from "@aws-sdk/client-s3";
import { seedSql } from "../../tools/sandbox/oauth2-schema";
import { awsCall, explain, listVersions, runScript, scriptEnv, useScriptServers } from "../../tools/sandbox/scripts";
import { dumpsIn, DumpLocation } from "../../tools/recovery-points/collect";
import { newestFirst } from "../../tools/recovery-points/points";
import { useEnv } from "../support/process-state";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("a delete marker on the newest manifest: restore.sh, the verification and recovery-points name it, never an older one in its place (real PostgreSQL 15, moto's versioned S3)", function () {
    // The SDK's notice about its 2027 releases and Node 22 (the CLIs turn it off the same way); for this file only.
    useEnv({ AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" });
    this.timeout(180_000);
    const servers = useScriptServers("oauth2-dr-delete-marker-", "delete marker passphrase");
    let bucket: string;
    let olderKey: string;
    let newestKey: string;
    let newestVersion: string;
    let markerVersion: string;
    const env = (database: string, extra: Record<string, string> = {}) => ({ ...scriptEnv(servers.pg, servers.moto, bucket, servers.passphrase, database), ...extra });
    const consents = (database: string) => servers.pg.psql("SELECT count(*) FROM oauth2_authorization_consent", database);

    before(async function () {
        servers.pg.createDatabase("oauth2db");
        servers.pg.psql(seedSql({ clients: 3, authorizations: 10, consents: 4 }));
        bucket = servers.newBucket("oauth2-delete-marker");
        const first = await runScript("db-backup.sh", env("oauth2db"));
        assert.equal(first.code, 0, explain(first));
        olderKey = first.stdout.trim();
        // The newer backup holds more consents than the older one: which one a restore took is visible.
        servers.pg.psql("INSERT INTO oauth2_authorization_consent (registered_client_id, principal_name, authorities) SELECT registered_client_id, 'hidden-' || principal_name, authorities FROM oauth2_authorization_consent");
        await sleep(1100); // manifest names sort by their UTC second
        const second = await runScript("db-backup.sh", env("oauth2db"));
        assert.equal(second.code, 0, explain(second));
        newestKey = second.stdout.trim();
        assert.ok(newestKey > olderKey, `${newestKey} after ${olderKey}`);
        newestVersion = awsCall(servers.moto, "s3", "head_object", { Bucket: bucket, Key: newestKey }).VersionId;
        // The DELETE without a version id: a delete marker on top of the newest manifest.
        markerVersion = awsCall(servers.moto, "s3", "delete_object", { Bucket: bucket, Key: newestKey }).VersionId;
        const marker = listVersions(servers.moto, bucket, newestKey).find((v) => v.deleteMarker);
        assert.ok(marker?.isLatest && marker.versionId === markerVersion, JSON.stringify(listVersions(servers.moto, bucket, newestKey)));
    });

    it("restore.sh (the newest manifest by default, as the drill runs it) exits 7 naming the hidden manifest, its version, the marker and the copy-object that brings it back; the target is untouched", async function () {
        servers.pg.createDatabase("hidden_target");
        const result = await runScript("restore.sh", env("hidden_target"), ["--yes", "--source-database", "oauth2db"]);
        assert.equal(result.code, 7, explain(result));
        const stamp = "\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}Z";
        assert.match(result.stderr, new RegExp(`ERROR: the newest manifest of oauth2db, s3://${bucket}/${newestKey} \\(version ${newestVersion}, written ${stamp}\\), is hidden by a delete marker \\(version ${markerVersion}, placed ${stamp}\\)`), explain(result));
        assert.ok(result.stderr.includes(`aws s3api copy-object --bucket ${bucket} --key ${newestKey} --copy-source "${bucket}/${newestKey}?versionId=${newestVersion}"`), explain(result));
        assert.ok(result.stderr.includes(`--manifest ${olderKey} takes it knowingly`), explain(result));
        assert.equal(servers.pg.psql("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'", "hidden_target"), "0");
    });

    it("restore-verification.sh fails 'backup completed successfully' naming the hidden newest manifest; it does not verify the older one as the newest", async function () {
        const result = await runScript("restore-verification.sh", env("oauth2db", { VERIFY_DATABASE: "hidden_verify" }));
        assert.equal(result.code, 6, explain(result));
        assert.ok(result.stdout.includes(`FAIL backup completed successfully: the newest manifest of oauth2db, s3://${bucket}/${newestKey} (version ${newestVersion},`), explain(result));
        assert.ok(result.stdout.includes(`(VERIFY_MANIFEST_KEY=${olderKey} takes it knowingly)`), explain(result));
        assert.match(result.stdout, /FAIL restore to test instance works: not checked: the newest backup is hidden by a delete marker/, explain(result));
    });

    it("recovery-points lists the hidden manifest as the newest dump, HIDDEN and not restorable until made current, with the marker's version and time, and a note", async function () {
        const s3 = new S3Client({ region: "us-east-1", endpoint: servers.moto.endpoint, forcePathStyle: true, credentials: { accessKeyId: "testing", secretAccessKey: "testing" } });
        try {
            const where: DumpLocation = { bucket, region: "us-east-1", prefix: "database/", source: "dump", label: "dump" };
            const { points, notes } = await dumpsIn(s3, where);
            const [newest, older] = newestFirst(points);
            assert.equal(newest.id, newestKey, JSON.stringify(points.map((p) => p.id)));
            assert.equal(newest.hidden?.versionId, newestVersion);
            assert.equal(newest.hidden?.markerVersionId, markerVersion);
            assert.match(newest.detail, /^HIDDEN by a delete marker placed \d{4}-/);
            assert.deepEqual(newest.restore.commands, []);
            assert.ok(newest.restore.blocked?.includes(`--copy-source "${bucket}/${newestKey}?versionId=${newestVersion}"`), newest.restore.blocked);
            assert.equal(older.id, olderKey);
            assert.equal(older.hidden, undefined);
            assert.ok(older.restore.commands.length > 0);
            assert.ok(notes.some((n) => n.includes(`the newest dump manifest, ${newestKey} (version ${newestVersion}), is hidden by a delete marker (version ${markerVersion}`)), notes.join("\n"));
        } finally {
            s3.destroy();
        }
    });

    it("after the copy-object it names, restore.sh restores the newest backup (the newer consents)", async function () {
        awsCall(servers.moto, "s3", "copy_object", { Bucket: bucket, Key: newestKey, CopySource: { Bucket: bucket, Key: newestKey, VersionId: newestVersion } });
        servers.pg.createDatabase("unhidden_target");
        const result = await runScript("restore.sh", env("unhidden_target"), ["--yes", "--source-database", "oauth2db"]);
        assert.equal(result.code, 0, explain(result));
        assert.equal(consents("unhidden_target"), consents("oauth2db"));
    });
});
