/**
 * The typed configuration of one stack, validated before any resource is declared.
 *
 * `parseStackConfig` is a pure function of a key lookup, so tests and the offline plan can feed it any
 * stack file; `loadStackConfig` reads the running Pulumi program's configuration. Every problem becomes
 * one line that names the fully qualified key; all lines are reported together.
 */
import { DATA_CLASSES, DataClass, MAX_MANAGED_BACKUP_RETENTION_DAYS, Retention, retentionRow } from "./retention";
import { BackupJobSchedules, DEFAULT_SCHEDULES, validateCron } from "./schedule";
import { AWS_REGION, AZURE_REGION, DAILY_WINDOW, GCP_REGION, HOSTNAME, OIDC_ISSUER, OIDC_PROVIDER_ARN, WEEK_DAYS, WEEKLY_WINDOW } from "./formats";

export const PROJECT = "oauth2-dr";

export type { Cloud } from "./clouds";
import { CLOUDS, Cloud } from "./clouds";
export { DEFAULT_SCHEDULES } from "./schedule";
export type { BackupJobSchedules } from "./schedule";
export type Role = "primary" | "standby";
export type Environment = "production" | "staging" | "development";

export interface BackupJobsConfig {
    enabled: boolean;
    /** Path to a kubeconfig file, or the kubeconfig itself; empty means the ambient kubeconfig. */
    kubeconfig?: string;
    image: string;
    schedules: BackupJobSchedules;
    /** The EKS cluster's IAM OIDC provider, for IRSA. */
    oidcProviderArn: string;
    oidcProviderUrl: string;
}

/** Azure PostgreSQL Flexible Server settings (cloud: azure). */
export interface AzureConfig {
    /** Resource group of the server: oauth2-prod-rg for prod, the standby's own group in the DR region. */
    resourceGroup: string;
    /** true: the stack declares the resource group; false: it exists already and is only referenced by name. */
    createResourceGroup: boolean;
    skuName: string;
    skuTier: "Burstable" | "GeneralPurpose" | "MemoryOptimized";
    /** VNet integration: a subnet delegated to Microsoft.DBforPostgreSQL/flexibleServers, and its private DNS zone. */
    delegatedSubnetId?: string;
    privateDnsZoneId?: string;
}

/** Google Cloud SQL settings (cloud: gcp). */
export interface GcpConfig {
    project: string;
    tier: string;
    edition: "ENTERPRISE" | "ENTERPRISE_PLUS";
    /** VPC network (projects/P/global/networks/N) of the private IP; the instance has no public IP. */
    privateNetwork: string;
    /** Days of transaction logs kept for point-in-time recovery: 1-7 (ENTERPRISE), 1-35 (ENTERPRISE_PLUS). */
    transactionLogRetentionDays: number;
    /** Multi-region or region where backups are stored (e.g. "us"); empty means the instance's multi-region. */
    backupLocation?: string;
}

/** The runbook's "Database Restore" section as configuration: one of the two modes. */
export type RestoreConfig =
    | { mode: "snapshot"; fromSnapshot: string }
    | { mode: "pointInTime"; pointInTime: string };

export interface AwsBackupConfig {
    /** AWS Backup vaults, plan and selection (aws primary stacks). */
    enabled: boolean;
    /** Grace period of the vault lock before it becomes immutable (compliance mode), in days (3-36500). */
    changeableForDays: number;
}

export interface AlarmsConfig {
    /** SNS topic in this stack's region that every alarm notifies. */
    topicArn?: string;
    /** SNS topic in us-east-1 for the Route 53 health-check alarm (Route 53 metrics only exist there). */
    healthCheckTopicArn?: string;
}

export interface AppDatabaseSecretConfig {
    /** Declare the application's DATABASE_URL secret (prod always, dr once promoted). */
    enabled: boolean;
    namespace: string;
    name: string;
}

export interface StackConfig {
    project: string;
    stack: string;
    cloud: Cloud;
    role: Role;
    environment: Environment;
    primaryRegion: string;
    drRegion: string;
    /** The region this stack's resources live in: the primary region for `primary`, the DR region for `standby`. */
    region: string;
    /**
     * AWS regions of the backup storage (bucket, Secrets Manager, audit logs), used on every cloud: the
     * runbook keeps backups in S3 and keys in Secrets Manager whatever runs PostgreSQL. On aws they are the
     * primary and DR regions; on azure/gcp, `awsPrimaryRegion` and `awsDrRegion`.
     */
    storage: { primaryRegion: string; drRegion: string; region: string };
    /** Public name of the authorization server, e.g. auth.example.com. */
    domain: string;
    hostedZoneId: string;
    /** This region's ingress host name (load balancer), which the failover record points at. */
    regionalEndpoint: string;
    backupWindow: string;
    maintenanceWindow: string;
    instanceClass: string;
    engineVersion: string;
    allocatedStorageGb: number;
    maxAllocatedStorageGb: number;
    subnetIds: string[];
    securityGroupIds: string[];
    tags: Record<string, string>;
    retention: Retention;
    secretRecoveryWindowDays: number;
    /** Fully qualified name of the prod stack, read by the standby stack through a StackReference. */
    primaryStack?: string;
    /** Standby only: promote the cross-region replica to a standalone primary (regional failover). */
    promote: boolean;
    backupJobs: BackupJobsConfig;
    /** Whether the stack declares the Route 53 failover record (always on aws; on azure/gcp when hostedZoneId is set). */
    dnsFailover: boolean;
    /** The backup window's start, hh24:mi UTC (Cloud SQL's backup start time). */
    backupStartTime: string;
    /** The maintenance window's start: day of week (0 = Sunday), hour and minute in UTC. */
    maintenanceStart: { dayOfWeek: number; hour: number; minute: number };
    azure?: AzureConfig;
    gcp?: GcpConfig;
    restore?: RestoreConfig;
    /** Manual snapshots (AWS) / on-demand backups (Azure) declared as resources of the running instance. */
    manualSnapshots: string[];
    awsBackup: AwsBackupConfig;
    alarms: AlarmsConfig;
    appDatabaseSecret: AppDatabaseSecretConfig;
}

