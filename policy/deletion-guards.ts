/**
 * `deletion-guards-secrets-and-keys` (mandatory): in production, the table's Critical secrets (named oauth2/*
 * by default) and every customer-managed KMS key carry a deletion guard that an administrator credential of
 * the account cannot get around:
 *  - a secret's resource policy (aws.secretsmanager.SecretPolicy, or the secret's inline `policy`) denies
 *    secretsmanager:DeleteSecret, RemoveRegionsFromReplication, PutResourcePolicy and DeleteResourcePolicy to everyone but a named
 *    break-glass role (a condition on aws:PrincipalArn), and secretsmanager:UpdateSecret naming another KMS key
 *    (a re-key to a key the administrator controls, then that key's deletion, loses the secret just as well),
 *    and secretsmanager:ReplicateSecretToRegions (a replica under a key the stack does not control: no KMS key
 *    condition key exists for it, so it is denied whole), and secretsmanager:StopReplicationToReplica (detaching the DR
 *    replica: called on the replica, which carries the primary's policy);
 *  - a key's policy (its `policy`, or an aws.kms.KeyPolicy) denies kms:ScheduleKeyDeletion and kms:DisableKey
 *    the same way.
 * An explicit Deny wins over every Allow of the account, root included. Deleting the passphrase or the keys
 * makes every backup unreadable, so without a guard a production credential destroys the backups without
 * touching them.
 */
import { StackValidationArgs, StackValidationPolicy } from "@pulumi/policy";
import { configOf, globMatch, isProduction } from "./config";
import { covers, denyConditions, isEveryone, notPrincipalException, showCondition, statementsOfAll } from "./iam-documents";
import { StackResource, tagsOf } from "./resources";
import { criticalSecret, criticalSecretSchema } from "./secrets";
import { sharedSettings } from "./settings";
import { notJudgedInPreview, read, UNKNOWN } from "./unknowns";

// DeleteResourcePolicy too: an administrator who may delete the secret's policy removes the guard, then deletes the secret.
export const SECRET_GUARD_ACTIONS = ["secretsmanager:DeleteSecret", "secretsmanager:RemoveRegionsFromReplication", "secretsmanager:PutResourcePolicy", "secretsmanager:DeleteResourcePolicy"];
export const KEY_GUARD_ACTIONS = ["kms:ScheduleKeyDeletion", "kms:DisableKey"];

/**
 * Re-keying: an administrator who may UpdateSecret the secret to a KMS key they control, then schedule that
 * key's deletion, makes the secret unreadable without deleting it. The guard denies UpdateSecret to everyone but
 * the break-glass role; it may be narrowed to requests that name another key (secretsmanager:KmsKeyId or
 * KmsKeyArn, condition keys of UpdateSecret in the Service Authorization Reference: StringNotEquals/ArnNotEquals
 * the secret's key, and Null false), so that value updates stay allowed.
 */
export const SECRET_REKEY_ACTIONS = ["secretsmanager:UpdateSecret"];

/**
 * A replica under another key: an administrator who may ReplicateSecretToRegions adds a replica in a region of
 * their choice encrypted with a KMS key the stack does not control; that key's owner reads the replica, or
 * disables the key. ReplicateSecretToRegions has no KMS key condition key (Service Authorization Reference: its
 * condition keys are the tags, secretsmanager:AddReplicaRegions, the regions, ForceOverwriteReplicaSecret,
 * SecretId, SecretPrimaryRegion, resource/Type, resource/AllowRotationLambdaArn), so no narrowing keeps it safe:
 * the guard must deny it to everyone but the break-glass role. What remains, the break-glass role replicating
 * under any key, is a residual route (docs/runbook.md; the compromise drill lists it).
 */
export const SECRET_REPLICATE_ACTIONS = ["secretsmanager:ReplicateSecretToRegions"];

/**
 * Detaching the DR replica: StopReplicationToReplica promotes a replica to a standalone secret, which no longer
 * receives the primary's versions (Secrets Manager User Guide, "Promote a replica secret to a standalone secret").
 * It is called in the replica's region, on the replica (API Reference, StopReplicationToReplica), whose resource
 * policy is the primary's: "Secrets Manager replicates the encrypted secret data and metadata such as tags and
 * resource policies across the specified Regions" ("Replicate AWS Secrets Manager secrets across Regions"). So the
 * primary's guard must deny it to everyone but the break-glass role, which keeps it for a regional failover.
 */
export const SECRET_DETACH_ACTIONS = ["secretsmanager:StopReplicationToReplica"];

/** A narrowing condition a guard may carry: (operator, key, value as written). */
type Tolerated = (operator: string, key: string, value: unknown) => boolean;

