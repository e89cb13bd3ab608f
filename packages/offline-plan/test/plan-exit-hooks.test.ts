/**
 * Work a program schedules for when its event loop empties (`beforeExit`), which the Pulumi language host runs
 * before it shuts down: @pulumi/aws's BucketNotification for `bucket.onObjectCreated`, a program's own hook.
 * The planner runs it for every stack, and a stack's hooks never run in the next stack planned in the same process.
 */
import { strict as assert } from "assert";
import * as path from "path";
import { PlannedResource, PlanResult, unwrapSecrets } from "../src/model";
import { PlanningServer } from "../src/server";

const PROGRAM = path.join(__dirname, "fixtures", "exit-hooks-program");

const resourcesOfType = (plan: PlanResult, type: string): PlannedResource[] => plan.resources.filter((r) => r.type === type);
const props = (r: PlannedResource): Record<string, unknown> => unwrapSecrets(r.inputs) as Record<string, unknown>;

describe("beforeExit work in the planner (src/exit-hooks.ts runExitHooks)", function () {
    this.timeout(120000);
    let server: PlanningServer;
    const planProgram = (dir: string, stacks: string[]) => server.plan({ programDir: dir, stacks, inDependencyOrder: true });
    let plans: PlanResult[];
    after(() => server?.close());
    before(async () => {
        server = new PlanningServer();
        plans = await planProgram(PROGRAM, ["staging", "prod"]);
    });

    it("each stack holds its bucket's one BucketNotification, with the subscription's function", () => {
        for (const plan of plans) {
            const notifications = resourcesOfType(plan, "aws:s3/bucketNotification:BucketNotification");
            assert.equal(notifications.length, 1, `${plan.stack}: ${notifications.map((n) => n.name).join(", ")}`);
            const [notification] = notifications;
            assert.equal(props(notification).bucket, "photos");
            assert.match(JSON.stringify(props(notification).lambdaFunctions), /:function:index-photo"/);
        }
    });

    it("the program's own hook runs once per stack, and never in the next stack", () => {
        for (const plan of plans) {
            const parameters = resourcesOfType(plan, "aws:ssm/parameter:Parameter").map((p) => p.name);
            assert.deepEqual(parameters, [`inventory-${plan.stack}`], plan.stack);
        }
    });

    it("a program that formats error stacks itself (no frames) still has its hook run once per stack", async () => {
        // Its Error.prepareStackTrace stays for the rest of the process: a server of its own.
        const own = new PlanningServer();
        try {
            const hidden = await own.plan({ programDir: path.join(__dirname, "fixtures", "exit-hooks-hidden-stacks"), stacks: ["staging", "prod"], inDependencyOrder: true });
            for (const plan of hidden) {
                const parameters = resourcesOfType(plan, "aws:ssm/parameter:Parameter").map((p) => p.name);
                assert.deepEqual(parameters, [`inventory-${plan.stack}`], plan.stack);
            }
        } finally {
            own.close();
        }
    });

    it("the same program planned again in the same process gives the same plans", async () => {
        const again = await planProgram(PROGRAM, ["staging", "prod"]);
        assert.deepEqual(again.map((p) => p.resources.map((r) => r.urn).sort()), plans.map((p) => p.resources.map((r) => r.urn).sort()));
    });
});