export interface ParseOptions {
    /** The current time, for validating restore.pointInTime; injectable for tests. */
    now?: Date;
}

/** A lookup of raw configuration values by fully qualified key ("oauth2-dr:role", "aws:region"). */
export type ConfigLookup = (key: string) => string | undefined;

export class ConfigError extends Error {
    constructor(readonly problems: string[]) {
        super(problems.join("\n"));
        this.name = "ConfigError";
    }
}

/** CloudWatch Logs accepts only these retention periods (0 = never expire). */
export const CLOUDWATCH_RETENTION_DAYS = [
    0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];


class Reader {
    readonly problems: string[] = [];
    constructor(private readonly lookup: ConfigLookup, readonly namespace: string) {}

    key(name: string): string {
        return name.includes(":") ? name : `${this.namespace}:${name}`;
    }

    raw(name: string): string | undefined {
        const value = this.lookup(this.key(name));
        return value === undefined || value === "" ? undefined : value;
    }

    fail(name: string, message: string): void {
        this.problems.push(`${this.key(name)}: ${message}`);
    }

    string(name: string, fallback?: string): string {
        const value = this.raw(name) ?? fallback;
        if (value === undefined) {
            this.fail(name, "is required");
            return "";
        }
        return value;
    }

    optionalString(name: string): string | undefined {
        return this.raw(name);
    }

    oneOf<T extends string>(name: string, allowed: readonly T[], fallback?: T): T {
        const value = this.string(name, fallback);
        if (value !== "" && !allowed.includes(value as T)) {
            this.fail(name, `"${value}" is not one of ${allowed.join(", ")}`);
        }
        return value as T;
    }

    integer(name: string, fallback: number, min: number, max: number): number {
        const raw = this.raw(name);
        if (raw === undefined) {
            return fallback;
        }
        const value = Number(raw);
        if (!Number.isInteger(value) || value < min || value > max) {
            this.fail(name, `${JSON.stringify(raw)} is not an integer between ${min} and ${max}`);
            return fallback;
        }
        return value;
    }

    boolean(name: string, fallback: boolean): boolean {
        const raw = this.raw(name);
        if (raw === undefined) {
            return fallback;
        }
        if (raw !== "true" && raw !== "false") {
            this.fail(name, `"${raw}" is not true or false`);
            return fallback;
        }
        return raw === "true";
    }

    json<T>(name: string, fallback: T, check: (value: unknown) => string | undefined): T {
        const raw = this.raw(name);
        if (raw === undefined) {
            return fallback;
        }
        let value: unknown;
        try {
            value = JSON.parse(raw);
        } catch {
            this.fail(name, `is not valid structured configuration: ${raw.slice(0, 60)}`);
            return fallback;
        }
        const problem = check(value);
        if (problem) {
            this.fail(name, problem);
            return fallback;
        }
        return value as T;
    }
}

function stringList(pattern: RegExp, what: string, minItems: number) {
    return (value: unknown): string | undefined => {
        if (!Array.isArray(value) || value.some((v) => typeof v !== "string")) {
            return `must be a list of ${what}`;
        }
        if (value.length < minItems) {
            return `needs at least ${minItems} ${what}, got ${value.length}`;
        }
        const bad = value.find((v: string) => !pattern.test(v));
        return bad === undefined ? undefined : `"${bad}" is not a valid ${what.replace(/s$/, "")}`;
    };
}

function stringMap(value: unknown): string | undefined {
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
        return "must be a map of strings";
    }
    const bad = Object.entries(value).find(([, v]) => typeof v !== "string");
    return bad ? `tag "${bad[0]}" must be a string` : undefined;
}

function minutesOf(hh: string, mm: string): number {
    return Number(hh) * 60 + Number(mm);
}

/** Minutes since Sunday 00:00 of each minute in a weekly window, as [start, end) ranges (wrap split). */
function weeklyRanges(start: number, end: number): Array<[number, number]> {
    const week = 7 * 24 * 60;
    return end > start ? [[start, end]] : [[start, week], [0, end]];
}

