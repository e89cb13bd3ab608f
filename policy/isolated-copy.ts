/**
 * `backup-copy-outside-account` (mandatory): in production, the retention table's Critical rows (Database,
 * Secrets/Keys) have a copy outside the production account, where no production credential (an
 * administrator, a compromised job, ransomware) can delete or shorten it:
 *  - an Enabled S3 replication rule of the backup bucket into another account (`destination.account` set and
 *    not a production account), handing the replicas to that account (`accessControlTranslation.owner:
 *    Destination`), whose filter covers the row's prefix (database/, secrets/); or, for the database row,
 *  - an AWS Backup plan rule whose copy action targets a vault in another account.
 *
 * Who shows it: the replication of the primary's bucket is declared by the standby stack (its destination
 * exists first), like `s3-backup-replication` (replicationDeclaredBy, default standby). So on a production
 * primary the database row must show its AWS Backup copy when the stack declares an RDS database, and the
 * standby must show cross-account rules from the primary's bucket for every Critical prefix. With `self`,
 * each stack shows every Critical row it holds itself (a bucket that is only a replication destination
 * here is a copy, not judged). A stack whose role is unknown is not a production primary and is not judged:
 * set oauth2-dr-settings.role (or tag the stack role=primary) for a single-stack program.
 *
 * Production accounts: productionAccountIds when set, else the accounts of the stack's own KMS keys (the keys
 * its secrets, buckets, vaults and databases use) and of its replication roles (each in its source bucket's
 * account); a destination in one of them is not outside.
 */
import { StackValidationArgs, StackValidationPolicy } from "@pulumi/policy";
import { configOf, isProduction } from "./config";
import { arnAccount, covers as coversAction, everyoneScope, statementsOf } from "./iam-documents";
import { bucketNameOf, indexStack, StackResource, T, tagsOf } from "./resources";
import { plural, RETENTION_TABLE, RetentionRow } from "./retention";
import { crossRegionReplicas, isVaultStack, stackRole } from "./roles";
import { minimumOf, sharedSettings } from "./settings";
import { planSelections } from "./backup-plans";
import { readNumber, showNumber } from "./numbers";
import { read, readArray, UNKNOWN } from "./unknowns";

const CRITICAL_ROWS = RETENTION_TABLE.filter((row) => row.priority === "Critical");

const isolationSchema = {
    properties: {
        productionAccountIds: {
            type: "array" as const,
            items: { type: "string" as const, pattern: "^\\d{12}$" },
            default: [],
            description: "The production AWS accounts; empty: the accounts of the stack's own KMS keys.",
        },
        replicationDeclaredBy: {
            type: "string" as const,
            enum: ["standby", "self"],
            default: "standby",
            description: "standby: the standby stack declares the replication of the primary's bucket (and shows its cross-account rules); self: each stack shows its own.",
        },
    },
};

interface IsolationConfig {
    productionAccountIds: string[];
    replicationDeclaredBy: "standby" | "self";
}

/** The accounts the stack lives in: configured, else those of the KMS keys its own data uses and of its replication roles (a replication role is in its source bucket's account). */
export function productionAccounts(resources: readonly StackResource[], configured: string[]): Set<string> {
    if (configured.length > 0) {
        return new Set(configured);
    }
    const accounts = new Set<string>();
    const note = (value: unknown) => {
        const account = arnAccount(value);
        if (account) {
            accounts.add(account);
        }
    };
    for (const r of resources) {
        if (r.type === T.secret || r.type === T.rdsInstance || r.type === T.rdsCluster || r.type === T.logGroup) {
            note(read(r.props, "kmsKeyId"));
        } else if (r.type === "aws:backup/vault:Vault") {
            note(read(r.props, "kmsKeyArn"));
        } else if (r.type === T.replication) {
            // The replication role lives in the source bucket's account.
            note(read(r.props, "role"));
        } else if (r.type === T.bucket) {
            note(read(r.props, "replicationConfiguration", "role"));
        } else if (r.type === T.bucketV2) {
            note(read(r.props, "replicationConfigurations", 0, "role"));
        } else if (r.type === T.sse || r.type === T.sseV2) {
            const rules = readArray(r.props, "rules");
            for (const rule of rules === UNKNOWN ? [] : rules ?? []) {
                note(read(rule, "applyServerSideEncryptionByDefault", "kmsMasterKeyId"));
            }
        }
    }
    return accounts;
}

