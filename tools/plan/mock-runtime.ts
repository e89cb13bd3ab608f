/**
 * Runs a Pulumi TypeScript program under Pulumi's mock runtime and records every resource registration
 * exactly as the engine would receive it: type, name, URN, parent, options (protect, provider,
 * dependencies) and the serialized inputs, secrets and unknowns included.
 *
 * One program run per process: Pulumi's runtime state is global, so `planStack` (plan-runner.ts) starts
 * a child process for each stack.
 */
import * as fs from "fs";
import * as path from "path";
import type * as PulumiSdk from "@pulumi/pulumi";
import { loadStackSettings } from "./stack-settings";
import { PlannedResource, PlanResult, SECRET_SIG, UNKNOWN } from "./model";

export interface RunOptions {
    /** Directory holding Pulumi.yaml and the program. */
    programDir: string;
    stack: string;
    /** Outputs of other stacks, by fully qualified name (org/project/stack), for StackReferences. */
    stackReferences?: Record<string, Record<string, unknown>>;
    /** Preview mode: computed values (ids, ARNs, endpoints) stay unknown, as in `pulumi preview`. */
    preview?: boolean;
    /** Extra or replacement config values, by fully qualified key; `null` removes a key. */
    configOverrides?: Record<string, string | null>;
    organization?: string;
}

const ACCOUNT_ID = "123456789012";
const AZURE_SUBSCRIPTION = "00000000-0000-0000-0000-000000000000";

/** AWS service name in ARNs, from a type token such as aws:rds/instance:Instance. */
function awsArn(type: string, name: string, region: string, inputs: Record<string, unknown>): string {
    const [, moduleAndKind] = type.split(":");
    const [service, kind] = moduleAndKind.split("/");
    const physical = String(inputs.identifier ?? inputs.bucket ?? inputs.name ?? name);
    switch (service) {
        case "s3":
            return `arn:aws:s3:::${physical}`;
        case "iam":
            return `arn:aws:iam::${ACCOUNT_ID}:${kind}/${physical}`;
        case "rds":
            return `arn:aws:rds:${region}:${ACCOUNT_ID}:${kind === "cluster" ? "cluster" : "db"}:${physical}`;
        case "route53":
            return `arn:aws:route53:::${kind}/${physical}`;
        case "kms":
            return `arn:aws:kms:${region}:${ACCOUNT_ID}:key/${mockUuid(name)}`;
        case "secretsmanager":
            return `arn:aws:secretsmanager:${region}:${ACCOUNT_ID}:secret:${physical}-AbCdEf`;
        case "kinesis":
            return kind === "firehoseDeliveryStream"
                ? `arn:aws:firehose:${region}:${ACCOUNT_ID}:deliverystream/${physical}`
                : `arn:aws:kinesis:${region}:${ACCOUNT_ID}:stream/${physical}`;
        case "cloudwatch":
            return `arn:aws:logs:${region}:${ACCOUNT_ID}:log-group:${physical}`;
        default:
            return `arn:aws:${service}:${region}:${ACCOUNT_ID}:${kind}/${physical}`;
    }
}

