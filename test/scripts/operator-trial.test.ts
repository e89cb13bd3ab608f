/**
 * Faults an operator met when trying the scripts on a new setup (issue 22, "Scripts under operator faults"),
 * beyond restore-faults, backup-faults and backup-fail-fast: a database endpoint that accepts the TCP
 * connection and never answers (a stuck proxy, a half-dead host), and a scratch directory the run cannot
 * write. Real PostgreSQL 15 and moto on 127.0.0.1.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as net from "net";
import { seedSql } from "../support/oauth2-schema";
import { explain, runScript, ScriptResult, scriptEnv, startScript, tempDir, useScriptServers } from "../support/scripts";
import { LOCALHOST } from "../support/servers";

describe("the scripts under operator faults: silent database endpoint, unusable scratch directory", function () {
    this.timeout(180_000);
    const servers = useScriptServers("oauth2-dr-operator-trial-", "operator trial passphrase");
    let bucket: string;
    const scripts: [string, string[]][] = [
        ["restore.sh", ["--yes", "--source-database", "oauth2db"]],
        ["db-backup.sh", []],
        ["restore-verification.sh", []],
    ];

    before(async function () {
        const { pg, moto, passphrase } = servers;
        pg.createDatabase("oauth2db");
        pg.psql(seedSql({ clients: 3, authorizations: 10, consents: 2 }));
        bucket = servers.newBucket("oauth2-trial");
        const backup = await runScript("db-backup.sh", scriptEnv(pg, moto, bucket, passphrase));
        assert.equal(backup.code, 0, explain(backup));
    });

    it("a database endpoint that accepts TCP and never answers: exit 3 naming host:port and the timeout (PGCONNECT_TIMEOUT unset), not a wait forever", async function () {
        const held: net.Socket[] = [];
        const silent = net.createServer((socket) => held.push(socket));
        await new Promise<void>((resolve) => silent.listen(0, LOCALHOST, () => resolve()));
        const port = String((silent.address() as net.AddressInfo).port);
        try {
            const results = await Promise.all(
                scripts.map(async ([name, args]): Promise<[string, ScriptResult]> => {
                    const env: Record<string, string> = { ...scriptEnv(servers.pg, servers.moto, bucket, servers.passphrase), PGPORT: port };
                    delete env.PGCONNECT_TIMEOUT; // as an operator's shell or a CronJob has it: unset
                    const run = startScript(name, env, args, { detached: true });
                    // Without a connect timeout libpq waits forever (SIGTERM too waits for psql): end the whole
                    // run's process group after far more than the default timeout, so that the test fails, not hangs.
                    const stop = setTimeout(() => process.kill(-run.child.pid!, "SIGKILL"), 90_000);
                    const result = await run.done;
                    clearTimeout(stop);
                    return [name, result];
                }),
            );
            for (const [name, result] of results) {
                assert.equal(result.code, 3, `${name}: ${explain(result)}`);
                assert.match(result.stderr, new RegExp(`ERROR: cannot connect to ${LOCALHOST}:${port}/\\w+: .*timeout expired \\(no answer within PGCONNECT_TIMEOUT=10s\\)`), `${name}: ${explain(result)}`);
            }
        } finally {
            held.forEach((socket) => socket.destroy());
            silent.close();
        }
    });

    it("a scratch directory (TMPDIR) the run cannot write: configuration error (2) naming it, in every script", async function () {
        const missing = `${tempDir("oauth2-dr-operator-trial-tmp-")}/gone`;
        for (const [name, args] of scripts) {
            const result = await runScript(name, { ...scriptEnv(servers.pg, servers.moto, bucket, servers.passphrase), TMPDIR: missing }, args);
            assert.equal(result.code, 2, `${name}: ${explain(result)}`);
            assert.match(result.stderr, new RegExp(`ERROR: scratch directory ${missing} \\(TMPDIR\\) is not usable: .*No such file or directory`), `${name}: ${explain(result)}`);
        }
        fs.rmSync(missing.replace(/\/gone$/, ""), { recursive: true, force: true });
    });
});
