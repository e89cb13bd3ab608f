/**
 * The recovery points of one stack's database, read from the AWS APIs (AWS SDK for JavaScript v3):
 *
 *   RDS, primary region   DescribeDBInstances (the instance, its replicas), DescribeDBInstanceAutomatedBackups
 *                         (the point-in-time window), DescribeDBSnapshots (automated and manual snapshots)
 *   RDS, DR region        DescribeDBInstanceAutomatedBackups (prod's backups replicated there),
 *                         DescribeDBSnapshots (the replica's snapshots, copies of prod's)
 *   CloudWatch            GetMetricStatistics AWS/RDS ReplicaLag of each replica, in its region
 *   AWS Backup            ListRecoveryPointsByBackupVault of the prod and DR vaults, by the instance's ARN
 *   S3                    ListObjectsV2 + GetObject of the dump manifests (<prefix>manifests/*.json), HeadObject
 *                         of the dump object each names (a missing one is not restorable), GetObject of
 *                         the newest verification record of each (<prefix>verifications/<name>/*.json), in
 *                         the stack's bucket, the standby's (DR copies) and the vault account's; HeadObject
 *                         (ReplicationStatus) of the newest manifest not yet copied
 *
 * Every source is read even when another failed (a deleted instance still has snapshots and dumps); a
 * failure is reported with its exit code: 3 for the database's own APIs (RDS, CloudWatch, and missing
 * credentials, found before any call), 4 for storage (S3, AWS Backup).
 */
import {
    DBInstance,
    DBInstanceAutomatedBackup,
    DBSnapshot,
    DescribeDBInstancesCommand,
    paginateDescribeDBInstanceAutomatedBackups,
    paginateDescribeDBSnapshots,
    RDSClient,
    RDSClientConfig,
} from "@aws-sdk/client-rds";
import { createHash } from "crypto";
import { GetObjectCommand, HeadObjectCommand, ListObjectVersionsCommand, paginateListObjectsV2, S3Client } from "@aws-sdk/client-s3";
import { BackupClient, paginateListRecoveryPointsByBackupVault, RecoveryPointByBackupVault } from "@aws-sdk/client-backup";
import { CloudWatchClient, GetMetricStatisticsCommand } from "@aws-sdk/client-cloudwatch";
import { configRestore, dumpRestore, EXIT, humanBytes, newestFirst, PICK_TIME, RecoveryPoint, Report, Restore, shellWord, SourceError, Unlisted, utc, Verification, windowRestore } from "./points";
import type { Target, Vault } from "./stack";

export type Service = "rds" | "s3" | "backup" | "cloudwatch";

/** What every client takes besides its region: an endpoint (moto in tests), credentials, a request handler. */
export interface ClientOptions {
    endpoint?: string;
    credentials?: RDSClientConfig["credentials"];
    requestHandler?: RDSClientConfig["requestHandler"];
    maxAttempts?: number;
}

/** How the clients are made: the default is the SDK's own chain (environment, profile, role, AWS_ENDPOINT_URL). */
export type ClientFactory = (service: Service, region: string) => ClientOptions;

export const defaultClients: ClientFactory = () => ({});

/**
 * How long one request may go without an answer (seconds, RECOVERY_POINTS_TIMEOUT_SECONDS, default 10): an
 * endpoint that accepts the connection and never answers (a stalled proxy, a paused S3 endpoint) is an error
 * naming the service, region and resource after that many seconds per attempt (the SDK's attempts:
 * AWS_MAX_ATTEMPTS, default 3), not a wait without end. The connection itself: 5 s.
 */
export function requestTimeoutSeconds(env: NodeJS.ProcessEnv = process.env): number {
    const raw = env.RECOVERY_POINTS_TIMEOUT_SECONDS;
    if (raw === undefined || raw === "") {
        return 10;
    }
    const value = Number(raw);
    if (!Number.isFinite(value) || value <= 0) {
        throw new RangeError(`RECOVERY_POINTS_TIMEOUT_SECONDS must be a number of seconds above 0, not ${JSON.stringify(raw)}`);
    }
    return value;
}
const CONNECT_TIMEOUT_MS = 5000;
/** How often the calls still waiting for an answer are said on stderr (progress): 5 s (the tests: shorter). */
const progressIntervalMs = () => Number(process.env.TEST_ONLY_RECOVERY_POINTS_PROGRESS_MS) || 5000;

/** The RDS snapshot identifiers restore.fromSnapshot takes as such (lib/config/rules/restore.ts); others by ARN. */
const SNAPSHOT_ID = /^(rds:)?[a-zA-Z](?!.*--)[a-zA-Z0-9-]{0,254}(?<!-)$/;
const LAG_WINDOW_MS = 15 * 60 * 1000;
const MANIFEST_READS_IN_PARALLEL = 8;

interface Found {
    points: RecoveryPoint[];
    notes: string[];
    errors: SourceError[];
}

const empty = (): Found => ({ points: [], notes: [], errors: [] });

/** What to renew when the credentials in use have expired: the environment's keys, else the profile's. */
function renewCredentials(): string {
    if (process.env.AWS_ACCESS_KEY_ID) {
        return `AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN in the environment: set them to new credentials (e.g. aws configure export-credentials --profile <profile> --format env), or unset them and set AWS_PROFILE, then run again`;
    }
    const profile = process.env.AWS_PROFILE;
    return profile
        ? `AWS_PROFILE=${profile}: renew its session (aws sso login --profile ${profile}) or its keys, then run again`
        : "renew them (aws sso login, or new keys), then run again";
}

/** One line: the SDK's error name and message, with what it means here. */
export function explain(err: unknown, where: { service: string; region: string; resource?: string }): string {
    const e = err as { name?: string; code?: string; message?: string; Code?: string; $metadata?: { httpStatusCode?: number }; $response?: { statusCode?: number; headers?: Record<string, string> } };
    const name = e.name ?? e.Code ?? "Error";
    const message = (e.message ?? String(err)).split("\n")[0];
    const code = e.code ?? "";
    if (name === "CredentialsProviderError" || /Could not load credentials/i.test(message)) {
        const profile = process.env.AWS_PROFILE;
        if (profile) {
            // "set AWS_PROFILE" would send the operator in a circle: it is set, and gave nothing.
            return `no AWS credentials from AWS_PROFILE=${profile} (${message}): is the profile in ${process.env.AWS_CONFIG_FILE ?? "~/.aws/config"} or ${process.env.AWS_SHARED_CREDENTIALS_FILE ?? "~/.aws/credentials"}, with keys, a role or an SSO session that has not expired (aws sso login --profile ${profile})?`;
        }
        return `no AWS credentials (${message}): set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run where a role provides them`;
    }
    if (["ENOTFOUND", "EAI_AGAIN"].includes(code) || /getaddrinfo/.test(message)) {
        return `cannot reach ${where.service} in ${where.region} (${message}): is ${where.region} an AWS region?`;
    }
    if (name === "TimeoutError") {
        const seconds = /(\d+) ms/.exec(message);
        return `no answer from ${where.service} in ${where.region}${where.resource ? ` (${where.resource})` : ""}${seconds ? ` within ${Number(seconds[1]) / 1000} s` : ""} per attempt: a stalled endpoint or proxy (RECOVERY_POINTS_TIMEOUT_SECONDS, AWS_MAX_ATTEMPTS)`;
    }
    if (["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT"].includes(code)) {
        return `cannot reach ${where.service} in ${where.region} (${code}: ${message})`;
    }
    if (/AccessDenied|UnauthorizedOperation|NotAuthorized/i.test(name)) {
        return `${name} on ${where.service} ${where.region}${where.resource ? ` (${where.resource})` : ""}: ${message}`;
    }
    if (/ExpiredToken|RequestExpired|TokenRefreshRequired/i.test(name)) {
        return `the AWS credentials have expired (${name} from ${where.service} ${where.region}: ${message}): ${renewCredentials()}`;
    }
    if (name === "SyntaxError" && (e.$metadata !== undefined || e.$response !== undefined)) {
        // The SDK could not parse the answer: not the service's API (a web page of a proxy, a captive portal, an
        // endpoint that does not serve this service, e.g. moto 5's AWS Backup recovery points). Was the bare
        // "SyntaxError: Unexpected token '<', "<!doctype "... is not valid JSON".
        const status = e.$metadata?.httpStatusCode ?? e.$response?.statusCode;
        const type = e.$response?.headers?.["content-type"] ?? e.$response?.headers?.["Content-Type"];
        const endpoint = process.env.AWS_ENDPOINT_URL;
        return `the answer of ${where.service} in ${where.region}${where.resource ? ` (${where.resource})` : ""} is not its API: HTTP ${status ?? "?"}${type ? ` with a ${type.split(";")[0]} body` : ""} (${message}): ${endpoint ? `AWS_ENDPOINT_URL=${endpoint} does not serve ${where.service}` : `a proxy (HTTPS_PROXY) or another server answered for ${where.service}`}`;
    }
    if (/InvalidClientTokenId|UnrecognizedClient|SignatureDoesNotMatch|InvalidAccessKeyId/i.test(name)) {
        return `the AWS credentials are not valid for ${where.service} ${where.region} (${name}: ${message})`;
    }
    return `${name}: ${message}`;
}

const SERVICE_NAMES: Record<Service, string> = { rds: "RDS", s3: "S3", backup: "AWS Backup", cloudwatch: "CloudWatch" };

/** One call as the progress line names it: service, operation, region and the bucket/key or resource. */
function callLabel(service: Service, region: string, command: string, input: Record<string, unknown>): string {
    const operation = command.replace(/Command$/, "");
    const resource = input.Bucket !== undefined
        ? `s3://${String(input.Bucket)}/${String(input.Key ?? input.Prefix ?? "")}`
        : [input.DBInstanceIdentifier, input.BackupVaultName, input.Filters === undefined ? undefined : "filtered"].find((v) => typeof v === "string");
    return `${SERVICE_NAMES[service]} ${operation} ${region}${resource ? ` ${String(resource)}` : ""}`;
}

