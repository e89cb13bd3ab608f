/**
 * `npm run typecheck` as part of `npm test`: the strict TypeScript check of the whole repository (packages/offline-plan/register.cjs runs
 * the tests without type checking). A test of its own so that it runs beside the others (.mocharc.js
 * starts it first) instead of before them. tools/typecheck.ts is tsc's build mode with an incremental record
 * keyed by the installed dependencies: after `npm run lint` has checked the same files, this takes a second.
 */
import { strict as assert } from "assert";
import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { typecheckConfig } from "../tools/typecheck";
import { TS_REGISTER } from "offline-plan/runner";

const REPO = path.resolve(__dirname, "..");

describe("typecheck (tsc --build, tsconfig.json with no output)", function () {
    this.timeout(300_000);

    it("has no type error anywhere in the repository", async () => {
        const child = spawn(process.execPath, ["--require", TS_REGISTER, path.join(REPO, "tools", "typecheck.ts")], { cwd: REPO });
        let output = "";
        child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
        child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
        const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
        assert.equal(code, 0, output);
    });

    it("checks the files tsconfig.json includes, with its options, and no output", () => {
        const config = JSON.parse(fs.readFileSync(typecheckConfig(), "utf8")) as { extends: string; compilerOptions: Record<string, unknown>; include?: unknown; files?: unknown };
        assert.equal(path.resolve(path.dirname(typecheckConfig()), config.extends), path.join(REPO, "tsconfig.json"));
        assert.equal(config.compilerOptions.noEmit, true);
        assert.equal(config.include, undefined, "the include list is tsconfig.json's");
        assert.equal(config.files, undefined);
        assert.ok(typecheckConfig().startsWith(path.join(REPO, "node_modules") + path.sep), "under node_modules: types resolve from the repository's @types");
    });
});
