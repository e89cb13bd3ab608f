/**
 * The one database interface of the program, whatever the cloud: every implementation (RDS, Azure
 * PostgreSQL Flexible Server, Cloud SQL) exposes the same outputs, so the application secret, the backup
 * jobs, the alarms and the stack outputs are written once.
 */
import * as pulumi from "@pulumi/pulumi";
import type { Cloud } from "../lib/clouds";

export const DATABASE_NAME = "oauth2db";
export const POSTGRES_PORT = 5432;
export const DB_IDENTIFIER = "oauth2-postgres";
export const REPLICA_IDENTIFIER = "oauth2-postgres-replica";
export const RESTORED_IDENTIFIER = "oauth2-postgres-restored";

export interface DatabaseOutputs {
    readonly cloud: Cloud;
    /** The instance's name: RDS identifier, Flexible Server name, Cloud SQL instance name. */
    readonly identifier: pulumi.Output<string>;
    /** The cloud's id of the instance: RDS ARN, Azure resource id, Cloud SQL self link. */
    readonly resourceId: pulumi.Output<string>;
    /** Host name or IP address clients connect to. */
    readonly address: pulumi.Output<string>;
    readonly port: pulumi.Output<number>;
    readonly databaseName: string;
    /** postgresql://user:password@host:port/db?sslmode=require, always a secret. */
    readonly connectionUrl: pulumi.Output<string>;
}

/** The JDBC form the server's DATABASE_URL takes: jdbc:postgresql://host:5432/oauth2db (no credentials). */
export function jdbcUrl(address: pulumi.Input<string>, port: pulumi.Input<number>, databaseName: string = DATABASE_NAME): pulumi.Output<string> {
    return pulumi.interpolate`jdbc:postgresql://${address}:${port}/${databaseName}`;
}

/**
 * The stack outputs of the database a stack serves from, the same keys on every cloud and role: dbAddress,
 * dbPort, dbName, databaseUrl (when the stack knows the credentials) and jdbcUrl. `described` are the cloud's
 * own outputs about the instance, listed after its name.
 */
export function databaseStackOutputs(
    db: Pick<DatabaseOutputs, "address" | "port"> & Partial<Pick<DatabaseOutputs, "databaseName" | "connectionUrl">>,
    described: Record<string, pulumi.Output<unknown>> = {},
) {
    const databaseName = db.databaseName ?? DATABASE_NAME;
    return {
        dbAddress: db.address,
        dbPort: db.port,
        dbName: databaseName,
        ...described,
        databaseUrl: db.connectionUrl,
        jdbcUrl: jdbcUrl(db.address, db.port, databaseName),
    };
}

/** A secret libpq URL; the password never leaves a secret. */
export function connectionUrl(
    username: pulumi.Input<string>,
    password: pulumi.Input<string>,
    address: pulumi.Input<string>,
    port: pulumi.Input<number>,
    databaseName: string = DATABASE_NAME,
): pulumi.Output<string> {
    return pulumi.secret(
        pulumi.interpolate`postgresql://${username}:${pulumi.output(password).apply(encodeURIComponent)}@${address}:${port}/${databaseName}?sslmode=require`,
    );
}

/** Azure tag names may not contain / < > % & \ ?: "oauth2-dr/data-class" becomes "oauth2-dr-data-class". */
export function azureTags(tags: Record<string, string>): Record<string, string> {
    return Object.fromEntries(Object.entries(tags).map(([k, v]) => [k.replace(/[/<>%&\\?]/g, "-"), v]));
}

/** GCP labels: lowercase letters, digits, '_' and '-', at most 63 characters, keys start with a letter. */
export function gcpLabels(tags: Record<string, string>): Record<string, string> {
    const clean = (s: string) => s.toLowerCase().replace(/[^a-z0-9_-]/g, "_").slice(0, 63);
    return Object.fromEntries(Object.entries(tags).map(([k, v]) => [clean(k).replace(/^[^a-z]+/, "l"), clean(v)]));
}
