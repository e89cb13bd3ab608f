/**
 * The rules between keys, as one zod refinement over the parsed values: what a cloud or a role requires,
 * regions that must differ and match the provider, windows that must be long enough and not overlap,
 * retention within the table and the clouds' limits, restore times inside the point-in-time window.
 * A key whose own value was invalid is absent from the values; the rules that need it are skipped, so each
 * mistake is reported once.
 */
import { z } from "zod";
import { AWS_REGION, AZURE_REGION, GCP_REGION, parseDailyWindow, WEEK_DAYS, WEEKLY_WINDOW } from "../formats";
import { DATA_CLASSES, DataClass, MAX_MANAGED_BACKUP_RETENTION_DAYS, retentionRow } from "../retention";
import { DEFAULT_SCHEDULES, validateCron } from "../schedule";
import { CLOSED_SECTIONS, PROJECT, SECTION_DEFAULTS, SNS_TOPIC, Values } from "./schema";
import { parseRfc3339, toUtc } from "./time";

/** CloudWatch Logs accepts only these retention periods (0 = never expire). */
export const CLOUDWATCH_RETENTION_DAYS = [
    0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];
/** Storage sizes (GiB) that Azure Flexible Server offers. */
export const AZURE_STORAGE_SIZES_GB = [32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32767];

const AWS_SNAPSHOT_ID = /^(rds:)?[a-zA-Z](?!.*--)[a-zA-Z0-9-]{0,254}(?<!-)$/;
const AWS_SNAPSHOT_ARN = /^arn:aws[a-z-]*:rds:[a-z0-9-]+:\d{12}:snapshot:[A-Za-z0-9:_-]+$/;
const DAY_MS = 24 * 3600 * 1000;

/** What the rules know besides the values: which keys were set at all, the stack, the clock. */
export interface RuleContext {
    stack: string;
    now: Date;
    /** The raw value of a key ("aws:region", "gcp:project" or a project key), undefined when unset. */
    raw(key: string): string | undefined;
    /** Whether the key's own value was already reported invalid ("gcp.project", "tags"). */
    invalid(key: string): boolean;
}

type Fail = (key: string, message: string) => void;

function required(v: Values, ctx: RuleContext, fail: Fail, keys: Array<keyof Values>, why = ""): void {
    for (const key of keys) {
        if (ctx.raw(key) === undefined) {
            fail(key, `is required${why}`);
        }
    }
}

function regions(v: Values, ctx: RuleContext, fail: Fail): void {
    const cloud = v.cloud ?? "aws";
    required(v, ctx, fail, ["primaryRegion", "drRegion"]);
    const pattern = cloud === "aws" ? AWS_REGION : cloud === "azure" ? AZURE_REGION : GCP_REGION;
    for (const key of ["primaryRegion", "drRegion"] as const) {
        const value = v[key];
        if (value && !pattern.test(value)) {
            fail(key, `"${value}" is not a ${cloud} region name`);
        }
    }
    if (v.primaryRegion && v.primaryRegion === v.drRegion) {
        fail("drRegion", `"${v.drRegion}" equals primaryRegion; the DR region must be a different region`);
    }
    if (cloud === "aws") {
        providerRegion(v, ctx, fail, v.role === "standby" ? "drRegion" : "primaryRegion");
        return;
    }
    // azure/gcp: the backup storage's AWS regions.
    required(v, ctx, fail, ["awsPrimaryRegion", "awsDrRegion"]);
    if (v.awsPrimaryRegion && v.awsPrimaryRegion === v.awsDrRegion) {
        fail("awsDrRegion", `"${v.awsDrRegion}" equals awsPrimaryRegion; the backups' DR region must be a different region`);
    }
    providerRegion(v, ctx, fail, v.role === "standby" ? "awsDrRegion" : "awsPrimaryRegion");
}

