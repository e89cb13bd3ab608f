/**
 * A role's own permission documents, read once for every policy that asks what a role may do: the job-role
 * policies (`grantsOf` adds the backup buckets' resource-based grants) and the AWS Backup selection role
 * (`aws-backup-plan-retention`). A role's identity-based permissions come from its inline policies
 * (`inlinePolicies`), its managed policy ARNs (`managedPolicyArns`), RolePolicy resources, attachments
 * (RolePolicyAttachment, the older PolicyAttachment `roles: [...]`, RolePolicyAttachmentsExclusive) and the inline
 * policies a RolePoliciesExclusive keeps. What the plan does not show is listed in `unknown`, so a policy that
 * needs the whole of the role's permissions (is an action missing?) can tell "known to lack" from "not known".
 */
import { covers, Statement, statementsOf } from "./iam-documents";
import type { StackResource } from "./resources";
import { UNKNOWN_SENTINELS } from "./sentinels";
import { read, readArray, UNKNOWN } from "./unknowns";

export interface Grant {
    document: unknown;
    where: string;
}

export interface Permissions {
    /** Documents (known or UNKNOWN), each with where it comes from ("RolePolicy x", "Policy y (attached by z)"). */
    grants: Grant[];
    /** Managed policy ARNs the stack does not declare (AWS managed, another stack's). */
    managed: string[];
    /** Sources whose content, or whether they are this role's, the plan does not show ("managedPolicyArns of r"). */
    unknown: string[];
    /**
     * The role's permissions boundary (`permissionsBoundary`), when it has one: a Policy of the stack (its document),
     * a managed policy ARN the stack does not declare, or not known yet. IAM grants only what both the role's
     * policies and the boundary allow.
     */
    boundary?: { document: unknown; where: string } | { managed: string } | { unknown: string };
}

const POLICY = "aws:iam/policy:Policy";

/**
 * Whether a resource's `property` (a role name, or a list of them) names the role: by dependency on it, or by one
 * of its names. "unknown" when the value is not known and is not built from a role (a value built from another
 * role of the stack is that role's name); false otherwise.
 */
function namesPrincipal(r: StackResource, property: string, principal: StackResource, names: readonly string[]): boolean | "unknown" {
    const dependencies = r.propertyDependencies?.[property] ?? [];
    if (dependencies.some((d) => d.urn === principal.urn)) {
        return true;
    }
    const value = read(r.props, property);
    const listed = Array.isArray(value) ? readArray(r.props, property) : [value];
    const values = listed === UNKNOWN || listed === undefined ? [UNKNOWN] : listed;
    if (values.some((v) => typeof v === "string" && names.includes(v))) {
        return true;
    }
    return values.some((v) => v === UNKNOWN) && !dependencies.some((d) => d.type === principal.type) ? "unknown" : false;
}

/**
 * What an attachment (of a role, a user or a group) attaches: each Policy resource of the stack it depends on
 * (for several ARNs, the one whose ARN or name matches) as a grant, any other ARN as a managed policy, an ARN not
 * known yet and matching no Policy as unknown.
 */
export function attachedPolicies(attachment: StackResource, property: string, policyArns: readonly unknown[], resources: readonly StackResource[], into: Permissions): void {
    const dependedOn = attachment.propertyDependencies?.[property] ?? [];
    for (const policyArn of policyArns) {
        const policy = stackPolicyOf(policyArn, resources) ?? resources.find(
            (p) => p.type === POLICY && dependedOn.some((d) => d.urn === p.urn) && (policyArns.length === 1 || (typeof policyArn === "string" && policyArn.endsWith(`:policy/${String(read(p.props, "name") ?? p.name)}`))),
        );
        if (policy) {
            into.grants.push({ document: read(policy.props, "policy"), where: `Policy ${policy.name} (attached by ${attachment.name})` });
        } else if (typeof policyArn === "string") {
            into.managed.push(policyArn);
        } else {
            into.unknown.push(`${property} of ${attachment.name}`);
        }
    }
}

/** A list input of the resource: its entries, or none with a note in `unknown` when the list is not known yet. */
function listOf(r: StackResource, property: string, into: Permissions): unknown[] {
    const listed = readArray(r.props, property);
    if (listed === UNKNOWN) {
        into.unknown.push(`${property} of ${r.name}`);
        return [];
    }
    return listed ?? [];
}

