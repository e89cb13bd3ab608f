/**
 * How long an S3 lifecycle configuration keeps each data class's prefix of the backup bucket, judged rule
 * by rule against the retention table. Shared by the lifecycle policy and the retention matrix.
 *
 * - A rule applies to a class when their prefixes overlap (`filter.prefix`, `filter.and.prefix` or the
 *   legacy `prefix`; an empty prefix is every object). Any overlapping Enabled rule that deletes earlier
 *   than the table is a violation, even if another rule keeps the class long enough.
 * - A rule *keeps* a class when its prefix covers the whole class (the class prefix starts with it) or a part
 *   of it (`database/orders/` under `database/`): objects under the class prefix that no rule expires are kept
 *   forever, so the rules on its parts are what the class keeps, each with its own days.
 * - Day-based classes: `expiration.days` >= the class's days (an `expiration.date` deletes everything on
 *   that day: a violation); `noncurrentVersionExpiration.noncurrentDays` >= the days, unless
 *   `newerNoncurrentVersions` is set (then versions are kept by count, not age).
 * - secrets/ (versions): the current version never expires (only `expiredObjectDeleteMarker` allowed) and
 *   1 current + `newerNoncurrentVersions` >= the table's versions. A noncurrentVersionExpiration without
 *   newerNoncurrentVersions keeps versions by age only: a violation.
 * - Rules with status Disabled neither keep nor delete anything.
 * - A bucket's COMPLIANCE Object Lock default retention (`LockFloor`, read by object-lock.ts `lockFloorOf`) is a
 *   floor for the day-based classes: S3 does not let a lifecycle rule delete a locked version, it waits until
 *   the lock ends, so a rule expiring earlier deletes each version `max(rule, lock)` days after its creation
 *   (h39). Versions-based classes (secrets/) are counted by versions, which a time lock does not change.
 */
import { DataClass, plural, RETENTION_TABLE, RetentionRow, retentionRow } from "./retention";
import { read, readArray, show, UNKNOWN } from "./unknowns";
import { asNumber } from "./numbers";

export interface Minima {
    days: Partial<Record<DataClass, number>>;
    secretVersions: number;
}

export interface RuleView {
    id: string;
    prefix: string;
    enabled: boolean;
    expirationDays?: number;
    expirationDate?: string;
    noncurrentDays?: number;
    newerNoncurrentVersions?: number;
    /**
     * The rule's other filters (tags, object sizes), for messages: "tag scratch=true". The pack cannot tell
     * which backups carry a tag or have a size, so such a rule is judged as applying to its whole prefix.
     */
    narrowedBy?: string;
    /** Some property the analysis needs is unknown during preview. */
    unknown: boolean;
}

/** A rule's tag and object-size filters, spelled for messages; undefined when it has none. */
function narrowing(rule: unknown): string | undefined {
    const parts: string[] = [];
    const tag = read(rule, "filter", "tag");
    const tags = [...(tag && typeof tag === "object" ? [[read(tag, "key"), read(tag, "value")]] : [])];
    const andTags = read(rule, "filter", "and", "tags");
    if (andTags && typeof andTags === "object") {
        tags.push(...Object.keys(andTags).map((key) => [key, read(andTags, key)]));
    }
    parts.push(...tags.map(([key, value]) => `tag ${String(key)}=${String(value)}`));
    for (const [field, what] of [["objectSizeGreaterThan", "objects larger than"], ["objectSizeLessThan", "objects smaller than"]] as const) {
        const size = read(rule, "filter", field) ?? read(rule, "filter", "and", field);
        if (size !== undefined && size !== null) {
            parts.push(`${what} ${String(size)} bytes`);
        }
    }
    return parts.length > 0 ? parts.join(", ") : undefined;
}

/** A number input as the provider reads it ("35" is 35); a value it would refuse counts as unset here. */
function numberOrUndefined(value: unknown): number | undefined {
    const number = asNumber(value);
    return typeof number === "number" ? number : undefined;
}

