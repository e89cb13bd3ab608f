/**
 * h39 trial of `npm run recovery-points` by an on-call operator and a platform engineer who did not write it,
 * on bucket contents the other tests do not have:
 *   - a dump object replaced since its backup: a v1 manifest (no S3 version recorded) and a v2 manifest of an
 *     unversioned bucket (s3_version_id null) whose key now holds another, larger object. restore.sh reads the
 *     current version and stops with exit 4 ("has N bytes, the manifest ... says M"); the listing printed the
 *     point as restorable, with its command.
 *   - manifest keys with a space and with `$(...)` (a key S3 accepts: someone's copy, a hostile writer): the
 *     printed restore command put the key unquoted, so that pasted it split the key in two, or ran the command
 *     substitution in the operator's shell; the text table's line continuation could fall inside the key.
 *
 * moto_server on 127.0.0.1 serves S3; the stack prod-azure is used: its listing reads S3 alone.
 */
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { PutBucketVersioningCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { MotoServer } from "../tools/sandbox/servers";
import { unhideCommand, type ClientFactory, type ClientOptions } from "../tools/recovery-points/collect";
import type { Report } from "../tools/recovery-points/points";
import { useEnv } from "./support/process-state";
import { AZURE_BACKUP_BUCKET, azureStackBuckets, endAzureWorld, runRecoveryPoints } from "./support/recovery-points";

const BUCKET = AZURE_BACKUP_BUCKET;
const V1 = "database/manifests/oauth2db-20261201T030000Z-v1replaced01.json";
const UNVERSIONED = "database/manifests/oauth2db-20261202T030000Z-v2replaced02.json";
const INTACT = "database/manifests/oauth2db-20261203T030000Z-v2intact0003.json";
// Longer than a line of the table, with two spaces in a row: no line break and no lost space may fall in it.
const SPACED = "database/manifests/oauth2db 20261204T030000Z copy kept before the schema migration  (1).json";
// A file the command substitution would create in the shell's directory if the printed command ran it.
const HOSTILE = "database/manifests/oauth2db-20261205T030000Z-$(touch${IFS}h39-pwned).json";

const run = runRecoveryPoints;

/**
 * The words bash makes of `command` (as an operator pastes it), with scripts/restore.sh replaced by a printer of
 * its arguments; run in `dir`, where a command substitution would leave its file.
 */
function pasted(command: string, dir: string): string[] {
    assert.match(command, /scripts\/restore\.sh /);
    const script = command.replace("scripts/restore.sh", "printf '%s\\0'");
    const result = spawnSync("bash", ["-c", script], { cwd: dir, encoding: "utf8" });
    assert.equal(result.status, 0, result.stderr);
    return result.stdout.split("\0").slice(0, -1);
}

/**
 * The restore command the text report prints whose lines hold `fragment` (a part of the key without spaces), as
 * printed: continuation lines and all, for bash to join them as it would a paste.
 */
function textCommand(text: string, fragment: string): string {
    const lines = text.split("\n");
    for (let i = 0; i < lines.length; i++) {
        if (!lines[i].includes("scripts/restore.sh")) {
            continue;
        }
        let end = i;
        while (lines[end].endsWith(" \\") && end + 1 < lines.length) {
            end++;
        }
        const command = lines.slice(i, end + 1).join("\n");
        if (command.includes(fragment)) {
            return command;
        }
    }
    throw new Error(`no restore command with ${fragment} in:\n${text}`);
}

describe("recovery-points, h39 trial: a dump object replaced since its backup, manifest keys a shell would split or run", function () {
    useEnv({ AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" });
    this.timeout(60_000);
    let moto: MotoServer;
    let scratch: string;
    let outputs: string;
    const clients = (): ClientFactory => (): ClientOptions => ({
        endpoint: moto.endpoint,
        credentials: { accessKeyId: "AKIARPH39TRIAL", secretAccessKey: "rp-h39-secret" },
        maxAttempts: 1,
    });

    before(async () => {
        moto = await MotoServer.start();
        let s3: S3Client;
        ({ scratch, outputs, s3 } = await azureStackBuckets(moto, "oauth2-dr-rp-h39-"));
        const put = (Key: string, Body: string) => s3.send(new PutObjectCommand({ Bucket: BUCKET, Key, Body }));
        try {
            const dump = "encrypted dump stand-in"; // 23 bytes, the size every manifest records
            const objectOf = (key: string) => key.replace("manifests/", "").replace(/\.json$/, ".dump.gpg");
            const manifest = (key: string, format: "v1" | "v2", day: string) => JSON.stringify({
                format: `oauth2-dr/db-backup-manifest/${format}`, status: "complete", database: "oauth2db", schema: "public",
                object_key: objectOf(key), size_bytes: 23, started_at: `2026-12-${day}T03:00:00Z`, finished_at: `2026-12-${day}T03:01:00Z`,
                // v1 wrote the encryption as a string and no version; v2 in an unversioned bucket: null.
                ...(format === "v1" ? { encryption: "gpg-symmetric-aes256" } : { prefix: "database/", s3_version_id: null, encryption: { mode: "symmetric" } }),
            });
            // Unversioned, as the buckets these manifests were written in: a PUT replaces the object for good.
            for (const [key, format, day] of [[V1, "v1", "01"], [UNVERSIONED, "v2", "02"], [INTACT, "v2", "03"], [SPACED, "v2", "04"], [HOSTILE, "v2", "05"]] as const) {
                await put(objectOf(key), dump);
                await put(key, manifest(key, format, day));
            }
            // Someone's later upload to the same keys: a larger object, not the dump the manifests describe.
            await put(objectOf(V1), "another object, written later under the same key");
            await put(objectOf(UNVERSIONED), "another object, written later under the same key");
            // The intact one is in a versioned bucket now: versioning on changes nothing of what is stored.
            await s3.send(new PutBucketVersioningCommand({ Bucket: BUCKET, VersioningConfiguration: { Status: "Enabled" } }));
        } finally {
            s3.destroy();
        }
    });

    after(() => endAzureWorld(moto, scratch));

    it("a dump object replaced by another of a different size since the backup is not restorable (restore.sh stops with exit 4), and says so", async () => {
        const result = await run(["--stack", "prod-azure", "--stack-outputs", outputs, "--json"], { clients: clients() });
        const report = JSON.parse(result.out) as Report;
        const point = (id: string) => report.points.find((p) => p.id === id)!;
        for (const id of [V1, UNVERSIONED]) {
            const replaced = point(id);
            assert.deepEqual(replaced.restore.commands, [], `${id}: no restore command for an object restore.sh refuses`);
            assert.equal(replaced.object?.state, "replaced", JSON.stringify(replaced.object));
            assert.match(replaced.restore.blocked ?? "", /^the dump object s3:\/\/oauth2-backups-prod-azure\/database\/oauth2db-\S+\.dump\.gpg \(the manifest recorded no S3 version\) is 48 B, the manifest's size_bytes 23: another object replaced it since the backup; restore\.sh would stop with exit 4; pick another point/);
            assert.match(replaced.detail, /, dump object REPLACED \(48 B, the manifest's 23 B\)/);
        }
        const intact = point(INTACT);
        assert.deepEqual(intact.object, { state: "present", bytes: 23 });
        assert.equal(intact.restore.commands.length, 1, "an object of the manifest's size keeps its restore");
        const text = await run(["--stack", "prod-azure", "--stack-outputs", outputs], { clients: clients() });
        // The table wraps the words: compared with its line breaks taken out.
        assert.match(text.out.replace(/\n +/g, " "), /not restorable now: the dump object s3:\/\/oauth2-backups-prod-azure\/database\/oauth2db-20261201T030000Z-v1replaced01\.dump\.gpg \(the manifest recorded no S3 version\) is 48 B/);
    });

    it("a manifest key with a space or a $(...) is printed shell-quoted: pasted, bash gives restore.sh the key whole and runs nothing (JSON and the wrapped text)", async () => {
        const json = JSON.parse((await run(["--stack", "prod-azure", "--stack-outputs", outputs, "--json"], { clients: clients() })).out) as Report;
        const text = (await run(["--stack", "prod-azure", "--stack-outputs", outputs], { clients: clients() })).out;
        for (const [key, fragment] of [[SPACED, "copy"], [HOSTILE, "h39-pwned"]]) {
            const point = json.points.find((p) => p.id === key)!;
            assert.equal(point.restore.commands.length, 1, JSON.stringify(point.restore));
            for (const command of [point.restore.commands[0], textCommand(text, fragment)]) {
                const dir = fs.mkdtempSync(path.join(scratch, "paste-"));
                const words = pasted(command, dir);
                assert.equal(words[words.indexOf("--manifest") + 1], key, `${command}\n-> ${JSON.stringify(words)}`);
                assert.equal(words.length, words.indexOf("--manifest") + 2, `nothing after the key: ${JSON.stringify(words)}`);
                assert.deepEqual(fs.readdirSync(dir), [], `the pasted command ran something: ${command}`);
            }
        }
        // The command that makes a hidden manifest current again, for such a key: the key whole, its copy source URL-encoded.
        const dir = fs.mkdtempSync(path.join(scratch, "paste-"));
        const unhide = spawnSync("bash", ["-c", unhideCommand(BUCKET, "us-east-1", { key: HOSTILE, versionId: "3HL4kqtJlcpXroDTDmJ" }).replace(/^aws /, "printf '%s\\0' ")], { cwd: dir, encoding: "utf8" });
        const words = unhide.stdout.split("\0");
        assert.equal(words[words.indexOf("--key") + 1], HOSTILE);
        assert.equal(words[words.indexOf("--copy-source") + 1], `${BUCKET}/database/manifests/oauth2db-20261205T030000Z-%24%28touch%24%7BIFS%7Dh39-pwned%29.json?versionId=3HL4kqtJlcpXroDTDmJ`);
        assert.deepEqual(fs.readdirSync(dir), []);
        // Keys as db-backup.sh writes them are printed as before, unquoted.
        assert.deepEqual(json.points.find((p) => p.id === INTACT)!.restore.commands, [`BUCKET=${BUCKET} AWS_REGION=us-east-1 scripts/restore.sh --yes --manifest ${INTACT}`]);
    });
});
