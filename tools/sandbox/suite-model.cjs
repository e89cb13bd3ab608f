/**
 * A model of a whole mocha run on a machine of N cores (bench/README.md section 5), from the per-file figures
 * of a measured run (tools/sandbox/file-timing.cjs: each file's wall, its CPU, the worker that ran it):
 *
 *   node tools/sandbox/suite-model.cjs RUN.jsonl [--cores 2] [--jobs 4,5] [--order run|longest|mocharc]
 *       [--split FILE=PARTS ...] [--hidden CGROUP-RUN.jsonl] [--files] [--idle]
 *
 * Each file is a piece of work of W seconds that wants d = cpu / W cores while it runs; when the files running
 * at a moment want more than the cores, each advances at cores / (sum of d). W is fitted so that the model
 * replays the measured run (its order, its number of workers) file by file; then the same files are run with
 * other numbers of workers and orders. The measured run must be a quiet one (the machine's CPU all the suite's:
 * compare its CPU with vmstat's): a loaded machine's scheduler shares the cores by session, which this model
 * does not replay. A worker takes the next file of the list when it is free (mocha's pool), each file after the
 * first pays the measured hand-over (loading it); the run ends when the last worker does.
 *
 * The CPU a file is charged is cgroupCpu when the run had a cgroup (every process it started), else selfCpu +
 * childCpu. --hidden takes each file's share of CPU that only a cgroup sees (cgroupCpu / (selfCpu + childCpu),
 * per file, from a run with TEST_TIMING_CGROUP) and applies it to RUN's figures: a quiet run measured without a
 * cgroup, corrected by a loaded one measured with it. --split FILE=PARTS models FILE as PARTS files of equal
 * work (what a split would give at best). --order longest sorts the files by fitted work, longest first.
 */
"use strict";
const fs = require("fs");
const path = require("path");

const args = process.argv.slice(2);
const option = (name, fallback) => {
    const at = args.indexOf(`--${name}`);
    return at >= 0 ? args[at + 1] : fallback;
};
const options = (name) => args.flatMap((arg, i) => (arg === `--${name}` ? [args[i + 1]] : []));
const runFile = args[0];
const CORES = Number(option("cores", "2"));
const DT = 0.02;

const measured = fs
    .readFileSync(runFile, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line));
const files = measured.map((r) => ({
    file: repoPath(r.file),
    worker: r.pid,
    start: r.start / 1000,
    wall: r.ms / 1000,
    cpu: r.cgroupCpu !== undefined ? r.cgroupCpu : r.selfCpu + r.childCpu,
}));
const hiddenRun = option("hidden");
if (hiddenRun) {
    // Files are matched by their path in the repository (the two runs may be clones in other directories).
    const ratio = new Map();
    const lines = fs
        .readFileSync(hiddenRun, "utf8")
        .split("\n")
        .filter(Boolean)
        .map((line) => JSON.parse(line));
    for (const r of lines) {
        const seen = r.selfCpu + r.childCpu;
        // A file that stops the worker's shared server (sandbox.test.ts) reaps CPU a cgroup billed to earlier files.
        ratio.set(repoPath(r.file), seen > 0.05 && r.cgroupCpu !== undefined ? Math.max(1, r.cgroupCpu / seen) : 1);
    }
    for (const f of files) f.cpu *= ratio.get(f.file) ?? 1;
}
const t0 = Math.min(...files.map((f) => f.start));
for (const f of files) f.start -= t0;
files.sort((a, b) => a.start - b.start);
// The hand-over before each file: the gap after the previous file of its worker (loading this one).
const lastEnd = new Map();
for (const f of files) {
    f.handover = lastEnd.has(f.worker) ? Math.max(0, f.start - lastEnd.get(f.worker)) : f.start;
    lastEnd.set(f.worker, f.start + f.wall);
}
const workers = new Set(files.map((f) => f.worker)).size;

