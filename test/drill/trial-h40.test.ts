/**
 * h40's trial of `npm run drill` as an on-call operator:
 *   - two drills of one scenario at once (the same default report, .drill/<scenario>.json): each wrote it at its end,
 *     the later replacing the other's; the second is now refused at its start (exit 2) naming the first's pid;
 *   - SIGHUP (the terminal or the ssh session closed): Node died on it without its exit hooks, the drill's primary
 *     and replica left running; now as SIGTERM, exit 129;
 *   - a set-up failure (initdb cannot run): the drill failed and left its o2-<pid>-pg-XXXXXX in TEST_PG_TMPDIR;
 *   - a write whose request went out before the failure and whose answer arrived after it (the region drill's
 *     primary committed it, then pg_ctl stopped it; the answer was read once the stop returned), lost: counted
 *     "after the failure", not against the RPO.
 * The CLI runs with TMPDIR and TEST_PG_TMPDIR in a directory of this test's (as trial-h39's).
 */
import { strict as assert } from "assert";
import { type ChildProcess, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { claimReportFile } from "../../tools/drill/drill";
import { measureRpo } from "../../tools/drill/scenarios";
import { REPO } from "../../tools/sandbox/scripts";
import { drillScratch, processesNaming, stopClustersAndRemove } from "../support/processes";

const leftIn = (dir: string) => fs.readdirSync(dir).filter((name) => !name.startsWith("offline-plan-ts-"));
const DRILL = ["--require", require.resolve("offline-plan/register.cjs"), path.join(REPO, "tools/drill/drill.ts")];

/** The real CLI in `tmp` (its TMPDIR and TEST_PG_TMPDIR); `env` added. */
function startDrill(tmp: string, args: string[], env: Record<string, string> = {}): { child: ChildProcess; stderr: () => string; closed: Promise<{ code: number | null; signal: NodeJS.Signals | null }> } {
    const child = spawn(process.execPath, [...DRILL, ...args], { cwd: REPO, env: { ...process.env, TMPDIR: tmp, TEST_PG_TMPDIR: tmp, ...env }, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr!.on("data", (d) => (stderr += d));
    return { child, stderr: () => stderr, closed: new Promise((resolve) => child.on("close", (code, signal) => resolve({ code, signal }))) };
}

/** Resolves once `read()` holds `text`, checking as the child's stderr grows; throws if the child ends first. */
async function untilSaid(run: ReturnType<typeof startDrill>, text: string): Promise<void> {
    let ended = false;
    void run.closed.then(() => (ended = true));
    while (!run.stderr().includes(text)) {
        if (ended) {
            throw new Error(`the drill ended before saying "${text}":\n${run.stderr()}`);
        }
        await new Promise((r) => setTimeout(r, 50));
    }
}

describe("npm run drill (h40 trial)", function () {
    this.timeout(150_000);
    let tmp: string;

    beforeEach(() => {
        tmp = drillScratch("oauth2-dr-h40-drill-");
    });

    // What a failing run left: its PostgreSQL servers stopped, then the directory removed.
    afterEach(() => stopClustersAndRemove(tmp));

    it("a second drill with the same report is refused (exit 2, naming the first's pid); SIGHUP ends the first as SIGTERM does: exit 129, nothing left running or on disk", async () => {
        const reports = fs.mkdtempSync(path.join(os.tmpdir(), "oauth2-dr-h40-reports-"));
        try {
            const out = path.join(reports, "region.json");
            const first = startDrill(tmp, ["--scenario", "region", "--rows", "50", "--write-seconds", "60", "--out", out]);
            await untilSaid(first, "drill: write...");
            const second = spawnSync(process.execPath, [...DRILL, "--scenario", "region", "--rows", "50", "--write-seconds", "0.5", "--out", out], {
                cwd: REPO, env: { ...process.env, TMPDIR: tmp, TEST_PG_TMPDIR: tmp }, encoding: "utf8", timeout: 60_000,
            });
            assert.equal(second.status, 2, second.stderr);
            assert.equal(second.stderr.trim(), `--out ${out}: another drill (pid ${first.child.pid}) is writing it: wait for it to end, or give this one another --out`);
            first.child.kill("SIGHUP");
            const ended = await first.closed;
            assert.equal(ended.code, 129, `${ended.code} ${ended.signal}: ${first.stderr()}`);
            assert.match(first.stderr(), /drill region interrupted by SIGHUP during the step "write": stopping its scripts, servers and directories; no report written \(exit 129\)/);
            assert.deepEqual(processesNaming(tmp), []);
            assert.deepEqual(leftIn(tmp), []);
            // No report, no failure record, and the claim is gone with its drill.
            assert.deepEqual(fs.readdirSync(reports), []);
        } finally {
            fs.rmSync(reports, { recursive: true, force: true });
        }
    });

    it("a report claimed by a drill that is gone (killed with SIGKILL) is taken over; one held by a live process is not", () => {
        const file = path.join(tmp, "corruption-dump.json");
        const gone = spawnSync("true").pid!;
        fs.writeFileSync(`${file}.lock`, `${gone}\n`);
        claimReportFile(file);
        assert.equal(fs.readFileSync(`${file}.lock`, "utf8"), `${process.pid}\n`);
        const other = path.join(tmp, "region.json");
        fs.writeFileSync(`${other}.lock`, `${process.ppid}\n`);
        assert.throws(() => claimReportFile(other), new RegExp(`another drill \\(pid ${process.ppid}\\) is writing it`));
    });

    it("a set-up failure (initdb cannot run) leaves no o2-<pid>-pg directory, exit 1 naming it", async () => {
        const reports = fs.mkdtempSync(path.join(os.tmpdir(), "oauth2-dr-h40-reports-"));
        try {
            const run = startDrill(tmp, ["--scenario", "region", "--rows", "50", "--write-seconds", "0.5", "--out", path.join(reports, "region.json")], { PG_BIN: path.join(tmp, "no-such-bin") });
            const ended = await run.closed;
            assert.equal(ended.code, 1, run.stderr());
            assert.match(run.stderr(), /drill region failed: initdb .* failed/);
            assert.deepEqual(processesNaming(tmp), []);
            assert.deepEqual(leftIn(tmp), []);
        } finally {
            fs.rmSync(reports, { recursive: true, force: true });
        }
    });

    it("a lost write whose request went out before the failure and whose answer came after it counts against the RPO (was: 'after the failure')", () => {
        const failedAt = Date.parse("2026-12-06T03:00:10Z");
        const acks = [
            { md5: "kept", at: failedAt - 2000, sentAt: failedAt - 2010, client: "c" },
            // Committed by the primary as it was stopped; its answer read once the stop returned.
            { md5: "in-flight", at: failedAt + 300, sentAt: failedAt - 5, client: "c" },
            // Sent after the failure and acknowledged by the promoted replica: after it.
            { md5: "after", at: failedAt + 9000, sentAt: failedAt + 8990, client: "c" },
        ];
        const rpo = measureRpo("region", acks, new Set(["kept", "after"]), { failedAt, failureEvidence: "test" }, "test");
        assert.equal(rpo.acknowledged, 2);
        assert.equal(rpo.lostRows, 1);
        assert.deepEqual(rpo.lost?.md5, ["in-flight"]);
        assert.deepEqual(rpo.afterFailure, { acknowledged: 1, notRecovered: 0 });
        assert.ok(rpo.windowSeconds > 0 && rpo.windowSeconds < 3, String(rpo.windowSeconds));
    });
});
