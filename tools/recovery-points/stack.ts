/**
 * Which database, regions, bucket and vaults `npm run recovery-points` asks about: the stack's configuration
 * read the way the program reads it (Pulumi.yaml + Pulumi.<stack>.yaml through lib/config's validator, as
 * the offline plan does), and the stack's outputs (`--stack-outputs FILE`, or `pulumi stack output --json`
 * when the Pulumi CLI is installed). Every problem here is a configuration error (exit 2).
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import { ConfigError, parseStackConfig, StackConfig } from "../../lib/config";
import { retentionRow } from "../../lib/retention";
import { backupBucketName } from "../../lib/names";
import { listStacks, loadStackSettings } from "offline-plan/stack-settings";

/** A configuration problem: bad arguments, an invalid stack file, no outputs (exit 2). */
export class UsageError extends Error {}

export interface Vault {
    name: string;
    region: string;
}

/** A bucket of dumps besides the stack's own: the standby's (replicated copies) or the vault account's. */
export interface CopyBucket {
    bucket: string;
    region: string;
    /** The stack that declares it (its name gives the bucket's: oauth2-backups-<stack>, stacks/compose-storage.ts). */
    stack: string;
    /** The vault account's role that may read its bucket for a restore (vault.restoreRoleArns). */
    restoreRoleArn?: string;
}

/** The database of an azure or gcp stack: its points are the cloud's own, not read by this tool. */
export interface CloudDatabase {
    cloud: "azure" | "gcp";
    /** Flexible Server name or Cloud SQL instance name. */
    name: string;
    /** Azure: the resource group; gcp: the project. */
    group: string;
    /** Days back restore.pointInTime reaches (lib/config/rules/restore.ts). */
    pointInTimeDays: number;
}

export interface Target {
    stack: string;
    cloud: "aws" | "azure" | "gcp";
    /** azure and gcp stacks: their database, for the commands that list its own points. */
    cloudDatabase?: CloudDatabase;
    /** The standby stack's bucket: S3 replication's copies of this stack's dumps (DR region). */
    drBucket?: CopyBucket;
    /** The vault account's bucket (vaultStack): the isolated copies. */
    vaultBucket?: CopyBucket;
    /** The vault stack the configuration names (vaultStack's last part): named without a vaultBucket, its file was not read (unreadStacks says why). */
    vaultStack?: string;
    /** The RDS identifier of the running instance (output dbInstanceIdentifier). */
    database: string;
    /** Its ARN (output dbInstanceArn): the replicated backups and AWS Backup's points are matched by it. */
    dbInstanceArn?: string;
    primaryRegion: string;
    drRegion: string;
    bucket: string;
    bucketRegion: string;
    /** The dumps' prefix (the retention table's database row, default BACKUP_PREFIX of the scripts). */
    bucketPrefix: string;
    /** AWS Backup vaults from the outputs backupVaultArn / backupDrVaultArn (none when AWS Backup is off). */
    vaults: Vault[];
    /** The standby stack whose primaryStack is this stack: it restores the DR region's points. */
    standbyStack?: string;
    /** Stack files that could not be read while looking for the standby and the vault (said in the notes). */
    unreadStacks?: string[];
}

export type StackOutputs = Record<string, unknown>;

