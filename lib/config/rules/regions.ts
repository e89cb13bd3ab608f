/**
 * Region rules: the primary and DR regions are region names of the stack's cloud and differ; on azure and gcp
 * the backup storage's AWS regions differ too; aws:region is the region of this role's resources.
 */
import { AWS_REGION, AZURE_REGION, GCP_REGION } from "../../formats";
import { PROJECT, Values } from "../schema";
import { Fail, required, RuleContext } from "./context";

/** Region names of the stack's cloud, a DR region other than the primary, aws:region where this role's resources live. */
export function regionRules(v: Values, ctx: RuleContext, fail: Fail): void {
    const cloud = v.cloud ?? "aws";
    required(v, ctx, fail, ["primaryRegion", "drRegion"]);
    const pattern = cloud === "aws" ? AWS_REGION : cloud === "azure" ? AZURE_REGION : GCP_REGION;
    for (const key of ["primaryRegion", "drRegion"] as const) {
        const value = v[key];
        if (value && !pattern.test(value)) {
            fail(key, `"${value}" is not ${/^[aeiou]/.test(cloud) ? "an" : "a"} ${cloud} region name`);
        }
    }
    if (v.primaryRegion && v.primaryRegion === v.drRegion) {
        fail("drRegion", `"${v.drRegion}" equals primaryRegion; the DR region must be a different region`);
    }
    if (cloud === "aws") {
        providerRegion(v, ctx, fail, v.role === "standby" ? "drRegion" : "primaryRegion");
        return;
    }
    // azure/gcp: the backup storage's AWS regions.
    required(v, ctx, fail, ["awsPrimaryRegion", "awsDrRegion"]);
    if (v.awsPrimaryRegion && v.awsPrimaryRegion === v.awsDrRegion) {
        fail("awsDrRegion", `"${v.awsDrRegion}" equals awsPrimaryRegion; the backups' DR region must be a different region`);
    }
    providerRegion(v, ctx, fail, v.role === "standby" ? "awsDrRegion" : "awsPrimaryRegion");
    // The database's cloud provider: its default region, when the stack file sets one, is this role's region (the
    // program places the database in primaryRegion/drRegion; a different default would contradict it silently).
    const cloudRegionKey = cloud === "azure" ? "azure-native:location" : "gcp:region";
    const cloudRegion = ctx.raw(cloudRegionKey);
    const expected = v.role === "standby" ? "drRegion" : "primaryRegion";
    const own = v[expected];
    if (cloudRegion !== undefined && own && v.role !== "vault" && cloudRegion !== own) {
        fail(cloudRegionKey, `"${cloudRegion}" must equal ${PROJECT}:${expected} (${own}) for a ${v.role ?? "primary"} stack: the database is declared in ${own}`);
    }
}

/** aws:region is the region of this role's resources. */
function providerRegion(v: Values, ctx: RuleContext, fail: Fail, expected: "primaryRegion" | "drRegion" | "awsPrimaryRegion" | "awsDrRegion"): void {
    const role = v.role ?? "primary";
    const region = v[expected] ?? ctx.raw(expected) ?? "";
    const actual = ctx.raw("aws:region");
    if (actual === undefined) {
        fail("aws:region", `is required and must equal ${PROJECT}:${expected} (${region}) for a ${role} stack`);
    } else if (region && actual !== region) {
        fail("aws:region", `"${actual}" must equal ${PROJECT}:${expected} (${region}) for a ${role} stack`);
    }
}

/** This stack's region: the primary region for `primary`, the DR region for `standby`. */
export function regionOf(v: Values): string {
    return (v.role === "standby" ? v.drRegion : v.primaryRegion) ?? "";
}
