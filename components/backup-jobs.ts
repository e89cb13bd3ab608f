/**
 * The runbook's backups and its monthly verification as Kubernetes CronJobs in `oauth2-system`, running the
 * scripts of `scripts/` (mounted from a ConfigMap) in the backup image (images/backup/Dockerfile):
 *
 *   db-backup             daily, after the RDS backup window   encrypted pg_dump to database/ + manifest
 *   client-config-export  every 15 min ("on change")            oauth2_registered_client to clients/
 *   secrets-export        daily ("on rotation", 7 versions)     K8s secret, JWK private key, JWKS to secrets/
 *   app-config-export     every 30 min ("on change")            the namespace's ConfigMaps to config/
 *   restore-verification  monthly                              restore + the runbook's checklist
 *
 * A ServiceAccount bound through IRSA to a least-privilege IAM role (objects under the four prefixes of the
 * backup bucket, the three named secrets, the given KMS keys, and RDS restore/delete of
 * `oauth2-backup-test-*` instances only), and a namespaced RBAC Role that lets the export jobs read the one
 * secret `oauth2-server-secrets` and list ConfigMaps. In a standby stack the four backup/export jobs are
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
import * as iam from "@pulumi/aws/iam";
import type { BackupJobsConfig, BackupJobSchedules } from "../lib/config";
import { nextRun, validateCron } from "../lib/schedule";

export const BACKUP_NAMESPACE = "oauth2-system";
export const SCRIPTS_DIR = path.resolve(__dirname, "..", "scripts");
/** Where the scripts ConfigMap is mounted in the job containers. */
export const SCRIPTS_MOUNT = "/opt/oauth2-dr/scripts";
/** The bucket prefixes the jobs write (the retention table's bucketPrefix of each exported class). */
export const JOB_PREFIXES = ["database/", "clients/", "secrets/", "config/"] as const;
/** The Kubernetes secret of the authorization server that secrets-export backs up. */
export const SERVER_SECRET = "oauth2-server-secrets";
/** UID/GID of the non-root user of images/backup/Dockerfile. */
export const BACKUP_UID = 10001;

export type BackupJobName = "db-backup" | "client-config-export" | "secrets-export" | "app-config-export" | "restore-verification";

export interface BackupJobsArgs {
    jobs: BackupJobsConfig;
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
    /** Declare the namespace too (default false: the application's namespace exists). */
    createNamespace?: boolean;
}

interface JobSpec {
    name: BackupJobName;
    script: string;
    dataClass: "database" | "clients" | "secrets" | "config" | "verification";
    schedule: string;
    suspended: boolean;
    startingDeadlineSeconds: number;
    activeDeadlineSeconds: number;
    backoffLimit: number;
    resources: { requests: { cpu: string; memory: string }; limits: { cpu: string; memory: string } };
    /** Size limit of the /tmp emptyDir. */
    scratch: string;
    /** The job calls the Kubernetes API (kubectl): it needs the ServiceAccount token. */
    kubernetesApi: boolean;
    env: k8sInput.core.v1.EnvVar[];
}

const WINDOW = /^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$/;
const AWS_REGION = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/;

/** Minutes after midnight of the window's start and end; the end may be past midnight (then end < start). */
function parseWindow(window: string): { start: number; end: number } {
    const m = WINDOW.exec(window);
    if (!m) {
        throw new Error(`backupWindow "${window}" is not hh:mm-hh:mm in UTC, e.g. 03:00-04:00`);
    }
    return { start: Number(m[1]) * 60 + Number(m[2]), end: Number(m[3]) * 60 + Number(m[4]) };
}

