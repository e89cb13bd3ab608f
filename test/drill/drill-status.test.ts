/**
 * `npm run drill`'s statuses from what was measured: a run that fails is recorded (`<report>.failed.json`), and
 * the HTML report's "last drill" section then says that the newest run FAILED instead of showing the previous
 * run's "met" as the last drill; a completed run clears the record. And `--help` is the usage, exit 0.
 * No drill runs here: the failing run is the real CLI with PG_BIN pointing nowhere (its set-up fails at once).
 */
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { drillSection } from "../../tools/drill/html-section";
import { failureFileOf, formatReport, OBJECTIVES, readReports, writeReport, type DrillReport } from "../../tools/drill/report";
import { measureRpo } from "../../tools/drill/scenarios";
import { REPO } from "../../tools/sandbox/scripts";

/** A completed corruption-dump report, as an earlier successful run wrote it (both verdicts met). */
function completedReport(finishedAt: string): DrillReport {
    return {
        scenario: "corruption-dump",
        startedAt: finishedAt,
        finishedAt,
        objective: OBJECTIVES["corruption-dump"],
        database: { rows: { oauth2_authorization: 500 } },
        steps: [{ name: "set up", seconds: 1, detail: "servers" }],
        rto: { seconds: 5, targetSeconds: 4 * 3600, met: true },
        rpo: {
            failureAt: finishedAt, failureEvidence: "test", acknowledged: 10, lostRows: 0, windowSeconds: 0,
            afterFailure: { acknowledged: 0, notRecovered: 0 }, target: "point in time", targetSeconds: 0, met: true, note: "test",
        },
        validation: ["PASS health: UP"],
    };
}

function drillCli(args: string[], env: NodeJS.ProcessEnv = {}) {
    return spawnSync(process.execPath, ["--require", require.resolve("offline-plan/register.cjs"), path.join(REPO, "tools/drill/drill.ts"), ...args], {
        env: { ...process.env, ...env }, encoding: "utf8", timeout: 120_000,
    });
}

describe("npm run drill: the last drill's status is the newest run's", function () {
    this.timeout(150_000);
    let dir: string;

    before(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "oauth2-dr-drill-status-"));
    });

    after(() => {
        fs.rmSync(dir, { recursive: true, force: true });
    });

    it("a run that fails after an earlier one completed: recorded, and the section says the newest run FAILED above the old verdicts", function () {
        const out = path.join(dir, "corruption-dump.json");
        writeReport(completedReport("2026-12-01T00:00:00Z"), out);
        const result = drillCli(["--scenario", "corruption-dump", "--rows", "10", "--out", out], { PG_BIN: path.join(dir, "no-postgres-here") });
        assert.equal(result.status, 1, result.stderr);
        assert.match(result.stderr, /drill corruption-dump failed: /);
        const failure = JSON.parse(fs.readFileSync(failureFileOf(out), "utf8"));
        assert.equal(failure.scenario, "corruption-dump");
        assert.ok(failure.error.length > 0);
        const [report] = readReports(dir);
        assert.equal(report.newerFailure?.failedAt, failure.failedAt);
        const html = drillSection([report]);
        assert.match(html, /<span class="badge badge-missing">newest run FAILED<\/span> \d{4}-\d\d-\d\dT[\d:.]+Z: .+\. Below: the last run that completed \(2026-12-01T00:00:00Z\); its verdicts are not the newest run's\./);
        // A completed run clears it: its own verdicts are the newest again.
        writeReport(completedReport(new Date(Date.now() + 1000).toISOString()), out);
        assert.equal(fs.existsSync(failureFileOf(out)), false);
        assert.equal(readReports(dir)[0].newerFailure, undefined);
        assert.doesNotMatch(drillSection(readReports(dir)), /newest run FAILED/);
    });

    it("h36 trial: no write acknowledged before the failure measures nothing: the RPO is NOT MEASURED, not '0 of 0 lost: met' (exit 1)", function () {
        // The traffic's server refused every request, or the run was too short to write: no ack at all.
        const rpo = measureRpo("corruption-pitr", [], new Set(), { failedAt: Date.parse("2026-12-01T00:00:10Z"), failureEvidence: "test", recoveryPointAt: Date.parse("2026-12-01T00:00:10Z") }, "test");
        assert.equal(rpo.met, false, "0 of 0 writes lost is no measurement");
        assert.equal(rpo.shortfall, undefined, "nor a shortfall: nothing was lost either");
        const report: DrillReport = { ...completedReport("2026-12-01T00:01:00Z"), scenario: "corruption-pitr", objective: OBJECTIVES["corruption-pitr"], rpo };
        assert.match(formatReport(report), /^RPO 0 of 0 writes acknowledged before the failure lost; window 0\.00 s \(target point in time\): NOT MEASURED \(no write was acknowledged before the failure, so none could be lost: the traffic measured nothing\)$/m);
        // An older report on disk that stored met: true for 0 of 0 is shown by what it measured, not by its word.
        const html = drillSection([{ ...report, rpo: { ...rpo, met: true } }]);
        assert.match(html, /RPO <b>0 of 0<\/b> writes acknowledged before the failure lost, window 0\.00 s \(target point in time\) <span class="badge badge-missing" title="no write was acknowledged[^"]*">not measured<\/span>/);
    });

    it("h36 trial: the HTML's Last drill judges a stored report by its figures: 'met' beside 5 lost writes is shown not met; a report without RTO seconds is not measured, not a crash", function () {
        const dir2 = fs.mkdtempSync(path.join(dir, "partial-"));
        const lost = completedReport("2026-12-02T00:00:00Z");
        // Hand-edited or written by an older drill: its stored verdicts contradict its own figures.
        lost.rpo = { ...lost.rpo, lostRows: 5, windowSeconds: 12 };
        writeReport(lost, path.join(dir2, "corruption-dump.json"));
        const partial = { ...completedReport("2026-12-02T00:00:00Z"), scenario: "region", objective: OBJECTIVES.region, rto: { targetSeconds: 3600, met: true } };
        fs.writeFileSync(path.join(dir2, "region.json"), JSON.stringify(partial));
        const reports = readReports(dir2);
        assert.deepEqual(reports.map((r) => r.scenario).sort(), ["corruption-dump", "region"]);
        const html = drillSection(reports);
        const article = (scenario: string) => html.slice(html.indexOf(`data-scenario="${scenario}"`)).split("</article>")[0];
        assert.match(article("corruption-dump"), /RPO <b>5 of 10<\/b> writes acknowledged before the failure lost, window 12\.00 s \(target point in time\) <span class="badge badge-missing">not met<\/span>/);
        assert.match(article("region"), /RTO <b>\? s<\/b> \(target 1 h\) <span class="badge badge-missing" title="the report has no RTO seconds or target">not measured<\/span>/);
        assert.doesNotMatch(article("region"), /RTO <b>[^<]*<\/b> \(target 1 h\) <span class="badge badge-met">/);
    });

    it("--help prints the usage, exit 0 (it was 'unknown argument', exit 2)", function () {
        const result = drillCli(["--help"]);
        assert.equal(result.status, 0, result.stderr);
        assert.match(result.stdout, /^usage: npm run drill -- --scenario corruption-pitr\|corruption-dump\|region\|compromise/);
    });
});
