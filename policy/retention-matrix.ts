/**
 * The retention matrix: for each row of the runbook's retention table, what the stack declares that
 * implements it, and whether that meets the table. The stack policy `retention-table-coverage` reports the
 * unmet rows; the offline checker and the report generator print the whole matrix.
 *
 * Evidence per data class:
 * - database: an RDS instance (a read replica too) or cluster keeping automated backups >= the minimum,
 *   an RDS automated-backups replication keeping them as long, an Azure Flexible Server or a Cloud SQL
 *   primary with that retention; in a standby stack, an Azure/Cloud SQL replica (backups live on the source).
 * - clients, config: an Enabled lifecycle rule of a backup bucket covering the prefix and keeping it >= the
 *   minimum, with no overlapping rule deleting earlier; and, when the stack declares CronJobs, a backup
 *   CronJob labelled with the class (the job that fills the prefix).
 * - secrets: a Critical secret replicated to another region, or a backup bucket keeping >= 7 versions of
 *   secrets/ (in a standby stack, that is the replicated copy of the primary's secrets/ prefix).
 * - audit: an audit log group keeping >= 365 days (or never expiring), or a backup bucket's audit/ prefix.
 * A row may be waived in policy config (`waivers: { clients: "reason" }`); the reason is printed.
 */
import { DataClass, formatRetention, RETENTION_TABLE, RetentionRow } from "../lib/retention";
import { BACKUP_BUCKET_SCHEMA, BackupBucketConfig, TABLE_DAYS, TABLE_SECRET_VERSIONS } from "./config";
import { prefixRetention, viewRules } from "./lifecycle";
import { auditLogSchema, AuditLogConfig, isAuditLogGroup, logRetentionDays } from "./logs";
import { backupJobClass, cronJobSchema, CronJobConfig } from "./kubernetes";
import { isAzureReplica } from "./azure";
import { isCloudSqlReplica } from "./cloudsql";
import { criticalSecretSchema, crossRegionReplicas as secretReplicaRegions, isCriticalSecret } from "./secrets";
import { ROLE_SCHEMA, Role, RoleConfig } from "./roles";
import { regionOf, StackIndex, StackResource, T } from "./resources";
import { read, UNKNOWN } from "./unknowns";

export type RowStatus = "met" | "missing" | "waived" | "unknown";

export interface Evidence {
    urn: string;
    name: string;
    type: string;
    detail: string;
}

export interface RetentionResult {
    dataClass: DataClass;
    dataType: string;
    priority: string;
    /** What the table (or the policy config) requires, for people: "30 days", "7 versions". */
    required: string;
    /** The best retention found in the stack, for people. */
    found: string;
    status: RowStatus;
    /** Resources that prove the row (only qualifying ones). */
    evidence: Evidence[];
    /** Why candidates did not qualify, or what is missing. */
    shortfalls: string[];
    waiver?: string;
}

export const matrixSchema = {
    properties: {
        ...BACKUP_BUCKET_SCHEMA,
        ...auditLogSchema.properties,
        ...criticalSecretSchema.properties,
        ...cronJobSchema.properties,
        ...ROLE_SCHEMA,
        minimumDays: { type: "object" as const, default: { ...TABLE_DAYS }, description: "Minimum days per day-based class; defaults to the retention table." },
        minimumSecretVersions: { type: "integer" as const, minimum: 1, default: TABLE_SECRET_VERSIONS, description: "Minimum versions of secrets/ kept." },
        waivers: {
            type: "object" as const,
            default: {},
            description: "Rows of the retention table this stack does not implement, by data class, each with the reason (printed in the matrix).",
        },
    },
};

export interface MatrixConfig extends BackupBucketConfig, AuditLogConfig, CronJobConfig, RoleConfig {
    criticalSecretNames: string[];
    minimumDays: Partial<Record<DataClass, number>>;
    minimumSecretVersions: number;
    waivers: Partial<Record<DataClass, string>>;
}

