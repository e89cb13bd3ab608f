/**
 * DNS, network and storage rules: the failover name and its regional endpoint, the Route 53 zone, the RDS
 * instance class, storage growth, and on aws the existing subnets and security groups the database uses.
 */
import type { Values } from "../schema";
import { Fail, required, RuleContext } from "./context";

/** What a cloud requires of DNS and network, and sizes that make sense (max storage not below the initial). */
export function dnsAndNetworkRules(v: Values, ctx: RuleContext, fail: Fail): void {
    if (v.role === "vault") {
        // The vault account serves no traffic and runs no database.
        return;
    }
    const aws = (v.cloud ?? "aws") === "aws";
    required(v, ctx, fail, ["domain"]);
    if (aws) {
        required(v, ctx, fail, ["hostedZoneId"]);
    }
    if (aws || ctx.raw("hostedZoneId") !== undefined) {
        required(v, ctx, fail, ["regionalEndpoint"]);
    }
    if (v.regionalEndpoint && v.regionalEndpoint === v.domain) {
        fail("regionalEndpoint", `must be the regional load balancer, not the failover name ${v.domain} itself`);
    }
    if (aws && v.instanceClass !== undefined && !/^db\.[a-z0-9]+\.[a-z0-9]+$/.test(v.instanceClass)) {
        fail("instanceClass", `"${v.instanceClass}" is not an RDS instance class such as db.r6g.large`);
    }
    if (v.allocatedStorageGb !== undefined && v.maxAllocatedStorageGb !== undefined && v.maxAllocatedStorageGb < v.allocatedStorageGb) {
        fail("maxAllocatedStorageGb", `${v.maxAllocatedStorageGb} is below allocatedStorageGb (${v.allocatedStorageGb})`);
    }
    if (!aws) {
        return;
    }
    if (ctx.raw("subnetIds") === undefined) {
        fail("subnetIds", "is required: at least two existing subnets in different availability zones");
    } else if (v.subnetIds && v.subnetIds.length < 2) {
        fail("subnetIds", `needs at least 2 subnet ids, got ${v.subnetIds.length}`);
    }
    if (ctx.raw("securityGroupIds") === undefined) {
        fail("securityGroupIds", "is required: the security groups that may reach PostgreSQL");
    } else if (v.securityGroupIds && v.securityGroupIds.length < 1) {
        fail("securityGroupIds", "needs at least 1 security group ids, got 0");
    }
}