/** Edit distance (insert, delete, substitute), for "did you mean". */
function distance(a: string, b: string): number {
    let row = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
        const next = [i];
        for (let j = 1; j <= b.length; j++) {
            next[j] = Math.min(row[j] + 1, next[j - 1] + 1, row[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
        }
        row = next;
    }
    return row[b.length];
}

function parseConfig(programDir: string, stack: string, now: Date): StackConfig {
    let settings;
    const stacks = listStacks(programDir);
    if (stacks.length > 0 && !stacks.includes(stack)) {
        // A mistyped --stack (prd, Prod, organization/oauth2-dr/prod): the stacks there and the nearest, not
        // offline-plan's "create it" (right when planning a new stack, wrong at 3 a.m. during a restore).
        const bare = stack.split("/").pop()!;
        const near = stacks.filter((s) => s.toLowerCase() === bare.toLowerCase() || distance(s, bare) <= 2)
            .sort((a, b) => distance(a, bare) - distance(b, bare));
        throw new UsageError(`no stack "${stack}" here (no Pulumi.${stack}.yaml in ${programDir}): ${near.length > 0 ? `did you mean --stack ${near[0]}? ` : ""}the stacks are ${stacks.join(", ")}`);
    }
    try {
        settings = loadStackSettings(programDir, stack);
    } catch (err) {
        throw new UsageError((err as Error).message);
    }
    try {
        return parseStackConfig((key) => settings.config[key], stack, settings.project, { now });
    } catch (err) {
        if (err instanceof ConfigError) {
            throw new UsageError(`invalid configuration for stack ${stack}:\n${err.message}`);
        }
        throw err;
    }
}

/** The first line of why a stack file was not read (its validator's message), for a note. */
const firstLine = (err: unknown) => (err as Error).message.split("\n").filter((l) => l.trim() !== "").slice(0, 2).join(" ").slice(0, 300);

/**
 * The standby stack (same cloud, same project) whose primaryStack names `stack` (…/<project>/<stack>). Another
 * stack's invalid file does not stop the listing, but it is said (`unread`): it may be that standby, and without
 * it the DR bucket's copies and the DR region's restore stack are missing.
 */
function standbyOf(programDir: string, primary: StackConfig, now: Date, unread: string[]): StackConfig | undefined {
    for (const name of listStacks(programDir)) {
        if (name === primary.stack) {
            continue;
        }
        let config: StackConfig;
        try {
            config = parseConfig(programDir, name, now);
        } catch (err) {
            unread.push(`stack ${name}'s configuration was not read (${firstLine(err)}): if it is the standby of ${primary.stack}, its DR bucket's copies are not listed and the DR region's points show <standby stack>; fix Pulumi.${name}.yaml and run again`);
            continue;
        }
        const [, project, stack] = (config.primaryStack ?? "").split("/");
        if (config.cloud === primary.cloud && config.role === "standby" && project === primary.project && stack === primary.stack) {
            return config;
        }
    }
    return undefined;
}

/** arn:aws:backup:<region>:<account>:backup-vault:<name> -> { name, region }. */
function vaultOf(arn: unknown, key: string): Vault | undefined {
    if (arn === undefined || arn === null) {
        return undefined;
    }
    const m = typeof arn === "string" ? /^arn:aws[a-z-]*:backup:([a-z0-9-]+):\d{12}:backup-vault:(.+)$/.exec(arn) : null;
    if (!m) {
        throw new UsageError(`stack output ${key} is not an AWS Backup vault ARN: ${JSON.stringify(arn).slice(0, 120)}`);
    }
    return { region: m[1], name: m[2] };
}

function requiredString(outputs: StackOutputs, key: string, stack: string): string {
    const value = outputs[key];
    if (typeof value !== "string" || value === "" || value === "[secret]") {
        throw new UsageError(`stack ${stack}'s outputs have no ${key}: is it deployed (\`pulumi stack output -s ${stack}\`), and is it the primary aws stack?`);
    }
    return value;
}

/** The vault stack's bucket (oauth2-backups-<vault stack>, components/vault-account.ts), when its stack file is here. */
function vaultBucketOf(programDir: string, config: StackConfig, now: Date, unread: string[]): CopyBucket | undefined {
    const name = config.vaultStack?.split("/").pop();
    if (!name) {
        return undefined;
    }
    let vault: StackConfig;
    try {
        vault = parseConfig(programDir, name, now);
    } catch (err) {
        unread.push(`the vault stack ${name} (vaultStack of ${config.stack}) was not read (${firstLine(err)}): its bucket's copies are not listed`);
        return undefined;
    }
    return { bucket: backupBucketName(name), region: vault.region, stack: name, ...(vault.vault?.restoreRoleArns[0] ? { restoreRoleArn: vault.vault.restoreRoleArns[0] } : {}) };
}

function optionalString(outputs: StackOutputs, key: string): string | undefined {
    const value = outputs[key];
    return typeof value === "string" && value !== "" && value !== "[secret]" ? value : undefined;
}

/** The stack's configuration is checked first (a typo in --stack says so), then its outputs are read. */
export function loadTarget(programDir: string, stack: string, readStackOutputs: () => StackOutputs, now: Date = new Date()): Target {
    const config = parseConfig(programDir, stack, now);
    if (config.role !== "primary") {
        const primary = config.primaryStack ? config.primaryStack.split("/").pop() : undefined;
        throw new UsageError(`stack ${stack} is a standby: run recovery-points with its primary stack${primary ? ` (--stack ${primary})` : ""}; it lists the DR region's points too`);
    }
    const unread: string[] = [];
    const standby = standbyOf(programDir, config, now, unread);
    const copies = {
        ...(standby ? { drBucket: { bucket: backupBucketName(standby.stack), region: standby.storage.region, stack: standby.stack } } : {}),
        ...(() => {
            const vault = vaultBucketOf(programDir, config, now, unread);
            return vault ? { vaultBucket: vault } : {};
        })(),
        ...(config.vaultStack ? { vaultStack: config.vaultStack.split("/").pop() } : {}),
        ...(unread.length > 0 ? { unreadStacks: unread } : {}),
    };
    if (config.cloud !== "aws") {
        const outputs = readStackOutputs();
        const name = config.cloud === "azure" ? optionalString(outputs, "dbServerName") : optionalString(outputs, "dbInstanceName");
        const group = config.cloud === "azure" ? optionalString(outputs, "resourceGroupName") ?? config.azure?.resourceGroup : config.gcp?.project;
        return {
            stack,
            cloud: config.cloud,
            cloudDatabase: { cloud: config.cloud, name: name ?? "oauth2-postgres", group: group ?? "?", pointInTimeDays: pointInTimeDays(config) },
            database: name ?? "oauth2-postgres",
            primaryRegion: config.primaryRegion,
            drRegion: config.drRegion,
            bucket: requiredString(outputs, "backupBucketName", stack),
            bucketRegion: config.storage.primaryRegion,
            bucketPrefix: retentionRow("database").bucketPrefix,
            vaults: [],
            ...(standby ? { standbyStack: standby.stack } : {}),
            ...copies,
        };
    }
    const outputs = readStackOutputs();
    const dbInstanceArn = outputs.dbInstanceArn;
    return {
        stack,
        cloud: "aws",
        ...copies,
        database: requiredString(outputs, "dbInstanceIdentifier", stack),
        dbInstanceArn: typeof dbInstanceArn === "string" && dbInstanceArn.startsWith("arn:") ? dbInstanceArn : undefined,
        primaryRegion: config.primaryRegion,
        drRegion: config.drRegion,
        bucket: requiredString(outputs, "backupBucketName", stack),
        bucketRegion: config.storage.primaryRegion,
        bucketPrefix: retentionRow("database").bucketPrefix,
        vaults: [vaultOf(outputs.backupVaultArn, "backupVaultArn"), vaultOf(outputs.backupDrVaultArn, "backupDrVaultArn")].filter((v): v is Vault => v !== undefined),
        ...(standby ? { standbyStack: standby.stack } : {}),
    };
}

function parseOutputs(text: string, from: string): StackOutputs {
    let value: unknown;
    try {
        value = JSON.parse(text);
    } catch (err) {
        throw new UsageError(`${from} is not JSON (${(err as Error).message}): expected the output of \`pulumi stack output --json\``);
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
        throw new UsageError(`${from} is not a JSON object of stack outputs (\`pulumi stack output --json\`)`);
    }
    return value as StackOutputs;
}

/**
 * The stack's outputs: the file given, else `pulumi stack output --json` (secrets stay "[secret]": the
 * flag --show-secrets is never passed), else a clear error.
 */
export function readOutputs(programDir: string, stack: string, file: string | undefined, env: NodeJS.ProcessEnv = process.env): StackOutputs {
    if (file !== undefined) {
        let text: string;
        try {
            text = fs.readFileSync(file, "utf8");
        } catch (err) {
            const code = (err as NodeJS.ErrnoException).code;
            throw new UsageError(`cannot read --stack-outputs ${file}: ${code === "ENOENT" ? `no such file (write it with \`pulumi stack output --json --stack ${stack} > ${file}\`)` : code ?? (err as Error).message}`);
        }
        return parseOutputs(text, file);
    }
    const result = spawnSync("pulumi", ["stack", "output", "--json", "--show-secrets=false", "--stack", stack], { cwd: programDir, env, encoding: "utf8", timeout: 120_000 });
    if ((result.error as NodeJS.ErrnoException | undefined)?.code === "ENOENT") {
        throw new UsageError(
            `no stack outputs for ${stack}: pass --stack-outputs FILE (written by \`pulumi stack output --json --stack ${stack} > ${stack}-outputs.json\`), or install the Pulumi CLI`,
        );
    }
    if (result.error || result.status !== 0) {
        const cause = (result.stderr ?? "").trim().split("\n").filter(Boolean).pop() ?? result.error?.message ?? `exit ${result.status}`;
        throw new UsageError(`pulumi stack output --json --stack ${stack} failed: ${cause}`);
    }
    return parseOutputs(result.stdout, `the output of pulumi stack output --json --stack ${stack}`);
}

/** Days back restore.pointInTime reaches: Cloud SQL's transaction logs, or the backups' retention (lib/config/rules/restore.ts). */
function pointInTimeDays(config: StackConfig): number {
    return config.cloud === "gcp" && config.gcp ? config.gcp.transactionLogRetentionDays : config.retention.database;
}
