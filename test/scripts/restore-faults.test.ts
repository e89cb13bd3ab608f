/**
 * restore.sh under operator faults (issue 22): kill -9 mid-load and mid-swap, database-side failures, locks
 * held by an application, a small scratch directory, corrupt objects, an orphaned newer dump, a dump key given
 * as --manifest, an unrelated table in the target; and the two load paths (parallel staging, one stream).
 * Real PostgreSQL 15 and moto, started here on 127.0.0.1.
 */
import { strict as assert } from "assert";
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { OAUTH2_TABLES, seedSql } from "../../tools/sandbox/oauth2-schema";
import { tableChecksums } from "../support/checksums";
import { recordingCurl } from "../support/shims";
import { BASH_C, awsCall, copyBackup, explain, getObject, listKeys, listVersions, putObject, resolvedHelperPython, runScript, SCRIPTS, scriptEnv, startScript, useScriptServers } from "../../tools/sandbox/scripts";
import { LOCALHOST, MotoServer, PG_BIN, PgServer } from "../../tools/sandbox/servers";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/**
 * The interpreter the scripts run restore-pipe.py with (their AWS helper's, resolved to its executable once): a
 * python3 found on PATH may be a version manager's shim (pyenv's: a dozen bash scripts, about 30 ms of CPU per start).
 */
const PYTHON = resolvedHelperPython() ?? "python3";

