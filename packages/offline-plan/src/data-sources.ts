/**
 * Data sources (invokes) under the offline plan, as close to the engine's as can be had without a cloud:
 * - computed from their arguments, as the provider would: `aws.iam.getPolicyDocument`, `aws.getRegion`,
 *   `aws.getPartition`, `kubernetes:yaml:decode`;
 * - assumed: realistic values for an account that does not exist (`aws.getCallerIdentity`,
 *   `aws.getAvailabilityZones`, KMS keys and aliases, secrets, VPCs, subnets, hosted zones);
 * - anything else: unknown, as a first `pulumi preview` shows a value it cannot know yet. Never the
 *   invoke's own inputs (a result that echoes its arguments makes `names`, `json`, `accountId` undefined).
 * Every lookup is recorded, so the plan and the check report can say what they assumed.
 */
import { yamlParser } from "./yaml-cache";
import type * as PulumiSdk from "@pulumi/pulumi";
import { renderPolicyDocument, PolicyDocumentArgs } from "./policy-document";
import { ACCOUNT_ID, mockHexId, mockUuid } from "./resource-mocks";
import { LookupRecord } from "./model";

type Args = Record<string, unknown>;
interface Context {
    region: string;
    /** Wraps a value as a secret, as the provider marks secret outputs. */
    secret(value: unknown): unknown;
}
interface DataSource {
    kind: "computed" | "assumed";
    /** Whether these arguments are ones the table can answer; the others get the unknown result. */
    answers?(args: Args): boolean;
    result(args: Args, context: Context): Record<string, unknown>;
}

const DIRECTIONS: Record<string, string> = {
    north: "n", south: "s", east: "e", west: "w", central: "c",
    northeast: "ne", northwest: "nw", southeast: "se", southwest: "sw",
};

/** "us-east-1" → "use1", as AWS zone ids are spelled (use1-az1). */
function zoneIdPrefix(region: string): string {
    const [area, direction, number] = region.split("-");
    return `${area}${DIRECTIONS[direction] ?? direction?.[0] ?? ""}${number ?? ""}`;
}

function regionOf(args: Args, context: Context): string {
    return String(args.region ?? context.region);
}

function partitionOf(region: string): { partition: string; dnsSuffix: string } {
    if (region.startsWith("cn-")) {
        return { partition: "aws-cn", dnsSuffix: "amazonaws.com.cn" };
    }
    if (region.startsWith("us-gov-")) {
        return { partition: "aws-us-gov", dnsSuffix: "amazonaws.com" };
    }
    return { partition: "aws", dnsSuffix: "amazonaws.com" };
}

function availabilityZones(args: Args, context: Context): Record<string, unknown> {
    const region = regionOf(args, context);
    const excluded = new Set([...((args.excludeNames as string[]) ?? []), ...((args.excludeZoneIds as string[]) ?? [])]);
    const zones = ["a", "b", "c"]
        .map((letter, i) => ({ name: `${region}${letter}`, zoneId: `${zoneIdPrefix(region)}-az${i + 1}` }))
        .filter((zone) => !excluded.has(zone.name) && !excluded.has(zone.zoneId));
    return {
        ...args,
        id: region,
        region,
        names: zones.map((z) => z.name),
        zoneIds: zones.map((z) => z.zoneId),
        groupNames: zones.map(() => region),
    };
}

