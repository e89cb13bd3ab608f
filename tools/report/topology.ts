/**
 * The DR design of planned stacks as a small graph, for the HTML report's diagram: one column per stack
 * (its region, role and cloud), the DR-relevant resources in lanes (database, backups, bucket, secrets,
 * audit logs, CronJobs), the cross-region links (replication, backup copies, secret replicas) and the DNS
 * failover records above. Everything is read from the planned resources' inputs, nothing is hard-coded:
 * a stack without a replica or CronJobs simply has none in its column.
 */
import { indexStack } from "../../policy/resources";
import { stackRole } from "../../policy/roles";
import { DEFAULT_SETTINGS } from "../../policy/settings";
import { PlannedResource, PlanResult, UNKNOWN, unwrapSecrets } from "../plan/model";

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
    if (value === UNKNOWN) {
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

/**
 * The stack's DR role, derived as the policy pack derives it (policy/roles.ts: role tags, then failover
 * records and cross-region replicas); a stack that says nothing is drawn as a primary.
 */
export function stackRoleOf(plan: PlanResult): string {
    const resources = plan.resources.map((r) => ({ type: r.type, name: r.name, urn: r.urn, props: unwrapSecrets(r.inputs) as Record<string, unknown> }));
    const role = stackRole(indexStack(resources, DEFAULT_SETTINGS), resources, new Map(), DEFAULT_SETTINGS);
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
    for (const plan of plans) {
        if (placed.has(plan.stack)) {
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
    return groups;
}

/**
 * Whether `r.<prop>` names `target`: by value when both are known, else (a preview leaves ids computed)
 * by the engine's property dependencies.
 */
function refersTo(r: PlannedResource, prop: string, target: PlannedResource, targetName: string | undefined): boolean {
    const value = props(r)[prop];
    if (value !== UNKNOWN && value !== undefined && targetName !== undefined) {
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
export function buildTopology(plans: PlanResult[]): Topology {
    const columns = plans.map(columnOf);
    const nodes: TopologyNode[] = [];
    const edges: TopologyEdge[] = [];
    let seq = 0;
    const add = (node: Omit<TopologyNode, "id">): TopologyNode => {
        const full = { ...node, id: `n${seq++}` };
        nodes.push(full);
        return full;
    };
    /** The column in `region` (AWS region of storage, or the database region), adding an implied one if none. */
    const columnIn = (region: string, declaredBy: number): number => {
        const i = columns.findIndex((c) => (c.awsRegion ?? c.region) === region || c.region === region);
        if (i >= 0) {
            return i;
        }
        columns.push({ stack: `(${region})`, role: `declared by ${columns[declaredBy].stack}`, cloud: "aws", region, implied: true });
        return columns.length - 1;
    };

    // Database identities, for links across stacks: RDS identifier / ARN, Azure server id, Cloud SQL name.
    const databaseKeys = new Map<string, string>();
    const dbNodeFor = (ref: string | undefined): string | undefined => {
        if (!ref) {
            return undefined;
        }
        for (const [key, id] of databaseKeys) {
            if (ref === key || ref.endsWith(`:db:${key}`) || ref.endsWith(`/flexibleServers/${key}`) || ref.endsWith(`:${key}`)) {
                return id;
            }
        }
        return undefined;
    };
    const pendingDbLinks: { from: string | undefined; to: string; label: string }[] = [];

    const bucketsByName = new Map<string, string>();
    const pendingBucketLinks: { source: string; destination: string; label: string }[] = [];
    const vaultsByArnName = new Map<string, string>();
    const pendingVaultLinks: { from: string; toName: string; label: string }[] = [];

    plans.forEach((plan, column) => {
        const own = columns[column];
        const storageRegion = own.awsRegion ?? own.region;
        const of = (type: string) => plan.resources.filter((r) => r.type === type);

        // Databases.
        for (const r of of("aws:rds/instance:Instance")) {
            const p = props(r);
            const identifier = str(p.identifier) ?? r.name;
            const restore = p.snapshotIdentifier !== undefined || p.restoreToPointInTime !== undefined;
            const source = str(p.replicateSourceDb);
            const node = add({
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
            databaseKeys.set(identifier, node.id);
            if (source) {
                pendingDbLinks.push({ from: source, to: node.id, label: "streaming replication" });
            }
        }
        for (const r of of("azure-native:dbforpostgresql:Server")) {
            const p = props(r);
            const name = str(p.serverName) ?? r.name;
            const mode = str(p.createMode) ?? "Default";
            const backup = obj(p.backup);
            const node = add({
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
            databaseKeys.set(name, node.id);
            if (mode !== "Default") {
                pendingDbLinks.push({ from: str(p.sourceServerResourceId), to: node.id, label: mode === "Replica" ? "async replication" : "restore" });
            }
        }
        for (const r of of("gcp:sql/databaseInstance:DatabaseInstance")) {
            const p = props(r);
            const name = str(p.name) ?? r.name;
            const settings = obj(p.settings);
            const backup = obj(settings.backupConfiguration);
            const master = str(p.masterInstanceName);
            const clone = obj(p.clone);
            const restoreFrom = str(clone.sourceInstanceName) ?? str(obj(p.restoreBackupContext).instanceId);
            const node = add({
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
            databaseKeys.set(name, node.id);
            if (master || restoreFrom) {
                pendingDbLinks.push({ from: master ?? restoreFrom, to: node.id, label: master ? "async replication" : "clone" });
            }
        }

        // Backups: automated-backup replication, AWS Backup vaults and plans.
        for (const r of of("aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication")) {
            const p = props(r);
            const node = add({
                kind: "pitr",
                lane: "backups",
                column: columnIn(resourceRegion(r, storageRegion) ?? storageRegion, column),
                title: "Automated backups copy",
                lines: [`point-in-time restore here`, `retention ${days(p.retentionPeriod)}`],
                urns: [r.urn],
            });
            pendingDbLinks.push({ from: str(p.sourceDbInstanceArn), to: node.id, label: `backups replicated, ${days(p.retentionPeriod)}` });
        }
        const plansByVault = new Map<string, string[]>();
        for (const r of of("aws:backup/plan:Plan")) {
            for (const rule of arr(props(r).rules).map(obj)) {
                const vault = str(rule.targetVaultName) ?? "?";
                const line = `${str(rule.ruleName) ?? "rule"}: ${rule.enableContinuousBackup === true ? "continuous (PITR)" : str(rule.schedule) ?? ""}, ${days(obj(rule.lifecycle).deleteAfter)}`;
                plansByVault.set(vault, [...(plansByVault.get(vault) ?? []), line]);
                for (const copy of arr(rule.copyActions).map(obj)) {
                    const dest = str(copy.destinationVaultArn);
                    if (dest) {
                        pendingVaultLinks.push({ from: vault, toName: dest.split(":").pop() ?? dest, label: `AWS Backup copy, ${days(obj(copy.lifecycle).deleteAfter)}` });
                    }
                }
            }
        }
        for (const r of of("aws:backup/vault:Vault")) {
            const p = props(r);
            const name = str(p.name) ?? r.name;
            const region = resourceRegion(r, storageRegion) ?? storageRegion;
            const target = columnIn(region, column);
            const locked = plan.resources.some((l) => l.type === "aws:backup/vaultLockConfiguration:VaultLockConfiguration" && refersTo(l, "backupVaultName", r, name));
            const node = add({
                kind: "vault",
                lane: "backups",
                column: target,
                title: `AWS Backup vault ${name}`,
                lines: [...(plansByVault.get(name) ?? (target === column ? [] : ["copies of the primary's recovery points"])), ...(locked ? ["vault lock (WORM)"] : [])],
                declaredBy: target === column ? undefined : plan.stack,
                urns: [r.urn],
            });
            vaultsByArnName.set(name, node.id);
        }

        // Buckets, their lifecycle and replication.
        for (const r of of("aws:s3/bucket:Bucket")) {
            const name = str(props(r).bucket) ?? r.name;
            const lifecycle = plan.resources.find((l) => l.type === "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration" && refersTo(l, "bucket", r, name));
            const versioned = plan.resources.some(
                (v) => v.type === "aws:s3/bucketVersioning:BucketVersioning" && refersTo(v, "bucket", r, name) && str(obj(props(v).versioningConfiguration).status) === "Enabled",
            );
            const rules = lifecycle
                ? arr(props(lifecycle).rules)
                      .map(obj)
                      .filter((rule) => str(rule.status) === "Enabled")
                      .map((rule) => {
                          const prefix = str(obj(rule.filter).prefix) ?? "";
                          const expiration = obj(rule.expiration).days;
                          const versions = obj(rule.noncurrentVersionExpiration).newerNoncurrentVersions;
                          return expiration !== undefined ? `${prefix} ${str(expiration)}d` : versions !== undefined ? `${prefix} ${Number(versions) + 1} versions` : prefix;
                      })
                : [];
            const node = add({
                kind: "bucket",
                lane: "bucket",
                column: columnIn(resourceRegion(r, storageRegion) ?? storageRegion, column),
                title: `S3 ${name}`,
                lines: [versioned ? "versioned, SSE-KMS" : "SSE-KMS", ...chunk(rules, 2).map((c) => c.join(", "))],
                urns: [r.urn, ...(lifecycle ? [lifecycle.urn] : [])],
            });
            bucketsByName.set(name, node.id);
        }
        for (const r of of("aws:s3/bucketReplicationConfig:BucketReplicationConfig")) {
            const p = props(r);
            for (const rule of arr(p.rules).map(obj)) {
                const destination = obj(rule.destination);
                const rtc = obj(obj(destination.replicationTime).time).minutes;
                pendingBucketLinks.push({
                    source: str(p.bucket) ?? "",
                    destination: (str(destination.bucket) ?? "").replace(/^arn:aws[a-z-]*:s3:::/, ""),
                    label: `S3 replication${rtc !== undefined ? `, RTC ${str(rtc)} min` : ""}`,
                });
            }
        }

        // Secrets and their replicas.
        const secrets = of("aws:secretsmanager/secret:Secret");
        if (secrets.length > 0) {
            const secretNode = add({
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
                const target = columnIn(region, column);
                const replicaNode = add({
                    kind: "secret-replica",
                    lane: "secrets",
                    column: target,
                    title: `Secret replicas (${replicated.length})`,
                    lines: [`in ${region}, own KMS key`, ...replicated.map((s) => str(props(s).name) ?? s.name)],
                    declaredBy: plan.stack,
                    urns: replicated.map((s) => s.urn),
                });
                edges.push({ from: secretNode.id, to: replicaNode.id, label: "replicated" });
            }
        }

        // Audit logs and their archive.
        const logGroups = of("aws:cloudwatch/logGroup:LogGroup");
        if (logGroups.length > 0) {
            const retention = [...new Set(logGroups.map((g) => (props(g).retentionInDays === undefined || props(g).retentionInDays === 0 ? "never expire" : `${str(props(g).retentionInDays)}d`)))];
            const archive = of("aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream")
                .map((f) => obj(props(f).extendedS3Configuration))
                .map((s3) => `archive: ${(str(s3.bucketArn) ?? "").replace(/^arn:aws[a-z-]*:s3:::/, "s3://")}/${(str(s3.prefix) ?? "").split("/")[0]}/`);
            add({
                kind: "logs",
                lane: "logs",
                column,
                title: `CloudWatch Logs (${logGroups.length} group${logGroups.length === 1 ? "" : "s"})`,
                lines: [`retention ${retention.join(", ")}, KMS`, ...archive],
                urns: logGroups.map((g) => g.urn),
            });
        }

        // Kubernetes CronJobs: one node per stack, a line per job (name, schedule, suspended).
        const cronJobs = of("kubernetes:batch/v1:CronJob");
        if (cronJobs.length > 0) {
            const namespaces = [...new Set(cronJobs.map((r) => str(obj(props(r).metadata).namespace) ?? "default"))];
            add({
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
    });

    for (const link of pendingDbLinks) {
        const from = dbNodeFor(link.from);
        if (from) {
            edges.push({ from, to: link.to, label: link.label });
        }
    }
    for (const link of pendingBucketLinks) {
        const from = bucketsByName.get(link.source);
        const to = bucketsByName.get(link.destination);
        if (from && to) {
            edges.push({ from, to, label: link.label });
        }
    }
    for (const link of pendingVaultLinks) {
        const from = vaultsByArnName.get(link.from);
        const to = vaultsByArnName.get(link.toName);
        if (from && to) {
            edges.push({ from, to, label: link.label });
        }
    }

    // DNS failover: records with a failover routing policy, across the group.
    let dns: Topology["dns"];
    plans.forEach((plan, column) => {
        for (const r of plan.resources.filter((x) => x.type === "aws:route53/record:Record")) {
            const p = props(r);
            const failover = arr(p.failoverRoutingPolicies).map(obj)[0];
            if (!failover) {
                continue;
            }
            const health = plan.resources.find((h) => h.type === "aws:route53/healthCheck:HealthCheck");
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

    return { title: plans.map((p) => p.stack).join(" + "), columns, dns, nodes, edges };
}

function chunk<T>(items: T[], size: number): T[][] {
    const out: T[][] = [];
    for (let i = 0; i < items.length; i += size) {
        out.push(items.slice(i, i + size));
    }
    return out;
}