/** The role's own names: its `name`, else the resource name (a RolePolicy may name it either way). */
function roleNames(role: StackResource): string[] {
    return [read(role.props, "name"), role.name].filter((n): n is string => typeof n === "string");
}

/** The resources that give a role permissions: the input naming the role, and their kind. */
const PERMISSION_SOURCES: Readonly<Record<string, [string, string]>> = {
    "aws:iam/rolePolicy:RolePolicy": ["role", "RolePolicy"],
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": ["role", "RolePolicyAttachment"],
    "aws:iam/policyAttachment:PolicyAttachment": ["roles", "PolicyAttachment"],
    "aws:iam/rolePoliciesExclusive:RolePoliciesExclusive": ["roleName", "RolePoliciesExclusive"],
    "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive": ["roleName", "RolePolicyAttachmentsExclusive"],
};

/**
 * The identity-based permissions of a role (see the module's comment). A source that may name the role but whose
 * role input is not known (and not built from another role) is unknown, not taken as this role's.
 */
export function rolePermissions(role: StackResource, resources: readonly StackResource[]): Permissions {
    const names = roleNames(role);
    const into: Permissions = { grants: [], managed: [], unknown: [] };
    const boundary = permissionsBoundary(role, resources);
    if (boundary !== undefined) {
        into.boundary = boundary;
    }
    const inlineNames = new Set<string>();
    for (const policy of listOf(role, "inlinePolicies", into)) {
        const name = read(policy, "name");
        inlineNames.add(String(name ?? ""));
        into.grants.push({ document: read(policy, "policy"), where: `inline policy ${String(name ?? "")}`.trim() });
    }
    attachedPolicies(role, "managedPolicyArns", listOf(role, "managedPolicyArns", into), resources, into);
    const exclusives: StackResource[] = [];
    // RolePolicy documents first, then attachments: the order the job-role policies have always listed grants in.
    const sources = resources.filter((r) => PERMISSION_SOURCES[r.type] !== undefined);
    for (const r of [...sources.filter((x) => PERMISSION_SOURCES[x.type][1] === "RolePolicy"), ...sources.filter((x) => PERMISSION_SOURCES[x.type][1] !== "RolePolicy")]) {
        const [property, kind] = PERMISSION_SOURCES[r.type];
        const named = namesPrincipal(r, property, role, names);
        if (named === "unknown") {
            into.unknown.push(`${r.name} (${kind}: its ${property} is not known)`);
        } else if (named && kind === "RolePolicy") {
            inlineNames.add(String(read(r.props, "name") ?? r.name));
            into.grants.push({ document: read(r.props, "policy"), where: `RolePolicy ${r.name}` });
        } else if (named && kind === "RolePoliciesExclusive") {
            exclusives.push(r);
        } else if (named) {
            const arnProperty = kind === "RolePolicyAttachmentsExclusive" ? "policyArns" : "policyArn";
            attachedPolicies(r, arnProperty, arnProperty === "policyArns" ? listOf(r, arnProperty, into) : [read(r.props, arnProperty)], resources, into);
        }
    }
    // RolePoliciesExclusive keeps the role's inline policies of those names: one the stack does not write has a document it does not show.
    for (const exclusive of exclusives) {
        for (const name of listOf(exclusive, "policyNames", into)) {
            if (typeof name !== "string" || !inlineNames.has(name)) {
                into.unknown.push(`inline policy ${typeof name === "string" ? name : "(name not known)"} kept by RolePoliciesExclusive ${exclusive.name} (its document is not in the stack)`);
            }
        }
    }
    return into;
}

/**
 * The Policy of the stack a policy ARN names: the one whose `arn` it is, or, while a Policy's `arn` is not known (a
 * preview), the one whose path and name it ends with (`arn:aws:iam::ACCOUNT:policy/[PATH/]NAME`): a customer managed
 * policy attached to a role or user, or its permissions boundary, is one of its own account, where names are unique.
 */
function stackPolicyOf(arn: unknown, resources: readonly StackResource[]): StackResource | undefined {
    if (typeof arn !== "string" || isUnknownText(arn)) {
        return undefined;
    }
    // The policy's path and name in the ARN (`/NAME`, `/PATH/NAME`), for a Policy whose own `arn` is not known yet.
    const pathAndName = /^arn:aws[\w-]*:iam::\d{12}:policy(\/.*)$/.exec(arn)?.[1];
    const byName = (p: StackResource) => {
        const [name, path] = [read(p.props, "name"), read(p.props, "path") ?? "/"];
        return typeof read(p.props, "arn") !== "string" && typeof name === "string" && typeof path === "string" && pathAndName === `${path}${name}`;
    };
    return resources.find((p) => p.type === POLICY && read(p.props, "arn") === arn) ?? resources.find((p) => p.type === POLICY && byName(p));
}

