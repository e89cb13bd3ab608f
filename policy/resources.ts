/**
 * A stack's resources indexed for the stack policies: by type, and every S3 bucket with its configuration
 * (separate resources of any family, and the bucket's inline arguments) grouped under it, recognised as
 * backup storage or not. Built in one pass so stack policies stay linear in the stack's size.
 *
 * Backup storage is recognised by what it holds: a bucket is backup storage when its name starts with one
 * of the settings' backupBucketPrefixes, when it carries one of backupBucketTags, or when any of its
 * lifecycle, replication or inventory rules filters one of the retention table's prefixes (database/,
 * clients/, ...), unless the settings list it in notBackupBuckets.
 */
import { PolicyResource } from "@pulumi/policy";
import { RETENTION_TABLE } from "./retention";
import { Aspect, BUCKET_TYPES, CONFIG_TYPES, inventoryPrefixOf, lifecycleRulesOf, replicationRulesOf } from "./s3-families";
import { Settings } from "./settings";
import { read, readStringMap, UNKNOWN } from "./unknowns";

export { T } from "./types";
import { isAzureFlexibleServer, T } from "./types";

/** What the stack policies and the retention matrix need of a resource (PolicyResource has all of it). */
export type StackResource = Pick<PolicyResource, "type" | "name" | "urn" | "props"> & Partial<Pick<PolicyResource, "provider" | "propertyDependencies">>;

export interface BucketGroup {
    /** The bucket's name, UNKNOWN during preview when computed; "prefix*" for a bucket named with `bucketPrefix`. */
    name: string | typeof UNKNOWN;
    /** The Bucket or BucketV2 resource, when the stack declares it. */
    bucket?: StackResource;
    /** Why it is backup storage ("name starts with oauth2-backups", ...); undefined when it is not. */
    recognisedBy?: string;
    backup: boolean;
    /** Table prefixes (database/, ...) its lifecycle, replication or inventory rules filter. */
    heldPrefixes: Set<string>;
    /** Separate configuration resources, by aspect. */
    config: Record<Aspect, StackResource[]>;
}

export interface StackIndex {
    byType: Map<string, StackResource[]>;
    /** Buckets (declared or only configured here), keyed by name or, when the name is unknown, by URN. */
    buckets: Map<string, BucketGroup>;
    ofType(type: string): StackResource[];
    /** The bucket group of a declared Bucket/BucketV2, by its URN. */
    bucketOfUrn(urn: string): BucketGroup | undefined;
    /** The bucket groups a resource's input depends on (the Outputs of declared buckets it was built from). */
    bucketsBehind(resource: StackResource, input: string): BucketGroup[];
}

/** The region a resource lives in: its own `region` input (aws v7) or its provider's region. */
export function regionOf(resource: Pick<StackResource, "props" | "provider">): unknown {
    const region = read(resource.props, "region");
    return region !== undefined ? region : read(resource.provider?.props, "region");
}

/** A bucket's name as S3 sees it: the `bucket` input, else its `bucketPrefix`, else the Pulumi name (auto-naming). */
export function bucketNameOf(props: unknown, resourceName: string): unknown {
    const bucket = read(props, "bucket");
    if (bucket !== undefined) {
        return bucket;
    }
    const prefix = read(props, "bucketPrefix");
    return prefix !== undefined ? prefix : resourceName;
}

/** The table prefix a rule prefix filters: its first path segment names a table prefix ("database/daily/" -> "database/"). */
export function tablePrefixOf(rulePrefix: unknown): string | undefined {
    if (typeof rulePrefix !== "string" || rulePrefix === "") {
        return undefined;
    }
    const segment = rulePrefix.split("/")[0];
    return RETENTION_TABLE.find((row) => row.bucketPrefix === `${segment}/`)?.bucketPrefix;
}

function emptyGroup(name: string | typeof UNKNOWN): BucketGroup {
    const config = { versioning: [], encryption: [], publicAccess: [], policy: [], lifecycle: [], replication: [], inventory: [] };
    return { name, backup: false, heldPrefixes: new Set(), config };
}

