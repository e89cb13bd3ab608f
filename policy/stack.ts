/**
 * Stack policies for the runbook as a whole: every row of the retention table is implemented (or waived
 * with a reason), and the stack plays its part of the DR topology.
 */
import { StackValidationPolicy } from "@pulumi/policy";
import { configOf } from "./config";
import { indexStack } from "./resources";
import { MatrixConfig, matrixSchema, stackMatrix } from "./retention-matrix";
import { crossRegionReplicas, failoverRecords, stackRole } from "./roles";
import { sharedSettings } from "./settings";

export const retentionTableCoverage: StackValidationPolicy = {
    name: "retention-table-coverage",
    description: "Every row of the runbook's retention table that applies to the stack (oauth2-dr-settings dataClasses, the stack tag, the server's role, or the data it holds) is implemented, and met by every resource that implements it, or waived in oauth2-dr-settings.",
    enforcementLevel: "mandatory",
    severity: "critical",
    configSchema: matrixSchema,
    validateStack: (args, reportViolation) => {
        const { rows } = stackMatrix(args.resources, args.stackTags, sharedSettings(), configOf<MatrixConfig>(matrixSchema, args));
        for (const row of rows) {
            if (row.status === "missing") {
                const why = row.shortfalls.length > 0 ? `: ${row.shortfalls.join("; ")}` : ": no resource in the stack implements it";
                reportViolation(`retention table row "${row.dataType}" (${row.dataClass}, ${row.required}, ${row.priority}) is not met; it applies because ${row.scope}; found ${row.found}${why}`);
            }
        }
    },
};

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
    validateStack: (args, reportViolation) => {
        const settings = sharedSettings();
        const index = indexStack(args.resources, settings);
        const role = stackRole(index, args.resources, args.stackTags, settings);
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