function kmsKey(args: Args, context: Context): Record<string, unknown> {
    const region = regionOf(args, context);
    const requested = String(args.keyId ?? "");
    const keyId = /^[0-9a-f-]{36}$/.test(requested) ? requested : requested.match(/key\/([0-9a-f-]{36})$/)?.[1] ?? mockUuid(`kms:${requested}`);
    const awsManaged = /alias\/aws\//.test(requested);
    return {
        ...args,
        id: keyId,
        keyId,
        arn: `arn:aws:kms:${region}:${ACCOUNT_ID}:key/${keyId}`,
        awsAccountId: ACCOUNT_ID,
        region,
        enabled: true,
        keyState: "Enabled",
        keyManager: awsManaged ? "AWS" : "CUSTOMER",
        keySpec: "SYMMETRIC_DEFAULT",
        customerMasterKeySpec: "SYMMETRIC_DEFAULT",
        keyUsage: "ENCRYPT_DECRYPT",
        origin: "AWS_KMS",
        multiRegion: false,
        multiRegionConfigurations: [],
        xksKeyConfigurations: [],
        description: "",
        creationDate: "2024-01-01T00:00:00Z",
        expirationModel: "",
        deletionDate: "",
        validTo: "",
        cloudHsmClusterId: "",
        customKeyStoreId: "",
        pendingDeletionWindowInDays: 0,
    };
}

function kmsAlias(args: Args, context: Context): Record<string, unknown> {
    const region = regionOf(args, context);
    const name = String(args.name);
    const targetKeyId = mockUuid(`kms:${name}`);
    const arn = `arn:aws:kms:${region}:${ACCOUNT_ID}:${name}`;
    return { ...args, id: arn, arn, name, region, targetKeyId, targetKeyArn: `arn:aws:kms:${region}:${ACCOUNT_ID}:key/${targetKeyId}` };
}

function secretArn(idOrName: string, region: string): string {
    return idOrName.startsWith("arn:") ? idOrName : `arn:aws:secretsmanager:${region}:${ACCOUNT_ID}:secret:${idOrName}-AbCdEf`;
}

function secretNameOf(arnOrName: string): string {
    const match = /:secret:(.+)-[A-Za-z0-9]{6}$/.exec(arnOrName);
    return match ? match[1] : arnOrName;
}

function secret(args: Args, context: Context): Record<string, unknown> {
    const region = regionOf(args, context);
    const arn = secretArn(String(args.arn ?? args.name), region);
    return {
        ...args,
        id: arn,
        arn,
        name: secretNameOf(arn),
        region,
        description: "",
        kmsKeyId: "",
        policy: "",
        tags: args.tags ?? {},
        createdDate: "2024-01-01T00:00:00Z",
        lastChangedDate: "2024-01-01T00:00:00Z",
    };
}

function secretVersion(args: Args, context: Context): Record<string, unknown> {
    const region = regionOf(args, context);
    const arn = secretArn(String(args.secretId), region);
    const versionId = "00000000-0000-4000-8000-000000000001";
    return {
        ...args,
        id: `${arn}|${args.versionStage ?? "AWSCURRENT"}`,
        arn,
        secretArn: arn,
        region,
        // A secret's content cannot be read offline: a generic database credentials document (the commonest
        // content, with the engine's default user and database) stands in; secret, as the provider marks it.
        secretString: context.secret(JSON.stringify({ engine: "postgres", username: "postgres", password: "mock-secret-password", dbname: "postgres", port: 5432 })),
        secretBinary: context.secret(""),
        versionId: args.versionId ?? versionId,
        versionStages: [String(args.versionStage ?? "AWSCURRENT")],
        createdDate: "2024-01-01T00:00:00Z",
    };
}

function vpc(args: Args, context: Context): Record<string, unknown> {
    const region = regionOf(args, context);
    const isDefault = args.default === true;
    const id = String(args.id ?? mockHexId("vpc", `lookup:${JSON.stringify(args)}`));
    const cidrBlock = String(args.cidrBlock ?? (isDefault ? "172.31.0.0/16" : "10.0.0.0/16"));
    return {
        ...args,
        id,
        arn: `arn:aws:ec2:${region}:${ACCOUNT_ID}:vpc/${id}`,
        cidrBlock,
        cidrBlockAssociations: [{ associationId: mockHexId("vpc-cidr-assoc", id), cidrBlock, state: "associated" }],
        default: isDefault,
        dhcpOptionsId: mockHexId("dopt", id),
        enableDnsHostnames: true,
        enableDnsSupport: true,
        enableNetworkAddressUsageMetrics: false,
        instanceTenancy: "default",
        ipv6AssociationId: "",
        ipv6CidrBlock: "",
        ipv6CidrBlockAssociations: [],
        mainRouteTableId: mockHexId("rtb", id),
        ownerId: ACCOUNT_ID,
        region,
        state: "available",
        tags: args.tags ?? {},
    };
}

