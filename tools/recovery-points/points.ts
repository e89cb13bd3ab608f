/**
 * What `npm run recovery-points` lists: one RecoveryPoint per state of the database that can be restored,
 * each with the exact commands that restore it (the stack configuration `pulumi up` reads, or
 * scripts/restore.sh), and the exit codes of the tool.
 */

/** Exit codes, as in scripts/README.md: 2 configuration, 3 database, 4 storage. */
export const EXIT = { ok: 0, failure: 1, usage: 2, database: 3, storage: 4 } as const;

export type Source =
    /** The RDS automated-backup window of the running instance (primary region). */
    | "point-in-time"
    /** The same window, from the automated backups replicated into the DR region. */
    | "point-in-time-dr"
    /** The read replica's own automated-backup window in the DR region (restored with the AWS CLI, not `pulumi up`). */
    | "point-in-time-replica"
    | "snapshot"
    | "aws-backup"
    /** A dump manifest in the stack's own bucket. */
    | "dump"
    /** The replicated copy of a dump in the standby stack's bucket (DR region). */
    | "dump-dr"
    /** The copy in the vault account's bucket (read with the vault account's credentials). */
    | "dump-vault"
    /**
     * The scripts' own point-in-time archive (scripts/wal-archive.sh: base backups and WAL segments under wal/ in
     * the stack's bucket), when the bucket holds one: a self-managed server's, the drill's. Restored with
     * `wal-archive.sh restore DIR --target-time`, not `pulumi up`.
     */
    | "wal-archive"
    | "replica";

/**
 * Whether a restore verification passed for a dump: the newest record scripts/restore-verification.sh wrote
 * for its manifest (<prefix>verifications/<manifest name>/<stamp>.json, scripts/README.md).
 *   passed / failed  the newest record of this manifest (and of its current version) says so;
 *   never            no record of this manifest, or only of another version of it (overwritten since);
 *   unknown          the newest record could not be read or is not a verification record.
 */
export interface Verification {
    status: "passed" | "failed" | "never" | "unknown";
    /** Why: the first failed check, what was read, or why nothing could be. */
    reason: string;
    /** When the verification finished (UTC), for passed and failed. */
    at?: string;
    /** The record's S3 key. */
    record?: string;
    /** failed: whether the backup failed a check (exit 6) or the verification's environment did (2, 3, 4, 5). */
    failedBy?: "backup" | "environment";
}

export interface Restore {
    /** The stack whose configuration restores it (prod, or the standby stack for the DR region). */
    stack?: string;
    /** The configuration key and value `pulumi up` reads (components/restore.ts). */
    config?: { key: "restore.pointInTime" | "restore.fromSnapshot" | "promote"; value: string };
    /** The shell commands, one per line, in order; empty when the point cannot be restored (see `blocked`). */
    commands: string[];
    /** Why the point cannot be restored now (a snapshot still being created, a failed recovery point). */
    blocked?: string;
    /**
     * A window (point in time): the commands hold PICK_TIME, the word to replace with the second to restore,
     * the last one before the damage, from `earliest` (when known) to `latest`. Its latest time would restore
     * the damage too, so it is never printed as the value; the configuration refuses the word as it is.
     */
    pick?: { earliest?: string; latest: string };
}

export interface RecoveryPoint {
    /** The newest state the point restores (UTC, second precision); undefined when not known. */
    time?: string;
    /** Windows: the oldest second that can be restored. */
    earliest?: string;
    source: Source;
    /** Short label: "point in time", "manual snapshot", "AWS Backup daily", "dump", "replica". */
    label: string;
    region: string;
    /** The cloud's identifier: snapshot id, recovery point ARN, manifest key, instance identifier. */
    id: string;
    /** One line of facts (size, status, schema, lag), without secrets. */
    detail: string;
    sizeBytes?: number;
    status?: string;
    verification?: Verification;
    /**
     * A dump: its object as S3 answered HeadObject (the manifest's version): present (bytes), missing, replaced (another
     * object under the key: of another size, which restore.sh refuses, or, the manifest pinning no version, one S3
     * stored after the manifest, `writtenAt`, whose sha256 restore.sh refuses after the download), or unchecked (why).
     */
    object?: { state: "present"; bytes?: number } | { state: "replaced"; bytes: number; why: string; writtenAt?: string } | { state: "missing" | "unchecked"; why: string };
    /**
     * A dump whose manifest's started_at is after S3 stored the manifest (the backup host's clock was ahead): `time`
     * is then S3's LastModified of the manifest, the latest the dump can be of.
     */
    clockSkew?: { startedAt: string; storedAt: string };
    /** A dump whose manifest a delete marker hides: the manifest's kept version, and the marker's version and time. */
    hidden?: { versionId: string; markerVersionId: string; markedAt?: string };
    restore: Restore;
}

export interface SourceError {
    /** Which query failed: "RDS us-east-1 describe-db-instances", "S3 oauth2-backups-prod". */
    source: string;
    exitCode: typeof EXIT.database | typeof EXIT.storage;
    message: string;
}