function overlaps(a: Array<[number, number]>, b: Array<[number, number]>): boolean {
    return a.some(([s1, e1]) => b.some(([s2, e2]) => s1 < e2 && s2 < e1));
}

function parseBackupWindow(r: Reader): string {
    const window = r.string("backupWindow", "03:00-04:00");
    const match = DAILY_WINDOW.exec(window);
    if (!match) {
        r.fail("backupWindow", `"${window}" is not hh24:mi-hh24:mi in UTC, e.g. 03:00-04:00`);
        return window;
    }
    const start = minutesOf(match[1], match[2]);
    const end = minutesOf(match[3], match[4]);
    const length = (end - start + 24 * 60) % (24 * 60);
    if (length < 30) {
        r.fail("backupWindow", `"${window}" is ${length} minutes long; RDS needs at least 30`);
    }
    return window;
}

function parseMaintenanceWindow(r: Reader, backupWindow: string): string {
    const window = r.string("maintenanceWindow", "sun:05:00-sun:06:00");
    const match = WEEKLY_WINDOW.exec(window);
    if (!match) {
        r.fail("maintenanceWindow", `"${window}" is not ddd:hh24:mi-ddd:hh24:mi in UTC, e.g. sun:05:00-sun:06:00`);
        return window;
    }
    const backup = DAILY_WINDOW.exec(backupWindow);
    if (backup) {
        const maintenance = weeklyRanges(
            WEEK_DAYS.indexOf(match[1]) * 1440 + minutesOf(match[2], match[3]),
            WEEK_DAYS.indexOf(match[4]) * 1440 + minutesOf(match[5], match[6]),
        );
        // The backup window recurs every day of the week; it may cross midnight.
        const backupStart = minutesOf(backup[1], backup[2]);
        const backupLength = (minutesOf(backup[3], backup[4]) - backupStart + 1440) % 1440;
        const week = 7 * 1440;
        const daily = WEEK_DAYS.flatMap((_, day) => weeklyRanges(day * 1440 + backupStart, (day * 1440 + backupStart + backupLength) % week));
        if (overlaps(maintenance, daily)) {
            r.fail("maintenanceWindow", `"${window}" overlaps the backup window ${backupWindow}; RDS rejects overlapping windows`);
        }
    }
    return window;
}

function parseRetention(r: Reader): Retention {
    const overrides = r.json<Record<string, unknown>>("retention", {}, (value) =>
        typeof value === "object" && value !== null && !Array.isArray(value) ? undefined : "must be a map of data class to retention",
    );
    const retention = {} as Record<DataClass, number>;
    for (const dataClass of DATA_CLASSES) {
        retention[dataClass] = retentionRow(dataClass).minimum;
    }
    for (const [dataClass, raw] of Object.entries(overrides)) {
        const key = `retention.${dataClass}`;
        if (!DATA_CLASSES.includes(dataClass as DataClass)) {
            r.fail(key, `unknown data class; the retention table has ${DATA_CLASSES.join(", ")}`);
            continue;
        }
        const row = retentionRow(dataClass as DataClass);
        const value = Number(raw);
        if (!Number.isInteger(value)) {
            r.fail(key, `${JSON.stringify(raw)} is not a whole number of ${row.unit}`);
            continue;
        }
        if (value < row.minimum) {
            r.fail(key, `${value} ${row.unit} is below the retention table's minimum of ${row.minimum} ${row.unit} for ${row.dataType}`);
            continue;
        }
        if (row.dataClass === "database" && value > MAX_MANAGED_BACKUP_RETENTION_DAYS) {
            r.fail(key, `${value} days exceeds the ${MAX_MANAGED_BACKUP_RETENTION_DAYS}-day maximum of managed database backups`);
            continue;
        }
        if (row.dataClass === "audit" && !CLOUDWATCH_RETENTION_DAYS.includes(value)) {
            r.fail(key, `${value} days is not a CloudWatch Logs retention period (365, 400, 545, 731, 1096, ...)`);
            continue;
        }
        retention[row.dataClass] = value;
    }
    return retention;
}

function parseRegions(r: Reader, cloud: Cloud, role: Role): { primaryRegion: string; drRegion: string; region: string } {
    const pattern = cloud === "aws" ? AWS_REGION : cloud === "azure" ? AZURE_REGION : GCP_REGION;
    const primaryRegion = r.string("primaryRegion");
    const drRegion = r.string("drRegion");
    for (const [name, value] of [["primaryRegion", primaryRegion], ["drRegion", drRegion]] as const) {
        if (value && !pattern.test(value)) {
            r.fail(name, `"${value}" is not a ${cloud} region name`);
        }
    }
    if (primaryRegion && primaryRegion === drRegion) {
        r.fail("drRegion", `"${drRegion}" equals primaryRegion; the DR region must be a different region`);
    }
    const region = role === "standby" ? drRegion : primaryRegion;
    if (cloud === "aws") {
        const providerRegion = r.raw("aws:region");
        const expected = role === "standby" ? "drRegion" : "primaryRegion";
        if (providerRegion === undefined) {
            r.fail("aws:region", `is required and must equal ${PROJECT}:${expected} (${region}) for a ${role} stack`);
        } else if (region && providerRegion !== region) {
            r.fail("aws:region", `"${providerRegion}" must equal ${PROJECT}:${expected} (${region}) for a ${role} stack`);
        }
    }
    return { primaryRegion, drRegion, region };
}