export interface IsolatedCopy {
    /** Source bucket name (S3) or plan name (AWS Backup). */
    source: string;
    prefixes: string[] | "all";
    account: string;
    via: string;
}

/** Replication rules as declared: a BucketReplicationConfig, or a bucket's inline arguments (legacy Bucket, v6 BucketV2). */
interface ReplicationDeclaration {
    resource: StackResource;
    /** The source bucket's name. */
    source: unknown;
    rules: unknown[] | typeof UNKNOWN | undefined;
    /**
     * A rule's destination account, replica owner, filtered prefix, destination bucket, in its family's shape, and
     * whether it replicates delete markers: its status, or "V1" for a rule without a filter (S3 reads such a
     * configuration as V1, which replicates the delete markers of user deletions).
     */
    read(rule: unknown): { account: unknown; owner: unknown; prefix: unknown; destination: unknown; deleteMarkers: unknown };
}

export function replicationDeclarations(resources: readonly StackResource[]): ReplicationDeclaration[] {
    const out: ReplicationDeclaration[] = [];
    const prefixOf = (rule: unknown, filter: unknown) => read(filter, "prefix") ?? read(rule, "prefix") ?? (filter === undefined ? "" : read(filter, "and", "prefix"));
    for (const r of resources) {
        if (r.type === T.replication) {
            out.push({
                resource: r,
                source: read(r.props, "bucket"),
                rules: readArray(r.props, "rules"),
                read: (rule) => ({
                    account: read(rule, "destination", "account"),
                    owner: read(rule, "destination", "accessControlTranslation", "owner"),
                    prefix: prefixOf(rule, read(rule, "filter")),
                    destination: read(rule, "destination", "bucket"),
                    deleteMarkers: read(rule, "filter") === undefined ? "V1" : read(rule, "deleteMarkerReplication", "status"),
                }),
            });
        } else if (r.type === T.bucket && read(r.props, "replicationConfiguration") !== undefined) {
            out.push({
                resource: r,
                source: bucketNameOf(r.props, r.name),
                rules: readArray(r.props, "replicationConfiguration", "rules"),
                read: (rule) => ({
                    account: read(rule, "destination", "accountId"),
                    owner: read(rule, "destination", "accessControlTranslation", "owner"),
                    prefix: prefixOf(rule, read(rule, "filter")),
                    destination: read(rule, "destination", "bucket"),
                    deleteMarkers: read(rule, "filter") === undefined ? "V1" : read(rule, "deleteMarkerReplicationStatus"),
                }),
            });
        } else if (r.type === T.bucketV2 && read(r.props, "replicationConfigurations") !== undefined) {
            out.push({
                resource: r,
                source: bucketNameOf(r.props, r.name),
                rules: readArray(r.props, "replicationConfigurations", 0, "rules"),
                read: (rule) => ({
                    account: read(rule, "destinations", 0, "accountId"),
                    owner: read(rule, "destinations", 0, "accessControlTranslations", 0, "owner"),
                    prefix: prefixOf(rule, read(rule, "filters", 0)),
                    destination: read(rule, "destinations", 0, "bucket"),
                    deleteMarkers: read(rule, "filters", 0) === undefined ? "V1" : read(rule, "deleteMarkerReplicationStatus"),
                }),
            });
        }
    }
    return out;
}

/**
 * Cross-account copies declared in the stack, and why other candidates are not (for messages). An AWS Backup
 * copy action copies what its plan backs up: it is the database row's copy only when the plan selects a
 * database (`databasePlans`, by URN) and keeps the copies at least `minimumDays` (lifecycle.deleteAfter unset or
 * that long).
 */
