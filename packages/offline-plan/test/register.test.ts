/**
 * register.cjs, the TypeScript loader of every CLI, planning child and test process: the nearest
 * tsconfig.json decides the emit, import() of an extensionless .ts path works as under tsc's CommonJS, a
 * stack frame names the .ts file and line, and the compile cache neither serves a stale compile nor breaks
 * when it cannot be written.
 */
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { TS_REGISTER } from "../src/runner";

/** Runs `file` from the package's directory, as the CLIs run a program in a directory of its own. */
function runTs(file: string, tmpdir: string) {
    const child = spawnSync(process.execPath, ["--require", TS_REGISTER, file], { cwd: path.resolve(__dirname, ".."), encoding: "utf8", env: { ...process.env, TMPDIR: tmpdir } });
    return { status: child.status, stdout: child.stdout.trim(), stderr: child.stderr };
}

function write(file: string, text: string): string {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text);
    return file;
}

describe("offline-plan/register.cjs (the TypeScript loader)", function () {
    this.timeout(60_000);
    let dir: string;
    let tmpdir: string;

    beforeEach(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "offline-plan-register-"));
        tmpdir = fs.mkdtempSync(path.join(os.tmpdir(), "offline-plan-register-tmp-"));
    });
    afterEach(() => {
        fs.rmSync(dir, { recursive: true, force: true });
        fs.rmSync(tmpdir, { recursive: true, force: true });
    });

    // A declared-only class field exists on the instance with define semantics (target ES2022, tsc's default)
    // and not without them: the emit depends on the tsconfig.json next to the file.
    const CLASS_FIELD = `class Holder { declare readonly marker?: string; field!: number; }\nconsole.log("field" in new Holder());\n`;

    it("compiles each file with the tsconfig.json nearest to it, and compiles again when that tsconfig changes", () => {
        const tsconfig = path.join(dir, "tsconfig.json");
        const main = write(path.join(dir, "src", "main.ts"), CLASS_FIELD);
        write(tsconfig, JSON.stringify({ compilerOptions: { target: "es2022", strict: true } }));
        assert.deepEqual(runTs(main, tmpdir), { status: 0, stdout: "true", stderr: "" });
        // The same file, unchanged: a cached compile would still say true.
        write(tsconfig, `{\n  // comments are allowed, as tsc allows them\n  "compilerOptions": { "target": "es2022", "useDefineForClassFields": false }\n}\n`);
        assert.deepEqual(runTs(main, tmpdir), { status: 0, stdout: "false", stderr: "" });
    });

    it("turns import() of an extensionless .ts path into require(), as tsc's CommonJS output does", () => {
        write(path.join(dir, "lib", "answer.ts"), `export const answer: number = 42;\n`);
        const main = write(path.join(dir, "main.ts"), `async function main(): Promise<void> {\n    const { answer } = await import("./lib/answer");\n    console.log(answer);\n}\nvoid main();\n`);
        assert.deepEqual(runTs(main, tmpdir), { status: 0, stdout: "42", stderr: "" });
    });

    it("resolves a .js specifier to its .ts file in an ES-module package only, as ts-node's ESM loader and TypeScript do", () => {
        write(path.join(dir, "esm", "package.json"), JSON.stringify({ type: "module" }));
        write(path.join(dir, "esm", "lib", "helper.ts"), `export const greeting: string = "hello from helper.ts";\n`);
        write(path.join(dir, "esm", "main.ts"), `import { greeting } from "./lib/helper.js";\nconsole.log(greeting);\n`);
        // Required, as the planner requires a program's entry (node would run a "type": "module" entry as ESM).
        const esm = write(path.join(dir, "run-esm.ts"), `require("./esm/main.ts");\n`);
        assert.deepEqual(runTs(esm, tmpdir), { status: 0, stdout: "hello from helper.ts", stderr: "" });
        // A .js file that exists is the one loaded.
        write(path.join(dir, "esm", "lib", "helper.js"), `export const greeting = "hello from helper.js";\n`);
        assert.equal(runTs(esm, tmpdir).stdout, "hello from helper.js");
        // A CommonJS package: ts-node fails on the specifier under the Pulumi CLI, and so does this loader.
        write(path.join(dir, "cjs", "lib", "helper.ts"), `export const greeting: string = "hello";\n`);
        write(path.join(dir, "cjs", "main.ts"), `import { greeting } from "./lib/helper.js";\nconsole.log(greeting);\n`);
        const cjs = write(path.join(dir, "run-cjs.ts"), `require("./cjs/main.ts");\n`);
        const failed = runTs(cjs, tmpdir);
        assert.notEqual(failed.status, 0);
        assert.match(failed.stderr, /Cannot find module '\.\/lib\/helper\.js'/);
    });

    it("maps a stack frame to the .ts file and line that threw, from a fresh compile and from the cache alike", () => {
        const main = write(path.join(dir, "deep", "thrower.ts"), `interface Shape { sides: number }\nconst shape: Shape = { sides: 3 };\n\nfunction fail(): never {\n    throw new Error(\`bad shape \${shape.sides}\`);\n}\ntry { fail(); } catch (e) { console.log((e as Error).stack!.split("\\n")[1].trim()); }\n`);
        for (const run of ["fresh", "cached"]) {
            const result = runTs(main, tmpdir);
            assert.equal(result.status, 0, `${run}: ${result.stderr}`);
            assert.equal(result.stdout, `at fail (${main}:5:11)`, run);
        }
    });

    it("serves a file's new text, not its old compile, once the file changes", () => {
        const main = write(path.join(dir, "main.ts"), `console.log("first" as string);\n`);
        assert.equal(runTs(main, tmpdir).stdout, "first");
        write(main, `console.log("second" as string);\n`);
        assert.equal(runTs(main, tmpdir).stdout, "second");
    });

    it("a module loaded again in the same process (the next stack) is served its compile without the cache directory, and a changed text compiled afresh", () => {
        const file = write(path.join(dir, "value.ts"), `export const value: string = "real";\n`);
        const cacheDir = () => path.join(tmpdir, fs.readdirSync(tmpdir).find((name) => name.startsWith("offline-plan-ts-")) ?? "missing");
        const plant = `for (const entry of require("fs").readdirSync(${JSON.stringify("CACHE")}).filter((n) => n.endsWith(".js"))) require("fs").writeFileSync(require("path").join(${JSON.stringify("CACHE")}, entry), "exports.value = 'planted';");`;
        const load = `const load = () => { delete require.cache[${JSON.stringify(file)}]; return require(${JSON.stringify(file)}).value; };`;
        // First process: compiles and caches. Second: reads the cache, then (the cache now planted) loads again.
        assert.equal(runTs(write(path.join(dir, "first.ts"), `${load}\nconsole.log(load());\n`), tmpdir).stdout, "real");
        const main = write(path.join(dir, "again.ts"), `${load}\nconst first = load();\n${plant.replaceAll("CACHE", cacheDir())}\nconst again = load();\nrequire("fs").writeFileSync(${JSON.stringify(file)}, 'export const value: string = "edited";\\n');\nconsole.log([first, again, load()].join(" "));\n`);
        assert.deepEqual(runTs(main, tmpdir), { status: 0, stdout: "real real edited", stderr: "" });
    });

    it("does not load esbuild's API in a process whose modules are all in the cache", () => {
        const main = write(path.join(dir, "main.ts"), `const loaded: string[] = Object.keys(require.cache).filter((f) => /[\\/]esbuild[\\/]lib[\\/]main[.]js$/.test(f));\nconsole.log(loaded.length);\n`);
        assert.deepEqual(runTs(main, tmpdir), { status: 0, stdout: "1", stderr: "" }, "the first process compiles");
        assert.deepEqual(runTs(main, tmpdir), { status: 0, stdout: "0", stderr: "" }, "the second finds its compile cached");
    });

    it("still runs when the cache directory cannot be written", () => {
        // A temp dir that is a file: no cache directory can be made under it, even by root.
        const notADirectory = write(path.join(tmpdir, "a-file"), "");
        const main = write(path.join(dir, "main.ts"), `const n: number = 7;\nconsole.log(n * 6);\n`);
        const result = runTs(main, notADirectory);
        assert.deepEqual(result, { status: 0, stdout: "42", stderr: "" });
    });

    it("neither reads nor writes a cache directory others can write to (its files are code this process runs)", () => {
        const main = write(path.join(dir, "main.ts"), `const n: number = 7;\nconsole.log(n * 6);\n`);
        assert.deepEqual(runTs(main, tmpdir), { status: 0, stdout: "42", stderr: "" });
        const cache = path.join(tmpdir, fs.readdirSync(tmpdir).find((name) => name.startsWith("offline-plan-ts-")) ?? "missing");
        const entries = fs.readdirSync(cache).filter((name) => name.endsWith(".js"));
        assert.ok(entries.length > 0, "the first run cached its compile");
        // What another user could plant there once the directory is open to them.
        fs.chmodSync(cache, 0o777);
        for (const entry of entries) {
            fs.writeFileSync(path.join(cache, entry), `console.log("planted");\n`);
        }
        assert.deepEqual(runTs(main, tmpdir), { status: 0, stdout: "42", stderr: "" });
        assert.deepEqual(fs.readdirSync(cache).filter((name) => name.endsWith(".js")).sort(), entries.sort(), "nothing written there either");
    });

    it("reports a syntax error with the file and line", () => {
        const main = write(path.join(dir, "broken.ts"), `const ok = 1;\nconst = 2;\n`);
        const result = runTs(main, tmpdir);
        assert.notEqual(result.status, 0);
        assert.match(result.stderr, /broken\.ts:2:6: ERROR: Expected identifier but found "="/);
    });
});
