/**
 * h39-term: a run ended by a signal to the script's PID alone, as the kubelet ends a CronJob's pod (its
 * activeDeadlineSeconds, an eviction): SIGTERM to the container's PID 1 only, never to its process group, then
 * SIGKILL after the grace period (and Ctrl-C's SIGINT likewise, to the script alone). The run must end at once
 * with 143 (130 for SIGINT), its cleanup done, and leave no process of its own behind: one left holds the run's
 * output open (its reader never sees the end) or goes on with work whose cleanup has run. What outlives a run is
 * found by a marker in its environment (/proc/PID/environ): orphans are reparented, their session kept.
 */
import { strict as assert } from "assert";
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { seedSql } from "../../tools/sandbox/oauth2-schema";
import { PG_BIN } from "../../tools/sandbox/servers";
import { awsCall, explain, ScriptResult, scriptEnv, Started, startScript, tempDir, useScriptServers, waitForStderr } from "../../tools/sandbox/scripts";
import { processesWithEnv } from "../support/processes";

const MARK = "OAUTH2_DR_TERM_ALONE";
let marks = 0;

/** A marker for one run's environment: `{ [MARK]: value }`. */
function newMark(): Record<string, string> {
    return { [MARK]: `${process.pid}-${++marks}` };
}

/** The live processes (not zombies) whose environment holds `mark`, each as "pid command line". */
function marked(mark: Record<string, string>): string[] {
    return processesWithEnv(`${MARK}=${mark[MARK]}`).map((p) => `${p.pid} ${p.command}`);
}

/** SIGKILL to every process of the run's marker, until none is left (the end of a case that failed). */
async function killMarked(mark: Record<string, string>): Promise<void> {
    for (let round = 0; round < 100 && marked(mark).length > 0; round++) {
        for (const entry of marked(mark)) {
            try {
                process.kill(Number(entry.split(" ")[0]), "SIGKILL");
            } catch {
                // ended meanwhile
            }
        }
        await new Promise((r) => setTimeout(r, 50));
    }
}

/**
 * Sends `signal` to the script's shell alone and waits for the run's end (the close of its output pipes). A run
 * not ended within `boundMs` (a pod's default grace period, after which the kubelet's SIGKILL skips the cleanup)
 * is killed whole and fails the case, naming what still ran; one that ended is returned with what outlived it.
 */
async function signalAlone(run: Started, mark: Record<string, string>, signal: "SIGTERM" | "SIGINT", boundMs = 30_000): Promise<{ result: ScriptResult; left: string[] }> {
    run.child.kill(signal);
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<"bound">((resolve) => (timer = setTimeout(() => resolve("bound"), boundMs)));
    const ended = await Promise.race([run.done, bound]);
    clearTimeout(timer);
    if (ended === "bound") {
        const alive = marked(mark);
        await killMarked(mark);
        const result = await run.done;
        assert.fail(`the run had not ended ${boundMs / 1000} s after ${signal} to its script; still running: ${alive.join("; ")}\n${explain(result)}`);
    }
    // What the run's end left: given a moment (a process killed by the cleanup may not have been reaped yet).
    let left = marked(mark);
    for (let waited = 0; left.length > 0 && waited < 2000; waited += 100) {
        await new Promise((r) => setTimeout(r, 100));
        left = marked(mark);
    }
    await killMarked(mark);
    return { result: ended, left };
}

const CODES = { SIGTERM: 143, SIGINT: 130 } as const;

