/**
 * Azure Database for PostgreSQL Flexible Server (azure-native:dbforpostgresql:Server, and the same server under
 * an API-version module, `dbforpostgresql/v20221201:Server`: types.ts isAzureFlexibleServer): the database row of
 * the retention table on Azure. Unset values are Azure's defaults: 7 days of backups, geo-redundant backup
 * Disabled. Azure accepts backupRetentionDays from 7 to 35: a value above 35 is refused by the service (the
 * server is never created), so it meets no row. A read replica (createMode Replica) has no backup settings of
 * its own (Azure keeps backups on the source server), so it is not judged here; the source server is. A
 * createMode unknown until the update decides whether the server is judged: listed as not judged in preview.
 */
import { ResourceValidationArgs, ResourceValidationPolicy } from "@pulumi/policy";
import { plural } from "./retention";
import { minimumOf, sharedSettings } from "./settings";
import { known, notJudgedInPreview, read, show, UNKNOWN } from "./unknowns";
import { readNumber, showNumber } from "./numbers";
import { isAzureFlexibleServer } from "./types";

/** The longest backup retention Azure Database for PostgreSQL Flexible Server accepts (backup.backupRetentionDays: 7-35). */
export const AZURE_MAX_BACKUP_RETENTION_DAYS = 35;

export function isAzureReplica(props: unknown): boolean {
    const mode = read(props, "createMode");
    return mode === UNKNOWN || mode === "Replica";
}

type Report = (message: string) => void;

/** A Flexible Server's own backup settings are judged: `check` runs on a server that is not a replica; a createMode unknown in preview is listed. */
function onSourceServer(check: (server: unknown, args: ResourceValidationArgs, reportViolation: Report) => void) {
    return (args: ResourceValidationArgs, reportViolation: Report): void => {
        if (!isAzureFlexibleServer(args.type)) {
            return;
        }
        const server = args.props;
        if (read(server, "createMode") === UNKNOWN) {
            notJudgedInPreview(args, ["createMode"], "a replica (createMode Replica) keeps no backups of its own");
        }
        if (isAzureReplica(server)) {
            return;
        }
        check(server, args, reportViolation);
    };
}

export const azurePostgresBackupRetention: ResourceValidationPolicy = {
    name: "azure-postgres-backup-retention",
    description: "Azure PostgreSQL Flexible Servers keep backups at least as long as the retention table's database row (30 days; raised or waived in oauth2-dr-settings).",
    enforcementLevel: "mandatory",
    severity: "critical",
    validateResource: onSourceServer((server, args, reportViolation) => {
        const minimumDays = minimumOf(sharedSettings(), "database");
        const required = `the retention table's database row requires at least ${plural(minimumDays, "days")} of backups (Azure PostgreSQL Flexible Server)`;
        const days = known(args, "backup.backupRetentionDays", readNumber(server, "backup", "backupRetentionDays"));
        if (days === undefined) {
            reportViolation(`${args.name}: backup.backupRetentionDays is not set (Azure keeps 7 days); ${required}`);
        } else if (typeof days !== "number" || days < minimumDays) {
            reportViolation(`${args.name}: backup.backupRetentionDays is ${typeof days === "number" ? plural(days, "days") : showNumber(days)}; ${required}`);
        } else if (days > AZURE_MAX_BACKUP_RETENTION_DAYS) {
            reportViolation(`${args.name}: backup.backupRetentionDays is ${plural(days, "days")}, above the ${AZURE_MAX_BACKUP_RETENTION_DAYS} days Azure accepts (7-${AZURE_MAX_BACKUP_RETENTION_DAYS}): Azure refuses the server, so no backup is kept; ${required}, at most ${AZURE_MAX_BACKUP_RETENTION_DAYS}`);
        }
    }),
};

export const azurePostgresGeoRedundantBackup: ResourceValidationPolicy = {
    name: "azure-postgres-geo-redundant-backup",
    description: "Azure PostgreSQL Flexible Servers store backups geo-redundantly (backup.geoRedundantBackup: Enabled), so a regional outage does not take the backups with it.",
    enforcementLevel: "mandatory",
    severity: "high",
    validateResource: onSourceServer((server, args, reportViolation) => {
        const geo = known(args, "backup.geoRedundantBackup", read(server, "backup", "geoRedundantBackup"));
        if (geo !== "Enabled") {
            reportViolation(`${args.name}: backup.geoRedundantBackup is ${show(geo)}; the runbook requires "Enabled" (Critical data must survive the loss of the region)`);
        }
    }),
};

export const azurePolicies = [azurePostgresBackupRetention, azurePostgresGeoRedundantBackup];
