/**
 * AWS Backup plans (aws:backup/plan:Plan) and what their selections (aws:backup/selection:Selection) pick.
 * A plan that selects a database keeps that database's recovery points `rules[].lifecycle.deleteAfter` days
 * (unset: never deleted): below the retention table's database row is a violation. A stack policy, because
 * the plan and the resources it selects are separate resources.
 *
 * Databases here are what rds-backup-retention judges and AWS Backup can select: RDS instances and clusters,
 * DocumentDB and Neptune clusters.
 *
 * A selection belongs to the plan its `planId` depends on (the plan's id is computed, so the link is the
 * dependency; with one plan in the stack, that plan). It selects a database when `resources` holds "*", an
 * RDS ARN (`arn:aws:rds:...`, wildcards included) or an output of a database resource of the stack, or when
 * one of its `selectionTags` matches a database's tags. `conditions` narrow `resources` (AWS Backup assigns a
 * resource only when it meets all of them: stringEquals, stringLikes, stringNotEquals, stringNotLikes on
 * `aws:ResourceTag/KEY`), and so do `notResources`: then "*" and ARN patterns pick only the stack's databases whose
 * tags meet them and that are not excluded, so a plan for the EBS volumes (`resources: ["*"]`, tag
 * backup=ebs-weekly) or for everything but RDS (`notResources: ["arn:aws:rds:*:*:db:*"]`) does not judge the database.
 */
import { StackValidationPolicy } from "@pulumi/policy";
import { globMatch, isProduction } from "./config";
import { rdsLabel } from "./engines";
import { indexStack, StackIndex, StackResource, tagsOf } from "./resources";
import { plural } from "./retention";
import { minimumOf, sharedSettings } from "./settings";
import { T } from "./types";
import { notJudgedInPreview, read, readArray, UNKNOWN } from "./unknowns";
import { awsManagedName, AWS_MANAGED_SOURCE } from "./aws-managed";
import { ArnTarget, GENERATED_ID, Permissions, RoleVerdict, roleAllowsOn, rolePermissions } from "./role-permissions";
import { readNumber } from "./numbers";

/** What AWS Backup can select among the engines rds-backup-retention judges (DocumentDB and Neptune ARNs are `arn:aws:rds:...` too). */
const DATABASE_TYPES: readonly string[] = [T.rdsInstance, T.rdsCluster, T.docdbCluster, T.neptuneCluster];

export interface PlanRuleRetention {
    plan: StackResource;
    rule: string;
    /** Days kept; Infinity when deleteAfter is unset; NaN when it is not a number; UNKNOWN during preview. */
    days: number | typeof UNKNOWN;
    /** What the plan selects, for people: "oauth2-db (PostgreSQL instance)", "every RDS database (arn:aws:rds:*)". */
    selects: string[];
    /** The rule's targetVaultName (UNKNOWN during preview when computed). */
    vault: unknown;
    /**
     * When the name is unknown (a vault's computed name, in preview): the stack's vaults the plan's `rules` depend
     * on (`targetVaultName: vault.name`; a copy action's destination shows there too, as the dependencies are per
     * property). A name derived from a vault of the stack carries its dependency, so the target is one of these
     * or no vault of the stack.
     */
    vaultCandidates?: StackResource[];
    /** The stack's databases the plan selects (by `*`, an ARN pattern, an output, tags), to tell production ones. */
    databases: StackResource[];
    /**
     * Why AWS Backup fails every job of the rule, so that it makes no recovery point: every selection of the plan
     * that picks a database runs as a role of the stack without the snapshot action it needs (planRoleFailure), or the rule's
     * retention is outside what the target vault's lock accepts (below a lock's minRetentionDays or above its
     * maxRetentionDays: jobRetentionRefusal), with what makes its jobs succeed (the role's permissions, or a
     * retention the vault lock accepts).
     */
    jobsFail?: { why: string; remedy: string };
    /**
     * The databases the plan selects whose jobs fail for their selections' roles while the plan backs up others
     * (each selection picking it runs as a role of the stack that lacks its snapshot action), with why.
     */
    rolesFailFor?: Array<{ db: StackResource; why: string[] }>;
    /** What leaves open whether the selections' roles let AWS Backup back up a database: a document or policy ARN not known. */
    rolesUnknown?: string[];
}

function selectionPlan(selection: StackResource, plans: StackResource[]): StackResource | undefined {
    const urns = selection.propertyDependencies?.planId?.map((d) => d.urn) ?? [];
    return plans.find((plan) => urns.includes(plan.urn)) ?? (plans.length === 1 ? plans[0] : undefined);
}