function subnets(args: Args, context: Context): Record<string, unknown> {
    const region = regionOf(args, context);
    const seed = `lookup:${JSON.stringify(args)}`;
    return { ...args, id: region, region, ids: [0, 1, 2].map((i) => mockHexId("subnet", `${seed}/${i}`)), tags: args.tags ?? {} };
}

function hostedZone(args: Args): Record<string, unknown> {
    const name = String(args.name ?? "example.com").replace(/\.$/, "");
    const zoneId = String(args.zoneId ?? `Z${mockUuid(`zone:${name}`).replace(/-/g, "").toUpperCase().slice(0, 20)}`);
    const servers = [0, 1, 2, 3].map((i) => `ns-${100 + i * 500}.awsdns-${10 + i}.${["com", "net", "org", "co.uk"][i]}`);
    return {
        ...args,
        id: zoneId,
        zoneId,
        name,
        arn: `arn:aws:route53:::hostedzone/${zoneId}`,
        callerReference: mockUuid(`zone-ref:${name}`),
        comment: "",
        linkedServiceDescription: "",
        linkedServicePrincipal: "",
        nameServers: servers,
        primaryNameServer: servers[0],
        privateZone: args.privateZone ?? false,
        resourceRecordSetCount: 2,
        tags: args.tags ?? {},
    };
}

/**
 * AWS's public parameters (`/aws/service/...`), which component libraries read to pick an AMI: awsx classic
 * JSON-parses the ECS-optimized one, so an unknown value would crash a program a real preview runs.
 */
const PUBLIC_AMI_PARAMETER = /^\/aws\/service\/(ecs\/optimized-ami|ami-amazon-linux-latest|ami-windows-latest|eks\/optimized-ami|bottlerocket)\//;

function amiId(seed: string): string {
    return mockHexId("ami", `ami:${seed}`);
}

function publicParameter(args: Args, context: Context): Record<string, unknown> {
    const name = String(args.name);
    const image = amiId(name);
    // The ECS "recommended" parameter holds a JSON document; the others (…/image_id, the latest-AMI ones) an id.
    const value = /\/ecs\/optimized-ami\/.*\/recommended$/.test(name)
        ? JSON.stringify({ image_id: image, image_name: `amzn2-ami-ecs-hvm-2.0.20240101-x86_64-ebs`, ecs_agent_version: "1.80.0", ecs_runtime_version: "Docker version 20.10.25", os: "Amazon Linux 2", schema_version: 1, source_image_name: "amzn2-ami-minimal-hvm-2.0.20240101.0-x86_64-ebs" })
        : image;
    const region = regionOf(args, context);
    return { ...args, id: name, name, arn: `arn:aws:ssm:${region}::parameter${name}`, type: "String", value, insecureValue: value, version: 1, withDecryption: args.withDecryption ?? true };
}

function ami(args: Args, context: Context): Record<string, unknown> {
    const id = amiId(JSON.stringify(args));
    const region = regionOf(args, context);
    return {
        ...args,
        id,
        imageId: id,
        arn: `arn:aws:ec2:${region}::image/${id}`,
        architecture: "x86_64",
        name: "mock-ami-2024.01.01",
        ownerId: "137112412989",
        rootDeviceName: "/dev/xvda",
        rootDeviceType: "ebs",
        virtualizationType: "hvm",
        state: "available",
        blockDeviceMappings: [],
        tags: {},
    };
}

