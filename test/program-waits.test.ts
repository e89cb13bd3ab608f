/**
 * How long a program may wait offline (OFFLINE_PLAN_PROGRAM_TIMEOUT, packages/offline-plan/README.md "Waits that
 * never end offline"): a value that is not a number of seconds is refused naming the variable, before the
 * program runs; the corpus (programs.test.ts) holds the programs that wait.
 */
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as path from "path";
import { PLAN_CLI, REPO } from "./support/plans";

const POLLING = path.join(REPO, "test", "fixtures", "programs", "rollout-poll-ready");

function plan(timeout: string) {
    return spawnSync(process.execPath, [PLAN_CLI, "--program", POLLING, "--stack", "prod"], {
        cwd: REPO,
        encoding: "utf8",
        env: { ...process.env, OFFLINE_PLAN_PROGRAM_TIMEOUT: timeout },
        timeout: 120000,
        killSignal: "SIGKILL",
    });
}

describe("OFFLINE_PLAN_PROGRAM_TIMEOUT, the time a stack's program may wait offline", function () {
    this.timeout(150000);

    for (const bad of ["abc", "0", "-5", "90000"]) {
        it(`refuses ${JSON.stringify(bad)}, naming the variable and what it takes, before the program waits`, () => {
            const { status, stderr } = plan(bad);
            assert.equal(status, 2, stderr);
            assert.match(stderr, new RegExp(`^OFFLINE_PLAN_PROGRAM_TIMEOUT=${bad}: expected a number of seconds between 0 and 86400$`, "m"));
            assert.doesNotMatch(stderr, /was stopped after/);
        });
    }

    it("takes a fraction of a second, and names it when it stops the program", () => {
        const { status, stderr } = plan("0.5");
        assert.equal(status, 2, stderr);
        assert.match(stderr, /^the program was stopped after 0\.5 s \(OFFLINE_PLAN_PROGRAM_TIMEOUT\): it still holds 1 timer/m);
    });
});