/** Runs `list` (work W and demand d each, in queue order) on `jobs` workers: each file's start and end, the run's end. */
function simulate(list, jobs) {
    const queue = list.map((f, i) => ({ ...f, index: i }));
    const slots = Array.from({ length: jobs }, () => ({ file: undefined, handover: 0, first: true }));
    const out = new Array(list.length);
    let t = 0;
    let next = 0;
    let busyCore = 0;
    const idleBySecond = [];
    for (;;) {
        for (const slot of slots) {
            if (!slot.file && slot.handover <= 0 && next < queue.length) {
                const f = queue[next++];
                slot.file = { ...f, left: f.work };
                slot.handover = slot.first ? f.firstHandover : f.handover;
                slot.first = false;
                if (slot.handover <= 0) out[f.index] = { start: t };
            }
        }
        const running = slots.filter((s) => s.file);
        if (running.length === 0 && next >= queue.length) break;
        const cores = CORES;
        const want = running.reduce((sum, s) => sum + (s.handover > 0 ? 1 : s.file.demand), 0);
        const rate = want > cores ? cores / want : 1;
        busyCore += Math.min(want, cores) * DT;
        const second = Math.floor(t);
        idleBySecond[second] = (idleBySecond[second] ?? 0) + (cores - Math.min(want, cores)) * DT;
        for (const s of running) {
            if (s.handover > 0) {
                s.handover -= rate * DT;
                if (s.handover <= 0) out[s.file.index] = { start: t };
                continue;
            }
            s.file.left -= rate * DT;
            if (s.file.left <= 0) {
                out[s.file.index].end = t + DT;
                s.file = undefined;
                s.handover = 0;
            }
        }
        t += DT;
    }
    return { end: t, files: out, idleCoreSeconds: CORES * t - busyCore, idleBySecond };
}

const model = files.map((f) => ({ ...f, work: Math.max(f.wall, 0.001), firstHandover: f.handover }));
const setDemand = () => model.forEach((m) => (m.demand = Math.min(CORES, m.cpu / m.work)));
setDemand();
// Fit W so that the replay of the measured run gives each file its measured wall.
let replay;
for (let round = 0; round < 30; round++) {
    replay = simulate(model, workers);
    model.forEach((m, i) => {
        const simulated = replay.files[i].end - replay.files[i].start;
        m.work = Math.max(m.cpu / CORES, 0.001, m.work * (Math.max(m.wall, 0.001) / Math.max(simulated, 0.001)));
    });
    setDemand();
}
replay = simulate(model, workers);
const measuredEnd = Math.max(...files.map((f) => f.start + f.wall));
console.log(`measured: ${workers} workers, ${files.length} files, ${measuredEnd.toFixed(1)} s to the last file's end, ${files.reduce((s, f) => s + f.cpu, 0).toFixed(1)} CPU-s`);
console.log(`replay (fitted): ${replay.end.toFixed(1)} s, idle core-s ${replay.idleCoreSeconds.toFixed(1)}`);
if (args.includes("--idle")) {
    // The replay's idle core-seconds per 10 s, to set beside the run's own (vmstat's id column).
    const tens = [];
    replay.idleBySecond.forEach((idle, second) => (tens[Math.floor(second / 10)] = (tens[Math.floor(second / 10)] ?? 0) + idle));
    console.log(`  idle per 10 s: ${tens.map((idle) => idle.toFixed(1)).join(" ")}`);
}

let list = model.map((m) => ({ ...m }));
for (const split of options("split")) {
    const [name, parts] = split.split("=");
    const at = list.findIndex((m) => m.file === name);
    if (at < 0) throw new Error(`--split: no file ${name} in the run`);
    const m = list[at];
    const pieces = Array.from({ length: Number(parts) }, (_, i) => ({ ...m, file: `${m.file}#${i + 1}`, work: m.work / Number(parts), cpu: m.cpu / Number(parts) }));
    list.splice(at, 1, ...pieces);
}
if (option("order", "run") === "longest") {
    list.sort((a, b) => b.work - a.work);
} else if (option("order", "run") === "mocharc") {
    // The order .mocharc.js (in the current directory) gives today's files; the run's files it does not list last.
    const spec = require(path.resolve(".mocharc.js")).spec;
    const rank = (m) => {
        const at = spec.indexOf(m.file.split("#")[0]);
        return at < 0 ? spec.length : at;
    };
    list.sort((a, b) => rank(a) - rank(b));
}
const quietCpu = list.reduce((s, m) => s + m.cpu, 0);
console.log(`quiet machine (${CORES} cores), ${list.length} files, ${quietCpu.toFixed(1)} CPU-s (floor ${(quietCpu / CORES).toFixed(1)} s), order ${option("order", "run")}:`);
for (const jobs of option("jobs", "2,3,4,5,6").split(",").map(Number)) {
    const result = simulate(list, jobs);
    console.log(`  jobs ${jobs}: ${result.end.toFixed(1)} s, idle core-s ${result.idleCoreSeconds.toFixed(1)}`);
}
if (args.includes("--files")) {
    for (const m of list) console.log(`  ${m.file} W ${m.work.toFixed(1)} s, d ${m.demand.toFixed(2)}, cpu ${m.cpu.toFixed(1)}`);
}

/** A test file's path in the repository (test/..., packages/<name>/test/...), wherever the run's clone was. */
function repoPath(file) {
    const match = /(?:^|\/)((?:packages\/[^/]+\/)?test\/.*)$/.exec(file);
    return match ? match[1] : file;
}
