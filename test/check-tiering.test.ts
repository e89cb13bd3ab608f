/**
 * The check CLI tiers its own code as the planner's processes do (offline-plan's src/v8-flags.cjs, set by
 * tools/check/start-planning-early.ts when check.ts is the main module): a function V8's default budget would
 * optimize is left unoptimized. A budget given on node's command line is kept (the control).
 */
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as path from "path";

const REPO = path.resolve(__dirname, "..");
const PROBE = path.join(__dirname, "fixtures", "tiering-probe.cjs");

/** What the probe saw at the exit of `check.ts --help` run under `nodeFlags`. */
function probedCheck(nodeFlags: string[]): string {
    const run = spawnSync(
        process.execPath,
        ["--allow-natives-syntax", "--no-concurrent-recompilation", ...nodeFlags, "--require", "offline-plan/register.cjs", "--require", PROBE, "tools/check/check.ts", "--help"],
        { cwd: REPO, encoding: "utf8" },
    );
    assert.equal(run.status, 0, run.stderr);
    const line = /tiering-probe optimized=(true|false)/.exec(run.stdout);
    assert.ok(line, run.stdout);
    return line[1];
}

describe("V8 tiering in the check CLI (tools/check/start-planning-early.ts)", function () {
    this.timeout(60_000);

    it("leaves a function unoptimized that V8's default budget optimizes", () => {
        assert.equal(probedCheck(["--interrupt-budget=67584"]), "true");
        assert.equal(probedCheck([]), "false");
    });
});
