/**
 * Per-policy configuration. Settings shared by several policies (backup storage, production, role, rows,
 * minima, waivers) live once in `oauth2-dr-settings` (settings.ts); what stays here is each policy's own.
 * Neither is ever read from the program's stack configuration, which the pack does not trust.
 *
 * The engine fills in schema defaults (pulumi/pulumi analyzer config.go, createConfigWithDefaults), hand-built
 * args return {}: `configOf` applies the schema's defaults itself, so every policy sees a complete configuration.
 */
import { PolicyConfigSchema } from "@pulumi/policy";
import { Settings } from "./settings";

export interface ConfigSource {
    getConfig<T extends object>(): T;
}

/** `{ ...schema defaults, ...configured values }`; configured values win, key by key (no deep merge). */
export function configOf<T extends object>(schema: PolicyConfigSchema | undefined, args: ConfigSource): T {
    const defaults: Record<string, unknown> = {};
    for (const [key, property] of Object.entries(schema?.properties ?? {})) {
        if (typeof property === "object" && property.default !== undefined) {
            defaults[key] = structuredClone(property.default);
        }
    }
    return { ...defaults, ...(args.getConfig<Record<string, unknown>>() ?? {}) } as T;
}

/**
 * "Marked production": the settings' `production: always|never` decides; with `auto` (the default), the
 * resource's own tag (our program tags every resource environment=<env>) or the stack tag decides.
 */
export function isProduction(resourceTags: Record<string, string>, stackTags: ReadonlyMap<string, string>, settings: Pick<Settings, "production" | "productionTag">): boolean {
    if (settings.production !== "auto") {
        return settings.production === "always";
    }
    const { key, value } = settings.productionTag;
    return resourceTags[key] === value || stackTags.get(key) === value;
}

/** Simple globs for names: `*` matches any run of characters, including `/`. */
export function globMatch(pattern: string, value: string): boolean {
    const regex = new RegExp(`^${pattern.split("*").map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`);
    return regex.test(value);
}
