/**
 * Running the backup scripts from the tests, the DR drill and the benchmark (tools/sandbox): a child process with a controlled
 * environment (PostgreSQL 15 binaries first on PATH, the moto endpoint, a passphrase file), and helpers
 * to seed the bucket and read it back with the AWS CLI.
 */
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { MotoServer, PG_BIN, PgServer, scratchDir } from "./servers";

export const REPO = path.resolve(__dirname, "..", "..");
export const SCRIPTS = path.join(REPO, "scripts");

/**
 * The arguments before a command of `bash -c` as the tests start it: bash reads ~/.bashrc for a `-c` command whose
 * stdin is a socket (it takes that for sshd, and node's stdio pipes are socketpairs), and a developer's .bashrc may
 * be slow or change PATH: this machine's runs `pyenv init` in full for an environment without pyenv's variables
 * (a test's own PATH and HOME: wait-progress.test.ts), 0.7 to 0.9 s of CPU per `bash -c` against 13 to 16 ms with
 * --norc (measured 2026-12-05; with the worker's whole environment, 16 ms either way).
 */
export const BASH_C = ["--norc", "-c"] as const;

export interface ScriptResult {
    code: number | null;
    signal: NodeJS.Signals | null;
    stdout: string;
    stderr: string;
}

/** A script run as an assertion message: exit code, signal, and both streams. */
export function explain(result: ScriptResult): string {
    return `exit ${result.code} (${result.signal ?? "no signal"})\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`;
}

export interface Started {
    child: ChildProcess;
    done: Promise<ScriptResult>;
    /** The run's own output pipes as its shell got them ("socket:[N]": node's stdio), read as it started (outputsOf). */
    outputs?: string[];
    /** Its shell's start time (/proc/PID/stat), read as it started: its pid is its alone while the two agree (startTimeOf). */
    startTime?: string;
    /** When node reaped its shell, in clock ticks after boot as /proc/PID/stat's start times (clockTick); unset before. */
    reapedTick?: number;
}

/**
 * Resolves when the started script has written `pattern` to stderr; rejects after `timeoutMs`, or as soon as the run
 * ends without it, quoting what it saw. The run's end is the event a wrong program gives: `timeoutMs` can then be
 * a generous bound (a slow machine's start-up) that only a run still going without the line waits out.
 */
export function waitForStderr(run: Started, pattern: RegExp, timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
        let seen = "";
        let settled = false;
        const settle = (error?: Error) => {
            if (!settled) {
                settled = true;
                clearTimeout(timer);
                return error ? reject(error) : resolve();
            }
        };
        const timer = setTimeout(() => settle(new Error(`timed out waiting for ${pattern} in: ${seen}`)), timeoutMs);
        run.child.stderr!.on("data", (d) => {
            seen += d;
            if (pattern.test(seen)) {
                settle();
            }
        });
        // done resolves at the close of the run's pipes: every chunk of its stderr has been seen by then.
        void run.done.then((result) => settle(new Error(`the run ended (exit ${result.code}${result.signal ? `, ${result.signal}` : ""}) without ${pattern}; its stderr: ${seen}`)));
    });
}

/**
 * Starts scripts/<name> with `env` on top of a minimal environment (not the test process's); with `stdin`, its
 * stdin is a pipe (child.stdin) instead of /dev/null.
 */
