/**
 * The validation as declared work: the suspended `service-validation` CronJob in oauth2-system on both aws
 * stacks (hardened like the backup CronJobs, IRSA limited to what validate-service.sh reads), the smoke-test
 * client's secret in Secrets Manager with its DR replica, and on promotion the server's rollout onto the new
 * DATABASE_URL (checksum annotation) followed by a validation Job that Pulumi awaits.
 */
import { strict as assert } from "assert";
import { isSecret, PlanResult } from "offline-plan/model";
import { payloadChecksum } from "../../components/app-database-secret";
import { validateServiceValidationArgs, type ServiceValidationArgs } from "../../components/service-validation";
import { props, resource, resourcesOfType } from "../support/plans";
import { assertNotInPlainText, planFailover } from "../support/dr-plans";

const CRONJOB = "kubernetes:batch/v1:CronJob";
const JOB = "kubernetes:batch/v1:Job";
const PATCH = "kubernetes:apps/v1:DeploymentPatch";

function env(container: { env: { name: string; value: unknown }[] }): Record<string, unknown> {
    return Object.fromEntries(container.env.map((e) => [e.name, e.value]));
}

function policyOf(plan: PlanResult): { Sid: string; Action: string | string[]; Resource: unknown }[] {
    return JSON.parse(props(resource(plan, "aws:iam/rolePolicy:RolePolicy", "service-validation-irsa-policy")).policy).Statement;
}

