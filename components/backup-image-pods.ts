/**
 * What every pod running the backup image (images/backup/Dockerfile) shares, whichever component declares
 * it (the backup CronJobs, the service validation): the IAM role it assumes through the cluster's OIDC
 * provider (IRSA) and the ServiceAccount annotated with it, the pod's hardening, its environment (AWS,
 * PostgreSQL, scratch home) and the scripts and scratch volumes.
 */
import * as pulumi from "@pulumi/pulumi";
import * as corev1 from "@pulumi/kubernetes/core/v1";
import type * as k8sInput from "@pulumi/kubernetes/types/input";
import * as iam from "@pulumi/aws/iam";
import type { ContainerResources } from "../lib/schedule";

/** The namespace of the backup, export, verification and validation pods. */
export const BACKUP_NAMESPACE = "oauth2-system";
/** Where the scripts ConfigMap is mounted in the containers. */
export const SCRIPTS_MOUNT = "/opt/oauth2-dr/scripts";
/** UID/GID of the non-root user of images/backup/Dockerfile. */
export const BACKUP_UID = 10001;

/** The labels of a part of oauth2-dr in the cluster (`app.kubernetes.io/*`). */
export function appLabels(name: string, component: string): Record<string, string> {
    return {
        "app.kubernetes.io/name": name,
        "app.kubernetes.io/part-of": "oauth2-server",
        "app.kubernetes.io/component": component,
        "app.kubernetes.io/managed-by": "pulumi",
    };
}

export interface IrsaRoleArgs {
    /** The ServiceAccount in BACKUP_NAMESPACE that assumes the role. */
    serviceAccount: string;
    /** What runs as it, for the role's description ("backup CronJobs"). */
    purpose: string;
    /** The trust statement's Sid. */
    sid: string;
    /** The EKS cluster's IAM OIDC provider and its issuer (without https://). */
    oidcProviderArn: string;
    oidcProviderUrl: string;
    maxSessionDuration: number;
    /** The value of the role's `oauth2-dr/component` tag. */
    component: string;
    tags: Record<string, string>;
    /** The role's inline policy document: what the pods may do. */
    policy: object;
    /** A fixed role name (another account trusts it by ARN); Pulumi's auto-name otherwise. */
    roleName?: string;
}

/**
 * The IAM role a ServiceAccount assumes through the cluster's OIDC provider (IRSA): trusted for that one
 * ServiceAccount of BACKUP_NAMESPACE and the STS audience only, with `policy` as its inline policy.
 */
export function declareIrsaRole(name: string, args: IrsaRoleArgs, parent: pulumi.Resource): iam.Role {
    const issuer = args.oidcProviderUrl;
    const subject = `system:serviceaccount:${BACKUP_NAMESPACE}:${args.serviceAccount}`;
    const role = new iam.Role(`${name}-irsa`, {
        ...(args.roleName ? { name: args.roleName } : {}),
        description: `oauth2-dr ${args.purpose} (${subject})`,
        assumeRolePolicy: pulumi.jsonStringify({
            Version: "2012-10-17",
            Statement: [{
                Sid: args.sid,
                Effect: "Allow",
                Principal: { Federated: args.oidcProviderArn },
                Action: "sts:AssumeRoleWithWebIdentity",
                Condition: {
                    StringEquals: {
                        [`${issuer}:sub`]: subject,
                        [`${issuer}:aud`]: "sts.amazonaws.com",
                    },
                },
            }],
        }),
        maxSessionDuration: args.maxSessionDuration,
        tags: { ...args.tags, "oauth2-dr/component": args.component },
    }, { parent });
    new iam.RolePolicy(`${name}-irsa-policy`, { role: role.id, policy: pulumi.jsonStringify(args.policy) }, { parent });
    return role;
}

/** The ServiceAccount of BACKUP_NAMESPACE annotated with its IRSA role; no token is mounted unless a pod asks. */
export function declareIrsaServiceAccount(
    name: string,
    args: { serviceAccount: string; labels: Record<string, string>; roleArn: pulumi.Input<string> },
    opts: pulumi.CustomResourceOptions,
): corev1.ServiceAccount {
    return new corev1.ServiceAccount(`${name}-sa`, {
        metadata: {
            name: args.serviceAccount,
            namespace: BACKUP_NAMESPACE,
            labels: args.labels,
            annotations: { "eks.amazonaws.com/role-arn": args.roleArn, "eks.amazonaws.com/sts-regional-endpoints": "true" },
        },
        automountServiceAccountToken: false,
    }, opts);
}

/** Non-root (the image's UID), read-only root file system, no privilege, no capabilities, RuntimeDefault seccomp. */
export const CONTAINER_SECURITY = {
    runAsNonRoot: true,
    runAsUser: BACKUP_UID,
    runAsGroup: BACKUP_UID,
    readOnlyRootFilesystem: true,
    allowPrivilegeEscalation: false,
    privileged: false,
    capabilities: { drop: ["ALL"] },
    seccompProfile: { type: "RuntimeDefault" },
};