export function startScript(
    name: string,
    env: Record<string, string>,
    args: string[] = [],
    options: { detached?: boolean; stdin?: boolean; helperForks?: boolean } = {},
): Started {
    // A run a test holds a handle of (to signal it, kill it whole, read its progress) starts its AWS helper as
    // production does, a python3 of the run, stopped or killed with it; only a run left to end by itself (runScript,
    // helperForks) may get one forked by helper-forks.py (TEST_ONLY_AWS_HELPER_FORKS), which lives outside the run's
    // session and dies when its client does, a moment later.
    const real = !options.helperForks && env.AWS_HELPER_PYTHON === undefined ? resolvedHelperPython() : undefined;
    const child = spawn("bash", [path.join(SCRIPTS, name), ...args], {
        env: baseEnv(real ? { ...env, AWS_HELPER_PYTHON: real } : env),
        stdio: [options.stdin ? "pipe" : "ignore", "pipe", "pipe"],
        detached: options.detached ?? false,
    });
    // Read now: spawn returns once bash has been exec'd, before it runs a line of the script.
    const outputs = outputsOf(child.pid);
    const startTime = startTimeOf(child.pid);
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (d) => (stdout += d));
    child.stderr!.on("data", (d) => (stderr += d));
    const done = new Promise<ScriptResult>((resolve) => {
        child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
    });
    const started: Started = { child, done, outputs, startTime };
    // Node reaps the shell and emits "exit" in one callback: from then on its number may be handed to another process.
    child.once("exit", () => (started.reapedTick = clockTick()));
    // Noted until it ends, with the test that started it (test/support/pending-runs.cjs: a run a test leaves
    // running is killed when the test ends and named in a failure).
    const entry: PendingRun = { run: started, script: name, args: [...args], startedAt: Date.now(), owner: (globalThis as Record<symbol, unknown>)[RUN_OWNER] };
    pendingRuns().add(entry);
    void done.then(() => pendingRuns().delete(entry));
    return started;
}

/** A run of startScript (runScript's too) that has not ended: its script, arguments, start (ms) and the test that started it. */
export interface PendingRun {
    run: Started;
    script: string;
    args: string[];
    startedAt: number;
    /** What test/support/pending-runs.cjs set as the running test when the run started (undefined outside a test). */
    owner: unknown;
}

/** Where the pending runs and the running test are kept: on globalThis, so that the root hook (a .cjs) reads them without loading this module. */
const PENDING_RUNS = Symbol.for("oauth2-dr.pendingRuns");
const RUN_OWNER = Symbol.for("oauth2-dr.runOwner");

/** The runs of this process not ended yet (removed as each ends). */
export function pendingRuns(): Set<PendingRun> {
    const global = globalThis as Record<symbol, unknown>;
    if (!(global[PENDING_RUNS] instanceof Set)) {
        global[PENDING_RUNS] = new Set<PendingRun>();
    }
    return global[PENDING_RUNS] as Set<PendingRun>;
}

let clockTicksPerSecond = 0;
/** Now, in clock ticks after boot: the unit of /proc/PID/stat's start times. */
export function clockTick(): number {
    clockTicksPerSecond ||= Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout.trim()) || 100;
    return Math.floor(Number(fs.readFileSync("/proc/uptime", "utf8").split(" ")[0]) * clockTicksPerSecond);
}

/**
 * The fields of /proc/PID/stat after "(comm) " (comm may hold spaces and parentheses): state, ppid, pgrp, session,
 * ..., starttime (the 20th, index 19); undefined when no process has that pid.
 */
export function procStat(pid: number | undefined): string[] | undefined {
    try {
        const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
        return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    } catch {
        return undefined;
    }
}

/** Process `pid`'s start time (field 22 of /proc/PID/stat, in clock ticks since boot), or undefined when it has ended. */
export function startTimeOf(pid: number | undefined): string | undefined {
    return procStat(pid)?.[19];
}

/**
 * The anonymous pipes and sockets on process `pid`'s stdout and stderr ("pipe:[N]", "socket:[N]"), from /proc. Nothing
 * else: a shell's fd 1 or 2 is /dev/null or a file while a command redirects it (`wait $pid 2>/dev/null`, and a
 * trap that interrupts such a command runs with it), and every process on the machine has /dev/null open. An
 * anonymous pipe's or socket's inode is this run's alone.
 */
