/**
 * lib.sh db_watch_ok: the database watch's probe of a server that does not answer takes up to PGCONNECT_TIMEOUT,
 * and what the run waits for (a job's end, the session's answer) may come meanwhile: the server frozen just after
 * it answered. Such a wait ended; it is no stall. Until h38 it was called one: CI saw db-backup.sh's pg_dump end
 * while the probe waited, and the run exited 3 on a complete dump.
 *
 * The server here is a socket that accepts and never answers (as a frozen PostgreSQL's kernel does). What is
 * awaited ends only once the probe runs (seen with pgrep in the test's own session), so the probe always fails
 * after the wait ended: no timing decides the case.
 */
import { strict as assert } from "assert";
import { spawn } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { BASH_C, SCRIPTS } from "../../tools/sandbox/scripts";
import { LOCALHOST } from "../../tools/sandbox/servers";

/** Waits, in the job or coprocess that runs it, until the watch's probe (db_watch_tick's psql) runs in this session. */
const UNTIL_PROBE_RUNS = "until pgrep -s 0 -f '[p]sql -X -q -At -c SELECT 1' >/dev/null; do sleep 0.05; done";

interface Run {
    code: number | null;
    stdout: string;
    stderr: string;
}

/** Runs `script` in bash (a session of its own, for pgrep -s 0) with lib.sh sourced, the watch's settings and PGHOST/PGPORT at `port`. */
function watched(script: string, port: number, dir: string): Promise<Run> {
    const env = {
        ...process.env,
        LIB: path.join(SCRIPTS, "lib.sh"),
        DIR: dir,
        PGHOST: LOCALHOST,
        PGPORT: String(port),
        PGDATABASE: "oauth2db",
        PGCONNECT_TIMEOUT: "2",
        DB_STALL_SECONDS: "2",
        WAIT_PROGRESS_SECONDS: "1",
    };
    const bash = spawn("bash", [...BASH_C, `set -Eeuo pipefail; source "$LIB"; SCRIPT_NAME=probe; WORK_DIR=$DIR; ${script}`], { env, detached: true });
    let stdout = "";
    let stderr = "";
    bash.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    bash.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const killer = setTimeout(() => process.kill(-bash.pid!, "SIGKILL"), 60_000);
    return new Promise((resolve) =>
        bash.on("close", (code) => {
            clearTimeout(killer);
            resolve({ code, stdout, stderr });
        }),
    );
}

describe("lib.sh db_watch_ok: what ends while the watch's probe waits on a silent server is no stall (h38)", function () {
    this.timeout(90_000);
    let dir: string;
    let server: net.Server;
    let port: number;
    const held: net.Socket[] = [];

    before(async function () {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "oauth2-dr-lib-watch-"));
        // Accepts, reads, never writes: a connection's startup waits until PGCONNECT_TIMEOUT.
        server = net.createServer((socket) => {
            held.push(socket);
            socket.on("error", () => undefined);
            socket.resume();
        });
        await new Promise<void>((resolve) => server.listen(0, LOCALHOST, () => resolve()));
        port = (server.address() as net.AddressInfo).port;
    });

    after(async function () {
        for (const socket of held) socket.destroy();
        await new Promise((resolve) => server.close(resolve));
        fs.rmSync(dir, { recursive: true, force: true });
    });

    it("db_wait_bounded: a job that ends while the probe waits returns 0 (was: a stall, the job 'killed', status 1)", async function () {
        const run = await watched(`{ ${UNTIL_PROBE_RUNS}; } & if db_wait_bounded "the job" $!; then echo ended; else echo "stalled: $(db_watch_error)"; fi`, port, dir);
        assert.equal(run.code, 0, run.stderr);
        assert.equal(run.stdout, "ended\n", run.stderr);
        // The probe did fail, and said so: the case is the one it means to be.
        assert.match(run.stderr, /still waiting for the job \(\d+ s so far\); 127\.0\.0\.1:\d+\/oauth2db has not answered for \d+ s/);
    });

    it("db_wait_bounded: a job that goes on while the server does not answer is still a stall, named (status 1)", async function () {
        const run = await watched(`sleep 120 & if db_wait_bounded "the job" $!; then echo ended; else echo "stalled: $(db_watch_error)"; fi`, port, dir);
        assert.equal(run.code, 0, run.stderr);
        assert.match(run.stdout, new RegExp(`^stalled: ${LOCALHOST.replace(/\./g, "\\.")}:${port}/oauth2db has not answered for \\d+ s \\(DB_STALL_SECONDS=2\\) while waiting for the job`), run.stderr);
    });

    it("session_ask: the session's answer (a COMMIT's) that comes while the probe waits is read, not 'nothing committed' (was: exit 3)", async function () {
        // The restore session's stand-in answers each step's marker (\echo) once the probe runs.
        const session = `coproc RESTORE_PSQL { while IFS= read -r line; do [[ "$line" != '\\echo '* ]] || { ${UNTIL_PROBE_RUNS}; printf '%s\\n' "\${line#'\\echo '}"; }; done; }
RESTORE_SESSION_PID=$RESTORE_PSQL_PID
SESSION_STEP="the swap's COMMIT"
session_ask "COMMIT;"
echo answered`;
        const run = await watched(session, port, dir);
        assert.equal(run.code, 0, run.stderr);
        assert.equal(run.stdout, "answered\n", run.stderr);
        assert.match(run.stderr, /still waiting for the swap's COMMIT in 127\.0\.0\.1:\d+\/oauth2db \(\d+ s so far\); .* has not answered for \d+ s/);
    });
});
