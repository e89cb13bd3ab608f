/**
 * Unknown values during preview. The engine hands policies a proxy that throws UnknownValueError when a
 * property computed by another resource (an ARN, a bucket name from an output) is read; if a policy lets
 * it escape, the analyzer skips the whole policy for that resource with an advisory note. Our policies
 * read through `read()` instead, so one unknown property skips only the check that needs it.
 */
import { UnknownValueError } from "@pulumi/policy";
import { UNKNOWN_SENTINELS } from "./sentinels";

/**
 * What `read()` returns for "cannot be known until the update runs", whatever the engine's representation.
 * Not a wire value: the engine's own sentinels are in ./sentinels.ts (the offline planner writes them too).
 */
export const UNKNOWN: unique symbol = Symbol("unknown during preview");
export type Unknown = typeof UNKNOWN;

export function isUnknown(value: unknown): value is Unknown {
    return value === UNKNOWN || (typeof value === "string" && UNKNOWN_SENTINELS.has(value));
}

/** The engine's marker keys on its proxies (@pulumi/policy proxy.js isSpecialProxy, getSpecialProxyTarget). */
const IS_SPECIAL_PROXY = "__isSpecialProxy";
const SPECIAL_PROXY_TARGET = "__getSpecialProxyTarget";
/** plainRead's answer when `read` must walk the proxies after all. */
const THROUGH_PROXY: unique symbol = Symbol("read through the proxy");

function isPlainContainer(value: object): boolean {
    const prototype = Object.getPrototypeOf(value) as unknown;
    return prototype === Object.prototype || prototype === Array.prototype || prototype === null;
}

/**
 * `read` on the object behind the engine's proxy, for a value that is not an object: what the walk through the
 * proxies gives, without a new Proxy and path array for every step (the engine's proxy makes both on each
 * property read; that was the largest cost of the pack on a large stack). The proxy throws for exactly the
 * engine's sentinels (UNKNOWN_SENTINELS), so a sentinel at any step is UNKNOWN here too. An object at the end
 * (the proxy hands out a proxy of it, which a policy may read further) or anything but plain JSON on the way (a
 * Secret behind the secret-preserving proxy, which unwraps it) is left to the walk through the proxies.
 */
function plainRead(root: unknown, path: Array<string | number>): unknown {
    if (root === null || typeof root !== "object" || (root as Record<string, unknown>)[IS_SPECIAL_PROXY] !== true) {
        return THROUGH_PROXY;
    }
    let node = (root as Record<string, unknown>)[SPECIAL_PROXY_TARGET];
    for (const key of path) {
        if (isUnknown(node)) {
            return UNKNOWN;
        }
        if (node === null || node === undefined || typeof node !== "object") {
            return undefined;
        }
        if (!isPlainContainer(node)) {
            return THROUGH_PROXY;
        }
        node = (node as Record<string | number, unknown>)[key];
    }
    if (isUnknown(node)) {
        return UNKNOWN;
    }
    return node !== null && typeof node === "object" ? THROUGH_PROXY : node;
}

/**
 * Reads `path` under `root` without throwing: UNKNOWN when any step is unknown, undefined when any step is
 * missing. Works on the engine's proxies and on plain (hand-built) objects alike.
 */
export function read(root: unknown, ...path: Array<string | number>): unknown {
    const plain = plainRead(root, path);
    if (plain !== THROUGH_PROXY) {
        return plain;
    }
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

/**
 * A check that cannot judge a resource because an input it decides on is unknown until the update (a
 * preview, an output the offline plan does not model) says so instead of passing silently: it ends with
 * `notApplicable` and this reason, which the engine records and `npm run check` lists in every report as
 * "not judged in this preview: <resource>, <input> unknown". `inputs` are property paths ("spec.schedule").
 */
export const NOT_JUDGED_IN_PREVIEW = "not judged in this preview: ";
const UNKNOWN_SUFFIX = " unknown until the update";

export function notJudgedInPreview(args: { notApplicable: (reason?: string) => never }, inputs: string[], why?: string): never {
    return args.notApplicable(`${NOT_JUDGED_IN_PREVIEW}${inputs.join(", ")}${UNKNOWN_SUFFIX}${why ? `: ${why}` : ""}`);
}

/** `value`, or the end of the check (notJudgedInPreview) when it is unknown. */
export function known<V>(args: { notApplicable: (reason?: string) => never }, input: string, value: V): Exclude<V, Unknown> {
    if (value === UNKNOWN) {
        notJudgedInPreview(args, [input]);
    }
    return value as Exclude<V, Unknown>;
}

/** The unknown inputs a not-applicable reason names (and what they would decide), or undefined for another reason. */
export function unknownInputsOf(reason: string | undefined): { inputs: string; why?: string } | undefined {
    if (reason === undefined || !reason.startsWith(NOT_JUDGED_IN_PREVIEW)) {
        return undefined;
    }
    const rest = reason.slice(NOT_JUDGED_IN_PREVIEW.length);
    const end = rest.lastIndexOf(UNKNOWN_SUFFIX);
    if (end < 0) {
        return { inputs: rest };
    }
    const why = rest.slice(end + UNKNOWN_SUFFIX.length).replace(/^: /, "");
    return why ? { inputs: rest.slice(0, end), why } : { inputs: rest.slice(0, end) };
}