export function isolatedCopies(
    resources: readonly StackResource[],
    own: Set<string>,
    databasePlans: ReadonlySet<string>,
    minimumDays: number,
): { copies: IsolatedCopy[]; notIsolated: string[]; unknown: boolean } {
    const copies: IsolatedCopy[] = [];
    const notIsolated: string[] = [];
    let unknown = false;
    for (const declaration of replicationDeclarations(resources)) {
        const { resource: r, source, rules } = declaration;
        if (rules === UNKNOWN || source === UNKNOWN) {
            unknown = true;
            continue;
        }
        for (const rule of rules ?? []) {
            const status = read(rule, "status");
            const { account, owner, prefix, deleteMarkers } = declaration.read(rule);
            if ([status, account, owner, prefix, deleteMarkers].includes(UNKNOWN)) {
                unknown = true;
                continue;
            }
            const id = `${r.name} rule ${String(read(rule, "id") ?? "")}`.trim();
            if (status !== "Enabled") {
                continue;
            }
            if (typeof account !== "string" || account === "") {
                continue;
            }
            if (own.has(account)) {
                notIsolated.push(`${id} replicates into ${account}, a production account`);
                continue;
            }
            if (owner !== "Destination") {
                notIsolated.push(`${id} replicates into account ${account} but leaves the replicas owned by the source account (accessControlTranslation.owner is not Destination)`);
                continue;
            }
            if (deleteMarkers === "Enabled" || deleteMarkers === "V1") {
                const how = deleteMarkers === "V1" ? "has no filter, so S3 reads it as a V1 rule, which replicates delete markers" : "replicates delete markers (deleteMarkerReplication Enabled)";
                notIsolated.push(`${id} ${how} into account ${account}: a deletion in production hides the copy there (set a filter and deleteMarkerReplication Disabled)`);
                continue;
            }
            copies.push({ source: String(source), prefixes: prefix === "" || prefix === undefined ? "all" : [String(prefix)], account, via: id });
        }
    }
    for (const plan of resources.filter((x) => x.type === T.backupPlan)) {
        const rules = readArray(plan.props, "rules");
        if (rules === UNKNOWN) {
            unknown = true;
            continue;
        }
        if (!databasePlans.has(plan.urn)) {
            const copying = (rules ?? []).some((rule) => {
                const actions = readArray(rule, "copyActions");
                return actions === UNKNOWN || (actions ?? []).length > 0;
            });
            if (copying) {
                notIsolated.push(`${plan.name} selects no database of the stack`);
            }
            continue;
        }
        for (const rule of rules ?? []) {
            const actions = readArray(rule, "copyActions");
            if (actions === UNKNOWN) {
                unknown = true;
                continue;
            }
            for (const action of actions ?? []) {
                const arn = read(action, "destinationVaultArn");
                if (arn === UNKNOWN) {
                    unknown = true;
                    continue;
                }
                const account = arnAccount(arn);
                const id = `${plan.name} rule ${String(read(rule, "ruleName") ?? "")} copy to ${String(arn)}`;
                if (!account || own.has(account)) {
                    notIsolated.push(`${id} stays in ${account ?? "an unknown account"}`);
                    continue;
                }
                const keep = readNumber(action, "lifecycle", "deleteAfter");
                if (keep === UNKNOWN) {
                    unknown = true;
                    continue;
                }
                if (keep !== undefined && !(typeof keep === "number" && keep >= minimumDays)) {
                    notIsolated.push(`${id} keeps its copies ${typeof keep === "number" ? plural(keep, "days") : showNumber(keep)} (lifecycle.deleteAfter), below the database row's ${plural(minimumDays, "days")}`);
                    continue;
                }
                copies.push({ source: `AWS Backup plan ${plan.name}`, prefixes: ["database/"], account, via: id });
            }
        }
    }
    return { copies, notIsolated, unknown };
}

const covers = (copy: IsolatedCopy, row: RetentionRow) => copy.prefixes === "all" || copy.prefixes.some((p) => p.startsWith(row.bucketPrefix) || row.bucketPrefix.startsWith(p));

