/**
 * `npm run check`: the policy pack, offline, on every stack of a Pulumi TypeScript program.
 *
 *   npm run check                          every stack of this program (standby stacks after what they reference)
 *   npm run check -- --stack prod          one stack (repeatable)
 *   npm run check -- --json                { stack, violations: [...], retention: [...] } (an array for several stacks)
 *   npm run check -- --program DIR         another team's program (its Pulumi.yaml and Pulumi.<stack>.yaml files)
 *   npm run check -- --policy-config FILE  policy config, as `pulumi preview --policy-pack-config FILE`
 *   npm run check -- --preview             leave computed values unknown, as a first `pulumi preview`
 *   npm run check -- --stack-tag k=v       a stack tag the policies may read (e.g. environment=production)
 *   npm run check -- --format markdown     the matrix and violations as Markdown (the PR comment; tools/report/markdown.ts)
 *   npm run check -- --format html --out F a standalone page with the DR diagram and the matrix (tools/report/html.ts)
 *   npm run check -- --config KEY=VALUE    set a config value of the checked program (repeatable)
 *   npm run check -- --stack-outputs ORG/PROJECT/STACK=FILE.json   outputs for a StackReference outside the run
 *   npm run check -- --strict-unknowns     exit 1 also when something was not judged for an unknown value
 *   npm run check -- --help                every option
 *
 * Exit 1 when any mandatory violation is found (with --strict-unknowns, also when an `.apply` callback did not
 * run, a registration waits on unknowns or a resource or row was not judged for an unknown value), 2 on a
 * usage or planning error, 0 otherwise.
 */
// First: the planning child starts before anything else loads (start-planning-early.ts says why).
import "./start-planning-early";
import "offline-plan/compiled-modules";
import "offline-plan/no-dependency-source-maps";
import "offline-plan/lazy-closure-modules";
import * as os from "os";
// Only light modules here: planning starts (a child process) before the policy pack and the reports load
// (tools/check/core.ts and @pulumi/policy, most of a check's start-up), so the two overlap on two cores.
import type { PackConfig } from "offline-plan/policy-harness";
import type { StackCheck } from "./core";
import type { PlanResult } from "offline-plan/model";
import type { StartedBatch } from "offline-plan/runner";
import { sdkVersionLines } from "offline-plan/model";
import { readPackConfig } from "offline-plan/pack-config-file";
import { PlanningOptions, startPlanning } from "./planning";
import { REPORT_FORMATS, ReportFormat } from "../report/formats";
import {
    CliOutput,
    configAssignmentsOf,
    EXIT_OK,
    EXIT_USAGE_OR_PLAN_FAILURE,
    EXIT_VIOLATION,
    parseCommandLine,
    PLAN_OPTIONS,
    PLAN_OPTIONS_HELP,
    PROCESS_OUTPUT,
    programDirOf,
    reportFailure,
    stackOutputsOf,
    UsageError,
} from "offline-plan/cli";

interface CheckArgs {
    help: boolean;
    stacks: string[];
    json: boolean;
    preview: boolean;
    programDir?: string;
    config?: PackConfig;
    stackTags: Record<string, string>;
    configSet: string[];
    stackOutputs: Record<string, Record<string, unknown>>;
    // Readable reports (issue 7): --format text|json|markdown|html, --out FILE.
    format?: ReportFormat;
    out?: string;
    /** Exit 1 when anything was not judged because a value was unknown (default: listed, advisory). */
    strictUnknowns: boolean;
}

const CHECK_OPTIONS = {
    ...PLAN_OPTIONS,
    "policy-config": { type: "string" },
    "policy-pack-config": { type: "string" },
    "stack-tag": { type: "string", multiple: true },
    format: { type: "string" },
    out: { type: "string" },
    "strict-unknowns": { type: "boolean" },
} as const;

