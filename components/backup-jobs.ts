/**
 * The runbook's backups and its monthly verification as Kubernetes CronJobs in `oauth2-system`, running the
 * scripts of `scripts/` (mounted from a ConfigMap) in the backup image (images/backup/Dockerfile):
 *
 *   db-backup             daily, after the RDS backup window   encrypted pg_dump to database/ + manifest
 *   client-config-export  every 15 min ("on change")            oauth2_registered_client to clients/
 *   secrets-export        daily ("on rotation", 7 versions)     K8s secret, JWK private key, JWKS to secrets/
 *   app-config-export     every 30 min ("on change")            the namespace's ConfigMaps to config/
 *   restore-verification  monthly                              restore + the runbook's checklist; its record
 *                                                              to database/verifications/ (passed or failed)
 *
 * Each job has its own ServiceAccount (`oauth2-dr-<job>`) bound through IRSA to its own IAM role with only
 * what it needs (jobPolicy): a writer puts objects under its own prefix and reads the secrets it uses; no
 * role may delete an object version, bypass governance retention or change the bucket's configuration; only
 * restore-verification reads dumps it did not write (and puts only its records, under database/verifications/)
 * and restores/deletes RDS instances, of `oauth2-backup-test-*` only. secrets-export may read the one secret `oauth2-server-secrets` and
 * app-config-export list ConfigMaps, in the server's namespace (`serverNamespace`, default `oauth2-system`): namespaced
 * RBAC Roles there, bound to the jobs' ServiceAccounts in `oauth2-system`, and the scripts' NAMESPACE. In a standby stack the four backup/export jobs are
 * declared suspended until the stack is promoted; restore verification runs in both.
 */
import * as fs from "fs";
import * as path from "path";
import { createHash } from "crypto";
import * as pulumi from "@pulumi/pulumi";
import * as batchv1 from "@pulumi/kubernetes/batch/v1";
import * as corev1 from "@pulumi/kubernetes/core/v1";
import * as rbacv1 from "@pulumi/kubernetes/rbac/v1";
import { Provider } from "@pulumi/kubernetes/provider";
import type * as k8sInput from "@pulumi/kubernetes/types/input";
import type * as iam from "@pulumi/aws/iam";
import { BackupJobResources, BackupJobSchedules, ContainerResources, nextRun, unclockedBecause, validateCron } from "../lib/schedule";
import { DataClass, retentionRow } from "../lib/retention";
import { AWS_REGION, DailyWindow, insideDailyWindow, KUBERNETES_NAME, OIDC_ISSUER, OIDC_PROVIDER_ARN, parseDailyWindow, POSTGRES_DATABASE_NAME } from "../lib/formats";
import {
    appLabels,
    awsEnv,
    BACKUP_NAMESPACE,
    declareIrsaRole,
    declareIrsaServiceAccount,
    envVars,
    postgresEnv,
    scriptPodSpec,
} from "./backup-image-pods";

export const SCRIPTS_DIR = path.resolve(__dirname, "..", "scripts");
/** The data class each backup/export job writes (audit logs are archived by Firehose, not by a job). */
export const EXPORTED_CLASSES: Readonly<Record<Exclude<BackupJobName, "restore-verification">, DataClass>> = {
    "db-backup": "database",
    "client-config-export": "clients",
    "secrets-export": "secrets",
    "app-config-export": "config",
};
/** The bucket prefixes the jobs write: the retention table's bucketPrefix of each exported class. */
export const JOB_PREFIXES: readonly string[] = Object.values(EXPORTED_CLASSES).map((dataClass) => retentionRow(dataClass).bucketPrefix);
/** The Kubernetes secret of the authorization server that secrets-export backs up. */
export const SERVER_SECRET = "oauth2-server-secrets";

export type BackupJobName = "db-backup" | "client-config-export" | "secrets-export" | "app-config-export" | "restore-verification";

/** What the jobs run and as whom: the image, the cluster, the schedules, their containers' resources and the cluster's OIDC provider. */
export interface BackupJobsSettings {
    image: string;
    /** Path to a kubeconfig file, or the kubeconfig itself; empty means the ambient kubeconfig. */
    kubeconfig?: string;
    schedules: BackupJobSchedules;
    /** Requests and limits of each job's container (the configuration's backupJobs.resources). */
    resources: BackupJobResources;
    /** The EKS cluster's IAM OIDC provider and its issuer (without https://), for the jobs' IRSA role. */
    oidcProviderArn: string;
    oidcProviderUrl: string;
}

