/**
 * IAM policy documents as the immutability policies read them (key policies, secret resource policies, role
 * policies): a JSON string or an object, one statement or a list, Action/NotAction/Resource as a string or a
 * list. Unknown documents (computed during preview) are UNKNOWN, never guessed.
 */
import { globMatch } from "./config";
import { UNKNOWN_SENTINELS } from "./sentinels";
import { read, readArray, UNKNOWN, Unknown } from "./unknowns";

export interface Statement {
    sid?: string;
    effect: string;
    actions: string[];
    notActions?: string[];
    resources: string[];
    /** NotResource: every resource but these. */
    notResources?: string[];
    principal: unknown;
    /** NotPrincipal: with Deny, everyone but these (IAM JSON policy elements: NotPrincipal). */
    notPrincipal?: unknown;
    condition: unknown;
}

const list = (value: unknown): string[] => (Array.isArray(value) ? value : value === undefined || value === null ? [] : [value]).map(String);

/** The statements of every document together; UNKNOWN when any document is not known yet. */
export function statementsOfAll(documents: readonly unknown[]): Statement[] | Unknown {
    const statements: Statement[] = [];
    for (const document of documents) {
        const parsed = statementsOf(document);
        if (parsed === UNKNOWN) {
            return UNKNOWN;
        }
        statements.push(...(parsed ?? []));
    }
    return statements;
}

/** The statements of a document; UNKNOWN when it is not known yet, undefined when it is no document. */
export function statementsOf(document: unknown): Statement[] | Unknown | undefined {
    let doc = document;
    if (doc === UNKNOWN) {
        return UNKNOWN;
    }
    if (typeof doc === "string") {
        try {
            doc = JSON.parse(doc);
        } catch {
            // Not JSON: an unknown value's placeholder inside a string, or no document at all.
            return [...UNKNOWN_SENTINELS].some((sentinel) => (doc as string).includes(sentinel)) ? UNKNOWN : undefined;
        }
    }
    const raw = read(doc, "Statement");
    if (raw === UNKNOWN) {
        return UNKNOWN;
    }
    const statements = Array.isArray(raw) ? readArray(doc, "Statement") : raw === undefined ? [] : [raw];
    if (statements === UNKNOWN || statements === undefined) {
        return statements;
    }
    const out: Statement[] = [];
    for (const s of statements) {
        const parts = ["Sid", "Effect", "Action", "NotAction", "Resource", "Principal", "Condition", "NotPrincipal", "NotResource"].map((k) => read(s, k));
        if (parts.some((p) => p === UNKNOWN)) {
            return UNKNOWN;
        }
        const [sid, effect, action, notAction, resource, principal, condition, notPrincipal, notResource] = parts;
        out.push({
            sid: typeof sid === "string" ? sid : undefined,
            effect: String(effect ?? ""),
            actions: list(action),
            notActions: notAction === undefined ? undefined : list(notAction),
            resources: list(resource),
            ...(notResource === undefined ? {} : { notResources: list(notResource) }),
            principal,
            ...(notPrincipal === undefined ? {} : { notPrincipal }),
            condition,
        });
    }
    return out;
}

/** IAM action patterns are case-insensitive globs (`s3:Delete*`, `*`, and `?` for one character: `rds:CreateDB?napshot`). */
export function actionMatches(pattern: string, action: string): boolean {
    if (pattern.includes("?")) {
        const regex = [...pattern.toLowerCase()].map((c) => (c === "*" ? ".*" : c === "?" ? "." : c.replace(/[.+^${}()|[\]\\]/g, "\\$&"))).join("");
        return new RegExp(`^${regex}$`).test(action.toLowerCase());
    }
    return globMatch(pattern.toLowerCase(), action.toLowerCase());
}

/** Whether a statement of `effect` covers `action` (through Action, or through what NotAction leaves out). */
export function covers(statement: Statement, action: string): boolean {
    if (statement.notActions !== undefined) {
        return !statement.notActions.some((p) => actionMatches(p, action));
    }
    return statement.actions.some((p) => actionMatches(p, action));
}

