/**
 * An S3 endpoint whose host name does not resolve (a typo in AWS_ENDPOINT_URL, or in AWS_REGION for AWS's own
 * endpoint): scripts/aws-helper.py says "cannot resolve host X (from SETTING)" at once, without retrying a name the
 * resolver says does not exist, and the script ends with its storage exit code, 4 (h35 residual 3; it was
 * "Could not connect to the endpoint URL" after AWS_MAX_ATTEMPTS attempts, each said as "no answer
 * (EndpointConnectionError)"). No servers: the run fails at its first S3 call. The `.invalid` top-level domain
 * never resolves (RFC 2606); a resolver that cannot be reached (EAI_AGAIN) is a temporary failure, retried as before.
 */
import { strict as assert } from "assert";
import * as dns from "dns";
import * as fs from "fs";
import { explain, passphraseFile, runScript, tempDir } from "../../tools/sandbox/scripts";

describe("an S3 endpoint whose host does not resolve: 'cannot resolve host' naming the host and its setting, at once, exit 4 (h35)", function () {
    this.timeout(60_000);
    let dir = "";
    let passphrase = "";

    before(async function () {
        // The cases need a resolver that answers "no such name" (a machine without one fails every lookup with
        // EAI_AGAIN, a temporary failure the helper retries): skipped there, saying so.
        const code = await new Promise<string | undefined>((resolve) => dns.lookup("us-esat-1.example.invalid", (error) => resolve(error?.code)));
        if (code !== "ENOTFOUND") {
            console.log(`      skipped: the resolver answers ${code ?? "an address"} for a .invalid name, not ENOTFOUND`);
            this.skip();
        }
        dir = tempDir("oauth2-dr-endpoint-resolve-");
        passphrase = passphraseFile(dir, "endpoint resolve passphrase");
    });

    after(function () {
        if (dir) {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    // The database is never reached: the runs fail at their first S3 call (listing the manifests).
    const env = (extra: Record<string, string>) => ({
        AWS_ACCESS_KEY_ID: "testing",
        AWS_SECRET_ACCESS_KEY: "testing",
        AWS_REGION: "us-east-1",
        AWS_CONFIG_FILE: "/dev/null",
        AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
        AWS_EC2_METADATA_DISABLED: "true",
        AWS_MAX_ATTEMPTS: "5",
        BUCKET: "resolve-bucket",
        PASSPHRASE_FILE: passphrase,
        PGHOST: "127.0.0.1",
        PGPORT: "1",
        TMPDIR: dir,
        ...extra,
    });

    for (const [name, args] of [["restore.sh", ["--yes"]], ["restore-verification.sh", []]] as const) {
        it(`${name}: AWS_ENDPOINT_URL with a host that does not resolve`, async function () {
            const endpoint = "http://mot0.example.invalid:5000";
            const result = await runScript(name, env({ AWS_ENDPOINT_URL: endpoint }), [...args]);
            assert.equal(result.code, 4, explain(result));
            assert.match(result.stderr, new RegExp(`ERROR: cannot list s3://resolve-bucket/database/manifests/: cannot resolve host mot0\\.example\\.invalid \\(from AWS_ENDPOINT_URL=${endpoint.replace(/\./g, "\\.")}\\): .*; not retried\n`), explain(result));
            // Not retried: no attempt said, no second attempt made.
            assert.doesNotMatch(result.stderr, /no answer from|retrying|EndpointConnectionError|Could not connect/, explain(result));
        });
    }

    it("restore.sh: AWS's own endpoint for an AWS_REGION with a typo", async function () {
        const result = await runScript("restore.sh", env({ AWS_REGION: "us-esat-1" }), ["--yes"]);
        assert.equal(result.code, 4, explain(result));
        assert.match(result.stderr, /ERROR: cannot list s3:\/\/resolve-bucket\/database\/manifests\/: cannot resolve host \S*s3\.us-esat-1\.amazonaws\.com \(from AWS's endpoint for AWS_REGION=us-esat-1\): .*; not retried\n/, explain(result));
        assert.doesNotMatch(result.stderr, /no answer from|retrying/, explain(result));
    });
});
