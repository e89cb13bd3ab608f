/**
 * `aws.iam.getPolicyDocument` computed from its arguments, as the provider renders it: Version
 * 2012-10-17, statements with Sid/Effect/Action/NotAction/Resource/NotResource/Principal/NotPrincipal/
 * Condition in that order, a list of one collapsed to a string, `{ type: "*", identifiers: ["*"] }` as
 * `"*"`, source documents merged first and override documents last (a statement with the same Sid
 * replaces the earlier one). A policy check reads the same JSON a real `pulumi preview` would give.
 */

interface Principal {
    type: string;
    identifiers: string[];
}

interface Condition {
    test: string;
    variable: string;
    values: string[];
}

export interface StatementArgs {
    sid?: string;
    effect?: string;
    actions?: string[];
    notActions?: string[];
    resources?: string[];
    notResources?: string[];
    principals?: Principal[];
    notPrincipals?: Principal[];
    conditions?: Condition[];
}

export interface PolicyDocumentArgs {
    version?: string;
    policyId?: string;
    statements?: StatementArgs[];
    sourcePolicyDocuments?: string[];
    overridePolicyDocuments?: string[];
}

type JsonStatement = Record<string, unknown>;

/** One value as a string, several as an array: the provider's rendering of a set. */
function oneOrMany(values: string[] | undefined): string | string[] | undefined {
    if (!values || values.length === 0) {
        return undefined;
    }
    return values.length === 1 ? values[0] : [...values];
}

function principalsJson(principals: Principal[] | undefined): unknown {
    if (!principals || principals.length === 0) {
        return undefined;
    }
    if (principals.length === 1 && principals[0].type === "*") {
        return "*";
    }
    const byType: Record<string, string[]> = {};
    for (const principal of principals) {
        byType[principal.type] = [...(byType[principal.type] ?? []), ...principal.identifiers];
    }
    return Object.fromEntries(Object.entries(byType).map(([type, ids]) => [type, oneOrMany(ids)]));
}

function conditionsJson(conditions: Condition[] | undefined): unknown {
    if (!conditions || conditions.length === 0) {
        return undefined;
    }
    const byTest: Record<string, Record<string, string | string[] | undefined>> = {};
    for (const condition of conditions) {
        byTest[condition.test] = { ...(byTest[condition.test] ?? {}), [condition.variable]: oneOrMany(condition.values) };
    }
    return byTest;
}

function statementJson(statement: StatementArgs): JsonStatement {
    const entries: Array<[string, unknown]> = [
        ["Sid", statement.sid || undefined],
        ["Effect", statement.effect ?? "Allow"],
        ["Action", oneOrMany(statement.actions)],
        ["NotAction", oneOrMany(statement.notActions)],
        ["Resource", oneOrMany(statement.resources)],
        ["NotResource", oneOrMany(statement.notResources)],
        ["Principal", principalsJson(statement.principals)],
        ["NotPrincipal", principalsJson(statement.notPrincipals)],
        ["Condition", conditionsJson(statement.conditions)],
    ];
    return Object.fromEntries(entries.filter(([, value]) => value !== undefined));
}

function statementsOf(document: string, argument: string): JsonStatement[] {
    let parsed: { Statement?: JsonStatement | JsonStatement[] };
    try {
        parsed = JSON.parse(document) as typeof parsed;
    } catch (err) {
        throw new Error(`aws.iam.getPolicyDocument: ${argument} is not valid JSON (${(err as Error).message})`);
    }
    const statements = parsed.Statement ?? [];
    return Array.isArray(statements) ? statements : [statements];
}

/** Adds `statement`, replacing an earlier one with the same Sid (the provider's merge rule). */
function merge(into: JsonStatement[], statement: JsonStatement): void {
    const at = statement.Sid ? into.findIndex((s) => s.Sid === statement.Sid) : -1;
    if (at >= 0) {
        into[at] = statement;
    } else {
        into.push(statement);
    }
}

export function renderPolicyDocument(args: PolicyDocumentArgs): { json: string; minifiedJson: string } {
    const statements: JsonStatement[] = [];
    for (const source of args.sourcePolicyDocuments ?? []) {
        statementsOf(source, "sourcePolicyDocuments").forEach((s) => merge(statements, s));
    }
    (args.statements ?? []).map(statementJson).forEach((s) => merge(statements, s));
    for (const override of args.overridePolicyDocuments ?? []) {
        statementsOf(override, "overridePolicyDocuments").forEach((s) => merge(statements, s));
    }
    const document: Record<string, unknown> = { Version: args.version ?? "2012-10-17" };
    if (args.policyId) {
        document.Id = args.policyId;
    }
    document.Statement = statements;
    return { json: JSON.stringify(document, null, 2), minifiedJson: JSON.stringify(document) };
}
