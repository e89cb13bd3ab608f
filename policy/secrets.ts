/**
 * Secrets Manager: the "Secrets/Keys" row (Critical). Secrets Manager keeps no fixed number of versions;
 * the table's 7 versions are kept in the versioned secrets/ prefix of the backup bucket (see lifecycle.ts).
 * Here: a customer-managed key (so the secret's readers are governed by our key policy and the replica has
 * its own regional key), a recovery window (a deleted secret can be restored), and for Critical secrets a
 * replica in another region (a regional failover finds them there).
 */
import { ResourceValidationArgs, ResourceValidationPolicy, validateResourceOfType } from "@pulumi/policy";
import { retentionRow, SECRETS_MANAGER_RECOVERY_WINDOW_DAYS } from "./retention";
import { configOf, globMatch } from "./config";
import { known, notJudgedInPreview, read, readArray, show, UNKNOWN } from "./unknowns";
import { readNumber, showNumber } from "./numbers";
import { resourceType, T } from "./types";

const SECRET = resourceType(T.secret);

const SECRETS = retentionRow("secrets");
const AWS_MANAGED_KEYS = ["alias/aws/secretsmanager", "aws/secretsmanager"];

export const secretsKmsKey: ResourceValidationPolicy = {
    name: "secretsmanager-customer-managed-key",
    description: "Secrets Manager secrets are encrypted with a customer-managed KMS key (kmsKeyId set, not aws/secretsmanager).",
    enforcementLevel: "mandatory",
    severity: "high",
    validateResource: validateResourceOfType(SECRET, (secret, args, reportViolation) => {
        const key = read(secret, "kmsKeyId");
        if (key === UNKNOWN) {
            return;
        }
        if (typeof key !== "string" || key === "" || AWS_MANAGED_KEYS.includes(key)) {
            reportViolation(`${args.name}: kmsKeyId is ${show(key)}; the runbook requires a customer-managed KMS key`);
        }
    }),
};

/** Secrets Manager's longest recovery window; it refuses more. */
const MAX_RECOVERY_WINDOW_DAYS = SECRETS_MANAGER_RECOVERY_WINDOW_DAYS.max;

const recoverySchema = {
    properties: {
        minimumRecoveryWindowDays: { type: "integer" as const, minimum: SECRETS_MANAGER_RECOVERY_WINDOW_DAYS.min, maximum: MAX_RECOVERY_WINDOW_DAYS, default: 7, description: "Shortest recovery window accepted (Secrets Manager allows 7-30; 0 deletes at once)." },
    },
};

/** Unset is the provider default of 30 days: compliant. 0 deletes the secret without recovery; above 30 is refused. */
export const secretsRecoveryWindow: ResourceValidationPolicy = {
    name: "secretsmanager-recovery-window",
    description: "Deleted Secrets Manager secrets stay recoverable (recoveryWindowInDays not 0, at least 7 days by default).",
    enforcementLevel: "mandatory",
    severity: "high",
    configSchema: recoverySchema,
    validateResource: validateResourceOfType(SECRET, (secret, args, reportViolation) => {
        const { minimumRecoveryWindowDays } = configOf<{ minimumRecoveryWindowDays: number }>(recoverySchema, args);
        const days = known(args, "recoveryWindowInDays", readNumber(secret, "recoveryWindowInDays"));
        if (days === undefined) {
            return;
        }
        if (typeof days !== "number" || days < minimumRecoveryWindowDays) {
            reportViolation(`${args.name}: recoveryWindowInDays is ${showNumber(days)}; the runbook requires at least ${minimumRecoveryWindowDays} days so a deleted secret can be restored${days === 0 ? " (0 deletes it immediately)" : ""}`);
        } else if (days > MAX_RECOVERY_WINDOW_DAYS) {
            // Secrets Manager (and the provider's validation) accepts 0 or 7-30: the secret is never created (h35 trial).
            reportViolation(`${args.name}: recoveryWindowInDays is ${showNumber(days)}, above the ${MAX_RECOVERY_WINDOW_DAYS} Secrets Manager accepts (0 or 7-30): the secret is not created; the runbook requires ${minimumRecoveryWindowDays} to ${MAX_RECOVERY_WINDOW_DAYS} days`);
        }
    }),
};

