/**
 * `npm run plan` as a user runs it: both stacks printed, --stack and --json, and a bad stack file makes it
 * exit non-zero with one line naming the key. Bad stack files live in a temporary copy of the project
 * (stack files copied, code symlinked) so the repository's own stack files are never touched.
 */
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { PLAN_CLI, REPO } from "./support/plans";
import { runCli } from "./support/cli";
import { UNKNOWN_TEXT } from "offline-plan/model";

/** The CLI as a process of its own (the bin), for what a test proves of the process; the rest runs it in this process (support/cli.ts). */
function runPlan(args: string[], cwd = REPO, env: Record<string, string> = {}) {
    const result = spawnSync(process.execPath, [PLAN_CLI, ...args], {
        cwd,
        encoding: "utf8",
        env: { ...process.env, ...env },
    });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** A copy of the project whose prod stack file has `edit` applied. */
function projectWithEditedProd(edit: (text: string) => string): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "oauth2-dr-cli-"));
    for (const entry of ["index.ts", "lib", "components", "scripts", "node_modules", "package.json", "tsconfig.json"]) {
        if (fs.existsSync(path.join(REPO, entry))) {
            fs.symlinkSync(path.join(REPO, entry), path.join(dir, entry));
        }
    }
    for (const file of ["Pulumi.yaml", "Pulumi.prod.yaml", "Pulumi.dr.yaml"]) {
        fs.copyFileSync(path.join(REPO, file), path.join(dir, file));
    }
    const prod = path.join(dir, "Pulumi.prod.yaml");
    const edited = edit(fs.readFileSync(prod, "utf8"));
    assert.notEqual(edited, fs.readFileSync(prod, "utf8"), "the edit must change the stack file");
    fs.writeFileSync(prod, edited);
    return dir;
}

