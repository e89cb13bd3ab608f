/**
 * npm run recovery-points -- --stack prod [--stack-outputs FILE] [--json]
 *
 * The runbook's "Identify Recovery Point" step: every recovery point of the stack's database, newest first,
 * read from the AWS APIs (collect.ts), each with the exact commands that restore it.
 *
 * Exit codes (as scripts/README.md): 0 every source was read; 2 configuration (arguments, the stack's
 * configuration, no stack outputs); 3 database: an RDS or CloudWatch query failed (no AWS credentials, a
 * wrong region or account, no such instance, access denied); 4 storage: an S3 or AWS Backup query failed
 * (and no database one); 1 unexpected. The points that could be read are printed in every case. A call that
 * gets no answer ends after RECOVERY_POINTS_TIMEOUT_SECONDS (default 10) per attempt, and the calls still
 * waiting are said on stderr every 5 s (README "Recovery points").
 */
import * as path from "path";
import { parseArgs } from "util";
import { collect, ClientFactory, defaultClients, requestTimeoutSeconds } from "./collect";
import { formatJson, formatText } from "./format";
import { EXIT, Report } from "./points";
import { loadTarget, readOutputs, UsageError } from "./stack";

const USAGE = "usage: npm run recovery-points -- --stack STACK [--stack-outputs FILE] [--json]";

export interface CliDeps {
    /** Where Pulumi.yaml and the stack files are (default: this repository). */
    programDir?: string;
    clients?: ClientFactory;
    now?: Date;
    env?: NodeJS.ProcessEnv;
    stdout?: (text: string) => void;
    stderr?: (text: string) => void;
}

export function exitCodeOf(report: Report): number {
    if (report.errors.some((e) => e.exitCode === EXIT.database)) {
        return EXIT.database;
    }
    return report.errors.length > 0 ? EXIT.storage : EXIT.ok;
}

export async function main(argv: string[], deps: CliDeps = {}): Promise<number> {
    const stdout = deps.stdout ?? ((t: string) => process.stdout.write(t));
    const stderr = deps.stderr ?? ((t: string) => process.stderr.write(t));
    const programDir = deps.programDir ?? path.resolve(__dirname, "..", "..");
    let report: Report;
    let json: boolean;
    try {
        let values;
        try {
            values = parseArgs({
                args: argv,
                options: { stack: { type: "string" }, "stack-outputs": { type: "string" }, json: { type: "boolean" }, help: { type: "boolean", short: "h" } },
                strict: true,
                allowPositionals: false,
            }).values;
        } catch (err) {
            throw new UsageError(`${(err as Error).message}\n${USAGE}`);
        }
        if (values.help) {
            stdout(`${USAGE}\n`);
            return EXIT.ok;
        }
        if (!values.stack) {
            throw new UsageError(`--stack is required\n${USAGE}`);
        }
        json = values.json ?? false;
        const now = deps.now ?? new Date();
        const stack = values.stack;
        const target = loadTarget(programDir, stack, () => readOutputs(programDir, stack, values["stack-outputs"], deps.env), now);
        try {
            requestTimeoutSeconds(deps.env ?? process.env);
        } catch (err) {
            throw new UsageError((err as Error).message);
        }
        report = await collect(target, deps.clients ?? defaultClients, now, (line) => stderr(`recovery-points: ${line}\n`));
    } catch (err) {
        if (err instanceof UsageError) {
            stderr(`recovery-points: ${err.message}\n`);
            return EXIT.usage;
        }
        stderr(`recovery-points: ${(err as Error).stack ?? String(err)}\n`);
        return EXIT.failure;
    }
    stdout(json ? formatJson(report) : formatText(report));
    if (json) {
        // The text report lists its errors itself; beside JSON they go to stderr too.
        for (const error of report.errors) {
            stderr(`recovery-points: ${error.source}: ${error.message}\n`);
        }
    }
    return exitCodeOf(report);
}

if (require.main === module) {
    // The SDK warns that its releases after January 2027 need Node 22; the locked release runs on the
    // Node 20 that package.json's engines allow, and the warning would sit in the middle of the table.
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
    main(process.argv.slice(2)).then(
        (code) => {
            process.exitCode = code;
        },
        (err: unknown) => {
            process.stderr.write(`recovery-points: ${(err as Error).stack ?? String(err)}\n`);
            process.exitCode = EXIT.failure;
        },
    );
}