/** Backup storage regions of an azure/gcp stack: AWS regions, distinct, and aws:region is this role's one. */
function parseStorageRegions(r: Reader, role: Role): { primaryRegion: string; drRegion: string; region: string } {
    const primaryRegion = r.string("awsPrimaryRegion");
    const drRegion = r.string("awsDrRegion");
    for (const [name, value] of [["awsPrimaryRegion", primaryRegion], ["awsDrRegion", drRegion]] as const) {
        if (value && !AWS_REGION.test(value)) {
            r.fail(name, `"${value}" is not an AWS region name (the backup bucket, secrets and audit logs live in AWS)`);
        }
    }
    if (primaryRegion && primaryRegion === drRegion) {
        r.fail("awsDrRegion", `"${drRegion}" equals awsPrimaryRegion; the backups' DR region must be a different region`);
    }
    const region = role === "standby" ? drRegion : primaryRegion;
    const expected = role === "standby" ? "awsDrRegion" : "awsPrimaryRegion";
    const providerRegion = r.raw("aws:region");
    if (providerRegion === undefined) {
        r.fail("aws:region", `is required and must equal ${PROJECT}:${expected} (${region}) for a ${role} stack`);
    } else if (region && providerRegion !== region) {
        r.fail("aws:region", `"${providerRegion}" must equal ${PROJECT}:${expected} (${region}) for a ${role} stack`);
    }
    return { primaryRegion, drRegion, region };
}

function parseBackupJobs(r: Reader): BackupJobsConfig {
    const schedules = { ...DEFAULT_SCHEDULES };
    const overrides = r.json<Record<string, unknown>>("backupJobs.schedules", {}, (value) =>
        typeof value === "object" && value !== null && !Array.isArray(value) ? undefined : "must be a map of job to cron schedule",
    );
    // Structured config is one key, "backupJobs"; the loader reads its fields as dotted sub-keys below.
    for (const [job, expression] of Object.entries(overrides)) {
        const key = `backupJobs.schedules.${job}`;
        if (!(job in DEFAULT_SCHEDULES)) {
            r.fail(key, `unknown job; the jobs are ${Object.keys(DEFAULT_SCHEDULES).join(", ")}`);
            continue;
        }
        try {
            validateCron(String(expression));
            schedules[job as keyof BackupJobSchedules] = String(expression);
        } catch (err) {
            r.fail(key, (err as Error).message);
        }
    }
    const oidcProviderArn = r.string("backupJobs.oidcProviderArn", "");
    if (oidcProviderArn && !OIDC_PROVIDER_ARN.test(oidcProviderArn)) {
        r.fail("backupJobs.oidcProviderArn", `"${oidcProviderArn}" is not an IAM OIDC provider ARN`);
    }
    const oidcProviderUrl = r.string("backupJobs.oidcProviderUrl", "");
    if (oidcProviderUrl && !OIDC_ISSUER.test(oidcProviderUrl)) {
        r.fail("backupJobs.oidcProviderUrl", `"${oidcProviderUrl}" is not an OIDC issuer without https://, e.g. oidc.eks.us-east-1.amazonaws.com/id/ABC`);
    }
    return {
        enabled: r.boolean("backupJobs.enabled", true),
        kubeconfig: r.optionalString("backupJobs.kubeconfig"),
        image: r.string("backupJobs.image", "ghcr.io/oauth2-dr/backup:1.0.0"),
        schedules,
        oidcProviderArn,
        oidcProviderUrl,
    };
}

/**
 * Structured values (`backupJobs: { image: ... }` in a stack file) arrive as one JSON string under the
 * top-level key. This lookup lets the reader address their fields as "backupJobs.image".
 */
function withDottedKeys(lookup: ConfigLookup): ConfigLookup {
    return (key) => {
        const direct = lookup(key);
        if (direct !== undefined) {
            return direct;
        }
        const [namespace, path] = key.includes(":") ? [key.slice(0, key.indexOf(":")), key.slice(key.indexOf(":") + 1)] : ["", key];
        const parts = path.split(".");
        if (parts.length < 2) {
            return undefined;
        }
        const rootRaw = lookup(`${namespace}:${parts[0]}`);
        if (rootRaw === undefined) {
            return undefined;
        }
        let node: unknown;
        try {
            node = JSON.parse(rootRaw);
        } catch {
            return undefined;
        }
        for (const part of parts.slice(1)) {
            if (typeof node !== "object" || node === null) {
                return undefined;
            }
            node = (node as Record<string, unknown>)[part];
        }
        if (node === undefined || node === null) {
            return undefined;
        }
        return typeof node === "string" ? node : JSON.stringify(node);
    };
}

