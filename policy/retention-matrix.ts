/**
 * The retention matrix: for each row of the runbook's retention table, what the stack declares that
 * implements it, and whether that meets the table. The stack policy `retention-table-coverage` reports the
 * unmet rows; the offline checker and the report generator print the whole matrix.
 *
 * A row is met only when every resource that implements it meets it (each database, replicated-backups
 * copy, AWS Backup rule, backup bucket rule on the row's prefix, audit log group, Critical secret), and its
 * "found" is the shortest of theirs (a value the cloud refuses first, naming its resource); the shortfalls name each one below the table. A read replica binds as
 * rds-backup-retention judges it (its own automated backups); Azure and Cloud SQL replicas keep none of
 * their own and prove the row only in a standby stack.
 *
 * Evidence per data class:
 * - database: an RDS instance (a read replica too) or cluster keeping automated backups >= the minimum,
 *   a backup bucket keeping database/ dumps that long,
 *   an RDS automated-backups replication keeping them as long, an AWS Backup plan selecting a database and
 *   keeping its recovery points as long, an Azure Flexible Server or a Cloud SQL primary with that
 *   retention (Cloud SQL: retainedBackups and, the row's continuous part, transactionLogRetentionDays); in a
 *   standby stack, an Azure/Cloud SQL replica (backups live on the source).
 * - clients, config: an Enabled lifecycle rule of a backup bucket (any S3 family) covering the prefix and
 *   keeping it >= the minimum, with no overlapping rule deleting earlier (a rule's deletion counted no
 *   earlier than the bucket's COMPLIANCE Object Lock default retention: lockFloorOf); and, when the stack declares
 *   CronJobs, a backup CronJob labelled with the class (the job that fills the prefix).
 * - secrets: a Critical secret replicated to another region, or a backup bucket keeping >= 7 versions of
 *   secrets/ (in a standby stack, that is the replicated copy of the primary's secrets/ prefix).
 * - audit: an audit log group keeping >= 365 days (or never expiring), or a backup bucket's audit/ prefix.
 *
 * Which rows apply (rowScope): the rows listed in oauth2-dr-settings `dataClasses`; else in the stack tag
 * `oauth2-dr:data-classes` ("all" or a comma list); else every row when the stack declares its role as the
 * server's primary or standby (settings `role`, stack tag or resource tags `role`); else the rows whose data
 * the stack holds: a database for the database row, a backup bucket whose rules filter the row's prefix or
 * a backup CronJob labelled with its class, a Critical secret for secrets. A stateless program holds none.
 * A waiver in the settings lowers a row's minimum (`value`) or releases it (no value); the matrix shows it.
 */
import { DataClass, formatRetention, MAX_MANAGED_BACKUP_RETENTION_DAYS, RETENTION_TABLE, RetentionRow, retentionRow } from "./retention";
import { prefixRetention } from "./lifecycle";
import { auditLogSchema, AuditLogConfig, isAuditLogGroup, isDeliveryClass, logRetentionDays, refusedLogRetention } from "./logs";
import { backupJobClass, CRON_JOB_TYPES, cronJobSchema, CronJobConfig } from "./kubernetes";
import { AZURE_MAX_BACKUP_RETENTION_DAYS, isAzureReplica } from "./azure";
import { CLOUD_SQL_MAX_RETAINED_BACKUPS, isCloudSqlReplica, logRetentionLimit } from "./cloudsql";
import { planRetentions } from "./backup-plans";
import { databaseEngine, notJudgedDatabases, workloadDatabase, WORKLOAD_TYPES } from "./engines";
import { criticalSecretSchema, crossRegionReplicas as secretReplicaRegions, isCriticalSecret } from "./secrets";
import { declaredRole, Role, stackRole } from "./roles";
import { indexStack, regionOf, StackIndex, StackResource, T } from "./resources";
import { lifecycleRulesOf } from "./s3-families";
import { lockFloorOf } from "./object-lock";
import { describeUndeclared, regionUnproven, replicationLinks, undeclaredDestinations } from "./s3-stack";
import { describeWaiver, minimaOf, Minima, Settings, waiverFor } from "./settings";
import { read, UNKNOWN } from "./unknowns";
import { asNumber, isNotANumber, NotANumber, showNumber } from "./numbers";

