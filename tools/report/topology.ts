/**
 * The DR design of planned stacks as a small graph, for the HTML report's diagram: one column per stack
 * (its region, role and cloud), the DR-relevant resources in lanes (database, backups, bucket, secrets,
 * audit logs, CronJobs), the cross-region links (replication, backup copies, secret replicas) and the DNS
 * failover records above. Everything is read from the planned resources' inputs, nothing is hard-coded:
 * a stack without a replica or CronJobs simply has none in its column. Buckets are read through the policy
 * pack's readers (policy/resources.ts indexStack, policy/s3-families.ts), so the v7 resources, the `*V2`
 * ones and a bucket's inline arguments all appear, as the policies judge them.
 */
import { bucketNameFromArn, BucketGroup, indexStack, StackIndex, StackResource } from "../../policy/resources";
import { stackRole } from "../../policy/roles";
import { DEFAULT_SETTINGS } from "../../policy/settings";
import { encryptionOf, lifecycleRulesOf, replicationRulesOf, versioningOf } from "../../policy/s3-families";
import { isUnknown } from "../../policy/unknowns";
import { PlannedResource, PlanResult, unwrapSecrets } from "offline-plan/model";

export type Lane = "database" | "backups" | "bucket" | "secrets" | "logs" | "cronjobs";
export const LANES: readonly Lane[] = ["database", "backups", "bucket", "secrets", "logs", "cronjobs"];
export const LANE_TITLES: Record<Lane, string> = {
    database: "Database",
    backups: "Backups",
    bucket: "Backup bucket",
    secrets: "Secrets",
    logs: "Audit logs",
    cronjobs: "Backup CronJobs",
};

export type NodeKind = "database" | "replica" | "restore" | "pitr" | "vault" | "bucket" | "secret" | "secret-replica" | "logs" | "cronjob";

export interface TopologyNode {
    id: string;
    kind: NodeKind;
    lane: Lane;
    /** Index into `columns`. */
    column: number;
    title: string;
    lines: string[];
    /** Set when the node is declared by another column's stack (e.g. prod's secret replicas in the DR region). */
    declaredBy?: string;
    urns: string[];
}

export interface TopologyEdge {
    from: string;
    to: string;
    label: string;
}

export interface TopologyColumn {
    stack: string;
    role: string;
    cloud: string;
    /** The region of the stack's database (aws:region, azure-native:location, gcp:region). */
    region: string;
    /** The AWS region of its backup storage, when it differs from `region` (azure and gcp stacks). */
    awsRegion?: string;
    endpoint?: string;
    /** Set for a column added for resources a planned stack declares in another region. */
    implied?: boolean;
}

export interface DnsRecord {
    column: number;
    failover: string;
    target: string;
    healthCheck?: string;
}

export interface Topology {
    title: string;
    columns: TopologyColumn[];
    dns?: { name: string; records: DnsRecord[] };
    nodes: TopologyNode[];
    edges: TopologyEdge[];
}

type Json = Record<string, unknown>;

function props(r: PlannedResource): Json {
    return unwrapSecrets(r.inputs) as Json;
}

function str(value: unknown): string | undefined {
    if (isUnknown(value)) {
        return "(computed)";
    }
    return typeof value === "string" || typeof value === "number" || typeof value === "boolean" ? String(value) : undefined;
}

function obj(value: unknown): Json {
    return value && typeof value === "object" && !Array.isArray(value) ? (value as Json) : {};
}

function arr(value: unknown): unknown[] {
    return Array.isArray(value) ? value : [];
}

/** A stack configuration value of the plan (`aws:region`, `<project>:cloud`); not policy config. */
function stackConfigValue(plan: PlanResult, key: string): string | undefined {
    const v = plan.config[key];
    return v === undefined || v === "" ? undefined : v;
}

/** A plan's resources as the policy pack's readers take them (props plain, property dependencies linked). */
function stackResources(plan: PlanResult): StackResource[] {
    const urns = (list: string[]) => list.map((urn) => ({ urn }));
    return plan.resources.map((r) => ({
        type: r.type,
        name: r.name,
        urn: r.urn,
        props: props(r),
        propertyDependencies: Object.fromEntries(Object.entries(r.propertyDependencies).map(([key, list]) => [key, urns(list)])),
    })) as StackResource[];
}