/**
 * The permissions boundary of a role or an IAM user (Permissions.boundary, `permissionsBoundary`): a Policy of the
 * stack by ARN (stackPolicyOf) or dependency (an Output `policy.arn`), else the ARN (an AWS managed policy, or one
 * the stack does not declare), else not known.
 */
export function permissionsBoundary(principal: StackResource, resources: readonly StackResource[]): Permissions["boundary"] {
    const arn = read(principal.props, "permissionsBoundary");
    const dependedOn = principal.propertyDependencies?.permissionsBoundary ?? [];
    if ((arn === undefined || arn === "") && dependedOn.length === 0) {
        return undefined;
    }
    const policy = stackPolicyOf(arn, resources) ?? resources.find((p) => p.type === POLICY && dependedOn.some((d) => d.urn === p.urn));
    if (policy) {
        return { document: read(policy.props, "policy"), where: `Policy ${policy.name} (permissionsBoundary of ${principal.name})` };
    }
    return typeof arn === "string" && !isUnknownText(arn) ? { managed: arn } : { unknown: `permissionsBoundary of ${principal.name} (not known)` };
}

/** A text that holds an unknown value's placeholder (an interpolation over an output not known yet). */
export function isUnknownText(value: string): boolean {
    return [...UNKNOWN_SENTINELS].some((sentinel) => value.includes(sentinel));
}

/**
 * The resource a request is on, as far as the plan shows it: its ARN, or, when that is not known yet, its service
 * (`rds`) and its resource part when known (`db:orders`, from the identifier the program sets).
 */
export interface ArnTarget {
    arn?: string;
    service: string;
    resource?: string;
}

/**
 * A part of a target's ARN that AWS generates when it creates the resource (the job id in the snapshot AWS Backup
 * names `awsbackup:job-<id>`): any id at all, so a pattern covers the target only when it covers every such id.
 */
export const GENERATED_ID = "{generated-id}";
/** Two ids with no character in common (AWS Backup's job ids are UUIDs): a pattern matching one and not the other names some ids only. */
const GENERATED_SAMPLES = ["00000000-0000-0000-0000-000000000000", "ffffffff-ffff-ffff-ffff-ffffffffffff"];

/**
 * Whether an IAM resource pattern (`*` and `?` wildcards, case-sensitive) matches the target: true, false, or
 * "unknown" when the answer depends on what the plan does not show, or on whether a `*` may span the ARN's
 * colon-separated segments (IAM matches ARNs segment by segment; a pattern read as one text and read by segments
 * must agree). With the ARN not known, a pattern of another service (an S3 bucket's for an RDS database) cannot
 * match, and one whose partition, region and account are `*` matches when its service and resource part match the
 * known ones (`arn:aws:rds:*:*:db:*` matches any RDS instance whose identifier the plan shows); anything else is unknown.
 */
export function arnPatternMatches(pattern: unknown, target: ArnTarget): boolean | "unknown" {
    if (`${target.arn ?? ""} ${target.resource ?? ""}`.includes(GENERATED_ID)) {
        // Matched for two generated ids: covering both is covering any (a UUID), one only is some ids, not this job's.
        const [first, second] = GENERATED_SAMPLES.map((id) => arnPatternMatches(pattern, { ...target, arn: target.arn?.replace(GENERATED_ID, id), resource: target.resource?.replace(GENERATED_ID, id) }));
        return first === second ? first : "unknown";
    }
    if (typeof pattern !== "string" || isUnknownText(pattern)) {
        return "unknown";
    }
    if (pattern === "*") {
        return true;
    }
    const p = arnSegments(pattern);
    if (target.arn === undefined) {
        // "arn:PARTITION:SERVICE:" written without wildcards and naming another service: no ARN of the service matches.
        if (p.length >= 3 && p[0] === "arn" && !/[*?]/.test(`${p[1]}:${p[2]}`) && p[2] !== target.service) {
            return false;
        }
        // Partition, region and account not known: only `*` there matches whatever they are (by segments and as one text).
        const matches = p.length === 6 && p[2] === target.service && [p[1], p[3], p[4]].every((part) => part === "*") && target.resource !== undefined && arnGlob(p[5]).test(target.resource);
        return matches ? true : "unknown";
    }
    if (!arnGlob(pattern).test(target.arn)) {
        return false;
    }
    const a = arnSegments(target.arn);
    return p.length === a.length && p.every((part, i) => arnGlob(part).test(a[i])) ? true : "unknown";
}

