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
 */
import { DataClass, RETENTION_TABLE, retentionRow } from "./retention";
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

const overlaps = (rulePrefix: string, classPrefix: string) => classPrefix.startsWith(rulePrefix) || rulePrefix.startsWith(classPrefix);

function describe(rule: RuleView): string {
    return `rule "${rule.id}" (prefix "${rule.prefix}"${rule.narrowedBy ? `, ${rule.narrowedBy}, judged for every object under the prefix` : ""})`;
}

/** Every way the rules delete a class earlier than the minima; messages without the resource name. */
export function lifecycleProblems(rules: RuleView[], minima: Minima): string[] {
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
                    const what = rule.expirationDays !== undefined ? `after ${rule.expirationDays} days (expiration.days)` : `on ${rule.expirationDate} (expiration.date)`;
                    problems.push(`${where} expires the current version ${what}; the retention table requires the current version never to expire and at least ${required} versions`);
                }
                if (rule.noncurrentDays !== undefined && rule.newerNoncurrentVersions === undefined) {
                    problems.push(`${where} deletes noncurrent versions after ${rule.noncurrentDays} days without newerNoncurrentVersions; the retention table requires at least ${required} versions (newerNoncurrentVersions >= ${required - 1})`);
                } else if (rule.newerNoncurrentVersions !== undefined && rule.newerNoncurrentVersions + 1 < required) {
                    problems.push(`${where} keeps ${rule.newerNoncurrentVersions + 1} versions (1 current + noncurrentVersionExpiration.newerNoncurrentVersions ${rule.newerNoncurrentVersions}); the retention table requires at least ${required} versions`);
                }
                continue;
            }
            const required = minima.days[row.dataClass] ?? row.minimum;
            if (rule.expirationDays !== undefined && rule.expirationDays < required) {
                problems.push(`${where} expires objects after ${rule.expirationDays} days (expiration.days); the retention table requires at least ${required} days`);
            }
            if (rule.expirationDate !== undefined) {
                problems.push(`${where} expires every object on ${rule.expirationDate} (expiration.date); the retention table requires at least ${required} days from each backup`);
            }
            if (rule.noncurrentDays !== undefined && rule.newerNoncurrentVersions === undefined && rule.noncurrentDays < required) {
                problems.push(`${where} deletes noncurrent versions after ${rule.noncurrentDays} days (noncurrentVersionExpiration.noncurrentDays); the retention table requires at least ${required} days`);
            }
        }
    }
    return problems;
}

export interface PrefixRetention {
    /** kept: an Enabled rule covers the class and no overlapping rule deletes earlier. */
    status: "kept" | "short" | "no-rule" | "unknown";
    /** What the rules keep, for people: "90 days", "7 versions", "never expires". */
    found: string;
    /** The shortest retention found, in the class's unit (Infinity when nothing expires). */
    value: number;
    ruleIds: string[];
    /** The parts of the class prefix the rules keep, when narrower than it ("database/orders/"); empty otherwise. */
    subPrefixes: string[];
}

/** How long the rules keep one class's prefix, for the retention matrix. */
export function prefixRetention(rules: RuleView[] | typeof UNKNOWN, dataClass: DataClass, minima: Minima): PrefixRetention {
    if (rules === UNKNOWN) {
        return { status: "unknown", found: show(UNKNOWN), value: NaN, ruleIds: [], subPrefixes: [] };
    }
    const row = retentionRow(dataClass);
    // Every Enabled rule on the class prefix, on a prefix above it, or on a part of it.
    const relevant = rules.filter((r) => r.enabled && overlaps(r.prefix, row.bucketPrefix));
    if (relevant.some((r) => r.unknown)) {
        return { status: "unknown", found: show(UNKNOWN), value: NaN, ruleIds: relevant.map((r) => r.id), subPrefixes: [] };
    }
    if (relevant.length === 0) {
        return { status: "no-rule", found: "no lifecycle rule", value: NaN, ruleIds: [], subPrefixes: [] };
    }
    const subPrefixes = [...new Set(relevant.filter((r) => r.prefix.length > row.bucketPrefix.length).map((r) => r.prefix))];
    let value = Infinity;
    for (const rule of relevant) {
        if (row.unit === "versions") {
            if (rule.expirationDays !== undefined || rule.expirationDate !== undefined) {
                value = Math.min(value, 1);
            }
            if (rule.noncurrentDays !== undefined) {
                value = Math.min(value, rule.newerNoncurrentVersions === undefined ? 1 : rule.newerNoncurrentVersions + 1);
            }
        } else {
            const candidates = [rule.expirationDays, rule.newerNoncurrentVersions === undefined ? rule.noncurrentDays : undefined];
            for (const days of candidates) {
                if (days !== undefined) {
                    value = Math.min(value, days);
                }
            }
            if (rule.expirationDate !== undefined) {
                value = Math.min(value, 0);
            }
        }
    }
    const problems = lifecycleProblems(relevant, minima).filter((p) => p.includes(` on ${row.bucketPrefix} `));
    const found = value === Infinity ? (row.unit === "versions" ? "all versions" : "never expires") : `${value} ${row.unit}`;
    return { status: problems.length === 0 ? "kept" : "short", found, value, ruleIds: relevant.map((r) => r.id), subPrefixes };
}
