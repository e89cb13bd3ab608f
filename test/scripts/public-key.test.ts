/**
 * Issue 23, "writers cannot read": the writers encrypt to public keys (BACKUP_GPG_PUBLIC_KEYS_FILE,
 * BACKUP_GPG_RECIPIENTS) and hold no private key; restores and the verification decrypt with the private keys
 * from a file or from Secrets Manager (a second moto_server plays the vault account). Real gpg, PostgreSQL 15
 * and moto on 127.0.0.1. The keys are generated here (TEST ONLY, no passphrase).
 */
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as path from "path";
import { checksumSql, OAUTH2_TABLES, seedSql } from "../../tools/sandbox/oauth2-schema";
import { tableChecksums } from "../support/checksums";
import { S3Client } from "@aws-sdk/client-s3";
import { BASH_C, awsCall, baseEnv, createSecret, explain, getObject, listKeys, listVersions, REPO, runScript, SCRIPTS, scriptEnv, useScriptServers } from "../../tools/sandbox/scripts";
import { DumpLocation, dumpsIn, privateKeysSettings } from "../../tools/recovery-points/collect";
import { decryptWith, generateTestKey, keyFile, TestKey } from "../../tools/sandbox/gpg-keys";
import { MotoServer } from "../../tools/sandbox/servers";
import { fakeKubectl } from "../support/shims";

