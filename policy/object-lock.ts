/**
 * `s3-backup-object-lock` (mandatory): every backup bucket declared in the stack has S3 Object Lock with a
 * default retention of at least the retention table's database row (the shortest Critical row in days, raised
 * by oauth2-dr-settings.minimumDays, lowered only by a waiver), in COMPLIANCE mode when the bucket is
 * production. Lifecycle expiry is the longest time a version is kept; only the lock makes it the shortest
 * too: without it any credential with s3:DeleteObjectVersion (an administrator, a compromised job, ransomware)
 * deletes every dump early.
 *
 * Evidence: an `aws.s3.BucketObjectLockConfiguration` (or the deprecated `...V2`) of the bucket, linked by
 * name or by dependency; or the bucket's inline `objectLockConfiguration` (v6 BucketV2, legacy Bucket).
 * `objectLockEnabled: true` on the bucket alone enables the lock without any default retention: nothing is
 * locked unless each upload asks for it, so it is reported too. A lifecycle rule that expires versions before
 * the lock's default retention releases them fights the lock and is reported.
 *
 * Per data class, the objects a service writes without a retain-until of their own: a Kinesis Data Firehose
 * delivery stream (extended_s3) or a CloudTrail trail cannot set one, so each of its objects is locked exactly the default retention
 * of the bucket it writes to. That default must reach the row of the class its prefix holds (audit/ 365 days):
 * S3 keeps one default retention per bucket, not per prefix, so a class longer than the bucket's default
 * needs its own bucket. (Our scripts set each object's retain-until from its class: lib/object-lock.ts.)
 *
 * The per-object lock's floor (production): a lock set in the upload overrides the default, so a production
 * backup bucket's policy must refuse a per-object lock in another mode than COMPLIANCE and, per prefix of a row
 * it holds, one shorter than the row (lockFloorProblems; components/backup-bucket.ts lockFloorStatements).
 */
import { StackValidationPolicy } from "@pulumi/policy";
import { configOf, globMatch, isProduction } from "./config";
import { conditionEntries, covers, isEveryone, notPrincipalException, Statement, statementsOf, statementsOfAll } from "./iam-documents";
import { BucketGroup, bucketNameFromArn, indexStack, StackIndex, StackResource, tagsOf } from "./resources";
import { LockFloor, NO_LOCK_FLOOR } from "./lifecycle";
import { lifecycleRulesOf } from "./s3-families";
import { formatRetention, RETENTION_TABLE, RetentionRow, retentionRow } from "./retention";
import type { Settings } from "./settings";
import { minimumOf, sharedSettings } from "./settings";
import { asNumber, isNotANumber, showNumber } from "./numbers";
import { T } from "./types";
import { notJudgedInPreview, read, UNKNOWN } from "./unknowns";

export const OBJECT_LOCK_TYPES = [
    "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",
    "aws:s3/bucketObjectLockConfigurationV2:BucketObjectLockConfigurationV2",
];

const objectLockSchema = {
    properties: {
        productionMode: {
            type: "string" as const,
            enum: ["COMPLIANCE", "GOVERNANCE"],
            default: "COMPLIANCE",
            description: "The default retention mode production backup buckets must use (GOVERNANCE can be bypassed with s3:BypassGovernanceRetention).",
        },
    },
};

interface ObjectLockConfig {
    productionMode: "COMPLIANCE" | "GOVERNANCE";
}

export interface LockView {
    /** Where the lock is declared, for messages. */
    source: string;
    enabled: unknown;
    mode: unknown;
    /** Days of the default retention (years x 365); undefined when no default retention. */
    days: unknown;
    /** The default retention's value the provider would refuse (`years "one" (not a number)`). */
    invalid?: string;
    /** Where the default retention goes in that declaration, for messages. */
    field: string;
}

