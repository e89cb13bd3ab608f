/**
 * Human-readable plan: every resource as a tree under its parent, with the properties that matter for
 * backups and DR. Secrets print as [secret], values computed by the cloud as (computed).
 */
import { ExposedSecret, isSecret, LookupRecord, PlannedResource, PlanResult, redact, shareablePlan, UNKNOWN, UnknownApply, WaitingRegistration } from "./model";

/** Per type, the inputs worth reading in a DR review; other types print their scalar inputs. */
const KEY_PROPERTIES: Record<string, string[]> = {
    "aws:rds/instance:Instance": [
        "identifier", "engine", "engineVersion", "instanceClass", "replicateSourceDb", "multiAz", "backupRetentionPeriod",
        "backupWindow", "maintenanceWindow", "storageEncrypted", "kmsKeyId", "deletionProtection", "skipFinalSnapshot",
        "finalSnapshotIdentifier", "copyTagsToSnapshot", "deleteAutomatedBackups", "enabledCloudwatchLogsExports", "password",
        "snapshotIdentifier", "restoreToPointInTime",
    ],
    "aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication": ["sourceDbInstanceArn", "retentionPeriod", "kmsKeyId"],
    "aws:s3/bucket:Bucket": ["bucket", "forceDestroy"],
    "aws:s3/bucketVersioning:BucketVersioning": ["bucket", "versioningConfiguration"],
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": ["bucket", "rules"],
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"],
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": ["bucket", "rules"],
    "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration": ["bucket", "objectLockEnabled", "rule"],
    "aws:s3/bucketReplicationConfig:BucketReplicationConfig": ["region", "bucket", "rules"],
    "aws:secretsmanager/secret:Secret": ["name", "kmsKeyId", "recoveryWindowInDays", "replicas"],
    "aws:secretsmanager/secretVersion:SecretVersion": ["secretId", "secretString"],
    "aws:cloudwatch/logGroup:LogGroup": ["name", "retentionInDays", "kmsKeyId"],
    "aws:kms/key:Key": ["description", "region", "enableKeyRotation", "deletionWindowInDays"],
    "aws:route53/healthCheck:HealthCheck": ["type", "fqdn", "port", "resourcePath", "failureThreshold", "requestInterval"],
    "aws:route53/record:Record": ["name", "type", "records", "setIdentifier", "failoverRoutingPolicies", "healthCheckId"],
    "kubernetes:batch/v1:CronJob": ["metadata", "spec"],
    "kubernetes:batch/v1beta1:CronJob": ["metadata", "spec"],
};

/**
 * Per type, nested inputs (dotted paths) worth reading in a DR review: a managed database's backup settings are
 * objects (Azure's `backup`, Cloud SQL's `settings.backupConfiguration`), which the scalar summary leaves out.
 */
const AZURE_POSTGRES_PATHS = [
    "serverName", "location", "resourceGroupName", "version", "createMode", "sourceServerResourceId", "pointInTimeUTC", "sku.name",
    "backup.backupRetentionDays", "backup.geoRedundantBackup", "highAvailability.mode", "replica.promoteMode",
];
const KEY_PATHS: Record<string, string[]> = {
    "azure-native:dbforpostgresql:Server": AZURE_POSTGRES_PATHS,
    "gcp:sql/databaseInstance:DatabaseInstance": [
        "name", "project", "region", "databaseVersion", "masterInstanceName", "instanceType", "deletionProtection", "clone.sourceInstanceName",
        "clone.pointInTime", "restoreBackupContext.backupRunId", "settings.tier", "settings.edition", "settings.availabilityType",
        "settings.deletionProtectionEnabled", "settings.backupConfiguration.enabled", "settings.backupConfiguration.startTime",
        "settings.backupConfiguration.location", "settings.backupConfiguration.pointInTimeRecoveryEnabled",
        "settings.backupConfiguration.transactionLogRetentionDays", "settings.backupConfiguration.backupRetentionSettings.retainedBackups",
        "settings.backupConfiguration.backupRetentionSettings.retentionUnit",
    ],
};

/** The dotted paths of `type` (an azure-native API-version module's Flexible Server as the default module's), if any. */
function keyPathsOf(type: string): string[] | undefined {
    return KEY_PATHS[type] ?? (/^azure-native:dbforpostgresql\/v\w+:Server$/.test(type) ? AZURE_POSTGRES_PATHS : undefined);
}

/** The input at a dotted path; a secret or unknown on the way is the value (printed as such), an absent step undefined. */
function atPath(inputs: Record<string, unknown>, path: string): unknown {
    let value: unknown = inputs;
    for (const key of path.split(".")) {
        if (value === UNKNOWN || isSecret(value)) {
            return value;
        }
        if (value === null || typeof value !== "object") {
            return undefined;
        }
        value = (value as Record<string, unknown>)[key];
    }
    return value;
}