export function outputsOf(pid: number | undefined): string[] {
    const found: string[] = [];
    for (const fd of [1, 2]) {
        try {
            const link = fs.readlinkSync(`/proc/${pid}/fd/${fd}`);
            if (/^(pipe|socket):\[\d+\]$/.test(link)) {
                found.push(link);
            }
        } catch {
            // the process has ended already
        }
    }
    return found;
}

/** The live processes (not zombies) whose session is `session`, from /proc, with their start times (clock ticks). */
function sessionMembers(session: number): { pid: number; start: number }[] {
    const members: { pid: number; start: number }[] = [];
    for (const entry of fs.readdirSync("/proc").filter((e) => /^\d+$/.test(e))) {
        const fields = procStat(Number(entry)); // undefined: ended meanwhile
        if (fields && fields[0] !== "Z" && Number(fields[3]) === session) {
            members.push({ pid: Number(entry), start: Number(fields[19]) });
        }
    }
    return members;
}

/** The processes other than this one with `pipes` (e.g. "pipe:[123]") open, from /proc. */
function pipeHolders(pipes: Set<string>): number[] {
    const holders = new Set<number>();
    for (const entry of fs.readdirSync("/proc").filter((e) => /^\d+$/.test(e) && Number(e) !== process.pid)) {
        try {
            for (const fd of fs.readdirSync(`/proc/${entry}/fd`)) {
                if (pipes.has(fs.readlinkSync(`/proc/${entry}/fd/${fd}`))) {
                    holders.add(Number(entry));
                }
            }
        } catch {
            // ended meanwhile, or not ours to read
        }
    }
    return [...holders];
}

function processName(pid: number): string {
    try {
        return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ").trim().slice(0, 120) || `pid ${pid}`;
    } catch {
        return `pid ${pid}`;
    }
}

/**
 * Kills a run started with `{ detached: true }` as a container kill does: every process of its session, and
 * any process that left the session but still holds the run's output pipes (a daemon such as gpg-agent, which
 * a container's end takes with it). One `pkill -s` is not enough: a process forked while it scans /proc is not
 * in its list and lives on, and a run whose pipes stay open never ends (the test then waits out its timeout).
 * Kills until none is left, then waits for the run's end; fails naming what still lives after `withinMs`.
 */
export async function killRun(run: Started, withinMs = 30_000): Promise<ScriptResult> {
    const session = run.child.pid!;
    // Whether the number is still the run's: once its shell has ended and been reaped, with no process left in its
    // session, the kernel hands the number to the next process, which may lead a session of its own (another test
    // run, another engineer's shell). While a process of the run's session lives, the number cannot be reused.
    // When no process has the number, a session of that id is the run's only if one of its members started before
    // node reaped the shell (reapedTick): a session that took the freed number later (its leader ended too, its
    // members left: a pipeline, a daemon's intermediate process) has none. Decided once: while the loop below finds
    // members the id stays taken, so the session it kills is the one it decided on (a number that changes hands
    // between two scans, 50 ms, would need the pids to come round).
    const now = startTimeOf(session);
    const shellIsRuns = now !== undefined && (run.startTime === undefined || now === run.startTime);
    const reapedTick = run.reapedTick;
    const sessionIsRuns = now === undefined ? reapedTick === undefined || sessionMembers(session).some((m) => m.start < reapedTick) : shellIsRuns;
    // The run's output pipes: as its shell got them at its start, and as it holds them now (while it is the run's);
    // anonymous pipes and sockets only (outputsOf: never /dev/null or a file, which processes outside the run hold too).
    const pipes = new Set<string>([...(run.outputs ?? []), ...(shellIsRuns ? outputsOf(session) : [])]);
    const deadline = Date.now() + withinMs;
    let live: number[] = [];
    for (;;) {
        live = [...new Set([...(sessionIsRuns ? sessionMembers(session).map((m) => m.pid) : []), ...pipeHolders(pipes)])];
        if (live.length === 0 || Date.now() > deadline) {
            break;
        }
        for (const pid of live) {
            try {
                process.kill(pid, "SIGKILL");
            } catch {
                // ended meanwhile
            }
        }
        await new Promise((r) => setTimeout(r, 50));
    }
    const timeout = new Promise<never>((_, reject) => {
        const timer = setTimeout(() => reject(new Error(`the killed run has not ended after ${withinMs} ms; still alive: ${live.map(processName).join("; ") || "none (its pipes stay open)"}`)), Math.max(deadline - Date.now(), 1000));
        void run.done.then(() => clearTimeout(timer));
    });
    return Promise.race([run.done, timeout]);
}

