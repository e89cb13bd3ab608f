/**
 * lib.sh kill_own / kill_job / restore_kill_jobs: a job's pid is signalled only while it is still that job. A
 * pid is reused once its process has ended (pid_max is 32768 on many machines: the numbers come round within a
 * minute while a test suite runs), and every restore's cleanup killed each job it had noted, the long-ended ones
 * too: with their process groups, other people's processes.
 */
import { strict as assert } from "assert";
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { BASH_C, procStat, SCRIPTS, startTimeOf } from "../../tools/sandbox/scripts";

/** Whether process `pid` exists and has not ended (a zombie has). */
function running(pid: number): boolean {
    const state = procStat(pid)?.[0];
    return state !== undefined && state !== "Z";
}

/** A moment for a signal sent to end its process (a loaded machine may not run it at once). */
function signalled(): Promise<void> {
    return new Promise((r) => setTimeout(r, 300));
}

/** Runs `script` in bash with lib.sh sourced and WORK_DIR set; its stdout. */
function lib(script: string, workDir: string): string {
    const result = spawnSync("bash", [...BASH_C, `set -Eeuo pipefail; source "$LIB"; SCRIPT_NAME=probe; WORK_DIR=$DIR; ${script}`], {
        encoding: "utf8",
        env: { ...process.env, LIB: path.join(SCRIPTS, "lib.sh"), DIR: workDir },
        // A bound that fails the test rather than blocking the worker (spawnSync holds the event loop).
        timeout: 20_000,
    });
    assert.equal(result.status, 0, result.stderr);
    return result.stdout;
}

