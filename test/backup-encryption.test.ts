/**
 * Issue 23 item 3 (the Pulumi half): "writers cannot read". backupEncryption is checked before any resource
 * is declared (each bad recipient named by its key, a private key refused and never shown); in public-key mode
 * the writer CronJobs get the recipients' public keys (a ConfigMap mounted read-only) and BACKUP_GPG_* but no
 * passphrase (env or IAM), and the restore verification reads the vault account's private keys through the
 * vault's key-reader role, which trusts only prod's and dr's verification roles. Symmetric stacks keep the
 * passphrase.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { checkArmoredKey } from "../lib/config/pgp";
import { PlannedResource, PlanResult } from "offline-plan/model";
import { configProblems, parseWith } from "./support/stack-config";
import { props, REPO, planRepo, resource, resourcesOfType } from "./support/plans";
import { planWith } from "./support/dr-plans";
import { resolveRecipients, trustedKeyReader } from "../stacks/compose-storage";

const KEYS = path.join(REPO, "test", "fixtures", "backup-keys");
const ARMOR_1 = fs.readFileSync(path.join(KEYS, "test-public-1.asc"), "utf8");
const ARMOR_2 = fs.readFileSync(path.join(KEYS, "test-public-2.asc"), "utf8");
// As `gpg --list-keys --with-colons` printed them when the fixtures were made.
const FP_1 = "BEF9278C34B47F49FD8082FF62827601414345DF";
const FP_2 = "EBE509DAD191BBD12C9CAE5165FF7260C90AE7C2";
// An ed25519/cv25519 TEST ONLY key revoked with the revocation certificate gpg made (public half only; `gpg
// --with-colons` lists it as pub:r with this fingerprint).
const ARMOR_REVOKED = fs.readFileSync(path.join(KEYS, "test-revoked.asc"), "utf8");
const FP_REVOKED = "F3DEA3E3F7BB4FD2BD04FEAF761F8F23859CA0B7";
// TEST ONLY keys gpg cannot encrypt to: an ed25519 certify-only key, and one whose only cv25519 encryption
// subkey expired on 2025-01-11 (made with --faked-system-time); `echo x | gpg -e -r` fails for both.
const ARMOR_CERT_ONLY = fs.readFileSync(path.join(KEYS, "test-certify-only.asc"), "utf8");
const ARMOR_EXPIRED_SUBKEY = fs.readFileSync(path.join(KEYS, "test-expired-encryption-subkey.asc"), "utf8");
// Its primary key expired on 2025-01-11, its cv25519 subkey never expires: gpg still refuses it.
const ARMOR_EXPIRED_PRIMARY = fs.readFileSync(path.join(KEYS, "test-expired-primary.asc"), "utf8");

/** An armored block of one packet (new format), without the optional checksum line. */
function armoredPacket(type: string, tag: number, body: Buffer): string {
    const packet = Buffer.concat([Buffer.from([0xc0 | tag, body.length]), body]);
    return `-----BEGIN PGP ${type}-----\n\n${packet.toString("base64")}\n-----END PGP ${type}-----\n`;
}
// What a pasted secret key would carry; the tests check that no message repeats it.
const SECRET_MARK = "c2VjcmV0LWtleS1tYXRlcmlhbA";
const PRIVATE_BLOCK = `-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nlQVYBGsS9Ng${SECRET_MARK}BDACjFikhex1mNkgHWq13Ly\n=abcd\n-----END PGP PRIVATE KEY BLOCK-----\n`;
const SECRET_PACKET_UNDER_PUBLIC_HEADER = armoredPacket("PUBLIC KEY BLOCK", 5, Buffer.from("\x04secret-key-material-here", "latin1"));

const parse = parseWith;
const problems = configProblems;

function problem(stack: string, overrides: Record<string, string | null>, key: string): string {
    const all = problems(stack, overrides);
    const line = all.find((l) => l.startsWith(`${key}: `));
    assert.ok(line, `no problem for ${key}: ${all.join("; ")}`);
    return line;
}

