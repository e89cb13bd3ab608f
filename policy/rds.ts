/**
 * AWS RDS instances and Aurora/RDS clusters, of any engine, and the RDS-family DocumentDB and Neptune
 * clusters: the database row of the retention table and the runbook's "nothing is lost" settings (deletion
 * protection, encryption, final snapshot, Multi-AZ). Redshift clusters are judged on the same row by the
 * redshift-* policies (automated snapshot retention, final snapshot, encryption).
 *
 * Unset values are judged by the provider's default: RDS keeps 1 day of backups (0 for a read replica)
 * when backupRetentionPeriod is not given, does not protect against deletion and does not encrypt.
 */
import { ReportViolation, ResourceValidationArgs, ResourceValidationPolicy, validateResourceOfType } from "@pulumi/policy";
import { isProduction } from "./config";
import { rdsLabel } from "./engines";
import { MAX_MANAGED_BACKUP_RETENTION_DAYS, plural } from "./retention";
import { minimumOf, sharedSettings } from "./settings";
import { known, notJudgedInPreview, read, readStringMap, show, UNKNOWN } from "./unknowns";
import { asNumber, showNumber } from "./numbers";
import { resourceType, T } from "./types";
import { providerDefaultTags } from "./resources";

const RDS_INSTANCE = resourceType(T.rdsInstance);
const RDS_CLUSTER = resourceType(T.rdsCluster);
/** DocumentDB and Neptune clusters are RDS-family engines: the same backup, snapshot and encryption settings. */
const DOCDB_CLUSTER = resourceType(T.docdbCluster);
const NEPTUNE_CLUSTER = resourceType(T.neptuneCluster);
const REDSHIFT_CLUSTER = resourceType(T.redshiftCluster);
const FAMILY_CLUSTERS = [RDS_CLUSTER, DOCDB_CLUSTER, NEPTUNE_CLUSTER];

/** A replica streams from another instance: its backups, snapshots and HA follow different rules. */
function replicationSource(props: unknown): unknown {
    return read(props, "replicateSourceDb");
}

function isReplica(props: unknown): boolean {
    const source = replicationSource(props);
    return source === UNKNOWN || (typeof source === "string" && source !== "");
}

function checkRetention(label: string, what: string, args: ResourceValidationArgs, input: unknown, defaultDays: number, report: (m: string) => void, field = "backupRetentionPeriod", service = "RDS"): void {
    const minimum = minimumOf(sharedSettings(), "database");
    const value = asNumber(input);
    const name = args.name;
    const required = `the retention table's database row requires at least ${plural(minimum, "days")} of backups (${label})`;
    if (value === UNKNOWN) {
        notJudgedInPreview(args, [field]);
    }
    if (value === undefined) {
        report(`${name}: ${field} is not set (the ${service} default keeps ${plural(defaultDays, "days")} for ${what}); ${required}`);
        return;
    }
    if (typeof value !== "number" || value < minimum) {
        report(`${name}: ${field} is ${typeof value === "number" ? plural(value, "days") : showNumber(value)}; ${required}`);
    } else if (value > MAX_MANAGED_BACKUP_RETENTION_DAYS) {
        // The service (and the provider's own validation) refuses it: the database is never created or changed,
        // so it keeps no backup of that length (h35 trial: 90 days, a common compliance figure, passed).
        report(`${name}: ${field} is ${plural(value, "days")}, above the ${MAX_MANAGED_BACKUP_RETENTION_DAYS} ${service} accepts (${service} keeps automated backups at most ${MAX_MANAGED_BACKUP_RETENTION_DAYS} days and refuses more); ${required} and at most ${MAX_MANAGED_BACKUP_RETENTION_DAYS}: keep longer copies with AWS Backup (lifecycle.deleteAfter) or snapshots`);
    }
}

export const rdsBackupRetention: ResourceValidationPolicy = {
    name: "rds-backup-retention",
    description: "RDS instances (read replicas included) and Aurora/RDS, DocumentDB and Neptune clusters, of any engine, keep automated backups at least as long as the retention table's database row (30 days; raised or waived in oauth2-dr-settings).",
    enforcementLevel: "mandatory",
    severity: "critical",
    validateResource: [
        validateResourceOfType(RDS_INSTANCE, (instance, args, reportViolation) => {
            const replica = isReplica(instance);
            const label = replica ? "read replica" : rdsLabel(args.type, instance);
            checkRetention(label, replica ? "a read replica" : "a new instance", args, read(instance, "backupRetentionPeriod"), replica ? 0 : 1, reportViolation);
        }),
        ...FAMILY_CLUSTERS.map((type) =>
            validateResourceOfType(type, (cluster, args, reportViolation) => {
                checkRetention(rdsLabel(args.type, cluster), "a cluster", args, read(cluster, "backupRetentionPeriod"), 1, reportViolation);
            }),
        ),
    ],
};

