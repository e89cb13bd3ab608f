/**
 * tools/sandbox/suite-model.cjs (bench/README.md section 5): the replay of a measured run, and other worker
 * counts, on synthetic per-file figures whose answers are known.
 */
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const MODEL = path.resolve(__dirname, "..", "tools", "sandbox", "suite-model.cjs");

/** Runs the model on `lines` (file-timing's JSON lines) with `args`: its output. */
function model(lines: object[], args: string[]): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "oauth2-dr-suite-model-"));
    try {
        const run = path.join(dir, "run.jsonl");
        fs.writeFileSync(run, lines.map((line) => JSON.stringify(line)).join("\n") + "\n");
        const result = spawnSync(process.execPath, [MODEL, run, ...args], { encoding: "utf8" });
        assert.equal(result.status, 0, result.stderr);
        return result.stdout;
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

const seconds = (output: string, label: RegExp) => Number(label.exec(output)?.[1]);

describe("suite-model.cjs: a whole run modelled from its files' figures", function () {
    // Two workers: a file that computes for 10 s (one core) and one that waits 10 s (no CPU), then a 4 s computing file.
    const run = [
        { file: "/r/test/a.test.ts", pid: 1, start: 0, ms: 10_000, selfCpu: 10, childCpu: 0 },
        { file: "/r/test/b.test.ts", pid: 2, start: 0, ms: 10_000, selfCpu: 0, childCpu: 0 },
        { file: "/r/test/c.test.ts", pid: 2, start: 10_000, ms: 4_000, selfCpu: 2, childCpu: 2 },
    ];

    it("replays the measured run and says its idle core-seconds", function () {
        const output = model(run, ["--jobs", "1,2,3"]);
        assert.match(output, /measured: 2 workers, 3 files, 14\.0 s to the last file's end, 14\.0 CPU-s/);
        assert.ok(Math.abs(seconds(output, /replay \(fitted\): ([\d.]+) s/) - 14) < 0.1, output);
        // 2 cores for 14 s, 14 CPU-s used: 14 idle.
        assert.ok(Math.abs(seconds(output, /replay \(fitted\): [\d.]+ s, idle core-s ([\d.]+)/) - 14) < 0.2, output);
    });

    it("runs the files one after another with one worker, side by side with more, never under the CPU floor", function () {
        const output = model(run, ["--jobs", "1,2,3"]);
        assert.ok(Math.abs(seconds(output, /jobs 1: ([\d.]+) s/) - 24) < 0.2, output);
        assert.ok(Math.abs(seconds(output, /jobs 2: ([\d.]+) s/) - 14) < 0.2, output);
        assert.ok(Math.abs(seconds(output, /jobs 3: ([\d.]+) s/) - 10) < 0.2, output);
        // On one core the two computing files share it: 14 CPU-s take 14 s at least.
        const oneCore = model(run, ["--cores", "1", "--jobs", "3"]);
        assert.ok(seconds(oneCore, /jobs 3: ([\d.]+) s/) >= 14 - 0.1, oneCore);
    });

    it("charges a file the CPU a cgroup saw in another run (--hidden), file by file", function () {
        const hidden = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "oauth2-dr-suite-model-")), "cgroup.jsonl");
        try {
            fs.writeFileSync(hidden, JSON.stringify({ file: "/other/test/c.test.ts", pid: 9, start: 0, ms: 1, selfCpu: 2, childCpu: 2, cgroupCpu: 6 }) + "\n");
            assert.match(model(run, ["--hidden", hidden, "--jobs", "2"]), /measured: 2 workers, 3 files, 14\.0 s to the last file's end, 16\.0 CPU-s/);
        } finally {
            fs.rmSync(path.dirname(hidden), { recursive: true, force: true });
        }
    });
});
