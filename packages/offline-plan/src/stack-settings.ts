/**
 * Reads a project's Pulumi.yaml and Pulumi.<stack>.yaml the way the Pulumi CLI does, for the offline plan:
 * project-level defaults from the `config:` block, overridden by the stack file; keys without a namespace
 * belong to the project; structured values become JSON strings, as the CLI hands them to the program.
 */
import * as fs from "fs";
import * as path from "path";
import { parseYaml } from "./yaml-cache";

export interface StackSettings {
    project: string;
    /** Pulumi.yaml's `main`, when set (a file or a directory, relative to the project). */
    main?: string;
    config: Record<string, string>;
    /** Keys holding a `secure:` value (top level or nested); the offline plan cannot decrypt them. */
    secretKeys: string[];
}

/**
 * A YAML file's document, parsed once per content: planning six stacks reads Pulumi.yaml and the stack files
 * dozens of times (order, references, each run), and parsing was a tenth of a plan. The file is read every
 * time, so an edited file is parsed again; callers only read the document, never change it. Across processes the
 * text's document comes from yaml-cache.ts.
 */
const parsedYaml = new Map<string, { text: string; document: unknown }>();

function readYaml(file: string): unknown {
    const text = fs.readFileSync(file, "utf8");
    const cached = parsedYaml.get(file);
    if (cached?.text === text) {
        return cached.document;
    }
    let document: unknown;
    try {
        document = parseYaml(text);
    } catch (err) {
        // The parser's message says where in the file, not which file (Pulumi.yaml, or which stack's).
        throw new Error(`${file}: ${(err as Error).message}`);
    }
    parsedYaml.set(file, { text, document });
    return document;
}

function asConfigString(value: unknown): string {
    return typeof value === "string" ? value : JSON.stringify(value);
}

function isSecureValue(value: unknown): value is { secure: string } {
    return typeof value === "object" && value !== null && !Array.isArray(value) && Object.keys(value).length === 1 && "secure" in value;
}

/**
 * What a program receives for an encrypted value: a plain string standing in for the plaintext, kept
 * secret. It is stable per key and shaped like a generated credential (letters, digits, a dash; 24
 * characters, always a digit) so that programs validating a password's length or characters accept it; `--config
 * KEY=VALUE` replaces it when a program needs a particular value.
 */
export function secureStandIn(keyPath: string): string {
    let h = 0x811c9dc5;
    let hex = "";
    for (let round = 0; round < 2; round++) {
        for (const c of `${keyPath}#${round}`) {
            h = Math.imul(h ^ c.charCodeAt(0), 0x01000193) >>> 0;
        }
        hex += h.toString(16).padStart(8, "0");
    }
    return `Mock-Secret-1${hex.slice(0, 11)}`;
}

/** Replaces every nested `{ secure: ... }` by its stand-in; reports whether any was found. */
function replaceSecure(value: unknown, keyPath: string): { value: unknown; secret: boolean } {
    if (isSecureValue(value)) {
        return { value: secureStandIn(keyPath), secret: true };
    }
    if (Array.isArray(value)) {
        const items = value.map((v, i) => replaceSecure(v, `${keyPath}[${i}]`));
        return { value: items.map((i) => i.value), secret: items.some((i) => i.secret) };
    }
    if (value && typeof value === "object") {
        const entries = Object.entries(value).map(([k, v]) => [k, replaceSecure(v, `${keyPath}.${k}`)] as const);
        return { value: Object.fromEntries(entries.map(([k, r]) => [k, r.value])), secret: entries.some(([, r]) => r.secret) };
    }
    return { value, secret: false };
}

/** `KEY=VALUE` as `pulumi config set KEY VALUE` takes it: a key without a namespace belongs to the project. */
export function parseConfigAssignment(assignment: string, project: string): [string, string] {
    const eq = assignment.indexOf("=");
    if (eq <= 0) {
        throw new Error(`--config ${assignment}: expected KEY=VALUE`);
    }
    const key = assignment.slice(0, eq);
    return [key.includes(":") ? key : `${project}:${key}`, assignment.slice(eq + 1)];
}