/** Table prefixes named by the bucket's inline rules and by its lifecycle, replication and inventory resources. */
function heldPrefixes(group: BucketGroup): Map<string, string> {
    const held = new Map<string, string>();
    const note = (prefix: unknown, where: string) => {
        const tablePrefix = tablePrefixOf(prefix);
        if (tablePrefix && !held.has(tablePrefix)) {
            held.set(tablePrefix, `${where} filters ${String(prefix)}`);
        }
    };
    const lifecycleSources = [...(group.bucket ? [group.bucket] : []), ...group.config.lifecycle];
    for (const resource of lifecycleSources) {
        const rules = lifecycleRulesOf(resource.type, resource.props);
        for (const rule of Array.isArray(rules) ? rules : []) {
            note(rule.prefix, `lifecycle rule "${rule.id}" of ${resource.name}`);
        }
    }
    const replicationSources = [...(group.bucket ? [group.bucket] : []), ...group.config.replication];
    for (const resource of replicationSources) {
        const rules = replicationRulesOf(resource.type, resource.props);
        for (const rule of Array.isArray(rules) ? rules : []) {
            note(rule.prefix, `replication rule of ${resource.name}`);
        }
    }
    for (const resource of group.config.inventory) {
        note(inventoryPrefixOf(resource.props), `inventory ${resource.name}`);
    }
    return held;
}

function isExcluded(name: unknown, settings: Settings): boolean {
    return typeof name === "string" && settings.notBackupBuckets.some((prefix) => name.startsWith(prefix));
}

function recognise(group: BucketGroup, settings: Settings): void {
    const held = heldPrefixes(group);
    group.heldPrefixes = new Set(held.keys());
    if (isExcluded(group.name, settings)) {
        return;
    }
    const name = group.name;
    const prefix = typeof name === "string" ? settings.backupBucketPrefixes.find((p) => name.startsWith(p)) : undefined;
    const tags = group.bucket ? tagsOf(group.bucket) : {};
    const tag = settings.backupBucketTags.find(({ key, value }) => tags[key] === value);
    const firstHeld = held.values().next();
    group.recognisedBy = prefix !== undefined ? `name starts with "${prefix}"` : tag ? `tag ${tag.key}=${tag.value}` : firstHeld.done ? undefined : firstHeld.value;
    group.backup = group.recognisedBy !== undefined;
}

/**
 * Indexes already built, per resource list and settings: the stack policies (seven of them) and the retention
 * matrix each ask for the same stack's index, and building it reads every bucket's rules through the engine's
 * proxies. The engine hands each stack policy a list of its own, so there it is built once per policy as before.
 */
const INDEXES = new WeakMap<readonly StackResource[], Map<string, StackIndex>>();

export function indexStack(resources: readonly StackResource[], settings: Settings): StackIndex {
    const key = JSON.stringify(settings);
    let bySettings = INDEXES.get(resources);
    if (!bySettings) {
        bySettings = new Map();
        INDEXES.set(resources, bySettings);
    }
    let index = bySettings.get(key);
    if (!index) {
        index = buildIndex(resources, settings);
        bySettings.set(key, index);
    }
    return index;
}

