/**
 * oauth2-dr: backup, restore and disaster recovery of the OAuth2 authorization server.
 *
 * Reads and validates the stack's configuration (a bad value stops here, before any resource), checks that
 * the stacks it references publish the outputs it reads (stacks/references.ts), then composes the components
 * for the stack's cloud and role (stacks/aws.ts, stacks/azure.ts, stacks/gcp.ts):
 *  - primary (prod): database (RDS, Flexible Server or Cloud SQL), restores and manual snapshots from
 *    config, secrets, backup bucket, audit logs, AWS Backup, alarms, PRIMARY failover record, the
 *    application's DATABASE_URL secret;
 *  - standby (dr): cross-region replica (promoted by `promote: true`), backup replication, DR bucket,
 *    audit logs, alarms, SECONDARY failover record, and once promoted the application's DATABASE_URL;
 *  - vault: the isolated account (stacks/vault.ts): Object Lock bucket receiving prod's and dr's replicas,
 *    an air-gapped AWS Backup vault receiving prod's recovery points, the private keys' secret.
 */
import { loadStackConfig } from "./stacks/load-config";
import { declareAwsPrimary, declareAwsStandby } from "./stacks/aws";
import { declareAzurePrimary, declareAzureStandby } from "./stacks/azure";
import { declareGcpPrimary, declareGcpStandby } from "./stacks/gcp";
import { declareVault } from "./stacks/vault";
import { checkReferencedStacks } from "./stacks/references";

const config = loadStackConfig();

function declare() {
    if (config.role === "vault") {
        return declareVault(config);
    }
    const primary = config.role === "primary";
    switch (config.cloud) {
        case "azure":
            return primary ? declareAzurePrimary(config) : declareAzureStandby(config);
        case "gcp":
            return primary ? declareGcpPrimary(config) : declareGcpStandby(config);
        default:
            return primary ? declareAwsPrimary(config) : declareAwsStandby(config);
    }
}

/** The stacks this one references are checked first: an output they lack stops the program before any resource. */
async function declareChecked() {
    await checkReferencedStacks(config);
    return declare();
}

// The stack outputs: a primary's are read by its standby through a StackReference.
export = declareChecked();
