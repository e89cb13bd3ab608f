/**
 * Retention rules: a stack may raise a row of the retention table, never lower it, and stays within what the
 * clouds keep (managed database backups at most 35 days; CloudWatch Logs' fixed retention periods).
 */
import { CLOUDWATCH_RETENTION_DAYS, DATA_CLASSES, DataClass, MAX_MANAGED_BACKUP_RETENTION_DAYS, retentionRow } from "../../retention";
import type { Values } from "../schema";
import { wholeNumber } from "../fields";
import type { Fail } from "./context";

/** CloudWatch Logs accepts only these retention periods (0 = never expire): policy/retention.ts, the pack's list. */
export { CLOUDWATCH_RETENTION_DAYS };

/** Each retention row raised: a known data class, a whole number at or above the table's minimum, within the cloud's limit. */
export function retentionRules(v: Values, fail: Fail): void {
    for (const [dataClass, raw] of Object.entries(v.retention ?? {})) {
        const key = `retention.${dataClass}`;
        if (!DATA_CLASSES.includes(dataClass as DataClass)) {
            fail(key, `unknown data class; the retention table has ${DATA_CLASSES.join(", ")}`);
            continue;
        }
        const row = retentionRow(dataClass as DataClass);
        const value = wholeNumber(raw);
        if (value === undefined) {
            fail(key, `${JSON.stringify(raw)} is not a whole number of ${row.unit}`);
        } else if (value < row.minimum) {
            fail(key, `${value} ${row.unit} is below the retention table's minimum of ${row.minimum} ${row.unit} for ${row.dataType}`);
        } else if (row.dataClass === "database" && value > MAX_MANAGED_BACKUP_RETENTION_DAYS) {
            fail(key, `${value} days exceeds the ${MAX_MANAGED_BACKUP_RETENTION_DAYS}-day maximum of managed database backups`);
        } else if (row.dataClass === "audit" && !CLOUDWATCH_RETENTION_DAYS.includes(value)) {
            fail(key, `${value} days is not a CloudWatch Logs retention period (365, 400, 545, 731, 1096, ...)`);
        }
    }
}
