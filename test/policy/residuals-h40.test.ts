/**
 * The pack's residuals found by the h40 trial (a new user's programs), in `backup-job-role-no-destruction` and
 * `backup-writer-cannot-decrypt`:
 *  - a workload role whose only S3 grant is an attached AWS managed policy (AmazonS3FullAccess, as the console's
 *    Lambda wizard attaches it) reaches every bucket, so it is a backup job role and a backup writer; it was passed
 *    over (its reach was read from its own documents only, not from the managed policy's published one);
 *  - every AWS managed policy of the pack's snapshot (zoph-io/MAMIP 2026-03-07, policy/aws-managed-snapshot.ts) is read
 *    as its document: DatabaseAdministrator, AmazonElasticMapReduceforEC2Role grant destructive actions (were passed:
 *    only eight policies were known); one the snapshot does not hold, a customer managed policy the stack does not
 *    declare and a policy ARN not known are listed as not judged (were passed silently);
 *  - rds:ModifyDBCluster (an Aurora, DocumentDB or Neptune cluster's BackupRetentionPeriod), DeleteDBClusterAutomatedBackup
 *    and DeleteDBCluster are judged as their instance counterparts are (were passed).
 * Hand-built resources written as other teams write them: a Lambda role with a RolePolicyAttachment of the SDK's
 * ManagedPolicy enum, an EC2 instance role with `managedPolicyArns`, an IRSA role with the platform team's policy ARN.
 */
import { strict as assert } from "assert";
import type { StackValidationPolicy } from "@pulumi/policy";
import { ManagedPolicy } from "@pulumi/aws/types/enums/iam";
import { ALL_POLICIES } from "../../policy/all";
import { DESTRUCTIVE_ACTIONS } from "../../policy/backup-job-roles";
import { SNAPSHOT_ACTIONS, SNAPSHOT_NAMES } from "../../policy/aws-managed-snapshot";
import { JUDGED_ACTIONS } from "../../tools/aws-managed-snapshot";
import { HandBuilt, runStackPolicyWithReasons, UNKNOWN } from "./helpers";

const policy = (name: string) => ALL_POLICIES.find((p) => p.name === name) as StackValidationPolicy;
const noDestruction = policy("backup-job-role-no-destruction");
const cannotDecrypt = policy("backup-writer-cannot-decrypt");
const ROLE = "aws:iam/role:Role";
const urnOf = (type: string, name: string) => `urn:pulumi:test::proj::${type}::${name}`;
const trust = (service: string) => JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { Service: service }, Action: "sts:AssumeRole" }] });
const production = { environment: "production" };

const dumps: HandBuilt = { type: "aws:s3/bucketV2:BucketV2", name: "report_dumps", props: { bucket: "acme-report-dumps", tags: { backup: "true", ...production } } };
const exporter = (props: Record<string, unknown> = {}): HandBuilt => ({ type: ROLE, name: "report_exporter", props: { name: "report-exporter", assumeRolePolicy: trust("lambda.amazonaws.com"), tags: production, ...props } });
const attach = (name: string, policyArn: string): HandBuilt => ({
    type: "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    name,
    props: { role: "report-exporter", policyArn },
    propertyDependencies: { role: [urnOf(ROLE, "report_exporter")] },
});
const messages = async (p: StackValidationPolicy, resources: HandBuilt[]) => (await runStackPolicyWithReasons(p, [dumps, ...resources])).violations.map((v) => v.message);

describe("h40: a role whose S3 access is an attached AWS managed policy is a backup job role and writer", () => {
    it("AmazonS3FullAccess attached (RolePolicyAttachment, SDK enum) makes an untagged Lambda role a job role: its s3:* is reported (was: not judged)", async () => {
        const [message, ...rest] = await messages(noDestruction, [exporter(), attach("exporter_s3", ManagedPolicy.AmazonS3FullAccess), attach("exporter_logs", ManagedPolicy.AWSLambdaBasicExecutionRole)]);
        assert.deepEqual(rest, []);
        assert.match(message ?? "", /^report-exporter: backup job role \(its policies reach a backup bucket\) may everything arn:aws:iam::aws:policy\/AmazonS3FullAccess grants \(attached\); a backup job must not/);
    });

    it("AmazonS3FullAccess with SecretsManagerReadWrite (managedPolicyArns) on a production EC2 role is a writer that reads the passphrase (was: not judged)", async () => {
        const role = exporter({ assumeRolePolicy: trust("ec2.amazonaws.com"), managedPolicyArns: [ManagedPolicy.AmazonS3FullAccess, ManagedPolicy.SecretsManagerReadWrite] });
        const [message, ...rest] = await messages(cannotDecrypt, [role]);
        assert.deepEqual(rest, []);
        assert.match(message ?? "", /^report-exporter: backup writer \(s3:PutObject on backup storage\) may read backup decryption material: secretsmanager:GetSecretValue on \* \(arn:aws:iam::aws:policy\/SecretsManagerReadWrite \(attached\), statement BasePermissions\)/);
    });

    it("a read-only managed policy reaches no bucket as a writer: AmazonS3ReadOnlyAccess with SecretsManagerReadWrite is no backup writer", async () => {
        const role = exporter({ managedPolicyArns: [ManagedPolicy.AmazonS3ReadOnlyAccess, ManagedPolicy.SecretsManagerReadWrite] });
        assert.deepEqual(await messages(cannotDecrypt, [role]), []);
    });
});

