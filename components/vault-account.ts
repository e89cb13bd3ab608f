/**
 * The vault account (stack role `vault`): the copies that no production credential can delete, shorten or
 * read. In its own AWS account, through its own provider (which refuses credentials of any other account):
 *  - a backup bucket with Object Lock in COMPLIANCE mode and its own KMS key, whose policy accepts writes
 *    only from prod's and dr's S3 replication roles (replicas owned by this account) and denies every
 *    deletion of a version; replicated (same account) into a locked bucket in the second region;
 *  - an AWS Backup logically air-gapped vault (or, where a region lacks it, a vault with a compliance vault
 *    lock) that receives the cross-account copies of prod's RDS recovery points;
 *  - the Secrets Manager secret that holds the backups' private decryption keys, read only by the vault's
 *    restore roles and the verification key-reader role; its value is put by the key custodians, never by
 *    Pulumi (no private key in any state);
 *    (replicated into the second region, with its own key there);
 *  - the verification key-reader role (`oauth2-dr-verification-keys`): prod's and dr's monthly restore
 *    verification (their IRSA roles, named in `verificationRoleArns`, and nobody else) assume it to read that
 *    one secret and decrypt it with its key, so the verification proves the private keys decrypt the dumps
 *    while no writer, and no production administrator, can read them.
 */
import * as pulumi from "@pulumi/pulumi";
import { Provider } from "@pulumi/aws/provider";
import * as backup from "@pulumi/aws/backup";
import * as secretsmanager from "@pulumi/aws/secretsmanager";
import * as iam from "@pulumi/aws/iam";
import type { Retention } from "../lib/retention";
import { backupBucketName } from "../lib/names";
import { BackupBucket, ObjectLock } from "./backup-bucket";
import { BucketReplication } from "./bucket-replication";
import { customerManagedKey } from "./kms";
import { denyToAllBut } from "./deny-to-all-but";
import { secretGuardStatement, secretRekeyGuardStatement } from "./secrets";

/** The secret of the vault account that holds the backups' private keys (armored gpg secret keys). */
export const PRIVATE_KEYS_SECRET_NAME = "oauth2-dr/backup-private-keys";
export const ISOLATED_VAULT_NAME = "oauth2-dr-isolated";
/** The vault account's role that prod's and dr's restore verification assume to read the private keys. */
export const VERIFICATION_KEYS_ROLE_NAME = "oauth2-dr-verification-keys";
/** AWS Backup keeps the copies at most this long (the table's longest day-based row). */
export const VAULT_MAX_RETENTION_DAYS = 365;

export interface VaultAccountArgs {
    stack: string;
    region: string;
    /** The vault account's second region: its bucket is replicated there too (a regional loss keeps a copy). */
    drRegion: string;
    accountId: string;
    profile?: string;
    assumeRoleArn?: string;
    retention: Retention;
    objectLock: ObjectLock;
    /** prod's and dr's S3 replication roles: the only principals that may write into the bucket. */
    replicationRoleArns: string[];
    /** Accounts whose AWS Backup may copy recovery points into the vault. */
    sourceAccountIds: string[];
    /** Roles of this account that may read the private keys for a restore. */
    restoreRoleArns: string[];
    /** The restore-verification jobs' IRSA roles (prod's and dr's accounts) that may assume the key-reader role; none: no such role. */
    verificationRoleArns?: string[];
    breakGlassRoleArn?: string;
    airGapped: boolean;
    changeableForDays: number;
    tags: Record<string, string>;
}

export class VaultAccount extends pulumi.ComponentResource {
    private readonly accountProvider: Provider;
    readonly accountId: string;
    readonly bucketName: pulumi.Output<string>;
    readonly bucketArn: pulumi.Output<string>;
    readonly bucketKmsKeyArn: pulumi.Output<string>;
    readonly backupVaultName: pulumi.Output<string>;
    readonly backupVaultArn: pulumi.Output<string>;
    readonly privateKeysSecretArn: pulumi.Output<string>;
    /** The key-reader role of the verification; undefined without verificationRoleArns. */
    readonly verificationKeysRoleArn?: pulumi.Output<string>;