interface ClientWithStack {
    middlewareStack: { add(middleware: unknown, options: { step: "initialize" | "deserialize"; name: string }): void };
}

/**
 * How far this machine's clock may be from AWS's before the listing says so and counts in AWS's time: the `Date` of
 * an answer has whole seconds, and comes a round trip late.
 */
export const CLOCK_TOLERANCE_MS = 60_000;

class Clients {
    private readonly cache = new Map<string, unknown>();
    /** The calls sent and not yet answered (for the progress lines), by a unique token. */
    readonly pending = new Map<symbol, { label: string; since: number }>();
    /**
     * AWS's clock minus this machine's (ms), from the newest answer's `Date` header (every AWS API answer has one,
     * an error's too); undefined until an answer had one.
     */
    clockOffsetMs?: number;

    /** Notes the `Date` of an answer (its headers, from the raw HTTP response or an error's $response). */
    private noteDate(headers: Record<string, string | undefined> | undefined): void {
        const date = headers?.date ?? headers?.Date;
        const at = date === undefined ? NaN : Date.parse(date);
        if (!Number.isNaN(at)) {
            this.clockOffsetMs = at - Date.now();
        }
    }

    constructor(private readonly factory: ClientFactory) {}

    private make<T>(service: Service, region: string, build: (options: ClientOptions & { region: string }) => T): T {
        const key = `${service} ${region}`;
        if (!this.cache.has(key)) {
            const options = this.factory(service, region);
            const requestHandler = options.requestHandler ?? { connectionTimeout: CONNECT_TIMEOUT_MS, socketTimeout: requestTimeoutSeconds() * 1000 };
            const client = build({ region, ...options, requestHandler });
            (client as unknown as ClientWithStack).middlewareStack.add(
                (next: (args: { input: Record<string, unknown> }) => Promise<unknown>, context: { commandName?: string }) =>
                    async (args: { input: Record<string, unknown> }) => {
                        const token = Symbol();
                        this.pending.set(token, { label: callLabel(service, region, context.commandName ?? "call", args.input ?? {}), since: Date.now() });
                        try {
                            return await next(args);
                        } finally {
                            this.pending.delete(token);
                        }
                    },
                { step: "initialize", name: "oauth2DrPendingCalls" },
            );
            // Below the retries, each attempt's answer: its Date header is AWS's time (clock()).
            (client as unknown as ClientWithStack).middlewareStack.add(
                (next: (args: unknown) => Promise<{ response?: { headers?: Record<string, string> } }>) =>
                    async (args: unknown) => {
                        try {
                            const result = await next(args);
                            this.noteDate(result.response?.headers);
                            return result;
                        } catch (err) {
                            this.noteDate((err as { $response?: { headers?: Record<string, string> } }).$response?.headers);
                            throw err;
                        }
                    },
                { step: "deserialize", name: "oauth2DrServerClock" },
            );
            this.cache.set(key, client);
        }
        return this.cache.get(key) as T;
    }

    /**
     * `now` (this machine's clock) in AWS's time when the two differ by more than CLOCK_TOLERANCE_MS: a clock behind
     * clamped the windows' latest times to it (a window listed as ending hours early) and showed the dumps' ages as
     * 0 h, one ahead aged every copy. With `offsetMs` when it was corrected.
     */
    clock(now: Date): { now: Date; offsetMs?: number } {
        const offset = this.clockOffsetMs;
        return offset !== undefined && Math.abs(offset) > CLOCK_TOLERANCE_MS ? { now: new Date(now.getTime() + offset), offsetMs: offset } : { now };
    }

    /** The calls waiting for an answer, oldest first, with their seconds. */
    waiting(now: number = Date.now()): string[] {
        return [...this.pending.values()].sort((a, b) => a.since - b.since).map((p) => `${p.label} (${Math.round((now - p.since) / 1000)} s)`);
    }

    rds(region: string): RDSClient {
        return this.make("rds", region, (o) => new RDSClient(o));
    }

    s3(region: string): S3Client {
        // An endpoint override (moto, a VPC endpoint by IP) takes path-style requests.
        const pathStyle = (o: ClientOptions) => o.endpoint !== undefined || process.env.AWS_ENDPOINT_URL_S3 !== undefined || process.env.AWS_ENDPOINT_URL !== undefined;
        return this.make("s3", region, (o) => new S3Client({ ...o, forcePathStyle: pathStyle(o) }));
    }

    backup(region: string): BackupClient {
        return this.make("backup", region, (o) => new BackupClient(o));
    }

    cloudwatch(region: string): CloudWatchClient {
        return this.make("cloudwatch", region, (o) => new CloudWatchClient(o));
    }

    destroy(): void {
        for (const client of this.cache.values()) {
            (client as { destroy(): void }).destroy();
        }
    }
}

/**
 * `progress`, when given, receives a line every 5 s while calls wait for an answer, naming
 * them (the CLI writes it to stderr): a slow or stalled endpoint is never a silent wait.
 */
export async function collect(target: Target, factory: ClientFactory = defaultClients, now: Date = new Date(), progress?: (line: string) => void): Promise<Report> {
    const report: Report = {
        stack: target.stack,
        cloud: target.cloud,
        database: target.database,
        primaryRegion: target.primaryRegion,
        drRegion: target.drRegion,
        ...(target.standbyStack ? { standbyStack: target.standbyStack } : {}),
        listedAt: utc(now),
        points: [],
        unlisted: [],
        notes: [],
        errors: [],
    };
    const clients = new Clients(factory);
    const started = Date.now();
    const ticker = progress === undefined ? undefined : setInterval(() => {
        const waiting = clients.waiting();
        if (waiting.length > 0) {
            progress(`still waiting for ${waiting.length} AWS answer(s) after ${Math.round((Date.now() - started) / 1000)} s: ${waiting.join("; ")}`);
        }
    }, progressIntervalMs());
    // A stack file not read may be the standby or the vault: said first, whatever else is found.
    report.notes.push(...(target.unreadStacks ?? []));
    const merge = (found: Found[]) => {
        for (const f of found) {
            report.points.push(...f.points);
            report.notes.push(...f.notes);
            report.errors.push(...f.errors);
        }
    };
    try {
        // Credentials first: without them every source fails the same way; say it once. Off aws, the
        // credentials read only storage (S3).
        try {
            const credentials = await clients.s3(target.bucketRegion).config.credentials();
            // Static temporary keys past their expiry (AWS_CREDENTIAL_EXPIRATION, or as issued): the SDK hands
            // them out as they are and every call would fail with ExpiredToken, once per source. Said once, as the
            // scripts do (scripts/README.md "AWS configuration faults"). Refreshable credentials (a role, SSO)
            // are renewed by the SDK before they expire.
            if (credentials.expiration !== undefined && credentials.expiration.getTime() <= now.getTime()) {
                const cloudIsAws = target.cloud === "aws";
                report.errors.push({ source: "AWS credentials", exitCode: cloudIsAws ? EXIT.database : EXIT.storage, message: `the AWS credentials have expired (valid until ${utc(credentials.expiration)}${process.env.AWS_CREDENTIAL_EXPIRATION ? ", AWS_CREDENTIAL_EXPIRATION" : ""}; now ${utc(now)}): ${renewCredentials()}` });
                return report;
            }
        } catch (err) {
            report.errors.push({ source: "AWS credentials", exitCode: target.cloud === "aws" ? EXIT.database : EXIT.storage, message: explain(err, { service: target.cloud === "aws" ? "RDS" : "S3", region: target.cloud === "aws" ? target.primaryRegion : target.bucketRegion }) });
            return report;
        }
        if (target.cloud !== "aws") {
            merge(await Promise.all([dumps(clients, target), walArchive(clients, target), ...copies(clients, target)]));
            report.unlisted = cloudPoints(target);
            report.notes.push(...(await copyNotes(clients, report, target, clients.clock(now).now)));
            report.notes.push(`stack ${target.stack} runs its database on ${target.cloud}: listed here are the dumps in S3 only; the cloud's own recovery points are under "Not listed", with the commands that list them`);
            report.points = newestFirst(report.points);
            return report;
        }
        const primary = await primaryInstance(clients, target);
        const replicas = primary.instance ? replicasOf(primary.instance, target.primaryRegion) : [];
        const drInstances = [target.database, ...replicas.filter((r) => r.region === target.drRegion).map((r) => r.id)];
        // The window first: AWS Backup's continuous point restores within it.
        // In AWS's time from here (its answers so far gave it): RDS's latest restorable time is clamped to it.
        const awsNow = clients.clock(now).now;
        const window = await pointInTimeWindow(clients, target, primary.instance, awsNow);
        const latest = window.points[0]?.time !== undefined ? new Date(window.points[0].time) : undefined;
        const found = await Promise.all([
            snapshots(clients, target, target.primaryRegion, [target.database], target.stack),
            snapshots(clients, target, target.drRegion, drInstances, target.standbyStack),
            replicatedWindow(clients, target, replicas.filter((r) => r.region === target.drRegion).map((r) => r.id), awsNow),
            ...replicas.map((r) => replicaLag(clients, target, r, awsNow)),
            ...target.vaults.map((v) => recoveryPoints(clients, target, v, latest)),
            dumps(clients, target),
            walArchive(clients, target),
            ...copies(clients, target),
        ]);
        merge([primary.found, window, ...found]);
        report.notes.push(...(await copyNotes(clients, report, target, clients.clock(now).now)));
        if (primary.instance && replicas.length === 0) {
            report.notes.push(`${target.database} has no read replica: no replica lag to report`);
        }
        if (target.vaults.length === 0) {
            report.notes.push(`stack ${target.stack} has no AWS Backup vault outputs (backupVaultArn, backupDrVaultArn): AWS Backup is off or not deployed`);
        }
        if (!target.standbyStack) {
            report.notes.push(`no standby stack names ${target.stack} as its primaryStack: the DR region's points show <standby stack> in their commands, and no DR bucket is listed`);
        }
    } finally {
        if (ticker !== undefined) {
            clearInterval(ticker);
        }
        clients.destroy();
        clockNote(report, clients.clock(now), now);
    }
    report.points = newestFirst(report.points);
    return report;
}

