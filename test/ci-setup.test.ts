/**
 * The fresh-machine set-up (.ci/setup, run by `npm test` as pretest and by .ci/run): on a machine where
 * none of PostgreSQL 15, gnupg, shellcheck, the AWS CLI, jq, curl, openssl, zstd and chromium is installed it installs them from
 * Debian; without root or sudo it stops with one clear line; on a set-up machine it installs nothing.
 *
 * The shared test machine has all of them installed (and must keep them), so each case runs the real
 * script with a PATH that holds only stand-ins: `id` (the user), `sudo`, and an `apt-get` that records its
 * arguments and "installs" a package by creating the files it would provide.
 */
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const ROOT = path.resolve(__dirname, "..");
const SETUP = path.join(ROOT, ".ci", "setup");

const EVERY_PACKAGE = ["postgresql-15", "postgresql-client-15", "gnupg", "shellcheck", "awscli", "python3-botocore", "python3-s3transfer", "jq", "curl", "openssl", "zstd", "chromium"];

/** Files each Debian package provides, as far as the set-up looks for them. */
const FAKE_APT_GET = `#!/bin/bash
printf 'apt-get %s DEBIAN_FRONTEND=%s\\n' "$*" "\${DEBIAN_FRONTEND:-}" >> "$SETUP_LOG"
provide() { : > "$1"; /bin/chmod +x "$1"; }
for pkg in "$@"; do
  case "$pkg" in
    postgresql-15) /bin/mkdir -p "$PG_BIN"; provide "$PG_BIN/pg_ctl" ;;
    postgresql-client-15) for t in psql pg_dump pg_restore; do provide "$FAKE_BIN/$t"; done ;;
    gnupg) provide "$FAKE_BIN/gpg" ;;
    shellcheck) provide "$FAKE_BIN/shellcheck" ;;
    awscli) provide "$FAKE_BIN/aws" ;;
    python3-botocore|python3-s3transfer) provide "$SYSTEM_PYTHON" ;;
    jq|curl|openssl|zstd) provide "$FAKE_BIN/$pkg" ;;
    chromium) provide "$CHROMIUM_PATH" ;;
  esac
done
`;

const FAKE_SUDO = `#!/bin/bash
printf 'sudo %s\\n' "$*" >> "$SETUP_LOG"
[ "$1" = -n ] && shift
while [[ "$1" == *=* ]]; do export "\${1?}"; shift; done
[ "$1" = true ] && exit 0
exec "$@"
`;

interface Machine {
    dir: string;
    bin: string;
    pgBin: string;
    chromium: string;
    log: string;
}

function write(file: string, text: string): void {
    fs.writeFileSync(file, text, { mode: 0o755 });
}

/** A machine with nothing installed but the given stand-ins (and, unless told otherwise, moto_server). */
function freshMachine(opts: { uid: number; sudo?: boolean; moto?: boolean }): Machine {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "oauth2-dr-setup-"));
    const bin = path.join(dir, "bin");
    fs.mkdirSync(bin);
    const machine = { dir, bin, pgBin: path.join(dir, "pg15", "bin"), chromium: path.join(dir, "chromium"), log: path.join(dir, "log") };
    write(path.join(bin, "id"), `#!/bin/bash\necho ${opts.uid}\n`);
    write(path.join(bin, "apt-get"), FAKE_APT_GET);
    if (opts.sudo) {
        write(path.join(bin, "sudo"), FAKE_SUDO);
    }
    if (opts.moto !== false) {
        write(path.join(bin, "moto_server"), "#!/bin/bash\n");
    }
    return machine;
}

/** Everything the set-up looks for, already there. */
function installEverything(m: Machine): void {
    fs.mkdirSync(m.pgBin, { recursive: true });
    write(path.join(m.pgBin, "pg_ctl"), "");
    write(m.chromium, "");
    for (const tool of ["psql", "pg_dump", "pg_restore", "gpg", "shellcheck", "aws", "python3", "jq", "curl", "openssl", "zstd"]) {
        write(path.join(m.bin, tool), "");
    }
    write(path.join(m.dir, "system-python3"), "");
}

function runSetup(m: Machine) {
    const result = spawnSync("/bin/bash", [SETUP], {
        cwd: ROOT,
        encoding: "utf8",
        env: { PATH: m.bin, PG_BIN: m.pgBin, CHROMIUM_PATH: m.chromium, SETUP_LOG: m.log, FAKE_BIN: m.bin, SYSTEM_PYTHON: path.join(m.dir, "system-python3") },
    });
    const log = fs.existsSync(m.log) ? fs.readFileSync(m.log, "utf8").trim().split("\n") : [];
    return { status: result.status, stdout: result.stdout, stderr: result.stderr, log };
}

