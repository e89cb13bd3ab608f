/**
 * The stack configuration's schema: every key of the `oauth2-dr` namespace with its kind (as Pulumi.yaml
 * declares it), its default and the zod schema of its value, nested keys included (backupJobs.schedules.<job>,
 * backupJobs.resources.<job>.limits.memory, ...). The defaults live here and only here (FIELDS and
 * SECTION_DEFAULTS; the components get them through the parsed configuration); test/config-schema.test.ts
 * proves that Pulumi.yaml declares the same keys, kinds and defaults, and pins every default. Rules between
 * keys (regions, windows, restore times, what a cloud or role requires) are in rules/, run by refinements.ts.
 */
import { z } from "zod";
import { CLOUDS } from "../clouds";
import { AWS_REGION, DAILY_WINDOW, HOSTNAME, KUBERNETES_NAME, OIDC_ISSUER, OIDC_PROVIDER_ARN, WEEKLY_WINDOW } from "../formats";
import { BackupJobResources, BackupJobSchedules, ContainerResources, validateCron } from "../schedule";
import { SECRETS_MANAGER_RECOVERY_WINDOW_DAYS } from "../retention";
import { boolean, closedObject, integer, jsonMap, matching, namedMap, oneOf, section, stringList, stringMap, text } from "./fields";

export const PROJECT = "oauth2-dr";

export const ROLES = ["primary", "standby", "vault"] as const;
export const OBJECT_LOCK_MODES = ["COMPLIANCE", "GOVERNANCE"] as const;
/** backupEncryption.mode: gpg to public-key recipients (writers cannot read), or the symmetric passphrase of Secrets Manager. */
export const ENCRYPTION_MODES = ["public-key", "symmetric"] as const;
export const ENVIRONMENTS = ["production", "staging", "development"] as const;
export const AZURE_SKU_TIERS = ["Burstable", "GeneralPurpose", "MemoryOptimized"] as const;
export const GCP_EDITIONS = ["ENTERPRISE", "ENTERPRISE_PLUS"] as const;

/** The cron schedule of each backup CronJob, by configuration key (`oauth2-dr:backupJobs.schedules.<key>`). */
export const DEFAULT_SCHEDULES: Readonly<BackupJobSchedules> = Object.freeze({
    // Daily, one hour after the end of the default 03:00-04:00 backup window.
    dbBackup: "0 5 * * *",
    // "On change": poll every 15 minutes, export only when the content hash changed.
    clientConfigExport: "*/15 * * * *",
    secretsExport: "30 5 * * *",
    appConfigExport: "*/30 * * * *",
    // Monthly, first day of the month.
    restoreVerification: "0 6 1 * *",
});

/** The backup jobs, by their configuration keys. */
export const BACKUP_JOB_KEYS = Object.keys(DEFAULT_SCHEDULES) as ReadonlyArray<keyof BackupJobSchedules>;

/** The exports' size: a bounded query or kubectl read, encrypted in memory. */
const SMALL_JOB: ContainerResources = { requests: { cpu: "50m", memory: "128Mi" }, limits: { cpu: "500m", memory: "256Mi" } };
/** pg_dump, or a restore into a scratch database, streamed through gpg and zstd. */
const LARGE_JOB: ContainerResources = { requests: { cpu: "500m", memory: "256Mi" }, limits: { cpu: "2", memory: "768Mi" } };

/** The CPU and memory of each backup CronJob's container (`oauth2-dr:backupJobs.resources.<key>`). */
export const DEFAULT_JOB_RESOURCES: Readonly<BackupJobResources> = Object.freeze({
    dbBackup: LARGE_JOB,
    clientConfigExport: SMALL_JOB,
    secretsExport: SMALL_JOB,
    appConfigExport: SMALL_JOB,
    restoreVerification: LARGE_JOB,
});

const cron = text.superRefine((expression, ctx) => {
    try {
        validateCron(expression);
    } catch (err) {
        ctx.addIssue({ code: "custom", message: (err as Error).message });
    }
});

/** Kubernetes quantities: "500m" or "2" CPUs; "256Mi", "1Gi" or bytes of memory. */
const quantities = closedObject({
    cpu: matching(/^(\d+m|\d+(\.\d+)?)$/, (v) => `"${v}" is not a CPU quantity such as 500m or 2`).optional(),
    memory: matching(/^\d+(\.\d+)?(Ki|Mi|Gi|Ti|k|M|G|T)?$/, (v) => `"${v}" is not a memory quantity such as 256Mi or 1Gi`).optional(),
});

