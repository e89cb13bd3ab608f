/**
 * What the checker does once per resource and policy, kept cheap without changing an answer (issue 24: the check of
 * every stack within 2x the SDK floor; bench/README.md section 1, h29-check). Counted, not timed: the work each call
 * does (compiled patterns, copies made, resources scanned), so each test fails on the code before.
 */
import { strict as assert } from "assert";
import { PolicyConfigSchema, unknownCheckingProxy } from "@pulumi/policy";
import { configOf, globMatch } from "../../policy/config";
import { unjudgedInPreview } from "../../tools/check/core";
import { NOT_JUDGED_IN_PREVIEW } from "../../policy/unknowns";
import { backupToolOf, unknownJobInputs } from "../../policy/kubernetes";

/** Runs `body` with a global (RegExp, structuredClone) replaced by a proxy counting its calls and constructions. */
function counting<K extends "RegExp" | "structuredClone">(name: K, body: () => void): number {
    const original = globalThis[name];
    let count = 0;
    const handler: ProxyHandler<typeof original> = {
        apply: (target, self, args) => {
            count += 1;
            return Reflect.apply(target as (...a: unknown[]) => unknown, self, args) as unknown;
        },
        construct: (target, args, newTarget) => {
            count += 1;
            return Reflect.construct(target as new (...a: unknown[]) => object, args, newTarget === globalThis[name] ? target : newTarget) as object;
        },
    };
    (globalThis as Record<string, unknown>)[name] = new Proxy(original, handler);
    try {
        body();
    } finally {
        (globalThis as Record<string, unknown>)[name] = original;
    }
    return count;
}

const schema: PolicyConfigSchema = {
    properties: {
        minimumDays: { type: "number", default: 7 },
        mode: { type: "string", default: "auto" },
        names: { type: "array", items: { type: "string" }, default: ["a", "b"] },
        nested: { type: "object", default: { limits: { days: 3 }, tags: ["x"] } },
        none: { type: "string" },
    },
};

