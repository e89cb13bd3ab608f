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
 * completed run's verdicts as not the newest run's); 2 bad arguments.
 */
import { formatReport, rpoVerdict, rtoVerdict, SCENARIOS, writeFailure, writeReport, type Scenario } from "./report";

const USAGE = "usage: npm run drill -- --scenario corruption-pitr|corruption-dump|region|compromise [--rows N] [--write-seconds S] [--out FILE]";

export interface DrillArgs {
    scenario: Scenario;
    rows: number;
    writeSeconds: number;
    out?: string;
}

export function parseDrillArgs(argv: string[]): DrillArgs {
    const args: Partial<DrillArgs> = { rows: 2000, writeSeconds: 3 };
    for (let i = 0; i < argv.length; i++) {
        const flag = argv[i];
        const value = argv[i + 1];
        const need = () => {
            if (value === undefined || value.startsWith("--")) {
                throw new Error(`${flag} needs a value; ${USAGE}`);
            }
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
            case "--rows":
                args.rows = Math.round(positive("--rows", need(), 10_000_000));
                break;
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

async function main(): Promise<number> {
    let args: DrillArgs;
    if (process.argv.slice(2).some((a) => a === "--help" || a === "-h")) {
        console.log(USAGE);
        return 0;
    }
    try {
        args = parseDrillArgs(process.argv.slice(2));
    } catch (err) {
        console.error((err as Error).message);
        return 2;
    }
    try {
        // Loaded once the arguments are good: the servers' modules (oidc-provider, pg, the AWS SDK, the components
        // the compromise drill reads) are a second of CPU that a usage error or --help does not need.
        const { runDrill } = await import("./scenarios");
        const report = await runDrill(args.scenario, { rows: args.rows, writeSeconds: args.writeSeconds, log: (l) => console.error(`drill: ${l}`) });
        console.log(formatReport(report));
        console.log(`wrote ${writeReport(report, args.out)}`);
        // From the measured figures (rtoVerdict, rpoVerdict), as the text and the HTML: nothing measured is not met.
        return rtoVerdict(report.rto).state === "met" && rpoVerdict(report.rpo).state === "met" && (report.compromise?.vaultIntact ?? true) ? 0 : 1;
    } catch (err) {
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
