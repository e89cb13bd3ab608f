/**
 * Role rules: a stack is a primary or a standby; a standby reads another stack (the primary), only a standby
 * has a replica to promote, and only the aws primary declares AWS Backup.
 */
import type { Values } from "../schema";
import { Fail, required, RuleContext } from "./context";

/** What the role requires: a standby reads another stack; promote and AWS Backup belong to one role each. */
export function roleRules(v: Values, ctx: RuleContext, fail: Fail): void {
    required(v, ctx, fail, ["role"]);
    if (v.role === "standby") {
        required(v, ctx, fail, ["primaryStack"]);
        if (v.primaryStack && v.primaryStack.split("/")[2] === ctx.stack) {
            fail("primaryStack", `"${v.primaryStack}" is this stack; a standby stack reads the primary stack`);
        }
    }
    if (v.promote && v.role !== "standby") {
        fail("promote", "only a standby stack has a replica to promote");
    }
    const awsPrimary = (v.cloud ?? "aws") === "aws" && v.role === "primary";
    if (v.awsBackup?.enabled && !awsPrimary) {
        fail("awsBackup.enabled", "AWS Backup is declared by the aws primary stack (it copies into the DR region itself)");
    }
}
