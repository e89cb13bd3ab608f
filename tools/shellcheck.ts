/**
 * shellcheck of every shell script of the repository (.ci/run, .ci/setup, scripts/*.sh, following `source`),
 * as `npm run lint` and test/scripts/shellcheck.test.ts run it.
 *
 * A record per file: a clean check of a script leaves a record under node_modules/.cache/oauth2-dr named by a
 * hash of shellcheck's version, the script's path and text, and the path and text of every file it can read
 * while checked: what it sources (`source`/`.` lines and `# shellcheck source=` directives naming another
 * file of the list, lib.sh for the scripts), and any .shellcheckrc from its directory up to the repository.
 * Only the scripts without a record are checked (in one shellcheck run): a change to restore.sh rechecks
 * restore.sh (about 1.5 s of one core) instead of every script (about 10 s); a change to lib.sh rechecks
 * lib.sh and every script that sources it; a change to a file no script reads (scripts/README.md,
 * scripts/aws-helper.py) rechecks nothing (the record of the whole set it replaces was named by every file under
 * scripts/ and .ci/, so such a change ran all of them again). A script whose `source` names no file of the list
 * is keyed by every file of its directory (as the whole set was). Another shellcheck runs them all again.
 * Records are written only when the run is clean. Exit status is shellcheck's.
 */
import { spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { TOOL_CACHE } from "./typecheck";

const REPO = path.resolve(__dirname, "..");

/** The files checked, relative to the repository, in a stable order. */
export function shellScripts(repo = REPO): string[] {
    const scripts = fs.readdirSync(path.join(repo, "scripts")).filter((f) => f.endsWith(".sh")).sort();
    return [".ci/run", ".ci/setup", ...scripts.map((f) => `scripts/${f}`)];
}

/** The files `file` sources among `files` (by name: `source "$(dirname ...)/lib.sh"`, `. ./x.sh`, `# shellcheck source-path=SCRIPTDIR source=lib.sh`); undefined when a source line names none of them. */
function sourcedFiles(file: string, text: string, files: string[]): string[] | undefined {
    const found = new Set<string>();
    for (const line of text.split("\n")) {
        const directive = /^\s*#\s*shellcheck\s(?:.*\s)?source=(\S+)/.exec(line);
        const command = /^\s*(?:source|\.)\s+(.+)$/.exec(line);
        if (!directive && !command) {
            continue;
        }
        // The last path segment the line names (quotes and a trailing comment aside).
        const named = (directive ? directive[1] : command![1].replace(/\s+#.*$/, "")).replace(/["']/g, "").split("/").pop()!;
        const match = files.find((other) => other !== file && path.posix.dirname(other) === path.posix.dirname(file) && path.posix.basename(other) === named);
        if (directive && !match) {
            continue; // source=/dev/null and the like
        }
        if (!match) {
            return undefined;
        }
        found.add(match);
    }
    return [...found].sort();
}

/** Every file `file`'s check reads: itself, what it sources (transitively), .shellcheckrc files above it. */
function readsOf(repo: string, file: string, files: string[], texts: Map<string, string>): string[] {
    const read = (f: string) => {
        if (!texts.has(f)) {
            texts.set(f, fs.readFileSync(path.join(repo, f), "utf8"));
        }
        return texts.get(f)!;
    };
    const seen = new Set<string>([file]);
    const queue = [file];
    while (queue.length > 0) {
        const next = queue.shift()!;
        const sourced = sourcedFiles(next, read(next), files);
        const more = sourced ?? fs.readdirSync(path.join(repo, path.posix.dirname(next)), { withFileTypes: true })
            .filter((entry) => entry.isFile())
            .map((entry) => path.posix.join(path.posix.dirname(next), entry.name));
        for (const f of more) {
            if (!seen.has(f)) {
                seen.add(f);
                if (files.includes(f)) {
                    queue.push(f);
                }
            }
        }
    }
    for (let dir = path.posix.dirname(file); ; dir = path.posix.dirname(dir)) {
        const rc = path.posix.join(dir, ".shellcheckrc");
        if (fs.existsSync(path.join(repo, rc))) {
            seen.add(path.posix.normalize(rc));
        }
        if (dir === "." || dir === "/" || dir === "") {
            break;
        }
    }
    return [...seen].sort();
}

/** Each file's record name: shellcheck's version and every file its check reads; undefined without shellcheck. */
export function shellcheckRecords(repo: string, files: string[]): Map<string, string> | undefined {
    const version = spawnSync("shellcheck", ["--version"], { encoding: "utf8" });
    if (version.error || version.status !== 0) {
        return undefined;
    }
    const texts = new Map<string, string>();
    const records = new Map<string, string>();
    for (const file of files) {
        const hash = crypto.createHash("sha256").update(version.stdout).update(`\0${file}\0`);
        for (const read of readsOf(repo, file, files, texts)) {
            hash.update(`\0${read}\0`).update(fs.readFileSync(path.join(repo, read)));
        }
        records.set(file, `shellcheck-file-${hash.digest("hex").slice(0, 32)}.ok`);
    }
    return records;
}

/**
 * Runs shellcheck on the files without a record of a clean check by this shellcheck of the same texts; returns
 * its exit status, its output and the files it checked (`checked`: none when every record was there).
 */
export function shellcheck(repo = REPO, cache = TOOL_CACHE): { status: number; output: string; checked: string[] } {
    const files = shellScripts(repo);
    const records = shellcheckRecords(repo, files);
    const checked = records ? files.filter((file) => !fs.existsSync(path.join(cache, records.get(file)!))) : files;
    if (checked.length === 0) {
        return { status: 0, output: "", checked };
    }
    const run = spawnSync("shellcheck", ["-x", ...checked], { cwd: repo, encoding: "utf8" });
    if (run.error) {
        return { status: 2, output: `shellcheck could not run: ${run.error.message} (apt-get install shellcheck; .ci/setup installs it)`, checked };
    }
    if (run.status === 0 && records) {
        fs.mkdirSync(cache, { recursive: true });
        for (const file of checked) {
            fs.writeFileSync(path.join(cache, records.get(file)!), `${file}\n`);
        }
    }
    return { status: run.status ?? 2, output: run.stdout + run.stderr, checked };
}

if (require.main === module) {
    const { status, output } = shellcheck();
    process.stdout.write(output);
    process.exit(status);
}