const rekeyConditions: Tolerated = (operator, key, value) => {
    if (!["secretsmanager:kmskeyid", "secretsmanager:kmskeyarn"].includes(key.toLowerCase())) {
        return false;
    }
    if (operator === "Null") {
        return value === "false";
    }
    // One key, named exactly: a list or a pattern spares re-keying to every other key it names or matches.
    const keys = Array.isArray(value) ? value : [value];
    return /^(StringNotEquals|StringNotLike|ArnNotEquals|ArnNotLike)(IfExists)?$/.test(operator) && keys.length === 1 && typeof keys[0] === "string" && !/[*?]/.test(keys[0]);
};

const T = {
    secret: "aws:secretsmanager/secret:Secret",
    secretPolicy: "aws:secretsmanager/secretPolicy:SecretPolicy",
    key: "aws:kms/key:Key",
    keyPolicy: "aws:kms/keyPolicy:KeyPolicy",
};

const guardSchema = {
    properties: {
        ...criticalSecretSchema.properties,
        breakGlassRoleArns: {
            type: "array" as const,
            items: { type: "string" as const },
            default: [],
            description: "The break-glass roles a guard may spare (ARN globs). Empty: any role named in the guard's aws:PrincipalArn condition is taken as the break-glass role.",
        },
    },
};

interface GuardConfig {
    criticalSecretNames: string[];
    breakGlassRoleArns: string[];
}

/**
 * What a set of statements leaves unguarded of `actions`: the actions no Deny-to-everyone statement covers
 * with a break-glass exception. UNKNOWN when a document is not known yet.
 */
export function unguarded(documents: unknown[], actions: string[], breakGlass: string[], tolerated: Tolerated = () => false): { missing: string[]; note?: string } | typeof UNKNOWN {
    const statements = statementsOfAll(documents);
    if (statements === UNKNOWN) {
        return UNKNOWN;
    }
    // Everyone: Principal `*`, or NotPrincipal (everyone but whom it names; `*` there spares everyone: no Deny).
    const denials = statements.filter((s) => s.effect === "Deny" && (s.notPrincipal !== undefined ? !notPrincipalException(s.notPrincipal).everyone : isEveryone(s.principal)));
    let note: string | undefined;
    const missing = actions.filter((action) => {
        const guards = denials.filter((s) => covers(s, action));
        if (guards.length === 0) {
            return true;
        }
        // Each guard: sound (spares only the break-glass role, nothing else narrows it), a lock-out (spares
        // nobody, unconditionally), or hollow (a credential of the account can get around it: why).
        const verdicts = guards.map((s): { sound: true } | { sound: false; lockout?: true; why: string } => {
            const conditions = denyConditions(s.condition);
            const { patterns } = conditions;
            // NotPrincipal spares whom it names, as AWS reads it; an aws:PrincipalArn exception spares more.
            const exception = s.notPrincipal !== undefined ? notPrincipalException(s.notPrincipal) : undefined;
            const spared = exception ? [...exception.spared, ...(conditions.spared ?? [])] : conditions.spared;
            // A condition the guard needs (the re-key guard's KmsKeyId) is no narrowing an administrator walks around.
            const narrowing = conditions.narrowing.filter((n) => !tolerated(n.operator, n.key, n.value));
            const where = s.sid ? `statement ${s.sid}: ` : "";
            if (narrowing.length > 0) {
                return { sound: false, why: `${where}the Deny applies only when ${narrowing.map(showCondition).join(" and ")} holds, so a credential that does not meet it is not denied` };
            }
            if (exception && exception.unspared.length > 0) {
                // The exception does not spare whom it means to: the break-glass role is locked out with the rest.
                return { sound: false, lockout: spared === undefined || spared.length === 0 ? true : undefined, why: `${where}${exception.unspared.join("; ")}; the exception must name the role, its session and its account, or use ArnNotEquals aws:PrincipalArn (AWS's advice), which spares the role in every session` };
            }
            // A service principal spared by NotPrincipal is no one who can act as a break-glass role.
            if (spared === undefined || !spared.some((arn) => /^arn:aws[\w-]*:(iam|sts)::/.test(arn) || !exception)) {
                return { sound: false, lockout: true, why: "a Deny without a break-glass exception (aws:PrincipalArn) locks everyone out for good" };
            }
            if (breakGlass.length > 0) {
                const others = spared.filter((arn) => !breakGlass.some((pattern) => globMatch(pattern, arn)));
                if (others.length > 0) {
                    // NotPrincipal needs the account's ARN beside the role, and that ARN spares the account's root user.
                    const root = exception ? others.filter((arn) => /:root$/.test(arn)) : [];
                    const rootNote = root.length > 0 ? ` (${root.join(", ")}: the account's root user, whom NotPrincipal spares because the exception must name the account; ArnNotEquals aws:PrincipalArn spares only the role)` : "";
                    return { sound: false, why: `${where}the exception names ${exception ? `principals (${others.join(", ")})` : "roles"} other than the break-glass roles (${breakGlass.join(", ")})${rootNote}` };
                }
            } else if (patterns.length > 0) {
                return { sound: false, why: `${where}the exception aws:PrincipalArn ${patterns.join(", ")} is a pattern: it spares every principal it matches, and an administrator can create a role that matches it (name the break-glass role exactly, or list the pattern in breakGlassRoleArns)` };
            }
            return { sound: true };
        });
        const lockout = verdicts.find((v) => !v.sound && v.lockout);
        if (lockout && !lockout.sound) {
            note = lockout.why;
            return true;
        }
        if (verdicts.some((v) => v.sound)) {
            return false;
        }
        const hollow = verdicts.find((v) => !v.sound);
        note = hollow && !hollow.sound ? hollow.why : note;
        return true;
    });
    return { missing, note };
}

