/**
 * A role's own permission documents, read once for every policy that asks what a role may do: the job-role
 * policies (`grantsOf` adds the backup buckets' resource-based grants) and the AWS Backup selection role
 * (`aws-backup-plan-retention`). A role's identity-based permissions come from its inline policies
 * (`inlinePolicies`), its managed policy ARNs (`managedPolicyArns`), RolePolicy resources, attachments
 * (RolePolicyAttachment, the older PolicyAttachment `roles: [...]`, RolePolicyAttachmentsExclusive) and the inline
 * policies a RolePoliciesExclusive keeps. What the plan does not show is listed in `unknown`, so a policy that
 * needs the whole of the role's permissions (is an action missing?) can tell "known to lack" from "not known".
 */
import type { StackResource } from "./resources";
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
        const policy = resources.find(
            (p) => p.type === POLICY && (
                read(p.props, "arn") === policyArn
                || (dependedOn.some((d) => d.urn === p.urn) && (policyArns.length === 1 || (typeof policyArn === "string" && policyArn.endsWith(`:policy/${String(read(p.props, "name") ?? p.name)}`))))
            ),
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
