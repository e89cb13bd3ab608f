/**
 * h39's trial of `npm run drill` as a new operator: what an interrupted drill leaves, and odd arguments.
 *
 * An interrupted drill (Ctrl-C: SIGINT, or SIGTERM) says which step was under way, exits 130 or 143, and leaves
 * nothing running or on disk: the real CLI runs with TMPDIR and TEST_PG_TMPDIR in a directory of this test's, and
 * after the signal no process names that directory (in its command line or environment: PostgreSQL, moto, the
 * scripts and their AWS helpers all do) and the directory holds nothing but the TypeScript loader's cache.
 * Before tools/drill/drill.ts exitOnSignal, Node died on the signal without its exit hooks: the primary and the
 * replica kept running and the work, replica and cluster directories stayed.
 */
import { strict as assert } from "assert";
import { type ChildProcess, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { checkReportFile, parseDrillArgs } from "../../tools/drill/drill";
import { drillSection } from "../../tools/drill/html-section";
import { compromiseLines, OBJECTIVES, type CompromiseFindings, type DrillReport } from "../../tools/drill/report";
import { detection } from "../../tools/drill/scenarios";
import { REPO } from "../../tools/sandbox/scripts";
import { drillScratch, processesNaming, stopClustersAndRemove } from "../support/processes";

/** What is left in `dir` but the loader's compile cache (packages/offline-plan: offline-plan-ts-<uid>). */
const leftIn = (dir: string) => fs.readdirSync(dir).filter((name) => !name.startsWith("offline-plan-ts-"));

/**
 * The real CLI in `tmp`, signalled with `signal` once its stderr says `step` started; its exit and stderr. `viaNpm`:
 * started as an operator does, `npm run drill -- ...`, and the signal sent to npm (which forwards it to its script's
 * shell: without `exec` in package.json's script, the shell died and the drill ran on as an orphan).
 */
function interruptDrill(tmp: string, args: string[], step: string, signal: NodeJS.Signals, viaNpm = false): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string; atStep: boolean }> {
    const [command, argv] = viaNpm
        ? ["npm", ["run", "--silent", "drill", "--", ...args]]
        : [process.execPath, ["--require", require.resolve("offline-plan/register.cjs"), path.join(REPO, "tools/drill/drill.ts"), ...args]];
    const child: ChildProcess = spawn(command, argv, {
        cwd: REPO,
        env: { ...process.env, TMPDIR: tmp, TEST_PG_TMPDIR: tmp },
        stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    let atStep = false;
    child.stderr!.on("data", (d) => {
        stderr += d;
        if (!atStep && stderr.includes(`drill: ${step}...`)) {
            atStep = true;
            child.kill(signal);
        }
    });
    return new Promise((resolve) => child.on("close", (code, sig) => resolve({ code, signal: sig, stderr, atStep })));
}

describe("npm run drill, interrupted (h39 trial)", function () {
    this.timeout(120_000);
    let tmp: string;

    beforeEach(() => {
        tmp = drillScratch("oauth2-dr-h39-drill-");
    });

    // What a failing run left: its PostgreSQL servers stopped, then the directory removed.
    afterEach(() => stopClustersAndRemove(tmp));

    it("SIGTERM while the region drill writes: exit 143, the step named, its primary and replica stopped, nothing left in its temp dir", async function () {
        const result = await interruptDrill(tmp, ["--scenario", "region", "--rows", "50", "--write-seconds", "60", "--out", path.join(tmp, "region.json")], "write", "SIGTERM");
        assert.ok(result.atStep, result.stderr);
        assert.equal(result.code, 143, result.stderr);
        assert.match(result.stderr, /drill region interrupted by SIGTERM during the step "write": stopping its scripts, servers and directories; no report written \(exit 143\)/);
        assert.deepEqual(processesNaming(tmp), []);
        assert.deepEqual(leftIn(tmp), []);
    });

    it("SIGTERM to `npm run drill` (a CI job's timeout): the drill gets it, says so, and leaves nothing (was: npm exited 143, the drill ran on and wrote its report)", async function () {
        const result = await interruptDrill(tmp, ["--scenario", "region", "--rows", "50", "--write-seconds", "60", "--out", path.join(tmp, "region.json")], "write", "SIGTERM", true);
        assert.ok(result.atStep, result.stderr);
        assert.ok(result.code === 143 || result.signal === "SIGTERM", `${result.code} ${result.signal}: ${result.stderr}`);
        assert.match(result.stderr, /drill region interrupted by SIGTERM during the step "write"/);
        assert.deepEqual(processesNaming(tmp), []);
        assert.deepEqual(leftIn(tmp), []);
    });

    it("Ctrl-C (SIGINT) while db-backup.sh runs in the corruption-dump drill: exit 130, the script ended too, nothing left, no failure recorded", async function () {
        const result = await interruptDrill(tmp, ["--scenario", "corruption-dump", "--rows", "50", "--write-seconds", "0.5", "--out", path.join(tmp, "dump.json")], "back up", "SIGINT");
        assert.ok(result.atStep, result.stderr);
        assert.equal(result.code, 130, result.stderr);
        assert.match(result.stderr, /drill corruption-dump interrupted by SIGINT during the step "back up"/);
        assert.doesNotMatch(result.stderr, /drill corruption-dump failed/);
        assert.deepEqual(processesNaming(tmp), []);
        assert.deepEqual(leftIn(tmp), []);
    });
});

describe("npm run drill in a temp dir with a space (h39 trial)", function () {
    this.timeout(120_000);

    it("TMPDIR=\"/tmp/…/with space\": the region drill completes (was: postgres: invalid argument, its socket directory split by pg_ctl's shell)", function () {
        const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "oauth2-dr-h39 space-"));
        fs.chmodSync(tmp, 0o1777);
        try {
            const out = path.join(tmp, "region.json");
            const cli = spawnSync(process.execPath, ["--require", require.resolve("offline-plan/register.cjs"), path.join(REPO, "tools/drill/drill.ts"), "--scenario", "region", "--rows", "50", "--write-seconds", "0.5", "--out", out], {
                env: { ...process.env, TMPDIR: tmp, TEST_PG_TMPDIR: tmp }, encoding: "utf8", timeout: 110_000,
            });
            assert.doesNotMatch(cli.stderr, /invalid argument|drill region failed/, cli.stderr);
            assert.match(cli.stdout, /^RTO .*: (met|NOT MET)$/m, cli.stderr);
            assert.ok(cli.stdout.includes(`wrote ${out}`), cli.stdout);
        } finally {
            fs.rmSync(tmp, { recursive: true, force: true });
        }
    });
});

