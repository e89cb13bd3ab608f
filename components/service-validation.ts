/**
 * The runbook's last DR step, "Validate", as declared Kubernetes work in `oauth2-system`, running
 * scripts/validate-service.sh (from the backup scripts ConfigMap) in the backup image:
 *
 *   CronJob service-validation   suspended: run on demand with
 *                                `kubectl create job --from=cronjob/service-validation -n oauth2-system <name>`
 *   Job service-validation-<id>  only with `runAfter` (a promoted standby): declared after the server's
 *                                rollout onto the new DATABASE_URL, and awaited by `pulumi up`, so a promotion
 *                                ends with the validation's verdict. `<id>` changes with the database target,
 *                                so a new target runs a new Job.
 *
 * The smoke-test client's secret lives in Secrets Manager (`oauth2/smoke-test-client`, declared in the
 * primary stack by `SmokeTestClientSecret` with a replica in the DR region); the pods read it, the backed-up
 * `secrets/jwks.json` and the database credentials through IRSA with a role allowed exactly those. The pods
 * are hardened like the backup CronJobs: non-root, read-only root filesystem, no privilege escalation, all
 * capabilities dropped, RuntimeDefault seccomp, limits, no ServiceAccount token.
 */
import { createHash } from "crypto";
import * as pulumi from "@pulumi/pulumi";
import * as batchv1 from "@pulumi/kubernetes/batch/v1";
import type { Provider } from "@pulumi/kubernetes/provider";
import type * as k8sInput from "@pulumi/kubernetes/types/input";
import * as iam from "@pulumi/aws/iam";
import * as secretsmanager from "@pulumi/aws/secretsmanager";
import * as random from "@pulumi/random";
import { OIDC_PROVIDER_ARN, POSTGRES_DATABASE_NAME } from "../lib/formats";
import { secretDeletionGuard } from "./secrets";
import { appLabels, awsEnv, BACKUP_NAMESPACE, declareIrsaRole, declareIrsaServiceAccount, envVars, postgresEnv, scriptPodSpec } from "./backup-image-pods";

export const SMOKE_CLIENT_SECRET_NAME = "oauth2/smoke-test-client";
/** The client the server must have registered (client_credentials, client_secret_basic). */
export const SMOKE_CLIENT_ID = "oauth2-dr-smoke-test";
export const VALIDATION_SCRIPT = "validate-service.sh";
const SA_NAME = "oauth2-dr-validation";

export interface SmokeTestClientSecretArgs {
    drRegion: string;
    kmsKeyArn: pulumi.Input<string>;
    drKmsKeyArn: pulumi.Input<string>;
    recoveryWindowDays: number;
    /** The deletion guard (components/secrets.ts): only this role may delete or re-policy the secret. */
    breakGlassRoleArn?: string;
    tags: Record<string, string>;
}

/**
 * `oauth2/smoke-test-client` = {"client_id", "client_secret"}: a generated secret (secret in state), with a
 * replica in the DR region like the server's other secrets, so the validation after a failover reads it there.
 */
export class SmokeTestClientSecret extends pulumi.ComponentResource {
    readonly arn: pulumi.Output<string>;

    constructor(name: string, args: SmokeTestClientSecretArgs, opts?: pulumi.ComponentResourceOptions) {
        super("oauth2-dr:secrets:SmokeTestClientSecret", name, {}, opts);
        const secret = new secretsmanager.Secret(SMOKE_CLIENT_SECRET_NAME, {
            name: SMOKE_CLIENT_SECRET_NAME,
            description: `Client credentials of ${SMOKE_CLIENT_ID}, the service validation's client_credentials client`,
            kmsKeyId: args.kmsKeyArn,
            recoveryWindowInDays: args.recoveryWindowDays,
            replicas: [{ region: args.drRegion, kmsKeyId: args.drKmsKeyArn }],
            forceOverwriteReplicaSecret: false,
            tags: { ...args.tags, "oauth2-dr/data-class": "secrets" },
        }, { parent: this, protect: true });
        const breakGlass = args.breakGlassRoleArn;
        if (breakGlass) {
            new secretsmanager.SecretPolicy(`${SMOKE_CLIENT_SECRET_NAME}-guard`, { secretArn: secret.arn, policy: pulumi.output(args.kmsKeyArn).apply((arn) => secretDeletionGuard(breakGlass, arn)), blockPublicPolicy: true }, { parent: this });
        }
        const password = new random.RandomPassword(`${name}-secret`, { length: 48, special: false }, { parent: this });
        new secretsmanager.SecretVersion(`${name}-version`, {
            secretId: secret.id,
            secretString: pulumi.secret(pulumi.jsonStringify({ client_id: SMOKE_CLIENT_ID, client_secret: password.result })),
        }, { parent: this });
        this.arn = secret.arn;
        this.registerOutputs({ arn: this.arn });
    }
}