/** `retention`: the declaration's `rule.defaultRetention` (or a v6 BucketV2's inline `rules[0].defaultRetentions[0]`). */
function defaultRetention(retention: unknown, source: string, enabled: unknown, field = "rule.defaultRetention"): LockView {
    // Read as the provider reads a number ("35" is 35; "one" is not a number, kept for the message).
    const days = asNumber(read(retention, "days"));
    const years = asNumber(read(retention, "years"));
    const total = days === UNKNOWN || years === UNKNOWN ? UNKNOWN : typeof days === "number" ? days : typeof years === "number" ? years * 365 : undefined;
    const invalid = isNotANumber(days) ? `days ${showNumber(days)}` : isNotANumber(years) ? `years ${showNumber(years)}` : undefined;
    return { source, enabled, mode: read(retention, "mode"), days: total, field, ...(invalid ? { invalid } : {}) };
}

/** The Object Lock declarations of a bucket: its configuration resources, else its inline arguments. */
export function locksOf(bucket: StackResource, bucketName: unknown, resources: readonly StackResource[]): LockView[] {
    const views: LockView[] = [];
    for (const resource of resources) {
        if (!OBJECT_LOCK_TYPES.includes(resource.type)) {
            continue;
        }
        const target = read(resource.props, "bucket");
        const linked = resource.propertyDependencies?.bucket?.some((d) => d.urn === bucket.urn) || (typeof target === "string" && target === bucketName);
        if (linked) {
            views.push(defaultRetention(read(resource.props, "rule", "defaultRetention"), `${resource.name} (${resource.type.split(":").pop()})`, read(resource.props, "objectLockEnabled") ?? "Enabled"));
        }
    }
    const inline = read(bucket.props, "objectLockConfiguration");
    const flag = read(bucket.props, "objectLockEnabled");
    if (inline !== undefined && inline !== null) {
        // A BucketV2's inline block is list-shaped (`rules[].defaultRetentions[]`), a Bucket's is not (`rule.defaultRetention`).
        const v2 = bucket.type === T.bucketV2;
        const retention = v2 ? read(inline, "rules", 0, "defaultRetentions", 0) : read(inline, "rule", "defaultRetention");
        // The inline `objectLockEnabled` is deprecated for the bucket's top-level `objectLockEnabled: true` (the
        // provider refuses both at once), which enables the lock the inline rule configures (h35 trial).
        const inlineEnabled = read(inline, "objectLockEnabled");
        const enabled = inlineEnabled !== undefined ? inlineEnabled : flag === true ? "Enabled" : flag === UNKNOWN ? UNKNOWN : undefined;
        views.push(defaultRetention(retention, `${bucket.name}.objectLockConfiguration`, enabled, v2 ? "rules[0].defaultRetentions[0]" : "rule.defaultRetention"));
    }
    if (views.length === 0 && (flag === true || flag === UNKNOWN)) {
        views.push({ source: `${bucket.name}.objectLockEnabled`, enabled: flag === true ? "Enabled" : UNKNOWN, mode: undefined, days: undefined, field: "rule.defaultRetention" });
    }
    return views;
}

/**
 * What the bucket's default Object Lock retention guarantees each version whatever its lifecycle rules say: the
 * floor the retention matrix and s3-backup-lifecycle-retention put under a lifecycle rule's deletion (h39 trial: a
 * COMPLIANCE lock of 35 days and `noncurrentDays: 1` was "found 1 day"). AWS, "Managing delete markers and object
 * lifecycles" (Amazon S3 developer guide, object-lock-managing): "Object lifecycle management configurations
 * continue to function normally on protected objects, including placing delete markers. However, protected object
 * versions remain safe from being deleted or overwritten by a lifecycle configuration." A version locked by the
 * default retention is so kept its days from its creation: the lifecycle's deletion waits until the lock ends.
 *
 * Counted only in COMPLIANCE mode, which no credential can shorten: a GOVERNANCE lock yields to
 * s3:BypassGovernanceRetention (an administrator, a compromised job deletes the version), so it is said, not
 * counted. A lock whose state, retention or mode is unknown (an outside stack's output, a preview) is not counted
 * either: the verdict stays the lifecycle's, never a pass on an unknown. With several declarations (a
 * configuration resource and the inline block), whichever S3 applied last holds, so the floor is the least of
 * them. A per-object retain-until set by the writer overrides the default; s3-backup-object-lock (the production
 * bucket policy's floor) and backup-job-role-no-destruction (s3:PutObjectRetention) judge that.
 */
