/**
 * The corpus (test/fixtures/programs/): Pulumi programs in the styles other teams write (data sources,
 * awsx, StackReferences to another project, secure config, the v6 BucketV2 family, inline bucket
 * arguments, an async entry point, a JavaScript program), each planned and checked offline as
 * `npm run check -- --program DIR` does. Each program's expected.json says what the check must find:
 *
 *   exit       the CLI's exit code (0 compliant, 1 a mandatory violation, 2 the plan failed)
 *   flagged    resources that a mandatory violation other than the coverage row must name
 *   stderr     for exit 2: the one line the user reads (a regular expression)
 *   env        for exit 2: environment variables the CLIs run with (OFFLINE_PLAN_PROGRAM_TIMEOUT: seconds before a wait is stopped)
 *   resources  "type name" of every resource the plan must hold (nothing dropped)
 *   lookups    the data sources, outside stacks and plugin-built components the report lists as answered offline
 *   secretInputs  "type name input" that must reach the plan as secrets
 *   secretUnknowns  "type name input" that must reach the plan as secrets whose value is unknown (not a crash, not plain)
 *   rows       per data class, the retention row's status and found value; `evidence` / `shortfall` are regular
 *              expressions one of its proving resources' details / one of its shortfalls must match
 *   violations     regular expressions that some violation ("level policy: message") must match
 *   noViolations   regular expressions that no violation may match
 *   notJudged  "name (kind): backups" of every database-like resource the check lists as not judged
 *   preview    planned and checked again as `--preview`: its `exit`, and `notJudgedInPreview`, the start of
 *              "name (Kind): inputs unknown" of every resource a policy could not judge for an unknown input
 *   rows.*.shortfalls  regular expressions each of which one of the row's shortfalls must match
 *   unknownApplies  "file:line:col (waits on …; n calls)" of every `.apply` in the program whose callback the full
 *              plan could not run (its value unknown offline); the plan, and the check, must list exactly these
 *   preview.notJudgedInPreview  also "row [class] (retention table row): …" for a row the coverage policy could not decide
 */
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { checkPlans, mandatoryCount, StackCheck } from "../tools/check/core";
import { isSecret, PlanResult, SECRET_SIG, shortType, UNKNOWN, UNKNOWN_TEXT } from "offline-plan/model";
import { describeUnknownApply } from "offline-plan/format";
import { TS_REGISTER } from "offline-plan/runner";
import { PLAN_CLI, planProgram, REPO } from "./support/plans";
import { runCli } from "./support/cli";

const CORPUS = path.join(REPO, "test", "fixtures", "programs");

interface Expected {
    stack: string;
    exit?: 0 | 1 | 2;
    flagged?: string[];
    stderr?: string;
    /** for exit 2: environment variables the CLIs run with (OFFLINE_PLAN_PROGRAM_TIMEOUT, to stop a wait in seconds) */
    env?: Record<string, string>;
    resources?: string[];
    lookups?: string[];
    secretInputs?: string[];
    secretUnknowns?: string[];
    rows?: Record<string, { status: string; found?: string; evidence?: string; shortfall?: string; shortfalls?: string[]; scope?: string }>;
    notJudged?: string[];
    preview?: { exit: 0 | 1; notJudgedInPreview: string[] };
    violations?: string[];
    noViolations?: string[];
    unknownApplies?: string[];
}

function expectations(program: string): Expected {
    return JSON.parse(fs.readFileSync(path.join(CORPUS, program, "expected.json"), "utf8")) as Expected;
}

/** A CLI still running after this long is killed (status null): a hang fails its test instead of stopping the suite. */
const CLI_HANG = 120000;

/** The CLI as a process of its own, as `npm run plan|check` runs it: for what a test proves of the process itself. */
function cli(tool: "plan" | "check", args: string[], env: Record<string, string> = {}) {
    const child = spawnSync(process.execPath, tool === "plan" ? [PLAN_CLI, ...args] : ["--require", TS_REGISTER, path.join(REPO, "tools", "check", "check.ts"), ...args], { cwd: REPO, encoding: "utf8", maxBuffer: 64 * 1024 * 1024, env: { ...process.env, ...env }, timeout: CLI_HANG, killSignal: "SIGKILL" });
    return { status: child.status, stdout: child.stdout, stderr: child.stderr };
}