describe("public-key encryption: writers cannot read (real gpg, PostgreSQL 15, moto)", function () {
    // Its longest cases took 90-93 s in a CI-like whole run at load 17 (54-59 s in two others): 180 s left them 2x.
    this.timeout(360_000);
    const servers = useScriptServers("oauth2-dr-pubkey-test-", "legacy symmetric passphrase");
    let vault: MotoServer;
    let current: TestKey;
    let old: TestKey;
    let stranger: TestKey;
    let publicKeys: string;
    let databases = 0;

    before(async function () {
        vault = await MotoServer.start();
        current = generateTestKey("Vault current");
        old = generateTestKey("Vault old");
        stranger = generateTestKey("Stranger");
        publicKeys = keyFile(servers.dir, "recipients.asc", current.publicKey + old.publicKey);
        servers.pg.createDatabase("oauth2db");
        servers.pg.psql(seedSql({ clients: 10, authorizations: 120, consents: 30 }));
    });
    after(async function () {
        await vault?.stop();
    });

    /** The writer's environment: public keys only, no passphrase. */
    function writerEnv(bucket: string, recipients: string, keys = publicKeys): Record<string, string> {
        const env = scriptEnv(servers.pg, servers.moto, bucket, "");
        delete (env as Record<string, string | undefined>).PASSPHRASE_FILE;
        return { ...env, BACKUP_GPG_PUBLIC_KEYS_FILE: keys, BACKUP_GPG_RECIPIENTS: recipients };
    }

    /** A restore's environment into a new database, with `keys` (armored secret keys) in a file. */
    function restoreEnv(bucket: string, target: string, extra: Record<string, string>): Record<string, string> {
        return { ...scriptEnv(servers.pg, servers.moto, bucket, servers.passphrase, target), ...extra };
    }

    function newTarget(): string {
        const name = `pubkey_target_${++databases}`;
        servers.pg.createDatabase(name);
        return name;
    }

    function sameAsSource(target: string): void {
        assert.deepEqual(tableChecksums(servers.pg, OAUTH2_TABLES, target), tableChecksums(servers.pg, OAUTH2_TABLES));
    }

    async function backup(env: Record<string, string>): Promise<string> {
        const result = await runScript("db-backup.sh", env);
        assert.equal(result.code, 0, explain(result));
        return result.stdout.trim();
    }

    // Dumps that several tests only read (each restores it by --manifest into a database of its own): made once,
    // by the first test that needs one (a db-backup.sh run is about half a second of CPU), not once per test.
    type Dump = { bucket: string; manifestKey: string };
    let forCurrent: Promise<Dump> | undefined;
    let symmetric: Promise<Dump> | undefined;
    /** A public-key dump for the current vault key alone. */
    const dumpForCurrent = () => (forCurrent ??= (async () => {
        const bucket = servers.newBucket("oauth2-pubkey");
        return { bucket, manifestKey: await backup(writerEnv(bucket, current.fingerprint)) };
    })());
    /** A symmetric dump (the passphrase, written before public-key mode). */
    const symmetricDump = () => (symmetric ??= (async () => {
        const bucket = servers.newBucket("oauth2-mixed");
        return { bucket, manifestKey: await backup(scriptEnv(servers.pg, servers.moto, bucket, servers.passphrase)) };
    })());

    describe("db-backup.sh and restore.sh", function () {
        let bucket: string;
        let manifestKey: string;

        before(async function () {
            ({ bucket, manifestKey } = await dumpForCurrent());
        });

        it("the manifest records mode public-key and the recipients, and no passphrase", function () {
            const m = servers.manifest(bucket, manifestKey);
            assert.deepEqual(m.encryption, { mode: "public-key", recipients: [current.fingerprint], cipher: "AES256" });
            assert.equal(m.passphrase, null);
        });

        it("the writer's key material (public keys only) cannot decrypt its own dump; the vault's private key can", function () {
            const body = getObject(servers.moto, bucket, servers.manifest(bucket, manifestKey).object_key);
            const writer = decryptWith(servers.dir, [fs.readFileSync(publicKeys, "utf8")], body);
            assert.notEqual(writer.status, 0, "the public keys decrypted the dump");
            assert.match(writer.stderr, /No secret key|decryption failed/);
            const vaultSide = decryptWith(servers.dir, [current.secretKey], body);
            assert.equal(vaultSide.status, 0, vaultSide.stderr);
        });

        it("restores with the private key from RESTORE_GPG_PRIVATE_KEYS_FILE", async function () {
            const target = newTarget();
            const keys = keyFile(servers.dir, "restore-current.asc", current.secretKey);
            const env = restoreEnv(bucket, target, { RESTORE_GPG_PRIVATE_KEYS_FILE: keys });
            const result = await runScript("restore.sh", env, ["--yes", "--source-database", "oauth2db", "--manifest", manifestKey]);
            assert.equal(result.code, 0, explain(result));
            sameAsSource(target);
            assert.doesNotMatch(result.stderr + result.stdout, /PRIVATE KEY BLOCK/);
        });

        it("restores with the private key read from the vault account's Secrets Manager (a second moto_server)", async function () {
            createSecret(vault, "oauth2-dr/backup-private-keys", current.secretKey);
            const target = newTarget();
            const env = restoreEnv(bucket, target, {
                RESTORE_PRIVATE_KEYS_SECRET_ID: "oauth2-dr/backup-private-keys",
                RESTORE_PRIVATE_KEYS_ENDPOINT_URL: vault.endpoint,
                RESTORE_PRIVATE_KEYS_REGION: "us-east-1",
            });
            const result = await runScript("restore.sh", env, ["--yes", "--source-database", "oauth2db", "--manifest", manifestKey]);
            assert.equal(result.code, 0, explain(result));
            sameAsSource(target);
            assert.match(result.stderr, /private keys from secret oauth2-dr\/backup-private-keys at http:\/\/127\.0\.0\.1:\d+/);
            assert.doesNotMatch(result.stderr + result.stdout, /PRIVATE KEY BLOCK/);
            // The same through the vault's restore role (sts:AssumeRole on the vault endpoint first).
            const viaRole = newTarget();
            const role = "arn:aws:iam::123456789012:role/oauth2-dr-vault-restore";
            const assumed = await runScript("restore.sh", { ...restoreEnv(bucket, viaRole, {}), ...env, PGDATABASE: viaRole, RESTORE_PRIVATE_KEYS_ROLE_ARN: role }, ["--yes", "--source-database", "oauth2db", "--manifest", manifestKey]);
            assert.equal(assumed.code, 0, explain(assumed));
            sameAsSource(viaRole);
            assert.match(assumed.stderr, new RegExp(`as ${role}`));
        });

        it("the command `npm run recovery-points` prints for a public-key dump restores it as printed (was exit 5: no private keys in it)", async function () {
            try {
                createSecret(vault, "oauth2-dr/backup-private-keys", current.secretKey);
            } catch (error) {
                // Created by the test before (the same key).
                assert.match(String(error), /ResourceExists|already exists/);
            }
            const role = "arn:aws:iam::123456789012:role/oauth2-dr-vault-restore";
            const where: DumpLocation = { bucket, region: "us-east-1", prefix: "database/", source: "dump", label: "dump", privateKeys: privateKeysSettings({ region: "us-east-1", restoreRoleArn: role }, false) };
            const s3 = new S3Client({ region: "us-east-1", endpoint: servers.moto.endpoint, forcePathStyle: true, credentials: { accessKeyId: "testing", secretAccessKey: "testing" } });
            const { points } = await dumpsIn(s3, where);
            s3.destroy();
            const point = points.find((p) => p.id === manifestKey)!;
            assert.equal(point.restore.commands.length, 1, JSON.stringify(point.restore));
            const target = newTarget();
            // What the operator's shell has besides the printed command: the target (PG*), the AWS credentials, and
            // here the two moto endpoints (the vault's keys are at another endpoint than the bucket: another account).
            const env = { ...restoreEnv(bucket, target, { RESTORE_PRIVATE_KEYS_ENDPOINT_URL: vault.endpoint }), PGDATABASE: target };
            for (const name of ["BUCKET", "PASSPHRASE_FILE", "BACKUP_PREFIX"]) {
                delete (env as Record<string, string | undefined>)[name];
            }
            const command = point.restore.commands[0].replace("scripts/restore.sh", `${SCRIPTS}/restore.sh`);
            const result = spawnSync("bash", [...BASH_C, `${command} --source-database oauth2db`], { env: baseEnv(env), encoding: "utf8", cwd: REPO });
            assert.equal(result.status, 0, `${command}\n${result.stderr}`);
            sameAsSource(target);
            assert.match(result.stderr, new RegExp(`private keys from secret oauth2-dr/backup-private-keys at http://127\\.0\\.0\\.1:\\d+ as ${role}`));
        });

        it("a vault secret that cannot be read there: exit 5 naming it, the vault endpoint, the role and AWS's error, never the run's own account's secret", async function () {
            // The same name in the run's own account holds the right key: a read there instead of the vault's would restore.
            createSecret(servers.moto, "oauth2-dr/own-account-keys", current.secretKey);
            const role = "arn:aws:iam::123456789012:role/oauth2-dr-vault-restore";
            const variants: Record<string, string>[] = [{}, { RESTORE_PRIVATE_KEYS_ROLE_ARN: role }];
            for (const extra of variants) {
                const target = newTarget();
                const env = restoreEnv(bucket, target, {
                    RESTORE_PRIVATE_KEYS_SECRET_ID: "oauth2-dr/own-account-keys",
                    RESTORE_PRIVATE_KEYS_ENDPOINT_URL: vault.endpoint,
                    RESTORE_PRIVATE_KEYS_REGION: "us-east-1",
                    ...extra,
                });
                const result = await runScript("restore.sh", env, ["--yes", "--source-database", "oauth2db", "--manifest", manifestKey]);
                assert.equal(result.code, 5, explain(result));
                const origin = `secret oauth2-dr/own-account-keys at ${vault.endpoint}${"RESTORE_PRIVATE_KEYS_ROLE_ARN" in extra ? ` as ${role}` : ""}`;
                assert.match(result.stderr, new RegExp(`ERROR: cannot read the restore private keys \\(${origin.replace(/[.:/]/g, "\\$&")}\\): An error occurred \\(ResourceNotFoundException\\) when calling the GetSecretValue operation: .*; the dump needs the private key of ${current.fingerprint}`), explain(result));
                assert.equal(servers.pg.psql("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'", target).trim(), "0");
            }
        });

        it("with the wrong private key: exit 5 naming the recipient, before the target is touched", async function () {
            const target = newTarget();
            servers.pg.psql("CREATE TABLE oauth2_registered_client (id text PRIMARY KEY, marker text); INSERT INTO oauth2_registered_client VALUES ('keep', 'untouched');", target);
            const before = servers.pg.psql(checksumSql("oauth2_registered_client"), target);
            const keys = keyFile(servers.dir, "restore-stranger.asc", stranger.secretKey);
            const result = await runScript("restore.sh", restoreEnv(bucket, target, { RESTORE_GPG_PRIVATE_KEYS_FILE: keys }), ["--yes", "--source-database", "oauth2db", "--manifest", manifestKey]);
            assert.equal(result.code, 5, explain(result));
            assert.match(result.stderr, new RegExp(`encrypted to ${current.fingerprint}`));
            assert.equal(servers.pg.psql(checksumSql("oauth2_registered_client"), target), before);
            assert.equal(servers.pg.psql("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'oauth2_dr_stage%'", target).trim(), "0");
        });

        it("with a corrupt key file or no key at all: exit 5 naming the recipient", async function () {
            const target = newTarget();
            const corrupt = keyFile(servers.dir, "corrupt.asc", current.secretKey.replace(/\n[A-Za-z0-9+/]{20}/, "\n!!!!corrupt!!!!"));
            const publicOnly = keyFile(servers.dir, "public-only.asc", current.publicKey);
            const cases: Record<string, string>[] = [{ RESTORE_GPG_PRIVATE_KEYS_FILE: corrupt }, { RESTORE_GPG_PRIVATE_KEYS_FILE: publicOnly }, {}];
            for (const extra of cases) {
                const result = await runScript("restore.sh", restoreEnv(bucket, target, extra), ["--yes", "--source-database", "oauth2db", "--manifest", manifestKey]);
                assert.equal(result.code, 5, explain(result));
                assert.match(result.stderr, new RegExp(current.fingerprint));
            }
            assert.equal(servers.pg.psql("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'", target).trim(), "0");
        });

        it("restore-verification.sh decrypts a public-key dump", async function () {
            const keys = keyFile(servers.dir, "verify-current.asc", current.secretKey);
            const result = await runScript("restore-verification.sh", restoreEnv(bucket, "oauth2db", { RESTORE_GPG_PRIVATE_KEYS_FILE: keys }));
            assert.equal(result.code, 0, explain(result));
            assert.match(result.stdout, /^PASS restore to test instance works: .*private keys from RESTORE_GPG_PRIVATE_KEYS_FILE/m);
            assert.match(result.stdout, /^PASS data integrity verified/m);
        });
    });

    describe("mixed history", function () {
        it("a symmetric dump, a dump for the old recipient and one for the new each restore with their own key while the new list is in force", async function () {
            // The dumps for the old and the new recipients join the symmetric one's bucket.
            const { bucket, manifestKey: legacy } = await symmetricDump();
            assert.equal(servers.manifest(bucket, legacy).encryption.mode, "symmetric");
            assert.equal(servers.manifest(bucket, legacy).passphrase.source, "file");
            const forOld = await backup(writerEnv(bucket, old.fingerprint));
            const forNew = await backup(writerEnv(bucket, `${current.fingerprint.toLowerCase()}, ${old.fingerprint}`));
            assert.deepEqual(servers.manifest(bucket, forNew).encryption.recipients, [current.fingerprint, old.fingerprint]);
            // The new configuration in force for every restore: the current vault key and the passphrase.
            const currentOnly = keyFile(servers.dir, "mixed-current.asc", current.secretKey);
            const oldOnly = keyFile(servers.dir, "mixed-old.asc", old.secretKey);
            const cases: [string, Record<string, string>][] = [
                [legacy, { BACKUP_GPG_PUBLIC_KEYS_FILE: publicKeys, BACKUP_GPG_RECIPIENTS: current.fingerprint, RESTORE_GPG_PRIVATE_KEYS_FILE: currentOnly }],
                [forOld, { RESTORE_GPG_PRIVATE_KEYS_FILE: oldOnly }],
                [forNew, { RESTORE_GPG_PRIVATE_KEYS_FILE: currentOnly }],
            ];
            for (const [key, extra] of cases) {
                const target = newTarget();
                const result = await runScript("restore.sh", restoreEnv(bucket, target, extra), ["--yes", "--source-database", "oauth2db", "--manifest", key]);
                assert.equal(result.code, 0, `${key}: ${explain(result)}`);
                sameAsSource(target);
            }
            // The dump for the old recipient alone does not restore with the current key only.
            const target = newTarget();
            const refused = await runScript("restore.sh", restoreEnv(bucket, target, { RESTORE_GPG_PRIVATE_KEYS_FILE: currentOnly }), ["--yes", "--source-database", "oauth2db", "--manifest", forOld]);
            assert.equal(refused.code, 5, explain(refused));
            assert.match(refused.stderr, new RegExp(`encrypted to ${old.fingerprint}`));
        });
    });

    describe("bad recipients: exit 5 before any upload", function () {
        it("a recipient missing from the keys file, an expired key, a sign-only key, a revoked key, secret material in the writer's file", async function () {
            const expired = generateTestKey("Expired", { expired: true });
            const signOnly = generateTestKey("Sign only", { signOnly: true });
            const revoked = generateTestKey("Revoked", { revoked: true });
            const keys = keyFile(servers.dir, "bad-recipients.asc", current.publicKey + expired.publicKey + signOnly.publicKey + revoked.publicKey);
            const withSecret = keyFile(servers.dir, "with-secret.asc", current.secretKey);
            const cases: [Record<string, string>, RegExp][] = [
                [{ BACKUP_GPG_RECIPIENTS: stranger.fingerprint }, new RegExp(`recipient ${stranger.fingerprint} is not in BACKUP_GPG_PUBLIC_KEYS_FILE`)],
                [{ BACKUP_GPG_RECIPIENTS: `${current.fingerprint} ${expired.fingerprint}` }, new RegExp(`recipient ${expired.fingerprint} .* has expired`)],
                [{ BACKUP_GPG_RECIPIENTS: signOnly.fingerprint }, new RegExp(`recipient ${signOnly.fingerprint} .* cannot encrypt`)],
                [{ BACKUP_GPG_RECIPIENTS: `${current.fingerprint},${revoked.fingerprint}` }, new RegExp(`recipient ${revoked.fingerprint} .* is revoked`)],
                [{ BACKUP_GPG_RECIPIENTS: current.fingerprint, BACKUP_GPG_PUBLIC_KEYS_FILE: withSecret }, /holds secret key material/],
            ];
            for (const [extra, message] of cases) {
                const bucket = servers.newBucket("oauth2-badrcpt");
                for (const script of ["db-backup.sh", "client-config-export.sh"]) {
                    const result = await runScript(script, { ...writerEnv(bucket, "", keys), ...extra });
                    assert.equal(result.code, 5, `${script}: ${explain(result)}`);
                    assert.match(result.stderr, message);
                    assert.doesNotMatch(result.stderr, /PRIVATE KEY BLOCK/);
                }
                assert.deepEqual(listVersions(servers.moto, bucket, ""), [], "something was uploaded");
            }
        });

        it("a recipient that is not a fingerprint is a usage error (2)", async function () {
            const bucket = servers.newBucket("oauth2-badrcpt");
            const result = await runScript("db-backup.sh", writerEnv(bucket, "vault@example.com"));
            assert.equal(result.code, 2, explain(result));
            assert.match(result.stderr, /'VAULT@EXAMPLE\.COM' is not a 40-hex-digit OpenPGP fingerprint/);
        });
    });

    describe("operator mistakes", function () {
        it("a fingerprint as gpg --fingerprint prints it (groups of 4) is exit 2 giving it without spaces; a subkey's is exit 5 naming the primary; 0x and lower case are accepted", async function () {
            const bucket = servers.newBucket("oauth2-opmistake");
            const grouped = current.fingerprint.replace(/(.{4})/g, "$1 ").replace(/^((?:\S{4} ){5})/, "$1 ").trim();
            const spaced = await runScript("db-backup.sh", writerEnv(bucket, grouped));
            assert.equal(spaced.code, 2, explain(spaced));
            assert.match(spaced.stderr, new RegExp(`fingerprint in groups of 4 .*write it without spaces: ${current.fingerprint}`));
            assert.ok(current.subkeyFingerprint);
            const subkey = await runScript("db-backup.sh", writerEnv(bucket, current.subkeyFingerprint));
            assert.equal(subkey.code, 5, explain(subkey));
            assert.match(subkey.stderr, new RegExp(`recipient ${current.subkeyFingerprint} .* is a subkey of ${current.fingerprint}: give the primary key's fingerprint`));
            assert.deepEqual(listVersions(servers.moto, bucket, ""), [], "something was uploaded");
            const prefixed = await backup(writerEnv(bucket, `0x${current.fingerprint.toLowerCase()}`));
            assert.deepEqual(servers.manifest(bucket, prefixed).encryption.recipients, [current.fingerprint]);
        });

        it("a private key under a passphrase (an offline custody copy): exit 5 naming the key before the download, from restore.sh and restore-verification.sh, the passphrase not blamed on the backup", async function () {
            const bucket = servers.newBucket("oauth2-protected");
            const custodyPassphrase = "custody passphrase TEST ONLY";
            const protectedKey = generateTestKey("Protected", { passphrase: custodyPassphrase });
            const recipients = keyFile(servers.dir, "protected.pub.asc", protectedKey.publicKey);
            const manifestKey = await backup(writerEnv(bucket, protectedKey.fingerprint, recipients));
            const keys = keyFile(servers.dir, "protected.sec.asc", protectedKey.secretKey);
            const target = newTarget();
            const restored = await runScript("restore.sh", restoreEnv(bucket, target, { RESTORE_GPG_PRIVATE_KEYS_FILE: keys }), ["--yes", "--source-database", "oauth2db", "--manifest", manifestKey]);
            assert.equal(restored.code, 5, explain(restored));
            assert.match(restored.stderr, new RegExp(`the private key of ${protectedKey.fingerprint} in RESTORE_GPG_PRIVATE_KEYS_FILE .* is protected by a passphrase`));
            assert.doesNotMatch(restored.stderr, /downloading|probe|does not decrypt/i);
            const verified = await runScript("restore-verification.sh", restoreEnv(bucket, "oauth2db", { RESTORE_GPG_PRIVATE_KEYS_FILE: keys, VERIFY_MANIFEST_KEY: manifestKey }));
            assert.equal(verified.code, 5, explain(verified));
            assert.match(verified.stdout, /is protected by a passphrase/);
            for (const output of [restored.stdout, restored.stderr, verified.stdout, verified.stderr]) {
                assert.doesNotMatch(output, /PRIVATE KEY BLOCK|custody passphrase/);
            }
            // The runbook's recipe on a copy: gpg --passwd with an empty new passphrase (here through loopback: the
            // old passphrase once, then an empty one for the primary and for the subkey), export: it restores.
            const home = fs.mkdtempSync(path.join(servers.dir, "custody-"));
            // The agent of this throwaway home at gpg's lowest S2K count instead of calibrating one (about 1.5 s of
            // its CPU, measured): the recipe's commands are the same.
            fs.writeFileSync(path.join(home, "gpg-agent.conf"), "s2k-count 65536\n");
            const gpgEnv = { ...process.env, GNUPGHOME: home };
            assert.equal(spawnSync("gpg", ["--batch", "--quiet", "--import", keys], { env: gpgEnv }).status, 0);
            const passwd = spawnSync("gpg", ["--pinentry-mode", "loopback", "--command-fd", "0", "--passwd", protectedKey.fingerprint], { env: gpgEnv, input: `${custodyPassphrase}\n\n\n` });
            assert.equal(passwd.status, 0, String(passwd.stderr));
            const stripped = spawnSync("gpg", ["--batch", "--armor", "--export-secret-keys", protectedKey.fingerprint], { env: gpgEnv, encoding: "utf8" });
            spawnSync("gpgconf", ["--kill", "gpg-agent"], { env: gpgEnv });
            fs.rmSync(home, { recursive: true, force: true });
            assert.equal(stripped.status, 0, stripped.stderr);
            const strippedFile = keyFile(servers.dir, "stripped.sec.asc", stripped.stdout);
            const afterRecipe = await runScript("restore.sh", restoreEnv(bucket, newTarget(), { RESTORE_GPG_PRIVATE_KEYS_FILE: strippedFile }), ["--yes", "--source-database", "oauth2db", "--manifest", manifestKey]);
            assert.equal(afterRecipe.code, 0, explain(afterRecipe));
            // The same key file with an unprotected key of another recipient still restores that one's dumps.
            const mixed = keyFile(servers.dir, "mixed.sec.asc", protectedKey.secretKey + current.secretKey);
            const shared = await dumpForCurrent();
            const other = newTarget();
            const ok = await runScript("restore.sh", restoreEnv(shared.bucket, other, { RESTORE_GPG_PRIVATE_KEYS_FILE: mixed }), ["--yes", "--source-database", "oauth2db", "--manifest", shared.manifestKey]);
            assert.equal(ok.code, 0, explain(ok));
        });

        it("the vault secret holding the keys as SecretBinary (gpg --export without --armor): exit 5 saying to put them armored as the SecretString", async function () {
            const { bucket, manifestKey } = await dumpForCurrent();
            awsCall(vault, "secretsmanager", "create_secret", { Name: "oauth2-dr/binary-private-keys", SecretBinary: Buffer.from(current.secretKey).toString("base64") });
            const env = restoreEnv(bucket, newTarget(), {
                RESTORE_PRIVATE_KEYS_SECRET_ID: "oauth2-dr/binary-private-keys",
                RESTORE_PRIVATE_KEYS_ENDPOINT_URL: vault.endpoint,
                RESTORE_PRIVATE_KEYS_REGION: "us-east-1",
            });
            const result = await runScript("restore.sh", env, ["--yes", "--source-database", "oauth2db", "--manifest", manifestKey]);
            assert.equal(result.code, 5, explain(result));
            assert.match(result.stderr, /secret oauth2-dr\/binary-private-keys .*has no SecretString \(empty, or stored as SecretBinary\): put the armored secret keys/);
            assert.match(result.stderr, new RegExp(current.fingerprint));
        });

        it("a symmetric (pre-switch) dump with only the private keys set: exit 2 saying it needs the passphrase", async function () {
            const { bucket, manifestKey: legacy } = await symmetricDump();
            const env = restoreEnv(bucket, newTarget(), { RESTORE_GPG_PRIVATE_KEYS_FILE: keyFile(servers.dir, "only-keys.asc", current.secretKey) });
            delete (env as Record<string, string | undefined>).PASSPHRASE_FILE;
            const result = await runScript("restore.sh", env, ["--yes", "--source-database", "oauth2db", "--manifest", legacy]);
            assert.equal(result.code, 2, explain(result));
            assert.match(result.stderr, /the dump is symmetric \(encrypted with the backup passphrase, written before public-key mode\): the private keys do not decrypt it: set PASSPHRASE_FILE or BACKUP_PASSPHRASE_SECRET_ID/);
        });
    });

    describe("wal-archive.sh", function () {
        it("push and base-backup encrypt to the recipients; fetch and restore decrypt with the vault's key only", async function () {
            const bucket = servers.newBucket("oauth2-pubkey-wal");
            const walEnv = { ...writerEnv(bucket, current.fingerprint), PGDATABASE: "postgres" };
            const data = Buffer.concat([Buffer.from("public-key WAL\n".repeat(500)), Buffer.alloc(32 * 1024)]);
            const file = path.join(servers.dir, "000000010000000000000042");
            fs.writeFileSync(file, data);
            const push = await runScript("wal-archive.sh", walEnv, ["push", file, "000000010000000000000042"]);
            assert.equal(push.code, 0, explain(push));
            const key = "wal/000000010000000000000042.zst.gpg";
            const head = awsCall(servers.moto, "s3", "head_object", { Bucket: bucket, Key: key });
            assert.equal(head.Metadata.encryption, "public-key");
            assert.equal(head.Metadata.recipients, current.fingerprint);
            assert.notEqual(decryptWith(servers.dir, [current.publicKey], getObject(servers.moto, bucket, key)).status, 0);

            const readerEnv = (keys: string) => ({ ...scriptEnv(servers.pg, servers.moto, bucket, servers.passphrase, "postgres"), RESTORE_GPG_PRIVATE_KEYS_FILE: keys });
            const target = path.join(servers.dir, "RECOVERYXLOG-pk");
            const refused = await runScript("wal-archive.sh", readerEnv(keyFile(servers.dir, "wal-stranger.asc", stranger.secretKey)), ["fetch", "000000010000000000000042", target]);
            assert.equal(refused.code, 5, explain(refused));
            assert.match(refused.stderr, new RegExp(`encrypted to ${current.fingerprint}`));
            const vaultKeys = keyFile(servers.dir, "wal-current.asc", current.secretKey);
            const fetched = await runScript("wal-archive.sh", readerEnv(vaultKeys), ["fetch", "000000010000000000000042", target]);
            assert.equal(fetched.code, 0, explain(fetched));
            assert.ok(fs.readFileSync(target).equals(data));

            const base = await runScript("wal-archive.sh", walEnv, ["base-backup"]);
            assert.equal(base.code, 0, explain(base));
            assert.deepEqual(servers.manifest(bucket, base.stdout.trim()).encryption.recipients, [current.fingerprint]);
            const dir = path.join(servers.dir, "restored-pk");
            const restored = await runScript("wal-archive.sh", readerEnv(vaultKeys), ["restore", dir, "--target-time", new Date(Date.now() + 1000).toISOString()]);
            assert.equal(restored.code, 0, explain(restored));
            assert.ok(fs.existsSync(path.join(dir, "PG_VERSION")));
        });
    });

    describe("exports", function () {
        it("client-config-export.sh encrypts to the recipients: the writer's keys cannot read it, the vault's can", async function () {
            const bucket = servers.newBucket("oauth2-pubkey-exports");
            const result = await runScript("client-config-export.sh", writerEnv(bucket, current.fingerprint));
            assert.equal(result.code, 0, explain(result));
            const key = result.stdout.trim();
            assert.deepEqual(listKeys(servers.moto, bucket, "clients/").filter((k) => k.endsWith(".gpg")), [key]);
            const body = getObject(servers.moto, bucket, key);
            assert.notEqual(decryptWith(servers.dir, [current.publicKey], body).status, 0);
            const plain = decryptWith(servers.dir, [current.secretKey], body);
            assert.equal(plain.status, 0, plain.stderr);
            assert.match(plain.stdout.toString("utf8"), /^id,/);
            const meta = awsCall(servers.moto, "s3", "head_object", { Bucket: bucket, Key: key }).Metadata ?? {};
            assert.equal(meta.encryption, "public-key");
            assert.equal(meta.recipients, current.fingerprint);
        });

        it("secrets-export.sh encrypts the Kubernetes secret and the JWK private key to the recipients", async function () {
            const bucket = servers.newBucket("oauth2-pubkey-secrets");
            const shims = fs.mkdtempSync(path.join(servers.dir, "bin-"));
            fakeKubectl(shims);
            const secretYaml = path.join(servers.dir, "secret.yaml");
            fs.writeFileSync(secretYaml, "apiVersion: v1\ndata:\n  signing-key: c2lnbmluZw==\nkind: Secret\nmetadata:\n  name: oauth2-server-secrets\n");
            createSecret(servers.moto, "oauth2/jwk-private-key", '{"kty":"RSA","kid":"key-1","d":"private-jwk"}');
            const jwks = http.createServer((_req, res) => res.end('{"keys":[{"kty":"RSA","kid":"key-1"}]}'));
            await new Promise<void>((resolve) => jwks.listen(0, "127.0.0.1", () => resolve()));
            try {
                const port = (jwks.address() as { port: number }).port;
                const result = await runScript("secrets-export.sh", { ...writerEnv(bucket, current.fingerprint), EXTRA_PATH: shims, SHIM_SECRET_FILE: secretYaml, JWKS_URL: `http://127.0.0.1:${port}/oauth2/jwks` });
                assert.equal(result.code, 0, explain(result));
                for (const [key, plain] of [["secrets/oauth2-server-secrets.yaml.gpg", /signing-key/], ["secrets/jwk-private-key.json.gpg", /private-jwk/]] as const) {
                    const body = getObject(servers.moto, bucket, key);
                    assert.notEqual(decryptWith(servers.dir, [current.publicKey], body).status, 0, key);
                    const opened = decryptWith(servers.dir, [current.secretKey], body);
                    assert.equal(opened.status, 0, opened.stderr);
                    assert.match(opened.stdout.toString("utf8"), plain);
                    assert.equal(awsCall(servers.moto, "s3", "head_object", { Bucket: bucket, Key: key }).Metadata.encryption, "public-key");
                }
            } finally {
                await new Promise((r) => jwks.close(() => r(undefined)));
            }
        });
    });
});