function mockUuid(seed: string): string {
    let h = 0x811c9dc5;
    const bytes: string[] = [];
    for (let i = 0; i < 16; i++) {
        for (const c of `${seed}#${i}`) {
            h = Math.imul(h ^ c.charCodeAt(0), 0x01000193) >>> 0;
        }
        bytes.push((h & 0xff).toString(16).padStart(2, "0"));
    }
    const hex = bytes.join("");
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** Realistic computed outputs for the types the program declares; everything else echoes its inputs. */
function computedState(type: string, name: string, inputs: Record<string, unknown>, defaultRegion: string): Record<string, unknown> {
    const region = String(inputs.region ?? inputs.location ?? defaultRegion);
    const state: Record<string, unknown> = { ...inputs };
    if (type.startsWith("aws:")) {
        state.arn = inputs.arn ?? awsArn(type, name, region, inputs);
        state.region = region;
    }
    switch (type) {
        case "aws:rds/instance:Instance": {
            const identifier = String(inputs.identifier ?? name);
            state.identifier = identifier;
            state.address = `${identifier}.c0ffee123456.${region}.rds.amazonaws.com`;
            state.endpoint = `${state.address}:5432`;
            state.port = inputs.port ?? 5432;
            state.dbName = inputs.dbName ?? "oauth2db";
            state.resourceId = `db-${mockUuid(name).replace(/-/g, "").slice(0, 26).toUpperCase()}`;
            break;
        }
        case "aws:s3/bucket:Bucket":
            state.bucket = inputs.bucket ?? name;
            state.bucketRegionalDomainName = `${state.bucket}.s3.${region}.amazonaws.com`;
            break;
        case "aws:kms/key:Key":
            state.keyId = mockUuid(name);
            break;
        case "azure-native:resources:ResourceGroup": {
            const group = String(inputs.resourceGroupName ?? name);
            state.name = group;
            state.id = `/subscriptions/${AZURE_SUBSCRIPTION}/resourceGroups/${group}`;
            break;
        }
        case "azure-native:dbforpostgresql:Server": {
            const server = String(inputs.serverName ?? name);
            state.name = server;
            state.id = `/subscriptions/${AZURE_SUBSCRIPTION}/resourceGroups/${String(inputs.resourceGroupName)}/providers/Microsoft.DBforPostgreSQL/flexibleServers/${server}`;
            state.fullyQualifiedDomainName = `${server}.postgres.database.azure.com`;
            state.state = "Ready";
            break;
        }
        case "gcp:sql/databaseInstance:DatabaseInstance": {
            const instance = String(inputs.name ?? name);
            const project = String(inputs.project ?? "mock-project");
            state.name = instance;
            state.connectionName = `${project}:${region}:${instance}`;
            state.selfLink = `https://sqladmin.googleapis.com/sql/v1beta4/projects/${project}/instances/${instance}`;
            state.privateIpAddress = `10.${mockUuid(name).charCodeAt(0) % 200}.0.3`;
            state.firstIpAddress = state.privateIpAddress;
            break;
        }
        case "aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication":
            state.id = `arn:aws:rds:${region}:${ACCOUNT_ID}:auto-backup:ab-${mockUuid(name).replace(/-/g, "").slice(0, 26)}`;
            break;
        case "aws:rds/snapshot:Snapshot":
            state.dbSnapshotArn = `arn:aws:rds:${region}:${ACCOUNT_ID}:snapshot:${String(inputs.dbSnapshotIdentifier ?? name)}`;
            break;
        case "aws:backup/vault:Vault":
            state.arn = `arn:aws:backup:${region}:${ACCOUNT_ID}:backup-vault:${String(inputs.name ?? name)}`;
            break;
        case "random:index/randomPassword:RandomPassword":
            // A fixed placeholder: the real value is generated by the provider and kept secret.
            state.result = `mock-${name}-${"x".repeat(Number(inputs.length ?? 32))}`.slice(0, Number(inputs.length ?? 32));
            break;
        default:
            break;
    }
    return state;
}

/** The id the provider would return: a name for buckets and instances, an ARN for secrets, a UUID for keys. */
function physicalId(type: string, name: string, state: Record<string, unknown>): string {
    switch (type) {
        case "aws:s3/bucket:Bucket":
            return String(state.bucket ?? name);
        case "aws:rds/instance:Instance":
            return String(state.identifier ?? name);
        case "aws:secretsmanager/secret:Secret":
            return String(state.arn);
        case "aws:kms/key:Key":
            return String(state.keyId);
        case "aws:route53/healthCheck:HealthCheck":
            return mockUuid(name);
        case "azure-native:resources:ResourceGroup":
        case "azure-native:dbforpostgresql:Server":
        case "aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication":
            return String(state.id);
        case "gcp:sql/databaseInstance:DatabaseInstance":
            return String(state.name);
        default:
            return `${name}-id`;
    }
}

/** Pulumi's wire-format secret/unknown markers, turned into plain JSON that survives a process boundary. */
function toJson(value: unknown): unknown {
    if (Array.isArray(value)) {
        return value.map(toJson);
    }
    if (value && typeof value === "object") {
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toJson(v)]));
    }
    return value;
}

