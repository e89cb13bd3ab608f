/**
 * The two rehearsals of the runbook, timed step by step on real parts (tools/drill/world.ts):
 *
 *   region      write; the primary dies (pg_ctl -m immediate); the health endpoint goes DOWN; the streaming
 *               replica is promoted (pg_promote); the server is switched to it (what the DATABASE_URL Secret
 *               and the rollout do); validate-service.sh must PASS against the promoted database.
 *   corruption  write; db-backup.sh; keep writing; a bad bulk update overwrites every client secret;
 *               validate-service.sh detects it (FAIL); restore.sh puts the newest dump into a new database;
 *               the server is switched to it; validate-service.sh must PASS against it.
 *
 * RTO is measured from the failure to the validation's PASS; RPO counts the acknowledged writes (tokens the
 * server returned before the failure) that the recovered database does not hold.
 */
import type { ScriptResult } from "../sandbox/scripts";
import { runScript } from "../sandbox/scripts";
import { OBJECTIVES, type DrillReport, type DrillStep, type Scenario } from "./report";
import { DrillWorld, type Ack, dbUrl } from "./world";

export interface DrillOptions {
    /** oauth2_authorization rows seeded before the drill. */
    rows: number;
    /** Seconds of traffic before the backup/failure (and, for corruption, after the backup). */
    writeSeconds: number;
    /** Progress lines (stderr in the CLI). */
    log?: (line: string) => void;
    /** Runs after the report is complete, before the world stops (the benchmark measures pg_restore here). */
    afterRecovery?: (world: DrillWorld) => Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

class Stopwatch {
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

function lines(result: ScriptResult): string[] {
    return result.stdout.split("\n").filter((l) => /^(PASS|FAIL) /.test(l));
}

function mustSucceed(what: string, result: ScriptResult): ScriptResult {
    if (result.code !== 0) {
        throw new Error(`${what} failed (exit ${result.code}):\n${result.stdout}${result.stderr}`);
    }
    return result;
}

/** What survived of the writes acknowledged before `failedAt`, against a recovery point. */
function measureRpo(acks: Ack[], survivors: Set<string>, failedAt: number, recoveryPointAt: number | undefined) {
    const before = acks.filter((a) => a.at < failedAt);
    const lost = before.filter((a) => !survivors.has(a.md5));
    const kept = before.filter((a) => survivors.has(a.md5));
    const point = recoveryPointAt ?? (kept.length > 0 ? Math.max(...kept.map((a) => a.at)) : undefined);
    return {
        acknowledged: before.length,
        writtenAfterRecoveryPoint: point === undefined ? before.length : before.filter((a) => a.at > point).length,
        lostRows: lost.length,
        lostBeforeRecoveryPoint: point === undefined ? 0 : lost.filter((a) => a.at <= point).length,
        recoveryPoint: point === undefined ? undefined : new Date(point).toISOString(),
        windowSeconds: lost.length === 0 || point === undefined ? 0 : (Math.max(...lost.map((a) => a.at)) - point) / 1000,
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
    const traffic = world.startTraffic();
    let failedAt = 0;
    let validation: ScriptResult | undefined;
    try {
        await clock.step("write", async () => {
            await sleep(options.writeSeconds * 1000);
            const lag = replica.psql("SELECT coalesce(pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn()), 0)", "postgres");
            return `${traffic.acks.length} tokens acknowledged by the primary; replica streaming (replay ${lag} bytes behind receive)`;
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
    const rpo = measureRpo(traffic.acks, world.trafficTokens(replica), failedAt, undefined);
    const objective = OBJECTIVES.region;
    return finish("region", clock, validatedAt - failedAt, {
        ...rpo,
        target: objective.rpo,
        met: rpo.windowSeconds <= objective.rpoSeconds!,
        note: "asynchronous streaming replication: the writes acknowledged but not yet replayed on the replica when the primary died are lost; the replica-lag alarm fires above 1 h",
    }, validation!);
}

async function corruptionDrill(world: DrillWorld, options: DrillOptions, clock: Stopwatch): Promise<Omit<DrillReport, "startedAt" | "database">> {
    const pg = world.primary;
    const restoredDb = "oauth2db_restored";
    const traffic = world.startTraffic();
    let backupAt = 0;
    let failedAt = 0;
    let validation: ScriptResult | undefined;
    try {
        await clock.step("write", async () => {
            await sleep(options.writeSeconds * 1000);
            return `${traffic.acks.length} tokens acknowledged`;
        });
        await clock.step("back up", async () => {
            backupAt = Date.now();
            const result = mustSucceed("db-backup.sh", await runScript("db-backup.sh", world.scriptEnv(pg)));
            return `db-backup.sh wrote ${result.stdout.trim()}`;
        });
        await clock.step("keep writing", async () => {
            const before = traffic.acks.length;
            await sleep(options.writeSeconds * 1000);
            return `${traffic.acks.length - before} more tokens acknowledged after the backup`;
        });
        await clock.step("corrupt", () => {
            failedAt = Date.now();
            const n = pg.psql("WITH u AS (UPDATE oauth2_registered_client SET client_secret = '{noop}' || md5(random()::text) RETURNING 1) SELECT count(*) FROM u");
            return `a bad bulk update overwrote ${n} client secrets in oauth2_registered_client`;
        });
        await clock.step("detect", async () => {
            const result = await world.validate(pg);
            if (result.code === 0) {
                throw new Error(`validate-service.sh did not detect the corruption:\n${result.stdout}`);
            }
            return lines(result).filter((l) => l.startsWith("FAIL")).join(" | ");
        });
        await clock.step("restore", async () => {
            pg.createDatabase(restoredDb);
            const result = mustSucceed("restore.sh", await runScript("restore.sh", world.scriptEnv(pg, restoredDb), ["--yes", "--source-database", "oauth2db"]));
            return `restore.sh: newest dump into ${restoredDb}${result.stdout.trim() ? ` (${result.stdout.trim().split("\n").pop()})` : ""}`;
        });
        await clock.step("switch", async () => {
            await world.server.switchDatabase(dbUrl(pg, restoredDb));
            return `DATABASE_URL -> ${dbUrl(pg, restoredDb)} (the Secret and its rollout)`;
        });
        await clock.step("validate", async () => {
            validation = mustSucceed("validate-service.sh against the restored database", await world.validate(pg, restoredDb));
            return `${lines(validation).length} checks PASS`;
        });
    } finally {
        await traffic.stop();
    }
    const validatedAt = Date.now();
    const rpo = measureRpo(traffic.acks, world.trafficTokens(pg, restoredDb), failedAt, backupAt);
    return finish("corruption", clock, validatedAt - failedAt, {
        ...rpo,
        windowSeconds: (failedAt - backupAt) / 1000,
        target: OBJECTIVES.corruption.rpo,
        met: rpo.lostBeforeRecoveryPoint === 0,
        note: "the dump path recovers to the newest dump's snapshot (met: nothing from before it is lost); the cloud's PITR (restore.pointInTime) moves the recovery point to just before the corruption",
    }, validation!);
}

function finish(scenario: Scenario, clock: Stopwatch, rtoMs: number, rpo: DrillReport["rpo"], validation: ScriptResult): Omit<DrillReport, "startedAt" | "database"> {
    const objective = OBJECTIVES[scenario];
    const seconds = rtoMs / 1000;
    return {
        scenario,
        finishedAt: new Date().toISOString(),
        objective,
        steps: clock.steps,
        rto: { seconds, targetSeconds: objective.rtoSeconds, met: seconds <= objective.rtoSeconds },
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
        world = await DrillWorld.start({ rows: options.rows, replica: scenario === "region" });
        return `PostgreSQL 15 primary${scenario === "region" ? " + streaming replica (pg_basebackup -R)" : ""}, moto, oidc-provider on ${world.server.url}`;
    });
    try {
        const database = { rows: world!.rowCounts(world!.primary) };
        const result = scenario === "region" ? await regionDrill(world!, options, clock) : await corruptionDrill(world!, options, clock);
        await options.afterRecovery?.(world!);
        return { ...result, startedAt, database };
    } finally {
        await world!.stop();
    }
}
