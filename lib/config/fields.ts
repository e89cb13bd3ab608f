/**
 * zod schemas for raw configuration values. Pulumi hands every value over as a string (structured values as
 * one JSON string), so each schema takes a string and yields the typed value, with the messages the
 * configuration has always given: they follow the key on one line ("oauth2-dr:allocatedStorageGb: "9" is
 * not an integer between 20 and 65536").
 */
import { z } from "zod";

/** A string that matches `pattern`; `what` names the format in the message. */
export function matching(pattern: RegExp, message: (value: string) => string) {
    return z.string().superRefine((value, ctx) => {
        if (!pattern.test(value)) {
            ctx.addIssue({ code: "custom", message: message(value) });
        }
    });
}

/** One of `allowed`: `"oci" is not one of aws, azure, gcp`. */
export function oneOf<const T extends readonly [string, ...string[]]>(allowed: T) {
    return z.enum(allowed, { error: (issue) => `${JSON.stringify(issue.input)} is not one of ${allowed.join(", ")}` });
}

/** A whole number in [min, max], written as a string. */
export function integer(min: number, max: number) {
    return z.string().transform((raw, ctx) => {
        const value = Number(raw);
        if (!Number.isInteger(value) || value < min || value > max) {
            ctx.addIssue({ code: "custom", message: `${JSON.stringify(raw)} is not an integer between ${min} and ${max}` });
            return z.NEVER;
        }
        return value;
    });
}

/** "true" or "false". */
export const boolean = z.string().transform((raw, ctx) => {
    if (raw !== "true" && raw !== "false") {
        ctx.addIssue({ code: "custom", message: `"${raw}" is not true or false` });
        return z.NEVER;
    }
    return raw === "true";
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
 * A structured section (`backupJobs`, `azure`, ...): a JSON map whose values are read like top-level
 * values (strings; anything else as its JSON text, "" and null as absent), then checked by `shape`'s
 * schemas. Unknown keys are kept: the sections that refuse them say so in a rule between keys
 * (refinements.ts), so that the section's valid keys are still checked against the others.
 */
export function section<S extends z.ZodRawShape>(shape: S) {
    return jsonMap(`must be a map with the keys ${Object.keys(shape).join(", ")}`)
        .transform((value): unknown =>
            Object.fromEntries(
                Object.entries(value)
                    .filter(([, v]) => v !== null && v !== undefined && v !== "")
                    .map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]),
            ),
        )
        .pipe(z.looseObject(shape));
}
