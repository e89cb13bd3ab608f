/**
 * What the providers would return for the resources a program registers: realistic computed outputs (ARNs,
 * endpoints, ids) for the types whose outputs programs commonly read, the inputs echoed for the others.
 */
import { UNKNOWN } from "./model";

export const ACCOUNT_ID = "123456789012";
const AZURE_SUBSCRIPTION = "00000000-0000-0000-0000-000000000000";

/** AWS service name in ARNs, from a type token such as aws:rds/instance:Instance. */
function awsArn(type: string, name: string, region: string, inputs: Record<string, unknown>, account: string): string {
    const [, moduleAndKind] = type.split(":");
    const [service, kind] = moduleAndKind.split("/");
    const physical = String(inputs.identifier ?? inputs.bucket ?? inputs.name ?? name);
    switch (service) {
        case "s3":
            return `arn:aws:s3:::${physical}`;
        case "iam":
            return `arn:aws:iam::${account}:${kind}/${physical}`;
        case "rds":
            return `arn:aws:rds:${region}:${account}:${kind === "cluster" ? "cluster" : "db"}:${physical}`;
        case "route53":
            return `arn:aws:route53:::${kind}/${physical}`;
        case "cloudfront":
            return `arn:aws:cloudfront::${account}:${kind}/${mockHexId("E", name, 13).replace(/-/g, "").toUpperCase()}`;
        case "kms":
            return `arn:aws:kms:${region}:${account}:key/${mockUuid(name)}`;
        case "secretsmanager":
            return `arn:aws:secretsmanager:${region}:${account}:secret:${physical}-AbCdEf`;
        case "kinesis":
            return kind === "firehoseDeliveryStream"
                ? `arn:aws:firehose:${region}:${account}:deliverystream/${physical}`
                : `arn:aws:kinesis:${region}:${account}:stream/${physical}`;
        case "cloudwatch":
            // The module holds EventBridge's rules too (aws:cloudwatch/eventRule:EventRule), whose ARNs are events'.
            return kind === "eventRule" ? `arn:aws:events:${region}:${account}:rule/${physical}` : `arn:aws:logs:${region}:${account}:log-group:${physical}`;
        case "sns":
        case "sqs":
            // A topic's and a queue's ARN end in their name, with no resource type (arn:aws:sns:REGION:ACCOUNT:NAME).
            return kind === "topic" || kind === "queue" ? `arn:aws:${service}:${region}:${account}:${physical}` : `arn:aws:${service}:${region}:${account}:${kind}/${physical}`;
        case "lambda":
            return kind === "function" ? `arn:aws:lambda:${region}:${account}:function:${physical}` : `arn:aws:${service}:${region}:${account}:${kind}/${physical}`;
        default:
            return `arn:aws:${service}:${region}:${account}:${kind}/${physical}`;
    }
}