    constructor(name: string, args: VaultAccountArgs, opts?: pulumi.ComponentResourceOptions) {
        super("oauth2-dr:vault:VaultAccount", name, {}, opts);
        const provider = new Provider(`${name}-account`, {
            region: args.region,
            allowedAccountIds: [args.accountId],
            ...(args.profile ? { profile: args.profile } : {}),
            ...(args.assumeRoleArn ? { assumeRoles: [{ roleArn: args.assumeRoleArn, sessionName: `pulumi-${args.stack}` }] } : {}),
            defaultTags: { tags: args.tags },
        }, { parent: this });
        this.accountProvider = provider;
        const inAccount = { parent: this, provider };
        const tags = { ...args.tags, "oauth2-dr/account": "vault" };

        const bucket = new BackupBucket("vault-backups", {
            bucketName: backupBucketName(args.stack),
            retention: args.retention,
            objectLock: args.objectLock,
            accountId: args.accountId,
            region: args.region,
            breakGlassRoleArn: args.breakGlassRoleArn,
            policyStatements: replicasOnlyStatements(args.replicationRoleArns),
            keyStatements: [{
                Sid: "ReplicationRolesEncrypt",
                Effect: "Allow",
                ...rolesByCondition(args.replicationRoleArns),
                Action: ["kms:Encrypt", "kms:GenerateDataKey"],
                Resource: "*",
            }],
            provider,
            tags,
        }, { parent: this });

        this.secondRegionCopy(args, tags, bucket);

        const vault = args.airGapped ? this.airGappedVault(args, tags, inAccount) : this.lockedVault(args, tags, inAccount);
        new backup.VaultPolicy(`${ISOLATED_VAULT_NAME}-policy`, {
            backupVaultName: vault.name,
            policy: pulumi.jsonStringify({
                Version: "2012-10-17",
                Statement: [
                    {
                        Sid: "CopiesFromProduction",
                        Effect: "Allow",
                        Principal: { AWS: args.sourceAccountIds.map((id) => `arn:aws:iam::${id}:root`) },
                        Action: "backup:CopyIntoBackupVault",
                        Resource: "*",
                    },
                    {
                        Sid: "DenyRecoveryPointDeletion",
                        Effect: "Deny",
                        Principal: { AWS: "*" },
                        Action: ["backup:DeleteRecoveryPoint", "backup:UpdateRecoveryPointLifecycle", "backup:DeleteBackupVault"],
                        Resource: "*",
                    },
                ],
            }),
        }, inAccount);

        const verificationRoleArn = (args.verificationRoleArns ?? []).length > 0 ? `arn:aws:iam::${args.accountId}:role/${VERIFICATION_KEYS_ROLE_NAME}` : undefined;
        const { secret, key, drKey } = this.privateKeysSecret(args, tags, inAccount, verificationRoleArn);
        this.verificationKeysRoleArn = verificationRoleArn ? this.verificationKeysRole(args, tags, inAccount, secret.arn, [key.arn, drKey.arn]) : undefined;

        this.accountId = args.accountId;
        this.bucketName = bucket.bucketName;
        this.bucketArn = bucket.arn;
        this.bucketKmsKeyArn = bucket.kmsKeyArn;
        this.backupVaultName = vault.name;
        this.backupVaultArn = vault.arn;
        this.privateKeysSecretArn = secret.arn;
        this.registerOutputs({ bucketArn: this.bucketArn, backupVaultArn: this.backupVaultArn, privateKeysSecretArn: this.privateKeysSecretArn });
    }

    /**
     * The vault bucket replicated into a locked bucket of the same account in the second region, written only
     * by that replication's role: a regional loss does not take the isolated copy with it.
     */
    private secondRegionCopy(args: VaultAccountArgs, tags: Record<string, string>, source: BackupBucket): void {
        const provider = new Provider(`vault-account-${args.drRegion}`, {
            region: args.drRegion,
            allowedAccountIds: [args.accountId],
            ...(args.profile ? { profile: args.profile } : {}),
            ...(args.assumeRoleArn ? { assumeRoles: [{ roleArn: args.assumeRoleArn, sessionName: `pulumi-${args.stack}` }] } : {}),
            defaultTags: { tags: args.tags },
        }, { parent: this });
        const roleName = "vault-region-replication-s3-replication";
        const roleArn = `arn:aws:iam::${args.accountId}:role/${roleName}`;
        const copy = new BackupBucket("vault-backups-dr", {
            bucketName: backupBucketName(args.stack, args.drRegion),
            retention: args.retention,
            objectLock: args.objectLock,
            accountId: args.accountId,
            region: args.drRegion,
            breakGlassRoleArn: args.breakGlassRoleArn,
            policyStatements: replicasOnlyStatements([roleArn]),
            provider,
            tags,
        }, { parent: this });
        new BucketReplication("vault-region-replication", {
            sourceBucketName: source.bucketName,
            sourceBucketArn: source.arn,
            sourceKmsKeyArn: source.kmsKeyArn,
            sourceRegion: args.region,
            destination: { bucketArn: copy.arn, kmsKeyArn: copy.kmsKeyArn, region: args.drRegion },
            dependsOn: [copy.versioning, copy.objectLockConfiguration],
            tags,
        }, { parent: this, provider: this.accountProvider });
    }

