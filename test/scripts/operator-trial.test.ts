/**
 * Faults an operator met when trying the scripts on a new setup (issue 22, "Scripts under operator faults"),
 * beyond restore-faults, backup-faults and backup-fail-fast: a database endpoint that accepts the TCP
 * connection and never answers (a stuck proxy, a half-dead host), and a scratch directory the run cannot
 * write, an S3 endpoint that stops answering during the dump's download. Real PostgreSQL 15 and moto on 127.0.0.1.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as net from "net";
import * as path from "path";
import { spawn } from "child_process";
import { checksumSql, OAUTH2_TABLES, seedSql } from "../../tools/sandbox/oauth2-schema";
import { createBucket, explain, getObject, putObject, runScript, ScriptResult, scriptEnv, startScript, tempDir, useScriptServers } from "../../tools/sandbox/scripts";
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

    it("a database endpoint that accepts TCP and never answers: exit 3 naming host:port and the timeout (PGCONNECT_TIMEOUT unset), not a wait forever", async function () {
        const held: net.Socket[] = [];
        const silent = net.createServer((socket) => held.push(socket));
        await new Promise<void>((resolve) => silent.listen(0, LOCALHOST, () => resolve()));
        const port = String((silent.address() as net.AddressInfo).port);
        try {
            const results = await Promise.all(
                scripts.map(async ([name, args]): Promise<[string, ScriptResult]> => {
                    const env: Record<string, string> = { ...scriptEnv(servers.pg, servers.moto, bucket, servers.passphrase), PGPORT: port };
                    delete env.PGCONNECT_TIMEOUT; // as an operator's shell or a CronJob has it: unset
                    const run = startScript(name, env, args, { detached: true });
                    // Without a connect timeout libpq waits forever (SIGTERM too waits for psql): end the whole
                    // run's process group after far more than the default timeout, so that the test fails, not hangs.
                    const stop = setTimeout(() => process.kill(-run.child.pid!, "SIGKILL"), 90_000);
                    const result = await run.done;
                    clearTimeout(stop);
                    return [name, result];
                }),
            );
            for (const [name, result] of results) {
                assert.equal(result.code, 3, `${name}: ${explain(result)}`);
                assert.match(result.stderr, new RegExp(`ERROR: cannot connect to ${LOCALHOST}:${port}/\\w+: .*timeout expired \\(no answer within PGCONNECT_TIMEOUT=10s\\)`), `${name}: ${explain(result)}`);
            }
        } finally {
            held.forEach((socket) => socket.destroy());
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
            const sums = () => OAUTH2_TABLES.map((t) => pg.psql(checksumSql(t), "stalled")).join("|");
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
            const stop = setTimeout(() => process.kill(-run.child.pid!, "SIGKILL"), 60_000);
            const result = await run.done;
            clearTimeout(stop);
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
        const frozen = await MotoServer.start();
        try {
            createBucket(frozen, "frozen-bucket");
            process.kill(frozen.pid!, "SIGSTOP");
            const env = { ...scriptEnv(servers.pg, frozen, "frozen-bucket", servers.passphrase), AWS_MAX_ATTEMPTS: "2", AWS_HELPER_READ_TIMEOUT: "2" };
            const run = startScript("restore.sh", env, ["--yes"], { detached: true });
            // botocore's own read timeout is 60 s: end the run well before, so that the test fails without the setting.
            const stop = setTimeout(() => process.kill(-run.child.pid!, "SIGKILL"), 40_000);
            const result = await run.done;
            clearTimeout(stop);
            assert.equal(result.code, 4, explain(result));
            assert.match(result.stderr, /ERROR: cannot list s3:\/\/frozen-bucket\/database\/manifests\/: Read timeout on endpoint URL/, explain(result));
            // Each attempt that got no answer is said as it happens, not only the final error.
            const port = new URL(frozen.endpoint).port;
            assert.match(result.stderr, new RegExp(`restore: no answer from http://127\\.0\\.0\\.1:${port} to ListObjectsV2 \\(attempt 1 of 2, AWS_MAX_ATTEMPTS; ReadTimeoutError\\); retrying\n.*no answer .*\\(attempt 2 of 2, .*\\); giving up\n`), explain(result));
        } finally {
            if (frozen.pid) {
                process.kill(frozen.pid, "SIGCONT");
            }
            await frozen.stop();
        }
    });

    it("a row lock of an application's UPDATE: lock timeout (3) naming the holder once, nothing committed", async function () {
        const { pg } = servers;
        pg.createDatabase("rowlocked");
        pg.psql(seedSql({ clients: 2, authorizations: 3, consents: 1 }), "rowlocked");
        const sums = () => OAUTH2_TABLES.map((t) => pg.psql(checksumSql(t), "rowlocked")).join("|");
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
            assert.match(line, new RegExp(`stayed locked for 1s \\(RESTORE_LOCK_TIMEOUT\\) by pid ${appPid} \\(application_name oauth2-app, idle in transaction\\)`), explain(result));
            assert.equal(line.split(`pid ${appPid} `).length, 2, `the holder named more than once: ${line}`);
            assert.equal(sums(), before);
        } finally {
            app.stdin!.end("COMMIT;\n");
        }
    });
});
