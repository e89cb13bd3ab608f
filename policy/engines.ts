/**
 * The database a resource runs, named as its engine says, for messages and the retention matrix's row
 * label: a MySQL instance is judged on the table's database row but is not "PostgreSQL".
 */
import { imageRepositoryName } from "./kubernetes";
import { isAzureFlexibleServer, T } from "./types";
import { read, readArray, UNKNOWN } from "./unknowns";
import { NumberInput, readNumber, showNumber } from "./numbers";

const ENGINES: Array<[RegExp, string]> = [
    [/^aurora-postgresql/, "Aurora PostgreSQL"],
    [/^aurora(-mysql)?$/, "Aurora MySQL"],
    [/^postgres/i, "PostgreSQL"],
    [/^mysql/i, "MySQL"],
    [/^mariadb/, "MariaDB"],
    [/^oracle/, "Oracle"],
    [/^sqlserver/, "SQL Server"],
    [/^custom-oracle/, "Oracle"],
    [/^custom-sqlserver/, "SQL Server"],
    [/^db2/, "Db2"],
];

/** "PostgreSQL", "MySQL", ... from an RDS `engine` or a Cloud SQL `databaseVersion`; undefined when not known. */
export function engineName(engine: unknown): string | undefined {
    if (typeof engine !== "string") {
        return undefined;
    }
    return ENGINES.find(([pattern]) => pattern.test(engine))?.[1];
}

/** The engine of a database resource of the stack, or undefined (unset on a replica, unknown in preview). */
export function databaseEngine(type: string, props: unknown): string | undefined {
    switch (type) {
        case T.rdsInstance:
        case T.rdsCluster:
            return engineName(read(props, "engine"));
        case T.azurePostgres:
            return "PostgreSQL";
        case T.cloudSql:
            return engineName(read(props, "databaseVersion"));
        case T.docdbCluster:
            return "DocumentDB";
        case T.neptuneCluster:
            return "Neptune";
        case T.redshiftCluster:
            return "Redshift";
        default:
            return isAzureFlexibleServer(type) ? "PostgreSQL" : undefined;
    }
}

/** "MySQL instance", "Aurora PostgreSQL cluster", "DocumentDB cluster", "RDS instance" (engine not known). */
export function rdsLabel(type: string, props: unknown): string {
    const kind = type === T.rdsInstance ? "instance" : "cluster";
    const engine = databaseEngine(type, props);
    return engine ? `${engine} ${kind}` : `RDS ${kind}`;
}

/** A database-like resource the retention table does not judge, as every report lists it. */
export interface NotJudged {
    urn: string;
    name: string;
    type: string;
    /** "DynamoDB table", "ElastiCache replication group". */
    kind: string;
    /** What it declares about its backups, when known ("point-in-time recovery off"). */
    backups: string;
}

type Describe = (props: unknown) => string;

const flag = (on: string, off: string, ...path: string[]): Describe => (props) => {
    const value = read(props, ...path);
    return value === UNKNOWN ? "unknown until the update" : value === true || (typeof value === "string" && /^(POINT_IN_TIME_RECOVERY_)?ENABLED$/i.test(value)) ? on : off;
};

const snapshotDays: Describe = (props) => {
    const days = readNumber(props, "snapshotRetentionLimit");
    return days === UNKNOWN ? "unknown until the update" : typeof days === "number" && days > 0 ? `automatic snapshots kept ${days} day${days === 1 ? "" : "s"}` : "no automatic snapshots (snapshotRetentionLimit not set)";
};

/** DynamoDB point-in-time recovery: its recovery period is `recoveryPeriodInDays` (1-35), 35 when not set. */
const dynamoPitr: Describe = (props) => {
    const state = flag("on", "point-in-time recovery off", "pointInTimeRecovery", "enabled")(props);
    if (state !== "on") {
        return state;
    }
    const days = readNumber(props, "pointInTimeRecovery", "recoveryPeriodInDays");
    const period = days === UNKNOWN ? "days unknown until the update" : typeof days === "number" ? `${days} day${days === 1 ? "" : "s"}` : days === undefined ? "35 days" : `recoveryPeriodInDays ${showNumber(days)}`;
    return `point-in-time recovery on (${period})`;
};

const notDeclared: Describe = () => "backups not declared by the program (the service's own defaults)";

