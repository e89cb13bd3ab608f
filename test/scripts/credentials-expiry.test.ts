/**
 * Temporary credentials that expire during a run (h31 residual 3). The scripts' AWS helper keeps botocore's
 * credential chain (refreshable providers: web identity/IRSA, SSO, assumed roles are renewed before they expire);
 * static temporary keys cannot be renewed, and their expiry must end the run with exit 2 (configuration) naming
 * their source and expiry, not 4 (storage):
 * - the dump's download (curl on a presigned URL) refused by S3 with ExpiredToken: a proxy in front of
 *   moto_server answers that GET and STS's GetCallerIdentity with AWS's documented ExpiredToken errors (moto
 *   does not expire credentials), everything else goes to moto;
 * - keys whose AWS_CREDENTIAL_EXPIRATION (as `aws configure export-credentials --format env` writes it) has
 *   passed: botocore's refresh reads the same keys again and raises "still expired" (was exit 4).
 */
import { strict as assert } from "assert";
import { spawn } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { seedSql } from "../../tools/sandbox/oauth2-schema";
import { baseEnv, createSecret, explain, resolvedHelperPython, runScript, scriptEnv, SCRIPTS, sharedMoto, useScriptServers } from "../../tools/sandbox/scripts";
import { LOCALHOST, MotoServer } from "../../tools/sandbox/servers";

/** What a shaping proxy answers itself: an AWS error document in place of moto's answer. */
interface Shaped {
    status: number;
    contentType: string;
    body: string;
}

/**
 * A proxy on 127.0.0.1 in front of moto_server: `answer` may answer a request itself (AWS's error for what moto
 * does not model); the rest goes to moto, its answer passed on as `rewrite` leaves its text (unchanged when not
 * given). Resolves to the proxy's endpoint and a close function.
 */
async function motoProxy(
    moto: MotoServer,
    answer: (request: http.IncomingMessage, body: Buffer) => Shaped | undefined,
    rewrite?: (request: http.IncomingMessage, body: Buffer, status: number, text: string) => string,
): Promise<{ endpoint: string; close: () => void }> {
    const target = new URL(moto.endpoint);
    const proxy = http.createServer((request, response) => {
        const chunks: Buffer[] = [];
        request.on("data", (chunk: Buffer) => chunks.push(chunk));
        request.on("end", () => {
            const body = Buffer.concat(chunks);
            const shaped = answer(request, body);
            if (shaped) {
                response.writeHead(shaped.status, { "Content-Type": shaped.contentType });
                response.end(shaped.body);
                return;
            }
            const upstream = http.request({ host: target.hostname, port: target.port, method: request.method, path: request.url, headers: request.headers }, (reply) => {
                if (!rewrite) {
                    response.writeHead(reply.statusCode ?? 502, reply.headers);
                    reply.pipe(response);
                    return;
                }
                const parts: Buffer[] = [];
                reply.on("data", (chunk: Buffer) => parts.push(chunk));
                reply.on("end", () => {
                    const headers = { ...reply.headers };
                    delete headers["content-length"];
                    response.writeHead(reply.statusCode ?? 502, headers);
                    response.end(rewrite(request, body, reply.statusCode ?? 502, Buffer.concat(parts).toString("utf8")));
                });
            });
            upstream.on("error", (err) => {
                response.writeHead(502);
                response.end(String(err));
            });
            upstream.end(body);
        });
    });
    await new Promise<void>((resolve) => proxy.listen(0, LOCALHOST, () => resolve()));
    return { endpoint: `http://${LOCALHOST}:${(proxy.address() as net.AddressInfo).port}`, close: () => proxy.close() };
}

