/**
 * The drill's world, all real and on 127.0.0.1: a PostgreSQL 15 primary holding the server's schema (and
 * optionally a streaming replica made with `pg_basebackup -R`), moto for S3 and Secrets Manager, and the
 * OpenID provider of tools/drill/oidc-server.ts reading its clients from, and recording its tokens in, the
 * database at its DATABASE_URL. Traffic is client_credentials token requests: every acknowledged token is
 * a row the server wrote, which is what the RPO counts.
 *
 * The primary runs with track_commit_timestamp=on (each transaction's commit time is the database's own
 * evidence of when a write, or the corruption, happened). With `archive`, it also archives its WAL to the
 * backup bucket: archive_command is scripts/wal-archive.sh push, run by the PostgreSQL server as the
 * postgres OS user with the scripts' environment from a 0600 file it sources (bucket, moto endpoint, a copy
 * of the passphrase file: the dumps' passphrase); restorePointInTime() restores its base backup and WAL
 * into a new instance, as restore.pointInTime does on the cloud.
 */
import { type ChildProcess, execFile, spawnSync } from "child_process";
import { createHash, randomBytes } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { OAUTH2_TABLES, seedSql } from "../sandbox/oauth2-schema";
import { awsCall, baseEnv, createBucket, createSecret, explain, listKeys, passphraseFile, putObject, resolvedHelperPython, runScript, SCRIPTS, ScriptResult, startScript } from "../sandbox/scripts";
import { LOCALHOST, MotoServer, PG_BIN, PgServer, pgAsOwner, removeAtExit, removeInBackground, scratchDir } from "../sandbox/servers";
import { OidcServer, type PrivateJwk, rsaSigningKeyAsync, smokeClientSql } from "./oidc-server";
import { secondsText } from "./report";

export const SMOKE_CLIENT = "oauth2-dr-smoke-test";
export const TRAFFIC_CLIENT = "oauth2-dr-drill-traffic";
export const SMOKE_SECRET_ID = "oauth2/smoke-test-client";
export const BUCKET = "oauth2-backups-drill";
const asRoot = typeof process.getuid === "function" && process.getuid() === 0;

export interface WorldOptions {
    /** oauth2_authorization rows to seed (clients and consents scale with it). */
    rows: number;
    replica: boolean;
    /** Continuous archiving of the primary's WAL to the bucket (scripts/wal-archive.sh), from the set-up on. */
    archive?: boolean;
    /**
     * Object Lock on the backup bucket, set before anything is written to it (moto, unlike S3, accepts an
     * Object Lock configuration only on an empty bucket): the default retention of every new version.
     */
    objectLock?: { mode: "COMPLIANCE" | "GOVERNANCE"; days: number };
    /**
     * A running moto to use instead of starting one: emptied first (moto's own reset, as a fresh server is),
     * then neither emptied nor stopped by stop(). The drill's tests run their scenarios on one
     * (tools/sandbox/scripts.ts sharedMoto): a moto_server and its aws-rpc.py started once, not per scenario.
     */
    moto?: MotoServer;
    /**
     * The OpenID provider's signing keys, the first one signing. Default: two RSA keys made for this world
     * (generateKeyPair, off the event loop, while the servers start). The tests make one pair per file.
     */
    signingKeys?: PrivateJwk[];
}

const shellQuote = (s: string) => `'${s.replace(/'/g, "'\\''")}'`;
const sqlQuote = (s: string) => `'${s.replace(/'/g, "''")}'`;

/**
 * A python3 that the postgres OS user can run with botocore and s3transfer (the archive_command's AWS helper):
 * the scripts' own choice when it is readable by that user, else the system's (python3-botocore).
 */
function pythonForPostgres(): string {
    const probe = "import importlib.util as u, sys; sys.exit(not (u.find_spec('botocore') and u.find_spec('s3transfer')))";
    const candidates = [resolvedHelperPython(), "/usr/bin/python3"].filter((p): p is string => Boolean(p));
    for (const python of candidates) {
        const [cmd, argv] = asRoot ? ["runuser", ["-u", "postgres", "--", python, "-c", probe]] : [python, ["-c", probe]];
        if (spawnSync(cmd, argv).status === 0) {
            return python;
        }
    }
    throw new Error(`the archive_command runs as the postgres OS user, and none of ${candidates.join(", ")} gives it botocore and s3transfer: install python3-botocore python3-s3transfer`);
}

