/**
 * backupEncryption: how the dumps and exports are encrypted, checked before any resource is declared.
 *
 *  - mode: "public-key" (the default in production) or "symmetric" (the default elsewhere). A production stack
 *    may not choose symmetric: the one passphrase lives in the production account, where every writer, and
 *    anyone holding the account, can read it (issue 23, "writers cannot read").
 *  - recipients (public-key mode): each an armored public key (its v4 fingerprint is computed, lib/config/pgp.ts)
 *    or a 40-hex fingerprint. A fingerprint alone needs its armored key from the vault stack, which publishes
 *    the armored keys of its own `backupEncryption.recipients` (output `backupPublicKeys`): so a stack that gives
 *    a fingerprint must name a vaultStack, and the vault stack itself must give armored keys. Unset recipients
 *    with a vaultStack: every key the vault publishes. An empty list, a duplicate (same fingerprint), malformed
 *    armor, a fingerprint that is not 40 hex and a private key are refused, naming the key
 *    (`backupEncryption.recipients[2]`); a private key's text is never repeated in any message.
 */
import { checkArmoredKey, looksArmored, normalizeFingerprint } from "../pgp";
import type { Values } from "../schema";
import type { BackupEncryptionConfig, BackupRecipient } from "../types";
import type { Fail, RuleContext } from "./context";

type Mode = BackupEncryptionConfig["mode"];

function modeOf(v: Values): Mode {
    const given = v.backupEncryption?.mode as Mode | undefined;
    return given ?? ((v.environment ?? "production") === "production" ? "public-key" : "symmetric");
}

type Checked = { recipient: BackupRecipient; from: "armor" | "fingerprint" } | { problem: string };

/** One recipient: its fingerprint (and armor), or the problem, which never quotes a key's text. */
function checkRecipient(value: unknown): Checked {
    if (typeof value !== "string" || value.trim() === "") {
        return { problem: "must be an armored public key or a 40-hex fingerprint (a non-empty string)" };
    }
    if (looksArmored(value)) {
        const check = checkArmoredKey(value);
        if (check.kind === "private") {
            return {
                problem: "is a PRIVATE key (refused, not shown): remove it from the stack configuration and its history now, treat it as "
                    + "compromised and rotate it; only public keys belong here, the private keys live in the vault account's Secrets Manager",
            };
        }
        if (check.kind === "revoked") {
            return {
                problem: `is the REVOKED key ${check.fingerprint} (its armor carries a key revocation signature): gpg refuses to encrypt to it, `
                    + "so every backup would fail; remove it and give the custodians' current key",
            };
        }
        if (check.kind === "cannot-encrypt") {
            return { problem: `key ${check.fingerprint} ${check.reason.startsWith("has") || check.reason.startsWith("expired") ? "" : "cannot be encrypted to: "}${check.reason}` };
        }
        if (check.kind === "malformed") {
            return { problem: `is malformed armor: ${check.reason}` };
        }
        return { recipient: { fingerprint: check.fingerprint, armor: value.trim() + "\n" }, from: "armor" };
    }
    const fingerprint = normalizeFingerprint(value);
    if (!fingerprint) {
        const hex = value.replace(/\s+/g, "");
        // Only hex is quoted back: any other text might be key material in another format (PEM, raw base64).
        return /^(0x)?[0-9A-Fa-f]{1,80}$/.test(hex)
            ? { problem: `"${hex}" has ${hex.replace(/^0x/, "").length} hex digits; a fingerprint has 40 (a key id is not enough, see gpg --fingerprint)` }
            : { problem: "is neither an armored public key (-----BEGIN PGP PUBLIC KEY BLOCK-----) nor a 40-hex fingerprint (the value is not shown)" };
    }
    return { recipient: { fingerprint }, from: "fingerprint" };
}

/** The recipients that passed, in order, and each problem reported against its index. */
function checkRecipients(list: unknown[], fail: Fail): Array<{ recipient: BackupRecipient; from: "armor" | "fingerprint"; index: number }> {
    const good: Array<{ recipient: BackupRecipient; from: "armor" | "fingerprint"; index: number }> = [];
    list.forEach((value, index) => {
        const checked = checkRecipient(value);
        if ("problem" in checked) {
            fail(`backupEncryption.recipients[${index}]`, checked.problem);
            return;
        }
        const earlier = good.find((g) => g.recipient.fingerprint === checked.recipient.fingerprint);
        if (earlier) {
            fail(`backupEncryption.recipients[${index}]`, `duplicates backupEncryption.recipients[${earlier.index}] (fingerprint ${checked.recipient.fingerprint})`);
            return;
        }
        good.push({ ...checked, index });
    });
    return good;
}

export function encryptionRules(v: Values, ctx: RuleContext, fail: Fail): void {
    if (ctx.invalid("backupEncryption")) {
        return;
    }
    const mode = modeOf(v);
    const production = (v.environment ?? "production") === "production";
    const list = v.backupEncryption?.recipients;
    const good = checkRecipients(list ?? [], fail);
    if (mode === "symmetric") {
        if (production) {
            fail("backupEncryption.mode", "symmetric is refused in production: the one passphrase lives in the production account, so every backup writer (and anyone holding the account) could read every backup; use public-key (the default) with the vault's keys");
        }
        if (list !== undefined && list.length > 0) {
            fail("backupEncryption.recipients", "apply to mode public-key only; remove them or set mode: public-key");
        }
        return;
    }
    if (list !== undefined && list.length === 0) {
        fail("backupEncryption.recipients", "is empty: public-key mode needs at least one recipient (leave it unset on a stack with vaultStack to use every key the vault publishes)");
        return;
    }
    if (v.role === "vault") {
        if (list === undefined) {
            fail("backupEncryption.recipients", "is required on the vault stack: the armored public keys whose private keys the vault holds (it publishes them to prod and dr as backupPublicKeys)");
        }
        for (const g of good.filter((x) => x.from === "fingerprint")) {
            fail(`backupEncryption.recipients[${g.index}]`, `fingerprint ${g.recipient.fingerprint} has no armored key: the vault stack publishes the keys, so give the armored public key here`);
        }
        return;
    }
    const jobs = (v.cloud ?? "aws") === "aws" && v.backupJobs?.enabled !== false;
    if (!v.vaultStack && jobs) {
        fail("vaultStack", "is required in backupEncryption public-key mode (the default in production): the private keys live in the vault account, where the monthly restore verification reads them; name the vault stack, or set backupEncryption.mode: symmetric outside production");
    }
    if (!v.vaultStack) {
        if (list === undefined) {
            fail("backupEncryption.recipients", "is required in public-key mode without a vaultStack: the armored public keys of the backups' recipients (or name a vaultStack that publishes them)");
        }
        for (const g of good.filter((x) => x.from === "fingerprint")) {
            fail(`backupEncryption.recipients[${g.index}]`, `fingerprint ${g.recipient.fingerprint} has no armored key: give the armored public key, or set vaultStack to a vault stack that publishes it`);
        }
    }
}

/** The parsed setting (rules passed): the mode and the recipients, fingerprints normalised. */
export function backupEncryptionOf(v: Values): BackupEncryptionConfig {
    const mode = modeOf(v);
    if (mode === "symmetric") {
        return { mode, recipients: [], allFromVault: false };
    }
    const list = v.backupEncryption?.recipients;
    const recipients = (list ?? []).map((value) => {
        const checked = checkRecipient(value);
        if ("problem" in checked) {
            throw new Error("backupEncryption: a recipient passed the rules but not the parse");
        }
        return checked.recipient;
    });
    return { mode, recipients, allFromVault: list === undefined };
}
