/**
 * The deletion guards as data: moto does not evaluate resource policies (a Secrets Manager resource policy, a
 * KMS key policy), so the compromise drill evaluates the declared documents itself for the attacker's and the
 * break-glass role's ARNs. A small subset of IAM's evaluation, enough for the guards' shape (Deny to `*`
 * unless aws:PrincipalArn is the break-glass role; Null, NumericLessThan[Equals] and ForAnyValue:StringEquals
 * for the request keys of the re-key, lock-floor and tag guards): an explicit Deny wins, then an Allow, else no decision.
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

/** A service's request key (present only when the request sets it), unlike the global keys the caller must give. */
const REQUEST_KEY = /^(s3|secretsmanager|rds|kms):|^aws:TagKeys$/i;

function conditionHolds(condition: PolicyStatement["Condition"], context: Record<string, string | string[]>): boolean {
    for (const [operator, keys] of Object.entries(condition ?? {})) {
        for (const [key, expected] of Object.entries(keys)) {
            const actual = context[key];
            const values = list(expected);
            if (operator === "Null") {
                // Null true: the key is absent from the request; false: present.
                if (values.length !== 1 || (values[0] !== "true" && values[0] !== "false")) {
                    throw new Error(`policy condition Null ${key} takes "true" or "false", not ${JSON.stringify(expected)}`);
                }
                if ((actual === undefined) !== (values[0] === "true")) {
                    return false;
                }
                continue;
            }
            if (actual === undefined) {
                if (!REQUEST_KEY.test(key)) {
                    throw new Error(`policy condition key ${key} is not in the evaluation context (${Object.keys(context).join(", ")})`);
                }
                // A request key the request does not carry: a negated operator, or ...IfExists, holds; any other does not.
                if (/Not|IfExists$/.test(operator)) {
                    continue;
                }
                return false;
            }
            const actuals = list(actual);
            if (operator.startsWith("ForAnyValue:")) {
                const base = operator.slice("ForAnyValue:".length);
                if (base !== "StringEquals") {
                    throw new Error(`policy condition operator ${operator} is not evaluated by tools/drill/policy-eval.ts`);
                }
                if (!actuals.some((a) => values.includes(a))) {
                    return false;
                }
                continue;
            }
            const one = actuals[0];
            const equal = values.some((v) => v === one);
            const like = values.some((v) => glob(v, one, false));
            const numeric = (test: (a: number, b: number) => boolean) => values.some((v) => test(Number(one), Number(v)));
            const results: Record<string, boolean> = {
                ArnEquals: equal, StringEquals: equal, ArnNotEquals: !equal, StringNotEquals: !equal,
                ArnLike: like, StringLike: like, ArnNotLike: !like, StringNotLike: !like,
                NumericLessThan: numeric((a, b) => a < b), NumericLessThanEquals: numeric((a, b) => a <= b),
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

/** The decision of `statements` for `principalArn` calling `action` (on `resource`); `context`: other condition keys' values (a resource's tags, the request's keys). */
export function evaluate(statements: PolicyStatement[], principalArn: string, action: string, context: Record<string, string | string[]> = {}, resource?: string): Decision {
    context = { ...context, "aws:PrincipalArn": principalArn };
    const applies = statements.filter((s) => principalMatches(s.Principal, principalArn)
        && list(s.Action).some((a) => glob(a, action, true))
        // `resource`: the ARN the request names (a bucket policy's per-prefix statements); otherwise not compared.
        && (resource === undefined || s.Resource === undefined || list(s.Resource).some((r) => glob(r, resource, false)))
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
