/**
 * `npm run bench`: every benchmark of the repository in one run.
 *
 * 1. Offline plan and check of prod and dr against a floor. The floor is what any offline run must pay:
 *    a Node process (with the TypeScript loader, packages/offline-plan/register.cjs) that loads @pulumi/pulumi and the provider modules the program
 *    imports (read from index.ts, lib/, components/ and stacks/). The measured commands run the same way
 *    (`node --require packages/offline-plan/register.cjs tools/<cli>.ts`, without npm's own start-up). Runs are interleaved (A B B A ...),
 *    each figure is the median of N, and the ratio is median / floor median.
 * 2. The other benchmarks, each standalone: bench/policy.ts (policy evaluation per resource) and
 *    bench/backup.ts (the backup pipeline against plain pg_dump), when present.
 *
 *   npm run bench                 N = 5
 *   BENCH_QUICK=1 npm run bench   N = 2; bench/policy.ts --repeat 1; bench/backup.ts on 0.1 GB, 1 run
 *   BENCH_RUNS=9 npm run bench    N = 9
 *   BENCH_ONLY=plan npm run bench  section 1 alone (the plan and check against the floor)
 *
 * No figure is asserted anywhere; bench/README.md says what each one means.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { TS_REGISTER } from "offline-plan/runner";

const REPO = path.resolve(__dirname, "..");
const LAZY_CLOSURE_MODULES = require.resolve("offline-plan/lazy-closure-modules");
const COMPILED_MODULES = require.resolve("offline-plan/compiled-modules");
/** The plan CLI as `npm run plan` runs it: offline-plan's bin, which loads the package's TypeScript loader itself. */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const PLAN_CLI = path.join(path.dirname(require.resolve("offline-plan/package.json")), (require("offline-plan/package.json") as { bin: Record<string, string> }).bin["offline-plan"]);
const QUICK = process.env.BENCH_QUICK === "1";
const RUNS = Number(process.env.BENCH_RUNS ?? (QUICK ? 2 : 5));
const STACKS = ["prod", "dr"];
/** The other benchmarks, and how BENCH_QUICK=1 shortens each (explicit BENCH_* variables still win). */
const OTHER_BENCHMARKS: { file: string; what: string; quickArgs: string[]; quickEnv: Record<string, string> }[] = [
    { file: "policy.ts", what: "policy pack evaluation per resource", quickArgs: ["--repeat", "1"], quickEnv: {} },
    { file: "backup.ts", what: "backup pipeline against plain pg_dump and pg_restore", quickArgs: [], quickEnv: { BENCH_DB_GB: "0.1", BENCH_RUNS: "1" } },
    { file: "drill.ts", what: "corruption drills (PITR and dump) RTO against pg_restore of a dump of the same database", quickArgs: [], quickEnv: { BENCH_DRILL_GB: "0.1" } },
];

/** The @pulumi/* modules the program imports (index.ts, lib/, components/, stacks/), as require() paths. */
export function programModules(root = REPO): string[] {
    const files = ["index.ts"];
    for (const dir of ["lib", "components", "stacks"]) {
        const full = path.join(root, dir);
        if (fs.existsSync(full)) {
            files.push(...fs.readdirSync(full).filter((f) => f.endsWith(".ts")).map((f) => path.join(dir, f)));
        }
    }
    const modules = new Set<string>(["@pulumi/pulumi"]);
    for (const file of files) {
        const source = fs.readFileSync(path.join(root, file), "utf8");
        for (const m of source.matchAll(/^\s*import\s+(?!type\b)[^;]*?from\s+["'](@pulumi\/[^"']+)["']/gm)) {
            modules.add(m[1]);
        }
    }
    return [...modules].sort();
}

interface Timed {
    name: string;
    args: string[];
    /** Wall-clock seconds of each run. */
    samples: number[];
    /** CPU seconds (user + system) of each run, its own child processes included; empty where unknown. */
    cpu: number[];
}

/**
 * The CPU time (user + system, seconds) of this process's children that have been waited for: Linux's
 * cutime and cstime (/proc/self/stat), which include their own waited-for children (check's planning
 * child). Clock ticks of 10 ms. undefined where there is no /proc.
 */
