// ESLint flat config: @eslint/js recommended and typescript-eslint recommended on every TypeScript file;
// @pulumi/eslint-plugin (Outputs in template literals) on the Pulumi program, where Outputs live.
//
// The Pulumi rules need type information. Typed linting is limited to the program's files (index.ts, lib/,
// components/): they import provider submodules only, so one TypeScript program for them stays cheap; the
// tools, tests, policies and benchmarks are linted without types (`tsc --noEmit` type-checks them anyway).
import fs from "fs";
import js from "@eslint/js";
import tseslint from "typescript-eslint";
import pulumi from "@pulumi/eslint-plugin";

const PROGRAM_FILES = ["index.ts", "lib/**/*.ts", "components/**/*.ts", "stacks/**/*.ts"];

// The program's layers, imports pointing down only: lib/ (dependency-free bottom: retention table, config
// schema, formats, schedules) <- components/ (one ComponentResource each, own Args) <- stacks/ (config
// loading, per-cloud compositions) <- index.ts. tools/ and policy/ sit beside the program and are never
// imported by it; lib/retention.ts and lib/schedule.ts alone re-export the policy pack's table and cron parsing.
const UP = (...dirs) => ({ regex: `^(\\.\\./)+(${dirs.join("|")})(/|$)`, message: "imports point down only: lib/ <- components/ <- stacks/ <- index.ts (docs/architecture.md)" });
const BESIDE = { regex: "^(\\.\\./)+(tools|test|bench)(/|$)", message: "the program never imports tools/, test/ or bench/" };
const PLANNER = { regex: "^offline-plan(/|$)", message: "the program never imports the offline planner (packages/offline-plan): it plans the program, not the other way round" };
const POLICY = { regex: "^(\\.\\./)+policy(/|$)", message: "the program never imports the policy pack (lib/retention.ts re-exports its table)" };
// packages/ hold generic libraries of their own (packages/offline-plan: the offline planner): they import
// nothing of this project, and the project uses them by their package name, never by a path into them.
const OUT_OF_PACKAGE = { regex: "^(\\.\\./){2,}", message: "a package imports nothing of the project (packages/ are rooms of their own: docs/architecture.md)" };
const INTO_PACKAGE = { regex: "^(\\.\\./)+packages(/|$)", message: "the project uses a package by its name (offline-plan/...), not by a path into packages/" };
// ... and through the entry points its package.json `exports` names (offline-plan, offline-plan/model, ...), never a
// path into its files (offline-plan/src/...): Node refuses a subpath the map does not name.
const PLANNER_EXPORTS = Object.keys(JSON.parse(fs.readFileSync(`${import.meta.dirname}/packages/offline-plan/package.json`, "utf8")).exports)
    .filter((subpath) => subpath !== ".")
    .map((subpath) => subpath.slice(2).replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
const OUTSIDE_EXPORTS = {
    regex: `^offline-plan/(?!(${PLANNER_EXPORTS.join("|")})$)`,
    message: "offline-plan is used through the entry points its package.json `exports` names (packages/offline-plan/README.md), not a path into its files",
};
const LAYERS = {
    "packages/*/src/**/*.ts": [OUT_OF_PACKAGE],
    "packages/*/test/**/*.ts": [OUT_OF_PACKAGE],
    "tools/**/*.ts": [INTO_PACKAGE, OUTSIDE_EXPORTS, { regex: "^(\\.\\./)+test(/|$)", message: "tools/ import nothing of test/ (local servers and script runners are tools/sandbox)" }],
    "test/**/*.ts": [INTO_PACKAGE, OUTSIDE_EXPORTS],
    "bench/**/*.ts": [INTO_PACKAGE, OUTSIDE_EXPORTS],
    "lib/**/*.ts": [UP("components", "stacks", "index"), BESIDE, PLANNER, POLICY, { regex: "^@pulumi/", message: "lib/ is dependency-free: no Pulumi SDK" }],
    "components/**/*.ts": [UP("stacks", "index"), BESIDE, PLANNER, POLICY, { regex: "^(\\.\\./)+lib/config(/|$)", message: "components take their own Args, not the stack configuration's types" }],
    "stacks/**/*.ts": [UP("index"), BESIDE, PLANNER, POLICY],
    "index.ts": [{ regex: "^\\./(tools|test|bench|policy|packages)(/|$)", message: "index.ts composes stacks/ only" }, PLANNER],
};

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
        // Tests walk planned resources' wire-format JSON (inputs of any resource type) by path; tools/sandbox
        // (the tests' and the drill's local servers) returns the AWS API's JSON as it comes.
        files: ["test/**/*.ts", "tools/sandbox/**/*.ts"],
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
    ...Object.entries(LAYERS).map(([files, patterns]) => ({ files: [files], rules: { "no-restricted-imports": ["error", { patterns }] } })),
    {
        // The ways up from lib/: the retention table and the cron parsing live in the (self-contained, publishable)
        // policy pack; lib/retention.ts and lib/schedule.ts re-export them.
        files: ["lib/retention.ts"],
        rules: { "no-restricted-imports": ["error", { patterns: LAYERS["lib/**/*.ts"].filter((p) => p !== POLICY).concat({ regex: "^\\.\\./policy/(?!retention$)", message: "lib/retention.ts may import ../policy/retention only" }) }] },
    },
    {
        files: ["lib/schedule.ts"],
        rules: { "no-restricted-imports": ["error", { patterns: LAYERS["lib/**/*.ts"].filter((p) => p !== POLICY).concat({ regex: "^\\.\\./policy/(?!schedule$)", message: "lib/schedule.ts may import ../policy/schedule only" }) }] },
    },
);
