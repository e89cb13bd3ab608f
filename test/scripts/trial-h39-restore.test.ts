/**
 * h39 trial of restore.sh by an on-call operator who did not write it: a target database where the application
 * added its own objects on the dump's tables from outside (another table's foreign key to
 * oauth2_registered_client, a view on oauth2_authorization). The swap cannot replace those tables without
 * dropping the operator's objects; it stops with exit 3 and commits nothing, which is right. What it printed
 * was not: a stray `lib.sh: line N: "$from": Bad file descriptor` (the session's reader after psql stopped)
 * above the ERROR, and PostgreSQL's own "HINT: Use DROP ... CASCADE" as the last word, which would drop them.
 * Real PostgreSQL 15 and moto on 127.0.0.1.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { seedSql } from "../../tools/sandbox/oauth2-schema";
import { explain, runScript, scriptEnv, useScriptServers } from "../../tools/sandbox/scripts";

describe("restore.sh, h39 trial: a target whose own objects depend on the dump's tables", function () {
    this.timeout(180_000);
    const servers = useScriptServers("oauth2-dr-h39-trial-", "h39 trial passphrase");
    let bucket: string;

    before(async function () {
        const { pg, moto, passphrase } = servers;
        pg.createDatabase("oauth2db");
        pg.psql(seedSql({ clients: 3, authorizations: 50, consents: 2 }));
        bucket = servers.newBucket("oauth2-h39");
        const backup = await runScript("db-backup.sh", scriptEnv(pg, moto, bucket, passphrase));
        assert.equal(backup.code, 0, explain(backup));
    });

    it("exit 3, nothing committed, the operator's objects kept; no 'Bad file descriptor' line, and what to do instead of CASCADE", async function () {
        const { pg, moto, passphrase } = servers;
        // After the backup: the application's audit table references the clients, a report view reads the authorizations.
        pg.psql("CREATE TABLE app_client_audit (id serial PRIMARY KEY, client_id varchar(100) NOT NULL REFERENCES oauth2_registered_client(id), note text);" +
            "INSERT INTO app_client_audit (client_id, note) SELECT id, 'kept' FROM oauth2_registered_client LIMIT 2;" +
            "CREATE VIEW active_authorizations AS SELECT id, registered_client_id FROM oauth2_authorization;" +
            "INSERT INTO oauth2_registered_client (id, client_id, client_id_issued_at, client_name, client_authentication_methods, authorization_grant_types, scopes, client_settings, token_settings) " +
            "SELECT 'h39-after-backup', 'h39-after-backup', now(), 'written after the backup', m, g, s, c, t FROM (SELECT client_authentication_methods m, authorization_grant_types g, scopes s, client_settings c, token_settings t FROM oauth2_registered_client LIMIT 1) x;", "oauth2db");
        const state = () => pg.psql("SELECT (SELECT count(*) FROM app_client_audit), (SELECT count(*) FROM pg_constraint WHERE conrelid = 'app_client_audit'::regclass AND contype = 'f'), " +
            "(SELECT count(*) FROM pg_views WHERE viewname = 'active_authorizations'), (SELECT count(*) FROM oauth2_registered_client WHERE id = 'h39-after-backup')", "oauth2db");
        assert.equal(state(), "2|1|1|1");
        const restore = await runScript("restore.sh", scriptEnv(pg, moto, bucket, passphrase), ["--yes"]);
        assert.equal(restore.code, 3, explain(restore));
        assert.equal(state(), "2|1|1|1", "nothing committed: the audit rows, its foreign key, the view and the row written after the backup are all there");
        assert.doesNotMatch(restore.stderr, /Bad file descriptor/, explain(restore));
        assert.match(restore.stderr, /ERROR: restore into 127\.0\.0\.1:\d+\/oauth2db failed \(nothing committed\): ERROR: +cannot drop constraint oauth2_registered_client_pkey .*app_client_audit_client_id_fkey.*: an object of 127\.0\.0\.1:\d+\/oauth2db that is not in the dump depends on a table it replaces \(named above\); restore\.sh replaces those tables whole and drops nothing of yours: drop that object \(and create it again after the restore\), or restore into another database \(PGDATABASE\) and copy from there\n/, explain(restore));
    });
    it("a TMPDIR with a space and a quote restores, parallel (RESTORE_JOBS=2) and single (1) (was: the swap's \\i split the spool's path, exit 3)", async function () {
        const { pg, moto, passphrase, dir } = servers;
        pg.createDatabase("h39_spaced");
        const tmp = path.join(dir, "operator's tmp dir");
        fs.mkdirSync(tmp, { recursive: true, mode: 0o1777 });
        for (const jobs of ["2", "1"]) {
            const restore = await runScript("restore.sh", { ...scriptEnv(pg, moto, bucket, passphrase, "h39_spaced"), TMPDIR: tmp, RESTORE_JOBS: jobs }, ["--yes", "--source-database", "oauth2db"]);
            assert.equal(restore.code, 0, explain(restore));
            assert.equal(pg.psql("SELECT count(*) FROM oauth2_authorization", "h39_spaced"), "50");
        }
    });
});
