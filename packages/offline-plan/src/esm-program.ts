/**
 * An ES-module JavaScript program (`.mjs`, or `.js` under a package.json `"type": "module"`), loaded as the Pulumi
 * language host loads it: with `import()`, so that a top-level `await` works. `require()` of such a module (Node 20's
 * require(esm)) refused a top-level await with Node's own message, and the ESM loader keeps a module for the
 * process's life: the second stack planned in one process ran nothing (0 resources, the first stack's outputs).
 * Each run imports the entry under its own query (`?offline-plan-run=N`), which src/esm-program-hooks.mjs passes
 * on to the program's own files, so that each stack evaluates them afresh. TypeScript programs are compiled to
 * CommonJS (register.cjs) and are not concerned. Loaded only for such a program.
 */
import * as fs from "fs";
import * as path from "path";
import { pathToFileURL } from "url";
import { STACK_STATE_PACKAGES } from "./program-entry";

/** Whether Node loads `entry` as an ES module: `.mjs`, or `.js` whose nearest package.json says "type": "module". */
export function isEsModuleJs(entry: string): boolean {
    if (entry.endsWith(".mjs")) {
        return true;
    }
    if (!entry.endsWith(".js")) {
        return false;
    }
    for (let dir = path.dirname(entry); ; dir = path.dirname(dir)) {
        const manifest = path.join(dir, "package.json");
        if (fs.existsSync(manifest)) {
            try {
                return (JSON.parse(fs.readFileSync(manifest, "utf8")) as { type?: unknown }).type === "module";
            } catch {
                return false;
            }
        }
        if (path.dirname(dir) === dir) {
            return false;
        }
    }
}

let hooked = false;
let runs = 0;
// Kept out of esbuild's reach: register.cjs compiles a TypeScript `import()` to `require()`.
const dynamicImport = new Function("url", "return import(url)") as (url: string) => Promise<unknown>;

/**
 * The import, without Node's "vm.USE_MAIN_CONTEXT_DEFAULT_LOADER is an experimental feature" warning: this module
 * was compiled by the compile cache (compiled-modules.ts, vm with that loader), whose loader Node warns about on
 * the first import() it serves. The warning is about the planner's own compiling, not the program; Node emits it
 * synchronously in the call, once per process.
 */
function quietImport(url: string): Promise<unknown> {
    const emitWarning = process.emitWarning;
    process.emitWarning = function (this: NodeJS.Process, warning: string | Error, ...rest: unknown[]): void {
        if (!String(typeof warning === "string" ? warning : warning.message).startsWith("vm.USE_MAIN_CONTEXT_DEFAULT_LOADER")) {
            Reflect.apply(emitWarning, this, [warning, ...rest]);
        }
    } as typeof process.emitWarning;
    try {
        return dynamicImport(url);
    } finally {
        process.emitWarning = emitWarning;
    }
}

/** Imports the program's entry afresh (its own modules evaluated again; its dependencies once per process). */
export async function importEsModuleProgram(entry: string): Promise<unknown> {
    if (!hooked) {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const register = (require("module") as { register?: (specifier: string, parentURL: string, options?: { data: unknown }) => void }).register;
        if (typeof register !== "function") {
            // module.register came in Node 20.6: without it each stack would run the first stack's module.
            throw new Error(`${entry} is an ES-module JavaScript program: planning it needs Node 20.6 or later (module.register), this is Node ${process.versions.node}; upgrade Node, or write the program as CommonJS or TypeScript`);
        }
        register("./esm-program-hooks.mjs", pathToFileURL(__filename).href, { data: { stackStatePackages: STACK_STATE_PACKAGES } });
        hooked = true;
    }
    runs += 1;
    return quietImport(`${pathToFileURL(entry).href}?offline-plan-run=${runs}`);
}