describe("restore.sh under operator faults (real PostgreSQL 15 and S3 API)", function () {
    this.timeout(600_000);
    let pg: PgServer;
    let moto: MotoServer;
    let passphrase: string;
    let dir: string;
    const servers = useScriptServers("oauth2-dr-restore-faults-", "restore faults passphrase");
    const env = (bucket: string, database: string, extra: Record<string, string> = {}) => ({ ...scriptEnv(pg, moto, bucket, passphrase, database), ...extra });
    const restore = (bucket: string, database: string, extra: Record<string, string> = {}, args: string[] = []) =>
        runScript("restore.sh", env(bucket, database, extra), ["--yes", "--source-database", "oauth2db", ...args]);
    const checksums = (database: string) => Object.values(tableChecksums(pg, OAUTH2_TABLES, database)).join("|");
    /** Server sessions of restore.sh runs (application_name oauth2-dr-restore:<run id>), once the cleanup is done. */
    const restoreSessions = () => pg.psql("SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'oauth2-dr-restore:%'", "postgres");
    /** Client sessions in a database other than the application's (and this query's): whatever a restore left. */
    const otherSessions = (database: string) =>
        pg.psql(`SELECT count(*) FROM pg_stat_activity WHERE datname = '${database}' AND backend_type = 'client backend' AND application_name <> 'oauth2-app' AND pid <> pg_backend_pid()`, "postgres");
    /** Some session other than the application's waits for a lock in the database (the restore's, whatever its name). */
    const lockWaiters = (database: string) =>
        pg.psql(`SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid) WHERE NOT l.granted AND a.datname = '${database}' AND a.application_name <> 'oauth2-app'`, "postgres");
    const stagingSchemas = (database: string) => pg.psql("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'oauth2_dr_stage_%'", database);
    let bucket: string;
    let manifestKey: string;
    let sourceSums: string;

    /** A target holding other data than the dump (a restore that commits would change its checksums). */
    function oldTarget(name: string): string {
        pg.dropDatabase(name);
        pg.createDatabase(name);
        pg.psql(seedSql({ clients: 3, authorizations: 5, consents: 2 }), name);
        return checksums(name);
    }

    /** Removes every version of a key (no delete marker left: as if it had never been written). */
    function removeEveryVersion(inBucket: string, key: string): void {
        for (const v of listVersions(moto, inBucket, key).filter((x) => x.key === key)) {
            awsCall(moto, "s3", "delete_object", { Bucket: inBucket, Key: key, VersionId: v.versionId });
        }
    }

    /** Polls (not a timed assertion: a limit far above any expected wait) until check() holds. */
    async function eventually(what: string, check: () => boolean): Promise<void> {
        for (let i = 0; i < 600; i++) {
            if (check()) {
                return;
            }
            await sleep(100);
        }
        assert.fail(`still not true after 60 s: ${what}`);
    }

    /** A psql session of "the application" that holds a lock until it is ended. */
    function lockHolder(database: string, sql: string): ChildProcess {
        const child = spawn(path.join(PG_BIN, "psql"), ["-X", "-q", "-h", LOCALHOST, "-p", String(pg.port), "-U", "postgres", "-d", database], {
            env: { ...process.env, PGAPPNAME: "oauth2-app" },
            stdio: ["pipe", "ignore", "ignore"],
        });
        child.stdin!.write(`BEGIN; ${sql}\n`);
        return child;
    }

    before(async function () {
        ({ pg, moto, passphrase, dir } = servers);
        pg.createDatabase("oauth2db");
        pg.psql(seedSql({ clients: 20, authorizations: 3000, consents: 40 }) + "CREATE TABLE app_event (id bigserial PRIMARY KEY, note text); INSERT INTO app_event (note) SELECT 'e' || g FROM generate_series(1, 42) g;" +
            "CREATE TABLE app_rating (id int PRIMARY KEY, stars int DEFAULT 3 NOT NULL CONSTRAINT stars_range CHECK (stars BETWEEN 1 AND 5)); INSERT INTO app_rating SELECT g, 1 + g % 5 FROM generate_series(1, 10) g;");
        sourceSums = checksums("oauth2db");
        bucket = servers.newBucket("oauth2-faults");
        const backup = await runScript("db-backup.sh", scriptEnv(pg, moto, bucket, passphrase));
        assert.equal(backup.code, 0, explain(backup));
        manifestKey = backup.stdout.trim();
    });

    it("the manifest records the dump's S3 version, and a restore reads that version even after the key was overwritten", async function () {
        const m = servers.manifest(bucket, manifestKey);
        const versions = awsCall(moto, "s3", "list_object_versions", { Bucket: bucket, Prefix: m.object_key }).Versions;
        assert.equal(m.s3_version_id, versions[0].VersionId);
        const other = servers.newBucket("oauth2-faults-version");
        putObject(moto, other, m.object_key, getObject(moto, bucket, m.object_key));
        const stored = awsCall(moto, "s3", "list_object_versions", { Bucket: other, Prefix: m.object_key }).Versions[0].VersionId;
        putObject(moto, other, manifestKey, JSON.stringify({ ...m, s3_version_id: stored }));
        putObject(moto, other, m.object_key, "overwritten by someone else");
        pg.createDatabase("versioned");
        const result = await restore(other, "versioned");
        assert.equal(result.code, 0, explain(result));
        assert.equal(checksums("versioned"), sourceSums);
    });

    it("restores with parallel COPY sessions into staging schemas, and leaves none behind", async function () {
        pg.createDatabase("parallel");
        const result = await restore(bucket, "parallel", { RESTORE_JOBS: "3" });
        assert.equal(result.code, 0, explain(result));
        assert.match(result.stderr, /with 3 parallel COPY sessions/);
        // The dump's session key (derived once, reused by each decryption) is never printed.
        assert.doesNotMatch(result.stderr, /seskey|session key:/i);
        assert.equal(checksums("parallel"), sourceSums);
        // The sequences' values (the data section's setval) come with the swap.
        assert.equal(pg.psql("SELECT last_value FROM app_event_id_seq", "parallel"), "42");
        assert.equal(pg.psql("SELECT pg_get_serial_sequence('app_event', 'id')", "parallel"), "public.app_event_id_seq");
        assert.equal(stagingSchemas("parallel"), "0");
        assert.equal(restoreSessions(), "0");
        // The defaults and checks the staging tables did not have are the restored tables' again.
        assert.equal(pg.psql("SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'stars_range'", "parallel"), "CHECK (((stars >= 1) AND (stars <= 5)))");
        assert.equal(pg.psql("INSERT INTO app_rating (id) VALUES (100) RETURNING stars", "parallel"), "3");
        assert.equal(pg.psql("SELECT count(*) FROM app_rating WHERE id <= 10", "parallel"), "10");
    });

    it("a committed restore opens no cleanup connection (the swap's transaction dropped the staging schemas), leaves no process of its own behind, and starts no process for its paths, status files or pauses", async function () {
        pg.createDatabase("no_cleanup");
        const shims = fs.mkdtempSync(path.join(dir, "shims-"));
        const apps = path.join(shims, "psql.apps");
        const sleeps = path.join(shims, "sleep.pids");
        const starts = path.join(shims, "starts");
        // Every psql of the run says its application_name; every sleep its pid (exec keeps it); every sleep, cat,
        // dirname, basename and awk its arguments.
        fs.writeFileSync(path.join(shims, "psql"), `#!/bin/bash\nprintf '%s\\n' "\${PGAPPNAME:-none}" >>${apps}\nexec ${PG_BIN}/psql "$@"\n`, { mode: 0o755 });
        fs.writeFileSync(path.join(shims, "sleep"), `#!/bin/bash\necho $$ >>${sleeps}\nprintf 'sleep %s\\n' "$*" >>${starts}\nexec /bin/sleep "$@"\n`, { mode: 0o755 });
        for (const name of ["cat", "dirname", "basename", "awk"]) {
            const real = spawnSync("bash", [...BASH_C, `command -v ${name}`], { encoding: "utf8" }).stdout.trim();
            fs.writeFileSync(path.join(shims, name), `#!/bin/bash\nprintf '${name} %s\\n' "$*" >>${starts}\nexec ${real} "$@"\n`, { mode: 0o755 });
        }
        const run = startScript("restore.sh", env(bucket, "no_cleanup", { EXTRA_PATH: shims }), ["--yes", "--source-database", "oauth2db"]);
        // When the script's process has exited: which of its sleeps still hold open descriptors (the watchdog's,
        // killed without its sleep, held the script's output for up to 0.5 s more).
        const holding = new Promise<string[]>((resolve) => run.child.on("exit", () => resolve(
            (fs.existsSync(sleeps) ? fs.readFileSync(sleeps, "utf8").split("\n").filter(Boolean) : []).filter((pid) => {
                try {
                    return fs.readdirSync(`/proc/${pid}/fd`).length > 0;
                } catch {
                    return false;
                }
            }))));
        const result = await run.done;
        assert.equal(result.code, 0, explain(result));
        assert.equal(checksums("no_cleanup"), sourceSums);
        assert.equal(stagingSchemas("no_cleanup"), "0");
        assert.equal(restoreSessions(), "0");
        const names = fs.readFileSync(apps, "utf8").split("\n").filter(Boolean);
        assert.ok(names.some((n) => n.startsWith("oauth2-dr-restore:")), names.join(", "));
        assert.deepEqual(names.filter((n) => n.endsWith("-cleanup")), [], "a cleanup connection after COMMIT");
        assert.deepEqual(await holding, [], "sleeps of the run still open when it exited");
        // Each such start is a fork and an exec (3 to 5 ms of CPU here): the script's and lib.sh's directories and
        // name (lib.sh script_dir), curl's version (start_aws_helper), the status and checksum files (file_text,
        // file_is) and the watchdog's half-second pauses (short_pause) are read or waited for by bash itself.
        const started = fs.existsSync(starts) ? fs.readFileSync(starts, "utf8").split("\n").filter(Boolean) : [];
        assert.deepEqual(started.filter((s) => /^(dirname|basename) |^awk NR == 1 |^cat \S*\/(\w+\.rc|sha\.out)$|^sleep 0\.5$/.test(s)), [], started.join("\n"));
    });

    /**
     * A curl on PATH whose download of the dump (curl --output <spool>/body.fifo) delivers the first half of the
     * object, then waits (at most 60 s) until resume() is called; every other curl call is the real one.
     */
    function pausingCurl(): { shims: string; paused: () => boolean; resume: () => void } {
        const shims = fs.mkdtempSync(path.join(dir, "shims-"));
        const paused = path.join(shims, "paused");
        const resume = path.join(shims, "resume");
        fs.writeFileSync(path.join(shims, "curl"), `#!/bin/bash
out="" args=() prev="" tmp=${shims}/body.$$
for a in "$@"; do
    if [[ "$prev" == --output && "$a" == */body.fifo ]]; then out=$a; args+=("$tmp"); else args+=("$a"); fi
    prev=$a
done
[[ -n "$out" ]] || exec /usr/bin/curl "$@"
code=$(/usr/bin/curl "\${args[@]}") || exit $?
half=$(($(stat -c %s "$tmp") / 2))
{ head -c "$half" "$tmp"; touch ${paused}; for i in $(seq 600); do [[ -e ${resume} ]] && break; sleep 0.1; done; tail -c +$((half + 1)) "$tmp"; } >"$out"
printf '%s' "$code"
`, { mode: 0o755 });
        return { shims, paused: () => fs.existsSync(paused), resume: () => fs.writeFileSync(resume, "") };
    }

    /** "schema.table=p|u" (permanent, unlogged) of each table in this run's staging schemas. */
    const stagingPersistence = (database: string) =>
        pg.psql("SELECT string_agg(n.nspname || '.' || c.relname || '=' || c.relpersistence::text, ',' ORDER BY n.nspname, c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname LIKE 'oauth2_dr_stage_%' AND c.relkind = 'r'", database);

    it("loads into staging tables while the download is still being verified; the staging tables evaluate nothing of the archive (no default, no check)", async function () {
        pg.createDatabase("overlap");
        const curl = pausingCurl();
        const run = startScript("restore.sh", env(bucket, "overlap", { EXTRA_PATH: curl.shims }), ["--yes", "--source-database", "oauth2db"]);
        await eventually("the download is paused half-way", () => curl.paused());
        // Half of the object is in: the load's sessions are copying into the staging tables already.
        await eventually("a COPY into a staging table runs while the download is paused", () =>
            pg.psql("SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'oauth2-dr-restore:%' AND query LIKE 'COPY oauth2_dr_stage_%'", "postgres") !== "0");
        assert.equal(pg.psql("SELECT count(*) FROM pg_attrdef d JOIN pg_class c ON c.oid = d.adrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname LIKE 'oauth2_dr_stage_%'", "overlap"), "0");
        assert.equal(pg.psql("SELECT count(*) FROM pg_constraint k JOIN pg_namespace n ON n.oid = k.connamespace WHERE n.nspname LIKE 'oauth2_dr_stage_%' AND k.contype = 'c'", "overlap"), "0");
        assert.equal(pg.psql("SELECT to_regclass('public.oauth2_authorization') IS NULL", "overlap"), "t", "the swap began before the download ended");
        // The rows reach the server through the loader's own libpq connections: no psql process relays them.
        assert.equal(spawnSync("pgrep", ["-f", "^psql -X -q -v ON_ERROR_STOP=1$"], { encoding: "utf8" }).stdout.trim(), "", "a psql session relays the rows");
        // The target's tables must survive a crash: restore.sh stages into permanent (WAL-logged) tables, never
        // UNLOGGED ones (only the verification's scratch database does, below).
        assert.match(stagingPersistence("overlap"), /^(oauth2_dr_stage_\w+\.\w+=p,?)+$/);
        curl.resume();
        const result = await run.done;
        assert.equal(result.code, 0, explain(result));
        assert.equal(checksums("overlap"), sourceSums);
        assert.equal(stagingSchemas("overlap"), "0");
    });

    it("the loader ends a COPY only at its own \\. line: backslashes, NULLs and \\. inside values, a table's rows across chunks", function () {
        pg.createDatabase("loader_edges");
        pg.psql("CREATE SCHEMA stg; CREATE TABLE stg.t (v text, id int); CREATE TABLE stg.u (id int);", "loader_edges");
        const work = fs.mkdtempSync(path.join(dir, "loader-"));
        fs.writeFileSync(path.join(work, "map"), "public\tstg\n");
        // COPY text: \\. is a backslash and a dot, \N a NULL; 3000 rows of 1 KB cross the loader's 1 MiB chunks.
        const edges = ["\\\\.\t1", "end \\\\.\t2", "\\N\t3", "a\\nb\t4", "\\\\\t5"];
        const filler = Array.from({ length: 3000 }, (_, i) => `${"x".repeat(1000)}\\\\.${i}\t${100 + i}`);
        // A row longer than the loader's 1 MiB chunk (a large value of an application's table): the loader read
        // no further and parsed the same bytes forever.
        const long = `${"y".repeat(1536 * 1024)}\t99999`;
        const stream = "SET client_encoding = 'UTF8';\nSELECT pg_catalog.set_config('search_path', '', false);\n\n--\n-- Data for Name: t\n--\n\n" +
            `COPY public.t (v, id) FROM stdin;\n${[...edges, ...filler, long].join("\n")}\n\\.\n\n\nCOPY public.u (id) FROM stdin;\n7\n\\.\n\n\n` +
            "SELECT pg_catalog.setval('public.s', 5, true);\n";
        const loaded = spawnSync(PYTHON, [path.join(SCRIPTS, "restore-pipe.py"), "restore-load", "2", work, path.join(work, "map"), path.join(work, "setval.sql"), path.join(work, "counts")],
            { input: stream, encoding: "utf8", env: { ...process.env, ...pg.env("loader_edges") }, timeout: 120_000 });
        assert.equal(loaded.status, 0, `${loaded.stderr} ${fs.readdirSync(work).map((f) => `${f}: ${fs.readFileSync(path.join(work, f), "utf8").slice(0, 300)}`).join("; ")}`);
        assert.equal(pg.psql("SELECT string_agg(coalesce(v, 'NULL'), '|' ORDER BY id) FROM stg.t WHERE id < 100", "loader_edges"), "\\.|end \\.|NULL|a\nb|\\");
        assert.equal(pg.psql("SELECT count(*) FROM stg.t WHERE id >= 100 AND v = repeat('x', 1000) || '\\.' || (id - 100)", "loader_edges"), "3000");
        assert.equal(pg.psql("SELECT id FROM stg.u", "loader_edges"), "7");
        assert.equal(pg.psql("SELECT length(v) FROM stg.t WHERE id = 99999", "loader_edges"), String(1536 * 1024));
        assert.equal(fs.readFileSync(path.join(work, "counts"), "utf8"), "stg.t\t3006\nstg.u\t1\n");
        assert.equal(fs.readFileSync(path.join(work, "setval.sql"), "utf8"), "SELECT pg_catalog.setval('public.s', 5, true);\n");
    });

    it("staging tables get the columns' names and types only; their defaults and checks come with the swap; a generated column is not staged", function () {
        const out = fs.mkdtempSync(path.join(dir, "stage-"));
        const schemaSql = path.join(out, "schema.sql");
        const dataList = path.join(out, "data.list");
        const table = (name: string, body: string) => `--\n-- Name: ${name}; Type: TABLE; Schema: public; Owner: postgres\n--\n\nCREATE TABLE public.${name} (\n${body}\n);\n`;
        fs.writeFileSync(schemaSql, table("t", [
            "    id character varying(100) NOT NULL,",
            "    at timestamp without time zone DEFAULT CURRENT_TIMESTAMP NOT NULL,",
            "    \"odd name\" text COLLATE pg_catalog.\"C\",",
            "    n numeric(10,2)[] DEFAULT '{}'::numeric[],",
            "    CONSTRAINT t_check CHECK ((length((id)::text) > 0))",
        ].join("\n")));
        fs.writeFileSync(dataList, "1; 2 3 TABLE DATA public t postgres\n");
        const stage = () => spawnSync(PYTHON, [path.join(SCRIPTS, "restore-pipe.py"), "restore-stage", schemaSql, dataList, out, "stg"], { encoding: "utf8" });
        const staged = stage();
        assert.equal(staged.status, 0, staged.stdout + staged.stderr);
        assert.equal(fs.readFileSync(path.join(out, "stage.sql"), "utf8"), [
            "SELECT pg_catalog.set_config('search_path', '', false);",
            "CREATE SCHEMA stg_1;",
            "CREATE TABLE stg_1.t (",
            "    id character varying(100) NOT NULL,",
            "    at timestamp without time zone NOT NULL,",
            "    \"odd name\" text COLLATE pg_catalog.\"C\",",
            "    n numeric(10,2)[]",
            ");",
            "",
        ].join("\n"));
        const swap = fs.readFileSync(path.join(out, "swap.sql"), "utf8");
        assert.match(swap, /ALTER TABLE stg_1\.t SET SCHEMA public;\nALTER TABLE ONLY public\.t ALTER COLUMN at SET DEFAULT CURRENT_TIMESTAMP;\nALTER TABLE ONLY public\.t ALTER COLUMN n SET DEFAULT '\{\}'::numeric\[\];\nALTER TABLE ONLY public\.t ADD CONSTRAINT t_check CHECK \(\(length\(\(id\)::text\) > 0\)\);\n/);
        // "unlogged" (the verification's scratch database only): the same staging tables, UNLOGGED; not when a
        // table of the archive is not staged (created by the swap, permanent: its foreign keys could not name them).
        const stagedAs = (...extra: string[]) => {
            const run = spawnSync(PYTHON, [path.join(SCRIPTS, "restore-pipe.py"), "restore-stage", schemaSql, dataList, out, "stg", ...extra], { encoding: "utf8" });
            assert.equal(run.status, 0, run.stdout + run.stderr);
            return fs.readFileSync(path.join(out, "stage.sql"), "utf8").split("\n").filter((l) => l.startsWith("CREATE ")).join("; ");
        };
        assert.equal(stagedAs("unlogged"), "CREATE SCHEMA stg_1;; CREATE UNLOGGED TABLE stg_1.t (");
        assert.equal(stagedAs(), "CREATE SCHEMA stg_1;; CREATE TABLE stg_1.t (");
        const schemaText = fs.readFileSync(schemaSql, "utf8");
        fs.appendFileSync(schemaSql, table("no_data", "    id integer"));
        assert.equal(stagedAs("unlogged"), "CREATE SCHEMA stg_1;; CREATE TABLE stg_1.t (");
        fs.writeFileSync(schemaSql, schemaText);
        fs.writeFileSync(schemaSql, table("t", "    a integer,\n    b integer GENERATED ALWAYS AS ((a * 2)) STORED"));
        const generated = stage();
        assert.equal(generated.status, 10);
        assert.match(generated.stdout, /table public\.t cannot be staged/);
    });

    it("a dump with a table that cannot be staged (an enum column) restores in one stream", async function () {
        pg.createDatabase("typed_src");
        pg.psql(seedSql({ clients: 2, authorizations: 10, consents: 2 }) + "CREATE TYPE mood AS ENUM ('ok', 'bad'); CREATE TABLE feeling (id int PRIMARY KEY, m mood); INSERT INTO feeling VALUES (1, 'ok'), (2, 'bad');", "typed_src");
        const typed = servers.newBucket("oauth2-faults-typed");
        const backup = await runScript("db-backup.sh", scriptEnv(pg, moto, typed, passphrase, "typed_src"));
        assert.equal(backup.code, 0, explain(backup));
        pg.createDatabase("typed_dst");
        const result = await runScript("restore.sh", env(typed, "typed_dst"), ["--yes", "--source-database", "typed_src"]);
        assert.equal(result.code, 0, explain(result));
        assert.match(result.stderr, /restoring in one stream \(table public\.feeling cannot be staged/);
        assert.equal(pg.psql("SELECT string_agg(m::text, ',' ORDER BY id) FROM feeling", "typed_dst"), "ok,bad");
    });

    it("kill -9 during the load: nothing is committed, no server session or staging schema is left, the spool is removed", async function () {
        const before = oldTarget("killed_load");
        const tmp = fs.mkdtempSync(path.join(dir, "tmp-"));
        const shims = fs.mkdtempSync(path.join(dir, "shims-"));
        // pg_restore of the data (-a: started with the download, its rows held until the staging tables exist) waits
        // for the test's gate (at most 60 s) before it runs, so that the kill lands inside the load however slow the
        // machine: a fixed 3 s wait could be over, and the restore committed, before a loaded test saw the staging tables.
        const gate = path.join(shims, "gate");
        fs.writeFileSync(path.join(shims, "pg_restore"), `#!/bin/bash\nif [[ " $* " == *" -a "* ]]; then for _ in $(seq 600); do [[ -e "${gate}" ]] && break; sleep 0.1; done; fi\nexec ${PG_BIN}/pg_restore "$@"\n`, { mode: 0o755 });
        const run = startScript("restore.sh", env(bucket, "killed_load", { TMPDIR: tmp, EXTRA_PATH: shims }), ["--yes", "--source-database", "oauth2db"]);
        try {
            await eventually("the staging tables exist", () => stagingSchemas("killed_load") !== "0");
            run.child.kill("SIGKILL");
            await run.done;
            await eventually("the watchdog removed the work directory", () => fs.readdirSync(tmp).length === 0);
            await eventually("no restore session is left", () => otherSessions("killed_load") === "0");
            assert.equal(stagingSchemas("killed_load"), "0");
            await sleep(2000);
            assert.equal(checksums("killed_load"), before, "a killed restore committed");
        } finally {
            // A loader the watchdog did not kill ends its wait (and fails: its work directory is gone).
            fs.writeFileSync(gate, "");
        }
    });

    it("kill -9 while the swap waits for an application's lock: never commits, even after the lock is released; the verified spool is already gone", async function () {
        const before = oldTarget("killed_swap");
        const tmp = fs.mkdtempSync(path.join(dir, "tmp-"));
        const app = lockHolder("killed_swap", "LOCK TABLE oauth2_authorization IN ACCESS SHARE MODE;");
        const run = startScript("restore.sh", env(bucket, "killed_swap", { TMPDIR: tmp }), ["--yes", "--source-database", "oauth2db"]);
        await eventually("the restore waits for the application's lock", () => lockWaiters("killed_swap") !== "0");
        // Not read again once verified (the swap moves the staged tables): unlinked alongside the swap, not at the exit.
        const spools = () => fs.readdirSync(tmp).filter((w) => fs.existsSync(path.join(tmp, w, "spool", "dump.gpg")));
        await eventually("the spool is unlinked while the swap waits", () => spools().length === 0);
        assert.ok(fs.readdirSync(tmp).some((w) => fs.existsSync(path.join(tmp, w, "spool", "swap.sql"))), "the run's work directory");
        run.child.kill("SIGKILL");
        await run.done;
        await eventually("no restore session is left", () => otherSessions("killed_swap") === "0");
        app.stdin!.end("COMMIT;\n");
        await new Promise((r) => app.on("close", r));
        await sleep(2000);
        assert.equal(checksums("killed_swap"), before, "a killed restore committed after the lock was released");
        assert.equal(stagingSchemas("killed_swap"), "0");
    });

    it("a lock held by an application: lock timeout naming the table, the holder's pid and application_name; nothing committed, no session left", async function () {
        const before = oldTarget("locked");
        const app = lockHolder("locked", "LOCK TABLE oauth2_registered_client IN ROW EXCLUSIVE MODE;");
        try {
            await eventually("the application holds its lock", () => pg.psql("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'oauth2-app' AND state = 'idle in transaction'", "postgres") === "1");
            const appPid = pg.psql("SELECT pid FROM pg_stat_activity WHERE application_name = 'oauth2-app'", "postgres");
            const result = await restore(bucket, "locked", { RESTORE_LOCK_TIMEOUT: "1s" });
            assert.equal(result.code, 3, explain(result));
            const client = pg.psql(`SELECT host(client_addr) || ':' || client_port FROM pg_stat_activity WHERE pid = ${appPid}`, "postgres");
            assert.match(result.stderr, new RegExp(`ERROR: .*lock timeout: table oauth2_registered_client stayed locked for 1s \\(RESTORE_LOCK_TIMEOUT\\) by pid ${appPid} \\(application_name 'oauth2-app', user postgres, `
                + `client ${client.replace(/\./g, "\\.")}, state idle in transaction, transaction since \\S+Z, connected since \\S+Z\\): to end it \\(its transaction is rolled back\\), SELECT pg_terminate_backend\\(${appPid}\\)`));
            assert.match(result.stderr, /nothing committed/);
            assert.equal(restoreSessions(), "0");
            assert.equal(stagingSchemas("locked"), "0");
            assert.equal(checksums("locked"), before);
        } finally {
            app.stdin!.end("COMMIT;\n");
        }
    });

    it("SIGTERM while waiting for a lock: exit 143, the server session ends at once, nothing committed", async function () {
        const before = oldTarget("termed");
        const app = lockHolder("termed", "LOCK TABLE oauth2_authorization IN ACCESS SHARE MODE;");
        try {
            const run = startScript("restore.sh", env(bucket, "termed"), ["--yes", "--source-database", "oauth2db"]);
            await eventually("the restore waits for the lock", () => lockWaiters("termed") !== "0");
            run.child.kill("SIGTERM");
            const result = await run.done;
            assert.equal(result.code, 143, explain(result));
            assert.equal(otherSessions("termed"), "0", "the restore's session outlived its script");
            assert.equal(checksums("termed"), before);
        } finally {
            app.stdin!.end("COMMIT;\n");
        }
    });

    it("a database-side failure (a view of the application depends on a table) is reported at once with the server's error", async function () {
        const before = oldTarget("viewed");
        pg.psql("CREATE VIEW app_report AS SELECT id FROM oauth2_authorization;", "viewed");
        const result = await restore(bucket, "viewed");
        assert.equal(result.code, 3, explain(result));
        assert.match(result.stderr, /ERROR: restore into 127\.0\.0\.1:\d+\/viewed failed \(nothing committed\): ERROR: +cannot drop table public\.oauth2_authorization because other objects depend on it/);
        assert.doesNotMatch(result.stderr.split("\n").filter((l) => / ERROR: /.test(l)).join("\n"), /gpg|Broken pipe|decrypt/i);
        assert.equal(checksums("viewed"), before);
        assert.equal(stagingSchemas("viewed"), "0");
    });

    it("the connection killed during the load: the server's error, exit 3", async function () {
        const before = oldTarget("cut");
        const tmp = fs.mkdtempSync(path.join(dir, "tmp-"));
        const shims = fs.mkdtempSync(path.join(dir, "shims-"));
        // pg_restore of the data (-a) waits for the test's gate (at most 60 s), so that the sessions end before any row
        // (a fixed 2 s wait was both slower and, on a loaded machine, sometimes over before they were seen).
        const gate = path.join(shims, "gate");
        fs.writeFileSync(path.join(shims, "pg_restore"), `#!/bin/bash\nif [[ " $* " == *" -a "* ]]; then for _ in $(seq 600); do [[ -e "${gate}" ]] && break; sleep 0.1; done; fi\nexec ${PG_BIN}/pg_restore "$@"\n`, { mode: 0o755 });
        const run = startScript("restore.sh", env(bucket, "cut", { TMPDIR: tmp, EXTRA_PATH: shims, RESTORE_JOBS: "2" }), ["--yes", "--source-database", "oauth2db"]);
        try {
            // The load's two sessions (nothing run yet, or the loader's SET or COPY; the session that created the staging
            // tables has the same application_name and may still be there).
            await eventually("the load's sessions are connected", () => pg.psql("SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'oauth2-dr-restore:%' AND backend_type = 'client backend' AND (query = '' OR query LIKE 'SET %' OR query LIKE 'COPY %')", "postgres") === "2");
            pg.psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE 'oauth2-dr-restore:%'", "postgres");
        } finally {
            fs.writeFileSync(gate, "");
        }
        const result = await run.done;
        assert.equal(result.code, 3, explain(result));
        assert.match(result.stderr, /ERROR: loading into 127\.0\.0\.1:\d+\/cut failed \(nothing committed\): .*terminat/i);
        assert.equal(checksums("cut"), before);
    });

    it("restore-verification.sh: a database that stops mid-stream is reported at once, not as gpg's Broken pipe", async function () {
        const shims = fs.mkdtempSync(path.join(dir, "shims-"));
        // psql reading rows on stdin (the load's sessions with RESTORE_LOADER=psql, the fallback without libpq;
        // a dump restored in one stream) stops with a server error after a few lines.
        fs.writeFileSync(path.join(shims, "psql"), `#!/bin/bash
if [[ " $* " != *" -c "* && " $* " != *" -f "* && -p /dev/stdin ]]; then head -n 50 >/dev/null; echo 'ERROR:  simulated server failure' >&2; exit 3; fi
exec ${PG_BIN}/psql "$@"
`, { mode: 0o755 });
        const result = await runScript("restore-verification.sh", env(bucket, "oauth2db", { EXTRA_PATH: shims, VERIFY_DATABASE: "verify_stopped", RESTORE_LOADER: "psql" }));
        const line = result.stdout.split("\n").find((l) => / restore to test instance works/.test(l)) ?? "";
        assert.match(line, /^FAIL /, explain(result));
        assert.doesNotMatch(line, /gpg|Broken pipe|decrypt/i, explain(result));
        assert.match(line, /simulated server failure/, explain(result));
    });

    it("restore-verification.sh loads its scratch database into UNLOGGED tables (no WAL: the database is dropped after the verdict) and still passes 7/7", async function () {
        const curl = pausingCurl();
        const run = startScript("restore-verification.sh", env(bucket, "oauth2db", { EXTRA_PATH: curl.shims, VERIFY_DATABASE: "verify_unlogged" }));
        await eventually("the download is paused half-way", () => curl.paused());
        await eventually("a COPY into a staging table of the scratch database runs while the download is paused", () =>
            pg.psql("SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'oauth2-dr-verify:%' AND datname = 'verify_unlogged' AND query LIKE 'COPY oauth2_dr_stage_%'", "postgres") !== "0");
        // Every table of the dump (the server's three, app_event, app_rating), each unlogged; their indexes, built
        // by the swap, are unlogged with them (PostgreSQL gives an index its table's persistence).
        const staged = stagingPersistence("verify_unlogged");
        assert.equal(staged.split(",").length, OAUTH2_TABLES.length + 2, staged);
        assert.match(staged, /^(oauth2_dr_stage_\w+\.\w+=u,?)+$/);
        curl.resume();
        const result = await run.done;
        assert.equal(result.code, 0, explain(result));
        assert.equal(result.stdout.split("\n").filter((l) => l.startsWith("PASS ")).length, 7, explain(result));
        assert.equal(pg.databaseExists("verify_unlogged"), false);
    });

    it("restore-verification.sh interrupted during the pass (its AWS helper stopped then): exit 143, the checklist printed, the scratch database dropped, the run still recorded", async function () {
        const curl = pausingCurl();
        const records = () => listKeys(moto, bucket, "database/verifications/");
        const before = records();
        const run = startScript("restore-verification.sh", env(bucket, "oauth2db", { EXTRA_PATH: curl.shims, VERIFY_DATABASE: "verify_term" }));
        await eventually("the download is paused half-way", () => curl.paused());
        // The load has begun: the script waits for the pass (`wait ... 2>/dev/null`) when the signal comes.
        await eventually("a COPY into a staging table of the scratch database runs", () =>
            pg.psql("SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'oauth2-dr-verify:%' AND datname = 'verify_term' AND query LIKE 'COPY oauth2_dr_stage_%'", "postgres") !== "0");
        run.child.kill("SIGTERM");
        const result = await run.done;
        curl.resume();
        assert.equal(result.code, 143, explain(result));
        assert.match(result.stdout, /^PASS test instance cleaned up: scratch database verify_term dropped$/m, explain(result));
        assert.equal(pg.databaseExists("verify_term"), false);
        const added = records().filter((k) => !before.includes(k));
        assert.equal(added.length, 1, explain(result));
        const record = JSON.parse(getObject(moto, bucket, added[0]).toString("utf8"));
        assert.deepEqual([record.result, record.exit_code], ["failed", 143]);
        // Its last words on its own stderr, not on the interrupted command's /dev/null.
        assert.match(result.stderr, /restore-verification: verification record s3:\/\/\S+: failed$/m, explain(result));
    });

    it("restore-verification.sh: a dump whose rows violate one of its unique indexes fails, naming the index", async function () {
        pg.createDatabase("dupes_src");
        // A unique index that the rows violate (a damaged source, or a dump tool's bug): a catalog edit, as no SQL
        // statement makes one; pg_dump writes it as CREATE UNIQUE INDEX, which the swap builds on the loaded rows.
        pg.psql(seedSql({ clients: 2, authorizations: 10, consents: 2 }) +
            "CREATE TABLE app_code (code text NOT NULL); INSERT INTO app_code VALUES ('a'), ('b'), ('a'); CREATE INDEX app_code_code ON app_code (code);" +
            "UPDATE pg_index SET indisunique = true WHERE indexrelid = 'public.app_code_code'::regclass;", "dupes_src");
        assert.equal(pg.psql("SELECT pg_get_indexdef('public.app_code_code'::regclass)", "dupes_src"), "CREATE UNIQUE INDEX app_code_code ON public.app_code USING btree (code)");
        const dupes = servers.newBucket("oauth2-faults-dupes");
        const backup = await runScript("db-backup.sh", scriptEnv(pg, moto, dupes, passphrase, "dupes_src"));
        assert.equal(backup.code, 0, explain(backup));
        const result = await runScript("restore-verification.sh", env(dupes, "dupes_src", { VERIFY_DATABASE: "verify_dupes" }));
        const line = (item: string) => result.stdout.split("\n").find((l) => l.includes(` ${item}: `)) ?? "";
        assert.equal(result.code, 6, explain(result));
        assert.match(line("restore to test instance works"), /^FAIL restore to test instance works: .*could not create unique index "app_code_code"/, explain(result));
        assert.match(line("all tables present with expected row counts"), /^FAIL .*not checked: the restore failed/);
        assert.match(line("test instance cleaned up"), /^PASS .*verify_dupes dropped/);
        assert.equal(pg.databaseExists("verify_dupes"), false);
    });

    it("a scratch directory too small for the spool: says how much it has and needs, before any download", async function () {
        const shims = fs.mkdtempSync(path.join(dir, "shims-"));
        fs.writeFileSync(path.join(shims, "df"), `#!/bin/bash\necho "Filesystem 1-blocks Used Available Capacity Mounted on"\necho "tmpfs 1048576 1038576 10000 99% /tmp"\n`, { mode: 0o755 });
        const before = oldTarget("tiny");
        const result = await restore(bucket, "tiny", { EXTRA_PATH: shims });
        assert.equal(result.code, 2, explain(result));
        assert.match(result.stderr, /ERROR: scratch directory \S+ has 10000 bytes free, needs \d+/);
        assert.doesNotMatch(result.stderr, /downloading/);
        assert.equal(checksums("tiny"), before);
    });

    describe("corrupt objects, caught before the target is touched", function () {
        /** A copy of the backup in a new bucket whose stored dump is `mutate`d (a new S3 version the manifest names). */
        function corrupted(mutate: (body: Buffer) => void): string {
            const m = servers.manifest(bucket, manifestKey);
            const other = servers.newBucket("oauth2-faults-corrupt");
            const body = getObject(moto, bucket, m.object_key);
            mutate(body);
            putObject(moto, other, m.object_key, body);
            const version = awsCall(moto, "s3", "list_object_versions", { Bucket: other, Prefix: m.object_key }).Versions[0].VersionId;
            putObject(moto, other, manifestKey, JSON.stringify({ ...m, s3_version_id: version }));
            return other;
        }

        it("a flipped byte in the gpg header: corrupt object (4), not 'Bad session key'", async function () {
            const other = corrupted((body) => (body[8] ^= 0x01));
            const before = oldTarget("corrupt_header");
            const result = await restore(other, "corrupt_header");
            assert.equal(result.code, 4, explain(result));
            assert.match(result.stderr, /ERROR: corrupt object: the dump s3:\/\/\S+ \(version \S+\) has sha256 [0-9a-f]{64}, the manifest \S+ says [0-9a-f]{64} \(the target was not touched\)/);
            assert.doesNotMatch(result.stderr.split("\n").filter((l) => / ERROR: /.test(l)).join("\n"), /Bad session key/);
            assert.equal(checksums("corrupt_header"), before);
        });

        it("a flipped byte in the data: corrupt object (4) before any DROP or COPY", async function () {
            const other = corrupted((body) => (body[Math.floor(body.length / 2)] ^= 0x40));
            const before = oldTarget("corrupt_data");
            const relations = () => pg.psql("SELECT string_agg(c.oid || ':' || c.relfilenode, ',' ORDER BY c.oid) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public'", "corrupt_data");
            const relationsBefore = relations();
            const result = await restore(other, "corrupt_data");
            assert.equal(result.code, 4, explain(result));
            assert.match(result.stderr, /ERROR: corrupt object: .*\(the target was not touched: the staging tables are dropped\)/);
            // Rows may have gone into this run's staging tables meanwhile, never into the target's own: no swap,
            // no DROP, no one-stream restore; the target's tables are the same relations with the same files.
            assert.doesNotMatch(result.stderr, /moving the loaded tables into place|restoring in one stream/);
            assert.equal(relations(), relationsBefore);
            assert.equal(checksums("corrupt_data"), before);
            assert.equal(stagingSchemas("corrupt_data"), "0");
        });
    });

    it("an orphaned dump newer than the newest manifest is named", async function () {
        const orphaned = servers.newBucket("oauth2-faults-orphan");
        // The first backup: a copy of the file's (copyBackup), older than the second, made here.
        const first = copyBackup(moto, bucket, orphaned);
        const second = await runScript("db-backup.sh", scriptEnv(pg, moto, orphaned, passphrase));
        assert.equal(second.code, 0, explain(second));
        const newest = second.stdout.trim();
        // Its manifest never written: every version removed (a DELETE without a version id would only hide it
        // behind a delete marker, which restore.sh refuses to pass over: test/scripts/delete-markers.test.ts).
        removeEveryVersion(orphaned, newest);
        pg.createDatabase("orphan_target");
        const result = await restore(orphaned, "orphan_target");
        assert.equal(result.code, 0, explain(result));
        assert.equal(result.stdout.trim(), first);
        const orphanDump = servers.manifest(bucket, manifestKey).object_key.replace(/oauth2db-.*/, path.basename(newest, ".json") + ".dump.gpg");
        assert.match(result.stderr, new RegExp(`WARNING: 1 dump\\(s\\) newer than ${first} have no manifest, newest s3://${orphaned}/${orphanDump.replace(/\./g, "\\.")}`));
    });

    it("an orphaned dump is named also when the chosen dump is unreadable: the listing runs while the probe reads, its warning comes before the probe's verdict (exit 4)", async function () {
        const orphaned = servers.newBucket("oauth2-faults-orphan-gone");
        // The first backup: a copy of the file's (copyBackup), older than the second, made here.
        const first = copyBackup(moto, bucket, orphaned);
        const second = await runScript("db-backup.sh", scriptEnv(pg, moto, orphaned, passphrase));
        assert.equal(second.code, 0, explain(second));
        // The newest manifest removed version by version (a delete marker would be refused: delete-markers.test.ts).
        removeEveryVersion(orphaned, second.stdout.trim());
        const chosen = servers.manifest(orphaned, first);
        const firstDump = chosen.object_key;
        awsCall(moto, "s3", "delete_object", { Bucket: orphaned, Key: firstDump, VersionId: chosen.s3_version_id });
        const result = await restore(orphaned, "oauth2db_never");
        assert.equal(result.code, 4, explain(result));
        const warning = result.stderr.indexOf("WARNING: 1 dump(s) newer than");
        const error = result.stderr.indexOf(`ERROR: the dump s3://${orphaned}/${firstDump}`);
        assert.ok(warning >= 0 && error > warning, explain(result));
    });

    it("a wrong passphrase: the pass's processes started during the probe's S2K never send their GET (the dump is read once, by the sha256 check), exit 5", async function () {
        const shims = fs.mkdtempSync(path.join(dir, "curl-"));
        const calls = recordingCurl(shims);
        const wrong = path.join(dir, "wrong-passphrase");
        fs.writeFileSync(wrong, "not the passphrase\n", { mode: 0o600 });
        const before = oldTarget("wrong_passphrase");
        const result = await restore(bucket, "wrong_passphrase", { EXTRA_PATH: shims, PASSPHRASE_FILE: wrong });
        assert.equal(result.code, 5, explain(result));
        assert.match(result.stderr, /ERROR: the passphrase \(PASSPHRASE_FILE \S+wrong-passphrase\) does not decrypt s3:\/\/\S+: decryption failed: Bad session key/);
        const gets = fs.readFileSync(calls, "utf8").split("\n").filter((l) => l.includes("body.fifo"));
        assert.equal(gets.length, 1, gets.join("\n"));
        assert.equal(checksums("wrong_passphrase"), before);
        assert.equal(restoreSessions(), "0");
    });

    it("--manifest naming a dump, or a large object: refused by key and size, without reading it", async function () {
        const dump = servers.manifest(bucket, manifestKey).object_key;
        const byName = await restore(bucket, "oauth2db_never", {}, ["--manifest", dump]);
        assert.equal(byName.code, 2, explain(byName));
        assert.match(byName.stderr, new RegExp(`ERROR: ${dump.replace(/\./g, "\\.")} is not a manifest .*pass --dump`));
        const big = "database/manifests/oauth2db-20990101T000000Z-000000000000.json";
        putObject(moto, bucket, big, Buffer.alloc(5 * 1024 * 1024, 0x20));
        try {
            const bySize = await restore(bucket, "oauth2db_never", {}, ["--manifest", big]);
            assert.equal(bySize.code, 2, explain(bySize));
            assert.match(bySize.stderr, /has 5242880 bytes: not a manifest/);
        } finally {
            removeEveryVersion(bucket, big);
        }
        assert.ok(listKeys(moto, bucket, "database/manifests/").includes(manifestKey));
    });

    it("an unrelated table in the target is left as it is and named; the restore succeeds, also when run again", async function () {
        oldTarget("shared_target");
        pg.psql("CREATE TABLE app_notes (id int PRIMARY KEY, note text); INSERT INTO app_notes VALUES (1, 'keep me');", "shared_target");
        // A jq wrapper ahead on PATH records the files each jq reads: the target's schema is read by one jq.
        const wrappers = path.join(servers.dir, "jq-schema-wrappers");
        const started = path.join(wrappers, "started");
        fs.mkdirSync(wrappers, { recursive: true });
        fs.writeFileSync(path.join(wrappers, "jq"), `#!/bin/sh\necho "$*" | tr '\\n' ' ' >>'${started}'\necho >>'${started}'\nexec /usr/bin/jq "$@"\n`, { mode: 0o755 });
        for (const run of [1, 2]) {
            fs.rmSync(started, { force: true });
            const result = await restore(bucket, "shared_target", { EXTRA_PATH: wrappers });
            assert.equal(result.code, 0, `run ${run}: ${explain(result)}`);
            assert.match(result.stderr, /not in the dump, left as they are: public\.app_notes/);
            assert.match(result.stderr, /schema: \d+ columns, sha256 [0-9a-f]{64} \(manifest's\)/);
            const schemaReads = fs.readFileSync(started, "utf8").split("\n").filter((l) => /(target|restored)-schema\.json/.test(l));
            assert.equal(schemaReads.length, 1, schemaReads.join("\n"));
        }
        assert.equal(checksums("shared_target"), sourceSums);
        assert.equal(pg.psql("SELECT note FROM app_notes", "shared_target"), "keep me");
    });

    describe("objects added to the target's tables since the backup (the swap drops the old tables)", function () {
        /** An old target where an operator added an index, a trigger, row-level security with a policy, and a
         * CHECK that the restored rows violate (the table was empty when it was added). */
        function targetWithAddedObjects(name: string): void {
            oldTarget(name);
            pg.psql(`CREATE INDEX ops_auth_principal ON oauth2_authorization (principal_name);
                CREATE FUNCTION ops_touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
                CREATE TRIGGER ops_touch BEFORE UPDATE ON oauth2_registered_client FOR EACH ROW EXECUTE FUNCTION ops_touch();
                ALTER TABLE oauth2_registered_client ENABLE ROW LEVEL SECURITY;
                CREATE POLICY ops_read ON oauth2_registered_client FOR SELECT TO PUBLIC USING (client_id IS NOT NULL);
                DELETE FROM oauth2_authorization_consent;
                ALTER TABLE oauth2_authorization_consent ADD CONSTRAINT ops_no_consents CHECK (false);`, name);
        }

        it("are recreated on the restored tables and named; one that no longer fits is named with its reason and definition", async function () {
            targetWithAddedObjects("added_objects");
            const result = await restore(bucket, "added_objects");
            assert.equal(result.code, 0, explain(result));
            assert.match(result.stderr, /kept index public\.ops_auth_principal on public\.oauth2_authorization: added to the target since the backup/);
            assert.match(result.stderr, /kept trigger public\.oauth2_registered_client\.ops_touch on public\.oauth2_registered_client/);
            assert.match(result.stderr, /kept policy public\.oauth2_registered_client\.ops_read on public\.oauth2_registered_client/);
            assert.match(result.stderr, /kept row level security public\.oauth2_registered_client on public\.oauth2_registered_client/);
            assert.match(result.stderr, /warning: dropped constraint public\.oauth2_authorization_consent\.ops_no_consents on public\.oauth2_authorization_consent: .*violated by some row.*; its definition: ALTER TABLE public\.oauth2_authorization_consent ADD CONSTRAINT ops_no_consents CHECK \(false\);/);
            // The dump's own indexes and constraints are not "added".
            assert.doesNotMatch(result.stderr, /kept (index|constraint) public\.oauth2_authorization_pkey|_pkey on/);
            assert.equal(checksums("added_objects"), sourceSums);
            assert.equal(pg.psql("SELECT count(*) FROM pg_indexes WHERE indexname = 'ops_auth_principal'", "added_objects"), "1");
            assert.equal(pg.psql("SELECT count(*) FROM pg_trigger WHERE tgname = 'ops_touch'", "added_objects"), "1");
            assert.equal(pg.psql("SELECT relrowsecurity FROM pg_class WHERE relname = 'oauth2_registered_client'", "added_objects"), "t");
            assert.equal(pg.psql("SELECT count(*) FROM pg_policies WHERE policyname = 'ops_read'", "added_objects"), "1");
            assert.equal(pg.psql("SELECT count(*) FROM pg_constraint WHERE conname = 'ops_no_consents'", "added_objects"), "0");
        });

        it("--drop-added-objects: the dump's definitions only, each dropped object named", async function () {
            targetWithAddedObjects("dropped_objects");
            const result = await restore(bucket, "dropped_objects", {}, ["--drop-added-objects"]);
            assert.equal(result.code, 0, explain(result));
            assert.match(result.stderr, /dropped \(--drop-added-objects\): index public\.ops_auth_principal on public\.oauth2_authorization, added since the backup: CREATE INDEX ops_auth_principal ON public\.oauth2_authorization USING btree \(principal_name\);/);
            assert.doesNotMatch(result.stderr, /kept /);
            assert.equal(pg.psql("SELECT count(*) FROM pg_indexes WHERE indexname = 'ops_auth_principal'", "dropped_objects"), "0");
            assert.equal(pg.psql("SELECT relrowsecurity FROM pg_class WHERE relname = 'oauth2_registered_client'", "dropped_objects"), "f");
            assert.equal(checksums("dropped_objects"), sourceSums);
        });
    });

    it("a row-count mismatch rolls everything back (exit 6, the target unchanged)", async function () {
        const m = servers.manifest(bucket, manifestKey);
        const other = servers.newBucket("oauth2-faults-counts");
        const body = getObject(moto, bucket, m.object_key);
        putObject(moto, other, m.object_key, body);
        const version = awsCall(moto, "s3", "list_object_versions", { Bucket: other, Prefix: m.object_key }).Versions[0].VersionId;
        putObject(moto, other, manifestKey, JSON.stringify({ ...m, s3_version_id: version, row_counts: { ...m.row_counts, oauth2_authorization: 1 } }));
        const before = oldTarget("miscounted");
        const result = await restore(other, "miscounted");
        assert.equal(result.code, 6, explain(result));
        assert.match(result.stderr, /rolled back, 127\.0\.0\.1:\d+\/miscounted is unchanged/);
        assert.equal(checksums("miscounted"), before);
    });
});
