/**
 * npm run recovery-points (tools/recovery-points): every recovery point of the prod stack's database, newest
 * first, with the commands that restore it.
 *
 * Where the answers come from:
 *   - moto_server (127.0.0.1, a free port): RDS DescribeDBInstances (the instance, its cross-region replica),
 *     DescribeDBSnapshots (automated and manual, both regions), S3 ListObjectsV2/GetObject (the manifests),
 *     CloudWatch GetMetricStatistics (ReplicaLag).
 *   - Responses shaped from the AWS API reference, served by a request handler in the SDK client, where
 *     moto 5 does not serve the API: AWS Backup ListRecoveryPointsByBackupVault (moto has vaults, not
 *     recovery points) and RDS DescribeDBInstanceAutomatedBackups (moto answers it without RestoreWindow,
 *     and has no replicated automated backups). The RDS handler forwards every other action to moto.
 *   - S3 HeadObject's x-amz-replication-status of the newest manifest not copied to the DR bucket (moto has no
 *     replication), and S3's 403 AccessDenied (REST XML error, as the S3 API reference shows it) for the vault account's bucket,
 *     which production credentials may not read: moto answers any bucket to any credentials. With
 *     `vaultReadable` the vault bucket is moto's.
 */
import { strict as assert } from "assert";
import { spawn, spawnSync } from "child_process";
import * as net from "net";
import { createHash } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Readable } from "stream";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { CreateDBInstanceCommand, CreateDBInstanceReadReplicaCommand, CreateDBSnapshotCommand, RDSClient } from "@aws-sdk/client-rds";
import { CreateBucketCommand, HeadObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { CloudWatchClient, PutMetricDataCommand } from "@aws-sdk/client-cloudwatch";
import { MotoServer } from "../tools/sandbox/servers";
import { ClientFactory, ClientOptions, explain, PRIVATE_KEYS_SECRET, privateKeysSettings, restorableSpans, walGaps } from "../tools/recovery-points/collect";
import { PICK_TIME, type RecoveryPoint, type Report } from "../tools/recovery-points/points";
import { PRIVATE_KEYS_SECRET_NAME } from "../components/vault-account";
import { readOutputs, UsageError } from "../tools/recovery-points/stack";
import { parseStackConfig } from "../lib/config";
import { loadStackSettings } from "offline-plan/stack-settings";
import { useEnv } from "./support/process-state";
import { runRecoveryPoints } from "./support/recovery-points";

const REPO = path.resolve(__dirname, "..");
/** The text with its wrapped lines joined (messages are wrapped at 100 columns). */
const flat = (text: string) => text.replace(/ \\\n\s*/g, " ").replace(/\n\s+/g, " ");
const ACCOUNT = "123456789012";
const PROD_ARN = `arn:aws:rds:us-east-1:${ACCOUNT}:db:oauth2-postgres`;
const SECRET_KEY = "rp-test-Secret-Access-Key-0f9e8d7c";
const DB_PASSWORD = "rp-test-DbPassword-5a4b3c";
const COPY_JOB_ARN = `arn:aws:rds:us-west-2:${ACCOUNT}:snapshot:awsbackup:copyjob-1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d`;
const JOB_ARN = `arn:aws:rds:us-east-1:${ACCOUNT}:snapshot:awsbackup:job-0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d`;
const CONTINUOUS_ARN = `arn:aws:backup:us-east-1:${ACCOUNT}:recovery-point:continuous:db-abcdefghijklmnopqrstuvwxyz-1a2b3c4d`;

const HOUR = 3600_000;
const ROW_COUNT_FAILURE = "all tables present with expected row counts: oauth2_authorization has 600 rows, manifest says 601";
const DAY = 24 * HOUR;
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");

/** An HTTP response as the SDK's handlers return it. */
function response(statusCode: number, contentType: string, body: string) {
    return { response: { statusCode, reason: "", headers: { "content-type": contentType, "x-amzn-requestid": "rp-test" }, body: Readable.from([Buffer.from(body)]) } };
}

/**
 * DescribeDBInstanceAutomatedBackups, as the RDS API reference shows it (Query API, XML, 2014-10-31):
 * the primary region holds the instance's own backups, the DR region the replica's and prod's replicated ones.
 */
function automatedBackupsXml(region: string, now: number): string {
    const entry = (fields: Record<string, string>, window?: [number, number]) => `
      <DBInstanceAutomatedBackup>
        ${Object.entries(fields).map(([k, v]) => `<${k}>${v}</${k}>`).join("\n        ")}
        ${window ? `<RestoreWindow><EarliestTime>${iso(window[0])}</EarliestTime><LatestTime>${iso(window[1])}</LatestTime></RestoreWindow>` : ""}
        <Engine>postgres</Engine><EngineVersion>15.7</EngineVersion><Encrypted>true</Encrypted><StorageType>gp3</StorageType>
      </DBInstanceAutomatedBackup>`;
    const entries = region === "us-east-1"
        ? [entry({ DBInstanceArn: PROD_ARN, DbiResourceId: "db-PRODRESOURCEID", Region: "us-east-1", DBInstanceIdentifier: "oauth2-postgres", Status: "active", BackupRetentionPeriod: "30", DBInstanceAutomatedBackupsArn: `arn:aws:rds:us-east-1:${ACCOUNT}:auto-backup:ab-prod` }, [now - 30 * DAY + HOUR, now - 5 * 60_000])]
        : [
              entry({ DBInstanceArn: `arn:aws:rds:us-west-2:${ACCOUNT}:db:oauth2-postgres-replica`, DbiResourceId: "db-REPLICARESOURCEID", Region: "us-west-2", DBInstanceIdentifier: "oauth2-postgres-replica", Status: "active", BackupRetentionPeriod: "30", DBInstanceAutomatedBackupsArn: `arn:aws:rds:us-west-2:${ACCOUNT}:auto-backup:ab-replica` }, [now - 20 * DAY, now - 6 * 60_000]),
              entry({ DBInstanceArn: PROD_ARN, DbiResourceId: "db-PRODRESOURCEID", Region: "us-east-1", DBInstanceIdentifier: "oauth2-postgres", Status: "replicating", BackupRetentionPeriod: "30", DBInstanceAutomatedBackupsArn: `arn:aws:rds:us-west-2:${ACCOUNT}:auto-backup:ab-prod-replicated` }, [now - 29 * DAY, now - 10 * 60_000]),
          ];
    return `<DescribeDBInstanceAutomatedBackupsResponse xmlns="http://rds.amazonaws.com/doc/2014-10-31/">
  <DescribeDBInstanceAutomatedBackupsResult>
    <DBInstanceAutomatedBackups>${entries.join("")}
    </DBInstanceAutomatedBackups>
  </DescribeDBInstanceAutomatedBackupsResult>
  <ResponseMetadata><RequestId>rp-test</RequestId></ResponseMetadata>
</DescribeDBInstanceAutomatedBackupsResponse>`;
}

/** ListRecoveryPointsByBackupVault (REST JSON; times in epoch seconds), the prod vault in two pages. */
function recoveryPointsJson(vault: string, query: Record<string, string | string[] | null>, now: number): string {
    const seconds = (ms: number) => ms / 1000;
    const point = (arn: string, created: number, status: string, extra: Record<string, unknown> = {}) => ({
        RecoveryPointArn: arn,
        BackupVaultName: vault,
        BackupVaultArn: `arn:aws:backup:${vault.endsWith("-dr") ? "us-west-2" : "us-east-1"}:${ACCOUNT}:backup-vault:${vault}`,
        ResourceArn: PROD_ARN,
        ResourceType: "RDS",
        ResourceName: "oauth2-postgres",
        CreatedBy: { BackupPlanId: "plan-1", BackupPlanArn: `arn:aws:backup:us-east-1:${ACCOUNT}:backup-plan:plan-1`, BackupPlanVersion: "v1", BackupRuleId: "rule-1" },
        IamRoleArn: `arn:aws:iam::${ACCOUNT}:role/oauth2-dr-aws-backup`,
        Status: status,
        CreationDate: seconds(created),
        ...(status === "COMPLETED" ? { CompletionDate: seconds(created + 20 * 60_000) } : {}),
        BackupSizeInBytes: 12_345_678_901,
        CalculatedLifecycle: { DeleteAt: seconds(created + 30 * DAY) },
        Lifecycle: { DeleteAfterDays: 30 },
        EncryptionKeyArn: `arn:aws:kms:us-east-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`,
        IsEncrypted: true,
        VaultType: "BACKUP_VAULT",
        ...extra,
    });
    assert.equal(query.resourceArn, PROD_ARN, "the recovery points are asked for by the instance's ARN");
    if (vault === "oauth2-dr-vault-dr") {
        return JSON.stringify({ RecoveryPoints: [point(COPY_JOB_ARN, now - DAY + 4 * HOUR, "COMPLETED", { SourceBackupVaultArn: `arn:aws:backup:us-east-1:${ACCOUNT}:backup-vault:oauth2-dr-vault` })] });
    }
    if (query.nextToken === "page-2") {
        return JSON.stringify({ RecoveryPoints: [point(`arn:aws:rds:us-east-1:${ACCOUNT}:snapshot:awsbackup:job-partial`, now - 2 * DAY, "PARTIAL", { StatusMessage: "the copy did not finish" })] });
    }
    return JSON.stringify({ NextToken: "page-2", RecoveryPoints: [point(JOB_ARN, now - DAY + 4 * HOUR, "COMPLETED"), point(CONTINUOUS_ARN, now - 40 * DAY, "AVAILABLE")] });
}

type Handle = (request: { method: string; path: string; query?: Record<string, string | string[] | null>; body?: unknown }) => Promise<ReturnType<typeof response>>;

/** The clients' options: moto, fake credentials, and the API-reference handlers where moto does not serve. */
function clientsFor(moto: MotoServer, now: number, calls: string[], options: { vaultReadable?: boolean } = {}): ClientFactory {
    const credentials = { accessKeyId: "AKIARPTEST", secretAccessKey: SECRET_KEY };
    return (service, region): ClientOptions => {
        const base: ClientOptions = { endpoint: moto.endpoint, credentials, maxAttempts: 1 };
        if (service === "s3" && !options.vaultReadable) {
            const moto = new NodeHttpHandler();
            const handle: Handle = async (request) => {
                if (request.method === "HEAD" && request.path === "/oauth2-backups-prod/database/manifests/oauth2db-20261204T050000Z-0123456789ab.json") {
                    // HeadObject's x-amz-replication-status (S3 API reference): moto has no replication.
                    calls.push(`s3 ${region} head replication`);
                    const answer = response(200, "application/json", "");
                    Object.assign(answer.response.headers, { "x-amz-replication-status": "FAILED", "content-length": "0", "last-modified": new Date(now - 3 * HOUR).toUTCString() });
                    return answer;
                }
                if (request.path.startsWith("/oauth2-backups-vault")) {
                    calls.push(`s3 ${region} vault denied`);
                    return response(403, "application/xml", '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code><Message>Access Denied</Message><RequestId>rp-test</RequestId><HostId>rp-test</HostId></Error>');
                }
                return moto.handle(request as never) as never;
            };
            return { ...base, requestHandler: { handle, destroy: () => moto.destroy() } as unknown as ClientOptions["requestHandler"] };
        }
        if (service === "backup") {
            const handle: Handle = async (request) => {
                const m = /^\/backup-vaults\/([^/]+)\/recovery-points\/?$/.exec(request.path);
                assert.ok(m && request.method === "GET", `unexpected AWS Backup request ${request.method} ${request.path}`);
                calls.push(`backup ${region} ${m[1]}`);
                return response(200, "application/json", recoveryPointsJson(decodeURIComponent(m[1]), request.query ?? {}, now));
            };
            return { ...base, requestHandler: { handle } as unknown as ClientOptions["requestHandler"] };
        }
        if (service === "rds") {
            const moto = new NodeHttpHandler();
            const handle: Handle = async (request) => {
                if (String(request.body ?? "").includes("Action=DescribeDBInstanceAutomatedBackups")) {
                    calls.push(`rds ${region} DescribeDBInstanceAutomatedBackups`);
                    return response(200, "text/xml", automatedBackupsXml(region, now));
                }
                return moto.handle(request as never) as never;
            };
            return { ...base, requestHandler: { handle, destroy: () => moto.destroy() } as unknown as ClientOptions["requestHandler"] };
        }
        return base;
    };
}

const run = runRecoveryPoints;

/** restore.<key> = value is refused by the project's own validator (a word to replace, as printed). */
function refusedByConfig(stack: string, key: string, value: string, now: Date): void {
    const config = loadStackSettings(REPO, stack).config;
    const restore = JSON.stringify({ [key.replace("restore.", "")]: value });
    assert.throws(() => parseStackConfig((k) => (k === "oauth2-dr:restore" ? restore : config[k]), stack, "oauth2-dr", { now }), /restore\.pointInTime/);
}

/** restore.<key> = value passes the project's own validator for that stack (what `pulumi up` would read). */
function acceptedByConfig(stack: string, key: string, value: string, now: Date): void {
    const config = loadStackSettings(REPO, stack).config;
    const restore = JSON.stringify({ [key.replace("restore.", "")]: value });
    const parsed = parseStackConfig((k) => (k === "oauth2-dr:restore" ? restore : config[k]), stack, "oauth2-dr", { now });
    assert.ok(parsed.restore, `${stack}: restore not read from ${restore}`);
}

describe("recovery-points: the database's recovery points, newest first, each with its restore", function () {
    // The SDK's notice about its 2027 releases and Node 22 (the CLIs turn it off the same way); for this file only.
    useEnv({ AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" });
    this.timeout(60_000);
    let moto: MotoServer;
    let scratch: string;
    let outputsFile: string;
    const now = Date.now();
    const calls: string[] = [];

    const outputs = (overrides: Record<string, unknown> = {}) => {
        const file = path.join(scratch, `outputs-${Math.random().toString(16).slice(2)}.json`);
        fs.writeFileSync(file, JSON.stringify({
            dbInstanceIdentifier: "oauth2-postgres",
            dbInstanceArn: PROD_ARN,
            backupBucketName: "oauth2-backups-prod",
            backupVaultArn: `arn:aws:backup:us-east-1:${ACCOUNT}:backup-vault:oauth2-dr-vault`,
            backupDrVaultArn: `arn:aws:backup:us-west-2:${ACCOUNT}:backup-vault:oauth2-dr-vault-dr`,
            // What `pulumi stack output --json` would print with --show-secrets; never echoed.
            databaseUrl: `postgresql://oauth2:${DB_PASSWORD}@db:5432/oauth2db`,
            ...overrides,
        }));
        return file;
    };

    before(async () => {
        moto = await MotoServer.start();
        scratch = fs.mkdtempSync(path.join(os.tmpdir(), "oauth2-dr-rp-"));
        outputsFile = outputs();
        const credentials = { accessKeyId: "testing", secretAccessKey: "testing" };
        const east = new RDSClient({ region: "us-east-1", endpoint: moto.endpoint, credentials });
        const west = new RDSClient({ region: "us-west-2", endpoint: moto.endpoint, credentials });
        await east.send(new CreateDBInstanceCommand({
            DBInstanceIdentifier: "oauth2-postgres", Engine: "postgres", DBInstanceClass: "db.r6g.large", AllocatedStorage: 100,
            MasterUsername: "oauth2", MasterUserPassword: DB_PASSWORD, BackupRetentionPeriod: 30,
        }));
        await west.send(new CreateDBInstanceReadReplicaCommand({ DBInstanceIdentifier: "oauth2-postgres-replica", SourceDBInstanceIdentifier: PROD_ARN }));
        await east.send(new CreateDBSnapshotCommand({ DBInstanceIdentifier: "oauth2-postgres", DBSnapshotIdentifier: "before-upgrade-2026-12-01" }));
        await west.send(new CreateDBSnapshotCommand({ DBInstanceIdentifier: "oauth2-postgres-replica", DBSnapshotIdentifier: "replica-check" }));
        east.destroy();
        west.destroy();
        const cw = new CloudWatchClient({ region: "us-west-2", endpoint: moto.endpoint, credentials });
        await cw.send(new PutMetricDataCommand({
            Namespace: "AWS/RDS",
            MetricData: [{ MetricName: "ReplicaLag", Dimensions: [{ Name: "DBInstanceIdentifier", Value: "oauth2-postgres-replica" }], Value: 7, Unit: "Seconds", Timestamp: new Date(now - 2 * 60_000) }],
        }));
        cw.destroy();
        const s3 = new S3Client({ region: "us-east-1", endpoint: moto.endpoint, credentials, forcePathStyle: true });
        await s3.send(new CreateBucketCommand({ Bucket: "oauth2-backups-prod" }));
        const put = (key: string, body: string) => s3.send(new PutObjectCommand({ Bucket: "oauth2-backups-prod", Key: key, Body: body }));
        const v2 = {
            format: "oauth2-dr/db-backup-manifest/v2", status: "complete", database: "oauth2db", schema: "public", prefix: "database/",
            object_key: "database/oauth2db-20261204T050000Z-0123456789ab.dump.gpg", size_bytes: 23, sha256: "ab".repeat(32),
            started_at: iso(now - 3 * HOUR), finished_at: iso(now - 3 * HOUR + 5 * 60_000),
            passphrase: { source: "secretsmanager", secret_arn: `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:oauth2/backup-passphrase-AbCdEf`, version_id: "v-1" },
            schema_definition: { sha256: "5e1f00d2c3b4a5968778695a4b3c2d1e0f", tables: {} },
        };
        // The dump objects the manifests name (recovery-points checks that each is there and of the manifest's
        // size_bytes, 23: HeadObject), stored before their manifests as db-backup.sh does (h40: a dump S3 stored after
        // its unpinned manifest is another upload).
        await put(v2.object_key, "encrypted dump stand-in");
        await put("database/manifests/oauth2db-20261204T050000Z-0123456789ab.json", JSON.stringify(v2));
        await put("database/manifests/oauth2db-20261120T050000Z-1a2b3c4d.json", JSON.stringify({
            format: "oauth2-dr/db-backup-manifest/v1", status: "complete", database: "oauth2db", size_bytes: 1_200_000,
            started_at: iso(now - 14 * DAY), finished_at: iso(now - 14 * DAY + 60_000),
        }));
        await put("database/manifests/broken.json", "<html>not a manifest</html>");
        // Verification records as scripts/restore-verification.sh writes them (scripts/README.md), by hand:
        // the real script's records are tested in test/scripts/verification-record.test.ts.
        const record = (manifestKey: string, manifestText: string | null, finished: number, result: "passed" | "failed", extra: Record<string, unknown> = {}) => JSON.stringify({
            format: "oauth2-dr/restore-verification/v1", manifest_key: manifestKey, manifest_version_id: null,
            manifest_sha256: manifestText === null ? null : createHash("sha256").update(manifestText).digest("hex"), database: "oauth2db",
            started_at: iso(finished - 60_000), finished_at: iso(finished), duration_seconds: 60, result, failed_by: result === "passed" ? null : "backup",
            exit_code: result === "passed" ? 0 : 6, reason: result === "passed" ? null : ROW_COUNT_FAILURE, checks: [], ...extra,
        });
        const v2Key = "database/manifests/oauth2db-20261204T050000Z-0123456789ab.json";
        // An older failure, then the newest record: passed.
        await put("database/verifications/oauth2db-20261204T050000Z-0123456789ab/20261204T055000Z-000000000001.json", record(v2Key, JSON.stringify(v2), now - 2 * HOUR - 600_000, "failed", { failed_by: "environment", reason: "restore to test instance works: not checked: the verification server is unreachable" }));
        await put("database/verifications/oauth2db-20261204T050000Z-0123456789ab/20261204T060000Z-000000000002.json", record(v2Key, JSON.stringify(v2), now - 2 * HOUR, "passed"));
        const v1Key = "database/manifests/oauth2db-20261120T050000Z-1a2b3c4d.json";
        await put("database/verifications/oauth2db-20261120T050000Z-1a2b3c4d/20261120T060000Z-000000000003.json", record(v1Key, null, now - 14 * DAY + HOUR, "failed"));
        // A manifest overwritten after its verification: the record speaks of another version.
        const overwritten = JSON.stringify({ format: "oauth2-dr/db-backup-manifest/v2", status: "complete", database: "oauth2db", size_bytes: 1_000_000, started_at: iso(now - 7 * DAY) });
        await put("database/manifests/oauth2db-20261127T050000Z-77777777.json", overwritten);
        await put("database/verifications/oauth2db-20261127T050000Z-77777777/20261127T060000Z-000000000004.json", record("database/manifests/oauth2db-20261127T050000Z-77777777.json", `${overwritten} `, now - 7 * DAY + HOUR, "passed"));
        // A corrupt record, and a manifest never verified.
        const corrupt = JSON.stringify({ format: "oauth2-dr/db-backup-manifest/v2", status: "complete", database: "oauth2db", size_bytes: 1_000_000, started_at: iso(now - 8 * DAY) });
        await put("database/manifests/oauth2db-20261126T050000Z-88888888.json", corrupt);
        await put("database/verifications/oauth2db-20261126T050000Z-88888888/20261126T060000Z-000000000005.json", "{\"format\": \"oauth2-dr/restore-verification/v1\", \"resu");
        // A public-key dump (issue 23): restore.sh needs the vault's private keys for it.
        await put("database/manifests/oauth2db-20261125T050000Z-99999999.json", JSON.stringify({ format: "oauth2-dr/db-backup-manifest/v2", status: "complete", database: "oauth2db", size_bytes: 1_000_000, started_at: iso(now - 9 * DAY),
            encryption: { mode: "public-key", recipients: ["0123456789ABCDEF0123456789ABCDEF01234567"], cipher: "AES256" }, passphrase: null }));
        // The record of a manifest that expired.
        await put("database/verifications/oauth2db-20261001T050000Z-deadbeef/20261001T060000Z-000000000006.json", record("database/manifests/oauth2db-20261001T050000Z-deadbeef.json", null, now - 60 * DAY, "passed"));
        await put("database/latest.json", JSON.stringify(v2));
        // S3 replication's copies (same keys): the DR bucket lacks the newest manifest (replication lag), the
        // vault has every manifest. And the azure stacks' buckets.
        const westS3 = new S3Client({ region: "us-west-2", endpoint: moto.endpoint, credentials, forcePathStyle: true });
        await westS3.send(new CreateBucketCommand({ Bucket: "oauth2-backups-dr", CreateBucketConfiguration: { LocationConstraint: "us-west-2" } }));
        await westS3.send(new CreateBucketCommand({ Bucket: "oauth2-backups-dr-azure", CreateBucketConfiguration: { LocationConstraint: "us-west-2" } }));
        await s3.send(new CreateBucketCommand({ Bucket: "oauth2-backups-vault" }));
        await s3.send(new CreateBucketCommand({ Bucket: "oauth2-backups-prod-azure" }));
        const v1 = JSON.stringify({ format: "oauth2-dr/db-backup-manifest/v1", status: "complete", database: "oauth2db", size_bytes: 1_200_000, started_at: iso(now - 14 * DAY), finished_at: iso(now - 14 * DAY + 60_000) });
        await westS3.send(new PutObjectCommand({ Bucket: "oauth2-backups-dr", Key: "database/manifests/oauth2db-20261120T050000Z-1a2b3c4d.json", Body: v1 }));
        // The dump before its manifest, as db-backup.sh stores them and as replication's copies keep them (a replica
        // keeps its source's creation time): a dump S3 stored after its unpinned manifest is another upload (h40).
        await s3.send(new PutObjectCommand({ Bucket: "oauth2-backups-vault", Key: v2.object_key, Body: "encrypted dump stand-in" }));
        await s3.send(new PutObjectCommand({ Bucket: "oauth2-backups-vault", Key: "database/manifests/oauth2db-20261120T050000Z-1a2b3c4d.json", Body: v1 }));
        await s3.send(new PutObjectCommand({ Bucket: "oauth2-backups-vault", Key: "database/manifests/oauth2db-20261204T050000Z-0123456789ab.json", Body: JSON.stringify(v2) }));
        await s3.send(new PutObjectCommand({ Bucket: "oauth2-backups-prod-azure", Key: v2.object_key, Body: "encrypted dump stand-in" }));
        await s3.send(new PutObjectCommand({ Bucket: "oauth2-backups-prod-azure", Key: "database/manifests/oauth2db-20261203T050000Z-aaaaaaaaaaaa.json", Body: JSON.stringify({ ...v2, started_at: iso(now - DAY) }) }));
        westS3.destroy();
        s3.destroy();
    });

    after(async () => {
        await moto?.stop();
        if (scratch) {
            fs.rmSync(scratch, { recursive: true, force: true });
        }
    });

    let report: Report;
    let text: string;

    it("reads every source (moto and API-reference shaped) and lists the points newest first, exit 0", async () => {
        const result = await run(["--stack", "prod", "--stack-outputs", outputsFile, "--json"], { clients: clientsFor(moto, now, calls), now: new Date(now) });
        assert.equal(result.code, 0, result.err + result.out);
        report = JSON.parse(result.out) as Report;
        assert.deepEqual(report.errors, []);
        assert.equal(report.standbyStack, "dr", "the standby stack is found by its primaryStack");
        const times = report.points.map((p) => p.time ?? "");
        assert.deepEqual(times, [...times].sort().reverse(), "newest first");
        const by = (source: string) => report.points.filter((p) => p.source === source);
        assert.deepEqual(by("point-in-time").map((p) => [p.region, p.earliest, p.time]), [["us-east-1", iso(now - 30 * DAY + HOUR), iso(now - 5 * 60_000)]]);
        assert.deepEqual(by("point-in-time-dr").map((p) => [p.region, p.earliest, p.time]), [["us-west-2", iso(now - 29 * DAY), iso(now - 10 * 60_000)]],
            "prod's replicated backups only, not the replica's own (point-in-time-replica)");
        const snapshots = by("snapshot").map((p) => `${p.region} ${p.label} ${p.id}`).sort();
        assert.equal(snapshots.length, 3, JSON.stringify(snapshots));
        assert.ok(snapshots.includes("us-east-1 manual snapshot before-upgrade-2026-12-01"));
        assert.ok(snapshots.some((s) => /^us-east-1 automated snapshot rds:oauth2-postgres-/.test(s)), "moto's automated snapshot of the instance");
        assert.ok(snapshots.includes("us-west-2 manual snapshot replica-check"), "the DR region's snapshots, of the replica");
        assert.deepEqual(by("aws-backup").map((p) => [p.region, p.label, p.status]).sort(), [
            ["us-east-1", "AWS Backup continuous", "AVAILABLE"],
            ["us-east-1", "AWS Backup snapshot", "COMPLETED"],
            ["us-east-1", "AWS Backup snapshot", "PARTIAL"],
            ["us-west-2", "AWS Backup snapshot", "COMPLETED"],
        ], "both vaults, both pages of the prod vault");
        const replica = by("replica");
        assert.equal(replica.length, 1);
        assert.equal(replica[0].time, iso(now - 2 * 60_000 - 7000), "the replica holds the primary's state ReplicaLag seconds before the datapoint");
        assert.match(replica[0].detail, /lag 7 s/);
        const dumps = by("dump");
        assert.equal(dumps.length, 6, "the manifests under database/manifests/, not latest.json");
        const v2 = dumps.find((d) => d.id.includes("20261204"))!;
        assert.equal(v2.time, iso(now - 3 * HOUR), "a dump holds the database as of pg_dump's start");
        assert.match(v2.detail, new RegExp(`oauth2db, schema public 5e1f00d2, 23 B, verified: passed ${iso(now - 2 * HOUR).slice(0, 10)}`));
        assert.deepEqual([v2.verification?.status, v2.verification?.at], ["passed", iso(now - 2 * HOUR)], "the newest record wins over an older failure");
        assert.match(dumps.find((d) => d.id.includes("20261120"))!.detail, /v1 manifest/);
        const v1 = dumps.find((d) => d.id.includes("20261120"))!.verification!;
        assert.deepEqual([v1.status, v1.failedBy, v1.reason], ["failed", "backup", ROW_COUNT_FAILURE]);
        assert.match(dumps.find((d) => d.id.includes("20261120"))!.detail, /verified: FAILED \d{4}-\d{2}-\d{2} \(all tables present with expected row counts: oauth2_authorization has…\)$/);
        const overwritten = dumps.find((d) => d.id.includes("20261127"))!;
        assert.equal(overwritten.verification?.status, "never");
        assert.match(overwritten.verification!.reason, /verified another version of this manifest .*overwritten since/);
        assert.match(overwritten.detail, /never verified \(this version\)/);
        const corrupt = dumps.find((d) => d.id.includes("20261126"))!;
        assert.equal(corrupt.verification?.status, "unknown");
        assert.match(corrupt.verification!.reason, /the record database\/verifications\/oauth2db-20261126T050000Z-88888888\/.*\.json is not JSON/);
        assert.match(corrupt.detail, /verified: unknown \(its record is not JSON; --json says which\)$/);
        assert.ok(corrupt.restore.commands.length === 1, "a corrupt record does not make its dump unrestorable");
        assert.deepEqual([dumps.find((d) => d.id.includes("20261125"))!.verification?.status], ["never"]);
        assert.match(dumps.find((d) => d.id.includes("20261125"))!.detail, /never verified$/);
        assert.ok(report.notes.some((n) => /verification records of 1 manifest\(s\) no longer in the bucket .*oauth2db-20261001T050000Z-deadbeef/.test(n)), JSON.stringify(report.notes));
        // The DR bucket's copies, a source of their own, with the replication lag said.
        const copies = by("dump-dr");
        assert.deepEqual(copies.map((p) => [p.region, p.label, p.id]), [["us-west-2", "dump (DR copy)", "database/manifests/oauth2db-20261120T050000Z-1a2b3c4d.json"]]);
        assert.match(copies[0].detail, /^S3 replica in oauth2-backups-dr: oauth2db, /);
        assert.deepEqual(copies[0].restore.commands, ["BUCKET=oauth2-backups-dr AWS_REGION=us-west-2 scripts/restore.sh --yes --manifest database/manifests/oauth2db-20261120T050000Z-1a2b3c4d.json"]);
        const lag = report.notes.find((n) => n.startsWith("s3://oauth2-backups-dr "))!;
        assert.match(lag, /stack dr, us-west-2\): 1 of s3:\/\/oauth2-backups-prod's 6 dump manifests; 5 not copied \(yet\), the newest database\/manifests\/oauth2db-20261204T050000Z-0123456789ab\.json of .* \(3 h old, its ReplicationStatus FAILED; .*the newest copy is of .* \(14 days old\)/);
        // The vault bucket: these credentials may not read it (403), said, not an error.
        assert.equal(by("dump-vault").length, 0);
        assert.ok(report.notes.some((n) => /the vault account's copies in s3:\/\/oauth2-backups-vault \(us-east-1\) are not listed: these credentials may not read them \(AccessDenied\); run recovery-points with the vault account's credentials \(a profile that assumes arn:aws:iam::210987654321:role\/oauth2-dr-vault-restore/.test(n)), JSON.stringify(report.notes));
        // The replica's own window, restored with the AWS CLI (outside `pulumi up`).
        const replicaWindow = by("point-in-time-replica");
        assert.deepEqual(replicaWindow.map((p) => [p.region, p.id, p.earliest, p.time]), [["us-west-2", "oauth2-postgres-replica", iso(now - 20 * DAY), iso(now - 6 * 60_000)]]);
        assert.deepEqual(replicaWindow[0].restore.commands, [`aws rds restore-db-instance-to-point-in-time --region us-west-2 --source-db-instance-identifier oauth2-postgres-replica --target-db-instance-identifier oauth2-postgres-replica-restored --restore-time ${PICK_TIME}`]);
        assert.deepEqual(replicaWindow[0].restore.pick, { earliest: iso(now - 20 * DAY), latest: iso(now - 6 * 60_000) });
        assert.deepEqual(report.unlisted, [], "aws: every source is read");
        assert.match(dumps.find((d) => d.id.endsWith("broken.json"))!.restore.blocked!, /not a JSON manifest/);
        assert.ok(calls.includes("rds us-east-1 DescribeDBInstanceAutomatedBackups") && calls.includes("rds us-west-2 DescribeDBInstanceAutomatedBackups"));
    });

    it("gives each point the exact restore: stack config the project's validator accepts, or restore.sh --manifest", () => {
        const restorable = report.points.filter((p) => p.restore.config?.key.startsWith("restore."));
        assert.ok(restorable.length >= 7, `${restorable.length} config restores`);
        for (const point of restorable) {
            const { stack, config, pick } = point.restore;
            assert.equal(stack, point.region === "us-east-1" ? "prod" : "dr", `${point.id} in ${point.region}`);
            assert.deepEqual(point.restore.commands, [`pulumi config set -s ${stack} --path ${config!.key} ${config!.value}`, `pulumi up -s ${stack}`]);
            if (pick) {
                // A window: the word to replace, which the configuration refuses as it is; a time of the window passes.
                assert.equal(config!.value, PICK_TIME, point.id);
                refusedByConfig(stack!, config!.key, config!.value, new Date(now));
                acceptedByConfig(stack!, config!.key, pick.latest, new Date(now));
            } else {
                acceptedByConfig(stack!, config!.key, config!.value, new Date(now));
            }
        }
        const find = (pred: (p: RecoveryPoint) => boolean) => report.points.find(pred)!;
        // A window's latest time restores the damage too: never the printed value; the window is said instead.
        assert.deepEqual(find((p) => p.source === "point-in-time").restore.config, { key: "restore.pointInTime", value: PICK_TIME });
        assert.deepEqual(find((p) => p.source === "point-in-time").restore.pick, { earliest: iso(now - 30 * DAY + HOUR), latest: iso(now - 5 * 60_000) });
        assert.deepEqual(find((p) => p.source === "point-in-time-dr").restore.pick, { earliest: iso(now - 29 * DAY), latest: iso(now - 10 * 60_000) });
        assert.equal(find((p) => p.id === CONTINUOUS_ARN).restore.config?.value, PICK_TIME);
        for (const point of report.points) {
            assert.ok(point.restore.pick || !point.restore.commands.some((c) => c.includes(PICK_TIME)), `${point.id}: a word to replace without the window to pick from`);
            assert.ok(!point.restore.pick || !point.restore.commands.some((c) => c.includes(point.restore.pick!.latest)), `${point.id}: the window's latest time printed as the value`);
        }
        assert.deepEqual(find((p) => p.id === "before-upgrade-2026-12-01").restore.config, { key: "restore.fromSnapshot", value: "before-upgrade-2026-12-01" });
        assert.deepEqual(find((p) => p.id === JOB_ARN).restore.config, { key: "restore.fromSnapshot", value: JOB_ARN }, "AWS Backup's RDS snapshot, by ARN");
        assert.deepEqual(find((p) => p.id === COPY_JOB_ARN).restore.config, { key: "restore.fromSnapshot", value: COPY_JOB_ARN });
        assert.equal(find((p) => p.id === CONTINUOUS_ARN).restore.config?.key, "restore.pointInTime", "continuous backup: the instance's window");
        assert.match(find((p) => p.status === "PARTIAL").restore.blocked!, /status PARTIAL \(the copy did not finish\)/);
        assert.deepEqual(find((p) => p.source === "replica").restore.commands, ["pulumi config set -s dr promote true", "pulumi up -s dr"]);
        // Public-key: the vault's private keys (vault stack's region and restore role); symmetric: none needed.
        assert.deepEqual(find((p) => p.source === "dump" && p.id.includes("20261125")).restore.commands, [
            "RESTORE_PRIVATE_KEYS_SECRET_ID=oauth2-dr/backup-private-keys RESTORE_PRIVATE_KEYS_REGION=us-east-1 RESTORE_PRIVATE_KEYS_ROLE_ARN=arn:aws:iam::210987654321:role/oauth2-dr-vault-restore "
                + "BUCKET=oauth2-backups-prod AWS_REGION=us-east-1 scripts/restore.sh --yes --manifest database/manifests/oauth2db-20261125T050000Z-99999999.json",
        ]);
        assert.match(find((p) => p.source === "dump" && p.id.includes("20261125")).detail, /public-key \(1 recipient\(s\)\)/);
        assert.equal(PRIVATE_KEYS_SECRET, PRIVATE_KEYS_SECRET_NAME, "the secret components/vault-account.ts declares");
        // The vault account's own credentials (its copies): no role; no vault known: words to replace, not a wrong value.
        assert.equal(privateKeysSettings({ region: "us-east-1", restoreRoleArn: "arn:aws:iam::210987654321:role/r" }, true), "RESTORE_PRIVATE_KEYS_SECRET_ID=oauth2-dr/backup-private-keys RESTORE_PRIVATE_KEYS_REGION=us-east-1");
        assert.equal(privateKeysSettings(undefined, false), "RESTORE_PRIVATE_KEYS_SECRET_ID=oauth2-dr/backup-private-keys RESTORE_PRIVATE_KEYS_REGION=VAULT_REGION RESTORE_PRIVATE_KEYS_ROLE_ARN=VAULT_RESTORE_ROLE_ARN");
        assert.deepEqual(find((p) => p.id.includes("20261204")).restore.commands, [
            "BUCKET=oauth2-backups-prod AWS_REGION=us-east-1 scripts/restore.sh --yes --manifest database/manifests/oauth2db-20261204T050000Z-0123456789ab.json",
        ]);
    });

    it("prints a table readable at 100 columns, long commands continued with \\ and ARNs whole", async () => {
        const result = await run(["--stack", "prod", "--stack-outputs", outputsFile], { clients: clientsFor(moto, now, calls), now: new Date(now) });
        assert.equal(result.code, 0, result.err);
        text = result.out;
        const lines = text.trimEnd().split("\n");
        const wide = lines.filter((l) => l.length > 100);
        assert.deepEqual(wide, [], "every line fits in 100 columns");
        assert.match(text, /^ *# {2,}Time \(UTC\) +Point +Region +Detail$/m);
        assert.ok(lines.some((l) => l.trim() === COPY_JOB_ARN || l.trim().startsWith(`${COPY_JOB_ARN} `)), "the 98-character ARN is on a line of its own, unbroken");
        // A command continued over lines pastes back into the same command.
        const joined = flat(text);
        assert.ok(joined.includes(`pulumi config set -s dr --path restore.fromSnapshot ${COPY_JOB_ARN}`));
        assert.ok(joined.includes("scripts/restore.sh --yes --manifest database/manifests/oauth2db-20261204T050000Z-0123456789ab.json"));
        // The window: the word to replace, and under it what to replace it with; never its latest time as the value.
        assert.ok(joined.includes(`pulumi config set -s prod --path restore.pointInTime ${PICK_TIME} pulumi up -s prod`), joined);
        assert.ok(joined.includes(`pick the time: replace ${PICK_TIME} with the last second before the damage (UTC), from ${iso(now - 30 * DAY + HOUR)} to ${iso(now - 5 * 60_000)}; ${iso(now - 5 * 60_000)} (the latest) restores any damage done before it too`), joined);
        assert.doesNotMatch(joined, /restore\.pointInTime \d{4}-/, "a window's time printed as the value to set");
        assert.match(text, new RegExp(`its commands hold\\s+${PICK_TIME},\\s+to\\s+replace\\s+with\\s+the\\s+last\\s+second\\s+before\\s+the\\s+damage`));
        // A public-key dump: the complete command, with where restore.sh reads the private keys.
        assert.ok(joined.includes("RESTORE_PRIVATE_KEYS_SECRET_ID=oauth2-dr/backup-private-keys RESTORE_PRIVATE_KEYS_REGION=us-east-1 RESTORE_PRIVATE_KEYS_ROLE_ARN=arn:aws:iam::210987654321:role/oauth2-dr-vault-restore BUCKET=oauth2-backups-prod AWS_REGION=us-east-1 scripts/restore.sh --yes --manifest database/manifests/oauth2db-20261125T050000Z-99999999.json"), joined);
        const rows = lines.filter((l) => /^ *\d+ {2}\d{4}-/.test(l));
        assert.equal(rows.length, report.points.filter((p) => p.time).length);
    });

    it("never prints a secret: not the credentials, not the stack's secret outputs", () => {
        for (const out of [text, JSON.stringify(report)]) {
            assert.ok(!out.includes(SECRET_KEY) && !out.includes(DB_PASSWORD) && !out.includes("postgresql://"));
        }
    });

    it("exit 3 for a missing instance, naming it and the region; snapshots, AWS Backup and dumps still listed", async () => {
        const result = await run(["--stack", "prod", "--stack-outputs", outputs({ dbInstanceIdentifier: "oauth2-postgres-gone" })], { clients: clientsFor(moto, now, calls), now: new Date(now) });
        assert.equal(result.code, 3, result.out);
        assert.match(flat(result.out), /no RDS instance oauth2-postgres-gone in us-east-1 \(the stack's primaryRegion\)/);
        assert.match(result.out, /AWS Backup snapshot/);
        assert.match(result.out, /scripts\/restore\.sh --yes --manifest/);
    });

    it("exit 3 for a wrong region (the stack file says us-east-2)", async () => {
        const dir = fs.mkdtempSync(path.join(scratch, "program-"));
        fs.copyFileSync(path.join(REPO, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
        // A valid stack file, in the wrong region: the primary region, and the alarm topic that must be in it.
        const stackFile = fs.readFileSync(path.join(REPO, "Pulumi.prod.yaml"), "utf8")
            .replace("aws:region: us-east-1", "aws:region: us-east-2")
            .replace("primaryRegion: us-east-1", "primaryRegion: us-east-2")
            .replace("sns:us-east-1", "sns:us-east-2");
        fs.writeFileSync(path.join(dir, "Pulumi.prod.yaml"), `${stackFile}  oauth2-dr:healthCheckAlarmTopicArn: arn:aws:sns:us-east-1:${ACCOUNT}:oauth2-dr-alarms\n`);
        const result = await run(["--stack", "prod", "--stack-outputs", outputsFile, "--json"], { programDir: dir, clients: clientsFor(moto, now, calls), now: new Date(now) });
        assert.equal(result.code, 3, result.err);
        assert.match(result.err, /no RDS instance oauth2-postgres in us-east-2/);
        const json = JSON.parse(result.out) as Report;
        assert.ok(json.errors.some((e) => e.exitCode === 3));
    });

    it("with moto's own DescribeDBInstanceAutomatedBackups (no RestoreWindow): the instance's latest restorable time, never after now, earliest unknown", async () => {
        const factory = clientsFor(moto, now, calls);
        // RDS straight to moto: no API-reference answer for the automated backups.
        const motoOnly: ClientFactory = (service, region) => (service === "rds" ? { ...factory(service, region), requestHandler: undefined } : factory(service, region));
        const listedAt = Date.now() - 60_000; // a clock a minute behind RDS's
        const result = await run(["--stack", "prod", "--stack-outputs", outputsFile, "--json"], { clients: motoOnly, now: new Date(listedAt) });
        assert.equal(result.code, 0, result.err);
        const json = JSON.parse(result.out) as Report;
        const window = json.points.filter((p) => p.source === "point-in-time");
        assert.equal(window.length, 1);
        assert.equal(window[0].earliest, undefined);
        assert.equal(window[0].time, iso(listedAt), "moto's LatestRestorableTime is its clock's now: clamped to the listing's");
        acceptedByConfig("prod", "restore.pointInTime", window[0].time!, new Date(listedAt));
        assert.deepEqual(window[0].restore.pick, { latest: iso(listedAt) }, "the window to pick from, its start unknown");
        assert.ok(json.notes.some((n) => /report no RestoreWindow: the earliest restorable time is unknown/.test(n)));
        assert.ok(json.notes.some((n) => /no automated backups of oauth2-postgres replicated into us-west-2/.test(n)));
    });

    it("exit 4 when only storage fails (a bucket that does not exist), naming the bucket", async () => {
        const result = await run(["--stack", "prod", "--stack-outputs", outputs({ backupBucketName: "oauth2-backups-missing" })], { clients: clientsFor(moto, now, calls), now: new Date(now) });
        assert.equal(result.code, 4, result.out);
        assert.match(flat(result.out), /S3 s3:\/\/oauth2-backups-missing\/database\/manifests\/: NoSuchBucket/);
        assert.match(result.out, /point in time/);
    });

    it("exit 3 without AWS credentials, said once (the SDK's real credential chain, in a process of its own)", () => {
        const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: scratch, AWS_CONFIG_FILE: "/dev/null", AWS_SHARED_CREDENTIALS_FILE: "/dev/null", AWS_EC2_METADATA_DISABLED: "true", AWS_ENDPOINT_URL: moto.endpoint };
        const result = spawnSync(process.execPath, ["--require", require.resolve("offline-plan/register.cjs"), path.join(REPO, "tools/recovery-points/cli.ts"), "--stack", "prod", "--stack-outputs", outputsFile], { env, encoding: "utf8", timeout: 30_000 });
        assert.equal(result.status, 3, result.stderr + result.stdout);
        assert.equal(result.stdout.match(/no AWS credentials/g)?.length, 1, result.stdout);
        assert.match(flat(result.stdout), /set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/);
        assert.doesNotMatch(result.stderr, /NodeVersionSupportWarning/);
    });

    it("a manifest whose dump object is gone (deleted, expired): listed as MISSING and not restorable, with the object and S3's answer", async () => {
        const credentials = { accessKeyId: "testing", secretAccessKey: "testing" };
        const s3 = new S3Client({ region: "us-east-1", endpoint: moto.endpoint, credentials, forcePathStyle: true });
        try {
            await s3.send(new CreateBucketCommand({ Bucket: "oauth2-backups-gone" }));
            const manifest = (name: string) => JSON.stringify({ format: "oauth2-dr/db-backup-manifest/v2", status: "complete", database: "oauth2db", prefix: "database/", object_key: `database/${name}.dump.gpg`, size_bytes: 23, started_at: iso(now - HOUR) });
            await s3.send(new PutObjectCommand({ Bucket: "oauth2-backups-gone", Key: "database/manifests/oauth2db-20261204T060000Z-aaaa00000001.json", Body: manifest("oauth2db-20261204T060000Z-aaaa00000001") }));
            await s3.send(new PutObjectCommand({ Bucket: "oauth2-backups-gone", Key: "database/manifests/oauth2db-20261204T050000Z-aaaa00000002.json", Body: manifest("oauth2db-20261204T050000Z-aaaa00000002") }));
            await s3.send(new PutObjectCommand({ Bucket: "oauth2-backups-gone", Key: "database/oauth2db-20261204T050000Z-aaaa00000002.dump.gpg", Body: "encrypted dump stand-in" }));
        } finally {
            s3.destroy();
        }
        const result = await run(["--stack", "prod", "--stack-outputs", outputs({ backupBucketName: "oauth2-backups-gone" }), "--json"], { clients: clientsFor(moto, now, calls), now: new Date(now) });
        const points = (JSON.parse(result.out) as Report).points.filter((p) => p.source === "dump");
        const gone = points.find((p) => p.id.endsWith("aaaa00000001.json"))!;
        const there = points.find((p) => p.id.endsWith("aaaa00000002.json"))!;
        assert.equal(gone.object?.state, "missing");
        assert.match(gone.detail, /dump object MISSING$/);
        assert.deepEqual(gone.restore.commands, []);
        assert.match(gone.restore.blocked ?? "", /^the dump object s3:\/\/oauth2-backups-gone\/database\/oauth2db-20261204T060000Z-aaaa00000001\.dump\.gpg is not in the bucket \(HeadObject: NotFound \(HTTP 404\)\): restore\.sh would stop with exit 4; pick another point$/);
        assert.deepEqual(there.object, { state: "present", bytes: 23 });
        assert.equal(there.restore.blocked, undefined);
        assert.equal(there.restore.commands.length, 1);
    });

    it("exit 3 with an AWS_PROFILE that is not in the config files: names the profile and the files, not 'set AWS_PROFILE'", () => {
        const config = path.join(scratch, "aws-config");
        fs.writeFileSync(config, "[profile oauth2-dr-prod]\nregion = us-east-1\n");
        const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: scratch, AWS_CONFIG_FILE: config, AWS_SHARED_CREDENTIALS_FILE: "/dev/null", AWS_EC2_METADATA_DISABLED: "true", AWS_ENDPOINT_URL: moto.endpoint, AWS_PROFILE: "oauth2-dr-vault" };
        const result = spawnSync(process.execPath, ["--require", require.resolve("offline-plan/register.cjs"), path.join(REPO, "tools/recovery-points/cli.ts"), "--stack", "prod", "--stack-outputs", outputsFile], { env, encoding: "utf8", timeout: 30_000 });
        assert.equal(result.status, 3, result.stderr + result.stdout);
        assert.match(flat(result.stdout), new RegExp(`no AWS credentials from AWS_PROFILE=oauth2-dr-vault \\(.*\\): is the profile in ${config.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} or /dev/null`));
        assert.doesNotMatch(result.stdout, /set AWS_PROFILE/);
    });

    it("an endpoint that accepts connections and never answers (stalled S3/RDS): each call ends, named, exit 3; the wait is said meanwhile", async function () {
        // A real CLI process against a TCP server that accepts and stays silent (what a paused moto or a stuck
        // proxy does). Before the request timeout the process waited without end and printed nothing.
        this.timeout(90_000);
        const held: net.Socket[] = [];
        const silent = net.createServer((socket) => held.push(socket));
        await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
        const port = (silent.address() as net.AddressInfo).port;
        try {
            const env: NodeJS.ProcessEnv = {
                PATH: process.env.PATH, HOME: scratch, AWS_CONFIG_FILE: "/dev/null", AWS_SHARED_CREDENTIALS_FILE: "/dev/null", AWS_EC2_METADATA_DISABLED: "true",
                AWS_ACCESS_KEY_ID: "testing", AWS_SECRET_ACCESS_KEY: SECRET_KEY, AWS_ENDPOINT_URL: `http://127.0.0.1:${port}`,
                RECOVERY_POINTS_TIMEOUT_SECONDS: "2", AWS_MAX_ATTEMPTS: "1", TEST_ONLY_RECOVERY_POINTS_PROGRESS_MS: "1000",
            };
            const child = spawn(process.execPath, ["--require", require.resolve("offline-plan/register.cjs"), path.join(REPO, "tools/recovery-points/cli.ts"), "--stack", "prod", "--stack-outputs", outputsFile], { env });
            let stdout = "";
            let stderr = "";
            child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
            child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
            const killer = setTimeout(() => child.kill("SIGKILL"), 60_000);
            const code = await new Promise<number | null>((resolve) => child.on("close", (c) => resolve(c)));
            clearTimeout(killer);
            assert.equal(code, 3, `${stderr}\n${stdout}`);
            const out = flat(stdout);
            assert.match(out, /RDS us-east-1 DescribeDBInstances: no answer from RDS in us-east-1 \(oauth2-postgres\) within 2 s per attempt: a stalled endpoint or proxy/);
            assert.match(out, /S3 s3:\/\/oauth2-backups-prod\/database\/manifests\/: no answer from S3 in us-east-1 \(s3:\/\/oauth2-backups-prod\/database\/manifests\/\) within 2 s/);
            assert.match(stderr, /recovery-points: still waiting for 1 AWS answer\(s\) after \d+ s: RDS DescribeDBInstances us-east-1 oauth2-postgres \(\d+ s\)/);
            assert.doesNotMatch(stdout + stderr, new RegExp(SECRET_KEY));
        } finally {
            held.forEach((s) => s.destroy());
            silent.close();
        }
    });

    it("refuses a RECOVERY_POINTS_TIMEOUT_SECONDS that is not a number of seconds, exit 2", async () => {
        const saved = process.env.RECOVERY_POINTS_TIMEOUT_SECONDS;
        const result = await run(["--stack", "prod", "--stack-outputs", outputsFile], { clients: clientsFor(moto, now, calls), now: new Date(now), env: { ...process.env, RECOVERY_POINTS_TIMEOUT_SECONDS: "10s" } });
        assert.equal(process.env.RECOVERY_POINTS_TIMEOUT_SECONDS, saved);
        assert.equal(result.code, 2, result.err);
        assert.match(result.err, /RECOVERY_POINTS_TIMEOUT_SECONDS must be a number of seconds above 0, not "10s"/);
    });

    it("an endpoint that answers AWS Backup with a web page (moto 5's own: an HTML 404; a proxy's): says the answer is not the API, with its status, not 'SyntaxError: Unexpected token'", async () => {
        const factory = clientsFor(moto, now, calls);
        // AWS Backup straight to moto, which serves no ListRecoveryPointsByBackupVault: an HTML page, HTTP 404.
        const motoOnly: ClientFactory = (service, region) => (service === "backup" ? { ...factory(service, region), requestHandler: undefined } : factory(service, region));
        const result = await run(["--stack", "prod", "--stack-outputs", outputsFile], { clients: motoOnly, now: new Date(now) });
        assert.equal(result.code, 4, result.out);
        const text = flat(result.out);
        assert.match(text, /AWS Backup us-east-1 oauth2-dr-vault: the answer of AWS Backup in us-east-1 \(vault oauth2-dr-vault\) is not its API: HTTP 404 with a text\/html body \(/, text);
        assert.match(text, /AWS Backup us-west-2 oauth2-dr-vault-dr: the answer of AWS Backup in us-west-2 \(vault oauth2-dr-vault-dr\) is not its API: HTTP 404/, text);
        assert.doesNotMatch(text, /SyntaxError/);
    });

    it("exit 3 with expired temporary keys in the environment (AWS_CREDENTIAL_EXPIRATION passed): said once, with the expiry and what to renew, before any query", () => {
        const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: scratch, AWS_CONFIG_FILE: "/dev/null", AWS_SHARED_CREDENTIALS_FILE: "/dev/null", AWS_EC2_METADATA_DISABLED: "true", AWS_ENDPOINT_URL: moto.endpoint,
            AWS_ACCESS_KEY_ID: "ASIARPTESTEXPIRED", AWS_SECRET_ACCESS_KEY: SECRET_KEY, AWS_SESSION_TOKEN: "expired-session-token", AWS_CREDENTIAL_EXPIRATION: "2026-01-01T00:00:00Z" };
        const result = spawnSync(process.execPath, ["--require", require.resolve("offline-plan/register.cjs"), path.join(REPO, "tools/recovery-points/cli.ts"), "--stack", "prod", "--stack-outputs", outputsFile], { env, encoding: "utf8", timeout: 30_000 });
        // moto accepts any credentials: without the check the listing went on (exit 0 here; on AWS, ExpiredToken once per source).
        assert.equal(result.status, 3, result.stderr + result.stdout);
        const text = flat(result.stdout);
        assert.equal(text.match(/have expired/g)?.length, 1, text);
        assert.match(text, /AWS credentials: the AWS credentials have expired \(valid until 2026-01-01T00:00:00Z, AWS_CREDENTIAL_EXPIRATION; now \S+\): AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN in the environment: set them to new credentials/, text);
        assert.match(text, /No recovery point found/);
        assert.doesNotMatch(result.stdout + result.stderr, new RegExp(SECRET_KEY));
    });

    it("the scripts' own WAL archive in the bucket (wal-archive.sh: base backups, segments) is listed as a window with its wal-archive.sh restore, which refuses the word as it is", async () => {
        // Was silent: an operator of a self-managed server (or the drill's world) saw only the dumps.
        const credentials = { accessKeyId: "testing", secretAccessKey: "testing" };
        const s3 = new S3Client({ region: "us-east-1", endpoint: moto.endpoint, credentials, forcePathStyle: true });
        const bucket = "oauth2-backups-walarchive";
        await s3.send(new CreateBucketCommand({ Bucket: bucket }));
        const put = (key: string, body: string) => s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
        const first = new Date(now - 2 * DAY + 123);
        // As wal-archive.sh base-backup writes them: finished_at, and finished_epoch, the field restore selects by.
        const manifest = (finished: number) => JSON.stringify({ format: "oauth2-dr/base-backup-manifest/v1", finished_at: new Date(finished).toISOString(), finished_epoch: finished / 1000 });
        await put("wal/base/20261201T000000Z-aaaaaaaaaaaa.json", manifest(first.getTime()));
        await put("wal/base/20261202T000000Z-bbbbbbbbbbbb.json", manifest(now - DAY));
        await put("wal/base/notes.json", "not a manifest");
        // finished_at without finished_epoch: wal-archive.sh restore skips it ("not a base backup manifest"), so it is
        // no base backup here either (it was counted, and its end could be the window's earliest).
        await put("wal/base/20261130T000000Z-cccccccccccc.json", JSON.stringify({ format: "oauth2-dr/base-backup-manifest/v1", finished_at: new Date(now - 3 * DAY).toISOString() }));
        await put("wal/base/20261202T000000Z-bbbbbbbbbbbb.tar.zst.gpg", "x");
        await put("wal/000000010000000000000001.zst.gpg", "x");
        await put("wal/000000010000000000000002.zst.gpg", "x");
        await put("wal/00000002.history.zst.gpg", "x");
        s3.destroy();
        const result = await run(["--stack", "prod", "--stack-outputs", outputs({ backupBucketName: bucket }), "--json"], { clients: clientsFor(moto, now, calls), now: new Date(now) });
        const json = JSON.parse(result.out) as Report;
        const wal = json.points.filter((p) => p.source === "wal-archive");
        assert.equal(wal.length, 1, result.out);
        const point = wal[0];
        assert.equal(point.id, `s3://${bucket}/wal/`);
        assert.equal(point.earliest, iso(Math.ceil(first.getTime() / 1000) * 1000), "the earliest base backup's end, rounded up to the second");
        assert.match(point.detail, new RegExp(`2 base backup\\(s\\), the earliest ended ${iso(first.getTime())}, the newest ${iso(now - DAY)}; WAL archived up to \\S+ \\(000000010000000000000002\\)`));
        assert.deepEqual(point.restore.pick, { earliest: point.earliest, latest: point.time });
        assert.deepEqual(point.restore.commands, [`BUCKET=${bucket} AWS_REGION=us-east-1 scripts/wal-archive.sh restore <new-data-dir> --target-time ${PICK_TIME} --wait-for-target 300`]);
        for (const key of ["notes.json", "20261130T000000Z-cccccccccccc.json"]) {
            assert.ok(json.notes.some((n) => n === `s3://${bucket}/wal/base/${key}: not a base backup manifest (no finished_epoch); wal-archive.sh restore skips it too`), json.notes.join("\n"));
        }
        // Pasted unedited, wal-archive.sh refuses the word before any work (exit 2), as the configuration does for the other windows.
        const pasted = spawnSync("bash", [path.join(REPO, "scripts/wal-archive.sh"), "restore", path.join(scratch, "never"), "--target-time", PICK_TIME], { env: { ...process.env, BUCKET: bucket, AWS_ENDPOINT_URL: moto.endpoint }, encoding: "utf8", timeout: 30_000 });
        assert.equal(pasted.status, 2, pasted.stderr);
        assert.match(pasted.stderr, new RegExp(`not a time: "${PICK_TIME}"`));
        assert.ok(!fs.existsSync(path.join(scratch, "never")));
        // The bucket without an archive (the shared fixture): no such point, and no note about it.
        const plain = JSON.parse((await run(["--stack", "prod", "--stack-outputs", outputsFile, "--json"], { clients: clientsFor(moto, now, calls), now: new Date(now) })).out) as Report;
        assert.equal(plain.points.filter((p) => p.source === "wal-archive").length, 0);
        assert.ok(!plain.notes.some((n) => /wal\//.test(n)), plain.notes.join("\n"));
    });

    it("a gap in the WAL archive is said, and one after the newest base backup ends the window at the segment before it, not at the newest segment", async () => {
        // A recovery stops at the first missing segment (wal-archive.sh fetch: "a gap in the archive"): the window
        // listed the newest segment's time as restorable through a gap.
        const names = (ns: string[]) => ns.map((name, i) => ({ name, at: new Date(now + i * 1000) }));
        assert.deepEqual(walGaps(names(["000000010000000000000001", "000000010000000000000002", "0000000100000001000000FF", "000000010000000200000000", "000000020000000200000005"])).map((g) => [g.before.name, g.after.name]),
            [["000000010000000000000002", "0000000100000001000000FF"]], "a log file skipped; the next log file's first segment and another timeline are no gap");
        assert.deepEqual(walGaps(names(["000000010000000000000001", "000000010000000000000003"])).map((g) => g.after.name), ["000000010000000000000003"]);
        const credentials = { accessKeyId: "testing", secretAccessKey: "testing" };
        const s3 = new S3Client({ region: "us-east-1", endpoint: moto.endpoint, credentials, forcePathStyle: true });
        const bucket = "oauth2-backups-walgap";
        await s3.send(new CreateBucketCommand({ Bucket: bucket }));
        const put = (key: string, body: string) => s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
        await put("wal/base/20261202T000000Z-bbbbbbbbbbbb.json", JSON.stringify({ format: "oauth2-dr/base-backup-manifest/v1", finished_at: new Date(now - DAY).toISOString(), finished_epoch: (now - DAY) / 1000 }));
        await put("wal/000000010000000000000001.zst.gpg", "x");
        await put("wal/000000010000000000000002.zst.gpg", "x");
        const before = new Date();
        // S3 times have whole seconds: the segments after the gap are archived in a later one.
        await new Promise((r) => setTimeout(r, 1100 - (before.getTime() % 1000)));
        await put("wal/000000010000000000000004.zst.gpg", "x");
        await put("wal/000000010000000000000005.zst.gpg", "x");
        const beforeGap = iso((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: "wal/000000010000000000000002.zst.gpg" }))).LastModified!.getTime());
        s3.destroy();
        const result = await run(["--stack", "prod", "--stack-outputs", outputs({ backupBucketName: bucket }), "--json"], { clients: clientsFor(moto, now, calls), now: new Date(now) });
        const json = JSON.parse(result.out) as Report;
        const point = json.points.find((p) => p.source === "wal-archive")!;
        assert.ok(point, result.out);
        assert.equal(point.time, beforeGap, "the window ends at the segment before the gap");
        assert.equal(point.restore.pick!.latest, point.time);
        assert.match(point.detail, new RegExp(`WAL archived up to \\S+ \\(000000010000000000000005\\); restorable up to ${point.time} only: WAL is missing after it \\(Notes\\)$`));
        assert.ok(json.notes.some((n) => n.startsWith(`s3://${bucket}/wal/: WAL missing between 000000010000000000000002 (archived ${point.time}) and 000000010000000000000004 (archived `)), json.notes.join("\n"));
    });

    it("a gap before the newest base backup cuts the window in two: the targets between the gap and that backup's end are not listed as restorable", async () => {
        const at = (seconds: number) => new Date(now + seconds * 1000);
        const gap = { before: { at: at(20) }, after: { at: at(40) } };
        assert.deepEqual(restorableSpans([at(0), at(50)], [gap], at(90)), [{ from: at(0), to: at(20) }, { from: at(50), to: at(90) }]);
        assert.deepEqual(restorableSpans([at(0), at(10)], [], at(90)), [{ from: at(0), to: at(90) }], "no gap: one window, as before");
        assert.deepEqual(restorableSpans([at(0), at(30)], [gap], at(90)), [{ from: at(0), to: at(20) }, { from: at(30), to: at(30) }], "a base backup that ended inside the gap restores to its end only");
        assert.deepEqual(restorableSpans([at(0)], [{ before: { at: at(60) }, after: { at: at(70) } }], at(90)), [{ from: at(0), to: at(60) }], "a gap after the newest base backup ends the window at the segment before it");
        const credentials = { accessKeyId: "testing", secretAccessKey: "testing" };
        const s3 = new S3Client({ region: "us-east-1", endpoint: moto.endpoint, credentials, forcePathStyle: true });
        const bucket = "oauth2-backups-walgap-before-base";
        await s3.send(new CreateBucketCommand({ Bucket: bucket }));
        const put = (key: string, body: string) => s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
        const archivedAt = async (key: string) => (await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))).LastModified!;
        await put("wal/base/20261202T000000Z-bbbbbbbbbbbb.json", JSON.stringify({ format: "oauth2-dr/base-backup-manifest/v1", finished_at: new Date(now - DAY).toISOString(), finished_epoch: (now - DAY) / 1000 }));
        await put("wal/000000010000000000000001.zst.gpg", "x");
        await put("wal/000000010000000000000002.zst.gpg", "x");
        const beforeGap = await archivedAt("wal/000000010000000000000002.zst.gpg");
        // S3 times have whole seconds: the segments after the gap, and the second base backup, in later ones.
        await new Promise((r) => setTimeout(r, 1100 - (Date.now() % 1000)));
        await put("wal/000000010000000000000004.zst.gpg", "x");
        const secondBase = (await archivedAt("wal/000000010000000000000004.zst.gpg")).getTime() + 1000;
        await put("wal/base/20261205T000000Z-cccccccccccc.json", JSON.stringify({ format: "oauth2-dr/base-backup-manifest/v1", finished_at: new Date(secondBase).toISOString(), finished_epoch: secondBase / 1000 }));
        await new Promise((r) => setTimeout(r, 2100 - (Date.now() % 1000)));
        await put("wal/000000010000000000000005.zst.gpg", "x");
        const newest = await archivedAt("wal/000000010000000000000005.zst.gpg");
        s3.destroy();
        const result = await run(["--stack", "prod", "--stack-outputs", outputs({ backupBucketName: bucket }), "--json"], { clients: clientsFor(moto, now, calls), now: new Date(now) });
        const json = JSON.parse(result.out) as Report;
        const wal = json.points.filter((p) => p.source === "wal-archive");
        assert.deepEqual(wal.map((p) => [p.earliest, p.time]), [[iso(secondBase), iso(newest.getTime())], [iso(Math.ceil((now - DAY) / 1000) * 1000), iso(beforeGap.getTime())]], result.out);
        assert.match(wal[1].detail, new RegExp(`; this span ends at ${wal[1].time}: WAL is missing after it, and the next base backup ended ${iso(secondBase)} \\(Notes\\)$`));
        assert.equal(wal[0].restore.pick!.earliest, iso(secondBase));
    });

    it("explains an unknown region, refused credentials and access denied in one line", () => {
        assert.match(explain(Object.assign(new Error("The security token included in the request is expired"), { name: "ExpiredToken" }), { service: "RDS", region: "us-east-1" }),
            /^the AWS credentials have expired \(ExpiredToken from RDS us-east-1: The security token included in the request is expired\): /);
        assert.match(explain(Object.assign(new Error("getaddrinfo ENOTFOUND rds.us-east-7.amazonaws.com"), { code: "ENOTFOUND" }), { service: "RDS", region: "us-east-7" }),
            /^cannot reach RDS in us-east-7 \(getaddrinfo ENOTFOUND rds\.us-east-7\.amazonaws\.com\): is us-east-7 an AWS region\?$/);
        assert.match(explain(Object.assign(new Error("The security token included in the request is invalid."), { name: "InvalidClientTokenId" }), { service: "RDS", region: "us-east-1" }),
            /credentials are not valid for RDS us-east-1/);
        assert.match(explain(Object.assign(new Error("User: x is not authorized to perform: backup:ListRecoveryPointsByBackupVault"), { name: "AccessDeniedException" }), { service: "AWS Backup", region: "us-west-2", resource: "vault oauth2-dr-vault-dr" }),
            /^AccessDeniedException on AWS Backup us-west-2 \(vault oauth2-dr-vault-dr\): User: x is not authorized/);
    });

    it("with the vault account's credentials (the bucket readable), its copies are listed with the credentials they restore with", async () => {
        const result = await run(["--stack", "prod", "--stack-outputs", outputsFile, "--json"], { clients: clientsFor(moto, now, calls, { vaultReadable: true }), now: new Date(now) });
        assert.equal(result.code, 0, result.err);
        const json = JSON.parse(result.out) as Report;
        const vault = json.points.filter((p) => p.source === "dump-vault");
        assert.deepEqual(vault.map((p) => p.id).sort(), ["database/manifests/oauth2db-20261120T050000Z-1a2b3c4d.json", "database/manifests/oauth2db-20261204T050000Z-0123456789ab.json"]);
        assert.equal(vault[0].region, "us-east-1");
        assert.match(vault[0].restore.commands[0], /^AWS_PROFILE=<vault account profile> BUCKET=oauth2-backups-vault AWS_REGION=us-east-1 scripts\/restore\.sh --yes --manifest /);
        assert.ok(json.notes.some((n) => /^s3:\/\/oauth2-backups-vault \(vault account, us-east-1\): 2 of s3:\/\/oauth2-backups-prod's 6 dump manifests/.test(n)), JSON.stringify(json.notes));
    });

    it("an azure stack: its S3 dumps and their DR copies listed; the Flexible Server's own points said, with the az commands that list them and the restore key", async () => {
        const file = outputs({ dbInstanceIdentifier: undefined, dbInstanceArn: undefined, backupVaultArn: undefined, backupDrVaultArn: undefined, backupBucketName: "oauth2-backups-prod-azure", dbServerName: "oauth2-postgres", resourceGroupName: "oauth2-prod-rg" });
        const result = await run(["--stack", "prod-azure", "--stack-outputs", file], { clients: clientsFor(moto, now, calls), now: new Date(now) });
        assert.equal(result.code, 0, result.err + result.out);
        const text = flat(result.out);
        assert.deepEqual(result.out.split("\n").filter((l) => l.length > 100), []);
        assert.match(text, /oauth2db, schema public 5e1f00d2, 23 B, never verified/);
        assert.match(text, /BUCKET=oauth2-backups-prod-azure AWS_REGION=us-east-1 scripts\/restore\.sh --yes --manifest database\/manifests\/oauth2db-20261203T050000Z-aaaaaaaaaaaa\.json/);
        assert.match(text, /Not listed by this tool \(azure's own recovery points\)/);
        assert.match(text, /az postgres flexible-server backup list --resource-group oauth2-prod-rg --name oauth2-postgres --output table/);
        assert.match(text, /az postgres flexible-server show --resource-group oauth2-prod-rg --name oauth2-postgres --query/);
        assert.match(text, /pulumi config set -s prod-azure --path restore\.pointInTime YYYY-MM-DDTHH:MM:SSZ pulumi up -s prod-azure/);
        assert.match(text, /--query "\[backup\.earliestRestoreDate,backup\.backupRetentionDays,backup\.geoRedundantBackup\]" --output tsv/, "the query is one word: it pastes");
        assert.match(text, /no dump manifest under s3:\/\/oauth2-backups-dr-azure\/database\/manifests\//, "the DR bucket (stack dr-azure) is read, and empty");
        const json = JSON.parse((await run(["--stack", "prod-azure", "--stack-outputs", file, "--json"], { clients: clientsFor(moto, now, calls), now: new Date(now) })).out) as Report;
        assert.equal(json.cloud, "azure");
        assert.deepEqual(json.points.map((p) => p.source), ["dump"]);
        assert.deepEqual(json.unlisted.map((u) => u.restore.key), ["restore.pointInTime", "restore.pointInTime"]);
        assert.ok(!calls.some((c) => c.startsWith("rds ") && c.includes("azure")), "no RDS call");
    });

    it("a gcp stack: the Cloud SQL backups and window said, with gcloud sql backups list and restore.fromSnapshot; its DR bucket missing is exit 4", async () => {
        const file = outputs({ dbInstanceIdentifier: undefined, backupBucketName: "oauth2-backups-prod-azure", dbInstanceName: "oauth2-postgres" });
        const result = await run(["--stack", "prod-gcp", "--stack-outputs", file, "--json"], { clients: clientsFor(moto, now, calls), now: new Date(now) });
        assert.equal(result.code, 4, result.err);
        assert.match(result.err, /S3 s3:\/\/oauth2-backups-dr-gcp\/database\/manifests\/: NoSuchBucket/);
        const json = JSON.parse(result.out) as Report;
        assert.deepEqual(json.unlisted.map((u) => [u.list[0].split(" --")[0], u.restore.key]), [
            ["gcloud sql backups list", "restore.fromSnapshot"],
            ["gcloud sql instances describe oauth2-postgres", "restore.pointInTime"],
        ]);
        assert.equal(json.unlisted[0].list[0], "gcloud sql backups list --instance oauth2-postgres --project oauth2-dr-prod");
        assert.deepEqual(json.unlisted[0].restore.commands, ["pulumi config set -s prod-gcp --path restore.fromSnapshot BACKUP_ID", "pulumi up -s prod-gcp"]);
        // The placeholders are refused by the configuration as they are (never a silent wrong restore)...
        assert.throws(() => acceptedByConfig("prod-gcp", "restore.fromSnapshot", "BACKUP_ID", new Date(now)), /not a Cloud SQL backup id/);
        assert.throws(() => acceptedByConfig("prod-gcp", "restore.pointInTime", "YYYY-MM-DDTHH:MM:SSZ", new Date(now)), /not an RFC 3339 time/);
        // ...and accepted once replaced.
        acceptedByConfig("prod-gcp", "restore.fromSnapshot", "1733295600000", new Date(now));
        assert.match(json.unlisted[1].what, /30 days of transaction logs/);
        assert.equal(json.points.filter((p) => p.source === "dump").length, 1, "the dumps are listed even when a copy's bucket fails");
    });

    it("exit 2 for configuration: no --stack, a standby or non-aws stack, outputs missing a key", async () => {
        const cases: Array<[string[], RegExp]> = [
            [[], /--stack is required/],
            [["--stack", "prod", "--bogus"], /Unknown option '--bogus'/],
            [["--stack", "dr", "--stack-outputs", outputsFile], /stack dr is a standby: run recovery-points with its primary stack \(--stack prod\)/],
            [["--stack", "dr-azure", "--stack-outputs", outputsFile], /stack dr-azure is a standby: run recovery-points with its primary stack \(--stack prod-azure\)/],
            [["--stack", "prod-gcp", "--stack-outputs", outputs({ backupBucketName: undefined })], /outputs have no backupBucketName/],
            [["--stack", "prod", "--stack-outputs", outputs({ backupBucketName: undefined })], /outputs have no backupBucketName/],
            [["--stack", "prod", "--stack-outputs", path.join(scratch, "nope.json")], /cannot read --stack-outputs .*nope\.json: no such file \(write it with `pulumi stack output --json --stack prod > .*nope\.json`\)/],
            // A mistyped stack: the stacks there and the nearest (was offline-plan's "create it", which at 3 a.m. is the wrong advice).
            [["--stack", "staging"], /no stack "staging" here \(no Pulumi\.staging\.yaml in .*\): the stacks are dr, dr-azure, dr-gcp, prod, prod-azure, prod-gcp, vault\n/],
            [["--stack", "prd"], /no stack "prd" here \(no Pulumi\.prd\.yaml in .*\): did you mean --stack prod\? the stacks are dr, /],
            [["--stack", "Prod"], /no stack "Prod" here .*: did you mean --stack prod\? /],
            [["--stack", "organization/oauth2-dr/prod"], /did you mean --stack prod\? /],
        ];
        for (const [argv, message] of cases) {
            const result = await run(argv, { clients: () => assert.fail("no AWS call on a configuration error"), now: new Date(now) });
            assert.equal(result.code, 2, argv.join(" "));
            assert.match(result.err, message);
        }
    });

    it("reads the outputs with `pulumi stack output --json` when no file is given, and says what to do without the CLI", () => {
        const bin = fs.mkdtempSync(path.join(scratch, "bin-"));
        assert.throws(() => readOutputs(REPO, "prod", undefined, { PATH: bin }), (err: Error) =>
            err instanceof UsageError && /no stack outputs for prod: pass --stack-outputs FILE .*or install the Pulumi CLI/.test(err.message));
        const argsFile = path.join(scratch, "pulumi-args");
        fs.writeFileSync(path.join(bin, "pulumi"), `#!/bin/sh\nprintf '%s ' "$@" > '${argsFile}'\necho '{"dbInstanceIdentifier": "oauth2-postgres"}'\n`, { mode: 0o755 });
        assert.deepEqual(readOutputs(REPO, "prod", undefined, { PATH: `${bin}:/usr/bin:/bin` }), { dbInstanceIdentifier: "oauth2-postgres" });
        assert.equal(fs.readFileSync(argsFile, "utf8").trim(), "stack output --json --show-secrets=false --stack prod");
    });
});
