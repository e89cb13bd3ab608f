/**
 * src/reserved-names.cjs: the loader refuses a top-level declaration of a name the CommonJS wrapper binds,
 * as the Pulumi CLI (ts-node) does, and lets through every declaration tsc and Node accept (esbuild alone
 * would rename them all and run the program).
 */
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { TS_REGISTER } from "../src/runner";
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a CommonJS module of the loader's
const { checkReservedNames } = require("../src/reserved-names.cjs") as { checkReservedNames(file: string, source: string): void };

function refusal(source: string): string | undefined {
    try {
        checkReservedNames("/p/x.ts", source);
        return undefined;
    } catch (err) {
        assert.equal((err as NodeJS.ErrnoException).code, "OFFLINE_PLAN_RESERVED_NAME");
        return (err as Error).message;
    }
}

describe("offline-plan: top-level names CommonJS reserves (src/reserved-names.cjs)", function () {
    const refused: Array<[string, RegExp]> = [
        ['import * as fs from "fs";\nconst exports = [fs];\n', /^\/p\/x\.ts:2:7: 'exports' .* TS2441/],
        ["export const a = 1;\nvar exports = { a };\n", /^\/p\/x\.ts:2:5: 'exports' .* TS2441/],
        ["export {};\nfunction require(name: string) { return name; }\n", /^\/p\/x\.ts:2:10: 'require' .* TS2441/],
        ["export const x = 1;\nconst { module, y } = { module: 1, y: 2 };\n", /^\/p\/x\.ts:2:9: 'module' .* SyntaxError .*Identifier 'module' has already been declared/],
        ["class __dirname {}\n", /^\/p\/x\.ts:1:7: '__dirname' .* SyntaxError/],
        ["let [, require] = [1, 2];\n", /^\/p\/x\.ts:1:8: 'require' .* SyntaxError/],
    ];
    for (const [source, expected] of refused) {
        it(`refuses ${JSON.stringify(source.trim().split("\n").pop())}`, () => {
            assert.match(refusal(source) ?? "(accepted)", expected);
        });
    }

    const accepted = [
        // Older programs, written before @types/node: ambient, emits nothing.
        "declare var require: any;\nexport const a = require('fs');\n",
        "declare const module: { exports: unknown };\nexport {};\n",
        // Not at the top level, or another name.
        "export function f() { const exports = 1; return exports; }\n",
        "const exports2 = 1;\nexport const exportsBucket = exports2;\n",
        // A script (no import or export) may redeclare with var: Node's wrapper parameter is simply shadowed.
        "var __dirname = '/srv';\nconsole.log(__dirname);\n",
        // In a comment or a string only.
        "// const exports = 1\nexport const s = 'let require = 2';\n",
        "export const usesModule = module.exports === exports && typeof require === 'function';\n",
    ];
    for (const source of accepted) {
        it(`accepts ${JSON.stringify(source.trim().split("\n")[0])}`, () => {
            assert.equal(refusal(source), undefined);
        });
    }

    it("makes the loader refuse the file before it runs, naming file:line (register.cjs)", function () {
        this.timeout(30_000);
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "offline-plan-reserved-"));
        try {
            fs.writeFileSync(path.join(dir, "main.ts"), 'console.log("ran");\nconst exports = { a: 1 };\nexport const a = exports.a;\n');
            const child = spawnSync(process.execPath, ["--require", TS_REGISTER, path.join(dir, "main.ts")], { encoding: "utf8", env: { ...process.env, TMPDIR: dir } });
            assert.notEqual(child.status, 0);
            assert.doesNotMatch(child.stdout, /ran/);
            assert.match(child.stderr, /main\.ts:2:7: 'exports' is declared at the top level/);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});
