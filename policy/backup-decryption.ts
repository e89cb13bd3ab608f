/**
 * `backup-writer-cannot-decrypt` (mandatory, production only): a role that writes backups may not read what
 * decrypts them ("writers cannot read", the 3-2-1-1-0 rule; issue 23). A backup writer is a backup job role
 * (as `backup-job-role-no-destruction` recognises it: a workload role, tagged or reaching a backup bucket)
 * whose policies allow s3:PutObject; and an IAM user whose policies (its own and its groups') allow s3:PutObject
 * on a backup bucket it names, as `backup-job-role-no-destruction` recognises writer users. The decryption material is a Secrets Manager secret whose ARN or name
 * matches `decryptionSecrets` (default: the symmetric passphrase `*backup-passphrase*` and the private keys
 * `*backup-private-keys*`). The writer may not be allowed secretsmanager:GetSecretValue on such a secret, nor
 * on `*` (every secret). A role that only reads is not a writer and is not judged; one that also writes
 * (our restore verification writes its records under database/verifications/) is, so it decrypts through a
 * role of the vault account (sts:AssumeRole), not by reading a secret of the production account. Outside production a symmetric passphrase is allowed (staging, development): not judged. Unknown
 * documents or resources (a first preview) give no verdict.
 */
import { StackValidationArgs, StackValidationPolicy } from "@pulumi/policy";
import { configOf, globMatch, isProduction } from "./config";
import { backupBucketPolicies, Grant, grantsOf, isWorkloadRole, JOB_ROLE_TAGS_PROPERTY, userGrantsOf, withAwsManagedDocuments, writesBackupBuckets } from "./backup-job-roles";
import { productionAccounts } from "./isolated-copy";
import { covers, statementsOf } from "./iam-documents";
import { indexStack, tagsOf } from "./resources";
import { sharedSettings } from "./settings";
import { read, UNKNOWN } from "./unknowns";
import { UNKNOWN_SENTINELS } from "./sentinels";

const schema = {
    properties: {
        jobRoleTags: JOB_ROLE_TAGS_PROPERTY,
        decryptionSecrets: {
            type: "array" as const,
            items: { type: "string" as const },
            default: ["*backup-passphrase*", "*backup-private-keys*"],
            description: "Globs of Secrets Manager secret ARNs or names that decrypt the backups (passphrases, private keys).",
        },
    },
};

interface Config {
    jobRoleTags: Array<{ key: string; value: string }>;
    decryptionSecrets: string[];
}

const unknownText = (value: string) => [...UNKNOWN_SENTINELS].some((s) => value.includes(s));

/**
 * What of the decryption material a statement's resource reaches: `*`, a secret matching `decryptionSecrets`,
 * or a wildcard ARN (`arn:aws:secretsmanager:eu-west-1:111122223333:secret:ledger/*`, `...:secret:*`) that
 * covers a declared decryption secret or any name the globs describe. Each is shown as the resource, with the
 * secret it covers for a wildcard.
 */
function materialIn(resource: string, globs: string[], declared: Array<{ arn?: string; name?: string }>): string[] {
    if (resource === "*" || globs.some((g) => globMatch(g, resource))) {
        return [resource];
    }
    if (!resource.includes("*")) {
        return [];
    }
    // IAM's `?` is one character; globMatch knows `*` only, which is wider and so never misses a secret.
    const pattern = resource.replace(/\?/g, "*");
    const namePart = /:secret:(.*)$/.exec(pattern)?.[1];
    const covered = declared.filter((d) => (d.arn !== undefined && globMatch(pattern, d.arn)) || (d.name !== undefined && namePart !== undefined && globMatch(namePart, d.name)));
    if (covered.length > 0) {
        return [`${resource} (covers ${covered.map((d) => d.name ?? d.arn).join(", ")})`];
    }
    // Undeclared secrets: the name part alone would match a name the globs describe (`*backup-passphrase*`).
    const samples = globs.map((g) => g.replace(/\*/g, ""));
    return namePart !== undefined && samples.some((n) => globMatch(namePart, n) || globMatch(namePart, `${n}-AbCdEf`)) ? [resource] : [];
}

