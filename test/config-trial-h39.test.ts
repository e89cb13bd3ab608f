/**
 * h39-config: the mistakes a new operator makes in a stack file, each refused before any resource is declared,
 * one line naming the key; never a silent default or a misread. Each case below was accepted (or misread)
 * before h39-config unless it says "kept".
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ConfigError, parseStackConfig } from "../lib/config";
import { loadStackSettings } from "offline-plan/stack-settings";
import { configProblems, parseWith } from "./support/stack-config";
import { planProgram, planRepo, REPO } from "./support/plans";

/** The one problem line of `key`, for the prod stack with `overrides`. */
function problem(overrides: Record<string, string | null>, key: string, stack = "prod"): string {
    const lines = configProblems(stack, overrides);
    const line = lines.find((l) => l.startsWith(`${key}: `));
    assert.ok(line, `no problem reported for ${key}; got:\n${lines.join("\n")}`);
    return line;
}

describe("configuration trial h39: a new operator's mistakes", () => {
    it("a misspelled top-level key is refused, naming it and the key it resembles (was ignored: the table's default)", () => {
        assert.equal(
            problem({ "oauth2-dr:retentionDay": JSON.stringify({ database: 29 }) }, "oauth2-dr:retentionDay"),
            "oauth2-dr:retentionDay: unknown key; did you mean oauth2-dr:retention? (the keys are declared in Pulumi.yaml)",
        );
        assert.match(problem({ "oauth2-dr:promotee": "true" }, "oauth2-dr:promotee", "dr"), /did you mean oauth2-dr:promote\?/);
        assert.match(problem({ "oauth2-dr:nothingLikeAnyKey": "1" }, "oauth2-dr:nothingLikeAnyKey"), /^oauth2-dr:nothingLikeAnyKey: unknown key \(/);
    });

    it("a key of this project in another namespace is refused (was ignored)", () => {
        assert.match(problem({ "oauth2dr:retention": '{"database":29}' }, "oauth2dr:retention"), /write oauth2-dr:retention$/);
        assert.match(problem({ "oauth2_dr:promote": "true" }, "oauth2_dr:promote", "dr"), /in the oauth2-dr namespace; write oauth2-dr:promote/);
        // The providers' own keys are theirs: prod sets aws:region and is accepted (every stack file parses: foundation-config),
        // and a provider key that has one of our names is its provider's (Azure's cloud, not this project's environment).
        assert.equal(parseWith("prod").region, "us-east-1");
        assert.equal(parseWith("prod-azure", { "azure-native:environment": "usgovernment" }).environment, "production");
        assert.equal(parseWith("prod", { "aws:promote": "true" }).role, "primary");
    });

    it("a key written without the namespace in the stack file is the project's, as the offline plan reads it", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "h39-config-"));
        try {
            fs.writeFileSync(path.join(dir, "Pulumi.yaml"), "name: oauth2-dr\nruntime: nodejs\n");
            fs.writeFileSync(path.join(dir, "Pulumi.t.yaml"), "config:\n  retentionDay: 29\n  promote: true\n");
            const { config } = loadStackSettings(dir, "t");
            assert.deepEqual(Object.keys(config), ["oauth2-dr:retentionDay", "oauth2-dr:promote"]);
            assert.match(problem({ "oauth2-dr:retentionDay": config["oauth2-dr:retentionDay"] }, "oauth2-dr:retentionDay"), /did you mean oauth2-dr:retention/);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("a misspelled key inside backupJobs, awsBackup or appDatabaseSecret is refused (was ignored: jobs on, AWS Backup on)", () => {
        assert.match(problem({ "oauth2-dr:backupJobs": '{"enable":false}' }, "oauth2-dr:backupJobs.enable"), /unknown key; backupJobs has enabled, kubeconfig/);
        assert.match(problem({ "oauth2-dr:backupJobs": '{"schedule":{"dbBackup":"0 1 * * *"}}' }, "oauth2-dr:backupJobs.schedule"), /unknown key/);
        assert.match(problem({ "oauth2-dr:awsBackup": '{"enable":false}' }, "oauth2-dr:awsBackup.enable"), /unknown key; awsBackup has enabled, changeableForDays/);
        assert.match(problem({ "oauth2-dr:awsBackup": '{"changeableForDay":7}' }, "oauth2-dr:awsBackup.changeableForDay"), /unknown key/);
        assert.match(problem({ "oauth2-dr:appDatabaseSecret": '{"enable":false}' }, "oauth2-dr:appDatabaseSecret.enable"), /unknown key; appDatabaseSecret has enabled, namespace, name/);
    });

    it("numbers as strings are read as numbers; durations in other units are refused naming the key (kept)", () => {
        assert.equal(parseWith("prod", { "oauth2-dr:retention": '{"database":"35"}' }).retention.database, 35);
        assert.equal(parseWith("prod", { "oauth2-dr:secretRecoveryWindowDays": "14" }).secretRecoveryWindowDays, 14);
        for (const duration of ["30d", "P30D", "720h"]) {
            assert.equal(problem({ "oauth2-dr:retention": JSON.stringify({ database: duration }) }, "oauth2-dr:retention.database"), `oauth2-dr:retention.database: "${duration}" is not a whole number of days`);
            assert.match(problem({ "oauth2-dr:secretRecoveryWindowDays": duration }, "oauth2-dr:secretRecoveryWindowDays"), /is not an integer between 7 and 30/);
            assert.match(problem({ "oauth2-dr:objectLock": JSON.stringify({ days: duration }) }, "oauth2-dr:objectLock.days"), /is not an integer/);
        }
    });

    it("what Number() reads as a number but no one writes as one is refused (was [35] -> 35, true -> '1 days', '' -> '0 days', 0x1e -> 30)", () => {
        for (const [value, shown] of [[[35], "[35]"], [true, "true"], ["", '""'], [null, "null"], ["0x23", '"0x23"'], ["3.5e1", '"3.5e1"']] as const) {
            assert.equal(
                problem({ "oauth2-dr:retention": JSON.stringify({ database: value }) }, "oauth2-dr:retention.database"),
                `oauth2-dr:retention.database: ${shown} is not a whole number of days`,
            );
        }
        assert.match(problem({ "oauth2-dr:secretRecoveryWindowDays": "0x1e" }, "oauth2-dr:secretRecoveryWindowDays"), /"0x1e" is not an integer between 7 and 30/);
        assert.match(problem({ "oauth2-dr:allocatedStorageGb": "1e3" }, "oauth2-dr:allocatedStorageGb"), /"1e3" is not an integer/);
    });

    it("a negative, zero or below-the-table retention is refused, in production and elsewhere (kept)", () => {
        for (const days of [-30, 0, 29]) {
            assert.match(problem({ "oauth2-dr:retention": JSON.stringify({ database: days }) }, "oauth2-dr:retention.database"), new RegExp(`^oauth2-dr:retention.database: ${days} days is below the retention table's minimum of 30 days`));
        }
        assert.match(problem({ "oauth2-dr:retention": '{"database":29}', "oauth2-dr:environment": "staging" }, "oauth2-dr:retention.database"), /below the retention table's minimum/);
    });

    it("a 6-field cron or one with a timezone is refused naming the job (kept)", () => {
        for (const cron of ["0 0 5 * * *", "CRON_TZ=Europe/Paris 0 5 * * *", "TZ=UTC 0 5 * * *"]) {
            assert.match(problem({ "oauth2-dr:backupJobs": JSON.stringify({ schedules: { dbBackup: cron } }) }, "oauth2-dr:backupJobs.schedules.dbBackup"), /is not a 5-field cron expression/);
        }
    });

    it("a region typo is refused naming the key, in English (was 'is not a aws region name')", () => {
        assert.equal(problem({ "oauth2-dr:drRegion": "eu-west1" }, "oauth2-dr:drRegion"), 'oauth2-dr:drRegion: "eu-west1" is not an aws region name');
        assert.equal(problem({ "oauth2-dr:drRegion": "central-us" }, "oauth2-dr:drRegion", "prod-azure"), 'oauth2-dr:drRegion: "central-us" is not an azure region name');
        assert.equal(problem({ "oauth2-dr:drRegion": "us-east-4" }, "oauth2-dr:drRegion", "prod-gcp"), 'oauth2-dr:drRegion: "us-east-4" is not a gcp region name');
    });

    it("yes/no are not booleans (kept)", () => {
        assert.equal(problem({ "oauth2-dr:promote": "yes" }, "oauth2-dr:promote", "dr"), 'oauth2-dr:promote: "yes" is not true or false');
        assert.match(problem({ "oauth2-dr:backupJobs": '{"enabled":"no"}' }, "oauth2-dr:backupJobs.enabled"), /"no" is not true or false/);
    });

    it("YAML anchors and merge keys are read as the Pulumi CLI reads them (was: '<<' kept as a key, the merged values absent)", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "h39-config-"));
        try {
            fs.writeFileSync(path.join(dir, "Pulumi.yaml"), "name: oauth2-dr\nruntime: nodejs\n");
            fs.writeFileSync(
                path.join(dir, "Pulumi.t.yaml"),
                ["config:", "  oauth2-dr:tags: &tags", "    owner: platform", "  oauth2-dr:awsBackup:", "    <<: { enabled: false }", "    changeableForDays: 7", "  oauth2-dr:backupJobs:", "    <<: *tags", ""].join("\n"),
            );
            const { config } = loadStackSettings(dir, "t");
            assert.deepEqual(JSON.parse(config["oauth2-dr:awsBackup"]), { enabled: false, changeableForDays: 7 });
            // An alias merged where it does not belong is refused like any unknown key.
            assert.match(problem({ "oauth2-dr:backupJobs": config["oauth2-dr:backupJobs"] }, "oauth2-dr:backupJobs.owner"), /unknown key/);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("a secret's value is never shown in a problem's line (was echoed: CI logs kept it)", () => {
        const config: Record<string, string> = { ...loadStackSettings(REPO, "prod").config, "oauth2-dr:domain": "hunter2-not-a-host_name", "oauth2-dr:tags": '{"owner":"s3cr3t-token-value","n":5}' };
        const lookup = (key: string) => config[key];
        try {
            parseStackConfig(lookup, "prod", undefined, { keys: Object.keys(config), secretKeys: ["oauth2-dr:domain", "oauth2-dr:tags"] });
            assert.fail("accepted");
        } catch (err) {
            assert.ok(err instanceof ConfigError);
            assert.ok(err.problems.includes('oauth2-dr:domain: "[secret]" is not a DNS name such as auth.example.com'), err.message);
            assert.ok(err.problems.some((l) => l.startsWith("oauth2-dr:tags: ")), err.message);
            assert.doesNotMatch(err.message, /hunter2|s3cr3t/);
        }
    });

    it("a kubeconfig with a credential in plain configuration is refused; as a secret, or a path, it is accepted", () => {
        const kubeconfig = "apiVersion: v1\nusers:\n- name: ci\n  user:\n    token: eyJhbGciOiJSUzI1NiJ9.abc\n";
        const config: Record<string, string> = { ...loadStackSettings(REPO, "prod").config };
        config["oauth2-dr:backupJobs"] = JSON.stringify({ ...JSON.parse(config["oauth2-dr:backupJobs"]), kubeconfig });
        const parse = (secretKeys: string[]) => parseStackConfig((key) => config[key], "prod", undefined, { keys: Object.keys(config), secretKeys });
        assert.throws(() => parse([]), (err: unknown) => {
            assert.ok(err instanceof ConfigError);
            assert.match(err.message, /^oauth2-dr:backupJobs.kubeconfig: holds a cluster credential \(token\) in plain configuration; set it with `pulumi config set --secret --path backupJobs.kubeconfig`/m);
            assert.doesNotMatch(err.message, /eyJhbGci/);
            return true;
        });
        assert.equal(parse(["oauth2-dr:backupJobs"]).backupJobs.kubeconfig, kubeconfig);
        config["oauth2-dr:backupJobs"] = JSON.stringify({ ...JSON.parse(config["oauth2-dr:backupJobs"]), kubeconfig: "/etc/kube/config" });
        assert.equal(parse([]).backupJobs.kubeconfig, "/etc/kube/config");
    });

    it("a kubeconfig set as a secret stays secret in the cluster provider's inputs (was the plain text, into the state)", async function () {
        this.timeout(180_000);
        // The program as it is, with a stack file whose backupJobs.kubeconfig is `secure:` (the offline plan's stand-in).
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "h39-config-program-"));
        try {
            for (const entry of ["index.ts", "lib", "stacks", "components", "node_modules", "package.json", "tsconfig.json", "Pulumi.yaml", "images", "scripts", "Pulumi.vault.yaml"]) {
                fs.symlinkSync(path.join(REPO, entry), path.join(dir, entry));
            }
            const stackFile = fs.readFileSync(path.join(REPO, "Pulumi.prod.yaml"), "utf8");
            assert.ok(stackFile.includes("  oauth2-dr:backupJobs:\n"));
            fs.writeFileSync(path.join(dir, "Pulumi.prod.yaml"), stackFile.replace("  oauth2-dr:backupJobs:\n", "  oauth2-dr:backupJobs:\n    kubeconfig:\n      secure: v1:AAAABBBBCCCCDDDD\n"));
            const prod = (await planProgram(dir, ["prod"])).find((p) => p.stack === "prod")!;
            const providers = prod.resources.filter((r) => r.type === "pulumi:providers:kubernetes");
            assert.equal(providers.length, 1);
            const kubeconfig = providers[0].inputs.kubeconfig as Record<string, unknown>;
            assert.equal(kubeconfig["4dabf18193072939515e22adb298388d"], "1b47061264138c4ac30d75fd1eb44270", `kubeconfig is not a secret: ${JSON.stringify(kubeconfig)}`);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("an SDK that cannot say which keys are secrets (no runtime/config isConfigSecret) shows no value at all in a problem's line, never a secret's", async function () {
        this.timeout(180_000);
        // The program as it is, entered through an index.ts that first removes the SDK's isConfigSecret.
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "h39-config-nosecrets-"));
        try {
            for (const entry of ["lib", "stacks", "components", "node_modules", "package.json", "tsconfig.json", "Pulumi.yaml", "images", "scripts", "Pulumi.vault.yaml"]) {
                fs.symlinkSync(path.join(REPO, entry), path.join(dir, entry));
            }
            fs.writeFileSync(path.join(dir, "index.ts"), `delete (require("@pulumi/pulumi/runtime/config") as Record<string, unknown>).isConfigSecret;\nexport = require(${JSON.stringify(path.join(REPO, "index.ts"))});\n`);
            await assert.rejects(planProgram(dir, ["vault"], { configOverrides: { "oauth2-dr:domain": "not a dns name!" } }), (err: Error) => {
                assert.match(err.message, /oauth2-dr:domain: "\[secret\]" is not a DNS name/);
                assert.doesNotMatch(err.message, /not a dns name!/);
                return true;
            });
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("the program refuses an unread key before declaring anything, naming the stack file", async function () {
        this.timeout(120_000);
        await assert.rejects(planRepo(["vault"], { configOverrides: { "oauth2-dr:retentionDay": "29" } }), (err: Error) => {
            assert.match(err.message, /invalid configuration for stack vault \(Pulumi\.vault\.yaml\):\noauth2-dr:retentionDay: unknown key; did you mean oauth2-dr:retention\?/);
            return true;
        });
    });
});
