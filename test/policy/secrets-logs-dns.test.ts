import { strict as assert } from "assert";
import { secretsCriticalReplica, secretsKmsKey, secretsRecoveryWindow } from "../../policy/secrets";
import { auditLogKms, auditLogRetention } from "../../policy/logs";
import { route53FailoverHealthCheck } from "../../policy/dns";
import { runResourcePolicy, UNKNOWN } from "./helpers";

const SECRET = "aws:secretsmanager/secret:Secret";
const LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup";
const RECORD = "aws:route53/record:Record";

const secret = (overrides: Record<string, unknown> = {}, providerRegion = "us-east-1") => ({
    type: SECRET,
    name: "oauth2/jwk-private-key",
    providerRegion,
    props: { name: "oauth2/jwk-private-key", kmsKeyId: "arn:aws:kms:us-east-1:1:key/k", recoveryWindowInDays: 30, replicas: [{ region: "us-west-2", kmsKeyId: "arn:aws:kms:us-west-2:1:key/d" }], ...overrides },
});

describe("policy: Secrets Manager", () => {
    it("a compliant secret passes", async () => {
        for (const policy of [secretsKmsKey, secretsRecoveryWindow, secretsCriticalReplica]) {
            assert.deepEqual(await runResourcePolicy(policy, secret()), [], policy.name);
        }
    });

    it("secretsmanager-customer-managed-key: unset or the AWS managed key", async () => {
        assert.deepEqual(await runResourcePolicy(secretsKmsKey, secret({ kmsKeyId: undefined })), [
            "oauth2/jwk-private-key: kmsKeyId is not set; the runbook requires a customer-managed KMS key",
        ]);
        assert.equal((await runResourcePolicy(secretsKmsKey, secret({ kmsKeyId: "alias/aws/secretsmanager" }))).length, 1);
    });

    it("secretsmanager-recovery-window: 0 and below the configured minimum; unset is the provider's 30", async () => {
        assert.deepEqual(await runResourcePolicy(secretsRecoveryWindow, secret({ recoveryWindowInDays: 0 })), [
            "oauth2/jwk-private-key: recoveryWindowInDays is 0; the runbook requires at least 7 days so a deleted secret can be restored (0 deletes it immediately)",
        ]);
        assert.deepEqual(await runResourcePolicy(secretsRecoveryWindow, secret({ recoveryWindowInDays: undefined })), []);
        assert.equal((await runResourcePolicy(secretsRecoveryWindow, secret({ recoveryWindowInDays: 10 }), { config: { "secretsmanager-recovery-window": { minimumRecoveryWindowDays: 14 } } })).length, 1);
    });

    it("secretsmanager-critical-replica: no replicas, or only in the secret's own region (input or provider)", async () => {
        const [none] = await runResourcePolicy(secretsCriticalReplica, secret({ replicas: undefined }));
        assert.match(none, /^oauth2\/jwk-private-key: has no replicas \(secret region "us-east-1"\); the retention table marks Secrets\/Keys Critical/);
        assert.equal((await runResourcePolicy(secretsCriticalReplica, secret({ replicas: [{ region: "us-east-1" }] }))).length, 1);
        assert.equal((await runResourcePolicy(secretsCriticalReplica, secret({ region: "us-west-2" }))).length, 1);
        // Not Critical: another team's secret without replicas.
        assert.deepEqual(await runResourcePolicy(secretsCriticalReplica, secret({ name: "billing/api-key", replicas: undefined })), []);
        assert.deepEqual(await runResourcePolicy(secretsCriticalReplica, secret({ name: "billing/api-key", replicas: undefined }), { config: { "secretsmanager-critical-replica": { criticalSecretNames: ["billing/*"] } } }).then((v) => v.length), 1);
    });

    it("unknowns never report", async () => {
        const unknown = secret({ kmsKeyId: UNKNOWN, recoveryWindowInDays: UNKNOWN, replicas: UNKNOWN });
        for (const policy of [secretsKmsKey, secretsRecoveryWindow, secretsCriticalReplica]) {
            assert.deepEqual(await runResourcePolicy(policy, unknown), [], policy.name);
        }
        assert.deepEqual(await runResourcePolicy(secretsCriticalReplica, secret({ replicas: [{ region: UNKNOWN }] })), []);
    });
});

