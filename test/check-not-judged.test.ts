/**
 * A check of the program that gives no verdict because an outside stack's outputs are unknown (h31 residual 4):
 * the standby's vault-writer check (stacks/compose-storage.ts vaultAcceptsWriters, over the vault stack's
 * replicationRoleArns) when the vault stack is neither planned in the run nor supplied with --stack-outputs, as
 * in a first preview before the vault is deployed. Its line names the check (its source line), says it was not
 * judged and why, and how to have it judged; the summary line says so too, never a bare "0 mandatory".
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { main as checkMain } from "../tools/check/check";
import { checkPlan } from "../tools/check/core";
import { formatCheck, toJson } from "../tools/check/format";
import { planWith } from "./support/dr-plans";
import { REPO } from "./support/plans";

describe("check: the program's own checks over an outside stack's unknown outputs are NOT JUDGED, on their line and in the summary", function () {
    this.timeout(300_000);

    it("dr without the vault stack's outputs: the vault-writer check's line says not judged, why and how; the summary says NOT JUDGED; JSON carries the source line and the stack", async function () {
        const prod = await planWith("prod");
        const dr = await planWith("dr", {}, { prod });
        const vault = "organization/oauth2-dr/vault";
        assert.ok((dr.lookups ?? []).some((l) => l.function === "pulumi.StackReference" && l.detail === vault && l.result === "unknown"), JSON.stringify(dr.lookups));
        // Where the check is: the line of stacks/compose-storage.ts that calls vaultAcceptsWriters in an .apply.
        const source = fs.readFileSync(path.join(REPO, "stacks/compose-storage.ts"), "utf8").split("\n");
        const line = source.findIndex((l) => l.includes(".apply(") && l.includes("vaultAcceptsWriters(")) + 1;
        assert.ok(line > 0);
        const check = await checkPlan(dr);
        assert.equal(check.violations.filter((v) => v.enforcementLevel === "mandatory").length, 0);
        const writer = check.unknownApplies.find((a) => a.where.startsWith(`stacks/compose-storage.ts:${line}:`));
        assert.ok(writer, JSON.stringify(check.unknownApplies));
        assert.match(writer.code ?? "", /vaultAcceptsWriters\(list/);
        assert.deepEqual(writer.stackReferences, [vault]);
        for (const preview of [true, false]) {
            const text = formatCheck(check, preview);
            const word = preview ? "preview" : "check";
            const summary = text.split("\n").find((l) => l.startsWith("Violations: "));
            assert.equal(summary, `Violations: 0 mandatory, 0 advisory; NOT JUDGED in this ${word}: ${check.unknownApplies.length} .apply callbacks of the program (its own checks among them) (values unknown: listed below)`);
            const writerLine = text.split("\n").find((l) => l.startsWith(`  stacks/compose-storage.ts:${line}:`));
            assert.ok(writerLine?.includes("vaultAcceptsWriters(list"), writerLine);
            assert.ok(writerLine?.includes(` NOT JUDGED: the outputs of the stack ${vault} are unknown in this ${word}: run a full check with that stack in the program, or supply its outputs with --stack-outputs ${vault}=FILE.json`), writerLine);
        }
        const json = toJson(check) as { unknownApplies: Array<{ where: string; code?: string; stackReferences?: string[] }> };
        assert.deepEqual(json.unknownApplies.find((a) => a.where === writer.where)?.stackReferences, [vault]);
    });

    it("dr with the outputs of a vault deployed before it published replicationRoleArns: the check fails (exit 2, text and --json), naming the output and `pulumi up` the vault first, never a pass", async function () {
        const [prod, vault] = await Promise.all([planWith("prod"), planWith("vault")]);
        const older = structuredClone(vault);
        delete (older.outputs as Record<string, unknown>).replicationRoleArns;
        for (const args of [["--stack", "dr"], ["--stack", "dr", "--json"]]) {
            let stdout = "";
            let stderr = "";
            const io = { stdout: { write: (text: string) => (stdout += text) }, stderr: { write: (text: string) => (stderr += text) } };
            // The CLI, planning dr with the older vault's outputs (as --stack-outputs gives a vault outside the run).
            const status = await checkMain(args, io, async () => [await planWith("dr", {}, { prod, vault: older })]);
            assert.equal(status, 2, `${args.join(" ")}: ${stdout}${stderr}`);
            assert.equal(stdout, "", "no report that could be read as a pass");
            assert.match(stderr, /^plan of stack dr failed:\n/);
            assert.match(stderr, /the vault stack organization\/oauth2-dr\/vault does not publish its output replicationRoleArns .*run `pulumi up` on the vault stack organization\/oauth2-dr\/vault first/);
        }
    });

    it("dr with the vault planned (its outputs known): no NOT JUDGED in the summary, the check judged", async function () {
        const [prod, vault] = await Promise.all([planWith("prod"), planWith("vault")]);
        const dr = await planWith("dr", {}, { prod, vault });
        const check = await checkPlan(dr);
        assert.deepEqual(check.unknownApplies, []);
        assert.ok(formatCheck(check, true).split("\n").includes("Violations: 0 mandatory, 0 advisory"));
    });
});