/**
 * The program's own copy of the Pulumi SDK (its node_modules), or ours when it has none: mocks only work
 * when they are installed in the very copy that the program's resources register through.
 */
function sdkFor(programDir: string): typeof PulumiSdk {
    const resolved = require.resolve("@pulumi/pulumi", { paths: [programDir, __dirname] });
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(resolved) as typeof PulumiSdk;
}

let pulumi: typeof PulumiSdk;

export async function runProgram(options: RunOptions): Promise<PlanResult> {
    const programDir = path.resolve(options.programDir);
    pulumi = sdkFor(programDir);
    const settings = loadStackSettings(programDir, options.stack);
    const config: Record<string, string> = { ...settings.config };
    for (const [key, value] of Object.entries(options.configOverrides ?? {})) {
        if (value === null) {
            delete config[key];
        } else {
            config[key] = value;
        }
    }
    const defaultRegion = config["aws:region"] ?? "us-east-1";
    const preview = options.preview ?? false;
    const organization = options.organization ?? "organization";

    await pulumi.runtime.setMocks(
        {
            newResource(args: PulumiSdk.runtime.MockResourceArgs): PulumiSdk.runtime.MockResourceResult {
                if (args.type === "pulumi:pulumi:StackReference") {
                    const refName = String(args.inputs.name);
                    const outputs = options.stackReferences?.[refName];
                    if (!outputs) {
                        throw new Error(`StackReference ${refName}: no such stack was planned before this one (plan it first)`);
                    }
                    return { id: refName, state: { name: refName, outputs, secretOutputNames: [] } };
                }
                if (preview) {
                    // During a preview, providers have not created anything yet: only the inputs are known.
                    return { id: undefined as unknown as string, state: {} };
                }
                const state = computedState(args.type, args.name, args.inputs, defaultRegion);
                return { id: physicalId(args.type, args.name, state), state };
            },
            call(args: PulumiSdk.runtime.MockCallArgs): Record<string, unknown> {
                switch (args.token) {
                    case "aws:index/getCallerIdentity:getCallerIdentity":
                        return { accountId: ACCOUNT_ID, arn: `arn:aws:iam::${ACCOUNT_ID}:user/mock`, userId: "AIDAMOCK" };
                    case "aws:index/getRegion:getRegion":
                        return { name: defaultRegion, region: defaultRegion, id: defaultRegion };
                    case "aws:secretsmanager/getSecretVersion:getSecretVersion":
                        // The replicated oauth2/db-credentials: a placeholder password, secret like the real one.
                        return {
                            ...args.inputs,
                            arn: args.inputs.secretId,
                            secretString: JSON.stringify({ engine: "postgres", username: "oauth2admin", password: "mock-replicated-db-password", dbname: "oauth2db", port: 5432 }),
                            versionId: "mock-version",
                        };
                    case "aws:index/getPartition:getPartition":
                        return { partition: "aws", dnsSuffix: "amazonaws.com" };
                    default:
                        return args.inputs;
                }
            },
        },
        settings.project,
        options.stack,
        preview,
        organization,
    );
    const secretKeys = Object.keys(config).filter((key) => settings.secretKeys.includes(key));
    pulumi.runtime.setAllConfig(config, secretKeys);

    const resources: PlannedResource[] = [];
    const monitor = pulumi.runtime.getMonitor() as unknown as {
        registerResource(req: RegisterRequest, callback: (err: unknown, resp?: { getUrn(): string; getId(): string }) => void): void;
    };
    const register = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req, callback) => {
        register(req, (err, resp) => {
            if (!err && resp) {
                resources.push(recordOf(req, resp.getUrn(), resp.getId()));
            }
            callback(err, resp);
        });
    };

    const errors: string[] = [];
    const onRejection = (reason: unknown) => errors.push(reason instanceof Error ? reason.message : String(reason));
    process.on("unhandledRejection", onRejection);
    let outputs: Record<string, unknown> = {};
    try {
        const entry = path.join(programDir, settings.main);
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const program = require(entry) as Record<string, unknown>;
        outputs = await resolveExports(program);
        await (pulumi.runtime as unknown as { waitForRPCs?: () => Promise<void> }).waitForRPCs?.();
        await pulumi.runtime.disconnect();
    } finally {
        process.off("unhandledRejection", onRejection);
    }
    if (errors.length > 0) {
        throw new Error(errors.join("\n"));
    }
    return { project: settings.project, stack: options.stack, organization, preview, config, resources, outputs };
}

