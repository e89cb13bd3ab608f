/**
 * npm run drill -- --scenario corruption-pitr|corruption-dump|region|compromise [--rows N] [--write-seconds S] [--out FILE]
 *
 * Rehearses a runbook scenario on this machine with real parts (PostgreSQL 15 primary and streaming replica,
 * moto, an OpenID provider backed by the database, the backup/restore/validation scripts), prints the drill
 * report (each step's duration, RTO and RPO against the runbook's rows) and writes it as JSON (default
 * .drill/<scenario>.json), which `npm run check -- --format html` shows as its "last drill" section.
 *
 * Exit codes: 0 drill done and both objectives met (for compromise, also the vault copy intact), or --help; 1 the drill ran but an objective was missed, or a step
 * failed (the error says which, and it is recorded as <report>.failed.json: the HTML report then marks the last
 * completed run's verdicts as not the newest run's); 2 bad arguments, a report file that cannot be written, or one another drill is writing (claimReportFile); 130 (SIGINT, Ctrl-C),
 * 143 (SIGTERM) or 129 (SIGHUP: the terminal closed): interrupted, after saying which step was under way and ending what it
 * started (exitOnSignal); nothing is written then.
 */
import * as fs from "fs";
import * as path from "path";
import type { PendingRun } from "../sandbox/scripts";
import { processExists } from "../sandbox/servers";
import { defaultReportFile, formatReport, rpoVerdict, rtoVerdict, SCENARIOS, vaultVerdict, writeFailure, writeReport, type Scenario } from "./report";

const USAGE = "usage: npm run drill -- --scenario corruption-pitr|corruption-dump|region|compromise [--rows N] [--write-seconds S] [--out FILE]";

export interface DrillArgs {
    scenario: Scenario;
    rows: number;
    writeSeconds: number;
    out?: string;
}

export function parseDrillArgs(argv: string[]): DrillArgs {
    const args: Partial<DrillArgs> = { rows: 2000, writeSeconds: 3 };
    // Each flag's value as given: a second one is refused (the last one silently won: `--scenario region --scenario
    // compromise` ran the compromise drill).
    const given = new Map<string, string>();
    for (let i = 0; i < argv.length; i++) {
        const flag = argv[i];
        const value = argv[i + 1];
        const need = () => {
            if (value === undefined || value.startsWith("--")) {
                throw new Error(`${flag} needs a value; ${USAGE}`);
            }
            if (given.has(flag)) {
                throw new Error(`${flag} given twice ("${given.get(flag)}", then "${value}"): give it once; ${USAGE}`);
            }
            given.set(flag, value);
            i++;
            return value;
        };
        const positive = (name: string, text: string, max: number) => {
            const n = Number(text);
            if (!Number.isFinite(n) || n <= 0 || n > max) {
                throw new Error(`${name} must be a number in (0, ${max}], not "${text}"`);
            }
            return n;
        };
        switch (flag) {
            case "--scenario": {
                const s = need();
                if (s === "corruption") {
                    throw new Error('--scenario corruption is two scenarios now: corruption-pitr (point-in-time recovery, restore.pointInTime\'s offline analogue) or corruption-dump (restore.sh of the newest dump)');
                }
                if (!SCENARIOS.includes(s as Scenario)) {
                    throw new Error(`--scenario must be ${SCENARIOS.join(" or ")}, not "${s}"`);
                }
                args.scenario = s as Scenario;
                break;
            }
            case "--rows": {
                // A count: 0.4 was rounded to 0 rows.
                const text = need();
                const n = Number(text);
                if (!Number.isInteger(n) || n < 1 || n > 10_000_000) {
                    throw new Error(`--rows must be a whole number in [1, 10000000], not "${text}"`);
                }
                args.rows = n;
                break;
            }
            case "--write-seconds":
                args.writeSeconds = positive("--write-seconds", need(), 3600);
                break;
            case "--out":
                args.out = need();
                break;
            default:
                throw new Error(`unknown argument "${flag}"; ${USAGE}`);
        }
    }
    if (!args.scenario) {
        throw new Error(`--scenario is required; ${USAGE}`);
    }
    return args as DrillArgs;
}

/**
 * Throws, naming the file, when the report (`--out`, default .drill/<scenario>.json) cannot be written there: checked
 * before the drill starts, not found after its minutes (the write failed at the end, and so did the failure
 * record's, beside it: an unhandled rejection). The directory is made and a file created in it and removed (root
 * passes access(2) checks, not a read-only or virtual file system).
 */
export function checkReportFile(file: string): void {
    if (fs.existsSync(file) && fs.statSync(file).isDirectory()) {
        throw new Error(`--out ${file}: a directory, not a file`);
    }
    const dir = path.dirname(file);
    try {
        fs.mkdirSync(dir, { recursive: true });
        const probe = path.join(dir, `.drill-probe-${process.pid}`);
        fs.writeFileSync(probe, "");
        fs.rmSync(probe);
    } catch (err) {
        throw new Error(`--out ${file}: the report cannot be written in ${dir} (${(err as Error).message})`);
    }
}

/**
 * Claims the report `file` for this run: `<file>.lock` holding this process's pid, removed at its exit. Throws, naming
 * the other drill's pid, when a drill that is still running holds it: two drills of one scenario (the same default
 * .drill/<scenario>.json) each wrote the report at their end, the second's replacing the first's, and each removed
 * the other's failure record (until h40). A lock whose process is gone (a drill killed with SIGKILL) is taken over.
 */
