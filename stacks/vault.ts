/**
 * The vault composition (role: vault): the isolated AWS account that keeps the copies production credentials
 * cannot delete, shorten or read (components/vault-account.ts). Deployed first: prod and dr read its outputs
 * through a StackReference (`vaultStack`) and replicate into it; its bucket policy names their replication
 * roles by ARN (`vault.replicationRoleArns`), so it needs nothing of theirs. It publishes the backups' public
 * keys (`backupPublicKeys`, from its `backupEncryption.recipients`) and the role prod's and dr's verification
 * assume to read the private keys (`verificationKeysRoleArn`, trusted for `vault.verificationRoleArns`).
 */
import type { StackConfig } from "../lib/config";
import { VaultAccount } from "../components/vault-account";
import { stackTags } from "./compose-common";

export function declareVault(config: StackConfig) {
    const settings = config.vault!;
    const vault = new VaultAccount("vault", {
        stack: config.stack,
        region: config.region,
        drRegion: config.drRegion,
        accountId: settings.accountId,
        profile: settings.profile,
        assumeRoleArn: settings.assumeRoleArn,
        retention: config.retention,
        objectLock: config.objectLock,
        replicationRoleArns: settings.replicationRoleArns,
        sourceAccountIds: settings.sourceAccountIds,
        restoreRoleArns: settings.restoreRoleArns,
        verificationRoleArns: settings.verificationRoleArns,
        breakGlassRoleArn: config.breakGlassRoleArn,
        airGapped: settings.airGapped,
        changeableForDays: settings.changeableForDays,
        tags: stackTags(config),
    });
    return {
        cloud: config.cloud,
        role: config.role,
        region: config.region,
        retention: config.retention,
        objectLock: config.objectLock,
        vaultAccountId: vault.accountId,
        vaultBucketName: vault.bucketName,
        vaultBucketArn: vault.bucketArn,
        vaultBucketKmsKeyArn: vault.bucketKmsKeyArn,
        backupVaultName: vault.backupVaultName,
        backupVaultArn: vault.backupVaultArn,
        airGapped: settings.airGapped,
        privateKeysSecretArn: vault.privateKeysSecretArn,
        // The private keys' secret is replicated there (same name and suffix): the dr stack's verification reads it there.
        privateKeysReplicaRegion: config.drRegion,
        // The backups' recipients, published for prod and dr (public keys only: the private keys never pass
        // through Pulumi) and the role their restore verification assumes to read the private keys.
        backupPublicKeys: config.backupEncryption.recipients.map((r) => ({ fingerprint: r.fingerprint, armor: r.armor! })),
        verificationKeysRoleArn: vault.verificationKeysRoleArn,
        verificationRoleArns: settings.verificationRoleArns,
        // The only writers the vault bucket accepts (vault.replicationRoleArns), comma-separated: a standby stops
        // its plan when one of its replication roles is not here (stacks/compose-storage.ts vaultAcceptsWriters).
        // One string rather than a list: a list output changes when the StackReference's outputs resolve, and so
        // the order prod's and dr's plans list their resources in.
        replicationRoleArns: settings.replicationRoleArns.join(","),
    };
}
