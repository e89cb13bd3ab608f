/**
 * YAML parsed once per text, across processes: `parseYaml(text)` is yaml's `parse(text)`, read back from a
 * cache of its JSON when the same text was parsed before.
 *
 * Every plan and every planning child parses Pulumi.yaml and the stack files afresh, with a parser whose code
 * is cold in a new process: in plan prod+dr, loading yaml (72 modules) and parsing four files of 25 kB took
 * about 25 ms of CPU (3% of the plan, h29-plan), for documents that are a few kilobytes of JSON. Here a text's
 * document is kept as JSON in a directory of this user's alone under the temp dir (private-cache-dir.cjs),
 * named by a SHA-256 of the text and yaml's version, and yaml itself is loaded only when a text is not there.
 *
 * A cached document reads exactly as the parser's: only a document the parser gave without an error or a
 * warning (those go through `parse` each time, which throws or warns as before), and only one that JSON
 * holds as it is (plain objects and arrays, strings, booleans, null, finite numbers other than -0, no object
 * reached twice through an alias) is kept; any other is parsed every time. A damaged or unreadable entry is
 * a miss. `OFFLINE_PLAN_YAML_CACHE=0` turns the cache off (for A/B measurements).
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import type * as Yaml from "yaml";

// The package's one rule for its caches' directory (a .cjs file: register.cjs needs it before any TypeScript loads).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { privateCacheDir } = require("./private-cache-dir.cjs") as { privateCacheDir(name: string): string | undefined };

/** In every entry's key: bumped when what an entry holds changes (2: merge keys merged). */
const FORMAT = 2;

/**
 * YAML merge keys (`<<: *defaults`) merged, as the Pulumi CLI's parser (go-yaml) merges them in a stack file;
 * yaml's YAML 1.2 default keeps `<<` as a key, so a stack file's merged values were planned as absent.
 */
const PARSE_OPTIONS = { merge: true } as const;

let yamlModule: typeof Yaml | undefined;
/** yaml, loaded on the first text the cache does not hold. */
export function yamlParser(): typeof Yaml {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return (yamlModule ??= require("yaml") as typeof Yaml);
}

let cacheDirLookup: { dir: string | undefined } | undefined;
function cacheDir(): string | undefined {
    if (process.env.OFFLINE_PLAN_YAML_CACHE === "0") {
        return undefined;
    }
    return (cacheDirLookup ??= { dir: privateCacheDir("offline-plan-yaml") }).dir;
}

let salt: string | undefined;
/** yaml's version, read from its package.json (not by loading yaml), and the format: in every key. */
function keySalt(): string {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return (salt ??= JSON.stringify([(require("yaml/package.json") as { version: string }).version, FORMAT]));
}

/** The entry's file for a text. */
export function yamlCacheFile(dir: string, text: string): string {
    return path.join(dir, `${crypto.createHash("sha256").update(keySalt()).update("\0").update(text).digest("hex")}.json`);
}

/** Whether JSON gives `value` back exactly as it is (no object or array reached twice). */
export function jsonExact(value: unknown, seen = new Set<object>()): boolean {
    if (value === null || typeof value === "string" || typeof value === "boolean") {
        return true;
    }
    if (typeof value === "number") {
        return Number.isFinite(value) && !Object.is(value, -0);
    }
    if (typeof value !== "object" || seen.has(value)) {
        return false;
    }
    seen.add(value);
    if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) {
            if (!(i in value) || !jsonExact(value[i], seen)) {
                return false;
            }
        }
        return Object.keys(value).length === value.length;
    }
    if (Object.getPrototypeOf(value) !== Object.prototype || Object.getOwnPropertySymbols(value).length > 0) {
        return false;
    }
    for (const key of Object.getOwnPropertyNames(value)) {
        const descriptor = Object.getOwnPropertyDescriptor(value, key)!;
        if (key === "__proto__" || !descriptor.enumerable || !("value" in descriptor) || !jsonExact(descriptor.value, seen)) {
            return false;
        }
    }
    return true;
}

/** Written under a unique name, then renamed: processes running side by side never read half a file. */
function writeEntry(file: string, json: string): void {
    const partial = `${file}.${process.pid}.${crypto.randomBytes(4).toString("hex")}.tmp`;
    try {
        fs.writeFileSync(partial, json, { mode: 0o600 });
        fs.renameSync(partial, file);
    } catch {
        // A cache that cannot be written only costs the next process a parse.
        fs.rmSync(partial, { force: true });
    }
}

/** yaml's `parse(text)` (merge keys merged): the same document, the same error or warning. */
export function parseYaml(text: string): unknown {
    return parseYamlIn(cacheDir(), text);
}

/** parseYaml with its cache in `dir` (none when undefined). */
export function parseYamlIn(dir: string | undefined, text: string): unknown {
    const file = dir === undefined ? undefined : yamlCacheFile(dir, text);
    if (file !== undefined) {
        try {
            return JSON.parse(fs.readFileSync(file, "utf8")) as unknown;
        } catch {
            // Not there (or damaged): parsed below, and written anew.
        }
    }
    const yaml = yamlParser();
    const document = yaml.parseDocument(text, PARSE_OPTIONS);
    if (file === undefined || document.errors.length > 0 || document.warnings.length > 0) {
        return yaml.parse(text, PARSE_OPTIONS) as unknown;
    }
    // What parse(text) returns for a document without errors or warnings (yaml's public-api.js).
    const value = document.toJS() as unknown;
    if (jsonExact(value)) {
        writeEntry(file, JSON.stringify(value));
    }
    return value;
}