export interface BackupJobsArgs {
    jobs: BackupJobsSettings;
    /** standby: the four backup/export jobs are declared but suspended until promotion; restore-verification runs in both. */
    role: "primary" | "standby";
    /** A standby promoted to primary: backups are not suspended. */
    promoted?: boolean;
    /** AWS region of the bucket and secrets used by the jobs. */
    region: string;
    /** "hh:mm-hh:mm" UTC: the RDS backup window; db-backup must not run inside it. */
    backupWindow: string;
    bucketName: pulumi.Input<string>;
    bucketArn: pulumi.Input<string>;
    /** KMS keys the jobs may use (bucket key, secrets key). */
    kmsKeyArns: pulumi.Input<string>[];
    secretArns: { jwkPrivateKey: pulumi.Input<string>; dbCredentials: pulumi.Input<string>; backupPassphrase: pulumi.Input<string> };
    databaseHost: pulumi.Input<string>;
    databaseName: string;
    /** For snapshot-mode verification. */
    dbInstanceIdentifier: pulumi.Input<string>;
    tags: Record<string, string>;

    /** A provider of the region's cluster to share (e.g. stacks/compose-common's clusterProvider); otherwise one from jobs.kubeconfig, or the ambient kubeconfig. */
    provider?: Provider;
    /** Verification mode: "dump" (restore the newest dump into a scratch database) or "snapshot" (restore the newest RDS snapshot into oauth2-backup-test-<date>). Default: dump on a primary or promoted standby, snapshot on a standby (its replica is read-only). */
    verificationMode?: "dump" | "snapshot";
    /** The public JWKS URL (default http://oauth2-server:9000/oauth2/jwks). */
    jwksUrl?: string;
    databasePort?: number;
    /** libpq sslmode of the jobs' connections (default require). */
    sslMode?: "require" | "verify-ca" | "verify-full";
    /** Instance class of the verification instance in snapshot mode (default db.t3.medium). */
    verificationInstanceClass?: string;
    /**
     * The authorization server's namespace (default BACKUP_NAMESPACE): secrets-export reads its secret and
     * app-config-export its ConfigMaps there, through RBAC Roles declared there and bound to the jobs'
     * ServiceAccounts, which stay in BACKUP_NAMESPACE with the CronJobs.
     */
    serverNamespace?: string;
    /** Declare the namespace too (default false: the application's namespace exists). */
    createNamespace?: boolean;
    /**
     * S3 Object Lock of each written object (scripts/aws-helper.py: OBJECT_LOCK_MODE, OBJECT_LOCK_RETAIN_DAYS):
     * the mode and the days per data class (lib/object-lock.ts). Unset: the bucket's default retention alone.
     */
    objectLock?: { mode: "COMPLIANCE" | "GOVERNANCE"; retainDays: Record<DataClass, number> };
    /**
     * How the dumps and exports are encrypted (default symmetric: the passphrase secret). public-key: the writers
     * get the recipients' public keys (a ConfigMap) and neither the passphrase nor any IAM right on it; the
     * verification reads the private keys in the vault account through `privateKeys.roleArn`.
     */
    encryption?: BackupEncryption;
    /** A fixed name for the restore-verification's IRSA role, which the vault account's key-reader role trusts by ARN. */
    verificationRoleName?: string;
}

/** The jobs' encryption: the symmetric passphrase, or gpg public keys (writers) and the vault's private keys (verification). */
export type BackupEncryption =
    | { mode: "symmetric" }
    | {
          mode: "public-key";
          /** The recipients' armored public keys, concatenated (the ConfigMap's file). */
          publicKeys: pulumi.Input<string>;
          /** Their 40-hex fingerprints (BACKUP_GPG_RECIPIENTS, space-separated). */
          fingerprints: pulumi.Input<string[]>;
          /** The vault account's secret of armored private keys, its region, and the role there that may read it. */
          privateKeys: { secretArn: pulumi.Input<string>; region: pulumi.Input<string>; roleArn: pulumi.Input<string> };
      };

/** The ConfigMap of the recipients' public keys, where the writers mount it, and its one file. */
export const PUBLIC_KEYS_CONFIGMAP = "oauth2-dr-backup-public-keys";
export const PUBLIC_KEYS_MOUNT = "/etc/oauth2-dr/gpg";
export const PUBLIC_KEYS_FILE = "backup-public-keys.asc";

/** The jobs that write backups: they encrypt and must never be able to decrypt (public-key mode). */
export const WRITER_JOBS: readonly BackupJobName[] = ["db-backup", "client-config-export", "secrets-export", "app-config-export"];

function publicKeyMode(args: BackupJobsArgs): Extract<BackupEncryption, { mode: "public-key" }> | undefined {
    return args.encryption?.mode === "public-key" ? args.encryption : undefined;
}

interface JobSpec {
    name: BackupJobName;
    script: string;
    dataClass: DataClass | "verification";
    schedule: string;
    suspended: boolean;
    startingDeadlineSeconds: number;
    activeDeadlineSeconds: number;
    backoffLimit: number;
    resources: ContainerResources;
    /** Size limit of the /tmp emptyDir. */
    scratch: string;
    /** The job calls the Kubernetes API (kubectl): it needs the ServiceAccount token. */
    kubernetesApi: boolean;
    env: k8sInput.core.v1.EnvVar[];
    /** Mount the recipients' public keys (public-key mode, writers). */
    publicKeys: boolean;
}