describe("service validation: declared CronJob, smoke-test client, rollout and validation after promotion", () => {
    let prod: PlanResult;
    let dr: PlanResult;
    let promoted: PlanResult;
    before(async () => {
        ({ primary: prod, standby: dr, promoted } = await planFailover("prod", "dr"));
    });

    it("prod: a suspended, hardened CronJob running validate-service.sh against the public issuer and the primary", () => {
        const cron = props(resource(prod, CRONJOB, "service-validation-cronjob"));
        assert.equal(cron.metadata.namespace, "oauth2-system");
        assert.equal(cron.spec.suspend, true);
        assert.equal(cron.spec.concurrencyPolicy, "Forbid");
        const job = cron.spec.jobTemplate.spec;
        assert.ok(job.activeDeadlineSeconds > 0);
        const pod = job.template.spec;
        assert.equal(pod.automountServiceAccountToken, false);
        assert.equal(pod.securityContext.runAsNonRoot, true);
        const [container] = pod.containers;
        assert.deepEqual(container.command, ["bash", "/opt/oauth2-dr/scripts/validate-service.sh"]);
        const sc = container.securityContext;
        assert.deepEqual([sc.readOnlyRootFilesystem, sc.allowPrivilegeEscalation, sc.runAsNonRoot, sc.capabilities.drop], [true, false, true, ["ALL"]]);
        assert.ok(container.resources.limits.cpu && container.resources.limits.memory);
        const vars = env(container);
        assert.equal(vars.ISSUER, `https://${prod.config["oauth2-dr:domain"]}`);
        assert.equal(vars.PGHOST, prod.outputs.dbAddress);
        assert.equal(vars.SMOKE_CLIENT_SECRET_ID, prod.outputs.smokeTestClientSecretArn);
        assert.equal(vars.BUCKET, prod.outputs.backupBucketName);
        const scripts = props(resource(prod, "kubernetes:core/v1:ConfigMap", "backup-jobs-scripts"));
        assert.ok(scripts.data["validate-service.sh"].includes("key continuity"), "the scripts ConfigMap carries validate-service.sh");
        assert.equal(pod.volumes[0].configMap.name, scripts.metadata.name);
        assert.deepEqual(resourcesOfType(prod, JOB), [], "no Job runs by itself in prod");
    });

    it("prod: the IRSA role reads the smoke-test client, the database credentials and secrets/jwks.json only", () => {
        const statements = policyOf(prod);
        assert.deepEqual(statements.map((s) => [s.Sid, s.Action]), [
            ["ReadClientAndDatabaseSecrets", "secretsmanager:GetSecretValue"],
            ["ReadBackedUpJwks", "s3:GetObject"],
            ["DecryptSecrets", "kms:Decrypt"],
        ]);
        assert.deepEqual(statements[0].Resource, [prod.outputs.smokeTestClientSecretArn, (prod.outputs.secretArns as Record<string, string>).dbCredentials]);
        assert.equal(statements[1].Resource, `${prod.outputs.backupBucketArn}/secrets/jwks.json`);
        const trust = JSON.parse(props(resource(prod, "aws:iam/role:Role", "service-validation-irsa")).assumeRolePolicy);
        assert.match(Object.values(trust.Statement[0].Condition.StringEquals).join(" "), /system:serviceaccount:oauth2-system:oauth2-dr-validation/);
    });

    it("the smoke-test client's secret: customer-managed key, recovery window, DR replica, value secret", () => {
        const secret = props(resource(prod, "aws:secretsmanager/secret:Secret", "oauth2/smoke-test-client"));
        assert.ok(secret.kmsKeyId);
        assert.ok(secret.recoveryWindowInDays >= 7);
        assert.deepEqual(secret.replicas.map((r: { region: string }) => r.region), [prod.config["oauth2-dr:drRegion"]]);
        assert.equal(resource(prod, "aws:secretsmanager/secret:Secret", "oauth2/smoke-test-client").protect, true);
        const version = resource(prod, "aws:secretsmanager/secretVersion:SecretVersion", "smoke-test-client-version");
        assert.ok(isSecret(version.inputs.secretString), "the client secret is a Pulumi secret");
        const value = JSON.parse(props(version).secretString);
        assert.equal(value.client_id, "oauth2-dr-smoke-test");
        assertNotInPlainText(prod, value.client_secret);
    });

    it("dr before promotion: the CronJob reads the DR replica of the secret and validates against the replica; nothing runs", () => {
        const cron = props(resource(dr, CRONJOB, "service-validation-cronjob"));
        assert.equal(cron.spec.suspend, true);
        const vars = env(cron.spec.jobTemplate.spec.template.spec.containers[0]);
        const drRegion = dr.config["aws:region"];
        assert.equal(vars.SMOKE_CLIENT_SECRET_ID, String(prod.outputs.smokeTestClientSecretArn).replace(/secretsmanager:[a-z0-9-]+:/, `secretsmanager:${drRegion}:`));
        assert.equal(vars.AWS_REGION, drRegion);
        assert.equal(vars.PGHOST, dr.outputs.replicaAddress);
        assert.deepEqual(resourcesOfType(dr, JOB), []);
        assert.deepEqual(resourcesOfType(dr, PATCH), []);
    });

    it("promotion: the server's Deployment rolls onto the new Secret, then a validation Job runs after the rollout", () => {
        const patch = resource(promoted, PATCH, "app-database-rollout");
        const p = props(patch);
        assert.deepEqual([p.metadata.name, p.metadata.namespace], ["oauth2-server", "oauth2-system"]);
        const checksum = p.spec.template.metadata.annotations["oauth2-dr/database-secret-sha256"];
        assert.match(checksum, /^[0-9a-f]{64}$/);
        const secret = resource(promoted, "kubernetes:core/v1:Secret", "app-database");
        assert.equal(checksum, payloadChecksum(props(secret).stringData), "the annotation is the checksum of the Secret's payload");
        assert.ok(patch.dependencies.includes(secret.urn), "the rollout comes after the Secret");
        const job = resource(promoted, JOB, "service-validation-after-rollout");
        assert.ok(job.dependencies.includes(patch.urn), "the validation runs after the rollout");
        const spec = props(job).spec;
        assert.equal(env(spec.template.spec.containers[0]).PGHOST, promoted.outputs.replicaAddress);
        assert.equal(spec.ttlSecondsAfterFinished, undefined, "the awaited Job stays: it is state");
        assert.match(props(job).metadata.name, /^service-validation-[0-9a-f]{8}$/);
    });

    it("the checksum changes exactly when the payload does", () => {
        const payload = { DATABASE_URL: "jdbc:postgresql://a:5432/oauth2db", DATABASE_PASSWORD: "p" };
        assert.equal(payloadChecksum(payload), payloadChecksum({ DATABASE_PASSWORD: "p", DATABASE_URL: "jdbc:postgresql://a:5432/oauth2db" }));
        assert.notEqual(payloadChecksum(payload), payloadChecksum({ ...payload, DATABASE_URL: "jdbc:postgresql://b:5432/oauth2db" }));
        assert.notEqual(payloadChecksum(payload), payloadChecksum({ ...payload, DATABASE_PASSWORD: "q" }));
    });

    it("bad arguments: one error naming each problem, before anything is declared", () => {
        const args = { image: "bad image", issuer: "auth.example.com", oidcProviderArn: "nope", databaseName: "oauth2-db" } as ServiceValidationArgs;
        assert.throws(() => validateServiceValidationArgs(args), (err: Error) => {
            for (const needle of ['image "bad image"', 'issuer "auth.example.com"', 'oidcProviderArn "nope"', 'databaseName "oauth2-db"']) {
                assert.ok(err.message.includes(needle), `${needle} not in ${err.message}`);
            }
            return true;
        });
    });
});