export const CHECK_USAGE = [
    "usage: npm run check -- [options]",
    "",
    ...PLAN_OPTIONS_HELP,
    "      --policy-config FILE    policy config, as `pulumi preview --policy-pack-config FILE`",
    "      --stack-tag KEY=VALUE   a stack tag the policies read, e.g. environment=production (repeatable)",
    "      --format FORMAT         text (default), json, markdown (the PR comment) or html (needs --out)",
    "      --out FILE              where --format markdown|html writes",
    "      --strict-unknowns       exit 1 also when something was not judged because a value was unknown: an .apply",
    "                              callback that did not run, a registration waiting on unknowns, a resource or",
    "                              retention row not judged (default: listed in every format, exit unchanged)",
    "",
    "exit: 0 no mandatory violation, 1 a mandatory violation (or, with --strict-unknowns, something not judged),",
    "      2 usage error or failed plan",
].join("\n");

function stackTagsOf(values: string[] | undefined): Record<string, string> {
    const tags: Record<string, string> = {};
    for (const tag of values ?? []) {
        const eq = tag.indexOf("=");
        if (eq <= 0) {
            throw new UsageError(`--stack-tag ${tag}: expected KEY=VALUE`);
        }
        tags[tag.slice(0, eq)] = tag.slice(eq + 1);
    }
    return tags;
}

function formatOf(value: string | undefined): ReportFormat | undefined {
    if (value !== undefined && !REPORT_FORMATS.includes(value as ReportFormat)) {
        throw new UsageError(`--format ${value}: expected one of ${REPORT_FORMATS.join(", ")}`);
    }
    return value as ReportFormat | undefined;
}

export function parseArgs(argv: string[]): CheckArgs {
    const values = parseCommandLine(argv, CHECK_OPTIONS);
    const format = formatOf(values.format);
    const policyConfig = values["policy-config"] ?? values["policy-pack-config"];
    const args: CheckArgs = {
        help: values.help ?? false,
        stacks: values.stack ?? [],
        json: (values.json ?? false) || format === "json",
        preview: values.preview ?? false,
        programDir: values.program === undefined ? undefined : programDirOf(values.program, process.cwd()),
        config: policyConfig === undefined ? undefined : readPackConfig(policyConfig),
        stackTags: stackTagsOf(values["stack-tag"]),
        configSet: configAssignmentsOf(values.config),
        stackOutputs: stackOutputsOf(values["stack-outputs"]),
        format,
        out: values.out,
        strictUnknowns: values["strict-unknowns"] ?? false,
    };
    if (args.format === "html" && !args.out) {
        throw new UsageError("--format html needs --out FILE");
    }
    if (args.out && args.format !== "html" && args.format !== "markdown") {
        throw new UsageError("--out is for --format html or markdown");
    }
    return args;
}

/**
 * The planning child is the check's critical path; loading the pack here only has to be done by the time the
 * first stack is planned. On a busy machine (two cores, the child's and ours), this process gives way to the
 * child: it lowers its own priority (raising niceness needs no privilege), and finishes the last stack's
 * check when the child is done and nothing competes.
 */
function yieldToPlanning(): void {
    try {
        os.setPriority(Math.min(19, os.getPriority() + 10));
    } catch {
        // Not allowed on this system: the check is only slower.
    }
}

/**
 * 1 for a mandatory violation; under --strict-unknowns also for anything not judged because a value was
 * unknown (a gate that must not pass what it could not see). By default that is listed, not failed: a first
 * preview leaves every computed value unknown and most programs have such callbacks, so failing on them
 * would fail nearly every preview, as `pulumi preview` itself does not.
 */
async function exitCodeOf(checks: StackCheck[], strictUnknowns: boolean, stderr: CliOutput["stderr"]): Promise<number> {
    const { mandatoryCount, unseenCount } = await import("./core");
    if (mandatoryCount(checks) > 0) {
        return EXIT_VIOLATION;
    }
    if (strictUnknowns && unseenCount(checks) > 0) {
        stderr.write(`--strict-unknowns: ${unseenCount(checks)} item${unseenCount(checks) === 1 ? " was" : "s were"} not judged because a value was unknown (listed in the report): failing the check\n`);
        return EXIT_VIOLATION;
    }
    return EXIT_OK;
}

