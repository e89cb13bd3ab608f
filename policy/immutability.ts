/**
 * The immutability policies (issue 23): retention guaranteed, not just declared. Backup storage locked for
 * the table's minimum (object-lock.ts), a copy of the Critical rows outside the production account
 * (isolated-copy.ts), backup job roles that cannot destroy (backup-job-roles.ts), backup writers that cannot
 * decrypt (backup-decryption.ts, production), and deletion guards on production secrets and keys
 * (deletion-guards.ts). All mandatory.
 */
import { backupJobRoleNoDestruction } from "./backup-job-roles";
import { backupWriterCannotDecrypt } from "./backup-decryption";
import { deletionGuards } from "./deletion-guards";
import { backupCopyOutsideAccount } from "./isolated-copy";
import { s3BackupObjectLock } from "./object-lock";

export { backupJobRoleNoDestruction, backupWriterCannotDecrypt, deletionGuards, backupCopyOutsideAccount, s3BackupObjectLock };

export const immutabilityPolicies = [s3BackupObjectLock, backupCopyOutsideAccount, backupJobRoleNoDestruction, backupWriterCannotDecrypt, deletionGuards];
