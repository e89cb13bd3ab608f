/**
 * Reading a policy config file, kept apart from the policy harness so that the check CLI can read it
 * without loading @pulumi/policy first (the CLI starts planning before it loads the pack).
 */
import * as fs from "fs";
import * as path from "path";
import type { PackConfig } from "./policy-harness";

/** Reads a policy config file, as `pulumi preview --policy-pack-config FILE` does. */
export function readPackConfig(file: string): PackConfig {
    let raw: unknown;
    try {
        raw = JSON.parse(fs.readFileSync(path.resolve(file), "utf8")) as unknown;
    } catch (err) {
        // Name the option and the file: a bare "ENOENT" or "Unexpected token" says neither.
        throw new Error(`--policy-config ${file}: cannot read ${path.resolve(file)} as JSON (${(err as Error).message})`);
    }
    if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
        throw new Error(`${file}: policy config must be an object of policy name to enforcement level or settings`);
    }
    return raw as PackConfig;
}