describe("lib.sh: a job's pid is killed only while it is that job", function () {
    this.timeout(30_000);
    let dir: string;
    const others: ChildProcess[] = [];

    /** Someone else's process, the leader of a process group and session of its own (as a shell's job is). */
    function someoneElse(): number {
        const child = spawn("sleep", ["300"], { detached: true, stdio: "ignore" });
        others.push(child);
        return child.pid!;
    }

    beforeEach(function () {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "oauth2-dr-lib-kill-"));
    });

    afterEach(function () {
        for (const child of others.splice(0)) {
            child.kill("SIGKILL");
        }
        fs.rmSync(dir, { recursive: true, force: true });
    });

    it("restore_kill_jobs: a noted job that ended and whose pid another process now has is left alone", async function () {
        // A job is noted and ends; its line in restore.jobs then names a pid that someone else's process has
        // (here: the line is given that pid, as the system would give the number to a new process). The new
        // process starts in a later clock tick (10 ms) than the job, as a reused pid's process always does.
        const job = lib("sleep 0 & pid=$!; restore_note_job $pid; wait $pid; echo $pid", dir).trim();
        await new Promise((r) => setTimeout(r, 50));
        const other = someoneElse();
        const jobs = path.join(dir, "restore.jobs");
        fs.writeFileSync(jobs, fs.readFileSync(jobs, "utf8").replace(new RegExp(`^${job}\\b`), String(other)));
        lib("restore_kill_jobs", dir);
        await signalled();
        assert.ok(running(other), "restore_kill_jobs killed a process that is not the run's job");
    });

    it("restore_kill_jobs still kills a noted job that runs, with its process group, from another shell (the watchdog's case)", async function () {
        // set -m: the job leads a group of its own, and starts a child in it.
        lib("set -m; (sleep 300 & sleep 300; wait) >/dev/null 2>&1 & pid=$!; restore_note_job $pid", dir);
        const [job] = fs.readFileSync(path.join(dir, "restore.jobs"), "utf8").trim().split(" ").map(Number);
        const group = () => spawnSync("pgrep", ["-g", String(job)], { encoding: "utf8" }).stdout.trim().split("\n").filter(Boolean).map(Number);
        let members = group();
        for (let waited = 0; members.length < 3 && waited < 5000; waited += 50) {
            await new Promise((r) => setTimeout(r, 50));
            members = group();
        }
        assert.equal(members.length, 3, `the job's group: ${members.join(" ")}`);
        lib("restore_kill_jobs", dir);
        for (let waited = 0; members.some(running) && waited < 5000; waited += 50) {
            await new Promise((r) => setTimeout(r, 50));
        }
        assert.deepEqual(members.filter(running), [], "a process of the noted job still runs");
    });

    it("kill_job: a pid that is no child of the shell (its job ended, the number reused) is left alone", async function () {
        const other = someoneElse();
        lib(`kill_job ${other}`, dir);
        await signalled();
        assert.ok(running(other), "kill_job killed a process that is not the shell's job");
    });

    it("kill_unnoted_jobs (restore.sh's cleanup): a job never noted (a Ctrl-C between its start and restore_note_job) is killed; the AWS helper, whose own stop comes later, is not (h38)", async function () {
        const [helper, unnoted] = lib('set -m; sleep 300 </dev/null >/dev/null 2>&1 & AWS_HELPER_PID=$!; sleep 300 </dev/null >/dev/null 2>&1 & unnoted=$!; kill_unnoted_jobs; echo "$AWS_HELPER_PID $unnoted"', dir).trim().split(" ").map(Number);
        try {
            await signalled();
            assert.ok(!running(unnoted), "kill_unnoted_jobs left a job running");
            assert.ok(running(helper), "kill_unnoted_jobs killed the AWS helper");
        } finally {
            for (const pid of [helper, unnoted]) {
                try { process.kill(pid, "SIGKILL"); } catch { /* ended */ }
            }
        }
    });

    it("kill_job works with an empty IFS in effect (a SIGTERM trap that interrupted `IFS= read`, as in db-backup.sh's count wait)", async function () {
        // set -u as the scripts have it: the unsplit /proc fields ended the cleanup itself.
        const job = Number(lib("set -m; sleep 300 </dev/null >/dev/null 2>&1 & pid=$!; IFS=''; kill_job $pid; echo $pid", dir).trim());
        await signalled();
        assert.ok(!running(job), "kill_job left its job running");
    });

    it("restore_kill_jobs and kill_job: an ended job's pid that is now the id of someone else's group, its leader gone too, is left alone", async function () {
        // Someone else's group whose leader ended before its member (a pipeline's first command, a daemon's
        // intermediate process): bash leads a session and group of its own, starts a sleep in it and exits. A
        // noted job that ended, whose pid is that group's id, names no process; its group is not the run's.
        const leader = spawn("bash", [...BASH_C, "sleep 300 >/dev/null 2>&1 & echo $!"], { detached: true, stdio: ["ignore", "pipe", "ignore"] });
        let out = "";
        leader.stdout!.on("data", (d) => (out += d));
        await new Promise((r) => leader.once("close", r));
        const member = Number(out.trim());
        const group = leader.pid!;
        // A pid and its start time name one process.
        const since = startTimeOf(member);
        try {
            assert.ok(running(member) && !running(group), "the group's leader ended, its member runs");
            assert.equal(procStat(member)?.[2], String(group), "the member is in the leader's group");
            const job = lib("sleep 0 & pid=$!; restore_note_job $pid; wait $pid; echo $pid", dir).trim();
            const jobs = path.join(dir, "restore.jobs");
            fs.writeFileSync(jobs, fs.readFileSync(jobs, "utf8").replace(new RegExp(`^${job}\\b`), String(group)));
            lib("restore_kill_jobs", dir);
            await signalled();
            assert.ok(running(member), "restore_kill_jobs killed the group of a process that is not the run's");
            lib(`kill_job ${group}`, dir);
            await signalled();
            assert.ok(running(member), "kill_job killed the group of a process that is not the shell's job");
        } finally {
            if (startTimeOf(member) === since) {
                process.kill(member, "SIGKILL");
            }
        }
    });

    it("restore_pass_wait_watched: a pass job's pid that another process now has does not hold the wait", function () {
        // A pass job that ended (reaped by bash) frees its number; another process (here: not the shell's child at
        // all) may have it by the time the watch looks. Without the check the wait went on while that process lived.
        const other = someoneElse();
        const out = lib(`RESTORE_PASS_PIDS=(${other}); restore_pass_wait_watched "the test's pass"; echo returned`, dir);
        assert.equal(out.trim(), "returned");
        assert.ok(running(other), "the other process was signalled");
    });

    it("kill_own: a job whose leader has ended still has its group's members killed (their group id cannot be reused)", async function () {
        // The leader starts a member and exits at once; the member keeps the group.
        const member = Number(lib("set -m; ( sleep 300 >/dev/null 2>&1 & echo $! ) > \"$DIR/member\" & pid=$!; wait $pid; kill_own KILL $pid; cat \"$DIR/member\"", dir).trim());
        for (let waited = 0; running(member) && waited < 5000; waited += 50) {
            await new Promise((r) => setTimeout(r, 50));
        }
        assert.ok(!running(member), "the ended job's group member still runs");
    });
});