/**
 * A bound on a wait for `run` (detached): kills it as killRun does when it has not ended after `ms`, so that the
 * test fails on the killed run's result instead of waiting out mocha's timeout. Not `process.kill(-pid)`: the
 * shell's group is not the run (set -m puts each job in a group of its own, and those jobs keep its output pipes
 * open, so the run does not end), and once the shell has ended and been reaped that group's id may be another's
 * (or no one's: ESRCH, thrown from the timer, fails whatever test runs then). Cancelled when the run ends.
 */
export function killRunAfter(run: Started, ms: number): () => void {
    const timer = setTimeout(() => {
        killRun(run).catch((error: Error) => console.error(`killRunAfter(${ms} ms): ${error.message}`));
    }, ms);
    void run.done.then(() => clearTimeout(timer));
    return () => clearTimeout(timer);
}

export function runScript(name: string, env: Record<string, string>, args: string[] = []): Promise<ScriptResult> {
    return startScript(name, env, args, { helperForks: true }).done;
}

let helperPython: string | undefined | null = null;

/**
 * The interpreter the scripts' AWS helper would pick (lib.sh: python3, then /usr/bin/python3, the first with
 * botocore and s3transfer), resolved once to its real executable: a python3 on PATH may be a version
 * manager's shim (pyenv's runs a dozen bash scripts per start), which every script run would pay twice.
 * The scripts use it as it is (AWS_HELPER_PYTHON).
 */
export function resolvedHelperPython(): string | undefined {
    if (helperPython === null) {
        const probe = "import importlib.util as u, sys; sys.exit(1) if not (u.find_spec('botocore') and u.find_spec('s3transfer')) else print(sys.executable)";
        helperPython = ["python3", "/usr/bin/python3"]
            .map((python) => spawnSync(python, ["-c", probe], { encoding: "utf8" }))
            .find((result) => result.status === 0 && result.stdout.trim())
            ?.stdout.trim();
    }
    return helperPython;
}

const FORKS_SCRIPT = path.join(__dirname, "helper-forks.py");
let forksPython: string | undefined | null = null;

/**
 * With TEST_ONLY_AWS_HELPER_FORKS=1 (.mocharc.js sets it for the test suite; scripts/README.md), the scripts'
 * AWS_HELPER_PYTHON: a client of this process's helper-forks.py server, which forks each script run's
 * aws-helper.py from a process that has botocore imported already (about 0.08 s of CPU less per helper start;
 * a script test file starts some 40). Started on first use, once per process (a mocha worker runs many files),
 * under `setpriv --pdeathsig KILL` as moto is, and ended with the process. Unset (production, the bench, the
 * drill's CLI), or when the server cannot start: the interpreter itself (resolvedHelperPython).
 */
