/**
 * Stack policies for the runbook as a whole: every row of the retention table is implemented (or waived
 * with a reason), and the stack plays its part of the DR topology.
 */
import { StackValidationPolicy } from "@pulumi/policy";
import { configOf } from "./config";
import { indexStack } from "./resources";
import { MatrixConfig, matrixSchema, retentionMatrix } from "./retention-matrix";
import { crossRegionReplicas, failoverRecords, ROLE_SCHEMA, RoleConfig, stackRole } from "./roles";
import { BACKUP_BUCKET_SCHEMA, BackupBucketConfig } from "./config";

export const retentionTableCoverage: StackValidationPolicy = {
    name: "retention-table-coverage",
    description: "Every row of the runbook's retention table is implemented by at least one resource of the stack, or waived in policy config with a reason.",
    enforcementLevel: "mandatory",
    severity: "critical",
    configSchema: matrixSchema,
    validateStack: (args, reportViolation) => {
        const config = configOf<MatrixConfig>(matrixSchema, args);
        const index = indexStack(args.resources, config);
        const role = stackRole(index, args.resources, args.stackTags, config);
        for (const row of retentionMatrix(index, config, role)) {
            if (row.status === "missing") {
                const why = row.shortfalls.length > 0 ? `: ${row.shortfalls.join("; ")}` : ": no resource in the stack implements it";
                reportViolation(`retention table row "${row.dataType}" (${row.dataClass}, ${row.required}, ${row.priority}) is not met; found ${row.found}${why}`);
            }
        }
    },
};

const topologySchema = { properties: { ...BACKUP_BUCKET_SCHEMA, ...ROLE_SCHEMA } };

/**
 * A primary stack has a PRIMARY failover record (its health check is `route53-failover-health-check`); a
 * standby stack has the SECONDARY record and a cross-region database replica. A stack whose role cannot be
 * told is not judged. A promoted standby (replica turned primary) fails this policy until its role is
 * changed in policy config (`role: primary`), which is the point: the topology changed.
 */
export const drFailoverTopology: StackValidationPolicy = {
    name: "dr-failover-topology",
    description: "A primary stack declares the PRIMARY Route 53 failover record; a standby stack declares the SECONDARY record and a cross-region database replica.",
    enforcementLevel: "mandatory",
    severity: "critical",
    configSchema: topologySchema,
    validateStack: (args, reportViolation) => {
        const config = configOf<BackupBucketConfig & RoleConfig>(topologySchema, args);
        const index = indexStack(args.resources, config);
        const role = stackRole(index, args.resources, args.stackTags, config);
        if (role === "unknown") {
            args.notApplicable("the stack's role (primary or standby) cannot be told: no role tag, stack tag, failover record or replica");
        }
        if (role === "primary") {
            if (failoverRecords(index, "PRIMARY").length === 0) {
                reportViolation('primary stack has no Route 53 record with failoverRoutingPolicies type "PRIMARY"; the runbook requires DNS failover to the DR region (Region failure: RTO 1 hour)');
            }
            return;
        }
        if (failoverRecords(index, "SECONDARY").length === 0) {
            reportViolation('standby stack has no Route 53 record with failoverRoutingPolicies type "SECONDARY"; the runbook requires the DR region to answer when the primary fails its health check');
        }
        if (crossRegionReplicas(index).length === 0) {
            reportViolation("standby stack has no cross-region database replica (an RDS instance whose replicateSourceDb is an ARN in another region, an Azure createMode Replica server or a Cloud SQL replica); the runbook requires streaming replication to the DR region (Region failure: RPO 1 hour)");
        }
    },
};

export const stackPolicies = [retentionTableCoverage, drFailoverTopology];