/**
 * A clock off AWS's by more than CLOCK_TOLERANCE_MS: the listing's time becomes AWS's and the first note says by how
 * much and what was counted in AWS's time (`clock` in --json). Said, never silent: the times of the points are AWS's
 * own, but "listed at", the ages and the windows' clamp came from this machine's clock.
 */
function clockNote(report: Report, clock: { now: Date; offsetMs?: number }, local: Date): void {
    if (clock.offsetMs === undefined) {
        return;
    }
    const seconds = Math.round(clock.offsetMs / 1000);
    const by = Math.abs(seconds) >= 3600 ? `${(Math.abs(seconds) / 3600).toFixed(1)} h` : Math.abs(seconds) >= 120 ? `${Math.round(Math.abs(seconds) / 60)} min` : `${Math.abs(seconds)} s`;
    report.listedAt = utc(clock.now);
    report.clock = { offsetSeconds: seconds, local: utc(local), aws: utc(clock.now) };
    report.notes.unshift(`this machine's clock is ${by} ${seconds > 0 ? "behind" : "ahead of"} AWS's (it says ${utc(local)}, the Date of AWS's answers ${utc(clock.now)}): ` +
        `the listing's time, the ages and the windows' latest times are counted in AWS's time; the points' own times are AWS's. Set the clock right (timedatectl, chronyc tracking) before comparing them with a log's times`);
}

/** The running instance (also: it exists, in this region, for these credentials). */
async function primaryInstance(clients: Clients, target: Target): Promise<{ instance?: DBInstance; found: Found }> {
    const found = empty();
    try {
        const out = await clients.rds(target.primaryRegion).send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: target.database }));
        return { instance: out.DBInstances?.[0], found };
    } catch (err) {
        const name = (err as { name?: string }).name;
        const message = name === "DBInstanceNotFoundFault"
            ? `no RDS instance ${target.database} in ${target.primaryRegion} (the stack's primaryRegion) for these credentials: wrong region or account, or the instance was deleted (its snapshots, AWS Backup points and dumps are still listed)`
            : explain(err, { service: "RDS", region: target.primaryRegion, resource: target.database });
        found.errors.push({ source: `RDS ${target.primaryRegion} DescribeDBInstances`, exitCode: EXIT.database, message });
        return { found };
    }
}

interface ReplicaRef {
    id: string;
    region: string;
}

/** Cross-region replicas are listed by ARN, same-region ones by identifier. */
function replicasOf(instance: DBInstance, region: string): ReplicaRef[] {
    return (instance.ReadReplicaDBInstanceIdentifiers ?? []).map((ref) => {
        const m = /^arn:aws[a-z-]*:rds:([a-z0-9-]+):\d{12}:db:(.+)$/.exec(ref);
        return m ? { region: m[1], id: m[2] } : { region, id: ref };
    });
}

async function attempt(found: Found, source: string, exitCode: SourceError["exitCode"], where: Parameters<typeof explain>[1], work: () => Promise<void>): Promise<Found> {
    try {
        await work();
    } catch (err) {
        found.errors.push({ source, exitCode, message: explain(err, where) });
    }
    return found;
}

async function automatedBackups(clients: Clients, region: string, filter: { DBInstanceIdentifier?: string }): Promise<DBInstanceAutomatedBackup[]> {
    const all: DBInstanceAutomatedBackup[] = [];
    for await (const page of paginateDescribeDBInstanceAutomatedBackups({ client: clients.rds(region) }, filter)) {
        all.push(...(page.DBInstanceAutomatedBackups ?? []));
    }
    return all;
}

function windowPoint(target: Target, region: string, latest: Date, earliest: Date | undefined, retention: number | undefined, dr: boolean, stack: string | undefined, now: Date): RecoveryPoint {
    // Never after now: restore.pointInTime refuses a time in the future (a clock a second behind RDS's).
    const time = utc(latest.getTime() > now.getTime() ? now : latest);
    const from = earliest ? utc(earliest) : "unknown";
    return {
        time,
        ...(earliest ? { earliest: utc(earliest) } : {}),
        source: dr ? "point-in-time-dr" : "point-in-time",
        label: dr ? "point in time (DR copy)" : "point in time",
        region,
        id: target.database,
        detail: `any second from ${from === "unknown" ? "an unknown earliest time" : from} to ${time}${retention !== undefined ? ` (${retention} days kept)` : ""}`,
        restore: windowRestore(stack, time, earliest ? from : undefined),
    };
}

/** The running instance's automated-backup window (earliest and latest restorable time). */
async function pointInTimeWindow(clients: Clients, target: Target, instance: DBInstance | undefined, now: Date): Promise<Found> {
    const found = empty();
    const region = target.primaryRegion;
    return attempt(found, `RDS ${region} DescribeDBInstanceAutomatedBackups`, EXIT.database, { service: "RDS", region, resource: target.database }, async () => {
        const backups = (await automatedBackups(clients, region, { DBInstanceIdentifier: target.database }))
            .filter((b) => b.Status === "active" && (!target.dbInstanceArn || !b.DBInstanceArn || b.DBInstanceArn === target.dbInstanceArn));
        const window = backups.find((b) => b.RestoreWindow?.LatestTime)?.RestoreWindow;
        if (instance && instance.BackupRetentionPeriod === 0) {
            found.notes.push(`${target.database} keeps no automated backups (BackupRetentionPeriod 0): no point-in-time window`);
            return;
        }
        const latest = window?.LatestTime ?? instance?.LatestRestorableTime;
        if (!latest) {
            found.notes.push(`${target.database} in ${region} reports no restorable time (no active automated backups)`);
            return;
        }
        if (!window?.EarliestTime) {
            found.notes.push(`${target.database}'s automated backups report no RestoreWindow: the earliest restorable time is unknown (DescribeDBInstances gives only the latest)`);
        }
        found.points.push(windowPoint(target, region, latest, window?.EarliestTime, instance?.BackupRetentionPeriod, false, target.stack, now));
    });
}

/** The replica's own automated-backup window: not declared by this program, restored with the AWS CLI. */
function replicaWindowPoint(backup: DBInstanceAutomatedBackup, region: string, now: Date): RecoveryPoint {
    const latest = backup.RestoreWindow!.LatestTime!;
    const time = utc(latest.getTime() > now.getTime() ? now : latest);
    const id = backup.DBInstanceIdentifier ?? "";
    const earliest = backup.RestoreWindow?.EarliestTime;
    return {
        time,
        ...(earliest ? { earliest: utc(earliest) } : {}),
        source: "point-in-time-replica",
        label: "point in time (replica)",
        region,
        id,
        detail: `the replica's own backups: any second from ${earliest ? utc(earliest) : "an unknown earliest time"} to ${time}; not declared by this program (restore.* restores prod's backups)`,
        restore: {
            commands: [`aws rds restore-db-instance-to-point-in-time --region ${region} --source-db-instance-identifier ${id} --target-db-instance-identifier ${id}-restored --restore-time ${PICK_TIME}`],
            pick: { ...(earliest ? { earliest: utc(earliest) } : {}), latest: time },
        },
    };
}

/** Prod's automated backups replicated into the DR region (InstanceAutomatedBackupsReplication), and the replica's own. */
async function replicatedWindow(clients: Clients, target: Target, replicas: string[], now: Date): Promise<Found> {
    const found = empty();
    const region = target.drRegion;
    return attempt(found, `RDS ${region} DescribeDBInstanceAutomatedBackups`, EXIT.database, { service: "RDS", region }, async () => {
        const all = await automatedBackups(clients, region, {});
        const ofProd = all.filter((b) =>
            target.dbInstanceArn && b.DBInstanceArn ? b.DBInstanceArn === target.dbInstanceArn : b.DBInstanceIdentifier === target.database && b.Region === target.primaryRegion,
        );
        const replicated = ofProd.find((b) => b.RestoreWindow?.LatestTime);
        for (const replica of all.filter((b) => replicas.includes(b.DBInstanceIdentifier ?? "") && b.Status === "active" && b.RestoreWindow?.LatestTime)) {
            found.points.push(replicaWindowPoint(replica, region, now));
        }
        if (!replicated) {
            found.notes.push(`no automated backups of ${target.database} replicated into ${region}: no point-in-time restore there`);
            return;
        }
        found.points.push(windowPoint(target, region, replicated.RestoreWindow!.LatestTime!, replicated.RestoreWindow!.EarliestTime, replicated.BackupRetentionPeriod, true, target.standbyStack, now));
    });
}

/** The DB snapshot statuses on the way to `available` (RDS's DescribeDBSnapshots): the others never get there. */
const SNAPSHOT_ON_THE_WAY = new Set(["creating", "copying"]);

export function snapshotPoint(snapshot: DBSnapshot, region: string, stack: string | undefined): RecoveryPoint {
    const id = snapshot.DBSnapshotIdentifier ?? "";
    const taken = snapshot.OriginalSnapshotCreateTime ?? snapshot.SnapshotCreateTime;
    const status = snapshot.Status ?? "unknown";
    const ref = SNAPSHOT_ID.test(id) || !snapshot.DBSnapshotArn ? id : snapshot.DBSnapshotArn;
    // "restorable once available" only for a snapshot on its way there: a failed or incompatible one never will be.
    const restore: Restore = status === "available" ? configRestore(stack, "restore.fromSnapshot", ref)
        : SNAPSHOT_ON_THE_WAY.has(status) ? { commands: [], blocked: `status ${status}: restorable once available${snapshot.PercentProgress !== undefined ? ` (${snapshot.PercentProgress}% done)` : ""}` }
        : { commands: [], blocked: `status ${status}: this snapshot does not restore (it will not become available); pick another point` };
    const parts = [
        snapshot.DBInstanceIdentifier ?? "",
        snapshot.AllocatedStorage !== undefined ? `${snapshot.AllocatedStorage} GiB` : "",
        status,
        snapshot.SourceRegion ? `copied from ${snapshot.SourceRegion}` : "",
    ].filter(Boolean);
    return {
        ...(taken ? { time: utc(taken) } : {}),
        source: "snapshot",
        // The detail names the instance: the replica's own snapshots are in the DR region beside copies of prod's.
        label: `${snapshot.SnapshotType ?? "manual"} snapshot`,
        region,
        id,
        detail: parts.join(", "),
        ...(snapshot.AllocatedStorage !== undefined ? { sizeBytes: snapshot.AllocatedStorage * 2 ** 30 } : {}),
        status,
        restore,
    };
}

