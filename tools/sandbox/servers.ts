/**
 * Real servers for the script tests and the benchmark, started on 127.0.0.1 only and always stopped:
 * PostgreSQL 15 (initdb/pg_ctl in a temp dir, as the `postgres` OS user when we run as root) and
 * moto_server (an in-memory S3, Secrets Manager and RDS API).
 *
 * Each server registers a synchronous exit hook, so that a test process that dies before its `after`
 * hook still stops what it started.
 */
import { ChildProcess, execFileSync, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";

export const PG_BIN = process.env.PG_BIN ?? "/usr/lib/postgresql/15/bin";
export const LOCALHOST = "127.0.0.1";

/** A port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const server = net.createServer();
        server.unref();
        server.on("error", reject);
        server.listen(0, LOCALHOST, () => {
            const address = server.address();
            const port = typeof address === "object" && address ? address.port : 0;
            server.close(() => resolve(port));
        });
    });
}

function canConnect(port: number): Promise<boolean> {
    return new Promise((resolve) => {
        const socket = net.connect({ host: LOCALHOST, port });
        socket.once("connect", () => {
            socket.destroy();
            resolve(true);
        });
        socket.once("error", () => resolve(false));
    });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const exitHooks = new Set<() => void>();
/** Directories removed at exit once every server's hook has run (removeAtExit). */
const exitRemovals = new Set<string>();
process.on("exit", () => {
    for (const hook of exitHooks) {
        try {
            hook();
        } catch {
            // best effort: the process is exiting
        }
    }
    for (const dir of exitRemovals) {
        fs.rmSync(dir, { recursive: true, force: true });
    }
});

/**
 * Notes `dir` to be removed when this process exits, after every server's exit hook has stopped its server (a
 * cluster's data directory, as the drill's replica's, goes once its postmaster is stopped), unless
 * removeInBackground has taken it over. Returns `dir`.
 */
export function removeAtExit(dir: string): string {
    exitRemovals.add(dir);
    return dir;
}

const asRoot = typeof process.getuid === "function" && process.getuid() === 0;

/** Runs a PostgreSQL server binary as the postgres OS user when we are root (initdb and postgres refuse root). */
function pgCommand(binary: string, args: string[]): [string, string[]] {
    const full = path.join(PG_BIN, binary);
    return asRoot ? ["runuser", ["-u", "postgres", "--", full, ...args]] : [full, args];
}

/** Runs a PostgreSQL binary as the postgres OS user when we are root; throws with its stderr on failure (pg_basebackup of a replica, a drill's pg_ctl). */
export function pgAsOwner(binary: string, args: string[]): void {
    runPg(binary, args, 300_000);
}

function runPg(binary: string, args: string[], timeoutMs = 120_000): void {
    const [cmd, argv] = pgCommand(binary, args);
    const result = spawnSync(cmd, argv, { encoding: "utf8", timeout: timeoutMs });
    if (result.status !== 0) {
        throw new Error(`${binary} ${args.join(" ")} failed (${result.status ?? result.signal}): ${result.stderr}${result.stdout}`);
    }
}

function initdb(dataDir: string): void {
    runPg("initdb", ["-D", dataDir, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync", "--locale=C"]);
}

/**
 * Where scratchDir makes its entries (the throwaway clusters and their template, the script tests' directories, the
 * drill's replica and PITR instances): $TEST_PG_TMPDIR when set (.mocharc.js sets /dev/shm, a tmpfs, for the test
 * suite), else the temp dir. A test file's server creates and removes hundreds of files
 * (CREATE and DROP DATABASE, a restore's staging tables, WAL segments); on this machine's ext4 /tmp, with the
 * churn of every engineer's runs, each file's creation scans inode bitmaps (find_inode_bit, recently_deleted):
 * about 7% of a script test file's CPU went there, in the server's processes (bench/README.md section 5). On a
 * tmpfs that is gone. A cluster kept in a given `dataDir` (the benchmark's cache, the drill's instances) stays
 * where it is given, its socket and log beside it in the temp dir.
 */
function clusterTmp(): string {
    return process.env.TEST_PG_TMPDIR || os.tmpdir();
}

/** Whether process `pid` exists (signal 0; EPERM: it exists, another user's). */
export function processExists(pid: number): boolean {
    try {
        process.kill(pid, 0);
        return true;
    } catch (error) {
        return (error as NodeJS.ErrnoException).code === "EPERM";
    }
}

/**
 * Removes what test processes that are gone left in `dir`: the entries named `o2-<pid>-...` (scratchDir)
 * whose process no longer exists. A test process that dies without its exit hooks (a mocha worker killed) leaves
 * its clusters and directories behind, and on the tmpfs they hold memory, not disk (on this machine's /tmp, 244 such
 * clusters, 13 GB, on 2026-12-05). A postmaster still running in one (`<entry>/data`, the only layout scratchDir's
 * users make) is stopped first, as the exit hook would have (-m immediate). An entry whose pid was handed to another
 * process since is left (kept until that one ends too). Returns the removal's end (removeInBackground).
 */
export function sweepScratch(dir: string): Promise<void> {
    let entries: string[] = [];
    try {
        entries = fs.readdirSync(dir);
    } catch {
        return Promise.resolve();
    }
    const gone = entries.filter((name) => {
        const pid = /^o2-(\d+)-/.exec(name)?.[1];
        return pid !== undefined && !processExists(Number(pid));
    }).map((name) => path.join(dir, name));
    for (const entry of gone) {
        const data = path.join(entry, "data");
        if (fs.existsSync(path.join(data, "postmaster.pid"))) {
            const [cmd, argv] = pgCommand("pg_ctl", ["-D", data, "-m", "immediate", "-w", "stop"]);
            spawnSync(cmd, argv, { timeout: 30_000 });
        }
    }
    return gone.length > 0 ? removeInBackground(gone).done : Promise.resolve();
}

let swept = false;

/**
 * A new directory under clusterTmp() named for this process, `o2-<pid>-<prefix>XXXXXX` (a leading "oauth2-dr-" of
 * `prefix` dropped): the throwaway clusters, their template, the script tests' directories and the drill's instances.
 * Short: a script's AWS helper socket is made below it (a test's TMPDIR inside the directory), and a Unix socket's
 * path has at most 107 bytes: /dev/shm/o2-<pid>-... is about as long as /tmp/oauth2-dr-... was (a longer name failed). The
 * first call of a process with TEST_PG_TMPDIR set sweeps that directory of what processes that are gone left there
 * (sweepScratch).
 */
export function scratchDir(prefix: string): string {
    if (!swept && process.env.TEST_PG_TMPDIR) {
        swept = true;
        void sweepScratch(process.env.TEST_PG_TMPDIR);
    }
    return fs.mkdtempSync(path.join(clusterTmp(), `o2-${process.pid}-${prefix.replace(/^oauth2-dr-/, "")}`));
}

let template: string | undefined;

/**
 * A freshly initdb'd data directory, never started, made on first use in this process and removed at its exit:
 * each new server's cluster is a copy of it (cp -a keeps the owner, postgres when we are root). Clusters
 * copied from it share its system identifier; nothing the tests run compares two clusters' identifiers.
 */
function templateCluster(): string {
    // Made again when it is gone (a test that moved TEST_PG_TMPDIR removes its directory).
    if (template === undefined || !fs.existsSync(template)) {
        const dir = removeAtExit(scratchDir("pg-template-"));
        if (asRoot) {
            execFileSync("chown", ["postgres:postgres", dir]);
        }
        initdb(path.join(dir, "data"));
        template = path.join(dir, "data");
    }
    return template;
}

/**
 * Removes directories without waiting for it: one detached `rm -rf` of its own (it finishes when this process has
 * exited first), whose exit the returned promise reports. Removing a cluster that has run waits on the disk: its
 * WAL (16 MB segments) and data still being written back are waited for by unlink, seconds each on a busy machine.
 */
export function removeInBackground(dirs: string[]): { pid: number | undefined; done: Promise<void> } {
    dirs.forEach((dir) => exitRemovals.delete(dir));
    const child = spawn("rm", ["-rf", "--", ...dirs], { detached: true, stdio: "ignore" });
    const done = new Promise<void>((resolve) => {
        child.once("exit", () => resolve());
        child.once("error", () => {
            // rm could not be started: remove them here after all.
            for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
            resolve();
        });
    });
    child.unref();
    return { pid: child.pid, done };
}

export interface PgServerOptions {
    /** Reuse (or create) the cluster in this directory and keep it on stop (the benchmark's cache). */
    dataDir?: string;
    /** Extra `-c name=value` settings. */
    settings?: Record<string, string>;
    /** Start attempts, each on a new free port (default 3); 1 for a server whose failure is not a port race (a recovery). */
    attempts?: number;
    /** The port of the first attempt (one chosen earlier with freePort(), e.g. for a client started before the server). */
    port?: number;
    /**
     * false: return once pg_ctl has launched the postmaster (pg_ctl -W), not after its poll of postmaster.pid
     * (every 100 ms) says it is up; the caller waits for the server itself (the drill's restored instance: its
     * log's "ready to accept connections", or the startup's failure). A failed start is then the caller's to see.
     */
    wait?: boolean;
}

export class PgServer {
    private stopped = false;
    private readonly hook: () => void;

    private constructor(
        readonly port: number,
        readonly baseDir: string,
        readonly dataDir: string,
        private readonly keepData: boolean,
    ) {
        this.hook = () => this.stopSync("immediate");
        exitHooks.add(this.hook);
    }

    static async start(options: PgServerOptions = {}): Promise<PgServer> {
        const baseDir = options.dataDir === undefined ? scratchDir("pg-") : fs.mkdtempSync(path.join(os.tmpdir(), "oauth2-dr-pg-"));
        const dataDir = options.dataDir ?? path.join(baseDir, "data");
        const keepData = options.dataDir !== undefined;
        try {
            return await PgServer.startIn(baseDir, dataDir, keepData, options);
        } catch (err) {
            // Whatever failed (the template's initdb, the copy, every start attempt): nothing of this server stays.
            // Until h40 only a failed pg_ctl removed it, and a drill whose initdb failed left its o2-<pid>-pg-XXXXXX.
            fs.rmSync(baseDir, { recursive: true, force: true });
            throw err;
        }
    }

    private static async startIn(baseDir: string, dataDir: string, keepData: boolean, options: PgServerOptions): Promise<PgServer> {
        if (asRoot) {
            execFileSync("chown", ["postgres:postgres", baseDir]);
            if (keepData) {
                fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
                execFileSync("chown", ["postgres:postgres", dataDir]);
            }
        }
        fs.chmodSync(baseDir, 0o700);
        if (!fs.existsSync(path.join(dataDir, "PG_VERSION"))) {
            if (keepData) {
                initdb(dataDir);
            } else {
                // A copy of this process's template cluster: the same initdb, run once per process (0.9 s of
                // wall and 0.3 s of CPU each time, against 0.2 s and 0.1 s for the copy).
                execFileSync("cp", ["-a", templateCluster(), dataDir]);
            }
        }
        for (let attempt = 0; ; attempt++) {
            const port = attempt === 0 && options.port !== undefined ? options.port : await freePort();
            const settings: Record<string, string> = {
                listen_addresses: LOCALHOST,
                port: String(port),
                unix_socket_directories: baseDir,
                fsync: "off",
                synchronous_commit: "off",
                full_page_writes: "off",
                ...options.settings,
            };
            // pg_ctl hands -o to /bin/sh as it is: each value quoted, or a temp dir with a space ("/tmp/my dir") split
            // unix_socket_directories in two and postgres refused the rest ("invalid argument").
            const opts = Object.entries(settings).map(([k, v]) => `-c ${k}='${v.replace(/'/g, "'\\''")}'`).join(" ");
            try {
                runPg("pg_ctl", ["-D", dataDir, "-l", path.join(baseDir, "postgres.log"), "-o", opts, ...(options.wait === false ? ["-W"] : ["-w", "-t", "60"]), "start"]);
                return new PgServer(port, baseDir, dataDir, keepData);
            } catch (err) {
                if (attempt >= (options.attempts ?? 3) - 1) {
                    const log = fs.existsSync(path.join(baseDir, "postgres.log")) ? fs.readFileSync(path.join(baseDir, "postgres.log"), "utf8") : "";
                    throw new Error(`${(err as Error).message}\n${log}`);
                }
            }
        }
    }

    /** libpq variables for a client (scripts, psql) as the superuser. */
    env(database = "oauth2db"): Record<string, string> {
        return { PGHOST: LOCALHOST, PGPORT: String(this.port), PGUSER: "postgres", PGDATABASE: database, PGCONNECT_TIMEOUT: "5" };
    }

    /** Runs SQL with psql and returns its unaligned, tuples-only output. */
    psql(sql: string, database = "oauth2db"): string {
        const result = spawnSync(path.join(PG_BIN, "psql"), ["-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-d", database], {
            input: sql,
            encoding: "utf8",
            env: { ...process.env, ...this.env(database) },
            maxBuffer: 256 * 1024 * 1024,
        });
        if (result.status !== 0) {
            throw new Error(`psql failed: ${result.stderr}`);
        }
        return result.stdout.trim();
    }

    createDatabase(name: string): void {
        this.psql(`CREATE DATABASE "${name}"`, "postgres");
    }

    dropDatabase(name: string): void {
        this.psql(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`, "postgres");
    }

    databaseExists(name: string): boolean {
        return this.psql(`SELECT count(*) FROM pg_database WHERE datname = '${name}'`, "postgres") === "1";
    }

    private stopSync(mode: "fast" | "immediate", removal: "now" | "background" = "now"): void {
        if (this.stopped) {
            return;
        }
        this.stopped = true;
        exitHooks.delete(this.hook);
        try {
            const [cmd, argv] = pgCommand("pg_ctl", ["-D", this.dataDir, "-m", mode, "-w", "stop"]);
            spawnSync(cmd, argv, { timeout: 60_000 });
        } finally {
            const dirs = this.keepData ? [this.baseDir] : [this.baseDir, this.dataDir];
            if (removal === "background") {
                removeInBackground(dirs);
            } else {
                for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
            }
        }
    }

    /**
     * Stops the server and removes its directories; `removeInBackground`: without waiting for the removal
     * (removeInBackground). A throwaway cluster (no `dataDir` given: removed right after) stops with `-m immediate`:
     * a fast stop's shutdown checkpoint writes every dirty buffer into files that are deleted a moment later (about
     * 45 ms of the server's CPU per stop after a test file's loads, measured 2026-12-05, bench/README.md section 5).
     * A kept cluster (`dataDir`: the benchmark's cache, the drill's replica and restored instances) stops cleanly.
     */
    async stop(options: { removeInBackground?: boolean } = {}): Promise<void> {
        this.stopSync(this.keepData ? "fast" : "immediate", options.removeInBackground ? "background" : "now");
    }
}

/**
 * util-linux's setpriv, when present: moto_server is started under `setpriv --pdeathsig KILL`, so that it dies
 * with the process that started it however that process ends. The exit hook kills it on a normal exit, but a
 * mocha worker that has not exited 1 s after the pool told it to is sent SIGTERM (workerpool's
 * workerTerminateTimeout), and a worker can be killed outright: its shared moto (unref'd, tools/sandbox/scripts.ts
 * sharedMoto) was then left running, 70 to 200 MB each (25 such orphans on this machine on 2026-12-05).
 */
const SETPRIV = ["/usr/bin/setpriv", "/bin/setpriv"].find((file) => fs.existsSync(file));

/** moto_server: S3, Secrets Manager and RDS in memory. */
export class MotoServer {
    private stopped = false;
    private readonly hook: () => void;
    private readonly stopHooks: (() => void)[] = [];

    private constructor(
        readonly port: number,
        private readonly child: ChildProcess,
        readonly logFile: string,
    ) {
        this.hook = () => {
            if (!this.stopped) {
                this.child.kill("SIGKILL");
                fs.rmSync(this.logFile, { force: true });
            }
        };
        exitHooks.add(this.hook);
    }

    get pid(): number | undefined {
        return this.child.pid;
    }

    /** Runs `hook` when this server stops (before it is killed): what was started for it goes with it. */
    onStop(hook: () => void): void {
        this.stopHooks.push(hook);
    }

    get endpoint(): string {
        return `http://${LOCALHOST}:${this.port}`;
    }

    /** `env`: moto's own settings for this server, e.g. INITIAL_NO_AUTH_ACTION_COUNT=0 (authenticate every request). */
    static async start(env: Record<string, string> = {}): Promise<MotoServer> {
        const port = await freePort();
        // Named for this process as scratchDir's entries are: when the process is killed (no exit hook runs), the
        // suite's end (test/support/sweep-at-end.cjs, sweepScratch) removes it with the rest of what it left.
        const logFile = path.join(os.tmpdir(), `o2-${process.pid}-moto-${port}.log`);
        const out = fs.openSync(logFile, "w");
        const argv = ["moto_server", "-H", LOCALHOST, "-p", String(port)];
        const [command, ...args] = SETPRIV ? [SETPRIV, "--pdeathsig", "KILL", ...argv] : argv;
        const child = spawn(command, args, { stdio: ["ignore", out, out], env: { ...process.env, ...env } });
        fs.closeSync(out);
        const server = new MotoServer(port, child, logFile);
        const deadline = Date.now() + 30_000;
        while (Date.now() < deadline) {
            if (child.exitCode !== null) {
                break;
            }
            if (await canConnect(port)) {
                return server;
            }
            await sleep(100);
        }
        // Its log read before the stop, which removes the file (read after, a start slower than the deadline under
        // load threw ENOENT on the log instead of saying it did not start).
        const log = fs.readFileSync(logFile, "utf8");
        await server.stop();
        const ended = child.exitCode !== null ? `exited with code ${child.exitCode}` : "no answer within 30 s";
        throw new Error(`moto_server did not start on ${LOCALHOST}:${port} (${ended}): ${log}`);
    }

    /** Credentials and endpoint for the AWS CLI (fake credentials: moto accepts any). */
    env(region = "us-east-1"): Record<string, string> {
        return {
            AWS_ACCESS_KEY_ID: "testing",
            AWS_SECRET_ACCESS_KEY: "testing",
            AWS_SESSION_TOKEN: "testing",
            AWS_DEFAULT_REGION: region,
            AWS_REGION: region,
            AWS_ENDPOINT_URL: this.endpoint,
            AWS_MAX_ATTEMPTS: "2",
            AWS_EC2_METADATA_DISABLED: "true",
            AWS_CONFIG_FILE: "/dev/null",
            AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
        };
    }

    /** Lets the process exit with the server still running (its exit hook kills it then): for a server shared by many files. */
    unref(): void {
        this.child.unref();
    }

    /** Still serving: started, not stopped, not exited. */
    get running(): boolean {
        return !this.stopped && this.child.exitCode === null && this.child.signalCode === null;
    }

    /**
     * Empties the server (moto's own reset, POST /moto-api/reset: every bucket, object, secret, role and RDS
     * resource of every account and region gone), as a fresh server is; throws when it does not answer 200.
     */
    async reset(): Promise<void> {
        const answer = await fetch(`${this.endpoint}/moto-api/reset`, { method: "POST" });
        if (answer.status !== 200) {
            throw new Error(`moto_server ${this.endpoint}: POST /moto-api/reset answered ${answer.status}: ${await answer.text()}`);
        }
    }

    async stop(): Promise<void> {
        if (this.stopped) {
            return;
        }
        this.stopped = true;
        exitHooks.delete(this.hook);
        for (const hook of this.stopHooks.splice(0)) {
            hook();
        }
        if (this.child.exitCode === null && this.child.signalCode === null) {
            const exited = new Promise<void>((resolve) => this.child.once("exit", () => resolve()));
            this.child.kill("SIGTERM");
            const timer = setTimeout(() => this.child.kill("SIGKILL"), 5000);
            await exited;
            clearTimeout(timer);
        }
        fs.rmSync(this.logFile, { force: true });
    }
}