function buildIndex(resources: readonly StackResource[], settings: Settings): StackIndex {
    const byType = new Map<string, StackResource[]>();
    for (const resource of resources) {
        // An API-version module's Flexible Server is indexed with the default module's (isAzureFlexibleServer).
        const type = resource.type !== T.azurePostgres && isAzureFlexibleServer(resource.type) ? T.azurePostgres : resource.type;
        const list = byType.get(type);
        if (list) {
            list.push(resource);
        } else {
            byType.set(type, [resource]);
        }
    }
    const ofType = (type: string) => byType.get(type) ?? [];
    const buckets = new Map<string, BucketGroup>();
    const keyByUrn = new Map<string, string>();
    for (const type of BUCKET_TYPES) {
        for (const bucket of ofType(type)) {
            const name = bucketNameOf(bucket.props, bucket.name);
            // A name from `bucketPrefix` is shared by every bucket with that prefix (S3 adds a unique suffix):
            // such a bucket, like one whose name is unknown, is keyed by its URN.
            const prefixOnly = read(bucket.props, "bucket") === undefined && read(bucket.props, "bucketPrefix") !== undefined;
            const key = typeof name === "string" && !prefixOnly && !buckets.has(name) ? name : bucket.urn;
            keyByUrn.set(bucket.urn, key);
            // "exports-*": a name S3 completes (what a name prefix or tag setting matches still starts the same).
            const shown = typeof name === "string" ? (prefixOnly ? `${name}*` : name) : UNKNOWN;
            buckets.set(key, { ...emptyGroup(shown), bucket });
        }
    }
    for (const [type, aspect] of Object.entries(CONFIG_TYPES)) {
        for (const resource of ofType(type)) {
            // Link by the `bucket` input when it names a declared bucket; else through the dependency (during
            // preview the name is unknown, and `bucket.id` may differ from the name under mocks); else by name.
            const name = read(resource.props, "bucket");
            const viaDependency = resource.propertyDependencies?.bucket?.map((d) => keyByUrn.get(d.urn)).find((k) => k !== undefined);
            const key = typeof name === "string" && buckets.has(name) ? name : viaDependency ?? (typeof name === "string" ? name : undefined);
            if (key === undefined) {
                continue;
            }
            let group = buckets.get(key);
            if (!group) {
                group = emptyGroup(key);
                buckets.set(key, group);
            }
            group.config[aspect].push(resource);
        }
    }
    for (const group of buckets.values()) {
        recognise(group, settings);
    }
    const bucketOfUrn = (urn: string) => {
        const key = keyByUrn.get(urn);
        return key === undefined ? undefined : buckets.get(key);
    };
    const bucketsBehind = (resource: StackResource, input: string) => [
        ...new Set((resource.propertyDependencies?.[input] ?? []).map((d) => bucketOfUrn(d.urn)).filter((g): g is BucketGroup => g !== undefined)),
    ];
    return { byType, buckets, ofType, bucketOfUrn, bucketsBehind };
}

/** "arn:aws:s3:::name" or "name" -> name. */
export function bucketNameFromArn(value: unknown): unknown {
    return typeof value === "string" && value.startsWith("arn:") ? value.slice(value.lastIndexOf(":") + 1) : value;
}

/** The region field of an ARN (empty for S3 and other global ARNs). */
export function arnRegion(value: unknown): string | undefined {
    if (typeof value !== "string" || !value.startsWith("arn:")) {
        return undefined;
    }
    const region = value.split(":")[3];
    return region === "" ? undefined : region;
}

/**
 * The tags an AWS provider puts on every resource it creates (`defaultTags.tags`: the `aws:defaultTags` stack
 * config or an explicit provider's argument; an object, or the JSON string the engine may hold it as).
 */
export function providerDefaultTags(providerProps: unknown): Record<string, string> {
    let defaults = read(providerProps, "defaultTags");
    if (typeof defaults === "string") {
        try {
            defaults = JSON.parse(defaults) as unknown;
        } catch {
            return {};
        }
    }
    return readStringMap(defaults, "tags");
}

/** A resource's tags as AWS sets them: its provider's default tags, overridden by its own `tags`. */
export function tagsOf(resource: Pick<StackResource, "props" | "provider">): Record<string, string> {
    const out: Record<string, string> = resource.provider ? providerDefaultTags(resource.provider.props) : {};
    const tags = read(resource.props, "tags");
    if (!tags || tags === UNKNOWN || typeof tags !== "object") {
        return out;
    }
    for (const key of Object.keys(tags)) {
        const value = read(tags, key);
        if (typeof value === "string") {
            out[key] = value;
        }
    }
    return out;
}
