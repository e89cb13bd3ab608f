/**
 * The corruption drill's RTO on a database of BENCH_DRILL_GB GB (default 1; BENCH_QUICK=1 uses 0.1) against
 * the floor of its restore path: a plain `pg_restore --single-transaction` of the same dump (the drill's own
 * db-backup.sh object, decrypted to a local file first) into an empty database on the same server.
 *
 *   node -r ./packages/offline-plan/register.cjs bench/drill.ts
 *
 * Prints the drill's steps, then: restore step / pg_restore (what restore.sh adds: manifest and hash checks,
 * decryption, streaming from S3, the row-count comparison) and RTO / pg_restore (the whole recovery: the
 * detection by the validation, the restore, the switch and the validation that proves it). Not asserted.
 */
import { spawnSync } from "child_process";
import * as path from "path";
import { baseEnv, getObject } from "../tools/sandbox/scripts";
import { PG_BIN } from "../tools/sandbox/servers";
import { runDrill } from "../tools/drill/scenarios";
import { formatReport } from "../tools/drill/report";
import { BUCKET, type DrillWorld } from "../tools/drill/world";

const say = (line: string) => console.log(`bench drill: ${line}`);
/** Bytes per seeded oauth2_authorization row on disk with its share of the other tables (measured: 588,235 rows = 0.82 GB). */
const BYTES_PER_ROW = 1400;

function sh(command: string, env: Record<string, string>): void {
    const result = spawnSync("bash", ["-c", command], { env: baseEnv(env), encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
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

export async function runDrillBench(): Promise<void> {
    const gb = Number(process.env.BENCH_DRILL_GB ?? (process.env.BENCH_QUICK === "1" ? 0.1 : 1));
    if (!(gb > 0)) {
        throw new Error(`BENCH_DRILL_GB must be a positive number of GB, not "${process.env.BENCH_DRILL_GB}"`);
    }
    const rows = Math.round((gb * 1e9) / BYTES_PER_ROW);
    say(`corruption drill on ~${gb} GB (${rows} authorizations), then pg_restore of the same dump`);
    let pgRestore = 0;
    let bytes = 0;
    const report = await runDrill("corruption", {
        rows,
        writeSeconds: 2,
        log: (l) => say(l),
        afterRecovery: async (world) => {
            bytes = Number(world.primary.psql("SELECT pg_database_size('oauth2db')", "postgres"));
            pgRestore = await plainRestoreSeconds(world);
        },
    });
    console.log(formatReport(report));
    const restore = report.steps.find((s) => s.name === "restore")!.seconds;
    say(`database ${(bytes / 1024 ** 3).toFixed(2)} GB; pg_restore of the same dump ${pgRestore.toFixed(2)} s`);
    say(`restore step (restore.sh) / pg_restore: ${(restore / pgRestore).toFixed(2)}x`);
    say(`drill RTO ${report.rto.seconds.toFixed(2)} s / pg_restore: ${(report.rto.seconds / pgRestore).toFixed(2)}x`);
}

if (require.main === module) {
    runDrillBench().catch((err) => {
        console.error(`bench drill: FAILED: ${(err as Error).stack ?? err}`);
        process.exitCode = 1;
    });
}