export function parseStackConfig(lookup: ConfigLookup, stack: string, project: string = PROJECT, options: ParseOptions = {}): StackConfig {
    const r = new Reader(withDottedKeys(lookup), project);
    const cloud = r.oneOf<Cloud>("cloud", CLOUDS, "aws");
    const role = r.oneOf<Role>("role", ["primary", "standby"]);
    const environment = r.oneOf<Environment>("environment", ["production", "staging", "development"], "production");
    const { primaryRegion, drRegion, region } = parseRegions(r, cloud, role);

    const domain = r.string("domain");
    if (domain && !HOSTNAME.test(domain)) {
        r.fail("domain", `"${domain}" is not a DNS name such as auth.example.com`);
    }
    const hostedZoneId = cloud === "aws" ? r.string("hostedZoneId") : r.string("hostedZoneId", "");
    if (hostedZoneId && !/^Z[A-Z0-9]{4,32}$/.test(hostedZoneId)) {
        r.fail("hostedZoneId", `"${hostedZoneId}" is not a Route 53 hosted zone id (Z...)`);
    }
    // DNS failover stays on Route 53 for every cloud; on azure/gcp it is optional (no hostedZoneId, no records).
    const dnsFailover = cloud === "aws" || hostedZoneId !== "";
    const storage = cloud === "aws" ? { primaryRegion, drRegion, region } : parseStorageRegions(r, role);
    const regionalEndpoint = dnsFailover ? r.string("regionalEndpoint") : r.string("regionalEndpoint", "");
    if (regionalEndpoint && !HOSTNAME.test(regionalEndpoint)) {
        r.fail("regionalEndpoint", `"${regionalEndpoint}" is not a DNS name (the regional load balancer's host name)`);
    }
    if (regionalEndpoint && regionalEndpoint === domain) {
        r.fail("regionalEndpoint", `must be the regional load balancer, not the failover name ${domain} itself`);
    }

    const backupWindow = parseBackupWindow(r);
    const maintenanceWindow = parseMaintenanceWindow(r, backupWindow);
    const instanceClass = r.string("instanceClass", "db.r6g.large");
    if (cloud === "aws" && !/^db\.[a-z0-9]+\.[a-z0-9]+$/.test(instanceClass)) {
        r.fail("instanceClass", `"${instanceClass}" is not an RDS instance class such as db.r6g.large`);
    }
    const engineVersion = r.string("engineVersion", "15");
    if (!/^1[3-7](\.\d+)?$/.test(engineVersion)) {
        r.fail("engineVersion", `"${engineVersion}" is not a supported PostgreSQL major version (13-17)`);
    }
    const allocatedStorageGb = r.integer("allocatedStorageGb", 100, 20, 65536);
    const maxAllocatedStorageGb = r.integer("maxAllocatedStorageGb", 500, 20, 65536);
    if (maxAllocatedStorageGb < allocatedStorageGb) {
        r.fail("maxAllocatedStorageGb", `${maxAllocatedStorageGb} is below allocatedStorageGb (${allocatedStorageGb})`);
    }

    const needsNetwork = cloud === "aws";
    const subnetIds = r.json<string[]>("subnetIds", [], stringList(/^subnet-[0-9a-f]{8,17}$/, "subnet ids", needsNetwork ? 2 : 0));
    if (needsNetwork && r.raw("subnetIds") === undefined) {
        r.fail("subnetIds", "is required: at least two existing subnets in different availability zones");
    }
    const securityGroupIds = r.json<string[]>("securityGroupIds", [], stringList(/^sg-[0-9a-f]{8,17}$/, "security group ids", needsNetwork ? 1 : 0));
    if (needsNetwork && r.raw("securityGroupIds") === undefined) {
        r.fail("securityGroupIds", "is required: the security groups that may reach PostgreSQL");
    }
    const tags = r.json<Record<string, string>>("tags", {}, stringMap);
    const retention = parseRetention(r);
    const secretRecoveryWindowDays = r.integer("secretRecoveryWindowDays", 30, 7, 30);

    let primaryStack = r.optionalString("primaryStack");
    if (role === "standby") {
        primaryStack = r.string("primaryStack");
        if (primaryStack && !/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/.test(primaryStack)) {
            r.fail("primaryStack", `"${primaryStack}" is not organization/project/stack`);
        }
        if (primaryStack && primaryStack.split("/")[2] === stack) {
            r.fail("primaryStack", `"${primaryStack}" is this stack; a standby stack reads the primary stack`);
        }
    }
    const promote = r.boolean("promote", false);
    if (promote && role !== "standby") {
        r.fail("promote", "only a standby stack has a replica to promote");
    }
    const backupJobs = parseBackupJobs(r);
    const azure = cloud === "azure" ? parseAzure(r, allocatedStorageGb) : undefined;
    const gcp = cloud === "gcp" ? parseGcp(r) : undefined;
    const restore = parseRestore(r, cloud, role, retention.database, gcp, options.now ?? new Date());
    const manualSnapshots = parseManualSnapshots(r, cloud);
    const awsBackup = {
        enabled: r.boolean("awsBackup.enabled", cloud === "aws" && role === "primary"),
        changeableForDays: r.integer("awsBackup.changeableForDays", 3, 3, 36500),
    };
    if (awsBackup.enabled && (cloud !== "aws" || role !== "primary")) {
        r.fail("awsBackup.enabled", "AWS Backup is declared by the aws primary stack (it copies into the DR region itself)");
    }
    const alarms = parseAlarms(r, cloud, environment, region);
    const appDatabaseSecret = {
        enabled: r.boolean("appDatabaseSecret.enabled", true),
        namespace: r.string("appDatabaseSecret.namespace", "oauth2-system"),
        name: r.string("appDatabaseSecret.name", "oauth2-database"),
    };
    for (const key of ["namespace", "name"] as const) {
        if (appDatabaseSecret[key] && !/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(appDatabaseSecret[key])) {
            r.fail(`appDatabaseSecret.${key}`, `"${appDatabaseSecret[key]}" is not a Kubernetes name (lowercase, digits, '-')`);
        }
    }
    const backupStartTime = backupWindow.slice(0, 5);
    const mw = WEEKLY_WINDOW.exec(maintenanceWindow);
    const maintenanceStart = mw
        ? { dayOfWeek: WEEK_DAYS.indexOf(mw[1]), hour: Number(mw[2]), minute: Number(mw[3]) }
        : { dayOfWeek: 0, hour: 5, minute: 0 };

    if (r.problems.length > 0) {
        throw new ConfigError(r.problems);
    }
    return {
        project,
        stack,
        cloud,
        role,
        environment,
        primaryRegion,
        drRegion,
        region,
        storage,
        domain,
        hostedZoneId,
        regionalEndpoint,
        backupWindow,
        maintenanceWindow,
        instanceClass,
        engineVersion,
        allocatedStorageGb,
        maxAllocatedStorageGb,
        subnetIds,
        securityGroupIds,
        tags,
        retention,
        secretRecoveryWindowDays,
        primaryStack,
        promote,
        backupJobs,
        dnsFailover,
        backupStartTime,
        maintenanceStart,
        azure,
        gcp,
        restore,
        manualSnapshots,
        awsBackup,
        alarms,
        appDatabaseSecret,
    };
}