export function lockFloorOf(group: BucketGroup, index: StackIndex): LockFloor {
    if (!group.bucket) {
        return NO_LOCK_FLOOR;
    }
    const views = locksOf(group.bucket, group.name, OBJECT_LOCK_TYPES.flatMap((type) => index.ofType(type)));
    let floor: LockFloor | undefined;
    let notCounted: LockFloor["notCounted"];
    for (const view of views) {
        let days = 0;
        if (view.enabled === UNKNOWN || view.days === UNKNOWN || view.mode === UNKNOWN) {
            notCounted = { why: `its ${unknownInputs(view).join(", ")} not known until the update (${view.source})` };
        } else if ((view.enabled === "Enabled" || view.enabled === true) && view.invalid === undefined && typeof view.days === "number" && view.days > 0) {
            if (view.mode === "COMPLIANCE") {
                days = view.days;
            } else {
                notCounted ??= { days: view.days, why: `${JSON.stringify(view.mode)} mode (${view.source}), which s3:BypassGovernanceRetention lets a caller delete or shorten before it ends` };
            }
        }
        if (floor === undefined || days < floor.days) {
            floor = days > 0 ? { days, source: view.source } : { days: 0 };
        }
    }
    // A declaration not counted gives 0, so the least is 0 whenever notCounted is set.
    return { ...(floor ?? NO_LOCK_FLOOR), ...(notCounted ? { notCounted } : {}) };
}

/** What is missing from one bucket's lock, as one message each; [] when it is enough (or unknown yet). */
export function objectLockProblems(name: string, views: LockView[], minimumDays: number, production: boolean, productionMode: string): string[] {
    const row = retentionRow("database");
    const required = `a default retention of at least ${formatRetention(minimumDays, "days")} (the retention table's ${row.dataType} row)${production ? ` in ${productionMode} mode` : ""}`;
    if (views.length === 0) {
        return [`${name}: backup bucket has no Object Lock (no BucketObjectLockConfiguration, no objectLockEnabled); the runbook requires ${required}, so that no credential can delete a version early`];
    }
    const problems: string[] = [];
    for (const view of views) {
        if (view.enabled === UNKNOWN || view.days === UNKNOWN || view.mode === UNKNOWN) {
            continue;
        }
        if (view.invalid !== undefined) {
            problems.push(`${name}: Object Lock default retention ${view.invalid} (${view.field} in ${view.source}); the runbook requires ${required}`);
        } else if (view.enabled !== "Enabled" && view.enabled !== true) {
            problems.push(`${name}: Object Lock is not enabled (objectLockEnabled ${JSON.stringify(view.enabled)} in ${view.source}); the runbook requires ${required}`);
        } else if (view.days === undefined || view.mode === undefined) {
            problems.push(`${name}: Object Lock has no default retention (${view.field} in ${view.source}): a version is locked only when its upload asks; the runbook requires ${required}`);
        } else if (typeof view.days === "number" && view.days < minimumDays) {
            problems.push(`${name}: Object Lock default retention is ${formatRetention(view.days, "days")} (${view.source}), below the retention table's minimum of ${formatRetention(minimumDays, "days")} for ${row.dataType}`);
        } else if (production && view.mode !== productionMode) {
            problems.push(`${name}: Object Lock default retention mode is ${JSON.stringify(view.mode)} (${view.source}); production backups require ${productionMode} (GOVERNANCE can be bypassed with s3:BypassGovernanceRetention)`);
        }
    }
    return problems;
}

/**
 * Lifecycle rules that expire a version before the lock releases it: expiry is the longest a version is kept,
 * the lock the shortest; a rule shorter than the lock only fights it (S3 refuses each deletion, or hides a
 * version it cannot delete behind a delete marker).
 */
