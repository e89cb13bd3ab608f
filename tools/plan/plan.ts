/**
 * `npm run plan`: what `pulumi preview` would create, offline. Runs index.ts under Pulumi's mock runtime
 * with each stack's real configuration (Pulumi.yaml + Pulumi.<stack>.yaml), prod first, then dr with
 * prod's outputs behind its StackReference.
 *
 *   npm run plan                      both stacks
 *   npm run plan -- --stack prod      one stack (its referenced stacks are planned first, not printed)
 *   npm run plan -- --json            the same as JSON
 *   npm run plan -- --preview         leave computed values unknown, as a first `pulumi preview` does
 */
import * as path from "path";
import { listStacks } from "./stack-settings";
import { planInOrder } from "./order";
import { PlanError } from "./runner";
import { formatPlan } from "./format";

interface PlanArgs {
    stacks: string[];
    json: boolean;
    preview: boolean;
    programDir: string;
}

export function parseArgs(argv: string[]): PlanArgs {
    const args: PlanArgs = { stacks: [], json: false, preview: false, programDir: process.cwd() };
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i];
        if (arg === "--stack" || arg === "-s") {
            args.stacks.push(argv[++i]);
        } else if (arg.startsWith("--stack=")) {
            args.stacks.push(arg.slice("--stack=".length));
        } else if (arg === "--json") {
            args.json = true;
        } else if (arg === "--preview") {
            args.preview = true;
        } else if (arg === "--program") {
            args.programDir = path.resolve(argv[++i]);
        } else {
            throw new Error(`unknown argument ${arg}; usage: npm run plan -- [--stack NAME] [--json] [--preview] [--program DIR]`);
        }
    }
    return args;
}

function main(): number {
    let args: PlanArgs;
    try {
        args = parseArgs(process.argv.slice(2));
    } catch (err) {
        console.error((err as Error).message);
        return 2;
    }
    const stacks = args.stacks.length > 0 ? args.stacks : listStacks(args.programDir);
    try {
        const results = planInOrder(args.programDir, stacks, { preview: args.preview });
        if (args.json) {
            console.log(JSON.stringify(results.length === 1 ? results[0] : results, null, 2));
        } else {
            console.log(results.map(formatPlan).join("\n\n"));
        }
        return 0;
    } catch (err) {
        if (err instanceof PlanError) {
            console.error(`plan of stack ${err.stack} failed:\n${err.message}`);
            return 1;
        }
        throw err;
    }
}

process.exitCode = main();
