/**
 * The oauth2-dr policy pack. `new PolicyPack` starts the analyzer server: nothing but the Pulumi CLI may
 * import this file. Tests and the offline checker import the policy modules (see all.ts).
 */
import { PolicyPack } from "@pulumi/policy";
import { ALL_POLICIES, PACK_NAME } from "./all";

new PolicyPack(PACK_NAME, {
    description: "Backup, restore and DR of the OAuth2 authorization server: the runbook's retention table, failover topology and security baseline.",
    enforcementLevel: "mandatory",
    policies: ALL_POLICIES,
});
