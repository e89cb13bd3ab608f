/**
 * The application's database connection as a Kubernetes Secret in `oauth2-system`: the runbook's
 * "Update Application Configuration" step (`kubectl set env ... DATABASE_URL=jdbc:postgresql://dr-postgres...`)
 * as a declared resource. The prod stack points it at the primary; the dr stack declares it once `promote:
 * true`, pointing at the promoted replica. The whole payload is a Pulumi secret; the password comes from the
 * (replicated) `oauth2/db-credentials` secret or the generated password, never from plain configuration.
 * The deployment reads it with `envFrom: secretRef`; a rollout restart picks the new value up.
 */
import * as pulumi from "@pulumi/pulumi";
import * as corev1 from "@pulumi/kubernetes/core/v1";
import type { Provider } from "@pulumi/kubernetes/provider";
import { jdbcUrl } from "./database-interface";

export interface AppDatabaseSecretArgs {
    namespace: string;
    secretName: string;
    host: pulumi.Input<string>;
    port: pulumi.Input<number>;
    databaseName: string;
    username: pulumi.Input<string>;
    password: pulumi.Input<string>;
    /** Which instance this points at, for people reading the cluster (e.g. oauth2-postgres-replica, promoted). */
    source: string;
    provider?: Provider;
}

export class AppDatabaseSecret extends pulumi.ComponentResource {
    readonly secretName: pulumi.Output<string>;
    /** jdbc:postgresql://host:5432/oauth2db, secret. */
    readonly databaseUrl: pulumi.Output<string>;

    constructor(name: string, args: AppDatabaseSecretArgs, opts?: pulumi.ComponentResourceOptions) {
        super("oauth2-dr:app:AppDatabaseSecret", name, {}, opts);
        const url = pulumi.secret(jdbcUrl(args.host, args.port, args.databaseName));
        const secret = new corev1.Secret(name, {
            metadata: {
                name: args.secretName,
                namespace: args.namespace,
                labels: { "app.kubernetes.io/part-of": "oauth2-server", "app.kubernetes.io/managed-by": "pulumi" },
                annotations: { "oauth2-dr/database": args.source },
            },
            type: "Opaque",
            stringData: pulumi.secret(pulumi.all([url, args.host, args.port, args.username, args.password]).apply(([u, host, port, user, password]) => ({
                DATABASE_URL: u,
                DATABASE_HOST: host,
                DATABASE_PORT: String(port),
                DATABASE_NAME: args.databaseName,
                DATABASE_USER: user,
                DATABASE_PASSWORD: password,
            }))),
        }, { parent: this, provider: args.provider });
        this.secretName = secret.metadata.name;
        this.databaseUrl = url;
        this.registerOutputs({ secretName: this.secretName });
    }
}
