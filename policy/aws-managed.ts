/**
 * What AWS managed policies grant, as the pack knows it: read from one snapshot of AWS's published documents
 * (AWS_MANAGED_SOURCE), so a verdict that rests on one can say its date. `backup-plans.ts` keeps the names of those
 * that grant a snapshot action; this module keeps the documents of the policies the job-role rule reads as
 * statements (h39): the full-access policies a job role or writer may have attached, and the read-only ones often
 * used as a permissions boundary, so that a Deny or a boundary is applied to their grants as to any other.
 */

/** The snapshot of AWS managed policies the pack's facts about them are read from (zoph-io/MAMIP, commit 0387244e). */
export const AWS_MANAGED_SOURCE = "the zoph-io/MAMIP snapshot of 2026-03-07";

/** An AWS managed policy's name (`arn:aws:iam::aws:policy/[path/]NAME`, any partition); undefined for any other ARN. */
export function awsManagedName(arn: string): string | undefined {
    return /^arn:aws[\w-]*:iam::aws:policy\/(?:.*\/)?([^/]+)$/.exec(arn)?.[1];
}

const ALL = "*";

/**
 * The statements of AWS managed policies (default version in AWS_MANAGED_SOURCE) that can grant an action the job-role
 * rule judges (backup-job-roles.ts DESTRUCTIVE_ACTIONS, SCRATCH_ONLY_ACTIONS), as published (Sid, Effect, Resource,
 * Condition), their Action lists cut to the entries of those services: the rest of each document grants none of
 * them, and none of these documents has a Deny. An empty list: the policy grants none (a read-only boundary).
 * AWS adds to its policies, rarely a destructive action to these: the wildcards (`*`, NotAction, `s3:*`, `rds:*`,
 * `backup:*`, `secretsmanager:*`) cannot grow, and a read-only policy does not gain a Delete.
 */
const AWS_MANAGED_STATEMENTS: Readonly<Record<string, ReadonlyArray<Record<string, unknown>>>> = {
    // v1: everything.
    AdministratorAccess: [{ Effect: "Allow", Action: ALL, Resource: ALL }],
    // v12: every action but IAM's, Organizations' and Account's (its second statement allows a few of those: none judged here).
    PowerUserAccess: [{ Effect: "Allow", NotAction: ["iam:*", "organizations:*", "account:*"], Resource: ALL }],
    // v2
    AmazonS3FullAccess: [{ Effect: "Allow", Action: ["s3:*", "s3-object-lambda:*"], Resource: ALL }],
    // v30: every AWS Backup action; RDS snapshot deletion only when AWS Backup makes the call (a Condition: not evaluated).
    AWSBackupFullAccess: [
        { Sid: "AwsBackupAllAccessPermissions", Effect: "Allow", Action: "backup:*", Resource: ALL },
        { Sid: "RdsDeletePermissions", Effect: "Allow", Action: ["rds:DeleteDBSnapshot", "rds:DeleteDBClusterSnapshot"], Resource: ALL, Condition: { "ForAnyValue:StringEquals": { "aws:CalledVia": ["backup.amazonaws.com"] } } },
    ],
    // v14: its first statement (beside rds:*, application-autoscaling, cloudwatch, ec2, sns, logs, outposts, devops-guru reads and alarms).
    AmazonRDSFullAccess: [{ Effect: "Allow", Action: ["rds:*"], Resource: ALL }],
    // v5: its BasePermissions (beside secretsmanager:*, cloudformation, kms:DescribeKey/ListAliases/ListKeys and other reads).
    SecretsManagerReadWrite: [{ Sid: "BasePermissions", Effect: "Allow", Action: ["secretsmanager:*"], Resource: ALL }],
    // v3: s3:Get*, s3:List*, s3:Describe*, s3-object-lambda:Get*/List*.
    AmazonS3ReadOnlyAccess: [],
    // v178: reads (Get, List, Describe, ...) of every service.
    ReadOnlyAccess: [],
};

/** The document of an AWS managed policy as far as the job-role rule reads it (AWS_MANAGED_STATEMENTS); undefined when not known. */
export function awsManagedDocument(arn: string): { Version: string; Statement: ReadonlyArray<Record<string, unknown>> } | undefined {
    const name = awsManagedName(arn);
    const statements = name === undefined ? undefined : AWS_MANAGED_STATEMENTS[name];
    return statements === undefined ? undefined : { Version: "2012-10-17", Statement: statements };
}
