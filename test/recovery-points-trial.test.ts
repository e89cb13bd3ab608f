/**
 * h36 trial of `npm run recovery-points` by an on-call operator and a platform engineer who did not write it:
 * a bucket whose manifests are not all readable (an object of another account, a KMS key these credentials may
 * not use), a backup host whose clock ran ahead, a standby stack file that does not validate. Each case failed
 * on main (see the commit that adds it).
 *
 * moto_server on 127.0.0.1 serves S3; the one answer moto does not give (S3's 403 AccessDenied on a single
 * object, as the S3 API reference shows it) comes from a request handler in the SDK client. The azure stack
 * prod-azure is used: its listing reads S3 alone.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { Readable } from "stream";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { MotoServer } from "../tools/sandbox/servers";
import { snapshotPoint, type ClientFactory, type ClientOptions } from "../tools/recovery-points/collect";
import type { Report } from "../tools/recovery-points/points";
import { useEnv } from "./support/process-state";
import { AZURE_BACKUP_BUCKET, azureStackBuckets, endAzureWorld, runRecoveryPoints } from "./support/recovery-points";

const REPO = path.resolve(__dirname, "..");
const HOUR = 3600_000;
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
const BUCKET = AZURE_BACKUP_BUCKET;
const DENIED = "database/manifests/oauth2db-20261204T040000Z-deniedkms0001.json";
const SKEWED = "database/manifests/oauth2db-20261204T110000Z-clockahead01.json";
const PLAIN = "database/manifests/oauth2db-20261204T030000Z-plain0000001.json";

const run = runRecoveryPoints;

describe("recovery-points, h36 trial: unreadable manifests, a clock ahead, an invalid standby file", function () {
    useEnv({ AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" });
    this.timeout(60_000);
    let moto: MotoServer;
    let scratch: string;
    let outputs: string;
    let written: number;

    /** moto; with `deny`, S3's 403 for GetObject of the DENIED manifest (its KMS key is not these credentials'). */
    const clients = (deny = false): ClientFactory => (service, region): ClientOptions => {
        const base: ClientOptions = { endpoint: moto.endpoint, credentials: { accessKeyId: "AKIARPTRIAL", secretAccessKey: "rp-trial-secret" }, maxAttempts: 1 };
        if (service !== "s3") {
            return base;
        }
        const inner = new NodeHttpHandler();
        const handle = async (request: { method: string; path: string }) => {
            if (deny && request.method === "GET" && request.path === `/${BUCKET}/${DENIED}`) {
                const body = '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code><Message>User is not authorized to perform: kms:Decrypt</Message><RequestId>rp-trial</RequestId><HostId>rp-trial</HostId></Error>';
                return { response: { statusCode: 403, reason: "", headers: { "content-type": "application/xml", "x-amz-request-id": "rp-trial" }, body: Readable.from([Buffer.from(body)]) } };
            }
            return inner.handle(request as never) as never;
        };
        void region;
        return { ...base, requestHandler: { handle, destroy: () => inner.destroy() } as unknown as ClientOptions["requestHandler"] };
    };

    before(async () => {
        moto = await MotoServer.start();
        let s3: S3Client;
        ({ scratch, outputs, s3 } = await azureStackBuckets(moto, "oauth2-dr-rp-trial-"));
        try {
            written = Date.now();
            const manifest = (key: string, startedAt: number) => {
                const object = key.replace("manifests/", "").replace(/\.json$/, ".dump.gpg");
                // The dump first, then its manifest, as db-backup.sh stores them: a dump S3 stored after its unpinned
                // manifest is another upload (h40), so the two are not sent at once.
                return [
                    s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: object, Body: "encrypted dump stand-in" })).then(() =>
                        s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: JSON.stringify({
                            format: "oauth2-dr/db-backup-manifest/v2", status: "complete", database: "oauth2db", schema: "public", prefix: "database/",
                            object_key: object, size_bytes: 23, started_at: iso(startedAt), finished_at: iso(startedAt + 60_000),
                        }) }))),
                ];
            };
            await Promise.all([
                ...manifest(PLAIN, written - 3 * HOUR),
                ...manifest(DENIED, written - 2 * HOUR),
                // Written now by a host whose clock is 5 h ahead: its started_at is later than S3's time of the manifest.
                ...manifest(SKEWED, written + 5 * HOUR),
            ]);
        } finally {
            s3.destroy();
        }
    });

    after(() => endAzureWorld(moto, scratch));

    it("one manifest S3 will not hand out (403): the others are still listed, it is listed UNREADABLE without a restore, and the run ends 4 naming it (was: no dump at all)", async () => {
        const result = await run(["--stack", "prod-azure", "--stack-outputs", outputs, "--json"], { clients: clients(true), now: new Date(written) });
        assert.equal(result.code, 4, result.err);
        const report = JSON.parse(result.out) as Report;
        const dumps = report.points.filter((p) => p.source === "dump");
        assert.deepEqual(dumps.map((p) => p.id).sort(), [DENIED, SKEWED, PLAIN].sort(), JSON.stringify(report.errors));
        const denied = dumps.find((p) => p.id === DENIED)!;
        assert.equal(denied.status, "unreadable");
        assert.deepEqual(denied.restore.commands, []);
        assert.match(denied.restore.blocked ?? "", /^the manifest could not be read \(AccessDenied on S3 us-east-1 \(s3:\/\/oauth2-backups-prod-azure\/database\/manifests\/oauth2db-20261204T040000Z-deniedkms0001\.json\): User is not authorized to perform: kms:Decrypt\)/);
        assert.equal(dumps.find((p) => p.id === PLAIN)!.restore.commands.length, 1, "a readable manifest keeps its restore");
        assert.deepEqual(report.errors.map((e) => [e.source, e.exitCode]), [[`S3 s3://${BUCKET}/database/manifests/`, 4]]);
        assert.match(report.errors[0].message, /^1 of 3 dump manifests could not be read \(listed as unreadable, without a restore\): database\/manifests\/oauth2db-20261204T040000Z-deniedkms0001\.json: AccessDenied/);
    });

    it("a manifest whose started_at is after S3 stored it (the backup host's clock ahead): listed at S3's time, said as CLOCK AHEAD, never in the future", async () => {
        const result = await run(["--stack", "prod-azure", "--stack-outputs", outputs, "--json"], { clients: clients(), now: new Date(written) });
        const report = JSON.parse(result.out) as Report;
        const skewed = report.points.find((p) => p.id === SKEWED)!;
        const plain = report.points.find((p) => p.id === PLAIN)!;
        assert.ok(skewed.time !== undefined && Date.parse(skewed.time) <= Date.now(), `listed at ${skewed.time}, after now`);
        assert.ok(Math.abs(Date.parse(skewed.time) - written) < 60_000, `S3's time of the manifest, not its started_at: ${skewed.time}`);
        assert.deepEqual(skewed.clockSkew, { startedAt: iso(written + 5 * HOUR), storedAt: skewed.time });
        assert.match(skewed.detail, /CLOCK AHEAD: started_at \S+ is after S3 stored the manifest; the time shown is S3's$/);
        assert.equal(plain.time, iso(written - 3 * HOUR), "a manifest written by a right clock keeps its started_at");
        assert.equal(plain.clockSkew, undefined);
        assert.equal(skewed.restore.commands.length, 1, "still restorable: only its time was wrong");
    });

    it("a snapshot that failed is 'does not restore', not 'restorable once available'; one being created or copied is", () => {
        const snapshot = (Status: string) => snapshotPoint({ DBSnapshotIdentifier: `before-upgrade-${Status}`, DBInstanceIdentifier: "oauth2-postgres", Status, SnapshotType: "manual", PercentProgress: 40 }, "us-east-1", "prod");
        assert.equal(snapshot("failed").restore.blocked, "status failed: this snapshot does not restore (it will not become available); pick another point");
        assert.equal(snapshot("incompatible-restore").restore.blocked, "status incompatible-restore: this snapshot does not restore (it will not become available); pick another point");
        assert.equal(snapshot("creating").restore.blocked, "status creating: restorable once available (40% done)");
        assert.equal(snapshot("copying").restore.blocked, "status copying: restorable once available (40% done)");
        assert.deepEqual(snapshot("available").restore.commands, ["pulumi config set -s prod --path restore.fromSnapshot before-upgrade-available", "pulumi up -s prod"]);
    });

    it("a standby stack file that does not validate is said (it may be the standby), not taken for 'no standby stack names prod-azure'", async () => {
        const dir = fs.mkdtempSync(path.join(scratch, "program-"));
        for (const file of fs.readdirSync(REPO).filter((f) => /^Pulumi(\.[a-z-]+)?\.yaml$/.test(f))) {
            fs.copyFileSync(path.join(REPO, file), path.join(dir, file));
        }
        // The platform engineer's edit: a size with its unit.
        const standby = path.join(dir, "Pulumi.dr-azure.yaml");
        fs.writeFileSync(standby, fs.readFileSync(standby, "utf8").replace(/allocatedStorageGb: 128\n/, "allocatedStorageGb: 128GB\n"));
        const result = await run(["--stack", "prod-azure", "--stack-outputs", outputs, "--json"], { clients: clients(), now: new Date(written), programDir: dir });
        const report = JSON.parse(result.out) as Report;
        const note = report.notes.find((n) => n.startsWith("stack dr-azure's configuration was not read"));
        assert.ok(note, JSON.stringify(report.notes, null, 1));
        assert.match(note, /allocatedStorageGb/);
        assert.match(note, /if it is the standby of prod-azure, its DR bucket's copies are not listed .*fix Pulumi\.dr-azure\.yaml and run again$/);
        assert.ok(!report.notes.some((n) => /^stack prod-azure names no vaultStack/.test(n)), "the vault stack is read");
    });

    it("a vault stack file that does not validate is named as such, not as 'names no vaultStack'", async () => {
        const dir = fs.mkdtempSync(path.join(scratch, "program-"));
        for (const file of fs.readdirSync(REPO).filter((f) => /^Pulumi(\.[a-z-]+)?\.yaml$/.test(f))) {
            fs.copyFileSync(path.join(REPO, file), path.join(dir, file));
        }
        const vault = path.join(dir, "Pulumi.vault.yaml");
        fs.writeFileSync(vault, `${fs.readFileSync(vault, "utf8").trimEnd()}\n  oauth2-dr:role: secondary\n`);
        const result = await run(["--stack", "prod-azure", "--stack-outputs", outputs, "--json"], { clients: clients(), now: new Date(written), programDir: dir });
        const report = JSON.parse(result.out) as Report;
        assert.ok(report.notes.some((n) => /^the vault stack vault \(vaultStack of prod-azure\) was not read \(.+\): its bucket's copies are not listed$/.test(n)), JSON.stringify(report.notes, null, 1));
        assert.ok(!report.notes.some((n) => /names no vaultStack/.test(n)), "prod-azure does name one");
    });
});
