/**
 * The rehearsals of the runbook, timed step by step on real parts (tools/drill/world.ts):
 *
 *   region           write; the primary dies (pg_ctl -m immediate); the health endpoint goes DOWN; the
 *                    streaming replica is promoted (pg_promote); the server is switched to it (what the
 *                    DATABASE_URL Secret and the rollout do); validate-service.sh must PASS against it.
 *   corruption-pitr  the primary archives its WAL to the bucket (wal-archive.sh push); write; base backup
 *                    (wal-archive.sh base-backup); keep writing; a bad bulk update overwrites the client
 *                    secrets (all but the traffic client's, whose writes go on until the switch);
 *                    validate-service.sh detects it (FAIL); the corruption's time is read from the database
 *                    (the commit timestamp of the transaction that last wrote the smoke-test client's row).
 *                    As the detection starts, the current WAL segment is closed and archived, and
 *                    wal-archive.sh restore --target-time-file starts: the newest base backup that ended
 *                    before then goes into a new data directory meanwhile; the corruption's time, once found,
 *                    is its target, and it waits until the archive reaches it (--wait-for-target). The new
 *                    instance replays the archived WAL to just before that commit (recovery_target_time,
 *                    exclusive) and promotes: restore.pointInTime's offline analogue; the server is switched
 *                    to it; validate-service.sh must PASS against it.
 *   corruption-dump  the same up to the corruption's time, with db-backup.sh instead of the base backup;
 *                    restore.sh puts the newest dump into a new database; switch; validate.
 *
 * RTO is measured from the failure to the validation's PASS. RPO: the acknowledged writes (tokens the server
 * returned) committed before the failure that the recovered database does not hold. For the corruption the
 * failure is the corrupting transaction's commit timestamp, and each write is placed before or after it by
 * its own commit timestamp in the primary (track_commit_timestamp); writes acknowledged after it and missing
 * from the recovered database are reported apart, as the recovery point's cost.
 */
import * as fs from "fs";
import * as path from "path";
import type { ScriptResult } from "../sandbox/scripts";
import { runScript } from "../sandbox/scripts";
import { NAMED_WRITES_MAX, OBJECTIVES, POINT_IN_TIME_PATH, rpoMet, type DrillReport, type DrillStep, type NamedWrites, type Scenario } from "./report";
import { compromiseDrill, LOCK_DAYS } from "./compromise";
import { BUCKET, DrillWorld, type Ack, dbUrl, SMOKE_CLIENT, TRAFFIC_CLIENT } from "./world";
import { freePort, type MotoServer } from "../sandbox/servers";
import type { PrivateJwk } from "./oidc-server";