/** The project file, as the CLI looks for it: Pulumi.yaml, then Pulumi.yml. */
function projectFileOf(programDir: string): string | undefined {
    return ["Pulumi.yaml", "Pulumi.yml"].map((f) => path.join(programDir, f)).find((f) => fs.existsSync(f));
}

export function loadStackSettings(programDir: string, stack: string): StackSettings {
    const projectFile = projectFileOf(programDir);
    if (!projectFile) {
        throw new Error(`${programDir}: no Pulumi.yaml (is this a Pulumi project directory?)`);
    }
    const project = readYaml(projectFile) as {
        name: string;
        main?: string;
        stackConfigDir?: string;
        config?: Record<string, unknown>;
    };
    const qualify = (key: string) => (key.includes(":") ? key : `${project.name}:${key}`);
    const config: Record<string, string> = {};
    for (const [key, declaration] of Object.entries(project.config ?? {})) {
        if (declaration && typeof declaration === "object" && !Array.isArray(declaration)) {
            const decl = declaration as Record<string, unknown>;
            const value = "value" in decl ? decl.value : decl.default;
            if (value !== undefined && value !== "") {
                config[qualify(key)] = asConfigString(value);
            }
        } else if (declaration !== undefined) {
            config[qualify(key)] = asConfigString(declaration);
        }
    }
    const stackDir = path.join(programDir, project.stackConfigDir ?? ".");
    const stackFile = [".yaml", ".yml"].map((ext) => path.join(stackDir, `Pulumi.${stack}${ext}`)).find((f) => fs.existsSync(f));
    if (!stackFile) {
        throw new Error(
            `no stack file ${path.join(stackDir, `Pulumi.${stack}.yaml`)} for stack "${stack}": create it (\`config: {}\` is enough for a stack without config) or name another stack with --stack`,
        );
    }
    const stackSettings = (readYaml(stackFile) ?? {}) as { config?: Record<string, unknown> };
    const secretKeys: string[] = [];
    for (const [key, value] of Object.entries(stackSettings.config ?? {})) {
        // The offline plan has no secrets provider: a stand-in reaches the program, as a secret.
        const replaced = replaceSecure(value, qualify(key));
        if (replaced.secret) {
            secretKeys.push(qualify(key));
        }
        config[qualify(key)] = asConfigString(replaced.value);
    }
    return { project: project.name, main: project.main, config, secretKeys };
}

/** Where a project keeps its stack files: Pulumi.yaml's `stackConfigDir`, else beside Pulumi.yaml. */
function stackConfigDir(programDir: string): string {
    const projectFile = projectFileOf(programDir);
    const project = projectFile ? ((readYaml(projectFile) ?? {}) as { stackConfigDir?: string }) : {};
    return path.join(programDir, project.stackConfigDir ?? ".");
}

/** The stacks of a project: every Pulumi.<stack>.yaml in its stack config directory. */
export function listStacks(programDir: string): string[] {
    const dir = stackConfigDir(programDir);
    if (!fs.existsSync(dir)) {
        return [];
    }
    return [...new Set(fs.readdirSync(dir).map((f) => /^Pulumi\.(.+)\.ya?ml$/.exec(f)?.[1]))]
        .filter((s): s is string => s !== undefined)
        .sort();
}

/**
 * The stacks a run plans: those named on the command line, else every stack file. A project without any is
 * an error, never an empty (and so compliant-looking) result.
 */
export function stacksToPlan(programDir: string, requested: readonly string[] | undefined): string[] {
    if (requested && requested.length > 0) {
        return [...requested];
    }
    // A directory that is no project (the CLI run from the wrong place) says so, not that it lacks stack files.
    if (!projectFileOf(programDir)) {
        throw new Error(`${programDir}: no Pulumi.yaml (is this a Pulumi project directory?)`);
    }
    const stacks = listStacks(programDir);
    if (stacks.length === 0) {
        throw new Error(
            `${programDir} has no stack file (Pulumi.<stack>.yaml in ${stackConfigDir(programDir)}), so there is nothing to plan: ` +
                "create one for the stack to plan (e.g. Pulumi.dev.yaml with `config: {}`) and run again",
        );
    }
    return stacks;
}