/** Everyone: `"*"` or `{ AWS: "*" }`. */
export function isEveryone(principal: unknown): boolean {
    if (principal === "*") {
        return true;
    }
    const aws = read(principal, "AWS");
    return aws === "*" || (Array.isArray(aws) && aws.includes("*"));
}

/** The condition operators by which a Deny spares principals named in aws:PrincipalArn. */
const SPARING_OPERATORS = ["ArnNotEquals", "ArnNotLike", "StringNotEquals", "StringNotLike"];

/**
 * The principals a Deny statement spares through its condition on aws:PrincipalArn (ArnNotEquals, ArnNotLike,
 * StringNotEquals, StringNotLike, each also ...IfExists: the key is always present); undefined when it spares
 * nobody by that key.
 */
export function sparedPrincipals(condition: unknown): string[] | undefined {
    return denyConditions(condition).spared;
}

/**
 * A Deny statement's Condition read as a guard: the principals it spares by aws:PrincipalArn (condition keys
 * are case-insensitive), whether that exception is a pattern that matches more than the named roles (`*` or
 * `?`: ArnNotEquals matches like ArnNotLike; StringNotEquals compares literally), and every other condition
 * (showCondition: "Operator key value"), each of which narrows the Deny to the requests that meet it (all must hold for it to apply).
 */
export function denyConditions(condition: unknown): { spared?: string[]; patterns: string[]; narrowing: ConditionEntry[] } {
    const out: { spared?: string[]; patterns: string[]; narrowing: ConditionEntry[] } = { patterns: [], narrowing: [] };
    for (const { operator, key, value } of conditionEntries(condition)) {
        if (value === UNKNOWN) {
            continue;
        }
        const base = operator.replace(/IfExists$/, "");
        if (SPARING_OPERATORS.includes(base) && key.toLowerCase() === "aws:principalarn") {
            const values = list(value);
            out.spared = [...(out.spared ?? []), ...values];
            if (base !== "StringNotEquals") {
                out.patterns.push(...values.filter((v) => /[*?]/.test(v)));
            }
        } else {
            out.narrowing.push({ operator, key, value });
        }
    }
    return out;
}

/** One operator and key of a Condition, with its value as written. */
export interface ConditionEntry {
    operator: string;
    key: string;
    value: unknown;
}

/** "Operator key value" (the value as JSON), as a message shows a condition. */
export function showCondition(entry: ConditionEntry): string {
    return `${entry.operator} ${entry.key} ${JSON.stringify(entry.value)}`;
}

/**
 * A statement's Condition as its entries, one per operator and key (as written: keys are compared
 * case-insensitively by the callers), with the value as it is (UNKNOWN while computed). None when there is no
 * Condition, and no entry for an operator whose block is not an object.
 */
export function conditionEntries(condition: unknown): ConditionEntry[] {
    if (condition === undefined || condition === null || typeof condition !== "object") {
        return [];
    }
    return Object.keys(condition).flatMap((operator) => {
        const block = read(condition, operator);
        if (block === undefined || block === null || typeof block !== "object") {
            return [];
        }
        return Object.keys(block).map((key) => ({ operator, key, value: read(block, key) }));
    });
}

/** The 12-digit account of an ARN, if it has one. */
export function arnAccount(value: unknown): string | undefined {
    if (typeof value !== "string" || !value.startsWith("arn:")) {
        return undefined;
    }
    const account = value.split(":")[4];
    return /^\d{12}$/.test(account ?? "") ? account : undefined;
}

/**
 * Whom an Allow to everyone (`"*"`, `{ AWS: "*" }`) reaches through its condition: every principal of the
 * accounts in aws:PrincipalAccount, of the organization in aws:PrincipalOrgID (each also StringEquals...IfExists),
 * or anyone when it has no condition. undefined when the principal is not everyone or another condition narrows
 * it (aws:PrincipalArn, a tag, an IP: who it reaches is not decided here).
 */
