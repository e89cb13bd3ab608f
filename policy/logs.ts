/**
 * CloudWatch log groups that hold audit logs: the "Audit logs" row (1 year). Which groups are audit logs is
 * configurable: by default a name containing "audit" or starting with "/aws/rds/" (the database's exported
 * logs, which carry connection and DDL audit records).
 */
import { ResourceValidationPolicy, validateResourceOfType } from "@pulumi/policy";
import { CLOUDWATCH_RETENTION_DAYS, plural, retentionRow } from "./retention";
import { configOf } from "./config";
import { minimumOf, sharedSettings } from "./settings";
import { known, read, show, UNKNOWN } from "./unknowns";
import { NotANumber, readNumber, showNumber } from "./numbers";
import { resourceType, T } from "./types";

const LOG_GROUP = resourceType(T.logGroup);

const AUDIT = retentionRow("audit");

export const auditLogSchema = {
    properties: {
        auditNameContains: { type: "array" as const, items: { type: "string" as const }, default: ["audit"], description: "A log group whose name contains one of these holds audit logs." },
        auditNamePrefixes: { type: "array" as const, items: { type: "string" as const }, default: ["/aws/rds/"], description: "A log group whose name starts with one of these holds audit logs." },
    },
};

export interface AuditLogConfig {
    auditNameContains: string[];
    auditNamePrefixes: string[];
}

export function logGroupName(props: unknown, resourceName: string): unknown {
    const name = read(props, "name");
    if (name !== undefined) {
        return name;
    }
    const prefix = read(props, "namePrefix");
    return prefix !== undefined ? prefix : resourceName;
}

export function isAuditLogGroup(props: unknown, resourceName: string, config: AuditLogConfig): boolean {
    const name = logGroupName(props, resourceName);
    return typeof name === "string" && (config.auditNameContains.some((s) => name.includes(s)) || config.auditNamePrefixes.some((p) => name.startsWith(p)));
}

/**
 * The log class whose retention CloudWatch Logs fixes: a `DELIVERY` log group keeps events 2 days, and the
 * provider ignores `retentionInDays` there ("forcibly set to 2", the aws provider's LogGroup reference).
 */
export const DELIVERY_CLASS = "DELIVERY";
export const DELIVERY_RETENTION_DAYS = 2;

/** The declared retentionInDays when CloudWatch Logs refuses it (not one of its values), else undefined. */
export function refusedLogRetention(props: unknown): number | undefined {
    if (isDeliveryClass(props) !== false) {
        return undefined;
    }
    const days = readNumber(props, "retentionInDays");
    return typeof days === "number" && !CLOUDWATCH_RETENTION_DAYS.includes(days) ? days : undefined;
}

/** Whether the group is of the DELIVERY class (UNKNOWN while its class is unknown). */
export function isDeliveryClass(props: unknown): boolean | typeof UNKNOWN {
    const logClass = read(props, "logGroupClass");
    return logClass === UNKNOWN ? UNKNOWN : logClass === DELIVERY_CLASS;
}

/**
 * Days kept; Infinity for 0 or unset (CloudWatch's default: never expire); 2 for a DELIVERY log group whatever
 * retentionInDays says (h35 trial: it was judged on retentionInDays, unset = never expire); NotANumber for a
 * value the provider refuses.
 */
export function logRetentionDays(props: unknown): number | typeof UNKNOWN | NotANumber {
    const delivery = isDeliveryClass(props);
    if (delivery !== false) {
        return delivery === UNKNOWN ? UNKNOWN : DELIVERY_RETENTION_DAYS;
    }
    const days = readNumber(props, "retentionInDays");
    if (days === undefined || days === 0) {
        return Infinity;
    }
    return days;
}

const retentionSchema = { properties: { ...auditLogSchema.properties } };

export const auditLogRetention: ResourceValidationPolicy = {
    name: "cloudwatch-audit-log-retention",
    description: `Audit log groups keep events at least as long as the retention table's ${AUDIT.dataType} row (${AUDIT.minimum} days; 0 = never expire is compliant; a DELIVERY-class group keeps 2 days whatever it says; raised or waived in oauth2-dr-settings).`,
    enforcementLevel: "mandatory",
    severity: "high",
    configSchema: retentionSchema,
    validateResource: validateResourceOfType(LOG_GROUP, (group, args, reportViolation) => {
        const config = configOf<AuditLogConfig>(retentionSchema, args);
        const minimumDays = minimumOf(sharedSettings(), "audit");
        if (!isAuditLogGroup(group, args.name, config)) {
            return;
        }
        const days = known(args, isDeliveryClass(group) === UNKNOWN ? "logGroupClass" : "retentionInDays", logRetentionDays(group));
        if (isDeliveryClass(group) === true && typeof days === "number" && days < minimumDays) {
            reportViolation(`${args.name}: logGroupClass is "${DELIVERY_CLASS}", which keeps events ${plural(DELIVERY_RETENTION_DAYS, "days")} whatever retentionInDays says (${showNumber(readNumber(group, "retentionInDays"))}); the retention table requires at least ${plural(minimumDays, "days")} (${AUDIT.dataType}): use the STANDARD or INFREQUENT_ACCESS class`);
        } else if (typeof days !== "number" || days < minimumDays) {
            reportViolation(`${args.name}: retentionInDays is ${showNumber(days)}; the retention table requires at least ${plural(minimumDays, "days")} (${AUDIT.dataType}) or 0 (never expire)`);
        } else if (refusedLogRetention(group) !== undefined) {
            reportViolation(`${args.name}: retentionInDays is ${plural(days, "days")}, a value CloudWatch Logs refuses (it accepts ${CLOUDWATCH_RETENTION_DAYS.filter((d) => d > 0).join(", ")} or 0, never expire): the log group is not created; the retention table requires at least ${plural(minimumDays, "days")} (${AUDIT.dataType}), e.g. 365, 400 or 0`);
        }
    }),
};

const kmsSchema = { properties: { ...auditLogSchema.properties } };

export const auditLogKms: ResourceValidationPolicy = {
    name: "cloudwatch-audit-log-kms",
    description: "Audit log groups are encrypted with a customer-managed KMS key (kmsKeyId set).",
    enforcementLevel: "mandatory",
    severity: "medium",
    configSchema: kmsSchema,
    validateResource: validateResourceOfType(LOG_GROUP, (group, args, reportViolation) => {
        const config = configOf<AuditLogConfig>(kmsSchema, args);
        if (!isAuditLogGroup(group, args.name, config)) {
            return;
        }
        const key = read(group, "kmsKeyId");
        if (key !== UNKNOWN && (typeof key !== "string" || key === "")) {
            reportViolation(`${args.name}: kmsKeyId is ${show(key)}; the runbook requires audit logs encrypted with a customer-managed KMS key`);
        }
    }),
};

export const logPolicies = [auditLogRetention, auditLogKms];
