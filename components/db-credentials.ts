/**
 * The `oauth2/db-credentials` secret's value, written in one place for every cloud: the backup jobs and a
 * failover read one JSON document (engine, username, password, host, port, dbname, dbInstanceIdentifier)
 * whatever runs PostgreSQL. RDS writes it from its component; Azure and Cloud SQL primaries from their
 * stacks (stacks/compose-common.ts).
 */
import * as pulumi from "@pulumi/pulumi";
import * as secretsmanager from "@pulumi/aws/secretsmanager";
import { DATABASE_NAME } from "./database-interface";

export interface DbCredentialsArgs {
    /** The `oauth2/db-credentials` secret (ARN or name). */
    secretId: pulumi.Input<string>;
    username: pulumi.Input<string>;
    /** Secret output (generated password); never a literal. */
    password: pulumi.Input<string>;
    host: pulumi.Input<string>;
    port: pulumi.Input<number>;
    identifier: pulumi.Input<string>;
}

/** Declares the secret's version; the whole document is a Pulumi secret. */
export function writeDbCredentials(name: string, args: DbCredentialsArgs, opts?: pulumi.CustomResourceOptions): secretsmanager.SecretVersion {
    return new secretsmanager.SecretVersion(name, {
        secretId: args.secretId,
        secretString: pulumi.secret(pulumi.jsonStringify({
            engine: "postgres",
            username: args.username,
            password: args.password,
            host: args.host,
            port: args.port,
            dbname: DATABASE_NAME,
            dbInstanceIdentifier: args.identifier,
        })),
    }, opts);
}
