/**
 * `backup-job-role-no-destruction`: a grant whose Resource names specific secrets, KMS keys, RDS databases, snapshots or
 * recovery points is judged on the stack's own resources of that kind (h40-scope), as a grant on buckets is judged on the
 * stack's backup buckets. Before, each named pattern was judged on a resource it names itself, so it always stood: an
 * attached CloudWatchEventsFullAccess (secretsmanager:DeleteSecret on EventBridge's own `events!` secrets), a policy on
 * another application's secret, key or database was reported as a grant to destroy backup material. A pattern that may
 * name a stack resource whose name the plan does not settle (a secret's name not known, a key id, a snapshot's name) is
 * listed as not judged; `*` is reported as before; a stack that holds no resource of the kind judges as before (any).
 */
import { strict as assert } from "assert";
import type { StackValidationPolicy } from "@pulumi/policy";
import { ALL_POLICIES } from "../../policy/all";
import { globsMeet } from "../../policy/backup-job-roles";
import { HandBuilt, runStackPolicyWithReasons, UNKNOWN } from "./helpers";

const noDestruction = ALL_POLICIES.find((p) => p.name === "backup-job-role-no-destruction") as StackValidationPolicy;
const irsa = JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { Federated: "arn:aws:iam::111122223333:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC" }, Action: "sts:AssumeRoleWithWebIdentity" }] });
const KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab";

const dumps: HandBuilt = { type: "aws:s3/bucketV2:BucketV2", name: "dumps", props: { bucket: "oauth2-dumps", tags: { backup: "true" } } };
const passphrase = (name: unknown = "oauth2/backup-passphrase"): HandBuilt => ({ type: "aws:secretsmanager/secret:Secret", name: "passphrase", props: { name } });
const key = (keyId: unknown = KEY_ID): HandBuilt => ({ type: "aws:kms/key:Key", name: "backup_key", props: { keyId, description: "backup encryption" } });
const database: HandBuilt = { type: "aws:rds/instance:Instance", name: "db", props: { identifier: "oauth2-db", engine: "postgres", backupRetentionPeriod: 14 } };
const jobs = (props: Record<string, unknown>): HandBuilt => ({
    type: "aws:iam/role:Role",
    name: "pg_dump_jobs",
    props: { name: "pg-dump-jobs", assumeRolePolicy: irsa, tags: { "oauth2-dr/component": "backup-jobs" }, ...props },
});
/** A job role whose inline policy allows `action` on `resource` (statement `Scoped`). */
const granting = (action: string, resource: string | string[]) => jobs({
    inlinePolicies: [{ name: "ops", policy: JSON.stringify({ Version: "2012-10-17", Statement: [{ Sid: "Scoped", Effect: "Allow", Action: action, Resource: resource }] }) }],
});
const run = (resources: HandBuilt[]) => runStackPolicyWithReasons(noDestruction, [dumps, ...resources]);
const passes = async (resources: HandBuilt[]) => assert.deepEqual(await run(resources), { violations: [], notApplicable: [] });
const reported = async (resources: HandBuilt[], line: RegExp) => {
    const { violations: [violation, ...rest] } = await run(resources);
    assert.deepEqual(rest, []);
    assert.match(violation?.message ?? "", line);
};
const notJudged = async (resources: HandBuilt[], why: string) => {
    const { violations, notApplicable } = await run(resources);
    assert.deepEqual(violations, []);
    assert.equal(notApplicable.length, 1);
    assert.ok(notApplicable[0]?.includes(why), notApplicable[0]);
};

describe("h40-scope: a grant on named secrets is judged on the stack's secrets", () => {
    it("CloudWatchEventsFullAccess attached (DeleteSecret on EventBridge's `events!` secrets only) grants no destruction (was: secretsmanager:DeleteSecret reported)", async () => {
        const role = jobs({ managedPolicyArns: ["arn:aws:iam::aws:policy/CloudWatchEventsFullAccess"] });
        await passes([passphrase(), role]);
        // A stack that declares no secret judges a named secret as any secret, but an `events!` or `rds!` name is never one a program creates.
        await passes([role]);
        await passes([granting("secretsmanager:DeleteSecret", "arn:aws:secretsmanager:*:*:secret:rds!*")]);
    });

    it("a policy on another application's secret (`app/feature-flags-*`) is no grant on the stack's oauth2/backup-passphrase (was: reported)", async () => {
        await passes([passphrase(), granting("secretsmanager:DeleteSecret", "arn:aws:secretsmanager:us-east-1:111122223333:secret:app/feature-flags-*")]);
    });

    it("a policy on `oauth2/*` (in the stack's region and account or any) is reported: it covers oauth2/backup-passphrase", async () => {
        for (const resource of ["arn:aws:secretsmanager:us-east-1:111122223333:secret:oauth2/*", "arn:aws:secretsmanager:*:*:secret:oauth2/backup-passphrase-??????", "*"]) {
            await reported([passphrase(), granting("secretsmanager:DeleteSecret", resource)], /^pg-dump-jobs: backup job role \(tagged oauth2-dr\/component=backup-jobs\) may secretsmanager:DeleteSecret \(inline policy ops, statement Scoped\);/);
        }
    });

    it("a stack whose secret's name is not known leaves a named grant not judged, never passed", async () => {
        await notJudged([passphrase(UNKNOWN), granting("secretsmanager:DeleteSecret", "arn:aws:secretsmanager:us-east-1:111122223333:secret:app/feature-flags-*")],
            "pg-dump-jobs: secretsmanager:DeleteSecret (inline policy ops, statement Scoped): its Resource arn:aws:secretsmanager:us-east-1:111122223333:secret:app/feature-flags-* may name the stack's secret passphrase (its name is not known)");
    });

    it("an ARN with one suffix may or may not be the stack's secret (its six random characters are not in the plan): not judged", async () => {
        await notJudged([passphrase(), granting("secretsmanager:DeleteSecret", "arn:aws:secretsmanager:us-east-1:111122223333:secret:oauth2/backup-passphrase-AbCdEf")],
            "may name the stack's secret oauth2/backup-passphrase (its ARN ends in six random characters)");
    });
});