export const criticalSecretSchema = {
    properties: {
        criticalSecretNames: {
            type: "array" as const,
            items: { type: "string" as const },
            default: ["oauth2/*"],
            description: `Name patterns (* matches anything) of secrets in the table's ${SECRETS.priority} "${SECRETS.dataType}" class.`,
        },
    },
};

/** Whether the secret is Critical (criticalSecret); false while its name is unknown (the retention matrix's reading). */
export function isCriticalSecret(secret: unknown, resourceName: string, patterns: string[]): boolean {
    return criticalSecret(secret, resourceName, patterns) === true;
}

/**
 * Whether the secret's name as Secrets Manager will know it matches a Critical pattern: `name`; with `namePrefix`,
 * the prefix and the unique suffix the provider appends (a pattern must accept any suffix: "oauth2/signing-" + "*"
 * matches `oauth2/*`); else the Pulumi name (auto-naming). UNKNOWN while the name it decides on is unknown
 * (`name: pulumi.interpolate\`oauth2/${env}/...\`` over an outside stack's output): the resource name is not the
 * secret's name then (h35 trial: such a secret was judged by its resource name, taken for a non-Critical one and passed).
 */
export function criticalSecret(secret: unknown, resourceName: string, patterns: string[]): boolean | typeof UNKNOWN {
    const name = read(secret, "name");
    const prefix = read(secret, "namePrefix");
    if (name === UNKNOWN || (name === undefined && prefix === UNKNOWN)) {
        return UNKNOWN;
    }
    const candidate = typeof name === "string" ? name : typeof prefix === "string" ? `${prefix}*` : resourceName;
    return patterns.some((pattern) => globMatch(pattern, candidate));
}

/** The secret's own region: its `region` input (aws v7) or its provider's region. */
export function ownRegion(props: unknown, provider: ResourceValidationArgs["provider"]): unknown {
    const region = read(props, "region");
    return region !== undefined ? region : read(provider?.props, "region");
}

/** Regions of the secret's replicas that differ from its own; UNKNOWN if they cannot be told yet. */
export function crossRegionReplicas(secret: unknown, region: unknown): string[] | typeof UNKNOWN {
    const replicas = readArray(secret, "replicas");
    if (replicas === UNKNOWN || region === UNKNOWN) {
        return UNKNOWN;
    }
    const regions = (replicas ?? []).map((r) => read(r, "region"));
    if (regions.some((r) => r === UNKNOWN)) {
        return UNKNOWN;
    }
    return regions.filter((r): r is string => typeof r === "string" && r !== "" && r !== region);
}

export const secretsCriticalReplica: ResourceValidationPolicy = {
    name: "secretsmanager-critical-replica",
    description: `Secrets of the table's ${SECRETS.priority} class (named oauth2/* by default) have a replica in another region.`,
    enforcementLevel: "mandatory",
    severity: "critical",
    configSchema: criticalSecretSchema,
    validateResource: validateResourceOfType(SECRET, (secret, args, reportViolation) => {
        const { criticalSecretNames } = configOf<{ criticalSecretNames: string[] }>(criticalSecretSchema, args);
        const critical = criticalSecret(secret, args.name, criticalSecretNames);
        if (critical === false) {
            return;
        }
        const region = ownRegion(secret, args.provider);
        if (critical === UNKNOWN) {
            // Replicated to another region: met whatever the name. Else whether it must be is not known yet.
            const regions = crossRegionReplicas(secret, region);
            if (regions !== UNKNOWN && regions.length > 0) {
                return;
            }
            notJudgedInPreview(args, [read(secret, "name") === UNKNOWN ? "name" : "namePrefix"], `whether the secret is ${SECRETS.priority} (criticalSecretNames ${criticalSecretNames.join(", ")}) and so needs a replica in another region`);
        }
        const replicas = known(args, region === UNKNOWN ? "the secret's region" : "replicas[].region", crossRegionReplicas(secret, region));
        if (replicas.length === 0) {
            const declared = readArray(secret, "replicas");
            const found = declared === undefined || declared === UNKNOWN || declared.length === 0 ? "no replicas" : `replicas only in ${show(region)}`;
            reportViolation(`${args.name}: has ${found} (secret region ${show(region)}); the retention table marks ${SECRETS.dataType} ${SECRETS.priority}, which requires a replica in another region (replicas[].region)`);
        }
    }),
};

export const secretsPolicies = [secretsKmsKey, secretsRecoveryWindow, secretsCriticalReplica];
