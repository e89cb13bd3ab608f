/**
 * A delete marker on the newest manifest (a DELETE without a version id on the versioned bucket: an operator's
 * mistake or a compromised job; the version stays, locked, but the key no longer lists). restore.sh's default
 * choice (the drill's too: it runs restore.sh without --manifest), restore-verification.sh's choice of dump and
 * `npm run recovery-points` (dumpsIn) must name the hidden newest manifest (key, version, the marker's version
 * and time) and how to bring it back, never take the older one as if it were the newest. Real PostgreSQL 15 and
 * moto_server's versioned S3 on 127.0.0.1 (tools/sandbox/scripts useScriptServers).
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { S3Client } from "@aws-sdk/client-s3";
import { seedSql } from "../../tools/sandbox/oauth2-schema";
import { awsCall, explain, listVersions, putObject, runScript, scriptEnv, useScriptServers } from "../../tools/sandbox/scripts";
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

    /**
     * A curl on PATH that logs each call of the AWS helper (start and end) and holds the delete-marker check
     * (/s3/hidden: ListObjectVersions) until the dump's first 64 KiB have been read (at most 20 s): with the check
     * run serially before the manifest is read, its answer comes first all the same.
     */
    function heldHiddenCurl(): { shims: string; calls: () => string[] } {
        const shims = fs.mkdtempSync(path.join(servers.dir, "shims-"));
        const log = path.join(shims, "calls.log");
        const probed = path.join(shims, "probed");
        fs.writeFileSync(path.join(shims, "curl"), `#!/bin/bash
call="" what=""
for a in "$@"; do
    case "$a" in
    http://aws-helper/*) call=\${a#http://aws-helper} ;;
    key=*|range=*) what+=" $a" ;;
    esac
done
[[ -n "$call" ]] || exec /usr/bin/curl "$@"
echo "start $call$what" >>${log}
if [[ "$call" == /s3/hidden ]]; then
    for i in $(seq 200); do [[ -e ${probed} ]] && break; sleep 0.1; done
fi
/usr/bin/curl "$@"
rc=$?
[[ "$what" != *range=bytes=0-65535* ]] || touch ${probed}
echo "end $call$what" >>${log}
exit $rc
`, { mode: 0o755 });
        return { shims, calls: () => fs.readFileSync(log, "utf8").trim().split("\n") };
    }

    /** The manifest and the probe were read before the check's answer: the run did not wait for it to read them. */
    function assertNotWaitedFor(calls: string[]): void {
        const at = (pattern: RegExp) => calls.findIndex((c) => pattern.test(c));
        const hiddenEnd = at(/^end \/s3\/hidden/);
        const manifestEnd = at(/^end \/s3\/get .*key=database\/manifests\/.*\.json/);
        const probeEnd = at(/^end \/s3\/get .*range=bytes=0-65535/);
        assert.ok(hiddenEnd >= 0 && manifestEnd >= 0 && probeEnd >= 0, calls.join("\n"));
        assert.ok(manifestEnd < hiddenEnd && probeEnd < hiddenEnd, `the manifest and the probe waited for the versions' listing:\n${calls.join("\n")}`);
    }

    it("restore.sh reads the manifest and the probe without waiting for the versions' listing, and still exits 7 on the verdict that comes last; the target is untouched", async function () {
        servers.pg.createDatabase("held_target");
        const curl = heldHiddenCurl();
        const result = await runScript("restore.sh", env("held_target", { EXTRA_PATH: curl.shims }), ["--yes", "--source-database", "oauth2db"]);
        assertNotWaitedFor(curl.calls());
        assert.equal(result.code, 7, explain(result));
        assert.ok(result.stderr.includes(`ERROR: the newest manifest of oauth2db, s3://${bucket}/${newestKey} (version ${newestVersion},`), explain(result));
        assert.ok(!/ target: /.test(result.stderr), `the target was named before the verdict: ${explain(result)}`);
        assert.equal(servers.pg.psql("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'", "held_target"), "0");
    });

    it("restore-verification.sh reads the manifest and the probe without waiting for the versions' listing, and still fails naming the hidden manifest alone (no record of the older one)", async function () {
        const curl = heldHiddenCurl();
        const result = await runScript("restore-verification.sh", env("oauth2db", { EXTRA_PATH: curl.shims, VERIFY_DATABASE: "held_verify" }));
        assertNotWaitedFor(curl.calls());
        assert.equal(result.code, 6, explain(result));
        assert.ok(result.stdout.includes(`FAIL backup completed successfully: the newest manifest of oauth2db, s3://${bucket}/${newestKey} (version ${newestVersion},`), explain(result));
        for (const item of ["backup size is expected", "restore to test instance works", "data integrity verified", "application can connect to restored database", "all tables present with expected row counts"]) {
            assert.ok(result.stdout.includes(`FAIL ${item}: not checked: the newest backup is hidden by a delete marker`), `${item}: ${explain(result)}`);
        }
        assert.ok(result.stdout.includes("PASS test instance cleaned up: nothing was created"), explain(result));
        assert.ok(!curl.calls().some((c) => c.includes("/s3/put") && c.includes("verifications/")), curl.calls().join("\n"));
    });

    it("a step that fails before the verdict (the passphrase file unreadable) gives the delete marker's verdict first: restore.sh exit 7, the verification exit 6, as when the check came first", async function () {
        const missing = { PASSPHRASE_FILE: path.join(servers.dir, "no-such-passphrase") };
        servers.pg.createDatabase("nopass_target");
        const restore = await runScript("restore.sh", env("nopass_target", missing), ["--yes", "--source-database", "oauth2db"]);
        assert.equal(restore.code, 7, explain(restore));
        assert.ok(restore.stderr.includes(`ERROR: the newest manifest of oauth2db, s3://${bucket}/${newestKey} (version ${newestVersion},`), explain(restore));
        assert.ok(!restore.stderr.includes("is not readable"), explain(restore));
        const verify = await runScript("restore-verification.sh", env("oauth2db", { ...missing, VERIFY_DATABASE: "nopass_verify" }));
        assert.equal(verify.code, 6, explain(verify));
        assert.ok(verify.stdout.includes(`FAIL backup completed successfully: the newest manifest of oauth2db, s3://${bucket}/${newestKey} (version ${newestVersion},`), explain(verify));
        assert.match(verify.stdout, /FAIL restore to test instance works: not checked: the newest backup is hidden by a delete marker/, explain(verify));
    });

    it("a fault of the listed (older) manifest found before the versions' listing starts (not a complete backup) still gives the delete marker's verdict first: restore.sh's exit 7 names the hidden manifest, the verification's FAIL too", async function () {
        const older = servers.manifest(bucket, olderKey);
        putObject(servers.moto, bucket, olderKey, JSON.stringify({ ...older, status: "failed" }));
        try {
            servers.pg.createDatabase("incomplete_target");
            const restore = await runScript("restore.sh", env("incomplete_target"), ["--yes", "--source-database", "oauth2db"]);
            assert.equal(restore.code, 7, explain(restore));
            assert.ok(restore.stderr.includes(`ERROR: the newest manifest of oauth2db, s3://${bucket}/${newestKey} (version ${newestVersion},`), explain(restore));
            assert.ok(!restore.stderr.includes("is not a complete backup"), explain(restore));
            const verify = await runScript("restore-verification.sh", env("oauth2db", { VERIFY_DATABASE: "incomplete_verify" }));
            assert.equal(verify.code, 6, explain(verify));
            assert.ok(verify.stdout.includes(`FAIL backup completed successfully: the newest manifest of oauth2db, s3://${bucket}/${newestKey} (version ${newestVersion},`), explain(verify));
        } finally {
            putObject(servers.moto, bucket, olderKey, JSON.stringify(older));
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