export interface DrillOptions {
    /** oauth2_authorization rows seeded before the drill. */
    rows: number;
    /** Seconds of traffic before the backup/failure (and, for corruption, after the backup). */
    writeSeconds: number;
    /** Progress lines (stderr in the CLI). */
    log?: (line: string) => void;
    /** Runs after the report is complete, before the world stops (the benchmark measures pg_restore here). */
    afterRecovery?: (world: DrillWorld) => Promise<void>;
    /**
     * The traffic client's pause after each answer, ms (default 20: about 50 writes a second at most). The tests
     * take 100: the verdicts need writes before the failure and after the backup, not their number, and each
     * write is a token signed and a row inserted in the test's own process.
     */
    trafficPauseMs?: number;
    /** A running moto for the production account, emptied before use and left running (WorldOptions.moto). */
    moto?: MotoServer;
    /** The OpenID provider's signing keys (WorldOptions.signingKeys; default two made for the drill). */
    signingKeys?: PrivateJwk[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class Stopwatch {
    readonly steps: DrillStep[] = [];
    constructor(private readonly log: (line: string) => void) {}

    async step(name: string, work: () => Promise<string> | string): Promise<void> {
        const start = performance.now();
        this.log(`${name}...`);
        const detail = await work();
        const seconds = (performance.now() - start) / 1000;
        this.steps.push({ name, seconds, detail });
        this.log(`${name}: ${seconds.toFixed(2)} s, ${detail}`);
    }
}

export function lines(result: ScriptResult): string[] {
    return result.stdout.split("\n").filter((l) => /^(PASS|FAIL) /.test(l));
}

export function mustSucceed(what: string, result: ScriptResult): ScriptResult {
    if (result.code !== 0) {
        throw new Error(`${what} failed (exit ${result.code}):\n${result.stdout}${result.stderr}`);
    }
    return result;
}

/**
 * The FAIL lines of a validation that must have detected `what`: throws when it passed, or when it failed without a
 * FAIL line (a configuration error, its AWS helper or the server unreachable: exit 2 or 3 with only an ERROR on
 * stderr). Such a failure detected nothing, and the corruption drill took it as its detection: "detect: 0.11 s, "
 * with no FAIL line, then went on to find the corruption it had made itself.
 */
export function detection(what: string, result: ScriptResult): string[] {
    const failed = lines(result).filter((l) => l.startsWith("FAIL"));
    if (result.code === 0 || failed.length === 0) {
        throw new Error(`validate-service.sh did not detect ${what} (exit ${result.code}${failed.length === 0 ? ", no FAIL line" : ""}):\n${result.stdout}${result.stderr}`);
    }
    return failed;
}

interface RpoMeasure {
    /** The failure (ms since 1970), and as the database prints it when it has more precision. */
    failedAt: number;
    failedAtText?: string;
    failureEvidence: string;
    /** The recovery point (ms), when the path declares one (PITR target, dump snapshot); else the newest surviving write. */
    recoveryPointAt?: number;
    recoveryPointText?: string;
    /** Commit times of the acknowledged writes (by md5) where the database has them; else the acknowledgement's time. */
    committedAt?: Map<string, number>;
}

/** The RPO of a recovery: what survived of the writes acknowledged before the failure, and after it. */
export function measureRpo(scenario: Scenario, acks: Ack[], survivors: Set<string>, m: RpoMeasure, note: string): DrillReport["rpo"] {
    const objective = OBJECTIVES[scenario];
    // Before or after the failure: by the database's commit time where it has one, else by when the request was sent.
    // A write whose answer arrived after the failure but whose request went out before it was written, if at all, by
    // what failed (the region drill's primary committed it and died; its answer was read once pg_ctl's stop returned):
    // until h40 such a write, lost, was counted "after the failure" (the recovery point's cost), not against the RPO.
    const side = (a: Ack) => m.committedAt?.get(a.md5) ?? a.sentAt ?? a.at;
    const before = acks.filter((a) => side(a) < m.failedAt);
    const after = acks.filter((a) => side(a) >= m.failedAt);
    const lost = before.filter((a) => !survivors.has(a.md5));
    const kept = before.filter((a) => survivors.has(a.md5));
    const point = m.recoveryPointAt ?? (kept.length > 0 ? Math.max(...kept.map(side)) : undefined);
    const windowSeconds = lost.length === 0 ? 0 : (m.failedAt - (point ?? Math.min(...lost.map(side)))) / 1000;
    // No write acknowledged before the failure: nothing measured, never met (rpoVerdict).
    const met = before.length > 0 && rpoMet(objective, lost.length, windowSeconds);
    const missing = after.filter((a) => !survivors.has(a.md5));
    // The writes named (what an operator must tell the clients): their span, whose, which rows.
    const named = (writes: Ack[]): NamedWrites | undefined => writes.length === 0 ? undefined : {
        from: new Date(Math.min(...writes.map((a) => a.at))).toISOString(),
        to: new Date(Math.max(...writes.map((a) => a.at))).toISOString(),
        clients: [...new Set(writes.map((a) => a.client).filter((c): c is string => c !== undefined))].sort(),
        table: "oauth2_authorization",
        md5: writes.slice(0, NAMED_WRITES_MAX).map((a) => a.md5),
        more: Math.max(0, writes.length - NAMED_WRITES_MAX),
    };
    const lostNamed = named(lost);
    const missingNamed = named(missing);
    return {
        failureAt: m.failedAtText ?? new Date(m.failedAt).toISOString(),
        failureEvidence: m.failureEvidence,
        recoveryPoint: m.recoveryPointText ?? (point === undefined ? undefined : new Date(point).toISOString()),
        acknowledged: before.length,
        lostRows: lost.length,
        windowSeconds,
        afterFailure: { acknowledged: after.length, notRecovered: missing.length, ...(missingNamed ? { missing: missingNamed } : {}) },
        ...(lostNamed ? { lost: lostNamed } : {}),
        target: objective.rpo,
        targetSeconds: objective.rpoSeconds,
        met,
        ...(met || before.length === 0 ? {} : { shortfall: { lostRows: lost.length, windowSeconds, meetsIt: objective.rpoSeconds === 0 ? POINT_IN_TIME_PATH : "synchronous replication or a smaller replica lag" } }),
        note,
    };
}

async function waitFor(what: string, timeoutMs: number, probe: () => Promise<boolean>): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await probe())) {
        if (Date.now() > deadline) {
            throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
        }
        await sleep(100);
    }
}

