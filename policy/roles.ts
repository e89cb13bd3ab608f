/**
 * Which role a stack plays in the DR topology. Policy config `role` decides when set; otherwise (auto) the
 * stack tag `role`, then the resources' `role` tag (our program tags every resource role=primary|standby),
 * then the failover records (PRIMARY / SECONDARY) and a cross-region database replica.
 */
import { read, readArray, UNKNOWN } from "./unknowns";
import { arnRegion, regionOf, StackIndex, StackResource, T, tagsOf } from "./resources";

export type Role = "primary" | "standby" | "unknown";

export const ROLE_SCHEMA = {
    role: {
        type: "string" as const,
        enum: ["auto", "primary", "standby"],
        default: "auto",
        description: "The stack's role in the DR topology; auto reads the roleTag (stack tag, then resource tags), then the failover records.",
    },
    roleTag: { type: "string" as const, default: "role", description: "Tag whose value primary|standby marks the stack's role." },
};

export interface RoleConfig {
    role: "auto" | "primary" | "standby";
    roleTag: string;
}

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
    for (const { r, source } of aws) {
        if (source === UNKNOWN) {
            out.push({ urn: r.urn, name: r.name, type: r.type, detail: "read replica (source unknown until the update)" });
            continue;
        }
        const sourceRegion = arnRegion(source);
        const own = regionOf(r);
        if (sourceRegion !== undefined && (own === UNKNOWN || typeof own !== "string" || sourceRegion !== own)) {
            out.push({ urn: r.urn, name: r.name, type: r.type, detail: `read replica of ${String(source)} (${sourceRegion} -> ${typeof own === "string" ? own : "this region"})` });
        }
    }
    for (const r of index.ofType(T.azurePostgres)) {
        const mode = read(r.props, "createMode");
        if (mode === "Replica" || mode === UNKNOWN) {
            out.push({ urn: r.urn, name: r.name, type: r.type, detail: `createMode Replica of ${String(read(r.props, "sourceServerResourceId"))}` });
        }
    }
    for (const r of index.ofType(T.cloudSql)) {
        const master = read(r.props, "masterInstanceName");
        if (master === UNKNOWN || (typeof master === "string" && master !== "")) {
            out.push({ urn: r.urn, name: r.name, type: r.type, detail: `replica of Cloud SQL instance ${master === UNKNOWN ? "(unknown)" : master}` });
        }
    }
    return out;
}

export function stackRole(index: StackIndex, resources: readonly StackResource[], stackTags: ReadonlyMap<string, string>, config: RoleConfig): Role {
    if (config.role !== "auto") {
        return config.role;
    }
    const fromStackTag = stackTags.get(config.roleTag);
    if (fromStackTag === "primary" || fromStackTag === "standby") {
        return fromStackTag;
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
    if (primary !== standby) {
        return primary > standby ? "primary" : "standby";
    }
    if (failoverRecords(index, "PRIMARY").length > 0) {
        return "primary";
    }
    if (failoverRecords(index, "SECONDARY").length > 0 || crossRegionReplicas(index).length > 0) {
        return "standby";
    }
    return "unknown";
}
