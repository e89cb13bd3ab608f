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

/** The text of a secret value and of every string inside it (a structured value), longest first. */
function secretTexts(raw: string): string[] {
    const texts = new Set<string>([raw]);
    const visit = (value: unknown): void => {
        if (typeof value === "string") {
            texts.add(value);
        } else if (value !== null && typeof value === "object") {
            Object.values(value).forEach(visit);
        }
    };
    try {
        visit(JSON.parse(raw));
    } catch {
        // Plain text: the value itself.
    }
    // Short strings ("", "a") would blank out the message's own words; a secret that short is no secret.
    return [...texts].filter((t) => t.length >= 4).sort((a, b) => b.length - a.length);
}

/** `problems` with every secret value (and each string inside one) shown as [secret]. */
export function withoutSecrets(problems: readonly string[], secretValues: ReadonlyArray<string | undefined>): string[] {
    const texts = secretValues.flatMap((raw) => (raw === undefined ? [] : secretTexts(raw)));
    return problems.map((line) => texts.reduce((l, t) => l.split(t).join("[secret]"), line));
}
