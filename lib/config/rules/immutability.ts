/**
 * Immutability rules: the backup buckets' Object Lock may not be shorter than the retention table's database
 * row (nor weaker than COMPLIANCE in production), may not outlast the lifecycle rules it must not fight, and
 * the vault role (the isolated account) names its
 * account and the replication roles it accepts.
 */
import { retentionRow, TABLE_RETENTION } from "../../retention";
import type { Values } from "../schema";
import type { Fail, RuleContext } from "./context";

export function immutabilityRules(v: Values, ctx: RuleContext, fail: Fail): void {
    const production = (v.environment ?? "production") === "production";
    const row = retentionRow("database");
    const days = v.objectLock?.days === undefined ? undefined : Number(v.objectLock.days);
    if (days !== undefined && days < row.minimum) {
        fail("objectLock.days", `${days} days is below the retention table's minimum of ${row.minimum} days for ${row.dataType}: the lock may only raise the table`);
    }
    const databaseRetention = Number(v.retention?.database ?? TABLE_RETENTION.database);
    if (days !== undefined && Number.isInteger(databaseRetention) && days > databaseRetention) {
        fail("objectLock.days", `${days} days exceeds retention.database (${databaseRetention} days): the lifecycle rules would expire versions the lock still holds; raise retention.database with it`);
    }
    if (production && v.objectLock?.mode === "GOVERNANCE") {
        fail("objectLock.mode", "GOVERNANCE can be bypassed (s3:BypassGovernanceRetention); a production stack locks its backups in COMPLIANCE mode");
    }
    if (v.vaultStack && v.vaultStack.split("/")[2] === ctx.stack) {
        fail("vaultStack", `"${v.vaultStack}" is this stack; the vault stack is another stack (role: vault)`);
    }
    if (v.role !== "vault") {
        if (ctx.raw("vault") !== undefined && v.vault !== undefined && Object.keys(v.vault).length > 0) {
            fail("vault", "is the vault stack's section (role: vault); other stacks name it with vaultStack");
        }
        return;
    }
    if ((v.cloud ?? "aws") !== "aws") {
        fail("cloud", "a vault stack is an AWS account (cloud: aws)");
    }
    if (v.vaultStack) {
        fail("vaultStack", "a vault stack does not read another vault");
    }
    if (!ctx.invalid("vault") && !v.vault?.accountId) {
        fail("vault.accountId", "is required for a vault stack: the isolated AWS account its provider may use");
    }
    if (!ctx.invalid("vault") && (v.vault?.replicationRoleArns ?? []).length === 0) {
        fail("vault.replicationRoleArns", "is required for a vault stack: the S3 replication roles of prod and dr that may write replicas");
    }
    if (production && v.vault?.airGapped === false && v.objectLock?.mode === "GOVERNANCE") {
        fail("objectLock.mode", "a production vault locks in COMPLIANCE mode");
    }
}