export type RowStatus = "met" | "missing" | "waived" | "unknown" | "not-applicable";

export interface Evidence {
    urn: string;
    name: string;
    type: string;
    detail: string;
}

export interface RetentionResult {
    dataClass: DataClass;
    /** The row's name; the database row names the engines the stack runs ("Database (MySQL)"). */
    dataType: string;
    priority: string;
    /** What the table (or a settings raise or waiver) requires, for people: "30 days", "7 versions". */
    required: string;
    /** The retention that decides the row, for people: the shortest among the resources that implement it. */
    found: string;
    status: RowStatus;
    /** Why the row applies to this stack, or why not (status not-applicable). */
    scope: string;
    /** Resources that prove the row (only qualifying ones). */
    evidence: Evidence[];
    /** Why candidates did not qualify, or what is missing. */
    shortfalls: string[];
    /** The waiver in force for this row, as every report prints it. */
    waiver?: string;
}

/** retention-table-coverage's own settings; the shared ones come from oauth2-dr-settings. */
export const matrixSchema = {
    properties: {
        ...auditLogSchema.properties,
        ...criticalSecretSchema.properties,
        ...cronJobSchema.properties,
    },
};

export interface MatrixConfig extends AuditLogConfig, CronJobConfig {
    criticalSecretNames: string[];
}

function ev(resource: StackResource, detail: string): Evidence {
    return { urn: resource.urn, name: resource.name, type: resource.type, detail };
}

/**
 * What a row's candidates show. A row is met only when every resource that implements it meets it: a
 * binding shortfall (a database or read replica, a plan rule, a backup bucket's rule, an audit log group, a
 * Critical secret below the table) fails the row whatever else qualifies. A backup bucket with no rule on
 * the row's prefix does not implement the row: its shortfall only explains.
 */
interface Collected {
    evidence: Evidence[];
    shortfalls: string[];
    /** Shortfalls that fail the row. */
    failing: number;
    /** Best value found (days or versions); NaN when nothing was found. */
    best: number;
    /** Worst value among the resources that implement the row; NaN when none was found. */
    worst: number;
    unknown: boolean;
    /**
     * A value the cloud refuses (above its maximum: the resource is never created or keeps nothing), which
     * decides the row whatever the others keep: "found" names it, not the other resources' values.
     */
    refused?: string;
}

function collector(): Collected {
    return { evidence: [], shortfalls: [], failing: 0, best: NaN, worst: NaN, unknown: false };
}

/** A value the cloud refuses: a failing shortfall, and the row's "found" names it (the first such). */
function refuse(c: Collected, text: string, found: string) {
    fallShort(c, text);
    c.refused ??= found;
}

function consider(c: Collected, value: number, binding = true) {
    c.best = Number.isNaN(c.best) ? value : Math.max(c.best, value);
    if (binding && !Number.isNaN(value)) {
        c.worst = Number.isNaN(c.worst) ? value : Math.min(c.worst, value);
    }
}

function fallShort(c: Collected, text: string, binding = true) {
    c.shortfalls.push(text);
    if (binding) {
        c.failing++;
    }
}

const DATABASE_TYPES: readonly string[] = [T.rdsInstance, T.rdsCluster, T.docdbCluster, T.neptuneCluster, T.redshiftCluster, T.rdsBackupsReplication, T.azurePostgres, T.cloudSql];

/** RDS (and DocumentDB, Neptune) keep automated backups at most 35 days and refuse more. */
const RDS_MAX = { days: MAX_MANAGED_BACKUP_RETENTION_DAYS, service: "RDS" };

