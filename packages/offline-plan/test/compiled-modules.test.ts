/**
 * src/compiled-modules.ts: a module loaded again (the program, for every stack) runs its body again from the
 * function compiled the first time, with its source map still read; dependencies compile from a code cache on
 * disk, keyed by their text, so that a changed module is never run from stale code.
 * Each case runs in a process of its own, with a temp dir of its own (the cache lives under it).
 */
import { strict as assert } from "assert";
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { TS_REGISTER } from "../src/runner";

const COMPILED_MODULES = path.resolve(__dirname, "..", "src", "compiled-modules.ts");

interface Outcome {
    values: unknown[];
    counts: { compiled: number; fromCache: number; rerun: number };
}

/** The `node -e` script that runs `body` with `values` and `load`, then prints the outcome. */
function script(body: string): string {
    return [
        `const { compiledModules } = require(${JSON.stringify(COMPILED_MODULES)});`,
        "const values = [];",
        "const load = (file) => { delete require.cache[require.resolve(file)]; return require(file); };",
        body,
        "process.stdout.write(JSON.stringify({ values, counts: compiledModules }));",
    ].join("\n");
}

/** Runs `body` (JavaScript; `load(file)` requires a file afresh) in a node process under the loader and the module. */
function run(tmp: string, body: string, nodeArgs: string[] = [], env: NodeJS.ProcessEnv = {}): Outcome {
    const child = spawnSync(process.execPath, [...nodeArgs, "--require", TS_REGISTER, "-e", script(body)], { cwd: tmp, encoding: "utf8", env: { ...process.env, TMPDIR: tmp, ...env } });
    assert.equal(child.status, 0, child.stderr);
    return JSON.parse(child.stdout) as Outcome;
}

/** `run`, in processes running side by side: one per body, all with the same temp dir (and cache). */
async function runTogether(tmp: string, bodies: string[]): Promise<Outcome[]> {
    return Promise.all(
        bodies.map(
            (body) =>
                new Promise<Outcome>((resolve, reject) => {
                    const child = spawn(process.execPath, ["--require", TS_REGISTER, "-e", script(body)], { cwd: tmp, env: { ...process.env, TMPDIR: tmp } });
                    let stdout = "";
                    let stderr = "";
                    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
                    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
                    child.on("error", reject);
                    child.on("close", (status) => (status === 0 ? resolve(JSON.parse(stdout) as Outcome) : reject(new Error(`exit ${status}: ${stderr}`))));
                }),
        ),
    );
}

/** A module throwing at line 3 of its TypeScript (line 2 of its JavaScript: only its source map names line 3) when globalThis.fail is set. */
const THROWER = 'interface Shape { size: number }\nconst shape: Shape = { size: 1 };\nif ((globalThis as any).fail) { throw new Error("boom " + shape.size); }\nexport const ok = true;\n';

