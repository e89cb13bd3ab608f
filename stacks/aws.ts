/**
 * The aws composition: prod (primary) and dr (standby) on RDS, Secrets Manager, S3, Route 53, AWS Backup
 * and CloudWatch.
 */
import * as pulumi from "@pulumi/pulumi";
import { getSecretVersionOutput } from "@pulumi/aws/secretsmanager/getSecretVersion";
import type { StackConfig } from "../lib/config";
import { retentionRow } from "../lib/retention";
import { objectRetainDays } from "../lib/object-lock";
import { appDatabaseSecret, clusterProvider, dnsFailover, stackTags } from "./compose-common";
import { BackupJobs } from "../components/backup-jobs";
import { ServiceValidation, SmokeTestClientSecret } from "../components/service-validation";
import { accountId as accountIdOf, backupEncryptionFor, declarePrimaryStorage, declareStandbyStorage, stackOutputs } from "./compose-storage";
import { primaryStack, ReferencedStack, vaultStack } from "./references";
import { Alarms, CopyDestinations } from "../components/alarms";
import { cloudTrailStatements, RetentionAlarm } from "../components/retention-alarm";
import { AwsBackup, BACKUP_SELECTION_TAG } from "../components/aws-backup";
import { MASTER_USERNAME, RdsDatabase, RDS_LOG_EXPORTS } from "../components/rds-database";
import { DATABASE_NAME, databaseStackOutputs, DB_IDENTIFIER, REPLICA_IDENTIFIER } from "../components/database-interface";
import { CrossRegionReplica } from "../components/replica";
import { RestoredDatabase } from "../components/restore";
import type { BackupBucket } from "../components/backup-bucket";
import { ManualSnapshots } from "../components/snapshots";

/** The same Secrets Manager ARN in another region: replicas keep the name and the random suffix. */
export function inRegion(arn: pulumi.Input<string>, region: string): pulumi.Output<string> {
    return pulumi.output(arn).apply((a) => a.replace(/^(arn:aws[a-z-]*:secretsmanager:)[a-z0-9-]+:/, `$1${region}:`));
}

/** The RTO/RPO alarms of this stack, when it has an alarm topic. */
function declareAlarms(
    config: StackConfig,
    tags: Record<string, string>,
    watch: {
        healthCheckId: pulumi.Input<string>;
        dbInstanceIdentifier: pulumi.Input<string>;
        replicating: boolean;
        backupVaultName?: pulumi.Input<string>;
        copyDestinationVaultNames?: CopyDestinations;
        dumpBucketName?: pulumi.Input<string>;
    },
): Alarms | undefined {
    if (!config.alarms.topicArn) {
        return undefined;
    }
    return new Alarms("alarms", {
        stack: config.stack,
        region: config.region,
        topicArn: config.alarms.topicArn,
        healthCheckTopicArn: config.alarms.healthCheckTopicArn!,
        healthCheckId: watch.healthCheckId,
        failover: config.role === "primary" ? "PRIMARY" : "SECONDARY",
        dbInstanceIdentifier: watch.dbInstanceIdentifier,
        replicating: watch.replicating,
        backupVaultName: watch.backupVaultName,
        copyDestinationVaultNames: watch.copyDestinationVaultNames,
        dumpBucket: watch.dumpBucketName ? { name: watch.dumpBucketName, prefix: retentionRow("database").bucketPrefix } : undefined,
        tags,
    });
}

/**
 * The audit archive's extra writers: the management-events trail the retention alarm needs, on a stack with an
 * alarm topic (undefined otherwise: no trail, no alarm).
 */
function auditBucketWriters(config: StackConfig) {
    return config.alarms.topicArn ? cloudTrailStatements(config.stack, config.region, accountIdOf()) : undefined;
}

/**
 * The alarm on what no policy refuses: a backup retention set below the database row, automated backups deleted,
 * the database deleted (components/retention-alarm.ts), to the stack's alarm topic; with its CloudTrail trail into
 * the audit archive (whose policies auditBucketWriters extended).
 */
function declareRetentionAlarm(config: StackConfig, tags: Record<string, string>, auditBucket: BackupBucket): RetentionAlarm | undefined {
    if (!config.alarms.topicArn) {
        return undefined;
    }
    return new RetentionAlarm("retention-alarm", {
        stack: config.stack,
        region: config.region,
        accountId: accountIdOf(),
        topicArn: config.alarms.topicArn,
        retentionDays: config.retention.database,
        trailBucketName: auditBucket.bucketName,
        trailKmsKeyArn: auditBucket.kmsKeyArn,
        trailDependsOn: [auditBucket],
        tags,
    });
}

