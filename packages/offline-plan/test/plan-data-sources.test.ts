/**
 * The offline plan's data sources and configuration, without running a program: getPolicyDocument rendered
 * from its arguments as the provider does, realistic lookups shaped like the provider's result types,
 * `secure:` values (top level and nested) turned into secret stand-ins, and error locations.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { renderPolicyDocument } from "../src/policy-document";
import { callDataSource, functionName, LookupLog } from "../src/data-sources";
import { loadStackSettings, parseConfigAssignment, secureStandIn } from "../src/stack-settings";
import { describeFailure } from "../src/program-errors";

const context = { region: "eu-west-1", secret: (value: unknown) => ({ secret: value }) };

describe("offline data sources", () => {
    it("renders getPolicyDocument as the provider does: one value as a string, principals and conditions nested", () => {
        const { json, minifiedJson } = renderPolicyDocument({
            statements: [
                {
                    sid: "DenyInsecureTransport",
                    effect: "Deny",
                    actions: ["s3:*"],
                    resources: ["arn:aws:s3:::acme-backups", "arn:aws:s3:::acme-backups/*"],
                    principals: [{ type: "*", identifiers: ["*"] }],
                    conditions: [{ test: "Bool", variable: "aws:SecureTransport", values: ["false"] }],
                },
                { actions: ["s3:GetObject"], resources: ["arn:aws:s3:::acme-backups/*"], principals: [{ type: "AWS", identifiers: ["arn:aws:iam::123456789012:role/restore"] }] },
            ],
        });
        assert.deepEqual(JSON.parse(json), {
            Version: "2012-10-17",
            Statement: [
                {
                    Sid: "DenyInsecureTransport",
                    Effect: "Deny",
                    Action: "s3:*",
                    Resource: ["arn:aws:s3:::acme-backups", "arn:aws:s3:::acme-backups/*"],
                    Principal: "*",
                    Condition: { Bool: { "aws:SecureTransport": "false" } },
                },
                { Effect: "Allow", Action: "s3:GetObject", Resource: "arn:aws:s3:::acme-backups/*", Principal: { AWS: "arn:aws:iam::123456789012:role/restore" } },
            ],
        });
        assert.equal(minifiedJson, JSON.stringify(JSON.parse(json)));
        assert.ok(json.includes("\n  "), "json is indented, minifiedJson is not");
    });

    it("merges source and override documents by Sid", () => {
        const source = JSON.stringify({ Version: "2012-10-17", Statement: [{ Sid: "A", Effect: "Allow", Action: "s3:ListBucket", Resource: "*" }, { Sid: "B", Effect: "Allow", Action: "s3:GetObject", Resource: "*" }] });
        const override = JSON.stringify({ Statement: { Sid: "B", Effect: "Deny", Action: "s3:GetObject", Resource: "*" } });
        const doc = JSON.parse(renderPolicyDocument({ sourcePolicyDocuments: [source], overridePolicyDocuments: [override], statements: [{ sid: "C", actions: ["s3:PutObject"], resources: ["*"] }] }).json);
        assert.deepEqual(doc.Statement.map((s: { Sid: string; Effect: string }) => `${s.Sid}:${s.Effect}`), ["A:Allow", "B:Deny", "C:Allow"]);
    });

    it("answers the common lookups with the provider's result shape, and records each", () => {
        const log = new LookupLog();
        const zones = callDataSource("aws:index/getAvailabilityZones:getAvailabilityZones", { state: "available", excludeNames: ["eu-west-1c"] }, context, log);
        assert.deepEqual(zones.names, ["eu-west-1a", "eu-west-1b"]);
        assert.deepEqual(zones.zoneIds, ["euw1-az1", "euw1-az2"]);
        const identity = callDataSource("aws:index/getCallerIdentity:getCallerIdentity", {}, context, log);
        assert.match(String(identity.accountId), /^\d{12}$/);
        assert.equal(callDataSource("aws:index/getPartition:getPartition", {}, { ...context, region: "cn-north-1" }, log).partition, "aws-cn");
        assert.equal(callDataSource("aws:index/getRegion:getRegion", {}, context, log).region, "eu-west-1");
        const key = callDataSource("aws:kms/getKey:getKey", { keyId: "alias/aws/s3" }, context, log);
        assert.equal(key.keyManager, "AWS");
        assert.match(String(key.arn), /^arn:aws:kms:eu-west-1:\d{12}:key\/[0-9a-f-]{36}$/);
        const alias = callDataSource("aws:kms/getAlias:getAlias", { name: "alias/backups" }, context, log);
        assert.match(String(alias.targetKeyArn), /:key\//);
        const secret = callDataSource("aws:secretsmanager/getSecret:getSecret", { name: "orders/db" }, context, log);
        assert.match(String(secret.arn), /:secret:orders\/db-\w{6}$/);
        const version = callDataSource("aws:secretsmanager/getSecretVersion:getSecretVersion", { secretId: String(secret.arn) }, context, log);
        assert.deepEqual(Object.keys(version.secretString as object), ["secret"], "the secret string is marked secret");
        // A generic stand-in (the engine's default user and database), never one project's values.
        const document = JSON.parse(String((version.secretString as { secret: unknown }).secret)) as Record<string, unknown>;
        assert.deepEqual([document.username, document.dbname], ["postgres", "postgres"]);
        const vpc = callDataSource("aws:ec2/getVpc:getVpc", { default: true }, context, log);
        assert.match(String(vpc.id), /^vpc-0[0-9a-f]{16}$/);
        assert.equal(vpc.cidrBlock, "172.31.0.0/16");
        const subnets = callDataSource("aws:ec2/getSubnets:getSubnets", { filters: [{ name: "vpc-id", values: [String(vpc.id)] }] }, context, log);
        assert.equal((subnets.ids as string[]).length, 3);
        const zone = callDataSource("aws:route53/getZone:getZone", { name: "acme.example." }, context, log);
        assert.match(String(zone.zoneId), /^Z[0-9A-F]{20}$/);
        assert.equal(zone.name, "acme.example");
        const unknown = callDataSource("aws:ec2/getInstance:getInstance", { instanceTags: { Name: "bastion" } }, context, log);
        assert.deepEqual(unknown, {}, "an unknown lookup never returns its own inputs");
        const recorded = Object.fromEntries(log.list().map((l) => [l.function, l.result]));
        assert.equal(recorded["aws.getAvailabilityZones"], "assumed");
        assert.equal(recorded["aws.getPartition"], "computed");
        assert.equal(recorded["aws.ec2.getInstance"], "unknown");
    });

    it("names functions as programs spell them", () => {
        assert.equal(functionName("aws:iam/getPolicyDocument:getPolicyDocument"), "aws.iam.getPolicyDocument");
        assert.equal(functionName("aws:index/getRegion:getRegion"), "aws.getRegion");
        assert.equal(functionName("pulumi:pulumi:StackReference"), "pulumi.StackReference");
    });
});

describe("offline configuration", () => {
    let dir: string;
    before(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "plan-settings-"));
        fs.writeFileSync(path.join(dir, "Pulumi.yaml"), "name: orders\nruntime: nodejs\nconfig:\n  orders:tier: small\n");
        fs.writeFileSync(
            path.join(dir, "Pulumi.prod.yaml"),
            "config:\n  aws:region: eu-west-1\n  orders:apiKey:\n    secure: v1:AAAABBBB\n  orders:db:\n    user: orders\n    password:\n      secure: v1:CCCCDDDD\n",
        );
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("turns secure values, top level and nested, into secret stand-ins", () => {
        const settings = loadStackSettings(dir, "prod");
        assert.deepEqual(settings.secretKeys.sort(), ["orders:apiKey", "orders:db"]);
        assert.equal(settings.config["orders:apiKey"], secureStandIn("orders:apiKey"));
        assert.deepEqual(JSON.parse(settings.config["orders:db"]), { user: "orders", password: secureStandIn("orders:db.password") });
        assert.match(secureStandIn("x"), /^[A-Za-z0-9-]{24}$/);
        assert.ok(!JSON.stringify(settings.config).includes("v1:"), "no ciphertext reaches the program");
        assert.equal(settings.main, undefined, "no main in Pulumi.yaml: package.json, then the index, decide");
    });

    it("parses --config KEY=VALUE with the project as the default namespace", () => {
        assert.deepEqual(parseConfigAssignment("tier=large", "orders"), ["orders:tier", "large"]);
        assert.deepEqual(parseConfigAssignment("aws:region=us-east-2", "orders"), ["aws:region", "us-east-2"]);
        assert.deepEqual(parseConfigAssignment("url=https://x?a=b", "orders"), ["orders:url", "https://x?a=b"]);
        assert.throws(() => parseConfigAssignment("tier", "orders"), /--config tier: expected KEY=VALUE/);
    });

    it("locates an error in the program's own file, not in the SDK or a dependency", () => {
        const error = new Error("bucket name missing");
        error.stack = `Error: bucket name missing\n    at Object.<anonymous> (${dir}/node_modules/lib/x.js:1:1)\n    at Object.<anonymous> (${dir}/src/storage.ts:17:11)\n    at Module._compile (node:internal/modules/cjs/loader:1:1)`;
        assert.equal(describeFailure(error, dir), "src/storage.ts:17:11: bucket name missing");
        const missing = Object.assign(new Error("Cannot find module '@acme/tags/lib'\nRequire stack:\n- x"), { code: "MODULE_NOT_FOUND" });
        assert.match(describeFailure(missing, dir), /^the program needs the package @acme\/tags, which is not installed/);
        // An error thrown in an apply reaches the program wrapped once per level of the input it fed.
        const wrapped = new Error('error serializing property "spec": error serializing property "data": recipients[0]: fingerprint F00 is not published');
        wrapped.stack = `Error: x\n    at Object.<anonymous> (${dir}/src/storage.ts:110:19)`;
        assert.equal(describeFailure(wrapped, dir), "src/storage.ts:110:19: recipients[0]: fingerprint F00 is not published");
    });
});
