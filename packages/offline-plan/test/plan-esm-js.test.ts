/**
 * A JavaScript ES-module program (src/esm-program.ts): imported as the language host imports it, so that a
 * top-level await runs, and evaluated afresh for each stack planned in one process (its own modules too). Before,
 * require(esm) refused the top-level await with Node's message, and without one the second stack ran nothing:
 * 0 resources and the first stack's outputs, exit 0.
 */
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as path from "path";
import { PlanResult } from "../src/model";
import { PlanningServer } from "../src/server";

const PROGRAM = path.join(__dirname, "fixtures", "esm-js-program");

describe("offline-plan: an ES-module JavaScript program (src/esm-program.ts)", function () {
    this.timeout(120_000);
    let server: PlanningServer;
    let plans: PlanResult[];
    before(async () => {
        server = new PlanningServer();
        plans = await server.plan({ programDir: PROGRAM, stacks: ["dev", "prod"], inDependencyOrder: true, preview: false });
    });
    after(() => server?.close());

    it("each stack runs the program and its own modules afresh, top-level await included", () => {
        assert.deepEqual(
            plans.map((p) => [p.stack, p.resources.filter((r) => r.custom).map((r) => `${r.type} ${r.name}`).sort()]),
            [
                ["dev", ["aws:sns/topic:Topic alerts", "aws:sqs/queue:Queue side-dev", "aws:ssm/parameter:Parameter inventory-dev"]],
                ["prod", ["aws:sns/topic:Topic alerts", "aws:sqs/queue:Queue side-prod", "aws:ssm/parameter:Parameter inventory-prod"]],
            ],
        );
        assert.deepEqual(plans.map((p) => p.resources.find((r) => r.name === "alerts")?.inputs.tags), [{ env: "dev" }, { env: "prod" }]);
        assert.match(String(plans[1].outputs.topicArn), /^arn:aws:sns:us-east-1:/);
        assert.equal(typeof plans[0].outputs.account, "string");
    });

    it("a failure names the program's file:line, not the run's URL", async () => {
        await assert.rejects(server.plan({ programDir: PROGRAM, stacks: ["broken"], inDependencyOrder: true, preview: false }), /index\.js:9:11: the broken stack is refused/);
    });

    it("on a Node without module.register (before 20.6) says so, naming the program and the version, instead of planning each stack with the first one's module", () => {
        const probe = "require('module').register = undefined; require(process.env.ESM).importEsModuleProgram(process.env.ENTRY).then(() => console.log('imported'), (err) => console.log(err.message))";
        const result = spawnSync(process.execPath, ["--require", path.join(__dirname, "..", "register.cjs"), "-e", probe], {
            encoding: "utf8",
            env: { ...process.env, ESM: path.join(__dirname, "..", "src", "esm-program"), ENTRY: path.join(PROGRAM, "index.js") },
        });
        assert.match(result.stdout, new RegExp(`^${PROGRAM.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}/index\\.js is an ES-module JavaScript program: planning it needs Node 20\\.6 or later \\(module\\.register\\), this is Node ${process.versions.node.replace(/\./g, "\\.")}`), result.stdout + result.stderr);
    });
});