/** The window's minutes; throws the message a caller shows when it is malformed. */
function parseWindow(window: string): DailyWindow {
    const parsed = parseDailyWindow(window);
    if (!parsed) {
        throw new Error(`backupWindow "${window}" is not hh:mm-hh:mm in UTC, e.g. 03:00-04:00`);
    }
    return parsed;
}

/** The first run of `schedule` (over the next 8 days) that starts inside the window, if any. */
export function runInsideWindow(schedule: string, backupWindow: string): Date | undefined {
    const window = parseWindow(backupWindow);
    let at = new Date(Date.UTC(2026, 0, 1, 0, 0, 0));
    const end = at.getTime() + 8 * 24 * 3600 * 1000;
    for (let i = 0; i < 20_000; i++) {
        at = nextRun(schedule, at);
        if (at.getTime() > end) {
            return undefined;
        }
        if (insideDailyWindow(at.getUTCHours() * 60 + at.getUTCMinutes(), window)) {
            return at;
        }
    }
    return undefined;
}

/** Throws one Error listing every problem of the arguments, before anything is declared. */
export function validateBackupJobsArgs(args: BackupJobsArgs): void {
    const problems: string[] = [];
    const jobs = args.jobs;
    if (!jobs) {
        throw new Error("BackupJobs: args.jobs (backupJobs configuration) is required");
    }
    if (!jobs.image || /\s/.test(jobs.image)) {
        problems.push(`backupJobs.image "${jobs.image ?? ""}" is not a container image reference`);
    }
    if (args.role !== "primary" && args.role !== "standby") {
        problems.push(`role must be primary or standby, not "${String(args.role)}"`);
    }
    if (args.promoted && args.role !== "standby") {
        problems.push("promoted applies to a standby stack only");
    }
    if (!AWS_REGION.test(args.region ?? "")) {
        problems.push(`region "${args.region}" is not an AWS region such as us-east-1`);
    }
    if (!POSTGRES_DATABASE_NAME.test(args.databaseName ?? "")) {
        problems.push(`databaseName "${args.databaseName}" is not a PostgreSQL database name`);
    }
    if (!OIDC_PROVIDER_ARN.test(jobs.oidcProviderArn ?? "")) {
        problems.push(`backupJobs.oidcProviderArn "${jobs.oidcProviderArn ?? ""}" is not an IAM OIDC provider ARN (needed for the jobs' IRSA role)`);
    }
    if (!OIDC_ISSUER.test(jobs.oidcProviderUrl ?? "")) {
        problems.push(`backupJobs.oidcProviderUrl "${jobs.oidcProviderUrl ?? ""}" is not an OIDC issuer without https://`);
    } else if (jobs.oidcProviderArn && !jobs.oidcProviderArn.endsWith(`oidc-provider/${jobs.oidcProviderUrl}`)) {
        problems.push(`backupJobs.oidcProviderUrl "${jobs.oidcProviderUrl}" is not the issuer of ${jobs.oidcProviderArn}`);
    }
    if (!Array.isArray(args.kmsKeyArns) || args.kmsKeyArns.length === 0) {
        problems.push("kmsKeyArns must list at least one key (the bucket's)");
    }
    const schedules = jobs.schedules ?? ({} as BackupJobSchedules);
    for (const key of ["dbBackup", "clientConfigExport", "secretsExport", "appConfigExport", "restoreVerification"] as const) {
        try {
            validateCron(schedules[key] ?? "");
        } catch (err) {
            problems.push(`backupJobs.schedules.${key}: ${(err as Error).message}`);
        }
    }
    let windowOk = true;
    try {
        parseWindow(args.backupWindow ?? "");
    } catch (err) {
        problems.push((err as Error).message);
        windowOk = false;
    }
    const unclocked = problems.some((p) => p.startsWith("backupJobs.schedules.dbBackup")) ? undefined : unclockedBecause(schedules.dbBackup);
    if (windowOk && unclocked !== undefined) {
        // An @every dump lands wherever the CronJob's creation put it: no schedule keeps it out of the window.
        problems.push(`backupJobs.schedules.dbBackup ${unclocked}, so it cannot be kept out of the RDS backup window ${args.backupWindow}; write a cron expression that runs after the window ends`);
    } else if (windowOk && problems.every((p) => !p.startsWith("backupJobs.schedules.dbBackup"))) {
        const clash = runInsideWindow(schedules.dbBackup, args.backupWindow);
        if (clash) {
            const hhmm = clash.toISOString().slice(11, 16);
            problems.push(`backupJobs.schedules.dbBackup "${schedules.dbBackup}" runs at ${hhmm} UTC, inside the RDS backup window ${args.backupWindow}; schedule it after the window ends`);
        }
    }
    if (args.serverNamespace !== undefined && !KUBERNETES_NAME.test(args.serverNamespace)) {
        problems.push(`serverNamespace "${args.serverNamespace}" is not a Kubernetes namespace name (lowercase, digits, '-', at most 63)`);
    }
    if (args.verificationMode !== undefined && args.verificationMode !== "dump" && args.verificationMode !== "snapshot") {
        problems.push(`verificationMode must be dump or snapshot, not "${String(args.verificationMode)}"`);
    }
    if (problems.length > 0) {
        throw new Error(`BackupJobs: invalid arguments:\n  - ${problems.join("\n  - ")}`);
    }
}

