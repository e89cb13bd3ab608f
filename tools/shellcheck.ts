/**
 * shellcheck of every shell script of the repository (.ci/run, .ci/setup, scripts/*.sh, following `source`),
 * as `npm run lint` and test/scripts/shellcheck.test.ts run it.
 *
 * A clean run leaves a record under node_modules/.cache/oauth2-dr named by a hash of shellcheck's version and
 * the text of every file under scripts/ and .ci/ (a sourced file outside the list included): the same files
 * checked by the same shellcheck pass again without a second run (6 to 9 s of one core after `npm run lint`,
 * as in CI). Any change to a file, or another shellcheck, runs it again. Exit status is shellcheck's.
 */
import { spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { TOOL_CACHE } from "./typecheck";

const REPO = path.resolve(__dirname, "..");

/** The files checked, relative to the repository, in a stable order. */
export function shellScripts(): string[] {
    const scripts = fs.readdirSync(path.join(REPO, "scripts")).filter((f) => f.endsWith(".sh")).sort();
    return [".ci/run", ".ci/setup", ...scripts.map((f) => `scripts/${f}`)];
}

function everyFileUnder(dir: string): string[] {
    return fs.readdirSync(path.join(REPO, dir), { withFileTypes: true }).flatMap((entry) => {
        const file = path.posix.join(dir, entry.name);
        return entry.isDirectory() ? everyFileUnder(file) : entry.isFile() ? [file] : [];
    });
}

/** The record's name: shellcheck's version and every file the check can read; undefined without shellcheck. */
function recordName(files: string[]): string | undefined {
    const version = spawnSync("shellcheck", ["--version"], { encoding: "utf8" });
    if (version.error || version.status !== 0) {
        return undefined;
    }
    const hash = crypto.createHash("sha256").update(version.stdout).update(JSON.stringify(files));
    for (const file of [...everyFileUnder("scripts"), ...everyFileUnder(".ci")].sort()) {
        hash.update(`\0${file}\0`).update(fs.readFileSync(path.join(REPO, file)));
    }
    return `shellcheck-${hash.digest("hex").slice(0, 32)}.ok`;
}

/** Runs shellcheck unless these files passed this shellcheck before; returns its exit status. */
export function shellcheck(): { status: number; output: string } {
    const files = shellScripts();
    const record = recordName(files);
    if (record && fs.existsSync(path.join(TOOL_CACHE, record))) {
        return { status: 0, output: "" };
    }
    const run = spawnSync("shellcheck", ["-x", ...files], { cwd: REPO, encoding: "utf8" });
    if (run.error) {
        return { status: 2, output: `shellcheck could not run: ${run.error.message} (apt-get install shellcheck; .ci/setup installs it)` };
    }
    if (run.status === 0 && record) {
        fs.mkdirSync(TOOL_CACHE, { recursive: true });
        fs.writeFileSync(path.join(TOOL_CACHE, record), `${files.join("\n")}\n`);
    }
    return { status: run.status ?? 2, output: run.stdout + run.stderr };
}

if (require.main === module) {
    const { status, output } = shellcheck();
    process.stdout.write(output);
    process.exit(status);
}
