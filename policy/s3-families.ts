/**
 * One view of a bucket's configuration whatever S3 family declares it, as the engine hands the props over:
 * - aws v7: `Bucket` plus separate configuration resources (`BucketVersioning`, `BucketLifecycleConfiguration`, ...);
 * - the `*V2` resources of the v6 idiom (`BucketV2`, `BucketVersioningV2`, ..., same shapes as v7's);
 * - the legacy inline arguments: `Bucket { versioning, lifecycleRules, serverSideEncryptionConfiguration,
 *   replicationConfiguration, policy }` and `BucketV2 { versionings, lifecycleRules (expirations[]),
 *   serverSideEncryptionConfigurations, replicationConfigurations, policy }`.
 * Every policy judges these views, so each family is judged the same way.
 */
import { RuleView, viewRule } from "./lifecycle";
import { T } from "./types";
import { read, readArray, UNKNOWN } from "./unknowns";

export type Aspect = "versioning" | "encryption" | "publicAccess" | "policy" | "lifecycle" | "replication" | "inventory";

/** Configuration resource types, by the aspect they configure. */
export const CONFIG_TYPES: Record<string, Aspect> = {
    [T.versioning]: "versioning",
    [T.versioningV2]: "versioning",
    [T.sse]: "encryption",
    [T.sseV2]: "encryption",
    [T.publicAccess]: "publicAccess",
    [T.policy]: "policy",
    [T.lifecycle]: "lifecycle",
    [T.lifecycleV2]: "lifecycle",
    [T.replication]: "replication",
    [T.inventory]: "inventory",
};

export const BUCKET_TYPES: readonly string[] = [T.bucket, T.bucketV2];

/** A versioning setting: "Enabled", "Suspended", "Disabled", UNKNOWN or undefined (not set). */
export interface VersioningView {
    field: string;
    status: unknown;
    /** The value as declared, for messages. */
    declared: unknown;
}

export function versioningOf(type: string, props: unknown): VersioningView | undefined {
    if (type === T.bucket) {
        const enabled = read(props, "versioning", "enabled");
        return read(props, "versioning") === undefined ? undefined : { field: "versioning.enabled", status: inlineStatus(enabled), declared: enabled };
    }
    if (type === T.bucketV2) {
        const list = readArray(props, "versionings");
        if (list === UNKNOWN) {
            return { field: "versionings[0].enabled", status: UNKNOWN, declared: UNKNOWN };
        }
        const enabled = list === undefined || list.length === 0 ? undefined : read(list[0], "enabled");
        return list === undefined || list.length === 0 ? undefined : { field: "versionings[0].enabled", status: inlineStatus(enabled), declared: enabled };
    }
    const status = read(props, "versioningConfiguration", "status");
    return { field: "versioningConfiguration.status", status, declared: status };
}

function inlineStatus(enabled: unknown): unknown {
    return enabled === UNKNOWN ? UNKNOWN : enabled === true ? "Enabled" : enabled === false ? "Suspended" : undefined;
}

/** Default encryption rules as (algorithm, key) pairs; UNKNOWN when any part is unknown; undefined when not declared. */
export interface EncryptionDefault {
    algorithm: unknown;
    key: unknown;
}

export function encryptionOf(type: string, props: unknown): EncryptionDefault[] | typeof UNKNOWN | undefined {
    const declared = encryptionDefaultsOf(type, props);
    if (declared === undefined || declared.defaults === UNKNOWN) {
        return declared === undefined ? undefined : UNKNOWN;
    }
    const pairs = declared.defaults.map(({ algorithm, key }) => ({ algorithm, key }));
    return pairs.some((p) => p.algorithm === UNKNOWN || p.key === UNKNOWN) ? UNKNOWN : pairs;
}

/** A default encryption rule with the path of its block, for a "not judged" entry naming the unknown input. */
export interface EncryptionDefaultAt extends EncryptionDefault {
    field: string;
}

/**
 * The default encryption rules as declared, each unknown part kept (encryptionOf folds any unknown into
 * UNKNOWN); `defaults` is UNKNOWN, with `field` the list, when the list itself is unknown; undefined when not declared.
 */
export function encryptionDefaultsOf(type: string, props: unknown): { defaults: EncryptionDefaultAt[] | typeof UNKNOWN; field: string } | undefined {
    const at = (d: unknown, field: string): EncryptionDefaultAt[] =>
        d === undefined || d === null ? [] : d === UNKNOWN ? [{ algorithm: UNKNOWN, key: UNKNOWN, field }] : [{ algorithm: read(d, "sseAlgorithm"), key: read(d, "kmsMasterKeyId"), field }];
    if (type === T.bucket) {
        const configuration = read(props, "serverSideEncryptionConfiguration");
        if (configuration === undefined) {
            return undefined;
        }
        const field = "serverSideEncryptionConfiguration.rule.applyServerSideEncryptionByDefault";
        return { defaults: at(read(configuration, "rule", "applyServerSideEncryptionByDefault"), field), field };
    }
    if (type === T.bucketV2) {
        const field = "serverSideEncryptionConfigurations";
        const configurations = readArray(props, field);
        if (configurations === undefined || (Array.isArray(configurations) && configurations.length === 0)) {
            return undefined;
        }
        if (configurations === UNKNOWN) {
            return { defaults: UNKNOWN, field };
        }
        const defaults = configurations.flatMap((c, i) =>
            asArray(readArray(c, "rules")).flatMap((r, j) =>
                r === UNKNOWN
                    ? at(UNKNOWN, `${field}[${i}].rules[${j}]`)
                    : asArray(readArray(r, "applyServerSideEncryptionByDefaults")).flatMap((d, k) => at(d, `${field}[${i}].rules[${j}].applyServerSideEncryptionByDefaults[${k}]`)),
            ),
        );
        return { defaults, field };
    }
    const rules = readArray(props, "rules");
    if (rules === UNKNOWN) {
        return { defaults: UNKNOWN, field: "rules" };
    }
    return { defaults: (rules ?? []).flatMap((rule, i) => at(read(rule, "applyServerSideEncryptionByDefault"), `rules[${i}].applyServerSideEncryptionByDefault`)), field: "rules" };
}

