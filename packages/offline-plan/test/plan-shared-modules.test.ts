/**
 * A program's code outside its directory (a monorepo's ../shared) runs afresh for each stack planned in one
 * process, as its own files do (src/program-entry.ts programFilesOf). Before, the second stack reused the
 * first's module: its tags said env "dev" in prod, and the shared module's LogGroup was missing, exit 0.
 */
import { strict as assert } from "assert";
import * as path from "path";
import { unwrapSecrets } from "../src/model";
import { PlanningServer } from "../src/server";

const PROGRAM = path.join(__dirname, "fixtures", "monorepo", "app");

describe("offline-plan: a program's shared modules outside its directory", function () {
    this.timeout(120_000);
    let server: PlanningServer;
    after(() => server?.close());

    it("are run for each stack: each has its own tags, the shared module's resource and its exit hook's, once", async () => {
        server = new PlanningServer();
        const plans = await server.plan({ programDir: PROGRAM, stacks: ["dev", "prod"], inDependencyOrder: true, preview: false });
        assert.deepEqual(
            plans.map((p) => [p.stack, p.resources.filter((r) => r.custom).map((r) => `${r.type} ${r.name} ${JSON.stringify(unwrapSecrets(r.inputs.tags))}`).sort()]),
            [
                ["dev", ['aws:cloudwatch/logGroup:LogGroup audit {"env":"dev","region":"eu-west-1"}', 'aws:sqs/queue:Queue orders {"env":"dev","region":"eu-west-1"}', "aws:ssm/parameter:Parameter inventory-dev undefined"]],
                ["prod", ['aws:cloudwatch/logGroup:LogGroup audit {"env":"prod","region":"us-east-1"}', 'aws:sqs/queue:Queue orders {"env":"prod","region":"us-east-1"}', "aws:ssm/parameter:Parameter inventory-prod undefined"]],
            ],
        );
    });
});
