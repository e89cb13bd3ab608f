/**
 * test/support/process-state.cjs, as .mocharc.js wires it: a file that leaves an environment variable or the
 * working directory changed fails, naming them (not their values), and what it changed is put back for the
 * next file of the same worker.
 */
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as path from "path";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { snapshot, restoreAndDiff } = require("./support/process-state.cjs") as {
    snapshot: () => unknown;
    restoreAndDiff: (was: unknown) => string[];
};

const REPO = path.resolve(__dirname, "..");
const FIXTURES = path.join("test", "fixtures", "process-state");

/** `npx mocha FILE` in the repository (its .mocharc.js: parallel, the plugin required): exit status and output. */
function mocha(file: string): { status: number | null; output: string } {
    const run = spawnSync(process.execPath, [require.resolve("mocha/bin/mocha.js"), "--reporter", "spec", "--no-color", path.join(FIXTURES, file)], { cwd: REPO, encoding: "utf8" });
    return { status: run.status, output: run.stdout + run.stderr };
}

describe("a test file leaves the process as it found it (test/support/process-state.cjs)", function () {
    this.timeout(60_000);

    it("fails a file that left a variable set at load and one in a test and the directory changed, naming them and not the values", function () {
        const { status, output } = mocha("leaks.test.ts");
        assert.equal(status, 1, output);
        assert.match(output, /1 passing/, output);
        assert.match(output, /1 failing/, output);
        assert.match(output, /left the process changed for the files a mocha worker runs after it: PROCESS_STATE_LEAK_AT_LOAD set, PROCESS_STATE_LEAK_IN_TEST set, the working directory changed \(.* -> \/\)/, output);
        assert.doesNotMatch(output, /secret-value-never-printed/);
    });

    it("passes a file that sets its variables with useEnv and puts the directory back", function () {
        const { status, output } = mocha("clean.test.ts");
        assert.equal(status, 0, output);
        assert.match(output, /✔ sees its variable while it runs/, output);
    });

    it("puts back what a file changed (set, changed, unset, the directory), so that the next file runs as it would alone", function () {
        const cwd = process.cwd();
        process.env.PROCESS_STATE_PROBE_CHANGED = "before";
        process.env.PROCESS_STATE_PROBE_UNSET = "before";
        try {
            const was = snapshot();
            process.env.PROCESS_STATE_PROBE_SET = "x";
            process.env.PROCESS_STATE_PROBE_CHANGED = "after";
            delete process.env.PROCESS_STATE_PROBE_UNSET;
            process.chdir("/");
            assert.deepEqual(restoreAndDiff(was), [
                "PROCESS_STATE_PROBE_CHANGED changed",
                "PROCESS_STATE_PROBE_SET set",
                "PROCESS_STATE_PROBE_UNSET unset",
                `the working directory changed (${cwd} -> /)`,
            ]);
            assert.equal(process.env.PROCESS_STATE_PROBE_SET, undefined);
            assert.equal(process.env.PROCESS_STATE_PROBE_CHANGED, "before");
            assert.equal(process.env.PROCESS_STATE_PROBE_UNSET, "before");
            assert.equal(process.cwd(), cwd);
            assert.deepEqual(restoreAndDiff(was), [], "nothing left to put back");
        } finally {
            process.chdir(cwd);
            delete process.env.PROCESS_STATE_PROBE_SET;
            delete process.env.PROCESS_STATE_PROBE_CHANGED;
            delete process.env.PROCESS_STATE_PROBE_UNSET;
        }
    });
});