/**
 * A Cosmos DB account's `backupPolicy`: continuous (point-in-time restore; its tier Continuous30Days when not
 * set) or periodic (Azure's default when no policy is declared: a backup every 240 minutes, kept 8 hours).
 */
const cosmosBackups: Describe = (props) => {
    const type = read(props, "backupPolicy", "type");
    if (type === UNKNOWN) {
        return "unknown until the update";
    }
    if (type === "Continuous") {
        const tier = read(props, "backupPolicy", "continuousModeProperties", "tier");
        return `continuous backup (${tier === UNKNOWN ? "tier unknown until the update" : typeof tier === "string" ? tier : "Continuous30Days, the default tier"})`;
    }
    const every = readNumber(props, "backupPolicy", "periodicModeProperties", "backupIntervalInMinutes");
    const kept = readNumber(props, "backupPolicy", "periodicModeProperties", "backupRetentionIntervalInHours");
    const show = (value: NumberInput, unit: string, fallback: number) => (value === UNKNOWN ? `${unit} unknown until the update` : typeof value === "number" ? `${value} ${unit}` : value === undefined ? `${fallback} ${unit}` : showNumber(value));
    return `periodic backups every ${show(every, "minutes", 240)}, kept ${show(kept, "hours", 8)}${type === undefined ? " (backupPolicy not set: Azure's default)" : ""}`;
};

/** `backupRetentionDays` (the service's default when not set) and a geo-redundancy flag, as a classic azure server declares them. */
const retentionDays = (property: string, defaultDays: number, geo: string): Describe => (props) => {
    const days = readNumber(props, property);
    const redundant = read(props, geo);
    const kept = days === UNKNOWN ? "backup retention unknown until the update" : typeof days === "number" ? `backups kept ${days} day${days === 1 ? "" : "s"}` : days === undefined ? `backups kept ${defaultDays} days (${property} not set)` : `${property} ${showNumber(days)}`;
    return `${kept}, ${redundant === UNKNOWN ? "geo-redundancy unknown until the update" : redundant === true || redundant === "Enabled" ? "geo-redundant" : "not geo-redundant"}`;
};

/**
 * The retention a single server (`properties.storageProfile`) or the 2020 Flexible Server preview (`storageProfile`)
 * declares; Azure's default: 7 days of backups, not geo-redundant.
 */
const storageProfileDays: Describe = (props) => retentionDays("backupRetentionDays", 7, "geoRedundantBackup")(read(props, "properties", "storageProfile") ?? read(props, "storageProfile") ?? {});

/**
 * Engines that hold data the way a database does, but that the retention table (and so the pack) does not
 * judge: every report lists them as "not judged" with what they declare, so a reviewer never reads a stack
 * holding one as "no database". (RDS, Aurora, DocumentDB, Neptune, Redshift, Azure PostgreSQL and Cloud SQL
 * are judged on the database row.)
 */
