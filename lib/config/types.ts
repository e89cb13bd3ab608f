/**
 * The validated configuration of one stack, what the compositions in stacks/ read. The enumerations come
 * from the schema (schema.ts); derived values (region, storage regions, maintenanceStart) are computed in
 * parse.ts once every key is valid.
 */
import type { Cloud } from "../clouds";
import type { Retention } from "../retention";
import type { BackupJobResources, BackupJobSchedules } from "../schedule";
import type { AZURE_SKU_TIERS, ENVIRONMENTS, GCP_EDITIONS, OBJECT_LOCK_MODES, ROLES } from "./schema";

export type { Cloud };

export type Role = (typeof ROLES)[number];
export type Environment = (typeof ENVIRONMENTS)[number];

export interface BackupJobsConfig {
    enabled: boolean;
    /** Path to a kubeconfig file, or the kubeconfig itself; empty means the ambient kubeconfig. */
    kubeconfig?: string;
    image: string;
    schedules: BackupJobSchedules;
    resources: BackupJobResources;
    /** The EKS cluster's IAM OIDC provider, for IRSA. */
    oidcProviderArn: string;
    oidcProviderUrl: string;
}

/** Azure PostgreSQL Flexible Server settings (cloud: azure). */
export interface AzureConfig {
    /** Resource group of the server: oauth2-prod-rg for prod, the standby's own group in the DR region. */
    resourceGroup: string;
    /** true: the stack declares the resource group; false: it exists already and is only referenced by name. */
    createResourceGroup: boolean;
    skuName: string;
    skuTier: (typeof AZURE_SKU_TIERS)[number];
    /** VNet integration: a subnet delegated to Microsoft.DBforPostgreSQL/flexibleServers, and its private DNS zone. */
    delegatedSubnetId?: string;
    privateDnsZoneId?: string;
}

/** Google Cloud SQL settings (cloud: gcp). */
export interface GcpConfig {
    project: string;
    tier: string;
    edition: (typeof GCP_EDITIONS)[number];
    /** VPC network (projects/P/global/networks/N) of the private IP; the instance has no public IP. */
    privateNetwork: string;
    /** Days of transaction logs kept for point-in-time recovery: 1-7 (ENTERPRISE), 1-35 (ENTERPRISE_PLUS). */
    transactionLogRetentionDays: number;
    /** Multi-region or region where backups are stored (e.g. "us"); empty means the instance's multi-region. */
    backupLocation?: string;
}

/** The runbook's "Database Restore" section as configuration: one of the two modes. */
export type RestoreConfig =
    | { mode: "snapshot"; fromSnapshot: string }
    | { mode: "pointInTime"; pointInTime: string };

export interface AwsBackupConfig {
    /** AWS Backup vaults, plan and selection (aws primary stacks). */
    enabled: boolean;
    /** Grace period of the vault lock before it becomes immutable (compliance mode), in days (3-36500). */
    changeableForDays: number;
}

export interface AlarmsConfig {
    /** SNS topic in this stack's region that every alarm notifies. */
    topicArn?: string;
    /** SNS topic in us-east-1 for the Route 53 health-check alarm (Route 53 metrics only exist there). */
    healthCheckTopicArn?: string;
}

export interface AppDatabaseSecretConfig {
    /** Declare the application's DATABASE_URL secret (prod always, dr once promoted). */
    enabled: boolean;
    /** Always StackConfig.serverNamespace: the Secret lives beside the server it configures. */
    namespace: string;
    name: string;
}

/** S3 Object Lock of the backup buckets: the default retention every new object version gets. */
export interface ObjectLockConfig {
    /** COMPLIANCE (nobody, root included, can shorten or delete) in production; GOVERNANCE elsewhere. */
    mode: (typeof OBJECT_LOCK_MODES)[number];
    /** Default retention in days: the table's database row unless raised (never above retention.database). */
    days: number;
    /** The longest time between two rotations of the server's secrets: secrets/ objects are locked N x this (lib/object-lock.ts). */
    secretRotationDays: number;
}

