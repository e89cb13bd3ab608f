/**
 * Reads the running program's configuration (Pulumi CLI or the offline mock runtime) through the pure
 * validator in lib/config (zod). A configuration error stops the program before any resource is declared, with
 * one line per problem and no stack trace (pulumi.RunError).
 */
import * as pulumi from "@pulumi/pulumi";
import * as runtimeConfig from "@pulumi/pulumi/runtime/config";
import { ConfigError, parseStackConfig, StackConfig } from "../lib/config";

export function loadStackConfig(): StackConfig {
    try {
        return parseStackConfig((key) => pulumi.runtime.getConfig(key), pulumi.getStack(), pulumi.getProject(), configKeys());
    } catch (err) {
        if (err instanceof ConfigError) {
            throw new pulumi.RunError(`invalid configuration for stack ${pulumi.getStack()} (Pulumi.${pulumi.getStack()}.yaml):\n${err.message}`);
        }
        throw err;
    }
}

/**
 * Every key the stack sets (a key nothing reads is refused) and those that are secrets (never shown in a
 * problem's line). isConfigSecret is the SDK's own reading of the language host's secret keys; it is exported
 * by runtime/config.js but not declared in its types: an SDK without it makes every key count as a secret, so
 * that no value is ever shown (the lines then say "[secret]" for all), rather than none.
 */
function configKeys(): { keys: string[]; secretKeys: string[] } {
    const isSecret = (runtimeConfig as unknown as { isConfigSecret?: unknown }).isConfigSecret;
    const keys = Object.keys(pulumi.runtime.allConfig());
    return { keys, secretKeys: typeof isSecret === "function" ? keys.filter((key) => (isSecret as (key: string) => boolean)(key)) : keys };
}
