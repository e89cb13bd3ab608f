/**
 * The AWS helper and the process it serves, told apart from whatever else has their numbers (h35 residual 6): a pid
 * is reused once its process has ended (and a process that has ended stays a zombie until its parent reaps it). Until
 * h35 aws-helper.py's watch of its script (os.kill(pid, 0)) took a zombie script, or a new process given the script's
 * number, for the script and lived on; lib.sh aws_helper_ready's `kill -0` took a new process given the helper's
 * number for the helper and waited its 20 s for a socket that would never come. Both now use the pid and its start
 * time (/proc/PID/stat; lib.sh proc_start). No servers: the helper is started for an endpoint nothing listens on.
 */
import { strict as assert } from "assert";
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { BASH_C, procStat, resolvedHelperPython, SCRIPTS, startTimeOf, tempDir } from "../../tools/sandbox/scripts";

/** Resolves once `check` holds, looking every 50 ms, for `ms` at most; whether it held. */
async function eventually(check: () => boolean, ms: number): Promise<boolean> {
    for (const deadline = Date.now() + ms; Date.now() < deadline; ) {
        if (check()) {
            return true;
        }
        await new Promise((r) => setTimeout(r, 50));
    }
    return check();
}

describe("aws-helper.py's watch and lib.sh aws_helper_ready: a zombie or a reused pid is not the process (h35)", function () {
    this.timeout(60_000);
    const python = resolvedHelperPython() ?? "python3";
    const started: ChildProcess[] = [];
    let dir = "";

    before(() => (dir = tempDir("oauth2-dr-helper-watch-")));
    afterEach(() => {
        for (const child of started.splice(0)) {
            child.kill("SIGKILL");
        }
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    /** A live process of its own (sleep), as a script would be; its pid. */
    function live(): number {
        const child = spawn("sleep", ["120"], { stdio: "ignore" });
        started.push(child);
        return child.pid!;
    }

    /** A zombie: a child that has ended and that its parent (a sleep that never waits) does not reap; its pid. */
    async function zombie(): Promise<number> {
        const parent = spawn("bash", [...BASH_C, 'sh -c "sleep 0.3" & echo $!; exec sleep 120'], { stdio: ["ignore", "pipe", "ignore"] });
        started.push(parent);
        const pid = await new Promise<number>((resolve) => parent.stdout!.once("data", (d) => resolve(Number(String(d).trim()))));
        assert.ok(await eventually(() => procStat(pid)?.[0] === "Z", 10_000), `pid ${pid} did not become a zombie`);
        return pid;
    }

    /** aws-helper.py on a socket of its own, watching `pid` (with AWS_HELPER_WATCH_START when given). */
    async function helper(pid: number, watchStart?: string): Promise<{ child: ChildProcess; socket: string }> {
        const socket = path.join(fs.mkdtempSync(path.join(dir, "h-")), "aws.sock");
        const child = spawn(python, [path.join(SCRIPTS, "aws-helper.py"), socket, String(pid)], {
            env: {
                PATH: process.env.PATH,
                HOME: dir,
                AWS_ACCESS_KEY_ID: "AKIAHELPERWATCH",
                AWS_SECRET_ACCESS_KEY: "not-a-secret",
                AWS_REGION: "us-east-1",
                AWS_ENDPOINT_URL: "http://127.0.0.1:9",
                AWS_CONFIG_FILE: "/dev/null",
                AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
                ...(watchStart !== undefined ? { AWS_HELPER_WATCH_START: watchStart } : {}),
            },
            stdio: "ignore",
        });
        started.push(child);
        assert.ok(await eventually(() => fs.existsSync(socket) || child.exitCode !== null, 20_000), "the helper did not start");
        return { child, socket };
    }

    const ended = (child: ChildProcess) => child.exitCode !== null || child.signalCode !== null;

    it("a script that ended but is not reaped yet (a zombie): the helper ends and removes its socket", async function () {
        const { child, socket } = await helper(await zombie());
        assert.ok(await eventually(() => ended(child), 10_000), "the helper lives on, watching a zombie");
        assert.equal(fs.existsSync(socket), false);
    });

    it("the script's number now another process's (its start time not the one lib.sh noted): the helper ends", async function () {
        const other = live();
        const start = startTimeOf(other)!;
        const { child } = await helper(other, String(Number(start) - 1));
        assert.ok(await eventually(() => ended(child), 10_000), "the helper lives on, watching another process with the script's number");
    });

    it("the script itself (its pid and start time): the helper stays, and ends with it", async function () {
        const script = spawn("sleep", ["120"], { stdio: "ignore" });
        started.push(script);
        const { child } = await helper(script.pid!, startTimeOf(script.pid));
        // Three of its looks (every 0.5 s) later it still serves.
        await new Promise((r) => setTimeout(r, 1500));
        assert.equal(ended(child), false, "the helper ended while its script runs");
        script.kill("SIGKILL");
        assert.ok(await eventually(() => ended(child), 10_000), "the helper outlived its script");
    });

    it("lib.sh aws_helper_ready: the helper's number now another process's (not its start time): 'not running' at once, no 20 s wait", function () {
        const other = live();
        const result = spawnSync("bash", [...BASH_C, `source "$LIB"; SCRIPT_NAME=probe; WORK_DIR=$DIR; AWS_HELPER_PID=${other} AWS_HELPER_START=1 AWS_HELPER_SOCKET=$DIR/none.sock; aws_helper_ready`], {
            encoding: "utf8",
            env: { ...process.env, LIB: path.join(SCRIPTS, "lib.sh"), DIR: dir },
            timeout: 30_000,
        });
        assert.equal(result.status, 1, result.stderr);
        assert.match(result.stderr, /the AWS helper \(.*aws-helper\.py, python3 with botocore and s3transfer\) is not running/);
        // Was: the other process taken for the helper, "waiting for the AWS helper to start (... 5 s so far ...)", then 20 s.
        assert.doesNotMatch(result.stderr, /waiting for the AWS helper to start/);
    });
});
