/**
 * The SDK and its mock monitor talk through protobuf Structs (google-protobuf's struct_pb), as they would over
 * gRPC to the engine: per registration the SDK builds the request's Struct from its serialized inputs
 * (`Struct.fromJavaScript`), the mock monitor reads it back (`toJavaScript`), builds the response's Struct from
 * the mocked state, and the SDK reads that back; the planner's records read the request once more. Offline
 * nothing ever crosses a wire, and building and reading these messages (a jspb Map and a Value message per
 * property, a ListValue per array) was about a tenth of a plan's CPU and much of its garbage.
 *
 * Installed per copy of google-protobuf the SDK uses, a Struct made by `Struct.fromJavaScript` holds a plain
 * snapshot of the value instead: the same values the message would hold (keys sorted as a Struct's map
 * yields them, the same "Unexpected struct type." error for a value a Value cannot hold), and `toJavaScript`
 * returns a fresh copy of it, as the message's would. Any other method (getFieldsMap, serializeBinary,
 * toObject, clone…) first turns it into the message `fromJavaScript` would have built, in place, so a caller
 * that reads the message any other way gets the real thing. checkLightStructs proves both at start-up against
 * the installed google-protobuf and throws if they differ (sdk-contract.ts calls it).
 */
/** The snapshot a light Struct carries (absent once it is a real message). */
const SNAPSHOT = Symbol("offline-plan.structSnapshot");

type Json = null | number | string | boolean | Json[] | { [key: string]: Json };

interface StructInstance {
    [SNAPSHOT]?: { [key: string]: Json };
    getFieldsMap(): { set(key: string, value: unknown): unknown };
    toJavaScript(): Record<string, unknown>;
}

interface StructClass {
    new (): StructInstance;
    fromJavaScript: ((obj: unknown) => StructInstance) & { light?: boolean };
    prototype: StructInstance & Record<string | symbol, unknown>;
}

interface ValueClass {
    fromJavaScript(value: unknown): unknown;
}

export interface StructModule {
    Struct: StructClass;
    Value: ValueClass;
}

/** google-protobuf's `goog.typeOf`, which `Value.fromJavaScript` switches on. */
function typeOf(value: unknown): string {
    const s = typeof value;
    if (s === "object") {
        if (!value) {
            return "null";
        }
        if (value instanceof Array) {
            return "array";
        }
        if (value instanceof Object) {
            return s;
        }
        const v = value as { length?: unknown; splice?: unknown; call?: unknown; propertyIsEnumerable?: unknown };
        const enumerable = (key: string): boolean => (v.propertyIsEnumerable as (key: string) => boolean).call(value, key);
        const className = Object.prototype.toString.call(value);
        if (className === "[object Window]") {
            return "object";
        }
        if (className === "[object Array]" || (typeof v.length === "number" && typeof v.splice !== "undefined" && typeof v.propertyIsEnumerable !== "undefined" && !enumerable("splice"))) {
            return "array";
        }
        if (className === "[object Function]" || (typeof v.call !== "undefined" && typeof v.propertyIsEnumerable !== "undefined" && !enumerable("call"))) {
            return "function";
        }
        return s;
    }
    if (s === "function" && typeof (value as { call?: unknown }).call === "undefined") {
        return "object";
    }
    return s;
}

/** What `Value.fromJavaScript(value).toJavaScript()` gives, or its error. */
function snapshotValue(value: unknown): Json {
    switch (typeOf(value)) {
        case "string":
        case "number":
        case "boolean":
            return value as Json;
        case "null":
            return null;
        case "array": {
            const array = value as unknown[];
            const out: Json[] = [];
            for (let i = 0; i < array.length; i++) {
                out.push(snapshotValue(array[i]));
            }
            return out;
        }
        case "object":
            return snapshotStruct(value);
        default:
            throw new Error("Unexpected struct type.");
    }
}

/** What `Struct.fromJavaScript(obj).toJavaScript()` gives: every enumerable key (for-in), in the map's order. */
function snapshotStruct(obj: unknown): { [key: string]: Json } {
    const keys: string[] = [];
    for (const key in obj as object) {
        keys.push(key);
    }
    keys.sort();
    const out: { [key: string]: Json } = {};
    for (const key of keys) {
        out[key] = snapshotValue((obj as Record<string, unknown>)[key]);
    }
    return out;
}

/** A fresh copy of a snapshot (toJavaScript's result is the caller's own). */
function copy(value: Json): Json {
    if (value === null || typeof value !== "object") {
        return value;
    }
    if (Array.isArray(value)) {
        return value.map(copy);
    }
    const out: { [key: string]: Json } = {};
    for (const key of Object.keys(value)) {
        out[key] = copy(value[key]);
    }
    return out;
}

/** The originals of each copy of struct_pb made light (what materializing and the probe build with). */
const originals = new WeakMap<object, { fromJavaScript: StructClass["fromJavaScript"]; toJavaScript: StructInstance["toJavaScript"]; getFieldsMap: StructInstance["getFieldsMap"] }>();

function originalsOf(Struct: StructClass) {
    return originals.get(Struct) ?? { fromJavaScript: Struct.fromJavaScript, toJavaScript: Struct.prototype.toJavaScript, getFieldsMap: Struct.prototype.getFieldsMap };
}

/**
 * Builds, into `struct` (a Struct made empty by `new Struct()`), the message `Struct.fromJavaScript(snapshot)`
 * builds, with the original fromJavaScript for nested objects too (the Value messages reach it through the
 * global `proto.google.protobuf.Struct`, which is this same class).
 */
