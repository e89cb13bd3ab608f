/**
 * A program without its own installed @pulumi/* packages is planned with this tool's (NODE_PATH, or the
 * node_modules of a directory above it: planning-process.cjs OUR_NODE_MODULES). Those may be another version
 * than the program's package.json asks for: another major version has other defaults and property names, so
 * the plan's verdicts would be about a program that does not exist. Each @pulumi/* package a program file
 * imports from our node_modules is compared, on its first import, with the range its package.json declares
 * (dependencies, devDependencies, optionalDependencies) and the version its package-lock.json locks:
 *
 * - within the range (and the locked version itself, when there is a lock): nothing is said;
 * - outside it, the same major version: a notice (PlanResult.sdkVersions; the CLIs print it on stderr and the
 *   check in its header);
 * - another major version: the import fails, and with it the plan (exit 2), naming the package, the range, the
 *   version used and what to do; OFFLINE_PLAN_SDK_MISMATCH=warn plans it anyway, with the same notice;
 * - a spec that is not a version range (`file:`, git, `workspace:`, a dist-tag): a notice that it cannot be
 *   compared, never a guess.
 *
 * A program that fails after such an import has the notices after its own error (withSdkVersionNotices).
 *
 * A program with its own node_modules is planned with its own packages (program-entry.ts sdkFor), which npm
 * installed from its package.json: not compared.
 */
import * as fs from "fs";
import * as path from "path";
import Module from "module";
import type { SdkVersionNotice } from "./model";
import { ProgramError } from "./program-errors";

/** The opt-out: "warn" plans a program whose declared major version differs from ours, with a notice. */
export const SDK_MISMATCH_ENV = "OFFLINE_PLAN_SDK_MISMATCH";

/** The few functions of semver this file calls (semver is @pulumi/pulumi's own dependency: loaded from there, when needed). */
interface Semver {
    validRange(range: string): string | null;
    valid(version: string): string | null;
    satisfies(version: string, range: string): boolean;
    intersects(a: string, b: string): boolean;
    major(version: string): number;
}

/** The node_modules our own @pulumi/pulumi is installed in (planning-process.cjs OUR_NODE_MODULES, without loading it). */
const OUR_NODE_MODULES = path.resolve(path.dirname(require.resolve("@pulumi/pulumi/package.json")), "..", "..");

let semverModule: Semver | undefined;
function semver(): Semver {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return (semverModule ??= require(require.resolve("semver", { paths: [path.dirname(require.resolve("@pulumi/pulumi/package.json"))] })) as Semver);
}

/** What a program declares for one package: package.json's spec and where, and the lock's version. */
interface Declared {
    spec?: string;
    field?: string;
    locked?: string;
}

function readJson(file: string): Record<string, unknown> | undefined {
    try {
        return JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, unknown>;
    } catch {
        return undefined;
    }
}

/** The spec a package.json gives `pkg` in the first of `fields` that names it, and that field; {} when none does. */
function specIn(manifest: Record<string, unknown> | undefined, pkg: string, fields: string[]): Declared {
    for (const field of fields) {
        const spec = (manifest?.[field] as Record<string, unknown> | undefined)?.[pkg];
        if (typeof spec === "string") {
            return { spec: spec.trim(), field };
        }
    }
    return {};
}

/** package.json's spec for `pkg` (dependencies first) and package-lock.json's version of it (v1, v2 and v3 lockfiles). */
export function declaredFor(programDir: string, pkg: string): Declared {
    const declared = specIn(readJson(path.join(programDir, "package.json")), pkg, ["dependencies", "devDependencies", "optionalDependencies"]);
    const lock = readJson(path.join(programDir, "package-lock.json"));
    const packages = lock?.packages as Record<string, { version?: unknown }> | undefined;
    const v1 = lock?.dependencies as Record<string, { version?: unknown }> | undefined;
    const locked = packages?.[`node_modules/${pkg}`]?.version ?? v1?.[pkg]?.version;
    if (typeof locked === "string") {
        declared.locked = locked;
    }
    return declared;
}

