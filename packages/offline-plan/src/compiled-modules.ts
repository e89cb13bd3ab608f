/**
 * Imported first by the CLIs and the planning child (with no-dependency-source-maps.ts and
 * lazy-closure-modules.ts): each CommonJS module is compiled once per process, and every module (the SDK's,
 * the providers', the planner's and the program's) compiles from a V8 code cache kept on disk.
 *
 * Two costs of an offline plan that are not the program's own work (bench/README.md section 1):
 * - The program's modules are reloaded for every stack (program-entry.ts forgetProgramModules), and Node
 *   compiled each of them again, and registered its inline source map again, on every load: for a seven-stack
 *   check about 170 ms. Here a program module whose compiled text is unchanged runs its already compiled
 *   function again: its body runs afresh (new exports, new closures, new module object), as before; only the
 *   compile is saved. Its source map is registered once per process.
 * - Loading @pulumi/pulumi and the provider modules compiles a few megabytes of JavaScript, then compiles
 *   lazily every function the plan calls. Node 20 has no compile cache of its own (`module.enableCompileCache`
 *   came in Node 22), so this keeps one: V8 code cache data (`vm.Script#createCachedData`), made at the end of
 *   a process, after the plan ran, so that it holds the functions compiled lazily too. One file per entry
 *   script (plan, check, the planning child), under the system temp dir, named by the Node and V8 versions,
 *   architecture and node flags; each module's entry keyed by its path and a hash of the exact text compiled
 *   (wrapper included), so that a changed module is compiled afresh (V8 itself checks only the text's length).
 *   V8 rejects data made by another V8 or with other flags (`cachedDataRejected`): such a module is compiled
 *   as without a cache, and the file is written anew at the end. A source map file is keyed by the module's
 *   path and its map: every checkout of a file has the same inline map, but the file holds absolute sources.
 *   A cache entry never changes behaviour: one that does not match is not used. Every file is written under a
 *   temporary name and renamed (processes and worktrees share the directory). The directory is read only when
 *   it is the user's own (mode 0700).
 *
 * A program's (or the planner's) module still goes through Node's own `Module.prototype._compile` (its
 * `require`, the module's state, the main module, policy), on a one-line stub that calls the function compiled
 * here; a dependency's module, loaded once, runs with a `require` made as Node makes it (requireFor). A module
 * that is not CommonJS (an ES module loaded with require(), a .js file with ES syntax), or that V8 does not
 * compile as a function body, is left to Node. `OFFLINE_PLAN_COMPILE_CACHE=0` turns all of it off (for A/B
 * measurements); so does coverage (NODE_V8_COVERAGE).
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { pathToFileURL } from "url";
import * as vm from "vm";

interface CompilingModule {
    _compile(content: string, filename: string, format?: string): unknown;
}

type ModuleFunction = (...args: unknown[]) => unknown;

interface ModuleClass {
    new (id: string, parent?: unknown): CompilingModule & { filename: string; paths: string[] };
    prototype: CompilingModule;
    _resolveFilename(request: string, parent: unknown, isMain: boolean, options?: unknown): string;
    _resolveLookupPaths(request: string, parent: unknown): string[] | null;
    _extensions: unknown;
    _cache: unknown;
}

interface LoadingModule {
    exports: unknown;
    require(id: string): unknown;
}

/** Node's policy manifest checks each module in its _compile: with one, every module goes through it. */
const direct = ![...process.execArgv, ...(process.env.NODE_OPTIONS ?? "").split(/\s+/)].some((arg) => arg.startsWith("--experimental-policy"));

