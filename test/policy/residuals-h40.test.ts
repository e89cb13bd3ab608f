/**
 * The pack's residuals found by the h40 trial (a new user's programs), in `backup-job-role-no-destruction` and
 * `backup-writer-cannot-decrypt`:
 *  - a workload role whose only S3 grant is an attached AWS managed policy (AmazonS3FullAccess, as the console's
 *    Lambda wizard attaches it) reaches every bucket, so it is a backup job role and a backup writer; it was passed
 *    over (its reach was read from its own documents only, not from the managed policy's published one).
 * Hand-built resources written as other teams write them: a Lambda role with a RolePolicyAttachment of the SDK's
 * ManagedPolicy enum, an EC2 instance role with `managedPolicyArns`.
 */
import { strict as assert } from "assert";
import type { StackValidationPolicy } from "@pulumi/policy";
import { ManagedPolicy } from "@pulumi/aws/types/enums/iam";
import { ALL_POLICIES } from "../../policy/all";
import { HandBuilt, runStackPolicyWithReasons } from "./helpers";

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