/** What every RDS instance of the stack shares: class, backups in the window, Multi-AZ for production, storage ceiling, network. */
function rdsCommon(config: StackConfig) {
    return {
        instanceClass: config.instanceClass,
        maxAllocatedStorageGb: config.maxAllocatedStorageGb,
        backupRetentionDays: config.retention.database,
        backupWindow: config.backupWindow,
        maintenanceWindow: config.maintenanceWindow,
        multiAz: config.environment === "production",
        securityGroupIds: config.securityGroupIds,
    };
}

function declareManualSnapshots(config: StackConfig, dbInstanceIdentifier: pulumi.Output<string>, tags: Record<string, string>): ManualSnapshots | undefined {
    return config.manualSnapshots.length > 0
        ? new ManualSnapshots("manual-snapshots", { cloud: "aws", ids: config.manualSnapshots, dbInstanceIdentifier, tags })
        : undefined;
}

/** `restore` in config: the restored copy beside the running instance, in its subnet group and with its key. */
function declareRestore(
    config: StackConfig,
    tags: Record<string, string>,
    beside: {
        sourceDbInstanceIdentifier?: pulumi.Input<string>;
        sourceAutomatedBackupsArn?: pulumi.Input<string>;
        subnetGroupName: pulumi.Input<string>;
        parameterGroupName?: pulumi.Input<string>;
        kmsKeyArn: pulumi.Input<string>;
    },
): RestoredDatabase | undefined {
    if (!config.restore) {
        return undefined;
    }
    const { securityGroupIds, instanceClass, maxAllocatedStorageGb, ...backups } = rdsCommon(config);
    return new RestoredDatabase("restore", {
        cloud: "aws",
        restore: config.restore,
        ...(beside.sourceAutomatedBackupsArn ? { sourceAutomatedBackupsArn: beside.sourceAutomatedBackupsArn } : { sourceDbInstanceIdentifier: beside.sourceDbInstanceIdentifier }),
        instanceClass,
        maxAllocatedStorageGb,
        subnetGroupName: beside.subnetGroupName,
        ...(beside.parameterGroupName ? { parameterGroupName: beside.parameterGroupName } : {}),
        securityGroupIds,
        kmsKeyArn: beside.kmsKeyArn,
        ...backups,
        tags,
    });
}

/** The keys and secrets the region's jobs read: the stack's own on the primary, the DR replicas of prod's on the standby. */
interface JobAccess {
    kmsKeyArns: pulumi.Input<string>[];
    secretArns: { jwkPrivateKey: pulumi.Input<string>; dbCredentials: pulumi.Input<string>; backupPassphrase: pulumi.Input<string> };
}

/** The restore verification's IRSA role name, which the vault stack lists in vault.verificationRoleArns. */
export function verificationRoleName(stack: string): string {
    return `oauth2-dr-verification-${stack}`;
}

/** The backup CronJobs of the region (standby: suspended until promoted). */
function declareBackupJobs(
    config: StackConfig,
    tags: Record<string, string>,
    bucket: BackupBucket,
    access: JobAccess,
    database: { host: pulumi.Input<string>; identifier: pulumi.Input<string> },
): BackupJobs | undefined {
    if (!config.backupJobs.enabled) {
        return undefined;
    }
    return new BackupJobs("backup-jobs", {
        jobs: config.backupJobs,
        role: config.role === "standby" ? "standby" : "primary",
        ...(config.role === "standby" ? { promoted: config.promote } : {}),
        region: config.region,
        backupWindow: config.backupWindow,
        bucketName: bucket.bucketName,
        bucketArn: bucket.arn,
        kmsKeyArns: access.kmsKeyArns,
        secretArns: access.secretArns,
        databaseHost: database.host,
        databaseName: DATABASE_NAME,
        dbInstanceIdentifier: database.identifier,
        objectLock: { mode: config.objectLock.mode, retainDays: objectRetainDays(config.retention, config.objectLock.days, config.objectLock.secretRotationDays) },
        encryption: backupEncryptionFor(config, pulumi.interpolate`arn:aws:iam::${accountIdOf()}:role/${verificationRoleName(config.stack)}`),
        // The vault account's key-reader role trusts this role by ARN (vault.verificationRoleArns).
        verificationRoleName: verificationRoleName(config.stack),
        // The exports read the server's secret and ConfigMaps where the server runs (RBAC there).
        serverNamespace: config.serverNamespace,
        provider: clusterProvider(config),
        tags,
    });
}