function helperForksPython(python: string): string {
    if (forksPython !== null) {
        return forksPython ?? python;
    }
    forksPython = undefined;
    const dir = tempDir("oauth2-dr-helper-forks-");
    const socket = path.join(dir, "forks.sock");
    const wrapper = path.join(dir, "python3");
    // The scripts' own environment (baseEnv's), without PYTHON* settings: the client compares its run's with these
    // (helper-forks.py START_SETTINGS: what the interpreter or an import reads once, HOME for botocore's cache paths).
    const serverEnv = Object.fromEntries(Object.entries(baseEnv({})).filter(([name]) => !name.startsWith("PYTHON")));
    const settings = Object.entries(serverEnv)
        .filter(([name]) => ["LANG", "LC_ALL", "LC_CTYPE", "TZ", "HOME"].includes(name))
        .map(([name, value]) => `${name}=${value}`)
        .sort()
        .join("\n");
    const child = spawn("setpriv", ["--pdeathsig", "KILL", python, FORKS_SCRIPT, "serve", socket, String(process.pid)], { env: serverEnv, stdio: ["ignore", "ignore", "inherit"] });
    child.unref();
    process.once("exit", () => {
        child.kill("SIGKILL");
        fs.rmSync(dir, { recursive: true, force: true });
    });
    for (let waited = 0; !fs.existsSync(socket); waited += 20) {
        if (child.exitCode !== null || waited > 20_000) {
            return python;
        }
        pauseSync(20);
    }
    // Run as `python3 -S` (no site: a few milliseconds per start), helper-forks.py's client from its compiled code
    // (kept beside the wrapper on first use).
    const code = path.join(dir, "helper-forks.code");
    fs.writeFileSync(
        wrapper,
        [
            `#!${python} -S`,
            "import marshal, os, sys",
            `sys.argv[1:1] = ["client", ${JSON.stringify(socket)}, ${JSON.stringify(python)}, ${JSON.stringify(settings)}]`,
            "try:",
            `    with open(${JSON.stringify(code)}, "rb") as handle:`,
            "        code = marshal.load(handle)",
            "except (OSError, EOFError, ValueError, TypeError):",
            `    with open(${JSON.stringify(FORKS_SCRIPT)}, "rb") as handle:`,
            `        code = compile(handle.read(), ${JSON.stringify(FORKS_SCRIPT)}, "exec")`,
            `    with open(f"${code}.{os.getpid()}", "wb") as handle:`,
            "        marshal.dump(code, handle)",
            `    os.rename(f"${code}.{os.getpid()}", ${JSON.stringify(code)})`,
            `exec(code, {"__name__": "__main__", "__file__": ${JSON.stringify(FORKS_SCRIPT)}})`,
            "",
        ].join("\n"),
        { mode: 0o755 },
    );
    forksPython = wrapper;
    return wrapper;
}

/**
 * Blocks this thread for `ms` (a synchronous wait for a socket to appear) without a process: a `sleep` child per
 * round forked the whole test process (and searched PATH's dozen directories for it) some 25 times per worker.
 */
