/**
 * The corruption drills' RTO on a database of BENCH_DRILL_GB GB (default 1; BENCH_QUICK=1 uses 0.1) against
 * the floor of a dump's restore: a plain `pg_restore --single-transaction` of the database's db-backup.sh
 * dump (decrypted to a local file first) into an empty database on the same server, measured in the same
 * world right after the drill.
 *
 *   node -r ./packages/offline-plan/register.cjs bench/drill.ts
 *   BENCH_DRILL_SCENARIOS=corruption-pitr node -r ./packages/offline-plan/register.cjs bench/drill.ts
 *
 * Scenarios (BENCH_DRILL_SCENARIOS, default both): corruption-dump (restore.sh of the newest dump) and
 * corruption-pitr (wal-archive.sh restore of the base backup and replay of the archived WAL to just before
 * the corruption; its world takes a db-backup.sh dump after the drill for the floor). Prints each drill's
 * steps, then: restore step / pg_restore (what the path costs against a plain restore of a dump) and RTO /
 * pg_restore (the whole recovery, from the corrupting UPDATE to the final validation's PASS: the detection by
 * the validation, finding the corruption, archiving its WAL segment (PITR; it starts with the detection), the
 * restore, the switch and the validation that proves it), with the report's own account of what the RTO
 * covers: each step's seconds, and what it leaves out. Not asserted. For PITR the restore starts with the
 * detection (wal-archive.sh restore --target-time-file): its step is what remained of it once the corruption
 * was found, plus the new instance's start, replay and promotion; the line also gives the whole restore
 * (wal-archive.sh restore from its start, then start, replay and promotion) against pg_restore.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { BASH_C, baseEnv, getObject, runScript } from "../tools/sandbox/scripts";
import { PG_BIN } from "../tools/sandbox/servers";
import { runDrill } from "../tools/drill/scenarios";
import { formatReport } from "../tools/drill/report";
import { BUCKET, type DrillWorld } from "../tools/drill/world";

const say = (line: string) => console.log(`bench drill: ${line}`);
/** Bytes per seeded oauth2_authorization row on disk with its share of the other tables (measured: 588,235 rows = 0.82 GB). */
const BYTES_PER_ROW = 1400;