export function rulesFightingLock(name: string, group: BucketGroup, lockDays: number): string[] {
    const out: string[] = [];
    for (const resource of [...(group.bucket ? [group.bucket] : []), ...group.config.lifecycle]) {
        const rules = lifecycleRulesOf(resource.type, resource.props);
        for (const rule of Array.isArray(rules) ? rules : []) {
            if (!rule.enabled || rule.unknown) {
                continue;
            }
            for (const [what, days] of [["expires current versions", rule.expirationDays], ["expires noncurrent versions", rule.noncurrentDays]] as const) {
                if (typeof days === "number" && days < lockDays) {
                    out.push(`${name}: lifecycle rule "${rule.id}" (${resource.name}, prefix ${JSON.stringify(rule.prefix)}) ${what} after ${formatRetention(days, "days")}, before the Object Lock's ${formatRetention(lockDays, "days")} release them; the rule fights the lock (make its expiry at least the lock's retention)`);
                }
            }
        }
    }
    return out;
}

export const FIREHOSE_TYPE = "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream";
export const CLOUDTRAIL_TYPE = "aws:cloudtrail/trail:Trail";

/** A writer that cannot set a per-object retain-until, and the bucket and prefix it writes to. */
export interface ServiceWriter {
    resource: StackResource;
    what: string;
    bucket: BucketGroup | undefined;
    bucketName: unknown;
    prefix: unknown;
}

/** The Firehose delivery streams writing to S3 (extended_s3) and the CloudTrail trails, with their destination bucket and prefix. */
export function serviceWriters(index: StackIndex, resources: readonly StackResource[]): ServiceWriter[] {
    const out: ServiceWriter[] = [];
    for (const stream of resources.filter((r) => r.type === FIREHOSE_TYPE)) {
        const s3 = read(stream.props, "extendedS3Configuration");
        if (s3 === undefined || s3 === null) {
            continue;
        }
        out.push(serviceWriter(index, stream, "Firehose delivery stream", "extendedS3Configuration", bucketNameFromArn(read(s3, "bucketArn")), read(s3, "prefix")));
    }
    // CloudTrail delivers to <s3KeyPrefix>/AWSLogs/... and cannot set a retain-until either.
    for (const trail of resources.filter((r) => r.type === CLOUDTRAIL_TYPE)) {
        const keyPrefix = read(trail.props, "s3KeyPrefix");
        const prefix = keyPrefix === undefined || keyPrefix === null || keyPrefix === "" ? "AWSLogs/" : typeof keyPrefix === "string" ? `${keyPrefix.replace(/\/+$/, "")}/` : keyPrefix;
        out.push(serviceWriter(index, trail, "CloudTrail trail", "s3BucketName", read(trail.props, "s3BucketName"), prefix));
    }
    return out;
}

/** A writer's bucket: the one its `property` is built from when exactly one, else the one of that name. */
function serviceWriter(index: StackIndex, resource: StackResource, what: string, property: string, bucketName: unknown, prefix: unknown): ServiceWriter {
    const behind = index.bucketsBehind(resource, property);
    const bucket = behind.length === 1 ? behind[0] : typeof bucketName === "string" ? index.buckets.get(bucketName) : undefined;
    return { resource, what, bucket, bucketName: bucket && typeof bucket.name === "string" ? bucket.name : bucketName, prefix };
}

/**
 * What a service writer's objects miss: the class its prefix holds (a day-based row of the table) is kept
 * longer than the lock's default retention, which is all its objects get. [] when enough, or unknown yet.
 */
export function serviceWriterProblems(writer: ServiceWriter, views: LockView[], settings: Settings): string[] {
    if (typeof writer.prefix !== "string") {
        return [];
    }
    const row = RETENTION_TABLE.find((r) => r.unit === "days" && (writer.prefix as string).startsWith(r.bucketPrefix));
    if (!row) {
        return [];
    }
    if (views.some((v) => v.days === UNKNOWN || v.enabled === UNKNOWN)) {
        return [];
    }
    const required = minimumOf(settings, row.dataClass);
    const lockDays = Math.max(0, ...views.map((v) => (typeof v.days === "number" ? v.days : 0)));
    if (lockDays >= required) {
        return [];
    }
    const where = `s3://${String(writer.bucketName)}/${writer.prefix.split("!{")[0]}`;
    const found = lockDays === 0 ? "no default retention" : `the bucket's default retention of ${formatRetention(lockDays, "days")}`;
    return [
        `${writer.resource.name}: ${writer.what} writes ${row.dataType} objects to ${where} without a per-object retain-until, so each gets ${found}, below the retention table's ${formatRetention(required, "days")} for ${row.dataType}; S3 keeps one default retention per bucket (none per prefix): write them to a bucket whose Object Lock default retention is at least ${formatRetention(required, "days")}`,
    ];
}

