/**
 * The test servers' own lifecycle (tools/sandbox): a mocha worker runs many test files in one process, so
 * what a file starts for its servers must stop with them, not with the worker.
 */
import { strict as assert } from "assert";
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { BASH_C, awsCall, baseEnv, createBucket, createSecret, killRun, killRunAfter, outputsOf, procStat, putObject, resolvedHelperPython, SCRIPTS, ScriptResult, sharedMoto, Started, startTimeOf, tempDir, waitForStderr } from "../../tools/sandbox/scripts";
import { MotoServer, PgServer, sweepScratch } from "../../tools/sandbox/servers";

/** Whether process `pid` exists (signal 0). */
function alive(pid: number): boolean {
    try {
        process.kill(pid, 0);
        return true;
    } catch {
        return false;
    }
}

/** The pids of aws-rpc.py processes serving `endpoint`. */
function rpcProcesses(endpoint: string): string {
    return spawnSync("pgrep", ["-f", `aws-rpc\\.py \\S+ ${endpoint.replace(/\./g, "\\.")} `], { encoding: "utf8" }).stdout.trim();
}

describe("tools/sandbox: the tests' servers", function () {
    // Its moto cases took 25-32 s in a CI-like whole run at load 17: 60 s left them under 2x.
    this.timeout(120_000);

    it("a moto server's aws-rpc.py stops with the server, and the next server gets its own", async function () {
        const moto = await MotoServer.start();
        try {
            createBucket(moto, "sandbox-rpc");
            assert.notEqual(rpcProcesses(moto.endpoint), "", "awsCall started no aws-rpc.py");
        } finally {
            await moto.stop();
        }
        assert.equal(rpcProcesses(moto.endpoint), "", "aws-rpc.py outlived its moto server");
        const again = await MotoServer.start();
        try {
            createBucket(again, "sandbox-rpc-again");
            assert.deepEqual(awsCall(again, "s3", "list_buckets").Buckets.map((b: { Name: string }) => b.Name), ["sandbox-rpc-again"]);
        } finally {
            await again.stop();
        }
    });

    it("a moto server that cannot start is said with its exit and its log (the log read before the stop removes it)", async function () {
        // PYTHONHOME pointing nowhere: python3 exits at once, printing why, before moto is imported.
        await assert.rejects(MotoServer.start({ PYTHONHOME: "/nonexistent-python-home" }), (error: Error) => {
            assert.match(error.message, /^moto_server did not start on 127\.0\.0\.1:\d+ \(exited with code \d+\): [\s\S]*(encodings|PYTHONHOME|Python)/);
            return true;
        });
    });

    it("a moto server dies with the process that started it, also when that process is killed before its exit hooks run (a mocha worker the pool kills); its log goes at the suite's end", async function () {
        // A process that starts the shared moto, says its pid and log, and waits to be killed: SIGKILL runs no exit hook.
        const program = `require(${JSON.stringify(path.resolve(__dirname, "../../tools/sandbox/scripts"))}).sharedMoto().then((moto) => { console.log(moto.pid, moto.logFile); setInterval(() => undefined, 1000); });`;
        const child = spawn(process.execPath, ["--require", require.resolve("offline-plan/register.cjs"), "-e", program], { stdio: ["ignore", "pipe", "inherit"] });
        let motoPid = 0;
        let logFile = "";
        try {
            // In the try: a start that fails or hangs (the test's timeout) must not leave the child (its interval keeps it alive) and its moto behind.
            [motoPid, logFile] = await new Promise<[number, string]>((resolve, reject) => {
                child.stdout.once("data", (chunk: Buffer) => {
                    const [pid, log] = chunk.toString("utf8").trim().split(" ");
                    resolve([Number(pid), log]);
                });
                child.once("exit", (code) => reject(new Error(`the process exited (${code}) before starting moto`)));
            });
            assert.ok(motoPid > 0 && alive(motoPid), `moto_server (pid ${motoPid}) is not running`);
            const exited = new Promise((resolve) => child.once("exit", resolve));
            child.kill("SIGKILL");
            await exited;
            // The kernel signals moto when its parent dies; waiting for that, not for a time.
            for (let i = 0; i < 200 && alive(motoPid); i++) {
                await new Promise((r) => setTimeout(r, 50));
            }
            assert.equal(alive(motoPid), false, `moto_server (pid ${motoPid}) outlived the process that started it`);
            // Its log is left (no exit hook ran), named for the killed process: the suite's global teardown
            // (.mocharc.js requires test/support/sweep-at-end.cjs) removes it, as it removes a killed process's clusters.
            assert.ok(fs.existsSync(logFile), `moto's log ${logFile}`);
            assert.ok(path.basename(logFile).startsWith(`o2-${child.pid}-`), `${logFile} is not named for the process that started moto`);
            // As mocha's main process does at the end: the configuration's global teardowns, in a process of its own
            // (loading the configuration sets the suite's environment: PATH, TEST_ONLY_*).
            const suiteEnd = `const hooks = require(${JSON.stringify(path.resolve(__dirname, "../../.mocharc.js"))}).require.map((file) => require(file).mochaGlobalTeardown).filter(Boolean);
                console.log(hooks.length); Promise.all(hooks.map((hook) => hook())).catch((error) => { console.error(error); process.exitCode = 1; });`;
            const ended = spawnSync(process.execPath, ["--require", require.resolve("offline-plan/register.cjs"), "-e", suiteEnd], { encoding: "utf8", timeout: 60_000 });
            assert.equal(ended.status, 0, ended.stderr);
            assert.equal(ended.stdout.trim(), "1", "the suite's configuration has no global teardown");
            assert.equal(fs.existsSync(logFile), false, `${logFile} is still there after the suite's teardown`);
        } finally {
            if (logFile !== "") {
                fs.rmSync(logFile, { force: true });
            }
            if (child.exitCode === null && child.signalCode === null) {
                child.kill("SIGKILL");
            }
            if (motoPid > 0 && alive(motoPid)) {
                process.kill(motoPid, "SIGKILL");
            }
        }
    });

    it("a run with a failing test exits 1 also when the suite's end has something to remove (h39: mocha's process ended during the removal and exited 0)", function () {
        const dir = tempDir("oauth2-dr-sweep-exit-");
        fs.chmodSync(dir, 0o1777);
        try {
            // What an ended process left (its pid: not reused within this test).
            const endedPid = spawnSync("sh", ["-c", "echo $$"], { encoding: "utf8" }).stdout.trim();
            fs.mkdirSync(path.join(dir, `o2-${endedPid}-pg-left`, "files"), { recursive: true });
            const mocha = spawnSync(process.execPath, [require.resolve("mocha/bin/mocha.js"), "--no-color", path.join("test", "fixtures", "sweep-at-end", "fails.ts")], {
                cwd: path.resolve(__dirname, "../.."),
                encoding: "utf8",
                env: { ...process.env, TEST_PG_TMPDIR: dir, FORCE_COLOR: "0" },
                timeout: 90_000,
            });
            assert.match(mocha.stdout, /1 failing/, mocha.stdout + mocha.stderr);
            assert.equal(mocha.status, 1, `the run's exit code: ${mocha.stdout}${mocha.stderr}`);
            assert.deepEqual(fs.readdirSync(dir), [], "the ended process's directory was not removed");
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("the process's shared moto (useScriptServers) is handed to each file empty: no bucket, object or secret of the file before", async function () {
        const first = await sharedMoto();
        createBucket(first, "sandbox-shared");
        putObject(first, "sandbox-shared", "k", "v");
        createSecret(first, "sandbox/shared", "value");
        assert.equal(awsCall(first, "secretsmanager", "list_secrets").SecretList.length, 1);
        const next = await sharedMoto();
        assert.equal(next, first, "the same server");
        assert.deepEqual(awsCall(next, "s3", "list_buckets").Buckets, []);
        assert.deepEqual(awsCall(next, "secretsmanager", "list_secrets").SecretList, []);
        // The same names again, as the next file may use them.
        createBucket(next, "sandbox-shared");
        createSecret(next, "sandbox/shared", "value");
        // Stopped (or dead), it is started again.
        await next.stop();
        const restarted = await sharedMoto();
        assert.notEqual(restarted.endpoint, next.endpoint);
        assert.deepEqual(awsCall(restarted, "s3", "list_buckets").Buckets, []);
    });

    it("a throwaway PostgreSQL (its cluster removed at stop) stops without a shutdown checkpoint (-m immediate), and its directories are gone", async function () {
        const pg = await PgServer.start();
        pg.createDatabase("dirty");
        pg.psql("CREATE TABLE t AS SELECT g FROM generate_series(1, 20000) g", "dirty");
        // Read after the stop through a descriptor opened before it: the log outlives its removal while open.
        const log = fs.openSync(path.join(pg.baseDir, "postgres.log"), "r");
        try {
            await pg.stop();
            assert.equal(fs.existsSync(pg.baseDir) || fs.existsSync(pg.dataDir), false, "the cluster's directories");
            const text = fs.readFileSync(log, "utf8");
            assert.match(text, /received immediate shutdown request/);
            assert.doesNotMatch(text, /checkpoint starting: shutdown/);
        } finally {
            fs.closeSync(log);
        }
    });

    it("sweepScratch removes the scratch directories of processes that are gone, their postmaster stopped, and keeps a live process's", async function () {
        const dir = tempDir("oauth2-dr-sweep-");
        fs.chmodSync(dir, 0o1777);
        const pg = await PgServer.start();
        // A process that has ended: its pid (not reused within this test: pid_max is 32768).
        const endedPid = spawnSync("sh", ["-c", "echo $$"], { encoding: "utf8" }).stdout.trim();
        const dead = path.join(dir, `o2-${endedPid}-abc123`);
        const live = path.join(dir, `o2-${process.pid}-def456`);
        const other = path.join(dir, "o2-template-unnamed");
        try {
            for (const d of [dead, live, other]) {
                fs.mkdirSync(path.join(d, "files"), { recursive: true });
            }
            // The dead process's cluster, still running (its exit hook never ran): this test's server, moved there.
            const postmaster = Number(fs.readFileSync(path.join(pg.dataDir, "postmaster.pid"), "utf8").split("\n")[0]);
            fs.symlinkSync(pg.dataDir, path.join(dead, "data"));
            await sweepScratch(dir);
            assert.deepEqual(fs.readdirSync(dir).sort(), [path.basename(live), path.basename(other)].sort());
            assert.equal(fs.existsSync(path.join(pg.dataDir, "postmaster.pid")), false, "the dead process's postmaster was not stopped");
            // Gone, or a zombie until its new parent reaps it (pg_ctl -w returns once postmaster.pid is removed).
            const ended = (): boolean => ["Z", undefined].includes(procStat(postmaster)?.[0]);
            for (let waited = 0; !ended() && waited < 10_000; waited += 50) {
                await new Promise((r) => setTimeout(r, 50));
            }
            assert.ok(ended(), `postmaster ${postmaster} still runs`);
        } finally {
            await pg.stop();
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("a throwaway cluster is made under TEST_PG_TMPDIR (.mocharc.js: /dev/shm, a tmpfs)", async function () {
        const shm = tempDir("oauth2-dr-pg-tmpdir-");
        // As /dev/shm: open to the postgres user (initdb runs as it when we are root).
        fs.chmodSync(shm, 0o1777);
        const before = process.env.TEST_PG_TMPDIR;
        process.env.TEST_PG_TMPDIR = shm;
        try {
            const pg = await PgServer.start();
            try {
                assert.equal(path.dirname(pg.baseDir), shm);
                assert.equal(pg.psql("SELECT current_setting('data_directory')", "postgres"), pg.dataDir);
                assert.ok(pg.dataDir.startsWith(`${shm}/`), pg.dataDir);
            } finally {
                await pg.stop();
            }
        } finally {
            if (before === undefined) {
                delete process.env.TEST_PG_TMPDIR;
            } else {
                process.env.TEST_PG_TMPDIR = before;
            }
            // The template cluster too, when this server made it (the next server makes another: templateCluster).
            fs.rmSync(shm, { recursive: true, force: true });
        }
    });
});

describe("tools/sandbox killRun: a killed run ends, whatever it left behind", function () {
    this.timeout(60_000);

    /** A detached bash -c `script` as startScript starts a script. */
    function started(script: string): Started {
        const child = spawn("bash", [...BASH_C, script], { stdio: ["ignore", "pipe", "pipe"], detached: true });
        let stderr = "";
        child.stderr!.on("data", (d) => (stderr += d));
        const done = new Promise<ScriptResult>((resolve) => child.on("close", (code, signal) => resolve({ code, signal, stdout: "", stderr })));
        return { child, done, outputs: outputsOf(child.pid), startTime: startTimeOf(child.pid) };
    }

    /** The first line the run writes to `stream`, as a number (a pid). */
    function firstNumber(stream: NodeJS.ReadableStream): Promise<number> {
        return new Promise<number>((resolve) => stream.once("data", (d) => resolve(Number(String(d).trim()))));
    }

    it("kills a process that left the run's session but holds its stderr (a daemon, as gpg-agent is), so the run ends", async function () {
        // setsid: a new session, out of reach of `pkill -s`; the sleep keeps the run's stderr open.
        const run = started("setsid bash -c 'echo $$ >&2; exec sleep 300' & sleep 300");
        const daemon = await new Promise<number>((resolve) => run.child.stderr!.on("data", (d) => resolve(Number(String(d).trim()))));
        assert.notEqual(procStat(daemon)?.[3], String(run.child.pid), "the sleep left the run's session");
        const result = await killRun(run, 20_000);
        assert.equal(result.signal, "SIGKILL");
        for (let waited = 0; alive(daemon) && waited < 5000; waited += 50) {
            await new Promise((r) => setTimeout(r, 50)); // reaped by init
        }
        assert.ok(!alive(daemon), "the process that left the session outlived the run");
    });

    it("spares a process outside the run that holds what the run's shell has on stderr at the kill (a file here; /dev/null during a `wait 2>/dev/null`)", async function () {
        // h34: during a script's `wait $pid 2>/dev/null` its shell's stderr is /dev/null, and killRun killed every
        // process of the machine with /dev/null open. A file stands in for it: only the bystander holds it besides the run.
        const dir = tempDir("oauth2-dr-killrun-");
        const file = path.join(dir, "redirected");
        const held = fs.openSync(file, "a");
        const bystander = spawn("sleep", ["300"], { stdio: ["ignore", held, "ignore"] });
        fs.closeSync(held);
        try {
            const run = started(`exec 2>>'${file}'; echo $$; sleep 300`);
            await firstNumber(run.child.stdout!);
            const result = await killRun(run, 20_000);
            assert.equal(result.signal, "SIGKILL");
            assert.ok(alive(bystander.pid!), "killRun killed a process outside the run that holds the file the run's stderr was redirected to");
        } finally {
            bystander.kill("SIGKILL");
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("kills nothing of a session whose leader's number now belongs to another process (another start time: a reused pid)", async function () {
        // A session (leader and member) that is not the run's: the run object names its leader's pid but another start
        // time, as when the run's shell has ended and the number was handed to a new session leader.
        const other = started("sleep 300 & echo $!; wait");
        const member = await firstNumber(other.child.stdout!);
        const run: Started = { child: other.child, done: other.done, outputs: [], startTime: "1" };
        try {
            await assert.rejects(killRun(run, 1000), /has not ended after 1000 ms/);
            assert.ok(alive(other.child.pid!) && alive(member), "killRun killed the session of a process that only has the run's old number");
        } finally {
            process.kill(-other.child.pid!, "SIGKILL");
        }
    });

    it("after the run's shell was reaped, kills a session of its number only when a member started before the reaping (else it took the freed number later)", async function () {
        // A session whose leader has ended, its member left: the run's orphan, or, the number reused, another's
        // session whose leader ended too (a pipeline's first command, a daemon's intermediate process).
        const leader = spawn("bash", [...BASH_C, "sleep 300 >/dev/null 2>&1 & echo $!"], { stdio: ["ignore", "pipe", "ignore"], detached: true });
        const member = await firstNumber(leader.stdout!);
        await new Promise((r) => leader.once("close", r));
        const since = startTimeOf(member)!;
        const runs = () => startTimeOf(member) === since && procStat(member)?.[0] !== "Z";
        /** A run whose shell node reaped at `reapedTick`, its number now the ended leader's. */
        const reaped = async (reapedTick: number): Promise<Started> => {
            const child = spawn("true", { stdio: "ignore", detached: true });
            const done = new Promise<ScriptResult>((resolve) => child.on("close", (code, signal) => resolve({ code, signal, stdout: "", stderr: "" })));
            await done;
            Object.defineProperty(child, "pid", { value: leader.pid });
            return { child, done, outputs: [], startTime: "1", reapedTick };
        };
        try {
            assert.ok(runs() && startTimeOf(leader.pid) === undefined, "the session's leader ended, its member runs");
            await killRun(await reaped(Number(since) - 1));
            await new Promise((r) => setTimeout(r, 300));
            assert.ok(runs(), "killRun killed a session that took the run's number after the run's shell was reaped");
            await killRun(await reaped(Number(since) + 1));
            for (let waited = 0; runs() && waited < 5000; waited += 50) {
                await new Promise((r) => setTimeout(r, 50));
            }
            assert.ok(!runs(), "the run's orphan (started before its shell was reaped) outlived killRun");
        } finally {
            if (runs()) {
                process.kill(member, "SIGKILL");
            }
        }
    });

    it("killRunAfter ends a run whose shell has ended but whose job (a process group of its own, set -m) holds its output", async function () {
        const run = started("set -m; sleep 300 & echo $!");
        const job = await firstNumber(run.child.stdout!);
        await new Promise((r) => run.child.once("exit", r));
        assert.ok(alive(job), "the job outlives the shell");
        killRunAfter(run, 200);
        let timer: NodeJS.Timeout | undefined;
        const result = await Promise.race([
            run.done,
            new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`the run has not ended 20 s after killRunAfter (its job ${job} holds its stdout)`)), 20_000))),
        ]).finally(() => clearTimeout(timer));
        assert.equal(result.code, 0, "the shell's own exit");
        for (let waited = 0; alive(job) && waited < 5000; waited += 50) {
            await new Promise((r) => setTimeout(r, 50));
        }
        assert.ok(!alive(job), "the run's job outlived killRunAfter");
    });

    it("kills a daemon that holds the run's stderr as it started even after the shell redirected its own (the pipes are read at the start)", async function () {
        const dir = tempDir("oauth2-dr-killrun-");
        try {
            // The daemon keeps the run's original stderr (not its stdout); then the shell's own stderr goes to a file.
            const run = started(`setsid bash -c 'echo $$; exec sleep 300' </dev/null >'${dir}/daemon.pid' & until [ -s '${dir}/daemon.pid' ]; do sleep 0.01; done; exec 2>>'${dir}/redirected'; echo ready; sleep 300`);
            await new Promise<void>((resolve) => run.child.stdout!.once("data", () => resolve()));
            const daemon = Number(fs.readFileSync(path.join(dir, "daemon.pid"), "utf8").trim());
            assert.ok(alive(daemon));
            const result = await killRun(run, 20_000);
            assert.equal(result.signal, "SIGKILL");
            for (let waited = 0; alive(daemon) && waited < 5000; waited += 50) {
                await new Promise((r) => setTimeout(r, 50));
            }
            assert.ok(!alive(daemon), "the daemon holding the run's original stderr outlived the run");
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});

describe("tools/sandbox waitForStderr: a run that ends without the line fails the wait then, not at its deadline", function () {
    /** A bash -c `script` with the pipes and done of startScript's runs. */
    function started(script: string): Started {
        const child = spawn("bash", [...BASH_C, script], { stdio: ["ignore", "pipe", "pipe"] });
        const done = new Promise<ScriptResult>((resolve) => child.on("close", (code, signal) => resolve({ code, signal, stdout: "", stderr: "" })));
        return { child, done };
    }

    it("resolves on the line; rejects at the run's end, with its exit and stderr, well before a long deadline", async function () {
        this.timeout(60_000);
        await waitForStderr(started("echo 'waiting for a lock' >&2; sleep 0.2"), /waiting for a lock/, 60_000);
        // The end's own error (a wait that only timed out would say "timed out", 50 s later).
        await assert.rejects(waitForStderr(started("echo 'ERROR: no bucket' >&2; exit 4"), /waiting for a lock/, 50_000), /the run ended \(exit 4\) without \/waiting for a lock\/; its stderr: ERROR: no bucket/);
    });
});

describe("the scripts' AWS helpers forked by tools/sandbox/helper-forks.py (TEST_ONLY_AWS_HELPER_FORKS)", function () {
    this.timeout(60_000);
    let dir: string;
    before(function () {
        if (process.env.TEST_ONLY_AWS_HELPER_FORKS !== "1") {
            this.skip();
        }
        dir = tempDir("oauth2-dr-helper-forks-test-");
    });
    after(() => dir && fs.rmSync(dir, { recursive: true, force: true }));

    /**
     * lib.sh's make_work_dir (which starts the helper) and aws_helper_ready in a bash with `env`, then `probe`
     * (bash, with $HELPER: the forked helper's pid, the child of the server whose stderr is the run's
     * aws-helper.err); the KEY=VALUE lines of stdout, and stderr.
     */
    function helperRun(env: Record<string, string>, probe: string, prefix = ""): Record<string, string> {
        const script = `${prefix}
            SCRIPT_NAME=forks-test; source "${SCRIPTS}/lib.sh"; make_work_dir; aws_helper_ready || exit 9
            forks=$(dirname "$AWS_HELPER_PYTHON")
            HELPER=""
            for server in $(pgrep -f "helper-forks\\.py serve $forks/forks\\.sock"); do
                for child in $(pgrep -P "$server"); do
                    [[ "$(readlink /proc/$child/fd/2)" == "$WORK_DIR/aws-helper.err" ]] && HELPER=$child
                done
            done
            echo "HELPER=$HELPER"
            echo "CLIENT_ARGS=$(tr '\\0' ' ' </proc/$AWS_HELPER_PID/cmdline)"
            ${probe}
            remove_work_dir`;
        const result = spawnSync("bash", [...BASH_C, script], { cwd: dir, env: baseEnv({ AWS_REGION: "us-east-1", ...env }), encoding: "utf8" });
        assert.equal(result.status, 0, result.stderr);
        const lines = result.stdout.split("\n").filter((line) => line.includes("="));
        return { ...Object.fromEntries(lines.map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1).trim()])), stderr: result.stderr };
    }

    it("the helper is a fork with the run's environment, working directory, file size limit and stderr (fd 3), and ends at once when its client is killed", function () {
        const seen = helperRun(
            { AWS_ENDPOINT_URL: "http://127.0.0.1:1", AWS_MAX_ATTEMPTS: "2", AWS_ACCESS_KEY_ID: "test", AWS_SECRET_ACCESS_KEY: "test" },
            `
            echo "LIMIT=$(awk '/^Max file size/ { print $4 }' /proc/$HELPER/limits)"
            echo "CWD=$(readlink /proc/$HELPER/cwd)"
            # The run's endpoint (its environment), its name (AWS_HELPER_LOG_NAME) on its stderr (fd 3).
            aws_call GET /s3/size - bucket=forks-test key=k >/dev/null 2>&1
            stop_aws_helper
            # No wait: the client's exit (before stop_aws_helper's wait returns) sends the helper SIGIO, whose default
            # action ends it; the kernel marks each thread with SIGKILL at once, though a loaded machine may not have
            # run its exit yet: dead, a zombie, SIGKILL pending (SigPnd bit 9) or exiting (PF_EXITING), nothing else.
            status=$(cat /proc/$HELPER/status 2>/dev/null)
            state=$(awk '/^State/ { print $2 }' <<<"$status")
            pending=$(awk '/^SigPnd/ { print $2 }' <<<"$status")
            flags=$(cut -d' ' -f9 /proc/$HELPER/stat 2>/dev/null)
            echo "AFTER_KILL=\${state:-gone} \${pending:-0} \${flags:-0}"`,
            "ulimit -f 4096;",
        );
        assert.notEqual(seen.HELPER, "", `no forked helper found: ${JSON.stringify(seen)}`);
        assert.match(seen.CLIENT_ARGS, /helper-forks-\S+\/python3 \S+\/scripts\/aws-helper\.py \S+\/aws\.sock \d+$/);
        assert.equal(seen.LIMIT, String(4096 * 1024));
        assert.equal(seen.CWD, dir);
        assert.match(seen.stderr, /forks-test: no answer from http:\/\/127\.0\.0\.1:1 to HeadObject of s3:\/\/forks-test\/k \(attempt 1 of 2/);
        const [state, pending, flags] = seen.AFTER_KILL.split(" ");
        assert.ok(
            state === "gone" || state === "Z" || (BigInt(`0x${pending}`) & 0x100n) !== 0n || (Number(flags) & 0x4) !== 0,
            `the forked helper outlived its killed client (state ${state}, pending signals ${pending}, flags ${flags})`,
        );
    });

    it("a run whose environment sets PYTHONPATH (a sitecustomize.py) starts its helper as python3 itself", function () {
        const seen = helperRun({ PYTHONPATH: dir }, "");
        assert.equal(seen.HELPER, "");
        assert.match(seen.CLIENT_ARGS, new RegExp(`^${resolvedHelperPython()} ${path.join(SCRIPTS, "aws-helper.py")} \\S+/aws\\.sock \\d+$`));
    });
});

describe("tools/sandbox/helper-forks.py's models parsed once, checked against the installed botocore", function () {
    this.timeout(60_000);
    const forks = path.join(__dirname, "..", "..", "tools", "sandbox", "helper-forks.py");

    /**
     * A helper's S3 and Secrets Manager clients (aws-helper.py's module code and warm_s3), in a python3 of its own,
     * after `before` and with `after` run last (python; both may add to `extra`): their models' digests, S3's
     * endpoint and a presigned URL's address, as JSON.
     */
    function helperClients(before: string, after: string): Record<string, unknown> {
        const python = resolvedHelperPython();
        assert.ok(python, "no python3 with botocore and s3transfer");
        const helper = path.join(SCRIPTS, "aws-helper.py");
        const program = [
            "import hashlib, json, runpy, sys",
            "extra = {}",
            before,
            `helper = {"__name__": "aws_helper", "__file__": ${JSON.stringify(helper)}}`,
            `exec(compile(open(${JSON.stringify(helper)}).read(), ${JSON.stringify(helper)}, "exec"), helper)`,
            "helper['warm_s3']()",
            "s3 = helper['client']('s3'); secrets = helper['client']('secretsmanager'); s3.get_paginator('list_objects_v2')",
            "model = lambda c: hashlib.sha256(json.dumps(c.meta.service_model._service_description, sort_keys=True).encode()).hexdigest()",
            after,
            "print(json.dumps({'s3': model(s3), 'secretsmanager': model(secrets), 'endpoint': s3.meta.endpoint_url, 'region': s3.meta.region_name,",
            "                  'url': s3.generate_presigned_url('get_object', Params={'Bucket': 'b', 'Key': 'k'}).split('?')[0], **extra}))",
        ].join("\n");
        const result = spawnSync(python!, ["-c", program], {
            encoding: "utf8",
            env: {
                PATH: process.env.PATH ?? "/usr/bin:/bin",
                HOME: dir,
                AWS_ACCESS_KEY_ID: "AKIAFORKS",
                AWS_SECRET_ACCESS_KEY: "not-a-secret",
                AWS_REGION: "eu-west-3",
                AWS_CONFIG_FILE: "/dev/null",
                AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
            },
            timeout: 30_000,
        });
        assert.equal(result.status, 0, result.stderr);
        return JSON.parse(result.stdout.trim().split("\n").pop()!) as Record<string, unknown>;
    }

    let dir: string;
    before(() => (dir = tempDir("oauth2-dr-helper-models-")));
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("the helper's clients take every preloaded file they load (endpoints.json, S3's and Secrets Manager's models and rule sets), and are the same clients as without them", function () {
        const preloaded = helperClients(
            [
                `forks = runpy.run_path(${JSON.stringify(forks)}, run_name="helper_forks")`,
                "forks['preload']()",
                "pre = forks['PRELOADED']",
                "extra['found'] = sorted(name.split('/data/', 1)[1] for name, data in pre.items() if data is not None)",
            ].join("\n"),
            "extra['left'] = sorted(name.split('/data/', 1)[1] for name, data in pre.items() if data is not None)",
        );
        const plain = helperClients("", "");
        // Found in the installed botocore (a renamed or moved data file is not found: preloading nothing is a failure).
        const found = preloaded.found as string[];
        for (const name of ["endpoints", "_retry", "partitions", "sdk-default-configuration"]) {
            assert.ok(found.includes(name), `${name}.json not preloaded: ${found.join(", ")}`);
        }
        for (const kind of ["service-2", "endpoint-rule-set-1"]) {
            assert.ok(found.some((name) => name.startsWith("s3/") && name.endsWith(`/${kind}`)), `S3's ${kind} not preloaded: ${found.join(", ")}`);
            assert.ok(found.some((name) => name.startsWith("secretsmanager/") && name.endsWith(`/${kind}`)), `Secrets Manager's ${kind} not preloaded`);
        }
        // Taken by the clients (botocore still loads its data through JSONFileLoader.load_file, by these paths): only
        // STS's files, which these clients never load, may be left.
        assert.deepEqual(
            (preloaded.left as string[]).filter((name) => !name.startsWith("sts/")),
            [],
            "preloaded files that botocore did not ask for: its loading changed shape",
        );
        for (const key of ["s3", "secretsmanager", "endpoint", "region", "url"]) {
            assert.equal(preloaded[key], plain[key], `${key} differs with the preloaded files`);
        }
    });
});