function databaseEvidence(index: StackIndex, minimum: number, role: Role): Collected {
    const c = collector();
    // A read replica binds too: rds-backup-retention requires its own automated backups (a standby's replica is
    // the copy a failover promotes, and its backups are the ones kept once it is promoted).
    const judge = (resource: StackResource, input: unknown, defaultDays: number, what: string, binding = true, refusedAbove?: { days: number; service: string }) => {
        const value = asNumber(input);
        if (value === UNKNOWN) {
            c.unknown = true;
            return;
        }
        if (isNotANumber(value)) {
            fallShort(c, `${resource.name}: ${what} ${showNumber(value)}`, binding);
            return;
        }
        const days = value === undefined ? defaultDays : value;
        if (refusedAbove && days > refusedAbove.days) {
            // The service refuses it (RDS, Redshift: at most 35): the database keeps no backup of that length.
            refuse(c, `${resource.name}: ${what} ${formatRetention(days, "days")}, above the ${refusedAbove.days} ${refusedAbove.service} accepts`, `${formatRetention(days, "days")} (${resource.name}: refused, above the ${refusedAbove.days} ${refusedAbove.service} accepts)`);
            return;
        }
        consider(c, days, binding);
        if (days >= minimum) {
            c.evidence.push(ev(resource, `${what} ${days === Infinity ? "unset (kept until deleted)" : formatRetention(days, "days")}`));
        } else {
            fallShort(c, `${resource.name}: ${what} ${Number.isNaN(days) ? "not a number" : formatRetention(days, "days")} < ${minimum}`, binding);
        }
    };
    for (const r of index.ofType(T.rdsInstance)) {
        const replica = read(r.props, "replicateSourceDb");
        const isReplica = replica === UNKNOWN || (typeof replica === "string" && replica !== "");
        judge(r, read(r.props, "backupRetentionPeriod"), isReplica ? 0 : 1, isReplica ? "read replica, backupRetentionPeriod" : "backupRetentionPeriod", true, RDS_MAX);
    }
    // DocumentDB and Neptune share RDS's 35-day limit; the "found" names the service the team declared.
    for (const [type, service] of [[T.rdsCluster, "RDS"], [T.docdbCluster, "DocumentDB"], [T.neptuneCluster, "Neptune"]] as const) {
        for (const r of index.ofType(type)) {
            judge(r, read(r.props, "backupRetentionPeriod"), 1, "backupRetentionPeriod", true, { ...RDS_MAX, service });
        }
    }
    for (const r of index.ofType(T.redshiftCluster)) {
        judge(r, read(r.props, "automatedSnapshotRetentionPeriod"), 1, "automatedSnapshotRetentionPeriod", true, { days: MAX_MANAGED_BACKUP_RETENTION_DAYS, service: "Redshift" });
    }
    for (const r of index.ofType(T.rdsBackupsReplication)) {
        judge(r, read(r.props, "retentionPeriod"), 7, "automated backups replicated to this region, retentionPeriod");
    }
    for (const { plan, rule, days, selects, jobsFail } of planRetentions(index)) {
        if (jobsFail !== undefined) {
            // AWS Backup fails the rule's jobs (the vault's lock refuses them, its role has no permission): it keeps nothing.
            refuse(c, `${plan.name}: AWS Backup rule "${rule}" ${jobsFail.why}`, `none (${plan.name} rule "${rule}": its jobs fail)`);
            continue;
        }
        judge(plan, Number.isNaN(days) ? new NotANumber(days) : days, Infinity, `AWS Backup rule "${rule}" for ${selects.join(", ")}, deleteAfter`);
    }
    for (const r of index.ofType(T.azurePostgres)) {
        if (read(r.props, "createMode") === UNKNOWN) {
            // A replica (no backups of its own) or a server whose retention counts: not known until the update.
            c.unknown = true;
            continue;
        }
        if (isAzureReplica(r.props)) {
            if (role === "standby") {
                c.evidence.push(ev(r, "read replica (backups kept on the source server)"));
            }
            continue;
        }
        const days = asNumber(read(r.props, "backup", "backupRetentionDays"));
        if (typeof days === "number" && days > AZURE_MAX_BACKUP_RETENTION_DAYS) {
            // Azure refuses it (7-35): the server is never created, so it keeps no backup.
            refuse(c, `${r.name}: backup.backupRetentionDays ${formatRetention(days, "days")}, above the ${AZURE_MAX_BACKUP_RETENTION_DAYS} Azure accepts`, `${formatRetention(days, "days")} (${r.name}: refused, above the ${AZURE_MAX_BACKUP_RETENTION_DAYS} Azure accepts)`);
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
        if (enabled === UNKNOWN) {
            // Whether it takes backups at all is not known: its retainedBackups proves nothing yet.
            c.unknown = true;
            continue;
        }
        if (enabled !== true) {
            fallShort(c, `${r.name}: automated backups disabled`);
            continue;
        }
        const retained = asNumber(read(r.props, "settings", "backupConfiguration", "backupRetentionSettings", "retainedBackups"));
        if (typeof retained === "number" && retained > CLOUD_SQL_MAX_RETAINED_BACKUPS) {
            // Cloud SQL refuses it (1-365): no backup is kept under that setting.
            refuse(c, `${r.name}: retainedBackups ${retained}, above the ${CLOUD_SQL_MAX_RETAINED_BACKUPS} Cloud SQL accepts`, `${retained} daily backups (${r.name}: refused, above the ${CLOUD_SQL_MAX_RETAINED_BACKUPS} Cloud SQL accepts)`);
            continue;
        }
        judge(r, read(r.props, "settings", "backupConfiguration", "backupRetentionSettings", "retainedBackups"), 7, "retainedBackups (daily)");
        // The row's continuous part: the point-in-time window, the days of transaction log (not set: Cloud SQL's
        // 7 days, 14 on Enterprise Plus). Short of the row, it fails the row (and cloudsql-backup-configuration);
        // met, it adds no evidence line (the daily backups' line stands for the instance).
        const logDays = asNumber(read(r.props, "settings", "backupConfiguration", "transactionLogRetentionDays"));
        const edition = read(r.props, "settings", "edition");
        if (logDays === UNKNOWN || (logDays === undefined && edition === UNKNOWN)) {
            c.unknown = true;
        } else if (!isNotANumber(logDays)) {
            const days = logDays ?? (edition === "ENTERPRISE_PLUS" ? 14 : 7);
            const limit = logRetentionLimit(r.props);
            if (limit !== UNKNOWN && days > limit.days) {
                // Cloud SQL refuses the setting: the instance keeps no such log.
                refuse(c, `${r.name}: transactionLogRetentionDays ${formatRetention(days, "days")}, above the ${limit.days} Cloud SQL accepts on ${limit.edition}`, `${formatRetention(days, "days")} of transaction log (${r.name}: refused, above the ${limit.days} Cloud SQL accepts)`);
            } else if (days < minimum) {
                consider(c, days);
                fallShort(c, `${r.name}: transactionLogRetentionDays ${logDays === undefined ? `not set (Cloud SQL keeps ${formatRetention(days, "days")})` : formatRetention(days, "days")} < ${minimum}: the row's continuous part (point-in-time recovery)`);
            }
        }
    }
    return c;
}

/** Lifecycle declarations of a backup bucket: its configuration resources of any family, else its inline rules. */
function lifecycleSources(group: { bucket?: StackResource; config: { lifecycle: StackResource[] } }): StackResource[] {
    if (group.config.lifecycle.length > 0) {
        return group.config.lifecycle;
    }
    return group.bucket && lifecycleRulesOf(group.bucket.type, group.bucket.props) !== undefined ? [group.bucket] : [];
}

function bucketPrefixEvidence(index: StackIndex, dataClass: DataClass, minima: Minima, c: Collected): void {
    const row = retentionRow(dataClass);
    const outside = undeclaredDestinations(replicationLinks(index).links);
    for (const group of index.buckets.values()) {
        if (!group.backup) {
            continue;
        }
        const bucketName = group.name === UNKNOWN ? "(bucket name unknown)" : group.name;
        // Its copy in a bucket outside the stack (a literal ARN): where that copy lives is not known here.
        const copies = outside
            .filter((l) => l.sourceGroup === group)
            .map((l) => `; replicated to ${describeUndeclared(l)}${regionUnproven(l) ? ": the copy's region is unproven" : ""}`)
            .join("");
        // A COMPLIANCE Object Lock keeps each version its default retention whatever a rule says (lockFloorOf).
        const floor = lockFloorOf(group, index);
        for (const source of lifecycleSources(group)) {
            const rules = lifecycleRulesOf(source.type, source.props);
            const kept = prefixRetention(rules === undefined ? [] : rules, dataClass, minima, floor);
            if (kept.status === "unknown") {
                c.unknown = true;
                continue;
            }
            if (kept.status === "no-rule") {
                // This bucket does not implement the row: said, not held against it.
                fallShort(c, `${source.name}: no Enabled lifecycle rule covers ${row.bucketPrefix} of ${bucketName}`, false);
                continue;
            }
            consider(c, kept.value);
            const where = kept.subPrefixes.length > 0 ? kept.subPrefixes.map((p) => `s3://${bucketName}/${p}`).join(", ") : `s3://${bucketName}/${row.bucketPrefix}`;
            const detail = `${where} kept ${kept.found} (${kept.basis})${copies}`;
            if (kept.status === "kept") {
                c.evidence.push(ev(source, detail));
            } else {
                fallShort(c, `${source.name}: ${detail}, below the table`);
            }
        }
    }
}

function rowResult(row: RetentionRow, dataType: string, required: number, c: Collected, settings: Settings, scope: string, extraMissing: string[] = []): RetentionResult {
    // Met only when every resource that implements the row meets it: one whose value is unknown could fail it.
    const met = c.evidence.length > 0 && c.failing === 0 && !c.unknown && extraMissing.length === 0;
    const waiver = waiverFor(settings, row.dataClass);
    let status: RowStatus = met ? "met" : c.unknown ? "unknown" : "missing";
    if (!met && waiver && waiver.value === undefined) {
        status = "waived";
    }
    // The value that decides: the worst of the resources that implement the row (the best when none binds).
    const shown = Number.isNaN(c.worst) ? c.best : c.worst;
    // A value the cloud refuses decides it first: the row names that resource's value, not the others'.
    const found = c.refused ?? (Number.isNaN(shown) ? (c.evidence.length > 0 ? "present" : c.unknown ? "unknown until the update" : "none") : shown === Infinity ? (row.unit === "versions" ? "all versions" : "never expires") : formatRetention(shown, row.unit));
    return {
        dataClass: row.dataClass,
        dataType,
        priority: row.priority,
        required: formatRetention(required, row.unit),
        found,
        status,
        scope,
        evidence: c.evidence,
        shortfalls: [...extraMissing, ...c.shortfalls],
        waiver: waiver ? describeWaiver(waiver) : undefined,
    };
}

/** "Database (PostgreSQL)" from the table, or with the engines the stack runs ("Database (MySQL)"). */
function databaseRowLabel(index: StackIndex): string {
    const engines = new Set(DATABASE_TYPES.flatMap((type) => index.ofType(type).map((r) => databaseEngine(r.type, r.props)).filter((e): e is string => e !== undefined)));
    return engines.size === 0 ? retentionRow("database").dataType : `Database (${[...engines].join(", ")})`;
}

export interface ScopeInput {
    index: StackIndex;
    resources: readonly StackResource[];
    stackTags: ReadonlyMap<string, string>;
    settings: Settings;
    config: MatrixConfig;
}

/** Why each row applies to the stack (a reason), or undefined with the reason it does not. */
export function rowScope({ index, resources, stackTags, settings, config }: ScopeInput): Map<DataClass, { applies: boolean; why: string }> {
    const all = (applies: (dataClass: DataClass) => boolean, why: string, whyNot: string) =>
        new Map(RETENTION_TABLE.map((row) => [row.dataClass, applies(row.dataClass) ? { applies: true, why } : { applies: false, why: whyNot }]));
    if (settings.dataClasses !== undefined) {
        const listed = settings.dataClasses;
        return all((d) => listed.includes(d), "listed in oauth2-dr-settings dataClasses", "not listed in oauth2-dr-settings dataClasses");
    }
    const tag = stackTags.get(settings.dataClassesTag);
    if (tag !== undefined) {
        const listed = tag.split(",").map((t) => t.trim());
        return all((d) => listed.includes("all") || listed.includes(d), `listed in stack tag ${settings.dataClassesTag}`, `not listed in stack tag ${settings.dataClassesTag}=${tag}`);
    }
    const role = declaredRole(resources, stackTags, settings);
    if (role) {
        return all(() => true, `the stack declares the server's ${role.role} role (${role.source})`, "");
    }
    return heldClasses(index, settings, config);
}

/** Rows whose data the stack holds, each with the resource that shows it. */
function heldClasses(index: StackIndex, settings: Settings, config: MatrixConfig): Map<DataClass, { applies: boolean; why: string }> {
    const held = new Map<DataClass, { applies: boolean; why: string }>();
    const hold = (dataClass: DataClass, why: string) => {
        if (!held.get(dataClass)?.applies) {
            held.set(dataClass, { applies: true, why });
        }
    };
    const database = DATABASE_TYPES.flatMap((type) => index.ofType(type))[0];
    if (database) {
        hold("database", `the stack declares a database (${database.name})`);
    }
    // A PostgreSQL (MySQL, MariaDB) server the program runs in Kubernetes holds the row's data as RDS does.
    for (const workload of WORKLOAD_TYPES.flatMap((type) => index.ofType(type))) {
        const server = workloadDatabase(workload.type, workload.props);
        if (server?.judged) {
            hold("database", `the stack runs ${server.engine} in the Kubernetes ${server.kind} ${workload.name} (image ${server.image})`);
        }
    }
    for (const group of index.buckets.values()) {
        for (const prefix of group.backup ? group.heldPrefixes : []) {
            const row = RETENTION_TABLE.find((r) => r.bucketPrefix === prefix)!;
            hold(row.dataClass, `backup bucket ${group.name === UNKNOWN ? group.bucket?.name : group.name} holds ${prefix}`);
        }
    }
    for (const job of CRON_JOB_TYPES.flatMap((type) => index.ofType(type))) {
        const jobClass = backupJobClass(job.props, config);
        const row = RETENTION_TABLE.find((r) => r.dataClass === jobClass);
        if (row) {
            hold(row.dataClass, `backup CronJob ${job.name} exports ${row.dataClass}`);
        }
    }
    const secret = index.ofType(T.secret).find((s) => isCriticalSecret(s.props, s.name, config.criticalSecretNames));
    if (secret) {
        hold("secrets", `Critical secret ${secret.name}`);
    }
    const unjudged = notJudgedDatabases([...index.byType.values()].flat());
    // Secrets Manager secrets outside criticalSecretNames: the stack does hold secrets, none the row names.
    const otherSecrets = index.ofType(T.secret).map((s) => {
        const name = read(s.props, "name");
        return typeof name === "string" ? name : name === UNKNOWN ? `${s.name} (its name unknown until the update: listed as not judged)` : s.name;
    });
    for (const row of RETENTION_TABLE) {
        if (!held.has(row.dataClass)) {
            const why =
                row.dataClass === "database" && unjudged.length > 0
                    ? `the stack's databases are engines the retention table does not judge (${unjudged.map((u) => `${u.kind} ${u.name}`).join(", ")}: listed as not judged)`
                    : row.dataClass === "secrets" && otherSecrets.length > 0
                      ? `no backup bucket rule on ${row.bucketPrefix}, and the stack's secrets (${otherSecrets.join(", ")}) match no criticalSecretNames pattern (${config.criticalSecretNames.join(", ")})`
                      : `the stack holds no ${row.dataType.toLowerCase()} (no ${row.dataClass === "database" ? "database" : `backup bucket rule on ${row.bucketPrefix}`})`;
            held.set(row.dataClass, { applies: false, why: `${why}; list the row in oauth2-dr-settings dataClasses or the stack tag ${settings.dataClassesTag} to require it` });
        }
    }
    return held;
}

export function retentionMatrix(index: StackIndex, settings: Settings, config: MatrixConfig, role: Role, scopes: Map<DataClass, { applies: boolean; why: string }>): RetentionResult[] {
    const minima = minimaOf(settings);
    const cronJobs = CRON_JOB_TYPES.flatMap((type) => index.ofType(type));
    const jobClasses = new Set(cronJobs.map((job) => backupJobClass(job.props, config)).filter((c): c is string => typeof c === "string"));
    return RETENTION_TABLE.map((row) => {
        const required = row.dataClass === "secrets" ? minima.secretVersions : minima.days[row.dataClass];
        const scope = scopes.get(row.dataClass)!;
        const dataType = row.dataClass === "database" ? databaseRowLabel(index) : row.dataType;
        const result = (c: Collected, extraMissing: string[] = []) => {
            const out = rowResult(row, dataType, required, c, settings, scope.why, extraMissing);
            return scope.applies ? out : { ...out, status: "not-applicable" as const };
        };
        switch (row.dataClass) {
            case "database": {
                // Database dumps kept in backup storage (database/) prove the row as well as managed backups.
                const c = databaseEvidence(index, required, role);
                bucketPrefixEvidence(index, "database", minima, c);
                return result(c);
            }
            case "clients":
            case "config": {
                const c = collector();
                bucketPrefixEvidence(index, row.dataClass, minima, c);
                const missing = cronJobs.length > 0 && !jobClasses.has(row.dataClass) ? [`the stack declares CronJobs but none is a backup job labelled ${config.dataClassLabel}=${row.dataClass}`] : [];
                return result(c, missing);
            }
            case "secrets": {
                const c = collector();
                bucketPrefixEvidence(index, "secrets", minima, c);
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
                        fallShort(c, `${secret.name}: Critical secret without a replica in another region`);
                    }
                }
                return result(c);
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
                    if (isNotANumber(days)) {
                        fallShort(c, `${group.name}: log group retentionInDays ${showNumber(days)}`);
                        continue;
                    }
                    if (refusedLogRetention(group.props) !== undefined) {
                        refuse(c, `${group.name}: log group retentionInDays ${String(days)}, a value CloudWatch Logs refuses`, `${formatRetention(days as number, "days")} (${group.name}: refused, not a retention CloudWatch Logs accepts)`);
                        continue;
                    }
                    consider(c, days);
                    const detail = days === Infinity ? "log group never expires" : isDeliveryClass(group.props) === true ? `log group class DELIVERY (kept ${String(days)} days whatever retentionInDays says)` : `log group retentionInDays ${String(days)}`;
                    if (days >= required) {
                        c.evidence.push(ev(group, detail));
                    } else {
                        fallShort(c, `${group.name}: ${detail} < ${required}`);
                    }
                }
                bucketPrefixEvidence(index, "audit", minima, c);
                return result(c);
            }
        }
    });
}

/** The matrix of one stack as retention-table-coverage sees it (also printed by the offline checker and reports). */
export function stackMatrix(resources: readonly StackResource[], stackTags: ReadonlyMap<string, string>, settings: Settings, config: MatrixConfig): { role: Role; rows: RetentionResult[] } {
    const index = indexStack(resources, settings);
    const role = stackRole(index, resources, stackTags, settings);
    const scopes = rowScope({ index, resources, stackTags, settings, config });
    return { role, rows: retentionMatrix(index, settings, config, role, scopes) };
}