/** An ARN's first five segments (arn, partition, service, region, account) and its resource part (which may hold colons). */
export function arnSegments(text: string): string[] {
    const parts = text.split(":");
    return parts.length < 6 ? parts : [...parts.slice(0, 5), parts.slice(5).join(":")];
}

export function arnGlob(pattern: string): RegExp {
    return new RegExp(`^${[...pattern].map((c) => (c === "*" ? ".*" : c === "?" ? "." : c.replace(/[.+^${}()|[\]\\]/g, "\\$&"))).join("")}$`);
}

/** What a request on `arn` (undefined: not known) is, for one statement: whether its Resource or NotResource covers it. */
export function statementResourceCovers(statement: Statement, target: ArnTarget): boolean | "unknown" {
    const patterns = statement.notResources ?? statement.resources;
    if (patterns.length === 0) {
        // An identity policy's statement needs a Resource or NotResource (IAM refuses it otherwise).
        return "unknown";
    }
    const matches = patterns.map((pattern) => arnPatternMatches(pattern, target));
    const any = matches.includes(true) ? true : matches.includes("unknown") ? "unknown" : false;
    if (statement.notResources === undefined) {
        return any;
    }
    return any === "unknown" ? "unknown" : !any;
}

/** The statement's name in messages: "RolePolicy x, statement Sid" or "RolePolicy x, statement 2". */
function statementName(where: string, statement: Statement, index: number): string {
    return `${where}, statement ${statement.sid ?? index + 1}`;
}

/** How one document treats the request: allows, denies, or may do either (why), each with the statement that says so. */
interface DocumentReading {
    allows?: string;
    denies?: string;
    mayAllow: string[];
    mayDeny: string[];
    /** Allows of the action on other resources only: "statement (Resource patterns)". */
    elsewhere: string[];
}

function readDocument(statements: readonly Statement[], where: string, action: string, target: ArnTarget): DocumentReading {
    const out: DocumentReading = { mayAllow: [], mayDeny: [], elsewhere: [] };
    statements.forEach((st, i) => {
        if (st.effect !== "Allow" && st.effect !== "Deny") {
            return;
        }
        const name = statementName(where, st, i);
        // An action list with a value not known yet (an output interpolated into it) may or may not name the action.
        if ([...st.actions, ...(st.notActions ?? [])].some(isUnknownText)) {
            (st.effect === "Deny" ? out.mayDeny : out.mayAllow).push(`${name} (its Action is not known)`);
            return;
        }
        if (!covers(st, action)) {
            return;
        }
        const resource = statementResourceCovers(st, target);
        const conditioned = st.condition !== undefined && st.condition !== null && Object.keys(st.condition as object).length > 0;
        if (resource === false) {
            if (st.effect === "Allow") {
                out.elsewhere.push(`${name}: ${st.notResources ? `every resource but ${st.notResources.join(", ")}` : st.resources.join(", ")}`);
            }
            return;
        }
        const why = resource === "unknown" ? `${name} (its Resource cannot be matched to the resource's ARN here)` : conditioned ? `${name} (its Condition is not evaluated)` : undefined;
        if (st.effect === "Deny") {
            if (why === undefined) {
                out.denies ??= name;
            } else {
                out.mayDeny.push(why);
            }
        } else if (why === undefined) {
            out.allows ??= name;
        } else {
            out.mayAllow.push(why);
        }
    });
    return out;
}

/** A role's verdict on one request: allowed, lacking (why, when more than "no policy allows it"), or unknown (what is not known). */
export type RoleVerdict = { verdict: "allowed" } | { verdict: "lacking"; why?: string; onlyElsewhere?: string[] } | { verdict: "unknown"; unknown: string[] };