function insideWindow(minuteOfDay: number, window: { start: number; end: number }): boolean {
    return window.start <= window.end
        ? minuteOfDay >= window.start && minuteOfDay < window.end
        : minuteOfDay >= window.start || minuteOfDay < window.end;
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
        if (insideWindow(at.getUTCHours() * 60 + at.getUTCMinutes(), window)) {
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
    if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(args.databaseName ?? "")) {
        problems.push(`databaseName "${args.databaseName}" is not a PostgreSQL database name`);
    }
    if (!/^arn:aws[a-z-]*:iam::\d{12}:oidc-provider\/.+$/.test(jobs.oidcProviderArn ?? "")) {
        problems.push(`backupJobs.oidcProviderArn "${jobs.oidcProviderArn ?? ""}" is not an IAM OIDC provider ARN (needed for the jobs' IRSA role)`);
    }
    if (!/^[a-z0-9.-]+(\/[A-Za-z0-9._-]+)*$/.test(jobs.oidcProviderUrl ?? "")) {
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
    if (windowOk && problems.every((p) => !p.startsWith("backupJobs.schedules.dbBackup"))) {
        const clash = runInsideWindow(schedules.dbBackup, args.backupWindow);
        if (clash) {
            const hhmm = clash.toISOString().slice(11, 16);
            problems.push(`backupJobs.schedules.dbBackup "${schedules.dbBackup}" runs at ${hhmm} UTC, inside the RDS backup window ${args.backupWindow}; schedule it after the window ends`);
        }
    }
    if (args.verificationMode !== undefined && args.verificationMode !== "dump" && args.verificationMode !== "snapshot") {
        problems.push(`verificationMode must be dump or snapshot, not "${String(args.verificationMode)}"`);
    }
    if (problems.length > 0) {
        throw new Error(`BackupJobs: invalid arguments:\n  - ${problems.join("\n  - ")}`);
    }
}

/** The scripts ConfigMap's data: every scripts/*.sh, read at plan time. */
export function readScripts(dir = SCRIPTS_DIR): Record<string, string> {
    const files = fs.readdirSync(dir).filter((f) => f.endsWith(".sh")).sort();
    if (!files.includes("lib.sh") || !files.includes("db-backup.sh")) {
        throw new Error(`BackupJobs: ${dir} does not hold the backup scripts`);
    }
    return Object.fromEntries(files.map((f) => [f, fs.readFileSync(path.join(dir, f), "utf8")]));
}

export class BackupJobs extends pulumi.ComponentResource {
    readonly namespace: string;
    readonly serviceAccountName: pulumi.Output<string>;
    readonly roleArn: pulumi.Output<string>;
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

        const ns = BACKUP_NAMESPACE;
        const saName = "oauth2-dr-backup";
        const provider = args.provider ?? (args.jobs.kubeconfig ? new Provider(`${name}-cluster`, { kubeconfig: args.jobs.kubeconfig }, { parent: this }) : undefined);
        const k8sOpts: pulumi.CustomResourceOptions = { parent: this, provider };
        const commonLabels = {
            "app.kubernetes.io/name": "oauth2-dr-backup",
            "app.kubernetes.io/part-of": "oauth2-server",
            "app.kubernetes.io/component": "backup",
            "app.kubernetes.io/managed-by": "pulumi",
        };

        let namespaceDependency: pulumi.Resource[] = [];
        if (args.createNamespace) {
            namespaceDependency = [new corev1.Namespace(`${name}-namespace`, { metadata: { name: ns, labels: commonLabels } }, k8sOpts)];
        }
        const nsOpts: pulumi.CustomResourceOptions = { ...k8sOpts, dependsOn: namespaceDependency };

        // --- IAM role for the ServiceAccount (IRSA) -------------------------------------------------------
        const issuer = args.jobs.oidcProviderUrl;
        const role = new iam.Role(`${name}-irsa`, {
            description: `oauth2-dr backup CronJobs (system:serviceaccount:${ns}:${saName})`,
            assumeRolePolicy: pulumi.jsonStringify({
                Version: "2012-10-17",
                Statement: [{
                    Sid: "BackupJobsServiceAccount",
                    Effect: "Allow",
                    Principal: { Federated: args.jobs.oidcProviderArn },
                    Action: "sts:AssumeRoleWithWebIdentity",
                    Condition: {
                        StringEquals: {
                            [`${issuer}:sub`]: `system:serviceaccount:${ns}:${saName}`,
                            [`${issuer}:aud`]: "sts.amazonaws.com",
                        },
                    },
                }],
            }),
            maxSessionDuration: 3600 * 6,
            tags: { ...args.tags, "oauth2-dr/component": "backup-jobs" },
        }, { parent: this });

        const bucketArn = pulumi.output(args.bucketArn);
        const rdsArn = (kind: string, id: pulumi.Input<string>) => pulumi.interpolate`arn:aws:rds:${args.region}:*:${kind}:${id}`;
        new iam.RolePolicy(`${name}-irsa-policy`, {
            role: role.id,
            policy: pulumi.jsonStringify({
                Version: "2012-10-17",
                Statement: [
                    {
                        Sid: "ListOwnPrefixes",
                        Effect: "Allow",
                        Action: "s3:ListBucket",
                        Resource: bucketArn,
                        Condition: { StringLike: { "s3:prefix": JOB_PREFIXES.flatMap((p) => [p, `${p}*`]) } },
                    },
                    {
                        Sid: "ReadWriteOwnPrefixes",
                        Effect: "Allow",
                        Action: ["s3:PutObject", "s3:GetObject", "s3:AbortMultipartUpload"],
                        Resource: JOB_PREFIXES.map((p) => pulumi.interpolate`${bucketArn}/${p}*`),
                    },
                    {
                        // A failed db-backup hides its partial dump behind a delete marker. No DeleteObjectVersion:
                        // the role cannot destroy a stored version.
                        Sid: "HideFailedDumps",
                        Effect: "Allow",
                        Action: "s3:DeleteObject",
                        Resource: pulumi.interpolate`${bucketArn}/database/*`,
                    },
                    {
                        Sid: "ReadNamedSecrets",
                        Effect: "Allow",
                        Action: "secretsmanager:GetSecretValue",
                        Resource: [args.secretArns.jwkPrivateKey, args.secretArns.dbCredentials, args.secretArns.backupPassphrase],
                    },
                    {
                        Sid: "UseBackupKeys",
                        Effect: "Allow",
                        Action: ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"],
                        Resource: args.kmsKeyArns,
                    },
                    {
                        Sid: "VerificationInstancesOnly",
                        Effect: "Allow",
                        Action: ["rds:RestoreDBInstanceFromDBSnapshot", "rds:DeleteDBInstance", "rds:DescribeDBInstances", "rds:AddTagsToResource"],
                        Resource: `arn:aws:rds:${args.region}:*:db:oauth2-backup-test-*`,
                    },
                    {
                        // RestoreDBInstanceFromDBSnapshot is also authorised on the snapshot and the groups it uses.
                        Sid: "VerificationRestoreSources",
                        Effect: "Allow",
                        Action: "rds:RestoreDBInstanceFromDBSnapshot",
                        Resource: [
                            rdsArn("snapshot", "*"),
                            rdsArn("subgrp", "*"),
                            rdsArn("og", "*"),
                            rdsArn("pg", "*"),
                        ],
                    },
                    {
                        Sid: "DescribeSourceSnapshots",
                        Effect: "Allow",
                        Action: ["rds:DescribeDBSnapshots"],
                        Resource: [rdsArn("db", args.dbInstanceIdentifier), rdsArn("snapshot", "*")],
                    },
                ],
            }),
        }, { parent: this });

        // --- Kubernetes identity and RBAC ---------------------------------------------------------------
        const serviceAccount = new corev1.ServiceAccount(`${name}-sa`, {
            metadata: {
                name: saName,
                namespace: ns,
                labels: commonLabels,
                annotations: { "eks.amazonaws.com/role-arn": role.arn, "eks.amazonaws.com/sts-regional-endpoints": "true" },
            },
            automountServiceAccountToken: false,
        }, nsOpts);

        const rbacRole = new rbacv1.Role(`${name}-rbac`, {
            metadata: { name: "oauth2-dr-backup-exports", namespace: ns, labels: commonLabels },
            rules: [
                { apiGroups: [""], resources: ["secrets"], resourceNames: [SERVER_SECRET], verbs: ["get"] },
                { apiGroups: [""], resources: ["configmaps"], verbs: ["list"] },
            ],
        }, nsOpts);
        new rbacv1.RoleBinding(`${name}-rbac`, {
            metadata: { name: "oauth2-dr-backup-exports", namespace: ns, labels: commonLabels },
            roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: rbacRole.metadata.name },
            subjects: [{ kind: "ServiceAccount", name: serviceAccount.metadata.name, namespace: ns }],
        }, nsOpts);

        // --- Scripts -------------------------------------------------------------------------------------
        const scriptsHash = createHash("sha256").update(JSON.stringify(scripts)).digest("hex").slice(0, 16);
        const scriptsMap = new corev1.ConfigMap(`${name}-scripts`, {
            metadata: { name: "oauth2-dr-backup-scripts", namespace: ns, labels: commonLabels, annotations: { "oauth2-dr/scripts-sha256": scriptsHash } },
            data: scripts,
        }, nsOpts);

        // --- CronJobs ------------------------------------------------------------------------------------
        const suspendBackups = args.role === "standby" && !args.promoted;
        const verificationMode = args.verificationMode ?? (suspendBackups ? "snapshot" : "dump");
        const s = args.jobs.schedules;
        const env = (pairs: Record<string, pulumi.Input<string>>): k8sInput.core.v1.EnvVar[] =>
            Object.entries(pairs).map(([name, value]) => ({ name, value }));
        const awsEnv = env({ BUCKET: args.bucketName, AWS_REGION: args.region, AWS_DEFAULT_REGION: args.region, AWS_STS_REGIONAL_ENDPOINTS: "regional" });
        const passphraseEnv = env({ BACKUP_PASSPHRASE_SECRET_ID: args.secretArns.backupPassphrase });
        const dbEnv = env({
            PGHOST: args.databaseHost,
            PGPORT: String(args.databasePort ?? 5432),
            PGDATABASE: args.databaseName,
            PGSSLMODE: args.sslMode ?? "require",
            PGCONNECT_TIMEOUT: "30",
            PGAPPNAME: "oauth2-dr-backup",
            DB_CREDENTIALS_SECRET_ID: args.secretArns.dbCredentials,
        });
        const small = { requests: { cpu: "50m", memory: "128Mi" }, limits: { cpu: "500m", memory: "256Mi" } };
        const large = { requests: { cpu: "500m", memory: "256Mi" }, limits: { cpu: "2", memory: "768Mi" } };
        const specs: JobSpec[] = [
            {
                name: "db-backup", script: "db-backup.sh", dataClass: "database", schedule: s.dbBackup, suspended: suspendBackups,
                startingDeadlineSeconds: 3600, activeDeadlineSeconds: 4 * 3600, backoffLimit: 2, resources: large, scratch: "64Mi", kubernetesApi: false,
                env: [...awsEnv, ...dbEnv, ...passphraseEnv],
            },
            {
                name: "client-config-export", script: "client-config-export.sh", dataClass: "clients", schedule: s.clientConfigExport, suspended: suspendBackups,
                startingDeadlineSeconds: 300, activeDeadlineSeconds: 600, backoffLimit: 1, resources: small, scratch: "256Mi", kubernetesApi: false,
                env: [...awsEnv, ...dbEnv, ...passphraseEnv],
            },
            {
                name: "secrets-export", script: "secrets-export.sh", dataClass: "secrets", schedule: s.secretsExport, suspended: suspendBackups,
                startingDeadlineSeconds: 3600, activeDeadlineSeconds: 900, backoffLimit: 2, resources: small, scratch: "64Mi", kubernetesApi: true,
                env: [...awsEnv, ...passphraseEnv, ...env({
                    NAMESPACE: ns,
                    K8S_SECRET_NAME: SERVER_SECRET,
                    JWK_SECRET_ID: args.secretArns.jwkPrivateKey,
                    JWKS_URL: args.jwksUrl ?? "http://oauth2-server:9000/oauth2/jwks",
                })],
            },
            {
                name: "app-config-export", script: "app-config-export.sh", dataClass: "config", schedule: s.appConfigExport, suspended: suspendBackups,
                startingDeadlineSeconds: 600, activeDeadlineSeconds: 600, backoffLimit: 1, resources: small, scratch: "64Mi", kubernetesApi: true,
                env: [...awsEnv, ...env({ NAMESPACE: ns })],
            },
            {
                name: "restore-verification", script: "restore-verification.sh", dataClass: "verification", schedule: s.restoreVerification, suspended: false,
                startingDeadlineSeconds: 6 * 3600, activeDeadlineSeconds: 6 * 3600, backoffLimit: 0, resources: large, scratch: "64Mi", kubernetesApi: false,
                env: [...awsEnv, ...dbEnv, ...passphraseEnv, ...env({
                    VERIFY_MODE: verificationMode,
                    DB_INSTANCE_IDENTIFIER: args.dbInstanceIdentifier,
                    VERIFY_INSTANCE_CLASS: args.verificationInstanceClass ?? "db.t3.medium",
                })],
            },
        ];

        const cronJobs = specs.map((job) => {
            const labels = {
                ...commonLabels,
                "oauth2-dr/backup": "true",
                "oauth2-dr/data-class": job.dataClass,
                "oauth2-dr/job": job.name,
            };
            return new batchv1.CronJob(`${name}-${job.name}`, {
                metadata: {
                    name: job.name,
                    namespace: ns,
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
                                metadata: { labels, annotations: { "oauth2-dr/scripts-sha256": scriptsHash } },
                                spec: {
                                    serviceAccountName: serviceAccount.metadata.name,
                                    automountServiceAccountToken: job.kubernetesApi,
                                    restartPolicy: "Never",
                                    // The scripts stop their pipelines, hide partial uploads and drop scratch databases on SIGTERM.
                                    terminationGracePeriodSeconds: 120,
                                    securityContext: {
                                        runAsNonRoot: true,
                                        runAsUser: BACKUP_UID,
                                        runAsGroup: BACKUP_UID,
                                        fsGroup: BACKUP_UID,
                                        seccompProfile: { type: "RuntimeDefault" },
                                    },
                                    containers: [{
                                        name: job.name,
                                        image: args.jobs.image,
                                        imagePullPolicy: "IfNotPresent",
                                        command: ["bash", `${SCRIPTS_MOUNT}/${job.script}`],
                                        env: [...job.env, ...env({ HOME: "/tmp", TMPDIR: "/tmp" })],
                                        resources: job.resources,
                                        securityContext: {
                                            runAsNonRoot: true,
                                            runAsUser: BACKUP_UID,
                                            runAsGroup: BACKUP_UID,
                                            readOnlyRootFilesystem: true,
                                            allowPrivilegeEscalation: false,
                                            privileged: false,
                                            capabilities: { drop: ["ALL"] },
                                            seccompProfile: { type: "RuntimeDefault" },
                                        },
                                        volumeMounts: [
                                            { name: "scripts", mountPath: SCRIPTS_MOUNT, readOnly: true },
                                            { name: "tmp", mountPath: "/tmp" },
                                        ],
                                    }],
                                    volumes: [
                                        { name: "scripts", configMap: { name: scriptsMap.metadata.name, defaultMode: 0o555 } },
                                        // Scratch in memory: GNUPGHOME, fifos, small encrypted exports; never a full-size dump.
                                        { name: "tmp", emptyDir: { medium: "Memory", sizeLimit: job.scratch } },
                                    ],
                                },
                            },
                        },
                    },
                },
            }, nsOpts);
        });

        this.namespace = ns;
        this.serviceAccountName = serviceAccount.metadata.name;
        this.roleArn = role.arn;
        this.scriptsConfigMapName = scriptsMap.metadata.name;
        this.schedules = Object.fromEntries(specs.map((j) => [j.name, j.schedule])) as Record<BackupJobName, string>;
        this.suspendedJobs = specs.filter((j) => j.suspended).map((j) => j.name);
        this.cronJobNames = pulumi.all(cronJobs.map((c) => c.metadata.name));
        this.registerOutputs({
            namespace: this.namespace,
            serviceAccountName: this.serviceAccountName,
            roleArn: this.roleArn,
            scriptsConfigMapName: this.scriptsConfigMapName,
            cronJobNames: this.cronJobNames,
            schedules: this.schedules,
            suspendedJobs: this.suspendedJobs,
        });
    }
}
