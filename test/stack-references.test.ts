/**
 * A referenced stack (the standby's primary, the vault) that lacks outputs this stack reads: the program stops
 * before any resource, naming the configuration key, the stack and every missing output (stacks/references.ts).
 * Before, SDK's requireOutput failed when the value resolved, after the other resources were registered, naming
 * the first missing output only ("Required output 'dbInstanceArn' does not exist on stack …").
 */
import { strict as assert } from "assert";
import type { PlanResult } from "offline-plan/model";
import { planBatchShared, REPO } from "./support/plans";
import { planWith } from "./support/dr-plans";
import { primaryOutputsRead, vaultOutputsRead } from "../stacks/references";
import { parseWith } from "./support/stack-config";

const ORG = "organization/oauth2-dr";

/** Plans `stack` with the given outputs behind its references (full names under ORG). */
function planAgainst(stack: string, references: Record<string, Record<string, unknown>>, preview = false): Promise<PlanResult> {
    const stackReferences = Object.fromEntries(Object.entries(references).map(([name, outputs]) => [`${ORG}/${name}`, outputs]));
    return planBatchShared({ programDir: REPO, stacks: [stack], preview, stackReferences }).then(([result]) => result);
}

/** The outputs of `plan` without `names`. */
function without(plan: PlanResult, ...names: string[]): Record<string, unknown> {
    const outputs = { ...(plan.outputs as Record<string, unknown>) };
    names.forEach((name) => delete outputs[name]);
    return outputs;
}

describe("referenced stacks' outputs, checked before any resource (stacks/references.ts)", function () {
    this.timeout(300_000);
    let prod: PlanResult;
    let vault: PlanResult;
    before(async () => {
        vault = await planWith("vault");
        prod = await planWith("prod", {}, { vault });
    });

    it("a primary never deployed (no outputs): every output dr reads is named, with the key and what to do", async () => {
        const err = await planAgainst("dr", { prod: {}, vault: vault.outputs }).then(
            () => assert.fail("dr planned against a primary without outputs"),
            (e: Error) => e,
        );
        const expected = primaryOutputsRead(parseWith("dr")).required;
        assert.match(err.message, /oauth2-dr:primaryStack: the stack organization\/oauth2-dr\/prod has no outputs dbInstanceArn, /);
        for (const name of expected) {
            assert.ok(err.message.includes(name), `${name} not named: ${err.message}`);
        }
        assert.match(err.message, /run `pulumi up` on organization\/oauth2-dr\/prod first .*or point oauth2-dr:primaryStack at the right stack/);
        assert.doesNotMatch(err.message, /Required output/);
    });

    it("a primary of an older release (two bucket outputs missing): those two, and only those", async () => {
        const err = await planAgainst("dr", { prod: without(prod, "auditBucketArn", "auditBucketKmsKeyArn"), vault: vault.outputs }).then(
            () => assert.fail("dr planned"),
            (e: Error) => e,
        );
        assert.match(err.message, /oauth2-dr:primaryStack: the stack organization\/oauth2-dr\/prod has no outputs auditBucketArn, auditBucketKmsKeyArn, which this stack reads/);
    });

    it("Azure and Cloud SQL standbys: their primary's database outputs", async () => {
        for (const [standby, primary, output] of [["dr-azure", "prod-azure", "dbServerId"], ["dr-gcp", "prod-gcp", "dbInstanceName"]] as const) {
            const planned = await planWith(primary, {}, { vault });
            const err = await planAgainst(standby, { [primary]: without(planned, output, "dbAdminPassword"), vault: vault.outputs }).then(
                () => assert.fail(`${standby} planned`),
                (e: Error) => e,
            );
            assert.match(err.message, new RegExp(`oauth2-dr:primaryStack: the stack organization/oauth2-dr/${primary} has no outputs ${output}, dbAdminPassword,`));
        }
    });

    it("a vault without the outputs prod reads (and dr's primary missing one too): one error naming both keys", async () => {
        const err = await planAgainst("prod", { vault: without(vault, "vaultAccountId", "backupVaultName") }).then(
            () => assert.fail("prod planned"),
            (e: Error) => e,
        );
        assert.match(err.message, /oauth2-dr:vaultStack: the stack organization\/oauth2-dr\/vault has no outputs vaultAccountId, backupVaultName,/);
        const both = await planAgainst("dr", { prod: without(prod, "secretArns"), vault: without(vault, "vaultBucketArn") }).then(
            () => assert.fail("dr planned"),
            (e: Error) => e,
        );
        assert.match(both.message, /oauth2-dr:primaryStack: the stack organization\/oauth2-dr\/prod has no output secretArns,[^\n]*\noauth2-dr:vaultStack: the stack organization\/oauth2-dr\/vault has no output vaultBucketArn,/);
    });

    it("a vault without a verification key reader: the reader's own message (was: 'Required output … does not exist')", async () => {
        const config = { "oauth2-dr:backupEncryption": JSON.stringify({ mode: "public-key" }) };
        const err = await planWith("dr", config, { prod, vault: { ...vault, outputs: without(vault, "verificationKeysRoleArn") } }).then(
            () => assert.fail("dr planned"),
            (e: Error) => e,
        );
        assert.match(err.message, /the vault stack organization\/oauth2-dr\/vault declares no verification key reader \(verificationKeysRoleArn\)/);
    });

    it("outputs unknown (a first preview, nothing supplied): nothing to check, dr plans as before", async () => {
        const planned = await planAgainst("dr", {}, true);
        assert.ok(planned.resources.length > 50, `${planned.resources.length} resources`);
    });

    it("every output read is listed: our stacks plan against their references' outputs exactly", async () => {
        for (const [standby, primary] of [["dr", "prod"], ["dr-azure", "prod-azure"], ["dr-gcp", "prod-gcp"]] as const) {
            const planned = await planWith(primary, {}, { vault });
            const config = parseWith(standby);
            const listed = [...primaryOutputsRead(config).required];
            const outputs = Object.fromEntries(listed.map((name) => [name, (planned.outputs as Record<string, unknown>)[name]]));
            assert.ok(listed.every((name) => name in (planned.outputs as Record<string, unknown>)), `${primary} publishes every output ${standby} requires`);
            const result = await planAgainst(standby, { [primary]: outputs, vault: vault.outputs });
            assert.ok(result.resources.length > 50);
        }
        assert.ok(vaultOutputsRead(parseWith("dr")).required.includes("vaultBucketArn"));
    });
});
