/**
 * No script run outlives the test that started it: a root-hook plugin (.mocharc.js requires it). tools/sandbox/scripts.ts
 * notes every run of startScript (runScript's too) until it ends, with the test that was running when it started
 * (set here before each test). When a test ends, the runs it started that are still going are killed
 * (tools/sandbox/scripts.ts killRun: the run's session and whatever holds its output pipes) and the test fails
 * naming each: script, arguments, pid, how long it ran:
 * - a test that timed out (awaiting `run.done` of a run that hangs): mocha's "Timeout of N ms exceeded" names them;
 * - a test that failed otherwise: its error says they were killed;
 * - a test that passed: it fails with a line naming them.
 * Until h35 such a test ended with mocha's bare "Timeout of 600000ms exceeded" and left the run's processes
 * (PostgreSQL clients, gpg, the AWS helper) running. The test's own function is wrapped for this (a test taking a
 * `done` callback is not: its runs are killed in the root afterEach, whose failure skips the rest of the file). Runs
 * started outside a test (a before() hook) are looked at once the file's tests are done (afterAll).
 */
"use strict";

const PENDING_RUNS = Symbol.for("oauth2-dr.pendingRuns");
const RUN_OWNER = Symbol.for("oauth2-dr.runOwner");

/** The pending runs `owner` started (undefined: those started outside a test). */
function leftBy(owner) {
    const runs = globalThis[PENDING_RUNS];
    return runs ? [...runs].filter((entry) => entry.owner === owner) : [];
}

/** "db-backup.sh --x (pid N, running S s)" for each run. */
function named(entries) {
    return entries.map((entry) => `${[entry.script, ...entry.args].join(" ")} (pid ${entry.run.child.pid}, running ${((Date.now() - entry.startedAt) / 1000).toFixed(1)} s)`).join("; ");
}

/** Kills the runs `owner` left (once each); what was killed, named, or "" when none was left. */
async function killLeft(owner) {
    const left = leftBy(owner);
    if (left.length === 0) {
        return "";
    }
    // Loaded already: the runs were started through it.
    const { killRun } = require("../../tools/sandbox/scripts");
    const said = named(left).split("; ");
    for (const [i, entry] of left.entries()) {
        globalThis[PENDING_RUNS].delete(entry);
        try {
            await killRun(entry.run, 15_000);
        } catch (error) {
            said[i] += ` (not ended by the kill: ${error.message})`;
        }
    }
    return `${left.length} script run${left.length === 1 ? "" : "s"} still going, killed: ${said.join("; ")}`;
}

/** The test's own function, wrapped: its runs still going when it ends are killed and named in its result. */
function wrap(test) {
    const original = test.fn;
    if (typeof original !== "function" || original.length > 0 || original.pendingRunsWrapped) {
        return;
    }
    const wrapped = async function () {
        let value;
        try {
            value = await original.call(this);
        } catch (error) {
            const said = await killLeft(test);
            if (said && error instanceof Error) {
                // In the stack as well: a reporter prints an assertion's diff from the message it had, then the stack.
                const note = `(the test left ${said})`;
                error.message += `\n${note}`;
                error.stack = `${error.stack ?? ""}\n${note}`;
            }
            throw error;
        }
        const said = await killLeft(test);
        if (said) {
            throw new Error(`the test ended and left ${said} (a run not awaited to its end)`);
        }
        return value;
    };
    wrapped.pendingRunsWrapped = true;
    test.fn = wrapped;
}

exports.mochaHooks = {
    beforeEach() {
        const test = this.currentTest;
        globalThis[RUN_OWNER] = test;
        if (!test) {
            return;
        }
        wrap(test);
        // A timeout: mocha's error names the runs still going (killed in afterEach, which waits for them).
        if (!Object.prototype.hasOwnProperty.call(test, "_timeoutError")) {
            const timeoutError = test._timeoutError;
            test._timeoutError = function (ms) {
                const error = timeoutError.call(this, ms);
                const left = leftBy(test);
                if (left.length > 0) {
                    error.message += `\nIt was waiting with ${left.length} script run${left.length === 1 ? "" : "s"} still going, killed now: ${named(left)}`;
                }
                return error;
            };
        }
    },
    async afterEach() {
        const test = this.currentTest;
        globalThis[RUN_OWNER] = undefined;
        const said = await killLeft(test);
        // Said already in the test's own failure (a timeout, or its wrapped function), unless it was not wrapped.
        if (said && !(test && (test.timedOut || (test.fn && test.fn.pendingRunsWrapped)))) {
            throw new Error(`the test "${test ? test.title : "?"}" left ${said}`);
        }
    },
    async afterAll() {
        const said = await killLeft(undefined);
        if (said) {
            throw new Error(`this file's hooks (before/after, outside a test) left ${said}`);
        }
    },
};