/** Automated and manual snapshots of the given instances in one region. */
async function snapshots(clients: Clients, target: Target, region: string, instances: string[], stack: string | undefined): Promise<Found> {
    const found = empty();
    return attempt(found, `RDS ${region} DescribeDBSnapshots`, EXIT.database, { service: "RDS", region }, async () => {
        for (const instance of instances) {
            for await (const page of paginateDescribeDBSnapshots({ client: clients.rds(region) }, { DBInstanceIdentifier: instance })) {
                found.points.push(...(page.DBSnapshots ?? []).map((s) => snapshotPoint(s, region, stack)));
            }
        }
    });
}

/** A replica is a recovery point too: the primary's state `ReplicaLag` seconds ago (promotion = regional failover). */
async function replicaLag(clients: Clients, target: Target, replica: ReplicaRef, now: Date): Promise<Found> {
    const found = empty();
    return attempt(found, `CloudWatch ${replica.region} ReplicaLag`, EXIT.database, { service: "CloudWatch", region: replica.region, resource: replica.id }, async () => {
        const out = await clients.cloudwatch(replica.region).send(new GetMetricStatisticsCommand({
            Namespace: "AWS/RDS",
            MetricName: "ReplicaLag",
            Dimensions: [{ Name: "DBInstanceIdentifier", Value: replica.id }],
            StartTime: new Date(now.getTime() - LAG_WINDOW_MS),
            EndTime: now,
            Period: 60,
            Statistics: ["Maximum"],
        }));
        const newest = [...(out.Datapoints ?? [])].filter((d) => d.Timestamp && d.Maximum !== undefined).sort((a, b) => b.Timestamp!.getTime() - a.Timestamp!.getTime())[0];
        const lag = newest ? newest.Maximum! : undefined;
        const sameRegion = replica.region === target.primaryRegion;
        const restore: Restore = sameRegion
            ? { commands: [], blocked: "a replica in the primary region is not declared by this program: promote it with aws rds promote-read-replica" }
            : {
                  stack: target.standbyStack,
                  config: { key: "promote", value: "true" },
                  commands: [`pulumi config set -s ${target.standbyStack ?? "<standby stack>"} promote true`, `pulumi up -s ${target.standbyStack ?? "<standby stack>"}`],
              };
        found.points.push({
            ...(newest && lag !== undefined ? { time: utc(new Date(newest.Timestamp!.getTime() - lag * 1000)) } : {}),
            source: "replica",
            label: "replica",
            region: replica.region,
            id: replica.id,
            detail: lag !== undefined
                ? `lag ${lag} s at ${utc(newest!.Timestamp!).slice(11)}; promoting it is a regional failover (corruption included)`
                : "lag unknown: no ReplicaLag datapoint in the last 15 min (replication stopped, or the replica is new)",
            restore,
        });
    });
}

function recoveryPointOf(rp: RecoveryPointByBackupVault, vault: Vault, target: Target, latest: Date | undefined): RecoveryPoint {
    const arn = rp.RecoveryPointArn ?? "";
    const status = rp.Status ?? "unknown";
    const stack = vault.region === target.primaryRegion ? target.stack : vault.region === target.drRegion ? target.standbyStack : undefined;
    const continuous = /:recovery-point:continuous:/.test(arn);
    const snapshotArn = /^arn:aws[a-z-]*:rds:[a-z0-9-]+:\d{12}:snapshot:[A-Za-z0-9:_-]+$/.test(arn);
    let restore: Restore;
    if (status !== "COMPLETED" && !(continuous && status === "AVAILABLE")) {
        restore = { commands: [], blocked: `status ${status}${rp.StatusMessage ? ` (${rp.StatusMessage})` : ""}` };
    } else if (continuous) {
        restore = vault.region !== target.primaryRegion
            ? { commands: [], blocked: "continuous backup in another region: restore with aws backup start-restore-job" }
            : latest
              ? windowRestore(stack, utc(latest), rp.CreationDate ? utc(rp.CreationDate) : undefined)
              : { commands: [], blocked: "set restore.pointInTime to a time in the instance's window: its latest restorable time could not be read" };
    } else if (snapshotArn) {
        restore = configRestore(stack, "restore.fromSnapshot", arn);
    } else {
        restore = { commands: [], blocked: `not an RDS snapshot: aws backup start-restore-job --recovery-point-arn ${arn}` };
    }
    const copy = rp.SourceBackupVaultArn ? ", a copy" : "";
    const until = rp.CalculatedLifecycle?.DeleteAt && !continuous ? `, until ${utc(rp.CalculatedLifecycle.DeleteAt).slice(0, 10)}` : "";
    const size = rp.BackupSizeInBytes !== undefined ? `, ${humanBytes(rp.BackupSizeInBytes)}` : "";
    const time = continuous && latest ? latest : rp.CreationDate;
    return {
        ...(time ? { time: utc(time) } : {}),
        ...(continuous && rp.CreationDate ? { earliest: utc(rp.CreationDate) } : {}),
        source: "aws-backup",
        label: continuous ? "AWS Backup continuous" : "AWS Backup snapshot",
        region: vault.region,
        id: arn,
        detail: `${vault.name}, ${status}${size}${until}${copy}${continuous ? "; the instance's point-in-time window" : ""}`,
        ...(rp.BackupSizeInBytes !== undefined ? { sizeBytes: rp.BackupSizeInBytes } : {}),
        status,
        restore,
    };
}

/** AWS Backup's recovery points of the instance in one vault (daily snapshots, the continuous point, DR copies). */
async function recoveryPoints(clients: Clients, target: Target, vault: Vault, latest: Date | undefined): Promise<Found> {
    const found = empty();
    const where = { service: "AWS Backup", region: vault.region, resource: `vault ${vault.name}` };
    return attempt(found, `AWS Backup ${vault.region} ${vault.name}`, EXIT.storage, where, async () => {
        const filter = target.dbInstanceArn ? { ByResourceArn: target.dbInstanceArn } : { ByResourceType: "RDS" };
        for await (const page of paginateListRecoveryPointsByBackupVault({ client: clients.backup(vault.region) }, { BackupVaultName: vault.name, ...filter })) {
            found.points.push(...(page.RecoveryPoints ?? []).map((rp) => recoveryPointOf(rp, vault, target, latest)));
        }
    });
}

interface Manifest {
    format?: string;
    status?: string;
    database?: string;
    schema?: string;
    size_bytes?: number;
    started_at?: string;
    finished_at?: string;
    /** The dump's key and S3 version (db-backup.sh); restore.sh downloads exactly that version. */
    object_key?: string;
    s3_version_id?: string;
    schema_definition?: { sha256?: string };
    /** v2 manifests: {mode: "symmetric"} or {mode: "public-key", recipients: [fingerprints]} (db-backup.sh). */
    encryption?: { mode?: string; recipients?: string[] };
}

/** The record scripts/restore-verification.sh writes per run (scripts/README.md, "Verification records"). */
export const VERIFICATION_FORMAT = "oauth2-dr/restore-verification/v1";

interface VerificationRecord {
    format: string;
    manifest_key: string;
    manifest_version_id?: string | null;
    manifest_sha256?: string | null;
    finished_at: string;
    result: "passed" | "failed";
    failed_by?: "backup" | "environment" | null;
    reason?: string | null;
}

/** Runs `work` on every item, at most `limit` at a time, keeping the order of the results. */
async function inParallel<T, R>(items: T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
    const results: R[] = new Array(items.length);
    let next = 0;
    const worker = async () => {
        while (next < items.length) {
            const i = next++;
            results[i] = await work(items[i]);
        }
    };
    await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
    return results;
}

/** Where a set of dumps is, and how its points are labelled and restored. */
export interface DumpLocation {
    bucket: string;
    region: string;
    prefix: string;
    source: "dump" | "dump-dr" | "dump-vault";
    label: string;
    /** Prepended to restore.sh's command line (the vault account's credentials). */
    credentials?: string;
    /** A note on every point's detail (a replicated copy). */
    copyOf?: string;
    /**
     * The settings restore.sh needs to decrypt a public-key dump here (the vault account's private keys,
     * privateKeysSettings); without them it stops with exit 5. Symmetric dumps need none: restore.sh reads the
     * passphrase version their manifest names.
     */
    privateKeys?: string;
}

/** The vault account's secret of the private keys (components/vault-account.ts PRIVATE_KEYS_SECRET_NAME). */
export const PRIVATE_KEYS_SECRET = "oauth2-dr/backup-private-keys";

/**
 * What restore.sh needs for a public-key dump (scripts/README.md, docs/runbook.md §6 step 6): the private keys
 * from the vault account's Secrets Manager, in the vault's region, through its restore role when the run's
 * credentials are another account's (the stack's own bucket, the DR copy). With the vault account's own
 * credentials (its copies: AWS_PROFILE of the vault), no role. Vault unknown (no vaultStack): words to replace.
 */
export function privateKeysSettings(vault: { region: string; restoreRoleArn?: string } | undefined, vaultCredentials: boolean): string {
    const region = vault?.region ?? "VAULT_REGION";
    const role = vaultCredentials ? "" : ` RESTORE_PRIVATE_KEYS_ROLE_ARN=${vault?.restoreRoleArn ?? "VAULT_RESTORE_ROLE_ARN"}`;
    return `RESTORE_PRIVATE_KEYS_SECRET_ID=${PRIVATE_KEYS_SECRET} RESTORE_PRIVATE_KEYS_REGION=${region}${role}`;
}