const MODE_KEY = "s3:object-lock-mode";
const REMAINING_KEY = "s3:object-lock-remaining-retention-days";

/** A condition block's entries as [operator, key (lower case), values]. */
function lockConditionEntries(condition: unknown): [string, string, string[]][] {
    return conditionEntries(condition).map(({ operator, key, value }) => [operator, key.toLowerCase(), (Array.isArray(value) ? value : [value]).map(String)]);
}

/** Only `key` is read, besides `Null key false` (the request sets it): any other condition narrows the Deny. */
function onlyOn(entries: [string, string, string[]][], key: string): boolean {
    return entries.every(([operator, k, values]) => k === key && (operator !== "Null" || values.every((v) => v === "false")));
}

/** Whether a Deny refuses a per-object lock mode other than COMPLIANCE (StringNotEquals s3:object-lock-mode COMPLIANCE). */
function deniesWeakerMode(statement: Statement): boolean {
    const entries = lockConditionEntries(statement.condition);
    return onlyOn(entries, MODE_KEY) && entries.some(([operator, key, values]) => key === MODE_KEY && /^StringNotEquals(IfExists)?$/.test(operator) && values.length === 1 && values[0] === "COMPLIANCE");
}

/** The floor in days a Deny puts on a per-object lock (NumericLessThan[Equals] s3:object-lock-remaining-retention-days), if it does. */
function floorDays(statement: Statement): number | undefined {
    const entries = lockConditionEntries(statement.condition);
    if (!onlyOn(entries, REMAINING_KEY)) {
        return undefined;
    }
    const floors = entries.filter(([, key]) => key === REMAINING_KEY).map(([operator, , values]) => {
        const n = Number(values[0]);
        return values.length !== 1 || !Number.isFinite(n) ? undefined : /^NumericLessThan(IfExists)?$/.test(operator) ? n : /^NumericLessThanEquals(IfExists)?$/.test(operator) ? n + 1 : undefined;
    });
    return floors.length === 1 ? floors[0] : undefined;
}

/**
 * What a production backup bucket's policy leaves open of the per-object lock: a per-object Object Lock in an
 * upload overrides the bucket's default retention, so without a floor a compromised writer (or anyone with
 * s3:PutObject) uploads its next backups locked one day, in GOVERNANCE, which s3:BypassGovernanceRetention lifts.
 * The policy must Deny to everyone s3:PutObject with s3:object-lock-mode other than COMPLIANCE (when production
 * buckets must be COMPLIANCE), and, for each prefix of a row the bucket holds, with
 * s3:object-lock-remaining-retention-days below that row (day rows; secrets/, kept by versions, at least the
 * database row). [] when enough, unknown yet, or the bucket's name is not known.
 */
