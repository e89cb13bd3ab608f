/**
 * Azure Database for PostgreSQL Flexible Server (azure-native:dbforpostgresql:Server): the database row of
 * the retention table on Azure. Unset values are Azure's defaults: 7 days of backups, geo-redundant backup
 * Disabled. A read replica (createMode Replica) has no backup settings of its own (Azure keeps backups on
 * the source server), so it is not judged here; the source server is.
 */
import * as dbforpostgresql from "@pulumi/azure-native/dbforpostgresql";
import { ResourceValidationPolicy, validateResourceOfType } from "@pulumi/policy";
import { retentionRow } from "../lib/retention";
import { configOf, minimumDaysSchema } from "./config";
import { read, show, UNKNOWN } from "./unknowns";

const DATABASE = retentionRow("database");

export function isAzureReplica(props: unknown): boolean {
    const mode = read(props, "createMode");
    return mode === UNKNOWN || mode === "Replica";
}

const retentionSchema = { properties: { minimumDays: minimumDaysSchema("database") } };

export const azurePostgresBackupRetention: ResourceValidationPolicy = {
    name: "azure-postgres-backup-retention",
    description: `Azure PostgreSQL Flexible Servers keep backups at least as long as the retention table's ${DATABASE.dataType} row (${DATABASE.minimum} days).`,
    enforcementLevel: "mandatory",
    severity: "critical",
    configSchema: retentionSchema,
    validateResource: validateResourceOfType(dbforpostgresql.Server, (server, args, reportViolation) => {
        if (isAzureReplica(server)) {
            return;
        }
        const { minimumDays } = configOf<{ minimumDays: number }>(retentionSchema, args);
        const days = read(server, "backup", "backupRetentionDays");
        if (days === UNKNOWN) {
            return;
        }
        if (days === undefined || days === null) {
            reportViolation(`${args.name}: backup.backupRetentionDays is not set (Azure keeps 7 days); the retention table requires at least ${minimumDays} days (${DATABASE.dataType})`);
        } else if (typeof days !== "number" || days < minimumDays) {
            reportViolation(`${args.name}: backup.backupRetentionDays is ${show(days)} days; the retention table requires at least ${minimumDays} days (${DATABASE.dataType})`);
        }
    }),
};

export const azurePostgresGeoRedundantBackup: ResourceValidationPolicy = {
    name: "azure-postgres-geo-redundant-backup",
    description: "Azure PostgreSQL Flexible Servers store backups geo-redundantly (backup.geoRedundantBackup: Enabled), so a regional outage does not take the backups with it.",
    enforcementLevel: "mandatory",
    severity: "high",
    validateResource: validateResourceOfType(dbforpostgresql.Server, (server, args, reportViolation) => {
        if (isAzureReplica(server)) {
            return;
        }
        const geo = read(server, "backup", "geoRedundantBackup");
        if (geo !== UNKNOWN && geo !== "Enabled") {
            reportViolation(`${args.name}: backup.geoRedundantBackup is ${show(geo)}; the runbook requires "Enabled" (Critical data must survive the loss of the region)`);
        }
    }),
};

export const azurePolicies = [azurePostgresBackupRetention, azurePostgresGeoRedundantBackup];
