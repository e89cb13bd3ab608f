/**
 * Benchmark of the backup pipeline (issue 5). Standalone: `node -r ./packages/offline-plan/register.cjs bench/backup.ts`; bench/run.ts may call
 * `runBackupBench()`.
 *
 *  1. backup: scripts/db-backup.sh (pg_dump -Fc -Z0 | zstd -T2 | gpg AES256 | tee sha256/size | aws-helper.py's upload
 *     to a local moto_server, then the manifest) against `pg_dump --format=custom > /dev/null` on the same
 *     database; prints the ratio (goal: at most 0.5x) and the pipeline's peak memory (goal: 150 MB);
 *  2. restore: scripts/restore.sh (one pass: the download spooled, hashed and checked by gpg (MDC) while its
 *     rows load into staging tables by RESTORE_JOBS parallel COPY sessions; then, once verified, moved into
 *     place, indexed and checked against the manifest in one transaction; its phases are printed from its log
 *     lines) into a fresh database (BENCH_RESTORE_BASELINE=<scripts dir>: that restore.sh and restore-verification.sh too, interleaved), and
 *     scripts/restore-verification.sh (restore.sh's one pass, without a spool, into a scratch database, plus the checklist), each
 *     against `pg_restore -d <fresh database> <local dump file>` alone (goals, issue 25: restore at most 0.8x,
 *     verification at most 1.0x; restore peak memory at most 150 MB).
 *
 * Encryption modes (BENCH_ENCRYPTION, default "symmetric,public-key"): each run backs up with the passphrase
 * (gpg --symmetric) and, interleaved in the same run, with public keys (issue 23: gpg --encrypt to a recipient,
 * BACKUP_GPG_PUBLIC_KEYS_FILE; a TEST ONLY ed25519/cv25519 key generated for the run), each against the same
 * pg_dump floor; the restore and verification are measured on each mode's dump (public-key: the private key
 * from RESTORE_GPG_PRIVATE_KEYS_FILE). "symmetric" alone is the bench as before.
 *
 * The database is generated with generate_series into the oauth2_* tables (JWT-sized random tokens) until
 * it is BENCH_DB_GB GB on disk (default 1; a comma-separated list runs several sizes, e.g. "0.25,1", to show
 * that memory does not grow with the size). The data directory is cached in $TMPDIR keyed by size, so
 * re-runs start in seconds. BENCH_RUNS (default 3) runs per measurement; medians are printed. BENCH_BACKUP_RUNS
 * (default BENCH_RUNS) runs of the backup part alone (1: one backup, then the restores measured BENCH_RUNS times).
 * BENCH_VERIFY_ONLY=1: the restore part runs pg_restore and restore-verification.sh only (with a baseline: its
 * verification too, the two alternating first from round to round); restore.sh is then not run, and said to be
 * not measured (no ratio, no peak and no verdict on its goals).
 *
 * Peak memory: every 100 ms the benchmark walks /proc for the process tree of the script (bash, pg_dump,
 * gpg, tee, sha256sum, wc, curl, python3 (aws-helper.py), psql) and sums VmRSS; the peak of that sum is reported, with the largest
 * single process. The PostgreSQL backend and moto_server are servers, not part of the pipeline, and are
 * not counted.
 */
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { authorizationRowsSql, clientRowsSql, consentRowsSql, SCHEMA_SQL } from "../tools/sandbox/oauth2-schema";
import { generateTestKey } from "../tools/sandbox/gpg-keys";
import { baseEnv, createBucket, passphraseFile, SCRIPTS } from "../tools/sandbox/scripts";
import { MotoServer, PG_BIN, PgServer } from "../tools/sandbox/servers";

const CLIENTS = 500;
const BATCH = 50_000;

export interface SizeResult {
    targetGb: number;
    databaseBytes: number;
    authorizations: number;
    dumpBytes: number;
    pgDumpSeconds: number[];
    backupSeconds: number[];
    /** CPU seconds of moto_server during each backup (the S3 stand-in shares the machine). */
    motoCpuSeconds: number[];
    ratio: number;
    peakRssBytes: number;
    peakProcess: string;
    pgRestoreSeconds: number[];
    restoreSeconds: number[];
    restoreRatio: number;
    restorePeakRssBytes: number;
    verificationSeconds: number[];
    verificationRatio: number;
    /** The same figures in public-key mode (BENCH_ENCRYPTION includes "public-key"), against the same floors. */
    publicKey?: {
        backupSeconds: number[];
        ratio: number;
        peakRssBytes: number;
        restoreSeconds: number[];
        restoreRatio: number;
        restorePeakRssBytes: number;
        verificationSeconds: number[];
        verificationRatio: number;
    };
}

const MODES = (process.env.BENCH_ENCRYPTION ?? "symmetric,public-key").split(",").map((m) => m.trim());

const median = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;
const secs = (xs: number[]) => `median ${median(xs).toFixed(1)} s (runs: ${xs.map((x) => x.toFixed(1)).join(", ")})`;
const say = (line: string) => console.log(`bench backup: ${line}`);