/** aws:region is the region of this role's resources. */
function providerRegion(v: Values, ctx: RuleContext, fail: Fail, expected: "primaryRegion" | "drRegion" | "awsPrimaryRegion" | "awsDrRegion"): void {
    const role = v.role ?? "primary";
    const region = v[expected] ?? ctx.raw(expected) ?? "";
    const actual = ctx.raw("aws:region");
    if (actual === undefined) {
        fail("aws:region", `is required and must equal ${PROJECT}:${expected} (${region}) for a ${role} stack`);
    } else if (region && actual !== region) {
        fail("aws:region", `"${actual}" must equal ${PROJECT}:${expected} (${region}) for a ${role} stack`);
    }
}

function dnsAndNetwork(v: Values, ctx: RuleContext, fail: Fail): void {
    const aws = (v.cloud ?? "aws") === "aws";
    required(v, ctx, fail, ["domain"]);
    if (aws) {
        required(v, ctx, fail, ["hostedZoneId"]);
    }
    if (aws || ctx.raw("hostedZoneId") !== undefined) {
        required(v, ctx, fail, ["regionalEndpoint"]);
    }
    if (v.regionalEndpoint && v.regionalEndpoint === v.domain) {
        fail("regionalEndpoint", `must be the regional load balancer, not the failover name ${v.domain} itself`);
    }
    if (aws && v.instanceClass !== undefined && !/^db\.[a-z0-9]+\.[a-z0-9]+$/.test(v.instanceClass)) {
        fail("instanceClass", `"${v.instanceClass}" is not an RDS instance class such as db.r6g.large`);
    }
    if (v.allocatedStorageGb !== undefined && v.maxAllocatedStorageGb !== undefined && v.maxAllocatedStorageGb < v.allocatedStorageGb) {
        fail("maxAllocatedStorageGb", `${v.maxAllocatedStorageGb} is below allocatedStorageGb (${v.allocatedStorageGb})`);
    }
    if (!aws) {
        return;
    }
    if (ctx.raw("subnetIds") === undefined) {
        fail("subnetIds", "is required: at least two existing subnets in different availability zones");
    } else if (v.subnetIds && v.subnetIds.length < 2) {
        fail("subnetIds", `needs at least 2 subnet ids, got ${v.subnetIds.length}`);
    }
    if (ctx.raw("securityGroupIds") === undefined) {
        fail("securityGroupIds", "is required: the security groups that may reach PostgreSQL");
    } else if (v.securityGroupIds && v.securityGroupIds.length < 1) {
        fail("securityGroupIds", "needs at least 1 security group ids, got 0");
    }
}

/** Minutes since Sunday 00:00 of a weekly window, as [start, end) ranges (a window across the week's end split). */
function weeklyRanges(start: number, end: number): Array<[number, number]> {
    return end > start ? [[start, end]] : [[start, 7 * 1440], [0, end]];
}

function windows(v: Values, fail: Fail): void {
    const backup = v.backupWindow ? parseDailyWindow(v.backupWindow) : undefined;
    if (backup && backup.length < 30) {
        fail("backupWindow", `"${v.backupWindow}" is ${backup.length} minutes long; RDS needs at least 30`);
    }
    const m = v.maintenanceWindow ? WEEKLY_WINDOW.exec(v.maintenanceWindow) : null;
    if (!backup || !m) {
        return;
    }
    const minute = (day: string, hh: string, mm: string) => WEEK_DAYS.indexOf(day) * 1440 + Number(hh) * 60 + Number(mm);
    const maintenance = weeklyRanges(minute(m[1], m[2], m[3]), minute(m[4], m[5], m[6]));
    // The backup window recurs every day of the week; it may cross midnight.
    const daily = WEEK_DAYS.flatMap((_, day) => weeklyRanges(day * 1440 + backup.start, (day * 1440 + backup.start + backup.length) % (7 * 1440)));
    if (maintenance.some(([s1, e1]) => daily.some(([s2, e2]) => s1 < e2 && s2 < e1))) {
        fail("maintenanceWindow", `"${v.maintenanceWindow}" overlaps the backup window ${v.backupWindow}; RDS rejects overlapping windows`);
    }
}

