/**
 * Where a program starts, as the Pulumi language host finds it (Pulumi.yaml's `main`, package.json's
 * `exports`/`main`, the directory's index), the copy of the SDK it runs against (its own node_modules first),
 * and how its modules are forgotten between stacks so that each stack runs it afresh.
 */
import * as fs from "fs";
import * as path from "path";
import type * as PulumiSdk from "@pulumi/pulumi";
import { ProgramError } from "./program-errors";
import { packageOfFile } from "./sdk-versions";

/**
 * The program's own copy of the Pulumi SDK (its node_modules), or ours when it has none: mocks only work
 * when they are installed in the very copy that the program's resources register through.
 */
export function sdkFor(programDir: string): typeof PulumiSdk {
    const resolved = require.resolve("@pulumi/pulumi", { paths: [programDir, __dirname] });
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(resolved) as typeof PulumiSdk;
}

/** package.json's entry point, as the Pulumi language host reads it: `exports` ("." or a string), then `main`. */
interface PackageJson {
    main?: string;
    exports?: unknown;
    type?: string;
}

/** The program's package.json, if it has one. */
function packageJsonOf(programDir: string): PackageJson | undefined {
    const file = path.join(programDir, "package.json");
    return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, "utf8")) as PackageJson) : undefined;
}

function packageEntry(programDir: string): string | undefined {
    const pkg = packageJsonOf(programDir);
    if (!pkg) {
        return undefined;
    }
    const exported = typeof pkg.exports === "object" && pkg.exports !== null ? (pkg.exports as Record<string, unknown>)["."] : pkg.exports;
    if (typeof exported === "string") {
        return exported;
    }
    if (exported && typeof exported === "object") {
        const conditions = exported as Record<string, unknown>;
        const entry = conditions.default ?? conditions.require ?? conditions.import;
        if (typeof entry === "string") {
            return entry;
        }
    }
    return pkg.main;
}

/** The file to load: Pulumi.yaml's `main`, then package.json's, then the directory's index. */
export function programEntry(programDir: string, main: string | undefined): string {
    const fromPackage = main === undefined ? packageEntry(programDir) : undefined;
    let target = path.resolve(programDir, main ?? fromPackage ?? ".");
    if (fromPackage !== undefined && !fs.existsSync(target)) {
        // The language host's own fall-back (cmd/run/run.js resolveEntrypoint), with its warning: a TypeScript
        // program whose package.json says "main": "index.js" runs index.ts.
        process.stderr.write(`warning: Could not find entry point '${fromPackage}' specified in package.json; using '${programDir}' instead\n`);
        target = programDir;
    }
    const request = fs.existsSync(target) && fs.statSync(target).isDirectory() ? target + path.sep : target;
    try {
        return require.resolve(request);
    } catch {
        const from = main ? "Pulumi.yaml main" : packageEntry(programDir) ? "package.json main" : "the project directory";
        throw new ProgramError(`no program to run: ${path.relative(process.cwd(), request) || request} (from ${from}) does not exist`);
    }
}

/**
 * As the language host loads an ES-module program (package.json "type": "module", through import()): a default
 * export is the program, and a module with both a default export and named ones is an error. A CommonJS
 * program's exports are its outputs as they are.
 */
export function esModuleProgram(programDir: string, loaded: unknown): unknown {
    if (packageJsonOf(programDir)?.type !== "module" || !loaded || typeof loaded !== "object" || Object.getOwnPropertyDescriptor(loaded, "default") === undefined) {
        return loaded;
    }
    if (Object.keys(loaded).filter((key) => key !== "default").length > 0) {
        throw new ProgramError("expected entrypoint module to have either a default export or named exports but not both");
    }
    return (loaded as { default: unknown }).default;
}


const PLANNER = path.resolve(__dirname, "..");
/** The planner's own package code (not the programs its own tests plan, under test/). */
const plannerCode = (file: string) => file.startsWith(PLANNER + path.sep) && !file.startsWith(path.join(PLANNER, "test") + path.sep);
const inNodeModules = (file: string) => file.includes(`${path.sep}node_modules${path.sep}`);

/**
 * Modules outside any node_modules that were first loaded while a program ran, wherever they are: a monorepo's
 * shared code beside the program's directory (`import { tags } from "../shared/tags"`). They are the program's
 * code as much as its own files are: a module-level `pulumi.getStack()` or resource in them must run per stack.
 */
const loadedByPrograms = new Set<string>();

/** A run's view of which files are the program's code: made when the run starts (the require cache's keys then). */
export interface ProgramFiles {
    /** The program's own files, and any file outside node_modules (not the planner's) loaded since the run began. */
    has(file: string): boolean;
    /** After the run: what it loaded outside node_modules is forgotten before the next stack (forgetProgramModules). */
    remember(): void;
}

export function programFilesOf(programDir: string): ProgramFiles {
    const before = new Set(Object.keys(require.cache));
    return {
        has: (file) => !inNodeModules(file) && !plannerCode(file) && (file.startsWith(programDir + path.sep) || !before.has(file)),
        remember: () => {
            for (const file of Object.keys(require.cache)) {
                if (!before.has(file) && !inNodeModules(file) && !plannerCode(file)) {
                    loadedByPrograms.add(file);
                }
            }
        },
    };
}

/**
 * Drops the program's modules (its directory, not node_modules, not this planner; and what an earlier run
 * loaded outside node_modules, programFilesOf) from the require cache, so that the next stack runs the
 * program from the start, as a new `pulumi preview` would. The planner is its package's code (a program may hold
 * the package in its own tree, under packages/ for example), not the programs its own tests plan (test/fixtures):
 * those are reloaded like any program's.
 */
export function forgetProgramModules(programDir: string): void {
    for (const file of Object.keys(require.cache)) {
        const programCode = (loadedByPrograms.has(file) || file.startsWith(programDir + path.sep)) && !inNodeModules(file) && !plannerCode(file);
        if (programCode || keepsStackState(file)) {
            delete require.cache[file];
        }
    }
}

/**
 * Dependencies that keep what one stack built in module-level variables and hand it to the next caller, so that
 * the next stack planned in this process (or a preview after its full plan) would get the first's objects
 * without registering anything: awsx classic caches the default VPC per provider (`Vpc.getDefault`), the
 * default ECS cluster (`Cluster.getDefault`) and the availability zones (h40 trial, pulumi/examples
 * aws-ts-airflow). They load again for each stack, as under a new `pulumi preview`; every other dependency
 * (the SDK, the providers' generated SDKs: no such state, and the costliest to load) loads once per process. An
 * ES-module program's imports of them are made per run too (esm-program-hooks.mjs, given this list).
 */
export const STACK_STATE_PACKAGES: readonly string[] = ["@pulumi/awsx"];

/** Whether a file belongs to one of STACK_STATE_PACKAGES (its nearest node_modules' package, not one nested in it). */
function keepsStackState(file: string): boolean {
    const name = packageOfFile(file)?.name;
    return name !== undefined && STACK_STATE_PACKAGES.includes(name);
}