/** lib.sh's Python programs beside the scripts: the AWS helper and the restore's parallel load. */
export const SCRIPT_PYTHON_FILES = ["aws-helper.py", "restore-pipe.py"];

/** The scripts ConfigMap's data: every scripts/*.sh and lib.sh's Python programs (SCRIPT_PYTHON_FILES), read at plan time. */
export function readScripts(dir = SCRIPTS_DIR): Record<string, string> {
    const files = fs.readdirSync(dir).filter((f) => f.endsWith(".sh") || SCRIPT_PYTHON_FILES.includes(f)).sort();
    if (!["lib.sh", "db-backup.sh", ...SCRIPT_PYTHON_FILES].every((f) => files.includes(f))) {
        throw new Error(`BackupJobs: ${dir} does not hold the backup scripts`);
    }
    return Object.fromEntries(files.map((f) => [f, fs.readFileSync(path.join(dir, f), "utf8")]));
}

const COMMON_LABELS = appLabels("oauth2-dr-backup", "backup");

/** Each job's own ServiceAccount: the subject its IRSA role trusts, and nothing else does. */
export function jobServiceAccount(job: BackupJobName): string {
    return `oauth2-dr-${job}`;
}

/** One job's IAM role (IRSA), trusted only by the job's ServiceAccount, with only what the job needs (jobPolicy). */
function declareJobRole(name: string, job: BackupJobName, args: BackupJobsArgs, parent: pulumi.Resource) {
    return declareIrsaRole(`${name}-${job}`, {
        serviceAccount: jobServiceAccount(job),
        purpose: `${job} CronJob`,
        sid: "BackupJobsServiceAccount",
        oidcProviderArn: args.jobs.oidcProviderArn,
        oidcProviderUrl: args.jobs.oidcProviderUrl,
        maxSessionDuration: 3600 * 6,
        component: "backup-jobs",
        ...(job === "restore-verification" && args.verificationRoleName ? { roleName: args.verificationRoleName } : {}),
        tags: { ...args.tags, "oauth2-dr/job": job },
        policy: jobPolicy(job, args),
    }, parent);
}

/**
 * Least privilege per job. Writers put (and read back the manifest or hash of) their own prefix only, may set
 * an object's retention (it can only lengthen a COMPLIANCE lock, and shortening a GOVERNANCE one needs
 * s3:BypassGovernanceRetention, which no job holds), read only the secrets they use, and use the keys. Only
 * db-backup may hide a failed dump behind a delete marker (s3:DeleteObject; no s3:DeleteObjectVersion:
 * no job can destroy a stored version). Only restore-verification may read dumps it did not write, and
 * restore and delete RDS instances, of `oauth2-backup-test-*` only.
 */