describe("npm run drill's arguments (h39 trial)", function () {
    it("a flag given twice is refused, naming both values, not the last one taken", function () {
        assert.throws(() => parseDrillArgs(["--scenario", "region", "--scenario", "compromise"]), /--scenario given twice \("region", then "compromise"\)/);
        assert.throws(() => parseDrillArgs(["--scenario", "region", "--out", "a.json", "--out", "b.json"]), /--out given twice/);
    });

    it("--rows is a whole number of at least 1: 0.4 was rounded to 0 rows", function () {
        assert.throws(() => parseDrillArgs(["--scenario", "region", "--rows", "0.4"]), /--rows must be a whole number in \[1, 10000000\], not "0.4"/);
        assert.throws(() => parseDrillArgs(["--scenario", "region", "--rows", "2.5"]), /--rows must be a whole number/);
        assert.equal(parseDrillArgs(["--scenario", "region", "--rows", "1e3"]).rows, 1000);
    });

    it("a report file that cannot be written is refused before anything starts (exit 2), not after the drill's minutes", function () {
        this.timeout(60_000);
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "oauth2-dr-h39-out-"));
        try {
            assert.throws(() => checkReportFile("/proc/h39-drill.json"), /--out \/proc\/h39-drill.json: the report cannot be written in \/proc \(/);
            assert.throws(() => checkReportFile(dir), /a directory, not a file/);
            assert.doesNotThrow(() => checkReportFile(path.join(dir, "new", "r.json")));
            assert.deepEqual(fs.readdirSync(path.join(dir, "new")), []);
            // The CLI: PG_BIN nowhere, so a drill that started anyway would fail with exit 1, not 2.
            const cli = spawnSync(process.execPath, ["--require", require.resolve("offline-plan/register.cjs"), path.join(REPO, "tools/drill/drill.ts"), "--scenario", "region", "--out", "/etc/passwd/region.json"], {
                env: { ...process.env, PG_BIN: path.join(dir, "no-postgres-here") }, encoding: "utf8", timeout: 50_000,
            });
            assert.equal(cli.status, 2, cli.stderr);
            assert.match(cli.stderr, /^--out \/etc\/passwd\/region.json: the report cannot be written in \/etc\/passwd \(EEXIST/);
            assert.doesNotMatch(cli.stderr, /set up/);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});

describe("the drills' detection step (h39 trial)", function () {
    it("a validation that failed without a FAIL line detected nothing: the step fails instead of claiming the detection", function () {
        // validate-service.sh unable to run its checks: exit 2, an ERROR on stderr, no PASS or FAIL line.
        const broken = { code: 2, signal: null, stdout: "", stderr: "validate-service: ERROR: AWS helper did not start\n" };
        assert.throws(() => detection("the corruption", broken), /validate-service.sh did not detect the corruption \(exit 2, no FAIL line\):\nvalidate-service: ERROR: AWS helper did not start/);
        const passed = { code: 0, signal: null, stdout: "PASS health: UP\n", stderr: "" };
        assert.throws(() => detection("the dropped database", passed), /did not detect the dropped database \(exit 0, no FAIL line\)/);
        const detected = { code: 1, signal: null, stdout: "PASS health: UP\nFAIL token: client oauth2-dr-smoke-test got HTTP 401\n", stderr: "" };
        assert.deepEqual(detection("the corruption", detected), ["FAIL token: client oauth2-dr-smoke-test got HTTP 401"]);
    });
});

describe("the compromise drill's vault verdict, from its figures (h39 trial)", function () {
    /** Findings as stored, the vault bucket's copy `after` of 4 versions left, `vaultIntact` as given. */
    const findings = (vaultIntact: boolean, after: number): CompromiseFindings => ({
        attempts: [],
        copies: [
            { name: "s3://oauth2-backups-drill", account: "production", before: 4, after: 0, shortened: 4, detail: "destroyed" },
            { name: "s3://oauth2-backups-vault-drill", account: "vault", before: 4, after, shortened: 0, detail: "vault" },
            { name: "secret oauth2-dr/backup-private-keys", account: "vault", before: 1, after: 1, shortened: 0, detail: "key" },
        ],
        destroyed: [], survived: [], vaultIntact, replicationAfterAttack: "cut", declaredGuards: [], limits: [],
    });
    const report = (c: CompromiseFindings): DrillReport => ({
        scenario: "compromise", startedAt: "2026-12-06T00:00:00Z", finishedAt: "2026-12-06T00:01:00Z", objective: OBJECTIVES.compromise,
        database: { rows: {} }, steps: [], rto: { seconds: 20, targetSeconds: 4 * 3600, met: true },
        rpo: { failureAt: "x", failureEvidence: "x", acknowledged: 10, lostRows: 5, windowSeconds: 10, afterFailure: { acknowledged: 0, notRecovered: 0 }, target: "24 h", targetSeconds: 86400, met: true, note: "x" },
        validation: [], compromise: c,
    });

    it("a stored 'intact' beside a vault copy with 0 of its 4 versions left is NO, in the text and the HTML (was: yes)", function () {
        const c = findings(true, 0);
        assert.ok(compromiseLines(c).includes("vault copy intact: NO"), compromiseLines(c).join("\n"));
        assert.match(drillSection([report(c)]), /Vault copy intact: <span class="badge badge-missing">NO<\/span>/);
    });

    it("the vault copy whole and 'intact' measured: yes; 'intact' without the vault copy's figures: not measured", function () {
        assert.ok(compromiseLines(findings(true, 4)).includes("vault copy intact: yes"));
        assert.match(drillSection([report(findings(true, 4))]), /Vault copy intact: <span class="badge badge-met">yes<\/span>/);
        const partial = { ...findings(true, 4), copies: [] };
        assert.ok(compromiseLines(partial).some((l) => /^vault copy intact: NOT MEASURED \(the report has no vault copy figures\)$/.test(l)));
        assert.match(drillSection([report(partial)]), /Vault copy intact: <span class="badge badge-missing" title="the report has no vault copy figures">not measured<\/span>/);
    });
});
