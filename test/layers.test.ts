/**
 * The program's layers (docs/architecture.md): lib/ <- components/ <- stacks/ <- index.ts, enforced by the
 * no-restricted-imports rules of eslint.config.mjs. Each case lints a real file of the layer with one extra
 * import and expects the rule to refuse (or allow) it.
 */
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { ESLint } from "eslint";

const ROOT = path.resolve(__dirname, "..");

/** The tracked TypeScript and JavaScript files of the tree (fixtures and node_modules aside), with their text. */
function trackedSources(): Map<string, string> {
    const listed = spawnSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: ROOT, encoding: "utf8" });
    assert.equal(listed.status, 0, listed.stderr);
    return new Map(
        listed.stdout
            .split("\0")
            .filter((file) => /\.(ts|js|cjs|mjs)$/.test(file) && !/(^|\/)(fixtures|node_modules)\//.test(file) && fs.existsSync(path.join(ROOT, file)))
            .map((file) => [file, fs.readFileSync(path.join(ROOT, file), "utf8")]),
    );
}

/**
 * The layers of docs/architecture.md, read from the imports themselves: each relative import, export-from,
 * require() and import() of every file, resolved to the room it reaches. ESLint's no-restricted-imports (the
 * rule the cases above exercise) sees import and export declarations only; this sees the rest too.
 */
function importDirectionProblems(sources: Map<string, string>): string[] {
    const problems: string[] = [];
    const room = (file: string): string => (file.startsWith("packages/") ? file.split("/").slice(0, 2).join("/") : file.includes("/") ? file.split("/")[0] : file);
    const ABOVE: Record<string, string[]> = {
        lib: ["components", "stacks", "index.ts", "tools", "test", "bench", "policy", "packages"],
        components: ["stacks", "index.ts", "tools", "test", "bench", "policy", "packages", "lib/config"],
        stacks: ["index.ts", "tools", "test", "bench", "policy", "packages"],
        "index.ts": ["tools", "test", "bench", "policy", "packages"],
    };
    // lib/retention.ts and lib/schedule.ts re-export the policy pack's table and cron parsing (eslint.config.mjs).
    const WAYS_UP: Record<string, string> = { "lib/retention.ts": "policy/retention", "lib/schedule.ts": "policy/schedule" };
    for (const [file, text] of sources) {
        const code = text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
        const from = room(file);
        for (const [, specifier] of code.matchAll(/(?:\bfrom\s+|^\s*import\s+|\b(?:require|import)\(\s*)["'](\.{1,2}\/[^"']*)["']/gm)) {
            const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), specifier));
            const to = room(target);
            if (to === from && !(from === "components" && target.startsWith("lib/config"))) {
                continue;
            }
            const reaches = (dir: string) => target === dir || target.startsWith(`${dir}/`) || (dir === "index.ts" && target === "index");
            if (ABOVE[from]?.some(reaches) && WAYS_UP[file] !== target) {
                problems.push(`${file}: ${specifier} (${from === "index.ts" ? from : `${from}/`} imports nothing above it)`);
            } else if (from === "policy" || from.startsWith("packages/")) {
                problems.push(`${file}: ${specifier} (${from}/ imports nothing outside ${from}/)`);
            } else if (from === "tools" && reaches("test")) {
                problems.push(`${file}: ${specifier} (tools/ imports nothing of test/)`);
            } else if (["tools", "test", "bench"].includes(from) && reaches("packages")) {
                problems.push(`${file}: ${specifier} (a package is used by its name)`);
            }
        }
    }
    return problems;
}