export function jobPolicy(job: BackupJobName, args: BackupJobsArgs) {
    const bucketArn = pulumi.output(args.bucketArn);
    const rdsArn = (kind: string, id: pulumi.Input<string>) => pulumi.interpolate`arn:aws:rds:${args.region}:*:${kind}:${id}`;
    const prefixOf = (j: Exclude<BackupJobName, "restore-verification">) => retentionRow(EXPORTED_CLASSES[j]).bucketPrefix;
    const database = retentionRow("database").bucketPrefix;
    const list = (prefix: string) => ({
        Sid: "ListOwnPrefix",
        Effect: "Allow",
        Action: "s3:ListBucket",
        Resource: bucketArn,
        Condition: { StringLike: { "s3:prefix": [prefix, `${prefix}*`] } },
    });
    const writeOwn = (prefix: string) => ({
        Sid: "WriteOwnPrefix",
        Effect: "Allow",
        Action: ["s3:PutObject", "s3:PutObjectRetention", "s3:GetObject", "s3:AbortMultipartUpload"],
        Resource: pulumi.interpolate`${bucketArn}/${prefix}*`,
    });
    const secrets = (...keys: Array<keyof BackupJobsArgs["secretArns"]>) => ({
        Sid: "ReadNamedSecrets",
        Effect: "Allow",
        Action: "secretsmanager:GetSecretValue",
        Resource: keys.map((k) => args.secretArns[k]),
    });
    const keys = (actions: string[]) => ({ Sid: "UseBackupKeys", Effect: "Allow", Action: actions, Resource: args.kmsKeyArns });
    // Public-key mode: no job reads the passphrase (writers must not be able to decrypt; the verification
    // decrypts with the vault's private keys, through the vault account's key-reader role).
    const pk = publicKeyMode(args);
    const passphrase = pk ? [] : (["backupPassphrase"] as const);
    const vaultKeys = pk ? [{ Sid: "AssumeVaultKeyReader", Effect: "Allow", Action: "sts:AssumeRole", Resource: pk.privateKeys.roleArn }] : [];
    const writerKeys = keys(["kms:Decrypt", "kms:GenerateDataKey"]);
    const statements: Record<BackupJobName, unknown[]> = {
        "db-backup": [
            list(database),
            writeOwn(database),
            // A failed db-backup hides its partial dump behind a delete marker; the version stays (and stays locked).
            { Sid: "HideFailedDumps", Effect: "Allow", Action: "s3:DeleteObject", Resource: pulumi.interpolate`${bucketArn}/${database}*` },
            secrets("dbCredentials", ...passphrase),
            writerKeys,
        ],
        "client-config-export": [writeOwn(prefixOf("client-config-export")), secrets("dbCredentials", ...passphrase), writerKeys],
        "secrets-export": [writeOwn(prefixOf("secrets-export")), secrets("jwkPrivateKey", ...passphrase), writerKeys],
        "app-config-export": [writeOwn(prefixOf("app-config-export")), writerKeys],
        "restore-verification": [
            // And the versions: a newer manifest hidden by a delete marker is a FAIL naming it, not the older one
            // verified as the newest (scripts/lib.sh hidden_newest_manifest_says; ListObjectVersions).
            { ...list(database), Action: ["s3:ListBucket", "s3:ListBucketVersions"] },
            { Sid: "ReadDumps", Effect: "Allow", Action: "s3:GetObject", Resource: pulumi.interpolate`${bucketArn}/${database}*` },
            // Its own record of each run (scripts/README.md, "Verification records"), nothing else.
            { Sid: "WriteVerificationRecords", Effect: "Allow", Action: ["s3:PutObject", "s3:PutObjectRetention"], Resource: pulumi.interpolate`${bucketArn}/${database}verifications/*` },
            secrets("dbCredentials", ...passphrase),
            ...vaultKeys,
            keys(["kms:Decrypt", "kms:GenerateDataKey"]),
            {
                Sid: "VerificationInstancesOnly",
                Effect: "Allow",
                Action: ["rds:RestoreDBInstanceFromDBSnapshot", "rds:DeleteDBInstance", "rds:DescribeDBInstances", "rds:AddTagsToResource"],
                Resource: `arn:aws:rds:${args.region}:*:db:${VERIFICATION_INSTANCE_PREFIX}*`,
            },
            {
                // RestoreDBInstanceFromDBSnapshot is also authorised on the snapshot and the groups it uses.
                Sid: "VerificationRestoreSources",
                Effect: "Allow",
                Action: "rds:RestoreDBInstanceFromDBSnapshot",
                Resource: [rdsArn("snapshot", "*"), rdsArn("subgrp", "*"), rdsArn("og", "*"), rdsArn("pg", "*")],
            },
            {
                Sid: "DescribeSourceSnapshots",
                Effect: "Allow",
                Action: ["rds:DescribeDBSnapshots"],
                Resource: [rdsArn("db", args.dbInstanceIdentifier), rdsArn("snapshot", "*")],
            },
        ],
    };
    return { Version: "2012-10-17", Statement: statements[job] };
}

/** The verification's scratch instances: the only RDS instances any job may delete. */
export const VERIFICATION_INSTANCE_PREFIX = "oauth2-backup-test-";

/** The RBAC a job needs in the server's namespace: secrets-export reads the one server secret, app-config-export lists ConfigMaps. */
const JOB_RBAC: Partial<Record<BackupJobName, k8sInput.rbac.v1.PolicyRule[]>> = {
    "secrets-export": [{ apiGroups: [""], resources: ["secrets"], resourceNames: [SERVER_SECRET], verbs: ["get"] }],
    "app-config-export": [{ apiGroups: [""], resources: ["configmaps"], verbs: ["list"] }],
};

/**
 * A job's ServiceAccount (annotated with its own IRSA role) and, when it calls the Kubernetes API, its RBAC Role
 * and RoleBinding in the server's namespace, whose subject is the ServiceAccount of BACKUP_NAMESPACE.
 */
function declareServiceAccount(name: string, job: BackupJobName, roleArn: pulumi.Output<string>, serverNamespace: string, opts: pulumi.CustomResourceOptions): corev1.ServiceAccount {
    const labels = { ...COMMON_LABELS, "oauth2-dr/job": job };
    const serviceAccount = declareIrsaServiceAccount(`${name}-${job}`, { serviceAccount: jobServiceAccount(job), labels, roleArn }, opts);
    const rules = JOB_RBAC[job];
    if (rules) {
        const rbacRole = new rbacv1.Role(`${name}-${job}-rbac`, { metadata: { name: jobServiceAccount(job), namespace: serverNamespace, labels }, rules }, opts);
        new rbacv1.RoleBinding(`${name}-${job}-rbac`, {
            metadata: { name: jobServiceAccount(job), namespace: serverNamespace, labels },
            roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: rbacRole.metadata.name },
            subjects: [{ kind: "ServiceAccount", name: serviceAccount.metadata.name, namespace: BACKUP_NAMESPACE }],
        }, opts);
    }
    return serviceAccount;
}

