/**
 * `backup-job-role-no-destruction` (mandatory): no backup job role may destroy or weaken what backups rely
 * on. A backup job role is an IAM role that runs code (its trust policy allows sts:AssumeRoleWithWebIdentity,
 * as IRSA and CI OIDC roles do, or a compute service: ECS tasks, Lambda, EC2, Batch, CodeBuild, EKS Pod Identity) and that either carries
 * one of the configured tags (`oauth2-dr/component: backup-jobs` by default) or is granted S3 access to a
 * backup bucket (or to every bucket). Such a role may not hold, through its inline policies, its RolePolicy
 * resources or a policy attached to it in the stack:
 *  - deletion of stored versions or data: s3:DeleteObjectVersion, s3:DeleteBucket, backup:DeleteRecoveryPoint,
 *    rds:DeleteDBSnapshot, secretsmanager:DeleteSecret, kms:ScheduleKeyDeletion, ... ;
 *  - the bypass of a GOVERNANCE lock: s3:BypassGovernanceRetention;
 *  - a change of the bucket's configuration (versioning, lock, lifecycle, replication, policy, encryption);
 *  - rds:DeleteDBInstance outside the scratch instances of the restore verification (scratchInstancePatterns).
 * A grant is judged as IAM decides, through the one reader of a role's permissions (role-permissions.ts
 * roleAllowsOn, h38): a Deny of the role's policies or of its permissions boundary, a boundary that does not allow
 * the action, or a Resource that names none of the backup buckets or vaults (destructiveGrants) leaves no grant; since
 * h40-scope a Resource naming secrets, KMS keys, RDS databases or their snapshots, or recovery points is judged on the
 * stack's own resources of that kind (heldResources), not on any: one that may name one the plan does not settle is not judged.
 * A delete marker (s3:DeleteObject) leaves the version in place and is allowed. Attached full-access AWS managed
 * policies (AdministratorAccess, PowerUserAccess, AmazonS3FullAccess, ...) are read as their documents (aws-managed.ts,
 * h39) and judged the same way: reported as "everything ARN grants" when no Deny or boundary removes any of it; since
 * h40 every AWS managed policy of the snapshot is (the others reported action by action), and a policy whose document
 * is not known (not in the snapshot, another stack's, an ARN not known) is listed as not judged.
 */
import { StackValidationArgs, StackValidationPolicy } from "@pulumi/policy";
import { configOf, globMatch } from "./config";
import { actionMatches, covers, everyoneScope, Statement, statementsOf } from "./iam-documents";
import { indexStack, StackIndex, StackResource, tagsOf } from "./resources";
import { productionAccounts } from "./isolated-copy";
import { TagMatch, sharedSettings } from "./settings";
import type { Settings } from "./settings";
import { lockDenials, lockFloorGaps } from "./object-lock";
import { formatRetention } from "./retention";
import { awsManagedDocument, awsManagedName, AWS_MANAGED_SOURCE } from "./aws-managed";
import { arnGlob, arnSegments, attachedPolicies, Grant, isUnknownText, Permissions, permissionsBoundary, roleAllowsOn, rolePermissions, statementResourceCovers } from "./role-permissions";
import { notJudgedInPreview, read, readArray, UNKNOWN } from "./unknowns";
import { T } from "./types";

export type { Grant } from "./role-permissions";

/** What no backup job role may be granted. */
export const DESTRUCTIVE_ACTIONS = [
    "s3:DeleteObjectVersion",
    "s3:BypassGovernanceRetention",
    "s3:DeleteBucket",
    "s3:DeleteBucketPolicy",
    "s3:PutBucketPolicy",
    "s3:PutBucketVersioning",
    "s3:PutBucketObjectLockConfiguration",
    "s3:PutLifecycleConfiguration",
    "s3:PutReplicationConfiguration",
    "s3:PutEncryptionConfiguration",
    "s3:PutBucketPublicAccessBlock",
    "s3:PutBucketOwnershipControls",
    "s3:PutBucketAcl",
    "backup:DeleteRecoveryPoint",
    "backup:UpdateRecoveryPointLifecycle",
    "backup:DeleteBackupVault",
    "backup:DeleteBackupVaultLockConfiguration",
    "backup:DeleteBackupVaultAccessPolicy",
    "rds:DeleteDBSnapshot",
    "rds:DeleteDBClusterSnapshot",
    "rds:DeleteDBInstanceAutomatedBackup",
    "rds:ModifyDBInstance",
    // h40: an Aurora, DocumentDB or Neptune cluster's own: ModifyDBCluster sets its BackupRetentionPeriod (1-35), as
    // ModifyDBInstance does an instance's; DeleteDBClusterAutomatedBackup deletes its retained automated backups.
    "rds:ModifyDBCluster",
    "rds:DeleteDBClusterAutomatedBackup",
    "secretsmanager:DeleteSecret",
    "secretsmanager:PutResourcePolicy",
    "secretsmanager:DeleteResourcePolicy",
    "secretsmanager:RemoveRegionsFromReplication",
    "kms:ScheduleKeyDeletion",
    "kms:DisableKey",
    "kms:PutKeyPolicy",
];

/** Allowed only on the scratch instances of the restore verification. */
export const SCRATCH_ONLY_ACTIONS = ["rds:DeleteDBInstance", "rds:DeleteDBCluster"];

const FULL_ACCESS_MANAGED = ["AdministratorAccess", "PowerUserAccess", "AmazonS3FullAccess", "AWSBackupFullAccess", "AmazonRDSFullAccess", "SecretsManagerReadWrite"];
// pods.eks.amazonaws.com: EKS Pod Identity, the successor of IRSA (the role trusts the service, not a web identity).
const COMPUTE_SERVICES = ["ecs-tasks.amazonaws.com", "lambda.amazonaws.com", "ec2.amazonaws.com", "batch.amazonaws.com", "codebuild.amazonaws.com", "pods.eks.amazonaws.com"];

/** The configuration property that marks job roles by tag; shared by the policies that judge job roles. */
export const JOB_ROLE_TAGS_PROPERTY = {
    type: "array" as const,
    items: {
        type: "object" as const,
        properties: { key: { type: "string" as const }, value: { type: "string" as const } },
        required: ["key", "value"],
    },
    default: [{ key: "oauth2-dr/component", value: "backup-jobs" }],
    description: "Tags that mark an IAM role as a backup job role (besides its S3 access to backup buckets).",
};

