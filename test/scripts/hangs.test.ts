/**
 * h34-hangs: waits on a database that stops answering (a frozen PostgreSQL: SIGSTOP, a hung host, a proxy that
 * accepts and never answers) end, say what they wait for, and report the database's failure with its cause.
 * A stalled endpoint here is a TCP listener on 127.0.0.1 that accepts connections and never answers.
 */
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { SCRIPTS, resolvedHelperPython } from "../../tools/sandbox/scripts";
import { LOCALHOST } from "../../tools/sandbox/servers";

const PYTHON = resolvedHelperPython() ?? "python3";

describe("waits on a database that does not answer (h34-hangs)", function () {
    this.timeout(60_000);
    let silent: net.Server;
    let silentPort = 0;
    const sockets: net.Socket[] = [];
    let dir = "";

    before(async function () {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "hangs-"));
        silent = net.createServer((socket) => {
            sockets.push(socket);
            socket.on("error", () => undefined);
        });
        await new Promise<void>((resolve) => silent.listen(0, LOCALHOST, resolve));
        silentPort = (silent.address() as net.AddressInfo).port;
    });

    after(async function () {
        for (const socket of sockets) socket.destroy();
        await new Promise<void>((resolve) => silent.close(() => resolve()));
        fs.rmSync(dir, { recursive: true, force: true });
    });

    it("restore-pipe.py restore-load whose sessions cannot start (the server does not answer): exit 3 naming the session and libpq's cause, not a traceback", function () {
        // Was: _WorkerGone raised outside the loader's try, a Python traceback and exit 1, which restore.sh
        // reported as "pg_restore failed (nothing committed): could not write to output file: Broken pipe".
        const work = fs.mkdtempSync(path.join(dir, "loader-"));
        fs.writeFileSync(path.join(work, "map"), "public\tstg\n");
        const loaded = spawnSync(PYTHON, [path.join(SCRIPTS, "restore-pipe.py"), "restore-load", "1", work, path.join(work, "map"), path.join(work, "setval.sql")], {
            input: "COPY public.t (id) FROM stdin;\n1\n\\.\n",
            encoding: "utf8",
            env: { PATH: process.env.PATH, PGHOST: LOCALHOST, PGPORT: String(silentPort), PGUSER: "postgres", PGDATABASE: "oauth2db", PGCONNECT_TIMEOUT: "2" },
            timeout: 30_000,
        });
        assert.doesNotMatch(loaded.stderr, /Traceback|_WorkerGone/);
        assert.equal(loaded.status, 3, loaded.stderr);
        const failed = fs.readFileSync(path.join(work, "failed"), "utf8").trim();
        assert.match(failed, /^worker-\d$/);
        assert.match(fs.readFileSync(path.join(work, `${failed}.err`), "utf8"), new RegExp(`port ${silentPort} failed: timeout expired`));
    });
});
