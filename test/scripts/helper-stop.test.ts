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
import { BASH_C, baseEnv, explain, killRunAfter, SCRIPTS, startScript, tempDir } from "../../tools/sandbox/scripts";

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
        // Without the fix the script waits for the helper for ever: kill the whole run (killRunAfter) well before
        // the test's timeout, so that it fails on the exit code below instead of hanging.
        const stop = killRunAfter(run, 20_000);
        const result = await run.done;
        stop();
        const left = spawnSync("pgrep", ["-f", name], { encoding: "utf8" }).stdout.trim();
        if (left) {
            spawnSync("kill", ["-KILL", ...left.split("\n")]);
        }
        assert.equal(result.code, 2, explain(result));
        assert.match(result.stderr, /unknown command "archive"/);
        assert.equal(left, "", "the helper outlived its script");
    });

    it("the helper runs with a fixed malloc mmap threshold (its upload's freed parts go back to the system: ~10 MB less at a backup's peak), unless AWS_HELPER_MALLOC_MMAP_THRESHOLD is empty", async function () {
        for (const [setting, expected] of [[undefined, "MALLOC_MMAP_THRESHOLD_=131072"], ["", "none"], ["262144", "MALLOC_MMAP_THRESHOLD_=262144"]] as const) {
            const seen = path.join(dir, `malloc-${setting ?? "default"}`);
            // A stand-in helper that writes down the setting it was started with.
            const helper = path.join(dir, "env-helper");
            fs.writeFileSync(helper, `#!/bin/bash\necho "\${MALLOC_MMAP_THRESHOLD_+MALLOC_MMAP_THRESHOLD_=$MALLOC_MMAP_THRESHOLD_}" >"${seen}.tmp"; [[ -s "${seen}.tmp" && $(cat "${seen}.tmp") != "" ]] || echo none >"${seen}.tmp"; mv "${seen}.tmp" "${seen}"\n`, { mode: 0o755 });
            const env: Record<string, string> = { AWS_HELPER_PYTHON: helper, TMPDIR: dir };
            if (setting !== undefined) {
                env.AWS_HELPER_MALLOC_MMAP_THRESHOLD = setting;
            }
            // lib.sh's start_aws_helper as the scripts call it (make_work_dir starts it: starting it once more ran two
            // stand-ins writing the same file, and one of them read it emptied by the other: 'none', one CI run in a
            // few), waited for (a script's exit would kill the stand-in).
            const result = spawnSync("bash", [...BASH_C, `source "${SCRIPTS}/lib.sh"; make_work_dir; wait "$AWS_HELPER_PID"; remove_work_dir`], { env: baseEnv(env), encoding: "utf8" });
            assert.equal(result.status, 0, result.stderr);
            assert.equal(fs.readFileSync(seen, "utf8").trim(), expected, `AWS_HELPER_MALLOC_MMAP_THRESHOLD=${setting ?? "(unset)"}`);
        }
    });
});