/** The plan indexed as the policy pack indexes a stack (buckets of every S3 family with their configuration). */
function stackIndex(resources: StackResource[]): StackIndex {
    return indexStack(resources, DEFAULT_SETTINGS);
}

/**
 * The stack's DR role, derived as the policy pack derives it (policy/roles.ts: role tags, then failover
 * records and cross-region replicas); a stack that says nothing is drawn as a primary.
 */
export function stackRoleOf(plan: PlanResult): string {
    if (stackConfigValue(plan, `${plan.project}:role`) === "vault") {
        return "vault";
    }
    const resources = stackResources(plan);
    const role = stackRole(stackIndex(resources), resources, new Map(), DEFAULT_SETTINGS);
    return role === "unknown" ? "primary" : role;
}

export function cloudOf(plan: PlanResult): string {
    const cloud = stackConfigValue(plan, `${plan.project}:cloud`);
    if (cloud) {
        return cloud;
    }
    if (plan.resources.some((r) => r.type.startsWith("azure-native:"))) {
        return "azure";
    }
    return plan.resources.some((r) => r.type.startsWith("gcp:")) ? "gcp" : "aws";
}

function columnOf(plan: PlanResult): TopologyColumn {
    const cloud = cloudOf(plan);
    const awsRegion = stackConfigValue(plan, "aws:region");
    const region =
        (cloud === "azure" ? stackConfigValue(plan, "azure-native:location") : cloud === "gcp" ? stackConfigValue(plan, "gcp:region") : awsRegion) ??
        awsRegion ??
        "(region not configured)";
    return {
        stack: plan.stack,
        role: stackRoleOf(plan),
        cloud,
        region,
        awsRegion: awsRegion && awsRegion !== region ? awsRegion : undefined,
        endpoint: stackConfigValue(plan, `${plan.project}:regionalEndpoint`),
    };
}

/**
 * Groups stacks for the diagrams: each standby beside the primary its `primaryStack` names (when that one is
 * planned too), every other stack on its own. Order follows `plans`.
 */
export function pairStacks(plans: PlanResult[]): PlanResult[][] {
    const groups: PlanResult[][] = [];
    const placed = new Set<string>();
    const primaryOf = (p: PlanResult) => {
        const ref = stackConfigValue(p, `${p.project}:primaryStack`);
        return ref ? plans.find((q) => q !== p && q.project === p.project && ref.split("/").pop() === q.stack) : undefined;
    };
    // A vault stack (another's `vaultStack`) is drawn beside every group that copies into it.
    const vaultOf = (p: PlanResult) => plans.find((q) => q !== p && q.project === p.project && stackConfigValue(p, `${p.project}:vaultStack`)?.split("/").pop() === q.stack);
    const vaults = new Set(plans.map(vaultOf).filter((v): v is PlanResult => v !== undefined));
    const withVault = (group: PlanResult[]) => [...group, ...[...vaults].filter((v) => group.some((g) => vaultOf(g) === v))];
    for (const plan of plans) {
        if (placed.has(plan.stack) || vaults.has(plan)) {
            continue;
        }
        const primary = primaryOf(plan);
        if (primary && !placed.has(primary.stack)) {
            groups.push([primary, plan]);
            placed.add(primary.stack);
        } else if (!primary) {
            const standby = plans.find((q) => !placed.has(q.stack) && primaryOf(q) === plan);
            groups.push(standby ? [plan, standby] : [plan]);
            if (standby) {
                placed.add(standby.stack);
            }
        } else {
            groups.push([plan]);
        }
        placed.add(plan.stack);
    }
    const drawn = groups.map(withVault);
    return [...drawn, ...[...vaults].filter((v) => !drawn.some((g) => g.includes(v))).map((v) => [v])];
}

/**
 * Whether `r.<prop>` names `target`: by value when both are known, else (a preview leaves ids computed)
 * by the engine's property dependencies.
 */
function refersTo(r: PlannedResource, prop: string, target: PlannedResource, targetName: string | undefined): boolean {
    const value = props(r)[prop];
    if (!isUnknown(value) && value !== undefined && targetName !== undefined) {
        return str(value) === targetName;
    }
    return (r.propertyDependencies[prop] ?? []).includes(target.urn);
}

function days(value: unknown, unit = "days"): string {
    const s = str(value);
    return s === undefined ? "?" : `${s} ${unit}`;
}

