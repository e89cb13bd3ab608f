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
    configAssignmentsOf,
    EXIT_OK,
    EXIT_USAGE_OR_PLAN_FAILURE,
    parseCommandLine,
    PLAN_OPTIONS,
    PLAN_OPTIONS_HELP,
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

async function main(): Promise<number> {
    let args: PlanArgs;
    try {
        args = parsePlanArgs(process.argv.slice(2));
    } catch (err) {
        if (err instanceof UsageError) {
            console.error(`${err.message}\n${PLAN_USAGE}`);
            return EXIT_USAGE_OR_PLAN_FAILURE;
        }
        throw err;
    }
    if (args.help) {
        console.log(PLAN_USAGE);
        return EXIT_OK;
    }
    try {
        const results = await whilePrintingTo(args.json ? process.stderr : process.stdout, () =>
            planHere(args.programDir, args.stacks, { preview: args.preview, configSet: args.configSet, stackReferences: args.stackOutputs }),
        );
        for (const line of sdkVersionLines(results)) {
            process.stderr.write(`${line}\n`);
        }
        if (args.json) {
            const shared = results.map(shareablePlan);
            console.log(JSON.stringify(shared.length === 1 ? shared[0] : shared, null, 2));
        } else {
            console.log(results.map(formatPlan).join("\n\n"));
        }
        return EXIT_OK;
    } catch (err) {
        return reportFailure(err);
    }
}

/** The CLI: run as `offline-plan` (bin/offline-plan.cjs) or as `node --require offline-plan/register.cjs src/plan.ts`. */
export function runPlanCli(): void {
    // Exit once stdout has drained (a pipe is written asynchronously): a program may leave timers or handles
    // behind that would otherwise keep the process alive.
    void main().then((code) => process.stdout.write("", () => process.exit(code)));
}

if (require.main === module) {
    runPlanCli();
}
