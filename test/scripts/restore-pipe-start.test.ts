/**
 * scripts/restore-pipe.py's start (bench/README.md section 5, h34-pystart): the commands a restore starts with its
 * download (restore-spool, restore-fanout: on the restore's critical path) import no module they never use.
 */
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { resolvedHelperPython, SCRIPTS, tempDir } from "../../tools/sandbox/scripts";

describe("restore-pipe.py: restore-spool and restore-fanout start without the re module", function () {
    this.timeout(30_000);
    let dir: string;
    before(() => (dir = tempDir("oauth2-dr-restore-pipe-start-")));
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    /** The modules `python3 -S restore-pipe.py ARGS` imports (python's -X importtime), with `input` on stdin; its exit status and stdout. */
    function imports(args: string[], input: string): { modules: string[]; status: number | null; stdout: string } {
        // lib.sh restore_python's interpreter and flag (-S).
        const python = resolvedHelperPython() ?? "python3";
        const result = spawnSync(python, ["-S", "-X", "importtime", path.join(SCRIPTS, "restore-pipe.py"), ...args], { input, encoding: "utf8", env: { PATH: process.env.PATH ?? "/usr/bin:/bin" } });
        const modules = result.stderr
            .split("\n")
            .filter((line) => line.startsWith("import time:") && !line.includes("self [us]"))
            .map((line) => line.split("|")[2].trim());
        return { modules, status: result.status, stdout: result.stdout };
    }

    it("restore-spool copies and hashes its input without importing re", function () {
        const spool = path.join(dir, "spool");
        const seen = imports(["restore-spool", spool, path.join(dir, "sha")], "a dump's bytes");
        assert.equal(seen.status, 0);
        assert.equal(seen.stdout, "a dump's bytes");
        assert.equal(fs.readFileSync(spool, "utf8"), "a dump's bytes");
        assert.ok(!seen.modules.includes("re"), `restore-spool imported re: ${seen.modules.join(", ")}`);
    });

    it("restore-fanout passes its input on without importing re", function () {
        const seen = imports(["restore-fanout"], "a dump's bytes");
        assert.equal(seen.status, 0);
        assert.equal(seen.stdout, "a dump's bytes");
        assert.ok(!seen.modules.includes("re"), `restore-fanout imported re: ${seen.modules.join(", ")}`);
    });
});