const NODE_MODULES = `${path.sep}node_modules${path.sep}`;
/** Node's CommonJS wrapper (Module.wrap), its head on a line of its own. */
const WRAPPER_HEAD = "(function (exports, require, module, __filename, __dirname) {";
const WRAPPER_TAIL = "});";
/** The wrapper's head left out of the positions: the module's own lines and columns. */
const LINE_OFFSET = -1;
/** In the name of every code cache file: bumped when what an entry's key stands for changes (wrapper, offsets, layout). */
const CODE_FORMAT = 2;
/** What the stub calls: the function compiled here for the module being compiled, handed over just before. */
const RUN = Symbol.for("offline-plan.compiled-modules.run");
const STUB = `return globalThis[Symbol.for("offline-plan.compiled-modules.run")](this, arguments);`;
/** import() inside a module compiled here resolves as in any CommonJS module (Node 20.12 and later). */
const DEFAULT_IMPORT = (vm as unknown as { constants?: { USE_MAIN_CONTEXT_DEFAULT_LOADER?: symbol } }).constants?.USE_MAIN_CONTEXT_DEFAULT_LOADER;
/**
 * Entries of other runs (modules this process did not load: another program, an edited module's old text) are
 * kept while the file stays within this, or twice what this process used, whichever is more: every start reads
 * the whole file.
 */
const OTHERS_BOUND_BYTES = 16 * 1024 * 1024;

/** A program module compiled in this process: its text and its function; the holder keeps its source map registered. */
interface Compiled {
    content: string;
    fn: ModuleFunction;
    holder?: unknown;
}

/** The on-disk code cache of this entry script: entries by key, and what this process adds to it. */
interface CodeCache {
    file: string;
    /** Each entry's key and its bytes in `data`. */
    entries: Map<string, Buffer>;
    /** The keys this process compiled from the cache. */
    used: Set<string>;
    /** Scripts compiled without usable data: their data is made at exit. */
    fresh: Map<string, vm.Script>;
}

/** The file's layout: a 4-byte length, a JSON index [key, offset, length][], then the data. */
function readCache(file: string): Map<string, Buffer> {
    const entries = new Map<string, Buffer>();
    let bytes: Buffer;
    try {
        bytes = fs.readFileSync(file);
    } catch {
        return entries;
    }
    try {
        const indexLength = bytes.readUInt32LE(0);
        const index = JSON.parse(bytes.subarray(4, 4 + indexLength).toString("utf8")) as Array<[string, number, number]>;
        const base = 4 + indexLength;
        for (const [key, offset, length] of index) {
            if (base + offset + length <= bytes.length) {
                entries.set(key, bytes.subarray(base + offset, base + offset + length));
            }
        }
    } catch {
        // A damaged file is a cold cache: it is written anew at exit.
        entries.clear();
    }
    return entries;
}

/** A partly written file of ours removed, if it is there. */
function removeQuietly(file: string): void {
    try {
        fs.rmSync(file, { force: true });
    } catch {
        // Left behind: never read (no entry or map is named *.tmp).
    }
}

/** Written under a unique name, then renamed: processes running side by side never read half a file. */
function writeCache(cache: CodeCache): void {
    const keep = new Map<string, Buffer>();
    for (const [key, script] of cache.fresh) {
        keep.set(key, script.createCachedData());
    }
    for (const key of cache.used) {
        keep.set(key, cache.entries.get(key)!);
    }
    let size = [...keep.values()].reduce((sum, data) => sum + data.length, 0);
    const bound = Math.max(OTHERS_BOUND_BYTES, 2 * size);
    for (const [key, data] of cache.entries) {
        if (!keep.has(key) && size + data.length <= bound) {
            keep.set(key, data);
            size += data.length;
        }
    }
    const index: Array<[string, number, number]> = [];
    let offset = 0;
    for (const [key, data] of keep) {
        index.push([key, offset, data.length]);
        offset += data.length;
    }
    const indexBytes = Buffer.from(JSON.stringify(index), "utf8");
    const length = Buffer.alloc(4);
    length.writeUInt32LE(indexBytes.length, 0);
    const partial = `${cache.file}.${process.pid}.${crypto.randomBytes(4).toString("hex")}.tmp`;
    try {
        fs.mkdirSync(path.dirname(cache.file), { recursive: true, mode: 0o700 });
        fs.writeFileSync(partial, Buffer.concat([length, indexBytes, ...keep.values()]), { mode: 0o600 });
        fs.renameSync(partial, cache.file);
    } catch {
        // A cache that cannot be written (read-only temp dir, a full disk) only costs the next process its compiles.
        removeQuietly(partial);
    }
}

