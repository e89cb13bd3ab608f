/**
 * The server's secrets in Secrets Manager, the "Secrets/Keys" row of the retention table (Critical):
 * each with a customer-managed key, a recovery window and a replica in the DR region, so a regional
 * failover finds them already there. Secrets Manager keeps no fixed number of versions; the 7 versions of
 * the table are kept by the secrets-export CronJob in the versioned `secrets/` prefix of the backup bucket.
 */
import * as pulumi from "@pulumi/pulumi";
import * as secretsmanager from "@pulumi/aws/secretsmanager";
import * as random from "@pulumi/random";
import { denyToAllBut } from "./deny-to-all-but";
import { customerManagedKey } from "./kms";

export const SECRET_NAMES = {
    jwkPrivateKey: "oauth2/jwk-private-key",
    dbCredentials: "oauth2/db-credentials",
    backupPassphrase: "oauth2/backup-passphrase",
} as const;
export type SecretKey = keyof typeof SECRET_NAMES;

export interface ServerSecretsArgs {
    drRegion: string;
    recoveryWindowDays: number;
    /** Generate the RDS master password here (other clouds' database components generate their own). */
    generateDbPassword?: boolean;
    accountId: pulumi.Input<string>;
    /** The deletion guards: only this role may delete the secrets, cut their replicas, re-policy them, or delete/disable their keys. */
    breakGlassRoleArn?: string;
    tags: Record<string, string>;
}

/** What the deletion guard of a secret denies to everyone but the break-glass role. */
export const SECRET_GUARDED_ACTIONS = [
    "secretsmanager:DeleteSecret",
    "secretsmanager:RemoveRegionsFromReplication",
    "secretsmanager:PutResourcePolicy",
    // Otherwise the guard itself could be removed.
    "secretsmanager:DeleteResourcePolicy",
    // A replica added in another region under a KMS key the stack does not control: that key's owner reads the
    // replica, or disables the key and the copy is lost. ReplicateSecretToRegions has no KMS key condition key
    // (Service Authorization Reference, "Actions, resources, and condition keys for AWS Secrets Manager": only
    // secretsmanager:AddReplicaRegions, the regions, and ForceOverwriteReplicaSecret), so it is denied whole, to
    // everyone but the break-glass role, as RemoveRegionsFromReplication is. The stack's own replicas are created
    // with the secret (CreateSecret with AddReplicaRegions), before this policy exists; a replica added later is a
    // break-glass change. The break-glass role itself can still replicate under any key: a residual route (the
    // compromise drill lists it), not refused.
    "secretsmanager:ReplicateSecretToRegions",
    // Detaching the DR replica: StopReplicationToReplica promotes the replica to a standalone secret (API Reference,
    // StopReplicationToReplica: "You must call this operation from the Region in which you want to promote the
    // replica"), so it is authorized on the replica, in the DR region. The replica carries this very policy:
    // "Secrets Manager replicates the encrypted secret data and metadata such as tags and resource policies across
    // the specified Regions" (Secrets Manager User Guide, "Replicate AWS Secrets Manager secrets across Regions"),
    // and "a replica secret can't be updated independently from its primary secret, except for its encryption key"
    // ("Promote a replica secret to a standalone secret"). Denied here, it is denied on the replica too.
    "secretsmanager:StopReplicationToReplica",
];

/**
 * A secret's resource policy that denies deleting it, removing its replicas or adding one, and changing or removing this very
 * policy to every principal but the break-glass role, and (with `kmsKeyArn`) re-keying it: an administrator
 * who may UpdateSecret to a KMS key they control, then delete that key, makes the secret unreadable without
 * deleting it. An explicit Deny in the resource policy applies to the account's administrators and root too;
 * `pulumi up` changes the policy only with the break-glass role.
 */
export function secretDeletionGuard(breakGlassRoleArn: string, kmsKeyArn?: string): string {
    return JSON.stringify({ Version: "2012-10-17", Statement: [secretGuardStatement(breakGlassRoleArn), ...(kmsKeyArn ? [secretRekeyGuardStatement(breakGlassRoleArn, kmsKeyArn)] : [])] });
}

/** The secret deletion guard's statement, for a policy that holds more statements. */
export function secretGuardStatement(breakGlassRoleArn: string) {
    return denyToAllBut("DenyDeletionExceptBreakGlass", SECRET_GUARDED_ACTIONS, breakGlassRoleArn);
}

/** What re-keys a secret's primary (CreateSecret names no key of an existing secret; ReplicateSecretToRegions, a replica's, is denied whole above). */
export const SECRET_REKEY_ACTIONS = ["secretsmanager:UpdateSecret"];

