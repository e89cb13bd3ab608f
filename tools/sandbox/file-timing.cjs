/**
 * Per-file wall time and CPU of a mocha run (bench/README.md section 5): a root-hook plugin that appends one
 * JSON line per test file to $TEST_TIMING_FILE (default test-timing.jsonl): the file, the worker's pid, the
 * milliseconds from the file's first hook to its last (the servers' start and stop included, which the JSON
 * reporter's per-test durations leave out) and the CPU seconds of the worker and of the children it reaped
 * (the scripts, psql, moto; not the daemonized PostgreSQL) meanwhile, and the worker's own CPU since it started
 * (`selfBefore`: its start, register.cjs and the loading of the files it ran, this one's included). Linux only
 * (/proc/self/stat).
 *
 * With TEST_TIMING_CGROUP set to a cgroup directory the run was started in (v1 cpuacct: cpuacct.usage; v2:
 * cpu.stat), each worker moves itself at its first file into a cgroup of its own below it, and `cgroupCpu` is
 * that cgroup's CPU over the file: every process the file started, the daemonized PostgreSQL and gpg-agent and
 * the worker's shared moto included, which neither `time` nor `childCpu` sees.
 *
 *   TEST_TIMING_FILE=/tmp/t.jsonl npm test -- --require ./tools/sandbox/file-timing.cjs
 *   mkdir /sys/fs/cgroup/cpuacct/run && sh -c 'echo $$ > /sys/fs/cgroup/cpuacct/run/cgroup.procs &&
 *       TEST_TIMING_CGROUP=/sys/fs/cgroup/cpuacct/run exec npx mocha --require ./tools/sandbox/file-timing.cjs'
 */
const fs = require("fs");
const path = require("path");

const out = process.env.TEST_TIMING_FILE || "test-timing.jsonl";
const TICKS = 100; // USER_HZ

function cpuSeconds() {
    // Fields after the command's ")": state is field 3; utime, stime, cutime, cstime are fields 14 to 17.
    const fields = fs.readFileSync("/proc/self/stat", "utf8").split(") ")[1].split(" ");
    const field = (n) => Number(fields[n - 3]);
    return { self: (field(14) + field(15)) / TICKS, children: (field(16) + field(17)) / TICKS };
}

/** This worker's cgroup (a directory below $TEST_TIMING_CGROUP), made at its first file; "" without one. */
let cgroup;

function workerCgroup() {
    if (cgroup === undefined) {
        cgroup = "";
        const parent = process.env.TEST_TIMING_CGROUP;
        if (parent) {
            const dir = path.join(parent, `worker-${process.pid}`);
            fs.mkdirSync(dir, { recursive: true });
            fs.writeFileSync(path.join(dir, "cgroup.procs"), `${process.pid}\n`);
            cgroup = dir;
        }
    }
    return cgroup;
}

/** The CPU seconds of every process in `dir` (a cgroup, v1 cpuacct or v2) since it was made. */
function cgroupSeconds(dir) {
    if (fs.existsSync(path.join(dir, "cpuacct.usage"))) {
        return Number(fs.readFileSync(path.join(dir, "cpuacct.usage"), "utf8")) / 1e9;
    }
    const usage = /^usage_usec (\d+)$/m.exec(fs.readFileSync(path.join(dir, "cpu.stat"), "utf8"));
    return usage ? Number(usage[1]) / 1e6 : NaN;
}

let started = 0;
let cgroupAtStart = 0;
let cpuAtStart = { self: 0, children: 0 };
let file;

exports.mochaHooks = {
    beforeAll() {
        const dir = workerCgroup();
        started = Date.now();
        cpuAtStart = cpuSeconds();
        cgroupAtStart = dir ? cgroupSeconds(dir) : 0;
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
            selfBefore: +cpuAtStart.self.toFixed(2),
        };
        if (cgroup) {
            line.cgroupCpu = +(cgroupSeconds(cgroup) - cgroupAtStart).toFixed(2);
        }
        fs.appendFileSync(out, `${JSON.stringify(line)}\n`);
    },
};
