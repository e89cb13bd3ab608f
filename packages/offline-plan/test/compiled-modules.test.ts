/**
 * src/compiled-modules.ts: a module loaded again (the program, for every stack) runs its body again from the
 * function compiled the first time, with its source map still read; dependencies compile from a code cache on
 * disk, keyed by their text, so that a changed module is never run from stale code.
 * Each case runs in a process of its own, with a temp dir of its own (the cache lives under it).
 */
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { TS_REGISTER } from "../src/runner";

const COMPILED_MODULES = path.resolve(__dirname, "..", "src", "compiled-modules.ts");

interface Outcome {
    values: unknown[];
    counts: { compiled: number; fromCache: number; rerun: number };
}

/** Runs `body` (JavaScript; `load(file)` requires a file afresh) in a node process under the loader and the module. */
function run(tmp: string, body: string, nodeArgs: string[] = []): Outcome {
    const script = [
        `const { compiledModules } = require(${JSON.stringify(COMPILED_MODULES)});`,
        "const values = [];",
        "const load = (file) => { delete require.cache[require.resolve(file)]; return require(file); };",
        body,
        "process.stdout.write(JSON.stringify({ values, counts: compiledModules }));",
    ].join("\n");
    const child = spawnSync(process.execPath, [...nodeArgs, "--require", TS_REGISTER, "-e", script], { cwd: tmp, encoding: "utf8", env: { ...process.env, TMPDIR: tmp } });
    assert.equal(child.status, 0, child.stderr);
    return JSON.parse(child.stdout) as Outcome;
}

describe("modules compiled once per process, dependencies from a code cache (src/compiled-modules.ts)", function () {
    this.timeout(60000);
    let tmp: string;
    beforeEach(() => {
        tmp = fs.mkdtempSync(path.join(os.tmpdir(), "compiled-modules-"));
    });
    afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

    it("a program module loaded again runs its body again (new exports) without being compiled again", () => {
        fs.writeFileSync(path.join(tmp, "counter.ts"), "const runs: number = ((globalThis as any).runs ?? 0) + 1;\n(globalThis as any).runs = runs;\nexport const run = runs;\n");
        const outcome = run(tmp, `values.push(load("./counter.ts").run, load("./counter.ts").run, load("./counter.ts").run);`);
        assert.deepEqual(outcome.values, [1, 2, 3]);
        assert.equal(outcome.counts.rerun, 2, "the second and third loads run the function compiled by the first");
    });

    it("a module whose text changed (same length) is compiled from its new text", () => {
        const file = path.join(tmp, "value.ts");
        fs.writeFileSync(file, "export const value = 1;\n");
        const outcome = run(tmp, `values.push(load("./value.ts").value); require("fs").writeFileSync(${JSON.stringify(file)}, "export const value = 2;\\n"); values.push(load("./value.ts").value);`);
        assert.deepEqual(outcome.values, [1, 2]);
        assert.equal(outcome.counts.rerun, 0);
    });

    it("an error in a module loaded again is reported at its TypeScript file:line, after the first load's module is collected", () => {
        // Line 3 of the TypeScript is line 2 of the JavaScript (the interface is erased): only the source map names line 3.
        fs.writeFileSync(path.join(tmp, "thrower.ts"), 'interface Shape { size: number }\nconst shape: Shape = { size: 1 };\nif ((globalThis as any).fail) { throw new Error("boom " + shape.size); }\nexport const ok = true;\n');
        const outcome = run(
            tmp,
            `load("./thrower.ts"); global.gc(); globalThis.fail = true; try { load("./thrower.ts"); } catch (err) { values.push(err.stack.split("\\n").find((line) => line.includes("thrower.ts"))); }`,
            ["--expose-gc"],
        );
        assert.match(String(outcome.values[0]), /thrower\.ts:3:\d+/);
        assert.equal(outcome.counts.rerun, 1);
    });

    it("a second process compiles a dependency from the cache; a dependency changed to a text of the same length runs its new code", () => {
        const pkg = path.join(tmp, "node_modules", "dep");
        fs.mkdirSync(pkg, { recursive: true });
        fs.writeFileSync(path.join(pkg, "index.js"), "module.exports = { answer: () => 41 };\n");
        const body = `values.push(require("dep").answer());`;
        const first = run(tmp, body);
        const second = run(tmp, body);
        assert.deepEqual([first.values, second.values], [[41], [41]]);
        assert.ok(second.counts.fromCache >= 1 && second.counts.compiled === 0, JSON.stringify(second.counts));
        // V8 checks a code cache against the source's length only: the cache is keyed by the text itself.
        fs.writeFileSync(path.join(pkg, "index.js"), "module.exports = { answer: () => 42 };\n");
        const changed = run(tmp, body);
        assert.deepEqual(changed.values, [42]);
        assert.equal(changed.counts.compiled, 1);
    });

    it("a cache directory others can write to is neither read nor written", () => {
        const pkg = path.join(tmp, "node_modules", "dep");
        fs.mkdirSync(pkg, { recursive: true });
        fs.writeFileSync(path.join(pkg, "index.js"), "module.exports = 41;\n");
        const body = `values.push(require("dep"));`;
        run(tmp, body);
        const dir = fs.readdirSync(tmp).find((name) => name.startsWith("offline-plan-v8-"));
        assert.ok(dir, "the first run made the cache directory");
        fs.chmodSync(path.join(tmp, dir), 0o777);
        const second = run(tmp, body);
        assert.deepEqual(second.values, [41]);
        assert.equal(second.counts.fromCache, 0, JSON.stringify(second.counts));
    });

    it("OFFLINE_PLAN_COMPILE_CACHE=0 leaves compiling to Node", () => {
        fs.writeFileSync(path.join(tmp, "counter.ts"), "export const run = 1;\n");
        const script = `const { compiledModules } = require(${JSON.stringify(COMPILED_MODULES)}); require("./counter.ts"); process.stdout.write(JSON.stringify(compiledModules));`;
        const child = spawnSync(process.execPath, ["--require", TS_REGISTER, "-e", script], { cwd: tmp, encoding: "utf8", env: { ...process.env, TMPDIR: tmp, OFFLINE_PLAN_COMPILE_CACHE: "0" } });
        assert.equal(child.status, 0, child.stderr);
        assert.deepEqual(JSON.parse(child.stdout), { compiled: 0, fromCache: 0, rerun: 0 });
    });
});