async function healthStatus(url: string): Promise<string> {
    try {
        const response = await fetch(`${url}/actuator/health`, { signal: AbortSignal.timeout(2000) });
        return ((await response.json()) as { status?: string }).status ?? "none";
    } catch {
        return "unreachable";
    }
}

async function regionDrill(world: DrillWorld, options: DrillOptions, clock: Stopwatch): Promise<Omit<DrillReport, "startedAt" | "database">> {
    const replica = world.replica!;
    const traffic = world.startTraffic(options.trafficPauseMs);
    let failedAt = 0;
    let validation: ScriptResult | undefined;
    try {
        await clock.step("write", async () => {
            const { note } = await traffic.writeFor(options.writeSeconds);
            const lag = replica.psql("SELECT coalesce(pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn()), 0)", "postgres");
            return `${traffic.acks.length} tokens acknowledged by the primary${note}; replica streaming (replay ${lag} bytes behind receive)`;
        });
        await clock.step("fail", () => {
            failedAt = Date.now();
            world.crashPrimary();
            return "primary stopped with pg_ctl -m immediate (region lost)";
        });
        await clock.step("detect", async () => {
            await waitFor("the health endpoint to report DOWN", 60_000, async () => (await healthStatus(world.server.url)) !== "UP");
            return "/actuator/health DOWN (the Route 53 health check's signal)";
        });
        await clock.step("promote", async () => {
            replica.psql("SELECT pg_promote(true, 60)", "postgres");
            await waitFor("the replica to leave recovery", 60_000, async () => replica.psql("SELECT pg_is_in_recovery()", "postgres") === "f");
            return "replica promoted: pg_promote(), pg_is_in_recovery() is false, it takes writes";
        });
        await clock.step("switch", async () => {
            await world.server.switchDatabase(dbUrl(replica));
            return `DATABASE_URL -> ${dbUrl(replica)} (the Secret and the rollout of promote: true)`;
        });
        await clock.step("validate", async () => {
            validation = mustSucceed("validate-service.sh against the promoted replica", await world.validate(replica));
            return `${lines(validation).length} checks PASS`;
        });
    } finally {
        await traffic.stop();
    }
    const validatedAt = Date.now();
    const rpo = measureRpo("region", traffic.acks, world.trafficTokens(replica), { failedAt, failureEvidence: "the drill's clock when it stopped the primary" },
        "asynchronous streaming replication: the writes acknowledged but not yet replayed on the replica when the primary died are lost; the replica-lag alarm fires above 1 h");
    return finish("region", clock, validatedAt - failedAt, rpo, validation!, rtoCovers(clock, "fail",
        "from the primary's stop (pg_ctl -m immediate) to the validation's PASS",
        "the Route 53 health check's own interval and failure threshold, the decision to fail over, and the DNS/rollout time of a real switch (here a connection-pool swap)"));
}

/** When the corruption happened, from the database's own record: see the "find the corruption" step. */
interface Corruption {
    xid: string;
    /** Commit time as PostgreSQL prints it in UTC with microseconds (the recovery target). */
    committed: string;
    committedMs: number;
    rows: number;
}

/**
 * The corruption's transaction and commit time: the validation failed on the smoke-test client, so its row's
 * xmin is the transaction that last wrote it, and pg_xact_commit_timestamp (track_commit_timestamp=on) is
 * when that transaction committed; the rows sharing that xmin are what it rewrote.
 */
function findCorruption(world: DrillWorld): Corruption {
    const [xid, committed, committedMs, rows] = world.primary.psql(`SELECT c.xmin, to_char(pg_xact_commit_timestamp(c.xmin) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
            extract(epoch FROM pg_xact_commit_timestamp(c.xmin)) * 1000, (SELECT count(*) FROM oauth2_registered_client o WHERE o.xmin = c.xmin)
        FROM oauth2_registered_client c WHERE c.client_id = '${SMOKE_CLIENT}'`).split("|");
    if (!committed) {
        throw new Error(`no commit timestamp for transaction ${xid} (the last writer of ${SMOKE_CLIENT}): is track_commit_timestamp on?`);
    }
    return { xid, committed, committedMs: Number(committedMs), rows: Number(rows) };
}

