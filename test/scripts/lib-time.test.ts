/**
 * lib.sh's log and now_utc: the UTC time as `date -u +%Y-%m-%dT%H:%M:%SZ` prints it, whatever TZ the run has,
 * from bash's own printf (no subshell and date process per log line: a run logs dozens).
 */
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { SCRIPTS } from "../../tools/sandbox/scripts";

describe("lib.sh log / now_utc", function () {
    it("print the UTC second under any TZ, the message as given, and start no date", function () {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "oauth2-dr-lib-time-"));
        try {
            const started = path.join(dir, "date-started");
            // A date that says it was started (and still answers, so that a caller that needs it works).
            fs.writeFileSync(path.join(dir, "date"), `#!/bin/sh\necho "$@" >>'${started}'\nexec /bin/date "$@"\n`, { mode: 0o755 });
            const script = 'source "$LIB"; SCRIPT_NAME=probe; now_utc; log "100% done, %s and \\\\n kept"';
            const before = Math.floor(Date.now() / 1000);
            const result = spawnSync("bash", ["-c", script], { encoding: "utf8", env: { ...process.env, LIB: path.join(SCRIPTS, "lib.sh"), PATH: `${dir}:${process.env.PATH}`, TZ: "Asia/Tokyo" } });
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
