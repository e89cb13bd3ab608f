/**
 * The machine's processes as /proc shows them, for tests that prove a run left nothing: an orphan is reparented and
 * may have left the run's session, so it is found by what it carries (a marker in its environment, a path).
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

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

/** A scratch directory for a drill's servers: world-writable and sticky (the postgres OS user makes its clusters' sockets there when we are root). */
export function drillScratch(prefix: string): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    fs.chmodSync(dir, 0o1777);
    return dir;
}

/** What a failing drill left in `dir`: each PostgreSQL whose data directory is there (its postmaster.pid) stopped, then `dir` removed. */
export function stopClustersAndRemove(dir: string): void {
    const asRoot = process.getuid?.() === 0;
    const pgCtl = path.join(process.env.PG_BIN ?? "/usr/lib/postgresql/15/bin", "pg_ctl");
    for (const pidFile of spawnSync("find", [dir, "-name", "postmaster.pid"], { encoding: "utf8" }).stdout.split("\n").filter(Boolean)) {
        spawnSync(asRoot ? "runuser" : pgCtl, [...(asRoot ? ["-u", "postgres", "--", pgCtl] : []), "-D", path.dirname(pidFile), "-m", "immediate", "-w", "stop"]);
    }
    fs.rmSync(dir, { recursive: true, force: true });
}
