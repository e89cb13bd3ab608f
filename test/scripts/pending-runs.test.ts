/**
 * test/support/pending-runs.cjs, the root hook that ends what a test left running (h35 residual 5): a mocha run of
 * its own on test/fixtures/pending-runs/leaves-runs.ts, whose tests leave db-backup.sh runs that never end (one
 * awaited past the test's timeout, one not awaited at all). Each is killed when its test ends and named in a
 * failure (script, pid, how long); the mocha run then ends (without the hook it waited for the runs' pipes for
 * ever: bounded here, and what is left is killed by its mark).
 */
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as path from "path";
import { REPO } from "../../tools/sandbox/scripts";
import { processesWithEnv } from "../support/processes";

/** The live processes whose environment holds `mark` (the fixture's runs), by pid. */
function marked(mark: string): number[] {
    return processesWithEnv(`PENDING_RUNS_MARK=${mark}`).map((p) => p.pid);
}

describe("test/support/pending-runs.cjs: a test's runs still going when it ends are killed and named (h35)", function () {
    this.timeout(120_000);

    it("a test that timed out awaiting a run, and one that did not await its run: each fails naming the run (script, pid, seconds); nothing is left; the file goes on", function () {
        const mark = `pending-runs-${process.pid}-${Date.now()}`;
        const mocha = spawnSync(process.execPath, [path.join(REPO, "node_modules", "mocha", "bin", "mocha.js"), "--no-parallel", "--no-color", path.join("test", "fixtures", "pending-runs", "leaves-runs.ts")], {
            cwd: REPO,
            encoding: "utf8",
            // Plain text whatever the outer run's terminal: CI sets FORCE_COLOR, and mocha's marks then come between escapes.
            env: { ...process.env, FORCE_COLOR: "0", PENDING_RUNS_MARK: mark },
            timeout: 60_000,
            killSignal: "SIGKILL",
        });
        const left = marked(mark);
        for (const pid of left) {
            try {
                process.kill(pid, "SIGKILL");
            } catch {
                // ended meanwhile
            }
        }
        const output = `exit ${mocha.status} (${mocha.signal ?? "no signal"})\n${mocha.stdout}\n${mocha.stderr}`;
        assert.notEqual(mocha.status, null, `the mocha run did not end within 60 s (the runs' pipes kept it): ${output}`);
        assert.deepEqual(left, [], `processes of the fixture's runs left: ${output}`);
        // The timeout's own failure names the run it waited on; the test that did not await its run fails naming it.
        assert.match(mocha.stdout, /awaits a run that never ends:\n\s+Error: Timeout of 3000ms exceeded\..*\n\s*It was waiting with 1 script run still going, killed now: db-backup\.sh \(pid \d+, running \d+\.\d s\)/, output);
        assert.match(mocha.stdout, /starts a run and does not await it:\n\s+Error: the test ended and left 1 script run still going, killed: db-backup\.sh \(pid \d+, running \d+\.\d s\) \(a run not awaited to its end\)/, output);
        // A failure's own error says what was killed; the tests after them run.
        assert.match(mocha.stdout, /fails with a run going:\n[\s\S]*?1 !== 2\n[\s\S]*?\(the test left 1 script run still going, killed: db-backup\.sh \(pid \d+, running \d+\.\d s\)\)/, output);
        assert.match(mocha.stdout, /3 failing/, output);
        assert.match(mocha.stdout, /✔ runs/, output);
    });
});
