/**
 * Restore rules: one of restore.fromSnapshot or restore.pointInTime, in the primary stack off aws, a snapshot
 * id the cloud can restore, a point in time that is neither in the future nor outside the restorable window;
 * manual snapshot identifiers valid for the cloud and listed once.
 */
import { retentionRow } from "../../retention";
import { gcpDefaultsFor, Values } from "../schema";
import { parseRfc3339, toUtc } from "../time";
import type { Fail, RuleContext } from "./context";

/** RDS snapshot identifiers (automated ones prefixed `rds:`) and snapshot ARNs. */
const AWS_SNAPSHOT_ID = /^(rds:)?[a-zA-Z](?!.*--)[a-zA-Z0-9-]{0,254}(?<!-)$/;
const AWS_SNAPSHOT_ARN = /^arn:aws[a-z-]*:rds:[a-z0-9-]+:\d{12}:snapshot:[A-Za-z0-9:_-]+$/;
const DAY_MS = 24 * 3600 * 1000;

/** One restore source, declared where the cloud can restore it, that the cloud's backups can still reach. */
export function restoreRules(v: Values, ctx: RuleContext, fail: Fail): void {
    const { fromSnapshot, pointInTime } = v.restore ?? {};
    const cloud = v.cloud ?? "aws";
    if (fromSnapshot === undefined && pointInTime === undefined) {
        return;
    }
    if (fromSnapshot !== undefined && pointInTime !== undefined) {
        fail("restore", "set one of restore.fromSnapshot or restore.pointInTime, not both");
        return;
    }
    if (cloud !== "aws" && v.role !== "primary") {
        fail("restore", `on ${cloud}, restores are declared in the primary stack (beside oauth2-postgres); the standby holds only the replica`);
        return;
    }
    if (fromSnapshot !== undefined) {
        if (cloud === "azure") {
            fail("restore.fromSnapshot", "Azure Flexible Server restores from a point in time of its backups; use restore.pointInTime");
        } else if (cloud === "gcp" && !/^\d{1,20}$/.test(fromSnapshot)) {
            fail("restore.fromSnapshot", `"${fromSnapshot}" is not a Cloud SQL backup id (digits, from gcloud sql backups list)`);
        } else if (cloud === "aws" && !AWS_SNAPSHOT_ID.test(fromSnapshot) && !AWS_SNAPSHOT_ARN.test(fromSnapshot)) {
            fail("restore.fromSnapshot", `"${fromSnapshot}" is not an RDS snapshot identifier or snapshot ARN (e.g. rds:oauth2-postgres-2024-01-15-05-00)`);
        }
        return;
    }
    const time = pointInTime!;
    const ms = parseRfc3339(time);
    if (ms === undefined) {
        fail("restore.pointInTime", `"${time}" is not an RFC 3339 time such as 2024-01-15T10:00:00Z`);
        return;
    }
    if (ms > ctx.now.getTime()) {
        fail("restore.pointInTime", `"${time}" is in the future (now is ${toUtc(ctx.now.getTime())})`);
        return;
    }
    // The restorable window: the automated backups' retention on RDS and Azure; Cloud SQL's transaction logs.
    const windowDays = pointInTimeWindowDays(v);
    const earliest = ctx.now.getTime() - windowDays * DAY_MS;
    if (ms < earliest) {
        const what = cloud === "gcp" ? "transaction log retention" : "backup retention";
        fail("restore.pointInTime", `"${time}" is outside the ${windowDays}-day point-in-time window (${what}); the earliest restorable time is ${toUtc(earliest)}`);
    }
}

/** Days back a point-in-time restore can reach. */
export function pointInTimeWindowDays(v: Values): number {
    if (v.cloud === "gcp") {
        return v.gcp?.transactionLogRetentionDays ?? gcpDefaultsFor(v.gcp?.edition).transactionLogRetentionDays;
    }
    const raised = Number(v.retention?.database);
    return Number.isInteger(raised) ? raised : retentionRow("database").minimum;
}

/** Manual snapshots: declarable on aws and azure only, with identifiers valid there, each listed once. */
export function manualSnapshotRules(v: Values, fail: Fail): void {
    const ids = v.manualSnapshots ?? [];
    if (ids.length > 0 && v.cloud === "gcp") {
        fail("manualSnapshots", "Cloud SQL on-demand backups are not declarable resources; run gcloud sql backups create --instance=oauth2-postgres");
        return;
    }
    const pattern = v.cloud === "azure" ? /^[a-zA-Z0-9][a-zA-Z0-9_-]{0,127}$/ : /^[a-zA-Z](?!.*--)[a-zA-Z0-9-]{0,254}(?<!-)$/;
    const bad = ids.find((id) => !pattern.test(id));
    if (bad !== undefined) {
        fail("manualSnapshots", `"${bad}" is not a valid snapshot identifier`);
    }
    const duplicate = ids.find((id, i) => ids.indexOf(id) !== i);
    if (duplicate) {
        fail("manualSnapshots", `"${duplicate}" is listed twice`);
    }
}
