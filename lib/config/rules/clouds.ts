/**
 * Rules of one cloud's section: the Azure Flexible Server tier, storage sizes and VNet integration; the Cloud SQL
 * project, edition and tier, private network and transaction-log retention.
 */
import { FIELDS, SECTION_DEFAULTS, Values } from "../schema";
import type { Fail, RuleContext } from "./context";

/** Storage sizes (GiB) that Azure Flexible Server offers. */
export const AZURE_STORAGE_SIZES_GB = [32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32767];

/** Azure Flexible Server: a tier with high availability and replicas, an offered storage size, VNet integration whole. */
export function azureRules(v: Values, fail: Fail): void {
    if (v.cloud !== "azure" || !v.azure) {
        return;
    }
    if (v.azure.skuTier === "Burstable") {
        fail("azure.skuTier", "Burstable servers support neither zone-redundant high availability nor replicas");
    }
    const storage = v.allocatedStorageGb;
    if (storage !== undefined && !AZURE_STORAGE_SIZES_GB.includes(storage)) {
        // The default (sized for RDS) is what Azure refuses when the key is left out: say so, or the error names a key
        // the stack file does not have. (Pulumi passes Pulumi.yaml's default as a value: an unset key cannot be told apart.)
        const unsetHint = storage === FIELDS.allocatedStorageGb.default ? `; ${storage} is the default when the key is not set: set it on an azure stack` : "";
        fail("allocatedStorageGb", `${storage} is not an Azure Flexible Server storage size (${AZURE_STORAGE_SIZES_GB.join(", ")})${unsetHint}`);
    }
    const { delegatedSubnetId, privateDnsZoneId } = v.azure;
    if (Boolean(delegatedSubnetId) !== Boolean(privateDnsZoneId)) {
        fail(delegatedSubnetId ? "azure.privateDnsZoneId" : "azure.delegatedSubnetId", "VNet integration needs both azure.delegatedSubnetId and azure.privateDnsZoneId");
    }
}

/** Cloud SQL: a project (here or gcp:project), a tier of the edition, a private network, the edition's log retention. */
export function gcpRules(v: Values, ctx: RuleContext, fail: Fail): void {
    if (v.cloud !== "gcp" || !v.gcp) {
        return;
    }
    if (v.gcp.project === undefined && !ctx.invalid("gcp.project")) {
        const project = ctx.raw("gcp:project");
        if (project === undefined) {
            fail("gcp.project", "is required (or set gcp:project): the project of the Cloud SQL instance");
        } else if (!/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/.test(project)) {
            fail("gcp.project", `"${project}" is not a Google Cloud project id`);
        }
    }
    const providerProject = ctx.raw("gcp:project");
    if (v.gcp.project !== undefined && providerProject !== undefined && v.gcp.project !== providerProject) {
        fail("gcp.project", `"${v.gcp.project}" differs from gcp:project "${providerProject}": the instance would go to ${v.gcp.project}, the provider's default project elsewhere; set one of them, or both alike`);
    }
    const edition = v.gcp.edition ?? SECTION_DEFAULTS.gcp.edition;
    if (v.gcp.tier && edition === "ENTERPRISE_PLUS" && !v.gcp.tier.startsWith("db-perf-optimized-")) {
        fail("gcp.tier", `"${v.gcp.tier}" is not available on ENTERPRISE_PLUS (use db-perf-optimized-N-*)`);
    }
    if (v.gcp.privateNetwork === undefined && !ctx.invalid("gcp.privateNetwork")) {
        fail("gcp.privateNetwork", "is required");
    }
    const days = v.gcp.transactionLogRetentionDays;
    if (days !== undefined && edition !== "ENTERPRISE_PLUS" && days > 7) {
        fail("gcp.transactionLogRetentionDays", `"${days}" is not an integer between 1 and 7`);
    }
}