/**
 * psql without blocking the event loop (the drill's OpenID provider runs in this process and answers the
 * validation meanwhile); the unaligned, tuples-only output.
 */
function psqlAsync(pg: PgServer, sql: string, database = "postgres"): Promise<string> {
    return new Promise((resolve, reject) => {
        execFile(path.join(PG_BIN, "psql"), ["-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-d", database, "-c", sql], { env: { ...process.env, ...pg.env(database) } }, (err, stdout, stderr) => {
            if (err) {
                reject(new Error(`psql failed: ${stderr || err.message}`));
            } else {
                resolve(stdout.trim());
            }
        });
    });
}

/**
 * Waits for an event instead of sleeping: `probe` runs now and again each time `watched` (a file or a
 * directory) changes, with a re-check every `recheckMs` in case a change lands between two probes' reads;
 * resolves with its first defined answer, throws its error or after `timeoutMs`.
 */
export async function untilChanged<T>(watched: string, what: string, timeoutMs: number, probe: () => Promise<T | undefined> | T | undefined, recheckMs = 500): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let wake: () => void = () => undefined;
    const watcher = fs.watch(watched, () => wake());
    try {
        for (;;) {
            let timer: NodeJS.Timeout | undefined;
            const changed = new Promise<void>((r) => {
                wake = r;
                timer = setTimeout(r, Math.min(recheckMs, Math.max(0, deadline - Date.now())));
            });
            const answer = await probe();
            if (answer !== undefined) {
                clearTimeout(timer);
                return answer;
            }
            if (Date.now() > deadline) {
                clearTimeout(timer);
                throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
            }
            await changed;
            clearTimeout(timer);
        }
    } finally {
        watcher.close();
    }
}

export const dbUrl = (pg: PgServer, database = "oauth2db") => `postgres://postgres@${LOCALHOST}:${pg.port}/${database}`;

export class DrillWorld {
    private replicaDir?: string;
    /** The postgres-owned directory of the archive_command's environment file and passphrase copy. */
    private walDir?: string;
    /** Data directories of point-in-time restores (kept by PgServer.stop: removed by stop()). */
    private readonly restoredDirs: string[] = [];
    private readonly restoredServers: PgServer[] = [];
    /** Scripts still running (a restore waiting for its target): ended by stop(). */
    private readonly running = new Set<ChildProcess>();

    private constructor(
        readonly primary: PgServer,
        readonly replica: PgServer | undefined,
        readonly moto: MotoServer,
        /** false: the caller's moto (WorldOptions.moto), not stopped by stop(). */
        private readonly ownsMoto: boolean,
        readonly server: OidcServer,
        readonly workDir: string,
        readonly passphrase: string,
        private readonly trafficSecret: string,
    ) {}

