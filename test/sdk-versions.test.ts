/**
 * A program without its own node_modules is planned with this repository's @pulumi/* packages: each one it
 * imports is compared with what its package.json / package-lock.json declares (packages/offline-plan/src/
 * sdk-versions.ts). Another major version fails the plan (exit 2) unless OFFLINE_PLAN_SDK_MISMATCH=warn; a
 * version outside the range within the same major, or a spec that is no version range, is a notice on stderr
 * and in the check's header (text and JSON); a matching range says nothing. The fixtures are in
 * test/fixtures/programs (their exit codes are also asserted by test/programs.test.ts).
 */
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { TS_REGISTER } from "offline-plan/runner";
import { compareDeclared } from "offline-plan/sdk-versions";
import { PLAN_CLI, REPO } from "./support/plans";

const CORPUS = path.join(REPO, "test", "fixtures", "programs");
const AWS = (JSON.parse(fs.readFileSync(require.resolve("@pulumi/aws/package.json"), "utf8")) as { version: string }).version;

function cli(tool: "plan" | "check", program: string, args: string[] = [], env: Record<string, string> = {}) {
    const dir = path.join(CORPUS, program);
    const argv = tool === "plan" ? [PLAN_CLI, "--program", dir, ...args] : ["--require", TS_REGISTER, path.join(REPO, "tools", "check", "check.ts"), "--program", dir, ...args];
    const environment: NodeJS.ProcessEnv = { ...process.env, ...env };
    if (!("OFFLINE_PLAN_SDK_MISMATCH" in env)) {
        delete environment.OFFLINE_PLAN_SDK_MISMATCH;
    }
    const child = spawnSync(process.execPath, argv, { cwd: REPO, encoding: "utf8", maxBuffer: 64 * 1024 * 1024, env: environment, timeout: 120000, killSignal: "SIGKILL" });
    return { status: child.status, stdout: child.stdout, stderr: child.stderr };
}

interface Notice {
    package: string;
    declared: string;
    used: string;
    severity: string;
    message: string;
}