/**
 * Recovery points that exist but this tool does not read (azure and gcp stacks: the cloud's own backups and
 * point-in-time window): what they are, the read-only command that lists them, and the configuration key
 * `pulumi up` restores one with.
 */
export interface Unlisted {
    what: string;
    why: string;
    /** The shell commands that list them (read-only). */
    list: string[];
    restore: { stack: string; key: "restore.pointInTime" | "restore.fromSnapshot"; value: string; commands: string[] };
}

export interface Report {
    stack: string;
    /** Where the database runs: aws (every source is read), azure or gcp (S3 dumps read; the cloud's own points in `unlisted`). */
    cloud: "aws" | "azure" | "gcp";
    database: string;
    primaryRegion: string;
    drRegion: string;
    /** The standby stack that restores the DR region's points, when one names this stack as its primaryStack. */
    standbyStack?: string;
    listedAt: string;
    /**
     * This machine's clock was off AWS's (the Date of its answers) by more than a minute: `listedAt` and the ages are
     * AWS's time; `offsetSeconds` AWS's minus this machine's (positive: this clock is behind).
     */
    clock?: { offsetSeconds: number; local: string; aws: string };
    points: RecoveryPoint[];
    /** The cloud's own points this tool does not list (azure, gcp), each with the command that lists them. */
    unlisted: Unlisted[];
    /** What is not listed, and why (no replica, AWS Backup disabled, ...), and the copies' replication lag. */
    notes: string[];
    errors: SourceError[];
}

/** UTC, second precision: 2024-01-15T10:00:00Z (what restore.pointInTime takes). */
export function utc(date: Date): string {
    return new Date(Math.floor(date.getTime() / 1000) * 1000).toISOString().replace(".000Z", "Z");
}

/** The word the commands of a window hold in place of the time (restore.pointInTime refuses it as it is). */
export const PICK_TIME = "YYYY-MM-DDTHH:MM:SSZ";

/** What to do with PICK_TIME, said under a window's commands: one line an operator cannot misread. */
export function pickGuidance(pick: { earliest?: string; latest: string }): string {
    return `pick the time: replace ${PICK_TIME} with the last second before the damage (UTC), from ${pick.earliest ?? "the window's unknown start"} to ${pick.latest}; ` +
        `${pick.latest} (the latest) restores any damage done before it too`;
}

/** A window's restore: `restore.pointInTime` PICK_TIME on `stack`, with the window it must be chosen in. */
export function windowRestore(stack: string | undefined, latest: string, earliest: string | undefined): Restore {
    return { ...configRestore(stack, "restore.pointInTime", PICK_TIME), pick: { ...(earliest ? { earliest } : {}), latest } };
}

/** `restore.pointInTime` (or fromSnapshot) on `stack`, then `pulumi up` (components/restore.ts declares the copy). */
export function configRestore(stack: string | undefined, key: "restore.pointInTime" | "restore.fromSnapshot", value: string): Restore {
    const s = stack ?? "<standby stack>";
    return {
        stack,
        config: { key, value },
        commands: [`pulumi config set -s ${s} --path ${key} ${value}`, `pulumi up -s ${s}`],
    };
}

/**
 * `word` as one shell word: as it is when it holds nothing a shell reads (the keys db-backup.sh writes), else in
 * single quotes. An S3 key may hold spaces, quotes or `$(...)` (a copy someone made, a hostile writer): a printed
 * command is pasted into a shell, where such a key would be split or run.
 */
export function shellWord(word: string): string {
    return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, "'\\''")}'`;
}

/** scripts/restore.sh of one manifest (the target database is the PG* environment; scripts/README.md). */
export function dumpRestore(bucket: string, region: string, prefix: string, manifestKey: string): Restore {
    const prefixEnv = prefix === "database/" ? "" : ` BACKUP_PREFIX=${shellWord(prefix)}`;
    return { commands: [`BUCKET=${bucket} AWS_REGION=${region}${prefixEnv} scripts/restore.sh --yes --manifest ${shellWord(manifestKey)}`] };
}

/** Newest first; points without a known time last, then by region and id for a stable order. */
export function newestFirst(points: RecoveryPoint[]): RecoveryPoint[] {
    return [...points].sort((a, b) => {
        if (a.time !== b.time) {
            if (a.time === undefined) return 1;
            if (b.time === undefined) return -1;
            return a.time < b.time ? 1 : -1;
        }
        return a.region.localeCompare(b.region) || a.id.localeCompare(b.id);
    });
}

/** 1234567 -> "1.2 MB" (SI units, as the console shows sizes). */
export function humanBytes(bytes: number): string {
    const units = ["B", "kB", "MB", "GB", "TB"];
    let value = bytes;
    let unit = 0;
    while (value >= 1000 && unit < units.length - 1) {
        value /= 1000;
        unit++;
    }
    return unit === 0 ? `${bytes} B` : `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}