    static async start(options: WorldOptions): Promise<DrillWorld> {
        // The world's directories are removed at the process's exit unless stop() hands them to their removal
        // (removeAtExit): a drill ended by a signal (tools/drill/drill.ts exits 130/143) has not run stop().
        const workDir = removeAtExit(fs.mkdtempSync(path.join(os.tmpdir(), "oauth2-dr-drill-")));
        // Both start at once, and the signing keys are made meanwhile; when one fails, the other (already
        // started) is stopped before the error is thrown: a moto left running kept the drill's process alive
        // after "drill ... failed", without end.
        const ownsMoto = options.moto === undefined;
        const [primaryStart, motoStart, keysMade] = await Promise.allSettled([
            PgServer.start({
                settings: {
                    full_page_writes: "on",
                    wal_level: "replica",
                    max_wal_senders: "4",
                    track_commit_timestamp: "on",
                    // archive_command is set with ALTER SYSTEM (a -c here would override it).
                    ...(options.archive ? { archive_mode: "on" } : {}),
                },
            }),
            options.moto ? options.moto.reset().then(() => options.moto!) : MotoServer.start(),
            options.signingKeys ?? Promise.all([rsaSigningKeyAsync(`drill-${Date.now()}`), rsaSigningKeyAsync("drill-previous")]),
        ]);
        if (primaryStart.status === "rejected" || motoStart.status === "rejected" || keysMade.status === "rejected") {
            await Promise.all([primaryStart.status === "fulfilled" ? primaryStart.value.stop() : undefined, motoStart.status === "fulfilled" && ownsMoto ? motoStart.value.stop() : undefined]);
            fs.rmSync(workDir, { recursive: true, force: true });
            throw [primaryStart, motoStart, keysMade].map((r) => (r.status === "rejected" ? r.reason : undefined)).find((reason) => reason !== undefined);
        }
        const primary = primaryStart.value;
        const moto = motoStart.value;
        let replica: PgServer | undefined;
        let replicaDir: string | undefined;
        let server: OidcServer | undefined;
        let world: DrillWorld;
        try {
            primary.createDatabase("oauth2db");
            if (options.archive) {
                // The seed's WAL is not kept (archived by `true`): the archive starts with startArchiving().
                primary.psql("ALTER SYSTEM SET archive_command = 'true'; SELECT pg_reload_conf()", "postgres");
            }
            const smokeSecret = randomBytes(24).toString("base64url");
            const trafficSecret = randomBytes(24).toString("base64url");
            const clients = Math.max(5, Math.ceil(options.rows / 50));
            primary.psql([
                seedSql({ clients, authorizations: options.rows, consents: Math.ceil(options.rows / 4) }),
                smokeClientSql(SMOKE_CLIENT, smokeSecret),
                smokeClientSql(TRAFFIC_CLIENT, trafficSecret, "DR drill traffic"),
            ].join("\n"));
            createBucket(moto, BUCKET);
            if (options.objectLock) {
                awsCall(moto, "s3", "put_object_lock_configuration", {
                    Bucket: BUCKET,
                    ObjectLockConfiguration: { ObjectLockEnabled: "Enabled", Rule: { DefaultRetention: { Mode: options.objectLock.mode, Days: options.objectLock.days } } },
                });
            }
            createSecret(moto, SMOKE_SECRET_ID, JSON.stringify({ client_id: SMOKE_CLIENT, client_secret: smokeSecret }));
            if (options.replica) {
                // Beside the primary's cluster (tools/sandbox/servers.ts scratchDir: the tmpfs under the test suite).
                replicaDir = removeAtExit(scratchDir("replica-"));
                if (asRoot) {
                    spawnSync("chown", ["postgres:postgres", replicaDir]);
                }
                pgAsOwner("pg_basebackup", ["-h", LOCALHOST, "-p", String(primary.port), "-U", "postgres", "-D", path.join(replicaDir, "data"), "-R", "-X", "stream", "-c", "fast"]);
                replica = await PgServer.start({ dataDir: path.join(replicaDir, "data"), settings: { hot_standby: "on" } });
            }
            server = await OidcServer.start({ keys: keysMade.value, databaseUrl: dbUrl(primary) });
            // What secrets-export does for the JWKS: the served keys, backed up under secrets/.
            const jwks = await (await fetch(`${server.url}/jwks`)).text();
            putObject(moto, BUCKET, "secrets/jwks.json", jwks);
            world = new DrillWorld(primary, replica, moto, ownsMoto, server, workDir, passphraseFile(workDir, randomBytes(32).toString("hex")), trafficSecret);
            world.replicaDir = replicaDir;
        } catch (err) {
            await server?.stop();
            await Promise.all([replica?.stop(), primary.stop(), ownsMoto ? moto.stop() : undefined]);
            for (const dir of [workDir, replicaDir]) {
                if (dir) fs.rmSync(dir, { recursive: true, force: true });
            }
            throw err;
        }
        if (options.archive) {
            try {
                await world.startArchiving();
            } catch (err) {
                await world.stop();
                throw err;
            }
        }
        return world;
    }

    /** A command PostgreSQL runs (archive_command, restore_command): the scripts' environment, then the script. */
    private walCommand(args: string): string {
        return `. ${shellQuote(path.join(this.walDir!, "env"))} && exec ${shellQuote(path.join(SCRIPTS, "wal-archive.sh"))} ${args}`;
    }

