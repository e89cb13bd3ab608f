/**
 * The compromise drill (`npm run drill -- --scenario compromise`): an attacker holding the production
 * account's credentials, ransomware-style, against the backups as the stacks declare them.
 *
 *  - Two moto servers are two AWS accounts: the world's (production: the backup bucket, the DR bucket, the
 *    passphrase secret of the older, symmetric dumps and its KMS key) and a second one (the vault account: its
 *    Object Lock bucket and the restore private key in its Secrets Manager). Both buckets of production and the vault's are versioned with Object Lock
 *    COMPLIANCE, default retention the retention table's database row (lib/retention.ts), set as the
 *    stacks declare it.
 *  - The real scripts back up (scripts/db-backup.sh in public-key mode: the job holds only the vault key's
 *    public half, BACKUP_GPG_PUBLIC_KEYS_FILE, generated for the drill, TEST ONLY).
 *  - moto does not replicate: `replicate()` is a STAND-IN FOR S3 REPLICATION, labelled as such everywhere.
 *    It runs with a "replication role" credential (not the attacker's), only while the source bucket's
 *    replication configuration has an enabled rule to the destination (so cutting it is measured), and
 *    copies each version with its Object Lock mode and retain-until date, as S3 replication does.
 *  - The attacker (its own credential on the production endpoint) deletes every version of the prod and DR
 *    buckets, with and without the bypass-governance header, shortens the retention (object and bucket
 *    default), deletes them again, deletes the passphrase secret without recovery, schedules its KMS key's
 *    deletion, cuts replication, tries the vault bucket, and drops the database.
 *  - Every outcome is measured (moto's answer, the versions and retain-until dates before and after), and
 *    set beside what AWS does: the S3 Object Lock rules, and the declared deletion guards evaluated as data
 *    (moto does not evaluate resource policies).
 *  - The attacker also tries to decrypt the newest dump with everything production holds (the writers' public
 *    keys, the passphrase secret): gpg refuses.
 *  - The service is restored from the vault copy with the vault's private key, which restore.sh reads from the
 *    vault account's Secrets Manager (RESTORE_PRIVATE_KEYS_SECRET_ID on the vault's endpoint), switched and
 *    validated.
 */
import {
    CreateBucketCommand,
    DeleteBucketReplicationCommand,
    DeleteObjectCommand,
    GetBucketReplicationCommand,
    GetObjectCommand,
    HeadObjectCommand,
    ListObjectVersionsCommand,
    PutBucketReplicationCommand,
    PutBucketVersioningCommand,
    PutObjectCommand,
    PutObjectLockConfigurationCommand,
    PutObjectRetentionCommand,
    S3Client,
    type ObjectLockMode,
} from "@aws-sdk/client-s3";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { PRIVATE_KEYS_SECRET_NAME } from "../../components/vault-account";
import { ALARM_SUBSCRIPTION_CHANGES } from "../../lib/organization-scp";
import { retentionRow } from "../../lib/retention";
import { decryptWith, generateTestKey, keyFile, type TestKey } from "../sandbox/gpg-keys";
import { awsCall, createSecret, runScript, type ScriptResult } from "../sandbox/scripts";
import { MotoServer } from "../sandbox/servers";
import { evaluate, statementsOf, type PolicyStatement } from "./policy-eval";
import { matchesPattern } from "./event-pattern";
import type { AttackAttempt, CompromiseFindings, CopyState, DrillReport } from "./report";
import { detection, finish, lines, measureRpo, mustSucceed, type DrillOptions, type Stopwatch } from "./scenarios";
import { BUCKET, dbUrl, type DrillWorld, SMOKE_SECRET_ID } from "./world";

export const DR_BUCKET = `${BUCKET}-dr`;
export const VAULT_BUCKET = "oauth2-backups-vault-drill";
export const PASSPHRASE_SECRET = "oauth2/backup-passphrase";
/** The vault account's secret holding the restore private key (armored; its public half is all the writers hold), as the vault stack declares it. */
export const VAULT_PRIVATE_KEYS_SECRET = PRIVATE_KEYS_SECRET_NAME;
/** The default retention of every backup bucket: the table's database row (the shortest day-based row). */
export const LOCK_DAYS = retentionRow("database").minimum;
/** The accounts and roles of Pulumi.prod.yaml / Pulumi.vault.yaml (the vault stack), as names in the report. */
const PROD_ACCOUNT = "123456789012";
const VAULT_ACCOUNT = "210987654321";
export const BREAK_GLASS_ROLE = `arn:aws:iam::${PROD_ACCOUNT}:role/oauth2-dr-break-glass`;
export const ATTACKER = `arn:aws:iam::${PROD_ACCOUNT}:role/AWSReservedSSO_AdministratorAccess_compromised`;
const REPLICATION_ROLE = `arn:aws:iam::${PROD_ACCOUNT}:role/backup-replication-s3-replication`;
const REPLICA_OF = "drill-replica-of";

/** An S3 client of one principal on one account's endpoint (moto takes any key; the key id names the principal in its log). */
function s3As(moto: MotoServer, principal: string): S3Client {
    // The SDK's notice about its 2027 releases and Node 22 (the recovery-points CLI turns it off the same way):
    // the SDK reads the variable when a client is made, so it is set for that alone and the caller's environment
    // (a test worker's, which runs other files after this one) is left as it was.
    const name = "AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED";
    const was = process.env[name];
    process.env[name] = was ?? "true";
    try {
        return new S3Client({
            endpoint: moto.endpoint,
            region: "us-east-1",
            forcePathStyle: true,
            maxAttempts: 1,
            credentials: { accessKeyId: principal, secretAccessKey: "drill" },
        });
    } finally {
        if (was === undefined) {
            delete process.env[name];
        }
    }
}

async function lockedBucket(s3: S3Client, bucket: string): Promise<void> {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: "Enabled" } }));
    // What BackupBucket declares: aws.s3.BucketObjectLockConfiguration on the versioned bucket.
    await s3.send(new PutObjectLockConfigurationCommand({
        Bucket: bucket,
        ObjectLockConfiguration: { ObjectLockEnabled: "Enabled", Rule: { DefaultRetention: { Mode: "COMPLIANCE", Days: LOCK_DAYS } } },
    }));
}

interface Version {
    key: string;
    versionId: string;
    mode?: string;
    retainUntil?: number;
    replicaOf?: string;
}

/** Every object version of `bucket` (not the delete markers) with its lock, read with HeadObject. */
async function versionsOf(s3: S3Client, bucket: string): Promise<Version[]> {
    const out: Version[] = [];
    let keyMarker: string | undefined;
    let versionMarker: string | undefined;
    do {
        const page = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, KeyMarker: keyMarker, VersionIdMarker: versionMarker }));
        for (const v of page.Versions ?? []) {
            const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: v.Key!, VersionId: v.VersionId! }));
            out.push({ key: v.Key!, versionId: v.VersionId!, mode: head.ObjectLockMode, retainUntil: head.ObjectLockRetainUntilDate?.getTime(), replicaOf: head.Metadata?.[REPLICA_OF] });
        }
        [keyMarker, versionMarker] = page.IsTruncated ? [page.NextKeyMarker, page.NextVersionIdMarker] : [undefined, undefined];
    } while (keyMarker);
    return out.sort((a, b) => a.key.localeCompare(b.key));
}

async function deleteMarkers(s3: S3Client, bucket: string): Promise<number> {
    const page = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket }));
    return (page.DeleteMarkers ?? []).length;
}

/**
 * STAND-IN FOR S3 REPLICATION (moto does not replicate). With the replication role's credential: only when
 * the source bucket's replication configuration has an enabled rule to `dstBucket` (else nothing is copied,
 * and the reason is returned); copies each source version not yet copied, with its metadata, its Object Lock
 * mode and its retain-until date (what S3 replication carries), recording the source version in metadata.
 */
