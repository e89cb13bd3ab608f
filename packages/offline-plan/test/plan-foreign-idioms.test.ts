/**
 * Idioms met in public Pulumi programs that the offline plan must not misread: awsx classic reads the
 * ECS-optimized AMI from AWS's public SSM parameter and JSON-parses it; projects without any stack file,
 * or with their stack files in `stackConfigDir`, or spelled `.yml`.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { callDataSource, isKnownDataSource, LookupLog } from "../src/data-sources";
import { listStacks, loadStackSettings, stacksToPlan } from "../src/stack-settings";
import { planOrderFor, requestedResults } from "../src/dependencies";
import { planInOrder } from "../src/order";
import { PlanError } from "../src/runner";

const context = { region: "us-east-1", secret: (value: unknown) => ({ secret: value }) };
const SSM = "aws:ssm/getParameter:getParameter";

describe("offline lookups used by component libraries", () => {
    it("answers AWS's public ECS-optimized AMI parameter with the JSON document awsx classic parses", () => {
        const log = new LookupLog();
        const name = "/aws/service/ecs/optimized-ami/amazon-linux-2/recommended";
        assert.ok(isKnownDataSource(SSM, { name }));
        const result = callDataSource(SSM, { name }, context, log);
        const document = JSON.parse(String(result.value)) as { image_id: string };
        assert.match(document.image_id, /^ami-0[0-9a-f]{16}$/);
        assert.deepEqual(log.list().map((l) => [l.function, l.result]), [["aws.ssm.getParameter", "assumed"]]);
    });

    it("answers the latest-AMI parameters and getAmi with an AMI id", () => {
        const log = new LookupLog();
        const latest = callDataSource(SSM, { name: "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64" }, context, log);
        assert.match(String(latest.value), /^ami-0[0-9a-f]{16}$/);
        const ami = callDataSource("aws:ec2/getAmi:getAmi", { owners: ["amazon"], mostRecent: true }, context, log);
        assert.match(String(ami.imageId), /^ami-0[0-9a-f]{16}$/);
        assert.equal(ami.id, ami.imageId);
    });

    it("leaves a team's own parameter unknown: its value cannot be guessed", () => {
        assert.equal(isKnownDataSource(SSM, { name: "/acme/prod/db-endpoint" }), false);
        assert.equal(isKnownDataSource(SSM, { name: "/aws/service/global-infrastructure/regions" }), false);
    });
});

describe("the stacks a run plans", () => {
    let dir: string;
    beforeEach(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "offline-plan-stacks-"));
        fs.writeFileSync(path.join(dir, "Pulumi.yaml"), "name: acme-site\nruntime: nodejs\n");
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("refuses a project without any stack file instead of checking nothing", () => {
        assert.throws(() => stacksToPlan(dir, []), (err: Error) => err.message.includes(`${dir} has no stack file`) && err.message.includes("Pulumi.dev.yaml"));
    });

    it("a directory without Pulumi.yaml is said to be no project, not to lack stack files", () => {
        fs.rmSync(path.join(dir, "Pulumi.yaml"));
        assert.throws(() => stacksToPlan(dir, []), (err: Error) => err.message === `${dir}: no Pulumi.yaml (is this a Pulumi project directory?)`);
    });

    it("names the missing stack file of a stack asked for by name", () => {
        assert.throws(() => loadStackSettings(dir, "staging"), new RegExp(`no stack file ${path.join(dir, "Pulumi.staging.yaml")} for stack "staging"`));
    });

    it("names the file whose YAML does not parse (Pulumi.yaml, a stack file)", () => {
        fs.writeFileSync(path.join(dir, "Pulumi.yaml"), 'name: acme-site\nruntime: nodejs\ndescription: the site (package.json "type": "module")\n');
        fs.writeFileSync(path.join(dir, "Pulumi.prod.yaml"), "config: {}\n");
        assert.throws(() => loadStackSettings(dir, "prod"), (err: Error) => err.message.startsWith(`${path.join(dir, "Pulumi.yaml")}: `) && /Nested mappings/.test(err.message));
        fs.writeFileSync(path.join(dir, "Pulumi.yaml"), "name: acme-site\nruntime: nodejs\n");
        fs.writeFileSync(path.join(dir, "Pulumi.prod.yaml"), "config:\n  acme-site:domain: [www.example.com\n");
        assert.throws(() => loadStackSettings(dir, "prod"), (err: Error) => err.message.startsWith(`${path.join(dir, "Pulumi.prod.yaml")}: `));
    });

    it("finds stack files in stackConfigDir and spelled .yml, once each", () => {
        fs.writeFileSync(path.join(dir, "Pulumi.yaml"), "name: acme-site\nruntime: nodejs\nstackConfigDir: stacks\n");
        fs.mkdirSync(path.join(dir, "stacks"));
        fs.writeFileSync(path.join(dir, "stacks", "Pulumi.prod.yml"), "config:\n  acme-site:domain: www.example.com\n");
        fs.writeFileSync(path.join(dir, "stacks", "Pulumi.dev.yaml"), "config: {}\n");
        assert.deepEqual(listStacks(dir), ["dev", "prod"]);
        assert.deepEqual(stacksToPlan(dir, undefined), ["dev", "prod"]);
        assert.equal(loadStackSettings(dir, "prod").config["acme-site:domain"], "www.example.com");
        assert.deepEqual(stacksToPlan(dir, ["prod"]), ["prod"]);
    });

    it("plans a referenced stack first and returns only the stacks asked, in dependency order", () => {
        fs.writeFileSync(path.join(dir, "Pulumi.edge.yaml"), "config:\n  acme-site:origin: acme/acme-site/core\n");
        fs.writeFileSync(path.join(dir, "Pulumi.core.yaml"), "config: {}\n");
        fs.writeFileSync(path.join(dir, "Pulumi.docs.yaml"), "config:\n  acme-site:peer: acme-site/edge\n");
        const order = planOrderFor(dir, ["docs"]);
        assert.deepEqual(order, { order: ["core", "edge", "docs"], requested: ["docs"] });
        assert.deepEqual(planOrderFor(dir, []).order, ["core", "edge", "docs"]);
        const results = requestedResults(planOrderFor(dir, ["docs", "core"]), ["core", "edge", "docs"].map((stack) => ({ stack })));
        assert.deepEqual(results.map((r) => r.stack), ["core", "docs"]);
    });

    it("refuses stacks that reference each other, naming the cycle", () => {
        fs.writeFileSync(path.join(dir, "Pulumi.blue.yaml"), "config:\n  acme-site:peer: acme-site/green\n");
        fs.writeFileSync(path.join(dir, "Pulumi.green.yaml"), "config:\n  acme-site:peer: acme/acme-site/blue\n");
        assert.throws(() => planOrderFor(dir, ["blue"]), (err: Error) => err instanceof PlanError && err.stack === "blue" && err.message === "stack references form a cycle through blue -> green -> blue");
    });

    it("reports through the planning child what is no stack's failure as such, and a cycle as its stack's", async () => {
        await assert.rejects(planInOrder(dir, []), (err: Error) => !(err instanceof PlanError) && err.message.startsWith(`${dir} has no stack file`));
        fs.writeFileSync(path.join(dir, "Pulumi.blue.yaml"), "config:\n  acme-site:peer: acme-site/blue2\n");
        fs.writeFileSync(path.join(dir, "Pulumi.blue2.yaml"), "config:\n  acme-site:peer: acme-site/blue\n");
        await assert.rejects(planInOrder(dir, []), (err: Error) => err instanceof PlanError && err.stack === "blue" && /cycle through blue -> blue2 -> blue$/.test(err.message));
    });
});