describe("h40-scope: a grant on named KMS keys, beside the stack's keys", () => {
    it("an alias ARN (IAM names a key by its key ARN only) is no grant on the stack's key (was: reported)", async () => {
        await passes([key(), granting("kms:ScheduleKeyDeletion", "arn:aws:kms:eu-west-1:111122223333:alias/oauth2-backup")]);
    });

    it("every key of the account is reported", async () => {
        await reported([key(), granting("kms:ScheduleKeyDeletion", "arn:aws:kms:*:111122223333:key/*")], /may kms:ScheduleKeyDeletion \(inline policy ops, statement Scoped\);/);
    });

    it("one key named by its ARN is not judged, whatever the plan's keyId (AWS's id, an offline plan's stand-in): never passed (was: reported)", async () => {
        for (const id of [KEY_ID, "ffffffff-0000-4000-8000-000000000000"]) {
            await notJudged([key(), granting("kms:ScheduleKeyDeletion", `arn:aws:kms:eu-west-1:111122223333:key/${id}`)], "may name the stack's KMS key backup_key (its id is AWS's, not known to the plan)");
        }
        await notJudged([key(UNKNOWN), granting("kms:ScheduleKeyDeletion", "arn:aws:kms:eu-west-1:111122223333:key/ffffffff-0000-4000-8000-000000000000")],
            "may name the stack's KMS key backup_key (its id is AWS's, not known to the plan)");
    });
});

describe("h40-scope: a grant on named RDS resources is judged on the stack's databases", () => {
    it("another application's instance (`db:orders-*`) is no grant on oauth2-db: ModifyDBInstance, DeleteDBInstance (was: reported)", async () => {
        await passes([database, granting("rds:ModifyDBInstance", "arn:aws:rds:*:*:db:orders-*")]);
        await passes([database, granting("rds:DeleteDBInstance", ["arn:aws:rds:*:*:db:oauth2-backup-test-*", "arn:aws:rds:*:*:db:orders-*"])]);
    });

    it("the stack's instance named, or every instance, is reported", async () => {
        await reported([database, granting("rds:ModifyDBInstance", "arn:aws:rds:eu-west-1:111122223333:db:oauth2-*")], /may rds:ModifyDBInstance \(inline policy ops, statement Scoped\);/);
        await reported([database, granting("rds:DeleteDBInstance", "arn:aws:rds:*:*:db:oauth2-db")], /may rds:DeleteDBInstance on arn:aws:rds:\*:\*:db:oauth2-db, not only the verification's scratch instances \(inline policy ops, statement Scoped\);/);
    });

    it("a named snapshot may be one of the stack's instance's (its name is chosen when it is taken): not judged; every snapshot is reported", async () => {
        await notJudged([database, granting("rds:DeleteDBSnapshot", "arn:aws:rds:*:*:snapshot:orders-*")], "may name a snapshot of the stack's DB instances (its name is chosen when it is taken)");
        await reported([database, granting("rds:DeleteDBSnapshot", "arn:aws:rds:*:*:snapshot:*")], /may rds:DeleteDBSnapshot \(inline policy ops, statement Scoped\);/);
    });

    it("in a stack that declares no instance, a named instance is judged as any (the database may be another stack's): reported as before", async () => {
        await reported([granting("rds:ModifyDBInstance", "arn:aws:rds:*:*:db:orders-*")], /may rds:ModifyDBInstance \(inline policy ops, statement Scoped\);/);
    });
});

describe("h40-scope: globsMeet", () => {
    it("tells whether two IAM globs share a name", () => {
        assert.ok(globsMeet("secret:oauth2/*", "secret:oauth2/backup-passphrase-??????"));
        assert.ok(globsMeet("secret:*-AbCdEf", "secret:*-??????"));
        assert.ok(globsMeet("db:o*-db", "db:oauth2*"));
        assert.ok(!globsMeet("secret:app/*", "secret:oauth2/backup-passphrase-??????"));
        assert.ok(!globsMeet("secret:oauth2/backup-passphrase-AbC", "secret:oauth2/backup-passphrase-??????"));
        assert.ok(!globsMeet("key/ffff*", "key/1234"));
    });
});