/**
 * The documents attached to `target` by `attachments` (the stack's resources of one attaching type, found once
 * per stack: filtering every resource again for each secret and key made the policy quadratic in the stack's
 * size) whose `property` names it (dependency or value).
 */
function attached(attachments: readonly StackResource[], property: string, target: StackResource, names: unknown[]): { document: unknown; source: string }[] {
    return attachments
        .filter((r) => {
            if (r.propertyDependencies?.[property]?.some((d) => d.urn === target.urn)) {
                return true;
            }
            const value = read(r.props, property);
            return typeof value === "string" && names.some((n) => typeof n === "string" && n !== "" && (value === n || value.includes(`:secret:${n}-`) || value.endsWith(`:key/${n}`)));
        })
        .map((r) => ({ document: read(r.props, "policy"), source: `${r.name} (${r.type.split(":").pop()})` }));
}

/**
 * The guard of a resource whose policy may be declared twice: inline and by a separate resource (KeyPolicy,
 * SecretPolicy). Each sets the whole policy, so whichever the provider applies last replaces the other: each
 * must guard on its own. The first one that does not, with its source when there are several.
 */
export function unguardedPolicies(documents: { document: unknown; source: string }[], actions: string[], breakGlass: string[], tolerated?: Tolerated): { missing: string[]; note?: string } | typeof UNKNOWN {
    if (documents.length <= 1) {
        return unguarded(documents.map((d) => d.document), actions, breakGlass, tolerated);
    }
    let unknown = false;
    for (const { document, source } of documents) {
        const result = unguarded([document], actions, breakGlass, tolerated);
        if (result === UNKNOWN) {
            unknown = true;
        } else if (result.missing.length > 0) {
            const replaces = `${source} replaces ${documents.filter((d) => d.source !== source).map((d) => d.source).join(", ")} (each sets the whole policy): each must guard`;
            return { missing: result.missing, note: result.note ? `${result.note}; ${replaces}` : replaces };
        }
    }
    return unknown ? UNKNOWN : { missing: [] };
}

function describe(missing: string[], note: string | undefined): string {
    return `${missing.join(", ")} ${missing.length === 1 ? "is" : "are"} not denied to everyone but a break-glass role${note ? ` (${note})` : ""}`;
}

/**
 * The guards a production secret's resource policy needs beyond SECRET_GUARD_ACTIONS, each judged on its own
 * (only once the secret has a policy: without one, the first violation names them all, by withoutPolicy), in the
 * order reported: the actions, the narrowing a Deny may carry and still count, and why, as the violation says it.
 */
const SECRET_FURTHER_GUARDS: { actions: string[]; tolerated?: Tolerated; why: string; withoutPolicy: string }[] = [
    {
        actions: SECRET_REPLICATE_ACTIONS,
        withoutPolicy: "secretsmanager:ReplicateSecretToRegions (no KMS key condition key: denied whole)",
        why: ": an administrator adds a replica in another region under a KMS key the stack does not control, whose owner then reads the secret or disables the key; ReplicateSecretToRegions has no KMS key condition key (only the regions, secretsmanager:AddReplicaRegions), so the guard must deny it to everyone but a named break-glass role, without another condition (declared replicas are created with the secret; adding one later is a break-glass change)",
    },
    {
        actions: SECRET_DETACH_ACTIONS,
        withoutPolicy: "secretsmanager:StopReplicationToReplica",
        why: ": an administrator detaches the DR region's replica (StopReplicationToReplica, called on the replica, which carries this policy), which then stops receiving the primary's versions; the guard must deny it to everyone but a named break-glass role",
    },
    {
        actions: SECRET_REKEY_ACTIONS,
        tolerated: rekeyConditions,
        withoutPolicy: "secretsmanager:UpdateSecret naming another KMS key",
        why: " when it names another KMS key: an administrator re-keys it to a key they control (UpdateSecret KmsKeyId), then deletes that key, and the secret is unreadable; the guard must deny secretsmanager:UpdateSecret when secretsmanager:KmsKeyId is present (Null false) and not the secret's own key (StringNotEquals), to everyone but a named break-glass role",
    },
];

