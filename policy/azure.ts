/**
 * Azure Database for PostgreSQL Flexible Server (azure-native:dbforpostgresql:Server): the database row of
 * the retention table on Azure. Unset values are Azure's defaults: 7 days of backups, geo-redundant backup
 * Disabled. A read replica (createMode Replica) has no backup settings of its own (Azure keeps backups on
 * the source server), so it is not judged here; the source server is.
 */
import { ResourceValidationPolicy, validateResourceOfType } from "@pulumi/policy";
import { plural } from "./retention";
import { minimumOf, sharedSettings } from "./settings";
import { known, read, show, UNKNOWN } from "./unknowns";
import { readNumber, showNumber } from "./numbers";
import { resourceType, T } from "./types";

const AZURE_POSTGRES = resourceType(T.azurePostgres);

export function isAzureReplica(props: unknown): boolean {
    const mode = read(props, "createMode");
    return mode === UNKNOWN || mode === "Replica";
}

export const azurePostgresBackupRetention: ResourceValidationPolicy = {
    name: "azure-postgres-backup-retention",
    description: "Azure PostgreSQL Flexible Servers keep backups at least as long as the retention table's database row (30 days; raised or waived in oauth2-dr-settings).",
    enforcementLevel: "mandatory",
    severity: "critical",
    validateResource: validateResourceOfType(AZURE_POSTGRES, (server, args, reportViolation) => {
        if (isAzureReplica(server)) {
            return;
        }
        const minimumDays = minimumOf(sharedSettings(), "database");
        const required = `the retention table's database row requires at least ${plural(minimumDays, "days")} of backups (Azure PostgreSQL Flexible Server)`;
        const days = known(args, "backup.backupRetentionDays", readNumber(server, "backup", "backupRetentionDays"));
        if (days === undefined) {
            reportViolation(`${args.name}: backup.backupRetentionDays is not set (Azure keeps 7 days); ${required}`);
        } else if (typeof days !== "number" || days < minimumDays) {
            reportViolation(`${args.name}: backup.backupRetentionDays is ${typeof days === "number" ? plural(days, "days") : showNumber(days)}; ${required}`);
        }
    }),
};

export const azurePostgresGeoRedundantBackup: ResourceValidationPolicy = {
    name: "azure-postgres-geo-redundant-backup",
    description: "Azure PostgreSQL Flexible Servers store backups geo-redundantly (backup.geoRedundantBackup: Enabled), so a regional outage does not take the backups with it.",
    enforcementLevel: "mandatory",
    severity: "high",
    validateResource: validateResourceOfType(AZURE_POSTGRES, (server, args, reportViolation) => {
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
