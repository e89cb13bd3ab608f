/**
 * The deletion guards as data: moto does not evaluate resource policies (a Secrets Manager resource policy, a
 * KMS key policy), so the compromise drill evaluates the declared documents itself for the attacker's and the
 * break-glass role's ARNs. A small subset of IAM's evaluation, enough for the guards' shape (Deny to `*`
 * unless aws:PrincipalArn is the break-glass role): an explicit Deny wins, then an Allow, else no decision.
 * A condition operator or key it does not know throws, rather than guess.
 */

export interface PolicyStatement {
    Sid?: string;
    Effect: "Allow" | "Deny" | string;
    Principal?: "*" | { AWS?: string | string[] };
    Action?: string | string[];
    Resource?: string | string[];
    Condition?: Record<string, Record<string, string | string[]>>;
}

export type Decision = "deny" | "allow" | "no decision";

const list = (v: string | string[] | undefined) => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** IAM's wildcard match (`*` any run, `?` one character); `caseless` for actions. */
function glob(pattern: string, value: string, caseless: boolean): boolean {
    const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".")}$`, caseless ? "i" : "");
    return re.test(value);
}

function principalMatches(p: PolicyStatement["Principal"], arn: string): boolean {
    if (p === undefined) {
        return true; // an identity policy: it applies to its holder
    }
    if (p === "*") {
        return true;
    }
    return list(p.AWS).some((a) => a === "*" || a === arn);
}

function conditionHolds(condition: PolicyStatement["Condition"], context: Record<string, string>): boolean {
    for (const [operator, keys] of Object.entries(condition ?? {})) {
        for (const [key, expected] of Object.entries(keys)) {
            const actual = context[key];
            if (actual === undefined) {
                throw new Error(`policy condition key ${key} is not in the evaluation context (${Object.keys(context).join(", ")})`);
            }
            const values = list(expected);
            const equal = values.some((v) => v === actual);
            const like = values.some((v) => glob(v, actual, false));
            const results: Record<string, boolean> = {
                ArnEquals: equal, StringEquals: equal, ArnNotEquals: !equal, StringNotEquals: !equal,
                ArnLike: like, StringLike: like, ArnNotLike: !like, StringNotLike: !like,
            };
            if (!(operator in results)) {
                throw new Error(`policy condition operator ${operator} is not evaluated by tools/drill/policy-eval.ts`);
            }
            if (!results[operator]) {
                return false;
            }
        }
    }
    return true;
}

/** The decision of `statements` for `principalArn` calling `action`; `context`: other condition keys' values (a resource's tags). */
export function evaluate(statements: PolicyStatement[], principalArn: string, action: string, context: Record<string, string> = {}): Decision {
    context = { ...context, "aws:PrincipalArn": principalArn };
    const applies = statements.filter((s) => principalMatches(s.Principal, principalArn)
        && list(s.Action).some((a) => glob(a, action, true))
        && conditionHolds(s.Condition, context));
    if (applies.some((s) => s.Effect === "Deny")) {
        return "deny";
    }
    return applies.some((s) => s.Effect === "Allow") ? "allow" : "no decision";
}

/** The statements of a policy document given as JSON text, a document, a statement or a list of statements. */
export function statementsOf(policy: unknown): PolicyStatement[] {
    const doc = typeof policy === "string" ? (JSON.parse(policy) as unknown) : policy;
    if (Array.isArray(doc)) {
        return doc as PolicyStatement[];
    }
    if (doc && typeof doc === "object" && "Statement" in doc) {
        const statement = (doc as { Statement: unknown }).Statement;
        return (Array.isArray(statement) ? statement : [statement]) as PolicyStatement[];
    }
    return [doc as PolicyStatement];
}
