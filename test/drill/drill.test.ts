/**
 * `npm run drill`: each scenario end to end on a small database (real PostgreSQL 15 primary and streaming
 * replica, moto, oidc-provider backed by the database, the real scripts: WAL archiving and point-in-time
 * recovery through scripts/wal-archive.sh), the RPO's verdict against the measurement, the report's JSON
 * round trip and the HTML report's "last drill" section; the CLI's argument errors; the provider's warning.
 */
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { drillSection } from "../../tools/drill/html-section";
import { parseDrillArgs } from "../../tools/drill/drill";
import { formatReport, OBJECTIVES, readReports, rpoMet, writeReport, type DrillReport } from "../../tools/drill/report";
import { runDrill } from "../../tools/drill/scenarios";
import { TS_REGISTER } from "offline-plan/runner";
import { renderHtml } from "../../tools/report/html";
import { BUCKET, DrillWorld, TRAFFIC_CLIENT, untilChanged } from "../../tools/drill/world";
import { DR_BUCKET, VAULT_BUCKET } from "../../tools/drill/compromise";
import { awsCall, createBucket, REPO, sharedMoto } from "../../tools/sandbox/scripts";
import { rsaSigningKey, type PrivateJwk } from "../../tools/drill/oidc-server";
import type { MotoServer } from "../../tools/sandbox/servers";

/**
 * Seconds of traffic before the failure (and after the backup): what the verdicts need (writes acknowledged before
 * the failure, some after the backup for the dump's loss), not the CLI's default of 3.
 */
const WRITE_SECONDS = 0.5;
/** The traffic's pause after each write (the drill's default 20 ms): ten writes a second are as telling here. */
const TRAFFIC_PAUSE_MS = 100;

function assertCommon(report: DrillReport, steps: string[]): void {
    assert.deepEqual(report.steps.map((s) => s.name), ["set up", ...steps]);
    assert.ok(report.steps.every((s) => s.seconds >= 0 && s.detail.length > 0));
    // RTO runs from the failure to the validation's PASS: at least the steps in between, at most the whole drill.
    const failIndex = report.steps.findIndex((s) => s.name === ({ region: "fail", compromise: "attack" }[report.scenario as string] ?? "corrupt"));
    const between = report.steps.slice(failIndex + 1).reduce((n, s) => n + s.seconds, 0);
    const all = (Date.parse(report.finishedAt) - Date.parse(report.startedAt)) / 1000;
    assert.ok(report.rto.seconds >= between - 0.05 && report.rto.seconds <= all, `RTO ${report.rto.seconds} s, steps after the failure ${between} s, drill ${all} s`);
    assert.equal(report.rto.met, report.rto.seconds <= report.rto.targetSeconds);
    assert.deepEqual(report.validation.map((l) => l.split(":")[0]), ["PASS health", "PASS discovery", "PASS token", "PASS key continuity", "PASS database"]);
    assert.ok(report.rpo.acknowledged > 0, "traffic was acknowledged before the failure");
    assert.ok(report.rpo.lostRows <= report.rpo.acknowledged);
    // Met exactly when the measurement meets the target, in the JSON and in the text.
    assert.equal(report.rpo.met, rpoMet(report.objective, report.rpo.lostRows, report.rpo.windowSeconds));
    assert.equal(report.rpo.met, report.rpo.shortfall === undefined);
    const text = formatReport(report);
    assert.match(text, new RegExp(`^RPO ${report.rpo.lostRows} of ${report.rpo.acknowledged} writes acknowledged before the failure lost; .*: ${report.rpo.met ? "met" : "NOT MET"}$`, "m"));
    assert.ok(report.database.rows.oauth2_authorization >= 200);
}