export const backupWriterCannotDecrypt: StackValidationPolicy = {
    name: "backup-writer-cannot-decrypt",
    description: "In production, a role that writes backups may not read the material that decrypts them (the backup passphrase, the private keys): writers cannot read.",
    enforcementLevel: "mandatory",
    severity: "critical",
    configSchema: schema,
    validateStack: (args: StackValidationArgs, reportViolation) => {
        const config = configOf<Config>(schema, args);
        const settings = sharedSettings();
        const index = indexStack(args.resources, settings);
        const backupBuckets = [...index.buckets.values()].filter((g) => g.backup && typeof g.name === "string").map((g) => g.name as string);
        const bucketPolicies = backupBucketPolicies(index);
        const ownAccounts = productionAccounts(args.resources, []);
        // The decryption secrets the program declares (ARN and name), which a wildcard resource may cover.
        const declared = args.resources
            .filter((r) => r.type === "aws:secretsmanager/secret:Secret")
            .map((r) => ({ arn: read(r.props, "arn"), name: read(r.props, "name") }))
            .map((d) => ({ arn: typeof d.arn === "string" && !unknownText(d.arn) ? d.arn : undefined, name: typeof d.name === "string" && !unknownText(d.name) ? d.name : undefined }))
            .filter((d) => [d.arn, d.name].some((v) => v !== undefined && config.decryptionSecrets.some((g) => globMatch(g, v))));
        // The decryption material a writer's grants let it read: one line per statement.
        const decryptionReads = (grants: Grant[]): string[] => {
            const reads: string[] = [];
            for (const grant of grants) {
                const statements = statementsOf(grant.document);
                for (const s of statements === UNKNOWN ? [] : (statements ?? []).filter((x) => x.effect === "Allow" && covers(x, "secretsmanager:GetSecretValue"))) {
                    const material = s.resources.filter((r) => !unknownText(r)).flatMap((r) => materialIn(r, config.decryptionSecrets, declared));
                    if (material.length > 0) {
                        reads.push(`secretsmanager:GetSecretValue on ${material.join(", ")} (${grant.where}${s.sid ? `, statement ${s.sid}` : ""})`);
                    }
                }
            }
            return reads;
        };
        const advice = "a writer must not be able to decrypt what it wrote (encrypt to public keys, backupEncryption mode public-key, and keep the private keys in the vault account)";
        for (const role of args.resources.filter((r) => r.type === "aws:iam/role:Role")) {
            const tags = tagsOf(role);
            if (isWorkloadRole(role) !== true || !isProduction(tags, args.stackTags, settings)) {
                continue;
            }
            const roleName = read(role.props, "name");
            const name = typeof roleName === "string" ? roleName : role.name;
            // With the documents of attached AWS managed policies (AmazonS3FullAccess writes, SecretsManagerReadWrite reads; h40).
            const { grants } = withAwsManagedDocuments(grantsOf(role, args.resources, bucketPolicies, ownAccounts), name).judged;
            const tagged = config.jobRoleTags.some(({ key, value }) => tags[key] === value);
            const writes = grants.some((grant) => {
                const statements = statementsOf(grant.document);
                return statements !== UNKNOWN && (statements ?? []).some((s) => s.effect === "Allow" && covers(s, "s3:PutObject")
                    && (tagged || s.resources.some((r) => r === "*" || backupBuckets.some((b) => globMatch(r.split("/")[0], `arn:aws:s3:::${b}`)))));
            });
            const reads = writes ? decryptionReads(grants) : [];
            if (reads.length > 0) {
                reportViolation(`${name}: backup writer (s3:PutObject on backup storage) may read backup decryption material: ${reads.join("; ")}; ${advice}`, role.urn);
            }
        }
        // Backup writers that are IAM users (an access key in a cron job, a CI system outside AWS), with their
        // groups' policies: recognised as backup-job-role-no-destruction does (s3:PutObject on a backup bucket
        // named in the resource), judged like a role. Production: the user's tags, the stack's, or a production
        // bucket it writes to.
        for (const user of args.resources.filter((r) => r.type === "aws:iam/user:User")) {
            const userName = read(user.props, "name");
            const name = typeof userName === "string" ? userName : user.name;
            const { grants } = withAwsManagedDocuments(userGrantsOf(user, args.resources, bucketPolicies), name).judged;
            const writes = writesBackupBuckets(grants, backupBuckets);
            const production = isProduction(tagsOf(user), args.stackTags, settings)
                || [...index.buckets.values()].some((g) => typeof g.name === "string" && writes.includes(g.name) && g.bucket !== undefined && isProduction(tagsOf(g.bucket), args.stackTags, settings));
            const reads = writes.length > 0 && production ? decryptionReads(grants) : [];
            if (reads.length > 0) {
                reportViolation(
                    `${name}: backup writer user (its policies write to backup bucket ${writes.join(", ")}) may read backup decryption material: ${reads.join("; ")}; ${advice}`,
                    user.urn,
                );
            }
        }
    },
};
