/**
 * The runbook's retention table ("Backup Strategy / Data Classification") as code.
 *
 * This is the single source of truth: the policy pack uses it for its minima, the components take their
 * retention from it (through lib/retention.ts, which re-exports this module), and the plan/check reports
 * print it. It lives in the pack and has no dependencies because `pulumi policy publish` packs only policy/.
 */

export type DataClass = "database" | "clients" | "secrets" | "audit" | "config";
export type Priority = "Critical" | "High" | "Medium";
export type RetentionUnit = "days" | "versions";

export interface RetentionRow {
    /** Stable key, also the configuration key under `oauth2-dr:retention`. */
    readonly dataClass: DataClass;
    /** The row's name in the runbook. */
    readonly dataType: string;
    /** The runbook's "Backup Frequency" column. */
    readonly frequency: string;
    /** The minimum retention: a number of days or of versions. */
    readonly minimum: number;
    readonly unit: RetentionUnit;
    readonly priority: Priority;
    /** The prefix of the backup bucket where this class's exports live. */
    readonly bucketPrefix: string;
    /**
     * The longest acceptable interval between two scheduled backups, in minutes, for the CronJob that
     * exports this class. "On change" classes are polled, so they need a short interval to notice a change.
     */
    readonly maxBackupIntervalMinutes: number;
}

export const RETENTION_TABLE: readonly RetentionRow[] = Object.freeze([
    {
        dataClass: "database",
        dataType: "Database (PostgreSQL)",
        frequency: "Continuous + Daily",
        minimum: 30,
        unit: "days",
        priority: "Critical",
        bucketPrefix: "database/",
        maxBackupIntervalMinutes: 24 * 60,
    },
    {
        dataClass: "clients",
        dataType: "Client configurations",
        frequency: "On change",
        minimum: 90,
        unit: "days",
        priority: "High",
        bucketPrefix: "clients/",
        maxBackupIntervalMinutes: 60,
    },
    {
        dataClass: "secrets",
        dataType: "Secrets/Keys",
        frequency: "On rotation",
        minimum: 7,
        unit: "versions",
        priority: "Critical",
        bucketPrefix: "secrets/",
        maxBackupIntervalMinutes: 24 * 60,
    },
    {
        dataClass: "audit",
        dataType: "Audit logs",
        frequency: "Continuous",
        minimum: 365,
        unit: "days",
        priority: "High",
        bucketPrefix: "audit/",
        maxBackupIntervalMinutes: 24 * 60,
    },
    {
        dataClass: "config",
        dataType: "Application configs",
        frequency: "On change",
        minimum: 90,
        unit: "days",
        priority: "Medium",
        bucketPrefix: "config/",
        maxBackupIntervalMinutes: 60,
    },
] satisfies RetentionRow[]);

export const DATA_CLASSES: readonly DataClass[] = RETENTION_TABLE.map((row) => row.dataClass);

export function retentionRow(dataClass: DataClass): RetentionRow {
    const row = RETENTION_TABLE.find((r) => r.dataClass === dataClass);
    if (!row) {
        throw new Error(`unknown data class "${dataClass}"`);
    }
    return row;
}

/** The effective retention of one stack: the table, possibly raised per class by configuration. */
export type Retention = Readonly<Record<DataClass, number>>;

export const TABLE_RETENTION: Retention = Object.freeze(
    Object.fromEntries(RETENTION_TABLE.map((row) => [row.dataClass, row.minimum])) as Record<DataClass, number>,
);

/** "1 day", "30 days", "1 version": a count with its unit, singular or plural. */
export function plural(count: number, unit: string): string {
    const singular = unit.endsWith("s") ? unit.slice(0, -1) : unit;
    return `${count} ${count === 1 ? singular : `${singular}s`}`;
}

/** Formats a row's retention for people: "30 days", "7 versions", "1 year (365 days)". */
export function formatRetention(value: number, unit: RetentionUnit): string {
    if (unit === "days" && value === 365) {
        return "1 year (365 days)";
    }
    return plural(value, unit);
}

/**
 * RDS keeps automated backups at most 35 days; Azure Flexible Server at most 35 as well. A database
 * retention above this cannot be declared on the managed backups and is a configuration error.
 */
export const MAX_MANAGED_BACKUP_RETENTION_DAYS = 35;

/**
 * The retentionInDays values CloudWatch Logs accepts (PutRetentionPolicy; 0 = never expire; the aws provider
 * validates the same list): any other value is refused. Read by the policy pack (an audit log group's retention)
 * and by the stack configuration's rules (`retention.audit`, through lib/retention.ts).
 */
export const CLOUDWATCH_RETENTION_DAYS: readonly number[] = [0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

/**
 * The recovery windows Secrets Manager accepts for a deleted secret (recoveryWindowInDays; 0 deletes at once):
 * 7 to 30 days, anything else refused. Read by the policy pack (secretsmanager-recovery-window) and by the stack
 * configuration's `secretRecoveryWindowDays` (through lib/retention.ts).
 */
export const SECRETS_MANAGER_RECOVERY_WINDOW_DAYS = { min: 7, max: 30 } as const;
