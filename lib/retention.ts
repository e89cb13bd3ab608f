/**
 * The runbook's retention table lives in the policy pack (policy/retention.ts), so `pulumi policy publish`,
 * which packs only policy/, publishes it with the policies; the program reads the same table from here.
 */
export * from "../policy/retention";
