/**
 * lib.sh wait_with_progress (h31 residual 2): a wait of minutes (restore-verification.sh's RDS waiter, `aws rds
 * wait db-instance-available`: 60 polls 30 s apart) says what it waits for and its limit, then every
 * WAIT_PROGRESS_SECONDS how long it has waited; the command's exit status is kept, and nothing of the ticker is
 * left behind. lib.sh sourced by bash, as the scripts do.
 */
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { BASH_C, SCRIPTS } from "../../tools/sandbox/scripts";

function run(body: string, env: Record<string, string> = {}) {
    return spawnSync("bash", [...BASH_C, `SCRIPT_NAME=waiter; source ${JSON.stringify(path.join(SCRIPTS, "lib.sh"))}; ${body}`], {
        encoding: "utf8",
        env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/tmp", ...env },
        timeout: 30_000,
    });
}

describe("lib.sh wait_with_progress: a long wait says what it waits for, how long so far and the limit", function () {
    this.timeout(30_000);

    it("says the wait and its limit, then every WAIT_PROGRESS_SECONDS the time so far; keeps the command's status and output", function () {
        // The command ends once the second progress line is written (no race with the clock); its stderr, with the lines, in a file.
        const err = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "wait-progress-")), "stderr");
        const ok = run(`wait_with_progress "the test instance x to become available" "30 min" bash -c 'until grep -q "(2 s so far" "$0"; do sleep 0.1; done; echo done' "${err}" 2>"${err}"`, { WAIT_PROGRESS_SECONDS: "1" });
        const said = fs.readFileSync(err, "utf8");
        fs.rmSync(path.dirname(err), { recursive: true, force: true });
        assert.equal(ok.status, 0, said);
        assert.equal(ok.stdout, "done\n");
        assert.match(said, /^\S+ waiter: waiting for the test instance x to become available \(at most 30 min\)\n\S+ waiter: still waiting for the test instance x to become available \(1 s so far; at most 30 min\)\n\S+ waiter: still waiting for the test instance x to become available \(2 s so far; at most 30 min\)\n/);
        const failed = run(`wait_with_progress "y" "5 s" bash -c 'exit 3'; echo "status $?"`, { WAIT_PROGRESS_SECONDS: "1" });
        assert.equal(failed.stdout, "status 3\n", failed.stderr);
        assert.doesNotMatch(failed.stderr, /still waiting/);
    });

    it("the default is a line a minute (a wait shorter than that says only its start)", function () {
        const quiet = run(`wait_with_progress "z" "1 min" sleep 1.2`);
        assert.equal(quiet.status, 0, quiet.stderr);
        assert.match(quiet.stderr, /waiting for z \(at most 1 min\)/);
        assert.doesNotMatch(quiet.stderr, /still waiting/);
    });
});
