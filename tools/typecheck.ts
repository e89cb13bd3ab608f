/**
 * The strict TypeScript check of the whole repository (tsconfig.json: the program, policies, tools, tests,
 * benchmarks and the fixture programs), as `npm run typecheck`, `npm run lint` and test/typecheck.test.ts run it.
 *
 * tsc's build mode with an incremental build record: when no file has changed since the last clean check, tsc
 * says so from the record in a fraction of a second instead of parsing 4,800 files (1.8 million lines of
 * declarations, most of them @pulumi/aws, which the fixture programs import whole) for 13 s; a change rechecks
 * what it affects. Build mode does not look at declaration files under node_modules, so the record lives in a
 * directory named by a hash of what is installed (node_modules/.package-lock.json, which npm rewrites on every
 * install), tsconfig.json, the options below and the compiler's version: another install, another record, a full check.
 *
 * Exit status is tsc's: 0 no error, 1 or 2 type errors (printed as tsc prints them).
 */
import { spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";

const REPO = path.resolve(__dirname, "..");
/** Where the tools keep their records (the type check's, shellcheck's): gone with node_modules on `npm ci`. */
export const TOOL_CACHE = path.join(REPO, "node_modules", ".cache", "oauth2-dr");

/** What the check depends on beyond the repository's own sources. */
function installedState(): string {
    const hash = crypto.createHash("sha256");
    for (const file of ["node_modules/.package-lock.json", "package-lock.json", "tsconfig.json", "node_modules/typescript/package.json"]) {
        const full = path.join(REPO, file);
        hash.update(`${file}\0${fs.existsSync(full) ? fs.readFileSync(full) : "(none)"}\0`);
    }
    hash.update(JSON.stringify(TYPECHECK_OPTIONS));
    return hash.digest("hex").slice(0, 16);
}

/**
 * What the check adds to tsconfig.json: the build record, and the emitted JavaScript beside it (under
 * node_modules/.cache, never in the repository). Not `noEmit`: with it tsc skips the checks of the code it
 * would emit, so a module-level `const exports` or `require` (TS2441: under CommonJS it is the module's own
 * `exports`, and the emitted program fails at load, as ts-node runs it under the Pulumi CLI) passed here and
 * failed `npx tsc --build`. Emitting costs about 2 s of a 43 s full check (2026-12-04), nothing when no file changed.
 */
export const TYPECHECK_OPTIONS = { incremental: true, tsBuildInfoFile: "typecheck.tsbuildinfo", outDir: "out" };

/**
 * A tsconfig that extends the repository's with the build record's place. It lives under node_modules/, so
 * the `types` it inherits (node, mocha) resolve from the repository's node_modules/@types as before, and the
 * inherited `include` stays relative to tsconfig.json.
 */
export function typecheckConfig(): string {
    const dir = path.join(TOOL_CACHE, `typecheck-${installedState()}`);
    const file = path.join(dir, "tsconfig.json");
    if (!fs.existsSync(file)) {
        fs.mkdirSync(dir, { recursive: true });
        const config = { extends: path.relative(dir, path.join(REPO, "tsconfig.json")), compilerOptions: TYPECHECK_OPTIONS };
        fs.writeFileSync(file, `${JSON.stringify(config, null, 2)}\n`);
    }
    return file;
}

function main(): void {
    const tsc = require.resolve("typescript/bin/tsc", { paths: [REPO] });
    const child = spawnSync(process.execPath, [tsc, "--build", typecheckConfig()], { cwd: REPO, stdio: "inherit" });
    process.exit(child.status ?? 2);
}

if (require.main === module) {
    main();
}
