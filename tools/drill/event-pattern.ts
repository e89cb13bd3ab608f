/**
 * EventBridge event-pattern matching, for the operators our rules use (components/retention-alarm.ts), as the
 * EventBridge User Guide ("Event patterns", "Content filtering") states them:
 *  - a pattern object's every field must match (AND); a field the event lacks matches nothing but
 *    `{"exists": false}`;
 *  - a leaf is an array of alternatives (OR): a string, number, boolean or null matches that exact value
 *    (strings are case-sensitive, numbers compare as numbers); `{"prefix": s}` a string starting with s;
 *    `{"wildcard": s}` a string s describes, `*` standing for any characters (none too) and `\\*` for a star;
 *    `{"anything-but": v | [v...] | {"prefix": s}}` a value (of the same kind) that is none of them;
 *    `{"numeric": [op, n, (op, n)]}` a number (not a string of digits) with every comparison true;
 *    `{"exists": bool}` whether the field is there;
 *  - an array value in the event matches when any of its elements does.
 * Anything else (suffix, cidr, $or, equals-ignore-case) throws: an operator we do not evaluate is
 * never read as a match or a miss.
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const NUMERIC_OPERATORS: Record<string, (a: number, b: number) => boolean> = {
    "<": (a, b) => a < b,
    "<=": (a, b) => a <= b,
    "=": (a, b) => a === b,
    ">=": (a, b) => a >= b,
    ">": (a, b) => a > b,
};

function isObject(value: unknown): value is Record<string, unknown> {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Whether `event` matches `pattern` (both parsed JSON). */
export function matchesPattern(pattern: unknown, event: unknown): boolean {
    if (!isObject(pattern)) {
        throw new Error(`event pattern: expected an object, got ${JSON.stringify(pattern)}`);
    }
    return matchObject(pattern, event, "");
}

function matchObject(pattern: Record<string, unknown>, event: unknown, path: string): boolean {
    for (const [key, expected] of Object.entries(pattern)) {
        if (key.startsWith("$")) {
            throw new Error(`event pattern: ${path}${key} is not evaluated here`);
        }
        const present = isObject(event) && Object.prototype.hasOwnProperty.call(event, key);
        const value = present ? (event as Record<string, unknown>)[key] : undefined;
        if (isObject(expected)) {
            if (!present || !matchObject(expected, value, `${path}${key}.`)) {
                return false;
            }
            continue;
        }
        if (!Array.isArray(expected)) {
            throw new Error(`event pattern: ${path}${key} must be an array of values or an object, got ${JSON.stringify(expected)}`);
        }
        if (!matchLeaf(expected, present, value, `${path}${key}`)) {
            return false;
        }
    }
    return true;
}

function matchLeaf(alternatives: unknown[], present: boolean, value: unknown, path: string): boolean {
    const values: unknown[] = Array.isArray(value) ? value : [value];
    return alternatives.some((alternative) => {
        if (isObject(alternative) && "exists" in alternative) {
            if (typeof alternative.exists !== "boolean" || Object.keys(alternative).length !== 1) {
                throw new Error(`event pattern: ${path}: exists takes true or false alone`);
            }
            return alternative.exists === present;
        }
        return present && values.some((v) => matchValue(alternative, v as Json, path));
    });
}

function matchValue(alternative: unknown, value: Json, path: string): boolean {
    if (!isObject(alternative)) {
        if (Array.isArray(alternative)) {
            throw new Error(`event pattern: ${path}: nested arrays are not patterns`);
        }
        return alternative === value;
    }
    const keys = Object.keys(alternative);
    if (keys.length !== 1) {
        throw new Error(`event pattern: ${path}: one operator per object, got ${keys.join(", ")}`);
    }
    const [operator] = keys;
    const operand = alternative[operator];
    switch (operator) {
        case "prefix":
            if (typeof operand !== "string") {
                throw new Error(`event pattern: ${path}: prefix takes a string`);
            }
            return typeof value === "string" && value.startsWith(operand);
        case "wildcard":
            if (typeof operand !== "string") {
                throw new Error(`event pattern: ${path}: wildcard takes a string`);
            }
            return typeof value === "string" && wildcardRegex(operand).test(value);
        case "numeric":
            return typeof value === "number" && numericHolds(operand, value, path);
        case "anything-but":
            return anythingBut(operand, value, path);
        default:
            throw new Error(`event pattern: ${path}: operator ${operator} is not evaluated here`);
    }
}

/** A wildcard filter as a regular expression: `*` any characters, `\\*` a star, everything else itself. */
function wildcardRegex(wildcard: string): RegExp {
    const parts = wildcard.split(/(?<!\\)\*/).map((part) => part.replace(/\\\*/g, "*").replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
    return new RegExp(`^${parts.join(".*")}$`, "s");
}

function numericHolds(operand: unknown, value: number, path: string): boolean {
    if (!Array.isArray(operand) || operand.length === 0 || operand.length % 2 !== 0 || operand.length > 4) {
        throw new Error(`event pattern: ${path}: numeric takes [op, n] or [op, n, op, n], got ${JSON.stringify(operand)}`);
    }
    for (let i = 0; i < operand.length; i += 2) {
        const compare = NUMERIC_OPERATORS[String(operand[i])];
        const bound = operand[i + 1];
        if (!compare || typeof bound !== "number") {
            throw new Error(`event pattern: ${path}: numeric comparison ${JSON.stringify([operand[i], bound])} is not one of <, <=, =, >=, > and a number`);
        }
        if (!compare(value, bound)) {
            return false;
        }
    }
    return true;
}

function anythingBut(operand: unknown, value: Json, path: string): boolean {
    if (isObject(operand)) {
        if (Object.keys(operand).length !== 1 || typeof operand.prefix !== "string") {
            throw new Error(`event pattern: ${path}: anything-but takes values or {"prefix": string}`);
        }
        return typeof value === "string" && !value.startsWith(operand.prefix);
    }
    const excluded = Array.isArray(operand) ? operand : [operand];
    if (excluded.length === 0 || excluded.some((e) => typeof e !== "string" && typeof e !== "number")) {
        throw new Error(`event pattern: ${path}: anything-but takes strings or numbers`);
    }
    // Of the kind the excluded values are: anything-but "a" does not match a number, nor a number a string.
    return typeof value === typeof excluded[0] && !excluded.includes(value as string | number);
}