/** The service validation (scripts/validate-service.sh) of the region, beside the backup jobs whose scripts it mounts. */
function declareValidation(
    config: StackConfig,
    tags: Record<string, string>,
    jobs: BackupJobs | undefined,
    bucket: BackupBucket,
    reads: { kmsKeyArns: pulumi.Input<string>[]; smokeClientSecretArn: pulumi.Input<string>; dbCredentialsSecretArn: pulumi.Input<string> },
    database: { host: pulumi.Input<string>; port: pulumi.Input<number> },
    runAfter?: pulumi.Resource[],
): ServiceValidation | undefined {
    if (!jobs) {
        return undefined;
    }
    return new ServiceValidation("service-validation", {
        image: config.backupJobs.image,
        oidcProviderArn: config.backupJobs.oidcProviderArn,
        oidcProviderUrl: config.backupJobs.oidcProviderUrl,
        region: config.region,
        issuer: `https://${config.domain}`,
        bucketName: bucket.bucketName,
        bucketArn: bucket.arn,
        kmsKeyArns: reads.kmsKeyArns,
        smokeClientSecretArn: reads.smokeClientSecretArn,
        dbCredentialsSecretArn: reads.dbCredentialsSecretArn,
        databaseHost: database.host,
        databaseName: DATABASE_NAME,
        databasePort: database.port,
        scriptsConfigMapName: jobs.scriptsConfigMapName,
        provider: clusterProvider(config),
        tags,
        ...(runAfter ? { runAfter } : {}),
    });
}

/**
 * AWS Backup's cross-account copy of an RDS recovery point needs the vault account to use the key of the
 * snapshot it copies (the instance's storage key).
 */
function vaultAccountCopies(vault: ReferencedStack | undefined): unknown[] {
    if (!vault) {
        return [];
    }
    return [{
        Sid: "VaultAccountCopiesRecoveryPoints",
        Effect: "Allow",
        Principal: { AWS: pulumi.interpolate`arn:aws:iam::${vault.require("vaultAccountId")}:root` },
        Action: ["kms:Decrypt", "kms:DescribeKey", "kms:CreateGrant"],
        Resource: "*",
    }];
}

