/**
 * parseStackConfig: raw values (a key lookup) -> the validated StackConfig, or a ConfigError listing every
 * problem, one line each. Three steps: each key through its schema (schema.ts), the rules between keys
 * (refinements.ts), then the derived values the compositions read.
 */
import { Retention, TABLE_RETENTION } from "../retention";
import { WEEK_DAYS, WEEKLY_WINDOW } from "../formats";
import { DEFAULT_SERVER_NAMESPACE, FIELDS, FieldName, PROJECT, SECTION_DEFAULTS, Values, gcpDefaultsFor } from "./schema";
import { crossFieldRules } from "./refinements";
import type { RuleContext } from "./rules/context";
import { regionOf } from "./rules/regions";
import { ConfigError, issueLines, qualifiedKey, withoutSecrets } from "./messages";
import { toUtc, parseRfc3339 } from "./time";
import type { BackupJobResources, BackupJobSchedules } from "../schedule";
import type { BackupJobsConfig, Cloud, StackConfig } from "./types";
import { backupEncryptionOf } from "./rules/encryption";

export interface ParseOptions {
    /** The current time, for validating restore.pointInTime; injectable for tests. */
    now?: Date;
    /**
     * Every key the stack's configuration sets, fully qualified (the running program's
     * `pulumi.runtime.allConfig()`): a key of the project's namespace that no field declares, or a field's name
     * in another namespace, is refused, since nothing would read it. Without it, only the declared keys are read.
     */
    keys?: readonly string[];
    /**
     * The keys whose values are Pulumi secrets (`pulumi config set --secret`): a problem's line never shows
     * their value (the CLI prints it, CI logs keep it), only "[secret]".
     */
    secretKeys?: readonly string[];
}

/** A lookup of raw configuration values by fully qualified key ("oauth2-dr:role", "aws:region"). */
export type ConfigLookup = (key: string) => string | undefined;

export function parseStackConfig(lookup: ConfigLookup, stack: string, project: string = PROJECT, options: ParseOptions = {}): StackConfig {
    const raw = (key: string) => {
        const value = lookup(key.includes(":") ? key : `${project}:${key}`);
        return value === undefined || value === "" ? undefined : value;
    };
    const { values, problems, invalidKeys } = parseFields(raw, project);
    problems.push(...unreadKeys(options.keys ?? [], project));
    problems.push(...plainCredentials(values, project, options.secretKeys));
    const ctx: RuleContext = {
        stack,
        now: options.now ?? new Date(),
        raw,
        invalid: (key) => invalidKeys.some((k) => k === key || k.startsWith(`${key}.`)),
    };
    const rules = crossFieldRules(ctx).safeParse(values);
    if (!rules.success) {
        problems.push(...issueLines(project, [], rules.error.issues));
    }
    if (problems.length > 0) {
        throw new ConfigError(withoutSecrets(problems, (options.secretKeys ?? []).map((key) => lookup(key))));
    }
    return derive(values, project, stack, raw("gcp:project"));
}

/** Each key through its schema; an unset key takes its default, an invalid one stays out of `values`. */
function parseFields(raw: (key: string) => string | undefined, project: string) {
    const values: Values = {};
    const problems: string[] = [];
    const invalidKeys: string[] = [];
    for (const [name, field] of Object.entries(FIELDS) as Array<[FieldName, (typeof FIELDS)[FieldName]]>) {
        const text = raw(name) ?? defaultText(field.default);
        if (text === undefined) {
            continue;
        }
        const result = field.schema.safeParse(text);
        if (result.success) {
            (values as Record<string, unknown>)[name] = result.data;
        } else {
            problems.push(...issueLines(project, [name], result.error.issues));
            invalidKeys.push(...result.error.issues.map((i) => qualifiedKey("", [name, ...i.path]).slice(1)));
        }
    }
    return { values, problems, invalidKeys };
}

/**
 * The keys set that nothing reads: a misspelled key (`oauth2-dr:retentionDay`) or a field in a misspelled
 * namespace (`oauth2dr:retention`, `oauth2_dr:promote`). Without this, such a key is silently ignored and its
 * field keeps its default. Other namespaces' keys are their providers', even where a name is also one of ours
 * (`azure-native:environment`, the Azure cloud: public, usgovernment, china, is not this project's environment).
 */
function unreadKeys(keys: readonly string[], project: string): string[] {
    const fields = Object.keys(FIELDS);
    const problems: string[] = [];
    for (const key of keys) {
        const colon = key.indexOf(":");
        const [namespace, name] = colon < 0 ? [project, key] : [key.slice(0, colon), key.slice(colon + 1)];
        if (namespace === project && !fields.includes(name)) {
            const near = closest(name, fields);
            problems.push(`${project}:${name}: unknown key${near ? `; did you mean ${project}:${near}?` : ""} (the keys are declared in Pulumi.yaml)`);
        } else if (namespace !== project && fields.includes(name) && closest(namespace, [project]) !== undefined) {
            problems.push(`${key}: not read: this project's keys are in the ${project} namespace; write ${project}:${name}`);
        }
    }
    return problems;
}