    /** A logically air-gapped vault: AWS-owned key, compliance-locked by construction, shareable for restores. */
    private airGappedVault(args: VaultAccountArgs, tags: Record<string, string>, opts: pulumi.CustomResourceOptions) {
        return new backup.LogicallyAirGappedVault(ISOLATED_VAULT_NAME, {
            name: ISOLATED_VAULT_NAME,
            minRetentionDays: args.retention.database,
            maxRetentionDays: VAULT_MAX_RETENTION_DAYS,
            tags,
        }, { ...opts, protect: true });
    }

    /** Where a region lacks logically air-gapped vaults: a vault with its own key and a compliance vault lock. */
    private lockedVault(args: VaultAccountArgs, tags: Record<string, string>, opts: pulumi.CustomResourceOptions) {
        const key = customerManagedKey(ISOLATED_VAULT_NAME, {
            description: "AWS Backup vault of the vault account (copies of prod's recovery points)",
            accountId: args.accountId,
            breakGlassRoleArn: args.breakGlassRoleArn,
            provider: opts.provider as Provider,
            statements: [{
                Sid: "ProductionAccountsCopy",
                Effect: "Allow",
                Principal: { AWS: args.sourceAccountIds.map((id) => `arn:aws:iam::${id}:root`) },
                Action: ["kms:Encrypt", "kms:GenerateDataKey*", "kms:DescribeKey", "kms:CreateGrant"],
                Resource: "*",
            }],
            tags,
        }, this);
        const vault = new backup.Vault(ISOLATED_VAULT_NAME, { name: ISOLATED_VAULT_NAME, kmsKeyArn: key.arn, forceDestroy: false, tags }, { ...opts, protect: true });
        new backup.VaultLockConfiguration(ISOLATED_VAULT_NAME, {
            backupVaultName: vault.name,
            minRetentionDays: args.retention.database,
            maxRetentionDays: VAULT_MAX_RETENTION_DAYS,
            changeableForDays: args.changeableForDays,
        }, { ...opts, protect: true });
        return vault;
    }

    /**
     * The private keys' secret: its own key, the deletion guard, and reads limited to the restore roles (and
     * the break-glass role). Declared without a value: the custodians put it (docs/runbook.md).
     */
    private privateKeysSecret(args: VaultAccountArgs, tags: Record<string, string>, opts: pulumi.CustomResourceOptions, verificationRoleArn: string | undefined) {
        const key = customerManagedKey("oauth2-dr-private-keys", {
            description: "Secrets Manager secret of the backups' private keys (vault account)",
            accountId: args.accountId,
            breakGlassRoleArn: args.breakGlassRoleArn,
            provider: opts.provider as Provider,
            tags,
        }, this);
        // A replica in the vault's second region: the dr stack's verification (and a restore after the loss of
        // the primary region) reads the private keys there.
        const drKey = customerManagedKey("oauth2-dr-private-keys-dr", {
            description: "Replica of the backups' private keys secret in the vault's second region (vault account)",
            region: args.drRegion,
            accountId: args.accountId,
            breakGlassRoleArn: args.breakGlassRoleArn,
            provider: opts.provider as Provider,
            tags,
        }, this);
        const secret = new secretsmanager.Secret(PRIVATE_KEYS_SECRET_NAME, {
            name: PRIVATE_KEYS_SECRET_NAME,
            description: "Armored private keys that decrypt the OAuth2 backups; read by the vault's restore roles only",
            kmsKeyId: key.arn,
            recoveryWindowInDays: 30,
            replicas: [{ region: args.drRegion, kmsKeyId: drKey.arn }],
            tags: { ...tags, "oauth2-dr/data-class": "secrets" },
        }, { ...opts, protect: true });
        const readers = [...args.restoreRoleArns, ...(verificationRoleArn ? [verificationRoleArn] : []), ...(args.breakGlassRoleArn ? [args.breakGlassRoleArn] : [])];
        new secretsmanager.SecretPolicy(`${PRIVATE_KEYS_SECRET_NAME}-guard`, {
            secretArn: secret.arn,
            blockPublicPolicy: true,
            policy: pulumi.jsonStringify({
                Version: "2012-10-17",
                Statement: [
                    ...(args.breakGlassRoleArn ? [secretGuardStatement(args.breakGlassRoleArn), secretRekeyGuardStatement(args.breakGlassRoleArn, key.arn)] : []),
                    ...(readers.length > 0 ? [denyToAllBut("ReadOnlyByRestoreRoles", "secretsmanager:GetSecretValue", readers)] : []),
                ],
            }),
        }, opts);
        return { secret, key, drKey };
    }