describe("policy: CloudWatch audit log groups", () => {
    const group = (name: string, overrides: Record<string, unknown> = {}) => ({ type: LOG_GROUP, name, props: { name, retentionInDays: 365, kmsKeyId: "arn:aws:kms:us-east-1:1:key/k", ...overrides } });

    it("compliant groups pass: 365, 731, 0 (never expire) and unset (never expire)", async () => {
        for (const days of [365, 731, 0, undefined]) {
            assert.deepEqual(await runResourcePolicy(auditLogRetention, group("/oauth2/authorization-server/audit", { retentionInDays: days })), [], String(days));
        }
        assert.deepEqual(await runResourcePolicy(auditLogKms, group("/aws/rds/instance/db/postgresql")), []);
    });

    it("cloudwatch-audit-log-retention: 364 days on an audit group; other groups are not judged", async () => {
        assert.deepEqual(await runResourcePolicy(auditLogRetention, group("/aws/rds/instance/oauth2-postgres/postgresql", { retentionInDays: 364 })), [
            "/aws/rds/instance/oauth2-postgres/postgresql: retentionInDays is 364; the retention table requires at least 365 days (Audit logs) or 0 (never expire)",
        ]);
        assert.deepEqual(await runResourcePolicy(auditLogRetention, group("/app/web", { retentionInDays: 7 })), []);
        assert.equal((await runResourcePolicy(auditLogRetention, group("/app/web", { retentionInDays: 7 }), { config: { "cloudwatch-audit-log-retention": { auditNamePrefixes: ["/app/"] } } })).length, 1);
    });

    it("cloudwatch-audit-log-kms: no key", async () => {
        assert.deepEqual(await runResourcePolicy(auditLogKms, group("/oauth2/audit", { kmsKeyId: undefined })), [
            "/oauth2/audit: kmsKeyId is not set; the runbook requires audit logs encrypted with a customer-managed KMS key",
        ]);
        assert.deepEqual(await runResourcePolicy(auditLogKms, group("/oauth2/audit", { kmsKeyId: UNKNOWN, retentionInDays: UNKNOWN })), []);
    });
});

describe("policy: Route 53 failover health check", () => {
    const record = (type: string, healthCheckId: unknown) => ({
        type: RECORD,
        name: `dns-${type.toLowerCase()}`,
        props: { zoneId: "Z1", name: "auth.example.com", type: "CNAME", setIdentifier: "x", failoverRoutingPolicies: [{ type }], healthCheckId },
    });

    it("a PRIMARY record with a health check passes; a SECONDARY without one passes by default", async () => {
        assert.deepEqual(await runResourcePolicy(route53FailoverHealthCheck, record("PRIMARY", "hc-1")), []);
        assert.deepEqual(await runResourcePolicy(route53FailoverHealthCheck, record("SECONDARY", undefined)), []);
        assert.deepEqual(await runResourcePolicy(route53FailoverHealthCheck, record("PRIMARY", UNKNOWN)), []);
    });

    it("route53-failover-health-check: a PRIMARY record without healthCheckId", async () => {
        assert.deepEqual(await runResourcePolicy(route53FailoverHealthCheck, record("PRIMARY", undefined)), [
            "dns-primary: PRIMARY failover record has healthCheckId not set; the runbook requires a health check so Route 53 fails over to the DR region without an operator",
        ]);
        const config = { "route53-failover-health-check": { requireHealthCheckFor: ["PRIMARY", "SECONDARY"] } };
        assert.equal((await runResourcePolicy(route53FailoverHealthCheck, record("SECONDARY", ""), { config })).length, 1);
    });
});