function retention(v: Values, fail: Fail): void {
    for (const [dataClass, raw] of Object.entries(v.retention ?? {})) {
        const key = `retention.${dataClass}`;
        if (!DATA_CLASSES.includes(dataClass as DataClass)) {
            fail(key, `unknown data class; the retention table has ${DATA_CLASSES.join(", ")}`);
            continue;
        }
        const row = retentionRow(dataClass as DataClass);
        const value = Number(raw);
        if (!Number.isInteger(value)) {
            fail(key, `${JSON.stringify(raw)} is not a whole number of ${row.unit}`);
        } else if (value < row.minimum) {
            fail(key, `${value} ${row.unit} is below the retention table's minimum of ${row.minimum} ${row.unit} for ${row.dataType}`);
        } else if (row.dataClass === "database" && value > MAX_MANAGED_BACKUP_RETENTION_DAYS) {
            fail(key, `${value} days exceeds the ${MAX_MANAGED_BACKUP_RETENTION_DAYS}-day maximum of managed database backups`);
        } else if (row.dataClass === "audit" && !CLOUDWATCH_RETENTION_DAYS.includes(value)) {
            fail(key, `${value} days is not a CloudWatch Logs retention period (365, 400, 545, 731, 1096, ...)`);
        }
    }
}

function roles(v: Values, ctx: RuleContext, fail: Fail): void {
    required(v, ctx, fail, ["role"]);
    if (v.role === "standby") {
        required(v, ctx, fail, ["primaryStack"]);
        if (v.primaryStack && v.primaryStack.split("/")[2] === ctx.stack) {
            fail("primaryStack", `"${v.primaryStack}" is this stack; a standby stack reads the primary stack`);
        }
    }
    if (v.promote && v.role !== "standby") {
        fail("promote", "only a standby stack has a replica to promote");
    }
    const awsPrimary = (v.cloud ?? "aws") === "aws" && v.role === "primary";
    if (v.awsBackup?.enabled && !awsPrimary) {
        fail("awsBackup.enabled", "AWS Backup is declared by the aws primary stack (it copies into the DR region itself)");
    }
}

function schedules(v: Values, fail: Fail): void {
    for (const [job, expression] of Object.entries(v.backupJobs?.schedules ?? {})) {
        const key = `backupJobs.schedules.${job}`;
        if (!(job in DEFAULT_SCHEDULES)) {
            fail(key, `unknown job; the jobs are ${Object.keys(DEFAULT_SCHEDULES).join(", ")}`);
            continue;
        }
        try {
            validateCron(String(expression));
        } catch (err) {
            fail(key, (err as Error).message);
        }
    }
}

function azure(v: Values, fail: Fail): void {
    if (v.cloud !== "azure" || !v.azure) {
        return;
    }
    if (v.azure.skuTier === "Burstable") {
        fail("azure.skuTier", "Burstable servers support neither zone-redundant high availability nor replicas");
    }
    const storage = v.allocatedStorageGb;
    if (storage !== undefined && !AZURE_STORAGE_SIZES_GB.includes(storage)) {
        fail("allocatedStorageGb", `${storage} is not an Azure Flexible Server storage size (${AZURE_STORAGE_SIZES_GB.join(", ")})`);
    }
    const { delegatedSubnetId, privateDnsZoneId } = v.azure;
    if (Boolean(delegatedSubnetId) !== Boolean(privateDnsZoneId)) {
        fail(delegatedSubnetId ? "azure.privateDnsZoneId" : "azure.delegatedSubnetId", "VNet integration needs both azure.delegatedSubnetId and azure.privateDnsZoneId");
    }
}