    /**
     * Archiving on: the environment file, archive_command = wal-archive.sh push (ALTER SYSTEM and a reload),
     * then a WAL switch whose segment must arrive in the bucket (the reload reaches the archiver
     * asynchronously: until a segment is in the bucket, it may still be archived by `true`).
     */
    private async startArchiving(): Promise<void> {
        this.walDir = removeAtExit(fs.mkdtempSync(path.join(os.tmpdir(), "oauth2-dr-wal-")));
        const passphrase = path.join(this.walDir, "passphrase");
        fs.copyFileSync(this.passphrase, passphrase);
        const env = baseEnv({ ...this.moto.env(), BUCKET, PASSPHRASE_FILE: passphrase, AWS_HELPER_PYTHON: pythonForPostgres() });
        fs.writeFileSync(path.join(this.walDir, "env"), Object.entries(env).map(([k, v]) => `export ${k}=${shellQuote(v)}\n`).join(""), { mode: 0o600 });
        if (asRoot) {
            spawnSync("chown", ["-R", "postgres:postgres", this.walDir]);
        }
        this.primary.psql(`ALTER SYSTEM SET archive_command = ${sqlQuote(this.walCommand('push "%p" "%f"'))}`, "postgres");
        this.primary.psql("SELECT pg_reload_conf()", "postgres");
        for (let attempt = 0; ; attempt++) {
            const segment = await this.archiveCurrentWal();
            if (listKeys(this.moto, BUCKET, `wal/${segment}`).length > 0) {
                return;
            }
            if (attempt >= 20) {
                throw new Error(`WAL archiving did not start: ${segment} was archived but is not in s3://${BUCKET}/wal/`);
            }
        }
    }

    /**
     * Closes the current WAL segment (what archive_timeout does on a timer) and waits until the archiver has
     * archived it; returns its name. The event: the archiver marks it done in pg_wal/archive_status (then
     * pg_stat_archiver says so); a failure of the archive_command throws with the server log's last lines.
     * Asynchronous throughout, so it can overlap other work (the detecting validation).
     */
    async archiveCurrentWal(timeoutMs = 60_000): Promise<string> {
        const segment = (await psqlAsync(this.primary, "SELECT txid_current(); SELECT pg_walfile_name(pg_switch_wal())")).split("\n").pop()!;
        const status = path.join(this.primary.dataDir, "pg_wal", "archive_status");
        try {
            return await untilChanged(status, `the archiver to archive ${segment}`, timeoutMs, async () => {
                if (!fs.existsSync(path.join(status, `${segment}.done`))) {
                    const failed = await psqlAsync(this.primary, "SELECT coalesce(last_failed_wal, '') FROM pg_stat_archiver");
                    if (failed >= segment) {
                        throw new Error(`archiving ${segment} failed`);
                    }
                    return undefined;
                }
                return segment;
            });
        } catch (err) {
            throw new Error(`${(err as Error).message} (archive_command wal-archive.sh push): ${this.serverLog(this.primary, 12)}`);
        }
    }

    /** The last `lines` lines of a server's log (its archive_command's and restore_command's stderr too). */
    serverLog(pg: PgServer, lines = 40): string {
        const file = path.join(pg.baseDir, "postgres.log");
        return fs.existsSync(file) ? fs.readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n") : "(no server log)";
    }

    /** scripts/wal-archive.sh base-backup of the primary; returns its output (the manifest key). */
    async baseBackup(): Promise<ScriptResult> {
        return runScript("wal-archive.sh", this.scriptEnv(this.primary), ["base-backup"]);
    }