const QUANTITY_UNITS: Record<string, number> = { m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40 };

/** A Kubernetes quantity as a number (CPUs, bytes), for comparing a request with its limit. */
function quantityValue(quantity: string): number {
    const m = /^(\d+(?:\.\d+)?)([a-zA-Z]*)$/.exec(quantity);
    return m ? Number(m[1]) * (QUANTITY_UNITS[m[2]] ?? 1) : NaN;
}

/** Each job's requests over its limits, the defaults filled in: Kubernetes refuses a request above its limit. */
function requestsWithinLimits(resources: Partial<Record<string, { requests?: { cpu?: string; memory?: string }; limits?: { cpu?: string; memory?: string } }>>, ctx: z.RefinementCtx): void {
    for (const [job, given] of Object.entries(resources)) {
        const defaults = DEFAULT_JOB_RESOURCES[job as keyof BackupJobResources];
        if (!defaults || !given) {
            continue;
        }
        for (const kind of ["cpu", "memory"] as const) {
            const request = given.requests?.[kind] ?? defaults.requests[kind];
            const limit = given.limits?.[kind] ?? defaults.limits[kind];
            if (quantityValue(request) > quantityValue(limit)) {
                const where = given.requests?.[kind] !== undefined ? "requests" : "limits";
                ctx.addIssue({ code: "custom", path: [job, where, kind], message: `the ${kind} request ${request} is above the limit ${limit}; Kubernetes refuses such a container` });
            }
        }
    }
}

/** backupJobs: the CronJobs' image, cluster, schedules, container resources and OIDC provider. */
const backupJobsShape = {
    enabled: boolean.optional(),
    kubeconfig: text.optional(),
    image: text.optional(),
    schedules: namedMap("job", BACKUP_JOB_KEYS, cron).optional(),
    resources: namedMap("job", BACKUP_JOB_KEYS, closedObject({ requests: quantities.optional(), limits: quantities.optional() })).superRefine(requestsWithinLimits).optional(),
    oidcProviderArn: matching(OIDC_PROVIDER_ARN, (v) => `"${v}" is not an IAM OIDC provider ARN`).optional(),
    oidcProviderUrl: matching(OIDC_ISSUER, (v) => `"${v}" is not an OIDC issuer without https://, e.g. oidc.eks.us-east-1.amazonaws.com/id/ABC`).optional(),
};
const backupJobsSection = section(backupJobsShape);

/** azure: Flexible Server settings (cloud: azure). */
const azureShape = {
    resourceGroup: matching(/^[-\w._()]{1,89}[-\w_()]$/, (v) => `"${v}" is not an Azure resource group name`).optional(),
    createResourceGroup: boolean.optional(),
    skuName: matching(/^Standard_[A-Za-z0-9_]+$/, (v) => `"${v}" is not a Flexible Server compute size such as Standard_D4ds_v5`).optional(),
    skuTier: oneOf(AZURE_SKU_TIERS).optional(),
    delegatedSubnetId: matching(/^\/subscriptions\/[0-9a-f-]{36}\/resourceGroups\/[^/]+\/providers\/.+$/i, (v) => `"${v}" is not a subnet resource id (/subscriptions/.../subnets/...)`).optional(),
    privateDnsZoneId: matching(/^\/subscriptions\/[0-9a-f-]{36}\/resourceGroups\/[^/]+\/providers\/.+$/i, (v) => `"${v}" is not a private DNS zone resource id`).optional(),
};
const azureSection = section(azureShape);

/** gcp: Cloud SQL settings (cloud: gcp). */
const gcpShape = {
    project: matching(/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/, (v) => `"${v}" is not a Google Cloud project id`).optional(),
    tier: matching(/^db-[a-z0-9]+(-[A-Za-z0-9]+)*$/, (v) => `"${v}" is not a Cloud SQL machine tier such as db-custom-4-16384`).optional(),
    edition: oneOf(GCP_EDITIONS).optional(),
    privateNetwork: matching(/^projects\/[a-z][a-z0-9-]+\/global\/networks\/[a-z][a-z0-9-]*$/, (v) => `"${v}" is not a VPC network such as projects/my-project/global/networks/oauth2-vpc`).optional(),
    // 1-35 here; ENTERPRISE allows 1-7, a rule between keys (rules/clouds.ts).
    transactionLogRetentionDays: integer(1, 35).optional(),
    backupLocation: matching(/^[a-z]+(-[a-z]+\d)?$/, (v) => `"${v}" is not a Cloud Storage location such as us or us-central1`).optional(),
};
const gcpSection = section(gcpShape);