/** The server's namespace of the arguments (BACKUP_NAMESPACE unless serverNamespace names another). */
function serverNamespaceOf(args: BackupJobsArgs): string {
    return args.serverNamespace ?? BACKUP_NAMESPACE;
}

/** The server's JWKS inside the cluster: its Service by short name in BACKUP_NAMESPACE, by namespace-qualified name elsewhere. */
function defaultJwksUrl(serverNamespace: string): string {
    return serverNamespace === BACKUP_NAMESPACE ? "http://oauth2-server:9000/oauth2/jwks" : `http://oauth2-server.${serverNamespace}.svc:9000/oauth2/jwks`;
}

/** The scripts as a ConfigMap, and their hash (a changed script rolls the jobs' pod template). */
function declareScripts(name: string, scripts: Record<string, string>, opts: pulumi.CustomResourceOptions): { configMap: corev1.ConfigMap; hash: string } {
    const hash = createHash("sha256").update(JSON.stringify(scripts)).digest("hex").slice(0, 16);
    const configMap = new corev1.ConfigMap(`${name}-scripts`, {
        metadata: { name: "oauth2-dr-backup-scripts", namespace: BACKUP_NAMESPACE, labels: COMMON_LABELS, annotations: { "oauth2-dr/scripts-sha256": hash } },
        data: scripts,
    }, opts);
    return { configMap, hash };
}

/** A writer's Object Lock: every object it puts is retained its data class's days. */
function lockEnv(args: BackupJobsArgs, dataClass: DataClass): k8sInput.core.v1.EnvVar[] {
    return args.objectLock ? envVars({ OBJECT_LOCK_MODE: args.objectLock.mode, OBJECT_LOCK_RETAIN_DAYS: String(args.objectLock.retainDays[dataClass]) }) : [];
}

/** The five jobs: schedule, limits, deadlines and environment of each. */
function jobSpecs(args: BackupJobsArgs): JobSpec[] {
    const suspendBackups = args.role === "standby" && !args.promoted;
    const verificationMode = args.verificationMode ?? (suspendBackups ? "snapshot" : "dump");
    const s = args.jobs.schedules;
    const r = args.jobs.resources;
    const bucketEnv = awsEnv(args.bucketName, args.region);
    const pk = publicKeyMode(args);
    // Writers: the passphrase (symmetric) or the recipients' public keys (public-key mode), never both.
    const passphraseEnv = pk
        ? envVars({
              BACKUP_GPG_PUBLIC_KEYS_FILE: `${PUBLIC_KEYS_MOUNT}/${PUBLIC_KEYS_FILE}`,
              BACKUP_GPG_RECIPIENTS: pulumi.output(pk.fingerprints).apply((f) => f.join(" ")),
          })
        : envVars({ BACKUP_PASSPHRASE_SECRET_ID: args.secretArns.backupPassphrase });
    // The verification: the passphrase (symmetric) or where the vault's private keys are and the role that reads them.
    const decryptEnv = pk
        ? envVars({
              RESTORE_PRIVATE_KEYS_SECRET_ID: pk.privateKeys.secretArn,
              RESTORE_PRIVATE_KEYS_REGION: pk.privateKeys.region,
              RESTORE_PRIVATE_KEYS_ROLE_ARN: pk.privateKeys.roleArn,
          })
        : envVars({ BACKUP_PASSPHRASE_SECRET_ID: args.secretArns.backupPassphrase });
    const publicKeys = pk !== undefined;
    const serverNamespace = serverNamespaceOf(args);
    const dbEnv = postgresEnv({
        host: args.databaseHost,
        port: args.databasePort,
        database: args.databaseName,
        sslMode: args.sslMode,
        appName: "oauth2-dr-backup",
        credentialsSecretArn: args.secretArns.dbCredentials,
    });
    return [
        {
            name: "db-backup", script: "db-backup.sh", dataClass: EXPORTED_CLASSES["db-backup"], schedule: s.dbBackup, suspended: suspendBackups,
            startingDeadlineSeconds: 3600, activeDeadlineSeconds: 4 * 3600, backoffLimit: 2, resources: r.dbBackup, scratch: "64Mi", kubernetesApi: false,
            env: [...bucketEnv, ...lockEnv(args, "database"), ...dbEnv, ...passphraseEnv], publicKeys,
        },
        {
            name: "client-config-export", script: "client-config-export.sh", dataClass: EXPORTED_CLASSES["client-config-export"], schedule: s.clientConfigExport, suspended: suspendBackups,
            startingDeadlineSeconds: 300, activeDeadlineSeconds: 600, backoffLimit: 1, resources: r.clientConfigExport, scratch: "256Mi", kubernetesApi: false,
            env: [...bucketEnv, ...lockEnv(args, "clients"), ...dbEnv, ...passphraseEnv], publicKeys,
        },
        {
            name: "secrets-export", script: "secrets-export.sh", dataClass: EXPORTED_CLASSES["secrets-export"], schedule: s.secretsExport, suspended: suspendBackups,
            startingDeadlineSeconds: 3600, activeDeadlineSeconds: 900, backoffLimit: 2, resources: r.secretsExport, scratch: "64Mi", kubernetesApi: true,
            env: [...bucketEnv, ...lockEnv(args, "secrets"), ...passphraseEnv, ...envVars({
                NAMESPACE: serverNamespace,
                K8S_SECRET_NAME: SERVER_SECRET,
                JWK_SECRET_ID: args.secretArns.jwkPrivateKey,
                JWKS_URL: args.jwksUrl ?? defaultJwksUrl(serverNamespace),
            })], publicKeys,
        },
        {
            name: "app-config-export", script: "app-config-export.sh", dataClass: EXPORTED_CLASSES["app-config-export"], schedule: s.appConfigExport, suspended: suspendBackups,
            startingDeadlineSeconds: 600, activeDeadlineSeconds: 600, backoffLimit: 1, resources: r.appConfigExport, scratch: "64Mi", kubernetesApi: true,
            env: [...bucketEnv, ...lockEnv(args, "config"), ...envVars({ NAMESPACE: serverNamespace }), ...(pk ? passphraseEnv : [])], publicKeys,
        },
        {
            name: "restore-verification", script: "restore-verification.sh", dataClass: "verification", schedule: s.restoreVerification, suspended: false,
            startingDeadlineSeconds: 6 * 3600, activeDeadlineSeconds: 6 * 3600, backoffLimit: 0, resources: r.restoreVerification, scratch: "64Mi", kubernetesApi: false,
            publicKeys: false,
            // Its record (database/verifications/) is kept as long as the dumps it speaks of.
            env: [...bucketEnv, ...lockEnv(args, "database"), ...dbEnv, ...decryptEnv, ...envVars({
                VERIFY_MODE: verificationMode,
                DB_INSTANCE_IDENTIFIER: args.dbInstanceIdentifier,
                VERIFY_INSTANCE_CLASS: args.verificationInstanceClass ?? "db.t3.medium",
            })],
        },
    ];
}

