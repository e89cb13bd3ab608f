/**
 * The TypeScript loader of the CLIs, the planning child, the benchmarks and the tests:
 * `node --require ./packages/offline-plan/register.cjs FILE.ts` (the npm scripts and .mocharc.js do this).
 *
 * Only .ts files are compiled, by esbuild with the tsconfig.json nearest to each file (as tsx does); every
 * .js module, the SDK's and the providers' included, is loaded by Node untouched. Why not tsx itself: its
 * require hook runs es-module-lexer over every .js file it loads, to find ES modules among them, and routes
 * resolution through its ESM hooks' worker. Loading @pulumi/pulumi took 2.3 s of CPU under tsx and 1.0 s
 * without (node 20, 2026-12-02), and every plan, check and test process paid it. Node 20.19+ itself loads
 * an ES-module-only package (oidc-provider) with require().
 *
 * A compile is a synchronous round trip to esbuild's service (about 5 ms a file), so compiled files are
 * kept, as tsx keeps them, in a cache directory of the user's alone under the system temp dir
 * (src/private-cache-dir.cjs: one another user made or can write is not used), keyed by the
 * file's path, its text, the nearest tsconfig.json's text, esbuild's version and the options below.
 *
 * The source map (inline, its source named relative to the file itself) is on, so that a checked program's error names its .ts file:line
 * (packages/offline-plan/src/program-errors.ts); packages/offline-plan/src/no-dependency-source-maps.ts keeps them off for node_modules.
 */
"use strict";
const crypto = require("crypto");
const fs = require("fs");
const Module = require("module");
const path = require("path");
/**
 * esbuild's JavaScript API (its main.js, which loads worker_threads, tty and more) is needed only for a compile
 * the cache does not hold: in a process whose .ts files are all cached (every plan, check and planning child
 * after the first) it is never loaded. Its version, in every cache key, is read from its package.json.
 */
let esbuildApi;
const esbuildOnce = () => (esbuildApi ??= require("esbuild"));
const ESBUILD_VERSION = require("esbuild/package.json").version;
const { privateCacheDir } = require("./src/private-cache-dir.cjs");
const { checkReservedNames } = require("./src/reserved-names.cjs");

const OPTIONS = {
    bundle: false,
    write: false,
    format: "cjs",
    platform: "node",
    target: `node${process.versions.node}`,
    // import() becomes require(), as tsc compiles it for "module": "commonjs" (and as ts-node runs a program
    // under the Pulumi CLI): `await import("./handlers/x")` names a .ts file without its extension.
    supported: { "dynamic-import": false },
    sourcemap: "inline",
    keepNames: true,
    logLevel: "silent",
};
/** The cache directory (undefined: none of ours), looked up on the first compile. */
let cacheDir;
const cacheDirOnce = () => (cacheDir ??= { dir: privateCacheDir("offline-plan-ts") }).dir;
const CACHE_SALT = JSON.stringify([ESBUILD_VERSION, OPTIONS, 2]);

/** Per directory, the nearest tsconfig.json's text: looked up once per process, not once per module load. */
const tsconfigTexts = new Map();

/**
 * The text of the tsconfig.json esbuild uses for files in `dir` (the nearest one at or above it), or "" when
 * none. Only that file's text is in the cache key: a change to a tsconfig it `extends` is not seen until the
 * nearest one changes too (or the cache directory is removed).
 */
function nearestTsconfigText(dir) {
    let text = tsconfigTexts.get(dir);
    if (text === undefined) {
        try {
            text = fs.readFileSync(path.join(dir, "tsconfig.json"), "utf8");
        } catch {
            text = path.dirname(dir) === dir ? "" : nearestTsconfigText(path.dirname(dir));
        }
        tsconfigTexts.set(dir, text);
    }
    return text;
}

function cachedOutput(key) {
    const dir = cacheDirOnce();
    if (dir === undefined) {
        return undefined;
    }
    try {
        return fs.readFileSync(path.join(dir, `${key}.js`), "utf8");
    } catch {
        return undefined;
    }
}