function sh(command: string, env: Record<string, string>): void {
    const result = spawnSync("bash", [...BASH_C, command], { env: baseEnv(env), encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
    if (result.status !== 0) {
        throw new Error(`${command} failed (${result.status}): ${result.stderr}`);
    }
}

/** Seconds of a plain pg_restore of the drill's newest dump into a fresh database on the primary. */
async function plainRestoreSeconds(world: DrillWorld): Promise<number> {
    const manifest = JSON.parse(getObject(world.moto, BUCKET, "database/latest.json").toString("utf8")) as { object_key: string; compression?: string };
    const dumpFile = path.join(world.workDir, "bench.dump");
    const env = { ...world.moto.env(), PASSPHRASE: world.passphrase, DUMP: dumpFile, KEY: `s3://${BUCKET}/${manifest.object_key}` };
    // The stored object is gpg(zstd(pg_dump -Fc --compress=0)) in manifest v2, gpg(pg_dump -Fc) before it.
    const decompress = manifest.compression === "zstd" ? " | zstd -q -d -c" : "";
    sh(`aws --endpoint-url "$AWS_ENDPOINT_URL" s3 cp "$KEY" - | gpg --batch --quiet --pinentry-mode loopback --passphrase-file "$PASSPHRASE" --decrypt${decompress} > "$DUMP"`, { ...env, GNUPGHOME: world.workDir });
    world.primary.createDatabase("bench_pg_restore");
    const start = performance.now();
    sh(`"${path.join(PG_BIN, "pg_restore")}" --single-transaction --exit-on-error -d bench_pg_restore "$DUMP"`, { ...world.primary.env("bench_pg_restore"), DUMP: dumpFile });
    return (performance.now() - start) / 1000;
}

/**
 * CPU seconds (user + system) of this process and of the children it has waited for (the scripts, with
 * everything they ran and reaped: helpers, curl, gpg, zstd, tar, psql): /proc/self/stat's utime, stime,
 * cutime and cstime. PostgreSQL's servers (daemonized by pg_ctl) and moto (reaped at the end) are not in it.
 */
function cpuSeconds(): number {
    const stat = fs.readFileSync("/proc/self/stat", "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // Fields 14-17 of proc(5), counted from the state (field 3) here.
    return fields.slice(11, 15).reduce((sum, f) => sum + Number(f), 0) / CLOCK_TICKS;
}
const CLOCK_TICKS = Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout.trim()) || 100;

const BENCH_SCENARIOS = ["corruption-dump", "corruption-pitr"] as const;
type BenchScenario = (typeof BENCH_SCENARIOS)[number];

export async function runDrillBench(): Promise<void> {
    const gb = Number(process.env.BENCH_DRILL_GB ?? (process.env.BENCH_QUICK === "1" ? 0.1 : 1));
    if (!(gb > 0)) {
        throw new Error(`BENCH_DRILL_GB must be a positive number of GB, not "${process.env.BENCH_DRILL_GB}"`);
    }
    const scenarios = (process.env.BENCH_DRILL_SCENARIOS ?? BENCH_SCENARIOS.join(",")).split(",").map((s) => s.trim()).filter(Boolean);
    for (const s of scenarios) {
        if (!BENCH_SCENARIOS.includes(s as BenchScenario)) {
            throw new Error(`BENCH_DRILL_SCENARIOS must list ${BENCH_SCENARIOS.join(" and/or ")}, not "${s}"`);
        }
    }
    const rows = Math.round((gb * 1e9) / BYTES_PER_ROW);
    const results: string[] = [];
    for (const scenario of scenarios as BenchScenario[]) {
        say(`${scenario} drill on ~${gb} GB (${rows} authorizations), then pg_restore of a dump of the same database`);
        let pgRestore = 0;
        let bytes = 0;
        // The RTO's CPU (this process and the scripts it ran) and the load, from the corruption to the final PASS.
        let cpuAt = 0;
        let cpu = 0;
        let load = "";
        const report = await runDrill(scenario, {
            rows,
            writeSeconds: 2,
            log: (l) => {
                if (l === "corrupt...") {
                    cpuAt = cpuSeconds();
                    load = os.loadavg()[0].toFixed(2);
                } else if (l.startsWith("validate: ")) {
                    cpu = cpuSeconds() - cpuAt;
                    load += `-${os.loadavg()[0].toFixed(2)}`;
                }
                say(l);
            },
            afterRecovery: async (world) => {
                bytes = Number(world.primary.psql("SELECT pg_database_size('oauth2db')", "postgres"));
                if (scenario === "corruption-pitr") {
                    // The floor needs a dump: the PITR path made none.
                    const backup = await runScript("db-backup.sh", world.scriptEnv(world.primary));
                    if (backup.code !== 0) {
                        throw new Error(`db-backup.sh for the floor failed: ${backup.stderr}`);
                    }
                }
                pgRestore = await plainRestoreSeconds(world);
            },
        });
        console.log(formatReport(report));
        const restoreStep = report.steps.find((s) => s.name === "restore")!;
        const restore = restoreStep.seconds;
        // PITR: the script from its start (with the detection) and the new instance's start, replay and promotion.
        const inAll = /\(started with the detection; ([\d.]+) s in all\)/.exec(restoreStep.detail);
        const recovery = /promotion ([\d.]+) s;/.exec(restoreStep.detail);
        const whole = inAll && recovery ? Number(inAll[1]) + Number(recovery[1]) : undefined;
        say(`${scenario}: database ${(bytes / 1024 ** 3).toFixed(2)} GB; pg_restore of its dump ${pgRestore.toFixed(2)} s`);
        results.push(`${scenario}: restore step ${restore.toFixed(2)} s / pg_restore ${pgRestore.toFixed(2)} s = ${(restore / pgRestore).toFixed(2)}x; ` +
            (whole === undefined ? "" : `whole restore (wal-archive.sh restore from the detection on ${inAll![1]} s + start, replay, promotion ${recovery![1]} s) ${whole.toFixed(2)} s = ${(whole / pgRestore).toFixed(2)}x; `) +
            `RTO ${report.rto.seconds.toFixed(2)} s / pg_restore = ${(report.rto.seconds / pgRestore).toFixed(2)}x (CPU in the RTO, this process and its scripts: ${cpu.toFixed(2)} s; load ${load}); RPO ${report.rpo.lostRows} of ${report.rpo.acknowledged} lost (${report.rpo.met ? "met" : "NOT MET"}); ` +
            `RTO covers ${report.rto.covers ?? "(not stated)"}`);
    }
    for (const line of results) {
        say(line);
    }
}

if (require.main === module) {
    runDrillBench().catch((err) => {
        console.error(`bench drill: FAILED: ${(err as Error).stack ?? err}`);
        process.exitCode = 1;
    });
}