function resourceRegion(r: PlannedResource, fallback: string | undefined): string | undefined {
    return str(props(r).region) ?? fallback;
}

/** Builds the topology of a group of stacks (see `pairStacks`). */
interface PendingLink {
    from: string | undefined;
    to: string;
    label: string;
}

/**
 * Collects the nodes and edges of a group of stacks, one concern at a time (databases, backups, buckets,
 * secrets, logs, CronJobs), then resolves the links that cross stacks once every node exists.
 */
class TopologyBuilder {
    readonly nodes: TopologyNode[] = [];
    readonly edges: TopologyEdge[] = [];
    private seq = 0;
    /** Database identities, for links across stacks: RDS identifier / ARN, Azure server id, Cloud SQL name. */
    private readonly databaseKeys = new Map<string, string>();
    private readonly pendingDbLinks: PendingLink[] = [];
    private readonly bucketsByName = new Map<string, string>();
    private readonly pendingBucketLinks: { source: string; destination: string; label: string }[] = [];
    private readonly vaultsByArnName = new Map<string, string>();
    private readonly pendingVaultLinks: { from: string; toName: string; label: string }[] = [];

    constructor(readonly columns: TopologyColumn[]) {}

    add(node: Omit<TopologyNode, "id">): TopologyNode {
        const full = { ...node, id: `n${this.seq++}` };
        this.nodes.push(full);
        return full;
    }

    /** The column in `region` (AWS region of storage, or the database region), adding an implied one if none. */
    columnIn(region: string, declaredBy: number): number {
        const own = this.columns[declaredBy];
        // The declaring stack's own region, and everything of the vault stack (another account), stay in its column.
        if (own && (own.role === "vault" || (own.awsRegion ?? own.region) === region || own.region === region)) {
            return declaredBy;
        }
        const i = this.columns.findIndex((c) => (c.awsRegion ?? c.region) === region || c.region === region);
        if (i >= 0) {
            return i;
        }
        this.columns.push({ stack: `(${region})`, role: `declared by ${this.columns[declaredBy].stack}`, cloud: "aws", region, implied: true });
        return this.columns.length - 1;
    }

    /** Everything one stack declares, in the diagram's lanes. */
    addStack(plan: PlanResult, column: number): void {
        const own = this.columns[column];
        const scope: StackScope = { plan, column, storageRegion: own.awsRegion ?? own.region, of: (type) => plan.resources.filter((r) => r.type === type) };
        this.addRdsInstances(scope);
        this.addAzureServers(scope);
        this.addCloudSqlInstances(scope);
        this.addBackups(scope);
        this.addBuckets(scope);
        this.addSecrets(scope);
        this.addLogs(scope);
        this.addCronJobs(scope);
    }

    private addRdsInstances({ of, column }: StackScope): void {
        for (const r of of("aws:rds/instance:Instance")) {
            const p = props(r);
            const identifier = str(p.identifier) ?? r.name;
            const restore = p.snapshotIdentifier !== undefined || p.restoreToPointInTime !== undefined;
            const source = str(p.replicateSourceDb);
            const node = this.add({
                kind: source ? "replica" : restore ? "restore" : "database",
                lane: "database",
                column,
                title: `RDS ${identifier}`,
                lines: [
                    source ? "read replica" : restore ? (p.snapshotIdentifier !== undefined ? `restored from snapshot ${str(p.snapshotIdentifier)}` : "point-in-time restore") : "primary",
                    `${str(p.instanceClass) ?? "?"}${p.multiAz === true ? ", Multi-AZ" : ""}${p.engineVersion !== undefined ? `, PostgreSQL ${str(p.engineVersion)}` : ""}`,
                    `automated backups ${days(p.backupRetentionPeriod)}${p.backupWindow ? ` (${str(p.backupWindow)} UTC)` : ""}`,
                ],
                urns: [r.urn],
            });
            this.databaseKeys.set(identifier, node.id);
            if (source) {
                this.pendingDbLinks.push({ from: source, to: node.id, label: "streaming replication" });
            }
        }
    }