interface RegisterRequest {
    getType(): string;
    getName(): string;
    getParent(): string;
    getCustom(): boolean;
    getProtect?(): boolean;
    getProvider(): string;
    getDependenciesList(): string[];
    getPropertydependenciesMap(): { forEach(cb: (value: { getUrnsList(): string[] }, key: string) => void): void };
    getObject(): { toJavaScript(): Record<string, unknown> } | undefined;
    getRetainondelete?(): boolean;
    getIgnorechangesList?(): string[];
    getAdditionalsecretoutputsList?(): string[];
    getDeletebeforereplace?(): boolean;
}

function recordOf(req: RegisterRequest, urn: string, id: string): PlannedResource {
    const propertyDependencies: Record<string, string[]> = {};
    req.getPropertydependenciesMap().forEach((value, key) => {
        propertyDependencies[key] = value.getUrnsList();
    });
    const provider = req.getProvider();
    return {
        urn,
        id: id || undefined,
        type: req.getType(),
        name: req.getName(),
        parent: req.getParent() || undefined,
        custom: req.getCustom(),
        protect: req.getProtect?.() ?? false,
        retainOnDelete: req.getRetainondelete?.() ?? false,
        provider: provider ? provider.split("::")[0] + "::" + provider.split("::").slice(1).join("::") : undefined,
        dependencies: req.getDependenciesList(),
        propertyDependencies,
        ignoreChanges: req.getIgnorechangesList?.() ?? [],
        additionalSecretOutputs: req.getAdditionalsecretoutputsList?.() ?? [],
        inputs: toJson(req.getObject()?.toJavaScript() ?? {}) as Record<string, unknown>,
    };
}

async function resolveExports(program: Record<string, unknown>): Promise<Record<string, unknown>> {
    const resolved: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(program)) {
        if (key === "__esModule" || typeof value === "function") {
            continue;
        }
        resolved[key] = await resolveValue(value);
    }
    return resolved;
}

async function resolveValue(value: unknown): Promise<unknown> {
    if (pulumi.Output.isInstance(value)) {
        const output = value as PulumiSdk.Output<unknown> & { promise(): Promise<unknown>; isKnown: Promise<boolean>; isSecret: Promise<boolean> };
        const [inner, known, secret] = await Promise.all([output.promise(), output.isKnown, output.isSecret]);
        if (!known) {
            return UNKNOWN;
        }
        const plain = await resolveValue(inner);
        return secret ? { [SECRET_SIG.key]: SECRET_SIG.value, value: plain } : plain;
    }
    if (value instanceof Promise) {
        return resolveValue(await value);
    }
    if (pulumi.Resource.isInstance(value)) {
        return { urn: await resolveValue((value as PulumiSdk.Resource).urn) };
    }
    if (Array.isArray(value)) {
        return Promise.all(value.map(resolveValue));
    }
    if (value && typeof value === "object") {
        const out: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(value)) {
            out[k] = await resolveValue(v);
        }
        return out;
    }
    return value;
}

/** Child-process entry: `tsx tools/plan/mock-runtime.ts <options-json-file> <result-json-file>`. */
async function main(): Promise<void> {
    const [optionsFile, resultFile] = process.argv.slice(2);
    const options = JSON.parse(fs.readFileSync(optionsFile, "utf8")) as RunOptions;
    try {
        const result = await runProgram(options);
        fs.writeFileSync(resultFile, JSON.stringify({ ok: true, result }));
    } catch (err) {
        const error = err as Error;
        fs.writeFileSync(resultFile, JSON.stringify({ ok: false, error: error.message, name: error.name }));
    }
    process.exit(0);
}

if (require.main === module) {
    void main();
}
