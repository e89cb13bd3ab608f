/**
 * scripts/client-config-export.sh, secrets-export.sh and app-config-export.sh against a real PostgreSQL 15
 * and moto (S3, Secrets Manager). No cluster is reachable: kubectl is a stand-in on PATH that prints
 * fixtures, and the JWKS endpoint is a tiny HTTP server on 127.0.0.1.
 */
import { strict as assert } from "assert";
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as path from "path";
import { seedSql } from "../../tools/sandbox/oauth2-schema";
import { baseEnv, createBucket, createSecret, explain, getObject, listKeys, listVersions, rotateSecret, runScript, SCRIPTS, scriptEnv, useScriptServers } from "../../tools/sandbox/scripts";
import { freePort, LOCALHOST, MotoServer, PgServer } from "../../tools/sandbox/servers";
import { fakeKubectl } from "../support/shims";


const SECRET_YAML = (rv: string, signingKey: string) => `apiVersion: v1
data:
  client-secret: ${Buffer.from("s3cr3t").toString("base64")}
  signing-key: ${Buffer.from(signingKey).toString("base64")}
kind: Secret
metadata:
  annotations:
    meta.helm.sh/release-name: oauth2-server
  creationTimestamp: "2024-01-15T10:00:00Z"
  name: oauth2-server-secrets
  namespace: oauth2-system
  resourceVersion: "${rv}"
  uid: 6a0f6f53-0d8c-4f4b-9d3e-4f9a0f2b1c11
type: Opaque
`;

const CONFIGMAPS_YAML = (rv: string, issuer: string) => `apiVersion: v1
items:
- apiVersion: v1
  data:
    application.yaml: |
      spring:
        security:
          oauth2:
            authorizationserver:
              issuer: ${issuer}
  kind: ConfigMap
  metadata:
    creationTimestamp: "2024-01-15T10:00:00Z"
    managedFields:
    - apiVersion: v1
      fieldsType: FieldsV1
      manager: kubectl-client-side-apply
      operation: Update
    name: oauth2-server-config
    namespace: oauth2-system
    resourceVersion: "${rv}"
    uid: 0b1c2d3e-aaaa-bbbb-cccc-000000000001
kind: List
metadata:
  resourceVersion: ""
`;