function pauseSync(ms: number): void {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

export function baseEnv(env: Record<string, string>): Record<string, string> {
    const extraPath = env.EXTRA_PATH ? `${env.EXTRA_PATH}:` : "";
    const real = resolvedHelperPython();
    // A test's own AWS_HELPER_PYTHON (a python3 without botocore, a wrapper, the postgres user's) is used as it is.
    const python = real && process.env.TEST_ONLY_AWS_HELPER_FORKS === "1" && env.AWS_HELPER_PYTHON === undefined ? helperForksPython(real) : real;
    return {
        PATH: `${extraPath}${PG_BIN}:${process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin"}`,
        HOME: env.HOME ?? os.tmpdir(),
        TMPDIR: env.TMPDIR ?? os.tmpdir(),
        LANG: "C.UTF-8",
        ...(python ? { AWS_HELPER_PYTHON: python } : {}),
        // The test suite's lower S2K count (.mocharc.js sets it; scripts/README.md): the bench and the drill's CLI
        // run without it, at the production count.
        ...(process.env.TEST_ONLY_GPG_S2K_COUNT ? { TEST_ONLY_GPG_S2K_COUNT: process.env.TEST_ONLY_GPG_S2K_COUNT } : {}),
        ...env,
    };
}

/** A temp dir with a passphrase file (mode 600). */
export function passphraseFile(dir: string, passphrase: string, name = "passphrase"): string {
    const file = path.join(dir, name);
    fs.writeFileSync(file, `${passphrase}\n`, { mode: 0o600 });
    return file;
}

/** The AWS CLI against moto; throws on failure. For calls the tests make through the CLI on purpose (rds). */
export function aws(moto: MotoServer, args: string[], input?: Buffer | string): string {
    const result = spawnSync("aws", ["--endpoint-url", moto.endpoint, ...args], {
        env: baseEnv(moto.env()),
        input,
        maxBuffer: 1024 * 1024 * 1024,
    });
    if (result.status !== 0) {
        throw new Error(`aws ${args.join(" ")} failed: ${result.stderr}`);
    }
    return result.stdout.toString("utf8");
}

const RPC_SCRIPT = path.join(__dirname, "aws-rpc.py");
const rpcSockets = new Map<string, string>();

/** The python3 that runs aws-helper.py for the scripts (resolvedHelperPython), for the tests' own calls. */
function botocorePython(): string {
    const found = resolvedHelperPython();
    if (!found) {
        throw new Error("no python3 with botocore: run .ci/setup (it installs python3-botocore)");
    }
    return found;
}

/** The socket of this moto server's aws-rpc.py, started on first use (one botocore process per server). */
function rpcSocket(moto: MotoServer): string {
    const known = rpcSockets.get(moto.endpoint);
    if (known) {
        return known;
    }
    const dir = tempDir("oauth2-dr-aws-rpc-");
    const socket = path.join(dir, "rpc.sock");
    const child = spawn(botocorePython(), [RPC_SCRIPT, socket, moto.endpoint, String(process.pid)], { env: baseEnv(moto.env()), stdio: ["ignore", "ignore", "inherit"] });
    child.unref();
    // Stopped with its moto server (one per test file: a worker runs many files) or, at the latest, with this process.
    const stop = () => {
        rpcSockets.delete(moto.endpoint);
        process.removeListener("exit", stop);
        child.kill("SIGKILL");
        fs.rmSync(dir, { recursive: true, force: true });
    };
    process.once("exit", stop);
    moto.onStop(stop);
    for (let waited = 0; !fs.existsSync(socket); waited += 50) {
        if (child.exitCode !== null || waited > 20_000) {
            throw new Error(`aws-rpc.py did not start for ${moto.endpoint}`);
        }
        pauseSync(50);
    }
    rpcSockets.set(moto.endpoint, socket);
    return socket;
}

/**
 * One botocore call against moto (e.g. awsCall(moto, "s3", "list_object_versions", { Bucket })); throws with
 * botocore's message on failure. Synchronous, like the CLI calls it replaces, in milliseconds instead of half
 * a second. Bytes travel as {"base64": ...} both ways.
 */
export function awsCall(moto: MotoServer, service: string, operation: string, params: Record<string, unknown> = {}): any {
    const result = spawnSync("curl", ["-sS", "--unix-socket", rpcSocket(moto), "-w", "\n%{http_code}", "--data-binary", "@-", "http://aws-rpc/call"], {
        input: JSON.stringify({ service, operation, params }),
        maxBuffer: 1024 * 1024 * 1024,
        encoding: "utf8",
    });
    const cut = result.stdout.lastIndexOf("\n");
    const [body, status] = [result.stdout.slice(0, cut), result.stdout.slice(cut + 1)];
    if (result.status !== 0 || status !== "200") {
        throw new Error(`${service} ${operation} failed: ${body || result.stderr}`);
    }
    return JSON.parse(body);
}

const bytesOf = (body: Buffer | string) => ({ base64: Buffer.from(body).toString("base64") });

export function createBucket(moto: MotoServer, bucket: string): void {
    awsCall(moto, "s3", "create_bucket", { Bucket: bucket });
    awsCall(moto, "s3", "put_bucket_versioning", { Bucket: bucket, VersioningConfiguration: { Status: "Enabled" } });
}

/** Keys under `prefix` (current versions). */
export function listKeys(moto: MotoServer, bucket: string, prefix: string): string[] {
    const keys: string[] = [];
    let token: string | undefined;
    do {
        const page = awsCall(moto, "s3", "list_objects_v2", { Bucket: bucket, Prefix: prefix, ...(token ? { ContinuationToken: token } : {}) });
        keys.push(...(page.Contents ?? []).map((o: { Key: string }) => o.Key));
        token = page.NextContinuationToken;
    } while (token);
    return keys.sort();
}

/** Every version (including delete markers) under `prefix`. */
export function listVersions(moto: MotoServer, bucket: string, prefix: string): { key: string; versionId: string; isLatest: boolean; deleteMarker: boolean }[] {
    const out = awsCall(moto, "s3", "list_object_versions", { Bucket: bucket, Prefix: prefix });
    const versions = (out.Versions ?? []).map((v: any) => ({ key: v.Key, versionId: v.VersionId, isLatest: v.IsLatest, deleteMarker: false }));
    const markers = (out.DeleteMarkers ?? []).map((v: any) => ({ key: v.Key, versionId: v.VersionId, isLatest: v.IsLatest, deleteMarker: true }));
    return [...versions, ...markers];
}

export function getObject(moto: MotoServer, bucket: string, key: string): Buffer {
    return Buffer.from(awsCall(moto, "s3", "get_object", { Bucket: bucket, Key: key }).Body.base64, "base64");
}

export function putObject(moto: MotoServer, bucket: string, key: string, body: Buffer | string): void {
    awsCall(moto, "s3", "put_object", { Bucket: bucket, Key: key, Body: bytesOf(body) });
}

/**
 * A copy of a bucket's one backup (db-backup.sh's dump, its manifest and `<prefix>latest.json`) into `to`, by S3
 * copies, for a test that damages a backup or writes beside one: the objects db-backup.sh stored, without another
 * run of it (about half a second of CPU). The manifests' s3_version_id names the copied dump's version, as
 * db-backup.sh's names the one it stored; their text is otherwise as stored. Returns the manifest's key.
 * Verification records beside the backup are not copied.
 */
export function copyBackup(moto: MotoServer, from: string, to: string, prefix = "database/"): string {
    const manifests = listKeys(moto, from, `${prefix}manifests/`);
    if (manifests.length !== 1) {
        throw new Error(`copyBackup: s3://${from}/${prefix}manifests/ holds ${manifests.length} manifests, not one`);
    }
    const [manifestKey] = manifests;
    const m = JSON.parse(getObject(moto, from, manifestKey).toString("utf8"));
    // The version the manifest names (what a restore reads), whatever was written over the key since.
    const copied = awsCall(moto, "s3", "copy_object", { Bucket: to, Key: m.object_key, CopySource: { Bucket: from, Key: m.object_key, ...(m.s3_version_id ? { VersionId: m.s3_version_id } : {}) } });
    for (const key of [manifestKey, `${prefix}latest.json`]) {
        const text = getObject(moto, from, key).toString("utf8");
        const edited = text.replace(JSON.stringify(m.s3_version_id), JSON.stringify(copied.VersionId));
        if (!m.s3_version_id || edited === text) {
            throw new Error(`copyBackup: no s3_version_id in s3://${from}/${key}: ${text}`);
        }
        putObject(moto, to, key, edited);
    }
    return manifestKey;
}

/** A describe block's PostgreSQL 15 and moto, its temp dir and passphrase file (filled in by `before`). */
export interface ScriptServers {
    pg: PgServer;
    moto: MotoServer;
    dir: string;
    passphrase: string;
    /** A new versioned bucket, named `<prefix>-<n>`. */
    newBucket(prefix: string): string;
    /** A stored manifest (JSON). */
    manifest(bucket: string, key: string): any;
}

/**
 * Registers, in the calling describe block, the `before` that starts PostgreSQL 15 and moto (and writes the
 * passphrase file in a fresh temp dir) and the `after` that stops them and removes the dir. The returned
 * object is filled in when the `before` has run; the block's own hooks, registered after, run after it.
 */
let processMoto: Promise<MotoServer> | undefined;

/**
 * The moto server of this test process, which the files it runs share (a mocha worker runs a dozen script
 * files: one moto_server and one aws-rpc.py instead of one each per file, about 0.7 s of CPU and a second or
 * two of wall each, measured 2026-12-05), emptied (MotoServer.reset) before it is handed out, so that each
 * file starts on an empty server as on a fresh one. Started again if it has stopped; stopped with the process.
 */
export async function sharedMoto(): Promise<MotoServer> {
    const known = processMoto && (await processMoto.catch(() => undefined));
    if (!known?.running) {
        // Not keeping the process alive (mocha run serially, --jobs 1, waits for that): killed by its exit hook.
        processMoto = MotoServer.start().then((started) => {
            started.unref();
            return started;
        });
    }
    const moto = await processMoto!;
    await moto.reset();
    return moto;
}

export function useScriptServers(prefix: string, passphrase: string): ScriptServers {
    let buckets = 0;
    const servers = {
        newBucket(prefix: string): string {
            const bucket = `${prefix}-${++buckets}`;
            createBucket(servers.moto, bucket);
            return bucket;
        },
        manifest: (bucket: string, key: string) => JSON.parse(getObject(servers.moto, bucket, key).toString("utf8")),
    } as ScriptServers;
    before(async function () {
        // Beside the file's PostgreSQL cluster (TEST_PG_TMPDIR, a tmpfs under the suite: tools/sandbox/servers.ts
        // clusterTmp): the scripts' restore targets made here (a base backup's tar extraction, about a thousand files
        // each) cost the ext4 /tmp's inode allocator 8% of wal-archive.test.ts's CPU (bench/README.md section 5).
        servers.dir = scratchDir(prefix);
        servers.passphrase = passphraseFile(servers.dir, passphrase);
        [servers.pg, servers.moto] = await Promise.all([PgServer.start(), sharedMoto()]);
    });
    after(async function () {
        // The process's moto (sharedMoto) is emptied for the next file, not stopped; a moto that no longer answers
        // is started again by the next sharedMoto().
        await Promise.all([servers.pg?.stop(), servers.moto?.running ? servers.moto.reset().catch(() => undefined) : undefined]);
        if (servers.dir) {
            fs.rmSync(servers.dir, { recursive: true, force: true });
        }
    });
    return servers;
}

/** The common environment of a script run against these servers. */
export function scriptEnv(pg: PgServer, moto: MotoServer, bucket: string, passphrase: string, database = "oauth2db"): Record<string, string> {
    return { ...pg.env(database), ...moto.env(), BUCKET: bucket, PASSPHRASE_FILE: passphrase };
}

export function tempDir(prefix: string): string {
    return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** A Secrets Manager secret holding `value`; returns its ARN and first VersionId. */
export function createSecret(moto: MotoServer, name: string, value: string): { arn: string; versionId: string } {
    const out = awsCall(moto, "secretsmanager", "create_secret", { Name: name, SecretString: value });
    return { arn: out.ARN, versionId: out.VersionId };
}

/** A rotation: a new current version of the secret; returns its VersionId. */
export function rotateSecret(moto: MotoServer, id: string, value: string): string {
    return awsCall(moto, "secretsmanager", "put_secret_value", { SecretId: id, SecretString: value }).VersionId;
}


/** A run's exit code and duration, printed (fail-fast cases are measured, never asserted on time). */
export async function timedRun(what: string, name: string, env: Record<string, string>, args: string[] = []): Promise<ScriptResult & { ms: number }> {
    const started = Date.now();
    const result = await runScript(name, env, args);
    const ms = Date.now() - started;
    console.log(`      ${name} ${what}: exit ${result.code} after ${ms} ms`);
    return { ...result, ms };
}
