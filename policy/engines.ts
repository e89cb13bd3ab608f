/**
 * The database a resource runs, named as its engine says, for messages and the retention matrix's row
 * label: a MySQL instance is judged on the table's database row but is not "PostgreSQL".
 */
import { T } from "./types";
import { read } from "./unknowns";

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
        default:
            return undefined;
    }
}

/** "MySQL instance", "Aurora PostgreSQL cluster", "RDS instance" (engine not known). */
export function rdsLabel(type: string, props: unknown): string {
    const kind = type === T.rdsCluster ? "cluster" : "instance";
    const engine = databaseEngine(type, props);
    return engine ? `${engine} ${kind}` : `RDS ${kind}`;
}