export async function replicate(src: S3Client, srcBucket: string, dst: S3Client, dstBucket: string): Promise<{ copied: number; reason: string }> {
    let rules: { Status?: string; Destination?: { Bucket?: string } }[] = [];
    try {
        rules = (await src.send(new GetBucketReplicationCommand({ Bucket: srcBucket }))).ReplicationConfiguration?.Rules ?? [];
    } catch (err) {
        if ((err as Error).name !== "ReplicationConfigurationNotFoundError") {
            throw err;
        }
    }
    if (!rules.some((r) => r.Status === "Enabled" && r.Destination?.Bucket === `arn:aws:s3:::${dstBucket}`)) {
        return { copied: 0, reason: `s3://${srcBucket} has no enabled replication rule to ${dstBucket}` };
    }
    const existing = await versionsOf(dst, dstBucket);
    const done = new Set(existing.map((v) => v.replicaOf));
    // S3 replication keeps each version's id; moto cannot be told one, so the copy gets a new id. A manifest
    // pins its dump's version (`s3_version_id`), so the stand-in rewrites that field of the manifests it copies
    // to the copy's version: what the manifest reads in a real replica. Dumps are copied before manifests.
    const replicaVersion = new Map(existing.filter((v) => v.replicaOf !== undefined).map((v) => [v.replicaOf!, v.versionId]));
    const isManifest = (key: string): boolean => key.includes("/manifests/") && key.endsWith(".json");
    const pending = (await versionsOf(src, srcBucket)).filter((v) => !done.has(v.versionId));
    pending.sort((a, b) => Number(isManifest(a.key)) - Number(isManifest(b.key)));
    let copied = 0;
    for (const v of pending) {
        const object = await src.send(new GetObjectCommand({ Bucket: srcBucket, Key: v.key, VersionId: v.versionId }));
        let body: Uint8Array | string = await object.Body!.transformToByteArray();
        if (isManifest(v.key)) {
            const manifest = JSON.parse(Buffer.from(body).toString("utf8")) as { s3_version_id?: string | null };
            if (typeof manifest.s3_version_id === "string" && replicaVersion.has(manifest.s3_version_id)) {
                manifest.s3_version_id = replicaVersion.get(manifest.s3_version_id)!;
                body = JSON.stringify(manifest);
            }
        }
        const put = await dst.send(new PutObjectCommand({
            Bucket: dstBucket,
            Key: v.key,
            Body: body,
            ContentType: object.ContentType,
            Metadata: { ...object.Metadata, [REPLICA_OF]: v.versionId },
            ...(v.mode && v.retainUntil ? { ObjectLockMode: v.mode as ObjectLockMode, ObjectLockRetainUntilDate: new Date(v.retainUntil) } : {}),
        }));
        if (put.VersionId) {
            replicaVersion.set(v.versionId, put.VersionId);
        }
        copied++;
    }
    return { copied, reason: `copied with the lock and retain-until of each source version (stand-in for S3 replication, role ${REPLICATION_ROLE})` };
}

/** Runs `call` on each target; counts moto's refusals and keeps its first answer. */
async function attempt(action: string, target: string, aws: AttackAttempt["aws"], targets: readonly unknown[], call: (t: never) => Promise<unknown>): Promise<AttackAttempt> {
    let refused = 0;
    let answer: string | undefined;
    for (const t of targets) {
        try {
            await call(t as never);
        } catch (err) {
            refused++;
            answer ??= `${(err as Error).name}: ${(err as Error).message.split("\n")[0]}`;
        }
    }
    return { action, target, tried: targets.length, refused, motoAnswer: refused === 0 ? "accepted" : refused === targets.length ? answer! : `${answer} (${targets.length - refused} accepted)`, aws };
}

/** gpg --decrypt of `body` with a passphrase only (the production passphrase secret); gpg's exit code. */
function decryptWithPassphrase(dir: string, passphrase: string, body: Buffer): number | null {
    const home = fs.mkdtempSync(path.join(dir, "gnupg-"));
    const env = { ...process.env, GNUPGHOME: home };
    try {
        const file = path.join(home, "p");
        fs.writeFileSync(file, passphrase, { mode: 0o600 });
        return spawnSync("gpg", ["--batch", "--quiet", "--pinentry-mode", "loopback", "--passphrase-file", file, "--decrypt"], { env, input: body, stdio: ["pipe", "ignore", "ignore"] }).status;
    } finally {
        spawnSync("gpgconf", ["--kill", "gpg-agent"], { env });
        fs.rmSync(home, { recursive: true, force: true });
    }
}

type GuardFactory = (breakGlassRoleArn: string, kmsKeyArn?: string) => unknown;

/** An EventBridge rule as components/retention-alarm.ts retentionRules builds it: its name and event pattern. */
export interface AlarmRule {
    name: string;
    pattern: Record<string, unknown>;
}

/**
 * The retention alarm's rules this tree declares for prod (components/retention-alarm.ts retentionRules, the
 * builder stacks/aws.ts declares them with), at the database row's days; undefined when the tree has none.
 */
function declaredAlarmRules(): AlarmRule[] | undefined {
    const build = declaredGuard("../../components/retention-alarm", "retentionRules") as unknown as ((stack: string, days: number) => AlarmRule[]) | undefined;
    return build?.("prod", LOCK_DAYS);
}

/** ModifyDBInstance with BackupRetentionPeriod `days` on oauth2-postgres, as CloudTrail delivers it to EventBridge. */
export function retentionCallEvent(days: number, caller = ATTACKER): Record<string, unknown> {
    return apiCallEvent("rds:ModifyDBInstance", { dBInstanceIdentifier: "oauth2-postgres", backupRetentionPeriod: days, applyImmediately: true }, caller);
}

/** The call `action` (`service:Name`) with `requestParameters`, by `caller`, as CloudTrail delivers it to EventBridge. */
export function apiCallEvent(action: string, requestParameters: Record<string, unknown>, caller = ATTACKER): Record<string, unknown> {
    const [service, eventName] = action.split(":");
    return {
        version: "0",
        "detail-type": "AWS API Call via CloudTrail",
        source: `aws.${service}`,
        account: PROD_ACCOUNT,
        region: "us-east-1",
        detail: {
            eventSource: `${service}.amazonaws.com`,
            eventName,
            userIdentity: { type: "AssumedRole", arn: caller },
            requestParameters,
        },
    };
}

/**
 * What the alarm rules say of the break-glass role's call `action` on the passphrase secret or its key (the deletion
 * guards let that role alone through): the rules that match it, so a second person hears of it, or that none does.
 */
function breakGlassWatched(action: string, alarmRules: AlarmRule[] | null | undefined): string {
    const target = action.startsWith("kms:") ? { keyId: SECRET_KEY_ARN } : { secretId: "oauth2/backup-passphrase" };
    const rules = (alarmRules ?? []).filter((rule) => matchesPattern(rule.pattern, apiCallEvent(action, target, BREAK_GLASS_ROLE))).map((rule) => rule.name);
    return rules.length > 0 ? `, alarmed (EventBridge rule ${rules.join(", ")})` : ", not alarmed";
}

/** The passphrase secret's own key (the guard names it), and a key the attacker created and controls. */
export const SECRET_KEY_ARN = `arn:aws:kms:us-east-1:${PROD_ACCOUNT}:key/0b5e0d1f-oauth2-secrets`;
export const ATTACKER_KEY_ARN = `arn:aws:kms:us-east-1:${PROD_ACCOUNT}:key/attacker-owned`;

/**
 * The declared guard builder `name` of `module` (components/secrets.ts: secretDeletionGuard, components/kms.ts:
 * keyDeletionGuard), or undefined when this tree does not declare it.
 */
function declaredGuard(module: string, name: string): GuardFactory | undefined {
    try {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const loaded = require(module) as Record<string, unknown>;
        return typeof loaded[name] === "function" ? (loaded[name] as GuardFactory) : undefined;
    } catch {
        return undefined;
    }
}

/**
 * The organization SCP as committed (docs/organization-scp.json, generated by `npm run --silent scp`), for the
 * attacks a key policy cannot refuse its own administrators (kms:PutKeyPolicy); undefined without it.
 */
function committedScp(): PolicyStatement[] | undefined {
    try {
        return statementsOf(fs.readFileSync(path.join(__dirname, "..", "..", "docs", "organization-scp.json"), "utf8"));
    } catch {
        return undefined;
    }
}

/**
 * The declared guards of the passphrase secret and of its KMS key, evaluated for the attacker and the break-glass
 * role: the deletion itself first (the drill's attempts read these two), then each other way an administrator
 * would take to the same end (remove or replace the guard first, stop the replica, disable the key, rewrite the
 * key policy). A key policy cannot deny kms:PutKeyPolicy to its own administrators without locking the key: the
 * organization SCP does, and the line says which of the two decides.
 */
