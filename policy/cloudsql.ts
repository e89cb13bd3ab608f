/**
 * Google Cloud SQL for PostgreSQL (gcp:sql/databaseInstance:DatabaseInstance): the database row of the
 * retention table on GCP. Cloud SQL counts backups, not days: 30 days of daily backups is
 * retainedBackups >= 30 with retentionUnit COUNT (its default is 7). The row is "continuous + daily, 30 days": the
 * continuous part is the point-in-time window, the transaction log Cloud SQL keeps (transactionLogRetentionDays),
 * so it must be the row's days too. Cloud SQL keeps 1-7 days of it on the Enterprise edition and 1-35 on
 * Enterprise Plus; unset, 7 and 14 days (https://cloud.google.com/sql/docs/mysql/backup-recovery/configure-pitr
 * "from 1-35 for Cloud SQL Enterprise Plus edition, or 1-7 for Cloud SQL Enterprise edition";
 * https://cloud.google.com/sql/docs/postgres/backup-recovery/pitr, its default 14 days on Enterprise Plus, 7 on
 * Enterprise; the provider's DatabaseInstanceSettingsBackupConfiguration.transactionLogRetentionDays: "For
 * PostgreSQL Enterprise Plus ... instances ... from 1 to 35"). So on Enterprise the row is met only through a named
 * waiver of it; Enterprise Plus (settings.edition ENTERPRISE_PLUS, a db-perf-optimized-N-* tier) meets it with
 * transactionLogRetentionDays >= 30.
 *
 * Read replicas (masterInstanceName set) cannot have backups configured (Cloud SQL rejects it; backups
 * belong to the primary), so the backup policy does not judge them; deletion protection still applies.
 * Instances whose databaseVersion is not POSTGRES_* are not judged.
 */
import { ResourceValidationPolicy, validateResourceOfType } from "@pulumi/policy";
import { plural, retentionRow } from "./retention";
import { databaseEngine } from "./engines";
import { minimumOf, sharedSettings } from "./settings";
import { configOf } from "./config";
import { known, notJudgedInPreview, read, show, UNKNOWN } from "./unknowns";
import { readNumber, showNumber } from "./numbers";
import { resourceType, T } from "./types";

const CLOUD_SQL = resourceType(T.cloudSql);

const DATABASE = retentionRow("database");

/** The most automated backups Cloud SQL keeps (backupRetentionSettings.retainedBackups: 1-365). */
export const CLOUD_SQL_MAX_RETAINED_BACKUPS = 365;

export function isCloudSqlReplica(props: unknown): boolean {
    const master = read(props, "masterInstanceName");
    return master === UNKNOWN || (typeof master === "string" && master !== "");
}

function isPostgres(props: unknown): boolean {
    const version = read(props, "databaseVersion");
    return typeof version !== "string" || version.startsWith("POSTGRES");
}

/**
 * The most days of transaction log Cloud SQL accepts for PostgreSQL (1-7 on Enterprise, 1-35 on Enterprise Plus),
 * with the edition it applies to: `settings.edition`, else the edition the tier implies (the Enterprise Plus
 * machine series `db-perf-optimized-*` / `db-memory-optimized-*`, every other tier Enterprise). UNKNOWN when the
 * deciding value is unknown in preview; with neither edition nor tier, the 35 days no edition exceeds.
 */
export function logRetentionLimit(instance: unknown): { days: number; edition: string } | typeof UNKNOWN {
    const edition = read(instance, "settings", "edition");
    if (edition === UNKNOWN) {
        return UNKNOWN;
    }
    if (edition === "ENTERPRISE_PLUS") {
        return { days: 35, edition: "ENTERPRISE_PLUS" };
    }
    if (edition === "ENTERPRISE") {
        return { days: 7, edition: "ENTERPRISE" };
    }
    const tier = read(instance, "settings", "tier");
    if (tier === UNKNOWN) {
        return UNKNOWN;
    }
    if (typeof tier !== "string") {
        return { days: 35, edition: "any edition" };
    }
    return /^db-(perf|memory)-optimized-/.test(tier)
        ? { days: 35, edition: `ENTERPRISE_PLUS (settings.edition not set; tier ${tier})` }
        : { days: 7, edition: `ENTERPRISE (settings.edition not set; tier ${tier} is not an Enterprise Plus machine)` };
}