describe("export scripts (real PostgreSQL 15, S3 and Secrets Manager APIs)", function () {
    this.timeout(120_000);
    let pg: PgServer;
    let moto: MotoServer;
    let dir: string;
    let shims: string;
    let passphrase: string;
    let jwks: http.Server;
    let jwksUrl: string;
    let jwksBody = JSON.stringify({ keys: [{ kty: "RSA", kid: "key-1", e: "AQAB", n: "sXch" }] });
    let buckets = 0;

    function newBucket(): string {
        const bucket = `oauth2-exports-${++buckets}`;
        createBucket(moto, bucket);
        return bucket;
    }

    function decrypt(body: Buffer): string {
        const result = spawnSync("gpg", ["--batch", "--quiet", "--pinentry-mode", "loopback", "--passphrase-file", passphrase, "--decrypt"], {
            input: body,
            env: { ...process.env, GNUPGHOME: fs.mkdtempSync(path.join(dir, "gnupg-")) },
        });
        assert.equal(result.status, 0, String(result.stderr));
        return result.stdout.toString("utf8");
    }

    const servers = useScriptServers("oauth2-dr-exports-test-", "export passphrase");
    before(async function () {
        ({ pg, moto, dir, passphrase } = servers);
        shims = fs.mkdtempSync(path.join(dir, "bin-"));
        fakeKubectl(shims);
        pg.createDatabase("oauth2db");
        pg.psql(seedSql({ clients: 12, authorizations: 20, consents: 5 }));
        jwks = http.createServer((req, res) => {
            if (req.url === "/oauth2/jwks") {
                res.writeHead(200, { "content-type": "application/json" });
                res.end(jwksBody);
            } else {
                res.writeHead(404);
                res.end();
            }
        });
        const port = await freePort();
        await new Promise<void>((resolve) => jwks.listen(port, LOCALHOST, () => resolve()));
        jwksUrl = `http://${LOCALHOST}:${port}/oauth2/jwks`;
    });

    after(async function () {
        await (jwks ? new Promise((r) => jwks.close(() => r(undefined))) : undefined);
    });

    describe("client-config-export.sh", function () {
        it("exports the table once, skips it while unchanged, and exports again after a change", async function () {
            const bucket = newBucket();
            const env = scriptEnv(pg, moto, bucket, passphrase);
            const first = await runScript("client-config-export.sh", env);
            assert.equal(first.code, 0, explain(first));
            const key1 = first.stdout.trim();
            assert.match(key1, /^clients\/oauth2_registered_client-\d{8}T\d{6}Z-[0-9a-f]{12}\.csv\.gpg$/);
            const body = getObject(moto, bucket, key1);
            assert.ok(!body.toString("latin1").includes("client-id-1"), "the export is not encrypted");
            const csv = decrypt(body);
            // One record per client; client-7's awkward name (quotes, a tab, a newline) stays inside its quoted field.
            assert.equal(csv.split("\n").filter((l) => /^client-\d+,client-id-\d+,/.test(l)).length, 12);
            assert.ok(csv.includes('"Café ""Ops"" \'${team}\' \t tab\nnewline \\ backß 🔑 7"'), "the awkward client name did not round-trip");
            assert.match(csv, /^id,client_id,client_id_issued_at,client_secret,/);
            const pointer = getObject(moto, bucket, "clients/latest.sha256").toString("utf8");
            assert.match(pointer, new RegExp(`^[0-9a-f]{64}  ${key1.replace(/\./g, "\\.")}\\n$`));

            const second = await runScript("client-config-export.sh", env);
            assert.equal(second.code, 0, explain(second));
            assert.equal(second.stdout, "");
            assert.match(second.stderr, /unchanged/);
            assert.deepEqual(listKeys(moto, bucket, "clients/"), ["clients/latest.sha256", key1].sort());

            pg.psql("UPDATE oauth2_registered_client SET scopes = 'openid,profile,message.read,message.write' WHERE id = 'client-3'");
            const third = await runScript("client-config-export.sh", env);
            assert.equal(third.code, 0, explain(third));
            const key2 = third.stdout.trim();
            assert.notEqual(key2, key1);
            assert.deepEqual(listKeys(moto, bucket, "clients/"), ["clients/latest.sha256", key1, key2].sort());
            assert.match(decrypt(getObject(moto, bucket, key2)), /message\.write/);
            assert.ok(getObject(moto, bucket, "clients/latest.sha256").toString("utf8").includes(key2));
        });

        it("fails without touching the bucket when the database is down", async function () {
            const bucket = newBucket();
            const result = await runScript("client-config-export.sh", { ...scriptEnv(pg, moto, bucket, passphrase), PGPORT: String(await freePort()) });
            assert.equal(result.code, 3, explain(result));
            assert.deepEqual(listKeys(moto, bucket, ""), []);
        });
    });

    describe("secrets-export.sh", function () {
        let bucket: string;
        let env: Record<string, string>;
        const secretFile = () => path.join(dir, "secret.yaml");

        before(function () {
            bucket = newBucket();
            createSecret(moto, "oauth2/jwk-private-key", '{"kty":"RSA","kid":"key-1","d":"private-1"}');
            fs.writeFileSync(secretFile(), SECRET_YAML("100", "signing-1"));
            env = {
                ...scriptEnv(pg, moto, bucket, passphrase),
                EXTRA_PATH: shims,
                SHIM_SECRET_FILE: secretFile(),
                SHIM_KUBECTL_LOG: path.join(dir, "kubectl.log"),
                JWKS_URL: jwksUrl,
            };
        });

        it("exports the Kubernetes secret and the JWK private key encrypted, and the public JWKS, under stable keys", async function () {
            const result = await runScript("secrets-export.sh", env);
            assert.equal(result.code, 0, explain(result));
            assert.deepEqual(result.stdout.trim().split("\n"), [
                "uploaded secrets/oauth2-server-secrets.yaml.gpg",
                "uploaded secrets/jwk-private-key.json.gpg",
                "uploaded secrets/jwks.json",
            ]);
            assert.match(fs.readFileSync(path.join(dir, "kubectl.log"), "utf8"), /get secret oauth2-server-secrets -n oauth2-system -o yaml/);
            const secret = getObject(moto, bucket, "secrets/oauth2-server-secrets.yaml.gpg");
            assert.ok(!secret.toString("latin1").includes("client-secret"), "the secret is stored in clear");
            const yaml = decrypt(secret);
            assert.match(yaml, /name: oauth2-server-secrets/);
            assert.match(yaml, /signing-key: /);
            assert.doesNotMatch(yaml, /resourceVersion|uid:|creationTimestamp/, "server-managed fields were kept");
            const jwk = getObject(moto, bucket, "secrets/jwk-private-key.json.gpg");
            assert.ok(!jwk.toString("latin1").includes("private-1"));
            assert.equal(decrypt(jwk), '{"kty":"RSA","kid":"key-1","d":"private-1"}');
            assert.equal(getObject(moto, bucket, "secrets/jwks.json").toString("utf8"), jwksBody);
        });

        it("uploads nothing while nothing rotates (a new resourceVersion alone is not a change)", async function () {
            fs.writeFileSync(secretFile(), SECRET_YAML("101", "signing-1"));
            const result = await runScript("secrets-export.sh", env);
            assert.equal(result.code, 0, explain(result));
            assert.deepEqual(result.stdout.trim().split("\n").map((l) => l.split(" ")[0]), ["unchanged", "unchanged", "unchanged"]);
            for (const key of ["secrets/oauth2-server-secrets.yaml.gpg", "secrets/jwk-private-key.json.gpg", "secrets/jwks.json"]) {
                assert.equal(listVersions(moto, bucket, key).length, 1, key);
            }
        });

        it("uploads a new version of what rotated, and only of that", async function () {
            rotateSecret(moto, "oauth2/jwk-private-key", '{"kty":"RSA","kid":"key-2","d":"private-2"}');
            jwksBody = JSON.stringify({ keys: [{ kty: "RSA", kid: "key-2", e: "AQAB", n: "yZ2" }, { kty: "RSA", kid: "key-1", e: "AQAB", n: "sXch" }] });
            const result = await runScript("secrets-export.sh", env);
            assert.equal(result.code, 0, explain(result));
            assert.deepEqual(result.stdout.trim().split("\n"), [
                "unchanged secrets/oauth2-server-secrets.yaml.gpg",
                "uploaded secrets/jwk-private-key.json.gpg",
                "uploaded secrets/jwks.json",
            ]);
            assert.equal(listVersions(moto, bucket, "secrets/jwk-private-key.json.gpg").length, 2);
            assert.equal(listVersions(moto, bucket, "secrets/oauth2-server-secrets.yaml.gpg").length, 1);
            assert.match(decrypt(getObject(moto, bucket, "secrets/jwk-private-key.json.gpg")), /private-2/);
        });

        it("exits 8, naming the secret and the namespace, when the server's secret is not in NAMESPACE", async function () {
            const other = newBucket();
            const result = await runScript("secrets-export.sh", { ...env, BUCKET: other, NAMESPACE: "identity", SHIM_SECRET_FILE: path.join(dir, "absent.yaml") });
            assert.equal(result.code, 8, explain(result));
            assert.match(result.stderr, /kubectl get secret oauth2-server-secrets -n identity failed: Error from server \(NotFound\)/);
            assert.ok(!listKeys(moto, other, "secrets/").includes("secrets/oauth2-server-secrets.yaml.gpg"));
        });

        it("a secret above a pipe's 64 KiB is never written to a file on its way (bash 5.2 puts such a here-string in a temporary file: h39)", async function () {
            if (spawnSync("strace", ["-V"]).status !== 0) {
                this.skip(); // strace shows the files bash opens; without it this cannot be seen
            }
            const big = path.join(dir, "big-secret.yaml");
            fs.writeFileSync(big, SECRET_YAML("200", "k".repeat(100_000)));
            const trace = path.join(dir, "secrets-export.strace");
            // Not spawnSync: this process serves the JWKS the script fetches.
            const child = spawn("strace", ["-f", "-e", "trace=openat,open,creat", "-o", trace, "bash", path.join(SCRIPTS, "secrets-export.sh")], { env: baseEnv({ ...env, BUCKET: newBucket(), SHIM_SECRET_FILE: big }) });
            let output = "";
            child.stdout.on("data", (d) => (output += d));
            child.stderr.on("data", (d) => (output += d));
            const status = await new Promise<number | null>((resolve) => child.once("close", resolve));
            assert.equal(status, 0, `exit ${status}\n${output}`);
            const created = fs.readFileSync(trace, "utf8").split("\n").filter((call) => /O_CREAT/.test(call) && !/= -1 /.test(call));
            assert.deepEqual(created.filter((call) => /sh-thd/.test(call)), [], "a here-document's temporary file was made");
        });

        it("exits 8 when a source fails, after exporting the others", async function () {
            const other = newBucket();
            const result = await runScript("secrets-export.sh", { ...env, BUCKET: other, JWKS_URL: `http://${LOCALHOST}:${await freePort()}/oauth2/jwks` });
            assert.equal(result.code, 8, explain(result));
            assert.match(result.stderr, /cannot fetch http:\/\/127\.0\.0\.1:\d+\/oauth2\/jwks/);
            assert.deepEqual(listKeys(moto, other, "secrets/"), ["secrets/jwk-private-key.json.gpg", "secrets/oauth2-server-secrets.yaml.gpg"]);
        });
    });

    describe("app-config-export.sh", function () {
        it("exports the namespace's ConfigMaps when they change, not when only server fields do", async function () {
            const bucket = newBucket();
            const file = path.join(dir, "configmaps.yaml");
            const log = path.join(dir, "kubectl-cm.log");
            const env = { ...scriptEnv(pg, moto, bucket, passphrase), EXTRA_PATH: shims, SHIM_CONFIGMAPS_FILE: file, SHIM_KUBECTL_LOG: log };
            fs.writeFileSync(file, CONFIGMAPS_YAML("500", "https://auth.example.com"));
            const first = await runScript("app-config-export.sh", env);
            assert.equal(first.code, 0, explain(first));
            assert.equal(first.stdout.trim(), "uploaded config/configmaps.yaml");
            assert.match(fs.readFileSync(log, "utf8"), /get configmaps -n oauth2-system --field-selector metadata.name!=kube-root-ca.crt -o yaml/);
            const stored = getObject(moto, bucket, "config/configmaps.yaml").toString("utf8");
            assert.match(stored, /issuer: https:\/\/auth\.example\.com/);
            assert.doesNotMatch(stored, /managedFields|resourceVersion: "500"|uid:/);

            fs.writeFileSync(file, CONFIGMAPS_YAML("501", "https://auth.example.com"));
            const second = await runScript("app-config-export.sh", env);
            assert.equal(second.stdout.trim(), "unchanged config/configmaps.yaml", explain(second));

            fs.writeFileSync(file, CONFIGMAPS_YAML("502", "https://login.example.com"));
            const third = await runScript("app-config-export.sh", env);
            assert.equal(third.stdout.trim(), "uploaded config/configmaps.yaml", explain(third));
            assert.equal(listVersions(moto, bucket, "config/configmaps.yaml").length, 2);
        });

        it("exits 8 when kubectl fails", async function () {
            const bucket = newBucket();
            const result = await runScript("app-config-export.sh", { ...scriptEnv(pg, moto, bucket, passphrase), EXTRA_PATH: shims });
            assert.equal(result.code, 8, explain(result));
            assert.deepEqual(listKeys(moto, bucket, ""), []);
        });

        it("exits 8 and uploads nothing when the namespace has no ConfigMaps (wrong or missing namespace)", async function () {
            // What kubectl prints, exit 0, for a namespace without ConfigMaps, or one that does not exist.
            const file = path.join(dir, "configmaps-empty.yaml");
            fs.writeFileSync(file, 'apiVersion: v1\nitems: []\nkind: List\nmetadata:\n  resourceVersion: ""\n');
            const log = path.join(dir, "kubectl-empty.log");
            const bucket = newBucket();
            const env = { ...scriptEnv(pg, moto, bucket, passphrase), EXTRA_PATH: shims, SHIM_CONFIGMAPS_FILE: file, SHIM_KUBECTL_LOG: log, NAMESPACE: "identity" };
            const result = await runScript("app-config-export.sh", env);
            assert.equal(result.code, 8, explain(result));
            assert.match(result.stderr, /no ConfigMaps in namespace identity/);
            assert.equal(result.stdout.trim(), "", "no uploaded/unchanged line");
            assert.match(fs.readFileSync(log, "utf8"), /get configmaps -n identity /);
            assert.deepEqual(listKeys(moto, bucket, ""), []);
        });
    });
});