describe("credentials that expire mid-run: exit 2 naming their source and expiry, not 4 (moto_server, a proxy shaping ExpiredToken)", function () {
    this.timeout(120_000);
    const servers = useScriptServers("oauth2-dr-credentials-expiry-", "credentials expiry passphrase");
    const restore = ["--yes", "--source-database", "oauth2db"];
    let bucket: string;

    before(async function () {
        servers.pg.createDatabase("oauth2db");
        servers.pg.psql(seedSql({ clients: 2, authorizations: 5, consents: 2 }));
        bucket = servers.newBucket("oauth2-expiry");
        const backup = await runScript("db-backup.sh", scriptEnv(servers.pg, servers.moto, bucket, servers.passphrase));
        assert.equal(backup.code, 0, explain(backup));
    });

    it("the dump's presigned GET refused with ExpiredToken (the keys expired after the run's first calls): restore.sh and restore-verification.sh exit 2 naming env, its AWS_CREDENTIAL_EXPIRATION and what to do", async function () {
        const refused: string[] = [];
        const proxy = await motoProxy(servers.moto, (request, body) => {
            const url = request.url ?? "";
            if (request.method === "GET" && url.includes(".dump.gpg?") && url.includes("Signature=")) {
                // S3's REST error document for a presigned request signed with an expired session token, HTTP 400.
                refused.push("presigned GET");
                return { status: 400, contentType: "application/xml", body: '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>ExpiredToken</Code><Message>The provided token has expired.</Message><RequestId>0000</RequestId><HostId>proxy</HostId></Error>' };
            }
            if (body.includes("Action=GetCallerIdentity")) {
                refused.push("GetCallerIdentity");
                return { status: 403, contentType: "text/xml", body: '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>ExpiredToken</Code><Message>The security token included in the request is expired</Message></Error><RequestId>0000</RequestId></ErrorResponse>' };
            }
            return undefined;
        });
        const endpoint = proxy.endpoint;
        // Keys as `aws configure export-credentials --format env` gives them: their expiry beside them (still ahead
        // by the local clock; S3 and STS are the judges).
        const expiry = new Date(Date.now() + 3_600_000).toISOString().replace(/\.\d{3}Z$/, "Z");
        const env = (database: string, extra: Record<string, string> = {}) => ({
            ...scriptEnv(servers.pg, servers.moto, bucket, servers.passphrase, database),
            AWS_ENDPOINT_URL: endpoint,
            AWS_ACCESS_KEY_ID: "ASIAEXAMPLEEXPIRING1",
            AWS_SECRET_ACCESS_KEY: "expiring-secret",
            AWS_SESSION_TOKEN: "expiring-token",
            AWS_CREDENTIAL_EXPIRATION: expiry,
            ...extra,
        });
        const words = new RegExp(`ERROR: the AWS credentials \\(env\\) have expired \\(ExpiredToken from GetCallerIdentity; valid until ${expiry}, AWS_CREDENTIAL_EXPIRATION\\): AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN in the environment: set them to new credentials`);
        try {
            servers.pg.createDatabase("expiry_target");
            const restored = await runScript("restore.sh", env("expiry_target"), restore);
            assert.deepEqual(refused, ["presigned GET", "GetCallerIdentity"], explain(restored));
            assert.equal(restored.code, 2, explain(restored));
            assert.match(restored.stderr, words, explain(restored));
            assert.deepEqual(refused, ["presigned GET", "GetCallerIdentity"]);
            const verified = await runScript("restore-verification.sh", env("oauth2db", { VERIFY_DATABASE: "expiry_verify" }));
            assert.equal(verified.code, 2, explain(verified));
            assert.match(verified.stderr, words, explain(verified));
            assert.doesNotMatch(restored.stderr + verified.stderr + verified.stdout, /expiring-secret|expiring-token/);
        } finally {
            proxy.close();
        }
    });

    it("keys whose AWS_CREDENTIAL_EXPIRATION has passed (botocore: 'refreshed, but still expired'): exit 2 naming env and the expiry, not 4", async function () {
        const env = {
            ...scriptEnv(servers.pg, servers.moto, bucket, servers.passphrase, "oauth2db"),
            AWS_ACCESS_KEY_ID: "ASIAEXAMPLEEXPIRED02",
            AWS_SECRET_ACCESS_KEY: "expired-secret",
            AWS_SESSION_TOKEN: "expired-token",
            AWS_CREDENTIAL_EXPIRATION: "2020-01-01T00:00:00Z",
        };
        const result = await runScript("restore.sh", env, restore);
        assert.equal(result.code, 2, explain(result));
        assert.match(result.stderr, /ERROR: the AWS credentials \(env\) have expired \(botocore refreshed them and they are still expired; valid until 2020-01-01T00:00:00Z, AWS_CREDENTIAL_EXPIRATION\): AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN in the environment: set them to new credentials/, explain(result));
        assert.doesNotMatch(result.stderr, /expired-secret|expired-token/);
    });
});

/**
 * The vault's restore-keys role (RESTORE_PRIVATE_KEYS_ROLE_ARN): the helper assumes it at the vault's endpoint and,
 * since h32, assumes it again before the session ends (botocore's deferred refresh, as the CLI's assume-role
 * profiles). Before, the role's credentials were kept for the helper's life: a call to the vault after the
 * session's end (a helper serving a long restore or recovery, STS's default hour) failed with
 * ExpiredTokenException. moto issues sessions but never expires them; a proxy in front of it shortens each
 * session AssumeRole returns to SESSION_SECONDS (its Expiration: inside botocore's refresh window, so that the
 * helper assumes the role again before its next call, as it does in the last quarter hour of STS's hour) and,
 * once the test has ended a session, refuses a call signed with it with Secrets Manager's ExpiredTokenException,
 * as AWS does past the end.
 */