// The package's one rule for its caches' directory (a .cjs file: register.cjs needs it before any TypeScript loads).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { privateCacheDir } = require("./private-cache-dir.cjs") as { privateCacheDir(name: string): string | undefined };

let cacheDirLookup: { dir: string | undefined } | undefined;
/**
 * Where the code cache files and the source maps live, looked up once: a directory of this user's alone under
 * the system temp dir, or undefined (code cache data is compiled code: a directory another user made first
 * must not feed it to this process).
 */
function ownCacheDir(): string | undefined {
    return (cacheDirLookup ??= { dir: privateCacheDir("offline-plan-v8") }).dir;
}

/** Node's options, without the script of `node -e`/`-p` (a process's code, not a flag: not in the file's name). */
function nodeFlags(execArgv: string[]): string[] {
    const flags: string[] = [];
    for (let i = 0; i < execArgv.length; i++) {
        if (["-e", "--eval", "-p", "--print", "-pe"].includes(execArgv[i])) {
            i += 1;
        } else if (!/^--(eval|print)=/.test(execArgv[i])) {
            flags.push(execArgv[i]);
        }
    }
    return flags;
}

function openCache(): CodeCache {
    const entry = process.argv[1] ?? "[eval]";
    // The node flags too: V8 rejects data made under other V8 flags (cachedDataRejected), and processes run with
    // different flags would otherwise each find the other's data rejected and write the file anew.
    const flags = [nodeFlags(process.execArgv), process.env.NODE_OPTIONS ?? ""];
    const name = crypto.createHash("sha256").update(JSON.stringify([process.version, process.arch, process.versions.v8, flags, entry, CODE_FORMAT])).digest("hex").slice(0, 32);
    const dir = ownCacheDir();
    const usable = dir !== undefined;
    const file = path.join(dir ?? "", `${name}.bin`);
    const cache: CodeCache = { file, entries: usable ? readCache(file) : new Map(), used: new Set(), fresh: new Map() };
    process.once("exit", () => {
        if (usable && cache.fresh.size > 0) {
            writeCache(cache);
        }
    });
    return cache;
}

/** The source map comment of a compiled program module (register.cjs writes them inline), as a line of its own. */
function sourceMapComment(content: string): string | undefined {
    const at = content.lastIndexOf("//# sourceMappingURL=");
    if (at < 0) {
        return undefined;
    }
    const end = content.indexOf("\n", at);
    return end < 0 ? content.slice(at) : content.slice(at, end);
}

const DATA_URL = "data:application/json;base64,";
/** In the key of every map file: a map file written by an older layout is never read. */
const MAP_FORMAT = "map-2";

/** SHA-1 of a text: crypto.hash (Node 20.12 and later, one call, no Hash object), else createHash. */
const oneShot = (crypto as unknown as { hash?: (algorithm: string, data: string, encoding: string) => string }).hash;
function sha1(text: string, encoding: "hex" | "base64"): string {
    return oneShot ? oneShot("sha1", text, encoding) : crypto.createHash("sha1").update(text).digest(encoding);
}
/**
 * The comment to register a module's inline source map with, pointing to the same map in a file of the cache
 * directory (written once per map), so that V8 and Node do not scan, copy and decode a data URL of a hundred
 * kilobytes for every module of every process. The map's sources are made absolute as Node makes them for an
 * inline map (source_map_cache.js sourcesToAbsolute, against the module's own URL), so that stack traces
 * name the same files. The file is named relative to the module: Node reads no other kind of URL but data:.
 * The inline comment itself when the map is not a base64 data URL or the file cannot be written.
 */
