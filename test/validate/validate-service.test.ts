/**
 * scripts/validate-service.sh against a real OpenID provider (oidc-provider, client_credentials, JWT access
 * tokens signed by its JWKS) whose clients and issued tokens live in a real PostgreSQL 15, with moto for
 * Secrets Manager (the smoke-test client) and S3 (the backed-up secrets/jwks.json). Every fault of the issue:
 * health DOWN, wrong issuer, a kid rotated away, wrong client secret, an unreachable endpoint, a token signed
 * by a key the JWKS does not serve; plus a server on another database and the job's own sources failing.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { SCHEMA_SQL } from "../../tools/sandbox/oauth2-schema";
import { createBucket, createSecret, explain, putObject, rotateSecret, runScript, ScriptResult, sharedMoto, startScript } from "../../tools/sandbox/scripts";
import { freePort, LOCALHOST, MotoServer, PG_BIN, PgServer } from "../../tools/sandbox/servers";
import { ecSigningKey, OidcServer, publicJwks, rsaSigningKey, smokeClientSql, type PrivateJwk } from "../../tools/drill/oidc-server";

const CLIENT_ID = "dr-smoke-test";
const CLIENT_SECRET = "Zq8-smoke/secret+with:odd&chars";
const SECRET_ID = "oauth2/smoke-test-client";


/** "PASS"/"FAIL" of each check, by name. */
function verdicts(result: ScriptResult): Record<string, string> {
    const lines = result.stdout.trim().split("\n").filter(Boolean);
    return Object.fromEntries(lines.map((line) => {
        const m = /^(PASS|FAIL) ([a-z ]+): /.exec(line);
        assert.ok(m, `not a PASS/FAIL line: ${line}`);
        return [m[2], m[1]];
    }));
}

function line(result: ScriptResult, check: string): string {
    return result.stdout.split("\n").find((l) => l.includes(` ${check}: `)) ?? "";
}