/**
 * The @pulumi packages a program was planned with (this tool's) at a version it does not declare, each once on
 * stderr, in every format (offline-plan sdk-versions.ts; the text and JSON reports also carry them first).
 */
function printSdkVersionNotices(checks: StackCheck[], stderr: CliOutput["stderr"]): void {
    for (const line of sdkVersionLines(checks)) {
        stderr.write(`${line}\n`);
    }
}

/** Plans the stacks a check of `options` needs (referenced stacks first), in place of the CLI's planning child. */
export type CheckPlanner = (options: PlanningOptions) => Promise<PlanResult[]>;

/** A planner's results as a batch under way: the check reads them as it reads the child's. */
function startedFrom(results: Promise<PlanResult[]>): StartedBatch {
    // Read through each() (a failed plan rejects there); not left unhandled when the check stops before it reads.
    results.catch(() => undefined);
    return {
        results,
        async *each() {
            yield* await results;
        },
        cancel: () => undefined,
    };
}

/**
 * The CLI on `argv`: writes to `io` and returns the exit code (it never exits the process). The command plans
 * in a planning child of its own (started before the policy pack loads); a caller running it inside another
 * process (a test) may pass `plan`, which plans the stacks another way (a shared planning child).
 */
export async function main(argv: string[], io: CliOutput = PROCESS_OUTPUT, plan?: CheckPlanner): Promise<number> {
    let args: CheckArgs;
    try {
        args = parseArgs(argv);
    } catch (err) {
        io.stderr.write(`${err instanceof UsageError ? `${err.message}\n${CHECK_USAGE}` : (err as Error).message}\n`);
        return EXIT_USAGE_OR_PLAN_FAILURE;
    }
    if (args.help) {
        io.stdout.write(`${CHECK_USAGE}\n`);
        return EXIT_OK;
    }
    const planning = { programDir: args.programDir, stacks: args.stacks, preview: args.preview, configSet: args.configSet, stackOutputs: args.stackOutputs };
    try {
        // Readable reports (issue 7): plan once, render, same exit code as the text output.
        if (args.format === "markdown" || args.format === "html") {
            const { writeReport } = await import("../report/report");
            const { mandatoryCount } = await import("./core");
            const report = await writeReport(args.format, { ...planning, config: args.config, stackTags: args.stackTags }, args.out, plan);
            printSdkVersionNotices(report.checks, io.stderr);
            if (args.out) {
                io.stdout.write(`wrote ${args.out} (${report.checks.length} stack${report.checks.length === 1 ? "" : "s"}, ${mandatoryCount(report.checks)} mandatory violations)\n`);
            } else {
                io.stdout.write(report.text);
            }
            return await exitCodeOf(report.checks, args.strictUnknowns, io.stderr);
        }
        const started = plan ? startedFrom(plan(planning)) : startPlanning(planning, (text) => void io.stderr.write(text));
        if (!plan) {
            yieldToPlanning();
        }
        const { checkStacks } = await import("./core");
        const { formatCheck, toJson } = await import("./format");
        const checks = await checkStacks({ ...planning, config: args.config, stackTags: args.stackTags }, started);
        printSdkVersionNotices(checks, io.stderr);
        if (args.json) {
            const json = checks.map(toJson);
            io.stdout.write(`${JSON.stringify(json.length === 1 ? json[0] : json, null, 2)}\n`);
        } else {
            // Waivers print with each stack ("Waiver in force"), in every format.
            io.stdout.write(`${checks.map((check) => formatCheck(check, args.preview)).join("\n\n")}\n`);
        }
        return await exitCodeOf(checks, args.strictUnknowns, io.stderr);
    } catch (err) {
        return reportFailure(err, io.stderr);
    }
}

if (require.main === module) {
    void main(process.argv.slice(2)).then((code) => {
        process.exitCode = code;
    });
}
