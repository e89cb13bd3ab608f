/**
 * The gcp composition: Cloud SQL for PostgreSQL; the primary stack declares the instance and restores; the
 * standby stack a cross-region read replica. DNS failover stays on Route 53 when hostedZoneId is set.
 */
import type { StackConfig } from "../lib/config";
import { publishPrimaryDatabase, publishStandbyDatabase, stackTags } from "./compose-common";
import { declarePrimaryStorage, declareStandbyStorage, stackOutputs } from "./compose-storage";
import { primaryStack } from "./references";
import { DB_IDENTIFIER, databaseStackOutputs, REPLICA_IDENTIFIER } from "../components/database-interface";
import { GCP_ADMIN_USER, GcpDatabase } from "../components/gcp-database";
import { RestoredDatabase } from "../components/restore";

/** Cloud SQL counts backups: 30 days of daily backups is 30 retained backups. */
function common(config: StackConfig, instanceName: string, tags: Record<string, string>) {
    const gcp = config.gcp!;
    return {
        instanceName,
        project: gcp.project,
        region: config.region,
        version: config.engineVersion,
        tier: gcp.tier,
        edition: gcp.edition,
        diskSizeGb: config.allocatedStorageGb,
        maxDiskSizeGb: config.maxAllocatedStorageGb,
        privateNetwork: gcp.privateNetwork,
        backupStartTime: config.backupStartTime,
        backupLocation: gcp.backupLocation,
        retainedBackups: config.retention.database,
        transactionLogRetentionDays: gcp.transactionLogRetentionDays,
        maintenanceStart: config.maintenanceStart,
        tags,
    };
}

export function declareGcpPrimary(config: StackConfig) {
    const tags = stackTags(config);
    // Backups, secrets and audit logs live in AWS on every cloud (stacks/compose-storage.ts).
    const storage = declarePrimaryStorage(config, { tags, rdsIdentifiers: [], rdsLogExports: [], generateDbPassword: false });
    const database = new GcpDatabase("database", { role: "primary", ...common(config, DB_IDENTIFIER, tags) });
    const restored = config.restore
        ? new RestoredDatabase("restore", {
              cloud: "gcp",
              restore: config.restore,
              sourceInstanceName: database.identifier,
              ...common(config, DB_IDENTIFIER, tags),
          })
        : undefined;
    const { dns, app } = publishPrimaryDatabase(config, tags, storage.secrets.arns.dbCredentials, GCP_ADMIN_USER, database);
    return {
        ...stackOutputs(config, storage),
        dbInstanceName: database.identifier,
        dbSelfLink: database.resourceId,
        dbConnectionName: database.connectionName,
        ...databaseStackOutputs(database),
        // Read by the standby stack: a replica inherits the primary's users. Secret in state.
        dbAdminPassword: database.administratorPassword,
        healthCheckId: dns?.healthCheckId,
        restoredIdentifier: restored?.identifier,
        restoredAddress: restored?.address,
        appDatabaseSecret: app?.secretName,
    };
}

export function declareGcpStandby(config: StackConfig) {
    const tags = stackTags(config);
    const prod = primaryStack(config);
    const storage = declareStandbyStorage(config, prod, { tags, rdsIdentifiers: [], rdsLogExports: [], generateDbPassword: false });
    const replica = new GcpDatabase("replica", {
        role: "replica",
        ...common(config, REPLICA_IDENTIFIER, tags),
        masterInstanceName: prod.require("dbInstanceName"),
        administratorPassword: prod.require("dbAdminPassword"),
        promote: config.promote,
    });
    const { dns, app } = publishStandbyDatabase(config, tags, GCP_ADMIN_USER, replica);
    return {
        ...stackOutputs(config, storage),
        replicaInstanceName: replica.identifier,
        replicaConnectionName: replica.connectionName,
        ...databaseStackOutputs(replica),
        healthCheckId: dns?.healthCheckId,
        appDatabaseSecret: app?.secretName,
    };
}
