/**
 * The configuration loader: both stack files parse, and every kind of bad input is one line that names
 * the key, before any resource is declared.
 */
import { strict as assert } from "assert";
import { DEFAULT_JOB_RESOURCES } from "../lib/config";
import { TABLE_RETENTION } from "../lib/retention";
import { configProblems, parseWith } from "./support/stack-config";

const parse = parseWith;
const problems = configProblems;

function rejects(overrides: Record<string, string | null>, key: string, ...fragments: string[]): void {
    const lines = problems("prod", overrides);
    const line = lines.find((l) => l.startsWith(`${key}: `));
    assert.ok(line, `no problem reported for ${key}; got:\n${lines.join("\n")}`);
    assert.ok(!line.includes("\n"), "each problem is one line");
    for (const fragment of fragments) {
        assert.ok(line.includes(fragment), `"${line}" should mention "${fragment}"`);
    }
}

describe("configuration loader", () => {
    it("parses the prod stack as the primary in us-east-1 with the table's retention", () => {
        const prod = parse("prod");
        assert.equal(prod.role, "primary");
        assert.equal(prod.cloud, "aws");
        assert.equal(prod.region, "us-east-1");
        assert.equal(prod.drRegion, "us-west-2");
        assert.deepEqual(prod.retention, TABLE_RETENTION);
        assert.equal(prod.backupWindow, "03:00-04:00");
        assert.equal(prod.subnetIds.length, 2);
    });

    it("parses the dr stack as the standby in us-west-2 reading prod", () => {
        const dr = parse("dr");
        assert.equal(dr.role, "standby");
        assert.equal(dr.region, "us-west-2");
        assert.equal(dr.primaryStack, "organization/oauth2-dr/prod");
        assert.equal(dr.promote, false);
    });

    it("lets a stack raise a retention value", () => {
        const raised = parse("prod", { "oauth2-dr:retention": JSON.stringify({ database: 35, clients: 120, audit: 731 }) });
        assert.equal(raised.retention.database, 35);
        assert.equal(raised.retention.clients, 120);
        assert.equal(raised.retention.audit, 731);
        assert.equal(raised.retention.secrets, 7);
    });

    it("rejects a retention below the table, naming the key, the value and the minimum", () => {
        rejects({ "oauth2-dr:retention": '{"database":29}' }, "oauth2-dr:retention.database", "29 days", "minimum of 30 days");
        rejects({ "oauth2-dr:retention": '{"clients":89}' }, "oauth2-dr:retention.clients", "89", "90");
        rejects({ "oauth2-dr:retention": '{"secrets":6}' }, "oauth2-dr:retention.secrets", "6 versions", "7 versions");
        rejects({ "oauth2-dr:retention": '{"audit":364}' }, "oauth2-dr:retention.audit", "364", "365");
        rejects({ "oauth2-dr:retention": '{"config":30}' }, "oauth2-dr:retention.config", "30", "90");
    });

    it("rejects retention values the clouds cannot hold and unknown data classes", () => {
        rejects({ "oauth2-dr:retention": '{"database":40}' }, "oauth2-dr:retention.database", "35-day maximum");
        rejects({ "oauth2-dr:retention": '{"audit":370}' }, "oauth2-dr:retention.audit", "not a CloudWatch Logs retention period");
        rejects({ "oauth2-dr:retention": '{"sessions":30}' }, "oauth2-dr:retention.sessions", "unknown data class");
        rejects({ "oauth2-dr:retention": '{"database":"thirty"}' }, "oauth2-dr:retention.database", "not a whole number");
    });

    it("rejects a DR region equal to the primary", () => {
        rejects({ "oauth2-dr:drRegion": "us-east-1" }, "oauth2-dr:drRegion", "equals primaryRegion");
    });

    it("rejects malformed regions and a provider region that does not match the role", () => {
        rejects({ "oauth2-dr:primaryRegion": "US East" }, "oauth2-dr:primaryRegion", "not an aws region");
        rejects({ "aws:region": "us-west-2" }, "aws:region", "must equal oauth2-dr:primaryRegion (us-east-1)");
        rejects({ "aws:region": null }, "aws:region", "is required");
    });

    it("rejects an unknown cloud and an unknown role", () => {
        rejects({ "oauth2-dr:cloud": "oci" }, "oauth2-dr:cloud", '"oci" is not one of aws, azure, gcp');
        rejects({ "oauth2-dr:role": "leader" }, "oauth2-dr:role", "primary, standby");
        rejects({ "oauth2-dr:role": null }, "oauth2-dr:role", "is required");
    });

    it("rejects malformed, too short and overlapping windows", () => {
        rejects({ "oauth2-dr:backupWindow": "3am-4am" }, "oauth2-dr:backupWindow", "hh24:mi-hh24:mi");
        rejects({ "oauth2-dr:backupWindow": "25:00-26:00" }, "oauth2-dr:backupWindow", "hh24:mi-hh24:mi");
        rejects({ "oauth2-dr:backupWindow": "03:00-03:15" }, "oauth2-dr:backupWindow", "15 minutes", "at least 30");
        rejects({ "oauth2-dr:maintenanceWindow": "sunday 5am" }, "oauth2-dr:maintenanceWindow", "ddd:hh24:mi");
        rejects({ "oauth2-dr:maintenanceWindow": "tue:03:30-tue:04:30" }, "oauth2-dr:maintenanceWindow", "overlaps the backup window");
        // A backup window across midnight overlaps a maintenance window early the next day.
        rejects(
            { "oauth2-dr:backupWindow": "23:30-00:30", "oauth2-dr:maintenanceWindow": "mon:00:00-mon:01:00" },
            "oauth2-dr:maintenanceWindow",
            "overlaps",
        );
        assert.equal(parse("prod", { "oauth2-dr:backupWindow": "23:30-00:30" }).backupWindow, "23:30-00:30");
    });

    it("rejects malformed network inputs, names and instance classes", () => {
        rejects({ "oauth2-dr:subnetIds": '["subnet-0a1b2c3d4e5f60001"]' }, "oauth2-dr:subnetIds", "at least 2");
        rejects({ "oauth2-dr:subnetIds": '["subnet-0a1b2c3d4e5f60001","my-subnet"]' }, "oauth2-dr:subnetIds", '"my-subnet"');
        rejects({ "oauth2-dr:subnetIds": null }, "oauth2-dr:subnetIds", "is required");
        rejects({ "oauth2-dr:securityGroupIds": '["default"]' }, "oauth2-dr:securityGroupIds", '"default"');
        rejects({ "oauth2-dr:domain": "not a domain" }, "oauth2-dr:domain", "not a DNS name");
        rejects({ "oauth2-dr:hostedZoneId": "example.com" }, "oauth2-dr:hostedZoneId", "hosted zone id");
        rejects({ "oauth2-dr:regionalEndpoint": "auth.example.com" }, "oauth2-dr:regionalEndpoint", "not the failover name");
        rejects({ "oauth2-dr:instanceClass": "r6g.large" }, "oauth2-dr:instanceClass", "RDS instance class");
        rejects({ "oauth2-dr:tags": '{"owner": 7}' }, "oauth2-dr:tags", 'tag "owner"');
    });

    it("rejects malformed cron schedules of the backup jobs", () => {
        const jobs = (schedules: Record<string, string>) => ({ "oauth2-dr:backupJobs": JSON.stringify({ schedules }) });
        rejects(jobs({ dbBackup: "61 * * * *" }), "oauth2-dr:backupJobs.schedules.dbBackup", "61");
        rejects(jobs({ dbBackup: "0 5 * *" }), "oauth2-dr:backupJobs.schedules.dbBackup", "5-field");
        rejects(jobs({ nightly: "0 5 * * *" }), "oauth2-dr:backupJobs.schedules.nightly", "unknown job");
        assert.equal(parse("prod", jobs({ dbBackup: "@daily" })).backupJobs.schedules.dbBackup, "@daily");
    });

    it("accepts @every <Go duration> schedules as the policy pack does, and refuses the malformed ones with its words (h37)", () => {
        const jobs = (schedules: Record<string, string>) => ({ "oauth2-dr:backupJobs": JSON.stringify({ schedules }) });
        assert.equal(parse("prod", jobs({ clientConfigExport: "@every 15m" })).backupJobs.schedules.clientConfigExport, "@every 15m");
        assert.equal(parse("prod", jobs({ restoreVerification: "@every 168h" })).backupJobs.schedules.restoreVerification, "@every 168h");
        rejects(jobs({ secretsExport: "@every 1d" }), "oauth2-dr:backupJobs.schedules.secretsExport", '"1d" is not a Go duration');
        rejects(jobs({ secretsExport: "@every" }), "oauth2-dr:backupJobs.schedules.secretsExport", "is not a descriptor Kubernetes accepts");
        rejects(jobs({ secretsExport: "@every -1h" }), "oauth2-dr:backupJobs.schedules.secretsExport", "would start a job every second");
    });

    it("takes each backup job's container resources from backupJobs.resources, over the schema's defaults", () => {
        const jobs = parse("prod", { "oauth2-dr:backupJobs": JSON.stringify({ resources: { dbBackup: { limits: { memory: "2Gi" } }, secretsExport: { requests: { cpu: 0.1 } } } }) }).backupJobs;
        assert.deepEqual(jobs.resources.dbBackup, { requests: DEFAULT_JOB_RESOURCES.dbBackup.requests, limits: { cpu: DEFAULT_JOB_RESOURCES.dbBackup.limits.cpu, memory: "2Gi" } });
        assert.deepEqual(jobs.resources.secretsExport.requests, { cpu: "0.1", memory: DEFAULT_JOB_RESOURCES.secretsExport.requests.memory });
        assert.deepEqual(jobs.resources.appConfigExport, DEFAULT_JOB_RESOURCES.appConfigExport);
        assert.deepEqual(parse("prod").backupJobs.resources, DEFAULT_JOB_RESOURCES);
        // A limit below the (default) request, or a request above the (default) limit, is refused as Kubernetes would.
        const resources = (value: unknown) => ({ "oauth2-dr:backupJobs": JSON.stringify({ resources: value }) });
        rejects(resources({ dbBackup: { limits: { memory: "128Mi" } } }), "oauth2-dr:backupJobs.resources.dbBackup.limits.memory", "request 256Mi is above the limit 128Mi");
        rejects(resources({ secretsExport: { requests: { cpu: 1 } } }), "oauth2-dr:backupJobs.resources.secretsExport.requests.cpu", "request 1 is above the limit 500m");
        assert.equal(parse("prod", resources({ dbBackup: { requests: { memory: "1Gi" }, limits: { memory: "1Gi" } } })).backupJobs.resources.dbBackup.limits.memory, "1Gi");
    });

    it("checks nested keys where they stand: one line per problem, naming the nested key", () => {
        const lines = problems("prod", {
            "oauth2-dr:backupJobs": JSON.stringify({
                enabled: "maybe",
                schedules: { dbBackup: "0 5 * *" },
                resources: { dbBackup: { limits: { memory: "lots", gpu: "1" } }, nightly: {}, restoreVerification: "big" },
            }),
            "oauth2-dr:awsBackup": JSON.stringify({ enabled: true, changeableForDays: 2 }),
        });
        assert.deepEqual(lines.map((l) => l.split(": ")[0]).sort(), [
            "oauth2-dr:awsBackup.changeableForDays",
            "oauth2-dr:backupJobs.enabled",
            "oauth2-dr:backupJobs.resources.dbBackup.limits.gpu",
            "oauth2-dr:backupJobs.resources.dbBackup.limits.memory",
            "oauth2-dr:backupJobs.resources.nightly",
            "oauth2-dr:backupJobs.resources.restoreVerification",
            "oauth2-dr:backupJobs.schedules.dbBackup",
        ]);
        const line = (key: string) => lines.find((l) => l.startsWith(`oauth2-dr:${key}: `)) ?? "";
        assert.match(line("backupJobs.enabled"), /"maybe" is not true or false/);
        assert.match(line("backupJobs.resources.dbBackup.limits.memory"), /"lots" is not a memory quantity/);
        assert.match(line("backupJobs.resources.dbBackup.limits.gpu"), /unknown key; the keys are cpu, memory/);
        assert.match(line("backupJobs.resources.nightly"), /unknown job; the jobs are dbBackup, /);
        assert.match(line("backupJobs.resources.restoreVerification"), /must be a map with the keys requests, limits/);
        assert.match(line("awsBackup.changeableForDays"), /"2" is not an integer between 3 and 36500/);
        assert.ok(lines.every((l) => !l.includes("\n")));
        // JSON values inside a section are taken as they are written: booleans and numbers unquoted or quoted.
        const config = parse("prod", { "oauth2-dr:awsBackup": JSON.stringify({ enabled: false, changeableForDays: 5 }), "oauth2-dr:backupJobs": '{"enabled":"false"}' });
        assert.deepEqual([config.awsBackup.enabled, config.awsBackup.changeableForDays, config.backupJobs.enabled], [false, 5, false]);
    });

    it("rejects a standby without its primary stack and a promote on a primary", () => {
        const lines = problems("dr", { "oauth2-dr:primaryStack": null });
        assert.ok(lines.some((l) => l.startsWith("oauth2-dr:primaryStack: is required")), lines.join("\n"));
        rejects({ "oauth2-dr:promote": "true" }, "oauth2-dr:promote", "only a standby");
        rejects({ "oauth2-dr:promote": "yes" }, "oauth2-dr:promote", "true or false");
    });

    it("reports every problem at once, one line each", () => {
        const lines = problems("prod", { "oauth2-dr:drRegion": "us-east-1", "oauth2-dr:backupWindow": "x", "oauth2-dr:retention": '{"audit":30}' });
        assert.equal(lines.length, 3, lines.join("\n"));
    });
});
