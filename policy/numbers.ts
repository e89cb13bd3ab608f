/**
 * Numeric inputs read the provider's way. The Pulumi providers built on the Terraform bridge (aws, gcp, ...)
 * accept a string holding a decimal number for a number property and convert it (`backupRetentionPeriod:
 * "35"` keeps 35 days), as Terraform's own type conversion does; any other string fails at `pulumi up`. A
 * JavaScript program, or a value from `config.get` without `getNumber`, passes such strings. Every numeric
 * read of the pack goes through `readNumber`, so "35" counts as 35 and "abc" is reported as not a number,
 * naming the property.
 */
import { read, show, UNKNOWN, Unknown } from "./unknowns";

/** A value the provider would refuse for a number property (a non-numeric string, a boolean, an object). */
export class NotANumber {
    constructor(readonly raw: unknown) {}
}

export type NumberInput = number | Unknown | undefined | NotANumber;

/** A decimal number as Terraform's string-to-number conversion reads it: sign, digits, fraction, exponent; no spaces. */
const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/** `value` as the provider reads a number input: a number, UNKNOWN, undefined (unset or null), or NotANumber. */
export function asNumber(value: unknown): NumberInput {
    if (value === UNKNOWN || value === undefined || value === null) {
        return value === null ? undefined : value;
    }
    if (typeof value === "number") {
        return Number.isNaN(value) ? new NotANumber(value) : value;
    }
    if (typeof value === "string" && DECIMAL.test(value)) {
        return Number(value);
    }
    return new NotANumber(value);
}

/** `read()` of a number input, converted as the provider converts it. */
export function readNumber(root: unknown, ...path: Array<string | number>): NumberInput {
    return asNumber(read(root, ...path));
}

export function isNotANumber(value: unknown): value is NotANumber {
    return value instanceof NotANumber;
}

/** For messages: `"abc" (not a number)`; numbers and the rest as `show()` spells them. */
export function showNumber(value: NumberInput): string {
    return value instanceof NotANumber ? `${show(value.raw)} (not a number)` : show(value);
}
