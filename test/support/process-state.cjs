/**
 * A test file leaves the process as it found it: a root-hook plugin (.mocharc.js requires it) that takes the
 * environment and the working directory when the worker loads it, before any test file (a file's top-level
 * code runs when mocha loads it, before its hooks), and fails each file, naming what it changed, if they
 * differ after it. A mocha worker runs several files in one process, in an order that changes with every
 * change to the list or the durations, so a variable one file sets is seen by the files after it in that
 * worker only (ca51197: policy settings one file left made another's check pass or fail by the order).
 * What the file changed is put back before the failure, so that the files after it run as they would alone.
 * Only the variables' names are said, never their values (a value may be a secret).
 *
 * With mocha's parallel mode (the suite's) the root hooks run around each file; in serial mode (--no-parallel)
 * around the whole run, where this checks the run as a whole.
 */
"use strict";

function snapshot() {
    return { env: { ...process.env }, cwd: process.cwd() };
}

/** What differs from `was`, put back as it was: the variables' names and the working directory's change. */
function restoreAndDiff(was) {
    const names = [...new Set([...Object.keys(was.env), ...Object.keys(process.env)])].filter((name) => was.env[name] !== process.env[name]).sort();
    const changes = [];
    for (const name of names) {
        changes.push(`${name} ${was.env[name] === undefined ? "set" : process.env[name] === undefined ? "unset" : "changed"}`);
        if (was.env[name] === undefined) {
            delete process.env[name];
        } else {
            process.env[name] = was.env[name];
        }
    }
    const cwd = process.cwd();
    if (cwd !== was.cwd) {
        changes.push(`the working directory changed (${was.cwd} -> ${cwd})`);
        process.chdir(was.cwd);
    }
    return changes;
}

const before = snapshot();

exports.restoreAndDiff = restoreAndDiff;
exports.snapshot = snapshot;
exports.mochaHooks = {
    afterAll() {
        const changes = restoreAndDiff(before);
        if (changes.length > 0) {
            throw new Error(
                `this test file left the process changed for the files a mocha worker runs after it: ${changes.join(", ")}. ` +
                    "Set it in a before() hook and put it back in after() (test/support/process-state.cjs); it has been put back.",
            );
        }
    },
};
