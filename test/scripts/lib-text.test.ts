/**
 * lib.sh's text helpers that replaced a process per call (a fork and an exec, 3 to 5 ms of CPU each on the test
 * machine): file_text and file_is ($(cat FILE 2>/dev/null)), ere_escape (sed's escape of a manifest key's ERE),
 * last_line (sed '/^$/d' | tail -n 1), script_dir (dirname) and SCRIPT_NAME (basename "$0" .sh). Each must give
 * what the command it replaced gave, byte for byte, and start none: the commands are stand-ins on PATH that note
 * each start (and still answer, so that the comparison runs them).
 */
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { BASH_C, SCRIPTS } from "../../tools/sandbox/scripts";

/** Runs `script` ($0 argv0, then `args`) in bash with lib.sh sourced (SCRIPT_NAME left to lib.sh) and the noting stand-ins first on PATH. */
function withLib(dir: string, script: string, argv0 = "probe.sh", args: string[] = []): { status: number | null; stdout: string; stderr: string; starts: string[] } {
    const started = path.join(dir, "started");
    fs.rmSync(started, { force: true });
    for (const name of ["cat", "sed", "tail", "dirname", "basename"]) {
        const real = spawnSync("bash", [...BASH_C, `command -v ${name}`], { encoding: "utf8" }).stdout.trim();
        fs.writeFileSync(path.join(dir, name), `#!/bin/sh\necho "${name} $*" >>'${started}'\nexec '${real}' "$@"\n`, { mode: 0o755 });
    }
    const result = spawnSync("bash", [...BASH_C, `set -euo pipefail; source "$LIB"; ${script}`, argv0, ...args], {
        encoding: "utf8",
        env: { PATH: `${dir}:${process.env.PATH}`, LIB: path.join(SCRIPTS, "lib.sh"), DIR: dir, LANG: "C.UTF-8" },
    });
    const starts = fs.existsSync(started) ? fs.readFileSync(started, "utf8").split("\n").filter(Boolean) : [];
    return { status: result.status, stdout: result.stdout, stderr: result.stderr, starts };
}

describe("lib.sh text helpers: the commands' output without their processes", function () {
    let dir: string;
    before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "oauth2-dr-lib-text-"))));
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("file_text reads a file as $(cat FILE 2>/dev/null) does, trailing newlines dropped; status 1 and nothing for a missing one; file_is compares it", function () {
        const texts = ["0\n", "0", "0\n\n\n", "", "a\nb\n\n", " x \n", "3\t42\n"];
        texts.forEach((text, i) => fs.writeFileSync(path.join(dir, `f${i}`), text));
        // %q: one line per file whatever its text holds.
        const script = `for f in "$DIR"/f? "$DIR/missing"; do if file_text "$f"; then s=0; else s=1; fi; printf '%q %s\\n' "$REPLY" "$s"; done
            for f in "$DIR"/f? "$DIR/missing"; do printf '%q\\n' "$(cat "$f" 2>/dev/null)"; done >"$DIR/want"
            file_is "$DIR/f0" 0 && file_is "$DIR/f2" 0 && ! file_is "$DIR/f4" a && ! file_is "$DIR/missing" 0 && file_is "$DIR/missing" "" && echo compared`;
        const result = withLib(dir, script);
        assert.equal(result.status, 0, result.stderr);
        const want = fs.readFileSync(path.join(dir, "want"), "utf8").split("\n").filter(Boolean);
        const got = result.stdout.split("\n").filter(Boolean);
        assert.equal(got.pop(), "compared");
        assert.deepEqual(got.map((line) => line.replace(/ \d$/, "")), want);
        assert.deepEqual(got.map((line) => line.slice(-1)), [...texts.map(() => "0"), "1"]);
        // Only the comparison's own cats (one per file), none of file_text's or file_is'.
        assert.equal(result.starts.length, texts.length + 1, result.starts.join("\n"));
        assert.ok(result.starts.every((start) => /^cat \S+\/(f\d|missing)$/.test(start)), result.starts.join("\n"));
    });

    it("ere_escape escapes what sed 's/[][\\.*^$+?(){}|]/\\\\&/g' escaped; manifest_key_regex starts no sed", function () {
        const samples = ["abc", "a.b*c", "][\\.*^$+?(){}|", "x/y-z", "é.ü", "a b\tc", "", "p[1]{2}(3)|4+?"];
        const script = `for t in "$@"; do ere_escape "$t"; printf '%s\\n' "$REPLY"; done; BACKUP_PREFIX='db.1/'; manifest_key_regex 'o+db'`;
        const result = withLib(dir, script, "probe.sh", samples);
        assert.equal(result.status, 0, result.stderr);
        const want = samples.map((t) => spawnSync("sed", ["s/[][\\.*^$+?(){}|]/\\\\&/g"], { input: t, encoding: "utf8" }).stdout);
        const lines = result.stdout.split("\n");
        assert.deepEqual(lines.slice(0, samples.length), want);
        assert.equal(lines[samples.length], "^db\\.1/manifests/o\\+db-[0-9]{8}T[0-9]{6}Z-[0-9a-f]+\\.json");
        assert.deepEqual(result.starts, []);
    });

    it("last_line prints the last non-empty line as sed '/^$/d' | tail -n 1 did, and starts neither", function () {
        const samples = ["a\nb\n", "a\n\n", "\n\n", "", "x", "x\ny", "x\n\ny\n\n", "\n y \n"];
        const script = `for t in "$@"; do printf '<'; last_line "$t"; printf '>'; done`;
        const result = withLib(dir, script, "probe.sh", samples);
        assert.equal(result.status, 0, result.stderr);
        const want = samples.map((t) => `<${spawnSync("bash", [...BASH_C, "printf '%s\\n' \"$1\" | sed '/^$/d' | tail -n 1", "x", t], { encoding: "utf8" }).stdout}>`).join("");
        assert.equal(result.stdout, want);
        assert.deepEqual(result.starts, []);
    });

    it("script_dir and SCRIPT_NAME: dirname's and basename .sh's answers, without them", function () {
        const paths = ["/a/b/c.sh", "c.sh", "/c.sh", "./c.sh", "a/b/c", "/a/b/.sh"];
        const script = `printf '%s\\n' "$SCRIPT_NAME"; for p in ${paths.map((p) => `'${p}'`).join(" ")}; do script_dir "$p"; printf '%s\\n' "$SCRIPT_DIR"; done`;
        for (const argv0 of ["/x/y/db-backup.sh", "restore.sh", "/x/.sh", "/x/y/tool"]) {
            const result = withLib(dir, script, argv0);
            assert.equal(result.status, 0, result.stderr);
            const want = [spawnSync("basename", [argv0, ".sh"], { encoding: "utf8" }).stdout.trim(), ...paths.map((p) => spawnSync("dirname", [p], { encoding: "utf8" }).stdout.trim())];
            assert.deepEqual(result.stdout.split("\n").filter(Boolean), want, argv0);
            assert.deepEqual(result.starts, [], argv0);
        }
    });
});
