/**
 * A lookup no stand-in answers stays unknown in its Promise form even when the program makes it an Output
 * (`pulumi.output(aws.rds.getInstance(...))`, and the Helm v3 Chart's own `pulumi.output(invoke("kubernetes:helm:template"))`),
 * as its Output form does (src/data-sources.ts installUnknownInvokes). Before (h40 trial, pulumi/examples
 * kubernetes-ts-helm-wordpress), `pulumi.output` saw an object with no fields: the lifted `endpoint` was dropped,
 * a resource's input read from it was planned as not set, an `.apply` ran with `undefined` ("postgres://undefined"),
 * and a chart's objects were a known empty set, so the program's own `.apply` over one of them failed the plan in
 * node_modules (`Cannot read properties of undefined (reading 'status')`, kubernetes/yaml/yaml.js).
 */
import { strict as assert } from "assert";
import * as path from "path";
import { PlannedResource, UNKNOWN, UNKNOWN_TEXT, unwrapSecrets } from "../src/model";
import { PlanningServer } from "../src/server";

const PROGRAM = path.join(__dirname, "fixtures", "lookup-promise-wrapped");
const isUnknownValue = (value: unknown) => value === UNKNOWN || value === UNKNOWN_TEXT;

describe("offline-plan: a lookup's Promise form made an Output", function () {
    this.timeout(120_000);
    let server: PlanningServer;
    after(() => server?.close());

    it("stays unknown: its fields, the resources and applies over it, a Helm v3 Chart's objects", async () => {
        server = new PlanningServer();
        const [plan] = await server.plan({ programDir: PROGRAM, stacks: ["dev"], inDependencyOrder: true, preview: false });
        const parameter = plan.resources.find((r: PlannedResource) => r.name === "orders-host");
        // The provider marks a Parameter's value secret: an unknown secret, not a missing value.
        assert.ok(isUnknownValue(unwrapSecrets(parameter?.inputs.value)), "the Parameter's value is unknown, not missing");
        assert.deepEqual(
            Object.entries(plan.outputs).map(([name, value]) => [name, isUnknownValue(value)]).sort(),
            [["cacheIp", true], ["cacheObjects", true], ["ordersEndpoint", true], ["ordersUrl", true]],
        );
        assert.deepEqual(
            plan.lookups.map((l) => [l.function, l.result, l.detail]),
            // The chart's objects are named as not planned, as a Helm v3 Release's are (sdk-patches.ts watchMonitor).
            [["aws.rds.getInstance", "unknown", undefined], ["kubernetes:helm.sh/v3:Chart", "not planned", "cache"], ["kubernetes.helm.template", "unknown", undefined]],
        );
        assert.deepEqual((plan.unknownApplies ?? []).map((a) => a.where.replace(/:\d+$/, "")).sort(), ["index.ts:9", "index.ts:13", "index.ts:14"].sort());
    });

    it("refuses to be text whole, as each of its fields does (was the text \"{}\")", async () => {
        await assert.rejects(
            server.plan({ programDir: path.join(__dirname, "fixtures", "lookup-promise-as-json"), stacks: ["dev"], inDependencyOrder: true, preview: false }),
            /index\.ts:5:\d+: aws\.rds\.getInstance\(\.\.\.\) is not known offline \(no stand-in answers aws:rds\/getInstance:getInstance\), and the program uses it as text/,
        );
    });
});
