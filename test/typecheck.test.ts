/**
 * `npm run typecheck` as part of `npm test`: the strict TypeScript check of the whole repository (tools/register.cjs runs
 * the tests without type checking). A test of its own so that it runs beside the others (.mocharc.js
 * starts it first) instead of before them.
 */
import { strict as assert } from "assert";
import { spawn } from "child_process";
import * as path from "path";

const REPO = path.resolve(__dirname, "..");

describe("typecheck (tsc --noEmit, tsconfig.json)", function () {
    this.timeout(300_000);

    it("has no type error anywhere in the repository", async () => {
        const tsc = require.resolve("typescript/bin/tsc");
        const child = spawn(process.execPath, [tsc, "--noEmit", "-p", path.join(REPO, "tsconfig.json")], { cwd: REPO });
        let output = "";
        child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
        child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
        const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
        assert.equal(code, 0, output);
    });
});