export function lockFloorProblems(name: string, group: BucketGroup, documents: unknown[], settings: Settings, productionMode: string): string[] {
    if (typeof group.name !== "string" || group.name.includes("*")) {
        return [];
    }
    const denials = lockDenials(documents);
    if (denials === UNKNOWN) {
        return [];
    }
    const reaches = (s: Statement, prefix: string) => s.resources.some((r) => globMatch(r, `arn:aws:s3:::${group.name as string}/${prefix}backup`));
    const problems: string[] = [];
    const why = "a per-object lock in an upload overrides the bucket's default retention, so a compromised writer uploads its next backups";
    if (productionMode === "COMPLIANCE" && !denials.some((s) => reaches(s, "") && deniesWeakerMode(s))) {
        problems.push(`${name}: production backup bucket's policy does not deny s3:PutObject with a per-object Object Lock mode other than COMPLIANCE (Deny, Principal *, Condition StringNotEquals ${MODE_KEY} COMPLIANCE and Null ${MODE_KEY} false, on arn:aws:s3:::${group.name}/*): ${why} in GOVERNANCE, which s3:BypassGovernanceRetention lifts`);
    }
    for (const { row, required, floors, best } of lockFloorGaps(group, denials, settings)) {
        const found = floors.length === 0 ? "has no floor there" : `refuses only locks shorter than ${formatRetention(best, "days")}`;
        problems.push(`${name}: production backup bucket's policy ${found} for prefix ${row.bucketPrefix}: it must deny s3:PutObject with ${REMAINING_KEY} below ${formatRetention(required, "days")} (the retention table's ${row.dataType} row${row.unit === "days" ? "" : ", kept by versions: at least the database row's days"}; Deny, Principal *, NumericLessThan, on arn:aws:s3:::${group.name}/${row.bucketPrefix}*): ${why} locked one day`);
    }
    // A Deny with NotPrincipal floors everyone but whom it names: those may still lock shorter, so it is no floor; say so.
    const sparing = problems.length > 0 ? sparingDenials(documents) : [];
    if (sparing.length > 0) {
        return problems.map((p) => `${p} (${sparing.join("; ")}: whom a NotPrincipal Deny spares may still upload shorter locks)`);
    }
    return problems;
}

/**
 * The Deny statements on s3:PutObject of a bucket's policy documents that reach `caller`: to everyone
 * (Principal `*`), or (NotPrincipal) to everyone but the principals named, when `caller` is given and not among
 * them (by its ARN's last segment: a role's sessions are its name). Without `caller`, only the Deny to everyone.
 * UNKNOWN while a document is unknown.
 */
export function lockDenials(documents: unknown[], caller?: string): Statement[] | typeof UNKNOWN {
    const statements = statementsOfAll(documents);
    if (statements === UNKNOWN) {
        return UNKNOWN;
    }
    const reaches = (s: Statement) => {
        if (s.notPrincipal === undefined) {
            return isEveryone(s.principal);
        }
        const exception = notPrincipalException(s.notPrincipal);
        return caller !== undefined && !exception.everyone && !exception.spared.some((arn) => arn.split("/").pop() === caller);
    };
    return statements.filter((s) => s.effect === "Deny" && covers(s, "s3:PutObject") && reaches(s));
}

/** The NotPrincipal Deny statements on s3:PutObject of the documents: whom each spares ("Sid: a, b"). */
function sparingDenials(documents: unknown[]): string[] {
    return documents.flatMap((document) => {
        const parsed = statementsOf(document);
        return parsed === UNKNOWN ? [] : (parsed ?? []).filter((s) => s.effect === "Deny" && s.notPrincipal !== undefined && covers(s, "s3:PutObject")).map((s) => `${s.sid ? `statement ${s.sid}` : "a statement"} spares ${notPrincipalException(s.notPrincipal).spared.join(", ") || "everyone"} (NotPrincipal)`);
    });
}

/** A table prefix of a bucket whose per-object lock floor (the best of `floors`, days) is below the row's `required` days. */
export interface LockFloorGap {
    row: RetentionRow;
    required: number;
    floors: number[];
    best: number;
}

/**
 * Per table prefix the bucket holds (its lifecycle/replication rules; `database/` when none), where the policy's
 * `denials` (lockDenials) refuse per-object locks only below fewer days than the row (`secrets/`, kept by
 * versions: the database row's days). The bucket's name must be known.
 */