/** What the package whose manifest is `manifestFile` declares for `pkg` (a package has no lock of its own). */
function declaredByPackage(manifestFile: string, pkg: string): Declared {
    return specIn(readJson(manifestFile), pkg, ["dependencies", "peerDependencies", "optionalDependencies"]);
}

/**
 * A package that imports a @pulumi package (a component library in the program's node_modules, @pulumi/awsx):
 * its name and its manifest (shown relative to the program's directory), which says what it declares.
 */
interface Importer {
    name: string;
    manifest: string;
}

/**
 * How `used` compares with what the program declares (or, with `importer`, what that package declares):
 * undefined when it matches (or nothing is declared).
 */
export function compareDeclared(pkg: string, declared: Declared, used: string, programDir: string, importer?: Importer): SdkVersionNotice | undefined {
    const s = semver();
    const parts: string[] = [];
    const usedMajor = s.major(used);
    let comparable = true;
    let outside = false;
    let otherMajor = false;
    if (declared.spec !== undefined) {
        parts.push(`${JSON.stringify(declared.spec)} (${importer ? importer.manifest : "package.json"} ${declared.field})`);
        const range = s.validRange(declared.spec);
        if (range === null) {
            // file:, git, workspace:, a dist-tag: no version to compare with (a lock's version for it is not compared either).
            comparable = false;
        } else if (!s.satisfies(used, range)) {
            outside = true;
            otherMajor ||= !s.intersects(range, `${usedMajor}.x`);
        }
    }
    if (comparable && declared.locked !== undefined && s.valid(declared.locked) !== null) {
        parts.push(`${declared.locked} (package-lock.json)`);
        if (declared.locked !== used) {
            outside = true;
            otherMajor ||= s.major(declared.locked) !== usedMajor;
        }
    }
    if (parts.length === 0 || (comparable && !outside)) {
        return undefined;
    }
    const severity: SdkVersionNotice["severity"] = !comparable ? "not-comparable" : otherMajor ? "other-major" : "outside-range";
    const declaredText = parts.join(" and ");
    const who = importer ? `${importer.name}, which the program imports, declares` : "the program declares";
    const todo = importer
        ? `install ${pkg} in ${programDir} at a version ${importer.name} accepts (\`npm install\`: a peer dependency is not installed by every package manager) so that it is planned with its own packages`
        : `run \`npm install\` in ${programDir} so that it is planned with its own packages${comparable ? `, or align what it declares with ${pkg} ${used}` : ""}`;
    const message =
        severity === "not-comparable"
            ? `${pkg}: ${who} ${declaredText}, not a version range, which cannot be compared with the ${pkg} ${used} it was planned with (this tool's; the program has no ${pkg} installed): ${todo}`
            : severity === "other-major"
              ? `${pkg}: ${who} ${declaredText}, and it was planned with this tool's ${pkg} ${used}, another major version (the program has no ${pkg} installed): its defaults and property names differ, so the plan's verdicts cannot be trusted; ${todo}`
              : `${pkg}: ${who} ${declaredText}, and it was planned with this tool's ${pkg} ${used}, outside it (the same major version; the program has no ${pkg} installed): ${todo}`;
    return { package: pkg, declared: declaredText, used, severity, message };
}

/** The opt-out's value: "error" (the default) or "warn"; anything else is refused, naming the variable. */
function mismatchMode(): "error" | "warn" {
    const value = process.env[SDK_MISMATCH_ENV];
    if (value === undefined || value === "" || value === "error") {
        return "error";
    }
    if (value === "warn") {
        return "warn";
    }
    throw new ProgramError(`${SDK_MISMATCH_ENV} must be "warn" (plan a program declaring another major version of a @pulumi package than this tool's, with a notice) or "error" (the default), not ${JSON.stringify(value)}`);
}

/**
 * Per program directory, per package: how the version that answered compares with the declaration (null:
 * it matches, or it is not ours). OFFLINE_PLAN_SDK_MISMATCH is read at each import, not kept: a process
 * planning many batches (PlanningServer) may plan the same program under another value.
 */
const outcomes = new Map<string, Map<string, SdkVersionNotice | null>>();

