/**
 * mocha's configuration (npm test). Five workers on two cores, and the test files longest first: each worker
 * takes the next file when it is free, so a long file left for last would run alone on one core while the other
 * idles. Five: the script files wait (connect and lock timeouts they prove, servers starting, a frozen S3, the
 * drill's traffic) for much of their wall time. In main's quiet run of 2026-12-05 07:05 (4 workers, 158.8 s) the
 * machine was idle 15 core-seconds of 316, nearly all of it in the first 50 s, while the four longest files
 * waited together; the suite's CPU (about 300 s, counting the daemonized PostgreSQL, gpg-agent and the workers'
 * shared moto that `time` does not see) took the rest, so the run is CPU-bound: a fifth worker takes that idle
 * time (model: 159 -> 151 s), a sixth nothing more (bench/README.md section 5). `npx mocha --jobs 4` overrides it.
 * Every *.test.ts under test/ and under each workspace package's test/ (packages/<name>/test) runs exactly once: the list below only orders them (a name that no longer
 * exists is skipped; a new file runs after these, in name order).
 */
const fs = require("fs");
const path = require("path");

const LONGEST_FIRST = [
    // Measured 2026-12-05 07:05 (main's quiet whole run, 4 workers; each file's work fitted by
    // tools/sandbox/suite-model.cjs, its CPU with what only a cgroup sees: bench/README.md section 5), longest
    // first. typecheck and shellcheck where their cold runs (a fresh checkout, a changed .ts or script: 15 to 20 s
    // and 11 s) put them; after `npm run lint`, as in CI, they take a second.
    "test/scripts/backup-faults.test.ts",
    "test/scripts/restore-faults.test.ts",
    "test/scripts/db-backup.test.ts",
    "test/scripts/operator-trial.test.ts",
    "test/drill/drill.test.ts",
    "test/scripts/backup-schemas.test.ts",
    "test/scripts/public-key.test.ts",
    "test/scripts/wal-archive.test.ts",
    "test/scripts/operator-trial-h37.test.ts",
    // Long in wall time (they wait for frozen servers' limits, a stalled or slow upload's notice), light in CPU:
    // started early. upload-stall (h35, 0.7 CPU-s in 19.7 s) ran last by name and alone for its last 16 s.
    "test/scripts/hangs.test.ts",
    // h39-term (not measured in a whole run): about 40 s alone at load 7, mostly waits (the AWS CLI's starts, its
    // 30 s bounds when a run does not end).
    "test/scripts/term-alone.test.ts",
    "test/scripts/upload-stall.test.ts",
    "test/scripts/lib-watch.test.ts",
    "test/programs.test.ts",
    "test/validate/validate-service.test.ts",
    "test/typecheck.test.ts",
    "test/scripts/backup-fail-fast.test.ts",
    "test/scripts/verification-record.test.ts",
    "test/scripts/shellcheck.test.ts",
    "test/policy/publishable.test.ts",
    "test/recovery-points.test.ts",
    "test/scripts/delete-markers.test.ts",
    "test/scripts/exports.test.ts",
    "test/scripts/aws-credentials.test.ts",
    "test/foundation-cli.test.ts",
    "test/sdk-versions.test.ts",
    "test/scripts/wait-progress.test.ts",
    "test/scripts/credentials-expiry.test.ts",
    "test/drill/drill-status.test.ts",
    "test/scripts/manifest-fields.test.ts",
    "test/scripts/sandbox.test.ts",
    "packages/offline-plan/test/planning-process.test.ts",
    "packages/offline-plan/test/plan-runner.test.ts",
    "packages/offline-plan/test/packed.test.ts",
    "packages/offline-plan/test/register.test.ts",
    "test/layers.test.ts",
    "packages/offline-plan/test/lazy-closure-modules.test.ts",
    "test/report.test.ts",
    "packages/offline-plan/test/compiled-modules.test.ts",
    "test/program-waits.test.ts",
    "test/scripts/object-lock.test.ts",
    "test/drill/compromise.test.ts",
    "test/backup-jobs.test.ts",
    "test/policy/immutability.test.ts",
    "test/policy/check.test.ts",
    "test/vault-accounts.test.ts",
    "test/lint.test.ts",
    "test/restore.test.ts",
    "packages/offline-plan/test/plan-exit-hooks.test.ts",
    "test/vault.test.ts",
    "packages/offline-plan/test/structure.test.ts",
    "test/policy/mutations.test.ts",
    "test/process-state.test.ts",
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

// The scripts' AWS helper forked from one process per worker that has botocore imported (tools/sandbox/helper-forks.py,
// through tools/sandbox/scripts.ts baseEnv; scripts/README.md): about 0.08 s of CPU less per script run, some 350
// helper starts in the script files. TEST_ONLY_AWS_HELPER_FORKS=0 starts each helper as a python3 of its own, as
// production does; the runs a test holds a handle of (startScript: signals, kills) always do.
process.env.TEST_ONLY_AWS_HELPER_FORKS = process.env.TEST_ONLY_AWS_HELPER_FORKS || "1";

// pyenv's shims (python3, aws, moto_server on this image's PATH) are bash scripts that run pyenv to find the
// interpreter at every start: about 0.5 CPU-s and, at load 10, 1.2 s of wall per start, against 0.1 CPU-s for the
// interpreter itself (2026-12-05, `/usr/bin/time python3 -c pass`, the shim against pyenv's version bin). The
// tests start such a program hundreds of times (the scripts' python3, the AWS CLI, moto): the version's own bin is
// put first on PATH once here (the same interpreter the shim would pick), for every worker and script run. Where
// pyenv is absent or answers nothing, PATH is left as it is.
function pyenvVersionBin() {
    const shimmed = (process.env.PATH || "").split(path.delimiter).some((dir) => /[\\/]shims$/.test(dir) && fs.existsSync(path.join(dir, "python3")));
    if (!shimmed) {
        return undefined;
    }
    const answer = require("child_process").spawnSync("pyenv", ["which", "python3"], { encoding: "utf8", timeout: 30_000 });
    const python = answer.status === 0 ? answer.stdout.trim() : "";
    return python && fs.existsSync(python) ? path.dirname(python) : undefined;
}
const versionBin = pyenvVersionBin();
if (versionBin !== undefined) {
    process.env.PATH = `${versionBin}${path.delimiter}${process.env.PATH}`;
}

// The test servers' throwaway PostgreSQL clusters on a tmpfs (tools/sandbox/servers.ts clusterTmp): their file
// creations and removals (CREATE and DROP DATABASE, staging tables, WAL) cost the ext4 /tmp's inode allocator about
// 7% of a script test file's CPU (bench/README.md section 5). Only where /dev/shm is a writable directory with room
// for them: the five workers' clusters and script directories took 1.3 GiB at most together (the whole suite, four
// runs of 2026-12-05, /dev/shm's use sampled every second), and a container's /dev/shm is often 64 MB (a full tmpfs
// would fail the servers' writes: the temp dir is used then).
const SHM_FREE_NEEDED = 4 * 1024 ** 3;
if (process.env.TEST_PG_TMPDIR === undefined) {
    try {
        fs.accessSync("/dev/shm", fs.constants.W_OK);
        const shm = fs.statfsSync("/dev/shm");
        if (shm.bavail * shm.bsize >= SHM_FREE_NEEDED) {
            process.env.TEST_PG_TMPDIR = "/dev/shm";
        }
    } catch {
        // no tmpfs: the clusters stay in the temp dir
    }
}

module.exports = {
    "node-option": [`require=${path.join(__dirname, "packages", "offline-plan", "register.cjs")}`],
    // Each file must leave the worker's environment and working directory as it found them (the next file runs in the same process).
    // plain-output first: process-state takes the environment as the files find it. sweep-at-end: what killed
    // processes left (their clusters, moto logs) is removed when the run ends.
    require: [
        path.join(__dirname, "test", "support", "plain-output.cjs"),
        path.join(__dirname, "test", "support", "process-state.cjs"),
        path.join(__dirname, "test", "support", "pending-runs.cjs"),
        path.join(__dirname, "test", "support", "sweep-at-end.cjs"),
    ],
    extension: ["ts"],
    timeout: 120000,
    reporter: "spec",
    parallel: true,
    jobs: 5,
    spec: named ? [] : [...LONGEST_FIRST.filter((file) => all.includes(file)), ...all.filter((file) => !LONGEST_FIRST.includes(file))],
};
