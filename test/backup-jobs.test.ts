/**
 * components/backup-jobs.ts under Pulumi mocks, in-process: the component is constructed directly (not
 * through index.ts) and every resource it registers is collected from the mocks. The CronJobs, the
 * ServiceAccount, the RBAC objects and the scripts ConfigMap are validated against the Kubernetes schema
 * with kubernetes-models, and the CronJobs pass the policy pack's Kubernetes policies.
 *
 * setMocks is process-global: this file sets its own mocks in `before` and relies on no other file.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { CronJob } from "kubernetes-models/batch/v1/CronJob";
import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import { ServiceAccount } from "kubernetes-models/v1/ServiceAccount";
import { Role } from "kubernetes-models/rbac.authorization.k8s.io/v1/Role";
import { RoleBinding } from "kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding";
import type { BackupJobs as BackupJobsType, BackupJobsArgs } from "../components/backup-jobs";
import { DEFAULT_JOB_RESOURCES, DEFAULT_SCHEDULES } from "../lib/config";
import { kubernetesPolicies } from "../policy/kubernetes";
import { runResourcePolicy } from "./policy/helpers";

interface Registered {
    type: string;
    name: string;
    inputs: any;
    provider?: string;
    custom?: boolean;
}

const ACCOUNT = "123456789012";
const JOBS = ["db-backup", "client-config-export", "secrets-export", "app-config-export", "restore-verification"];
const DATA_CLASS: Record<string, string> = {
    "db-backup": "database",
    "client-config-export": "clients",
    "secrets-export": "secrets",
    "app-config-export": "config",
    "restore-verification": "verification",
};
const BUCKET_ARN = "arn:aws:s3:::oauth2-backups-prod";
const SECRETS = {
    jwkPrivateKey: `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:oauth2/jwk-private-key-AbCdEf`,
    dbCredentials: `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:oauth2/db-credentials-GhIjKl`,
    backupPassphrase: `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:oauth2/backup-passphrase-MnOpQr`,
};
const KMS = [`arn:aws:kms:us-east-1:${ACCOUNT}:key/1111`, `arn:aws:kms:us-east-1:${ACCOUNT}:key/2222`];
const OIDC_URL = "oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE";

function args(overrides: Partial<BackupJobsArgs> = {}, jobs: Partial<BackupJobsArgs["jobs"]> = {}): BackupJobsArgs {
    return {
        jobs: {
            image: "ghcr.io/oauth2-dr/backup:1.0.0",
            schedules: { ...DEFAULT_SCHEDULES },
            resources: DEFAULT_JOB_RESOURCES,
            oidcProviderArn: `arn:aws:iam::${ACCOUNT}:oidc-provider/${OIDC_URL}`,
            oidcProviderUrl: OIDC_URL,
            ...jobs,
        },
        role: "primary",
        region: "us-east-1",
        backupWindow: "03:00-04:00",
        bucketName: "oauth2-backups-prod",
        bucketArn: BUCKET_ARN,
        kmsKeyArns: KMS,
        secretArns: SECRETS,
        databaseHost: "oauth2-postgres.abc.us-east-1.rds.amazonaws.com",
        databaseName: "oauth2db",
        dbInstanceIdentifier: "oauth2-postgres",
        tags: { owner: "platform-team" },
        ...overrides,
    };
}

describe("BackupJobs component (Pulumi mocks, kubernetes-models)", function () {
    this.timeout(60_000);
    let registered: Registered[] = [];
    let BackupJobs: typeof BackupJobsType;

    before(async function () {
        await pulumi.runtime.setMocks({
            newResource(a) {
                registered.push({ type: a.type, name: a.name, inputs: a.inputs, provider: a.provider, custom: a.custom });
                const state: Record<string, unknown> = { ...a.inputs };
                if (a.type === "aws:iam/role:Role") {
                    state.arn = `arn:aws:iam::${ACCOUNT}:role/${a.name}`;
                    state.name = a.name;
                }
                return { id: `${a.name}-id`, state };
            },
            call(a) {
                throw new Error(`unexpected invoke ${a.token}: the component must not call data sources`);
            },
        }, "oauth2-dr", "test", false);
        ({ BackupJobs } = await import("../components/backup-jobs"));
    });

    /** Constructs the component and waits until the mocks have seen every resource it registers. */
    async function declare(name: string, a: BackupJobsArgs): Promise<Registered[]> {
        registered = [];
        const component = new BackupJobs(name, a);
        await new Promise<void>((resolve) => pulumi.all([pulumi.all(Object.values(component.roleArns)), component.cronJobNames, pulumi.all(Object.values(component.serviceAccountNames))]).apply(() => resolve()));
        let last = -1;
        while (last !== registered.length) {
            last = registered.length;
            await new Promise((r) => setTimeout(r, 50));
        }
        return registered;
    }

    const cronJobs = (rs: Registered[]) => rs.filter((r) => r.type === "kubernetes:batch/v1:CronJob");
    const one = (rs: Registered[], type: string) => {
        const found = rs.filter((r) => r.type === type);
        assert.equal(found.length, 1, `${type}: ${found.length}`);
        return found[0];
    };

    describe("a primary stack", function () {
        let rs: Registered[];
        before(async function () {
            rs = await declare("backup", args());
        });

        it("registers the component with its type token, and the five CronJobs in oauth2-system", function () {
            assert.ok(rs.some((r) => r.type === "oauth2-dr:kubernetes:BackupJobs" && r.name === "backup"));
            assert.deepEqual(cronJobs(rs).map((c) => c.inputs.metadata.name).sort(), [...JOBS].sort());
            for (const r of rs.filter((x) => x.type.startsWith("kubernetes:"))) {
                assert.equal(r.inputs.metadata.namespace, "oauth2-system", `${r.type} ${r.name}`);
            }
            assert.equal(rs.filter((r) => r.type === "kubernetes:core/v1:Namespace").length, 0, "the namespace belongs to the application");
            assert.equal(rs.filter((r) => r.type === "pulumi:providers:kubernetes").length, 0, "no kubeconfig: the ambient provider");
        });

        it("every CronJob has its labels, Forbid, deadlines, limits, history, and a hardened non-root pod", function () {
            for (const c of cronJobs(rs)) {
                const job = c.inputs.metadata.name as string;
                const spec = c.inputs.spec;
                const labels = c.inputs.metadata.labels;
                assert.equal(labels["oauth2-dr/backup"], "true", job);
                assert.equal(labels["oauth2-dr/data-class"], DATA_CLASS[job], job);
                assert.equal(labels["app.kubernetes.io/component"], "backup", job);
                assert.equal(spec.jobTemplate.spec.template.metadata.labels["oauth2-dr/data-class"], DATA_CLASS[job]);
                assert.equal(spec.concurrencyPolicy, "Forbid", job);
                assert.equal(spec.suspend, false, job);
                assert.ok(spec.startingDeadlineSeconds > 0, job);
                assert.ok(spec.jobTemplate.spec.activeDeadlineSeconds > 0, job);
                assert.ok(spec.jobTemplate.spec.backoffLimit >= 0, job);
                assert.ok(spec.successfulJobsHistoryLimit > 0 && spec.failedJobsHistoryLimit > 0, job);
                const pod = spec.jobTemplate.spec.template.spec;
                assert.equal(pod.restartPolicy, "Never");
                assert.equal(pod.serviceAccountName, `oauth2-dr-${job}`, "each job runs as its own ServiceAccount");
                assert.deepEqual(pod.securityContext, { runAsNonRoot: true, runAsUser: 10001, runAsGroup: 10001, fsGroup: 10001, seccompProfile: { type: "RuntimeDefault" } });
                assert.equal(pod.containers.length, 1);
                const container = pod.containers[0];
                assert.equal(container.image, "ghcr.io/oauth2-dr/backup:1.0.0");
                assert.deepEqual(container.command, ["bash", `/opt/oauth2-dr/scripts/${job}.sh`]);
                assert.ok(fs.existsSync(path.join(__dirname, "..", "scripts", `${job}.sh`)), `scripts/${job}.sh`);
                for (const k of ["requests", "limits"]) {
                    assert.ok(container.resources[k].cpu && container.resources[k].memory, `${job} ${k}`);
                }
                assert.deepEqual(container.securityContext, {
                    runAsNonRoot: true,
                    runAsUser: 10001,
                    runAsGroup: 10001,
                    readOnlyRootFilesystem: true,
                    allowPrivilegeEscalation: false,
                    privileged: false,
                    capabilities: { drop: ["ALL"] },
                    seccompProfile: { type: "RuntimeDefault" },
                });
                const volumes = Object.fromEntries(pod.volumes.map((v: any) => [v.name, v]));
                assert.equal(volumes.scripts.configMap.name, "oauth2-dr-backup-scripts");
                assert.ok(volumes.tmp.emptyDir, "an emptyDir for /tmp");
                assert.deepEqual(container.volumeMounts.map((m: any) => m.mountPath).sort(), ["/opt/oauth2-dr/scripts", "/tmp"]);
                const env = Object.fromEntries(container.env.map((e: any) => [e.name, e.value]));
                assert.equal(env.BUCKET, "oauth2-backups-prod", job);
                assert.equal(env.AWS_REGION, "us-east-1", job);
                assert.equal(env.TMPDIR, "/tmp");
                if (job !== "app-config-export") {
                    assert.equal(env.BACKUP_PASSPHRASE_SECRET_ID, SECRETS.backupPassphrase, job);
                }
                // Only the jobs that call kubectl get an API token.
                assert.equal(pod.automountServiceAccountToken, job === "secrets-export" || job === "app-config-export", job);
            }
        });

        it("takes the schedules from the configuration, and the jobs' environment names the secrets and database", function () {
            const by = Object.fromEntries(cronJobs(rs).map((c) => [c.inputs.metadata.name, c.inputs]));
            assert.equal(by["db-backup"].spec.schedule, DEFAULT_SCHEDULES.dbBackup);
            assert.equal(by["client-config-export"].spec.schedule, DEFAULT_SCHEDULES.clientConfigExport);
            assert.equal(by["secrets-export"].spec.schedule, DEFAULT_SCHEDULES.secretsExport);
            assert.equal(by["app-config-export"].spec.schedule, DEFAULT_SCHEDULES.appConfigExport);
            assert.equal(by["restore-verification"].spec.schedule, DEFAULT_SCHEDULES.restoreVerification);
            const env = (job: string) => Object.fromEntries(by[job].spec.jobTemplate.spec.template.spec.containers[0].env.map((e: any) => [e.name, e.value]));
            assert.equal(env("db-backup").PGHOST, "oauth2-postgres.abc.us-east-1.rds.amazonaws.com");
            assert.equal(env("db-backup").PGDATABASE, "oauth2db");
            assert.equal(env("db-backup").PGSSLMODE, "require");
            assert.equal(env("db-backup").DB_CREDENTIALS_SECRET_ID, SECRETS.dbCredentials);
            assert.equal(env("secrets-export").JWK_SECRET_ID, SECRETS.jwkPrivateKey);
            assert.equal(env("secrets-export").JWKS_URL, "http://oauth2-server:9000/oauth2/jwks");
            assert.equal(env("restore-verification").VERIFY_MODE, "dump");
            assert.equal(env("restore-verification").DB_INSTANCE_IDENTIFIER, "oauth2-postgres");
        });

        it("every CronJob, the ServiceAccount, Role, RoleBinding and ConfigMap validate against the Kubernetes schema", function () {
            const models: Record<string, (o: any) => { validate(): void }> = {
                "kubernetes:batch/v1:CronJob": (o) => new CronJob(o),
                "kubernetes:core/v1:ServiceAccount": (o) => new ServiceAccount(o),
                "kubernetes:core/v1:ConfigMap": (o) => new ConfigMap(o),
                "kubernetes:rbac.authorization.k8s.io/v1:Role": (o) => new Role(o),
                "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding": (o) => new RoleBinding(o),
            };
            let validated = 0;
            for (const r of rs.filter((x) => x.type.startsWith("kubernetes:"))) {
                const model = models[r.type];
                assert.ok(model, `no schema check for ${r.type}`);
                assert.doesNotThrow(() => model(r.inputs).validate(), `${r.type} ${r.name}`);
                validated++;
            }
            // Five CronJobs, five ServiceAccounts, two Roles and their RoleBindings, the ConfigMap.
            assert.equal(validated, 5 + 5 + 2 + 2 + 1);
        });

        it("the schema check can fail (a CronJob with a bad concurrencyPolicy is rejected)", function () {
            const bad = JSON.parse(JSON.stringify(cronJobs(rs)[0].inputs));
            bad.spec.concurrencyPolicy = "Sometimes";
            bad.spec.jobTemplate.spec.template.spec.containers[0].resources.limits.memory = { gigabytes: 1 };
            assert.throws(() => new CronJob(bad).validate());
        });

        it("the CronJobs pass the policy pack's Kubernetes policies", async function () {
            for (const c of cronJobs(rs)) {
                for (const policy of kubernetesPolicies) {
                    const violations = await runResourcePolicy(policy, { type: "kubernetes:batch/v1:CronJob", props: c.inputs, name: c.inputs.metadata.name });
                    assert.deepEqual(violations, [], `${policy.name} on ${c.inputs.metadata.name}`);
                }
            }
        });

        /** Each job's IAM role (by the tag the component gives it) and its policy's statements. */
        const roleOf = (job: string) => {
            const role = rs.find((r) => r.type === "aws:iam/role:Role" && r.inputs.tags["oauth2-dr/job"] === job)!;
            assert.ok(role, `no role for ${job}`);
            const policy = rs.find((r) => r.type === "aws:iam/rolePolicy:RolePolicy" && r.name === `${role.name}-policy`)!;
            return { role, statements: JSON.parse(policy.inputs.policy).Statement as any[] };
        };
        const actionsOf = (statements: any[]) => statements.flatMap((st) => [st.Action].flat()).sort();
        const resources = (x: any) => [x.Resource].flat();

        it("each job's ServiceAccount assumes its own IRSA role, trusted only for itself", function () {
            assert.equal(rs.filter((r) => r.type === "aws:iam/role:Role").length, JOBS.length, "one role per CronJob");
            for (const job of JOBS) {
                const { role } = roleOf(job);
                const sa = rs.find((r) => r.type === "kubernetes:core/v1:ServiceAccount" && r.inputs.metadata.name === `oauth2-dr-${job}`)!;
                assert.ok(sa, job);
                assert.equal(sa.inputs.metadata.annotations["eks.amazonaws.com/role-arn"], `arn:aws:iam::${ACCOUNT}:role/${role.name}`);
                const trust = JSON.parse(role.inputs.assumeRolePolicy);
                assert.equal(trust.Statement.length, 1);
                const st = trust.Statement[0];
                assert.equal(st.Action, "sts:AssumeRoleWithWebIdentity");
                assert.deepEqual(st.Principal, { Federated: `arn:aws:iam::${ACCOUNT}:oidc-provider/${OIDC_URL}` });
                assert.deepEqual(st.Condition, {
                    StringEquals: {
                        [`${OIDC_URL}:sub`]: `system:serviceaccount:oauth2-system:oauth2-dr-${job}`,
                        [`${OIDC_URL}:aud`]: "sts.amazonaws.com",
                    },
                });
                assert.equal(role.inputs.tags.owner, "platform-team");
            }
        });

        it("no role may delete a version, bypass retention or change the bucket; every grant is scoped", function () {
            for (const job of JOBS) {
                const { statements } = roleOf(job);
                for (const st of statements) {
                    assert.equal(st.Effect, "Allow");
                    assert.ok(!resources(st).includes("*"), `${job} ${st.Sid} on *`);
                    assert.ok([st.Action].flat().every((a: string) => !a.includes("*")), `${job} ${st.Sid}: wildcard action`);
                }
                for (const action of actionsOf(statements)) {
                    assert.ok(!/^s3:(DeleteObjectVersion|BypassGovernanceRetention|PutBucket|PutLifecycle|PutReplication|PutEncryption|DeleteBucket)/.test(action), `${job} grants ${action}`);
                    assert.ok(!/^(secretsmanager:(Delete|Put|Remove)|kms:(ScheduleKeyDeletion|DisableKey|PutKeyPolicy))/.test(action), `${job} grants ${action}`);
                }
            }
        });

        it("writers: their own prefix, the secrets they use; only db-backup hides failed dumps", function () {
            const own: Record<string, { prefix: string; secrets: string[] }> = {
                "db-backup": { prefix: "database/", secrets: [SECRETS.dbCredentials, SECRETS.backupPassphrase] },
                "client-config-export": { prefix: "clients/", secrets: [SECRETS.dbCredentials, SECRETS.backupPassphrase] },
                "secrets-export": { prefix: "secrets/", secrets: [SECRETS.jwkPrivateKey, SECRETS.backupPassphrase] },
                "app-config-export": { prefix: "config/", secrets: [] },
            };
            for (const [job, { prefix, secrets }] of Object.entries(own)) {
                const { statements } = roleOf(job);
                const sid = (s: string) => statements.find((x) => x.Sid === s);
                assert.deepEqual(resources(sid("WriteOwnPrefix")), [`${BUCKET_ARN}/${prefix}*`], job);
                assert.deepEqual(sid("WriteOwnPrefix").Action.sort(), ["s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject", "s3:PutObjectRetention"], job);
                assert.deepEqual(sid("ReadNamedSecrets") ? resources(sid("ReadNamedSecrets")).sort() : [], secrets.sort(), job);
                assert.deepEqual(sid("UseBackupKeys").Action.sort(), ["kms:Decrypt", "kms:GenerateDataKey"], job);
                assert.deepEqual(resources(sid("UseBackupKeys")), KMS, job);
                assert.equal(actionsOf(statements).some((a) => a.startsWith("rds:")), false, `${job} touches RDS`);
                assert.equal(actionsOf(statements).includes("s3:DeleteObject"), job === "db-backup", job);
            }
            assert.deepEqual(resources(roleOf("db-backup").statements.find((x) => x.Sid === "HideFailedDumps")), [`${BUCKET_ARN}/database/*`]);
        });

        it("restore-verification: reads dumps, restores and deletes oauth2-backup-test-* instances only, writes only its records", function () {
            const { statements } = roleOf("restore-verification");
            const sid = (s: string) => statements.find((x) => x.Sid === s);
            assert.deepEqual(actionsOf(statements).filter((a) => a.startsWith("s3:")).sort(), ["s3:GetObject", "s3:ListBucket", "s3:ListBucketVersions", "s3:PutObject", "s3:PutObjectRetention"]);
            // ListObjectVersions (s3:ListBucketVersions), for the newest manifest hidden by a delete marker, under its own prefix only.
            assert.deepEqual(sid("ListOwnPrefix").Condition, { StringLike: { "s3:prefix": ["database/", "database/*"] } });
            assert.deepEqual(resources(sid("ReadDumps")), [`${BUCKET_ARN}/database/*`]);
            // scripts/restore-verification.sh write_verification_record: database/verifications/ only, never a dump or manifest.
            assert.deepEqual(resources(sid("WriteVerificationRecords")), [`${BUCKET_ARN}/database/verifications/*`]);
            for (const st of statements.filter((x) => x.Sid !== "WriteVerificationRecords")) {
                assert.ok(![st.Action].flat().includes("s3:PutObject"), `${st.Sid} grants s3:PutObject`);
            }
            assert.deepEqual(sid("UseBackupKeys").Action.sort(), ["kms:Decrypt", "kms:GenerateDataKey"]);
            const rds = sid("VerificationInstancesOnly");
            assert.deepEqual(rds.Action.sort(), ["rds:AddTagsToResource", "rds:DeleteDBInstance", "rds:DescribeDBInstances", "rds:RestoreDBInstanceFromDBSnapshot"]);
            assert.equal(rds.Resource, "arn:aws:rds:us-east-1:*:db:oauth2-backup-test-*");
            // Deleting and tagging instances is allowed nowhere else.
            for (const st of statements.filter((x) => x !== rds)) {
                for (const action of ["rds:DeleteDBInstance", "rds:AddTagsToResource"]) {
                    assert.ok(![st.Action].flat().includes(action), `${st.Sid} grants ${action}`);
                }
                if ([st.Action].flat().some((a: string) => a.startsWith("rds:"))) {
                    assert.ok(resources(st).every((r: string) => !/:db:(?!oauth2-postgres$)/.test(r)), `${st.Sid}: ${resources(st)}`);
                }
            }
        });

        it("RBAC: secrets-export reads the one server secret, app-config-export lists ConfigMaps, nothing more", function () {
            const roles = rs.filter((r) => r.type === "kubernetes:rbac.authorization.k8s.io/v1:Role");
            const bindings = rs.filter((r) => r.type === "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding");
            assert.deepEqual(roles.map((r) => r.inputs.metadata.name).sort(), ["oauth2-dr-app-config-export", "oauth2-dr-secrets-export"]);
            const rulesOf = (name: string) => roles.find((r) => r.inputs.metadata.name === name)!.inputs.rules;
            assert.deepEqual(rulesOf("oauth2-dr-secrets-export"), [{ apiGroups: [""], resources: ["secrets"], resourceNames: ["oauth2-server-secrets"], verbs: ["get"] }]);
            assert.deepEqual(rulesOf("oauth2-dr-app-config-export"), [{ apiGroups: [""], resources: ["configmaps"], verbs: ["list"] }]);
            for (const binding of bindings) {
                assert.deepEqual(binding.inputs.subjects, [{ kind: "ServiceAccount", name: binding.inputs.metadata.name, namespace: "oauth2-system" }]);
                assert.equal(binding.inputs.roleRef.name, binding.inputs.metadata.name);
            }
        });

        it("the scripts ConfigMap holds every scripts/*.sh and lib.sh's aws-helper.py and restore-pipe.py as they are on disk", function () {
            const cm = one(rs, "kubernetes:core/v1:ConfigMap");
            const dir = path.join(__dirname, "..", "scripts");
            const files = [...fs.readdirSync(dir).filter((f) => f.endsWith(".sh")), "aws-helper.py", "restore-pipe.py"].sort();
            assert.deepEqual(Object.keys(cm.inputs.data).sort(), files);
            for (const f of files) {
                assert.equal(cm.inputs.data[f], fs.readFileSync(path.join(dir, f), "utf8"), f);
            }
        });
    });

    it("images/backup/Dockerfile builds the jobs' image: PostgreSQL 15 client, AWS CLI, gpg, kubectl, the jobs' non-root UID", function () {
        const dockerfile = fs.readFileSync(path.join(__dirname, "..", "images", "backup", "Dockerfile"), "utf8");
        for (const pkg of ["postgresql-client-15", "awscli", "python3-botocore", "python3-s3transfer", "zstd", "gnupg", "bash", "coreutils", "curl", "jq", "procps", "kubectl"]) {
            assert.match(dockerfile, new RegExp(`\\b${pkg}\\b`), pkg);
        }
        assert.match(dockerfile, /^USER 10001:10001$/m);
        assert.match(dockerfile, /useradd --uid 10001/);
        assert.match(dockerfile, /^COPY --chmod=0555 scripts\/ \/opt\/oauth2-dr\/scripts\/$/m);
    });

    describe("roles", function () {
        const suspended = (rs: Registered[]) => Object.fromEntries(cronJobs(rs).map((c) => [c.inputs.metadata.name, c.inputs.spec.suspend]));
        const verifyMode = (rs: Registered[]) =>
            cronJobs(rs).find((c) => c.inputs.metadata.name === "restore-verification")!.inputs.spec.jobTemplate.spec.template.spec.containers[0].env.find((e: any) => e.name === "VERIFY_MODE").value;

        it("standby: the four backup/export jobs are declared suspended; restore verification runs (snapshot mode)", async function () {
            const rs = await declare("standby", args({ role: "standby", region: "us-west-2" }));
            assert.deepEqual(suspended(rs), {
                "db-backup": true,
                "client-config-export": true,
                "secrets-export": true,
                "app-config-export": true,
                "restore-verification": false,
            });
            assert.equal(verifyMode(rs), "snapshot");
            const role = rs.find((r) => r.type === "aws:iam/role:Role" && r.inputs.tags["oauth2-dr/job"] === "restore-verification")!;
            const policy = JSON.parse(rs.find((r) => r.type === "aws:iam/rolePolicy:RolePolicy" && r.name === `${role.name}-policy`)!.inputs.policy);
            assert.equal(policy.Statement.find((s: any) => s.Sid === "VerificationInstancesOnly").Resource, "arn:aws:rds:us-west-2:*:db:oauth2-backup-test-*");
        });

        it("objectLock: each writer gets its data class's retention (OBJECT_LOCK_*), the verification's records the database's", async function () {
            const retainDays = { database: 30, clients: 90, config: 90, audit: 365, secrets: 630 };
            const rs = await declare("locked", args({ objectLock: { mode: "COMPLIANCE", retainDays } }));
            const envOf = (job: string) => Object.fromEntries(
                cronJobs(rs).find((c) => c.inputs.metadata.name === job)!.inputs.spec.jobTemplate.spec.template.spec.containers[0].env.map((e: any) => [e.name, e.value]),
            );
            for (const [job, days] of [["db-backup", "30"], ["client-config-export", "90"], ["secrets-export", "630"], ["app-config-export", "90"], ["restore-verification", "30"]]) {
                assert.equal(envOf(job).OBJECT_LOCK_MODE, "COMPLIANCE", job);
                assert.equal(envOf(job).OBJECT_LOCK_RETAIN_DAYS, days, job);
            }
        });

        it("public-key encryption: writers mount the keys ConfigMap and get BACKUP_GPG_*, no passphrase; the verification assumes the vault's key reader; all validate and pass the Kubernetes policies", async function () {
            const vaultRole = "arn:aws:iam::210987654321:role/oauth2-dr-verification-keys";
            const rs = await declare("pk", args({
                encryption: {
                    mode: "public-key",
                    publicKeys: "-----BEGIN PGP PUBLIC KEY BLOCK-----\n...\n-----END PGP PUBLIC KEY BLOCK-----\n",
                    fingerprints: ["BEF9278C34B47F49FD8082FF62827601414345DF", "EBE509DAD191BBD12C9CAE5165FF7260C90AE7C2"],
                    privateKeys: { secretArn: "arn:aws:secretsmanager:us-east-1:210987654321:secret:oauth2-dr/backup-private-keys-AbCdEf", region: "us-east-1", roleArn: vaultRole },
                },
                verificationRoleName: "oauth2-dr-verification-prod",
            }));
            const keys = rs.filter((r) => r.type === "kubernetes:core/v1:ConfigMap" && r.inputs.metadata.name === "oauth2-dr-backup-public-keys");
            assert.equal(keys.length, 1);
            assert.doesNotThrow(() => new ConfigMap(keys[0].inputs).validate());
            for (const c of cronJobs(rs)) {
                const job = c.inputs.metadata.name as string;
                const pod = c.inputs.spec.jobTemplate.spec.template.spec;
                const env = Object.fromEntries(pod.containers[0].env.map((e: any) => [e.name, e.value]));
                const mounted = pod.containers[0].volumeMounts.some((m: any) => m.name === "public-keys" && m.readOnly === true && m.mountPath === "/etc/oauth2-dr/gpg");
                assert.equal(env.BACKUP_PASSPHRASE_SECRET_ID, undefined, job);
                if (job === "restore-verification") {
                    assert.equal(mounted, false);
                    assert.deepEqual([env.RESTORE_PRIVATE_KEYS_SECRET_ID, env.RESTORE_PRIVATE_KEYS_REGION, env.RESTORE_PRIVATE_KEYS_ROLE_ARN], ["arn:aws:secretsmanager:us-east-1:210987654321:secret:oauth2-dr/backup-private-keys-AbCdEf", "us-east-1", vaultRole]);
                } else {
                    assert.ok(mounted, job);
                    assert.equal(env.BACKUP_GPG_PUBLIC_KEYS_FILE, "/etc/oauth2-dr/gpg/backup-public-keys.asc", job);
                    assert.equal(env.BACKUP_GPG_RECIPIENTS, "BEF9278C34B47F49FD8082FF62827601414345DF EBE509DAD191BBD12C9CAE5165FF7260C90AE7C2", job);
                }
                assert.doesNotThrow(() => new CronJob(c.inputs).validate(), job);
                for (const policy of kubernetesPolicies) {
                    assert.deepEqual(await runResourcePolicy(policy, { type: "kubernetes:batch/v1:CronJob", props: c.inputs, name: job }), [], `${policy.name} on ${job}`);
                }
            }
            const policies = rs.filter((r) => r.type === "aws:iam/rolePolicy:RolePolicy").map((r) => r.inputs.policy as string);
            assert.ok(policies.every((p) => !p.includes("backup-passphrase")), "no role reads the passphrase");
            const verification = rs.find((r) => r.type === "aws:iam/role:Role" && r.inputs.tags["oauth2-dr/job"] === "restore-verification")!;
            assert.equal(verification.inputs.name, "oauth2-dr-verification-prod");
            const statements = JSON.parse(rs.find((r) => r.type === "aws:iam/rolePolicy:RolePolicy" && r.name === `${verification.name}-policy`)!.inputs.policy).Statement;
            assert.deepEqual(statements.filter((st: any) => st.Action === "sts:AssumeRole"), [{ Sid: "AssumeVaultKeyReader", Effect: "Allow", Action: "sts:AssumeRole", Resource: vaultRole }]);
        });

        it("standby promoted: nothing is suspended, verification restores dumps", async function () {
            const rs = await declare("promoted", args({ role: "standby", promoted: true }));
            assert.ok(Object.values(suspended(rs)).every((s) => s === false));
            assert.equal(verifyMode(rs), "dump");
        });

        it("a kubeconfig gives the resources their own Kubernetes provider", async function () {
            const rs = await declare("kube", args({}, { kubeconfig: "apiVersion: v1\nkind: Config\n" }));
            const provider = one(rs, "pulumi:providers:kubernetes");
            // A secret: the kubeconfig may hold the cluster's credentials (config-trial-h39).
            assert.deepEqual(provider.inputs.kubeconfig, { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", value: "apiVersion: v1\nkind: Config\n" });
            for (const c of cronJobs(rs)) {
                assert.match(c.provider ?? "", /pulumi:providers:kubernetes::kube-cluster::/);
            }
        });
    });

    describe("validation, before anything is declared", function () {
        async function rejects(a: BackupJobsArgs, pattern: RegExp): Promise<void> {
            registered = [];
            assert.throws(() => new BackupJobs("invalid", a), pattern);
            await new Promise((r) => setTimeout(r, 50));
            assert.deepEqual(registered.map((r) => r.type), []);
        }

        it("a db-backup schedule inside the RDS backup window", async function () {
            await rejects(args({}, { schedules: { ...DEFAULT_SCHEDULES, dbBackup: "30 3 * * *" } }),
                /backupJobs\.schedules\.dbBackup "30 3 \* \* \*" runs at 03:30 UTC, inside the RDS backup window 03:00-04:00/);
        });

        it("a window across midnight, and a schedule that runs too often to avoid the window", async function () {
            await rejects(args({ backupWindow: "23:30-00:30" }, { schedules: { ...DEFAULT_SCHEDULES, dbBackup: "0 0 * * *" } }), /runs at 00:00 UTC, inside the RDS backup window 23:30-00:30/);
            await rejects(args({}, { schedules: { ...DEFAULT_SCHEDULES, dbBackup: "*/20 * * * *" } }), /runs at 03:00 UTC, inside/);
        });

        it("a db-backup schedule of @every: its runs are at no clock time, so it cannot be kept out of the RDS backup window (h37)", async function () {
            await rejects(args({}, { schedules: { ...DEFAULT_SCHEDULES, dbBackup: "@every 24h" } }),
                /backupJobs\.schedules\.dbBackup "@every 24h" runs every 24h counted from the CronJob's creation, then from its last scheduled run, not at clock times, so it cannot be kept out of the RDS backup window 03:00-04:00; write a cron expression that runs after the window ends/);
            // The other jobs need no clock time: an @every export is declared as written.
            const rs = await declare("every-export", args({}, { schedules: { ...DEFAULT_SCHEDULES, clientConfigExport: "@every 15m" } }));
            assert.equal(cronJobs(rs).find((c) => c.inputs.metadata.name === "client-config-export")!.inputs.spec.schedule, "@every 15m");
        });

        it("accepts a schedule at the window's end", async function () {
            const rs = await declare("at-end", args({}, { schedules: { ...DEFAULT_SCHEDULES, dbBackup: "0 4 * * *" } }));
            assert.equal(cronJobs(rs).find((c) => c.inputs.metadata.name === "db-backup")!.inputs.spec.schedule, "0 4 * * *");
        });

        it("bad window, cron, image, OIDC provider, region and role, all reported at once", async function () {
            await rejects(
                args({ backupWindow: "3-4", region: "useast1", promoted: true }, { image: "", oidcProviderArn: "nope", schedules: { ...DEFAULT_SCHEDULES, secretsExport: "every day" } }),
                /image ""[\s\S]*promoted applies to a standby[\s\S]*region "useast1"[\s\S]*oidcProviderArn "nope"[\s\S]*secretsExport[\s\S]*backupWindow "3-4"/,
            );
        });

        it("a server namespace that is not a Kubernetes name", async function () {
            await rejects(args({ serverNamespace: "Identity" }), /serverNamespace "Identity" is not a Kubernetes namespace name/);
            await rejects(args({ serverNamespace: "" }), /serverNamespace "" is not a Kubernetes namespace name/);
        });
    });
});