const SKIPPED = new Set(["tags", "tagsAll", "policy", "assumeRolePolicy", "__defaults"]);

function brief(value: unknown): string {
    const text = JSON.stringify(redact(value));
    return text.length > 160 ? `${text.slice(0, 157)}...` : text;
}

function cronJobSummary(inputs: Record<string, unknown>): string[] {
    // Walks untyped wire-format JSON by path; every step may be absent.
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const spec = redact(inputs.spec) as Record<string, any> | undefined;
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const metadata = redact(inputs.metadata) as Record<string, any> | undefined;
    if (!spec) {
        return [];
    }
    const jobSpec = spec.jobTemplate?.spec ?? {};
    const pod = jobSpec.template?.spec ?? {};
    const container = pod.containers?.[0] ?? {};
    // An unset field reads "(not set)", never "undefined": the provider's or the cluster's default applies.
    const shown = (value: unknown): string => (value === undefined ? "(not set)" : typeof value === "string" ? value : JSON.stringify(value));
    return [
        `namespace=${shown(metadata?.namespace)}`,
        `schedule=${JSON.stringify(spec.schedule)}`,
        `suspend=${spec.suspend ?? false}`,
        `concurrencyPolicy=${shown(spec.concurrencyPolicy)}`,
        `startingDeadlineSeconds=${shown(spec.startingDeadlineSeconds)}`,
        `activeDeadlineSeconds=${shown(jobSpec.activeDeadlineSeconds)}`,
        `backoffLimit=${shown(jobSpec.backoffLimit)}`,
        `history=${shown(spec.successfulJobsHistoryLimit)}/${shown(spec.failedJobsHistoryLimit)}`,
        `image=${shown(container.image)}`,
        `resources=${shown(container.resources)}`,
        `runAsNonRoot=${shown(pod.securityContext?.runAsNonRoot ?? container.securityContext?.runAsNonRoot)}`,
        `readOnlyRootFilesystem=${shown(container.securityContext?.readOnlyRootFilesystem)}`,
    ];
}

export function keyProperties(resource: PlannedResource): string[] {
    if (resource.type === "kubernetes:batch/v1:CronJob" || resource.type === "kubernetes:batch/v1beta1:CronJob") {
        return cronJobSummary(resource.inputs);
    }
    const paths = keyPathsOf(resource.type);
    if (paths) {
        return paths.flatMap((path) => {
            const value = atPath(resource.inputs, path);
            return value === undefined ? [] : [`${path}=${brief(value)}`];
        });
    }
    const wanted = KEY_PROPERTIES[resource.type];
    const entries = Object.entries(resource.inputs).filter(([k, v]) =>
        wanted ? wanted.includes(k) : !SKIPPED.has(k) && (typeof v !== "object" || v === null || Array.isArray(v)),
    );
    if (wanted) {
        entries.sort(([a], [b]) => wanted.indexOf(a) - wanted.indexOf(b));
    }
    return [...kubernetesNamespace(resource), ...entries.map(([k, v]) => `${k}=${brief(v)}`)];
}

/** A namespaced Kubernetes object's namespace, first: which namespace a Role or a Secret lands in is a review's question. */
function kubernetesNamespace(resource: PlannedResource): string[] {
    if (!resource.type.startsWith("kubernetes:")) {
        return [];
    }
    const metadata = redact(resource.inputs.metadata) as { namespace?: unknown } | undefined;
    return typeof metadata?.namespace === "string" ? [`namespace=${metadata.namespace}`] : [];
}

function isDefaultProvider(r: PlannedResource): boolean {
    return r.type.startsWith("pulumi:providers:") && r.name.startsWith("default");
}

export function formatPlan(result: PlanResult): string {
    const plan = shareablePlan(result);
    const resources = plan.resources.filter((r) => !isDefaultProvider(r));
    const children = new Map<string | undefined, PlannedResource[]>();
    const known = new Set(resources.map((r) => r.urn));
    for (const r of resources) {
        const parent = r.parent && known.has(r.parent) ? r.parent : undefined;
        children.set(parent, [...(children.get(parent) ?? []), r]);
    }
    const lines = [
        `Stack ${plan.organization}/${plan.project}/${plan.stack}${plan.preview ? " (preview: computed values unknown)" : ""}`,
        `  ${resources.length} resource${resources.length === 1 ? "" : "s"} to create (${resources.filter((r) => r.protect).length} protected)`,
    ];
    const walk = (parent: string | undefined, depth: number) => {
        for (const r of children.get(parent) ?? []) {
            const indent = "  ".repeat(depth + 1);
            const flags = [r.protect ? "protect" : "", r.custom ? "" : "component"].filter(Boolean).join(", ");
            lines.push(`${indent}+ ${r.type}  ${r.name}${flags ? `  [${flags}]` : ""}`);
            for (const prop of keyProperties(r)) {
                lines.push(`${indent}      ${prop}`);
            }
            walk(r.urn, depth + 1);
        }
    };
    walk(undefined, 0);
    if (Object.keys(plan.outputs).length > 0) {
        lines.push("  Outputs:");
        for (const [key, value] of Object.entries(plan.outputs)) {
            lines.push(`    ${key}: ${brief(value)}`);
        }
    }
    lines.push(...formatLookups(plan.lookups ?? [], "  "));
    lines.push(...formatExposedSecrets(plan.exposedSecrets ?? [], "  "));
    lines.push(...formatWaiting(plan.waitingOnUnknowns ?? [], "  "));
    lines.push(...formatUnknownApplies(plan.unknownApplies ?? [], "  "));
    return lines.join("\n");
}

