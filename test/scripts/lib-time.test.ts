/**
 * lib.sh's log and now_utc: the UTC time as `date -u +%Y-%m-%dT%H:%M:%SZ` prints it, whatever TZ the run has,
 * from bash's own printf (no subshell and date process per log line: a run logs dozens).
 */
import { strict as assert } from "assert";
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { BASH_C, SCRIPTS } from "../../tools/sandbox/scripts";

describe("lib.sh log / now_utc", function () {
    it("print the UTC second under any TZ, the message as given, and start no date", function () {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "oauth2-dr-lib-time-"));
        try {
            const started = path.join(dir, "date-started");
            // A date that says it was started (and still answers, so that a caller that needs it works).
            fs.writeFileSync(path.join(dir, "date"), `#!/bin/sh\necho "$@" >>'${started}'\nexec /bin/date "$@"\n`, { mode: 0o755 });
            const script = 'source "$LIB"; SCRIPT_NAME=probe; now_utc; log "100% done, %s and \\\\n kept"';
            const before = Math.floor(Date.now() / 1000);
            const result = spawnSync("bash", [...BASH_C, script], { encoding: "utf8", env: { ...process.env, LIB: path.join(SCRIPTS, "lib.sh"), PATH: `${dir}:${process.env.PATH}`, TZ: "Asia/Tokyo" } });
            const after = Math.floor(Date.now() / 1000);
            assert.equal(result.status, 0, result.stderr);
            const stamp = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)\n$/.exec(result.stdout);
            assert.ok(stamp, result.stdout);
            const logged = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ) probe: 100% done, %s and \\n kept\n$/.exec(result.stderr);
            assert.ok(logged, result.stderr);
            for (const time of [stamp[1], logged[1]]) {
                const seconds = Date.parse(time) / 1000;
                assert.ok(seconds >= before && seconds <= after, `${time} is not UTC now (${new Date(before * 1000).toISOString()} .. ${new Date(after * 1000).toISOString()})`);
            }
            assert.equal(fs.existsSync(started) ? fs.readFileSync(started, "utf8") : "", "", "date was started");
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});

describe("lib.sh short_pause: the poll loops' pauses start no sleep process", function () {
    it("aws_helper_ready waits for the helper's socket in pauses of its own (no sleep started), and returns once it listens", async function () {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "oauth2-dr-lib-pause-"));
        const socket = path.join(dir, "aws.sock");
        const server = net.createServer();
        try {
            const started = path.join(dir, "sleep-started");
            fs.writeFileSync(path.join(dir, "sleep"), `#!/bin/sh\necho "$@" >>'${started}'\nexec /bin/sleep "$@"\n`, { mode: 0o755 });
            const script = 'set -Eeuo pipefail; source "$LIB"; SCRIPT_NAME=probe; WORK_DIR=$DIR; AWS_HELPER_SOCKET=$SOCKET; AWS_HELPER_PID=$$; aws_helper_note_start; short_pause 0.05; aws_helper_ready; echo ready';
            const bash = spawn("bash", [...BASH_C, script], { env: { ...process.env, LIB: path.join(SCRIPTS, "lib.sh"), DIR: dir, SOCKET: socket, PATH: `${dir}:${process.env.PATH}` } });
            let out = "";
            let err = "";
            bash.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
            bash.stderr.on("data", (chunk: Buffer) => (err += chunk.toString()));
            const exited = new Promise<number | null>((resolve) => bash.on("exit", (code) => resolve(code)));
            await new Promise((resolve) => setTimeout(resolve, 300));
            assert.equal(bash.exitCode, null, `returned before the socket existed: ${out} ${err}`);
            await new Promise<void>((resolve) => server.listen(socket, () => resolve()));
            assert.equal(await exited, 0, err);
            assert.equal(out, "ready\n");
            assert.equal(fs.existsSync(started) ? fs.readFileSync(started, "utf8") : "", "", "sleep was started");
        } finally {
            server.close();
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});