/** CPU seconds (user + system) used so far by a process, from /proc. */
function cpuOf(pid: number | undefined): number {
    if (pid === undefined) {
        return NaN;
    }
    try {
        const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
        const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        return (Number(fields[11]) + Number(fields[12])) / 100;
    } catch {
        return NaN;
    }
}

/**
 * CPU seconds (user + system) the PostgreSQL server has used so far: the postmaster's own and its reaped
 * children's (backends and parallel workers that exited), plus its live children's (checkpointer, WAL
 * writer, sessions still open). The difference around a run is the server's share of that run.
 */
function serverCpu(pg: PgServer): number {
    try {
        const postmaster = Number(fs.readFileSync(path.join(pg.dataDir, "postmaster.pid"), "utf8").split("\n")[0]);
        let total = 0;
        for (const entry of fs.readdirSync("/proc")) {
            if (!/^\d+$/.test(entry)) {
                continue;
            }
            try {
                const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
                const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
                const pid = Number(entry);
                if (pid === postmaster) {
                    total += Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
                } else if (Number(fields[1]) === postmaster) {
                    total += Number(fields[11]) + Number(fields[12]);
                }
            } catch {
                // the process ended meanwhile
            }
        }
        return total / 100;
    } catch {
        return NaN;
    }
}

/** Starts (or reuses) the cached cluster of this size, seeded to at least targetGb. */
async function seededServer(targetGb: number): Promise<{ pg: PgServer; authorizations: number }> {
    const cache = path.join(os.tmpdir(), `oauth2-dr-bench-pg-${targetGb}gb`);
    const marker = path.join(cache, "seeded.json");
    fs.mkdirSync(cache, { recursive: true });
    const pg = await PgServer.start({ dataDir: path.join(cache, "data"), settings: { shared_buffers: "256MB", max_wal_size: "4GB", checkpoint_timeout: "30min" } });
    if (fs.existsSync(marker)) {
        const seeded = JSON.parse(fs.readFileSync(marker, "utf8"));
        if (pg.psql("SELECT count(*) FROM pg_database WHERE datname = 'oauth2db'", "postgres") === "1") {
            say(`reusing the cached ${targetGb} GB database in ${cache}`);
            return { pg, authorizations: seeded.authorizations };
        }
    }
    say(`generating a ${targetGb} GB database in ${cache} (once; cached for re-runs)`);
    if (pg.psql("SELECT count(*) FROM pg_database WHERE datname = 'oauth2db'", "postgres") !== "1") {
        pg.createDatabase("oauth2db");
    }
    pg.psql(SCHEMA_SQL + clientRowsSql(1, CLIENTS) + consentRowsSql(1, 20_000, CLIENTS));
    const target = targetGb * 1024 ** 3;
    let rows = Number(pg.psql("SELECT count(*) FROM oauth2_authorization"));
    const started = Date.now();
    while (Number(pg.psql("SELECT pg_database_size('oauth2db')")) < target) {
        pg.psql(authorizationRowsSql(rows + 1, rows + BATCH, CLIENTS));
        rows += BATCH;
        process.stdout.write(`\rbench backup: ${rows} authorizations, ${mb(Number(pg.psql("SELECT pg_database_size('oauth2db')")))}   `);
    }
    process.stdout.write("\n");
    pg.psql("VACUUM (ANALYZE)");
    pg.psql("CHECKPOINT", "postgres");
    fs.writeFileSync(marker, JSON.stringify({ authorizations: rows, seconds: (Date.now() - started) / 1000 }));
    return { pg, authorizations: rows };
}

/** Every descendant of `root` (inclusive), from /proc. */
function processTree(root: number): number[] {
    const children = new Map<number, number[]>();
    for (const entry of fs.readdirSync("/proc")) {
        if (!/^\d+$/.test(entry)) {
            continue;
        }
        try {
            const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
            const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
            const list = children.get(ppid) ?? [];
            list.push(Number(entry));
            children.set(ppid, list);
        } catch {
            // the process exited meanwhile
        }
    }
    const out: number[] = [];
    const stack = [root];
    while (stack.length) {
        const pid = stack.pop()!;
        out.push(pid);
        stack.push(...(children.get(pid) ?? []));
    }
    return out;
}

function rssOf(pid: number): { rss: number; name: string } {
    try {
        const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
        const rss = /VmRSS:\s+(\d+) kB/.exec(status);
        const name = /Name:\s+(\S+)/.exec(status);
        return { rss: rss ? Number(rss[1]) * 1024 : 0, name: name ? name[1] : "?" };
    } catch {
        return { rss: 0, name: "?" };
    }
}

interface Timed {
    seconds: number;
    /** User + system CPU seconds of the command and every descendant it waited for (/usr/bin/time), or NaN. */
    cpuSeconds: number;
    code: number | null;
    stdout: string;
    stderr: string;
    peakRss: number;
    peakProcess: string;
    /** The processes summed in the peak sample, largest first ("python3 71, pg_dump 12, ..." in MB). */
    peakBreakdown: string;
    /** Each stderr line with the seconds since the start at which it arrived (the scripts log each step). */
    lines: { at: number; text: string }[];
}