/** "passed 2026-12-04", "FAILED 2026-12-04 (reason)", "never verified", "unknown (why)": the detail's words. */
export function verificationWords(v: Verification): string {
    const day = v.at ? ` ${v.at.slice(0, 10)}` : "";
    // The table's detail column is narrow: the full reason is in --json (verification.reason).
    const short = (text: string) => (text.length > 70 ? `${text.slice(0, 69)}…` : text);
    switch (v.status) {
        case "passed":
            return `verified: passed${day}`;
        case "failed":
            return `verified: FAILED${day} (${v.failedBy === "environment" ? "the verification's environment, not the dump: " : ""}${short(v.reason)})`;
        case "never":
            return v.record ? "never verified (this version)" : "never verified";
        default:
            return `verified: unknown (its record ${/ is not JSON/.test(v.reason) ? "is not JSON" : /could not be read/.test(v.reason) ? "could not be read" : "is not a verification record"}; --json says which)`;
    }
}

/**
 * The dump object a manifest names, as S3 answers HeadObject for it (the version the manifest recorded):
 * "present" (with its size), "missing" (deleted, expired, never copied), "replaced" (an object of another size
 * than the manifest's: restore.sh checks the size first and stops; or, when the manifest pins no version, one S3
 * stored after the manifest: another upload under the key, whatever its size), or "unchecked" with why.
 */
type DumpObject = NonNullable<RecoveryPoint["object"]>;

/**
 * Whether a manifest pins its dump's bytes: a recorded S3 version id (db-backup.sh's, "" and "null" being none)
 * names a version no later PUT changes. Without one (a v1 manifest, an unversioned bucket's) the key's current
 * object is what restore.sh reads, and nothing in the manifest that HeadObject answers tells another upload of the
 * same size from the dump: the manifest's sha256 is of the bytes (S3 keeps no sha256 of an object uploaded without
 * a checksum, and its ETag is an MD5, of the parts for a multipart upload), its size_bytes matches. S3's own time
 * does: db-backup.sh stores the dump, then the manifest, so the dump it describes was stored before the manifest.
 * In a DR or vault copy the order holds too, whatever order replication copied them in: a replica keeps its source's
 * creation time ("creation time of the replica remains the same as the corresponding object in the source bucket",
 * S3 developer guide, replication and lifecycle), and so its Last-Modified.
 */
function pinnedVersion(manifest: Manifest): string | undefined {
    return manifest.s3_version_id && manifest.s3_version_id !== "null" ? manifest.s3_version_id : undefined;
}

async function headDump(s3: S3Client, bucket: string, manifest: Manifest | undefined, region: string, manifestStored?: Date): Promise<DumpObject | undefined> {
    if (!manifest || typeof manifest.object_key !== "string" || manifest.object_key === "") {
        return undefined;
    }
    const version = pinnedVersion(manifest);
    try {
        const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: manifest.object_key, ...(version ? { VersionId: version } : {}) }));
        const which = version ? `version ${version}` : "the manifest recorded no S3 version";
        const older = version ? "" : ` (in a versioned bucket an older version may hold the dump: aws s3api list-object-versions --bucket ${bucket} --prefix ${shellWord(manifest.object_key)})`;
        if (typeof head.ContentLength === "number" && typeof manifest.size_bytes === "number" && head.ContentLength !== manifest.size_bytes) {
            // A manifest without a version (v1, or an unversioned bucket) names whatever the key holds now: a later PUT
            // to it replaced the dump, and restore.sh, which reads that object, stops at its size (exit 4).
            return {
                state: "replaced",
                bytes: head.ContentLength,
                why: `the dump object s3://${bucket}/${manifest.object_key} (${which}) is ${humanBytes(head.ContentLength)}, the manifest's size_bytes ${manifest.size_bytes}: ` +
                    `another object replaced it since the backup; restore.sh would stop with exit 4; pick another point${older}`,
            };
        }
        if (!version && head.LastModified && manifestStored && head.LastModified.getTime() > manifestStored.getTime()) {
            // Of the manifest's size, but stored after it: not the upload the manifest describes (until h40 listed as
            // restorable; restore.sh downloaded it whole and stopped at its sha256, exit 4, unless its bytes are the
            // same, e.g. the dump copied back).
            const written = utc(head.LastModified);
            return {
                state: "replaced",
                bytes: head.ContentLength ?? manifest.size_bytes ?? 0,
                writtenAt: written,
                why: `the dump object s3://${bucket}/${manifest.object_key} (${which}) was stored ${written}, after its manifest (${utc(manifestStored)}): ` +
                    `another upload replaced the dump since the backup (of the same size); restore.sh would download it and stop at its sha256 with exit 4 ` +
                    `unless its bytes are the dump's; pick another point${older}`,
            };
        }
        return { state: "present", ...(typeof head.ContentLength === "number" ? { bytes: head.ContentLength } : {}) };
    } catch (err) {
        const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
        // HeadObject has no body: a missing key or version is a 404 (NotFound, NoSuchKey, NoSuchVersion), and a
        // version that is now a delete marker a 405.
        if (e.$metadata?.httpStatusCode === 404 || e.$metadata?.httpStatusCode === 405 || /NotFound|NoSuchKey|NoSuchVersion/.test(e.name ?? "")) {
            return { state: "missing", why: `${e.name ?? "NotFound"} (HTTP ${e.$metadata?.httpStatusCode ?? "?"})` };
        }
        return { state: "unchecked", why: explain(err, { service: "S3", region, resource: `s3://${bucket}/${manifest.object_key}` }) };
    }
}

/**
 * How far a manifest's started_at may be after S3 stored the manifest before it is the backup host's clock, not
 * rounding: db-backup.sh writes the manifest after the dump's upload, so its snapshot is always before that.
 */
const CLOCK_SLACK_MS = 60_000;

/**
 * The time a dump restores to: its manifest's started_at, unless that is after S3 stored the manifest (`stored`,
 * LastModified), which no dump can be: the backup host's clock was ahead, and S3's time, the latest the snapshot
 * can be of, is the one an operator may compare with the damage.
 */
function dumpTime(manifest: Manifest, stored: Date | undefined): { time?: string; clockSkew?: { startedAt: string; storedAt: string } } {
    const started = manifest.started_at ? Date.parse(manifest.started_at) : NaN;
    if (Number.isNaN(started)) {
        return {};
    }
    if (stored && started > stored.getTime() + CLOCK_SLACK_MS) {
        return { time: utc(stored), clockSkew: { startedAt: utc(new Date(started)), storedAt: utc(stored) } };
    }
    return { time: utc(new Date(started)) };
}

function dumpPoint(key: string, manifest: Manifest | undefined, where: DumpLocation, verification: Verification, object?: DumpObject, stored?: Date): RecoveryPoint {
    const base = { source: where.source, label: where.label, region: where.region, id: key };
    if (!manifest) {
        return { ...base, detail: "not a manifest (not a JSON object)", restore: { commands: [], blocked: `${key} is not a JSON manifest` } };
    }
    const status = manifest.status ?? "unknown";
    const schema = manifest.schema_definition?.sha256
        ? `schema ${manifest.schema ?? "public"} ${manifest.schema_definition.sha256.slice(0, 8)}`
        : `schema ${manifest.schema ?? "public"} (${manifest.format?.endsWith("/v1") ? "v1 manifest: " : ""}no columns recorded)`;
    const size = typeof manifest.size_bytes === "number" ? humanBytes(manifest.size_bytes) : "size unknown";
    // The dump holds the database as of its snapshot, taken when pg_dump started (scripts/README.md).
    const { time, clockSkew } = dumpTime(manifest, stored);
    const restore = dumpRestore(where.bucket, where.region, where.prefix, key);
    const publicKey = manifest.encryption?.mode === "public-key";
    if (publicKey) {
        // Without the private keys restore.sh stops with exit 5: the command says where they are.
        restore.commands = restore.commands.map((c) => `${where.privateKeys ?? privateKeysSettings(undefined, false)} ${c}`);
    }
    if (where.credentials) {
        restore.commands = restore.commands.map((c) => `${where.credentials} ${c}`);
    }
    const encryption = publicKey ? `, public-key (${manifest.encryption?.recipients?.length ?? 0} recipient(s))` : "";
    // What S3 holds, not only what the manifest says: restore.sh stops with exit 4 on a missing object.
    const pinned = pinnedVersion(manifest);
    const version = pinned ? ` (version ${pinned})` : "";
    const objectProblem = object?.state === "missing"
        ? `the dump object s3://${where.bucket}/${manifest.object_key}${version} is not in the bucket (HeadObject: ${object.why}): restore.sh would stop with exit 4; pick another point`
        : undefined;
    const objectWords = object?.state === "missing" ? ", dump object MISSING"
        : object?.state === "replaced" ? (object.writtenAt ? `, dump object REPLACED (stored ${object.writtenAt}, after its manifest)` : `, dump object REPLACED (${humanBytes(object.bytes)}, the manifest's ${humanBytes(manifest.size_bytes ?? 0)})`)
        : object?.state === "unchecked" ? ", dump object not checked" : "";
    const skewWords = clockSkew ? `, CLOCK AHEAD: started_at ${clockSkew.startedAt} is after S3 stored the manifest; the time shown is S3's` : "";
    return {
        ...base,
        ...(time ? { time } : {}),
        ...(clockSkew ? { clockSkew } : {}),
        detail: `${where.copyOf ? `${where.copyOf}: ` : ""}${manifest.database ?? "?"}, ${schema}, ${size}${encryption}, ${verificationWords(verification)}${objectWords}${skewWords}`,
        ...(typeof manifest.size_bytes === "number" ? { sizeBytes: manifest.size_bytes } : {}),
        status,
        verification,
        ...(object ? { object } : {}),
        restore: status !== "complete" ? { commands: [], blocked: `manifest status ${status}: restore.sh restores complete backups only` }
            : objectProblem ? { commands: [], blocked: objectProblem }
            : object?.state === "replaced" ? { commands: [], blocked: object.why }
            : restore,
    };
}

