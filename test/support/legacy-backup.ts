/**
 * A backup as db-backup.sh wrote it before manifests recorded the compression, the passphrase version and
 * the schema (manifest format v1): pg_dump's custom format with its own (zlib) compression, encrypted with
 * gpg, and the v1 manifest's fields. Restores must keep reading these.
 */
import { spawnSync } from "child_process";
import { createHash, randomBytes } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { putObject } from "../../tools/sandbox/scripts";
import { MotoServer, PG_BIN, PgServer } from "../../tools/sandbox/servers";

function run(command: string, args: string[], env: NodeJS.ProcessEnv, input?: Buffer): Buffer {
    const result = spawnSync(command, args, { env, input, maxBuffer: 512 * 1024 * 1024 });
    if (result.status !== 0) {
        throw new Error(`${command} ${args.join(" ")} failed: ${result.stderr}`);
    }
    return result.stdout;
}

/** Writes a v1 backup of `database` under database/ and returns its manifest key. */
export function legacyBackup(pg: PgServer, moto: MotoServer, bucket: string, passphraseFile: string, database: string, scratch: string): string {
    const env = { ...process.env, ...pg.env(database), GNUPGHOME: fs.mkdtempSync(path.join(scratch, "gnupg-")) };
    const dump = run(path.join(PG_BIN, "pg_dump"), ["--format=custom", database], env);
    // The old db-backup.sh named no S2K count: gpg took the count its fresh gpg-agent calibrates (a second of the
    // agent's CPU, then about as long for each decryption). Under the test suite's TEST_ONLY_GPG_S2K_COUNT
    // (.mocharc.js, as the scripts take it) that count is named instead; restores read the count from the packet,
    // so what the legacy cases prove (the v1 manifest, pg_dump's own compression) is the same.
    const s2k = process.env.TEST_ONLY_GPG_S2K_COUNT ? ["--s2k-count", process.env.TEST_ONLY_GPG_S2K_COUNT] : [];
    let encrypted: Buffer;
    try {
        encrypted = run("gpg", ["--batch", "--quiet", "--pinentry-mode", "loopback", "--passphrase-file", passphraseFile, "--symmetric",
            "--cipher-algo", "AES256", "--s2k-digest-algo", "SHA512", ...s2k, "--compress-algo", "none", "--force-mdc", "--output", "-"], env, dump);
    } finally {
        // The gpg-agent gpg started for this home: stopped now, not left to notice its home is gone.
        spawnSync("gpgconf", ["--kill", "gpg-agent"], { env });
    }
    const now = new Date();
    const stamp = now.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
    const name = `${database}-${stamp}-${randomBytes(4).toString("hex")}`;
    const objectKey = `database/${name}.dump.gpg`;
    putObject(moto, bucket, objectKey, encrypted);
    const counts = ["oauth2_authorization", "oauth2_authorization_consent", "oauth2_registered_client"]
        .map((t) => `    "${t}": ${pg.psql(`SELECT count(*) FROM ${t}`, database)}`);
    const manifest = [
        "{",
        `  "format": "oauth2-dr/db-backup-manifest/v1",`,
        `  "status": "complete",`,
        `  "database": "${database}",`,
        `  "schema": "public",`,
        `  "object_key": "${objectKey}",`,
        `  "size_bytes": ${encrypted.length},`,
        `  "sha256": "${createHash("sha256").update(encrypted).digest("hex")}",`,
        `  "encryption": "gpg-symmetric-aes256",`,
        `  "format_of_dump": "pg_dump-custom",`,
        `  "pg_dump_version": "${run(path.join(PG_BIN, "pg_dump"), ["--version"], env).toString().trim()}",`,
        `  "server_version": "${pg.psql("SHOW server_version", database)}",`,
        `  "database_size_bytes": ${pg.psql("SELECT pg_database_size(current_database())", database)},`,
        `  "started_at": "${now.toISOString().replace(/\.\d+Z$/, "Z")}",`,
        `  "finished_at": "${now.toISOString().replace(/\.\d+Z$/, "Z")}",`,
        `  "row_counts": {`,
        counts.join(",\n"),
        "  }",
        "}",
    ].join("\n");
    const manifestKey = `database/manifests/${name}.json`;
    putObject(moto, bucket, manifestKey, manifest + "\n");
    return manifestKey;
}
