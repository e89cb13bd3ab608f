/**
 * The package's own shape: its modules import each other without a circle (issue 24: runner, mock-runtime
 * and dependencies did), and nothing outside the package but Node's modules and its declared dependencies.
 */
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { builtinModules } from "module";

const SRC = path.resolve(__dirname, "..", "src");
const ROOT = path.resolve(__dirname, "..");
const PKG = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as {
    name: string;
    dependencies?: object;
    peerDependencies?: object;
    exports: Record<string, string>;
    typesVersions: { "*": Record<string, string[]> };
    types: string;
    bin: Record<string, string>;
};

/** Every module specifier a source file imports or requires (type-only imports included). */
export function specifiers(source: string): string[] {
    const found: string[] = [];
    const code = source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
    for (const match of code.matchAll(/(?:^|\n)\s*(?:import|export)\b[^;'"]*?from\s+["']([^"']+)["']|(?:^|\n)\s*import\s+["']([^"']+)["']|\brequire\(\s*["']([^"']+)["']\s*\)/g)) {
        found.push(match[1] ?? match[2] ?? match[3]);
    }
    return found;
}

/** A circle of local imports in `graph`, as the files on it, or undefined. */
export function findCycle(graph: Map<string, string[]>): string[] | undefined {
    const state = new Map<string, "visiting" | "done">();
    const trail: string[] = [];
    const visit = (file: string): string[] | undefined => {
        if (state.get(file) === "done") {
            return undefined;
        }
        if (state.get(file) === "visiting") {
            return [...trail.slice(trail.indexOf(file)), file];
        }
        state.set(file, "visiting");
        trail.push(file);
        for (const next of graph.get(file) ?? []) {
            const cycle = visit(next);
            if (cycle) {
                return cycle;
            }
        }
        trail.pop();
        state.set(file, "done");
        return undefined;
    };
    for (const file of graph.keys()) {
        const cycle = visit(file);
        if (cycle) {
            return cycle;
        }
    }
    return undefined;
}

describe("offline-plan: the package's structure", () => {
    const files = fs.readdirSync(SRC).filter((f) => f.endsWith(".ts"));
    const imports = new Map(files.map((f) => [f, specifiers(fs.readFileSync(path.join(SRC, f), "utf8"))]));

    it("finds a circle when there is one (the check itself)", () => {
        assert.deepEqual(findCycle(new Map([["runner.ts", ["mock-runtime.ts"]], ["mock-runtime.ts", ["dependencies.ts"]], ["dependencies.ts", ["runner.ts"]]])), ["runner.ts", "mock-runtime.ts", "dependencies.ts", "runner.ts"]);
        assert.deepEqual(specifiers('import type { A } from "./a";\nimport "./b";\nconst c = require("./c");'), ["./a", "./b", "./c"]);
    });

    it("has no import circle among its modules", () => {
        const graph = new Map([...imports].map(([file, specs]) => [file, specs.filter((s) => s.startsWith("./")).map((s) => `${path.basename(s)}.ts`)]));
        assert.equal(findCycle(graph)?.join(" -> "), undefined);
    });

    it("imports only Node's modules, its own files and its declared dependencies and peers", () => {
        const declared = new Set([...Object.keys(PKG.dependencies ?? {}), ...Object.keys(PKG.peerDependencies ?? {})]);
        const strays = [...imports].flatMap(([file, specs]) =>
            specs
                .filter((s) => !s.startsWith("./") && !builtinModules.includes(s.replace(/^node:/, "")))
                .filter((s) => !declared.has(s.startsWith("@") ? s.split("/").slice(0, 2).join("/") : s.split("/")[0]))
                .map((s) => `${file}: ${s}`),
        );
        assert.deepEqual(strays, []);
    });

    it("names an existing file for every entry point, and TypeScript (typesVersions, types) the same modules as Node (exports)", () => {
        for (const [subpath, target] of Object.entries(PKG.exports)) {
            assert.ok(fs.existsSync(path.join(ROOT, target)), `${subpath}: ${target} does not exist`);
        }
        const tsModules = Object.entries(PKG.exports).filter(([, target]) => target.endsWith(".ts"));
        assert.equal(`./${PKG.types}`, PKG.exports["."]);
        assert.deepEqual(
            Object.fromEntries(Object.entries(PKG.typesVersions["*"]).map(([subpath, [target]]) => [`./${subpath}`, `./${target}`])),
            Object.fromEntries(tsModules.filter(([subpath]) => subpath !== ".")),
        );
        // The map is what Node allows: a module it does not name is refused by the package's name.
        assert.ok(fs.existsSync(path.join(SRC, "protocol.ts")));
        assert.throws(() => require.resolve(`${PKG.name}/protocol`, { paths: [ROOT] }), (err: NodeJS.ErrnoException) => err.code === "ERR_PACKAGE_PATH_NOT_EXPORTED");
        assert.throws(() => require.resolve(`${PKG.name}/src/order`, { paths: [ROOT] }), (err: NodeJS.ErrnoException) => err.code === "ERR_PACKAGE_PATH_NOT_EXPORTED");
    });

    it("runs the plan CLI as its bin (bin/offline-plan.cjs): --help, and a usage error exits 2", () => {
        const bin = path.join(ROOT, PKG.bin["offline-plan"]);
        const help = spawnSync(process.execPath, [bin, "--help"], { cwd: os.tmpdir(), encoding: "utf8" });
        assert.equal(help.status, 0, help.stderr);
        assert.match(help.stdout, /^usage: offline-plan \[options\]\n/);
        assert.match(help.stdout, /--stack-outputs/);
        const bad = spawnSync(process.execPath, [bin, "--bogus"], { cwd: os.tmpdir(), encoding: "utf8" });
        assert.equal(bad.status, 2);
        assert.match(bad.stderr, /^unknown argument --bogus\nusage: offline-plan/);
        assert.equal(bad.stdout, "");
    });

    it("states in its README the usage --help prints and the SDK range package.json declares", () => {
        const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
        const help = spawnSync(process.execPath, [path.join(ROOT, PKG.bin["offline-plan"]), "--help"], { cwd: os.tmpdir(), encoding: "utf8" });
        const usage = /\n```text\n(usage: offline-plan[\s\S]*?)\n```\n/.exec(readme);
        assert.ok(usage, "README.md has no ```text block starting with the usage line");
        assert.equal(`${usage[1]}\n`, help.stdout, "README.md's usage block is not what --help prints");
        const peers = PKG.peerDependencies as Record<string, string>;
        const stated = [...readme.matchAll(/`@pulumi\/pulumi` is a peer dependency: `([^`]+)`/g)].map((m) => m[1]);
        assert.deepEqual(stated, [peers["@pulumi/pulumi"]], "README.md's supported range is not package.json's peerDependencies");
        const policy = [...readme.matchAll(/`@pulumi\/policy` is an optional peer dependency, for the policy harness only: `([^`]+)`/g)].map((m) => m[1]);
        assert.deepEqual(policy, [peers["@pulumi/policy"]], "README.md's @pulumi/policy range is not package.json's peerDependencies");
    });

    it("packs its code and README only (package.json files): every entry point and the bin, no tests", () => {
        const pack = spawnSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], { cwd: ROOT, encoding: "utf8" });
        assert.equal(pack.status, 0, pack.stderr);
        const packed = ((JSON.parse(pack.stdout) as { files: { path: string }[] }[])[0].files.map((f) => f.path)).sort();
        const wanted = ["README.md", "package.json", "register.cjs", ...Object.values(PKG.bin), ...fs.readdirSync(SRC).map((f) => `src/${f}`)].map((f) => path.posix.normalize(f)).sort();
        assert.deepEqual(packed, [...new Set(wanted)].sort());
        for (const target of Object.values(PKG.exports)) {
            assert.ok(packed.includes(path.posix.normalize(target)), `${target} (exports) is not packed`);
        }
    });
});
