/**
 * `npm run plan`: what `pulumi preview` would create, offline. Runs the program under Pulumi's mock runtime
 * with each stack's real configuration (Pulumi.yaml + Pulumi.<stack>.yaml), referenced stacks first (dr
 * after prod, with prod's outputs behind its StackReference). `npm run plan -- --help` lists the options.
 *
 * Exit 0 when every stack is planned, 2 on a usage error or a failed plan (the program's error and its
 * file:line), as `npm run check` does.
 */
import "./compiled-modules";
import "./no-dependency-source-maps";
import "./lazy-closure-modules";
import * as path from "path";
import { PlanBatch, resultsOf } from "./protocol";
import { runBatch } from "./mock-runtime";
import { OUR_NODE_MODULES } from "./runner";
import { PlanResult, sdkVersionLines, shareablePlan } from "./model";
import { formatPlan } from "./format";
import {
    CliOutput,
    configAssignmentsOf,
    EXIT_OK,
    EXIT_USAGE_OR_PLAN_FAILURE,
    parseCommandLine,
    PLAN_OPTIONS,
    PLAN_OPTIONS_HELP,
    PROCESS_OUTPUT,
    programDirOf,
    reportFailure,
    stackOutputsOf,
    UsageError,
} from "./cli";

export interface PlanArgs {
    help: boolean;
    stacks: string[];
    json: boolean;
    preview: boolean;
    programDir: string;
    configSet: string[];
    stackOutputs: Record<string, Record<string, unknown>>;
}

export const PLAN_USAGE = ["usage: offline-plan [options]", "", ...PLAN_OPTIONS_HELP, "", "exit: 0 planned, 2 usage error or failed plan"].join("\n");

export function parsePlanArgs(argv: string[]): PlanArgs {
    const values = parseCommandLine(argv, PLAN_OPTIONS);
    return {
        help: values.help ?? false,
        stacks: values.stack ?? [],
        json: values.json ?? false,
        preview: values.preview ?? false,
        programDir: programDirOf(values.program, process.cwd()),
        configSet: configAssignmentsOf(values.config),
        stackOutputs: stackOutputsOf(values["stack-outputs"]),
    };
}

/**
 * Plans in this process: the CLI is a process of its own, so the program can run here rather than in a
 * child (the library entry, order.planInOrder, keeps its callers' processes clean with a child). A program
 * without node_modules resolves @pulumi/* from ours, as the child does through NODE_PATH.
 */
async function planHere(programDir: string, stacks: string[], extra: Omit<PlanBatch, "programDir" | "stacks" | "inDependencyOrder">): Promise<PlanResult[]> {
    // The program runs in its own directory, as under the Pulumi CLI and in the library's child: a program
    // reading `./www` or `./Pulumi.README.md` finds them wherever the CLI was started.
    process.chdir(programDir);
    process.env.NODE_PATH = [process.env.NODE_PATH, OUR_NODE_MODULES].filter(Boolean).join(path.delimiter);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    (require("module") as { _initPaths(): void })._initPaths();
    // A rejection that arrives after its stack is done must not end the run: each stack reports its own.
    process.on("unhandledRejection", () => undefined);
    return resultsOf(await runBatch({ ...extra, programDir, stacks, inDependencyOrder: true }));
}

/**
 * Runs `body` with what the program writes to stdout (console.log) sent to `stream`: with --json, stdout holds
 * the JSON alone, and the program's own lines go to stderr, as the Pulumi CLI shows them apart from its output.
 */
async function whilePrintingTo<T>(stream: NodeJS.WriteStream, body: () => Promise<T>): Promise<T> {
    if (stream === process.stdout) {
        return body();
    }
    const write = process.stdout.write;
    process.stdout.write = stream.write.bind(stream) as typeof process.stdout.write;
    try {
        return await body();
    } finally {
        process.stdout.write = write;
    }
}

/** What a plan is asked for besides the program and its stacks: preview, config values, outside stacks' outputs. */
export type PlanExtra = Omit<PlanBatch, "programDir" | "stacks" | "inDependencyOrder">;

/** Plans a program's stacks (referenced stacks first) for `main`, in place of this process (planHere). */
export type Planner = (programDir: string, stacks: string[], extra: PlanExtra) => Promise<PlanResult[]>;

/**
 * The CLI on `argv`: writes to `io` and returns the exit code (it never exits the process). The command plans
 * in its own process (planHere); a caller running it inside another process (a test) passes `plan`, which
 * plans elsewhere (a planning child), and the program's own output is then that planner's.
 */
export async function main(argv: string[], io: CliOutput = PROCESS_OUTPUT, plan?: Planner): Promise<number> {
    let args: PlanArgs;
    try {
        args = parsePlanArgs(argv);
    } catch (err) {
        if (err instanceof UsageError) {
            io.stderr.write(`${err.message}\n${PLAN_USAGE}\n`);
            return EXIT_USAGE_OR_PLAN_FAILURE;
        }
        throw err;
    }
    if (args.help) {
        io.stdout.write(`${PLAN_USAGE}\n`);
        return EXIT_OK;
    }
    try {
        const extra: PlanExtra = { preview: args.preview, configSet: args.configSet, stackReferences: args.stackOutputs };
        const results = plan
            ? await plan(args.programDir, args.stacks, extra)
            : await whilePrintingTo(args.json ? process.stderr : process.stdout, () => planHere(args.programDir, args.stacks, extra));
        for (const line of sdkVersionLines(results)) {
            io.stderr.write(`${line}\n`);
        }
        if (args.json) {
            const shared = results.map(shareablePlan);
            io.stdout.write(`${JSON.stringify(shared.length === 1 ? shared[0] : shared, null, 2)}\n`);
        } else {
            io.stdout.write(`${results.map(formatPlan).join("\n\n")}\n`);
        }
        return EXIT_OK;
    } catch (err) {
        return reportFailure(err, io.stderr);
    }
}

/** The CLI: run as `offline-plan` (bin/offline-plan.cjs) or as `node --require offline-plan/register.cjs src/plan.ts`. */
export function runPlanCli(): void {
    // Exit once stdout has drained (a pipe is written asynchronously): a program may leave timers or handles
    // behind that would otherwise keep the process alive.
    void main(process.argv.slice(2)).then((code) => process.stdout.write("", () => process.exit(code)));
}

if (require.main === module) {
    runPlanCli();
}
