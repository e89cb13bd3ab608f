/**
 * Per-policy configuration. Settings shared by several policies (backup storage, production, role, rows,
 * minima, waivers) live once in `oauth2-dr-settings` (settings.ts); what stays here is each policy's own.
 * Neither is ever read from the program's stack configuration, which the pack does not trust.
 *
 * The engine fills in schema defaults (pulumi/pulumi analyzer config.go, createConfigWithDefaults), hand-built
 * args return {}: `configOf` applies the schema's defaults itself, so every policy sees a complete configuration.
 */
import { PolicyConfigSchema } from "@pulumi/policy";
import { Settings, TagMatch } from "./settings";

export interface ConfigSource {
    getConfig<T extends object>(): T;
}

/**
 * A copy of a schema default (JSON data: arrays, plain objects, primitives) as `structuredClone` makes it, without
 * its cost per call: `configOf` runs once per resource per policy, and most defaults are numbers and strings,
 * which need no copy. Anything but JSON data is left to `structuredClone`.
 */
function copyDefault(value: unknown): unknown {
    if (value === null || typeof value !== "object") {
        return value;
    }
    if (Array.isArray(value)) {
        return value.map(copyDefault);
    }
    if (Object.getPrototypeOf(value) !== Object.prototype) {
        return structuredClone(value);
    }
    const out: Record<string, unknown> = {};
    for (const [key, entry] of Object.entries(value)) {
        out[key] = copyDefault(entry);
    }
    return out;
}

/** Each schema's defaults, in its properties' order, read once per schema object. */
const defaultsBySchema = new WeakMap<PolicyConfigSchema, Array<[string, unknown]>>();

function defaultEntries(schema: PolicyConfigSchema | undefined): Array<[string, unknown]> {
    if (schema === undefined) {
        return [];
    }
    let entries = defaultsBySchema.get(schema);
    if (entries === undefined) {
        entries = [];
        for (const [key, property] of Object.entries(schema.properties ?? {})) {
            if (typeof property === "object" && property.default !== undefined) {
                entries.push([key, property.default]);
            }
        }
        defaultsBySchema.set(schema, entries);
    }
    return entries;
}

/**
 * `{ ...schema defaults, ...configured values }`; configured values win, key by key (no deep merge). Every call
 * returns objects of its own (a policy may change what it is given): the defaults are copied, not shared.
 */
export function configOf<T extends object>(schema: PolicyConfigSchema | undefined, args: ConfigSource): T {
    const defaults: Record<string, unknown> = {};
    for (const [key, value] of defaultEntries(schema)) {
        defaults[key] = copyDefault(value);
    }
    return { ...defaults, ...(args.getConfig<Record<string, unknown>>() ?? {}) } as T;
}

/**
 * Whether the tags carry the configured production tag, its key and its value compared without case: teams write
 * `Environment: Production` for `environment=production`, and a security engineer reads both as production.
 */
function carriesTag(tags: Iterable<[string, string]>, tag: TagMatch): boolean {
    const key = tag.key.toLowerCase();
    const value = tag.value.toLowerCase();
    for (const [k, v] of tags) {
        if (k.toLowerCase() === key && typeof v === "string" && v.toLowerCase() === value) {
            return true;
        }
    }
    return false;
}

/**
 * "Marked production": the settings' `production: always|never` decides; with `auto` (the default), the
 * resource's own tag (our program tags every resource environment=<env>) or the stack tag decides, the
 * configured productionTag matched without case.
 */
export function isProduction(resourceTags: Record<string, string>, stackTags: ReadonlyMap<string, string>, settings: Pick<Settings, "production" | "productionTag">): boolean {
    if (settings.production !== "auto") {
        return settings.production === "always";
    }
    const { key, value } = settings.productionTag;
    // The exact spelling first: every tag of our own program, and most others.
    return resourceTags[key] === value || stackTags.get(key) === value || carriesTag(Object.entries(resourceTags), settings.productionTag) || carriesTag(stackTags, settings.productionTag);
}

/** Tag keys that name an environment, and values that mean production, in the spellings real programs use (compared without case). */
const ENVIRONMENT_KEYS = ["environment", "env", "stage", "tier", "environment-name", "env-name", "deployment-environment"];
const PRODUCTION_VALUES = ["production", "prod", "prd", "live"];

/**
 * The tags that read as production (an environment key with a production value: `env=prod`, `stage=live`) but are
 * not the configured productionTag, so the pack does not take them for production: each `key=value`. Only with
 * `production: auto`, and only when the tags do not carry the configured tag anyway.
 */
export function productionLookalikes(tags: Iterable<[string, string]>, settings: Pick<Settings, "production" | "productionTag">): string[] {
    const entries = [...tags];
    if (settings.production !== "auto" || carriesTag(entries, settings.productionTag)) {
        return [];
    }
    return entries
        .filter(([k, v]) => ENVIRONMENT_KEYS.includes(k.toLowerCase()) && typeof v === "string" && PRODUCTION_VALUES.includes(v.toLowerCase()))
        .map(([k, v]) => `${k}=${v}`);
}

/** globMatch's compiled patterns: policies match the same few patterns against every resource. */
const globs = new Map<string, RegExp>();
/** Patterns come from the checked program (IAM resources, tag values): the memo is emptied past this many. */
const GLOB_MEMO_LIMIT = 4096;

/** Simple globs for names: `*` matches any run of characters, including `/`. */
export function globMatch(pattern: string, value: string): boolean {
    let regex = globs.get(pattern);
    if (regex === undefined) {
        if (globs.size >= GLOB_MEMO_LIMIT) {
            globs.clear();
        }
        regex = new RegExp(`^${pattern.split("*").map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`);
        globs.set(pattern, regex);
    }
    return regex.test(value);
}