describe("the vault role's assumed credentials are renewed before they expire (aws-helper.py, moto_server behind a proxy that shortens each session and ends it)", function () {
    this.timeout(60_000);
    let moto: MotoServer;
    before(async function () {
        moto = await sharedMoto();
    });

    it("two reads of the vault's secret, the second after the first session ended: both answered, the role assumed twice, no call refused", async function () {
        const secret = createSecret(moto, "oauth2-dr/refresh-keys", "armored keys (test)");
        // 5 min: botocore renews from 15 min before a session's end (before every call from 10 min), so each read
        // assumes the role again, as a read in the last quarter of STS's hour does. The session's end is the test's
        // word (ended, after the first read), not the proxy's clock: with a 2 s Expiration, a slow machine (CI at
        // load 17) got the AssumeRole's answer, or made its call, after that end, and a correct helper failed
        // ("refreshed ... still expired", 401; forced with the answer held 2.1 s).
        const SESSION_SECONDS = 300;
        const sessions = new Set<string>();
        const ended = new Set<string>();
        const seen: string[] = [];
        const proxy = await motoProxy(
            moto,
            (request) => {
                const token = String(request.headers["x-amz-security-token"] ?? "");
                if (ended.has(token)) {
                    seen.push("call with an ended session");
                    return { status: 400, contentType: "application/x-amz-json-1.1", body: JSON.stringify({ __type: "ExpiredTokenException", message: "The security token included in the request is expired" }) };
                }
                return undefined;
            },
            (request, body, status, text) => {
                const token = String(request.headers["x-amz-security-token"] ?? "");
                const assume = body.includes("Action=AssumeRole");
                seen.push(assume ? "AssumeRole" : sessions.has(token) ? "call with a live session" : "call with the run's credentials");
                if (!assume || status !== 200) {
                    return text;
                }
                // The session moto issued ends in SESSION_SECONDS (its Expiration as STS writes it).
                sessions.add(/<SessionToken>([^<]+)<\/SessionToken>/.exec(text)![1]);
                return text.replace(/<Expiration>[^<]+<\/Expiration>/, `<Expiration>${new Date(Date.now() + SESSION_SECONDS * 1000).toISOString()}</Expiration>`);
            },
        );
        const vault = proxy.endpoint;
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "h32r-"));
        const socket = path.join(dir, "aws.sock");
        const script = spawn("sleep", ["600"], { stdio: "ignore" });
        const helper = spawn(resolvedHelperPython() ?? "python3", [path.join(SCRIPTS, "aws-helper.py"), socket, String(script.pid)], {
            env: baseEnv({ ...moto.env(), AWS_ENDPOINT_URL: moto.endpoint }),
            stdio: ["ignore", "ignore", "pipe"],
        });
        let helperErr = "";
        helper.stderr!.on("data", (chunk: Buffer) => (helperErr += chunk.toString()));
        const query = new URLSearchParams({ id: secret.arn, region: "us-east-1", endpoint_url: vault, role_arn: "arn:aws:iam::123456789012:role/oauth2-dr-vault-restore", role_session_name: "oauth2-dr-test" });
        const read = () =>
            new Promise<{ status: number; body: string }>((resolve, reject) => {
                const call = http.request({ socketPath: socket, path: `/secretsmanager/get?${query}`, method: "GET" }, (answer) => {
                    let body = "";
                    answer.on("data", (chunk: Buffer) => (body += chunk.toString()));
                    answer.on("end", () => resolve({ status: answer.statusCode ?? 0, body }));
                });
                call.on("error", reject);
                call.end();
            });
        try {
            for (let waited = 0; !fs.existsSync(socket); waited += 50) {
                assert.ok(waited < 30_000 && helper.exitCode === null, `the helper did not start: ${helperErr}`);
                await new Promise((resolve) => setTimeout(resolve, 50));
            }
            const first = await read();
            assert.equal(first.status, 200, first.body);
            assert.equal(JSON.parse(first.body).SecretString, "armored keys (test)");
            // The first session ended, as for a call an hour and more into a run: a helper that kept it is refused.
            assert.equal(sessions.size, 1, seen.join(", "));
            sessions.forEach((token) => ended.add(token));
            const second = await read();
            assert.equal(second.status, 200, `${second.body} (calls the proxy saw: ${seen.join(", ")})`);
            assert.equal(JSON.parse(second.body).SecretString, "armored keys (test)");
            assert.deepEqual(seen, ["AssumeRole", "call with a live session", "AssumeRole", "call with a live session"]);
        } finally {
            helper.kill();
            script.kill();
            proxy.close();
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});
