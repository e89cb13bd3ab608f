/**
 * What `npm run plan` and `npm run check` share on the command line: node:util parseArgs with the same
 * planning options, the same messages for bad arguments, and the same exit codes (0 ok, 1 mandatory
 * violation, 2 usage or plan failure).
 */
import * as fs from "fs";
import * as path from "path";
import { parseArgs, ParseArgsConfig } from "util";
import { PlanError } from "./protocol";

export const EXIT_OK = 0;
export const EXIT_VIOLATION = 1;
export const EXIT_USAGE_OR_PLAN_FAILURE = 2;

/** A bad command line: printed with the usage, exit 2. */
export class UsageError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "UsageError";
    }
}

type Options = NonNullable<ParseArgsConfig["options"]>;

/** The options that choose what is planned, common to both CLIs. */
export const PLAN_OPTIONS = {
    stack: { type: "string", short: "s", multiple: true },
    json: { type: "boolean" },
    preview: { type: "boolean" },
    program: { type: "string" },
    config: { type: "string", short: "c", multiple: true },
    "stack-outputs": { type: "string", multiple: true },
    help: { type: "boolean", short: "h" },
} as const satisfies Options;

export const PLAN_OPTIONS_HELP = [
    "  -s, --stack NAME            a stack to plan (repeatable); default: every Pulumi.<stack>.yaml, referenced stacks first",
    "      --json                  JSON instead of text",
    "      --preview               leave computed values (ids, ARNs) unknown, as a first `pulumi preview` does, and list",
    "                              the resources made inside .apply over them (\"Waiting on unknowns\"), which it cannot show",
    "      --program DIR           another Pulumi program (a directory with Pulumi.yaml), relative to where you ran npm",
    "  -c, --config KEY=VALUE      set a config value (repeatable), as `pulumi config set`; KEY without a namespace is the project's",
    "      --stack-outputs ORG/PROJECT/STACK=FILE.json",
    "                              outputs for a StackReference to a stack outside this run (`pulumi stack output --json`);",
    "                              without it such a reference's outputs are unknown, as in a first preview",
    "  -h, --help                  this text",
];

/** node:util parseArgs, with its errors turned into one line naming the argument. */
export function parseCommandLine<T extends Options>(argv: string[], options: T) {
    try {
        return parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values;
    } catch (err) {
        const error = err as NodeJS.ErrnoException;
        const option = /'(?:-\w, )?(--[\w-]+)/.exec(error.message)?.[1];
        switch (error.code) {
            case "ERR_PARSE_ARGS_UNKNOWN_OPTION":
                throw new UsageError(`unknown argument ${/'([^']+)'/.exec(error.message)?.[1] ?? ""}`);
            case "ERR_PARSE_ARGS_INVALID_OPTION_VALUE":
                throw new UsageError(/argument missing|ambiguous/.test(error.message) && option ? `${option} needs a value` : error.message);
            case "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL":
                throw new UsageError(`unexpected argument ${/'([^']+)'/.exec(error.message)?.[1] ?? ""}`);
            default:
                throw new UsageError(error.message);
        }
    }
}

/** `--program DIR`, relative to where the user ran `npm run` (npm sets INIT_CWD), not to this repository. */
export function programDirOf(value: string | undefined, fallback: string): string {
    if (value === undefined) {
        return fallback;
    }
    const dir = path.resolve(process.env.INIT_CWD ?? process.cwd(), value);
    if (!fs.existsSync(path.join(dir, "Pulumi.yaml")) && !fs.existsSync(path.join(dir, "Pulumi.yml"))) {
        throw new UsageError(`--program ${value}: no Pulumi.yaml in ${dir}`);
    }
    return dir;
}

/** `--stack-outputs org/project/stack=FILE.json` (repeatable): the outputs of stacks outside the run. */
export function stackOutputsOf(specs: string[] | undefined): Record<string, Record<string, unknown>> {
    const outputs: Record<string, Record<string, unknown>> = {};
    for (const spec of specs ?? []) {
        const eq = spec.indexOf("=");
        const name = spec.slice(0, eq);
        if (eq <= 0 || !/^([\w.-]+\/)?[\w.-]+\/[\w.-]+$/.test(name)) {
            throw new UsageError(`--stack-outputs ${spec}: expected ORG/PROJECT/STACK=FILE.json`);
        }
        const file = path.resolve(process.env.INIT_CWD ?? process.cwd(), spec.slice(eq + 1));
        if (["/dev/stdin", "/dev/fd/0", "/proc/self/fd/0"].includes(file)) {
            // bin/offline-plan.cjs makes fd 0 /dev/null before anything runs (src/empty-stdin.cjs): read here, a pipe's
            // outputs would be an empty file ("Unexpected end of JSON input"), not what was piped.
            throw new UsageError(
                `--stack-outputs ${name}: ${file} is this CLI's standard input, which is empty (the program runs in this process, with an empty stdin as under the Pulumi language host): ` +
                    `give the outputs as a file (pulumi stack output --json --stack STACK > outputs.json) or as <(pulumi stack output --json --stack STACK)`,
            );
        }
        let parsed: unknown;
        try {
            parsed = JSON.parse(fs.readFileSync(file, "utf8"));
        } catch (err) {
            throw new UsageError(`--stack-outputs ${name}: cannot read ${file} as JSON (${(err as Error).message.split("\n")[0]})`);
        }
        if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
            throw new UsageError(`--stack-outputs ${name}: ${file} must hold an object of outputs, as \`pulumi stack output --json\` prints`);
        }
        outputs[name] = parsed as Record<string, unknown>;
    }
    return outputs;
}

/** `--config KEY=VALUE` values, checked for their shape here; qualified with the project when planned. */
export function configAssignmentsOf(values: string[] | undefined): string[] {
    for (const value of values ?? []) {
        if (value.indexOf("=") <= 0) {
            throw new UsageError(`--config ${value}: expected KEY=VALUE`);
        }
    }
    return values ?? [];
}

/**
 * Where a CLI's main writes: the process's stdout and stderr when run as a command, strings a caller collects
 * when it runs the CLI in its own process (a test): the CLIs' `main(argv, io)` return their exit code and
 * never exit the process.
 */
export interface CliOutput {
    stdout: { write(text: string): unknown };
    stderr: { write(text: string): unknown };
}

/** The process's own stdout and stderr. */
export const PROCESS_OUTPUT: CliOutput = {
    stdout: { write: (text: string) => process.stdout.write(text) },
    stderr: { write: (text: string) => process.stderr.write(text) },
};

/** A failed plan (the program's own error, with the stack) or any other failure: one message, exit 2. */
export function reportFailure(err: unknown, stderr: CliOutput["stderr"] = PROCESS_OUTPUT.stderr): number {
    if (err instanceof PlanError) {
        stderr.write(`plan of stack ${err.stack} failed:\n${err.message}\n`);
    } else {
        stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    }
    return EXIT_USAGE_OR_PLAN_FAILURE;
}