export function waitedChildrenCpu(stat = "/proc/self/stat"): number | undefined {
    try {
        const text = fs.readFileSync(stat, "utf8");
        // Fields after the command name (in parentheses, which may hold spaces): state is field 3, cutime 16, cstime 17.
        const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
        return (Number(fields[13]) + Number(fields[14])) / 100;
    } catch {
        return undefined;
    }
}

function run(args: string[]): { wall: number; cpu?: number } {
    const cpuBefore = waitedChildrenCpu();
    const start = process.hrtime.bigint();
    const child = spawnSync(process.execPath, args, { cwd: REPO, encoding: "utf8", maxBuffer: 256 * 1024 * 1024 });
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    const cpuAfter = waitedChildrenCpu();
    if (child.status !== 0) {
        throw new Error(`node ${args.join(" ")} exited ${child.status}:\n${(child.stderr || child.stdout).slice(-2000)}`);
    }
    return { wall: seconds, cpu: cpuBefore === undefined || cpuAfter === undefined ? undefined : cpuAfter - cpuBefore };
}

export function median(values: number[]): number {
    const sorted = [...values].sort((a, b) => a - b);
    const mid = Math.floor(sorted.length / 2);
    return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function fmt(seconds: number): string {
    return `${seconds.toFixed(2)} s`;
}

function section(title: string) {
    console.log(`\n== ${title}`);
}

export function planAndCheck(): void {
    const modules = programModules();
    const requires = ["-e", modules.map((m) => `require(${JSON.stringify(m)});`).join(" ")];
    const floor: Timed = { name: "floor: load the SDK and the program's provider modules", args: ["--require", TS_REGISTER, ...requires], samples: [], cpu: [] };
    // The planner defers the SDK's closure-serialization modules and its Automation API (packages/offline-plan/src/lazy-closure-modules.ts)
    // and compiles from its code cache (compiled-modules.ts), so its own floor is lower than a plain require's: ratios against
    // it say what our code costs. The goals are against the plain floor.
    const deferred: Timed = {
        name: "deferred floor: the same, loaded as the planner loads it",
        args: ["--require", TS_REGISTER, "--require", COMPILED_MODULES, "--require", LAZY_CLOSURE_MODULES, ...requires],
        samples: [],
        cpu: [],
    };
    const plan: Timed = { name: `plan ${STACKS.join("+")} (offline-plan's bin, npm run plan)`, args: [PLAN_CLI, ...STACKS.flatMap((s) => ["--stack", s]), "--json"], samples: [], cpu: [] };
    const check: Timed = { name: `plan+check ${STACKS.join("+")} (tools/check/check.ts)`, args: ["--require", TS_REGISTER, "tools/check/check.ts", ...STACKS.flatMap((s) => ["--stack", s]), "--json"], samples: [], cpu: [] };
    const checkAll: Timed = { name: "plan+check every stack (all seven, tools/check/check.ts)", args: ["--require", TS_REGISTER, "tools/check/check.ts", "--json"], samples: [], cpu: [] };
    section(`offline plan and check of ${STACKS.join(" and ")} against the SDK floor (median of ${RUNS} interleaved runs)`);
    console.log(`floor modules (${modules.length}): ${modules.join(", ")}`);
    // Warm the file cache once, unmeasured.
    run(floor.args);
    const measured = [floor, deferred, plan, check, checkAll];
    for (let i = 0; i < RUNS; i++) {
        // A B C, then C B A: neither side always runs right after the other.
        const order = i % 2 === 0 ? measured : [...measured].reverse();
        for (const t of order) {
            const { wall, cpu } = run(t.args);
            t.samples.push(wall);
            if (cpu !== undefined) {
                t.cpu.push(cpu);
            }
        }
    }
    const base = median(floor.samples);
    const deferredBase = median(deferred.samples);
    const width = Math.max(...measured.map((t) => t.name.length));
    // Every stack is planned in one process (plan.ts's own; check's one child), the runtime reset between
    // stacks, loading the SDK once; the checker's own process loads it too (@pulumi/policy), while its child
    // plans: two deferred floors of CPU, fewer of wall time on two cores.
    const minimum = new Map<Timed, number>([[plan, 1], [check, 2], [checkAll, 2]]);
    // The goals, against the plain floor: plan of prod+dr at most 1.2 floors (issue 24; 1.5 in issue 13), the check of every stack at most 2.
    const goal = new Map<Timed, string>([[plan, "goal <= 1.2x"], [checkAll, "goal <= 2.0x"]]);
    console.log(`  ${"".padEnd(width)}  ${"median".padStart(8)}  ${"/ floor".padEnd(13)}  ${"/ deferred".padEnd(10)}  ${"minimum".padEnd(12)}  ${"".padEnd(12)}`);
    for (const t of measured) {
        const m = median(t.samples);
        const ratio = t === floor ? "1.0x (floor)" : `${(m / base).toFixed(2)}x`;
        const against = t === floor ? "" : t === deferred ? "1.0x" : `${(m / deferredBase).toFixed(2)}x`;
        const least = minimum.has(t) ? `${minimum.get(t)}.0x deferred` : "";
        console.log(`  ${t.name.padEnd(width)}  ${fmt(m).padStart(8)}  ${ratio.padEnd(13)}  ${against.padEnd(10)}  ${least.padEnd(12)}  ${(goal.get(t) ?? "").padEnd(12)}  runs: ${t.samples.map((s) => s.toFixed(2)).join(" ")}`);
    }
    // CPU time (user + system, the command's child processes included): on a machine shared with other jobs,
    // steadier than the wall time, which waits for the cores too. A check uses more CPU than wall time when its
    // two processes (checker and planning child) run side by side.
    if (measured.every((t) => t.cpu.length === t.samples.length)) {
        const cpuBase = median(floor.cpu);
        const cpuDeferred = median(deferred.cpu);
        console.log(`  CPU time (user + system), median of the same runs:`);
        for (const t of measured) {
            const m = median(t.cpu);
            const ratio = t === floor ? "1.0x (floor)" : `${(m / cpuBase).toFixed(2)}x`;
            const against = t === floor ? "" : t === deferred ? "1.0x" : `${(m / cpuDeferred).toFixed(2)}x`;
            console.log(`  ${t.name.padEnd(width)}  ${fmt(m).padStart(8)}  ${ratio.padEnd(13)}  ${against.padEnd(10)}  runs: ${t.cpu.map((s) => s.toFixed(2)).join(" ")}`);
        }
    }
    console.log(`  load average (1, 5, 15 min) at the end: ${os.loadavg().map((l) => l.toFixed(1)).join(", ")} on ${os.cpus().length} CPUs`);
}

function otherBenchmarks(): void {
    for (const bench of OTHER_BENCHMARKS) {
        const file = path.join(__dirname, bench.file);
        section(`bench/${bench.file}: ${bench.what}`);
        if (!fs.existsSync(file)) {
            console.log(`  skipped: bench/${bench.file} is not in this checkout`);
            continue;
        }
        const start = process.hrtime.bigint();
        const env = { ...(QUICK ? bench.quickEnv : {}), ...process.env };
        const child = spawnSync(process.execPath, ["--require", TS_REGISTER, file, ...(QUICK ? bench.quickArgs : [])], { cwd: REPO, stdio: "inherit", env });
        const seconds = Number(process.hrtime.bigint() - start) / 1e9;
        console.log(`  bench/${bench.file} ${child.status === 0 ? "finished" : `FAILED (exit ${child.status ?? child.signal})`} in ${fmt(seconds)}`);
        if (child.status !== 0) {
            process.exitCode = 1;
        }
    }
}

function main(): void {
    console.log(`oauth2-dr benchmarks${QUICK ? " (BENCH_QUICK=1)" : ""}: node ${process.version}, ${os.cpus().length} CPUs`);
    try {
        planAndCheck();
    } catch (err) {
        console.error((err as Error).message);
        process.exitCode = 1;
    }
    if (process.env.BENCH_ONLY !== "plan") {
        otherBenchmarks();
    }
}

if (require.main === module) {
    main();
}