export function everyoneScope(principal: unknown, condition: unknown): { accounts?: string[]; organizations?: string[] } | undefined {
    if (!isEveryone(principal)) {
        return undefined;
    }
    const scope: { accounts?: string[]; organizations?: string[] } = {};
    for (const { operator, key, value } of conditionEntries(condition)) {
        const equals = ["StringEquals", "StringEqualsIfExists", "StringLike", "StringLikeIfExists"].includes(operator);
        if (equals && key.toLowerCase() === "aws:principalaccount" && value !== UNKNOWN) {
            scope.accounts = [...(scope.accounts ?? []), ...list(value)];
        } else if (equals && key.toLowerCase() === "aws:principalorgid" && value !== UNKNOWN) {
            scope.organizations = [...(scope.organizations ?? []), ...list(value)];
        } else if (key.toLowerCase() !== "aws:securetransport") {
            return undefined;
        }
    }
    return scope;
}


/**
 * Whom a Deny with NotPrincipal spares, read as AWS does (IAM JSON policy elements: NotPrincipal): AWS compares
 * the caller and, for a role, validates the account, then the role, then the assumed-role session, so an
 * exception holds only for what is named exactly (no wildcard): a role is spared only in a session named as
 * `arn:aws:sts::ACCOUNT:assumed-role/NAME/SESSION` beside the role's ARN and its account's ARN
 * (`arn:aws:iam::ACCOUNT:root`, or the bare id), and a user beside its account's ARN. The account's ARN, which
 * the exception needs, also spares the account's root user. `everyone`: NotPrincipal `*` (the Deny applies to
 * nobody). `spared`: the principals the Deny does not reach (a spared role by its role ARN, to compare with the
 * break-glass roles); `unspared`: why a role or user the statement names is denied all the same.
 */
export function notPrincipalException(notPrincipal: unknown): { everyone: boolean; spared: string[]; unspared: string[] } {
    const out = { everyone: false, spared: [] as string[], unspared: [] as string[] };
    if (notPrincipal === "*") {
        return { ...out, everyone: true };
    }
    const aws = list(read(notPrincipal, "AWS")).map((v) => (/^\d{12}$/.test(v) ? `arn:aws:iam::${v}:root` : v));
    if (aws.includes("*")) {
        return { ...out, everyone: true };
    }
    const accounts = new Set(aws.map((v) => /^arn:aws[\w-]*:iam::(\d{12}):root$/.exec(v)?.[1]).filter((a): a is string => a !== undefined));
    const sessions = aws.map((v) => /^arn:aws[\w-]*:sts::(\d{12}):assumed-role\/([^/]+)\/(.+)$/.exec(v)).filter((m): m is RegExpExecArray => m !== null);
    const roles = aws.map((v) => ({ arn: v, m: /^arn:aws[\w-]*:iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/.exec(v) })).filter((r) => r.m !== null);
    for (const { arn, m } of roles) {
        const [, account, name] = m as RegExpExecArray;
        const named = sessions.filter(([, a, n]) => a === account && n === name).map(([session]) => session);
        if (named.length === 0) {
            out.unspared.push(`NotPrincipal names ${arn} but none of its sessions: AWS compares the caller, an assumed-role session (arn:aws:sts::${account}:assumed-role/${name}/SESSION), which NotPrincipal must name exactly (no wildcard), so the role is denied too`);
        } else if (!accounts.has(account)) {
            out.unspared.push(`NotPrincipal names ${arn} without its account (arn:aws:iam::${account}:root), which AWS may validate first: the Deny then reaches the whole account, the role included`);
        } else {
            out.spared.push(arn);
        }
    }
    for (const [session, account, name] of sessions) {
        if (!roles.some(({ m }) => m?.[1] === account && m?.[2] === name)) {
            out.unspared.push(`NotPrincipal names the session ${session} without its role (arn:aws:iam::${account}:role/${name}), which AWS validates before the session: the role is denied`);
        }
    }
    for (const user of aws.filter((v) => /^arn:aws[\w-]*:iam::\d{12}:user\//.test(v))) {
        if (accounts.has(user.split(":")[4])) {
            out.spared.push(user);
        } else {
            out.unspared.push(`NotPrincipal names ${user} without its account (arn:aws:iam::${user.split(":")[4]}:root), which AWS may validate first: the Deny then reaches the whole account, the user included`);
        }
    }
    out.spared.push(...[...accounts].map((a) => `arn:aws:iam::${a}:root`));
    for (const kind of ["Service", "Federated", "CanonicalUser"]) {
        out.spared.push(...list(read(notPrincipal, kind)));
    }
    return out;
}