describe("validate-service.sh (real OpenID provider, PostgreSQL 15, moto)", function () {
    this.timeout(120_000);
    let pg: PgServer;
    let moto: MotoServer;
    let server: OidcServer;
    let current: PrivateJwk;
    let previous: PrivateJwk;
    let bucket: string;

    function env(overrides: Record<string, string> = {}): Record<string, string> {
        return {
            ...pg.env(),
            ...moto.env(),
            ISSUER: server.issuer,
            SMOKE_CLIENT_SECRET_ID: SECRET_ID,
            BUCKET: bucket,
            HTTP_TIMEOUT: "5",
            ...overrides,
        };
    }

    before(async function () {
        // The worker's moto (emptied before it is handed out, as a fresh one), not one of its own: a moto_server start
        // is half a second of CPU (tools/sandbox/scripts.ts sharedMoto).
        [pg, moto] = await Promise.all([PgServer.start(), sharedMoto()]);
        for (const db of ["oauth2db", "oauth2db_other"]) {
            pg.createDatabase(db);
            pg.psql(SCHEMA_SQL + smokeClientSql(CLIENT_ID, CLIENT_SECRET), db);
        }
        bucket = "oauth2-backups-validate";
        createBucket(moto, bucket);
        createSecret(moto, SECRET_ID, JSON.stringify({ client_id: CLIENT_ID, client_secret: CLIENT_SECRET }));
        current = rsaSigningKey("2026-11-key");
        previous = rsaSigningKey("2026-05-key");
        // The last backup was taken while both keys were served (the server signs with the newest).
        putObject(moto, bucket, "secrets/jwks.json", JSON.stringify(publicJwks([current, previous])));
        server = await OidcServer.start({ keys: [current, previous], databaseUrl: `postgres://postgres@${LOCALHOST}:${pg.port}/oauth2db` });
    });

    after(async function () {
        await server?.stop();
        await Promise.all([pg?.stop(), moto?.running ? moto.reset().catch(() => undefined) : undefined]);
    });

    afterEach(function () {
        server.health = "UP";
        server.jwksFilter = (keys) => keys;
    });

    it("passes every check against a healthy server on the expected database", async function () {
        const result = await runScript("validate-service.sh", env());
        assert.equal(result.code, 0, explain(result));
        assert.deepEqual(verdicts(result), { health: "PASS", discovery: "PASS", token: "PASS", "key continuity": "PASS", database: "PASS" });
        assert.match(line(result, "token"), /kid 2026-11-key/);
        assert.match(line(result, "key continuity"), /all 2 backed-up kid/);
        assert.match(line(result, "database"), new RegExp(`oauth2db at ${LOCALHOST}:${pg.port}`));
    });

    it("a passing validation starts few tools: jq 11 times at most (one call per document), curl 7 (health and discovery in one), no tr, sort or comm (it runs on every recovery's RTO path)", async function () {
        // Wrappers ahead on PATH count each start, then run the real tool.
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "oauth2-dr-validate-count-"));
        try {
            const counts = path.join(dir, "counts");
            for (const tool of ["jq", "curl", "tr", "sort", "comm"]) {
                const real = ["/usr/bin", "/bin", "/usr/local/bin"].map((d) => path.join(d, tool)).find((f) => fs.existsSync(f))!;
                fs.writeFileSync(path.join(dir, tool), `#!/bin/sh\necho ${tool} >> '${counts}'\nexec '${real}' "$@"\n`, { mode: 0o755 });
            }
            const result = await runScript("validate-service.sh", env({ EXTRA_PATH: dir }));
            assert.equal(result.code, 0, explain(result));
            const started = fs.readFileSync(counts, "utf8").split("\n").filter(Boolean);
            const count = (tool: string) => started.filter((t) => t === tool).length;
            assert.ok(count("jq") <= 11, `jq started ${count("jq")} times`);
            assert.ok(count("curl") <= 7, `curl started ${count("curl")} times`);
            assert.deepEqual([count("tr"), count("sort"), count("comm")], [0, 0, 0]);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("--wait-for-stdin: reads its sources (Secrets Manager, the backed-up JWKS) at once, checks nothing of the service before a line on stdin, every check after it; stdin closed first: exit 2, nothing checked", async function () {
        // A curl wrapper ahead on PATH records each call's URL (the helper's calls go through curl too).
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "oauth2-dr-validate-wait-"));
        try {
            const calls = path.join(dir, "calls");
            fs.writeFileSync(path.join(dir, "curl"), `#!/bin/sh\nfor a; do case "$a" in http*) echo "$a" >> '${calls}' ;; esac; done\nexec /usr/bin/curl "$@"\n`, { mode: 0o755 });
            const urls = () => (fs.existsSync(calls) ? fs.readFileSync(calls, "utf8").split("\n").filter(Boolean) : []);
            // Down until the line: a check made before it would FAIL health.
            server.health = "DOWN";
            const issued = server.issued;
            // Never signalled: its AWS helper may be forked (TEST_ONLY_AWS_HELPER_FORKS), as runScript's are.
            const run = startScript("validate-service.sh", env({ EXTRA_PATH: dir }), ["--wait-for-stdin"], { stdin: true, helperForks: true });
            const deadline = Date.now() + 60_000;
            while (!(urls().includes("http://aws-helper/secretsmanager/get") && urls().includes("http://aws-helper/s3/get"))) {
                assert.ok(Date.now() < deadline, `the sources were not read before the line: ${urls().join(", ")}`);
                await new Promise((r) => setTimeout(r, 50));
            }
            assert.deepEqual(urls().filter((u) => !u.startsWith("http://aws-helper/")), [], "nothing of the service is asked before the line");
            assert.equal(server.issued, issued);
            server.health = "UP";
            run.child.stdin!.end("go\n");
            const result = await run.done;
            assert.equal(result.code, 0, explain(result));
            assert.deepEqual(verdicts(result), { health: "PASS", discovery: "PASS", token: "PASS", "key continuity": "PASS", database: "PASS" });
            assert.equal(server.issued, issued + 1);

            const closed = startScript("validate-service.sh", env(), ["--wait-for-stdin"], { stdin: true, helperForks: true });
            closed.child.stdin!.end();
            const nothing = await closed.done;
            assert.equal(nothing.code, 2, explain(nothing));
            assert.doesNotMatch(nothing.stdout, /^(PASS|FAIL) /m);
            assert.match(nothing.stderr, /--wait-for-stdin: stdin closed before the line that starts the checks; nothing was checked/);
            const unknown = await runScript("validate-service.sh", env(), ["--no-such-option"]);
            assert.equal(unknown.code, 2, explain(unknown));
            assert.match(unknown.stderr, /unknown argument "--no-such-option"; usage: validate-service.sh \[--wait-for-stdin\]/);
        } finally {
            server.health = "UP";
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("the requests that need only discovery run at once (the live JWKS, the unauthenticated token request, the smoke-test client's token), and the database query alongside the signature's check; every check still PASSes", async function () {
        // Wrappers ahead on PATH: the JWKS GET waits (at most 30 s: the test took 11.5 s whole at load 17) for the client's token request to be in
        // flight, and the signature's openssl dgst for the database's psql; each records whether it saw it.
        // One after the other, neither ever does.
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "oauth2-dr-validate-concurrent-"));
        try {
            const mark = (name: string) => path.join(dir, name);
            const waitFor = (marker: string, record: string) =>
                `i=0; while [ ! -f '${mark(marker)}' ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i + 1)); done\n` +
                `if [ -f '${mark(marker)}' ]; then echo yes > '${mark(record)}'; else echo no > '${mark(record)}'; fi\n`;
            fs.writeFileSync(path.join(dir, "curl"), "#!/bin/sh\n" +
                `for a; do case "$a" in --config) touch '${mark("token-requested")}' ;; */jwks) jwks=1 ;; esac; done\n` +
                `if [ -n "$jwks" ]; then\n${waitFor("token-requested", "jwks-saw-token")}fi\n` +
                "exec /usr/bin/curl \"$@\"\n", { mode: 0o755 });
            fs.writeFileSync(path.join(dir, "psql"), `#!/bin/sh\ntouch '${mark("psql-started")}'\nexec '${path.join(PG_BIN, "psql")}' "$@"\n`, { mode: 0o755 });
            fs.writeFileSync(path.join(dir, "openssl"), "#!/bin/sh\n" +
                `if [ "$1" = dgst ]; then\n${waitFor("psql-started", "dgst-saw-psql")}fi\n` +
                "exec /usr/bin/openssl \"$@\"\n", { mode: 0o755 });
            const result = await runScript("validate-service.sh", env({ EXTRA_PATH: dir }));
            assert.equal(result.code, 0, explain(result));
            assert.deepEqual(verdicts(result), { health: "PASS", discovery: "PASS", token: "PASS", "key continuity": "PASS", database: "PASS" });
            assert.equal(fs.readFileSync(mark("jwks-saw-token"), "utf8").trim(), "yes", "the JWKS was fetched before the client's token request started");
            assert.equal(fs.readFileSync(mark("dgst-saw-psql"), "utf8").trim(), "yes", "the signature was checked before the database query started");
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("never prints the client secret or the token", async function () {
        const before = server.issued;
        const result = await runScript("validate-service.sh", env());
        assert.equal(server.issued, before + 1);
        const token = pg.psql(`SELECT access_token_value FROM oauth2_authorization ORDER BY access_token_issued_at DESC LIMIT 1`);
        assert.ok(token.length > 100);
        for (const text of [result.stdout, result.stderr]) {
            assert.ok(!text.includes(CLIENT_SECRET), "the client secret was printed");
            assert.ok(!text.includes(token), "the access token was printed");
        }
    });

    it("health DOWN: FAIL health, exit 6", async function () {
        server.health = "DOWN";
        const result = await runScript("validate-service.sh", env());
        assert.equal(result.code, 6, explain(result));
        assert.equal(verdicts(result).health, "FAIL");
        assert.match(line(result, "health"), /reports DOWN \(HTTP 503\)/);
        assert.equal(verdicts(result).token, "PASS");
    });

    it("wrong issuer: FAIL discovery and token, naming both issuers", async function () {
        const result = await runScript("validate-service.sh", env({ ISSUER: "https://auth.example.com", SERVER_URL: server.url }));
        assert.equal(result.code, 6, explain(result));
        assert.match(line(result, "discovery"), new RegExp(`issuer is "${server.issuer}", expected "https://auth.example.com"`));
        assert.match(line(result, "token"), /iss is .* expected "https:\/\/auth.example.com"/);
        assert.equal(verdicts(result).health, "PASS");
    });

    it("a kid rotated away: FAIL key continuity naming the missing kid", async function () {
        server.jwksFilter = (keys) => keys.filter((k) => k.kid !== previous.kid);
        const result = await runScript("validate-service.sh", env());
        assert.equal(result.code, 6, explain(result));
        assert.match(line(result, "key continuity"), /^FAIL key continuity: kid\(s\) 2026-05-key of the backed-up JWKS are no longer served/);
        assert.equal(verdicts(result).token, "PASS");
    });

    it("wrong client secret: FAIL token with the server's error; the database is not checked", async function () {
        rotateSecret(moto, SECRET_ID, JSON.stringify({ client_id: CLIENT_ID, client_secret: "not-the-secret" }));
        try {
            const result = await runScript("validate-service.sh", env());
            assert.equal(result.code, 6, explain(result));
            assert.match(line(result, "token"), /got HTTP 401 .*invalid_client/);
            assert.match(line(result, "database"), /not checked: no token/);
        } finally {
            rotateSecret(moto, SECRET_ID, JSON.stringify({ client_id: CLIENT_ID, client_secret: CLIENT_SECRET }));
        }
    });

    it("an unreachable endpoint: every check FAILs, exit 6", async function () {
        const closed = `http://${LOCALHOST}:${await freePort()}`;
        const result = await runScript("validate-service.sh", env({ ISSUER: closed }));
        assert.equal(result.code, 6, explain(result));
        assert.deepEqual(verdicts(result), { health: "FAIL", discovery: "FAIL", token: "FAIL", "key continuity": "FAIL", database: "FAIL" });
        assert.match(line(result, "health"), /unreachable/);
    });

    it("a token signed by a key the JWKS does not serve: FAIL token naming the kid", async function () {
        server.jwksFilter = (keys) => keys.filter((k) => k.kid !== current.kid);
        const result = await runScript("validate-service.sh", env());
        assert.equal(result.code, 6, explain(result));
        assert.match(line(result, "token"), /signed with kid "2026-11-key" \(RS256\), which the live JWKS does not serve/);
    });

    it("a token whose kid is served with other key material: FAIL token, the signature does not verify", async function () {
        // Other key material under the token's kid: the previous key's (an RSA-2048 key is 150 ms of CPU to make;
        // any key but the one that signed does, and the signing key's material is then served under no kid at all).
        const impostor = publicJwks([{ ...previous, kid: current.kid }]).keys[0];
        server.jwksFilter = (keys) => keys.map((k) => (k.kid === current.kid ? impostor : k));
        const result = await runScript("validate-service.sh", env());
        assert.equal(result.code, 6, explain(result));
        assert.match(line(result, "token"), /signature does not verify against JWK "2026-11-key"/);
    });

    for (const alg of ["ES256", "ES384", "PS256"] as const) {
        it(`verifies ${alg} tokens too, and rejects one whose key is swapped`, async function () {
            const key = alg === "PS256" ? { ...rsaSigningKey(`${alg}-key`), alg } : ecSigningKey(`${alg}-key`, alg);
            const other = await OidcServer.start({ keys: [key, current, previous], alg, databaseUrl: `postgres://postgres@${LOCALHOST}:${pg.port}/oauth2db` });
            try {
                const result = await runScript("validate-service.sh", env({ ISSUER: other.issuer }));
                assert.equal(result.code, 0, explain(result));
                assert.match(line(result, "token"), new RegExp(`kid ${alg}-key`));
                // PS256: the previous key's material under this kid (as for the impostor above: not the signing key's).
                const swapped = alg === "PS256" ? publicJwks([{ ...previous, kid: key.kid }]).keys[0] : publicJwks([ecSigningKey(key.kid, alg)]).keys[0];
                other.jwksFilter = (keys) => keys.map((k) => (k.kid === key.kid ? swapped : k));
                const bad = await runScript("validate-service.sh", env({ ISSUER: other.issuer }));
                assert.equal(bad.code, 6, explain(bad));
                assert.match(line(bad, "token"), new RegExp(`signature does not verify against JWK "${alg}-key"`));
            } finally {
                await other.stop();
            }
        });
    }

    it("the server on another database than the one DNS and the stack point at: FAIL database", async function () {
        await server.switchDatabase(`postgres://postgres@${LOCALHOST}:${pg.port}/oauth2db_other`);
        try {
            const result = await runScript("validate-service.sh", env());
            assert.equal(result.code, 6, explain(result));
            assert.equal(verdicts(result).token, "PASS");
            assert.match(line(result, "database"), /not in oauth2db at .*: the server writes to another database/);
        } finally {
            await server.switchDatabase(`postgres://postgres@${LOCALHOST}:${pg.port}/oauth2db`);
        }
    });

    it("the database check in one psql: a bytea access_token_value (the generic schema) is matched as UTF-8; a schema without the column FAILs naming it", async function () {
        // The generic schema's table (token values as blob: bytea), fed by a trigger with what the server writes.
        pg.psql(`CREATE SCHEMA IF NOT EXISTS generic;
            CREATE TABLE IF NOT EXISTS generic.oauth2_authorization (access_token_value bytea);
            CREATE OR REPLACE FUNCTION generic.copy_token() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN IF NEW.access_token_value IS NOT NULL THEN INSERT INTO generic.oauth2_authorization VALUES (convert_to(NEW.access_token_value::text, 'UTF8')); END IF; RETURN NEW; END $$;
            DROP TRIGGER IF EXISTS copy_token ON public.oauth2_authorization;
            CREATE TRIGGER copy_token AFTER INSERT OR UPDATE ON public.oauth2_authorization FOR EACH ROW EXECUTE FUNCTION generic.copy_token();
            CREATE SCHEMA IF NOT EXISTS empty;`);
        try {
            const bytea = await runScript("validate-service.sh", env({ DB_SCHEMA: "generic" }));
            assert.equal(bytea.code, 0, explain(bytea));
            assert.match(line(bytea, "database"), /^PASS database: the token just issued is recorded in oauth2db at /);
            const missing = await runScript("validate-service.sh", env({ DB_SCHEMA: "empty" }));
            assert.equal(missing.code, 6, explain(missing));
            assert.match(line(missing, "database"), /^FAIL database: oauth2db at \S+ has no empty\.oauth2_authorization\.access_token_value$/);
        } finally {
            pg.psql("DROP TRIGGER IF EXISTS copy_token ON public.oauth2_authorization; DROP SCHEMA IF EXISTS generic CASCADE; DROP SCHEMA IF EXISTS empty");
        }
    });

    it("its own sources failing: Secrets Manager exits 8, a missing jwks.json backup exits 4; each run removes its work directory and says its exit (h39: a failed run left it)", async function () {
        // A temp dir of this test's own: what a run leaves there is seen.
        const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "oauth2-dr-validate-left-"));
        try {
            const noSecret = await runScript("validate-service.sh", env({ SMOKE_CLIENT_SECRET_ID: "oauth2/no-such-secret", TMPDIR: tmp }));
            assert.equal(noSecret.code, 8, explain(noSecret));
            assert.match(line(noSecret, "token"), /cannot read the smoke-test client from Secrets Manager \(oauth2\/no-such-secret\)/);
            const emptyBucket = "oauth2-backups-empty";
            createBucket(moto, emptyBucket);
            const noBackup = await runScript("validate-service.sh", env({ BUCKET: emptyBucket, TMPDIR: tmp }));
            assert.equal(noBackup.code, 4, explain(noBackup));
            assert.match(line(noBackup, "key continuity"), /cannot read s3:\/\/oauth2-backups-empty\/secrets\/jwks.json/);
            for (const [run, code] of [[noSecret, 8], [noBackup, 4]] as const) {
                assert.match(run.stderr, new RegExp(`FAILED with exit code ${code}\n$`), explain(run));
            }
            assert.deepEqual(fs.readdirSync(tmp), [], "the runs' work directories are left");
        } finally {
            fs.rmSync(tmp, { recursive: true, force: true });
        }
    });

    it("an AWS_PROFILE that is not in the config files: both sources fail, exit 2 (configuration) with the profile's line once, not 8 (h29-residuals)", async function () {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "oauth2-dr-validate-profile-"));
        try {
            fs.writeFileSync(path.join(dir, "config"), "[profile oauth2-dr-prod]\nregion = us-east-1\n");
            const result = await runScript("validate-service.sh", env({ AWS_ACCESS_KEY_ID: "", AWS_SECRET_ACCESS_KEY: "", AWS_SESSION_TOKEN: "", AWS_PROFILE: "oauth2-dr-vault", AWS_CONFIG_FILE: path.join(dir, "config") }));
            assert.equal(result.code, 2, explain(result));
            assert.equal(result.stderr.match(/ERROR: AWS_PROFILE=oauth2-dr-vault: the AWS profile is not in the AWS config files read .*; set AWS_PROFILE to one of: oauth2-dr-prod/g)?.length, 1, explain(result));
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("configuration errors exit 2 before any request, naming the variable", async function () {
        const before = server.issued;
        const { ISSUER: _unused, ...withoutIssuer } = env();
        const result = await runScript("validate-service.sh", withoutIssuer);
        assert.equal(result.code, 2, explain(result));
        assert.match(result.stderr, /ISSUER is required/);
        const bad = await runScript("validate-service.sh", env({ ISSUER: "auth.example.com" }));
        assert.equal(bad.code, 2, explain(bad));
        assert.match(bad.stderr, /ISSUER must be an http\(s\) URL/);
        assert.equal(server.issued, before);
    });
    it("a token the server cannot save (its oauth2_authorization table gone) is refused as Spring's server refuses it, 500 server_error, and no stack is printed (h39: koa printed one per request on the drill's output)", async function () {
        pg.createDatabase("oauth2db_unsaved");
        pg.psql(SCHEMA_SQL + smokeClientSql(CLIENT_ID, CLIENT_SECRET) + "DROP TABLE oauth2_authorization;", "oauth2db_unsaved");
        const unsaved = await OidcServer.start({ keys: [current], databaseUrl: `postgres://postgres@${LOCALHOST}:${pg.port}/oauth2db_unsaved` });
        const written: string[] = [];
        const write = process.stderr.write.bind(process.stderr);
        process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
            written.push(String(chunk));
            return (write as (...args: unknown[]) => boolean)(chunk, ...rest);
        }) as typeof process.stderr.write;
        try {
            const answer = await fetch(`${unsaved.url}/token`, {
                method: "POST",
                headers: { authorization: `Basic ${Buffer.from(`${encodeURIComponent(CLIENT_ID)}:${encodeURIComponent(CLIENT_SECRET)}`).toString("base64")}`, "content-type": "application/x-www-form-urlencoded" },
                body: "grant_type=client_credentials&scope=api.read",
            });
            const body = (await answer.json()) as { error?: string; error_description?: string; access_token?: string };
            assert.equal(answer.status, 500, JSON.stringify(body));
            assert.equal(body.error, "server_error");
            assert.match(body.error_description ?? "", /the authorization could not be saved: relation "oauth2_authorization" does not exist/);
            assert.equal(body.access_token, undefined);
            assert.equal(unsaved.issued, 0);
        } finally {
            process.stderr.write = write;
            await unsaved.stop();
            pg.dropDatabase("oauth2db_unsaved");
        }
        assert.deepEqual(written.filter((text) => /Error|at /.test(text)), [], "printed while the token was refused");
    });
});