function sourceMapFileComment(comment: string, filename: string): string {
    const url = comment.slice("//# sourceMappingURL=".length).trim();
    if (!url.startsWith(DATA_URL)) {
        return comment;
    }
    // Keyed by the module's path as well as the map: the file holds sources made absolute against that path, and
    // the same map (its sources named relative to the module) comes from every checkout of the same file.
    const dir = ownCacheDir();
    if (dir === undefined) {
        return comment;
    }
    const file = path.join(dir, "maps", `${sha1(`${MAP_FORMAT}\0${filename}\0${url}`, "hex")}.map`);
    let partial: string | undefined;
    try {
        if (!fs.existsSync(file)) {
            const map = JSON.parse(Buffer.from(url.slice(DATA_URL.length), "base64").toString("utf8")) as { sources?: string[]; sourceRoot?: string };
            const base = pathToFileURL(filename);
            map.sources = (map.sources ?? []).map((source) => {
                const full = (map.sourceRoot ?? "") + source;
                return path.isAbsolute(full) ? pathToFileURL(full).href : new URL(full, base).href;
            });
            map.sourceRoot = "";
            fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
            partial = `${file}.${process.pid}.${crypto.randomBytes(4).toString("hex")}.tmp`;
            fs.writeFileSync(partial, JSON.stringify(map), { mode: 0o600 });
            fs.renameSync(partial, file);
        }
    } catch {
        if (partial !== undefined) {
            removeQuietly(partial);
        }
        return comment;
    }
    const relative = path.relative(path.dirname(filename), file).split(path.sep).map(encodeURIComponent).join("/");
    return `//# sourceMappingURL=${relative}`;
}

/** What this process compiled: from source, from the code cache, and how many loads ran a function compiled before. */
export const compiledModules = { compiled: 0, fromCache: 0, rerun: 0 };

// eslint-disable-next-line @typescript-eslint/no-require-imports
const Module = require("module") as ModuleClass;
const compile = Module.prototype._compile;