    private addAzureServers({ of, column }: StackScope): void {
        for (const r of of("azure-native:dbforpostgresql:Server")) {
            const p = props(r);
            const name = str(p.serverName) ?? r.name;
            const mode = str(p.createMode) ?? "Default";
            const backup = obj(p.backup);
            const node = this.add({
                kind: mode === "Replica" ? "replica" : mode === "Default" ? "database" : "restore",
                lane: "database",
                column,
                title: `Flexible Server ${name}`,
                lines: [
                    mode === "Replica" ? "read replica" : mode === "Default" ? `primary, HA ${str(obj(p.highAvailability).mode) ?? "Disabled"}` : `${mode} restore`,
                    `${str(obj(p.sku).name) ?? "?"}`,
                    `backups ${days(backup.backupRetentionDays)}, geo-redundant ${str(backup.geoRedundantBackup) ?? "Disabled"}`,
                ],
                urns: [r.urn],
            });
            this.databaseKeys.set(name, node.id);
            if (mode !== "Default") {
                this.pendingDbLinks.push({ from: str(p.sourceServerResourceId), to: node.id, label: mode === "Replica" ? "async replication" : "restore" });
            }
        }
    }

    private addCloudSqlInstances({ of, column }: StackScope): void {
        for (const r of of("gcp:sql/databaseInstance:DatabaseInstance")) {
            const p = props(r);
            const name = str(p.name) ?? r.name;
            const settings = obj(p.settings);
            const backup = obj(settings.backupConfiguration);
            const master = str(p.masterInstanceName);
            const clone = obj(p.clone);
            const restoreFrom = str(clone.sourceInstanceName) ?? str(obj(p.restoreBackupContext).instanceId);
            const node = this.add({
                kind: master ? "replica" : restoreFrom ? "restore" : "database",
                lane: "database",
                column,
                title: `Cloud SQL ${name}`,
                lines: [
                    master ? "read replica" : restoreFrom ? `restored from ${restoreFrom}` : `primary, ${str(settings.availabilityType) ?? "ZONAL"}`,
                    `${str(settings.tier) ?? "?"} ${str(settings.edition) ?? ""}`.trim(),
                    master ? "backups live on the primary" : `${str(obj(backup.backupRetentionSettings).retainedBackups) ?? "?"} daily backups, PITR ${backup.pointInTimeRecoveryEnabled === true ? "on" : "off"}`,
                ],
                urns: [r.urn],
            });
            this.databaseKeys.set(name, node.id);
            if (master || restoreFrom) {
                this.pendingDbLinks.push({ from: master ?? restoreFrom, to: node.id, label: master ? "async replication" : "clone" });
            }
        }
    }

    /** Automated-backup replication, AWS Backup plans (as lines of their vaults) and vaults. */
    private addBackups({ plan, of, column, storageRegion }: StackScope): void {
        for (const r of of("aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication")) {
            const p = props(r);
            const node = this.add({
                kind: "pitr",
                lane: "backups",
                column: this.columnIn(resourceRegion(r, storageRegion) ?? storageRegion, column),
                title: "Automated backups copy",
                lines: [`point-in-time restore here`, `retention ${days(p.retentionPeriod)}`],
                urns: [r.urn],
            });
            this.pendingDbLinks.push({ from: str(p.sourceDbInstanceArn), to: node.id, label: `backups replicated, ${days(p.retentionPeriod)}` });
        }
        const plansByVault = this.backupPlanLines(of("aws:backup/plan:Plan"));
        for (const r of of("aws:backup/logicallyAirGappedVault:LogicallyAirGappedVault")) {
            const p = props(r);
            const name = str(p.name) ?? r.name;
            const node = this.add({ kind: "vault", lane: "backups", column, title: `AWS Backup vault ${name}`, lines: ["logically air-gapped", `recovery points kept ${days(p.minRetentionDays)} at least`], urns: [r.urn] });
            this.vaultsByArnName.set(name, node.id);
        }
        for (const r of of("aws:backup/vault:Vault")) {
            const p = props(r);
            const name = str(p.name) ?? r.name;
            const region = resourceRegion(r, storageRegion) ?? storageRegion;
            const target = this.columnIn(region, column);
            const locked = plan.resources.some((l) => l.type === "aws:backup/vaultLockConfiguration:VaultLockConfiguration" && refersTo(l, "backupVaultName", r, name));
            const node = this.add({
                kind: "vault",
                lane: "backups",
                column: target,
                title: `AWS Backup vault ${name}`,
                lines: [...(plansByVault.get(name) ?? (target === column ? [] : ["copies of the primary's recovery points"])), ...(locked ? ["vault lock (WORM)"] : [])],
                declaredBy: target === column ? undefined : plan.stack,
                urns: [r.urn],
            });
            this.vaultsByArnName.set(name, node.id);
        }
    }

