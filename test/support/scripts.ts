/**
 * Running the backup scripts from tests and the benchmark: a child process with a controlled
 * environment (PostgreSQL 15 binaries first on PATH, the moto endpoint, a passphrase file), and helpers
 * to seed the bucket and read it back with the AWS CLI.
 */
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { MotoServer, PG_BIN, PgServer } from "./servers";

export const REPO = path.resolve(__dirname, "..", "..");
export const SCRIPTS = path.join(REPO, "scripts");

export interface ScriptResult {
    code: number | null;
    signal: NodeJS.Signals | null;
    stdout: string;
    stderr: string;
}

/** A script run as an assertion message: exit code, signal, and both streams. */
export function explain(result: ScriptResult): string {
    return `exit ${result.code} (${result.signal ?? "no signal"})\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`;
}

export interface Started {
    child: ChildProcess;
    done: Promise<ScriptResult>;
}

/** Starts scripts/<name> with `env` on top of a minimal environment (not the test process's). */
export function startScript(name: string, env: Record<string, string>, args: string[] = [], options: { detached?: boolean } = {}): Started {
    const child = spawn("bash", [path.join(SCRIPTS, name), ...args], {
        env: baseEnv(env),
        stdio: ["ignore", "pipe", "pipe"],
        detached: options.detached ?? false,
    });
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (d) => (stdout += d));
    child.stderr!.on("data", (d) => (stderr += d));
    const done = new Promise<ScriptResult>((resolve) => {
        child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
    });
    return { child, done };
}

export function runScript(name: string, env: Record<string, string>, args: string[] = []): Promise<ScriptResult> {
    return startScript(name, env, args).done;
}

export function baseEnv(env: Record<string, string>): Record<string, string> {
    const extraPath = env.EXTRA_PATH ? `${env.EXTRA_PATH}:` : "";
    return {
        PATH: `${extraPath}${PG_BIN}:${process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin"}`,
        HOME: env.HOME ?? os.tmpdir(),
        TMPDIR: env.TMPDIR ?? os.tmpdir(),
        LANG: "C.UTF-8",
        ...env,
    };
}

/** A temp dir with a passphrase file (mode 600). */
export function passphraseFile(dir: string, passphrase: string, name = "passphrase"): string {
    const file = path.join(dir, name);
    fs.writeFileSync(file, `${passphrase}\n`, { mode: 0o600 });
    return file;
}

/** The AWS CLI against moto; throws on failure. Binary output as a Buffer when `binary`. */
export function aws(moto: MotoServer, args: string[], input?: Buffer | string): string {
    const result = spawnSync("aws", ["--endpoint-url", moto.endpoint, ...args], {
        env: baseEnv(moto.env()),
        input,
        maxBuffer: 1024 * 1024 * 1024,
    });
    if (result.status !== 0) {
        throw new Error(`aws ${args.join(" ")} failed: ${result.stderr}`);
    }
    return result.stdout.toString("utf8");
}

export function awsBytes(moto: MotoServer, args: string[]): Buffer {
    const result = spawnSync("aws", ["--endpoint-url", moto.endpoint, ...args], { env: baseEnv(moto.env()), maxBuffer: 1024 * 1024 * 1024 });
    if (result.status !== 0) {
        throw new Error(`aws ${args.join(" ")} failed: ${result.stderr}`);
    }
    return result.stdout;
}

export function createBucket(moto: MotoServer, bucket: string): void {
    aws(moto, ["s3api", "create-bucket", "--bucket", bucket]);
    aws(moto, ["s3api", "put-bucket-versioning", "--bucket", bucket, "--versioning-configuration", "Status=Enabled"]);
}

/** Keys under `prefix` (current versions). */
export function listKeys(moto: MotoServer, bucket: string, prefix: string): string[] {
    const out = aws(moto, ["s3api", "list-objects-v2", "--bucket", bucket, "--prefix", prefix, "--query", "Contents[].Key", "--output", "text"]).trim();
    if (!out || out === "None") {
        return [];
    }
    return out.split(/\s+/).filter((k) => k && k !== "None").sort();
}

/** Every version (including delete markers) under `prefix`. */
export function listVersions(moto: MotoServer, bucket: string, prefix: string): { key: string; versionId: string; isLatest: boolean; deleteMarker: boolean }[] {
    const out = JSON.parse(aws(moto, ["s3api", "list-object-versions", "--bucket", bucket, "--prefix", prefix, "--output", "json"]) || "{}");
    const versions = (out.Versions ?? []).map((v: any) => ({ key: v.Key, versionId: v.VersionId, isLatest: v.IsLatest, deleteMarker: false }));
    const markers = (out.DeleteMarkers ?? []).map((v: any) => ({ key: v.Key, versionId: v.VersionId, isLatest: v.IsLatest, deleteMarker: true }));
    return [...versions, ...markers];
}

export function getObject(moto: MotoServer, bucket: string, key: string): Buffer {
    return awsBytes(moto, ["s3", "cp", `s3://${bucket}/${key}`, "-"]);
}

export function putObject(moto: MotoServer, bucket: string, key: string, body: Buffer | string): void {
    aws(moto, ["s3", "cp", "-", `s3://${bucket}/${key}`], body);
}

/** The common environment of a script run against these servers. */
export function scriptEnv(pg: PgServer, moto: MotoServer, bucket: string, passphrase: string, database = "oauth2db"): Record<string, string> {
    return { ...pg.env(database), ...moto.env(), BUCKET: bucket, PASSPHRASE_FILE: passphrase };
}

export function tempDir(prefix: string): string {
    return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** A Secrets Manager secret holding `value`; returns its ARN and first VersionId. */
export function createSecret(moto: MotoServer, name: string, value: string): { arn: string; versionId: string } {
    const out = JSON.parse(aws(moto, ["secretsmanager", "create-secret", "--name", name, "--secret-string", value, "--output", "json"]));
    return { arn: out.ARN, versionId: out.VersionId };
}

/** A rotation: a new current version of the secret; returns its VersionId. */
export function rotateSecret(moto: MotoServer, id: string, value: string): string {
    return JSON.parse(aws(moto, ["secretsmanager", "put-secret-value", "--secret-id", id, "--secret-string", value, "--output", "json"])).VersionId;
}

/** The AWS CLI's path before any shim directory is put first on PATH. */
export function realAws(): string {
    return spawnSync("bash", ["-c", "command -v aws"], { encoding: "utf8" }).stdout.trim();
}

/** A run's exit code and duration, printed (fail-fast cases are measured, never asserted on time). */
export async function timedRun(what: string, name: string, env: Record<string, string>, args: string[] = []): Promise<ScriptResult & { ms: number }> {
    const started = Date.now();
    const result = await runScript(name, env, args);
    const ms = Date.now() - started;
    console.log(`      ${name} ${what}: exit ${result.code} after ${ms} ms`);
    return { ...result, ms };
}
