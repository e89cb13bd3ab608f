/** A stack file's configuration parsed with some keys changed (null removes a key), as the program parses it. */
import { strict as assert } from "assert";
import { ConfigError, parseStackConfig, StackConfig } from "../../lib/config";
import { loadStackSettings } from "offline-plan/stack-settings";
import { REPO } from "./plans";

export function parseWith(stack: string, overrides: Record<string, string | null> = {}): StackConfig {
    const config: Record<string, string | undefined> = { ...loadStackSettings(REPO, stack).config };
    for (const [key, value] of Object.entries(overrides)) {
        config[key] = value ?? undefined;
    }
    const keys = Object.keys(config).filter((key) => config[key] !== undefined);
    return parseStackConfig((key) => config[key], stack, undefined, { keys });
}

/** The problems of a configuration that must be refused; fails the test when it is accepted. */
export function configProblems(stack: string, overrides: Record<string, string | null>): string[] {
    try {
        parseWith(stack, overrides);
    } catch (err) {
        assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
        return err.problems;
    }
    return assert.fail(`${JSON.stringify(overrides).slice(0, 200)} was accepted`);
}
