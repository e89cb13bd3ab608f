/**
 * scripts/wal-archive.sh against a real PostgreSQL 15 and moto: WAL files in and out of the bucket (encrypted,
 * checked, never overwritten with other contents), base backups and the restore that prepares a point-in-time
 * recovery, and each failure's exit code. The recovery itself (archive_command on a running primary, replay
 * to just before a corruption) is rehearsed end to end by test/drill/drill.test.ts (corruption-pitr).
 */
import { strict as assert } from "assert";
import { spawn, spawnSync } from "child_process";
import { createHash, randomBytes } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { PG_BIN } from "../../tools/sandbox/servers";
import { BASH_C, SCRIPTS, awsCall, baseEnv, createSecret, explain, getObject, listKeys, passphraseFile, rotateSecret, runScript, scriptEnv, startScript, useScriptServers, waitForStderr } from "../../tools/sandbox/scripts";

const sha256 = (data: Buffer) => createHash("sha256").update(data).digest("hex");

/**
 * The restores below that a test starts to read their progress, and that end by themselves (never signalled or
 * killed): their AWS helper may be forked (TEST_ONLY_AWS_HELPER_FORKS), as runScript's are.
 */
const UNSIGNALLED = { helperForks: true };

describe("wal-archive.sh (real PostgreSQL 15, moto)", function () {
    // Its cases are long sequences of real work (the spool case: a base backup, two restores and some 17 script runs
    // one after another): 57-60 s for the two longest in a CI-like whole run (2026-12-05, 13 min), and in a whole run on
    // one core at load 22-32 (h38-flakes, 43 min) 224 s for --wait-for-target and more than 240 s for the spool case,
    // which then failed on this limit while its runs went on (at load 17, beside three other runs, 120 s had been too
    // little). The limit only ends a run that hangs: 600 s, as the other files of whole restores (backup-faults, drill).
    this.timeout(600_000);
    const servers = useScriptServers("oauth2-dr-wal-archive-", "wal-archive-test-passphrase");
    let bucket: string;
    let env: Record<string, string>;
    before(function () {
        bucket = servers.newBucket("oauth2-wal");
        env = scriptEnv(servers.pg, servers.moto, bucket, servers.passphrase, "postgres");
    });

    /** A WAL-sized file with a recognisable, compressible text in it. */
    function walFile(name: string, marker: string): { file: string; data: Buffer } {
        const data = Buffer.concat([Buffer.from(`${marker}\n`.repeat(1000)), randomBytes(4096), Buffer.alloc(64 * 1024)]);
        const file = path.join(servers.dir, name);
        fs.writeFileSync(file, data);
        return { file, data };
    }

    it("push stores the file zstd-compressed and gpg-encrypted with its sha256; fetch gives back the same bytes", async function () {
        const { file, data } = walFile("000000010000000000000010", "plain WAL text");
        const push = await runScript("wal-archive.sh", env, ["push", file, "000000010000000000000010"]);
        assert.equal(push.code, 0, explain(push));
        assert.equal(push.stdout, "");
        const stored = getObject(servers.moto, bucket, "wal/000000010000000000000010.zst.gpg");
        assert.ok(!stored.includes(Buffer.from("plain WAL text")), "the stored object is not plain text");
        assert.ok(stored[0] === 0x8c || stored[0] === 0xc3, `an OpenPGP symmetric-key packet first, not 0x${stored[0].toString(16)}`);
        const head = awsCall(servers.moto, "s3", "head_object", { Bucket: bucket, Key: "wal/000000010000000000000010.zst.gpg" });
        assert.equal(head.Metadata.sha256, sha256(data));
        const target = path.join(servers.dir, "RECOVERYXLOG");
        const fetch = await runScript("wal-archive.sh", env, ["fetch", "000000010000000000000010", target]);
        assert.equal(fetch.code, 0, explain(fetch));
        assert.ok(fs.readFileSync(target).equals(data));
        assert.ok(!fs.existsSync(`${target}.partial`));
    });

    it("the sha256 of push and fetch is OpenSSL's when it is installed (coreutils' sha256sum, without the CPU's SHA instructions, is not started): the same digest", async function () {
        // A sha256sum wrapper ahead on PATH records each start.
        const wrappers = path.join(servers.dir, "sha-wrappers");
        const started = path.join(wrappers, "started");
        fs.mkdirSync(wrappers, { recursive: true });
        fs.writeFileSync(path.join(wrappers, "sha256sum"), `#!/bin/sh\necho sha256sum >>'${started}'\nexec /usr/bin/sha256sum "$@"\n`, { mode: 0o755 });
        const counted = { ...env, EXTRA_PATH: wrappers };
        const { file, data } = walFile("0000000100000000000000A7", "hashed by openssl");
        const push = await runScript("wal-archive.sh", counted, ["push", file, "0000000100000000000000A7"]);
        assert.equal(push.code, 0, explain(push));
        const head = awsCall(servers.moto, "s3", "head_object", { Bucket: bucket, Key: "wal/0000000100000000000000A7.zst.gpg" });
        assert.equal(head.Metadata.sha256, sha256(data));
        const target = path.join(servers.dir, "RECOVERYXLOG-sha");
        const fetch = await runScript("wal-archive.sh", counted, ["fetch", "0000000100000000000000A7", target]);
        assert.equal(fetch.code, 0, explain(fetch));
        assert.ok(fs.readFileSync(target).equals(data));
        assert.ok(!fs.existsSync(started), `sha256sum was started: ${fs.existsSync(started) ? fs.readFileSync(started, "utf8") : ""}`);
    });

    it("push run by PostgreSQL's archiver (in the data directory of a running postmaster) starts one AWS helper for the cluster and reuses it; another environment gets its own; a push by hand its own; they end with the postmaster", async function () {
        // A python wrapper ahead of the helper records each start (it execs python: the helper keeps its pid).
        const wrappers = path.join(servers.dir, "helper-wrappers");
        const starts = path.join(wrappers, "starts");
        fs.mkdirSync(wrappers, { recursive: true });
        fs.writeFileSync(path.join(wrappers, "python"), `#!/bin/sh\necho "$*" >>'${starts}'\nexec '${baseEnv({}).AWS_HELPER_PYTHON ?? "python3"}' "$@"\n`, { mode: 0o755 });
        const startCount = () => (fs.existsSync(starts) ? fs.readFileSync(starts, "utf8").split("\n").filter(Boolean).length : 0);
        // A data directory (pg_wal, postmaster.pid) whose "postmaster" is a sleep this test ends.
        const dataDir = path.join(servers.dir, "archiving-cluster");
        fs.mkdirSync(path.join(dataDir, "pg_wal"), { recursive: true });
        const postmaster = spawn("sleep", ["600"], { stdio: "ignore" });
        const tmps: string[] = [];
        try {
            fs.writeFileSync(path.join(dataDir, "postmaster.pid"), `${postmaster.pid}\n${dataDir}\n`);
            // A short TMPDIR: the helper's socket is in it (a Unix socket's path has at most 107 bytes).
            const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "wah-"));
            tmps.push(tmp);
            const archiving = { ...env, AWS_HELPER_PYTHON: path.join(wrappers, "python"), TMPDIR: tmp };
            // As the archiver runs it: in the data directory, %p relative to it. spawnSync returns when stdout and
            // stderr close: a helper left running must not hold them.
            const push = (name: string, pushEnv: Record<string, string>) => {
                const { data } = walFile(path.join("archiving-cluster", "pg_wal", name), `archived ${name}`);
                const result = spawnSync("bash", [path.join(SCRIPTS, "wal-archive.sh"), "push", `pg_wal/${name}`, name], { cwd: dataDir, env: baseEnv(pushEnv), encoding: "utf8", timeout: 60_000 });
                assert.equal(result.status, 0, `push ${name}: ${result.stderr}`);
                const head = awsCall(servers.moto, "s3", "head_object", { Bucket: bucket, Key: `wal/${name}.zst.gpg` });
                assert.equal(head.Metadata.sha256, sha256(data));
                return result.stderr;
            };
            const first = push("0000000100000000000000C1", archiving);
            assert.match(first, /started the AWS helper of the cluster's pushes \(.*wal-archive-helper\.\d+\.\d+\/aws-[0-9a-f]{12}\.sock; it ends with the postmaster, pid \d+\)/);
            assert.doesNotMatch(push("0000000100000000000000C2", archiving), /started the AWS helper/);
            push("0000000100000000000000C3", archiving);
            assert.equal(startCount(), 1, "one helper for three pushes");
            const helperDir = path.join(tmp, `wal-archive-helper.${process.geteuid?.() ?? 0}.${postmaster.pid}`);
            assert.equal(fs.statSync(helperDir).mode & 0o777, 0o700);
            const target = path.join(servers.dir, "RECOVERYXLOG-shared");
            const fetched = await runScript("wal-archive.sh", env, ["fetch", "0000000100000000000000C2", target]);
            assert.equal(fetched.code, 0, explain(fetched));
            assert.ok(fs.readFileSync(target).equals(fs.readFileSync(path.join(dataDir, "pg_wal", "0000000100000000000000C2"))));
            // Another environment (here a retry setting of botocore's): a helper of its own, then reused.
            push("0000000100000000000000C4", { ...archiving, AWS_MAX_ATTEMPTS: "3" });
            push("0000000100000000000000C5", { ...archiving, AWS_MAX_ATTEMPTS: "3" });
            assert.equal(startCount(), 2);
            assert.equal(fs.readdirSync(helperDir).filter((f) => f.endsWith(".sock")).length, 2);
            // A push by hand (not in a postmaster's data directory) or with WAL_PUSH_SHARED_HELPER=off: its own helper, ended with it.
            const byHand = walFile("0000000100000000000000C6", "by hand");
            const manual = await runScript("wal-archive.sh", archiving, ["push", byHand.file, "0000000100000000000000C6"]);
            assert.equal(manual.code, 0, explain(manual));
            push("0000000100000000000000C7", { ...archiving, WAL_PUSH_SHARED_HELPER: "off" });
            assert.equal(startCount(), 4);
            assert.equal(fs.readdirSync(helperDir).filter((f) => f.endsWith(".sock")).length, 2);
        } finally {
            postmaster.kill();
        }
        // The postmaster gone: the helpers end (they watch its pid) and their directory goes.
        const helperDirs = () => tmps.flatMap((d) => fs.readdirSync(d));
        for (const deadline = Date.now() + 30_000; helperDirs().length > 0 && Date.now() < deadline;) {
            await new Promise((r) => setTimeout(r, 100));
        }
        assert.deepEqual(helperDirs(), [], "the helpers' directory is removed when the postmaster has ended");
        for (const tmp of tmps) {
            fs.rmSync(tmp, { recursive: true, force: true });
        }
    });

    it("push again: the same contents is a success; other contents under the same name are refused (exit 4), the object kept", async function () {
        const { file } = walFile("000000010000000000000011", "first");
        assert.equal((await runScript("wal-archive.sh", env, ["push", file, "000000010000000000000011"])).code, 0);
        const before = getObject(servers.moto, bucket, "wal/000000010000000000000011.zst.gpg");
        const again = await runScript("wal-archive.sh", env, ["push", file, "000000010000000000000011"]);
        assert.equal(again.code, 0, explain(again));
        assert.match(again.stderr, /archived already with the same contents/);
        const other = walFile("other", "second");
        const refused = await runScript("wal-archive.sh", env, ["push", other.file, "000000010000000000000011"]);
        assert.equal(refused.code, 4, explain(refused));
        assert.match(refused.stderr, /refusing to overwrite s3:\/\/oauth2-wal-1\/wal\/000000010000000000000011\.zst\.gpg: it holds other contents/);
        assert.ok(getObject(servers.moto, bucket, "wal/000000010000000000000011.zst.gpg").equals(before));
    });

    it("fetch: a name not in the archive exits 7 (PostgreSQL's end of the archive); a wrong passphrase 5; a sha256 that differs 6; nothing left at PATH", async function () {
        const target = path.join(servers.dir, "RECOVERYXLOG-2");
        const missing = await runScript("wal-archive.sh", env, ["fetch", "00000002.history", target]);
        assert.equal(missing.code, 7, explain(missing));
        assert.match(missing.stderr, /00000002\.history is not in the archive/);
        assert.doesNotMatch(missing.stderr, /FAILED/);

        const { file, data } = walFile("000000010000000000000012", "third");
        assert.equal((await runScript("wal-archive.sh", env, ["push", file, "000000010000000000000012"])).code, 0);
        const wrong = await runScript("wal-archive.sh", { ...env, PASSPHRASE_FILE: passphraseFile(servers.dir, "not the passphrase", "wrong") }, ["fetch", "000000010000000000000012", target]);
        assert.equal(wrong.code, 5, explain(wrong));
        assert.match(wrong.stderr, /cannot decrypt s3:\/\/oauth2-wal-1\/wal\/000000010000000000000012\.zst\.gpg/);

        // Another segment's object under this name, with this name's record: it decrypts, but not to what was archived.
        awsCall(servers.moto, "s3", "copy_object", {
            Bucket: bucket, Key: "wal/000000010000000000000013.zst.gpg", CopySource: { Bucket: bucket, Key: "wal/000000010000000000000010.zst.gpg" },
            MetadataDirective: "REPLACE", Metadata: { sha256: sha256(data) },
        });
        const swapped = await runScript("wal-archive.sh", env, ["fetch", "000000010000000000000013", target]);
        assert.equal(swapped.code, 6, explain(swapped));
        assert.match(swapped.stderr, /decrypts to sha256 [0-9a-f]{64}, its record says/);
        assert.ok(!fs.existsSync(target) && !fs.existsSync(`${target}.partial`));
    });

    it("base-backup, then restore: the newest base backup that ended before the target, set up to recover to just before it", async function () {
        const before = new Date(Date.now() - 60_000).toISOString();
        const backup = await runScript("wal-archive.sh", env, ["base-backup"]);
        assert.equal(backup.code, 0, explain(backup));
        const manifestKey = backup.stdout.trim();
        assert.match(manifestKey, /^wal\/base\/\d{8}T\d{6}Z-[0-9a-f]{12}\.json$/);
        assert.match(backup.stderr, /WARNING: archive_mode is off/);
        const manifest = servers.manifest(bucket, manifestKey);
        assert.equal(manifest.format, "oauth2-dr/base-backup-manifest/v1");
        assert.equal(manifest.sha256, sha256(getObject(servers.moto, bucket, manifest.object_key)));
        assert.match(manifest.system_identifier, /^\d+$/);

        const tooEarly = await runScript("wal-archive.sh", env, ["restore", path.join(servers.dir, "early"), "--target-time", before]);
        assert.equal(tooEarly.code, 7, explain(tooEarly));
        assert.match(tooEarly.stderr, /no base backup under s3:\/\/oauth2-wal-1\/wal\/base\/ ended before/);
        // The earliest base backup is named, and what else to do: the operator's next step (was the bare "no base backup").
        assert.match(tooEarly.stderr, new RegExp(`ended before \\S+ \\S+: the earliest of its 1 ended at ${manifest.finished_at.replace(/[.]/g, "\\.")}, and the archive holds no earlier state; pick a target after it, or a dump from before it \\(npm run recovery-points`), explain(tooEarly));
        const otherPrefix = await runScript("wal-archive.sh", { ...env, WAL_PREFIX: "wal-typo/" }, ["restore", path.join(servers.dir, "early"), "--target-time", before]);
        assert.equal(otherPrefix.code, 7, explain(otherPrefix));
        assert.match(otherPrefix.stderr, /no base backup under s3:\/\/oauth2-wal-1\/wal-typo\/base\/ ended before \S+ \S+: the prefix holds none \(BUCKET, WAL_PREFIX; wal-archive\.sh base-backup takes one\)/, explain(otherPrefix));

        const dir = path.join(servers.dir, "restored");
        const target = new Date(Date.now() + 1000).toISOString().replace("Z", "123Z");

        // Where DIR is cannot hold the base backup (here a file size limit, which a small volume acts like: tar cannot
        // write): the disk is named, exit 2, nothing left. Was exit 5, "cannot decrypt ...: gpg: handle plaintext
        // failed: Broken pipe" (gpg lost its reader when tar died), which sent the operator after the passphrase.
        const small = path.join(servers.dir, "small");
        const limited = spawnSync("bash", [...BASH_C, `ulimit -f 64; exec bash ${path.join(SCRIPTS, "wal-archive.sh")} restore ${small} --target-time ${target}`], { env: baseEnv(env), encoding: "utf8", timeout: 120_000 });
        assert.equal(limited.status, 2, limited.stderr);
        assert.match(limited.stderr, new RegExp(`ERROR: cannot extract s3://oauth2-wal-1/${manifest.object_key.replace(/[.]/g, "\\.")} into ${small}\\.partial: the file size limit \\(ulimit -f: 64 KiB\\) is below a file of the base backup; its file system has \\d+ bytes free \\(the base backup is ${manifest.size_bytes} bytes compressed, its data directory larger\\): raise it \\(ulimit -f unlimited\\), then run again; nothing is left at ${small}\n`), limited.stderr);
        assert.doesNotMatch(limited.stderr, /cannot decrypt/);
        assert.ok(!fs.existsSync(small) && !fs.existsSync(`${small}.partial`));

        const restore = await runScript("wal-archive.sh", env, ["restore", dir, "--target-time", target]);
        assert.equal(restore.code, 0, explain(restore));
        assert.match(restore.stdout, new RegExp(`^base backup ${manifest.object_key} \\(finished ${manifest.finished_at}\\) restored into ${dir}${process.getuid?.() === 0 ? " \\(owned by \\S+, the owner of its data\\)" : ""}; recovery to just before \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\.\\d{6}\\+00`));
        for (const file of ["PG_VERSION", "backup_label", "recovery.signal", "global/pg_control"]) {
            assert.ok(fs.existsSync(path.join(dir, file)), file);
        }
        // Run as root: everything belongs to the data's owner, so pg_ctl as that user can start on it.
        const owner = fs.statSync(path.join(dir, "PG_VERSION")).uid;
        for (const file of ["", "recovery.signal", "postgresql.auto.conf", "wal-archive-spool"]) {
            assert.equal(fs.statSync(path.join(dir, file)).uid, owner, `${file || "the directory"} is not the data owner's`);
        }
        const conf = fs.readFileSync(path.join(dir, "postgresql.auto.conf"), "utf8");
        // A segment in the spool first (see the spool test), else the script's fetch.
        assert.match(conf, /^restore_command = 'f=wal-archive-spool\/%f; if \[ -f "\$f" \]; then .* else ''.*wal-archive\.sh'' fetch "%f" "%p"; fi'$/m);
        assert.match(conf, /^recovery_target_time = '\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}\+00'$/m);
        assert.match(conf, /^recovery_target_inclusive = off$/m);
        assert.match(conf, /^recovery_target_action = promote$/m);
        assert.ok(!fs.existsSync(`${dir}.partial`));

        const notEmpty = await runScript("wal-archive.sh", env, ["restore", dir]);
        assert.equal(notEmpty.code, 2, explain(notEmpty));
        assert.match(notEmpty.stderr, /the data directory .*restored is not empty/);
    });

    it("restore refuses a base backup whose stored bytes differ from its manifest (exit 6) and leaves no directory", async function () {
        const backup = await runScript("wal-archive.sh", env, ["base-backup"]);
        assert.equal(backup.code, 0, explain(backup));
        const key = backup.stdout.trim();
        const manifest = servers.manifest(bucket, key);
        awsCall(servers.moto, "s3", "put_object", { Bucket: bucket, Key: key, Body: { base64: Buffer.from(JSON.stringify({ ...manifest, sha256: "0".repeat(64) })).toString("base64") } });
        const dir = path.join(servers.dir, "tampered");
        const restore = await runScript("wal-archive.sh", env, ["restore", dir]);
        assert.equal(restore.code, 6, explain(restore));
        assert.match(restore.stderr, /has sha256 [0-9a-f]{64}, its manifest .* says 0{64}/);
        assert.ok(!fs.existsSync(dir) && !fs.existsSync(`${dir}.partial`));
    });

    it("a WAL file and a base backup archived before a passphrase rotation are still fetched and restored (the recorded secret version)", async function () {
        const secret = createSecret(servers.moto, "oauth2/wal-passphrase", "passphrase-before-rotation");
        const withSecret = { ...env, PASSPHRASE_FILE: "", BACKUP_PASSPHRASE_SECRET_ID: "oauth2/wal-passphrase" };
        const { file, data } = walFile("000000010000000000000020", "before rotation");
        assert.equal((await runScript("wal-archive.sh", withSecret, ["push", file, "000000010000000000000020"])).code, 0);
        const backup = await runScript("wal-archive.sh", { ...withSecret, WAL_PREFIX: "rotated/" }, ["base-backup"]);
        assert.equal(backup.code, 0, explain(backup));
        assert.deepEqual(servers.manifest(bucket, backup.stdout.trim()).passphrase, { source: "secretsmanager", secret_arn: secret.arn, version_id: secret.versionId });
        rotateSecret(servers.moto, "oauth2/wal-passphrase", "passphrase-after-rotation");

        const target = path.join(servers.dir, "RECOVERYXLOG-rotated");
        const fetch = await runScript("wal-archive.sh", withSecret, ["fetch", "000000010000000000000020", target]);
        assert.equal(fetch.code, 0, explain(fetch));
        assert.ok(fs.readFileSync(target).equals(data));
        const restore = await runScript("wal-archive.sh", { ...withSecret, WAL_PREFIX: "rotated/" }, ["restore", path.join(servers.dir, "rotated")]);
        assert.equal(restore.code, 0, explain(restore));
        assert.ok(fs.existsSync(path.join(servers.dir, "rotated", "PG_VERSION")));
    });

    it("restore prefetches the segments from the base backup's start into a verified spool; fetch copies them from it without a storage call, stops on a gap or a segment that fails again (exit 200), and says 7 at the end of the archive", async function () {
        const spooled = { ...env, WAL_PREFIX: "spooled/" };
        const backup = await runScript("wal-archive.sh", spooled, ["base-backup"]);
        assert.equal(backup.code, 0, explain(backup));
        const first = path.join(servers.dir, "spool-first");
        const empty = await runScript("wal-archive.sh", spooled, ["restore", first]);
        assert.equal(empty.code, 0, explain(empty));
        assert.match(empty.stdout, /; 0 archived WAL segment\(s\) from [0-9A-F]{24} on prefetched/);
        const start = /START WAL LOCATION: .* \(file ([0-9A-F]{24})\)/.exec(fs.readFileSync(path.join(first, "backup_label"), "utf8"))![1];
        const segment = (n: number) => start.slice(0, 16) + (parseInt(start.slice(16), 16) + n).toString(16).toUpperCase().padStart(8, "0");
        const beforePushes = new Date().toISOString();
        await new Promise((r) => setTimeout(r, 1100));
        const data = new Map<string, Buffer>();
        for (const n of [-1, 0, 1, 3, 4]) {
            const { file, data: bytes } = walFile(segment(n), `segment ${n}`);
            data.set(segment(n), bytes);
            const push = await runScript("wal-archive.sh", spooled, ["push", file, segment(n)]);
            assert.equal(push.code, 0, explain(push));
        }
        // Segment 4 fails its check when prefetched (a record that is not its own).
        const key4 = `spooled/${segment(4)}.zst.gpg`;
        const head4 = awsCall(servers.moto, "s3", "head_object", { Bucket: bucket, Key: key4 });
        awsCall(servers.moto, "s3", "copy_object", { Bucket: bucket, Key: key4, CopySource: { Bucket: bucket, Key: key4 }, MetadataDirective: "REPLACE", Metadata: { ...head4.Metadata, sha256: "0".repeat(64) } });

        const dir = path.join(servers.dir, "spool-restored");
        const restore = await runScript("wal-archive.sh", spooled, ["restore", dir]);
        assert.equal(restore.code, 0, explain(restore));
        assert.match(restore.stdout, new RegExp(`; 3 archived WAL segment\\(s\\) from ${start} on prefetched and verified into ${dir}/wal-archive-spool$`, "m"));
        assert.match(restore.stderr, new RegExp(`WARNING: prefetching ${segment(4)} failed: .*decrypts to sha256 [0-9a-f]{64}, its record says 0{64}`));
        assert.match(fs.readFileSync(path.join(dir, "postgresql.auto.conf"), "utf8"), /^recovery_end_command = 'rm -rf \.\/wal-archive-spool'$/m);
        const spool = path.join(dir, "wal-archive-spool");
        assert.deepEqual(fs.readdirSync(spool).sort(), ["archive.list", "00000002.history.url", segment(0), segment(1), segment(3), `${segment(4)}.failed`].sort());
        assert.equal(fs.statSync(path.join(spool, "00000002.history.url")).mode & 0o777, 0o600);

        // As PostgreSQL calls it: in the data directory, %p = pg_wal/RECOVERYXLOG. No storage here: a dead endpoint.
        const offline = { ...spooled, AWS_ENDPOINT_URL: "http://127.0.0.1:9" };
        // Twice each: PostgreSQL asks for the last segment again when the recovery ends.
        for (const n of [0, 1, 3, 3]) {
            fs.rmSync(path.join(dir, "pg_wal", "RECOVERYXLOG"), { force: true });
            const fetch = await runScript("wal-archive.sh", offline, ["fetch", segment(n), path.join(dir, "pg_wal", "RECOVERYXLOG")]);
            assert.equal(fetch.code, 0, explain(fetch));
            assert.match(fetch.stderr, new RegExp(`restored ${segment(n)} from the spool`));
            assert.ok(fs.readFileSync(path.join(dir, "pg_wal", "RECOVERYXLOG")).equals(data.get(segment(n))!));
            assert.ok(!fs.existsSync(path.join(dir, "pg_wal", "RECOVERYXLOG.partial")));
        }
        // The restore_command restore wrote, run as PostgreSQL runs it (sh -c in the data directory, %f and %p
        // replaced): a spooled segment is copied by that shell alone, no bash (the script's interpreter, found
        // on PATH through its #!/usr/bin/env bash: here a wrapper that records each start); another name runs
        // the script's fetch.
        const wrappers = path.join(servers.dir, "spool-wrappers");
        const started = path.join(wrappers, "started");
        fs.mkdirSync(wrappers, { recursive: true });
        fs.writeFileSync(path.join(wrappers, "bash"), `#!/bin/sh\necho bash >>'${started}'\nexec /bin/bash "$@"\n`, { mode: 0o755 });
        const command = /^restore_command = '(.*)'$/m.exec(fs.readFileSync(path.join(dir, "postgresql.auto.conf"), "utf8"))![1].replace(/''/g, "'");
        const asPostgres = (name: string, scriptEnv: Record<string, string>) => {
            fs.rmSync(started, { force: true });
            const base = baseEnv(scriptEnv);
            const result = spawnSync("sh", ["-c", command.replace(/%f/g, name).replace(/%p/g, "pg_wal/RECOVERYXLOG")], { cwd: dir, env: { ...base, PATH: `${wrappers}:${base.PATH}` }, encoding: "utf8" });
            return { code: result.status, stderr: result.stderr, bashStarts: fs.existsSync(started) ? fs.readFileSync(started, "utf8").split("\n").filter(Boolean).length : 0 };
        };
        fs.rmSync(path.join(dir, "pg_wal", "RECOVERYXLOG"), { force: true });
        const copied = asPostgres(segment(1), offline);
        assert.equal(copied.code, 0, copied.stderr);
        assert.match(copied.stderr, new RegExp(`^wal-archive: restored ${segment(1)} from the spool \\(prefetched and verified by restore\\)$`, "m"));
        assert.equal(copied.bashStarts, 0, "a spooled segment starts no bash");
        assert.ok(fs.readFileSync(path.join(dir, "pg_wal", "RECOVERYXLOG")).equals(data.get(segment(1))!));
        assert.ok(!fs.existsSync(path.join(dir, "pg_wal", "RECOVERYXLOG.partial")));
        const notSpooled = asPostgres(segment(5), spooled);
        assert.equal(notSpooled.code, 7, notSpooled.stderr);
        assert.match(notSpooled.stderr, new RegExp(`${segment(5)} is not in the archive`));
        assert.ok(notSpooled.bashStarts >= 1, "a name not in the spool goes to the script");

        const gap = await runScript("wal-archive.sh", spooled, ["fetch", segment(2), path.join(dir, "pg_wal", "RECOVERYXLOG")]);
        assert.equal(gap.code, 200, explain(gap));
        assert.match(gap.stderr, new RegExp(`${segment(2)} is not in the archive \\(s3://oauth2-wal-1/spooled/${segment(2)}\\.zst\\.gpg\\), but ${segment(4)}, later on its timeline, was when the recovery was prepared: a gap`));
        const failed = await runScript("wal-archive.sh", spooled, ["fetch", segment(4), path.join(dir, "pg_wal", "RECOVERYXLOG")]);
        assert.equal(failed.code, 200, explain(failed));
        assert.match(failed.stderr, new RegExp(`${segment(4)} failed when restore prefetched it .*; fetching it again`));
        assert.match(failed.stderr, /decrypts to sha256 [0-9a-f]{64}, its record says 0{64}/);
        assert.match(failed.stderr, new RegExp(`stopping the recovery at ${segment(4)} \\(exit 200`));
        const end = await runScript("wal-archive.sh", spooled, ["fetch", segment(5), path.join(dir, "pg_wal", "RECOVERYXLOG")]);
        assert.equal(end.code, 7, explain(end));
        // The next timeline's history: asked of the bucket with the URL restore presigned (curl; no helper: a
        // python that does not exist here would fail the call), live: one archived since is fetched.
        const noHelper = { ...spooled, AWS_HELPER_PYTHON: path.join(servers.dir, "no-such-python") };
        const history = await runScript("wal-archive.sh", noHelper, ["fetch", "00000002.history", path.join(dir, "pg_wal", "RECOVERYHISTORY")]);
        assert.equal(history.code, 7, explain(history));
        assert.match(history.stderr, /00000002\.history is not in the archive \(s3:\/\/oauth2-wal-1\/spooled\/00000002\.history\.zst\.gpg: 404 to the URL restore presigned for it\)/);
        const historyFile = path.join(servers.dir, "00000002.history");
        fs.writeFileSync(historyFile, "1\t0/3000000\tbefore transaction 999\n");
        assert.equal((await runScript("wal-archive.sh", spooled, ["push", historyFile, "00000002.history"])).code, 0);
        const archivedSince = await runScript("wal-archive.sh", spooled, ["fetch", "00000002.history", path.join(dir, "pg_wal", "RECOVERYHISTORY")]);
        assert.equal(archivedSince.code, 0, explain(archivedSince));
        assert.equal(fs.readFileSync(path.join(dir, "pg_wal", "RECOVERYHISTORY"), "utf8"), fs.readFileSync(historyFile, "utf8"));

        // With a target: timeline 1 never has a history ("not there" without a storage call); a segment past
        // the listed end whose last segment holds no commit at or after the target (these are not WAL) is
        // asked of the bucket (the drill's real WAL is answered locally: test/drill).
        const targeted = path.join(servers.dir, "spool-targeted");
        const restoreTargeted = await runScript("wal-archive.sh", { ...spooled, WAL_PREFETCH_SKEW: "0" }, ["restore", targeted, "--target-time", beforePushes]);
        assert.equal(restoreTargeted.code, 0, explain(restoreTargeted));
        const ahead = await runScript("wal-archive.sh", spooled, ["fetch", segment(5), path.join(targeted, "pg_wal", "RECOVERYXLOG")]);
        assert.equal(ahead.code, 7, explain(ahead));
        assert.match(ahead.stderr, new RegExp(`${segment(5)} is not in the archive \\(s3:`));
        const timeline1 = await runScript("wal-archive.sh", offline, ["fetch", "00000001.history", path.join(targeted, "pg_wal", "RECOVERYHISTORY")]);
        assert.equal(timeline1.code, 7, explain(timeline1));
        assert.match(timeline1.stderr, /timeline 1 has no history file/);
        // A listed segment the prefetch stopped before is fetched from the bucket as ever.
        const listed = await runScript("wal-archive.sh", spooled, ["fetch", segment(3), path.join(targeted, "pg_wal", "RECOVERYXLOG")]);
        assert.equal(listed.code, 0, explain(listed));
        assert.ok(fs.readFileSync(path.join(targeted, "pg_wal", "RECOVERYXLOG")).equals(data.get(segment(3))!));
    });

    it("restore --wait-for-target waits until the archive holds the WAL that reaches the target; --target-time-file reads the target after the base backup is in place, checked against its end", async function () {
        const waiting = { ...env, WAL_PREFIX: "waiting/" };
        const pg = servers.pg;
        const walName = () => pg.psql("SELECT pg_walfile_name(pg_current_wal_lsn())", "postgres");
        const firstSegment = walName();
        const backup = await runScript("wal-archive.sh", waiting, ["base-backup"]);
        assert.equal(backup.code, 0, explain(backup));
        const target = new Date().toISOString();
        await new Promise((r) => setTimeout(r, 20));
        // A commit after the target, in the segment that pg_switch_wal() closes: the one the recovery needs to reach it.
        const last = pg.psql("CREATE TABLE IF NOT EXISTS wait_probe (x int); INSERT INTO wait_probe VALUES (1); SELECT pg_walfile_name(pg_switch_wal())", "postgres").split("\n").pop()!;
        // Real WAL, archived by hand (archive_mode is off here): every segment from before the backup to the one before `last`.
        const push = async (name: string) => {
            const copy = path.join(servers.dir, `wal-${name}`);
            fs.copyFileSync(path.join(pg.dataDir, "pg_wal", name), copy);
            const pushed = await runScript("wal-archive.sh", waiting, ["push", copy, name]);
            assert.equal(pushed.code, 0, explain(pushed));
        };
        const earlier = fs.readdirSync(path.join(pg.dataDir, "pg_wal")).filter((n) => /^[0-9A-F]{24}$/.test(n) && n >= firstSegment && n < last).sort();
        assert.ok(earlier.length > 0);
        for (const name of earlier) {
            await push(name);
        }

        // The segment that reaches the target arrives while restore runs: it waits for it, then spools it.
        const dir = path.join(servers.dir, "waited");
        const run = startScript("wal-archive.sh", waiting, ["restore", dir, "--target-time", target, "--wait-for-target", "60"], UNSIGNALLED);
        await waitForStderr(run, /waiting \(at most 60 s\) for the archive to reach the target/, 60_000);
        await push(last);
        const waited = await run.done;
        assert.equal(waited.code, 0, explain(waited));
        assert.match(waited.stdout, new RegExp(`; the archive reaches the target \\(${last} holds a commit at or after it; waited [\\d.]+ s for it after the base backup\\)$`, "m"));
        assert.ok(fs.existsSync(path.join(dir, "wal-archive-spool", last)), `${last} spooled`);
        assert.equal(fs.readFileSync(path.join(dir, "wal-archive-spool", "covered"), "utf8").trim(), last);

        // The target given after the base backup is in place (the operator still looked for it): the same recovery.
        const later = path.join(servers.dir, "target-later");
        const targetFile = path.join(servers.dir, "target-time");
        const run2 = startScript("wal-archive.sh", { ...waiting, WAIT_PROGRESS_SECONDS: "1" }, ["restore", later, "--target-time-file", targetFile, "--wait-for-target", "60"], UNSIGNALLED);
        await waitForStderr(run2, /waiting \(at most 60 s\) for the target time in /, 60_000);
        // While it waits, it says so (WAIT_PROGRESS_SECONDS), with the time waited and the limit.
        // The seconds are the clock's since the wait began (a poll that a loaded machine runs late says 2 s first).
        await waitForStderr(run2, /still waiting for the target time in \S+target-time \(\d+ s so far; at most 60 s, --wait-for-target\)/, 60_000);
        assert.ok(!fs.existsSync(later), "nothing at DIR before the target is known");
        fs.writeFileSync(targetFile, `${target}\n`);
        const fromFile = await run2.done;
        assert.equal(fromFile.code, 0, explain(fromFile));
        const conf = (d: string) => /^recovery_target_time = '(.*)'$/m.exec(fs.readFileSync(path.join(d, "postgresql.auto.conf"), "utf8"))![1];
        assert.equal(conf(later), conf(dir));
        assert.match(fromFile.stdout, new RegExp(`; the archive reaches the target \\(${last} holds a commit at or after it; waited [\\d.]+ s`));
        // The wait's length is not asserted (a timed assertion: 11 s at load 17); the archive holding the target is.
        assert.doesNotMatch(fromFile.stderr, /WARNING/, explain(fromFile));

        // A segment archived while the base backup is extracted (a tar that waits for a file this test writes) is
        // fetched and verified by the prefetch then, not after the extraction.
        const slowTar = path.join(servers.dir, "slow-tar");
        const go = path.join(slowTar, "go");
        fs.mkdirSync(slowTar, { recursive: true });
        fs.writeFileSync(path.join(slowTar, "tar"), `#!/bin/sh\nwhile [ ! -e '${go}' ]; do sleep 0.05; done\nexec /usr/bin/tar "$@"\n`, { mode: 0o755 });
        const next = pg.psql("INSERT INTO wait_probe VALUES (2); SELECT pg_walfile_name(pg_switch_wal())", "postgres").split("\n").pop()!;
        const during = path.join(servers.dir, "during-extraction");
        const targetFile3 = path.join(servers.dir, "target-time-3");
        const run3 = startScript("wal-archive.sh", { ...waiting, EXTRA_PATH: slowTar }, ["restore", during, "--target-time-file", targetFile3, "--wait-for-target", "60"], UNSIGNALLED);
        await waitForStderr(run3, /prefetching \d+ WAL segment\(s\) /, 60_000);
        await push(next);
        const spooledDuring = path.join(`${during}.partial`, "wal-archive-spool", next);
        for (const deadline = Date.now() + 30_000; !fs.existsSync(spooledDuring) && Date.now() < deadline;) {
            await new Promise((r) => setTimeout(r, 50));
        }
        const fetchedDuring = fs.existsSync(spooledDuring);
        fs.writeFileSync(go, "");
        fs.writeFileSync(targetFile3, `${target}\n`);
        const third = await run3.done;
        assert.equal(third.code, 0, explain(third));
        assert.ok(fetchedDuring, `${next}, archived during the extraction, was not spooled before it ended: ${third.stderr}`);
        assert.match(third.stderr, new RegExp(`prefetched 1 more segment\\(s\\) archived while the base backup was extracted: ${next} to ${next}`));
        assert.ok(fs.existsSync(path.join(during, "wal-archive-spool", next)));

        // A target before the base backup's end: refused (exit 7), nothing left at DIR.
        const tooEarlyFile = path.join(servers.dir, "target-too-early");
        fs.writeFileSync(tooEarlyFile, new Date(Date.now() - 3_600_000).toISOString());
        const tooEarly = await runScript("wal-archive.sh", waiting, ["restore", path.join(servers.dir, "too-early"), "--target-time-file", tooEarlyFile]);
        assert.equal(tooEarly.code, 7, explain(tooEarly));
        assert.match(tooEarly.stderr, /ended at .*, not before the target .* that .*target-too-early gave: run wal-archive\.sh restore again with --target-time/);
        assert.ok(!fs.existsSync(path.join(servers.dir, "too-early")) && !fs.existsSync(path.join(servers.dir, "too-early.partial")));

        // An archive that never reaches the target: the wait ends with a WARNING, the restore as before. A cut
        // wrapper ahead on PATH counts the listings worked through (cut -f1 of each, into archive.list): the
        // prefetch's and the wait's first; a listing that has not changed since starts nothing but its curl.
        const future = path.join(servers.dir, "future");
        const cutWrappers = path.join(servers.dir, "cut-wrappers");
        const cuts = path.join(cutWrappers, "started");
        fs.mkdirSync(cutWrappers, { recursive: true });
        fs.writeFileSync(path.join(cutWrappers, "cut"), `#!/bin/sh\necho cut >>'${cuts}'\nexec /usr/bin/cut "$@"\n`, { mode: 0o755 });
        const never = await runScript("wal-archive.sh", { ...waiting, EXTRA_PATH: cutWrappers, WAIT_PROGRESS_SECONDS: "1" }, ["restore", future, "--target-time", new Date(Date.now() + 30_000).toISOString(), "--wait-for-target", "2"]);
        assert.equal(never.code, 0, explain(never));
        // Said once a second has passed, with the clock's seconds: a round (a listing through the helper) that a loaded
        // machine ran past the 2 s mark says "2.xx s" (was asserted 1.xx: a timed assertion).
        assert.match(never.stderr, /still waiting for the archive to reach the target \(\d+\.\d\d s so far; at most 2 s, --wait-for-target; newest segment of timeline \d{8} listed: [0-9A-F]{24}\)/, explain(never));
        assert.match(never.stderr, /WARNING: after [\d.]+ s the archive does not reach the target yet/);
        assert.match(never.stdout, /; the archive did not reach the target within 2 s \(WARNING above\)$/m);
        assert.equal(fs.readFileSync(cuts, "utf8").split("\n").filter(Boolean).length, 2, "the unchanged listings of a 2 s wait were worked through again");
    });

    it("the archive reaches the target when an earlier listed segment holds the commit: not only its last (here a segment of an open transaction, no commit); a --target-time-file line without a zone is said and the wait goes on", async function () {
        const inside = { ...env, WAL_PREFIX: "inside/", WAIT_PROGRESS_SECONDS: "1" };
        const pg = servers.pg;
        const firstSegment = pg.psql("SELECT pg_walfile_name(pg_current_wal_lsn())", "postgres");
        const backup = await runScript("wal-archive.sh", inside, ["base-backup"]);
        assert.equal(backup.code, 0, explain(backup));
        const target = new Date().toISOString();
        await new Promise((r) => setTimeout(r, 20));
        // The commit after the target, in the segment pg_switch_wal() closes; then a transaction left open while the
        // next segment is closed: that last segment holds its rows and no commit or abort (a bulk load's middle).
        const reaching = pg.psql("CREATE TABLE IF NOT EXISTS inside_probe (x text); INSERT INTO inside_probe VALUES ('after the target'); SELECT pg_walfile_name(pg_switch_wal())", "postgres").split("\n").pop()!;
        const open = spawn(path.join(PG_BIN, "psql"), ["-X", "-q", "-d", "postgres"], { env: { ...process.env, ...pg.env("postgres") }, stdio: ["pipe", "ignore", "ignore"] });
        open.stdin!.write("BEGIN; INSERT INTO inside_probe SELECT repeat('x', 100) FROM generate_series(1, 1000);\n");
        let last = "";
        for (const deadline = Date.now() + 30_000; Date.now() < deadline;) {
            await new Promise((r) => setTimeout(r, 100));
            if (pg.psql("SELECT count(*) FROM pg_stat_activity WHERE backend_xid IS NOT NULL AND state = 'idle in transaction'", "postgres") !== "0") {
                last = pg.psql("SELECT pg_walfile_name(pg_switch_wal())", "postgres");
                break;
            }
        }
        open.stdin!.end("ROLLBACK;\n");
        assert.ok(last > reaching, `${last} after ${reaching}`);
        for (const name of fs.readdirSync(path.join(pg.dataDir, "pg_wal")).filter((n) => /^[0-9A-F]{24}$/.test(n) && n >= firstSegment && n <= last).sort()) {
            const copy = path.join(servers.dir, `inside-${name}`);
            fs.copyFileSync(path.join(pg.dataDir, "pg_wal", name), copy);
            const pushed = await runScript("wal-archive.sh", inside, ["push", copy, name]);
            assert.equal(pushed.code, 0, explain(pushed));
        }
        // Was: the last listed segment read alone (no commit in it): "does not reach the target" after all of the wait.
        const dir = path.join(servers.dir, "inside");
        const restored = await runScript("wal-archive.sh", inside, ["restore", dir, "--target-time", target, "--wait-for-target", "5"]);
        assert.equal(restored.code, 0, explain(restored));
        assert.match(restored.stdout, new RegExp(`; the archive reaches the target \\(${reaching} holds a commit at or after it; waited [\\d.]+ s for it after the base backup\\)$`, "m"), explain(restored));
        assert.doesNotMatch(restored.stderr, /WARNING/);
        assert.equal(fs.readFileSync(path.join(dir, "wal-archive-spool", "covered"), "utf8").trim(), reaching);

        // --target-time-file with a line without a zone, once the base backup is in place: said (WARNING), the wait
        // goes on, and the corrected line is taken (was: exit 2, the base backup's download lost).
        const fromFile = path.join(servers.dir, "inside-file");
        const targetFile = path.join(servers.dir, "inside-target");
        const run = startScript("wal-archive.sh", inside, ["restore", fromFile, "--target-time-file", targetFile, "--wait-for-target", "60"], UNSIGNALLED);
        await waitForStderr(run, /waiting \(at most 60 s\) for the target time in /, 60_000);
        const zoneless = target.replace("T", " ").replace(/Z$/, "");
        fs.writeFileSync(`${targetFile}.tmp`, `${zoneless}\n`);
        fs.renameSync(`${targetFile}.tmp`, targetFile);
        await waitForStderr(run, new RegExp(`WARNING: the target time "${zoneless.replace(/[.]/g, "\\.")}" \\(\\S+inside-target, --target-time-file\\) names no time zone: .*; write the corrected time whole \\(echo TIME > \\S+ && mv \\S+ \\S+\\): still waiting, at most 60 s in all`), 60_000);
        fs.writeFileSync(`${targetFile}.tmp`, `${target}\n`);
        fs.renameSync(`${targetFile}.tmp`, targetFile);
        const done = await run.done;
        assert.equal(done.code, 0, explain(done));
        assert.equal(/^recovery_target_time = '(.*)'$/m.exec(fs.readFileSync(path.join(fromFile, "postgresql.auto.conf"), "utf8"))![1],
            /^recovery_target_time = '(.*)'$/m.exec(fs.readFileSync(path.join(dir, "postgresql.auto.conf"), "utf8"))![1]);
    });

    it("usage and configuration errors exit 2 before any storage call", async function () {
        // A curl too old for the AWS helper's calls ahead on PATH: starting the helper would die on it (exit 2 with
        // "curl 7.50.0 is too old"), so each usage message below also shows that it came before any helper started.
        const oldCurl = path.join(servers.dir, "old-curl");
        fs.mkdirSync(oldCurl, { recursive: true });
        fs.writeFileSync(path.join(oldCurl, "curl"), "#!/bin/sh\necho 'curl 7.50.0 (x86_64-pc-linux-gnu)'\n", { mode: 0o755 });
        const beforeHelper = { ...env, EXTRA_PATH: oldCurl };
        for (const [args, message] of [
            [[], /usage: wal-archive\.sh push PATH NAME/],
            [["archive"], /unknown command "archive"/],
            [["push", "only-one"], /usage:/],
            [["restore", path.join(servers.dir, "x"), "--target-time", "yesterday-ish"], /not a time: "yesterday-ish"/],
            [["restore", path.join(servers.dir, "x"), "--verbose"], /unknown option --verbose/],
            [["restore", path.join(servers.dir, "x"), "--target-time", ""], /--target-time needs a time/],
            [["restore", path.join(servers.dir, "x"), "--wait-for-target", "5"], /--wait-for-target needs --target-time or --target-time-file/],
            [["restore", path.join(servers.dir, "x"), "--target-time", "2026-01-01T00:00:00Z", "--wait-for-target", "soon"], /--wait-for-target needs a number of seconds/],
            [["restore", path.join(servers.dir, "x"), "--target-time", "2026-01-01T00:00:00Z", "--target-time-file", "f"], /--target-time or --target-time-file, not both/],
            // An operator's mistakes at 3 a.m. (h32-oncall), each said before any work: a time without its zone (GNU date
            // read it as UTC, silently moving a local time by the zone's offset), a time in the future (the whole
            // archive replayed, the damage with it), a data directory whose parent is not there (was exit 1 from mkdir,
            // after the manifests were read).
            [["restore", path.join(servers.dir, "x"), "--target-time", "2026-01-01 10:00:00"], /the target time "2026-01-01 10:00:00" \(--target-time\) names no time zone: read as UTC it is 2026-01-01 10:00:00\+00, as this machine's local time \(\S+\) \S+ \S+; .*give it with its zone/],
            // A time relative to the clock: refused, said as such (it was "names no time zone", two equal readings shown).
            [["restore", path.join(servers.dir, "x"), "--target-time", "5 minutes ago"], /the target time "5 minutes ago" \(--target-time\) is relative to this machine's clock \(now \S+ \S+\): give the moment itself with its zone/],
            [["restore", path.join(servers.dir, "x"), "--target-time", new Date(Date.now() + 3_600_000).toISOString()], /\(--target-time\) is \S+ \S+, in the future \(this machine's clock: \S+ \S+\): a recovery to it would replay the whole archive, the damage included/],
            [["restore", path.join(servers.dir, "no-such-parent", "x"), "--target-time", "2026-01-01T00:00:00Z"], /the data directory \S+no-such-parent\/x cannot be made: its parent directory \S+no-such-parent does not exist; create it first/],
        ] as [string[], RegExp][]) {
            // push checks its arguments once its helper is found or started (the archiver's path): not with the old curl.
            const result = await runScript("wal-archive.sh", args[0] === "push" ? env : beforeHelper, args);
            assert.equal(result.code, 2, `${args.join(" ")}: ${explain(result)}`);
            assert.match(result.stderr, message);
        }
        const noBucket = await runScript("wal-archive.sh", { ...env, BUCKET: "" }, ["push", "x", "y"]);
        assert.equal(noBucket.code, 2);
        assert.match(noBucket.stderr, /BUCKET is required/);
        assert.deepEqual(listKeys(servers.moto, bucket, "wal/x"), []);
    });
});