function gcp(v: Values, ctx: RuleContext, fail: Fail): void {
    if (v.cloud !== "gcp" || !v.gcp) {
        return;
    }
    if (v.gcp.project === undefined && !ctx.invalid("gcp.project")) {
        const project = ctx.raw("gcp:project");
        if (project === undefined) {
            fail("gcp.project", "is required (or set gcp:project): the project of the Cloud SQL instance");
        } else if (!/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/.test(project)) {
            fail("gcp.project", `"${project}" is not a Google Cloud project id`);
        }
    }
    const edition = v.gcp.edition ?? SECTION_DEFAULTS.gcp.edition;
    if (v.gcp.tier && edition === "ENTERPRISE_PLUS" && !v.gcp.tier.startsWith("db-perf-optimized-")) {
        fail("gcp.tier", `"${v.gcp.tier}" is not available on ENTERPRISE_PLUS (use db-perf-optimized-N-*)`);
    }
    if (v.gcp.privateNetwork === undefined && !ctx.invalid("gcp.privateNetwork")) {
        fail("gcp.privateNetwork", "is required");
    }
    const days = v.gcp.transactionLogRetentionDays;
    if (days !== undefined && edition !== "ENTERPRISE_PLUS" && days > 7) {
        fail("gcp.transactionLogRetentionDays", `"${days}" is not an integer between 1 and 7`);
    }
}

function restore(v: Values, ctx: RuleContext, fail: Fail): void {
    const { fromSnapshot, pointInTime } = v.restore ?? {};
    const cloud = v.cloud ?? "aws";
    if (fromSnapshot === undefined && pointInTime === undefined) {
        return;
    }
    if (fromSnapshot !== undefined && pointInTime !== undefined) {
        fail("restore", "set one of restore.fromSnapshot or restore.pointInTime, not both");
        return;
    }
    if (cloud !== "aws" && v.role !== "primary") {
        fail("restore", `on ${cloud}, restores are declared in the primary stack (beside oauth2-postgres); the standby holds only the replica`);
        return;
    }
    if (fromSnapshot !== undefined) {
        if (cloud === "azure") {
            fail("restore.fromSnapshot", "Azure Flexible Server restores from a point in time of its backups; use restore.pointInTime");
        } else if (cloud === "gcp" && !/^\d{1,20}$/.test(fromSnapshot)) {
            fail("restore.fromSnapshot", `"${fromSnapshot}" is not a Cloud SQL backup id (digits, from gcloud sql backups list)`);
        } else if (cloud === "aws" && !AWS_SNAPSHOT_ID.test(fromSnapshot) && !AWS_SNAPSHOT_ARN.test(fromSnapshot)) {
            fail("restore.fromSnapshot", `"${fromSnapshot}" is not an RDS snapshot identifier or snapshot ARN (e.g. rds:oauth2-postgres-2024-01-15-05-00)`);
        }
        return;
    }
    const time = pointInTime!;
    const ms = parseRfc3339(time);
    if (ms === undefined) {
        fail("restore.pointInTime", `"${time}" is not an RFC 3339 time such as 2024-01-15T10:00:00Z`);
        return;
    }
    if (ms > ctx.now.getTime()) {
        fail("restore.pointInTime", `"${time}" is in the future (now is ${toUtc(ctx.now.getTime())})`);
        return;
    }
    // The restorable window: the automated backups' retention on RDS and Azure; Cloud SQL's transaction logs.
    const windowDays = pointInTimeWindowDays(v);
    const earliest = ctx.now.getTime() - windowDays * DAY_MS;
    if (ms < earliest) {
        const what = cloud === "gcp" ? "transaction log retention" : "backup retention";
        fail("restore.pointInTime", `"${time}" is outside the ${windowDays}-day point-in-time window (${what}); the earliest restorable time is ${toUtc(earliest)}`);
    }
}

/** Days back a point-in-time restore can reach. */
export function pointInTimeWindowDays(v: Values): number {
    if (v.cloud === "gcp") {
        return v.gcp?.transactionLogRetentionDays ?? SECTION_DEFAULTS.gcp.transactionLogRetentionDays;
    }
    const raised = Number(v.retention?.database);
    return Number.isInteger(raised) ? raised : retentionRow("database").minimum;
}

