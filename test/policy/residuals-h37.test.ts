/**
 * The pack's residuals after h36 (h37): CronJob schedules written as robfig/cron's `@every <duration>` (accepted where
 * Kubernetes accepts them, their gap the delay), and the AWS Backup selection role read as IAM decides (an explicit
 * Deny, the Resource a grant is scoped to, a permissions boundary). Each as hand-built resources: the case that was
 * wrong, and its neighbours. The corpus program test/fixtures/programs/search-every-jobs plans @every CronJobs
 * through @pulumi/kubernetes.
 */
import { strict as assert } from "assert";
import type { StackValidationPolicy } from "@pulumi/policy";
import { ALL_POLICIES } from "../../policy/all";
import { cronJobSchedule } from "../../policy/kubernetes";
import { arnPatternMatches } from "../../policy/role-permissions";
import { maxIntervalMinutes, nextRun, unclockedBecause, validateCron } from "../../policy/schedule";
import { runResourcePolicy, runStackPolicyWithReasons, UNKNOWN } from "./helpers";

describe("h37: @every <duration> schedules, as Kubernetes (robfig/cron v3 ParseStandard) reads them", () => {
    it("accepts @every with a Go duration and takes the delay as the gap (was: refused as not 5 fields)", () => {
        const cases: Array<[string, number]> = [
            ["@every 6h", 360],
            ["@every 90m", 90],
            ["@every 25h", 1500],
            ["@every 1h30m", 90],
            ["@every 1.5h", 90],
            ["@every .5h", 30],
            ["@every 90s", 1.5],
            ["@every +2h", 120],
            // Every() drops fractions of a second.
            ["@every 61.9s", 61 / 60],
            ["@every 3600000ms", 60],
        ];
        for (const [expression, minutes] of cases) {
            assert.equal(maxIntervalMinutes(expression), minutes, expression);
        }
        assert.equal(validateCron("@every 1h30m"), "@every 5400s");
    });

    it("refuses what robfig/cron refuses (no duration, d or w units, spaces, a bare @every, an unknown descriptor), naming why", () => {
        const refused: Array<[string, RegExp]> = [
            ["@every", /"@every" is not a descriptor Kubernetes accepts \(@yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly, @every <duration>\)/],
            ["@every ", /"@every " is not a schedule Kubernetes accepts: no duration after @every/],
            ["@every 1d", /"@every 1d" is not a schedule Kubernetes accepts: "1d" is not a Go duration \(time\.ParseDuration: .*no d or w/],
            ["@every 2w", /"2w" is not a Go duration/],
            ["@every 6", /"6" is not a Go duration/],
            ["@every  6h", /" 6h" is not a Go duration/],
            ["@every 6h ", /"6h " is not a Go duration/],
            ["@every 6H", /"6H" is not a Go duration/],
            ["@every .h", /".h" is not a Go duration/],
            ["@every 3000000h", /longer than a Go duration holds/],
            ["@DAILY", /"@DAILY" is not a descriptor Kubernetes accepts/],
            ["@daily ", /a descriptor is read only as written, with no space around it/],
            [" @hourly", /a descriptor is read only as written/],
        ];
        for (const [expression, message] of refused) {
            assert.throws(() => validateCron(expression), message, JSON.stringify(expression));
        }
    });

    it("refuses a delay under one second (negative, zero, ms): Kubernetes accepts it and robfig/cron runs it every second, which the message says", () => {
        for (const expression of ["@every -1h", "@every 0", "@every -0", "@every 500ms", "@every 999999us"]) {
            assert.throws(() => validateCron(expression), /would start a job every second: Kubernetes accepts it, but robfig\/cron makes a delay under 1s \(zero and negative ones too\) one second/, expression);
        }
        assert.throws(() => validateCron("@every -1h"), /write a duration of at least 1s \(@every 1h\?\)/);
        assert.equal(maxIntervalMinutes("@every 1s"), 1 / 60);
    });

    it("an @every schedule has no clock time: nextRun says so, unclockedBecause names the CronJob's creation", () => {
        assert.equal(unclockedBecause("@every 6h"), '"@every 6h" runs every 6h counted from the CronJob\'s creation, then from its last scheduled run, not at clock times');
        assert.equal(unclockedBecause("0 5 * * *"), undefined);
        assert.throws(() => nextRun("@every 6h"), /not at clock times: it has no next run at a clock time/);
    });

    describe("k8s-backup-cronjob-schedule", () => {
        const dump = (schedule: string, dataClass?: string) => ({
            type: "kubernetes:batch/v1:CronJob",
            name: "catalog-dump",
            props: {
                metadata: { name: "catalog-dump", labels: dataClass ? { "oauth2-dr/backup": "true", "oauth2-dr/data-class": dataClass } : { app: "search" } },
                spec: {
                    schedule,
                    concurrencyPolicy: "Forbid",
                    jobTemplate: { spec: { activeDeadlineSeconds: 3600, template: { spec: { securityContext: { runAsNonRoot: true }, containers: [{ name: "dump", image: "postgres:16", command: ["pg_dump", "catalog"], resources: { limits: { cpu: "1", memory: "1Gi" } } }] } } } },
                },
            },
        });

        it("@every 6h and @every 24h pass a daily row; @every 25h fails it, naming the delay and that it counts from the CronJob's creation", async () => {
            assert.deepEqual(await runResourcePolicy(cronJobSchedule, dump("@every 6h")), []);
            assert.deepEqual(await runResourcePolicy(cronJobSchedule, dump("@every 24h")), []);
            const [late, ...rest] = await runResourcePolicy(cronJobSchedule, dump("@every 25h"));
            assert.deepEqual(rest, []);
            assert.match(late ?? "", /^catalog-dump: spec\.schedule "@every 25h" leaves up to 25 hours between runs; the retention table \(Database \(PostgreSQL\), Continuous \+ Daily\) requires at least every 1 day \(judged as a database backup: it runs pg_dump.*\("@every 25h" runs every 25h counted from the CronJob's creation, then from its last scheduled run, not at clock times: the gap is the delay, whenever the runs fall\)$/);
        });

        it("@every 90m fails an hourly row (clients); @every 45m passes it", async () => {
            const [late] = await runResourcePolicy(cronJobSchedule, dump("@every 90m", "clients"));
            assert.match(late ?? "", /"@every 90m" leaves up to 90 minutes between runs; the retention table \(Client configurations, On change\) requires at least every 1 hour/);
            assert.deepEqual(await runResourcePolicy(cronJobSchedule, dump("@every 45m", "clients")), []);
        });

        it("a malformed @every is a violation naming what is wrong (was: \"not a 5-field cron expression\" for every @every)", async () => {
            for (const [schedule, message] of [
                ["@every", /spec\.schedule "@every" is not a descriptor Kubernetes accepts/],
                ["@every 1d", /spec\.schedule "@every 1d" is not a schedule Kubernetes accepts: "1d" is not a Go duration/],
                ["@every -1h", /spec\.schedule "@every -1h" would start a job every second/],
            ] as const) {
                const [violation, ...rest] = await runResourcePolicy(cronJobSchedule, dump(schedule));
                assert.deepEqual(rest, []);
                assert.match(violation ?? "", message);
            }
        });
    });
});

describe("h37: the AWS Backup selection role read as IAM decides: Deny, Resource, permissions boundary", () => {
    const planPolicy = ALL_POLICIES.find((p) => p.name === "aws-backup-plan-retention") as StackValidationPolicy;
    const ROLE = "aws:iam/role:Role";
    const DB_ARN = "arn:aws:rds:eu-west-1:123456789012:db:orders";
    const instance = (arn: unknown = DB_ARN) => ({ type: "aws:rds/instance:Instance", name: "orders", props: { identifier: "orders", engine: "postgres", backupRetentionPeriod: 35, ...(arn === undefined ? {} : { arn }) } });
    const plan = { type: "aws:backup/plan:Plan", name: "orders-plan", props: { rules: [{ ruleName: "daily", targetVaultName: "Default", lifecycle: { deleteAfter: 35 } }] } };
    const selection = {
        type: "aws:backup/selection:Selection",
        name: "orders",
        props: { planId: "p", resources: [DB_ARN], iamRoleArn: UNKNOWN },
        propertyDependencies: { iamRoleArn: [`urn:pulumi:test::proj::${ROLE}::orders-backup`] },
    };
    const role = (props: Record<string, unknown> = {}) => ({ type: ROLE, name: "orders-backup", props: { name: "orders-backup", assumeRolePolicy: "{}", ...props } });
    const statement = (fields: Record<string, unknown>) => ({ Effect: "Allow", Action: "rds:CreateDBSnapshot", Resource: "*", ...fields });
    const rolePolicy = (...statements: Array<Record<string, unknown>>) => ({ type: "aws:iam/rolePolicy:RolePolicy", name: "orders-backup-own", props: { role: "orders-backup", policy: JSON.stringify({ Statement: statements }) } });
    const boundaryPolicy = (...statements: Array<Record<string, unknown>>) => ({ type: "aws:iam/policy:Policy", name: "boundary", props: { name: "boundary", arn: "arn:aws:iam::123456789012:policy/boundary", policy: JSON.stringify({ Statement: statements }) } });
    const run = (resources: Parameters<typeof runStackPolicyWithReasons>[1], db = instance()) => runStackPolicyWithReasons(planPolicy, [db, plan, selection, ...resources]);
    const passes = { violations: [], notApplicable: [] };

    it("an explicit Deny wins over the Allow (was: judged as having the action)", async () => {
        for (const deny of [
            statement({ Sid: "NoSnapshots", Effect: "Deny" }),
            statement({ Sid: "NoSnapshots", Effect: "Deny", Action: "rds:Create*" }),
            statement({ Sid: "NoSnapshots", Effect: "Deny", Action: "*", Resource: "arn:aws:rds:*:*:db:*" }),
            statement({ Sid: "NoSnapshots", Effect: "Deny", Action: undefined, NotAction: "s3:*" }),
        ]) {
            const { violations, notApplicable } = await run([role(), rolePolicy(statement({ Sid: "Snapshots", Action: "rds:*" }), deny)]);
            assert.deepEqual(notApplicable, [], JSON.stringify(deny));
            assert.equal(violations.length, 1, JSON.stringify(deny));
            assert.match(violations[0].message, /^orders-plan: rule "daily" runs as orders-backup \(iamRoleArn of Selection orders\), whose policies deny rds:CreateDBSnapshot \(RolePolicy orders-backup-own, statement NoSnapshots\), which AWS Backup calls as that role to back up orders: AWS Backup fails every job of the rule/);
        }
        // A Deny of other actions, or of other resources, leaves the Allow standing.
        assert.deepEqual(await run([role(), rolePolicy(statement({}), statement({ Effect: "Deny", Action: "rds:DeleteDBInstance" }), statement({ Effect: "Deny", Resource: "arn:aws:rds:eu-west-1:123456789012:db:other" }))]), passes);
    });

    it("a grant scoped to another resource does not allow the database's snapshot (was: judged as having it)", async () => {
        for (const resource of ["arn:aws:rds:eu-west-1:123456789012:db:reporting", "arn:aws:s3:::orders-dumps/*", ["arn:aws:rds:us-east-1:123456789012:db:orders"], "arn:aws:rds:eu-west-1:123456789012:cluster:orders"]) {
            const { violations, notApplicable } = await run([role(), rolePolicy(statement({ Sid: "Snapshots", Resource: resource }))]);
            assert.deepEqual(notApplicable, [], JSON.stringify(resource));
            assert.match(violations[0]?.message ?? "", /whose policies \(RolePolicy orders-backup-own\) do not allow rds:CreateDBSnapshot on orders \(arn:aws:rds:eu-west-1:123456789012:db:orders\): they allow it only on other resources \(RolePolicy orders-backup-own, statement Snapshots: arn:/, JSON.stringify(resource));
        }
        const [notResource] = (await run([role(), rolePolicy(statement({ Sid: "Snapshots", Resource: undefined, NotResource: "arn:aws:rds:*:*:db:orders" }))])).violations;
        assert.match(notResource?.message ?? "", /only on other resources \(RolePolicy orders-backup-own, statement Snapshots: every resource but arn:aws:rds:\*:\*:db:orders\)/);
        // Patterns that cover it: the ARN, wildcards in a segment and `?`, NotResource naming something else. Since h38
        // the snapshot AWS Backup creates must be allowed too (residuals-h38): each grant names it as well.
        const SNAPSHOTS = "arn:aws:rds:eu-west-1:123456789012:snapshot:awsbackup:job-*";
        for (const fields of [
            { Resource: [DB_ARN, SNAPSHOTS] },
            { Resource: ["arn:aws:rds:*:*:db:*", SNAPSHOTS] },
            { Resource: ["arn:aws:rds:eu-west-?:123456789012:db:ord*", SNAPSHOTS] },
            { Resource: ["arn:aws:s3:::x", "arn:aws:rds:eu-west-1:123456789012:db:orders", SNAPSHOTS] },
            { Resource: undefined, NotResource: "arn:aws:rds:*:*:db:reporting" },
        ]) {
            assert.deepEqual(await run([role(), rolePolicy(statement(fields))]), passes, JSON.stringify(fields));
        }
    });

    it("a Resource or a database ARN not known, a `*` that spans ARN segments, or a Condition: not judged, named, never a verdict", async () => {
        const cases: Array<[Parameters<typeof run>[0], ReturnType<typeof instance>, RegExp]> = [
            [[role(), rolePolicy(statement({ Sid: "Snapshots", Resource: "arn:aws:rds:eu-west-1:123456789012:db:orders" }))], instance(UNKNOWN), /an Allow that may apply: RolePolicy orders-backup-own, statement Snapshots \(its Resource cannot be matched to the resource's ARN here\)/],
            [[role(), rolePolicy(statement({ Sid: "Snapshots", Resource: "arn:aws:rds:*" }))], instance(), /an Allow that may apply: RolePolicy orders-backup-own, statement Snapshots \(its Resource cannot be matched/],
            [[role(), rolePolicy(statement({ Sid: "Snapshots", Condition: { StringEquals: { "aws:RequestTag/backup": "true" } } }))], instance(), /an Allow that may apply: RolePolicy orders-backup-own, statement Snapshots \(its Condition is not evaluated\)/],
            [[role(), rolePolicy(statement({}), statement({ Sid: "MaybeNot", Effect: "Deny", Condition: { Bool: { "aws:MultiFactorAuthPresent": "false" } } }))], instance(), /a Deny that may apply: RolePolicy orders-backup-own, statement MaybeNot \(its Condition is not evaluated\)/],
            [[role(), rolePolicy(statement({}), statement({ Sid: "MaybeNot", Effect: "Deny", Resource: "arn:aws:rds:eu-west-1:123456789012:db:orders" }))], instance(UNKNOWN), /a Deny that may apply: RolePolicy orders-backup-own, statement MaybeNot \(its Resource cannot be matched/],
        ];
        for (const [resources, db, what] of cases) {
            const { violations, notApplicable } = await run(resources, db);
            assert.deepEqual(violations, [], String(what));
            assert.equal(notApplicable.length, 1, String(what));
            assert.match(notApplicable[0], /^not judged in this preview: orders-plan orders-backup/);
            assert.match(notApplicable[0], what);
        }
        // With the ARN unknown, a grant on every RDS instance covers it (the identifier is known), and a grant on
        // another service's resources cannot: verdicts both.
        assert.deepEqual(await run([role(), rolePolicy(statement({ Resource: ["arn:*:rds:*:*:db:*", "arn:*:rds:*:*:snapshot:awsbackup:job-*"] }))], instance(UNKNOWN)), passes);
        const [s3Only] = (await run([role(), rolePolicy(statement({ Sid: "Snapshots", Resource: "arn:aws:s3:::dumps/*" }))], instance(UNKNOWN))).violations;
        assert.match(s3Only?.message ?? "", /do not allow rds:CreateDBSnapshot on orders: they allow it only on other resources \(RolePolicy orders-backup-own, statement Snapshots: arn:aws:s3:::dumps\/\*\)/);
    });

    it("a permissions boundary that does not allow the action makes the role lack it (was: judged as having it)", async () => {
        const bounded = (boundary: unknown, dependsOn = false) => ({
            ...role({ permissionsBoundary: boundary }),
            ...(dependsOn ? { propertyDependencies: { permissionsBoundary: ["urn:pulumi:test::proj::aws:iam/policy:Policy::boundary"] } } : {}),
        });
        const grant = rolePolicy(statement({}));
        const [s3Boundary] = (await run([bounded("arn:aws:iam::123456789012:policy/boundary"), grant, boundaryPolicy({ Effect: "Allow", Action: "s3:*", Resource: "*" })])).violations;
        assert.match(s3Boundary?.message ?? "", /runs as orders-backup \(iamRoleArn of Selection orders\), whose permissions boundary \(Policy boundary \(permissionsBoundary of orders-backup\)\) does not allow rds:CreateDBSnapshot, which AWS Backup calls as that role/);
        const [denyBoundary] = (await run([bounded(UNKNOWN, true), grant, boundaryPolicy({ Effect: "Allow", Action: "*", Resource: "*" }, { Sid: "NoRds", Effect: "Deny", Action: "rds:*", Resource: "*" })])).violations;
        assert.match(denyBoundary?.message ?? "", /whose permissions boundary denies rds:CreateDBSnapshot \(Policy boundary \(permissionsBoundary of orders-backup\), statement NoRds\)/);
        const [managedBoundary] = (await run([bounded("arn:aws:iam::aws:policy/ReadOnlyAccess"), grant])).violations;
        assert.match(managedBoundary?.message ?? "", /whose permissions boundary \(arn:aws:iam::aws:policy\/ReadOnlyAccess\) does not allow rds:CreateDBSnapshot/);
        // A boundary that allows it (a Policy of the stack, an AWS managed policy that grants it): the role has it.
        assert.deepEqual(await run([bounded("arn:aws:iam::123456789012:policy/boundary"), grant, boundaryPolicy({ Effect: "Allow", Action: "rds:Create*", Resource: "*" })]), passes);
        assert.deepEqual(await run([bounded("arn:aws:iam::aws:policy/PowerUserAccess"), grant]), passes);
        // A boundary the plan does not show: not judged, named.
        for (const [boundary, what] of [
            [UNKNOWN, /permissionsBoundary of orders-backup \(not known\)/],
            ["arn:aws:iam::123456789012:policy/platform-boundary", /permissions boundary arn:aws:iam::123456789012:policy\/platform-boundary \(not declared in the stack\)/],
        ] as const) {
            const { violations, notApplicable } = await run([bounded(boundary), grant]);
            assert.deepEqual(violations, []);
            assert.match(notApplicable[0] ?? "", what);
        }
        // A boundary alone grants nothing: a role whose own policies lack the action lacks it whatever the boundary.
        const [noGrant] = (await run([bounded("arn:aws:iam::aws:policy/AdministratorAccess"), rolePolicy(statement({ Action: "s3:GetObject" }))])).violations;
        assert.match(noGrant?.message ?? "", /whose policies \(RolePolicy orders-backup-own\) do not allow rds:CreateDBSnapshot/);
    });

    it("Action wildcards: `rds:*`, `rds:Create*`, `*`, `?` and NotAction allow; an Action not known yet is not judged, named", async () => {
        for (const fields of [{ Action: "rds:*" }, { Action: "rds:Create*" }, { Action: "*" }, { Action: "rds:CreateDB?napshot" }, { Action: "RDS:createdbsnapshot" }, { Action: undefined, NotAction: ["iam:*", "rds:Delete*"] }]) {
            assert.deepEqual(await run([role(), rolePolicy(statement(fields))]), passes, JSON.stringify(fields));
        }
        for (const fields of [{ Action: "rds:CreateDB?luster*" }, { Action: undefined, NotAction: "rds:*" }]) {
            assert.equal((await run([role(), rolePolicy(statement(fields))])).violations.length, 1, JSON.stringify(fields));
        }
        const { violations, notApplicable } = await run([role(), rolePolicy(statement({ Sid: "Snapshots", Action: ["s3:GetObject", `rds:${UNKNOWN}`] }))]);
        assert.deepEqual(violations, []);
        assert.match(notApplicable[0] ?? "", /an Allow that may apply: RolePolicy orders-backup-own, statement Snapshots \(its Action is not known\)/);
    });

    it("a verdict resting on an AWS managed policy outside the dated list says the list's date; one resting on the stack's own documents does not", async () => {
        const dated = /\(AWS managed policies judged by the list of those that grant it, read from the zoph-io\/MAMIP snapshot of 2026-03-07: one AWS has given it since is not known here\), which AWS Backup calls/;
        const [managed] = (await run([role({ managedPolicyArns: ["arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForRestores"] })])).violations;
        assert.match(managed?.message ?? "", /whose policies \(AWS managed policy AWSBackupServiceRolePolicyForRestores\) do not allow rds:CreateDBSnapshot \(AWS managed policies judged/);
        assert.match(managed?.message ?? "", dated);
        const [boundary] = (await run([role({ permissionsBoundary: "arn:aws:iam::aws:policy/ReadOnlyAccess" }), rolePolicy(statement({}))])).violations;
        assert.match(boundary?.message ?? "", dated);
        const [own] = (await run([role(), rolePolicy(statement({ Action: "s3:GetObject" }))])).violations;
        assert.doesNotMatch(own?.message ?? "", /MAMIP/);
        assert.match(own?.message ?? "", /do not allow rds:CreateDBSnapshot, which AWS Backup calls/);
    });

    it("arnPatternMatches: a `*` read by segments and as one text must agree, else unknown; `?` is one character; an ARN not known is matched by what is known", () => {
        const known = { arn: DB_ARN, service: "rds" };
        assert.equal(arnPatternMatches("arn:aws:rds:*:*:db:*", known), true);
        assert.equal(arnPatternMatches("arn:aws:rds:eu-west-?:*:db:orders", known), true);
        assert.equal(arnPatternMatches("arn:aws:rds:eu-west-1?:*:db:orders", known), false);
        assert.equal(arnPatternMatches("arn:aws:rds:*:db:orders", known), "unknown");
        assert.equal(arnPatternMatches("arn:aws:rds:*", known), "unknown");
        assert.equal(arnPatternMatches("arn:aws:s3:::*", known), false);
        assert.equal(arnPatternMatches(UNKNOWN, known), "unknown");
        // The ARN not known: the service, and the kind and identifier when the program sets them.
        const orders = { service: "rds", resource: "db:orders" };
        assert.equal(arnPatternMatches("*", { service: "rds" }), true);
        assert.equal(arnPatternMatches("arn:aws:s3:::*", orders), false);
        assert.equal(arnPatternMatches("arn:*:rds:*:*:db:*", orders), true);
        assert.equal(arnPatternMatches("arn:*:rds:*:*:db:ord*", orders), true);
        assert.equal(arnPatternMatches("arn:aws:rds:*:*:db:*", orders), "unknown", "partition not known (aws, aws-cn, aws-us-gov)");
        assert.equal(arnPatternMatches("arn:aws:rds:*:*:db:*", { service: "rds" }), "unknown", "identifier not known");
        assert.equal(arnPatternMatches("arn:aws:rds:*:*:db:reporting", orders), "unknown", "a * may span segments");
        assert.equal(arnPatternMatches("arn:aws:rds:eu-west-1:*:db:orders", orders), "unknown", "region not known");
        assert.equal(arnPatternMatches("arn:*:s3:::*", orders), "unknown");
    });
});
