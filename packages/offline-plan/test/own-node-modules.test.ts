/**
 * A program with its own node_modules is planned with its own copy of the SDK, as the Pulumi language host
 * runs it: the mocks are installed in the copy its resources register through, and the SDK contract is
 * checked against that copy. The copy is made from ours in a temp dir (no network).
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { planInOrder } from "../src/order";

const OUR_SDK = path.dirname(require.resolve("@pulumi/pulumi/package.json"));

const PROGRAM = `const pulumi = require("@pulumi/pulumi");
const thing = new pulumi.CustomResource("acme:index:Thing", "thing", { size: 3 });
module.exports = { sdk: require.resolve("@pulumi/pulumi"), version: require("@pulumi/pulumi/package.json").version, thing: thing.urn };
`;

/** A program whose node_modules hold a copy of our SDK, with `version` in its package.json. */
function programWithOwnSdk(root: string, version: string): string {
    const dir = fs.mkdtempSync(path.join(root, "own-sdk-"));
    fs.writeFileSync(path.join(dir, "Pulumi.yaml"), "name: own-sdk\nruntime: nodejs\nmain: index.js\n");
    fs.writeFileSync(path.join(dir, "Pulumi.dev.yaml"), "config: {}\n");
    fs.writeFileSync(path.join(dir, "index.js"), PROGRAM);
    const sdk = path.join(dir, "node_modules", "@pulumi", "pulumi");
    fs.cpSync(OUR_SDK, sdk, { recursive: true, dereference: true });
    const pkgFile = path.join(sdk, "package.json");
    fs.writeFileSync(pkgFile, JSON.stringify({ ...JSON.parse(fs.readFileSync(pkgFile, "utf8")), version }));
    return dir;
}

describe("offline-plan: a program with its own node_modules", function () {
    this.timeout(120_000);
    let root: string;
    before(() => (root = fs.mkdtempSync(path.join(os.tmpdir(), "offline-plan-own-"))));
    after(() => fs.rmSync(root, { recursive: true, force: true }));

    it("is planned with its own SDK copy, whose registrations the mocks record", async () => {
        const dir = programWithOwnSdk(root, "3.999.0");
        const [plan] = await planInOrder(dir, ["dev"], { preview: false });
        assert.ok(String(plan.outputs.sdk).startsWith(path.join(fs.realpathSync(dir), "node_modules", "@pulumi", "pulumi")) || String(plan.outputs.sdk).startsWith(path.join(dir, "node_modules")), String(plan.outputs.sdk));
        assert.equal(plan.outputs.version, "3.999.0");
        const thing = plan.resources.find((r) => r.type === "acme:index:Thing");
        assert.equal(thing?.inputs.size, 3);
        assert.equal(plan.outputs.thing, "urn:pulumi:dev::own-sdk::acme:index:Thing::thing");
    });

    it("checks the program's own copy against the supported range, naming its version and place", async () => {
        const dir = programWithOwnSdk(root, "3.1.0");
        await assert.rejects(planInOrder(dir, ["dev"], { preview: false }), (err: Error) => {
            assert.match(err.message, /the offline planner cannot run with @pulumi\/pulumi 3\.1\.0 \(.*own-sdk-\w+\/node_modules\/@pulumi\/pulumi\)/);
            assert.match(err.message, /outside the supported range >=3\.270\.0 <4/);
            // What to do, in the program's directory (h40 trial: pulumi/examples pin 3.228.0, and the message said no more).
            assert.ok(err.message.endsWith(`\n  to plan it offline, install a supported SDK in the program: cd ${dir} && npm install '@pulumi/pulumi@>=3.270.0 <4'`), err.message);
            return true;
        });
    });
});