const jobRoleSchema = {
    properties: {
        jobRoleTags: JOB_ROLE_TAGS_PROPERTY,
        scratchInstancePatterns: {
            type: "array" as const,
            items: { type: "string" as const },
            default: ["arn:aws:rds:*:*:db:oauth2-backup-test-*"],
            description: "RDS instance (and cluster) ARN globs a job role may delete (the restore verification's scratch instances).",
        },
    },
};

interface JobRoleConfig {
    jobRoleTags: TagMatch[];
    scratchInstancePatterns: string[];
}


/** Whether the role's trust policy lets running code assume it (web identity or a compute service). */
export function isWorkloadRole(role: StackResource): boolean | typeof UNKNOWN {
    const statements = statementsOf(read(role.props, "assumeRolePolicy"));
    if (statements === UNKNOWN) {
        return UNKNOWN;
    }
    return (statements ?? []).some((s) => {
        if (s.effect !== "Allow") {
            return false;
        }
        if (s.actions.some((a) => actionMatches(a, "sts:AssumeRoleWithWebIdentity"))) {
            return true;
        }
        const service = read(s.principal, "Service");
        const services = Array.isArray(service) ? service : [service];
        return services.some((x) => typeof x === "string" && COMPUTE_SERVICES.includes(x));
    });
}

/** A bucket policy of backup storage, for the grants it makes to roles by name (resource-based: no IAM policy shows them). */
export interface BucketPolicyDocument {
    bucket: string;
    where: string;
    document: unknown;
    /** The URNs its document was built from (to tell, while it is unknown, whether it may name a role). */
    dependsOn: string[];
}

/** The policies of the stack's backup buckets: BucketPolicy resources and the buckets' inline `policy`. */
export function backupBucketPolicies(index: StackIndex): BucketPolicyDocument[] {
    const out: BucketPolicyDocument[] = [];
    for (const group of index.buckets.values()) {
        if (!group.backup) {
            continue;
        }
        const bucket = typeof group.name === "string" ? group.name : (group.bucket?.name ?? "?");
        for (const r of group.config.policy) {
            out.push({ bucket, where: `BucketPolicy ${r.name}`, document: read(r.props, "policy"), dependsOn: (r.propertyDependencies?.policy ?? []).map((d) => d.urn) });
        }
        const inline = group.bucket ? read(group.bucket.props, "policy") : undefined;
        if (group.bucket && inline !== undefined && inline !== null) {
            out.push({ bucket, where: `${group.bucket.name}.policy`, document: inline, dependsOn: (group.bucket.propertyDependencies?.policy ?? []).map((d) => d.urn) });
        }
    }
    return out;
}

/** Whether an Allow to everyone of `scope` reaches the stack's own roles: not when it names only other accounts (known). */
function reachesOwnAccount(scope: ReturnType<typeof everyoneScope>, own: ReadonlySet<string>): boolean {
    return scope !== undefined && (scope.accounts === undefined || own.size === 0 || scope.accounts.some((a) => own.has(a)));
}

