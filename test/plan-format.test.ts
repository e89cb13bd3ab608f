/** The text plan's summary lines (packages/offline-plan/src/format.ts) on resources written by other teams. */
import { strict as assert } from "assert";
import { keyProperties } from "offline-plan/src/format";
import { PlannedResource } from "offline-plan/src/model";
import { plannedResource } from "./support/plans";

function cronJob(inputs: Record<string, unknown>): PlannedResource {
    return plannedResource("urn:pulumi:dev::probe::kubernetes:batch/v1:CronJob::probe", "kubernetes:batch/v1:CronJob", "probe", inputs);
}

describe("text plan summaries (packages/offline-plan/src/format.ts keyProperties)", () => {
    it("a CronJob without a namespace, history limits or security context reads (not set), never undefined", () => {
        const lines = keyProperties(cronJob({ spec: { schedule: "*/5 * * * *", jobTemplate: { spec: { template: { spec: { containers: [{ image: "busybox:1.36" }] } } } } } }));
        assert.ok(!lines.some((l) => l.includes("undefined")), lines.join("\n"));
        assert.ok(lines.includes("namespace=(not set)"));
        assert.ok(lines.includes("history=(not set)/(not set)"));
        assert.ok(lines.includes("image=busybox:1.36"));
        assert.ok(lines.includes('schedule="*/5 * * * *"'));
    });
});
