/**
 * What the suite's processes left behind is removed when the run ends: a mocha global teardown (.mocharc.js
 * requires this file; mocha runs the teardown in its main process, after the worker pool has ended). Every test
 * server and scratch directory is named for the process that made it (`o2-<pid>-...`, tools/sandbox/servers.ts
 * scratchDir and MotoServer's log) and removed by that process's exit hook; a process killed before its hooks run
 * (a test's child that starts the shared moto or a cluster and is killed on purpose, a worker the pool kills)
 * leaves them. Each process's first scratchDir removed what ended processes had left, so each whole run left only
 * its own last ones (one cluster in /dev/shm and one moto log in /tmp, seen after every run of stop 33). Here
 * they go at the end of the run too: sweepScratch on TEST_PG_TMPDIR and on the temp dir, which stops a postmaster
 * still running in such an entry and keeps the entries of processes that still run (another run's).
 */
"use strict";

const os = require("os");
const { setInterval, clearInterval } = require("timers");

exports.mochaGlobalTeardown = async function sweepAtEnd() {
    // Loaded here, not at the top: the workers load this file too (mocha ignores the teardown there) and need
    // nothing of it.
    const { sweepScratch } = require("../../tools/sandbox/servers");
    const dirs = [...new Set([process.env.TEST_PG_TMPDIR, os.tmpdir()].filter(Boolean))];
    // The removal's rm is unref'd (removeInBackground: it must not hold a test process), so nothing else would keep
    // this process's event loop alive while it is awaited: node ended the run then, before mocha had set its exit
    // code, and a run with failing tests exited 0 (this stop's first CI-like run: "2 failing", exit 0). A ref'd
    // timer holds the loop until the removal has ended.
    const hold = setInterval(() => undefined, 1000);
    try {
        await Promise.all(dirs.map((dir) => sweepScratch(dir)));
    } finally {
        clearInterval(hold);
    }
};