export function mockUuid(seed: string): string {
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

/**
 * The name S3 gets for a bucket declared with `bucketPrefix`: the provider appends a unique suffix (a
 * timestamp and a counter, 26 characters), so the bucket is not called by its prefix, nor by its Pulumi name.
 */
export function prefixedBucketName(prefix: string, name: string): string {
    const digits = [...mockUuid(name).replace(/-/g, "")].map((c) => (parseInt(c, 16) % 10).toString()).join("");
    return `${prefix}20260101000000${digits.slice(0, 12)}`;
}

/**
 * Realistic computed outputs for the types the program declares; everything else echoes its inputs. `account`:
 * the AWS account of the resource's provider (its allowedAccountIds), so a stack in another account shows it.
 */
export function computedState(type: string, name: string, declared: Record<string, unknown>, defaultRegion: string, account = ACCOUNT_ID): Record<string, unknown> {
    const isBucket = type === "aws:s3/bucket:Bucket" || type === "aws:s3/bucketV2:BucketV2";
    const inputs = isBucket && declared.bucket === undefined && typeof declared.bucketPrefix === "string" ? { ...declared, bucket: prefixedBucketName(declared.bucketPrefix, name) } : declared;
    const region = String(inputs.region ?? inputs.location ?? defaultRegion);
    const state: Record<string, unknown> = { ...inputs };
    if (type.startsWith("aws:")) {
        state.arn = inputs.arn ?? awsArn(type, name, region, inputs, account);
        state.region = region;
    }
    if (type.startsWith("aws:") || type.startsWith("gcp:")) {
        // Most AWS and Google Cloud resources are named by the provider when the program gives no name
        // (Pulumi's auto-naming): the name is known once created, and programs pass it on (a Role's name to
        // its policy attachments, a subnet group's to the database). Without it the output would be a known
        // undefined and the property would vanish from the resources that read it. The logical name stands
        // in, as for buckets.
        state.name = inputs.name ?? name;
    }
    if (type.startsWith("kubernetes:") && !type.startsWith("kubernetes:helm") && !type.startsWith("kubernetes:yaml") && type !== "kubernetes:kustomize:Directory") {
        // metadata.name is auto-named when the program gives none (namespaced objects keep their namespace).
        const metadata = (inputs.metadata ?? {}) as Record<string, unknown>;
        state.metadata = { ...metadata, name: metadata.name ?? name };
    }
    switch (type) {
        case "aws:rds/instance:Instance": {
            const identifier = String(inputs.identifier ?? name);
            state.identifier = identifier;
            state.address = `${identifier}.c0ffee123456.${region}.rds.amazonaws.com`;
            // The engine's default port: 3306 for MySQL and MariaDB, 5432 for PostgreSQL (and the rest, here).
            state.port = inputs.port ?? (/mysql|mariadb/.test(String(inputs.engine ?? "")) ? 3306 : 5432);
            state.endpoint = `${state.address}:${state.port}`;
            // The provider's: the database the instance creates, none when none is named (""); a read replica's is
            // its source's, which is not known here, so it stays unknown (unmodelledOutputs).
            if (inputs.dbName !== undefined || inputs.replicateSourceDb === undefined) {
                state.dbName = inputs.dbName ?? "";
            }
            state.resourceId = `db-${mockUuid(name).replace(/-/g, "").slice(0, 26).toUpperCase()}`;
            break;
        }
        case "aws:s3/bucket:Bucket":
        case "aws:s3/bucketV2:BucketV2":
            state.bucket = inputs.bucket ?? name;
            // S3's two forms: the legacy global endpoint's (website and CDN origins use it) and the regional one.
            state.bucketDomainName = `${state.bucket}.s3.amazonaws.com`;
            state.bucketRegionalDomainName = `${state.bucket}.s3.${region}.amazonaws.com`;
            break;
        case "aws:kms/key:Key":
            state.keyId = mockUuid(name);
            break;
        case "aws:cloudfront/distribution:Distribution":
            state.domainName = `d${mockUuid(name).replace(/-/g, "").slice(0, 13)}.cloudfront.net`;
            // CloudFront's one hosted zone, the alias target of every distribution.
            state.hostedZoneId = "Z2FDTNDATAQYW2";
            break;
        case "aws:rds/cluster:Cluster": {
            const identifier = String(inputs.clusterIdentifier ?? name);
            state.clusterIdentifier = identifier;
            state.endpoint = `${identifier}.cluster-c0ffee123456.${region}.rds.amazonaws.com`;
            state.readerEndpoint = `${identifier}.cluster-ro-c0ffee123456.${region}.rds.amazonaws.com`;
            state.port = inputs.port ?? (String(inputs.engine ?? "").includes("mysql") ? 3306 : 5432);
            break;
        }
        case "azure-native:resources:ResourceGroup": {
            const group = String(inputs.resourceGroupName ?? name);
            state.name = group;
            state.id = `/subscriptions/${AZURE_SUBSCRIPTION}/resourceGroups/${group}`;
            break;
        }
        case "azure-native:dbforpostgresql:Server": {
            const server = String(inputs.serverName ?? name);
            state.name = server;
            // The id names the resource group: unknown while the group is (a lookup not answered offline, another
            // stack's output), never "resourceGroups/undefined".
            if (typeof inputs.resourceGroupName === "string") {
                state.id = `/subscriptions/${AZURE_SUBSCRIPTION}/resourceGroups/${inputs.resourceGroupName}/providers/Microsoft.DBforPostgreSQL/flexibleServers/${server}`;
            }
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
            state.id = `arn:aws:rds:${region}:${account}:auto-backup:ab-${mockUuid(name).replace(/-/g, "").slice(0, 26)}`;
            break;
        case "aws:rds/snapshot:Snapshot":
            state.dbSnapshotArn = `arn:aws:rds:${region}:${account}:snapshot:${String(inputs.dbSnapshotIdentifier ?? name)}`;
            break;
        case "aws:backup/vault:Vault":
        case "aws:backup/logicallyAirGappedVault:LogicallyAirGappedVault":
            state.arn = `arn:aws:backup:${region}:${account}:backup-vault:${String(inputs.name ?? name)}`;
            break;
        case "random:index/randomPassword:RandomPassword":
            // A fixed placeholder: the real value is generated by the provider and kept secret.
            state.result = `mock-${name}-${"x".repeat(Number(inputs.length ?? 32))}`.slice(0, Number(inputs.length ?? 32));
            break;
        default:
            Object.assign(state, awsxComponentState(type, name, region, inputs));
            break;
    }
    return state;
}

/** The account an explicit AWS provider is pinned to (its first allowedAccountIds), if any. */
export function providerAccount(inputs: Record<string, unknown>): string | undefined {
    let allowed: unknown = inputs.allowedAccountIds;
    if (typeof allowed === "string") {
        try {
            allowed = JSON.parse(allowed);
        } catch {
            return undefined;
        }
    }
    return Array.isArray(allowed) && typeof allowed[0] === "string" ? allowed[0] : undefined;
}

/** A short, stable hex id (vpc-0…, subnet-0…) derived from a seed. */
export function mockHexId(prefix: string, seed: string, length = 17): string {
    return `${prefix}-0${mockUuid(seed).replace(/-/g, "").slice(0, length - 1)}`;
}

/**
 * How many subnets of each type an awsx.ec2.Vpc makes, as the awsx provider lays them out: one per availability
 * zone (`availabilityZoneNames`, else `numberOfAvailabilityZones`, default 3) for each entry of `subnetSpecs` of
 * that type (default: one Public and one Private). Undefined when an input it depends on is unknown offline.
 */
function awsxVpcSubnetCounts(inputs: Record<string, unknown>): Record<"Public" | "Private" | "Isolated", number> | undefined {
    const names = inputs.availabilityZoneNames;
    const number = inputs.numberOfAvailabilityZones;
    const zones = Array.isArray(names) ? names.length : number === undefined ? 3 : typeof number === "number" ? number : undefined;
    const specs = inputs.subnetSpecs;
    if (zones === undefined || (specs !== undefined && !Array.isArray(specs))) {
        return undefined;
    }
    if (specs === undefined) {
        return { Public: zones, Private: zones, Isolated: 0 };
    }
    const types = (specs as unknown[]).map((spec) => (spec !== null && typeof spec === "object" ? (spec as { type?: unknown }).type : undefined));
    if (types.some((t) => typeof t !== "string" || t === UNKNOWN)) {
        return undefined;
    }
    const count = (type: string) => types.filter((t) => t === type).length * zones;
    return { Public: count("Public"), Private: count("Private"), Isolated: count("Isolated") };
}

/**
 * @pulumi/awsx components are built by the awsx provider plugin (remote components): under mocks none of
 * their children exist, so the outputs programs read from them (VPC and subnet ids, repository URL) are
 * stood in for here, as many subnets as the component's inputs ask (unknown when they are unknown offline).
 */
function awsxComponentState(type: string, name: string, region: string, inputs: Record<string, unknown> = {}): Record<string, unknown> {
    const subnets = (kind: string, count: number) => Array.from({ length: count }, (_, i) => mockHexId("subnet", `${name}/${kind}/${i}`));
    switch (type) {
        case "awsx:ec2:Vpc": {
            const counts = awsxVpcSubnetCounts(inputs);
            return {
                vpcId: mockHexId("vpc", name),
                publicSubnetIds: counts ? subnets("public", counts.Public) : UNKNOWN,
                privateSubnetIds: counts ? subnets("private", counts.Private) : UNKNOWN,
                isolatedSubnetIds: counts ? subnets("isolated", counts.Isolated) : UNKNOWN,
            };
        }
        case "awsx:ec2:DefaultVpc":
            return {
                vpcId: mockHexId("vpc", name),
                publicSubnetIds: subnets("public", 3),
                privateSubnetIds: subnets("private", 3),
                isolatedSubnetIds: [],
            };
        case "awsx:ecr:Repository":
            return { url: `${ACCOUNT_ID}.dkr.ecr.${region}.amazonaws.com/${name.toLowerCase()}` };
        default:
            return {};
    }
}

/** The outputs of a plugin-built component (awsx) the mocks stand in for; its others are unknown offline. */
export function modelledComponentOutputs(type: string): string[] {
    return Object.keys(awsxComponentState(type, "component", "us-east-1"));
}

/**
 * The id the provider would return: a name for buckets and instances, an ARN for secrets, a UUID for keys;
 * undefined (unknown, as in a preview) when the value it is made of is unknown.
 */
export function physicalId(type: string, name: string, state: Record<string, unknown>): string | undefined {
    switch (type) {
        case "aws:s3/bucket:Bucket":
        case "aws:s3/bucketV2:BucketV2":
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
            return typeof state.id === "string" ? state.id : undefined;
        case "gcp:sql/databaseInstance:DatabaseInstance":
            return String(state.name);
        default:
            return `${name}-id`;
    }
}

