/**
 * The backup scripts fail fast and clearly (bucket, passphrase, database, permissions, manifest, object,
 * key version: all checked before any dump or download; each case prints how long it took to fail), and
 * dumps restore with the passphrase version that encrypted them, after one and after six rotations.
 * Real PostgreSQL 15 and moto (S3, Secrets Manager), started here on 127.0.0.1.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import { OAUTH2_TABLES, seedSql } from "../../tools/sandbox/oauth2-schema";
import { tableChecksums } from "../support/checksums";
import {
    createSecret,
    explain,
    getObject,
    listKeys,
    passphraseFile,
    putObject,
    resolvedHelperPython,
    rotateSecret,
    runScript,
    scriptEnv,
    ScriptResult,
    timedRun,
    useScriptServers,
} from "../../tools/sandbox/scripts";
import { freePort, MotoServer, PgServer } from "../../tools/sandbox/servers";

const SIZE = { clients: 8, authorizations: 60, consents: 12 };


describe("backup scripts fail fast, and key versions", function () {
    // Several script runs per test; a shared 2-core machine under load makes each run take tens of seconds.
    this.timeout(600_000);
    let pg: PgServer;
    let moto: MotoServer;
    let dir: string;
    let passphrase: string;
    const servers = useScriptServers("oauth2-dr-fast-test-", "fail fast passphrase");
    const newBucket = () => servers.newBucket("oauth2-fast");
    const env = (bucket: string, extra: Record<string, string> = {}, database = "oauth2db") => ({ ...scriptEnv(pg, moto, bucket, passphrase, database), ...extra });
    const manifest = servers.manifest;
    /** Nothing long started: no upload, no download (restore logs "restoring" right before its one pass). */
    const assertNoLongWork = (result: ScriptResult) => assert.doesNotMatch(result.stderr, /uploading|restoring /, explain(result));

    async function backup(bucket: string, extra: Record<string, string> = {}): Promise<string> {
        const result = await runScript("db-backup.sh", env(bucket, extra));
        assert.equal(result.code, 0, explain(result));
        return result.stdout.trim();
    }

    before(function () {
        ({ pg, moto, dir, passphrase } = servers);
        pg.createDatabase("oauth2db");
        pg.psql(seedSql(SIZE));
    });

    describe("db-backup.sh, before dumping", function () {
        it("a missing bucket: storage error naming the bucket", async function () {
            const result = await timedRun("to a missing bucket", "db-backup.sh", env("oauth2-no-such-bucket"));
            assert.equal(result.code, 4, explain(result));
            assert.match(result.stderr, /ERROR: bucket oauth2-no-such-bucket \(prefix database\/\) is not usable: An error occurred \(NoSuchBucket\)/);
            assertNoLongWork(result);
        });

        it("an unreadable passphrase secret: encryption error naming the secret and the cause", async function () {
            const result = await timedRun("with a missing passphrase secret", "db-backup.sh", env(newBucket(), { PASSPHRASE_FILE: "", BACKUP_PASSPHRASE_SECRET_ID: "oauth2/no-such-secret" }));
            assert.equal(result.code, 5, explain(result));
            assert.match(result.stderr, /ERROR: cannot read the backup passphrase oauth2\/no-such-secret from Secrets Manager: An error occurred \(ResourceNotFoundException\)/);
            assertNoLongWork(result);
        });

        it("a secret that is not a passphrase (the database credentials' JSON)", async function () {
            createSecret(moto, "oauth2/db-credentials", JSON.stringify({ username: "oauth2", password: "not-a-passphrase" }));
            const result = await timedRun("with the credentials secret as passphrase", "db-backup.sh", env(newBucket(), { PASSPHRASE_FILE: "", BACKUP_PASSPHRASE_SECRET_ID: "oauth2/db-credentials" }));
            assert.equal(result.code, 5, explain(result));
            assert.match(result.stderr, /holds a JSON object, not a backup passphrase: is oauth2\/db-credentials the right secret\?/);
            assert.doesNotMatch(result.stderr, /not-a-passphrase/);
            assertNoLongWork(result);
        });

        it("an existing but wrong passphrase secret: not the previous backup's", async function () {
            const bucket = newBucket();
            createSecret(moto, "oauth2/backup-passphrase-a", "passphrase a");
            createSecret(moto, "oauth2/staging-backup-passphrase", "passphrase of staging");
            await backup(bucket, { PASSPHRASE_FILE: "", BACKUP_PASSPHRASE_SECRET_ID: "oauth2/backup-passphrase-a" });
            const wrong = { PASSPHRASE_FILE: "", BACKUP_PASSPHRASE_SECRET_ID: "oauth2/staging-backup-passphrase" };
            const result = await timedRun("with another existing secret", "db-backup.sh", env(bucket, wrong));
            assert.equal(result.code, 5, explain(result));
            assert.match(result.stderr, /ERROR: the passphrase secret arn:aws:secretsmanager:us-east-1:\d+:secret:oauth2\/staging-backup-passphrase-\w+ is not the one of the previous backup database\/manifests\/oauth2db-\S+ \(arn:aws:secretsmanager:\S+:secret:oauth2\/backup-passphrase-a-\w+\)/);
            assert.equal(listKeys(moto, bucket, "database/manifests/").length, 1);
            assertNoLongWork(result);
            // An intended change is allowed, and said so.
            await backup(bucket, { ...wrong, BACKUP_PASSPHRASE_SECRET_CHANGED: "1" });
        });

        it("the database is down: host:port and the cause, without a tab", async function () {
            const result = await timedRun("with the database down", "db-backup.sh", env(newBucket(), { PGPORT: String(await freePort()) }));
            assert.equal(result.code, 3, explain(result));
            assert.match(result.stderr, /ERROR: cannot connect to 127\.0\.0\.1:\d+\/oauth2db: connection to server at "127\.0\.0\.1", port \d+ failed: Connection refused Is the server running/);
            assert.doesNotMatch(result.stderr, /\t/);
        });

        it("a table the role cannot SELECT: permission denied for that table", async function () {
            pg.createDatabase("perm");
            pg.psql(seedSql(SIZE), "perm");
            pg.psql(`CREATE ROLE backup_reader LOGIN;
                GRANT USAGE ON SCHEMA public TO backup_reader;
                GRANT SELECT ON ALL TABLES IN SCHEMA public TO backup_reader;
                CREATE TABLE audit_secret (id int PRIMARY KEY, note text);`, "perm");
            const result = await timedRun("without SELECT on a table", "db-backup.sh", env(newBucket(), { PGUSER: "backup_reader" }, "perm"));
            assert.equal(result.code, 3, explain(result));
            assert.match(result.stderr, /ERROR: permission denied for table public\.audit_secret in 127\.0\.0\.1:\d+\/perm: backup_reader cannot SELECT it/);
            assert.doesNotMatch(result.stderr, /LOCK TABLE/);
            assertNoLongWork(result);
        });

        it("database credentials from Secrets Manager (DB_CREDENTIALS_SECRET_ID): used when readable, a database error naming the secret when not", async function () {
            createSecret(moto, "oauth2/backup-db-login", JSON.stringify({ username: "postgres", password: "trusted-anyway" }));
            const bucket = newBucket();
            const ok = await timedRun("with credentials from Secrets Manager", "db-backup.sh", env(bucket, { PGUSER: "", DB_CREDENTIALS_SECRET_ID: "oauth2/backup-db-login" }));
            assert.equal(ok.code, 0, explain(ok));
            assert.doesNotMatch(ok.stderr + ok.stdout, /trusted-anyway/);
            const missing = await timedRun("with a missing credentials secret", "db-backup.sh", env(newBucket(), { PGUSER: "", DB_CREDENTIALS_SECRET_ID: "oauth2/no-such-login" }));
            assert.equal(missing.code, 3, explain(missing));
            assert.match(missing.stderr, /ERROR: cannot read the database credentials \(oauth2\/no-such-login\): An error occurred \(ResourceNotFoundException\)/);
            assertNoLongWork(missing);
        });

        it("upload settings S3 would refuse only after the whole dump: usage error (2) naming the variable", async function () {
            const small = await timedRun("with 1 MB parts", "db-backup.sh", env(newBucket(), { S3_PART_SIZE_MB: "1" }));
            assert.equal(small.code, 2, explain(small));
            assert.match(small.stderr, /ERROR: S3_PART_SIZE_MB must be a whole number of MB, at least 5 \(S3's smallest part\), not 1$/m);
            const words = await timedRun("with a concurrency of 'four'", "db-backup.sh", env(newBucket(), { S3_UPLOAD_CONCURRENCY: "four" }));
            assert.equal(words.code, 2, explain(words));
            assert.match(words.stderr, /ERROR: S3_UPLOAD_CONCURRENCY must be a whole number of at least 1, not four$/m);
            assertNoLongWork(small);
            assertNoLongWork(words);
        });

        it("a curl older than 7.87 (no --url-query): usage error (2) naming the version, before any work", async function () {
            const shims = fs.mkdtempSync(`${dir}/old-curl-`);
            fs.writeFileSync(`${shims}/curl`, "#!/bin/bash\necho 'curl 7.81.0 (x86_64-pc-linux-gnu) libcurl/7.81.0'\n", { mode: 0o755 });
            for (const script of ["db-backup.sh", "restore.sh"]) {
                const result = await timedRun("with curl 7.81", script, env(newBucket(), { EXTRA_PATH: shims }), ["--yes"].filter(() => script === "restore.sh"));
                assert.equal(result.code, 2, explain(result));
                assert.match(result.stderr, /ERROR: curl 7\.81\.0 is too old: the scripts need curl 7\.87 or newer/);
                assertNoLongWork(result);
            }
        });

        it("an AWS_HELPER_PYTHON without botocore: the helper's line naming that python, never another python instead", async function () {
            const shims = fs.mkdtempSync(`${dir}/bare-python-`);
            // The same interpreter without its site-packages (-S): no botocore, whatever else is installed.
            const real = resolvedHelperPython();
            assert.ok(real, "no python3 with botocore (.ci/setup installs python3-botocore)");
            fs.writeFileSync(`${shims}/python3-bare`, `#!/bin/sh\nexec ${real} -S "$@"\n`, { mode: 0o755 });
            const result = await timedRun("with a python3 lacking botocore", "db-backup.sh", env(newBucket(), { AWS_HELPER_PYTHON: `${shims}/python3-bare` }));
            assert.equal(result.code, 4, explain(result));
            assert.match(result.stderr, /the AWS helper \(.*\) is not running: .* cannot import botocore: install python3-botocore and python3-s3transfer, or name a python3 that has them in AWS_HELPER_PYTHON/);
            assertNoLongWork(result);
        });
    });

    describe("restore.sh and restore-verification.sh, before downloading", function () {
        let bucket: string;
        let key: string;
        before(async function () {
            bucket = newBucket();
            key = await backup(bucket);
        });

        it("a bucket typo: storage error (4), not 'nothing to restore'", async function () {
            const restore = await timedRun("from a missing bucket", "restore.sh", env("oauth2-bakcups"), ["--yes"]);
            assert.equal(restore.code, 4, explain(restore));
            assert.match(restore.stderr, /ERROR: cannot list s3:\/\/oauth2-bakcups\/database\/manifests\/: An error occurred \(NoSuchBucket\)/);
            const verify = await timedRun("from a missing bucket", "restore-verification.sh", env("oauth2-bakcups"));
            assert.equal(verify.code, 4, explain(verify));
            assert.match(verify.stdout, /^FAIL backup completed successfully: cannot list s3:\/\/oauth2-bakcups\/database\/manifests\/: An error occurred \(NoSuchBucket\)/m);
            assert.equal(verify.stdout.split("\n").filter((l) => /^(PASS|FAIL) /.test(l)).length, 7);
        });

        it("a manifest that does not exist: nothing to restore (7)", async function () {
            const result = await timedRun("of a missing manifest", "restore.sh", env(bucket), ["--yes", "--manifest", "database/manifests/oauth2db-20200101T000000Z-00000000.json"]);
            assert.equal(result.code, 7, explain(result));
            assert.match(result.stderr, /ERROR: no manifest s3:\/\/oauth2-fast-\d+\/database\/manifests\/oauth2db-20200101T000000Z-00000000\.json/);
        });

        it("a manifest whose dump is gone: storage error naming the object", async function () {
            const m = manifest(bucket, key);
            const other = newBucket();
            putObject(moto, other, key, JSON.stringify(m));
            const result = await timedRun("of a missing dump", "restore.sh", env(other), ["--yes"]);
            assert.equal(result.code, 4, explain(result));
            // The manifest names the dump's S3 version: that version is what is missing.
            assert.match(result.stderr, new RegExp(`ERROR: the dump s3://${other}/${m.object_key.replace(/\./g, "\\.")} \\(version ${m.s3_version_id}\\) is not readable: An error occurred \\(NoSuch(Key|Version)\\)`));
            assertNoLongWork(result);
        });

        it("a passphrase version that cannot be read: encryption error naming secret and version", async function () {
            createSecret(moto, "oauth2/backup-passphrase-v", "versioned passphrase");
            const secretEnv = { PASSPHRASE_FILE: "", BACKUP_PASSPHRASE_SECRET_ID: "oauth2/backup-passphrase-v" };
            const own = newBucket();
            const ownKey = await backup(own, secretEnv);
            const m = manifest(own, ownKey);
            m.passphrase.version_id = "00000000-0000-0000-0000-000000000000";
            putObject(moto, own, ownKey, JSON.stringify(m, null, 2));
            const result = await timedRun("with an unreadable key version", "restore.sh", env(own, secretEnv), ["--yes"]);
            assert.equal(result.code, 5, explain(result));
            assert.match(result.stderr, /ERROR: cannot read the backup passphrase oauth2\/backup-passphrase-v version 00000000-0000-0000-0000-000000000000 from Secrets Manager: An error occurred \(ResourceNotFoundException\)/);
            assertNoLongWork(result);
        });

        it("a wrong passphrase: found on the first 64 KiB", async function () {
            const wrong = passphraseFile(dir, "not it", "wrong");
            const result = await timedRun("with a wrong passphrase", "restore.sh", env(bucket, { PASSPHRASE_FILE: wrong }), ["--yes"]);
            assert.equal(result.code, 5, explain(result));
            assert.match(result.stderr, /ERROR: the passphrase \(PASSPHRASE_FILE \S+\) does not decrypt s3:\/\/\S+\.dump\.gpg: decryption failed: Bad session key/);
            assertNoLongWork(result);
        });

        it("the target database is down: host:port and the cause", async function () {
            const port = await freePort();
            const result = await timedRun("into a database that is down", "restore.sh", env(bucket, { PGPORT: String(port) }), ["--yes"]);
            assert.equal(result.code, 3, explain(result));
            assert.match(result.stderr, new RegExp(`ERROR: cannot connect to 127\\.0\\.0\\.1:${port}/oauth2db: connection to server at "127\\.0\\.0\\.1", port ${port} failed: Connection refused`));
            assertNoLongWork(result);
        });
    });

    describe("key versions", function () {
        const secretId = "oauth2/backup-passphrase";
        const secretEnv = { PASSPHRASE_FILE: "", BACKUP_PASSPHRASE_SECRET_ID: secretId };
        let bucket: string;
        let first: string;
        let second: string;
        let versions: string[];

        before(async function () {
            bucket = newBucket();
            versions = [createSecret(moto, secretId, "passphrase generation 0").versionId];
            first = await backup(bucket, secretEnv);
            versions.push(rotateSecret(moto, secretId, "passphrase generation 1"));
            second = await backup(bucket, secretEnv);
        });

        async function restoresExactly(key: string, target: string): Promise<void> {
            pg.createDatabase(target);
            const result = await runScript("restore.sh", env(bucket, secretEnv, target), ["--yes", "--source-database", "oauth2db", "--manifest", key]);
            assert.equal(result.code, 0, explain(result));
            assert.deepEqual(tableChecksums(pg, OAUTH2_TABLES, target), tableChecksums(pg, OAUTH2_TABLES));
        }

        it("the manifest names the secret's ARN and VersionId, never the passphrase", function () {
            const m = manifest(bucket, first);
            assert.match(m.passphrase.secret_arn, /^arn:aws:secretsmanager:us-east-1:\d+:secret:oauth2\/backup-passphrase-\w{6}$/);
            assert.equal(m.passphrase.version_id, versions[0]);
            assert.equal(manifest(bucket, second).passphrase.version_id, versions[1]);
            assert.doesNotMatch(getObject(moto, bucket, first).toString("utf8"), /passphrase generation/);
        });

        it("a dump restores after one rotation", async function () {
            await restoresExactly(first, "after_one_rotation");
        });

        it("both dumps restore and the newest verifies after six rotations", async function () {
            for (let generation = 2; generation <= 6; generation++) {
                versions.push(rotateSecret(moto, secretId, `passphrase generation ${generation}`));
            }
            await restoresExactly(first, "after_six_rotations_first");
            await restoresExactly(second, "after_six_rotations_second");
            const verified = await runScript("restore-verification.sh", env(bucket, secretEnv));
            assert.equal(verified.code, 0, explain(verified));
            assert.match(verified.stdout, new RegExp(`^PASS restore to test instance works: .*secret arn:\\S+ version ${versions[1]}\\)`, "m"));
        });
    });
});