export function declaredGuards(
    // null: no guard (undefined would take the default: the tree's own).
    secretGuard: GuardFactory | null | undefined = declaredGuard("../../components/secrets", "secretDeletionGuard"),
    keyGuard: GuardFactory | null | undefined = declaredGuard("../../components/kms", "keyDeletionGuard"),
    scp: PolicyStatement[] | undefined = committedScp(),
    bucketFloors: FloorFactory | null | undefined = declaredGuard("../../components/backup-bucket", "lockFloorStatements") as FloorFactory | undefined,
    // The EventBridge rules that alarm on what nothing refuses (null: none).
    alarmRules: AlarmRule[] | null | undefined = declaredAlarmRules(),
    // The alarm on AWS Backup jobs that never start (components/alarms.ts backup-jobs-missing): false, none.
    backupJobsAlarm: boolean = declaredBackupJobsAlarm(),
): CompromiseFindings["declaredGuards"] {
    const secret = "secret oauth2/backup-passphrase (resource policy, components/secrets.ts secretDeletionGuard)";
    const key = "its KMS key (key policy, components/kms.ts keyDeletionGuard)";
    // [resource, guard, action, short name, the SCP may decide, the request's own condition keys]
    const guards: [string, GuardFactory | null | undefined, string, string, boolean, Record<string, string | string[]>][] = [
        [secret, secretGuard, "secretsmanager:DeleteSecret", "DeleteSecret", false, {}],
        [key, keyGuard, "kms:ScheduleKeyDeletion", "ScheduleKeyDeletion", false, {}],
        [`${secret}: remove the guard first`, secretGuard, "secretsmanager:DeleteResourcePolicy", "DeleteResourcePolicy", false, {}],
        [`${secret}: replace the guard first`, secretGuard, "secretsmanager:PutResourcePolicy", "PutResourcePolicy", false, {}],
        [`${secret}: drop its replica`, secretGuard, "secretsmanager:RemoveRegionsFromReplication", "RemoveRegionsFromReplication", false, {}],
        // Detach the DR replica (promote it to a standalone secret): called on the replica, in the DR region, whose
        // resource policy is the primary's, replicated with it (components/secrets.ts SECRET_GUARDED_ACTIONS).
        [`${secret}: detach its DR replica (StopReplicationToReplica, on the replica, which carries this policy)`, secretGuard, "secretsmanager:StopReplicationToReplica", "StopReplicationToReplica", false, {}],
        // Add a replica under a key the attacker controls: ReplicateSecretToRegions has no KMS key condition key, so
        // the guard denies it whole; the break-glass role's "allow" here is a residual route nothing refuses.
        [`${secret}: add a replica under the attacker's own KMS key (ReplicateSecretToRegions has no KMS key condition key)`, secretGuard, "secretsmanager:ReplicateSecretToRegions", "ReplicateSecretToRegions", false, { "secretsmanager:AddReplicaRegions": ["eu-central-1"] }],
        // Re-key it to a key the attacker controls, then delete that key: the secret stays, unreadable.
        [`${secret}: re-key it to the attacker's own KMS key, then delete that key`, secretGuard, "secretsmanager:UpdateSecret", "UpdateSecret(KmsKeyId)", false, { "secretsmanager:KmsKeyId": ATTACKER_KEY_ARN }],
        [`${key}: disable it`, keyGuard, "kms:DisableKey", "DisableKey", true, {}],
        [`${key}: rewrite its policy, then schedule the deletion`, keyGuard, "kms:PutKeyPolicy", "PutKeyPolicy", true, {}],
    ];
    const scpDecides = scpDecider(scp);
    // The administrator's identity policy allows everything; the guard's explicit Deny is what must win.
    const admin: PolicyStatement = { Effect: "Allow", Action: "*", Resource: "*" };
    const byGuards = guards.map(([resource, factory, action, short, withScp, request]) => {
        if (!factory) {
            return { resource, attacker: "no deletion guard declared in this tree: AWS would let the production administrator delete it", breakGlass: "-", declared: false };
        }
        const statements: PolicyStatement[] = statementsOf(factory(BREAK_GLASS_ROLE, SECRET_KEY_ARN));
        const decide = (arn: string) => {
            const byPolicy = evaluate([...statements, admin], arn, action, request);
            if (!withScp || byPolicy === "deny" || arn === BREAK_GLASS_ROLE) {
                return byPolicy;
            }
            if (scpDecides(arn, action)) {
                return `${byPolicy} by the key policy, deny by the organization SCP (docs/organization-scp.json, once applied)`;
            }
            const why = scpOpenReason(scp, action);
            return why === "the organization SCP does not deny it" || !scp ? `${byPolicy} (neither the key policy nor ${scp ? "the organization SCP" : "an organization SCP (docs/organization-scp.json missing)"} denies it)` : `${byPolicy} (the key policy does not deny it; ${why})`;
        };
        const breakGlass = decide(BREAK_GLASS_ROLE);
        return { resource, attacker: `${short} ${decide(ATTACKER)}`, breakGlass: `${short} ${breakGlass}${breakGlass.startsWith("allow") ? breakGlassWatched(action, alarmRules) : ""}`, declared: true };
    });
    // RDS's automated backups have no resource policy: only the organization SCP can refuse these.
    const rds = "RDS automated backups of oauth2-postgres (no resource policy: the organization SCP, lib/organization-scp.ts)";
    const rdsRoutes: [string, string, string, Record<string, string | string[]>][] = [
        [`${rds}: delete them`, "rds:DeleteDBInstanceAutomatedBackup", "DeleteDBInstanceAutomatedBackup", {}],
        [`${rds}: stop their replication to the DR region`, "rds:StopDBInstanceAutomatedBackupsReplication", "StopDBInstanceAutomatedBackupsReplication", {}],
        [`${rds}: remove the instance's project tag first`, "rds:RemoveTagsFromResource", "RemoveTagsFromResource(project)", { "aws:TagKeys": ["project"] }],
    ];
    const byScp = rdsRoutes.map(([resource, action, short, request]) => {
        const decide = (arn: string) => {
            if (arn === BREAK_GLASS_ROLE || !scpDecides(arn, action, request)) {
                return `allow${arn === BREAK_GLASS_ROLE ? "" : ` (${scpOpenReason(scp, action, request)})`}`;
            }
            return "deny by the organization SCP (docs/organization-scp.json, once applied)";
        };
        return { resource, attacker: `${short} ${decide(ATTACKER)}`, breakGlass: `${short} ${decide(BREAK_GLASS_ROLE)}`, declared: scp !== undefined };
    });
    // What no IAM or SCP statement can refuse without refusing every change to the instance: not refused, but
    // alarmed when a declared rule matches the call (evaluated on the event CloudTrail delivers for it).
    const unrefusable = "no condition key of ModifyDBInstance reads the retention: the locked AWS Backup vaults hold the database row";
    const alarmedBy = (caller: string) => (alarmRules ?? []).filter((rule) => matchesPattern(rule.pattern, retentionCallEvent(0, caller))).map((rule) => rule.name);
    // An alarm is one only while its chain stands: each call that would silence it first (the rule, the trail
    // EventBridge needs, the topic), evaluated against the SCP for the caller; the first it does not deny opens it.
    const silencer = (caller: string, rules: string[]) => alarmChainRoutes(rules[0]).find(([action, resource]) => !scpDecides(caller, action, {}, resource));
    const alarm = (caller: string) => {
        const rules = alarmedBy(caller);
        if (rules.length === 0) {
            return undefined;
        }
        const open = silencer(caller, rules);
        return open
            ? { open: true, text: `alarmed only while the alarm stands, and ${open[2]} first is not refused (${open[0]} on ${open[1]}: ${caller === BREAK_GLASS_ROLE ? "the SCP exempts the break-glass role" : scpOpenReason(scp, open[0], {}, open[1])}): open` }
            : { open: false, text: `not refused, alarmed: EventBridge rule ${rules.join(", ")} matches it and notifies the alarm topic; silencing it first (${ALARM_SILENCERS.map(([a]) => a.replace(/^\w+:/, "")).join(", ")}) deny by the organization SCP` };
    };
    const attackerAlarm = alarm(ATTACKER);
    const breakGlassAlarm = alarm(BREAK_GLASS_ROLE);
    const residual = {
        resource: `${rds}: ModifyDBInstance with BackupRetentionPeriod 0`,
        attacker: attackerAlarm ? `ModifyDBInstance allow (${unrefusable}); ${attackerAlarm.text}` : `ModifyDBInstance allow (${unrefusable}; no alarm on it declared in this tree)`,
        breakGlass: breakGlassAlarm ? `ModifyDBInstance allow; ${breakGlassAlarm.text}` : "ModifyDBInstance allow",
        declared: attackerAlarm !== undefined && !attackerAlarm.open,
    };
    const leave = {
        resource: "the organization SCP itself (docs/organization-scp.json): leave the organization first, after which no statement of it binds the account",
        attacker: `LeaveOrganization ${scp && evaluate(scp, ATTACKER, "organizations:LeaveOrganization") === "deny" ? "deny by the organization SCP (once applied)" : `allow (${scp ? "the organization SCP does not deny it: every line above that it decides is open" : "no organization SCP (docs/organization-scp.json missing)"})`}`,
        breakGlass: `LeaveOrganization ${scp && evaluate(scp, BREAK_GLASS_ROLE, "organizations:LeaveOrganization") === "deny" ? "deny by the organization SCP (only the security principal may)" : "allow"}`,
        declared: scp !== undefined && evaluate(scp, ATTACKER, "organizations:LeaveOrganization") === "deny",
    };
    // Reading, not deleting: the vault's key reader trusts the restore verification role by ARN.
    const verificationRole = `arn:aws:iam::${PROD_ACCOUNT}:role/oauth2-dr-verification-prod`;
    const retrust = scpDecides(ATTACKER, "iam:UpdateAssumeRolePolicy", {}, verificationRole);
    const keyReader = {
        resource: "the vault's private keys (every dump written in public-key mode; components/vault-account.ts oauth2-dr-verification-keys trusts oauth2-dr-verification-<stack> by aws:PrincipalArn): re-trust the restore verification role first, assume it, then the key reader",
        attacker: `UpdateAssumeRolePolicy ${retrust ? "deny by the organization SCP (docs/organization-scp.json, once applied)" : `allow (${scpOpenReason(scp, "iam:UpdateAssumeRolePolicy", {}, verificationRole)})`}; open all the same through the cluster: a pod run as the restore-verification service account gets that role (IRSA), the stated trade-off of docs/runbook.md "Key custody and the verification job", closed only by running the verification outside the production account (in the vault account)`,
        breakGlass: "UpdateAssumeRolePolicy allow",
        declared: false,
    };
    return [...byGuards, ...lockFloorRoutes(bucketFloors, scp), ...byScp, ...auditLogRoutes(scp), backupPlanRoute(scp, backupJobsAlarm), keyReader, residual, leave];
}