/** Storage sizes (GiB) that Azure Flexible Server offers. */
export const AZURE_STORAGE_SIZES_GB = [32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32767];

function knownKeys(r: Reader, root: string, allowed: string[]): void {
    const raw = r.raw(root);
    if (raw === undefined) {
        return;
    }
    let value: unknown;
    try {
        value = JSON.parse(raw);
    } catch {
        r.fail(root, `must be a map with the keys ${allowed.join(", ")}`);
        return;
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
        r.fail(root, `must be a map with the keys ${allowed.join(", ")}`);
        return;
    }
    for (const key of Object.keys(value)) {
        if (!allowed.includes(key)) {
            r.fail(`${root}.${key}`, `unknown key; ${root} has ${allowed.join(", ")}`);
        }
    }
}

function parseAzure(r: Reader, allocatedStorageGb: number): AzureConfig {
    knownKeys(r, "azure", ["resourceGroup", "createResourceGroup", "skuName", "skuTier", "delegatedSubnetId", "privateDnsZoneId"]);
    const resourceGroup = r.string("azure.resourceGroup", "oauth2-prod-rg");
    if (!/^[-\w._()]{1,89}[-\w_()]$/.test(resourceGroup)) {
        r.fail("azure.resourceGroup", `"${resourceGroup}" is not an Azure resource group name`);
    }
    const skuName = r.string("azure.skuName", "Standard_D4ds_v5");
    if (!/^Standard_[A-Za-z0-9_]+$/.test(skuName)) {
        r.fail("azure.skuName", `"${skuName}" is not a Flexible Server compute size such as Standard_D4ds_v5`);
    }
    const skuTier = r.oneOf<AzureConfig["skuTier"]>("azure.skuTier", ["Burstable", "GeneralPurpose", "MemoryOptimized"], "GeneralPurpose");
    if (skuTier === "Burstable") {
        r.fail("azure.skuTier", "Burstable servers support neither zone-redundant high availability nor replicas");
    }
    if (!AZURE_STORAGE_SIZES_GB.includes(allocatedStorageGb)) {
        r.fail("allocatedStorageGb", `${allocatedStorageGb} is not an Azure Flexible Server storage size (${AZURE_STORAGE_SIZES_GB.join(", ")})`);
    }
    const delegatedSubnetId = r.optionalString("azure.delegatedSubnetId");
    const privateDnsZoneId = r.optionalString("azure.privateDnsZoneId");
    const armId = /^\/subscriptions\/[0-9a-f-]{36}\/resourceGroups\/[^/]+\/providers\/.+$/i;
    if (delegatedSubnetId && !armId.test(delegatedSubnetId)) {
        r.fail("azure.delegatedSubnetId", `"${delegatedSubnetId}" is not a subnet resource id (/subscriptions/.../subnets/...)`);
    }
    if (privateDnsZoneId && !armId.test(privateDnsZoneId)) {
        r.fail("azure.privateDnsZoneId", `"${privateDnsZoneId}" is not a private DNS zone resource id`);
    }
    if (Boolean(delegatedSubnetId) !== Boolean(privateDnsZoneId)) {
        r.fail(delegatedSubnetId ? "azure.privateDnsZoneId" : "azure.delegatedSubnetId", "VNet integration needs both azure.delegatedSubnetId and azure.privateDnsZoneId");
    }
    return {
        resourceGroup,
        createResourceGroup: r.boolean("azure.createResourceGroup", true),
        skuName,
        skuTier,
        delegatedSubnetId,
        privateDnsZoneId,
    };
}

