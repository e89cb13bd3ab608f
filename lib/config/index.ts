/**
 * The typed configuration of one stack, validated before any resource is declared (zod).
 *
 *   schema.ts       every key: kind, default, the zod schema of its value
 *   fields.ts       the value schemas (integers, booleans, JSON lists and sections) and their messages
 *   refinements.ts  the rules between keys (regions, windows, retention, restore times, cloud and role)
 *   messages.ts     one line per problem, naming the fully qualified key; ConfigError
 *   parse.ts        parseStackConfig: a pure function of a key lookup (tests and the offline plan feed it
 *                   any stack file; stacks/load-config.ts the running program's configuration)
 *   types.ts        StackConfig, what the compositions read
 */
export { parseStackConfig } from "./parse";
export type { ConfigLookup, ParseOptions } from "./parse";
export { ConfigError } from "./messages";
export { PROJECT, FIELDS, SECTION_DEFAULTS } from "./schema";
export type { Kind } from "./schema";
export { AZURE_STORAGE_SIZES_GB, CLOUDWATCH_RETENTION_DAYS } from "./refinements";
export { parseRfc3339, toUtc } from "./time";
export { DEFAULT_SCHEDULES } from "../schedule";
export type { BackupJobSchedules } from "../schedule";
export type * from "./types";