/** Mandatory violations naming `name` (its URN or its message), the coverage row aside. */
function violationsOf(check: StackCheck, name: string): string[] {
    return check.violations
        .filter((v) => v.enforcementLevel === "mandatory" && v.policy !== "retention-table-coverage")
        .filter((v) => v.urn?.endsWith(`::${name}`) || v.message.includes(name))
        .map((v) => `${v.policy}: ${v.message}`);
}

const programs = fs.readdirSync(CORPUS).filter((d) => fs.existsSync(path.join(CORPUS, d, "expected.json"))).sort();

describe("the program corpus (test/fixtures/programs), checked offline", function () {
    this.timeout(180000);

    it("holds at least 12 programs, each with its own Pulumi.yaml and stack file", () => {
        assert.ok(programs.length >= 12, `${programs.length} programs`);
        for (const program of programs) {
            const { stack } = expectations(program);
            assert.ok(fs.existsSync(path.join(CORPUS, program, "Pulumi.yaml")), `${program}/Pulumi.yaml`);
            assert.ok(fs.existsSync(path.join(CORPUS, program, `Pulumi.${stack}.yaml`)), `${program}/Pulumi.${stack}.yaml`);
        }
    });

    for (const program of programs) {
        const expected = expectations(program);
        const dir = path.join(CORPUS, program);
        if (expected.exit === 2) {
            it(`${program}: plan and check exit 2 with one line the user can act on`, async () => {
                // A preview plans each stack twice (in full behind it, to find what waits on unknowns): the same failure.
                // The plan as a process of its own (the program runs in it: no promise left active at its exit); the
                // check and the preview in this process, planned in the shared planning child.
                for (const [tool, ...extra] of [["plan"], ["check"], ["plan", "--preview"]] as const) {
                    const args = ["--program", dir, "--stack", expected.stack, ...extra];
                    // A program with an environment of its own (expected.env) runs every CLI as a process: the variables
                    // must reach the process that plans it, not the worker's shared planning child, started without them.
                    const inProcess = !(tool === "plan" && extra.length === 0) && expected.env === undefined;
                    const { status, stdout, stderr } = inProcess ? await runCli(tool, args) : cli(tool, args, expected.env);
                    assert.equal(status, 2, `${tool}: ${stderr}`);
                    assert.equal(stdout.trim(), "", `${tool} prints nothing on stdout`);
                    assert.match(stderr, new RegExp(expected.stderr ?? "", "m"), `${tool}: ${stderr}`);
                    assert.doesNotMatch(stderr, /promises? (were|was) still active/);
                    // The program's failure names the program's files, never a frame of the planner's own.
                    assert.doesNotMatch(stderr, /offline-plan\/src\//, `${tool}: ${stderr}`);
                }
            });
            continue;
        }

        describe(program, () => {
            let plan: PlanResult;
            let check: StackCheck;
            before(async () => {
                [plan] = await planProgram(dir, [expected.stack]);
                [check] = await checkPlans([plan], { programDir: dir });
            });

            it("plans every resource the program registers", () => {
                const planned = plan.resources.map((r) => `${r.type} ${r.name}`);
                for (const resource of expected.resources ?? []) {
                    assert.ok(planned.includes(resource), `${resource} is missing from the plan (planned: ${planned.join(", ")})`);
                }
            });

            it("lists the lookups it answered offline", () => {
                assert.deepEqual([...new Set(check.lookups.map((l) => l.function))].sort(), [...(expected.lookups ?? [])].sort());
            });

            if (expected.secretInputs) {
                it("keeps secure config secret all the way to the resources", () => {
                    for (const entry of expected.secretInputs ?? []) {
                        const [type, name, input] = entry.split(" ");
                        const resource = plan.resources.find((r) => r.type === type && r.name === name);
                        assert.ok(resource && isSecret(resource.inputs[input]), `${entry} is a secret`);
                    }
                    assert.ok(!JSON.stringify(plan.resources).includes("v1:"), "no ciphertext reaches a resource");
                });
            }

            if (expected.secretUnknowns) {
                it("keeps a secret around a value unknown offline a secret, with its value unknown", () => {
                    for (const entry of expected.secretUnknowns ?? []) {
                        const [type, name, input] = entry.split(" ");
                        const resource = plan.resources.find((r) => r.type === type && r.name === name);
                        assert.ok(resource, `${type} ${name} is planned`);
                        assert.deepEqual(resource.inputs[input], { [SECRET_SIG.key]: SECRET_SIG.value, value: UNKNOWN }, entry);
                    }
                });
            }

            for (const [dataClass, want] of Object.entries(expected.rows ?? {})) {
                it(`judges the ${dataClass} row ${want.status}${want.found ? `, found ${want.found}` : ""}`, () => {
                    const row = check.retention.find((r) => r.dataClass === dataClass);
                    assert.ok(row, `no ${dataClass} row`);
                    assert.equal(row.status, want.status, JSON.stringify(row));
                    if (want.found !== undefined) {
                        assert.equal(row.found, want.found, JSON.stringify(row));
                    }
                    if (want.evidence !== undefined) {
                        assert.ok(row.evidence.some((e) => new RegExp(want.evidence!).test(e.detail)), JSON.stringify(row.evidence));
                    }
                    if (want.scope !== undefined) {
                        assert.match(row.scope, new RegExp(want.scope));
                    }
                    for (const shortfall of [...(want.shortfall === undefined ? [] : [want.shortfall]), ...(want.shortfalls ?? [])]) {
                        assert.ok(row.shortfalls.some((s) => new RegExp(shortfall).test(s)), `no shortfall matches /${shortfall}/: ${JSON.stringify(row.shortfalls)}`);
                    }
                });
            }

            it("lists every .apply of the program whose callback did not run for an unknown value, and no other", () => {
                assert.deepEqual((plan.unknownApplies ?? []).map(describeUnknownApply), expected.unknownApplies ?? []);
                assert.deepEqual(check.unknownApplies.map(describeUnknownApply), expected.unknownApplies ?? []);
            });

            it("lists the database-like engines it does not judge", () => {
                assert.deepEqual(check.notJudged.map((n) => `${n.name} (${n.kind}): ${n.backups}`).map((line) => (expected.notJudged ?? []).find((want) => line.startsWith(want)) ?? line), expected.notJudged ?? []);
            });

            if (expected.violations || expected.noViolations) {
                it("reports the violations expected of it, and none of those it must not", () => {
                    const found = check.violations.map((v) => `${v.enforcementLevel} ${v.policy}: ${v.message}`);
                    for (const pattern of expected.violations ?? []) {
                        assert.ok(found.some((v) => new RegExp(pattern).test(v)), `no violation matches /${pattern}/:\n${found.join("\n")}`);
                    }
                    for (const pattern of expected.noViolations ?? []) {
                        assert.deepEqual(found.filter((v) => new RegExp(pattern).test(v)), [], `/${pattern}/`);
                    }
                });
            }

            for (const name of expected.flagged ?? []) {
                it(`flags ${name} with a mandatory violation`, () => {
                    assert.ok(violationsOf(check, name).length > 0, `no mandatory violation names ${name}: ${check.violations.map((v) => v.message).join("; ")}`);
                });
            }

            if (expected.preview) {
                const preview = expected.preview;
                it(`as a preview, exits ${preview.exit} and lists what it could not judge for unknown inputs`, async () => {
                    const [previewed] = await planProgram(dir, [expected.stack], { preview: true });
                    const [checked] = await checkPlans([previewed], { programDir: dir });
                    const mandatory = checked.violations.filter((v) => v.enforcementLevel === "mandatory").map((v) => `${v.policy}: ${v.message}`);
                    assert.equal(mandatoryCount([checked]) > 0 ? 1 : 0, preview.exit, mandatory.join("\n"));
                    const listed = checked.notJudgedInPreview.map((u) => `${u.name} (${shortType(u.type)}): ${u.inputs} unknown`);
                    assert.deepEqual(listed.map((line) => preview.notJudgedInPreview.find((want) => line.startsWith(want)) ?? line), preview.notJudgedInPreview);
                });
            }

            if (expected.exit !== undefined) {
                it(`exits ${expected.exit}`, () => {
                    const mandatory = check.violations.filter((v) => v.enforcementLevel === "mandatory").map((v) => `${v.policy}: ${v.message}`);
                    assert.equal(mandatoryCount([check]) > 0 ? 1 : 0, expected.exit, mandatory.join("\n"));
                });
            }
        });
    }

    it("plan --json with a secure key set on the command line prints no secret value, and marks each secret", () => {
        const dir = path.join(CORPUS, "orders-stackref");
        const password = "Correct-Horse-Battery-0rders";
        const { status, stdout, stderr } = cli("plan", ["--program", dir, "--json", "--config", `dbAdminPassword=${password}`]);
        assert.equal(status, 0, stderr);
        for (const text of [stdout, stderr]) {
            assert.ok(!text.includes(password), "the password is printed");
        }
        const plan = JSON.parse(stdout) as PlanResult;
        assert.equal(plan.config["orders:dbAdminPassword"], "[secret]");
        const instance = plan.resources.find((r) => r.type === "aws:rds/instance:Instance" && r.name === "orders");
        assert.ok(instance && isSecret(instance.inputs.password), "the password input is still marked secret");
        assert.deepEqual(instance.inputs.password, { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", value: "[secret]" });
    });

    it("an auto-named resource's name reaches the resources that read it, and closures serialize at plan time", async () => {
        const [plan] = await planProgram(path.join(CORPUS, "uploads-magic-lambda"), ["prod"]);
        const attachments = plan.resources.filter((r) => r.type === "aws:iam/rolePolicyAttachment:RolePolicyAttachment");
        assert.ok(attachments.length >= 2, `${attachments.length} attachments`);
        for (const attachment of attachments) {
            // aws.iam.Role named by the provider; CallbackFunction attaches policies to `role.name`.
            assert.match(String(attachment.inputs.role), /^(make-thumbnail|notify-moderation)$/, `${attachment.name}: role ${JSON.stringify(attachment.inputs.role)}`);
        }
        const permission = plan.resources.find((r) => r.type === "aws:lambda/permission:Permission" && r.name === "make-thumbnail");
        assert.equal(permission?.inputs.function, "make-thumbnail");
        const handler = plan.resources.find((r) => r.type === "aws:lambda/function:Function" && r.name === "make-thumbnail");
        assert.match(JSON.stringify(handler?.inputs.code), /with\(\{ maxWidth: 320/, "the handler's code, with the config value it captures");
    });

    it("plan runs the program in its own directory, and with --json prints the JSON alone on stdout (the program's lines on stderr)", () => {
        // Started from the repository's root: the program reads ./www relative to its own directory.
        const { status, stdout, stderr } = cli("plan", ["--program", path.join(CORPUS, "docs-site-sync"), "--json"]);
        assert.equal(status, 0, stderr);
        const plan = JSON.parse(stdout) as PlanResult;
        assert.deepEqual(plan.resources.filter((r) => r.type === "aws:s3/bucketObject:BucketObject").map((r) => r.name), ["404.html", "index.html", "site.css"]);
        assert.match(stderr, /^Syncing contents from local disk at www$/m);
        const text = cli("plan", ["--program", path.join(CORPUS, "docs-site-sync")]);
        assert.match(text.stdout, /^Syncing contents from local disk at www$/m, "without --json, the program's lines stay on stdout");
    });

    it("an output only the cloud computes, and the mocks do not model, is unknown, not a known undefined", async () => {
        const [plan] = await planProgram(path.join(CORPUS, "shop-alb-alias"), ["prod"]);
        const record = plan.resources.find((r) => r.type === "aws:route53/record:Record" && r.name === "shop");
        const [alias] = (record?.inputs.aliases ?? []) as Array<Record<string, unknown>>;
        // Without this, the alias would have lost its name and zone: an alias to nothing, silently.
        assert.deepEqual(alias, { name: UNKNOWN, zoneId: UNKNOWN, evaluateTargetHealth: true });
        assert.equal(plan.outputs.url, UNKNOWN);
        assert.match(String(plan.outputs.loadBalancerArn), /^arn:aws:/, "what the mocks model stays known");
    });

    it("a MySQL instance's computed endpoint and port are MySQL's (3306), not PostgreSQL's", async () => {
        const [plan] = await planProgram(path.join(CORPUS, "crm-async-mysql"), ["prod"]);
        assert.match(String(plan.outputs.endpoint), /\.rds\.amazonaws\.com:3306$/);
    });

    it("a secure key read with config.require is found where it goes, and its value is printed nowhere", async () => {
        const dir = path.join(CORPUS, "payroll-plain-secret");
        const password = "Payroll-Db-Pa55word-2026";
        const plan = cli("plan", ["--program", dir, "--json", "--config", `dbPassword=${password}`]);
        assert.equal(plan.status, 0, plan.stderr);
        const check = await runCli("check", ["--program", dir, "--config", `dbPassword=${password}`]);
        for (const text of [plan.stdout, plan.stderr, check.stdout, check.stderr]) {
            assert.ok(!text.includes(password), "the password is printed");
        }
        const result = JSON.parse(plan.stdout) as PlanResult;
        // The RDS SDK wraps `password` as a secret itself; the connection string the program builds is plain text.
        assert.deepEqual(result.exposedSecrets, [{ key: "payroll:dbPassword", where: "output connection" }]);
        const instance = result.resources.find((r) => r.type === "aws:rds/instance:Instance");
        assert.ok(instance && isSecret(instance.inputs.password));
        assert.match(String(result.outputs.connection), /^postgres:\/\/payroll:\[secret\]@/);
        assert.match(plan.stderr, /warning: stack prod: the secret config value payroll:dbPassword reaches output connection as plain text/);
        assert.match(check.stdout, /^Secret config passed on as plain text .*:\n {2}payroll:dbPassword -> output connection$/m);
    });

    it("a plugin-built component's output the mocks do not stand in for is unknown, not missing (awsx Image's imageUri)", async () => {
        const [plan] = await planProgram(path.join(CORPUS, "orders-awsx-image"), ["prod"]);
        const worker = plan.resources.find((r) => r.type === "aws:lambda/function:Function" && r.name === "orders-worker");
        assert.equal(worker?.inputs.imageUri, UNKNOWN);
        assert.equal(plan.outputs.imageUri, UNKNOWN);
        const attachment = plan.resources.find((r) => r.type === "aws:iam/rolePolicyAttachment:RolePolicyAttachment");
        assert.equal(attachment?.inputs.role, "orders-worker");
    });

    it("a secret around a value unknown offline plans and checks (exit 0), shown as secret and computed in text and JSON alike", async () => {
        const dir = path.join(CORPUS, "vault-secret-unknowns");
        const text = cli("plan", ["--program", dir]);
        assert.equal(text.status, 0, text.stderr);
        assert.doesNotMatch(text.stderr, /promises? (were|was) still active/);
        assert.match(text.stdout, /^ {8}password="\[secret\] \(computed\)"$/m);
        const json = await runCli("plan", ["--program", dir, "--json"]);
        assert.equal(json.status, 0, json.stderr);
        // One form for an unknown wherever a plan is printed: "(computed)", never the engine's sentinel.
        assert.ok(!json.stdout.includes(UNKNOWN), "the raw unknown sentinel is printed");
        const plan = JSON.parse(json.stdout) as PlanResult;
        const db = plan.resources.find((r) => r.type === "aws:rds/instance:Instance" && r.name === "vault");
        assert.deepEqual(db?.inputs.password, { [SECRET_SIG.key]: SECRET_SIG.value, value: UNKNOWN_TEXT });
        assert.deepEqual(plan.outputs.adminSecret, { [SECRET_SIG.key]: SECRET_SIG.value, value: UNKNOWN_TEXT });
        const preview = await runCli("plan", ["--program", dir, "--json", "--preview"]);
        assert.equal(preview.status, 0, preview.stderr);
        assert.ok(!preview.stdout.includes(UNKNOWN), "the raw unknown sentinel is printed in a preview");
        assert.equal((JSON.parse(preview.stdout) as PlanResult).outputs.endpoint, UNKNOWN_TEXT);
        const check = await runCli("check", ["--program", dir]);
        assert.equal(check.status, 0, check.stdout + check.stderr);
    });

    it("engines the table does not name: Redshift judged on the database row, DynamoDB and ElastiCache listed as not judged in every report format", async () => {
        const dir = path.join(CORPUS, "warehouse-redshift-glue");
        const text = await runCli("check", ["--program", dir]);
        assert.equal(text.status, 1, text.stderr);
        assert.match(text.stdout, /^ {2}Database \(Redshift\) \[database\] +30 days +1 day +MISSING/m);
        assert.match(text.stdout, /^Not judged \(database-like engines .*\):\n {2}etl-bookmarks \(DynamoDB table\): point-in-time recovery off\n {2}warehouse-cache \(ElastiCache replication group\)/m);
        const json = await runCli("check", ["--program", dir, "--json"]);
        const report = JSON.parse(json.stdout) as { notJudged: Array<{ name: string; kind: string }> };
        assert.deepEqual(report.notJudged.map((n) => `${n.name} ${n.kind}`), ["etl-bookmarks DynamoDB table", "warehouse-cache ElastiCache replication group"]);
        const markdown = await runCli("check", ["--program", dir, "--format", "markdown"]);
        assert.match(markdown.stdout, /^#### Not judged \(2\)$/m);
        assert.match(markdown.stdout, /^\| `prod` \| `etl-bookmarks` \| DynamoDB table \| point-in-time recovery off \|$/m);
        const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "corpus-html-")), "report.html");
        const html = await runCli("check", ["--program", dir, "--format", "html", "--out", out]);
        assert.equal(html.status, 1, html.stderr);
        assert.match(fs.readFileSync(out, "utf8"), /<section id="not-judged">.*<code>etl-bookmarks<\/code><\/td><td>DynamoDB table<\/td>/s);
        fs.rmSync(path.dirname(out), { recursive: true, force: true });
    });

    it("--preview says how many registrations wait on unknowns (made inside .apply), where, and on what: plan and check, text, JSON and Markdown", async () => {
        const dir = path.join(CORPUS, "tenants-apply-secrets");
        const expected = [
            { type: "aws:secretsmanager/secret:Secret", name: "tenant-acme", where: "index.ts:23:19", waitsOn: ["tenants"] },
            { type: "aws:secretsmanager/secret:Secret", name: "tenant-globex", where: "index.ts:23:19", waitsOn: ["tenants"] },
        ];
        const plan = await runCli("plan", ["--program", dir, "--preview", "--json"]);
        assert.equal(plan.status, 0, plan.stderr);
        const previewed = JSON.parse(plan.stdout) as PlanResult;
        assert.deepEqual(previewed.waitingOnUnknowns, expected);
        assert.ok(!previewed.resources.some((r) => r.name.startsWith("tenant-")), "as in pulumi preview, the secrets are not in the preview");
        const text = await runCli("plan", ["--program", dir, "--preview"]);
        assert.match(text.stdout, /^ {2}Waiting on unknowns: 2 registrations are made inside \.apply over values unknown in a preview; .*\n {4}aws:secretsmanager\/secret:Secret {2}tenant-acme \(index\.ts:23:19; waits on tenants\)$/m);
        // The preview's gate passes (the 0-day recovery window is in a secret it cannot see), and says why it may.
        const check = await runCli("check", ["--program", dir, "--preview"]);
        assert.equal(check.status, 0, check.stderr);
        assert.match(check.stdout, /^Waiting on unknowns: 2 registrations/m);
        const json = await runCli("check", ["--program", dir, "--preview", "--json"]);
        assert.deepEqual((JSON.parse(json.stdout) as { waitingOnUnknowns: unknown }).waitingOnUnknowns, expected);
        const markdown = await runCli("check", ["--program", dir, "--preview", "--format", "markdown"]);
        assert.match(markdown.stdout, /^\| `prod` \| tenant-acme \(Secret\) \| `index\.ts:23:19` \| tenants \|$/m);
        // Without --preview the secrets are planned and judged, and nothing waits.
        const full = await runCli("plan", ["--program", dir, "--json"]);
        assert.equal((JSON.parse(full.stdout) as PlanResult).waitingOnUnknowns, undefined);
    });

    it("--preview lists a CronJob whose script is unknown (no backup label) as not judged, in text, JSON, Markdown and HTML", async () => {
        const dir = path.join(CORPUS, "orders-export-interpolate");
        const text = await runCli("check", ["--program", dir, "--preview"]);
        assert.equal(text.status, 0, text.stderr);
        assert.match(text.stdout, /^Not judged in this preview: 1 resource .*\n {2}orders-export \(CronJob\): spec\.jobTemplate\.spec\.template\.spec\.containers\[0\]\.args unknown, so not known: whether it runs a backup tool .*\[k8s-backup-cronjob-schedule, /m);
        const json = JSON.parse((await runCli("check", ["--program", dir, "--preview", "--json"])).stdout) as { notJudgedInPreview?: Array<{ name: string; inputs: string; policies: string[] }> };
        assert.deepEqual(json.notJudgedInPreview?.map((u) => [u.name, u.inputs, u.policies.includes("k8s-backup-cronjob-schedule")]), [["orders-export", "spec.jobTemplate.spec.template.spec.containers[0].args", true]]);
        const markdown = await runCli("check", ["--program", dir, "--preview", "--format", "markdown"]);
        assert.match(markdown.stdout, /^#### Not judged in this preview \(1\)$/m);
        assert.match(markdown.stdout, /^\| `prod` \| orders-export \(CronJob\) \| spec\.jobTemplate\.spec\.template\.spec\.containers\[0\]\.args \(whether it runs/m);
        const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "unjudged-")), "report.html");
        const html = await runCli("check", ["--program", dir, "--preview", "--format", "html", "--out", out]);
        assert.equal(html.status, 0, html.stderr);
        assert.match(fs.readFileSync(out, "utf8"), /<section id="not-judged-in-preview">.*<code>orders-export<\/code> \(CronJob\)<\/td><td>spec\.jobTemplate\.spec\.template\.spec\.containers\[0\]\.args/s);
        fs.rmSync(path.dirname(out), { recursive: true, force: true });
        // Without --preview the script is known: it runs pg_dump weekly, and is judged.
        const full = await runCli("check", ["--program", dir, "--json"]);
        assert.equal(full.status, 1);
        assert.equal((JSON.parse(full.stdout) as { notJudgedInPreview?: unknown }).notJudgedInPreview, undefined);
    });

    it("a backup CronJob whose script is unknown in a preview (built from an endpoint) is not failed for a missing label", async () => {
        const { status, stdout, stderr } = await runCli("check", ["--program", path.join(CORPUS, "ledger-pgdump-nightly"), "--preview"]);
        assert.equal(status, 0, stdout + stderr);
        // Not a bare "0 mandatory": the summary says what it did not judge (listed below it).
        assert.match(stdout, /^Violations: 0 mandatory, 0 advisory; NOT JUDGED in this preview: 1 resource \(values unknown: listed below\)$/m);
    });

    it("a full plan says which .apply callbacks did not run (value unknown offline) and check lists them as not judged in text, JSON, Markdown and HTML; --strict-unknowns fails on them", async () => {
        const dir = path.join(CORPUS, "signing-random-names");
        const expected = [
            { where: "index.ts:25:15", waitsOn: ["signing-suffix"], count: 1 },
            { where: "index.ts:35:40", waitsOn: ["signing-suffix", "signing"], count: 1 },
        ];
        const plan = await runCli("plan", ["--program", dir, "--json"]);
        assert.equal(plan.status, 0, plan.stderr);
        assert.deepEqual((JSON.parse(plan.stdout) as PlanResult).unknownApplies, expected);
        const planText = await runCli("plan", ["--program", dir]);
        assert.match(planText.stdout, /^ {2}Not run \(values unknown offline\): 2 \.apply callbacks in the program did not run .*\n {4}index\.ts:25:15 \(waits on signing-suffix\)$/m);
        // A preview carries the full plan's: what those callbacks create is in neither plan.
        const preview = await runCli("plan", ["--program", dir, "--json", "--preview"]);
        assert.deepEqual((JSON.parse(preview.stdout) as PlanResult).unknownApplies, expected);
        // Advisory by default: the stack's verdict stands on what the plan holds, and says what it did not see.
        const text = await runCli("check", ["--program", dir]);
        assert.equal(text.status, 0, text.stdout + text.stderr);
        assert.match(text.stdout, /^Not judged: 2 \.apply callbacks in the program did not run, .* no policy judged it, .*\n {2}index\.ts:25:15 \(waits on signing-suffix\)\n {2}index\.ts:35:40 \(waits on signing-suffix, signing\)$/m);
        const json = await runCli("check", ["--program", dir, "--json"]);
        assert.deepEqual((JSON.parse(json.stdout) as { unknownApplies: unknown }).unknownApplies, expected);
        const markdown = await runCli("check", ["--program", dir, "--format", "markdown"]);
        // No green tick for a stack judged only on part of what it creates.
        assert.match(markdown.stdout, /^### ⚠️ signing: retention matrix/m);
        assert.match(markdown.stdout, /^\| `prod` \| unknown \| ⚠️ 0 mandatory, .*; 2 \.apply callbacks did not run \(what they create not judged\) \|$/m);
        assert.match(markdown.stdout, /^#### Not judged: `\.apply` callbacks that did not run \(2\)$/m);
        assert.match(markdown.stdout, /^\| `prod` \| `index\.ts:25:15` \| signing-suffix \| 1 \|$/m);
        const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "unknown-applies-")), "report.html");
        const html = await runCli("check", ["--program", dir, "--format", "html", "--out", out]);
        assert.equal(html.status, 0, html.stderr);
        assert.match(fs.readFileSync(out, "utf8"), /<section id="unknown-applies">.*<td><code>index\.ts:35:40<\/code><\/td><td>signing-suffix, signing<\/td><td>1<\/td>/s);
        fs.rmSync(path.dirname(out), { recursive: true, force: true });
        const strict = await runCli("check", ["--program", dir, "--strict-unknowns"]);
        assert.equal(strict.status, 1, strict.stdout + strict.stderr);
        assert.match(strict.stderr, /--strict-unknowns: 2 items were not judged because a value was unknown/);
        const strictMarkdown = await runCli("check", ["--program", dir, "--strict-unknowns", "--format", "markdown"]);
        assert.equal(strictMarkdown.status, 1, strictMarkdown.stderr);
    });

    it("--preview lists each .apply that did not run at its own call and with the resources of its own Output, the apply inside a pulumi.all apart from the apply over it", async () => {
        // jobs-worker-hosts: `pulumi.all([db.endpoint.apply(f), broker.cacheNodes[0].address])` (line 23) then
        // `hosts.apply(g)` (line 24). The endpoint is known offline, so f runs and is not listed; g waits on the
        // broker's node list and is listed at line 24's own `apply`, with both resources its Output comes from.
        // Lines 40 and 43: the inner apply (over the node list, unknown) is not run either, and is listed apart.
        const dir = path.join(CORPUS, "jobs-worker-hosts");
        const expected = [
            { where: "index.ts:24:19", waitsOn: ["jobs-queue", "jobs-broker"], count: 1 },
            { where: "index.ts:36:31", waitsOn: ["jobs-queue", "jobs-broker"], count: 1 },
            { where: "index.ts:40:47", waitsOn: ["jobs-broker"], count: 1 },
            { where: "index.ts:43:20", waitsOn: ["jobs-broker", "jobs-queue"], count: 1 },
        ];
        const preview = await runCli("plan", ["--program", dir, "--json", "--preview"]);
        assert.equal(preview.status, 0, preview.stderr);
        assert.deepEqual((JSON.parse(preview.stdout) as PlanResult).unknownApplies, expected);
        const check = await runCli("check", ["--program", dir, "--json", "--preview"]);
        assert.equal(check.status, 0, check.stderr);
        assert.deepEqual((JSON.parse(check.stdout) as { unknownApplies: unknown }).unknownApplies, expected);
    });

    it("--preview lists a retention row the coverage policy could not decide (a stack policy) as not judged, in text, JSON, Markdown and HTML", async () => {
        const dir = path.join(CORPUS, "orders-retention-param");
        const text = await runCli("check", ["--program", dir, "--preview"]);
        assert.equal(text.status, 0, text.stderr);
        assert.match(text.stdout, /^ {2}Database \(PostgreSQL\) \[database\] +30 days +unknown until the update +UNKNOWN/m);
        assert.match(text.stdout, /^Not judged in this preview: 1 resource and 1 retention table row .*\n.*\n {2}Database \(PostgreSQL\) \[database\] \(retention table row\): a retention value of a resource that implements it unknown, so not known: whether the stack keeps it 30 days \[retention-table-coverage\]$/m);
        const json = JSON.parse((await runCli("check", ["--program", dir, "--preview", "--json"])).stdout) as { notJudgedInPreview?: Array<{ name: string; type: string; urn?: string; policies: string[] }> };
        assert.deepEqual(json.notJudgedInPreview?.map((u) => [u.name, u.type, u.urn === undefined, u.policies]), [
            ["orders", "aws:rds/instance:Instance", false, ["rds-backup-retention"]],
            ["Database (PostgreSQL) [database]", "retention table row", true, ["retention-table-coverage"]],
        ]);
        const markdown = await runCli("check", ["--program", dir, "--preview", "--format", "markdown"]);
        assert.match(markdown.stdout, /^\| `prod` \| Database \(PostgreSQL\) \[database\] \(retention table row\) \| a retention value/m);
        const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "unjudged-row-")), "report.html");
        const html = await runCli("check", ["--program", dir, "--preview", "--format", "html", "--out", out]);
        assert.equal(html.status, 0, html.stderr);
        assert.match(fs.readFileSync(out, "utf8"), /<section id="not-judged-in-preview">.*<code>Database \(PostgreSQL\) \[database\]<\/code> \(retention table row\)/s);
        fs.rmSync(path.dirname(out), { recursive: true, force: true });
        assert.equal((await runCli("check", ["--program", dir, "--preview", "--strict-unknowns"])).status, 1);
        // In full, the parameter's value is known: the row is met and nothing is left unjudged.
        const full = JSON.parse((await runCli("check", ["--program", dir, "--json"])).stdout) as { notJudgedInPreview?: unknown };
        assert.equal(full.notJudgedInPreview, undefined);
    });

    it("the check CLI turns a mandatory violation into exit 1 and lists the lookups in its report", () => {
        const { status, stdout, stderr } = cli("check", ["--program", path.join(CORPUS, "crm-async-mysql")]);
        assert.equal(status, 1, stderr);
        assert.match(stdout, /crm-mysql: backupRetentionPeriod is 1 day/);
        assert.match(stdout, /^Lookups answered offline:\n {2}aws\.getAvailabilityZones: assumed/m);
    });
});
