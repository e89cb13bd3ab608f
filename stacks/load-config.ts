/**
 * Reads the running program's configuration (Pulumi CLI or the offline mock runtime) through the pure
 * validator in lib/config (zod). A configuration error stops the program before any resource is declared, with
 * one line per problem and no stack trace (pulumi.RunError).
 */
import * as pulumi from "@pulumi/pulumi";
import { ConfigError, parseStackConfig, StackConfig } from "../lib/config";

export function loadStackConfig(): StackConfig {
    try {
        return parseStackConfig((key) => pulumi.runtime.getConfig(key), pulumi.getStack(), pulumi.getProject(), { keys: Object.keys(pulumi.runtime.allConfig()) });
    } catch (err) {
        if (err instanceof ConfigError) {
            throw new pulumi.RunError(`invalid configuration for stack ${pulumi.getStack()} (Pulumi.${pulumi.getStack()}.yaml):\n${err.message}`);
        }
        throw err;
    }
}