/** The four condition operators of a selection's `conditions`, as a test of one tag value (undefined: no such tag). */
const CONDITION_TESTS: Record<string, (tag: string | undefined, value: string) => boolean> = {
    stringEquals: (tag, value) => tag === value,
    stringLikes: (tag, value) => tag !== undefined && globMatch(value, tag),
    stringNotEquals: (tag, value) => tag !== value,
    stringNotLikes: (tag, value) => tag === undefined || !globMatch(value, tag),
};

/**
 * Whether a database's tags meet every condition of a selection (AWS Backup assigns a resource only when it
 * meets all of them); a condition whose key or value is unknown counts as met.
 */
function meetsConditions(db: StackResource, conditions: unknown[]): boolean {
    const dbTags = tagsOf(db);
    return conditions.every((condition) =>
        Object.entries(CONDITION_TESTS).every(([operator, test]) => {
            const entries = readArray(condition, operator);
            return (Array.isArray(entries) ? entries : []).every((e) => {
                const key = read(e, "key");
                const value = read(e, "value");
                return typeof key !== "string" || typeof value !== "string" || test(dbTags[key.replace(/^aws:ResourceTag\//, "")], value);
            });
        }),
    );
}

/**
 * Whether a selection's ARN entry names this database: "*", or an RDS ARN pattern (`arn:aws:rds:*:*:db:*`)
 * whose resource kind (`db` for an instance, `cluster`) and identifier match; the region and account the
 * program cannot tell are taken as matching.
 */
function namesDatabase(entry: string, db: StackResource): boolean {
    if (entry === "*") {
        return true;
    }
    const parts = entry.split(":");
    if (!entry.startsWith("arn:aws:rds:") || parts.length < 7) {
        return false;
    }
    const cluster = db.type !== T.rdsInstance;
    const identifier = read(db.props, cluster ? "clusterIdentifier" : "identifier");
    const name = parts.slice(6).join(":");
    return globMatch(parts[5], cluster ? "cluster" : "db") && (name === "*" || (typeof identifier === "string" && globMatch(name, identifier)));
}

/**
 * Databases (by label) a selection picks. `resources` ("*", an RDS ARN, a database's output), narrowed by
 * `conditions` and `notResources` when it has any: then "*" and ARN patterns pick only the stack's databases
 * whose tags meet every condition and that no `notResources` entry (a pattern, a database's output) names.
 * `selectionTags` pick the databases carrying one of them.
 */
function selectedDatabases(selection: StackResource, databases: StackResource[]): { labels: string[]; picked: StackResource[] } {
    const out = new Set<string>();
    const picked = new Set<StackResource>();
    const label = (db: StackResource) => `${db.name} (${rdsLabel(db.type, db.props)})`;
    const listed = readArray(selection.props, "conditions");
    const conditions = Array.isArray(listed) ? listed : [];
    const conditioned = conditions.some((condition) =>
        Object.keys(CONDITION_TESTS).some((operator) => {
            const entries = readArray(condition, operator);
            return entries === UNKNOWN || (entries ?? []).length > 0;
        }),
    );
    const excludedList = readArray(selection.props, "notResources");
    const excluded = (Array.isArray(excludedList) ? excludedList : []).filter((e): e is string => typeof e === "string");
    const excludedUrns = new Set((selection.propertyDependencies?.notResources ?? []).map((d) => d.urn));
    const narrowed = conditioned || excluded.length > 0 || excludedUrns.size > 0;
    const listedResources = readArray(selection.props, "resources");
    // Conditions without resources are read as conditions over "*" (as this policy read them before).
    const resources = Array.isArray(listedResources) && listedResources.length > 0 ? listedResources : conditioned ? ["*"] : [];
    const patterns = resources.filter((e): e is string => e === "*" || (typeof e === "string" && e.startsWith("arn:aws:rds:")));
    if (!narrowed) {
        for (const entry of patterns) {
            out.add(entry === "*" ? "every resource (*)" : `RDS ${entry}`);
            databases.filter((db) => namesDatabase(entry, db)).forEach((db) => picked.add(db));
        }
    }
    const dependedOn = new Set((selection.propertyDependencies?.resources ?? []).map((d) => d.urn));
    const tagMatches: Array<{ key: unknown; value: unknown }> = [];
    const tags = readArray(selection.props, "selectionTags");
    for (const tag of Array.isArray(tags) ? tags : []) {
        tagMatches.push({ key: read(tag, "key"), value: read(tag, "value") });
    }
    for (const db of databases) {
        const dbTags = tagsOf(db);
        const named = dependedOn.has(db.urn) || (narrowed && patterns.some((entry) => namesDatabase(entry, db)));
        const kept = !narrowed || (meetsConditions(db, conditions) && !excludedUrns.has(db.urn) && !excluded.some((entry) => namesDatabase(entry, db)));
        if ((named && kept) || tagMatches.some(({ key, value }) => typeof key === "string" && dbTags[key] === value)) {
            out.add(label(db));
            picked.add(db);
        }
    }
    return { labels: [...out], picked: [...picked] };
}

/** Per plan (by URN), the databases its selections pick ("every resource (*)", "fleet (PostgreSQL instance)"). */
export function planSelections(index: StackIndex): Map<string, string[]> {
    return new Map([...planPicks(index)].map(([urn, { labels }]) => [urn, labels]));
}

/** Per plan (by URN), the databases its selections pick: labels for people, and the stack's database resources. */
function planPicks(index: StackIndex): Map<string, { labels: string[]; picked: StackResource[] }> {
    const plans = index.ofType(T.backupPlan);
    const databases = DATABASE_TYPES.flatMap((type) => index.ofType(type));
    const selects = new Map<string, { labels: string[]; picked: StackResource[] }>();
    for (const selection of index.ofType(T.backupSelection)) {
        const plan = selectionPlan(selection, plans);
        if (plan) {
            const { labels, picked } = selectedDatabases(selection, databases);
            const before = selects.get(plan.urn) ?? { labels: [], picked: [] };
            selects.set(plan.urn, { labels: [...before.labels, ...labels], picked: [...new Set([...before.picked, ...picked])] });
        }
    }
    return selects;
}

const ROLE = "aws:iam/role:Role";

/** The stack's role a selection's `iamRoleArn` is built from (its dependency) or names (`arn:aws:iam::…:role/[path/]NAME`). */
function selectionRole(selection: StackResource, roles: readonly StackResource[]): StackResource | undefined {
    const urns = selection.propertyDependencies?.iamRoleArn?.map((d) => d.urn) ?? [];
    const byDependency = roles.filter((r) => urns.includes(r.urn));
    if (byDependency.length === 1) {
        return byDependency[0];
    }
    const arn = read(selection.props, "iamRoleArn");
    const name = typeof arn === "string" ? /^arn:aws[\w-]*:iam::\d*:role\/(?:.*\/)?([^/]+)$/.exec(arn)?.[1] : undefined;
    return name === undefined ? undefined : roles.find((r) => read(r.props, "name") === name);
}

/**
 * The action AWS Backup calls, as the selection's role, to make a recovery point of a database: an RDS snapshot
 * of an instance, a cluster snapshot of an Aurora, DocumentDB or Neptune cluster (AWSBackupServiceRolePolicyForBackup
 * allows both; without it every backup job of that database fails for lack of permission).
 */
function snapshotAction(db: StackResource): string {
    return db.type === T.rdsInstance ? "rds:CreateDBSnapshot" : "rds:CreateDBClusterSnapshot";
}

/**
 * The AWS managed policies that allow a snapshot action, by name (the ARN's last segment): every one of the 1525 AWS
 * managed policies whose default version allows rds:CreateDBSnapshot or rds:CreateDBClusterSnapshot (an Action
 * glob or a NotAction), read from MANAGED_LIST_SOURCE (commit 0387244e). Any other AWS managed policy allowed
 * neither on that date; AWS adds permissions to its policies but never removes them, so a name here stays right,
 * while a policy AWS has given the action since is missing: a verdict that rests on a policy not listed says the date.
 */
const MANAGED_LIST_SOURCE = AWS_MANAGED_SOURCE;
const AWS_MANAGED_SNAPSHOT_GRANTS: Readonly<Record<string, readonly string[]>> = Object.fromEntries([
    ...["AWSBackupServiceRolePolicyForBackup", "AdministratorAccess", "PowerUserAccess", "AmazonRDSFullAccess", "DatabaseAdministrator", "DataScientist", "AWSElasticBeanstalkFullAccess", "AWSOpsWorksRole", "AWSMcpServiceActionsFullAccess"]
        .map((name) => [name, ["rds:CreateDBSnapshot", "rds:CreateDBClusterSnapshot"]]),
    ...["AmazonDocDBFullAccess", "AmazonDocDBConsoleFullAccess", "NeptuneFullAccess", "NeptuneConsoleFullAccess", "ConsoleFullAccessFromVercel"].map((name) => [name, ["rds:CreateDBClusterSnapshot"]]),
]);

/** The AWS managed policies' grants, as roleAllowsOn asks for them (the list above; any other ARN not known). */
function managedSnapshotGrants(action: string): (managed: string) => boolean | undefined {
    return (managed) => {
        const name = awsManagedName(managed);
        return name === undefined ? undefined : AWS_MANAGED_SNAPSHOT_GRANTS[name]?.includes(action) === true;
    };
}

/** The database's ARN as far as the plan shows it: its `arn`, else its kind and identifier (`db:orders`, `cluster:ledger`: RDS names Aurora, DocumentDB and Neptune clusters alike). */
function databaseTarget(db: StackResource): ArnTarget {
    const arn = read(db.props, "arn");
    const identifier = read(db.props, db.type === T.rdsInstance ? "identifier" : "clusterIdentifier");
    return typeof arn === "string" && arn.startsWith("arn:")
        ? { arn, service: "rds" }
        : { service: "rds", ...(typeof identifier === "string" ? { resource: `${db.type === T.rdsInstance ? "db" : "cluster"}:${identifier}` } : {}) };
}

/**
 * The snapshot AWS Backup creates for a job, in the database's region and account: `snapshot:awsbackup:job-<id>`
 * for an instance, `cluster-snapshot:awsbackup:job-<id>` for a cluster (the recovery point ids AWS Backup lists for
 * RDS and Aurora). The snapshot action names both resources, and IAM requires both to be allowed (the Service
 * Authorization Reference lists db* and snapshot* for rds:CreateDBSnapshot, cluster* and cluster-snapshot* for
 * rds:CreateDBClusterSnapshot).
 */
function jobSnapshotTarget(db: StackResource): ArnTarget {
    const resource = `${db.type === T.rdsInstance ? "snapshot" : "cluster-snapshot"}:awsbackup:job-${GENERATED_ID}`;
    const arn = read(db.props, "arn");
    return typeof arn === "string" && /^arn:[^:]*:rds:[^:]*:[^:]*:/.test(arn) ? { arn: `${arn.split(":").slice(0, 5).join(":")}:${resource}`, service: "rds" } : { service: "rds", resource };
}

/** A target for people: its ARN (a generated id as `*`), or what is known of it. */
function shownTarget(target: ArnTarget): string {
    const text = target.arn ?? `arn:…:rds:…:…:${target.resource ?? "…"}`;
    return text.replace(GENERATED_ID, "*");
}

/** A role's verdict on backing up a database, and the request it rests on when that is the job's snapshot, not the database. */
type BackupVerdict = RoleVerdict & { snapshot?: string };

/**
 * Whether a role's permissions allow the snapshot action on the database and on the snapshot AWS Backup creates
 * (roleAllowsOn: Deny, Resource and the permissions boundary read too): "allowed" when both are, "lacking" when
 * either is known to lack it (the database first: its verdict reads as before), "unknown" with what is not known.
 * A verdict on the snapshot names it (`snapshot`: its ARN, the job id as `*`).
 */
function roleAllows(permissions: Permissions, action: string, db: StackResource): BackupVerdict {
    const onDatabase = roleAllowsOn(permissions, action, databaseTarget(db), managedSnapshotGrants(action));
    if (onDatabase.verdict === "lacking") {
        return onDatabase;
    }
    const target = jobSnapshotTarget(db);
    const snapshot = `the snapshot AWS Backup creates (${shownTarget(target)})`;
    const onSnapshot = roleAllowsOn(permissions, action, target, managedSnapshotGrants(action));
    if (onSnapshot.verdict === "lacking") {
        return { ...onSnapshot, snapshot };
    }
    const open = [
        ...(onDatabase.verdict === "unknown" ? onDatabase.unknown : []),
        ...(onSnapshot.verdict === "unknown" ? onSnapshot.unknown.filter((u) => onDatabase.verdict !== "unknown" || !onDatabase.unknown.includes(u)).map((u) => `on ${snapshot}: ${u}`) : []),
    ];
    return open.length > 0 ? { verdict: "unknown", unknown: open } : { verdict: "allowed" };
}

/** " on orders (ARN): they allow it only on (statement: patterns)", when the role's Allows of the action name other resources only. */
function onlyElsewhere(judged: BackupVerdict, db: StackResource): string {
    const elsewhere = judged.verdict === "lacking" ? judged.onlyElsewhere : undefined;
    const arn = read(db.props, "arn");
    const on = (judged.verdict === "lacking" ? judged.snapshot : undefined) ?? `${db.name}${typeof arn === "string" ? ` (${arn})` : ""}`;
    if (elsewhere === undefined) {
        return judged.verdict === "lacking" && judged.snapshot ? ` on ${judged.snapshot}` : "";
    }
    return ` on ${on}: they allow it only on other resources (${elsewhere.join("; ")})`;
}

/**
 * " (AWS managed policies judged by ...)": when an AWS managed policy is among those that lack the action, the verdict
 * rests on the list's date (a policy AWS extended since is not known to grant it).
 */
function managedListDated(managed: readonly string[]): string {
    return managed.some((arn) => awsManagedName(arn) !== undefined) ? managedListNote() : "";
}

function managedListNote(): string {
    return ` (AWS managed policies judged by the list of those that grant it, read from ${MANAGED_LIST_SOURCE}: one AWS has given it since is not known here)`;
}

/** The sources of a role's permissions, for people ("RolePolicy x; AWS managed policy AmazonS3ReadOnlyAccess"). */
function permissionSources(permissions: Permissions): string {
    return [...permissions.grants.map((g) => g.where), ...permissions.managed.map((arn) => `AWS managed policy ${awsManagedName(arn) ?? arn}`)].join("; ");
}

/** The databases a plan's selections pick, those whose jobs fail for the roles (with why), and what leaves others open. */
interface RoleJudgement {
    picked: StackResource[];
    failing: Map<StackResource, string[]>;
    unknown: string[];
}

/** A selection that picks databases, its role when the stack declares it, and that role's permissions. */
interface SelectionRole {
    selection: StackResource;
    picked: StackResource[];
    role?: StackResource;
    permissions?: Permissions;
}

/**
 * What the roles of a plan's selections let AWS Backup back up. A database's jobs fail when every selection that
 * picks it runs as a role of the stack whose permissions are all known and lack its snapshot action (a role with
 * no permission policy at all included, h35 trial; h36: a role with only s3:GetObject, or only
 * AWSBackupServiceRolePolicyForRestores); a selection whose role the stack does not declare is not judged.
 * `failing` are those databases, each with why; `unknown` names what leaves a database's verdict open.
 */
function planRoleJudgement(plan: StackResource, index: StackIndex, databases: readonly StackResource[]): RoleJudgement {
    const plans = index.ofType(T.backupPlan);
    const roles = index.ofType(ROLE);
    const resources = [...index.byType.values()].flat();
    const selections: SelectionRole[] = index.ofType(T.backupSelection)
        .filter((s) => selectionPlan(s, plans) === plan)
        .map((selection) => ({ selection, picked: selectedDatabases(selection, [...databases]).picked }))
        .filter(({ picked }) => picked.length > 0)
        .map((s) => {
            const role = selectionRole(s.selection, roles);
            return { ...s, role, permissions: role ? rolePermissions(role, resources) : undefined };
        });
    const picked = [...new Set(selections.flatMap((s) => s.picked))];
    const failing = new Map<StackResource, string[]>();
    const unknown = new Set<string>();
    for (const db of picked) {
        const action = snapshotAction(db);
        const verdicts = selections.filter((s) => s.picked.includes(db)).map(({ selection, role, permissions }) => {
            const used = `${role?.name} (iamRoleArn of Selection ${selection.name})`;
            return { used, permissions, judged: role && permissions ? roleAllows(permissions, action, db) : ({ verdict: "allowed" } as BackupVerdict) };
        });
        if (verdicts.some(({ judged }) => judged.verdict === "allowed")) {
            continue;
        }
        if (verdicts.every(({ judged }) => judged.verdict === "lacking")) {
            failing.set(db, verdicts.map(({ used, permissions, judged }) => {
                const sources = permissionSources(permissions!);
                const why = judged.verdict === "lacking" ? judged.why : undefined;
                if (why !== undefined) {
                    // A boundary that is an AWS managed policy not in the list: the verdict rests on the list's date.
                    const dated = permissions!.boundary !== undefined && "managed" in permissions!.boundary && why.includes(permissions!.boundary.managed) ? managedListNote() : "";
                    return `${used}, ${why}${judged.verdict === "lacking" && judged.snapshot ? ` on ${judged.snapshot}` : ""}${dated}, which AWS Backup calls as that role to back up ${db.name}`;
                }
                return sources === ""
                    ? `${used}, a role with no permission policy (no managed or inline policy, no RolePolicy or attachment in the stack, e.g. AWSBackupServiceRolePolicyForBackup)`
                    : `${used}, whose policies (${sources}) do not allow ${action}${onlyElsewhere(judged, db)}${managedListDated(permissions!.managed)}, which AWS Backup calls as that role to back up ${db.name}`;
            }));
        } else {
            verdicts.forEach(({ used, judged }) => (judged.verdict === "unknown" ? judged.unknown : []).forEach((u) => unknown.add(`${used}: ${u}`)));
        }
    }
    return { failing, unknown: [...unknown], picked };
}

/** Why every job of the plan fails for its roles: no database it selects can be backed up by the roles its selections run as. */
function planRoleFailure(judgement: RoleJudgement): string | undefined {
    if (judgement.picked.length === 0 || judgement.failing.size < judgement.picked.length) {
        return undefined;
    }
    const named = [...new Set([...judgement.failing.values()].flat())].join(", ");
    return `runs as ${named}: AWS Backup fails every job of the rule, so it makes no recovery point`;
}

/** The remedy of a rule whose jobs fail for its selections' role (planRoleFailure). */
const ROLE_REMEDY = "AWS Backup needs the role's permissions to make any recovery point: attach AWSBackupServiceRolePolicyForBackup (or a policy granting the backup actions) to the selection's role";
/** The remedy of a rule whose retention the target vault's lock refuses (jobRetentionRefusal). */
const VAULT_LOCK_REMEDY = "the vault lock requires each job's retention within its bounds: change lifecycle.deleteAfter or target another vault";

/** Every rule of every plan that selects a database, with the days it keeps recovery points. */
export function planRetentions(index: StackIndex): PlanRuleRetention[] {
    const plans = index.ofType(T.backupPlan);
    const picks = planPicks(index);
    const allDatabases = DATABASE_TYPES.flatMap((type) => index.ofType(type));
    const out: PlanRuleRetention[] = [];
    for (const plan of plans) {
        const selected = picks.get(plan.urn)?.labels ?? [];
        const databases = picks.get(plan.urn)?.picked ?? [];
        const rules = readArray(plan.props, "rules");
        if (selected.length === 0 || !Array.isArray(rules)) {
            continue;
        }
        const roles = planRoleJudgement(plan, index, allDatabases);
        const roleFailure = planRoleFailure(roles);
        // Some databases backed up, others not: the plan is evidence for the first, and the rest are named.
        const rolesFailFor = roleFailure === undefined ? [...roles.failing].map(([db, why]) => ({ db, why })) : [];
        const roleFields = { ...(rolesFailFor.length > 0 ? { rolesFailFor } : {}), ...(roles.unknown.length > 0 ? { rolesUnknown: roles.unknown } : {}) };
        rules.forEach((rule, i) => {
            const name = read(rule, "ruleName");
            const deleteAfter = readNumber(rule, "lifecycle", "deleteAfter");
            const days = deleteAfter === UNKNOWN ? UNKNOWN : typeof deleteAfter === "number" ? deleteAfter : deleteAfter === undefined ? Infinity : NaN;
            const vault = read(rule, "targetVaultName");
            const vaultCandidates = vault === UNKNOWN ? rulesVaults(plan) : undefined;
            const target = vault === UNKNOWN ? (vaultCandidates?.length === 1 ? vaultCandidates[0] : undefined) : declaredVault(vault, index.byType);
            const refusal = roleFailure === undefined && target && days !== UNKNOWN && !Number.isNaN(days) ? jobRetentionRefusal(target, days, [...(index.byType.get(VAULT_LOCK) ?? [])]) : undefined;
            const jobsFail = roleFailure !== undefined ? { why: roleFailure, remedy: ROLE_REMEDY } : refusal !== undefined ? { why: refusal, remedy: VAULT_LOCK_REMEDY } : undefined;
            out.push({ plan, rule: typeof name === "string" ? name : `#${i + 1}`, days, selects: selected, vault, ...(vaultCandidates ? { vaultCandidates } : {}), databases, ...(jobsFail ? { jobsFail } : {}), ...roleFields });
        });
    }
    return out;
}

const VAULT = "aws:backup/vault:Vault";
const AIR_GAPPED_VAULT = "aws:backup/logicallyAirGappedVault:LogicallyAirGappedVault";
const VAULT_LOCK = "aws:backup/vaultLockConfiguration:VaultLockConfiguration";

/** The vaults (of either kind) the plan's `rules` depend on, each once. */
function rulesVaults(plan: StackResource): StackResource[] {
    const vaults = (plan.propertyDependencies?.rules ?? []).filter((d) => d.type === VAULT || d.type === AIR_GAPPED_VAULT);
    return [...new Map(vaults.map((v) => [v.urn, v])).values()];
}

/** The stack's vault (of either kind) of that name; undefined when not declared here. */
function declaredVault(vaultName: unknown, byType: ReadonlyMap<string, readonly StackResource[]>): StackResource | undefined {
    if (typeof vaultName !== "string") {
        return undefined;
    }
    return [...(byType.get(VAULT) ?? []), ...(byType.get(AIR_GAPPED_VAULT) ?? [])].find((r) => read(r.props, "name") === vaultName);
}

/**
 * Why a job keeping recovery points `days` (Infinity: no deleteAfter) fails in that vault: AWS Backup fails a
 * backup or copy job whose lifecycle keeps a point less than a vault lock's minRetentionDays or more than its
 * maxRetentionDays (AWS Backup Vault Lock; a logically air-gapped vault carries both), in either lock mode. So
 * a rule kept 365 days into a vault locked for 30-35 makes no recovery point at all (h35 trial: it was evidence
 * for the database row). undefined when the job is accepted or a bound is unknown.
 */
export function jobRetentionRefusal(vault: StackResource, days: number, locks: readonly StackResource[]): string | undefined {
    const name = read(vault.props, "name");
    const bounds =
        vault.type === AIR_GAPPED_VAULT
            ? [{ source: `logically air-gapped vault ${vault.name}`, props: vault.props }]
            : locks
                  .filter((lock) => lock.propertyDependencies?.backupVaultName?.some((d) => d.urn === vault.urn) || (typeof name === "string" && read(lock.props, "backupVaultName") === name))
                  .map((lock) => ({ source: `Vault Lock ${lock.name}`, props: lock.props }));
    const kept = days === Infinity ? "forever (no lifecycle.deleteAfter)" : plural(days, "days");
    for (const { source, props } of bounds) {
        const min = readNumber(props, "minRetentionDays");
        const max = readNumber(props, "maxRetentionDays");
        if (typeof min === "number" && days < min) {
            return `keeps recovery points ${kept}, below the minRetentionDays ${min} of the target vault's ${source}: AWS Backup fails every job of the rule, so it makes no recovery point`;
        }
        if (typeof max === "number" && days > max) {
            return `keeps recovery points ${kept}, above the maxRetentionDays ${max} of the target vault's ${source}: AWS Backup fails every job of the rule, so it makes no recovery point`;
        }
    }
    return undefined;
}

/**
 * Why a production vault does not hold recovery points for `minimum` days whoever asks: no Vault Lock, a
 * governance-mode lock (no changeableForDays: backup:DeleteBackupVaultLockConfiguration removes it), or a
 * minRetentionDays below the row (backup:UpdateRecoveryPointLifecycle shortens a point to it). undefined when
 * it does (a compliance-mode lock, or a logically air-gapped vault, at least `minimum` days), when a value is
 * unknown, or when the vault is not declared in the stack (nothing to read).
 */
export function vaultLockProblem(vaultName: unknown, resources: readonly StackResource[], minimum: number): { vault: StackResource; problem: string } | undefined {
    const vault = typeof vaultName === "string" ? resources.find((r) => (r.type === VAULT || r.type === AIR_GAPPED_VAULT) && read(r.props, "name") === vaultName) : undefined;
    return vault ? lockProblemOf(vault, resources, minimum) : undefined;
}

/**
 * A rule whose vault name is unknown: the problem of its vault when that is known to be one vault of the stack
 * (one candidate), none when no candidate has one (whichever is the target, it is locked, or not the stack's),
 * and "unjudged" when several candidates differ.
 */
export function candidateVaultProblem(candidates: readonly StackResource[], resources: readonly StackResource[], minimum: number): { vault: StackResource; problem: string } | "unjudged" | undefined {
    const problems = candidates.map((vault) => lockProblemOf(vault, resources, minimum)).filter((p) => p !== undefined);
    if (problems.length === 0) {
        return undefined;
    }
    return candidates.length === 1 ? problems[0] : "unjudged";
}

function lockProblemOf(vault: StackResource, resources: readonly StackResource[], minimum: number): { vault: StackResource; problem: string } | undefined {
    const name = read(vault.props, "name");
    const days = (value: unknown) => (value === UNKNOWN ? UNKNOWN : typeof value === "number" ? value : typeof value === "string" && /^\d+$/.test(value) ? Number(value) : undefined);
    if (vault.type === AIR_GAPPED_VAULT) {
        const min = days(read(vault.props, "minRetentionDays"));
        return min === UNKNOWN || (typeof min === "number" && min >= minimum) ? undefined : { vault, problem: `is a logically air-gapped vault whose minRetentionDays is ${typeof min === "number" ? plural(min, "days") : "not set"}` };
    }
    const locks = resources.filter((r) => r.type === VAULT_LOCK && (r.propertyDependencies?.backupVaultName?.some((d) => d.urn === vault.urn) || (typeof name === "string" && read(r.props, "backupVaultName") === name)));
    if (locks.length === 0) {
        return { vault, problem: "has no Vault Lock (aws.backup.VaultLockConfiguration): any credential with backup:DeleteRecoveryPoint deletes its recovery points early" };
    }
    for (const lock of locks) {
        const changeable = read(lock.props, "changeableForDays");
        const min = days(read(lock.props, "minRetentionDays"));
        if (changeable === UNKNOWN || min === UNKNOWN) {
            return undefined;
        }
        if (changeable === undefined || changeable === null) {
            return { vault, problem: `has a Vault Lock in governance mode (${lock.name}: no changeableForDays): backup:DeleteBackupVaultLockConfiguration removes it, then backup:DeleteRecoveryPoint deletes its recovery points early` };
        }
        if (typeof min !== "number" || min < minimum) {
            return { vault, problem: `has a Vault Lock whose minRetentionDays is ${typeof min === "number" ? plural(min, "days") : "not set"} (${lock.name}): backup:UpdateRecoveryPointLifecycle shortens a recovery point to it` };
        }
    }
    return undefined;
}

export const awsBackupPlanRetention: StackValidationPolicy = {
    name: "aws-backup-plan-retention",
    description: "An AWS Backup plan that selects a database keeps its recovery points at least as long as the retention table's database row (rules[].lifecycle.deleteAfter unset or >= 30 days), in production in a vault locked in compliance mode for at least that long.",
    enforcementLevel: "mandatory",
    severity: "critical",
    validateStack: (args, reportViolation) => {
        const settings = sharedSettings();
        const minimum = minimumOf(settings, "database");
        const reported = new Set<string>();
        const unresolved: string[] = [];
        const rolesOpen = new Set<string>();
        for (const { plan, rule, days, selects, vault, vaultCandidates, databases, jobsFail, rolesFailFor, rolesUnknown } of planRetentions(indexStack(args.resources, settings))) {
            if (jobsFail !== undefined) {
                reportViolation(`${plan.name}: rule "${rule}" ${jobsFail.why} for ${selects.join(", ")}; the retention table's database row requires at least ${plural(minimum, "days")} of recovery points; ${jobsFail.remedy}`, plan.urn);
            }
            for (const { db, why } of rolesFailFor ?? []) {
                if (!reported.has(`${plan.urn} roles ${db.urn}`)) {
                    reported.add(`${plan.urn} roles ${db.urn}`);
                    reportViolation(`${plan.name}: selects ${db.name} (${rdsLabel(db.type, db.props)}) but runs as ${why.join(", ")}: AWS Backup fails every job for it, so the plan makes no recovery point of it; ${ROLE_REMEDY}`, plan.urn);
                }
            }
            (rolesUnknown ?? []).forEach((u) => rolesOpen.add(`${plan.name} ${u}`));
            if (days !== UNKNOWN && Number.isNaN(days)) {
                reportViolation(`${plan.name}: rule "${rule}" lifecycle.deleteAfter is not a number; the retention table's database row requires at least ${plural(minimum, "days")} for ${selects.join(", ")}`, plan.urn);
            } else if (days !== UNKNOWN && days < minimum) {
                reportViolation(
                    `${plan.name}: rule "${rule}" deletes recovery points after ${plural(days, "days")} (lifecycle.deleteAfter) for ${selects.join(", ")}; the retention table's database row requires at least ${plural(minimum, "days")}`,
                    plan.urn,
                );
            }
            // Retention guaranteed, not just declared: in production the recovery points are kept whoever asks.
            // A vault is production when it is tagged so, or holds the recovery points of a production database.
            const judged = vault === UNKNOWN ? candidateVaultProblem(vaultCandidates ?? [], args.resources, minimum) : vaultLockProblem(vault, args.resources, minimum);
            if (judged === "unjudged") {
                unresolved.push(`${plan.name} rule "${rule}" targetVaultName (one of ${(vaultCandidates ?? []).map((v) => v.name).join(", ")})`);
                continue;
            }
            const found = judged;
            const vaultShown = typeof vault === "string" ? vault : found ? `${found.vault.name} (its name is computed)` : String(vault);
            const productionDatabases = found && !isProduction(tagsOf(found.vault), args.stackTags, settings) ? databases.filter((db) => isProduction(tagsOf(db), args.stackTags, settings)) : [];
            if (found && (isProduction(tagsOf(found.vault), args.stackTags, settings) || productionDatabases.length > 0) && !reported.has(`${plan.urn} ${vaultShown}`)) {
                reported.add(`${plan.urn} ${vaultShown}`);
                const why = productionDatabases.length > 0 ? ` (the vault is not tagged production, but it holds the recovery points of production database${productionDatabases.length === 1 ? "" : "s"} ${productionDatabases.map((db) => db.name).join(", ")})` : "";
                reportViolation(
                    `${plan.name}: rule "${rule}" keeps the recovery points of ${selects.join(", ")} in backup vault ${vaultShown}, which ${found.problem}; production${why} requires a compliance-mode Vault Lock (changeableForDays set) whose minRetentionDays is at least ${plural(minimum, "days")} (the retention table's database row)`,
                    plan.urn,
                );
            }
        }
        const whys = [
            ...(unresolved.length > 0 ? ["whether the vault keeping these recovery points is locked (the rules depend on several vaults of the stack, not all locked for the row)"] : []),
            ...(rolesOpen.size > 0 ? ["whether the selection's role lets AWS Backup snapshot the database (rds:CreateDBSnapshot / rds:CreateDBClusterSnapshot): a permission the plan does not show"] : []),
        ];
        if (whys.length > 0) {
            notJudgedInPreview(args, [...unresolved, ...rolesOpen], whys.join("; "));
        }
    },
};