/** Inside a section (its JSON already parsed): a list of strings, each matching `pattern`. */
function listOf(pattern: RegExp, what: string) {
    return z.array(z.string(), { error: () => `must be a list of ${what}` }).superRefine((list, ctx) => {
        const bad = list.find((v) => !pattern.test(v));
        if (bad !== undefined) {
            ctx.addIssue({ code: "custom", message: `"${bad}" is not a valid ${what.replace(/s$/, "")}` });
        }
    });
}

/** objectLock: the backup buckets' default retention (mode and days); defaults follow the environment and the table. */
const objectLockShape = { mode: oneOf(OBJECT_LOCK_MODES).optional(), days: integer(1, 36500).optional(), secretRotationDays: integer(1, 3650).optional() };
const objectLockSection = section(objectLockShape);

export const IAM_ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;
const ACCOUNT_ID = /^\d{12}$/;

/** vault: the isolated vault account (role: vault) and who may replicate into it. */
const vaultShape = {
    accountId: matching(ACCOUNT_ID, (v) => `"${v}" is not a 12-digit AWS account id`).optional(),
    profile: text.optional(),
    assumeRoleArn: matching(IAM_ROLE_ARN, (v) => `"${v}" is not an IAM role ARN`).optional(),
    sourceAccountIds: listOf(ACCOUNT_ID, "12-digit AWS account ids").optional(),
    replicationRoleArns: listOf(IAM_ROLE_ARN, "IAM role ARNs").optional(),
    restoreRoleArns: listOf(IAM_ROLE_ARN, "IAM role ARNs").optional(),
    verificationRoleArns: listOf(IAM_ROLE_ARN, "IAM role ARNs").optional(),
    airGapped: boolean.optional(),
    changeableForDays: integer(3, 36500).optional(),
};
const vaultSection = section(vaultShape);

/**
 * backupEncryption: the mode and the recipients. A recipient is an armored public key or a 40-hex fingerprint;
 * each is checked (armor, fingerprint, duplicates, a private key pasted by mistake) in rules/encryption.ts.
 * The JSON is parsed here without the usual echo of a malformed value: it may hold a pasted private key.
 */
const backupEncryptionShape = {
    mode: oneOf(ENCRYPTION_MODES).optional(),
    recipients: z.array(z.unknown(), { error: () => "must be a list of armored public keys or 40-hex fingerprints" }).optional(),
};
const backupEncryptionSection = z
    .string()
    .transform((raw, ctx): unknown => {
        try {
            return JSON.parse(raw);
        } catch {
            ctx.addIssue({ code: "custom", message: "is not valid structured configuration (a map with mode and recipients)" });
            return z.NEVER;
        }
    })
    .pipe(z.unknown().transform((value, ctx): Record<string, unknown> => {
        if (typeof value !== "object" || value === null || Array.isArray(value)) {
            ctx.addIssue({ code: "custom", message: `must be a map with the keys ${Object.keys(backupEncryptionShape).join(", ")}` });
            return z.NEVER;
        }
        return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== null && v !== undefined && v !== ""));
    }))
    .pipe(z.looseObject(backupEncryptionShape));

/** restore: one of fromSnapshot or pointInTime (checked against the cloud and the clock in rules/restore.ts). */
const restoreShape = { fromSnapshot: text.optional(), pointInTime: text.optional() };
const restoreSection = section(restoreShape);

const awsBackupShape = { enabled: boolean.optional(), changeableForDays: integer(3, 36500).optional() };
const awsBackupSection = section(awsBackupShape);

const K8S_NAME = KUBERNETES_NAME;
const k8sName = matching(K8S_NAME, (v) => `"${v}" is not a Kubernetes name (lowercase, digits, '-', at most 63)`);
/**
 * The namespace of the authorization server (its Deployment, its DATABASE_URL Secret, its secret
 * `oauth2-server-secrets` and ConfigMaps, which secrets-export and app-config-export back up) when neither
 * `serverNamespace` nor `appDatabaseSecret.namespace` names it. The backup CronJobs themselves always run in
 * components/backup-image-pods.ts BACKUP_NAMESPACE (the same name).
 */