export interface ServiceValidationArgs {
    /** The backup image (bash, curl, jq, openssl, psql, aws) and the cluster's IAM OIDC provider. */
    image: string;
    oidcProviderArn: string;
    oidcProviderUrl: string;
    region: string;
    /** The public issuer, e.g. https://auth.example.com: the checks go through DNS like a client. */
    issuer: string;
    bucketName: pulumi.Input<string>;
    bucketArn: pulumi.Input<string>;
    /** Keys that decrypt the secrets read (the secrets key in this region). */
    kmsKeyArns: pulumi.Input<string>[];
    smokeClientSecretArn: pulumi.Input<string>;
    dbCredentialsSecretArn: pulumi.Input<string>;
    /** The database the server must be using (the primary, or the promoted replica). */
    databaseHost: pulumi.Input<string>;
    databaseName: string;
    databasePort?: pulumi.Input<number>;
    /** The ConfigMap holding scripts/*.sh (BackupJobs.scriptsConfigMapName). */
    scriptsConfigMapName: pulumi.Input<string>;
    provider?: Provider;
    tags: Record<string, string>;
    /** Run once now, after these resources (the server's rollout): declares the awaited Job. */
    runAfter?: pulumi.Resource[];
}

/** Throws one Error listing every problem, before anything is declared. */
export function validateServiceValidationArgs(args: ServiceValidationArgs): void {
    const problems: string[] = [];
    if (!args.image || /\s/.test(args.image)) {
        problems.push(`image "${args.image ?? ""}" is not a container image reference`);
    }
    if (!/^https:\/\/[a-z0-9.-]+(:\d+)?$/.test(args.issuer ?? "")) {
        problems.push(`issuer "${args.issuer}" is not https://<domain> (the server's public issuer)`);
    }
    if (!OIDC_PROVIDER_ARN.test(args.oidcProviderArn ?? "")) {
        problems.push(`oidcProviderArn "${args.oidcProviderArn ?? ""}" is not an IAM OIDC provider ARN`);
    }
    if (!POSTGRES_DATABASE_NAME.test(args.databaseName ?? "")) {
        problems.push(`databaseName "${args.databaseName}" is not a PostgreSQL database name`);
    }
    if (problems.length > 0) {
        throw new Error(`ServiceValidation: invalid arguments:\n  - ${problems.join("\n  - ")}`);
    }
}

export class ServiceValidation extends pulumi.ComponentResource {
    readonly cronJobName: pulumi.Output<string>;
    readonly roleArn: pulumi.Output<string>;
    /** The Job run after the rollout, when declared. */
    readonly runJobName?: pulumi.Output<string>;