async function corruptionDrill(scenario: "corruption-pitr" | "corruption-dump", world: DrillWorld, options: DrillOptions, clock: Stopwatch): Promise<Omit<DrillReport, "startedAt" | "database">> {
    const pitr = scenario === "corruption-pitr";
    const pg = world.primary;
    const restoredDb = "oauth2db_restored";
    let recovered = { pg, database: restoredDb };
    const traffic = world.startTraffic(options.trafficPauseMs);
    let backupAt = 0;
    let failedAt = 0;
    let corruption: Corruption | undefined;
    let validation: ScriptResult | undefined;
    let archiving: Promise<string> | undefined;
    let restoring: ReturnType<DrillWorld["restorePointInTime"]> | undefined;
    let finalValidation: ReturnType<DrillWorld["startValidation"]> | undefined;
    let restoredPort = 0;
    const targetFile = path.join(world.workDir, "recovery-target");
    try {
        await clock.step("write", async () => {
            const { note } = await traffic.writeFor(options.writeSeconds);
            return `${traffic.acks.length} tokens acknowledged${note}`;
        });
        if (pitr) {
            await clock.step("base backup", async () => {
                backupAt = Date.now();
                const result = mustSucceed("wal-archive.sh base-backup", await world.baseBackup());
                return `wal-archive.sh base-backup wrote ${result.stdout.trim()}; WAL archived to s3://${BUCKET}/wal/ by archive_command (wal-archive.sh push), last ${pg.psql("SELECT last_archived_wal FROM pg_stat_archiver", "postgres")}`;
            });
        } else {
            await clock.step("back up", async () => {
                backupAt = Date.now();
                const result = mustSucceed("db-backup.sh", await runScript("db-backup.sh", world.scriptEnv(pg)));
                return `db-backup.sh wrote ${result.stdout.trim()}`;
            });
        }
        await clock.step("keep writing", async () => {
            const { count, note } = await traffic.writeFor(options.writeSeconds);
            return `${count} more tokens acknowledged after the ${pitr ? "base backup" : "backup"}${note}`;
        });
        await clock.step("corrupt", () => {
            failedAt = Date.now();
            const [n, of] = pg.psql(`WITH u AS (UPDATE oauth2_registered_client SET client_secret = '{noop}' || md5(random()::text) WHERE client_id <> '${TRAFFIC_CLIENT}' RETURNING 1)
                SELECT (SELECT count(*) FROM u), (SELECT count(*) FROM oauth2_registered_client)`).split("|");
            return `a bad bulk update overwrote the secrets of ${n} of ${of} clients in oauth2_registered_client (all but the traffic client, whose writes go on until the switch)`;
        });
        await clock.step("detect", async () => {
            if (pitr) {
                // archive_timeout's job, which runs on its own schedule, not after the detection: the segment that
                // holds the corruption's commit is closed now and archived while the validation runs.
                archiving = world.archiveCurrentWal();
                archiving.catch(() => undefined);
                // The restore's first half needs no output of the detection: the newest base backup that ended
                // before now (the corruption is in the past) is downloaded, verified and extracted, and its WAL
                // prefetched, while the validation runs; the script then waits for the target (the file written
                // once the corruption is found) and for the archive to reach it.
                // The new instance's port, chosen now: the final validation, started once the corruption is found,
                // is given it before the instance exists.
                restoredPort = await freePort();
                restoring = world.restorePointInTime({ file: targetFile }, { waitForTargetSeconds: 120, port: restoredPort });
                restoring.catch(() => undefined);
            }
            return detection("the corruption", await world.validate(pg)).join(" | ");
        });
        await clock.step("find the corruption", () => {
            corruption = findCorruption(world);
            const c = corruption;
            if (pitr) {
                // The recovery target, for the restore under way: written whole, then renamed into place.
                fs.writeFileSync(`${targetFile}.tmp`, `${c.committed}\n`);
                fs.renameSync(`${targetFile}.tmp`, targetFile);
                // The final validation starts now, for the instance being restored: its AWS helper and the reads that
                // do not depend on the service (the smoke-test client's secret, the backed-up JWKS) happen while the
                // restore finishes; every one of its checks runs after the switch (validate-service.sh
                // --wait-for-stdin, the line written in the "validate" step).
                finalValidation = world.startValidation({ port: restoredPort }, "oauth2db");
            }
            return `the smoke-test client's row (the validation's FAIL) was last written by transaction ${c.xid}, which rewrote ${c.rows} rows of oauth2_registered_client; it committed at ${c.committed} (pg_xact_commit_timestamp, track_commit_timestamp=on): ${pitr ? "recovery target just before it" : "the newest dump before it is the recovery point"}`;
        });
        if (pitr) {
            await clock.step("restore", async () => {
                // The segment holding the corruption's commit is still on its way to the bucket (its push started
                // with the detection): the base backup's download does not need it, the recovery does.
                // wal-archive.sh restore --wait-for-target downloads the base backup meanwhile, then waits until the
                // archive reaches the target (that segment, prefetched and verified, holds the corruption's commit)
                // before the new instance starts.
                const [restoredOrNot, archived] = await Promise.allSettled([restoring!, archiving!]);
                if (restoredOrNot.status === "rejected") {
                    throw restoredOrNot.reason;
                }
                if (archived.status === "rejected") {
                    throw archived.reason;
                }
                const restored = restoredOrNot.value;
                recovered = { pg: restored.server, database: "oauth2db" };
                if (restored.server.port !== restoredPort) {
                    // Not where the final validation was told to look: it is started again, after the switch.
                    finalValidation?.cancel();
                    finalValidation = undefined;
                }
                const stop = restored.recoveryLog.find((l) => l.startsWith("recovery stopping")) ?? "(no 'recovery stopping' line in the server log)";
                return `wal-archive.sh restore --target-time-file --wait-for-target (started with the detection; ${restored.restoreSeconds.toFixed(2)} s in all), alongside the archive of ${archived.value}, the segment holding the corruption's commit (pg_switch_wal() as the detection started: archive_timeout's job on a schedule; wal-archive.sh push): ${restored.summary}; new instance on port ${restored.server.port} (start, replay, promotion ${restored.recoverySeconds.toFixed(2)} s; restore_command: ${restored.fetches.spool} segment(s) copied from the spool, ${restored.fetches.bucket} file(s) fetched from the bucket, ${restored.fetches.absent} look-up(s) in the bucket of a file not there (the next timeline's history; ${restored.fetches.absentPresigned} of them with curl on the URL restore presigned, no helper), ${restored.fetches.absentKnown} answered "not there" without one (timeline 1's history; read-ahead past the target's end of the archive)): ${stop}; promoted`;
            });
        } else {
            await clock.step("restore", async () => {
                pg.createDatabase(restoredDb);
                const result = mustSucceed("restore.sh", await runScript("restore.sh", world.scriptEnv(pg, restoredDb), ["--yes", "--source-database", "oauth2db"]));
                return `restore.sh: newest dump into ${restoredDb}${result.stdout.trim() ? ` (${result.stdout.trim().split("\n").pop()})` : ""}`;
            });
        }
        await clock.step("switch", async () => {
            await world.server.switchDatabase(dbUrl(recovered.pg, recovered.database));
            return `DATABASE_URL -> ${dbUrl(recovered.pg, recovered.database)} (the Secret and its rollout)`;
        });
        await clock.step("validate", async () => {
            if (finalValidation) {
                finalValidation.go();
                validation = mustSucceed("validate-service.sh --wait-for-stdin against the recovered database", await finalValidation.done);
                return `${lines(validation).length} checks PASS, every one after the switch (validate-service.sh --wait-for-stdin, started once the corruption was found: its AWS helper, the smoke-test client's secret and the backed-up JWKS were read while the restore went on)`;
            }
            validation = mustSucceed("validate-service.sh against the recovered database", await world.validate(recovered.pg, recovered.database));
            return `${lines(validation).length} checks PASS`;
        });
    } finally {
        await traffic.stop();
    }
    const validatedAt = Date.now();
    const c = corruption!;
    const rpo = measureRpo(scenario, traffic.acks, world.trafficTokens(recovered.pg, recovered.database), {
        failedAt: c.committedMs,
        failedAtText: c.committed,
        failureEvidence: `commit timestamp of transaction ${c.xid}, which rewrote the client secrets`,
        recoveryPointAt: pitr ? c.committedMs : backupAt,
        recoveryPointText: pitr ? `${c.committed} (exclusive: recovery_target_time)` : `${new Date(backupAt).toISOString()} (db-backup.sh started; its snapshot is taken just after)`,
        committedAt: world.trafficCommitTimes(pg),
    }, pitr
        ? "point-in-time recovery (restore.pointInTime's offline analogue): recovery_target_time is the corruption's commit, exclusive, so every transaction committed before it is replayed and none after it"
        : "the dump path recovers to the newest dump's snapshot: every write between it and the corruption is lost");
    return finish(scenario, clock, validatedAt - failedAt, rpo, validation!, rtoCovers(clock, "corrupt",
        `from the corrupting UPDATE (the drill's clock just before it; its commit time is the RPO's failure) to the final validation's PASS${pitr ? "; the segment holding the corruption is archived, and the base backup restored (wal-archive.sh restore --target-time-file), from the detection's start on, alongside it: the restore step is what remained of that after the corruption was found, then the new instance's start, replay and promotion; the final validation was started once the corruption was found (its AWS helper, the smoke-test client's secret and the backed-up JWKS read while the restore went on) and ran every check after the switch: the validate step is from the switch to its PASS" : ""}`,
        "the time a real incident takes before someone or something runs the validation (the drill detects at once), the decision to restore, and the DNS/rollout time of a real switch (here a connection-pool swap)"));
}

