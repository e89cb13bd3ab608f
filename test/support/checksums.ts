/**
 * Table checksums (tools/sandbox/oauth2-schema checksumSql: row count and the md5 of the sorted rows) of several
 * tables of one database, from one psql: a test that compares a restored database with its source read them
 * table by table before, a psql process and a server session per table and database.
 */
import { checksumSql } from "../../tools/sandbox/oauth2-schema";
import { PgServer } from "../../tools/sandbox/servers";

/** Each table's checksum, by name; throws (psql's error) when a table is missing. */
export function tableChecksums(pg: PgServer, tables: readonly string[], database = "oauth2db"): Record<string, string> {
    const lines = pg.psql(tables.map(checksumSql).join("\n"), database).split("\n");
    if (lines.length !== tables.length) {
        throw new Error(`expected ${tables.length} checksums from ${database}, got: ${lines.join(" | ")}`);
    }
    return Object.fromEntries(tables.map((table, i) => [table, lines[i]]));
}
