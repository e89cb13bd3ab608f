/**
 * The azure composition: PostgreSQL Flexible Server in a resource group; the primary stack declares the
 * server, restores and on-demand backups; the standby stack a cross-region replica of it. DNS failover stays on
 * Route 53 when hostedZoneId is set (the same records as on aws).
 */
import * as pulumi from "@pulumi/pulumi";
import * as resources from "@pulumi/azure-native/resources";
import type { StackConfig } from "../lib/config";
import { publishPrimaryDatabase, publishStandbyDatabase, stackTags } from "./compose-common";
import { declarePrimaryStorage, declareStandbyStorage, stackOutputs } from "./compose-storage";
import { primaryStack } from "./references";
import { AZURE_ADMIN_LOGIN, AzureDatabase } from "../components/azure-database";
import { azureTags, DB_IDENTIFIER, databaseStackOutputs, REPLICA_IDENTIFIER } from "../components/database-interface";
import { RestoredDatabase } from "../components/restore";
import { ManualSnapshots } from "../components/snapshots";

function resourceGroup(config: StackConfig, tags: Record<string, string>): pulumi.Output<string> {
    const azure = config.azure!;
    if (!azure.createResourceGroup) {
        return pulumi.output(azure.resourceGroup);
    }
    // The group holds the database: deleting it would delete the server, so it is protected like the data.
    const group = new resources.ResourceGroup(azure.resourceGroup, {
        resourceGroupName: azure.resourceGroup,
        location: config.region,
        tags: azureTags(tags),
    }, { protect: true });
    return group.name;
}

function common(config: StackConfig, serverName: string, resourceGroupName: pulumi.Input<string>, tags: Record<string, string>) {
    const azure = config.azure!;
    return {
        serverName,
        location: config.region,
        resourceGroupName,
        version: config.engineVersion.split(".")[0],
        skuName: azure.skuName,
        skuTier: azure.skuTier,
        storageSizeGb: config.allocatedStorageGb,
        backupRetentionDays: config.retention.database,
        maintenanceStart: config.maintenanceStart,
        network: azure.delegatedSubnetId && azure.privateDnsZoneId
            ? { delegatedSubnetId: azure.delegatedSubnetId, privateDnsZoneId: azure.privateDnsZoneId }
            : undefined,
        tags,
    };
}

export function declareAzurePrimary(config: StackConfig) {
    const tags = stackTags(config);
    // Backups, secrets and audit logs live in AWS on every cloud (stacks/compose-storage.ts).
    const storage = declarePrimaryStorage(config, { tags, rdsIdentifiers: [], rdsLogExports: [], generateDbPassword: false });
    const group = resourceGroup(config, tags);
    const database = new AzureDatabase("database", { role: "primary", ...common(config, DB_IDENTIFIER, group, tags) });
    const snapshots = config.manualSnapshots.length > 0
        ? new ManualSnapshots("manual-snapshots", { cloud: "azure", ids: config.manualSnapshots, serverName: database.identifier, resourceGroupName: group })
        : undefined;
    const restored = config.restore?.mode === "pointInTime"
        ? new RestoredDatabase("restore", {
              cloud: "azure",
              pointInTime: config.restore.pointInTime,
              sourceServerResourceId: database.resourceId,
              ...common(config, DB_IDENTIFIER, group, tags),
          })
        : undefined;
    const { dns, app } = publishPrimaryDatabase(config, tags, storage.secrets.arns.dbCredentials, AZURE_ADMIN_LOGIN, database);
    return {
        ...stackOutputs(config, storage),
        resourceGroupName: group,
        dbServerId: database.resourceId,
        dbServerName: database.identifier,
        ...databaseStackOutputs(database),
        // Read by the standby stack: a replica inherits the primary's admin credentials. Secret in state.
        dbAdminPassword: database.administratorPassword,
        healthCheckId: dns?.healthCheckId,
        manualBackupIds: snapshots?.ids,
        restoredIdentifier: restored?.identifier,
        restoredAddress: restored?.address,
        appDatabaseSecret: app?.secretName,
    };
}

export function declareAzureStandby(config: StackConfig) {
    const tags = stackTags(config);
    const prod = primaryStack(config);
    const storage = declareStandbyStorage(config, prod, { tags, rdsIdentifiers: [], rdsLogExports: [], generateDbPassword: false });
    const group = resourceGroup(config, tags);
    const replica = new AzureDatabase("replica", {
        role: "replica",
        ...common(config, REPLICA_IDENTIFIER, group, tags),
        sourceServerResourceId: prod.require("dbServerId"),
        administratorPassword: prod.require("dbAdminPassword"),
        promote: config.promote,
    });
    const { dns, app } = publishStandbyDatabase(config, tags, AZURE_ADMIN_LOGIN, replica);
    return {
        ...stackOutputs(config, storage),
        resourceGroupName: group,
        replicaServerId: replica.resourceId,
        replicaServerName: replica.identifier,
        ...databaseStackOutputs(replica),
        healthCheckId: dns?.healthCheckId,
        appDatabaseSecret: app?.secretName,
    };
}
