/**
 * db-backup.sh under operator faults: a table locked by another session (inside and outside oauth2_*), the
 * run terminated while it waits for that lock, two overlapping runs and latest.json, a BUCKET given as a URL,
 * a passphrase file with CRLF line ends. Real PostgreSQL 15 and moto, started here on 127.0.0.1.
 */
import { strict as assert } from "assert";
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { EXTRA_OBJECTS_SQL, seedSql } from "../../tools/sandbox/oauth2-schema";
import { BASH_C, copyBackup, explain, getObject, killRun, listKeys, putObject, runScript, scriptEnv, ScriptResult, startScript, timedRun, useScriptServers, waitForStderr } from "../../tools/sandbox/scripts";
import { LOCALHOST, MotoServer, PG_BIN, PgServer } from "../../tools/sandbox/servers";
import { recordingCurl } from "../support/shims";

const SIZE = { clients: 6, authorizations: 40, consents: 8 };
const DB = "faults";

interface Lock {
    pid: number;
    release(): Promise<void>;
}


describe("db-backup.sh under operator faults", function () {
    this.timeout(600_000);
    let pg: PgServer;
    let moto: MotoServer;
    let dir: string;
    let passphrase: string;
    const servers = useScriptServers("oauth2-dr-faults-test-", "faults test passphrase");
    const newBucket = () => servers.newBucket("oauth2-faults");
    const env = (bucket: string, extra: Record<string, string> = {}) => ({ ...scriptEnv(pg, moto, bucket, passphrase, DB), ...extra });
    const held: Lock[] = [];

    before(function () {
        ({ pg, moto, dir, passphrase } = servers);
        pg.createDatabase(DB);
        pg.psql(seedSql(SIZE) + EXTRA_OBJECTS_SQL, DB);
    });

    afterEach(async function () {
        await Promise.all(held.splice(0).map((lock) => lock.release()));
    });

    /**
     * Another session (psql, application_name `app`) that holds ACCESS EXCLUSIVE on `table` in an open
     * transaction until released, as a migration or an idle transaction after an ALTER does.
     */
    function holdLock(table: string, app: string): Promise<Lock> {
        const child = spawn(path.join(PG_BIN, "psql"), ["-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-d", DB], {
            env: { ...process.env, ...pg.env(DB), PGAPPNAME: app },
            stdio: ["pipe", "pipe", "inherit"],
        });
        const closed = new Promise<void>((resolve) => child.once("close", () => resolve()));
        child.stdin!.write(`BEGIN; LOCK TABLE ${table} IN ACCESS EXCLUSIVE MODE; SELECT pg_backend_pid();\n`);
        return new Promise((resolve, reject) => {
            let out = "";
            child.once("close", () => reject(new Error(`the locking session ended: ${out}`)));
            // A lock that is never granted fails the test naming who holds the table, instead of a silent wait.
            const stuck = setTimeout(() => {
                child.kill("SIGKILL");
                reject(new Error(`no ACCESS EXCLUSIVE lock on ${table} after 60 s; its locks: ${pg.psql(`SELECT coalesce(string_agg(l.pid || ' ' || l.mode || ' ' || l.granted || ' ' || coalesce(a.application_name, '') || ' ' || coalesce(a.backend_type, ''), '; '), 'none') FROM pg_locks l LEFT JOIN pg_stat_activity a USING (pid) WHERE l.relation = '${table}'::regclass`, DB)}`));
            }, 60_000);
            child.stdout!.on("data", (d) => {
                out += d;
                const pid = /^(\d+)$/m.exec(out);
                if (pid) {
                    clearTimeout(stuck);
                    const lock = {
                        pid: Number(pid[1]),
                        release: async () => {
                            child.stdin!.end("ROLLBACK;\n");
                            await closed;
                        },
                    };
                    held.push(lock);
                    resolve(lock);
                }
            });
        });
    }

    /** Client sessions on the database other than the lock holder's (and the query's own). */
    function otherSessions(holder: number): string {
        return pg.psql(`SELECT coalesce(string_agg(pid || ' ' || application_name || ' ' || coalesce(state, '') || ' ' || left(query, 60), '; '), '')
            FROM pg_stat_activity WHERE datname = '${DB}' AND backend_type = 'client backend' AND pid NOT IN (pg_backend_pid(), ${holder})`, "postgres");
    }

    /** A run that must end by itself; a run still waiting after `seconds` is stopped and reported. */
    async function runBounded(bucket: string, extra: Record<string, string>, seconds: number): Promise<ScriptResult> {
        const run = startScript("db-backup.sh", env(bucket, extra));
        const guard = setTimeout(() => run.child.kill("SIGTERM"), seconds * 1000);
        const result = await run.done;
        clearTimeout(guard);
        assert.notEqual(result.code, 143, `still waiting after ${seconds} s, stopped:\n${explain(result)}`);
        return result;
    }

    describe("a table locked by another session", function () {
        it("outside oauth2_*: exit 3 after BACKUP_LOCK_TIMEOUT, naming the table, the holder's pid, application, client and since when, and the statement that ends it; no session left", async function () {
            const lock = await holdLock("public.app_user", "billing-migration");
            const bucket = newBucket();
            // The holder's client address as pg_stat_activity has it: the message reads it, never guesses it.
            const client = pg.psql(`SELECT host(client_addr) || ':' || client_port FROM pg_stat_activity WHERE pid = ${lock.pid}`, DB);
            const result = await runBounded(bucket, { BACKUP_LOCK_TIMEOUT: "2" }, 90);
            assert.equal(result.code, 3, explain(result));
            assert.match(result.stderr, new RegExp(`ERROR: pg_dump of 127\\.0\\.0\\.1:\\d+/${DB} failed: no ACCESS SHARE lock on public\\.app_user within 2 s \\(BACKUP_LOCK_TIMEOUT\\): `
                + `table app_user is held in ACCESS EXCLUSIVE mode by pid ${lock.pid} \\(application_name 'billing-migration', user postgres, client ${client.replace(/\./g, "\\.")}, state idle in transaction, transaction since \\S+Z, connected since \\S+Z\\): `
                + `to end it \\(its transaction is rolled back\\), SELECT pg_terminate_backend\\(${lock.pid}\\)$`, "m"));
            assert.deepEqual(listKeys(moto, bucket, "database/manifests/"), []);
            assert.equal(otherSessions(lock.pid), "");
        });

        it("an oauth2_* table: the same, not 'cannot count' after a minute", async function () {
            const lock = await holdLock("public.oauth2_authorization", "token-cleanup-job");
            const result = await runBounded(newBucket(), { BACKUP_LOCK_TIMEOUT: "2" }, 50);
            assert.equal(result.code, 3, explain(result));
            assert.match(result.stderr, new RegExp(`ERROR: .*no ACCESS SHARE lock on public\\.oauth2_authorization within 2 s \\(BACKUP_LOCK_TIMEOUT\\): `
                + `table oauth2_authorization is held in ACCESS EXCLUSIVE mode by pid ${lock.pid} \\(application_name 'token-cleanup-job', user postgres, client 127\\.0\\.0\\.1:\\d+, state idle in transaction, .*\\): to end it \\(its transaction is rolled back\\), SELECT pg_terminate_backend\\(${lock.pid}\\)`));
            assert.doesNotMatch(result.stderr, /cannot count/);
            assert.equal(otherSessions(lock.pid), "");
        });

        // SIGINT takes the same path (trap 'exit 130'), but cannot be tested from a runner started in the
        // background: a non-interactive shell cannot trap a signal that was ignored when it started.
        // oauth2_*: the counting session is the one queued (it stayed queued, and the run waited for it); the
        // other table: pg_dump's own session, which pg_dump cancels itself when terminated (a guard that the
        // run's cleanup keeps it so).
        for (const [signal, code, table] of [["SIGTERM", 143, "public.oauth2_authorization"], ["SIGTERM", 143, "public.app_user"]] as const) {
            it(`${signal} while queued on the lock (${table}): exit ${code}, and the run's server sessions are gone`, async function () {
                const lock = await holdLock(table, "schema-migration");
                const run = startScript("db-backup.sh", env(newBucket(), { BACKUP_LOCK_TIMEOUT: "600" }));
                // Queued: a backend of the run waits for a lock on the table.
                for (let waited = 0; ; waited += 200) {
                    const queued = pg.psql(`SELECT count(*) FROM pg_locks l WHERE NOT granted AND relation = '${table}'::regclass`, DB);
                    if (queued !== "0") {
                        break;
                    }
                    if (waited > 120_000 || run.child.exitCode !== null) {
                        run.child.kill("SIGTERM");
                        assert.fail(`the run never queued on the lock:\n${explain(await run.done)}`);
                    }
                    await new Promise((r) => setTimeout(r, 200));
                }
                run.child.kill(signal);
                const result = await run.done;
                assert.equal(result.code, code, explain(result));
                assert.equal(otherSessions(lock.pid), "");
                assert.equal(pg.psql("SELECT count(*) FROM pg_locks WHERE NOT granted", DB), "0");
            });
        }

        it("SIGKILL of the whole run while queued on the lock: the server ends the run's sessions by itself", async function () {
            const lock = await holdLock("public.oauth2_authorization", "schema-migration");
            // No trap runs after SIGKILL: the scratch dir goes with `tmp`.
            const tmp = fs.mkdtempSync(path.join(dir, "tmp-"));
            const run = startScript("db-backup.sh", env(newBucket(), { BACKUP_LOCK_TIMEOUT: "600", TMPDIR: tmp }), [], { detached: true });
            try {
                await waitForStderr(run, /uploading/, 120_000);
                for (let waited = 0; pg.psql("SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = 'public.oauth2_authorization'::regclass", DB) === "0"; waited += 200) {
                    assert.ok(waited < 120_000, "the run never queued on the lock");
                    await new Promise((r) => setTimeout(r, 200));
                }
                // Like a container kill: every process of the run (tools/sandbox/scripts.ts killRun).
                await killRun(run);
                // The server checks every 10 s that the client of a waiting query is still there
                // (client_connection_check_interval, PostgreSQL 14+); without it they wait for the lock forever.
                let left = otherSessions(lock.pid);
                for (let waited = 0; left !== "" && waited < 90_000; waited += 500) {
                    await new Promise((r) => setTimeout(r, 500));
                    left = otherSessions(lock.pid);
                }
                assert.equal(left, "", "sessions of the killed run are still on the server");
            } finally {
                await killRun(run);
                fs.rmSync(tmp, { recursive: true, force: true });
            }
        });

        it("a lock released within the timeout: the backup waits for it and succeeds", async function () {
            const lock = await holdLock("public.oauth2_registered_client", "short-migration");
            const run = startScript("db-backup.sh", env(newBucket(), { BACKUP_LOCK_TIMEOUT: "600" }));
            await waitForStderr(run, /uploading/, 120_000);
            await lock.release();
            const result = await run.done;
            assert.equal(result.code, 0, explain(result));
        });

        /** The names of the run's live processes (the script's and its descendants'), from /proc. */
        function runProcesses(root: number): string[] {
            const parent = new Map<number, number>();
            const name = new Map<number, string>();
            for (const entry of fs.readdirSync("/proc").filter((e) => /^\d+$/.test(e))) {
                try {
                    const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
                    const [state, ppid] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
                    parent.set(Number(entry), Number(ppid));
                    if (state !== "Z") {
                        // A zombie holds no memory (the passphrase's printf under gpg, reaped when gpg ends).
                        name.set(Number(entry), stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")")));
                    }
                } catch {
                    // ended meanwhile
                }
            }
            const inRun = (pid: number): boolean => pid === root || (parent.has(pid) && pid > 1 && inRun(parent.get(pid)!));
            return [...name.keys()].filter(inRun).map((pid) => name.get(pid)!);
        }

        it("a lock held across pg_dump's lock-wait steps: said with its holder, no process beside the dump meanwhile, then one dump of the snapshot taken before the wait", async function () {
            const lock = await holdLock("public.app_user", "long-migration");
            const bucket = newBucket();
            const run = startScript("db-backup.sh", env(bucket, { BACKUP_LOCK_TIMEOUT: "600" }));
            await waitForStderr(run, new RegExp(`waiting for an ACCESS SHARE lock on app_user, held by pid ${lock.pid} \\(application_name 'long-migration', user postgres, state idle in transaction, query since \\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}Z\\): to end it \\(its transaction is rolled back\\), SELECT pg_terminate_backend\\(${lock.pid}\\) \\(\\d+s since the dump started; at most BACKUP_LOCK_TIMEOUT=600 s\\)`), 60_000);
            // Committed after the snapshot, while the dump waits: not in the dump, however many steps it took.
            pg.psql("INSERT INTO audit.login_event (principal) VALUES ('after-the-snapshot')", DB);
            // The wait is pg_dump's own (--lock-wait-timeout, in steps): no watcher beside it (it was a bash loop
            // with a sleep and, at its checks, a psql: ~5-14 MB more at the backup's peak). The fewest of each
            // over a dozen looks: the announcement's own short-lived subshells and psql come and go.
            const fewest = new Map<string, number>();
            for (let i = 0; i < 12; i++) {
                const names = runProcesses(run.child.pid!);
                for (const n of ["bash", "sleep", "psql", "pg_dump"]) {
                    const count = names.filter((x) => x === n).length;
                    fewest.set(n, Math.min(fewest.get(n) ?? Infinity, count));
                }
                await new Promise((r) => setTimeout(r, 150));
            }
            // bash: the script, the pipeline's subshell, its pg_dump stage, the upload's; psql: the snapshot's.
            assert.deepEqual(Object.fromEntries(fewest), { bash: 4, sleep: 0, psql: 1, pg_dump: 1 });
            await waitForStderr(run, /\((1[5-9]|2\d)s since the dump started/, 60_000);
            await lock.release();
            const result = await run.done;
            assert.equal(result.code, 0, explain(result));
            assert.equal(result.stderr.match(/waiting for an ACCESS SHARE lock on app_user/g)?.length, 2, result.stderr);
            const manifest = JSON.parse(getObject(moto, bucket, result.stdout.trim()).toString());
            fs.writeFileSync(path.join(dir, "consistent.dump.gpg"), getObject(moto, bucket, manifest.object_key));
            // Decrypted to a file first: pg_restore -t stops reading once its table is out, and a pipe into it then
            // ends gpg or zstd with SIGPIPE (141 under pipefail, one CI run in a few).
            const rows = spawnSync("bash", [...BASH_C, `set -o pipefail; gpg --batch --quiet --pinentry-mode loopback --passphrase-file "$1" -d "$2" | zstd -dc >"$2.dump" && "$3" -f - --data-only -n audit -t login_event "$2.dump"`,
                "-", passphrase, path.join(dir, "consistent.dump.gpg"), path.join(PG_BIN, "pg_restore")], { encoding: "utf8" });
            assert.equal(rows.status, 0, rows.stderr);
            assert.equal(rows.stdout.split("\n").filter((l) => /^\d+\tuser-/.test(l)).length, 30, rows.stdout);
            assert.doesNotMatch(rows.stdout, /after-the-snapshot/);
        });

        it("a row count queued behind a migration that queues behind pg_dump's lock: said with the migration's pid, then the backup completes", async function () {
            // pg_dump holds its ACCESS SHARE locks (its stream held by a gate: a full pipe), an ALTER TABLE queues
            // behind it, and the count of that table (held back by a second gate until then) queues behind the ALTER.
            const db = "countwait";
            pg.createDatabase(db);
            // More than a pipe holds (the dump is uncompressed): pg_dump blocks on its write, its locks held.
            pg.psql(seedSql(SIZE) + "CREATE TABLE public.bulk AS SELECT g, repeat('x', 200) AS pad FROM generate_series(1, 5000) g;", db);
            const shims = fs.mkdtempSync(path.join(dir, "countwait-"));
            const dumpGate = path.join(shims, "dump-open");
            const countGate = path.join(shims, "count-open");
            fs.writeFileSync(path.join(shims, "pg_dump"), `#!/usr/bin/env bash
[[ "\${1:-}" == --version ]] && exec ${PG_BIN}/pg_dump "$@"
set -o pipefail
${PG_BIN}/pg_dump "$@" | { while [[ ! -e ${dumpGate} ]]; do sleep 0.1; done; cat; }\n`, { mode: 0o755 });
            // The snapshot's session (the coprocess: exactly these arguments) gets its first count only once the gate opens.
            fs.writeFileSync(path.join(shims, "psql"), `#!/usr/bin/env bash
if [[ "$*" == "-X -q -At -v ON_ERROR_STOP=1" ]]; then
    exec ${PG_BIN}/psql "$@" < <(while IFS= read -r line || [[ -n "$line" ]]; do
        if [[ "$line" == *'SELECT count(*) FROM "'* ]]; then while [[ ! -e ${countGate} ]]; do sleep 0.1; done; fi
        printf '%s\\n' "$line"
    done)
fi
exec ${PG_BIN}/psql "$@"\n`, { mode: 0o755 });
            const table = "public.oauth2_registered_client";
            const bucket = newBucket();
            const run = startScript("db-backup.sh", { ...scriptEnv(pg, moto, bucket, passphrase, db), BACKUP_LOCK_TIMEOUT: "600", EXTRA_PATH: shims });
            let alter: ReturnType<typeof spawn> | undefined;
            try {
                const locks = (where: string) => pg.psql(`SELECT coalesce(string_agg(pid::text, ' '), '') FROM pg_locks WHERE relation = '${table}'::regclass AND ${where}`, db);
                for (let waited = 0; locks("granted AND mode = 'AccessShareLock'") === ""; waited += 100) {
                    assert.ok(waited < 60_000 && run.child.exitCode === null, `pg_dump never held its lock:\n${run.child.exitCode === null ? "" : explain(await run.done)}`);
                    await new Promise((r) => setTimeout(r, 100));
                }
                alter = spawn(path.join(PG_BIN, "psql"), ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", db, "-c", `ALTER TABLE ${table} ADD COLUMN countwait_note text`],
                    { env: { ...process.env, ...pg.env(db), PGAPPNAME: "schema-migration" }, stdio: "ignore" });
                const altered = new Promise<number | null>((resolve) => alter!.once("close", (code) => resolve(code)));
                let migration = "";
                for (let waited = 0; (migration = locks("NOT granted AND mode = 'AccessExclusiveLock'")) === ""; waited += 100) {
                    assert.ok(waited < 30_000, "the ALTER TABLE never queued");
                    await new Promise((r) => setTimeout(r, 100));
                }
                const announced = waitForStderr(run, new RegExp(`counting the rows of ${table.replace(".", "\\.")} waits for an ACCESS SHARE lock on oauth2_registered_client, held by pid ${migration} `
                    + `\\(application_name 'schema-migration', user postgres, state active, query since \\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}Z\\) \\(waiting for it, ahead of the backup\\): `
                    + `to end it \\(its transaction is rolled back\\), SELECT pg_terminate_backend\\(${migration}\\) \\(\\d+s; at most BACKUP_LOCK_TIMEOUT=600 s\\)`), 30_000);
                fs.writeFileSync(countGate, "");
                await announced;
                fs.writeFileSync(dumpGate, "");
                const result = await run.done;
                assert.equal(result.code, 0, explain(result));
                assert.equal(await altered, 0);
                assert.equal(result.stderr.match(/counting the rows of/g)?.length, 1, result.stderr);
                // The count went on once the ALTER was through (a plain ADD COLUMN: no rewrite the snapshot would miss).
                assert.equal(String(servers.manifest(bucket, result.stdout.trim()).row_counts.oauth2_registered_client), pg.psql(`SELECT count(*) FROM ${table}`, db));
            } finally {
                fs.writeFileSync(countGate, "");
                fs.writeFileSync(dumpGate, "");
                alter?.kill();
                if (run.child.exitCode === null) {
                    run.child.kill("SIGTERM");
                }
                await run.done;
            }
        });

        it("pg_dump's session ended by the server while it waits for a lock: exit 3 with pg_dump's own error at once, not taken for a lock timeout", async function () {
            const lock = await holdLock("public.app_user", "long-migration");
            const run = startScript("db-backup.sh", env(newBucket(), { BACKUP_LOCK_TIMEOUT: "600" }));
            for (let waited = 0; pg.psql("SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = 'public.app_user'::regclass", DB) === "0"; waited += 100) {
                assert.ok(waited < 120_000 && run.child.exitCode === null, "the run never queued on the lock");
                await new Promise((r) => setTimeout(r, 100));
            }
            pg.psql("SELECT pg_terminate_backend(pid) FROM pg_locks WHERE NOT granted AND relation = 'public.app_user'::regclass", DB);
            const result = await run.done;
            await lock.release();
            assert.equal(result.code, 3, explain(result));
            assert.match(result.stderr, /ERROR: pg_dump of 127\.0\.0\.1:\d+\/faults failed: .*terminating connection due to administrator command/, result.stderr);
            assert.doesNotMatch(result.stderr, /waiting for an ACCESS SHARE lock|no ACCESS SHARE lock/);
        });

        it("BACKUP_LOCK_TIMEOUT that is not a number of seconds: usage error (2) before any work", async function () {
            const result = await timedRun("with BACKUP_LOCK_TIMEOUT=2m", "db-backup.sh", env(newBucket(), { BACKUP_LOCK_TIMEOUT: "2m" }));
            assert.equal(result.code, 2, explain(result));
            assert.match(result.stderr, /ERROR: BACKUP_LOCK_TIMEOUT must be a whole number of seconds, at least 1, not 2m$/m);
        });
    });

    it("two overlapping backups: latest.json ends on the newer one, whichever finishes last", async function () {
        const bucket = newBucket();
        // The older run (started first) is held after its dump until the newer one has finished.
        const shims = fs.mkdtempSync(path.join(dir, "gate-"));
        const gate = path.join(shims, "open");
        fs.writeFileSync(path.join(shims, "pg_dump"), `#!/usr/bin/env bash
[[ "\${1:-}" == --version ]] && exec ${PG_BIN}/pg_dump "$@"
${PG_BIN}/pg_dump "$@" || exit
while [[ ! -e ${gate} ]]; do sleep 0.1; done\n`, { mode: 0o755 });
        const older = startScript("db-backup.sh", env(bucket, { EXTRA_PATH: shims }));
        await waitForStderr(older, /uploading/, 120_000);
        const newer = await runScript("db-backup.sh", env(bucket));
        assert.equal(newer.code, 0, explain(newer));
        fs.writeFileSync(gate, "");
        const olderResult = await older.done;
        assert.equal(olderResult.code, 0, explain(olderResult));
        const newerKey = newer.stdout.trim();
        const olderKey = olderResult.stdout.trim();
        assert.ok(olderKey < newerKey, `${olderKey} should sort before ${newerKey}`);
        assert.deepEqual(listKeys(moto, bucket, "database/manifests/"), [olderKey, newerKey]);
        assert.equal(servers.manifest(bucket, "database/latest.json").object_key, servers.manifest(bucket, newerKey).object_key);
        assert.match(olderResult.stderr, /database\/latest\.json already names a newer backup \(database\/faults-\S+\.dump\.gpg\): left as it is/);
        // A later run moves it forwards again.
        const third = await runScript("db-backup.sh", env(bucket));
        assert.equal(third.code, 0, explain(third));
        assert.equal(servers.manifest(bucket, "database/latest.json").object_key, servers.manifest(bucket, third.stdout.trim()).object_key);
    });

    it("BUCKET given as s3://bucket/prefix: usage error (2) naming the variable, before any work, in every script that reads it", async function () {
        const bucket = newBucket();
        const scripts: [string, string[], Record<string, string>][] = [
            ["db-backup.sh", [], {}],
            ["restore.sh", ["--yes"], {}],
            ["restore-verification.sh", [], {}],
            ["client-config-export.sh", [], {}],
            ["secrets-export.sh", [], {}],
            ["app-config-export.sh", [], {}],
            ["validate-service.sh", [], { ISSUER: "https://auth.example.com", SMOKE_CLIENT_SECRET_ID: "oauth2/smoke" }],
        ];
        for (const [script, args, extra] of scripts) {
            const result = await timedRun("with BUCKET=s3://...", script, env(`s3://${bucket}/database/`, extra), args);
            assert.equal(result.code, 2, `${script}: ${explain(result)}`);
            assert.match(result.stderr, new RegExp(`ERROR: BUCKET must be a bucket name, not 's3://${bucket}/database/': set BUCKET=${bucket} and BACKUP_PREFIX=database/`), script);
            assert.doesNotMatch(result.stderr, /uploading|restoring |NoSuchBucket|Invalid bucket/, script);
        }
        const arn = await runScript("db-backup.sh", env(`arn:aws:s3:::${bucket}`));
        assert.equal(arn.code, 2, explain(arn));
        assert.match(arn.stderr, new RegExp(`set BUCKET=${bucket}$`, "m"));
        assert.deepEqual(listKeys(moto, bucket, ""), []);
    });

    it("h36 trial: a passphrase file whose line ends with a space or a tab (a paste): a warning on backup, and restore.sh's 'Bad session key' says they are the cause and how to remove them (was: no word)", async function () {
        const bucket = newBucket();
        const secret = fs.readFileSync(passphrase, "utf8").trimEnd();
        const spaced = path.join(dir, "passphrase-space");
        fs.writeFileSync(spaced, `${secret} \n`, { mode: 0o600 });
        const fix = (file: string) => `sed -i '1s/\\[\\[:space:\\]\\]\\*\\$//' ${file}`;
        const backedUp = await runScript("db-backup.sh", env(bucket));
        assert.equal(backedUp.code, 0, explain(backedUp));
        pg.createDatabase("faults_space");
        const restore = await runScript("restore.sh", { ...env(bucket, { PASSPHRASE_FILE: spaced }), PGDATABASE: "faults_space" }, ["--yes", "--source-database", DB]);
        assert.equal(restore.code, 5, explain(restore));
        assert.match(restore.stderr, new RegExp(`PASSPHRASE_FILE ${spaced} \\(its line ends with a trailing space: read as part of the passphrase\\)\\) does not decrypt s3://\\S+: decryption failed: Bad session key; `
            + `PASSPHRASE_FILE ${spaced} ends its line with a trailing space, read as part of the passphrase; without them it does decrypt this dump: remove them \\(${fix(spaced)}\\) and run again$`, "m"));
        // A backup with it says so at once; a tab too. The passphrase itself is never in a message.
        const withSpace = await runScript("db-backup.sh", env(bucket, { PASSPHRASE_FILE: spaced }));
        assert.equal(withSpace.code, 0, explain(withSpace));
        assert.match(withSpace.stderr, new RegExp(`warning: PASSPHRASE_FILE ${spaced} ends its first line with a trailing space: used as the end of the passphrase; if not part of it, remove them: ${fix(spaced)}$`, "m"));
        const tabbed = path.join(dir, "passphrase-tab");
        fs.writeFileSync(tabbed, `${secret}\t\n`, { mode: 0o600 });
        const withTab = await runScript("db-backup.sh", env(bucket, { PASSPHRASE_FILE: tabbed }));
        assert.equal(withTab.code, 0, explain(withTab));
        assert.match(withTab.stderr, new RegExp(`warning: PASSPHRASE_FILE ${tabbed} ends its first line with a trailing tab: `));
        for (const result of [restore, withSpace, withTab]) {
            assert.ok(!result.stderr.includes(secret) && !result.stdout.includes(secret), "the passphrase is never printed");
        }
    });

    it("a passphrase file with CRLF line ends: a warning on backup, and a restore's 'Bad session key' says whether the \\r is the cause", async function () {
        const bucket = newBucket();
        const crlf = path.join(dir, "passphrase-crlf");
        fs.writeFileSync(crlf, `${fs.readFileSync(passphrase, "utf8").trimEnd()}\r\n`, { mode: 0o600 });
        // Backed up with the clean file; the operator restores with a copy saved on Windows.
        const backedUp = await runScript("db-backup.sh", env(bucket));
        assert.equal(backedUp.code, 0, explain(backedUp));
        pg.createDatabase("faults_crlf");
        const restore = await runScript("restore.sh", { ...env(bucket, { PASSPHRASE_FILE: crlf }), PGDATABASE: "faults_crlf" }, ["--yes", "--source-database", DB]);
        assert.equal(restore.code, 5, explain(restore));
        assert.match(restore.stderr, new RegExp(`PASSPHRASE_FILE ${crlf} \\(its line ends with a carriage return, CRLF: read as part of the passphrase\\)\\) does not decrypt s3://\\S+: decryption failed: Bad session key`));
        // The verification (lib.sh's probe) also says whether the passphrase without the \r decrypts the dump.
        const verify = await runScript("restore-verification.sh", env(bucket, { PASSPHRASE_FILE: crlf }));
        assert.equal(verify.code, 5, explain(verify));
        assert.match(verify.stderr, new RegExp(`decryption failed: Bad session key; PASSPHRASE_FILE ${crlf} ends its line with a carriage return \\(CRLF line ends\\), read as part of the passphrase; `
            + `without the \\\\r it does decrypt this dump: convert the file \\(sed -i 's/\\\\r\\$//' ${crlf}\\) and run again`));
        // A backup with the CRLF file says so at once.
        const withCrlf = await runScript("db-backup.sh", env(bucket, { PASSPHRASE_FILE: crlf }));
        assert.equal(withCrlf.code, 0, explain(withCrlf));
        assert.match(withCrlf.stderr, new RegExp(`warning: PASSPHRASE_FILE ${crlf} ends its first line with a carriage return \\(CRLF line ends`));
        // ...and a wrong passphrase that is not only the \r says that too.
        const wrong = path.join(dir, "passphrase-wrong-crlf");
        fs.writeFileSync(wrong, "not the passphrase\r\n", { mode: 0o600 });
        const wrongVerify = await runScript("restore-verification.sh", env(bucket, { PASSPHRASE_FILE: wrong }));
        assert.equal(wrongVerify.code, 5, explain(wrongVerify));
        assert.match(wrongVerify.stderr, /without the \\r it does not decrypt either$/m);
    });

    describe("restore-verification.sh names what failed: the backup, or its own environment", function () {
        let bucket: string;
        before(async function () {
            bucket = newBucket();
            const result = await runScript("db-backup.sh", env(bucket));
            assert.equal(result.code, 0, explain(result));
        });

        function item(result: ScriptResult, name: string): string {
            const found = result.stdout.split("\n").find((l) => l.startsWith(`PASS ${name}:`) || l.startsWith(`FAIL ${name}:`));
            assert.ok(found, `no line for "${name}" in:\n${explain(result)}`);
            return found;
        }

        /** A pg_restore on PATH that first runs `body` when it writes SQL (-f -), as the verification's does. */
        function pgRestoreShim(body: string): string {
            const shims = fs.mkdtempSync(path.join(dir, "pg-restore-"));
            fs.writeFileSync(path.join(shims, "pg_restore"), `#!/usr/bin/env bash\nif [[ " $* " == *" -f - "* ]]; then\n${body}\nfi\nexec ${PG_BIN}/pg_restore "$@"\n`, { mode: 0o755 });
            return shims;
        }

        it("the connection killed during the restore: database side (3), the backup's integrity checked by the same pass and PASS", async function () {
            // The verification loads with restore.sh's pass: its COPY sessions (application_name
            // oauth2-dr-verify:<run>) are connected while pg_restore of the rows waits for the test's gate (at most 60 s;
            // a fixed 2 s wait was both slower and, on a loaded machine, once over before they were seen); they are ended then.
            const gate = path.join(dir, `gate-${process.pid}-killed-conn`);
            const shims = pgRestoreShim(`if [[ " $* " == *" -a "* ]]; then for _ in $(seq 600); do [[ -e ${gate} ]] && break; sleep 0.1; done; fi`);
            const run = startScript("restore-verification.sh", env(bucket, { EXTRA_PATH: shims, VERIFY_DATABASE: "verify_killed_conn" }));
            const loading = () => pg.psql("SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'oauth2-dr-verify:%' AND backend_type = 'client backend' AND datname = 'verify_killed_conn'", "postgres");
            try {
                for (let i = 0; i < 600 && loading() !== "2"; i++) {
                    await new Promise((resolve) => setTimeout(resolve, 100));
                }
                assert.equal(loading(), "2", "the verification's two COPY sessions never connected");
                pg.psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE 'oauth2-dr-verify:%'", "postgres");
            } finally {
                fs.writeFileSync(gate, "");
            }
            const result = await run.done;
            assert.equal(result.code, 3, explain(result));
            assert.match(item(result, "backup completed successfully"), /^PASS /);
            assert.match(item(result, "backup size is expected"), /^PASS /);
            assert.match(item(result, "restore to test instance works"),
                /^FAIL restore to test instance works: the database refused the restore into verify_killed_conn on 127\.0\.0\.1:\d+\/verify_killed_conn \(database side, rolled back\): FATAL: +terminating connection due to administrator command/);
            // The pass reads the whole object whatever the load does: no second download.
            assert.match(item(result, "data integrity verified"), /^PASS data integrity verified: sha256 [0-9a-f]{64} matches the manifest; decrypted and authenticated$/);
            assert.match(item(result, "all tables present with expected row counts"), /^FAIL .*not checked: the restore failed/);
            assert.match(item(result, "test instance cleaned up"), /^PASS .*verify_killed_conn dropped/);
            assert.doesNotMatch(result.stdout, /Broken pipe|gpg could not decrypt|download of .* failed/);
            assert.equal(pg.databaseExists("verify_killed_conn"), false);
        });

        it("pg_restore refusing the archive: database side (3), pg_restore's own message, integrity PASS", async function () {
            const shims = pgRestoreShim("echo 'pg_restore: error: unsupported version (1.99) in file header' >&2; exit 1");
            // The decompression has more to write than the pipes hold once pg_restore is gone (4 MiB more here; a
            // real dump's data is larger than a pipe): it dies of SIGPIPE, which is pg_restore's failure to report,
            // not a corrupt dump (it was exit 6, "its decompression (zstd) failed: no error message", 1 run in 3).
            const zstd = spawnSync("bash", [...BASH_C, "command -v zstd"], { encoding: "utf8" }).stdout.trim();
            fs.writeFileSync(path.join(shims, "zstd"), `#!/usr/bin/env bash\n${zstd} "$@" || exit $?\nhead -c 4194304 /dev/zero\n`, { mode: 0o755 });
            const result = await runScript("restore-verification.sh", env(bucket, { EXTRA_PATH: shims }));
            assert.equal(result.code, 3, explain(result));
            assert.match(item(result, "restore to test instance works"), /^FAIL restore to test instance works: pg_restore failed \(database side, rolled back\): unsupported version \(1\.99\) in file header$/);
            assert.match(item(result, "data integrity verified"), /^PASS /);
        });

        it("the manifests are listed once: the size check's previous backup comes from the listing that found the newest", async function () {
            const own = newBucket();
            for (let i = 0; i < 2; i++) {
                const backup = await runScript("db-backup.sh", env(own));
                assert.equal(backup.code, 0, explain(backup));
            }
            const shims = fs.mkdtempSync(path.join(dir, "curl-"));
            const calls = recordingCurl(shims);
            const result = await runScript("restore-verification.sh", env(own, { EXTRA_PATH: shims }));
            assert.equal(result.code, 0, explain(result));
            assert.match(item(result, "backup size is expected"), /^PASS backup size is expected: \d+ bytes stored, as the manifest says \(previous backup: \d+ bytes stored\)$/);
            const listings = fs.readFileSync(calls, "utf8").split("\n").filter((l) => l.includes("http://aws-helper/s3/keys"));
            assert.equal(listings.length, 1, listings.join("\n"));
        });

        it("the passphrase cannot be loaded (its probe would run while the size is checked): exit 5, the size still decided, nothing created", async function () {
            const result = await runScript("restore-verification.sh", env(bucket, { PASSPHRASE_FILE: path.join(dir, "no-such-passphrase"), VERIFY_DATABASE: "verify_no_passphrase" }));
            assert.equal(result.code, 5, explain(result));
            assert.match(result.stderr, /ERROR: PASSPHRASE_FILE \S+no-such-passphrase is not readable/);
            assert.match(item(result, "backup completed successfully"), /^PASS /);
            assert.match(item(result, "backup size is expected"), /^PASS backup size is expected: \d+ bytes stored, as the manifest says/);
            assert.match(item(result, "restore to test instance works"), /^FAIL .*not checked: the verification stopped \(exit code 5\)/);
            assert.equal(item(result, "test instance cleaned up"), "PASS test instance cleaned up: nothing was created");
            assert.equal(pg.databaseExists("verify_no_passphrase"), false);
        });

        it("a wrong passphrase, found by the probe decrypting while the size is checked and the URL presigned: exit 5, nothing downloaded or created", async function () {
            const wrong = path.join(dir, "wrong-passphrase");
            fs.writeFileSync(wrong, "not the passphrase\n", { mode: 0o600 });
            const result = await runScript("restore-verification.sh", env(bucket, { PASSPHRASE_FILE: wrong, VERIFY_DATABASE: "verify_wrong_passphrase" }));
            assert.equal(result.code, 5, explain(result));
            assert.match(result.stderr, /ERROR: the passphrase \(PASSPHRASE_FILE \S+wrong-passphrase\) does not decrypt s3:\/\/\S+\.dump\.gpg: decryption failed: Bad session key/);
            assert.doesNotMatch(result.stderr, / downloading /);
            assert.match(item(result, "backup size is expected"), /^PASS /);
            assert.equal(item(result, "test instance cleaned up"), "PASS test instance cleaned up: nothing was created");
            assert.equal(pg.databaseExists("verify_wrong_passphrase"), false);
        });

        it("a wrong passphrase while the pass's processes wait for the key (started during the probe's S2K): the dump's GET is never sent", async function () {
            const shims = fs.mkdtempSync(path.join(dir, "curl-"));
            const calls = recordingCurl(shims);
            const wrong = path.join(dir, "wrong-passphrase-get");
            fs.writeFileSync(wrong, "not the passphrase\n", { mode: 0o600 });
            const result = await runScript("restore-verification.sh", env(bucket, { EXTRA_PATH: shims, PASSPHRASE_FILE: wrong, VERIFY_DATABASE: "verify_wrong_get" }));
            assert.equal(result.code, 5, explain(result));
            const gets = fs.readFileSync(calls, "utf8").split("\n").filter((l) => l.includes("body.fifo"));
            assert.deepEqual(gets, []);
            assert.equal(pg.databaseExists("verify_wrong_get"), false);
        });

        it("a manifest whose object_key is not <name>.dump.gpg: the probe reads the manifest's object, not the key read early beside the manifest", async function () {
            // A copy of the describe's backup (copyBackup), moved about below.
            const own = newBucket();
            const manifestKey = copyBackup(moto, bucket, own);
            const m = JSON.parse(getObject(moto, own, manifestKey).toString("utf8"));
            const moved = m.object_key.replace(/([^/]+)$/, "moved-$1");
            putObject(moto, own, moved, getObject(moto, own, m.object_key));
            putObject(moto, own, manifestKey, JSON.stringify({ ...m, object_key: moved }));
            // What the early read finds under the conventional name is another object (of another size).
            putObject(moto, own, m.object_key, "not this manifest's dump");
            const result = await runScript("restore-verification.sh", env(own, { VERIFY_DATABASE: "verify_moved" }));
            assert.equal(result.code, 0, explain(result));
            assert.equal(item(result, "backup completed successfully"), `PASS backup completed successfully: ${moved} finished at ${m.finished_at}`);
            assert.match(item(result, "backup size is expected"), new RegExp(`^PASS backup size is expected: ${m.size_bytes} bytes stored, as the manifest says`));
        });

        it("a scratch database that cannot be dropped: 'test instance cleaned up' FAILs with the server's error (the DROP and its check share one connection)", async function () {
            const shims = fs.mkdtempSync(path.join(dir, "psql-"));
            fs.writeFileSync(path.join(shims, "psql"), `#!/usr/bin/env bash\nif [[ "$*" == *"DROP DATABASE"* ]]; then echo 'ERROR:  database "verify_undroppable" is being used by prepared transactions' >&2; exit 1; fi\nexec ${PG_BIN}/psql "$@"\n`, { mode: 0o755 });
            try {
                const result = await runScript("restore-verification.sh", env(bucket, { EXTRA_PATH: shims, VERIFY_DATABASE: "verify_undroppable" }));
                assert.equal(item(result, "test instance cleaned up"), `FAIL test instance cleaned up: DROP DATABASE verify_undroppable failed: ERROR:  database "verify_undroppable" is being used by prepared transactions; the scratch database verify_undroppable may remain on ${LOCALHOST}:${pg.port}/postgres: DROP DATABASE IF EXISTS "verify_undroppable" WITH (FORCE) there once the server answers`);
                assert.match(item(result, "all tables present with expected row counts"), /^PASS /);
                assert.notEqual(result.code, 0, explain(result));
            } finally {
                pg.dropDatabase("verify_undroppable");
            }
        });

        it("a corrupt object (one byte flipped, same size): the backup's failure (6), named as corruption", async function () {
            // A copy of the describe's backup (copyBackup), damaged below.
            const own = newBucket();
            const key = copyBackup(moto, bucket, own);
            const m = servers.manifest(own, key);
            const body = getObject(moto, own, m.object_key);
            body[Math.floor(body.length / 2)] ^= 0x40;
            putObject(moto, own, m.object_key, body);
            const result = await runScript("restore-verification.sh", env(own));
            assert.equal(result.code, 6, explain(result));
            assert.match(item(result, "backup completed successfully"), /^PASS /);
            assert.match(item(result, "restore to test instance works"), /^FAIL restore to test instance works: decryption of s3:\/\/\S+ failed \(corrupt object\): /);
            assert.match(item(result, "data integrity verified"), /^FAIL .*sha256 of the stored object is [0-9a-f]{64}, manifest says/);
        });

        it("a full scratch directory: the environment's failure (2) saying how much is free, never the backup's", async function () {
            const scratch = fs.mkdtempSync(path.join(dir, "scratch-"));
            const mounted = spawnSync("mount", ["-t", "tmpfs", "-o", "size=256k", "tmpfs", scratch], { encoding: "utf8" });
            if (mounted.status !== 0) {
                console.log(`      skipped: cannot mount a small tmpfs here (${mounted.stderr.trim()})`);
                this.skip();
            }
            try {
                // Filled up to the last byte, as another tenant of the volume would.
                spawnSync("dd", ["if=/dev/zero", `of=${path.join(scratch, "filler")}`, "bs=4096"], { encoding: "utf8" });
                const result = await runScript("restore-verification.sh", env(bucket, { TMPDIR: scratch }));
                assert.equal(result.code, 2, explain(result));
                assert.match(result.stderr, new RegExp(`ERROR: the verification environment: scratch directory ${scratch} has 0 bytes free, needs 1048576`));
                assert.match(item(result, "backup completed successfully"), new RegExp(`^FAIL backup completed successfully: not checked: .*scratch directory ${scratch} has 0 bytes free`));
                assert.doesNotMatch(result.stdout, /cannot read the manifest|not readable|no error message/);
                // Room for the verification's own files (its needs, not the dump's size: the dump is streamed).
                fs.rmSync(path.join(scratch, "filler"));
                const roomy = await runScript("restore-verification.sh", env(bucket, { TMPDIR: scratch, VERIFY_SCRATCH_BYTES: "131072" }));
                assert.equal(roomy.code, 0, explain(roomy));
            } finally {
                spawnSync("umount", [scratch]);
            }
        });
    });
});