describe("h40: a grant on every bucket reaches a backup bucket only when the stack declares one", () => {
    const s3Everywhere = { Sid: "Uploads", Effect: "Allow", Action: "s3:*", Resource: "*" };
    const lambda = exporter({ inlinePolicies: [{ name: "uploads", policy: JSON.stringify({ Version: "2012-10-17", Statement: [s3Everywhere] }) }] });

    it("a stateless stack's Lambda with s3:* on * (or a CallbackFunction's AmazonS3FullAccess) is no backup job role (was: reported)", async () => {
        const uploads: HandBuilt = { type: "aws:s3/bucket:Bucket", name: "uploads", props: { bucket: "media-uploads", tags: { team: "media" } } };
        for (const resources of [[uploads, lambda], [uploads, exporter({ managedPolicyArns: [ManagedPolicy.AmazonS3FullAccess] })]]) {
            assert.deepEqual((await runStackPolicyWithReasons(noDestruction, resources)).violations, []);
        }
    });

    it("beside a backup bucket the same role is one, and reported", async () => {
        const [message] = await messages(noDestruction, [lambda]);
        assert.match(message ?? "", /^report-exporter: backup job role \(its policies reach a backup bucket\) may s3:DeleteObjectVersion \(inline policy uploads, statement Uploads\)/);
    });
});

