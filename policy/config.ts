/**
 * Policy configuration: the minima default to the runbook's retention table (lib/retention.ts) and can be
 * raised (or a policy set to advisory) only through policy configuration, never through the program's own
 * stack configuration, which the pack does not trust.
 *
 * The engine's getConfig() returns only what the policy config file sets, and hand-built args return {}:
 * `configOf` applies the schema's defaults itself, so every policy sees a complete configuration.
 */
import { PolicyConfigSchema } from "@pulumi/policy";
import { DataClass, RETENTION_TABLE, retentionRow } from "../lib/retention";
import { read, readStringMap } from "./unknowns";

export interface ConfigSource {
    getConfig<T extends object>(): T;
}

type JsonSchema = PolicyConfigSchema["properties"][string];

/** `{ ...schema defaults, ...configured values }`; configured values win, key by key (no deep merge). */
export function configOf<T extends object>(schema: PolicyConfigSchema | undefined, args: ConfigSource): T {
    const defaults: Record<string, unknown> = {};
    for (const [key, property] of Object.entries(schema?.properties ?? {})) {
        if (property.default !== undefined) {
            defaults[key] = structuredClone(property.default);
        }
    }
    return { ...defaults, ...(args.getConfig<Record<string, unknown>>() ?? {}) } as T;
}

/** Day-based classes (database, clients, audit, config) -> the table's days. */
export const TABLE_DAYS: Record<Exclude<DataClass, "secrets">, number> = Object.fromEntries(
    RETENTION_TABLE.filter((row) => row.unit === "days").map((row) => [row.dataClass, row.minimum]),
) as Record<Exclude<DataClass, "secrets">, number>;
export const TABLE_SECRET_VERSIONS = retentionRow("secrets").minimum;

export function minimumDaysSchema(dataClass: DataClass): JsonSchema {
    const row = retentionRow(dataClass);
    return {
        type: "integer",
        minimum: 1,
        default: row.minimum,
        description: `Minimum retention in days; the runbook's table says ${row.minimum} for ${row.dataType}.`,
    };
}

// ---- Shared fragments: every policy has its own config block, so shared knobs appear in several schemas.

export interface TagMatch {
    key: string;
    value: string;
}

const tagMatch = (key: string, value: string, description: string): JsonSchema => ({
    type: "object",
    properties: { key: { type: "string" }, value: { type: "string" } },
    required: ["key", "value"],
    default: { key, value },
    description,
});

export interface BackupBucketConfig {
    backupBucketPrefixes: string[];
    backupBucketTag: TagMatch;
}

/** Which S3 buckets are backup buckets: by name prefix, or by tag (our program tags them backup=true). */
export const BACKUP_BUCKET_SCHEMA: Record<string, JsonSchema> = {
    backupBucketPrefixes: {
        type: "array",
        items: { type: "string" },
        default: ["oauth2-backups"],
        description: "A bucket whose name starts with one of these is a backup bucket.",
    },
    backupBucketTag: tagMatch("backup", "true", "A bucket carrying this tag is a backup bucket."),
};

export function isBackupBucketName(name: unknown, config: BackupBucketConfig): boolean {
    return typeof name === "string" && config.backupBucketPrefixes.some((prefix) => name.startsWith(prefix));
}

/** A Bucket resource's name as S3 sees it: the `bucket` input, else the Pulumi name (auto-naming). */
export function bucketNameOf(props: unknown, resourceName: string): unknown {
    const bucket = read(props, "bucket");
    return bucket === undefined ? resourceName : bucket;
}

export function isBackupBucket(props: unknown, resourceName: string, config: BackupBucketConfig): boolean {
    const tags = readStringMap(props, "tags");
    return isBackupBucketName(bucketNameOf(props, resourceName), config) || tags[config.backupBucketTag.key] === config.backupBucketTag.value;
}

export interface ProductionConfig {
    production: "auto" | "always" | "never";
    productionTag: TagMatch;
}

/**
 * "Marked production": policy config `production: always|never` decides; with `auto` (the default), the
 * resource's own tag (our program tags every resource environment=<env>) or the stack tag decides.
 */
export const PRODUCTION_SCHEMA: Record<string, JsonSchema> = {
    production: {
        type: "string",
        enum: ["auto", "always", "never"],
        default: "auto",
        description: "auto: production when the resource or the stack carries productionTag.",
    },
    productionTag: tagMatch("environment", "production", "The tag (resource tag or stack tag) that marks production."),
};

export function isProduction(resourceTags: Record<string, string>, stackTags: ReadonlyMap<string, string>, config: ProductionConfig): boolean {
    if (config.production !== "auto") {
        return config.production === "always";
    }
    const { key, value } = config.productionTag;
    return resourceTags[key] === value || stackTags.get(key) === value;
}

/** Simple globs for names: `*` matches any run of characters, including `/`. */
export function globMatch(pattern: string, value: string): boolean {
    const regex = new RegExp(`^${pattern.split("*").map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`);
    return regex.test(value);
}