/** Written under a unique name, then renamed: processes running side by side never read half a file. */
function storeOutput(key, code) {
    const dir = cacheDirOnce();
    if (dir === undefined) {
        return;
    }
    try {
        const partial = path.join(dir, `${key}.${process.pid}.${crypto.randomBytes(4).toString("hex")}.tmp`);
        fs.writeFileSync(partial, code);
        fs.renameSync(partial, path.join(dir, `${key}.js`));
    } catch {
        // A cache that cannot be written (read-only temp dir) only costs the next process a compile.
    }
}

/**
 * Per file, the text compiled last in this process and its output. The planner reloads a program's modules for
 * every stack (program-entry.ts forgetProgramModules): a module whose text is unchanged is served from here, not
 * checked for reserved names, hashed and read from the cache directory again. The output depends on nothing else
 * that can change within a process (the tsconfig text is read once per process, esbuild's version and the
 * options are fixed).
 */
const compiledInProcess = new Map();

function compiled(filename) {
    const source = fs.readFileSync(filename, "utf8");
    const known = compiledInProcess.get(filename);
    if (known !== undefined && known.source === source) {
        return known.code;
    }
    const code = compiledAfresh(filename, source);
    compiledInProcess.set(filename, { source, code });
    return code;
}

function compiledAfresh(filename, source) {
    // esbuild would rename a top-level `const exports` and run what ts-node refuses (src/reserved-names.cjs).
    checkReservedNames(filename, source);
    const key = crypto.createHash("sha256").update(CACHE_SALT).update("\0").update(filename).update("\0").update(source).update("\0").update(nearestTsconfigText(path.dirname(filename))).digest("hex");
    const hit = cachedOutput(key);
    if (hit !== undefined) {
        return hit;
    }
    // build (not transform) so that esbuild itself reads the nearest tsconfig.json, extends and all.
    const code = esbuildOnce().buildSync({ ...OPTIONS, entryPoints: [filename], absWorkingDir: path.dirname(filename) }).outputFiles[0].text;
    storeOutput(key, code);
    return code;
}

function compileTypeScript(module, filename) {
    module._compile(compiled(filename), filename);
}

/** Per directory, whether the nearest package.json says "type": "module" (an ES-module program). */
const modulePackages = new Map();

function inModulePackage(dir) {
    let answer = modulePackages.get(dir);
    if (answer === undefined) {
        try {
            answer = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8")).type === "module";
        } catch (err) {
            answer = err.code === "ENOENT" && path.dirname(dir) !== dir ? inModulePackage(path.dirname(dir)) : false;
        }
        modulePackages.set(dir, answer);
    }
    return answer;
}

/**
 * In an ES-module TypeScript program, `import "./acl.js"` names acl.ts, as TypeScript resolves it and as
 * ts-node's ESM loader (the Pulumi CLI's, for "type": "module") loads it. Tried only when the .js file does not
 * exist, only from a .ts file, and only in such a package: a CommonJS program under ts-node fails on it, and
 * fails here too.
 */
function typeScriptTwin(request, parent) {
    if (!parent || typeof parent.filename !== "string" || !/\.c?ts$/.test(parent.filename)) {
        return undefined;
    }
    if (!/^\.\.?\//.test(request) || !/\.c?js$/.test(request) || !inModulePackage(path.dirname(parent.filename))) {
        return undefined;
    }
    return request.replace(/js$/, "ts");
}

if (!(Module._extensions[".ts"] && Module._extensions[".ts"].offlinePlanRegister)) {
    process.setSourceMapsEnabled(true);
    compileTypeScript.offlinePlanRegister = true;
    Module._extensions[".ts"] = compileTypeScript;
    Module._extensions[".cts"] = compileTypeScript;
    const resolveFilename = Module._resolveFilename;
    Module._resolveFilename = function (request, parent, ...rest) {
        try {
            return resolveFilename.call(this, request, parent, ...rest);
        } catch (err) {
            const twin = err && err.code === "MODULE_NOT_FOUND" ? typeScriptTwin(request, parent) : undefined;
            if (twin === undefined) {
                throw err;
            }
            return resolveFilename.call(this, twin, parent, ...rest);
        }
    };
}
