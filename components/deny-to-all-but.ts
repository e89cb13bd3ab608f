/**
 * The one statement shape every guard of this program uses: an explicit Deny (which no Allow, the account
 * root's included, overrides) of `action` to every principal but `principals`. Key policies, secret policies
 * and the vault bucket's policy all build it here, so the guards cannot drift apart.
 */
import type * as pulumi from "@pulumi/pulumi";

export function denyToAllBut(sid: string, action: string | string[], principals: pulumi.Input<string> | pulumi.Input<string>[], resource: pulumi.Input<string> = "*") {
    return {
        Sid: sid,
        Effect: "Deny",
        Principal: { AWS: "*" },
        Action: action,
        Resource: resource,
        Condition: { ArnNotEquals: { "aws:PrincipalArn": principals } },
    };
}
