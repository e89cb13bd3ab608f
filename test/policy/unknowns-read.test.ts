/**
 * policy/unknowns.ts read(): a value that is not an object is read from the object behind the engine's proxy
 * (no Proxy per step, the pack's largest cost on a large stack). It must answer exactly as the walk through the
 * proxies does: the engine's proxy (unknowns throw, objects come back proxied with their path) and the
 * secret-preserving proxy (Secrets unwrapped), whatever the shape.
 */
import { strict as assert } from "assert";
import { Secret, unknownCheckingProxy, UnknownValueError } from "@pulumi/policy";
import { read, readArray, readStringMap, UNKNOWN } from "../../policy/unknowns";
import { UNKNOWN_SENTINELS } from "../../policy/sentinels";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { secretsPreservingProxy } = require("@pulumi/policy/secret") as { secretsPreservingProxy(value: unknown): unknown };

/** The walk through the proxies, one property read at a time, as read() did before the shortcut. */
function throughProxies(root: unknown, path: Array<string | number>): unknown {
    const unknown = (v: unknown) => v === UNKNOWN || (typeof v === "string" && UNKNOWN_SENTINELS.has(v));
    let node = root;
    for (const key of path) {
        if (unknown(node)) {
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
    return unknown(node) ? UNKNOWN : node;
}

describe("policy read() on the engine's proxies", () => {
    const sentinels = [...UNKNOWN_SENTINELS];
    const inputs = {
        name: "db",
        port: 5432,
        encrypted: false,
        nothing: null,
        tags: { environment: "production", owner: sentinels[2] },
        rules: [{ id: "a", expiration: { days: 30 } }, sentinels[6], { id: "c", expiration: sentinels[1] }],
        nested: { deeper: { deepest: { value: "x", unknown: sentinels[0] } } },
        unknownObject: sentinels[6],
    };
    const paths: Array<Array<string | number>> = [
        ["name"], ["port"], ["encrypted"], ["nothing"], ["nothing", "x"], ["missing"], ["missing", "x"], ["name", "length"],
        ["tags", "environment"], ["tags", "owner"], ["tags", "owner", "x"], ["rules", "length"], ["rules", 0, "expiration", "days"],
        ["rules", 1], ["rules", 1, "id"], ["rules", 2, "expiration"], ["rules", 2, "expiration", "days"], ["rules", 9, "id"],
        ["nested", "deeper", "deepest", "value"], ["nested", "deeper", "deepest", "unknown"], ["unknownObject", "any"], [],
    ];

    it("answers as the walk through the engine's proxy for every value that is not an object", () => {
        const props = unknownCheckingProxy(JSON.parse(JSON.stringify(inputs)));
        for (const path of paths) {
            const expected = throughProxies(props, path);
            if (expected === null || typeof expected !== "object") {
                assert.equal(read(props, ...path), expected, path.join("."));
            }
        }
    });

    it("hands out an object as the engine's proxy of it, so that a policy reading on unknowingly still gets the engine's error and path", () => {
        const props = unknownCheckingProxy(JSON.parse(JSON.stringify(inputs)));
        const deepest = read(props, "nested", "deeper", "deepest") as Record<string, unknown>;
        assert.equal(deepest.value, "x");
        assert.throws(() => deepest.unknown, (err: Error) => err instanceof UnknownValueError && /at \.nested\.deeper\.deepest\.unknown /.test(err.message));
        const rules = readArray(props, "rules") as unknown[];
        assert.equal(rules.length, 3);
        assert.equal(rules[1], UNKNOWN);
        assert.equal(read(rules[0], "id"), "a");
        assert.deepEqual(readStringMap(props, "tags"), { environment: "production" });
        assert.equal(read(props), props);
    });

    it("reads through the secret-preserving proxy as it unwraps Secrets", () => {
        const props = secretsPreservingProxy({ password: new Secret("hunter2"), settings: new Secret({ port: 5432 }), plain: { a: 1 } });
        assert.equal(read(props, "password"), "hunter2");
        assert.equal(read(props, "settings", "port"), 5432);
        assert.equal(read(props, "plain", "a"), 1);
    });

    it("reads plain objects (hand-built props) as before", () => {
        for (const path of paths) {
            assert.deepEqual(read(inputs, ...path), throughProxies(inputs, path), path.join("."));
        }
    });
});