/** What every job's pod shares: the image, the ServiceAccount, the scripts and their hash. */
interface PodContext {
    image: string;
    serviceAccountNames: Record<BackupJobName, pulumi.Output<string>>;
    scriptsConfigMapName: pulumi.Output<string>;
    scriptsHash: string;
    /** The recipients' public keys (public-key mode). */
    publicKeysConfigMapName?: pulumi.Output<string>;
}

function podSpec(job: JobSpec, pod: PodContext): k8sInput.core.v1.PodSpec {
    return scriptPodSpec({
        serviceAccountName: pod.serviceAccountNames[job.name],
        kubernetesApi: job.kubernetesApi,
        // The scripts stop their pipelines, hide partial uploads and drop scratch databases on SIGTERM.
        terminationGracePeriodSeconds: 120,
        container: job.name,
        image: pod.image,
        script: job.script,
        env: job.env,
        resources: job.resources,
        scriptsConfigMapName: pod.scriptsConfigMapName,
        scratch: job.scratch,
        ...(job.publicKeys && pod.publicKeysConfigMapName
            ? {
                  extraVolumes: [{ name: "public-keys", configMap: { name: pod.publicKeysConfigMapName, defaultMode: 0o444 } }],
                  extraVolumeMounts: [{ name: "public-keys", mountPath: PUBLIC_KEYS_MOUNT, readOnly: true }],
              }
            : {}),
    });
}

function declareCronJob(name: string, job: JobSpec, pod: PodContext, opts: pulumi.CustomResourceOptions): batchv1.CronJob {
    const labels = {
        ...COMMON_LABELS,
        "oauth2-dr/backup": "true",
        "oauth2-dr/data-class": job.dataClass,
        "oauth2-dr/job": job.name,
    };
    return new batchv1.CronJob(`${name}-${job.name}`, {
        metadata: {
            name: job.name,
            namespace: BACKUP_NAMESPACE,
            labels,
            annotations: {
                "oauth2-dr/script": job.script,
                ...(job.suspended ? { "oauth2-dr/suspended-because": "standby stack: backups start when the stack is promoted (promote: true)" } : {}),
            },
        },
        spec: {
            schedule: job.schedule,
            timeZone: "Etc/UTC",
            suspend: job.suspended,
            concurrencyPolicy: "Forbid",
            startingDeadlineSeconds: job.startingDeadlineSeconds,
            successfulJobsHistoryLimit: 3,
            failedJobsHistoryLimit: 5,
            jobTemplate: {
                metadata: { labels },
                spec: {
                    activeDeadlineSeconds: job.activeDeadlineSeconds,
                    backoffLimit: job.backoffLimit,
                    ttlSecondsAfterFinished: 7 * 24 * 3600,
                    template: {
                        metadata: { labels, annotations: { "oauth2-dr/scripts-sha256": pod.scriptsHash } },
                        spec: podSpec(job, pod),
                    },
                },
            },
        },
    }, opts);
}