const NOT_JUDGED: Record<string, { kind: string; backups: Describe }> = {
    "aws:dynamodb/table:Table": { kind: "DynamoDB table", backups: dynamoPitr },
    "aws:elasticache/replicationGroup:ReplicationGroup": { kind: "ElastiCache replication group", backups: snapshotDays },
    "aws:elasticache/cluster:Cluster": { kind: "ElastiCache cluster", backups: snapshotDays },
    "aws:elasticache/serverlessCache:ServerlessCache": { kind: "ElastiCache serverless cache", backups: snapshotDays },
    "aws:memorydb/cluster:Cluster": { kind: "MemoryDB cluster", backups: snapshotDays },
    "aws:docdb/elasticCluster:ElasticCluster": { kind: "DocumentDB elastic cluster", backups: notDeclared },
    "aws:opensearch/domain:Domain": { kind: "OpenSearch domain", backups: notDeclared },
    "aws:elasticsearch/domain:Domain": { kind: "Elasticsearch domain", backups: notDeclared },
    "aws:keyspaces/table:Table": { kind: "Keyspaces table", backups: flag("point-in-time recovery on", "point-in-time recovery off", "pointInTimeRecovery", "status") },
    "aws:timestreamwrite/table:Table": { kind: "Timestream table", backups: notDeclared },
    "aws:qldb/ledger:Ledger": { kind: "QLDB ledger", backups: notDeclared },
    "aws:dax/cluster:Cluster": { kind: "DAX cluster", backups: notDeclared },
    "aws:redshiftserverless/namespace:Namespace": { kind: "Redshift Serverless namespace", backups: notDeclared },
    "aws:dsql/cluster:Cluster": { kind: "Aurora DSQL cluster", backups: notDeclared },
    "aws:neptunegraph/graph:Graph": { kind: "Neptune Analytics graph", backups: notDeclared },
    "aws:timestreaminfluxdb/dbInstance:DbInstance": { kind: "Timestream for InfluxDB instance", backups: notDeclared },
    "aws:lightsail/database:Database": { kind: "Lightsail database", backups: flag("automated backups on", "automated backups off", "backupRetentionEnabled") },
    // azure-native v3 names the Cosmos DB modules cosmosdb and mongocluster (documentdb, v2's name, is an alias).
    "azure-native:documentdb:DatabaseAccount": { kind: "Cosmos DB account", backups: cosmosBackups },
    "azure-native:cosmosdb:DatabaseAccount": { kind: "Cosmos DB account", backups: cosmosBackups },
    "azure-native:documentdb:MongoCluster": { kind: "Azure Cosmos DB for MongoDB (vCore) cluster", backups: notDeclared },
    "azure-native:mongocluster:MongoCluster": { kind: "Azure Cosmos DB for MongoDB (vCore) cluster", backups: notDeclared },
    "azure-native:synapse:SqlPool": { kind: "Synapse dedicated SQL pool", backups: notDeclared },
    "azure-native:sql:ManagedDatabase": { kind: "Azure SQL Managed Instance database", backups: notDeclared },
    "azure-native:dbformariadb:Server": { kind: "Azure Database for MariaDB server", backups: notDeclared },
    "azure-native:sql:Database": { kind: "Azure SQL database", backups: notDeclared },
    "azure-native:dbformysql:Server": { kind: "Azure Database for MySQL server", backups: notDeclared },
    "azure-native:cache:Redis": { kind: "Azure Cache for Redis", backups: notDeclared },
    "gcp:spanner/instance:Instance": { kind: "Spanner instance", backups: notDeclared },
    "gcp:bigtable/instance:Instance": { kind: "Bigtable instance", backups: notDeclared },
    "gcp:firestore/database:Database": { kind: "Firestore database", backups: flag("point-in-time recovery on", "point-in-time recovery off", "pointInTimeRecoveryEnablement") },
    "gcp:alloydb/cluster:Cluster": { kind: "AlloyDB cluster", backups: notDeclared },
    "gcp:redis/instance:Instance": { kind: "Memorystore for Redis instance", backups: notDeclared },
    // Other providers' databases (h28 trial: a program planned with its own node_modules may hold them): never
    // "no database". The classic azure provider's servers keep 7 days of backups unless backupRetentionDays says more.
    "azure:postgresql/flexibleServer:FlexibleServer": { kind: "Azure PostgreSQL Flexible Server (classic azure provider)", backups: retentionDays("backupRetentionDays", 7, "geoRedundantBackupEnabled") },
    "azure:postgresql/server:Server": { kind: "Azure PostgreSQL single server (classic azure provider)", backups: retentionDays("backupRetentionDays", 7, "geoRedundantBackupEnabled") },
    "azure:mysql/flexibleServer:FlexibleServer": { kind: "Azure MySQL Flexible Server (classic azure provider)", backups: retentionDays("backupRetentionDays", 7, "geoRedundantBackupEnabled") },
    "azure:mssql/database:Database": { kind: "Azure SQL database (classic azure provider)", backups: notDeclared },
    "azure:cosmosdb/account:Account": { kind: "Cosmos DB account (classic azure provider)", backups: notDeclared },
    // azure-native v3's token for the retired single server (its retention in storageProfile.backupRetentionDays).
    "azure-native:dbforpostgresql:SingleServer": { kind: "Azure PostgreSQL single server (retired service)", backups: storageProfileDays },
    "azure-native:dbforpostgresql:ServerGroupCluster": { kind: "Azure Cosmos DB for PostgreSQL cluster", backups: notDeclared },
    "digitalocean:index/databaseCluster:DatabaseCluster": { kind: "DigitalOcean managed database cluster", backups: notDeclared },
    "mongodbatlas:index/cluster:Cluster": { kind: "MongoDB Atlas cluster", backups: flag("cloud backups on", "cloud backups off", "cloudBackup") },
    "mongodbatlas:index/advancedCluster:AdvancedCluster": { kind: "MongoDB Atlas cluster", backups: flag("cloud backups on", "cloud backups off", "backupEnabled") },
    "aiven:index/pg:Pg": { kind: "Aiven for PostgreSQL service", backups: notDeclared },
    "aiven:index/mysql:Mysql": { kind: "Aiven for MySQL service", backups: notDeclared },
};

