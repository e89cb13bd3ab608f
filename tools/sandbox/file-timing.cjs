/**
 * Per-file wall time and CPU of a mocha run (bench/README.md section 5): a root-hook plugin that appends one
 * JSON line per test file to $TEST_TIMING_FILE (default test-timing.jsonl): the file, the worker's pid, the
 * milliseconds from the file's first hook to its last (the servers' start and stop included, which the JSON
 * reporter's per-test durations leave out) and the CPU seconds of the worker and of the children it reaped
 * (the scripts, psql, moto; not the daemonized PostgreSQL) meanwhile. Linux only (/proc/self/stat).
 *
 *   TEST_TIMING_FILE=/tmp/t.jsonl npm test -- --require ./tools/sandbox/file-timing.cjs
 */
const fs = require("fs");

const out = process.env.TEST_TIMING_FILE || "test-timing.jsonl";
const TICKS = 100; // USER_HZ

function cpuSeconds() {
    // Fields after the command's ")": state is field 3; utime, stime, cutime, cstime are fields 14 to 17.
    const fields = fs.readFileSync("/proc/self/stat", "utf8").split(") ")[1].split(" ");
    const field = (n) => Number(fields[n - 3]);
    return { self: (field(14) + field(15)) / TICKS, children: (field(16) + field(17)) / TICKS };
}

let started = 0;
let cpuAtStart = { self: 0, children: 0 };
let file;

exports.mochaHooks = {
    beforeAll() {
        started = Date.now();
        cpuAtStart = cpuSeconds();
        const root = this.test && this.test.parent;
        file = root && (root.file || (root.suites[0] && root.suites[0].file));
    },
    afterAll() {
        const cpu = cpuSeconds();
        const line = {
            file,
            pid: process.pid,
            start: started,
            ms: Date.now() - started,
            selfCpu: +(cpu.self - cpuAtStart.self).toFixed(2),
            childCpu: +(cpu.children - cpuAtStart.children).toFixed(2),
        };
        fs.appendFileSync(out, `${JSON.stringify(line)}\n`);
    },
};