/** Runs a command, timing it and sampling the RSS of its process tree every 100 ms. */
function timed(command: string, args: string[], env: Record<string, string>, stdoutTo?: string): Promise<Timed> {
    return new Promise((resolve) => {
        const started = process.hrtime.bigint();
        const out = stdoutTo ? fs.openSync(stdoutTo, "w") : "pipe";
        const timeFile = path.join(os.tmpdir(), `oauth2-dr-bench-time-${process.pid}`);
        const useTime = fs.existsSync("/usr/bin/time");
        const [cmd, argv] = useTime ? ["/usr/bin/time", ["-f", "%U %S", "-o", timeFile, command, ...args]] : [command, args];
        const child = spawn(cmd, argv, { env, stdio: ["ignore", out, "pipe"] });
        if (typeof out === "number") {
            fs.closeSync(out);
        }
        let stdout = "";
        let stderr = "";
        child.stdout?.on("data", (d) => (stdout += d));
        const lines: { at: number; text: string }[] = [];
        let partial = "";
        child.stderr!.on("data", (d) => {
            stderr += d;
            const at = Number(process.hrtime.bigint() - started) / 1e9;
            const parts = (partial + d).split("\n");
            partial = parts.pop()!;
            lines.push(...parts.map((text) => ({ at, text })));
        });
        let peakRss = 0;
        let peakProcess = "";
        let peakSingle = 0;
        let peakBreakdown = "";
        const sample = () => {
            if (child.pid === undefined) {
                return;
            }
            let sum = 0;
            const parts: { rss: number; name: string }[] = [];
            for (const pid of processTree(child.pid)) {
                const { rss, name } = rssOf(pid);
                sum += rss;
                parts.push({ rss, name });
                if (rss > peakSingle) {
                    peakSingle = rss;
                    peakProcess = `${name} ${mb(rss)}`;
                }
            }
            if (sum > peakRss) {
                peakRss = sum;
                peakBreakdown = parts.filter((p) => p.rss > 0).sort((a, b) => b.rss - a.rss).map((p) => `${p.name} ${(p.rss / 1048576).toFixed(1)}`).join(", ");
            }
        };
        const timer = setInterval(sample, 100);
        child.on("close", (code) => {
            clearInterval(timer);
            const seconds = Number(process.hrtime.bigint() - started) / 1e9;
            let cpuSeconds = NaN;
            if (useTime && fs.existsSync(timeFile)) {
                const [user, sys] = fs.readFileSync(timeFile, "utf8").trim().split("\n").pop()!.split(" ").map(Number);
                cpuSeconds = user + sys;
                fs.rmSync(timeFile, { force: true });
            }
            resolve({ seconds, cpuSeconds, code, stdout, stderr, peakRss, peakProcess, peakBreakdown, lines });
        });
    });
}

/**
 * restore.sh's phases from the arrival of its log lines: before the download (the helper, the manifest, the
 * probe, the passphrase's S2K, the connection), the one pass (download, sha256, gpg's MDC, and the load into
 * staging: they overlap), the swap (locks, the tables moved, indexes and constraints built, counts, schema,
 * COMMIT).
 */
function restorePhases(run: Timed): string {
    const at = (pattern: RegExp) => run.lines.find((l) => pattern.test(l.text))?.at;
    const download = at(/ restore: downloading /);
    const verified = at(/ restore: verified /);
    const restored = at(/ restore: restored /);
    if (download === undefined || verified === undefined || restored === undefined) {
        return "phases unknown";
    }
    return `before the download ${download.toFixed(1)} s, download+verify+load ${(verified - download).toFixed(1)} s, swap (indexes, counts, commit) ${(restored - verified).toFixed(1)} s, exit ${(run.seconds - restored).toFixed(1)} s`;
}

/** Where a restore-verification.sh run's time went, from its log lines (the time each line arrived). */
function verificationPhases(run: Timed): string {
    const at = (pattern: RegExp) => run.lines.find((l) => pattern.test(l.text))?.at;
    const download = at(/ restore-verification: downloading /);
    const read = at(/ restore-verification: read to the end/);
    const swapped = at(/ restore-verification: verified and loaded/);
    const checked = at(/ restore-verification: checked /);
    if (download === undefined || read === undefined || swapped === undefined || checked === undefined) {
        return "phases unknown";
    }
    return `before the download ${download.toFixed(1)} s, download+verify+load ${(read - download).toFixed(1)} s, swap (indexes) ${(swapped - read).toFixed(1)} s, checks ${(checked - swapped).toFixed(1)} s, drop+record+exit ${(run.seconds - checked).toFixed(1)} s`;
}

function check(result: Timed, what: string): Timed {
    if (result.code !== 0) {
        throw new Error(`${what} failed (exit ${result.code}): ${result.stderr}`);
    }
    return result;
}

