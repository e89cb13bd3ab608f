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
 *
 * Exit 1 when any mandatory violation is found, 2 on a usage or planning error, 0 otherwise.
 */
import * as path from "path";
import { checkStacks, mandatoryCount, PackConfig } from "./core";
import { formatCheck, toJson } from "./format";
import { readPackConfig } from "./policy-harness";
import { PlanError } from "../plan/runner";
import { REPORT_FORMATS, ReportFormat, writeReport } from "../report/report";

interface CheckArgs {
    stacks: string[];
    json: boolean;
    preview: boolean;
    programDir?: string;
    config?: PackConfig;
    stackTags: Record<string, string>;
    // Readable reports (issue 7): --format text|json|markdown|html, --out FILE.
    format?: ReportFormat;
    out?: string;
}

const USAGE = "usage: npm run check -- [--stack NAME]... [--json] [--program DIR] [--policy-config FILE] [--preview] [--stack-tag KEY=VALUE]... [--format text|json|markdown|html] [--out FILE]";

export function parseArgs(argv: string[]): CheckArgs {
    const args: CheckArgs = { stacks: [], json: false, preview: false, stackTags: {} };
    const value = (i: number, flag: string) => {
        const v = argv[i];
        if (v === undefined || v.startsWith("--")) {
            throw new Error(`${flag} needs a value; ${USAGE}`);
        }
        return v;
    };
    for (let i = 0; i < argv.length; i++) {
        const [flag, inline] = argv[i].includes("=") && argv[i].startsWith("--") ? [argv[i].slice(0, argv[i].indexOf("=")), argv[i].slice(argv[i].indexOf("=") + 1)] : [argv[i], undefined];
        const next = () => inline ?? value(++i, flag);
        switch (flag) {
            case "--stack":
            case "-s":
                args.stacks.push(next());
                break;
            case "--json":
                args.json = true;
                break;
            case "--preview":
                args.preview = true;
                break;
            case "--program":
                args.programDir = path.resolve(next());
                break;
            case "--policy-config":
            case "--policy-pack-config":
                args.config = readPackConfig(next());
                break;
            case "--stack-tag": {
                const tag = next();
                const eq = tag.indexOf("=");
                if (eq <= 0) {
                    throw new Error(`--stack-tag ${tag}: expected KEY=VALUE`);
                }
                args.stackTags[tag.slice(0, eq)] = tag.slice(eq + 1);
                break;
            }
            // Readable reports (issue 7).
            case "--format": {
                const format = next() as ReportFormat;
                if (!REPORT_FORMATS.includes(format)) {
                    throw new Error(`--format ${format}: expected one of ${REPORT_FORMATS.join(", ")}`);
                }
                args.format = format;
                args.json = format === "json";
                break;
            }
            case "--out":
                args.out = next();
                break;
            default:
                throw new Error(`unknown argument ${argv[i]}; ${USAGE}`);
        }
    }
    if (args.format === "html" && !args.out) {
        throw new Error(`--format html needs --out FILE; ${USAGE}`);
    }
    if (args.out && args.format !== "html" && args.format !== "markdown") {
        throw new Error(`--out is for --format html or markdown; ${USAGE}`);
    }
    return args;
}

async function main(): Promise<number> {
    let args: CheckArgs;
    try {
        args = parseArgs(process.argv.slice(2));
    } catch (err) {
        console.error((err as Error).message);
        return 2;
    }
    try {
        // Readable reports (issue 7): plan once, render, same exit code as the text output.
        if (args.format === "markdown" || args.format === "html") {
            const report = await writeReport(args.format, { programDir: args.programDir, stacks: args.stacks, config: args.config, preview: args.preview, stackTags: args.stackTags }, args.out);
            if (args.out) {
                console.log(`wrote ${args.out} (${report.checks.length} stack${report.checks.length === 1 ? "" : "s"}, ${mandatoryCount(report.checks)} mandatory violations)`);
            } else {
                process.stdout.write(report.text);
            }
            return mandatoryCount(report.checks) > 0 ? 1 : 0;
        }
        const checks = await checkStacks({ programDir: args.programDir, stacks: args.stacks, config: args.config, preview: args.preview, stackTags: args.stackTags });
        if (args.json) {
            const json = checks.map(toJson);
            console.log(JSON.stringify(json.length === 1 ? json[0] : json, null, 2));
        } else {
            console.log(checks.map(formatCheck).join("\n\n"));
            for (const check of checks) {
                for (const row of check.retention.filter((r) => r.status === "waived")) {
                    console.log(`note: ${check.stack}: retention row "${row.dataType}" is waived by policy config: ${row.waiver}`);
                }
            }
        }
        return mandatoryCount(checks) > 0 ? 1 : 0;
    } catch (err) {
        if (err instanceof PlanError) {
            console.error(`plan of stack ${err.stack} failed:\n${err.message}`);
            return 2;
        }
        console.error((err as Error).message);
        return 2;
    }
}

if (require.main === module) {
    void main().then((code) => {
        process.exitCode = code;
    });
}