export function lockFloorGaps(group: BucketGroup, denials: Statement[], settings: Settings): LockFloorGap[] {
    const reaches = (s: Statement, prefix: string) => s.resources.some((r) => globMatch(r, `arn:aws:s3:::${group.name as string}/${prefix}backup`));
    const held: RetentionRow[] = RETENTION_TABLE.filter((row) => group.heldPrefixes.has(row.bucketPrefix));
    const gaps: LockFloorGap[] = [];
    for (const row of held.length > 0 ? held : [retentionRow("database")]) {
        const required = row.unit === "days" ? minimumOf(settings, row.dataClass) : minimumOf(settings, "database");
        const floors = denials.filter((s) => reaches(s, row.bucketPrefix)).map(floorDays).filter((d): d is number => d !== undefined);
        const best = Math.max(0, ...floors);
        if (best < required) {
            gaps.push({ row, required, floors, best });
        }
    }
    return gaps;
}

export const s3BackupObjectLock: StackValidationPolicy = {
    name: "s3-backup-object-lock",
    description: "Every backup bucket has S3 Object Lock with a default retention of at least the retention table's database row, in COMPLIANCE mode in production, a production bucket's policy refuses per-object locks in another mode or shorter than the row of their prefix, no lifecycle rule expires a version before the lock releases it, and a service that writes without a per-object retain-until (Firehose) writes each data class into a bucket whose default retention reaches that class's row.",
    enforcementLevel: "mandatory",
    severity: "critical",
    configSchema: objectLockSchema,
    validateStack: (args, reportViolation) => {
        const { productionMode } = configOf<ObjectLockConfig>(objectLockSchema, args);
        const settings = sharedSettings();
        const index = indexStack(args.resources, settings);
        const minimumDays = minimumOf(settings, "database");
        const unresolved: string[] = [];
        for (const group of index.buckets.values()) {
            if (!group.bucket || !group.backup) {
                continue;
            }
            const name = group.name === UNKNOWN ? group.bucket.name : group.name;
            const production = isProduction(tagsOf(group.bucket), args.stackTags, settings);
            const views = locksOf(group.bucket, group.name, args.resources);
            const problems = objectLockProblems(name, views, minimumDays, production, productionMode);
            // A lock whose state, retention or mode is unknown (an outside stack's output, a preview) is judged
            // at the update: said so, never passed silently (h35 trial). Other buckets are judged first.
            const unknownLocks = views.filter((v) => v.enabled === UNKNOWN || v.days === UNKNOWN || v.mode === UNKNOWN);
            if (problems.length === 0 && unknownLocks.length > 0) {
                unresolved.push(...unknownLocks.map((v) => `${String(name)} Object Lock ${unknownInputs(v).join(", ")} (${v.source})`));
            }
            const lockDays = Math.max(0, ...views.map((v) => (typeof v.days === "number" ? v.days : 0)));
            if (problems.length === 0 && lockDays > 0) {
                problems.push(...rulesFightingLock(name, group, lockDays));
                if (production) {
                    const documents = [...group.config.policy.map((r) => read(r.props, "policy")), read(group.bucket.props, "policy")].filter((d) => d !== undefined);
                    problems.push(...lockFloorProblems(name, group, documents, settings, productionMode));
                }
            }
            for (const message of problems) {
                reportViolation(`${message} (backup storage: ${group.recognisedBy})`, group.bucket.urn);
            }
        }
        for (const writer of serviceWriters(index, args.resources)) {
            if (!writer.bucket?.bucket || !writer.bucket.backup) {
                continue;
            }
            const views = locksOf(writer.bucket.bucket, writer.bucket.name, args.resources);
            for (const message of serviceWriterProblems(writer, views, settings)) {
                reportViolation(message, writer.resource.urn);
            }
        }
        if (unresolved.length > 0) {
            notJudgedInPreview(args, unresolved, `whether the backup bucket's Object Lock keeps every version at least ${formatRetention(minimumDays, "days")} (the retention table's ${retentionRow("database").dataType} row) and no lifecycle rule expires versions before it`);
        }
    },
};

/** The inputs of a lock declaration that are unknown, for the not-judged list. */
function unknownInputs(view: LockView): string[] {
    return [
        ...(view.enabled === UNKNOWN ? ["objectLockEnabled"] : []),
        ...(view.days === UNKNOWN ? [`${view.field}.days`] : []),
        ...(view.mode === UNKNOWN ? [`${view.field}.mode`] : []),
    ];
}
