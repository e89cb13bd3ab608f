/**
 * `npm run check` end to end: the compliant stacks exit 0, another team's program outside the repository
 * (7-day RDS backups, an unversioned backup bucket, no node_modules of its own) exits 1.
 */
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { REPO_ROOT } from "../../tools/check/core";
import { parseArgs } from "../../tools/check/check";
import { TS_REGISTER } from "offline-plan/runner";
import { runCli } from "../support/cli";

/** As `npm run check` runs it, a process of its own; the other tests run its main in this process (support/cli.ts). */
function check(args: string[]) {
    const child = spawnSync(process.execPath, ["--require", TS_REGISTER, path.join(REPO_ROOT, "tools", "check", "check.ts"), ...args], { cwd: REPO_ROOT, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
    return { status: child.status, stdout: child.stdout, stderr: child.stderr };
}

describe("npm run check", function () {
    this.timeout(180000);

    it("parses its flags", () => {
        const args = parseArgs(["--stack", "prod", "--stack=dr", "--json", "--preview", "--stack-tag", "environment=production"]);
        assert.deepEqual(args.stacks, ["prod", "dr"]);
        assert.equal(args.json, true);
        assert.equal(args.preview, true);
        assert.deepEqual(args.stackTags, { environment: "production" });
        assert.throws(() => parseArgs(["--bogus"]), /unknown argument --bogus/);
        assert.throws(() => parseArgs(["--stack"]), /--stack needs a value/);
    });

    for (const stack of ["prod", "dr"]) {
        it(`--stack ${stack} exits 0 and shows every retention row met with the resources that prove it`, async () => {
            // prod as the command (its exit status), dr in this process.
            const { status, stdout, stderr } = stack === "prod" ? check(["--stack", stack]) : await runCli("check", ["--stack", stack]);
            assert.equal(status, 0, stderr + stdout);
            for (const dataType of ["Database (PostgreSQL)", "Client configurations", "Secrets/Keys", "Audit logs", "Application configs"]) {
                assert.match(stdout, new RegExp(`${dataType.replace(/[()/]/g, "\\$&")} \\[\\w+\\].*MET`));
            }
            assert.match(stdout, /Violations: 0 mandatory, 0 advisory/);
            assert.match(stdout, /\+ oauth2-backups-\w+-lifecycle \(BucketLifecycleConfiguration\): s3:\/\/oauth2-backups-\w+\/clients\/ kept 90 days/);
        });
    }

    it("--program DIR outside the repository: 7-day RDS backups and an unversioned bucket exit 1 (--json)", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "outside-program-"));
        try {
            for (const file of fs.readdirSync(path.join(REPO_ROOT, "test", "fixtures", "outside-program"))) {
                fs.copyFileSync(path.join(REPO_ROOT, "test", "fixtures", "outside-program", file), path.join(dir, file));
            }
            const { status, stdout, stderr } = await runCli("check", ["--program", dir, "--json"]);
            assert.equal(status, 1, stderr + stdout);
            const result = JSON.parse(stdout) as { stack: string; violations: Array<{ policy: string; urn?: string; message: string; enforcementLevel: string }>; retention: Array<{ dataClass: string; status: string }> };
            assert.equal(result.stack, "dev");
            const by = (policy: string) => result.violations.filter((v) => v.policy === policy);
            assert.deepEqual(by("rds-backup-retention").map((v) => v.message), [
                "billing-postgres: backupRetentionPeriod is 7 days; the retention table's database row requires at least 30 days of backups (PostgreSQL instance)",
            ]);
            assert.ok(by("s3-backup-bucket-baseline").some((v) => /billing-backups: backup bucket has no BucketVersioning/.test(v.message) && v.enforcementLevel === "mandatory"));
            assert.equal(result.retention.find((r) => r.dataClass === "database")?.status, "missing");
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("--policy-config FILE: advisory levels make the same program exit 0; unknown policies are rejected", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "policy-config-"));
        try {
            const program = path.join(REPO_ROOT, "test", "fixtures", "outside-program");
            fs.writeFileSync(path.join(dir, "all-advisory.json"), JSON.stringify({ all: "advisory" }));
            assert.equal((await runCli("check", ["--program", program, "--policy-config", path.join(dir, "all-advisory.json")])).status, 0);
            fs.writeFileSync(path.join(dir, "typo.json"), JSON.stringify({ "rds-backup-retentoin": { minimumDays: 7 } }));
            const typo = await runCli("check", ["--program", program, "--policy-config", path.join(dir, "typo.json")]);
            assert.equal(typo.status, 2);
            assert.match(typo.stderr, /"rds-backup-retentoin" is not a policy of the pack/);
            // The table cannot be lowered by a setting (JSON Schema minimum, checked before planning), only by a named waiver.
            fs.writeFileSync(path.join(dir, "lowered.json"), JSON.stringify({ "oauth2-dr-settings": { minimumDays: { database: 7 }, productionTag: { key: "env" } } }));
            const lowered = await runCli("check", ["--program", program, "--policy-config", path.join(dir, "lowered.json")]);
            assert.equal(lowered.status, 2);
            assert.match(lowered.stderr, /oauth2-dr-settings\.minimumDays\.database: 7 is below the minimum 30 \(the retention table; lower a row only with a waiver/);
            assert.match(lowered.stderr, /oauth2-dr-settings\.productionTag: must have required property 'value'/);
            fs.writeFileSync(path.join(dir, "waiver.json"), JSON.stringify({ "oauth2-dr-settings": { waivers: [{ row: "database", value: 7, reason: "billing dev stack, rebuilt weekly", approvedBy: "cto@acme.example" }] } }));
            // A file that is missing or not JSON: exit 2 naming the option and the file.
            fs.writeFileSync(path.join(dir, "broken.json"), "{ all: advisory");
            for (const name of ["broken.json", "missing.json"]) {
                const unreadable = await runCli("check", ["--program", program, "--policy-config", path.join(dir, name)]);
                assert.equal(unreadable.status, 2);
                // The file's path as a string, not \S+: a TMPDIR with a space in its name is a directory like another.
                const file = path.join(dir, name);
                assert.ok(unreadable.stderr.split("\n").some((line) => line.startsWith(`--policy-config ${file}: cannot read ${file} as JSON (`)), unreadable.stderr);
            }
            const waived = await runCli("check", ["--program", program, "--policy-config", path.join(dir, "waiver.json")]);
            assert.match(waived.stdout, /Waiver in force: retention row "Database \(PostgreSQL\)" \(database\) lowered from 30 days to 7 days: billing dev stack, rebuilt weekly \(approved by cto@acme.example\)/);
            assert.doesNotMatch(waived.stdout, /rds-backup-retention/);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});
