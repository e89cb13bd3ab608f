/**
 * Issue 23's doubts, across all seven stacks planned together: IAM role names unique per AWS account (dr,
 * dr-azure and dr-gcp share prod's account), the vault accepting exactly the replication roles the standbys
 * declare, every Firehose-written audit object locked for the audit row, and `npm run check` naming the
 * vault stack's role.
 */
import { strict as assert } from "assert";
import { PlannedResource, PlanResult } from "offline-plan/model";
import { checkPlan } from "../tools/check/core";
import { replicationRoleName } from "../components/bucket-replication";
import { props, planRepo, resourcesOfType } from "./support/plans";

const ROLE = "aws:iam/role:Role";
const LOCK = "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration";
const FIREHOSE = "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream";

/** The AWS account a planned resource lives in: the vault account's provider, else the stack's own account. */
function accountOf(plan: PlanResult, resource: PlannedResource, vaultAccountId: string): string {
    return resource.provider?.includes("::vault-account") ? vaultAccountId : String(plan.outputs.accountId ?? plan.outputs.vaultAccountId);
}

describe("all stacks together: accounts, role names, the vault's writers, audit locks", function () {
    this.timeout(180_000);
    let plans: PlanResult[];
    let vault: PlanResult;
    before(async () => {
        plans = await planRepo([]);
        vault = plans.find((p) => p.stack === "vault")!;
        assert.equal(plans.length, 7, plans.map((p) => p.stack).join(", "));
    });

    it("no two stacks declare the same IAM role name in one account", () => {
        const owners = new Map<string, string[]>();
        for (const plan of plans) {
            for (const role of resourcesOfType(plan, ROLE)) {
                const name = props(role).name as string | undefined;
                if (name === undefined) {
                    continue; // auto-named: unique by construction
                }
                const key = `${accountOf(plan, role, String(vault.outputs.vaultAccountId))}/${name}`;
                owners.set(key, [...(owners.get(key) ?? []), `${plan.stack}:${role.name}`]);
            }
        }
        const duplicates = [...owners].filter(([, by]) => by.length > 1).map(([key, by]) => `${key} (${by.join(", ")})`);
        assert.deepEqual(duplicates, []);
        assert.ok([...owners.keys()].some((k) => k.startsWith("123456789012/")) && [...owners.keys()].some((k) => k.startsWith("210987654321/")), "both accounts seen");
    });

    it("dr keeps its deployed role names (no replacement); other standbys and new roles carry the stack name", () => {
        assert.equal(replicationRoleName("backup-replication", "dr"), "backup-replication-s3-replication");
        assert.equal(replicationRoleName("vault-replication", "dr"), "vault-replication-s3-replication");
        assert.equal(replicationRoleName("audit-replication", "dr"), "audit-replication-dr-s3-replication");
        assert.equal(replicationRoleName("backup-replication", "dr-azure"), "backup-replication-dr-azure-s3-replication");
        assert.throws(() => replicationRoleName("vault-audit-replication", "x".repeat(30)), /longer than IAM's 64 characters/);
    });

    it("the vault bucket accepts exactly the replication roles the standby stacks declare into it", () => {
        const vaultArn = String(vault.outputs.vaultBucketArn);
        const declared: string[] = [];
        for (const plan of plans.filter((p) => p.stack !== "vault")) {
            for (const config of resourcesOfType(plan, "aws:s3/bucketReplicationConfig:BucketReplicationConfig")) {
                const c = props(config);
                if ((c.rules as Array<{ destination: { bucket: string } }>).some((r) => r.destination.bucket === vaultArn)) {
                    declared.push(String(c.role));
                }
            }
        }
        const accepted = (JSON.parse(String(vault.config["oauth2-dr:vault"])) as { replicationRoleArns: string[] }).replicationRoleArns;
        assert.deepEqual([...accepted].sort(), [...new Set(declared)].sort());
    });

    it("every Firehose writes into a bucket whose Object Lock default retention is the audit row's (365 days)", () => {
        let streams = 0;
        for (const plan of plans) {
            for (const stream of resourcesOfType(plan, FIREHOSE)) {
                streams++;
                const bucket = String(props(stream).extendedS3Configuration.bucketArn).split(":::")[1];
                const lock = resourcesOfType(plan, LOCK).find((l) => props(l).bucket === bucket);
                assert.ok(lock, `${plan.stack}: no Object Lock on ${bucket}`);
                assert.ok(props(lock).rule.defaultRetention.days >= 365, `${plan.stack}: ${bucket} locks ${props(lock).rule.defaultRetention.days} days`);
                assert.equal(props(lock).rule.defaultRetention.mode, "COMPLIANCE");
            }
        }
        assert.equal(streams, 6, "one audit archive per primary and standby stack");
    });

    it("npm run check names the vault stack's role vault (not unknown), and prod's and dr's as before", async () => {
        const role = async (stack: string) => (await checkPlan(plans.find((p) => p.stack === stack)!)).role;
        assert.equal(await role("vault"), "vault");
        assert.equal(await role("prod"), "primary");
        assert.equal(await role("dr"), "standby");
    });
});
