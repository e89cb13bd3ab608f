/**
 * Route 53 failover records: Route 53 only fails over away from a PRIMARY record when a health check tells
 * it the primary is down, so a PRIMARY record without healthCheckId never fails over (the runbook's
 * "Update DNS" step would be manual again). SECONDARY health checks are optional (configurable).
 */
import { ResourceValidationPolicy, validateResourceOfType } from "@pulumi/policy";
import { configOf } from "./config";
import { known, read, readArray, show, UNKNOWN } from "./unknowns";
import { resourceType, T } from "./types";

const RECORD = resourceType(T.record);

const schema = {
    properties: {
        requireHealthCheckFor: {
            type: "array" as const,
            items: { type: "string" as const, enum: ["PRIMARY", "SECONDARY"] },
            default: ["PRIMARY"],
            description: "Failover record types that must carry a healthCheckId.",
        },
    },
};

export const route53FailoverHealthCheck: ResourceValidationPolicy = {
    name: "route53-failover-health-check",
    description: "Route 53 PRIMARY failover records carry a health check (healthCheckId), so Route 53 fails over to the DR region by itself.",
    enforcementLevel: "mandatory",
    severity: "high",
    configSchema: schema,
    validateResource: validateResourceOfType(RECORD, (record, args, reportViolation) => {
        const { requireHealthCheckFor } = configOf<{ requireHealthCheckFor: string[] }>(schema, args);
        const policies = known(args, "failoverRoutingPolicies", readArray(record, "failoverRoutingPolicies"));
        if (policies === undefined) {
            return;
        }
        const types = policies.map((p) => read(p, "type")).filter((t): t is string => typeof t === "string");
        const required = types.find((t) => requireHealthCheckFor.includes(t));
        const healthCheckId = read(record, "healthCheckId");
        if (required !== undefined && healthCheckId !== UNKNOWN && (typeof healthCheckId !== "string" || healthCheckId === "")) {
            reportViolation(`${args.name}: ${required} failover record has healthCheckId ${show(healthCheckId)}; the runbook requires a health check so Route 53 fails over to the DR region without an operator`);
        }
    }),
};

export const dnsPolicies = [route53FailoverHealthCheck];
