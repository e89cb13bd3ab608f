/**
 * db-backup.sh, restore.sh and restore-verification.sh across the releases of Spring Authorization Server's
 * schema, on restores that lose a column or a table, with dumps written before manifest v2, and with several
 * databases and prefixes in one bucket. Real PostgreSQL 15 and moto, started here on 127.0.0.1.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { legacyBackup } from "../support/legacy-backup";
import { authorizationRowsSql, clientRowsSql, consentRowsSql, EXTRA_OBJECTS_SQL, OAUTH2_TABLES, SchemaRelease, seedSql } from "../../tools/sandbox/oauth2-schema";
import { tableChecksums } from "../support/checksums";
import { explain, getObject, listKeys, putObject, runScript, scriptEnv, ScriptResult, useScriptServers } from "../../tools/sandbox/scripts";
import { MotoServer, PgServer } from "../../tools/sandbox/servers";
import { loggingPsql, lossyPgRestore } from "../support/shims";

const SIZE = { clients: 14, authorizations: 120, consents: 30 };


/**
 * The newest schema (Spring Authorization Server 1.5.x, and the authorization server module of Spring
 * Security 7: the same column set as since 1.1) as a PostgreSQL user creates it: the DDL's header says to
 * use `text` for its `blob` columns, and PostgreSQL users commonly take `timestamptz` for its timestamps.
 * Column names from oauth2-registered-client-schema.sql, oauth2-authorization-schema.sql and
 * oauth2-authorization-consent-schema.sql; the types are this variant's.
 */
function latestPostgresVariantSql(): string {
    const token = (name: string) => `${name}_value text, ${name}_issued_at timestamptz, ${name}_expires_at timestamptz, ${name}_metadata text,`;
    return `
CREATE TABLE oauth2_registered_client (
    id varchar(100) NOT NULL, client_id varchar(100) NOT NULL, client_id_issued_at timestamptz DEFAULT CURRENT_TIMESTAMP NOT NULL,
    client_secret varchar(200), client_secret_expires_at timestamptz, client_name varchar(200) NOT NULL,
    client_authentication_methods varchar(1000) NOT NULL, authorization_grant_types varchar(1000) NOT NULL,
    redirect_uris varchar(1000), post_logout_redirect_uris varchar(1000), scopes varchar(1000) NOT NULL,
    client_settings varchar(2000) NOT NULL, token_settings varchar(2000) NOT NULL,
    PRIMARY KEY (id)
);
CREATE TABLE oauth2_authorization (
    id varchar(100) NOT NULL, registered_client_id varchar(100) NOT NULL, principal_name varchar(200) NOT NULL,
    authorization_grant_type varchar(100) NOT NULL, authorized_scopes varchar(1000), attributes text, state varchar(500),
    ${token("authorization_code")}
    ${token("access_token")} access_token_type varchar(100), access_token_scopes varchar(1000),
    ${token("oidc_id_token")}
    ${token("refresh_token")}
    ${token("user_code")}
    ${token("device_code")}
    PRIMARY KEY (id)
);
CREATE TABLE oauth2_authorization_consent (
    registered_client_id varchar(100) NOT NULL, principal_name varchar(200) NOT NULL, authorities varchar(1000) NOT NULL,
    PRIMARY KEY (registered_client_id, principal_name)
);
${clientRowsSql(1, SIZE.clients, "1.1.0")}
${authorizationRowsSql(1, SIZE.authorizations, SIZE.clients, "1.1.0")}
${consentRowsSql(1, SIZE.consents, SIZE.clients)}`;
}

function line(result: ScriptResult, item: string): string {
    const found = result.stdout.split("\n").find((l) => l.startsWith(`PASS ${item}:`) || l.startsWith(`FAIL ${item}:`));
    assert.ok(found, `no line for "${item}" in:\n${explain(result)}`);
    return found;
}