/** A kubeconfig's credentials: a token, a client key, a password (the kubeconfig itself, not a path to one). */
const KUBECONFIG_CREDENTIAL = /["']?\b(client-key-data|token|id-token|access-token|refresh-token|client-secret|password)["']?\s*:\s*["']?[^\s"'{}]/;

/**
 * backupJobs.kubeconfig may be the kubeconfig itself: with a credential in it, it must be a secret
 * (`pulumi config set --secret --path backupJobs.kubeconfig`), or the stack file holds the cluster's keys in
 * plain text. Only known when the caller says which keys are secret (secretKeys).
 */
function plainCredentials(v: Values, project: string, secretKeys: readonly string[] | undefined): string[] {
    const kubeconfig = v.backupJobs?.kubeconfig;
    if (secretKeys === undefined || kubeconfig === undefined || secretKeys.includes(`${project}:backupJobs`) || !KUBECONFIG_CREDENTIAL.test(kubeconfig)) {
        return [];
    }
    return [
        `${project}:backupJobs.kubeconfig: holds a cluster credential (${KUBECONFIG_CREDENTIAL.exec(kubeconfig)![1]}) in plain configuration; ` +
            `set it with \`pulumi config set --secret --path backupJobs.kubeconfig\`, or give the path of a kubeconfig file`,
    ];
}

/** The field nearest to a misspelled name (edit distance at most a third of its length), if any. */
function closest(name: string, fields: readonly string[]): string | undefined {
    const distance = (a: string, b: string): number => {
        let row = Array.from({ length: b.length + 1 }, (_, j) => j);
        for (let i = 1; i <= a.length; i++) {
            const next = [i];
            for (let j = 1; j <= b.length; j++) {
                next[j] = Math.min(row[j] + 1, next[j - 1] + 1, row[j - 1] + (a[i - 1].toLowerCase() === b[j - 1].toLowerCase() ? 0 : 1));
            }
            row = next;
        }
        return row[b.length];
    };
    const best = fields.map((f) => ({ f, d: distance(name, f) })).sort((x, y) => x.d - y.d)[0];
    return best && best.d <= Math.max(1, Math.floor(best.f.length / 3)) ? best.f : undefined;
}

/** A default as the raw text Pulumi would pass: "" (no value) stays unset. */
function defaultText(value: unknown): string | undefined {
    if (value === undefined || value === "") {
        return undefined;
    }
    return typeof value === "string" ? value : JSON.stringify(value);
}

/** The StackConfig of valid values: defaults inside sections filled in, derived values computed. */
function derive(v: Values, project: string, stack: string, gcpProviderProject: string | undefined): StackConfig {
    const cloud = v.cloud as Cloud;
    const role = v.role!;
    const region = regionOf(v);
    const storage = cloud === "aws"
        ? { primaryRegion: v.primaryRegion!, drRegion: v.drRegion!, region }
        : { primaryRegion: v.awsPrimaryRegion!, drRegion: v.awsDrRegion!, region: role === "standby" ? v.awsDrRegion! : v.awsPrimaryRegion! };
    const hostedZoneId = v.hostedZoneId ?? "";
    const mw = WEEKLY_WINDOW.exec(v.maintenanceWindow!)!;
    const restoreTime = v.restore?.pointInTime;
    return {
        project,
        stack,
        cloud,
        role,
        environment: v.environment!,
        primaryRegion: v.primaryRegion!,
        drRegion: v.drRegion!,
        region,
        storage,
        domain: v.domain!,
        hostedZoneId,
        regionalEndpoint: v.regionalEndpoint ?? "",
        backupWindow: v.backupWindow!,
        maintenanceWindow: v.maintenanceWindow!,
        instanceClass: v.instanceClass!,
        engineVersion: v.engineVersion!,
        allocatedStorageGb: v.allocatedStorageGb!,
        maxAllocatedStorageGb: v.maxAllocatedStorageGb!,
        subnetIds: v.subnetIds ?? [],
        securityGroupIds: v.securityGroupIds ?? [],
        tags: v.tags ?? {},
        retention: retentionOf(v),
        secretRecoveryWindowDays: v.secretRecoveryWindowDays!,
        primaryStack: v.primaryStack,
        promote: v.promote ?? false,
        backupJobs: backupJobsOf(v),
        dnsFailover: cloud === "aws" || hostedZoneId !== "",
        backupStartTime: v.backupWindow!.slice(0, 5),
        maintenanceStart: { dayOfWeek: WEEK_DAYS.indexOf(mw[1]), hour: Number(mw[2]), minute: Number(mw[3]) },
        azure: cloud === "azure" ? { ...SECTION_DEFAULTS.azure, ...v.azure } : undefined,
        gcp: cloud === "gcp" ? gcpOf(v, gcpProviderProject) : undefined,
        restore: v.restore?.fromSnapshot !== undefined
            ? { mode: "snapshot", fromSnapshot: v.restore.fromSnapshot }
            : restoreTime !== undefined ? { mode: "pointInTime", pointInTime: toUtc(parseRfc3339(restoreTime)!) } : undefined,
        manualSnapshots: v.manualSnapshots ?? [],
        awsBackup: {
            enabled: v.awsBackup?.enabled ?? (cloud === "aws" && role === "primary"),
            changeableForDays: v.awsBackup?.changeableForDays ?? SECTION_DEFAULTS.awsBackup.changeableForDays,
        },
        alarms: cloud === "aws" ? alarmsOf(v, region) : {},
        serverNamespace: serverNamespaceOf(v),
        appDatabaseSecret: { ...SECTION_DEFAULTS.appDatabaseSecret, ...v.appDatabaseSecret, namespace: serverNamespaceOf(v) },
        objectLock: objectLockOf(v),
        breakGlassRoleArn: v.breakGlassRoleArn,
        vaultStack: v.vaultStack,
        vault: role === "vault" ? vaultOf(v) : undefined,
        backupEncryption: backupEncryptionOf(v),
    };
}

/**
 * The authorization server's namespace, one value for the DATABASE_URL Secret and the exports that read the
 * server's secret and ConfigMaps: serverNamespace, else appDatabaseSecret.namespace (configurations written
 * before serverNamespace existed), else oauth2-system. Both set and different is refused (refinements.ts).
 */
export function serverNamespaceOf(v: Values): string {
    return v.serverNamespace || v.appDatabaseSecret?.namespace || DEFAULT_SERVER_NAMESPACE;
}

/** COMPLIANCE in production, GOVERNANCE elsewhere; the database row's retention (the table's minimum unless raised). */
export function objectLockOf(v: Values): StackConfig["objectLock"] {
    return {
        mode: v.objectLock?.mode ?? ((v.environment ?? "production") === "production" ? "COMPLIANCE" : "GOVERNANCE"),
        days: v.objectLock?.days !== undefined ? Number(v.objectLock.days) : retentionOf(v).database,
        secretRotationDays: Number(v.objectLock?.secretRotationDays ?? SECTION_DEFAULTS.objectLock.secretRotationDays),
    };
}

function vaultOf(v: Values): NonNullable<StackConfig["vault"]> {
    const vault = { ...SECTION_DEFAULTS.vault, ...v.vault };
    return {
        accountId: vault.accountId ?? "",
        profile: vault.profile,
        assumeRoleArn: vault.assumeRoleArn,
        sourceAccountIds: vault.sourceAccountIds ?? [],
        replicationRoleArns: vault.replicationRoleArns ?? [],
        restoreRoleArns: vault.restoreRoleArns ?? [],
        verificationRoleArns: vault.verificationRoleArns ?? [],
        airGapped: vault.airGapped,
        changeableForDays: Number(vault.changeableForDays),
    };
}

/** The backup jobs' settings: each schedule and each container's requests and limits over the defaults. */
function backupJobsOf(v: Values): BackupJobsConfig {
    const given = v.backupJobs;
    const defaults = SECTION_DEFAULTS.backupJobs;
    const resources = Object.fromEntries(
        Object.entries(defaults.resources).map(([job, d]) => {
            const own = given?.resources?.[job];
            return [job, { requests: { ...d.requests, ...own?.requests }, limits: { ...d.limits, ...own?.limits } }];
        }),
    ) as BackupJobResources;
    return {
        enabled: given?.enabled ?? defaults.enabled,
        kubeconfig: given?.kubeconfig,
        image: given?.image ?? defaults.image,
        schedules: { ...defaults.schedules, ...(given?.schedules as Partial<BackupJobSchedules> | undefined) },
        resources,
        oidcProviderArn: given?.oidcProviderArn ?? "",
        oidcProviderUrl: given?.oidcProviderUrl ?? "",
    };
}

function retentionOf(v: Values): Retention {
    const raised = Object.fromEntries(Object.entries(v.retention ?? {}).map(([k, value]) => [k, Number(value)]));
    return { ...TABLE_RETENTION, ...raised };
}

/** Cloud SQL settings; the project defaults to the provider's gcp:project. */
function gcpOf(v: Values, providerProject: string | undefined): StackConfig["gcp"] {
    const gcp = { ...SECTION_DEFAULTS.gcp, ...gcpDefaultsFor(v.gcp?.edition), ...v.gcp };
    return {
        project: v.gcp?.project ?? providerProject ?? "",
        tier: gcp.tier,
        edition: gcp.edition,
        privateNetwork: gcp.privateNetwork ?? "",
        transactionLogRetentionDays: gcp.transactionLogRetentionDays,
        backupLocation: gcp.backupLocation,
    };
}

function alarmsOf(v: Values, region: string): StackConfig["alarms"] {
    const topicArn = v.alarmTopicArn;
    // Route 53's health-check metrics live in us-east-1: a topic there serves both alarms.
    const healthCheckTopicArn = v.healthCheckAlarmTopicArn ?? (topicArn && region === "us-east-1" ? topicArn : undefined);
    return { topicArn, healthCheckTopicArn };
}
