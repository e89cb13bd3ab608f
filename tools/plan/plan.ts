/**
 * `npm run plan`: what `pulumi preview` would create, offline. Runs the program under Pulumi's mock runtime
 * with each stack's real configuration (Pulumi.yaml + Pulumi.<stack>.yaml), referenced stacks first (dr
 * after prod, with prod's outputs behind its StackReference). `npm run plan -- --help` lists the options.
 *
 * Exit 0 when every stack is planned, 2 on a usage error or a failed plan (the program's error and its
 * file:line), as `npm run check` does.
 */
import { stacksToPlan } from "./stack-settings";
import { planInOrder } from "./order";
import { PlanError } from "./runner";
import { formatPlan } from "./format";
import {
    configAssignmentsOf,
    EXIT_OK,
    EXIT_USAGE_OR_PLAN_FAILURE,
    parseCommandLine,
    PLAN_OPTIONS,
    PLAN_OPTIONS_HELP,
    programDirOf,
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

export const PLAN_USAGE = ["usage: npm run plan -- [options]", "", ...PLAN_OPTIONS_HELP, "", "exit: 0 planned, 2 usage error or failed plan"].join("\n");

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

function main(): number {
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
        const stacks = stacksToPlan(args.programDir, args.stacks);
        const results = planInOrder(args.programDir, stacks, { preview: args.preview, configSet: args.configSet, stackReferences: args.stackOutputs });
        if (args.json) {
            console.log(JSON.stringify(results.length === 1 ? results[0] : results, null, 2));
        } else {
            console.log(results.map(formatPlan).join("\n\n"));
        }
        return EXIT_OK;
    } catch (err) {
        if (err instanceof PlanError) {
            console.error(`plan of stack ${err.stack} failed:\n${err.message}`);
            return EXIT_USAGE_OR_PLAN_FAILURE;
        }
        console.error((err as Error).message);
        return EXIT_USAGE_OR_PLAN_FAILURE;
    }
}

if (require.main === module) {
    process.exitCode = main();
}