    /**
     * The verification's key reader: trusted by the production accounts only for the listed verification roles
     * (aws:PrincipalArn, so the trust does not need them to exist first), allowed to read the one private-keys
     * secret and to decrypt it through Secrets Manager only; one-hour sessions.
     */
    private verificationKeysRole(args: VaultAccountArgs, tags: Record<string, string>, opts: pulumi.CustomResourceOptions, secretArn: pulumi.Output<string>, keyArns: pulumi.Output<string>[]): pulumi.Output<string> {
        const arns = args.verificationRoleArns ?? [];
        const accounts = [...new Set(arns.map((a) => a.split(":")[4]))];
        const role = new iam.Role(VERIFICATION_KEYS_ROLE_NAME, {
            name: VERIFICATION_KEYS_ROLE_NAME,
            description: "oauth2-dr: the monthly restore verification (prod, dr) reads the backups' private keys",
            assumeRolePolicy: JSON.stringify({
                Version: "2012-10-17",
                Statement: [{
                    Sid: "RestoreVerificationJobsOnly",
                    Effect: "Allow",
                    Principal: { AWS: accounts.map((id) => `arn:aws:iam::${id}:root`) },
                    Action: "sts:AssumeRole",
                    Condition: { ArnEquals: { "aws:PrincipalArn": arns } },
                }],
            }),
            maxSessionDuration: 3600,
            tags: { ...tags, "oauth2-dr/component": "verification-keys" },
        }, opts);
        new iam.RolePolicy(`${VERIFICATION_KEYS_ROLE_NAME}-policy`, {
            role: role.id,
            policy: pulumi.jsonStringify({
                Version: "2012-10-17",
                Statement: [
                    // The secret and its replica in the second region (same name and suffix).
                    { Sid: "ReadPrivateKeys", Effect: "Allow", Action: "secretsmanager:GetSecretValue", Resource: [secretArn, inRegion(secretArn, args.drRegion)] },
                    {
                        Sid: "DecryptThroughSecretsManager",
                        Effect: "Allow",
                        Action: "kms:Decrypt",
                        Resource: keyArns,
                        Condition: { StringEquals: { "kms:ViaService": [args.region, args.drRegion].map((r) => `secretsmanager.${r}.amazonaws.com`) } },
                    },
                ],
            }),
        }, opts);
        return role.arn;
    }
}

/** A Secrets Manager ARN in another region: a replica keeps the name and the random suffix. */
export function inRegion(arn: pulumi.Input<string>, region: string): pulumi.Output<string> {
    return pulumi.output(arn).apply((a) => a.replace(/^(arn:aws[a-z-]*:secretsmanager:)[a-z0-9-]+:/, `$1${region}:`));
}

/**
 * `roleArns` as an Allow statement's principals: their accounts as Principal, the roles themselves in a
 * condition. S3 and KMS refuse a policy whose Principal names a role that does not exist yet ("Invalid
 * principal"), and the vault stack is deployed before the standby stacks that create the replication roles;
 * a condition on aws:PrincipalArn is not checked for existence, and still admits exactly those roles.
 */
export function rolesByCondition(roleArns: string[]) {
    const accounts = [...new Set(roleArns.map((arn) => arn.split(":")[4]))].sort();
    return {
        Principal: { AWS: accounts.map((account) => `arn:aws:iam::${account}:root`) },
        Condition: { ArnEquals: { "aws:PrincipalArn": roleArns } },
    };
}

/**
 * The vault bucket's extra policy: prod's and dr's replication roles may replicate (and hand ownership to this
 * account); nobody else may write, and nobody may delete a version or bypass the lock.
 */
export function replicasOnlyStatements(replicationRoleArns: string[]): (bucketArn: pulumi.Output<string>) => unknown[] {
    return (bucketArn) => [
        {
            Sid: "ReplicasFromProductionReplicationRoles",
            Effect: "Allow",
            ...rolesByCondition(replicationRoleArns),
            Action: ["s3:ReplicateObject", "s3:ReplicateTags", "s3:ObjectOwnerOverrideToBucketOwner"],
            Resource: pulumi.interpolate`${bucketArn}/*`,
        },
        {
            Sid: "ReplicationRolesSeeVersioning",
            Effect: "Allow",
            ...rolesByCondition(replicationRoleArns),
            Action: ["s3:GetBucketVersioning", "s3:GetBucketObjectLockConfiguration", "s3:List*"],
            Resource: bucketArn,
        },
        denyToAllBut(
            "DenyWritesFromAnyoneElse",
            ["s3:PutObject", "s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags", "s3:PutObjectRetention", "s3:PutObjectLegalHold"],
            replicationRoleArns,
            pulumi.interpolate`${bucketArn}/*`,
        ),
        {
            Sid: "DenyVersionDeletion",
            Effect: "Deny",
            Principal: { AWS: "*" },
            Action: ["s3:DeleteObjectVersion", "s3:BypassGovernanceRetention"],
            Resource: pulumi.interpolate`${bucketArn}/*`,
        },
    ];
}
