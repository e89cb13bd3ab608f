/**
 * Customer-managed KMS keys. Every data store of the runbook gets its own key so that access to one
 * class of backups (say, the bucket) does not open another (say, the database snapshots).
 */
import * as pulumi from "@pulumi/pulumi";
import * as kms from "@pulumi/aws/kms";
import { denyToAllBut } from "./deny-to-all-but";

export interface KeyArgs {
    description: string;
    /** Region of the key when it differs from the stack's provider region (aws v7 per-resource region). */
    region?: string;
    /** Service principals (e.g. logs.us-east-1.amazonaws.com) allowed to use the key on the account's behalf. */
    servicePrincipals?: string[];
    accountId: pulumi.Input<string>;
    /** The deletion guard: only this role may schedule the key's deletion or disable it. */
    breakGlassRoleArn?: string;
    /** More key policy statements (cross-account use, the vault's replication roles). */
    statements?: unknown[];
    /** The provider of another account (the vault stack's). */
    provider?: pulumi.ProviderResource;
    tags: Record<string, string>;
}

/** What the deletion guard of a key denies to everyone but the break-glass role. */
export const KEY_GUARDED_ACTIONS = ["kms:ScheduleKeyDeletion", "kms:DisableKey"];

/**
 * The key's deletion guard: an explicit Deny (which no Allow, the account root's included, overrides) of
 * scheduling deletion and disabling to every principal but the break-glass role.
 */
export function keyDeletionGuard(breakGlassRoleArn: string) {
    return denyToAllBut("DenyKeyDeletionExceptBreakGlass", KEY_GUARDED_ACTIONS, breakGlassRoleArn);
}

/**
 * Declares a key with yearly rotation and the longest deletion window, protected like the data it encrypts,
 * and an alias `alias/<name>` so operators find it. Returned as a child of `parent`.
 */
export function customerManagedKey(name: string, args: KeyArgs, parent: pulumi.Resource): kms.Key {
    const statements: unknown[] = [
        {
            Sid: "AccountAdministration",
            Effect: "Allow",
            Principal: { AWS: pulumi.interpolate`arn:aws:iam::${args.accountId}:root` },
            Action: "kms:*",
            Resource: "*",
        },
    ];
    if (args.servicePrincipals && args.servicePrincipals.length > 0) {
        statements.push({
            Sid: "AllowServiceUse",
            Effect: "Allow",
            Principal: { Service: args.servicePrincipals },
            Action: ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
            Resource: "*",
        });
    }
    if (args.breakGlassRoleArn) {
        statements.push(keyDeletionGuard(args.breakGlassRoleArn));
    }
    statements.push(...(args.statements ?? []));
    const key = new kms.Key(
        name,
        {
            description: args.description,
            enableKeyRotation: true,
            deletionWindowInDays: 30,
            region: args.region,
            policy: pulumi.jsonStringify({ Version: "2012-10-17", Statement: statements }),
            tags: { ...args.tags, Name: name },
        },
        { parent, protect: true, ...(args.provider ? { provider: args.provider } : {}) },
    );
    new kms.Alias(name, { name: `alias/${name}`, targetKeyId: key.keyId, region: args.region }, { parent, ...(args.provider ? { provider: args.provider } : {}) });
    return key;
}