function parseGcp(r: Reader): GcpConfig {
    knownKeys(r, "gcp", ["project", "tier", "edition", "privateNetwork", "transactionLogRetentionDays", "backupLocation"]);
    const project = r.raw("gcp.project") ?? r.raw("gcp:project");
    if (project === undefined) {
        r.fail("gcp.project", "is required (or set gcp:project): the project of the Cloud SQL instance");
    } else if (!/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/.test(project)) {
        r.fail("gcp.project", `"${project}" is not a Google Cloud project id`);
    }
    const edition = r.oneOf<GcpConfig["edition"]>("gcp.edition", ["ENTERPRISE", "ENTERPRISE_PLUS"], "ENTERPRISE");
    const tier = r.string("gcp.tier", "db-custom-4-16384");
    if (!/^db-[a-z0-9-]+$/.test(tier)) {
        r.fail("gcp.tier", `"${tier}" is not a Cloud SQL machine tier such as db-custom-4-16384`);
    } else if (edition === "ENTERPRISE_PLUS" && !tier.startsWith("db-perf-optimized-")) {
        r.fail("gcp.tier", `"${tier}" is not available on ENTERPRISE_PLUS (use db-perf-optimized-N-*)`);
    }
    const privateNetwork = r.string("gcp.privateNetwork");
    if (privateNetwork && !/^projects\/[a-z][a-z0-9-]+\/global\/networks\/[a-z][a-z0-9-]*$/.test(privateNetwork)) {
        r.fail("gcp.privateNetwork", `"${privateNetwork}" is not a VPC network such as projects/my-project/global/networks/oauth2-vpc`);
    }
    const maxLogDays = edition === "ENTERPRISE_PLUS" ? 35 : 7;
    const transactionLogRetentionDays = r.integer("gcp.transactionLogRetentionDays", 7, 1, maxLogDays);
    const backupLocation = r.optionalString("gcp.backupLocation");
    if (backupLocation && !/^[a-z]+(-[a-z]+\d)?$/.test(backupLocation)) {
        r.fail("gcp.backupLocation", `"${backupLocation}" is not a Cloud Storage location such as us or us-central1`);
    }
    return { project: project ?? "", tier, edition, privateNetwork, transactionLogRetentionDays, backupLocation };
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

/** Milliseconds since the epoch of an RFC 3339 time, or undefined when it is not one (or not a real date). */
export function parseRfc3339(value: string): number | undefined {
    const m = RFC3339.exec(value);
    if (!m) {
        return undefined;
    }
    const ms = Date.parse(value);
    if (Number.isNaN(ms)) {
        return undefined;
    }
    // Reject dates that Date.parse rolls over (2024-02-30 -> March 1): check the calendar fields.
    const offset = m[8] === "Z" ? 0 : (m[8][0] === "-" ? -1 : 1) * (Number(m[8].slice(1, 3)) * 60 + Number(m[8].slice(4, 6)));
    const local = new Date(ms + offset * 60_000);
    const same =
        local.getUTCFullYear() === Number(m[1]) &&
        local.getUTCMonth() + 1 === Number(m[2]) &&
        local.getUTCDate() === Number(m[3]) &&
        local.getUTCHours() === Number(m[4]) &&
        local.getUTCMinutes() === Number(m[5]);
    return same ? ms : undefined;
}

/** UTC, second precision: 2024-01-15T10:00:00Z, the form RDS, Azure and Cloud SQL all accept. */
export function toUtc(ms: number): string {
    return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(".000Z", "Z");
}

const AWS_SNAPSHOT_ID = /^(rds:)?[a-zA-Z](?!.*--)[a-zA-Z0-9-]{0,254}(?<!-)$/;
const AWS_SNAPSHOT_ARN = /^arn:aws[a-z-]*:rds:[a-z0-9-]+:\d{12}:snapshot:[A-Za-z0-9:_-]+$/;

function parseRestore(r: Reader, cloud: Cloud, role: Role, retentionDays: number, gcp: GcpConfig | undefined, now: Date): RestoreConfig | undefined {
    knownKeys(r, "restore", ["fromSnapshot", "pointInTime"]);
    const fromSnapshot = r.optionalString("restore.fromSnapshot");
    const pointInTime = r.optionalString("restore.pointInTime");
    if (fromSnapshot === undefined && pointInTime === undefined) {
        return undefined;
    }
    if (fromSnapshot !== undefined && pointInTime !== undefined) {
        r.fail("restore", "set one of restore.fromSnapshot or restore.pointInTime, not both");
        return undefined;
    }
    if (cloud !== "aws" && role !== "primary") {
        r.fail("restore", `on ${cloud}, restores are declared in the primary stack (beside ${"oauth2-postgres"}); the standby holds only the replica`);
        return undefined;
    }
    if (fromSnapshot !== undefined) {
        if (cloud === "azure") {
            r.fail("restore.fromSnapshot", "Azure Flexible Server restores from a point in time of its backups; use restore.pointInTime");
        } else if (cloud === "gcp" && !/^\d{1,20}$/.test(fromSnapshot)) {
            r.fail("restore.fromSnapshot", `"${fromSnapshot}" is not a Cloud SQL backup id (digits, from gcloud sql backups list)`);
        } else if (cloud === "aws" && !AWS_SNAPSHOT_ID.test(fromSnapshot) && !AWS_SNAPSHOT_ARN.test(fromSnapshot)) {
            r.fail("restore.fromSnapshot", `"${fromSnapshot}" is not an RDS snapshot identifier or snapshot ARN (e.g. rds:oauth2-postgres-2024-01-15-05-00)`);
        }
        return { mode: "snapshot", fromSnapshot };
    }
    const time = pointInTime!;
    const ms = parseRfc3339(time);
    if (ms === undefined) {
        r.fail("restore.pointInTime", `"${time}" is not an RFC 3339 time such as 2024-01-15T10:00:00Z`);
        return undefined;
    }
    if (ms > now.getTime()) {
        r.fail("restore.pointInTime", `"${time}" is in the future (now is ${toUtc(now.getTime())})`);
        return undefined;
    }
    // The restorable window: the automated backups' retention on RDS and Azure; Cloud SQL's transaction logs.
    const windowDays = cloud === "gcp" ? (gcp?.transactionLogRetentionDays ?? 7) : retentionDays;
    const earliest = now.getTime() - windowDays * 24 * 3600 * 1000;
    if (ms < earliest) {
        const what = cloud === "gcp" ? "transaction log retention" : "backup retention";
        r.fail("restore.pointInTime", `"${time}" is outside the ${windowDays}-day point-in-time window (${what}); the earliest restorable time is ${toUtc(earliest)}`);
        return undefined;
    }
    return { mode: "pointInTime", pointInTime: toUtc(ms) };
}

function parseManualSnapshots(r: Reader, cloud: Cloud): string[] {
    const pattern = cloud === "azure" ? /^[a-zA-Z0-9][a-zA-Z0-9_-]{0,127}$/ : /^[a-zA-Z](?!.*--)[a-zA-Z0-9-]{0,254}(?<!-)$/;
    const ids = r.json<string[]>("manualSnapshots", [], stringList(pattern, "snapshot identifiers", 0));
    if (ids.length > 0 && cloud === "gcp") {
        r.fail("manualSnapshots", "Cloud SQL on-demand backups are not declarable resources; run gcloud sql backups create --instance=oauth2-postgres");
        return [];
    }
    const duplicate = ids.find((id, i) => ids.indexOf(id) !== i);
    if (duplicate) {
        r.fail("manualSnapshots", `"${duplicate}" is listed twice`);
    }
    return ids;
}

const SNS_ARN = /^arn:aws[a-z-]*:sns:([a-z0-9-]+):\d{12}:[A-Za-z0-9_-]{1,256}$/;

function parseAlarms(r: Reader, cloud: Cloud, environment: Environment, region: string): AlarmsConfig {
    if (cloud !== "aws") {
        for (const key of ["alarmTopicArn", "healthCheckAlarmTopicArn"]) {
            if (r.raw(key) !== undefined) {
                r.fail(key, `CloudWatch alarms are declared on aws stacks only; ${cloud} alerting is out of this program's scope`);
            }
        }
        return {};
    }
    const topicArn = r.optionalString("alarmTopicArn");
    if (topicArn === undefined && environment === "production") {
        r.fail("alarmTopicArn", `is required for production: the SNS topic (in ${region}) that the RTO/RPO alarms notify`);
    }
    const topicMatch = topicArn ? SNS_ARN.exec(topicArn) : null;
    if (topicArn && !topicMatch) {
        r.fail("alarmTopicArn", `"${topicArn}" is not an SNS topic ARN (arn:aws:sns:<region>:<account>:<name>)`);
    } else if (topicMatch && region && topicMatch[1] !== region) {
        r.fail("alarmTopicArn", `"${topicArn}" is in ${topicMatch[1]}; CloudWatch alarms notify topics in their own region (${region})`);
    }
    let healthCheckTopicArn = r.optionalString("healthCheckAlarmTopicArn");
    if (healthCheckTopicArn) {
        const m = SNS_ARN.exec(healthCheckTopicArn);
        if (!m) {
            r.fail("healthCheckAlarmTopicArn", `"${healthCheckTopicArn}" is not an SNS topic ARN`);
        } else if (m[1] !== "us-east-1") {
            r.fail("healthCheckAlarmTopicArn", `"${healthCheckTopicArn}" must be in us-east-1, where Route 53 publishes HealthCheckStatus`);
        }
    } else if (topicArn && region === "us-east-1") {
        healthCheckTopicArn = topicArn;
    } else if (topicArn) {
        r.fail("healthCheckAlarmTopicArn", `is required when the stack's region (${region}) is not us-east-1: the SNS topic in us-east-1 for the Route 53 health-check alarm`);
    }
    return { topicArn, healthCheckTopicArn };
}
