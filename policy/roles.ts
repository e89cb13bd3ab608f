/**
 * Which role a stack plays in the DR topology. Policy config `role` decides when set; otherwise (auto) the
 * stack tag `role`, then the resources' `role` tag (our program tags every resource role=primary|standby),
 * then the failover records (PRIMARY / SECONDARY) and a cross-region database replica.
 */
import { read, readArray, UNKNOWN } from "./unknowns";
import { arnRegion, regionOf, StackIndex, StackResource, T, tagsOf } from "./resources";
import { Settings } from "./settings";

export type Role = "primary" | "standby" | "unknown";

export type RoleConfig = Pick<Settings, "role" | "roleTag">;

/** Failover record types present in the stack: PRIMARY, SECONDARY. */
export function failoverRecords(index: StackIndex, type: "PRIMARY" | "SECONDARY") {
    return index.ofType(T.record).filter((record) => {
        const policies = readArray(record.props, "failoverRoutingPolicies");
        return policies !== UNKNOWN && (policies ?? []).some((p) => read(p, "type") === type);
    });
}

export interface ReplicaEvidence {
    urn: string;
    name: string;
    type: string;
    detail: string;
    /** Its source is a database this stack declares (a replica beside its primary): no sign of a standby stack. */
    sourceInStack?: boolean;
}

/**
 * Whether `replica`'s source (its input `property`) is one of `databases` of this stack: the input depends on
 * one of them (`idp.name`, `server.id`), or names one by its literal name input (`nameProperty`).
 */
function sourceInStack(replica: StackResource, property: string, databases: readonly StackResource[], nameProperty?: string): boolean {
    const others = databases.filter((d) => d.urn !== replica.urn);
    if (replica.propertyDependencies?.[property]?.some((d) => others.some((o) => o.urn === d.urn))) {
        return true;
    }
    const source = read(replica.props, property);
    return nameProperty !== undefined && typeof source === "string" && others.some((o) => read(o.props, nameProperty) === source);
}

/**
 * Cross-region database replicas: an RDS instance whose replicateSourceDb is an ARN in another region
 * (a same-region source is named by identifier), an RDS cluster replicating from another region, an Azure
 * Flexible Server with createMode Replica, a Cloud SQL instance with masterInstanceName. A source that is
 * unknown during preview counts (it is an output of the primary stack).
 */
export function crossRegionReplicas(index: StackIndex): ReplicaEvidence[] {
    const out: ReplicaEvidence[] = [];
    const aws = [
        ...index.ofType(T.rdsInstance).map((r) => ({ r, source: read(r.props, "replicateSourceDb") })),
        ...index.ofType(T.rdsCluster).map((r) => ({ r, source: read(r.props, "replicationSourceIdentifier") })),
    ];
    const rds = [...index.ofType(T.rdsInstance), ...index.ofType(T.rdsCluster)];
    for (const { r, source } of aws) {
        const property = r.type === T.rdsInstance ? "replicateSourceDb" : "replicationSourceIdentifier";
        const inStack = sourceInStack(r, property, rds);
        if (source === UNKNOWN) {
            out.push({ urn: r.urn, name: r.name, type: r.type, detail: "read replica (source unknown until the update)", sourceInStack: inStack });
            continue;
        }
        const sourceRegion = arnRegion(source);
        const own = regionOf(r);
        if (sourceRegion !== undefined && (own === UNKNOWN || typeof own !== "string" || sourceRegion !== own)) {
            out.push({ urn: r.urn, name: r.name, type: r.type, detail: `read replica of ${String(source)} (${sourceRegion} -> ${typeof own === "string" ? own : "this region"})`, sourceInStack: inStack });
        }
    }
    const azure = index.ofType(T.azurePostgres);
    for (const r of azure) {
        // createMode unknown alone says nothing (every server may set it: "Default"); with a source server set it is a replica.
        const mode = read(r.props, "createMode");
        const source = read(r.props, "sourceServerResourceId");
        if (mode === "Replica" || (mode === UNKNOWN && (source === UNKNOWN || (typeof source === "string" && source !== "")))) {
            out.push({ urn: r.urn, name: r.name, type: r.type, detail: `createMode Replica of ${String(read(r.props, "sourceServerResourceId"))}`, sourceInStack: sourceInStack(r, "sourceServerResourceId", azure) });
        }
    }
    const cloudSql = index.ofType(T.cloudSql);
    for (const r of cloudSql) {
        const master = read(r.props, "masterInstanceName");
        if (master === UNKNOWN || (typeof master === "string" && master !== "")) {
            out.push({ urn: r.urn, name: r.name, type: r.type, detail: `replica of Cloud SQL instance ${master === UNKNOWN ? "(unknown)" : master}`, sourceInStack: sourceInStack(r, "masterInstanceName", cloudSql, "name") });
        }
    }
    return out;
}

/**
 * The role the stack declares: the settings' `role`, the stack tag roleTag, or the resources' roleTag
 * (majority). Undefined when nothing declares one (the failover records may still tell: stackRole).
 */
export function declaredRole(resources: readonly StackResource[], stackTags: ReadonlyMap<string, string>, config: RoleConfig): { role: "primary" | "standby"; source: string } | undefined {
    if (config.role !== "auto") {
        return { role: config.role, source: `policy config role: ${config.role}` };
    }
    const fromStackTag = stackTags.get(config.roleTag);
    if (fromStackTag === "primary" || fromStackTag === "standby") {
        return { role: fromStackTag, source: `stack tag ${config.roleTag}=${fromStackTag}` };
    }
    let primary = 0;
    let standby = 0;
    for (const resource of resources) {
        const value = tagsOf(resource)[config.roleTag];
        if (value === "primary") {
            primary++;
        } else if (value === "standby") {
            standby++;
        }
    }
    if (primary === standby) {
        return undefined;
    }
    const role = primary > standby ? "primary" : "standby";
    return { role, source: `${Math.max(primary, standby)} resources tagged ${config.roleTag}=${role}` };
}

/**
 * The isolated vault account's stack (our role `vault`): the stack tag roleTag, or any resource's roleTag, is
 * "vault". It is neither primary nor standby (stackRole says "unknown" and the topology policies skip it); a
 * report names it by this role.
 */
export function isVaultStack(resources: readonly StackResource[], stackTags: ReadonlyMap<string, string>, config: Pick<Settings, "roleTag">): boolean {
    return stackTags.get(config.roleTag) === "vault" || resources.some((r) => tagsOf(r)[config.roleTag] === "vault");
}

export function stackRole(index: StackIndex, resources: readonly StackResource[], stackTags: ReadonlyMap<string, string>, config: RoleConfig): Role {
    const declared = declaredRole(resources, stackTags, config);
    if (declared) {
        return declared.role;
    }
    if (failoverRecords(index, "PRIMARY").length > 0) {
        return "primary";
    }
    // A replica of a database this stack also declares is a read replica beside its primary, not a standby's copy.
    if (failoverRecords(index, "SECONDARY").length > 0 || crossRegionReplicas(index).some((r) => !r.sourceInStack)) {
        return "standby";
    }
    return "unknown";
}
