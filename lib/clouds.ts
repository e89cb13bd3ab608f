/** Where the database runs: the stack configuration's `cloud` and the components' DatabaseOutputs.cloud. */
export const CLOUDS = ["aws", "azure", "gcp"] as const;
export type Cloud = (typeof CLOUDS)[number];