    /** Each vault's rules as lines; the copy actions become links to the destination vaults. */
    private backupPlanLines(backupPlans: PlannedResource[]): Map<string, string[]> {
        const plansByVault = new Map<string, string[]>();
        for (const r of backupPlans) {
            for (const rule of arr(props(r).rules).map(obj)) {
                const vault = str(rule.targetVaultName) ?? "?";
                const line = `${str(rule.ruleName) ?? "rule"}: ${rule.enableContinuousBackup === true ? "continuous (PITR)" : str(rule.schedule) ?? ""}, ${days(obj(rule.lifecycle).deleteAfter)}`;
                plansByVault.set(vault, [...(plansByVault.get(vault) ?? []), line]);
                for (const copy of arr(rule.copyActions).map(obj)) {
                    const dest = str(copy.destinationVaultArn);
                    if (dest) {
                        this.pendingVaultLinks.push({ from: vault, toName: dest.split(":").pop() ?? dest, label: `AWS Backup copy, ${days(obj(copy.lifecycle).deleteAfter)}` });
                    }
                }
            }
        }
        return plansByVault;
    }

    /**
     * Buckets of every S3 family (v7, `*V2`, inline arguments) with their versioning, encryption and
     * lifecycle; replication rules become links between buckets.
     */
    private addBuckets({ plan, column, storageRegion }: StackScope): void {
        const planned = new Map(plan.resources.map((r) => [r.urn, r]));
        for (const group of stackIndex(stackResources(plan)).buckets.values()) {
            if (group.bucket) {
                const name = str(group.name) ?? group.bucket.name;
                const bucketResource = planned.get(group.bucket.urn)!;
                const lock = plan.resources.find((l) => l.type === "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration" && refersTo(l, "bucket", bucketResource, name));
                const retention = lock ? obj(obj(props(lock).rule).defaultRetention) : undefined;
                this.addBucket(group, group.bucket, bucketResource, column, storageRegion, retention ? `Object Lock ${str(retention.mode) ?? ""} ${days(retention.days)}` : undefined);
            }
            for (const source of [...(group.bucket ? [group.bucket] : []), ...group.config.replication]) {
                const rules = replicationRulesOf(source.type, source.props);
                for (const [i, rule] of (Array.isArray(rules) ? rules : []).entries()) {
                    const rtc = rule.replicationMinutes;
                    // A rule into another account (the vault) names it: drawn as cross-account.
                    const account = str(obj(obj(arr(obj(source.props).rules)[i]).destination).account);
                    this.pendingBucketLinks.push({
                        source: str(group.name) ?? "",
                        destination: str(bucketNameFromArn(rule.destination)) ?? "",
                        label: `${account ? "cross-account " : ""}S3 replication${rtc !== undefined && !account ? `, RTC ${str(rtc)} min` : ""}`,
                    });
                }
            }
        }
    }

    private addBucket(group: BucketGroup, bucket: StackResource, planned: PlannedResource, column: number, storageRegion: string, lockLine?: string): void {
        const name = str(group.name) ?? bucket.name;
        const versioning = [bucket, ...group.config.versioning].map((r) => versioningOf(r.type, r.props)).find((v) => v !== undefined);
        const lifecycles = group.config.lifecycle;
        const settings = [versioning?.status === "Enabled" ? "versioned" : undefined, encryptionLine(group, bucket)].filter(Boolean).join(", ");
        const node = this.add({
            kind: "bucket",
            lane: "bucket",
            column: this.columnIn(resourceRegion(planned, storageRegion) ?? storageRegion, column),
            title: `S3 ${name}`,
            lines: [
                ...(settings ? [settings] : []),
                ...(lockLine ? [lockLine] : []),
                ...chunk([bucket, ...lifecycles].flatMap(lifecycleLines), 2).map((c) => c.join(", ")),
            ],
            urns: [bucket.urn, ...lifecycles.map((l) => l.urn)],
        });
        this.bucketsByName.set(name, node.id);
    }

