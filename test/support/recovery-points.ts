/**
 * What the recovery-points tests share: the CLI run in the test's process with its output kept, and the prod-azure
 * stack's S3 world on a moto (its listing reads S3 alone: the backup bucket, the vault, the DR copy in us-west-2).
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { main } from "../../tools/recovery-points/cli";
import type { MotoServer } from "../../tools/sandbox/servers";

export const AZURE_BACKUP_BUCKET = "oauth2-backups-prod-azure";

/** `npm run recovery-points -- ARGV` in this process: its exit code, stdout and stderr. */
export async function runRecoveryPoints(argv: string[], deps: Parameters<typeof main>[1]): Promise<{ code: number; out: string; err: string }> {
    let out = "";
    let err = "";
    const code = await main(argv, { ...deps, stdout: (t) => (out += t), stderr: (t) => (err += t) });
    return { code, out, err };
}

/**
 * The prod-azure stack's buckets on `moto` (AZURE_BACKUP_BUCKET and the vault in us-east-1, the DR copy in us-west-2),
 * empty, and its stack outputs in a new scratch directory (`prefix`): the caller fills the buckets through `s3`
 * (us-east-1; destroyed by the caller) and removes `scratch`.
 */
export async function azureStackBuckets(moto: MotoServer, prefix: string): Promise<{ scratch: string; outputs: string; s3: S3Client }> {
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    const outputs = path.join(scratch, "prod-azure-outputs.json");
    fs.writeFileSync(outputs, JSON.stringify({ backupBucketName: AZURE_BACKUP_BUCKET, dbServerName: "oauth2-postgres", resourceGroupName: "oauth2-prod-rg" }));
    const credentials = { accessKeyId: "testing", secretAccessKey: "testing" };
    const s3 = new S3Client({ region: "us-east-1", endpoint: moto.endpoint, credentials, forcePathStyle: true });
    const west = new S3Client({ region: "us-west-2", endpoint: moto.endpoint, credentials, forcePathStyle: true });
    try {
        await s3.send(new CreateBucketCommand({ Bucket: AZURE_BACKUP_BUCKET }));
        await s3.send(new CreateBucketCommand({ Bucket: "oauth2-backups-vault" }));
        await west.send(new CreateBucketCommand({ Bucket: "oauth2-backups-dr-azure", CreateBucketConfiguration: { LocationConstraint: "us-west-2" } }));
    } finally {
        west.destroy();
    }
    return { scratch, outputs, s3 };
}

/** The end of a file's world (azureStackBuckets): its moto stopped, its scratch directory removed (either may not have been made). */
export async function endAzureWorld(moto: MotoServer | undefined, scratch: string | undefined): Promise<void> {
    await moto?.stop();
    if (scratch) {
        fs.rmSync(scratch, { recursive: true, force: true });
    }
}
