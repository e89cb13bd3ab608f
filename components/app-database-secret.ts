/**
 * The application's database connection as a Kubernetes Secret in `oauth2-system`: the runbook's
 * "Update Application Configuration" step (`kubectl set env ... DATABASE_URL=jdbc:postgresql://dr-postgres...`)
 * as a declared resource. The prod stack points it at the primary; the dr stack declares it once `promote:
 * true`, pointing at the promoted replica. The whole payload is a Pulumi secret; the password comes from the
 * (replicated) `oauth2/db-credentials` secret or the generated password, never from plain configuration.
 * The deployment reads it with `envFrom: secretRef`, which is read only when a pod starts: so the component
 * also patches the server's Deployment (server-side apply, only this one annotation) with the payload's
 * sha256 in its pod template. A changed DATABASE_URL (promotion, failback, a restore switched in) changes the
 * template and Kubernetes rolls the pods; `pulumi up` waits for the rollout, so whatever runs after it (the
 * service validation Job) talks to pods that use the new database.
 */
import { createHash } from "crypto";
import * as pulumi from "@pulumi/pulumi";
import { DeploymentPatch } from "@pulumi/kubernetes/apps/v1/deploymentPatch";
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
    /** The server's Deployment in the namespace to roll when the payload changes; none when undefined. */
    deployment?: string;
    provider?: Provider;
}

/** The authorization server's Deployment in oauth2-system (the runbook's `deployment/oauth2-server`). */
export const SERVER_DEPLOYMENT = "oauth2-server";

/** The pod template annotation holding the payload's checksum (the Helm "checksum/secret" pattern). */
export const DATABASE_CHECKSUM_ANNOTATION = "oauth2-dr/database-secret-sha256";

/** sha256 of the payload: changes exactly when a key or value of the Secret does. */
export function payloadChecksum(payload: Record<string, string>): string {
    const canonical = JSON.stringify(Object.keys(payload).sort().map((k) => [k, payload[k]]));
    return createHash("sha256").update(canonical).digest("hex");
}

export class AppDatabaseSecret extends pulumi.ComponentResource {
    readonly secretName: pulumi.Output<string>;
    /** jdbc:postgresql://host:5432/oauth2db, secret. */
    readonly databaseUrl: pulumi.Output<string>;
    /** The rollout of the server's pods onto this Secret (a DeploymentPatch Pulumi waits for), if declared. */
    readonly rollout?: DeploymentPatch;

    constructor(name: string, args: AppDatabaseSecretArgs, opts?: pulumi.ComponentResourceOptions) {
        super("oauth2-dr:app:AppDatabaseSecret", name, {}, opts);
        const url = pulumi.secret(jdbcUrl(args.host, args.port, args.databaseName));
        const payload = pulumi.secret(pulumi.all([url, args.host, args.port, args.username, args.password]).apply(([u, host, port, user, password]) => ({
            DATABASE_URL: u,
            DATABASE_HOST: host,
            DATABASE_PORT: String(port),
            DATABASE_NAME: args.databaseName,
            DATABASE_USER: user,
            DATABASE_PASSWORD: password,
        })));
        const secret = new corev1.Secret(name, {
            metadata: {
                name: args.secretName,
                namespace: args.namespace,
                labels: { "app.kubernetes.io/part-of": "oauth2-server", "app.kubernetes.io/managed-by": "pulumi" },
                annotations: { "oauth2-dr/database": args.source },
            },
            type: "Opaque",
            stringData: payload,
        }, { parent: this, provider: args.provider });
        if (args.deployment) {
            this.rollout = new DeploymentPatch(`${name}-rollout`, {
                metadata: {
                    name: args.deployment,
                    namespace: args.namespace,
                    // The chart that owns the Deployment never sets this annotation: take it over if needed.
                    annotations: { "pulumi.com/patchForce": "true" },
                },
                spec: {
                    template: {
                        metadata: {
                            // A hash, not the payload; still kept secret in state like everything derived from it.
                            annotations: { [DATABASE_CHECKSUM_ANNOTATION]: payload.apply(payloadChecksum) },
                        },
                    },
                },
            }, { parent: this, provider: args.provider, dependsOn: [secret] });
        }
        this.secretName = secret.metadata.name;
        this.databaseUrl = url;
        this.registerOutputs({ secretName: this.secretName });
    }
}