/** A plain view of one rule; `unknown` set when a property that matters is unknown. */
export function viewRule(rule: unknown, index: number): RuleView {
    const id = read(rule, "id");
    let prefix: unknown = read(rule, "filter", "prefix");
    if (prefix === undefined) {
        prefix = read(rule, "filter", "and", "prefix");
    }
    if (prefix === undefined) {
        prefix = read(rule, "prefix");
    }
    const status = read(rule, "status");
    const narrowedBy = narrowing(rule);
    const parts = [
        prefix,
        status,
        read(rule, "expiration", "days"),
        read(rule, "expiration", "date"),
        read(rule, "noncurrentVersionExpiration", "noncurrentDays"),
        read(rule, "noncurrentVersionExpiration", "newerNoncurrentVersions"),
    ];
    return {
        id: typeof id === "string" ? id : `#${index + 1}`,
        prefix: typeof prefix === "string" ? prefix : "",
        enabled: status !== "Disabled",
        expirationDays: numberOrUndefined(parts[2]),
        expirationDate: typeof parts[3] === "string" && parts[3] !== "" ? parts[3] : undefined,
        noncurrentDays: numberOrUndefined(parts[4]),
        newerNoncurrentVersions: numberOrUndefined(parts[5]),
        ...(narrowedBy ? { narrowedBy } : {}),
        unknown: parts.some((p) => p === UNKNOWN),
    };
}

export function viewRules(props: unknown): RuleView[] | typeof UNKNOWN {
    const rules = readArray(props, "rules");
    if (rules === UNKNOWN) {
        return UNKNOWN;
    }
    return (rules ?? []).map(viewRule);
}

/**
 * What a backup bucket's default Object Lock retention guarantees each version, as lockFloorOf (object-lock.ts)
 * reads it: the one source of the floor for the retention matrix and s3-backup-lifecycle-retention.
 */
export interface LockFloor {
    /** Days from its creation every version is kept whatever the lifecycle rules say: the COMPLIANCE default retention; 0 when none counts. */
    days: number;
    /** Where the counted lock is declared, for messages ("backups-lock (BucketObjectLockConfigurationV2)"). */
    source?: string;
    /** A default retention the bucket declares that is not counted, and why (GOVERNANCE mode, unknown in this plan), for messages. */
    notCounted?: { days?: number; why: string };
}

export const NO_LOCK_FLOOR: LockFloor = Object.freeze({ days: 0 });

/** The floor the lock puts on a row: day rows only (a time lock keeps no number of versions). */
function floorFor(row: RetentionRow, floor: LockFloor): number {
    return row.unit === "days" ? floor.days : 0;
}

/** "COMPLIANCE Object Lock default retention (src)": the counted lock, as every message names it. */
function lockText(floor: LockFloor): string {
    return `COMPLIANCE Object Lock default retention (${floor.source ?? "the bucket's lock"})`;
}

/** "deferred to 35 days by the COMPLIANCE Object Lock default retention (src)": a rule's deletion the lock postpones. */
function deferredBy(floor: LockFloor, days: number): string {
    return `deferred to ${plural(days, "days")} by the ${lockText(floor)}`;
}

const overlaps = (rulePrefix: string, classPrefix: string) => classPrefix.startsWith(rulePrefix) || rulePrefix.startsWith(classPrefix);

function describe(rule: RuleView): string {
    return `rule "${rule.id}" (prefix "${rule.prefix}"${rule.narrowedBy ? `, ${rule.narrowedBy}, judged for every object under the prefix` : ""})`;
}

/**
 * Every way the rules delete a class earlier than the minima; messages without the resource name. `floor`: the
 * bucket's COMPLIANCE lock, which postpones a day-based deletion until the lock ends (lockFloorOf).
 */