/** What, granted to another account in a backup bucket's policy, lets that account delete, hide or shorten its copies. */
export const CROSS_ACCOUNT_DESTRUCTIVE = [
    "s3:DeleteObjectVersion",
    "s3:DeleteObject",
    "s3:BypassGovernanceRetention",
    "s3:PutObjectRetention",
    "s3:PutObjectLegalHold",
    "s3:ReplicateDelete",
];

/**
 * Grants in the stack's backup bucket policies to principals of another account (an account, its root, a role or
 * user ARN, `*` without an aws:PrincipalAccount condition of the bucket's own) of what deletes, hides or shortens a
 * version: the copy is then not outside that account's reach. Our vault's policy grants the production account
 * only what replication needs (ReplicateObject, ReplicateTags, ObjectOwnerOverrideToBucketOwner).
 */
export function crossAccountDestruction(index: ReturnType<typeof indexStack>, own: Set<string>): { bucket: StackResource; line: string }[] {
    const out: { bucket: StackResource; line: string }[] = [];
    if (own.size === 0) {
        return out;
    }
    for (const group of index.buckets.values()) {
        if (!group.bucket || !group.backup) {
            continue;
        }
        const documents = [...group.config.policy.map((r) => ({ doc: read(r.props, "policy"), where: `BucketPolicy ${r.name}` })), { doc: read(group.bucket.props, "policy"), where: `${group.bucket.name}.policy` }];
        for (const { doc, where } of documents) {
            const statements = statementsOf(doc);
            if (statements === UNKNOWN || statements === undefined) {
                continue;
            }
            for (const st of statements.filter((x) => x.effect === "Allow")) {
                const aws = read(st.principal, "AWS");
                const principals = (st.principal === "*" ? ["*"] : Array.isArray(aws) ? aws : [aws]).filter((p): p is string => typeof p === "string");
                const foreign = principals.filter((p) => {
                    const account = /^\d{12}$/.test(p) ? p : arnAccount(p);
                    return account !== undefined && !own.has(account);
                });
                // Everyone of other accounts, or of an organization (which holds the production accounts too).
                const scope = everyoneScope(st.principal, st.condition);
                foreign.push(...(scope?.accounts ?? []).filter((a) => !own.has(a)).map((a) => `every principal of account ${a}`));
                foreign.push(...(scope?.organizations ?? []).map((o) => `every principal of organization ${o} (its production accounts too)`));
                const actions = CROSS_ACCOUNT_DESTRUCTIVE.filter((a) => coversAction(st, a));
                if (foreign.length > 0 && actions.length > 0) {
                    out.push({ bucket: group.bucket, line: `${String(group.name)}: the bucket policy (${where}${st.sid ? `, statement ${st.sid}` : ""}) allows ${foreign.join(", ")} ${actions.join(", ")}: a credential of that account can delete, hide or shorten the copies here; grant another account only what replication needs (s3:ReplicateObject, s3:ReplicateTags, s3:ObjectOwnerOverrideToBucketOwner)` });
                }
            }
        }
    }
    return out;
}

