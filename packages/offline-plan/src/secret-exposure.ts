/**
 * A secret config value that a program reads with config.require (not requireSecret) reaches its resources
 * as a plain string: under \`pulumi up\` it is stored unencrypted in the state and shown by \`pulumi preview\`.
 * The planner finds such values, replaces them with "[secret]" in what it records (so that no output of this
 * tool shows them; a policy still sees that the input is not marked secret) and says where each one went.
 */
import { ExposedSecret, isSecret, PlannedResource, SECRET_TEXT } from "./model";

/** Shorter values (a port, "true") would match unrelated text; a real secret is longer. */
const MIN_SECRET_LENGTH = 6;

interface Scan {
    secrets: Array<[key: string, value: string]>;
    found: ExposedSecret[];
}

function scrub(value: unknown, where: string, scan: Scan): unknown {
    if (typeof value === "string") {
        let text = value;
        for (const [key, secret] of scan.secrets) {
            if (text.includes(secret)) {
                text = text.split(secret).join(SECRET_TEXT);
                if (!scan.found.some((f) => f.key === key && f.where === where)) {
                    scan.found.push({ key, where });
                }
            }
        }
        return text;
    }
    if (isSecret(value)) {
        return value;
    }
    if (Array.isArray(value)) {
        return value.map((v) => scrub(v, where, scan));
    }
    if (value && typeof value === "object") {
        return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, scrub(v, where, scan)]));
    }
    return value;
}

/** Scrubs `resources` (in place) and `outputs`; returns the scrubbed outputs and where each secret went. */
export function scrubExposedSecrets(
    secrets: Record<string, string>,
    resources: PlannedResource[],
    outputs: Record<string, unknown>,
): { outputs: Record<string, unknown>; exposed: ExposedSecret[] } {
    const scan: Scan = { secrets: Object.entries(secrets).filter(([, v]) => v.length >= MIN_SECRET_LENGTH), found: [] };
    if (scan.secrets.length === 0) {
        return { outputs, exposed: [] };
    }
    for (const resource of resources) {
        for (const [property, value] of Object.entries(resource.inputs)) {
            resource.inputs[property] = scrub(value, `${resource.type} ${resource.name} ${property}`, scan);
        }
    }
    const scrubbed = Object.fromEntries(Object.entries(outputs).map(([name, value]) => [name, scrub(value, `output ${name}`, scan)]));
    return { outputs: scrubbed, exposed: scan.found };
}