describe("the checker's per-resource work (h29-check)", () => {
    it("configOf: the schema's defaults, configured values winning key by key, a copy of its own for every call", () => {
        const first = configOf<Record<string, unknown>>(schema, { getConfig: <T extends object>() => ({ mode: "always" }) as T });
        assert.deepEqual(first, { minimumDays: 7, mode: "always", names: ["a", "b"], nested: { limits: { days: 3 }, tags: ["x"] } });
        assert.deepEqual(Object.keys(first), ["minimumDays", "mode", "names", "nested"]);
        (first.names as string[]).push("changed");
        ((first.nested as { limits: { days: number } }).limits.days = 99);
        ((first.nested as { tags: string[] }).tags.length = 0);
        const second = configOf<Record<string, unknown>>(schema, { getConfig: <T extends object>() => ({}) as T });
        assert.deepEqual(second, { minimumDays: 7, mode: "auto", names: ["a", "b"], nested: { limits: { days: 3 }, tags: ["x"] } });
        assert.deepEqual((schema.properties.names as { default: unknown }).default, ["a", "b"], "the schema's own default is never handed out");
        assert.equal(configOf(undefined, { getConfig: <T extends object>() => ({ x: 1 }) as T }).constructor, Object);
    });

    it("configOf copies JSON defaults without structuredClone (once per resource per policy, most of them numbers); anything else still through it", () => {
        const plain = counting("structuredClone", () => {
            for (let i = 0; i < 10; i++) {
                configOf(schema, { getConfig: <T extends object>() => ({}) as T });
            }
        });
        assert.equal(plain, 0);
        const when = new Date(Date.UTC(2026, 0, 1));
        let made: Record<string, unknown> = {};
        const other = counting("structuredClone", () => {
            made = configOf<Record<string, unknown>>({ properties: { when: { type: "string", default: when as never } } }, { getConfig: <T extends object>() => ({}) as T });
        });
        assert.equal(other, 1);
        assert.ok(made.when instanceof Date && made.when !== when && made.when.getTime() === when.getTime());
    });

    it("globMatch compiles each pattern once, with the same answers as before", () => {
        const cases: Array<[string, string, boolean]> = [
            ["arn:aws:s3:::backup-*", "arn:aws:s3:::backup-prod/x", true],
            ["arn:aws:s3:::backup-*", "arn:aws:s3:::other", false],
            ["s3:Get*", "s3:getobject", false],
            ["a.b(c)+[d]$^{e}|\\f*", "a.b(c)+[d]$^{e}|\\f-tail", true],
            ["a.b", "axb", false],
            ["*", "", true],
            ["", "", true],
            ["", "x", false],
        ];
        const pattern = `h29-check-once-${Date.now()}-*`;
        const compiled = counting("RegExp", () => {
            for (let i = 0; i < 20; i++) {
                assert.equal(globMatch(pattern, `h29-check-once-x-${i}`), false);
            }
            for (const [p, v, expected] of cases) {
                assert.equal(globMatch(p, v), expected, `${p} ~ ${v}`);
                assert.equal(globMatch(p, v), expected, `${p} ~ ${v}, again`);
            }
        });
        assert.ok(compiled <= 1 + cases.length, `${compiled} patterns compiled for ${1 + cases.length} distinct patterns`);
        // Past the memo's bound it starts over: answers unchanged.
        for (let i = 0; i < 5000; i++) {
            assert.equal(globMatch(`bound-${i}-*`, `bound-${i}-x`), true);
        }
        for (const [p, v, expected] of cases) {
            assert.equal(globMatch(p, v), expected, `${p} ~ ${v}, after the bound`);
        }
    });

    it("unjudgedInPreview finds each record's resource by URN in one pass over the stack, the first of a URN as before", () => {
        const resources = Array.from({ length: 200 }, (_, i) => ({ urn: `urn:${i % 150}`, name: `r${i}`, type: "t" }));
        let reads = 0;
        const watched = new Proxy(resources, {
            get: (target, key, receiver) => {
                if (typeof key === "string" && /^\d+$/.test(key)) {
                    reads += 1;
                }
                return Reflect.get(target, key, receiver) as unknown;
            },
        });
        const records = Array.from({ length: 150 }, (_, i) => ({ policy: `p${i % 3}`, urn: `urn:${149 - i}`, reason: `${NOT_JUDGED_IN_PREVIEW}spec.schedule unknown until the update` }));
        const out = unjudgedInPreview(records, watched);
        assert.equal(out.length, 150);
        assert.equal(out[0].name, "r149");
        // urn:10 is held by r10 and r160: the first is named.
        assert.equal(out.find((u) => u.urn === "urn:10")?.name, "r10");
        assert.ok(reads <= resources.length, `${reads} reads of a ${resources.length}-resource stack for ${records.length} records`);
    });

    it("what a CronJob runs is read once per props the engine hands out (the CronJob policies and the matrix ask it again); hand-built props every time", () => {
        let reads = 0;
        const pod = { containers: [{ image: "postgres:16", command: ["/bin/sh", "-c", "pg_dump -Fc ledger"] }] };
        const inputs = {
            metadata: { name: "dump" },
            get spec() {
                reads += 1;
                return { jobTemplate: { spec: { template: { spec: pod } } } };
            },
        };
        const props = unknownCheckingProxy(inputs);
        const toolOf = (p: unknown) => {
            const found = backupToolOf(p);
            return typeof found === "object" ? { tool: found.tool, dataClass: found.dataClass } : found;
        };
        assert.deepEqual(toolOf(props), { tool: "pg_dump", dataClass: "database" });
        const first = reads;
        assert.ok(first > 0);
        for (let i = 0; i < 5; i++) {
            assert.deepEqual(toolOf(props), { tool: "pg_dump", dataClass: "database" });
            assert.deepEqual(unknownJobInputs(props), []);
        }
        assert.equal(reads, first, "read again for the same engine props");
        // Each caller gets an array of its own.
        unknownJobInputs(props).push("changed");
        assert.deepEqual(unknownJobInputs(props), []);
        // Plain props may change between calls: read every time, as before.
        const plain = { spec: { jobTemplate: { spec: { template: { spec: { containers: [{ image: "busybox", command: ["true"] }] } } } } } };
        assert.equal(toolOf(plain), undefined);
        plain.spec.jobTemplate.spec.template.spec.containers[0].command = ["pg_dump", "ledger"];
        assert.deepEqual(toolOf(plain), { tool: "pg_dump", dataClass: "database" });
    });
});
