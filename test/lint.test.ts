/**
 * The ESLint configuration catches what it is there for: an Output in a plain template literal in the
 * Pulumi program (@pulumi/eslint-plugin, with type information), and typescript-eslint's recommended rules.
 * The probe files live in a scratch copy of the layout (.tmp/, ignored by git) so the repository's own
 * files are never touched.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { ESLint } from "eslint";

const REPO = path.resolve(__dirname, "..");

describe("lint: eslint.config.mjs", function () {
    let dir: string;
    let eslint: ESLint;

    before(function () {
        fs.mkdirSync(path.join(REPO, ".tmp"), { recursive: true });
        dir = fs.mkdtempSync(path.join(REPO, ".tmp", "lint-"));
        fs.mkdirSync(path.join(dir, "components"));
        fs.mkdirSync(path.join(dir, "tools"));
        fs.writeFileSync(
            path.join(dir, "tsconfig.json"),
            JSON.stringify({ compilerOptions: { strict: true, target: "es2022", module: "commonjs", moduleResolution: "node", types: [], skipLibCheck: true }, include: ["**/*.ts"] }),
        );
        eslint = new ESLint({ cwd: dir, overrideConfigFile: path.join(REPO, "eslint.config.mjs") });
    });

    after(function () {
        fs.rmSync(dir, { recursive: true, force: true });
    });

    async function lint(file: string, source: string) {
        fs.writeFileSync(path.join(dir, file), source);
        const [result] = await eslint.lintFiles([file]);
        return result.messages.map((m) => `${m.line}:${m.ruleId}`);
    }

    it("program files: an Output in a template literal is an error, pulumi.interpolate is fine", async () => {
        const source = [
            `import * as pulumi from "@pulumi/pulumi";`,
            `const arn: pulumi.Output<string> = pulumi.output("arn:aws:s3:::b");`,
            "export const wrong = `${arn}/*`;",
            "export const right = pulumi.interpolate`${arn}/*`;",
            "",
        ].join("\n");
        assert.deepStrictEqual(await lint("components/probe.ts", source), ["3:@pulumi/no-output-in-template-literal"]);
    });

    it("every TypeScript file: typescript-eslint recommended", async () => {
        assert.deepStrictEqual(await lint("tools/probe.ts", "export function f(x: any) {\n    const unused = 1;\n    return x;\n}\n"), [
            "1:@typescript-eslint/no-explicit-any",
            "2:@typescript-eslint/no-unused-vars",
        ]);
        assert.deepStrictEqual(await lint("tools/clean.ts", "export function f(x: number): number {\n    return x + 1;\n}\n"), []);
    });
});
