/**
 * `npm run typecheck` as part of `npm test`: the strict TypeScript check of the whole repository (packages/offline-plan/register.cjs runs
 * the tests without type checking). A test of its own so that it runs beside the others (.mocharc.js
 * starts it first) instead of before them. tools/typecheck.ts is tsc's build mode with an incremental record
 * keyed by the installed dependencies: after `npm run lint` has checked the same files, this takes a second.
 */
import { strict as assert } from "assert";
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { typecheckConfig } from "../tools/typecheck";
import { TS_REGISTER } from "offline-plan/runner";

const REPO = path.resolve(__dirname, "..");

describe("typecheck (tsc --build, tsconfig.json, output under node_modules/.cache)", function () {
    this.timeout(300_000);

    it("has no type error anywhere in the repository", async () => {
        const child = spawn(process.execPath, ["--require", TS_REGISTER, path.join(REPO, "tools", "typecheck.ts")], { cwd: REPO });
        let output = "";
        child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
        child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
        const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
        assert.equal(code, 0, output);
    });

    it("checks the files tsconfig.json includes, with its options, its output under node_modules/.cache", () => {
        const config = JSON.parse(fs.readFileSync(typecheckConfig(), "utf8")) as { extends: string; compilerOptions: Record<string, unknown>; include?: unknown; files?: unknown };
        assert.equal(path.resolve(path.dirname(typecheckConfig()), config.extends), path.join(REPO, "tsconfig.json"));
        assert.equal(config.compilerOptions.noEmit, undefined);
        assert.ok(path.resolve(path.dirname(typecheckConfig()), String(config.compilerOptions.outDir)).startsWith(path.join(REPO, "node_modules", ".cache") + path.sep));
        assert.equal(config.include, undefined, "the include list is tsconfig.json's");
        assert.equal(config.files, undefined);
        assert.ok(typecheckConfig().startsWith(path.join(REPO, "node_modules") + path.sep), "under node_modules: types resolve from the repository's @types");
    });

    // `npx tsc --build` (tsconfig.json, which emits) reported TS2441 on a corpus program while the check was
    // clean: under noEmit tsc skips the checks of the code it would emit.
    it("reports what tsc reports when it emits: a module-level `const exports` (TS2441)", () => {
        const dir = fs.mkdtempSync(path.join(path.dirname(typecheckConfig()), "..", "typecheck-probe-"));
        try {
            fs.writeFileSync(path.join(dir, "probe.ts"), 'const exports = { bucket: "b" };\nexport const exportBucket = exports.bucket;\n');
            // The check's own options (extended), on the probe alone (`files`: the inherited exclude names node_modules), written in the probe's directory only.
            const probeConfig = { extends: path.relative(dir, typecheckConfig()), compilerOptions: { incremental: false, outDir: "out" }, files: ["probe.ts"], include: [] };
            fs.writeFileSync(path.join(dir, "tsconfig.json"), JSON.stringify(probeConfig));
            const tsc = spawnSync(process.execPath, [require.resolve("typescript/bin/tsc"), "-p", path.join(dir, "tsconfig.json")], { cwd: REPO, encoding: "utf8" });
            assert.match(tsc.stdout, /probe\.ts\(1,7\): error TS2441: Duplicate identifier 'exports'/, tsc.stdout + tsc.stderr);
            assert.notEqual(tsc.status, 0);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});