describe("fresh machine set-up (.ci/setup)", () => {
    const machines: Machine[] = [];
    const machine = (opts: Parameters<typeof freshMachine>[0]) => {
        const m = freshMachine(opts);
        machines.push(m);
        return m;
    };
    after(() => machines.forEach((m) => fs.rmSync(m.dir, { recursive: true, force: true })));

    it("as root on a machine with none of the tools, installs every package from Debian and succeeds", () => {
        const m = machine({ uid: 0 });
        const result = runSetup(m);
        assert.equal(result.status, 0, result.stderr);
        assert.deepEqual(result.log, [
            "apt-get update -qq DEBIAN_FRONTEND=noninteractive",
            `apt-get install -y -qq ${EVERY_PACKAGE.join(" ")} DEBIAN_FRONTEND=noninteractive`,
        ]);
        assert.match(result.stdout, /setup: installing postgresql-15 .* chromium/);
        // Run again: everything is there now, nothing is installed twice.
        fs.rmSync(m.log);
        const again = runSetup(m);
        assert.equal(again.status, 0, again.stderr);
        assert.deepEqual(again.log, []);
    });

    it("without root and without sudo, stops with one line naming the packages and what it needs", () => {
        const m = machine({ uid: 1000 });
        const result = runSetup(m);
        assert.equal(result.status, 1);
        const lines = result.stderr.trim().split("\n");
        assert.equal(lines.length, 1, result.stderr);
        assert.match(lines[0], /needs root or passwordless sudo/);
        for (const pkg of EVERY_PACKAGE) {
            assert.ok(lines[0].includes(pkg), `${lines[0]} names ${pkg}`);
        }
        assert.deepEqual(result.log, [], "nothing was run");
    });

    it("as a user with passwordless sudo, installs through sudo", () => {
        const m = machine({ uid: 1000, sudo: true });
        const result = runSetup(m);
        assert.equal(result.status, 0, result.stderr);
        assert.ok(result.log.includes("sudo -n DEBIAN_FRONTEND=noninteractive apt-get update -qq"), result.log.join("\n"));
        assert.ok(result.log.includes(`apt-get install -y -qq ${EVERY_PACKAGE.join(" ")} DEBIAN_FRONTEND=noninteractive`), result.log.join("\n"));
    });

    it("installs only what is missing, and needs no root when nothing is", () => {
        const m = machine({ uid: 0 });
        installEverything(m);
        fs.rmSync(m.chromium);
        fs.rmSync(path.join(m.bin, "shellcheck"));
        assert.deepEqual(runSetup(m).log.filter((l) => l.includes("install")), ["apt-get install -y -qq shellcheck chromium DEBIAN_FRONTEND=noninteractive"]);

        const user = machine({ uid: 1000 });
        installEverything(user);
        const result = runSetup(user);
        assert.equal(result.status, 0, result.stderr);
        assert.deepEqual(result.log, []);
        assert.equal(result.stdout, "");
    });

    it("as root, installs python3-botocore when only a python3 of root's own has botocore (the PITR drill's archive_command runs as postgres)", () => {
        const m = machine({ uid: 0 });
        installEverything(m);
        fs.rmSync(path.join(m.dir, "system-python3"));
        assert.deepEqual(runSetup(m).log.filter((l) => l.includes("install")), ["apt-get install -y -qq python3-botocore python3-s3transfer DEBIAN_FRONTEND=noninteractive"]);

        const user = machine({ uid: 1000 });
        installEverything(user);
        fs.rmSync(path.join(user.dir, "system-python3"));
        assert.deepEqual(runSetup(user).log, [], "a user's PostgreSQL runs as that user: its python3 is enough");
    });

    it("a package apt-get installed whose command is still not found (PATH without /usr/bin): stops naming it and PATH, not 0 and a test failing later (h29: a fresh PATH without shellcheck)", () => {
        const m = machine({ uid: 0 });
        installEverything(m);
        fs.rmSync(path.join(m.bin, "shellcheck"));
        // This apt-get installs shellcheck where Debian does, into a directory the set-up's PATH does not hold.
        const usrBin = path.join(m.dir, "usr-bin");
        fs.mkdirSync(usrBin);
        write(path.join(m.bin, "apt-get"), FAKE_APT_GET.replace('shellcheck) provide "$FAKE_BIN/shellcheck"', `shellcheck) provide "${usrBin}/shellcheck"`));
        const result = runSetup(m);
        assert.equal(result.status, 1, result.stdout);
        assert.deepEqual(result.log.filter((l) => l.includes("install")), ["apt-get install -y -qq shellcheck DEBIAN_FRONTEND=noninteractive"]);
        assert.match(result.stderr.trim(), new RegExp(`^setup: shellcheck still not found after apt-get installed shellcheck \\(PATH=${m.bin.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}; python3 modules: .*\\): Debian installs the commands in /usr/bin: add it to PATH`));
        // On PATH, the same install succeeds.
        fs.renameSync(path.join(usrBin, "shellcheck"), path.join(m.bin, "shellcheck"));
        assert.equal(runSetup(m).status, 0);
    });

    it("names moto_server, which has no Debian package, when it is missing", () => {
        const m = machine({ uid: 0, moto: false });
        installEverything(m);
        const result = runSetup(m);
        assert.equal(result.status, 1);
        assert.match(result.stderr.trim(), /^setup: moto_server is missing .*pip install 'moto\[server\]'/);
    });

    it("is what `npm test` runs first and what .ci/run runs before npm ci, lint and test", () => {
        const scripts = (JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts;
        assert.equal(scripts.pretest, "bash .ci/setup");
        const ci = fs.readFileSync(path.join(ROOT, ".ci", "run"), "utf8");
        const order = ["bash .ci/setup", "npm ci", "npm run lint", "npm test"].map((c) => ci.indexOf(`\n${c}`));
        assert.ok(order.every((i) => i > 0), `.ci/run runs ${order}`);
        assert.deepStrictEqual([...order].sort((a, b) => a - b), order);
    });
});