function packageOf(request: string): string {
    return request.split("/").slice(0, 2).join("/");
}

/** `pkg` as a file of `programDir` would load it, when it answers from this tool's node_modules: its version. */
function oursAnswering(pkg: string, fromDir: string, programDir: string, ourNodeModules: string): string | undefined {
    let manifest: string;
    try {
        manifest = require.resolve(`${pkg}/package.json`, { paths: [fromDir] });
    } catch {
        return undefined;
    }
    const real = (p: string) => {
        try {
            return fs.realpathSync(p);
        } catch {
            return p;
        }
    };
    const ours = real(ourNodeModules);
    if (!real(manifest).startsWith(ours + path.sep) || real(path.join(programDir, "node_modules")) === ours) {
        return undefined;
    }
    const version = readJson(manifest)?.version;
    return typeof version === "string" ? version : undefined;
}

interface Loader {
    _load(request: string, parent: { filename?: string } | undefined, isMain: boolean): unknown;
}

let watched: { programDir: string; realDir: string; ourNodeModules: string; ours: boolean; programFiles?: { has(file: string): boolean } } | undefined;

const NODE_MODULES = `${path.sep}node_modules${path.sep}`;

/** The installed package a file of a node_modules belongs to (its directory and name), or undefined for a file of no package. */
export function packageOfFile(file: string): { root: string; name: string } | undefined {
    const at = file.lastIndexOf(NODE_MODULES);
    if (at < 0) {
        return undefined;
    }
    const start = at + NODE_MODULES.length;
    const parts = file.slice(start).split(path.sep);
    const segments = parts[0].startsWith("@") ? 2 : 1;
    if (parts.length <= segments) {
        return undefined;
    }
    const name = parts.slice(0, segments).join("/");
    return { root: file.slice(0, start) + parts.slice(0, segments).join(path.sep), name };
}

/**
 * From now on, a `require("@pulumi/…")` that this tool's node_modules answer is compared, once per package and
 * importer, with what the importer declares: from a file of `programDir` (not its node_modules), the program's
 * package.json and lock; from a file of an installed package (a component library in the program's
 * node_modules whose @pulumi/aws peer was not installed, @pulumi/awsx's own @pulumi/aws), that package's
 * package.json. Another major version throws (unless OFFLINE_PLAN_SDK_MISMATCH=warn), a notice is kept for
 * sdkVersionNotices. A program whose node_modules are ours (this repository's own stacks) has nothing compared.
 * `programFiles` (the run's, program-entry.ts programFilesOf): files outside programDir that are the program's
 * code too (a monorepo's ../shared modules, loaded by this run), compared as the program's own files are, until
 * endProgramFiles: before, a @pulumi import there was compared with nothing (a program declaring another major
 * version was planned with this tool's, without a word, when only its shared module imported the package).
 */
export function watchSdkVersions(programDir: string, programFiles?: { has(file: string): boolean }): void {
    // A value other than warn/error is refused before the program runs, whether or not a version differs.
    mismatchMode();
    let realDir = programDir;
    try {
        realDir = fs.realpathSync(programDir);
    } catch {
        // The entry point's own error names a directory that does not exist.
    }
    const real = (p: string) => {
        try {
            return fs.realpathSync(p);
        } catch {
            return p;
        }
    };
    watched = { programDir, realDir, ourNodeModules: OUR_NODE_MODULES, ours: real(path.join(programDir, "node_modules")) === real(OUR_NODE_MODULES), programFiles };
}

/** The run that gave `programFiles` has ended: files loaded from now on are not its code (watchSdkVersions). */
export function endProgramFiles(programFiles: { has(file: string): boolean }): void {
    if (watched?.programFiles === programFiles) {
        watched = { ...watched, programFiles: undefined };
    }
}

/**
 * A program that fails after an import answered by another version than it declares (let through with
 * OFFLINE_PLAN_SDK_MISMATCH=warn, or a notice): its failure names those versions too, as the likely cause
 * ("Missing required property 'location'" from @pulumi/gcp 9 in a program written for 8).
 */