/**
 * backupJobs.kubeconfig as a provider input: the kubeconfig's text may hold the cluster's credentials, and a
 * provider's inputs are written to the state as given (the SDK marks nothing secret), so it is kept secret.
 */
export function kubeconfigInput(kubeconfig: string | undefined): pulumi.Input<string> | undefined {
    return kubeconfig ? pulumi.secret(kubeconfig) : undefined;
}

export class BackupJobs extends pulumi.ComponentResource {
    /** Where the CronJobs, their ServiceAccounts and the scripts are (BACKUP_NAMESPACE). */
    readonly namespace: string;
    /** The server's namespace, whose secret and ConfigMaps the exports read (RBAC Roles there). */
    readonly serverNamespace: string;
    /** Each job's ServiceAccount and its own IRSA role. */
    readonly serviceAccountNames: Record<BackupJobName, pulumi.Output<string>>;
    readonly roleArns: Record<BackupJobName, pulumi.Output<string>>;
    readonly scriptsConfigMapName: pulumi.Output<string>;
    /** CronJob name -> schedule. */
    readonly schedules: Record<BackupJobName, string>;
    readonly cronJobNames: pulumi.Output<string[]>;
    /** The jobs declared suspended (standby until promotion). */
    readonly suspendedJobs: BackupJobName[];

    constructor(name: string, args: BackupJobsArgs, opts?: pulumi.ComponentResourceOptions) {
        // Validate before anything, the component included, is declared.
        validateBackupJobsArgs(args);
        const scripts = readScripts();
        super("oauth2-dr:kubernetes:BackupJobs", name, {}, opts);

        const provider = args.provider ?? (args.jobs.kubeconfig ? new Provider(`${name}-cluster`, { kubeconfig: kubeconfigInput(args.jobs.kubeconfig) }, { parent: this }) : undefined);
        const k8sOpts: pulumi.CustomResourceOptions = { parent: this, provider };
        const namespace = args.createNamespace
            ? [new corev1.Namespace(`${name}-namespace`, { metadata: { name: BACKUP_NAMESPACE, labels: COMMON_LABELS } }, k8sOpts)]
            : [];
        const nsOpts: pulumi.CustomResourceOptions = { ...k8sOpts, dependsOn: namespace };

        const specs = jobSpecs(args);
        const roles = Object.fromEntries(specs.map((job) => [job.name, declareJobRole(name, job.name, args, this)])) as Record<BackupJobName, iam.Role>;
        const serviceAccounts = Object.fromEntries(specs.map((job) => [job.name, declareServiceAccount(name, job.name, roles[job.name].arn, serverNamespaceOf(args), nsOpts)])) as Record<BackupJobName, corev1.ServiceAccount>;
        const { configMap, hash } = declareScripts(name, scripts, nsOpts);
        const serviceAccountNames = Object.fromEntries(specs.map((job) => [job.name, serviceAccounts[job.name].metadata.name])) as Record<BackupJobName, pulumi.Output<string>>;
        const pk = publicKeyMode(args);
        // Public keys are not secret: a plain ConfigMap, mounted read-only into the writers.
        const publicKeys = pk
            ? new corev1.ConfigMap(`${name}-public-keys`, {
                  metadata: { name: PUBLIC_KEYS_CONFIGMAP, namespace: BACKUP_NAMESPACE, labels: COMMON_LABELS },
                  data: { [PUBLIC_KEYS_FILE]: pk.publicKeys },
              }, nsOpts)
            : undefined;
        const pod = { image: args.jobs.image, serviceAccountNames, scriptsConfigMapName: configMap.metadata.name, scriptsHash: hash, publicKeysConfigMapName: publicKeys?.metadata.name };
        const cronJobs = specs.map((job) => declareCronJob(name, job, pod, nsOpts));

        this.namespace = BACKUP_NAMESPACE;
        this.serverNamespace = serverNamespaceOf(args);
        this.serviceAccountNames = serviceAccountNames;
        this.roleArns = Object.fromEntries(specs.map((job) => [job.name, roles[job.name].arn])) as Record<BackupJobName, pulumi.Output<string>>;
        this.scriptsConfigMapName = configMap.metadata.name;
        this.schedules = Object.fromEntries(specs.map((j) => [j.name, j.schedule])) as Record<BackupJobName, string>;
        this.suspendedJobs = specs.filter((j) => j.suspended).map((j) => j.name);
        this.cronJobNames = pulumi.all(cronJobs.map((c) => c.metadata.name));
        this.registerOutputs({
            namespace: this.namespace,
            serviceAccountNames: this.serviceAccountNames,
            roleArns: this.roleArns,
            scriptsConfigMapName: this.scriptsConfigMapName,
            cronJobNames: this.cronJobNames,
            schedules: this.schedules,
            suspendedJobs: this.suspendedJobs,
        });
    }
}