/** "index.ts:25:15 (waits on signing-suffix; 3 calls)": one `.apply` whose callback did not run. */
export function describeUnknownApply(a: UnknownApply): string {
    const details = [a.waitsOn.length > 0 ? `waits on ${a.waitsOn.join(", ")}` : "", a.count > 1 ? `${a.count} calls` : ""].filter(Boolean).join("; ");
    return `${a.where}${details ? ` (${details})` : ""}`;
}

/**
 * The program's `.apply` callbacks that did not run even in a full plan, their value being unknown offline
 * (not computed by the mocks): whatever they create (a bucket, a secret) is in no plan and no policy judged it.
 */
export function formatUnknownApplies(applies: UnknownApply[], indent: string): string[] {
    if (applies.length === 0) {
        return [];
    }
    const n = applies.length;
    return [
        `${indent}Not run (values unknown offline): ${n} .apply callback${n === 1 ? "" : "s"} in the program did not run because ${n === 1 ? "its" : "their"} value is unknown even in a full offline plan (a value only the cloud computes, or an outside stack's output not supplied); \`pulumi up\` runs ${n === 1 ? "it" : "them"}, and whatever ${n === 1 ? "it creates" : "they create"} is in no plan and was not judged:`,
        ...applies.map((a) => `${indent}  ${describeUnknownApply(a)}`),
    ];
}

/**
 * Registrations a preview cannot show: made inside `.apply` over a value unknown until the update (a real
 * `pulumi preview` does not show them either). Counted, with where each is made and what it waits on.
 */
export function formatWaiting(waiting: WaitingRegistration[], indent: string): string[] {
    if (waiting.length === 0) {
        return [];
    }
    const n = waiting.length;
    return [
        `${indent}Waiting on unknowns: ${n} registration${n === 1 ? " is" : "s are"} made inside .apply over values unknown in a preview; this preview (as \`pulumi preview\`) does not show ${n === 1 ? "it" : "them"} and no policy judged ${n === 1 ? "it" : "them"} (plan without --preview to see ${n === 1 ? "it" : "them"}):`,
        ...waiting.map((w) => {
            const where = [w.where, w.waitsOn.length > 0 ? `waits on ${w.waitsOn.join(", ")}` : ""].filter(Boolean).join("; ");
            return `${indent}  ${w.type}  ${w.name}${where ? ` (${where})` : ""}`;
        }),
    ];
}

const LOOKUP_MEANING: Record<LookupRecord["result"], string> = {
    computed: "computed from its arguments, as the provider does",
    assumed: "assumed: a realistic stand-in, not read from a cloud",
    supplied: "supplied by --stack-outputs or a stack planned in this run",
    unknown: "unknown, as in a first preview",
    "not planned": "built by its provider plugin: the resources it creates are not in this offline plan, and no policy saw them",
    "not run": "a dynamic provider's resource: its create runs only under `pulumi up`, so what it makes is in no offline plan, no policy saw it, and the outputs it would compute are not in the plan",
};

/** Where a secret config value went unmarked (the value itself is "[secret]" in every output of this tool). */
export function formatExposedSecrets(exposed: ExposedSecret[], indent: string): string[] {
    if (exposed.length === 0) {
        return [];
    }
    return [
        `${indent}Secret config passed on as plain text (read it with requireSecret or getSecret; pulumi up would store it unencrypted):`,
        ...exposed.map((e) => `${indent}  ${e.key} -> ${e.where}`),
    ];
}

/** What the plan could not ask a cloud about and what it used instead (the check report prints it too). */
export function formatLookups(lookups: LookupRecord[], indent: string): string[] {
    if (lookups.length === 0) {
        return [];
    }
    return [
        `${indent}Lookups answered offline:`,
        ...lookups.map((l) => `${indent}  ${l.function}${l.detail ? ` ${l.detail}` : ""}${l.count > 1 ? ` (${l.count} calls)` : ""}: ${LOOKUP_MEANING[l.result]}`),
    ];
}
