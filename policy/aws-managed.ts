/**
 * What AWS managed policies grant, as the pack knows it: read from one snapshot of AWS's published documents
 * (AWS_MANAGED_SOURCE), so a verdict that rests on one can say its date. `backup-plans.ts` keeps the names of those
 * that grant a snapshot action; this module reads the documents the job-role rules read as statements (h39; every
 * policy of the snapshot since h40, generated into aws-managed-snapshot.ts by tools/aws-managed-snapshot.ts), attached
 * or as a permissions boundary, so that a Deny or a boundary is applied to their grants as to any other.
 */
import { SNAPSHOT, SNAPSHOT_NAMES, SNAPSHOT_STATEMENTS } from "./aws-managed-snapshot";

/** The snapshot of AWS managed policies the pack's facts about them are read from (aws-managed-snapshot.ts). */
export const AWS_MANAGED_SOURCE = `the ${SNAPSHOT.source} snapshot of ${SNAPSHOT.date}`;

/** An AWS managed policy's name (`arn:aws:iam::aws:policy/[path/]NAME`, any partition); undefined for any other ARN. */
export function awsManagedName(arn: string): string | undefined {
    return /^arn:aws[\w-]*:iam::aws:policy\/(?:.*\/)?([^/]+)$/.exec(arn)?.[1];
}

/**
 * The document of an AWS managed policy as far as the pack reads it: its Allow statements that grant an action of
 * SNAPSHOT_ACTIONS (the job-role rule's destructive and scratch-only actions, s3:PutObject, s3:PutObjectRetention,
 * secretsmanager:GetSecretValue), as published in AWS_MANAGED_SOURCE, their Action lists cut to those entries; none of
 * these documents has a Deny. A policy of the snapshot that grants none of them has an empty document (a read-only
 * boundary: AmazonS3ReadOnlyAccess, ReadOnlyAccess). Undefined when not known: a name the snapshot does not hold (a
 * policy AWS published since, or one it holds no document for), or not an AWS managed ARN. Since h40 every policy of the
 * snapshot (1525) is known this way; before, only eight full-access and read-only ones were.
 */
export function awsManagedDocument(arn: string): { Version: string; Statement: ReadonlyArray<Record<string, unknown>> } | undefined {
    const name = awsManagedName(arn);
    if (name === undefined || !SNAPSHOT_NAMES.has(name)) {
        return undefined;
    }
    return { Version: "2012-10-17", Statement: SNAPSHOT_STATEMENTS[name] ?? [] };
}
