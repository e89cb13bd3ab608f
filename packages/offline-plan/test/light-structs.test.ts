/**
 * Light Structs (src/light-structs.ts): what the SDK hands the mock monitor, and back, reads exactly as the
 * protobuf message would (values, key order, errors), becomes the real message for any other reader, and the
 * contract refuses a struct_pb or a mock monitor that would read them otherwise.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { installLightStructs, lightStructsAgree, StructModule, structModuleOf } from "../src/light-structs";
import { contractProblems, loadSdkShape } from "../src/sdk-contract";
import { execFileSync } from "child_process";

const SDK_DIR = path.dirname(require.resolve("@pulumi/pulumi/package.json"));
const BIN = path.resolve(__dirname, "..", "bin", "offline-plan.cjs");

interface Message {
    toJavaScript(): Record<string, unknown>;
    serializeBinary(): Uint8Array;
    getFieldsMap(): { get(key: string): { toJavaScript(): unknown } | undefined; set(key: string, value: unknown): void };
}
type Structs = Omit<StructModule, "Struct"> & { Struct: (new () => Message) & { fromJavaScript: ((obj: unknown) => Message) & { light?: boolean } } };

/** What a resource's serialized inputs look like: secrets, unknowns, nested lists and objects, integer-like keys. */
const INPUTS = {
    tags: { Name: "orders", "2": "two", "10": "ten", "": "empty", zeta: null },
    password: { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", value: "04da6b54-80e4-46f7-96ec-b56ff0331ba9" },
    rules: [{ id: "expire", enabled: true, days: 0, ratio: -1.5 }, [], [false, "x", null]],
    empty: {},
};

/** INPUTS as google-protobuf's Struct.toJavaScript gives them back (keys sorted by the map, integer-like keys first in a JS object). */
const READ_BACK =
    '{"empty":{},"password":{"4dabf18193072939515e22adb298388d":"1b47061264138c4ac30d75fd1eb44270","value":"04da6b54-80e4-46f7-96ec-b56ff0331ba9"},' +
    '"rules":[{"days":0,"enabled":true,"id":"expire","ratio":-1.5},[],[false,"x",null]],"tags":{"2":"two","10":"ten","":"empty","Name":"orders","zeta":null}}';

describe("offline-plan: light Structs between the SDK and the mock monitor", () => {
    const structs = structModuleOf(SDK_DIR) as Structs;
    /** The message's bytes, built field by field (never through fromJavaScript, light or not). */
    const messageBytes = (value: Record<string, unknown>): Uint8Array => {
        const message = new structs.Struct();
        for (const [key, entry] of Object.entries(value)) {
            message.getFieldsMap().set(key, structs.Value.fromJavaScript(entry));
        }
        return message.serializeBinary();
    };
    const expected: { toJavaScript: string; bytes: Uint8Array } = { toJavaScript: READ_BACK, bytes: new Uint8Array() };

    before(() => {
        expected.bytes = messageBytes(INPUTS);
        installLightStructs(structs as unknown as StructModule);
    });

    it("is what the planner installs in the SDK's struct_pb", () => {
        assert.equal(structs.Struct.fromJavaScript.light, true);
        assert.ok(lightStructsAgree(structs as unknown as StructModule), "the start-up probe holds once installed too");
    });

    it("reads back as the message would: the same values, keys in the map's order, integer-like keys first", () => {
        const light = structs.Struct.fromJavaScript(INPUTS);
        assert.equal(JSON.stringify(light.toJavaScript()), expected.toJavaScript);
        assert.deepEqual(Object.keys(light.toJavaScript().tags as object), ["2", "10", "", "Name", "zeta"]);
    });

    it("holds the value as it was when made, and gives each reader its own copy", () => {
        const inputs = JSON.parse(JSON.stringify(INPUTS)) as typeof INPUTS;
        const light = structs.Struct.fromJavaScript(inputs);
        inputs.tags.Name = "changed afterwards";
        const first = light.toJavaScript();
        (first.tags as Record<string, unknown>).Name = "changed by a reader";
        assert.equal(JSON.stringify(light.toJavaScript()), expected.toJavaScript);
    });

    it("refuses what a protobuf Value cannot hold, when made, with the message's error", () => {
        assert.throws(() => structs.Struct.fromJavaScript({ a: [1, undefined] }), { message: "Unexpected struct type." });
        assert.throws(() => structs.Struct.fromJavaScript({ a: () => 1 }), { message: "Unexpected struct type." });
    });

    it("becomes the real message for any other reader: its map, its bytes, inside a request", () => {
        const light = structs.Struct.fromJavaScript(INPUTS);
        assert.deepEqual(light.getFieldsMap().get("rules")?.toJavaScript(), INPUTS.rules);
        assert.deepEqual(light.serializeBinary(), expected.bytes);
        assert.equal(JSON.stringify(light.toJavaScript()), expected.toJavaScript);
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const resproto = require(path.join(SDK_DIR, "proto", "resource_pb.js")) as {
            RegisterResourceRequest: new () => { setType(t: string): void; setObject(s: unknown): void; serializeBinary(): Uint8Array };
        };
        const bytesOf = (object: unknown): Uint8Array => {
            const req = new resproto.RegisterResourceRequest();
            req.setType("aws:s3/bucketV2:BucketV2");
            req.setObject(object);
            return req.serializeBinary();
        };
        const lightBytes = bytesOf(structs.Struct.fromJavaScript(INPUTS));
        const fresh = new structs.Struct();
        for (const [key, value] of Object.entries(INPUTS)) {
            fresh.getFieldsMap().set(key, structs.Value.fromJavaScript(value));
        }
        assert.deepEqual(lightBytes, bytesOf(fresh));
    });

    it("the contract refuses a struct_pb whose Struct reads otherwise, and a mock monitor that reads requests otherwise", () => {
        const real = loadSdkShape(SDK_DIR);
        assert.deepEqual(contractProblems(real), []);
        class UnsortedStruct {
            static fromJavaScript(obj: Record<string, unknown>) {
                return Object.assign(new UnsortedStruct(), { obj });
            }
            obj: Record<string, unknown> = {};
            toJavaScript() {
                return this.obj;
            }
            getFieldsMap() {
                return new Map();
            }
        }
        const otherStructs = { Struct: UnsortedStruct, Value: structs.Value };
        assert.match(contractProblems({ ...real, structs: otherStructs }).join("\n"), /expected google-protobuf's struct_pb \(the SDK's copy\) reads a light Struct as the message/);
        assert.match(contractProblems({ ...real, structs: undefined }).join("\n"), /struct_pb/);
        class OtherMonitor {
            registerResource(req: { getObject(): { toObject(): unknown } }) {
                return req.getObject().toObject();
            }
        }
        assert.match(contractProblems({ ...real, mocks: { MockMonitor: OtherMonitor } }).join("\n"), /expected the mock monitor reads requests through rpc\.deserializeProperties/);
        // The same reads as newer TypeScript compiles an imported call are accepted; a reader of another form is not.
        const rpc_1 = { deserializeProperties: (struct: unknown, keepUnknowns?: boolean) => [struct, keepUnknowns] };
        class NewerMonitor {
            registerResource(req: { getObject(): unknown }) {
                return (0, rpc_1.deserializeProperties)(req.getObject());
            }
            readResource(req: { getProperties(): unknown }) {
                return (0, rpc_1.deserializeProperties)(req.getProperties(), true);
            }
            invoke(req: { getArgs(): unknown }) {
                return (0, rpc_1.deserializeProperties)(req.getArgs());
            }
        }
        assert.deepEqual(contractProblems({ ...real, mocks: { MockMonitor: NewerMonitor } }), []);
        class ObjectMonitor extends NewerMonitor {
            registerResource(req: { getObject(): { toObject(): unknown } }) {
                return rpc_1.deserializeProperties(req.getObject().toObject());
            }
        }
        assert.equal(contractProblems({ ...real, mocks: { MockMonitor: ObjectMonitor } }).length, 1);
    });

    it("plans the same with and without them (OFFLINE_PLAN_LIGHT_STRUCTS=0)", async function () {
        this.timeout(60_000);
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "offline-plan-structs-"));
        try {
            fs.writeFileSync(path.join(dir, "Pulumi.yaml"), "name: structs\nruntime: nodejs\nmain: index.ts\n");
            fs.writeFileSync(path.join(dir, "Pulumi.dev.yaml"), "config:\n  aws:region: eu-west-1\n");
            fs.writeFileSync(
                path.join(dir, "index.ts"),
                [
                    'import * as aws from "@pulumi/aws";',
                    'import * as pulumi from "@pulumi/pulumi";',
                    'const bucket = new aws.s3.Bucket("data", { tags: { "2": "two", "10": "ten", Team: "orders", Empty: "" } });',
                    'new aws.s3.BucketLifecycleConfiguration("data", { bucket: bucket.id, rules: [{ id: "expire", status: "Enabled", expiration: { days: 30 } }] });',
                    'const secret = new aws.secretsmanager.Secret("db", {});',
                    'new aws.secretsmanager.SecretVersion("db", { secretId: secret.id, secretString: pulumi.secret(pulumi.interpolate`{"host":"${bucket.bucketDomainName}"}`) });',
                    "export const arn = bucket.arn;",
                    '// eslint-disable-next-line @typescript-eslint/no-require-imports',
                    'export const light = require("google-protobuf/google/protobuf/struct_pb").Struct.fromJavaScript.light === true;',
                    "",
                ].join("\n"),
            );
            const plan = (light: string): Record<string, unknown> => {
                const out = execFileSync(process.execPath, [BIN, "--program", dir, "--stack", "dev", "--json"], {
                    env: { ...process.env, OFFLINE_PLAN_LIGHT_STRUCTS: light },
                    encoding: "utf8",
                    stdio: ["ignore", "pipe", "pipe"],
                });
                return JSON.parse(out) as Record<string, unknown>;
            };
            const [light, heavy] = [plan("1"), plan("0")];
            const lightOutputs = light.outputs as Record<string, unknown>;
            const heavyOutputs = heavy.outputs as Record<string, unknown>;
            assert.equal(lightOutputs.light, true, "the planner made the SDK's Structs light");
            assert.equal(heavyOutputs.light, false);
            delete lightOutputs.light;
            delete heavyOutputs.light;
            const [withLight, without] = [JSON.stringify(light), JSON.stringify(heavy)];
            assert.match(withLight, /"Team":"orders"/);
            assert.equal(withLight, without);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});
