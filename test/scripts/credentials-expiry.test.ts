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
import * as http from "http";
import * as net from "net";
import { seedSql } from "../../tools/sandbox/oauth2-schema";
import { explain, runScript, scriptEnv, useScriptServers } from "../../tools/sandbox/scripts";
import { LOCALHOST } from "../../tools/sandbox/servers";

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
        const target = new URL(servers.moto.endpoint);
        const proxy = http.createServer((request, response) => {
            const chunks: Buffer[] = [];
            request.on("data", (chunk: Buffer) => chunks.push(chunk));
            request.on("end", () => {
                const body = Buffer.concat(chunks);
                const url = request.url ?? "";
                if (request.method === "GET" && url.includes(".dump.gpg?") && url.includes("Signature=")) {
                    // S3's REST error document for a presigned request signed with an expired session token, HTTP 400.
                    refused.push("presigned GET");
                    response.writeHead(400, { "Content-Type": "application/xml" });
                    response.end('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>ExpiredToken</Code><Message>The provided token has expired.</Message><RequestId>0000</RequestId><HostId>proxy</HostId></Error>');
                    return;
                }
                if (body.includes("Action=GetCallerIdentity")) {
                    refused.push("GetCallerIdentity");
                    response.writeHead(403, { "Content-Type": "text/xml" });
                    response.end('<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>ExpiredToken</Code><Message>The security token included in the request is expired</Message></Error><RequestId>0000</RequestId></ErrorResponse>');
                    return;
                }
                const upstream = http.request({ host: target.hostname, port: target.port, method: request.method, path: url, headers: request.headers }, (answer) => {
                    response.writeHead(answer.statusCode ?? 502, answer.headers);
                    answer.pipe(response);
                });
                upstream.on("error", (err) => {
                    response.writeHead(502);
                    response.end(String(err));
                });
                upstream.end(body);
            });
        });
        await new Promise<void>((resolve) => proxy.listen(0, LOCALHOST, () => resolve()));
        const endpoint = `http://${LOCALHOST}:${(proxy.address() as net.AddressInfo).port}`;
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
