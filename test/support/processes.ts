/**
 * The machine's processes as /proc shows them, for tests that prove a run left nothing: an orphan is reparented and
 * may have left the run's session, so it is found by what it carries (a marker in its environment, a path).
 */
import * as fs from "fs";

export interface SeenProcess {
    pid: number;
    /** Its command line, arguments joined by spaces. */
    command: string;
    /** Its environment's entries ("NAME=value"). */
    environ: string[];
}

/** Every live process but this one (a zombie has ended: not listed) whose command line and environment can be read. */
export function liveProcesses(): SeenProcess[] {
    return fs.readdirSync("/proc").filter((entry) => /^\d+$/.test(entry) && Number(entry) !== process.pid).flatMap((pid) => {
        try {
            const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
            if (stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z")) {
                return [];
            }
            const command = fs.readFileSync(`/proc/${pid}/cmdline`, "latin1").split("\0").join(" ").trim();
            const environ = fs.readFileSync(`/proc/${pid}/environ`, "latin1").split("\0");
            return [{ pid: Number(pid), command, environ }];
        } catch {
            return []; // ended meanwhile, or not ours to read
        }
    });
}

/** The live processes whose environment holds `entry` ("NAME=value"): a run's marker, or its server's PGPORT. */
export function processesWithEnv(entry: string): SeenProcess[] {
    return liveProcesses().filter((p) => p.environ.includes(entry));
}

/** The processes (not this one) whose command line or environment names `dir` (a drill's temp dir: what it left running). */
export function processesNaming(dir: string): string[] {
    return liveProcesses().filter((p) => p.command.includes(dir) || p.environ.some((e) => e.includes(dir))).map((p) => `${p.pid} ${p.command.slice(0, 160)}`);
}
