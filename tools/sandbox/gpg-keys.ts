/**
 * OpenPGP keys for the tests, the drill and the benchmark: generated at run time (TEST ONLY, no passphrase,
 * ed25519 primary + cv25519 encryption subkey, a few milliseconds each) in a throwaway GNUPGHOME, exported
 * armored; the home and its gpg-agent are gone when the function returns.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

export interface TestKey {
    /** The primary key's fingerprint (40 hex digits, upper case), as BACKUP_GPG_RECIPIENTS names it. */
    fingerprint: string;
    /** Armored public key (what the backup jobs hold). */
    publicKey: string;
    /** Armored secret key (what the vault holds). */
    secretKey: string;
    /** The encryption subkey's fingerprint (absent for a sign-only key). */
    subkeyFingerprint?: string;
}

export interface TestKeyOptions {
    /** Expired (created in 2020 with a one-day expiry). */
    expired?: boolean;
    /** No encryption subkey (sign-only). */
    signOnly?: boolean;
    /** Revoked (its revocation certificate, which gpg writes at generation, imported before the export). */
    revoked?: boolean;
    /** The secret key protected by this passphrase (as an offline custody copy is). */
    passphrase?: string;
}

function gpg(home: string, args: string[]): string {
    const result = spawnSync("gpg", ["--batch", "--quiet", "--no-tty", ...args], { env: { ...process.env, GNUPGHOME: home }, encoding: "utf8" });
    if (result.status !== 0) {
        throw new Error(`gpg ${args.join(" ")} failed: ${result.stderr}`);
    }
    return result.stdout;
}

/** One TEST ONLY key pair named `name`. */
export function generateTestKey(name: string, options: TestKeyOptions = {}): TestKey {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), "oauth2-dr-testkey-"));
    fs.chmodSync(home, 0o700);
    if (options.passphrase !== undefined) {
        // A passphrase's protection at gpg's lowest S2K count (65536 bytes hashed), not the agent's calibrated one
        // (about 100 ms of hashing per protection, after a calibration of its own: some 3.7 s of gpg-agent's CPU
        // for one protected key, measured 2026-12-05, and as much again wherever the key is unprotected).
        // The key is as protected (the scripts check the agent's protection flag, not the count): TEST ONLY keys.
        fs.writeFileSync(path.join(home, "gpg-agent.conf"), "s2k-count 65536\n");
    }
    try {
        const time = options.expired ? ["--faked-system-time", "20200101T000000"] : [];
        const expiry = options.expired ? "1d" : "0";
        const uid = `${name} TEST ONLY <${name.toLowerCase().replace(/[^a-z0-9]+/g, "-")}@test.invalid>`;
        const pass = ["--pinentry-mode", "loopback", "--passphrase", options.passphrase ?? ""];
        gpg(home, [...time, ...pass, "--quick-gen-key", uid, "ed25519", options.signOnly ? "sign" : "cert", expiry]);
        const fingerprint = gpg(home, ["--with-colons", "--list-keys"]).split("\n").find((l) => l.startsWith("fpr:"))!.split(":")[9];
        if (!options.signOnly) {
            gpg(home, [...time, ...pass, "--quick-add-key", fingerprint, "cv25519", "encr", expiry]);
        }
        if (options.revoked) {
            // gpg prefixes the certificate's armor line with ':' so that it is not imported by mistake.
            const certificate = fs.readFileSync(path.join(home, "openpgp-revocs.d", `${fingerprint}.rev`), "utf8").replace(/^:-----BEGIN/m, "-----BEGIN");
            const imported = spawnSync("gpg", ["--batch", "--quiet", "--import"], { env: { ...process.env, GNUPGHOME: home }, input: certificate, encoding: "utf8" });
            if (imported.status !== 0) {
                throw new Error(`gpg --import of the revocation certificate failed: ${imported.stderr}`);
            }
        }
        const subkeyFingerprint = gpg(home, ["--with-colons", "--list-keys", fingerprint]).split("\n").filter((l) => l.startsWith("fpr:"))[1]?.split(":")[9];
        return {
            fingerprint,
            publicKey: gpg(home, ["--armor", "--export", fingerprint]),
            secretKey: gpg(home, [...pass, "--armor", "--export-secret-keys", fingerprint]),
            ...(subkeyFingerprint ? { subkeyFingerprint } : {}),
        };
    } finally {
        spawnSync("gpgconf", ["--kill", "gpg-agent"], { env: { ...process.env, GNUPGHOME: home } });
        fs.rmSync(home, { recursive: true, force: true });
    }
}

/** Writes `text` to `dir/name` (mode 600) and returns its path. */
export function keyFile(dir: string, name: string, text: string): string {
    const file = path.join(dir, name);
    fs.writeFileSync(file, text, { mode: 0o600 });
    return file;
}

/** gpg --decrypt of `body` in a fresh GNUPGHOME holding only `armoredKeys` (none: an empty keyring). */
export function decryptWith(dir: string, armoredKeys: string[], body: Buffer): { status: number | null; stdout: Buffer; stderr: string } {
    const home = fs.mkdtempSync(path.join(dir, "gnupg-"));
    fs.chmodSync(home, 0o700);
    const env = { ...process.env, GNUPGHOME: home };
    try {
        for (const key of armoredKeys) {
            spawnSync("gpg", ["--batch", "--quiet", "--import"], { env, input: key });
        }
        const result = spawnSync("gpg", ["--batch", "--quiet", "--pinentry-mode", "loopback", "--passphrase", "", "--decrypt"], { env, input: body });
        return { status: result.status, stdout: result.stdout, stderr: String(result.stderr) };
    } finally {
        spawnSync("gpgconf", ["--kill", "gpg-agent"], { env });
        fs.rmSync(home, { recursive: true, force: true });
    }
}