export function withSdkVersionNotices(err: unknown, programDir: string): unknown {
    const notices = sdkVersionNotices(programDir);
    if (notices.length === 0 || !(err instanceof ProgramError)) {
        return err;
    }
    return new ProgramError(`${err.message}\n${notices.map((n) => `notice: ${n.message}`).join("\n")}`);
}

/** The notices for `programDir` so far (its imports are compared once; later stacks reuse them). */
export function sdkVersionNotices(programDir: string): SdkVersionNotice[] {
    let mode: "error" | "warn";
    try {
        mode = mismatchMode();
    } catch {
        mode = "error";
    }
    // Another major version is a notice only under warn; otherwise its import failed, with its own message.
    const notices = [...(outcomes.get(programDir)?.values() ?? [])]
        .filter((o): o is SdkVersionNotice => o !== null && (o.severity !== "other-major" || mode === "warn"))
        .map((o) => (o.severity === "other-major" ? { ...o, message: `${o.message} (planned anyway: ${SDK_MISMATCH_ENV}=warn)` } : o));
    // Two copies of one package declaring the same (two versions of a library) say it once.
    return notices.filter((n, i) => notices.findIndex((m) => m.message === n.message) === i);
}

const loader = Module as unknown as Loader;
const load = loader._load;
if (!(load as { watchesSdkVersions?: boolean }).watchesSdkVersions) {
    const patched = function (this: unknown, request: string, parent: { filename?: string } | undefined, isMain: boolean): unknown {
        const w = watched;
        const from = parent?.filename;
        if (w && !w.ours && request.startsWith("@pulumi/") && from) {
            // Node names a module by its real path: a program directory reached through a symlink is matched by both.
            const inProgram = (dir: string) => from.startsWith(dir + path.sep);
            const pkg = packageOf(request);
            // The program's own file (keyed by the package alone), or a file of an installed package that is not
            // the one imported (keyed by the package and the importer's directory).
            const importer = packageOfFile(from);
            const own = importer === undefined && (inProgram(w.programDir) || inProgram(w.realDir) || w.programFiles?.has(from) === true);
            const key = own ? pkg : importer !== undefined && importer.name !== pkg ? `${pkg}\0${importer.root}` : undefined;
            let byPackage = outcomes.get(w.programDir);
            if (!byPackage) {
                outcomes.set(w.programDir, (byPackage = new Map()));
            }
            if (key !== undefined && !byPackage.has(key)) {
                byPackage.set(key, own ? decide(pkg, path.dirname(from), w.programDir, w.ourNodeModules) : decideForPackage(pkg, importer!, path.dirname(from), w.programDir, w.ourNodeModules));
            }
            const outcome = key === undefined ? undefined : byPackage.get(key);
            if (outcome?.severity === "other-major" && mismatchMode() === "error") {
                throw new ProgramError(`${outcome.message}; ${SDK_MISMATCH_ENV}=warn plans it anyway, with this as a notice`);
            }
        }
        return load.call(this, request, parent, isMain);
    };
    Object.assign(patched, { watchesSdkVersions: true });
    loader._load = patched;
}

/** The same for an import by an installed package, against what that package declares. */
function decideForPackage(pkg: string, importer: { root: string; name: string }, fromDir: string, programDir: string, ourNodeModules: string): SdkVersionNotice | null {
    const used = oursAnswering(pkg, fromDir, programDir, ourNodeModules);
    if (used === undefined) {
        return null;
    }
    const manifest = path.join(importer.root, "package.json");
    const shown = path.relative(programDir, manifest);
    return compareDeclared(pkg, declaredByPackage(manifest, pkg), used, programDir, { name: importer.name, manifest: shown.startsWith("..") ? manifest : shown }) ?? null;
}

function decide(pkg: string, fromDir: string, programDir: string, ourNodeModules: string): SdkVersionNotice | null {
    const used = oursAnswering(pkg, fromDir, programDir, ourNodeModules);
    return used === undefined ? null : (compareDeclared(pkg, declaredFor(programDir, pkg), used, programDir) ?? null);
}