export const deletionGuards: StackValidationPolicy = {
    name: "deletion-guards-secrets-and-keys",
    description: "In production, Critical secrets deny DeleteSecret, RemoveRegionsFromReplication, PutResourcePolicy, DeleteResourcePolicy, ReplicateSecretToRegions, StopReplicationToReplica and UpdateSecret to another KMS key, and KMS keys deny ScheduleKeyDeletion and DisableKey, to everyone but a named break-glass role.",
    enforcementLevel: "mandatory",
    severity: "critical",
    configSchema: guardSchema,
    validateStack: (args: StackValidationArgs, reportViolation) => {
        const config = configOf<GuardConfig>(guardSchema, args);
        const settings = sharedSettings();
        const secretPolicies = args.resources.filter((r) => r.type === T.secretPolicy);
        const keyPolicies = args.resources.filter((r) => r.type === T.keyPolicy);
        // Production secrets whose name (so whether they are Critical) is unknown and that are not guarded: listed.
        const unresolved: string[] = [];
        for (const secret of args.resources.filter((r) => r.type === T.secret)) {
            const critical = criticalSecret(secret.props, secret.name, config.criticalSecretNames);
            if (!isProduction(tagsOf(secret), args.stackTags, settings) || critical === false) {
                continue;
            }
            const report = critical === UNKNOWN ? () => void unresolved.push(`${secret.name} name`) : reportViolation;
            const name = read(secret.props, "name");
            const documents = [{ document: read(secret.props, "policy"), source: `${secret.name}.policy` }, ...attached(secretPolicies, "secretArn", secret, [name])].filter((d) => d.document !== undefined);
            const result = unguardedPolicies(documents, SECRET_GUARD_ACTIONS, config.breakGlassRoleArns);
            const label = typeof name === "string" ? name : secret.name;
            if (result !== UNKNOWN && result.missing.length > 0) {
                const what = documents.length === 0 ? "has no resource policy (aws.secretsmanager.SecretPolicy)" : `has a resource policy where ${describe(result.missing, result.note)}`;
                report(`${label}: production secret ${what}; a deletion guard must deny ${SECRET_GUARD_ACTIONS.join(", ")} to everyone but a named break-glass role${documents.length === 0 ? `, and ${SECRET_FURTHER_GUARDS.map((g) => g.withoutPolicy).join(", ")}` : ""}`, secret.urn);
            }
            for (const guard of SECRET_FURTHER_GUARDS) {
                const found = documents.length === 0 ? UNKNOWN : unguardedPolicies(documents, guard.actions, config.breakGlassRoleArns, guard.tolerated);
                if (found !== UNKNOWN && found.missing.length > 0) {
                    report(`${label}: production secret has a resource policy where ${describe(found.missing, found.note)}${guard.why}`, secret.urn);
                }
            }
        }
        for (const key of args.resources.filter((r) => r.type === T.key)) {
            if (!isProduction(tagsOf(key), args.stackTags, settings)) {
                continue;
            }
            const documents = [{ document: read(key.props, "policy"), source: `${key.name}.policy` }, ...attached(keyPolicies, "keyId", key, [])].filter((d) => d.document !== undefined);
            const result = unguardedPolicies(documents, KEY_GUARD_ACTIONS, config.breakGlassRoleArns);
            if (result !== UNKNOWN && result.missing.length > 0) {
                const what = documents.length === 0 ? "has the default key policy (no policy)" : `has a key policy where ${describe(result.missing, result.note)}`;
                reportViolation(`${key.name}: production KMS key ${what}; a deletion guard must deny ${KEY_GUARD_ACTIONS.join(", ")} to everyone but a named break-glass role`, key.urn);
            }
        }
        if (unresolved.length > 0) {
            notJudgedInPreview(args, [...new Set(unresolved)], `whether these production secrets are Critical (criticalSecretNames ${config.criticalSecretNames.join(", ")}) and so need a deletion guard, which their policies lack`);
        }
    },
};