/** The corruption drills' shared facts: the failure's time is the corrupting transaction's commit. */
function assertCorruption(report: DrillReport): void {
    assert.match(report.steps.find((s) => s.name === "detect")!.detail, /FAIL token: .*invalid_client/);
    assert.match(report.steps.find((s) => s.name === "find the corruption")!.detail, /last written by transaction \d+, which rewrote \d+ rows .* committed at \d{4}-\d\d-\d\dT[\d:.]+Z \(pg_xact_commit_timestamp/);
    assert.match(report.rpo.failureEvidence, /^commit timestamp of transaction \d+/);
    assert.equal(report.rpo.target, "point in time");
    assert.equal(report.rto.targetSeconds, 4 * 3600);
    // The traffic client is spared by the corruption: its writes after it, until the switch, are the cost.
    assert.ok(report.rpo.afterFailure.notRecovered > 0, JSON.stringify(report.rpo));
    assert.match(formatReport(report), /writes? acknowledged after the failure \(of \d+ acknowledged after it\) not in the recovered database: the recovery point's cost, not a loss/);
    // The cost named, not only counted (h32-oncall): whose tokens, acknowledged when, which rows.
    const missing = report.rpo.afterFailure.missing!;
    assert.ok(missing, JSON.stringify(report.rpo));
    assert.deepEqual(missing.clients, [TRAFFIC_CLIENT]);
    assert.equal(missing.md5.length + missing.more, report.rpo.afterFailure.notRecovered);
    assert.ok(missing.md5.every((m) => /^[0-9a-f]{32}$/.test(m)));
    assert.ok(Date.parse(missing.from) >= Date.parse(report.rpo.failureAt) - 1 && Date.parse(missing.from) <= Date.parse(missing.to), JSON.stringify(missing));
    assert.match(formatReport(report), new RegExp(`^ {8}acknowledged from ${missing.from} to ${missing.to} \\(client ${TRAFFIC_CLIENT}\\); the tokens, as oauth2_authorization rows by md5\\(access_token_value\\), are in the JSON report's rpo\\.afterFailure\\.missing$`, "m"));
    if (report.rpo.lostRows > 0) {
        assert.equal(report.rpo.lost!.md5.length + report.rpo.lost!.more, report.rpo.lostRows);
        assert.match(formatReport(report), new RegExp(`^ {4}the ${report.rpo.lostRows} writes? lost: acknowledged from \\S+ to \\S+ \\(client ${TRAFFIC_CLIENT}\\); .* rpo\\.lost$`, "m"));
    } else {
        assert.equal(report.rpo.lost, undefined);
    }
}

/**
 * After the PITR drill, on the same archive: PITR refuses to stop early. wal-archive.sh restore prefetches the
 * segments into a spool and restore_command moves them from it; a segment in the middle (before the target's)
 * that cannot be verified, or that is missing while a later one is archived, aborts the recovery with the
 * restored instance's FATAL naming that segment, with a target and without one (where ending at the gap
 * would promote an earlier state silently). Whole again, the recovery stops just before the target.
 */
async function pitrRefusesToStopEarly(world: DrillWorld): Promise<void> {
    const commit = (v: string) => world.primary.psql(`CREATE TABLE IF NOT EXISTS pitr_probe (v text); INSERT INTO pitr_probe VALUES ('${v}');
        SELECT to_char(pg_xact_commit_timestamp(xmin) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') FROM pitr_probe WHERE v = '${v}'`);
    commit("before");
    const middle = await world.archiveCurrentWal();
    const target = commit("at the target");
    assert.match(target, /^\d{4}-\d\d-\d\dT[\d:.]+Z$/);
    commit("after");
    const last = await world.archiveCurrentWal();
    assert.ok(last > middle, `${last} after ${middle}`);
    const key = `wal/${middle}.zst.gpg`;
    const head = awsCall(world.moto, "s3", "head_object", { Bucket: BUCKET, Key: key });
    const tamper = (sha256: string) => awsCall(world.moto, "s3", "copy_object", { Bucket: BUCKET, Key: key, CopySource: { Bucket: BUCKET, Key: key }, MetadataDirective: "REPLACE", Metadata: { ...head.Metadata, sha256 } });
    const fatal = new RegExp(`FATAL: +could not restore file "${middle}" from archive: child process exited with exit code 200`);

    tamper("0".repeat(64));
    await assert.rejects(world.restorePointInTime(target), (err: Error) => {
        assert.match(err.message, new RegExp(`${middle}\\.zst\\.gpg decrypts to sha256 [0-9a-f]{64}, its record says 0{64}`));
        assert.match(err.message, fatal);
        return true;
    });
    tamper(head.Metadata.sha256);

    awsCall(world.moto, "s3", "copy_object", { Bucket: BUCKET, Key: `kept/${middle}`, CopySource: { Bucket: BUCKET, Key: key } });
    awsCall(world.moto, "s3", "delete_object", { Bucket: BUCKET, Key: key });
    for (const to of [target, undefined]) {
        await assert.rejects(world.restorePointInTime(to), (err: Error) => {
            assert.match(err.message, new RegExp(`${middle} is not in the archive .*, but ${last}, later on its timeline, was when the recovery was prepared: a gap in the archive`));
            assert.match(err.message, fatal);
            return true;
        }, `a recovery ${to ? "to a target" : "of the whole archive"} with ${middle} missing`);
    }
    awsCall(world.moto, "s3", "copy_object", { Bucket: BUCKET, Key: key, CopySource: { Bucket: BUCKET, Key: `kept/${middle}` } });

    const restored = await world.restorePointInTime(target);
    assert.equal(restored.server.psql("SELECT string_agg(v, ',' ORDER BY v) FROM pitr_probe"), "before");
    assert.ok(restored.recoveryLog.some((l) => l.startsWith("recovery stopping before commit of transaction")), restored.recoveryLog.join("\n"));
    // The segments came from the spool that restore filled and verified, not one helper and gpg per segment.
    const log = world.serverLog(restored.server, 400);
    assert.match(log, new RegExp(`restored ${middle} from the spool \\(prefetched and verified by restore\\)`));
    // What it read ahead past the target's end of the archive was answered without asking the bucket.
    assert.doesNotMatch(log, /wal-archive: [0-9A-F]{24} is not in the archive \(s3:/);
}

describe("npm run drill (real PostgreSQL 15 primary and replica, moto, oidc-provider)", function () {
    // corruption-pitr took 216 s in a CI-like whole run at load 17 (84-111 s in two others): 300 s left it 1.4x.
    this.timeout(600_000);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "oauth2-dr-drill-test-"));
    after(() => fs.rmSync(dir, { recursive: true, force: true }));
    // One moto (the worker's, with its aws-rpc.py) and one pair of signing keys for every scenario of the file:
    // each world empties the moto first, as a fresh server is (runDrill's moto and signingKeys).
    let moto: MotoServer;
    let signingKeys: PrivateJwk[];
    const shared = () => ({ moto, signingKeys, trafficPauseMs: TRAFFIC_PAUSE_MS });
    let regionWorld: { dirs: string[]; removal: () => Promise<void> | undefined } | undefined;
    before(async function () {
        moto = await sharedMoto();
        signingKeys = [rsaSigningKey("drill-test"), rsaSigningKey("drill-test-previous")];
    });

    it("corruption-pitr: archive WAL, base backup, corrupt, detect, find the corruption's commit, recover to just before it in a new instance: 0 acknowledged writes lost, met; then a segment that cannot be verified fails a recovery instead of ending it early", async function () {
        let probed = false;
        let helperStarts = -1;
        let pushes = -1;
        const report = await runDrill("corruption-pitr", {
            rows: 200,
            writeSeconds: WRITE_SECONDS,
            ...shared(),
            afterRecovery: async (world) => {
                // The primary's archiver pushed every segment through one AWS helper, started by its first push.
                const log = world.serverLog(world.primary, 100_000);
                helperStarts = log.split("\n").filter((l) => /wal-archive: started the AWS helper of the cluster's pushes/.test(l)).length;
                pushes = log.split("\n").filter((l) => /wal-archive: archived [0-9A-F]{24} /.test(l)).length;
                await pitrRefusesToStopEarly(world);
                probed = true;
            },
        });
        assert.ok(probed);
        assert.ok(pushes > 2, `${pushes} segments archived`);
        assert.equal(helperStarts, 1, `the archiver's pushes started ${helperStarts} AWS helpers`);
        assertCommon(report, ["write", "base backup", "keep writing", "corrupt", "detect", "find the corruption", "restore", "switch", "validate"]);
        assertCorruption(report);
        assert.match(report.steps.find((s) => s.name === "base backup")!.detail, /wal-archive\.sh base-backup wrote wal\/base\/.*\.json/);
        const xid = /transaction (\d+)/.exec(report.rpo.failureEvidence)![1];
        // The restored instance's own log: it stopped before the corrupting transaction's commit, at its time.
        const restore = report.steps.find((s) => s.name === "restore")!.detail;
        assert.match(restore, new RegExp(`recovery stopping before commit of transaction ${xid}, time `));
        assert.match(restore, /promoted/);
        assert.ok(report.rpo.recoveryPoint?.startsWith(report.rpo.failureAt), `${report.rpo.recoveryPoint} vs ${report.rpo.failureAt}`);
        assert.match(report.validation[4], /recorded in oauth2db at 127\.0\.0\.1:\d+/);
        assert.equal(report.rpo.lostRows, 0, JSON.stringify(report.rpo));
        assert.equal(report.rpo.windowSeconds, 0);
        assert.equal(report.rpo.met, true);
        assert.match(report.objective.path, /restore\.pointInTime/);
        // What the RTO spans, said with it: from the corruption to the final PASS, every step in between.
        assert.match(report.rto.covers!, /^from the corrupting UPDATE .* to the final validation's PASS; the segment holding the corruption is archived, and the base backup restored \(wal-archive\.sh restore --target-time-file\), from the detection's start on, alongside it: .*: corrupt [\d.]+ s, detect [\d.]+ s, find the corruption [\d.]+ s, restore [\d.]+ s, switch [\d.]+ s, validate [\d.]+ s; not in it: /);
        assert.match(formatReport(report), /\n {4}covers from the corrupting UPDATE/);
        assert.match(restore, /\d+ archived WAL segment\(s\) from [0-9A-F]{24} on prefetched and verified/);
        // The restore started with the detection (the base backup needs no target yet), took the target from the
        // file once the corruption was found, and waited until the archive held the segment with its commit.
        assert.match(restore, /wal-archive\.sh restore --target-time-file --wait-for-target \(started with the detection; /);
        const archived = /alongside the archive of ([0-9A-F]{24}), the segment holding the corruption's commit/.exec(restore)![1];
        assert.match(restore, new RegExp(`the archive reaches the target \\(${archived} holds a commit at or after it; waited [\\d.]+ s`));
        // Every segment the recovery read came from the spool (none from the bucket, one helper and gpg each).
        assert.match(restore, /restore_command: [1-9]\d* segment\(s\) copied from the spool, 0 file\(s\) fetched from the bucket, /);
        // The next timeline's history, looked up at the start and at the promotion: curl on restore's presigned URL each time.
        const lookups = /(\d+) look-up\(s\) in the bucket of a file not there \(the next timeline's history; (\d+) of them with curl on the URL restore presigned/.exec(restore)!;
        assert.ok(Number(lookups[1]) > 0 && lookups[2] === lookups[1], lookups[0]);
        writeReport(report, path.join(dir, "corruption-pitr.json"));
    });

    it("corruption-dump: the newest dump loses the writes between it and the corruption: NOT MET, by how much, and PITR named as what meets it", async function () {
        const report = await runDrill("corruption-dump", { rows: 200, writeSeconds: WRITE_SECONDS, ...shared() });
        assertCommon(report, ["write", "back up", "keep writing", "corrupt", "detect", "find the corruption", "restore", "switch", "validate"]);
        assertCorruption(report);
        assert.match(report.steps.find((s) => s.name === "restore")!.detail, /oauth2db_restored/);
        assert.match(report.validation[4], /recorded in oauth2db_restored/);
        // Writes between the dump and the corruption are exactly what a dump-based restore loses: the point-in-time target is missed.
        assert.ok(report.rpo.lostRows > 0, JSON.stringify(report.rpo));
        assert.ok(report.rpo.windowSeconds >= WRITE_SECONDS, "the window spans the writes after the backup");
        assert.equal(report.rpo.met, false);
        assert.deepEqual(report.rpo.shortfall && { lost: report.rpo.shortfall.lostRows, window: report.rpo.shortfall.windowSeconds }, { lost: report.rpo.lostRows, window: report.rpo.windowSeconds });
        assert.match(report.rpo.shortfall!.meetsIt, /restore\.pointInTime.*--scenario corruption-pitr/);
        const text = formatReport(report);
        assert.match(text, /target point in time\): NOT MET/);
        assert.match(text, new RegExp(`short of the target by ${report.rpo.lostRows} acknowledged writes over [\\d.]+ s; what meets it: point-in-time recovery: restore\\.pointInTime`));
        writeReport(report, path.join(dir, "corruption-dump.json"));
    });

    it("region: write, lose the primary, detect, promote the streaming replica, switch, validate; on the moto and keys it is given (the moto emptied first, left running)", async function () {
        // What an earlier user of the shared moto left on it: gone when the world starts, as on a fresh server.
        createBucket(moto, "left-by-an-earlier-file");
        let seen: { sameMoto: boolean; buckets: string[]; kids: string[]; backedUp: string[] } | undefined;
        const report = await runDrill("region", {
            rows: 200,
            writeSeconds: WRITE_SECONDS,
            ...shared(),
            afterRecovery: async (world) => {
                regionWorld = { dirs: [world.workDir, world.primary.baseDir, world.primary.dataDir, world.replica!.baseDir, world.replica!.dataDir], removal: () => world.removal };
                const kids = async (jwks: string) => (JSON.parse(jwks) as { keys: { kid: string }[] }).keys.map((k) => k.kid);
                seen = {
                    sameMoto: world.moto === moto,
                    buckets: (awsCall(moto, "s3", "list_buckets").Buckets ?? []).map((b: { Name: string }) => b.Name),
                    kids: await kids(await (await fetch(`${world.server.url}/jwks`)).text()),
                    backedUp: await kids(Buffer.from(awsCall(moto, "s3", "get_object", { Bucket: BUCKET, Key: "secrets/jwks.json" }).Body.base64, "base64").toString("utf8")),
                };
            },
        });
        assert.deepEqual(seen, { sameMoto: true, buckets: [BUCKET], kids: ["drill-test", "drill-test-previous"], backedUp: ["drill-test", "drill-test-previous"] });
        assert.ok(moto.running, "the given moto is left running");
        awsCall(moto, "s3", "head_bucket", { Bucket: BUCKET });
        assertCommon(report, ["write", "fail", "detect", "promote", "switch", "validate"]);
        assert.match(report.steps.find((s) => s.name === "detect")!.detail, /DOWN/);
        // The traffic pauses trafficPauseMs after each answer: at most one write per pause, and one more, in the write step.
        const written = Number(/^(\d+) tokens acknowledged/.exec(report.steps.find((s) => s.name === "write")!.detail)![1]);
        assert.ok(written > 0 && written <= (WRITE_SECONDS * 1000) / TRAFFIC_PAUSE_MS + 1, `${written} writes in ${WRITE_SECONDS} s at a ${TRAFFIC_PAUSE_MS} ms pause`);
        assert.equal(report.rto.targetSeconds, 3600);
        assert.ok(report.rpo.windowSeconds <= 3600 && report.rpo.met);
        writeReport(report, path.join(dir, "region.json"));
    });

    it("compromise: the production credentials cannot delete a locked version (moto refuses, also with the bypass header), destroy what moto lets them, cut replication; the vault copy survives whole and the service is restored from it with the vault's key material", async function () {
        const report = await runDrill("compromise", { rows: 200, writeSeconds: WRITE_SECONDS, ...shared() });
        assertCommon(report, ["set up the accounts", "write", "back up", "replicate", "keep writing", "attack", "detect", "assess", "restore", "switch", "validate"]);
        const c = report.compromise!;
        const tried = (action: string, bucket: string) => c.attempts.find((a) => a.action === action && a.target === bucket)!;
        // The report lists the attempts on the objects bucket by bucket, each bucket's in the attack's order (the two
        // buckets share one wait for the shortened dates to pass).
        const onObjects = ["delete every object version", "delete every object version with x-amz-bypass-governance-retention", "delete every key without a version id (a delete marker)",
            "shorten each version's retention (put-object-retention, retain-until now + 1 s)", "lower the bucket's default retention to 1 day GOVERNANCE (put-object-lock-configuration)",
            "delete every object version again, after the shortening", "suspend versioning (put-bucket-versioning Suspended)"];
        assert.deepEqual(c.attempts.filter((a) => onObjects.includes(a.action)).map((a) => `${a.target}: ${a.action}`), [BUCKET, DR_BUCKET].flatMap((b) => onObjects.map((action) => `${b}: ${action}`)));
        for (const bucket of [BUCKET, DR_BUCKET]) {
            // moto enforces COMPLIANCE on deletion: every version refused, with and without the bypass header.
            for (const action of ["delete every object version", "delete every object version with x-amz-bypass-governance-retention"]) {
                const a = tried(action, bucket);
                assert.ok(a.tried > 0 && a.refused === a.tried, `${action} on ${bucket}: ${JSON.stringify(a)}`);
                assert.match(a.motoAnswer, /^AccessDenied/);
                assert.equal(a.aws.refuses, true);
            }
            assert.equal(tried("cut replication (delete-bucket-replication)", bucket).refused, 0);
            // AWS's answer to the bucket's configuration calls is the committed SCP's (a bucket policy cannot refuse
            // its account's root); suspending versioning S3 itself refuses on an Object Lock bucket, where moto accepts.
            for (const action of ["cut replication (delete-bucket-replication)", "lower the bucket's default retention to 1 day GOVERNANCE (put-object-lock-configuration)"]) {
                assert.equal(tried(action, bucket).aws.refuses, true, action);
                assert.match(tried(action, bucket).aws.basis, /^the organization SCP denies s3:Put\w+ on the backup buckets/);
            }
            const suspend = tried("suspend versioning (put-bucket-versioning Suspended)", bucket);
            assert.equal(suspend.aws.refuses, true);
            assert.equal(c.limits.some((l) => l.startsWith(`moto accepted "suspend versioning (put-bucket-versioning Suspended)" on ${bucket} where AWS refuses it`)), suspend.refused < suspend.tried);
        }
        assert.equal(tried("delete the vault bucket's versions with the production credentials", VAULT_BUCKET).refused, c.copies.find((s) => s.account === "vault" && s.name.startsWith("s3://"))!.before);
        // Every call where moto's answer is not AWS's is named in the limits, and only those.
        const gaps = c.attempts.filter((a) => (a.refused === a.tried) !== a.aws.refuses);
        assert.equal(c.limits.filter((l) => l.startsWith("moto ")).length, gaps.length);
        // What survived and what was destroyed follow from the measured copies.
        const vault = c.copies.find((s) => s.name === `s3://${VAULT_BUCKET}`)!;
        assert.ok(vault.before >= 3 && vault.after === vault.before && vault.shortened === 0, JSON.stringify(vault));
        assert.match(vault.detail, /1 dump\(s\) kept; retain-until 20\d\d-/);
        assert.equal(c.vaultIntact, true);
        // A production copy destroyed only because moto accepted the shortening says so.
        for (const bucket of [BUCKET, DR_BUCKET]) {
            const copy = c.copies.find((s) => s.name === `s3://${bucket}`)!;
            const shortened = tried("shorten each version's retention (put-object-retention, retain-until now + 1 s)", bucket);
            assert.equal(/reached only because moto accepted the shortening/.test(copy.detail), copy.after < copy.before && shortened.refused < shortened.tried, JSON.stringify(copy));
        }
        assert.deepEqual(c.copies.find((s) => s.name === "secret oauth2/backup-passphrase")!.after, 0, "moto let the production administrator delete the passphrase (no resource policy evaluation)");
        assert.equal(c.copies.find((s) => s.name === "secret oauth2-dr/backup-private-keys")!.after, 1);
        // Writers cannot read: everything production holds (the writers' public key, the passphrase) fails to decrypt the dump.
        const read = c.attempts.find((a) => a.action.startsWith("decrypt the newest dump"))!;
        assert.ok(read.tried === 1 && read.refused === 1, JSON.stringify(read));
        assert.match(read.motoAnswer, /^GpgRefused: .*(No secret key|decryption failed)/);
        assert.deepEqual(c.destroyed.map((d) => d.slice(0, d.indexOf(": "))), c.copies.filter((s) => s.after < s.before || s.shortened > 0).map((s) => s.name));
        assert.ok(c.survived.some((l) => l.startsWith(`s3://${VAULT_BUCKET}: ${vault.before} of ${vault.before}`)));
        assert.match(c.replicationAfterAttack, /^cut: a backup written after the attack did not reach the vault.*; moto accepted the cut, which AWS refuses with the organization SCP applied$/);
        assert.match(report.steps.find((s) => s.name === "restore")!.detail, new RegExp(`s3://${VAULT_BUCKET} \\(vault account\\) into oauth2db_restored, decrypted with the private key [0-9A-F]{40} read from the vault account's Secrets Manager`));
        assert.match(report.validation[4], /recorded in oauth2db_restored/);
        // The dump path: the writes between the dump and the attack are lost, within the 24 h of daily dumps.
        assert.equal(report.rpo.target, "24 h");
        assert.ok(report.rpo.lostRows > 0 && report.rpo.windowSeconds >= WRITE_SECONDS, JSON.stringify(report.rpo));
        assert.equal(report.rpo.met, true);
        const text = formatReport(report);
        assert.match(text, /^vault copy intact: yes$/m);
        assert.match(text, /^ {4}delete every object version on oauth2-backups-drill: (\d+) of \1 refused by moto \(AccessDenied/m);
        writeReport(report, path.join(dir, "compromise.json"));
    });

    it("a drill's directories (the world's, both clusters' of region) are removed after it, by rm processes of their own that it did not wait for", async function () {
        assert.ok(regionWorld, "the region drill ran");
        assert.ok(regionWorld.removal(), "stop() started the removal of the world's directories");
        await regionWorld.removal();
        await untilChanged(os.tmpdir(), "the drill's directories to be removed", 60_000, () => (regionWorld!.dirs.some((d) => fs.existsSync(d)) ? undefined : true));
        assert.equal(regionWorld.dirs.length, 5);
    });

    it("the reports round-trip as JSON and make the HTML report's last drill section, with the same verdicts", function () {
        // A report of the format before the honest RPO (scenario "corruption", "met" with writes lost) is not shown.
        fs.writeFileSync(path.join(dir, "corruption.json"), JSON.stringify({ scenario: "corruption", steps: [], rpo: { lostRows: 133, acknowledged: 262, met: true } }));
        const reports = readReports(dir);
        assert.deepEqual(reports.map((r) => r.scenario).sort(), ["compromise", "corruption-dump", "corruption-pitr", "region"]);
        const html = renderHtml([], [], { drills: reports });
        assert.match(html, /<section id="drill"><h2>Last drill<\/h2>/);
        for (const r of reports) {
            const article = html.slice(html.indexOf(`data-scenario="${r.scenario}"`)).split("</article>")[0];
            assert.ok(article.includes(`RTO <b>${r.rto.seconds.toFixed(2)} s</b>`), r.scenario);
            const rpo = new RegExp(`RPO <b>${r.rpo.lostRows} of ${r.rpo.acknowledged}</b> writes acknowledged before the failure lost, .*\\(target ${r.rpo.target}\\) <span class="badge badge-${r.rpo.met ? "met" : "missing"}">${r.rpo.met ? "met" : "not met"}</span>`);
            assert.match(article, rpo, r.scenario);
        }
        const compromise = reports.find((r) => r.scenario === "compromise")!.compromise!;
        const attack = html.slice(html.indexOf('data-scenario="compromise"')).split("</article>")[0];
        assert.match(attack, /Vault copy intact: <span class="badge badge-met">yes<\/span>/);
        assert.equal((attack.match(/<tr( class="moto-gap")?><td>(delete|shorten|lower|cut|schedule|decrypt|suspend)/g) ?? []).length, compromise.attempts.length);
        assert.equal((attack.match(/class="moto-gap"/g) ?? []).length, compromise.attempts.filter((a) => (a.refused === a.tried) !== a.aws.refuses).length);
        assert.ok(attack.includes(`<b>Destroyed:</b> ${compromise.destroyed.join("; ")}`), attack);
        assert.doesNotMatch(html.slice(html.indexOf('data-scenario="region"')).split("</article>")[0], /class="compromise"/);
        const dump = html.slice(html.indexOf('data-scenario="corruption-dump"')).split("</article>")[0];
        assert.match(dump, /short of the target<\/b> by \d+ acknowledged writes over [\d.]+ s; what meets it: point-in-time recovery: restore\.pointInTime/);
        const pitr = html.slice(html.indexOf('data-scenario="corruption-pitr"')).split("</article>")[0];
        assert.doesNotMatch(pitr, /short of the target/);
        assert.match(pitr, /<span class="cost">\d+ of \d+<\/span> writes acknowledged after the failure not in the recovered database: the recovery point's cost/);
        // Named there too: the span, the client, where the rows are (the JSON's rpo.afterFailure.missing; the dump's rpo.lost).
        assert.match(pitr, /the recovery point's cost, not a loss against the target; acknowledged from \S+ to \S+ \(client oauth2-dr-drill-traffic\); the tokens, as oauth2_authorization rows by md5\(access_token_value\), are in the JSON report&#39;s rpo\.afterFailure\.missing/);
        assert.match(dump, /the \d+ writes lost: acknowledged from \S+ to \S+ \(client oauth2-dr-drill-traffic\); .*rpo\.lost/);
        assert.equal(drillSection([]), "");
        assert.doesNotMatch(renderHtml([], []), /Last drill/);
        assert.deepEqual(readReports(path.join(dir, "none")), []);
    });

    it("an RPO of point in time is met only with no acknowledged write lost; 1 h only with a window within it", function () {
        // The report that said "133 of 262 acknowledged writes lost (target point in time): met".
        assert.equal(rpoMet(OBJECTIVES["corruption-dump"], 133, 12.6), false);
        assert.equal(rpoMet(OBJECTIVES["corruption-pitr"], 0, 0), true);
        assert.equal(rpoMet(OBJECTIVES["corruption-pitr"], 1, 0), false);
        assert.equal(rpoMet(OBJECTIVES.region, 5, 0.15), true);
        assert.equal(rpoMet(OBJECTIVES.region, 5, 3601), false);
    });

    it("bad arguments: one line naming the argument, exit 2, before anything starts", function () {
        assert.throws(() => parseDrillArgs([]), /--scenario is required/);
        assert.throws(() => parseDrillArgs(["--scenario", "flood"]), /--scenario must be corruption-pitr or corruption-dump or region or compromise, not "flood"/);
        assert.throws(() => parseDrillArgs(["--scenario", "corruption"]), /--scenario corruption is two scenarios now: corruption-pitr .* or corruption-dump/);
        assert.throws(() => parseDrillArgs(["--scenario", "region", "--rows", "-5"]), /--rows must be a whole number in \[1, 10000000\], not "-5"/);
        assert.throws(() => parseDrillArgs(["--scenario", "region", "--verbose"]), /unknown argument "--verbose"/);
        assert.deepEqual(parseDrillArgs(["--scenario", "region", "--rows", "100", "--write-seconds", "0.5"]), { scenario: "region", rows: 100, writeSeconds: 0.5 });
        // The modules the CLI loaded, written at its exit: a usage error loads none of the drill's servers.
        const loaded = path.join(dir, "loaded-modules.json");
        const probe = path.join(dir, "loaded-modules.cjs");
        fs.writeFileSync(probe, `process.on("exit", () => require("fs").writeFileSync(${JSON.stringify(loaded)}, JSON.stringify(Object.keys(require.cache))));\n`);
        const cli = spawnSync(process.execPath, ["--require", TS_REGISTER, "--require", probe, path.join(REPO, "tools", "drill", "drill.ts"), "--scenario", "flood"], { encoding: "utf8" });
        assert.equal(cli.status, 2, cli.stderr);
        assert.match(cli.stderr, /--scenario must be corruption-pitr or corruption-dump or region/);
        const modules = JSON.parse(fs.readFileSync(loaded, "utf8")) as string[];
        assert.ok(modules.some((m) => m.endsWith(path.join("tools", "drill", "drill.ts"))), modules.join("\n"));
        assert.deepEqual(modules.filter((m) => /[\\/](scenarios|world|compromise|oidc-server)\.ts$|[\\/]node_modules[\\/](oidc-provider|pg|@aws-sdk|@pulumi)[\\/]/.test(m)), []);
    });

    it("the OpenID provider runs on this Node without a warning (no \"Unsupported runtime\")", function () {
        // oidc-provider warns once, when it is loaded: in a fresh process, which starts a server and reads discovery.
        const probe = `const { OidcServer, rsaSigningKey } = require(${JSON.stringify(path.join(REPO, "tools", "drill", "oidc-server.ts"))});
            OidcServer.start({ keys: [rsaSigningKey("probe")], databaseUrl: "postgres://postgres@127.0.0.1:1/none" }).then(async (server) => {
                const discovery = await (await fetch(server.url + "/.well-known/openid-configuration")).json();
                console.log("issuer " + (discovery.issuer === server.issuer));
                await server.stop();
            });`;
        const child = spawnSync(process.execPath, ["--require", TS_REGISTER, "-e", probe], { encoding: "utf8", timeout: 60_000 });
        assert.equal(child.status, 0, child.stderr);
        assert.equal(child.stdout, "issuer true\n");
        assert.doesNotMatch(child.stderr, /Unsupported runtime|oidc-provider (WARNING|NOTICE)/);
        assert.equal(child.stderr, "");
    });
});