export const DEFAULT_SERVER_NAMESPACE = "oauth2-system";
const appDatabaseSecretShape = {
    enabled: boolean.optional(),
    // The server's namespace: serverNamespace and appDatabaseSecret.namespace are one value (rules in refinements.ts).
    namespace: k8sName.optional(),
    name: k8sName.optional(),
};
const appDatabaseSecretSection = section(appDatabaseSecretShape);

/**
 * The sections that refuse a key they do not know: a typo there would silently change a database, or leave a
 * default in place (`backupJobs.enable: false` kept the jobs on, `awsBackup.enable: false` the AWS Backup plan).
 */
export const CLOSED_SECTIONS = {
    azure: Object.keys(azureShape),
    gcp: Object.keys(gcpShape),
    restore: Object.keys(restoreShape),
    objectLock: Object.keys(objectLockShape),
    vault: Object.keys(vaultShape),
    backupEncryption: Object.keys(backupEncryptionShape),
    backupJobs: Object.keys(backupJobsShape),
    awsBackup: Object.keys(awsBackupShape),
    appDatabaseSecret: Object.keys(appDatabaseSecretShape),
} as const;

const SNS_TOPIC = /^arn:aws[a-z-]*:sns:([a-z0-9-]+):\d{12}:[A-Za-z0-9_-]{1,256}$/;

/** How Pulumi.yaml declares a key's type ("object" for structured keys, which it leaves untyped). */
export type Kind = "string" | "integer" | "boolean" | "array" | "object";

interface Field<S extends z.ZodType> {
    kind: Kind;
    schema: S;
    /** Pulumi.yaml's default; absent for required keys. "" means "none" for optional strings. */
    default?: unknown;
}

function field<S extends z.ZodType>(kind: Kind, schema: S, defaultValue?: unknown): Field<S> {
    return defaultValue === undefined ? { kind, schema } : { kind, schema, default: defaultValue };
}

/** Every key of the namespace. Region and network formats depend on the cloud: rules/regions.ts and rules/dns-and-network.ts check them. */
export const FIELDS = {
    cloud: field("string", oneOf(CLOUDS), "aws"),
    role: field("string", oneOf(ROLES)),
    environment: field("string", oneOf(ENVIRONMENTS), "production"),
    primaryRegion: field("string", text),
    drRegion: field("string", text),
    domain: field("string", matching(HOSTNAME, (v) => `"${v}" is not a DNS name such as auth.example.com`)),
    hostedZoneId: field("string", matching(/^Z[A-Z0-9]{4,32}$/, (v) => `"${v}" is not a Route 53 hosted zone id (Z...)`)),
    regionalEndpoint: field("string", matching(HOSTNAME, (v) => `"${v}" is not a DNS name (the regional load balancer's host name)`)),
    backupWindow: field("string", matching(DAILY_WINDOW, (v) => `"${v}" is not hh24:mi-hh24:mi in UTC, e.g. 03:00-04:00`), "03:00-04:00"),
    maintenanceWindow: field("string", matching(WEEKLY_WINDOW, (v) => `"${v}" is not ddd:hh24:mi-ddd:hh24:mi in UTC, e.g. sun:05:00-sun:06:00`), "sun:05:00-sun:06:00"),
    instanceClass: field("string", text, "db.r6g.large"),
    engineVersion: field("string", matching(/^1[3-7](\.\d+)?$/, (v) => `"${v}" is not a supported PostgreSQL major version (13-17)`), "15"),
    allocatedStorageGb: field("integer", integer(20, 65536), 100),
    maxAllocatedStorageGb: field("integer", integer(20, 65536), 500),
    subnetIds: field("array", stringList(/^subnet-[0-9a-f]{8,17}$/, "subnet ids")),
    securityGroupIds: field("array", stringList(/^sg-[0-9a-f]{8,17}$/, "security group ids")),
    tags: field("object", stringMap, {}),
    retention: field("object", jsonMap("must be a map of data class to retention"), {}),
    secretRecoveryWindowDays: field("integer", integer(SECRETS_MANAGER_RECOVERY_WINDOW_DAYS.min, SECRETS_MANAGER_RECOVERY_WINDOW_DAYS.max), SECRETS_MANAGER_RECOVERY_WINDOW_DAYS.max),
    primaryStack: field("string", matching(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/, (v) => `"${v}" is not organization/project/stack`), ""),
    backupJobs: field("object", backupJobsSection, {}),
    promote: field("boolean", boolean, false),
    azure: field("object", azureSection, {}),
    gcp: field("object", gcpSection, {}),
    restore: field("object", restoreSection, {}),
    // The identifier format depends on the cloud (rules/restore.ts).
    manualSnapshots: field("array", stringList(/^/, "snapshot identifiers"), []),
    awsBackup: field("object", awsBackupSection, {}),
    alarmTopicArn: field("string", matching(SNS_TOPIC, (v) => `"${v}" is not an SNS topic ARN (arn:aws:sns:<region>:<account>:<name>)`), ""),
    healthCheckAlarmTopicArn: field("string", matching(SNS_TOPIC, (v) => `"${v}" is not an SNS topic ARN`), ""),
    appDatabaseSecret: field("object", appDatabaseSecretSection, {}),
    // "": appDatabaseSecret.namespace if set, else DEFAULT_SERVER_NAMESPACE (parse.ts serverNamespaceOf).
    serverNamespace: field("string", k8sName, ""),
    awsPrimaryRegion: field("string", matching(AWS_REGION, (v) => `"${v}" is not an AWS region name (the backup bucket, secrets and audit logs live in AWS)`), ""),
    awsDrRegion: field("string", matching(AWS_REGION, (v) => `"${v}" is not an AWS region name (the backup bucket, secrets and audit logs live in AWS)`), ""),
    objectLock: field("object", objectLockSection, {}),
    breakGlassRoleArn: field("string", matching(IAM_ROLE_ARN, (v) => `"${v}" is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)`), ""),
    vaultStack: field("string", matching(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/, (v) => `"${v}" is not organization/project/stack`), ""),
    vault: field("object", vaultSection, {}),
    backupEncryption: field("object", backupEncryptionSection, {}),
};