/**
 * azure-native's API-version modules of another shape (`dbforpostgresql/v20171201`, the retired single server,
 * and the 2020 Flexible Server preview, both with the retention in storageProfile): listed, not judged. The
 * Flexible Server's versions from 2021-06-01 on (`v20221201`, ...) are judged like the default module's
 * (types.ts isAzureFlexibleServer).
 */
const VERSIONED_AZURE_POSTGRES = /^azure-native:dbforpostgresql\/v\w+:(Server|FlexibleServer)$/;

/** The stack's database-like resources the pack does not judge. */
export function notJudgedDatabases(resources: ReadonlyArray<{ type: string; name: string; urn: string; props: unknown }>): NotJudged[] {
    return resources.flatMap((r) => {
        const entry = NOT_JUDGED[r.type] ?? (VERSIONED_AZURE_POSTGRES.test(r.type) && !isAzureFlexibleServer(r.type) ? { kind: `Azure PostgreSQL server (${r.type.split(":")[1]}, an azure-native API-version module)`, backups: storageProfileDays } : undefined);
        if (entry) {
            return [{ urn: r.urn, name: r.name, type: r.type, kind: entry.kind, backups: entry.backups(r.props) }];
        }
        const workload = workloadDatabase(r.type, r.props);
        return workload && !workload.judged ? [{ urn: r.urn, name: r.name, type: r.type, kind: `${workload.engine} in a Kubernetes ${workload.kind}, image ${workload.image}`, backups: SELF_HOSTED_BACKUPS }] : [];
    });
}

/** The Kubernetes workloads that run a long-lived server (a database's pods, with their volumes). */
export const WORKLOAD_TYPES: readonly string[] = ["kubernetes:apps/v1:StatefulSet", "kubernetes:apps/v1:Deployment"];

/**
 * Database servers by their image's repository name (the official images and the common distributions).
 * `judged`: an engine the table's database row judges wherever it runs (PostgreSQL, MySQL, MariaDB, as on RDS):
 * the row applies to the stack. The others are listed as not judged, as their managed forms are.
 */
const DATABASE_IMAGES: Array<{ pattern: RegExp; engine: string; judged: boolean }> = [
    { pattern: /^(postgres|postgresql|postgis|timescaledb(-ha)?|pgvector|cloudnative-pg)$/, engine: "PostgreSQL", judged: true },
    { pattern: /^(mysql|mysql-server|percona-server)$/, engine: "MySQL", judged: true },
    { pattern: /^mariadb$/, engine: "MariaDB", judged: true },
    { pattern: /^(mongo|mongodb|mongodb-community-server)$/, engine: "MongoDB", judged: false },
    { pattern: /^(redis|redis-stack-server|valkey)$/, engine: "Redis", judged: false },
    { pattern: /^(cassandra|scylla)$/, engine: "Cassandra", judged: false },
    { pattern: /^(elasticsearch|opensearch)$/, engine: "Elasticsearch/OpenSearch", judged: false },
    { pattern: /^(cockroach|clickhouse-server|neo4j|influxdb|couchdb|etcd)$/, engine: "database", judged: false },
];

const SELF_HOSTED_BACKUPS = "backups not declared: a server the program runs itself, which no managed backup covers";

/**
 * A StatefulSet or Deployment whose pod runs a database server image (its `containers`; an init container running
 * `postgres` is a wait for the database, not one): a database the program hosts itself (h40 trial: a
 * `postgres:16-alpine` StatefulSet beside its pg_dump CronJob was in no report, not even as not judged).
 */
export function workloadDatabase(type: string, props: unknown): { engine: string; image: string; judged: boolean; kind: string } | undefined {
    if (!WORKLOAD_TYPES.includes(type)) {
        return undefined;
    }
    const containers = readArray(props, "spec", "template", "spec", "containers");
    for (const container of Array.isArray(containers) ? containers : []) {
        const image = read(container, "image");
        const match = typeof image === "string" ? DATABASE_IMAGES.find((d) => d.pattern.test(imageRepositoryName(image))) : undefined;
        if (match && typeof image === "string") {
            return { engine: match.engine, image, judged: match.judged, kind: type.split(":").at(-1)! };
        }
    }
    return undefined;
}
