/**
 * Unknown values during preview. The engine hands policies a proxy that throws UnknownValueError when a
 * property computed by another resource (an ARN, a bucket name from an output) is read; if a policy lets
 * it escape, the analyzer skips the whole policy for that resource with an advisory note. Our policies
 * read through `read()` instead, so one unknown property skips only the check that needs it.
 */
import { UnknownValueError } from "@pulumi/policy";

/**
 * What `read()` returns for "cannot be known until the update runs", whatever the engine's representation.
 * Not a wire value: the engine's own sentinel is UNKNOWN_SENTINEL below (the offline planner writes it too).
 */
export const UNKNOWN: unique symbol = Symbol("unknown during preview");
export type Unknown = typeof UNKNOWN;

/** The engine's unknown value on the wire (an unknown string; @pulumi/pulumi runtime/rpc.ts unknownValue). */
export const UNKNOWN_SENTINEL = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** The engine's unknown sentinels (proxy.js): what an unknown looks like when it is not proxied. */
const SENTINELS = new Set([
    "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7",
    "3eeb2bf0-c639-47a8-9e75-3b44932eb421",
    UNKNOWN_SENTINEL,
    "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",
    "030794c1-ac77-496b-92df-f27374a8bd58",
    "e48ece36-62e2-4504-bad9-02848725956a",
    "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",
]);

export function isUnknown(value: unknown): value is Unknown {
    return value === UNKNOWN || (typeof value === "string" && SENTINELS.has(value));
}

/**
 * Reads `path` under `root` without throwing: UNKNOWN when any step is unknown, undefined when any step is
 * missing. Works on the engine's proxies and on plain (hand-built) objects alike.
 */
export function read(root: unknown, ...path: Array<string | number>): unknown {
    let node: unknown = root;
    for (const key of path) {
        if (isUnknown(node)) {
            return UNKNOWN;
        }
        if (node === null || node === undefined || typeof node !== "object") {
            return undefined;
        }
        try {
            node = (node as Record<string | number, unknown>)[key];
        } catch (err) {
            if (err instanceof UnknownValueError) {
                return UNKNOWN;
            }
            throw err;
        }
    }
    return isUnknown(node) ? UNKNOWN : node;
}

/** The elements of an array property; UNKNOWN when the array or any element is unknown. */
export function readArray(root: unknown, ...path: Array<string | number>): unknown[] | Unknown | undefined {
    const value = read(root, ...path);
    if (value === UNKNOWN || value === undefined || value === null) {
        return value === null ? undefined : value;
    }
    if (!Array.isArray(value)) {
        return undefined;
    }
    const out: unknown[] = [];
    const length = read(value, "length");
    if (typeof length !== "number") {
        return UNKNOWN;
    }
    for (let i = 0; i < length; i++) {
        out.push(read(value, i));
    }
    return out;
}

/** A string-to-string map property (tags, labels), unknown entries left out. */
export function readStringMap(root: unknown, ...path: Array<string | number>): Record<string, string> {
    const value = read(root, ...path);
    if (value === UNKNOWN || value === null || typeof value !== "object" || Array.isArray(value)) {
        return {};
    }
    const out: Record<string, string> = {};
    for (const key of Object.keys(value)) {
        const entry = read(value, key);
        if (typeof entry === "string") {
            out[key] = entry;
        }
    }
    return out;
}

/** Value for messages: UNKNOWN and undefined spelled out. */
export function show(value: unknown): string {
    if (value === UNKNOWN) {
        return "(unknown until the update)";
    }
    if (value === undefined || value === null) {
        return "not set";
    }
    return typeof value === "string" ? `"${value}"` : JSON.stringify(value);
}
