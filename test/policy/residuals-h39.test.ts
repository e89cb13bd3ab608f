/**
 * The pack's residuals after h38 (h39), both in `backup-job-role-no-destruction`, both judged through the one reader
 * of a principal's permissions (role-permissions.ts roleAllowsOn):
 *  - an attached full-access AWS managed policy (AdministratorAccess, PowerUserAccess, AmazonS3FullAccess,
 *    AWSBackupFullAccess, ...) is read as its published document (policy/aws-managed.ts), so the role's explicit
 *    Denies and its permissions boundary apply to what it grants; with neither it is reported as before;
 *  - a backup writer user's own permissions boundary (`aws.iam.User` `permissionsBoundary`) is read as a role's.
 * Hand-built resources written as other teams write them: an ECS task role in snake_case, the SDK's ManagedPolicy enum,
 * a GovCloud ARN, a boundary as an Output `policy.arn`, as the literal ARN of a Policy the stack declares (its own
 * `arn` not known yet, a preview), as an AWS managed policy, and as a policy the stack does not declare.
 */
import { strict as assert } from "assert";
import type { StackValidationPolicy } from "@pulumi/policy";
import { ManagedPolicy } from "@pulumi/aws/types/enums/iam";
import { ALL_POLICIES } from "../../policy/all";
import { DESTRUCTIVE_ACTIONS } from "../../policy/backup-job-roles";
import { HandBuilt, runStackPolicyWithReasons, UNKNOWN } from "./helpers";

const noDestruction = ALL_POLICIES.find((p) => p.name === "backup-job-role-no-destruction") as StackValidationPolicy;
const ROLE = "aws:iam/role:Role";
const USER = "aws:iam/user:User";
const POLICY = "aws:iam/policy:Policy";
const urnOf = (type: string, name: string) => `urn:pulumi:test::proj::${type}::${name}`;
const doc = (...statements: Array<Record<string, unknown>>) => JSON.stringify({ Version: "2012-10-17", Statement: statements });
const passes = { violations: [], notApplicable: [] };

const dumps: HandBuilt = { type: "aws:s3/bucketV2:BucketV2", name: "pg_dumps", props: { bucket: "acme-pg-dumps", tags: { backup: "true", environment: "staging" } } };
const upload = { Sid: "WriteDumps", Effect: "Allow", Action: ["s3:PutObject"], Resource: ["arn:aws:s3:::acme-pg-dumps/*"] };
const S3_DESTRUCTIVE = DESTRUCTIVE_ACTIONS.filter((a) => a.startsWith("s3:"));
/** A Deny of every destructive S3 action on the backup bucket and its objects. */
const denyS3OnDumps = { Sid: "ProtectDumps", Effect: "Deny", Action: S3_DESTRUCTIVE, Resource: ["arn:aws:s3:::acme-pg-dumps", "arn:aws:s3:::acme-pg-dumps/*"] };
/** A boundary Policy of the stack: `arn` as given (UNKNOWN in a preview), path `/boundaries/`. */
const boundaryPolicy = (arn: unknown, ...statements: Array<Record<string, unknown>>): HandBuilt => ({ type: POLICY, name: "jobs_boundary", props: { name: "jobs-boundary", path: "/boundaries/", arn, policy: doc(...statements) } });
const uploadOnly = { Effect: "Allow", Action: "s3:PutObject", Resource: "arn:aws:s3:::acme-pg-dumps/*" };
const BOUNDARY_ARN = "arn:aws:iam::111111111111:policy/boundaries/jobs-boundary";
const run = (resources: HandBuilt[]) => runStackPolicyWithReasons(noDestruction, [dumps, ...resources]);
const messages = async (resources: HandBuilt[]) => (await run(resources)).violations.map((v) => v.message);