export function claimReportFile(file: string): void {
    const lock = `${file}.lock`;
    for (let attempt = 0; ; attempt++) {
        try {
            fs.writeFileSync(lock, `${process.pid}\n`, { flag: "wx" });
            break;
        } catch (err) {
            if ((err as NodeJS.ErrnoException).code !== "EEXIST" || attempt > 0) {
                throw new Error(`--out ${file}: cannot claim it (${lock}: ${(err as Error).message})`);
            }
        }
        const holder = Number(fs.readFileSync(lock, "utf8").trim());
        if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && processExists(holder)) {
            throw new Error(`--out ${file}: another drill (pid ${holder}) is writing it: wait for it to end, or give this one another --out`);
        }
        // Its drill is gone: the lock is stale.
        fs.rmSync(lock, { force: true });
    }
    process.on("exit", () => {
        try {
            if (fs.readFileSync(lock, "utf8").trim() === String(process.pid)) {
                fs.rmSync(lock, { force: true });
            }
        } catch {
            // gone already
        }
    });
}

/** How long an interrupted drill waits for its scripts' own clean-up (each ends its AWS helper and work directory on TERM). */
const SCRIPTS_END_MS = 10_000;

/**
 * Ctrl-C (SIGINT), SIGTERM or SIGHUP (the terminal or the ssh session closed: until h40 Node died on it without its exit
 * hooks, the drill's PostgreSQL servers left running): says which step was under way, sends SIGTERM to the scripts still running (a validation,
 * a restore; a Ctrl-C at a terminal reached them already) and waits for them at most SCRIPTS_END_MS, then exits 130 or
 * 143 (129 for SIGHUP). process.exit runs the exit hooks: every PostgreSQL stopped and its directories removed, each moto and its AWS
 * helper killed (tools/sandbox/servers.ts, scripts.ts), the world's directories removed (tools/drill/world.ts). Without
 * a handler Node died on the signal without them: a region drill's primary and replica kept running (pg_ctl starts
 * them in a session of their own) and 7 directories stayed in the temp dir. A second signal exits at once. Returns
 * whether it was interrupted (`pendingRuns`: tools/sandbox/scripts.ts's, the script runs of this process): the progress lines of the steps that go on meanwhile are not printed (a killed
 * validation's step would otherwise print its end as if it had run).
 */
export function exitOnSignal(scenario: string, underWay: () => string, pendingRuns: () => Set<PendingRun>): () => boolean {
    let interrupted = false;
    for (const [signal, code] of [["SIGINT", 130], ["SIGTERM", 143], ["SIGHUP", 129]] as const) {
        process.on(signal, () => {
            if (interrupted) {
                process.exit(code);
            }
            interrupted = true;
            console.error(`drill ${scenario} interrupted by ${signal} during ${underWay()}: stopping its scripts, servers and directories; no report written (exit ${code})`);
            const runs = [...pendingRuns()];
            runs.forEach(({ run }) => run.child.kill("SIGTERM"));
            const bound = new Promise((r) => setTimeout(r, SCRIPTS_END_MS));
            void Promise.race([Promise.all(runs.map(({ run }) => run.done)), bound]).finally(() => {
                // The drill's code ran on meanwhile (a killed validation ends its step) and may have started another.
                pendingRuns().forEach(({ run }) => run.child.kill("SIGTERM"));
                process.exit(code);
            });
        });
    }
    return () => interrupted;
}

async function main(): Promise<number> {
    let args: DrillArgs;
    let interrupted: (() => boolean) | undefined;
    if (process.argv.slice(2).some((a) => a === "--help" || a === "-h")) {
        console.log(USAGE);
        return 0;
    }
    try {
        args = parseDrillArgs(process.argv.slice(2));
        const out = args.out ?? defaultReportFile(args.scenario);
        checkReportFile(out);
        claimReportFile(out);
    } catch (err) {
        console.error((err as Error).message);
        return 2;
    }
    try {
        // The step under way: the Stopwatch logs "NAME..." as one starts.
        let step = "the start";
        // tools/sandbox/scripts.ts loaded here, not at the top: a usage error loads none of the drill's modules.
        const { pendingRuns } = await import("../sandbox/scripts");
        interrupted = exitOnSignal(args.scenario, () => step, pendingRuns);
        // Loaded once the arguments are good: the servers' modules (oidc-provider, pg, the AWS SDK, the components
        // the compromise drill reads) are a second of CPU that a usage error or --help does not need.
        const { runDrill } = await import("./scenarios");
        const log = (line: string) => {
            if (line.endsWith("...")) {
                step = `the step "${line.slice(0, -3)}"`;
            }
            if (!interrupted?.()) {
                console.error(`drill: ${line}`);
            }
        };
        const report = await runDrill(args.scenario, { rows: args.rows, writeSeconds: args.writeSeconds, log });
        if (interrupted()) {
            // Its scripts were ended under it: what it measured is not this drill's (exitOnSignal exits).
            return 1;
        }
        console.log(formatReport(report));
        console.log(`wrote ${writeReport(report, args.out)}`);
        // From the measured figures (rtoVerdict, rpoVerdict), as the text and the HTML: nothing measured is not met.
        return rtoVerdict(report.rto).state === "met" && rpoVerdict(report.rpo).state === "met" && (report.compromise === undefined || vaultVerdict(report.compromise).state === "met") ? 0 : 1;
    } catch (err) {
        if (interrupted?.()) {
            // A step that failed because the interruption ended its script: not a failed run (exitOnSignal exits).
            return 1;
        }
        console.error(`drill ${args.scenario} failed: ${(err as Error).message}`);
        // The HTML report's "last drill" would otherwise show the previous run's verdicts as the newest.
        console.error(`wrote ${writeFailure(args.scenario, (err as Error).message, args.out)}`);
        return 1;
    }
}

if (require.main === module) {
    void main().then((code) => {
        process.exitCode = code;
    });
}
