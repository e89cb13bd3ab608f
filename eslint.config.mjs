// ESLint flat config: @eslint/js recommended and typescript-eslint recommended on every TypeScript file;
// @pulumi/eslint-plugin (Outputs in template literals) on the Pulumi program, where Outputs live.
//
// The Pulumi rules need type information. Typed linting is limited to the program's files (index.ts, lib/,
// components/): they import provider submodules only, so one TypeScript program for them stays cheap; the
// tools, tests, policies and benchmarks are linted without types (`tsc --noEmit` type-checks them anyway).
import js from "@eslint/js";
import tseslint from "typescript-eslint";
import pulumi from "@pulumi/eslint-plugin";

const PROGRAM_FILES = ["index.ts", "lib/**/*.ts", "components/**/*.ts", "stacks/**/*.ts"];

export default tseslint.config(
    {
        ignores: ["node_modules/**", "bin/**", "policy/node_modules/**", "**/*.d.ts", "test/fixtures/**/node_modules/**", ".tmp/**", "plan-output/**"],
    },
    {
        files: ["**/*.ts", "**/*.mts", "**/*.cts"],
        extends: [js.configs.recommended, ...tseslint.configs.recommended],
        languageOptions: {
            ecmaVersion: 2022,
            sourceType: "module",
        },
        rules: {
            // `_`-prefixed names are deliberately unused (destructuring, callback signatures).
            "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrorsIgnorePattern: "^_" }],
        },
    },
    {
        // Tests walk planned resources' wire-format JSON (inputs of any resource type) by path.
        files: ["test/**/*.ts"],
        rules: {
            "@typescript-eslint/no-explicit-any": "off",
        },
    },
    {
        files: ["**/*.js", "**/*.mjs", "**/*.cjs"],
        extends: [js.configs.recommended],
        languageOptions: {
            ecmaVersion: 2022,
            globals: {
                require: "readonly",
                module: "writable",
                process: "readonly",
                console: "readonly",
                __dirname: "readonly",
            },
        },
    },
    {
        files: PROGRAM_FILES,
        plugins: { "@pulumi": pulumi },
        languageOptions: {
            parserOptions: {
                projectService: true,
                tsconfigRootDir: import.meta.dirname,
            },
        },
        rules: {
            "@pulumi/no-output-in-template-literal": "error",
            "@pulumi/no-output-instance-in-template-literal": "error",
        },
    },
);