describe("h39: an attached full-access AWS managed policy is judged as its document: the role's Deny and permissions boundary apply", () => {
    const ecs = JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { Service: "ecs-tasks.amazonaws.com" }, Action: "sts:AssumeRole" }] });
    const role = (props: Record<string, unknown> = {}, propertyDependencies?: Record<string, string[]>): HandBuilt => ({
        type: ROLE,
        name: "nightly_pg_dump",
        props: { name: "nightly_pg_dump_task", assumeRolePolicy: ecs, tags: { "oauth2-dr/component": "backup-jobs" }, inlinePolicies: [{ name: "write_dumps", policy: doc(upload) }], ...props },
        ...(propertyDependencies ? { propertyDependencies } : {}),
    });
    const attach = (policyArn: string): HandBuilt => ({ type: "aws:iam/rolePolicyAttachment:RolePolicyAttachment", name: "nightly_pg_dump_admin", props: { role: "nightly_pg_dump_task", policyArn }, propertyDependencies: { role: [urnOf(ROLE, "nightly_pg_dump")] } });
    const admin = ManagedPolicy.AdministratorAccess;

    it("with no Deny and no boundary it is reported as before: everything ARN grants (attached)", async () => {
        assert.equal(admin, "arn:aws:iam::aws:policy/AdministratorAccess");
        for (const [what, resources] of [
            ["managedPolicyArns (SDK enum)", [role({ managedPolicyArns: [admin] })]],
            ["RolePolicyAttachment, GovCloud", [role(), attach("arn:aws-us-gov:iam::aws:policy/AdministratorAccess")]],
        ] as Array<[string, HandBuilt[]]>) {
            const [message, ...rest] = await messages(resources);
            assert.deepEqual(rest, [], what);
            assert.match(message ?? "", /^nightly_pg_dump_task: backup job role \(tagged oauth2-dr\/component=backup-jobs\) may everything arn:aws(-us-gov)?:iam::aws:policy\/AdministratorAccess grants \(attached\); a backup job must not/, what);
        }
        const [s3] = await messages([role({ managedPolicyArns: [ManagedPolicy.AmazonS3FullAccess] })]);
        assert.match(s3 ?? "", /may everything arn:aws:iam::aws:policy\/AmazonS3FullAccess grants \(attached\)/);
    });

    it("a permissions boundary that allows only s3:PutObject removes every grant of AdministratorAccess and PowerUserAccess (was: a violation)", async () => {
        // The boundary as an Output policy.arn (preview: its arn not known).
        const byOutput = role({ managedPolicyArns: [admin], permissionsBoundary: UNKNOWN }, { permissionsBoundary: [urnOf(POLICY, "jobs_boundary")] });
        assert.deepEqual(await run([byOutput, boundaryPolicy(UNKNOWN, uploadOnly)]), passes);
        // The boundary as the literal ARN of the stack's Policy: read by its arn, or (a preview) by its path and name.
        for (const arn of [BOUNDARY_ARN, UNKNOWN]) {
            assert.deepEqual(await run([role({ permissionsBoundary: BOUNDARY_ARN }), attach(ManagedPolicy.PowerUserAccess), boundaryPolicy(arn, uploadOnly)]), passes, String(arn));
        }
        // A boundary that allows what PowerUserAccess grants: it stands, reported as before.
        const [stands] = await messages([role({ permissionsBoundary: BOUNDARY_ARN }), attach(ManagedPolicy.PowerUserAccess), boundaryPolicy(UNKNOWN, { Effect: "Allow", Action: "*", Resource: "*" })]);
        assert.match(stands ?? "", /may everything arn:aws:iam::aws:policy\/PowerUserAccess grants \(attached\)/);
    });

    it("an explicit Deny removes what it denies: what is left of the policy's grants is named action by action (was: everything ARN grants)", async () => {
        // AmazonS3FullAccess and a Deny of every destructive S3 action on the backup bucket: nothing left.
        assert.deepEqual(await run([role({ managedPolicyArns: [ManagedPolicy.AmazonS3FullAccess], inlinePolicies: [{ name: "write_dumps", policy: doc(upload, denyS3OnDumps) }] })]), passes);
        // AdministratorAccess (GovCloud) and the same Deny: its KMS, RDS, Secrets Manager and AWS Backup grants are left.
        const [left] = await messages([role({ inlinePolicies: [{ name: "write_dumps", policy: doc(upload, denyS3OnDumps) }] }), attach("arn:aws-us-gov:iam::aws:policy/AdministratorAccess")]);
        assert.doesNotMatch(left ?? "", /everything|s3:/);
        assert.match(left ?? "", /may backup:DeleteRecoveryPoint, backup:UpdateRecoveryPointLifecycle, .*, kms:ScheduleKeyDeletion, kms:DisableKey, kms:PutKeyPolicy, rds:DeleteDBInstance on \*, not only the verification's scratch instances, rds:DeleteDBCluster on \*, not only the verification's scratch instances \(arn:aws-us-gov:iam::aws:policy\/AdministratorAccess \(attached\)\); a backup job must not/);
        // A Deny of another bucket's objects leaves it whole.
        const elsewhere = { ...denyS3OnDumps, Resource: "arn:aws:s3:::acme-scratch/*" };
        const [whole] = await messages([role({ managedPolicyArns: [ManagedPolicy.AmazonS3FullAccess], inlinePolicies: [{ name: "write_dumps", policy: doc(upload, elsewhere) }] })]);
        assert.match(whole ?? "", /may everything arn:aws:iam::aws:policy\/AmazonS3FullAccess grants \(attached\)/);
    });

    it("a Policy of the stack attached or set as the boundary by its literal ARN, its own arn not known yet (a preview), is read as its document (was: taken for one the stack does not declare)", async () => {
        const prunePolicy = (arn: unknown): HandBuilt => ({ type: POLICY, name: "prune_dumps", props: { name: "prune-dumps", arn, policy: doc({ Sid: "Prune", Effect: "Allow", Action: "s3:DeleteObjectVersion", Resource: "arn:aws:s3:::acme-pg-dumps/*" }) } });
        for (const arn of ["arn:aws:iam::111111111111:policy/prune-dumps", UNKNOWN]) {
            const [message] = await messages([role(), attach("arn:aws:iam::111111111111:policy/prune-dumps"), prunePolicy(arn)]);
            assert.match(message ?? "", /may s3:DeleteObjectVersion \(Policy prune_dumps \(attached by nightly_pg_dump_admin\), statement Prune\); a backup job/, String(arn));
        }
        // Another path, or a known arn of another policy: not this one (a policy the stack does not declare: no grant
        // seen; since h40 listed as not judged, its document not known).
        for (const [attached, arn] of [["arn:aws:iam::111111111111:policy/team/prune-dumps", UNKNOWN], ["arn:aws:iam::111111111111:policy/prune-dumps", "arn:aws:iam::222222222222:policy/prune-dumps"]]) {
            const { violations, notApplicable } = await run([role(), attach(attached), prunePolicy(arn)]);
            assert.deepEqual(violations, [], attached);
            assert.match(notApplicable[0] ?? "", new RegExp(`nightly_pg_dump_task: the document of ${attached} \\(attached; a policy the stack does not declare\\)`), attached);
        }
    });

    it("a boundary that is an AWS managed policy is read as its document: AmazonS3ReadOnlyAccess removes, PowerUserAccess keeps (was: reported, or not judged)", async () => {
        assert.deepEqual(await run([role({ managedPolicyArns: [ManagedPolicy.AmazonS3FullAccess], permissionsBoundary: ManagedPolicy.AmazonS3ReadOnlyAccess })]), passes);
        // An own grant of s3:DeleteObjectVersion under a PowerUserAccess boundary: the boundary allows it, so it stands.
        const prune = { Sid: "PruneOldDumps", Effect: "Allow", Action: "s3:DeleteObjectVersion", Resource: "arn:aws:s3:::acme-pg-dumps/*" };
        const { violations, notApplicable } = await run([role({ permissionsBoundary: ManagedPolicy.PowerUserAccess, inlinePolicies: [{ name: "write_dumps", policy: doc(upload, prune) }] })]);
        assert.deepEqual(notApplicable, []);
        assert.match(violations[0]?.message ?? "", /may s3:DeleteObjectVersion \(inline policy write_dumps, statement PruneOldDumps\); a backup job/);
    });

    it("a boundary or a Deny the plan does not show: not judged, named with the managed policy's grant, never a verdict (was: a violation)", async () => {
        const platform = "arn:aws:iam::111111111111:policy/platform/workload-boundary";
        const { violations, notApplicable } = await run([role({ managedPolicyArns: [admin], permissionsBoundary: platform })]);
        assert.deepEqual(violations, []);
        assert.equal(notApplicable.length, 1);
        assert.match(notApplicable[0], /^not judged in this preview: nightly_pg_dump_task: s3:DeleteObjectVersion \(arn:aws:iam::aws:policy\/AdministratorAccess \(attached\)\): on arn:aws:s3:::acme-pg-dumps\/x: permissions boundary arn:aws:iam::111111111111:policy\/platform\/workload-boundary \(not declared in the stack\)/);
        // A Deny whose Condition is not evaluated.
        const maybe = { ...denyS3OnDumps, Sid: "UnlessBreakGlass", Condition: { StringNotEquals: { "aws:PrincipalTag/break-glass": "true" } } };
        const conditioned = await run([role({ managedPolicyArns: [ManagedPolicy.AmazonS3FullAccess], inlinePolicies: [{ name: "write_dumps", policy: doc(upload, maybe) }] })]);
        assert.deepEqual(conditioned.violations, []);
        assert.match(conditioned.notApplicable[0] ?? "", /nightly_pg_dump_task: s3:DeleteObjectVersion \(arn:aws:iam::aws:policy\/AmazonS3FullAccess \(attached\)\): on arn:aws:s3:::acme-pg-dumps\/x: a Deny that may apply: inline policy write_dumps, statement UnlessBreakGlass \(its Condition is not evaluated\)/);
    });

    it("AWSBackupFullAccess: its backup:* on every vault; its RDS snapshot deletion only via AWS Backup (a Condition) is left open once backup:* is denied", async () => {
        const [all] = await messages([role({ managedPolicyArns: [ManagedPolicy.AWSBackupFullAccess] })]);
        assert.match(all ?? "", /may everything arn:aws:iam::aws:policy\/AWSBackupFullAccess grants \(attached\)/);
        const denyBackup = { Sid: "NoVaultChanges", Effect: "Deny", Action: "backup:*", Resource: "*" };
        const { violations, notApplicable } = await run([role({ managedPolicyArns: [ManagedPolicy.AWSBackupFullAccess], inlinePolicies: [{ name: "write_dumps", policy: doc(upload, denyBackup) }] })]);
        assert.deepEqual(violations, []);
        assert.match(notApplicable[0] ?? "", /rds:DeleteDBSnapshot \(arn:aws:iam::aws:policy\/AWSBackupFullAccess \(attached\), statement RdsDeletePermissions\): on arn:aws:rds:x:x:snapshot:x: an Allow that may apply: arn:aws:iam::aws:policy\/AWSBackupFullAccess \(attached\), statement RdsDeletePermissions \(its Condition is not evaluated\)/);
    });
});

