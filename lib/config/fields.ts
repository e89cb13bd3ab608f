/**
 * zod schemas for raw configuration values. Pulumi hands every value over as a string (structured values as
 * one JSON string, parsed once by `json`); inside a structured value (a section such as backupJobs) values
 * are JSON values, checked by zod where they stand. So each scalar schema takes the string form and the JSON
 * form alike ("true" or true, "35" or 35) and yields the typed value, with the messages the configuration
 * has always given: they follow the key on one line ("oauth2-dr:allocatedStorageGb: "9" is not an integer
 * between 20 and 65536", "oauth2-dr:backupJobs.schedules.dbBackup: ...").
 */
import { z } from "zod";

/** A value as people wrote it, for messages: a string as it is, anything else as its JSON. */
function textOf(value: unknown): string {
    return typeof value === "string" ? value : JSON.stringify(value);
}

/** Text; inside a section a number or a boolean written without quotes is taken as its text. */
export const text = z.union([z.string(), z.number().transform(String), z.boolean().transform(String)], {
    error: (issue) => `${textOf(issue.input)} is not text`,
});

/** Text that matches `pattern`; `message` names the format. */
export function matching(pattern: RegExp, message: (value: string) => string) {
    return text.superRefine((value, ctx) => {
        if (!pattern.test(value)) {
            ctx.addIssue({ code: "custom", message: message(value) });
        }
    });
}

/** One of `allowed`: `"oci" is not one of aws, azure, gcp`. */
export function oneOf<const T extends readonly [string, ...string[]]>(allowed: T) {
    return z.enum(allowed, { error: (issue) => `${JSON.stringify(issue.input)} is not one of ${allowed.join(", ")}` });
}

/**
 * A whole number as people write one: a JSON number, or decimal digits in a string ("30", as Pulumi hands
 * over every value). Anything else is not one, whatever Number() makes of it: "" and null (0), true (1),
 * [35] (35), "0x1e" (30), "3e1".
 */
export function wholeNumber(raw: unknown): number | undefined {
    const value = typeof raw === "string" && /^\s*[+-]?\d+\s*$/.test(raw) ? Number(raw) : raw;
    return typeof value === "number" && Number.isInteger(value) ? value : undefined;
}

/** A whole number in [min, max], written as a string (or, inside a section, as a number). */
export function integer(min: number, max: number) {
    return z.unknown().transform((raw, ctx) => {
        const value = wholeNumber(raw);
        if (value === undefined || value < min || value > max) {
            ctx.addIssue({ code: "custom", message: `${JSON.stringify(textOf(raw))} is not an integer between ${min} and ${max}` });
            return z.NEVER;
        }
        return value;
    });
}

/** "true" or "false" (or, inside a section, true or false). */
export const boolean = z.unknown().transform((raw, ctx) => {
    if (raw === true || raw === "true") {
        return true;
    }
    if (raw === false || raw === "false") {
        return false;
    }
    ctx.addIssue({ code: "custom", message: `"${textOf(raw)}" is not true or false` });
    return z.NEVER;
});

/** A structured value: the JSON string parsed, then checked by `inner`. */
export function json<T extends z.ZodType>(inner: T) {
    return z
        .string()
        .transform((raw, ctx): unknown => {
            try {
                return JSON.parse(raw);
            } catch {
                ctx.addIssue({ code: "custom", message: `is not valid structured configuration: ${raw.slice(0, 60)}` });
                return z.NEVER;
            }
        })
        .pipe(inner);
}

/** A JSON list of strings, each matching `pattern`: subnet ids, security groups, snapshot ids. */
export function stringList(pattern: RegExp, what: string) {
    return json(
        z.unknown().transform((value, ctx): string[] => {
            if (!Array.isArray(value) || value.some((v) => typeof v !== "string")) {
                ctx.addIssue({ code: "custom", message: `must be a list of ${what}` });
                return z.NEVER;
            }
            const bad = value.find((v: string) => !pattern.test(v));
            if (bad !== undefined) {
                ctx.addIssue({ code: "custom", message: `"${bad}" is not a valid ${what.replace(/s$/, "")}` });
            }
            return value as string[];
        }),
    );
}

/** A JSON map of strings (tags). */
export const stringMap = json(
    z.unknown().transform((value, ctx): Record<string, string> => {
        if (typeof value !== "object" || value === null || Array.isArray(value)) {
            ctx.addIssue({ code: "custom", message: "must be a map of strings" });
            return z.NEVER;
        }
        const bad = Object.entries(value).find(([, v]) => typeof v !== "string");
        if (bad) {
            ctx.addIssue({ code: "custom", message: `tag "${bad[0]}" must be a string` });
        }
        return value as Record<string, string>;
    }),
);

/** A JSON map (of anything): checked entry by entry by the caller's schema. */
export function jsonMap(message: string) {
    return json(
        z.unknown().transform((value, ctx): Record<string, unknown> => {
            if (typeof value !== "object" || value === null || Array.isArray(value)) {
                ctx.addIssue({ code: "custom", message });
                return z.NEVER;
            }
            return value as Record<string, unknown>;
        }),
    );
}

/**
 * A structured section (`backupJobs`, `azure`, ...): a JSON map whose entries are checked by `shape`'s
 * schemas as the JSON values they are ("" and null count as absent). Unknown keys are kept: the sections
 * that refuse them say so in a rule between keys (refinements.ts), so that the section's valid keys are
 * still checked against the others.
 */
export function section<S extends z.ZodRawShape>(shape: S) {
    return jsonMap(`must be a map with the keys ${Object.keys(shape).join(", ")}`)
        .transform((value): Record<string, unknown> => Object.fromEntries(Object.entries(value).filter(([, v]) => v !== null && v !== undefined && v !== "")))
        .pipe(z.looseObject(shape));
}

/** A check of a map's keys that runs even when one of its values has a problem: every problem at once. */
const ALSO_BESIDE_OTHER_PROBLEMS = { when: (payload: { value: unknown }) => typeof payload.value === "object" && payload.value !== null && !Array.isArray(payload.value) };

/**
 * Inside a section, a map keyed by names of `what` (jobs, ...): `keys` are the names it knows, each entry
 * is checked by `value`, and an unknown name is a problem of its own, on its own line.
 */
export function namedMap<V extends z.ZodType>(what: string, keys: readonly string[], value: V) {
    return z.record(z.string(), value, { error: () => `must be a map of ${what} names to values` }).superRefine((map, ctx) => {
        for (const key of Object.keys(map)) {
            if (!keys.includes(key)) {
                ctx.addIssue({ code: "custom", path: [key], message: `unknown ${what}; the ${what}s are ${keys.join(", ")}` });
            }
        }
    }, ALSO_BESIDE_OTHER_PROBLEMS);
}

/** Inside a section, an object of the keys of `shape` only: another key is a problem on its own line. */
export function closedObject<S extends z.ZodRawShape>(shape: S) {
    const known = Object.keys(shape);
    return z.looseObject(shape, { error: () => `must be a map with the keys ${known.join(", ")}` }).superRefine((value, ctx) => {
        for (const key of Object.keys(value)) {
            if (!known.includes(key)) {
                ctx.addIssue({ code: "custom", path: [key], message: `unknown key; the keys are ${known.join(", ")}` });
            }
        }
    }, ALSO_BESIDE_OTHER_PROBLEMS);
}