function manualSnapshots(v: Values, fail: Fail): void {
    const ids = v.manualSnapshots ?? [];
    if (ids.length > 0 && v.cloud === "gcp") {
        fail("manualSnapshots", "Cloud SQL on-demand backups are not declarable resources; run gcloud sql backups create --instance=oauth2-postgres");
        return;
    }
    const pattern = v.cloud === "azure" ? /^[a-zA-Z0-9][a-zA-Z0-9_-]{0,127}$/ : /^[a-zA-Z](?!.*--)[a-zA-Z0-9-]{0,254}(?<!-)$/;
    const bad = ids.find((id) => !pattern.test(id));
    if (bad !== undefined) {
        fail("manualSnapshots", `"${bad}" is not a valid snapshot identifier`);
    }
    const duplicate = ids.find((id, i) => ids.indexOf(id) !== i);
    if (duplicate) {
        fail("manualSnapshots", `"${duplicate}" is listed twice`);
    }
}

/** This stack's region: the primary region for `primary`, the DR region for `standby`. */
export function regionOf(v: Values): string {
    return (v.role === "standby" ? v.drRegion : v.primaryRegion) ?? "";
}

function alarms(v: Values, ctx: RuleContext, fail: Fail): void {
    const cloud = v.cloud ?? "aws";
    if (cloud !== "aws") {
        for (const key of ["alarmTopicArn", "healthCheckAlarmTopicArn"]) {
            if (ctx.raw(key) !== undefined) {
                fail(key, `CloudWatch alarms are declared on aws stacks only; ${cloud} alerting is out of this program's scope`);
            }
        }
        return;
    }
    const region = regionOf(v);
    const topic = v.alarmTopicArn;
    if (ctx.raw("alarmTopicArn") === undefined && (v.environment ?? "production") === "production") {
        fail("alarmTopicArn", `is required for production: the SNS topic (in ${region}) that the RTO/RPO alarms notify`);
    }
    const topicRegion = topic ? SNS_TOPIC.exec(topic)?.[1] : undefined;
    if (topicRegion && region && topicRegion !== region) {
        fail("alarmTopicArn", `"${topic}" is in ${topicRegion}; CloudWatch alarms notify topics in their own region (${region})`);
    }
    const healthCheckTopic = v.healthCheckAlarmTopicArn;
    if (healthCheckTopic) {
        const at = SNS_TOPIC.exec(healthCheckTopic)?.[1];
        if (at !== "us-east-1") {
            fail("healthCheckAlarmTopicArn", `"${healthCheckTopic}" must be in us-east-1, where Route 53 publishes HealthCheckStatus`);
        }
    } else if (topic && region !== "us-east-1" && ctx.raw("healthCheckAlarmTopicArn") === undefined) {
        fail("healthCheckAlarmTopicArn", `is required when the stack's region (${region}) is not us-east-1: the SNS topic in us-east-1 for the Route 53 health-check alarm`);
    }
}

function unknownKeys(v: Values, fail: Fail): void {
    for (const [root, known] of Object.entries(CLOSED_SECTIONS)) {
        for (const key of Object.keys(v[root as keyof typeof CLOSED_SECTIONS] ?? {})) {
            if (!(known as readonly string[]).includes(key)) {
                fail(`${root}.${key}`, `unknown key; ${root} has ${known.join(", ")}`);
            }
        }
    }
}

/** Every rule between keys, as one zod refinement of the parsed values. */
export function crossFieldRules(ctx: RuleContext) {
    return z.custom<Values>().superRefine((values, zctx) => {
        const fail: Fail = (key, message) => zctx.addIssue({ code: "custom", path: key.includes(":") ? [key] : key.split("."), message });
        unknownKeys(values, fail);
        roles(values, ctx, fail);
        regions(values, ctx, fail);
        dnsAndNetwork(values, ctx, fail);
        windows(values, fail);
        retention(values, fail);
        schedules(values, fail);
        azure(values, fail);
        gcp(values, ctx, fail);
        restore(values, ctx, fail);
        manualSnapshots(values, fail);
        alarms(values, ctx, fail);
    });
}
