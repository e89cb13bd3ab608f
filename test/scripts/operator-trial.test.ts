/**
 * Faults an operator met when trying the scripts on a new setup (issue 22, "Scripts under operator faults"),
 * beyond restore-faults, backup-faults and backup-fail-fast: a database endpoint that accepts the TCP
 * connection and never answers (a stuck proxy, a half-dead host), and a scratch directory the run cannot
 * write, an S3 endpoint that stops answering during the dump's download. Real PostgreSQL 15 and moto on 127.0.0.1.
 * Then the faults of a 3 a.m. trial of the data-corruption path (branch h26-trial-ops): a manifest key pasted with
 * a space, a key with a typo or a PGDATABASE that has no manifests ("nothing to restore" was the verdict), two
 * restores into one database at once (both said "restored"; the last commit won), and an application's
 * transaction holding a table (the swap waited up to RESTORE_LOCK_TIMEOUT per table without a word).
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as net from "net";
import * as path from "path";
import { ChildProcess, spawn, spawnSync } from "child_process";
import { OAUTH2_TABLES, seedSql } from "../../tools/sandbox/oauth2-schema";
import { tableChecksums } from "../support/checksums";
import { BASH_C, baseEnv, createBucket, createSecret, explain, getObject, killRunAfter, listKeys, putObject, runScript, ScriptResult, SCRIPTS, scriptEnv, startScript, tempDir, useScriptServers, waitForStderr } from "../../tools/sandbox/scripts";
import { LOCALHOST, MotoServer, PG_BIN } from "../../tools/sandbox/servers";

describe("the scripts under operator faults: silent database endpoint, unusable scratch directory, stalled download", function () {
    this.timeout(180_000);
    const servers = useScriptServers("oauth2-dr-operator-trial-", "operator trial passphrase");
    let bucket: string;
    let manifestKey: string;
    const scripts: [string, string[]][] = [
        ["restore.sh", ["--yes", "--source-database", "oauth2db"]],
        ["db-backup.sh", []],
        ["restore-verification.sh", []],
    ];

    before(async function () {
        const { pg, moto, passphrase } = servers;
        pg.createDatabase("oauth2db");
        pg.psql(seedSql({ clients: 5, authorizations: 5000, consents: 2 }));
        bucket = servers.newBucket("oauth2-trial");
        const backup = await runScript("db-backup.sh", scriptEnv(pg, moto, bucket, passphrase));
        assert.equal(backup.code, 0, explain(backup));
        manifestKey = backup.stdout.trim();
    });

    it("the default connect timeout (PGCONNECT_TIMEOUT unset) is 10 s; TEST_ONLY_PGCONNECT_TIMEOUT_DEFAULT lowers it, says so, and is refused outside 2..10", function () {
        // Read from lib.sh, not waited for: the case below waits for the lowered default.
        const timeout = (env: Record<string, string>) =>
            spawnSync("bash", [...BASH_C, 'source "$1" && printf %s "$PGCONNECT_TIMEOUT"', "probe", path.join(SCRIPTS, "lib.sh")], { encoding: "utf8", env: baseEnv(env) });
        const production = timeout({});
        assert.equal(production.status, 0, production.stderr);
        assert.equal(production.stdout, "10");
        assert.doesNotMatch(production.stderr, /TEST_ONLY|WARNING|ERROR/, production.stderr);
        const lowered = timeout({ TEST_ONLY_PGCONNECT_TIMEOUT_DEFAULT: "2" });
        assert.equal(lowered.stdout, "2");
        assert.match(lowered.stderr, /WARNING: TEST_ONLY_PGCONNECT_TIMEOUT_DEFAULT=2: the default connect timeout \(PGCONNECT_TIMEOUT unset\) is lowered from 10 s, for tests only/);
        assert.equal(timeout({ TEST_ONLY_PGCONNECT_TIMEOUT_DEFAULT: "2", PGCONNECT_TIMEOUT: "7" }).stdout, "7");
        for (const bad of ["0", "1", "11", "2s", "-3"]) {
            const refused = timeout({ TEST_ONLY_PGCONNECT_TIMEOUT_DEFAULT: bad });
            assert.equal(refused.status, 2, refused.stderr);
            assert.match(refused.stderr, new RegExp(`ERROR: TEST_ONLY_PGCONNECT_TIMEOUT_DEFAULT must be a whole number of seconds from 2 to 10 \\(and unset outside the tests\\), not ${bad}`));
        }
    });

    /**
     * An endpoint that accepts connections and never answers (as a SIGSTOPped server: the kernel completes the
     * handshake, nothing reads), for the cases frozen before their first call: a listening socket instead of a
     * moto_server of their own started only to be stopped (half a second of CPU each). Closed by `close`.
     */
    async function silentEndpoint(): Promise<{ endpoint: string; port: string; close(): void }> {
        const held: net.Socket[] = [];
        const silent = net.createServer((socket) => held.push(socket));
        await new Promise<void>((resolve) => silent.listen(0, LOCALHOST, () => resolve()));
        const port = String((silent.address() as net.AddressInfo).port);
        return {
            endpoint: `http://${LOCALHOST}:${port}`,
            port,
            close() {
                held.forEach((socket) => socket.destroy());
                silent.close();
            },
        };
    }

    it("a database endpoint that accepts TCP and never answers: exit 3 naming host:port and the timeout (PGCONNECT_TIMEOUT unset), not a wait forever", async function () {
        const silent = await silentEndpoint();
        const port = silent.port;
        try {
            const results = await Promise.all(
                scripts.map(async ([name, args]): Promise<[string, ScriptResult]> => {
                    const env: Record<string, string> = { ...scriptEnv(servers.pg, servers.moto, bucket, servers.passphrase), PGPORT: port };
                    delete env.PGCONNECT_TIMEOUT; // as an operator's shell or a CronJob has it: unset
                    // The default lowered from 10 s to 2 s (lib.sh; the case above reads the production value).
                    env.TEST_ONLY_PGCONNECT_TIMEOUT_DEFAULT = "2";
                    const run = startScript(name, env, args, { detached: true });
                    // Without a connect timeout libpq waits forever (SIGTERM too waits for psql): end the whole
                    // run (killRunAfter) after far more than the default timeout, so that the test fails, not hangs.
                    const stop = killRunAfter(run, 90_000);
                    const result = await run.done;
                    stop();
                    return [name, result];
                }),
            );
            for (const [name, result] of results) {
                assert.equal(result.code, 3, `${name}: ${explain(result)}`);
                assert.match(result.stderr, new RegExp(`ERROR: cannot connect to ${LOCALHOST}:${port}/\\w+: .*timeout expired \\(no answer within PGCONNECT_TIMEOUT=2s\\)`), `${name}: ${explain(result)}`);
            }
        } finally {
            silent.close();
        }
    });

    it("a scratch directory (TMPDIR) the run cannot write: configuration error (2) naming it, in every script", async function () {
        const missing = `${tempDir("oauth2-dr-operator-trial-tmp-")}/gone`;
        for (const [name, args] of scripts) {
            const result = await runScript(name, { ...scriptEnv(servers.pg, servers.moto, bucket, servers.passphrase), TMPDIR: missing }, args);
            assert.equal(result.code, 2, `${name}: ${explain(result)}`);
            assert.match(result.stderr, new RegExp(`ERROR: scratch directory ${missing} \\(TMPDIR\\) is not usable: .*No such file or directory`), `${name}: ${explain(result)}`);
        }
        fs.rmSync(missing.replace(/\/gone$/, ""), { recursive: true, force: true });
    });

    it("the S3 endpoint stops answering during the dump's download: storage error (4) after S3_STALL_SECONDS, target untouched, spool removed", async function () {
        const { pg, moto, passphrase } = servers;
        // A moto of its own, frozen (SIGSTOP: the kernel still accepts the connection, nothing answers).
        const frozen = await MotoServer.start();
        const scratch = tempDir("oauth2-dr-operator-trial-spool-");
        try {
            createBucket(frozen, "stall-bucket");
            const m = servers.manifest(bucket, manifestKey);
            putObject(frozen, "stall-bucket", m.object_key, getObject(moto, bucket, m.object_key));
            putObject(frozen, "stall-bucket", manifestKey, JSON.stringify({ ...m, s3_version_id: null }));
            pg.createDatabase("stalled");
            pg.psql(seedSql({ clients: 2, authorizations: 3, consents: 1 }), "stalled");
            const sums = () => Object.values(tableChecksums(pg, OAUTH2_TABLES, "stalled")).join("|");
            const before = sums();
            const env = { ...scriptEnv(pg, frozen, "stall-bucket", passphrase, "stalled"), TMPDIR: scratch, S3_STALL_SECONDS: "2" };
            const run = startScript("restore.sh", env, ["--yes", "--source-database", "oauth2db"], { detached: true });
            let stderr = "";
            await new Promise<void>((resolve) => {
                run.child.stderr!.on("data", (chunk) => {
                    stderr += chunk;
                    if (/downloading the dump/.test(stderr)) {
                        process.kill(frozen.pid!, "SIGSTOP");
                        resolve();
                    }
                });
                void run.done.then(() => resolve());
            });
            const stop = killRunAfter(run, 60_000);
            const result = await run.done;
            stop();
            assert.equal(result.code, 4, explain(result));
            assert.match(result.stderr, /ERROR: download of the dump s3:\/\/stall-bucket\/\S+ failed: curl: \(28\)/, explain(result));
            assert.equal(sums(), before);
            assert.deepEqual(fs.readdirSync(scratch), []);
        } finally {
            if (frozen.pid) {
                process.kill(frozen.pid, "SIGCONT");
            }
            await frozen.stop();
            fs.rmSync(scratch, { recursive: true, force: true });
        }
    });

    it("an S3 endpoint that accepts connections and never answers, before any download: each attempt's timeout said as it happens, then storage error (4)", async function () {
        const frozen = await silentEndpoint();
        try {
            const env = { ...scriptEnv(servers.pg, servers.moto, "frozen-bucket", servers.passphrase), AWS_ENDPOINT_URL: frozen.endpoint, AWS_MAX_ATTEMPTS: "2", AWS_HELPER_READ_TIMEOUT: "1" };
            const run = startScript("restore.sh", env, ["--yes"], { detached: true });
            // botocore's own read timeout is 60 s: end the run well before, so that the test fails without the setting.
            const stop = killRunAfter(run, 40_000);
            const result = await run.done;
            stop();
            assert.equal(result.code, 4, explain(result));
            assert.match(result.stderr, /ERROR: cannot list s3:\/\/frozen-bucket\/database\/manifests\/: Read timeout on endpoint URL/, explain(result));
            // Each attempt that got no answer is said as it happens, not only the final error.
            const port = frozen.port;
            assert.match(result.stderr, new RegExp(`restore: no answer from http://127\\.0\\.0\\.1:${port} to ListObjectsV2 of s3://frozen-bucket/database/manifests/ \\(attempt 1 of 2, AWS_MAX_ATTEMPTS; ReadTimeoutError\\); retrying\n.*no answer .*\\(attempt 2 of 2, .*\\); giving up\n`), explain(result));
        } finally {
            frozen.close();
        }
    });

    it("a call without an answer is said while it waits (AWS_HELPER_WAIT_NOTICE_SECONDS), before its read timeout ends it: no silent 20 s", async function () {
        const frozen = await silentEndpoint();
        try {
            const env = { ...scriptEnv(servers.pg, servers.moto, "frozen-bucket", servers.passphrase), AWS_ENDPOINT_URL: frozen.endpoint, AWS_MAX_ATTEMPTS: "1", AWS_HELPER_READ_TIMEOUT: "4", AWS_HELPER_WAIT_NOTICE_SECONDS: "1" };
            const run = startScript("restore.sh", env, ["--yes"], { detached: true });
            const stop = killRunAfter(run, 40_000);
            const result = await run.done;
            stop();
            assert.equal(result.code, 4, explain(result));
            const port = frozen.port;
            assert.match(result.stderr, new RegExp(`restore: waiting for an answer from http://127\\.0\\.0\\.1:${port} to ListObjectsV2 of s3://frozen-bucket/database/manifests/ \\(\\d+ s so far; at most 4 s per attempt, AWS_HELPER_READ_TIMEOUT\\)\n(.*\n)*.*restore: no answer from .* ListObjectsV2 of s3://frozen-bucket/database/manifests/ \\(attempt 1 of 1`), explain(result));
        } finally {
            frozen.close();
        }
    });

    it("a row lock of an application's UPDATE: lock timeout (3) naming the holder once, nothing committed", async function () {
        const { pg } = servers;
        pg.createDatabase("rowlocked");
        pg.psql(seedSql({ clients: 2, authorizations: 3, consents: 1 }), "rowlocked");
        const sums = () => Object.values(tableChecksums(pg, OAUTH2_TABLES, "rowlocked")).join("|");
        const before = sums();
        const app = spawn(path.join(PG_BIN, "psql"), ["-X", "-q", "-h", LOCALHOST, "-p", String(pg.port), "-U", "postgres", "-d", "rowlocked"], {
            env: { ...process.env, PGAPPNAME: "oauth2-app" },
            stdio: ["pipe", "ignore", "ignore"],
        });
        try {
            app.stdin!.write("BEGIN; UPDATE oauth2_authorization SET state = state WHERE id = (SELECT min(id) FROM oauth2_authorization);\n");
            for (let i = 0; i < 600 && pg.psql("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'oauth2-app' AND state = 'idle in transaction'", "postgres") !== "1"; i++) {
                await new Promise((r) => setTimeout(r, 100));
            }
            const appPid = pg.psql("SELECT pid FROM pg_stat_activity WHERE application_name = 'oauth2-app'", "postgres");
            const result = await runScript("restore.sh", { ...scriptEnv(pg, servers.moto, bucket, servers.passphrase, "rowlocked"), RESTORE_LOCK_TIMEOUT: "1s" }, ["--yes", "--source-database", "oauth2db"]);
            assert.equal(result.code, 3, explain(result));
            const line = result.stderr.split("\n").find((l) => /lock timeout: table oauth2_authorization/.test(l)) ?? "";
            assert.match(line, new RegExp(`stayed locked for 1s \\(RESTORE_LOCK_TIMEOUT\\) by pid ${appPid} \\(application_name 'oauth2-app', user postgres, client 127\\.0\\.0\\.1:\\d+, state idle in transaction, transaction since \\S+Z, connected since \\S+Z\\): to end it \\(its transaction is rolled back\\), SELECT pg_terminate_backend\\(${appPid}\\)`), explain(result));
            assert.equal(line.split(`pid ${appPid} `).length, 2, `the holder named more than once: ${line}`);
            assert.equal(sums(), before);
        } finally {
            app.stdin!.end("COMMIT;\n");
        }
    });
    /** An application's session (application_name oauth2-app) idle in a transaction that read `table`: it holds ACCESS SHARE. */
    async function holdTable(database: string, table: string): Promise<{ app: ChildProcess; pid: string }> {
        const { pg } = servers;
        const app = spawn(path.join(PG_BIN, "psql"), ["-X", "-q", "-h", LOCALHOST, "-p", String(pg.port), "-U", "postgres", "-d", database], {
            env: { ...process.env, PGAPPNAME: "oauth2-app" },
            stdio: ["pipe", "ignore", "ignore"],
        });
        app.stdin!.write(`BEGIN; SELECT count(*) FROM ${table};\n`);
        const idle = `SELECT pid FROM pg_stat_activity WHERE application_name = 'oauth2-app' AND datname = '${database}' AND state = 'idle in transaction'`;
        for (let i = 0; i < 600 && pg.psql(idle, "postgres") === ""; i++) {
            await new Promise((r) => setTimeout(r, 100));
        }
        return { app, pid: pg.psql(idle, "postgres") };
    }

    it("a manifest key pasted with whitespace around it: restored, the whitespace named (was exit 7, 'nothing to restore')", async function () {
        const { pg } = servers;
        pg.createDatabase("pasted");
        const result = await runScript("restore.sh", scriptEnv(pg, servers.moto, bucket, servers.passphrase, "pasted"), ["--yes", "--source-database", "oauth2db", "--manifest", ` ${manifestKey}\t`]);
        assert.equal(result.code, 0, explain(result));
        assert.match(result.stderr, new RegExp(`note: removed the whitespace around the manifest key ' ${manifestKey}\t'`), explain(result));
        assert.equal(pg.psql("SELECT count(*) FROM oauth2_authorization", "pasted"), "5000");
        // The target is named before the download (PG* pointing at the wrong database is seen before the swap).
        const target = result.stderr.indexOf(`restore: target: ${LOCALHOST}:${pg.port}/pasted (server `);
        assert.ok(target >= 0 && target < result.stderr.indexOf("downloading the dump"), explain(result));
    });

    it("restore-verification.sh with VERIFY_MANIFEST_KEY pasted with whitespace: verifies that manifest, the whitespace named (was FAIL 'backup completed successfully', exit 4)", async function () {
        const result = await runScript("restore-verification.sh", { ...scriptEnv(servers.pg, servers.moto, bucket, servers.passphrase), VERIFY_MANIFEST_KEY: ` ${manifestKey} ` });
        assert.equal(result.code, 0, explain(result));
        assert.match(result.stderr, new RegExp(`note: removed the whitespace around VERIFY_MANIFEST_KEY ' ${manifestKey} '`), explain(result));
        assert.equal(result.stdout.split("\n").filter((l) => /^PASS /.test(l)).length, 7, explain(result));
    });

    it("restore-verification.sh with a VERIFY_MANIFEST_KEY that names no manifest: exit 2 naming the newest one, and no verification record under the typo (h40: exit 4 without a cause, and a failed record recovery-points listed as a manifest gone)", async function () {
        const typo = manifestKey.replace(/([0-9a-f])(\.json)$/, (_match, digit: string, json: string) => `${digit === "0" ? "1" : "0"}${json}`);
        const result = await runScript("restore-verification.sh", { ...scriptEnv(servers.pg, servers.moto, bucket, servers.passphrase), VERIFY_MANIFEST_KEY: typo });
        assert.equal(result.code, 2, explain(result));
        assert.match(result.stderr, new RegExp(`no manifest s3://${bucket}/${typo} \\(VERIFY_MANIFEST_KEY: no such key\\): the newest manifest of oauth2db is ${manifestKey} \\(1 in all\\)`), explain(result));
        assert.match(result.stdout, /^FAIL backup completed successfully: no manifest /m, explain(result));
        const typoName = typo.split("/").pop()!.replace(/\.json$/, "");
        assert.deepEqual(listKeys(servers.moto, bucket, `database/verifications/${typoName}/`), [], "a record beside a manifest that does not exist");
        // Another database's name in PGDATABASE: the advice names the one that has manifests.
        const other = await runScript("restore-verification.sh", { ...scriptEnv(servers.pg, servers.moto, bucket, servers.passphrase, "oauth2db_other"), VERIFY_MANIFEST_KEY: typo.replace("/oauth2db-", "/oauth2db_other-") });
        assert.equal(other.code, 2, explain(other));
        assert.match(other.stderr, /the manifests there are of oauth2db \(1, newest [^)]+\): to verify one, run with PGDATABASE=oauth2db/, explain(other));
    });

    it("a manifest key with a typo, a PGDATABASE without manifests, an empty prefix: exit 7 naming what the bucket holds, not 'nothing to restore'", async function () {
        const { pg, moto, passphrase } = servers;
        const typo = manifestKey.replace(/([0-9a-f])(\.json)$/, (_match, digit: string, json: string) => `${digit === "0" ? "1" : "0"}${json}`);
        assert.notEqual(typo, manifestKey);
        const missing = await runScript("restore.sh", scriptEnv(pg, moto, bucket, passphrase), ["--yes", "--manifest", typo]);
        assert.equal(missing.code, 7, explain(missing));
        assert.match(missing.stderr, new RegExp(`ERROR: no manifest s3://${bucket}/${typo} \\(no such key\\): the newest manifest of oauth2db is ${manifestKey} \\(1 in all\\)`), explain(missing));
        pg.createDatabase("oauth2db_check");
        const otherDb = await runScript("restore.sh", scriptEnv(pg, moto, bucket, passphrase, "oauth2db_check"), ["--yes"]);
        assert.equal(otherDb.code, 7, explain(otherDb));
        assert.match(otherDb.stderr, new RegExp(`ERROR: no manifest of oauth2db_check under s3://${bucket}/database/manifests/: the manifests there are of oauth2db \\(1, newest ${manifestKey}\\): to restore one into oauth2db_check, pass --source-database oauth2db`), explain(otherDb));
        const emptyPrefix = await runScript("restore.sh", { ...scriptEnv(pg, moto, bucket, passphrase), BACKUP_PREFIX: "db/" }, ["--yes"]);
        assert.equal(emptyPrefix.code, 7, explain(emptyPrefix));
        assert.match(emptyPrefix.stderr, new RegExp(`holds no manifest of any database \\(BUCKET, BACKUP_PREFIX\\?\\)`), explain(emptyPrefix));
        for (const result of [missing, otherDb, emptyPrefix]) {
            assert.doesNotMatch(result.stderr, /nothing to restore/, explain(result));
        }
        // A BUCKET with a typo and the right --manifest: the bucket named as missing, storage (4), as without --manifest
        // (h32-oncall: a HEAD has no body, so S3's 404 for the bucket read as the key's: "no manifest ... (no such
        // key): " with an empty hint, exit 7).
        const noBucket = await runScript("restore.sh", scriptEnv(pg, moto, `${bucket}-typo`, passphrase), ["--yes", "--manifest", manifestKey]);
        assert.equal(noBucket.code, 4, explain(noBucket));
        assert.match(noBucket.stderr, new RegExp(`ERROR: no bucket s3://${bucket}-typo \\(us-east-1: .*NoSuchBucket.*\\): a typo in BUCKET\\? the stack's bucket is oauth2-backups-<stack>, and npm run recovery-points prints each restore command with it`), explain(noBucket));
        assert.doesNotMatch(noBucket.stderr, /no such key/);
        const noBucketListed = await runScript("restore.sh", scriptEnv(pg, moto, `${bucket}-typo`, passphrase), ["--yes"]);
        assert.equal(noBucketListed.code, 4, explain(noBucketListed));
        assert.match(noBucketListed.stderr, /NoSuchBucket.*: a typo in BUCKET\? the stack's bucket is oauth2-backups-<stack>/, explain(noBucketListed));
    });

    it("an application's transaction holding a table: the swap says within seconds what it waits for (table, pid, application_name), then restores when it ends", async function () {
        const { pg } = servers;
        pg.createDatabase("busy");
        pg.psql(seedSql({ clients: 2, authorizations: 3, consents: 1 }), "busy");
        const { app, pid } = await holdTable("busy", "oauth2_registered_client");
        const run = startScript("restore.sh", { ...scriptEnv(pg, servers.moto, bucket, servers.passphrase, "busy"), RESTORE_LOCK_TIMEOUT: "90s" }, ["--yes", "--source-database", "oauth2db"], { detached: true });
        try {
            // Without the announcement the run says nothing until RESTORE_LOCK_TIMEOUT (90 s) ends: this wait fails first
            // (75 s: the deadline counts the run's start, download and load too; the whole test took 8.8-12.2 s in three
            // CI-like whole runs of 2026-12-05 on this 2-core machine, so 30 s left a slower or busier one under 3x).
            await waitForStderr(run, new RegExp(`the swap is waiting for a lock on oauth2_registered_client, held by pid ${pid} \\(application_name 'oauth2-app', user postgres, state idle in transaction, query since \\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}Z\\): to end it \\(its transaction is rolled back\\), SELECT pg_terminate_backend\\(${pid}\\) \\(\\d+s so far; at most RESTORE_LOCK_TIMEOUT=90s per table\\)`), 75_000);
        } finally {
            app.stdin!.end("COMMIT;\n");
        }
        const result = await run.done;
        assert.equal(result.code, 0, explain(result));
        assert.equal(pg.psql("SELECT count(*) FROM oauth2_authorization", "busy"), "5000");
    });

    it("the restore's own session, idle through the download and while the swap waits, has TCP keepalives every 30 s on both ends (a NAT that drops idle connections keeps it)", async function () {
        const { pg } = servers;
        pg.createDatabase("keepalive");
        pg.psql(seedSql({ clients: 2, authorizations: 3, consents: 1 }), "keepalive");
        // The swap held by an application's transaction: the session is then silent, as during a long download.
        const { app } = await holdTable("keepalive", "oauth2_registered_client");
        const run = startScript("restore.sh", { ...scriptEnv(pg, servers.moto, bucket, servers.passphrase, "keepalive"), RESTORE_LOCK_TIMEOUT: "90s" }, ["--yes", "--source-database", "oauth2db"], { detached: true });
        try {
            await waitForStderr(run, /the swap is waiting for a lock on oauth2_registered_client/, 60_000);
            const port = pg.psql("SELECT client_port FROM pg_stat_activity a JOIN pg_locks l ON l.pid = a.pid AND NOT l.granted WHERE a.datname = 'keepalive' AND a.application_name LIKE 'oauth2-dr-restore%'", "postgres");
            assert.match(port, /^\d+$/, "the restore's session waiting for its lock");
            // Both ends of that connection: psql's socket (libpq keepalives_idle) and the server's (tcp_keepalives_idle).
            const sockets = spawnSync("ss", ["-tno", "state", "established", `( sport = :${port} or dport = :${port} )`], { encoding: "utf8" });
            assert.equal(sockets.status, 0, sockets.stderr);
            const timers = sockets.stdout.split("\n").filter((l) => /127\.0\.0\.1/.test(l)).map((l) => /timer:\(keepalive,([^,]+),/.exec(l)?.[1] ?? "none");
            assert.equal(timers.length, 2, sockets.stdout);
            for (const timer of timers) {
                // Without keepalives_idle the kernel's default: 7200 s (timer:(keepalive,119min,0)).
                assert.match(timer, /^(\d+(\.\d+)?sec|\d+ms)$/, sockets.stdout);
                assert.ok(parseFloat(timer) <= 30, sockets.stdout);
            }
        } finally {
            app.stdin!.end("COMMIT;\n");
        }
        const result = await run.done;
        assert.equal(result.code, 0, explain(result));
    });

    it("two restores into one database at once: the second is refused (3) before its download, naming the first, which restores", async function () {
        const { pg } = servers;
        pg.createDatabase("twice");
        pg.psql(seedSql({ clients: 2, authorizations: 3, consents: 1 }), "twice");
        // The first run is held at its swap by an application's transaction, so that the second surely starts meanwhile.
        const { app } = await holdTable("twice", "oauth2_registered_client");
        const env = { ...scriptEnv(pg, servers.moto, bucket, servers.passphrase, "twice"), RESTORE_LOCK_TIMEOUT: "90s" };
        const first = startScript("restore.sh", env, ["--yes", "--source-database", "oauth2db"], { detached: true });
        let second: ScriptResult;
        let firstRun: string;
        let advisoryHolder: string;
        try {
            await waitForStderr(first, /verified the dump/, 60_000);
            firstRun = pg.psql("SELECT application_name FROM pg_stat_activity WHERE datname = 'twice' AND application_name LIKE 'oauth2-dr-restore:%' LIMIT 1", "postgres");
            second = await runScript("restore.sh", env, ["--yes", "--source-database", "oauth2db"]);
            advisoryHolder = pg.psql("SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = 'twice')", "postgres");
        } finally {
            app.stdin!.end("COMMIT;\n");
        }
        assert.equal(second.code, 3, explain(second));
        // The holder of the advisory lock, its client and since when, and the statements that end it, as pg_stat_activity has them.
        const holder = /another restore into \S+ is running: pid (\d+) /.exec(second.stderr)?.[1] ?? "none";
        assert.equal(holder, advisoryHolder, explain(second));
        assert.match(second.stderr, new RegExp(`ERROR: another restore into ${LOCALHOST}:${pg.port}/twice is running: pid ${holder} \\(application_name '${firstRun}', user postgres, client 127\\.0\\.0\\.1:\\d+, state [a-z ]+, transaction since [^,]+, connected since \\S+Z\\): `
            + `to end it \\(its transaction is rolled back\\), SELECT pg_terminate_backend\\(${holder}\\); its run's other sessions: SELECT pg_terminate_backend\\(pid\\) FROM pg_stat_activity WHERE application_name = '${firstRun}'; `
            + `two restores at once .*: wait for it to end; if its run is gone \\(a lost pod\\), end its sessions with the statements above, then run again`), explain(second));
        assert.doesNotMatch(second.stderr, /downloading the dump/, explain(second));
        const result = await first.done;
        assert.equal(result.code, 0, explain(result));
        assert.equal(pg.psql("SELECT count(*) FROM oauth2_authorization", "twice"), "5000");
    });
    it("a file size limit (ulimit -f) below the dump: exit 2 naming the limit and the dump's size before the download (was exit 4, 'the AWS helper did not answer /s3/get')", async function () {
        const { pg, moto } = servers;
        const size = servers.manifest(bucket, manifestKey).size_bytes as number;
        assert.ok(size > 8 * 1024, `the dump (${size} bytes) is larger than the limit`);
        const child = spawn("bash", [...BASH_C, `ulimit -f 8; exec bash ${path.join(SCRIPTS, "restore.sh")} --yes --source-database oauth2db --manifest ${manifestKey}`], { env: baseEnv({ ...scriptEnv(pg, moto, bucket, servers.passphrase, "oauth2db_flimit") }) });
        let stderr = "";
        child.stderr!.on("data", (d) => (stderr += d));
        const code = await new Promise<number | null>((resolve) => child.on("close", (c) => resolve(c)));
        assert.equal(code, 2, stderr);
        assert.match(stderr, new RegExp(`ERROR: the file size limit \\(ulimit -f: 8 KiB\\) is below the dump's ${size} bytes, which are spooled in the scratch directory`));
        assert.doesNotMatch(stderr, /downloading/);
    });

    it("an AWS_PROFILE that is not in the config files (the vault profile not set up here): exit 2, one line naming it, the files and the profiles there, in every script (was a Python traceback, then exit 4)", async function () {
        const { pg, moto } = servers;
        const scratch = tempDir("oauth2-dr-profile-");
        try {
            const config = path.join(scratch, "config");
            fs.writeFileSync(config, "[profile oauth2-dr-prod]\nregion = us-east-1\n");
            for (const [script, args] of scripts) {
                const env = { ...scriptEnv(pg, moto, bucket, servers.passphrase), AWS_ACCESS_KEY_ID: "", AWS_SECRET_ACCESS_KEY: "", AWS_SESSION_TOKEN: "", AWS_PROFILE: "oauth2-dr-vault", AWS_CONFIG_FILE: config };
                const result = await runScript(script, env, script === "restore.sh" ? [...args, "--manifest", manifestKey] : args);
                // A configuration error (2), not a storage error (4, until h29-residuals), naming the profiles there are.
                assert.equal(result.code, 2, `${script}: ${explain(result)}`);
                assert.match(result.stderr, new RegExp(`ERROR: AWS_PROFILE=oauth2-dr-vault: the AWS profile is not in the AWS config files read \\(AWS_CONFIG_FILE=${config.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}, AWS_SHARED_CREDENTIALS_FILE=[^)]*\\); set AWS_PROFILE to one of: oauth2-dr-prod, or create it`), `${script}: ${explain(result)}`);
                assert.doesNotMatch(result.stderr, /Traceback/, script);
            }
        } finally {
            fs.rmSync(scratch, { recursive: true, force: true });
        }
    });

    it("a restore run in another region than the manifest's passphrase secret: exit 5 naming both regions and what to set", async function () {
        const { pg, moto } = servers;
        const secret = createSecret(moto, "oauth2-trial/backup-passphrase", "trial passphrase from Secrets Manager");
        const region = moto.env().AWS_REGION;
        const secretEnv = { ...scriptEnv(pg, moto, bucket, servers.passphrase), PASSPHRASE_FILE: "", BACKUP_PASSPHRASE_SECRET_ID: "oauth2-trial/backup-passphrase", BACKUP_PREFIX: "regions/" };
        const backup = await runScript("db-backup.sh", secretEnv);
        assert.equal(backup.code, 0, explain(backup));
        const key = backup.stdout.trim();
        pg.createDatabase("regions");
        const otherRegion = region === "eu-west-1" ? "eu-central-1" : "eu-west-1";
        const result = await runScript("restore.sh", { ...secretEnv, ...pg.env("regions"), BACKUP_PASSPHRASE_SECRET_ID: "", AWS_REGION: otherRegion, AWS_DEFAULT_REGION: otherRegion }, ["--yes", "--source-database", "oauth2db", "--manifest", key]);
        assert.equal(result.code, 5, explain(result));
        const arn = secret.arn.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
        assert.match(result.stderr, new RegExp(`ERROR: cannot read the backup passphrase ${arn} version ${secret.versionId} from Secrets Manager: .*\\(the secret is in ${region}, this run's AWS_REGION is ${otherRegion}: set AWS_REGION=${region}, or BACKUP_PASSPHRASE_SECRET_ID=oauth2-trial/backup-passphrase to read its replica in ${otherRegion}\\)`), explain(result));
        assert.doesNotMatch(result.stderr + result.stdout, /trial passphrase from Secrets Manager/);
    });
    it("db-backup.sh while a migration holds a table in ACCESS EXCLUSIVE mode: says within seconds what it waits for (table, pid, application_name), then backs up", async function () {
        const { pg, moto, passphrase } = servers;
        pg.createDatabase("migrating");
        pg.psql(seedSql({ clients: 2, authorizations: 3, consents: 1 }), "migrating");
        const migration = spawn(path.join(PG_BIN, "psql"), ["-X", "-q", "-h", LOCALHOST, "-p", String(pg.port), "-U", "postgres", "-d", "migrating"], {
            env: { ...process.env, PGAPPNAME: "migration" },
            stdio: ["pipe", "ignore", "ignore"],
        });
        migration.stdin!.write("BEGIN; LOCK TABLE oauth2_authorization_consent IN ACCESS EXCLUSIVE MODE;\n");
        const held = "SELECT pid FROM pg_stat_activity WHERE application_name = 'migration' AND state = 'idle in transaction'";
        for (let i = 0; i < 600 && pg.psql(held, "postgres") === ""; i++) {
            await new Promise((r) => setTimeout(r, 100));
        }
        const pid = pg.psql(held, "postgres");
        const run = startScript("db-backup.sh", { ...scriptEnv(pg, moto, bucket, passphrase, "migrating"), BACKUP_PREFIX: "migrating/", BACKUP_LOCK_TIMEOUT: "90" }, [], { detached: true });
        try {
            // Without the announcement the run says nothing until BACKUP_LOCK_TIMEOUT (90 s) ends: this wait fails first
            // (75 s: the deadline counts the run's start too, as the restore's above).
            await waitForStderr(run, new RegExp(`waiting for an ACCESS SHARE lock on oauth2_authorization_consent, held by pid ${pid} \\(application_name 'migration', user postgres, state idle in transaction, query since \\S+Z\\): to end it \\(its transaction is rolled back\\), SELECT pg_terminate_backend\\(${pid}\\) \\(\\d+s since the dump started; at most BACKUP_LOCK_TIMEOUT=90 s\\)`), 75_000);
        } finally {
            migration.stdin!.end("COMMIT;\n");
        }
        const result = await run.done;
        assert.equal(result.code, 0, explain(result));
        assert.match(result.stdout, /^migrating\/manifests\/migrating-\S+\.json$/m, explain(result));
    });
    it("the scratch directory fills up during the restore (another writer on the volume): exit 2 naming it, target untouched, nothing left (was exit 1 without a cause)", async function () {
        const { pg, moto, passphrase } = servers;
        // A volume of its own: a tmpfs just larger than the spool's check (the dump's size + 16 MiB). Needs root.
        const volume = tempDir("oauth2-dr-operator-trial-volume-");
        const size = Number(servers.manifest(bucket, manifestKey).size_bytes) + 16 * 1048576 + 1048576;
        if (spawnSync("mount", ["-t", "tmpfs", "-o", `size=${size}`, "tmpfs", volume]).status !== 0) {
            fs.rmSync(volume, { recursive: true, force: true });
            this.skip();
        }
        try {
            pg.createDatabase("diskfull");
            pg.psql(seedSql({ clients: 2, authorizations: 3, consents: 1 }), "diskfull");
            const sums = () => Object.values(tableChecksums(pg, OAUTH2_TABLES, "diskfull")).join("|");
            const before = sums();
            const run = startScript("restore.sh", { ...scriptEnv(pg, moto, bucket, passphrase, "diskfull"), TMPDIR: volume }, ["--yes", "--source-database", "oauth2db"], { detached: true });
            await waitForStderr(run, /downloading the dump/, 60_000);
            // Fill the volume to its last byte.
            const fd = fs.openSync(path.join(volume, "filler"), "w");
            const chunk = Buffer.alloc(1048576);
            try {
                for (;;) {
                    fs.writeSync(fd, chunk);
                }
            } catch (error) {
                assert.equal((error as NodeJS.ErrnoException).code, "ENOSPC");
            } finally {
                fs.closeSync(fd);
            }
            const result = await run.done;
            fs.rmSync(path.join(volume, "filler"));
            assert.equal(result.code, 2, explain(result));
            assert.match(result.stderr, new RegExp(`ERROR: the scratch directory ${volume} filled up during the restore \\(\\d+ bytes free; the spool needs \\d+\\): .*free space or point TMPDIR at a larger volume \\(the target's tables were not touched\\)`), explain(result));
            assert.equal(sums(), before);
            assert.equal(pg.psql("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'oauth2_dr_stage%'", "diskfull"), "0");
            assert.deepEqual(fs.readdirSync(volume).filter((f) => f !== "lost+found"), []);
        } finally {
            spawnSync("umount", [volume]);
            fs.rmSync(volume, { recursive: true, force: true });
        }
    });
    it("a dump whose passphrase version no longer exists: the verification blames the backup (6, record failed_by backup), not its environment; restore.sh says the version is gone", async function () {
        const { pg, moto } = servers;
        createSecret(moto, "oauth2-trial/gone-passphrase", "passphrase whose version will be gone");
        const secretEnv = { ...scriptEnv(pg, moto, bucket, servers.passphrase), PASSPHRASE_FILE: "", BACKUP_PASSPHRASE_SECRET_ID: "oauth2-trial/gone-passphrase", BACKUP_PREFIX: "gone/" };
        const backup = await runScript("db-backup.sh", secretEnv);
        assert.equal(backup.code, 0, explain(backup));
        const key = backup.stdout.trim();
        // Secrets Manager deletes versions left without a staging label; it has no API to delete one: the
        // manifest names a version that does not exist instead, which reads the same (ResourceNotFoundException).
        const gone = "00000000-0000-4000-8000-000000000000";
        const m = servers.manifest(bucket, key);
        putObject(moto, bucket, key, JSON.stringify({ ...m, passphrase: { ...m.passphrase, version_id: gone } }));
        const verify = await runScript("restore-verification.sh", { ...secretEnv, BACKUP_PASSPHRASE_SECRET_ID: "", VERIFY_MANIFEST_KEY: key });
        assert.equal(verify.code, 6, explain(verify));
        const records = listKeys(moto, bucket, "gone/verifications/");
        assert.equal(records.length, 1, records.join(" "));
        const record = JSON.parse(getObject(moto, bucket, records[0]).toString("utf8"));
        assert.equal(record.result, "failed");
        assert.equal(record.failed_by, "backup");
        assert.match(record.reason, new RegExp(`version ${gone} is gone`));
        pg.createDatabase("gone");
        const restore = await runScript("restore.sh", { ...secretEnv, ...pg.env("gone"), BACKUP_PASSPHRASE_SECRET_ID: "" }, ["--yes", "--source-database", "oauth2db", "--manifest", key]);
        assert.equal(restore.code, 5, explain(restore));
        assert.match(restore.stderr, new RegExp(`ERROR: cannot read the backup passphrase \\S+ version ${gone} from Secrets Manager: .*\\(version ${gone} is gone: a dump of that version restores only with its passphrase from elsewhere, PASSPHRASE_FILE`), explain(restore));
    });
    it("Ctrl-C on a terminal while the staging tables are created: exit 130 and the run says so (its trap ran inside `psql_value ... 2>stage.err`: the FAILED line went to a file it then removed)", async function () {
        const { pg, moto, passphrase } = servers;
        pg.createDatabase("ctrlc");
        pg.psql(seedSql({ clients: 2, authorizations: 3, consents: 1 }), "ctrlc");
        const sums = () => Object.values(tableChecksums(pg, OAUTH2_TABLES, "ctrlc")).join("|");
        const before = sums();
        const scratch = tempDir("oauth2-dr-operator-trial-ctrlc-");
        const stderrFile = path.join(scratch, "stderr");
        // A terminal (pty) in front of restore.sh, its stderr to a file; ^C typed once the rows start loading.
        const driver = [
            "import os, pty, sys, time, select",
            // Created before the fork: the loop below reads it at once, maybe before the child has opened it.
            "open(sys.argv[1], 'w').close()",
            "pid, fd = pty.fork()",
            "if pid == 0:",
            "    os.dup2(os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_TRUNC), 2)",
            "    os.execvp('bash', ['bash'] + sys.argv[2:])",
            "sent = False",
            "while True:",
            "    r, _, _ = select.select([fd], [], [], 0.02)",
            "    if r:",
            "        try:",
            "            if not os.read(fd, 65536): break",
            "        except OSError: break",
            "    if not sent and 'into staging schemas with' in open(sys.argv[1], errors='replace').read():",
            "        os.write(fd, bytes([3])); sent = True",
            "print(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]), sent)",
        ].join("\n");
        // The staging tables' psql (run by the script's psql_value with its stderr to a file) is where the rows'
        // start waits; held here (a psql first on PATH) until the ^C's cleanup kills it or removes its stage.sql (at most
        // 60 s), so that the ^C surely lands in it: a fixed 3 s pause could be over before a loaded driver saw the line
        // and sent the ^C (the run then restored: exit 0). Its file, not only the kill: a ^C that came before the script
        // had noted the job (restore_note_job) left it to run on after the cleanup, on a spool that no longer exists.
        const shims = tempDir("oauth2-dr-operator-trial-shim-");
        fs.writeFileSync(path.join(shims, "psql"), `#!/usr/bin/env bash
if [[ "$*" == *stage.sql* ]]; then
    for arg; do [[ "$arg" != *stage.sql ]] || stage=$arg; done
    for _ in $(seq 600); do [[ -e "$stage" ]] || break; sleep 0.1; done
fi
exec ${path.join(PG_BIN, "psql")} "$@"
`, { mode: 0o755 });
        const env = baseEnv({ ...scriptEnv(pg, moto, bucket, passphrase, "ctrlc"), TMPDIR: scratch, PATH: `${shims}:${PG_BIN}:${process.env.PATH ?? "/usr/bin:/bin"}` });
        const out = spawnSync(env.AWS_HELPER_PYTHON ?? "python3", ["-c", driver, stderrFile, path.join(SCRIPTS, "restore.sh"), "--yes", "--source-database", "oauth2db"], { env, encoding: "utf8", timeout: 120_000 });
        const stderr = fs.readFileSync(stderrFile, "utf8");
        try {
            assert.equal(out.stdout.trim(), "130 True", `${out.stdout}${out.stderr}\n${stderr}`);
            assert.match(stderr, /restore: FAILED with exit code 130\n$/, stderr);
            // What state the target is in, said before the FAILED line (h32-oncall: the run said only "FAILED with
            // exit code 130", and the operator had to guess whether the database was half restored).
            assert.match(stderr, /restore: interrupted before the swap: nothing was committed, the tables of 127\.0\.0\.1:\d+\/ctrlc are as they were and the staging schemas and scratch files are removed; run the same command again to restore\n\S+ restore: FAILED with exit code 130\n$/, stderr);
            assert.equal(sums(), before);
            assert.equal(pg.psql("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'oauth2_dr_stage%'", "ctrlc"), "0");
            assert.deepEqual(fs.readdirSync(scratch), ["stderr"]);
            // Run again, as the line says: it restores (nothing of the interrupted run is in its way).
            const again = await runScript("restore.sh", scriptEnv(pg, moto, bucket, passphrase, "ctrlc"), ["--yes", "--source-database", "oauth2db"]);
            assert.equal(again.code, 0, explain(again));
            // And says what the database now holds: the dump's snapshot, later writes not in it.
            const manifest = JSON.parse(getObject(moto, bucket, again.stdout.trim()).toString("utf8")) as { started_at: string };
            assert.match(again.stderr, new RegExp(`restore: restored \\S+ into 127\\.0\\.0\\.1:\\d+/ctrlc: the database as it was at ${manifest.started_at} \\(pg_dump's snapshot\\); what was written after that is not in it\n`), explain(again));
            assert.notEqual(sums(), before);
        } finally {
            fs.rmSync(scratch, { recursive: true, force: true });
            fs.rmSync(shims, { recursive: true, force: true });
        }
    });
});