const DATA_SOURCES: Record<string, DataSource> = {
    "aws:ssm/getParameter:getParameter": { kind: "assumed", answers: (args) => PUBLIC_AMI_PARAMETER.test(String(args.name ?? "")), result: publicParameter },
    "aws:ec2/getAmi:getAmi": { kind: "assumed", result: ami },
    "aws:index/getCallerIdentity:getCallerIdentity": {
        kind: "assumed",
        result: () => ({ id: ACCOUNT_ID, accountId: ACCOUNT_ID, arn: `arn:aws:iam::${ACCOUNT_ID}:user/mock`, userId: "AIDAMOCK" }),
    },
    "aws:index/getRegion:getRegion": {
        kind: "computed",
        result: (args, context) => {
            const region = String(args.region ?? args.name ?? context.region);
            return { id: region, name: region, region, endpoint: `ec2.${region}.${partitionOf(region).dnsSuffix}`, description: region };
        },
    },
    "aws:index/getPartition:getPartition": {
        kind: "computed",
        result: (_args, context) => ({ id: partitionOf(context.region).partition, ...partitionOf(context.region), reverseDnsPrefix: "com.amazonaws" }),
    },
    "aws:index/getAvailabilityZones:getAvailabilityZones": { kind: "assumed", result: availabilityZones },
    "aws:iam/getPolicyDocument:getPolicyDocument": {
        kind: "computed",
        result: (args) => {
            const rendered = renderPolicyDocument(args as PolicyDocumentArgs);
            return { ...args, id: String(mockUuid(rendered.minifiedJson)), ...rendered };
        },
    },
    "aws:kms/getKey:getKey": { kind: "assumed", result: kmsKey },
    "aws:kms/getAlias:getAlias": { kind: "assumed", result: kmsAlias },
    "aws:secretsmanager/getSecret:getSecret": { kind: "assumed", result: secret },
    "aws:secretsmanager/getSecretVersion:getSecretVersion": { kind: "assumed", result: secretVersion },
    "aws:ec2/getVpc:getVpc": { kind: "assumed", result: vpc },
    "aws:ec2/getSubnets:getSubnets": { kind: "assumed", result: subnets },
    "aws:route53/getZone:getZone": { kind: "assumed", result: (args) => hostedZone(args) },
    "kubernetes:yaml:decode": {
        kind: "computed",
        result: (args) => ({ result: yamlParser().parseAllDocuments(String(args.text ?? "")).map((d) => d.toJSON()).filter((d) => d !== null && d !== undefined) }),
    },
};

/** Whether the table answers this invoke; without arguments, whether it answers the token at all. */
export function isKnownDataSource(token: string, args?: unknown): boolean {
    const source = DATA_SOURCES[token];
    if (!source) {
        return false;
    }
    return !source.answers || args === undefined || (typeof args === "object" && args !== null && source.answers(args as Args));
}

/** "aws:iam/getPolicyDocument:getPolicyDocument" → "aws.iam.getPolicyDocument", as programs spell it. */
export function functionName(token: string): string {
    const [pkg, module, member] = token.split(":");
    const namespace = module?.split("/")[0];
    return [pkg, namespace && namespace !== "index" && namespace !== pkg ? namespace : undefined, member].filter(Boolean).join(".");
}

/** The type every dynamic provider's resource registers with (the SDK's pulumi.dynamic.Resource). */
export const DYNAMIC_RESOURCE = "pulumi-nodejs:dynamic:Resource";

/** The lookups of one program run, counted per function and kind. */
export class LookupLog {
    private readonly counts = new Map<string, LookupRecord>();

    record(token: string, result: LookupRecord["result"], detail?: string): void {
        this.count(functionName(token), token, result, detail);
    }

    /** A remote component (built by its provider plugin): named by its type, as programs spell it. */
    recordRemoteComponent(type: string, name: string): void {
        this.count(type, type, "not planned", name);
    }

    /** A dynamic provider's resource (pulumi.dynamic.Resource): its create is the program's code, never run offline. */
    recordDynamicResource(name: string): void {
        this.count("pulumi.dynamic.Resource", DYNAMIC_RESOURCE, "not run", name);
    }