describe("npm run plan (CLI)", function () {
    const temps: string[] = [];
    after(() => temps.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));

    it("plans prod then dr and prints both", () => {
        const { status, stdout, stderr } = runPlan([]);
        assert.equal(status, 0, stderr);
        const prodAt = stdout.indexOf("Stack organization/oauth2-dr/prod");
        const drAt = stdout.indexOf("Stack organization/oauth2-dr/dr");
        assert.ok(prodAt >= 0 && drAt > prodAt, "prod is printed before dr");
        assert.match(stdout, /\+ aws:rds\/instance:Instance {2}oauth2-postgres {2}\[protect\]/);
        assert.match(stdout, /replicateSourceDb="arn:aws:rds:us-east-1:\d{12}:db:oauth2-postgres"/);
        assert.ok(!stdout.includes("mock-oauth2-db-master-password"), "no generated secret in the plan output");
        assert.match(stdout, /password="\[secret\]"/);
    });

    it("--stack dr --json prints one stack as JSON, planning prod behind the scenes", async () => {
        const { status, stdout, stderr } = await runCli("plan", ["--stack", "dr", "--json"]);
        assert.equal(status, 0, stderr);
        const plan = JSON.parse(stdout);
        assert.equal(plan.stack, "dr");
        assert.ok(plan.resources.some((r: { name: string }) => r.name === "oauth2-postgres-replica"));
    });

    const badInputs: Array<[string, (text: string) => string, RegExp]> = [
        ["a retention below the table", (t) => `${t}  oauth2-dr:retention:\n    database: 29\n`, /^oauth2-dr:retention\.database: 29 days is below the retention table's minimum of 30 days/m],
        ["a DR region equal to the primary", (t) => t.replace("oauth2-dr:drRegion: us-west-2", "oauth2-dr:drRegion: us-east-1"), /^oauth2-dr:drRegion: "us-east-1" equals primaryRegion/m],
        ["a malformed backup window", (t) => t.replace('oauth2-dr:backupWindow: "03:00-04:00"', 'oauth2-dr:backupWindow: "3am"'), /^oauth2-dr:backupWindow: "3am" is not hh24:mi-hh24:mi/m],
        ["an unknown cloud", (t) => `${t}  oauth2-dr:cloud: oci\n`, /^oauth2-dr:cloud: "oci" is not one of aws, azure, gcp/m],
    ];
    for (const [what, edit, expected] of badInputs) {
        it(`exits 2 on ${what}, with a line naming the key`, () => {
            const dir = projectWithEditedProd(edit);
            temps.push(dir);
            // A process of its own: the copy's code is the repository's (symlinked), which a planning child that
            // planned this repository before has loaded already (support/cli.ts plans in one).
            const { status, stdout, stderr } = runPlan(["--stack", "prod"], dir);
            assert.equal(status, 2, stderr);
            assert.match(stderr, expected);
            assert.equal(stdout.trim(), "", "nothing is planned");
        });
    }

    describe("its command line (node:util parseArgs; the same exit codes as npm run check)", () => {
        it("--help prints every option and exits 0", () => {
            const { status, stdout } = runPlan(["--help"]);
            assert.equal(status, 0);
            for (const option of ["--stack", "--json", "--preview", "--program", "--config", "--stack-outputs", "--help"]) {
                assert.ok(stdout.includes(option), `--help mentions ${option}`);
            }
        });

        const usageErrors: Array<[string[], RegExp]> = [
            [["--stack"], /^--stack needs a value$/m],
            [["--stack", "--json"], /^--stack needs a value$/m],
            [["--bogus"], /^unknown argument --bogus$/m],
            [["prod"], /^unexpected argument prod$/m],
            [["--config", "region"], /^--config region: expected KEY=VALUE$/m],
            [["--stack-outputs", "acme/network/prod"], /^--stack-outputs acme\/network\/prod: expected ORG\/PROJECT\/STACK=FILE\.json$/m],
            [["--program", "no/such/dir"], /^--program no\/such\/dir: no Pulumi\.yaml in /m],
        ];
        for (const [args, message] of usageErrors) {
            it(`${args.join(" ")}: usage error, exit 2, nothing planned`, async () => {
                const { status, stdout, stderr } = await runCli("plan", args);
                assert.equal(status, 2);
                assert.match(stderr, message);
                assert.match(stderr, /usage: offline-plan \[options\]/);
                assert.equal(stdout, "");
            });
        }

        it("--program is relative to where the user ran npm (INIT_CWD), and --config and --stack-outputs reach the program", () => {
            const dir = fs.mkdtempSync(path.join(os.tmpdir(), "plan-cli-"));
            temps.push(dir);
            const program = path.join(dir, "orders");
            fs.mkdirSync(program);
            fs.writeFileSync(path.join(program, "Pulumi.yaml"), "name: orders\nruntime: nodejs\n");
            fs.writeFileSync(path.join(program, "Pulumi.prod.yaml"), "config:\n  aws:region: eu-west-1\n  orders:owner: payments\n");
            fs.writeFileSync(
                path.join(program, "index.ts"),
                [
                    'import * as pulumi from "@pulumi/pulumi";',
                    "const config = new pulumi.Config();",
                    'const network = new pulumi.StackReference("acme/network/prod");',
                    'export const owner = config.require("owner");',
                    'export const tier = config.require("tier");',
                    'export const vpcId = network.requireOutput("vpcId");',
                ].join("\n"),
            );
            fs.writeFileSync(path.join(dir, "network.json"), JSON.stringify({ vpcId: "vpc-0123456789abcdef0" }));
            const { status, stdout, stderr } = runPlan(["--program", "orders", "--config", "tier=gold", "--stack-outputs", "acme/network/prod=network.json", "--json"], REPO, { INIT_CWD: dir });
            assert.equal(status, 0, stderr);
            const plan = JSON.parse(stdout);
            assert.deepEqual(plan.outputs, { owner: "payments", tier: "gold", vpcId: "vpc-0123456789abcdef0" });
            assert.deepEqual(plan.lookups.map((l: { function: string; result: string; detail: string }) => `${l.function} ${l.detail}: ${l.result}`), ["pulumi.StackReference acme/network/prod: supplied"]);
            const unsupplied = runPlan(["--program", "orders", "--config", "tier=gold", "--json"], REPO, { INIT_CWD: dir });
            assert.equal(unsupplied.status, 0, unsupplied.stderr);
            assert.equal(JSON.parse(unsupplied.stdout).outputs.vpcId, UNKNOWN_TEXT, "an outside stack's outputs are unknown, as in a first preview");
        });
    });
});