/** Loads `file` with globalThis.fail set and pushes the stack trace's line that names a thrower.ts. */
const throwFrom = (file: string): string => `globalThis.fail = true; try { load(${JSON.stringify(file)}); } catch (err) { values.push(err.stack.split("\\n").find((line) => line.includes("thrower.ts"))); }`;

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

    it("a dependency that calls import() runs it in a second process too (V8 drops a script's import callback when it comes from another process's code cache)", () => {
        // Seen as ESLint's config loading failing (ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING) in a mocha worker that had
        // loaded the planner before: eslint's modules came from the worker's code cache of an earlier run.
        const pkg = path.join(tmp, "node_modules", "dynamic");
        fs.mkdirSync(pkg, { recursive: true });
        fs.writeFileSync(path.join(pkg, "index.js"), 'module.exports = () => import("path").then((m) => typeof m.join);\n');
        const probe = `require(${JSON.stringify(COMPILED_MODULES)}); require("dynamic")().then((kind) => process.stdout.write(kind), (err) => process.stdout.write(String(err.code)));`;
        const once = () => spawnSync(process.execPath, ["--require", TS_REGISTER, "-e", probe], { cwd: tmp, encoding: "utf8", env: { ...process.env, TMPDIR: tmp } });
        const outcomes = [once(), once()];
        assert.deepEqual(outcomes.map((o) => o.stdout), ["function", "function"], outcomes.map((o) => o.stderr).join("\n"));
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

    it("copies of a module at two paths (two checkouts) each report their own file:line, in one process and in the next", () => {
        // Their inline source maps are the same text (the source is named relative to the module).
        for (const copy of ["a", "b"]) {
            fs.mkdirSync(path.join(tmp, copy));
            fs.writeFileSync(path.join(tmp, copy, "thrower.ts"), THROWER);
        }
        const first = run(tmp, `${throwFrom("./a/thrower.ts")} ${throwFrom("./b/thrower.ts")}`);
        const second = run(tmp, `${throwFrom("./b/thrower.ts")} ${throwFrom("./a/thrower.ts")}`);
        const at = (copy: string): RegExp => new RegExp(`\\(${path.join(fs.realpathSync(tmp), copy, "thrower.ts").replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:3:\\d+\\)`);
        assert.match(String(first.values[0]), at("a"));
        assert.match(String(first.values[1]), at("b"));
        assert.match(String(second.values[0]), at("b"));
        assert.match(String(second.values[1]), at("a"));
    });

    it("processes writing the cache side by side (copies of a module at several paths) each report their own file:line, and leave a cache the next process reads", async () => {
        const copies = ["c1", "c2", "c3", "c4"];
        for (const copy of copies) {
            fs.mkdirSync(path.join(tmp, copy));
            fs.writeFileSync(path.join(tmp, copy, "thrower.ts"), THROWER);
        }
        fs.mkdirSync(path.join(tmp, "node_modules", "dep"), { recursive: true });
        fs.writeFileSync(path.join(tmp, "node_modules", "dep", "index.js"), "module.exports = { answer: () => 41 };\n");
        const body = (copy: string): string => `values.push(require("dep").answer()); ${throwFrom(`./${copy}/thrower.ts`)}`;
        for (let round = 0; round < 2; round++) {
            const outcomes = await runTogether(tmp, copies.map(body));
            outcomes.forEach((outcome, i) => {
                assert.equal(outcome.values[0], 41);
                assert.ok(String(outcome.values[1]).includes(`${path.join(fs.realpathSync(tmp), copies[i], "thrower.ts")}:3:`), `${copies[i]}: ${String(outcome.values[1])}`);
            });
        }
        const dir = path.join(tmp, fs.readdirSync(tmp).find((name) => name.startsWith("offline-plan-v8-"))!);
        const left = [...fs.readdirSync(dir), ...fs.readdirSync(path.join(dir, "maps"))].filter((name) => name.endsWith(".tmp"));
        assert.deepEqual(left, [], "no partly written file left behind");
        const next = run(tmp, `values.push(require("dep").answer());`);
        assert.deepEqual(next.values, [41]);
        assert.ok(next.counts.fromCache >= 1 && next.counts.compiled === 0, JSON.stringify(next.counts));
    });

    it("a cache file open for reading while another process writes the cache reads whole: the file is replaced, never written in place", () => {
        for (const dep of ["one", "two"]) {
            fs.mkdirSync(path.join(tmp, "node_modules", dep), { recursive: true });
            fs.writeFileSync(path.join(tmp, "node_modules", dep, "index.js"), `module.exports = ${JSON.stringify(dep)};\n`);
        }
        run(tmp, `values.push(require("one"));`);
        const dir = path.join(tmp, fs.readdirSync(tmp).find((name) => name.startsWith("offline-plan-v8-"))!);
        const [file] = fs.readdirSync(dir).filter((name) => name.endsWith(".bin"));
        const before = fs.readFileSync(path.join(dir, file));
        const reader = fs.openSync(path.join(dir, file), "r");
        try {
            const writer = run(tmp, `values.push(require("one"), require("two"));`);
            assert.deepEqual([writer.values, writer.counts.compiled], [["one", "two"], 1], "the second process wrote the file anew");
            const read = Buffer.alloc(before.length + 1);
            const length = fs.readSync(reader, read, 0, read.length, 0);
            assert.ok(read.subarray(0, length).equals(before), "what a reader had open is the file it opened, whole");
        } finally {
            fs.closeSync(reader);
        }
        const next = run(tmp, `values.push(require("one"), require("two"));`);
        assert.deepEqual([next.counts.fromCache, next.counts.compiled], [2, 0], JSON.stringify(next.counts));
    });

    it("a cache written under other V8 flags is not used: the module is compiled afresh and runs its own code", () => {
        fs.mkdirSync(path.join(tmp, "node_modules", "dep"), { recursive: true });
        fs.writeFileSync(path.join(tmp, "node_modules", "dep", "index.js"), "module.exports = { answer: () => 41 };\n");
        const body = `values.push(require("dep").answer());`;
        run(tmp, body, ["--max-old-space-size=300"]);
        // Other flags, another file; the first file's data copied under the second's name (as a cache written by
        // another Node or V8 would read): V8 rejects it (cachedDataRejected) and the module compiles from its text.
        const dir = path.join(tmp, fs.readdirSync(tmp).find((name) => name.startsWith("offline-plan-v8-"))!);
        const [written] = fs.readdirSync(dir).filter((name) => name.endsWith(".bin"));
        run(tmp, body);
        const plain = fs.readdirSync(dir).filter((name) => name.endsWith(".bin") && name !== written);
        assert.equal(plain.length, 1, "a file of its own for other flags");
        fs.copyFileSync(path.join(dir, written), path.join(dir, plain[0]));
        const rejected = run(tmp, body);
        assert.deepEqual(rejected.values, [41]);
        assert.deepEqual([rejected.counts.fromCache, rejected.counts.compiled], [0, 1], JSON.stringify(rejected.counts));
        const again = run(tmp, body);
        assert.deepEqual([again.counts.fromCache, again.counts.compiled], [1, 0], "the file was written anew with this process's data");
    });

    it("OFFLINE_PLAN_COMPILE_CACHE=0 leaves compiling to Node", () => {
        fs.writeFileSync(path.join(tmp, "counter.ts"), "export const run = 1;\n");
        const script = `const { compiledModules } = require(${JSON.stringify(COMPILED_MODULES)}); require("./counter.ts"); process.stdout.write(JSON.stringify(compiledModules));`;
        const child = spawnSync(process.execPath, ["--require", TS_REGISTER, "-e", script], { cwd: tmp, encoding: "utf8", env: { ...process.env, TMPDIR: tmp, OFFLINE_PLAN_COMPILE_CACHE: "0" } });
        assert.equal(child.status, 0, child.stderr);
        assert.deepEqual(JSON.parse(child.stdout), { compiled: 0, fromCache: 0, rerun: 0 });
    });
});