describe("backup scripts across schema releases, prefixes and manifest formats", function () {
    // Several script runs per test; a shared 2-core machine under load makes each run take tens of seconds.
    this.timeout(600_000);
    let pg: PgServer;
    let moto: MotoServer;
    let dir: string;
    let passphrase: string;
    const servers = useScriptServers("oauth2-dr-schemas-test-", "schemas test passphrase");
    const newBucket = () => servers.newBucket("oauth2-schemas");
    const env = (bucket: string, database: string, extra: Record<string, string> = {}) => ({ ...scriptEnv(pg, moto, bucket, passphrase, database), ...extra });
    const manifest = servers.manifest;

    async function backup(bucket: string, database: string, extra: Record<string, string> = {}): Promise<string> {
        const result = await runScript("db-backup.sh", env(bucket, database, extra));
        assert.equal(result.code, 0, explain(result));
        return result.stdout.trim();
    }

    /** restore.sh of the bucket's newest dump of `database` into `<database>_restored`: exit 0, every table's
     * checksum the source's. Returns the restored database's name. */
    async function restoresIdentically(bucket: string, database: string): Promise<string> {
        const target = `${database}_restored`;
        pg.createDatabase(target);
        const restored = await runScript("restore.sh", env(bucket, target), ["--yes", "--source-database", database]);
        assert.equal(restored.code, 0, explain(restored));
        const tables = [...OAUTH2_TABLES, "app_user", "audit.login_event"];
        assert.deepEqual(tableChecksums(pg, tables, target), tableChecksums(pg, tables, database));
        return target;
    }

    function seeded(database: string, release: SchemaRelease, extra = ""): void {
        pg.createDatabase(database);
        pg.psql(seedSql(SIZE, release) + extra, database);
    }

    before(function () {
        ({ pg, moto, dir, passphrase } = servers);
    });

    const releases: [SchemaRelease, RegExp][] = [
        ["0.2.0", /oauth2_authorization: release 0\.2 column set \(24 columns\).*oauth2_registered_client: release 0\.2 column set \(12 columns\)/],
        ["0.4.0", /oauth2_authorization: release 0\.4 column set \(25 columns\).*oauth2_registered_client: release 0\.2 column set \(12 columns\)/],
        ["1.1.0", /oauth2_authorization: release 1\.1 column set \(33 columns\).*oauth2_registered_client: release 1\.1 column set \(13 columns\)/],
    ];
    for (const [release, columns] of releases) {
        it(`verification passes on the ${release} schema (extra table, second schema) and restore gives identical data`, async function () {
            const database = `sas_${release.replace(/\./g, "_")}`;
            seeded(database, release, EXTRA_OBJECTS_SQL);
            const bucket = newBucket();
            const key = await backup(bucket, database);
            const m = manifest(bucket, key);
            assert.ok(m.schema_definition.tables["audit.login_event"], "the second schema's table is in the manifest");
            assert.equal(m.schema_definition.tables["public.oauth2_authorization"].some((c: { column: string }) => c.column === "authorized_scopes"), release !== "0.2.0");

            const verified = await runScript("restore-verification.sh", env(bucket, database));
            assert.equal(verified.code, 0, explain(verified));
            assert.match(line(verified, "application can connect to restored database"), columns);
            assert.match(line(verified, "data integrity verified"), /restored schema = dumped schema \(\d+ columns in 5 tables/);

            await restoresIdentically(bucket, database);
        });
    }

    it("the newest schema's PostgreSQL variant (text, timestamptz): backs up, verifies 7/7 and restores identically", async function () {
        const database = "sas_latest_pg";
        pg.createDatabase(database);
        pg.psql(latestPostgresVariantSql() + EXTRA_OBJECTS_SQL, database);
        const bucket = newBucket();
        const key = await backup(bucket, database);
        const m = manifest(bucket, key);
        const columns = m.schema_definition.tables["public.oauth2_authorization"];
        assert.equal(columns.length, 33);
        assert.deepEqual(columns.find((c: { column: string }) => c.column === "device_code_issued_at"), { column: "device_code_issued_at", type: "timestamp with time zone", not_null: false });
        assert.deepEqual(columns.find((c: { column: string }) => c.column === "attributes"), { column: "attributes", type: "text", not_null: false });
        assert.deepEqual(m.row_counts, { oauth2_authorization: SIZE.authorizations, oauth2_authorization_consent: SIZE.consents, oauth2_registered_client: SIZE.clients });

        const verified = await runScript("restore-verification.sh", env(bucket, database));
        assert.equal(verified.code, 0, explain(verified));
        assert.equal(verified.stdout.split("\n").filter((l) => l.startsWith("PASS ")).length, 7, explain(verified));
        assert.match(line(verified, "application can connect to restored database"),
            /oauth2_authorization: release 1\.1 column set \(33 columns\).*oauth2_registered_client: release 1\.1 column set \(13 columns\)/);

        const target = await restoresIdentically(bucket, database);
        assert.equal(pg.psql("SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'oauth2_registered_client'::regclass AND attname = 'client_id_issued_at'", target), "timestamp with time zone");
    });

    // A backup of a plain 1.1.0 database (no extra objects) that the cases below only verify (each with its own
    // shims): made once, by the first that needs it, not once per describe.
    let plain: Promise<string> | undefined;
    const plainBackup = () => (plain ??= (async () => {
        seeded("lossy", "1.1.0");
        const bucket = newBucket();
        await backup(bucket, "lossy");
        return bucket;
    })());

    describe("verification fails on a restore that lost", function () {
        let bucket: string;
        before(async function () {
            bucket = await plainBackup();
        });

        async function lossyVerification(sql: string): Promise<ScriptResult> {
            const shims = fs.mkdtempSync(path.join(dir, "shim-"));
            lossyPgRestore(shims, sql);
            const result = await runScript("restore-verification.sh", env(bucket, "lossy", { EXTRA_PATH: shims }));
            assert.equal(result.code, 6, explain(result));
            assert.match(line(result, "restore to test instance works"), /^PASS /);
            return result;
        }

        it("a column the server reads", async function () {
            const result = await lossyVerification("ALTER TABLE public.oauth2_authorization DROP COLUMN access_token_value;");
            assert.match(line(result, "data integrity verified"),
                /^FAIL .*the restored schema differs from the dumped one: missing or changed column public\.oauth2_authorization\.access_token_value \(text\)/);
            assert.match(line(result, "application can connect to restored database"), /^FAIL .*oauth2_authorization lacks access_token_value/);
        });

        it("a column of a later release (device code)", async function () {
            const result = await lossyVerification("ALTER TABLE public.oauth2_authorization DROP COLUMN device_code_value;");
            assert.match(line(result, "data integrity verified"), /^FAIL .*missing or changed column public\.oauth2_authorization\.device_code_value \(text\)/);
        });

        // The staged tables are counted by the server's COPY command tags only while each is still the relation
        // the sessions filled, with no row deleted or added by the swap: rows lost there are still found.
        it("rows (deleted while the tables are moved into place)", async function () {
            const result = await lossyVerification("DELETE FROM public.oauth2_authorization WHERE id <> 'auth-1';");
            assert.match(line(result, "all tables present with expected row counts"), /^FAIL .*oauth2_authorization has 1 rows, manifest says 120/);
        });

        it("rows (a table truncated while the tables are moved into place)", async function () {
            const result = await lossyVerification("TRUNCATE public.oauth2_authorization_consent;");
            assert.match(line(result, "all tables present with expected row counts"), /^FAIL .*oauth2_authorization_consent has 0 rows, manifest says 30/);
        });

        it("a table", async function () {
            const result = await lossyVerification("DROP TABLE public.oauth2_authorization_consent;");
            assert.match(line(result, "data integrity verified"), /^FAIL .*missing table public\.oauth2_authorization_consent/);
            assert.match(line(result, "all tables present with expected row counts"), /^FAIL .*oauth2_authorization_consent is missing/);
        });
    });

    /**
     * The verification of the newest backup of `database` in `bucket` with every psql it starts logged: its result,
     * asserted 7/7 PASS, and the psql calls' arguments, one line each.
     */
    async function verifiedWithPsqlLog(bucket: string, database: string): Promise<{ result: ScriptResult; calls: string[] }> {
        const shims = fs.mkdtempSync(path.join(dir, "shim-"));
        const log = path.join(shims, "psql.log");
        loggingPsql(shims, log);
        const result = await runScript("restore-verification.sh", env(bucket, database, { EXTRA_PATH: shims }));
        assert.equal(result.code, 0, explain(result));
        assert.equal(result.stdout.split("\n").filter((l) => l.startsWith("PASS ")).length, 7, explain(result));
        return { result, calls: fs.readFileSync(log, "utf8").split("\n") };
    }

    // The restored schema (compared with the manifest's) and each table's columns (the server's lookups are built
    // from them) are read at the end of the swap's transaction, the catalog it commits: no connection of their own
    // after it (one psql start and connection less between the swap and the checks). The lookups still connect.
    it("the verification reads the restored schema and the tables' columns in the swap's transaction", async function () {
        // The plain 1.1.0 database's backup above (the lossy cases'): the content this case seeded and backed up itself.
        const { result, calls } = await verifiedWithPsqlLog(await plainBackup(), "lossy");
        assert.match(line(result, "data integrity verified"), /restored schema = dumped schema \(\d+ columns in 3 tables/);
        assert.match(line(result, "application can connect to restored database"), /oauth2_authorization: release 1\.1 column set \(33 columns\)/);
        assert.ok(calls.some((c) => c.includes(" -1 ") && c.includes("restored.sql")), calls.join("\n"));
        assert.deepEqual(calls.filter((c) => c.includes("jsonb_agg(jsonb_build_array") || c.includes("string_agg(attname")), []);
        // The lookups (stdin: the server's queries) still run on connections of their own to the scratch database.
        assert.ok(calls.filter((c) => /^-X -q -At -v ON_ERROR_STOP=1 -d oauth2_verify_\d+$/.test(c)).length >= 3, calls.join("\n"));
    });

    // A dump whose tables cannot all be staged is restored in one stream: no swap, so the restored schema and the
    // columns are read after that restore, by connections of their own, as before.
    it("a dump restored in one stream (an enum column) verifies 7/7, its schema and columns read after the restore", async function () {
        seeded("onestream", "1.1.0", "CREATE TYPE mood AS ENUM ('ok', 'bad'); CREATE TABLE feeling (id int PRIMARY KEY, m mood); INSERT INTO feeling VALUES (1, 'ok'), (2, 'bad');");
        const bucket = newBucket();
        await backup(bucket, "onestream");
        const { result, calls } = await verifiedWithPsqlLog(bucket, "onestream");
        assert.match(result.stderr, /restoring in one stream \(table public\.feeling cannot be staged/);
        assert.match(line(result, "data integrity verified"), /restored schema = dumped schema \(\d+ columns in 4 tables/);
        assert.equal(calls.filter((c) => c.includes("jsonb_agg(jsonb_build_array")).length, 1, calls.join("\n"));
        assert.equal(calls.filter((c) => c.includes("string_agg(attname")).length, 3, calls.join("\n"));
    });

    it("a dump written before manifest v2 (pg_dump's own compression, no key version, no schema) still restores and verifies", async function () {
        seeded("legacy", "0.4.0");
        const bucket = newBucket();
        const key = legacyBackup(pg, moto, bucket, passphrase, "legacy", dir);
        const verified = await runScript("restore-verification.sh", env(bucket, "legacy"));
        assert.equal(verified.code, 0, explain(verified));
        assert.match(line(verified, "restore to test instance works"), /pg_dump-custom, pg_dump-compressed/);
        pg.createDatabase("legacy_restored");
        const restored = await runScript("restore.sh", env(bucket, "legacy_restored"), ["--yes", "--source-database", "legacy"]);
        assert.equal(restored.code, 0, explain(restored));
        assert.equal(restored.stdout.trim(), key);
        assert.deepEqual(tableChecksums(pg, OAUTH2_TABLES, "legacy_restored"), tableChecksums(pg, OAUTH2_TABLES, "legacy"));
        // A new backup after the old one: the size check compares with it across the format change.
        await backup(bucket, "legacy");
        const next = await runScript("restore-verification.sh", env(bucket, "legacy"));
        assert.equal(next.code, 0, explain(next));
        assert.match(line(next, "backup size is expected"), /previous backup: \d+ bytes stored/);
    });

    describe("prefixes and databases", function () {
        let bucket: string;
        let tenantA: string;
        let tenantB: string;
        let sharedA: string;
        let sharedB: string;

        before(async function () {
            seeded("tenant_a", "1.1.0");
            seeded("tenant_b", "0.2.3");
            pg.psql("DELETE FROM oauth2_authorization WHERE id <> 'auth-1'", "tenant_b");
            bucket = newBucket();
            tenantA = await backup(bucket, "tenant_a", { BACKUP_PREFIX: "tenants/a/database/" });
            tenantB = await backup(bucket, "tenant_b", { BACKUP_PREFIX: "tenants/b/database" });
            sharedB = await backup(bucket, "tenant_b");
            // The newest manifest under database/ is tenant_a's: a restore of tenant_b must still pick tenant_b's.
            sharedA = await backup(bucket, "tenant_a");
        });

        it("every object, manifest and pointer is under its prefix", function () {
            assert.match(tenantA, /^tenants\/a\/database\/manifests\/tenant_a-/);
            assert.match(tenantB, /^tenants\/b\/database\/manifests\/tenant_b-/);
            const underA = listKeys(moto, bucket, "tenants/a/");
            assert.deepEqual(underA.filter((k) => !k.startsWith("tenants/a/database/")), []);
            assert.ok(underA.includes("tenants/a/database/latest.json"));
            assert.match(manifest(bucket, tenantA).object_key, /^tenants\/a\/database\/tenant_a-.*\.dump\.gpg$/);
            assert.equal(manifest(bucket, "tenants/b/database/latest.json").database, "tenant_b");
            assert.equal(manifest(bucket, "database/latest.json").database, "tenant_a");
        });

        it("restore and verification with a prefix pick that prefix's manifest", async function () {
            pg.createDatabase("tenant_b_from_prefix");
            const restored = await runScript("restore.sh", env(bucket, "tenant_b_from_prefix", { BACKUP_PREFIX: "tenants/b/database/" }), ["--yes", "--source-database", "tenant_b"]);
            assert.equal(restored.code, 0, explain(restored));
            assert.equal(restored.stdout.trim(), tenantB);
            const verified = await runScript("restore-verification.sh", env(bucket, "tenant_a", { BACKUP_PREFIX: "tenants/a/database/" }));
            assert.equal(verified.code, 0, explain(verified));
            assert.match(line(verified, "backup completed successfully"), /tenants\/a\/database\/tenant_a-/);
        });

        it("in a shared prefix, the newest manifest of the target's own database is picked", async function () {
            const restored = await runScript("restore.sh", env(bucket, "tenant_b"), ["--yes"]);
            assert.equal(restored.code, 0, explain(restored));
            assert.equal(restored.stdout.trim(), sharedB);
            assert.equal(pg.psql("SELECT count(*) FROM oauth2_authorization", "tenant_b"), "1");
        });

        it("a manifest of another database is refused unless --source-database names it", async function () {
            pg.createDatabase("tenant_c");
            const refused = await runScript("restore.sh", env(bucket, "tenant_c"), ["--yes", "--manifest", sharedA]);
            assert.equal(refused.code, 2, explain(refused));
            assert.match(refused.stderr, new RegExp(`ERROR: ${sharedA} is a backup of database tenant_a, not of tenant_c; pass --source-database tenant_a`));
            assert.equal(pg.psql("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'", "tenant_c"), "0");
            const told = await runScript("restore.sh", env(bucket, "tenant_c", { RESTORE_SOURCE_DATABASE: "tenant_a" }), ["--yes", "--manifest", sharedA]);
            assert.equal(told.code, 0, explain(told));
        });

        it("the size check uses the stored object's real size, not a hand-edited manifest", async function () {
            const text = getObject(moto, bucket, sharedA).toString("utf8");
            const size = manifest(bucket, sharedA).size_bytes;
            putObject(moto, bucket, sharedA, text.replace(`"size_bytes": ${size},`, `"size_bytes": ${size * 3},`));
            const result = await runScript("restore-verification.sh", env(bucket, "tenant_a"));
            assert.equal(result.code, 6, explain(result));
            assert.equal(line(result, "backup size is expected"), `FAIL backup size is expected: the stored object has ${size} bytes, the manifest says ${size * 3}`);
            putObject(moto, bucket, sharedA, text);
        });
    });
});