export function lifecycleProblems(rules: RuleView[], minima: Minima, floor: LockFloor = NO_LOCK_FLOOR): string[] {
    const problems: string[] = [];
    for (const row of RETENTION_TABLE) {
        const classPrefix = row.bucketPrefix;
        for (const rule of rules) {
            if (!rule.enabled || rule.unknown || !overlaps(rule.prefix, classPrefix)) {
                continue;
            }
            const where = `${describe(rule)} on ${classPrefix} (${row.dataType})`;
            if (row.unit === "versions") {
                const required = minima.secretVersions;
                if (rule.expirationDays !== undefined || rule.expirationDate !== undefined) {
                    const what = rule.expirationDays !== undefined ? `after ${plural(rule.expirationDays, "days")} (expiration.days)` : `on ${rule.expirationDate} (expiration.date)`;
                    problems.push(`${where} expires the current version ${what}; the retention table requires the current version never to expire and at least ${required} versions`);
                }
                if (rule.noncurrentDays !== undefined && rule.newerNoncurrentVersions === undefined) {
                    problems.push(`${where} deletes noncurrent versions after ${plural(rule.noncurrentDays, "days")} without newerNoncurrentVersions; the retention table requires at least ${required} versions (newerNoncurrentVersions >= ${required - 1})`);
                } else if (rule.newerNoncurrentVersions !== undefined && rule.newerNoncurrentVersions + 1 < required) {
                    problems.push(`${where} keeps ${rule.newerNoncurrentVersions + 1} versions (1 current + noncurrentVersionExpiration.newerNoncurrentVersions ${rule.newerNoncurrentVersions}); the retention table requires at least ${required} versions`);
                }
                continue;
            }
            const required = minima.days[row.dataClass] ?? row.minimum;
            const locked = floorFor(row, floor);
            // A deletion the lock postpones happens when the lock ends: short only when that too is below the row.
            const short = (days: number) => Math.max(days, locked) < required;
            const deferred = (days: number) => (locked > days ? `, ${deferredBy(floor, locked)}` : "");
            if (rule.expirationDays !== undefined && short(rule.expirationDays)) {
                problems.push(`${where} expires objects after ${plural(rule.expirationDays, "days")} (expiration.days)${deferred(rule.expirationDays)}; the retention table requires at least ${required} days`);
            }
            if (rule.expirationDate !== undefined && short(0)) {
                problems.push(`${where} expires every object on ${rule.expirationDate} (expiration.date)${locked > 0 ? `, each version kept ${plural(locked, "days")} by the ${lockText(floor)}` : ""}; the retention table requires at least ${required} days from each backup`);
            }
            if (rule.noncurrentDays !== undefined && rule.newerNoncurrentVersions === undefined && short(rule.noncurrentDays)) {
                problems.push(`${where} deletes noncurrent versions after ${plural(rule.noncurrentDays, "days")} (noncurrentVersionExpiration.noncurrentDays)${deferred(rule.noncurrentDays)}; the retention table requires at least ${required} days`);
            }
        }
    }
    return problems;
}

export interface PrefixRetention {
    /** kept: an Enabled rule covers the class and no overlapping rule deletes earlier. */
    status: "kept" | "short" | "no-rule" | "unknown";
    /** What the bucket keeps, for people: "90 days", "7 versions", "never expires". */
    found: string;
    /** The shortest retention found, in the class's unit (Infinity when nothing expires); the lock's floor when longer. */
    value: number;
    ruleIds: string[];
    /** The parts of the class prefix the rules keep, when narrower than it ("database/orders/"); empty otherwise. */
    subPrefixes: string[];
    /**
     * What `found` rests on, for people: `rule a, b`; with a lock that decides it, `COMPLIANCE Object Lock default
     * retention (src); lifecycle rule "a" deletes noncurrent versions after 1 day, deferred by the lock`.
     */
    basis: string;
}

/** The earliest deletion among the rules on a day-based class: its days (0 for a date) and what does it, for messages. */
interface Deletion {
    days: number;
    what: string;
}

