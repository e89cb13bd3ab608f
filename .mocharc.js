/**
 * mocha's configuration (npm test). Four workers on two cores, and the test files longest first: each worker
 * takes the next file when it is free, so a long file left for last would run alone on one core while the other
 * idles. Four, not two or three: the script files wait (connect and lock timeouts they prove, servers starting, a
 * frozen S3, the drill's traffic) for much of their wall time: with three workers a quiet run of 167 s left about
 * 80 of its 334 core-seconds idle (1.25 cores busy over the first 40 s, by the files' own CPU), which a fourth
 * worker's file takes (bench/README.md section 5). `npx mocha --jobs 3` overrides it.
 * Every *.test.ts under test/ and under each workspace package's test/ (packages/<name>/test) runs exactly once: the list below only orders them (a name that no longer
 * exists is skipped; a new file runs after these, in name order).
 */
const fs = require("fs");
const path = require("path");

const LONGEST_FIRST = [
    // Measured 2026-12-04 late (h27-testwall: per-file wall times of whole runs and of the files alone, bench/README.md
    // section 5), longest first; the files that wait (operator-trial, the drill, the fault files) before the others.
    "test/drill/drill.test.ts",
    "test/scripts/operator-trial.test.ts",
    "test/scripts/restore-faults.test.ts",
    "test/scripts/backup-faults.test.ts",
    "test/scripts/backup-schemas.test.ts",
    "test/scripts/public-key.test.ts",
    "test/scripts/db-backup.test.ts",
    "test/validate/validate-service.test.ts",
    "test/scripts/wal-archive.test.ts",
    "test/programs.test.ts",
    "test/scripts/backup-fail-fast.test.ts",
    "test/typecheck.test.ts",
    "test/scripts/verification-record.test.ts",
    "test/scripts/shellcheck.test.ts",
    "test/foundation-cli.test.ts",
    "test/policy/publishable.test.ts",
    "test/policy/check.test.ts",
    "test/scripts/exports.test.ts",
    "test/recovery-points.test.ts",
    "test/report.test.ts",
    "test/scripts/object-lock.test.ts",
    "packages/offline-plan/test/compiled-modules.test.ts",
    "test/policy/mutations.test.ts",
    "packages/offline-plan/test/lazy-closure-modules.test.ts",
    "test/scripts/manifest-fields.test.ts",
    "test/vault.test.ts",
    "test/lint.test.ts",
    "test/policy/immutability.test.ts",
    "packages/offline-plan/test/plan-exit-hooks.test.ts",
    "test/scripts/sandbox.test.ts",
    "test/backup-jobs.test.ts",
    "packages/offline-plan/test/own-node-modules.test.ts",
    "test/restore.test.ts",
    "packages/offline-plan/test/register.test.ts",
    "test/vault-accounts.test.ts",
    "test/promote.test.ts",
    "packages/offline-plan/test/plan-runner.test.ts",
    "test/policy/schedule.test.ts",
    "test/clouds.test.ts",
    "test/drill/compromise.test.ts",
    "test/scripts/helper-stop.test.ts",
];

function testFiles(dir) {
    return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
        const file = path.posix.join(dir, entry.name);
        if (entry.isDirectory()) {
            return entry.name === "fixtures" || entry.name === "node_modules" ? [] : testFiles(file);
        }
        return file.endsWith(".test.ts") ? [file] : [];
    });
}

const packageTests = fs.existsSync("packages")
    ? fs.readdirSync("packages").flatMap((name) => (fs.existsSync(path.join("packages", name, "test")) ? testFiles(path.posix.join("packages", name, "test")) : []))
    : [];
const all = [...testFiles("test"), ...packageTests].sort();
// mocha adds the files named on its command line to the configured ones: `npx mocha test/x.test.ts` runs x alone.
const named = process.argv.slice(2).some((arg) => !arg.startsWith("-") && /\.ts$|\*/.test(arg));

// The scripts' passphrase S2K at a count of 1025 instead of 65011712 in every script the tests run
// (tools/sandbox/scripts.ts baseEnv passes it on; scripts/lib.sh, scripts/README.md): an eighth of a second of
// CPU less per encryption and decryption. test/scripts/db-backup.test.ts unsets it for the backup whose
// stored count it pins at the production value.
process.env.TEST_ONLY_GPG_S2K_COUNT = process.env.TEST_ONLY_GPG_S2K_COUNT || "1025";

module.exports = {
    "node-option": [`require=${path.join(__dirname, "packages", "offline-plan", "register.cjs")}`],
    // Each file must leave the worker's environment and working directory as it found them (the next file runs in the same process).
    require: [path.join(__dirname, "test", "support", "process-state.cjs")],
    extension: ["ts"],
    timeout: 120000,
    reporter: "spec",
    parallel: true,
    jobs: 4,
    spec: named ? [] : [...LONGEST_FIRST.filter((file) => all.includes(file)), ...all.filter((file) => !LONGEST_FIRST.includes(file))],
};