function ev(resource: StackResource, detail: string): Evidence {
    return { urn: resource.urn, name: resource.name, type: resource.type, detail };
}

interface Collected {
    evidence: Evidence[];
    shortfalls: string[];
    /** Best value found (days or versions); NaN when nothing was found. */
    best: number;
    unknown: boolean;
}

function collector(): Collected {
    return { evidence: [], shortfalls: [], best: NaN, unknown: false };
}

function consider(c: Collected, value: number) {
    c.best = Number.isNaN(c.best) ? value : Math.max(c.best, value);
}

function databaseEvidence(index: StackIndex, minimum: number, role: Role): Collected {
    const c = collector();
    const judge = (resource: StackResource, value: unknown, defaultDays: number, what: string) => {
        if (value === UNKNOWN) {
            c.unknown = true;
            return;
        }
        const days = typeof value === "number" ? value : value === undefined || value === null ? defaultDays : NaN;
        consider(c, days);
        if (days >= minimum) {
            c.evidence.push(ev(resource, `${what} ${days} days`));
        } else {
            c.shortfalls.push(`${resource.name}: ${what} ${Number.isNaN(days) ? String(value) : days} days < ${minimum}`);
        }
    };
    for (const r of index.ofType(T.rdsInstance)) {
        const replica = read(r.props, "replicateSourceDb");
        const isReplica = replica === UNKNOWN || (typeof replica === "string" && replica !== "");
        judge(r, read(r.props, "backupRetentionPeriod"), isReplica ? 0 : 1, isReplica ? "read replica, backupRetentionPeriod" : "backupRetentionPeriod");
    }
    for (const r of index.ofType(T.rdsCluster)) {
        judge(r, read(r.props, "backupRetentionPeriod"), 1, "backupRetentionPeriod");
    }
    for (const r of index.ofType(T.rdsBackupsReplication)) {
        judge(r, read(r.props, "retentionPeriod"), 7, "automated backups replicated to this region, retentionPeriod");
    }
    for (const r of index.ofType(T.azurePostgres)) {
        if (isAzureReplica(r.props)) {
            if (role === "standby") {
                c.evidence.push(ev(r, "read replica (backups kept on the source server)"));
            }
            continue;
        }
        judge(r, read(r.props, "backup", "backupRetentionDays"), 7, "backup.backupRetentionDays");
    }
    for (const r of index.ofType(T.cloudSql)) {
        if (isCloudSqlReplica(r.props)) {
            if (role === "standby") {
                c.evidence.push(ev(r, "read replica (backups kept on the primary instance)"));
            }
            continue;
        }
        const enabled = read(r.props, "settings", "backupConfiguration", "enabled");
        if (enabled !== true && enabled !== UNKNOWN) {
            c.shortfalls.push(`${r.name}: automated backups disabled`);
            continue;
        }
        judge(r, read(r.props, "settings", "backupConfiguration", "backupRetentionSettings", "retainedBackups"), 7, "retainedBackups (daily)");
    }
    return c;
}

function bucketPrefixEvidence(index: StackIndex, dataClass: DataClass, config: MatrixConfig, c: Collected): void {
    const minima = { days: { ...TABLE_DAYS, ...config.minimumDays }, secretVersions: config.minimumSecretVersions };
    const row = RETENTION_TABLE.find((r) => r.dataClass === dataClass)!;
    for (const group of index.buckets.values()) {
        if (!group.backup) {
            continue;
        }
        const bucketName = group.name === UNKNOWN ? "(bucket name unknown)" : group.name;
        for (const lifecycle of group.config[T.lifecycle]) {
            const kept = prefixRetention(viewRules(lifecycle.props), dataClass, minima);
            if (kept.status === "unknown") {
                c.unknown = true;
                continue;
            }
            if (kept.status === "no-rule") {
                c.shortfalls.push(`${lifecycle.name}: no Enabled lifecycle rule covers ${row.bucketPrefix} of ${bucketName}`);
                continue;
            }
            consider(c, kept.value);
            const detail = `s3://${bucketName}/${row.bucketPrefix} kept ${kept.found} (rule ${kept.ruleIds.join(", ")})`;
            if (kept.status === "kept") {
                c.evidence.push(ev(lifecycle, detail));
            } else {
                c.shortfalls.push(`${lifecycle.name}: ${detail}, below the table`);
            }
        }
    }
}