export const backupCopyOutsideAccount: StackValidationPolicy = {
    name: "backup-copy-outside-account",
    description: "In production, the retention table's Critical rows (database, secrets) have a copy in another account: cross-account S3 replication with ownership to the destination, or an AWS Backup copy into another account's vault.",
    enforcementLevel: "mandatory",
    severity: "critical",
    configSchema: isolationSchema,
    validateStack: (args: StackValidationArgs, reportViolation) => {
        const config = configOf<IsolationConfig>(isolationSchema, args);
        const settings = sharedSettings();
        const production = isProduction({}, args.stackTags, settings) || (settings.production === "auto" && args.resources.some((r) => isProduction(tagsOf(r), new Map(), settings)));
        if (!production) {
            return;
        }
        // A copy is outside an account only if that account cannot reach it through the copy's bucket policy.
        for (const { bucket, line } of crossAccountDestruction(indexStack(args.resources, settings), productionAccounts(args.resources, [])) ) {
            reportViolation(line, bucket.urn);
        }
        // The isolated account itself (role tag "vault") is where the copies go.
        if (isVaultStack(args.resources, args.stackTags, settings)) {
            return;
        }
        const index = indexStack(args.resources, settings);
        const role = stackRole(index, args.resources, args.stackTags, settings);
        if (role === "unknown") {
            return;
        }
        const own = productionAccounts(args.resources, config.productionAccountIds);
        const databasePlans = new Set([...planSelections(index)].filter(([, selected]) => selected.length > 0).map(([urn]) => urn));
        const { copies, notIsolated, unknown } = isolatedCopies(args.resources, own, databasePlans, minimumOf(settings, "database"));
        if (unknown) {
            return;
        }
        const why = notIsolated.length > 0 ? ` (${notIsolated.join("; ")})` : "";
        const declaredBuckets = new Set([...index.buckets.values()].filter((g) => g.bucket && g.backup).map((g) => g.name));
        const databases = [...index.ofType(T.rdsInstance), ...index.ofType(T.rdsCluster)];
        const replicaUrns = new Set(crossRegionReplicas(index).map((r) => r.urn));
        const primaryDatabases = databases.filter((d) => !replicaUrns.has(d.urn) && read(d.props, "replicateSourceDb") === undefined);
        const byStandby = config.replicationDeclaredBy === "standby";

        if (role === "standby" && byStandby) {
            // The primary's bucket: the source of the replication into this stack's bucket.
            const primarySources = new Set<string>();
            for (const r of index.ofType(T.replication)) {
                const source = read(r.props, "bucket");
                if (typeof source === "string" && !declaredBuckets.has(source)) {
                    primarySources.add(source);
                }
            }
            for (const source of primarySources) {
                const missing = CRITICAL_ROWS.filter((row) => !copies.some((c) => c.source === source && covers(c, row)));
                if (missing.length > 0) {
                    reportViolation(`${source}: the primary's backup bucket has no Enabled replication rule into another account for ${missing.map((r) => `${r.dataType} (${r.bucketPrefix})`).join(", ")}${why}; the runbook requires a copy of the ${missing.map((r) => r.dataClass).join(" and ")} rows no production credential can delete (destination.account + accessControlTranslation.owner Destination)`);
                }
            }
            return;
        }
        if (role === "primary" && byStandby) {
            for (const database of primaryDatabases) {
                const row = CRITICAL_ROWS.find((r) => r.dataClass === "database")!;
                if (!copies.some((c) => covers(c, row))) {
                    reportViolation(`${database.name}: production database has no copy outside the production account: no AWS Backup copy action into another account's vault${why}; the runbook requires a copy of the ${row.dataType} row no production credential can delete`, database.urn);
                }
            }
            return;
        }
        // self: every Critical row the stack holds, shown here; a bucket replicated into here is itself a copy.
        const destinations = new Set(replicationDeclarations(args.resources).flatMap((d) => (d.rules === UNKNOWN ? [] : d.rules ?? []).map((rule) => String(d.read(rule).destination).split(":").pop())));
        for (const group of index.buckets.values()) {
            if (!group.bucket || !group.backup || typeof group.name !== "string" || destinations.has(group.name)) {
                continue;
            }
            const held = CRITICAL_ROWS.filter((row) => group.heldPrefixes.size === 0 || group.heldPrefixes.has(row.bucketPrefix));
            const missing = held.filter((row) => !copies.some((c) => (c.source === group.name || c.source.startsWith("AWS Backup")) && covers(c, row)));
            if (missing.length > 0) {
                reportViolation(`${group.name}: backup bucket has no Enabled replication rule into another account for ${missing.map((r) => `${r.dataType} (${r.bucketPrefix})`).join(", ")}${why}; the runbook requires a copy of the Critical rows no production credential can delete (destination.account + accessControlTranslation.owner Destination)`, group.bucket.urn);
            }
        }
        for (const database of primaryDatabases) {
            const row = CRITICAL_ROWS.find((r) => r.dataClass === "database")!;
            if (!copies.some((c) => covers(c, row))) {
                reportViolation(`${database.name}: production database has no copy outside the production account (no AWS Backup copy into another account's vault, no cross-account replication of database/ dumps)${why}`, database.urn);
            }
        }
    },
};