describe("a run ended by a signal to its script alone (a pod's deadline, an eviction; h39-term)", function () {
    this.timeout(120_000);
    const servers = useScriptServers("term-alone-", "term-alone-passphrase");
    before(function () {
        servers.pg.createDatabase("oauth2db");
        servers.pg.psql(seedSql({ clients: 5, authorizations: 10, consents: 2 }));
    });

    /**
     * A session of another application (a migration's) holding `table` in ACCESS EXCLUSIVE mode until release():
     * the run's reads of it queue behind it, a stage held as long as the case needs.
     */
    async function holdLock(table: string): Promise<{ release: () => Promise<void> }> {
        const locker = spawn(path.join(PG_BIN, "psql"), ["-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-d", "oauth2db"], { env: { ...process.env, ...servers.pg.env("oauth2db"), PGAPPNAME: "h39-term-migration" }, stdio: ["pipe", "pipe", "inherit"] });
        const closed = new Promise<void>((resolve) => locker.once("close", () => resolve()));
        await new Promise<void>((resolve, reject) => {
            locker.stdout!.once("data", () => resolve());
            locker.once("close", () => reject(new Error("the locking session ended")));
            locker.stdin!.write(`BEGIN; LOCK TABLE ${table} IN ACCESS EXCLUSIVE MODE; SELECT 'locked';\n`);
        });
        return { release: async () => { locker.stdin!.end("ROLLBACK;\n"); await closed; } };
    }

    /** Resolves once a session other than the holder's waits for a lock on `table` (the run is queued on it). */
    async function queuedOn(table: string, run: Started): Promise<void> {
        for (let waited = 0; servers.pg.psql(`SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = '${table}'::regclass`) === "0"; waited += 100) {
            assert.ok(waited < 60_000 && run.child.exitCode === null, `the run never queued on the lock of ${table}`);
            await new Promise((r) => setTimeout(r, 100));
        }
    }

    for (const script of ["app-config-export.sh", "secrets-export.sh"]) {
    it(`${script}: SIGTERM while kubectl waits (an API server that does not answer): exit 143 at once, kubectl ended`, async function () {
        const shims = tempDir("oauth2-dr-term-alone-kubectl-");
        fs.writeFileSync(path.join(shims, "kubectl"), "#!/bin/bash\nexec sleep 600\n", { mode: 0o755 });
        const mark = newMark();
        try {
            const run = startScript(script, { ...scriptEnv(servers.pg, servers.moto, servers.newBucket("term-config"), servers.passphrase), ...mark, EXTRA_PATH: shims });
            // Once kubectl has started (its sleep), the run waits for it.
            for (let waited = 0; !marked(mark).some((entry) => / sleep 600$/.test(entry)); waited += 100) {
                assert.ok(waited < 60_000 && run.child.exitCode === null, "kubectl never started");
                await new Promise((r) => setTimeout(r, 100));
            }
            const { result, left } = await signalAlone(run, mark, "SIGTERM");
            assert.equal(result.code, 143, explain(result));
            assert.deepEqual(left, [], `outlived the run: ${explain(result)}`);
            assert.match(result.stderr, /FAILED with exit code 143\n$/, explain(result));
        } finally {
            fs.rmSync(shims, { recursive: true, force: true });
        }
    });
    }

    describe("client-config-export.sh", function () {
        for (const signal of ["SIGTERM", "SIGINT"] as const) {
            it(`${signal} while its COPY of the clients queues behind a migration's lock: exit ${CODES[signal]} at once, its psql ended`, async function () {
                const lock = await holdLock("public.oauth2_registered_client");
                const mark = newMark();
                try {
                    const run = startScript("client-config-export.sh", { ...scriptEnv(servers.pg, servers.moto, servers.newBucket("term-clients"), servers.passphrase), ...mark });
                    await queuedOn("public.oauth2_registered_client", run);
                    const { result, left } = await signalAlone(run, mark, signal);
                    assert.equal(result.code, CODES[signal], explain(result));
                    assert.deepEqual(left, [], `outlived the run: ${explain(result)}`);
                    assert.match(result.stderr, new RegExp(`FAILED with exit code ${CODES[signal]}\n$`), explain(result));
                } finally {
                    await lock.release();
                }
            });
        }
    });

    describe("restore-verification.sh snapshot mode", function () {
        /** An `aws` first on PATH whose `rds wait db-instance-available` never ends (a restore that takes its 30 min). */
        function waitingAws(): string {
            const shims = tempDir("oauth2-dr-term-alone-aws-");
            fs.writeFileSync(path.join(shims, "aws"), `#!/bin/bash
if [[ " $* " == *" rds wait db-instance-available "* ]]; then exec sleep 600; fi
exec "${spawnSync("bash", ["-c", "command -v aws"], { encoding: "utf8" }).stdout.trim()}" "$@"
`, { mode: 0o755 });
            return shims;
        }

        // SIGTERM only: SIGINT takes the same path (its trap's exit 130; the clients' export below tries both), and each
        // case costs a dozen AWS CLI starts.
        for (const signal of ["SIGTERM"] as const) {
            it(`${signal} during the waiter for the test instance (up to 30 min): exit ${CODES[signal]} at once, the waiter and the progress ticker ended, the test instance deleted`, async function () {
                this.timeout(240_000);
                const id = `oauth2-term-${signal.toLowerCase()}`;
                awsCall(servers.moto, "rds", "create_db_instance", {
                    DBInstanceIdentifier: id, DBInstanceClass: "db.t3.medium", Engine: "postgres",
                    MasterUsername: "oauth2admin", MasterUserPassword: "not-used-here", AllocatedStorage: 20, StorageEncrypted: true,
                });
                awsCall(servers.moto, "rds", "create_db_snapshot", { DBInstanceIdentifier: id, DBSnapshotIdentifier: `${id}-snap-1` });
                const shims = waitingAws();
                const mark = newMark();
                const restoreId = `oauth2-backup-test-${new Date().toISOString().slice(0, 10).replace(/-/g, "")}`;
                try {
                    const run = startScript("restore-verification.sh", {
                        ...scriptEnv(servers.pg, servers.moto, "unused", servers.passphrase), ...mark,
                        VERIFY_MODE: "snapshot", DB_INSTANCE_IDENTIFIER: id, VERIFY_ENDPOINT_OVERRIDE: `127.0.0.1:${servers.pg.port}`,
                        WAIT_PROGRESS_SECONDS: "1", EXTRA_PATH: shims,
                    });
                    await waitForStderr(run, /still waiting for the test instance /, 60_000);
                    // Bound: the jobs' grace period (components/backup-jobs.ts, 120 s) less a margin, not the default 30 s. The
                    // cleanup after the trap deletes the test instance and waits for its end through the AWS CLI (about 1 CPU-s
                    // a start): at load 15-20 it took more than 30 s (a whole suite beside two others, 2026-12-06), and passed
                    // once the cleanup ended. The waiter this case proves ended would hold the run 30 min.
                    const { result, left } = await signalAlone(run, mark, signal, 100_000);
                    assert.equal(result.code, CODES[signal], explain(result));
                    assert.deepEqual(left, [], `outlived the run: ${explain(result)}`);
                    assert.match(result.stdout, /^PASS test instance cleaned up: instance oauth2-backup-test-\d+ deleted/m, explain(result));
                } finally {
                    try {
                        awsCall(servers.moto, "rds", "delete_db_instance", { DBInstanceIdentifier: restoreId, SkipFinalSnapshot: true });
                    } catch {
                        // the run's cleanup deleted it
                    }
                    fs.rmSync(shims, { recursive: true, force: true });
                }
            });
        }
    });
});