export const rdsDeletionProtection: ResourceValidationPolicy = {
    name: "rds-deletion-protection",
    description: "RDS instances and clusters refuse deletion (deletionProtection: true), so a stray `pulumi destroy` cannot remove the database and its automated backups.",
    enforcementLevel: "mandatory",
    severity: "high",
    validateResource: [validateResourceOfType(RDS_INSTANCE, checkDeletionProtection), ...FAMILY_CLUSTERS.map((type) => validateResourceOfType(type, checkDeletionProtection))],
};

function checkDeletionProtection(props: unknown, args: ResourceValidationArgs, reportViolation: ReportViolation): void {
    const value = known(args, "deletionProtection", read(props, "deletionProtection"));
    if (value !== true) {
        reportViolation(`${args.name}: deletionProtection is ${show(value)}; the runbook requires true (deleting the database also deletes its automated backups)`);
    }
}

/**
 * Encryption at rest. A read replica inherits encryption from its source; a cross-region replica of an
 * encrypted source must name a KMS key of its own region. So a replica counts as encrypted when it sets
 * storageEncrypted: true or a kmsKeyId; a primary must set storageEncrypted: true.
 */
export const rdsStorageEncrypted: ResourceValidationPolicy = {
    name: "rds-storage-encrypted",
    description: "RDS instances and clusters encrypt storage and backups at rest (storageEncrypted: true; a replica may instead name its kmsKeyId).",
    enforcementLevel: "mandatory",
    severity: "high",
    validateResource: [
        validateResourceOfType(RDS_INSTANCE, (instance, args, reportViolation) => {
            const encrypted = read(instance, "storageEncrypted");
            const kmsKeyId = read(instance, "kmsKeyId");
            if (encrypted === true) {
                return;
            }
            if (encrypted === UNKNOWN) {
                notJudgedInPreview(args, ["storageEncrypted"]);
            }
            if (isReplica(instance)) {
                if (kmsKeyId === UNKNOWN || (typeof kmsKeyId === "string" && kmsKeyId !== "")) {
                    return;
                }
                reportViolation(`${args.name}: storageEncrypted is ${show(encrypted)} and kmsKeyId is not set on a read replica; the runbook requires encrypted storage (set storageEncrypted: true or a kmsKeyId in the replica's region)`);
                return;
            }
            reportViolation(`${args.name}: storageEncrypted is ${show(encrypted)}; the runbook requires true (snapshots and backups of an unencrypted instance are unencrypted)`);
        }),
        ...FAMILY_CLUSTERS.map((type) =>
            validateResourceOfType(type, (cluster, args, reportViolation) => {
                const encrypted = read(cluster, "storageEncrypted");
                const kmsKeyId = read(cluster, "kmsKeyId");
                const replica = typeof read(cluster, "replicationSourceIdentifier") === "string";
                if (encrypted === true || (replica && (kmsKeyId === UNKNOWN || typeof kmsKeyId === "string"))) {
                    return;
                }
                known(args, "storageEncrypted", encrypted);
                reportViolation(`${args.name}: storageEncrypted is ${show(encrypted)}; the runbook requires true`);
            }),
        ),
    ],
};

/**
 * A final snapshot on delete. Deleting a read replica never takes a final snapshot (RDS rejects the
 * identifier; the data lives on the source), so replicas are not judged; a promoted replica is a primary.
 */
export const rdsFinalSnapshot: ResourceValidationPolicy = {
    name: "rds-final-snapshot",
    description: "Deleting an RDS primary instance or cluster takes a final snapshot (skipFinalSnapshot not true, finalSnapshotIdentifier set).",
    enforcementLevel: "mandatory",
    severity: "high",
    validateResource: [validateResourceOfType(RDS_INSTANCE, checkFinalSnapshot), ...FAMILY_CLUSTERS.map((type) => validateResourceOfType(type, checkFinalSnapshot))],
};