/** Whether a statement's Principal names one of the roles (`arn:aws:iam::ACCOUNT:role/[path/]NAME`). */
function principalNamesRole(principal: unknown, names: string[]): boolean {
    const aws = read(principal, "AWS");
    const arns = (Array.isArray(aws) ? aws : [aws]).filter((a): a is string => typeof a === "string");
    return arns.some((arn) => /^arn:aws[\w-]*:iam::\d{12}:role\//.test(arn) && names.includes(arn.split("/").pop()!));
}

/** A role's or user's own name (its `name`), else its resource name. */
function principalName(principal: StackResource): string {
    const name = read(principal.props, "name");
    return typeof name === "string" ? name : principal.name;
}

/**
 * The permissions of a role: its own (rolePermissions: inline policies, RolePolicy resources, attached Policy
 * resources, managed policy ARNs, its permissions boundary, what the plan does not show), and the statements of backup bucket policies that name it as the principal or allow
 * everyone (of its account or organization: aws:PrincipalAccount, aws:PrincipalOrgID, or no condition), a
 * resource-based grant, enough alone within an account.
 */
export function grantsOf(role: StackResource, resources: readonly StackResource[], bucketPolicies: readonly BucketPolicyDocument[] = [], ownAccounts: ReadonlySet<string> = new Set()): Permissions {
    const permissions = rolePermissions(role, resources);
    const { grants } = permissions;
    const names = [read(role.props, "name"), role.name].filter((n): n is string => typeof n === "string");
    for (const { bucket, where, document, dependsOn } of bucketPolicies) {
        const statements = statementsOf(document);
        if (statements === UNKNOWN) {
            // Unknown until the update: it may name this role only if it is built from the role's outputs.
            if (dependsOn.includes(role.urn)) {
                grants.push({ document: UNKNOWN, where });
            }
            continue;
        }
        // The role by its ARN, or everyone (of its account or organization, or anyone): both reach it.
        const naming = (statements ?? []).filter((st) => st.effect === "Allow" && (principalNamesRole(st.principal, names) || reachesOwnAccount(everyoneScope(st.principal, st.condition), ownAccounts)));
        if (naming.length > 0) {
            const Statement = naming.map((st) => ({ Sid: st.sid, Effect: st.effect, Action: st.actions, ...(st.notActions ? { NotAction: st.notActions } : {}), Resource: st.resources }));
            grants.push({ document: { Statement }, where: `the bucket policy of ${bucket} (${where})` });
        }
    }
    return permissions;
}

/**
 * S3 resources (ARN globs) a grant names, to tell whether it reaches a backup bucket. Every bucket (`*`) reaches one
 * only when the stack declares backup storage (`anyBackupBucket`): in a stack with none (a stateless program's Lambda,
 * whose CallbackFunction attaches AmazonS3FullAccess) such a role is no backup job (h40); tag it to have it judged.
 */
function reachesBackupBuckets(grants: Grant[], backupBuckets: string[], anyBackupBucket: boolean): boolean | typeof UNKNOWN {
    let unknown = false;
    for (const grant of grants) {
        const statements = statementsOf(grant.document);
        if (statements === UNKNOWN) {
            unknown = true;
            continue;
        }
        for (const s of statements ?? []) {
            if (s.effect !== "Allow" || !(s.notActions !== undefined || s.actions.some((a) => a === "*" || a.toLowerCase().startsWith("s3:")))) {
                continue;
            }
            if (s.resources.some((r) => ((r === "*" || r === "arn:aws:s3:::*") && anyBackupBucket) || backupBuckets.some((b) => globMatch(r.split("/")[0], `arn:aws:s3:::${b}`)))) {
                return true;
            }
        }
    }
    return unknown ? UNKNOWN : false;
}

/** What the stack's backup storage is named: its backup buckets and AWS Backup vaults (complete: no name left unknown). */
export interface BackupStorage {
    buckets: string[];
    vaults: string[];
    /** Whether every backup bucket's and vault's name is known: else a grant naming none of them may still name one. */
    complete: boolean;
    /**
     * The stack's other backup-critical resources by the resource type of their ARN (`secret`, `key`, `db`, `cluster`,
     * `snapshot`, ..., `recovery-point`; resourceShape's), each as a glob of its ARN's resource part (heldResources).
     */
    held: Record<string, HeldResource[]>;
}

/** One resource of the stack a destructive action may reach: its ARN's resource part as a glob (`secret:oauth2/backup-passphrase-??????`), and how to name it. */
export interface HeldResource {
    part: string;
    what: string;
}

/** S3 actions on objects (an object ARN, `bucket/key`); the other S3 actions of DESTRUCTIVE_ACTIONS are on the bucket. */
const S3_OBJECT_ACTIONS: ReadonlySet<string> = new Set(["s3:DeleteObjectVersion", "s3:BypassGovernanceRetention"]);
/** Actions on a backup vault (`backup-vault:NAME`); the other backup actions are on recovery points. */
const VAULT_ACTIONS: ReadonlySet<string> = new Set(["backup:DeleteBackupVault", "backup:DeleteBackupVaultLockConfiguration", "backup:DeleteBackupVaultAccessPolicy"]);

/**
 * The ARN of a resource each destructive action acts on (the Service Authorization Reference's resource types),
 * with `x` for a name, region or account: an Allow on every resource of the type covers it, a Deny of one region
 * or name does not remove it (the Allow still reaches the others).
 */
function resourceShape(action: string): string {
    const shapes: Array<[RegExp, string]> = [
        [/^backup:.*RecoveryPoint/, "arn:aws:backup:x:x:recovery-point:x"],
        [/^backup:/, "arn:aws:backup:x:x:backup-vault:x"],
        [/^rds:DeleteDBSnapshot$/, "arn:aws:rds:x:x:snapshot:x"],
        [/^rds:DeleteDBClusterSnapshot$/, "arn:aws:rds:x:x:cluster-snapshot:x"],
        [/^rds:DeleteDBInstanceAutomatedBackup$/, "arn:aws:rds:x:x:auto-backup:x"],
        [/^rds:DeleteDBClusterAutomatedBackup$/, "arn:aws:rds:x:x:cluster-auto-backup:x"],
        [/^rds:(ModifyDBCluster|DeleteDBCluster)$/, "arn:aws:rds:x:x:cluster:x"],
        [/^rds:/, "arn:aws:rds:x:x:db:x"],
        [/^secretsmanager:/, "arn:aws:secretsmanager:x:x:secret:x"],
        [/^kms:/, "arn:aws:kms:x:x:key/x"],
        [/^s3:/, S3_OBJECT_ACTIONS.has(action) ? "arn:aws:s3:::x/x" : "arn:aws:s3:::x"],
    ];
    return shapes.find(([pattern]) => pattern.test(action))?.[1] ?? "*";
}

/** Whether a resource pattern may name a resource of the action's service: an S3 ARN names no KMS key nor RDS instance (such a grant is of nothing). */
function mayName(pattern: string, action: string): boolean {
    const service = pattern.startsWith("arn:") ? pattern.split(":")[2] ?? "" : "*";
    return /[*?]/.test(service) || service === action.split(":")[0];
}

/** A resource pattern made a resource it names (`*` and `?` as `x`): `arn:aws:s3:::dumps/database/*` names `dumps/database/x`. */
function instance(pattern: string): string {
    return pattern.replace(/[*?]/g, "x");
}

/**
 * The resources on which an Allow statement's grant of a destructive action is judged (`arns`), and why it may be a grant
 * the plan cannot settle (`open`). S3: the backup buckets (an object action: an object of each, and the objects the
 * statement's own patterns name there); a vault action: the stack's vaults; S3 or vaults when the stack's are not all
 * known by name: also a resource of the action's type the statement covers (resourceShape), and what its patterns name.
 * The other kinds (secrets, KMS keys, RDS databases and their snapshots and automated backups, recovery points) are
 * judged on the stack's own resources of the kind (heldCandidates, h40); in a stack with none, as S3 is: any.
 */
function candidateResources(statement: Statement, action: string, storage: BackupStorage): { arns: string[]; open: string[] } {
    const named = statement.notResources === undefined ? statement.resources.filter((r) => !isUnknownText(r)) : [];
    const generic = [resourceShape(action), ...named.filter((r) => mayName(r, action) && !serviceOwned(r, action)).map(instance)];
    if (action.startsWith("s3:")) {
        const objects = S3_OBJECT_ACTIONS.has(action);
        const ofBuckets = storage.buckets.map(instance).flatMap((bucket) => {
            const arn = `arn:aws:s3:::${bucket}`;
            if (!objects) {
                return [arn];
            }
            const keys = named.filter((r) => r.includes("/") && globMatch(r.split("/")[0], arn)).map((r) => `${arn}/${instance(r.slice(r.indexOf("/") + 1))}`);
            return [`${arn}/x`, ...keys];
        });
        return { arns: storage.complete && storage.buckets.length > 0 ? ofBuckets : [...ofBuckets, ...generic], open: [] };
    }
    if (VAULT_ACTIONS.has(action) && storage.complete && storage.vaults.length > 0) {
        return { arns: storage.vaults.map((vault) => `arn:aws:backup:x:x:backup-vault:${vault}`), open: [] };
    }
    const held = storage.held[resourceType(action)] ?? [];
    return held.length > 0 ? heldCandidates(statement, action, held) : { arns: generic, open: [] };
}

/** The resource type of an action's ARN (resourceShape's): `secret`, `key`, `db`, `cluster-snapshot`, `recovery-point`, ... */
function resourceType(action: string): string {
    return (arnSegments(resourceShape(action))[5] ?? "").replace(/[:/]x$/, "");
}

/**
 * A pattern that can name only resources a service owns and manages, never backup material: a secret whose name holds
 * `!` (RDS's master user secrets `rds!db-<id>`, EventBridge's connection secrets `events!connection/<name>`; a secret
 * one creates may hold only letters, digits and `/_+=.@-`: Secrets Manager CreateSecret, Name).
 */
function serviceOwned(pattern: string, action: string): boolean {
    const part = arnSegments(pattern)[5] ?? "";
    return resourceType(action) === "secret" && part.startsWith("secret:") && part.includes("!");
}

/**
 * The candidates of a grant on the stack's own resources of the action's kind (h40: before, any resource of the kind,
 * so a grant on EventBridge's connection secrets, another application's secret or database, or another key was a grant
 * on backup material). Each held resource is judged where the statement's `*`, NotResource or unknown pattern puts it
 * (region and account `x`), and where each named ARN pattern that covers it (coversPart) puts it, in that pattern's
 * region and account (a pattern of the stack's account is read as naming it). A pattern that covers only some of what
 * the resource may be called (a secret's random suffix, a key id, a snapshot's name: not known until AWS makes them)
 * leaves the grant open; one that shares no name with it is no grant on it.
 */
function heldCandidates(statement: Statement, action: string, held: readonly HeldResource[]): { arns: string[]; open: string[] } {
    const service = action.split(":")[0];
    const arns = held.map((h) => `arn:aws:${service}:x:x:${sample(h.part)[0]}`);
    const open: string[] = [];
    const patterns = statement.notResources === undefined ? statement.resources.filter((r) => r !== "*" && !isUnknownText(r) && mayName(r, action)) : [];
    for (const pattern of patterns) {
        const segments = arnSegments(pattern);
        if (segments.length !== 6 || segments[0] !== "arn") {
            arns.push(instance(pattern));
            continue;
        }
        if (serviceOwned(pattern, action)) {
            continue;
        }
        const [, partition, , region, account] = segments.map(instance);
        for (const h of held) {
            if (coversPart(segments[5], h.part)) {
                arns.push(`arn:${partition}:${service}:${region}:${account}:${sample(h.part)[0]}`);
            } else if (globsMeet(segments[5], h.part)) {
                open.push(`its Resource ${pattern} may name ${h.what}`);
            }
        }
    }
    return { arns, open };
}

/** Two names a resource-part glob describes, far apart (`*` as nothing and as several characters, `?` as two letters): a pattern matching both is taken to match every one. */
function sample(glob: string): [string, string] {
    return [glob.replace(/\*/g, "").replace(/\?/g, "x"), glob.replace(/\*/g, "Zz0/-_.q").replace(/\?/g, "Q")];
}

/** Whether an IAM pattern's resource part covers every name of a held resource's glob (sample: both of two). */
function coversPart(pattern: string, glob: string): boolean {
    const regex = arnGlob(pattern);
    return sample(glob).every((name) => regex.test(name));
}

/** Whether two globs (`*`, `?`) match some name in common: a pattern that meets a held resource's glob may name it. */
export function globsMeet(a: string, b: string): boolean {
    const memo = new Map<number, boolean>();
    const meet = (i: number, j: number): boolean => {
        const key = i * (b.length + 1) + j;
        const known = memo.get(key);
        if (known !== undefined) {
            return known;
        }
        let result: boolean;
        if (i === a.length && j === b.length) {
            result = true;
        } else if (a[i] === "*") {
            result = meet(i + 1, j) || (j < b.length && meet(i, j + 1));
        } else if (b[j] === "*") {
            result = meet(i, j + 1) || (i < a.length && meet(i + 1, j));
        } else {
            result = i < a.length && j < b.length && (a[i] === "?" || b[j] === "?" || a[i] === b[j]) && meet(i + 1, j + 1);
        }
        memo.set(key, result);
        return result;
    };
    return meet(0, 0);
}

/** What a role's (or user's) permissions let it destroy: lines "action (statement)", and what leaves a grant open. */
export interface Destruction {
    lines: string[];
    /** "action (statement): why not known" for grants whose verdict the plan does not show. */
    open: string[];
}

/**
 * The destructive grants that stand: each Allow statement that covers a destructive action on a resource of backup
 * storage (candidateResources), judged by the one reader of IAM (roleAllowsOn): a Deny of the role's policies or
 * of its permissions boundary, or a boundary that does not allow it, removes the grant; an Allow whose Resource
 * names no backup bucket or vault is none. One line per action and statement, as before; a verdict resting on what
 * the plan does not show (an Action, Resource or document not known, a Condition) is open, never a line. Then the
 * attached managed policies (managedDestruction), read the same way (h39; every AWS managed policy of the snapshot, h40). `name`: the role's or
 * user's, for where a managed boundary comes from.
 */
export function destructiveGrants(permissions: Permissions, name: string, scratchPatterns: string[], storage: BackupStorage): Destruction {
    const { judged, attached } = withAwsManagedDocuments(permissions, name);
    const own = permissions.grants.map((grant) => grantDestruction(grant, judged, scratchPatterns, storage));
    const managed = managedDestruction(permissions, judged, attached, scratchPatterns, storage);
    return {
        lines: [...own.flatMap((f) => f.stands.map(({ what, where }) => `${what} (${where})`)), ...managed.lines],
        open: [...own.flatMap((f) => f.open), ...managed.open],
    };
}

/** One document's destructive grants: each that stands (what: the action, and for a scratch-only action where; the statement), and the open ones. */
interface GrantDestruction {
    stands: Array<{ what: string; where: string }>;
    open: string[];
}

/** The destructive grants of one document's Allow statements that stand among all the role's permissions (destructiveGrants). */
function grantDestruction(grant: Grant, permissions: Permissions, scratchPatterns: string[], storage: BackupStorage): GrantDestruction {
    const out: GrantDestruction = { stands: [], open: [] };
    const statements = statementsOf(grant.document);
    if (statements === UNKNOWN) {
        return out;
    }
    (statements ?? []).forEach((s) => {
        if (s.effect !== "Allow") {
            return;
        }
        const where = `${grant.where}${s.sid ? `, statement ${s.sid}` : ""}`;
        if ([...s.actions, ...(s.notActions ?? [])].some(isUnknownText)) {
            out.open.push(`${where} (its Action is not known: it may grant a destructive action)`);
            return;
        }
        for (const action of DESTRUCTIVE_ACTIONS.filter((a) => covers(s, a))) {
            const { arns, open } = candidateResources(s, action, storage);
            const judged = standing(permissions, s, action, arns);
            if (judged === true) {
                out.stands.push({ what: action, where });
            } else if (judged !== false || open.length > 0) {
                out.open.push(`${action} (${where}): ${[...(judged === false ? [] : judged), ...open].join("; ")}`);
            }
        }
        for (const action of SCRATCH_ONLY_ACTIONS.filter((a) => covers(s, a))) {
            const { shown, candidates, open } = beyondScratch(s, action, scratchPatterns, storage);
            const judged = standing(permissions, s, action, candidates);
            if (judged === true) {
                out.stands.push({ what: `${action} on ${shown}, not only the verification's scratch instances`, where });
            } else if (judged !== false || open.length > 0) {
                out.open.push(`${action} (${where}): ${[...(judged === false ? [] : judged), ...open].join("; ")}`);
            }
        }
    });
    return out;
}

/**
 * The permissions as the rule judges them (h39): each AWS managed policy whose document the pack knows (aws-managed.ts),
 * attached or as the permissions boundary, read as that document, so that a Deny or a boundary applies to what it
 * grants as to any other grant; `attached` are those documents of attached policies, by ARN. Any other managed
 * policy stays an ARN (not known).
 */
export function withAwsManagedDocuments(permissions: Permissions, name: string): { judged: Permissions; attached: Array<{ arn: string; grant: Grant }> } {
    const attached = [...new Set(permissions.managed)].flatMap((arn) => {
        const document = awsManagedDocument(arn);
        return document === undefined ? [] : [{ arn, grant: { document, where: `${arn} (attached)` } }];
    });
    const boundary = permissions.boundary !== undefined && "managed" in permissions.boundary ? permissions.boundary.managed : undefined;
    const boundaryDocument = boundary === undefined ? undefined : awsManagedDocument(boundary);
    const judged: Permissions = {
        ...permissions,
        grants: [...permissions.grants, ...attached.map((a) => a.grant)],
        managed: permissions.managed.filter((arn) => awsManagedDocument(arn) === undefined),
        ...(boundaryDocument !== undefined ? { boundary: { document: boundaryDocument, where: `${boundary} (permissionsBoundary of ${name})` } } : {}),
    };
    return { judged, attached };
}

/**
 * What the role's managed policies (attached, not declared in the stack) let it destroy. One the pack knows the document
 * of (an AWS managed policy of the snapshot, aws-managed.ts) is judged statement by statement among the role's
 * permissions (grantDestruction: its Denies, its boundary, the Resource): a full-access one (FULL_ACCESS_MANAGED) whose
 * grants nothing removes or leaves open is one line "everything ARN grants (attached)", as before h39; else the actions
 * whose grants stand, one line per statement, and the open ones. A policy of those names whose document is not known
 * (another account's): the line, as before. Since h40 any other policy whose document is not known (an AWS managed
 * policy the snapshot does not hold, a customer managed policy another stack or account declares) and a policy ARN not
 * known in the plan are open: each may grant a destructive action (they were passed silently).
 */
function managedDestruction(permissions: Permissions, judged: Permissions, attached: ReadonlyArray<{ arn: string; grant: Grant }>, scratchPatterns: string[], storage: BackupStorage): Destruction {
    const out: Destruction = { lines: [], open: [] };
    const fullAccess = (arn: string) => FULL_ACCESS_MANAGED.some((m) => arn.endsWith(`:policy/${m}`));
    for (const arn of [...new Set(permissions.managed)]) {
        const grant = attached.find((a) => a.arn === arn)?.grant;
        if (grant === undefined) {
            if (fullAccess(arn)) {
                out.lines.push(`everything ${arn} grants (attached)`);
            } else {
                const why = awsManagedName(arn) !== undefined ? `an AWS managed policy ${AWS_MANAGED_SOURCE} does not hold` : "a policy the stack does not declare";
                out.open.push(`the document of ${arn} (attached; ${why})`);
            }
            continue;
        }
        const found = grantDestruction(grant, judged, scratchPatterns, storage);
        const alone = grantDestruction(grant, { grants: [grant], managed: [], unknown: [] }, scratchPatterns, storage);
        if (fullAccess(arn) && found.stands.length > 0 && JSON.stringify(found) === JSON.stringify(alone)) {
            out.lines.push(`everything ${arn} grants (attached)`);
            continue;
        }
        // What is left of it, one line per statement: "backup:DeleteRecoveryPoint, kms:ScheduleKeyDeletion (ARN (attached))".
        for (const where of new Set(found.stands.map((f) => f.where))) {
            out.lines.push(`${found.stands.filter((f) => f.where === where).map((f) => f.what).join(", ")} (${where})`);
        }
        out.open.push(...found.open);
    }
    out.open.push(...permissions.unknown);
    return out;
}

/**
 * What an Allow of a scratch-only action (rds:DeleteDBInstance) names beyond the scratch instances: its patterns the
 * scratch patterns do not cover (shown as written; `*` is any instance), or every resource but its NotResource; and
 * the resources it is judged on: the stack's instances (clusters) those patterns reach, as candidateResources judges
 * the other RDS actions (h40), or, in a stack with none, one each. A pattern not known yet is judged as such (standing leaves it open).
 */
function beyondScratch(s: Statement, action: string, scratchPatterns: string[], storage: BackupStorage): { shown: string; candidates: string[]; open: string[] } {
    const outside = s.notResources === undefined ? s.resources.filter((r) => mayName(r, action) && !scratchPatterns.some((p) => globMatch(p, r))) : [];
    const shown = s.notResources !== undefined ? `every resource but ${s.notResources.join(", ")}` : outside.join(", ");
    const scratch = (arn: string) => scratchPatterns.some((p) => globMatch(p, arn));
    if ((storage.held[resourceType(action)] ?? []).length > 0) {
        if (s.notResources === undefined && outside.length === 0) {
            return { shown, candidates: [], open: [] };
        }
        const { arns, open } = candidateResources(s.notResources !== undefined ? s : { ...s, resources: outside }, action, storage);
        return { shown, candidates: arns.filter((arn) => !scratch(arn)), open };
    }
    if (s.notResources !== undefined) {
        return { shown, candidates: [resourceShape(action)], open: [] };
    }
    return { shown, candidates: outside.map((r) => (r === "*" ? resourceShape(action) : isUnknownText(r) ? r : instance(r))), open: [] };
}

/**
 * Whether the grant of `action` by statement `s` stands on one of the candidate resources the statement covers:
 * true, false, or what leaves it open (a Resource that cannot be matched, a Deny or boundary that may apply).
 */
function standing(permissions: Permissions, s: Statement, action: string, candidates: string[]): boolean | string[] {
    const open: string[] = [];
    for (const arn of [...new Set(candidates)]) {
        const target = { arn, service: action.split(":")[0] };
        const covered = statementResourceCovers(s, target);
        if (covered === "unknown") {
            open.push(isUnknownText(arn) ? "its Resource is not known" : `its Resource cannot be matched to ${arn}`);
            continue;
        }
        if (!covered) {
            continue;
        }
        const verdict = roleAllowsOn(permissions, action, target, () => undefined);
        if (verdict.verdict === "allowed") {
            return true;
        }
        if (verdict.verdict === "unknown") {
            open.push(...verdict.unknown.filter((u) => !u.startsWith("managed policy ")).map((u) => `on ${arn}: ${u}`));
        }
    }
    return open.length > 0 ? [...new Set(open)] : false;
}

/**
 * Per-object locks a role may set shorter than the table: s3:PutObjectRetention beside s3:PutObject lets it upload
 * with its own retain-until (S3 requires s3:PutObjectRetention for the Object Lock headers of a PutObject), which
 * overrides the bucket's default retention, so its backups can be locked one day unless the bucket's policy refuses
 * such locks below the row (the floor `s3-backup-object-lock` requires of production buckets: Deny to everyone
 * s3:PutObject with s3:object-lock-remaining-retention-days below it). One line per backup bucket and table prefix
 * it reaches without that floor. PutObjectRetention on a stored version cannot shorten a COMPLIANCE lock, nor a
 * GOVERNANCE one without s3:BypassGovernanceRetention (reported as destructive); s3:PutObjectLegalHold only adds
 * a hold or lifts one, never shortening a retention period, so it is not judged. Unknown documents: no line.
 */
export function shortLockGrants(grants: Grant[], index: StackIndex, settings: Settings, caller?: string): string[] {
    const allowed = grants.flatMap((grant) => {
        const statements = statementsOf(grant.document);
        return statements === UNKNOWN ? [] : (statements ?? []).filter((s) => s.effect === "Allow").map((s) => ({ s, where: `${grant.where}${s.sid ? `, statement ${s.sid}` : ""}` }));
    });
    const reaching = (action: string, object: string) => allowed.find(({ s }) => covers(s, action) && s.resources.some((r) => globMatch(r, object)));
    const lines: string[] = [];
    for (const group of index.buckets.values()) {
        if (!group.backup || typeof group.name !== "string" || group.name.includes("*")) {
            continue;
        }
        const documents = [...group.config.policy.map((r) => read(r.props, "policy")), group.bucket ? read(group.bucket.props, "policy") : undefined].filter((d) => d !== undefined && d !== null);
        const denials = lockDenials(documents, caller);
        if (denials === UNKNOWN) {
            continue;
        }
        for (const { row, required, floors, best } of lockFloorGaps(group, denials, settings)) {
            const object = `arn:aws:s3:::${group.name}/${row.bucketPrefix}backup`;
            const retention = reaching("s3:PutObjectRetention", object);
            if (retention && reaching("s3:PutObject", object)) {
                const floor = floors.length === 0 ? "refuses none" : `refuses only locks shorter than ${formatRetention(best, "days")}`;
                lines.push(`s3:PutObjectRetention with s3:PutObject on s3://${group.name}/${row.bucketPrefix} (${retention.where}): it can upload backups with a per-object lock shorter than the bucket's default retention, and the bucket's policy ${floor} below ${formatRetention(required, "days")} there (the retention table's ${row.dataType} row; Deny, Principal *, s3:PutObject with s3:object-lock-remaining-retention-days NumericLessThan ${required})`);
            }
        }
    }
    return lines;
}

/**
 * The IAM groups a user is a member of, as names and URNs: GroupMembership (`group`, `users: [...]`) and
 * UserGroupMembership (`user`, `groups: [...]`) that name it (by name or by dependency). A list that is not
 * known yet (a first preview) adds nothing: no verdict on what it would add.
 */
function groupsOf(user: StackResource, names: string[], resources: readonly StackResource[]): { names: Set<string>; urns: Set<string> } {
    const groups = { names: new Set<string>(), urns: new Set<string>() };
    const add = (r: StackResource, property: string, values: unknown[]) => {
        values.filter((v): v is string => typeof v === "string").forEach((v) => groups.names.add(v));
        (r.propertyDependencies?.[property] ?? []).forEach((d) => groups.urns.add(d.urn));
    };
    for (const r of resources) {
        if (r.type === "aws:iam/groupMembership:GroupMembership") {
            const users = readArray(r.props, "users");
            if (r.propertyDependencies?.users?.some((d) => d.urn === user.urn) || (users !== UNKNOWN && (users ?? []).some((u) => typeof u === "string" && names.includes(u)))) {
                add(r, "group", [read(r.props, "group")]);
            }
        } else if (r.type === "aws:iam/userGroupMembership:UserGroupMembership"
            && (r.propertyDependencies?.user?.some((d) => d.urn === user.urn) || names.includes(String(read(r.props, "user"))))) {
            const listed = readArray(r.props, "groups");
            add(r, "groups", listed === UNKNOWN ? [] : (listed ?? []));
        }
    }
    // A Group resource named by dependency: its name too (the policies may name it by name).
    for (const r of resources.filter((x) => x.type === "aws:iam/group:Group" && groups.urns.has(x.urn))) {
        [read(r.props, "name"), r.name].filter((n): n is string => typeof n === "string").forEach((n) => groups.names.add(n));
    }
    return groups;
}

/**
 * The permission documents of an IAM user (a backup writer's long-lived access key, as older programs and jobs
 * outside AWS use): UserPolicy resources, attached Policy resources (UserPolicyAttachment, the older
 * PolicyAttachment `users: [...]`) and managed policy ARNs; those of the IAM groups it is a member of
 * (GroupPolicy, GroupPolicyAttachment, PolicyAttachment `groups: [...]`: a group's policies are the member's);
 * its permissions boundary (`permissionsBoundary`, read as a role's, h39); and the statements of backup bucket
 * policies whose Allow names the user (`arn:aws:iam::ACCOUNT:user/[path/]NAME`).
 */
export function userGrantsOf(user: StackResource, resources: readonly StackResource[], bucketPolicies: readonly BucketPolicyDocument[]): Permissions {
    const names = [read(user.props, "name"), user.name].filter((n): n is string => typeof n === "string");
    const namesUser = (r: StackResource, property: string) => r.propertyDependencies?.[property]?.some((d) => d.urn === user.urn) || names.includes(String(read(r.props, property)));
    const groups = groupsOf(user, names, resources);
    const namesGroup = (r: StackResource, property: string) => r.propertyDependencies?.[property]?.some((d) => groups.urns.has(d.urn)) || groups.names.has(String(read(r.props, property)));
    const listsPrincipal = (r: StackResource, property: string, matches: (value: string) => boolean, byUrn: (urn: string) => boolean) => {
        const listed = readArray(r.props, property);
        return r.propertyDependencies?.[property]?.some((d) => byUrn(d.urn)) || (listed !== UNKNOWN && (listed ?? []).some((v) => typeof v === "string" && matches(v)));
    };
    const permissions: Permissions = { grants: [], managed: [], unknown: [] };
    // A user's permissions boundary bounds its own and its groups' policies, as a role's does (h39).
    const boundary = permissionsBoundary(user, resources);
    if (boundary !== undefined) {
        permissions.boundary = boundary;
    }
    const { grants } = permissions;
    const attach = (attachment: StackResource) => attachedPolicies(attachment, "policyArn", [read(attachment.props, "policyArn")], resources, permissions);
    for (const r of resources) {
        if (r.type === "aws:iam/userPolicy:UserPolicy" && namesUser(r, "user")) {
            grants.push({ document: read(r.props, "policy"), where: `UserPolicy ${r.name}` });
        } else if (r.type === "aws:iam/userPolicyAttachment:UserPolicyAttachment" && namesUser(r, "user")) {
            attach(r);
        } else if (r.type === "aws:iam/groupPolicy:GroupPolicy" && namesGroup(r, "group")) {
            grants.push({ document: read(r.props, "policy"), where: `GroupPolicy ${r.name} (group ${String(read(r.props, "group") ?? "?")})` });
        } else if (r.type === "aws:iam/groupPolicyAttachment:GroupPolicyAttachment" && namesGroup(r, "group")) {
            attach(r);
        } else if (r.type === "aws:iam/policyAttachment:PolicyAttachment") {
            if (listsPrincipal(r, "users", (u) => names.includes(u), (urn) => urn === user.urn)
                || listsPrincipal(r, "groups", (g) => groups.names.has(g), (urn) => groups.urns.has(urn))) {
                attach(r);
            }
        }
    }
    for (const { bucket, where, document } of bucketPolicies) {
        const statements = statementsOf(document);
        if (statements === UNKNOWN) {
            continue;
        }
        const naming = (statements ?? []).filter((st) => {
            const aws = read(st.principal, "AWS");
            const arns = (Array.isArray(aws) ? aws : [aws]).filter((a): a is string => typeof a === "string");
            return st.effect === "Allow" && arns.some((arn) => /^arn:aws[\w-]*:iam::\d{12}:user\//.test(arn) && names.includes(arn.split("/").pop()!));
        });
        if (naming.length > 0) {
            grants.push({ document: { Statement: naming.map((st) => ({ Sid: st.sid, Effect: st.effect, Action: st.actions, ...(st.notActions ? { NotAction: st.notActions } : {}), Resource: st.resources })) }, where: `the bucket policy of ${bucket} (${where})` });
        }
    }
    return permissions;
}

/**
 * The backup buckets a user's grants let it write to by name (s3:PutObject on the bucket's objects, not only on
 * `*`: a user whose grants name no backup bucket is taken as a person, whose reach the locks bound, not a writer).
 */
export function writesBackupBuckets(grants: Grant[], backupBuckets: string[]): string[] {
    const out = new Set<string>();
    for (const grant of grants) {
        const statements = statementsOf(grant.document);
        for (const s of statements === UNKNOWN ? [] : (statements ?? [])) {
            if (s.effect !== "Allow" || !covers(s, "s3:PutObject")) {
                continue;
            }
            for (const bucket of backupBuckets) {
                // The bucket part of an object ARN names it (a glob over names too: `acme-dumps-*`), but not every bucket.
                if (s.resources.some((r) => r.includes("/") && !/^arn:aws[\w-]*:s3:::\*$/.test(r.split("/")[0]) && globMatch(r.split("/")[0], `arn:aws:s3:::${bucket}`))) {
                    out.add(bucket);
                }
            }
        }
    }
    return [...out];
}

const VAULT_TYPES: readonly string[] = ["aws:backup/vault:Vault", "aws:backup/logicallyAirGappedVault:LogicallyAirGappedVault"];

/** The stack's backup buckets and AWS Backup vaults by name; not complete when one's name is not known (or only its prefix). */
export function backupStorage(index: StackIndex, resources: readonly StackResource[]): BackupStorage {
    const groups = [...index.buckets.values()].filter((g) => g.backup);
    const vaults = resources.filter((r) => VAULT_TYPES.includes(r.type)).map((r) => read(r.props, "name"));
    const named = (names: unknown[]) => names.filter((n): n is string => typeof n === "string" && !n.includes("*"));
    return {
        buckets: named(groups.map((g) => g.name)),
        vaults: named(vaults),
        complete: named(groups.map((g) => g.name)).length === groups.length && named(vaults).length === vaults.length,
        held: heldResources(resources),
    };
}

const KEY_TYPES: readonly string[] = ["aws:kms/key:Key", "aws:kms/replicaKey:ReplicaKey"];
const CLUSTER_TYPES: readonly string[] = [T.rdsCluster, T.docdbCluster, T.neptuneCluster];

/**
 * A held resource's ARN part from the name the program sets (`name`), or its prefix (`namePrefix`: AWS or the provider
 * adds the rest), or any name when neither is known; `suffix`: what AWS appends to every name (a secret's `-??????`).
 */
function heldByName(r: StackResource, type: string, kind: string, [nameKey, prefixKey]: [string, string], suffix = ""): HeldResource {
    const name = read(r.props, nameKey);
    const prefix = read(r.props, prefixKey);
    if (typeof name === "string") {
        return { part: `${type}${name}${suffix}`, what: `the stack's ${kind} ${name}${suffix ? " (its ARN ends in six random characters)" : ""}` };
    }
    if (typeof prefix === "string") {
        return { part: `${type}${prefix}*${suffix}`, what: `the stack's ${kind} ${r.name} (named ${prefix}…)` };
    }
    return { part: `${type}*${suffix}`, what: `the stack's ${kind} ${r.name} (its name is not known)` };
}

/**
 * The stack's backup-critical resources other than buckets and vaults, by the resource type of their ARN (h40): its
 * Secrets Manager secrets (the passphrase, the keys: `secret:NAME-??????`, Secrets Manager's random suffix), its KMS keys
 * (`key/ID`: IAM names a key by its key ARN only, never by an alias: KMS developer guide, "Specifying KMS keys in IAM
 * policy statements"), its DB instances and clusters (`db:ID`, `cluster:ID`), and, beside them, their snapshots and
 * retained automated backups and the recovery points of its vaults, whose names AWS or the job that takes them chooses
 * (any name of the type).
 */
function heldResources(resources: readonly StackResource[]): Record<string, HeldResource[]> {
    const of = (types: readonly string[]) => resources.filter((r) => types.includes(r.type));
    const instances = of([T.rdsInstance]).map((r) => heldByName(r, "db:", "DB instance", ["identifier", "identifierPrefix"]));
    const clusters = of(CLUSTER_TYPES).map((r) => heldByName(r, "cluster:", "cluster", ["clusterIdentifier", "clusterIdentifierPrefix"]));
    const vaults = of(VAULT_TYPES);
    const anyOf = (present: boolean, part: string, what: string): HeldResource[] => (present ? [{ part, what }] : []);
    return {
        secret: of([T.secret]).map((r) => heldByName(r, "secret:", "secret", ["name", "namePrefix"], "-??????")),
        // A key's id is AWS's, made when the key is created: an offline plan's keyId is the planner's stand-in, and a
        // policy naming the real key by its ARN would be judged against that stand-in and passed. Any id, then: a
        // grant naming one key is not judged (listed), never passed, beside a key of the stack.
        key: of(KEY_TYPES).map((r) => ({ part: "key/*", what: `the stack's KMS key ${r.name} (its id is AWS's, not known to the plan)` })),
        db: instances,
        cluster: clusters,
        snapshot: anyOf(instances.length > 0, "snapshot:*", "a snapshot of the stack's DB instances (its name is chosen when it is taken)"),
        "auto-backup": anyOf(instances.length > 0, "auto-backup:*", "the retained automated backups of the stack's DB instances (their id is generated)"),
        "cluster-snapshot": anyOf(clusters.length > 0, "cluster-snapshot:*", "a snapshot of the stack's clusters (its name is chosen when it is taken)"),
        "cluster-auto-backup": anyOf(clusters.length > 0, "cluster-auto-backup:*", "the retained automated backups of the stack's clusters (their id is generated)"),
        "recovery-point": anyOf(vaults.length > 0, "recovery-point:*", "a recovery point of the stack's vaults (its id is generated)"),
    };
}

export const backupJobRoleNoDestruction: StackValidationPolicy = {
    name: "backup-job-role-no-destruction",
    description: "No backup job role may delete object versions or recovery points, bypass governance retention, change a bucket's configuration, delete secrets or keys, or delete RDS instances other than the verification's scratch instances.",
    enforcementLevel: "mandatory",
    severity: "critical",
    configSchema: jobRoleSchema,
    validateStack: (args: StackValidationArgs, reportViolation) => {
        const config = configOf<JobRoleConfig>(jobRoleSchema, args);
        const settings = sharedSettings();
        const index = indexStack(args.resources, settings);
        const backupBuckets = [...index.buckets.values()].filter((g) => g.backup && typeof g.name === "string").map((g) => g.name as string);
        const bucketPolicies = backupBucketPolicies(index);
        const ownAccounts = productionAccounts(args.resources, []);
        const storage = backupStorage(index, args.resources);
        const anyBackupBucket = [...index.buckets.values()].some((g) => g.backup);
        const open: string[] = [];
        // What a writer (role or user) may destroy or shorten: each line names the action and the grant.
        const destructionLines = (permissions: Permissions, name: string) => {
            const found = destructiveGrants(permissions, name, config.scratchInstancePatterns, storage);
            open.push(...found.open.map((o) => `${name}: ${o}`));
            const shortLocks = shortLockGrants(permissions.grants, index, settings, name);
            return { lines: [...found.lines, ...shortLocks], shortLocks };
        };
        for (const role of args.resources.filter((r) => r.type === "aws:iam/role:Role")) {
            if (isWorkloadRole(role) !== true) {
                continue;
            }
            const tags = tagsOf(role);
            const tagged = config.jobRoleTags.find(({ key, value }) => tags[key] === value);
            const permissions = grantsOf(role, args.resources, bucketPolicies, ownAccounts);
            const name = principalName(role);
            // An attached AWS managed policy reaches the buckets its document names (AmazonS3FullAccess: every one; h40).
            const reach = tagged ? true : reachesBackupBuckets(withAwsManagedDocuments(permissions, name).judged.grants, backupBuckets, anyBackupBucket);
            if (reach !== true) {
                continue;
            }
            const why = tagged ? `tagged ${tagged.key}=${tagged.value}` : "its policies reach a backup bucket";
            const { lines, shortLocks } = destructionLines(permissions, name);
            if (lines.length > 0) {
                reportViolation(
                    `${name}: backup job role (${why}) may ${lines.join("; ")}; a backup job must not delete object versions, bypass governance retention${shortLocks.length > 0 ? ", lock what it writes shorter than the retention table" : ""} or change bucket configuration (give each job its own role with only what it needs)`,
                    role.urn,
                );
            }
        }
        // Backup writers that are IAM users (an access key in a cron job, a CI system outside AWS): the same rights.
        for (const user of args.resources.filter((r) => r.type === "aws:iam/user:User")) {
            const permissions = userGrantsOf(user, args.resources, bucketPolicies);
            const writes = writesBackupBuckets(permissions.grants, backupBuckets);
            if (writes.length === 0) {
                continue;
            }
            const name = principalName(user);
            const { lines, shortLocks } = destructionLines(permissions, name);
            if (lines.length > 0) {
                reportViolation(
                    `${name}: backup writer user (its policies write to backup bucket ${writes.join(", ")}) may ${lines.join("; ")}; a backup writer must not delete object versions, bypass governance retention${shortLocks.length > 0 ? ", lock what it writes shorter than the retention table" : ""} or change bucket configuration (give it only s3:PutObject, or run the job under a role)`,
                    user.urn,
                );
            }
        }
        if (open.length > 0) {
            notJudgedInPreview(args, open, "whether these grants let a backup job destroy or shorten backups: an Action, Resource, Condition or document the plan does not show");
        }
    },
};
