/**
 * The pack can be published: `pulumi policy publish` packs only policy/, so policy/ copied alone into a
 * temporary directory must install from its own lockfile and judge a plan exactly as the repository's copy
 * does. The evaluation runs in a child process (a second @pulumi/pulumi must not enter the test process).
 */
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { checkPlan, REPO_ROOT } from "../../tools/check/core";
import { TS_REGISTER } from "offline-plan/runner";
import { planProgram } from "../support/plans";

const POLICY_DIR = path.join(REPO_ROOT, "policy");

/** What `pulumi policy publish` takes: the pack's own files, never its node_modules. */
function copyPack(dir: string): string[] {
    const files = fs.readdirSync(POLICY_DIR).filter((f) => f.endsWith(".ts") || ["package.json", "package-lock.json", "PulumiPolicy.yaml", "README.md"].includes(f));
    for (const file of files) {
        fs.copyFileSync(path.join(POLICY_DIR, file), path.join(dir, file));
    }
    return files;
}

/** Evaluates the copied pack (its all.ts, its node_modules) on a plan with the offline harness; prints JSON. */
const DRIVER = `
import * as fs from "fs";
import type { Policies } from "@pulumi/policy";

// The harness first (it may load repository modules of its own); then the copied pack, whose modules must all
// come from this directory. (The harness by its file: the temporary directory has no offline-plan to resolve.)
const harness = require(${JSON.stringify(require.resolve("offline-plan/policy-harness"))});
const before = new Set(Object.keys(require.cache));
const { ALL_POLICIES } = require("./all") as { ALL_POLICIES: Policies };
const loadedByPack = Object.keys(require.cache).filter((f) => !before.has(f));

async function main() {
    const plan = JSON.parse(fs.readFileSync("plan.json", "utf8"));
    const options = { packEnforcementLevel: "mandatory" as const, stackTags: harness.defaultStackTags(plan) };
    const prepared = harness.prepare(harness.analyzerResources(plan));
    const a = await harness.evaluateResourcePolicies(ALL_POLICIES, prepared, options);
    const b = await harness.evaluateStackPolicies(ALL_POLICIES, harness.policyResources(prepared), options);
    console.log(JSON.stringify({
        violations: [...a.violations, ...b.violations],
        packModules: loadedByPack.filter((f) => f.startsWith(process.cwd() + "/") && !f.includes("node_modules")).length,
        repoPackModules: loadedByPack.filter((f) => !f.startsWith(process.cwd() + "/")),
        policyFrom: require.resolve("@pulumi/policy"),
    }));
}
void main();
`;

describe("publishable pack: policy/ alone", function () {
    this.timeout(300000);

    it("has no import outside policy/, installs from its lockfile and judges a plan as the repository's pack does", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "policy-pack-"));
        try {
            const files = copyPack(dir);
            for (const file of files.filter((f) => f.endsWith(".ts"))) {
                const imports = [...fs.readFileSync(path.join(dir, file), "utf8").matchAll(/from "([^"]+)"/g)].map((m) => m[1]);
                assert.deepEqual(imports.filter((i) => i.startsWith("..")), [], `${file} imports outside the pack`);
            }
            const install = spawnSync("npm", ["ci", "--prefer-offline", "--no-audit", "--no-fund", "--ignore-scripts"], { cwd: dir, encoding: "utf8" });
            assert.equal(install.status, 0, install.stderr);

            // A foreign program with violations (7-day RDS backups, an unversioned backup bucket), planned once.
            const [plan] = await planProgram(path.join(REPO_ROOT, "test", "fixtures", "outside-program"), ["dev"], { preview: false });
            fs.writeFileSync(path.join(dir, "plan.json"), JSON.stringify(plan));
            fs.writeFileSync(path.join(dir, "evaluate.ts"), DRIVER);
            const child = spawnSync(process.execPath, ["--require", TS_REGISTER, "evaluate.ts"], { cwd: dir, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
            assert.equal(child.status, 0, child.stderr);
            const result = JSON.parse(child.stdout) as { violations: Array<{ policy: string; message: string }>; packModules: number; repoPackModules: string[]; policyFrom: string };

            assert.deepEqual(result.repoPackModules, [], "the copy must load nothing from outside its directory");
            assert.ok(result.packModules >= files.filter((f) => f.endsWith(".ts")).length - 1, String(result.packModules));
            assert.ok(result.policyFrom.startsWith(path.join(dir, "node_modules")), result.policyFrom);
            const expected = (await checkPlan(plan)).violations.map(({ policy, message }) => ({ policy, message }));
            assert.ok(expected.some((v) => v.policy === "rds-backup-retention"));
            assert.deepEqual(result.violations.map(({ policy, message }) => ({ policy, message })), expected);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});