export async function benchSize(targetGb: number, runs: number, backupRuns = runs): Promise<SizeResult> {
    const { pg, authorizations } = await seededServer(targetGb);
    const moto = await MotoServer.start();
    const work = fs.mkdtempSync(path.join(os.tmpdir(), "oauth2-dr-bench-"));
    try {
        const databaseBytes = Number(pg.psql("SELECT pg_database_size('oauth2db')"));
        say(`database ${(databaseBytes / 1024 ** 3).toFixed(2)} GB on disk (oauth2_authorization: ${authorizations} rows), ${runs} runs per measurement, ${os.cpus().length} CPUs`);
        const passphrase = passphraseFile(work, "bench passphrase");
        const pgEnv = baseEnv(pg.env());
        const scriptEnv = (bucket: string, extra: Record<string, string> = {}) => baseEnv({ ...pg.env(), ...moto.env(), BUCKET: bucket, PASSPHRASE_FILE: passphrase, TMPDIR: work, ...extra });
        const withPublicKey = MODES.includes("public-key");
        const benchKey = withPublicKey ? generateTestKey("oauth2-dr bench") : undefined;
        const publicKeysFile = path.join(work, "recipients.asc");
        const privateKeysFile = path.join(work, "restore-keys.asc");
        if (benchKey) {
            fs.writeFileSync(publicKeysFile, benchKey.publicKey, { mode: 0o600 });
            fs.writeFileSync(privateKeysFile, benchKey.secretKey, { mode: 0o600 });
        }
        // The writer's environment in public-key mode: no passphrase at all.
        const pkWriterEnv = (bucket: string) => {
            const env = scriptEnv(bucket, { BACKUP_GPG_PUBLIC_KEYS_FILE: publicKeysFile, BACKUP_GPG_RECIPIENTS: benchKey?.fingerprint ?? "" });
            delete (env as Record<string, string | undefined>).PASSPHRASE_FILE;
            return env;
        };
        const pk = { backupSeconds: [] as number[], peakRssBytes: 0, restoreSeconds: [] as number[], restorePeakRssBytes: 0, verificationSeconds: [] as number[] };

        const pgDumpSeconds: number[] = [];
        const backupSeconds: number[] = [];
        const pgDumpCpu: number[] = [];
        const backupCpu: number[] = [];
        const motoCpu: number[] = [];
        let peakRssBytes = 0;
        let peakProcess = "";
        let dumpBytes = 0;
        // BENCH_RESTORE_BASELINE=<a scripts directory>: its db-backup.sh too, after each of this checkout's runs.
        const backupBaseline = process.env.BENCH_RESTORE_BASELINE;
        const backupOnly = process.env.BENCH_BACKUP_ONLY === "1";
        const baselineBackupPeaks: number[] = [];
        const baselineBackupCpu: number[] = [];
        // Alternate the two so that drift (caches, a busy neighbour) hits both alike.
        for (let i = 0; i < backupRuns; i++) {
            // BENCH_BACKUP_ONLY=1: no pg_dump floor either (a memory A/B of the scripts; no ratio).
            const plain = backupOnly ? { seconds: NaN, cpuSeconds: NaN } : check(await timed(path.join(PG_BIN, "pg_dump"), ["--format=custom", "oauth2db"], pgEnv, "/dev/null"), "pg_dump");
            pgDumpSeconds.push(plain.seconds);
            pgDumpCpu.push(plain.cpuSeconds);
            const bucket = `bench-${targetGb}-${i}`.replace(/\./g, "-");
            createBucket(moto, bucket);
            const motoBefore = cpuOf(moto.pid);
            const backup = check(await timed("bash", [path.join(SCRIPTS, "db-backup.sh")], scriptEnv(bucket)), "db-backup.sh");
            backupSeconds.push(backup.seconds);
            backupCpu.push(backup.cpuSeconds);
            motoCpu.push(cpuOf(moto.pid) - motoBefore);
            if (backup.peakRss > peakRssBytes) {
                peakRssBytes = backup.peakRss;
                peakProcess = backup.peakProcess;
            }
            const sizeMatch = /done: \S+, (\d+) bytes/.exec(backup.stderr);
            dumpBytes = sizeMatch ? Number(sizeMatch[1]) : 0;
            say(`run ${i + 1}: pg_dump ${plain.seconds.toFixed(1)} s, db-backup.sh ${backup.seconds.toFixed(1)} s, pipeline peak ${mb(backup.peakRss)} (${backup.peakBreakdown} MB)`);
            if (backupBaseline) {
                // The same backup by another checkout's scripts (BENCH_RESTORE_BASELINE), right after, in the same run.
                const baseBucket = `${bucket}-base`;
                createBucket(moto, baseBucket);
                const before = check(await timed("bash", [path.join(backupBaseline, "db-backup.sh")], scriptEnv(baseBucket)), "baseline db-backup.sh");
                baselineBackupPeaks.push(before.peakRss);
                baselineBackupCpu.push(before.cpuSeconds);
                say(`run ${i + 1}: baseline ${backupBaseline}/db-backup.sh ${before.seconds.toFixed(1)} s (CPU ${before.cpuSeconds.toFixed(1)} s; this checkout's ${backup.cpuSeconds.toFixed(1)} s), pipeline peak ${mb(before.peakRss)} (${before.peakBreakdown} MB)`);
                spawnSync("aws", ["--endpoint-url", moto.endpoint, "s3", "rm", `s3://${baseBucket}`, "--recursive", "--only-show-errors"], { env: scriptEnv(baseBucket) });
            }
            if (withPublicKey) {
                const pkBucket = `${bucket}-pk`;
                createBucket(moto, pkBucket);
                const pkBackup = check(await timed("bash", [path.join(SCRIPTS, "db-backup.sh")], pkWriterEnv(pkBucket)), "db-backup.sh (public-key)");
                pk.backupSeconds.push(pkBackup.seconds);
                pk.peakRssBytes = Math.max(pk.peakRssBytes, pkBackup.peakRss);
                say(`run ${i + 1}: db-backup.sh in public-key mode ${pkBackup.seconds.toFixed(1)} s, pipeline peak ${mb(pkBackup.peakRss)} (${pkBackup.peakBreakdown} MB)`);
                if (i < backupRuns - 1) {
                    spawnSync("aws", ["--endpoint-url", moto.endpoint, "s3", "rm", `s3://${pkBucket}`, "--recursive", "--only-show-errors"], { env: scriptEnv(pkBucket) });
                }
            }
            if (i < backupRuns - 1) {
                // Keep moto's memory flat: only the last run's backup is needed for the restore part.
                spawnSync("aws", ["--endpoint-url", moto.endpoint, "s3", "rm", `s3://${bucket}`, "--recursive", "--only-show-errors"], { env: scriptEnv(bucket) });
            }
        }
        const ratio = median(backupSeconds) / median(pgDumpSeconds);
        say(`pg_dump --format=custom > /dev/null: ${secs(pgDumpSeconds)}`);
        say(`db-backup.sh (pg_dump -Z0 | zstd -T2 | gpg | tee sha256,size | aws-helper.py multipart upload to moto, manifest): ${secs(backupSeconds)}; stored ${mb(dumpBytes)}`);
        say(`ratio backup/pg_dump: ${ratio.toFixed(2)}x (goal <= 0.5x: ${ratio <= 0.5 ? "met" : "NOT met"})`);
        say(`CPU (user+sys, medians): pg_dump ${median(pgDumpCpu).toFixed(1)} s; db-backup.sh's own processes ${median(backupCpu).toFixed(1)} s; moto_server (the S3 stand-in, on the same ${os.cpus().length} CPUs) ${median(motoCpu).toFixed(1)} s; the PostgreSQL backend is not counted in either`);
        const pkRatio = withPublicKey ? median(pk.backupSeconds) / median(pgDumpSeconds) : NaN;
        if (withPublicKey) {
            say(`db-backup.sh in public-key mode (gpg --encrypt to one cv25519 recipient, no passphrase): ${secs(pk.backupSeconds)}; ratio backup/pg_dump ${pkRatio.toFixed(2)}x (goal <= 0.35x: ${pkRatio <= 0.35 ? "met" : "NOT met"}; symmetric in the same run ${ratio.toFixed(2)}x); pipeline peak ${mb(pk.peakRssBytes)} (goal <= 150 MB: ${pk.peakRssBytes <= 150 * 1024 * 1024 ? "met" : "NOT met"})`);
        }
        say(`pipeline peak memory: ${mb(peakRssBytes)} (goal <= 150 MB: ${peakRssBytes <= 150 * 1024 * 1024 ? "met" : "NOT met"}; sum of VmRSS of the script's process tree, sampled every 100 ms; largest process: ${peakProcess})`);
        if (backupBaseline) {
            say(`baseline ${backupBaseline}/db-backup.sh pipeline peaks: ${baselineBackupPeaks.map(mb).join(", ")}; this checkout's max ${mb(peakRssBytes)}; CPU (user+sys) median ${median(baselineBackupCpu).toFixed(2)} s, this checkout's ${median(backupCpu).toFixed(2)} s`);
        }
        if (backupOnly) {
            // BENCH_BACKUP_ONLY=1: the backup part alone (e.g. a memory A/B); no restore figures.
            return {
                targetGb, databaseBytes, authorizations, dumpBytes, pgDumpSeconds, backupSeconds, motoCpuSeconds: motoCpu, ratio, peakRssBytes, peakProcess,
                pgRestoreSeconds: [], restoreSeconds: [], restoreRatio: NaN, restorePeakRssBytes: 0, verificationSeconds: [], verificationRatio: NaN,
            };
        }

        // Restore: pg_restore alone from a local file, against restore-verification.sh from the bucket.
        const lastBucket = `bench-${targetGb}-${backupRuns - 1}`.replace(/\./g, "-");
        const dumpFile = path.join(work, "oauth2db.dump");
        check(await timed(path.join(PG_BIN, "pg_dump"), ["--format=custom", "--file", dumpFile, "oauth2db"], pgEnv), "pg_dump --file");
        const pgRestoreSeconds: number[] = [];
        const restoreSeconds: number[] = [];
        const verificationSeconds: number[] = [];
        let restorePeakRssBytes = 0;
        // BENCH_RESTORE_BASELINE=<a scripts directory>: its restore.sh too, interleaved (e.g. main's, for a before/after).
        const baseline = process.env.BENCH_RESTORE_BASELINE;
        // BENCH_VERIFY_ONLY=1: the restore part measures pg_restore and restore-verification.sh only (no restore.sh).
        const verifyOnly = process.env.BENCH_VERIFY_ONLY === "1";
        const baselineSeconds: number[] = [];
        const baselineVerificationSeconds: number[] = [];
        const cpu = { pgRestore: [] as number[], restore: [] as number[], verification: [] as number[] };
        const serverCpuOf = { pgRestore: [] as number[], restore: [] as number[], verification: [] as number[] };
        let serverBefore = 0;
        for (let i = 0; i < runs; i++) {
            pg.dropDatabase("bench_restore");
            pg.createDatabase("bench_restore");
            serverBefore = serverCpu(pg);
            const local = check(await timed(path.join(PG_BIN, "pg_restore"), ["--no-owner", "--no-acl", "--exit-on-error", "-d", "bench_restore", dumpFile], baseEnv(pg.env("bench_restore"))), "pg_restore");
            pgRestoreSeconds.push(local.seconds);
            cpu.pgRestore.push(local.cpuSeconds);
            serverCpuOf.pgRestore.push(serverCpu(pg) - serverBefore);
            pg.dropDatabase("bench_restore");
            if (verifyOnly) {
                // BENCH_VERIFY_ONLY=1: pg_restore and the verifications alone (no restore.sh), this checkout's and the
                // baseline's alternating first, so that the order (the page cache pg_restore left) favours neither.
                const runVerification = async (dir: string, what: string) => {
                    serverBefore = serverCpu(pg);
                    const run = check(await timed("bash", [path.join(dir, "restore-verification.sh")], scriptEnv(lastBucket, { VERIFY_DATABASE: "bench_verify" })), what);
                    return { run, server: serverCpu(pg) - serverBefore };
                };
                const order = baseline && i % 2 === 1 ? ["baseline", "this"] : ["this", "baseline"];
                const done: Record<string, { run: Timed; server: number }> = {};
                for (const which of order) {
                    if (which === "this") {
                        done.this = await runVerification(SCRIPTS, "restore-verification.sh");
                    } else if (baseline) {
                        done.baseline = await runVerification(baseline, "baseline restore-verification.sh");
                    }
                }
                const verify = done.this.run;
                serverCpuOf.verification.push(done.this.server);
                verificationSeconds.push(verify.seconds);
                cpu.verification.push(verify.cpuSeconds);
                if (done.baseline) {
                    const before = done.baseline.run;
                    baselineVerificationSeconds.push(before.seconds);
                    say(`run ${i + 1} (${order[0]} first): baseline ${baseline}/restore-verification.sh ${before.seconds.toFixed(1)} s (peak ${mb(before.peakRss)}; CPU ${before.cpuSeconds.toFixed(1)} s + server ${done.baseline.server.toFixed(1)} s; ${verificationPhases(before)})`);
                }
                say(`run ${i + 1}: pg_restore ${local.seconds.toFixed(1)} s (CPU ${local.cpuSeconds.toFixed(1)} s + server ${serverCpuOf.pgRestore[serverCpuOf.pgRestore.length - 1].toFixed(1)} s), restore-verification.sh ${verify.seconds.toFixed(1)} s (${verify.stdout.split("\n").filter((l) => l.startsWith("PASS")).length}/7 PASS, peak ${mb(verify.peakRss)}; CPU ${verify.cpuSeconds.toFixed(1)} s + server ${done.this.server.toFixed(1)} s; ${verificationPhases(verify)}); load ${os.loadavg()[0].toFixed(1)}`);
                continue;
            }
            pg.createDatabase("bench_restore");
            serverBefore = serverCpu(pg);
            const restore = check(await timed("bash", [path.join(SCRIPTS, "restore.sh"), "--yes", "--source-database", "oauth2db"], scriptEnv(lastBucket, { PGDATABASE: "bench_restore" })), "restore.sh");
            serverCpuOf.restore.push(serverCpu(pg) - serverBefore);
            restoreSeconds.push(restore.seconds);
            cpu.restore.push(restore.cpuSeconds);
            restorePeakRssBytes = Math.max(restorePeakRssBytes, restore.peakRss);
            if (baseline) {
                // The same restore by another checkout's scripts (BENCH_RESTORE_BASELINE), in the same run.
                pg.dropDatabase("bench_restore");
                pg.createDatabase("bench_restore");
                serverBefore = serverCpu(pg);
                const before = check(await timed("bash", [path.join(baseline, "restore.sh"), "--yes", "--source-database", "oauth2db"], scriptEnv(lastBucket, { PGDATABASE: "bench_restore" })), "baseline restore.sh");
                baselineSeconds.push(before.seconds);
                say(`run ${i + 1}: baseline ${baseline}/restore.sh ${before.seconds.toFixed(1)} s (peak ${mb(before.peakRss)}: ${before.peakBreakdown} MB; CPU ${before.cpuSeconds.toFixed(1)} s + server ${(serverCpu(pg) - serverBefore).toFixed(1)} s, this restore.sh's ${restore.cpuSeconds.toFixed(1)} s + server ${serverCpuOf.restore[serverCpuOf.restore.length - 1].toFixed(1)} s; ${restorePhases(before)})`);
            }
            pg.dropDatabase("bench_restore");
            serverBefore = serverCpu(pg);
            const verify = check(await timed("bash", [path.join(SCRIPTS, "restore-verification.sh")], scriptEnv(lastBucket, { VERIFY_DATABASE: "bench_verify" })), "restore-verification.sh");
            serverCpuOf.verification.push(serverCpu(pg) - serverBefore);
            verificationSeconds.push(verify.seconds);
            cpu.verification.push(verify.cpuSeconds);
            if (baseline) {
                serverBefore = serverCpu(pg);
                const before = check(await timed("bash", [path.join(baseline, "restore-verification.sh")], scriptEnv(lastBucket, { VERIFY_DATABASE: "bench_verify" })), "baseline restore-verification.sh");
                baselineVerificationSeconds.push(before.seconds);
                say(`run ${i + 1}: baseline ${baseline}/restore-verification.sh ${before.seconds.toFixed(1)} s (CPU ${before.cpuSeconds.toFixed(1)} s + server ${(serverCpu(pg) - serverBefore).toFixed(1)} s, this one's ${verify.cpuSeconds.toFixed(1)} s + server ${serverCpuOf.verification[serverCpuOf.verification.length - 1].toFixed(1)} s; ${verificationPhases(before)})`);
            }
            if (withPublicKey) {
                const pkEnv = (extra: Record<string, string>) => scriptEnv(`${lastBucket}-pk`, { RESTORE_GPG_PRIVATE_KEYS_FILE: privateKeysFile, ...extra });
                pg.createDatabase("bench_restore");
                const pkRestore = check(await timed("bash", [path.join(SCRIPTS, "restore.sh"), "--yes", "--source-database", "oauth2db"], pkEnv({ PGDATABASE: "bench_restore" })), "restore.sh (public-key)");
                pk.restoreSeconds.push(pkRestore.seconds);
                pk.restorePeakRssBytes = Math.max(pk.restorePeakRssBytes, pkRestore.peakRss);
                pg.dropDatabase("bench_restore");
                const pkVerify = check(await timed("bash", [path.join(SCRIPTS, "restore-verification.sh")], pkEnv({ VERIFY_DATABASE: "bench_verify" })), "restore-verification.sh (public-key)");
                pk.verificationSeconds.push(pkVerify.seconds);
                say(`run ${i + 1}: public-key mode: restore.sh ${pkRestore.seconds.toFixed(1)} s (peak ${mb(pkRestore.peakRss)}), restore-verification.sh ${pkVerify.seconds.toFixed(1)} s (${pkVerify.stdout.split("\n").filter((l) => l.startsWith("PASS")).length}/7 PASS)`);
            }
            say(`run ${i + 1}: pg_restore ${local.seconds.toFixed(1)} s, restore.sh ${restore.seconds.toFixed(1)} s (peak ${mb(restore.peakRss)}: ${restore.peakBreakdown} MB; ${restorePhases(restore)}), restore-verification.sh ${verify.seconds.toFixed(1)} s (${verify.stdout.split("\n").filter((l) => l.startsWith("PASS")).length}/7 PASS, peak ${mb(verify.peakRss)}; ${verificationPhases(verify)})`);
        }
        const restoreRatio = median(restoreSeconds) / median(pgRestoreSeconds);
        const verificationRatio = median(verificationSeconds) / median(pgRestoreSeconds);
        say(`pg_restore -d <fresh db> <local file>: ${secs(pgRestoreSeconds)}`);
        if (verifyOnly) {
            // No restore.sh ran: no figure, and no verdict on its goals (a NaN ratio or a 0 MB peak is not "met").
            say("restore.sh: not measured (BENCH_VERIFY_ONLY=1): no ratio, no peak, no verdict on its goals");
        } else {
            say(`restore.sh (one pass: spool + sha256 + gpg MDC while ${process.env.RESTORE_JOBS ?? 2} parallel COPY sessions load staging tables; then swap + indexes + counts and schema in one transaction): ${secs(restoreSeconds)}`);
        }
        if (baseline && !verifyOnly) {
            say(`baseline ${baseline}/restore.sh: ${secs(baselineSeconds)}, ratio to pg_restore ${(median(baselineSeconds) / median(pgRestoreSeconds)).toFixed(2)}x; this restore.sh / baseline ${(median(restoreSeconds) / median(baselineSeconds)).toFixed(2)}`);
        }
        if (baseline) {
            say(`baseline ${baseline}/restore-verification.sh: ${secs(baselineVerificationSeconds)}, ratio to pg_restore ${(median(baselineVerificationSeconds) / median(pgRestoreSeconds)).toFixed(2)}x; this restore-verification.sh / baseline ${(median(verificationSeconds) / median(baselineVerificationSeconds)).toFixed(2)}`);
        }
        say(`restore-verification.sh (restore.sh's one pass without a spool: parallel COPY into staging tables of a scratch database, swap after the verdict, then the checklist): ${secs(verificationSeconds)}`);
        if (!verifyOnly) {
            say(`ratio restore/pg_restore: ${restoreRatio.toFixed(2)}x (goal <= 0.8x: ${restoreRatio <= 0.8 ? "met" : "NOT met"}); restore pipeline peak memory ${mb(restorePeakRssBytes)} (goal <= 150 MB: ${restorePeakRssBytes <= 150 * 1024 * 1024 ? "met" : "NOT met"})`);
        }
        say(`ratio verification/pg_restore: ${verificationRatio.toFixed(2)}x (goal <= 1.0x, issue 25: ${verificationRatio <= 1.0 ? "met" : "NOT met"})`);
        const publicKey = withPublicKey && !verifyOnly
            ? {
                  backupSeconds: pk.backupSeconds, ratio: pkRatio, peakRssBytes: pk.peakRssBytes,
                  restoreSeconds: pk.restoreSeconds, restoreRatio: median(pk.restoreSeconds) / median(pgRestoreSeconds), restorePeakRssBytes: pk.restorePeakRssBytes,
                  verificationSeconds: pk.verificationSeconds, verificationRatio: median(pk.verificationSeconds) / median(pgRestoreSeconds),
              }
            : undefined;
        if (publicKey) {
            say(`public-key mode: restore.sh ${secs(publicKey.restoreSeconds)}, ratio restore/pg_restore ${publicKey.restoreRatio.toFixed(2)}x (symmetric in the same run ${restoreRatio.toFixed(2)}x), peak ${mb(publicKey.restorePeakRssBytes)}; restore-verification.sh ${secs(publicKey.verificationSeconds)}, ratio ${publicKey.verificationRatio.toFixed(2)}x (symmetric ${verificationRatio.toFixed(2)}x)`);
        }
        say(`CPU (user+sys, medians; moto_server not counted): pg_restore ${median(cpu.pgRestore).toFixed(1)} s + server ${median(serverCpuOf.pgRestore).toFixed(1)} s; ${verifyOnly ? "restore.sh not run" : `restore.sh's processes ${median(cpu.restore).toFixed(1)} s + server ${median(serverCpuOf.restore).toFixed(1)} s`}; restore-verification.sh's ${median(cpu.verification).toFixed(1)} s + server ${median(serverCpuOf.verification).toFixed(1)} s (the server: every PostgreSQL process during the run, backends, parallel workers, checkpointer, WAL writer). On ${os.cpus().length} CPUs no run can take less wall time than its total CPU / ${os.cpus().length}; on a busy machine the pipeline's CPU competes with the server's and the wall-clock ratios grow with the load`);
        return {
            targetGb, databaseBytes, authorizations, dumpBytes, pgDumpSeconds, backupSeconds, motoCpuSeconds: motoCpu, ratio, peakRssBytes, peakProcess,
            pgRestoreSeconds, restoreSeconds, restoreRatio, restorePeakRssBytes, verificationSeconds, verificationRatio, publicKey,
        };
    } finally {
        await moto.stop();
        await pg.stop();
        fs.rmSync(work, { recursive: true, force: true });
    }
}

export async function runBackupBench(): Promise<SizeResult[]> {
    const sizes = (process.env.BENCH_DB_GB ?? "1").split(",").map((s) => Number(s.trim())).filter((n) => n > 0);
    const runs = Math.max(1, Number(process.env.BENCH_RUNS ?? 3));
    // BENCH_BACKUP_RUNS: runs of the backup measurement (default BENCH_RUNS); 1 to measure the restores alone.
    const backupRuns = Math.max(1, Number(process.env.BENCH_BACKUP_RUNS ?? runs));
    const results: SizeResult[] = [];
    for (const size of sizes) {
        results.push(await benchSize(size, runs, backupRuns));
    }
    if (results.length > 1) {
        say("summary by size:");
        for (const r of results) {
            say(`  ${(r.databaseBytes / 1024 ** 3).toFixed(2)} GB: backup/pg_dump ${r.ratio.toFixed(2)}x, pipeline peak ${mb(r.peakRssBytes)}, restore/pg_restore ${r.restoreRatio.toFixed(2)}x, verification/pg_restore ${r.verificationRatio.toFixed(2)}x`);
        }
    }
    return results;
}

if (require.main === module) {
    runBackupBench().catch((err) => {
        console.error(`bench backup: FAILED: ${(err as Error).stack ?? err}`);
        process.exitCode = 1;
    });
}