    /**
     * Point-in-time recovery into a new instance (restore.pointInTime's offline analogue): wal-archive.sh
     * restore of the newest base backup that ended before `target` into a new data directory, set up to
     * recover to just before it with restore_command = wal-archive.sh fetch (with `waitForTargetSeconds`, the
     * script waits, at most that long, until the archive holds the WAL that reaches the target, which may still
     * be on its way there when it starts: --wait-for-target). `target` may be `{ file }`: the target is not
     * known yet; the script takes the newest base backup that ended before it started, and reads the target
     * from the file once it is written (--target-time-file), before it sets up the recovery. The instance is
     * started (on `port` when given: one chosen earlier with freePort()) and waited for until recovery has
     * stopped at the target and promoted it. Returns it and the script's line.
     */
    async restorePointInTime(targetTime: string | { file: string } | undefined, options: { waitForTargetSeconds?: number; port?: number } = {}): Promise<{ server: PgServer; summary: string; recoveryLog: string[]; fetches: { spool: number; bucket: number; absent: number; absentPresigned: number; absentKnown: number }; restoreSeconds: number; recoverySeconds: number }> {
        const started = performance.now();
        // Beside the primary's cluster (scratchDir: the tmpfs under the test suite, the temp dir for the drill's CLI).
        const dir = removeAtExit(scratchDir("pitr-"));
        this.restoredDirs.push(dir);
        const dataDir = path.join(dir, "data");
        const target = targetTime === undefined ? [] : [
            ...(typeof targetTime === "string" ? ["--target-time", targetTime] : ["--target-time-file", targetTime.file]),
            ...(options.waitForTargetSeconds ? ["--wait-for-target", String(options.waitForTargetSeconds)] : []),
        ];
        // Ended by itself (or by stop()'s SIGTERM, as runScript's runs): under the tests its AWS helper may be forked
        // (TEST_ONLY_AWS_HELPER_FORKS, tools/sandbox/scripts.ts); the drill's CLI starts it as production does.
        const run = startScript("wal-archive.sh", this.scriptEnv(this.primary), ["restore", dataDir, ...target, "--restore-command", this.walCommand('fetch "%f" "%p"')], { helperForks: true });
        this.running.add(run.child);
        const result = await run.done.finally(() => this.running.delete(run.child));
        if (result.code !== 0) {
            throw new Error(`wal-archive.sh restore failed: ${explain(result)}`);
        }
        if (asRoot) {
            spawnSync("chown", ["-R", "postgres:postgres", dir]);
        }
        const restored = performance.now();
        // One attempt: a recovery that fails would fail again, at the cost of its restore_command calls each time.
        // pg_ctl -W: no 100 ms poll of postmaster.pid on the path; the log below says when it is up, or failed.
        const server = await PgServer.start({ dataDir, settings: { track_commit_timestamp: "on" }, attempts: 1, wait: false, ...(options.port ? { port: options.port } : {}) });
        this.restoredServers.push(server);
        // The event: the postmaster's "ready to accept connections" (read-write: recovery ended, promoted), or
        // the startup process's failure (a recovery that cannot reach its target ends the server: FATAL; a
        // postmaster that cannot start at all: "database system is shut down" too). The directory is watched:
        // pg_ctl -W may return before the postmaster's shell has created the log.
        const logFile = path.join(server.baseDir, "postgres.log");
        const ended = await untilChanged(server.baseDir, "the restored instance to finish recovery", 300_000, () => {
            if (!fs.existsSync(logFile)) {
                return undefined;
            }
            const text = fs.readFileSync(logFile, "utf8");
            return /database system is ready to accept connections/.test(text) ? "promoted"
                : /startup process \(PID \d+\) exited|database system is shut down/.test(text) ? "failed" : undefined;
        }).catch((err: Error) => {
            throw new Error(`${err.message}: ${this.serverLog(server)}`);
        });
        let inRecovery: string;
        try {
            inRecovery = ended === "promoted" ? await psqlAsync(server, "SELECT pg_is_in_recovery()") : "stopped";
        } catch (err) {
            inRecovery = `not answering (${(err as Error).message.trim()})`;
        }
        if (inRecovery !== "f") {
            throw new Error(`the restored instance stopped answering during recovery (${inRecovery}): ${this.serverLog(server)}`);
        }
        const log = this.serverLog(server, 200).split("\n");
        const recoveryLog = log.filter((l) => /recovery stopping|last completed transaction|selected new timeline|archive recovery complete|consistent recovery state/.test(l)).map((l) => l.replace(/^.*?(LOG|FATAL|ERROR):\s+/, ""));
        // restore_command's calls, from its own lines in the log: a spooled segment moved, a file fetched from the bucket, one not there.
        const count = (re: RegExp) => log.filter((l) => re.test(l)).length;
        const fetches = {
            spool: count(/wal-archive: restored \S+ from the spool/),
            bucket: count(/wal-archive: restored \S+ from s3:/),
            absent: count(/wal-archive: \S+ is not in the archive \(s3:/),
            absentPresigned: count(/wal-archive: \S+ is not in the archive \(s3:\S+: 404 to the URL restore presigned for it\)/),
            absentKnown: count(/wal-archive: \S+ (is not in the archive \(timeline 1|is past the archive's end)/),
        };
        return { server, summary: result.stdout.trim(), recoveryLog, fetches, restoreSeconds: (restored - started) / 1000, recoverySeconds: (performance.now() - restored) / 1000 };
    }

    /** Row counts of the server's tables in `database` on `pg`. */
    rowCounts(pg: PgServer, database = "oauth2db"): Record<string, number> {
        return Object.fromEntries(OAUTH2_TABLES.map((t) => [t, Number(pg.psql(`SELECT count(*) FROM ${t}`, database))]));
    }

    /** The libpq, AWS and bucket environment of the scripts against `pg`/`database`. */
    scriptEnv(pg: PgServer, database = "oauth2db"): Record<string, string> {
        return { ...pg.env(database), ...this.moto.env(), BUCKET, PASSPHRASE_FILE: this.passphrase };
    }

    /**
     * scripts/validate-service.sh against the server, expecting the database `pg`/`database`; `env` overrides
     * the AWS side (the compromise drill validates with the vault account's endpoint and bucket).
     */
    validate(pg: PgServer, database = "oauth2db", env: Record<string, string> = {}): Promise<ScriptResult> {
        return runScript("validate-service.sh", this.validationEnv(pg, database, env));
    }

    /**
     * validate-service.sh --wait-for-stdin against `pg`/`database`, started now: it starts its AWS helper and
     * reads the smoke-test client's secret and the backed-up JWKS (nothing of the service) while the caller
     * finishes the recovery; go() writes the line after which it runs every check, against the service as it
     * is then. Ended by stop() if go() never comes.
     */
    startValidation(pg: PgServer | { port: number }, database = "oauth2db", env: Record<string, string> = {}): { go: () => void; cancel: () => void; done: Promise<ScriptResult> } {
        const run = startScript("validate-service.sh", this.validationEnv(pg, database, env), ["--wait-for-stdin"], { stdin: true, helperForks: true });
        this.running.add(run.child);
        const done = run.done.finally(() => this.running.delete(run.child));
        // A validation that ended early (a configuration error) closes its stdin: its result says why, not EPIPE.
        run.child.stdin!.on("error", () => undefined);
        return { go: () => run.child.stdin!.end("go\n"), cancel: () => run.child.kill("SIGTERM"), done };
    }

    private validationEnv(pg: PgServer | { port: number }, database: string, env: Record<string, string>): Record<string, string> {
        const db = pg instanceof PgServer ? pg.env(database) : { PGHOST: LOCALHOST, PGPORT: String(pg.port), PGUSER: "postgres", PGDATABASE: database, PGCONNECT_TIMEOUT: "5" };
        return {
            ...db,
            ...this.moto.env(),
            BUCKET,
            PASSPHRASE_FILE: this.passphrase,
            ...env,
            ISSUER: this.server.issuer,
            SMOKE_CLIENT_SECRET_ID: SMOKE_SECRET_ID,
            HTTP_TIMEOUT: "5",
        };
    }

    /** Simulates the loss of the primary's region: the server process dies without a checkpoint. */
    crashPrimary(): void {
        pgAsOwner("pg_ctl", ["-D", this.primary.dataDir, "-m", "immediate", "-w", "stop"]);
    }

    /** The traffic client, started now; `pauseMs`: Traffic's pause after each answer (default 20). */
    startTraffic(pauseMs?: number): Traffic {
        return new Traffic(`${this.server.url}/token`, TRAFFIC_CLIENT, this.trafficSecret, pauseMs);
    }

    /** md5 of the traffic client's token values present in `database` on `pg` (what survived). */
    trafficTokens(pg: PgServer, database = "oauth2db"): Set<string> {
        const out = pg.psql(`SELECT md5(a.access_token_value) FROM oauth2_authorization a JOIN oauth2_registered_client c ON c.id = a.registered_client_id WHERE c.client_id = '${TRAFFIC_CLIENT}'`, database);
        return new Set(out.split("\n").filter(Boolean));
    }

    /**
     * When each of the traffic client's tokens in `database` on `pg` was committed (ms since 1970, from
     * pg_xact_commit_timestamp of its row's xmin: the database's own record), keyed by the token's md5.
     */
    trafficCommitTimes(pg: PgServer, database = "oauth2db"): Map<string, number> {
        const out = pg.psql(`SELECT md5(a.access_token_value), extract(epoch FROM pg_xact_commit_timestamp(a.xmin)) * 1000 FROM oauth2_authorization a JOIN oauth2_registered_client c ON c.id = a.registered_client_id WHERE c.client_id = '${TRAFFIC_CLIENT}' AND pg_xact_commit_timestamp(a.xmin) IS NOT NULL`, database);
        return new Map(out.split("\n").filter(Boolean).map((line) => {
            const [md5, at] = line.split("|");
            return [md5, Number(at)] as [string, number];
        }));
    }

    async stop(): Promise<void> {
        for (const child of this.running) {
            child.kill("SIGTERM");
        }
        await this.server.stop();
        // A crashed primary is already down: stop() then only removes its directories. Nothing waits for their
        // removal (a detached rm: removeInBackground), which waited on the disk for seconds per cluster.
        const background = { removeInBackground: true };
        await Promise.all([this.primary.stop(background), this.replica?.stop(background), this.ownsMoto ? this.moto.stop() : undefined, ...this.restoredServers.map((s) => s.stop(background))]);
        this.removal = removeInBackground([this.workDir, this.replicaDir, this.walDir, ...this.restoredDirs].filter((d): d is string => d !== undefined)).done;
    }

    /** The removal of the world's own directories that stop() started (the servers' are their own). */
    removal?: Promise<void>;
}

export interface Ack {
    /** md5 of the token value, as stored in oauth2_authorization.access_token_value. */
    md5: string;
    /** When the acknowledgement (the 200) arrived. */
    at: number;
    /** When its request was sent: a write sent before the failure was written, if at all, by what failed. */
    sentAt?: number;
    /** The client the token was issued to (the report names whose writes were lost). */
    client?: string;
}

/**
 * A client sending client_credentials requests one after another, `pauseMs` apart (default 20: about 50 writes a
 * second at most: traffic, not a load test); every 200 is an acknowledged write.
 */
export class Traffic {
    readonly acks: Ack[] = [];
    failures = 0;
    private running = true;
    private readonly loop: Promise<void>;

    constructor(private readonly tokenUrl: string, private readonly clientId: string, secret: string, private readonly pauseMs = 20) {
        const authorization = `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString("base64")}`;
        this.loop = this.run(authorization);
    }

    private async run(authorization: string): Promise<void> {
        while (this.running) {
            const sentAt = Date.now();
            try {
                const response = await fetch(this.tokenUrl, {
                    method: "POST",
                    headers: { authorization, "content-type": "application/x-www-form-urlencoded" },
                    body: "grant_type=client_credentials",
                    signal: AbortSignal.timeout(5000),
                });
                const body = (await response.json()) as { access_token?: string };
                if (response.status === 200 && body.access_token) {
                    this.acks.push({ md5: createHash("md5").update(body.access_token).digest("hex"), at: Date.now(), sentAt, client: this.clientId });
                } else {
                    this.failures++;
                }
            } catch {
                this.failures++;
            }
            await new Promise((r) => setTimeout(r, this.pauseMs));
        }
    }

    /**
     * Lets the traffic write for `seconds`, then on until at least one more token is acknowledged, at most
     * FIRST_ACK_LIMIT_MS more. A window without an acknowledged write measures no RPO (NOT MEASURED), and a loaded
     * machine is no reason for that: in a CI run at load 14 the region drill's first token took more than its 0.5 s.
     * Returns how many were acknowledged and, when it waited on, a note saying how long (for the step's line).
     */
    async writeFor(seconds: number): Promise<{ count: number; note: string }> {
        const before = this.acks.length;
        const started = Date.now();
        await sleep(seconds * 1000);
        const deadline = Date.now() + FIRST_ACK_LIMIT_MS;
        while (this.acks.length === before && this.running && Date.now() < deadline) {
            await sleep(Math.min(this.pauseMs, 50) + 10);
        }
        const count = this.acks.length - before;
        const waited = (Date.now() - started) / 1000;
        const note = waited <= seconds + 0.1
            ? ""
            : count > 0
                ? ` (written ${secondsText(waited)} s, not ${seconds}: the first token of the window was acknowledged late)`
                : ` (no token acknowledged in ${secondsText(waited)} s: ${this.failures} requests failed)`;
        return { count, note };
    }

    async stop(): Promise<void> {
        this.running = false;
        await this.loop;
    }
}

/** How long past its seconds a write step waits for its first acknowledged token (Traffic.writeFor). */
const FIRST_ACK_LIMIT_MS = 60_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
