/**
 * The backup scripts are shellcheck-clean, strict (set -euo pipefail) and document their interface:
 * CI installs shellcheck (.ci/run), so a missing shellcheck fails here rather than skipping.
 */
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as os from "os";
import { shellcheck, shellScripts } from "../../tools/shellcheck";
import { SCRIPTS } from "../../tools/sandbox/scripts";

const scripts = fs.readdirSync(SCRIPTS).filter((f) => f.endsWith(".sh")).sort();

describe("scripts/*.sh", function () {
    it("are the backup, export, restore and verification scripts", function () {
        for (const name of ["db-backup.sh", "client-config-export.sh", "secrets-export.sh", "app-config-export.sh", "restore.sh", "restore-verification.sh", "lib.sh"]) {
            assert.ok(scripts.includes(name), `scripts/${name} is missing`);
        }
    });

    it("pass shellcheck, with .ci/run and .ci/setup", function () {
        const which = spawnSync("shellcheck", ["--version"], { encoding: "utf8" });
        assert.equal(which.error, undefined, "shellcheck is not installed (apt-get install shellcheck; .ci/run installs it)");
        // As `npm run lint` runs it (tools/shellcheck.ts: -x follows `source lib.sh`; a clean run of the same
        // files by the same shellcheck is recorded, and not repeated).
        assert.deepEqual(shellScripts().filter((f) => f.startsWith("scripts/")), scripts.map((s) => `scripts/${s}`));
        const result = shellcheck();
        assert.equal(result.status, 0, result.output);
    });

    it("the shellcheck run can fail: a script with an unquoted expansion is reported", function () {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "oauth2-dr-shellcheck-"));
        try {
            const bad = path.join(dir, "bad.sh");
            fs.writeFileSync(bad, "#!/usr/bin/env bash\nrm -rf $1/cache\n");
            const result = spawnSync("shellcheck", [bad], { encoding: "utf8" });
            assert.notEqual(result.status, 0);
            assert.match(result.stdout, /SC2086/);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    for (const name of scripts.filter((s) => s !== "lib.sh")) {
        it(`${name}: strict mode, executable, documents its environment and exit codes`, function () {
            const text = fs.readFileSync(path.join(SCRIPTS, name), "utf8");
            assert.match(text, /^#!\/usr\/bin\/env bash\n/);
            assert.match(text, /^set -euo pipefail$/m);
            assert.match(text, /^# Exit codes:/m);
            assert.match(text, /^# Environment/m);
            assert.ok(fs.statSync(path.join(SCRIPTS, name)).mode & 0o111, "not executable");
            // Secrets never on a command line: gpg reads the passphrase from a descriptor.
            assert.doesNotMatch(text, /--passphrase[ =]/);
        });
    }
});
