/**
 * The GitHub Actions workflows: each file parses as YAML and passes action-validator (the SchemaStore
 * workflow schema, @action-validator/core), and says what the pipeline promises: offline checks and
 * `pulumi preview --policy-pack` on pull requests, `pulumi up` of prod then dr behind environments on main,
 * nightly drift detection, cloud credentials through OIDC only, actions pinned to a version.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { parseDocument } from "yaml";
import { validateWorkflow, ValidationError } from "@action-validator/core";
import { loadStackSettings } from "offline-plan/stack-settings";

const ROOT = path.resolve(__dirname, "..");
const WORKFLOWS = path.join(ROOT, ".github", "workflows");

interface Step {
    name?: string;
    uses?: string;
    run?: string;
    with?: Record<string, unknown>;
    env?: Record<string, unknown>;
    if?: string;
}
interface Job {
    "runs-on"?: string;
    needs?: string | string[];
    environment?: string | { name: string };
    permissions?: Record<string, string>;
    strategy?: { matrix?: Record<string, unknown> };
    steps: Step[];
}
interface Workflow {
    name: string;
    on: Record<string, unknown>;
    permissions?: Record<string, string>;
    jobs: Record<string, Job>;
}

function describeErrors(errors: ValidationError[]): string {
    return errors.map((e) => `${"path" in e ? e.path : ""} ${e.title}${e.detail ? `: ${e.detail}` : ""}`).join("\n");
}

function load(file: string): Workflow {
    const doc = parseDocument(fs.readFileSync(path.join(WORKFLOWS, file), "utf8"));
    assert.deepStrictEqual(doc.errors.map((e) => e.message), [], `${file}: YAML errors`);
    return doc.toJS() as Workflow;
}

function allSteps(wf: Workflow): Step[] {
    return Object.values(wf.jobs).flatMap((j) => j.steps);
}

function stepsUsing(job: Job, action: string): Step[] {
    return job.steps.filter((s) => s.uses?.split("@")[0] === action);
}

function needsOf(job: Job): string[] {
    return job.needs === undefined ? [] : Array.isArray(job.needs) ? job.needs : [job.needs];
}

const files = fs.readdirSync(WORKFLOWS).filter((f) => /\.ya?ml$/.test(f)).sort();

describe("GitHub workflows", () => {
    it("are the pull-request, main and drift workflows", () => {
        assert.deepStrictEqual(files, ["drift.yml", "main.yml", "pull-request.yml"]);
    });

    for (const file of files) {
        it(`${file} parses and passes action-validator with no errors`, () => {
            const source = fs.readFileSync(path.join(WORKFLOWS, file), "utf8");
            load(file);
            const state = validateWorkflow(source);
            assert.strictEqual(state.actionType, "workflow");
            assert.deepStrictEqual(state.errors, [], `${file}:\n${describeErrors(state.errors)}`);
        });
    }

    it("action-validator rejects broken workflows (so the check above can fail)", () => {
        const valid = "on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n      - run: npm test\n";
        assert.deepStrictEqual(validateWorkflow(valid).errors, []);
        const broken = {
            "steps not a list, no runs-on": "on: push\njobs:\n  build:\n    steps: npm test\n",
            "unknown trigger": "on: pull_requests\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n      - run: npm test\n",
            "unknown permission scope": "on: push\npermissions:\n  id-tokens: write\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n      - run: npm test\n",
            "YAML syntax": "on: [push\njobs: {}\n",
        };
        for (const [what, source] of Object.entries(broken)) {
            assert.ok(validateWorkflow(source).errors.length > 0, `accepted a workflow with ${what}`);
        }
        // A real workflow with one key misspelled.
        const pr = fs.readFileSync(path.join(WORKFLOWS, "pull-request.yml"), "utf8");
        const misspelled = pr.replace("runs-on: ubuntu-latest", "run-on: ubuntu-latest");
        assert.notStrictEqual(misspelled, pr);
        assert.ok(validateWorkflow(misspelled).errors.length > 0, "accepted pull-request.yml with run-on");
    });

    it("pin every action to a version (major tag or commit), and use the official Pulumi action", () => {
        for (const file of files) {
            for (const step of allSteps(load(file))) {
                if (step.uses) {
                    assert.match(step.uses, /^[\w.-]+\/[\w./-]+@(v\d+(\.\d+){0,2}|[0-9a-f]{40})$/, `${file}: ${step.uses}`);
                }
            }
        }
        const pulumiSteps = files.flatMap((f) => allSteps(load(f))).filter((s) => s.uses?.startsWith("pulumi/actions@"));
        assert.strictEqual(pulumiSteps.length, 4, "preview (PR), up prod, up dr, drift");
    });

    it("get cloud credentials through OIDC only: id-token: write where AWS is assumed, no access keys anywhere", () => {
        for (const file of files) {
            const source = fs.readFileSync(path.join(WORKFLOWS, file), "utf8");
            assert.doesNotMatch(source, /aws-access-key-id|aws-secret-access-key|AWS_SECRET_ACCESS_KEY|AWS_ACCESS_KEY_ID|PULUMI_CONFIG_PASSPHRASE/, file);
            const wf = load(file);
            // Least privilege by default: the workflow grants read, jobs widen.
            assert.deepStrictEqual(wf.permissions, { contents: "read" }, `${file}: workflow permissions`);
            for (const [name, job] of Object.entries(wf.jobs)) {
                const aws = stepsUsing(job, "aws-actions/configure-aws-credentials");
                const pulumi = stepsUsing(job, "pulumi/actions");
                if (pulumi.length > 0) {
                    assert.strictEqual(aws.length, 1, `${file}/${name}: Pulumi runs with OIDC AWS credentials`);
                }
                for (const step of aws) {
                    assert.strictEqual(job.permissions?.["id-token"], "write", `${file}/${name}: id-token: write`);
                    assert.match(String(step.with?.["role-to-assume"]), /^\$\{\{ vars\.AWS_\w+_ROLE_ARN \}\}$/, `${file}/${name}: role-to-assume`);
                    assert.ok(step.with?.["aws-region"], `${file}/${name}: aws-region`);
                }
                // The Pulumi steps log in to the shared backend; secrets are decrypted by awskms (stack files).
                for (const step of pulumi) {
                    assert.strictEqual(step.with?.["cloud-url"], "${{ vars.PULUMI_BACKEND_URL }}", `${file}/${name}: cloud-url`);
                    assert.ok(job.steps.indexOf(aws[0]) < job.steps.indexOf(step), `${file}/${name}: credentials before Pulumi`);
                }
            }
        }
    });

    it("pull requests: .ci/run (npm ci, lint, npm test), npm run check of every stack commented, then preview of prod and dr with the policy pack", () => {
        const wf = load("pull-request.yml");
        assert.ok("pull_request" in wf.on);
        const offline = wf.jobs.offline;
        const runs = offline.steps.map((s) => s.run ?? "").join("\n");
        assert.match(runs, /bash \.ci\/run/);
        assert.match(runs, /npm run -s check -- --format markdown/);
        assert.match(runs, /--format html --out report\.html/);
        assert.ok(offline.steps.some((s) => s.uses?.startsWith("actions/github-script@") && String(s.with?.script).includes("createComment")), "matrix posted as a PR comment");
        assert.strictEqual(offline.permissions?.["pull-requests"], "write");

        const preview = wf.jobs.preview;
        assert.deepStrictEqual(needsOf(preview), ["offline"]);
        assert.deepStrictEqual(preview.strategy?.matrix?.stack, ["prod", "dr"]);
        const [step] = stepsUsing(preview, "pulumi/actions");
        assert.strictEqual(step.with?.command, "preview");
        assert.strictEqual(step.with?.["stack-name"], "${{ matrix.stack }}");
        assert.strictEqual(step.with?.policyPacks, "policy");
        assert.strictEqual(step.with?.["comment-on-pr"], true);
        assert.strictEqual(preview.permissions?.["pull-requests"], "write");
    });

    it(".ci/run sets the machine up (.ci/setup: shellcheck, chromium, ... with apt), then runs npm ci, npm run lint and npm test in that order", () => {
        const ci = fs.readFileSync(path.join(ROOT, ".ci", "run"), "utf8");
        const setup = fs.readFileSync(path.join(ROOT, ".ci", "setup"), "utf8");
        assert.match(setup, /missing\+=\(shellcheck\)/);
        assert.match(setup, /missing\+=\(chromium\)/);
        assert.match(setup, /apt-get update/);
        const order = ["bash .ci/setup", "npm ci", "npm run lint", "npm test"].map((c) => ci.indexOf(`\n${c}`));
        assert.ok(order.every((i) => i > 0), `.ci/run runs ${order}`);
        assert.deepStrictEqual([...order].sort((a, b) => a - b), order);
        const scripts = (JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts;
        for (const tool of ["eslint .", "npm run --silent typecheck", "shellcheck"]) {
            assert.ok(scripts.lint.includes(tool), `npm run lint runs ${tool}`);
        }
    });

    it("main: up prod, then dr (needs), each behind its GitHub environment, never two at once", () => {
        const wf = load("main.yml");
        assert.deepStrictEqual((wf.on.push as { branches: string[] }).branches, ["main"]);
        const jobs = Object.entries(wf.jobs).filter(([, j]) => stepsUsing(j, "pulumi/actions").length > 0);
        const byStack = new Map(jobs.map(([name, j]) => [stepsUsing(j, "pulumi/actions")[0].with?.["stack-name"], { name, job: j }]));
        assert.deepStrictEqual([...byStack.keys()].sort(), ["dr", "prod"]);
        const prod = byStack.get("prod")!;
        const dr = byStack.get("dr")!;
        assert.ok(needsOf(dr.job).includes(prod.name), "dr waits for prod");
        assert.ok(needsOf(prod.job).includes("verify"), "prod waits for the offline gate");
        for (const { job } of [prod, dr]) {
            const step = stepsUsing(job, "pulumi/actions")[0];
            assert.strictEqual(step.with?.command, "up");
            assert.strictEqual(step.with?.policyPacks, "policy");
            const env = typeof job.environment === "string" ? job.environment : job.environment?.name;
            assert.strictEqual(env, step.with?.["stack-name"], "environment named after the stack");
        }
        const concurrency = (wf as unknown as { concurrency: { "cancel-in-progress": boolean } }).concurrency;
        assert.strictEqual(concurrency["cancel-in-progress"], false);
        assert.match(wf.jobs.verify.steps.map((s) => s.run ?? "").join("\n"), /bash \.ci\/run/);
    });

    it("drift: nightly preview --refresh --expect-no-changes of prod and dr", () => {
        const wf = load("drift.yml");
        const schedule = wf.on.schedule as { cron: string }[];
        assert.strictEqual(schedule.length, 1);
        const fields = schedule[0].cron.split(/\s+/);
        assert.strictEqual(fields.length, 5);
        assert.deepStrictEqual(fields.slice(2), ["*", "*", "*"], "every day");
        const job = wf.jobs.drift;
        const stacks = (job.strategy?.matrix?.include as { stack: string }[]).map((i) => i.stack);
        assert.deepStrictEqual(stacks, ["prod", "dr"]);
        const step = stepsUsing(job, "pulumi/actions")[0];
        assert.strictEqual(step.with?.command, "preview");
        assert.strictEqual(step.with?.["expect-no-changes"], true);
        assert.strictEqual(step.with?.refresh, true);
    });

    it("the deployed stacks encrypt their secrets with KMS (awskms://, each in its own region), which the offline plan ignores", () => {
        for (const [stack, region] of [["prod", "us-east-1"], ["dr", "us-west-2"]]) {
            const file = path.join(ROOT, `Pulumi.${stack}.yaml`);
            const doc = parseDocument(fs.readFileSync(file, "utf8")).toJS() as { secretsprovider?: string; config: Record<string, unknown> };
            assert.strictEqual(doc.secretsprovider, `awskms://alias/oauth2-dr-pulumi?region=${region}`, file);
            const settings = loadStackSettings(ROOT, stack);
            assert.ok(!Object.keys(settings.config).some((k) => k.includes("secretsprovider")));
            assert.strictEqual(settings.config["aws:region"], region);
        }
    });

    it("run only npm scripts that exist", () => {
        const scripts = (JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts;
        for (const file of files) {
            for (const step of allSteps(load(file))) {
                for (const m of (step.run ?? "").matchAll(/npm run (?:-s )?([\w:-]+)/g)) {
                    assert.ok(scripts[m[1]], `${file}: npm run ${m[1]} is not a script`);
                }
            }
        }
    });
});
