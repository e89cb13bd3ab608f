/**
 * The typed configuration of one stack, validated before any resource is declared (zod).
 *
 *   schema.ts       every key, nested ones included: kind, default, the zod schema of its value
 *   fields.ts       the value schemas (integers, booleans, JSON lists, sections and the maps and objects
 *                   inside them) and their messages
 *   refinements.ts  the rules between keys, as one zod refinement running the rules/ modules in order:
 *     rules/context.ts          what every rule shares (RuleContext, Fail, required)
 *     rules/roles.ts            primary or standby, promote, AWS Backup on the aws primary
 *     rules/regions.ts          region names per cloud, DR region different, aws:region; regionOf
 *     rules/dns-and-network.ts  DNS names, instance class, storage, subnets and security groups
 *     rules/windows.ts          backup and maintenance windows
 *     rules/retention.ts        the retention table's minimums and the clouds' maximums
 *     rules/clouds.ts           the azure and gcp sections
 *     rules/restore.ts          restore source and point-in-time window, manual snapshots
 *     rules/alarms.ts           the SNS topics of the alarms
 *     rules/encryption.ts       backupEncryption: mode and recipients (armor, fingerprints, no private key)
 *   messages.ts     one line per problem, naming the fully qualified key; ConfigError
 *   parse.ts        parseStackConfig: a pure function of a key lookup (tests and the offline plan feed it
 *                   any stack file; stacks/load-config.ts the running program's configuration)
 *   types.ts        StackConfig, what the compositions read
 */
export { parseStackConfig } from "./parse";
export type { ConfigLookup, ParseOptions } from "./parse";
export { ConfigError } from "./messages";
export { PROJECT, FIELDS, SECTION_DEFAULTS, DEFAULT_SCHEDULES, DEFAULT_JOB_RESOURCES, BACKUP_JOB_KEYS, DEFAULT_SERVER_NAMESPACE } from "./schema";
export type { Kind } from "./schema";
export { AZURE_STORAGE_SIZES_GB } from "./rules/clouds";
export { CLOUDWATCH_RETENTION_DAYS } from "./rules/retention";
export { parseRfc3339, toUtc } from "./time";
export type { BackupJobResources, BackupJobSchedules, ContainerResources } from "../schedule";
export type * from "./types";
