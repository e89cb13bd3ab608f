/** Every policy of the pack, in one list shared by the pack (index.ts), the offline checker and the tests. */
import { Policies } from "@pulumi/policy";
import { azurePolicies } from "./azure";
import { cloudSqlPolicies } from "./cloudsql";
import { dnsPolicies } from "./dns";
import { kubernetesPolicies } from "./kubernetes";
import { logPolicies } from "./logs";
import { rdsPolicies } from "./rds";
import { s3Policies } from "./s3";
import { s3StackPolicies } from "./s3-stack";
import { secretsPolicies } from "./secrets";
import { stackPolicies } from "./stack";

export const PACK_NAME = "oauth2-dr";
export const PACK_ENFORCEMENT_LEVEL = "mandatory" as const;

export const ALL_POLICIES: Policies = [
    ...rdsPolicies,
    ...azurePolicies,
    ...cloudSqlPolicies,
    ...s3Policies,
    ...s3StackPolicies,
    ...secretsPolicies,
    ...logPolicies,
    ...dnsPolicies,
    ...kubernetesPolicies,
    ...stackPolicies,
];
