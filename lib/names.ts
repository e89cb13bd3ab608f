/**
 * The names the program gives its backup buckets, one definition: the stacks and the vault account declare
 * them, `npm run recovery-points` finds a stack's buckets by them. The policy pack, which imports nothing
 * outside policy/, has the prefix as its default `backupBucketPrefixes` (policy/settings.ts); a test keeps the
 * two equal (test/docs-consistency.test.ts).
 */
export const BACKUP_BUCKET_PREFIX = "oauth2-backups";

/** A stack's backup bucket, `oauth2-backups-<stack>`; with a region, its copy there (`oauth2-backups-<stack>-<region>`). */
export function backupBucketName(stack: string, region?: string): string {
    return region === undefined ? `${BACKUP_BUCKET_PREFIX}-${stack}` : `${BACKUP_BUCKET_PREFIX}-${stack}-${region}`;
}