describe("a program planned with this tool's @pulumi packages, against the versions it declares", function () {
    this.timeout(180000);

    it("another major version (@pulumi/aws ^6.0.0, planned with 7.x) fails the check and the plan, naming the opt-out", () => {
        for (const tool of ["check", "plan"] as const) {
            const { status, stdout, stderr } = cli(tool, "queues-aws-6-pin");
            assert.equal(status, 2, `${tool}: ${stderr}`);
            assert.equal(stdout.trim(), "");
            assert.match(stderr, new RegExp(`^@pulumi/aws: the program declares "\\^6\\.0\\.0" \\(package\\.json devDependencies\\), and it was planned with this tool's @pulumi/aws ${AWS.replace(/\./g, "\\.")}, another major version`, "m"), stderr);
            assert.match(stderr, /run `npm install` in \S+queues-aws-6-pin so that it is planned with its own packages/);
            assert.match(stderr, /OFFLINE_PLAN_SDK_MISMATCH=warn plans it anyway/);
        }
    });

    it("with OFFLINE_PLAN_SDK_MISMATCH=warn it is planned, the mismatch on stderr, first in the text report and in the JSON", () => {
        const json = cli("check", "queues-aws-6-pin", ["--json"], { OFFLINE_PLAN_SDK_MISMATCH: "warn" });
        assert.equal(json.status, 0, json.stderr);
        assert.match(json.stderr, /^notice: @pulumi\/aws: the program declares "\^6\.0\.0" .*another major version.*\(planned anyway: OFFLINE_PLAN_SDK_MISMATCH=warn\)$/m);
        const check = JSON.parse(json.stdout) as { sdkVersions?: Notice[] };
        assert.deepEqual(
            check.sdkVersions?.map(({ package: pkg, declared, used, severity }) => ({ pkg, declared, used, severity })),
            [{ pkg: "@pulumi/aws", declared: '"^6.0.0" (package.json devDependencies)', used: AWS, severity: "other-major" }],
        );
        const text = cli("check", "queues-aws-6-pin", [], { OFFLINE_PLAN_SDK_MISMATCH: "warn" });
        assert.equal(text.status, 0, text.stderr);
        const [first, second] = text.stdout.split("\n");
        assert.match(first, /^Stack queues\/dev /);
        assert.match(second, /^ {2}WARNING: @pulumi\/aws: the program declares "\^6\.0\.0" .*another major version/);
    });

    it("a program that fails after another major version was let through names that version with its failure", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sdk-versions-fails-"));
        try {
            fs.writeFileSync(path.join(dir, "Pulumi.yaml"), "name: fails\nruntime: nodejs\nmain: index.js\n");
            fs.writeFileSync(path.join(dir, "Pulumi.dev.yaml"), "config: {}\n");
            fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: "fails", dependencies: { "@pulumi/aws": "^6.0.0" } }));
            // A v6 property v7 no longer knows would fail like this: the program's own error, at its own line.
            fs.writeFileSync(path.join(dir, "index.js"), 'require("@pulumi/aws");\nthrow new Error("Missing required property \'location\'");\n');
            const run = spawnSync(process.execPath, [PLAN_CLI, "--program", dir], { cwd: REPO, encoding: "utf8", env: { ...process.env, OFFLINE_PLAN_SDK_MISMATCH: "warn" }, timeout: 120000, killSignal: "SIGKILL" });
            assert.equal(run.status, 2, run.stderr);
            assert.match(run.stderr, /^index\.js:2:7: Missing required property 'location'$/m);
            assert.match(run.stderr, /^notice: @pulumi\/aws: the program declares "\^6\.0\.0" \(package\.json dependencies\), .*another major version.*\(planned anyway: OFFLINE_PLAN_SDK_MISMATCH=warn\)$/m);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("reads OFFLINE_PLAN_SDK_MISMATCH at each plan: one process plans the same program under error, warn, then error again", () => {
        const mockRuntime = path.join(REPO, "packages", "offline-plan", "src", "mock-runtime.ts");
        const dir = path.join(CORPUS, "queues-aws-6-pin");
        const script = [
            `const { runBatch } = require(${JSON.stringify(mockRuntime)});`,
            "process.on('unhandledRejection', () => undefined);",
            "(async () => {",
            "    const seen = [];",
            "    for (const mode of ['error', 'warn', 'error']) {",
            "        process.env.OFFLINE_PLAN_SDK_MISMATCH = mode;",
            `        const outcome = await runBatch({ programDir: ${JSON.stringify(dir)}, stacks: ["dev"], inDependencyOrder: true, preview: false });`,
            "        seen.push(outcome.ok ? 'planned: ' + outcome.results.map((r) => (r.sdkVersions || []).map((n) => n.severity).join()).join() : 'failed: ' + /another major version/.test(outcome.error));",
            "    }",
            "    process.stdout.write(JSON.stringify(seen));",
            "    process.exit(0);",
            "})();",
        ].join("\n");
        const child = spawnSync(process.execPath, ["--require", TS_REGISTER, "-e", script], { cwd: dir, encoding: "utf8", timeout: 120000, killSignal: "SIGKILL" });
        assert.equal(child.status, 0, child.stderr);
        assert.deepEqual(JSON.parse(child.stdout), ["failed: true", "planned: other-major", "failed: true"]);
    });

    it("refuses another value of OFFLINE_PLAN_SDK_MISMATCH, naming it, whether or not a version differs", () => {
        for (const program of ["queues-aws-6-pin", "alerts-aws-7-range"]) {
            const { status, stderr } = cli("check", program, [], { OFFLINE_PLAN_SDK_MISMATCH: "ignore" });
            assert.equal(status, 2, `${program}: ${stderr}`);
            assert.match(stderr, /OFFLINE_PLAN_SDK_MISMATCH must be "warn" .* or "error" \(the default\), not "ignore"/, program);
        }
    });

    it("a range our versions satisfy (aws ^7.0.0, pulumi >=3.100.0 <4): nothing said; the same program declaring ~7.0.0 gets a notice", () => {
        const { status, stdout, stderr } = cli("check", "alerts-aws-7-range", ["--json"]);
        assert.equal(status, 0, stderr);
        assert.doesNotMatch(stderr, /notice|@pulumi\//, stderr);
        assert.equal((JSON.parse(stdout) as { sdkVersions?: unknown }).sdkVersions, undefined);
        const plan = cli("plan", "alerts-aws-7-range");
        assert.equal(plan.status, 0, plan.stderr);
        assert.equal(plan.stderr, "");
        // A copy outside this repository (found through NODE_PATH, not a node_modules above it), its range narrowed.
        const copy = fs.mkdtempSync(path.join(os.tmpdir(), "sdk-versions-"));
        try {
            fs.cpSync(path.join(CORPUS, "alerts-aws-7-range"), copy, { recursive: true });
            const manifest = path.join(copy, "package.json");
            fs.writeFileSync(manifest, fs.readFileSync(manifest, "utf8").replace('"^7.0.0"', '"~7.0.0"'));
            const narrowed = spawnSync(process.execPath, [PLAN_CLI, "--program", copy, "--json"], { cwd: REPO, encoding: "utf8", env: { ...process.env, OFFLINE_PLAN_SDK_MISMATCH: "" }, timeout: 120000, killSignal: "SIGKILL" });
            assert.equal(narrowed.status, 0, narrowed.stderr);
            assert.equal(narrowed.stderr, `notice: @pulumi/aws: the program declares "~7.0.0" (package.json dependencies), and it was planned with this tool's @pulumi/aws ${AWS}, outside it (the same major version; the program has no @pulumi/aws installed): run \`npm install\` in ${copy} so that it is planned with its own packages, or align what it declares with @pulumi/aws ${AWS}\n`);
            assert.deepEqual((JSON.parse(narrowed.stdout) as { sdkVersions?: Notice[] }).sdkVersions?.map((n) => n.package), ["@pulumi/aws"], "only the package outside its range");
            // Through a symlink to it: Node names the program's modules by their real path.
            const link = `${copy}-link`;
            fs.symlinkSync(copy, link);
            try {
                const linked = spawnSync(process.execPath, [PLAN_CLI, "--program", link], { cwd: REPO, encoding: "utf8", env: { ...process.env, OFFLINE_PLAN_SDK_MISMATCH: "" }, timeout: 120000, killSignal: "SIGKILL" });
                assert.equal(linked.status, 0, linked.stderr);
                assert.match(linked.stderr, /^notice: @pulumi\/aws: the program declares "~7\.0\.0" /);
            } finally {
                fs.rmSync(link, { force: true });
            }
        } finally {
            fs.rmSync(copy, { recursive: true, force: true });
        }
    });

    it("a package-lock.json alone (aws 7.20.0 locked): a notice, in the plan's stderr and the check's header, the plan kept", () => {
        const check = cli("check", "mailer-aws-lockfile-only");
        assert.equal(check.status, 0, check.stderr);
        const line = `@pulumi/aws: the program declares 7.20.0 (package-lock.json), and it was planned with this tool's @pulumi/aws ${AWS}, outside it (the same major version`;
        assert.ok(check.stderr.split("\n").filter((l) => l.startsWith(`notice: ${line}`)).length === 1, check.stderr);
        assert.ok(check.stdout.split("\n")[1].startsWith(`  Notice: ${line}`), check.stdout.split("\n").slice(0, 3).join("\n"));
        assert.match(check.stdout.split("\n")[1], new RegExp(`or align what it declares with @pulumi/aws ${AWS.replace(/\./g, "\\.")}$`));
        const plan = cli("plan", "mailer-aws-lockfile-only", ["--json"]);
        assert.equal(plan.status, 0, plan.stderr);
        assert.ok(plan.stderr.startsWith(`notice: ${line}`), plan.stderr);
        const planned = JSON.parse(plan.stdout) as { sdkVersions?: Notice[]; resources: unknown[] };
        assert.equal(planned.resources.length, 1);
        assert.deepEqual(planned.sdkVersions?.map((n) => n.severity), ["outside-range"]);
    });

    it("a file: and a git spec: said to be not comparable, nothing guessed", () => {
        const { status, stdout, stderr } = cli("check", "tokens-aws-file-spec", ["--json"]);
        assert.equal(status, 0, stderr);
        const notices = (JSON.parse(stdout) as { sdkVersions?: Notice[] }).sdkVersions ?? [];
        assert.deepEqual(
            notices.map((n) => [n.package, n.declared, n.severity]),
            [
                ["@pulumi/aws", '"file:../../vendor/pulumi-aws" (package.json dependencies)', "not-comparable"],
                ["@pulumi/random", '"github:pulumi/pulumi-random#v4.16.0" (package.json dependencies)', "not-comparable"],
            ],
        );
        for (const n of notices) {
            assert.match(n.message, /not a version range, which cannot be compared with the @pulumi\/\w+ \d+\.\d+\.\d+ it was planned with/);
            assert.doesNotMatch(n.message, /align|another major|outside it/);
            assert.ok(stderr.includes(`notice: ${n.message}\n`), stderr);
        }
    });

    describe("compareDeclared", () => {
        const dir = "/tmp/program";
        const severity = (spec: string | undefined, used: string, locked?: string) =>
            compareDeclared("@pulumi/aws", { ...(spec === undefined ? {} : { spec, field: "dependencies" }), ...(locked ? { locked } : {}) }, used, dir)?.severity ?? "match";
        it("says nothing within the range, or with nothing declared", () => {
            assert.equal(severity("^7.0.0", "7.48.0"), "match");
            assert.equal(severity(">=6 <8", "7.48.0"), "match");
            assert.equal(severity("*", "7.48.0"), "match");
            assert.equal(severity("^7.0.0", "7.48.0", "7.48.0"), "match");
            assert.equal(severity(undefined, "7.48.0"), "match");
        });
        it("a minor or patch difference is a notice; another major version is flagged as such", () => {
            assert.equal(severity("~7.20.0", "7.48.0"), "outside-range");
            assert.equal(severity("7.47.1", "7.48.0"), "outside-range");
            assert.equal(severity("^7.0.0", "7.48.0", "7.40.0"), "outside-range");
            assert.equal(severity("^6.0.0", "7.48.0"), "other-major");
            assert.equal(severity("2.92.3", "3.28.0"), "other-major");
            assert.equal(severity(undefined, "7.48.0", "6.83.0"), "other-major");
            assert.equal(severity(">=6.0.0 <7 || ^8", "7.48.0"), "other-major");
        });
        it("a spec that is no version range cannot be compared", () => {
            for (const spec of ["file:../aws", "workspace:*", "git+https://github.com/pulumi/pulumi-aws.git", "latest", "npm:@acme/aws@^6"]) {
                assert.equal(severity(spec, "7.48.0", "6.0.0"), "not-comparable", spec);
            }
        });
    });
});
