/**
 * The package as a user gets it: `npm pack`, the tarball unpacked into a project of its own in the temp dir
 * (outside this repository), its dependencies and the SDK beside it, then the README's two ways in: the
 * `offline-plan` command and the library under `node --require offline-plan/register.cjs`. No network: the
 * dependencies are links to the copies installed here. A file the code needs at run time but `files` in
 * package.json leaves out of the tarball fails here, not on a user's machine.
 */
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const ROOT = path.resolve(__dirname, "..");

describe("offline-plan packed: the tarball installed outside the repository plans a program", function () {
    let project: string;

    before(function () {
        project = fs.mkdtempSync(path.join(os.tmpdir(), "offline-plan-packed-"));
        const pack = spawnSync("npm", ["pack", "--json", "--ignore-scripts", "--pack-destination", project], { cwd: ROOT, encoding: "utf8" });
        assert.equal(pack.status, 0, pack.stderr);
        const tarball = path.join(project, (JSON.parse(pack.stdout) as { filename: string }[])[0].filename);
        const installed = path.join(project, "node_modules", "offline-plan");
        fs.mkdirSync(installed, { recursive: true });
        const untar = spawnSync("tar", ["-xzf", tarball, "-C", installed, "--strip-components=1"], { encoding: "utf8" });
        assert.equal(untar.status, 0, untar.stderr);
        // Its dependencies and peers, and the program's provider, as npm would put them beside it.
        for (const dependency of ["esbuild", "yaml", "@pulumi/pulumi", "@pulumi/aws"]) {
            const link = path.join(project, "node_modules", dependency);
            fs.mkdirSync(path.dirname(link), { recursive: true });
            fs.symlinkSync(path.dirname(require.resolve(`${dependency}/package.json`, { paths: [ROOT] })), link, "dir");
        }
        fs.writeFileSync(path.join(project, "package.json"), JSON.stringify({ name: "shop", private: true, main: "index.ts" }));
        fs.writeFileSync(path.join(project, "Pulumi.yaml"), "name: shop\nruntime: nodejs\n");
        fs.writeFileSync(path.join(project, "Pulumi.dev.yaml"), "config:\n  aws:region: eu-central-1\n  shop:prefix: shop-dev\n");
        fs.writeFileSync(
            path.join(project, "index.ts"),
            [
                'import * as pulumi from "@pulumi/pulumi";',
                'import * as aws from "@pulumi/aws";',
                "const config = new pulumi.Config();",
                'const bucket = new aws.s3.Bucket("assets", { bucket: `${config.require("prefix")}-assets` });',
                "export const bucketName = bucket.bucket;",
                "",
            ].join("\n"),
        );
        fs.writeFileSync(
            path.join(project, "app.ts"),
            [
                'import { planInOrder } from "offline-plan";',
                'import { shortType } from "offline-plan/model";',
                "void planInOrder(__dirname, [\"dev\"], { preview: false }).then(([plan]) => console.log(plan.resources.map((r) => shortType(r.type)).join(\",\")));",
                "",
            ].join("\n"),
        );
    });

    after(function () {
        fs.rmSync(project, { recursive: true, force: true });
    });

    it("runs its bin: the program's stack planned with its config, as JSON", function () {
        const bin = path.join(project, "node_modules", "offline-plan", "bin", "offline-plan.cjs");
        const run = spawnSync(process.execPath, [bin, "--json"], { cwd: project, encoding: "utf8" });
        assert.equal(run.status, 0, run.stderr);
        const plan = JSON.parse(run.stdout) as { stack: string; outputs: Record<string, unknown>; resources: { type: string }[] };
        assert.equal(plan.stack, "dev");
        assert.deepEqual(plan.resources.map((r) => r.type), ["aws:s3/bucket:Bucket"]);
        assert.equal(plan.outputs.bucketName, "shop-dev-assets");
    });

    it("serves the library by its name under its loader (node --require offline-plan/register.cjs)", function () {
        const run = spawnSync(process.execPath, ["--require", "offline-plan/register.cjs", "app.ts"], { cwd: project, encoding: "utf8" });
        assert.equal(run.status, 0, run.stderr);
        assert.equal(run.stdout.trim(), "Bucket");
    });
});