/** Whether this tree declares the alarm on AWS Backup jobs that never start (components/alarms.ts). */
function declaredBackupJobsAlarm(): boolean {
    try {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        return typeof (require("../../components/alarms") as Record<string, unknown>).BACKUP_JOB_FRESHNESS_SECONDS === "number";
    } catch {
        return false;
    }
}

/** Prod's AWS Backup plan (named by its id: oauth2-dr's is generated) and the alarm on its jobs (components/alarms.ts). */
const BACKUP_PLAN_ARN = `arn:aws:backup:us-east-1:${PROD_ACCOUNT}:backup-plan:8f81f553-3a74-4a3f-b93d-b3360dc80c50`;
const BACKUP_JOBS_ALARM_ARN = `arn:aws:cloudwatch:us-east-1:${PROD_ACCOUNT}:alarm:oauth2-dr-prod-backup-jobs-missing`;

/**
 * Future backups stopped: the AWS Backup plan's daily rule changed or removed, or its selection or the plan deleted
 * (the locked recovery points stay). Refused only if the SCP denies it on the plan; otherwise alarmed, a day later,
 * by backup-jobs-missing, and only while that alarm stands: deleting it or disabling its actions first is the way
 * around, and the line says whether the SCP refuses that.
 */
function backupPlanRoute(scp: PolicyStatement[] | undefined, alarmed: boolean): CompromiseFindings["declaredGuards"][number] {
    const decide = scpDecider(scp);
    const calls = ["backup:UpdateBackupPlan", "backup:DeleteBackupSelection", "backup:DeleteBackupPlan"];
    const short = "UpdateBackupPlan / DeleteBackupSelection / DeleteBackupPlan";
    const open = calls.find((action) => !decide(ATTACKER, action, {}, BACKUP_PLAN_ARN));
    const resource = "the AWS Backup plan oauth2-dr (components/aws-backup.ts; its recovery points stay locked): stop future backups by changing its daily rule or deleting its selection or the plan";
    if (!open) {
        return { resource, attacker: `${short} deny by the organization SCP (docs/organization-scp.json, once applied)`, breakGlass: `${short} allow`, declared: true };
    }
    const why = scpOpenReason(scp, open, {}, BACKUP_PLAN_ARN);
    if (!alarmed) {
        return { resource, attacker: `${short} allow (${why}; no alarm on backup jobs that never start declared in this tree)`, breakGlass: `${short} allow`, declared: false };
    }
    // The alarm deleted or its actions disabled, or the topic it notifies left without endpoints.
    const silencers = ["cloudwatch:DeleteAlarms", "cloudwatch:DisableAlarmActions", ...ALARM_SUBSCRIPTION_CHANGES];
    const silencerResource = (action: string) => (ALARM_SUBSCRIPTION_CHANGES.includes(action) ? ALARM_SUBSCRIPTION_ARN : BACKUP_JOBS_ALARM_ARN);
    const silencer = silencers.find((action) => !decide(ATTACKER, action, {}, silencerResource(action)));
    const alarm = "alarmed a day later: CloudWatch alarm oauth2-dr-prod-backup-jobs-missing (no backup job completed in the vault for a day, missing data breaching) notifies the alarm topic";
    return silencer
        ? { resource, attacker: `${short} allow (${why}); ${alarm}, only while it stands, and ${silencer.replace(/^\w+:/, "")} on ${ALARM_SUBSCRIPTION_CHANGES.includes(silencer) ? `its topic's subscription ${ALARM_SUBSCRIPTION_ARN}` : "it"} first is not refused (${scpOpenReason(scp, silencer, {}, silencerResource(silencer))}): open`, breakGlass: `${short} allow; ${alarm}`, declared: false }
        : { resource, attacker: `${short} allow (${why}); not refused, ${alarm}; silencing it first (${silencers.map((a) => a.replace(/^\w+:/, "")).join(", ")}) deny by the organization SCP`, breakGlass: `${short} allow; ${alarm}`, declared: true };
}

/**
 * The audit row's first copy and its archive (components/audit-logs.ts, audit-archive.ts): a log group has no
 * resource policy that can refuse its deletion, so only the organization SCP can. What Firehose already delivered
 * stays locked in oauth2-audit-<stack> (365 days); these end the copies after it.
 */
function auditLogRoutes(scp: PolicyStatement[] | undefined): CompromiseFindings["declaredGuards"] {
    const decide = scpDecider(scp);
    const group = "/oauth2/authorization-server/audit";
    const groupArn = `arn:aws:logs:us-east-1:${PROD_ACCOUNT}:log-group:${group}`;
    const where = `audit log group ${group} (no resource policy refuses this: the organization SCP, lib/organization-scp.ts)`;
    const routes: [string, string, string, string][] = [
        [`${where}: delete it (the archive keeps what Firehose delivered)`, "logs:DeleteLogGroup", "DeleteLogGroup", groupArn],
        [`${where}: lower its retention to 1 day`, "logs:PutRetentionPolicy", "PutRetentionPolicy", groupArn],
        [`${where}: stop its archive to the locked bucket`, "logs:DeleteSubscriptionFilter", "DeleteSubscriptionFilter", groupArn],
        [`${where}: delete the archive's delivery stream`, "firehose:DeleteDeliveryStream", "DeleteDeliveryStream", `arn:aws:firehose:us-east-1:${PROD_ACCOUNT}:deliverystream/oauth2-audit-archive`],
        // Not a log group, the same kind of guard: the vault lock is removable during its grace time (changeableForDays).
        ["AWS Backup vault oauth2-dr-vault (components/aws-backup.ts): remove its vault lock during the grace time (changeableForDays), then delete the recovery points", "backup:DeleteBackupVaultLockConfiguration", "DeleteBackupVaultLockConfiguration", `arn:aws:backup:us-east-1:${PROD_ACCOUNT}:backup-vault:oauth2-dr-vault`],
    ];
    return routes.map(([resource, action, short, arn]) => scpOnlyRoute(scp, decide, resource, action, short, arn));
}

/**
 * A route only the organization SCP can refuse (no resource policy binds the call): denied to the attacker by the
 * SCP, or allowed with the reason the SCP leaves it open; the break-glass role may always make it.
 */
function scpOnlyRoute(scp: PolicyStatement[] | undefined, decide: ReturnType<typeof scpDecider>, resource: string, action: string, short: string, arn: string): CompromiseFindings["declaredGuards"][number] {
    const denied = decide(ATTACKER, action, {}, arn);
    return {
        resource,
        attacker: `${short} ${denied ? "deny by the organization SCP (docs/organization-scp.json, once applied)" : `allow (${scpOpenReason(scp, action, {}, arn)})`}`,
        breakGlass: `${short} allow`,
        declared: denied,
    };
}

/**
 * Why the SCP does not refuse `action` to the attacker: there is none, it does not deny the action, or it does but
 * lets the account leave the organization first (an SCP binds member accounts only).
 */
function scpOpenReason(scp: PolicyStatement[] | undefined, action: string, request: Record<string, string | string[]> = {}, resource?: string): string {
    if (!scp) {
        return "no organization SCP (docs/organization-scp.json missing)";
    }
    return evaluate(scp, ATTACKER, action, { "aws:ResourceTag/project": "oauth2-dr", ...request }, resource) === "deny"
        ? "the organization SCP denies it, but not organizations:LeaveOrganization: the account leaves the organization first"
        : "the organization SCP does not deny it";
}

/**
 * Whether the organization SCP denies `action` (on `resource`, the ARN the request names) to `arn`. Our KMS keys
 * and RDS resources carry project=oauth2-dr (lib/organization-scp.ts PROJECT_TAG), which its statements match on.
 * An SCP that lets the account leave the organization (organizations:LeaveOrganization) denies nothing: the
 * attacker leaves first.
 */
export function scpDecider(scp: PolicyStatement[] | undefined): (arn: string, action: string, request?: Record<string, string | string[]>, resource?: string) => boolean {
    const tagged = { "aws:ResourceTag/project": "oauth2-dr" };
    return (arn, action, request = {}, resource) => scp !== undefined
        && evaluate(scp, arn, "organizations:LeaveOrganization", tagged) === "deny"
        && evaluate(scp, arn, action, { ...tagged, ...request }, resource) === "deny";
}

/** Prod's names as the stacks declare them (components/retention-alarm.ts namePrefix, trailName; Pulumi.prod.yaml alarmTopicArn). */
const ALARM_TOPIC_ARN = `arn:aws:sns:us-east-1:${PROD_ACCOUNT}:oauth2-dr-alarms`;
const TRAIL_ARN = `arn:aws:cloudtrail:us-east-1:${PROD_ACCOUNT}:trail/oauth2-dr-prod-management-events`;
/** One of the alarm topic's subscriptions (the on-call's endpoint): the ARN sns:Unsubscribe names, the topic's and an id. */
const ALARM_SUBSCRIPTION_ARN = `${ALARM_TOPIC_ARN}:3f2b8c1e-0d4a-4e6b-9a7c-5b1d2e3f4a5b`;

/** The calls that silence the retention alarm before the call it watches: [action, what it silences]. */
const ALARM_SILENCERS: [string, string][] = [
    ["events:DisableRule", "disabling the rule"],
    ["events:RemoveTargets", "removing the rule's target"],
    ["cloudtrail:StopLogging", "stopping the trail EventBridge needs for CloudTrail's events"],
    ["sns:DeleteTopic", "deleting the alarm topic"],
    // The topic stands and delivers to nobody (the red team's residual, h32).
    ["sns:Unsubscribe", "unsubscribing the alarm topic's endpoints"],
    ["sns:SetSubscriptionAttributes", "giving the alarm topic's subscriptions a filter policy no message matches"],
];

/** [action, resource ARN, what it does] for each silencer of the rule `rule` (its name). */
function alarmChainRoutes(rule: string): [string, string, string][] {
    const resourceOf = (action: string) =>
        action.startsWith("events:") ? `arn:aws:events:us-east-1:${PROD_ACCOUNT}:rule/${rule}` : action.startsWith("cloudtrail:") ? TRAIL_ARN : ALARM_SUBSCRIPTION_CHANGES.includes(action) ? ALARM_SUBSCRIPTION_ARN : ALARM_TOPIC_ARN;
    return ALARM_SILENCERS.map(([action, what]) => [action, resourceOf(action), what]);
}

/**
 * AWS's answer to a bucket configuration call of the production administrator: refused when the committed
 * organization SCP denies it (once applied), else what S3 does (`otherwise`).
 */
function bucketConfigVerdict(action: string, bucket: string, otherwise: string, scp: PolicyStatement[] | undefined = committedScp()): AttackAttempt["aws"] {
    return scpDecider(scp)(ATTACKER, action, {}, `arn:aws:s3:::${bucket}`)
        ? { refuses: true, basis: `the organization SCP denies ${action} on the backup buckets to all but the break-glass roles (docs/organization-scp.json, once applied; a bucket policy could not: the account's root may always re-policy its bucket)` }
        : { refuses: false, basis: otherwise };
}

type FloorFactory = (bucketArn: string, mode: "COMPLIANCE" | "GOVERNANCE", floors: { dataClass: string; prefix: string; days: number }[]) => unknown[];

/**
 * The production bucket's lock floors (components/backup-bucket.ts lockFloorStatements) evaluated for the uploads a
 * compromised writer would make of its future backups: a per-object lock overrides the bucket's default, so one
 * day in GOVERNANCE (or COMPLIANCE) would let its next dumps go after a day. Our writers' own uploads (COMPLIANCE,
 * the class's days and an hour: scripts/aws-helper.py) are evaluated too, and must pass.
 */
function lockFloorRoutes(factory: FloorFactory | null | undefined, scp?: PolicyStatement[]): CompromiseFindings["declaredGuards"] {
    const where = `new backups in s3://${BUCKET}/database/ (bucket policy, components/backup-bucket.ts lockFloorStatements)`;
    const routes: [string, Record<string, string>][] = [
        [`${where}: upload locked 1 day GOVERNANCE (the per-object lock overrides the default)`, { "s3:object-lock-mode": "GOVERNANCE", "s3:object-lock-remaining-retention-days": "1" }],
        [`${where}: upload locked 1 day COMPLIANCE`, { "s3:object-lock-mode": "COMPLIANCE", "s3:object-lock-remaining-retention-days": "1" }],
    ];
    const config = bucketConfigRoutes(scp);
    if (!factory) {
        return [...routes.map(([resource]) => ({ resource, attacker: "no lock floor declared in this tree: AWS would store the upload with the attacker's lock", breakGlass: "-", declared: false })), ...config];
    }
    // The floor is a bucket policy: it holds only while the policy cannot be removed first (config[0]).
    const policyRemovable = !config[0].declared;
    const bucketArn = `arn:aws:s3:::${BUCKET}`;
    const statements = statementsOf(factory(bucketArn, "COMPLIANCE", [{ dataClass: "database", prefix: "database/", days: LOCK_DAYS }]));
    const admin: PolicyStatement = { Effect: "Allow", Action: "*", Resource: "*" };
    const object = `${bucketArn}/database/next.dump.gpg`;
    const writer = evaluate([...statements, admin], BREAK_GLASS_ROLE, "s3:PutObject", { "s3:object-lock-mode": "COMPLIANCE", "s3:object-lock-remaining-retention-days": String(LOCK_DAYS) }, object);
    return [...routes.map(([resource, request]) => {
        const byFloor = evaluate([...statements, admin], ATTACKER, "s3:PutObject", request, object);
        const open = byFloor !== "deny" || policyRemovable;
        return {
            resource,
            attacker: byFloor === "deny" && policyRemovable ? `PutObject deny while the bucket policy stands; ${config[0].attacker} first, then allow: open` : `PutObject ${byFloor}`,
            breakGlass: `PutObject deny too (the floor binds every principal); a writer's own upload (COMPLIANCE, ${LOCK_DAYS} days) ${writer}`,
            declared: !open,
        };
    }), ...config];
}

/**
 * A backup bucket's configuration, which no bucket policy can guard from its own account (the bucket owner's root
 * may always PutBucketPolicy / DeleteBucketPolicy, even against the policy's own Deny: S3 API Reference,
 * DeleteBucketPolicy; only VPC endpoint and Organizations policies can stop it): each call, evaluated against the
 * organization SCP for the attacker. None touches a version COMPLIANCE already holds; each shortens or diverts
 * the next backups. The first is the lock floor's own removal.
 */
export function bucketConfigRoutes(scp: PolicyStatement[] | undefined): CompromiseFindings["declaredGuards"] {
    const decide = scpDecider(scp);
    const bucketArn = `arn:aws:s3:::${BUCKET}`;
    const where = `s3://${BUCKET} configuration (no bucket policy binds its account's root: the organization SCP, lib/organization-scp.ts)`;
    const routes: [string, string, string][] = [
        [`${where}: remove or replace the bucket policy (the lock floor and the key pin) first`, "s3:DeleteBucketPolicy", "DeleteBucketPolicy"],
        [`${where}: lower the default retention to 1 day GOVERNANCE (new versions without their own lock: Firehose's audit archive)`, "s3:PutBucketObjectLockConfiguration", "PutObjectLockConfiguration"],
        [`${where}: a 1-day lifecycle expiration (delete markers hide every current object; each version goes the day its lock ends)`, "s3:PutLifecycleConfiguration", "PutBucketLifecycleConfiguration"],
        [`${where}: cut or re-point replication, or replicate delete markers (the vault stops receiving the next backups)`, "s3:PutReplicationConfiguration", "PutBucketReplication / DeleteBucketReplication"],
        [`${where}: default encryption to a KMS key of the attacker's, then delete that key (the next backups unreadable)`, "s3:PutEncryptionConfiguration", "PutBucketEncryption"],
    ];
    return routes.map(([resource, action, short]) => scpOnlyRoute(scp, decide, resource, action, short, bucketArn));
}

interface Accounts {
    vault: MotoServer;
    attacker: S3Client;
    replication: { prod: S3Client; vault: S3Client };
    vaultRestore: S3Client;
    keyId: string;
    secretArn: string;
    /** The vault's key pair (TEST ONLY, generated for the run) and the writers' public keys file. */
    restoreKey: TestKey;
    publicKeysFile: string;
}

const iso = (ms: number | undefined) => (ms === undefined ? "none" : new Date(ms).toISOString().slice(0, 19) + "Z");

function copyState(name: string, account: CopyState["account"], before: Version[], after: Version[], markers: number, note = ""): CopyState {
    const kept = new Map(after.map((v) => [v.versionId, v]));
    const shortened = before.filter((v) => {
        const now = kept.get(v.versionId);
        return now !== undefined && (now.retainUntil ?? 0) < (v.retainUntil ?? 0);
    }).length;
    const survivors = before.filter((v) => kept.has(v.versionId));
    const dumps = survivors.filter((v) => /^database\/[^/]+\.dump\.gpg$/.test(v.key)).length;
    const until = survivors.map((v) => v.retainUntil ?? 0);
    return {
        name,
        account,
        before: before.length,
        after: survivors.length,
        shortened,
        detail: `${survivors.length === 0 ? "every version destroyed" : `${dumps} dump(s) kept; retain-until ${iso(Math.min(...until))} .. ${iso(Math.max(...until))}${markers ? `; ${markers} delete marker(s) added (the versions stay beneath them)` : ""}`}${survivors.length < before.length ? note : ""}`,
    };
}

export async function compromiseDrill(world: DrillWorld, options: DrillOptions, clock: Stopwatch): Promise<Omit<DrillReport, "startedAt" | "database">> {
    const pg = world.primary;
    const restoredDb = "oauth2db_restored";
    const workDir = world.workDir;
    let accounts: Accounts | undefined;
    const traffic = world.startTraffic(options.trafficPauseMs);
    let backupAt = 0;
    let failedAt = 0;
    let committedAt = new Map<string, number>();
    let validation: ScriptResult | undefined;
    const attempts: AttackAttempt[] = [];
    const before: Record<string, Version[]> = {};
    const findings: Partial<CompromiseFindings> = {};
    try {
        await clock.step("set up the accounts", async () => {
            // The vault's moto boots in its own process while gpg makes the vault's key pair.
            const vaultStart = MotoServer.start();
            let restoreKey: TestKey;
            try {
                restoreKey = generateTestKey("oauth2-dr vault restore");
            } catch (err) {
                await vaultStart.then((started) => started.stop(), () => undefined);
                throw err;
            }
            const vault = await vaultStart;
            const prodRepl = s3As(world.moto, "replication-role");
            const vaultRepl = s3As(vault, "replication-role");
            accounts = { vault, attacker: s3As(world.moto, "attacker-prod-admin"), replication: { prod: prodRepl, vault: vaultRepl }, vaultRestore: s3As(vault, "vault-restore-role"), keyId: "", secretArn: "", restoreKey, publicKeysFile: "" };
            await lockedBucket(prodRepl, DR_BUCKET);
            await lockedBucket(vaultRepl, VAULT_BUCKET);
            const replicationTo = (id: string, bucket: string, account: string) => ({
                ID: id, Status: "Enabled" as const, Priority: id === "vault" ? 2 : 1, Filter: { Prefix: "" },
                DeleteMarkerReplication: { Status: "Disabled" as const },
                Destination: { Bucket: `arn:aws:s3:::${bucket}`, Account: account },
            });
            await prodRepl.send(new PutBucketReplicationCommand({ Bucket: BUCKET, ReplicationConfiguration: { Role: REPLICATION_ROLE, Rules: [replicationTo("dr", DR_BUCKET, PROD_ACCOUNT), replicationTo("vault", VAULT_BUCKET, VAULT_ACCOUNT)] } }));
            await prodRepl.send(new PutBucketReplicationCommand({ Bucket: DR_BUCKET, ReplicationConfiguration: { Role: REPLICATION_ROLE, Rules: [replicationTo("vault", VAULT_BUCKET, VAULT_ACCOUNT)] } }));
            // The key material: the passphrase of the older (symmetric) dumps in production's Secrets Manager under
            // its own KMS key; the restore private key in the vault account (the custodians put it there), its
            // public half in the writers' ConfigMap (here a file): nothing in production can decrypt a new dump.
            const passphrase = fs.readFileSync(world.passphrase, "utf8").trim();
            const key = awsCall(world.moto, "kms", "create_key", { Description: "oauth2-dr backup passphrase" });
            accounts.keyId = key.KeyMetadata.KeyId;
            accounts.secretArn = awsCall(world.moto, "secretsmanager", "create_secret", { Name: PASSPHRASE_SECRET, SecretString: passphrase, KmsKeyId: key.KeyMetadata.Arn }).ARN;
            createSecret(vault, VAULT_PRIVATE_KEYS_SECRET, accounts.restoreKey.secretKey);
            accounts.publicKeysFile = keyFile(workDir, "backup-gpg-public-keys.asc", accounts.restoreKey.publicKey);
            // The validation's smoke-test client credential, kept with the vault's break-glass material for a
            // recovery run from outside the compromised account.
            createSecret(vault, SMOKE_SECRET_ID, awsCall(world.moto, "secretsmanager", "get_secret_value", { SecretId: SMOKE_SECRET_ID }).SecretString);
            return `production account (moto on ${world.moto.endpoint}): ${BUCKET} and ${DR_BUCKET} versioned, Object Lock COMPLIANCE ${LOCK_DAYS} days (the retention table's database row), replication ${BUCKET} -> ${DR_BUCKET}, ${VAULT_BUCKET}; ${PASSPHRASE_SECRET} under a KMS key; writers hold the public key ${accounts.restoreKey.fingerprint} only; vault account (moto on ${vault.endpoint}): ${VAULT_BUCKET} COMPLIANCE ${LOCK_DAYS} days, ${VAULT_PRIVATE_KEYS_SECRET} (its private key)`;
        });
        const a = accounts!;
        await clock.step("write", async () => {
            const { note } = await traffic.writeFor(options.writeSeconds);
            return `${traffic.acks.length} tokens acknowledged${note}`;
        });
        await clock.step("back up", async () => {
            backupAt = Date.now();
            const env = { ...pg.env("oauth2db"), ...world.moto.env(), BUCKET, BACKUP_GPG_PUBLIC_KEYS_FILE: a.publicKeysFile, BACKUP_GPG_RECIPIENTS: a.restoreKey.fingerprint };
            const result = mustSucceed("db-backup.sh", await runScript("db-backup.sh", env));
            return `db-backup.sh (public-key mode, recipient ${a.restoreKey.fingerprint}; no passphrase, no private key in the job): ${result.stdout.trim().split("\n").pop() ?? ""}`;
        });
        await clock.step("replicate", async () => {
            const dr = await replicate(a.replication.prod, BUCKET, a.replication.prod, DR_BUCKET);
            const vault = await replicate(a.replication.prod, BUCKET, a.replication.vault, VAULT_BUCKET);
            return `STAND-IN FOR S3 REPLICATION: ${dr.copied} versions to ${DR_BUCKET}, ${vault.copied} to ${VAULT_BUCKET} (${vault.reason})`;
        });
        await clock.step("keep writing", async () => {
            const { note } = await traffic.writeFor(options.writeSeconds);
            return `${traffic.acks.length} tokens acknowledged in all${note}`;
        });
        await clock.step("attack", async () => {
            for (const [name, s3, bucket] of [["prod", a.attacker, BUCKET], ["dr", a.attacker, DR_BUCKET], ["vault", a.replication.vault, VAULT_BUCKET]] as const) {
                before[name] = await versionsOf(s3, bucket);
            }
            // Read before destroying: the newest dump with everything production holds (the writers' public keys
            // and the passphrase secret). gpg refuses: only the vault's private key decrypts it.
            const dumps = before.prod.filter((v) => /^database\/[^/]+\.dump\.gpg$/.test(v.key));
            const passphraseNow = awsCall(world.moto, "secretsmanager", "get_secret_value", { SecretId: PASSPHRASE_SECRET }).SecretString as string;
            attempts.push(await attempt("decrypt the newest dump with the production account's key material (the writers' public keys, the passphrase secret)", BUCKET,
                { refuses: true, basis: "public-key encryption: the dump is encrypted to the vault's key; production holds its public half only, and the passphrase encrypts only the dumps written before the switch" }, dumps.slice(-1),
                async (v: Version) => {
                    const body = Buffer.from(await (await a.attacker.send(new GetObjectCommand({ Bucket: BUCKET, Key: v.key, VersionId: v.versionId }))).Body!.transformToByteArray());
                    const withKeys = decryptWith(workDir, [a.restoreKey.publicKey], body);
                    const withPassphrase = decryptWithPassphrase(workDir, passphraseNow, body);
                    if (withKeys.status !== 0 && withPassphrase !== 0) {
                        const error = new Error(withKeys.stderr.split("\n").find((l) => /secret key|decryption failed/i.test(l))?.replace(/^gpg: /, "") ?? "gpg: decryption failed");
                        error.name = "GpgRefused";
                        throw error;
                    }
                }));
            const lockRule = `S3 Object Lock: a COMPLIANCE version cannot be deleted before its retain-until date by any principal, the account root included`;
            // Each bucket's attempts, in the report bucket by bucket; the wait for the shortened retain-until dates to
            // pass is one for both buckets (the later one's), not one per bucket.
            const byBucket = new Map<string, AttackAttempt[]>([[BUCKET, []], [DR_BUCKET, []]]);
            let shortenedUntil = 0;
            for (const bucket of [BUCKET, DR_BUCKET]) {
                const tried = byBucket.get(bucket)!;
                const versions = await versionsOf(a.attacker, bucket);
                tried.push(await attempt("delete every object version", bucket, { refuses: true, basis: lockRule }, versions,
                    (v: Version) => a.attacker.send(new DeleteObjectCommand({ Bucket: bucket, Key: v.key, VersionId: v.versionId }))));
                tried.push(await attempt("delete every object version with x-amz-bypass-governance-retention", bucket, { refuses: true, basis: `${lockRule}; the bypass header applies to GOVERNANCE only` }, versions,
                    (v: Version) => a.attacker.send(new DeleteObjectCommand({ Bucket: bucket, Key: v.key, VersionId: v.versionId, BypassGovernanceRetention: true }))));
                const keys = [...new Set(versions.map((v) => v.key))];
                tried.push(await attempt("delete every key without a version id (a delete marker)", bucket, { refuses: false, basis: "S3 adds a delete marker; the locked versions stay beneath it and the replication rules do not carry delete markers" }, keys,
                    (key: string) => a.attacker.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }))));
                const soon = new Date(Date.now() + 1000);
                tried.push(await attempt("shorten each version's retention (put-object-retention, retain-until now + 1 s)", bucket, { refuses: true, basis: "S3 Object Lock: the retain-until date of a COMPLIANCE version can only be extended" }, versions,
                    (v: Version) => a.attacker.send(new PutObjectRetentionCommand({ Bucket: bucket, Key: v.key, VersionId: v.versionId, BypassGovernanceRetention: true, Retention: { Mode: "COMPLIANCE", RetainUntilDate: soon } }))));
                tried.push(await attempt("lower the bucket's default retention to 1 day GOVERNANCE (put-object-lock-configuration)", bucket, bucketConfigVerdict("s3:PutBucketObjectLockConfiguration", bucket, "S3 accepts it from a principal with s3:PutBucketObjectLockConfiguration (no job role has it; a bucket policy cannot refuse the account's root): it applies to new versions only, existing versions keep their retain-until"), [bucket],
                    () => a.attacker.send(new PutObjectLockConfigurationCommand({ Bucket: bucket, ObjectLockConfiguration: { ObjectLockEnabled: "Enabled", Rule: { DefaultRetention: { Mode: "GOVERNANCE", Days: 1 } } } }))));
                shortenedUntil = Math.max(shortenedUntil, soon.getTime());
            }
            await new Promise((r) => setTimeout(r, Math.max(0, shortenedUntil - Date.now() + 200)));
            for (const bucket of [BUCKET, DR_BUCKET]) {
                const tried = byBucket.get(bucket)!;
                const left = await versionsOf(a.attacker, bucket);
                tried.push(await attempt("delete every object version again, after the shortening", bucket, { refuses: true, basis: `${lockRule} (the shortening was refused, so the original dates hold)` }, left,
                    (v: Version) => a.attacker.send(new DeleteObjectCommand({ Bucket: bucket, Key: v.key, VersionId: v.versionId, BypassGovernanceRetention: true }))));
                // Versioning suspended, an overwrite would replace the current object in place (S3 User Guide: after
                // Object Lock is enabled, versioning cannot be suspended; moto accepts it: a limit).
                tried.push(await attempt("suspend versioning (put-bucket-versioning Suspended)", bucket, { refuses: true, basis: "S3 Object Lock: once it is enabled on a bucket, versioning cannot be suspended (S3 User Guide, Object Lock considerations); the organization SCP also denies s3:PutBucketVersioning on the backup buckets" }, [bucket],
                    () => a.attacker.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: "Suspended" } }))));
            }
            attempts.push(...byBucket.get(BUCKET)!, ...byBucket.get(DR_BUCKET)!);
            attempts.push(await attempt("delete the vault bucket's versions with the production credentials", VAULT_BUCKET, { refuses: true, basis: "another account: its bucket policy accepts only prod's and dr's replication roles (writes), and Object Lock COMPLIANCE holds the versions" }, before.vault,
                (v: Version) => a.attacker.send(new DeleteObjectCommand({ Bucket: VAULT_BUCKET, Key: v.key, VersionId: v.versionId }))));
            const guards = declaredGuards();
            findings.declaredGuards = guards;
            const guardBasis = (i: number) => guards[i].declared
                ? `the declared guard evaluates to "${guards[i].attacker}" for the attacker (explicit Deny except the break-glass role), "${guards[i].breakGlass}" for the break-glass role`
                : guards[i].attacker;
            const guarded = (i: number) => guards[i].declared && guards[i].attacker.endsWith("deny");
            attempts.push(await attempt("delete the passphrase secret (delete-secret --force-delete-without-recovery)", PASSPHRASE_SECRET, { refuses: guarded(0), basis: guardBasis(0) }, [PASSPHRASE_SECRET],
                async () => awsCall(world.moto, "secretsmanager", "delete_secret", { SecretId: PASSPHRASE_SECRET, ForceDeleteWithoutRecovery: true })));
            attempts.push(await attempt("schedule the deletion of the secret's KMS key (7 days)", `KMS key ${a.keyId}`, { refuses: guarded(1), basis: guardBasis(1) }, [a.keyId],
                async () => awsCall(world.moto, "kms", "schedule_key_deletion", { KeyId: a.keyId, PendingWindowInDays: 7 })));
            for (const bucket of [BUCKET, DR_BUCKET]) {
                attempts.push(await attempt("cut replication (delete-bucket-replication)", bucket, bucketConfigVerdict("s3:PutReplicationConfiguration", bucket, "the production administrator holds s3:PutReplicationConfiguration (no job role does; a bucket policy cannot refuse the account's root). What was replicated stays in the vault; new backups stop reaching it"), [bucket],
                    () => a.attacker.send(new DeleteBucketReplicationCommand({ Bucket: bucket }))));
            }
            // Ransomware: the database itself. Its commit times are read first (the RPO's evidence).
            committedAt = world.trafficCommitTimes(pg);
            failedAt = Date.now();
            pg.psql(`DROP DATABASE oauth2db WITH (FORCE)`, "postgres");
            const refusedByMoto = attempts.reduce((n, t) => n + t.refused, 0);
            const tried = attempts.reduce((n, t) => n + t.tried, 0);
            return `${tried} calls with the production credentials, ${refusedByMoto} refused by moto; then DROP DATABASE oauth2db (the ransomware's work on the database)`;
        });
        await clock.step("detect", async () => {
            return detection("the dropped database", await world.validate(pg))[0];
        });
        await clock.step("assess", async () => {
            const after = {
                prod: await versionsOf(a.attacker, BUCKET),
                dr: await versionsOf(a.attacker, DR_BUCKET),
                vault: await versionsOf(a.vaultRestore, VAULT_BUCKET),
            };
            // A copy destroyed only through a call moto accepted and AWS refuses (the shortening) says so.
            const motoOnly = (bucket: string) => attempts.some((t) => t.target === bucket && t.aws.refuses && t.refused < t.tried && t.action.startsWith("shorten"))
                ? "; reached only because moto accepted the shortening, which AWS refuses in COMPLIANCE"
                : "";
            const copies: CopyState[] = [
                copyState(`s3://${BUCKET}`, "production", before.prod, after.prod, await deleteMarkers(a.attacker, BUCKET), motoOnly(BUCKET)),
                copyState(`s3://${DR_BUCKET}`, "production", before.dr, after.dr, await deleteMarkers(a.attacker, DR_BUCKET), motoOnly(DR_BUCKET)),
                copyState(`s3://${VAULT_BUCKET}`, "vault", before.vault, after.vault, await deleteMarkers(a.vaultRestore, VAULT_BUCKET)),
            ];
            const secretLeft = (moto: MotoServer, id: string) => {
                try {
                    awsCall(moto, "secretsmanager", "describe_secret", { SecretId: id });
                    return 1;
                } catch {
                    return 0;
                }
            };
            const keyState = awsCall(world.moto, "kms", "describe_key", { KeyId: a.keyId }).KeyMetadata.KeyState as string;
            copies.push({ name: `secret ${PASSPHRASE_SECRET}`, account: "production", before: 1, after: secretLeft(world.moto, PASSPHRASE_SECRET), shortened: 0, detail: `its KMS key ${keyState}` });
            copies.push({ name: `secret ${VAULT_PRIVATE_KEYS_SECRET}`, account: "vault", before: 1, after: secretLeft(a.vault, VAULT_PRIVATE_KEYS_SECRET), shortened: 0, detail: `the restore private key ${a.restoreKey.fingerprint} (production holds its public half only)` });
            findings.copies = copies;
            findings.destroyed = copies.filter((c) => c.after < c.before || c.shortened > 0).map((c) => `${c.name}: ${c.before - c.after} of ${c.before}${c.shortened ? `, ${c.shortened} retain-until shortened` : ""}`);
            findings.survived = copies.filter((c) => c.after > 0).map((c) => `${c.name}: ${c.after} of ${c.before}`);
            const vaultNow = new Map(after.vault.map((v) => [v.versionId, v]));
            findings.vaultIntact = before.vault.length > 0 && before.vault.every((v) => vaultNow.get(v.versionId)?.retainUntil === v.retainUntil);
            // A backup written after the attack, as the writer jobs go on: does it still reach the vault?
            await a.replication.prod.send(new PutObjectCommand({ Bucket: BUCKET, Key: "config/after-attack-probe.txt", Body: "written after the attack" }));
            const next = await replicate(a.replication.prod, BUCKET, a.replication.vault, VAULT_BUCKET);
            const arrived = (await versionsOf(a.vaultRestore, VAULT_BUCKET)).some((v) => v.key === "config/after-attack-probe.txt");
            // The cut is moto's outcome when AWS refuses it (the organization SCP, once applied): say so.
            const cutByMotoOnly = attempts.some((t) => t.action.startsWith("cut replication") && t.aws.refuses && t.refused < t.tried);
            findings.replicationAfterAttack = arrived ? `still replicating: a backup written after the attack reached the vault (${next.copied} copied)` : `cut: a backup written after the attack did not reach the vault (${next.reason}); the vault's newest copy is the last one replicated before the attack${cutByMotoOnly ? "; moto accepted the cut, which AWS refuses with the organization SCP applied" : ""}`;
            return `destroyed: ${findings.destroyed.join("; ") || "nothing"}; survived: ${findings.survived.join("; ")}`;
        });
        const vaultEnv = { ...a.vault.env(), BUCKET: VAULT_BUCKET };
        await clock.step("restore", async () => {
            pg.createDatabase(restoredDb);
            // The private key straight from the vault account's Secrets Manager into restore.sh's throwaway
            // keyring (never in a file of the drill's).
            const keys = { RESTORE_PRIVATE_KEYS_SECRET_ID: VAULT_PRIVATE_KEYS_SECRET, RESTORE_PRIVATE_KEYS_ENDPOINT_URL: a.vault.endpoint, RESTORE_PRIVATE_KEYS_REGION: "us-east-1" };
            const result = mustSucceed("restore.sh from the vault", await runScript("restore.sh", { ...pg.env(restoredDb), ...vaultEnv, ...keys }, ["--yes", "--source-database", "oauth2db"]));
            return `restore.sh: the newest dump of s3://${VAULT_BUCKET} (vault account) into ${restoredDb}, decrypted with the private key ${a.restoreKey.fingerprint} read from the vault account's Secrets Manager (${VAULT_PRIVATE_KEYS_SECRET})${result.stdout.trim() ? ` (${result.stdout.trim().split("\n").pop()})` : ""}`;
        });
        await clock.step("switch", async () => {
            await world.server.switchDatabase(dbUrl(pg, restoredDb));
            return `DATABASE_URL -> ${dbUrl(pg, restoredDb)}`;
        });
        await clock.step("validate", async () => {
            validation = mustSucceed("validate-service.sh against the database restored from the vault", await world.validate(pg, restoredDb, vaultEnv));
            return `${lines(validation).length} checks PASS (key continuity against the vault's secrets/jwks.json)`;
        });
    } finally {
        await traffic.stop();
        await accounts?.vault.stop();
    }
    const validatedAt = Date.now();
    const rpo = measureRpo("compromise", traffic.acks, world.trafficTokens(pg, restoredDb), {
        failedAt,
        failureEvidence: "the drill's clock when the attacker dropped the production database",
        recoveryPointAt: backupAt,
        recoveryPointText: `${new Date(backupAt).toISOString()} (db-backup.sh started: the newest dump replicated to the vault before the attack)`,
        committedAt,
    }, "the vault holds the daily dumps: every write after the newest dump replicated before the attack is lost (the RDS recovery points in the air-gapped AWS Backup vault are not drilled offline)");
    const result = finish("compromise", clock, validatedAt - failedAt, rpo, validation!);
    const f = findings as CompromiseFindings;
    return {
        ...result,
        compromise: {
            attempts,
            copies: f.copies,
            destroyed: f.destroyed,
            survived: f.survived,
            vaultIntact: f.vaultIntact,
            replicationAfterAttack: f.replicationAfterAttack,
            declaredGuards: f.declaredGuards,
            limits: compromiseLimits(attempts),
        },
    };
}

/** What the drill does not prove, including every call where moto and AWS disagree (computed from the attempts). */
function compromiseLimits(attempts: AttackAttempt[]): string[] {
    const disagree = attempts.filter((t) => (t.refused === t.tried) !== t.aws.refuses);
    return [
        ...disagree.map((t) => `moto ${t.refused === t.tried ? "refused" : "accepted"} "${t.action}" on ${t.target} where AWS ${t.aws.refuses ? "refuses" : "accepts"} it: the drill's outcome there is moto's, not AWS's`),
        "the accounts are two moto servers: the account boundary and the vault's bucket policy are not evaluated (the production credentials cannot name the vault's endpoint here; in AWS they are denied by the policy)",
        "replication is a stand-in (copy with the replication role's credential), not S3 replication",
        "the vault's private key is read with moto's fake credentials: the restore role that alone may read it (RESTORE_PRIVATE_KEYS_ROLE_ARN, test/scripts/public-key.test.ts) and the secret's resource policy are not evaluated; the offline copy's custody is procedural (docs/runbook.md)",
    ];
}