function materializeInto(structs: StructModule, struct: StructInstance, snapshot: { [key: string]: Json }): void {
    const { Struct, Value } = structs;
    const original = originalsOf(Struct);
    const light = Struct.fromJavaScript;
    Struct.fromJavaScript = original.fromJavaScript;
    try {
        const map = original.getFieldsMap.call(struct);
        for (const key of Object.keys(snapshot)) {
            map.set(key, Value.fromJavaScript(snapshot[key]));
        }
    } finally {
        Struct.fromJavaScript = light;
    }
}

/** A light Struct of `obj`: an empty message holding the snapshot. */
function lightStruct(Struct: StructClass, obj: unknown): StructInstance {
    const snapshot = snapshotStruct(obj);
    const struct = new Struct();
    struct[SNAPSHOT] = snapshot;
    return struct;
}

/** Struct.fromJavaScript made light, in this copy of struct_pb (once). */
export function installLightStructs(structs: StructModule): void {
    const { Struct } = structs;
    if (originals.has(Struct)) {
        return;
    }
    const proto = Struct.prototype;
    originals.set(Struct, originalsOf(Struct));
    const toJavaScript = proto.toJavaScript;
    const materialize = (struct: StructInstance): void => {
        const snapshot = struct[SNAPSHOT];
        if (snapshot !== undefined) {
            delete struct[SNAPSHOT];
            materializeInto(structs, struct, snapshot);
        }
    };
    // Every method a Struct has, its own and jspb.Message's, except toJavaScript (answered from the snapshot)
    // and toArray (setWrapperField calls it when a Struct is set into a request or response, to keep the
    // parent's array: a light Struct's array is empty until it is read through any method but toJavaScript;
    // the SDK and its mock monitor read these messages only through their accessors, see sdk-contract.ts).
    const names = new Set<string>();
    for (let p: object | null = proto; p !== null && p !== Object.prototype; p = Object.getPrototypeOf(p) as object | null) {
        for (const name of Object.getOwnPropertyNames(p)) {
            names.add(name);
        }
    }
    const toArray = (proto as Record<string, unknown>).toArray;
    for (const name of names) {
        const method = (proto as Record<string, unknown>)[name];
        if (name === "constructor" || name === "toJavaScript" || typeof method !== "function" || method === toArray) {
            continue;
        }
        const original = method as (...args: unknown[]) => unknown;
        Object.defineProperty(proto, name, {
            configurable: true,
            writable: true,
            value: function (this: StructInstance, ...args: unknown[]): unknown {
                materialize(this);
                return original.apply(this, args);
            },
        });
    }
    Object.defineProperty(proto, "toJavaScript", {
        configurable: true,
        writable: true,
        value: function (this: StructInstance): Record<string, unknown> {
            const snapshot = this[SNAPSHOT];
            return snapshot === undefined ? toJavaScript.call(this) : (copy(snapshot) as Record<string, unknown>);
        },
    });
    Struct.fromJavaScript = Object.assign((obj: unknown) => lightStruct(Struct, obj), { light: true });
}

/** Values that a Struct's map and Value kinds treat specially: key order, integer-like keys, nesting, lists, null, falsy values. */
const PROBE = { b: [1, null, "x", { d: 0, c: -1.5 }, [true, false], []], a: { "10": "", "2": true, z: {}, y: null }, "": "empty key", "1": 2 };

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
    return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

/**
 * Whether this copy of struct_pb reads a light Struct as it reads the message fromJavaScript builds: the same
 * toJavaScript (values and key order), the same message once materialized (serializeBinary), the same error
 * for a value a Value cannot hold. Checked with the original functions, installed or not.
 */
export function lightStructsAgree(structs: StructModule | undefined): boolean {
    if (!structs || typeof structs.Struct?.fromJavaScript !== "function" || typeof structs.Value?.fromJavaScript !== "function") {
        return false;
    }
    const { Struct } = structs;
    const original = originalsOf(Struct);
    if (typeof original.toJavaScript !== "function" || typeof original.getFieldsMap !== "function") {
        return false;
    }
    const light = Struct.fromJavaScript;
    Struct.fromJavaScript = original.fromJavaScript;
    try {
        return probe(structs, original);
    } finally {
        Struct.fromJavaScript = light;
    }
}

function probe(structs: StructModule, original: ReturnType<typeof originalsOf>): boolean {
    const { Struct } = structs;
    type Serializable = StructInstance & { serializeBinary(): Uint8Array };
    const real = original.fromJavaScript(PROBE) as Serializable;
    const light = lightStruct(Struct, PROBE);
    if (JSON.stringify(copy(light[SNAPSHOT]!)) !== JSON.stringify(original.toJavaScript.call(real))) {
        return false;
    }
    const built = new Struct() as Serializable;
    materializeInto(structs, built, light[SNAPSHOT]!);
    if (typeof real.serializeBinary !== "function" || !sameBytes(real.serializeBinary.call(built), real.serializeBinary())) {
        return false;
    }
    const errorOf = (make: () => unknown): string | undefined => {
        try {
            make();
            return undefined;
        } catch (err) {
            return err instanceof Error ? err.message : String(err);
        }
    };
    const refused = errorOf(() => original.fromJavaScript({ a: [undefined] }));
    return refused !== undefined && refused === errorOf(() => lightStruct(Struct, { a: [undefined] }));
}

/** The struct_pb module the SDK in `sdkDir` requires. */
export function structModuleOf(sdkDir: string): StructModule {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(require.resolve("google-protobuf/google/protobuf/struct_pb", { paths: [sdkDir] })) as StructModule;
}
