/**
 * The backup scripts are shellcheck-clean, strict (set -euo pipefail) and document their interface:
 * CI installs shellcheck (.ci/run), so a missing shellcheck fails here rather than skipping.
 */
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as os from "os";
import { shellcheck, shellcheckRecords, shellScripts } from "../../tools/shellcheck";
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
        // As `npm run lint` runs it (tools/shellcheck.ts: -x follows `source lib.sh`; a clean check of a file is
        // recorded, and not repeated while that file, what it sources and shellcheck are the same).
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

    it("checks again exactly the scripts whose text, sourced lib.sh or shellcheck changed, and records only a clean check", function () {
        // A repository of its own: .ci/run, .ci/setup, scripts/lib.sh, two scripts that source it, a README.
        const repo = fs.mkdtempSync(path.join(os.tmpdir(), "oauth2-dr-shellcheck-records-"));
        const cache = path.join(repo, "cache");
        const write = (file: string, text: string) => {
            fs.mkdirSync(path.dirname(path.join(repo, file)), { recursive: true });
            fs.writeFileSync(path.join(repo, file), text);
        };
        const script = (body: string) => `#!/usr/bin/env bash\nset -euo pipefail\n# shellcheck source-path=SCRIPTDIR source=lib.sh\nsource "$(dirname "\${BASH_SOURCE[0]}")/lib.sh"\n${body}\n`;
        try {
            write(".ci/run", "#!/usr/bin/env bash\nset -euo pipefail\necho run\n");
            write(".ci/setup", "#!/usr/bin/env bash\nset -euo pipefail\necho setup\n");
            write("scripts/lib.sh", "# shellcheck shell=bash\ngreet() { echo \"hello $1\"; }\n");
            write("scripts/a.sh", script('greet "a"'));
            write("scripts/b.sh", script('greet "b"'));
            write("scripts/README.md", "the scripts\n");
            const all = [".ci/run", ".ci/setup", "scripts/a.sh", "scripts/b.sh", "scripts/lib.sh"];
            assert.deepEqual(shellScripts(repo), all);
            const run = () => {
                const result = shellcheck(repo, cache);
                assert.equal(result.status, 0, result.output);
                return result.checked;
            };
            assert.deepEqual(run(), all, "no record yet: every file");
            assert.deepEqual(run(), [], "every file recorded");
            write("scripts/README.md", "the scripts, again\n");
            assert.deepEqual(run(), [], "no script reads the README");
            write("scripts/a.sh", script('greet "a again"'));
            assert.deepEqual(run(), ["scripts/a.sh"]);
            write("scripts/lib.sh", "# shellcheck shell=bash\ngreet() { echo \"hello, $1\"; }\n");
            assert.deepEqual(run(), ["scripts/a.sh", "scripts/b.sh", "scripts/lib.sh"], "lib.sh and each script that sources it");
            // A script's error found through lib.sh: its variable, unquoted in the script, is reported; no record is
            // written for the files of a run that failed, so they are checked again until clean.
            write("scripts/lib.sh", "# shellcheck shell=bash\n# shellcheck disable=SC2034\nCACHE_DIR=$(mktemp -d)\n");
            write("scripts/b.sh", script("rm -rf $CACHE_DIR/old"));
            const failed = shellcheck(repo, cache);
            assert.notEqual(failed.status, 0);
            assert.match(failed.output, /b\.sh.*\n[\s\S]*SC2086/);
            assert.deepEqual(failed.checked, ["scripts/a.sh", "scripts/b.sh", "scripts/lib.sh"]);
            assert.deepEqual(shellcheck(repo, cache).checked, ["scripts/a.sh", "scripts/b.sh", "scripts/lib.sh"]);
            write("scripts/b.sh", script('rm -rf "$CACHE_DIR/old"'));
            assert.deepEqual(run(), ["scripts/a.sh", "scripts/b.sh", "scripts/lib.sh"]);
            // A source line that names no file of the list: the script is keyed by every file of its directory.
            write("scripts/c.sh", '#!/usr/bin/env bash\nset -euo pipefail\n# shellcheck disable=SC1090,SC1091\nsource "$HOME/.profile-extra"\necho c\n');
            assert.deepEqual(run(), ["scripts/c.sh"]);
            write("scripts/README.md", "the scripts, a third time\n");
            assert.deepEqual(run(), ["scripts/c.sh"]);
            assert.equal(shellcheckRecords(repo, shellScripts(repo))?.size, 6);
        } finally {
            fs.rmSync(repo, { recursive: true, force: true });
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