    private count(fn: string, token: string, result: LookupRecord["result"], detail: string | undefined): void {
        const key = `${token}|${result}|${detail ?? ""}`;
        const entry = this.counts.get(key) ?? { function: fn, token, result, count: 0, ...(detail ? { detail } : {}) };
        entry.count += 1;
        this.counts.set(key, entry);
    }

    list(): LookupRecord[] {
        return [...this.counts.values()].sort((a, b) => a.function.localeCompare(b.function));
    }
}

/** The mock's `call`: a known data source's result; never the inputs. */
export function callDataSource(token: string, args: Args, context: Context, log: LookupLog): Record<string, unknown> {
    const source = DATA_SOURCES[token];
    if (!source) {
        // Reached only through a path the unknown-result wrapper does not cover (a provider method call).
        log.record(token, "unknown");
        return {};
    }
    log.record(token, source.kind);
    return source.result(args, context);
}

type InvokeFunction = (token: string, ...rest: unknown[]) => unknown;

/**
 * Makes every invoke the table does not know return an unknown result, as in a first preview: the Output
 * forms an unknown Output (applies do not run, resources receive an unknown input), the Promise forms an
 * object whose every property is such an Output.
 */
export function installUnknownInvokes(pulumi: typeof PulumiSdk, log: LookupLog): void {
    const runtime = pulumi.runtime as unknown as Record<string, InvokeFunction>;
    const unknownOutput = () => pulumi.output(pulumi.unknown);
    // The Promise forms resolve to plain values under `pulumi up`; offline each field is an unknown Output, which
    // flows into a resource's inputs as unknown. Made into text (String(x), a template, JSON), it would be the SDK's
    // "Calling [toString] on an [Output<T>]" notice, planned as if it were the value: refused instead, naming it.
    const refuseAsText = (token: string, property?: string) => (): never => {
        throw new Error(
            `${functionName(token)}(...)${property === undefined ? "" : `.${property}`} is not known offline (no stand-in answers ${token}), and the program uses it as text: ` +
                `pass it to a resource's inputs as it is, or use the Output form of the lookup with .apply, which stays unknown as in a first preview`,
        );
    };
    const unknownField = (token: string, property: string) => Object.assign(unknownOutput(), { toString: refuseAsText(token, property), toJSON: refuseAsText(token, property) });
    // The Promise form's result is an unknown Output to the SDK (its members answer, `__pulumiOutput` among them), so
    // that `pulumi.output(lookup)`, the idiom for using it as an Output (a Helm v3 Chart does so with its
    // `helm template`), stays unknown: over a plain object `pulumi.output` sees no field, and its lifted fields,
    // the inputs read from them and the `.apply` over it were planned as not set, `undefined` (h40 trial).
    // Any other name is a field of the result: an unknown Output that refuses to be text, as the whole result does.
    const unknownObject = (token: string) =>
        new Proxy(unknownOutput(), {
            get: (target, property) => {
                if (property === "then") {
                    return undefined;
                }
                if (property === "toString" || property === "toJSON") {
                    return refuseAsText(token);
                }
                const sdkMember = typeof property !== "string" || property.startsWith("__") || property in target;
                return sdkMember ? Reflect.get(target, property) : unknownField(token, property);
            },
        });
    const wrap = (name: string, unknown: (token: string) => unknown) => {
        const original = runtime[name];
        if (typeof original !== "function") {
            return;
        }
        runtime[name] = (token: string, ...rest: unknown[]) => {
            if (isKnownDataSource(token, rest[0] ?? {}) || token.startsWith("pulumi:")) {
                return original(token, ...rest);
            }
            log.record(token, "unknown");
            return unknown(token);
        };
    };
    wrap("invoke", (token) => Promise.resolve(unknownObject(token)));
    wrap("invokeSingle", () => Promise.resolve(unknownOutput()));
    wrap("invokeOutput", unknownOutput);
    wrap("invokeSingleOutput", unknownOutput);
}
