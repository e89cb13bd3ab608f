/**
 * The strict TypeScript check of the whole repository (tsconfig.json: the program, policies, tools, tests,
 * benchmarks and the fixture programs), as `npm run typecheck`, `npm run lint` and test/typecheck.test.ts run it.
 *
 * tsc's build mode with an incremental build record: when no file has changed since the last clean check, tsc
 * says so from the record in a fraction of a second instead of parsing 4,800 files (1.8 million lines of
 * declarations, most of them @pulumi/aws, which the fixture programs import whole) for 13 s; a change rechecks
 * what it affects. Build mode does not look at declaration files under node_modules, so the record lives in a
 * directory named by a hash of what is installed (node_modules/.package-lock.json, which npm rewrites on every
 * install), tsconfig.json and the compiler's version: another install, another record, a full check.
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
    return hash.digest("hex").slice(0, 16);
}

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
        const config = { extends: path.relative(dir, path.join(REPO, "tsconfig.json")), compilerOptions: { noEmit: true, incremental: true, tsBuildInfoFile: "typecheck.tsbuildinfo" } };
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