function rowResult(row: RetentionRow, required: number, c: Collected, config: MatrixConfig, extraMissing: string[] = []): RetentionResult {
    const met = c.evidence.length > 0 && extraMissing.length === 0;
    const waiver = config.waivers[row.dataClass];
    let status: RowStatus = met ? "met" : c.unknown ? "unknown" : "missing";
    if (!met && waiver) {
        status = "waived";
    }
    const found = Number.isNaN(c.best) ? (c.evidence.length > 0 ? "present" : c.unknown ? "unknown until the update" : "none") : c.best === Infinity ? (row.unit === "versions" ? "all versions" : "never expires") : formatRetention(c.best, row.unit);
    return {
        dataClass: row.dataClass,
        dataType: row.dataType,
        priority: row.priority,
        required: formatRetention(required, row.unit),
        found,
        status,
        evidence: c.evidence,
        shortfalls: [...extraMissing, ...c.shortfalls],
        waiver: status === "waived" ? waiver : undefined,
    };
}

export function retentionMatrix(index: StackIndex, config: MatrixConfig, role: Role): RetentionResult[] {
    const cronJobs = index.ofType(T.cronJob);
    const jobClasses = new Set(cronJobs.map((job) => backupJobClass(job.props, config)).filter((c): c is string => typeof c === "string"));
    return RETENTION_TABLE.map((row) => {
        const required = row.unit === "versions" ? config.minimumSecretVersions : config.minimumDays[row.dataClass] ?? row.minimum;
        switch (row.dataClass) {
            case "database":
                return rowResult(row, required, databaseEvidence(index, required, role), config);
            case "clients":
            case "config": {
                const c = collector();
                bucketPrefixEvidence(index, row.dataClass, config, c);
                const missing = cronJobs.length > 0 && !jobClasses.has(row.dataClass) ? [`the stack declares CronJobs but none is a backup job labelled ${config.dataClassLabel}=${row.dataClass}`] : [];
                return rowResult(row, required, c, config, missing);
            }
            case "secrets": {
                const c = collector();
                bucketPrefixEvidence(index, "secrets", config, c);
                for (const secret of index.ofType(T.secret)) {
                    if (!isCriticalSecret(secret.props, secret.name, config.criticalSecretNames)) {
                        continue;
                    }
                    const regions = secretReplicaRegions(secret.props, regionOf(secret));
                    if (regions === UNKNOWN) {
                        c.unknown = true;
                    } else if (regions.length > 0) {
                        c.evidence.push(ev(secret, `Critical secret replicated to ${regions.join(", ")}`));
                    } else {
                        c.shortfalls.push(`${secret.name}: Critical secret without a replica in another region`);
                    }
                }
                return rowResult(row, required, c, config);
            }
            case "audit": {
                const c = collector();
                for (const group of index.ofType(T.logGroup)) {
                    if (!isAuditLogGroup(group.props, group.name, config)) {
                        continue;
                    }
                    const days = logRetentionDays(group.props);
                    if (days === UNKNOWN) {
                        c.unknown = true;
                        continue;
                    }
                    const value = typeof days === "number" ? days : NaN;
                    consider(c, value);
                    const detail = value === Infinity ? "log group never expires" : `log group retentionInDays ${String(days)}`;
                    if (value >= required) {
                        c.evidence.push(ev(group, detail));
                    } else {
                        c.shortfalls.push(`${group.name}: ${detail} < ${required}`);
                    }
                }
                bucketPrefixEvidence(index, "audit", config, c);
                return rowResult(row, required, c, config);
            }
        }
    });
}