/** <prefix>verifications/<manifest name>/<stamp>.json -> the newest record key of each manifest name. */
function newestRecords(keys: string[], prefix: string): Map<string, string> {
    const newest = new Map<string, string>();
    for (const key of keys) {
        const m = new RegExp(`^${prefix.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}verifications/([^/]+)/[^/]+\\.json$`).exec(key);
        if (m && (newest.get(m[1]) ?? "") < key) {
            newest.set(m[1], key);
        }
    }
    return newest;
}

/** The record's word on this manifest version, or why there is none. */
function verificationOf(recordKey: string | undefined, text: string | undefined, manifestKey: string, version: string | undefined, manifestSha: string): Verification {
    if (!recordKey || text === undefined) {
        return { status: "never", reason: "no verification record of this manifest (restore-verification.sh verifies the newest dump monthly)" };
    }
    let record: VerificationRecord;
    try {
        record = JSON.parse(text) as VerificationRecord;
    } catch (err) {
        return { status: "unknown", record: recordKey, reason: `the record ${recordKey} is not JSON (${(err as Error).message.split("\n")[0]})` };
    }
    if (typeof record !== "object" || record === null || record.format !== VERIFICATION_FORMAT || !["passed", "failed"].includes(record.result) || typeof record.finished_at !== "string") {
        return { status: "unknown", record: recordKey, reason: `the record ${recordKey} is not a ${VERIFICATION_FORMAT} record (format, result or finished_at missing)` };
    }
    const at = Number.isNaN(Date.parse(record.finished_at)) ? undefined : utc(new Date(record.finished_at));
    if (record.manifest_key !== manifestKey) {
        return { status: "unknown", record: recordKey, reason: `the record ${recordKey} names another manifest (${String(record.manifest_key).slice(0, 120)})` };
    }
    const otherVersion = (record.manifest_version_id && version && record.manifest_version_id !== version) || (record.manifest_sha256 && record.manifest_sha256 !== manifestSha);
    if (otherVersion) {
        return {
            status: "never",
            record: recordKey,
            ...(at ? { at } : {}),
            reason: `the newest record (${record.result} ${at ?? "at an unknown time"}) verified another version of this manifest (version ${record.manifest_version_id ?? "?"}, now ${version ?? "?"}): overwritten since`,
        };
    }
    if (record.result === "passed") {
        return { status: "passed", record: recordKey, ...(at ? { at } : {}), reason: "every checklist item passed" };
    }
    return {
        status: "failed",
        record: recordKey,
        ...(at ? { at } : {}),
        failedBy: record.failed_by === "environment" ? "environment" : "backup",
        reason: typeof record.reason === "string" && record.reason !== "" ? record.reason : "no reason recorded",
    };
}

/** A manifest whose key a delete marker hides: its newest version with data, and the marker on top of it. */
interface HiddenManifest {
    key: string;
    versionId: string;
    written?: Date;
    markerVersionId: string;
    markedAt?: Date;
}

/**
 * The manifests a delete marker hides (ListObjectVersions: the key's latest version is a delete marker and an
 * older version holds data). A DELETE without a version id on the versioned bucket (an operator's mistake, a
 * compromised job) does that: the version stays, locked, but ListObjectsV2 no longer lists the key.
 */
async function hiddenManifests(s3: S3Client, bucket: string, prefix: string): Promise<HiddenManifest[]> {
    const markers = new Map<string, { versionId: string; at?: Date }>();
    const data = new Map<string, { versionId: string; at?: Date }>();
    // The SDK has no paginator for ListObjectVersions: its own markers, page by page.
    let marker: { KeyMarker?: string; VersionIdMarker?: string } = {};
    for (let more = true; more;) {
        const page = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: prefix, ...marker }));
        more = page.IsTruncated === true;
        marker = { KeyMarker: page.NextKeyMarker, VersionIdMarker: page.NextVersionIdMarker };
        for (const m of page.DeleteMarkers ?? []) {
            if (m.IsLatest && m.Key) {
                markers.set(m.Key, { versionId: m.VersionId ?? "null", at: m.LastModified });
            }
        }
        for (const v of page.Versions ?? []) {
            const known = v.Key ? data.get(v.Key) : undefined;
            if (v.Key && (!known || (v.LastModified?.getTime() ?? 0) > (known.at?.getTime() ?? 0))) {
                data.set(v.Key, { versionId: v.VersionId ?? "null", at: v.LastModified });
            }
        }
    }
    return [...markers].filter(([key]) => key.endsWith(".json") && data.has(key)).map(([key, marker]) => ({
        key,
        versionId: data.get(key)!.versionId,
        ...(data.get(key)!.at ? { written: data.get(key)!.at } : {}),
        markerVersionId: marker.versionId,
        ...(marker.at ? { markedAt: marker.at } : {}),
    })).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** How to make a hidden manifest current again (scripts/lib.sh hidden_manifest_words says the same). */
export function unhideCommand(bucket: string, region: string, hidden: { key: string; versionId: string }): string {
    // --copy-source is a URL's path: the key URL-encoded (its / kept), which leaves nothing a shell reads in the quotes.
    const source = hidden.key.split("/").map((part) => encodeURIComponent(part).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)).join("/");
    return `aws s3api copy-object --region ${region} --bucket ${bucket} --key ${shellWord(hidden.key)} --copy-source "${bucket}/${source}?versionId=${hidden.versionId}"`;
}

/** The point of a hidden manifest: listed, marked HIDDEN, and not restorable until its version is made current again. */
function hiddenPoint(point: RecoveryPoint, hidden: HiddenManifest, where: DumpLocation): RecoveryPoint {
    const marked = hidden.markedAt ? utc(hidden.markedAt) : "at an unknown time";
    const why = `the manifest is hidden by a delete marker (version ${hidden.markerVersionId}, placed ${marked}; its own version ${hidden.versionId} is kept): ` +
        `restore.sh does not see it. Make it current again: ${unhideCommand(where.bucket, where.region, hidden)}; then restore it with the command this point then lists`;
    return {
        ...point,
        detail: `HIDDEN by a delete marker placed ${marked}: ${point.detail}`,
        hidden: { versionId: hidden.versionId, markerVersionId: hidden.markerVersionId, ...(hidden.markedAt ? { markedAt: utc(hidden.markedAt) } : {}) },
        restore: { commands: [], blocked: why },
    };
}

