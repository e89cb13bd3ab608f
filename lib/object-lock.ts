/**
 * Each object's own S3 Object Lock retention, by data class (the backup jobs set it at upload, through
 * scripts/aws-helper.py): the bucket's default retention (the database row) covers every version; an object
 * of a longer class is kept its class's retention, so an early deletion is refused for every row.
 *
 *   database  max(the lock's default, retention.database) days
 *   clients   retention.clients days (90)
 *   config    retention.config days (90)
 *   audit     retention.audit days (365). Written by Firehose, which cannot set a retain-until: each object takes
 *             its bucket's default, so the archive has its own bucket whose default is this row's
 *             (stacks/compose-storage.ts auditArchiveBucket; policy s3-backup-object-lock checks it)
 *   secrets   retention.secrets versions x secretRotationDays: a version must outlive the next N-1 rotations,
 *             so that the newest N (7) versions are always locked; with the default 90-day rotation, 630 days
 */
import type { DataClass, Retention } from "./retention";

export function objectRetainDays(retention: Retention, lockDays: number, secretRotationDays: number): Record<DataClass, number> {
    return {
        database: Math.max(lockDays, retention.database),
        clients: retention.clients,
        config: retention.config,
        audit: retention.audit,
        secrets: retention.secrets * secretRotationDays,
    };
}