/**
 * Whether the role's permissions allow `action` on the target resource (ArnTarget: its ARN, or what is known of it), as IAM
 * decides within an account: an explicit Deny of any of its policies or of its boundary wins; else an Allow of its
 * policies is needed, and, with a permissions boundary, an Allow of the boundary too. A statement counts when its
 * Action or NotAction covers the action and its Resource or NotResource covers the resource (wildcards `*`, `?`);
 * one whose Resource cannot be matched (an unknown output, an ARN not known) or with a Condition (not evaluated)
 * leaves the verdict open, never decides it. `managedAllows` says what an AWS managed policy the stack does not
 * declare allows (true, false, or undefined: not known). Documents the plan does not show are unknown, but a known
 * Allow decides without them (a Deny they might hold is not seen: the plan cannot show it).
 */
export function roleAllowsOn(permissions: Permissions, action: string, target: ArnTarget, managedAllows: (arn: string) => boolean | undefined): RoleVerdict {
    const unknown = [...permissions.unknown];
    let allowedBy: string | undefined;
    const mayAllow: string[] = [];
    const elsewhere: string[] = [];
    for (const grant of permissions.grants) {
        const statements = statementsOf(grant.document);
        if (statements === UNKNOWN) {
            unknown.push(`${grant.where} (its document)`);
            continue;
        }
        const reading = readDocument(statements ?? [], grant.where, action, target);
        if (reading.denies !== undefined) {
            return { verdict: "lacking", why: `whose policies deny ${action} (${reading.denies})` };
        }
        unknown.push(...reading.mayDeny.map((m) => `a Deny that may apply: ${m}`));
        allowedBy ??= reading.allows;
        mayAllow.push(...reading.mayAllow);
        elsewhere.push(...reading.elsewhere);
    }
    for (const managed of permissions.managed) {
        const allows = managedAllows(managed);
        if (allows === undefined) {
            unknown.push(`managed policy ${managed} (not declared in the stack)`);
        } else if (allows) {
            allowedBy ??= managed;
        }
    }
    if (allowedBy === undefined) {
        const open = [...unknown, ...mayAllow.map((m) => `an Allow that may apply: ${m}`)];
        return open.length > 0 ? { verdict: "unknown", unknown: open } : { verdict: "lacking", ...(elsewhere.length > 0 ? { onlyElsewhere: elsewhere } : {}) };
    }
    return boundaryVerdict(permissions.boundary, action, target, managedAllows, unknown);
}

/** The identity policies allow the request: what the permissions boundary (if any) and the open Denies make of it. */
function boundaryVerdict(boundary: Permissions["boundary"], action: string, target: ArnTarget, managedAllows: (arn: string) => boolean | undefined, unknown: string[]): RoleVerdict {
    const mayDeny = unknown.filter((u) => u.startsWith("a Deny that may apply: "));
    if (boundary === undefined) {
        return mayDeny.length > 0 ? { verdict: "unknown", unknown: mayDeny } : { verdict: "allowed" };
    }
    if ("unknown" in boundary) {
        return { verdict: "unknown", unknown: [...mayDeny, boundary.unknown] };
    }
    if ("managed" in boundary) {
        const allows = managedAllows(boundary.managed);
        if (allows === undefined) {
            return { verdict: "unknown", unknown: [...mayDeny, `permissions boundary ${boundary.managed} (not declared in the stack)`] };
        }
        return allows ? (mayDeny.length > 0 ? { verdict: "unknown", unknown: mayDeny } : { verdict: "allowed" }) : { verdict: "lacking", why: `whose permissions boundary (${boundary.managed}) does not allow ${action}` };
    }
    const statements = statementsOf(boundary.document);
    if (statements === UNKNOWN) {
        return { verdict: "unknown", unknown: [...mayDeny, `${boundary.where} (its document)`] };
    }
    const reading = readDocument(statements ?? [], boundary.where, action, target);
    if (reading.denies !== undefined) {
        return { verdict: "lacking", why: `whose permissions boundary denies ${action} (${reading.denies})` };
    }
    const open = [...mayDeny, ...reading.mayDeny.map((m) => `a Deny that may apply: ${m}`)];
    if (reading.allows === undefined) {
        return reading.mayAllow.length > 0 || open.length > 0
            ? { verdict: "unknown", unknown: [...open, ...reading.mayAllow.map((m) => `an Allow that may apply: ${m}`)] }
            : { verdict: "lacking", why: `whose permissions boundary (${boundary.where}) does not allow ${action}` };
    }
    return open.length > 0 ? { verdict: "unknown", unknown: open } : { verdict: "allowed" };
}