/** The dumps of one bucket through their manifests (a dump without one is never restored), and their verification records. */
export async function dumpsIn(s3: S3Client, where: DumpLocation): Promise<{ points: RecoveryPoint[]; notes: string[]; errors: string[] }> {
    const prefix = `${where.prefix}manifests/`;
    const list = async (p: string) => {
        const keys: string[] = [];
        for await (const page of paginateListObjectsV2({ client: s3 }, { Bucket: where.bucket, Prefix: p })) {
            keys.push(...(page.Contents ?? []).map((o) => o.Key ?? "").filter((k) => k.endsWith(".json")));
        }
        return keys;
    };
    const notes: string[] = [];
    // The versions too: a manifest behind a delete marker is listed as such, never silently left out (the newest
    // point would then be an older one). Without s3:ListBucketVersions that is said, not guessed.
    const hiddenListing = hiddenManifests(s3, where.bucket, prefix).catch((err: unknown) => {
        notes.push(`s3://${where.bucket}/${prefix}: manifests hidden by a delete marker not checked (ListObjectVersions: ${explain(err, { service: "S3", region: where.region, resource: `s3://${where.bucket}/${prefix}` })})`);
        return [] as HiddenManifest[];
    });
    const [keys, recordKeys, hidden] = await Promise.all([list(prefix), list(`${where.prefix}verifications/`), hiddenListing]);
    const records = newestRecords(recordKeys, where.prefix);
    const hiddenByKey = new Map(hidden.map((h) => [h.key, h]));
    const read = async (key: string) => {
        const version = hiddenByKey.get(key)?.versionId;
        const out = await s3.send(new GetObjectCommand({ Bucket: where.bucket, Key: key, ...(version ? { VersionId: version } : {}) }));
        return { text: (await out.Body?.transformToString("utf8")) ?? "", version: out.VersionId ?? undefined, stored: out.LastModified };
    };
    const newestListed = [...keys].sort().pop() ?? "";
    const newestHidden = hidden.filter((h) => h.key > newestListed).pop();
    if (newestHidden) {
        notes.push(`s3://${where.bucket}: the newest dump manifest, ${newestHidden.key} (version ${newestHidden.versionId}), is hidden by a delete marker ` +
            `(version ${newestHidden.markerVersionId}, placed ${newestHidden.markedAt ? utc(newestHidden.markedAt) : "at an unknown time"}): restore.sh refuses to take an older one in its place. ` +
            `Make it current again: ${unhideCommand(where.bucket, where.region, newestHidden)}`);
    }
    keys.push(...hidden.map((h) => h.key));
    const names = new Set(keys.map((k) => k.slice(prefix.length).replace(/\.json$/, "")));
    const orphans = [...records.keys()].filter((name) => !names.has(name)).sort();
    if (orphans.length > 0) {
        notes.push(`s3://${where.bucket}: verification records of ${orphans.length} manifest(s) no longer in the bucket (expired or deleted): ${orphans.slice(0, 3).join(", ")}${orphans.length > 3 ? ", …" : ""}`);
    }
    if (keys.length === 0) {
        notes.push(`no dump manifest under s3://${where.bucket}/${prefix}`);
        return { points: [], notes, errors: [] };
    }
    const unreadable: { key: string; err: unknown; why: string }[] = [];
    const listed = await inParallel(keys, MANIFEST_READS_IN_PARALLEL, async (key): Promise<RecoveryPoint | undefined> => {
        let manifestFile: Awaited<ReturnType<typeof read>>;
        try {
            manifestFile = await read(key);
        } catch (err) {
            // One manifest S3 will not hand out (another account's object, a KMS key these credentials may not
            // use, one expired between the listing and the read) is that manifest's problem: the others are listed.
            unreadable.push({ key, err, why: explain(err, { service: "S3", region: where.region, resource: `s3://${where.bucket}/${key}` }) });
            return undefined;
        }
        let manifest: Manifest | undefined;
        try {
            const parsed = JSON.parse(manifestFile.text) as unknown;
            manifest = typeof parsed === "object" && parsed !== null && !Array.isArray(parsed) ? (parsed as Manifest) : undefined;
        } catch {
            manifest = undefined;
        }
        const recordKey = records.get(key.slice(prefix.length).replace(/\.json$/, ""));
        let recordText: string | undefined;
        let verification: Verification;
        try {
            recordText = recordKey ? (await read(recordKey)).text : undefined;
            verification = verificationOf(recordKey, recordText, key, manifestFile.version, createHash("sha256").update(manifestFile.text).digest("hex"));
        } catch (err) {
            verification = { status: "unknown", record: recordKey, reason: `the record ${recordKey} could not be read: ${explain(err, { service: "S3", region: where.region })}` };
        }
        const point = dumpPoint(key, manifest, where, verification, await headDump(s3, where.bucket, manifest, where.region, manifestFile.stored), manifestFile.stored);
        const hiddenManifest = hiddenByKey.get(key);
        return hiddenManifest ? hiddenPoint(point, hiddenManifest, where) : point;
    });
    if (unreadable.length === keys.length) {
        // Not one manifest could be read: the source failed as a whole (the caller says how, e.g. the vault's 403).
        throw unreadable[0].err;
    }
    const points = listed.filter((p): p is RecoveryPoint => p !== undefined);
    points.push(...unreadable.sort((a, b) => (a.key < b.key ? -1 : 1)).map(({ key, why }) => unreadablePoint(key, where, why)));
    const errors = unreadable.length === 0 ? [] : [
        `${unreadable.length} of ${keys.length} dump manifests could not be read (listed as unreadable, without a restore): ` +
            unreadable.slice(0, 3).map(({ key, why }) => `${key}: ${why}`).join("; ") +
            (unreadable.length > 3 ? "; …" : ""),
    ];
    return { points, notes, errors };
}

/** A manifest S3 listed but would not hand out: listed, so that the list has no silent hole, and not restorable. */
function unreadablePoint(key: string, where: DumpLocation, why: string): RecoveryPoint {
    return {
        source: where.source,
        label: where.label,
        region: where.region,
        id: key,
        detail: `${where.copyOf ? `${where.copyOf}: ` : ""}manifest UNREADABLE (${why})`,
        status: "unreadable",
        restore: { commands: [], blocked: `the manifest could not be read (${why}): restore.sh would stop at it too; pick another point, or read it with credentials that may` },
    };
}

/** The prefix scripts/wal-archive.sh archives under (its WAL_PREFIX default). */
export const WAL_PREFIX = "wal/";

/**
 * The scripts' point-in-time archive in the stack's bucket (scripts/wal-archive.sh: `wal/base/<stamp>.json`
 * manifests of base backups, `wal/<segment>.zst.gpg`), when there is one: a window from the earliest base
 * backup's end to the newest archived segment, restored with `wal-archive.sh restore DIR --target-time` (the
 * word to replace, as the other windows; wal-archive.sh refuses it as it is). Nothing is said when the bucket
 * holds no base backup: RDS archives its own WAL behind the point-in-time window above.
 */
async function walArchive(clients: Clients, target: Target): Promise<Found> {
    const found = empty();
    const s3 = clients.s3(target.bucketRegion);
    const base = `${WAL_PREFIX}base/`;
    return attempt(found, `S3 s3://${target.bucket}/${WAL_PREFIX}`, EXIT.storage, { service: "S3", region: target.bucketRegion, resource: `s3://${target.bucket}/${WAL_PREFIX}` }, async () => {
        const manifests: string[] = [];
        for await (const page of paginateListObjectsV2({ client: s3 }, { Bucket: target.bucket, Prefix: base })) {
            manifests.push(...(page.Contents ?? []).map((o) => o.Key ?? "").filter((k) => k.endsWith(".json")));
        }
        if (manifests.length === 0) {
            return;
        }
        const ends: { key: string; finished: Date }[] = [];
        for (const key of manifests) {
            const out = await s3.send(new GetObjectCommand({ Bucket: target.bucket, Key: key }));
            try {
                // wal-archive.sh restore takes a manifest by its finished_epoch (seconds, `.finished_epoch // empty`)
                // and skips one without it ("not a base backup manifest"): read the same field, so that a base backup
                // is listed here only when restore would use it (a manifest with finished_at alone is not).
                const m = JSON.parse((await out.Body?.transformToString("utf8")) ?? "") as { finished_epoch?: unknown };
                const epoch = typeof m.finished_epoch === "number" || (typeof m.finished_epoch === "string" && m.finished_epoch.trim() !== "") ? Number(m.finished_epoch) : NaN;
                if (Number.isFinite(epoch)) {
                    ends.push({ key, finished: new Date(Math.round(epoch * 1000)) });
                    continue;
                }
            } catch {
                // not JSON: said below
            }
            found.notes.push(`s3://${target.bucket}/${key}: not a base backup manifest (no finished_epoch); wal-archive.sh restore skips it too`);
        }
        if (ends.length === 0) {
            return;
        }
        // The newest segment archived: the latest state the archive restores (the segments at the prefix's top level;
        // S3 times have whole seconds: of two in one second, the later name, as the listing is in name order).
        let newest: { key: string; at: Date } | undefined;
        const segments: { name: string; at: Date }[] = [];
        for await (const page of paginateListObjectsV2({ client: s3 }, { Bucket: target.bucket, Prefix: WAL_PREFIX, Delimiter: "/" })) {
            for (const o of page.Contents ?? []) {
                if (/^[0-9A-F]{24}\.zst\.gpg$/.test((o.Key ?? "").slice(WAL_PREFIX.length)) && o.LastModified) {
                    segments.push({ name: o.Key!.slice(WAL_PREFIX.length, WAL_PREFIX.length + 24), at: o.LastModified });
                    if (!newest || o.LastModified >= newest.at) {
                        newest = { key: o.Key!, at: o.LastModified };
                    }
                }
            }
        }
        ends.sort((a, b) => a.finished.getTime() - b.finished.getTime());
        const newestBase = ends[ends.length - 1];
        const gaps = walGaps(segments);
        // A recovery replays the segments in order and stops at the first one missing (wal-archive.sh fetch: "a gap
        // in the archive"). Each gap is said; the window is cut at it: each restorable span runs from a base backup's
        // end to the segment before the first gap after it (restore takes the newest base backup before the target),
        // so a gap before the newest base backup leaves targets between the gap and that backup's end unlisted.
        // Only gaps sure from the names are counted: a segment missing within one log file, or a whole log file
        // skipped (the segments per log file depend on wal_segment_size, so a next log file starting at its first
        // segment is taken as contiguous).
        for (const gap of gaps) {
            found.notes.push(`s3://${target.bucket}/${WAL_PREFIX}: WAL missing between ${gap.before.name} (archived ${utc(gap.before.at)}) and ${gap.after.name} (archived ${utc(gap.after.at)}): a recovery stops at the gap, so a target after ${utc(gap.before.at)} needs a base backup that ended after ${utc(gap.after.at)}`);
        }
        const spans = restorableSpans(ends.map((e) => e.finished), gaps, newest?.at);
        const archived = `WAL archived up to ${newest ? `${utc(newest.at)} (${newest.key.slice(WAL_PREFIX.length).replace(/\.zst\.gpg$/, "")})` : "none after the base backups"}`;
        spans.forEach((span, i) => {
            const last = i === spans.length - 1;
            const cut = last ? (newest && span.to < newest.at && span.to > newestBase.finished ? `; restorable up to ${utc(span.to)} only: WAL is missing after it (Notes)` : "") : `; this span ends at ${utc(span.to)}: WAL is missing after it, and the next base backup ended ${utc(spans[i + 1].from)} (Notes)`;
            const pick = { earliest: utc(new Date(Math.ceil(span.from.getTime() / 1000) * 1000)), latest: utc(span.to) };
            found.points.push({
                time: utc(span.to),
                earliest: pick.earliest,
                source: "wal-archive",
                label: "point in time (WAL)",
                region: target.bucketRegion,
                id: `s3://${target.bucket}/${WAL_PREFIX}`,
                detail: `scripts/wal-archive.sh's archive: ${ends.length} base backup(s), the earliest ended ${utc(ends[0].finished)}, the newest ${utc(newestBase.finished)}; ${archived}${cut}`,
                restore: {
                    commands: [`BUCKET=${target.bucket} AWS_REGION=${target.bucketRegion} scripts/wal-archive.sh restore <new-data-dir> --target-time ${PICK_TIME} --wait-for-target 300`],
                    pick,
                },
            });
        });
    });
}

/**
 * The spans of time the archive restores, oldest first and disjoint: each base backup restores from its end up to
 * the segment before the first gap after its end (a base backup that ended inside a gap, to its end only), the
 * newest segment when no gap follows; overlapping spans are one.
 */
export function restorableSpans(finished: Date[], gaps: { before: { at: Date }; after: { at: Date } }[], newestSegment: Date | undefined): { from: Date; to: Date }[] {
    const reach = (end: Date): Date => {
        const cuts = gaps.filter((g) => g.after.at > end).map((g) => (g.before.at > end ? g.before.at : end));
        const open = newestSegment && newestSegment > end ? newestSegment : end;
        return cuts.reduce((min, at) => (at < min ? at : min), open);
    };
    const spans: { from: Date; to: Date }[] = [];
    for (const end of [...finished].sort((a, b) => a.getTime() - b.getTime())) {
        const to = reach(end);
        const previous = spans[spans.length - 1];
        if (previous && end <= previous.to) {
            previous.to = to > previous.to ? to : previous.to;
        } else {
            spans.push({ from: end, to });
        }
    }
    return spans;
}

/**
 * Gaps in archived WAL segment names (24 hex digits: timeline, log, segment), per timeline in name order: a pair of
 * neighbours where one is sure to be missing between them (the next segment of the same log file is not the next
 * listed, or a log file is skipped). Across a log file boundary, the next one starting at segment 0 counts as
 * contiguous: how many segments a log file holds depends on wal_segment_size, which the names do not say.
 */
export function walGaps(segments: { name: string; at: Date }[]): { before: { name: string; at: Date }; after: { name: string; at: Date } }[] {
    const gaps: { before: { name: string; at: Date }; after: { name: string; at: Date } }[] = [];
    const sorted = [...segments].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (let i = 1; i < sorted.length; i++) {
        const [a, b] = [sorted[i - 1], sorted[i]];
        if (a.name.slice(0, 8) !== b.name.slice(0, 8)) {
            continue;
        }
        const [logA, segA, logB, segB] = [a.name.slice(8, 16), a.name.slice(16), b.name.slice(8, 16), b.name.slice(16)].map((h) => parseInt(h, 16));
        const contiguous = logB === logA ? segB === segA + 1 : logB === logA + 1 && segB === 0;
        if (!contiguous) {
            gaps.push({ before: a, after: b });
        }
    }
    return gaps;
}

/** A bucket's listing (dumpsIn) taken into `found`: its points and notes, its unreadable manifests as storage errors of `source`. */
function takeDumps(found: Found, listed: Awaited<ReturnType<typeof dumpsIn>>, source: string): void {
    found.points.push(...listed.points);
    found.notes.push(...listed.notes);
    found.errors.push(...listed.errors.map((message) => ({ source, exitCode: EXIT.storage, message })));
}

/** The dumps the backup CronJob wrote, in the stack's own bucket. */
async function dumps(clients: Clients, target: Target): Promise<Found> {
    const found = empty();
    const where: DumpLocation = { bucket: target.bucket, region: target.bucketRegion, prefix: target.bucketPrefix, source: "dump", label: "dump", privateKeys: privateKeysSettings(target.vaultBucket, false) };
    const prefix = `${target.bucketPrefix}manifests/`;
    return attempt(found, `S3 s3://${target.bucket}/${prefix}`, EXIT.storage, { service: "S3", region: where.region, resource: `s3://${target.bucket}/${prefix}` }, async () => {
        takeDumps(found, await dumpsIn(clients.s3(where.region), where), `S3 s3://${target.bucket}/${prefix}`);
    });
}

/** S3 replication's copies in the standby stack's bucket, and the vault account's copies (when readable). */
function copies(clients: Clients, target: Target): Array<Promise<Found>> {
    const out: Array<Promise<Found>> = [];
    const prefix = `${target.bucketPrefix}manifests/`;
    const dr = target.drBucket;
    if (dr) {
        const where: DumpLocation = { bucket: dr.bucket, region: dr.region, prefix: target.bucketPrefix, source: "dump-dr", label: "dump (DR copy)", copyOf: `S3 replica in ${dr.bucket}`, privateKeys: privateKeysSettings(target.vaultBucket, false) };
        const found = empty();
        out.push(attempt(found, `S3 s3://${dr.bucket}/${prefix}`, EXIT.storage, { service: "S3", region: dr.region, resource: `s3://${dr.bucket}/${prefix} (stack ${dr.stack})` }, async () => {
            takeDumps(found, await dumpsIn(clients.s3(dr.region), where), `S3 s3://${dr.bucket}/${prefix}`);
        }));
    }
    const vault = target.vaultBucket;
    if (vault) {
        const credentials = "AWS_PROFILE=<vault account profile>";
        const where: DumpLocation = { bucket: vault.bucket, region: vault.region, prefix: target.bucketPrefix, source: "dump-vault", label: "dump (vault copy)", copyOf: `vault account's ${vault.bucket}`, credentials, privateKeys: privateKeysSettings(vault, true) };
        const found = empty();
        const role = vault.restoreRoleArn ? ` (a profile that assumes ${vault.restoreRoleArn}, vault.restoreRoleArns of stack ${vault.stack})` : "";
        out.push((async () => {
            try {
                takeDumps(found, await dumpsIn(clients.s3(vault.region), where), `S3 s3://${vault.bucket}/${prefix}`);
                found.notes.push(`the vault copies restore with the vault account's credentials: ${credentials}${role}`);
            } catch (err) {
                const name = (err as { name?: string }).name ?? "";
                const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
                if (/AccessDenied|AllAccessDisabled/.test(name) || status === 403) {
                    found.notes.push(`the vault account's copies in s3://${vault.bucket} (${vault.region}) are not listed: these credentials may not read them (${name || "403"}); run recovery-points with the vault account's credentials${role} to list them`);
                } else {
                    found.errors.push({ source: `S3 s3://${vault.bucket}/${prefix}`, exitCode: EXIT.storage, message: explain(err, { service: "S3", region: vault.region, resource: `s3://${vault.bucket}/${prefix} (vault stack ${vault.stack})` }) });
                }
            }
            return found;
        })());
    } else {
        // Never silently: a stack without vaultStack has no isolated copy (one that names it, whose file was not
        // read, is said among unreadStacks' notes).
        out.push(Promise.resolve({ points: [], errors: [], notes: target.vaultStack ? [] : [`stack ${target.stack} names no vaultStack (or its stack file is not here): no vault copies listed`] }));
    }
    return out;
}

function age(fromIso: string, now: Date): string {
    const hours = (now.getTime() - Date.parse(fromIso)) / 3_600_000;
    return hours < 48 ? `${Math.max(0, Math.round(hours))} h` : `${Math.round(hours / 24)} days`;
}

/** How far each copy lags the stack's own bucket: the manifests not (yet) copied, and the newest copy's age. */
async function copyNotes(clients: Clients, report: Report, target: Target, now: Date): Promise<string[]> {
    const notes: string[] = [];
    const own = report.points.filter((p) => p.source === "dump");
    for (const [source, bucket] of [["dump-dr", target.drBucket], ["dump-vault", target.vaultBucket]] as const) {
        if (!bucket) {
            continue;
        }
        const copied = report.points.filter((p) => p.source === source);
        const read = report.errors.every((e) => !e.source.includes(`s3://${bucket.bucket}/`)) && !report.notes.some((n) => n.includes(`copies in s3://${bucket.bucket} `));
        if (!read || own.length === 0) {
            continue;
        }
        const ids = new Set(copied.map((p) => p.id));
        const missing = own.filter((p) => !ids.has(p.id));
        const newestMissing = missing.filter((p) => p.time).sort((a, b) => (a.time! < b.time! ? 1 : -1))[0];
        const newest = copied.map((p) => p.time).filter((t): t is string => !!t).sort().pop();
        // S3's own word on the newest manifest not copied: its ReplicationStatus (PENDING, FAILED, COMPLETED).
        const replication = newestMissing ? await replicationStatus(clients, target, newestMissing.id) : "";
        const lag = missing.length === 0
            ? "every manifest is copied"
            : `${missing.length} not copied (yet)${newestMissing ? `, the newest ${newestMissing.id} of ${newestMissing.time} (${age(newestMissing.time!, now)} old${replication}; replication copies within 15 min, older means it is failing: check the bucket's replication metrics)` : ""}`;
        notes.push(`s3://${bucket.bucket} (${source === "dump-dr" ? `stack ${bucket.stack}, ${bucket.region}` : `vault account, ${bucket.region}`}): ${copied.length} of s3://${target.bucket}'s ${own.length} dump manifests; ${lag}; ${newest ? `the newest copy is of ${newest} (${age(newest, now)} old)` : "no copy yet"}`);
    }
    return notes;
}

/** ", its ReplicationStatus FAILED" from HeadObject on the stack's own bucket; "" when S3 says none or cannot be asked. */
async function replicationStatus(clients: Clients, target: Target, key: string): Promise<string> {
    try {
        const head = await clients.s3(target.bucketRegion).send(new HeadObjectCommand({ Bucket: target.bucket, Key: key }));
        return head.ReplicationStatus ? `, its ReplicationStatus ${head.ReplicationStatus}` : ", no ReplicationStatus: not selected by a replication rule";
    } catch {
        return "";
    }
}

/** azure and gcp: the cloud's own recovery points, which this tool does not read, and how to list and restore them. */
function cloudPoints(target: Target): Unlisted[] {
    const db = target.cloudDatabase!;
    const stack = target.stack;
    const restore = (key: "restore.pointInTime" | "restore.fromSnapshot", value: string) => ({
        stack, key, value, commands: [`pulumi config set -s ${stack} --path ${key} ${value}`, `pulumi up -s ${stack}`],
    });
    if (db.cloud === "azure") {
        const server = `--resource-group ${db.group} --name ${db.name}`;
        const why = "this tool reads the AWS APIs only";
        return [
            {
                what: `Azure Flexible Server ${db.name}: point-in-time window (${db.pointInTimeDays} days, geo-redundant copy in ${target.drRegion})`,
                why,
                list: [`az postgres flexible-server show ${server} --query "[backup.earliestRestoreDate,backup.backupRetentionDays,backup.geoRedundantBackup]" --output tsv`],
                restore: restore("restore.pointInTime", "YYYY-MM-DDTHH:MM:SSZ"),
            },
            {
                what: `Azure Flexible Server ${db.name}: automatic and on-demand backups`,
                why: `${why}; Azure restores a backup as a point in time: its completedTime as restore.pointInTime (restore.fromSnapshot is refused on azure)`,
                list: [`az postgres flexible-server backup list ${server} --output table`],
                restore: restore("restore.pointInTime", "COMPLETED_TIME"),
            },
        ];
    }
    const instance = `--instance ${db.name} --project ${db.group}`;
    const why = "this tool reads the AWS APIs only";
    return [
        {
            what: `Cloud SQL ${db.name}: automated and on-demand backups`,
            why,
            list: [`gcloud sql backups list ${instance}`],
            restore: restore("restore.fromSnapshot", "BACKUP_ID"),
        },
        {
            what: `Cloud SQL ${db.name}: point-in-time window (${db.pointInTimeDays} days of transaction logs)`,
            why,
            list: [`gcloud sql instances describe ${db.name} --project ${db.group} --format="value(settings.backupConfiguration.pointInTimeRecoveryEnabled,settings.backupConfiguration.transactionLogRetentionDays)"`],
            restore: restore("restore.pointInTime", "YYYY-MM-DDTHH:MM:SSZ"),
        },
    ];
}
