/**
 * The residuals of an operator's trial (branch h37-ops), beyond operator-trial.test.ts: a restore pointed at a
 * read replica or a read-only database, ... Real PostgreSQL 15 (and a real streaming standby made from it with
 * pg_basebackup -R) and moto on 127.0.0.1.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { spawnSync } from "child_process";
import { seedSql } from "../../tools/sandbox/oauth2-schema";
import { explain, runScript, scriptEnv, useScriptServers } from "../../tools/sandbox/scripts";
import { LOCALHOST, PgServer, pgAsOwner, scratchDir } from "../../tools/sandbox/servers";

describe("operator trial h37: the residuals", function () {
    this.timeout(180_000);
    const servers = useScriptServers("oauth2-dr-operator-trial-h37-", "operator trial h37 passphrase");
    let bucket: string;

    before(async function () {
        const { pg, moto, passphrase } = servers;
        pg.createDatabase("oauth2db");
        pg.psql(seedSql({ clients: 3, authorizations: 50, consents: 2 }));
        bucket = servers.newBucket("oauth2-h37");
        const backup = await runScript("db-backup.sh", scriptEnv(pg, moto, bucket, passphrase));
        assert.equal(backup.code, 0, explain(backup));
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
});