function earliestDeletion(rules: RuleView[]): Deletion | undefined {
    let earliest: Deletion | undefined;
    const note = (days: number, what: string) => {
        if (earliest === undefined || days < earliest.days) {
            earliest = { days, what };
        }
    };
    for (const rule of rules) {
        if (rule.expirationDays !== undefined) {
            note(rule.expirationDays, `lifecycle rule "${rule.id}" expires objects after ${plural(rule.expirationDays, "days")}`);
        }
        if (rule.noncurrentDays !== undefined && rule.newerNoncurrentVersions === undefined) {
            note(rule.noncurrentDays, `lifecycle rule "${rule.id}" deletes noncurrent versions after ${plural(rule.noncurrentDays, "days")}`);
        }
        if (rule.expirationDate !== undefined) {
            note(0, `lifecycle rule "${rule.id}" expires every object on ${rule.expirationDate}`);
        }
    }
    return earliest;
}

/** The lowest number of versions the rules on a versions class keep (Infinity when none expires). */
function versionsKept(rules: RuleView[]): number {
    let value = Infinity;
    for (const rule of rules) {
        if (rule.expirationDays !== undefined || rule.expirationDate !== undefined) {
            value = Math.min(value, 1);
        }
        if (rule.noncurrentDays !== undefined) {
            value = Math.min(value, rule.newerNoncurrentVersions === undefined ? 1 : rule.newerNoncurrentVersions + 1);
        }
    }
    return value;
}

/**
 * How long the bucket keeps one class's prefix, for the retention matrix: its lifecycle rules, and for a
 * day-based class the bucket's COMPLIANCE Object Lock default retention (`floor`, lockFloorOf) when longer.
 * A lock not counted (GOVERNANCE, unknown in this plan) is named in `basis` when it would have decided.
 */
export function prefixRetention(rules: RuleView[] | typeof UNKNOWN, dataClass: DataClass, minima: Minima, floor: LockFloor = NO_LOCK_FLOOR): PrefixRetention {
    if (rules === UNKNOWN) {
        return { status: "unknown", found: show(UNKNOWN), value: NaN, ruleIds: [], subPrefixes: [], basis: "" };
    }
    const row = retentionRow(dataClass);
    // Every Enabled rule on the class prefix, on a prefix above it, or on a part of it.
    const relevant = rules.filter((r) => r.enabled && overlaps(r.prefix, row.bucketPrefix));
    if (relevant.some((r) => r.unknown)) {
        return { status: "unknown", found: show(UNKNOWN), value: NaN, ruleIds: relevant.map((r) => r.id), subPrefixes: [], basis: "" };
    }
    if (relevant.length === 0) {
        return { status: "no-rule", found: "no lifecycle rule", value: NaN, ruleIds: [], subPrefixes: [], basis: "" };
    }
    const subPrefixes = [...new Set(relevant.filter((r) => r.prefix.length > row.bucketPrefix.length).map((r) => r.prefix))];
    const ruleIds = relevant.map((r) => r.id);
    const deletion = row.unit === "days" ? earliestDeletion(relevant) : undefined;
    const lifecycle = row.unit === "versions" ? versionsKept(relevant) : deletion?.days ?? Infinity;
    const locked = floorFor(row, floor);
    const value = Math.max(lifecycle, locked);
    const problems = lifecycleProblems(relevant, minima, floor).filter((p) => p.includes(` on ${row.bucketPrefix} `));
    const found = value === Infinity ? (row.unit === "versions" ? "all versions" : "never expires") : plural(value, row.unit);
    const status = problems.length === 0 ? "kept" : "short";
    let basis = `rule ${ruleIds.join(", ")}`;
    if (locked > lifecycle && deletion) {
        basis = `${lockText(floor)}; ${deletion.what}, deferred by the lock`;
    } else if (row.unit === "days" && floor.notCounted && (floor.notCounted.days === undefined ? status === "short" : floor.notCounted.days > lifecycle)) {
        // Said where it would have decided, so a reader sees why the lock did not count.
        const days = floor.notCounted.days === undefined ? "" : ` of ${plural(floor.notCounted.days, "days")}`;
        basis = `${basis}; Object Lock default retention${days} not counted: ${floor.notCounted.why}`;
    }
    return { status, found, value, ruleIds, subPrefixes, basis };
}
