/**
 * The benchmark harness's pieces that decide what is measured (no timings asserted): the floor loads
 * exactly the @pulumi modules the program imports, and each of them resolves.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { median, programModules, waitedChildrenCpu } from "../bench/run";

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

    it("reads the waited-for children's CPU time from a stat line whose command name holds spaces and parentheses", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-stat-"));
        try {
            const stat = path.join(dir, "stat");
            // pid (comm) state ppid ... utime(14) stime(15) cutime(16) cstime(17) ...
            fs.writeFileSync(stat, "4242 (node a) (b)) S 1 4242 4242 0 -1 4194560 100 200 0 0 7 3 250 37 20 0 11 0 900 1000 2000\n");
            assert.strictEqual(waitedChildrenCpu(stat), 2.87);
            assert.strictEqual(waitedChildrenCpu(path.join(dir, "missing")), undefined);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("median of odd and even counts", () => {
        assert.strictEqual(median([3, 1, 2]), 2);
        assert.strictEqual(median([4, 1, 3, 2]), 2.5);
    });
});