describe("layers: imports point down only (ESLint no-restricted-imports)", function () {
    this.timeout(120_000);
    // The real configuration, without the type-aware Pulumi rules: the layer rules are syntactic, and
    // building the program's TypeScript project for them would only slow the test down.
    const eslint = new ESLint({
        cwd: ROOT,
        overrideConfig: {
            languageOptions: { parserOptions: { projectService: false } },
            rules: { "@pulumi/no-output-in-template-literal": "off", "@pulumi/no-output-instance-in-template-literal": "off" },
        },
    });

    /** The no-restricted-imports messages for `file` with `importLine` added at its top. */
    async function restrictedImports(file: string, importLine: string): Promise<string[]> {
        const source = fs.readFileSync(path.join(ROOT, file), "utf8");
        const [result] = await eslint.lintText(`${importLine}\n${source}`, { filePath: path.join(ROOT, file) });
        return result.messages.filter((m) => m.ruleId === "no-restricted-imports").map((m) => m.message);
    }

    const refused = async (file: string, importLine: string, fragment: string) => {
        const messages = await restrictedImports(file, importLine);
        assert.equal(messages.length, 1, `${file}: ${importLine} should be refused; got ${JSON.stringify(messages)}`);
        assert.ok(messages[0].includes(fragment), messages[0]);
    };
    const allowed = async (file: string, importLine: string) => {
        assert.deepEqual(await restrictedImports(file, importLine), [], `${file}: ${importLine} should be allowed`);
    };

    it("refuses lib/ importing a component, a stack, the Pulumi SDK or a tool", async () => {
        await refused("lib/schedule.ts", 'import { customerManagedKey } from "../components/kms";', "imports point down only");
        await refused("lib/formats.ts", 'import { stackTags } from "../stacks/compose-common";', "imports point down only");
        await refused("lib/schedule.ts", 'import * as pulumi from "@pulumi/pulumi";', "dependency-free");
        await refused("lib/schedule.ts", 'import { checkStacks } from "../tools/check/core";', "never imports tools/");
        await refused("lib/schedule.ts", 'import { planInOrder } from "offline-plan";', "never imports the offline planner");
    });

    it("refuses components/ importing stacks/ or the stack configuration's types, allows lib/", async () => {
        await refused("components/kms.ts", 'import { stackTags } from "../stacks/compose-common";', "imports point down only");
        await refused("components/kms.ts", 'import type { StackConfig } from "../lib/config";', "own Args");
        await allowed("components/kms.ts", 'import { retentionRow } from "../lib/retention";');
    });

    it("refuses stacks/ importing index.ts or the policy pack", async () => {
        await refused("stacks/compose-common.ts", 'import * as program from "../index";', "imports point down only");
        await refused("stacks/compose-common.ts", 'import { s3Policies } from "../policy/s3";', "policy pack");
        await allowed("stacks/compose-common.ts", 'import { Alarms } from "../components/alarms";');
    });

    it("keeps packages/ rooms of their own: a package imports nothing of the project, the project uses it by name", async () => {
        await refused("packages/offline-plan/src/model.ts", 'import { UNKNOWN_SENTINEL } from "../../policy/sentinels";', "imports nothing of the project");
        await refused("packages/offline-plan/src/runner.ts", 'import { REPO } from "../../../test/support/plans";', "imports nothing of the project");
        await refused("packages/offline-plan/test/plan-runner.test.ts", 'import { REPO } from "../../../test/support/plans";', "imports nothing of the project");
        await allowed("packages/offline-plan/test/plan-runner.test.ts", 'import { UNKNOWN } from "../src/model";');
        await refused("tools/check/core.ts", 'import { planInOrder } from "../../packages/offline-plan/src/order";', "by its name");
        await allowed("tools/check/core.ts", 'import { planInOrder } from "offline-plan";');
        await allowed("tools/check/core.ts", 'import { UNKNOWN } from "offline-plan/model";');
        await refused("tools/check/core.ts", 'import { planInOrder } from "offline-plan/src/order";', "`exports` names");
        await refused("tools/check/core.ts", 'import { PlanError } from "offline-plan/protocol";', "`exports` names");
        await refused("test/policy/helpers.ts", 'import { runBatch } from "offline-plan/src/mock-runtime";', "`exports` names");
        await refused("bench/policy.ts", 'import "offline-plan/register.cjs.bak";', "`exports` names");
        await refused("tools/drill/world.ts", 'import { PgServer } from "../../test/support/servers";', "import nothing of test/");
        await allowed("tools/drill/world.ts", 'import { PgServer } from "../sandbox/servers";');
    });

    it("uses offline-plan only through its exports map: every offline-plan specifier in tools/, test/ and bench/ resolves", () => {
        const exported = Object.keys((JSON.parse(fs.readFileSync(path.join(ROOT, "packages", "offline-plan", "package.json"), "utf8")) as { exports: object }).exports);
        const used = new Map<string, string[]>();
        const walk = (dir: string): void => {
            for (const entry of fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
                const file = path.posix.join(dir, entry.name);
                if (entry.isDirectory()) {
                    if (entry.name !== "fixtures" && entry.name !== "node_modules") {
                        walk(file);
                    }
                } else if (/\.(ts|js|cjs|mjs)$/.test(entry.name) && path.join(ROOT, file) !== __filename) {
                    const source = fs.readFileSync(path.join(ROOT, file), "utf8");
                    for (const [, specifier] of source.matchAll(/(?:\bfrom\s+|\bimport\s+|\b(?:require|import|require\.resolve)\(\s*)["'](offline-plan(?:\/[^"']*)?)["']/g)) {
                        used.set(specifier, [...(used.get(specifier) ?? []), file]);
                    }
                }
            }
        };
        ["tools", "test", "bench"].forEach(walk);
        // The scan itself finds what tools/ imports (this file's own refused cases above are not scanned).
        assert.ok(used.get("offline-plan")?.includes("tools/check/core.ts"), JSON.stringify([...used.keys()]));
        assert.ok(used.get("offline-plan/no-dependency-source-maps")?.includes("tools/check/check.ts"));
        const outside = [...used].filter(([specifier]) => !exported.includes(specifier === "offline-plan" ? "." : `.${specifier.slice("offline-plan".length)}`));
        assert.deepEqual(outside.map(([specifier, files]) => `${specifier} (${files.join(", ")})`), []);
        for (const specifier of used.keys()) {
            assert.doesNotThrow(() => require.resolve(specifier, { paths: [ROOT] }), specifier);
        }
    });

    it("packs offline-plan with no value of this project and no path out of its folder (npm pack)", () => {
        const dir = path.join(ROOT, "packages", "offline-plan");
        const pack = spawnSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], { cwd: dir, encoding: "utf8" });
        assert.equal(pack.status, 0, pack.stderr);
        const packed = (JSON.parse(pack.stdout) as { files: { path: string }[] }[])[0].files.map((f) => f.path);
        assert.ok(packed.includes("src/resource-mocks.ts") && packed.includes("README.md"), packed.join(" "));
        // This project's name, config namespace, stacks, buckets, database and user names, namespace, and its folders.
        const stacks = fs.readdirSync(ROOT).flatMap((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1] ?? []).filter((s) => s.includes("-"));
        const ours = new RegExp(`oauth2|${stacks.join("|")}|(?<![\\w@/.-])(?:lib|components|stacks|policy|tools)/|test/(?:support|fixtures/programs)`, "i");
        const found: string[] = [];
        for (const file of packed) {
            const text = fs.readFileSync(path.join(dir, file), "utf8");
            text.split("\n").forEach((line, i) => ours.test(line) && found.push(`${file}:${i + 1}: ${line.trim()}`));
            if (/\.(ts|cjs|js)$/.test(file)) {
                const code = text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
                for (const [, specifier] of code.matchAll(/(?:\bfrom\s+|\bimport\s+|\brequire(?:\.resolve)?\(\s*)["'](\.{1,2}\/[^"']*)["']/g)) {
                    const target = path.resolve(path.dirname(path.join(dir, file)), specifier);
                    if (path.relative(dir, target).startsWith("..")) {
                        found.push(`${file}: imports ${specifier}, outside the package`);
                    }
                }
            }
        }
        assert.deepEqual(found, []);
    });

    it("has every real import of the tree point down (a scan of each file's import, export-from, require and import(), beside ESLint's rule)", () => {
        // This file's own cases (the synthetic imports below) are not the tree's imports.
        const problems = importDirectionProblems(new Map([...trackedSources()].filter(([file]) => path.join(ROOT, file) !== __filename)));
        assert.deepEqual(problems, []);
    });

    it("the scan refuses what ESLint's import rule cannot see: a require() up, a package reaching out, the pack reaching the program", () => {
        const sources = new Map([
            ["lib/formats.ts", 'const kms = require("../components/kms");'],
            ["lib/schedule.ts", 'export * from "../policy/schedule";\nimport { x } from "./clouds";'],
            ["components/kms.ts", 'import type { StackConfig } from "../lib/config";\nimport { a } from "../lib/retention";'],
            ["stacks/aws.ts", 'const p = import("../policy/s3");'],
            ["policy/s3.ts", 'import { RETENTION_TABLE } from "../lib/retention";'],
            ["packages/offline-plan/src/model.ts", 'import { REPO } from "../../../test/support/plans";\nimport { y } from "../register.cjs";'],
            ["tools/drill/world.ts", 'import { PgServer } from "../../test/support/servers";\nimport { planInOrder } from "offline-plan";'],
            ["bench/policy.ts", 'import { runBatch } from "../packages/offline-plan/src/mock-runtime";'],
        ]);
        assert.deepEqual(importDirectionProblems(sources), [
            "lib/formats.ts: ../components/kms (lib/ imports nothing above it)",
            "components/kms.ts: ../lib/config (components/ imports nothing above it)",
            "stacks/aws.ts: ../policy/s3 (stacks/ imports nothing above it)",
            "policy/s3.ts: ../lib/retention (policy/ imports nothing outside policy/)",
            "packages/offline-plan/src/model.ts: ../../../test/support/plans (packages/offline-plan/ imports nothing outside packages/offline-plan/)",
            "tools/drill/world.ts: ../../test/support/servers (tools/ imports nothing of test/)",
            "bench/policy.ts: ../packages/offline-plan/src/mock-runtime (a package is used by its name)",
        ]);
    });

    it("lets lib/retention.ts alone re-export the policy pack's retention table", async () => {
        await allowed("lib/retention.ts", 'export * from "../policy/retention";');
        await refused("lib/retention.ts", 'import { s3Policies } from "../policy/s3";', "../policy/retention only");
        await refused("lib/formats.ts", 'export * from "../policy/retention";', "policy pack");
    });
});
