/**
 * src/yaml-cache.ts: a YAML text's document read back from its JSON in a later process, exactly as yaml's parse
 * gives it, without loading yaml; what JSON cannot hold, and what the parser warns or fails on, parsed every time.
 */
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse } from "yaml";
import { jsonExact, parseYamlIn, yamlCacheFile } from "../src/yaml-cache";
import { TS_REGISTER } from "../src/runner";

const PROJECT = ["name: shop", "runtime: nodejs", "config:", "  region:", "    type: string", "    default: eu-west-1", "  replicas:", "    default: 3"].join("\n");
const STACK = ["config:", "  shop:region: eu-central-1", "  shop:db:", "    password:", "      secure: v1:abc", "  shop:tags:", "    - a", "    - 1.5", "    - true", "    - null"].join("\n");

describe("YAML documents cached across processes (packages/offline-plan/src/yaml-cache.ts)", function () {
    this.timeout(60000);
    let dir: string;
    beforeEach(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "yaml-cache-test-"));
    });
    afterEach(() => {
        fs.rmSync(dir, { recursive: true, force: true });
    });

    it("a text's document is written once and read back equal to yaml's parse; a changed text is parsed afresh", () => {
        assert.deepEqual(parseYamlIn(dir, STACK), parse(STACK));
        const file = yamlCacheFile(dir, STACK);
        assert.ok(fs.existsSync(file));
        assert.equal(fs.statSync(file).mode & 0o777, 0o600);
        // Read from the entry: what is in the file is what comes back.
        fs.writeFileSync(file, JSON.stringify({ config: { "shop:region": "from-the-cache" } }));
        assert.deepEqual(parseYamlIn(dir, STACK), { config: { "shop:region": "from-the-cache" } });
        const edited = STACK.replace("eu-central-1", "us-east-2");
        assert.deepEqual(parseYamlIn(dir, edited), parse(edited));
        assert.notEqual(yamlCacheFile(dir, edited), file);
    });

    it("a damaged entry is a miss, parsed and written anew", () => {
        const file = yamlCacheFile(dir, PROJECT);
        fs.writeFileSync(file, "{ not json");
        assert.deepEqual(parseYamlIn(dir, PROJECT), parse(PROJECT));
        assert.deepEqual(JSON.parse(fs.readFileSync(file, "utf8")), parse(PROJECT));
    });

    it("what JSON would change (infinities, -0, an alias's shared object) is parsed every time, as yaml gives it", () => {
        for (const text of ["a: .inf", "a: -.inf", "a: .nan", "a: -0", "base: &b { x: 1 }\nuse: *b"]) {
            const value = parseYamlIn(dir, text);
            assert.deepEqual(value, parse(text), text);
            assert.equal(fs.existsSync(yamlCacheFile(dir, text)), false, text);
        }
        const shared = parseYamlIn(dir, "base: &b { x: 1 }\nuse: *b") as { base: object; use: object };
        assert.equal(shared.base, shared.use, "an alias is the same object, as yaml gives it");
        assert.equal(jsonExact({ a: [1, "x", true, null, { b: 2 }] }), true);
        assert.equal(jsonExact({ a: undefined }), false);
        // eslint-disable-next-line no-sparse-arrays
        assert.equal(jsonExact([1, , 3]), false);
        assert.equal(jsonExact(new Date(0)), false);
        assert.equal(jsonExact(JSON.parse('{"__proto__": 1}')), false);
    });

    it("a text yaml fails or warns on throws or warns every time, and is never cached", () => {
        const broken = "a: [1, 2";
        const expected = (() => {
            try {
                parse(broken);
            } catch (err) {
                return (err as Error).message;
            }
            return "no error";
        })();
        for (let i = 0; i < 2; i++) {
            assert.throws(() => parseYamlIn(dir, broken), (err: Error) => err.message === expected);
        }
        assert.deepEqual(fs.readdirSync(dir), []);
        // A tag the parser does not know: a warning (process.emitWarning) at every parse, the value as parse gives it.
        const warned: string[] = [];
        const emit = process.emitWarning;
        process.emitWarning = ((warning: string | Error) => void warned.push(String(warning))) as typeof process.emitWarning;
        try {
            assert.deepEqual(parseYamlIn(dir, "a: !shop x"), { a: "x" });
            assert.deepEqual(parseYamlIn(dir, "a: !shop x"), { a: "x" });
        } finally {
            process.emitWarning = emit;
        }
        assert.equal(warned.length, 2, warned.join("\n"));
        assert.match(warned[0], /Unresolved tag: !shop/);
        const duplicate = "a: 1\na: 2";
        assert.throws(() => parseYamlIn(dir, duplicate));
        assert.deepEqual(fs.readdirSync(dir), []);
    });

    it("a process whose stack files are cached reads its settings without loading yaml, and reads the same settings", () => {
        const project = fs.mkdtempSync(path.join(os.tmpdir(), "yaml-cache-project-"));
        try {
            fs.writeFileSync(path.join(project, "Pulumi.yaml"), PROJECT);
            fs.writeFileSync(path.join(project, "Pulumi.dev.yaml"), STACK);
            const script = [
                `const { loadStackSettings } = require(${JSON.stringify(path.join(__dirname, "..", "src", "stack-settings.ts"))});`,
                `const settings = loadStackSettings(${JSON.stringify(project)}, "dev");`,
                "const yamlLoaded = Object.keys(require.cache).some((f) => /[\\\\/]node_modules[\\\\/]yaml[\\\\/]dist[\\\\/]/.test(f));",
                "console.log(JSON.stringify({ settings, yamlLoaded }));",
            ].join("\n");
            // TMPDIR: the cache's directory is a fresh one under it (the first process parses, the second reads).
            const run = () => {
                const child = spawnSync(process.execPath, ["--require", TS_REGISTER, "-e", script], { encoding: "utf8", env: { ...process.env, TMPDIR: dir } });
                assert.equal(child.status, 0, child.stderr);
                return JSON.parse(child.stdout) as { settings: unknown; yamlLoaded: boolean };
            };
            const first = run();
            const second = run();
            assert.equal(first.yamlLoaded, true);
            assert.equal(second.yamlLoaded, false);
            assert.deepEqual(second.settings, first.settings);
            assert.deepEqual((first.settings as { config: Record<string, string> }).config["shop:tags"], JSON.stringify(["a", 1.5, true, null]));
        } finally {
            fs.rmSync(project, { recursive: true, force: true });
        }
    });
});
