/**
 * The benchmark harness's pieces that decide what is measured (no timings asserted): the floor loads
 * exactly the @pulumi modules the program imports, and each of them resolves.
 */
import * as assert from "assert";
import { median, programModules } from "../bench/run";

describe("bench harness", () => {
    it("the floor loads the SDK and every @pulumi module the program imports", () => {
        const modules = programModules();
        assert.ok(modules.includes("@pulumi/pulumi"));
        // @pulumi/azure-native/resources is imported by stacks/azure.ts alone.
        for (const expected of ["@pulumi/aws/rds", "@pulumi/aws/s3", "@pulumi/aws/secretsmanager", "@pulumi/aws/route53", "@pulumi/azure-native/resources"]) {
            assert.ok(modules.includes(expected), `${expected} in ${modules.join(", ")}`);
        }
        for (const m of modules) {
            assert.doesNotThrow(() => require.resolve(m), m);
        }
    });

    it("median of odd and even counts", () => {
        assert.strictEqual(median([3, 1, 2]), 2);
        assert.strictEqual(median([4, 1, 3, 2]), 2.5);
    });
});
