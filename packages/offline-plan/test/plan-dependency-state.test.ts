/**
 * A dependency that caches what it built in module-level variables (awsx classic: the region's default VPC, the
 * default ECS cluster, the availability zones) is loaded afresh for each stack planned in one process, as a new
 * `pulumi preview` loads it (src/program-entry.ts forgetProgramModules). Before (h40 trial, pulumi/examples
 * aws-ts-airflow), the second stack got the first's objects: no default cluster, VPC or subnets registered, the
 * first region's zones in its outputs, exit 0; and a preview (planned after its full plan) listed the default
 * VPC as "waiting on unknowns" and its lookups as never made.
 */
import { strict as assert } from "assert";
import * as path from "path";
import { PlanResult } from "../src/model";
import { PlanningServer } from "../src/server";

const PROGRAM = path.join(__dirname, "fixtures", "awsx-classic-defaults");
const DEFAULTS = ["aws:ecs/cluster:Cluster default-cluster", "awsx:x:ec2:Subnet default-vpc-public-0", "awsx:x:ec2:Vpc default-vpc"];

const defaultsOf = (plan: PlanResult) => plan.resources.map((r) => `${r.type} ${r.name}`).filter((r) => DEFAULTS.includes(r)).sort();

describe("offline-plan: a dependency's module-level state", function () {
    this.timeout(240_000);
    let server: PlanningServer;
    after(() => server?.close());

    it("is the stack's own: each stack of a run gets its own awsx classic defaults and zones", async () => {
        server = new PlanningServer();
        const plans = await server.plan({ programDir: PROGRAM, stacks: ["east", "west"], inDependencyOrder: true, preview: false });
        assert.deepEqual(plans.map((p) => [p.stack, defaultsOf(p), p.outputs.zones]), [
            ["east", DEFAULTS, ["us-east-1a", "us-east-1b", "us-east-1c"]],
            ["west", DEFAULTS, ["eu-west-1a", "eu-west-1b", "eu-west-1c"]],
        ]);
        assert.deepEqual(plans.map((p) => (p.lookups ?? []).map((l) => l.function).sort()), [
            ["aws.ec2.getSubnets", "aws.ec2.getVpc", "aws.getAvailabilityZones"],
            ["aws.ec2.getSubnets", "aws.ec2.getVpc", "aws.getAvailabilityZones"],
        ]);
    });

    it("is the preview's own, not its full plan's: the defaults are previewed, nothing said to wait on unknowns", async () => {
        const [preview] = await server.plan({ programDir: PROGRAM, stacks: ["west"], inDependencyOrder: true, preview: true });
        assert.deepEqual(defaultsOf(preview), DEFAULTS);
        assert.equal(preview.waitingOnUnknowns, undefined);
    });

    it("is the stack's own in an ES-module program too (its imports of such a dependency are made per run)", async () => {
        const plans = await server.plan({ programDir: path.join(__dirname, "fixtures", "awsx-classic-defaults-esm"), stacks: ["east", "west"], inDependencyOrder: true, preview: false });
        assert.deepEqual(plans.map((p) => [p.stack, defaultsOf(p), p.outputs.zones]), [
            ["east", ["awsx:x:ec2:Subnet default-vpc-public-0", "awsx:x:ec2:Vpc default-vpc"], ["us-east-1a", "us-east-1b", "us-east-1c"]],
            ["west", ["awsx:x:ec2:Subnet default-vpc-public-0", "awsx:x:ec2:Vpc default-vpc"], ["eu-west-1a", "eu-west-1b", "eu-west-1c"]],
        ]);
    });
});
