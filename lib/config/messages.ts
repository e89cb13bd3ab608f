/**
 * Problems as people read them: one line each, the fully qualified key first
 * ("oauth2-dr:retention.database: 29 days is below ..."), all of them at once.
 */
import type { z } from "zod";

export class ConfigError extends Error {
    constructor(readonly problems: string[]) {
        super(problems.join("\n"));
        this.name = "ConfigError";
    }
}

/** The fully qualified key of a path: project keys get the namespace, foreign ones ("aws:region") keep theirs. */
export function qualifiedKey(namespace: string, path: readonly PropertyKey[]): string {
    const key = path.map(String).join(".");
    return key.includes(":") ? key : `${namespace}:${key}`;
}

/** One line per problem of a zod issue list under `path`. */
export function issueLines(namespace: string, path: readonly PropertyKey[], issues: readonly z.core.$ZodIssue[]): string[] {
    return issues.map((issue) => `${qualifiedKey(namespace, [...path, ...issue.path])}: ${issue.message.replace(/\n/g, " ")}`);
}
