/**
 * The program under Pulumi's mock runtime, prod then dr, with the stacks' real configuration: what each
 * component declares, that the replica's source is prod's instance, that every row of the retention table
 * is declared with its retention, and that no secret appears in plain text.
 */
import { strict as assert } from "assert";
import { PlanResult, isSecret, PlannedResource, SECRET_SIG } from "offline-plan/model";
import { RETENTION_TABLE } from "../lib/retention";
import { planRepo, props, resource, resourcesOfType } from "./support/plans";

const RDS = "aws:rds/instance:Instance";
const LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration";

describe("offline plan of prod and dr (AWS)", function () {
    let prod: PlanResult;
    let dr: PlanResult;

    before(async () => {
        [prod, dr] = await planRepo(["prod", "dr"]);
    });

    describe("prod: database", () => {
        it("declares oauth2-postgres with 30-day backups in the window, Multi-AZ, encryption and deletion protection", () => {
            const db = resource(prod, RDS, "oauth2-postgres");
            const p = props(db);
            assert.equal(p.identifier, "oauth2-postgres");
            assert.equal(p.dbName, "oauth2db");
            assert.equal(p.engine, "postgres");
            assert.equal(p.backupRetentionPeriod, 30);
            assert.equal(p.backupWindow, "03:00-04:00");
            assert.equal(p.multiAz, true);
            assert.equal(p.storageEncrypted, true);
            assert.match(p.kmsKeyId, /^arn:aws:kms:us-east-1:\d{12}:key\//);
            assert.equal(p.deletionProtection, true);
            assert.equal(p.copyTagsToSnapshot, true);
            assert.equal(p.skipFinalSnapshot, false);
            assert.equal(p.finalSnapshotIdentifier, "oauth2-postgres-final");
            assert.equal(p.deleteAutomatedBackups, false);
            assert.deepEqual(p.enabledCloudwatchLogsExports, ["postgresql", "upgrade"]);
            assert.equal(p.publiclyAccessible, false);
            assert.equal(db.protect, true);
        });

        it("takes the master password from @pulumi/random, secret on the wire", () => {
            const db = resource(prod, RDS, "oauth2-postgres");
            assert.ok(isSecret(db.inputs.password), "password must be a secret input");
            const generator = resource(prod, "random:index/randomPassword:RandomPassword", "oauth2-db-master-password");
            assert.ok(props(generator).length >= 32);
            const version = resource(prod, "aws:secretsmanager/secretVersion:SecretVersion", "oauth2-postgres-credentials");
            assert.ok(isSecret(version.inputs.secretString));
            assert.match(String(props(version).secretId), /oauth2\/db-credentials/);
        });

        it("pre-creates the RDS log export groups before the instance", () => {
            const db = resource(prod, RDS, "oauth2-postgres");
            const groups = resourcesOfType(prod, "aws:cloudwatch/logGroup:LogGroup").filter((g) => g.name.startsWith("/aws/rds/instance/oauth2-postgres/"));
            assert.equal(groups.length, 2);
            for (const group of groups) {
                assert.ok(db.dependencies.includes(group.urn), `${group.name} must be created before the instance`);
            }
        });
    });

    describe("dr: cross-region replica", () => {
        it("declares oauth2-postgres-replica whose source is the prod instance", () => {
            const prodArn = props(resource(prod, RDS, "oauth2-postgres")).identifier && prod.outputs.dbInstanceArn;
            assert.match(String(prodArn), /^arn:aws:rds:us-east-1:\d{12}:db:oauth2-postgres$/);
            const replica = props(resource(dr, RDS, "oauth2-postgres-replica"));
            assert.equal(replica.replicateSourceDb, prodArn);
            assert.equal(replica.backupRetentionPeriod, 30, "keeps backups once promoted");
            assert.equal(replica.storageEncrypted, true);
            assert.match(replica.kmsKeyId, /^arn:aws:kms:us-west-2:/, "its own key, in the DR region");
            assert.equal(replica.deletionProtection, true);
            // RDS refuses a final snapshot of a read replica; the promoted replica takes one (test/promote.test.ts).
            assert.equal(replica.skipFinalSnapshot, true);
            assert.equal(replica.finalSnapshotIdentifier, undefined);
            assert.equal(resource(dr, RDS, "oauth2-postgres-replica").protect, true);
        });

        it("replicates prod's automated backups into the DR region for point-in-time restore", () => {
            const replication = props(resource(dr, "aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication", "oauth2-postgres-replica-pitr"));
            assert.equal(replication.sourceDbInstanceArn, prod.outputs.dbInstanceArn);
            assert.equal(replication.retentionPeriod, 30);
            assert.match(replication.kmsKeyId, /^arn:aws:kms:us-west-2:/);
        });

        it("declares no primary database and no secrets of its own", () => {
            assert.equal(resourcesOfType(dr, RDS).length, 1);
            assert.equal(resourcesOfType(dr, "aws:secretsmanager/secret:Secret").length, 0);
        });
    });

    describe("backup buckets", () => {
        for (const stack of ["prod", "dr"]) {
            it(`${stack}: oauth2-backups-${stack} is versioned, SSE-KMS with a bucket key, private, owner-enforced and TLS-only`, () => {
                const plan = stack === "prod" ? prod : dr;
                const name = `oauth2-backups-${stack}`;
                const bucket = resource(plan, "aws:s3/bucket:Bucket", name);
                assert.equal(bucket.protect, true);
                assert.equal(props(bucket).forceDestroy, false);
                assert.equal(props(resource(plan, "aws:s3/bucketVersioning:BucketVersioning", `${name}-versioning`)).versioningConfiguration.status, "Enabled");
                const sse = props(resource(plan, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", `${name}-sse`));
                assert.equal(sse.rules[0].applyServerSideEncryptionByDefault.sseAlgorithm, "aws:kms");
                assert.match(sse.rules[0].applyServerSideEncryptionByDefault.kmsMasterKeyId, /^arn:aws:kms:/);
                assert.equal(sse.rules[0].bucketKeyEnabled, true);
                const pab = props(resource(plan, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", `${name}-public-access`));
                assert.deepEqual(
                    [pab.blockPublicAcls, pab.blockPublicPolicy, pab.ignorePublicAcls, pab.restrictPublicBuckets],
                    [true, true, true, true],
                );
                assert.equal(props(resource(plan, "aws:s3/bucketOwnershipControls:BucketOwnershipControls", `${name}-ownership`)).rule.objectOwnership, "BucketOwnerEnforced");
                const policy = JSON.parse(props(resource(plan, "aws:s3/bucketPolicy:BucketPolicy", `${name}-policy`)).policy);
                const tls = policy.Statement.find((s: any) => s.Condition?.Bool?.["aws:SecureTransport"] === "false");
                assert.equal(tls?.Effect, "Deny");
                const unencrypted = policy.Statement.find((s: any) => s.Sid === "DenyUnencryptedObjectUploads");
                assert.equal(unencrypted?.Condition.StringNotEqualsIfExists["s3:x-amz-server-side-encryption"], "aws:kms");
            });

            it(`${stack}: one lifecycle rule per data class with the table's retention`, () => {
                const plan = stack === "prod" ? prod : dr;
                const rules = props(resource(plan, LIFECYCLE, `oauth2-backups-${stack}-lifecycle`)).rules as any[];
                assert.equal(rules.length, RETENTION_TABLE.length);
                for (const row of RETENTION_TABLE) {
                    const rule = rules.find((r) => r.filter.prefix === row.bucketPrefix);
                    assert.ok(rule, `no rule for ${row.bucketPrefix}`);
                    assert.equal(rule.status, "Enabled");
                    assert.ok(rule.abortIncompleteMultipartUpload.daysAfterInitiation > 0);
                    if (row.unit === "versions") {
                        assert.equal(rule.expiration, undefined, "the current secrets export never expires");
                        assert.equal(1 + rule.noncurrentVersionExpiration.newerNoncurrentVersions, row.minimum);
                    } else {
                        assert.equal(rule.expiration.days, row.minimum);
                        assert.equal(rule.noncurrentVersionExpiration.noncurrentDays, row.minimum);
                    }
                }
            });
        }

        it("dr: replicates the prod bucket into the DR bucket with a least-privilege role, the DR key and delete markers", () => {
            const config = resource(dr, "aws:s3/bucketReplicationConfig:BucketReplicationConfig", "backup-replication-config");
            const p = props(config);
            assert.equal(p.region, "us-east-1", "the configuration lives on the prod bucket, in prod's region");
            assert.equal(p.bucket, prod.outputs.backupBucketName);
            const rule = p.rules[0];
            assert.equal(rule.status, "Enabled");
            assert.equal(rule.deleteMarkerReplication.status, "Enabled");
            assert.equal(rule.destination.bucket, dr.outputs.backupBucketArn);
            assert.equal(rule.destination.encryptionConfiguration.replicaKmsKeyId, dr.outputs.backupBucketKmsKeyArn);
            assert.equal(rule.sourceSelectionCriteria.sseKmsEncryptedObjects.status, "Enabled");
            const policy = JSON.parse(props(resource(dr, "aws:iam/rolePolicy:RolePolicy", "backup-replication-policy")).policy);
            const actions = policy.Statement.flatMap((s: any) => s.Action);
            assert.ok(!actions.some((a: string) => a.endsWith("*")), "no wildcard actions");
            assert.ok(policy.Statement.every((s: any) => s.Resource !== "*"), "no wildcard resources");
        });
    });

    describe("secrets", () => {
        it("declares the three secrets and the validation's smoke-test client with a customer-managed key, a recovery window and a DR replica", () => {
            const secrets = resourcesOfType(prod, "aws:secretsmanager/secret:Secret");
            assert.deepEqual(secrets.map((s) => s.name).sort(), ["oauth2/backup-passphrase", "oauth2/db-credentials", "oauth2/jwk-private-key", "oauth2/smoke-test-client"]);
            for (const secret of secrets) {
                const p = props(secret);
                assert.match(p.kmsKeyId, /^arn:aws:kms:us-east-1:/);
                assert.equal(p.recoveryWindowInDays, 30);
                assert.equal(p.replicas.length, 1);
                assert.equal(p.replicas[0].region, "us-west-2");
                assert.match(p.replicas[0].kmsKeyId, /^arn:aws:kms:us-west-2:/);
                assert.equal(secret.protect, true);
            }
        });
    });

    describe("audit logs", () => {
        for (const stack of ["prod", "dr"]) {
            it(`${stack}: log groups keep 365 days, encrypted with a customer-managed key`, () => {
                const plan = stack === "prod" ? prod : dr;
                const groups = resourcesOfType(plan, "aws:cloudwatch/logGroup:LogGroup");
                assert.ok(groups.some((g) => props(g).name === "/oauth2/authorization-server/audit"));
                for (const group of groups) {
                    assert.equal(props(group).retentionInDays, 365);
                    assert.match(props(group).kmsKeyId, /^arn:aws:kms:/);
                }
            });
        }
    });

    describe("audit archive", () => {
        it("prod: streams every audit event to the audit archive bucket's audit/ prefix through Firehose, KMS-encrypted", () => {
            const filter = props(resource(prod, "aws:cloudwatch/logSubscriptionFilter:LogSubscriptionFilter", "audit-archive-subscription"));
            assert.equal(filter.logGroup, "/oauth2/authorization-server/audit");
            assert.equal(filter.filterPattern, "");
            const stream = resource(prod, "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream", "audit-archive-stream");
            assert.equal(filter.destinationArn, `arn:aws:firehose:us-east-1:123456789012:deliverystream/${props(stream).name}`);
            const s3 = props(stream).extendedS3Configuration;
            // Its own bucket, locked for the audit row: Firehose cannot set a per-object retain-until.
            assert.equal(s3.bucketArn, prod.outputs.auditBucketArn);
            assert.ok(s3.prefix.startsWith("audit/") && s3.errorOutputPrefix.startsWith("audit/"), "both prefixes fall under the audit/ lifecycle rule");
            assert.equal(s3.kmsKeyArn, prod.outputs.auditBucketKmsKeyArn);
        });
    });

    describe("DNS failover", () => {
        it("prod: a PRIMARY record guarded by an HTTPS health check on /actuator/health", () => {
            const check = props(resource(prod, "aws:route53/healthCheck:HealthCheck", "dns-health"));
            assert.equal(check.type, "HTTPS");
            assert.equal(check.resourcePath, "/actuator/health");
            assert.equal(check.fqdn, "oauth2-prod-1234567890.us-east-1.elb.amazonaws.com");
            const record = props(resource(prod, "aws:route53/record:Record", "dns-primary"));
            assert.equal(record.name, "auth.example.com");
            assert.deepEqual(record.failoverRoutingPolicies, [{ type: "PRIMARY" }]);
            assert.equal(record.healthCheckId, prod.outputs.healthCheckId);
            assert.equal(record.setIdentifier, "prod-us-east-1");
        });

        it("dr: a SECONDARY record with its own set identifier", () => {
            const record = props(resource(dr, "aws:route53/record:Record", "dns-secondary"));
            assert.deepEqual(record.failoverRoutingPolicies, [{ type: "SECONDARY" }]);
            assert.equal(record.setIdentifier, "dr-us-west-2");
            assert.equal(record.records[0], "oauth2-dr-1234567890.us-west-2.elb.amazonaws.com");
        });
    });

    describe("backup CronJobs", () => {
        // service-validation is no backup: a suspended template, run on demand (components/service-validation.ts).
        const JOBS = ["db-backup", "client-config-export", "secrets-export", "app-config-export", "restore-verification", "service-validation"];
        for (const stack of ["prod", "dr"]) {
            it(`${stack}: the five backup CronJobs and the validation in oauth2-system, hardened, backups suspended only on the standby`, () => {
                const plan = stack === "prod" ? prod : dr;
                const cronJobs = resourcesOfType(plan, "kubernetes:batch/v1:CronJob").map(props);
                assert.deepEqual(cronJobs.map((c) => c.metadata.name).sort(), [...JOBS].sort());
                for (const job of cronJobs) {
                    const name = job.metadata.name as string;
                    assert.equal(job.metadata.namespace, "oauth2-system");
                    assert.equal(job.spec.concurrencyPolicy, "Forbid", name);
                    assert.ok(job.spec.startingDeadlineSeconds > 0 && job.spec.jobTemplate.spec.activeDeadlineSeconds > 0, name);
                    assert.ok(job.spec.jobTemplate.spec.backoffLimit >= 0, name);
                    const pod = job.spec.jobTemplate.spec.template.spec;
                    assert.equal(pod.securityContext.runAsNonRoot, true, name);
                    for (const container of pod.containers) {
                        assert.ok(container.resources.limits.cpu && container.resources.limits.memory, name);
                        assert.equal(container.securityContext.readOnlyRootFilesystem, true, name);
                        assert.deepEqual(container.securityContext.capabilities.drop, ["ALL"], name);
                    }
                    const suspended = job.spec.suspend === true;
                    const expectSuspended = name === "service-validation" || (stack === "dr" && name !== "restore-verification");
                    assert.equal(suspended, expectSuspended, `${stack} ${name} suspend`);
                }
            });
        }
    });

    describe("the configuration's defaults reach the plan", () => {
        it("each backup CronJob's schedule and container resources are the pinned defaults (lib/config/schema.ts)", () => {
            const small = { requests: { cpu: "50m", memory: "128Mi" }, limits: { cpu: "500m", memory: "256Mi" } };
            const large = { requests: { cpu: "500m", memory: "256Mi" }, limits: { cpu: "2", memory: "768Mi" } };
            const pinned: Record<string, [string, unknown]> = {
                "db-backup": ["0 5 * * *", large],
                "client-config-export": ["*/15 * * * *", small],
                "secrets-export": ["30 5 * * *", small],
                "app-config-export": ["*/30 * * * *", small],
                "restore-verification": ["0 6 1 * *", large],
            };
            const planned = Object.fromEntries(
                resourcesOfType(prod, "kubernetes:batch/v1:CronJob")
                    .map(props)
                    .filter((c) => c.metadata.name in pinned)
                    .map((c) => [c.metadata.name, [c.spec.schedule, c.spec.jobTemplate.spec.template.spec.containers[0].resources]]),
            );
            assert.deepEqual(planned, pinned);
        });
    });

    describe("secrets never in plain text", () => {
        /** Every string reachable outside a secret wrapper. */
        function plainStrings(value: unknown, out: string[] = []): string[] {
            if (isSecret(value)) {
                return out;
            }
            if (typeof value === "string") {
                out.push(value);
            } else if (Array.isArray(value)) {
                value.forEach((v) => plainStrings(v, out));
            } else if (value && typeof value === "object") {
                Object.values(value).forEach((v) => plainStrings(v, out));
            }
            return out;
        }

        it("the generated passwords appear only inside secrets, in inputs and outputs of both stacks", () => {
            // The mock provider's generated values all start with "mock-<resource name>".
            const generated = resourcesOfType(prod, "random:index/randomPassword:RandomPassword").map((r: PlannedResource) => `mock-${r.name}`);
            assert.equal(generated.length, 3);
            for (const plan of [prod, dr]) {
                const everything = [...plan.resources.map((r) => r.inputs), plan.outputs];
                const leaks = plainStrings(everything).filter((s) => generated.some((g) => s.includes(g)));
                assert.deepEqual(leaks, [], `${plan.stack} leaks a generated secret`);
            }
            assert.ok(isSecret(prod.outputs.databaseUrl), "databaseUrl output is secret");
            assert.equal((prod.outputs.databaseUrl as Record<string, unknown>)[SECRET_SIG.key], SECRET_SIG.value);
        });
    });

    describe("the retention table, row by row", () => {
        it("declares every data class with its retention in prod", () => {
            const declared: Record<string, number> = {
                database: props(resource(prod, RDS, "oauth2-postgres")).backupRetentionPeriod,
                audit: Math.min(...resourcesOfType(prod, "aws:cloudwatch/logGroup:LogGroup").map((g) => props(g).retentionInDays)),
            };
            const rules = props(resource(prod, LIFECYCLE, "oauth2-backups-prod-lifecycle")).rules as any[];
            declared.clients = rules.find((r) => r.filter.prefix === "clients/").expiration.days;
            declared.config = rules.find((r) => r.filter.prefix === "config/").expiration.days;
            declared.secrets = 1 + rules.find((r) => r.filter.prefix === "secrets/").noncurrentVersionExpiration.newerNoncurrentVersions;
            for (const row of RETENTION_TABLE) {
                assert.equal(declared[row.dataClass], row.minimum, `${row.dataType}: ${row.minimum} ${row.unit}`);
            }
        });
    });
});

describe("offline plan with raised retention", function () {
    it("passes a raised retention through to the database and the bucket", async () => {
        const [prod] = await planRepo(["prod"], { configOverrides: { "oauth2-dr:retention": JSON.stringify({ database: 35, clients: 120, secrets: 10, audit: 731 }) } });
        assert.equal(props(resource(prod, RDS, "oauth2-postgres")).backupRetentionPeriod, 35);
        const rules = props(resource(prod, LIFECYCLE, "oauth2-backups-prod-lifecycle")).rules as any[];
        assert.equal(rules.find((r) => r.filter.prefix === "clients/").expiration.days, 120);
        assert.equal(rules.find((r) => r.filter.prefix === "secrets/").noncurrentVersionExpiration.newerNoncurrentVersions, 9);
        for (const group of resourcesOfType(prod, "aws:cloudwatch/logGroup:LogGroup")) {
            assert.equal(props(group).retentionInDays, 731);
        }
    });
});