export function declareAwsPrimary(config: StackConfig) {
    const accountId = accountIdOf();
    const vault = vaultStack(config);
    const tags = stackTags(config);
    const storage = declarePrimaryStorage(config, { tags, rdsIdentifiers: [DB_IDENTIFIER], rdsLogExports: RDS_LOG_EXPORTS, generateDbPassword: true, auditBucketWriters: auditBucketWriters(config) });
    const { secrets, bucket, auditLogs } = storage;
    const database = new RdsDatabase("database", {
        identifier: DB_IDENTIFIER,
        engineVersion: config.engineVersion,
        allocatedStorageGb: config.allocatedStorageGb,
        ...rdsCommon(config),
        subnetIds: config.subnetIds,
        masterPassword: secrets.dbMasterPassword!,
        credentialsSecretId: secrets.arns.dbCredentials,
        accountId,
        breakGlassRoleArn: config.breakGlassRoleArn,
        keyStatements: vaultAccountCopies(vault),
        logGroups: auditLogs.logGroups,
        // The AWS Backup selection picks the instance by this tag.
        tags: config.awsBackup.enabled ? { ...tags, [BACKUP_SELECTION_TAG.key]: BACKUP_SELECTION_TAG.value } : tags,
    });
    const snapshots = declareManualSnapshots(config, database.identifier, tags);
    const restored = declareRestore(config, tags, {
        sourceDbInstanceIdentifier: database.identifier,
        subnetGroupName: database.subnetGroupName,
        parameterGroupName: database.parameterGroupName,
        kmsKeyArn: database.kmsKeyArn,
    });
    const awsBackup = config.awsBackup.enabled
        ? new AwsBackup("aws-backup", {
              region: config.region,
              drRegion: config.drRegion,
              retentionDays: config.retention.database,
              changeableForDays: config.awsBackup.changeableForDays,
              backupWindow: config.backupWindow,
              accountId,
              breakGlassRoleArn: config.breakGlassRoleArn,
              isolatedVaultArn: vault?.require("backupVaultArn"),
              tags,
          })
        : undefined;
    const dns = dnsFailover(config, tags)!;
    const alarms = declareAlarms(config, tags, {
        healthCheckId: dns.healthCheckId,
        dbInstanceIdentifier: database.identifier,
        replicating: false,
        backupVaultName: awsBackup?.vaultName,
        // The daily rule's copy destinations (components/aws-backup.ts dailyRule): copy jobs are published under these.
        copyDestinationVaultNames: awsBackup ? { dr: awsBackup.drVaultName, ...(vault ? { isolated: vault.require("backupVaultName") } : {}) } : undefined,
        dumpBucketName: bucket.bucketName,
    });
    const retentionAlarm = declareRetentionAlarm(config, tags, storage.auditBucket);
    const access = { kmsKeyArns: [bucket.kmsKeyArn, secrets.kmsKeyArn], secretArns: secrets.arns };
    const jobs = declareBackupJobs(config, tags, bucket, access, { host: database.address, identifier: database.identifier });
    const app = appDatabaseSecret(config, {
        host: database.address,
        port: database.port,
        username: MASTER_USERNAME,
        password: secrets.dbMasterPassword!,
        source: DB_IDENTIFIER,
    });
    // The smoke-test client of the service validation: its secret with a replica in the DR region, so the
    // validation after a failover reads it there. Run on demand here (a prod database switch is a deliberate,
    // reviewed change; the first deployment comes before the client is registered in the server).
    const smokeClient = new SmokeTestClientSecret("smoke-test-client", {
        drRegion: config.drRegion,
        kmsKeyArn: secrets.kmsKeyArn,
        drKmsKeyArn: secrets.drKmsKeyArn,
        recoveryWindowDays: config.secretRecoveryWindowDays,
        breakGlassRoleArn: config.breakGlassRoleArn,
        tags,
    });
    const validation = declareValidation(config, tags, jobs, bucket, {
        kmsKeyArns: access.kmsKeyArns,
        smokeClientSecretArn: smokeClient.arn,
        dbCredentialsSecretArn: secrets.arns.dbCredentials,
    }, { host: database.address, port: database.port });
    return {
        ...stackOutputs(config, storage),
        dbInstanceArn: database.arn,
        dbInstanceIdentifier: database.identifier,
        ...databaseStackOutputs(database, { dbKmsKeyArn: database.kmsKeyArn }),
        healthCheckId: dns.healthCheckId,
        manualSnapshotArns: snapshots?.ids,
        restoredIdentifier: restored?.identifier,
        restoredAddress: restored?.address,
        backupVaultArn: awsBackup?.vaultArn,
        backupDrVaultArn: awsBackup?.drVaultArn,
        isolatedBackupVaultArn: vault?.require("backupVaultArn"),
        alarmNames: alarms?.alarmNames,
        dashboardName: alarms?.dashboardName,
        retentionAlarmRules: retentionAlarm?.ruleNames,
        managementTrailArn: retentionAlarm?.trailArn,
        appDatabaseSecret: app?.secretName,
        backupCronJobs: jobs?.cronJobNames,
        smokeTestClientSecretArn: smokeClient.arn,
        validationCronJob: validation?.cronJobName,
    };
}

/**
 * The DR region's copies of prod's secrets: Secrets Manager's replicas (same name and suffix, this region,
 * the replica key), and the key they are encrypted with.
 */
function drCopiesOfProdSecrets(prod: ReferencedStack, region: string) {
    const prodSecretArns = prod.require<Record<"jwkPrivateKey" | "dbCredentials" | "backupPassphrase", string>>("secretArns");
    const here = (key: "jwkPrivateKey" | "dbCredentials" | "backupPassphrase") => inRegion(prodSecretArns.apply((a) => a[key]), region);
    return {
        kmsKeyArn: prod.require("secretsDrKmsKeyArn"),
        arn: here,
    };
}

/**
 * Promoted: the application in this region talks to the former replica. Its credentials are prod's, read
 * from the replica of oauth2/db-credentials in this region (Secrets Manager replicated it).
 */
function promotedAppSecret(config: StackConfig, replica: CrossRegionReplica, dbCredentialsArn: pulumi.Output<string>) {
    if (!config.promote || !config.appDatabaseSecret.enabled) {
        return undefined;
    }
    const credentials = getSecretVersionOutput({ secretId: dbCredentialsArn, region: config.region })
        .apply((v) => JSON.parse(v.secretString) as { username: string; password: string });
    return appDatabaseSecret(config, {
        host: replica.address,
        port: replica.port,
        username: credentials.apply((c) => c.username),
        password: pulumi.secret(credentials.apply((c) => c.password)),
        source: `${REPLICA_IDENTIFIER} (promoted)`,
    });
}

