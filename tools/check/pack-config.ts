/**
 * Policy config files (`--policy-config FILE`, the file `pulumi preview --policy-pack-config FILE` reads),
 * validated with JSON Schema (ajv) against each policy's configSchema, as the CLI does, and stricter.
 */
import type Ajv from "ajv";
import type { ErrorObject, ValidateFunction } from "ajv";
import { Policies } from "@pulumi/policy";
import { SETTINGS_POLICY_NAME } from "../../policy/settings";
import { PackConfig } from "offline-plan/policy-harness";

const LEVELS = ["advisory", "mandatory", "remediate", "disabled"];

/**
 * Made on the first policy config block to check: ajv and its meta-schemas cost the checker about 23 ms of CPU,
 * and a check without --policy-config (CI's) has nothing to validate.
 */
let ajv: Ajv | undefined;
function ajvOnce(): Ajv {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { default: AjvClass } = require("ajv") as typeof import("ajv");
    return (ajv ??= new AjvClass({ allErrors: true, strict: false, verbose: true }));
}

/**
 * The JSON Schema the CLI checks a policy's block against (pulumi/pulumi analyzer config.go convertSchema:
 * an object with the policy's properties and required), plus what the CLI lets through silently and we
 * refuse: unknown keys (a typo would otherwise drop a setting without a word).
 */
function blockSchema(policy: Policies[number] | undefined): object {
    return {
        type: "object",
        properties: { enforcementLevel: { enum: LEVELS }, ...(policy?.configSchema?.properties ?? {}) },
        required: policy?.configSchema?.required ?? [],
        additionalProperties: false,
    };
}

const validators = new WeakMap<object, ValidateFunction>();

function validatorFor(policy: Policies[number] | undefined): ValidateFunction {
    const key = policy ?? blockSchema;
    let validate = validators.get(key);
    if (!validate) {
        validate = ajvOnce().compile(blockSchema(policy));
        validators.set(key, validate);
    }
    return validate;
}

/** "rds-multi-az.production: must be equal to one of the allowed values ("auto", "always", "never")". */
function describeError(name: string, error: ErrorObject): string {
    const where = `${name}${error.instancePath.replace(/\//g, ".")}`;
    switch (error.keyword) {
        case "additionalProperties": {
            const key = (error.params as { additionalProperty: string }).additionalProperty;
            return `${where}: "${key}" is not a setting here (settings: ${Object.keys(((error.parentSchema ?? {}) as { properties?: object }).properties ?? {}).filter((k) => k !== "enforcementLevel").join(", ") || "none"})`;
        }
        case "enum":
            return `${where}: ${JSON.stringify(error.data)} is not one of ${(error.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(", ")}`;
        case "minimum":
            return `${where}: ${JSON.stringify(error.data)} is below the minimum ${(error.params as { limit: number }).limit}${name === SETTINGS_POLICY_NAME ? " (the retention table; lower a row only with a waiver: waivers: [{ row, value, reason, approvedBy }])" : ""}`;
        default:
            return `${where}: ${error.message ?? error.keyword}${error.keyword === "type" ? `, got ${Array.isArray(error.data) ? "array" : error.data === null ? "null" : typeof error.data}` : ""}`;
    }
}

/**
 * Rejects what the Pulumi CLI would reject (unknown enforcement levels; each block checked against its
 * policy's JSON Schema with ajv: types, required, minimum, enum) and more: unknown policies, unknown keys,
 * and disabling oauth2-dr-settings (the other policies would silently fall back to the defaults).
 */
export function validatePackConfig(config: PackConfig, policies: Policies): string[] {
    const problems: string[] = [];
    const byName = new Map(policies.map((p) => [p.name, p]));
    for (const [name, entry] of Object.entries(config)) {
        const policy = byName.get(name);
        if (!policy && name !== "all") {
            problems.push(`"${name}" is not a policy of the pack`);
            continue;
        }
        const settings = typeof entry === "string" ? { enforcementLevel: entry } : entry;
        if (typeof settings !== "object" || settings === null || Array.isArray(settings)) {
            problems.push(`${name}: expected an enforcement level or an object of settings`);
            continue;
        }
        if (name === "all" && Object.keys(settings).some((k) => k !== "enforcementLevel")) {
            problems.push(`all: only "enforcementLevel" applies to every policy; put shared settings under "${SETTINGS_POLICY_NAME}"`);
            continue;
        }
        if (name === SETTINGS_POLICY_NAME && settings.enforcementLevel === "disabled") {
            problems.push(`${SETTINGS_POLICY_NAME}: cannot be disabled; it carries the settings every other policy reads`);
        }
        const validate = validatorFor(policy);
        if (!validate(settings)) {
            problems.push(...(validate.errors ?? []).map((error) => describeError(name, error)));
        }
    }
    return problems;
}