describe("h39: a backup writer user's own permissions boundary bounds its policies and its groups'", () => {
    const user = (props: Record<string, unknown> = {}, propertyDependencies?: Record<string, string[]>): HandBuilt => ({
        type: USER,
        name: "svcPgDump",
        props: { name: "svc-pg-dump", path: "/ci/", ...props },
        ...(propertyDependencies ? { propertyDependencies } : {}),
    });
    const prune = { Sid: "RotateDumps", Effect: "Allow", Action: ["s3:ListBucketVersions", "s3:DeleteObjectVersion"], Resource: ["arn:aws:s3:::acme-pg-dumps", "arn:aws:s3:::acme-pg-dumps/*"] };
    const userPolicy: HandBuilt = { type: "aws:iam/userPolicy:UserPolicy", name: "svcPgDumpPolicy", props: { user: "svc-pg-dump", policy: doc(upload, prune) } };
    const standing = /^svc-pg-dump: backup writer user \(its policies write to backup bucket acme-pg-dumps\) may s3:DeleteObjectVersion \(UserPolicy svcPgDumpPolicy, statement RotateDumps\)/;

    it("a boundary that does not allow s3:DeleteObjectVersion removes the grant: an Output policy.arn, a literal ARN, an AWS managed policy (was: a violation)", async () => {
        const [alone] = await messages([user(), userPolicy]);
        assert.match(alone ?? "", standing);
        assert.deepEqual(await run([user({ permissionsBoundary: UNKNOWN }, { permissionsBoundary: [urnOf(POLICY, "jobs_boundary")] }), userPolicy, boundaryPolicy(UNKNOWN, uploadOnly)]), passes);
        for (const arn of [BOUNDARY_ARN, UNKNOWN]) {
            assert.deepEqual(await run([user({ permissionsBoundary: BOUNDARY_ARN }), userPolicy, boundaryPolicy(arn, uploadOnly)]), passes, String(arn));
        }
        // A boundary whose Deny names the action.
        const denying = boundaryPolicy(BOUNDARY_ARN, { Effect: "Allow", Action: "s3:*", Resource: "*" }, { Effect: "Deny", Action: "s3:DeleteObjectVersion", Resource: "*" });
        assert.deepEqual(await run([user({ permissionsBoundary: BOUNDARY_ARN }), userPolicy, denying]), passes);
        assert.deepEqual(await run([user({ permissionsBoundary: ManagedPolicy.AmazonS3ReadOnlyAccess }), userPolicy]), passes);
        // A boundary that allows it: the grant stands.
        assert.match((await messages([user({ permissionsBoundary: BOUNDARY_ARN }), userPolicy, boundaryPolicy(BOUNDARY_ARN, { Effect: "Allow", Action: "s3:*", Resource: "*" })]))[0] ?? "", standing);
    });

    it("a group's grant is bounded by the member's boundary; a boundary the stack does not declare: not judged, named (was: a violation)", async () => {
        const group: HandBuilt = { type: "aws:iam/group:Group", name: "dumpers", props: { name: "dumpers" } };
        const membership: HandBuilt = { type: "aws:iam/userGroupMembership:UserGroupMembership", name: "svcPgDumpGroups", props: { user: "svc-pg-dump", groups: ["dumpers"] } };
        const groupPolicy: HandBuilt = { type: "aws:iam/groupPolicy:GroupPolicy", name: "dumpersPolicy", props: { group: "dumpers", policy: doc(upload, prune) } };
        assert.equal((await messages([user(), group, membership, groupPolicy])).length, 1);
        assert.deepEqual(await run([user({ permissionsBoundary: BOUNDARY_ARN }), group, membership, groupPolicy, boundaryPolicy(UNKNOWN, uploadOnly)]), passes);
        const { violations, notApplicable } = await run([user({ permissionsBoundary: "arn:aws:iam::111111111111:policy/ci/contractor-boundary" }), userPolicy]);
        assert.deepEqual(violations, []);
        assert.match(notApplicable[0] ?? "", /^not judged in this preview: svc-pg-dump: s3:DeleteObjectVersion \(UserPolicy svcPgDumpPolicy, statement RotateDumps\): on arn:aws:s3:::acme-pg-dumps\/x: permissions boundary arn:aws:iam::111111111111:policy\/ci\/contractor-boundary \(not declared in the stack\)/);
    });
});