function asArray(value: unknown[] | typeof UNKNOWN | undefined): unknown[] {
    return Array.isArray(value) ? value : value === UNKNOWN ? [UNKNOWN] : [];
}

/** The bucket policy document (a JSON string or an object); undefined when not declared. */
export function policyDocumentOf(type: string, props: unknown): unknown {
    return read(props, "policy");
}

/**
 * Lifecycle rules already viewed, per props object: the lifecycle policy, the stack index and the retention
 * matrix each view the same resource's rules (the harness hands every policy the same props; the engine
 * hands each policy its own, so there each view is made once per policy as before).
 */
const lifecycleViews = new WeakMap<object, RuleView[] | typeof UNKNOWN | undefined>();

/** Lifecycle rules in one shape; UNKNOWN when the rule list is unknown; undefined when none are declared. */
export function lifecycleRulesOf(type: string, props: unknown): RuleView[] | typeof UNKNOWN | undefined {
    if (typeof props !== "object" || props === null) {
        return viewLifecycleRules(type, props);
    }
    if (!lifecycleViews.has(props)) {
        lifecycleViews.set(props, viewLifecycleRules(type, props));
    }
    return lifecycleViews.get(props);
}

function viewLifecycleRules(type: string, props: unknown): RuleView[] | typeof UNKNOWN | undefined {
    if (type === T.bucket || type === T.bucketV2) {
        const rules = readArray(props, "lifecycleRules");
        if (rules === UNKNOWN) {
            return UNKNOWN;
        }
        if (rules === undefined || rules.length === 0) {
            return undefined;
        }
        return rules.map((rule, i) => viewRule(type === T.bucket ? inlineRule(rule) : inlineRuleV2(rule), i));
    }
    const rules = readArray(props, "rules");
    return rules === UNKNOWN ? UNKNOWN : (rules ?? []).map(viewRule);
}

/** Legacy `Bucket.lifecycleRules[]` in the configuration resource's shape (enabled -> status; noncurrent `days`). */
function inlineRule(rule: unknown): Record<string, unknown> {
    const enabled = read(rule, "enabled");
    return {
        id: read(rule, "id"),
        prefix: read(rule, "prefix") ?? "",
        filter: { and: { tags: read(rule, "tags") } },
        status: enabled === UNKNOWN ? UNKNOWN : enabled === false ? "Disabled" : "Enabled",
        expiration: read(rule, "expiration"),
        noncurrentVersionExpiration: { noncurrentDays: read(rule, "noncurrentVersionExpiration", "days") },
    };
}

/** Legacy `BucketV2.lifecycleRules[]`: the same with one-element lists (`expirations`, `noncurrentVersionExpirations`). */
function inlineRuleV2(rule: unknown): Record<string, unknown> {
    const enabled = read(rule, "enabled");
    return {
        id: read(rule, "id"),
        prefix: read(rule, "prefix") ?? "",
        filter: { and: { tags: read(rule, "tags") } },
        status: enabled === UNKNOWN ? UNKNOWN : enabled === false ? "Disabled" : "Enabled",
        expiration: read(rule, "expirations", 0),
        noncurrentVersionExpiration: { noncurrentDays: read(rule, "noncurrentVersionExpirations", 0, "days") },
    };
}

export interface ReplicationRuleView {
    status: unknown;
    prefix: unknown;
    destination: unknown;
    /** Replication Time Control's minutes, when the rule sets it. */
    replicationMinutes: unknown;
}

/** Replication rules of a BucketReplicationConfig or of a bucket's inline replication configuration. */
export function replicationRulesOf(type: string, props: unknown): ReplicationRuleView[] | typeof UNKNOWN | undefined {
    const rules =
        type === T.bucket
            ? readArray(props, "replicationConfiguration", "rules")
            : type === T.bucketV2
              ? readArray(props, "replicationConfigurations", 0, "rules")
              : readArray(props, "rules");
    if (rules === UNKNOWN) {
        return UNKNOWN;
    }
    if (rules === undefined) {
        return undefined;
    }
    return rules.map((rule) => {
        const filter = type === T.bucketV2 ? read(rule, "filters", 0) : read(rule, "filter");
        const prefix = read(filter, "prefix") ?? read(filter, "and", "prefix") ?? read(rule, "prefix");
        const destination = type === T.bucketV2 ? read(rule, "destinations", 0, "bucket") : read(rule, "destination", "bucket");
        const replicationMinutes =
            type === T.bucketV2
                ? read(rule, "destinations", 0, "replicationTimes", 0, "minutes")
                : type === T.bucket
                  ? read(rule, "destination", "replicationTime", "minutes")
                  : read(rule, "destination", "replicationTime", "time", "minutes");
        return { status: read(rule, "status"), prefix, destination, replicationMinutes };
    });
}

/** The prefix an S3 Inventory lists (`filter.prefix`). */
export function inventoryPrefixOf(props: unknown): unknown {
    return read(props, "filter", "prefix");
}