/** What an RTO covers: its start, the steps it spans with their seconds, and what it leaves out. */
export function rtoCovers(clock: Stopwatch, firstStep: string, from: string, excludes: string): string {
    const first = clock.steps.findIndex((s) => s.name === firstStep);
    const steps = clock.steps.slice(Math.max(first, 0)).map((s) => `${s.name} ${s.seconds.toFixed(2)} s`).join(", ");
    return `${from}: ${steps}; not in it: ${excludes}`;
}

export function finish(scenario: Scenario, clock: Stopwatch, rtoMs: number, rpo: DrillReport["rpo"], validation: ScriptResult, covers?: string): Omit<DrillReport, "startedAt" | "database"> {
    const objective = OBJECTIVES[scenario];
    const seconds = rtoMs / 1000;
    return {
        scenario,
        finishedAt: new Date().toISOString(),
        objective,
        steps: clock.steps,
        rto: { seconds, targetSeconds: objective.rtoSeconds, met: seconds <= objective.rtoSeconds, ...(covers ? { covers } : {}) },
        rpo,
        validation: lines(validation),
    };
}

/** Runs one scenario in a fresh world and stops everything it started, on every path. */
export async function runDrill(scenario: Scenario, options: DrillOptions): Promise<DrillReport> {
    const log = options.log ?? (() => undefined);
    const startedAt = new Date().toISOString();
    const clock = new Stopwatch(log);
    let world: DrillWorld | undefined;
    await clock.step("set up", async () => {
        world = await DrillWorld.start({
            rows: options.rows,
            replica: scenario === "region",
            archive: scenario === "corruption-pitr",
            ...(scenario === "compromise" ? { objectLock: { mode: "COMPLIANCE" as const, days: LOCK_DAYS } } : {}),
            ...(options.moto ? { moto: options.moto } : {}),
            ...(options.signingKeys ? { signingKeys: options.signingKeys } : {}),
        });
        return `PostgreSQL 15 primary${scenario === "region" ? " + streaming replica (pg_basebackup -R)" : ""}${scenario === "corruption-pitr" ? " archiving its WAL to the bucket (archive_command wal-archive.sh push)" : ""}, moto${scenario === "compromise" ? ` (the production account; ${BUCKET} with Object Lock COMPLIANCE ${LOCK_DAYS} days)` : ""}, oidc-provider on ${world.server.url}`;
    });
    try {
        const database = { rows: world!.rowCounts(world!.primary) };
        const result = scenario === "region" ? await regionDrill(world!, options, clock)
            : scenario === "compromise" ? await compromiseDrill(world!, options, clock)
            : await corruptionDrill(scenario, world!, options, clock);
        await options.afterRecovery?.(world!);
        return { ...result, startedAt, database };
    } finally {
        await world!.stop();
    }
}