function checkFinalSnapshot(props: unknown, args: ResourceValidationArgs, reportViolation: ReportViolation): void {
    if (isReplica(props) || typeof read(props, "replicationSourceIdentifier") === "string") {
        return;
    }
    const skip = known(args, "skipFinalSnapshot", read(props, "skipFinalSnapshot"));
    // An identifier unknown until the update is set (a RandomString's result, a name from an output).
    const identifier = read(props, "finalSnapshotIdentifier");
    if (skip === true) {
        reportViolation(`${args.name}: skipFinalSnapshot is true; the runbook requires a final snapshot on delete (skipFinalSnapshot: false with a finalSnapshotIdentifier)`);
    } else if (identifier !== UNKNOWN && (typeof identifier !== "string" || identifier === "")) {
        reportViolation(`${args.name}: finalSnapshotIdentifier is ${show(identifier)}; the runbook requires a final snapshot on delete, which needs a finalSnapshotIdentifier`);
    }
}

/**
 * Multi-AZ for a primary instance in production: the runbook's "AZ failure: 10 minutes, RPO 0" and
 * "Database failure: RDS Multi-AZ failover" rows. Replicas are exempt (the primary's standby covers the AZ);
 * clusters are exempt (Aurora's availability comes from its instances, not a flag).
 */
export const rdsMultiAz: ResourceValidationPolicy = {
    name: "rds-multi-az",
    description: "A primary RDS instance in a stack marked production runs Multi-AZ (multiAz: true).",
    enforcementLevel: "mandatory",
    severity: "high",
    validateResource: validateResourceOfType(RDS_INSTANCE, (instance, args, reportViolation) => {
        if (isReplica(instance) || !isProduction({ ...providerDefaultTags(args.provider?.props), ...readStringMap(instance, "tags") }, args.stackTags, sharedSettings())) {
            return;
        }
        const multiAz = known(args, "multiAz", read(instance, "multiAz"));
        if (multiAz !== true) {
            reportViolation(`${args.name}: multiAz is ${show(multiAz)} on a production primary; the runbook requires true (AZ failure: RTO 10 minutes, RPO 0)`);
        }
    }),
};

/** Redshift keeps 1 day of automated snapshots unless told otherwise (automatedSnapshotRetentionPeriod). */
export const redshiftSnapshotRetention: ResourceValidationPolicy = {
    name: "redshift-snapshot-retention",
    description: "Redshift clusters keep automated snapshots at least as long as the retention table's database row (automatedSnapshotRetentionPeriod; default 1 day).",
    enforcementLevel: "mandatory",
    severity: "critical",
    validateResource: validateResourceOfType(REDSHIFT_CLUSTER, (cluster, args, reportViolation) => {
        checkRetention("Redshift cluster", "a cluster", args, read(cluster, "automatedSnapshotRetentionPeriod"), 1, reportViolation, "automatedSnapshotRetentionPeriod", "Redshift");
    }),
};

export const redshiftFinalSnapshot: ResourceValidationPolicy = {
    name: "redshift-final-snapshot",
    description: "Deleting a Redshift cluster takes a final snapshot (skipFinalSnapshot not true, finalSnapshotIdentifier set).",
    enforcementLevel: "mandatory",
    severity: "high",
    validateResource: validateResourceOfType(REDSHIFT_CLUSTER, checkFinalSnapshot),
};

/**
 * Encryption at rest: `encrypted` true (a boolean in @pulumi/aws v6, the string "true" in v7). Unset, the
 * cluster is encrypted only where the provider's default says so (v7 yes, v6 no): the program must say it.
 */
export const redshiftEncrypted: ResourceValidationPolicy = {
    name: "redshift-encrypted",
    description: "Redshift clusters encrypt data and snapshots at rest (encrypted: true).",
    enforcementLevel: "mandatory",
    severity: "high",
    validateResource: validateResourceOfType(REDSHIFT_CLUSTER, (cluster, args, reportViolation) => {
        const encrypted = known(args, "encrypted", read(cluster, "encrypted"));
        if (encrypted === true || encrypted === "true") {
            return;
        }
        reportViolation(`${args.name}: encrypted is ${show(encrypted)}; the runbook requires true (snapshots of an unencrypted cluster are unencrypted; unset, it depends on the provider's version)`);
    }),
};

export const rdsPolicies = [rdsBackupRetention, rdsDeletionProtection, rdsStorageEncrypted, rdsFinalSnapshot, rdsMultiAz, redshiftSnapshotRetention, redshiftFinalSnapshot, redshiftEncrypted];