/**
 * Deny UpdateSecret naming any KMS key but the secret's own, to everyone but the break-glass role.
 * secretsmanager:KmsKeyId (String: the KmsKeyId of the request, as sent) is a condition key of UpdateSecret
 * (Service Authorization Reference, "Actions, resources, and condition keys for AWS Secrets Manager"); present
 * only when the request names a key, hence Null false (a negated operator is true when its key is absent, which
 * would deny every value update). Our program names the key by its ARN, as `kmsKeyArn` is; a request naming
 * the same key by id or alias is refused too (fail closed).
 */
export function secretRekeyGuardStatement(breakGlassRoleArn: pulumi.Input<string>, kmsKeyArn: pulumi.Input<string>) {
    const guard = denyToAllBut("DenyRekeyExceptBreakGlass", SECRET_REKEY_ACTIONS, breakGlassRoleArn);
    return {
        ...guard,
        Condition: {
            ...guard.Condition,
            StringNotEquals: { "secretsmanager:KmsKeyId": kmsKeyArn },
            Null: { "secretsmanager:KmsKeyId": "false" },
        },
    };
}

export class ServerSecrets extends pulumi.ComponentResource {
    readonly arns: Record<SecretKey, pulumi.Output<string>>;
    readonly kmsKeyArn: pulumi.Output<string>;
    readonly drKmsKeyArn: pulumi.Output<string>;
    /** Generated by @pulumi/random, secret in state and outputs (when generateDbPassword). */
    readonly dbMasterPassword?: pulumi.Output<string>;

    constructor(name: string, args: ServerSecretsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("oauth2-dr:secrets:ServerSecrets", name, {}, opts);
        const tags = { ...args.tags, "oauth2-dr/data-class": "secrets" };

        const key = customerManagedKey("oauth2-secrets", {
            description: "Secrets Manager secrets of the OAuth2 server",
            accountId: args.accountId,
            breakGlassRoleArn: args.breakGlassRoleArn,
            tags,
        }, this);
        const drKey = customerManagedKey("oauth2-secrets-dr", {
            description: "Replicas of the OAuth2 server's secrets in the DR region",
            region: args.drRegion,
            accountId: args.accountId,
            breakGlassRoleArn: args.breakGlassRoleArn,
            tags,
        }, this);

        const secret = (id: SecretKey, description: string) => {
            const declared = new secretsmanager.Secret(SECRET_NAMES[id], {
                name: SECRET_NAMES[id],
                description,
                kmsKeyId: key.arn,
                recoveryWindowInDays: args.recoveryWindowDays,
                replicas: [{ region: args.drRegion, kmsKeyId: drKey.arn }],
                forceOverwriteReplicaSecret: false,
                tags,
            }, { parent: this, protect: true });
            const breakGlass = args.breakGlassRoleArn;
            if (breakGlass) {
                new secretsmanager.SecretPolicy(`${SECRET_NAMES[id]}-guard`, {
                    secretArn: declared.arn,
                    policy: key.arn.apply((arn) => secretDeletionGuard(breakGlass, arn)),
                    blockPublicPolicy: true,
                }, { parent: this });
            }
            return declared;
        };

        // The signing key is written by the server's key rotation; declaring the secret gives it the key,
        // replica and recovery window, and the rotation adds versions that secrets-export backs up.
        const jwk = secret("jwkPrivateKey", "Private JWK set the authorization server signs tokens with");
        const db = secret("dbCredentials", "Master credentials and endpoint of oauth2-postgres");
        const passphrase = secret("backupPassphrase", "Passphrase of the gpg-encrypted backups (pg_dump, secret exports)");

        if (args.generateDbPassword ?? true) {
            // RDS rejects '/', '@', '"' and spaces in master passwords.
            const dbPassword = new random.RandomPassword("oauth2-db-master-password", {
                length: 40,
                special: true,
                overrideSpecial: "!#$%^&*()-_=+[]{}<>:?",
            }, { parent: this });
            this.dbMasterPassword = pulumi.secret(dbPassword.result);
        }
        const backupPassphrase = new random.RandomPassword("oauth2-backup-passphrase", {
            length: 64,
            special: false,
        }, { parent: this });
        new secretsmanager.SecretVersion("oauth2-backup-passphrase", {
            secretId: passphrase.id,
            secretString: backupPassphrase.result,
        }, { parent: this });

        this.arns = { jwkPrivateKey: jwk.arn, dbCredentials: db.arn, backupPassphrase: passphrase.arn };
        this.kmsKeyArn = key.arn;
        this.drKmsKeyArn = drKey.arn;
        this.registerOutputs({ arns: this.arns, kmsKeyArn: this.kmsKeyArn });
    }
}