export function declareAwsStandby(config: StackConfig) {
    const accountId = accountIdOf();
    const tags = stackTags(config);
    const prod = primaryStack(config);
    const storage = declareStandbyStorage(config, prod, { tags, rdsIdentifiers: [REPLICA_IDENTIFIER], rdsLogExports: RDS_LOG_EXPORTS, generateDbPassword: false, auditBucketWriters: auditBucketWriters(config) });
    const { bucket, auditLogs } = storage;
    const replica = new CrossRegionReplica("replica", {
        identifier: REPLICA_IDENTIFIER,
        sourceDbInstanceArn: prod.require("dbInstanceArn"),
        ...rdsCommon(config),
        subnetIds: config.subnetIds,
        promote: config.promote,
        accountId,
        breakGlassRoleArn: config.breakGlassRoleArn,
        logGroups: auditLogs.logGroups,
        tags,
    });
    const snapshots = declareManualSnapshots(config, replica.identifier, tags);
    // In the DR region a point-in-time restore reads prod's automated backups replicated here: it works
    // when the primary region is gone.
    const restored = declareRestore(config, tags, {
        sourceAutomatedBackupsArn: replica.automatedBackupsReplicationId,
        subnetGroupName: replica.subnetGroupName,
        kmsKeyArn: replica.kmsKeyArn,
    });
    const dns = dnsFailover(config, tags)!;
    const alarms = declareAlarms(config, tags, {
        healthCheckId: dns.healthCheckId,
        dbInstanceIdentifier: replica.identifier,
        replicating: !config.promote,
        // Once promoted, this region's backup CronJobs write the dumps: watch them here.
        dumpBucketName: config.promote ? bucket.bucketName : undefined,
    });
    const retentionAlarm = declareRetentionAlarm(config, tags, storage.auditBucket);
    // Backups stay suspended until promotion; the monthly restore check runs here too, proving that a
    // restore works from the DR region.
    const prodSecrets = drCopiesOfProdSecrets(prod, config.region);
    const jobs = declareBackupJobs(config, tags, bucket, {
        kmsKeyArns: [bucket.kmsKeyArn, prodSecrets.kmsKeyArn],
        secretArns: {
            jwkPrivateKey: prodSecrets.arn("jwkPrivateKey"),
            dbCredentials: prodSecrets.arn("dbCredentials"),
            backupPassphrase: prodSecrets.arn("backupPassphrase"),
        },
    }, { host: replica.address, identifier: replica.identifier });
    const app = promotedAppSecret(config, replica, prodSecrets.arn("dbCredentials"));
    // Validation from this region: the replica of the smoke-test client's secret, the DR bucket's backed-up
    // JWKS, the promoted replica as the database the server must use. Once promoted, it also runs by itself
    // after the server's rollout onto the new DATABASE_URL, and `pulumi up` waits for its verdict.
    const validation = declareValidation(config, tags, jobs, bucket, {
        kmsKeyArns: [bucket.kmsKeyArn, prodSecrets.kmsKeyArn],
        smokeClientSecretArn: inRegion(prod.require("smokeTestClientSecretArn"), config.region),
        dbCredentialsSecretArn: prodSecrets.arn("dbCredentials"),
    }, { host: replica.address, port: replica.port }, app?.rollout ? [app.rollout] : undefined);
    return {
        ...stackOutputs(config, storage),
        replicaArn: replica.arn,
        replicaIdentifier: replica.identifier,
        replicaAddress: replica.address,
        replicaKmsKeyArn: replica.kmsKeyArn,
        ...databaseStackOutputs(replica),
        healthCheckId: dns.healthCheckId,
        manualSnapshotArns: snapshots?.ids,
        restoredIdentifier: restored?.identifier,
        restoredAddress: restored?.address,
        alarmNames: alarms?.alarmNames,
        dashboardName: alarms?.dashboardName,
        retentionAlarmRules: retentionAlarm?.ruleNames,
        managementTrailArn: retentionAlarm?.trailArn,
        appDatabaseSecret: app?.secretName,
        backupCronJobs: jobs?.cronJobNames,
        validationCronJob: validation?.cronJobName,
        validationRunJob: validation?.runJobName,
    };
}