export type FieldName = keyof typeof FIELDS;

/** The parsed value of each key, as its schema infers it (undefined: not set, or not valid). */
export type Values = { -readonly [K in FieldName]?: z.output<(typeof FIELDS)[K]["schema"]> };

/** Defaults inside the structured keys. */
export const SECTION_DEFAULTS = {
    backupJobs: { enabled: true, image: "ghcr.io/oauth2-dr/backup:1.0.0", schedules: DEFAULT_SCHEDULES, resources: DEFAULT_JOB_RESOURCES },
    azure: { resourceGroup: "oauth2-prod-rg", createResourceGroup: true, skuName: "Standard_D4ds_v5", skuTier: "GeneralPurpose" },
    // Enterprise Plus: the only edition whose transaction log (the point-in-time window) reaches the database
    // row's 30 days (1-35 days; Enterprise keeps 1-7: https://cloud.google.com/sql/docs/mysql/backup-recovery/configure-pitr),
    // on its performance-optimized machine series (db-perf-optimized-N-<vCPUs>; 4 vCPUs as db-custom-4-16384 had).
    gcp: { tier: "db-perf-optimized-N-4", edition: "ENTERPRISE_PLUS", transactionLogRetentionDays: 30 },
    awsBackup: { changeableForDays: 3 },
    appDatabaseSecret: { enabled: true, namespace: DEFAULT_SERVER_NAMESPACE, name: "oauth2-database" },
    vault: { airGapped: true, changeableForDays: 3 },
    objectLock: { secretRotationDays: 90 },
} as const;

/** The gcp defaults when the stack sets edition ENTERPRISE: a custom machine and the 7 days of log that edition keeps at most. */
export const GCP_ENTERPRISE_DEFAULTS = { tier: "db-custom-4-16384", transactionLogRetentionDays: 7 } as const;

/** The tier and days of transaction log a gcp section gets for what it leaves out, by its edition. */
export function gcpDefaultsFor(edition: string | undefined): { tier: string; transactionLogRetentionDays: number } {
    return (edition ?? SECTION_DEFAULTS.gcp.edition) === "ENTERPRISE" ? GCP_ENTERPRISE_DEFAULTS : SECTION_DEFAULTS.gcp;
}

export { SNS_TOPIC };
