/**
 * lib.sh's stop_aws_helper at a script's exit: the helper must end even when it did not get a TERM (bash loses
 * a TERM that reaches the helper's subshell before that has reset the script's traps: a usage error right
 * after make_work_dir hung about one run in 3000, seen in wal-archive.test.ts's usage case). No servers: the
 * helper here is a stand-in that ignores TERM, as one that lost it.
 */
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { explain, startScript, tempDir } from "../../tools/sandbox/scripts";

describe("lib.sh stop_aws_helper", function () {
    this.timeout(60_000);
    let dir: string;
    before(() => (dir = tempDir("oauth2-dr-helper-stop-")));
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("a usage error right after the helper started exits 2 even when the helper ignores TERM, and leaves no helper", async function () {
        const helper = path.join(dir, "deaf-helper");
        const name = `deaf-helper-${path.basename(dir)}`;
        fs.writeFileSync(helper, `#!/bin/bash\ntrap '' TERM\nexec -a ${name} sleep 300\n`, { mode: 0o755 });
        const run = startScript("wal-archive.sh", { BUCKET: "helper-stop-bucket", AWS_HELPER_PYTHON: helper, TMPDIR: dir }, ["archive"], { detached: true });
        // Without the fix the script waits for the helper for ever: end the whole run's group well before the
        // test's timeout, so that it fails on the exit code below instead of hanging.
        const stop = setTimeout(() => process.kill(-run.child.pid!, "SIGKILL"), 20_000);
        const result = await run.done;
        clearTimeout(stop);
        const left = spawnSync("pgrep", ["-f", name], { encoding: "utf8" }).stdout.trim();
        if (left) {
            spawnSync("kill", ["-KILL", ...left.split("\n")]);
        }
        assert.equal(result.code, 2, explain(result));
        assert.match(result.stderr, /unknown command "archive"/);
        assert.equal(left, "", "the helper outlived its script");
    });
});