    constructor(name: string, args: ServiceValidationArgs, opts?: pulumi.ComponentResourceOptions) {
        validateServiceValidationArgs(args);
        super("oauth2-dr:kubernetes:ServiceValidation", name, {}, opts);
        const ns = BACKUP_NAMESPACE;
        const k8sOpts: pulumi.CustomResourceOptions = { parent: this, provider: args.provider };
        const labels = appLabels("oauth2-dr-validation", "validation");

        const role = this.irsaRole(name, args);
        const serviceAccount = declareIrsaServiceAccount(name, { serviceAccount: SA_NAME, labels, roleArn: role.arn }, k8sOpts);

        const podTemplate = this.podTemplate(args, serviceAccount.metadata.name, labels);
        const jobSpec = { activeDeadlineSeconds: 900, backoffLimit: 2, template: podTemplate };
        const cronJob = new batchv1.CronJob(`${name}-cronjob`, {
            metadata: {
                name: "service-validation",
                namespace: ns,
                labels,
                annotations: {
                    "oauth2-dr/script": VALIDATION_SCRIPT,
                    "oauth2-dr/suspended-because": "run on demand: kubectl create job --from=cronjob/service-validation; runs by itself after a promotion",
                },
            },
            spec: {
                // Never runs by itself: a template for on-demand runs.
                schedule: "0 6 * * 1",
                timeZone: "Etc/UTC",
                suspend: true,
                concurrencyPolicy: "Forbid",
                startingDeadlineSeconds: 600,
                successfulJobsHistoryLimit: 3,
                failedJobsHistoryLimit: 5,
                jobTemplate: { metadata: { labels }, spec: { ...jobSpec, ttlSecondsAfterFinished: 7 * 24 * 3600 } },
            },
        }, k8sOpts);

        if (args.runAfter && args.runAfter.length > 0) {
            // The Job's name follows the database target: a new target (another promotion, a failback) runs anew.
            const id = pulumi.output(args.databaseHost).apply((host) => createHash("sha256").update(`${host}/${args.databaseName}`).digest("hex").slice(0, 8));
            const job = new batchv1.Job(`${name}-after-rollout`, {
                metadata: {
                    name: pulumi.interpolate`service-validation-${id}`,
                    namespace: ns,
                    labels: { ...labels, "oauth2-dr/run": "after-rollout" },
                    annotations: { "oauth2-dr/script": VALIDATION_SCRIPT },
                },
                // Pulumi awaits the Job: `pulumi up` fails when a check FAILs. No TTL: the Job is state.
                spec: jobSpec,
            }, { ...k8sOpts, dependsOn: args.runAfter, deleteBeforeReplace: true });
            this.runJobName = job.metadata.name;
        }

        this.cronJobName = cronJob.metadata.name;
        this.roleArn = role.arn;
        this.registerOutputs({ cronJobName: this.cronJobName, roleArn: this.roleArn, runJobName: this.runJobName });
    }

    /** IRSA role of the validation pods: the two secrets, the backed-up JWKS, the keys; nothing else. */
    private irsaRole(name: string, args: ServiceValidationArgs): iam.Role {
        return declareIrsaRole(name, {
            serviceAccount: SA_NAME,
            purpose: "service validation",
            sid: "ValidationServiceAccount",
            oidcProviderArn: args.oidcProviderArn,
            oidcProviderUrl: args.oidcProviderUrl,
            maxSessionDuration: 3600,
            component: "service-validation",
            tags: args.tags,
            policy: {
                Version: "2012-10-17",
                Statement: [
                    { Sid: "ReadClientAndDatabaseSecrets", Effect: "Allow", Action: "secretsmanager:GetSecretValue", Resource: [args.smokeClientSecretArn, args.dbCredentialsSecretArn] },
                    { Sid: "ReadBackedUpJwks", Effect: "Allow", Action: "s3:GetObject", Resource: pulumi.interpolate`${args.bucketArn}/secrets/jwks.json` },
                    { Sid: "DecryptSecrets", Effect: "Allow", Action: "kms:Decrypt", Resource: args.kmsKeyArns },
                ],
            },
        }, this);
    }

    private podTemplate(args: ServiceValidationArgs, serviceAccountName: pulumi.Input<string>, labels: Record<string, string>): k8sInput.core.v1.PodTemplateSpec {
        return {
            metadata: { labels },
            // Hardened exactly as the backup jobs' pods (components/backup-image-pods.ts); no ServiceAccount token.
            spec: scriptPodSpec({
                serviceAccountName,
                kubernetesApi: false,
                container: "service-validation",
                image: args.image,
                script: VALIDATION_SCRIPT,
                env: [
                    ...envVars({ ISSUER: args.issuer, SMOKE_CLIENT_SECRET_ID: args.smokeClientSecretArn }),
                    ...awsEnv(args.bucketName, args.region),
                    ...postgresEnv({
                        host: args.databaseHost,
                        port: args.databasePort,
                        database: args.databaseName,
                        appName: "oauth2-dr-validation",
                        credentialsSecretArn: args.dbCredentialsSecretArn,
                    }),
                ],
                resources: { requests: { cpu: "50m", memory: "64Mi" }, limits: { cpu: "500m", memory: "256Mi" } },
                scriptsConfigMapName: args.scriptsConfigMapName,
                scratch: "32Mi",
            }),
        };
    }
}
