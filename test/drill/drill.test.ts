/**
 * `npm run drill`: each scenario end to end on a small database (real PostgreSQL 15 primary and streaming
 * replica, moto, oidc-provider backed by the database, the real scripts), the report's arithmetic, its JSON
 * round trip and the HTML report's "last drill" section; the CLI's argument errors.
 */
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { drillSection } from "../../tools/drill/html-section";
import { parseDrillArgs } from "../../tools/drill/drill";
import { readReports, writeReport, type DrillReport } from "../../tools/drill/report";
import { runDrill } from "../../tools/drill/scenarios";
import { TS_REGISTER } from "../../tools/plan/runner";
import { renderHtml } from "../../tools/report/html";
import { REPO } from "../support/scripts";

function assertCommon(report: DrillReport, steps: string[]): void {
    assert.deepEqual(report.steps.map((s) => s.name), ["set up", ...steps]);
    assert.ok(report.steps.every((s) => s.seconds >= 0 && s.detail.length > 0));
    // RTO runs from the failure to the validation's PASS: at least the steps in between, at most the whole drill.
    const failIndex = report.steps.findIndex((s) => s.name === (report.scenario === "region" ? "fail" : "corrupt"));
    const between = report.steps.slice(failIndex + 1).reduce((n, s) => n + s.seconds, 0);
    const all = (Date.parse(report.finishedAt) - Date.parse(report.startedAt)) / 1000;
    assert.ok(report.rto.seconds >= between - 0.05 && report.rto.seconds <= all, `RTO ${report.rto.seconds} s, steps after the failure ${between} s, drill ${all} s`);
    assert.equal(report.rto.met, report.rto.seconds <= report.rto.targetSeconds);
    assert.deepEqual(report.validation.map((l) => l.split(":")[0]), ["PASS health", "PASS discovery", "PASS token", "PASS key continuity", "PASS database"]);
    assert.ok(report.rpo.acknowledged > 0, "traffic was acknowledged before the failure");
    assert.ok(report.rpo.lostRows <= report.rpo.writtenAfterRecoveryPoint, "only writes after the recovery point may be lost");
    assert.equal(report.rpo.lostBeforeRecoveryPoint, 0);
    assert.ok(report.database.rows.oauth2_authorization >= 200);
}

describe("npm run drill (real PostgreSQL 15 primary and replica, moto, oidc-provider)", function () {
    this.timeout(300_000);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "oauth2-dr-drill-test-"));
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("corruption: back up, keep writing, corrupt, detect, restore the newest dump into a new database, switch, validate", async function () {
        const report = await runDrill("corruption", { rows: 200, writeSeconds: 1 });
        assertCommon(report, ["write", "back up", "keep writing", "corrupt", "detect", "restore", "switch", "validate"]);
        assert.match(report.steps.find((s) => s.name === "detect")!.detail, /FAIL token: .*invalid_client/);
        assert.match(report.steps.find((s) => s.name === "restore")!.detail, /oauth2db_restored/);
        assert.match(report.validation[4], /recorded in oauth2db_restored/);
        // Writes between the dump and the corruption are exactly what a dump-based restore loses.
        assert.ok(report.rpo.writtenAfterRecoveryPoint > 0 && report.rpo.lostRows > 0, JSON.stringify(report.rpo));
        assert.ok(report.rpo.windowSeconds >= 1, "the window spans the writes after the backup");
        assert.equal(report.rto.targetSeconds, 4 * 3600);
        assert.equal(report.rpo.target, "point in time");
        writeReport(report, path.join(dir, "corruption.json"));
    });

    it("region: write, lose the primary, detect, promote the streaming replica, switch, validate", async function () {
        const report = await runDrill("region", { rows: 200, writeSeconds: 1 });
        assertCommon(report, ["write", "fail", "detect", "promote", "switch", "validate"]);
        assert.match(report.steps.find((s) => s.name === "detect")!.detail, /DOWN/);
        assert.equal(report.rto.targetSeconds, 3600);
        assert.ok(report.rpo.windowSeconds <= 3600 && report.rpo.met);
        writeReport(report, path.join(dir, "region.json"));
    });

    it("the reports round-trip as JSON and make the HTML report's last drill section", function () {
        const reports = readReports(dir);
        assert.deepEqual(reports.map((r) => r.scenario).sort(), ["corruption", "region"]);
        const html = renderHtml([], [], { drills: reports });
        assert.match(html, /<section id="drill"><h2>Last drill<\/h2>/);
        for (const r of reports) {
            assert.ok(html.includes(`data-scenario="${r.scenario}"`));
            assert.ok(html.includes(`RTO <b>${r.rto.seconds.toFixed(2)} s</b>`), r.scenario);
        }
        assert.equal(drillSection([]), "");
        assert.doesNotMatch(renderHtml([], []), /Last drill/);
        assert.deepEqual(readReports(path.join(dir, "none")), []);
    });

    it("bad arguments: one line naming the argument, exit 2, before anything starts", function () {
        assert.throws(() => parseDrillArgs([]), /--scenario is required/);
        assert.throws(() => parseDrillArgs(["--scenario", "flood"]), /--scenario must be corruption or region, not "flood"/);
        assert.throws(() => parseDrillArgs(["--scenario", "region", "--rows", "-5"]), /--rows must be a number/);
        assert.throws(() => parseDrillArgs(["--scenario", "region", "--verbose"]), /unknown argument "--verbose"/);
        assert.deepEqual(parseDrillArgs(["--scenario", "region", "--rows", "100", "--write-seconds", "0.5"]), { scenario: "region", rows: 100, writeSeconds: 0.5 });
        const cli = spawnSync(process.execPath, ["--require", TS_REGISTER, path.join(REPO, "tools", "drill", "drill.ts"), "--scenario", "flood"], { encoding: "utf8" });
        assert.equal(cli.status, 2, cli.stderr);
        assert.match(cli.stderr, /--scenario must be corruption or region/);
    });

    it("the OpenID provider runs on this Node without a warning (no \"Unsupported runtime\")", function () {
        // oidc-provider warns once, when it is loaded: in a fresh process, which starts a server and reads discovery.
        const probe = `const { OidcServer, rsaSigningKey } = require(${JSON.stringify(path.join(REPO, "tools", "drill", "oidc-server.ts"))});
            OidcServer.start({ keys: [rsaSigningKey("probe")], databaseUrl: "postgres://postgres@127.0.0.1:1/none" }).then(async (server) => {
                const discovery = await (await fetch(server.url + "/.well-known/openid-configuration")).json();
                console.log("issuer " + (discovery.issuer === server.issuer));
                await server.stop();
            });`;
        const child = spawnSync(process.execPath, ["--require", TS_REGISTER, "-e", probe], { encoding: "utf8", timeout: 60_000 });
        assert.equal(child.status, 0, child.stderr);
        assert.equal(child.stdout, "issuer true\n");
        assert.doesNotMatch(child.stderr, /Unsupported runtime|oidc-provider (WARNING|NOTICE)/);
        assert.equal(child.stderr, "");
    });
});
