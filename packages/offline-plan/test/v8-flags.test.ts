/**
 * src/v8-flags.cjs: the planning processes (the plan CLI and the planning child) tier their code by the planner's
 * V8 interrupt budget, which leaves a function TurboFan would optimize under V8's default unoptimized (the
 * compiles cost a short plan more CPU than they gave back: bench/README.md section 1, h31-plan). A budget the
 * user gives on node's command line is kept.
 */
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as path from "path";
import { planInOrder } from "../src/order";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { PLANNER_V8_FLAGS, plannerV8FlagsBeside } = require("../src/v8-flags.cjs") as { PLANNER_V8_FLAGS: string[]; plannerV8FlagsBeside(given: string[]): string[] };

const PROGRAM = path.join(__dirname, "fixtures", "tiering-program");
const PLAN_CLI = path.resolve(__dirname, "..", "bin", "offline-plan.cjs");
/** V8's own default budget in Node 20 (V8 11.3), given explicitly: the control. */
const DEFAULT_BUDGET = "--interrupt-budget=67584";

/** The fixture's outputs as the plan CLI plans it, under `nodeFlags`; natives syntax on, optimization synchronous. */
function planOutputs(nodeFlags: string[]): Record<string, unknown> {
    const run = spawnSync(process.execPath, ["--allow-natives-syntax", "--no-concurrent-recompilation", ...nodeFlags, PLAN_CLI, "--program", PROGRAM, "--stack", "solo", "--json"], { encoding: "utf8" });
    assert.equal(run.status, 0, run.stderr);
    return (JSON.parse(run.stdout) as { outputs: Record<string, unknown> }).outputs;
}

describe("V8 tiering in the planning processes (src/v8-flags.cjs)", function () {
    this.timeout(60_000);

    it("the plan CLI leaves a function unoptimized that V8's default budget optimizes", () => {
        // The control: with V8's default budget given on the command line (kept, not replaced), it is optimized.
        assert.equal(planOutputs([DEFAULT_BUDGET]).optimized, true);
        assert.equal(planOutputs([]).optimized, false);
    });

    it("the planning child is started with the planner's flags", async () => {
        const [result] = await planInOrder(PROGRAM, ["solo"]);
        const execArgv = result.outputs.execArgv as string[];
        for (const flag of PLANNER_V8_FLAGS) {
            assert.ok(execArgv.includes(flag), `${flag} in ${execArgv.join(" ")}`);
        }
    });

    it("a flag already given keeps its value; the others are added", () => {
        assert.deepEqual(plannerV8FlagsBeside([]), PLANNER_V8_FLAGS);
        assert.deepEqual(plannerV8FlagsBeside(["--interrupt-budget=5000"]), []);
        assert.deepEqual(plannerV8FlagsBeside(["--interrupt-budget", "5000"]), []);
        assert.deepEqual(plannerV8FlagsBeside(["--interrupt-budget-for-feedback-allocation=9"]), PLANNER_V8_FLAGS);
    });
});