/** The pod's side of the same: the image's user and group, which also own the mounted volumes. */
export const POD_SECURITY = {
    runAsNonRoot: true,
    runAsUser: BACKUP_UID,
    runAsGroup: BACKUP_UID,
    fsGroup: BACKUP_UID,
    seccompProfile: { type: "RuntimeDefault" },
};

export function envVars(pairs: Record<string, pulumi.Input<string>>): k8sInput.core.v1.EnvVar[] {
    return Object.entries(pairs).map(([name, value]) => ({ name, value }));
}

/** The backup bucket and the region the AWS CLI and aws-helper.py use (regional STS endpoints, as IRSA needs). */
export function awsEnv(bucketName: pulumi.Input<string>, region: string): k8sInput.core.v1.EnvVar[] {
    return envVars({ BUCKET: bucketName, AWS_REGION: region, AWS_DEFAULT_REGION: region, AWS_STS_REGIONAL_ENDPOINTS: "regional" });
}

export interface PostgresEnv {
    host: pulumi.Input<string>;
    port?: pulumi.Input<number>;
    database: string;
    /** libpq sslmode (default require). */
    sslMode?: string;
    /** application_name, as the server's pg_stat_activity shows it. */
    appName: string;
    /** The Secrets Manager secret holding the database credentials (lib.sh reads it). */
    credentialsSecretArn: pulumi.Input<string>;
}

/** libpq's environment for the scripts' psql and pg_dump, and where the credentials are. */
export function postgresEnv(db: PostgresEnv): k8sInput.core.v1.EnvVar[] {
    return envVars({
        PGHOST: db.host,
        PGPORT: typeof db.port === "number" || db.port === undefined ? String(db.port ?? 5432) : pulumi.output(db.port).apply(String),
        PGDATABASE: db.database,
        PGSSLMODE: db.sslMode ?? "require",
        PGCONNECT_TIMEOUT: "30",
        PGAPPNAME: db.appName,
        DB_CREDENTIALS_SECRET_ID: db.credentialsSecretArn,
    });
}

/** Where a container of the backup image finds the scripts (read-only) and its scratch space. */
export const SCRIPT_VOLUME_MOUNTS = [
    { name: "scripts", mountPath: SCRIPTS_MOUNT, readOnly: true },
    { name: "tmp", mountPath: "/tmp" },
];

/** The volumes behind SCRIPT_VOLUME_MOUNTS: the scripts ConfigMap and `scratch` of memory-backed /tmp. */
export function scriptVolumes(scriptsConfigMapName: pulumi.Input<string>, scratch: string) {
    return [
        { name: "scripts", configMap: { name: scriptsConfigMapName, defaultMode: 0o555 } },
        // Scratch in memory: GNUPGHOME, fifos, small encrypted exports; never a full-size dump.
        { name: "tmp", emptyDir: { medium: "Memory", sizeLimit: scratch } },
    ];
}

/** One script of scripts/ run once in the backup image, hardened, as the given ServiceAccount. */
export interface ScriptPod {
    serviceAccountName: pulumi.Input<string>;
    /** The script calls the Kubernetes API (kubectl): the pod gets the ServiceAccount token. */
    kubernetesApi: boolean;
    /** Seconds the script has after SIGTERM to clean up; the Kubernetes default when unset. */
    terminationGracePeriodSeconds?: number;
    container: string;
    image: string;
    script: string;
    /** The script's environment; HOME and TMPDIR (the scratch /tmp) are added. */
    env: k8sInput.core.v1.EnvVar[];
    resources: ContainerResources;
    scriptsConfigMapName: pulumi.Input<string>;
    /** Size limit of the /tmp emptyDir. */
    scratch: string;
    /** More volumes, and their read-only mounts in the container (the backup jobs' public keys). */
    extraVolumes?: k8sInput.core.v1.Volume[];
    extraVolumeMounts?: k8sInput.core.v1.VolumeMount[];
}

export function scriptPodSpec(pod: ScriptPod): k8sInput.core.v1.PodSpec {
    return {
        serviceAccountName: pod.serviceAccountName,
        automountServiceAccountToken: pod.kubernetesApi,
        restartPolicy: "Never",
        ...(pod.terminationGracePeriodSeconds === undefined ? {} : { terminationGracePeriodSeconds: pod.terminationGracePeriodSeconds }),
        securityContext: POD_SECURITY,
        containers: [{
            name: pod.container,
            image: pod.image,
            imagePullPolicy: "IfNotPresent",
            command: ["bash", `${SCRIPTS_MOUNT}/${pod.script}`],
            env: [...pod.env, ...envVars({ HOME: "/tmp", TMPDIR: "/tmp" })],
            resources: pod.resources,
            securityContext: CONTAINER_SECURITY,
            volumeMounts: [...SCRIPT_VOLUME_MOUNTS, ...(pod.extraVolumeMounts ?? [])],
        }],
        volumes: [...scriptVolumes(pod.scriptsConfigMapName, pod.scratch), ...(pod.extraVolumes ?? [])],
    };
}