    /** The stack's secrets, and one node per region their replicas live in. */
    private addSecrets({ plan, of, column }: StackScope): void {
        const secrets = of("aws:secretsmanager/secret:Secret");
        if (secrets.length === 0) {
            return;
        }
        const secretNode = this.add({
            kind: "secret",
            lane: "secrets",
            column,
            title: `Secrets Manager (${secrets.length})`,
            lines: secrets.map((s) => str(props(s).name) ?? s.name),
            urns: secrets.map((s) => s.urn),
        });
        const byRegion = new Map<string, PlannedResource[]>();
        for (const s of secrets) {
            for (const replica of arr(props(s).replicas).map(obj)) {
                const region = str(replica.region);
                if (region) {
                    byRegion.set(region, [...(byRegion.get(region) ?? []), s]);
                }
            }
        }
        for (const [region, replicated] of byRegion) {
            const replicaNode = this.add({
                kind: "secret-replica",
                lane: "secrets",
                column: this.columnIn(region, column),
                title: `Secret replicas (${replicated.length})`,
                lines: [`in ${region}, own KMS key`, ...replicated.map((s) => str(props(s).name) ?? s.name)],
                declaredBy: plan.stack,
                urns: replicated.map((s) => s.urn),
            });
            this.edges.push({ from: secretNode.id, to: replicaNode.id, label: "replicated" });
        }
    }

    /** Audit log groups (their retention) and their archive to S3. */
    private addLogs({ of, column }: StackScope): void {
        const logGroups = of("aws:cloudwatch/logGroup:LogGroup");
        if (logGroups.length === 0) {
            return;
        }
        const retention = [...new Set(logGroups.map((g) => (props(g).retentionInDays === undefined || props(g).retentionInDays === 0 ? "never expire" : `${str(props(g).retentionInDays)}d`)))];
        const archive = of("aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream")
            .map((f) => obj(props(f).extendedS3Configuration))
            .map((s3) => `archive: ${(str(s3.bucketArn) ?? "").replace(/^arn:aws[a-z-]*:s3:::/, "s3://")}/${(str(s3.prefix) ?? "").split("/")[0]}/`);
        this.add({
            kind: "logs",
            lane: "logs",
            column,
            title: `CloudWatch Logs (${logGroups.length} group${logGroups.length === 1 ? "" : "s"})`,
            lines: [`retention ${retention.join(", ")}, KMS`, ...archive],
            urns: logGroups.map((g) => g.urn),
        });
    }

    /** Kubernetes CronJobs: one node per stack, a line per job (name, schedule, suspended). */
    private addCronJobs({ of, column }: StackScope): void {
        const cronJobs = of("kubernetes:batch/v1:CronJob");
        if (cronJobs.length === 0) {
            return;
        }
        const namespaces = [...new Set(cronJobs.map((r) => str(obj(props(r).metadata).namespace) ?? "default"))];
        this.add({
            kind: "cronjob",
            lane: "cronjobs",
            column,
            title: `CronJobs (${cronJobs.length}) · ${namespaces.join(", ")}`,
            lines: cronJobs.map((r) => {
                const p = props(r);
                const spec = obj(p.spec);
                return `${str(obj(p.metadata).name) ?? r.name}: ${str(spec.schedule) ?? "?"}${spec.suspend === true ? " (suspended)" : ""}`;
            }),
            urns: cronJobs.map((r) => r.urn),
        });
    }

    /** The links across stacks, now that every node exists: replication, restores, bucket and vault copies. */
    resolveLinks(): void {
        for (const link of this.pendingDbLinks) {
            const from = this.databaseNode(link.from);
            if (from) {
                this.edges.push({ from, to: link.to, label: link.label });
            }
        }
        for (const link of this.pendingBucketLinks) {
            const from = this.bucketsByName.get(link.source);
            const to = this.bucketsByName.get(link.destination);
            if (from && to) {
                this.edges.push({ from, to, label: link.label });
            }
        }
        for (const link of this.pendingVaultLinks) {
            const from = this.vaultsByArnName.get(link.from);
            const to = this.vaultsByArnName.get(link.toName);
            if (from && to) {
                this.edges.push({ from, to, label: link.label });
            }
        }
    }

