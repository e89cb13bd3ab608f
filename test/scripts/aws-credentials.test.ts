/**
 * The scripts' AWS configuration faults (h29-residuals): a missing AWS_PROFILE, credentials AWS refuses
 * (unknown access key: moto_server with its IAM authentication on; expired: a local stub answering with AWS's
 * documented ExpiredToken error shapes, which moto does not produce), an IAM Identity Center (SSO) profile
 * whose session has expired or was never started. Each is a configuration error (exit 2) naming the profile or
 * variable and what to do, not a storage (4), encryption (5) or source (8) error. A storage error that is not
 * the credentials' (a missing bucket) stays exit 4.
 */
import { strict as assert } from "assert";
import * as crypto from "crypto";
import * as fs from "fs";
import * as http from "http";
import * as net from "net";
import * as path from "path";
import { spawn, spawnSync } from "child_process";
import * as os from "os";
import { SCRIPTS, baseEnv, explain, resolvedHelperPython, runScript, scriptEnv, tempDir, useScriptServers } from "../../tools/sandbox/scripts";
import { LOCALHOST, MotoServer } from "../../tools/sandbox/servers";

describe("AWS configuration faults: exit 2 naming the profile or variable and what to do (was exit 4)", function () {
    this.timeout(120_000);
    const servers = useScriptServers("oauth2-dr-aws-credentials-", "aws credentials passphrase");
    const restore = ["--yes", "--source-database", "oauth2db"];
    let scratch: string;

    before(function () {
        servers.pg.createDatabase("oauth2db");
        scratch = tempDir("oauth2-dr-aws-credentials-home-");
    });
    after(function () {
        fs.rmSync(scratch, { recursive: true, force: true });
    });

    it("credentials moto does not know (its IAM authentication on): exit 2 'are not valid (InvalidAccessKeyId ...)' naming the environment's variables, in restore.sh and db-backup.sh", async function () {
        const strict = await MotoServer.start({ INITIAL_NO_AUTH_ACTION_COUNT: "0" });
        try {
            for (const [script, args] of [["restore.sh", restore], ["db-backup.sh", []]] as [string, string[]][]) {
                const env = { ...scriptEnv(servers.pg, strict, "no-such-key-bucket", servers.passphrase), AWS_ACCESS_KEY_ID: "AKIAEXAMPLEUNKNOWN01", AWS_SECRET_ACCESS_KEY: "not-a-secret", AWS_SESSION_TOKEN: "" };
                const result = await runScript(script, env, args);
                assert.equal(result.code, 2, `${script}: ${explain(result)}`);
                assert.match(result.stderr, /ERROR: the AWS credentials \(env\) are not valid \(InvalidAccessKeyId from ListObjectsV2: .*\): AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN in the environment: set them to new credentials .*, then run again \(.*no-such-key-bucket.*InvalidAccessKeyId/, `${script}: ${explain(result)}`);
                assert.doesNotMatch(result.stderr, /not-a-secret/, script);
            }
        } finally {
            await strict.stop();
        }
    });

    it("wal-archive.sh push by PostgreSQL's archiver (one AWS helper for the cluster, outliving the push that started it): every push with credentials moto does not know exits 2, the second too", async function () {
        const strict = await MotoServer.start({ INITIAL_NO_AUTH_ACTION_COUNT: "0" });
        // A data directory (pg_wal, postmaster.pid) whose "postmaster" is a sleep this test ends; a short TMPDIR for the socket.
        const dataDir = path.join(scratch, "archiving-cluster");
        fs.mkdirSync(path.join(dataDir, "pg_wal"), { recursive: true });
        const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "wac-"));
        const postmaster = spawn("sleep", ["600"], { stdio: "ignore" });
        try {
            fs.writeFileSync(path.join(dataDir, "postmaster.pid"), `${postmaster.pid}\n${dataDir}\n`);
            const env = { ...scriptEnv(servers.pg, strict, "no-such-key-bucket", servers.passphrase), AWS_ACCESS_KEY_ID: "AKIAEXAMPLEUNKNOWN02", AWS_SECRET_ACCESS_KEY: "not-a-secret", AWS_SESSION_TOKEN: "", TMPDIR: tmp };
            for (const name of ["0000000100000000000000D1", "0000000100000000000000D2"]) {
                fs.writeFileSync(path.join(dataDir, "pg_wal", name), crypto.randomBytes(64 * 1024));
                const result = spawnSync("bash", [path.join(SCRIPTS, "wal-archive.sh"), "push", `pg_wal/${name}`, name], { cwd: dataDir, env: baseEnv(env), encoding: "utf8", timeout: 60_000 });
                // The first push's work directory (where a helper of its own writes the fault) is gone by the second.
                assert.equal(result.status, 2, `push ${name}: ${result.stderr}`);
                assert.match(result.stderr, /ERROR: the AWS credentials \(env\) are not valid \((InvalidAccessKeyId|InvalidClientTokenId)/, `push ${name}: ${result.stderr}`);
                assert.doesNotMatch(result.stderr, /not-a-secret/);
            }
        } finally {
            postmaster.kill();
            await strict.stop();
            fs.rmSync(tmp, { recursive: true, force: true });
        }
    });

    it("expired credentials (a stub answering S3's ExpiredToken and Secrets Manager's ExpiredTokenException): exit 2 'have expired', also when the first call is the passphrase's secret (was 5)", async function () {
        const seen: string[] = [];
        const stub = http.createServer((request, response) => {
            let body = "";
            request.on("data", (chunk) => (body += chunk));
            request.on("end", () => {
                const target = String(request.headers["x-amz-target"] ?? "");
                seen.push(target || (body.includes("Action=GetCallerIdentity") ? "sts.GetCallerIdentity" : `${request.method} ${request.url}`));
                if (request.method === "HEAD") {
                    // S3 answers a HEAD's error without a body: an expired token is a bare 400.
                    response.writeHead(400);
                    response.end();
                    return;
                }
                if (body.includes("Action=GetCallerIdentity")) {
                    // STS's query protocol error document, HTTP 403.
                    response.writeHead(403, { "Content-Type": "text/xml" });
                    response.end('<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>ExpiredToken</Code><Message>The security token included in the request is expired</Message></Error><RequestId>0000</RequestId></ErrorResponse>');
                    return;
                }
                if (target.startsWith("secretsmanager.")) {
                    // AWS's JSON protocol error: __type and message, HTTP 400.
                    response.writeHead(400, { "Content-Type": "application/x-amz-json-1.1" });
                    response.end(JSON.stringify({ __type: "ExpiredTokenException", message: "The security token included in the request is expired" }));
                    return;
                }
                // S3's REST error document (docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html), HTTP 400.
                response.writeHead(400, { "Content-Type": "application/xml" });
                response.end('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>ExpiredToken</Code><Message>The provided token has expired.</Message><RequestId>0000000000000000</RequestId><HostId>stub</HostId></Error>');
            });
        });
        await new Promise<void>((resolve) => stub.listen(0, LOCALHOST, () => resolve()));
        const endpoint = `http://${LOCALHOST}:${(stub.address() as net.AddressInfo).port}`;
        try {
            const base = { ...scriptEnv(servers.pg, servers.moto, "expired-bucket", servers.passphrase), AWS_ENDPOINT_URL: endpoint, AWS_ACCESS_KEY_ID: "ASIAEXAMPLEEXPIRED01", AWS_SECRET_ACCESS_KEY: "expired-secret", AWS_SESSION_TOKEN: "expired-token" };
            const listed = await runScript("restore.sh", base, restore);
            assert.equal(listed.code, 2, explain(listed));
            assert.match(listed.stderr, /ERROR: the AWS credentials \(env\) have expired \(ExpiredToken from ListObjectsV2\): AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN in the environment: set them to new credentials/, explain(listed));
            // A manifest named: its HEAD is the first S3 call (a bare 400), told apart by STS's answer.
            const head = await runScript("restore.sh", base, [...restore, "--manifest", "database/manifests/oauth2db-20261205T000000Z-0123456789abcdef.json"]);
            assert.equal(head.code, 2, explain(head));
            assert.match(head.stderr, /ERROR: the AWS credentials \(env\) have expired \(ExpiredToken from GetCallerIdentity\): .* \(cannot read the manifest .*\(400\) when calling the HeadObject operation/, explain(head));
            // The passphrase's secret read first (db-backup.sh: Secrets Manager's JSON error).
            const secret = await runScript("db-backup.sh", { ...base, PASSPHRASE_FILE: "", BACKUP_PASSPHRASE_SECRET_ID: "oauth2-dr/backup-passphrase" });
            assert.equal(secret.code, 2, explain(secret));
            assert.match(secret.stderr, /ERROR: the AWS credentials \(env\) have expired \((ExpiredTokenException from GetSecretValue|ExpiredToken from ListObjectsV2)\)/, explain(secret));
            assert.ok(seen.includes("secretsmanager.GetSecretValue"), seen.join(", "));
            assert.doesNotMatch(listed.stderr + head.stderr + secret.stderr, /expired-secret|expired-token/);
        } finally {
            stub.close();
        }
    });

    it("an SSO profile whose session expired (cached token past expiresAt) or was never started: exit 2 'run aws sso login --profile <name>' (was exit 4, \"Unknown service: 'sso'\")", async function () {
        const home = path.join(scratch, "sso");
        const startUrl = "https://example.awsapps.com/start";
        fs.mkdirSync(path.join(home, ".aws", "sso", "cache"), { recursive: true });
        const config = path.join(home, "config");
        fs.writeFileSync(config, `[profile dr-sso]\nsso_start_url = ${startUrl}\nsso_region = us-east-1\nsso_account_id = 111122223333\nsso_role_name = Restore\nregion = us-east-1\n`);
        const env = { ...scriptEnv(servers.pg, servers.moto, "sso-bucket", servers.passphrase), HOME: home, AWS_ACCESS_KEY_ID: "", AWS_SECRET_ACCESS_KEY: "", AWS_SESSION_TOKEN: "", AWS_PROFILE: "dr-sso", AWS_CONFIG_FILE: config };
        const never = await runScript("restore.sh", env, restore);
        assert.equal(never.code, 2, explain(never));
        assert.match(never.stderr, /ERROR: AWS_PROFILE=dr-sso: its SSO session has expired or was never started \(Error loading SSO Token: .*\): run aws sso login --profile dr-sso, then run again/, explain(never));
        // An expired cached token: botocore 1.43 (pip) refuses it itself; Debian bookworm's 1.29 (the backup image's)
        // sends it to the SSO portal, whose UnauthorizedException it raises as the same UnauthorizedSSOTokenError,
        // which no offline test can reach (the portal's endpoint is not AWS_ENDPOINT_URL's there). Checked with the
        // botocore that refuses it locally (1.31 and later; 1.43 verified).
        const version = spawnSync(resolvedHelperPython() ?? "python3", ["-c", "import botocore; print(botocore.__version__)"], { encoding: "utf8" }).stdout.trim();
        const [major, minor] = version.split(".").map(Number);
        if (major === 1 && minor < 31) {
            return;
        }
        // botocore's cache file of a start URL: ~/.aws/sso/cache/<sha1 of the URL>.json
        const cache = path.join(home, ".aws", "sso", "cache", `${crypto.createHash("sha1").update(startUrl).digest("hex")}.json`);
        fs.writeFileSync(cache, JSON.stringify({ startUrl, region: "us-east-1", accessToken: "cached-token", expiresAt: "2020-01-01T00:00:00Z" }));
        const expired = await runScript("restore.sh", env, restore);
        assert.equal(expired.code, 2, explain(expired));
        assert.match(expired.stderr, /ERROR: AWS_PROFILE=dr-sso: its SSO session has expired or was never started \(The SSO session associated with this profile has expired.*\): run aws sso login --profile dr-sso, then run again/, explain(expired));
        assert.doesNotMatch(expired.stderr, /Unknown service|cached-token/, explain(expired));
    });

    it("a storage error that is not the credentials' (a bucket that does not exist) stays exit 4, without a configuration line", async function () {
        const result = await runScript("restore.sh", scriptEnv(servers.pg, servers.moto, "no-such-bucket-h29", servers.passphrase), restore);
        assert.equal(result.code, 4, explain(result));
        assert.match(result.stderr, /ERROR: cannot list s3:\/\/no-such-bucket-h29\/database\/manifests\/: .*NoSuchBucket/, explain(result));
        assert.doesNotMatch(result.stderr, /AWS_PROFILE=|credentials/, explain(result));
    });
});