/** role: vault, the isolated account that keeps the copies production credentials cannot delete. */
export interface VaultConfig {
    /** The vault account: the stack's AWS provider refuses credentials of any other account. */
    accountId: string;
    /** Credentials of the vault account: a named profile and/or a role to assume there. */
    profile?: string;
    assumeRoleArn?: string;
    /** Accounts whose AWS Backup may copy recovery points into the vault (prod's account). */
    sourceAccountIds: string[];
    /** The S3 replication roles (prod's and dr's) the vault bucket accepts replicas from; nobody else may write. */
    replicationRoleArns: string[];
    /** Roles of the vault account that may read the bucket and the vault's secrets for a restore. */
    restoreRoleArns: string[];
    /** IRSA roles of prod's and dr's restore-verification jobs: the only principals that may assume the vault's verification key-reader role. */
    verificationRoleArns: string[];
    /** true: an AWS Backup logically air-gapped vault; false: a standard vault with a compliance vault lock. */
    airGapped: boolean;
    /** Grace period of the vault lock (airGapped: false) before it becomes immutable. */
    changeableForDays: number;
}

/** One gpg recipient of the backups: its 40-hex v4 fingerprint and, when the configuration gave it, its armored public key. */
export interface BackupRecipient {
    fingerprint: string;
    /** Absent: a fingerprint whose armored key the vault stack publishes (its `backupPublicKeys` output). */
    armor?: string;
}

/**
 * How the dumps and exports are encrypted. public-key: gpg to `recipients` (the jobs hold public keys only; the
 * private keys live in the vault account); symmetric: the passphrase secret of the production account.
 */
export interface BackupEncryptionConfig {
    mode: "public-key" | "symmetric";
    recipients: BackupRecipient[];
    /** public-key mode with no recipients given: every key the vault stack publishes. */
    allFromVault: boolean;
}

export interface StackConfig {
    project: string;
    stack: string;
    cloud: Cloud;
    role: Role;
    environment: Environment;
    primaryRegion: string;
    drRegion: string;
    /** The region this stack's resources live in: the primary region for `primary`, the DR region for `standby`. */
    region: string;
    /**
     * AWS regions of the backup storage (bucket, Secrets Manager, audit logs), used on every cloud: the
     * runbook keeps backups in S3 and keys in Secrets Manager whatever runs PostgreSQL. On aws they are the
     * primary and DR regions; on azure/gcp, `awsPrimaryRegion` and `awsDrRegion`.
     */
    storage: { primaryRegion: string; drRegion: string; region: string };
    /** Public name of the authorization server, e.g. auth.example.com. */
    domain: string;
    hostedZoneId: string;
    /** This region's ingress host name (load balancer), which the failover record points at. */
    regionalEndpoint: string;
    backupWindow: string;
    maintenanceWindow: string;
    instanceClass: string;
    engineVersion: string;
    allocatedStorageGb: number;
    maxAllocatedStorageGb: number;
    subnetIds: string[];
    securityGroupIds: string[];
    tags: Record<string, string>;
    retention: Retention;
    secretRecoveryWindowDays: number;
    /** Fully qualified name of the prod stack, read by the standby stack through a StackReference. */
    primaryStack?: string;
    /** Standby only: promote the cross-region replica to a standalone primary (regional failover). */
    promote: boolean;
    backupJobs: BackupJobsConfig;
    /** Whether the stack declares the Route 53 failover record (always on aws; on azure/gcp when hostedZoneId is set). */
    dnsFailover: boolean;
    /** The backup window's start, hh24:mi UTC (Cloud SQL's backup start time). */
    backupStartTime: string;
    /** The maintenance window's start: day of week (0 = Sunday), hour and minute in UTC. */
    maintenanceStart: { dayOfWeek: number; hour: number; minute: number };
    azure?: AzureConfig;
    gcp?: GcpConfig;
    restore?: RestoreConfig;
    /** Manual snapshots (AWS) / on-demand backups (Azure) declared as resources of the running instance. */
    manualSnapshots: string[];
    awsBackup: AwsBackupConfig;
    alarms: AlarmsConfig;
    /**
     * The authorization server's namespace (serverNamespace, else appDatabaseSecret.namespace, else oauth2-system):
     * its DATABASE_URL Secret, and what secrets-export and app-config-export read (RBAC granted there to the
     * jobs' ServiceAccounts, which stay in oauth2-system with the CronJobs).
     */
    serverNamespace: string;
    appDatabaseSecret: AppDatabaseSecretConfig;
    objectLock: ObjectLockConfig;
    /** The break-glass role: the only principal the deletion guards (secrets, keys) let delete or re-policy. */
    breakGlassRoleArn?: string;
    /** organization/project/stack of the vault stack, read through a StackReference (prod, dr, azure, gcp). */
    vaultStack?: string;
    vault?: VaultConfig;
    backupEncryption: BackupEncryptionConfig;
}

