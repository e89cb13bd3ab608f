/**
 * Reads a project's Pulumi.yaml and Pulumi.<stack>.yaml the way the Pulumi CLI does, for the offline plan:
 * project-level defaults from the `config:` block, overridden by the stack file; keys without a namespace
 * belong to the project; structured values become JSON strings, as the CLI hands them to the program.
 */
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";

export interface StackSettings {
    project: string;
    main: string;
    config: Record<string, string>;
    /** Keys whose stack-file values are `secure:` (encrypted); the offline plan cannot decrypt them. */
    secretKeys: string[];
}

function asConfigString(value: unknown): string {
    return typeof value === "string" ? value : JSON.stringify(value);
}

export function loadStackSettings(programDir: string, stack: string): StackSettings {
    const projectFile = ["Pulumi.yaml", "Pulumi.yml"].map((f) => path.join(programDir, f)).find((f) => fs.existsSync(f));
    if (!projectFile) {
        throw new Error(`${programDir}: no Pulumi.yaml (is this a Pulumi project directory?)`);
    }
    const project = parse(fs.readFileSync(projectFile, "utf8")) as {
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
    const stackFile = path.join(stackDir, `Pulumi.${stack}.yaml`);
    if (!fs.existsSync(stackFile)) {
        throw new Error(`no stack file ${path.relative(process.cwd(), stackFile) || stackFile} for stack "${stack}"`);
    }
    const stackSettings = (parse(fs.readFileSync(stackFile, "utf8")) ?? {}) as { config?: Record<string, unknown> };
    const secretKeys: string[] = [];
    for (const [key, value] of Object.entries(stackSettings.config ?? {})) {
        if (value && typeof value === "object" && "secure" in (value as object)) {
            secretKeys.push(qualify(key));
            // The offline plan has no secrets provider: a placeholder stands in for the encrypted value.
            config[qualify(key)] = "[secure value: decrypted by the Pulumi CLI]";
            continue;
        }
        config[qualify(key)] = asConfigString(value);
    }
    let main = project.main ?? "index.ts";
    if (fs.existsSync(path.join(programDir, main)) && fs.statSync(path.join(programDir, main)).isDirectory()) {
        main = path.join(main, "index.ts");
    }
    return { project: project.name, main, config, secretKeys };
}

/** The stacks of a project: every Pulumi.<stack>.yaml beside Pulumi.yaml. */
export function listStacks(programDir: string): string[] {
    return fs
        .readdirSync(programDir)
        .map((f) => /^Pulumi\.(.+)\.ya?ml$/.exec(f)?.[1])
        .filter((s): s is string => s !== undefined)
        .sort();
}