const backupSchema = {
    properties: {
        minimumTransactionLogRetentionDays: {
            type: "integer" as const,
            minimum: 7,
            maximum: 35,
            default: 7,
            description: "Days of transaction log kept for point-in-time recovery, raise only: the requirement is the larger of this and the database row's days (30; lowered only by a named waiver of the row).",
        },
    },
};

/** The two ways to meet `required` days of transaction log, for a violation's message. */
function logRetentionPaths(required: number): string {
    const plus = required <= 35
        ? `Enterprise Plus (settings.edition ENTERPRISE_PLUS, a db-perf-optimized-N-* tier) with transactionLogRetentionDays >= ${required} (at most 35), or `
        : `Cloud SQL keeps at most 35 days of transaction log (Enterprise Plus), so only `;
    return `${plus}a named waiver of the database row in oauth2-dr-settings ({ "row": "database", "value": <days>, "reason", "approvedBy" })`;
}

export const cloudSqlBackupConfiguration: ResourceValidationPolicy = {
    name: "cloudsql-backup-configuration",
    description: `Cloud SQL PostgreSQL primaries take automated backups with point-in-time recovery, keep one daily backup and one day of transaction log per day of the retention table's database row (${DATABASE.minimum}; raised or waived in oauth2-dr-settings): Enterprise Plus for more than 7 days of log.`,
    enforcementLevel: "mandatory",
    severity: "critical",
    configSchema: backupSchema,
    validateResource: validateResourceOfType(CLOUD_SQL, (instance, args, reportViolation) => {
        if (isCloudSqlReplica(instance) || !isPostgres(instance)) {
            return;
        }
        const config = configOf<{ minimumTransactionLogRetentionDays: number }>(backupSchema, args);
        const minimum = minimumOf(sharedSettings(), "database");
        // The row's continuous part: as many days of transaction log as the row has days (raised by the pack's setting).
        const requiredLogDays = Math.max(minimum, config.minimumTransactionLogRetentionDays);
        const label = `Cloud SQL ${databaseEngine(args.type, instance) ?? "PostgreSQL"}`;
        const backup = known(args, "settings.backupConfiguration", read(instance, "settings", "backupConfiguration"));
        // Each input below decides its own finding: the unknown ones are listed together at the end.
        const unknown: string[] = [];
        const at = <V>(input: string, value: V): V => {
            if (value === UNKNOWN) {
                unknown.push(`settings.backupConfiguration.${input}`);
            }
            return value;
        };
        const enabled = at("enabled", read(backup, "enabled"));
        if (enabled !== UNKNOWN && enabled !== true) {
            reportViolation(`${args.name}: settings.backupConfiguration.enabled is ${show(enabled)}; the runbook requires automated backups (true)`);
        }
        const pitr = at("pointInTimeRecoveryEnabled", read(backup, "pointInTimeRecoveryEnabled"));
        if (pitr !== UNKNOWN && pitr !== true) {
            reportViolation(`${args.name}: settings.backupConfiguration.pointInTimeRecoveryEnabled is ${show(pitr)}; the runbook requires point-in-time recovery (true) for "Continuous" database backups`);
        }
        const retained = at("backupRetentionSettings.retainedBackups", readNumber(backup, "backupRetentionSettings", "retainedBackups"));
        const unit = at("backupRetentionSettings.retentionUnit", read(backup, "backupRetentionSettings", "retentionUnit"));
        if (unit !== UNKNOWN && unit !== undefined && unit !== "COUNT") {
            reportViolation(`${args.name}: settings.backupConfiguration.backupRetentionSettings.retentionUnit is ${show(unit)}; the retention table is checked in daily backups, unit "COUNT"`);
        }
        if (retained !== UNKNOWN) {
            if (retained === undefined) {
                reportViolation(`${args.name}: settings.backupConfiguration.backupRetentionSettings.retainedBackups is not set (Cloud SQL keeps 7); the retention table's database row requires at least ${plural(minimum, "daily backups")} (${label})`);
            } else if (typeof retained !== "number" || retained < minimum) {
                reportViolation(`${args.name}: settings.backupConfiguration.backupRetentionSettings.retainedBackups is ${showNumber(retained)}; the retention table's database row requires at least ${plural(minimum, "daily backups")} (${label})`);
            } else if (retained > CLOUD_SQL_MAX_RETAINED_BACKUPS) {
                reportViolation(`${args.name}: settings.backupConfiguration.backupRetentionSettings.retainedBackups is ${retained}, above the ${CLOUD_SQL_MAX_RETAINED_BACKUPS} Cloud SQL accepts (1-${CLOUD_SQL_MAX_RETAINED_BACKUPS}): Cloud SQL refuses the setting, so no backup is kept; the retention table's database row requires at least ${plural(minimum, "daily backups")} (${label}), at most ${CLOUD_SQL_MAX_RETAINED_BACKUPS}`);
            }
        }
        const logDays = at("transactionLogRetentionDays", readNumber(backup, "transactionLogRetentionDays"));
        if (logDays === undefined) {
            // Not set: Cloud SQL keeps its default (7 days; 14 on the Enterprise Plus edition).
            const edition = read(instance, "settings", "edition");
            const kept = edition === "ENTERPRISE_PLUS" ? 14 : 7;
            if (edition === UNKNOWN) {
                unknown.push("settings.edition");
            } else if (kept < requiredLogDays) {
                reportViolation(`${args.name}: settings.backupConfiguration.transactionLogRetentionDays is not set (Cloud SQL keeps ${plural(kept, "days")}); the retention table's database row (continuous + daily) requires ${plural(requiredLogDays, "days")} of transaction log for point-in-time recovery (${label}): ${logRetentionPaths(requiredLogDays)}`);
            }
        } else if (logDays !== UNKNOWN) {
            // Above what the edition accepts first: Cloud SQL refuses the setting, whatever the row asks.
            const limit = typeof logDays === "number" ? logRetentionLimit(instance) : undefined;
            if (typeof logDays === "number" && limit !== undefined && limit !== UNKNOWN && logDays > limit.days) {
                reportViolation(`${args.name}: settings.backupConfiguration.transactionLogRetentionDays is ${plural(logDays, "days")}, above the ${limit.days} days Cloud SQL accepts on ${limit.edition}: Cloud SQL refuses the setting, so the instance keeps no such log; ${requiredLogDays <= limit.days ? `set ${requiredLogDays === limit.days ? limit.days : `${requiredLogDays}-${limit.days}`}` : `the database row requires ${plural(requiredLogDays, "days")}: ${logRetentionPaths(requiredLogDays)}`}`);
            } else if (typeof logDays !== "number" || logDays < requiredLogDays) {
                reportViolation(`${args.name}: settings.backupConfiguration.transactionLogRetentionDays is ${showNumber(logDays)}; the retention table's database row (continuous + daily) requires ${plural(requiredLogDays, "days")} of transaction log for point-in-time recovery (${label}): ${logRetentionPaths(requiredLogDays)}`);
            } else if (limit === UNKNOWN) {
                unknown.push("settings.edition");
            }
        }
        if (unknown.length > 0) {
            notJudgedInPreview(args, unknown);
        }
    }),
};

/** The provider's deletionProtection defaults to true: only an explicit false is a violation. */
export const cloudSqlDeletionProtection: ResourceValidationPolicy = {
    name: "cloudsql-deletion-protection",
    description: "Cloud SQL PostgreSQL instances keep deletion protection on (deletionProtection not false; settings.deletionProtectionEnabled not false).",
    enforcementLevel: "mandatory",
    severity: "high",
    validateResource: validateResourceOfType(CLOUD_SQL, (instance, args, reportViolation) => {
        if (!isPostgres(instance)) {
            return;
        }
        const protection = read(instance, "deletionProtection");
        if (protection === false) {
            reportViolation(`${args.name}: deletionProtection is false; the runbook requires true (deleting the instance deletes its automated backups)`);
        }
        const apiProtection = read(instance, "settings", "deletionProtectionEnabled");
        if (apiProtection === false) {
            reportViolation(`${args.name}: settings.deletionProtectionEnabled is false; the runbook requires deletion protection`);
        }
    }),
};

export const cloudSqlPolicies = [cloudSqlBackupConfiguration, cloudSqlDeletionProtection];