    private databaseNode(ref: string | undefined): string | undefined {
        if (!ref) {
            return undefined;
        }
        for (const [key, id] of this.databaseKeys) {
            if (ref === key || ref.endsWith(`:db:${key}`) || ref.endsWith(`/flexibleServers/${key}`) || ref.endsWith(`:${key}`)) {
                return id;
            }
        }
        return undefined;
    }
}

/** One stack's plan as the builder reads it. */
interface StackScope {
    plan: PlanResult;
    column: number;
    /** The AWS region of the stack's storage (its region on aws). */
    storageRegion: string;
    of(type: string): PlannedResource[];
}

/** The enabled lifecycle rules of a bucket or a lifecycle configuration: "clients/ 90d", "secrets/ 7 versions". */
function lifecycleLines(resource: StackResource): string[] {
    const rules = lifecycleRulesOf(resource.type, resource.props);
    return (Array.isArray(rules) ? rules : [])
        .filter((rule) => rule.enabled)
        .map((rule) =>
            rule.expirationDays !== undefined
                ? `${rule.prefix} ${rule.expirationDays}d`
                : rule.newerNoncurrentVersions !== undefined
                  ? `${rule.prefix} ${rule.newerNoncurrentVersions + 1} versions`
                  : rule.prefix,
        );
}

/** The bucket's default encryption, as its inline arguments or its configuration resource declare it. */
function encryptionLine(group: BucketGroup, bucket: StackResource): string | undefined {
    const defaults = [bucket, ...group.config.encryption].map((r) => encryptionOf(r.type, r.props)).find((e) => e !== undefined);
    if (defaults === undefined) {
        return undefined;
    }
    if (!Array.isArray(defaults)) {
        return "encryption (computed)";
    }
    const algorithm = defaults[0]?.algorithm;
    return algorithm === "aws:kms" || algorithm === "aws:kms:dsse" ? "SSE-KMS" : algorithm === "AES256" ? "SSE-S3" : undefined;
}

/**
 * The health check a failover record names (`healthCheckId`): by id when known, else (a preview leaves ids
 * computed) by the record's property dependencies; looked for in the record's own stack, then the group's.
 */
function healthCheckOf(record: PlannedResource, plan: PlanResult, plans: PlanResult[]): PlannedResource | undefined {
    const id = props(record).healthCheckId;
    if (id === undefined) {
        return undefined;
    }
    const dependencies = record.propertyDependencies.healthCheckId ?? [];
    const named = (h: PlannedResource) => h.type === "aws:route53/healthCheck:HealthCheck" && ((!isUnknown(id) && h.id !== undefined && h.id === id) || dependencies.includes(h.urn));
    return plan.resources.find(named) ?? plans.flatMap((p) => p.resources).find(named);
}

/** DNS failover: the records with a failover routing policy, across the group, each with its own health check. */
function dnsFailover(plans: PlanResult[]): Topology["dns"] {
    let dns: Topology["dns"];
    plans.forEach((plan, column) => {
        for (const r of plan.resources.filter((x) => x.type === "aws:route53/record:Record")) {
            const p = props(r);
            const failover = arr(p.failoverRoutingPolicies).map(obj)[0];
            if (!failover) {
                continue;
            }
            const health = healthCheckOf(r, plan, plans);
            const hp = health ? props(health) : {};
            dns = dns ?? { name: str(p.name) ?? "?", records: [] };
            dns.records.push({
                column,
                failover: str(failover.type) ?? "?",
                target: arr(p.records).map(str).filter(Boolean).join(", ") || arr(p.aliases).map((a) => str(obj(a).name)).filter(Boolean).join(", "),
                healthCheck: health ? `${str(hp.type) ?? "HTTPS"} ${str(hp.resourcePath) ?? "/"} every ${str(hp.requestInterval) ?? "30"}s` : undefined,
            });
        }
    });
    return dns;
}

export function buildTopology(plans: PlanResult[]): Topology {
    const builder = new TopologyBuilder(plans.map(columnOf));
    plans.forEach((plan, column) => builder.addStack(plan, column));
    builder.resolveLinks();
    return { title: plans.map((p) => p.stack).join(" + "), columns: builder.columns, dns: dnsFailover(plans), nodes: builder.nodes, edges: builder.edges };
}

function chunk<T>(items: T[], size: number): T[][] {
    const out: T[][] = [];
    for (let i = 0; i < items.length; i += size) {
        out.push(items.slice(i, i + size));
    }
    return out;
}
