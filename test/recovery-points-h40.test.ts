/**
 * h40 trial of `npm run recovery-points` by an on-call operator, hunting verdicts not computed from what was read:
 *   - a dump object replaced by another upload OF THE SAME SIZE after its manifest (a manifest that pins no S3
 *     version: v1, or an unversioned bucket's): the size check passed and the point was listed as restorable;
 *     restore.sh downloads it and stops at its sha256 (exit 4). S3's LastModified of the object, later than the
 *     manifest's, tells it without a download. A manifest that pins a version keeps its restore: a later upload
 *     under the key is another version.
 *   - this machine's clock two hours behind AWS's (the Date of its answers): "listed at" was this clock's time, the
 *     copies' ages were counted from it (a dump of an hour ago "0 h old", since its time was "in the future").
 *
 * moto_server on 127.0.0.1 serves S3; the stack prod-azure is used: its listing reads S3 alone.
 */
import { strict as assert } from "assert";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { PutBucketVersioningCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { MotoServer } from "../tools/sandbox/servers";
import type { ClientFactory, ClientOptions } from "../tools/recovery-points/collect";
import type { Report } from "../tools/recovery-points/points";
import { useEnv } from "./support/process-state";
import { AZURE_BACKUP_BUCKET, azureStackBuckets, endAzureWorld, runRecoveryPoints } from "./support/recovery-points";

const BUCKET = AZURE_BACKUP_BUCKET;
const HOUR = 3600_000;
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
const V1 = "database/manifests/oauth2db-20261201T030000Z-v1samesize01.json";
const UNVERSIONED = "database/manifests/oauth2db-20261202T030000Z-v2samesize02.json";
const INTACT = "database/manifests/oauth2db-20261203T030000Z-v2intact0003.json";
const PINNED = "database/manifests/oauth2db-20261204T030000Z-v2pinned0004.json";
const objectOf = (key: string) => key.replace("manifests/", "").replace(/\.json$/, ".dump.gpg");

const run = runRecoveryPoints;
const credentials = { accessKeyId: "AKIARPH40TRIAL", secretAccessKey: "rp-h40-secret" };

describe("recovery-points, h40 trial: a dump replaced by an upload of the same size, a clock behind AWS's", function () {
    useEnv({ AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" });
    this.timeout(60_000);

    describe("a dump object replaced by another upload of the same size", () => {
        let moto: MotoServer;
        let scratch: string;
        let outputs: string;
        const clients = (): ClientFactory => (): ClientOptions => ({ endpoint: moto.endpoint, credentials, maxAttempts: 1 });

        before(async () => {
            moto = await MotoServer.start();
            let s3: S3Client;
            ({ scratch, outputs, s3 } = await azureStackBuckets(moto, "oauth2-dr-rp-h40-"));
            const put = (Key: string, Body: string) => s3.send(new PutObjectCommand({ Bucket: BUCKET, Key, Body }));
            try {
                const dump = "encrypted dump stand-in"; // 23 bytes, the size every manifest records
                const manifest = (key: string, format: "v1" | "v2", day: string, version?: string | null) => JSON.stringify({
                    format: `oauth2-dr/db-backup-manifest/${format}`, status: "complete", database: "oauth2db", schema: "public",
                    object_key: objectOf(key), size_bytes: 23, started_at: `2026-12-${day}T03:00:00Z`, finished_at: `2026-12-${day}T03:01:00Z`,
                    ...(format === "v1" ? { encryption: "gpg-symmetric-aes256" } : { prefix: "database/", s3_version_id: version ?? null, encryption: { mode: "symmetric" } }),
                });
                // Unversioned first, as the buckets these manifests were written in: a PUT replaces the object for good.
                for (const [key, format, day] of [[V1, "v1", "01"], [UNVERSIONED, "v2", "02"], [INTACT, "v2", "03"]] as const) {
                    await put(objectOf(key), dump);
                    await put(key, manifest(key, format, day));
                }
                // Versioned from here: the pinned manifest records its dump's version, as db-backup.sh does.
                await s3.send(new PutBucketVersioningCommand({ Bucket: BUCKET, VersioningConfiguration: { Status: "Enabled" } }));
                const pinned = await put(objectOf(PINNED), dump);
                await put(PINNED, manifest(PINNED, "v2", "04", pinned.VersionId));
                // S3's LastModified has whole seconds: the later uploads are in a later second than the manifests.
                await new Promise((r) => setTimeout(r, 1100));
                // Someone's later uploads to the same keys, each exactly 23 bytes: not the dumps the manifests describe.
                const other = "another object, 23 byte";
                assert.equal(other.length, dump.length);
                for (const key of [V1, UNVERSIONED, PINNED]) {
                    await put(objectOf(key), other);
                }
            } finally {
                s3.destroy();
            }
        });

        after(() => endAzureWorld(moto, scratch));

        it("a manifest that pins no version, whose object S3 stored after the manifest, is REPLACED and not restorable (was: listed with its restore command)", async () => {
            const result = await run(["--stack", "prod-azure", "--stack-outputs", outputs, "--json"], { clients: clients() });
            assert.equal(result.code, 0, result.err);
            const report = JSON.parse(result.out) as Report;
            const point = (id: string) => report.points.find((p) => p.id === id)!;
            for (const id of [V1, UNVERSIONED]) {
                const replaced = point(id);
                assert.equal(replaced.object?.state, "replaced", `${id}: ${JSON.stringify(replaced.object)}`);
                assert.deepEqual(replaced.restore.commands, [], `${id}: no restore command for an object restore.sh refuses at its sha256`);
                assert.match(replaced.restore.blocked ?? "", new RegExp(`^the dump object s3://${BUCKET}/${objectOf(id).replace(/\./g, "\\.")} \\(the manifest recorded no S3 version\\) was stored \\S+Z, after its manifest \\(\\S+Z\\): another upload replaced the dump since the backup \\(of the same size\\); restore\\.sh would download it and stop at its sha256 with exit 4 unless its bytes are the dump's; pick another point`));
                assert.match(replaced.detail, /, dump object REPLACED \(stored \S+Z, after its manifest\)$/);
            }
            // The dump stored before its manifest, untouched since: restorable as before.
            assert.deepEqual(point(INTACT).object, { state: "present", bytes: 23 });
            assert.equal(point(INTACT).restore.commands.length, 1);
            // A pinned version is the dump whatever the key holds now: restore.sh downloads that version.
            assert.deepEqual(point(PINNED).object, { state: "present", bytes: 23 });
            assert.equal(point(PINNED).restore.commands.length, 1, JSON.stringify(point(PINNED).restore));
        });
    });

    describe("this machine's clock behind AWS's", () => {
        let moto: MotoServer;
        let scratch: string;
        let outputs: string;
        /** AWS's clock two hours after this machine's: every answer's Date and Last-Modified, as S3 would give them. */
        const AHEAD = 2 * HOUR;
        let written: number;
        const clients = (): ClientFactory => (): ClientOptions => {
            const inner = new NodeHttpHandler();
            const handle = async (request: unknown, options: unknown) => {
                const answer = await inner.handle(request as never, options as never);
                const headers = answer.response.headers;
                for (const name of ["date", "last-modified"]) {
                    if (headers[name]) {
                        headers[name] = new Date(Date.parse(headers[name]) + AHEAD).toUTCString();
                    }
                }
                return answer;
            };
            return { endpoint: moto.endpoint, credentials, maxAttempts: 1, requestHandler: { handle, destroy: () => inner.destroy() } as unknown as ClientOptions["requestHandler"] };
        };

        before(async () => {
            moto = await MotoServer.start();
            let s3: S3Client;
            ({ scratch, outputs, s3 } = await azureStackBuckets(moto, "oauth2-dr-rp-h40-clock-"));
            try {
                written = Date.now();
                // A dump of an hour ago in AWS's time: an hour after this machine's clock.
                const key = `database/manifests/oauth2db-${iso(written + AHEAD - HOUR).replace(/[-:]/g, "")}-clockbehind1.json`;
                await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: objectOf(key), Body: "encrypted dump stand-in" }));
                await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: JSON.stringify({
                    format: "oauth2-dr/db-backup-manifest/v2", status: "complete", database: "oauth2db", schema: "public", prefix: "database/",
                    object_key: objectOf(key), size_bytes: 23, s3_version_id: null, started_at: iso(written + AHEAD - HOUR), finished_at: iso(written + AHEAD - HOUR + 60_000),
                }) }));
            } finally {
                s3.destroy();
            }
        });

        after(() => endAzureWorld(moto, scratch));

        it("is said first among the notes with both times; the listing's time and the copies' ages are AWS's (was: listed at this clock's time, the dump '0 h old')", async () => {
            const result = await run(["--stack", "prod-azure", "--stack-outputs", outputs, "--json"], { clients: clients() });
            assert.equal(result.code, 0, result.err);
            const report = JSON.parse(result.out) as Report;
            assert.ok(report.clock, JSON.stringify(report.notes));
            // The Date header has whole seconds and comes a moment after the local reading: within a few seconds of 2 h.
            assert.ok(Math.abs(report.clock.offsetSeconds - AHEAD / 1000) <= 5, String(report.clock.offsetSeconds));
            assert.equal(report.listedAt, report.clock.aws);
            assert.ok(Date.parse(report.listedAt) - Date.parse(report.clock.local) > AHEAD - 5000, JSON.stringify(report.clock));
            assert.match(report.notes[0], /^this machine's clock is 2\.0 h behind AWS's \(it says \S+Z, the Date of AWS's answers \S+Z\): the listing's time, the ages and the windows' latest times are counted in AWS's time/);
            // The dump is not in the DR bucket: its age in the copy note is an hour, in AWS's time.
            const lag = report.notes.find((n) => n.startsWith("s3://oauth2-backups-dr-azure"));
            assert.match(lag ?? "", /1 not copied \(yet\), the newest \S+ of \S+ \(1 h old/, JSON.stringify(report.notes));
            const text = await run(["--stack", "prod-azure", "--stack-outputs", outputs], { clients: clients() });
            assert.match(text.out.replace(/\n {2}/g, " "), /- this machine's clock is 2\.0 h behind AWS's/);
        });
    });
});