// Under coverage (NODE_V8_COVERAGE) Node reports each module's source map with its line lengths: left to Node.
if (process.env.OFFLINE_PLAN_COMPILE_CACHE !== "0" && !process.env.NODE_V8_COVERAGE && !(compile as { compilesOnce?: boolean }).compilesOnce && !(globalThis as Record<symbol, unknown>)[RUN]) {
    let handoff: ModuleFunction | undefined;
    // Named: it is a frame of every stack trace through a module's top level (after the module's own frame).
    const runCompiledModule = (self: unknown, args: unknown[]): unknown => {
        const fn = handoff!;
        handoff = undefined;
        return Reflect.apply(fn, self, args);
    };
    Object.defineProperty(globalThis, RUN, { value: runCompiledModule });
    const programModules = new Map<string, Compiled>();
    let codeCache: CodeCache | undefined;

    /**
     * Node registers a module's source map with the module object and forgets it once that object is collected;
     * the program's module objects are dropped between stacks. So the map is registered once, with a module
     * of our own that only holds it (compiled from the stub and the map comment, nothing else).
     */
    const sourceMapHolder = (content: string, filename: string): unknown => {
        const comment = sourceMapComment(content);
        if (comment === undefined) {
            return undefined;
        }
        const holder = new Module(filename);
        holder.filename = filename;
        holder.paths = [];
        handoff = () => undefined;
        compile.call(holder, `${STUB}\n${sourceMapFileComment(comment, filename)}`, filename);
        return holder;
    };

    /**
     * A module's function, compiled from the code cache when it holds this text. The wrapper's first line is
     * a line of its own, left out of the positions (lineOffset -1): V8 reports the module's own lines and
     * columns, as Node's compile does, so stack traces and source maps read the same.
     */
    const cachedCompile = (content: string, filename: string): ModuleFunction => {
        const cache = (codeCache ??= openCache());
        const source = `${WRAPPER_HEAD}\n${content}\n${WRAPPER_TAIL}`;
        // V8 checks data against the source's length only: the key is the exact text compiled (the wrapper
        // included), with its path; the line offset and the layout are in the file's name (CODE_FORMAT).
        const key = `${filename}\0${sha1(source, "base64")}`;
        // A script deserialized from code cache data made by another process has lost its import() callback (V8
        // 11.3, Node 20: ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING at the call): a module that calls import() is
        // compiled without the cache, and none is kept for it.
        const dynamicImport = content.includes("import(");
        const cachedData = dynamicImport ? undefined : cache.entries.get(key);
        const script = new vm.Script(source, {
            filename,
            lineOffset: LINE_OFFSET,
            ...(cachedData ? { cachedData } : {}),
            ...(DEFAULT_IMPORT ? { importModuleDynamically: DEFAULT_IMPORT } : {}),
        } as vm.ScriptOptions);
        if (cachedData && !script.cachedDataRejected) {
            cache.used.add(key);
            compiledModules.fromCache += 1;
        } else {
            if (!dynamicImport) {
                cache.fresh.set(key, script);
            }
            compiledModules.compiled += 1;
        }
        return script.runInThisContext({ displayErrors: true }) as ModuleFunction;
    };

    /**
     * The `require` Node gives a module (internal/modules/helpers.js makeRequireFunction, without a policy
     * manifest): for a dependency's module, run without Node's _compile and the stub, whose own compile cost a
     * few milliseconds per hundred modules. Under a policy manifest (--experimental-policy) every module takes
     * the stub, and Node's require.
     */
    const requireFor = (module: LoadingModule): NodeJS.Require => {
        const require = function require(id: string): unknown {
            return module.require(id);
        } as NodeJS.Require;
        const resolve = function resolve(request: string, options?: { paths?: string[] }): string {
            if (typeof request !== "string") {
                throw Object.assign(new TypeError(`The "request" argument must be of type string. Received ${typeof request}`), { code: "ERR_INVALID_ARG_TYPE" });
            }
            return Module._resolveFilename(request, module, false, options);
        } as NodeJS.RequireResolve;
        resolve.paths = function paths(request: string): string[] | null {
            if (typeof request !== "string") {
                throw Object.assign(new TypeError(`The "request" argument must be of type string. Received ${typeof request}`), { code: "ERR_INVALID_ARG_TYPE" });
            }
            return Module._resolveLookupPaths(request, module);
        };
        require.resolve = resolve;
        Object.defineProperty(require, "main", { value: process.mainModule, writable: true, enumerable: true, configurable: true });
        require.extensions = Module._extensions as NodeJS.Require["extensions"];
        require.cache = Module._cache as NodeJS.Require["cache"];
        return require;
    };

    /** A program module (outside node_modules, loaded again for each stack): compiled once per text, its body run again on each load. */
    const programFunction = (content: string, filename: string): ModuleFunction => {
        const known = programModules.get(filename);
        if (known && known.content === content) {
            compiledModules.rerun += 1;
            return known.fn;
        }
        const fn = cachedCompile(content, filename);
        programModules.set(filename, { content, fn, holder: sourceMapHolder(content, filename) });
        return fn;
    };

    const compilingOnce = function (this: CompilingModule, content: string, filename: string, format?: string): unknown {
        if ((format !== undefined && format !== "commonjs") || (!DEFAULT_IMPORT && content.includes("import("))) {
            return compile.call(this, content, filename, format);
        }
        let fn: ModuleFunction;
        try {
            fn = filename.includes(NODE_MODULES) ? cachedCompile(content, filename) : programFunction(content, filename);
        } catch {
            // Not a CommonJS function body (ES syntax in a .js file, a syntax error): Node compiles it, or reports it, as ever.
            return compile.call(this, content, filename, format);
        }
        if (direct && filename.includes(NODE_MODULES)) {
            // A dependency's module, loaded once: run with a require of its own, as Node's makes it (below).
            const module = this as unknown as LoadingModule;
            return Reflect.apply(fn, module.exports, [module.exports, requireFor(module), module, filename, path.dirname(filename)]);
        }
        handoff = fn;
        return compile.call(this, STUB, filename, format);
    };
    Object.assign(compilingOnce, { compilesOnce: true });
    Module.prototype._compile = compilingOnce;
}
