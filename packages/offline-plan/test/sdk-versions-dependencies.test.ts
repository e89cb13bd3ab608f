/**
 * What a package of the program imports in turn (src/sdk-versions.ts): a component library installed in the
 * program's node_modules without its @pulumi/aws peer (`--legacy-peer-deps`, a package manager that does not
 * install peers) gets this tool's @pulumi/aws through NODE_PATH, as Node resolves it. Its own declaration is
 * compared as the program's is: another major version fails the plan naming the library, unless
 * OFFLINE_PLAN_SDK_MISMATCH=warn; a range it allows says nothing.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { planInOrder } from "../src/order";

const AWS = (JSON.parse(fs.readFileSync(require.resolve("@pulumi/aws/package.json"), "utf8")) as { version: string }).version;
const AWS_MAJOR = Number(AWS.split(".")[0]);

/** A program whose node_modules hold only @acme/ledger-components, which declares `peer` for @pulumi/aws. */
function programWithLibrary(root: string, peer: string): string {
    const dir = fs.mkdtempSync(path.join(root, "library-"));
    fs.writeFileSync(path.join(dir, "Pulumi.yaml"), "name: ledger\nruntime: nodejs\nmain: index.js\n");
    fs.writeFileSync(path.join(dir, "Pulumi.dev.yaml"), "config:\n  aws:region: eu-west-1\n");
    fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: "ledger", dependencies: { "@acme/ledger-components": "^1.0.0" } }));
    fs.writeFileSync(path.join(dir, "index.js"), 'const { Archive } = require("@acme/ledger-components");\nconst archive = new Archive("ledger");\nmodule.exports = { bucket: archive.bucket.bucket };\n');
    const lib = path.join(dir, "node_modules", "@acme", "ledger-components");
    fs.mkdirSync(lib, { recursive: true });
    fs.writeFileSync(path.join(lib, "package.json"), JSON.stringify({ name: "@acme/ledger-components", version: "1.4.0", main: "index.js", peerDependencies: { "@pulumi/aws": peer, "@pulumi/pulumi": "^3.0.0" } }));
    fs.writeFileSync(
        path.join(lib, "index.js"),
        [
            'const pulumi = require("@pulumi/pulumi");',
            'const aws = require("@pulumi/aws");',
            "class Archive extends pulumi.ComponentResource {",
            "    constructor(name, opts) {",
            '        super("acme:ledger:Archive", name, {}, opts);',
            '        this.bucket = new aws.s3.Bucket(name, { forceDestroy: false }, { parent: this });',
            "        this.registerOutputs({});",
            "    }",
            "}",
            "module.exports = { Archive };",
            "",
        ].join("\n"),
    );
    return dir;
}

describe("offline-plan: a package of the program importing this tool's @pulumi packages (src/sdk-versions.ts)", function () {
    this.timeout(120_000);
    let root: string;
    const saved = process.env.OFFLINE_PLAN_SDK_MISMATCH;
    before(() => {
        root = fs.mkdtempSync(path.join(os.tmpdir(), "offline-plan-deps-"));
        delete process.env.OFFLINE_PLAN_SDK_MISMATCH;
    });
    after(() => {
        fs.rmSync(root, { recursive: true, force: true });
        if (saved === undefined) {
            delete process.env.OFFLINE_PLAN_SDK_MISMATCH;
        } else {
            process.env.OFFLINE_PLAN_SDK_MISMATCH = saved;
        }
    });

    it("a library whose peer is another major version fails the plan, naming the library, its declaration and the version used", async () => {
        const dir = programWithLibrary(root, `^${AWS_MAJOR - 1}.0.0`);
        await assert.rejects(planInOrder(dir, ["dev"], { preview: false }), (err: Error) => {
            assert.match(
                err.message,
                new RegExp(
                    `@pulumi/aws: @acme/ledger-components, which the program imports, declares "\\^${AWS_MAJOR - 1}\\.0\\.0" \\(node_modules/@acme/ledger-components/package\\.json peerDependencies\\), and it was planned with this tool's @pulumi/aws ${AWS.replace(/\./g, "\\.")}, another major version`,
                ),
            );
            // The directory as a string, not \S+: a TMPDIR with a space in its name is a directory like another.
            assert.ok(err.message.includes(`install @pulumi/aws in ${dir} at a version @acme/ledger-components accepts`), err.message);
            assert.match(err.message, /OFFLINE_PLAN_SDK_MISMATCH=warn plans it anyway/);
            return true;
        });
    });

    it("with OFFLINE_PLAN_SDK_MISMATCH=warn it is planned, with the notice in the plan", async () => {
        const dir = programWithLibrary(root, `^${AWS_MAJOR - 1}.0.0`);
        process.env.OFFLINE_PLAN_SDK_MISMATCH = "warn";
        try {
            const [plan] = await planInOrder(dir, ["dev"], { preview: false });
            assert.ok(plan.resources.some((r) => r.type === "aws:s3/bucket:Bucket" && r.name === "ledger"));
            assert.deepEqual(
                plan.sdkVersions?.map((n) => [n.package, n.severity, n.used]),
                [["@pulumi/aws", "other-major", AWS]],
            );
        } finally {
            delete process.env.OFFLINE_PLAN_SDK_MISMATCH;
        }
    });

    it("a monorepo program whose @pulumi/aws import is in its shared module (../shared) is compared with what the program declares, as its own files are", async () => {
        // Was planned with this tool's @pulumi/aws without a word: the shared module is neither the program's
        // directory nor an installed package, so its import was compared with nothing.
        const mono = fs.mkdtempSync(path.join(root, "monorepo-"));
        const app = path.join(mono, "app");
        fs.mkdirSync(app);
        fs.mkdirSync(path.join(mono, "shared"));
        fs.writeFileSync(path.join(app, "Pulumi.yaml"), "name: mono-app\nruntime: nodejs\nmain: index.js\n");
        fs.writeFileSync(path.join(app, "Pulumi.dev.yaml"), "config:\n  aws:region: eu-west-1\n");
        fs.writeFileSync(path.join(app, "package.json"), JSON.stringify({ name: "mono-app", dependencies: { "@pulumi/aws": `^${AWS_MAJOR - 1}.0.0` } }));
        fs.writeFileSync(path.join(app, "index.js"), 'const { log } = require("../shared/log");\nmodule.exports = { log: log.name };\n');
        fs.writeFileSync(path.join(mono, "shared", "log.js"), 'const aws = require("@pulumi/aws");\nexports.log = new aws.cloudwatch.LogGroup("audit", { retentionInDays: 90 });\n');
        await assert.rejects(planInOrder(app, ["dev"], { preview: false }), (err: Error) => {
            assert.match(err.message, new RegExp(`@pulumi/aws: the program declares "\\^${AWS_MAJOR - 1}\\.0\\.0" \\(package\\.json dependencies\\), and it was planned with this tool's @pulumi/aws ${AWS.replace(/\./g, "\\.")}, another major version`));
            return true;
        });
    });

    it("a library whose peer range this tool's version satisfies: planned, nothing said", async () => {
        const dir = programWithLibrary(root, `^${AWS_MAJOR}.0.0`);
        const [plan] = await planInOrder(dir, ["dev"], { preview: false });
        assert.ok(plan.resources.some((r) => r.type === "acme:ledger:Archive"));
        assert.equal(plan.sdkVersions, undefined);
    });
});
