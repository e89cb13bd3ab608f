/**
 * Pieces every composition (aws, azure, gcp) shares: the stack's tags, the Kubernetes provider of the
 * region's cluster, the application's database secret and the Route 53 failover record.
 */
import { Provider } from "@pulumi/kubernetes/provider";
import type * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "../lib/config";
import { AppDatabaseSecret, SERVER_DEPLOYMENT } from "../components/app-database-secret";
import { DATABASE_NAME, DB_IDENTIFIER, REPLICA_IDENTIFIER } from "../components/database-interface";
import { DnsFailover } from "../components/dns-failover";
import { writeDbCredentials } from "../components/db-credentials";
import { kubeconfigInput } from "../components/backup-jobs";

export function stackTags(config: StackConfig): Record<string, string> {
    return {
        ...config.tags,
        project: config.project,
        stack: config.stack,
        environment: config.environment,
        role: config.role,
        "managed-by": "pulumi",
    };
}

let provider: Provider | undefined;

/** The region's Kubernetes cluster (backupJobs.kubeconfig; empty means the ambient kubeconfig). */
export function clusterProvider(config: StackConfig): Provider {
    provider ??= new Provider("region-cluster", { kubeconfig: kubeconfigInput(config.backupJobs.kubeconfig) });
    return provider;
}

/** The Route 53 failover record of this stack, when the stack declares one (always on aws). */
export function dnsFailover(config: StackConfig, tags: Record<string, string>): DnsFailover | undefined {
    if (!config.dnsFailover) {
        return undefined;
    }
    return new DnsFailover("dns", {
        hostedZoneId: config.hostedZoneId,
        domain: config.domain,
        regionalEndpoint: config.regionalEndpoint,
        failover: config.role === "primary" ? "PRIMARY" : "SECONDARY",
        setIdentifier: `${config.stack}-${config.region}`,
        tags,
    });
}

/**
 * The application's DATABASE_URL: prod always, dr only once promoted (a replica cannot take writes). Returns
 * undefined when this stack does not declare it.
 */
export function appDatabaseSecret(
    config: StackConfig,
    target: { host: pulumi.Input<string>; port: pulumi.Input<number>; username: pulumi.Input<string>; password: pulumi.Input<string>; source: string },
): AppDatabaseSecret | undefined {
    if (!config.appDatabaseSecret.enabled || (config.role === "standby" && !config.promote)) {
        return undefined;
    }
    return new AppDatabaseSecret("app-database", {
        // The server's namespace (serverNamespace), the one the backup exports read too.
        namespace: config.serverNamespace,
        secretName: config.appDatabaseSecret.name,
        databaseName: DATABASE_NAME,
        // A new DATABASE_URL rolls the server's pods (checksum annotation); `pulumi up` waits for the rollout.
        deployment: SERVER_DEPLOYMENT,
        provider: clusterProvider(config),
        ...target,
    });
}

/**
 * Azure and Cloud SQL primaries: their connection details go into `oauth2/db-credentials` (RDS's component
 * writes its own), then the failover record and the application's DATABASE_URL secret.
 */
export function publishPrimaryDatabase(
    config: StackConfig,
    tags: Record<string, string>,
    credentialsSecretId: pulumi.Input<string>,
    username: string,
    database: {
        address: pulumi.Output<string>;
        port: pulumi.Output<number>;
        identifier: pulumi.Output<string>;
        administratorPassword: pulumi.Output<string>;
    },
) {
    writeDbCredentials("oauth2-db-credentials", {
        secretId: credentialsSecretId,
        username,
        password: database.administratorPassword,
        host: database.address,
        port: database.port,
        identifier: database.identifier,
    });
    return publishDatabase(config, tags, username, database, DB_IDENTIFIER);
}

/** Azure and Cloud SQL standbys: the failover record, and once promoted the application's DATABASE_URL secret. */
export function publishStandbyDatabase(
    config: StackConfig,
    tags: Record<string, string>,
    username: string,
    replica: { address: pulumi.Output<string>; port: pulumi.Output<number>; administratorPassword: pulumi.Output<string> },
) {
    return publishDatabase(config, tags, username, replica, `${REPLICA_IDENTIFIER} (promoted)`);
}

/** The failover record, and the application's DATABASE_URL secret pointing at `database` (named `source`). */
function publishDatabase(
    config: StackConfig,
    tags: Record<string, string>,
    username: string,
    database: { address: pulumi.Output<string>; port: pulumi.Output<number>; administratorPassword: pulumi.Output<string> },
    source: string,
) {
    const dns = dnsFailover(config, tags);
    const app = appDatabaseSecret(config, { host: database.address, port: database.port, username, password: database.administratorPassword, source });
    return { dns, app };
}
