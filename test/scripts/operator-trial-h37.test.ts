/**
 * The residuals of an operator's trial (branch h37-ops), beyond operator-trial.test.ts: a restore pointed at a
 * read replica or a read-only database; a bucket in another region than AWS_REGION (S3's answers from a proxy in
 * front of moto, which does not give them); a backup host whose clock ran behind; the *-export.sh scripts under
 * the faults db-backup.sh was tried with; a Secrets Manager endpoint whose host does not resolve. Real
 * PostgreSQL 15 (and a real streaming standby made from it with pg_basebackup -R) and moto on 127.0.0.1.
 */
import { strict as assert } from "assert";
import * as dns from "dns";
import * as fs from "fs";
import * as http from "http";
import * as net from "net";
import * as path from "path";
import { spawnSync } from "child_process";
import { seedSql } from "../../tools/sandbox/oauth2-schema";
import { createSecret, explain, listVersions, putObject, runScript, scriptEnv, useScriptServers } from "../../tools/sandbox/scripts";
import { LOCALHOST, MotoServer, PgServer, pgAsOwner, scratchDir } from "../../tools/sandbox/servers";
import { fakeKubectl, refusingHeads } from "../support/shims";

describe("operator trial h37: the residuals", function () {
    this.timeout(180_000);
    const servers = useScriptServers("oauth2-dr-operator-trial-h37-", "operator trial h37 passphrase");
    let bucket: string;
    let manifestKey: string;

    before(async function () {
        const { pg, moto, passphrase } = servers;
        pg.createDatabase("oauth2db");
        pg.psql(seedSql({ clients: 3, authorizations: 50, consents: 2 }));
        bucket = servers.newBucket("oauth2-h37");
        const backup = await runScript("db-backup.sh", scriptEnv(pg, moto, bucket, passphrase));
        assert.equal(backup.code, 0, explain(backup));
        manifestKey = backup.stdout.trim();
    });

    it("restore.sh and restore-verification.sh pointed at a standby (read replica): exit 3 before the dump's download, naming host:port/db, why, and the primary", async function () {
        const { pg, moto, passphrase } = servers;
        // A real hot standby of the test primary (pg_basebackup -R: standby.signal and primary_conninfo), as
        // tools/drill/world.ts makes its replica.
        const dir = scratchDir("h37-standby-");
        let standby: PgServer | undefined;
        try {
            if (process.getuid?.() === 0) {
                spawnSync("chown", ["postgres:postgres", dir]);
            }
            pgAsOwner("pg_basebackup", ["-h", LOCALHOST, "-p", String(pg.port), "-U", "postgres", "-D", path.join(dir, "data"), "-R", "-X", "stream", "-c", "fast"]);
            standby = await PgServer.start({ dataDir: path.join(dir, "data"), settings: { hot_standby: "on" } });
            const port = String(standby.port);
            const restore = await runScript("restore.sh", { ...scriptEnv(pg, moto, bucket, passphrase), PGPORT: port }, ["--yes"]);
            assert.equal(restore.code, 3, explain(restore));
            assert.match(restore.stderr, new RegExp(`ERROR: cannot restore into ${LOCALHOST}:${port}/oauth2db: the server is a standby \\(read replica\\): pg_is_in_recovery\\(\\) is true, it takes no writes; restore into the primary: point PGHOST/PGPORT at its writer endpoint \\(the dump was not downloaded\\)`), explain(restore));
            assert.doesNotMatch(restore.stderr, /downloading/, explain(restore));
            const verify = await runScript("restore-verification.sh", { ...scriptEnv(pg, moto, bucket, passphrase), VERIFY_PGHOST: LOCALHOST, VERIFY_PGPORT: port });
            assert.equal(verify.code, 3, explain(verify));
            assert.match(verify.stderr, new RegExp(`ERROR: cannot create the scratch database on ${LOCALHOST}:${port}/postgres: the server is a standby \\(read replica\\)`), explain(verify));
            assert.doesNotMatch(verify.stderr, /downloading/, explain(verify));
        } finally {
            await standby?.stop();
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("restore.sh into a database with default_transaction_read_only = on: exit 3 before the download, naming the setting and the statement that lifts it", async function () {
        const { pg, moto, passphrase } = servers;
        pg.createDatabase("readonly");
        pg.psql(seedSql({ clients: 2, authorizations: 3, consents: 1 }), "readonly");
        pg.psql("ALTER DATABASE readonly SET default_transaction_read_only = on", "postgres");
        const restore = await runScript("restore.sh", scriptEnv(pg, moto, bucket, passphrase, "readonly"), ["--yes", "--source-database", "oauth2db"]);
        assert.equal(restore.code, 3, explain(restore));
        assert.match(restore.stderr, new RegExp(`ERROR: cannot restore into ${LOCALHOST}:${pg.port}/readonly: its sessions are read-only \\(transaction_read_only on: default_transaction_read_only = on, pg_settings source: database\\); if this is the intended target, ALTER DATABASE "readonly" RESET default_transaction_read_only \\(the dump was not downloaded\\)`), explain(restore));
        assert.doesNotMatch(restore.stderr, /downloading/, explain(restore));
    });

    /**
     * S3 in front of moto for a bucket that lives in `bucketRegion`. moto does not emulate S3's answers to a request
     * for a bucket of another region (it serves every bucket whatever region a request is signed for): this proxy
     * gives them, shaped from the S3 API reference (Error responses; botocore's S3RegionRedirectorv2 reads the same
     * fields), and forwards the rest to moto unchanged.
     *   "regional" (S3's regional endpoints): a request signed for another region (Authorization's or a presigned
     *     URL's X-Amz-Credential scope) is answered with the region, x-amz-bucket-region: a HEAD 301 without a body,
     *     a SigV4 presigned GET 400 AuthorizationQueryParametersError, any other 400 AuthorizationHeaderMalformed
     *     with <Region>; a request signed for `bucketRegion` and a SigV2 presigned URL are served. (What this
     *     cannot show: the host name of a URL, which names the region at AWS; the endpoint here is one for all.)
     *   "other-region-endpoint" (AWS_ENDPOINT_URL of another region, e.g. an S3 interface VPC endpoint, which serves
     *     its own region's buckets only): every request is answered 301 PermanentRedirect (x-amz-bucket-region;
     *     a HEAD without a body), whatever region it is signed for.
     */
    async function regionProxy(moto: MotoServer, bucketRegion: string, mode: "regional" | "other-region-endpoint"): Promise<{ endpoint: string; refused: () => number; close(): void }> {
        const upstream = new URL(moto.env().AWS_ENDPOINT_URL);
        let refused = 0;
        const answer = (res: http.ServerResponse, head: boolean, status: number, code: string, message: string, extra = "") => {
            refused++;
            const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message>${extra}<RequestId>H37REGIONPROXY</RequestId><HostId>h37</HostId></Error>`;
            res.writeHead(status, { "x-amz-bucket-region": bucketRegion, "content-type": "application/xml", ...(head ? {} : { "content-length": Buffer.byteLength(body) }) });
            res.end(head ? undefined : body);
        };
        const server = http.createServer((req, res) => {
            const url = new URL(req.url ?? "/", "http://proxy");
            const scope = /Credential=[^/,\s]+\/\d{8}\/([^/]+)\//.exec(req.headers.authorization ?? "") ?? /^[^/]+\/\d{8}\/([^/]+)\//.exec(url.searchParams.get("X-Amz-Credential") ?? "");
            const signedFor = scope?.[1] ?? "";
            const head = req.method === "HEAD";
            const bucket = url.pathname.split("/")[1] ?? "";
            if (mode === "other-region-endpoint") {
                return answer(res, head, 301, "PermanentRedirect", "The bucket you are attempting to access must be addressed using the specified endpoint. Please send all future requests to this endpoint.", `<Endpoint>${bucket}.s3.${bucketRegion}.amazonaws.com</Endpoint><Bucket>${bucket}</Bucket>`);
            }
            // A SigV2 presigned URL (botocore's default for a client of a region that still takes SigV2) names no
            // region: at s3.amazonaws.com, DNS routes it to the bucket's region, which serves it.
            if (signedFor !== bucketRegion && !url.searchParams.has("AWSAccessKeyId")) {
                if (head) {
                    return answer(res, head, 301, "PermanentRedirect", "");
                }
                if (url.searchParams.has("X-Amz-Credential")) {
                    return answer(res, head, 400, "AuthorizationQueryParametersError", `Error parsing the X-Amz-Credential parameter; the region '${signedFor}' is wrong; expecting '${bucketRegion}'`, `<Region>${bucketRegion}</Region>`);
                }
                return answer(res, head, 400, "AuthorizationHeaderMalformed", `The authorization header is malformed; the region '${signedFor}' is wrong; expecting '${bucketRegion}'`, `<Region>${bucketRegion}</Region>`);
            }
            const forward = http.request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
                res.writeHead(up.statusCode ?? 502, up.headers);
                up.pipe(res);
            });
            forward.on("error", () => res.destroy());
            req.pipe(forward);
        });
        await new Promise<void>((resolve) => server.listen(0, LOCALHOST, () => resolve()));
        return {
            endpoint: `http://${LOCALHOST}:${(server.address() as net.AddressInfo).port}`,
            refused: () => refused,
            close: () => {
                server.closeAllConnections();
                server.close();
            },
        };
    }

    it("a bucket in another region than AWS_REGION, at S3's regional endpoints: botocore follows S3's answer for the calls, the download's presigned URL is signed for the bucket's region (was: for AWS_REGION, refused with 400 after every call had worked, exit 4), the restore succeeds and says the regions once", async function () {
        const { pg, moto, passphrase } = servers;
        const proxy = await regionProxy(moto, "ap-southeast-2", "regional");
        try {
            pg.createDatabase("otherregion");
            // A run in eu-north-1, a region that takes SigV4 only: botocore presigns with SigV4 there, for the client's
            // region (generate_presigned_url ignores the region S3 named), and S3 refuses the URL. (A client of a
            // region that takes SigV2 presigns with SigV2, which names no region: that one worked before.)
            const env = { ...scriptEnv(pg, moto, bucket, passphrase, "otherregion"), ...moto.env("eu-north-1"), AWS_ENDPOINT_URL: proxy.endpoint };
            const restore = await runScript("restore.sh", env, ["--yes", "--source-database", "oauth2db"]);
            assert.equal(restore.code, 0, explain(restore));
            // Not vacuous: the first call was signed for eu-north-1 and refused, the rest went to ap-southeast-2.
            assert.ok(proxy.refused() >= 1, `no request was refused for its region (${proxy.refused()})`);
            // Said once (every call takes a redirect; in a region failure the primary's bucket is the one that fails).
            const notes = restore.stderr.match(new RegExp(`restore: note: the bucket ${bucket} is in ap-southeast-2 \\(S3's x-amz-bucket-region\\), this run's AWS_REGION is eu-north-1: its calls are redirected there; set AWS_REGION=ap-southeast-2, or point BUCKET at the backup bucket of eu-north-1\n`, "g"));
            assert.equal(notes?.length, 1, explain(restore));
        } finally {
            proxy.close();
        }
    });

    it("a bucket in another region behind an endpoint of AWS_REGION that cannot redirect (a VPC endpoint): storage error (4) naming the bucket, both regions and AWS_REGION to set", async function () {
        const { pg, moto, passphrase } = servers;
        const proxy = await regionProxy(moto, "ap-southeast-2", "other-region-endpoint");
        try {
            const env = { ...scriptEnv(pg, moto, bucket, passphrase), AWS_ENDPOINT_URL: proxy.endpoint };
            const listed = await runScript("restore.sh", env, ["--yes"]);
            assert.equal(listed.code, 4, explain(listed));
            assert.match(listed.stderr, new RegExp(`ERROR: cannot list s3://${bucket}/database/manifests/: An error occurred \\(PermanentRedirect\\) when calling the ListObjectsV2 operation: .* \\(the bucket ${bucket} is in ap-southeast-2 \\(S3's x-amz-bucket-region\\), this run's AWS_REGION is us-east-1: set AWS_REGION=ap-southeast-2, or point BUCKET at the backup bucket of us-east-1, e\\.g\\. the DR stack's replica\\)`), explain(listed));
            // A manifest named: its HEAD's 301 has no body, only the header.
            const named = await runScript("restore.sh", env, ["--yes", "--manifest", "database/manifests/oauth2db-20260101T000000Z-00000000.json"]);
            assert.equal(named.code, 4, explain(named));
            assert.match(named.stderr, new RegExp(`ERROR: cannot read the manifest s3://${bucket}/\\S+: An error occurred \\(301\\) when calling the HeadObject operation: .*\\(the bucket ${bucket} is in ap-southeast-2 \\(S3's x-amz-bucket-region\\), this run's AWS_REGION is us-east-1: set AWS_REGION=ap-southeast-2`), explain(named));
        } finally {
            proxy.close();
        }
    });

    it("a backup host whose clock ran behind (the newest backup's name is older than an earlier one's): restore.sh still takes the newest by name, and says that S3 stored the other one later, naming it and --manifest", async function () {
        const { pg, moto, passphrase } = servers;
        // Two manifests of the one real dump: A, named 2026-12-04 05:00 by a host with a right clock, stored first;
        // then B, the next day's backup by a host two days behind, named 2026-12-03 05:00, stored a second later.
        const text = JSON.stringify(servers.manifest(bucket, manifestKey));
        const newestByName = "clock/manifests/oauth2db-20261204T050000Z-aaaaaaaa.json";
        const storedLast = "clock/manifests/oauth2db-20261203T050000Z-bbbbbbbb.json";
        putObject(moto, bucket, newestByName, text);
        await new Promise((r) => setTimeout(r, 1100));
        putObject(moto, bucket, storedLast, text);
        // Into a database that does not exist: the warning comes before the target is connected to (a whole restore
        // here would only cost CPU; the choice is what the warning names).
        const run = await runScript("restore.sh", { ...scriptEnv(pg, moto, bucket, passphrase, "no_such_db"), BACKUP_PREFIX: "clock/" }, ["--yes", "--source-database", "oauth2db"]);
        assert.equal(run.code, 3, explain(run));
        assert.match(run.stderr, new RegExp(`restore: WARNING: S3 stored s3://${bucket}/${storedLast} \\d+ s after ${newestByName}, the newest by the time in its name, which this run restores: the times in the names \\(the backup hosts' clocks\\) and S3's disagree, a backup host's clock ran behind or ahead \\(or a manifest was written again later\\)\\. Check which backup is the newest \\(npm run recovery-points lists each with its started_at\\); to restore the other, pass --manifest ${storedLast}\n`), explain(run));
        assert.match(run.stderr, /ERROR: cannot connect to \S+\/no_such_db/, explain(run));
    });

    describe("the *-export.sh scripts under the operator faults db-backup.sh was tried with", function () {
        let env: Record<string, string>;
        let jwks: http.Server;
        let dir: string;
        before(async function () {
            const { pg, moto, passphrase } = servers;
            dir = scratchDir("h37-exports-");
            const shims = path.join(dir, "bin");
            fs.mkdirSync(shims);
            fakeKubectl(shims);
            fs.writeFileSync(path.join(dir, "secret.yaml"), "apiVersion: v1\ndata:\n  signing-key: c2lnbmluZw==\nkind: Secret\nmetadata:\n  name: oauth2-server-secrets\n  namespace: oauth2-system\ntype: Opaque\n");
            fs.writeFileSync(path.join(dir, "configmaps.yaml"), "apiVersion: v1\nitems:\n- apiVersion: v1\n  data:\n    a: b\n  kind: ConfigMap\n  metadata:\n    name: oauth2-server-config\n    namespace: oauth2-system\nkind: List\nmetadata:\n  resourceVersion: \"\"\n");
            createSecret(moto, "oauth2/jwk-private-key", '{"kty":"RSA","kid":"key-1","d":"private-1"}');
            jwks = http.createServer((_req, res) => res.end(JSON.stringify({ keys: [{ kty: "RSA", kid: "key-1", e: "AQAB", n: "sXch" }] })));
            await new Promise<void>((resolve) => jwks.listen(0, LOCALHOST, () => resolve()));
            env = {
                ...scriptEnv(pg, moto, servers.newBucket("oauth2-h37-exports"), passphrase),
                EXTRA_PATH: shims,
                SHIM_SECRET_FILE: path.join(dir, "secret.yaml"),
                SHIM_CONFIGMAPS_FILE: path.join(dir, "configmaps.yaml"),
                JWKS_URL: `http://${LOCALHOST}:${(jwks.address() as net.AddressInfo).port}/jwks`,
            };
        });
        after(function () {
            jwks?.close();
            if (dir) fs.rmSync(dir, { recursive: true, force: true });
        });
        const EXPORTS = ["client-config-export.sh", "app-config-export.sh", "secrets-export.sh"];

        /** An endpoint that accepts connections and never answers (as operator-trial.test.ts's). */
        async function silentEndpoint(): Promise<{ url: string; close(): void }> {
            const held: net.Socket[] = [];
            const silent = net.createServer((socket) => held.push(socket));
            await new Promise<void>((resolve) => silent.listen(0, LOCALHOST, () => resolve()));
            return {
                url: `http://${LOCALHOST}:${(silent.address() as net.AddressInfo).port}`,
                close() {
                    held.forEach((socket) => socket.destroy());
                    silent.close();
                },
            };
        }

        it("a scratch directory it cannot write, an AWS profile that is not there: exit 2 naming them (already so: pinned)", async function () {
            for (const script of EXPORTS) {
                const tmp = await runScript(script, { ...env, TMPDIR: "/nonexistent-h37/gone" });
                assert.equal(tmp.code, 2, `${script}: ${explain(tmp)}`);
                assert.match(tmp.stderr, /ERROR: scratch directory \/nonexistent-h37\/gone \(TMPDIR\) is not usable: .*No such file or directory/, `${script}: ${explain(tmp)}`);
                const profile = await runScript(script, { ...env, AWS_ACCESS_KEY_ID: "", AWS_SECRET_ACCESS_KEY: "", AWS_SESSION_TOKEN: "", AWS_PROFILE: "oauth2-dr-vault" });
                assert.equal(profile.code, 2, `${script}: ${explain(profile)}`);
                assert.match(profile.stderr, /ERROR: AWS_PROFILE=oauth2-dr-vault: the AWS profile is not in the AWS config files read/, `${script}: ${explain(profile)}`);
            }
        });

        it("a bucket that is not there: exit 4 naming the object and NoSuchBucket (was 'upload of X failed' without a cause: S3's answer went to /dev/null; client-config-export took NoSuchBucket for 'no export yet')", async function () {
            for (const script of EXPORTS) {
                const result = await runScript(script, { ...env, BUCKET: "no-such-bucket-h37" });
                assert.equal(result.code, 4, `${script}: ${explain(result)}`);
                // client-config-export reads its pointer (a GET: NoSuchBucket); the others HEAD the object, whose 404 cannot
                // tell a missing bucket from a missing key, and then upload (PutObject: NoSuchBucket).
                const said = script === "client-config-export.sh" ? "cannot read s3:\\/\\/no-such-bucket-h37\\/clients\\/latest\\.sha256" : "upload of s3:\\/\\/no-such-bucket-h37\\/\\S+ failed";
                assert.match(result.stderr, new RegExp(`ERROR: ${said}: An error occurred \\(NoSuchBucket\\) when calling the \\w+ operation: The specified bucket does not exist\n`), `${script}: ${explain(result)}`);
            }
        });

        it("an S3 endpoint that never answers: exit 4 after one wait, naming the object and the timeout (was: a second wait for the upload, then 'upload of X failed' without a cause)", async function () {
            const silent = await silentEndpoint();
            try {
                for (const script of EXPORTS) {
                    const result = await runScript(script, { ...env, AWS_ENDPOINT_URL: silent.url, AWS_MAX_ATTEMPTS: "1", AWS_HELPER_READ_TIMEOUT: "1" });
                    assert.equal(result.code, 4, `${script}: ${explain(result)}`);
                    assert.match(result.stderr, /ERROR: cannot read (the stored sha256 of )?s3:\/\/oauth2-h37-exports-\d+\/\S+( \(its x-amz-meta-sha256; nothing was uploaded\))?: Read timeout on endpoint URL/, `${script}: ${explain(result)}`);
                    assert.equal(result.stderr.match(/no answer from/g)?.length, 1, `${script}: ${explain(result)}`);
                }
            } finally {
                silent.close();
            }
        });

        it("a Secrets Manager endpoint whose host does not resolve, met before any S3 call: exit 4 (the network's, as for S3) saying the host and its setting first, not the step's 5 (passphrase), 3 (credentials) or 8 (source)", async function () {
            // A resolver that answers "no such name" for .invalid (RFC 2606) is needed (endpoint-resolve.test.ts).
            const code = await new Promise<string | undefined>((resolve) => dns.lookup("sm.example.invalid", (error) => resolve(error?.code)));
            if (code !== "ENOTFOUND") {
                console.log(`      skipped: the resolver answers ${code ?? "an address"} for a .invalid name, not ENOTFOUND`);
                this.skip();
            }
            // S3 at moto and Secrets Manager at a host with a typo, in the service-specific variables botocore reads
            // when AWS_ENDPOINT_URL is unset.
            const sm = "http://sm.example.invalid:4566";
            const split = { ...env, AWS_ENDPOINT_URL: "", AWS_ENDPOINT_URL_S3: env.AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_SECRETS_MANAGER: sm };
            const fault = `ERROR: cannot resolve host sm\\.example\\.invalid \\(from AWS_ENDPOINT_URL_SECRETS_MANAGER=http://sm\\.example\\.invalid:4566\\): .*; not retried`;
            const cases: [string, Record<string, string>, string][] = [
                ["client-config-export.sh", { PASSPHRASE_FILE: "", BACKUP_PASSPHRASE_SECRET_ID: "oauth2-h37/backup-passphrase" }, "cannot read the backup passphrase oauth2-h37/backup-passphrase from Secrets Manager: cannot resolve host"],
                ["db-backup.sh", { PASSPHRASE_FILE: "", BACKUP_PASSPHRASE_SECRET_ID: "oauth2-h37/backup-passphrase" }, "cannot read the backup passphrase oauth2-h37/backup-passphrase from Secrets Manager: cannot resolve host"],
                ["db-backup.sh", { PGPASSWORD: "", DB_CREDENTIALS_SECRET_ID: "oauth2-h37/db-credentials" }, "cannot read the database credentials \\(oauth2-h37/db-credentials\\): cannot resolve host"],
                ["secrets-export.sh", {}, "1 source\\(s\\) failed"],
            ];
            for (const [script, extra, step] of cases) {
                const result = await runScript(script, { ...split, ...extra });
                assert.equal(result.code, 4, `${script}: ${explain(result)}`);
                assert.match(result.stderr, new RegExp(`${fault} \\(${step}`), `${script}: ${explain(result)}`);
                assert.doesNotMatch(result.stderr, /no answer from|retrying/, `${script}: ${explain(result)}`);
            }
        });

        it("a role that may PutObject but not HeadObject (no s3:GetObject): exit 4, nothing uploaded again (was: every run uploaded a new version of each item, pushing the rotations out of the 7 versions kept)", async function () {
            const { moto } = servers;
            const shims = path.join(dir, "refusing-heads");
            fs.mkdirSync(shims, { recursive: true });
            refusingHeads(shims, ".yaml.gpg");
            for (const script of ["secrets-export.sh", "app-config-export.sh"]) {
                const first = await runScript(script, env);
                assert.equal(first.code, 0, `${script}: ${explain(first)}`);
                const key = script === "secrets-export.sh" ? "secrets/oauth2-server-secrets.yaml.gpg" : "config/configmaps.yaml";
                const versions = () => listVersions(moto, env.BUCKET, key).length;
                const before = versions();
                if (script === "app-config-export.sh") refusingHeads(shims, "configmaps.yaml");
                const denied = await runScript(script, { ...env, PYTHONPATH: shims });
                assert.equal(denied.code, 4, `${script}: ${explain(denied)}`);
                assert.match(denied.stderr, new RegExp(`ERROR: cannot read the stored sha256 of s3://${env.BUCKET}/${key} \\(its x-amz-meta-sha256; nothing was uploaded\\): An error occurred \\(403\\) when calling the HeadObject operation: Forbidden`), `${script}: ${explain(denied)}`);
                assert.equal(versions(), before, `${script}: a new version of ${key} was uploaded`);
            }
        });
    });
});