const encryption = (value: object) => ({ "oauth2-dr:backupEncryption": JSON.stringify(value) });
const recipients = (...list: unknown[]) => encryption({ recipients: list });
const KEY0 = "oauth2-dr:backupEncryption.recipients[0]";
const KEY1 = "oauth2-dr:backupEncryption.recipients[1]";

describe("backupEncryption: configuration", () => {
    it("computes a v4 fingerprint from armor as gpg does", () => {
        assert.deepEqual(checkArmoredKey(ARMOR_1), { kind: "public", fingerprint: FP_1, subkeys: 0 });
        assert.deepEqual(checkArmoredKey(ARMOR_2), { kind: "public", fingerprint: FP_2, subkeys: 0 });
    });

    it("production defaults to public-key with every key the vault publishes; the vault lists the armored keys; staging stays symmetric", () => {
        assert.deepEqual(parse("prod").backupEncryption, { mode: "public-key", recipients: [], allFromVault: true });
        assert.deepEqual(parse("dr").backupEncryption.mode, "public-key");
        const vault = parse("vault").backupEncryption;
        assert.deepEqual(vault.recipients.map((r) => r.fingerprint), [FP_1, FP_2]);
        assert.ok(vault.recipients.every((r) => r.armor?.startsWith("-----BEGIN PGP PUBLIC KEY BLOCK-----")));
        assert.deepEqual(parse("prod", { "oauth2-dr:environment": "staging" }).backupEncryption, { mode: "symmetric", recipients: [], allFromVault: false });
        // The azure and gcp stacks (no backup CronJobs) parse as they did.
        for (const stack of ["prod-azure", "dr-azure", "prod-gcp", "dr-gcp"]) {
            assert.equal(parse(stack).backupEncryption.mode, "public-key", stack);
        }
    });

    it("takes armored keys and fingerprints (spaces and case as gpg prints them), normalised", () => {
        const spaced = FP_2.toLowerCase().replace(/(.{4})/g, "$1 ").trim();
        const config = parse("prod", recipients(ARMOR_1, spaced)).backupEncryption;
        assert.deepEqual(config.recipients.map((r) => [r.fingerprint, r.armor !== undefined]), [[FP_1, true], [FP_2, false]]);
        assert.equal(config.allFromVault, false);
    });

    it("refuses symmetric in production, naming the key", () => {
        assert.match(problem("prod", encryption({ mode: "symmetric" }), "oauth2-dr:backupEncryption.mode"), /symmetric is refused in production: .*every backup writer/);
        assert.match(problem("prod", encryption({ mode: "aes" }), "oauth2-dr:backupEncryption.mode"), /"aes" is not one of public-key, symmetric/);
    });

    it("refuses malformed armor: a changed character (checksum), a cut block, another armor type", () => {
        const edited = ARMOR_1.replace(/\n([A-Za-z0-9+/]{10})/, (_m, s: string) => `\n${s.slice(0, 9)}${s[9] === "A" ? "B" : "A"}`);
        assert.match(problem("prod", recipients(edited), KEY0), /is malformed armor: .*(checksum|packet)/);
        assert.match(problem("prod", recipients(ARMOR_1.slice(0, 400)), KEY0), /is malformed armor: no -----END PGP PUBLIC KEY BLOCK----- line/);
        assert.match(problem("prod", recipients(ARMOR_1.replace(/PUBLIC KEY BLOCK/g, "SIGNATURE")), KEY0), /malformed armor: an armored "SIGNATURE"/);
        assert.match(problem("prod", recipients(ARMOR_1 + ARMOR_2), KEY0), /more than one armored block/);
    });

    it("refuses armor pasted as a YAML folded scalar (>), saying so rather than 'not base64'", () => {
        // `>` joins the base64 lines with spaces (the blank line after BEGIN stays a line break).
        const [head, ...rest] = ARMOR_1.trim().split("\n\n");
        const folded = `${head}\n${rest.join("\n\n").split("\n").join(" ")}\n`;
        assert.match(problem("prod", recipients(folded), KEY0), /is malformed armor: the armor's lines are joined by spaces \(a YAML folded scalar `>`\? paste it as a literal block `\|`/);
    });

    it("refuses a revoked key, naming its fingerprint, before any backup fails on it", () => {
        assert.deepEqual(checkArmoredKey(ARMOR_REVOKED), { kind: "revoked", fingerprint: FP_REVOKED });
        assert.match(problem("vault", recipients(ARMOR_1, ARMOR_REVOKED), KEY1), new RegExp(`is the REVOKED key ${FP_REVOKED} .*gpg refuses to encrypt to it`));
    });

    it("refuses a key gpg cannot encrypt to (certify-only, its encryption subkey expired), naming its fingerprint", () => {
        assert.match(problem("vault", recipients(ARMOR_1, ARMOR_CERT_ONLY), KEY1), /key 9244D0C7656F33DBAF461B7FCCB3F80E91A07BCB has no key gpg can encrypt to \(a certify- or sign-only key/);
        assert.match(problem("vault", recipients(ARMOR_EXPIRED_SUBKEY), KEY0), /key 623D4FE25D613F800509FDED9C3476843246D1E1 cannot be encrypted to: every encryption key of it expired \(the last on 2025-01-11\)/);
        assert.match(problem("vault", recipients(ARMOR_EXPIRED_PRIMARY), KEY0), /key 088D9A9BD169DAE55F7CD5F6BA5103F04ACFDFCF expired on 2025-01-11 \(its primary key\): extend it/);
        // Before they expired the same keys were fine.
        assert.equal(checkArmoredKey(ARMOR_EXPIRED_SUBKEY, Date.UTC(2025, 0, 5)).kind, "public");
        assert.equal(checkArmoredKey(ARMOR_EXPIRED_PRIMARY, Date.UTC(2025, 0, 5)).kind, "public");
    });

    it("takes a fingerprint written with 0x, normalised", () => {
        assert.deepEqual(parse("prod", recipients(`0x${FP_2.toLowerCase()}`)).backupEncryption.recipients, [{ fingerprint: FP_2 }]);
    });

    it("refuses a fingerprint that is not 40 hex, and text that is neither (without repeating it)", () => {
        assert.match(problem("prod", recipients(FP_1.slice(0, 39)), KEY0), /"BEF9278C34B47F49FD8082FF62827601414345D" has 39 hex digits; a fingerprint has 40/);
        assert.match(problem("prod", recipients(FP_1.slice(-16)), KEY0), /has 16 hex digits; .*key id is not enough/);
        const pem = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----";
        const line = problem("prod", recipients(pem), KEY0);
        assert.match(line, /is neither an armored public key .* nor a 40-hex fingerprint \(the value is not shown\)/);
        assert.ok(!line.includes("MIIEvQ"), line);
        assert.match(problem("prod", recipients(42), KEY0), /must be an armored public key or a 40-hex fingerprint/);
    });

    it("refuses a fingerprint without its armored key where no vault publishes it", () => {
        const noVault = { "oauth2-dr:vaultStack": null };
        assert.match(problem("prod", { ...noVault, ...recipients(FP_1) }, KEY0), /fingerprint BEF9278C34B47F49FD8082FF62827601414345DF has no armored key: give the armored public key, or set vaultStack/);
        assert.match(problem("prod", noVault, "oauth2-dr:vaultStack"), /is required in backupEncryption public-key mode .* the monthly restore verification reads them/);
        assert.match(problem("vault", recipients(ARMOR_1, FP_2), KEY1), /fingerprint EBE509DAD191BBD12C9CAE5165FF7260C90AE7C2 has no armored key: the vault stack publishes the keys/);
        // Outside AWS's backup jobs (azure, gcp) a staging stack without a vault may use armored keys alone.
        assert.equal(parse("prod-azure", { ...noVault, "oauth2-dr:environment": "staging", ...encryption({ mode: "public-key", recipients: [ARMOR_1] }) }).backupEncryption.recipients[0].fingerprint, FP_1);
    });

    it("refuses duplicates (the same key as armor and as fingerprint), an empty list, and recipients in symmetric mode", () => {
        assert.match(problem("prod", recipients(ARMOR_1, FP_1.toLowerCase()), KEY1), /duplicates backupEncryption.recipients\[0\] \(fingerprint BEF9278C34B47F49FD8082FF62827601414345DF\)/);
        assert.match(problem("prod", recipients(FP_2, FP_2), KEY1), /duplicates backupEncryption.recipients\[0\]/);
        assert.match(problem("prod", recipients(), "oauth2-dr:backupEncryption.recipients"), /is empty: public-key mode needs at least one recipient/);
        assert.match(problem("vault", { "oauth2-dr:backupEncryption": "{}" }, "oauth2-dr:backupEncryption.recipients"), /is required on the vault stack/);
        assert.match(problem("prod", { "oauth2-dr:environment": "staging", ...encryption({ mode: "symmetric", recipients: [FP_1] }) }, "oauth2-dr:backupEncryption.recipients"), /apply to mode public-key only/);
        assert.match(problem("prod", encryption({ mode: "public-key", passphrase: "x" }), "oauth2-dr:backupEncryption.passphrase"), /unknown key; backupEncryption has mode, recipients/);
    });

    it("refuses a private key pasted by mistake, loudly, and never repeats it", () => {
        for (const [what, pasted] of [["PRIVATE KEY BLOCK", PRIVATE_BLOCK], ["secret-key packet under a public header", SECRET_PACKET_UNDER_PUBLIC_HEADER]]) {
            const all = problems("prod", recipients(ARMOR_1, pasted));
            const line = all.find((l) => l.startsWith(`${KEY1}: `));
            assert.ok(line, `${what}: ${all.join("; ")}`);
            assert.match(line, /is a PRIVATE key \(refused, not shown\): remove it .* rotate it/);
            for (const l of all) {
                assert.ok(!l.includes(SECRET_MARK) && !l.includes("lQVY") && !l.includes("secret-key-material") && !l.includes(pasted.split("\n")[2].slice(0, 12)), `${what} echoed: ${l}`);
            }
        }
        // A malformed section (not JSON) holding a key is not echoed either.
        const broken = problem("prod", { "oauth2-dr:backupEncryption": `{"recipients": ["${PRIVATE_BLOCK.replace(/\n/g, "\\n")}"` }, "oauth2-dr:backupEncryption");
        assert.ok(!broken.includes(SECRET_MARK) && !broken.includes("PRIVATE"), broken);
    });

    it("a fingerprint the vault does not publish stops the plan, naming it; every published key when none is given", () => {
        const published = [{ fingerprint: FP_1, armor: ARMOR_1 }];
        const setting = (list: Array<{ fingerprint: string; armor?: string }>, allFromVault = false) => ({ mode: "public-key" as const, recipients: list, allFromVault });
        assert.deepEqual(resolveRecipients(setting([], true), published, "org/oauth2-dr/vault"), published);
        assert.deepEqual(resolveRecipients(setting([{ fingerprint: FP_1 }]), published, "org/oauth2-dr/vault"), published);
        assert.throws(() => resolveRecipients(setting([{ fingerprint: FP_2 }]), published, "org/oauth2-dr/vault"), /backupEncryption.recipients\[0\]: fingerprint EBE509DAD191BBD12C9CAE5165FF7260C90AE7C2 has no armored key: the vault stack org\/oauth2-dr\/vault does not publish it/);
        assert.throws(() => resolveRecipients(setting([], true), [], "org/oauth2-dr/vault"), /publishes no backupPublicKeys/);
    });
});

const CRONJOB = "kubernetes:batch/v1:CronJob";
const ROLE = "aws:iam/role:Role";
const ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy";
const WRITERS = ["db-backup", "client-config-export", "secrets-export", "app-config-export"];

const podOf = (r: PlannedResource) => props(r).spec.jobTemplate.spec.template.spec;
const envOf = (r: PlannedResource): Record<string, string> => Object.fromEntries(podOf(r).containers[0].env.map((e: { name: string; value: string }) => [e.name, e.value]));
const jobRole = (plan: PlanResult, job: string) => resourcesOfType(plan, ROLE).find((r) => props(r).tags?.["oauth2-dr/job"] === job)!;
const jobPolicy = (plan: PlanResult, job: string) => JSON.parse(props(resource(plan, ROLE_POLICY, `${jobRole(plan, job).name}-policy`)).policy) as { Statement: Array<{ Sid: string; Action: string | string[]; Resource: unknown }> };

describe("backupEncryption: the planned stacks", () => {
    const plans: Record<string, PlanResult> = {};
    before(async function () {
        this.timeout(180000);
        for (const plan of await planRepo(["vault", "prod", "dr"])) {
            plans[plan.stack] = plan;
        }
    });

    for (const stack of ["prod", "dr"]) {
        it(`${stack}: every writer gets the public keys (read-only ConfigMap) and the fingerprints, and no passphrase (env or IAM)`, () => {
            const plan = plans[stack];
            const passphraseArn = /backup-passphrase/;
            const configMap = resourcesOfType(plan, "kubernetes:core/v1:ConfigMap").find((r) => props(r).metadata.name === "oauth2-dr-backup-public-keys")!;
            assert.ok(configMap, "no public-keys ConfigMap");
            assert.equal(props(configMap).metadata.namespace, "oauth2-system");
            const file = props(configMap).data["backup-public-keys.asc"] as string;
            assert.deepEqual([...file.matchAll(/-----BEGIN PGP PUBLIC KEY BLOCK-----/g)].length, 2);
            assert.ok(!/PRIVATE/.test(file));
            assert.deepEqual(file.split(/(?=-----BEGIN)/).map((k) => (checkArmoredKey(k) as { fingerprint: string }).fingerprint), [FP_1, FP_2]);
            for (const job of WRITERS) {
                const cron = resourcesOfType(plan, CRONJOB).find((r) => props(r).metadata.name === job)!;
                const env = envOf(cron);
                assert.equal(env.BACKUP_GPG_PUBLIC_KEYS_FILE, "/etc/oauth2-dr/gpg/backup-public-keys.asc", job);
                assert.equal(env.BACKUP_GPG_RECIPIENTS, `${FP_1} ${FP_2}`, job);
                assert.equal(env.BACKUP_PASSPHRASE_SECRET_ID, undefined, job);
                const pod = podOf(cron);
                assert.deepEqual(pod.containers[0].volumeMounts.find((m: { name: string }) => m.name === "public-keys"), { name: "public-keys", mountPath: "/etc/oauth2-dr/gpg", readOnly: true }, job);
                assert.deepEqual(pod.volumes.find((v: { name: string }) => v.name === "public-keys").configMap.name, "oauth2-dr-backup-public-keys", job);
                assert.ok(!passphraseArn.test(JSON.stringify(jobPolicy(plan, job))), `${job} may still read the passphrase`);
            }
        });

        it(`${stack}: the verification reads the vault's private keys through the vault's key-reader role, and nothing else decrypts`, () => {
            const plan = plans[stack];
            const vault = plans.vault.outputs as Record<string, string>;
            const cron = resourcesOfType(plan, CRONJOB).find((r) => props(r).metadata.name === "restore-verification")!;
            const env = envOf(cron);
            // dr reads the replica in its own region (the vault's second region): it works without the primary region.
            const region = stack === "dr" ? "us-west-2" : "us-east-1";
            assert.equal(vault.privateKeysReplicaRegion, "us-west-2");
            assert.equal(env.RESTORE_PRIVATE_KEYS_SECRET_ID, vault.privateKeysSecretArn.replace(":us-east-1:", `:${region}:`));
            assert.equal(env.RESTORE_PRIVATE_KEYS_REGION, region);
            assert.equal(env.RESTORE_PRIVATE_KEYS_ROLE_ARN, vault.verificationKeysRoleArn);
            assert.equal(env.BACKUP_PASSPHRASE_SECRET_ID, undefined);
            assert.equal(env.BACKUP_GPG_RECIPIENTS, undefined);
            assert.ok(!podOf(cron).volumes.some((v: { name: string }) => v.name === "public-keys"));
            const policy = jobPolicy(plan, "restore-verification");
            assert.deepEqual(policy.Statement.find((s) => s.Sid === "AssumeVaultKeyReader"), { Sid: "AssumeVaultKeyReader", Effect: "Allow", Action: "sts:AssumeRole", Resource: vault.verificationKeysRoleArn });
            assert.ok(!/backup-passphrase/.test(JSON.stringify(policy)));
            assert.equal(props(jobRole(plan, "restore-verification")).name, `oauth2-dr-verification-${stack}`);
        });
    }

    it("vault: the key-reader role trusts exactly prod's and dr's verification roles, reads only the private-keys secret, and the secret lets it read", () => {
        const vault = plans.vault;
        const role = resource(vault, ROLE, "oauth2-dr-verification-keys");
        const trust = JSON.parse(props(role).assumeRolePolicy).Statement;
        const verificationArns = ["prod", "dr"].map((s) => `arn:aws:iam::123456789012:role/${props(jobRole(plans[s], "restore-verification")).name}`);
        assert.deepEqual(trust, [{
            Sid: "RestoreVerificationJobsOnly",
            Effect: "Allow",
            Principal: { AWS: ["arn:aws:iam::123456789012:root"] },
            Action: "sts:AssumeRole",
            Condition: { ArnEquals: { "aws:PrincipalArn": verificationArns } },
        }]);
        const policy = JSON.parse(props(resource(vault, ROLE_POLICY, "oauth2-dr-verification-keys-policy")).policy).Statement;
        const secretArn = (vault.outputs as Record<string, string>).privateKeysSecretArn;
        assert.deepEqual(policy.map((s: { Action: string; Resource: string }) => [s.Action, s.Resource]), [
            ["secretsmanager:GetSecretValue", [secretArn, secretArn.replace(":us-east-1:", ":us-west-2:")]],
            ["kms:Decrypt", policy[1].Resource],
        ]);
        assert.equal(policy[1].Resource.length, 2, "the secret's key and its replica's");
        assert.match(policy[1].Resource[0], /^arn:aws:kms:us-east-1:210987654321:key\//);
        assert.match(policy[1].Resource[1], /^arn:aws:kms:us-west-2:210987654321:key\//);
        assert.deepEqual(policy[1].Condition, { StringEquals: { "kms:ViaService": ["secretsmanager.us-east-1.amazonaws.com", "secretsmanager.us-west-2.amazonaws.com"] } });
        const secret = resource(vault, "aws:secretsmanager/secret:Secret", "oauth2-dr/backup-private-keys");
        assert.deepEqual(props(secret).replicas.map((r: { region: string }) => r.region), ["us-west-2"]);
        const guard = JSON.parse(props(resource(vault, "aws:secretsmanager/secretPolicy:SecretPolicy", "oauth2-dr/backup-private-keys-guard")).policy).Statement;
        const readers = guard.find((s: { Sid: string }) => s.Sid === "ReadOnlyByRestoreRoles").Condition.ArnNotEquals["aws:PrincipalArn"];
        assert.deepEqual(readers, ["arn:aws:iam::210987654321:role/oauth2-dr-vault-restore", "arn:aws:iam::210987654321:role/oauth2-dr-verification-keys", "arn:aws:iam::210987654321:role/oauth2-dr-break-glass"]);
        assert.deepEqual((vault.outputs as { backupPublicKeys: Array<{ fingerprint: string }> }).backupPublicKeys.map((k) => k.fingerprint), [FP_1, FP_2]);
    });

    it("no plan or output holds a private key", () => {
        for (const plan of Object.values(plans)) {
            assert.ok(!/PRIVATE KEY BLOCK/.test(JSON.stringify(plan)), plan.stack);
        }
    });

    it("a symmetric (staging) stack keeps the passphrase: env and IAM, no public keys", async function () {
        this.timeout(180000);
        const plan = await planWith("prod", { "oauth2-dr:environment": "staging" }, { vault: plans.vault });
        assert.ok(!resourcesOfType(plan, "kubernetes:core/v1:ConfigMap").some((r) => props(r).metadata.name === "oauth2-dr-backup-public-keys"));
        for (const job of ["db-backup", "client-config-export", "secrets-export", "restore-verification"]) {
            const cron = resourcesOfType(plan, CRONJOB).find((r) => props(r).metadata.name === job)!;
            assert.match(envOf(cron).BACKUP_PASSPHRASE_SECRET_ID, /oauth2\/backup-passphrase/, job);
            assert.equal(envOf(cron).BACKUP_GPG_RECIPIENTS, undefined, job);
            assert.match(JSON.stringify(jobPolicy(plan, job)), /oauth2\/backup-passphrase/, job);
        }
    });

    it("a vault that does not trust this stack's verification role, or has no key reader, stops the plan naming the role", async function () {
        this.timeout(180000);
        const untrusting = structuredClone(plans.vault);
        (untrusting.outputs as Record<string, unknown>).verificationRoleArns = ["arn:aws:iam::123456789012:role/oauth2-dr-verification-dr"];
        await assert.rejects(planWith("prod", {}, { vault: untrusting }), /the vault stack organization\/oauth2-dr\/vault does not trust this stack's restore verification: add arn:aws:iam::123456789012:role\/oauth2-dr-verification-prod to its vault.verificationRoleArns/);
        assert.throws(() => trustedKeyReader(undefined, undefined, "arn:aws:iam::1:role/x", "o/p/vault"), /declares no verification key reader .* list arn:aws:iam::1:role\/x in its vault.verificationRoleArns/);
        assert.equal(trustedKeyReader("arn:k", ["arn:aws:iam::1:role/x"], "arn:aws:iam::1:role/x", "o/p/vault"), "arn:k");
        // A vault deployed before it published verificationRoleArns (its outputs known, that one absent): stopped,
        // naming the output and the fix, never the key reader's ARN handed over unchecked (h32).
        const older = structuredClone(plans.vault);
        delete (older.outputs as Record<string, unknown>).verificationRoleArns;
        await assert.rejects(planWith("prod", {}, { vault: older }), /the vault stack organization\/oauth2-dr\/vault does not publish its output verificationRoleArns .*trusts arn:aws:iam::123456789012:role\/oauth2-dr-verification-prod cannot be checked: run `pulumi up` on the vault stack organization\/oauth2-dr\/vault first/);
        assert.throws(() => trustedKeyReader("arn:k", undefined, "arn:aws:iam::1:role/x", "o/p/vault"), /does not publish its output verificationRoleArns/);
    });

    it("prod with only a fingerprint takes its armored key from the vault's outputs", async function () {
        this.timeout(180000);
        const plan = await planWith("prod", recipients(FP_2), { vault: plans.vault });
        const configMap = resourcesOfType(plan, "kubernetes:core/v1:ConfigMap").find((r) => props(r).metadata.name === "oauth2-dr-backup-public-keys")!;
        assert.equal(props(configMap).data["backup-public-keys.asc"], ARMOR_2.trim() + "\n");
        const cron = resourcesOfType(plan, CRONJOB).find((r) => props(r).metadata.name === "db-backup")!;
        assert.equal(envOf(cron).BACKUP_GPG_RECIPIENTS, FP_2);
    });
});