describe("h40: every AWS managed policy of the snapshot is read as its document; one not known is not judged", () => {
    const irsa = JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { Federated: "arn:aws:iam::111122223333:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC" }, Action: "sts:AssumeRoleWithWebIdentity" }] });
    const jobs = (props: Record<string, unknown>): HandBuilt => ({
        type: ROLE,
        name: "pg_dump_jobs",
        props: { name: "pg-dump-jobs", assumeRolePolicy: irsa, tags: { "oauth2-dr/component": "backup-jobs", ...production }, ...props },
    });
    const run = (resources: HandBuilt[]) => runStackPolicyWithReasons(noDestruction, [dumps, ...resources]);

    it("the job-function DatabaseAdministrator policy's rds:* and s3:DeleteObject* are reported action by action (was: passed)", async () => {
        const { violations: [violation, ...rest] } = await run([jobs({ managedPolicyArns: ["arn:aws:iam::aws:policy/job-function/DatabaseAdministrator"] })]);
        assert.deepEqual(rest, []);
        assert.match(violation?.message ?? "", /^pg-dump-jobs: backup job role \(tagged oauth2-dr\/component=backup-jobs\) may rds:DeleteDBSnapshot, .*rds:ModifyDBInstance, rds:ModifyDBCluster, .*s3:DeleteObjectVersion, s3:PutBucketVersioning, s3:PutLifecycleConfiguration, s3:PutReplicationConfiguration \(arn:aws:iam::aws:policy\/job-function\/DatabaseAdministrator \(attached\)\)/);
    });

    it("an untagged EMR instance role with AmazonElasticMapReduceforEC2Role (s3:* on *) is a job role and reported (was: not judged)", async () => {
        const emr = exporter({ assumeRolePolicy: trust("ec2.amazonaws.com"), managedPolicyArns: ["arn:aws:iam::aws:policy/service-role/AmazonElasticMapReduceforEC2Role"] });
        const { violations: [violation, ...rest] } = await run([emr]);
        assert.deepEqual(rest, []);
        assert.match(violation?.message ?? "", /^report-exporter: backup job role \(its policies reach a backup bucket\) may s3:DeleteObjectVersion, s3:BypassGovernanceRetention, .* \(arn:aws:iam::aws:policy\/service-role\/AmazonElasticMapReduceforEC2Role \(attached\)/);
    });

    it("an AWS managed policy of the snapshot that grants none passes with nothing listed (AWSBackupOperatorAccess, AWSLambdaBasicExecutionRole)", async () => {
        assert.ok(SNAPSHOT_NAMES.has("AWSBackupOperatorAccess"));
        assert.deepEqual(await run([jobs({ managedPolicyArns: ["arn:aws:iam::aws:policy/AWSBackupOperatorAccess", ManagedPolicy.AWSLambdaBasicExecutionRole] })]), { violations: [], notApplicable: [] });
    });

    it("a policy whose document is not known is listed as not judged, naming why (was: passed silently)", async () => {
        const customer = "arn:aws:iam::111122223333:policy/platform/backup-writer";
        const newer = "arn:aws:iam::aws:policy/AWSBackupDeleteEverythingAccess";
        assert.ok(!SNAPSHOT_NAMES.has("AWSBackupDeleteEverythingAccess"));
        const { violations, notApplicable } = await run([jobs({ managedPolicyArns: [customer, newer, UNKNOWN] })]);
        assert.deepEqual(violations, []);
        assert.equal(notApplicable.length, 1);
        const reason = notApplicable[0] ?? "";
        assert.ok(reason.includes(`pg-dump-jobs: the document of ${customer} (attached; a policy the stack does not declare)`), reason);
        assert.ok(reason.includes(`pg-dump-jobs: the document of ${newer} (attached; an AWS managed policy the zoph-io/MAMIP snapshot of 2026-03-07 does not hold)`), reason);
        assert.ok(reason.includes("pg-dump-jobs: managedPolicyArns of pg_dump_jobs"), reason);
    });

    it("a known destructive grant is still reported beside a policy not known (the open one does not hide it)", async () => {
        const { violations: [violation] } = await run([jobs({ managedPolicyArns: ["arn:aws:iam::111122223333:policy/platform/backup-writer", ManagedPolicy.AmazonS3FullAccess] })]);
        assert.match(violation?.message ?? "", /may everything arn:aws:iam::aws:policy\/AmazonS3FullAccess grants \(attached\)/);
    });

    it("the snapshot's documents were cut to the actions the pack judges now (regenerate with tools/aws-managed-snapshot.ts when they change)", () => {
        assert.deepEqual([...SNAPSHOT_ACTIONS], JUDGED_ACTIONS);
        assert.equal(SNAPSHOT_NAMES.size, 1523);
    });
});

describe("h40: an RDS cluster's backup retention and automated backups are judged as an instance's", () => {
    const doc = (...statements: Array<Record<string, unknown>>) => JSON.stringify({ Version: "2012-10-17", Statement: statements });
    const role = (statement: Record<string, unknown>): HandBuilt => ({
        type: ROLE,
        name: "aurora_jobs",
        props: { name: "aurora-jobs", assumeRolePolicy: trust("ecs-tasks.amazonaws.com"), tags: { "oauth2-dr/component": "backup-jobs" }, inlinePolicies: [{ name: "ops", policy: doc(statement) }] },
    });

    it("rds:ModifyDBCluster and rds:DeleteDBClusterAutomatedBackup are destructive, rds:DeleteDBCluster only on scratch (were: passed)", async () => {
        assert.ok(DESTRUCTIVE_ACTIONS.includes("rds:ModifyDBCluster") && DESTRUCTIVE_ACTIONS.includes("rds:DeleteDBClusterAutomatedBackup"));
        const [modify] = await messages(noDestruction, [role({ Sid: "Tune", Effect: "Allow", Action: "rds:ModifyDBCluster", Resource: "arn:aws:rds:eu-west-1:111122223333:cluster:orders" })]);
        assert.match(modify ?? "", /^aurora-jobs: backup job role \(tagged oauth2-dr\/component=backup-jobs\) may rds:ModifyDBCluster \(inline policy ops, statement Tune\)/);
        const [autoBackup] = await messages(noDestruction, [role({ Sid: "Tidy", Effect: "Allow", Action: "rds:DeleteDBCluster*", Resource: "*" })]);
        assert.match(autoBackup ?? "", /may rds:DeleteDBClusterSnapshot \(inline policy ops, statement Tidy\); rds:DeleteDBClusterAutomatedBackup \(inline policy ops, statement Tidy\); rds:DeleteDBCluster on \*, not only the verification's scratch instances/);
    });
});
