/**
 * A program's failure as its author needs to read it: the program's own error message and the file:line of
 * the program that raised it (register.cjs turns source maps on, so Node maps stack frames back to the TypeScript source), never the SDK's
 * "N promises were still active". A missing package is one line naming it.
 */
import * as fs from "fs";
import * as path from "path";

export class ProgramError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "ProgramError";
    }
}

/** "(/abs/dir/index.ts:12:7)" or "at /abs/dir/index.ts:12:7" → { file, line, column }. */
function frames(stack: string): Array<{ file: string; line: number; column: number }> {
    const found: Array<{ file: string; line: number; column: number }> = [];
    for (const match of stack.matchAll(/(?:\(|at )((?:file:\/\/)?\/[^():]+):(\d+):(\d+)\)?$/gm)) {
        // An ES-module program's file is a URL, with the run's query (src/esm-program.ts): the file is its path.
        found.push({ file: match[1].replace(/^file:\/\//, "").replace(/\?offline-plan-run=\d+$/, ""), line: Number(match[2]), column: Number(match[3]) });
    }
    return found;
}

/** The first frame in the program's own files (not its node_modules), relative to its directory. */
export function programLocation(error: Error, programDir: string): string | undefined {
    const inProgram = frames(error.stack ?? "").find((f) => f.file.startsWith(programDir + path.sep) && !f.file.includes(`${path.sep}node_modules${path.sep}`));
    return inProgram ? `${path.relative(programDir, inProgram.file)}:${inProgram.line}:${inProgram.column}` : undefined;
}

/** The version of `pkg` the program would load (its own node_modules first, then this tool's), if installed. */
function installedVersion(pkg: string, programDir: string): string | undefined {
    try {
        const file = require.resolve(`${pkg}/package.json`, { paths: [programDir, __dirname] });
        return (JSON.parse(fs.readFileSync(file, "utf8")) as { version?: string }).version ?? "unknown";
    } catch {
        return undefined;
    }
}

/** `Cannot find module '@pulumi/aws/opsworks'` from the program (not a relative file): what it asked for. */
function missingSpecifier(error: Error): string | undefined {
    if ((error as NodeJS.ErrnoException).code !== "MODULE_NOT_FOUND" && (error as NodeJS.ErrnoException).code !== "ERR_MODULE_NOT_FOUND") {
        return undefined;
    }
    const specifier = /Cannot find (?:module|package) '([^']+)'/.exec(error.message)?.[1];
    return !specifier || specifier.startsWith(".") || path.isAbsolute(specifier) ? undefined : specifier;
}

/** The package a bare specifier names: `@scope/name` or `name`, without a module path inside it. */
function packageOf(specifier: string): string {
    const parts = specifier.split("/");
    return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0];
}

/** esbuild's refusal to compile a module with a top-level await to CommonJS: "index.ts:5:17: ERROR: Top-level await ...". */
const TOP_LEVEL_AWAIT = /^(\S+:\d+:\d+): ERROR: Top-level await is currently not supported with the "cjs" output format/m;

/** Node's codes for a host that cannot be found or reached: what a program that calls out gets with no network. */
const NETWORK_CODES = new Set(["ENOTFOUND", "EAI_AGAIN", "ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "ENETUNREACH", "EHOSTUNREACH", "UND_ERR_CONNECT_TIMEOUT"]);
const NETWORK_ADVICE = "the program reached for the network while it was planned; a plan runs offline, so give it that value through config (-c KEY=VALUE) or --stack-outputs instead";

/** The error itself or its cause (fetch's "fetch failed" holds the DNS error as `cause`) when a host could not be reached. */
function networkFailure(error: Error): Error | undefined {
    for (let e: unknown = error, depth = 0; e instanceof Error && depth < 4; e = (e as Error & { cause?: unknown }).cause, depth++) {
        if (NETWORK_CODES.has(String((e as NodeJS.ErrnoException).code))) {
            return e;
        }
    }
    return undefined;
}

/** One message per failure of the program, deduplicated (one rejection can reach several awaiters). */
export function describeFailures(failures: unknown[], programDir: string): string {
    const seen = new Set<unknown>();
    const lines: string[] = [];
    for (const failure of failures) {
        if (seen.has(failure)) {
            continue;
        }
        seen.add(failure);
        const line = describeFailure(failure, programDir);
        if (!lines.includes(line)) {
            lines.push(line);
        }
    }
    return lines.join("\n");
}

export function describeFailure(failure: unknown, programDir: string): string {
    if (!(failure instanceof Error)) {
        return `the program failed: ${String(failure)}`;
    }
    if (failure instanceof ProgramError) {
        // The planner's own finding about the program (registrations left pending): its stack is the planner's, not the program's.
        return failure.message;
    }
    const specifier = missingSpecifier(failure);
    const pkg = specifier === undefined ? undefined : packageOf(specifier);
    const version = pkg ? installedVersion(pkg, programDir) : undefined;
    if (pkg && version !== undefined && specifier !== pkg) {
        // The package is there; the module inside it is not (a service module a later major version dropped).
        return `the program imports ${specifier}, which ${pkg} ${version} (installed) does not have: the program may be written for another version of ${pkg}`;
    }
    if (pkg) {
        return `the program needs the package ${pkg}, which is not installed (looked in ${path.join(programDir, "node_modules")} and this tool's node_modules): npm install ${pkg}`;
    }
    const topLevelAwait = TOP_LEVEL_AWAIT.exec(failure.message);
    if (topLevelAwait) {
        // esbuild's compile of an ES-module program to CommonJS (register.cjs), not the program's own error.
        return `${topLevelAwait[1]}: top-level await: this planner runs a program's TypeScript as CommonJS, which cannot hold a top-level await (pulumi preview loads an ES-module program with import(), where it can); to plan it offline, move the awaits into \`export default async () => { ... }\` (what it returns are the stack's outputs)`;
    }
    const reservedIn = (failure as Error & { code?: string; file?: string }).file;
    if ((failure as NodeJS.ErrnoException).code === "OFFLINE_PLAN_RESERVED_NAME" && reservedIn && failure.message.startsWith(reservedIn)) {
        // register.cjs's refusal (src/reserved-names.cjs): its message starts with the file's absolute path.
        return path.relative(programDir, reservedIn) + failure.message.slice(reservedIn.length);
    }
    const where = programLocation(failure, programDir);
    // The SDK wraps an error thrown inside an apply once per level of the resource input it reached
    // (`error serializing property "spec": error serializing property "data": ...`): only the program's message is news.
    const message = failure.message.replace(/^(?:error serializing property "[^"]*": )+/, "");
    const network = networkFailure(failure);
    const what = `${failure.name && failure.name !== "Error" ? `${failure.name}: ` : ""}${message}${network ? `${network.message === message ? "" : ` (${network.message})`}: ${NETWORK_ADVICE}` : ""}`;
    if (where) {
        return `${where}: ${what}`;
    }
    // Raised outside the program's files (a library it calls): say where, on a line of its own.
    const first = frames(failure.stack ?? "")[0];
    return first ? `${what}\n    at ${first.file}:${first.line}` : what;
}
